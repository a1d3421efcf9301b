"""The ``qtest`` accelerator: no CPU runs; a test drives the machine over the qtest protocol.

The virtual clock only moves when the test steps it (``clock_step``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.accel.accel import AccelState
from pyqemu.qom.object import register_type

if TYPE_CHECKING:
    from pyqemu.hw.core.machine import MachineState


@register_type
class QtestAccel(AccelState):
    TYPE = "qtest-accel"
    NAME = DISPLAY_NAME = "qtest"

    def init_machine(self, machine: MachineState) -> None:
        """Nothing to open: qtest needs no host support."""
