"""Turn a QMP byte stream into JSON values and parse errors, exactly as QEMU does.

This is QEMU's streamer and parser (``qobject/json-streamer.c``,
``json-parser.c``) on top of :mod:`.json_lexer`.  The streamer collects
tokens until brackets and braces balance (or go negative), then parses them
as one message; a lone scalar is a message by itself.  Every message
becomes either a value or one error, and QEMU answers each error with a
GenericError reply and carries on, so :meth:`JsonStreamParser.feed` returns
both, in order.

Observed on QEMU 7.2 and reproduced here:

* several messages in one chunk, one message over many chunks, no newline
  needed; ``1`` waits for the byte after it;
* single-quoted strings; ``\\uXXXX`` escapes with surrogate pairs; code
  points that are surrogates, noncharacters or out of range are errors
  (``JSON parse error, \\ud800 is not a valid Unicode character``);
* integers become ``int`` when they fit int64 or uint64, otherwise ``float``
  (QEMU's QNum); ``1.0`` stays a float, which matters for argument checks;
* limits: more than 1024 open brackets/braces, more than 2 Mi tokens or
  more than 64 MiB of token text in one message are errors, after which the
  rest of the message is read as new input;
* error texts: ``JSON parse error, stray '<bytes>'`` for a lexical error,
  else ``JSON parse error, <what>`` — see the ``_ERR_*`` constants.
"""

from __future__ import annotations

import re
from typing import Any

from pyqemu.qapi import modutf8
from pyqemu.qapi.json_lexer import MAX_TOKEN_SIZE, JsonLexer, Tok
from pyqemu.util.cutils import UINT64_MAX
from pyqemu.util.errors import MonitorError

MAX_TOKEN_COUNT = 2 << 20
MAX_NESTING = 1 << 10

_PREFIX = "JSON parse error, "
_ERR_TOKEN_SIZE = "JSON token size limit exceeded"
_ERR_TOKEN_COUNT = "JSON token count limit exceeded"
_ERR_NESTING = "JSON nesting depth limit exceeded"
_ERR_PREMATURE = "premature EOI"
_ERR_EXPECTING_VALUE = "expecting value"
_ERR_KEY_NOT_STRING = "key is not a string in object"
_ERR_MISSING_COLON = "missing : in object pair"
_ERR_DUPLICATE_KEY = "duplicate key"
_ERR_DICT_SEPARATOR = "expected separator in dict"
_ERR_LIST_SEPARATOR = "expected separator in list"
_ERR_BAD_ESCAPE = "invalid escape sequence in string"
_ERR_BAD_UTF8 = "invalid UTF-8 sequence in string"

_KEYWORDS = {b"true": True, b"false": False, b"null": None}
_SIMPLE_ESCAPES = {
    ord('"'): '"', ord("'"): "'", ord("\\"): "\\", ord("/"): "/",
    ord("b"): "\b", ord("f"): "\f", ord("n"): "\n", ord("r"): "\r", ord("t"): "\t",
}
_INT64_MIN = -(1 << 63)

_HEX = frozenset(b"0123456789abcdefABCDEF")
# Code points Python's UTF-8 decoder accepts but QEMU rejects.
_NONCHARACTER = re.compile(
    "[\ufdd0-\ufdef" + "".join(chr(p << 16 | 0xFFFE) + chr(p << 16 | 0xFFFF) for p in range(17)) + "]"
)


class JsonParseError(MonitorError):
    """One malformed QMP message; QEMU replies GenericError with ``desc``."""


class _Fail(Exception):
    """Internal: the first error of a parse (later ones are never reported)."""

    def __init__(self, desc: bytes | str):
        super().__init__(desc)
        self.desc = desc


def _parse_error(what: bytes | str) -> JsonParseError:
    text = modutf8.decode_for_output(what) if isinstance(what, bytes) else what
    return JsonParseError(_PREFIX + text)


