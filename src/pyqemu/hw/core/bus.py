"""Buses: where devices plug in (QEMU's ``BusState``, abstract QOM type ``bus``).

A bus belongs to the device that provides it (a PCI host bridge owns
``pci.0``, an ISA bridge ``isa.0``) and is that device's ``child<TYPE>``
property named after the bus.  The one bus without a parent device is the
main system bus (``main-system-bus``, type ``System``), which boards create
at ``/machine/unattached/sysbus`` (see :mod:`pyqemu.hw.core.sysbus`).

Plugging a device records it as the bus's ``child[N]`` link (``N`` counts up
and is never reused) and sets the device's ``parent_bus``.  As in QEMU the
newest device comes first in :attr:`BusState.devices`: ``info qtree``,
reset and the default-bus search all walk in that order.

``bus=`` on ``-device`` is resolved by :func:`qbus_find` (a bus name such as
``isa.0`` searched for in the whole tree, or a path ``/DEV/BUS/DEV...``
from the main system bus); without ``bus=`` the device goes on the first
bus of its type that is not full, in a depth-first walk (:func:`find_bus`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from pyqemu.hw.core.qdev import DeviceState, qdev_get_machine
from pyqemu.qom.object import Object, register_type
from pyqemu.qom.property import BOOL
from pyqemu.util.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from pyqemu.hw.core.hotplug import HotplugHandler

TYPE_BUS = "bus"
HOTPLUG_HANDLER_PROPERTY = "hotplug-handler"
#: Where each machine keeps its per-bus-type counters for automatic names (``isa.0``).
_AUTO_IDS_ATTR = "bus_automatic_ids"


@register_type
class BusState(Object):
    """Base of every bus.  A bus type sets ``TYPE`` (``ISA``, ``PCI`` …) and may set:

    ``MAX_DEV``: how many devices fit (0: no limit), so ``Bus 'x' is full``.
    """

    TYPE = TYPE_BUS
    ABSTRACT = True
    MAX_DEV: ClassVar[int] = 0

    @classmethod
    def class_init(cls) -> None:
        cls.class_property_add(
            "realized", BOOL, lambda bus: bus.realized, BusState._set_realized
        )

    def __init__(self) -> None:
        super().__init__()
        self.name = ""
        #: The device that provides this bus; None only for the main system bus.
        self.parent_device: DeviceState | None = None
        #: Plugged devices, newest first (QEMU inserts at the head).
        self.devices: list[DeviceState] = []
        self.max_index = 0
        self.full = False
        self.realized = False
        self.hotplug_handler: Object | None = None
        self._child_props: dict[int, str] = {}
        self.add_link(
            HOTPLUG_HANDLER_PROPERTY, "hotplug-handler",
            lambda: self.hotplug_handler, self._set_hotplug_handler,
        )

    # -- facts ---------------------------------------------------------------

    @property
    def num_children(self) -> int:
        return len(self.devices)

    def is_full(self) -> bool:
        """QEMU's ``qbus_is_full``: marked full, or holding ``MAX_DEV`` devices."""
        return self.full or (self.MAX_DEV > 0 and self.num_children >= self.MAX_DEV)

    @property
    def hotpluggable(self) -> bool:
        """Whether devices may be added and removed while the machine runs (a handler says so)."""
        handler = self.hotplug_handler
        if handler is None:
            return False
        is_bus = getattr(handler, "is_hotpluggable_bus", None)
        return bool(is_bus(self)) if is_bus is not None else True

    def _set_hotplug_handler(self, handler: Object | None) -> None:
        self.hotplug_handler = handler

    def set_hotplug_handler(self, handler: HotplugHandler | None) -> None:
        """Make ``handler`` decide plugging on this bus (``qbus_set_hotplug_handler``)."""
        self.hotplug_handler = handler  # type: ignore[assignment]

    def print_dev(self, dev: DeviceState) -> list[str]:
        """Bus-specific ``info qtree`` lines for ``dev`` (sysbus MMIO, PCI ids). Subclasses override."""
        return []

    # -- plugging ------------------------------------------------------------

    def check_address(self, device: DeviceState) -> None:
        """Refuse ``device`` if its address is taken; bus types override (PCI slots)."""

    def plug(self, device: DeviceState) -> None:
        """Put ``device`` on this bus (``qdev_set_parent_bus``), moving it off its old one."""
        self.check_address(device)
        if device.parent_bus is not None:
            device.parent_bus.remove_child(device)
        device.parent_bus = self
        index = self.max_index
        self.max_index += 1
        name = self.add_link(f"child[{index}]", device.typename, lambda: device).name
        self._child_props[id(device)] = name
        self.devices.insert(0, device)

    def remove_child(self, device: DeviceState) -> None:
        """Take ``device`` off this bus (``bus_remove_child``)."""
        if device not in self.devices:
            return
        self.devices.remove(device)
        self.property_del(self._child_props.pop(id(device)))
        if device.parent_bus is self:
            device.parent_bus = None

    # -- realize, reset, removal ----------------------------------------------

    def realize(self) -> None:
        """Bus-type specific set-up once the parent device is realized. Subclasses override."""

    def unrealize(self) -> None:
        """Undo :meth:`realize`. Subclasses override."""

    def _set_realized(self, value: bool) -> None:
        if value and not self.realized:
            self.realize()
        elif not value and self.realized:
            for device in list(self.devices):
                device.property_set("realized", False)
            self.unrealize()
        self.realized = value

    def reset(self) -> None:
        """Bus-type specific reset, after the devices on it. Subclasses override."""

    def unparent(self) -> None:
        self._detach()
        super().unparent()

    def finalize(self) -> None:
        self._detach()
        super().finalize()

    def _detach(self) -> None:
        """Remove every device on the bus and leave the parent device (``bus_unparent``)."""
        for device in list(self.devices):
            device.unparent()
            self.remove_child(device)
        parent = self.parent_device
        if parent is not None and self in parent.child_buses:
            parent.child_buses.remove(self)
        self.parent_device = None


