"""SMBus commands, host side: each one the I2C transfer a host controller drives for it.

``addr`` is the 7-bit device address.  A command a device did not
acknowledge returns None (reads) or False (writes); as on QEMU's
``smbus_master.c`` only the start conditions are checked, not each data
byte.  Word data goes low byte first.
"""

from __future__ import annotations

from pyqemu.hw.i2c.core import I2CBus

#: The most data bytes one block command carries.
SMBUS_BLOCK_MAX = 32


def smbus_quick_command(bus: I2CBus, addr: int, read: bool) -> bool:
    """Quick Command: only the direction bit is transferred."""
    if not bus.start_transfer(addr, read):
        return False
    bus.end_transfer()
    return True


def _read_bytes(bus: I2CBus, count: int) -> list[int]:
    """Read ``count`` bytes, refuse the next one and stop."""
    data = [bus.recv() for _ in range(count)]
    bus.nack()
    bus.end_transfer()
    return data


def _write(bus: I2CBus, addr: int, data: list[int]) -> bool:
    """One write transfer of ``data``; False if the device did not acknowledge its address."""
    if not bus.start_send(addr):
        return False
    for byte in data:
        bus.send(byte)
    bus.end_transfer()
    return True


def smbus_receive_byte(bus: I2CBus, addr: int) -> int | None:
    """Receive Byte: one byte from the device's current position."""
    if not bus.start_recv(addr):
        return None
    return _read_bytes(bus, 1)[0]


def smbus_send_byte(bus: I2CBus, addr: int, data: int) -> bool:
    """Send Byte: one byte, no command."""
    return _write(bus, addr, [data])


def _command_then_read(bus: I2CBus, addr: int, command: int) -> bool:
    """Write ``command``, then a repeated start to read; False (transfer ended) if refused."""
    if not bus.start_send(addr):
        return False
    bus.send(command)
    if not bus.start_recv(addr):
        bus.end_transfer()
        return False
    return True


def smbus_read_byte(bus: I2CBus, addr: int, command: int) -> int | None:
    """Read Byte Data: the byte at ``command``."""
    if not _command_then_read(bus, addr, command):
        return None
    return _read_bytes(bus, 1)[0]


def smbus_write_byte(bus: I2CBus, addr: int, command: int, data: int) -> bool:
    """Write Byte Data: ``data`` to ``command``."""
    return _write(bus, addr, [command, data])


def smbus_read_word(bus: I2CBus, addr: int, command: int) -> int | None:
    """Read Word Data: two bytes at ``command``, low byte first."""
    if not _command_then_read(bus, addr, command):
        return None
    low, high = _read_bytes(bus, 2)
    return low | high << 8


def smbus_write_word(bus: I2CBus, addr: int, command: int, data: int) -> bool:
    """Write Word Data: ``data`` to ``command``, low byte first."""
    return _write(bus, addr, [command, data & 0xFF, (data >> 8) & 0xFF])


def smbus_read_block(
    bus: I2CBus, addr: int, command: int, data: bytearray, length: int, recv_len: bool, send_cmd: bool
) -> int | None:
    """Block Read into ``data``: how many bytes came, or None if not acknowledged.

    With ``recv_len`` the device sends the byte count first (SMBus); a count
    larger than ``length`` reads nothing.  Without ``send_cmd`` no command
    byte is written first (plain I2C).
    """
    if send_cmd:
        if not bus.start_send(addr):
            return None
        bus.send(command)
    if not bus.start_recv(addr):
        if send_cmd:
            bus.end_transfer()
        return None
    count = bus.recv() if recv_len else length
    if count > length:
        count = 0
    for i in range(count):
        data[i] = bus.recv()
    bus.nack()
    bus.end_transfer()
    return count


def smbus_write_block(bus: I2CBus, addr: int, command: int, data: bytes | bytearray, length: int,
                      send_len: bool) -> bool:
    """Block Write of ``length`` bytes of ``data`` (at most 32), the count first if ``send_len``."""
    length = min(length, SMBUS_BLOCK_MAX)
    prefix = [command, length] if send_len else [command]
    return _write(bus, addr, prefix + list(data[:length]))
