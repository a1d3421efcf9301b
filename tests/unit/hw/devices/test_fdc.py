"""The floppy disk controller (``isa-fdc``) without drives, checked against QEMU 7.2.

Every expected value comes from QEMU 7.2 on ``-M pc -accel tcg -nodefaults
-S`` (no drives), driven with HMP ``i`` / ``o`` (the virtual clock run by a
firmware that only halts, for READ ID's 20 ms): e.g. after DOR 0x08, 0x0c the
four SENSE INTERRUPT STATUS answer 0xc0-0xc3 with track 0 and a fifth 0x80;
VERSION answers 0x90; a READ of sector 1 on drive 1 ends 0x41 0x80 ...
"""

from __future__ import annotations

import textwrap

import pytest

from pyqemu.hw.block.fdc_isa import IsaFdc, isa_fdc_create
from pyqemu.hw.core.qdev_monitor import device_help_text
from pyqemu.hw.core.qtree import qdev_print
from pyqemu.hw.core.reset import reset_machine
from pyqemu.hw.dma.i8257 import i8257_dma_init
from pyqemu.util.errors import ConfigError, DeviceError

from .conftest import Board
from .test_i8257 import reference_blocks

DOR, TDR, MSR, DSR, FIFO, DIR, CCR = 0x3F2, 0x3F3, 0x3F4, 0x3F4, 0x3F5, 0x3F7, 0x3F7
MS = 1_000_000


@pytest.fixture
def fdc(board: Board) -> IsaFdc:
    """The PC's controller (with its DMA controllers) after a machine reset."""
    i8257_dma_init(board.isa, False)
    dev = isa_fdc_create(board.isa)
    reset_machine(board.machine)
    return dev


def command(board: Board, *data: int) -> None:
    for byte in data:
        board.outb(FIFO, byte)


def results(board: Board, count: int) -> list[int]:
    return [board.inb(FIFO) for _ in range(count)]


def guest_reset(board: Board) -> None:
    """Reset through DOR as drivers do, and collect the four reset interrupts' status."""
    board.outb(DOR, 0x08)
    board.outb(DOR, 0x0C)
    for _ in range(4):
        command(board, 0x08)
        results(board, 2)


# -- registers and reset ------------------------------------------------------------


def test_power_on_registers(board: Board, fdc: IsaFdc) -> None:
    assert [board.inb(port) for port in (0x3F0, 0x3F1, DOR, TDR, MSR, FIFO, DIR)] == [
        0xFF, 0xC0, 0x0C, 0x00, 0x80, 0x00, 0x80,  # 0x3f0 (SRA) is not decoded
    ]
    assert board.irqs[6] == []


def test_dor_reset_interrupts_and_four_sense_results(board: Board, fdc: IsaFdc) -> None:
    board.outb(DOR, 0x08)
    board.outb(DOR, 0x0C)
    assert (board.irqs[6], board.inb(MSR)) == ([1], 0x80)
    command(board, 0x08)
    assert board.inb(MSR) == 0xD0
    assert results(board, 2) == [0xC0, 0x00]
    assert board.irqs[6] == [1, 0]
    for expected in (0xC1, 0xC2, 0xC3):
        command(board, 0x08)
        assert results(board, 2) == [expected, 0x00]
    command(board, 0x08)
    assert (board.inb(MSR), results(board, 2), board.inb(MSR)) == (0xD0, [0x80, 0x00], 0x80)
    assert board.irqs[6] == [1, 0]


def test_reading_msr_leaves_reset_without_interrupt(board: Board, fdc: IsaFdc) -> None:
    board.outb(DOR, 0x08)
    assert [board.inb(DOR), board.inb(MSR), board.inb(0x3F1)] == [0x08, 0x80, 0xC0]
    board.outb(DOR, 0x0C)
    assert board.irqs[6] == []
    command(board, 0x08)
    assert results(board, 1) == [0x80]


def test_dsr_software_reset(board: Board, fdc: IsaFdc) -> None:
    board.outb(DSR, 0x80)
    assert (board.inb(MSR), board.inb(DOR), board.irqs[6]) == (0x80, 0x0C, [1])
    command(board, 0x08)
    assert results(board, 2) == [0xC0, 0x00]


