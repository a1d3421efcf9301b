"""The ACPI fixed-feature hardware every chipset shares (QEMU's ``hw/acpi/core.c``, ``ACPIREGS``).

:class:`AcpiRegs` holds the registers of one chipset and drives its System
Control Interrupt (SCI):

- PM1a event block (``acpi-evt``, 4 bytes): PM1_STS at 0 (write 1 to clear)
  and PM1_EN at 2.  Only 16-bit accesses at 0 and 2 mean anything: a byte
  at 1 or 3 reads 0 and its write is dropped, as QEMU 7.2 does.
- PM1a control (``acpi-cnt``, 2 bytes): SCI_EN, and SLP_TYP with SLP_EN to
  sleep.  Sleep type 0 is soft-off (S5: the guest powers off), 1 is S3
  (suspend to RAM), ``s4_val`` is S4 (a SUSPEND_DISK event, then power off)
  — the values QEMU's own ACPI tables hand the guest.  QEMU 7.2 ignores the
  address of a byte write here: it becomes the whole register.
- PM timer (``acpi-tmr``, 4 bytes, read-only): a 24-bit counter at
  3.579545 MHz of the virtual clock.  TMR_STS is set each time bit 23
  flips (every 2**23 ticks, about 2.34 s); with TMR_EN that raises the SCI.
- GPE0 (``acpi-gpe0``): status bytes (write 1 to clear), then as many
  enable bytes; only the first byte of each takes part in the SCI, as in QEMU.

The SCI is level-triggered: it is high while an enabled PM1 status bit
(timer, global lock, power button, RTC) or an enabled GPE0 status bit of
byte 0 is set.  The MMIO/port glue is :func:`map_pm1_regions` and
:func:`new_gpe_region`; what a guest's sleep request asks of the emulator
goes through a :class:`PowerRequests` (:class:`pyqemu.hw.acpi.host.HostPower`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, Protocol

from pyqemu.hw.core.machine import WakeupReason
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegion, MemoryRegionOps

PM_TIMER_FREQUENCY = 3_579_545
NANOSECONDS_PER_SECOND = 1_000_000_000
#: The PM timer is 24 bits wide; TMR_STS is set when bit 23 changes.
PM_TIMER_MASK = 0xFFFFFF
PM_TIMER_OVERFLOW = 0x800000

# PM1_STS bits.
TMR_STS = 0x0001
BM_STS = 0x0010
GBL_STS = 0x0020
PWRBTN_STS = 0x0100
SLPBTN_STS = 0x0200
RTC_STS = 0x0400
WAK_STS = 0x8000
# PM1_EN bits.
TMR_EN = 0x0001
GBL_EN = 0x0020
PWRBTN_EN = 0x0100
SLPBTN_EN = 0x0200
RTC_EN = 0x0400
#: The enable bits that raise the SCI (QEMU 7.2 leaves the sleep button out).
PM1_SCI_ENABLES = RTC_EN | PWRBTN_EN | GBL_EN | TMR_EN
# PM1_CNT bits.
SCI_EN = 0x0001
SLP_TYP_SHIFT = 10
SLP_TYP_MASK = 0x7
SLP_EN = 0x2000
SLP_TYP_S5 = 0
SLP_TYP_S3 = 1
DEFAULT_S4_VAL = 2

# Offsets in the PM1 container, and the register sizes.
PM1_EVT_OFFSET = 0x00
PM1_CNT_OFFSET = 0x04
PM_TMR_OFFSET = 0x08
PM1_EVT_LEN = 4
PM1_CNT_LEN = 2
PM_TMR_LEN = 4
PM1_STS = 0
PM1_EN = 2

#: The PM1 status bits a wake-up sets, by its reason.
_WAKEUP_STATUS = {
    WakeupReason.RTC: WAK_STS | RTC_STS,
    WakeupReason.PMTIMER: WAK_STS | TMR_STS,
    WakeupReason.OTHER: WAK_STS | PWRBTN_STS,  # QEMU pretends the power button woke the guest
}


class AcpiEvent(enum.IntFlag):
    """GPE0 status bits QEMU's ACPI tables assign to events (``AcpiEventStatusBits``)."""

    PCI_HOTPLUG = 2
    CPU_HOTPLUG = 4
    MEMORY_HOTPLUG = 8
    NVDIMM_HOTPLUG = 16
    VMGENID_CHANGE = 32
    POWER_DOWN = 64


class Timer(Protocol):
    def mod(self, expire_ns: int) -> None: ...

    def delete(self) -> None: ...


class GuestClock(Protocol):
    """The virtual clock: its time and one-shot timers (the main loop's, or a test's fake)."""

    def now_ns(self) -> int: ...

    def new_timer(self, callback: Callable[[], None]) -> Timer: ...


