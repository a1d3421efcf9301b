"""Machines and their init phases (QEMU's machine.json, plus the RFC's phase commands)."""

from __future__ import annotations

from typing import Any

from pyqemu.hw.core.phase import MachinePhase
from pyqemu.monitor.dispatch import CommandContext
from pyqemu.qapi.schema import SCHEMA

SCHEMA.struct("MachineInfo", {
    "name": "str", "*alias": "str", "*is-default": "bool", "cpu-max": "int",
    "hotpluggable-cpus": "bool", "numa-mem-supported": "bool", "deprecated": "bool",
    "*default-cpu-type": "str", "*default-ram-id": "str",
})
SCHEMA.struct("CpuInstanceProperties", {
    "*node-id": "int", "*socket-id": "int", "*die-id": "int", "*cluster-id": "int",
    "*core-id": "int", "*thread-id": "int",
})
SCHEMA.struct("CpuInfoFast", {
    "cpu-index": "int", "qom-path": "str", "thread-id": "int", "*props": "CpuInstanceProperties",
    "target": "str",
})
SCHEMA.enum("MachineInitPhase", [phase.qapi_name for phase in MachinePhase])
SCHEMA.struct("MachinePhaseInfo", {"phase": "MachineInitPhase"})
SCHEMA.struct("InitStepInfo", {
    "step": "str", "stage": "str", "phase": "MachineInitPhase", "start-us": "int", "duration-us": "int",
})
SCHEMA.event("MACHINE_PHASE_CHANGE", {"phase": "MachineInitPhase"})


def _machine_info(cls: Any) -> dict[str, Any]:
    """One MachineInfo, members in the order QEMU sends them.

    ``hotpluggable-cpus`` is false: pyqemu cannot hot-plug CPUs (QEMU's pc and q35 can).
    """
    info: dict[str, Any] = {
        "hotpluggable-cpus": False, "name": cls.machine_name(),
        "numa-mem-supported": bool(getattr(cls, "NUMA_MEM_SUPPORTED", False)),
    }
    if cls.DEFAULT_CPU_TYPE:
        info["default-cpu-type"] = cls.DEFAULT_CPU_TYPE
    if cls.IS_DEFAULT:
        info["is-default"] = True
    info.update({"cpu-max": cls.MAX_CPUS, "deprecated": cls.DEPRECATION_REASON is not None})
    if cls.DEFAULT_RAM_ID:
        info["default-ram-id"] = cls.DEFAULT_RAM_ID
    if cls.ALIAS:
        info["alias"] = cls.ALIAS
    return info


@SCHEMA.command("query-machines", returns=["MachineInfo"])
def query_machines(ctx: CommandContext) -> list[dict[str, Any]]:
    from pyqemu.hw.core.machine import machine_classes

    return [_machine_info(cls) for cls in machine_classes()]


@SCHEMA.command("query-cpus-fast", returns=["CpuInfoFast"], allow_preconfig=True)
def query_cpus_fast(ctx: CommandContext) -> list[dict[str, Any]]:
    import threading

    machine = ctx.vm.machine
    if machine is None:
        return []
    topo = machine.smp
    infos = []
    for index, cpu in enumerate(getattr(machine, "cpus", [])):
        props = {
            "core-id": index // topo.threads % topo.cores,
            "thread-id": index % topo.threads,
            "socket-id": index // (topo.threads * topo.cores * topo.dies),
        }
        # No vCPU thread runs yet: the main thread stands for each CPU.
        infos.append({"thread-id": threading.get_native_id(), "props": props,
                      "qom-path": cpu.canonical_path(), "cpu-index": index, "target": "x86_64"})
    return infos


@SCHEMA.command("query-machine-phase", returns="MachinePhaseInfo", allow_preconfig=True,
                allow_init_config=True)
def query_machine_phase(ctx: CommandContext) -> dict[str, Any]:
    return {"phase": ctx.vm.query_machine_phase().qapi_name}


@SCHEMA.command("next-machine-phase", allow_preconfig=True, allow_init_config=True)
def next_machine_phase(ctx: CommandContext) -> None:
    ctx.vm.next_machine_phase()


@SCHEMA.command("advance-machine-phase", arguments={"phase": "MachineInitPhase"}, allow_preconfig=True,
                allow_init_config=True)
def advance_machine_phase(ctx: CommandContext, phase: str) -> None:
    ctx.vm.advance_machine_phase(MachinePhase.from_qapi(phase))


@SCHEMA.command("x-exit-preconfig", allow_preconfig=True, allow_init_config=True, features=["unstable"])
def x_exit_preconfig(ctx: CommandContext) -> None:
    ctx.vm.exit_preconfig()


@SCHEMA.command("x-query-init-trace", returns=["InitStepInfo"], allow_preconfig=True,
                allow_init_config=True, features=["unstable"])
def x_query_init_trace(ctx: CommandContext) -> list[dict[str, Any]]:
    """Every start-up step run so far, with its stage, phase, start and duration (µs from exec)."""
    trace = ctx.vm.trace
    return [record.to_qapi(trace.origin_ns) for record in trace.records]
