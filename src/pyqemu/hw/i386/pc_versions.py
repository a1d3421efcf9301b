"""Versioned machine types (``pc-i440fx-7.1``, ``pc-q35-2.4`` …) made from one table.

QEMU writes one options function per version, each calling the next newer
one and then adding its own compat properties.  Here a board lists its
versions newest first as :class:`MachineVersion` rows and
:func:`register_versions` makes one registered QOM type per row, each
accumulating the compat properties and class facts of every newer row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyqemu.hw.core.machine import MACHINE_SUFFIX, MachineState
from pyqemu.qom.object import register_type

CompatProp = tuple[str, str, str]


@dataclass(frozen=True)
class MachineVersion:
    """One machine version: compat properties added at it, and class attributes that change from it on."""

    version: str
    compat_props: tuple[CompatProp, ...] = ()
    #: Attributes for this version only (``ALIAS``, ``IS_DEFAULT``) or, as below, inherited by older ones.
    attrs: dict[str, Any] = field(default_factory=dict)


#: Class attributes that belong to one version and are not passed down to older ones.
_NOT_INHERITED = ("ALIAS", "IS_DEFAULT")


def register_versions(
    base: type[MachineState], prefix: str, versions: tuple[MachineVersion, ...], namespace: dict[str, Any]
) -> list[type[MachineState]]:
    """Register a subclass ``PREFIX-VERSION-machine`` of ``base`` per row of ``versions`` (newest first)."""
    classes: list[type[MachineState]] = []
    compat: tuple[CompatProp, ...] = ()
    inherited: dict[str, Any] = {}
    for row in versions:
        compat = compat + row.compat_props
        inherited.update({k: v for k, v in row.attrs.items() if k not in _NOT_INHERITED})
        own = {k: v for k, v in row.attrs.items() if k in _NOT_INHERITED}
        name = f"{prefix}-{row.version}"
        attrs = {
            "TYPE": name + MACHINE_SUFFIX,
            "NAME": name,
            "COMPAT_PROPS": compat,
            "__doc__": f"Machine type {name}.",
            "__module__": base.__module__,
            **inherited,
            **own,
        }
        cls = type(_class_name(name), (base,), attrs)
        register_type(cls)
        namespace[cls.__name__] = cls
        classes.append(cls)
    return classes


def _class_name(name: str) -> str:
    return "Machine_" + name.replace("-", "_").replace(".", "_")
