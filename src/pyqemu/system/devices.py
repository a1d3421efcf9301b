"""``-device``: every device of the command line, cold-plugged in board init."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.hw.core.qdev_monitor import qdev_device_add
from pyqemu.util.errors import location

if TYPE_CHECKING:
    from pyqemu.system.emulator import Emulator


def create_cli_devices(vm: Emulator) -> None:
    """Create each ``-device`` in order; the first failure ends start-up."""
    assert vm.config is not None and vm.machine is not None
    for item in vm.config.devices:
        options = item.value if isinstance(item.value, dict) else item.value.to_dict()
        with location(item.location):
            qdev_device_add(vm.machine, options, from_json=isinstance(item.value, dict))
