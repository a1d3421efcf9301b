"""ACPI PCI hot-plug: the ``acpi-pci-hotplug`` register block (QEMU's ``hw/acpi/pcihp.c``).

The chipset's power-management function is the hotplug handler of the PCI
buses it serves.  Each such bus gets a number, its *bsel* (QOM property
``acpi-pcihp-bsel`` of the bus, given at the first reset); the guest's ACPI
code selects a bus and reads or writes 32-bit registers (0x18 bytes, other
access sizes are refused):

====  ====  ================================================================
0x00  UP    slots with a device hot-added (cleared by reading, except PIIX4
            without bridge support: "legacy PIIX")
0x04  DOWN  slots whose device the host asked to remove
0x08  EJ    write a slot bit: remove the devices of that slot now
0x0c  RMV   slots whose devices may be removed (all but built-in ones)
0x10  SEL   the selected bsel (legacy PIIX: always 0)
0x14  AIDX  write a slot bit, then read the ``acpi-index`` of its device
====  ====  ================================================================

A hot-add or a removal request sets GPE0 bit 1 (PCI hot-plug) and raises
the SCI.  Without ``acpi-root-pci-hotplug`` (and always on ICH9) the root bus
loses its hotplug handler at reset, so devices cannot come and go there.
pyqemu has no PCI-PCI bridges yet: the root bus is the only one served.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyqemu.hw.acpi.core import AcpiEvent
from pyqemu.hw.acpi.host import add_readonly_property
from pyqemu.hw.pci.pci import PCIBus, PCIDevice, pci_slot
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.property import UINT16, UINT32
from pyqemu.util.errors import ConfigError

PCIHP_REGION = "acpi-pci-hotplug"
ACPI_PCIHP_SIZE = 0x18
ACPI_PCIHP_ADDR_PIIX4 = 0xAE00
ACPI_PCIHP_ADDR_ICH9 = 0x0CC0
ACPI_PCIHP_MAX_HOTPLUG_BUS = 256
ACPI_PCIHP_BSEL_DEFAULT = 0
ACPI_PCIHP_PROP_BSEL = "acpi-pcihp-bsel"
ACPI_PCIHP_IO_BASE_PROP = "acpi-pcihp-io-base"
ACPI_PCIHP_IO_LEN_PROP = "acpi-pcihp-io-len"
ALL_SLOTS = 0xFFFFFFFF
NO_SLOT = 32

PCI_UP_BASE = 0x00
PCI_DOWN_BASE = 0x04
PCI_EJ_BASE = 0x08
PCI_RMV_BASE = 0x0C
PCI_SEL_BASE = 0x10
PCI_AIDX_BASE = 0x14


def _lowest_slot(slots: int) -> int:
    """The lowest set bit of a slot mask, 32 if none (``ctz32``)."""
    slots &= ALL_SLOTS
    return (slots & -slots).bit_length() - 1 if slots else NO_SLOT


def unsupported_bus_error() -> ConfigError:
    return ConfigError(f"Unsupported bus. Bus doesn't have property '{ACPI_PCIHP_PROP_BSEL}' set")


class AcpiPciHp:
    """The register block and per-bus slot state (QEMU's ``AcpiPciHpState``).

    ``send_event(bits)`` raises a GPE0 event of the owner.  ``legacy_piix``
    is PIIX4 without bridge support; ``root_hotplug`` whether the root bus
    stays hot-pluggable.
    """

    def __init__(self, owner: Any, root_bus: PCIBus, io_space: MemoryRegion, base: int,
                 send_event: Callable[[int], None], *, legacy_piix: bool = False, root_hotplug: bool = True):
        self.root_bus = root_bus
        self.io_base = base
        self.legacy_piix = legacy_piix
        self.root_hotplug = root_hotplug
        self._send_event = send_event
        self.hotplug_select = ACPI_PCIHP_BSEL_DEFAULT
        self.acpi_index = 0
        self.up = [0] * ACPI_PCIHP_MAX_HOTPLUG_BUS
        self.down = [0] * ACPI_PCIHP_MAX_HOTPLUG_BUS
        self.hotplug_enable = [0] * ACPI_PCIHP_MAX_HOTPLUG_BUS
        #: The buses served, by bsel.
        self.buses: dict[int, PCIBus] = {}
        ops = MemoryRegionOps(read=self.read, write=self.write, endianness=Endianness.LITTLE,
                              valid=AccessSizes(4, 4))
        self.io = MemoryRegion.new_io(owner, ops, PCIHP_REGION, ACPI_PCIHP_SIZE)
        io_space.add_subregion(base, self.io)
        add_readonly_property(owner, ACPI_PCIHP_IO_BASE_PROP, UINT16, lambda: self.io_base)
        add_readonly_property(owner, ACPI_PCIHP_IO_LEN_PROP, UINT16, lambda: ACPI_PCIHP_SIZE)

    # -- buses -----------------------------------------------------------------------

    def is_hotpluggable_bus(self, bus: Any) -> bool:
        """Whether the owner lets devices come and go on ``bus`` (only the root bus exists yet)."""
        return bus is self.root_bus and self.root_hotplug

    def bsel(self, bus: Any) -> int | None:
        """The bsel of ``bus``, None if it is not served."""
        return next((bsel for bsel, served in self.buses.items() if served is bus), None)

    def _assign_bsel(self) -> None:
        """Number the hot-pluggable buses, once (QEMU's ``acpi_set_pci_info``)."""
        bus = self.root_bus
        if self.buses or bus.property_find(ACPI_PCIHP_PROP_BSEL) is not None or not bus.hotpluggable:
            return
        bsel = ACPI_PCIHP_BSEL_DEFAULT
        self.buses[bsel] = bus
        add_readonly_property(bus, ACPI_PCIHP_PROP_BSEL, UINT32, lambda: bsel)

    def reset(self) -> None:
        """Unhook the root bus if it may not hot-plug, number the buses, recompute RMV."""
        if not self.root_hotplug:
            self.root_bus.set_hotplug_handler(None)
        self._assign_bsel()
        for bsel in range(ACPI_PCIHP_MAX_HOTPLUG_BUS):
            self._update_bus(bsel)

    def _update_bus(self, bsel: int) -> None:
        """Finish pending removals; removable slots are those without a built-in device."""
        bus = self.buses.get(bsel)
        while bus is not None and self.down[bsel]:
            self.eject_slot(bsel, self.down[bsel])
        self.hotplug_enable[bsel] = ALL_SLOTS
        for dev in bus.devices if bus is not None else ():
            if isinstance(dev, PCIDevice) and not dev.HOTPLUGGABLE:
                self.hotplug_enable[bsel] &= ~(1 << pci_slot(dev.devfn))

    # -- hot-plug events ------------------------------------------------------------------

    def pre_plug(self, dev: PCIDevice) -> None:
        """Only a bus with a bsel takes hot-added devices."""
        if dev.hotplugged and self.bsel(dev.parent_bus) is None:
            raise unsupported_bus_error()

    def plug(self, dev: PCIDevice) -> None:
        """A hot-added device: its slot in UP, and a GPE (devices present at start need none)."""
        if not dev.hotplugged:
            return
        bsel = self.bsel(dev.parent_bus)
        assert bsel is not None
        self.up[bsel] |= 1 << pci_slot(dev.devfn)
        self._send_event(AcpiEvent.PCI_HOTPLUG)

    def unplug_request(self, dev: PCIDevice) -> None:
        """``device_del``: the slot in DOWN and a GPE; the guest ejects it when it is ready."""
        bsel = self.bsel(dev.parent_bus)
        if bsel is None:
            raise unsupported_bus_error()
        dev.pending_deleted_event = True
        self.down[bsel] |= 1 << pci_slot(dev.devfn)
        self._send_event(AcpiEvent.PCI_HOTPLUG)

    def eject_slot(self, bsel: int, slots: int) -> None:
        """Remove the removable devices of the lowest slot in ``slots`` (QEMU's ``acpi_pcihp_eject_slot``)."""
        from pyqemu.hw.core.hotplug import qdev_get_hotplug_handler, qdev_simple_device_unplug

        bus = self.buses.get(bsel)
        slot = _lowest_slot(slots)
        if bus is None or slot >= NO_SLOT:
            return
        self.down[bsel] &= ~(1 << slot)
        self.up[bsel] &= ~(1 << slot)
        for dev in list(bus.devices):
            if isinstance(dev, PCIDevice) and pci_slot(dev.devfn) == slot and dev.HOTPLUGGABLE:
                handler = qdev_get_hotplug_handler(dev)
                if handler is not None:
                    handler.hotplug_unplug(dev)
                else:
                    qdev_simple_device_unplug(dev)

    # -- registers ------------------------------------------------------------------------

    def read(self, offset: int, size: int = 4) -> int:
        bsel = self.hotplug_select
        if not 0 <= bsel < ACPI_PCIHP_MAX_HOTPLUG_BUS:
            return 0
        if offset == PCI_UP_BASE:
            value = self.up[bsel]
            if not self.legacy_piix:
                self.up[bsel] = 0
            return value
        if offset == PCI_DOWN_BASE:
            return self.down[bsel]
        if offset == PCI_RMV_BASE:
            return self.hotplug_enable[bsel]
        if offset == PCI_SEL_BASE:
            return bsel
        if offset == PCI_AIDX_BASE:
            value, self.acpi_index = self.acpi_index, 0
            return value
        return 0

    def write(self, offset: int, value: int, size: int = 4) -> None:
        self.acpi_index = 0
        in_range = self.hotplug_select < ACPI_PCIHP_MAX_HOTPLUG_BUS
        if offset == PCI_AIDX_BASE and in_range:
            self.acpi_index = self._slot_acpi_index(_lowest_slot(value))
        elif offset == PCI_EJ_BASE and in_range:
            self.eject_slot(self.hotplug_select, value)
        elif offset == PCI_SEL_BASE:
            self.hotplug_select = ACPI_PCIHP_BSEL_DEFAULT if self.legacy_piix else value

    def _slot_acpi_index(self, slot: int) -> int:
        bus = self.buses.get(self.hotplug_select)
        for dev in bus.devices if bus is not None else ():
            if isinstance(dev, PCIDevice) and pci_slot(dev.devfn) == slot:
                return int(dev.property_get("acpi-index"))
        return 0
