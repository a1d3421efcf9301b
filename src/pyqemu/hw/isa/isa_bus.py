"""The ISA bus and ISA devices (QEMU's ``hw/isa/isa-bus.c``).

A machine has at most one ISA bus, ``isa.0`` (type ``ISA``).  Its owner is
the chipset's ISA bridge (PIIX3 on ``pc``, the LPC bridge on ``q35``) or,
on boards without one (``microvm``), a bare ``isabus-bridge`` system-bus
device that :func:`isa_bus_new` creates.  The bus knows:

- the I/O address space, where a device maps its ports
  (:func:`isa_register_ioport`);
- the 16 ISA interrupt lines, which the board wires to its interrupt
  controller with :func:`isa_bus_irqs` before creating devices; a device
  takes line N with :func:`isa_init_irq` (or connects one of its GPIO
  outputs to it with :func:`isa_connect_gpio_out`).

A device model for ISA derives from :class:`IsaDevice`, sets ``TYPE`` and
``PROPERTIES`` and does its set-up in ``realize``::

    class MyUart(IsaDevice):
        TYPE = "my-uart"
        PROPERTIES = (prop_uint32("iobase", default=0x3F8), prop_uint32("irq", default=4))

        def realize(self) -> None:
            self.irq_line = isa_init_irq(self, self.irq)
            region = MemoryRegion.new_io(self, MY_OPS, "my-uart", 8)
            isa_register_ioport(self, region, self.iobase)

ISA devices cannot be hot-plugged: the bus has no hotplug handler, so a
run-time ``device_add`` is refused with ``Bus 'isa.0' does not support hotplugging``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from pyqemu.hw.core.bus import BusState, main_system_bus, qbus_new
from pyqemu.hw.core.irq import Irq, qdev_connect_gpio_out
from pyqemu.hw.core.qdev import DeviceState, qdev_get_machine, qdev_new, qdev_realize_and_unref
from pyqemu.hw.core.sysbus import SysBusDevice
from pyqemu.qom.object import Object, register_type
from pyqemu.util.errors import ConfigError

if TYPE_CHECKING:
    from pyqemu.memory.region import MemoryRegion

TYPE_ISA_BUS = "ISA"
TYPE_ISA_DEVICE = "isa-device"
TYPE_ISABUS_BRIDGE = "isabus-bridge"
ISA_NUM_IRQS = 16
#: An ISA device records at most this many IRQ numbers (QEMU's ``isairq[2]``).
MAX_DEVICE_IRQS = 2


@register_type
class IsaBus(BusState):
    """The ISA bus (type ``ISA``): an I/O space and 16 interrupt lines."""

    TYPE = TYPE_ISA_BUS

    def __init__(self) -> None:
        super().__init__()
        #: The port I/O space (``io``) the devices' ports are mapped into.
        self.address_space_io: MemoryRegion | None = None
        #: The memory space for ISA memory (VGA windows); usually system memory.
        self.address_space: MemoryRegion | None = None
        self.irqs: list[Irq | None] = [None] * ISA_NUM_IRQS
        #: The (8-bit, 16-bit) DMA controllers serving channels 0-3 and 4-7 (QEMU's ``isa_bus_dma``).
        self.dma: tuple[Any, Any] | None = None


@register_type
class IsaDevice(DeviceState):
    """Base of ISA devices (abstract ``isa-device``); ``-device help`` lists them with ``bus ISA``."""

    TYPE = TYPE_ISA_DEVICE
    ABSTRACT = True
    BUS_TYPE: ClassVar[str | None] = TYPE_ISA_BUS

    def __init__(self) -> None:
        super().__init__()
        #: ISA IRQ numbers the device uses (for firmware tables).
        self.isairq: list[int] = []
        #: The lowest port the device registered (0 if none): part of its firmware path.
        self.ioport_id = 0


@register_type
class IsaBusBridge(SysBusDevice):
    """The bare owner of ``isa.0`` on boards without an ISA bridge chip (``isabus-bridge``)."""

    TYPE = TYPE_ISABUS_BRIDGE
    CATEGORY = "bridge"


# -- creating the bus --------------------------------------------------------------


def _has_isa_bus(obj: Object) -> bool:
    """Whether an ISA bus lives anywhere below ``obj`` in the composition tree."""
    return any(isinstance(child, IsaBus) or _has_isa_bus(child) for child in obj.children())


def isa_bus_new(
    parent: DeviceState | None,
    io: MemoryRegion,
    irqs: Sequence[Irq | None] | None = None,
    *,
    memory: MemoryRegion | None = None,
    sysbus: BusState | None = None,
) -> IsaBus:
    """Create ``isa.0`` on ``parent`` (the ISA bridge), or on a new ``isabus-bridge`` on ``sysbus``.

    ``io`` is the port I/O region (the memory system's ``io``), ``memory``
    the region ISA memory lives in, ``irqs`` the 16 interrupt lines (or wire
    them later with :func:`isa_bus_irqs`).  A machine has one ISA bus.
    """
    machine = qdev_get_machine(parent if parent is not None else sysbus)
    if sysbus is None and machine is not None:
        sysbus = main_system_bus(machine)
    if machine is not None and _has_isa_bus(machine):
        raise ConfigError("Can't create a second ISA bus")
    if parent is None:
        if sysbus is None:
            raise ValueError("isa_bus_new needs a parent device or the main system bus")
        parent = qdev_new(TYPE_ISABUS_BRIDGE)
        qdev_realize_and_unref(parent, sysbus)
    bus = qbus_new(TYPE_ISA_BUS, parent)
    assert isinstance(bus, IsaBus)
    bus.address_space_io = io
    bus.address_space = memory
    if irqs is not None:
        isa_bus_irqs(bus, irqs)
    return bus


def isa_bus_irqs(bus: IsaBus, irqs: Sequence[Irq | None]) -> None:
    """Wire the bus's 16 interrupt lines to the board's interrupt controller inputs."""
    if len(irqs) < ISA_NUM_IRQS:
        raise ValueError(f"an ISA bus needs {ISA_NUM_IRQS} IRQ lines, got {len(irqs)}")
    bus.irqs = list(irqs[:ISA_NUM_IRQS])


def isa_bus_of(dev: IsaDevice) -> IsaBus:
    """The ISA bus ``dev`` is plugged into."""
    bus = dev.parent_bus
    if not isinstance(bus, IsaBus):
        raise ValueError(f"{dev.typename} is not on an ISA bus")
    return bus


# -- interrupts ----------------------------------------------------------------------


def isa_bus_get_irq(bus: IsaBus, isairq: int) -> Irq:
    """ISA line ``isairq`` of ``bus``; it must be wired already."""
    if not 0 <= isairq < ISA_NUM_IRQS:
        raise ConfigError(f"Invalid ISA IRQ {isairq}")
    irq = bus.irqs[isairq]
    if irq is None:
        raise ValueError(f"ISA IRQ {isairq} of {bus.name} is not wired to an interrupt controller")
    return irq


def isa_get_irq(dev: IsaDevice, isairq: int) -> Irq:
    """The line ``isairq`` of the device's bus (``isa_get_irq``)."""
    return isa_bus_get_irq(isa_bus_of(dev), isairq)


def isa_init_irq(dev: IsaDevice, isairq: int) -> Irq:
    """Take ISA line ``isairq`` for the device and record it (``isa_init_irq``); drive it with ``set``."""
    irq = isa_get_irq(dev, isairq)
    if len(dev.isairq) < MAX_DEVICE_IRQS:
        dev.isairq.append(isairq)
    return irq


def isa_connect_gpio_out(dev: IsaDevice, gpioirq: int, isairq: int) -> None:
    """Connect the device's unnamed output ``gpioirq`` to ISA line ``isairq`` (``isa_connect_gpio_out``)."""
    qdev_connect_gpio_out(dev, gpioirq, isa_get_irq(dev, isairq))


# -- ports and memory ---------------------------------------------------------------------


def isa_address_space_io(dev: IsaDevice) -> MemoryRegion:
    """The I/O space the device's ports go into."""
    io = isa_bus_of(dev).address_space_io
    if io is None:
        raise ValueError("the ISA bus has no I/O space")
    return io


def isa_address_space(dev: IsaDevice) -> MemoryRegion | None:
    """The memory space for ISA memory windows (``isa_address_space``)."""
    return isa_bus_of(dev).address_space


def isa_init_ioport(dev: IsaDevice, port: int) -> None:
    """Record that the device uses ``port``: the lowest becomes its ``ioport_id``."""
    if dev.ioport_id == 0 or port < dev.ioport_id:
        dev.ioport_id = port


def isa_register_ioport(dev: IsaDevice, region: MemoryRegion, start: int) -> None:
    """Map the port region ``region`` at port ``start`` (``isa_register_ioport``)."""
    isa_address_space_io(dev).add_subregion(start, region)
    isa_init_ioport(dev, start)


def isa_unregister_ioport(dev: IsaDevice, region: MemoryRegion) -> None:
    """Unmap a region :func:`isa_register_ioport` mapped (for unrealize)."""
    isa_address_space_io(dev).del_subregion(region)


def isa_new(typename: str) -> IsaDevice:
    """A new, unrealized ISA device (``isa_new``): set properties, then :func:`isa_realize_and_unref`."""
    dev = qdev_new(typename)
    if not isinstance(dev, IsaDevice):
        dev.unref()
        raise ConfigError(f"'{typename}' is not an ISA device")
    return dev


def isa_realize_and_unref(dev: IsaDevice, bus: IsaBus) -> None:
    """Plug ``dev`` into ``bus`` and realize it; the tree holds it afterwards."""
    qdev_realize_and_unref(dev, bus)


def isa_create_simple(bus: IsaBus, typename: str) -> IsaDevice:
    """Create and realize an ISA device with default properties (``isa_create_simple``)."""
    dev = isa_new(typename)
    isa_realize_and_unref(dev, bus)
    return dev
