"""PCI buses and devices: configuration space, slots and BARs (QEMU's ``hw/pci/pci.c``).

A :class:`PCIBus` (type ``PCI``; ``PCIE`` for PCI Express roots) has 256
device/function slots (``devfn = slot << 3 | function``), a memory window
and an I/O window into which devices' BARs are mapped.  A
:class:`PCIDevice` (abstract ``pci-device``) has a configuration space of
256 bytes (4 KiB on an express bus), written through a write mask so the
read-only identity registers stay as the device model set them.

A device model sets its identity as class attributes and registers BARs in
``pci_realize``::

    class MyNic(PCIDevice):
        TYPE = "my-nic"
        VENDOR_ID, DEVICE_ID, CLASS_ID = 0x1234, 0x5678, PCI_CLASS_NETWORK_ETHERNET

        def pci_realize(self) -> None:
            pci_register_bar(self, 0, PCI_BASE_ADDRESS_SPACE_MEMORY, MemoryRegion.new_io(...))

A BAR is mapped when the guest has written its address and enabled the
matching decode bit of the command register, and unmapped again when either
changes (QEMU's ``pci_update_mappings``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from pyqemu.hw.core.bus import BusState
from pyqemu.hw.core.qdev import DeviceState
from pyqemu.hw.core.qdev_properties import (
    DEVFN_UNSET,
    prop_bit,
    prop_pci_devfn,
    prop_string,
    prop_uint32,
)
from pyqemu.qom.object import register_type
from pyqemu.util.errors import ConfigError

if TYPE_CHECKING:
    from pyqemu.memory.address_space import AddressSpace, MemorySystem
    from pyqemu.memory.region import MemoryRegion

TYPE_PCI_BUS = "PCI"
TYPE_PCIE_BUS = "PCIE"
TYPE_PCI_DEVICE = "pci-device"

PCI_CONFIG_SPACE_SIZE = 0x100
PCIE_CONFIG_SPACE_SIZE = 0x1000
PCI_CONFIG_HEADER_SIZE = 0x40
PCI_SLOT_MAX = 32
PCI_FUNC_MAX = 8
PCI_DEVFN_MAX = 256

# Type 0 header registers.
PCI_VENDOR_ID = 0x00
PCI_DEVICE_ID = 0x02
PCI_COMMAND = 0x04
PCI_STATUS = 0x06
PCI_REVISION_ID = 0x08
PCI_CLASS_PROG = 0x09
PCI_CLASS_DEVICE = 0x0A
PCI_CACHE_LINE_SIZE = 0x0C
PCI_LATENCY_TIMER = 0x0D
PCI_HEADER_TYPE = 0x0E
PCI_BASE_ADDRESS_0 = 0x10
PCI_SUBSYSTEM_VENDOR_ID = 0x2C
PCI_SUBSYSTEM_ID = 0x2E
PCI_INTERRUPT_LINE = 0x3C
PCI_INTERRUPT_PIN = 0x3D

PCI_COMMAND_IO = 0x1
PCI_COMMAND_MEMORY = 0x2
PCI_COMMAND_MASTER = 0x4
PCI_COMMAND_SERR = 0x100
PCI_COMMAND_INTX_DISABLE = 0x400
PCI_COMMAND_WRITABLE = (
    PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE
)
PCI_HEADER_TYPE_MULTI_FUNCTION = 0x80

PCI_NUM_REGIONS = 6
PCI_BASE_ADDRESS_SPACE_IO = 0x1
PCI_BASE_ADDRESS_SPACE_MEMORY = 0x0
PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x4
PCI_BASE_ADDRESS_MEM_PREFETCH = 0x8
PCI_BAR_UNMAPPED = (1 << 64) - 1

#: What the default subsystem ids are (Red Hat / QEMU), as every QEMU PCI device reports.
PCI_SUBVENDOR_ID_REDHAT_QUMRANET = 0x1AF4
PCI_SUBDEVICE_ID_QEMU = 0x1100
PCI_VENDOR_ID_INTEL = 0x8086

PCI_CLASS_BRIDGE_HOST = 0x0600
PCI_CLASS_BRIDGE_ISA = 0x0601

#: Class names ``info qtree`` prints (QEMU's ``pci_class_descriptions``, the ones pyqemu uses).
PCI_CLASS_NAMES = {
    0x0100: "SCSI controller", 0x0101: "IDE controller", 0x0106: "SATA controller",
    0x0200: "Ethernet controller", 0x0300: "VGA controller", 0x0600: "Host bridge",
    0x0601: "ISA bridge", 0x0604: "PCI bridge", 0x0680: "Bridge", 0x0c05: "SMBus",
    0x0780: "Communication controller", 0x00ff: "Unclassified device",
}


def pci_devfn(slot: int, function: int) -> int:
    return slot << 3 | function


def pci_slot(devfn: int) -> int:
    return devfn >> 3


def pci_func(devfn: int) -> int:
    return devfn & 7


# -- the bus ------------------------------------------------------------------------


@register_type
class PCIBus(BusState):
    """A PCI bus (type ``PCI``): 256 device/function slots and the windows BARs map into."""

    TYPE = TYPE_PCI_BUS

    def __init__(self) -> None:
        super().__init__()
        self.slots: list[PCIDevice | None] = [None] * PCI_DEVFN_MAX
        #: Where memory BARs go (the host's ``pci`` region) and I/O BARs (``io``).
        self.address_space_mem: MemoryRegion | None = None
        self.address_space_io: MemoryRegion | None = None
        #: Lowest devfn a device without ``addr=`` may get (QEMU's ``devfn_min``).
        self.devfn_min = 0
        self.bus_num = 0
        #: The machine's memory system, where each device's bus-master address space is created.
        self.memory_system: MemorySystem | None = None
        #: INTx routing (:mod:`pci_intx`): the board's ``map_irq`` / ``set_irq`` and asserted pins per IRQ.
        self.map_irq: Callable[[PCIDevice, int], int] | None = None
        self.set_irq: Callable[[int, int], None] | None = None
        self.irq_count: list[int] = []

    @property
    def is_express(self) -> bool:
        return False

    def register_device(self, device: PCIDevice) -> None:
        """Give ``device`` its slot at realize, once its ``addr`` is final (``do_pci_register_device``)."""
        device.devfn = _allocate_devfn(self, device)
        self.slots[device.devfn] = device

    def unregister_device(self, device: PCIDevice) -> None:
        """Free the slot ``device`` holds, if it holds one."""
        if 0 <= device.devfn < PCI_DEVFN_MAX and self.slots[device.devfn] is device:
            self.slots[device.devfn] = None

    def remove_child(self, device: DeviceState) -> None:
        if isinstance(device, PCIDevice):
            self.unregister_device(device)
        super().remove_child(device)

    def find_device(self, bus_num: int, devfn: int) -> PCIDevice | None:
        """The device at ``bus_num``:``devfn`` (only bus 0 here: no bridges yet)."""
        return self.slots[devfn] if bus_num == self.bus_num else None

    def print_dev(self, dev: DeviceState) -> list[str]:
        """``class NAME, addr BB:SS.F, pci id V:D (sub V:D)`` and BAR lines, as ``info qtree``."""
        if not isinstance(dev, PCIDevice):
            return []
        cls = dev.class_id
        name = PCI_CLASS_NAMES.get(cls, f"Class {cls:04x}")
        lines = [
            f"class {name}, addr {self.bus_num:02x}:{pci_slot(dev.devfn):02x}.{pci_func(dev.devfn):x}, "
            f"pci id {dev.get_word(PCI_VENDOR_ID):04x}:{dev.get_word(PCI_DEVICE_ID):04x} "
            f"(sub {dev.get_word(PCI_SUBSYSTEM_VENDOR_ID):04x}:{dev.get_word(PCI_SUBSYSTEM_ID):04x})"
        ]
        for n, bar in enumerate(dev.bars):
            if bar is not None:
                kind = "i/o" if bar.is_io else "mem"
                last = (bar.addr + bar.size - 1) & PCI_BAR_UNMAPPED
                lines.append(f"bar {n}: {kind} at 0x{bar.addr:x} [0x{last:x}]")
        return lines


@register_type
class PCIEBus(PCIBus):
    """A PCI Express root bus (type ``PCIE``): devices get 4 KiB of configuration space."""

    TYPE = TYPE_PCIE_BUS

    @property
    def is_express(self) -> bool:
        return True


def _in_use_error(bus: PCIBus, device: PCIDevice, devfn: int) -> ConfigError:
    other = bus.slots[devfn]
    assert other is not None
    return ConfigError(
        f"PCI: slot {pci_slot(devfn)} function {pci_func(devfn)} not available for "
        f"{device.typename}, in use by {other.typename},id={other.id or '(null)'}"
    )


def _allocate_devfn(bus: PCIBus, device: PCIDevice) -> int:
    """The devfn ``device`` gets on ``bus``: its ``addr=``, else the first free slot (function 0)."""
    if device.devfn == DEVFN_UNSET:
        for devfn in range(bus.devfn_min, PCI_DEVFN_MAX, PCI_FUNC_MAX):
            if all(bus.slots[devfn + f] is None for f in range(PCI_FUNC_MAX)):
                return devfn
        raise ConfigError(f"PCI: no slot/function available for {device.typename}, all in use or reserved")
    devfn = device.devfn
    if bus.slots[devfn] is not None:
        raise _in_use_error(bus, device, devfn)
    _check_multifunction(bus, device, devfn)
    return devfn


def _check_multifunction(bus: PCIBus, device: PCIDevice, devfn: int) -> None:
    """QEMU's ``pci_init_multifunction``: function 0 decides whether a slot has several functions."""
    slot = pci_slot(devfn)
    first = pci_devfn(slot, 0)
    if pci_func(devfn) == 0:
        if device.multifunction:
            return
        for f in range(1, PCI_FUNC_MAX):
            if bus.slots[first + f] is not None:
                raise ConfigError(
                    f"PCI: {slot:x}.0 indicates single function, but {slot:x}.{f:x} is already populated."
                )
        return
    head = bus.slots[first]
    if head is not None and not head.multifunction:
        raise ConfigError(
            f"PCI: single function device can't be populated in function {slot:x}.{pci_func(devfn):x}"
        )


