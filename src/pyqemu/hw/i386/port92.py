"""System control port A (``port92``): the PC's fast A20 gate and fast reset at I/O port 0x92.

Bit 1 drives the A20 gate (the ``a20`` GPIO output); setting bit 0 when it
was clear resets the machine.  The port reads back the last byte written
(0 at power-on); a device reset clears only bit 0, so A20 survives it.

On the PC boards both A20 sources — this port and the i8042's output port —
drive the CPU's A20 line: :func:`connect_a20_lines` wires them as QEMU's
``pc_superio_init`` does.
"""

from __future__ import annotations

from collections.abc import Callable

from pyqemu.hw.core.irq import Irq, allocate_irqs, qdev_connect_gpio_out_named, qdev_init_gpio_out_named
from pyqemu.hw.core.qdev import DeviceState, qdev_get_machine
from pyqemu.hw.isa.isa_bus import IsaBus, IsaDevice, isa_create_simple, isa_register_ioport
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type

TYPE_PORT92 = "port92"
PORT92_PORT = 0x92
PORT92_A20_LINE = "a20"
FAST_RESET = 0x01
A20_ENABLE = 0x02


class Port92Core:
    """The latch: ``a20(level)`` follows bit 1; ``request_reset()`` on a rising bit 0."""

    def __init__(self, a20: Callable[[int], None], request_reset: Callable[[], None]):
        self._a20 = a20
        self._request_reset = request_reset
        self.outport = 0

    def read(self, offset: int = 0, size: int = 1) -> int:
        return self.outport

    def write(self, offset: int, value: int, size: int = 1) -> None:
        old, self.outport = self.outport, value & 0xFF
        self._a20((value & A20_ENABLE) >> 1)
        if value & FAST_RESET and not old & FAST_RESET:
            self._request_reset()

    def reset(self) -> None:
        self.outport &= ~FAST_RESET


@register_type
class Port92State(IsaDevice):
    """System control port A (type ``port92``); boards wire its ``a20`` output."""

    TYPE = TYPE_PORT92
    USER_CREATABLE = False

    def __init__(self) -> None:
        super().__init__()
        self.core = Port92Core(lambda level: self.a20_out.set(level), self._request_reset)
        ops = MemoryRegionOps(
            read=self.core.read, write=self.core.write, endianness=Endianness.LITTLE, impl=AccessSizes(1, 1)
        )
        self.region = MemoryRegion.new_io(self, ops, TYPE_PORT92, 1)
        (self.a20_out,) = qdev_init_gpio_out_named(self, PORT92_A20_LINE, 1)

    def _request_reset(self) -> None:
        qdev_get_machine(self).host.guest_reset()

    def realize(self) -> None:
        isa_register_ioport(self, self.region, PORT92_PORT)

    def reset(self) -> None:
        self.core.reset()


def port92_init(isa_bus: IsaBus) -> Port92State:
    """Create port 0x92 on ``isa_bus`` (``isa_create_simple(isa_bus, TYPE_PORT92)``)."""
    dev = isa_create_simple(isa_bus, TYPE_PORT92)
    assert isinstance(dev, Port92State)
    return dev


def connect_a20_lines(i8042: DeviceState, port92: DeviceState, set_a20: Callable[[int], None]) -> list[Irq]:
    """Wire both A20 sources to ``set_a20(level)`` (the CPU's A20 line), i8042 first, as QEMU does.

    Returns the two inputs; connecting them places them in
    ``/machine/unattached/non-qdev-gpio[*]`` in that order.
    """
    lines = allocate_irqs(lambda _n, level: set_a20(level), 2)
    qdev_connect_gpio_out_named(i8042, PORT92_A20_LINE, 0, lines[0])
    qdev_connect_gpio_out_named(port92, PORT92_A20_LINE, 0, lines[1])
    return lines
