"""IDE without drives: the ATA register file and ``piix3-ide``, checked against QEMU 7.2.

Expected values were read from QEMU 7.2 (``-M pc -nodefaults``, TCG) by a
small guest that ran the same port and configuration accesses and stored
what it read; interrupts were watched in the slave PIC's IRR with ELCR set
to level-triggered for IRQ 14/15.
"""

from __future__ import annotations

import pytest

from pyqemu.hw.core.bus import device_reset_all
from pyqemu.hw.ide.commands import smart_data_page, smart_log_page, smart_thresholds_page
from pyqemu.hw.ide.core import (
    ABRT_ERR,
    BUSY_STAT,
    DRQ_STAT,
    ERR_STAT,
    READY_STAT,
    SEEK_STAT,
    IdeChannel,
)
from pyqemu.hw.ide.piix import PIIX3IDE, piix3_ide_init

from .conftest import Board, FakeIrq
from .ide_pci_board import PciBoard, qtree_block, reference_qtree_block, sparse

PIIX3_IDE_DEVFN = 1 << 3 | 1
PRIMARY, PRIMARY_CTL, SECONDARY, SECONDARY_CTL = 0x1F0, 0x3F6, 0x170, 0x376
BMDMA_BASE = 0xC000
IDENTIFY, SMART, DIAGNOSE = 0xEC, 0xB0, 0x90
SMART_FEATURES = {"read_data": 0xD0, "read_thresh": 0xD1, "exec_offline": 0xD4, "read_log": 0xD5,
                  "enable": 0xD8}

# -- the register file ---------------------------------------------------------------------


def channel(irq: FakeIrq | None = None, scheduled: list | None = None) -> IdeChannel:
    ch = IdeChannel(irq, scheduled.append if scheduled is not None else None)
    ch.reset()
    return ch


def test_empty_channel_reads_zero_everywhere() -> None:
    ch = channel()
    assert [ch.ioport_read(reg) for reg in range(8)] == [0] * 8
    assert (ch.status_read(), ch.data_read(2), ch.data_read(4)) == (0, 0, 0)
    ch.ioport_write(6, 0xB0)  # select the slave: still nothing
    assert [ch.ioport_read(reg) for reg in range(8)] == [0] * 8


def test_reset_state_is_the_no_device_signature() -> None:
    master = channel().devices[0]
    assert (master.status, master.error, master.select) == (READY_STAT | SEEK_STAT, 0, 0xA0)
    assert (master.nsector, master.sector, master.lcyl, master.hcyl) == (1, 1, 0xFF, 0xFF)


def test_command_to_master_aborts_and_interrupts() -> None:
    irq = FakeIrq()
    ch = channel(irq)
    ch.ioport_write(7, IDENTIFY)
    assert irq.levels == [0, 1]            # lowered by the command write, raised at completion
    master = ch.devices[0]
    assert (master.status, master.error) == (READY_STAT | ERR_STAT, ABRT_ERR)
    assert ch.ioport_read(7) == 0          # status reads 0 without a drive ...
    assert irq.levels[-1] == 0             # ... and lowers the line
    ch.ioport_write(7, 0x00)               # NOP: not in the disk set, aborts too
    assert irq.level == 1


def test_alternate_status_leaves_the_irq_alone() -> None:
    irq = FakeIrq()
    ch = channel(irq)
    ch.ioport_write(7, IDENTIFY)
    assert ch.status_read() == 0
    assert irq.level == 1


def test_commands_to_the_absent_slave_are_ignored() -> None:
    irq = FakeIrq()
    ch = channel(irq)
    ch.ioport_write(6, 0xB0)
    ch.ioport_write(7, IDENTIFY)
    assert irq.levels == [0]
    assert ch.devices[1].status == READY_STAT | SEEK_STAT


def test_nien_masks_the_interrupt() -> None:
    irq = FakeIrq()
    ch = channel(irq)
    ch.ctrl_write(0x02)
    ch.ioport_write(7, IDENTIFY)
    assert irq.levels == [0]
    ch.ctrl_write(0x00)                    # clearing nIEN does not raise a pending one
    assert irq.levels == [0]


