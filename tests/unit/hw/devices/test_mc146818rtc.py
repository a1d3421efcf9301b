"""The MC146818 RTC core on a hand-stepped clock.

Register values and flag behaviour were checked against QEMU 7.2 (``-M pc
-S -rtc base=2006-06-17T16:01:21``, HMP ``o``/``i`` on ports 0x70/0x71,
qom-get of ``/machine.rtc-time``); exact timings follow QEMU's source.
"""

from __future__ import annotations

import calendar
import time
from types import SimpleNamespace

import pytest

from pyqemu.hw.rtc import mc146818rtc_regs as rtc
from pyqemu.hw.rtc.mc146818rtc import MC146818Core, mc146818_rtc_init
from pyqemu.hw.rtc.mc146818rtc_regs import mktimegm, period_ticks
from pyqemu.util.errors import ConfigError, DeviceError

from .conftest import Board, FakeClock, FakeIrq

START = calendar.timegm((2006, 6, 17, 16, 1, 21))
SEC = 1_000_000_000


class Rtc:
    def __init__(self, irq: FakeIrq, clock: FakeClock, base_year: int = 2000) -> None:
        self.irq = irq
        self.clock = clock
        self.changes: list[int] = []
        self.core = MC146818Core(
            irq, clock.now_ns, clock.new_timer, START, base_year=base_year, time_changed=self.changes.append
        )

    def r(self, index: int) -> int:
        self.core.write(0, index)
        return self.core.read(1)

    def w(self, index: int, value: int) -> None:
        self.core.write(0, index)
        self.core.write(1, value)


@pytest.fixture
def cmos(irq: FakeIrq, clock: FakeClock) -> Rtc:
    return Rtc(irq, clock)


TIME_INDEXES = [0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32]


def test_power_on_registers(cmos: Rtc) -> None:
    assert [cmos.r(i) for i in TIME_INDEXES] == [0x21, 0x01, 0x16, 0x07, 0x17, 0x06, 0x06, 0x20]
    assert [cmos.r(i) for i in (0x0A, 0x0B, 0x0C, 0x0D)] == [0x26, 0x02, 0x00, 0x80]
    assert cmos.core.read(0) == 0xFF  # the index port reads all ones
    assert cmos.core.base_year == 0  # 2000 means 0, as for QEMU's PC boards


def test_base_year_1980(irq: FakeIrq, clock: FakeClock) -> None:
    cmos = Rtc(irq, clock, base_year=1980)
    assert (cmos.r(rtc.RTC_YEAR), cmos.r(rtc.RTC_CENTURY)) == (0x26, 0x00)
    assert cmos.core.get_time()["tm_year"] == 106


def test_index_drops_nmi_bit_and_century_alias(cmos: Rtc) -> None:
    cmos.core.write(0, 0x80)
    assert cmos.core.read(1) == 0x21
    cmos.core.write(0, 0x37)
    assert cmos.core.read(1) == 0x20
    assert cmos.core.index == 0x32  # the alias sticks


def test_time_runs_and_date_property(cmos: Rtc, clock: FakeClock) -> None:
    clock.advance(SEC * 3600 * 8 + SEC * 39)
    assert [cmos.r(i) for i in TIME_INDEXES[:5]] == [0x00, 0x02, 0x00, 0x01, 0x18]
    assert cmos.core.get_time() == {
        "tm_year": 106, "tm_sec": 0, "tm_hour": 0, "tm_min": 2, "tm_mon": 5, "tm_mday": 18,
    }


def test_binary_and_12_hour_modes(cmos: Rtc) -> None:
    cmos.w(rtc.RTC_REG_B, 0x06)
    assert cmos.r(rtc.RTC_HOURS) == 0x10
    cmos.w(rtc.RTC_REG_B, 0x00)
    assert cmos.r(rtc.RTC_HOURS) == 0x84  # 4 PM
    cmos.w(rtc.RTC_REG_B, 0x04)
    assert cmos.r(rtc.RTC_HOURS) == 0x84
    assert cmos.r(rtc.RTC_YEAR) == 6


def test_read_only_registers_and_ram(cmos: Rtc) -> None:
    cmos.w(rtc.RTC_REG_C, 0xFF)
    cmos.w(rtc.RTC_REG_D, 0x00)
    cmos.w(0x40, 0x66)
    assert (cmos.r(rtc.RTC_REG_C), cmos.r(rtc.RTC_REG_D), cmos.r(0x40)) == (0x00, 0x80, 0x66)


