"""Unplugging (``device_del``): who may, QEMU 7.2's refusals, and the deletion callback."""

from __future__ import annotations

import pytest

from pyqemu.hw.core.hotplug import find_device, qdev_unplug
from pyqemu.hw.core.qdev import qdev_new, qdev_realize_and_unref
from pyqemu.hw.core.qdev_monitor import qdev_device_add
from pyqemu.util.errors import ConfigError, NotFoundError


def bridge(tm, typename="test-qdev-bridge"):
    dev = qdev_new(typename)
    qdev_realize_and_unref(dev, tm.sysbus)
    return dev


def deleted_log():
    log: list[tuple[str | None, str]] = []
    return log, lambda dev: log.append((dev.id, dev.canonical_path()))


def test_find_device(tm):
    bridge(tm)
    dev = qdev_device_add(tm.machine, {"driver": "test-qdev-dev", "id": "d0"})
    assert find_device(tm.machine, "d0") is dev
    assert find_device(tm.machine, "/machine/peripheral/d0") is dev
    assert find_device(tm.machine, "/machine/unattached/device[0]").typename == "test-qdev-bridge"
    with pytest.raises(NotFoundError, match=r"^Device 'nope' not found$"):
        find_device(tm.machine, "nope")
    with pytest.raises(NotFoundError, match=r"^Device '../unattached/device\[0\]' not found$"):
        find_device(tm.machine, "../unattached/device[0]")
    with pytest.raises(ConfigError, match=r"^/machine is not a hotpluggable device$"):
        find_device(tm.machine, "/machine")


def test_unplug_from_hotpluggable_bus(tm):
    bus = bridge(tm).child_buses[0]
    dev = qdev_device_add(tm.machine, {"driver": "test-qdev-dev", "id": "d0"})
    anon = qdev_device_add(tm.machine, {"driver": "test-qdev-dev"})
    log, on_deleted = deleted_log()
    qdev_unplug(dev, on_deleted)
    assert log == [("d0", "/machine/peripheral/d0")]
    assert dev.log == ["realize", "unrealize"]
    assert tm.machine.peripheral().child("d0") is None
    assert bus.devices == [anon]
    assert bus.events[-1] == ("unplug", "test-qdev-dev")
    qdev_unplug(anon, on_deleted)
    assert log[-1] == (None, "/machine/peripheral-anon/device[0]")


def test_unplug_refused_on_bus_without_hotplug(tm):
    tm.isa_bus()
    dev = qdev_device_add(tm.machine, {"driver": "test-qdev-isa", "id": "s0"})
    with pytest.raises(ConfigError, match=r"^Bus 'isa\.0' does not support hotplugging$"):
        qdev_unplug(dev)
    assert dev.realized


def test_unplug_refused_for_non_hotpluggable_device(tm):
    bridge(tm)
    dev = qdev_device_add(tm.machine, {"driver": "test-qdev-nohotplug", "id": "n"})
    with pytest.raises(ConfigError, match=r"^Device 'test-qdev-nohotplug' does not support hotplugging$"):
        qdev_unplug(dev)
    with pytest.raises(ConfigError, match=r"^Device 'test-qdev-nohotplug' does not support hotplugging$"):
        qdev_device_add(tm.machine, {"driver": "test-qdev-nohotplug"}, hotplug=True)


def test_unplug_device_without_bus_or_handler(tm):
    dev = qdev_device_add(tm.machine, {"driver": "test-qdev-nobus", "id": "nb"})
    with pytest.raises(ConfigError, match=r"^Device 'test-qdev-nobus' does not support hotplugging$"):
        qdev_unplug(dev)
    with pytest.raises(ConfigError, match=r"^Device 'test-qdev-nobus' can not be hotplugged on this machine"):
        qdev_device_add(tm.machine, {"driver": "test-qdev-nobus"}, hotplug=True)


def test_async_unplug_is_a_request(tm):
    bridge(tm, "test-qdev-bridge-async")
    dev = qdev_device_add(tm.machine, {"driver": "test-qdev-dev", "id": "r0"})
    log, on_deleted = deleted_log()
    qdev_unplug(dev, on_deleted)
    assert dev.realized and log == []
    with pytest.raises(ConfigError, match=r"^Device r0 is already in the process of unplug$"):
        qdev_unplug(dev, on_deleted)
    dev.unparent()  # the guest ejected it
    assert log == [("r0", "/machine/peripheral/r0")]


def test_unplugging_a_bridge_deletes_what_is_below(tm):
    br = qdev_device_add(tm.machine, {"driver": "test-qdev-nobus", "id": "holder"})
    inner = qdev_new("test-qdev-bridge")
    br.add_child("bridge", inner)
    qdev_realize_and_unref(inner, tm.sysbus)
    below = qdev_device_add(tm.machine, {"driver": "test-qdev-dev", "id": "below"})
    log, on_deleted = deleted_log()
    from pyqemu.hw.core.hotplug import devices_below

    assert list(devices_below(br)) == [br, inner, below]
    for dev in devices_below(br):
        dev.on_deleted = on_deleted
    br.unparent()
    assert [entry[1] for entry in log] == [
        "/machine/peripheral/below", "/machine/peripheral/holder/bridge", "/machine/peripheral/holder",
    ]
    assert not below.realized
    assert tm.sysbus.devices == []
