"""Integer property values given as text (``-device``, ``-global``, ``qom-set`` from the command line).

Expected results are what qemu-system-x86_64 7.2 did with
``-M pc -device isa-debugcon,iobase=TEXT`` (a uint32 property): accepted
(it went on to complain about the missing chardev) or refused with the
error shown.
"""

from __future__ import annotations

import pytest

from pyqemu.qom.property import INT, INT32, UINT8, UINT32, UINT64, parse_int_text
from pyqemu.util.errors import ConfigError


@pytest.mark.parametrize(("text", "value"), [
    ("1016", 1016), (" 0x3f8", 0x3F8), ("\t1016", 1016), ("+1016", 1016), ("01770", 1016),
])
def test_accepted_like_qemu(text: str, value: int) -> None:
    assert UINT32.from_str(text, "iobase") == value


@pytest.mark.parametrize(("text", "expects"), [
    ("0x3f8 ", "integer"), ("--1016", "integer"), ("+-1016", "integer"), ("1_016", "integer"),
    ("0x", "integer"), ("08", "integer"), ("", "integer"),
    ("18446744073709551616", "integer"), ("-18446744073709551616", "integer"),
    ("-1", "uint32_t"), ("4294967296", "uint32_t"),
])
def test_refused_like_qemu(text: str, expects: str) -> None:
    with pytest.raises(ConfigError) as info:
        UINT32.from_str(text, "iobase")
    assert info.value.desc == f"Parameter 'iobase' expects {expects}"


def test_widths_and_signs() -> None:
    assert INT32.from_str("-0x80000000", "x") == -(1 << 31)
    assert INT.from_str("-9223372036854775808", "x") == -(1 << 63)
    assert UINT64.from_str("0xffffffffffffffff", "x") == (1 << 64) - 1
    with pytest.raises(ConfigError, match=r"^Parameter 'x' expects uint8_t$"):
        UINT8.from_str("256", "x")


def test_parse_int_text_is_none_for_non_numbers() -> None:
    assert parse_int_text(" -010") == -8
    assert parse_int_text("99999999999999999999") == 99999999999999999999
    assert parse_int_text("--1") is None
    assert parse_int_text("1 ") is None


# ``-global`` goes through QEMU's string input visitor (``object_property_parse``): numbers are
# read as int64 / uint64 first (a minus sign wraps an unsigned one), then checked against the width.
# Expected texts: qemu-system-x86_64 7.2 ``-M q35 -global DRIVER.PROP=TEXT``.
@pytest.mark.parametrize(("kind", "text", "expects"), [
    (INT32, "9223372036854775808", "int64"), (INT32, "abc", "int64"), (INT32, "99999999999", "int32_t"),
    (UINT32, "abc", "uint64"), (UINT32, "0x", "uint64"), (UINT32, "-1", "uint32_t"),
    (UINT8, "300", "uint8_t"),
])
def test_string_visitor_refuses_like_qemu(kind, text: str, expects: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        kind.from_string_visitor(text, "p")
    assert info.value.desc == f"Parameter 'p' expects {expects}"


def test_string_visitor_wraps_negative_unsigned_values() -> None:
    assert UINT64.from_string_visitor("-2", "MCFG") == 2**64 - 2
    assert INT.from_string_visitor("-2", "x") == -2


def test_string_visitor_size_error_has_qemus_hint() -> None:
    from pyqemu.qom.property import SIZE

    with pytest.raises(ConfigError) as info:
        SIZE.from_string_visitor("abc", "pci-hole64-size")
    assert info.value.desc == "Parameter 'pci-hole64-size' expects a non-negative number below 2^64"
    assert info.value.hint is not None and info.value.hint.startswith("Optional suffix k, M, G")
