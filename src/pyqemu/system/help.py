"""Help listings, formatted as QEMU 7.2 prints them.

``-M help``, ``-M TYPE,help``, ``-device help``, ``-device NAME,help``,
``-object help``, ``-object TYPE,help``, ``-chardev help``, ``-cpu help``,
``-trace help``.  Listing loads the modules that provide the listed types,
and only those.
"""

from __future__ import annotations

from typing import Any

from pyqemu.qom.object import object_class_by_name, object_class_get_list, type_lookup, type_properties
from pyqemu.qom.property import NO_DEFAULT, ObjectProperty
from pyqemu.util.errors import ConfigError
from pyqemu.util.module import module_load_qom, module_load_qom_all

_PROP_COLUMN = 24


def property_help_line(prop: ObjectProperty) -> str:
    """One property as ``-device NAME,help`` shows it: ``  name=<type>   - desc (default: x)``."""
    line = f"  {prop.name}=<{prop.type}>"
    default = prop.default
    extra = ""
    if default is not NO_DEFAULT:
        if isinstance(default, bool):
            shown = str(default).lower()
        elif isinstance(default, str):
            shown = f'"{default}"'
        else:
            shown = str(default)
        extra = f" (default: {shown})"
    if prop.description is None and not extra:
        return line
    return line.ljust(_PROP_COLUMN) + " - " + (prop.description or "") + extra


def _properties_text(title: str, props: list[ObjectProperty]) -> str:
    shown = sorted((p for p in props if p.set is not None or p.child is not None), key=lambda p: p.name)
    if not shown:
        return f"There are no options for {title.split()[0]}.\n"
    return title + "\n" + "".join(property_help_line(p) + "\n" for p in shown)


def _load_machine_types() -> None:
    from pyqemu.modinfo import QOM_TYPES

    for name in QOM_TYPES:
        if name.endswith("-machine"):
            module_load_qom(name)


def machine_classes() -> list[Any]:
    """Every concrete machine class, in the order ``-M help`` lists them."""
    from pyqemu.hw.core.machine import MachineState

    _load_machine_types()
    classes = [impl.cls for impl in object_class_get_list("machine")]
    machines = [cls for cls in classes if issubclass(cls, MachineState)]
    # QEMU's machine_class_cmp: families first, by family name, each newest first
    # (names compared as strings, descending); then the boards without a family, by name.
    standalone = sorted((c for c in machines if not c.FAMILY), key=lambda c: c.TYPE)
    family = sorted((c for c in machines if c.FAMILY), key=lambda c: c.TYPE, reverse=True)
    return sorted(family, key=lambda c: c.FAMILY) + standalone


def find_machine_class(name: str | None) -> Any:
    """The machine class ``-M name`` selects (by name or alias; None: the default), or None.

    Only the module providing that machine is loaded (through the module index).
    """
    from pyqemu.hw.core.machine import MACHINE_SUFFIX, MachineState
    from pyqemu.modinfo import DEFAULT_MACHINE, MACHINE_ALIASES

    if name is None:
        name = DEFAULT_MACHINE
        if name is None:
            return None
    cls = object_class_by_name(MACHINE_ALIASES.get(name, name + MACHINE_SUFFIX))
    if cls is None or not issubclass(cls, MachineState) or cls.__dict__.get("ABSTRACT", False):
        return None
    return cls


def machine_help_text(machine_opts: dict[str, Any]) -> str:
    """``-M help`` (every machine) or ``-M TYPE,help`` (its properties)."""
    name = machine_opts.get("type")
    if name and name not in ("help", "?"):
        cls = find_machine_class(name)
        if cls is None:
            raise ConfigError("unsupported machine type", hint="Use -machine help to list supported machines")
        cls = object_class_by_name(cls.TYPE)
        assert cls is not None
        return _properties_text(f"{cls.TYPE} options:", cls.class_properties())
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
    if qom_type in (None, "help", "?"):
        module_load_qom_all()
        names = sorted(impl.name for impl in object_class_get_list("user-creatable"))
        return "List of user creatable objects:\n" + "".join(f"  {n}\n" for n in names)
    assert qom_type is not None
    if not any(i.name == qom_type for i in object_class_get_list("user-creatable")):
        raise ConfigError(f"invalid object type: {qom_type}")
    return _properties_text(f"{qom_type} options:", type_properties(qom_type))


#: ``-device help`` categories in QEMU's order (its ``DeviceCategory``).
DEVICE_CATEGORIES = (
    "Controller/Bridge/Hub devices", "USB devices", "Storage devices", "Network devices",
    "Input devices", "Display devices", "Sound devices", "Misc devices", "CPU devices",
    "Watchdog devices", "Uncategorized devices",
)


def device_help_text(request: str) -> str:
    """``-device help`` (devices by category) or ``-device NAME,help`` (its properties)."""
    from pyqemu.hw.core.qdev import DEVICE_COMMON_PROPERTIES, DeviceState

    name = request.split(",", 1)[0]
    if name not in ("help", "?"):
        impl = type_lookup(name)
        if impl is None or not issubclass(impl.cls, DeviceState) or impl.abstract:
            raise ConfigError(f"Device '{name}' not found")
        return _properties_text(f"{name} options:", type_properties(name, DEVICE_COMMON_PROPERTIES))
    module_load_qom_all()
    by_category: dict[str, list[str]] = {}
    for impl in object_class_get_list("device"):
        cls = impl.cls
        if not issubclass(cls, DeviceState) or not cls.USER_CREATABLE or cls.CATEGORY is None:
            continue
        line = f'name "{impl.name}"' + (f', bus {cls.BUS_TYPE}' if getattr(cls, "BUS_TYPE", None) else "")
        line += f', desc "{cls.DESCRIPTION}"' if cls.DESCRIPTION else ""
        by_category.setdefault(cls.CATEGORY, []).append(line)
    order = {name: index for index, name in enumerate(DEVICE_CATEGORIES)}
    blocks = [f"{cat}:\n" + "".join(f"{line}\n" for line in sorted(lines, key=str.lower))
              for cat, lines in sorted(by_category.items(), key=lambda item: order.get(item[0], 99))]
    return "\n".join(blocks)


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
