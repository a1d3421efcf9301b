"""Split a QMP byte stream into JSON tokens exactly as QEMU's lexer does.

QEMU (``qobject/json-lexer.c``) runs a byte-driven state machine; this is
the same machine, with runs of bytes that keep a state (string bodies,
digits, whitespace, skipped garbage) consumed by one regular expression so
large input stays fast.  What a client can observe of it:

* extensions: single-quoted strings, ``\\'`` in strings; interpolation
  (``%d``...) is *not* enabled on a monitor, so ``%`` is a stray byte;
* a byte that cannot continue the current token ends it as an ERROR token
  holding the bytes read so far *including* that byte; the lexer then skips
  input until a structural character (``{}[],:``), an ASCII control
  character other than TAB, or the impossible bytes ``FE``/``FF`` — clients
  send ``FF`` or a newline to bring the parser back to a known state;
* numbers and keywords end only when the next byte arrives, so ``1`` alone
  stays pending until more input (or :meth:`JsonLexer.flush`);
* a token growing past 64 MiB is cut and handed on as OVERSIZE, and lexing
  restarts in the start state with the next byte.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable

MAX_TOKEN_SIZE = 64 << 20


class Tok(enum.Enum):
    """Token types handed to the streamer."""

    LCURLY = "{"
    RCURLY = "}"
    LSQUARE = "["
    RSQUARE = "]"
    COLON = ":"
    COMMA = ","
    INTEGER = "integer"
    FLOAT = "float"
    KEYWORD = "keyword"
    STRING = "string"
    ERROR = "error"
    OVERSIZE = "oversize"  # a token cut at MAX_TOKEN_SIZE


TokenSink = Callable[[Tok, bytes], None]


class _S(enum.IntEnum):
    START = 0
    RECOVERY = 1
    DQ = 2
    DQ_ESC = 3
    SQ = 4
    SQ_ESC = 5
    ZERO = 6
    DIGITS = 7
    SIGN = 8
    MANTISSA = 9
    MANTISSA_DIGITS = 10
    EXP_E = 11
    EXP_SIGN = 12
    EXP_DIGITS = 13
    KEYWORD = 14


_STRUCTURAL = {ord(c): Tok(c) for c in "{}[],:"}
_WHITESPACE = b" \t\r\n"
_DIGIT = frozenset(b"0123456789")
_EXP = frozenset(b"eE")
_STRING_BYTE = range(0x20, 0xFE)  # what may follow a quote or a backslash

# States that stay put on a run of bytes: the run's pattern.
_RUNS = {
    _S.START: re.compile(rb"[ \t\r\n]+"),
    _S.RECOVERY: re.compile(rb"[\t\x20-\x2b\x2d-\x39\x3b-\x5a\x5c\x5e-\x7a\x7c\x7e-\xfd]+"),
    _S.DQ: re.compile(rb"[\x20\x21\x23-\x5b\x5d-\xfd]+"),
    _S.SQ: re.compile(rb"[\x20-\x26\x28-\x5b\x5d-\xfd]+"),
    _S.DIGITS: re.compile(rb"[0-9]+"),
    _S.MANTISSA_DIGITS: re.compile(rb"[0-9]+"),
    _S.EXP_DIGITS: re.compile(rb"[0-9]+"),
    _S.KEYWORD: re.compile(rb"[a-z]+"),
}
_IN_TOKEN = frozenset(_S) - {_S.START, _S.RECOVERY}

# What ends a token without consuming the byte that ends it.
_LOOKAHEAD_END = {
    _S.ZERO: Tok.INTEGER,
    _S.DIGITS: Tok.INTEGER,
    _S.MANTISSA_DIGITS: Tok.FLOAT,
    _S.EXP_DIGITS: Tok.FLOAT,
    _S.KEYWORD: Tok.KEYWORD,
}

_ERROR = object()  # transition result: the byte is an error (and is consumed)
_EMIT_STRING = object()  # transition result: the byte closes a string


def _start(byte: int) -> object:
    if byte in _STRUCTURAL:
        return _STRUCTURAL[byte]
    if byte in _WHITESPACE:
        return _S.START
    if byte == 0x22:
        return _S.DQ
    if byte == 0x27:
        return _S.SQ
    if byte == 0x30:
        return _S.ZERO
    if byte in _DIGIT:
        return _S.DIGITS
    if byte == 0x2D:
        return _S.SIGN
    if 0x61 <= byte <= 0x7A:
        return _S.KEYWORD
    return _ERROR


def _string(quote: int, escape_state: _S, body_state: _S) -> Callable[[int], object]:
    def step(byte: int) -> object:
        if byte == quote:
            return _EMIT_STRING
        if byte == 0x5C:
            return escape_state
        return body_state if byte in _STRING_BYTE else _ERROR

    return step


def _escape(body_state: _S) -> Callable[[int], object]:
    return lambda byte: body_state if byte in _STRING_BYTE else _ERROR


def _number_after(
    digit: _S | None, *, dot: _S | None = None, exp: _S | None = None, zero: _S | None = None
) -> Callable[[int], object]:
    """A number state: where a digit, '.', 'e'/'E' lead; None means error."""

    def step(byte: int) -> object:
        if zero is not None and byte == 0x30:
            return zero
        if byte in _DIGIT:
            return _ERROR if digit is None else digit
        if byte == 0x2E and dot is not None:
            return dot
        if byte in _EXP and exp is not None:
            return exp
        return None  # end of token (states in _LOOKAHEAD_END) or error

    return step


def _exp_e(byte: int) -> object:
    if byte in (0x2B, 0x2D):
        return _S.EXP_SIGN
    return _S.EXP_DIGITS if byte in _DIGIT else _ERROR


_STEP: dict[_S, Callable[[int], object]] = {
    _S.START: _start,
    _S.DQ: _string(0x22, _S.DQ_ESC, _S.DQ),
    _S.DQ_ESC: _escape(_S.DQ),
    _S.SQ: _string(0x27, _S.SQ_ESC, _S.SQ),
    _S.SQ_ESC: _escape(_S.SQ),
    _S.ZERO: _number_after(None, dot=_S.MANTISSA),
    _S.DIGITS: _number_after(_S.DIGITS, dot=_S.MANTISSA, exp=_S.EXP_E),
    _S.SIGN: _number_after(_S.DIGITS, zero=_S.ZERO),
    _S.MANTISSA: _number_after(_S.MANTISSA_DIGITS),
    _S.MANTISSA_DIGITS: _number_after(_S.MANTISSA_DIGITS, exp=_S.EXP_E),
    _S.EXP_E: _exp_e,
    _S.EXP_SIGN: _number_after(_S.EXP_DIGITS),
    _S.EXP_DIGITS: _number_after(_S.EXP_DIGITS),
    _S.KEYWORD: lambda byte: _S.KEYWORD if 0x61 <= byte <= 0x7A else None,
}


class JsonLexer:
    """Byte-stream tokenizer; hands each token to ``sink(type, text)``."""

    def __init__(self, sink: TokenSink) -> None:
        self._sink = sink
        self._state = _S.START
        self._token = bytearray()

    def feed(self, data: bytes) -> None:
        """Lex ``data``; tokens completed by it go to the sink in order."""
        pos, end = 0, len(data)
        while pos < end:
            run = _RUNS.get(self._state)
            if run is not None and (match := run.match(data, pos)) is not None:
                pos = self._take_run(data, pos, match.end())
                continue
            if self._byte(data[pos]):
                pos += 1

    def flush(self) -> None:
        """End of input: finish or reject a pending token, as QEMU does at EOF."""
        while self._state != _S.START:
            if self._state == _S.RECOVERY:
                self._state = _S.START
            elif self._state in _LOOKAHEAD_END:
                self._emit(_LOOKAHEAD_END[self._state])
            else:
                self._error()

    def _take_run(self, data: bytes, pos: int, stop: int) -> int:
        if self._state not in _IN_TOKEN:
            return stop
        room = MAX_TOKEN_SIZE + 1 - len(self._token)
        if stop - pos < room:
            self._token += data[pos:stop]
            return stop
        self._token += data[pos : pos + room]
        self._oversize()
        return pos + room

    def _byte(self, byte: int) -> bool:
        """Run one transition on ``byte``; False if it must be read again."""
        state = self._state
        if state == _S.RECOVERY:
            self._state = _S.START  # only a resync byte gets here (not in the run)
            return False
        result = _STEP[state](byte)
        if result is None:
            if state in _LOOKAHEAD_END:
                self._emit(_LOOKAHEAD_END[state])
                return False
            result = _ERROR
        self._token.append(byte)
        if result is _ERROR:
            self._error()
        elif result is _EMIT_STRING:
            self._emit(Tok.STRING)
        elif isinstance(result, Tok):
            self._emit(result)
        elif result == _S.START:
            self._token.clear()  # whitespace
        else:
            assert isinstance(result, _S)
            self._state = result
            if len(self._token) > MAX_TOKEN_SIZE:
                self._oversize()
        return True

    def _emit(self, tok: Tok) -> None:
        text = bytes(self._token)
        self._token.clear()
        self._state = _S.START
        self._sink(tok, text)

    def _error(self) -> None:
        self._emit(Tok.ERROR)
        self._state = _S.RECOVERY

    def _oversize(self) -> None:
        self._emit(Tok.OVERSIZE)
