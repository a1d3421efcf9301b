"""Creating a board's PCI host bridge and root bus: the steps i440FX and Q35 share."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyqemu.hw.core.machine import MachineState
    from pyqemu.hw.pci.pci import PCIBus
    from pyqemu.hw.pci.pci_host import PCIHostState
    from pyqemu.memory.address_space import MemorySystem
    from pyqemu.memory.region import MemoryRegion


def pci_host_create(
    machine: MachineState, host_type: str, child_name: str, bus_type: str,
    memory: MemorySystem, pci_memory: MemoryRegion, *,
    configure: Callable[[PCIHostState], None] | None = None,
) -> tuple[PCIHostState, PCIBus]:
    """Make ``host_type`` the machine's child ``child_name`` with a root bus, then realize it.

    The root bus (``pci.0`` / ``pcie.0``) maps memory BARs into
    ``pci_memory`` and I/O BARs into the machine's I/O space; ``configure``
    sets board-given properties before realize.
    """
    from pyqemu.hw.core.bus import qbus_new
    from pyqemu.hw.core.qdev import qdev_new, qdev_realize
    from pyqemu.hw.core.qdev_monitor import apply_global_props
    from pyqemu.hw.core.sysbus import sysbus_get_default
    from pyqemu.hw.pci.pci import PCIBus
    from pyqemu.hw.pci.pci_host import PCIHostState

    host = qdev_new(host_type)
    assert isinstance(host, PCIHostState)
    try:
        apply_global_props(machine, host)
        if configure is not None:
            configure(host)
        machine.add_child(child_name, host)
        bus = qbus_new(bus_type, host)
        assert isinstance(bus, PCIBus)
        bus.address_space_mem = pci_memory
        bus.address_space_io = memory.system_io
        bus.memory_system = memory
        host.bus = bus
        qdev_realize(host, sysbus_get_default(machine))
    finally:
        host.unref()
    return host, bus
