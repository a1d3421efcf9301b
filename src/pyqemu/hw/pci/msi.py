"""PCI capabilities and single-vector MSI (QEMU's ``pci_add_capability`` and ``hw/pci/msi.c``).

- :func:`pci_add_capability` links a capability in at the head of the list
  (so the last one added comes first), sets the status register's
  capability bit and makes the capability's bytes read-only;
- :class:`MsiCapability` is a single-vector MSI capability: the guest may
  write Enable, the queue size (clamped to what the function offers once
  enabled), the address and the data; a message is a 32-bit write of the
  data to the address in the function's bus-master address space.
"""

from __future__ import annotations

from pyqemu.hw.pci.pci import PCI_STATUS, PCIDevice
from pyqemu.hw.pci.pci_intx import pci_device_deassert_intx

PCI_STATUS_CAP_LIST = 0x10
PCI_CAPABILITY_LIST = 0x34
PCI_CAP_ID_MSI = 0x05
PCI_CAP_ID_SATA = 0x12

# MSI capability layout (64-bit address, no per-vector masking).
PCI_MSI_FLAGS = 2
PCI_MSI_ADDRESS_LO = 4
PCI_MSI_ADDRESS_HI = 8
PCI_MSI_DATA_64 = 12
PCI_MSI_SIZEOF_64 = 0x0E
PCI_MSI_FLAGS_ENABLE = 0x0001
PCI_MSI_FLAGS_QMASK = 0x000E
PCI_MSI_FLAGS_QSIZE = 0x0070
PCI_MSI_FLAGS_64BIT = 0x0080
PCI_MSI_ADDRESS_LO_MASK = 0xFFFFFFFC


def pci_add_capability(dev: PCIDevice, cap_id: int, offset: int, size: int) -> int:
    """Insert capability ``cap_id`` of ``size`` bytes at ``offset``; its bytes are read-only."""
    dev.set_byte(offset, cap_id)
    dev.set_byte(offset + 1, dev.get_byte(PCI_CAPABILITY_LIST))
    dev.set_byte(PCI_CAPABILITY_LIST, offset)
    dev.set_word(PCI_STATUS, dev.get_word(PCI_STATUS) | PCI_STATUS_CAP_LIST)
    dev.wmask[offset:offset + size] = bytes(size)
    return offset


def _set_wmask(dev: PCIDevice, offset: int, mask: int, size: int) -> None:
    dev.wmask[offset:offset + size] = mask.to_bytes(size, "little")


class MsiCapability:
    """A one-vector, 64-bit MSI capability at ``offset`` of ``dev`` (``msi_init``)."""

    def __init__(self, dev: PCIDevice, offset: int) -> None:
        self.dev = dev
        self.offset = pci_add_capability(dev, PCI_CAP_ID_MSI, offset, PCI_MSI_SIZEOF_64)
        dev.set_word(offset + PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT)
        _set_wmask(dev, offset + PCI_MSI_FLAGS, PCI_MSI_FLAGS_QSIZE | PCI_MSI_FLAGS_ENABLE, 2)
        _set_wmask(dev, offset + PCI_MSI_ADDRESS_LO, PCI_MSI_ADDRESS_LO_MASK, 4)
        _set_wmask(dev, offset + PCI_MSI_ADDRESS_HI, 0xFFFFFFFF, 4)
        _set_wmask(dev, offset + PCI_MSI_DATA_64, 0xFFFF, 2)

    @property
    def flags(self) -> int:
        return self.dev.get_word(self.offset + PCI_MSI_FLAGS)

    @property
    def enabled(self) -> bool:
        return bool(self.flags & PCI_MSI_FLAGS_ENABLE)

    def covers(self, offset: int, size: int) -> bool:
        return offset < self.offset + PCI_MSI_SIZEOF_64 and offset + size > self.offset

    def config_written(self, offset: int, size: int) -> None:
        """After a guest write (``msi_write_config``): enabling MSI silences INTx; clamp the queue size."""
        if not self.covers(offset, size) or not self.enabled:
            return
        pci_device_deassert_intx(self.dev)
        flags = self.flags
        granted = (flags & PCI_MSI_FLAGS_QSIZE) >> 4
        offered = (flags & PCI_MSI_FLAGS_QMASK) >> 1
        if granted > offered:
            self.dev.set_word(self.offset + PCI_MSI_FLAGS, flags & ~PCI_MSI_FLAGS_QSIZE | offered << 4)

    def message(self) -> tuple[int, int]:
        """The address and data of vector 0."""
        dev, at = self.dev, self.offset
        address = dev.get_long(at + PCI_MSI_ADDRESS_LO) | dev.get_long(at + PCI_MSI_ADDRESS_HI) << 32
        return address, dev.get_word(at + PCI_MSI_DATA_64)

    def notify(self) -> None:
        """Send vector 0: the data, written to the address by the function (``msi_notify``)."""
        address, data = self.message()
        space = self.dev.bus_master_as
        if space is not None:
            space.write(address, data, 4)

    def reset(self) -> None:
        """Disabled, no queue size, address and data cleared (``msi_reset``)."""
        dev, at = self.dev, self.offset
        dev.set_word(at + PCI_MSI_FLAGS, self.flags & ~(PCI_MSI_FLAGS_QSIZE | PCI_MSI_FLAGS_ENABLE))
        dev.set_long(at + PCI_MSI_ADDRESS_LO, 0)
        dev.set_long(at + PCI_MSI_ADDRESS_HI, 0)
        dev.set_word(at + PCI_MSI_DATA_64, 0)
