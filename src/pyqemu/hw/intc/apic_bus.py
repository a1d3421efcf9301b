"""The APIC bus: how interrupt messages reach a machine's local APICs (QEMU's ``local_apics[]``).

An interrupt message names its targets by APIC id (physical mode, 0xFF for
all) or by logical destination, matched against each APIC's LDR in the
model its DFR selects (flat or cluster).  It comes as an MSI — a 4-byte
write into the window at 0xfee00000 (from the IOAPIC or a PCI device) — or
as an IPI written into an APIC's ICR.  Its delivery mode decides what the
targets do: latch the vector (fixed, lowest priority, ExtINT) or ask their
CPU for an SMI, NMI or INIT.

:class:`ApicBus` also carries the wiring around the APICs: the 8259's INT
line (to every APIC whose LINT0 accepts it), the EOI broadcast to the
IOAPICs for level-triggered vectors, and ``current_apic()`` — the APIC of
the CPU running on this thread, None for qtest and the monitor.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyqemu.hw.core.qdev import DeviceState
    from pyqemu.hw.intc.apic_core import ApicCore

MAX_APICS = 255
BROADCAST = 0xFF

# MSI address and data fields.
MSI_DEST_SHIFT = 12
MSI_DEST_MODE_SHIFT = 2
MSI_DELIVERY_SHIFT = 8
MSI_TRIGGER_SHIFT = 15


class DeliveryMode(enum.IntEnum):
    """How an interrupt message is delivered (ICR / MSI data bits 10:8, LVT bits 10:8)."""

    FIXED = 0
    LOWPRI = 1
    SMI = 2
    NMI = 4
    INIT = 5
    SIPI = 6
    EXTINT = 7


class CpuInterrupt(enum.IntFlag):
    """What an APIC asks of its CPU (QEMU's ``CPU_INTERRUPT_*`` bits)."""

    HARD = 0x0002
    POLL = 0x0010  # re-evaluate the APIC on the CPU's own thread (``apic_poll_irq``)
    SMI = 0x0040
    NMI = 0x0200
    INIT = 0x0400
    SIPI = 0x0800


#: Delivery modes that make the target CPUs act rather than latch a vector.
CPU_REQUESTS = {DeliveryMode.SMI: CpuInterrupt.SMI, DeliveryMode.NMI: CpuInterrupt.NMI,
                DeliveryMode.INIT: CpuInterrupt.INIT}


class ApicBus:
    """The machine's local APICs, indexed by their first APIC id, and their wiring.

    ``eoi_listeners`` get the vector of each EOI of a level-triggered
    interrupt (the IOAPICs' ``ioapic_eoi_broadcast``).
    """

    def __init__(self, current_apic: Callable[[], ApicCore | None] = lambda: None) -> None:
        self.apics: dict[int, ApicCore] = {}
        self.msi_mapped = False
        self.vapic: DeviceState | None = None
        self.eoi_listeners: list[Callable[[int], None]] = []
        self.current_apic = current_apic
        self.has_pic = False
        self.pic_level = 0
        #: Interrupts that found their IRR bit clear (``apic_report_irq_delivered``).
        self.irq_delivered = 0

    def _find_dest(self, dest: int) -> int | None:
        apic = self.apics.get(dest)
        if apic is not None and apic.id == dest:
            return dest
        for index in range(MAX_APICS):
            apic = self.apics.get(index)
            if apic is None:
                break
            if apic.id == dest:
                return index
        return None

    def indexes(self) -> list[int]:
        return sorted(self.apics)

    def destinations(self, dest: int, dest_mode: int) -> list[int]:
        """Indexes of the APICs a physical (0) or logical (1) destination names."""
        if dest_mode == 0:
            if dest == BROADCAST:
                return self.indexes()
            index = self._find_dest(dest)
            return [] if index is None else [index]
        found = []
        for index in range(MAX_APICS):  # flat (DFR 0xF) or cluster (0x0) logical mode
            apic = self.apics.get(index)
            if apic is None:
                break
            same_cluster = ((dest ^ apic.log_dest) & 0xF0) == 0
            flat = apic.dest_mode == 0xF and dest & apic.log_dest
            cluster = apic.dest_mode == 0 and same_cluster and dest & apic.log_dest & 0x0F
            if flat or cluster:
                found.append(index)
        return found

    def bus_deliver(self, targets: list[int], delivery_mode: int, vector: int, trigger: int) -> None:
        """Deliver to the APICs at ``targets`` (``apic_bus_deliver``)."""
        apics = [self.apics[i] for i in targets if i in self.apics]
        if delivery_mode == DeliveryMode.LOWPRI:
            if targets and targets[0] in self.apics:  # no arbitration: the lowest index wins
                self.apics[targets[0]].set_irq(vector, trigger)
            return
        request = CPU_REQUESTS.get(delivery_mode)
        if request is not None:
            for apic in apics:
                apic.cpu_interrupt(request)
        elif delivery_mode in (DeliveryMode.FIXED, DeliveryMode.EXTINT):
            for apic in apics:
                apic.set_irq(vector, trigger)

    def deliver_irq(self, dest: int, dest_mode: int, delivery_mode: int, vector: int, trigger: int) -> None:
        """An interrupt message on the APIC bus (``apic_deliver_irq``)."""
        self.bus_deliver(self.destinations(dest, dest_mode), delivery_mode, vector, trigger)

    def send_msi(self, addr: int, data: int) -> None:
        """A write to the MSI window at offset ``addr`` (the redirection hint is ignored)."""
        self.deliver_irq(
            (addr >> MSI_DEST_SHIFT) & 0xFF, (addr >> MSI_DEST_MODE_SHIFT) & 1,
            (data >> MSI_DELIVERY_SHIFT) & 7, data & 0xFF, (data >> MSI_TRIGGER_SHIFT) & 1,
        )

    def eoi_broadcast(self, vector: int) -> None:
        for listener in self.eoi_listeners:
            listener(vector)

    def pic_irq_request(self, level: int) -> None:
        """The 8259's INT line: to every APIC whose LINT0 takes it (QEMU's ``pic_irq_request``)."""
        self.pic_level = level
        for index in self.indexes():
            apic = self.apics[index]
            if apic.accept_pic_intr():
                apic.deliver_pic_intr(level)
