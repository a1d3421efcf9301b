"""The debug exit port: exit statuses checked against QEMU 7.2's process exit codes."""

from __future__ import annotations

import pytest

from pyqemu.hw.misc.debugexit import DEFAULT_IOBASE, DEFAULT_IOSIZE, DebugExitCore

from .conftest import Board


def test_defaults() -> None:
    assert (DEFAULT_IOBASE, DEFAULT_IOSIZE) == (0x501, 2)


@pytest.mark.parametrize(
    ("value", "status", "exit_code"),
    [(0x00, 1, 1), (0x03, 7, 7), (0x80, 0x101, 1), (0x1234, 0x2469, 105)],
)
def test_write_requests_exit(value: int, status: int, exit_code: int) -> None:
    statuses: list[int] = []
    port = DebugExitCore(statuses.append)
    port.write(0, value, 2)
    assert statuses == [status]
    assert status & 0xFF == exit_code  # what QEMU's process exited with


def test_reads_are_zero() -> None:
    port = DebugExitCore(lambda status: None)
    assert (port.read(0, 1), port.read(1, 1), port.read(0, 2)) == (0, 0, 0)


def test_device_port(board: Board) -> None:
    dev = board.create("isa-debug-exit")
    assert (dev.property_get("iobase"), dev.property_get("iosize")) == (0x501, 2)
    assert dev.child("isa-debug-exit[0]").property_get("size") == 2
    assert board.inb(0x501) == 0
    board.outb(0x502, 0x03)
    board.outb(0x501, 0x1234, 2)
    assert board.host.exits == [7, 0x2469]
    assert type(dev).CATEGORY == "Misc devices"


def test_device_elsewhere(board: Board) -> None:
    board.create("isa-debug-exit", iobase=0xF4, iosize=4)
    board.outb(0xF4, 0x10, 4)
    assert board.host.exits == [0x21]
