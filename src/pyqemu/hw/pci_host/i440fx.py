"""The i440FX host bridge of the ``pc`` board: ``i440FX-pcihost`` and its PCI function ``i440FX``.

The host bridge is a system-bus device at ``/machine/i440fx`` that owns
``pci.0`` and answers the 0xcf8/0xcfc configuration mechanism; the
``i440FX`` PCI device (8086:1237, host bridge class) sits at 00.0 of that
bus.  Memory BARs of devices on ``pci.0`` go into the ``pci`` region the
board maps under RAM; I/O BARs into the I/O space.

The function's PAM registers (0x59-0x5f) switch the BIOS shadow areas
between PCI and RAM (:mod:`pam`), and its SMRAM register (0x72) whether the
VGA window 0xa0000-0xbffff shows PCI or RAM (``D_OPEN``) and whether the
``smram`` view that SMM code sees is on (``G_SMRAME``).  The machine links
that view as ``/machine/smram``, as in QEMU.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.hw.core.qdev_properties import prop_bool, prop_size, prop_uint32
from pyqemu.hw.pci.pci import PCI_CLASS_BRIDGE_HOST, PCI_VENDOR_ID_INTEL, PCIDevice
from pyqemu.hw.pci.pci_host import PCIHostState
from pyqemu.hw.pci_host.pam import PAMRegion, pam_init, pam_touched, pam_update_all
from pyqemu.hw.pci_host.pci_hole import add_pci_hole_properties
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
I440FX_PAM = 0x59
I440FX_SMRAM = 0x72
SMRAM_DEFAULT = 0x02  # C_BASE_SEG: the compatible segment at 0xa0000
SMRAM_D_OPEN = 0x40
SMRAM_G_SMRAME = 0x08
SMRAM_C_BASE = 0xA0000
SMRAM_C_SIZE = 0x20000
SMRAM_SIZE = 1 << 32
#: Where QEMU tells coreboot the RAM size, in units of 8 MiB up to 255 (the DRB byte of bank 7).
I440FX_COREBOOT_RAM_SIZE = 0x57
COREBOOT_RAM_UNIT = 8 << 20
COREBOOT_RAM_MAX = 0xFF


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

    @classmethod
    def class_init(cls) -> None:
        from pyqemu.hw.core.qdev import qdev_get_machine

        add_pci_hole_properties(cls, lambda host: qdev_get_machine(host).below_4g_mem_size)

    def realize(self) -> None:
        self.map_config_ports()


@register_type
class I440FXDevice(PCIDevice):
    """The i440FX's own PCI function at 00.0 (``i440FX``): the host bridge as the guest sees it."""

    TYPE = TYPE_I440FX_PCI_DEVICE
    USER_CREATABLE = False
    HOTPLUGGABLE = False
    VENDOR_ID = PCI_VENDOR_ID_INTEL
    DEVICE_ID = PCI_DEVICE_ID_INTEL_82441
    REVISION = I440FX_REVISION
    CLASS_ID = PCI_CLASS_BRIDGE_HOST

    def __init__(self) -> None:
        super().__init__()
        self.pam: list[PAMRegion] = []
        self.smram_region: MemoryRegion | None = None
        self.smram: MemoryRegion | None = None

    def pci_realize(self) -> None:
        self.set_byte(I440FX_SMRAM, SMRAM_DEFAULT)

    def memory_init(
        self, host: I440FXHost, ram: MemoryRegion, system: MemoryRegion, pci: MemoryRegion
    ) -> None:
        """The SMRAM windows (owned by this function) and the PAM segments (owned by the host)."""
        from pyqemu.memory.region import MemoryRegion

        self.smram_region = MemoryRegion.new_alias(self, "smram-region", pci, SMRAM_C_BASE, SMRAM_C_SIZE)
        system.add_subregion_overlap(SMRAM_C_BASE, self.smram_region, 1)
        self.smram = MemoryRegion.new_container(self, "smram", SMRAM_SIZE)
        low = MemoryRegion.new_alias(self, "smram-low", ram, SMRAM_C_BASE, SMRAM_C_SIZE)
        self.smram.add_subregion(SMRAM_C_BASE, low)
        self.pam = pam_init(host, ram, system, pci)
        self.update_memory_mappings()

    def config_write(self, offset: int, value: int, size: int) -> None:
        super().config_write(offset, value, size)
        if pam_touched(offset, size, I440FX_PAM) or offset <= I440FX_SMRAM < offset + size:
            self.update_memory_mappings()

    def update_memory_mappings(self) -> None:
        """Apply the PAM and SMRAM registers to the memory map (``i440fx_update_memory_mappings``)."""
        if self.smram_region is None or self.smram is None:
            return
        pam_update_all(self.pam, self.config, I440FX_PAM)
        smram = self.get_byte(I440FX_SMRAM)
        self.smram_region.set_enabled(not smram & SMRAM_D_OPEN)
        self.smram.set_enabled(bool(smram & SMRAM_G_SMRAME))


def i440fx_init(machine: MachineState, memory: MemorySystem, pci_memory: MemoryRegion,
                ram: MemoryRegion) -> PCIBus:
    """Create the host bridge at ``/machine/i440fx``, its ``pci.0`` and the ``i440FX`` function."""
    from pyqemu.hw.pci.pci import TYPE_PCI_BUS, pci_create_simple
    from pyqemu.hw.pci_host.pcihost_init import pci_host_create

    host, bus = pci_host_create(
        machine, TYPE_I440FX_PCI_HOST_BRIDGE, I440FX_HOST_PROP, TYPE_PCI_BUS, memory, pci_memory
    )
    dev = pci_create_simple(bus, 0, TYPE_I440FX_PCI_DEVICE)
    assert isinstance(host, I440FXHost) and isinstance(dev, I440FXDevice)
    dev.set_byte(I440FX_COREBOOT_RAM_SIZE, min(machine.ram_size // COREBOOT_RAM_UNIT, COREBOOT_RAM_MAX))
    dev.memory_init(host, ram, memory.system_memory, pci_memory)
    machine.add_link("smram", "memory-region", lambda: dev.smram)  # type: ignore[arg-type, return-value]
    return bus
