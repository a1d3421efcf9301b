"""Check and convert QMP arguments exactly as QEMU's QObject input visitor does.

QEMU checks a command's ``arguments`` by visiting its declared type over the
JSON value (``qapi/qobject-input-visitor.c``, ``qapi-visit-core.c``): members
in declaration order (base first, then a union's branch), the first fault
raised as a GenericError, unknown members reported only once every declared
one is fine.  The texts, as QEMU 7.2 sends them::

    Parameter 'model.name' is missing
    Parameter 'capabilities[0].foo' is unexpected
    Invalid parameter type for 'cpu-index', expected: integer
                     (string, integer, number, boolean, null, object, array)
    Parameter 'downtime-limit' expects uint64          (uint64 / size)
    Parameter 'compress-level' expects uint8_t         (range of int8..uint32)
    Parameter 'type' does not accept value 'foo'       (enum)
    Invalid parameter type for 'tls-creds', expected: StrOrNull  (alternate)

Paths name nested members (``a.b``, ``a[0].b``), except in the last three
kinds, which use the bare member name, or ``null`` for a list element.
Quirks kept on purpose: ``uint64``/``size`` accept negative int64 values
(wrapped modulo 2**64), ``1.0`` is not an integer, ``number`` takes integers.
"""

from __future__ import annotations

from typing import Any

from pyqemu.qapi.hashorder import first_unvisited, qdict_order
from pyqemu.qapi.schema import (
    AlternateType,
    ArrayType,
    BuiltinType,
    Command,
    EnumType,
    ObjectType,
    QapiType,
)
from pyqemu.util.cutils import UINT64_MAX, invalid_parameter_type
from pyqemu.util.errors import ConfigError

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1

_ANONYMOUS = "<anonymous>"
_NULL_NAME = "null"

# Built-in kind -> the word of "expected: ..." for a wrong JSON type.
_EXPECTED = {"str": "string", "int": "integer", "intN": "integer", "number": "number",
             "bool": "boolean", "null": "null"}
_C_TYPE_NAME = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t",
                "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t"}


def check_arguments(cmd: Command, arguments: dict[str, Any]) -> dict[str, Any]:
    """Check ``arguments`` against ``cmd``; return the handler's keyword arguments.

    Names get ``_`` for ``-``; absent optional members are left out; values
    are converted as QEMU converts them.  A command with ``raw_arguments``
    gets ``arguments`` back untouched.  Raises ConfigError with QEMU's text.
    """
    if cmd.raw_arguments:
        return arguments
    value = check_value(cmd.arguments, arguments)
    return {name.replace("-", "_"): member for name, member in value.items()}


def check_value(typ: QapiType, value: Any) -> Any:
    """Check and convert ``value`` as an instance of ``typ`` (the visit's root)."""
    return _Visitor(value).visit(typ, None)


class _Frame:
    """An object or array being visited (QEMU's StackObject)."""

    def __init__(self, name: str | None, obj: dict[str, Any] | list[Any]):
        self.name = name
        self.obj = obj
        self.index = -1  # arrays: index of the element last taken
        self.visited: list[str] = []  # objects: members taken, in order


