"""The debug exit port (``isa-debug-exit``): a guest write ends the emulator.

Test kernels report their result this way.  Writing value V asks for exit
status ``(V << 1) | 1``, so a guest can never make the emulator exit with 0
(the operating system keeps the low 8 bits of the status).  Reads return 0.
"""

from __future__ import annotations

from collections.abc import Callable

from pyqemu.hw.core.qdev import qdev_get_machine
from pyqemu.hw.core.qdev_properties import prop_uint32
from pyqemu.hw.isa.isa_bus import IsaDevice, isa_register_ioport
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type

DEFAULT_IOBASE = 0x501
DEFAULT_IOSIZE = 2
VALID_ACCESS = AccessSizes(1, 4)


def exit_status(value: int) -> int:
    """The exit status QEMU passes to ``exit()`` for a write of ``value``."""
    return (value << 1) | 1


class DebugExitCore:
    """The port's behaviour: ``request_exit(status)`` ends the emulator."""

    def __init__(self, request_exit: Callable[[int], None]):
        self._request_exit = request_exit

    def read(self, offset: int, size: int = 1) -> int:
        return 0

    def write(self, offset: int, value: int, size: int = 1) -> None:
        self._request_exit(exit_status(value))


@register_type
class IsaDebugExit(IsaDevice):
    """The debug exit port on the ISA bus (type ``isa-debug-exit``)."""

    TYPE = "isa-debug-exit"
    CATEGORY = "Misc devices"
    PROPERTIES = (
        prop_uint32("iobase", default=DEFAULT_IOBASE),
        prop_uint32("iosize", default=DEFAULT_IOSIZE),
    )

    def realize(self) -> None:
        self.core = DebugExitCore(qdev_get_machine(self).host.guest_exit)
        ops = MemoryRegionOps(
            read=self.core.read, write=self.core.write, endianness=Endianness.LITTLE, valid=VALID_ACCESS
        )
        isa_register_ioport(self, MemoryRegion.new_io(self, ops, self.TYPE, self.iosize), self.iobase)
