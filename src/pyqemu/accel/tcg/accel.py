"""The ``tcg`` accelerator: listed so tools see it, refused because pyqemu has no TCG."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.accel.accel import AccelState
from pyqemu.qom.object import register_type
from pyqemu.util.errors import ConfigError

if TYPE_CHECKING:
    from pyqemu.hw.core.machine import MachineState


@register_type
class TcgAccel(AccelState):
    TYPE = "tcg-accel"
    NAME = DISPLAY_NAME = "tcg"
    UNAVAILABLE = "unavailable"

    def init_machine(self, machine: MachineState) -> None:
        raise ConfigError(
            "failed to initialize tcg: Function not implemented",
            hint="pyqemu runs guests with KVM; software emulation (TCG) is not implemented.",
        )
