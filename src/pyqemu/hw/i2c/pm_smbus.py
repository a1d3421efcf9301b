"""The PIIX4 / ICH9 SMBus host controller: 64 bytes of I/O registers (``pm-smbus``) driving ``i2c``.

A guest programs the slave address (bit 0: read), command and data
registers, then writes HST_CNT with START and the protocol in bits 2-4, and
polls HST_STS until INTR (done) or DEV_ERR (no acknowledge, or a protocol
it does not support).  As in QEMU:

- without INTREN the command runs at the next HST_STS read, which still
  returns HOST_BUSY: some firmware (AMIBIOS) waits to see the busy bit;
  with INTREN it runs at once and the interrupt follows the status;
- block commands go byte by byte through HST_BLOCK_DAT with BYTE_DONE
  handshakes, or in one go through the 32-byte buffer when AUX_CTL's
  E32B bit is set (PIIX4 has only that mode: ``force_aux_blk``);
- KILL in HST_CNT aborts with FAILED; writing 1s to HST_STS clears bits.

The owner device maps :attr:`PMSMBus.io` (PIIX4_PM at its ``smb_io_base``,
ICH9-SMB as BAR 4) and may connect :attr:`PMSMBus.set_irq`.
"""

from __future__ import annotations

from collections.abc import Callable

from pyqemu.hw.core.qdev import DeviceState
from pyqemu.hw.i2c import smbus_master as smbus
from pyqemu.hw.i2c.core import I2CBus, i2c_init_bus
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegion, MemoryRegionOps

PM_SMBUS_REGION = "pm-smbus"
PM_SMBUS_REGION_SIZE = 64
PM_SMBUS_BUS_NAME = "i2c"
PM_SMBUS_MAX_MSG_SIZE = 32

# Registers.
SMBHSTSTS = 0x00
SMBHSTCNT = 0x02
SMBHSTCMD = 0x03
SMBHSTADD = 0x04
SMBHSTDAT0 = 0x05
SMBHSTDAT1 = 0x06
SMBBLKDAT = 0x07
SMBAUXCTL = 0x0D

# HST_STS bits.
STS_HOST_BUSY = 1 << 0
STS_INTR = 1 << 1
STS_DEV_ERR = 1 << 2
STS_BUS_ERR = 1 << 3
STS_FAILED = 1 << 4
STS_SMBALERT = 1 << 5
STS_INUSE_STS = 1 << 6
STS_BYTE_DONE = 1 << 7

# HST_CNT bits; the protocol is bits 2-4.
CTL_INTREN = 1 << 0
CTL_KILL = 1 << 1
CTL_LAST_BYTE = 1 << 5
CTL_START = 1 << 6
CTL_PEC_EN = 1 << 7
CTL_RETURN_MASK = 0x1F
CTL_PROT_SHIFT = 2
CTL_PROT_MASK = 0x7

PROT_QUICK = 0
PROT_BYTE = 1
PROT_BYTE_DATA = 2
PROT_WORD_DATA = 3
PROT_PROC_CALL = 4
PROT_BLOCK_DATA = 5
PROT_I2C_BLOCK_READ = 6

# AUX_CTL bits.
AUX_PEC = 1 << 0
AUX_BLK = 1 << 1
AUX_MASK = 0x3

ADDR_READ = 0x01
#: Byte-wide registers: wider accesses are split into bytes by the address space.
PM_SMBUS_VALID = AccessSizes(1, 1)


class DevError(Exception):
    """A command ended with DEV_ERR (raised and caught inside the controller only)."""


