"""The PIIX3 IDE function of the ``pc`` board (``piix3-ide``, 8086:7010, function 01.1).

It runs in legacy ("compatibility") mode, which its programming interface
0x80 says and which the guest cannot change: the primary channel answers at
ports 0x1f0-0x1f7 and 0x3f6 and interrupts on ISA IRQ 14, the secondary at
0x170-0x177 and 0x376 on ISA IRQ 15.  The function has no PCI interrupt pin.
BAR 4 (16 ports, ``piix-bmdma-container``) holds each channel's bus-master
DMA registers, 8 ports per channel:

- +0 command (``piix-bmdma``): bit 0 starts/stops the engine, bit 3 the
  direction; only byte accesses work (wider reads give all ones);
- +2 status: bit 0 "active" follows the start bit, bits 1 (error) and 2
  (interrupt, set whenever the channel raises its IRQ) are cleared by
  writing 1, bits 5-6 (drive DMA capable) are plain read/write;
- +4 the PRD table address (``bmdma``, 32 bits, the low two bits read 0),
  accessible with aligned 8-, 16- and 32-bit accesses.

With no drive no transfer ever runs.  Like QEMU 7.2, the device takes its
ISA interrupt lines and its ports from the machine's ISA bus (``isa.0``),
whatever bus it is plugged into.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pyqemu.hw.ide.bus import IDEBus, ide_bus_new, ide_init_ioport
from pyqemu.hw.ide.core import IdeChannel
from pyqemu.hw.pci.pci import (
    PCI_BASE_ADDRESS_SPACE_IO,
    PCI_COMMAND,
    PCI_STATUS,
    PCI_VENDOR_ID_INTEL,
    PCIBus,
    PCIDevice,
    pci_bar_offset,
    pci_create_simple,
    pci_register_bar,
)
from pyqemu.memory.region import MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type

if TYPE_CHECKING:
    from pyqemu.hw.core.irq import Irq
    from pyqemu.hw.isa.isa_bus import IsaBus
    from pyqemu.qom.object import Object

TYPE_PIIX3_IDE = "piix3-ide"
PCI_DEVICE_ID_INTEL_82371SB_1 = 0x7010
PCI_CLASS_STORAGE_IDE = 0x0101
PIIX_IDE_PROG_IF_LEGACY = 0x80
#: Status after reset: medium DEVSEL timing, fast back-to-back capable.
PIIX_IDE_STATUS = 0x0280
BMDMA_BAR = 4
BMDMA_BAR_SIZE = 16
BMDMA_CHANNEL_STRIDE = 8
BMDMA_ADDR_OFFSET = 4
BMDMA_REGION_SIZE = 4
#: (command block, control port, ISA IRQ) of the primary and secondary channel.
LEGACY_CHANNELS = ((0x1F0, 0x3F6, 14), (0x170, 0x376, 15))
PIIX_IDE_UNITS = 2

BM_CMD_START = 0x01
BM_CMD_MASK = 0x09  # start and read/write direction
BM_STATUS_DMAING = 0x01
BM_STATUS_ERROR = 0x02
BM_STATUS_INT = 0x04
BM_STATUS_DRIVE_DMA = 0x60
BMDMA_REG_CMD = 0
BMDMA_REG_STATUS = 2


class Bmdma:
    """One channel's bus-master DMA registers; it also sees the channel's IRQ (``BMDMAState``)."""

    def __init__(self, irq: Callable[[int], None] | None = None) -> None:
        self.irq = irq
        self.reset()

    def reset(self) -> None:
        self.cmd = 0
        self.status = 0
        self.addr = 0

    def channel_irq(self, level: int) -> None:
        """The channel's interrupt passes through here: raising it sets the INT status bit."""
        if level:
            self.status |= BM_STATUS_INT
        if self.irq is not None:
            self.irq(level)

    # -- command and status (byte registers) ------------------------------------------

    def read(self, offset: int, size: int) -> int:
        if size != 1:
            return (1 << (8 * size)) - 1
        if offset & 3 == BMDMA_REG_CMD:
            return self.cmd
        return self.status if offset & 3 == BMDMA_REG_STATUS else 0xFF

    def write(self, offset: int, value: int, size: int) -> None:
        if size != 1:
            return
        if offset & 3 == BMDMA_REG_CMD:
            self._write_cmd(value)
        elif offset & 3 == BMDMA_REG_STATUS:
            self.status = (value & BM_STATUS_DRIVE_DMA) | (self.status & BM_STATUS_DMAING) | (
                self.status & ~value & (BM_STATUS_ERROR | BM_STATUS_INT))

    def _write_cmd(self, value: int) -> None:
        """Start or stop the engine; with no drive there is never anything to transfer."""
        if (value ^ self.cmd) & BM_CMD_START:
            if value & BM_CMD_START:
                self.status |= BM_STATUS_DMAING
            else:
                self.status &= ~BM_STATUS_DMAING
        self.cmd = value & BM_CMD_MASK

    # -- the PRD table address ------------------------------------------------------------

    def addr_read(self, offset: int, size: int) -> int:
        return (self.addr >> (offset * 8)) & ((1 << (8 * size)) - 1)

    def addr_write(self, offset: int, value: int, size: int) -> None:
        mask = ((1 << (8 * size)) - 1) << (offset * 8)
        self.addr = (self.addr & ~mask | (value << (offset * 8)) & mask) & ~3 & 0xFFFFFFFF


