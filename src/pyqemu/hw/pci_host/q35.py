"""The Q35 host bridge of the ``q35`` board: ``q35-pcihost`` and its memory controller hub ``mch``.

The host bridge (``/machine/q35``) owns ``pcie.0`` and answers both
configuration mechanisms: 0xcf8/0xcfc and, once the guest enables it, the
MMCONFIG window.  The ``mch`` PCI function (8086:29c0) at 00.0 is its child
``/machine/q35/mch``; its PCIEXBAR register (offset 0x60, 64 bits) says where
the window goes: bit 0 enables it, bits 1-2 choose 256, 128 or 64 MiB, and
the base defaults to 0xb0000000, left disabled until firmware turns it on.
Not modelled yet: PAM, SMRAM and TSEG.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.hw.core.qdev_properties import (
    Prop,
    prop_bool,
    prop_int64,
    prop_size,
    prop_uint16,
    prop_uint32,
)
from pyqemu.hw.pci.pci import PCI_CLASS_BRIDGE_HOST, PCI_VENDOR_ID_INTEL, PCIDevice
from pyqemu.hw.pci.pci_host import PCIExpressHost
from pyqemu.qom.object import register_type

if TYPE_CHECKING:
    from pyqemu.hw.core.machine import MachineState
    from pyqemu.hw.pci.pci import PCIBus
    from pyqemu.memory.address_space import MemorySystem
    from pyqemu.memory.region import MemoryRegion

TYPE_Q35_HOST_DEVICE = "q35-pcihost"
TYPE_MCH_PCI_DEVICE = "mch"
Q35_HOST_PROP = "q35"
MCH_CHILD = "mch"
PCI_DEVICE_ID_INTEL_Q35_MCH = 0x29C0
DEFAULT_PCI_HOLE64_SIZE = 1 << 35

MCH_HOST_BRIDGE_PCIEXBAR = 0x60
MCH_HOST_BRIDGE_PCIEXBAR_SIZE = 8
MCH_HOST_BRIDGE_PCIEXBAR_DEFAULT = 0xB0000000
MCH_HOST_BRIDGE_PCIEXBAREN = 0x1
MCH_HOST_BRIDGE_PCIEXBAR_LENGTH_SHIFT = 1
MCH_HOST_BRIDGE_PCIEXBAR_LENGTH_MASK = 0x3
#: Window size and the address bits that form its base, per PCIEXBAR length field.
PCIEXBAR_LENGTHS = {
    0: (256 << 20, 0xFF_F000_0000),
    1: (128 << 20, 0xFF_F800_0000),
    2: (64 << 20, 0xFF_FC00_0000),
}


def _mcfg_prop() -> Prop:
    """``MCFG``: where the MMCONFIG window is (-1 while unmapped), read-only in practice."""
    base = prop_int64("MCFG", default=-1)
    return Prop(base.name, base.info, base.default, attr="base_addr")


@register_type
class Q35Host(PCIExpressHost):
    """The Q35 host bridge (``q35-pcihost``): owns ``pcie.0`` and the ``mch`` function."""

    TYPE = TYPE_Q35_HOST_DEVICE
    USER_CREATABLE = False
    PROPERTIES = (
        _mcfg_prop(),
        prop_size("pci-hole64-size", default=DEFAULT_PCI_HOLE64_SIZE),
        prop_uint32("short_root_bus", default=0),
        prop_size("below-4g-mem-size", default=0),
        prop_size("above-4g-mem-size", default=0),
        prop_bool("x-pci-hole64-fix", default=True),
    )

    def __init__(self) -> None:
        super().__init__()
        self.mch = MCHDevice()
        self.add_child(MCH_CHILD, self.mch)
        self.mch.unref()
        self.mch.host = self

    def realize(self) -> None:
        from pyqemu.hw.core.qdev import qdev_get_machine, qdev_realize
        from pyqemu.hw.core.qdev_monitor import apply_global_props

        self.map_config_ports()
        machine = qdev_get_machine(self)
        if machine is not None:
            apply_global_props(machine, self.mch)
        self.mch.devfn = 0
        assert self.bus is not None
        qdev_realize(self.mch, self.bus)

    def unrealize(self) -> None:
        self.mch.property_set("realized", False)


@register_type
class MCHDevice(PCIDevice):
    """The memory controller hub (``mch``), function 00.0 of ``pcie.0``."""

    TYPE = TYPE_MCH_PCI_DEVICE
    USER_CREATABLE = False
    VENDOR_ID = PCI_VENDOR_ID_INTEL
    DEVICE_ID = PCI_DEVICE_ID_INTEL_Q35_MCH
    CLASS_ID = PCI_CLASS_BRIDGE_HOST
    PROPERTIES = (
        prop_uint16("extended-tseg-mbytes", default=16),
        prop_bool("smbase-smram", default=True),
    )

    def __init__(self) -> None:
        super().__init__()
        self.host: Q35Host | None = None

    def pci_realize(self) -> None:
        self._reset_pciexbar()

    def reset(self) -> None:
        super().reset()
        self._reset_pciexbar()

    def _reset_pciexbar(self) -> None:
        self.set_quad(MCH_HOST_BRIDGE_PCIEXBAR, MCH_HOST_BRIDGE_PCIEXBAR_DEFAULT)
        self.update_pciexbar()

    def config_write(self, offset: int, value: int, size: int) -> None:
        super().config_write(offset, value, size)
        end = MCH_HOST_BRIDGE_PCIEXBAR + MCH_HOST_BRIDGE_PCIEXBAR_SIZE
        if offset < end and offset + size > MCH_HOST_BRIDGE_PCIEXBAR:
            self.update_pciexbar()

    def update_pciexbar(self) -> None:
        """Move, resize or switch off the MMCONFIG window as PCIEXBAR now says (``mch_update_pciexbar``)."""
        if self.host is None:
            return
        start = MCH_HOST_BRIDGE_PCIEXBAR
        bar = int.from_bytes(self.config[start:start + MCH_HOST_BRIDGE_PCIEXBAR_SIZE], "little")
        length = (bar >> MCH_HOST_BRIDGE_PCIEXBAR_LENGTH_SHIFT) & MCH_HOST_BRIDGE_PCIEXBAR_LENGTH_MASK
        size_mask = PCIEXBAR_LENGTHS.get(length)
        enable = bool(bar & MCH_HOST_BRIDGE_PCIEXBAREN) and size_mask is not None
        size, mask = size_mask if size_mask is not None else (0, 0)
        self.host.mmcfg_update(enable, bar & mask, size)


def q35_host_init(
    machine: MachineState, memory: MemorySystem, pci_memory: MemoryRegion, below_4g: int, above_4g: int
) -> PCIBus:
    """Create ``/machine/q35`` with ``pcie.0`` and the ``mch`` at 00.0."""
    from pyqemu.hw.pci.pci import TYPE_PCIE_BUS
    from pyqemu.hw.pci_host.pcihost_init import pci_host_create

    def sizes(host: object) -> None:
        host.below_4g_mem_size = below_4g  # type: ignore[attr-defined]
        host.above_4g_mem_size = above_4g  # type: ignore[attr-defined]

    _host, bus = pci_host_create(
        machine, TYPE_Q35_HOST_DEVICE, Q35_HOST_PROP, TYPE_PCIE_BUS, memory, pci_memory, configure=sizes
    )
    return bus

