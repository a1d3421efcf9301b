"""``query-qmp-schema`` and ``query-commands`` output, derived from a Schema.

QEMU 7.2's introspection (``SchemaInfo``) lists every command and event in
declaration order, then every type they reach, in order of first use.
Observed facts it follows:

* type names are hidden: each non-builtin type is numbered in order of
  first use (``"0"``, ``"1"`` ...); builtins keep their names; an array is
  ``"[" + element + "]"`` (``"[str]"``, ``"[12]"``) and comes just before
  its element;
* every integer type (``int8``...``uint64``, ``size``) shows as ``int``, and
  arrays of them as ``[int]``; only the builtins in use are listed;
* a command or event without arguments, or a command without result, uses
  the empty object type (the first number, usually ``"0"``);
* commands have ``arg-type`` and ``ret-type``, plus ``"allow-oob": true``
  when set; ``allow-preconfig`` (and our ``allow-init-config``) are not shown;
* object members have ``name`` and ``type``, ``"default": null`` when
  optional, ``features`` when any; a union adds ``tag`` and ``variants``
  (``case``/``type``), values without a branch pointing at the empty object;
* enums list ``members`` (``name``, ``features``) and ``values``;
  alternates list ``members`` of ``{"type": ...}``;
* ``features`` appear on any entry only when non-empty.
"""

from __future__ import annotations

from typing import Any

from pyqemu.qapi.schema import (
    EMPTY_OBJECT,
    AlternateType,
    ArrayType,
    BuiltinType,
    Command,
    EnumType,
    Member,
    ObjectType,
    QapiType,
    Schema,
)

INT_JSON_TYPE = "int"


def query_commands(schema: Schema) -> list[dict[str, str]]:
    """``query-commands``: QEMU lists the most recently registered command first."""
    return [{"name": name} for name in reversed(schema.commands)]


def query_qmp_schema(schema: Schema) -> list[dict[str, Any]]:
    """``query-qmp-schema``: the SchemaInfo list for every command and event."""
    return _Introspector(schema).run()


def _with_features(entry: dict[str, Any], features: tuple[str, ...]) -> dict[str, Any]:
    if features:
        entry["features"] = list(features)
    return entry


class _Introspector:
    def __init__(self, schema: Schema):
        self._schema = schema
        self._numbers: dict[str, str] = {}
        self._used: list[QapiType] = []

    def run(self) -> list[dict[str, Any]]:
        entries = [self._entity(entity) for entity in self._schema.entities]
        index = 0
        while index < len(self._used):  # grows while types are described
            entries.append(self._type(self._used[index]))
            index += 1
        return entries

    def _number(self, name: str) -> str:
        return self._numbers.setdefault(name, str(len(self._numbers)))

    def _json_type(self, typ: QapiType) -> str:
        if isinstance(typ, BuiltinType):
            return typ.json_type
        return "array" if isinstance(typ, ArrayType) else "other"

    def _use(self, typ: QapiType) -> str:
        """Reference ``typ`` in the output: queue it, and return its (hidden) name."""
        if self._json_type(typ) == INT_JSON_TYPE:
            typ = self._schema.resolve(INT_JSON_TYPE)
        elif isinstance(typ, ArrayType):
            element = self._schema.resolve(typ.element_ref)
            if self._json_type(element) == INT_JSON_TYPE:
                typ = self._schema.array_of(INT_JSON_TYPE)
        if all(used is not typ for used in self._used):
            self._used.append(typ)
        if isinstance(typ, BuiltinType):
            return typ.name
        if isinstance(typ, ArrayType):
            return "[" + self._use(self._schema.resolve(typ.element_ref)) + "]"
        return self._number(typ.name)

    def _use_ref(self, ref: Any) -> str:
        return self._use(self._schema.resolve(ref))

    def _entity(self, entity: Any) -> dict[str, Any]:
        if isinstance(entity, Command):
            empty = self._schema.object_type(EMPTY_OBJECT)
            entry: dict[str, Any] = {"arg-type": self._use(entity.arguments)}
            entry["ret-type"] = (
                self._use(empty) if entity.returns is None else self._use_ref(entity.returns)
            )
            if entity.allow_oob:
                entry["allow-oob"] = True
            meta = "command"
        else:
            entry = {"arg-type": self._use(entity.data)}
            meta = "event"
        entry |= {"name": entity.name, "meta-type": meta}
        return _with_features(entry, entity.features)

    def _type(self, typ: QapiType) -> dict[str, Any]:
        if isinstance(typ, BuiltinType):
            return {"json-type": typ.json_type, "name": typ.name, "meta-type": "builtin"}
        if isinstance(typ, ArrayType):
            element = self._use_ref(typ.element_ref)
            return {"element-type": element, "name": f"[{element}]", "meta-type": "array"}
        if isinstance(typ, EnumType):
            entry = self._enum(typ)
        elif isinstance(typ, ObjectType):
            entry = self._object(typ)
        else:
            assert isinstance(typ, AlternateType)
            entry = {"members": [{"type": self._use_ref(ref)} for _, ref in typ.branches],
                     "meta-type": "alternate"}
        entry["name"] = self._number(typ.name)
        return _with_features(entry, typ.features)

    def _enum(self, typ: EnumType) -> dict[str, Any]:
        members = [_with_features({"name": value}, typ.value_features.get(value, ()))
                   for value in typ.values]
        return {"members": members, "values": list(typ.values), "meta-type": "enum"}

    def _object(self, typ: ObjectType) -> dict[str, Any]:
        entry: dict[str, Any] = {"members": [self._member(m) for m in typ.members()]}
        if typ.discriminator is not None:
            entry["tag"] = typ.discriminator
            entry["variants"] = [{"case": value, "type": self._use_ref(struct)}
                                 for value, struct in typ.branch_list()]
        entry["meta-type"] = "object"
        return entry

    def _member(self, member: Member) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": member.name, "type": self._use_ref(member.type_ref)}
        if member.optional:
            entry["default"] = None
        return _with_features(entry, member.features)
