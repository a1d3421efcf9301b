"""The ICH9 TCO watchdog (``sm-tco``, 32 bytes at PMBASE + 0x60; QEMU's ``hw/acpi/tco.c``).

The timer counts down TCO_TMR ticks of 0.6 s (the ICH9's tick, error
included) once TCO1_CNT clears TCO_TMR_HLT and TCO_TMR is above 1; writing
TCO_RLD reloads it.  The first expiry sets TCO_TIMEOUT and, if SMI_EN has
TCO_EN, requests an SMI, then counts again; the second also sets
SECOND_TO_STS and BOOT_STS and, unless the ``noreboot`` strap or the
chip-config NO_REBOOT bit forbids it, performs the watchdog action (reset,
with a WATCHDOG event) and stops.  TCO_LOCK in TCO1_CNT sticks until power
off; it also freezes SMI_EN's TCO_EN bit.  Writing TCO_DAT_IN sets SW_TCO_SMI
and requests an SMI.  The registers keep their values over a system reset,
as in QEMU.
"""

from __future__ import annotations

from collections.abc import Callable

from pyqemu.hw.acpi.core import GuestClock

TCO_REGION = "sm-tco"
ICH9_PMIO_TCO_RLD = 0x60
ICH9_PMIO_TCO_LEN = 32
#: One tick of the ICH9's TCO timer, about 0.6 s.
TCO_TICK_NSEC = 600_000_000

# Register offsets.
TCO_RLD = 0x00
TCO_DAT_IN = 0x02
TCO_DAT_OUT = 0x03
TCO1_STS = 0x04
TCO2_STS = 0x06
TCO1_CNT = 0x08
TCO2_CNT = 0x0A
TCO_MESSAGE1 = 0x0C
TCO_MESSAGE2 = 0x0D
TCO_WDCNT = 0x0E
SW_IRQ_GEN = 0x10
TCO_TMR = 0x12

# Status / control bits.
SW_TCO_SMI = 1 << 1
TCO_INT_STS = 1 << 2
TCO_TIMEOUT = 1 << 3
TCO_TMR_HLT = 1 << 11
TCO_LOCK = 1 << 12
TCO_SECOND_TO_STS = 1 << 1
TCO_BOOT_STS = 1 << 2

# Writable bits.
TCO_RLD_MASK = 0x3FF
TCO1_STS_MASK = 0xE870
TCO2_STS_MASK = 0xFFF8
TCO1_CNT_MASK = 0xFEFF
TCO_TMR_MASK = 0x3FF

# Power-on values.
TCO2_CNT_DEFAULT = 0x0008
TCO_TMR_DEFAULT = 0x0004
SW_IRQ_GEN_DEFAULT = 0x03
NOT_RUNNING = -1

_BYTE_REGISTERS = {
    TCO_DAT_IN: "din", TCO_DAT_OUT: "dout", TCO_MESSAGE1: "msg1", TCO_MESSAGE2: "msg2",
    TCO_WDCNT: "wdcnt", SW_IRQ_GEN: "sw_irq_gen",
}
_WORD_REGISTERS = {TCO1_STS: "sts1", TCO2_STS: "sts2", TCO1_CNT: "cnt1", TCO2_CNT: "cnt2", TCO_TMR: "tmr"}


class TcoWatchdog:
    """The TCO registers and timer.

    ``raise_smi()`` requests an SMI; ``smi_enabled()`` tells whether SMI_EN
    has TCO_EN; ``may_reboot()`` whether the straps let a second timeout act;
    ``watchdog_action()`` performs it.
    """

    def __init__(self, clock: GuestClock, raise_smi: Callable[[], None], smi_enabled: Callable[[], bool],
                 may_reboot: Callable[[], bool], watchdog_action: Callable[[], None]):
        self._clock = clock
        self._raise_smi = raise_smi
        self._smi_enabled = smi_enabled
        self._may_reboot = may_reboot
        self._watchdog_action = watchdog_action
        self._timer = clock.new_timer(self._expired)
        self.rld = 0
        self.din = self.dout = 0
        self.sts1 = self.sts2 = 0
        self.cnt1 = 0
        self.cnt2 = TCO2_CNT_DEFAULT
        self.msg1 = self.msg2 = self.wdcnt = 0
        self.tmr = TCO_TMR_DEFAULT
        self.sw_irq_gen = SW_IRQ_GEN_DEFAULT
        self.expire_time = NOT_RUNNING
        self.timeouts = 0

    # -- the timer ------------------------------------------------------------------

    def _can_start(self) -> bool:
        """TCO_TMR values 0 and 1 are ignored, as on the ICH9."""
        return not self.cnt1 & TCO_TMR_HLT and self.tmr > 1

    def _reload(self) -> None:
        self.expire_time = self._clock.now_ns() + (self.tmr & TCO_TMR_MASK) * TCO_TICK_NSEC
        self._timer.mod(self.expire_time)

    def _stop(self) -> None:
        self.rld = self.tmr
        self._timer.delete()

    def _expired(self) -> None:
        self.rld = 0
        self.sts1 |= TCO_TIMEOUT
        self.timeouts += 1
        if self.timeouts == 2:
            self.sts2 |= TCO_SECOND_TO_STS | TCO_BOOT_STS
            self.timeouts = 0
            if self._may_reboot():
                self._watchdog_action()
                self._stop()
                return
        if self._smi_enabled():
            self._raise_smi()
        self.rld = self.tmr
        self._reload()

    # -- registers ----------------------------------------------------------------------

    def read(self, offset: int, size: int = 1) -> int:
        if offset == TCO_RLD:
            if self.expire_time == NOT_RUNNING:
                return self.rld
            delta = self.expire_time - self._clock.now_ns()
            left = abs(delta) // TCO_TICK_NSEC * (1 if delta >= 0 else -1)  # C division truncates
            return (left & 0xFFFF) | (self.rld & ~TCO_RLD_MASK)
        name = _BYTE_REGISTERS.get(offset) or _WORD_REGISTERS.get(offset)
        return int(getattr(self, name)) if name is not None else 0

    def write(self, offset: int, value: int, size: int = 1) -> None:
        if offset == TCO_RLD:
            self.timeouts = 0
            if self._can_start():
                self.rld = self.tmr
                self._reload()
            else:
                self.rld = value & 0xFFFF
        elif offset == TCO1_CNT:
            self._write_cnt1(value)
        elif offset == TCO1_STS:
            self.sts1 = value & TCO1_STS_MASK
        elif offset == TCO2_STS:
            self.sts2 = value & TCO2_STS_MASK
        elif offset in _WORD_REGISTERS:
            setattr(self, _WORD_REGISTERS[offset], value & 0xFFFF)
        elif offset in _BYTE_REGISTERS:
            setattr(self, _BYTE_REGISTERS[offset], value & 0xFF)
            self._byte_written(offset)

    def _write_cnt1(self, value: int) -> None:
        """TCO_LOCK cannot be cleared by software; halting or starting the timer follows."""
        self.cnt1 = (value & TCO1_CNT_MASK) | (self.cnt1 & TCO_LOCK)
        if self._can_start():
            self.rld = self.tmr
            self._reload()
        else:
            self._stop()

    def _byte_written(self, offset: int) -> None:
        if offset == TCO_DAT_IN:
            self.sts1 |= SW_TCO_SMI
            self._raise_smi()
        elif offset == TCO_DAT_OUT:
            self.sts1 |= TCO_INT_STS  # QEMU raises no interrupt for it either

    @property
    def locked(self) -> bool:
        return bool(self.cnt1 & TCO_LOCK)
