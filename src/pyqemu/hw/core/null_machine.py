"""The ``none`` board: no CPU, RAM at address 0 only if ``-m`` is given.

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
    DEFAULT_RAM_ID = "ram"
    MAX_CPUS = 1
    NO_SERIAL = NO_PARALLEL = NO_FLOPPY = NO_CDROM = True

    def init(self) -> None:
        """RAM (from ``-m``) at address 0; no CPU, no devices."""
        if self.ram is not None:
            self.memory_system.system_memory.add_subregion(0, self.ram)
