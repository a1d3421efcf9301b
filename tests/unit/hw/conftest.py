"""A small machine to plug test devices into, and the test device and bus types.

The types are registered once per test session (QOM types live in a registry
filled at import); their names start with ``test-qdev-`` so they never clash
with real device models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from pyqemu.hw.core.bus import BusState, main_system_bus, qbus_new
from pyqemu.hw.core.hotplug import HotplugHandler
from pyqemu.hw.core.irq import Irq, allocate_irqs, qdev_init_gpio_in, qdev_init_gpio_out
from pyqemu.hw.core.qdev import DeviceState
from pyqemu.hw.core.qdev_properties import (
    prop_bit,
    prop_bool,
    prop_chr,
    prop_drive,
    prop_enum,
    prop_int32,
    prop_link,
    prop_macaddr,
    prop_netdev,
    prop_on_off_auto,
    prop_pci_devfn,
    prop_size,
    prop_string,
    prop_uint8,
    prop_uint16,
    prop_uint32,
    prop_uint64,
)
from pyqemu.hw.core.sysbus import (
    SysBusDevice,
    SystemBus,
    sysbus_init_irq,
    sysbus_init_mmio,
)
from pyqemu.hw.isa.isa_bus import IsaBus, IsaDevice, isa_bus_new, isa_init_irq, isa_register_ioport
from pyqemu.memory.address_space import MemorySystem
from pyqemu.memory.region import MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import Container, Object, object_new, register_type

TEST_BUS = "test-qdev-bus"


class QdevTestBus(BusState, HotplugHandler):
    """A bus of two slots that handles its own hot-plugging, synchronously."""

    TYPE = TEST_BUS
    MAX_DEV = 2

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, str]] = []
        self.reset_count = 0

    def hotplug_pre_plug(self, dev: DeviceState) -> None:
        self.events.append(("pre_plug", dev.typename))

    def hotplug_plug(self, dev: DeviceState) -> None:
        self.events.append(("plug", dev.typename))

    def hotplug_unplug(self, dev: DeviceState) -> None:
        self.events.append(("unplug", dev.typename))
        super().hotplug_unplug(dev)

    def reset(self) -> None:
        self.reset_count += 1


class QdevTestBusPlug(QdevTestBus):
    """The same bus, but unplugging only asks the guest (as PCI with ACPI does)."""

    TYPE = "test-qdev-bus-async"
    ASYNC_UNPLUG = True


class QdevTestBridge(SysBusDevice):
    """A system-bus device that provides ``COUNT`` test buses, made in realize."""

    TYPE = "test-qdev-bridge"
    COUNT = 1
    BUS = TEST_BUS

    def realize(self) -> None:
        for _ in range(self.COUNT):
            bus = qbus_new(self.BUS, self)
            assert isinstance(bus, QdevTestBus)
            bus.set_hotplug_handler(bus)


class QdevTestBridge2(QdevTestBridge):
    TYPE = "test-qdev-bridge2"
    COUNT = 2


class QdevTestBridgeAsync(QdevTestBridge):
    TYPE = "test-qdev-bridge-async"
    BUS = "test-qdev-bus-async"


class QdevTestDev(DeviceState):
    """A device for the test bus with one property of every kind."""

    TYPE = "test-qdev-dev"
    BUS_TYPE = TEST_BUS
    PROPERTIES = (
        prop_uint8("u8", default=1),
        prop_uint16("u16", default=2),
        prop_uint32("iobase", default=0x3F8),
        prop_uint64("u64", default=0xFFFFFFFFFFFFFFFF),
        prop_int32("i32", default=-1),
        prop_bool("wakeup", default=False),
        prop_bit("flag", default=True),
        prop_string("romfile"),
        prop_size("size", default=2 << 30),
        prop_on_off_auto("disable-legacy"),
        prop_enum("lost_tick_policy", "LostTickPolicy", ("discard", "delay", "slew"), "discard"),
        prop_chr("chardev"),
        prop_link("memdev", "memory-region"),
        prop_netdev(),
        prop_drive(),
        prop_pci_devfn(),
        prop_macaddr(),
    )

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []

    def realize(self) -> None:
        self.log.append("realize")

    def unrealize(self) -> None:
        self.log.append("unrealize")

    def reset(self) -> None:
        RESETS.append(self.id or self.typename)


class QdevTestDevChild(QdevTestDev):
    """A subtype adding its own property: ``info qtree`` prints it before the parent's."""

    TYPE = "test-qdev-dev-child"
    PROPERTIES = (prop_uint32("extra", default=7),)


class QdevTestNoHotplug(QdevTestDev):
    TYPE = "test-qdev-nohotplug"
    HOTPLUGGABLE = False


