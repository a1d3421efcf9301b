"""Static device properties: the typed table a device class declares (QEMU's ``DEFINE_PROP_*``).

A device type lists its properties once::

    class IsaSerial(IsaDevice):
        TYPE = "isa-serial"
        PROPERTIES = (
            prop_uint32("iobase", default=0xFFFFFFFF),
            prop_chr("chardev"),
            prop_bool("wakeup", default=False),
        )

Each entry becomes a class property with the type string and default that
``-device isa-serial,help`` and ``device-list-properties`` show, settable
from the command line (text) and from JSON with QEMU's error texts, and
refused once the device is realized.  The value lives in an instance
attribute named like the property with ``-`` turned into ``_``
(``dev.iobase``, or another name with ``.stored_as("attr")``): an ``int``
for integers, sizes and PCI addresses (devfn, -1 if unset), ``bool``,
``str`` (None while unset) for strings and enums, a
:class:`~pyqemu.chardev.char.CharBackend` for a chardev, the object for a
link, 6 ``bytes`` (None while unset) for a MAC address.  :meth:`PropertyInfo.print`
gives the value as ``info qtree`` shows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pyqemu.qom.property import (
    BOOL,
    INT32,
    NO_DEFAULT,
    ON_OFF_AUTO,
    SIZE,
    STR,
    UINT8,
    UINT16,
    UINT32,
    UINT64,
    IntKind,
    ValueKind,
    enum_kind,
)
from pyqemu.util.cutils import UINT64_MAX
from pyqemu.util.errors import ConfigError

if TYPE_CHECKING:
    from pyqemu.chardev.char import Chardev
    from pyqemu.hw.core.qdev import DeviceState

INT64 = IntKind(64, True)
_HEX = frozenset("0123456789abcdefABCDEF")

DEVFN_UNSET = -1
PCI_SLOT_MAX = 31
PCI_FUNC_MAX = 7
MAC_LEN = 6
CHR_DESCRIPTION = "ID of a chardev to use as a backend"
NETDEV_DESCRIPTION = "ID of a netdev to use as a backend"
DRIVE_DESCRIPTION = "Node name or ID of a block device to use as a backend"
MAC_DESCRIPTION = "Ethernet 6-byte MAC Address, example: 52:54:00:12:34:56"
DEVFN_DESCRIPTION = "Slot and optional function number, example: 06.0 or 06"
#: Attributes of every device, which a property must not shadow.
_RESERVED = frozenset({
    "id", "realized", "hotplugged", "parent_bus", "child_buses", "gpios", "parent",
    "properties", "name_in_parent", "refcount", "realized_path", "pending_deleted_event", "on_deleted",
})


def _not_taken(dev: DeviceState, name: str, text: str) -> ConfigError:
    """QEMU's ``error_set_from_qdev_prop_error`` for a value it cannot parse."""
    return ConfigError(f"Property '{dev.typename}.{name}' doesn't take value '{text}'")


# -- how values print in ``info qtree`` ---------------------------------------------


def print_int(value: int) -> str:
    return f"{value} (0x{value & UINT64_MAX:x})"


def print_size(value: int) -> str:
    from pyqemu.util.cutils import format_size

    return f"{value} ({format_size(value)})"


def print_bool(value: bool) -> str:
    return "true" if value else "false"


def print_quoted(value: Any) -> str:
    return f'"{"" if value is None else value}"'


@dataclass(frozen=True)
class PropertyInfo:
    """One kind of static property (QEMU's ``PropertyInfo``): its checks, text form and printing.

    ``to_value`` turns the checked property value into what the device
    stores, and ``from_value`` back (a chardev id into a ``CharBackend``);
    ``print`` formats the stored value for ``info qtree``.
    """

    kind: ValueKind
    type_name: str
    description: str | None = None
    print: Callable[[Any], str] = print_quoted
    to_value: Callable[[DeviceState, str, Any], Any] | None = None
    from_value: Callable[[Any], Any] | None = None
    #: Makes the value a new device starts with, when that is not the default.
    make_initial: Callable[[], Any] | None = None


