"""Hot-plug and unplug: who decides, and ``device_del`` (QEMU's ``HotplugHandler`` and ``qdev_unplug``).

A *hotplug handler* (QOM interface ``hotplug-handler``) is asked around every
plug and unplug of a device: the machine's, if the board names one for the
device (``MachineState.get_hotplug_handler(dev)``, e.g. for memory or CPUs),
else the one of the device's bus (a PCI bus's ACPI controller, a bus that
handles itself).  A bus without a handler does not support hot-plugging:
``device_add`` at run time and ``device_del`` refuse devices on it.

Unplugging is synchronous (:meth:`HotplugHandler.hotplug_unplug` removes the device
at once) or, for handlers that set ``ASYNC_UNPLUG``, a request the guest
completes later (:meth:`HotplugHandler.hotplug_unplug_request`).  Either way, the
device and every device below it report their removal through the
``on_deleted`` callback given to :func:`qdev_unplug`, from which the
emulator emits ``DEVICE_DELETED``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, ClassVar

from pyqemu.hw.core.qdev import DeviceState, qdev_get_machine
from pyqemu.qom.object import Interface, Object, register_type
from pyqemu.qom.path import resolve_absolute
from pyqemu.util.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from pyqemu.hw.core.bus import BusState

TYPE_HOTPLUG_HANDLER = "hotplug-handler"
PERIPHERAL_PATH = "peripheral"

DeletedCallback = Callable[[DeviceState], None]


@register_type
class HotplugHandler(Interface):
    """What decides plugging on a bus or machine; implement by inheriting, override what you need.

    The methods carry a ``hotplug_`` prefix so that a bus can be its own
    handler without clashing with :meth:`BusState.plug`.
    """

    TYPE = TYPE_HOTPLUG_HANDLER
    #: True if unplugging only asks the guest (PCI via ACPI): :meth:`hotplug_unplug_request` is used.
    ASYNC_UNPLUG: ClassVar[bool] = False

    def hotplug_pre_plug(self, dev: DeviceState) -> None:
        """Check ``dev`` before it is realized; raise to refuse it."""

    def hotplug_plug(self, dev: DeviceState) -> None:
        """``dev`` was realized: wire it up (tell the guest, for a hot-plug)."""

    def hotplug_unplug_request(self, dev: DeviceState) -> None:
        """Ask the guest to release ``dev``; set ``dev.pending_deleted_event`` when asked."""
        dev.pending_deleted_event = True

    def hotplug_unplug(self, dev: DeviceState) -> None:
        """Remove ``dev`` now (the default: unrealize it and take it out of the tree)."""
        qdev_simple_device_unplug(dev)

    def is_hotpluggable_bus(self, bus: BusState) -> bool:
        """Whether devices on ``bus`` may come and go at run time."""
        return True


def qdev_simple_device_unplug(dev: DeviceState) -> None:
    """Unrealize ``dev`` and remove it from the tree (``qdev_simple_device_unplug_cb``)."""
    dev.property_set("realized", False)
    dev.unparent()


def _as_handler(obj: object) -> HotplugHandler | None:
    return obj if isinstance(obj, HotplugHandler) else None


def qdev_get_machine_hotplug_handler(dev: DeviceState) -> HotplugHandler | None:
    """The handler the board names for ``dev``, if any (``MachineClass.get_hotplug_handler``)."""
    machine = qdev_get_machine(dev.parent_bus if dev.parent is None else dev)
    get = getattr(machine, "get_hotplug_handler", None)
    return _as_handler(get(dev)) if get is not None else None


def qdev_get_bus_hotplug_handler(dev: DeviceState) -> HotplugHandler | None:
    return _as_handler(dev.parent_bus.hotplug_handler) if dev.parent_bus is not None else None


def qdev_get_hotplug_handler(dev: DeviceState) -> HotplugHandler | None:
    """The machine's handler for ``dev``, else its bus's (``qdev_get_hotplug_handler``)."""
    return qdev_get_machine_hotplug_handler(dev) or qdev_get_bus_hotplug_handler(dev)


def device_no_hotplug(dev: DeviceState) -> ConfigError:
    return ConfigError(f"Device '{dev.typename}' does not support hotplugging")


def bus_no_hotplug(bus: BusState) -> ConfigError:
    return ConfigError(f"Bus '{bus.name}' does not support hotplugging")


# -- device_del ---------------------------------------------------------------------


def find_device(machine: Object, ident: str) -> DeviceState:
    """The device ``device_del ID`` names: an id (path below ``/machine/peripheral``) or an absolute path."""
    start = machine.root() if ident.startswith("/") else machine.child(PERIPHERAL_PATH)
    obj = resolve_absolute(start, ident) if start is not None else None
    if obj is None or ".." in ident.split("/"):
        raise NotFoundError(f"Device '{ident}' not found")
    if not isinstance(obj, DeviceState):
        raise ConfigError(f"{ident} is not a hotpluggable device")
    return obj


def devices_below(dev: DeviceState) -> Iterator[DeviceState]:
    """``dev``, its devices in the composition tree, and those on the buses it provides."""
    seen: set[int] = set()
    stack: list[Object] = [dev]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, DeviceState):
            yield obj
            for bus in obj.child_buses:
                stack.extend(bus.devices)
        stack.extend(obj.children())


def qdev_unplug(dev: DeviceState, on_deleted: DeletedCallback | None = None, *, cold: bool = False) -> None:
    """Unplug ``dev`` (``device_del``), or QEMU's error; ``on_deleted`` hears of each device removed.

    ``cold`` is the RFC's ``initialized`` phase: the machine has not run, so a
    cold-plugged device is simply taken out again, whatever its bus.
    """
    if dev.pending_deleted_event and dev.realized:
        raise ConfigError(f"Device {dev.id or dev.canonical_path()} is already in the process of unplug")
    if cold:
        if on_deleted is not None:
            for device in devices_below(dev):
                device.on_deleted = on_deleted
        qdev_simple_device_unplug(dev)
        return
    bus = dev.parent_bus
    if bus is not None and not bus.hotpluggable:
        raise bus_no_hotplug(bus)
    if not dev.HOTPLUGGABLE:
        raise device_no_hotplug(dev)
    handler = qdev_get_hotplug_handler(dev)
    if handler is None:
        raise device_no_hotplug(dev)
    if on_deleted is not None:
        for device in devices_below(dev):
            device.on_deleted = on_deleted
    if handler.ASYNC_UNPLUG:
        handler.hotplug_unplug_request(dev)
    else:
        handler.hotplug_unplug(dev)
