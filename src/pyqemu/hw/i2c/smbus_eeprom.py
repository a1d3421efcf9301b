"""The memory modules' SPD EEPROM (``smbus-eeprom``): 256 bytes behind an SMBus address.

Writing a command byte sets the current position; further bytes of the same
write are stored from there on (wrapping at 256); reads return bytes from
the current position on.  The contents come from the board: a reset puts
back what the board gave, as if the machine had been switched off and on.

The PC boards (``pc``, ``q35``) put 8 of these at 0x50-0x57 and, as QEMU
7.2 does, give them no SPD data: every byte reads 0.  :func:`spd_data_generate`
builds the SPD bytes QEMU's other boards use to describe a module of a
given type and size.
"""

from __future__ import annotations

import enum

from pyqemu.hw.i2c.core import I2CBus
from pyqemu.hw.i2c.smbus_slave import SMBusDevice
from pyqemu.qom.object import register_type
from pyqemu.util.errors import ConfigError

TYPE_SMBUS_EEPROM = "smbus-eeprom"
SMBUS_EEPROM_SIZE = 256
SMBUS_EEPROM_MAX = 8
SMBUS_EEPROM_BASE_ADDRESS = 0x50
MIB_SHIFT = 20


@register_type
class SMBusEEPROM(SMBusDevice):
    """A 256-byte SMBus EEPROM (``smbus-eeprom``); boards set :attr:`init_data` before realize."""

    TYPE = TYPE_SMBUS_EEPROM
    USER_CREATABLE = False

    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray(SMBUS_EEPROM_SIZE)
        #: The contents the board gave (restored on reset); must be set before realize.
        self.init_data: bytes | None = None
        self.offset = 0

    def realize(self) -> None:
        if self.init_data is None:
            raise ConfigError("init_data cannot be NULL")
        self.reset()

    def reset(self) -> None:
        assert self.init_data is not None
        self.data[:] = self.init_data[:SMBUS_EEPROM_SIZE].ljust(SMBUS_EEPROM_SIZE, b"\0")
        self.offset = 0

    def receive_byte(self) -> int:
        value = self.data[self.offset]
        self.offset = (self.offset + 1) % SMBUS_EEPROM_SIZE
        return value

    def write_data(self, buf: bytes) -> None:
        self.offset = buf[0]
        for byte in buf[1:]:
            self.data[self.offset] = byte
            self.offset = (self.offset + 1) % SMBUS_EEPROM_SIZE


def smbus_eeprom_init_one(bus: I2CBus, address: int, init_data: bytes) -> SMBusEEPROM:
    """Create and realize one EEPROM at ``address`` holding ``init_data``."""
    from pyqemu.hw.core.qdev import qdev_new, qdev_realize_and_unref

    dev = qdev_new(TYPE_SMBUS_EEPROM)
    assert isinstance(dev, SMBusEEPROM)
    dev.property_set("address", address)
    dev.init_data = bytes(init_data)
    qdev_realize_and_unref(dev, bus)
    return dev


def smbus_eeprom_init(bus: I2CBus, nb_eeprom: int, eeprom_spd: bytes | None = None) -> list[SMBusEEPROM]:
    """Put ``nb_eeprom`` (at most 8) EEPROMs at 0x50, 0x51 … on ``bus`` (``smbus_eeprom_init``).

    ``eeprom_spd`` fills the EEPROMs from the first on (256 bytes each); the
    rest is zero.  None, as the PC boards pass, leaves them all zero.
    """
    if not 0 <= nb_eeprom <= SMBUS_EEPROM_MAX:
        raise ValueError(f"at most {SMBUS_EEPROM_MAX} SPD EEPROMs, not {nb_eeprom}")
    size = SMBUS_EEPROM_MAX * SMBUS_EEPROM_SIZE
    contents = bytes(eeprom_spd or b"")[:size].ljust(size, b"\0")
    return [
        smbus_eeprom_init_one(
            bus, SMBUS_EEPROM_BASE_ADDRESS + i, contents[i * SMBUS_EEPROM_SIZE:(i + 1) * SMBUS_EEPROM_SIZE]
        )
        for i in range(nb_eeprom)
    ]


# -- SPD contents --------------------------------------------------------------------


class SDRAMType(enum.IntEnum):
    """Memory type, as SPD byte 2 encodes it."""

    SDR = 0x4
    DDR = 0x7
    DDR2 = 0x8


