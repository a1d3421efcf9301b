"""Register numbers and bits of the PC floppy disk controller (Intel 82078, two drives as QEMU has it)."""

from __future__ import annotations

import enum

MAX_FD = 2
SECTOR_LEN = 512
SECTOR_SIZE_CODE = 2  # "N" of a 512-byte sector
RESET_SENSEI_COUNT = 4  # SENSE INTERRUPT STATUS answers after a reset: one per drive
VERSION_82078 = 0x90
PART_ID_STEPPING_1 = 0x41
READ_ID_DELAY_NS = 1_000_000_000 // 50  # one revolution at 300 rpm, roughly
BYTE = 0xFF

# Register numbers (port & 7).
REG_SRA = 0
REG_SRB = 1
REG_DOR = 2
REG_TDR = 3
REG_MSR = 4  # read
REG_DSR = 4  # write
REG_FIFO = 5
REG_DIR = 7  # read
REG_CCR = 7  # write

SRA_NDRV2 = 0x40  # no second drive
SRA_INTPEND = 0x80
SRB_RESET = 0xC0
SRB_MTR0 = 0x01
SRB_MTR1 = 0x02
SRB_DR0 = 0x20

DOR_SELMASK = 0x01  # two drives
DOR_NRESET = 0x04
DOR_DMAEN = 0x08
DOR_MOTEN0 = 0x10
DOR_MOTEN1 = 0x20

TDR_BOOTSEL = 0x04
TDR_BOOTSEL_SHIFT = 2

DSR_DRATEMASK = 0x03
DSR_PWRDOWN = 0x40
DSR_SWRESET = 0x80

MSR_CMDBUSY = 0x10
MSR_NONDMA = 0x20
MSR_DIO = 0x40
MSR_RQM = 0x80

DIR_DSKCHG = 0x80

SR0_DS0 = 0x01
SR0_DS1 = 0x02
SR0_HEAD = 0x04
SR0_SEEK = 0x20
SR0_ABNTERM = 0x40
SR0_INVCMD = 0x80
SR0_RDYCHG = 0xC0
SR1_MA = 0x01  # missing address mark
SR1_EC = 0x80  # end of cylinder
SR2_SEH = 0x08  # scan equal hit

# SENSE DRIVE STATUS (ST3) bits.
ST3_WP = 0x40
ST3_TRACK0 = 0x10
ST3_HEAD_SHIFT = 2
ST3_READY_AND_TWO_SIDED = 0x28

CONFIG_EFIFO = 0x20
CONFIG_EIS = 0x40
CMD_MT = 0x80  # multi-track bit of a command byte; the LOCK bit of LOCK
LOCK_RESULT_SHIFT = 4
PERPENDICULAR_WGATE = 0x80
PERPENDICULAR_MASK = 0x07
DRIVE_SPEC_DONE = 0x80
DRIVE_SPEC_RESULT = 0x40
DRIVE_SPEC_MAX_LEN = 7


class Phase(enum.IntEnum):
    """Where the controller is in a command (datasheet chapter 5, "Controller phases")."""

    COMMAND = 1
    EXECUTION = 2
    RESULT = 3


class Direction(enum.IntEnum):
    """What a data command does with the disk."""

    WRITE = 0
    READ = 1
    SCAN_EQUAL = 2
    SCAN_LOW = 3
    SCAN_HIGH = 4
    VERIFY = 5


SCANS = (Direction.SCAN_EQUAL, Direction.SCAN_LOW, Direction.SCAN_HIGH)


class Seek(enum.IntEnum):
    """What moving a drive's head gave (QEMU's ``fd_seek`` codes)."""

    SAME_TRACK = 0
    NEW_TRACK = 1
    NO_TRACK = 2  # no such track or head, or no medium
    NO_SECTOR = 3
