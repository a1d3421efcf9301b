"""System reset: every device goes to its power-on state (QEMU's ``qemu_devices_reset``)."""

from __future__ import annotations

from pyqemu.qom.object import Object


def reset_machine(machine: Object) -> None:
    """Reset every device of ``machine``: along the bus tree from the main system bus,
    children first, newest first, as QEMU does."""
    from pyqemu.hw.core.bus import bus_reset_all, main_system_bus

    bus = main_system_bus(machine)
    if bus is not None:
        bus_reset_all(bus)
