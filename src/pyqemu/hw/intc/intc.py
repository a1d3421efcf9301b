"""The ``intctrl`` interface (QEMU's ``InterruptStatsProvider``): what ``info irq`` and ``info pic`` ask."""

from __future__ import annotations

from pyqemu.qom.object import Interface, register_type

TYPE_INTERRUPT_STATS_PROVIDER = "intctrl"


@register_type
class InterruptStatsProvider(Interface):
    """An interrupt controller that can count its interrupts and describe its state."""

    TYPE = TYPE_INTERRUPT_STATS_PROVIDER

    def get_statistics(self) -> list[int] | None:
        """How often each input went from low to high, or None if another device reports them."""
        return None

    def print_info(self) -> str:
        """The controller's state as ``info pic`` prints it (newline-terminated lines)."""
        return ""


class IrqStats:
    """Rising edges counted per input line (QEMU's ``irq_level`` / ``irq_count``)."""

    def __init__(self, lines: int):
        self.levels = [0] * lines
        self.counts = [0] * lines

    def update(self, n: int, level: int) -> None:
        if level != self.levels[n]:
            self.levels[n] = level
            if level == 1:
                self.counts[n] += 1
