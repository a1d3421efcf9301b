"""SMBus devices (abstract ``smbus-device``): the SMBus protocol, device side, on top of I2C.

SMBus commands are I2C transfers of a fixed shape; a device model only
implements three hooks and this class turns the transfers into calls:

- :meth:`SMBusDevice.quick_cmd` for a start then stop with no data (Quick
  Command; ``read`` is the direction bit);
- :meth:`SMBusDevice.write_data` with every byte written in one transfer
  (command byte first): Send Byte, Write Byte/Word, Block Write; when a
  repeated start turns the transfer into a read (Read Byte/Word, Block Read)
  the bytes written so far are handed over first;
- :meth:`SMBusDevice.receive_byte` for each byte the master reads.

A transfer the protocol does not allow (a stop in the middle of a read, a
read after an empty write) puts the device in a "confused" state until the
next stop, as QEMU's ``smbus_slave.c`` does.
"""

from __future__ import annotations

import enum

from pyqemu.hw.i2c.core import I2C_IDLE_BYTE, I2CEvent, I2CSlave
from pyqemu.qom.object import register_type

TYPE_SMBUS_DEVICE = "smbus-device"
#: Command byte, byte count and 32 data bytes: the longest SMBus write.
SMBUS_DATA_MAX_LEN = 34


class SMBusMode(enum.Enum):
    """Where the device is in an SMBus transfer."""

    IDLE = "idle"
    WRITE_DATA = "write-data"
    READ_DATA = "read-data"
    DONE = "done"
    CONFUSED = "confused"


@register_type
class SMBusDevice(I2CSlave):
    """Base of SMBus devices (abstract ``smbus-device``)."""

    TYPE = TYPE_SMBUS_DEVICE
    ABSTRACT = True

    def __init__(self) -> None:
        super().__init__()
        self.mode = SMBusMode.IDLE
        self.data_buf = bytearray()

    # -- hooks for device models -----------------------------------------------------

    def quick_cmd(self, read: bool) -> None:
        """A Quick Command (the direction bit is the only data). Subclasses override."""

    def write_data(self, buf: bytes) -> None:
        """The bytes of one write, command byte first (never empty). Subclasses override."""

    def receive_byte(self) -> int:
        """The next byte the master reads. Subclasses override."""
        return I2C_IDLE_BYTE

    # -- the I2C side ---------------------------------------------------------------

    def _flush_write(self) -> None:
        self.write_data(bytes(self.data_buf))

    def _start(self, recv: bool) -> None:
        if self.mode is SMBusMode.IDLE:
            self.mode = SMBusMode.READ_DATA if recv else SMBusMode.WRITE_DATA
        elif recv and self.mode is SMBusMode.WRITE_DATA and self.data_buf:
            # A repeated start after the command byte: the write part is complete.
            self._flush_write()
            self.mode = SMBusMode.READ_DATA
        else:
            self.mode = SMBusMode.CONFUSED

    def _finish(self) -> None:
        if not self.data_buf:
            if self.mode in (SMBusMode.WRITE_DATA, SMBusMode.READ_DATA):
                self.quick_cmd(self.mode is SMBusMode.READ_DATA)
        elif self.mode is SMBusMode.WRITE_DATA:
            self._flush_write()
        self.mode = SMBusMode.IDLE
        self.data_buf = bytearray()

    def _nack(self) -> None:
        if self.mode is SMBusMode.READ_DATA:
            self.mode = SMBusMode.DONE
        elif self.mode is not SMBusMode.DONE:
            self.mode = SMBusMode.CONFUSED

    def event(self, event: I2CEvent) -> bool:
        if event is I2CEvent.START_SEND:
            self._start(recv=False)
        elif event is I2CEvent.START_RECV:
            self._start(recv=True)
        elif event is I2CEvent.FINISH:
            self._finish()
        elif event is I2CEvent.NACK:
            self._nack()
        return True

    def recv(self) -> int:
        if self.mode is SMBusMode.READ_DATA:
            return self.receive_byte() & 0xFF
        self.mode = SMBusMode.CONFUSED
        return I2C_IDLE_BYTE

    def send(self, data: int) -> bool:
        # Bytes past the longest SMBus write, or outside a write, are dropped but acknowledged.
        if self.mode is SMBusMode.WRITE_DATA and len(self.data_buf) < SMBUS_DATA_MAX_LEN:
            self.data_buf.append(data & 0xFF)
        return True
