"""The i8254 PIT (``isa-pit``): counts, latches, read-back, gates and channel 0's IRQ.

Register values were checked against QEMU 7.2 with TCG: at a frozen clock
through HMP ``o``/``i`` and the qtest protocol's ``outb``/``inb``; after the
clock ran, by reading the HPET counter (enabled at the moment the counts
were loaded) for the elapsed time and latching the three counts.  IRQ edge
times follow QEMU's ``pit_get_next_transition_time`` rounding.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pyqemu.hw.core.irq import Irq, qdev_get_gpio_in
from pyqemu.hw.timer.i8254 import (
    COUNT_MAX,
    I8254State,
    PitChannelInfo,
    PitCore,
    i8254_pit_init,
    muldiv64,
    pit_get_channel_info,
    pit_set_gate,
)
from pyqemu.util.errors import ConfigError
from pyqemu.util.main_loop import ClockType

from .conftest import Board, FakeClock

QTREE_DATA = Path(__file__).parents[1] / "boards" / "data"
#: Where the tests start the board's virtual clock, so times are round.
T0 = 1_000_000_000
HPET_TICK_NS = 10


class Pit:
    """A PIT core on a hand-stepped clock, recording (time, level) of its IRQ."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.irq: list[tuple[int, int]] = []
        self.core = PitCore(clock.now_ns, clock.new_timer, lambda level: self.irq.append((clock.ns, level)))

    def out(self, port: int, *values: int) -> None:
        for value in values:
            self.core.write(port - 0x40, value)

    def inb(self, port: int, count: int = 1) -> list[int]:
        return [self.core.read(port - 0x40) for _ in range(count)]

    def load(self, control: int, count: int) -> None:
        """A control word with LSB/MSB access, then the count."""
        channel = control >> 6
        self.out(0x43, control)
        self.out(0x40 + channel, count & 0xFF, count >> 8)


@pytest.fixture
def pit(clock: FakeClock) -> Pit:
    return Pit(clock)


def test_muldiv64_is_unsigned_and_truncating() -> None:
    assert muldiv64(1_000_000_000, 1_193_182, 1_000_000_000) == 1_193_182
    assert muldiv64(3352, 1_193_182, 1_000_000_000) == 3  # 3.9995 ticks
    assert muldiv64(-1, 2, 2) == 2**64 - 1


def test_reset_state(pit: Pit) -> None:
    channels = pit.core.channels
    assert [(ch.mode, ch.count, ch.gate) for ch in channels] == [
        (3, COUNT_MAX, 1), (3, COUNT_MAX, 1), (3, COUNT_MAX, 0)]
    # Channel 0's first edge: half of 0x10000 ticks of square wave.
    assert pit.core._timer.expire_ns == 27_462_700
    assert pit.irq == []  # reset does not drive the line; the timer will


def test_frozen_clock_reads_as_qemu(pit: Pit) -> None:
    """The HMP sequence run on QEMU 7.2 (-M pc -S): identical bytes."""
    assert pit.inb(0x40, 2) == [0x00, 0x00]  # never programmed: LSB of 0x10000
    pit.load(0xB0, 0x1234)  # channel 2, mode 0
    pit.out(0x43, 0xE8)  # read-back: status of channel 2
    assert pit.inb(0x42, 3) == [0x30, 0x34, 0x12]
    pit.out(0x43, 0xD8)  # read-back: count of channel 2
    assert pit.inb(0x42, 2) == [0x34, 0x12]
    pit.load(0xB4, 0x10)  # mode 2: OUT low at the start
    pit.out(0x43, 0xE8)
    assert pit.inb(0x42) == [0x34]
    pit.out(0x43, 0xB7)  # mode 3, BCD: kept, shown in the status
    pit.out(0x43, 0xE8)
    assert pit.inb(0x42) == [0xB7]
    pit.out(0x43, 0x3A, 0xE2)  # channel 0 mode 5
    assert pit.inb(0x40) == [0x3A]
    pit.out(0x43, 0xC2)  # status and count: status first, then the latched count
    assert pit.inb(0x40, 5) == [0x3A, 0x00, 0x00, 0x00, 0x00]
    assert pit.inb(0x43) == [0x00]
    pit.out(0x43, 0x00, 0x10)  # latch (in LSB/MSB), then reprogram LSB-only
    assert pit.inb(0x40, 3) == [0x00, 0x00, 0x00]