def test_tdr_ccr_dir_dor_and_srb(board: Board, fdc: IsaFdc) -> None:
    board.outb(TDR, 0xFF)
    board.outb(CCR, 0x03)
    assert (board.inb(TDR), board.inb(DIR)) == (0x04, 0x80)
    board.outb(DOR, 0x1F)
    assert (board.inb(DOR), board.inb(0x3F1)) == (0x1F, 0xE1)
    board.outb(DOR, 0x2E)
    assert (board.inb(DOR), board.inb(0x3F1)) == (0x2E, 0xC2)


def test_wide_accesses_as_qemu_port_lists(board: Board, fdc: IsaFdc) -> None:
    assert (board.inb(0x3F1, 2), board.inb(0x3F7, 2), board.inb(DOR, 4)) == (0x0CC0, 0xFF80, 0xFFFFFFFF)
    board.outb(DOR, 0x1808, 2)  # DOR enters reset, so TDR ignores its byte
    assert (board.inb(DOR), board.inb(TDR)) == (0x08, 0x00)
    board.outb(DOR, 0, 4)
    assert board.inb(DOR) == 0x08


# -- commands -----------------------------------------------------------------------


def test_version_part_id_and_dumpreg(board: Board, fdc: IsaFdc) -> None:
    command(board, 0x10)
    assert (board.inb(MSR), results(board, 1), board.inb(MSR)) == (0xD0, [0x90], 0x80)
    command(board, 0x18)
    assert results(board, 1) == [0x41]
    command(board, 0x0E)
    assert results(board, 10) == [0, 0, 0, 0, 0, 0x01, 0, 0, 0x60, 0]


def test_settings_show_in_dumpreg(board: Board, fdc: IsaFdc) -> None:
    command(board, 0x04, 0x05)  # SENSE DRIVE STATUS, drive 1 head 1
    assert (board.inb(MSR), results(board, 1), board.inb(DOR)) == (0xD0, [0x7D], 0x0D)
    command(board, 0x03, 0xAF, 0x03)  # SPECIFY, no DMA
    assert (board.inb(MSR), board.inb(DOR)) == (0x80, 0x05)
    command(board, 0x13, 0x00, 0x57, 0x09)  # CONFIGURE
    command(board, 0x12, 0x83)  # PERPENDICULAR MODE
    assert board.inb(MSR) == 0x80
    command(board, 0x94)  # LOCK
    assert (board.inb(MSR), results(board, 1)) == (0xD0, [0x10])
    command(board, 0x0E)
    assert results(board, 10) == [0, 0, 0, 0, 0x0A, 0x02, 0, 0x8C, 0x57, 0x09]
    command(board, 0x14)
    assert results(board, 1) == [0x00]
    command(board, 0x17, 0x2A, 0x00)  # POWERDOWN MODE takes two parameters
    assert results(board, 1) == [0x2A]
    command(board, 0x33, 0x00)  # OPTION
    assert board.inb(MSR) == 0x80


@pytest.mark.parametrize("byte", [0x00, 0x1F, 0xFF])
def test_invalid_command(board: Board, fdc: IsaFdc, byte: int) -> None:
    command(board, byte)
    assert (board.inb(MSR), results(board, 2), board.inb(MSR)) == (0xD0, [0x80, 0x00], 0x80)


def test_format_and_write_is_refused_after_its_parameters(board: Board, fdc: IsaFdc) -> None:
    command(board, 0xCD, *[0] * 9)
    assert board.inb(MSR) == 0x90
    command(board, 0)
    assert (board.inb(MSR), results(board, 1)) == (0xD0, [0x80])


def test_recalibrate_and_seek_without_drives(board: Board, fdc: IsaFdc) -> None:
    guest_reset(board)
    command(board, 0x07)
    assert board.inb(MSR) == 0x90
    command(board, 0x00)
    assert (board.inb(MSR), board.irqs[6][-1]) == (0x80, 1)
    command(board, 0x08)
    assert results(board, 2) == [0x20, 0x00]
    command(board, 0x08)
    assert results(board, 1) == [0x80]
    command(board, 0x0F, 0x01, 0x05)  # SEEK drive 1 to track 5: no disk, the head stays
    assert (board.inb(MSR), board.inb(DOR)) == (0x80, 0x0D)
    command(board, 0x08)
    assert results(board, 2) == [0x21, 0x00]
    command(board, 0x8F, 0x00, 0x01)  # RELATIVE SEEK OUT
    command(board, 0x08)
    assert results(board, 2) == [0x20, 0x00]
    command(board, 0xCF, 0x01, 0x02)  # RELATIVE SEEK IN
    command(board, 0x08)
    assert results(board, 2) == [0x21, 0x00]


