"""The debug console port (``isa-debugcon``): bytes written to port 0xe9 go to a chardev.

Bochs and QEMU firmware print their logs this way.  A read returns the
``readback`` value (0xe9 by default), which is how software detects the port.
"""

from __future__ import annotations

from collections.abc import Callable

from pyqemu.hw.core.qdev_properties import prop_chr, prop_uint32
from pyqemu.hw.isa.isa_bus import IsaDevice, isa_register_ioport
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type
from pyqemu.util.errors import DeviceError

DEFAULT_IOBASE = 0xE9
DEFAULT_READBACK = 0xE9
IO_SIZE = 1
BYTE_ACCESS = AccessSizes(1, 1)


class DebugconCore:
    """The port's behaviour: ``output(data)`` receives each byte the guest writes."""

    def __init__(self, output: Callable[[bytes], object], readback: int = DEFAULT_READBACK):
        self._output = output
        self.readback = readback

    def read(self, offset: int, size: int = 1) -> int:
        """The readback value, cut to the access size."""
        return self.readback & ((1 << (8 * size)) - 1)

    def write(self, offset: int, value: int, size: int = 1) -> None:
        """Send the low byte of ``value`` out (the port is one byte wide)."""
        self._output(bytes((value & 0xFF,)))


@register_type
class IsaDebugcon(IsaDevice):
    """The debug console on the ISA bus (type ``isa-debugcon``); it needs a chardev."""

    TYPE = "isa-debugcon"
    CATEGORY = "Misc devices"
    PROPERTIES = (
        prop_uint32("iobase", default=DEFAULT_IOBASE),
        prop_chr("chardev"),
        prop_uint32("readback", default=DEFAULT_READBACK),
    )

    def realize(self) -> None:
        if self.chardev.chr is None:
            raise DeviceError("Can't create debugcon device, empty char device")
        self.core = DebugconCore(self.chardev.write, self.readback)
        self.chardev.set_handlers(None, None, None)  # output only: no input handlers
        ops = MemoryRegionOps(
            read=self.core.read, write=self.core.write, endianness=Endianness.LITTLE, valid=BYTE_ACCESS
        )
        isa_register_ioport(self, MemoryRegion.new_io(self, ops, self.TYPE, IO_SIZE), self.iobase)
