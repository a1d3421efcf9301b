"""CPU topology from ``-smp`` / ``-machine smp.*``: QEMU 7.2's ``machine_parse_smp_config``.

Omitted values are computed from the given ones (cores are preferred over
sockets since machine types 6.2), then the product of the hierarchy must
equal ``maxcpus`` and the machine's CPU limits must hold, with QEMU's texts.
"""

from __future__ import annotations

from typing import NamedTuple

from pyqemu.util.errors import ConfigError

ZERO_WARNING = (
    "Deprecated CPU topology (considered invalid): CPU topology parameters must be greater than zero"
)


class CpuTopology(NamedTuple):
    cpus: int = 1
    sockets: int = 1
    dies: int = 1
    clusters: int = 1
    cores: int = 1
    threads: int = 1
    max_cpus: int = 1


class SmpLimits(NamedTuple):
    """What a machine type supports (QEMU's ``MachineClass`` smp fields)."""

    name: str
    min_cpus: int = 1
    max_cpus: int = 1
    dies_supported: bool = False
    clusters_supported: bool = False
    prefer_sockets: bool = False


def _hierarchy(t: CpuTopology, limits: SmpLimits) -> str:
    text = f"sockets ({t.sockets})"
    if limits.dies_supported:
        text += f" * dies ({t.dies})"
    if limits.clusters_supported:
        text += f" * clusters ({t.clusters})"
    return text + f" * cores ({t.cores}) * threads ({t.threads})"


def parse_smp_config(config: dict[str, int], limits: SmpLimits, warn: list[str]) -> CpuTopology:
    """The topology for ``config`` (SMPConfiguration members), or QEMU's error."""
    if any(value == 0 for value in config.values()):
        warn.append(ZERO_WARNING)
    cpus, sockets, dies, clusters, cores, threads, maxcpus = (
        config.get(k, 0) for k in ("cpus", "sockets", "dies", "clusters", "cores", "threads", "maxcpus")
    )
    if dies > 1 and not limits.dies_supported:
        raise ConfigError("dies not supported by this machine's CPU topology")
    if clusters > 1 and not limits.clusters_supported:
        raise ConfigError("clusters not supported by this machine's CPU topology")
    dies, clusters = dies or 1, clusters or 1
    if cpus == 0 and maxcpus == 0:
        sockets, cores, threads = sockets or 1, cores or 1, threads or 1
    else:
        maxcpus = maxcpus or cpus
        if limits.prefer_sockets and sockets == 0:
            cores, threads = cores or 1, threads or 1
            sockets = maxcpus // (dies * clusters * cores * threads)
        elif limits.prefer_sockets and cores == 0:
            threads = threads or 1
            cores = maxcpus // (sockets * dies * clusters * threads)
        elif cores == 0:
            sockets, threads = sockets or 1, threads or 1
            cores = maxcpus // (sockets * dies * clusters * threads)
        elif sockets == 0:
            threads = threads or 1
            sockets = maxcpus // (dies * clusters * cores * threads)
        if threads == 0:
            threads = maxcpus // (sockets * dies * clusters * cores)
    maxcpus = maxcpus or sockets * dies * clusters * cores * threads
    cpus = cpus or maxcpus
    topo = CpuTopology(cpus, sockets, dies, clusters, cores, threads, maxcpus)
    if sockets * dies * clusters * cores * threads != maxcpus:
        raise ConfigError(
            "Invalid CPU topology: product of the hierarchy must match maxcpus: "
            f"{_hierarchy(topo, limits)} != maxcpus ({maxcpus})"
        )
    if maxcpus < cpus:
        raise ConfigError(
            "Invalid CPU topology: maxcpus must be equal to or greater than smp: "
            f"{_hierarchy(topo, limits)} == maxcpus ({maxcpus}) < smp_cpus ({cpus})"
        )
    if cpus < limits.min_cpus:
        raise ConfigError(
            f"Invalid SMP CPUs {cpus}. The min CPUs supported by machine '{limits.name}' is {limits.min_cpus}"
        )
    if maxcpus > limits.max_cpus:
        raise ConfigError(
            f"Invalid SMP CPUs {maxcpus}. The max CPUs supported by machine '{limits.name}' "
            f"is {limits.max_cpus}"
        )
    return topo
