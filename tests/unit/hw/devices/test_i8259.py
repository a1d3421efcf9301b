"""The 8259 PIC pair, driven through its ports on a real I/O space.

Expected values come from QEMU 7.2 (``-M pc -accel tcg -nodefaults -S``
with a BIOS that only halts; ports through HMP ``o`` / ``i``, IRQ 1 and 12
raised by the i8042's 0xD2 / 0xD3 commands and lowered by reading port
0x60, state from ``info pic``), the rest from QEMU's ``hw/intc/i8259.c``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pyqemu.hw.core.irq import Irq
from pyqemu.hw.core.qdev_monitor import device_help_text, qdev_device_add
from pyqemu.hw.core.qtree import qdev_print
from pyqemu.hw.intc.i8259 import (
    I8259,
    PicCore,
    i8259_init,
    isa_pic,
    pic_get_output,
    pic_read_irq,
)
from pyqemu.util.errors import ConfigError

from .conftest import Board

REFERENCE = Path(__file__).parents[1] / "boards" / "data" / "pc-qtree.txt"
KBD, MOUSE = 1, 12


def reference_blocks(typename: str) -> list[list[str]]:
    """The ``dev: TYPE`` blocks of QEMU's ``info qtree`` for ``-M pc``, with their indentation."""
    lines = REFERENCE.read_text().splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if line.lstrip().startswith(f"dev: {typename},"):
            indent = len(line) - len(line.lstrip())
            block = [line]
            for following in lines[index + 1:]:
                if len(following) - len(following.lstrip()) <= indent:
                    break
                block.append(following)
            blocks.append(block)
    return blocks


class Pics:
    """The PC pair on a board: ISA lines, the CPU's INTR, port helpers."""

    def __init__(self, board: Board) -> None:
        self.board = board
        self.intr: list[int] = []
        self.lines = i8259_init(board.isa, Irq.new(lambda _n, level: self.intr.append(level)))
        pic = isa_pic(board.machine)
        assert pic is not None
        self.master = pic
        self.slave = board.isa.devices[0]

    def irq(self, n: int, level: int) -> None:
        self.lines[n].set(level)

    def out(self, port: int, *values: int) -> None:
        for value in values:
            self.board.outb(port, value)

    def inb(self, port: int) -> int:
        return self.board.inb(port)

    def init_pc(self, master_base: int = 0x08, slave_base: int = 0x70, icw4: int = 0x01) -> None:
        """The BIOS's init sequence: edge, cascade, 8086 mode."""
        self.out(0x20, 0x11)
        self.out(0x21, master_base, 0x04, icw4)
        self.out(0xA0, 0x11)
        self.out(0xA1, slave_base, 0x02, icw4)

    def info(self) -> str:
        return self.slave.print_info() + self.master.print_info()

    def ack(self) -> int:
        return pic_read_irq(self.master)


@pytest.fixture
def pics(board: Board) -> Pics:
    return Pics(board)


# -- the device ---------------------------------------------------------------------


def test_help_and_not_user_creatable(board: Board) -> None:
    assert device_help_text("isa-i8259,help") == (
        "isa-i8259 options:\n"
        "  elcr_addr=<uint32>     -  (default: 4294967295)\n"
        "  elcr_mask=<uint8>      -  (default: 255)\n"
        "  iobase=<uint32>        -  (default: 4294967295)\n"
        "  master=<bool>          - on/off (default: false)\n"
    )
    with pytest.raises(ConfigError, match=r"^Parameter 'driver' expects a pluggable device type$"):
        qdev_device_add(board.machine, {"driver": "isa-i8259"})


def test_qtree_equals_qemu(pics: Pics) -> None:
    blocks = reference_blocks("isa-i8259")
    indent = len(blocks[0][0]) - len(blocks[0][0].lstrip())
    assert [qdev_print(dev, indent) for dev in pics.board.isa.devices] == blocks  # slave, then master


