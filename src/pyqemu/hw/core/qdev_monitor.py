"""Creating a device from options: ``-device`` and QMP ``device_add`` take this one path.

QEMU's ``qdev_device_add``: check the driver, find its bus, create the
device, give it its id (``/machine/peripheral/ID``, else
``/machine/peripheral-anon/device[N]``), apply ``-global`` and compat
properties, then the given ones, and realize it.  If anything fails the
device is removed again: a failed ``device_add`` changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from pyqemu.hw.core.qdev import DEVICE_COMMON_PROPERTIES, DeviceState
from pyqemu.qom.help import property_listing_text
from pyqemu.qom.object import object_class_get_list, object_new, type_lookup, type_properties
from pyqemu.util.cutils import check_id
from pyqemu.util.errors import ConfigError, NotFoundError
from pyqemu.util.keyval import is_help_option
from pyqemu.util.module import module_load_qom_all

if TYPE_CHECKING:
    from pyqemu.hw.core.machine import MachineState
    from pyqemu.qom.property import ObjectProperty
    from pyqemu.util.qemuopts import Opts

#: Option keys that are not device properties.
_NOT_PROPERTIES = frozenset({"driver", "id", "bus"})
#: Prefix of the string twins qdev adds for some properties; listings leave them out.
LEGACY_PREFIX = "legacy-"


#: Other names ``-device`` accepts for a type, and shows in ``-device help`` (QEMU's ``qdev_alias_table``).
DEVICE_ALIASES = {"ahci": "ich9-ahci"}


def device_typename(driver: str) -> str:
    """The type ``driver`` names: itself, or the type it is an alias of."""
    if type_lookup(driver) is None and driver in DEVICE_ALIASES:
        return DEVICE_ALIASES[driver]
    return driver


def check_device_driver(driver: Any) -> type[DeviceState]:
    """The class ``-device driver=`` names, if a user may create it; else QEMU's error."""
    if driver is None:
        raise ConfigError("Parameter 'driver' is missing")
    impl = type_lookup(device_typename(str(driver)))
    if impl is None or not issubclass(impl.cls, DeviceState):
        raise ConfigError(f"'{driver}' is not a valid device model name")
    if impl.abstract:
        raise ConfigError("Parameter 'driver' expects a non-abstract device type")
    if not impl.cls.USER_CREATABLE:
        raise ConfigError("Parameter 'driver' expects a pluggable device type")
    return impl.cls


def apply_global_props(machine: MachineState, device: DeviceState, skip: Collection[str] = ()) -> None:
    """Set every ``-global`` / compat property whose driver is the device's type or a parent.

    Properties in ``skip`` (set by the device's creator already) are left alone.
    """
    device.globals_applied = True
    for driver, prop, value in machine.global_props:
        if prop not in skip and device.is_a(driver):
            try:
                device.property_parse_string(prop, value)
            except ConfigError as err:
                raise ConfigError(f"can't apply global {driver}.{prop}={value}: {err.desc}",
                                  hint=err.hint) from err


def _set_id(machine: MachineState, device: DeviceState, device_id: str | None) -> None:
    if device_id is None:
        machine.peripheral(anonymous=True).add_child("device[*]", device)
        return
    check_id(device_id)
    peripheral = machine.peripheral()
    if peripheral.child(device_id) is not None:
        raise ConfigError(f"Duplicate device ID '{device_id}'")
    peripheral.add_child(device_id, device)
    device.id = device_id


def qdev_device_add(
    machine: MachineState, options: Mapping[str, Any], *, from_json: bool = False, hotplug: bool = False
) -> DeviceState:
    """Create, configure and realize one device; nothing is left behind on error."""
    cls = check_device_driver(options.get("driver"))
    bus = find_bus_for(machine, cls, options.get("bus"), hotplug)
    device = object_new(cls.TYPE)
    assert isinstance(device, DeviceState)
    try:
        if hotplug:
            check_hotplug_allowed(machine, device, bus)
        if bus is not None:
            bus.plug(device)
        device_id = options.get("id")
        _set_id(machine, device, None if device_id is None else str(device_id))
        device.hotplugged = hotplug
        apply_global_props(machine, device)
        for name, value in options.items():
            if name in _NOT_PROPERTIES:
                continue
            if from_json:
                device.property_set(name, value)
            else:
                device.property_parse(name, value)
        device.property_set("realized", True)
    except BaseException:
        device.unparent()
        raise
    finally:
        device.unref()
    return device


