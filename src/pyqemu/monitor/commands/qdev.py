"""Devices over QMP (QEMU's qdev.json): list properties, device_add, device_del."""

from __future__ import annotations

from typing import Any

from pyqemu.hw.core.phase import MachinePhase
from pyqemu.monitor.dispatch import CommandContext
from pyqemu.qapi.schema import SCHEMA
from pyqemu.util.cutils import invalid_parameter_type

SCHEMA.event("DEVICE_DELETED", {"*device": "str", "path": "str"})



@SCHEMA.command("device-list-properties", arguments={"typename": "str"}, returns=["ObjectPropertyInfo"],
                allow_init_config=True)
def device_list_properties(ctx: CommandContext, typename: str) -> list[dict[str, Any]]:
    from pyqemu.hw.core.qdev_monitor import device_list_properties as list_properties

    return [p.describe() for p in list_properties(typename)]


def _as_option_text(name: str, value: Any) -> str:
    """A JSON scalar as QemuOpts text: QEMU 7.2's ``device_add`` parses every value as text."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float | str):
        return str(value)
    raise invalid_parameter_type(name, "scalar")


@SCHEMA.command("device_add", arguments={"driver": "str", "*bus": "str", "*id": "str"},
                raw_arguments=True, allow_init_config=True)
def device_add(ctx: CommandContext, **arguments: Any) -> None:
    """Cold-plug in phase ``initialized``, hot-plug once the machine is ready."""
    from pyqemu.hw.core.qdev_monitor import qdev_device_add

    assert ctx.vm.machine is not None
    options = {name: _as_option_text(name, value) for name, value in arguments.items()}
    hotplug = ctx.vm.phase == MachinePhase.READY
    qdev_device_add(ctx.vm.machine, options, hotplug=hotplug)


@SCHEMA.command("device_del", arguments={"id": "str"}, allow_init_config=True)
def device_del(ctx: CommandContext, id: str) -> None:
    """Unplug a device (cold in phase ``initialized``); DEVICE_DELETED follows once it is gone."""
    from pyqemu.hw.core.hotplug import find_device, qdev_unplug

    assert ctx.vm.machine is not None
    device = find_device(ctx.vm.machine, id)
    qdev_unplug(device, lambda dev: ctx.vm.emit_event(
        "DEVICE_DELETED", {**({"device": dev.id} if dev.id else {}), "path": dev.canonical_path()}
    ), cold=ctx.vm.phase == MachinePhase.INITIALIZED)