class PowerRequests(Protocol):
    """What a guest's sleep request and the wake-up enables ask of the emulator."""

    def shutdown(self) -> None: ...

    def suspend(self) -> None: ...

    def suspend_disk(self) -> None: ...

    def wakeup_enable(self, reason: WakeupReason, enabled: bool) -> None: ...

    def wakeup(self, reason: WakeupReason) -> None: ...


def ranges_overlap(offset: int, size: int, start: int, length: int) -> bool:
    """Whether ``size`` bytes at ``offset`` touch ``length`` bytes at ``start`` (a config write's reach)."""
    return offset < start + length and start < offset + size


def muldiv64(a: int, b: int, c: int) -> int:
    """``a * b / c`` rounded down, as QEMU's ``muldiv64``."""
    return a * b // c


class AcpiRegs:
    """PM1a event and control, the PM timer and GPE0 of one chipset (QEMU's ``ACPIREGS``).

    ``sci(level)`` drives the SCI line.  ``gpe_len`` is the GPE0 block's
    length (half status, half enable).  With ``acpi_only`` (no SMM to hand
    over from) SCI_EN is always set and the APM enable/disable commands do
    nothing.
    """

    def __init__(self, sci: Callable[[int], None], clock: GuestClock, power: PowerRequests, gpe_len: int, *,
                 s4_val: int = DEFAULT_S4_VAL, acpi_only: bool = False):
        self._sci = sci
        self._clock = clock
        self._power = power
        self._timer = clock.new_timer(self._timer_expired)
        self.s4_val = s4_val
        self.acpi_only = acpi_only
        self.gpe_len = gpe_len
        self.pm1_sts = 0
        self.pm1_en = 0
        self.pm1_cnt = SCI_EN if acpi_only else 0
        #: The PM timer value (in ticks) at which TMR_STS is set next.
        self.overflow_time = 0
        self.gpe_sts = bytearray(gpe_len // 2)
        self.gpe_en = bytearray(gpe_len // 2)

    # -- the SCI ---------------------------------------------------------------

    def sci_level(self) -> int:
        pending = self.status() & self.pm1_en & PM1_SCI_ENABLES
        return int(bool(pending) or bool(self.gpe_sts[0] & self.gpe_en[0]))

    def update_sci(self) -> None:
        """Drive the SCI, and arm the timer for the next overflow if TMR_EN waits for it."""
        self._sci(self.sci_level())
        waiting = bool(self.pm1_en & TMR_EN) and not self.pm1_sts & TMR_STS
        self._update_timer(waiting)

    # -- PM timer ----------------------------------------------------------------

    def ticks(self) -> int:
        """PM timer ticks since the virtual clock started."""
        return muldiv64(self._clock.now_ns(), PM_TIMER_FREQUENCY, NANOSECONDS_PER_SECOND)

    def _overflow_ns(self) -> int:
        return muldiv64(self.overflow_time, NANOSECONDS_PER_SECOND, PM_TIMER_FREQUENCY)

    def _calc_overflow_time(self) -> None:
        self.overflow_time = (self.ticks() + PM_TIMER_OVERFLOW) & ~(PM_TIMER_OVERFLOW - 1)

    def _update_timer(self, enable: bool) -> None:
        if enable:
            self._timer.mod(self._overflow_ns())
        else:
            self._timer.delete()

    def _timer_expired(self) -> None:
        self._power.wakeup(WakeupReason.PMTIMER)
        self.update_sci()

    def tmr_read(self, offset: int, size: int) -> int:
        return self.ticks() & PM_TIMER_MASK

    def tmr_write(self, offset: int, value: int, size: int) -> None:
        """The timer is read-only."""

    # -- PM1 event block -----------------------------------------------------------

    def status(self) -> int:
        """PM1_STS, with TMR_STS set once the timer has passed its overflow point."""
        if self._clock.now_ns() >= self._overflow_ns():
            self.pm1_sts |= TMR_STS
        return self.pm1_sts

    def evt_read(self, offset: int, size: int) -> int:
        if offset == PM1_STS:
            return self.status()
        return self.pm1_en if offset == PM1_EN else 0

    def evt_write(self, offset: int, value: int, size: int) -> None:
        if offset == PM1_STS:
            if self.status() & value & TMR_STS:
                self._calc_overflow_time()
            self.pm1_sts &= ~value
        elif offset == PM1_EN:
            self.pm1_en = value
            self._power.wakeup_enable(WakeupReason.RTC, bool(value & RTC_EN))
            self._power.wakeup_enable(WakeupReason.PMTIMER, bool(value & TMR_EN))
        else:
            return
        self.update_sci()

    def power_down(self) -> None:
        """The power button (``system_powerdown``): PWRBTN_STS, if the guest enabled it."""
        if self.pm1_en & PWRBTN_EN:
            self.pm1_sts |= PWRBTN_STS
            self.update_sci()

    def notify_wakeup(self, reason: WakeupReason) -> None:
        """The guest resumed from S3 because of ``reason``: WAK_STS and the cause's status bit."""
        self.pm1_sts |= _WAKEUP_STATUS.get(reason, 0)

    # -- PM1 control -----------------------------------------------------------------

    def cnt_read(self, offset: int, size: int) -> int:
        return self.pm1_cnt

    def cnt_write(self, offset: int, value: int, size: int) -> None:
        """Set PM1_CNT; SLP_EN (never stored) enters the sleep state SLP_TYP names."""
        self.pm1_cnt = value & ~SLP_EN
        if not value & SLP_EN:
            return
        sleep_type = (value >> SLP_TYP_SHIFT) & SLP_TYP_MASK
        if sleep_type == SLP_TYP_S5:
            self._power.shutdown()
        elif sleep_type == SLP_TYP_S3:
            self._power.suspend()
        elif sleep_type == self.s4_val:
            self._power.suspend_disk()

    def set_sci_enable(self, enable: bool, disable: bool) -> None:
        """The APM ACPI-enable / ACPI-disable commands: set or clear SCI_EN."""
        if self.acpi_only:
            return
        if enable:
            self.pm1_cnt |= SCI_EN
        elif disable:
            self.pm1_cnt &= ~SCI_EN

    # -- GPE0 ------------------------------------------------------------------------

    def gpe_read(self, offset: int, size: int = 1) -> int:
        half = self.gpe_len // 2
        return self.gpe_sts[offset] if offset < half else self.gpe_en[offset - half]

    def gpe_write(self, offset: int, value: int, size: int = 1) -> None:
        half = self.gpe_len // 2
        if offset < half:
            self.gpe_sts[offset] &= ~value & 0xFF
        else:
            self.gpe_en[offset - half] = value & 0xFF
        self.update_sci()

    def send_gpe(self, event: int) -> None:
        """Raise ``event`` (:class:`AcpiEvent` bits) in GPE0 status byte 0 (``acpi_send_gpe_event``)."""
        self.gpe_sts[0] |= event
        self.update_sci()

    # -- reset -------------------------------------------------------------------------

    def reset(self) -> None:
        """Power-on state of every block, then the SCI (QEMU's ``acpi_*_reset`` + ``acpi_update_sci``)."""
        self.pm1_sts = self.pm1_en = 0
        self._power.wakeup_enable(WakeupReason.RTC, False)
        self._power.wakeup_enable(WakeupReason.PMTIMER, False)
        self.pm1_cnt = SCI_EN if self.acpi_only else 0
        self.overflow_time = 0
        self._timer.delete()
        self.gpe_sts[:] = bytes(len(self.gpe_sts))
        self.gpe_en[:] = bytes(len(self.gpe_en))
        self.update_sci()


# -- the registers as I/O regions ------------------------------------------------------


def _ops(read: Callable[[int, int], int], write: Callable[[int, int, int], None],
         valid: AccessSizes, impl: AccessSizes) -> MemoryRegionOps:
    return MemoryRegionOps(read=read, write=write, endianness=Endianness.LITTLE, valid=valid, impl=impl)


def map_pm1_regions(owner: Any, regs: AcpiRegs, container: MemoryRegion) -> None:
    """``acpi-tmr``, ``acpi-evt`` and ``acpi-cnt`` of ``owner``, mapped in the PM ``container``."""
    tmr = MemoryRegion.new_io(
        owner, _ops(regs.tmr_read, regs.tmr_write, AccessSizes(1, 4), AccessSizes(4)), "acpi-tmr", PM_TMR_LEN
    )
    container.add_subregion(PM_TMR_OFFSET, tmr)
    evt = MemoryRegion.new_io(
        owner, _ops(regs.evt_read, regs.evt_write, AccessSizes(1, 2), AccessSizes(2)), "acpi-evt", PM1_EVT_LEN
    )
    container.add_subregion(PM1_EVT_OFFSET, evt)
    cnt = MemoryRegion.new_io(
        owner, _ops(regs.cnt_read, regs.cnt_write, AccessSizes(1, 2), AccessSizes(2)), "acpi-cnt", PM1_CNT_LEN
    )
    container.add_subregion(PM1_CNT_OFFSET, cnt)


def new_gpe_region(owner: Any, regs: AcpiRegs) -> MemoryRegion:
    """The GPE0 block ``acpi-gpe0`` (byte registers; wider accesses are split), unmapped."""
    ops = _ops(regs.gpe_read, regs.gpe_write, AccessSizes(1, 4), AccessSizes(1, 1))
    return MemoryRegion.new_io(owner, ops, "acpi-gpe0", regs.gpe_len)