@dataclass(frozen=True)
class Prop:
    """One entry of a device's table: name, kind, default and the attribute holding the value."""

    name: str
    info: PropertyInfo
    default: Any = NO_DEFAULT
    attr: str = field(default="")

    @property
    def attr_name(self) -> str:
        return self.attr or self.name.replace("-", "_")

    def stored_as(self, attr: str) -> Prop:
        """The same property, kept in attribute ``attr`` (when the default name is taken)."""
        return replace(self, attr=attr)

    def initial(self) -> Any:
        """The value a new device starts with."""
        if self.info.make_initial is not None:
            return self.info.make_initial()
        return None if self.default is NO_DEFAULT else self.default

    def get(self, dev: DeviceState) -> Any:
        value = getattr(dev, self.attr_name)
        return self.info.from_value(value) if self.info.from_value is not None else value

    def set(self, dev: DeviceState, value: Any) -> None:
        dev.check_settable(self.name)
        if self.info.to_value is not None:
            value = self.info.to_value(dev, self.name, value)
        setattr(dev, self.attr_name, value)

    def print(self, dev: DeviceState) -> str:
        """The value as ``info qtree`` prints it."""
        return self.info.print(getattr(dev, self.attr_name))


def _int_info(kind: IntKind) -> PropertyInfo:
    return PropertyInfo(kind, kind.qom_type, print=print_int)


_UINT8 = _int_info(UINT8)
_UINT16 = _int_info(UINT16)
_UINT32 = _int_info(UINT32)
_UINT64 = _int_info(UINT64)
_INT32 = _int_info(INT32)
_INT64 = _int_info(INT64)
_BOOL = PropertyInfo(BOOL, "bool", print=print_bool)
_BIT = PropertyInfo(BOOL, "bool", "on/off", print=print_bool)
_SIZE = PropertyInfo(SIZE, "size", print=print_size)
_STRING = PropertyInfo(STR, "str", from_value=lambda text: text or "")
_ON_OFF_AUTO = PropertyInfo(ON_OFF_AUTO, "OnOffAuto", "on/off/auto")


def prop_uint8(name: str, default: int = 0) -> Prop:
    return Prop(name, _UINT8, default)


def prop_uint16(name: str, default: int = 0) -> Prop:
    return Prop(name, _UINT16, default)


def prop_uint32(name: str, default: int = 0) -> Prop:
    return Prop(name, _UINT32, default)


def prop_uint64(name: str, default: int = 0) -> Prop:
    return Prop(name, _UINT64, default)


def prop_int32(name: str, default: int = 0) -> Prop:
    return Prop(name, _INT32, default)


def prop_int64(name: str, default: int = 0) -> Prop:
    return Prop(name, _INT64, default)


def prop_bool(name: str, default: bool = False) -> Prop:
    """A plain boolean (``DEFINE_PROP_BOOL``): no description."""
    return Prop(name, _BOOL, default)


def prop_bit(name: str, default: bool = False) -> Prop:
    """A flag (``DEFINE_PROP_BIT``): a boolean described as ``on/off``."""
    return Prop(name, _BIT, default)


def prop_size(name: str, default: int = 0) -> Prop:
    """A byte count; the command line takes suffixes (``4k``)."""
    return Prop(name, _SIZE, default)


def prop_string(name: str) -> Prop:
    """A string without a default (it reads as ``""`` until set)."""
    return Prop(name, _STRING)


def prop_on_off_auto(name: str, default: str = "auto") -> Prop:
    return Prop(name, _ON_OFF_AUTO, default)


def prop_enum(
    name: str, enum_name: str, values: Sequence[str], default: str, description: str | None = None
) -> Prop:
    """One of ``values``, typed as the QAPI enum ``enum_name`` (``LostTickPolicy``)."""
    return Prop(name, PropertyInfo(enum_kind(enum_name, values), enum_name, description), default)


# -- chardev ----------------------------------------------------------------------


def _new_backend() -> Any:
    from pyqemu.chardev.char import CharBackend

    return CharBackend()


def _attach_chardev(dev: DeviceState, name: str, label: str) -> Any:
    from pyqemu.chardev.char import chardev_find

    be = getattr(dev, name.replace("-", "_"))
    if be.chr is not None:
        raise ConfigError(f"-global {dev.typename}.{name}=... conflicts with {name}={label}")
    if not label:
        return be
    chr = chardev_find(dev.root(), label)
    if chr is None:
        raise ConfigError(f"Property '{dev.typename}.{name}' can't find value '{label}'")
    try:
        be.init(chr)
    except ConfigError as err:
        raise ConfigError(f"Property '{dev.typename}.{name}' can't take value '{label}': {err.desc}") from err
    return be


