"""qdev: the device base type, whose ``realized`` property drives realize / unrealize.

A device is created unrealized (its properties may still be set), then
realized by setting ``realized`` to true: that is the one path the command
line, QMP and board code all take, as in QEMU (seed ``001_…``).  A failing
``realize`` leaves the device unrealized; anything it set up must be undone
by the device itself (use ``contextlib.ExitStack`` for several steps).
"""

from __future__ import annotations

from typing import ClassVar

from pyqemu.qom.object import Object, register_type
from pyqemu.util.errors import ConfigError


@register_type
class DeviceState(Object):
    """Base of every device (type ``device``)."""

    TYPE = "device"
    ABSTRACT = True
    #: Category under which ``-device help`` lists the type; None: not listed.
    CATEGORY: ClassVar[str | None] = None
    DESCRIPTION: ClassVar[str | None] = None
    #: False for devices only boards create (QEMU's ``user_creatable = false``).
    USER_CREATABLE: ClassVar[bool] = True
    HOTPLUGGABLE: ClassVar[bool] = True

    @classmethod
    def class_init(cls) -> None:
        cls.class_property_add_bool("realized", lambda dev: dev.realized, DeviceState._set_realized)
        cls.class_property_add_bool("hotpluggable", lambda dev: dev.HOTPLUGGABLE)
        cls.class_property_add_bool("hotplugged", lambda dev: dev.hotplugged)

    def __init__(self) -> None:
        super().__init__()
        self.realized = False
        self.hotplugged = False
        self.id: str | None = None

    def realize(self) -> None:
        """Bring the device to life; raise a QemuError to refuse. Subclasses override."""

    def unrealize(self) -> None:
        """Undo :meth:`realize`. Subclasses override."""

    def reset(self) -> None:
        """Put the device in its power-on state. Subclasses override."""

    def _set_realized(self, value: bool) -> None:
        if value == self.realized:
            return
        if value:
            self.realize()
            self.realized = True
        else:
            self.unrealize()
            self.realized = False

    def check_settable(self, name: str) -> None:
        """Refuse to change a static property once realized, as qdev does."""
        if self.realized:
            raise ConfigError(
                f"Attempt to set property '{name}' on device '{self.id or ''}' "
                f"(type '{self.typename}') after it was realized"
            )