def test_qom_children_and_order(pics: Pics) -> None:
    master, slave = pics.master, pics.slave
    first = int(master.canonical_path().rsplit("[", 1)[1].rstrip("]"))
    assert master.canonical_path() == f"/machine/unattached/device[{first}]"
    assert slave.canonical_path() == f"/machine/unattached/device[{first + 1}]"  # the master comes first
    assert sorted((p.name, p.type) for p in master.iter_properties()) == sorted([
        ("type", "string"), ("parent_bus", "link<bus>"), ("realized", "bool"), ("hotplugged", "bool"),
        ("hotpluggable", "bool"), ("master", "bool"), ("elcr_mask", "uint8"), ("elcr_addr", "uint32"),
        ("iobase", "uint32"), ("elcr[0]", "child<memory-region>"), ("pic[0]", "child<memory-region>"),
        ("unnamed-gpio-out[0]", "link<irq>"),
        *((f"unnamed-gpio-in[{n}]", "child<irq>") for n in range(8)),
    ])
    assert master.child("pic[0]").property_get("size") == 2
    assert master.child("elcr[0]").property_get("size") == 1
    assert slave.property_get("unnamed-gpio-out[0]") == master.canonical_path() + "/unnamed-gpio-in[2]"
    assert pics.lines[:8] == [master.child(f"unnamed-gpio-in[{n}]") for n in range(8)]
    assert pics.lines[8:] == [slave.child(f"unnamed-gpio-in[{n}]") for n in range(8)]
    assert type(master).__mro__[1].TYPE == "pic-common"
    assert master.is_a("intctrl")


def test_ports_after_reset_and_elcr_masks(pics: Pics) -> None:
    assert [pics.inb(port) for port in (0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1)] == [0] * 6
    pics.out(0x4D0, 0xFF)
    pics.out(0x4D1, 0xFF)
    assert (pics.inb(0x4D0), pics.inb(0x4D1)) == (0xF8, 0xDE)
    pics.out(0x21, 0x5A)
    assert pics.board.inb(0x20, 2) == 0x5A00  # a word read: IRR, then IMR
    pics.board.outb(0x20, 0x7711, 2)  # a word write: ICW1 0x11, then ICW2 0x77
    assert "irq_base=70" in pics.master.print_info()
    assert pics.info() == (
        "pic1: irr=00 imr=00 isr=00 hprio=0 irq_base=00 rr_sel=0 elcr=de fnm=0\n"
        "pic0: irr=00 imr=00 isr=00 hprio=0 irq_base=70 rr_sel=0 elcr=f8 fnm=0\n"
    )


def test_qemu_session_poll_cascade_and_level(pics: Pics) -> None:
    """The session run on QEMU 7.2, step by step."""
    pics.init_pc()
    assert pics.info() == (
        "pic1: irr=00 imr=00 isr=00 hprio=0 irq_base=70 rr_sel=0 elcr=00 fnm=0\n"
        "pic0: irr=00 imr=00 isr=00 hprio=0 irq_base=08 rr_sel=0 elcr=00 fnm=0\n"
    )
    pics.irq(KBD, 1)
    assert pics.inb(0x20) == 0x02
    pics.out(0x20, 0x0B)  # read ISR
    assert [pics.inb(0x20), pics.inb(0x20)] == [0x00, 0x00]
    pics.out(0x20, 0x0C)  # poll
    assert [pics.inb(0x20), pics.inb(0x20)] == [0x81, 0x02]  # then ISR again
    pics.out(0x20, 0x0A)
    assert pics.inb(0x20) == 0x00
    pics.out(0x20, 0x0C)
    assert pics.inb(0x20) == 0x00  # nothing to poll
    pics.out(0x20, 0x20, 0x0B)  # EOI
    assert pics.inb(0x20) == 0x00
    pics.irq(KBD, 0)
    pics.irq(MOUSE, 1)
    assert pics.info() == (
        "pic1: irr=10 imr=00 isr=00 hprio=0 irq_base=70 rr_sel=0 elcr=00 fnm=0\n"
        "pic0: irr=04 imr=00 isr=00 hprio=0 irq_base=08 rr_sel=1 elcr=00 fnm=0\n"
    )
    pics.out(0x20, 0x0C)
    assert pics.inb(0x20) == 0x82  # a poll of the master does not reach the slave
    pics.out(0xA0, 0x0C)
    assert pics.inb(0xA0) == 0x84
    expected = (
        "pic1: irr=00 imr=00 isr=10 hprio=0 irq_base=70 rr_sel=0 elcr=00 fnm=0\n"
        "pic0: irr=00 imr=00 isr=04 hprio=0 irq_base=08 rr_sel=1 elcr=00 fnm=0\n"
    )
    assert pics.info() == expected
    pics.irq(MOUSE, 0)
    assert pics.info() == expected
    pics.out(0x4D1, 0x10)  # IRQ 12 level-triggered
    pics.out(0x20, 0x20)
    pics.out(0xA0, 0x20)
    pics.irq(MOUSE, 1)
    assert pics.info() == (
        "pic1: irr=10 imr=00 isr=00 hprio=0 irq_base=70 rr_sel=0 elcr=10 fnm=0\n"
        "pic0: irr=04 imr=00 isr=00 hprio=0 irq_base=08 rr_sel=1 elcr=00 fnm=0\n"
    )
    pics.out(0xA0, 0x0C)
    assert pics.inb(0xA0) == 0x84
    assert pics.info().startswith("pic1: irr=10 imr=00 isr=10 ")  # a level request stays
    pics.out(0xA0, 0x64)  # specific EOI 4
    assert pics.info().startswith("pic1: irr=10 imr=00 isr=00 ")
    pics.irq(MOUSE, 0)
    assert pics.info() == (
        "pic1: irr=00 imr=00 isr=00 hprio=0 irq_base=70 rr_sel=0 elcr=10 fnm=0\n"
        "pic0: irr=04 imr=00 isr=00 hprio=0 irq_base=08 rr_sel=1 elcr=00 fnm=0\n"
    )