# -- creating buses -------------------------------------------------------------


def _automatic_name(bus_type: str, parent: DeviceState | None) -> str:
    """``ID.N`` for a parent with an id, else ``type.N`` counted per machine (QEMU counts per class)."""
    if parent is not None and parent.id:
        return f"{parent.id}.{len(parent.child_buses)}"
    holder: Object | None = qdev_get_machine(parent) if parent is not None else None
    if holder is None:
        holder = parent.root() if parent is not None else None
    counters: dict[str, int] = {}
    if holder is not None:
        counters = holder.__dict__.setdefault(_AUTO_IDS_ATTR, {})
    index = counters.get(bus_type, 0)
    counters[bus_type] = index + 1
    return f"{bus_type.lower()}.{index}"


def qbus_new(bus_type: str, parent: DeviceState | None, name: str | None = None) -> BusState:
    """Create a bus of ``bus_type`` provided by ``parent`` (``qbus_new``).

    Without ``name`` it is named ``PARENTID.N`` or ``type.N`` (``isa.0``, ``pci.0``).
    The bus becomes ``parent``'s child property of that name.
    """
    from pyqemu.qom.object import object_new

    bus = object_new(bus_type)
    assert isinstance(bus, BusState)
    bus.name = name if name is not None else _automatic_name(bus_type, parent)
    if parent is not None:
        bus.parent_device = parent
        parent.child_buses.insert(0, bus)
        parent.add_child(bus.name, bus)
        bus.unref()
    return bus


def qbus_realize(bus: BusState) -> None:
    bus.property_set("realized", True)


def qbus_unrealize(bus: BusState) -> None:
    bus.property_set("realized", False)


# -- walking the tree ---------------------------------------------------------------


def bus_walk(bus: BusState) -> Iterator[BusState]:
    """``bus`` and every bus below it, depth first, newest devices first."""
    yield bus
    for device in bus.devices:
        for child in device.child_buses:
            yield from bus_walk(child)


