"""QOM: registration, lazy class init, inheritance, interfaces, properties, paths, lifetime."""

from __future__ import annotations

import pytest

from pyqemu.hw.core.qdev import DeviceState
from pyqemu.qom import object as qom
from pyqemu.qom.object import (
    Container,
    Interface,
    Object,
    container_get,
    object_class_get_list,
    object_new,
    register_type,
    type_is_a,
)
from pyqemu.qom.path import resolve_path
from pyqemu.qom.property import INT32, UINT8, ObjectProperty, enum_kind
from pyqemu.util.errors import ConfigError, NotFoundError

CALLS: list[str] = []


@register_type
class Walker(Interface):
    TYPE = "test-walker"


@register_type
class Animal(Object):
    TYPE = "test-animal"
    ABSTRACT = True

    @classmethod
    def class_init(cls) -> None:
        CALLS.append("animal")
        cls.class_property_add("legs", UINT8, lambda o: o.legs, Animal._set_legs, default=4)

    def __init__(self) -> None:
        super().__init__()
        self.legs = 4

    def _set_legs(self, value: int) -> None:
        self.legs = value


@register_type
class Dog(Animal, Walker):
    TYPE = "test-dog"

    @classmethod
    def class_init(cls) -> None:
        CALLS.append("dog")
        cls.class_property_add(
            "mood", enum_kind("TestMood", ["happy", "sad"]), lambda o: o.mood,
            lambda o, v: setattr(o, "mood", v),
        )
        cls.class_property_add("offset", INT32, lambda o: o.offset, lambda o, v: setattr(o, "offset", v))

    def __init__(self) -> None:
        super().__init__()
        self.mood = "happy"
        self.offset = 0


@register_type
class Gadget(DeviceState):
    TYPE = "test-gadget"

    def __init__(self) -> None:
        super().__init__()
        self.fail = False
        self.events: list[str] = []

    def realize(self) -> None:
        if self.fail:
            raise ConfigError("gadget refuses")
        self.events.append("realize")

    def unrealize(self) -> None:
        self.events.append("unrealize")


def test_class_init_is_lazy_and_runs_parents_first() -> None:
    CALLS.clear()
    object_new("test-dog")
    assert CALLS == ["animal", "dog"]
    object_new("test-dog")
    assert CALLS == ["animal", "dog"]


def test_type_hierarchy_and_interfaces() -> None:
    dog = object_new("test-dog")
    assert dog.is_a("test-animal") and dog.is_a("object") and dog.is_a("test-walker")
    assert not dog.is_a("container")
    assert type_is_a("test-dog", "test-walker")
    impl = qom.type_lookup("test-dog")
    assert impl is not None and impl.parent == "test-animal" and impl.interfaces == ("test-walker",)
    names = {t.name for t in object_class_get_list("test-animal", include_abstract=True)}
    assert names == {"test-animal", "test-dog"}
    assert {t.name for t in object_class_get_list("test-animal")} == {"test-dog"}


def test_abstract_and_unknown_types_cannot_be_created() -> None:
    with pytest.raises(ConfigError, match="abstract"):
        object_new("test-animal")
    with pytest.raises(NotFoundError, match="Class 'nope' not found"):
        object_new("nope")


def test_properties_typed_from_json_and_text() -> None:
    dog = object_new("test-dog")
    dog.property_set("legs", 3)
    assert dog.property_get("legs") == 3
    dog.property_parse("legs", "0x5")
    assert dog.legs == 5
    with pytest.raises(ConfigError, match=r"^Parameter 'legs' expects uint8_t$"):
        dog.property_set("legs", 256)
    with pytest.raises(ConfigError, match=r"^Invalid parameter type for 'legs', expected: integer$"):
        dog.property_set("legs", "3")
    with pytest.raises(ConfigError, match=r"^Parameter 'legs' expects integer$"):
        dog.property_parse("legs", "three")
    dog.property_parse("offset", "-7")
    assert dog.offset == -7
    with pytest.raises(ConfigError, match="does not accept value 'angry'"):
        dog.property_parse("mood", "angry")
    with pytest.raises(ConfigError, match=r"^Property 'test-dog.fur' not found$"):
        dog.property_set("fur", 1)
    with pytest.raises(ConfigError, match=r"^Property 'test-dog.type' is not writable$"):
        dog.property_set("type", "cat")
    assert dog.property_get("type") == "test-dog"


