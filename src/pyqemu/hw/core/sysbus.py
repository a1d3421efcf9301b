"""The main system bus and memory-mapped devices (QEMU's ``SysBusDevice``).

Every machine has one bus without a parent device, ``main-system-bus`` of
type ``System``, at ``/machine/unattached/sysbus`` (QEMU has it even for
``-M none``); boards create it with :func:`sysbus_create_main`.  Devices on
it (``sys-bus-device``) have MMIO regions that the board maps into the
system address space (:func:`sysbus_mmio_map`) and IRQ outputs
(``sysbus-irq[N]``) it connects to an interrupt controller.  ``info qtree``
prints each MMIO region as ``mmio ADDR/SIZE``; an unmapped one shows
``ffffffffffffffff`` as its address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyqemu.hw.core.bus import BusState, qbus_new
from pyqemu.hw.core.irq import GpioOutput, Irq, qdev_connect_gpio_out_named, qdev_init_gpio_out_named
from pyqemu.hw.core.qdev import DeviceState, qdev_new, qdev_realize_and_unref
from pyqemu.qom.object import Object, register_type

if TYPE_CHECKING:
    from pyqemu.memory.address_space import MemorySystem
    from pyqemu.memory.region import MemoryRegion

TYPE_SYSTEM_BUS = "System"
TYPE_SYS_BUS_DEVICE = "sys-bus-device"
MAIN_SYSTEM_BUS = "main-system-bus"
SYSBUS_PATH = "sysbus"
SYSBUS_IRQ = "sysbus-irq"
#: What an unmapped MMIO region's address reads as.
UNMAPPED = (1 << 64) - 1
MAX_MMIO = 32


@register_type
class SystemBus(BusState):
    """The main system bus (type ``System``): holds the machine's memory for its devices to map into."""

    TYPE = TYPE_SYSTEM_BUS

    def __init__(self) -> None:
        super().__init__()
        #: The machine's memory; MMIO and port regions are mapped into it.
        self.memory: MemorySystem | None = None

    def print_dev(self, dev: DeviceState) -> list[str]:
        """``mmio ADDR/SIZE`` for each region of a sysbus device, as ``info qtree`` shows them."""
        if not isinstance(dev, SysBusDevice):
            return []
        return [f"mmio {m.addr & UNMAPPED:016x}/{min(m.region.size, UNMAPPED):016x}" for m in dev.mmio]


@dataclass
class SysBusMmio:
    """One MMIO region of a device and where it is mapped (``UNMAPPED`` if nowhere)."""

    region: MemoryRegion
    addr: int = UNMAPPED


@register_type
class SysBusDevice(DeviceState):
    """Base of memory-mapped devices (abstract ``sys-bus-device``); only boards create them."""

    TYPE = TYPE_SYS_BUS_DEVICE
    ABSTRACT = True
    BUS_TYPE = TYPE_SYSTEM_BUS
    USER_CREATABLE = False

    def __init__(self) -> None:
        super().__init__()
        self.mmio: list[SysBusMmio] = []
        self.pio: list[int] = []


def sysbus_create_main(machine: Object, memory: MemorySystem | None = None) -> SystemBus:
    """Create ``main-system-bus`` at ``/machine/unattached/sysbus`` (once per machine)."""
    bus = qbus_new(TYPE_SYSTEM_BUS, None, MAIN_SYSTEM_BUS)
    assert isinstance(bus, SystemBus)
    bus.memory = memory
    machine.unattached().add_child(SYSBUS_PATH, bus)  # type: ignore[attr-defined]
    bus.unref()
    return bus


def sysbus_get_default(machine: Object) -> SystemBus:
    """The machine's main system bus; boards create it before any device."""
    from pyqemu.hw.core.bus import main_system_bus

    bus = main_system_bus(machine)
    if not isinstance(bus, SystemBus):
        raise ValueError("the machine has no main system bus yet (call sysbus_create_main)")
    return bus


