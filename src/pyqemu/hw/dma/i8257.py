"""The i8257 ISA DMA controller (an 8237A as PCs use it), QEMU 7.2's ``i8257``.

A PC has two: the first (``base`` 0, ``dshift`` 0) serves 8-bit channels
0-3; the second (``base`` 0xc0, ``dshift`` 1) 16-bit channels 4-7, its
channel 0 being the cascade.  ``dshift`` 1 spaces the registers two ports
apart and makes addresses and counts count 16-bit words.

Registers of one controller (ports relative to ``base``, times ``1 << dshift``):

- 0-7, ``dma-chan``: per channel, the address (even port) and count (odd
  port), written and read low byte then high byte as a flip-flop selects;
  writing a high byte reloads the channel's current address and count;
- 8-15, ``dma-cont``: command / status (reading clears the terminal-count
  bits 3:0, bits 7:4 are the pending requests), request, single mask, mode,
  clear flip-flop, master clear, clear all masks, write all masks.  As in
  QEMU, reading offset 9 returns the mask register, and a command other
  than 0 or "controller disable" (0x04) is ignored;
- ``dma-page`` (0x81-0x83 and 0x87 from ``page-base``): bits 23:16 of each
  channel's address, and ``dma-pageh`` (bits 30:24) when ``pageh-base`` is
  not -1.

The engine: a device registers a handler for its channel and holds DREQ;
every time the channel is unmasked with a request pending, the controller
calls the handler (see :mod:`pyqemu.hw.dma.isa_dma`) and sets the channel's
terminal-count bit once the handler reports the whole programmed length
moved.  Runs happen synchronously whenever DREQ, a request or a mask
changes — so a floppy transfer completes within the guest's port write, as
in QEMU — and, while some channel ran, again on the main loop after at most
:data:`IDLE_RERUN_NS` (QEMU uses an idle bottom half, which runs within
10 ms); ``schedule()`` brings that rerun forward to the next loop iteration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from pyqemu.hw.core.qdev import qdev_get_machine
from pyqemu.hw.core.qdev_properties import prop_int32
from pyqemu.hw.dma.isa_dma import IsaDma, IsaDmaTransferMode, TransferHandler, isa_bus_dma
from pyqemu.hw.isa.isa_bus import IsaBus, IsaDevice, isa_address_space_io, isa_new, isa_realize_and_unref
from pyqemu.hw.isa.portio import isa_register_portio_list, isa_unregister_portio_list
from pyqemu.memory.region import AccessSizes, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type
from pyqemu.util.main_loop import BottomHalf, ClockType, Timer

TYPE_I8257 = "i8257"
CHANNELS = 4
ADDR, COUNT = 0, 1
REGS_PER_BLOCK = 8
BYTE = 0xFF
UINT64_MASK = (1 << 64) - 1

# dma-cont registers (offset >> dshift)
CONT_COMMAND = 0  # write: command, read: status
CONT_REQUEST = 1  # write: request, read: mask (QEMU's choice)
CONT_SINGLE_MASK = 2
CONT_MODE = 3
CONT_CLEAR_FLIP_FLOP = 4
CONT_MASTER_CLEAR = 5
CONT_CLEAR_MASK = 6
CONT_WRITE_MASK = 7

CMD_BLOCK_CONTROLLER = 0x04
CMD_NOT_SUPPORTED = BYTE & ~CMD_BLOCK_CONTROLLER
CHANNEL_MASK = 0x03
REQUEST_SET = 0x04  # request and single-mask writes: set (1) or clear (0)
STATUS_REQUEST_SHIFT = 4
STATUS_TC_MASK = 0x0F
MODE_TRANSFER_MASK = 0x0C
MODE_TRANSFER_SHIFT = 2
MODE_AUTOINIT = 0x10
MODE_DECREMENT = 0x20
PAGEH_MASK = 0x7F

#: Which channel a page register port serves, by ``port & 7`` (-1: none).
PAGE_PORT_CHANNEL = (-1, 2, 3, 1, -1, -1, -1, 0)
PAGE_RUNS = ((1, 3), (7, 1))
PAGEH_RUNS = ((1, 3), (7, 3))
NO_PAGEH = -1

#: The main loop reruns active channels after this long (QEMU's idle bottom half).
IDLE_RERUN_NS = 10_000_000


class GuestMemory(Protocol):
    """Where DMA reads and writes: an :class:`~pyqemu.memory.address_space.AddressSpace`."""

    def read_bytes(self, addr: int, length: int) -> bytes: ...

    def write_bytes(self, addr: int, data: bytes) -> object: ...


def _unregistered(nchan: int, pos: int, size: int) -> int:
    """The handler of a channel no device registered: nothing moves."""
    return pos


@dataclass
class DmaChannel:
    """One channel's registers: programmed (``base``) and current (``now``) address and count."""

    base: list[int] = field(default_factory=lambda: [0, 0])
    now: list[int] = field(default_factory=lambda: [0, 0])
    mode: int = 0
    page: int = 0
    pageh: int = 0
    handler: TransferHandler = _unregistered