class JsonStreamParser:
    """QEMU's JSON message parser for one monitor connection."""

    max_token_size = MAX_TOKEN_SIZE
    max_token_count = MAX_TOKEN_COUNT
    max_nesting = MAX_NESTING

    def __init__(self) -> None:
        self._lexer = JsonLexer(self._token)
        self._out: list[Any] = []
        self._reset()

    def feed(self, data: bytes) -> list[Any]:
        """Parse ``data``; return the messages it completed, in order.

        Each item is a JSON value (dict, list, str, int, float, bool, None)
        or a :class:`JsonParseError`.
        """
        self._lexer.feed(data)
        return self._take()

    def flush(self) -> list[Any]:
        """End of input: what a pending partial message turns into."""
        self._lexer.flush()
        if self._tokens:
            self._finish()
        return self._take()

    def _take(self) -> list[Any]:
        out, self._out = self._out, []
        return out

    def _reset(self) -> None:
        self._tokens: list[tuple[Tok, bytes]] = []
        self._size = 0
        self._braces = 0
        self._brackets = 0

    def _emit_error(self, err: JsonParseError | str) -> None:
        self._reset()
        self._out.append(err if isinstance(err, JsonParseError) else JsonParseError(err))

    def _token(self, tok: Tok, text: bytes) -> None:
        if tok is Tok.ERROR:
            # QEMU formats the token as a C string: it ends at a NUL byte.
            self._emit_error(_parse_error(b"stray '" + text.split(b"\0", 1)[0] + b"'"))
            return
        if tok is Tok.LCURLY:
            self._braces += 1
        elif tok is Tok.RCURLY:
            self._braces -= 1
        elif tok is Tok.LSQUARE:
            self._brackets += 1
        elif tok is Tok.RSQUARE:
            self._brackets -= 1
        if self._size + len(text) + 1 > self.max_token_size:
            self._emit_error(_ERR_TOKEN_SIZE)
            return
        if len(self._tokens) + 1 > self.max_token_count:
            self._emit_error(_ERR_TOKEN_COUNT)
            return
        if self._braces + self._brackets > self.max_nesting:
            self._emit_error(_ERR_NESTING)
            return
        self._tokens.append((tok, text))
        self._size += len(text)
        if (self._braces > 0 or self._brackets > 0) and self._braces >= 0 and self._brackets >= 0:
            return
        self._finish()

    def _finish(self) -> None:
        tokens = self._tokens
        self._reset()
        try:
            self._out.append(parse_tokens(tokens))
        except _Fail as fail:
            self._out.append(_parse_error(fail.desc))


def parse_tokens(tokens: list[tuple[Tok, bytes]]) -> Any:
    """Parse one message's tokens (QEMU's recursive descent, run iteratively)."""
    return _Parser(tokens).parse()


_ARRAY, _KEY, _VALUE = range(3)


class _Parser:
    """Iterative form of QEMU's recursive descent, so 1024 levels need no recursion.

    The stack holds open containers: ``[_ARRAY, list]``, ``[_KEY, dict]``
    (waiting for a member name) or ``[_VALUE, dict, name]``.  The first error
    in token order wins, as in QEMU.
    """

    def __init__(self, tokens: list[tuple[Tok, bytes]]):
        self._tokens = tokens
        self._pos = 0

    def _peek(self) -> tuple[Tok, bytes]:
        if self._pos >= len(self._tokens):
            raise _Fail(_ERR_PREMATURE)
        return self._tokens[self._pos]

    def _pop(self) -> Tok:
        tok = self._peek()[0]
        self._pos += 1
        return tok

    def parse(self) -> Any:
        stack: list[list[Any]] = []
        while True:
            value, opened = self._value()
            if opened is not None:
                stack.append(opened)
                continue
            while True:  # hand the finished value to the containers it closes
                if not stack:
                    return value
                top = stack[-1]
                if top[0] == _ARRAY:
                    top[1].append(value)
                    tok = self._pop()
                    if tok is Tok.COMMA:
                        break
                    if tok is not Tok.RSQUARE:
                        raise _Fail(_ERR_LIST_SEPARATOR)
                elif top[0] == _KEY:
                    if not isinstance(value, str):
                        raise _Fail(_ERR_KEY_NOT_STRING)
                    if self._pop() is not Tok.COLON:
                        raise _Fail(_ERR_MISSING_COLON)
                    stack[-1] = [_VALUE, top[1], value]
                    break
                else:
                    members, name = top[1], top[2]
                    if name in members:
                        raise _Fail(_ERR_DUPLICATE_KEY)
                    members[name] = value
                    tok = self._pop()
                    if tok is Tok.COMMA:
                        stack[-1] = [_KEY, members]
                        break
                    if tok is not Tok.RCURLY:
                        raise _Fail(_ERR_DICT_SEPARATOR)
                value = stack.pop()[1]

    def _value(self) -> tuple[Any, list[Any] | None]:
        """Read a value: ``(value, None)``, or ``(None, frame)`` for a non-empty container."""
        tok, text = self._peek()
        self._pos += 1
        if tok is Tok.LCURLY:
            if self._peek()[0] is Tok.RCURLY:
                self._pos += 1
                return {}, None
            return None, [_KEY, {}]
        if tok is Tok.LSQUARE:
            if self._peek()[0] is Tok.RSQUARE:
                self._pos += 1
                return [], None
            return None, [_ARRAY, []]
        if tok is Tok.STRING:
            return parse_string(text), None
        if tok is Tok.INTEGER:
            return parse_integer(text), None
        if tok is Tok.FLOAT:
            return float(text), None
        if tok is Tok.KEYWORD:
            if text not in _KEYWORDS:
                raise _Fail(b"invalid keyword '" + text + b"'")
            return _KEYWORDS[text], None
        raise _Fail(_ERR_EXPECTING_VALUE)


