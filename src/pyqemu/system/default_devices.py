"""Default devices: what QEMU adds when the command line does not say otherwise.

A board gets a serial port (and a parallel port) unless ``-nodefaults``, the
board class opts out, or the user configured one (``-serial``, or a
``-device`` of that kind).  With ``-nographic`` the default serial port is
``mon:stdio``; without a display it goes to a discarded console (``vc``).
The default human monitor is not added: pyqemu has no HMP yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.system.config import CliItem, Config

if TYPE_CHECKING:
    from pyqemu.hw.core.machine import MachineState

#: ``-device`` drivers that stand in for a default device (QEMU's ``device_default_list``).
SERIAL_DRIVERS = frozenset({"isa-serial", "pci-serial", "pci-serial-2x", "pci-serial-4x"})
PARALLEL_DRIVERS = frozenset({"isa-parallel"})
DEFAULT_CONSOLE = "vc:80Cx24C"


def _drivers(config: Config) -> set[str]:
    drivers = set()
    for item in config.devices:
        value = item.value
        driver = value.get("driver") if hasattr(value, "get") else None
        if driver:
            drivers.add(str(driver))
    return drivers


def add_default_devices(config: Config, machine_class: type[MachineState]) -> None:
    """Add the default serial and parallel backends to ``config`` as QEMU would."""
    if not config.defaults:
        return
    drivers = _drivers(config)
    if not machine_class.NO_SERIAL and not config.serials and not drivers & SERIAL_DRIVERS:
        target = "mon:stdio" if config.nographic else DEFAULT_CONSOLE
        config.serials.append(CliItem("", target))
    if not machine_class.NO_PARALLEL and not config.parallels and not drivers & PARALLEL_DRIVERS:
        config.parallels.append(CliItem("", "null" if config.nographic else DEFAULT_CONSOLE))