class I8257Core:
    """One controller's registers and transfer engine, without QOM.

    ``memory`` is the guest's memory address space; ``rearm()`` is called
    after a round in which a channel ran, to have :meth:`run` called again soon.
    """

    def __init__(self, dshift: int, memory: GuestMemory, rearm: Callable[[], None] = lambda: None):
        self.dshift = dshift
        self._memory = memory
        self._rearm = rearm
        self.channels = [DmaChannel() for _ in range(CHANNELS)]
        self.status = 0
        self.command = 0
        self.mask = 0
        self.flip_flop = 0
        self._running = False

    def _toggle_flip_flop(self) -> int:
        flip_flop = self.flip_flop
        self.flip_flop = flip_flop ^ 1
        return flip_flop

    def _select(self, offset: int) -> int:
        return (offset >> self.dshift) & 0x0F

    # -- dma-chan ----------------------------------------------------------------

    def read_chan(self, offset: int, size: int = 1) -> int:
        """Current address or remaining count, one byte at a time."""
        port = self._select(offset)
        chan = self.channels[port >> 1]
        high = self._toggle_flip_flop()
        if port & 1:
            value = (chan.base[COUNT] << self.dshift) - chan.now[COUNT]
        else:
            step = -1 if chan.mode & MODE_DECREMENT else 1
            value = chan.now[ADDR] + chan.now[COUNT] * step
        return (value >> (self.dshift + 8 * high)) & BYTE

    def write_chan(self, offset: int, value: int, size: int = 1) -> None:
        """Program an address or count; the high byte restarts the channel from its base."""
        port = self._select(offset)
        index = port >> 1
        chan = self.channels[index]
        reg = port & 1
        if self._toggle_flip_flop():
            chan.base[reg] = (chan.base[reg] & BYTE) | ((value << 8) & 0xFF00)
            chan.now[ADDR] = chan.base[ADDR] << self.dshift
            chan.now[COUNT] = 0
        else:
            chan.base[reg] = (chan.base[reg] & 0xFF00) | (value & BYTE)

    # -- dma-cont ----------------------------------------------------------------

    def read_cont(self, offset: int, size: int = 1) -> int:
        reg = self._select(offset)
        if reg == CONT_COMMAND:
            value = self.status
            self.status &= ~STATUS_TC_MASK & BYTE
            return value
        if reg == CONT_REQUEST:
            return self.mask
        return 0

    def write_cont(self, offset: int, value: int, size: int = 1) -> None:
        reg = self._select(offset)
        value &= BYTE
        ichan = value & CHANNEL_MASK
        if reg == CONT_COMMAND:
            if not value or not value & CMD_NOT_SUPPORTED:
                self.command = value
        elif reg == CONT_REQUEST:
            request = 1 << (ichan + STATUS_REQUEST_SHIFT)
            self.status = (self.status | request) if value & REQUEST_SET else (self.status & ~request)
            self.status &= ~(1 << ichan)
            self.run()
        elif reg == CONT_SINGLE_MASK:
            self.mask = (self.mask | 1 << ichan) if value & REQUEST_SET else (self.mask & ~(1 << ichan))
            self.run()
        elif reg == CONT_MODE:
            self.channels[ichan].mode = value
        elif reg == CONT_CLEAR_FLIP_FLOP:
            self.flip_flop = 0
        elif reg == CONT_MASTER_CLEAR:
            self.flip_flop = 0
            self.mask = BYTE
            self.status = 0
            self.command = 0
        elif reg == CONT_CLEAR_MASK:
            self.mask = 0
            self.run()
        elif reg == CONT_WRITE_MASK:
            self.mask = value
            self.run()

    def reset(self) -> None:
        """A master clear: everything masked, no requests; addresses, counts and modes stay."""
        self.write_cont(CONT_MASTER_CLEAR << self.dshift, 0)

    # -- page registers (absolute port numbers) ------------------------------------

    def read_page(self, port: int) -> int:
        index = PAGE_PORT_CHANNEL[port & 7]
        return self.channels[index].page if index >= 0 else 0

    def write_page(self, port: int, value: int) -> None:
        index = PAGE_PORT_CHANNEL[port & 7]
        if index >= 0:
            self.channels[index].page = value & BYTE

    def read_pageh(self, port: int) -> int:
        index = PAGE_PORT_CHANNEL[port & 7]
        return self.channels[index].pageh if index >= 0 else 0

    def write_pageh(self, port: int, value: int) -> None:
        index = PAGE_PORT_CHANNEL[port & 7]
        if index >= 0:
            self.channels[index].pageh = value & BYTE

    # -- the engine ----------------------------------------------------------------

    def _channel(self, nchan: int) -> DmaChannel:
        return self.channels[nchan & CHANNEL_MASK]

    def register_channel(self, nchan: int, handler: TransferHandler) -> None:
        self._channel(nchan).handler = handler

    def hold_dreq(self, nchan: int) -> None:
        self.status |= 1 << ((nchan & CHANNEL_MASK) + STATUS_REQUEST_SHIFT)
        self.run()

    def release_dreq(self, nchan: int) -> None:
        self.status &= ~(1 << ((nchan & CHANNEL_MASK) + STATUS_REQUEST_SHIFT))
        self.run()

    def has_autoinitialization(self, nchan: int) -> bool:
        return bool(self._channel(nchan).mode & MODE_AUTOINIT)

    def transfer_mode(self, nchan: int) -> IsaDmaTransferMode:
        return IsaDmaTransferMode((self._channel(nchan).mode & MODE_TRANSFER_MASK) >> MODE_TRANSFER_SHIFT)

    def is_active(self, ichan: int) -> bool:
        """Whether channel ``ichan`` (0-3) is unmasked and has a request pending."""
        return not self.mask & (1 << ichan) and bool(self.status & (1 << (ichan + STATUS_REQUEST_SHIFT)))

    def run(self) -> None:
        """Give every active channel one call of its handler (``i8257_dma_run``)."""
        if self._running:  # a handler changed DREQ or masks: look again later
            self._rearm()
            return
        self._running = True
        ran = False
        try:
            for ichan in range(CHANNELS):
                if self.is_active(ichan):
                    self._channel_run(ichan)
                    ran = True
        finally:
            self._running = False
        if ran:
            self._rearm()

    def _channel_run(self, ichan: int) -> None:
        chan = self.channels[ichan]
        size = (chan.base[COUNT] + 1) << self.dshift
        pos = chan.handler(ichan + (self.dshift << 2), chan.now[COUNT], size)
        chan.now[COUNT] = pos
        if pos == size:
            self.status |= 1 << ichan

    def _address(self, chan: DmaChannel) -> int:
        return ((chan.pageh & PAGEH_MASK) << 24) | (chan.page << 16) | chan.now[ADDR]

    def read_memory(self, nchan: int, pos: int, length: int) -> bytes:
        """Guest memory for a memory-to-device transfer; a verify transfer reads nothing (zeros)."""
        chan = self._channel(nchan)
        if not chan.mode & MODE_TRANSFER_MASK:
            return bytes(length)
        addr = self._address(chan)
        if not chan.mode & MODE_DECREMENT:
            return self._memory.read_bytes((addr + pos) & UINT64_MASK, length)
        data = bytearray(self._memory.read_bytes((addr - pos - length) & UINT64_MASK, length))
        # QEMU "reverses" a decrementing read by mirroring the second half onto the first.
        for i in range(length >> 1):
            data[i] = data[length - i - 1]
        return bytes(data)

    def write_memory(self, nchan: int, data: bytes, pos: int) -> int:
        """Store device data in guest memory; a verify transfer stores nothing."""
        chan = self._channel(nchan)
        if chan.mode & MODE_TRANSFER_MASK:
            addr = self._address(chan)
            start = addr + pos if not chan.mode & MODE_DECREMENT else addr - pos - len(data)
            self._memory.write_bytes(start & UINT64_MASK, bytes(data))
        return len(data)