def find_isa_bus(dev: PCIDevice) -> IsaBus | None:
    """The machine's ISA bus, wherever it is in the tree (QEMU's global ``isabus``)."""
    from pyqemu.hw.core.bus import bus_walk, main_system_bus
    from pyqemu.hw.core.qdev import qdev_get_machine
    from pyqemu.hw.isa.isa_bus import IsaBus

    machine = qdev_get_machine(dev)
    root = main_system_bus(machine) if machine is not None else None
    if root is None:
        return None
    return next((bus for bus in bus_walk(root) if isinstance(bus, IsaBus)), None)


def channel_scheduler(dev: PCIDevice) -> Callable[[Callable[[], None]], None] | None:
    """Run a callback from a bottom half of the machine's main loop, as QEMU runs SRST."""
    from pyqemu.hw.core.qdev import qdev_get_machine

    loop = getattr(getattr(qdev_get_machine(dev), "host", None), "main_loop", None)
    if loop is None:
        return None
    return lambda callback: loop.bh_new(callback).schedule()


@register_type
class PIIX3IDE(PCIDevice):
    """The PIIX3 IDE controller (``piix3-ide``): two legacy channels and their bus-master DMA."""

    TYPE = TYPE_PIIX3_IDE
    CATEGORY = "Storage devices"
    HOTPLUGGABLE = False
    VENDOR_ID = PCI_VENDOR_ID_INTEL
    DEVICE_ID = PCI_DEVICE_ID_INTEL_82371SB_1
    CLASS_ID = PCI_CLASS_STORAGE_IDE
    CLASS_PROG = PIIX_IDE_PROG_IF_LEGACY

    def __init__(self) -> None:
        super().__init__()
        self.buses: list[IDEBus] = []
        self.bmdma: list[Bmdma] = []
        self.isa_bus: IsaBus | None = None
        self._ports: list[MemoryRegion] = []

    def pci_realize(self) -> None:
        self.buses, self.bmdma = [], []
        pci_register_bar(self, BMDMA_BAR, PCI_BASE_ADDRESS_SPACE_IO, self._bmdma_bar())
        self.isa_bus = find_isa_bus(self)
        schedule = channel_scheduler(self)
        io, unattached = self._io_space(), self._unattached()
        for n, (iobase, iobase2, _isairq) in enumerate(LEGACY_CHANNELS):
            bmdma = self.bmdma[n]
            channel = IdeChannel(bmdma.channel_irq, schedule)
            self.buses.append(ide_bus_new(self, n, PIIX_IDE_UNITS, channel))
            self._ports += ide_init_ioport(channel, io, iobase, iobase2, parent=unattached)
            bmdma.irq = self._isa_line(n)

    def _bmdma_bar(self) -> MemoryRegion:
        """The BAR 4 container with each channel's ``piix-bmdma`` and ``bmdma`` windows."""
        bar = MemoryRegion.new_container(self, "piix-bmdma-container", BMDMA_BAR_SIZE)
        for n in range(len(LEGACY_CHANNELS)):
            bmdma = Bmdma()
            self.bmdma.append(bmdma)
            regs = MemoryRegion.new_io(self, MemoryRegionOps(read=bmdma.read, write=bmdma.write),
                                       "piix-bmdma", BMDMA_REGION_SIZE)
            bar.add_subregion(n * BMDMA_CHANNEL_STRIDE, regs)
            addr = MemoryRegion.new_io(self, MemoryRegionOps(read=bmdma.addr_read, write=bmdma.addr_write),
                                       "bmdma", BMDMA_REGION_SIZE)
            bar.add_subregion(n * BMDMA_CHANNEL_STRIDE + BMDMA_ADDR_OFFSET, addr)
        return bar

    def _io_space(self) -> MemoryRegion:
        io = self.isa_bus.address_space_io if self.isa_bus is not None else None
        if io is None and isinstance(self.parent_bus, PCIBus):
            io = self.parent_bus.address_space_io
        if io is None:
            raise ValueError(f"{self.typename} needs an I/O space for its legacy ports")
        return io

    def _unattached(self) -> Object | None:
        from pyqemu.hw.core.qdev import qdev_get_machine

        machine = qdev_get_machine(self)
        return machine.unattached() if machine is not None else None

    def _isa_line(self, channel: int) -> Callable[[int], None]:
        """Drive ISA IRQ 14 or 15, looked up when it changes (so the board may wire it late)."""
        isairq = LEGACY_CHANNELS[channel][2]

        def set_level(level: int) -> None:
            irq: Irq | None = self.isa_bus.irqs[isairq] if self.isa_bus is not None else None
            if irq is not None:
                irq.set(level)

        return set_level

    def unrealize(self) -> None:
        for region in self._ports:
            if region.container is not None:
                region.container.del_subregion(region)
            region.unparent()
        self._ports = []
        super().unrealize()

    def reset(self) -> None:
        """Channels and DMA engines reset, decoding off (``piix_ide_reset``)."""
        super().reset()
        for bus, bmdma in zip(self.buses, self.bmdma, strict=True):
            bus.channel.reset()
            bmdma.reset()
        self.set_word(PCI_COMMAND, 0)
        self.set_word(PCI_STATUS, PIIX_IDE_STATUS)
        self.set_byte(pci_bar_offset(BMDMA_BAR), PCI_BASE_ADDRESS_SPACE_IO)


def piix3_ide_init(pci_bus: PCIBus, devfn: int) -> PIIX3IDE:
    """Create ``piix3-ide`` at ``devfn`` (01.1 on ``pc``) on ``pci_bus`` (``pci_piix3_ide_init``).

    Its channels drive ISA IRQ 14 and 15 of the machine's ISA bus: the board
    wires that bus's lines to its interrupt controller (``isa_bus_irqs``).
    """
    dev = pci_create_simple(pci_bus, devfn, TYPE_PIIX3_IDE)
    assert isinstance(dev, PIIX3IDE)
    return dev