def test_modes_6_7_msb_only_and_double_latch_as_qemu(pit: Pit) -> None:
    """qtest outb/inb on QEMU 7.2: raw modes 6 and 7, MSB-only access, a latch ignored while pending."""
    pit.out(0x43, 0x3D, 0xE2)
    assert pit.inb(0x40) == [0x3D]
    pit.out(0x43, 0x7F, 0xE4)
    assert pit.inb(0x41) == [0x3F]
    pit.out(0x41, 0x05, 0x00)
    assert pit.inb(0x41, 2) == [0x05, 0x00]  # mode 7 counts as mode 2
    pit.out(0x43, 0x20)  # channel 0, MSB only
    pit.out(0x40, 0x12)  # loads 0x1200
    pit.out(0x43, 0xE2)
    assert pit.inb(0x40, 3) == [0x20, 0x12, 0x12]
    pit.out(0x43, 0x00, 0x00)
    assert pit.inb(0x40, 2) == [0x12, 0x12]


@pytest.mark.parametrize(
    ("hpet_ticks", "counts", "status", "port61_reads"),
    [
        (329_900, [61599, 1064, 128], [0x30, 0x34, 0x36], [0x11]),
        (1_767_451, [44447, 3912, 824], [0x30, 0x34, 0xB6], [0x11, 0x21]),
        (4_309_674, [14113, 3578, 156], [0x30, 0x34, 0xB6], [0x11, 0x21, 0x31]),
        (7_958_098, [36117, 46, 92], [0xB0, 0x34, 0x36], [0x11, 0x21, 0x31, 0x01]),
    ],
)
def test_counts_after_the_clock_ran_as_qemu(
    board: Board, hpet_ticks: int, counts: list[int], status: list[int], port61_reads: list[int]
) -> None:
    """QEMU 7.2 TCG: counts, statuses and port 0x61 after the HPET counted ``hpet_ticks``.

    QEMU's run read port 0x61 once per sample, so its refresh bit had
    toggled once per earlier sample; the last value is this sample's.
    """
    from pyqemu.hw.audio.pcspk import pcspk_init

    dev = pit_on(board)
    pcspk_init(board.isa, dev)
    board.outb(0x61, 1)
    for control, count in ((0xB6, 1000), (0x30, 0xFFFF), (0x74, 5000)):
        board.outb(0x43, control)
        board.outb(0x40 + (control >> 6), count & 0xFF)
        board.outb(0x40 + (control >> 6), count >> 8)
    step_to(board, T0 + hpet_ticks * HPET_TICK_NS)
    board.outb(0x43, 0xDE)  # read-back: latch the counts of channels 0-2
    assert [board.inb(p) | board.inb(p) << 8 for p in (0x40, 0x41, 0x42)] == counts
    board.outb(0x43, 0xEE)  # read-back: their statuses
    assert [board.inb(p) for p in (0x40, 0x41, 0x42)] == status
    assert [board.inb(0x61) for _ in port61_reads][-1] == port61_reads[-1]


def test_live_reads_alternate_and_latch_holds(pit: Pit, clock: FakeClock) -> None:
    pit.load(0x34, 1000)  # channel 0, mode 2
    clock.advance(100_000)  # 119 ticks
    assert pit.inb(0x40, 2) == [(1000 - 119) & 0xFF, (1000 - 119) >> 8]
    pit.out(0x43, 0x00)
    clock.advance(100_000)
    assert pit.inb(0x40) == [(1000 - 119) & 0xFF]  # latched value, LSB
    clock.advance(100_000)
    assert pit.inb(0x40) == [(1000 - 119) >> 8]  # then MSB; the latch is released
    assert pit.inb(0x40, 2) == [(1000 - 357) & 0xFF, (1000 - 357) >> 8]


