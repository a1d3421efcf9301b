"""The I/O APIC, driven through its MMIO window, its MSI writes caught at 0xfee00000.

Register values were checked against QEMU 7.2 (``-M pc -accel tcg
-nodefaults`` with a small BIOS that does the same MMIO accesses in 32-bit
protected mode, raising IRQ 1 / 12 with the i8042, then HMP ``xp``,
``info pic`` and ``info lapic``: the vectors landed in the local APIC's
IRR); MSI formats and the EOI storm limit follow QEMU's ``hw/intc/ioapic.c``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from pyqemu.hw.core.irq import Irq, qdev_get_gpio_in
from pyqemu.hw.core.qdev_monitor import device_help_text, qdev_device_add
from pyqemu.hw.core.qtree import qdev_print
from pyqemu.hw.intc import ioapic as ioapic_module
from pyqemu.memory.region import MemoryRegion, MemoryRegionOps
from pyqemu.util.errors import ConfigError, DeviceError

from .conftest import Board
from .test_i8259 import reference_blocks

BASE = 0xFEC00000
SEL, WIN, EOI = BASE, BASE + 0x10, BASE + 0x40
MSI_BASE = 0xFEE00000
MASKED = 0x10000
LEVEL = 0x8000
REMOTE_IRR = 0x4000
RESET_INFO = (
    "ioapic0: ver=0x20 id=0x00 sel=0x00\n"
    + "".join(f"  pin {pin:<2} 0x0000000000010000 dest=0 vec=0   active-hi edge  masked fixed  physical\n"
              for pin in range(24))
    + "  IRR      (none)\n  Remote IRR (none)\n"
)


@pytest.fixture
def ioapic() -> ModuleType:
    """The module under test (some tests reach its functions and constants through it)."""
    return ioapic_module


class Msi:
    """A recording region at 0xfee00000, where the local APICs take MSI writes."""

    def __init__(self, board: Board) -> None:
        self.writes: list[tuple[int, int, int]] = []
        ops = MemoryRegionOps(read=lambda _a, _s: 0, write=lambda a, v, s: self.writes.append((a, v, s)))
        region = MemoryRegion.new_io(None, ops, "test-msi", 0x100000, parent=board.machine.unattached())
        board.memory.system_memory.add_subregion(MSI_BASE, region)

    def take(self) -> list[tuple[int, int]]:
        """The messages since the last call, as (address, data); each was one 32-bit write."""
        assert all(size == 4 for _a, _v, size in self.writes)
        taken = [(MSI_BASE + addr, value) for addr, value, _size in self.writes]
        self.writes.clear()
        return taken


class Apic:
    """An ``ioapic`` at 0xfec00000 on a board, with MMIO helpers."""

    def __init__(self, board: Board, module: ModuleType, **props: Any) -> None:
        self.board = board
        self.module = module
        self.space = board.memory.address_space_memory
        self.msi = Msi(board)
        board.machine.global_props.extend(("ioapic", name, str(value)) for name, value in props.items())
        self.dev = module.ioapic_init_gsi(board.machine, board.machine)

    def read(self, addr: int, size: int = 4) -> int:
        return self.space.read(addr, size)

    def write(self, addr: int, value: int, size: int = 4) -> None:
        self.space.write(addr, value, size)

    def reg(self, index: int, value: int | None = None) -> int:
        """Select register ``index``; write ``value`` to it if given; read it back."""
        self.write(SEL, index)
        if value is not None:
            self.write(WIN, value)
        return self.read(WIN)

    def entry(self, pin: int, low: int, high: int = 0) -> None:
        self.reg(0x11 + 2 * pin, high)
        self.reg(0x10 + 2 * pin, low)

    def pin(self, n: int, level: int) -> None:
        qdev_get_gpio_in(self.dev, n).set(level)


@pytest.fixture
def apic(board: Board, ioapic: ModuleType) -> Apic:
    return Apic(board, ioapic)


# -- the device ---------------------------------------------------------------------


def test_help_qtree_and_qom(apic: Apic) -> None:
    assert device_help_text("ioapic,help") == "ioapic options:\n  version=<uint8>        -  (default: 32)\n"
    (block,) = reference_blocks("ioapic")
    assert qdev_print(apic.dev, 2) == block
    dev = apic.dev
    assert dev.canonical_path() == "/machine/ioapic"
    assert sorted((p.name, p.type) for p in dev.iter_properties()) == sorted([
        ("type", "string"), ("parent_bus", "link<bus>"), ("realized", "bool"), ("hotplugged", "bool"),
        ("hotpluggable", "bool"), ("version", "uint8"), ("ioapic[0]", "child<memory-region>"),
        *((f"unnamed-gpio-in[{n}]", "child<irq>") for n in range(24)),
    ])
    assert dev.child("ioapic[0]").property_get("size") == 0x1000
    assert type(dev).__mro__[1].TYPE == "ioapic-common" and dev.is_a("intctrl")
    with pytest.raises(ConfigError, match=r"^Parameter 'driver' expects a pluggable device type$"):
        qdev_device_add(apic.board.machine, {"driver": "ioapic"})


def test_versions(board: Board, ioapic: ModuleType) -> None:
    board.machine.global_props.append(("ioapic", "version", "0x12"))
    with pytest.raises(DeviceError) as err:
        ioapic.ioapic_init_gsi(board.machine, board.machine)
    assert err.value.desc == "IOAPIC only supports version 0x11 or 0x20 (default: 0x20)."
    assert board.machine.child("ioapic") is None
    board.machine.global_props[-1] = ("ioapic", "version", "0x11")
    dev = ioapic.ioapic_init_gsi(board.machine, board.machine)
    assert dev.property_get("version") == 0x11
    assert board.memory.address_space_memory.read(SEL + 0x10, 4) == 0  # ID
    board.memory.address_space_memory.write(SEL, 1, 4)
    assert board.memory.address_space_memory.read(WIN, 4) == 0x00170011


def test_at_most_two(board: Board, ioapic: ModuleType) -> None:
    ioapic.ioapic_init_gsi(board.machine, board.machine)
    second = ioapic.ioapic_init_secondary(board.machine)
    assert second.mmio[0].addr == 0xFEC10000 and second.canonical_path().startswith("/machine/unattached/")
    with pytest.raises(DeviceError, match=r"^Only 2 ioapics allowed$"):
        ioapic.ioapic_create(board.machine, 0xFEC20000)
    assert ioapic.machine_ioapics(board.machine) == [board.machine.child("ioapic"), second]


# -- registers (the QEMU session) ------------------------------------------------------------


def test_registers_as_qemu(apic: Apic) -> None:
    assert apic.dev.print_info() == RESET_INFO
    assert apic.reg(0x01) == 0x00170020  # version 0x20, 24 entries
    assert apic.reg(0x00, 0xFFFFFFFF) == 0x0F000000
    assert apic.reg(0x02) == 0x0F000000  # ARB reads as the ID
    assert apic.read(SEL) == 0x02
    assert apic.read(WIN, 2) == 0  # IOWIN answers 32-bit accesses only
    assert apic.reg(0x10, 0xFFFFFFFF) == 0xFFFFAFFF  # Remote IRR and delivery status are read-only
    assert apic.reg(0x11, 0x12345678) == 0x12345678
    apic.write(SEL, 0x13, 1)
    assert (apic.read(SEL), apic.read(SEL + 0x100)) == (0x13, 0x13)  # the window repeats every 256 bytes
    assert apic.read(WIN) == 0
    assert apic.reg(0x12) == MASKED
    assert apic.reg(0x40) == 0  # beyond entry 23
    apic.write(SEL, 0x1FF)
    assert apic.read(SEL) == 0xFF
    apic.write(WIN, 0x5555, 2)
    apic.write(WIN + 4, 0x5555)  # nothing else in the window
    assert apic.reg(0x00) == 0x0F000000


def test_level_pin_remote_irr_and_eoi_register(apic: Apic) -> None:
    apic.entry(1, LEVEL | 0x31)
    apic.pin(1, 1)
    assert apic.reg(0x12) == LEVEL | REMOTE_IRR | 0x31
    assert apic.msi.take() == [(0xFEE00000, 0x8031)]
    apic.pin(1, 1)
    assert apic.msi.take() == []  # Remote IRR: the local APIC still has it
    apic.write(EOI, 0x31)  # line still high: sent again
    assert apic.msi.take() == [(0xFEE00000, 0x8031)]
    assert apic.reg(0x12) == LEVEL | REMOTE_IRR | 0x31
    apic.write(EOI, 0x32)
    apic.write(EOI, 0x31, 2)  # 32-bit only
    assert apic.reg(0x12) == LEVEL | REMOTE_IRR | 0x31
    apic.pin(1, 0)
    apic.write(EOI, 0x31)
    assert apic.reg(0x12) == LEVEL | 0x31
    assert apic.msi.take() == []


def test_edge_pin_and_masking(apic: Apic) -> None:
    apic.pin(12, 1)  # masked at reset: an edge is lost
    apic.pin(12, 0)
    apic.entry(12, 0x3C)
    assert apic.msi.take() == []
    apic.pin(12, 1)
    assert apic.reg(0x28) == 0x3C
    apic.pin(12, 1)  # each raise is a new edge
    apic.pin(12, 0)
    assert apic.msi.take() == [(0xFEE00000, 0x3C)] * 2
    apic.write(EOI, 0x3C)
    assert apic.reg(0x28) == 0x3C


def test_masked_level_waits_and_edge_mode_clears_remote_irr(apic: Apic) -> None:
    apic.entry(1, MASKED | LEVEL | 0x31)
    apic.pin(1, 1)
    assert apic.reg(0x12) == MASKED | LEVEL | 0x31
    assert apic.msi.take() == []
    assert apic.reg(0x12, LEVEL | 0x31) == LEVEL | REMOTE_IRR | 0x31  # unmasked: sent
    assert apic.msi.take() == [(0xFEE00000, 0x8031)]
    assert apic.reg(0x12, 0x31) == 0x31  # edge mode has no Remote IRR (Linux's EOI trick) ...
    assert apic.msi.take() == [(0xFEE00000, 0x31)]  # ... and the pending request goes out as an edge
    apic.reg(0x12, LEVEL | 0x31)
    assert apic.msi.take() == []  # consumed: the line must rise again


def test_msi_message_fields(apic: Apic) -> None:
    # logical, lowest priority, active low; destination 0x12, bits 48-55 0xab (passed on)
    apic.entry(5, 0x0000_2945, 0x12AB_0000)
    apic.entry(6, 0x0000_0402 | LEVEL, 0x0300_0000)  # NMI, level, physical dest 3
    apic.pin(5, 1)
    apic.pin(6, 1)
    assert apic.msi.take() == [(0xFEE12AB4, 0x0145), (0xFEE03000, 0x8402)]


def test_input_0_is_pin_2(apic: Apic) -> None:
    apic.entry(0, 0x20)
    apic.entry(2, 0x22)
    apic.pin(0, 1)
    apic.pin(2, 1)
    assert apic.msi.take() == [(0xFEE00000, 0x22)] * 2
    assert apic.dev.get_statistics()[:3] == [1, 0, 1]


def test_extint_acknowledges_the_pic(apic: Apic) -> None:
    from pyqemu.hw.intc.i8259 import i8259_init

    lines = i8259_init(apic.board.isa, Irq.new(None))
    for port, value in ((0x20, 0x11), (0x21, 0x08), (0x21, 0x04), (0x21, 0x01)):
        apic.board.outb(port, value)
    lines[4].set(1)
    apic.entry(2, 0x700)  # ExtINT on pin 2, where input 0 arrives
    apic.pin(0, 1)
    assert apic.msi.take() == [(0xFEE00000, 0x070C)]
    assert apic.board.inb(0x20) == 0  # acknowledged: IRR clear
    apic.board.outb(0x20, 0x0B)
    assert apic.board.inb(0x20) == 0x10
    apic.board.outb(0x20, 0x20)
    lines[5].set(1)
    apic.entry(3, MASKED | LEVEL | 0x700)
    apic.pin(3, 1)  # masked, yet QEMU parses the entry and so acknowledges the 8259
    assert apic.msi.take() == []
    assert apic.board.inb(0x20) == 0x20


def test_eoi_broadcast_reaches_every_ioapic(board: Board, ioapic: ModuleType) -> None:
    board.machine.global_props.append(("ioapic", "version", "0x11"))
    apic = Apic(board, ioapic)
    second = ioapic.ioapic_init_secondary(board.machine)
    apic.entry(3, LEVEL | 0x40)
    apic.pin(3, 1)
    board.memory.address_space_memory.write(0xFEC10000, 0x1E, 4)
    board.memory.address_space_memory.write(0xFEC10010, LEVEL | 0x40, 4)
    qdev_get_gpio_in(second, 7).set(1)
    assert apic.msi.take() == [(0xFEE00000, 0x8040)] * 2
    apic.write(EOI, 0x40)  # version 0x11 has no EOI register
    assert apic.msi.take() == []
    ioapic.ioapic_eoi_broadcast(board.machine, 0x40)
    assert apic.msi.take() == [(0xFEE00000, 0x8040)] * 2
    second.eoi(0x40)
    assert apic.msi.take() == [(0xFEE00000, 0x8040)]


def test_eoi_storm_is_slowed_down(apic: Apic) -> None:
    limit = apic.module.SUCCESSIVE_IRQ_MAX_COUNT
    assert limit == 10000
    apic.entry(9, LEVEL | 0x59)
    apic.pin(9, 1)
    for _ in range(limit - 1):
        apic.module.ioapic_eoi_broadcast(apic.board.machine, 0x59)
    assert len(apic.msi.take()) == limit
    apic.module.ioapic_eoi_broadcast(apic.board.machine, 0x59)
    assert apic.msi.take() == []
    apic.board.host.step(10_000_000 - 1)
    assert apic.msi.take() == []
    apic.board.host.step(1)
    assert apic.msi.take() == [(0xFEE00000, 0x8059)]


def test_reset_and_info_pic(apic: Apic) -> None:
    apic.reg(0x00, 0x0F000000)
    apic.reg(0x10, 0xFFFFFFFF)
    apic.reg(0x11, 0x12345678)
    apic.entry(1, 0x31)
    apic.entry(12, 0x3C)
    apic.entry(4, LEVEL | 0x34)
    apic.entry(13, MASKED | LEVEL | 0x3D)
    apic.pin(4, 1)
    apic.pin(13, 1)
    apic.write(SEL, 0x12)
    lines = apic.dev.print_info().splitlines()
    assert lines[0] == "ioapic0: ver=0x20 id=0x0f sel=0x12 (redir[1])"
    assert lines[1] == "  pin 0  0x12345678ffffafff dest=12 vec=255 active-lo level masked extINT logical"
    assert lines[2] == "  pin 1  0x0000000000000031 dest=0 vec=49  active-hi edge         fixed  physical"
    assert lines[13] == "  pin 12 0x000000000000003c dest=0 vec=60  active-hi edge         fixed  physical"
    assert lines[-2:] == ["  IRR      4  13 ", "  Remote IRR 4  "]
    apic.write(SEL, 0x01)
    assert apic.dev.print_info().startswith("ioapic0: ver=0x20 id=0x0f sel=0x01 (redir[4294967288])\n")
    apic.dev.reset()
    assert apic.dev.print_info() == RESET_INFO