def _memory(dev: SysBusDevice) -> MemorySystem:
    bus = dev.parent_bus
    memory = bus.memory if isinstance(bus, SystemBus) else None
    if memory is None:
        raise ValueError(f"{dev.typename} is not on a system bus with memory")
    return memory


# -- MMIO and port regions ------------------------------------------------------------


def sysbus_init_mmio(dev: SysBusDevice, region: MemoryRegion) -> int:
    """Declare MMIO region number N of the device (``sysbus_init_mmio``); returns N."""
    if len(dev.mmio) >= MAX_MMIO:
        raise ValueError(f"{dev.typename} has more than {MAX_MMIO} MMIO regions")
    dev.mmio.append(SysBusMmio(region))
    return len(dev.mmio) - 1


def sysbus_mmio_get_region(dev: SysBusDevice, n: int) -> MemoryRegion:
    return dev.mmio[n].region


def sysbus_mmio_map_overlap(dev: SysBusDevice, n: int, addr: int, priority: int) -> None:
    """Map region ``n`` at ``addr`` in system memory with ``priority``, moving it if mapped."""
    mmio = dev.mmio[n]
    if mmio.addr == addr:
        return
    system = _memory(dev).system_memory
    if mmio.addr != UNMAPPED and mmio.region.container is system:
        system.del_subregion(mmio.region)
    mmio.addr = addr
    system.add_subregion_overlap(addr, mmio.region, priority)


def sysbus_mmio_map(dev: SysBusDevice, n: int, addr: int) -> None:
    """Map region ``n`` at ``addr`` in system memory (``sysbus_mmio_map``)."""
    sysbus_mmio_map_overlap(dev, n, addr, 0)


def sysbus_mmio_unmap(dev: SysBusDevice, n: int) -> None:
    mmio = dev.mmio[n]
    if mmio.addr != UNMAPPED:
        _memory(dev).system_memory.del_subregion(mmio.region)
        mmio.addr = UNMAPPED


def sysbus_add_io(dev: SysBusDevice, port: int, region: MemoryRegion) -> None:
    """Map a port I/O region at ``port`` in the I/O space (``sysbus_add_io``)."""
    _memory(dev).system_io.add_subregion(port, region)


def sysbus_init_ioports(dev: SysBusDevice, port: int, size: int) -> None:
    """Record the ports the device uses (``sysbus_init_ioports``)."""
    dev.pio.extend(range(port, port + size))


# -- IRQs -------------------------------------------------------------------------------


def sysbus_init_irq(dev: SysBusDevice) -> GpioOutput:
    """Add the next ``sysbus-irq[N]`` output (``sysbus_init_irq``)."""
    return qdev_init_gpio_out_named(dev, SYSBUS_IRQ, 1)[0]


def sysbus_connect_irq(dev: SysBusDevice, n: int, irq: Irq | None) -> None:
    """Connect output ``sysbus-irq[n]`` to ``irq``."""
    qdev_connect_gpio_out_named(dev, SYSBUS_IRQ, n, irq)


# -- helpers for boards ---------------------------------------------------------------------


def sysbus_realize(dev: SysBusDevice, machine: Object) -> None:
    """Plug ``dev`` into the machine's main system bus and realize it."""
    from pyqemu.hw.core.qdev import qdev_realize

    qdev_realize(dev, sysbus_get_default(machine))


def sysbus_create_simple(machine: Object, typename: str, addr: int | None = None,
                         irq: Irq | None = None) -> SysBusDevice:
    """Create and realize a sysbus device, map its region 0 at ``addr`` and connect IRQ 0."""
    dev = qdev_new(typename)
    assert isinstance(dev, SysBusDevice)
    qdev_realize_and_unref(dev, sysbus_get_default(machine))
    if addr is not None:
        sysbus_mmio_map(dev, 0, addr)
    if irq is not None:
        sysbus_connect_irq(dev, 0, irq)
    return dev
