"""The APM control and status ports 0xb2 / 0xb3 (``apm-io``) of the PIIX4 and ICH9 chipsets.

Writing the control port (APMC, 0xb2) is how an operating system hands a
command to the firmware's System Management Mode: the chipset model that
owns the ports gets the value through its callback and decides whether an
SMI follows (PIIX4_PM, ICH9-LPC).  Two values are ACPI's: the chipset's
"ACPI enable" and "ACPI disable" commands set and clear SCI_EN.  The status
port (APMS, 0xb3) is a plain scratch byte.  Both read back what was last
written; neither is cleared by a reset, as in QEMU.
"""

from __future__ import annotations

from collections.abc import Callable

from pyqemu.hw.pci.pci import PCIBus, PCIDevice
from pyqemu.memory.region import AccessSizes, MemoryRegion, MemoryRegionOps

APM_CNT_IOPORT = 0xB2
APM_STS_IOPORT = 0xB3
APM_IO_LEN = 2
APM_REGION = "apm-io"
APMC = 0
APMS = 1

#: ``callback(value)``: the guest wrote ``value`` to the control port.
ApmCallback = Callable[[int], None]


class APMState:
    """The two APM registers and their ``apm-io`` region (owned by ``owner``, unmapped)."""

    def __init__(self, owner: PCIDevice | None, callback: ApmCallback | None = None):
        self.apmc = 0
        self.apms = 0
        self.callback = callback
        ops = MemoryRegionOps(read=self.read, write=self.write, impl=AccessSizes(1, 1))
        self.io = MemoryRegion.new_io(owner, ops, APM_REGION, APM_IO_LEN)

    def read(self, offset: int, size: int = 1) -> int:
        return self.apmc if offset & 1 == APMC else self.apms

    def write(self, offset: int, value: int, size: int = 1) -> None:
        value &= 0xFF
        if offset & 1 == APMC:
            self.apmc = value
            if self.callback is not None:
                self.callback(value)
        else:
            self.apms = value


def apm_init(dev: PCIDevice, callback: ApmCallback | None) -> APMState:
    """The APM ports of chipset function ``dev``, mapped at 0xb2 in its bus's I/O space."""
    apm = APMState(dev, callback)
    bus = dev.parent_bus
    assert isinstance(bus, PCIBus) and bus.address_space_io is not None
    bus.address_space_io.add_subregion(APM_CNT_IOPORT, apm.io)
    return apm