#: log2 of the smallest and largest module bank, in MiB, each type describes.
_BANK_LOG2_LIMITS = {SDRAMType.SDR: (2, 9), SDRAMType.DDR: (5, 12), SDRAMType.DDR2: (7, 14)}
#: Most banks one module may have.
SPD_MAX_BANKS = 8
SPD_CHECKSUM_BYTE = 63

#: The bytes that do not depend on the type or size: timings, widths and voltages.
_SPD_FIXED = {
    0: 128,    # bytes written into the EEPROM
    1: 8,      # log2 of the EEPROM size
    3: 13,     # row address bits
    4: 10,     # column address bits
    6: 64,     # module data width
    8: 4,      # interface voltage level
    9: 0x25,   # highest CAS latency
    10: 1,     # access time
    12: 0x82,  # refresh requirements
    13: 8,     # primary SDRAM width
    16: 12,    # burst lengths supported
    17: 4,     # banks per SDRAM device
    18: 12,    # CAS latencies supported
    20: 2,     # DIMM type / WE latencies
    23: 0x12,  # clock cycle time at medium CAS latency
    27: 20,    # row precharge time
    28: 15,    # row active to row active delay
    29: 20,    # RAS to CAS delay
    30: 45,    # active to precharge time
    32: 20,    # address/command setup time
    33: 8,     # address/command hold time
    34: 20,    # data input setup time
    35: 8,     # data input hold time
}


def _module_geometry(ram_type: SDRAMType, ram_size: int) -> tuple[int, int]:
    """(banks, log2 of the bank size in MiB) for a module of ``ram_size`` bytes."""
    min_log2, max_log2 = _BANK_LOG2_LIMITS[ram_type]
    size_mib = ram_size >> MIB_SHIFT
    if size_mib <= 0 or size_mib & (size_mib - 1) or size_mib << MIB_SHIFT != ram_size:
        raise ValueError(f"SPD data needs a power of two of MiB, not {ram_size} bytes")
    sz_log2 = size_mib.bit_length() - 1
    if sz_log2 < min_log2:
        raise ValueError(f"{ram_type.name} modules are at least {1 << min_log2} MiB")
    nbanks = 1
    while sz_log2 > max_log2 and nbanks < SPD_MAX_BANKS:
        sz_log2 -= 1
        nbanks *= 2
    if size_mib != (1 << sz_log2) * nbanks:
        raise ValueError(f"{size_mib} MiB does not fit in {SPD_MAX_BANKS} {ram_type.name} banks")
    # QEMU splits a single bank in two where it can: MIPS Malta's firmware needs it.
    if nbanks == 1 and sz_log2 > min_log2:
        sz_log2 -= 1
        nbanks = 2
    return nbanks, sz_log2


def _density_byte(ram_type: SDRAMType, sz_log2: int) -> int:
    """Byte 31, the size of one bank: each type folds large sizes into the low bits its own way."""
    density = 1 << (sz_log2 - 2)
    if ram_type is SDRAMType.DDR2:
        return (density & 0xE0) | (density >> 8 & 0x1F)
    if ram_type is SDRAMType.DDR:
        return (density & 0xF8) | (density >> 8 & 0x07)
    return density & 0xFF


def spd_data_generate(ram_type: SDRAMType, ram_size: int) -> bytes:
    """The 256 SPD bytes QEMU 7.2 generates for one ``ram_type`` module of ``ram_size`` bytes.

    The size must be a power of two of MiB that the type can describe
    (QEMU aborts otherwise; this raises ValueError).
    """
    nbanks, sz_log2 = _module_geometry(ram_type, ram_size)
    ddr2 = ram_type is SDRAMType.DDR2
    spd = bytearray(SMBUS_EEPROM_SIZE)
    for offset, value in _SPD_FIXED.items():
        spd[offset] = value
    spd[2] = ram_type
    spd[5] = nbanks - 1 if ddr2 else nbanks
    spd[15] = 0 if ddr2 else 1      # reserved / delay for random column reads
    spd[19] = 0 if ddr2 else 1      # reserved / CS latencies supported
    spd[21] = 0 if ddr2 else 0x20   # module features: differential clock input
    spd[31] = _density_byte(ram_type, sz_log2)
    spd[SPD_CHECKSUM_BYTE] = sum(spd[:SPD_CHECKSUM_BYTE]) & 0xFF
    return bytes(spd)
