"""Help listings, formatted as QEMU 7.2 prints them.

``-M help``, ``-M TYPE,help``, ``-device help``, ``-device NAME,help``,
``-object help``, ``-object TYPE,help``, ``-chardev help``, ``-cpu help``,
``-trace help``.  Listing loads the modules that provide the listed types,
and only those.
"""

from __future__ import annotations

from typing import Any

from pyqemu.hw.core.machine import find_machine_class, machine_classes
from pyqemu.qom.help import properties_help_text
from pyqemu.qom.object import (
    Object,
    object_class_by_name,
    object_class_get_list,
    type_lookup,
    type_properties,
)
from pyqemu.util.errors import ConfigError
from pyqemu.util.keyval import is_help_option
from pyqemu.util.module import module_load_qom_all


def machine_help_text(machine_opts: dict[str, Any]) -> str:
    """``-M help`` (every machine) or ``-M TYPE,help`` (its properties)."""
    name = machine_opts.get("type")
    if name and not is_help_option(name):
        cls = find_machine_class(name)
        if cls is None:
            raise ConfigError("unsupported machine type", hint="Use -machine help to list supported machines")
        cls = object_class_by_name(cls.TYPE)
        assert cls is not None
        return properties_help_text(f"{cls.TYPE} options:", cls.class_properties())
    lines = ["Supported machines are:"]
    for cls in machine_classes():
        if cls.ALIAS:
            lines.append(f"{cls.ALIAS:<20} {cls.DESCRIPTION} (alias of {cls.machine_name()})")
        suffix = " (default)" if cls.IS_DEFAULT else ""
        suffix += " (deprecated)" if cls.DEPRECATION_REASON else ""
        lines.append(f"{cls.machine_name():<20} {cls.DESCRIPTION}{suffix}")
    return "\n".join(lines) + "\n"


def object_help_text(qom_type: str | None) -> str:
    """``-object help`` (user-creatable types) or ``-object TYPE,help`` (its properties)."""
    if qom_type is None or is_help_option(qom_type):
        module_load_qom_all()
        names = sorted(impl.name for impl in object_class_get_list("user-creatable"))
        return "List of user creatable objects:\n" + "".join(f"  {n}\n" for n in names)
    # Any QOM type answers, as in QEMU; an interface has no properties of its own.
    impl = type_lookup(qom_type)
    assert impl is not None
    props = type_properties(qom_type) if issubclass(impl.cls, Object) else []
    return properties_help_text(f"{qom_type} options:", props)


def chardev_help_text() -> str:
    """``-chardev help``: the backend names (QEMU leaves a space after the colon)."""
    from pyqemu.chardev.create import chardev_help

    return chardev_help()


def cpu_help_text() -> str:
    """``-cpu help``: the x86 CPU models, "host" and "max" last, as QEMU lists them."""
    suffix = "-x86_64-cpu"
    module_load_qom_all()
    models = {impl.name.removesuffix(suffix): impl.cls for impl in object_class_get_list()
              if impl.name.endswith(suffix) and not impl.abstract}
    order = sorted(models, key=lambda name: ({"host": 1, "max": 2}.get(name, 0), name))
    lines = [f"x86 {name:<20}  {getattr(models[name], 'DESCRIPTION', None) or ''}" for name in order]
    return "Available CPUs:\n" + "\n".join(lines) + "\n"


def trace_help_text() -> str:
    """``-trace help``: the trace events pyqemu has."""
    from pyqemu.util.trace import all_events

    return "".join(f"{name}\n" for name in all_events())