def test_update_in_progress_window(cmos: Rtc, clock: FakeClock) -> None:
    clock.advance_to(SEC - rtc.UIP_HOLD_NS - 1)
    assert cmos.r(rtc.RTC_REG_A) == 0x26
    clock.advance(1)
    assert cmos.r(rtc.RTC_REG_A) == 0xA6
    assert rtc.UIP_HOLD_NS == 244140
    clock.advance_to(SEC)  # the update clears the latched bit
    assert cmos.r(rtc.RTC_REG_A) == 0x26


def test_update_ended_interrupt(cmos: Rtc, clock: FakeClock, irq: FakeIrq) -> None:
    cmos.w(rtc.RTC_REG_B, 0x12)
    assert irq.levels == [0]
    clock.advance_to(SEC - 1)
    assert irq.levels == [0]
    clock.advance_to(SEC)
    assert irq.levels == [0, 1]
    assert cmos.r(rtc.RTC_REG_C) == 0x90
    assert irq.levels == [0, 1, 0]
    assert cmos.r(rtc.RTC_SECONDS) == 0x22


def test_flags_without_interrupts(cmos: Rtc, clock: FakeClock, irq: FakeIrq) -> None:
    clock.advance(SEC)
    assert cmos.r(rtc.RTC_REG_C) == 0x10
    clock.advance(SEC)
    cmos.w(rtc.RTC_REG_B, 0x12)  # enabling UIE with UF already set interrupts at once
    assert irq.levels == [0, 1]
    assert cmos.r(rtc.RTC_REG_C) == 0x90


def test_periodic_interrupt(cmos: Rtc, clock: FakeClock, irq: FakeIrq) -> None:
    assert period_ticks(6) == 32 and period_ticks(1) == 128 and period_ticks(15) == 16384
    cmos.w(rtc.RTC_REG_B, 0x42)  # PIE, rate 6: 1024 Hz
    assert cmos.core.next_periodic_time == 976_563
    clock.advance_to(976_562)
    assert cmos.r(rtc.RTC_REG_C) == 0x00
    clock.advance_to(976_563)
    assert irq.levels == [0, 1]
    assert cmos.core.next_periodic_time == 1_953_126
    assert cmos.r(rtc.RTC_REG_C) == 0xC0
    assert irq.levels == [0, 1, 0]