# -- the CPU side --------------------------------------------------------------------


def test_intack_cascade_and_output(pics: Pics) -> None:
    pics.init_pc()
    assert pics.intr[-1] == 0 and pic_get_output(pics.master) == 0
    pics.irq(MOUSE, 1)
    assert pics.intr[-1] == 1 and pic_get_output(pics.master) == 1
    assert pics.ack() == 0x74
    assert pics.intr[-1] == 0  # both in service
    assert (pics.master.core.isr, pics.slave.core.isr) == (0x04, 0x10)
    pics.irq(MOUSE, 0)
    pics.out(0xA0, 0x20)
    pics.out(0x20, 0x20)
    assert (pics.master.core.isr, pics.slave.core.isr) == (0, 0)
    pics.irq(3, 1)
    assert pics.ack() == 0x0B
    assert pics.ack() == 0x0F  # nothing left: the master's spurious IRQ 7, not put in service
    assert pics.master.core.isr == 0x08


def test_spurious_on_the_slave(pics: Pics) -> None:
    pics.init_pc()
    pics.irq(2, 1)  # the slave's INT line, with no request on the slave
    assert pics.ack() == 0x77
    assert (pics.master.core.isr, pics.slave.core.isr) == (0x04, 0)


def test_priorities_and_nesting(pics: Pics) -> None:
    pics.init_pc()
    pics.irq(5, 1)
    pics.irq(3, 1)
    assert pics.ack() == 0x0B
    assert pics.intr[-1] == 0  # IRQ 5 waits while 3 is in service
    pics.irq(1, 1)
    assert pics.intr[-1] == 1  # a higher priority nests
    assert pics.ack() == 0x09
    pics.out(0x20, 0x20)  # non-specific EOI ends the highest in service: 1
    assert pics.master.core.isr == 0x08
    pics.out(0x20, 0x20)
    assert pics.ack() == 0x0D


def test_imr_masks_lines(pics: Pics) -> None:
    pics.init_pc()
    pics.out(0x21, 0xFD)
    pics.irq(3, 1)
    assert (pics.intr[-1], pics.inb(0x20), pics.inb(0x21)) == (0, 0x08, 0xFD)
    pics.out(0x21, 0x00)
    assert pics.intr[-1] == 1


def test_rotation_commands(pics: Pics) -> None:
    pics.init_pc()
    pics.out(0x20, 0xC4)  # set priority: IRQ 4 lowest, so 5 is highest
    pics.irq(3, 1)
    pics.irq(6, 1)
    assert pics.ack() == 0x0E
    pics.out(0x20, 0xA0)  # rotate on non-specific EOI: 6 becomes lowest
    assert pics.master.core.priority_add == 7
    assert pics.ack() == 0x0B
    pics.out(0x20, 0xE3)  # rotate on specific EOI 3
    assert (pics.master.core.isr, pics.master.core.priority_add) == (0, 4)
    pics.out(0x20, 0x40)  # OCW2 command 2: no operation
    assert pics.master.core.priority_add == 4


