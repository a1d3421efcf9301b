"""The Q35 host bridge of the ``q35`` board: ``q35-pcihost``.

The host bridge (``/machine/q35``) owns ``pcie.0`` and answers both
configuration mechanisms: 0xcf8/0xcfc and, once the guest enables it, the
MMCONFIG window.  Its child ``/machine/q35/mch``, the memory controller hub
(8086:29c0) at 00.0, steers the window, the BIOS shadow areas and SMRAM
(:mod:`pyqemu.hw.pci_host.mch`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from pyqemu.hw.core.machine_props import LINK_PATH
from pyqemu.hw.core.qdev_properties import (
    Prop,
    prop_bool,
    prop_size,
    prop_uint32,
    prop_uint64,
)
from pyqemu.hw.pci.pci_host import PCIE_BASE_ADDR_UNMAPPED, PCIExpressHost
from pyqemu.hw.pci_host.mch import PCIEXBAR_DEFAULT, MCHDevice
from pyqemu.hw.pci_host.pci_hole import add_pci_hole_properties
from pyqemu.qom.object import register_type
from pyqemu.qom.property import UINT64
from pyqemu.util.cutils import UINT64_MAX

if TYPE_CHECKING:
    from pyqemu.hw.core.machine import MachineState
    from pyqemu.hw.pci.pci import PCIBus
    from pyqemu.memory.address_space import MemorySystem
    from pyqemu.memory.region import MemoryRegion

TYPE_Q35_HOST_DEVICE = "q35-pcihost"
Q35_HOST_PROP = "q35"
MCH_CHILD = "mch"
DEFAULT_PCI_HOLE64_SIZE = 1 << 35


def _mcfg_prop() -> Prop:
    """``MCFG``: where the MMCONFIG window is, read-only in practice.

    Declared as QEMU declares it (uint64, default 0xb0000000), but a new
    bridge starts unmapped, as QEMU's pcie-host init overrides the default;
    the unmapped -1 reads as all ones.
    """
    base = prop_uint64("MCFG", default=PCIEXBAR_DEFAULT)
    info = replace(base.info, make_initial=lambda: PCIE_BASE_ADDR_UNMAPPED,
                   from_value=lambda addr: addr & UINT64_MAX)
    return Prop(base.name, info, base.default, attr="base_addr")


#: The memory regions QEMU's Q35 host links to (its ``*-mem`` properties).
MEMORY_LINKS = ("io-mem", "pci-mem", "ram-mem", "system-mem")


def _region_path(name: str) -> Callable[[Q35Host], str]:
    def get(host: Q35Host) -> str:
        region = host.memory_links.get(name)
        return region.canonical_path() if region is not None else ""

    return get


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

    @classmethod
    def class_init(cls) -> None:
        add_pci_hole_properties(cls, lambda host: host.below_4g_mem_size)
        cls.class_property_add("mcfg_size", UINT64, lambda host: host.mmcfg_size)
        for name in MEMORY_LINKS:
            cls.class_property_add(name, LINK_PATH, _region_path(name), type="link<memory-region>")

    def __init__(self) -> None:
        super().__init__()
        #: The regions the bridge was given (``system-mem``, ``ram-mem`` …), by link name.
        self.memory_links: dict[str, MemoryRegion] = {}
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


def q35_host_init(
    machine: MachineState, memory: MemorySystem, pci_memory: MemoryRegion, ram: MemoryRegion,
    below_4g: int, above_4g: int,
) -> PCIBus:
    """Create ``/machine/q35`` with ``pcie.0`` and the ``mch`` at 00.0, and link ``/machine/smram``."""
    from pyqemu.hw.pci.pci import TYPE_PCIE_BUS
    from pyqemu.hw.pci_host.pcihost_init import pci_host_create

    def sizes(host: object) -> None:
        host.below_4g_mem_size = below_4g  # type: ignore[attr-defined]
        host.above_4g_mem_size = above_4g  # type: ignore[attr-defined]

    host, bus = pci_host_create(
        machine, TYPE_Q35_HOST_DEVICE, Q35_HOST_PROP, TYPE_PCIE_BUS, memory, pci_memory, configure=sizes
    )
    assert isinstance(host, Q35Host)
    host.memory_links = {"io-mem": memory.system_io, "pci-mem": pci_memory, "ram-mem": ram,
                         "system-mem": memory.system_memory}
    mch = host.mch
    mch.below_4g_mem_size = below_4g
    mch.memory_init(ram, memory.system_memory, pci_memory)
    machine.add_link("smram", "memory-region", lambda: mch.regions["smram"])  # type: ignore[arg-type]
    return bus