def test_pie_off_clears_irqf_and_stops_ticks(cmos: Rtc, clock: FakeClock) -> None:
    cmos.w(rtc.RTC_REG_B, 0x42)
    clock.advance_to(976_563)
    cmos.w(rtc.RTC_REG_B, 0x02)
    assert cmos.r(rtc.RTC_REG_C) == 0x40
    clock.advance(SEC // 2)
    assert cmos.r(rtc.RTC_REG_C) == 0x00


def test_rate_change_counts_from_last_tick(cmos: Rtc, clock: FakeClock) -> None:
    cmos.w(rtc.RTC_REG_B, 0x42)
    clock.advance_to(976_563)  # tick at 32 ticks of 32 kHz; next due at 64
    clock.advance_to(1_500_000)  # 49 ticks
    cmos.w(rtc.RTC_REG_A, 0x25)  # rate 5: 16 ticks; 17 have passed, so one period is lost
    assert cmos.core.next_periodic_time == 1_500_000 * 32768 // SEC * SEC // 32768 + 1


def test_alarm_with_dont_care_fires_every_second(cmos: Rtc, clock: FakeClock, irq: FakeIrq) -> None:
    for index in rtc.ALARMS:
        cmos.w(index, 0xC0)
    cmos.w(rtc.RTC_REG_B, 0x22)
    clock.advance(SEC)
    assert cmos.r(rtc.RTC_REG_C) == 0xB0
    clock.advance(SEC)
    assert cmos.r(rtc.RTC_REG_C) == 0xB0
    assert irq.levels == [0, 1, 0, 1, 0]


def test_alarm_at_a_time(cmos: Rtc, clock: FakeClock, irq: FakeIrq) -> None:
    cmos.w(rtc.RTC_SECONDS_ALARM, 0x30)
    cmos.w(rtc.RTC_MINUTES_ALARM, 0x01)
    cmos.w(rtc.RTC_HOURS_ALARM, 0x16)
    cmos.w(rtc.RTC_REG_B, 0x22)
    assert cmos.core.next_alarm_time == 9 * SEC
    clock.advance_to(9 * SEC - 1)
    assert irq.levels == [0]
    assert cmos.r(rtc.RTC_REG_C) == 0x10  # updates happened, no alarm yet
    clock.advance_to(9 * SEC)
    assert irq.levels == [0, 1]
    assert cmos.r(rtc.RTC_REG_C) == 0xB0


def test_set_mode_freezes_and_sets_time(cmos: Rtc, clock: FakeClock) -> None:
    cmos.w(rtc.RTC_REG_B, 0x92)  # SET with UIE: SET clears UIE
    assert cmos.r(rtc.RTC_REG_B) == 0x82
    cmos.w(rtc.RTC_MINUTES, 0x30)
    cmos.w(rtc.RTC_SECONDS, 0x05)
    clock.advance(SEC + SEC // 4)
    assert cmos.r(rtc.RTC_SECONDS) == 0x05
    assert cmos.changes == []
    cmos.w(rtc.RTC_REG_B, 0x02)
    assert cmos.changes == [calendar.timegm((2006, 6, 17, 16, 30, 5))]
    assert (cmos.r(rtc.RTC_MINUTES), cmos.r(rtc.RTC_SECONDS)) == (0x30, 0x05)
    clock.advance(3 * SEC // 4 - 1)  # the second phase is kept from before SET
    assert cmos.r(rtc.RTC_SECONDS) == 0x05
    clock.advance(1)
    assert cmos.r(rtc.RTC_SECONDS) == 0x06


def test_writing_time_while_running(cmos: Rtc) -> None:
    cmos.w(rtc.RTC_HOURS, 0x09)
    assert cmos.changes == [calendar.timegm((2006, 6, 17, 9, 1, 21))]
    assert cmos.r(rtc.RTC_HOURS) == 0x09


def test_divider_reset_holds_time_and_restarts_half_a_second_later(cmos: Rtc, clock: FakeClock) -> None:
    cmos.w(rtc.RTC_REG_A, 0x70)
    clock.advance(SEC + SEC // 5)
    assert cmos.r(rtc.RTC_SECONDS) == 0x21
    assert cmos.r(rtc.RTC_REG_A) == 0x70
    cmos.w(rtc.RTC_REG_A, 0x26)
    clock.advance(SEC // 2 - 1)
    assert cmos.r(rtc.RTC_SECONDS) == 0x21
    clock.advance(1)
    assert cmos.r(rtc.RTC_SECONDS) == 0x22


def test_garbage_time_does_not_crash(cmos: Rtc) -> None:
    cmos.w(rtc.RTC_MONTH, 0xFF)
    cmos.w(rtc.RTC_DAY_OF_MONTH, 0x00)
    assert cmos.r(rtc.RTC_REG_A) == 0x26


def test_reset(cmos: Rtc, clock: FakeClock, irq: FakeIrq) -> None:
    cmos.w(rtc.RTC_SHUTDOWN_STATUS, 0x55)
    cmos.w(rtc.RTC_REG_B, 0x7A)
    clock.advance(SEC)
    assert irq.level == 1
    cmos.core.reset()
    assert irq.level == 0
    assert (cmos.r(rtc.RTC_REG_B), cmos.r(rtc.RTC_REG_C), cmos.r(0x0F)) == (0x12, 0x00, 0x00)
    cmos.w(rtc.RTC_SHUTDOWN_STATUS, 0xFE)  # an S3 resume marker survives
    cmos.core.reset()
    assert cmos.r(0x0F) == 0xFE


def test_mktimegm_matches_timegm() -> None:
    dates = [(1970, 1, 1, 0, 0, 0), (2024, 2, 29, 23, 59, 59), (2000, 3, 1, 0, 0, 0), (2106, 2, 7, 6, 28, 16)]
    for date in dates:
        assert mktimegm(*date) == calendar.timegm(date)


# -- the mc146818rtc device, through ports 0x70 / 0x71 ---------------------------------------


@pytest.fixture
def vm_rtc(board: Board, monkeypatch: pytest.MonkeyPatch) -> Board:
    """``-rtc base=2006-06-17T16:01:21,clock=vm`` on a board whose host time is fixed."""
    host_now = 1_700_000_000
    monkeypatch.setattr(time, "time", lambda: host_now + 0.25)
    board.host.rtc = SimpleNamespace(utc=True, offset_s=START - host_now, clock="vm")
    return board


def cmos_read(board: Board, index: int) -> int:
    board.outb(0x70, index)
    return board.inb(0x71)


def cmos_write(board: Board, index: int, value: int) -> None:
    board.outb(0x70, index)
    board.outb(0x71, value)


def test_device_defaults_and_date(vm_rtc: Board) -> None:
    dev = vm_rtc.create("mc146818rtc")
    assert [dev.property_get(p) for p in ("base_year", "iobase", "irq", "lost_tick_policy")] == [
        1980, 0x70, 8, "discard",
    ]
    assert (cmos_read(vm_rtc, rtc.RTC_YEAR), cmos_read(vm_rtc, rtc.RTC_CENTURY)) == (0x26, 0x00)
    assert dev.property_get("date") == {
        "tm_year": 106, "tm_sec": 21, "tm_hour": 16, "tm_min": 1, "tm_mon": 5, "tm_mday": 17,
    }
    assert dev.property_get_info("date").type == "struct tm"
    assert vm_rtc.inb(0x70) == 0xFF
    cmos_write(vm_rtc, rtc.RTC_REG_B, 0x12)  # -device leaves the IRQ unconnected, as QEMU 7.2 does
    vm_rtc.host.step(SEC)
    assert cmos_read(vm_rtc, rtc.RTC_REG_C) == 0x90
    assert vm_rtc.irqs[8] == []


def test_board_rtc_wires_irq8_and_rtc_time(vm_rtc: Board) -> None:
    dev = mc146818_rtc_init(vm_rtc.isa, 2000)
    assert dev.property_get("base_year") == 0
    assert cmos_read(vm_rtc, rtc.RTC_CENTURY) == 0x20
    cmos_write(vm_rtc, rtc.RTC_REG_B, 0x12)
    vm_rtc.host.step(SEC)
    assert vm_rtc.irqs[8] == [0, 1]
    assert cmos_read(vm_rtc, rtc.RTC_REG_C) == 0x90
    assert vm_rtc.irqs[8] == [0, 1, 0]
    assert vm_rtc.machine.property_get("rtc-time")["tm_sec"] == 22


def test_setting_the_time_sends_rtc_change(vm_rtc: Board) -> None:
    dev = vm_rtc.create("mc146818rtc")
    cmos_write(vm_rtc, rtc.RTC_HOURS, 0x17)  # one hour ahead of the -rtc base
    assert vm_rtc.host.events == [("RTC_CHANGE", {"offset": 3600, "qom-path": dev.canonical_path()})]


def test_device_errors(vm_rtc: Board) -> None:
    with pytest.raises(DeviceError, match=r'^Maximum value for "irq" is: 15$'):
        vm_rtc.create("mc146818rtc", irq=16)
    with pytest.raises(DeviceError, match=r"^Invalid lost tick policy\.$"):
        vm_rtc.create("mc146818rtc", lost_tick_policy="delay")
    with pytest.raises(ConfigError, match=r"^Parameter 'lost_tick_policy' does not accept value 'foo'$"):
        vm_rtc.create("mc146818rtc", lost_tick_policy="foo")


def test_machine_reset(vm_rtc: Board) -> None:
    from pyqemu.hw.core.reset import reset_machine

    mc146818_rtc_init(vm_rtc.isa, 2000)
    cmos_write(vm_rtc, rtc.RTC_REG_B, 0x42)
    vm_rtc.host.step(SEC // 100)
    assert vm_rtc.irqs[8][-1] == 1
    reset_machine(vm_rtc.machine)
    assert vm_rtc.irqs[8][-1] == 0
    assert cmos_read(vm_rtc, rtc.RTC_REG_B) == 0x02


def test_qtree_as_qemu_prints_it(vm_rtc: Board) -> None:
    from pyqemu.hw.core.qtree import qtree_info

    mc146818_rtc_init(vm_rtc.isa, 2000)
    assert qtree_info(vm_rtc.machine).endswith(
        '      dev: mc146818rtc, id ""\n'
        '        gpio-out "" 1\n'
        "        base_year = 0 (0x0)\n"
        "        iobase = 112 (0x70)\n"
        "        irq = 8 (0x8)\n"
        '        lost_tick_policy = "discard"\n'
    )
