"""System reset: every realized device in the machine's tree goes to its power-on state."""

from __future__ import annotations

from collections.abc import Iterator

from pyqemu.hw.core.qdev import DeviceState
from pyqemu.qom.object import Object


def walk_devices(root: Object) -> Iterator[DeviceState]:
    """Realized devices below ``root``, parents before children."""
    for child in root.children():
        if isinstance(child, DeviceState) and child.realized:
            yield child
        yield from walk_devices(child)


def reset_machine(machine: Object) -> None:
    """Reset every realized device of ``machine`` (QEMU's ``qemu_devices_reset``)."""
    for device in walk_devices(machine):
        device.reset()
