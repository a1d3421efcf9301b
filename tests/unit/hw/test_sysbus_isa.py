"""System-bus MMIO mapping and the ISA bus: ports, interrupt lines, one bus per machine."""

from __future__ import annotations

import pytest

from pyqemu.hw.core.irq import Irq, allocate_irqs, qdev_init_gpio_out
from pyqemu.hw.core.qdev import qdev_new
from pyqemu.hw.core.qdev_monitor import qdev_device_add
from pyqemu.hw.core.sysbus import (
    sysbus_add_io,
    sysbus_create_simple,
    sysbus_mmio_map,
    sysbus_mmio_unmap,
)
from pyqemu.hw.isa.isa_bus import (
    isa_bus_new,
    isa_connect_gpio_out,
    isa_create_simple,
    isa_get_irq,
)
from pyqemu.memory.region import MemoryRegion, MemoryRegionOps
from pyqemu.util.errors import ConfigError


def test_mmio_map_move_and_unmap(tm):
    dev = sysbus_create_simple(tm.machine, "test-qdev-gpio", 0xFED00000)
    space = tm.memory.address_space_memory
    assert space.lookup(0xFED00000).mr is dev.mmio[0].region
    sysbus_mmio_map(dev, 0, 0xFEE00000)
    assert space.lookup(0xFED00000) is None
    assert space.lookup(0xFEE00000).mr is dev.mmio[0].region
    sysbus_mmio_unmap(dev, 0)
    assert space.lookup(0xFEE00000) is None
    assert dev.mmio[0].addr == (1 << 64) - 1


def test_sysbus_irq_and_port_io(tm):
    seen = []
    line = Irq.new(lambda n, level: seen.append(level))
    dev = sysbus_create_simple(tm.machine, "test-qdev-gpio", irq=line)
    dev.gpios[0].outputs[0].raise_()
    assert seen == [1]
    ops = MemoryRegionOps(read=lambda _addr, _size: 0x5A)
    sysbus_add_io(dev, 0x510, MemoryRegion.new_io(dev, ops, "port", 2))
    assert tm.memory.address_space_io.read(0x510, 1) == 0x5A


def test_sysbus_devices_are_for_boards_only(tm):
    with pytest.raises(ConfigError, match=r"^Parameter 'driver' expects a pluggable device type$"):
        qdev_device_add(tm.machine, {"driver": "test-qdev-gpio"})


def test_isa_bus_on_its_own_bridge_like_microvm(tm):
    bus = tm.isa_bus()
    bridge = bus.parent_device
    assert bridge.typename == "isabus-bridge"
    assert bridge.canonical_path() == "/machine/unattached/device[0]"
    assert bus.canonical_path() == "/machine/unattached/device[0]/isa.0"
    assert bridge.property_find("isa.0").type == "child<ISA>"
    assert bus.property_get("realized") is False  # made after its bridge was realized, as in QEMU
    assert bus.hotpluggable is False
    with pytest.raises(ConfigError, match=r"^Can't create a second ISA bus$"):
        isa_bus_new(None, tm.memory.system_io, sysbus=tm.sysbus)


def test_isa_ports_and_irq(tm):
    tm.isa_bus()
    dev = qdev_device_add(tm.machine, {"driver": "test-qdev-isa", "iobase": "0x2f8", "irq": "3"})
    io = tm.memory.address_space_io
    io.write(0x2F8, 0x41, 1)
    assert dev.value == 0x41
    assert io.read(0x2F8, 1) == 0x41
    assert tm.irq_levels == [(3, 1)]
    assert dev.isairq == [3] and dev.ioport_id == 0x2F8
    assert io.read(0x300, 1) == 0xFF  # nothing there


def test_isa_gpio_out_connects_to_a_bus_line(tm):
    bus = tm.isa_bus()
    dev = isa_create_simple(bus, "test-qdev-isa")
    pins = qdev_init_gpio_out(dev, 1)
    isa_connect_gpio_out(dev, 0, 8)
    assert pins[0].target is isa_get_irq(dev, 8)
    pins[0].raise_()
    assert tm.irq_levels[-1] == (8, 1)
    with pytest.raises(ConfigError, match=r"^Invalid ISA IRQ 16$"):
        isa_get_irq(dev, 16)


def test_isa_lines_must_be_wired_first(tm):
    isa_bus_new(None, tm.memory.system_io, sysbus=tm.sysbus)
    with pytest.raises(ValueError, match="not wired"):
        qdev_device_add(tm.machine, {"driver": "test-qdev-isa"})


def test_isa_bus_on_a_chipset_bridge_like_pc(tm):
    bridge = qdev_new("test-qdev-nobus")
    tm.machine.unattached().add_child("chipset", bridge)
    bridge.unref()
    bus = isa_bus_new(bridge, tm.memory.system_io, allocate_irqs(None, 16))
    bridge.property_set("realized", True)
    assert bus.canonical_path() == "/machine/unattached/chipset/isa.0"
    assert bus.property_get("realized") is True  # buses are realized with their device
    with pytest.raises(ConfigError, match=r"^Can't create a second ISA bus$"):
        tm.isa_bus()
