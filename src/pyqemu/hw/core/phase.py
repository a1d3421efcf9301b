"""Machine init phases (QEMU's ``MachineInitPhase``, named as the RFC names them).

Phases only move forward, one at a time, and only the init sequence
(``system/init_sequence.py``) moves them.  Other code asks
:func:`require_phase` whether an operation is allowed yet.
"""

from __future__ import annotations

import enum

from pyqemu.util.errors import PhaseError


class MachinePhase(enum.IntEnum):
    """Where machine initialization is; each value states what holds in it."""

    NO_MACHINE = 0
    """Options are parsed; only backends (objects, chardevs) may exist. No machine object."""

    MACHINE_CREATED = 1
    """The machine object exists with its properties set; it has no accelerator yet."""

    ACCEL_CREATED = 2
    """The accelerator is configured; board init has not run: no buses, no devices.
    This is where ``-preconfig`` stops."""

    INITIALIZED = 3
    """Board init has run: CPUs, RAM, buses and on-board devices exist. Devices added
    now are cold-plugged; ``-device`` options have been applied."""

    READY = 4
    """Init-done notifiers have run and the machine is reset; it can run. Devices
    added now are hot-plugged."""

    @property
    def qapi_name(self) -> str:
        """The name QMP uses (``accel-created``)."""
        return self.name.lower().replace("_", "-")

    @classmethod
    def from_qapi(cls, name: str) -> MachinePhase:
        for phase in cls:
            if phase.qapi_name == name:
                return phase
        raise ValueError(name)


def require_phase(current: MachinePhase, needed: MachinePhase, what: str) -> None:
    """Refuse ``what`` unless the machine has reached phase ``needed``."""
    if current < needed:
        raise PhaseError(
            f"{what} is not allowed in machine phase '{current.qapi_name}'; "
            f"it needs phase '{needed.qapi_name}'"
        )