def _chardev_label(be: Any) -> str:
    return be.chr.label if be is not None and be.chr is not None else ""


_CHR = PropertyInfo(
    STR, "str", CHR_DESCRIPTION,
    print=lambda be: print_quoted(_chardev_label(be)),
    to_value=_attach_chardev, from_value=_chardev_label, make_initial=_new_backend,
)


def prop_chr(name: str = "chardev") -> Prop:
    """A chardev id; the device gets a :class:`~pyqemu.chardev.char.CharBackend` (``DEFINE_PROP_CHR``)."""
    return Prop(name, _CHR)


def qdev_prop_set_chr(dev: DeviceState, name: str, chr: Chardev | None) -> None:
    """Board code: give a device's chardev property a chardev object (``qdev_prop_set_chr``)."""
    owner, name = dev.resolve_alias(name)
    owner.check_settable(name)  # type: ignore[attr-defined]
    be = getattr(owner, name.replace("-", "_"))
    be.deinit()
    if chr is not None:
        be.init(chr)


# -- backends pyqemu does not have yet ---------------------------------------------------


def _unsupported_backend(what: str) -> Callable[[DeviceState, str, Any], Any]:
    def refuse(dev: DeviceState, name: str, value: Any) -> Any:
        if value:
            raise ConfigError(
                f"Property '{dev.typename}.{name}' can't take value '{value}': "
                f"{what} backends are not implemented in pyqemu yet"
            )
        return None

    return refuse


def prop_netdev(name: str = "netdev") -> Prop:
    return Prop(name, PropertyInfo(STR, "str", NETDEV_DESCRIPTION, to_value=_unsupported_backend("network")))


def prop_drive(name: str = "drive") -> Prop:
    return Prop(name, PropertyInfo(STR, "str", DRIVE_DESCRIPTION, to_value=_unsupported_backend("block")))


# -- links --------------------------------------------------------------------------


def prop_link(name: str, target_type: str) -> Prop:
    """A link to another object (``DEFINE_PROP_LINK``): set by path, holds the object."""
    from pyqemu.qom.property import StrKind

    def resolve(dev: DeviceState, pname: str, path: str) -> Any:
        from pyqemu.qom.path import resolve_link

        return resolve_link(dev.root(), path, pname, target_type) if path else None

    info = PropertyInfo(
        StrKind(), f"link<{target_type}>",
        print=lambda obj: print_quoted(obj.canonical_path() if obj is not None else ""),
        to_value=resolve,
        from_value=lambda obj: obj.canonical_path() if obj is not None else "",
    )
    return Prop(name, info)


# -- PCI address ---------------------------------------------------------------------


def _scan_hex(text: str, pos: int) -> tuple[int, int] | None:
    """C's ``sscanf("%x")`` at ``pos``: blanks, a sign, ``0x``, hex digits; (value, end) or None."""
    while pos < len(text) and text[pos] in " \t\n\v\f\r":
        pos += 1
    sign = 1
    if pos < len(text) and text[pos] in "+-":
        sign = -1 if text[pos] == "-" else 1
        pos += 1
    if text[pos:pos + 2].lower() == "0x" and pos + 2 < len(text) and text[pos + 2] in _HEX:
        pos += 2
    start = pos
    while pos < len(text) and text[pos] in _HEX:
        pos += 1
    if pos == start:
        return None
    return (sign * int(text[start:pos], 16)) & 0xFFFFFFFF, pos


def parse_devfn(text: str) -> int | None:
    """``SLOT[.FUNC]`` in hex (``1f.7``, ``06``) as a devfn, or None if invalid."""
    slot = _scan_hex(text, 0)
    if slot is None:
        return None
    end, func = slot[1], 0
    if end < len(text) and text[end] == ".":
        scanned = _scan_hex(text, end + 1)
        if scanned is not None:
            func, end = scanned
    if end != len(text) or func > PCI_FUNC_MAX or slot[0] > PCI_SLOT_MAX:
        return None
    return slot[0] << 3 | func