def test_property_order_and_describe() -> None:
    dog = object_new("test-dog")
    dog.property_add(ObjectProperty("first", "string"))
    dog.property_add(ObjectProperty("second", "string"))
    names = [p.name for p in dog.iter_properties()]
    assert names == ["type", "legs", "mood", "offset", "second", "first"]
    assert type(dog).class_property_find("legs").describe() == {  # type: ignore[union-attr]
        "name": "legs", "type": "uint8", "default-value": 4,
    }


def test_children_paths_and_auto_index() -> None:
    root = Container()
    machine = container_get(root, "/machine/unattached")
    a, b = object_new("test-dog"), object_new("test-dog")
    machine.add_child("device[*]", a)
    machine.add_child("device[*]", b)
    assert a.canonical_path() == "/machine/unattached/device[0]"
    assert b.canonical_path() == "/machine/unattached/device[1]"
    assert resolve_path(root, "//machine//unattached/device[1]/") == (b, False)
    assert resolve_path(root, "device[0]") == (a, False)
    assert resolve_path(root, "unattached/device[0]") == (a, False)
    assert resolve_path(root, "") == (None, True)
    assert resolve_path(root, "/nothere") == (None, False)
    assert resolve_path(root, "device[0]", "container") == (None, False)
    assert root.property_get("machine") == "/machine"
    with pytest.raises(ConfigError, match="duplicate property 'device\\[0\\]'"):
        machine.add_child("device[0]", object_new("test-dog"))


def test_links_resolve_with_type_checks() -> None:
    root = Container()
    peripheral = container_get(root, "/machine/peripheral")
    dog = object_new("test-dog")
    peripheral.add_child("rex", dog)
    holder = object_new("test-dog")
    root.add_child("holder", holder)
    target: list[Object | None] = [None]
    holder.add_link("friend", "test-animal", lambda: target[0], lambda v: target.__setitem__(0, v))
    holder.property_set("friend", "rex")
    assert target[0] is dog and holder.property_get("friend") == "/machine/peripheral/rex"
    assert resolve_path(root, "/holder/friend") == (dog, False)
    with pytest.raises(ConfigError, match="expected: test-animal"):
        holder.property_set("friend", "/machine")
    with pytest.raises(NotFoundError, match="Device 'nobody' not found"):
        holder.property_set("friend", "nobody")
    holder.property_set("friend", "")
    assert target[0] is None and holder.property_get("friend") == ""


def test_unparent_finalizes_subtree() -> None:
    finalized: list[str] = []

    root = Container()
    box = container_get(root, "/box")
    inner = container_get(root, "/box/inner")
    for obj, name in ((box, "box"), (inner, "inner")):
        orig = obj.finalize
        obj.finalize = lambda o=orig, n=name: (finalized.append(n), o())  # type: ignore[method-assign]
    box.unparent()
    assert finalized == ["box", "inner"]
    assert root.child("box") is None and inner.parent is None


def test_realized_property_drives_realize() -> None:
    gadget = object_new("test-gadget")
    assert isinstance(gadget, Gadget)
    gadget.property_set("realized", True)
    assert gadget.realized and gadget.events == ["realize"]
    gadget.property_set("realized", False)
    assert not gadget.realized and gadget.events == ["realize", "unrealize"]
    gadget.fail = True
    with pytest.raises(ConfigError, match="gadget refuses"):
        gadget.property_set("realized", True)
    assert not gadget.realized
