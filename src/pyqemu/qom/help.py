"""Property listings as QEMU prints them for ``-device X,help``, ``-object X,help``, ``-M X,help``."""

from __future__ import annotations

from pyqemu.qom.property import NO_DEFAULT, ObjectProperty

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


def properties_help_text(title: str, props: list[ObjectProperty]) -> str:
    shown = sorted((p for p in props if p.set is not None or p.child is not None), key=lambda p: p.name)
    if not shown:
        return f"There are no options for {title.split()[0]}.\n"
    return title + "\n" + "".join(property_help_line(p) + "\n" for p in shown)