# -- BARs --------------------------------------------------------------------------------


@dataclass
class PCIBar:
    """One base address register: its region, its type bits and where it is mapped."""

    region: MemoryRegion
    type_bits: int
    addr: int = PCI_BAR_UNMAPPED

    @property
    def size(self) -> int:
        return self.region.size

    @property
    def is_io(self) -> bool:
        return bool(self.type_bits & PCI_BASE_ADDRESS_SPACE_IO)

    @property
    def is_64bit(self) -> bool:
        return bool(self.type_bits & PCI_BASE_ADDRESS_MEM_TYPE_64)


def pci_bar_offset(n: int) -> int:
    return PCI_BASE_ADDRESS_0 + 4 * n


def pci_register_bar(dev: PCIDevice, n: int, type_bits: int, region: MemoryRegion) -> None:
    """Declare BAR ``n`` (``pci_register_bar``): ``region``'s size must be a power of two."""
    size = region.size
    if size & (size - 1) or not 0 <= n < PCI_NUM_REGIONS:
        raise ValueError(f"BAR {n} of {dev.typename}: size 0x{size:x} is not a power of two")
    dev.bars[n] = PCIBar(region, type_bits)
    offset = pci_bar_offset(n)
    mask = ~(size - 1)
    dev.set_long(offset, type_bits)
    dev.wmask[offset:offset + 4] = (mask & 0xFFFFFFFF).to_bytes(4, "little")
    if type_bits & PCI_BASE_ADDRESS_MEM_TYPE_64:
        dev.wmask[offset + 4:offset + 8] = ((mask >> 32) & 0xFFFFFFFF).to_bytes(4, "little")


