"""Path resolution in the composition tree, as QEMU's ``object_resolve_path`` does it.

An absolute path (``/machine/peripheral/serial0``) walks ``child<>`` and
``link<>`` properties from the root; empty components are skipped, so
``//machine/`` is ``/machine``.  A partial path (``serial0``,
``peripheral/serial0``) matches any object whose path ends with those
components, and must match exactly one: QEMU calls more than one match
*ambiguous*.
"""

from __future__ import annotations

from pyqemu.qom.object import Object
from pyqemu.util.cutils import invalid_parameter_type
from pyqemu.util.errors import ConfigError, NotFoundError


def _step(obj: Object, part: str) -> Object | None:
    prop = obj.property_find(part)
    if prop is None:
        return None
    if prop.child is not None:
        return prop.child
    if prop.link_target is not None and prop.get is not None:
        path = prop.get(obj)
        return resolve_absolute(obj.root(), path) if path else None
    return None


def resolve_absolute(start: Object, path: str) -> Object | None:
    """Follow ``path``'s components from ``start``; None if one is missing."""
    obj: Object | None = start
    for part in path.split("/"):
        if part and obj is not None:
            obj = _step(obj, part)
    return obj


def _typed(obj: Object | None, typename: str | None) -> Object | None:
    if obj is None or (typename is not None and not obj.is_a(typename)):
        return None
    return obj


def _resolve_partial(obj: Object, path: str, typename: str | None) -> tuple[Object | None, bool]:
    found = _typed(resolve_absolute(obj, path), typename)
    for child in obj.children():
        match, ambiguous = _resolve_partial(child, path, typename)
        if ambiguous:
            return None, True
        if match is not None:
            if found is not None and found is not match:
                return None, True
            found = match
    return found, False


def resolve_path(root: Object, path: str, typename: str | None = None) -> tuple[Object | None, bool]:
    """Resolve ``path`` below ``root``: (object or None, whether it was ambiguous).

    With ``typename``, only objects of that type count, as in
    ``object_resolve_path_type``.
    """
    if path.startswith("/"):
        return _typed(resolve_absolute(root, path), typename), False
    return _resolve_partial(root, path, typename)


def resolve_link(root: Object, path: str, name: str, target_type: str) -> Object:
    """The object a ``link<target_type>`` property named ``name`` is set to, or QEMU's error."""
    target, ambiguous = resolve_path(root, path, target_type)
    if ambiguous:
        raise ConfigError(f"Path '{path}' does not uniquely identify an object")
    if target is None:
        other, ambiguous = resolve_path(root, path)
        if other is not None or ambiguous:
            raise invalid_parameter_type(name, target_type)
        raise NotFoundError(f"Device '{path}' not found")
    return target
