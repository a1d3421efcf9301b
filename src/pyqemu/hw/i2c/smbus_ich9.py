"""The ICH9 SMBus controller of the ``q35`` board (``ICH9-SMB``, 8086:2930, function 1f.3).

Its registers are the PIIX4 / ICH9 host controller (:mod:`pyqemu.hw.i2c.pm_smbus`)
behind I/O BAR 4 (SMB_BASE, config 0x20; 64 ports, as QEMU registers it,
although the datasheet says 32).  The host configuration register HOSTC
(config 0x40) switches the registers on (HST_EN), selects plain I2C block
commands (I2C_EN) and soft-resets the controller (SSRESET, which reads back
0).  Until the guest first writes HOSTC the registers answer, as in QEMU.
The controller interrupts on INTA (config 0x3d = 1) while a command it ran
with INTREN has status to report.  Not modelled, as in QEMU: SMBus memory
BAR 0/1 and SMI routing (HOSTC bit 1).
"""

from __future__ import annotations

from pyqemu.hw.i2c.core import I2CBus
from pyqemu.hw.i2c.pm_smbus import PMSMBus, pm_smbus_init
from pyqemu.hw.pci.pci import (
    PCI_BASE_ADDRESS_SPACE_IO,
    PCI_INTERRUPT_PIN,
    PCI_VENDOR_ID_INTEL,
    PCIBus,
    PCIDevice,
    pci_create_simple,
    pci_register_bar,
)
from pyqemu.hw.pci.pci_intx import pci_set_irq
from pyqemu.qom.object import register_type

TYPE_ICH9_SMB_DEVICE = "ICH9-SMB"
PCI_DEVICE_ID_INTEL_ICH9_6 = 0x2930
PCI_CLASS_SERIAL_SMBUS = 0x0C05
ICH9_A2_SMB_REVISION = 0x02
ICH9_SMB_DEV = 31
ICH9_SMB_FUNC = 3
ICH9_SMB_DEVFN = ICH9_SMB_DEV << 3 | ICH9_SMB_FUNC
ICH9_SMB_INTX_PIN = 1  # INTA

ICH9_SMB_SMB_BASE = 0x20
ICH9_SMB_SMB_BASE_BAR = 4
ICH9_SMB_HOSTC = 0x40
ICH9_SMB_HOSTC_HST_EN = 1 << 0
ICH9_SMB_HOSTC_SMB_SMI_EN = 1 << 1
ICH9_SMB_HOSTC_I2C_EN = 1 << 2
ICH9_SMB_HOSTC_SSRESET = 1 << 3


@register_type
class ICH9SMB(PCIDevice):
    """The ICH9 SMBus controller (``ICH9-SMB``); board code makes it with :func:`ich9_smb_init`."""

    TYPE = TYPE_ICH9_SMB_DEVICE
    DESCRIPTION = "ICH9 SMBUS Bridge"
    USER_CREATABLE = False
    HOTPLUGGABLE = False
    VENDOR_ID = PCI_VENDOR_ID_INTEL
    DEVICE_ID = PCI_DEVICE_ID_INTEL_ICH9_6
    REVISION = ICH9_A2_SMB_REVISION
    CLASS_ID = PCI_CLASS_SERIAL_SMBUS

    def __init__(self) -> None:
        super().__init__()
        self.smb: PMSMBus | None = None

    def pci_realize(self) -> None:
        self.set_byte(PCI_INTERRUPT_PIN, ICH9_SMB_INTX_PIN)
        self.set_byte(ICH9_SMB_HOSTC, 0)
        self.smb = pm_smbus_init(self, force_aux_blk=False)
        pci_register_bar(self, ICH9_SMB_SMB_BASE_BAR, PCI_BASE_ADDRESS_SPACE_IO, self.smb.io)

    @property
    def i2c_bus(self) -> I2CBus:
        assert self.smb is not None, "ICH9-SMB is not realized"
        return self.smb.bus

    def config_write(self, offset: int, value: int, size: int) -> None:
        super().config_write(offset, value, size)
        if offset <= ICH9_SMB_HOSTC < offset + size:
            self._hostc_written()

    def _hostc_written(self) -> None:
        smb = self.smb
        assert smb is not None
        hostc = self.get_byte(ICH9_SMB_HOSTC)
        smb.io.set_enabled(bool(hostc & ICH9_SMB_HOSTC_HST_EN))
        smb.i2c_enable = bool(hostc & ICH9_SMB_HOSTC_I2C_EN)
        if hostc & ICH9_SMB_HOSTC_SSRESET:
            smb.reset()
            self.set_byte(ICH9_SMB_HOSTC, hostc & ~ICH9_SMB_HOSTC_SSRESET)

    def set_irq(self, level: bool) -> None:
        """Drive INTA (QEMU's ``ich9_smb_set_irq``); the bus's INTx routing takes it from there."""
        pci_set_irq(self, int(level))


def ich9_smb_init(pci_bus: PCIBus, devfn: int, smb_io_base: int) -> tuple[ICH9SMB, I2CBus]:
    """Create ``ICH9-SMB`` at ``devfn`` (multifunction) on ``pci_bus``: the device and its ``i2c`` bus.

    ``smb_io_base`` is not used, as in QEMU: firmware programs BAR 4.
    """
    dev = pci_create_simple(pci_bus, devfn, TYPE_ICH9_SMB_DEVICE, multifunction=True)
    assert isinstance(dev, ICH9SMB) and dev.smb is not None
    dev.smb.set_irq = dev.set_irq
    return dev, dev.i2c_bus