def test_register_writes_reach_both_positions_and_keep_the_previous_byte() -> None:
    ch = channel()
    ch.ioport_write(2, 0x12)
    ch.ioport_write(2, 0x34)
    for dev in ch.devices:
        assert (dev.nsector, dev.hob_nsector) == (0x34, 0x12)
    ch.ioport_write(6, 0x1F)
    assert [dev.select for dev in ch.devices] == [0xBF, 0xBF] and ch.unit == 1


def test_software_reset_runs_later_and_interrupts() -> None:
    irq = FakeIrq()
    scheduled: list = []
    ch = channel(irq, scheduled)
    ch.ioport_write(3, 0x55)
    ch.ctrl_write(0x04)
    assert [dev.status & BUSY_STAT for dev in ch.devices] == [BUSY_STAT, BUSY_STAT]
    ch.ioport_write(7, IDENTIFY)           # ignored while busy
    ch.ioport_write(3, 0x66)               # ignored while busy
    assert irq.levels == [0]
    ch.ctrl_write(0x00)
    assert len(scheduled) == 1
    scheduled.pop()()
    assert irq.level == 1                  # the diagnostic's interrupt
    for dev in ch.devices:
        assert (dev.status, dev.error, dev.sector) == (READY_STAT | SEEK_STAT, 0x01, 1)
    assert ch.ctrl == 0


def smart(ch: IdeChannel, feature: str, sector: int = 0) -> None:
    ch.ioport_write(1, SMART_FEATURES[feature])
    ch.ioport_write(3, sector)
    ch.ioport_write(4, 0x4F)
    ch.ioport_write(5, 0xC2)
    ch.ioport_write(7, SMART)


