"""Run state: QEMU's transition table and shutdown causes."""

from __future__ import annotations

import pytest

from pyqemu.system.runstate import TRANSITIONS, RunState, RunStateMachine, ShutdownCause
from pyqemu.util.errors import StateError


def test_every_state_has_a_row_except_unreachable_ones() -> None:
    assert set(TRANSITIONS) == set(RunState)


@pytest.mark.parametrize(("old", "new"), [
    (RunState.PRELAUNCH, RunState.RUNNING),
    (RunState.RUNNING, RunState.PAUSED),
    (RunState.PAUSED, RunState.RUNNING),
    (RunState.RUNNING, RunState.SHUTDOWN),
    (RunState.SHUTDOWN, RunState.PRELAUNCH),
    (RunState.RUNNING, RunState.GUEST_PANICKED),
    (RunState.RUNNING, RunState.INTERNAL_ERROR),
    (RunState.RUNNING, RunState.SUSPENDED),
    (RunState.SUSPENDED, RunState.RUNNING),
    (RunState.INMIGRATE, RunState.POSTMIGRATE),
    (RunState.PRELAUNCH, RunState.INMIGRATE),
])
def test_allowed_transitions(old: RunState, new: RunState) -> None:
    machine = RunStateMachine(old)
    seen: list[tuple[RunState, RunState]] = []
    machine.add_observer(lambda a, b: seen.append((a, b)))
    machine.set(new)
    assert machine.state == new and seen == [(old, new)]


@pytest.mark.parametrize(("old", "new"), [
    (RunState.PRELAUNCH, RunState.PAUSED),
    (RunState.SHUTDOWN, RunState.RUNNING),
    (RunState.GUEST_PANICKED, RunState.PAUSED),
    (RunState.INTERNAL_ERROR, RunState.RUNNING),
    (RunState.PAUSED, RunState.SHUTDOWN),
    (RunState.SAVE_VM, RunState.PAUSED),
])
def test_refused_transitions_change_nothing(old: RunState, new: RunState) -> None:
    machine = RunStateMachine(old)
    with pytest.raises(StateError, match=f"invalid runstate transition: '{old}' -> '{new}'"):
        machine.set(new)
    assert machine.state == old


def test_needs_reset_states() -> None:
    assert RunStateMachine(RunState.SHUTDOWN).needs_reset
    assert RunStateMachine(RunState.GUEST_PANICKED).needs_reset
    assert not RunStateMachine(RunState.PAUSED).needs_reset


def test_shutdown_causes_say_who_asked() -> None:
    assert ShutdownCause.GUEST_SHUTDOWN.from_guest and ShutdownCause.GUEST_RESET.from_guest
    assert not ShutdownCause.HOST_QMP_QUIT.from_guest and not ShutdownCause.HOST_SIGNAL.from_guest
    assert str(ShutdownCause.HOST_QMP_QUIT) == "host-qmp-quit"
