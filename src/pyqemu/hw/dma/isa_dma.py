"""The ISA DMA interface (QOM ``isa-dma``) and where an ISA bus keeps its DMA controllers.

A device that moves data by DMA (the floppy controller on channel 2, a
sound card) works with the controller through this interface, as QEMU's
``IsaDmaClass`` has it:

- ``register_channel(nchan, handler)`` once, at realize;
- ``hold_dreq(nchan)`` when it has data to move (its DREQ line goes high),
  ``release_dreq(nchan)`` when it is done;
- while DREQ is held and the guest has unmasked the channel, the controller
  calls ``handler(nchan, pos, size)``: ``pos`` is how far the transfer got,
  ``size`` the programmed length in bytes; the handler moves data with
  ``read_memory`` / ``write_memory`` and returns the new position;
- ``schedule()`` asks for the next call as soon as possible.

Channels 0-3 belong to the first (8-bit) controller, 4-7 to the second.
A board registers both with :func:`isa_bus_dma`; a device finds the one for
its channel with :func:`isa_get_dma`; the bus keeps them in ``IsaBus.dma``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING

from pyqemu.qom.object import Interface, register_type

if TYPE_CHECKING:
    from pyqemu.hw.isa.isa_bus import IsaBus

TYPE_ISADMA = "isa-dma"
CHANNELS_PER_CONTROLLER = 4

#: ``handler(nchan, pos, size) -> new pos``: move data for channel ``nchan``.
TransferHandler = Callable[[int, int, int], int]


class IsaDmaTransferMode(enum.IntEnum):
    """Bits 3:2 of a channel's mode register (QEMU dropped this from the interface in 5.0)."""

    VERIFY = 0
    WRITE = 1  # device to memory
    READ = 2  # memory to device
    ILLEGAL = 3


@register_type
class IsaDma(Interface):
    """An ISA DMA controller as devices see it (QOM interface ``isa-dma``)."""

    TYPE = TYPE_ISADMA

    def register_channel(self, nchan: int, handler: TransferHandler) -> None:
        """Make ``handler`` the one called for channel ``nchan``."""
        raise NotImplementedError

    def hold_dreq(self, nchan: int) -> None:
        """The device requests service on ``nchan`` (DREQ high)."""
        raise NotImplementedError

    def release_dreq(self, nchan: int) -> None:
        """The device no longer requests service on ``nchan``."""
        raise NotImplementedError

    def read_memory(self, nchan: int, pos: int, length: int) -> bytes:
        """``length`` bytes of guest memory at the channel's address plus ``pos``."""
        raise NotImplementedError

    def write_memory(self, nchan: int, data: bytes, pos: int) -> int:
        """Store ``data`` at the channel's address plus ``pos``; returns how many bytes."""
        raise NotImplementedError

    def has_autoinitialization(self, nchan: int) -> bool:
        """Whether the guest programmed ``nchan`` to restart when its count runs out."""
        raise NotImplementedError

    def schedule(self) -> None:
        """Ask for the next transfer round at once rather than when the controller idles."""
        raise NotImplementedError


def isa_bus_dma(bus: IsaBus, dma8: IsaDma, dma16: IsaDma) -> None:
    """Board code: make ``dma8`` serve channels 0-3 and ``dma16`` channels 4-7 of ``bus``."""
    if bus.dma is not None:
        raise ValueError(f"{bus.name} already has its DMA controllers")
    bus.dma = (dma8, dma16)


def isa_get_dma(bus: IsaBus, nchan: int) -> IsaDma | None:
    """The controller serving channel ``nchan`` on ``bus``, or None if the board has none."""
    if bus.dma is None:
        return None
    controller: IsaDma = bus.dma[1 if nchan >= CHANNELS_PER_CONTROLLER else 0]
    return controller
