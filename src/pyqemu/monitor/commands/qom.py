"""The object model over QMP (QEMU's qom.json): list, get, set, types, object-add/del."""

from __future__ import annotations

from typing import Any

from pyqemu.monitor.dispatch import CommandContext
from pyqemu.qapi.schema import SCHEMA
from pyqemu.qom.object import Object, object_class_by_name, object_class_get_list, type_properties
from pyqemu.qom.object_interfaces import user_creatable_add_dict, user_creatable_del
from pyqemu.qom.path import resolve_path
from pyqemu.util.errors import ConfigError, NotFoundError
from pyqemu.util.module import module_load_qom_all

SCHEMA.struct("ObjectPropertyInfo", {"name": "str", "type": "str", "*description": "str",
                                     "*default-value": "any"})
SCHEMA.struct("ObjectTypeInfo", {"name": "str", "*abstract": "bool", "*parent": "str"})


def resolve_object(ctx: CommandContext, path: str) -> Object:
    """The object at ``path``, or QEMU's errors for missing and ambiguous paths."""
    obj, ambiguous = resolve_path(ctx.vm.root, path)
    if ambiguous:
        raise ConfigError(f"Path '{path}' is ambiguous")
    if obj is None:
        raise NotFoundError(f"Device '{path}' not found")
    return obj


@SCHEMA.command("qom-list", arguments={"path": "str"}, returns=["ObjectPropertyInfo"],
                allow_preconfig=True, allow_init_config=True)
def qom_list(ctx: CommandContext, path: str) -> list[dict[str, Any]]:
    return [{"name": p.name, "type": p.type} for p in resolve_object(ctx, path).iter_properties()]


@SCHEMA.command("qom-get", arguments={"path": "str", "property": "str"}, returns="any",
                allow_preconfig=True, allow_init_config=True)
def qom_get(ctx: CommandContext, path: str, property: str) -> Any:
    return resolve_object(ctx, path).property_get(property)


@SCHEMA.command("qom-set", arguments={"path": "str", "property": "str", "value": "any"},
                allow_preconfig=True, allow_init_config=True)
def qom_set(ctx: CommandContext, path: str, property: str, value: Any) -> None:
    resolve_object(ctx, path).property_set(property, value)


@SCHEMA.command("qom-list-types", arguments={"*implements": "str", "*abstract": "bool"},
                returns=["ObjectTypeInfo"], allow_preconfig=True, allow_init_config=True)
def qom_list_types(ctx: CommandContext, implements: str | None = None,
                   abstract: bool = False) -> list[dict[str, Any]]:
    module_load_qom_all()
    types = []
    for impl in object_class_get_list(implements, include_abstract=abstract):
        info: dict[str, Any] = {"name": impl.name}
        if impl.abstract:
            info["abstract"] = True
        if impl.parent:
            info["parent"] = impl.parent
        types.append(info)
    return types


@SCHEMA.command("qom-list-properties", arguments={"typename": "str"}, returns=["ObjectPropertyInfo"],
                allow_preconfig=True, allow_init_config=True)
def qom_list_properties(ctx: CommandContext, typename: str) -> list[dict[str, Any]]:
    if object_class_by_name(typename) is None:
        raise NotFoundError(f"Class '{typename}' not found")
    return [prop.describe() for prop in type_properties(typename)]


@SCHEMA.command("object-add", arguments={"qom-type": "str", "id": "str"}, raw_arguments=True,
                allow_preconfig=True, allow_init_config=True)
def object_add(ctx: CommandContext, **arguments: Any) -> None:
    user_creatable_add_dict(ctx.vm.root, arguments)


@SCHEMA.command("object-del", arguments={"id": "str"}, allow_preconfig=True, allow_init_config=True)
def object_del(ctx: CommandContext, id: str) -> None:
    user_creatable_del(ctx.vm.root, id)
