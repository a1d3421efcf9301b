"""The High Precision Event Timer: its core, and the ``hpet`` system-bus device.

A 64-bit main counter running at 100 MHz (a 10 ns period) and, by default,
three comparators ("timers") in a 1 KiB MMIO window that PC boards map at
0xfed00000.  Each timer interrupts once when the counter reaches its
comparator, or periodically, as an edge or a level, on one of 32 routes
(the board wires routes 0-23 to the GSIs) or, with ``msi``, by a memory
write (FSB delivery).  In legacy replacement mode timer 0 takes over IRQ 0
from the PIT (whose interrupt is then switched off through GPIO output 0)
and timer 1 takes IRQ 8 from the RTC; outside it the PIT's and the RTC's
interrupts come in through GPIO inputs 0 and 1 and pass through.

This follows QEMU 7.2's ``hw/timer/hpet.c``: registers are accessed 32
bits at a time; the counter is derived from the virtual clock (ticks are
nanoseconds / 10) and an offset fixed when the counter is enabled; timers
are QEMU timers armed at the next match.  Its quirks are kept, because a
guest or a qtest sees them: the registers of timer N (one past the last)
are accessible; a periodic timer that fires exactly on its comparator fires
once more a tick later, when it moves the comparator on; a 32-bit one-shot
timer also fires when the counter reaches 0xffffffff.  One later fix is
taken: a match so far ahead that its time would overflow is never armed
(QEMU 7.2 would fire it at once, for ever).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from pyqemu.hw.core.irq import GpioOutput, qdev_init_gpio_in, qdev_init_gpio_out
from pyqemu.hw.core.qdev import qdev_get_machine
from pyqemu.hw.core.qdev_properties import prop_bit, prop_bool, prop_uint8, prop_uint32
from pyqemu.hw.core.sysbus import SysBusDevice, sysbus_init_irq, sysbus_init_mmio
from pyqemu.hw.timer.hpet_fw import hpet_fw_config
from pyqemu.hw.timer.hpet_regs import (
    ARM_LIMIT_NS,
    FS_PER_NS,
    HI,
    HIGH32,
    HPET_BASE,
    HPET_CFG,
    HPET_CFG_ENABLE,
    HPET_CFG_LEGACY,
    HPET_CFG_WRITE_MASK,
    HPET_CLK_PERIOD_NS,
    HPET_COUNTER,
    HPET_ID,
    HPET_ID_BASE,
    HPET_ID_NUM_TIM_SHIFT,
    HPET_LEGACY_PIT_INT,
    HPET_LEGACY_RTC_INT,
    HPET_LEN,
    HPET_MAX_TIMERS,
    HPET_MIN_TIMERS,
    HPET_NUM_IRQ_ROUTES,
    HPET_PERIOD,
    HPET_STATUS,
    HPET_TN_32BIT,
    HPET_TN_CFG,
    HPET_TN_CFG_WRITE_MASK,
    HPET_TN_CMP,
    HPET_TN_ENABLE,
    HPET_TN_FSB_CAP,
    HPET_TN_FSB_ENABLE,
    HPET_TN_INT_ROUTE_CAP_SHIFT,
    HPET_TN_INT_ROUTE_MASK,
    HPET_TN_INT_ROUTE_SHIFT,
    HPET_TN_PERIODIC,
    HPET_TN_PERIODIC_CAP,
    HPET_TN_ROUTE,
    HPET_TN_SETVAL,
    HPET_TN_SIZE_CAP,
    HPET_TN_TYPE_LEVEL,
    LEGACY_PIT_ROUTE,
    LEGACY_RTC_ROUTE,
    TIMER_BASE,
    TIMER_LAST,
    TIMER_STRIDE,
    U32,
    activating,
    advance_comparator,
    deactivating,
    fixup_reg,
    ticks_to_ns,
)
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type
from pyqemu.util.cutils import UINT64_MAX
from pyqemu.util.main_loop import ClockType

#: What boards use: the type, its window, its GPIO inputs and its routes.
__all__ = [
    "HPET_BASE", "HPET_LEGACY_PIT_INT", "HPET_LEGACY_RTC_INT", "HPET_LEN", "HPET_NUM_IRQ_ROUTES", "TYPE_HPET",
    "HpetCore", "HpetState", "HpetTimer",
]

SetRoute = Callable[[int, int], None]


class _Timer(Protocol):
    def mod(self, expire_ns: int) -> None: ...
    def delete(self) -> None: ...


class HpetTimer:
    """One comparator: its registers and hidden state, and the QEMU timer armed at its match."""

    def __init__(self, tn: int, timer: _Timer):
        self.tn = tn
        self.timer = timer
        self.config = 0  # configuration; the route capabilities in the upper half
        self.cmp = 0
        self.fsb = 0  # FSB delivery: address in the upper half, value in the lower
        self.period = 0  # the last comparator value written in periodic mode
        self.wrap_flag = False  # armed for the 32-bit counter's wrap, not the match

    def has(self, bit: int) -> bool:
        return bool(self.config & bit)

    def bits(self) -> int:
        return 32 if self.has(HPET_TN_32BIT) else 64

    def diff(self, now: int) -> int:
        """Ticks from ``now`` to the comparator; 1 if it has passed."""
        bits = self.bits()
        diff = (self.cmp - now) % (1 << bits)
        return diff if 0 < diff < 1 << (bits - 1) else 1


class HpetCore:
    """The registers behind the MMIO window: ``read(addr)`` / ``write(addr, value)``, 32 bits each.

    ``now_ns`` is the virtual clock and ``new_timer(callback)`` makes timers
    on it; ``set_irq(route, level)`` drives one of the 32 interrupt routes,
    ``pit_enable(level)`` the PIT's interrupt enable, ``store_fsb(addr,
    value)`` makes an FSB (MSI) memory write.  ``intcap`` is the route
    capability mask of every timer; ``msi`` lets timers deliver by FSB.
    """

    def __init__(
        self, now_ns: Callable[[], int], new_timer: Callable[[Callable[[], None]], _Timer],
        set_irq: SetRoute, pit_enable: Callable[[int], None], store_fsb: Callable[[int, int], None],
        *, num_timers: int = HPET_MIN_TIMERS, intcap: int = 0, msi: bool = False,
    ):
        self._now = now_ns
        self._set_irq = set_irq
        self._pit_enable = pit_enable
        self._store_fsb = store_fsb
        self.num_timers = num_timers
        self.intcap = intcap
        self.msi = msi
        self.capability = (
            HPET_ID_BASE | (num_timers - 1) << HPET_ID_NUM_TIM_SHIFT
            | (HPET_CLK_PERIOD_NS * FS_PER_NS) << 32
        )
        # Timers past num_timers exist too: the one just past it answers (as in QEMU).
        self.timers = [HpetTimer(n, self._new_timer(new_timer, n)) for n in range(HPET_MAX_TIMERS)]
        self.config = 0
        self.isr = 0
        self.counter = 0  # the main counter while halted
        self.offset = 0  # ns to add to the clock for the running counter
        self.rtc_irq_level = 0
        self.reset()

    def _new_timer(self, new_timer: Callable[[Callable[[], None]], _Timer], n: int) -> _Timer:
        return new_timer(lambda: self._timer_expired(self.timers[n]))

    # -- state ---------------------------------------------------------------------

    def enabled(self) -> bool:
        return bool(self.config & HPET_CFG_ENABLE)

    def legacy(self) -> bool:
        return bool(self.config & HPET_CFG_LEGACY)

    def ticks(self) -> int:
        """The running main counter."""
        return ((self._now() + self.offset) & UINT64_MAX) // HPET_CLK_PERIOD_NS

    def main_counter(self) -> int:
        return self.ticks() if self.enabled() else self.counter

    def reset(self) -> None:
        """Timers stopped and unarmed, counter halted at 0, legacy mode off (the PIT interrupts again)."""
        for t in self.timers[: self.num_timers]:
            self._del_timer(t)
            t.cmp = UINT64_MAX
            t.config = HPET_TN_PERIODIC_CAP | HPET_TN_SIZE_CAP | self.intcap << HPET_TN_INT_ROUTE_CAP_SHIFT
            if self.msi:
                t.config |= HPET_TN_FSB_CAP
            t.period = 0
            t.wrap_flag = False
        self._pit_enable(1)
        self.counter = self.offset = self.config = 0
        self.rtc_irq_level = 0

    def legacy_irq(self, n: int, level: int) -> None:
        """GPIO input ``n``: the PIT's (0) or the RTC's (1) interrupt, passed on outside legacy mode."""
        if n != HPET_LEGACY_PIT_INT:
            self.rtc_irq_level = level
        if not self.legacy():
            self._set_irq(LEGACY_PIT_ROUTE if n == HPET_LEGACY_PIT_INT else LEGACY_RTC_ROUTE, level)

    # -- registers -------------------------------------------------------------------

    def read(self, addr: int, size: int = 4) -> int:
        if TIMER_BASE <= addr <= TIMER_LAST:
            t = self._timer_at(addr)
            return 0 if t is None else self._timer_reg(t, (addr - TIMER_BASE) % TIMER_STRIDE) & U32
        value = {
            HPET_ID: self.capability,
            HPET_PERIOD: self.capability >> 32,
            HPET_CFG: self.config,
            HPET_COUNTER: self.main_counter(),
            HPET_COUNTER + HI: self.main_counter() >> 32,
            HPET_STATUS: self.isr,
        }.get(addr, 0)
        return value & U32

    def write(self, addr: int, value: int, size: int = 4) -> None:
        old = self.read(addr)
        value &= U32
        if TIMER_BASE <= addr <= TIMER_LAST:
            t = self._timer_at(addr)
            if t is not None:
                self._write_timer(t, (addr - TIMER_BASE) % TIMER_STRIDE, value, old)
        elif addr == HPET_CFG:
            self._write_config(value, old)
        elif addr == HPET_STATUS:
            cleared = value & self.isr  # write 1 to clear
            for t in self.timers[: self.num_timers]:
                if cleared & 1 << t.tn:
                    self._update_irq(t, False)
        elif addr == HPET_COUNTER:
            self.counter = (self.counter & HIGH32) | value
        elif addr == HPET_COUNTER + HI:
            self.counter = (self.counter & U32) | value << 32

    def _timer_at(self, addr: int) -> HpetTimer | None:
        n = (addr - TIMER_BASE) // TIMER_STRIDE
        return self.timers[n] if n <= self.num_timers else None

    @staticmethod
    def _timer_reg(t: HpetTimer, reg: int) -> int:
        return {
            HPET_TN_CFG: t.config, HPET_TN_CFG + HI: t.config >> 32,
            HPET_TN_CMP: t.cmp, HPET_TN_CMP + HI: t.cmp >> 32,
            HPET_TN_ROUTE: t.fsb, HPET_TN_ROUTE + HI: t.fsb >> 32,
        }.get(reg, 0)

    def _write_config(self, value: int, old: int) -> None:
        self.config = (self.config & HIGH32) | fixup_reg(value, old, HPET_CFG_WRITE_MASK)
        if activating(old, value, HPET_CFG_ENABLE):
            # The counter runs on from the value it was halted at (or given while halted).
            self.offset = (ticks_to_ns(self.counter) - self._now()) & UINT64_MAX
            for t in self.timers[: self.num_timers]:
                if t.cmp != UINT64_MAX:
                    self._set_timer(t)
        elif deactivating(old, value, HPET_CFG_ENABLE):
            self.counter = self.ticks()
            for t in self.timers[: self.num_timers]:
                self._del_timer(t)
        if activating(old, value, HPET_CFG_LEGACY):
            self._pit_enable(0)
            self._set_irq(LEGACY_PIT_ROUTE, 0)
            self._set_irq(LEGACY_RTC_ROUTE, 0)
        elif deactivating(old, value, HPET_CFG_LEGACY):
            self._set_irq(LEGACY_PIT_ROUTE, 0)
            self._pit_enable(1)
            self._set_irq(LEGACY_RTC_ROUTE, self.rtc_irq_level)

    def _write_timer(self, t: HpetTimer, reg: int, value: int, old: int) -> None:
        if reg == HPET_TN_CFG:
            if activating(old, value, HPET_TN_FSB_ENABLE):
                self._update_irq(t, False)
            t.config = (t.config & HIGH32) | fixup_reg(value, old, HPET_TN_CFG_WRITE_MASK)
            if value & HPET_TN_32BIT:
                t.cmp &= U32
                t.period &= U32
            if activating(old, value, HPET_TN_ENABLE) and self.enabled():
                self._set_timer(t)
            elif deactivating(old, value, HPET_TN_ENABLE):
                self._del_timer(t)
        elif reg in (HPET_TN_CMP, HPET_TN_CMP + HI):
            self._write_comparator(t, reg == HPET_TN_CMP + HI, value)
        elif reg == HPET_TN_ROUTE:
            t.fsb = (t.fsb & HIGH32) | value
        elif reg == HPET_TN_ROUTE + HI:
            t.fsb = (t.fsb & U32) | value << 32

    def _write_comparator(self, t: HpetTimer, high: bool, value: int) -> None:
        """Set the comparator or, for a periodic timer without SETVAL, the period (either half)."""
        shift, keep = (32, U32) if high else (0, HIGH32)
        period_mask = (U32 if t.has(HPET_TN_32BIT) else UINT64_MAX) >> 1
        sets_cmp = not t.has(HPET_TN_PERIODIC) or t.has(HPET_TN_SETVAL)
        if sets_cmp:
            t.cmp = (t.cmp & keep) | value << shift
        # The low half of a periodic timer's write is its period too, even with SETVAL.
        if t.has(HPET_TN_PERIODIC) and not (high and sets_cmp):
            t.period = (t.period & keep) | (value & period_mask) << shift
        t.config &= ~HPET_TN_SETVAL
        if self.enabled():
            self._set_timer(t)

    # -- timers and interrupts -----------------------------------------------------

    def _arm(self, t: HpetTimer, diff: int) -> None:
        delay = ticks_to_ns(diff)
        if delay > ARM_LIMIT_NS:
            t.timer.delete()
        else:
            t.timer.mod(self._now() + delay)

    def _set_timer(self, t: HpetTimer) -> None:
        """Arm at the match or, for a 32-bit one-shot timer, at the counter's wrap if that comes first."""
        now = self.ticks()
        t.wrap_flag = False
        diff = t.diff(now)
        if t.has(HPET_TN_32BIT) and not t.has(HPET_TN_PERIODIC):
            wrap_diff = U32 - (now & U32)
            if wrap_diff < diff & U32:
                diff = wrap_diff
                t.wrap_flag = True
        self._arm(t, diff)

    def _del_timer(self, t: HpetTimer) -> None:
        t.timer.delete()
        self._update_irq(t, False)

    def _timer_expired(self, t: HpetTimer) -> None:
        now = self.ticks()
        if t.has(HPET_TN_PERIODIC) and t.period:
            t.cmp = advance_comparator(t.cmp, t.period, now, t.bits())
            self._arm(t, t.diff(now))
        elif t.has(HPET_TN_32BIT) and not t.has(HPET_TN_PERIODIC) and t.wrap_flag:
            self._arm(t, t.diff(now))
            t.wrap_flag = False
        self._update_irq(t, True)

    def _route(self, t: HpetTimer) -> int:
        if t.tn <= 1 and self.legacy():
            return LEGACY_PIT_ROUTE if t.tn == 0 else LEGACY_RTC_ROUTE
        return (t.config & HPET_TN_INT_ROUTE_MASK) >> HPET_TN_INT_ROUTE_SHIFT

    def _update_irq(self, t: HpetTimer, fire: bool) -> None:
        """Deliver timer ``t``'s interrupt, or (``fire`` False) withdraw it."""
        route, mask = self._route(t), 1 << t.tn
        fsb = t.has(HPET_TN_FSB_ENABLE)
        if not fire or not t.has(HPET_TN_ENABLE) or not self.enabled():
            self.isr &= ~mask
            if not fsb:
                self._set_irq(route, 0)
        elif fsb:
            self._store_fsb(t.fsb >> 32, t.fsb & U32)
        elif t.has(HPET_TN_TYPE_LEVEL):
            self.isr |= mask
            self._set_irq(route, 1)
        else:
            self.isr &= ~mask
            self._set_irq(route, 1)
            self._set_irq(route, 0)


