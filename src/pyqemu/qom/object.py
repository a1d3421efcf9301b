"""QOM, the QEMU Object Model: types, classes, objects and their properties.

A QOM type is a Python class with a ``TYPE`` name, registered with
:func:`register_type`.  Its QOM parent is its nearest registered base class;
its interfaces are its :class:`Interface` bases.  A minimal type::

    @register_type
    class MyDevice(DeviceState):
        TYPE = "my-device"

        @classmethod
        def class_init(cls) -> None:          # runs once, lazily, parents first
            cls.class_property_add_bool("fast", lambda o: o.fast, MyDevice._set_fast)

        def __init__(self) -> None:          # QEMU's instance_init
            super().__init__()
            self.fast = False

Registration only registers (through ``module_init(ModuleKind.QOM)``);
``class_init`` runs when the type is first used.  Objects are reference
counted like QEMU's: ``object_new`` gives one reference, a parent's
``child<>`` property holds another, and the last ``unref`` finalizes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from pyqemu.qom.property import (
    BOOL,
    NO_DEFAULT,
    STR,
    ObjectProperty,
    ValueKind,
)
from pyqemu.util.errors import ConfigError, NotFoundError
from pyqemu.util.module import ModuleKind, module_call_init, module_init, module_load_qom

ROOT_TYPE = "object"
INTERFACE_TYPE = "interface"
_AUTO_INDEX = "[*]"


@dataclass
class TypeImpl:
    """The registry's record of one QOM type (QEMU's ``TypeImpl``)."""

    name: str
    cls: type[Object] | type[Interface]
    parent: str | None
    abstract: bool
    interfaces: tuple[str, ...] = ()
    class_ready: bool = field(default=False, repr=False)


#: The type registry: filled when type modules are imported, never otherwise.
_types: dict[str, TypeImpl] = {}

C = TypeVar("C", bound=type)


def _qom_parent(cls: type) -> str | None:
    for base in cls.__mro__[1:]:
        name = base.__dict__.get("TYPE")
        if name is not None and (base is Object or base is Interface or name in _types):
            return name
    return None


def _qom_interfaces(cls: type) -> tuple[str, ...]:
    return tuple(
        base.__dict__["TYPE"]
        for base in cls.__mro__[1:]
        if issubclass(base, Interface) and base is not Interface and "TYPE" in base.__dict__
    )


def type_register(cls: type[Object] | type[Interface]) -> TypeImpl:
    """Add ``cls`` to the type registry now (``type_register_static``)."""
    name = cls.__dict__.get("TYPE")
    if not name:
        raise TypeError(f"{cls.__name__} has no TYPE of its own")
    if name in _types:
        raise TypeError(f"QOM type '{name}' is registered twice")
    impl = TypeImpl(
        name=name,
        cls=cls,
        parent=_qom_parent(cls),
        abstract=bool(cls.__dict__.get("ABSTRACT", False)),
        interfaces=_qom_interfaces(cls),
    )
    _types[name] = impl
    return impl


def register_type(cls: C) -> C:
    """Class decorator: register the QOM type at the next QOM module init."""
    module_init(ModuleKind.QOM)(lambda: type_register(cls))
    return cls


def type_lookup(name: str) -> TypeImpl | None:
    """Find a type by name, loading the module that provides it if needed."""
    module_call_init(ModuleKind.QOM)
    impl = _types.get(name)
    if impl is None and module_load_qom(name):
        impl = _types.get(name)
    return impl


def all_types() -> list[TypeImpl]:
    """Every registered type, in registration order (loaded modules only)."""
    module_call_init(ModuleKind.QOM)
    return list(_types.values())


def type_initialize(impl: TypeImpl) -> None:
    """Run ``class_init`` of the type and of its ancestors, parents first, once each."""
    if impl.class_ready:
        return
    cls = impl.cls
    if impl.parent is not None:
        parent = type_lookup(impl.parent)
        if parent is None:
            raise TypeError(f"QOM type '{impl.name}' has unknown parent '{impl.parent}'")
        type_initialize(parent)
    if issubclass(cls, Object):
        inherited: dict[str, ObjectProperty] = {}
        for base in reversed(cls.__mro__[1:]):
            inherited.update(base.__dict__.get("_class_props", {}))
        cls._class_props = {}
        cls._inherited_props = inherited
        own_init = cls.__dict__.get("class_init")
        if own_init is not None:
            own_init.__func__(cls)
    impl.class_ready = True


def object_class_by_name(name: str) -> type[Object] | None:
    """The initialized class of a concrete or abstract object type, or None."""
    impl = type_lookup(name)
    if impl is None or not issubclass(impl.cls, Object):
        return None
    type_initialize(impl)
    return impl.cls


def concrete_class(name: str, base: type[C]) -> C | None:
    """The class of type ``name`` if it exists, is not abstract and derives from ``base``; else None."""
    impl = type_lookup(name)
    if impl is None or impl.abstract or not issubclass(impl.cls, base):
        return None
    return impl.cls


def type_is_a(name: str, ancestor: str) -> bool:
    """True if type ``name`` is ``ancestor`` or derives from or implements it."""
    impl = type_lookup(name)
    while impl is not None:
        if impl.name == ancestor or ancestor in impl.interfaces:
            return True
        impl = type_lookup(impl.parent) if impl.parent else None
    return False


def object_class_get_list(implements: str | None = None, include_abstract: bool = False) -> list[TypeImpl]:
    """The types implementing ``implements`` (all if None), as ``qom-list-types`` lists them."""
    return [
        impl
        for impl in all_types()
        if (include_abstract or not impl.abstract)
        and (implements is None or type_is_a(impl.name, implements))
    ]


class Interface:
    """Base of QOM interface types: abstract markers a class implements by inheriting."""

    TYPE: ClassVar[str] = INTERFACE_TYPE
    ABSTRACT: ClassVar[bool] = True


class Object:
    """Base of every QOM object (type ``object``)."""

    TYPE: ClassVar[str] = ROOT_TYPE
    ABSTRACT: ClassVar[bool] = False
    _class_props: ClassVar[dict[str, ObjectProperty]] = {}
    _inherited_props: ClassVar[dict[str, ObjectProperty]] = {}

    @classmethod
    def class_init(cls) -> None:
        cls.class_property_add(
            "type", STR, get=lambda obj: obj.typename, type="string"
        )

    def __init__(self) -> None:
        impl = type_lookup(type(self).__dict__.get("TYPE", ""))
        if impl is None or impl.cls is not type(self):
            raise TypeError(f"{type(self).__name__} is not a registered QOM type")
        type_initialize(impl)
        self.properties: dict[str, ObjectProperty] = {}
        self.parent: Object | None = None
        self.name_in_parent: str | None = None
        self.refcount = 1

    # -- class properties ------------------------------------------------

    @classmethod
    def class_property_add(
        cls,
        name: str,
        kind: ValueKind,
        get: Callable[[Any], Any] | None = None,
        set: Callable[[Any, Any], None] | None = None,
        *,
        type: str | None = None,
        description: str | None = None,
        default: Any = NO_DEFAULT,
    ) -> ObjectProperty:
        """Declare a property of every instance of this class (call from class_init)."""
        if name in cls._class_props or name in cls._inherited_props:
            raise TypeError(f"duplicate class property '{name}' in {cls.TYPE}")
        prop = ObjectProperty(
            name, type or kind.qom_type, kind, get, set, description, default
        )
        cls._class_props[name] = prop
        return prop

    @classmethod
    def class_property_add_bool(
        cls, name: str, get: Callable[[Any], bool], set: Callable[[Any, bool], None] | None = None,
        *, description: str | None = None,
    ) -> ObjectProperty:
        """Declare a boolean class property."""
        return cls.class_property_add(name, BOOL, get, set, description=description)

    @classmethod
    def class_properties(cls) -> list[ObjectProperty]:
        """Class properties in ``qom-list`` order: root class first."""
        return [*cls._inherited_props.values(), *cls._class_props.values()]

    @classmethod
    def class_property_find(cls, name: str) -> ObjectProperty | None:
        return cls._class_props.get(name) or cls._inherited_props.get(name)

    # -- identity ---------------------------------------------------------

    @property
    def typename(self) -> str:
        return type(self).TYPE

    def is_a(self, typename: str) -> bool:
        """``object_dynamic_cast`` as a test: is this object of (or implementing) ``typename``?"""
        impl = type_lookup(typename)
        return impl is not None and isinstance(self, impl.cls)

    # -- instance properties ---------------------------------------------

    def property_add(self, prop: ObjectProperty) -> ObjectProperty:
        """Add an instance property; ``name[*]`` picks the first free ``name[N]``."""
        if prop.name.endswith(_AUTO_INDEX):
            stem = prop.name[: -len(_AUTO_INDEX)]
            index = 0
            while self.property_find(f"{stem}[{index}]") is not None:
                index += 1
            prop.name = f"{stem}[{index}]"
        elif self.property_find(prop.name) is not None:
            raise ConfigError(
                f"attempt to add duplicate property '{prop.name}' to object (type '{self.typename}')"
            )
        self.properties[prop.name] = prop
        return prop

    def property_find(self, name: str) -> ObjectProperty | None:
        return type(self).class_property_find(name) or self.properties.get(name)

    def property_get_info(self, name: str) -> ObjectProperty:
        """The property ``name``, or QEMU's "not found" error."""
        prop = self.property_find(name)
        if prop is None:
            raise ConfigError(f"Property '{self.typename}.{name}' not found")
        return prop

    def property_del(self, name: str) -> None:
        prop = self.properties.pop(name)
        if prop.release is not None:
            prop.release(self)

    def iter_properties(self) -> Iterator[ObjectProperty]:
        """All properties in ``qom-list`` order: classes root first, then the newest instance ones."""
        yield from type(self).class_properties()
        yield from reversed(list(self.properties.values()))

    def property_get(self, name: str) -> Any:
        """The JSON value of property ``name`` (``qom-get``)."""
        prop = self.property_get_info(name)
        if prop.get is None:
            raise ConfigError(f"Property '{self.typename}.{name}' is not readable")
        return prop.kind.to_json(prop.get(self))

    def property_set(self, name: str, value: Any) -> None:
        """Set property ``name`` from a JSON value (``qom-set``, QMP arguments)."""
        prop = self._writable(name)
        assert prop.set is not None
        prop.set(self, prop.kind.from_json(value, name))

    def property_parse(self, name: str, text: str | dict[str, Any]) -> None:
        """Set property ``name`` from command-line text, or a keyval dict for a struct."""
        prop = self._writable(name)
        assert prop.set is not None
        prop.set(self, prop.kind.from_keyval(text, name))

    def property_parse_string(self, name: str, text: str) -> None:
        """Set property ``name`` from text as QEMU's ``object_property_parse`` reads it (``-global``)."""
        prop = self._writable(name)
        assert prop.set is not None
        prop.set(self, prop.kind.from_string_visitor(text, name))

    def _writable(self, name: str) -> ObjectProperty:
        prop = self.property_get_info(name)
        if prop.set is None:
            raise ConfigError(f"Property '{self.typename}.{name}' is not writable")
        return prop

    # -- the composition tree ------------------------------------------------

    def add_child(self, name: str, child: Object) -> Object:
        """Make ``child`` a child of this object under ``name`` (``name[*]`` numbers it)."""
        if child.parent is not None:
            raise ConfigError(f"object '{child.typename}' already has a parent")
        prop = self.property_add(
            ObjectProperty(
                name,
                f"child<{child.typename}>",
                STR,
                get=lambda _obj: child.canonical_path(),
                release=lambda _obj: _release_child(child),
                child=child,
            )
        )
        child.parent = self
        child.name_in_parent = prop.name
        child.ref()
        return child

    def children(self) -> Iterator[Object]:
        """The direct children, oldest first."""
        for prop in self.properties.values():
            if prop.child is not None:
                yield prop.child

    def child(self, name: str) -> Object | None:
        prop = self.property_find(name)
        return prop.child if prop is not None else None

    def add_link(
        self,
        name: str,
        target_type: str,
        get: Callable[[], Object | None],
        set: Callable[[Object | None], None] | None = None,
    ) -> ObjectProperty:
        """Add a ``link<target_type>`` property whose value is a path in the tree."""
        from pyqemu.qom.path import resolve_link

        def set_path(obj: Object, path: str) -> None:
            assert set is not None
            set(resolve_link(obj.root(), path, name, target_type) if path else None)

        return self.property_add(
            ObjectProperty(
                name,
                f"link<{target_type}>",
                STR,
                get=lambda _obj: _path_or_empty(get()),
                set=set_path if set is not None else None,
                link_target=target_type,
            )
        )

    def add_alias(self, name: str, target: Object, target_name: str) -> ObjectProperty:
        """A property that reads and writes ``target``'s ``target_name`` (``object_property_add_alias``)."""
        prop = target.property_get_info(target_name)
        getter, setter = prop.get, prop.set
        return self.property_add(
            ObjectProperty(
                name, prop.type, prop.kind,
                get=None if getter is None else lambda _obj: getter(target),
                set=None if setter is None else lambda _obj, value: setter(target, value),
                description=prop.description, default=prop.default, alias_of=(target, target_name),
            )
        )

    def resolve_alias(self, name: str) -> tuple[Object, str]:
        """The object and property name that ``name`` finally stands for (itself if not an alias)."""
        obj, prop = self, self.property_find(name)
        while prop is not None and prop.alias_of is not None:
            obj, name = prop.alias_of
            prop = obj.property_find(name)
        return obj, name

    def root(self) -> Object:
        obj = self
        while obj.parent is not None:
            obj = obj.parent
        return obj

    def canonical_path(self) -> str:
        """The absolute path of this object, ``/`` for the root (QEMU's canonical path)."""
        parts: list[str] = []
        obj: Object | None = self
        while obj is not None and obj.parent is not None:
            assert obj.name_in_parent is not None
            parts.append(obj.name_in_parent)
            obj = obj.parent
        return "/" + "/".join(reversed(parts))

    def unparent(self) -> None:
        """Remove this object from its parent; finalized once nothing holds it."""
        if self.parent is not None and self.name_in_parent is not None:
            self.parent.property_del(self.name_in_parent)

    # -- lifetime -------------------------------------------------------

    def ref(self) -> None:
        self.refcount += 1

    def unref(self) -> None:
        self.refcount -= 1
        if self.refcount == 0:
            self.finalize()

    def finalize(self) -> None:
        """Release every instance property (children first); subclasses extend it."""
        for name in list(reversed(self.properties)):
            self.property_del(name)