class DevfnKind(ValueKind):
    """A PCI device/function: text ``SLOT[.FUNC]``, or a devfn number from JSON."""

    qom_type = "int32"

    def from_str(self, text: str, name: str) -> Any:
        return _DevfnText(text)

    def from_json(self, value: Any, name: str) -> Any:
        if isinstance(value, str):
            return _DevfnText(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"Invalid parameter type for '{name}', expected int or str")
        if not DEVFN_UNSET <= value <= 0xFF:
            raise ConfigError(f"Parameter '{name}' expects a value between -1 and 255")
        return value


class _DevfnText(str):
    """Text still to be parsed: the error names the device, which only the setter knows."""


def _devfn_value(dev: DeviceState, name: str, value: Any) -> int:
    if isinstance(value, _DevfnText):
        devfn = parse_devfn(str(value))
        if devfn is None:
            raise _not_taken(dev, name, str(value))
        return devfn
    return int(value)


def print_devfn(devfn: int) -> str:
    return "<unset>" if devfn == DEVFN_UNSET else f"{devfn >> 3:02x}.{devfn & 7:x}"


_DEVFN = PropertyInfo(DevfnKind(), "int32", DEVFN_DESCRIPTION, print=print_devfn, to_value=_devfn_value)


def prop_pci_devfn(name: str = "addr", default: int = DEVFN_UNSET) -> Prop:
    return Prop(name, _DEVFN, default)


# -- MAC address ---------------------------------------------------------------------


def parse_macaddr(text: str) -> bytes | None:
    """``52:54:00:12:34:56`` (``:`` or ``-`` between bytes) as 6 bytes, or None."""
    if len(text) != MAC_LEN * 3 - 1:
        return None
    octets = []
    for i in range(MAC_LEN):
        pair = text[i * 3:i * 3 + 2]
        if not set(pair) <= _HEX or (i < MAC_LEN - 1 and text[i * 3 + 2] not in ":-"):
            return None
        octets.append(int(pair, 16))
    return bytes(octets)


def format_macaddr(mac: bytes | None) -> str:
    return ":".join(f"{b:02x}" for b in (mac or bytes(MAC_LEN)))


def _mac_value(dev: DeviceState, name: str, text: str) -> bytes:
    mac = parse_macaddr(text)
    if mac is None:
        raise _not_taken(dev, name, text)
    return mac


_MAC = PropertyInfo(
    STR, "str", MAC_DESCRIPTION,
    print=lambda mac: print_quoted(format_macaddr(mac)),
    to_value=_mac_value, from_value=format_macaddr,
)


def prop_macaddr(name: str = "mac") -> Prop:
    """A MAC address; the device holds 6 bytes, or None while unset."""
    return Prop(name, _MAC)


# -- wiring a table into a class and its instances --------------------------------------


def device_class_set_props(cls: type[DeviceState], props: Sequence[Prop]) -> None:
    """Turn ``props`` into class properties of ``cls`` (``device_class_set_props``)."""
    for prop in props:
        if prop.attr_name in _RESERVED:
            raise TypeError(f"property '{prop.name}' of {cls.TYPE} would shadow DeviceState.{prop.attr_name}")
        cls.class_property_add(
            prop.name, prop.info.kind, prop.get, prop.set,
            type=prop.info.type_name, description=prop.info.description, default=prop.default,
        )


def class_static_props(cls: type[DeviceState]) -> list[Prop]:
    """Every static property of ``cls``: its own first, then its parents' (``info qtree`` order)."""
    from pyqemu.hw.core.qdev import DeviceState

    props: list[Prop] = []
    for klass in cls.__mro__:
        if isinstance(klass, type) and issubclass(klass, DeviceState):
            props.extend(klass.__dict__.get("PROPERTIES", ()))
    return props


def device_init_props(dev: DeviceState) -> None:
    """Give a new device every static property's default (QEMU's ``qdev_property_add_static``)."""
    for prop in class_static_props(type(dev)):
        setattr(dev, prop.attr_name, prop.initial())


def device_release_props(dev: DeviceState) -> None:
    """Detach chardev frontends when the device goes away (``release_chr``)."""
    for prop in class_static_props(type(dev)):
        if prop.info is _CHR:
            getattr(dev, prop.attr_name).deinit()
