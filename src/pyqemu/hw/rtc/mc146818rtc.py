"""The MC146818 real-time clock and CMOS RAM: its core, and the ``mc146818rtc`` ISA device.

The guest selects one of 128 bytes through the index port (0x70; bit 7, the
NMI mask on PCs, is not kept) and reads or writes it through the data port
(0x71).  Bytes 0-9 hold the time of day, 0x0a-0x0d the control registers
A-D; the rest is battery-backed RAM for the firmware.

Time is not ticked second by second.  As in QEMU 7.2's
``hw/rtc/mc146818rtc.c`` the guest time is a base (``base_rtc`` seconds at
clock time ``last_update``, plus a sub-second ``offset``), and the time
registers are recomputed from the clock whenever they are read.  Timers fire
only for guest-visible events: the periodic interrupt, and the update-ended
and alarm interrupts.  The update-in-progress bit (A.UIP) reads as set for
the last 244 us of each second, and stays latched from then until the
update timer has fired once it was seen.

:class:`MC146818Core` takes its IRQ, clock and timers as arguments (no
QOM); :class:`MC146818RtcState` wires it to the ISA bus, the ``-rtc``
settings and the main loop.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable
from typing import Any

from pyqemu.hw.core.irq import GpioOutput, Irq, qdev_connect_gpio_out, qdev_init_gpio_out
from pyqemu.hw.core.machine import WakeupReason
from pyqemu.hw.core.qdev import qdev_get_machine
from pyqemu.hw.core.qdev_properties import prop_enum, prop_int32, prop_uint8, prop_uint16
from pyqemu.hw.isa.isa_bus import (
    ISA_NUM_IRQS,
    IsaBus,
    IsaDevice,
    isa_connect_gpio_out,
    isa_new,
    isa_realize_and_unref,
    isa_register_ioport,
)
from pyqemu.hw.rtc.mc146818rtc_regs import (
    ALARMS,
    CMOS_SIZE,
    DEFAULT_BASE_YEAR,
    DIVIDER_RESET_DELAY_NS,
    DONT_CARE,
    HOURS_PM,
    INDEX_MASK,
    LEGACY_BASE_YEAR,
    MIN_PER_HOUR,
    REG_A_DV_MASK,
    REG_A_DV_RESET,
    REG_A_DV_RUNNING_MAX,
    REG_A_RATE_MASK,
    REG_A_UIP,
    REG_B_24H,
    REG_B_AIE,
    REG_B_DM,
    REG_B_PIE,
    REG_B_SET,
    REG_B_SQWE,
    REG_B_UIE,
    REG_C_AF,
    REG_C_IRQF,
    REG_C_MASK,
    REG_C_PF,
    REG_C_UF,
    REG_D_VRT,
    RESET_REG_A,
    RESET_REG_B,
    RTC_CENTURY,
    RTC_DAY_OF_MONTH,
    RTC_DAY_OF_WEEK,
    RTC_HOURS,
    RTC_HOURS_ALARM,
    RTC_IBM_PS2_CENTURY_BYTE,
    RTC_MINUTES,
    RTC_MINUTES_ALARM,
    RTC_MONTH,
    RTC_REG_A,
    RTC_REG_B,
    RTC_REG_C,
    RTC_REG_D,
    RTC_SECONDS,
    RTC_SECONDS_ALARM,
    RTC_SHUTDOWN_STATUS,
    RTC_YEAR,
    SEC_PER_DAY,
    SEC_PER_MIN,
    SUSPEND_RESUME_STATUS,
    TIME_REGS,
    UIP_HOLD_NS,
    mktimegm,
    next_alarm_match,
    ns_at,
    period_ticks,
    ticks_at,
)
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type
from pyqemu.qom.property import ObjectProperty
from pyqemu.util.errors import DeviceError
from pyqemu.util.main_loop import NS_PER_SEC, ClockType, Timer

SetIrq = Callable[[int], None]


class MC146818Core:
    """The RTC: ``read(offset)`` / ``write(offset, value)`` with offset 0 (index) or 1 (data).

    ``now_ns`` is the RTC's clock (host, realtime or virtual, per ``-rtc
    clock=``) and ``new_timer`` makes timers on it; ``start_s`` is the guest
    time at creation, in seconds since the epoch of the broken-down time the
    guest should see (UTC or local time, per ``-rtc base=``);
    ``time_changed(seconds)`` is told the guest's time each time it sets the
    clock (for QMP's RTC_CHANGE event); ``alarm_wakeup()`` is called when an
    enabled alarm fires (it may wake a suspended guest).
    """

    def __init__(
        self,
        set_irq: SetIrq,
        now_ns: Callable[[], int],
        new_timer: Callable[[Callable[[], None]], Timer],
        start_s: int,
        *,
        base_year: int = DEFAULT_BASE_YEAR,
        time_changed: Callable[[int], None] | None = None,
        alarm_wakeup: Callable[[], None] | None = None,
    ):
        self._set_irq_line = set_irq
        self._irq_level: int | None = None
        self._now_ns = now_ns
        self._time_changed = time_changed
        self._alarm_wakeup = alarm_wakeup
        self.base_year = 0 if base_year == LEGACY_BASE_YEAR else base_year
        self.cmos = bytearray(CMOS_SIZE)
        self.index = 0
        self.cmos[RTC_REG_A] = RESET_REG_A
        self.cmos[RTC_REG_B] = RESET_REG_B
        self.cmos[RTC_REG_D] = REG_D_VRT
        self.period = 0
        self.next_periodic_time = 0
        self.next_alarm_time = 0
        self._periodic_timer = new_timer(self._periodic_tick)
        self._update_timer = new_timer(self._update_ended)
        self.base_rtc = start_s
        self.last_update = now_ns()
        self.offset = 0
        self._set_cmos_time(time.gmtime(start_s))
        self._check_update_timer()

    def _set_irq(self, level: int) -> None:
        """Drive IRQ 8, on changes only (a repeated raise is no new edge)."""
        if level != self._irq_level:
            self._irq_level = level
            self._set_irq_line(level)

    # -- register access ------------------------------------------------------

    def read(self, offset: int, size: int = 1) -> int:
        """The index port reads 0xff; the data port the selected byte."""
        if not offset & 1:
            return 0xFF
        index = self._select()
        if index in TIME_REGS:
            if self._running():
                self._update_time()
            return self.cmos[index]
        if index == RTC_REG_A:
            uip = REG_A_UIP if self._update_in_progress() else 0
            return self.cmos[RTC_REG_A] | uip
        if index == RTC_REG_C:
            return self._read_reg_c()
        return self.cmos[index]

    def write(self, offset: int, value: int, size: int = 1) -> None:
        """Offset 0 selects a byte (bit 7, the PC's NMI mask, is dropped); offset 1 writes it."""
        value &= 0xFF
        if not offset & 1:
            self.index = value & INDEX_MASK
            return
        index = self._select()
        if index in ALARMS:
            self.cmos[index] = value
            self._check_update_timer()
        elif index in TIME_REGS:
            self.cmos[index] = value
            if self._running():  # in SET mode the time is taken when SET is cleared
                self._set_time()
                self._check_update_timer()
        elif index == RTC_REG_A:
            self._write_reg_a(value)
        elif index == RTC_REG_B:
            self._write_reg_b(value)
        elif index not in (RTC_REG_C, RTC_REG_D):  # C and D are read-only
            self.cmos[index] = value

    def reset(self) -> None:
        """Machine reset: interrupts off and flags cleared; the time keeps running."""
        if self.cmos[RTC_SHUTDOWN_STATUS] != SUSPEND_RESUME_STATUS:
            self.cmos[RTC_SHUTDOWN_STATUS] = 0
        self.cmos[RTC_REG_B] &= ~(REG_B_PIE | REG_B_AIE | REG_B_SQWE)
        self.cmos[RTC_REG_C] &= ~(REG_C_UF | REG_C_IRQF | REG_C_PF | REG_C_AF)
        self._check_update_timer()
        self._set_irq(0)

    def get_time(self) -> dict[str, int]:
        """The current guest time as a struct tm (the ``date`` property)."""
        self._update_time()
        return self._cmos_tm()

    # -- time -------------------------------------------------------------------

    def _select(self) -> int:
        if self.index == RTC_IBM_PS2_CENTURY_BYTE:
            self.index = RTC_CENTURY
        return self.index

    def _running(self) -> bool:
        return not self.cmos[RTC_REG_B] & REG_B_SET and (
            self.cmos[RTC_REG_A] & REG_A_DV_MASK
        ) <= REG_A_DV_RUNNING_MAX

    def guest_ns(self) -> int:
        """Guest time in nanoseconds since the epoch."""
        return self.base_rtc * NS_PER_SEC + self._now_ns() - self.last_update + self.offset

    def _to_bcd(self, value: int) -> int:
        if not self.cmos[RTC_REG_B] & REG_B_DM:
            value = ((value // 10) << 4) | (value % 10)
        return value & 0xFF  # a byte register, whatever time the guest set

    def _from_bcd(self, value: int) -> int:
        """A register's number; -1 for a don't-care value."""
        if value & DONT_CARE == DONT_CARE:
            return -1
        if self.cmos[RTC_REG_B] & REG_B_DM:
            return value
        return (value >> 4) * 10 + (value & 0x0F)

    def _hour_24(self, hour: int) -> int:
        if not self.cmos[RTC_REG_B] & REG_B_24H:
            hour %= 12
            if self.cmos[RTC_HOURS] & HOURS_PM:
                hour += 12
        return hour

    def _set_cmos_time(self, tm: time.struct_time) -> None:
        regs = self.cmos
        regs[RTC_SECONDS] = self._to_bcd(tm.tm_sec)
        regs[RTC_MINUTES] = self._to_bcd(tm.tm_min)
        if regs[RTC_REG_B] & REG_B_24H:
            regs[RTC_HOURS] = self._to_bcd(tm.tm_hour)
        else:
            regs[RTC_HOURS] = self._to_bcd(tm.tm_hour % 12 or 12) | (HOURS_PM if tm.tm_hour >= 12 else 0)
        regs[RTC_DAY_OF_WEEK] = self._to_bcd((tm.tm_wday + 1) % 7 + 1)  # Sunday is 1
        regs[RTC_DAY_OF_MONTH] = self._to_bcd(tm.tm_mday)
        regs[RTC_MONTH] = self._to_bcd(tm.tm_mon)
        year = tm.tm_year - self.base_year
        regs[RTC_YEAR] = self._to_bcd(year % 100)
        regs[RTC_CENTURY] = self._to_bcd(year // 100)

    def _cmos_tm(self) -> dict[str, int]:
        """The time registers as a C struct tm (years since 1900, months from 0)."""
        regs = self.cmos
        year = (
            self._from_bcd(regs[RTC_YEAR]) + self.base_year + self._from_bcd(regs[RTC_CENTURY]) * 100 - 1900
        )
        return {
            "tm_year": year,
            "tm_sec": self._from_bcd(regs[RTC_SECONDS]),
            "tm_hour": self._hour_24(self._from_bcd(regs[RTC_HOURS] & 0x7F)),
            "tm_min": self._from_bcd(regs[RTC_MINUTES]),
            "tm_mon": self._from_bcd(regs[RTC_MONTH]) - 1,
            "tm_mday": self._from_bcd(regs[RTC_DAY_OF_MONTH]),
        }

    def _update_time(self) -> None:
        """Bring the time registers up to the clock (not while SET freezes them)."""
        if not self.cmos[RTC_REG_B] & REG_B_SET:
            self._set_cmos_time(time.gmtime(self.guest_ns() // NS_PER_SEC))

    def _set_time(self) -> None:
        """Take the time the guest wrote into the registers as the new base."""
        tm = self._cmos_tm()
        self.base_rtc = mktimegm(
            tm["tm_year"] + 1900, tm["tm_mon"] + 1, tm["tm_mday"], tm["tm_hour"], tm["tm_min"], tm["tm_sec"]
        )
        self.last_update = self._now_ns()
        if self._time_changed is not None:
            self._time_changed(self.base_rtc)

    def _update_in_progress(self) -> bool:
        if not self._running():
            return False
        expire = self._update_timer.expire_ns
        if expire is not None and self._now_ns() >= expire - UIP_HOLD_NS:
            # Latch UIP until the update timer has run.
            self.cmos[RTC_REG_A] |= REG_A_UIP
            return True
        return self.guest_ns() % NS_PER_SEC >= NS_PER_SEC - UIP_HOLD_NS

    # -- control registers --------------------------------------------------------

    def _write_reg_a(self, value: int) -> None:
        rate_changed = bool((self.cmos[RTC_REG_A] ^ value) & REG_A_RATE_MASK)
        old_period = self._period_ticks()
        if value & REG_A_DV_RESET == REG_A_DV_RESET:
            if self._running():
                self._update_time()
            self.cmos[RTC_REG_A] &= ~REG_A_UIP
        elif (
            self.cmos[RTC_REG_A] & REG_A_DV_RESET == REG_A_DV_RESET
            and value & REG_A_DV_MASK <= REG_A_DV_RUNNING_MAX
        ):
            # Leaving divider reset: the first update comes half a second later.
            if not self.cmos[RTC_REG_B] & REG_B_SET:
                self.offset = DIVIDER_RESET_DELAY_NS
                self._set_time()
            self.cmos[RTC_REG_A] &= ~REG_A_UIP
        self.cmos[RTC_REG_A] = (value & ~REG_A_UIP) | (self.cmos[RTC_REG_A] & REG_A_UIP)
        if rate_changed:
            self._periodic_update(self._now_ns(), old_period, period_change=True)
        self._check_update_timer()

    def _write_reg_b(self, value: int) -> None:
        pie_changed = bool((self.cmos[RTC_REG_B] ^ value) & REG_B_PIE)
        old_period = self._period_ticks()
        if value & REG_B_SET:
            if self._running():
                self._update_time()  # freeze the registers at the current time
            self.cmos[RTC_REG_A] &= ~REG_A_UIP
            value &= ~REG_B_UIE  # setting SET clears UIE
        elif self.cmos[RTC_REG_B] & REG_B_SET and (
            self.cmos[RTC_REG_A] & REG_A_DV_MASK
        ) <= REG_A_DV_RUNNING_MAX:
            # Leaving SET mode: the registers are the new time, mid-second.
            self.offset = self.guest_ns() % NS_PER_SEC
            self._set_time()
        # A flag already set when its interrupt is enabled interrupts at once.
        if value & self.cmos[RTC_REG_C] & REG_C_MASK:
            self.cmos[RTC_REG_C] |= REG_C_IRQF
            self._set_irq(1)
        else:
            self.cmos[RTC_REG_C] &= ~REG_C_IRQF
            self._set_irq(0)
        self.cmos[RTC_REG_B] = value
        if pie_changed:
            self._periodic_update(self._now_ns(), old_period, period_change=True)
        self._check_update_timer()

    def _read_reg_c(self) -> int:
        value = self.cmos[RTC_REG_C]
        self._set_irq(0)
        self.cmos[RTC_REG_C] = 0
        if value & (REG_C_UF | REG_C_AF):
            self._check_update_timer()
        return value

    # -- the periodic interrupt ---------------------------------------------------

    def _period_ticks(self) -> int:
        if not self.cmos[RTC_REG_B] & REG_B_PIE:
            return 0
        return period_ticks(self.cmos[RTC_REG_A] & REG_A_RATE_MASK)

    def _periodic_update(self, now: int, old_period: int, period_change: bool) -> None:
        """Program the next periodic tick on the 32 kHz grid (lost ticks are dropped)."""
        self.period = period = self._period_ticks()
        if not period:
            self._periodic_timer.delete()
            return
        cur_clock = ticks_at(now)
        lost = 0
        if old_period and period_change:
            # A new period counts from the last tick of the old one.
            last_tick = ticks_at(self.next_periodic_time) - old_period
            lost = min(cur_clock - last_tick, period)
        self.next_periodic_time = ns_at(cur_clock + period - lost) + 1
        self._periodic_timer.mod(self.next_periodic_time)

    def _periodic_tick(self) -> None:
        self._periodic_update(self.next_periodic_time, self.period, period_change=False)
        self.cmos[RTC_REG_C] |= REG_C_PF
        if self.cmos[RTC_REG_B] & REG_B_PIE:
            self.cmos[RTC_REG_C] |= REG_C_IRQF
            self._set_irq(1)

    # -- update-ended and alarm interrupts ----------------------------------------

    def _check_update_timer(self) -> None:
        """Program the update timer: the next second boundary, or the alarm if only AF can change."""
        regs = self.cmos
        if regs[RTC_REG_A] & REG_A_DV_RESET == REG_A_DV_RESET:
            # The datasheet: dividers in reset stop interrupts (SET does not).
            self._update_timer.delete()
            return
        now = self._now_ns()
        next_update = now + NS_PER_SEC - self.guest_ns() % NS_PER_SEC
        self.next_alarm_time = next_update + (self._seconds_to_alarm() - 1) * NS_PER_SEC
        if not regs[RTC_REG_A] & REG_A_UIP and regs[RTC_REG_C] & REG_C_UF:
            # UF is already set: only AF can still change.
            if regs[RTC_REG_B] & REG_B_SET or regs[RTC_REG_C] & REG_C_AF:
                self._update_timer.delete()
                return
            next_update = self.next_alarm_time
        if next_update != self._update_timer.expire_ns:
            self._update_timer.mod(next_update)

    def _seconds_to_alarm(self) -> int:
        """Seconds from now to the next alarm match, 1 to 86400 (don't-care bytes match anything)."""
        self._update_time()
        regs = self.cmos
        alarm_sec = self._from_bcd(regs[RTC_SECONDS_ALARM])
        alarm_min = self._from_bcd(regs[RTC_MINUTES_ALARM])
        alarm_hour = self._from_bcd(regs[RTC_HOURS_ALARM])
        if alarm_hour != -1:
            alarm_hour = self._hour_24(alarm_hour)
        cur_sec = self._from_bcd(regs[RTC_SECONDS])
        cur_min = self._from_bcd(regs[RTC_MINUTES])
        cur_hour = self._hour_24(self._from_bcd(regs[RTC_HOURS]))
        alarm_hour, alarm_min, alarm_sec = next_alarm_match(
            (alarm_hour, alarm_min, alarm_sec), (cur_hour, cur_min, cur_sec)
        )
        seconds = ((alarm_hour - cur_hour) * MIN_PER_HOUR + alarm_min - cur_min) * SEC_PER_MIN
        seconds += alarm_sec - cur_sec
        return seconds if seconds > 0 else seconds + SEC_PER_DAY

    def _update_ended(self) -> None:
        assert self.cmos[RTC_REG_A] & REG_A_DV_RESET != REG_A_DV_RESET
        self._update_time()
        self.cmos[RTC_REG_A] &= ~REG_A_UIP  # a latched UIP ends with the update
        irqs = REG_C_UF
        if self._now_ns() >= self.next_alarm_time:
            irqs |= REG_C_AF
            if self.cmos[RTC_REG_B] & REG_B_AIE and self._alarm_wakeup is not None:
                self._alarm_wakeup()
        new_irqs = irqs & ~self.cmos[RTC_REG_C]
        self.cmos[RTC_REG_C] |= irqs
        if new_irqs & self.cmos[RTC_REG_B]:
            self.cmos[RTC_REG_C] |= REG_C_IRQF
            self._set_irq(1)
        self._check_update_timer()



# -- the QOM device ("mc146818rtc") ---------------------------------------------------

RTC_ISA_BASE = 0x70
RTC_ISA_IRQ = 8
IO_SIZE = 2
LOST_TICK_POLICIES = ("discard", "delay", "slew")  # QAPI's LostTickPolicy
SUPPORTED_LOST_TICK_POLICIES = ("discard", "slew")
#: ``-rtc clock=`` values and the clock each names.
RTC_CLOCKS = {"host": ClockType.HOST, "rt": ClockType.REALTIME, "vm": ClockType.VIRTUAL}
STRUCT_TM = "struct tm"


def guest_start_seconds(rtc: Any) -> int:
    """Where the guest's clock starts (QEMU's ``qemu_get_timedate``), from ``-rtc`` settings.

    Host time plus the ``base=DATE`` offset, broken down in UTC or local time,
    as seconds since the epoch of that broken-down time.  ``rtc`` has the
    ``utc`` and ``offset_s`` of :class:`~pyqemu.system.rtc_config.RtcConfig`, or is None.
    """
    now = int(time.time()) + (rtc.offset_s if rtc is not None else 0)
    utc = rtc is None or rtc.utc
    return calendar.timegm(time.gmtime(now) if utc else time.localtime(now))


def _rtc_change_offset(rtc: Any, guest_s: int) -> int:
    """RTC_CHANGE's ``offset``: the guest's new time minus the ``-rtc`` reference (``qemu_timedate_diff``)."""
    seconds = guest_s
    if rtc is not None and not rtc.utc:
        seconds = int(time.mktime((*time.gmtime(guest_s)[:8], -1)))
    return seconds - (int(time.time()) + (rtc.offset_s if rtc is not None else 0))


@register_type
class MC146818RtcState(IsaDevice):
    """The PC's RTC and CMOS RAM (type ``mc146818rtc``).

    Its interrupt is unnamed GPIO output 0, which :func:`mc146818_rtc_init`
    (board code) connects to ISA IRQ ``irq``; a ``-device mc146818rtc`` is
    left unconnected, as in QEMU 7.2.  ``lost_tick_policy=slew`` is accepted
    but behaves as ``discard``.
    """

    TYPE = "mc146818rtc"
    CATEGORY = "Misc devices"
    PROPERTIES = (
        prop_int32("base_year", default=DEFAULT_BASE_YEAR),
        prop_uint16("iobase", default=RTC_ISA_BASE),
        prop_uint8("irq", default=RTC_ISA_IRQ),
        prop_enum("lost_tick_policy", "LostTickPolicy", LOST_TICK_POLICIES, "discard"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.core: MC146818Core | None = None
        self.irq_out: GpioOutput | None = None

    def _core(self) -> MC146818Core:
        assert self.core is not None, "mc146818rtc used before realize"
        return self.core

    def realize(self) -> None:
        if self.base_year == LEGACY_BASE_YEAR:
            self.base_year = 0
        if self.irq >= ISA_NUM_IRQS:
            raise DeviceError(f'Maximum value for "irq" is: {ISA_NUM_IRQS - 1}')
        if self.lost_tick_policy not in SUPPORTED_LOST_TICK_POLICIES:
            raise DeviceError("Invalid lost tick policy.")
        host = qdev_get_machine(self).host
        kind = RTC_CLOCKS[host.rtc.clock if host.rtc is not None else "host"]
        loop = host.main_loop
        self.core = MC146818Core(
            self._set_irq,
            loop.clock(kind).now_ns,
            lambda callback: loop.timer_new(kind, callback),
            guest_start_seconds(host.rtc),
            base_year=self.base_year,
            time_changed=self._time_changed,
            alarm_wakeup=lambda: host.wakeup(WakeupReason.RTC),
        )
        ops = MemoryRegionOps(
            read=self.core.read, write=self.core.write, endianness=Endianness.LITTLE, impl=AccessSizes(1, 1)
        )
        region = MemoryRegion.new_io(self, ops, "rtc", IO_SIZE)
        region.add_subregion(0, MemoryRegion.new_io(self, ops, "rtc-index", 1))
        isa_register_ioport(self, region, self.iobase)
        self.property_add(ObjectProperty("date", STRUCT_TM, get=lambda _obj: self._core().get_time()))
        (self.irq_out,) = qdev_init_gpio_out(self, 1)

    def reset(self) -> None:
        if self.core is not None:
            self.core.reset()

    def _set_irq(self, level: int) -> None:
        if self.irq_out is not None:
            self.irq_out.set(level)

    def _time_changed(self, guest_s: int) -> None:
        host = qdev_get_machine(self).host
        offset = _rtc_change_offset(host.rtc, guest_s)
        host.emit_event("RTC_CHANGE", {"offset": offset, "qom-path": self.canonical_path()})


def mc146818_rtc_init(bus: IsaBus, base_year: int, intercept_irq: Irq | None = None) -> MC146818RtcState:
    """Board code: create the RTC on ``bus``, wire its IRQ, and alias it as the machine's ``rtc-time``."""
    dev = isa_new(MC146818RtcState.TYPE)
    assert isinstance(dev, MC146818RtcState)
    dev.property_set("base_year", base_year)
    isa_realize_and_unref(dev, bus)
    if intercept_irq is not None:
        qdev_connect_gpio_out(dev, 0, intercept_irq)
    else:
        isa_connect_gpio_out(dev, 0, dev.irq)
    qdev_get_machine(dev).add_alias("rtc-time", dev, "date")
    return dev
