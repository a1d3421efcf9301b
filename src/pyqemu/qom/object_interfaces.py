"""The ``user-creatable`` interface: objects made by ``-object`` and ``object-add``.

One function, :func:`user_creatable_add`, serves the command line and QMP:
it checks the type and id, creates the object, sets its properties, puts it
at ``/objects/ID`` and calls :meth:`UserCreatable.complete`.  If any step
fails the object is removed again, so a failed ``object-add`` changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pyqemu.qom.object import (
    Interface,
    Object,
    concrete_class,
    container_get,
    object_new,
    register_type,
)
from pyqemu.util.cutils import check_id, invalid_parameter_type
from pyqemu.util.errors import ConfigError

OBJECTS_PATH = "/objects"


@register_type
class UserCreatable(Interface):
    """Interface of types that ``-object`` / ``object-add`` may create."""

    TYPE = "user-creatable"
    #: Properties QEMU's schema makes mandatory for this type ("Parameter 'size' is missing").
    REQUIRED_PROPERTIES: ClassVar[tuple[str, ...]] = ()

    def complete(self) -> None:
        """Finish creation once every property is set (QEMU's ``complete``)."""

    def can_be_deleted(self) -> bool:
        """False while something uses the object, so ``object-del`` refuses."""
        return True


def check_user_creatable_type(qom_type: str) -> type[Object]:
    """The class of ``qom_type`` if ``-object`` may create it, else QEMU's error."""
    cls = concrete_class(qom_type, UserCreatable)
    if cls is None or not issubclass(cls, Object):
        raise ConfigError(f"Parameter 'qom-type' does not accept value '{qom_type}'")
    return cls


def check_object_id(object_id: str | None) -> str:
    """The id, if present and well formed, else QEMU's error."""
    if object_id is None:
        raise ConfigError("Parameter 'id' is missing")
    return check_id(object_id)


def user_creatable_add(
    root: Object,
    qom_type: str,
    object_id: str | None,
    props: Mapping[str, Any],
    *,
    from_text: bool = False,
) -> Object:
    """Create a user-creatable object at ``/objects/ID``; nothing is left behind on error.

    ``from_text`` says the values are command-line strings (``-object``)
    rather than JSON values (``object-add``).
    """
    cls = check_user_creatable_type(qom_type)
    object_id = check_object_id(object_id)
    for name in getattr(cls, "REQUIRED_PROPERTIES", ()):
        if name not in props:
            raise ConfigError(f"Parameter '{name}' is missing")
    obj = object_new(qom_type)
    try:
        for name in props:
            if obj.property_find(name) is None:
                unknown = f"Invalid parameter '{name}'" if from_text else f"Parameter '{name}' is unexpected"
                raise ConfigError(unknown)
        for name, value in props.items():
            if from_text:
                obj.property_parse(name, value)
            else:
                obj.property_set(name, value)
        container_get(root, OBJECTS_PATH).add_child(object_id, obj)
        try:
            assert isinstance(obj, UserCreatable)
            obj.complete()
        except BaseException:
            obj.unparent()
            raise
    finally:
        obj.unref()
    return obj


def _string_member(values: Mapping[str, Any], name: str) -> str | None:
    value = values.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid_parameter_type(name, "string")
    return value


def user_creatable_qom_type(values: Mapping[str, Any]) -> str:
    """The ``qom-type`` member of ``-object`` / ``object-add`` options, or QEMU's error."""
    qom_type = _string_member(values, "qom-type")
    if qom_type is None:
        raise ConfigError("Parameter 'qom-type' is missing")
    return qom_type


def user_creatable_add_dict(root: Object, values: Mapping[str, Any], *, from_text: bool = False) -> Object:
    """Create an object from its whole option dict (``qom-type``, ``id``, properties), as
    ``-object`` and ``object-add`` give it (QEMU's ``user_creatable_add_qapi``)."""
    props = dict(values)
    qom_type = user_creatable_qom_type(props)
    object_id = _string_member(props, "id")
    del props["qom-type"]
    props.pop("id", None)
    return user_creatable_add(root, qom_type, object_id, props, from_text=from_text)


def user_creatable_del(root: Object, object_id: str) -> None:
    """Remove ``/objects/ID`` (``object-del``), or QEMU's error."""
    objects = container_get(root, OBJECTS_PATH)
    obj = objects.child(object_id)
    if obj is None:
        raise ConfigError(f"object '{object_id}' not found")
    if isinstance(obj, UserCreatable) and not obj.can_be_deleted():
        raise ConfigError(f"object '{object_id}' is in use, can not be deleted")
    obj.unparent()
