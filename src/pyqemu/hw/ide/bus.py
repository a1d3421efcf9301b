"""IDE buses (type ``IDE``) and the legacy port windows of a channel (QEMU's ``ide-bus.c``, ``ioport.c``).

A controller provides one bus per channel (PIIX3: two, ``ide.0`` and
``ide.1``; AHCI: one per port).  A bus is named like any automatically named
bus: ``ide.N`` counted per machine, or ``ID.N`` when the controller has an
id.  It carries the channel's register file (:class:`IdeChannel`) and, as in
QEMU, how many units it takes (2 on a parallel channel, 1 on an AHCI port).
No drive can be plugged yet: pyqemu has no block layer, so ``ide-hd`` and
``ide-cd`` do not exist.

:func:`ide_init_ioport` maps a channel's command block (8 ports) and its
device control / alternate status port the way QEMU's port I/O lists do:
the regions are named ``ide``, have no owner (they appear as
``/machine/unattached/ide[N]``), and accesses are dispatched per width —
bytes go to the task-file registers, 16 and 32 bits at offset 0 to the
data port, a 16-bit access elsewhere as two byte accesses (the second only
inside the window, else its byte reads 0xff), and any other 32-bit access
reads all ones and writes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.hw.core.bus import BusState, qbus_new
from pyqemu.hw.ide.core import CMD_BLOCK_SIZE, REG_DATA, IdeChannel
from pyqemu.hw.isa.portio import portio_ops
from pyqemu.memory.region import MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type

if TYPE_CHECKING:
    from pyqemu.hw.core.qdev import DeviceState
    from pyqemu.qom.object import Object

TYPE_IDE_BUS = "IDE"
IDE_REGION_NAME = "ide"
CTRL_BLOCK_SIZE = 1
#: Port I/O lists accept any width at any offset; the dispatch below sorts them out.
DATA_PORT_SIZES = (2, 4)


@register_type
class IDEBus(BusState):
    """An IDE bus: one channel of a controller (type ``IDE``)."""

    TYPE = TYPE_IDE_BUS

    def __init__(self) -> None:
        super().__init__()
        self.bus_id = 0
        self.max_units = 2
        self.channel = IdeChannel()


def ide_bus_new(parent: DeviceState, bus_id: int, max_units: int,
                channel: IdeChannel | None = None) -> IDEBus:
    """Create the controller's bus number ``bus_id`` (``ide_bus_init``), named ``ide.N`` or ``ID.N``."""
    bus = qbus_new(TYPE_IDE_BUS, parent)
    assert isinstance(bus, IDEBus)
    bus.bus_id = bus_id
    bus.max_units = max_units
    if channel is not None:
        bus.channel = channel
    return bus


# -- the legacy port windows ---------------------------------------------------------------


def _command_block_ops(channel: IdeChannel) -> MemoryRegionOps:
    """QEMU's port list for the 8 command block ports: byte registers plus the 16/32-bit data port."""
    data = {(REG_DATA, size): (lambda size=size: channel.data_read(size),
                               lambda value, size=size: channel.data_write(size, value))
            for size in DATA_PORT_SIZES}
    return portio_ops(0, CMD_BLOCK_SIZE, channel.ioport_read, channel.ioport_write, data)


def _control_ops(channel: IdeChannel) -> MemoryRegionOps:
    """The one-port list at base2: alternate status when read, device control when written."""
    return portio_ops(0, CTRL_BLOCK_SIZE, lambda _port: channel.status_read(),
                      lambda _port, value: channel.ctrl_write(value))


def ide_init_ioport(channel: IdeChannel, io: MemoryRegion, iobase: int, iobase2: int,
                    *, parent: Object | None) -> list[MemoryRegion]:
    """Map ``channel``'s command block at ``iobase`` and its control port at ``iobase2`` (0: none).

    The regions are children of ``parent`` (``/machine/unattached``), as
    QEMU's owner-less port lists are; they are returned for unmapping.
    """
    regions = [MemoryRegion.new_io(None, _command_block_ops(channel), IDE_REGION_NAME,
                                   CMD_BLOCK_SIZE, parent=parent)]
    io.add_subregion(iobase, regions[0])
    if iobase2:
        regions.append(MemoryRegion.new_io(None, _control_ops(channel), IDE_REGION_NAME,
                                           CTRL_BLOCK_SIZE, parent=parent))
        io.add_subregion(iobase2, regions[1])
    return regions