class PMSMBus:
    """The controller (QEMU's ``PMSMBus``): registers and transfer state, with ``owner``'s
    child bus ``i2c`` that it drives and its region ``pm-smbus`` (not mapped here)."""

    def __init__(self, owner: DeviceState | None, force_aux_blk: bool = False) -> None:
        #: The bus the controller drives: ``owner``'s child bus ``i2c``.
        self.bus: I2CBus = i2c_init_bus(owner, PM_SMBUS_BUS_NAME)
        ops = MemoryRegionOps(
            read=self.read, write=self.write, endianness=Endianness.LITTLE, valid=PM_SMBUS_VALID
        )
        #: The registers, for the owner to map (``pm-smbus``, 64 bytes).
        self.io = MemoryRegion.new_io(owner, ops, PM_SMBUS_REGION, PM_SMBUS_REGION_SIZE)
        #: Called with the interrupt level after every register access (ICH9: the PCI INTx pin).
        self.set_irq: Callable[[bool], None] | None = None
        #: I2C_EN of ICH9's HOSTC: block commands without command / count bytes.
        self.i2c_enable = False
        self.stat = self.ctl = self.cmd = self.addr = 0
        self.data0 = self.data1 = self.blkdata = 0
        self.auxctl = AUX_BLK if force_aux_blk else 0
        self.data = bytearray(PM_SMBUS_MAX_MSG_SIZE)
        self.index = 0
        self.op_done = True
        self.in_i2c_block_read = False
        self.start_transaction_on_status_read = False

    def reset(self) -> None:
        """Soft reset (ICH9's SSRESET): status and block state only, as QEMU's ``pm_smbus_reset``."""
        self.op_done = True
        self.index = 0
        self.stat = 0

    # -- decoded registers ----------------------------------------------------------

    @property
    def protocol(self) -> int:
        return (self.ctl >> CTL_PROT_SHIFT) & CTL_PROT_MASK

    @property
    def slave(self) -> int:
        return self.addr >> 1

    @property
    def is_read(self) -> bool:
        return bool(self.addr & ADDR_READ)

    def irq_level(self) -> bool:
        """Interrupt while INTREN is set and any status bit but HOST_BUSY is."""
        return bool(self.stat & ~STS_HOST_BUSY) and bool(self.ctl & CTL_INTREN)

    # -- commands ----------------------------------------------------------------

    def _transaction(self) -> None:
        try:
            if self.stat & STS_DEV_ERR:
                raise DevError  # a pending error must be cleared first
            self._run(self.protocol)
        except DevError:
            self.stat |= STS_DEV_ERR

    def _run(self, prot: int) -> None:
        if prot == PROT_I2C_BLOCK_READ:
            self._i2c_block_read()
        elif prot == PROT_BLOCK_DATA:
            self._block_read() if self.is_read else self._block_write()
        elif prot in (PROT_QUICK, PROT_BYTE, PROT_BYTE_DATA, PROT_WORD_DATA):
            self._simple(prot)
            self.stat |= STS_INTR
        else:
            raise DevError

    def _simple(self, prot: int) -> None:
        """The commands done in one go: Quick, Send/Receive Byte, Read/Write Byte and Word Data."""
        bus, slave, cmd = self.bus, self.slave, self.cmd
        if prot == PROT_QUICK:
            _acked(smbus.smbus_quick_command(bus, slave, self.is_read))
        elif prot == PROT_BYTE and self.is_read:
            self.data0 = _value(smbus.smbus_receive_byte(bus, slave))
        elif prot == PROT_BYTE:
            _acked(smbus.smbus_send_byte(bus, slave, cmd))
        elif prot == PROT_BYTE_DATA and self.is_read:
            self.data0 = _value(smbus.smbus_read_byte(bus, slave, cmd))
        elif prot == PROT_BYTE_DATA:
            _acked(smbus.smbus_write_byte(bus, slave, cmd, self.data0))
        elif self.is_read:
            word = _value(smbus.smbus_read_word(bus, slave, cmd))
            self.data0, self.data1 = word & 0xFF, word >> 8
        else:
            _acked(smbus.smbus_write_word(bus, slave, cmd, self.data1 << 8 | self.data0))

    def _i2c_block_read(self) -> None:
        """I2C Block Read from offset HST_D1; the R/W bit is ignored (Linux may or may not set it)."""
        bus = self.bus
        if not bus.start_send(self.slave) or not bus.send(self.data1) or not bus.start_recv(self.slave):
            raise DevError
        self.in_i2c_block_read = True
        self.blkdata = bus.recv()
        self.op_done = False
        self.stat |= STS_HOST_BUSY | STS_BYTE_DONE

    def _block_read(self) -> None:
        count = _value(smbus.smbus_read_block(
            self.bus, self.slave, self.cmd, self.data, PM_SMBUS_MAX_MSG_SIZE,
            not self.i2c_enable, not self.i2c_enable,
        ))
        self.index = 0
        self.op_done = False
        if self.auxctl & AUX_BLK:
            self.stat |= STS_INTR
        else:
            self.blkdata = self.data[0]
            self.stat |= STS_HOST_BUSY | STS_BYTE_DONE
        self.data0 = count

    def _block_write(self) -> None:
        if not self.auxctl & AUX_BLK:
            # Byte by byte: the first byte is in HST_BLOCK_DAT, the guest feeds the rest.
            self.op_done = False
            self.stat |= STS_HOST_BUSY | STS_BYTE_DONE
            self.data[0] = self.blkdata
            self.index = 0
            return
        filled, self.index = self.index, 0
        if filled != self.data0:
            raise DevError  # the buffer must hold exactly HST_D0 bytes
        self._write_block()

    def _write_block(self) -> None:
        _acked(smbus.smbus_write_block(
            self.bus, self.slave, self.cmd, self.data, self.data0, not self.i2c_enable
        ))
        self.op_done = True
        self.stat |= STS_INTR
        self.stat &= ~STS_HOST_BUSY

    def _start(self) -> None:
        if self.ctl & CTL_INTREN:
            self._transaction()
            self.start_transaction_on_status_read = False
        else:
            self.stat |= STS_HOST_BUSY
            self.start_transaction_on_status_read = True

    # -- byte-by-byte block transfers --------------------------------------------

    def _byte_by_byte(self) -> bool:
        if self.op_done:
            return False
        return self.in_i2c_block_read or not self.auxctl & AUX_BLK

    def _next_block_byte(self) -> None:
        """The guest acknowledged BYTE_DONE: move to the next byte of a block transfer."""
        reading = self.is_read or self.in_i2c_block_read
        self.index = (self.index + 1) % PM_SMBUS_MAX_MSG_SIZE
        if not reading and self.index == self.data0:
            if self.protocol == PROT_I2C_BLOCK_READ:
                raise DevError
            self._write_block()
        elif not reading:
            self.data[self.index] = self.blkdata
            self.stat |= STS_BYTE_DONE
        elif self.ctl & CTL_LAST_BYTE:
            self.op_done = True
            if self.in_i2c_block_read:
                self.in_i2c_block_read = False
                self.blkdata = self.bus.recv()
                self.bus.nack()
                self.bus.end_transfer()
            else:
                self.blkdata = self.data[self.index]
            self.index = 0
            self.stat |= STS_INTR
            self.stat &= ~STS_HOST_BUSY
        else:
            self.blkdata = self.bus.recv() if self.in_i2c_block_read else self.data[self.index]
            self.stat |= STS_BYTE_DONE

    # -- register access ------------------------------------------------------------

    def _write_status(self, value: int) -> None:
        clear_byte_done = self.stat & value & STS_BYTE_DONE
        self.stat &= ~(value & ~STS_HOST_BUSY)
        if clear_byte_done and self._byte_by_byte():
            try:
                self._next_block_byte()
            except DevError:
                self.stat |= STS_DEV_ERR

    def _write_control(self, value: int) -> None:
        self.ctl = value & ~CTL_START  # START always reads back 0
        if value & CTL_START:
            if not self.op_done:
                # A new command abandons an unfinished block transfer.
                self.index = 0
                self.op_done = True
                if self.in_i2c_block_read:
                    self.in_i2c_block_read = False
                    self.bus.end_transfer()
            self._start()
        if self.ctl & CTL_KILL:
            self.op_done = True
            self.index = 0
            self.stat |= STS_FAILED
            self.stat &= ~STS_HOST_BUSY

    def _write_block_data(self, value: int) -> None:
        if self.index >= PM_SMBUS_MAX_MSG_SIZE:
            self.index = 0
        if self.auxctl & AUX_BLK:
            self.data[self.index] = value
            self.index += 1
        else:
            self.blkdata = value

    def _read_status(self) -> int:
        value = self.stat
        if self.start_transaction_on_status_read:
            self.start_transaction_on_status_read = False
            self.stat &= ~STS_HOST_BUSY
            self._transaction()
        return value

    def _read_block_data(self) -> int:
        if not self.auxctl & AUX_BLK or self.in_i2c_block_read:
            return self.blkdata
        if self.index >= PM_SMBUS_MAX_MSG_SIZE:
            self.index = 0
        value = self.data[self.index]
        self.index += 1
        if not self.op_done and self.index == self.data0:
            self.op_done = True
            self.index = 0
            self.stat &= ~STS_HOST_BUSY
        return value

    def write(self, offset: int, value: int, size: int = 1) -> None:
        """A guest's byte write to register ``offset``."""
        value &= 0xFF
        if offset == SMBHSTSTS:
            self._write_status(value)
        elif offset == SMBHSTCNT:
            self._write_control(value)
        elif offset == SMBHSTCMD:
            self.cmd = value
        elif offset == SMBHSTADD:
            self.addr = value
        elif offset == SMBHSTDAT0:
            self.data0 = value
        elif offset == SMBHSTDAT1:
            self.data1 = value
        elif offset == SMBBLKDAT:
            self._write_block_data(value)
        elif offset == SMBAUXCTL:
            self.auxctl = value & AUX_MASK
        self._update_irq()

    def read(self, offset: int, size: int = 1) -> int:
        """A guest's byte read of register ``offset`` (0 for the unused ones)."""
        simple = {
            SMBHSTCNT: self.ctl & CTL_RETURN_MASK, SMBHSTCMD: self.cmd, SMBHSTADD: self.addr,
            SMBHSTDAT0: self.data0, SMBHSTDAT1: self.data1, SMBAUXCTL: self.auxctl,
        }
        if offset == SMBHSTSTS:
            value = self._read_status()
        elif offset == SMBBLKDAT:
            value = self._read_block_data()
        else:
            value = simple.get(offset, 0)
        self._update_irq()
        return value

    def _update_irq(self) -> None:
        if self.set_irq is not None:
            self.set_irq(self.irq_level())


def _acked(ok: bool) -> None:
    if not ok:
        raise DevError


def _value(value: int | None) -> int:
    if value is None:
        raise DevError
    return value


def pm_smbus_init(owner: DeviceState, force_aux_blk: bool = False) -> PMSMBus:
    """The controller of ``owner``: its bus ``i2c`` and its region ``pm-smbus`` (64 bytes), unmapped.

    Call it from the owner's realize; the owner maps :attr:`PMSMBus.io`.
    PIIX4_PM passes ``force_aux_blk=True`` (it only has the 32-byte block buffer).
    """
    return PMSMBus(owner, force_aux_blk)