def test_auto_eoi_and_rotate_in_auto_eoi(pics: Pics) -> None:
    pics.init_pc(icw4=0x03)
    pics.irq(3, 1)
    assert pics.ack() == 0x0B
    assert pics.master.core.isr == 0
    pics.out(0x20, 0x80)  # rotate in auto-EOI mode
    pics.irq(4, 1)
    assert pics.ack() == 0x0C
    assert pics.master.core.priority_add == 5
    pics.out(0x20, 0x00)
    pics.irq(4, 0)
    pics.irq(4, 1)
    pics.ack()
    assert pics.master.core.priority_add == 5


def test_special_mask_mode(pics: Pics) -> None:
    pics.init_pc()
    pics.irq(1, 1)
    assert pics.ack() == 0x09
    pics.out(0x21, 0x02)
    pics.irq(3, 1)
    assert pics.intr[-1] == 0
    pics.out(0x20, 0x68)  # special mask on: a masked line in service no longer blocks
    # QEMU does not re-evaluate INT on an OCW3 write: the pin follows at the next change.
    assert (pics.intr[-1], pic_get_output(pics.master)) == (0, 1)
    assert pics.ack() == 0x0B
    pics.out(0x20, 0x48)
    assert pics.master.core.special_mask == 0


def test_special_fully_nested_mode(pics: Pics) -> None:
    pics.init_pc(icw4=0x11)
    pics.irq(14, 1)
    assert pics.ack() == 0x76
    pics.irq(MOUSE, 1)  # a higher slave line gets through the master's line 2 in service
    assert pics.ack() == 0x74
    assert pics.master.core.special_fully_nested_mode == 1


def test_edge_needs_a_new_rising_edge(pics: Pics) -> None:
    pics.init_pc()
    pics.irq(3, 1)
    assert pics.ack() == 0x0B
    pics.out(0x20, 0x20)
    pics.irq(3, 1)
    assert pics.inb(0x20) == 0  # still high: no new request
    pics.irq(3, 0)
    pics.irq(3, 1)
    assert pics.inb(0x20) == 0x08


def test_icw_variants(pics: Pics) -> None:
    pics.out(0x20, 0x13)  # single chip, ICW4 follows: ICW2, ICW4
    pics.out(0x21, 0x0F, 0x02)
    assert pics.master.core.irq_base == 0x08 and pics.master.core.auto_eoi == 1
    pics.out(0x21, 0x55)
    assert pics.inb(0x21) == 0x55
    pics.out(0x20, 0x10)  # cascaded, no ICW4: ICW2, ICW3
    pics.out(0x21, 0x20, 0x04)
    assert pics.master.core.auto_eoi == 0
    pics.out(0x21, 0x33)
    assert pics.inb(0x21) == 0x33
    pics.out(0x20, 0x12)  # single, no ICW4: ICW2 only
    pics.out(0x21, 0x40, 0x66)
    assert (pics.master.core.irq_base, pics.inb(0x21)) == (0x40, 0x66)


def test_icw1_keeps_level_requests_and_reset_clears_all(pics: Pics) -> None:
    pics.init_pc()
    pics.out(0x4D0, 0x08)
    pics.irq(3, 1)
    pics.irq(1, 1)
    pics.out(0x20, 0x11)
    assert pics.inb(0x20) == 0x08
    pics.out(0x21, 0x08, 0x04, 0x01)
    assert pics.intr[-1] == 1
    pics.master.reset()
    assert pics.inb(0x20) == 0 and pics.inb(0x4D0) == 0 and pics.intr[-1] == 0


def test_statistics(pics: Pics) -> None:
    for line in (0, 0, 12):
        pics.irq(line, 1)
        pics.irq(line, 0)
    pics.irq(1, 1)
    pics.irq(1, 1)
    counts = pics.master.get_statistics()
    assert counts is not None and (counts[0], counts[1], counts[12]) == (2, 1, 1)
    assert pics.slave.get_statistics() is None


def test_core_alone() -> None:
    levels: list[int] = []
    pic = PicCore(levels.append, master=True, elcr_mask=0xF8)
    pic.write(0, 0x13)
    pic.write(1, 0x20)
    pic.write(1, 0x01)
    pic.set_irq(6, 1)
    assert (levels[-1], pic.read_irq(), levels[-1]) == (1, 0x26, 0)
    pic.elcr_write(0, 0xFF)
    assert pic.elcr_read(0) == 0xF8


def test_isa_pic_is_the_master(pics: Pics) -> None:
    assert isinstance(pics.master, I8259) and pics.master.property_get("master") is True
    assert isa_pic(None) is None
