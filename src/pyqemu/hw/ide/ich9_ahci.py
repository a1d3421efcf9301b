"""The ICH9 SATA controller in AHCI mode (``ich9-ahci``, 8086:2922, function 1f.2 on ``q35``).

A PCI function of class "SATA controller" (0x0106, programming interface
0x01: AHCI 1.0) in front of a six-port :class:`~pyqemu.hw.ide.ahci.AhciHba`.
Its configuration space, as QEMU 7.2 sets it:

- BAR 4: the 32-port index/data pair (``ahci-idp``), BAR 5: the 4 KiB
  register window (``ahci``, 32-bit memory);
- interrupt pin A; 0x90 (MAP) = 0x40, "AHCI mode", writable;
- the capability list starts with MSI at 0x80 (one vector, 64-bit, off
  after reset), then the SATA capability at 0xa8 (revision 1.0, index/data
  pair in BAR 4 at offset 0x10).

The HBA interrupts through MSI when the guest enabled it, else through
INTx through the bus's INTx routing.  Each
port is an IDE bus (``ide.0`` … ``ide.5``) that takes one unit, though
there is nothing to plug in yet.
"""

from __future__ import annotations

from pyqemu.hw.ide.ahci import AHCI_IDP_INDEX, AHCI_IDP_SIZE, AHCI_MEM_BAR_SIZE, AhciHba
from pyqemu.hw.ide.bus import IDEBus, ide_bus_new
from pyqemu.hw.pci.msi import PCI_CAP_ID_SATA, MsiCapability, pci_add_capability
from pyqemu.hw.pci.pci import (
    PCI_BASE_ADDRESS_SPACE_IO,
    PCI_BASE_ADDRESS_SPACE_MEMORY,
    PCI_CACHE_LINE_SIZE,
    PCI_INTERRUPT_PIN,
    PCI_VENDOR_ID_INTEL,
    PCIBus,
    PCIDevice,
    pci_create_simple,
    pci_register_bar,
)
from pyqemu.hw.pci.pci_intx import pci_set_irq
from pyqemu.memory.region import Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type

TYPE_ICH9_AHCI = "ich9-ahci"
PCI_DEVICE_ID_INTEL_82801IR = 0x2922
PCI_CLASS_STORAGE_SATA = 0x0106
AHCI_PROGMODE_MAJOR_REV_1 = 0x01
ICH9_AHCI_REVISION = 0x02
ICH9_AHCI_PORTS = 6
ICH9_IDP_BAR = 4
ICH9_MEM_BAR = 5
ICH9_MSI_CAP_OFFSET = 0x80
ICH9_SATA_CAP_OFFSET = 0xA8
SATA_CAP_SIZE = 8
SATA_CAP_REV = 2
SATA_CAP_BAR = 4
SATA_CAP_REVISION_1_0 = 0x10
ICH9_IDP_INDEX_LOG2 = 4
ICH9_MAP = 0x90
ICH9_MAP_AHCI = 1 << 6
ICH9_CACHE_LINE = 0x08
PCI_INTX_PIN_A = 1


@register_type
class ICH9AHCI(PCIDevice):
    """The ICH9 AHCI controller (``ich9-ahci``); the board makes it with :func:`ich9_ahci_init`."""

    TYPE = TYPE_ICH9_AHCI
    CATEGORY = "Storage devices"
    HOTPLUGGABLE = False
    VENDOR_ID = PCI_VENDOR_ID_INTEL
    DEVICE_ID = PCI_DEVICE_ID_INTEL_82801IR
    REVISION = ICH9_AHCI_REVISION
    CLASS_ID = PCI_CLASS_STORAGE_SATA
    CLASS_PROG = AHCI_PROGMODE_MAJOR_REV_1

    def __init__(self) -> None:
        super().__init__()
        self.hba = AhciHba(ICH9_AHCI_PORTS, self._hba_irq, lambda: self.bus_master_as, self._report)
        le = Endianness.LITTLE
        self.mem = MemoryRegion.new_io(
            self, MemoryRegionOps(read=self.hba.mem_read, write=self.hba.mem_write, endianness=le),
            "ahci", AHCI_MEM_BAR_SIZE)
        self.idp = MemoryRegion.new_io(
            self, MemoryRegionOps(read=self.hba.idp_read, write=self.hba.idp_write, endianness=le),
            "ahci-idp", AHCI_IDP_SIZE)
        self.buses: list[IDEBus] = []
        self.msi: MsiCapability | None = None

    def pci_realize(self) -> None:
        self.buses = [ide_bus_new(self, port.number, 1, port.channel) for port in self.hba.ports]
        self.set_byte(PCI_CACHE_LINE_SIZE, ICH9_CACHE_LINE)
        self.set_byte(PCI_INTERRUPT_PIN, PCI_INTX_PIN_A)
        self.set_byte(ICH9_MAP, ICH9_MAP_AHCI)
        pci_register_bar(self, ICH9_IDP_BAR, PCI_BASE_ADDRESS_SPACE_IO, self.idp)
        pci_register_bar(self, ICH9_MEM_BAR, PCI_BASE_ADDRESS_SPACE_MEMORY, self.mem)
        sata = pci_add_capability(self, PCI_CAP_ID_SATA, ICH9_SATA_CAP_OFFSET, SATA_CAP_SIZE)
        self.set_word(sata + SATA_CAP_REV, SATA_CAP_REVISION_1_0)
        self.set_long(sata + SATA_CAP_BAR, (ICH9_IDP_BAR + 4) | ICH9_IDP_INDEX_LOG2 << 4)
        assert AHCI_IDP_INDEX == 1 << ICH9_IDP_INDEX_LOG2
        # Listed first, as the ICH9 datasheet has it (the AHCI spec would put PM first).
        self.msi = MsiCapability(self, ICH9_MSI_CAP_OFFSET)

    def _report(self, text: str) -> None:
        from pyqemu.hw.core.qdev import qdev_get_machine

        report = getattr(getattr(qdev_get_machine(self), "host", None), "report", None)
        if report is not None:
            report(text)

    def _hba_irq(self, level: int) -> None:
        """MSI when enabled (only raising sends a message), else the INTx pin."""
        if self.msi is not None and self.msi.enabled:
            if level:
                self.msi.notify()
            return
        pci_set_irq(self, level)

    def config_write(self, offset: int, value: int, size: int) -> None:
        super().config_write(offset, value, size)
        if self.msi is not None:
            self.msi.config_written(offset, size)

    def reset(self) -> None:
        """PCI reset (INTx released, MSI off) and HBA reset (``pci_ich9_reset``)."""
        super().reset()
        if self.msi is not None:
            self.msi.reset()
        self.hba.reset()


def ich9_ahci_init(pci_bus: PCIBus, devfn: int) -> ICH9AHCI:
    """Create ``ich9-ahci`` at ``devfn`` (1f.2 on ``q35``, a function of a multifunction slot).

    Its INTA goes through the bus's INTx routing (:mod:`pyqemu.hw.pci.pci_intx`).
    """
    dev = pci_create_simple(pci_bus, devfn, TYPE_ICH9_AHCI, multifunction=True)
    assert isinstance(dev, ICH9AHCI)
    return dev
