"""Numbers, sizes, booleans and ids read as QEMU 7.2 reads them.

Expected values were observed with qemu-system-x86_64 7.2: numbers through
``-add-fd fd=3,set=N`` (QemuOpts number) and ``query-fdsets``, sizes through
``-m`` (QemuOpts size) and ``-object memory-backend-ram,size=S`` with
``qom-get``, booleans through ``-msg timestamp=B`` and ``-object …,share=B``,
formatted sizes through ``qemu-img info`` (``size_to_str``).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyqemu.util.cutils import (
    UINT64_MAX,
    InvalidNumberError,
    NumberRangeError,
    ParseWarning,
    format_size,
    id_wellformed,
    parse_bool_param,
    parse_bool_str,
    parse_int,
    parse_size,
    parse_uint,
    scan_int,
    strtou64,
)
from pyqemu.util.errors import ConfigError

KIB, MIB, GIB, TIB, PIB, EIB = (1024**n for n in range(1, 7))


# --- booleans ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["on", "yes", "true", "y"])
def test_true_words(text: str) -> None:
    assert parse_bool_str(text) is True


@pytest.mark.parametrize("text", ["off", "no", "false", "n"])
def test_false_words(text: str) -> None:
    assert parse_bool_str(text) is False


@pytest.mark.parametrize("text", ["ON", "On", "1", "0", "", "t", "f", " on", "on ", "Yes"])
def test_other_words_are_not_booleans(text: str) -> None:
    with pytest.raises(ValueError):
        parse_bool_str(text)


def test_bool_param_error_text() -> None:
    with pytest.raises(ConfigError) as info:
        parse_bool_param("timestamp", "ON")
    assert info.value.desc == "Parameter 'timestamp' expects 'on' or 'off'"
    assert info.value.hint is None


# --- unsigned numbers (qemu_strtou64, base 0) -------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5", 5),
        ("0", 0),
        ("010", 8),  # octal
        ("0x10", 16),
        ("0X1f", 31),
        ("+5", 5),
        (" 5", 5),
        ("\t7", 7),
        (" +0x10", 16),
        ("-0", 0),
        ("-1", UINT64_MAX),  # wraps, as strtoull does
        ("   -5", 2**64 - 5),
        ("-18446744073709551615", 1),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", 2**63),
        ("18446744073709551615", UINT64_MAX),
    ],
)
def test_parse_uint(text: str, value: int) -> None:
    assert parse_uint(text) == value


@pytest.mark.parametrize(
    "text",
    ["", "5 ", "1k", "0b1", "08", "00x1", "0x", " 0x", "0x ", "-", "18446744073709551616x"],
)
def test_parse_uint_invalid(text: str) -> None:
    with pytest.raises(InvalidNumberError):
        parse_uint(text)


@pytest.mark.parametrize("text", ["18446744073709551616", "-18446744073709551616"])
def test_parse_uint_out_of_range(text: str) -> None:
    with pytest.raises(NumberRangeError):
        parse_uint(text)


@given(st.integers(0, UINT64_MAX))
def test_parse_uint_reads_every_spelling(value: int) -> None:
    assert parse_uint(str(value)) == value
    assert parse_uint(hex(value)) == value
    assert parse_uint("0" + oct(value)[2:]) == value
    assert parse_uint(f"-{value}") == (-value) % 2**64


# --- the shared scanner (strtol family) and whole signed numbers (qemu_strtoi64) ---


@pytest.mark.parametrize(
    ("text", "base", "scanned"),
    [
        ("12ab", 0, (12, 2)),
        ("  -7z", 0, (-7, 4)),
        ("0x", 0, (0, 1)),  # "0x" without a hex digit is the number 0 followed by "x"
        ("0xg", 16, (0, 1)),
        ("0x1f", 16, (31, 4)),
        ("ff", 16, (255, 2)),
        ("0x1f", 10, (0, 1)),
        ("019", 0, (1, 2)),  # octal stops at the 9
        ("z", 0, (0, 0)),
        ("-", 0, (0, 0)),
        ("--1", 0, (0, 0)),
        ("\u00a01", 0, (0, 0)),  # only C's isspace() blanks are skipped
        ("\u0661", 0, (0, 0)),  # only ASCII digits count
    ],
)
def test_scan_int(text: str, base: int, scanned: tuple[int, int]) -> None:
    assert scan_int(text, base) == scanned


def test_strtou64_reports_overflow_and_wraps_negatives() -> None:
    assert strtou64("18446744073709551616x") == (UINT64_MAX, 20, True)
    assert strtou64("-18446744073709551616") == (UINT64_MAX, 21, True)
    assert strtou64("-1 ") == (UINT64_MAX, 2, False)
    assert strtou64("x") == (0, 0, False)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5", 5),
        (" 5", 5),
        ("\t\n\v\f\r5", 5),
        ("+5", 5),
        ("-5", -5),
        ("-0", 0),
        ("00", 0),
        ("010", 8),
        ("-010", -8),
        ("0x1F", 31),
        ("-0X10", -16),
        ("9223372036854775808", 2**63),  # no width: the caller checks the range
        ("-18446744073709551616", -(2**64)),
    ],
)
def test_parse_int(text: str, value: int) -> None:
    assert parse_int(text) == value


@pytest.mark.parametrize(
    "text", ["", " ", "+", "-", "--5", "+-5", "5 ", "0x", "0x ", "08", "1_0", "0b1", "1e3", "5k", "\u0661"],
)
def test_parse_int_invalid(text: str) -> None:
    with pytest.raises(InvalidNumberError):
        parse_int(text)


def test_parse_int_with_a_base() -> None:
    assert parse_int("010", 10) == 10
    assert parse_int("-ff", 16) == -255
    with pytest.raises(InvalidNumberError):
        parse_int("0x10", 10)


@pytest.mark.parametrize("text", ["--5", "+-5", "1_0", "\u0661"])
def test_parse_uint_refuses_what_strtoull_refuses(text: str) -> None:
    with pytest.raises(InvalidNumberError):
        parse_uint(text)


# --- sizes (qemu_strtosz) ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("1b", 1),
        ("1B", 1),
        ("1k", KIB),
        ("1K", KIB),
        ("1m", MIB),
        ("1M", MIB),
        ("1g", GIB),
        ("1t", TIB),
        ("1p", PIB),
        ("1e", EIB),  # 'e' is exa here, not an exponent
        ("1E", EIB),
        ("512M", 512 * MIB),
        ("1.5G", 3 * GIB // 2),
        ("1.5K", 1536),
        ("1.5M", 1572864),
        ("1.5t", 1649267441664),
        ("0.5M", 524288),
        ("0.1k", 102),  # 102.4, rounded
        ("1.0005k", 1025),  # 1024.512, rounded
        ("0.00048828125k", 1),  # exactly 0.5 rounds up
        ("0.0009765625k", 1),
        ("1.", 1),
        ("1.k", KIB),
        ("1.5e", 3 * EIB // 2),
        (" 1k", KIB),
        ("\t1k", KIB),
        ("+1k", KIB),
        ("010", 10),  # decimal, unlike numbers
        ("0x10", 16),
        ("0X10", 16),
        ("0x1b", 27),  # b and e are hex digits after 0x
        ("0x1E", 30),
        ("1.0000000000000000001k", KIB),
        ("1.99999999999999999999k", KIB),  # the fraction rounds to 1.0, which C's cast drops
        ("0.999999999999999999999k", 0),
        ("16383P", 16383 * PIB),
        ("7.5E", 8646911284551352320),
        ("18446744073709551615", UINT64_MAX),
    ],
)
def test_parse_size(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "k",
        "foo",
        "1 k",
        "1k ",
        "1kB",
        "1.5",  # a fraction needs a multiplier
        "1.5b",
        "0.5",
        "0.5B",
        "2.5",
        ".5k",
        "1.5e3k",  # no exponents
        "0x",
        "0x1.8k",  # no hex fractions
        "-0",
        "-1",
        " -5k",
        "-0x10",
        "00x10",
        "99999999999999999999k",  # too big, but trailing text makes it invalid
        "18446744073709551616x",
        "16Ex",
    ],
)
def test_parse_size_invalid(text: str) -> None:
    with pytest.raises(InvalidNumberError):
        parse_size(text)


@pytest.mark.parametrize(
    "text",
    [
        "16E",
        "16.0E",
        "16384P",
        "18446744073709551616",
        "0x10000000000000000",
        "0xfffffffffffffffff",
        "0xffffffffffffffffk",
    ],
)
def test_parse_size_out_of_range(text: str) -> None:
    with pytest.raises(NumberRangeError):
        parse_size(text)


@pytest.mark.parametrize(("text", "value"), [("0x10M", 16 * MIB), ("0x10k", 16 * KIB), ("0x1P", PIB)])
def test_hex_with_suffix_is_deprecated(text: str, value: int) -> None:
    warnings: list[ParseWarning] = []
    assert parse_size(text, warnings=warnings) == value
    assert warnings == [ParseWarning(f"Using a multiplier suffix on hex numbers is deprecated: {text}")]


def test_hex_overflow_warns_before_failing() -> None:
    warnings: list[ParseWarning] = []
    with pytest.raises(NumberRangeError):
        parse_size("0xffffffffffffffffk", warnings=warnings)
    assert len(warnings) == 1


@pytest.mark.parametrize("text", ["0x10", "16M", "1.5G"])
def test_no_warning_otherwise(text: str) -> None:
    warnings: list[ParseWarning] = []
    parse_size(text, warnings=warnings)
    assert warnings == []


@pytest.mark.parametrize(
    ("text", "suffix", "value"),
    [("2", "M", 2 * MIB), ("2k", "M", 2 * KIB), ("1.5", "G", 3 * GIB // 2), ("0x10", "M", 16 * MIB)],
)
def test_default_suffix(text: str, suffix: str, value: int) -> None:
    warnings: list[ParseWarning] = []
    assert parse_size(text, suffix, warnings) == value
    assert warnings == []  # the default multiplier is no suffix written on hex


SUFFIXES = [("B", 1), ("K", KIB), ("M", MIB), ("G", GIB), ("T", TIB), ("P", PIB), ("E", EIB)]


@given(st.integers(0, UINT64_MAX))
def test_plain_and_hex_sizes_round_trip(value: int) -> None:
    assert parse_size(str(value)) == value
    assert parse_size(hex(value)) == value


@given(st.integers(0, 2**20), st.sampled_from(SUFFIXES), st.booleans())
def test_suffix_multiplies_or_overflows(number: int, suffix: tuple[str, int], lower: bool) -> None:
    letter, multiplier = suffix
    text = f"{number}{letter.lower() if lower else letter}"
    if number * multiplier > UINT64_MAX:
        with pytest.raises(NumberRangeError):
            parse_size(text)
    else:
        assert parse_size(text) == number * multiplier


# --- format_size (size_to_str) ----------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0 B"),
        (512, "512 B"),
        (1536, "1.5 KiB"),
        (2560, "2.5 KiB"),
        (512000, "500 KiB"),
        (1022976, "999 KiB"),
        (1023488, "1e+03 KiB"),  # %.3g of 999.5
        (1024000, "0.977 MiB"),
        (1047552, "0.999 MiB"),
        (1048064, "1 MiB"),
        (512 * MIB, "512 MiB"),
        (1048576000, "0.977 GiB"),
        (1073217536, "1 GiB"),
        (3 * GIB // 2, "1.5 GiB"),
        (10 * GIB, "10 GiB"),
        (100 * GIB, "100 GiB"),
        (123456789504, "115 GiB"),
        (1000 * GIB, "0.977 TiB"),
        (1023 * GIB, "0.999 TiB"),
        (1374389534720, "1.25 TiB"),
        (EIB, "1 EiB"),
        (4 * EIB, "4 EiB"),
        (8646911284551352320, "7.5 EiB"),
    ],
)
def test_format_size(value: int, text: str) -> None:
    assert format_size(value) == text


@given(st.integers(0, UINT64_MAX))
def test_format_size_is_three_digits_of_the_value(value: int) -> None:
    text = format_size(value)
    match = re.fullmatch(r"(\d+(?:\.\d+)?|1e\+03) ([KMGTPE]?)i?B", text)
    assert match is not None, text
    if "e" not in match.group(1):
        unit = dict(SUFFIXES)[match.group(2) or "B"]
        shown = float(match.group(1)) * unit
        assert abs(shown - value) <= value * 0.005 + 0.5


# --- identifiers (id_wellformed) --------------------------------------------


@pytest.mark.parametrize("ident", ["a", "a_b.c-d", "A1", "on", "off", "x" * 200])
def test_wellformed_ids(ident: str) -> None:
    assert id_wellformed(ident)


@pytest.mark.parametrize("ident", ["", "1x", "_a", "-a", ".a", "a b", "a,b", "é", "aé", "a/b"])
def test_malformed_ids(ident: str) -> None:
    assert not id_wellformed(ident)
