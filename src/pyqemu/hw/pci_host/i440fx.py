"""The i440FX host bridge of the ``pc`` board: ``i440FX-pcihost`` and its PCI function ``i440FX``.

The host bridge is a system-bus device at ``/machine/i440fx`` that owns
``pci.0`` and answers the 0xcf8/0xcfc configuration mechanism; the
``i440FX`` PCI device (8086:1237, host bridge class) sits at 00.0 of that
bus.  Memory BARs of devices on ``pci.0`` go into the ``pci`` region the
board maps under RAM; I/O BARs into the I/O space.  Not modelled yet: the
PAM and SMRAM registers that switch the BIOS shadow areas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.hw.core.qdev_properties import prop_bool, prop_size, prop_uint32
from pyqemu.hw.pci.pci import PCI_CLASS_BRIDGE_HOST, PCI_VENDOR_ID_INTEL, PCIDevice
from pyqemu.hw.pci.pci_host import PCIHostState
from pyqemu.qom.object import register_type

if TYPE_CHECKING:
    from pyqemu.hw.core.machine import MachineState
    from pyqemu.hw.pci.pci import PCIBus
    from pyqemu.memory.address_space import MemorySystem
    from pyqemu.memory.region import MemoryRegion

TYPE_I440FX_PCI_HOST_BRIDGE = "i440FX-pcihost"
TYPE_I440FX_PCI_DEVICE = "i440FX"
I440FX_HOST_PROP = "i440fx"
PCI_DEVICE_ID_INTEL_82441 = 0x1237
I440FX_REVISION = 0x02
DEFAULT_PCI_HOLE64_SIZE = 1 << 31


@register_type
class I440FXHost(PCIHostState):
    """The i440FX host bridge (``i440FX-pcihost``): owns ``pci.0``."""

    TYPE = TYPE_I440FX_PCI_HOST_BRIDGE
    USER_CREATABLE = False
    PROPERTIES = (
        prop_size("pci-hole64-size", default=DEFAULT_PCI_HOLE64_SIZE),
        prop_uint32("short_root_bus", default=0),
        prop_bool("x-pci-hole64-fix", default=True),
    )

    def realize(self) -> None:
        self.map_config_ports()


@register_type
class I440FXDevice(PCIDevice):
    """The i440FX's own PCI function at 00.0 (``i440FX``): the host bridge as the guest sees it."""

    TYPE = TYPE_I440FX_PCI_DEVICE
    USER_CREATABLE = False
    VENDOR_ID = PCI_VENDOR_ID_INTEL
    DEVICE_ID = PCI_DEVICE_ID_INTEL_82441
    REVISION = I440FX_REVISION
    CLASS_ID = PCI_CLASS_BRIDGE_HOST


def i440fx_init(machine: MachineState, memory: MemorySystem, pci_memory: MemoryRegion) -> PCIBus:
    """Create the host bridge at ``/machine/i440fx``, its ``pci.0`` and the ``i440FX`` function."""
    from pyqemu.hw.pci.pci import TYPE_PCI_BUS, pci_create_simple
    from pyqemu.hw.pci_host.pcihost_init import pci_host_create

    _host, bus = pci_host_create(
        machine, TYPE_I440FX_PCI_HOST_BRIDGE, I440FX_HOST_PROP, TYPE_PCI_BUS, memory, pci_memory
    )
    pci_create_simple(bus, 0, TYPE_I440FX_PCI_DEVICE)
    return bus
