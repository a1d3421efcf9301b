"""The virtio-mmio transport (``virtio-mmio``): a 512-byte register window for one virtio device.

Boards such as ``microvm`` create transports with nothing plugged into
their ``virtio-mmio-bus``.  Such an empty transport must not confuse a
guest that probes it: as in QEMU 7.2 it answers the magic value, its
version (1 while ``force-legacy`` is on, else 2) and the vendor id, reads
every other register as 0 (so DeviceID 0 means "no device") and ignores
writes.  Virtio devices to plug into the bus are not modelled yet.
"""

from __future__ import annotations

from pyqemu.hw.core.bus import BusState, qbus_new
from pyqemu.hw.core.qdev import qdev_get_machine
from pyqemu.hw.core.qdev_properties import prop_bit, prop_bool
from pyqemu.hw.core.sysbus import SysBusDevice, sysbus_init_irq, sysbus_init_mmio
from pyqemu.memory.region import Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type

TYPE_VIRTIO_MMIO = "virtio-mmio"
TYPE_VIRTIO_MMIO_BUS = "virtio-mmio-bus"
#: Size of a transport's register window.
VIRTIO_MMIO_SIZE = 0x200

# Registers (offsets in the window) that answer while no device is plugged.
REG_MAGIC_VALUE = 0x000
REG_VERSION = 0x004
REG_DEVICE_ID = 0x008
REG_VENDOR_ID = 0x00C

#: "virt" in little-endian ASCII.
VIRT_MAGIC = 0x74726976
#: "QEMU" in little-endian ASCII.
VIRT_VENDOR = 0x554D4551
VIRT_VERSION_LEGACY = 1
VIRT_VERSION = 2
#: Only the KVM accelerator can back notifications with eventfds.
IOEVENTFD_ACCEL = "kvm"


@register_type
class VirtioMmioBus(BusState):
    """The bus of one transport (``virtio-mmio-bus``): room for a single virtio device."""

    TYPE = TYPE_VIRTIO_MMIO_BUS
    MAX_DEV = 1


@register_type
class VirtioMmio(SysBusDevice):
    """A virtio-mmio transport; boards map its window and connect its interrupt output."""

    TYPE = TYPE_VIRTIO_MMIO
    CATEGORY = "Misc devices"
    PROPERTIES = (
        prop_bool("format_transport_address", default=True),
        prop_bool("force-legacy", default=True),
        prop_bit("ioeventfd", default=True),
    )

    def realize(self) -> None:
        self.virtio_bus = qbus_new(TYPE_VIRTIO_MMIO_BUS, self)
        self.irq = sysbus_init_irq(self)
        if not self._eventfds_available():
            self.ioeventfd = False
        # QEMU 7.2: legacy transports use the target's endianness, modern ones little-endian.
        endianness = Endianness.NATIVE if self.force_legacy else Endianness.LITTLE
        ops = MemoryRegionOps(read=self.read, write=self.write, endianness=endianness)
        sysbus_init_mmio(self, MemoryRegion.new_io(self, ops, TYPE_VIRTIO_MMIO, VIRTIO_MMIO_SIZE))

    def _eventfds_available(self) -> bool:
        accel = getattr(qdev_get_machine(self), "accelerator", None)
        return getattr(accel, "NAME", None) == IOEVENTFD_ACCEL

    def version(self) -> int:
        """What the Version register reads: 1 for a legacy transport, else 2."""
        return VIRT_VERSION_LEGACY if self.force_legacy else VIRT_VERSION

    def read(self, offset: int, size: int) -> int:
        """A register read with no device plugged: identification registers, else 0."""
        return {
            REG_MAGIC_VALUE: VIRT_MAGIC,
            REG_VERSION: self.version(),
            REG_VENDOR_ID: VIRT_VENDOR,
        }.get(offset, 0)

    def write(self, offset: int, value: int, size: int) -> None:
        """With no device plugged every register ignores writes."""
