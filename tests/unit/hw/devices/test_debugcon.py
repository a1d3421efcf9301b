"""The debug console port: checked against QEMU 7.2 (``-device isa-debugcon,readback=0x1234``)."""

from __future__ import annotations

import pytest

from pyqemu.hw.char.debugcon import DEFAULT_IOBASE, DEFAULT_READBACK, DebugconCore
from pyqemu.util.errors import DeviceError

from .conftest import Board


def test_defaults() -> None:
    assert (DEFAULT_IOBASE, DEFAULT_READBACK) == (0xE9, 0xE9)
    assert DebugconCore(bytearray().extend).read(0) == 0xE9


def test_writes_go_out_byte_by_byte() -> None:
    out = bytearray()
    con = DebugconCore(out.extend)
    con.write(0, 0x41)
    con.write(0, 0x4342, 2)  # only the port's own byte
    assert out == b"AB"


def test_readback_is_cut_to_the_access_size() -> None:
    con = DebugconCore(bytearray().extend, readback=0x1234)
    assert con.read(0, 1) == 0x34
    assert con.read(0, 2) == 0x1234


def test_device_needs_a_chardev(board: Board) -> None:
    with pytest.raises(DeviceError, match=r"^Can't create debugcon device, empty char device$"):
        board.create("isa-debugcon")


def test_device_port(board: Board) -> None:
    chr = board.ringbuf("c0")
    dev = board.create("isa-debugcon", chardev="c0", readback=0x1234)
    assert [dev.property_get(p) for p in ("iobase", "chardev", "readback")] == [0xE9, "c0", 0x1234]
    board.outb(0xE9, 0x41)
    board.outb(0xE9, 0x42)
    assert chr.ringbuf_read(8) == b"AB"
    assert board.inb(0xE9) == 0x34
    assert dev.child("isa-debugcon[0]").property_get("size") == 1
    assert type(dev).CATEGORY == "Misc devices"


def test_device_elsewhere(board: Board) -> None:
    chr = board.ringbuf("c0")
    board.create("isa-debugcon", chardev="c0", iobase=0x402)
    board.outb(0x402, 0x7A)
    assert chr.ringbuf_read(8) == b"z"
    assert board.inb(0x402) == 0xE9