class QdevTestFailing(QdevTestDev):
    TYPE = "test-qdev-failing"

    def realize(self) -> None:
        from pyqemu.util.errors import DeviceError

        raise DeviceError("qdevtest refuses to realize")


class QdevTestNoBus(DeviceState):
    """A user-creatable device that plugs into no bus (as ``pc-dimm``)."""

    TYPE = "test-qdev-nobus"


class QdevTestIsa(IsaDevice):
    """An ISA device with one port register (it reads back what was written) and an IRQ."""

    TYPE = "test-qdev-isa"
    PROPERTIES = (prop_uint32("iobase", default=0x3F8), prop_uint32("irq", default=4))

    def __init__(self) -> None:
        super().__init__()
        self.value = 0
        self.irq_line: Irq | None = None

    def realize(self) -> None:
        self.irq_line = isa_init_irq(self, self.irq)
        ops = MemoryRegionOps(read=lambda _addr, _size: self.value, write=self._write)
        isa_register_ioport(self, MemoryRegion.new_io(self, ops, "test-qdev-isa", 8), self.iobase)

    def _write(self, _addr: int, value: int, _size: int) -> None:
        self.value = value
        assert self.irq_line is not None
        self.irq_line.set(value & 1)

    def reset(self) -> None:
        RESETS.append(self.id or self.typename)


class QdevTestSerialLike(IsaDevice):
    """The static properties of QEMU's ``isa-serial``, for comparing ``info qtree`` text."""

    TYPE = "test-qdev-serial"
    PROPERTIES = (prop_uint32("index", 0xFFFFFFFF), prop_uint32("iobase", 0xFFFFFFFF),
                  prop_uint32("irq", 0xFFFFFFFF))


class QdevTestDebugconLike(IsaDevice):
    """The static properties of QEMU's ``isa-debugcon``."""

    TYPE = "test-qdev-debugcon"
    PROPERTIES = (prop_uint32("iobase", 0xE9), prop_chr("chardev"), prop_uint32("readback", 0xE9))


class QdevTestDebugExitLike(IsaDevice):
    """The static properties of QEMU's ``isa-debug-exit``."""

    TYPE = "test-qdev-debug-exit"
    PROPERTIES = (prop_uint32("iobase", 0x501), prop_uint32("iosize", 0x02))


class QdevTestGpio(SysBusDevice):
    """A system-bus device with GPIO pins and MMIO regions, as ``info qtree`` shows them."""

    TYPE = "test-qdev-gpio"
    PROPERTIES = (prop_uint32("version", default=0x20),)

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, int]] = []
        qdev_init_gpio_in(self, lambda n, level: self.seen.append((n, level)), 4)
        qdev_init_gpio_out(self, 1)
        sysbus_init_irq(self)
        sysbus_init_irq(self)
        sysbus_init_mmio(self, MemoryRegion.new_io(self, None, "test-qdev-gpio", 0x1000))
        sysbus_init_mmio(self, MemoryRegion.new_io(self, None, "test-qdev-gpio-2", 0x18))


#: Device resets in the order they happened (ids, or type names for anonymous devices).
RESETS: list[str] = []

for _cls in (QdevTestBus, QdevTestBusPlug, QdevTestBridge, QdevTestBridge2, QdevTestBridgeAsync,
             QdevTestDev, QdevTestDevChild, QdevTestNoHotplug, QdevTestFailing, QdevTestNoBus,
             QdevTestIsa, QdevTestGpio, QdevTestSerialLike, QdevTestDebugconLike, QdevTestDebugExitLike):
    register_type(_cls)


@dataclass
class TestMachine:
    """A root, a ``none`` machine at ``/machine``, its memory and its main system bus."""

    root: Object
    machine: object
    memory: MemorySystem
    sysbus: SystemBus
    irq_levels: list[tuple[int, int]] = field(default_factory=list)

    def isa_bus(self) -> IsaBus:
        """``isa.0`` on an ``isabus-bridge``, its 16 lines recording (line, level)."""
        irqs = allocate_irqs(lambda n, level: self.irq_levels.append((n, level)), 16)
        return isa_bus_new(None, self.memory.system_io, irqs, sysbus=self.sysbus)


@pytest.fixture
def resets() -> list[str]:
    """Device resets in order, recorded by the test devices (cleared for each test by ``tm``)."""
    return RESETS


@pytest.fixture
def tm() -> TestMachine:
    RESETS.clear()
    root = Container()
    machine = object_new("none-machine")
    root.add_child("machine", machine)
    machine.unref()
    memory = machine.memory_system  # type: ignore[attr-defined]
    sysbus = main_system_bus(machine)
    return TestMachine(root, machine, memory, sysbus)
