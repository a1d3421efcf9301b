"""The ``none`` board: no CPU unless ``-cpu`` asks for one, RAM only if ``-m`` is given.

Management tools start it to query what the binary supports (QMP, QOM types)
without building a real machine.
"""

from __future__ import annotations

from pyqemu.hw.core.machine import MachineState
from pyqemu.qom.object import register_type


@register_type
class NullMachine(MachineState):
    TYPE = "none-machine"
    NAME = "none"
    DESCRIPTION = "empty machine"
    DEFAULT_RAM_SIZE = 0
    MAX_CPUS = 1
    NO_SERIAL = NO_PARALLEL = NO_FLOPPY = NO_CDROM = True

    def init(self) -> None:
        """Nothing to build: RAM and a CPU arrive with the memory and CPU layers."""
