"""System control port A (0x92), checked against QEMU 7.2.

With ``-M pc -accel tcg -nodefaults -S``, HMP ``i /b 0x92`` reads 0x00;
``o /b 0x92 0xff`` resets the machine (a RESET event, reason guest-reset),
after which the port reads 0xfe and a 4-byte read 0xfefefefe; writing 0x02
reads back 0x02.  ``a20[0]`` of port92 and of i8042 are linked to
``/machine/unattached/non-qdev-gpio[26]`` and ``[25]``.
"""

from __future__ import annotations

import textwrap

import pytest

from pyqemu.hw.core.qdev_monitor import device_help_text
from pyqemu.hw.core.qtree import qtree_info
from pyqemu.hw.i386.port92 import Port92Core, Port92State, connect_a20_lines, port92_init
from pyqemu.memory.mtree import mtree_info

from ..boards.conftest import DATA
from ..boards.test_boards import _device_block
from .conftest import Board


def qtree_blocks(board: Board, device: str) -> tuple[str, str]:
    """The device's ``info qtree`` block in pyqemu and in QEMU's ``pc`` reference, indentation removed."""
    reference = (DATA / "pc-qtree.txt").read_text()
    ours, qemu = (_device_block(text, device) for text in (qtree_info(board.machine), reference))
    return textwrap.dedent("\n".join(ours)), textwrap.dedent("\n".join(qemu))


class Recorder:
    def __init__(self) -> None:
        self.a20: list[int] = []
        self.resets = 0
        self.core = Port92Core(self.a20.append, self.reset)

    def reset(self) -> None:
        self.resets += 1


def test_a20_follows_bit_1() -> None:
    port = Recorder()
    assert port.core.read() == 0
    port.core.write(0, 0x02)
    port.core.write(0, 0x00)
    assert (port.a20, port.resets, port.core.read()) == ([1, 0], 0, 0)


def test_fast_reset_on_a_rising_bit_0() -> None:
    port = Recorder()
    port.core.write(0, 0x03)
    port.core.write(0, 0x03)  # still set: no second reset
    assert port.resets == 1
    port.core.write(0, 0x02)
    port.core.write(0, 0x01)
    assert (port.resets, port.a20) == (2, [1, 1, 1, 0])


def test_reset_clears_only_bit_0() -> None:
    port = Recorder()
    port.core.write(0, 0xFF)
    port.core.reset()
    assert port.core.read() == 0xFE


@pytest.fixture
def port92(board: Board) -> Port92State:
    return port92_init(board.isa)


def test_device_port_and_reset(board: Board, port92: Port92State) -> None:
    assert board.inb(0x92) == 0x00
    board.outb(0x92, 0xFF)
    assert board.host.resets == 1
    port92.reset()  # what the machine reset does
    assert (board.inb(0x92), board.inb(0x92, 4)) == (0xFE, 0xFEFEFEFE)
    board.outb(0x92, 0x02)
    assert (board.inb(0x92), board.host.resets) == (0x02, 1)


def test_region_and_qtree_as_qemu(board: Board, port92: Port92State) -> None:
    lines = mtree_info(board.memory).splitlines()
    assert "    0000000000000092-0000000000000092 (prio 0, i/o): port92" in lines
    assert port92.child("port92[0]").property_get("size") == 1  # type: ignore[union-attr]
    ours, qemu = qtree_blocks(board, "port92")
    assert ours == qemu == 'dev: port92, id ""\n  gpio-out "a20" 1'
    assert not Port92State.USER_CREATABLE
    assert device_help_text("port92") == (
        "port92 options:\n  a20[0]=<link<irq>>\n  port92[0]=<child<memory-region>>\n"
    )


def test_a20_lines_reach_the_cpu(board: Board, port92: Port92State) -> None:
    i8042 = board.create("i8042")
    levels: list[int] = []
    lines = connect_a20_lines(i8042, port92, levels.append)
    assert [i8042.property_get("a20[0]"), port92.property_get("a20[0]")] == [
        line.canonical_path() for line in lines]
    first = int(lines[0].canonical_path().rsplit("[", 1)[1][:-1])
    assert lines[1].canonical_path() == f"/machine/unattached/non-qdev-gpio[{first + 1}]"
    board.outb(0x92, 0x02)
    board.outb(0x64, 0xDD)  # i8042: disable A20
    board.outb(0x92, 0x00)
    assert levels == [1, 0, 0]