def read_page(ch: IdeChannel, size: int = 2) -> bytes:
    return b"".join(ch.data_read(size).to_bytes(size, "little") for _ in range(512 // size))


#: Non-zero bytes of the SMART pages QEMU 7.2 returns on an empty master, after one short self-test.
QEMU_SMART_DATA = {
    0: 0x01, 2: 0x01, 3: 0x03, 5: 0x64, 6: 0x64, 14: 0x03, 15: 0x03, 17: 0x64, 18: 0x64, 19: 0x10,
    26: 0x04, 27: 0x02, 29: 0x64, 30: 0x64, 31: 0x64, 38: 0x05, 39: 0x03, 41: 0x64, 42: 0x64,
    50: 0x09, 51: 0x03, 53: 0x64, 54: 0x64, 55: 0x01, 62: 0x0C, 63: 0x03, 65: 0x64, 66: 0x64,
    74: 0xBE, 75: 0x03, 77: 0x45, 78: 0x45, 79: 0x1F, 81: 0x1F, 82: 0x1F, 362: 0x02, 364: 0x20,
    365: 0x01, 367: 0x19, 368: 0x03, 370: 0x01, 372: 0x02, 373: 0x36, 374: 0x01, 511: 0x86,
}
QEMU_SMART_THRESH = {0: 0x01, 2: 0x01, 3: 0x06, 14: 0x03, 26: 0x04, 27: 0x14, 38: 0x05, 39: 0x24,
                     50: 0x09, 62: 0x0C, 74: 0xBE, 75: 0x32, 511: 0xAF}
QEMU_SMART_SELF_TEST_LOG = {0: 0x01, 2: 0x01, 4: 0x34, 5: 0x12, 508: 0x01, 511: 0xB7}


def test_smart_pages_as_qemu_returns_them() -> None:
    irq = FakeIrq()
    ch = channel(irq)
    smart(ch, "read_data")                 # SMART is off on an empty position
    assert ch.devices[0].error == ABRT_ERR and ch.data_read(2) == 0
    smart(ch, "enable")
    smart(ch, "exec_offline", sector=1)
    smart(ch, "read_data")
    assert ch.devices[0].status == READY_STAT | SEEK_STAT | DRQ_STAT and irq.level == 1
    assert read_page(ch) == sparse(QEMU_SMART_DATA, 512)
    assert ch.devices[0].status & DRQ_STAT == 0
    smart(ch, "read_thresh")
    assert read_page(ch, 4) == sparse(QEMU_SMART_THRESH, 512) == smart_thresholds_page()
    smart(ch, "read_log", sector=6)
    assert read_page(ch, 4) == sparse(QEMU_SMART_SELF_TEST_LOG, 512) == smart_log_page(ch.devices[0], 6)
    assert smart_data_page(ch.devices[0]) == sparse(QEMU_SMART_DATA, 512)


def test_byte_read_of_the_data_port_takes_a_word_and_drq_blocks_commands() -> None:
    irq = FakeIrq()
    ch = channel(irq)
    smart(ch, "enable")
    smart(ch, "read_data")
    ch.ioport_read(7)
    assert ch.ioport_read(0) == 0x01       # low byte of the first word
    assert ch.data_read(2) == 0x0301       # the second word: bytes 2 and 3
    ch.ioport_write(7, IDENTIFY)           # ignored while DRQ is set
    assert irq.level == 0
    for _ in range(254):
        ch.data_read(2)
    assert ch.devices[0].status & DRQ_STAT == 0 and irq.level == 0  # no interrupt at the end
    assert ch.data_read(2) == 0


@pytest.mark.parametrize(("command", "nsector"), [(0xE5, 0xFF), (0xF5, 0), (0x70, 1), (0x91, 1)])
def test_commands_that_complete_without_a_medium(command: int, nsector: int) -> None:
    irq = FakeIrq()
    ch = channel(irq)
    ch.ioport_write(7, command)
    master = ch.devices[0]
    assert (master.status, master.error, master.nsector, irq.level) == (READY_STAT | SEEK_STAT, 0, nsector, 1)


# -- piix3-ide on a PCI bus ------------------------------------------------------------------


@pytest.fixture
def piix(board: Board) -> tuple[PciBoard, PIIX3IDE]:
    pci = PciBoard(board)
    dev = piix3_ide_init(pci.bus, PIIX3_IDE_DEVFN)
    device_reset_all(dev)
    return pci, dev


#: Configuration space after reset (QEMU 7.2, ``-M pc``), and after writing all ones everywhere.
QEMU_PIIX3_IDE_CONFIG = {0x00: 0x86, 0x01: 0x80, 0x02: 0x10, 0x03: 0x70, 0x06: 0x80, 0x07: 0x02,
                         0x09: 0x80, 0x0A: 0x01, 0x0B: 0x01, 0x20: 0x01, 0x2C: 0xF4, 0x2D: 0x1A,
                         0x2F: 0x11}
QEMU_PIIX3_IDE_ONES = {**QEMU_PIIX3_IDE_CONFIG, 0x04: 0x07, 0x05: 0x05, 0x0C: 0xFF, 0x20: 0xF1, 0x21: 0xFF,
                       0x22: 0xFF, 0x23: 0xFF, 0x3C: 0xFF, **{off: 0xFF for off in range(0x40, 0x100)}}


def test_piix_config_space(piix: tuple[PciBoard, PIIX3IDE]) -> None:
    pci, _dev = piix
    assert pci.config_dump(PIIX3_IDE_DEVFN) == sparse(QEMU_PIIX3_IDE_CONFIG)
    for offset in range(0, 256, 4):
        pci.config_write(PIIX3_IDE_DEVFN, offset, 0xFFFFFFFF)
    assert pci.config_dump(PIIX3_IDE_DEVFN) == sparse(QEMU_PIIX3_IDE_ONES)


def test_piix_qtree_block_is_qemus(piix: tuple[PciBoard, PIIX3IDE]) -> None:
    _pci, dev = piix
    assert qtree_block(dev) == reference_qtree_block("pc", "piix3-ide")


def test_piix_qom_children_and_legacy_ports(piix: tuple[PciBoard, PIIX3IDE]) -> None:
    pci, dev = piix
    assert sorted(child.name_in_parent for child in dev.children()) == [
        "bmdma[0]", "bmdma[1]", "bus master container[0]", "bus master[0]", "ide.0", "ide.1",
        "piix-bmdma-container[0]", "piix-bmdma[0]", "piix-bmdma[1]",
    ]
    unattached = pci.machine.unattached()
    ports = [(unattached.child(f"ide[{n}]").addr, unattached.child(f"ide[{n}]").size) for n in range(4)]
    assert ports == [(0x1F0, 8), (0x3F6, 1), (0x170, 8), (0x376, 1)]
    assert [bus.max_units for bus in dev.buses] == [2, 2]


def test_piix_port_widths_as_qemu_dispatches_them(piix: tuple[PciBoard, PIIX3IDE]) -> None:
    io = piix[0].io
    assert [io.read(PRIMARY + reg, 1) for reg in range(8)] == [0] * 8
    assert (io.read(PRIMARY, 2), io.read(PRIMARY, 4), io.read(PRIMARY + 2, 2)) == (0, 0, 0)
    assert (io.read(PRIMARY + 1, 4), io.read(PRIMARY + 7, 2)) == (0xFFFFFFFF, 0xFF00)
    assert (io.read(PRIMARY_CTL, 1), io.read(PRIMARY_CTL, 2)) == (0, 0xFF00)
    assert io.read(SECONDARY + 7, 1) == io.read(SECONDARY_CTL, 1) == 0


def test_piix_channels_interrupt_on_isa_irq_14_and_15(board: Board, piix: tuple[PciBoard, PIIX3IDE]) -> None:
    io = piix[0].io
    io.write(PRIMARY + 7, IDENTIFY, 1)
    assert board.irqs[14] == [0, 1] and board.irqs[15] == []
    io.read(PRIMARY + 7, 1)
    assert board.irqs[14][-1] == 0
    io.write(SECONDARY + 7, IDENTIFY, 2)   # a 16-bit write at 7 writes the command byte only
    assert board.irqs[15] == [0, 1]


def test_piix_wide_writes_as_qemu_dispatches_them(board: Board, piix: tuple[PciBoard, PIIX3IDE]) -> None:
    io = piix[0].io
    io.write(PRIMARY + 4, 0xECECEC, 4)     # 32 bits away from the data port: dropped
    assert board.irqs[14] == []
    io.write(PRIMARY + 6, 0xECA0, 2)       # device/head, then command
    assert board.irqs[14] == [0, 1]
    io.read(PRIMARY + 7, 1)
    io.write(PRIMARY_CTL, 0x0202, 2)       # nIEN through a 16-bit write
    io.write(PRIMARY + 7, IDENTIFY, 1)
    io.write(PRIMARY_CTL, 0, 4)            # 32-bit writes to the control port are dropped
    io.write(PRIMARY + 7, IDENTIFY, 1)
    assert board.irqs[14] == [0, 1, 0, 0, 0]


def test_piix_software_reset_with_nien_is_silent(board: Board, piix: tuple[PciBoard, PIIX3IDE]) -> None:
    io = piix[0].io
    io.write(PRIMARY_CTL, 0x06, 1)
    run_bottom_halves(board)
    io.write(PRIMARY_CTL, 0x00, 1)
    assert board.irqs[14] == []
    io.write(PRIMARY + 7, IDENTIFY, 1)
    assert board.irqs[14] == [0, 1]


def run_bottom_halves(board: Board) -> None:
    main_loop = board.host.main_loop
    with main_loop.bql:
        main_loop.loop.call_soon(main_loop.loop.stop)
        main_loop.loop.run_forever()


def test_piix_software_reset_runs_from_the_main_loop(board: Board, piix: tuple[PciBoard, PIIX3IDE]) -> None:
    io = piix[0].io
    io.write(PRIMARY_CTL, 0x04, 1)
    io.write(PRIMARY_CTL, 0x00, 1)
    assert board.irqs[14] == []
    run_bottom_halves(board)
    assert board.irqs[14] == [1, 1]        # each position's diagnostic raises the line
    assert piix[1].buses[0].channel.devices[0].status == READY_STAT | SEEK_STAT


def test_piix_isa_lines_may_be_wired_after_realize(board: Board, piix: tuple[PciBoard, PIIX3IDE]) -> None:
    from pyqemu.hw.core.irq import allocate_irqs
    from pyqemu.hw.isa.isa_bus import isa_bus_irqs

    levels: list[tuple[int, int]] = []
    isa_bus_irqs(board.isa, allocate_irqs(lambda n, level: levels.append((n, level)), 16))
    piix[0].io.write(SECONDARY + 7, IDENTIFY, 1)
    assert levels == [(15, 0), (15, 1)]


def map_bmdma(pci: PciBoard) -> None:
    pci.config_write(PIIX3_IDE_DEVFN, 0x20, BMDMA_BASE | 1)
    pci.config_write(PIIX3_IDE_DEVFN, 0x04, 0x0001, 2)


def test_piix_bmdma_registers(piix: tuple[PciBoard, PIIX3IDE]) -> None:
    pci, _dev = piix
    map_bmdma(pci)
    io = pci.io
    assert [io.read(BMDMA_BASE + n, 1) for n in range(16)] == [0, 0xFF, 0, 0xFF, 0, 0, 0, 0] * 2
    assert (io.read(BMDMA_BASE, 2), io.read(BMDMA_BASE, 4)) == (0xFFFF, 0xFFFFFFFF)
    io.write(BMDMA_BASE + 4, 0x12345677, 4)
    assert io.read(BMDMA_BASE + 4, 4) == 0x12345674
    io.write(BMDMA_BASE + 6, 0xFFFF, 2)
    assert io.read(BMDMA_BASE + 4, 4) == 0xFFFF5674
    io.write(BMDMA_BASE + 5, 0xAB, 1)
    assert io.read(BMDMA_BASE + 4, 4) == 0xFFFFAB74
    io.write(BMDMA_BASE, 0xFF, 1)
    assert (io.read(BMDMA_BASE, 1), io.read(BMDMA_BASE + 2, 1)) == (0x09, 0x01)
    io.write(BMDMA_BASE + 2, 0xFF, 1)
    assert io.read(BMDMA_BASE + 2, 1) == 0x61
    io.write(BMDMA_BASE, 0x00, 1)
    assert io.read(BMDMA_BASE + 2, 1) == 0x60
    io.write(BMDMA_BASE, 0x01, 2)          # not a byte access: ignored
    assert io.read(BMDMA_BASE, 1) == 0x00


def test_piix_channel_interrupt_sets_bmdma_int(piix: tuple[PciBoard, PIIX3IDE]) -> None:
    pci, _dev = piix
    map_bmdma(pci)
    io = pci.io
    io.write(BMDMA_BASE + 2, 0x60, 1)
    io.write(PRIMARY + 7, IDENTIFY, 1)
    assert (io.read(BMDMA_BASE + 2, 1), io.read(BMDMA_BASE + 10, 1)) == (0x64, 0)
    io.write(SECONDARY + 7, IDENTIFY, 1)
    assert io.read(BMDMA_BASE + 10, 1) == 0x04
    io.write(BMDMA_BASE + 2, 0x04, 1)      # write 1 to clear INT (and the DMA capable bits with 0)
    assert io.read(BMDMA_BASE + 2, 1) == 0


def test_piix_reset(piix: tuple[PciBoard, PIIX3IDE]) -> None:
    pci, dev = piix
    map_bmdma(pci)
    pci.io.write(BMDMA_BASE + 4, 0x1000, 4)
    pci.io.write(PRIMARY + 6, 0xB0, 1)
    device_reset_all(dev)
    assert pci.config_dump(PIIX3_IDE_DEVFN) == sparse(QEMU_PIIX3_IDE_CONFIG)
    assert (dev.bmdma[0].addr, dev.buses[0].channel.unit) == (0, 0)


def test_piix_help_lists_qemus_properties() -> None:
    from pyqemu.hw.core.qdev_monitor import device_help_text

    assert device_help_text("piix3-ide,help") == """\
piix3-ide options:
  acpi-index=<uint32>    -  (default: 0)
  addr=<int32>           - Slot and optional function number, example: 06.0 or 06 (default: -1)
  failover_pair_id=<str>
  multifunction=<bool>   - on/off (default: false)
  rombar=<uint32>        -  (default: 1)
  romfile=<str>
  romsize=<uint32>       -  (default: 4294967295)
  x-pcie-extcap-init=<bool> - on/off (default: true)
  x-pcie-lnksta-dllla=<bool> - on/off (default: true)
"""
