"""Run state: what the virtual machine is doing, and the transitions QEMU allows.

The states (declared with QMP's types, in ``qapi/run_state.py``) and the
transition table are QEMU 7.2's (``softmmu/runstate.c``);
a transition outside the table is refused with :class:`StateError` (QEMU
aborts).  :class:`ShutdownCause` gives the reasons QEMU reports in SHUTDOWN
and RESET events.
"""

from __future__ import annotations

from collections.abc import Callable

from pyqemu.qapi.run_state import RunState, ShutdownCause
from pyqemu.util.errors import StateError

__all__ = ["NEEDS_RESET", "TRANSITIONS", "RunState", "RunStateMachine", "ShutdownCause"]


S = RunState

#: Every allowed transition, by source state.
TRANSITIONS: dict[RunState, frozenset[RunState]] = {
    S.DEBUG: frozenset({S.RUNNING, S.FINISH_MIGRATE, S.PRELAUNCH, S.SUSPENDED}),
    S.INMIGRATE: frozenset({
        S.INTERNAL_ERROR, S.IO_ERROR, S.PAUSED, S.RUNNING, S.SHUTDOWN, S.SUSPENDED, S.WATCHDOG,
        S.GUEST_PANICKED, S.FINISH_MIGRATE, S.PRELAUNCH, S.POSTMIGRATE, S.COLO,
    }),
    S.INTERNAL_ERROR: frozenset({S.PAUSED, S.FINISH_MIGRATE, S.PRELAUNCH}),
    S.IO_ERROR: frozenset({S.RUNNING, S.FINISH_MIGRATE, S.PRELAUNCH}),
    S.PAUSED: frozenset({S.RUNNING, S.FINISH_MIGRATE, S.POSTMIGRATE, S.PRELAUNCH, S.COLO}),
    S.POSTMIGRATE: frozenset({S.RUNNING, S.FINISH_MIGRATE, S.PRELAUNCH}),
    S.PRELAUNCH: frozenset({S.RUNNING, S.FINISH_MIGRATE, S.INMIGRATE}),
    S.FINISH_MIGRATE: frozenset({S.RUNNING, S.PAUSED, S.POSTMIGRATE, S.PRELAUNCH, S.COLO}),
    S.RESTORE_VM: frozenset({S.RUNNING, S.PRELAUNCH}),
    S.COLO: frozenset({S.RUNNING, S.PRELAUNCH, S.SHUTDOWN}),
    S.RUNNING: frozenset({
        S.DEBUG, S.INTERNAL_ERROR, S.IO_ERROR, S.PAUSED, S.FINISH_MIGRATE, S.RESTORE_VM, S.SAVE_VM,
        S.SHUTDOWN, S.WATCHDOG, S.GUEST_PANICKED, S.COLO, S.SUSPENDED,
    }),
    S.SAVE_VM: frozenset({S.RUNNING}),
    S.SHUTDOWN: frozenset({S.PAUSED, S.FINISH_MIGRATE, S.PRELAUNCH, S.COLO}),
    S.SUSPENDED: frozenset({S.RUNNING, S.FINISH_MIGRATE, S.PRELAUNCH, S.COLO}),
    S.WATCHDOG: frozenset({S.RUNNING, S.FINISH_MIGRATE, S.PRELAUNCH, S.COLO}),
    S.GUEST_PANICKED: frozenset({S.RUNNING, S.FINISH_MIGRATE, S.PRELAUNCH}),
}

#: States from which ``cont`` must first reset the machine (QEMU's ``runstate_needs_reset``).
NEEDS_RESET = frozenset({S.INTERNAL_ERROR, S.SHUTDOWN, S.GUEST_PANICKED})


class RunStateMachine:
    """The current run state of one emulator; observers hear every change."""

    def __init__(self, initial: RunState = RunState.PRELAUNCH):
        self.state = initial
        self._observers: list[Callable[[RunState, RunState], None]] = []

    def add_observer(self, observer: Callable[[RunState, RunState], None]) -> None:
        """Call ``observer(old, new)`` after each transition (QEMU's vm change state handlers)."""
        self._observers.append(observer)

    def can_move_to(self, new: RunState) -> bool:
        return new == self.state or new in TRANSITIONS.get(self.state, frozenset())

    def set(self, new: RunState) -> None:
        """Move to ``new``; a transition QEMU does not allow raises StateError."""
        if new == self.state:
            return
        if not self.can_move_to(new):
            raise StateError(f"invalid runstate transition: '{self.state}' -> '{new}'")
        old, self.state = self.state, new
        for observer in self._observers:
            observer(old, new)

    @property
    def running(self) -> bool:
        return self.state == RunState.RUNNING

    @property
    def needs_reset(self) -> bool:
        return self.state in NEEDS_RESET
