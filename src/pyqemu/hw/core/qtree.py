"""``info qtree``: the device tree as buses and devices, in QEMU 7.2's text format.

Starting at the main system bus, each bus prints its name and type, then its
devices, newest first; each device prints its GPIO pin lists, its static
properties (the type's own first, then each parent type's), the lines its
bus adds (``mmio ADDR/SIZE`` on the system bus), then the buses it provides.
Every level is indented two more spaces::

    bus: main-system-bus
      type System
      dev: isabus-bridge, id ""
        bus: isa.0
          type ISA
          dev: isa-serial, id "s0"
            index = 0 (0x0)
            iobase = 1016 (0x3f8)
"""

from __future__ import annotations

from pyqemu.hw.core.bus import BusState, main_system_bus
from pyqemu.hw.core.qdev import DeviceState
from pyqemu.hw.core.qdev_properties import class_static_props
from pyqemu.qom.object import Object

INDENT = 2


def _line(indent: int, text: str) -> str:
    return " " * indent + text


def _gpio_lines(dev: DeviceState, indent: int) -> list[str]:
    lines = []
    for ngl in dev.gpios:
        name = ngl.name or ""
        if ngl.inputs:
            lines.append(_line(indent, f'gpio-in "{name}" {len(ngl.inputs)}'))
        if ngl.outputs:
            lines.append(_line(indent, f'gpio-out "{name}" {len(ngl.outputs)}'))
    return lines


def qdev_print(dev: DeviceState, indent: int) -> list[str]:
    """The lines of one device and everything below it."""
    lines = [_line(indent, f'dev: {dev.typename}, id "{dev.id or ""}"')]
    indent += INDENT
    lines += _gpio_lines(dev, indent)
    for prop in class_static_props(type(dev)):
        lines.append(_line(indent, f"{prop.name} = {prop.print(dev) or '<null>'}"))
    if dev.parent_bus is not None:
        lines += [_line(indent, text) for text in dev.parent_bus.print_dev(dev)]
    for bus in dev.child_buses:
        lines += qbus_print(bus, indent)
    return lines


def qbus_print(bus: BusState, indent: int = 0) -> list[str]:
    """The lines of one bus and everything below it."""
    lines = [_line(indent, f"bus: {bus.name}")]
    indent += INDENT
    lines.append(_line(indent, f"type {bus.typename}"))
    for dev in bus.devices:
        lines += qdev_print(dev, indent)
    return lines


def qtree_info(machine: Object) -> str:
    """What ``info qtree`` prints for ``machine`` (nothing before the system bus exists)."""
    bus = main_system_bus(machine)
    return "".join(line + "\n" for line in qbus_print(bus)) if bus is not None else ""