def _bar_address(dev: PCIDevice, n: int, bar: PCIBar) -> int:
    """Where BAR ``n`` decodes now, or ``PCI_BAR_UNMAPPED`` (QEMU's ``pci_bar_address``)."""
    command = dev.get_word(PCI_COMMAND)
    offset = pci_bar_offset(n)
    if bar.is_io:
        if not command & PCI_COMMAND_IO:
            return PCI_BAR_UNMAPPED
        addr = dev.get_long(offset) & ~(bar.size - 1) & 0xFFFFFFFC
        return PCI_BAR_UNMAPPED if addr == 0 or addr + bar.size > 0x10000 else addr
    if not command & PCI_COMMAND_MEMORY:
        return PCI_BAR_UNMAPPED
    raw = dev.get_long(offset) | (dev.get_long(offset + 4) << 32 if bar.is_64bit else 0)
    addr = raw & ~(bar.size - 1) & ~0xF
    return PCI_BAR_UNMAPPED if addr == 0 else addr


def pci_update_mappings(dev: PCIDevice) -> None:
    """Map, move or unmap each BAR to match its register and the command register."""
    bus = dev.parent_bus
    if not isinstance(bus, PCIBus):
        return
    for n, bar in enumerate(dev.bars):
        if bar is None:
            continue
        new = _bar_address(dev, n, bar)
        if new == bar.addr:
            continue
        space = bus.address_space_io if bar.is_io else bus.address_space_mem
        if space is None:
            continue
        if bar.addr != PCI_BAR_UNMAPPED:
            space.del_subregion(bar.region)
        bar.addr = new
        if new != PCI_BAR_UNMAPPED:
            space.add_subregion_overlap(new, bar.region, 1)


