"""Declaring QMP commands, events and their types: our own small QAPI.

A declaration is the single source of truth for a command: argument
checking (:mod:`.input_visitor`), error replies, ``query-commands`` and
``query-qmp-schema`` (:mod:`.introspect`) all derive from it.  Modules
declare at import time into a :class:`Schema`; :data:`SCHEMA` is the
process-wide registry, and tests build their own.

Types are named by *references*, written as in QAPI's JSON schema:

* ``"str"``, ``"int"``, ``"uint8"``, ``"size"``, ``"any"`` ... a built-in
  type (:data:`BUILTIN_TYPES`), or the name of a declared type;
* ``["T"]``: an array of T.

Members are an ordered dict ``{name: ref}``; a leading ``*`` makes a member
optional (``{"*force": "bool"}``) and the long form
``{"name": {"type": ref, "features": ["deprecated"]}}`` adds features.
References are resolved lazily, so declaration order does not matter;
:meth:`Schema.check` resolves everything at once (tests call it).

Example::

    SCHEMA.enum("RunState", ["prelaunch", "running", "paused"])
    SCHEMA.struct("StatusInfo", {"running": "bool", "status": "RunState"})

    @SCHEMA.command("query-status", returns="StatusInfo", allow_preconfig=True)
    def qmp_query_status(ctx): ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

TypeRef = str | list[str]
MemberSpec = TypeRef | Mapping[str, Any]
Members = Mapping[str, MemberSpec]
Handler = TypeVar("Handler", bound=Callable[..., Any])
AnyType = TypeVar("AnyType", bound="QapiType")

OPTIONAL_PREFIX = "*"
EMPTY_OBJECT = "q_empty"  # QEMU's name for the object with no members

# name -> (JSON type in introspection, check kind, bounds).
BUILTIN_TYPES: dict[str, tuple[str, str, tuple[int, int] | None]] = {
    "str": ("string", "str", None),
    "number": ("number", "number", None),
    "bool": ("boolean", "bool", None),
    "null": ("null", "null", None),
    "any": ("value", "any", None),
    "int": ("int", "int", None),
    "int64": ("int", "int", None),
    "int8": ("int", "intN", (-(1 << 7), (1 << 7) - 1)),
    "int16": ("int", "intN", (-(1 << 15), (1 << 15) - 1)),
    "int32": ("int", "intN", (-(1 << 31), (1 << 31) - 1)),
    "uint64": ("int", "uint64", None),
    "size": ("int", "uint64", None),
    "uint8": ("int", "uintN", (0, (1 << 8) - 1)),
    "uint16": ("int", "uintN", (0, (1 << 16) - 1)),
    "uint32": ("int", "uintN", (0, (1 << 32) - 1)),
}


class SchemaError(Exception):
    """A declaration is wrong (a programming error, never a user error)."""


@dataclass(eq=False)
class QapiType:
    """Base of every type; ``name`` is unique within a schema."""

    name: str
    features: tuple[str, ...] = ()
    schema: Schema | None = field(default=None, repr=False)

    def owner(self) -> Schema:
        """The schema this type was declared in (resolves its references)."""
        assert self.schema is not None, f"{self.name} is not in a schema"
        return self.schema


@dataclass(eq=False)
class BuiltinType(QapiType):
    """A built-in scalar (or ``any``)."""

    json_type: str = "value"
    kind: str = "any"  # how the input visitor checks it
    bounds: tuple[int, int] | None = None  # for int8..uint32


@dataclass(eq=False)
class EnumType(QapiType):
    """A string from a fixed set; ``value_features`` maps a value to its features."""

    values: tuple[str, ...] = ()
    value_features: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(eq=False)
class Member:
    """A member of an object type."""

    name: str
    type_ref: TypeRef
    optional: bool = False
    features: tuple[str, ...] = ()


@dataclass(eq=False)
class ObjectType(QapiType):
    """A struct, or a union when ``discriminator`` is set.

    A union's branches map discriminator values to struct names; values
    without a branch have no further members.
    """

    base: str | None = None
    own_members: tuple[Member, ...] = ()
    discriminator: str | None = None
    branches: Mapping[str, str] = field(default_factory=dict)

    def members(self) -> list[Member]:
        """All members, the base's first (as QEMU visits them)."""
        inherited = self.owner().object_type(self.base).members() if self.base else []
        return [*inherited, *self.own_members]

    def branch_list(self) -> list[tuple[str, str]]:
        """(value, struct) per discriminator value: declared ones, then the rest empty."""
        tag = next(m for m in self.members() if m.name == self.discriminator)
        tag_type = self.owner().resolve(tag.type_ref)
        assert isinstance(tag_type, EnumType)
        rest = [(v, EMPTY_OBJECT) for v in tag_type.values if v not in self.branches]
        return [*self.branches.items(), *rest]


