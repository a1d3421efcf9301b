"""``isa-serial``: a 16550A UART on the ISA bus, the PC's COM1-COM4.

Without ``index`` a port takes the next free COM number on its bus; without
``iobase`` / ``irq`` it takes that COM port's standard resources (COM1
0x3f8/IRQ 4, COM2 0x2f8/3, COM3 0x3e8/4, COM4 0x2e8/3).  The UART itself is
the child ``serial`` (type ``serial``), whose ``chardev``, ``baudbase`` and
``wakeup`` properties the ISA device shows as its own, as QEMU does.
"""

from __future__ import annotations

from contextlib import ExitStack

from pyqemu.hw.char.serial import SerialState, serial_io_ops
from pyqemu.hw.core.qdev import qdev_realize, qdev_unrealize
from pyqemu.hw.core.qdev_properties import prop_uint32
from pyqemu.hw.isa.isa_bus import (
    IsaDevice,
    isa_bus_of,
    isa_get_irq,
    isa_register_ioport,
    isa_unregister_ioport,
)
from pyqemu.memory.region import MemoryRegion
from pyqemu.qom.object import object_new, register_type
from pyqemu.util.errors import DeviceError

UNSET = 0xFFFFFFFF  # the uint32 -1 that QEMU uses for "pick the default"
MAX_ISA_SERIAL_PORTS = 4
ISA_SERIAL_IOBASE = (0x3F8, 0x2F8, 0x3E8, 0x2E8)
ISA_SERIAL_IRQ = (4, 3, 4, 3)
IO_SIZE = 8
#: Properties of the ``serial`` child shown on the ISA device (in QEMU's listing order).
ALIASED = ("baudbase", "chardev", "wakeup")


@register_type
class IsaSerial(IsaDevice):
    """A PC serial port (type ``isa-serial``)."""

    TYPE = "isa-serial"
    CATEGORY = "Input devices"  # where QEMU's -device help lists it
    PROPERTIES = (
        prop_uint32("index", default=UNSET),
        prop_uint32("iobase", default=UNSET),
        prop_uint32("irq", default=UNSET),
    )

    def __init__(self) -> None:
        super().__init__()
        serial = object_new(SerialState.TYPE)
        assert isinstance(serial, SerialState)
        self.serial = serial
        self.add_child("serial", serial)
        serial.unref()
        for name in ALIASED:
            self.add_alias(name, serial, name)
        self.region: MemoryRegion | None = None

    def _serial_ports_before(self) -> int:
        """How many ISA serial ports its bus has realized already (QEMU counts them in a static)."""
        return sum(1 for dev in isa_bus_of(self).devices if isinstance(dev, IsaSerial) and dev.realized)

    def realize(self) -> None:
        if self.index == UNSET:
            self.index = self._serial_ports_before()
        if self.index >= MAX_ISA_SERIAL_PORTS:
            raise DeviceError(f"Max. supported number of ISA serial ports is {MAX_ISA_SERIAL_PORTS}.")
        if self.iobase == UNSET:
            self.iobase = ISA_SERIAL_IOBASE[self.index]
        if self.irq == UNSET:
            self.irq = ISA_SERIAL_IRQ[self.index]
        with ExitStack() as undo:
            self.serial.irq_line = isa_get_irq(self, self.irq)
            qdev_realize(self.serial)
            undo.callback(qdev_unrealize, self.serial)
            assert self.serial.core is not None
            self.region = MemoryRegion.new_io(self, serial_io_ops(self.serial.core), "serial", IO_SIZE)
            isa_register_ioport(self, self.region, self.iobase)
            undo.pop_all()

    def unrealize(self) -> None:
        if self.region is not None:
            isa_unregister_ioport(self, self.region)
            self.region.unparent()
            self.region = None
        qdev_unrealize(self.serial)

    def reset(self) -> None:
        self.serial.reset()  # the UART is on no bus: a bus-wide reset reaches it only through here