# -- the QOM device ("i8257") -------------------------------------------------------


def _byte_ops(read: Callable[[int, int], int], write: Callable[[int, int, int], None]) -> MemoryRegionOps:
    return MemoryRegionOps(read=read, write=write, impl=AccessSizes(1, 1))


@register_type
class I8257State(IsaDevice, IsaDma):
    """One ISA DMA controller (type ``i8257``); boards create the pair with :func:`i8257_dma_init`."""

    TYPE = TYPE_I8257
    USER_CREATABLE = False  # useful only once isa_bus_dma() wired it
    PROPERTIES = (
        prop_int32("base", default=0x00),
        prop_int32("page-base", default=0x80),
        prop_int32("pageh-base", default=0x480),
        prop_int32("dshift", default=0),
    )

    def __init__(self) -> None:
        super().__init__()
        self.core: I8257Core | None = None
        self._regions: list[MemoryRegion] = []
        self._page_regions: list[MemoryRegion] = []
        self._rerun_timer: Timer | None = None
        self._rerun_bh: BottomHalf | None = None
        self._realtime_ns: Callable[[], int] = lambda: 0

    def _core(self) -> I8257Core:
        assert self.core is not None, "i8257 used before realize"
        return self.core

    def realize(self) -> None:
        machine = qdev_get_machine(self)
        loop = machine.host.main_loop
        self._rerun_timer = loop.timer_new(ClockType.REALTIME, self.run)
        self._rerun_bh = loop.bh_new(self.run)
        self._realtime_ns = loop.clock(ClockType.REALTIME).now_ns
        core = self.core = I8257Core(self.dshift, machine.memory_system.address_space_memory, self._rearm)
        io = isa_address_space_io(self)
        block = REGS_PER_BLOCK << self.dshift
        chan = MemoryRegion.new_io(self, _byte_ops(core.read_chan, core.write_chan), "dma-chan", block)
        io.add_subregion(self.base, chan)
        self._page_regions = isa_register_portio_list(
            self, self.page_base, PAGE_RUNS, "dma-page", core.read_page, core.write_page
        )
        if self.pageh_base >= 0:
            self._page_regions += isa_register_portio_list(
                self, self.pageh_base, PAGEH_RUNS, "dma-pageh", core.read_pageh, core.write_pageh
            )
        cont = MemoryRegion.new_io(self, _byte_ops(core.read_cont, core.write_cont), "dma-cont", block)
        io.add_subregion(self.base + block, cont)
        self._regions = [chan, cont]

    def unrealize(self) -> None:
        io = isa_address_space_io(self)
        for region in self._regions:
            io.del_subregion(region)
            region.unparent()
        isa_unregister_portio_list(self, self._page_regions)
        self._regions, self._page_regions = [], []
        if self._rerun_timer is not None:
            self._rerun_timer.delete()

    def reset(self) -> None:
        if self.core is not None:
            self.core.reset()

    # -- rerunning active channels from the main loop -------------------------------

    def _rearm(self) -> None:
        timer = self._rerun_timer
        if timer is not None and not timer.pending:
            timer.mod(self._realtime_ns() + IDLE_RERUN_NS)

    def run(self) -> None:
        """Run every active channel now (what the main loop does after a round)."""
        self._core().run()

    # -- the isa-dma interface -------------------------------------------------------

    def register_channel(self, nchan: int, handler: TransferHandler) -> None:
        self._core().register_channel(nchan, handler)

    def hold_dreq(self, nchan: int) -> None:
        self._core().hold_dreq(nchan)

    def release_dreq(self, nchan: int) -> None:
        self._core().release_dreq(nchan)

    def read_memory(self, nchan: int, pos: int, length: int) -> bytes:
        return self._core().read_memory(nchan, pos, length)

    def write_memory(self, nchan: int, data: bytes, pos: int) -> int:
        return self._core().write_memory(nchan, data, pos)

    def has_autoinitialization(self, nchan: int) -> bool:
        return self._core().has_autoinitialization(nchan)

    def transfer_mode(self, nchan: int) -> IsaDmaTransferMode:
        """Read (memory to device), write (device to memory) or verify, from the mode register."""
        return self._core().transfer_mode(nchan)

    def schedule(self) -> None:
        """Bring a pending rerun forward to the next main loop iteration."""
        timer = self._rerun_timer
        if timer is not None and timer.pending and self._rerun_bh is not None:
            timer.delete()
            self._rerun_bh.schedule()


def i8257_dma_init(bus: IsaBus, high_page_enable: bool) -> tuple[I8257State, I8257State]:
    """Board code: the PC's two controllers (8-bit at 0x00, 16-bit at 0xc0), registered with ``bus``."""
    controllers = []
    for base, page_base, pageh_base, dshift in ((0x00, 0x80, 0x480, 0), (0xC0, 0x88, 0x488, 1)):
        dev = isa_new(TYPE_I8257)
        dev.property_set("base", base)
        dev.property_set("page-base", page_base)
        dev.property_set("pageh-base", pageh_base if high_page_enable else NO_PAGEH)
        dev.property_set("dshift", dshift)
        isa_realize_and_unref(dev, bus)
        assert isinstance(dev, I8257State)
        controllers.append(dev)
    isa_bus_dma(bus, controllers[0], controllers[1])
    return controllers[0], controllers[1]