def test_read_id_answers_after_20_ms(board: Board, fdc: IsaFdc) -> None:
    guest_reset(board)
    command(board, 0x4A)
    assert board.inb(MSR) == 0x90
    command(board, 0x04)  # drive 0, head 1
    board.host.step(19 * MS)
    assert (board.inb(MSR), board.irqs[6][-1]) == (0x10, 0)
    board.host.step(1 * MS)
    assert (board.inb(MSR), board.irqs[6][-1]) == (0xD0, 1)
    assert results(board, 7) == [0x04, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02]
    assert (board.inb(MSR), board.irqs[6][-1]) == (0x80, 0)


def test_read_id_at_the_wrong_data_rate(board: Board, fdc: IsaFdc) -> None:
    board.outb(CCR, 0x03)
    command(board, 0x0A, 0x00)
    board.host.step(20 * MS)
    assert results(board, 7) == [0x40, 0x01, 0x00, 0x00, 0x00, 0x00, 0x02]


def test_reads_on_missing_drives_fail(board: Board, fdc: IsaFdc) -> None:
    guest_reset(board)
    command(board, 0xE6, 0x00, 0x02, 0x00, 0x03, 0x02, 0x12, 0x1B)  # READ drive 0, C 2 H 0 S 3
    assert board.inb(MSR) == 0x90
    command(board, 0xFF)
    assert (board.inb(MSR), board.irqs[6][-1]) == (0xD0, 1)
    assert results(board, 7) == [0x40, 0x00, 0x00, 0x02, 0x00, 0x03, 0x02]
    assert (board.inb(MSR), board.irqs[6][-1]) == (0x80, 0)
    command(board, 0x06, 0x01, 0x00, 0x00, 0x01, 0x02, 0x12, 0x1B, 0xFF)  # drive 1, C 0 H 0 S 1
    assert results(board, 7) == [0x41, 0x80, 0x00, 0x00, 0x00, 0x01, 0x02]
    command(board, 0x0C, 0x01, 0x03, 0x00, 0x05, 0x02, 0x12, 0x1B, 0xFF)  # READ DELETED DATA
    assert results(board, 7) == [0x61, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02]


def test_format_track_sets_the_sector_count(board: Board, fdc: IsaFdc) -> None:
    command(board, 0x4D, 0x01, 0x02, 0x09, 0x54, 0xF6)  # FORMAT TRACK, drive 1, 9 sectors
    assert (board.inb(MSR), results(board, 7)) == (0xD0, [0x01, 0, 0, 0, 0, 0, 0x02])
    command(board, 0x0E)
    assert results(board, 10) == [0, 0, 0, 0, 0, 0x01, 0x09, 0, 0x60, 0]
    command(board, 0x06, 0x01, 0x00, 0x00, 0x01, 0x02, 0x12, 0x1B, 0xFF)
    assert results(board, 7) == [0x41, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02]


def test_restore_and_save_with_swapped_drives(board: Board, fdc: IsaFdc) -> None:
    board.outb(TDR, 0x04)
    command(board, 0x4E, *range(1, 10), 0x8A, *range(0x0B, 0x11))
    assert board.inb(MSR) == 0x90
    command(board, 0x11)
    assert board.inb(MSR) == 0x80
    command(board, 0x0E)
    assert results(board, 10) == [0x03, 0x04, 0, 0, 0x07, 0x11, 0x09, 0x88, 0x0B, 0x0C]
    command(board, 0x2E)
    assert results(board, 15) == [0, 0, 0x03, 0x04, 0, 0, 0x07, 0x08, 0x09, 0x88, 0x0B, 0x0C, 0x0D, 0, 0]
    board.outb(TDR, 0x00)
    command(board, 0x0E)
    assert results(board, 2) == [0x04, 0x03]


