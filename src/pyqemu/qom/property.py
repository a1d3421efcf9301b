"""QOM properties: named, typed accessors on objects and classes.

A property's value reaches its setter along one of two paths, as in QEMU:
from QMP as a typed JSON value (QEMU's QObject input visitor) or from the
command line as a string (the keyval visitor behind ``-device``, ``-machine``,
``-global``).  A :class:`ValueKind` converts both, with QEMU's error texts, so
every setter receives one checked Python value whichever path it came by.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pyqemu.util.cutils import InvalidNumberError, invalid_parameter_type, parse_int
from pyqemu.util.errors import ConfigError

if TYPE_CHECKING:
    from pyqemu.qom.object import Object

Getter = Callable[["Object"], Any]
Setter = Callable[["Object", Any], None]

#: Marks a property without a default value (``qom-list-properties`` omits it).
NO_DEFAULT: Any = object()


def _type_error(name: str, expected: str) -> ConfigError:
    return invalid_parameter_type(name, expected)


def _value_error(name: str, expects: str) -> ConfigError:
    return ConfigError(f"Parameter '{name}' expects {expects}")


class ValueKind:
    """How values of one kind are checked, parsed from text and shown as JSON."""

    qom_type = "any"

    def from_json(self, value: Any, name: str) -> Any:
        return value

    def from_str(self, text: str, name: str) -> Any:
        return text

    def to_json(self, value: Any) -> Any:
        return value

    def from_keyval(self, value: str | dict[str, Any], name: str) -> Any:
        """Convert a command-line value: text, or a dict of dotted keys (``smp.cpus=2``)."""
        if isinstance(value, dict):
            raise _type_error(name, self.qom_type)
        return self.from_str(value, name)

    def from_string_visitor(self, text: str, name: str) -> Any:
        """Convert text as QEMU's string input visitor does (``-global``, ``object_property_parse``).

        It differs from the command line's keyval reading only in numbers.
        """
        return self.from_keyval(text, name)


class BoolKind(ValueKind):
    qom_type = "bool"

    def from_json(self, value: Any, name: str) -> bool:
        if not isinstance(value, bool):
            raise _type_error(name, "boolean")
        return value

    def from_str(self, text: str, name: str) -> bool:
        from pyqemu.util.cutils import parse_bool_param

        return parse_bool_param(name, text)


class StrKind(ValueKind):
    qom_type = "string"

    def from_json(self, value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise _type_error(name, "string")
        return value


def parse_int_text(text: str) -> int | None:
    """An integer as QEMU's ``qemu_strtoi64`` reads property text; None if it is not one.

    Leading blanks, one sign, decimal, ``0x`` hex or ``0`` octal; no
    trailing characters.  The value is not limited to 64 bits.
    """
    try:
        return parse_int(text)
    except InvalidNumberError:
        return None


@dataclass(frozen=True)
class IntKind(ValueKind):
    """A fixed-width integer; ``ctype`` names it as QEMU's range errors do."""

    bits: int = 64
    signed: bool = True

    @property
    def qom_type(self) -> str:  # type: ignore[override]
        return f"{'' if self.signed else 'u'}int{self.bits}"

    @property
    def limits(self) -> tuple[int, int]:
        if self.signed:
            return -(1 << (self.bits - 1)), (1 << (self.bits - 1)) - 1
        return 0, (1 << self.bits) - 1

    def _check_range(self, value: int, name: str) -> int:
        low, high = self.limits
        if not low <= value <= high:
            raise _value_error(name, f"{self.qom_type}_t")
        return value

    def from_json(self, value: Any, name: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(name, "integer")
        if not -(1 << 63) <= value < (1 << 64):
            raise _type_error(name, "integer")
        return self._check_range(value, name)

    def from_str(self, text: str, name: str) -> int:
        value = parse_int_text(text)
        if value is None or not -(1 << 63) <= value < (1 << 64):
            raise _value_error(name, "integer")
        return self._check_range(value, name)

    def from_string_visitor(self, text: str, name: str) -> int:
        """``qemu_strtoi64`` / ``qemu_strtou64`` (a minus sign wraps), then the width's range."""
        from pyqemu.util.cutils import parse_uint

        width = "int64" if self.signed else "uint64"
        try:
            value = parse_int(text) if self.signed else parse_uint(text)
        except ValueError:  # not a number, or beyond 64 bits
            raise _value_error(name, width) from None
        if self.signed and not -(1 << 63) <= value < (1 << 63):
            raise _value_error(name, width)
        return self._check_range(value, name)


class SizeKind(IntKind):
    """A byte count: an unsigned 64-bit integer, with suffixes on the command line."""

    def __init__(self) -> None:
        super().__init__(64, False)

    @property
    def qom_type(self) -> str:  # type: ignore[override]
        return "size"

    def from_str(self, text: str, name: str) -> int:
        from pyqemu.util.cutils import parse_size

        try:
            return parse_size(text)
        except ValueError as err:
            raise _value_error(name, "a size value") from err

    def from_string_visitor(self, text: str, name: str) -> int:
        from pyqemu.util.cutils import SIZE_HINT, invalid_parameter_value, parse_size

        try:
            return parse_size(text)
        except ValueError:
            raise invalid_parameter_value(name, "a non-negative number below 2^64", SIZE_HINT) from None


class NumberKind(ValueKind):
    qom_type = "number"

    def from_json(self, value: Any, name: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _type_error(name, "number")
        return float(value)

    def from_str(self, text: str, name: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if math.isnan(value):
            raise _value_error(name, "number")
        return value


@dataclass(frozen=True)
class EnumKind(ValueKind):
    """One of a fixed set of strings, named like a QAPI enum (``OnOffAuto``)."""

    enum_name: str
    values: tuple[str, ...]

    @property
    def qom_type(self) -> str:  # type: ignore[override]
        return self.enum_name

    def from_json(self, value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise _type_error(name, "string")
        return self.from_str(value, name)

    def from_str(self, text: str, name: str) -> str:
        if text not in self.values:
            raise ConfigError(f"Parameter '{name}' does not accept value '{text}'")
        return text


@dataclass(frozen=True)
class StructKind(ValueKind):
    """A QAPI struct (``SMPConfiguration``); values are dicts, shown in QDict order.

    As QEMU's visitors do, members are read in declaration order (a missing
    ``required`` one is an error), then the first key left over, in QDict
    order, is unexpected.
    """

    struct_name: str
    members: tuple[tuple[str, ValueKind], ...]
    required: frozenset[str] = frozenset()

    @property
    def qom_type(self) -> str:  # type: ignore[override]
        return self.struct_name

    def _convert(self, value: Any, name: str, member_value: Callable[[ValueKind, Any, str], Any]) -> dict:
        from pyqemu.util.keyval import qdict_order

        if not isinstance(value, dict):
            raise _type_error(name, "object")
        result = {}
        for key, kind in self.members:
            if key in value:
                result[key] = member_value(kind, value[key], f"{name}.{key}")
            elif key in self.required:
                raise ConfigError(f"Parameter '{name}.{key}' is missing")
        unexpected = [key for key in qdict_order(value) if key not in result]
        if unexpected:
            raise ConfigError(f"Parameter '{name}.{unexpected[0]}' is unexpected")
        return result

    def from_json(self, value: Any, name: str) -> dict:
        return self._convert(value, name, lambda kind, item, full: kind.from_json(item, full))

    def from_str(self, text: str, name: str) -> dict:
        raise _type_error(name, "object")

    def from_keyval(self, value: str | dict[str, Any], name: str) -> dict:
        return self._convert(value, name, lambda kind, item, full: kind.from_keyval(item, full))

    def to_json(self, value: Any) -> Any:
        from pyqemu.util.keyval import qdict_order

        kinds = dict(self.members)
        return {key: kinds[key].to_json(value[key]) for key in qdict_order(value)}


BOOL = BoolKind()
STR = StrKind()
INT = IntKind(64, True)
UINT8 = IntKind(8, False)
UINT16 = IntKind(16, False)
UINT32 = IntKind(32, False)
UINT64 = IntKind(64, False)
INT32 = IntKind(32, True)
SIZE = SizeKind()
NUMBER = NumberKind()
ON_OFF_AUTO = EnumKind("OnOffAuto", ("auto", "on", "off"))


def enum_kind(enum_name: str, values: Sequence[str]) -> EnumKind:
    """An enum value kind named ``enum_name``."""
    return EnumKind(enum_name, tuple(values))


@dataclass
class ObjectProperty:
    """One property of an object or class: QEMU's ``ObjectProperty``.

    ``type`` is the QOM type string that ``qom-list`` shows (``bool``,
    ``child<container>``, ``link<memory-backend>``, ``OnOffAuto`` …).
    ``get`` and ``set`` take already checked Python values; ``kind`` does the
    checking.  ``child`` is set for a ``child<>`` property.
    """

    name: str
    type: str
    kind: ValueKind = field(default_factory=ValueKind)
    get: Getter | None = None
    set: Setter | None = None
    description: str | None = None
    default: Any = NO_DEFAULT
    release: Callable[[Object], None] | None = None
    child: Object | None = None
    link_target: str | None = None
    #: For an alias (``object_property_add_alias``): the object and property it stands for.
    alias_of: tuple[Object, str] | None = None

    def describe(self) -> dict[str, Any]:
        """The ``ObjectPropertyInfo`` entry for ``qom-list-properties``."""
        info: dict[str, Any] = {"name": self.name}
        if self.description is not None:
            info["description"] = self.description
        info["type"] = self.type
        if self.default is not NO_DEFAULT:
            info["default-value"] = self.default
        return info