# -- the device ----------------------------------------------------------------------------


@register_type
class PCIDevice(DeviceState):
    """Base of PCI devices (abstract ``pci-device``); models set the identity class attributes."""

    TYPE = TYPE_PCI_DEVICE
    ABSTRACT = True
    BUS_TYPE: ClassVar[str | None] = TYPE_PCI_BUS
    VENDOR_ID: ClassVar[int] = 0
    DEVICE_ID: ClassVar[int] = 0
    REVISION: ClassVar[int] = 0
    #: Base class and subclass (``0x0600`` host bridge); the programming interface is ``CLASS_PROG``.
    CLASS_ID: ClassVar[int] = 0x00FF
    CLASS_PROG: ClassVar[int] = 0
    SUBSYSTEM_VENDOR_ID: ClassVar[int] = PCI_SUBVENDOR_ID_REDHAT_QUMRANET
    SUBSYSTEM_ID: ClassVar[int] = PCI_SUBDEVICE_ID_QEMU
    #: A PCI Express function (QEMU's ``INTERFACE_PCIE_DEVICE``): 4 KiB of configuration space, not 256 bytes.
    IS_EXPRESS: ClassVar[bool] = False
    PROPERTIES = (
        prop_pci_devfn("addr"),
        prop_string("romfile"),
        prop_uint32("romsize", default=0xFFFFFFFF),
        prop_uint32("rombar", default=1),
        prop_bit("multifunction", default=False),
        prop_bit("x-pcie-lnksta-dllla", default=True),
        prop_bit("x-pcie-extcap-init", default=True),
        prop_string("failover_pair_id"),
        prop_uint32("acpi-index", default=0),
    )

    def __init__(self) -> None:
        super().__init__()
        self.config = bytearray(PCI_CONFIG_SPACE_SIZE)
        self.wmask = bytearray(PCI_CONFIG_SPACE_SIZE)
        self.bars: list[PCIBar | None] = [None] * PCI_NUM_REGIONS
        self.bus_master_enable: MemoryRegion | None = None
        self.bus_master_as: AddressSpace | None = None
        #: Which INTx pins the device asserts (bit N: pin N).
        self.irq_state = 0

    # devfn is the ``addr`` property's value.
    @property
    def devfn(self) -> int:
        return self.addr  # type: ignore[attr-defined, no-any-return]

    @devfn.setter
    def devfn(self, value: int) -> None:
        self.addr = value

    @property
    def class_id(self) -> int:
        return self.get_word(PCI_CLASS_DEVICE)

    # -- config space accessors ------------------------------------------------------------

    def get_byte(self, offset: int) -> int:
        return self.config[offset]

    def get_word(self, offset: int) -> int:
        return int.from_bytes(self.config[offset:offset + 2], "little")

    def get_long(self, offset: int) -> int:
        return int.from_bytes(self.config[offset:offset + 4], "little")

    def set_byte(self, offset: int, value: int) -> None:
        self.config[offset] = value & 0xFF

    def set_word(self, offset: int, value: int) -> None:
        self.config[offset:offset + 2] = (value & 0xFFFF).to_bytes(2, "little")

    def set_long(self, offset: int, value: int) -> None:
        self.config[offset:offset + 4] = (value & 0xFFFFFFFF).to_bytes(4, "little")

    def set_quad(self, offset: int, value: int) -> None:
        self.config[offset:offset + 8] = (value & PCI_BAR_UNMAPPED).to_bytes(8, "little")

    def config_read(self, offset: int, size: int) -> int:
        """A guest read of ``size`` bytes at ``offset`` (``pci_default_read_config``)."""
        if offset + size > len(self.config):
            return (1 << (8 * size)) - 1
        return int.from_bytes(self.config[offset:offset + size], "little")

    def config_write(self, offset: int, value: int, size: int) -> None:
        """A guest write through the write mask; BAR and command writes remap the BARs."""
        if offset + size > len(self.config):
            return
        from pyqemu.hw.pci.pci_intx import pci_irq_disabled, pci_update_irq_disabled

        was_disabled = pci_irq_disabled(self)
        for i in range(size):
            mask = self.wmask[offset + i]
            byte = (value >> (8 * i)) & 0xFF
            self.config[offset + i] = (self.config[offset + i] & ~mask) | (byte & mask)
        end = offset + size
        command_changed = offset < PCI_COMMAND + 2 and end > PCI_COMMAND
        bars_changed = offset < PCI_BASE_ADDRESS_0 + 4 * PCI_NUM_REGIONS and end > PCI_BASE_ADDRESS_0
        if command_changed or bars_changed:
            pci_update_mappings(self)
        if command_changed:
            self._update_bus_master()
            pci_update_irq_disabled(self, was_disabled)

    def _update_bus_master(self) -> None:
        if self.bus_master_enable is not None:
            self.bus_master_enable.set_enabled(bool(self.get_word(PCI_COMMAND) & PCI_COMMAND_MASTER))

    # -- realize / reset -----------------------------------------------------------------

    def realize(self) -> None:
        bus = self.parent_bus
        if isinstance(bus, PCIBus):
            bus.register_device(self)
        try:
            if self.IS_EXPRESS:
                self.config = bytearray(PCIE_CONFIG_SPACE_SIZE)
                self.wmask = bytearray(PCIE_CONFIG_SPACE_SIZE)
            self._init_header()
            if isinstance(bus, PCIBus):
                self._init_bus_master(bus)
            self.pci_realize()
        except BaseException:
            if isinstance(bus, PCIBus):
                bus.unregister_device(self)
            raise

    def _init_bus_master(self, bus: PCIBus) -> None:
        """The device's view of memory for DMA: system memory, while bus mastering is on."""
        from pyqemu.memory.region import UINT64_MAX, MemoryRegion

        if bus.memory_system is None:
            return
        container = MemoryRegion.new_container(self, "bus master container", UINT64_MAX)
        self.bus_master_enable = MemoryRegion.new_alias(
            self, "bus master", bus.memory_system.system_memory, 0, UINT64_MAX
        )
        self.bus_master_enable.set_enabled(False)
        container.add_subregion(0, self.bus_master_enable)
        self.bus_master_as = bus.memory_system.address_space_init(container, self.typename)

    def _init_header(self) -> None:
        cls = type(self)
        self.set_word(PCI_VENDOR_ID, cls.VENDOR_ID)
        self.set_word(PCI_DEVICE_ID, cls.DEVICE_ID)
        self.set_byte(PCI_REVISION_ID, cls.REVISION)
        self.set_byte(PCI_CLASS_PROG, cls.CLASS_PROG)
        self.set_word(PCI_CLASS_DEVICE, cls.CLASS_ID)
        self.set_word(PCI_SUBSYSTEM_VENDOR_ID, cls.SUBSYSTEM_VENDOR_ID)
        self.set_word(PCI_SUBSYSTEM_ID, cls.SUBSYSTEM_ID)
        if self.multifunction:  # type: ignore[attr-defined]
            self.config[PCI_HEADER_TYPE] |= PCI_HEADER_TYPE_MULTI_FUNCTION
        self.wmask[PCI_COMMAND:PCI_COMMAND + 2] = PCI_COMMAND_WRITABLE.to_bytes(2, "little")
        for offset in (PCI_CACHE_LINE_SIZE, PCI_INTERRUPT_LINE):  # the latency timer stays 0, as in QEMU
            self.wmask[offset] = 0xFF
        # As in QEMU, everything past the standard header is writable unless a model says otherwise.
        self.wmask[PCI_CONFIG_HEADER_SIZE:] = b"\xff" * (len(self.wmask) - PCI_CONFIG_HEADER_SIZE)

    def pci_realize(self) -> None:
        """Model-specific set-up after the header is filled in (QEMU's ``PCIDeviceClass.realize``)."""

    def unrealize(self) -> None:
        if isinstance(self.parent_bus, PCIBus):
            self.parent_bus.unregister_device(self)
        if self.bus_master_as is not None:
            self.bus_master_as.destroy()
            self.bus_master_as = None
        bus = self.parent_bus
        for bar in self.bars:
            if bar is None or bar.addr == PCI_BAR_UNMAPPED or not isinstance(bus, PCIBus):
                continue
            space = bus.address_space_io if bar.is_io else bus.address_space_mem
            if space is not None:
                space.del_subregion(bar.region)
            bar.addr = PCI_BAR_UNMAPPED

    def reset(self) -> None:
        """Pins lowered, decoding off, BARs back to their type bits and unmapped (``pci_do_device_reset``)."""
        from pyqemu.hw.pci.pci_intx import pci_device_deassert_intx

        pci_device_deassert_intx(self)
        self.set_word(PCI_COMMAND, self.get_word(PCI_COMMAND) & ~PCI_COMMAND_WRITABLE)
        self.set_byte(PCI_CACHE_LINE_SIZE, 0)
        self.set_byte(PCI_INTERRUPT_LINE, 0)
        for n, bar in enumerate(self.bars):
            if bar is not None:
                self.set_long(pci_bar_offset(n), bar.type_bits)
                if bar.is_64bit:
                    self.set_long(pci_bar_offset(n) + 4, 0)
        pci_update_mappings(self)
        self._update_bus_master()


def pci_create_simple(bus: PCIBus, devfn: int, typename: str, *, multifunction: bool = False,
                      configure: Callable[[PCIDevice], None] | None = None) -> PCIDevice:
    """Create a PCI device at ``devfn`` on ``bus`` and realize it (``pci_create_simple_multifunction``).

    ``configure`` runs before realize (board properties, GPIO wiring).
    """
    from pyqemu.hw.core.qdev import qdev_get_machine, qdev_new, qdev_realize_and_unref
    from pyqemu.hw.core.qdev_monitor import apply_global_props

    dev = qdev_new(typename)
    assert isinstance(dev, PCIDevice)
    machine = qdev_get_machine(bus)
    if machine is not None:
        apply_global_props(machine, dev)
    dev.devfn = devfn
    dev.multifunction = multifunction  # type: ignore[attr-defined]
    if configure is not None:
        try:
            configure(dev)
        except BaseException:
            dev.unref()
            raise
    qdev_realize_and_unref(dev, bus)
    return dev
