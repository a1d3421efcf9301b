"""The init trace: every start-up step with its stage, phase, start time and duration.

QEMU does not offer this.  It is here for people learning how a VMM starts
and for anyone asking why a start is slow: ``-x-init-trace on`` prints the
trace on stderr when start-up ends, ``-x-init-trace help`` lists the sequence
without starting anything, and QMP's ``x-query-init-trace`` returns it.
"""

from __future__ import annotations

import os
import time
from typing import Any, NamedTuple

NS_PER_MS = 1_000_000


def process_start_ns() -> int | None:
    """When this process was exec'd, on the ``time.monotonic_ns`` scale (Linux /proc), or None."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open("/proc/uptime", "rb") as f:
            uptime_s = float(f.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None
    start_ticks = int(fields[19])
    ticks = os.sysconf("SC_CLK_TCK")
    # /proc/uptime is CLOCK_BOOTTIME; offset it onto CLOCK_MONOTONIC.
    boot_to_mono = time.clock_gettime_ns(time.CLOCK_BOOTTIME) - time.monotonic_ns()
    now_boot_ns = int(uptime_s * 1e9)
    age_ns = now_boot_ns - start_ticks * 1_000_000_000 // ticks
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME) - age_ns - boot_to_mono


class TraceRecord(NamedTuple):
    """One step as it ran."""

    step: str
    stage: str
    phase: str
    start_ns: int
    duration_ns: int

    def to_qapi(self, origin_ns: int) -> dict[str, Any]:
        return {
            "step": self.step,
            "stage": self.stage,
            "phase": self.phase,
            "start-us": (self.start_ns - origin_ns) // 1000,
            "duration-us": self.duration_ns // 1000,
        }


class InitTrace:
    """The records of one emulator's start-up, timed from exec."""

    def __init__(self) -> None:
        self.main_ns = time.monotonic_ns()
        self.origin_ns = process_start_ns() or self.main_ns
        self.records: list[TraceRecord] = []

    def record(self, step: str, stage: str, phase: str, start_ns: int, end_ns: int) -> None:
        self.records.append(TraceRecord(step, stage, phase, start_ns, end_ns - start_ns))

    def format(self) -> str:
        """The table printed by ``-x-init-trace on``."""
        ms = lambda ns: ns / NS_PER_MS  # noqa: E731 - a local unit conversion
        lines = [
            "pyqemu init trace (milliseconds since exec)",
            f"  {'python start-up, imports':58} {0.0:9.3f} {ms(self.main_ns - self.origin_ns):9.3f}",
            f"  {'stage':22} {'step':35} {'start':>9} {'took':>9}  phase after",
        ]
        stage_total: dict[str, int] = {}
        for rec in self.records:
            stage_total[rec.stage] = stage_total.get(rec.stage, 0) + rec.duration_ns
            lines.append(
                f"  {rec.stage:22} {rec.step:35} {ms(rec.start_ns - self.origin_ns):9.3f} "
                f"{ms(rec.duration_ns):9.3f}  {rec.phase}"
            )
        lines.append("  time per stage:")
        for stage, total in stage_total.items():
            lines.append(f"    {stage:56} {ms(total):9.3f}")
        return "\n".join(lines) + "\n"