def find_bus_for(machine: MachineState, cls: type[DeviceState], bus_path: Any, hotplug: bool) -> Any:
    """The bus a new device of ``cls`` goes on (``bus=`` or the first free one of its type), or None.

    QEMU's checks in its order: the path resolves, the bus is of the type the
    device needs, there is such a bus with room, and it takes hot-plugged devices.
    """
    from pyqemu.hw.core.bus import find_bus

    bus_type = cls.BUS_TYPE
    if bus_path is not None:
        bus = find_bus(machine, bus_type, str(bus_path))
        assert bus is not None
        if bus_type is None or not bus.is_a(bus_type):
            raise ConfigError(f"Device '{cls.TYPE}' can't go on {bus.typename} bus")
    elif bus_type is not None:
        bus = find_bus(machine, bus_type, None)
        if bus is None:
            raise ConfigError(f"No '{bus_type}' bus found for device '{cls.TYPE}'")
    else:
        return None
    if hotplug and not bus.hotpluggable:
        from pyqemu.hw.core.hotplug import bus_no_hotplug

        raise bus_no_hotplug(bus)
    return bus


def check_hotplug_allowed(machine: MachineState, device: DeviceState, bus: Any) -> None:
    """Whether the machine takes ``device`` at run time (QEMU's ``qdev_hotplug_allowed``)."""
    from pyqemu.hw.core.hotplug import qdev_get_machine_hotplug_handler

    allowed = getattr(machine, "hotplug_allowed", None)
    if allowed is not None:
        allowed(device)
    if bus is None and qdev_get_machine_hotplug_handler(device) is None:
        raise ConfigError(f"Device '{device.typename}' can not be hotplugged on this machine")


#: ``-device help`` categories in QEMU's order (its ``DeviceCategory``).
DEVICE_CATEGORIES = (
    "Controller/Bridge/Hub devices", "USB devices", "Storage devices", "Network devices",
    "Input devices", "Display devices", "Sound devices", "Misc devices", "CPU devices",
    "Watchdog devices", "Uncategorized devices",
)


def device_list_properties(typename: str) -> list[ObjectProperty]:
    """What ``device-list-properties`` and ``-device TYPE,help`` list (QEMU's ``qmp_device_list_properties``).

    Every property of a fresh instance, read-only and ``child<>`` ones too,
    except those all devices have and the ``legacy-*`` twins.
    """
    impl = type_lookup(typename)
    if impl is None:
        raise NotFoundError(f"Device '{typename}' not found")
    if not issubclass(impl.cls, DeviceState) or impl.abstract:
        raise ConfigError("Parameter 'typename' expects a non-abstract device type")
    props = type_properties(typename, DEVICE_COMMON_PROPERTIES)
    return [p for p in props if not p.name.startswith(LEGACY_PREFIX)]


def _parse_device_text(text: str) -> Opts | None:
    """``-device`` / ``device_add`` text as QemuOpts with ``driver`` implied (a help key is kept)."""
    from pyqemu.util.qemuopts import OptsList, OptsStore

    store = OptsStore([OptsList("device", implied_key="driver")])
    return store.parse("device", text).opts


def device_help_requested(text: str) -> bool:
    """Whether ``device_add`` text asks for help: ``help``, ``TYPE,help``, ``TYPE,?`` …"""
    opts = _parse_device_text(text)
    return opts is not None and (opts.has_help_option() or is_help_option(opts.get("driver") or ""))


def device_help_text(request: str) -> str:
    """``-device help`` (devices by category) or ``-device NAME,help`` (its properties)."""
    opts = _parse_device_text(request)
    name = None if opts is None else opts.get("driver")
    if name is not None and not is_help_option(name):
        name = device_typename(name)
        try:
            props = device_list_properties(name)
        except NotFoundError as err:  # the command line reports it as any other bad option
            raise ConfigError(err.desc) from err
        return property_listing_text(name, props)
    module_load_qom_all()
    by_category: dict[str, list[str]] = {}
    for impl in object_class_get_list("device"):
        cls = impl.cls
        if not issubclass(cls, DeviceState) or not cls.USER_CREATABLE or cls.CATEGORY is None:
            continue
        line = f'name "{impl.name}"' + (f', bus {cls.BUS_TYPE}' if getattr(cls, "BUS_TYPE", None) else "")
        aliases = [alias for alias, typename in DEVICE_ALIASES.items() if typename == impl.name]
        line += "".join(f', alias "{alias}"' for alias in aliases)
        line += f', desc "{cls.DESCRIPTION}"' if cls.DESCRIPTION else ""
        by_category.setdefault(cls.CATEGORY, []).append(line)
    order = {name: index for index, name in enumerate(DEVICE_CATEGORIES)}
    blocks = [f"{cat}:\n" + "".join(f"{line}\n" for line in sorted(lines, key=str.lower))
              for cat, lines in sorted(by_category.items(), key=lambda item: order.get(item[0], 99))]
    return "\n".join(blocks)