@dataclass(eq=False)
class ArrayType(QapiType):
    """A JSON array of one element type."""

    element_ref: str = "any"


@dataclass(eq=False)
class AlternateType(QapiType):
    """One of several types, told apart by the JSON type of the value."""

    branches: tuple[tuple[str, str], ...] = ()  # (branch name, type reference)


@dataclass(eq=False)
class Command:
    """A QMP command: its arguments, result, flags and handler.

    ``raw_arguments`` hands the arguments object to the handler unchecked
    (QEMU's ``'gen': false``, as for ``device_add``); ``arguments`` then only
    documents the known ones for introspection.
    """

    name: str
    arguments: ObjectType
    returns: TypeRef | None = None
    allow_oob: bool = False
    allow_preconfig: bool = False
    allow_init_config: bool = False
    success_response: bool = True
    raw_arguments: bool = False
    features: tuple[str, ...] = ()
    handler: Callable[..., Any] | None = None


@dataclass(eq=False)
class Event:
    """A QMP event and the members of its ``data``."""

    name: str
    data: ObjectType
    features: tuple[str, ...] = ()


class Schema:
    """A registry of types, commands and events (in declaration order)."""

    def __init__(self) -> None:
        self.types: dict[str, QapiType] = {}
        self.commands: dict[str, Command] = {}
        self.events: dict[str, Event] = {}
        self.entities: list[Command | Event] = []  # both, in declaration order
        self._arrays: dict[str, ArrayType] = {}
        for name, (json_type, kind, bounds) in BUILTIN_TYPES.items():
            self._add(BuiltinType(name, (), None, json_type, kind, bounds))
        self._add(ObjectType(EMPTY_OBJECT))

    # -- declarations -------------------------------------------------------

    def enum(
        self,
        name: str,
        values: Iterable[str],
        *,
        features: Sequence[str] = (),
        value_features: Mapping[str, Sequence[str]] | None = None,
    ) -> EnumType:
        """Declare an enum."""
        value_features = {k: tuple(v) for k, v in (value_features or {}).items()}
        return self._add(EnumType(name, tuple(features), None, tuple(values), value_features))

    def struct(
        self, name: str, members: Members, *, base: str | None = None,
        features: Sequence[str] = (),
    ) -> ObjectType:
        """Declare a struct, optionally extending struct ``base``."""
        return self._add(self._object(name, members, base=base, features=features))

    def union(
        self, name: str, *, base: str | Members, discriminator: str,
        branches: Mapping[str, str], features: Sequence[str] = (),
    ) -> ObjectType:
        """Declare a union: ``base`` (a struct name or inline members) holds enum
        member ``discriminator``; ``branches`` maps its values to struct names."""
        if not isinstance(base, str):
            base = self.struct(f"q_obj_{name}-base", base).name
        obj = ObjectType(
            name, tuple(features), base=base, discriminator=discriminator,
            branches=dict(branches),
        )
        return self._add(obj)

    def alternate(
        self, name: str, branches: Mapping[str, str], *, features: Sequence[str] = ()
    ) -> AlternateType:
        """Declare an alternate: ``branches`` maps branch names to type references."""
        return self._add(AlternateType(name, tuple(features), None, tuple(branches.items())))

    def command(
        self,
        name: str,
        *,
        arguments: str | Members | None = None,
        returns: TypeRef | None = None,
        allow_oob: bool = False,
        allow_preconfig: bool = False,
        allow_init_config: bool = False,
        success_response: bool = True,
        raw_arguments: bool = False,
        features: Sequence[str] = (),
    ) -> Callable[[Handler], Handler]:
        """Decorator: declare command ``name`` with the decorated function as handler.

        ``arguments`` is a struct or union name, or inline members.
        """

        def register(handler: Handler) -> Handler:
            if name in self.commands:
                raise SchemaError(f"command {name} declared twice")
            cmd = Command(
                name=name,
                arguments=self._arguments(name, arguments),
                returns=returns,
                allow_oob=allow_oob,
                allow_preconfig=allow_preconfig,
                allow_init_config=allow_init_config,
                success_response=success_response,
                raw_arguments=raw_arguments,
                features=tuple(features),
                handler=handler,
            )
            self.commands[name] = cmd
            self.entities.append(cmd)
            return handler

        return register

    def event(
        self, name: str, data: str | Members | None = None, *, features: Sequence[str] = ()
    ) -> Event:
        """Declare event ``name``; ``data`` is a struct name or inline members."""
        if name in self.events:
            raise SchemaError(f"event {name} declared twice")
        event = Event(name, self._arguments(name, data), tuple(features))
        self.events[name] = event
        self.entities.append(event)
        return event

    # -- lookup ---------------------------------------------------------------

    def resolve(self, ref: TypeRef) -> QapiType:
        """The type a reference names."""
        if isinstance(ref, list):
            if len(ref) != 1 or not isinstance(ref[0], str):
                raise SchemaError(f"bad array reference {ref!r}")
            return self._array(ref[0])
        try:
            return self.types[ref]
        except KeyError:
            raise SchemaError(f"unknown type {ref!r}") from None

    def object_type(self, name: str) -> ObjectType:
        """The struct or union called ``name``."""
        typ = self.resolve(name)
        if not isinstance(typ, ObjectType):
            raise SchemaError(f"{name} is not a struct or union")
        return typ

    def check(self) -> None:
        """Resolve every reference now; raise SchemaError on the first bad one."""
        for typ in list(self.types.values()):
            self._check_type(typ)
        for cmd in self.commands.values():
            self._check_type(cmd.arguments)
            if cmd.returns is not None:
                self.resolve(cmd.returns)
        for event in self.events.values():
            self._check_type(event.data)

    # -- helpers --------------------------------------------------------------

    def _add(self, typ: AnyType) -> AnyType:
        if typ.name in self.types:
            raise SchemaError(f"type {typ.name} declared twice")
        typ.schema = self
        self.types[typ.name] = typ
        return typ

    def _object(
        self, name: str, members: Members, *, base: str | None = None,
        features: Sequence[str] = (),
    ) -> ObjectType:
        return ObjectType(
            name, tuple(features), base=base,
            own_members=tuple(_member(key, spec) for key, spec in members.items()),
        )

    def _arguments(self, owner: str, spec: str | Members | None) -> ObjectType:
        if spec is None:
            return self.object_type(EMPTY_OBJECT)
        if isinstance(spec, str):
            return self.object_type(spec)
        return self._add(self._object(f"q_obj_{owner}-arg", spec))

    def array_of(self, element: str) -> ArrayType:
        """The array type of ``element`` (one object per element type)."""
        return self._array(element)

    def _array(self, element: str) -> ArrayType:
        if element not in self._arrays:
            self.resolve(element)
            self._arrays[element] = ArrayType(f"{element}List", (), self, element)
        return self._arrays[element]

    def _check_type(self, typ: QapiType) -> None:
        if isinstance(typ, ObjectType):
            for member in typ.members():
                self.resolve(member.type_ref)
            if typ.discriminator is not None:
                self._check_union(typ)
        elif isinstance(typ, ArrayType):
            self.resolve(typ.element_ref)
        elif isinstance(typ, AlternateType):
            for _, ref in typ.branches:
                self.resolve(ref)

    def _check_union(self, union: ObjectType) -> None:
        tag = [m for m in union.members() if m.name == union.discriminator]
        if len(tag) != 1 or tag[0].optional or not isinstance(
            self.resolve(tag[0].type_ref), EnumType
        ):
            raise SchemaError(f"{union.name}: discriminator must be a required enum member")
        for value, struct in union.branch_list():
            self.object_type(struct)
            if value not in self.resolve(tag[0].type_ref).values:  # type: ignore[attr-defined]
                raise SchemaError(f"{union.name}: branch {value} is not a discriminator value")


def _member(key: str, spec: MemberSpec) -> Member:
    optional = key.startswith(OPTIONAL_PREFIX)
    name = key.removeprefix(OPTIONAL_PREFIX)
    if isinstance(spec, Mapping):
        return Member(name, spec["type"], optional, tuple(spec.get("features", ())))
    return Member(name, spec, optional)


SCHEMA = Schema()
"""The process-wide registry that pyqemu's monitor modules declare into."""

enum = SCHEMA.enum
struct = SCHEMA.struct
union = SCHEMA.union
alternate = SCHEMA.alternate
command = SCHEMA.command
event = SCHEMA.event