def main_system_bus(machine: Object) -> BusState | None:
    """The machine's main system bus (``/machine/unattached/sysbus``), if created yet."""
    unattached = machine.child("unattached")
    bus = unattached.child("sysbus") if unattached is not None else None
    return bus if isinstance(bus, BusState) else None


def qbus_find_recursive(bus: BusState, name: str | None, bus_type: str | None) -> BusState | None:
    """The first bus named ``name`` (or of type ``bus_type``) that is not full; else the first full one."""
    match = bus.name == name if name is not None else bus.is_a(bus_type or TYPE_BUS)
    if match and not bus.is_full():
        return bus
    pick = bus if match else None
    for device in bus.devices:
        for child in device.child_buses:
            found = qbus_find_recursive(child, name, bus_type)
            if found is not None and not found.is_full():
                return found
            if found is not None and pick is None:
                pick = found
    return pick


def _find_device_on(bus: BusState, elem: str) -> DeviceState | None:
    """A device on ``bus`` by id, else by type name (``qbus_find_dev``)."""
    for device in bus.devices:
        if device.id == elem:
            return device
    for device in bus.devices:
        if device.typename == elem:
            return device
    return None


def _devices_hint(bus: BusState) -> str:
    names = ", ".join(
        f'"{dev.typename}"' + (f'/"{dev.id}"' if dev.id else "") for dev in bus.devices
    )
    return f'devices at "{bus.name}": {names}'


def _buses_hint(device: DeviceState) -> str:
    names = ", ".join(f'"{bus.name}"' for bus in device.child_buses)
    return f'child buses at "{device.id or device.typename}": {names}'


def _components(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def qbus_find(root_bus: BusState, path: str) -> BusState:
    """The bus ``bus=PATH`` names, or QEMU's error (``qbus_find``)."""
    parts = _components(path)
    if path.startswith("/"):
        bus = root_bus
    else:
        first = path.split("/", 1)[0]
        found = qbus_find_recursive(root_bus, first, None)
        if found is None:
            raise ConfigError(f"Bus '{first}' not found")
        bus = found
        parts = parts[1:] if first else parts
    while parts:
        elem = parts.pop(0)
        device = _find_device_on(bus, elem)
        if device is None:
            raise NotFoundError(f"Device '{elem}' not found", hint=_devices_hint(bus))
        if not parts:
            if len(device.child_buses) == 1:
                bus = device.child_buses[0]
                break
            if device.child_buses:
                raise ConfigError(f"Device '{elem}' has multiple child buses", hint=_buses_hint(device))
            raise ConfigError(f"Device '{elem}' has no child bus")
        elem = parts.pop(0)
        child = next((b for b in device.child_buses if b.name == elem), None)
        if child is None:
            raise ConfigError(f"Bus '{elem}' not found", hint=_buses_hint(device))
        bus = child
    if bus.is_full():
        raise ConfigError(f"Bus '{path}' is full")
    return bus


def find_bus(machine: Any, bus_type: str | None, path: str | None) -> BusState | None:
    """The bus a device needing ``bus_type`` goes on: ``bus=PATH``, else the first free one.

    With a path, errors are QEMU's (not found, full); the caller checks the
    type.  Without one, None if no bus of the type has room.
    """
    root_bus = main_system_bus(machine)
    if path is not None:
        if root_bus is None:
            raise ConfigError(f"Bus '{path.split('/', 1)[0]}' not found")
        return qbus_find(root_bus, path)
    if root_bus is None or bus_type is None:
        return None
    bus = qbus_find_recursive(root_bus, None, bus_type)
    return None if bus is None or bus.is_full() else bus


# -- reset ------------------------------------------------------------------------


def device_reset_all(device: DeviceState) -> None:
    """Reset ``device`` and everything below it: children before parents (``qdev_reset_all``)."""
    for bus in device.child_buses:
        bus_reset_all(bus)
    device.reset()


def bus_reset_all(bus: BusState) -> None:
    """Reset every realized device on ``bus`` and below it, then the bus (``qbus_reset_all``)."""
    for device in bus.devices:
        if device.realized:
            device_reset_all(device)
    bus.reset()