def _release_child(child: Object) -> None:
    child.parent = None
    child.name_in_parent = None
    child.unref()


def _path_or_empty(obj: Object | None) -> str:
    return obj.canonical_path() if obj is not None else ""


T = TypeVar("T", bound=Object)


def object_new(typename: str) -> Object:
    """Create an object of the concrete type ``typename`` (``object_new``)."""
    impl = type_lookup(typename)
    if impl is None or not issubclass(impl.cls, Object):
        raise NotFoundError(f"Class '{typename}' not found")
    if impl.abstract:
        raise ConfigError(f"Object type '{typename}' is abstract")
    return impl.cls()


def type_properties(typename: str, skip: frozenset[str] = frozenset()) -> list[ObjectProperty]:
    """Properties of a type as ``qom-list-properties`` and ``-device X,help`` list them.

    For a concrete type an instance is made and dropped, so instance
    properties show too, as QEMU does; an abstract type shows its class ones.
    """
    impl = type_lookup(typename)
    assert impl is not None and issubclass(impl.cls, Object)
    type_initialize(impl)
    if impl.abstract:
        props = impl.cls.class_properties()
    else:
        obj = object_new(typename)
        props = list(obj.iter_properties())
        obj.unref()
    return [p for p in props if p.name not in skip]


@register_type
class Container(Object):
    """A plain node of the composition tree: ``/machine/peripheral``, ``/objects`` …"""

    TYPE = "container"




def container_get(root: Object, path: str) -> Object:
    """The object at absolute ``path`` below ``root``, creating missing containers."""
    obj = root
    for part in filter(None, path.split("/")):
        child = obj.child(part)
        if child is None:
            child = Container()
            obj.add_child(part, child)
            child.unref()
        obj = child
    return obj


register_type(Object)
register_type(Interface)