def test_mode_3_counts_twice_as_fast(pit: Pit, clock: FakeClock) -> None:
    pit.load(0x36, 1000)
    clock.advance(100_000)  # 119 ticks: 1000 - 238
    assert pit.inb(0x40, 2) == [762 & 0xFF, 762 >> 8]


# -- channel 0's interrupt -----------------------------------------------------------


def test_irq_mode_0_rises_once(pit: Pit, clock: FakeClock) -> None:
    pit.load(0x30, 1000)
    clock.advance(900_000)
    # 838095 ns rounds down to tick 999: QEMU retries one nanosecond later.
    assert pit.irq == [(0, 0), (838_095, 0), (838_096, 1)]
    assert pit.core._timer.expire_ns is None


def test_irq_mode_2_pulses(pit: Pit, clock: FakeClock) -> None:
    pit.load(0x34, 3)
    clock.advance(6000)
    assert pit.irq == [(0, 0), (3352, 1), (5028, 0), (5866, 1)]
    assert pit.core._timer.expire_ns == 7542


def test_irq_mode_3_square_wave(pit: Pit, clock: FakeClock) -> None:
    pit.load(0x36, 4)
    clock.advance(5100)
    assert pit.irq == [(0, 1), (1676, 1), (1677, 0), (3352, 0), (3353, 1), (5028, 1), (5029, 0)]


def test_irq_disabled_by_the_hpet(pit: Pit, clock: FakeClock) -> None:
    pit.load(0x30, 100)
    pit.core.irq_control(False)
    clock.advance(1_000_000)
    assert pit.irq == [(0, 0)] and pit.core._timer.expire_ns is None
    pit.core.irq_control(True)  # level at once, and no further edge in mode 0
    assert pit.irq == [(0, 0), (1_000_000, 1)]
    pit.core.reset()
    assert pit.core._timer.expire_ns == 1_000_000 + 27_462_700


def test_channels_1_and_2_drive_no_irq(pit: Pit, clock: FakeClock) -> None:
    pit.load(0x74, 3)
    pit.load(0xB4, 3)
    clock.advance(10_000)
    assert pit.irq == []


# -- the gate ---------------------------------------------------------------------------


def test_gate_restarts_on_a_rising_edge(pit: Pit, clock: FakeClock) -> None:
    pit.load(0xB2, 1000)  # channel 2, mode 1
    clock.advance(500_000)
    assert pit.core.channel_info(2) == PitChannelInfo(gate=0, mode=1, initial_count=1000, out=1)
    assert pit.inb(0x42, 2) == [(1000 - 596) & 0xFF, (1000 - 596) >> 8]
    pit.core.set_gate(2, 1)
    assert pit.inb(0x42, 2) == [1000 & 0xFF, 1000 >> 8]
    pit.core.set_gate(2, 1)  # no edge: no restart
    clock.advance(100_000)
    assert pit.inb(0x42, 2) == [(1000 - 119) & 0xFF, (1000 - 119) >> 8]


def test_gate_ignored_in_mode_0(pit: Pit, clock: FakeClock) -> None:
    pit.load(0xB0, 1000)
    clock.advance(100_000)
    pit.core.set_gate(2, 1)
    assert pit.core.channels[2].gate == 1
    assert pit.inb(0x42, 2) == [(1000 - 119) & 0xFF, (1000 - 119) >> 8]


def test_gate_restart_reaches_the_irq(pit: Pit, clock: FakeClock) -> None:
    pit.load(0x36, 4)
    pit.core.set_gate(0, 0)
    clock.advance(1000)
    pit.core.set_gate(0, 1)
    assert pit.irq[-1] == (1000, 1)
    assert pit.core._timer.expire_ns == 1000 + 1676


# -- the ISA device ---------------------------------------------------------------------


def step_to(board: Board, ns: int) -> None:
    board.host.main_loop.step_clock(ClockType.VIRTUAL, ns)


def pit_on(board: Board, **kwargs: object) -> I8254State:
    step_to(board, T0)
    return i8254_pit_init(board.isa, 0x40, **kwargs)  # type: ignore[arg-type]


