"""Trace events: named points in the code that ``-trace PATTERN`` can switch on.

Modules declare their events with :func:`trace_event` at import (a registry);
each emulator keeps its own set of enabled events and prints enabled ones on
stderr as QEMU's ``log`` backend does: ``PID@SECONDS.USECONDS:name args``.
"""

from __future__ import annotations

import fnmatch
import os
import sys
import time
from typing import TextIO

_events: dict[str, str] = {}


def trace_event(name: str, fmt: str) -> str:
    """Declare event ``name`` whose arguments are shown with ``fmt`` (``str.format`` style)."""
    _events[name] = fmt
    return name


def all_events() -> list[str]:
    return sorted(_events)


class Tracer:
    """The enabled events of one emulator, and where their lines go."""

    def __init__(self, out: TextIO | None = None):
        self.enabled: set[str] = set()
        self.out = out or sys.stderr

    def enable(self, pattern: str) -> int:
        """Enable the events matching ``pattern`` (``-`` in front disables); how many matched."""
        negate = pattern.startswith("-")
        names = fnmatch.filter(_events, pattern.lstrip("-"))
        if negate:
            self.enabled.difference_update(names)
        else:
            self.enabled.update(names)
        return len(names)

    def __call__(self, name: str, **args: object) -> None:
        if name in self.enabled:
            now = time.time()
            self.out.write(
                f"{os.getpid()}@{int(now)}.{int(now * 1e6) % 1_000_000:06d}:{name} "
                + _events[name].format(**args) + "\n"
            )
