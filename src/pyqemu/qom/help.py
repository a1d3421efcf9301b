"""Property listings as QEMU prints them for ``-device X,help``, ``-object X,help``, ``-M X,help``.

One line per property, ``  name=<type>`` padded to a column, then `` - ``,
the description and the default as JSON.  QEMU sorts the finished lines
(not the names) bytewise, so ``foo-bar=`` comes before ``foo=``.  Which
properties are listed is the caller's choice: devices list every property
(see ``device_list_properties``), ``-object`` and ``-M`` only settable ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pyqemu.qom.property import NO_DEFAULT, ObjectProperty

_PROP_COLUMN = 24
#: Significant digits QEMU prints for a floating-point default (``%.17g``).
_FLOAT_DIGITS = 17


def _default_json(value: Any) -> str:
    """A default value as QEMU's ``qobject_to_json`` writes it."""
    if isinstance(value, float):
        return f"{value:.{_FLOAT_DIGITS}g}"
    return json.dumps(value)


def property_help_line(prop: ObjectProperty) -> str:
    """One property as ``-device NAME,help`` shows it: ``  name=<type>   - desc (default: x)``."""
    line = f"  {prop.name}=<{prop.type}>"
    extra = "" if prop.default is NO_DEFAULT else f" (default: {_default_json(prop.default)})"
    if prop.description is None and not extra:
        return line
    return line.ljust(_PROP_COLUMN) + " - " + (prop.description or "") + extra


def property_listing_text(typename: str, props: Iterable[ObjectProperty]) -> str:
    """``TYPE options:`` and a sorted line for each of ``props``; QEMU's sentence when there are none."""
    lines = sorted(property_help_line(p) for p in props)
    if not lines:
        return f"There are no options for {typename}.\n"
    return f"{typename} options:\n" + "".join(line + "\n" for line in lines)


def properties_help_text(title: str, props: Iterable[ObjectProperty]) -> str:
    """The settable ones of ``props``, as QEMU's ``type_print_class_properties``.

    ``title`` is ``TYPE options:``; the type name is taken from it.
    """
    return property_listing_text(title.split()[0], (p for p in props if p.set is not None))
