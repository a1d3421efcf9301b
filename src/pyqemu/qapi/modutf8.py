"""QEMU's "modified UTF-8" rules (``util/unicode.c``), for JSON strings and error text.

QEMU holds strings as NUL-terminated modified UTF-8: UTF-8 where U+0000 is
written ``C0 80``.  Its JSON parser accepts a code point only if it is in
range, not a surrogate and not one of Unicode's 66 noncharacters, and
rejects overlong forms except ``C0 80``.  Its JSON writer turns each
sequence it cannot decode into one U+FFFD; :func:`decode_for_output` gives
the text a client therefore sees for raw bytes QEMU echoes back (e.g. the
``stray '...'`` of a JSON parse error).
"""

from __future__ import annotations

REPLACEMENT = "\ufffd"
_MIN_CODEPOINT = (0x80, 0x800, 0x10000, 0x200000, 0x4000000)


def is_valid_codepoint(cp: int) -> bool:
    """True for code points QEMU's JSON layer accepts."""
    if cp < 0 or cp > 0x10FFFF:
        return False
    if 0xFDD0 <= cp <= 0xFDEF or (cp & 0xFFFE) == 0xFFFE:
        return False  # noncharacter
    return not 0xD800 <= cp <= 0xDFFF  # surrogate


def decode_one(data: bytes, pos: int) -> tuple[int, int]:
    """Decode the (at most 6-byte) sequence at ``data[pos]``.

    Returns ``(codepoint, end)``; ``codepoint`` is -1 for an invalid
    sequence, and ``end`` is where QEMU resumes (after the bytes it looked
    at).  ``data[pos]`` must exist and not be NUL.
    """
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    if first >= 0xFE or not first & 0x40:
        return -1, pos + 1  # impossible byte, or a stray continuation byte
    length = 0
    mask = 0x80
    while first & mask:
        length += 1
        mask >>= 1
    cp = first & (mask - 1)
    end = pos + 1
    for _ in range(length - 1):
        byte = data[end] if end < len(data) else 0  # a C string ends in NUL
        if byte & 0xC0 != 0x80:
            return -1, end  # continuation byte missing
        cp = cp << 6 | byte & 0x3F
        end += 1
    if not is_valid_codepoint(cp):
        return -1, end
    if cp < _MIN_CODEPOINT[length - 2] and not (cp == 0 and length == 2):
        return -1, end  # overlong, other than C0 80
    return cp, end


def decode_for_output(data: bytes) -> str:
    """The text QEMU's JSON writer produces for C string ``data``.

    Each undecodable sequence becomes U+FFFD.  ``data`` must hold no NUL.
    """
    out: list[str] = []
    pos = 0
    while pos < len(data):
        cp, pos = decode_one(data, pos)
        out.append(REPLACEMENT if cp < 0 else chr(cp))
    return "".join(out)
