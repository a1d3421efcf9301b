"""qdev: the device base type, whose ``realized`` property drives realize / unrealize.

A device is created unrealized (its properties may still be set), then
realized by setting ``realized`` to true: that is the one path the command
line, QMP and board code all take, as in QEMU (seed ``001_…``).  A failing
``realize`` leaves the device unrealized; anything it set up must be undone
by the device itself (use ``contextlib.ExitStack`` for several steps).

Realizing a device also (QEMU's ``device_set_realized``): puts a device that
has no place in the tree yet at ``/machine/unattached/device[N]``; asks the
hotplug handler (of the machine, else of the bus) first (``pre_plug``) and
last (``plug``); realizes the buses the device provides; and resets a
hot-plugged device.  A device declares its static properties as a
``PROPERTIES`` table (see :mod:`pyqemu.hw.core.qdev_properties`), which
becomes class properties of its type.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, ClassVar

from pyqemu.qom.object import Object, object_new, register_type
from pyqemu.qom.property import STR
from pyqemu.util.errors import ConfigError

if TYPE_CHECKING:
    from collections.abc import Callable

    from pyqemu.hw.core.bus import BusState
    from pyqemu.hw.core.irq import NamedGpioList
    from pyqemu.hw.core.qdev_properties import Prop

MACHINE_PATH = "machine"
UNATTACHED_DEVICE = "device[*]"


def qdev_get_machine(obj: Object | None) -> Any:
    """The machine of the tree ``obj`` lives in (``/machine``), or None if not in one."""
    if obj is None:
        return None
    machine = obj.root().child(MACHINE_PATH)
    if machine is None and obj.is_a("machine"):
        return obj
    return machine


#: Properties every device has, which ``-device X,help`` and ``device-list-properties`` leave out.
DEVICE_COMMON_PROPERTIES = frozenset({"type", "realized", "hotpluggable", "hotplugged", "parent_bus"})


@register_type
class DeviceState(Object):
    """Base of every device (type ``device``).

    A device type sets ``BUS_TYPE`` to the bus it plugs into (``"ISA"``,
    ``"System"``) or leaves it None, and ``PROPERTIES`` to its table of
    static properties.
    """

    TYPE = "device"
    ABSTRACT = True
    #: Category under which ``-device help`` lists the type; None: not listed.
    CATEGORY: ClassVar[str | None] = None
    DESCRIPTION: ClassVar[str | None] = None
    #: False for devices only boards create (QEMU's ``user_creatable = false``).
    USER_CREATABLE: ClassVar[bool] = True
    HOTPLUGGABLE: ClassVar[bool] = True
    #: The bus type this device plugs into (QEMU's ``bus_type``); None: no bus.
    BUS_TYPE: ClassVar[str | None] = None
    #: This class's own static properties (parents' are inherited).
    PROPERTIES: ClassVar[tuple[Prop, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Make a ``PROPERTIES`` table take effect at class init, before the class's own ``class_init``."""
        super().__init_subclass__(**kwargs)
        if "PROPERTIES" not in cls.__dict__:
            return
        own = cls.__dict__.get("class_init")

        def class_init(klass: type[DeviceState]) -> None:
            from pyqemu.hw.core.qdev_properties import device_class_set_props

            device_class_set_props(klass, klass.__dict__["PROPERTIES"])
            if own is not None:
                own.__func__(klass)

        cls.class_init = classmethod(class_init)  # type: ignore[assignment]

    @classmethod
    def class_init(cls) -> None:
        cls.class_property_add_bool("realized", lambda dev: dev.realized, DeviceState._set_realized)
        cls.class_property_add_bool("hotpluggable", lambda dev: dev.HOTPLUGGABLE)
        cls.class_property_add_bool("hotplugged", lambda dev: dev.hotplugged)
        parent_bus = cls.class_property_add(
            "parent_bus", STR, lambda dev: dev.parent_bus.canonical_path() if dev.parent_bus else "",
            type="link<bus>",
        )
        parent_bus.link_target = "bus"

    def __init__(self) -> None:
        super().__init__()
        self.realized = False
        self.hotplugged = False
        self.id: str | None = None
        self.parent_bus: BusState | None = None
        #: Buses this device provides, newest first (as QEMU lists them).
        self.child_buses: list[BusState] = []
        #: GPIO pin lists, newest first (see :mod:`pyqemu.hw.core.irq`).
        self.gpios: list[NamedGpioList] = []
        #: The path the device had when realized; a removed device keeps reporting it.
        self.realized_path: str | None = None
        #: Set once the device is being removed (unplug requested, or unrealized).
        self.pending_deleted_event = False
        #: Called when the device is finally deleted, for the DEVICE_DELETED event.
        self.on_deleted: Callable[[DeviceState], None] | None = None
        #: Properties set since creation, which ``-global`` must not override (see :meth:`_apply_globals`).
        self.explicit_props: set[str] = set()
        self.globals_applied = False
        from pyqemu.hw.core.qdev_properties import device_init_props

        device_init_props(self)

    def property_set(self, name: str, value: Any) -> None:
        super().property_set(name, value)
        self.explicit_props.add(name)

    def property_parse(self, name: str, text: str | dict[str, Any]) -> None:
        super().property_parse(name, text)
        self.explicit_props.add(name)

    def realize(self) -> None:
        """Bring the device to life; raise a QemuError to refuse. Subclasses override."""

    def unrealize(self) -> None:
        """Undo :meth:`realize`. Subclasses override."""

    def reset(self) -> None:
        """Put the device in its power-on state. Subclasses override."""

    # -- realized ----------------------------------------------------------

    def _apply_globals(self) -> None:
        """``-global`` and compat properties, if nobody applied them at creation.

        QEMU applies them when a device is created, before its creator sets
        anything; a device made by board code without the machine at hand gets
        them here instead, skipping what its creator set, which has the same effect.
        """
        if self.globals_applied:
            return
        from pyqemu.hw.core.qdev_monitor import apply_global_props

        machine = qdev_get_machine(self)
        if machine is not None and hasattr(machine, "global_props"):
            apply_global_props(machine, self, skip=self.explicit_props)

    def _set_realized(self, value: bool) -> None:
        if value == self.realized:
            return
        if value:
            self._do_realize()
        else:
            self._do_unrealize()

    def _do_realize(self) -> None:
        from pyqemu.hw.core.bus import device_reset_all, qbus_realize, qbus_unrealize
        from pyqemu.hw.core.hotplug import device_no_hotplug, qdev_get_hotplug_handler

        if self.hotplugged and not self.HOTPLUGGABLE:
            raise device_no_hotplug(self)
        self._apply_globals()
        self._attach_unattached()
        handler = qdev_get_hotplug_handler(self)
        if handler is not None:
            handler.hotplug_pre_plug(self)
        with ExitStack() as undo:
            self.realize()
            undo.callback(self.unrealize)
            for bus in self.child_buses:
                qbus_realize(bus)
                undo.callback(qbus_unrealize, bus)
            self.realized_path = self.canonical_path()
            if self.hotplugged:
                device_reset_all(self)
            self.pending_deleted_event = False
            if handler is not None:
                handler.hotplug_plug(self)
            undo.pop_all()
        self.realized = True

    def _do_unrealize(self) -> None:
        from pyqemu.hw.core.bus import qbus_unrealize

        for bus in self.child_buses:
            qbus_unrealize(bus)
        self.unrealize()
        self.pending_deleted_event = True
        self.realized = False

    def _attach_unattached(self) -> None:
        """A device realized outside the tree goes to ``/machine/unattached/device[N]``."""
        if self.parent is not None:
            return
        machine = qdev_get_machine(self.parent_bus)
        if machine is not None:
            machine.unattached().add_child(UNATTACHED_DEVICE, self)

    def check_settable(self, name: str) -> None:
        """Refuse to change a static property once realized, as qdev does."""
        if self.realized:
            who = f"device '{self.id}'" if self.id else "anonymous device"
            raise ConfigError(
                f"Attempt to set property '{name}' on {who} (type '{self.typename}') after it was realized"
            )

    # -- removal ------------------------------------------------------------

    def canonical_path(self) -> str:
        """The device's path; once removed, the path it had (QEMU keeps it for DEVICE_DELETED)."""
        if self.parent is None and self.realized_path is not None:
            return self.realized_path
        return super().canonical_path()

    def unparent(self) -> None:
        """Unrealize, remove its own buses, leave its bus, then leave the tree (``device_unparent``)."""
        self._detach()
        super().unparent()

    def finalize(self) -> None:
        from pyqemu.hw.core.qdev_properties import device_release_props

        self._detach()
        device_release_props(self)
        super().finalize()
        if self.pending_deleted_event and self.on_deleted is not None:
            callback, self.on_deleted = self.on_deleted, None
            callback(self)

    def _detach(self) -> None:
        if self.realized:
            self.property_set("realized", False)
        for bus in list(self.child_buses):
            bus.unparent()
        if self.parent_bus is not None:
            self.parent_bus.remove_child(self)


def qdev_new(typename: str) -> DeviceState:
    """A new, unrealized device of ``typename`` (``qdev_new``); the caller holds one reference."""
    device = object_new(typename)
    if not isinstance(device, DeviceState):
        device.unref()
        raise ConfigError(f"'{typename}' is not a valid device model name")
    return device


def qdev_realize(device: DeviceState, bus: BusState | None = None, *, machine: Object | None = None) -> None:
    """Plug ``device`` into ``bus`` (if given) and realize it (``qdev_realize``).

    A device with no place in the tree goes to ``/machine/unattached/device[N]``
    of ``machine`` (else of the machine its bus belongs to).
    """
    if bus is not None:
        bus.plug(device)
    if machine is not None and device.parent is None:
        machine.unattached().add_child(UNATTACHED_DEVICE, device)  # type: ignore[attr-defined]
    device.property_set("realized", True)


def qdev_realize_and_unref(
    device: DeviceState, bus: BusState | None = None, *, machine: Object | None = None
) -> None:
    """Realize ``device`` and drop the creator's reference: the tree holds it now."""
    try:
        qdev_realize(device, bus, machine=machine)
    finally:
        device.unref()


def qdev_unrealize(device: DeviceState) -> None:
    device.property_set("realized", False)
