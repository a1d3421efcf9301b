"""The qtest wire format: how words are split and numbers parsed, and how replies and log lines look.

The qtest protocol (QEMU's ``softmmu/qtest.c``) is line based: the client
sends one command per line, words separated by single spaces; the server
answers each with one line starting ``OK`` or ``FAIL`` (``ERR`` for a data
word that is too short), and may send ``IRQ raise N`` / ``IRQ lower N`` lines
at any time in between.  Everything here is pure, so it is tested without a
machine; :mod:`pyqemu.accel.qtest.server` uses it.

The functions reproduce QEMU 7.2's observable details, checked against
``qemu-system-x86_64 -qtest``: numbers parse like ``strtoul`` with base 0
(``0x10``, ``010`` is octal, ``-1`` wraps), ``inb`` answers ``OK 0x00ff``,
``readb`` sixteen hex digits, ``write``'s hex data is read two characters at a
time after a two-character prefix with bad digits counting as ``-1``, and
``b64write`` decodes in place as GLib does, so bytes past the decoded data
are the rest of the base64 text.
"""

from __future__ import annotations

import base64

from pyqemu.util.cutils import UINT64_MAX, InvalidNumberError, NumberRangeError, parse_int, parse_uint

INT64_BITS = 64
INT32_BITS = 32
#: What ``qtest_can_read`` accepts per read.
CAN_READ = 1024
#: ``write``/``b64write`` refuse a data word shorter than this.
MIN_DATA_LEN = 3
HEX_PREFIX_LEN = 2
_B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#: GLib's base64 ranks: the alphabet, and ``=`` as a zero that suppresses output bytes.
_B64_RANK = {**{c: i for i, c in enumerate(_B64_ALPHABET)}, "=": 0}
_B64_GROUP = 4


class ProtocolError(Exception):
    """A malformed command (QEMU aborts on these; pyqemu answers ``FAIL`` with this text)."""


# -- words and numbers --------------------------------------------------------------


def split_words(line: str) -> list[str]:
    """A command line's words, split on single spaces (``g_strsplit``: ``""`` gives none)."""
    return line.split(" ") if line else []


def parse_unsigned(text: str) -> int:
    """An unsigned 64-bit word as ``qemu_strtou64`` reads it: a leading ``-`` wraps around."""
    try:
        return parse_uint(text)
    except InvalidNumberError:
        raise ProtocolError(f"invalid number '{text}'") from None
    except NumberRangeError:
        raise ProtocolError(f"number out of range '{text}'") from None


def parse_signed(text: str, bits: int = INT64_BITS) -> int:
    """A signed word of ``bits`` bits (``qemu_strtoi64`` / ``qemu_strtoi``)."""
    try:
        value = parse_int(text)
    except InvalidNumberError:
        raise ProtocolError(f"invalid number '{text}'") from None
    limit = 1 << (bits - 1)
    if not -limit <= value < limit:
        raise ProtocolError(f"number out of range '{text}'")
    return value


def arg(words: list[str], index: int) -> str:
    """Word ``index`` of a command; ProtocolError if the command is too short."""
    if index >= len(words):
        raise ProtocolError(f"'{words[0]}' needs more arguments")
    return words[index]


# -- data words ------------------------------------------------------------------------


def _nibble(ch: str) -> int:
    """A hex digit's value, -1 for anything else (QEMU's ``hex2nib``)."""
    return int(ch, 16) if ch in "0123456789abcdefABCDEF" else -1


def hex_decode(word: str, length: int) -> bytes:
    """``length`` bytes from ``write``'s ``0x…`` word: missing digits are zeros, bad ones -1."""
    out = bytearray(length)
    for i in range(min(length, (len(word) - HEX_PREFIX_LEN) // 2)):
        pos = HEX_PREFIX_LEN + 2 * i
        out[i] = ((_nibble(word[pos]) << 4) | _nibble(word[pos + 1])) & 0xFF
    return bytes(out)


def hex_encode(data: bytes) -> str:
    """``read``'s data: ``0x`` and two lower-case digits per byte."""
    return "0x" + data.hex()


def b64_encode(data: bytes) -> str:
    """``b64read``'s data: standard base64 with padding (empty for no data)."""
    return base64.b64encode(data).decode("ascii")


def b64_decode_inplace(text: str) -> tuple[bytes, int]:
    """GLib's ``g_base64_decode_inplace``: the buffer after decoding, and how many bytes were decoded.

    Characters outside the alphabet are skipped; every complete group of
    four gives three bytes, fewer when ``=`` is among its last two; an
    incomplete last group gives nothing.  The decoded bytes overwrite the
    start of the text, so the buffer continues with the rest of the text and
    its terminating NUL.
    """
    out = bytearray()
    value = count = 0
    last = prev = ""
    for ch in text:
        rank = _B64_RANK.get(ch)
        if rank is None:
            continue
        prev, last = last, ch
        value = (value << 6) | rank
        count += 1
        if count == _B64_GROUP:
            out.append((value >> 16) & 0xFF)
            if prev != "=":
                out.append((value >> 8) & 0xFF)
            if last != "=":
                out.append(value & 0xFF)
            value = count = 0
    raw = text.encode("latin-1", "replace") + b"\0"
    return bytes(out) + raw[len(out):], len(out)


def b64_write_data(text: str, length: int) -> tuple[bytes, int]:
    """The ``length`` bytes ``b64write`` stores (zeros past the buffer), and the decoded count."""
    buffer, found = b64_decode_inplace(text)
    return buffer[:length].ljust(length, b"\0"), found


# -- replies -----------------------------------------------------------------------------


OK = "OK\n"
FAIL_UNKNOWN_DEVICE = "FAIL Unknown device\n"
FAIL_INTERCEPT_ENABLED = "FAIL IRQ intercept already enabled\n"
ERR_ARGUMENT_SIZE = "ERR invalid argument size\n"


def reply_port_value(value: int) -> str:
    """``inb``/``inw``/``inl``: at least four hex digits, whatever the width."""
    return f"OK 0x{value & 0xFFFFFFFF:04x}\n"


def reply_mem_value(value: int) -> str:
    """``readb`` … ``readq``: always sixteen hex digits."""
    return f"OK 0x{value & UINT64_MAX:016x}\n"


def reply_value(text: str | int) -> str:
    """``OK`` and one word: data, a clock value, an endianness."""
    return f"OK {text}\n"


def reply_unknown(command: str) -> str:
    return f"FAIL Unknown command '{command}'\n"


def reply_malformed(err: ProtocolError) -> str:
    return f"FAIL {err}\n"


def irq_line(level: int, n: int) -> str:
    """The asynchronous notice of an intercepted line changing level."""
    return f"IRQ {'raise' if level else 'lower'} {n}\n"


def b64_mismatch(told: int, found: int) -> str:
    """The log's note when ``b64write``'s size and data disagree."""
    return f"b64write: data length mismatch (told {told}, found {found})\n"


# -- the -qtest-log file --------------------------------------------------------------------


def log_received(elapsed: float, words: list[str]) -> str:
    """A command as logged: ``[R +SECONDS]`` then each word after a space."""
    return f"[R +{elapsed:.6f}]" + "".join(" " + word for word in words) + "\n"


def log_sent_prefix(elapsed: float) -> str:
    """What precedes each line the server sends, in the log."""
    return f"[S +{elapsed:.6f}] "


def log_opened(elapsed: float) -> str:
    return f"[I {elapsed:.6f}] OPENED\n"


def log_closed(elapsed: float) -> str:
    return f"[I +{elapsed:.6f}] CLOSED\n"
