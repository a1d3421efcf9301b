"""QMP's run-state types: ``RunState`` and ``ShutdownCause`` (QEMU's run-state.json).

Declared here, in the QAPI layer, because QMP replies and events carry them;
``system/runstate.py`` holds the state machine that moves between them.
"""

from __future__ import annotations

import enum


class RunState(enum.StrEnum):
    """QEMU's ``RunState`` (``query-status``'s ``status``)."""

    DEBUG = "debug"
    INMIGRATE = "inmigrate"
    INTERNAL_ERROR = "internal-error"
    IO_ERROR = "io-error"
    PAUSED = "paused"
    POSTMIGRATE = "postmigrate"
    PRELAUNCH = "prelaunch"
    FINISH_MIGRATE = "finish-migrate"
    RESTORE_VM = "restore-vm"
    RUNNING = "running"
    SAVE_VM = "save-vm"
    SHUTDOWN = "shutdown"
    SUSPENDED = "suspended"
    WATCHDOG = "watchdog"
    GUEST_PANICKED = "guest-panicked"
    COLO = "colo"


class ShutdownCause(enum.StrEnum):
    """Why a shutdown or reset was requested (QEMU's ``ShutdownCause``)."""

    NONE = "none"
    HOST_ERROR = "host-error"
    HOST_QMP_QUIT = "host-qmp-quit"
    HOST_QMP_SYSTEM_RESET = "host-qmp-system-reset"
    HOST_SIGNAL = "host-signal"
    HOST_UI = "host-ui"
    GUEST_SHUTDOWN = "guest-shutdown"
    GUEST_RESET = "guest-reset"
    GUEST_PANIC = "guest-panic"
    SUBSYSTEM_RESET = "subsystem-reset"
    SNAPSHOT_LOAD = "snapshot-load"

    @property
    def from_guest(self) -> bool:
        """True when the guest asked (the SHUTDOWN/RESET events' ``guest`` member)."""
        return self in (ShutdownCause.GUEST_SHUTDOWN, ShutdownCause.GUEST_RESET, ShutdownCause.GUEST_PANIC)
