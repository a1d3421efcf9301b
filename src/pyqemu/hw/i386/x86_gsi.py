"""Global system interrupts: where an x86 board's interrupt lines go (QEMU's ``GSIState``, ``gsi_handler``).

Devices raise GSIs (ISA IRQ N is GSI N).  GSIs 0-15 reach both the 8259
pair and the I/O APIC's pins 0-15, 16-23 only the I/O APIC, and on microvm
24-47 its second I/O APIC.  The targets are filled in as the board creates
the interrupt controllers; until then a GSI only records its level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyqemu.hw.core.irq import Irq

ISA_NUM_IRQS = 16
IOAPIC_NUM_PINS = 24


class GSIState:
    """The routing of ``count`` GSIs to the PIC and I/O APIC inputs."""

    def __init__(self, count: int) -> None:
        self.levels = [0] * count
        self.i8259_irq: list[Irq | None] = [None] * ISA_NUM_IRQS
        self.ioapic_irq: list[Irq | None] = [None] * IOAPIC_NUM_PINS
        self.ioapic2_irq: list[Irq | None] = [None] * IOAPIC_NUM_PINS

    def handler(self, n: int, level: int) -> None:
        """GSI ``n`` changed to ``level`` (``gsi_handler``)."""
        self.levels[n] = level
        if n < ISA_NUM_IRQS and self.i8259_irq[n] is not None:
            self.i8259_irq[n].set(level)  # type: ignore[union-attr]
        target = self.ioapic_irq[n] if n < IOAPIC_NUM_PINS else self.ioapic2_irq[n - IOAPIC_NUM_PINS]
        if target is not None:
            target.set(level)