def qtree_block(text: str, dev_line: str) -> list[str]:
    """The lines of one device in ``info qtree`` output, dedented."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == dev_line)
    indent = len(lines[start]) - len(lines[start].lstrip())
    block = [lines[start]]
    for line in lines[start + 1:]:
        if len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line)
    return [line[indent:] for line in block]


@pytest.mark.parametrize("machine", ["pc", "q35", "microvm"])
def test_qtree_block_is_qemus(board: Board, machine: str) -> None:
    from pyqemu.hw.core.qtree import qtree_info

    pit_on(board)
    reference = (QTREE_DATA / f"{machine}-qtree.txt").read_text()
    dev_line = 'dev: isa-pit, id ""'
    assert qtree_block(qtree_info(board.machine), dev_line) == qtree_block(reference, dev_line)


def test_qom_shape(board: Board) -> None:
    dev = pit_on(board)
    assert dev.canonical_path() == "/machine/unattached/device[1]"
    assert dev.child("pit[0]").property_get("size") == 4
    assert dev.property_find("unnamed-gpio-in[0]").type == "child<irq>"
    assert dev.property_find("unnamed-gpio-out[0]").type == "link<irq>"
    assert dev.property_get("unnamed-gpio-out[0]") == "/machine/unattached/non-qdev-gpio[0]"  # ISA line 0
    assert dev.is_a("pit-common") and dev.is_a("isa-device")
    assert dev.isairq == []  # as QEMU: the line is connected, not claimed


def test_iobase_default_and_not_user_creatable(board: Board) -> None:
    from pyqemu.hw.core.qdev_monitor import qdev_device_add
    from pyqemu.hw.isa.isa_bus import isa_new

    dev = isa_new("isa-pit")
    assert dev.property_get("iobase") == 0xFFFFFFFF
    dev.unref()
    with pytest.raises(ConfigError, match=r"^Parameter 'driver' expects a pluggable device type$"):
        qdev_device_add(board.machine, {"driver": "isa-pit"})


def test_ports_and_isa_irq_0(board: Board) -> None:
    pit_on(board)
    board.outb(0x43, 0x34)
    board.outb(0x40, 3)
    board.outb(0x40, 0)
    assert board.irqs[0] == [0]
    step_to(board, T0 + 6000)
    assert board.irqs[0] == [0, 1, 0, 1]
    board.outb(0x43, 0xE2)
    assert board.inb(0x40) == 0x34
    # Channel 0's LSB (count 2), then channel 1's (square wave from 0x10000: 7 ticks count 14).
    assert board.inb(0x40, 2) == 0xF202


def test_alt_irq_and_hpet_control_line(board: Board) -> None:
    seen: list[int] = []
    dev = pit_on(board, isa_irq=None, alt_irq=Irq.new(lambda _n, level: seen.append(level)))
    board.outb(0x43, 0x30)
    board.outb(0x40, 100)
    board.outb(0x40, 0)
    assert seen == [0] and board.irqs[0] == []
    qdev_get_gpio_in(dev, 0).set(0)  # the HPET takes IRQ 0
    step_to(board, T0 + 1_000_000)
    assert seen == [0]
    qdev_get_gpio_in(dev, 0).set(1)
    assert seen == [0, 1]


def test_board_helpers_and_reset(board: Board) -> None:
    from pyqemu.hw.core.reset import reset_machine

    dev = pit_on(board)
    board.outb(0x43, 0xB2)
    board.outb(0x42, 0x10)
    board.outb(0x42, 0x00)
    pit_set_gate(dev, 2, 1)
    assert pit_get_channel_info(dev, 2) == PitChannelInfo(gate=1, mode=1, initial_count=0x10, out=1)
    reset_machine(board.machine)
    assert pit_get_channel_info(dev, 2) == PitChannelInfo(gate=0, mode=3, initial_count=COUNT_MAX, out=1)
    board.outb(0x43, 0xE8)
    assert board.inb(0x42) == 0xB6  # mode 3 again; the access mode survives, as in QEMU


def test_device_help_is_qemus() -> None:
    from pyqemu.hw.core.qdev_monitor import device_help_text

    assert device_help_text("isa-pit,help") == (
        "isa-pit options:\n"
        "  iobase=<uint32>        -  (default: 4294967295)\n"
    )
