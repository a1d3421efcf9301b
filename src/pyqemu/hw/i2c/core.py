"""The I2C bus (``i2c-bus``) and the base of the devices on it (abstract ``i2c-slave``).

A transfer is what a bus master drives: a start condition addressed to a
7-bit ``address`` (to read or to write), bytes sent or received, then a stop.
A repeated start (the SMBus "write command, then read" pattern) goes to the
devices already taking part, without looking for the address again, as
QEMU's ``i2c_start_transfer`` does.  Address 0 is the broadcast address:
every device on the bus takes part, and reads return 0xff.

A device type overrides :meth:`I2CSlave.event`, :meth:`I2CSlave.send` and
:meth:`I2CSlave.recv`; its ``address`` property (uint8, default 0) is what
``info qtree`` prints as ``address = 87 (0x57)``.
"""

from __future__ import annotations

import enum

from pyqemu.hw.core.bus import BusState, qbus_new
from pyqemu.hw.core.qdev import DeviceState
from pyqemu.hw.core.qdev_properties import prop_uint8
from pyqemu.qom.object import register_type

TYPE_I2C_BUS = "i2c-bus"
TYPE_I2C_SLAVE = "i2c-slave"
I2C_BROADCAST = 0x00
#: What a read returns when no single device drives the bus.
I2C_IDLE_BYTE = 0xFF


class I2CEvent(enum.Enum):
    """Bus conditions a device is told about (QEMU's ``enum i2c_event``)."""

    START_RECV = "start-recv"
    START_SEND = "start-send"
    FINISH = "finish"
    NACK = "nack"


@register_type
class I2CBus(BusState):
    """An I2C bus: finds the device a transfer is addressed to and passes bytes to and fro."""

    TYPE = TYPE_I2C_BUS

    def __init__(self) -> None:
        super().__init__()
        #: Devices taking part in the current transfer, newest match first.
        self.current_devs: list[I2CSlave] = []
        self.broadcast = False

    @property
    def busy(self) -> bool:
        """Whether a transfer is under way (``i2c_bus_busy``)."""
        return bool(self.current_devs)

    def _scan(self, address: int) -> None:
        for dev in self.devices:
            if isinstance(dev, I2CSlave) and (self.broadcast or dev.address == address):
                self.current_devs.insert(0, dev)
                if not self.broadcast:
                    return

    def start_transfer(self, address: int, is_recv: bool) -> bool:
        """A (repeated) start condition to ``address``: True if acknowledged.

        A first start that nobody acknowledges ends the transfer; a refused
        repeated start leaves it to the caller to end.
        """
        if address == I2C_BROADCAST:
            self.broadcast = True
        scanned = not self.current_devs
        if scanned:
            self._scan(address)
        if not self.current_devs:
            return False
        event = I2CEvent.START_RECV if is_recv else I2CEvent.START_SEND
        for dev in list(self.current_devs):
            if not dev.event(event) and not self.broadcast:
                if scanned:
                    self.end_transfer()
                return False
        return True

    def start_send(self, address: int) -> bool:
        return self.start_transfer(address, False)

    def start_recv(self, address: int) -> bool:
        return self.start_transfer(address, True)

    def end_transfer(self) -> None:
        """The stop condition: every device taking part is told, and the bus is free again."""
        devs, self.current_devs = self.current_devs, []
        for dev in devs:
            dev.event(I2CEvent.FINISH)
        self.broadcast = False

    def send(self, data: int) -> bool:
        """Send one byte: True if every device acknowledged (the first refusal stops the others)."""
        acked = True
        for dev in self.current_devs:
            acked = acked and dev.send(data & 0xFF)
        return acked

    def recv(self) -> int:
        """Receive one byte from the addressed device (0xff if none, or on a broadcast)."""
        if self.current_devs and not self.broadcast:
            return self.current_devs[0].recv() & 0xFF
        return I2C_IDLE_BYTE

    def nack(self) -> None:
        """The master refuses the next byte: the end of a read."""
        for dev in list(self.current_devs):
            dev.event(I2CEvent.NACK)


def i2c_init_bus(parent: DeviceState | None, name: str) -> I2CBus:
    """A new I2C bus ``name`` provided by ``parent`` (``i2c_init_bus``)."""
    bus = qbus_new(TYPE_I2C_BUS, parent, name)
    assert isinstance(bus, I2CBus)
    return bus


@register_type
class I2CSlave(DeviceState):
    """Base of I2C devices (abstract ``i2c-slave``): answers transfers to its ``address``."""

    TYPE = TYPE_I2C_SLAVE
    ABSTRACT = True
    CATEGORY = "Misc devices"
    BUS_TYPE = TYPE_I2C_BUS
    PROPERTIES = (prop_uint8("address", default=0),)
    #: The 7-bit bus address (the ``address`` property).
    address: int

    def event(self, event: I2CEvent) -> bool:
        """A bus condition; return False to refuse a start. Subclasses override."""
        return True

    def send(self, data: int) -> bool:
        """A byte from the master; return True to acknowledge it. Subclasses override."""
        return False

    def recv(self) -> int:
        """The next byte for the master. Subclasses override."""
        return I2C_IDLE_BYTE


def i2c_slave_create_simple(bus: I2CBus, typename: str, address: int) -> I2CSlave:
    """Create an I2C device of ``typename`` at ``address`` on ``bus`` and realize it."""
    from pyqemu.hw.core.qdev import qdev_new, qdev_realize_and_unref

    dev = qdev_new(typename)
    assert isinstance(dev, I2CSlave)
    dev.property_set("address", address)
    qdev_realize_and_unref(dev, bus)
    return dev
