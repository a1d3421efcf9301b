"""Building blocks for machine properties: value kinds of ``-M`` and properties kept for compatibility.

Machine properties reach their setters from ``-M`` / ``-machine`` (QEMU's
keyval visitor, whose texts differ a little from ``-object``'s and
``-device``'s: ``expects size``, negative ``uint64`` values wrap) and from
``qom-set``.  The kinds here give those texts, and describe the QAPI lists of
structs some machines take (``sgx-epc``, ``cxl-fmw``), whose members may be
required.

A property that pyqemu cannot honour still exists, with QEMU's type and
default, so that ``qom-list``, ``qom-get`` and ``-M TYPE,help`` match QEMU;
:func:`default_only_setter` makes it accept its default and refuse anything
else with :func:`not_implemented`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyqemu.qom.object import Object
from pyqemu.qom.property import IntKind, ObjectProperty, SizeKind, ValueKind
from pyqemu.util.cutils import invalid_parameter_type, parse_uint
from pyqemu.util.errors import ConfigError

UINT64_WRAP = 1 << 64
INT64_MIN = -(1 << 63)

Getter = Callable[[Any], Any]
Setter = Callable[[Any, Any], None]


# -- accessors ------------------------------------------------------------------------------


def attr_getter(attr: str) -> Getter:
    """A getter reading instance attribute ``attr``."""
    return lambda obj: getattr(obj, attr)


def attr_setter(attr: str) -> Setter:
    """A setter writing instance attribute ``attr``."""
    return lambda obj, value: setattr(obj, attr, value)


def str_getter(attr: str) -> Getter:
    """A string property's getter: an unset (None) string reads as ``""``, as ``qom-get`` shows it."""
    return lambda obj: getattr(obj, attr) or ""


def not_implemented(name: str) -> ConfigError:
    """The error for a value of machine property ``name`` that pyqemu cannot honour."""
    return ConfigError(f"machine property '{name}' is not implemented in pyqemu yet")


def default_only_setter(name: str, attr: str, default: Any) -> Setter:
    """A setter for a property pyqemu cannot honour: ``default`` is kept, any other value refused."""

    def set_value(obj: Any, value: Any) -> None:
        if value != default:
            raise not_implemented(name)
        setattr(obj, attr, value)

    return set_value


def class_link_add(
    cls: type[Object], name: str, target_type: str,
    get: Callable[[Any], Object | None], set: Callable[[Any, Object | None], None], description: str,
) -> ObjectProperty:
    """A class ``link<target_type>`` property: reads as the target's path, set from a path (or ``""``)."""
    from pyqemu.qom.path import resolve_link

    def set_path(obj: Any, path: str) -> None:
        set(obj, resolve_link(obj.root(), path, name, target_type) if path else None)

    def get_path(obj: Any) -> str:
        target = get(obj)
        return target.canonical_path() if target is not None else ""

    prop = cls.class_property_add(
        name, LINK_PATH, get_path, set_path, type=f"link<{target_type}>", description=description
    )
    prop.link_target = target_type
    return prop


# -- value kinds ------------------------------------------------------------------------------


class _LinkPathKind(ValueKind):
    """A link's value: an object path as a string."""

    qom_type = "string"

    def from_json(self, value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise invalid_parameter_type(name, "string")
        return value


LINK_PATH = _LinkPathKind()


def _json_uint64(value: Any, name: str) -> int:
    """A ``uint64`` / ``size`` from QMP: negative int64 values wrap, anything else is refused."""
    if isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value < UINT64_WRAP:
        return value % UINT64_WRAP
    raise ConfigError(f"Parameter '{name}' expects uint64")


class KeyvalSizeKind(SizeKind):
    """A byte count as ``-M`` reads it: QEMU's keyval visitor says ``expects size`` on bad text."""

    def from_str(self, text: str, name: str) -> int:
        try:
            return super().from_str(text, name)
        except ConfigError as err:
            raise ConfigError(f"Parameter '{name}' expects size") from err

    def from_json(self, value: Any, name: str) -> int:
        return _json_uint64(value, name)


@dataclass(frozen=True)
class WrappingUint64Kind(IntKind):
    """A ``uint64`` that takes negative numbers modulo 2**64, as ``strtoull`` and QMP's visitor do."""

    bits: int = 64
    signed: bool = False

    def from_str(self, text: str, name: str) -> int:
        try:
            return parse_uint(text)
        except ValueError:  # not a number, or beyond 64 bits
            raise ConfigError(f"Parameter '{name}' expects integer") from None

    def from_json(self, value: Any, name: str) -> int:
        return _json_uint64(value, name)


KEYVAL_SIZE = KeyvalSizeKind()
WRAPPING_UINT64 = WrappingUint64Kind()


@dataclass(frozen=True)
class ListKind(ValueKind):
    """A QAPI array; elements are named ``NAME.N`` on the command line and ``NAME[N]`` in QMP."""

    element: ValueKind
    type_name: str

    @property
    def qom_type(self) -> str:  # type: ignore[override]
        return self.type_name

    def from_json(self, value: Any, name: str) -> list:
        if not isinstance(value, list):
            raise invalid_parameter_type(name, "array")
        return [self.element.from_json(item, f"{name}[{i}]") for i, item in enumerate(value)]

    def from_str(self, text: str, name: str) -> list:
        raise invalid_parameter_type(name, "array")

    def from_keyval(self, value: Any, name: str) -> list:
        if not isinstance(value, list):
            raise invalid_parameter_type(name, "array")
        return [self.element.from_keyval(item, f"{name}.{i}") for i, item in enumerate(value)]

    def to_json(self, value: Any) -> Any:
        return [self.element.to_json(item) for item in value]
