"""Buses: names, links, the bus a device goes on, ``bus=`` errors, reset order.

Expected texts and choices are QEMU 7.2's (observed with qemu-system-x86_64
``-M pc`` / ``-M microvm`` and ``device_add``).
"""

from __future__ import annotations

import pytest

from pyqemu.hw.core.bus import bus_reset_all, find_bus, qbus_new
from pyqemu.hw.core.qdev import qdev_new, qdev_realize_and_unref
from pyqemu.hw.core.qdev_monitor import qdev_device_add
from pyqemu.util.errors import ConfigError, NotFoundError


def bridge(tm, typename="test-qdev-bridge", device_id=None):
    dev = qdev_new(typename)
    if device_id is not None:
        tm.machine.peripheral().add_child(device_id, dev)
        dev.id = device_id
    qdev_realize_and_unref(dev, tm.sysbus)
    return dev


def add(tm, **options):
    return qdev_device_add(tm.machine, options)


def test_main_system_bus_is_unattached_sysbus(tm):
    assert tm.sysbus.canonical_path() == "/machine/unattached/sysbus"
    assert tm.machine.unattached().property_find("sysbus").type == "child<System>"
    assert tm.sysbus.name == "main-system-bus"
    assert tm.sysbus.property_get("realized") is False
    assert [p.name for p in tm.sysbus.iter_properties()] == ["type", "realized", "hotplug-handler"]
    assert tm.sysbus.property_find("hotplug-handler").type == "link<hotplug-handler>"
    assert tm.sysbus.property_get("hotplug-handler") == ""
    assert tm.sysbus.hotpluggable is False


def test_bus_is_child_of_its_device_and_named_after_type(tm):
    dev = bridge(tm)
    bus = dev.child_buses[0]
    assert dev.canonical_path() == "/machine/unattached/device[0]"
    assert bus.name == "test-qdev-bus.0"
    assert dev.property_find("test-qdev-bus.0").type == "child<test-qdev-bus>"
    assert bus.canonical_path() == "/machine/unattached/device[0]/test-qdev-bus.0"
    assert bus.property_get("realized") is True  # created in realize: realized with its device


def test_automatic_names_count_per_type_and_use_parent_id(tm):
    two = bridge(tm, "test-qdev-bridge2")
    assert [b.name for b in two.child_buses] == ["test-qdev-bus.1", "test-qdev-bus.0"]  # newest first
    named = bridge(tm, "test-qdev-bridge2", device_id="br")
    assert [b.name for b in named.child_buses] == ["br.1", "br.0"]
    assert qbus_new("test-qdev-bus", None).name == "test-qdev-bus.0"  # no machine: a fresh count


def test_plug_adds_child_links_and_parent_bus(tm):
    bus = bridge(tm).child_buses[0]
    first = add(tm, driver="test-qdev-dev", id="a")
    second = add(tm, driver="test-qdev-dev")
    assert bus.devices == [second, first]
    assert bus.property_find("child[0]").type == "link<test-qdev-dev>"
    assert bus.property_get("child[0]") == "/machine/peripheral/a"
    assert bus.property_get("child[1]") == "/machine/peripheral-anon/device[0]"
    assert first.property_get("parent_bus") == bus.canonical_path()
    assert first.property_find("parent_bus").type == "link<bus>"
    first.unparent()
    assert bus.devices == [second]
    assert bus.property_find("child[0]") is None
    third = add(tm, driver="test-qdev-dev")
    assert bus.property_get("child[2]") == third.canonical_path()  # indexes are never reused


def test_default_bus_is_first_free_depth_first_newest_first(tm):
    older = bridge(tm).child_buses[0]
    newer = bridge(tm).child_buses[0]
    devs = [add(tm, driver="test-qdev-dev") for _ in range(4)]
    assert [d.parent_bus for d in devs] == [newer, newer, older, older]
    with pytest.raises(ConfigError) as err:
        add(tm, driver="test-qdev-dev")
    assert err.value.desc == "No 'test-qdev-bus' bus found for device 'test-qdev-dev'"
    assert find_bus(tm.machine, "test-qdev-bus", None) is None


def test_no_bus_of_the_type(tm):
    with pytest.raises(ConfigError, match=r"^No 'ISA' bus found for device 'test-qdev-isa'$"):
        add(tm, driver="test-qdev-isa")