class _Visitor:
    def __init__(self, root: Any):
        self._root = root
        self._stack: list[_Frame] = []

    # -- QEMU's full_name(): where in the arguments we are ---------------------

    def _full_name(self, name: str | None, skip: int = 0) -> str:
        path = ""
        for frame in reversed(self._stack):
            if skip:
                skip -= 1
            elif isinstance(frame.obj, dict):
                path = "." + (name or _ANONYMOUS) + path
            else:
                path = f"[{frame.index}]" + path
            name = frame.name
        if name:
            return name + path
        if path.startswith("."):
            return path[1:]
        return path or _ANONYMOUS

    def _type_error(self, name: str | None, expected: str) -> ConfigError:
        return invalid_parameter_type(self._full_name(name), expected)

    # -- getting values ---------------------------------------------------------

    def _peek(self, name: str | None) -> tuple[bool, Any]:
        if not self._stack:
            return True, self._root
        top = self._stack[-1]
        if isinstance(top.obj, dict):
            assert name is not None
            return name in top.obj, top.obj.get(name)
        if top.index + 1 < len(top.obj):
            return True, top.obj[top.index + 1]
        return False, None

    def _take(self, name: str | None) -> Any:
        present, value = self._peek(name)
        if self._stack:
            top = self._stack[-1]
            if isinstance(top.obj, dict):
                if present:
                    top.visited.append(name)  # type: ignore[arg-type]
            else:
                top.index += 1
        if not present:
            raise ConfigError(f"Parameter '{self._full_name(name)}' is missing")
        return value

    # -- visiting -----------------------------------------------------------------

    def visit(self, typ: QapiType, name: str | None) -> Any:
        if isinstance(typ, BuiltinType):
            return self._builtin(typ, name)
        if isinstance(typ, EnumType):
            return self._enum(typ, name)
        if isinstance(typ, ObjectType):
            return self._object(typ, name)
        if isinstance(typ, ArrayType):
            return self._array(typ, name)
        assert isinstance(typ, AlternateType)
        return self._alternate(typ, name)

    def _builtin(self, typ: BuiltinType, name: str | None) -> Any:
        value = self._take(name)
        kind = typ.kind
        if kind == "any":
            return value
        if kind in ("uint64", "uintN"):
            value = self._uint64(value, name)
        elif not _matches(kind, value):
            raise self._type_error(name, _EXPECTED[kind])
        if typ.bounds is not None and not typ.bounds[0] <= value <= typ.bounds[1]:
            raise ConfigError(
                f"Parameter '{name or _NULL_NAME}' expects {_C_TYPE_NAME[typ.name]}"
            )
        return float(value) if kind == "number" else value

    def _uint64(self, value: Any, name: str | None) -> int:
        if _is_int(value) and 0 <= value <= UINT64_MAX:
            return value
        if _is_int(value) and _INT64_MIN <= value < 0:
            return value + (1 << 64)  # QEMU accepts negative values, wrapped
        raise ConfigError(f"Parameter '{self._full_name(name)}' expects uint64")

    def _enum(self, typ: EnumType, name: str | None) -> str:
        value = self._take(name)
        if not isinstance(value, str):
            raise self._type_error(name, "string")
        if value not in typ.values:
            raise ConfigError(
                f"Parameter '{name or _NULL_NAME}' does not accept value '{value}'"
            )
        return value

    def _object(self, typ: ObjectType, name: str | None) -> dict[str, Any]:
        value = self._take(name)
        if not isinstance(value, dict):
            raise self._type_error(name, "object")
        frame = _Frame(name, value)
        self._stack.append(frame)
        result: dict[str, Any] = {}
        self._members(typ, result)
        unexpected = first_unvisited(qdict_order(value), frame.visited)
        if unexpected is not None:
            raise ConfigError(f"Parameter '{self._full_name(unexpected)}' is unexpected")
        self._stack.pop()
        return result

    def _members(self, typ: ObjectType, result: dict[str, Any]) -> None:
        schema = typ.owner()
        for member in typ.members():
            if member.optional and member.name not in self._stack[-1].obj:
                continue
            member_type = schema.resolve(member.type_ref)
            result[member.name] = self.visit(member_type, member.name)
        if typ.discriminator is not None:
            branch = dict(typ.branch_list())[result[typ.discriminator]]
            self._members(schema.object_type(branch), result)

    def _array(self, typ: ArrayType, name: str | None) -> list[Any]:
        value = self._take(name)
        if not isinstance(value, list):
            raise self._type_error(name, "array")
        self._stack.append(_Frame(name, value))
        element = typ.owner().resolve(typ.element_ref)
        result = [self.visit(element, None) for _ in value]
        self._stack.pop()
        return result

    def _alternate(self, typ: AlternateType, name: str | None) -> Any:
        present, value = self._peek(name)
        if not present:
            raise ConfigError(f"Parameter '{self._full_name(name)}' is missing")
        for _, ref in typ.branches:
            branch = typ.owner().resolve(ref)
            if _json_kind(branch) == _json_kind_of_value(value):
                return self.visit(branch, name)
        raise invalid_parameter_type(name or _NULL_NAME, typ.name)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _matches(kind: str, value: Any) -> bool:
    if kind in ("int", "intN"):
        return _is_int(value) and _INT64_MIN <= value <= _INT64_MAX
    if kind == "number":
        return _is_int(value) or isinstance(value, float)
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    return value is None  # null


def _json_kind_of_value(value: Any) -> str:
    """QEMU's QType of a parsed JSON value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "num"
    if isinstance(value, str):
        return "str"
    if isinstance(value, dict):
        return "dict"
    if isinstance(value, list):
        return "list"
    return "null"


def _json_kind(typ: QapiType) -> str:
    """The QType an alternate branch of type ``typ`` takes."""
    if isinstance(typ, BuiltinType):
        return {"str": "str", "bool": "bool", "null": "null"}.get(typ.kind, "num")
    if isinstance(typ, EnumType):
        return "str"
    if isinstance(typ, ArrayType):
        return "list"
    return "dict"