def parse_integer(text: bytes) -> int | float:
    """QEMU's QNum for an integer token: int64, else uint64, else double."""
    if len(text) <= 21:  # longer digit strings cannot fit 64 bits
        value = int(text)
        if _INT64_MIN <= value <= UINT64_MAX:
            return value
    return float(text)


def _hex4(text: bytes, pos: int) -> int:
    """QEMU's cvt4hex: four hex digits at ``pos``, or -1."""
    digits = text[pos : pos + 4]
    if len(digits) < 4 or not all(d in _HEX for d in digits):
        return -1
    return int(digits, 16)


def _decode_run(run: bytes) -> str:
    """Decode bytes without escapes: Python's UTF-8 decoder when it agrees with QEMU's."""
    try:
        decoded = run.decode("utf-8")
    except UnicodeDecodeError:
        decoded = None
    if decoded is not None and not _NONCHARACTER.search(decoded):
        return decoded
    out = []  # the exact (slow) way: noncharacters, C0 80, or an error
    pos = 0
    while pos < len(run):
        cp, pos = modutf8.decode_one(run, pos)
        if cp < 0:
            raise _Fail(_ERR_BAD_UTF8)
        out.append(chr(cp))
    return "".join(out)


def parse_string(text: bytes) -> str:
    """Decode a string token (quotes included) as QEMU does, or raise _Fail."""
    out: list[str] = []
    pos, end = 1, len(text) - 1  # inside the quotes
    while pos < end:
        backslash = text.find(b"\\", pos, end)
        if backslash != pos:
            stop = end if backslash < 0 else backslash
            out.append(_decode_run(text[pos:stop]))
            pos = stop
            continue
        escape = text[pos + 1]
        begin, pos = pos, pos + 2
        if escape in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[escape])
            continue
        if escape != ord("u"):
            raise _Fail(_ERR_BAD_ESCAPE)
        cp = _hex4(text, pos)
        pos += 4
        if 0xD800 <= cp <= 0xDBFF and text[pos : pos + 2] == b"\\u":
            trailing = _hex4(text, pos + 2)
            if 0xDC00 <= trailing <= 0xDFFF:
                cp = 0x10000 + ((cp & 0x3FF) << 10) + (trailing & 0x3FF)
                pos += 6
            else:
                cp = -1
        if not modutf8.is_valid_codepoint(cp):
            # QEMU quotes the escape from its backslash, up to 6 (or 12) bytes
            raise _Fail(text[begin:pos] + b" is not a valid Unicode character")
        out.append(chr(cp))
    return "".join(out)


def parse_json_value(text: str) -> Any:
    """Exactly one JSON value from ``text``, as QEMU's ``qobject_from_json`` reads ``-device {…}``.

    Raises :class:`JsonParseError` for bad JSON and for more than one value.
    """
    parser = JsonStreamParser()
    items = parser.feed(text.encode()) + parser.flush()
    if not items:
        raise JsonParseError("Expecting a JSON value")
    if isinstance(items[0], JsonParseError):
        raise items[0]
    if len(items) > 1:  # whatever follows a complete value, QEMU reports so
        raise JsonParseError("Expecting at most one JSON value")
    return items[0]