@pytest.mark.parametrize(
    ("path", "error", "desc", "hint"),
    [
        ("nope", ConfigError, "Bus 'nope' not found", None),
        ("", ConfigError, "Bus '' not found", None),
        ("/nodev", NotFoundError, "Device 'nodev' not found",
         'devices at "main-system-bus": "test-qdev-bridge2"/"br", "test-qdev-bridge"'),
        ("/br", ConfigError, "Device 'br' has multiple child buses",
         'child buses at "br": "br.1", "br.0"'),
        ("/test-qdev-bridge/x", ConfigError, "Bus 'x' not found",
         'child buses at "test-qdev-bridge": "test-qdev-bus.0"'),
        ("/", ConfigError, "Device 'test-qdev-dev' can't go on System bus", None),
        ("main-system-bus", ConfigError, "Device 'test-qdev-dev' can't go on System bus", None),
        ("test-qdev-bus.0/d1", NotFoundError, "Device 'd1' not found",
         'devices at "test-qdev-bus.0": '),
    ],
)
def test_bus_path_errors(tm, path, error, desc, hint):
    bridge(tm)
    bridge(tm, "test-qdev-bridge2", device_id="br")
    with pytest.raises(error) as err:
        add(tm, driver="test-qdev-dev", bus=path)
    assert type(err.value) is error
    assert err.value.desc == desc
    assert err.value.hint == hint
    if error is NotFoundError:
        assert err.value.qmp_error()["class"] == "DeviceNotFound"


def test_device_without_child_bus(tm):
    add_bus = bridge(tm).child_buses[0]
    add(tm, driver="test-qdev-dev", id="leaf", bus=add_bus.name)
    with pytest.raises(ConfigError, match=r"^Device 'leaf' has no child bus$"):
        add(tm, driver="test-qdev-dev", bus="test-qdev-bus.0/leaf")


def test_bus_paths_that_work(tm):
    bridge(tm)
    bridge(tm, "test-qdev-bridge2", device_id="br")
    assert add(tm, driver="test-qdev-dev", bus="br.0").parent_bus.name == "br.0"
    assert add(tm, driver="test-qdev-dev", bus="/br/br.1").parent_bus.name == "br.1"
    # a device with exactly one bus stands for it; the type name works as well as an id
    assert add(tm, driver="test-qdev-dev", bus="/test-qdev-bridge").parent_bus.name == "test-qdev-bus.0"
    assert add(tm, driver="test-qdev-dev", bus="//test-qdev-bridge//").parent_bus.name == "test-qdev-bus.0"


def test_full_bus_by_path(tm):
    bridge(tm)
    add(tm, driver="test-qdev-dev")
    add(tm, driver="test-qdev-dev")
    with pytest.raises(ConfigError, match=r"^Bus 'test-qdev-bus\.0' is full$"):
        add(tm, driver="test-qdev-dev", bus="test-qdev-bus.0")
    with pytest.raises(ConfigError, match=r"^Bus '/test-qdev-bridge' is full$"):
        add(tm, driver="test-qdev-dev", bus="/test-qdev-bridge")


def test_device_without_bus_type_refuses_bus(tm):
    bridge(tm)
    with pytest.raises(ConfigError, match=r"^Device 'test-qdev-nobus' can't go on test-qdev-bus bus$"):
        qdev_device_add(tm.machine, {"driver": "test-qdev-nobus", "bus": "test-qdev-bus.0"})
    assert qdev_device_add(tm.machine, {"driver": "test-qdev-nobus"}).parent_bus is None


def test_hotplug_needs_hotpluggable_bus(tm, resets):
    tm.isa_bus()
    with pytest.raises(ConfigError, match=r"^Bus 'isa\.0' does not support hotplugging$"):
        qdev_device_add(tm.machine, {"driver": "test-qdev-isa"}, hotplug=True)
    bus = bridge(tm).child_buses[0]
    dev = qdev_device_add(tm.machine, {"driver": "test-qdev-dev", "id": "hot"}, hotplug=True)
    assert dev.property_get("hotplugged") is True
    assert bus.events == [("pre_plug", "test-qdev-dev"), ("plug", "test-qdev-dev")]
    assert resets == ["hot"]  # a hot-plugged device is reset once realized


def test_failed_add_leaves_nothing(tm):
    bus = bridge(tm).child_buses[0]
    with pytest.raises(ConfigError, match=r"^Parameter 'iobase' expects integer$"):
        add(tm, driver="test-qdev-dev", id="x", iobase="nope")
    with pytest.raises(Exception, match="qdevtest refuses to realize"):
        add(tm, driver="test-qdev-failing", id="y")
    assert bus.devices == []
    assert bus.property_find("child[0]") is None and bus.property_find("child[1]") is None
    assert tm.machine.peripheral().child("x") is None and tm.machine.peripheral().child("y") is None


def test_reset_walks_children_before_parents(tm, resets):
    from pyqemu.hw.core.bus import device_reset_all

    bus = bridge(tm).child_buses[0]
    add(tm, driver="test-qdev-dev", id="first")
    add(tm, driver="test-qdev-dev", id="second")
    isa = tm.isa_bus()
    qdev_device_add(tm.machine, {"driver": "test-qdev-isa", "id": "u"})
    bus_reset_all(tm.sysbus)
    assert resets == ["u", "second", "first"]  # the ISA bridge is the newest sysbus device
    assert bus.reset_count == 1
    resets.clear()
    device_reset_all(isa.parent_device)
    assert resets == ["u"]
