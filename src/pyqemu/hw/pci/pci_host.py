"""PCI host bridges: configuration mechanism #1 and PCIe MMCONFIG (QEMU's ``pci_host.c``, ``pcie_host.c``).

A host bridge (abstract ``pci-host-bridge``) is a system-bus device that
owns the root PCI bus.  The guest reaches configuration space through two
port windows:

- ``pci-conf-idx`` at 0xcf8: a 32-bit write selects ``enable | bus | devfn |
  register``; any read returns the selection (narrower reads its low bytes);
  narrower or unaligned writes are ignored, as on real chipsets;
- ``pci-conf-data`` at 0xcfc-0xcff: reads and writes of 1, 2 or 4 bytes go
  to the selected register plus the port's low two bits.  With the enable
  bit clear, or no device at that address, reads give all ones.

A PCI Express host (abstract ``pcie-host-bridge``) also decodes the
enhanced mechanism: a 256 MiB MMIO window (``pcie-mmcfg-mmio``) where
``bus << 20 | devfn << 12 | register`` addresses 4 KiB per function.  The
chipset maps it where its register says (the Q35 MCH's PCIEXBAR).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.hw.core.qdev_properties import prop_bool
from pyqemu.hw.core.sysbus import SysBusDevice, sysbus_add_io, sysbus_init_ioports
from pyqemu.memory.region import AccessSizes, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type

if TYPE_CHECKING:
    from pyqemu.hw.pci.pci import PCIBus, PCIDevice

TYPE_PCI_HOST_BRIDGE = "pci-host-bridge"
TYPE_PCIE_HOST_BRIDGE = "pcie-host-bridge"
PCI_CONFIG_ADDR_PORT = 0xCF8
PCI_CONFIG_DATA_PORT = 0xCFC
CONFIG_ENABLE = 1 << 31
PCIE_MMCFG_SIZE_MAX = 1 << 28
#: ``MCFG`` while the window is unmapped (QEMU prints the all-ones address as -1).
PCIE_BASE_ADDR_UNMAPPED = -1
_WINDOW = 4


def all_ones(size: int) -> int:
    return (1 << (8 * size)) - 1


def pci_config_access(bus: PCIBus, address: int, limit: int) -> tuple[PCIDevice | None, int]:
    """The device and register a configuration address selects (``pci_dev_find_by_addr``)."""
    from pyqemu.hw.pci.pci import PCI_DEVFN_MAX

    bus_num = (address >> 16) & 0xFF
    devfn = (address >> 8) & (PCI_DEVFN_MAX - 1)
    return bus.find_device(bus_num, devfn), address & (limit - 1)


def pci_config_read(dev: PCIDevice | None, offset: int, size: int) -> int:
    """A read of the selected register: all ones past the end or with no device."""
    if dev is None or offset >= len(dev.config):
        return all_ones(size)
    size = min(size, len(dev.config) - offset)
    return dev.config_read(offset, size)


def pci_config_write(dev: PCIDevice | None, offset: int, value: int, size: int) -> None:
    if dev is None or offset >= len(dev.config):
        return
    dev.config_write(offset, value & all_ones(size), min(size, len(dev.config) - offset))


@register_type
class PCIHostState(SysBusDevice):
    """Base of host bridges (abstract ``pci-host-bridge``): the 0xcf8/0xcfc mechanism."""

    TYPE = TYPE_PCI_HOST_BRIDGE
    ABSTRACT = True
    CATEGORY = "bridge"
    PROPERTIES = (
        prop_bool("x-config-reg-migration-enabled", default=True),
        prop_bool("bypass-iommu", default=False),
    )

    def __init__(self) -> None:
        super().__init__()
        self.config_reg = 0
        self.bus: PCIBus | None = None
        self.conf_mem = MemoryRegion.new_io(
            self, MemoryRegionOps(read=self._idx_read, write=self._idx_write,
                                  impl=AccessSizes(1, 4)), "pci-conf-idx", _WINDOW,
        )
        self.data_mem = MemoryRegion.new_io(
            self, MemoryRegionOps(read=self._data_read, write=self._data_write,
                                  impl=AccessSizes(1, 4)), "pci-conf-data", _WINDOW,
        )

    def map_config_ports(self) -> None:
        """Put the index and data windows at 0xcf8 and 0xcfc of the I/O space."""
        sysbus_add_io(self, PCI_CONFIG_ADDR_PORT, self.conf_mem)
        sysbus_init_ioports(self, PCI_CONFIG_ADDR_PORT, _WINDOW)
        sysbus_add_io(self, PCI_CONFIG_DATA_PORT, self.data_mem)
        sysbus_init_ioports(self, PCI_CONFIG_DATA_PORT, _WINDOW)

    def reset(self) -> None:
        self.config_reg = 0

    # -- the index register ----------------------------------------------------------

    def _idx_read(self, offset: int, size: int) -> int:
        return self.config_reg & all_ones(size)

    def _idx_write(self, offset: int, value: int, size: int) -> None:
        if offset == 0 and size == 4:
            self.config_reg = value & 0xFFFFFFFF

    # -- the data window ----------------------------------------------------------------

    def _selected(self, offset: int) -> tuple[PCIDevice | None, int] | None:
        from pyqemu.hw.pci.pci import PCI_CONFIG_SPACE_SIZE

        if not self.config_reg & CONFIG_ENABLE or self.bus is None:
            return None
        return pci_config_access(self.bus, self.config_reg | (offset & 3), PCI_CONFIG_SPACE_SIZE)

    def _data_read(self, offset: int, size: int) -> int:
        selected = self._selected(offset)
        return all_ones(size) if selected is None else pci_config_read(*selected, size)

    def _data_write(self, offset: int, value: int, size: int) -> None:
        selected = self._selected(offset)
        if selected is not None:
            pci_config_write(*selected, value, size)


@register_type
class PCIExpressHost(PCIHostState):
    """Base of PCI Express host bridges (abstract ``pcie-host-bridge``): adds the MMCONFIG window."""

    TYPE = TYPE_PCIE_HOST_BRIDGE
    ABSTRACT = True

    def __init__(self) -> None:
        super().__init__()
        #: Where the MMCONFIG window is mapped, or -1; a board may expose it as a static
        #: property (``MCFG`` on Q35), which has set it already.
        if not hasattr(self, "base_addr"):
            self.base_addr = PCIE_BASE_ADDR_UNMAPPED
        self.mmcfg_size = 0
        self.mmcfg = MemoryRegion.new_io(
            self, MemoryRegionOps(read=self._mmcfg_read, write=self._mmcfg_write, impl=AccessSizes(1, 4)),
            "pcie-mmcfg-mmio", PCIE_MMCFG_SIZE_MAX,
        )

    def mmcfg_update(self, enable: bool, addr: int, size: int) -> None:
        """Map the window at ``addr`` with ``size`` bytes, or unmap it (``pcie_host_mmcfg_update``).

        As in QEMU the window goes straight into system memory: it is not one
        of the bridge's sysbus MMIO regions, so ``info qtree`` does not list it.
        """
        system = self._system_memory()
        if self.base_addr != PCIE_BASE_ADDR_UNMAPPED:
            system.del_subregion(self.mmcfg)
        self.base_addr = PCIE_BASE_ADDR_UNMAPPED
        self.mmcfg_size = 0
        if enable:
            self.mmcfg.set_size(size)
            self.mmcfg_size = size
            self.base_addr = addr
            system.add_subregion(addr, self.mmcfg)

    def _system_memory(self) -> MemoryRegion:
        from pyqemu.hw.core.sysbus import SystemBus

        bus = self.parent_bus
        if not isinstance(bus, SystemBus) or bus.memory is None:
            raise ValueError(f"{self.typename} is not on a system bus with memory")
        return bus.memory.system_memory

    def _mmcfg_target(self, offset: int) -> tuple[PCIDevice | None, int] | None:
        from pyqemu.hw.pci.pci import PCIE_CONFIG_SPACE_SIZE

        if self.bus is None or offset >= self.mmcfg_size:
            return None
        bus_num, devfn = offset >> 20 & 0xFF, offset >> 12 & 0xFF
        return self.bus.find_device(bus_num, devfn), offset & (PCIE_CONFIG_SPACE_SIZE - 1)

    def _mmcfg_read(self, offset: int, size: int) -> int:
        target = self._mmcfg_target(offset)
        return all_ones(size) if target is None else pci_config_read(*target, size)

    def _mmcfg_write(self, offset: int, value: int, size: int) -> None:
        target = self._mmcfg_target(offset)
        if target is not None:
            pci_config_write(*target, value, size)