# -- the QOM device ("hpet") ---------------------------------------------------------

TYPE_HPET = "hpet"
HPET_VALID_ACCESS = AccessSizes(4, 4)


@register_type
class HpetState(SysBusDevice):
    """The HPET (type ``hpet``), created and wired by PC boards as QEMU 7.2's ``pc_basic_device_init``.

    The board sets ``hpet-intcap`` (``pc`` 0x4, ``q35`` 0xff0104) unless a
    ``-global`` did, realizes it, maps MMIO region 0 at :data:`HPET_BASE`
    and connects ``sysbus-irq[N]`` to GSI N for N < 24 (24-31 stay
    unconnected).  The PIT's interrupt goes to GPIO input 0
    (:data:`HPET_LEGACY_PIT_INT`) and the RTC's to input 1 instead of ISA
    IRQs 0 and 8; GPIO output 0 goes to the PIT's GPIO input 0.
    """

    TYPE = TYPE_HPET
    PROPERTIES = (
        prop_uint8("timers", default=HPET_MIN_TIMERS),
        prop_bit("msi", default=False),
        prop_uint32("hpet-intcap", default=0),
        prop_bool("hpet-offset-saved", default=True),
    )

    def __init__(self) -> None:
        super().__init__()
        self.core: HpetCore | None = None
        self.hpet_id = 0
        self.irqs: list[GpioOutput] = []
        self.pit_enabled: GpioOutput | None = None
        ops = MemoryRegionOps(
            read=lambda addr, size: self._core().read(addr, size),
            write=lambda addr, value, size: self._core().write(addr, value, size),
            endianness=Endianness.NATIVE, valid=HPET_VALID_ACCESS,
        )
        sysbus_init_mmio(self, MemoryRegion.new_io(self, ops, TYPE_HPET, HPET_LEN))

    def _core(self) -> HpetCore:
        assert self.core is not None, "hpet used before realize"
        return self.core

    def realize(self) -> None:
        machine = qdev_get_machine(self)
        if not self.hpet_intcap:
            machine.host.warn("Hpet's intcap not initialized")
        self.hpet_id = hpet_fw_config(machine).add_block()
        self.irqs = [sysbus_init_irq(self) for _ in range(HPET_NUM_IRQ_ROUTES)]
        self.timers = min(max(self.timers, HPET_MIN_TIMERS), HPET_MAX_TIMERS)
        qdev_init_gpio_in(self, lambda n, level: self._core().legacy_irq(n, level), 2)
        (self.pit_enabled,) = qdev_init_gpio_out(self, 1)
        loop = machine.host.main_loop
        memory = machine.memory_system.address_space_memory
        self.core = HpetCore(
            loop.clock(ClockType.VIRTUAL).now_ns,
            lambda callback: loop.timer_new(ClockType.VIRTUAL, callback),
            lambda route, level: self.irqs[route].set(level),
            self.pit_enabled.set,
            lambda addr, value: memory.write(addr, value, 4),
            num_timers=self.timers, intcap=self.hpet_intcap, msi=self.msi,
        )

    def reset(self) -> None:
        if self.core is not None:
            self.core.reset()
            hpet_fw_config(qdev_get_machine(self)).set_block(self.hpet_id, *self.fw_entry())

    def fw_entry(self) -> tuple[int, int]:
        """What firmware learns of this HPET (fw_cfg, ACPI): event timer block ID and base address."""
        return self._core().capability & U32, self.mmio[0].addr
