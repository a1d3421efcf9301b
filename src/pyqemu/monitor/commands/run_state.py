"""Run state and identity (QEMU's run-state.json and misc.json): status, stop, cont, reset …"""

from __future__ import annotations

from typing import Any

from pyqemu.monitor.dispatch import CommandContext
from pyqemu.qapi.run_state import RunState, ShutdownCause
from pyqemu.qapi.schema import SCHEMA
from pyqemu.util.errors import StateError

SCHEMA.enum("RunState", [state.value for state in RunState])
SCHEMA.enum("ShutdownCause", [cause.value for cause in ShutdownCause])
SCHEMA.struct("StatusInfo", {"running": "bool", "singlestep": "bool", "status": "RunState"})
SCHEMA.struct("NameInfo", {"*name": "str"})
SCHEMA.struct("UuidInfo", {"UUID": "str"})
SCHEMA.struct("KvmInfo", {"enabled": "bool", "present": "bool"})
SCHEMA.struct("TargetInfo", {"arch": "str"})
SCHEMA.event("SHUTDOWN", {"guest": "bool", "reason": "ShutdownCause"})
SCHEMA.event("RESET", {"guest": "bool", "reason": "ShutdownCause"})
SCHEMA.event("POWERDOWN")
SCHEMA.event("STOP")
SCHEMA.event("RESUME")
SCHEMA.event("SUSPEND")
SCHEMA.event("SUSPEND_DISK")
SCHEMA.event("WAKEUP")
SCHEMA.enum("WatchdogAction", ["reset", "shutdown", "poweroff", "pause", "debug", "none", "inject-nmi"])
SCHEMA.event("WATCHDOG", {"action": "WatchdogAction"})
SCHEMA.struct("CurrentMachineParams", {"wakeup-suspend-support": "bool"})

NULL_UUID = "00000000-0000-0000-0000-000000000000"


@SCHEMA.command("query-status", returns="StatusInfo", allow_preconfig=True)
def query_status(ctx: CommandContext) -> dict[str, Any]:
    state = ctx.vm.runstate
    return {"status": str(state.state), "singlestep": False, "running": state.running}


@SCHEMA.command("stop")
def stop(ctx: CommandContext) -> None:
    ctx.vm.stop()


@SCHEMA.command("cont")
def cont(ctx: CommandContext) -> None:
    ctx.vm.cont()


@SCHEMA.command("system_reset")
def system_reset(ctx: CommandContext) -> None:
    ctx.vm.request_reset(ShutdownCause.HOST_QMP_SYSTEM_RESET)


@SCHEMA.command("system_powerdown")
def system_powerdown(ctx: CommandContext) -> None:
    ctx.vm.request_powerdown()


@SCHEMA.command("system_wakeup")
def system_wakeup(ctx: CommandContext) -> None:
    """Wake a guest suspended to RAM, where its chipset can be woken."""
    if ctx.vm.machine is None or not ctx.vm.machine.wakeup_suspend_support:
        raise StateError("wake-up from suspend is not supported by this guest")
    from pyqemu.hw.core.machine import WakeupReason

    ctx.vm.request_wakeup(WakeupReason.OTHER)


@SCHEMA.command("query-current-machine", returns="CurrentMachineParams")
def query_current_machine(ctx: CommandContext) -> dict[str, Any]:
    machine = ctx.vm.machine
    return {"wakeup-suspend-support": machine is not None and machine.wakeup_suspend_support}


@SCHEMA.command("query-name", returns="NameInfo", allow_preconfig=True)
def query_name(ctx: CommandContext) -> dict[str, Any]:
    assert ctx.vm.config is not None
    opts = ctx.vm.config.opts.find("name")
    name = opts.get("guest") if opts is not None else None
    return {} if name is None else {"name": name}


@SCHEMA.command("query-uuid", returns="UuidInfo", allow_preconfig=True)
def query_uuid(ctx: CommandContext) -> dict[str, Any]:
    assert ctx.vm.config is not None
    return {"UUID": ctx.vm.config.uuid or NULL_UUID}


@SCHEMA.command("query-kvm", returns="KvmInfo")
def query_kvm(ctx: CommandContext) -> dict[str, Any]:
    enabled = ctx.vm.accel is not None and ctx.vm.accel.NAME == "kvm"
    return {"enabled": enabled, "present": True}  # "present": this binary has the KVM accelerator


@SCHEMA.command("query-target", returns="TargetInfo", allow_preconfig=True)
def query_target(ctx: CommandContext) -> dict[str, Any]:
    return {"arch": "x86_64"}
