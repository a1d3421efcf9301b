"""Numbers, sizes, booleans and identifiers as QEMU's option parsers read them.

QEMU reads option values with a few C helpers (``util/cutils.c``): numbers
through ``strtoll`` / ``strtoull`` (so ``010`` is octal, ``0x10`` hex,
leading blanks are skipped and, unsigned, ``-1`` wraps to 2^64-1), sizes
with binary suffixes and fractions (``1.5G``), and ``on``/``off`` style
booleans.  :func:`scan_int` is the one scanner behind every integer reader
(QemuOpts, QOM property text, the qtest protocol).  This module
reproduces what those helpers accept, including the corner cases a user can
run into, so an option means the same in pyqemu as in QEMU 7.2.

The parsers raise :class:`InvalidNumberError` or :class:`NumberRangeError`
rather than a user-facing error, because the wording depends on who asked
(QemuOpts says "expects a number", a QAPI visitor "expects uint64").
Deprecation warnings are handed back to the caller, never printed.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass

from pyqemu.util.errors import ConfigError

UINT64_MAX = 2**64 - 1

# What C's isspace() accepts in the "C" locale; strtoull skips these.
C_SPACE = " \t\n\v\f\r"

TRUE_WORDS = frozenset({"on", "yes", "true", "y"})
FALSE_WORDS = frozenset({"off", "no", "false", "n"})

# Multipliers of the size suffixes, case-insensitive, binary (unit 1024).
SIZE_SUFFIXES = "BKMGTPE"
_SIZE_UNIT = 1024
_FIXED_POINT_BITS = 64  # fractions are kept as 0.64 fixed point, as QEMU does
_SIZE_NAMES = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_BASE_DIGITS = {base: frozenset(_DIGITS[:base] + _DIGITS[:base].upper()) for base in (8, 10, 16)}
_FRACTION = re.compile(r"\.[0-9]+(?:[eE][+-]?[0-9]+)?")
_ID_TAIL = frozenset("-._")


@dataclass(frozen=True)
class ParseWarning:
    """A deprecation warning met while parsing; the caller reports it like ``warn_report``."""

    desc: str
    hint: str | None = None


class InvalidNumberError(ValueError):
    """The text is not a number of the expected form (QEMU's ``-EINVAL``)."""


class NumberRangeError(ValueError):
    """The text is a number, but it does not fit in 64 bits (QEMU's ``-ERANGE``)."""


def invalid_parameter_value(name: str, expected: str, hint: str | None = None) -> ConfigError:
    """QEMU's "Parameter 'NAME' expects EXPECTED" error."""
    return ConfigError(f"Parameter '{name}' expects {expected}", hint=hint)


def invalid_parameter_type(name: str, expected: str) -> ConfigError:
    """QEMU's "Invalid parameter type for 'NAME', expected: EXPECTED" (a value of the wrong JSON type)."""
    return ConfigError(f"Invalid parameter type for '{name}', expected: {expected}")


def parse_bool_str(text: str) -> bool:
    """Read a boolean as QemuOpts and QAPI visitors do: on/yes/true/y, off/no/false/n.

    Case matters (``ON`` is refused).  Raises ValueError for anything else.
    """
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(text)


def parse_bool_param(name: str, text: str) -> bool:
    """Read boolean parameter ``name``; ConfigError with QEMU's text when it is not one."""
    try:
        return parse_bool_str(text)
    except ValueError:
        raise invalid_parameter_value(name, "'on' or 'off'") from None


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in C_SPACE:
        pos += 1
    return pos


def _digits_end(text: str, pos: int, base: int) -> int:
    valid = _BASE_DIGITS[base]
    while pos < len(text) and text[pos] in valid:
        pos += 1
    return pos


def _is_hex_prefix(text: str, pos: int) -> bool:
    return text[pos : pos + 2] in ("0x", "0X") and pos + 2 < len(text) and text[pos + 2] in _BASE_DIGITS[16]


def scan_int(text: str, base: int = 0) -> tuple[int, int]:
    """How C's ``strtol`` family scans ``text``: (value, end index), the value exact and signed.

    Leading blanks (C's ``isspace``) are skipped, then one ``+`` or ``-``;
    base 0 picks hex for ``0x`` followed by a hex digit, octal for a leading
    ``0`` and decimal otherwise (base 16 also takes the ``0x``).  Only ASCII
    digits count.  ``end`` is 0 when nothing was converted.  Wrapping and
    range checks are left to the caller, as each C function does its own.
    """
    pos = _skip_space(text, 0)
    negative = text[pos : pos + 1] == "-"
    if text[pos : pos + 1] in ("+", "-"):
        pos += 1
    if base in (0, 16) and _is_hex_prefix(text, pos):
        base, pos = 16, pos + 2
    elif base == 0:
        base = 8 if text[pos : pos + 1] == "0" else 10
    end = _digits_end(text, pos, base)
    if end == pos:
        return 0, 0
    value = int(text[pos:end], base)
    return -value if negative else value, end


def strtou64(text: str, base: int = 0) -> tuple[int, int, bool]:
    """C's ``strtoull`` on ``text``: (value, end index, out of range).

    ``end`` is 0 when nothing was converted.  A minus sign negates modulo
    2^64, as C does; a magnitude above 2^64-1 gives 2^64-1 and out of range.
    """
    value, end = scan_int(text, base)
    if abs(value) > UINT64_MAX:
        return UINT64_MAX, end, True
    return value % 2**64, end, False


def parse_int(text: str, base: int = 0) -> int:
    """The whole of ``text`` as one integer, as ``qemu_strtoi64`` reads it, but without a width.

    Raises InvalidNumberError when ``text`` is not a number or has trailing
    characters; the range is for the caller to check.
    """
    value, end = scan_int(text, base)
    if end == 0 or end != len(text):
        raise InvalidNumberError(text)
    return value


def parse_uint(text: str, base: int = 0) -> int:
    """Read a whole unsigned 64-bit number as ``qemu_strtou64`` does (QemuOpts numbers).

    Raises InvalidNumberError for junk (trailing characters included) and
    NumberRangeError above 2^64-1; ``-N`` wraps around.
    """
    value = parse_int(text, base)
    if abs(value) > UINT64_MAX:
        raise NumberRangeError(text)
    return value % 2**64


def _suffix_multiplier(char: str) -> int | None:
    index = SIZE_SUFFIXES.find(char.upper()) if len(char) == 1 else -1
    return _SIZE_UNIT**index if index >= 0 else None


def _fraction_at(text: str, pos: int) -> tuple[float, int] | None:
    """``strtod`` of the fraction starting at ``text[pos] == '.'``; None when it fails."""
    match = _FRACTION.match(text, pos)
    if match is None:
        return None
    value = float(match.group())
    nonzero = re.split("[eE]", match.group())[0].strip(".0") != ""
    if not math.isfinite(value) or (nonzero and value < sys.float_info.min):
        return None  # overflow or underflow: strtod reports ERANGE
    return value, match.end()


def _fixed_point(fraction: float) -> int:
    """The fraction as 0.64 fixed point, as C's cast does on x86-64 (1.0 becomes 0)."""
    return int(fraction * 2.0**_FIXED_POINT_BITS) if fraction < 1.0 else 0


def _size_error(text: str, end: int, error: type[ValueError]) -> ValueError:
    """Trailing characters turn any failure into "invalid", as in QEMU."""
    return InvalidNumberError(text) if end < len(text) else error(text)


#: The hint QEMU prints under a size that does not parse.
SIZE_HINT = (
    "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively."
)


def parse_size(text: str, default_suffix: str = "B", warnings: list[ParseWarning] | None = None) -> int:
    """Read a size in bytes as ``qemu_strtosz`` does: ``4096``, ``1.5G``, ``0x1000``, ``2k``.

    Suffixes B, K, M, G, T, P, E (either case) multiply by powers of 1024; a
    number without one is scaled by ``default_suffix``.  A fraction needs a
    multiplier and is rounded half up.  A hex number with a suffix is
    accepted with a deprecation warning, appended to ``warnings``.
    """
    value, end, out_of_range = strtou64(text, 10)
    if end == 0:
        raise InvalidNumberError(text)
    if out_of_range:
        raise _size_error(text, end, NumberRangeError)
    if "-" in text[:end]:
        raise InvalidNumberError(text)
    is_hex, fixed = False, 0
    if value == 0 and text[end : end + 1] in ("x", "X"):
        value, end, out_of_range = strtou64(text, 16)
        if out_of_range:
            raise _size_error(text, end, NumberRangeError)
        if text[end : end + 1] == ".":
            raise InvalidNumberError(text)
        is_hex = True
    elif text[end : end + 1] == ".":
        fraction = _fraction_at(text, end)
        if fraction is None:
            end += 1  # "1." and "1.k" mean 1 and 1k
        elif "e" in text[end : fraction[1]].lower():
            raise InvalidNumberError(text)
        else:
            fixed, end = _fixed_point(fraction[0]), fraction[1]
    multiplier = _suffix_multiplier(text[end : end + 1])
    if multiplier is not None:
        if is_hex and warnings is not None:
            warnings.append(ParseWarning(f"Using a multiplier suffix on hex numbers is deprecated: {text}"))
        end += 1
    else:
        multiplier = _suffix_multiplier(default_suffix)
        if multiplier is None:
            raise ValueError(f"bad default suffix {default_suffix!r}")
    if end < len(text):
        raise InvalidNumberError(text)
    if multiplier == 1:
        if fixed:
            raise InvalidNumberError(text)
        return value
    scaled = fixed * multiplier
    low = scaled & UINT64_MAX
    total = value * multiplier + (scaled >> _FIXED_POINT_BITS) + (low >> (_FIXED_POINT_BITS - 1))
    if total > UINT64_MAX:
        raise NumberRangeError(text)
    return total


def format_size(value: int) -> str:
    """A size for people, as QEMU's ``size_to_str``: ``512 MiB``, ``1.5 GiB``, ``0.977 KiB``.

    Three significant digits; the unit switches up once the number reaches 1000.
    """
    _, exponent = math.frexp(value / (1000.0 / 1024.0))
    index = max(exponent - 1, 0) // 10
    return f"{float(value) / (1 << (index * 10)):.3g} {_SIZE_NAMES[index]}B"


ID_HINT = "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter."


def check_id(ident: str, name: str = "id") -> str:
    """``ident`` if it is a well-formed identifier, else QEMU's error with its hint."""
    if not id_wellformed(ident):
        raise invalid_parameter_value(name, "an identifier", ID_HINT)
    return ident


def id_wellformed(ident: str) -> bool:
    """Whether ``ident`` is a valid QEMU identifier: an ASCII letter, then letters, digits, -._"""
    if not ident or not (ident[0].isascii() and ident[0].isalpha()):
        return False
    return all((c.isascii() and c.isalnum()) or c in _ID_TAIL for c in ident[1:])
