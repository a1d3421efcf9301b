"""BARs and slots on a real ``pci.0``: mapping follows the BAR and command registers; slot errors."""

from __future__ import annotations

import pytest

from pyqemu.hw.pci.pci import (
    PCI_BASE_ADDRESS_SPACE_IO,
    PCI_BASE_ADDRESS_SPACE_MEMORY,
    PCIDevice,
    pci_create_simple,
    pci_register_bar,
)
from pyqemu.memory.region import MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type
from pyqemu.util.errors import ConfigError

from .conftest import board, io_space, pci_config_read, pci_config_write

SLOT3 = 3 << 3
MMIO_BASE = 0xFEBF0000
IO_BASE = 0xC000


@register_type
class BarTestDevice(PCIDevice):
    """A device with a 4 KiB memory BAR 0 that reads 0x5a5a5a5a and a 16-port I/O BAR 1."""

    TYPE = "x-test-bar-device"
    VENDOR_ID, DEVICE_ID, CLASS_ID = 0x1234, 0x11E8, 0x00FF

    def pci_realize(self) -> None:
        ops = MemoryRegionOps(read=lambda _addr, _size: 0x5A5A5A5A, write=lambda _a, _v, _s: None)
        bar0 = MemoryRegion.new_io(self, ops, "bar0", 0x1000)
        pci_register_bar(self, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, bar0)
        pci_register_bar(self, 1, PCI_BASE_ADDRESS_SPACE_IO, MemoryRegion.new_io(self, ops, "bar1", 0x10))


def test_bars_size_and_map_only_when_decoding_is_on() -> None:
    with board("pc") as vm:
        pci_create_simple(vm.machine.pci_bus, SLOT3, BarTestDevice.TYPE)  # type: ignore[union-attr]
        memory = vm.machine.memory_system.address_space_memory  # type: ignore[union-attr]
        pci_config_write(vm, SLOT3, 0x10, 0xFFFFFFFF)
        assert pci_config_read(vm, SLOT3, 0x10) == 0xFFFFF000          # size probe: 4 KiB
        pci_config_write(vm, SLOT3, 0x14, 0xFFFFFFFF)
        assert pci_config_read(vm, SLOT3, 0x14) == 0xFFFFFFF1          # 16 ports, I/O
        pci_config_write(vm, SLOT3, 0x10, MMIO_BASE)
        pci_config_write(vm, SLOT3, 0x14, IO_BASE)
        assert memory.read(MMIO_BASE, 4) != 0x5A5A5A5A
        pci_config_write(vm, SLOT3, 0x04, 0x3, 2)                       # I/O and memory decoding on
        assert memory.read(MMIO_BASE, 4) == 0x5A5A5A5A
        assert io_space(vm).read(IO_BASE, 4) == 0x5A5A5A5A
        pci_config_write(vm, SLOT3, 0x04, 0x0, 2)
        assert memory.read(MMIO_BASE, 4) != 0x5A5A5A5A


def test_automatic_slot_and_addr_errors_as_qemu_words_them() -> None:
    from pyqemu.hw.core.qdev import qdev_new, qdev_realize_and_unref

    with board("pc") as vm:
        bus = vm.machine.pci_bus  # type: ignore[union-attr]
        dev = qdev_new(BarTestDevice.TYPE)
        qdev_realize_and_unref(dev, bus)
        assert dev.property_get("addr") == 2 << 3               # first free slot after 00.0 and 01.x
        with pytest.raises(ConfigError, match=r"^PCI: slot 0 function 0 not available for "
                                              r"x-test-bar-device, in use by i440FX,id=\(null\)$"):
            pci_create_simple(bus, 0, BarTestDevice.TYPE)
        pci_create_simple(bus, 5 << 3 | 1, BarTestDevice.TYPE)
        with pytest.raises(ConfigError, match=r"^PCI: 5\.0 indicates single function, but 5\.1 is already"):
            pci_create_simple(bus, 5 << 3, BarTestDevice.TYPE)
