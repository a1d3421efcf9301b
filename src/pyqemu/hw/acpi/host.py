"""What the ACPI hardware asks of the emulator and the machine it is part of.

- :class:`HostPower`: power off, suspend, the wake-up mask, resets (the
  emulator behind ``machine.host``);
- :class:`LoopClock`: the main loop's virtual clock for the PM and TCO timers;
- :func:`register_pm1_wakeup`: resuming from S3 reaching the PM1 registers;
- :func:`add_system_states_file`: the sleep states firmware reads from fw_cfg;
- :func:`add_readonly_property`: the read-only QOM properties the ACPI
  table builder reads (``gpe0_blk``, ``sci_int`` …).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyqemu.hw.acpi.core import SLP_TYP_S3, AcpiRegs, Timer
from pyqemu.hw.core.machine import WakeupReason
from pyqemu.qom.property import ObjectProperty, ValueKind

SYSTEM_STATES_FILE = "etc/system-states"


def system_states(disable_s3: int, disable_s4: int, s4_val: int) -> bytes:
    """The 6 bytes of fw_cfg ``etc/system-states`` that tell firmware which sleep states exist.

    One byte per S0-S5: bit 7 set if the state is available, the low bits
    its SLP_TYP value.
    """
    s3 = SLP_TYP_S3 | (0 if disable_s3 else 0x80)
    s4 = s4_val | (0 if disable_s4 else 0x80)
    return bytes((0x80, 0, 0, s3, s4, 0x80))


def add_system_states_file(owner: Any, disable_s3: int, disable_s4: int, s4_val: int) -> bool:
    """Tell firmware the sleep states through fw_cfg, if the machine has fw_cfg yet (as QEMU does)."""
    try:
        from pyqemu.hw.nvram.fw_cfg import fw_cfg_find
    except ImportError:  # a tree without fw_cfg
        return False
    fw_cfg = fw_cfg_find(owner)
    if fw_cfg is None:
        return False
    fw_cfg.add_file(SYSTEM_STATES_FILE, system_states(disable_s3, disable_s4, s4_val))
    return True


class HostPower:
    """:class:`PowerRequests` served by the emulator that runs the machine (``machine.host``)."""

    def __init__(self, host: Any):
        self._host = host

    def shutdown(self) -> None:
        self._host.guest_shutdown()

    def suspend(self) -> None:
        self._host.guest_suspend()

    def suspend_disk(self) -> None:
        """S4: QEMU sends SUSPEND_DISK, then powers off (it has no hibernation of its own)."""
        self._host.emit_event("SUSPEND_DISK")
        self.shutdown()

    def wakeup_enable(self, reason: WakeupReason, enabled: bool) -> None:
        self._host.wakeup_enable(reason, enabled)

    def wakeup(self, reason: WakeupReason) -> None:
        self._host.wakeup(reason)

    def reset(self) -> None:
        """The guest asked for a reset (GED's reset register)."""
        self._host.guest_reset()

    def watchdog_reset(self) -> None:
        """A watchdog fired with QEMU's default action: a WATCHDOG event, then a guest reset."""
        self._host.emit_event("WATCHDOG", {"action": "reset"})
        self._host.guest_reset()


class LoopClock:
    """:class:`GuestClock` of the main loop's virtual clock."""

    def __init__(self, main_loop: Any):
        from pyqemu.util.main_loop import ClockType

        self._kind = ClockType.VIRTUAL
        self._loop = main_loop

    def now_ns(self) -> int:
        return int(self._loop.clock(self._kind).now_ns())

    def new_timer(self, callback: Callable[[], None]) -> Timer:
        timer: Timer = self._loop.timer_new(self._kind, callback)
        return timer


def register_pm1_wakeup(machine: Any, regs: AcpiRegs) -> None:
    """The machine can now be woken from S3, and tells ``regs`` why it was (QEMU's ``acpi_pm1_cnt_init``)."""
    machine.wakeup_notifiers.append(regs.notify_wakeup)
    machine.wakeup_suspend_support = True


def add_readonly_property(obj: Any, name: str, kind: ValueKind, get: Callable[[], Any]) -> None:
    """A read-only instance property of ``obj`` showing ``get()`` (QEMU's ``object_property_add_*_ptr``)."""
    obj.property_add(ObjectProperty(name, kind.qom_type, kind, get=lambda _obj: get()))