def test_drive_specification_command(board: Board, fdc: IsaFdc) -> None:
    command(board, 0x8E, 0x21, 0x00, 0x00, 0x00, 0xC0)
    assert (board.inb(MSR), results(board, 4), board.inb(MSR)) == (0xD0, [0x21, 0x21, 0, 0], 0x80)
    command(board, 0x8E, 0x00, 0x00, 0x00, 0x00, 0x00)  # never done: stuck until a reset
    command(board, 0x10)
    assert board.inb(MSR) == 0x10
    board.outb(DSR, 0x80)
    assert board.inb(MSR) == 0x80


def test_dma_request_ends_a_waiting_read_id(board: Board, fdc: IsaFdc) -> None:
    """A guest DMA request on channel 2 reaches the controller through the engine, as in QEMU."""
    board.outb(DOR, 0x08)
    board.outb(DOR, 0x0C)
    command(board, 0x08)
    assert results(board, 2) == [0xC0, 0x00]
    command(board, 0x0A, 0x00)
    board.outb(0x0A, 0x02)  # unmask DMA channel 2: no request yet
    assert board.inb(MSR) == 0x10
    board.outb(0x09, 0x06)  # request channel 2: the controller ends the command at once
    assert (board.inb(MSR), board.inb(0x08)) == (0xD0, 0x00)  # and released the request
    assert results(board, 7) == [0, 0, 0, 0, 0, 0, 0x02]
    assert board.inb(MSR) == 0x80
    board.host.step(20 * MS)  # QEMU leaves READ ID's timer running: it answers again
    assert board.inb(MSR) == 0xD0


# -- device, errors, qtree ------------------------------------------------------------


def test_no_dma_channel(board: Board) -> None:
    dev = board.create("isa-fdc", dma=0xFFFFFFFF)
    reset_machine(board.machine)
    assert board.inb(DOR) == 0x04
    assert dev.core.dma is None


def test_device_errors(board: Board) -> None:
    with pytest.raises(DeviceError, match=r"^ISA controller does not support DMA$"):
        board.create("isa-fdc")
    i8257_dma_init(board.isa, False)
    with pytest.raises(DeviceError, match=r"^Cannot choose a fallback FDrive type of 'auto'$"):
        board.create("isa-fdc", fallback="auto")
    with pytest.raises(ConfigError, match=r"^Parameter 'fdtypeA' does not accept value 'foo'$"):
        board.create("isa-fdc", fdtypeA="foo")
    with pytest.raises(ConfigError, match=r"^Property 'isa-fdc.driveA' not found$"):
        board.create("isa-fdc", driveA="floppy0")


def test_other_irq(board: Board) -> None:
    i8257_dma_init(board.isa, False)
    board.create("isa-fdc", irq=5, iobase=0x370)
    reset_machine(board.machine)
    board.outb(0x372, 0x08)
    board.outb(0x372, 0x0C)
    assert (board.irqs[5], board.irqs[6]) == ([1], [])


def test_properties_as_qemu_lists_them() -> None:
    assert device_help_text("isa-fdc,help") == textwrap.dedent("""\
        isa-fdc options:
          bootindexA=<int32>
          bootindexB=<int32>
          dma=<uint32>           -  (default: 2)
          fallback=<FdcDriveType> - FDC drive type, 144/288/120/none/auto (default: "288")
          fdtypeA=<FdcDriveType> - FDC drive type, 144/288/120/none/auto (default: "auto")
          fdtypeB=<FdcDriveType> - FDC drive type, 144/288/120/none/auto (default: "auto")
          iobase=<uint32>        -  (default: 1008)
          irq=<uint32>           -  (default: 6)
        """)


def test_qom_children_and_bootindex(board: Board, fdc: IsaFdc) -> None:
    children = sorted(prop.name for prop in fdc.iter_properties() if prop.child is not None)
    assert children == ["fdc[0]", "fdc[1]", "floppy-bus.0"]
    assert fdc.child("floppy-bus.0").typename == "floppy-bus"
    assert fdc.property_get("bootindexA") == -1
    assert fdc.property_get_info("bootindexB").type == "int32"
    fdc.property_set("bootindexB", 2)
    assert fdc.property_get("bootindexB") == 2


def test_qtree_block_as_qemu_prints_it(board: Board, fdc: IsaFdc) -> None:
    assert [qdev_print(fdc, 0)] == reference_blocks("isa-fdc")
