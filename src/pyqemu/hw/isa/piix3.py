"""The PIIX3 PCI-to-ISA bridge of the ``pc`` board (``PIIX3``, 8086:7000, function 01.0).

It owns ``isa.0``, whose ports are the machine's I/O space and whose
memory is the PCI memory window.  It also answers the reset control
register at port 0xcf9 (``piix3-reset-control``, above the PCI index
window): writing bit 2 resets the machine, bit 1 only chooses the reset
type and reads back.  :class:`PCIIsaBridge` is what the Q35 LPC bridge
shares with it.

PCI interrupts: slot S's pin N is PIRQ (S - 1 + N) mod 4, and PIRQ routing
registers 0x60-0x63 send each PIRQ to an ISA IRQ (bit 7 set: nowhere); an
ISA IRQ is high while any PIRQ routed to it is, as in QEMU's ``piix3_set_irq``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from pyqemu.hw.pci.pci import PCI_CLASS_BRIDGE_ISA, PCI_STATUS, PCI_VENDOR_ID_INTEL, PCIBus, PCIDevice
from pyqemu.memory.region import MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type

if TYPE_CHECKING:
    from pyqemu.hw.core.irq import IrqLine

TYPE_PIIX3_PCI_DEVICE = "PIIX3"
PCI_DEVICE_ID_INTEL_82371SB_0 = 0x7000
RCR_IOPORT = 0xCF9
#: QEMU maps the reset register over byte 1 of the PCI index window (0xcf8-0xcfb) at a higher
#: priority; a 32-bit access to 0xcf8 still reaches the index window whole, because QEMU only
#: splits accesses at range boundaries for RAM.  pyqemu's AddressSpace splits I/O accesses too,
#: which would send byte 1 of every index write to the reset register, so the register stays
#: unmapped until the memory layer dispatches I/O accesses whole.
RESET_CONTROL_MAPPED = True
RCR_RESET = 0x04
RCR_SYS_RST = 0x02
#: PIRQ route control registers 0x60-0x63: 0x80 means "routing disabled" after reset.
PIIX_PIRQCA = 0x60
PIIX_NUM_PIRQS = 4
PIIX_NUM_PIC_IRQS = 16
PIRQ_ROUTING_DISABLED = 0x80
PCI_STATUS_DEVSEL_MEDIUM = 0x0200
#: What QEMU's PIIX3 reset puts in its chipset registers (ISA I/O recovery, X-bus chip select,
#: top of memory, motherboard IRQ and DMA routing, SMI control...); all other bytes keep their value.
PIIX3_RESET_REGISTERS = {
    0x4C: 0x4D, 0x4E: 0x03, 0x4F: 0x00, 0x69: 0x02, 0x70: 0x80, 0x76: 0x0C, 0x77: 0x0C,
    0x78: 0x02, 0x79: 0x00, 0x80: 0x00, 0x82: 0x00, 0xA0: 0x08, 0xA2: 0x00, 0xA3: 0x00, 0xA4: 0x00,
    0xA5: 0x00, 0xA6: 0x00, 0xA7: 0x00, 0xA8: 0x0F, 0xAA: 0x00, 0xAB: 0x00, 0xAC: 0x00, 0xAE: 0x00,
}


class PCIIsaBridge(PCIDevice):
    """A PCI function that owns ``isa.0`` and the 0xcf9 reset control register."""

    RESET_CONTROL_NAME: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self.rcr = 0
        self.isa_bus = None
        self.rcr_mem = MemoryRegion.new_io(
            self, MemoryRegionOps(read=self._rcr_read, write=self._rcr_write), self.RESET_CONTROL_NAME, 1
        )

    def pci_realize(self) -> None:
        from pyqemu.hw.isa.isa_bus import isa_bus_new

        bus = self.parent_bus
        assert isinstance(bus, PCIBus) and bus.address_space_io is not None
        self.isa_bus = isa_bus_new(self, bus.address_space_io, memory=bus.address_space_mem)
        from pyqemu.hw.dma.i8257 import i8257_dma_init

        i8257_dma_init(self.isa_bus, False)  # the two DMA controllers of every PC southbridge
        if RESET_CONTROL_MAPPED:
            bus.address_space_io.add_subregion_overlap(RCR_IOPORT, self.rcr_mem, 1)

    def unrealize(self) -> None:
        bus = self.parent_bus
        if RESET_CONTROL_MAPPED and isinstance(bus, PCIBus) and bus.address_space_io is not None:
            bus.address_space_io.del_subregion(self.rcr_mem)
        super().unrealize()

    def reset(self) -> None:
        super().reset()
        self.rcr = 0

    def _rcr_read(self, offset: int, size: int) -> int:
        return self.rcr

    def _rcr_write(self, offset: int, value: int, size: int) -> None:
        if value & RCR_RESET:
            from pyqemu.hw.core.qdev import qdev_get_machine

            host = getattr(qdev_get_machine(self), "host", None)
            if host is not None:
                host.guest_reset()
            return
        self.rcr = value & RCR_SYS_RST


@register_type
class PIIX3(PCIIsaBridge):
    """The PIIX3 ISA bridge (``PIIX3``)."""

    TYPE = TYPE_PIIX3_PCI_DEVICE
    USER_CREATABLE = False
    HOTPLUGGABLE = False
    VENDOR_ID = PCI_VENDOR_ID_INTEL
    DEVICE_ID = PCI_DEVICE_ID_INTEL_82371SB_0
    CLASS_ID = PCI_CLASS_BRIDGE_ISA
    RESET_CONTROL_NAME = "piix3-reset-control"

    def __init__(self) -> None:
        super().__init__()
        #: The ISA IRQ lines PIRQs are routed to (the board's GSIs 0-15).
        self.pic: Sequence[IrqLine] = ()

    def pci_realize(self) -> None:
        from pyqemu.hw.pci.pci_intx import pci_bus_irqs

        super().pci_realize()
        bus = self.parent_bus
        assert isinstance(bus, PCIBus)
        pci_bus_irqs(bus, self._set_pirq, pci_slot_get_pirq, PIIX_NUM_PIRQS)

    def reset(self) -> None:
        super().reset()
        self.set_word(PCI_STATUS, PCI_STATUS_DEVSEL_MEDIUM)
        for offset, value in PIIX3_RESET_REGISTERS.items():
            self.config[offset] = value
        pirqs = bytes([PIRQ_ROUTING_DISABLED] * PIIX_NUM_PIRQS)
        self.config[PIIX_PIRQCA:PIIX_PIRQCA + PIIX_NUM_PIRQS] = pirqs
        self._update_all_pics()

    def config_write(self, offset: int, value: int, size: int) -> None:
        super().config_write(offset, value, size)
        if offset < PIIX_PIRQCA + PIIX_NUM_PIRQS and offset + size > PIIX_PIRQCA:
            self._update_all_pics()

    def _pic_level(self, pic_irq: int) -> int:
        """Whether any PIRQ routed to ISA IRQ ``pic_irq`` is asserted."""
        from pyqemu.hw.pci.pci_intx import pci_bus_get_irq_level

        bus = self.parent_bus
        assert isinstance(bus, PCIBus)
        return int(any(self.config[PIIX_PIRQCA + pirq] == pic_irq and pci_bus_get_irq_level(bus, pirq)
                       for pirq in range(PIIX_NUM_PIRQS)))

    def _set_pirq(self, pirq: int, level: int) -> None:
        pic_irq = self.config[PIIX_PIRQCA + pirq]
        if pic_irq < PIIX_NUM_PIC_IRQS and pic_irq < len(self.pic):
            self.pic[pic_irq].set(self._pic_level(pic_irq))

    def _update_all_pics(self) -> None:
        """The routing changed: recompute every ISA IRQ the PIIX3 drives."""
        if self.parent_bus is None:
            return
        for pic_irq, line in enumerate(self.pic[:PIIX_NUM_PIC_IRQS]):
            line.set(self._pic_level(pic_irq))


def pci_slot_get_pirq(device: PCIDevice, pin: int) -> int:
    """PIIX3's swizzle: slot S, pin N is PIRQ (S - 1 + N) mod 4 (``pci_slot_get_pirq``)."""
    from pyqemu.hw.pci.pci import pci_slot

    return (pin + pci_slot(device.devfn) - 1) & (PIIX_NUM_PIRQS - 1)
