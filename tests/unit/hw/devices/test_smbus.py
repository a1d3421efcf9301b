"""The SMBus of the PC boards: I2C bus, SPD EEPROMs, the PIIX4 / ICH9 host controller and ICH9-SMB.

Expected register values are what QEMU 7.2 answers to the same port
accesses (observed with HMP ``o`` / ``i`` on ``-M pc`` and ``-M q35``, and
for q35 with BAR 4 programmed at 0xb100 through 0xcf8 / 0xcfc).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyqemu.hw.core.bus import bus_reset_all
from pyqemu.hw.core.qtree import qbus_print, qtree_info
from pyqemu.hw.i2c.core import I2CBus
from pyqemu.hw.i2c.pm_smbus import PMSMBus, pm_smbus_init
from pyqemu.hw.i2c.smbus_eeprom import (
    SDRAMType,
    SMBusEEPROM,
    smbus_eeprom_init,
    smbus_eeprom_init_one,
    spd_data_generate,
)
from pyqemu.hw.i2c.smbus_ich9 import ICH9_SMB_DEVFN, ICH9SMB
from pyqemu.hw.i2c.smbus_master import (
    smbus_quick_command,
    smbus_read_byte,
    smbus_receive_byte,
    smbus_write_word,
)
from pyqemu.hw.pci.pci import PCIDevice, pci_create_simple
from pyqemu.hw.pci.pci_intx import pci_bus_irqs
from pyqemu.qom.object import register_type

from ..boards.conftest import board, io_space, pci_config_read, pci_config_write

DATA = Path(__file__).parent.parent / "boards" / "data"
MIB = 1 << 20
GIB = 1 << 30
SMB_BASE = 0xB100
TEST_BASE = 0xC100
TEST_DEVFN = 5 << 3

HST_STS, HST_CNT, HST_CMD, HST_ADD, HST_D0, HST_D1, BLOCK_DAT, AUX_CTL = 0, 2, 3, 4, 5, 6, 7, 0xD
START, INTREN, LAST_BYTE = 0x40, 0x01, 0x20
QUICK, BYTE, BYTE_DATA, WORD_DATA, PROC_CALL, BLOCK, I2C_BLOCK = (p << 2 for p in range(7))
BUSY, INTR, DEV_ERR, FAILED, BYTE_DONE = 0x01, 0x02, 0x04, 0x10, 0x80
EEPROM = 0x50

#: SPD bytes 0-63 QEMU 7.2's spd_data_generate gives for one DDR2 module (the rest is 0).
SPD_DDR2_128M = bytes.fromhex(
    "80 08 08 0d 0a 00 40 00 04 25 01 00 82 08 00 00"
    "0c 04 0c 00 02 00 00 12 00 00 00 14 0f 14 2d 20"
    "14 08 14 08" + " 00" * 27 + " 87"
)
SPD_DDR2_4G = SPD_DDR2_128M[:5] + b"\x01" + SPD_DDR2_128M[6:31] + b"\x02" + SPD_DDR2_128M[32:63] + b"\x6a"


class Guest:
    """The guest's side of the host controller: port accesses at ``base``."""

    def __init__(self, vm: object, base: int) -> None:
        self.io = io_space(vm)
        self.base = base

    def outb(self, reg: int, value: int) -> None:
        self.io.write(self.base + reg, value, 1)

    def inb(self, reg: int) -> int:
        return self.io.read(self.base + reg, 1)

    def command(self, addr: int, read: bool, cmd: int, ctl: int, d0: int = 0, d1: int = 0) -> list[int]:
        """Clear the status, program a command, start it and poll HST_STS: the values read.

        Polling stops when the controller is no longer busy or has a block byte ready.
        """
        self.outb(HST_STS, 0xFF)
        self.outb(HST_ADD, addr << 1 | int(read))
        self.outb(HST_CMD, cmd)
        self.outb(HST_D0, d0)
        self.outb(HST_D1, d1)
        self.outb(HST_CNT, START | ctl)
        seen = [self.inb(HST_STS)]
        while seen[-1] & BUSY and not seen[-1] & BYTE_DONE and len(seen) < 4:
            seen.append(self.inb(HST_STS))
        return seen

    def read_byte(self, addr: int, offset: int) -> int:
        assert self.command(addr, True, offset, BYTE_DATA) == [BUSY, INTR]
        return self.inb(HST_D0)


@pytest.fixture
def q35() -> Iterator[tuple[object, ICH9SMB, I2CBus, Guest]]:
    """q35 with ICH9-SMB at 1f.3, its 8 EEPROMs (no SPD data, as QEMU) and BAR 4 at 0xb100."""
    with board("q35") as vm:
        dev = vm.machine.pci_bus.slots[ICH9_SMB_DEVFN]  # type: ignore[union-attr]  # the board made it
        assert isinstance(dev, ICH9SMB)
        bus = dev.i2c_bus
        pci_config_write(vm, ICH9_SMB_DEVFN, 0x20, SMB_BASE | 1)
        pci_config_write(vm, ICH9_SMB_DEVFN, 0x04, 1, 2)
        yield vm, dev, bus, Guest(vm, SMB_BASE)


@register_type
class PmSmbusTestDevice(PCIDevice):
    """A PCI function using the controller as PIIX4_PM does: 32-byte block mode only, at a fixed port."""

    TYPE = "x-test-pm-smbus"

    def pci_realize(self) -> None:
        self.smb: PMSMBus = pm_smbus_init(self, force_aux_blk=True)
        bus = self.parent_bus
        bus.address_space_io.add_subregion(TEST_BASE, self.smb.io)  # type: ignore[union-attr]

    def unrealize(self) -> None:
        self.parent_bus.address_space_io.del_subregion(self.smb.io)  # type: ignore[union-attr]
        super().unrealize()


@pytest.fixture
def piix4() -> Iterator[tuple[object, PmSmbusTestDevice, Guest]]:
    """pc with the PIIX4-style test controller and 8 EEPROMs filled with DDR2 128 MiB SPD data."""
    with board("pc") as vm:
        dev = pci_create_simple(vm.machine.pci_bus, TEST_DEVFN, PmSmbusTestDevice.TYPE)  # type: ignore[union-attr]
        assert isinstance(dev, PmSmbusTestDevice)
        smbus_eeprom_init(dev.smb.bus, 8, spd_data_generate(SDRAMType.DDR2, 128 * MIB))
        yield vm, dev, Guest(vm, TEST_BASE)


# -- SPD contents -------------------------------------------------------------------


@pytest.mark.parametrize(("size", "expected"), [(128 * MIB, SPD_DDR2_128M), (4 * GIB, SPD_DDR2_4G)])
def test_spd_data_for_ddr2_modules_is_qemus(size: int, expected: bytes) -> None:
    spd = spd_data_generate(SDRAMType.DDR2, size)
    assert spd == expected + bytes(256 - 64)


def test_spd_data_for_sdr_and_ddr_banks_and_density() -> None:
    sdr = spd_data_generate(SDRAMType.SDR, 4 * GIB)      # 8 banks of 512 MiB
    assert (sdr[2], sdr[5], sdr[15], sdr[19], sdr[21], sdr[31], sdr[63]) == (4, 8, 1, 1, 0x20, 0x80, 0x0D)
    ddr = spd_data_generate(SDRAMType.DDR, 4 * GIB)      # 2 banks of 2 GiB: density folded
    assert (ddr[5], ddr[31]) == (2, 0x02)


@pytest.mark.parametrize("size", [96 * MIB, 64 * MIB, 0])
def test_spd_data_refuses_sizes_qemu_asserts_on(size: int) -> None:
    with pytest.raises(ValueError):
        spd_data_generate(SDRAMType.DDR2, size)


# -- the guest's view through the registers ------------------------------------------


def test_guest_reads_spd_bytes_with_byte_data_commands(piix4: tuple) -> None:
    _vm, _dev, guest = piix4
    assert [guest.read_byte(EEPROM, n) for n in range(64)] == list(SPD_DDR2_128M)
    assert guest.inb(HST_CNT) == BYTE_DATA       # START reads back 0
    assert guest.read_byte(EEPROM + 1, 0) == 0     # 256 bytes of SPD data fill the first EEPROM only


def test_pc_board_eeproms_read_zero_as_in_qemu(q35: tuple) -> None:
    # QEMU's pc and q35 pass no SPD data: with -m 4G a byte read of 0x50 offset 0 returns 0.
    _vm, _dev, _bus, guest = q35
    assert [guest.read_byte(EEPROM + n, 0) for n in range(8)] == [0] * 8


def test_absent_address_ends_with_dev_err_and_blocks_until_cleared(q35: tuple) -> None:
    _vm, _dev, _bus, guest = q35
    assert guest.command(0x60, True, 0, BYTE_DATA) == [BUSY, DEV_ERR]
    guest.outb(HST_ADD, EEPROM << 1 | 1)
    guest.outb(HST_CNT, START | BYTE_DATA)
    assert [guest.inb(HST_STS), guest.inb(HST_STS)] == [BUSY | DEV_ERR, DEV_ERR]  # not run: DEV_ERR pending
    assert guest.command(EEPROM, True, 0, PROC_CALL) == [BUSY, DEV_ERR]            # unsupported protocol


def test_write_then_read_bytes_and_words_and_reset_restores(q35: tuple) -> None:
    _vm, _dev, bus, guest = q35
    assert guest.command(EEPROM, False, 0x10, BYTE_DATA, d0=0x5A) == [BUSY, INTR]
    assert guest.read_byte(EEPROM, 0x10) == 0x5A
    assert guest.command(EEPROM, False, 0x20, WORD_DATA, d0=0x34, d1=0x12) == [BUSY, INTR]
    assert guest.command(EEPROM, True, 0x20, WORD_DATA) == [BUSY, INTR]
    assert (guest.inb(HST_D0), guest.inb(HST_D1)) == (0x34, 0x12)
    assert guest.command(EEPROM, True, 0, BYTE) == [BUSY, INTR]    # Receive Byte: from offset 0x22
    assert guest.inb(HST_D0) == 0
    assert guest.command(EEPROM, True, 0, QUICK) == [BUSY, INTR]
    bus_reset_all(bus)
    assert guest.read_byte(EEPROM, 0x10) == 0


def test_intren_runs_at_once_and_raises_inta(q35: tuple) -> None:
    vm, _dev, _bus, guest = q35
    levels: list[int] = []
    # q35's PIRQ routing is not modelled: put the bus's INTx on one recorded line.
    pci_bus_irqs(vm.machine.pci_bus, lambda _irq, level: levels.append(level), lambda _dev, _pin: 0, 1)
    guest.outb(HST_ADD, EEPROM << 1 | 1)
    guest.outb(HST_CNT, START | BYTE_DATA | INTREN)
    assert levels == [1]
    assert [guest.inb(HST_STS), guest.inb(HST_STS)] == [INTR, INTR]
    guest.outb(HST_STS, 0xFF)
    assert levels == [1, 0]


def test_kill_aux_ctl_and_split_word_accesses(piix4: tuple) -> None:
    vm, _dev, guest = piix4
    assert guest.inb(AUX_CTL) == 0x02                # PIIX4: 32-byte block mode forced
    guest.outb(AUX_CTL, 0xFF)
    assert guest.inb(AUX_CTL) == 0x03
    guest.outb(HST_CMD, 0x5A)
    guest.outb(HST_ADD, 0xA5)
    assert io_space(vm).read(TEST_BASE + HST_CMD, 2) == 0xA55A
    io_space(vm).write(TEST_BASE + HST_D0, 0x1234, 2)
    assert (guest.inb(HST_D0), guest.inb(HST_D1)) == (0x34, 0x12)
    assert guest.inb(0x3F) == 0
    guest.outb(HST_CNT, 0xFF)                        # KILL, and START of protocol 7 with INTREN
    assert (guest.inb(HST_STS), guest.inb(HST_CNT)) == (FAILED | DEV_ERR, 0x1F)


def test_block_write_and_read_through_the_32_byte_buffer(piix4: tuple) -> None:
    _vm, _dev, guest = piix4
    guest.outb(HST_STS, 0xFF)
    guest.outb(HST_ADD, EEPROM << 1)
    guest.outb(HST_CMD, 0x40)
    guest.outb(HST_D0, 3)
    for byte in (0xAA, 0xBB, 0xCC):
        guest.outb(BLOCK_DAT, byte)
    guest.outb(HST_CNT, START | BLOCK)
    assert [guest.inb(HST_STS), guest.inb(HST_STS)] == [BUSY, INTR]
    assert [guest.read_byte(EEPROM, 0x40 + n) for n in range(4)] == [3, 0xAA, 0xBB, 0xCC]  # count first
    assert guest.command(EEPROM, True, 0x40, BLOCK) == [BUSY, INTR]
    assert guest.inb(HST_D0) == 3
    assert [guest.inb(BLOCK_DAT) for _ in range(4)] == [0xAA, 0xBB, 0xCC, 0xAA]
    guest.outb(HST_D0, 1)                            # buffer holds 2 bytes, count says 1
    guest.outb(BLOCK_DAT, 0x11)
    guest.outb(BLOCK_DAT, 0x22)
    assert guest.command(EEPROM, False, 0x50, BLOCK, d0=1) == [BUSY, DEV_ERR]


def _fill(guest: Guest, offset: int, data: bytes) -> None:
    for n, byte in enumerate(data):
        assert guest.command(EEPROM, False, offset + n, BYTE_DATA, d0=byte) == [BUSY, INTR]


def test_ich9_byte_by_byte_block_read_and_write(q35: tuple) -> None:
    _vm, _dev, _bus, guest = q35
    _fill(guest, 0, bytes([0x11, 0x22, 0x33, 0x44]))
    # I2C block read of 3 bytes from offset 1 (HST_D1), BYTE_DONE handshake per byte.
    guest.outb(HST_STS, 0xFF)
    guest.outb(HST_ADD, EEPROM << 1 | 1)
    guest.outb(HST_D1, 1)
    guest.outb(HST_D0, 3)
    guest.outb(HST_CNT, START | I2C_BLOCK)
    got = [guest.inb(HST_STS), guest.inb(HST_STS), guest.inb(BLOCK_DAT)]
    guest.outb(HST_STS, BYTE_DONE)
    got += [guest.inb(HST_STS), guest.inb(BLOCK_DAT)]
    guest.outb(HST_CNT, I2C_BLOCK | LAST_BYTE)
    guest.outb(HST_STS, BYTE_DONE)
    got += [guest.inb(HST_STS), guest.inb(BLOCK_DAT)]
    guest.outb(HST_STS, 0xFF)
    assert [*got, guest.inb(HST_STS)] == [BUSY, BUSY | BYTE_DONE, 0x22, BUSY | BYTE_DONE, 0x33, INTR, 0x44, 0]
    # SMBus block write of 3 bytes at 0x60: first byte in BLOCK_DAT before START.
    guest.outb(HST_ADD, EEPROM << 1)
    guest.outb(HST_CMD, 0x60)
    guest.outb(HST_D0, 3)
    guest.outb(BLOCK_DAT, 0xD1)
    guest.outb(HST_CNT, START | BLOCK)
    got = [guest.inb(HST_STS), guest.inb(HST_STS)]
    for byte in (0xD2, 0xD3, None):
        if byte is not None:
            guest.outb(BLOCK_DAT, byte)
        guest.outb(HST_STS, BYTE_DONE)
        got.append(guest.inb(HST_STS))
    assert got == [BUSY, BUSY | BYTE_DONE, BUSY | BYTE_DONE, BUSY | BYTE_DONE, INTR]
    assert [guest.read_byte(EEPROM, 0x60 + n) for n in range(4)] == [3, 0xD1, 0xD2, 0xD3]


def test_ich9_byte_by_byte_smbus_block_read(q35: tuple) -> None:
    _vm, _dev, _bus, guest = q35
    _fill(guest, 0, bytes([0x11, 0x22, 0x33, 0x44]))   # byte count 0x11, then the data
    assert guest.command(EEPROM, True, 0, BLOCK) == [BUSY, BUSY | BYTE_DONE]
    got = [guest.inb(HST_D0), guest.inb(BLOCK_DAT)]
    for _ in range(2):
        guest.outb(HST_STS, BYTE_DONE)
        got += [guest.inb(HST_STS), guest.inb(BLOCK_DAT)]
    assert got == [0x11, 0x22, BUSY | BYTE_DONE, 0x33, BUSY | BYTE_DONE, 0x44]


def test_ich9_block_read_count_too_large_reads_nothing(q35: tuple) -> None:
    _vm, _dev, _bus, guest = q35
    _fill(guest, 1, bytes([0x22]))                 # byte count 0x22 = 34 > 32
    guest.outb(AUX_CTL, 0x02)
    assert guest.command(EEPROM, True, 1, BLOCK) == [BUSY, INTR]
    assert guest.inb(HST_D0) == 0


# -- ICH9-SMB's PCI function ------------------------------------------------------------


def test_ich9_smb_config_space_and_hostc(q35: tuple) -> None:
    vm, _dev, _bus, guest = q35
    devfn = ICH9_SMB_DEVFN
    words = [pci_config_read(vm, devfn, off) for off in (0x00, 0x08, 0x0C, 0x20, 0x2C, 0x3C, 0x40)]
    assert words == [0x29308086, 0x0C050002, 0x00800000, SMB_BASE | 1, 0x11001AF4, 0x100, 0]
    pci_config_write(vm, devfn, 0x40, 0xFFFFFFFF)
    assert pci_config_read(vm, devfn, 0x40) == 0xFFFFFFF7   # SSRESET reads back 0
    pci_config_write(vm, devfn, 0x40, 0)                     # HST_EN off: the ports float
    assert guest.inb(HST_STS) == 0xFF
    pci_config_write(vm, devfn, 0x40, 1)
    assert guest.command(0x60, True, 0, BYTE_DATA) == [BUSY, DEV_ERR]
    pci_config_write(vm, devfn, 0x40, 0x0D)                  # soft reset clears the status
    assert (pci_config_read(vm, devfn, 0x40), guest.inb(HST_STS)) == (0x05, 0)
    pci_config_write(vm, devfn, 0x20, 0xFFFFFFFF)
    assert pci_config_read(vm, devfn, 0x20) == 0xFFFFFFC1   # 64 ports


def test_ich9_smb_qtree_block_equals_qemus(q35: tuple) -> None:
    vm, _dev, _bus, _guest = q35
    pci_config_write(vm, ICH9_SMB_DEVFN, 0x04, 0, 2)        # as after reset: BAR unmapped
    pci_config_write(vm, ICH9_SMB_DEVFN, 0x20, 1)
    ref = (DATA / "q35-qtree.txt").read_text().splitlines()
    start = ref.index('      dev: ICH9-SMB, id ""')
    ours = qtree_info(vm.machine).splitlines()  # type: ignore[attr-defined]
    mine = ours.index('      dev: ICH9-SMB, id ""')
    assert ours[mine:mine + 30] == ref[start:start + 30]


def test_pm_smbus_i2c_bus_block_equals_qemus_piix4_pm(piix4: tuple) -> None:
    _vm, dev, _guest = piix4
    ref = (DATA / "pc-qtree.txt").read_text().splitlines()
    start = ref.index("        bus: i2c")
    assert qbus_print(dev.smb.bus, 8) == ref[start:start + 18]


def test_qom_children_and_eeprom_places(q35: tuple) -> None:
    _vm, dev, bus, _guest = q35
    children = {child.name_in_parent: child.typename for child in dev.children()}
    assert children == {
        "bus master container[0]": "memory-region", "bus master[0]": "memory-region",
        "i2c": "i2c-bus", "pm-smbus[0]": "memory-region",
    }
    assert dev.child("pm-smbus[0]").property_get("size") == 64
    eeproms = list(reversed(bus.devices))
    assert [e.property_get("address") for e in eeproms] == list(range(0x50, 0x58))
    first = int(dev.canonical_path().rsplit("[", 1)[1][:-1])
    assert [e.canonical_path() for e in eeproms] == [
        f"/machine/unattached/device[{first + 1 + n}]" for n in range(8)
    ]
    assert eeproms[0].property_get("parent_bus") == dev.canonical_path() + "/i2c"
    assert all(isinstance(e, SMBusEEPROM) for e in eeproms)


# -- the bus and the protocol without a controller ----------------------------------------


def test_bus_transfers_repeated_start_and_broadcast(q35: tuple) -> None:
    _vm, _dev, bus, _guest = q35
    eeprom = smbus_eeprom_init_one(bus, 0x58, bytes(range(256)))
    assert smbus_read_byte(bus, 0x58, 0x10) == 0x10
    assert smbus_read_byte(bus, 0x59, 0) is None and not bus.busy
    assert smbus_write_word(bus, 0x58, 0xFF, 0xBEEF)        # wraps at 256
    assert (eeprom.data[0xFF], eeprom.data[0]) == (0xEF, 0xBE)
    assert smbus_quick_command(bus, 0x58, True)
    assert bus.start_send(0x58) and bus.send(0x20)          # command byte, then a repeated start ...
    assert bus.start_recv(0x59)                             # ... reaches the same device
    assert [bus.recv(), bus.recv()] == [0x20, 0x21]
    bus.nack()
    bus.end_transfer()
    assert bus.start_recv(0) and bus.recv() == 0xFF          # broadcast: nobody drives the bus
    bus.end_transfer()
    assert not bus.broadcast and not bus.busy
    with pytest.raises(ValueError):
        smbus_eeprom_init(bus, 9)


def test_smbus_device_confused_by_a_read_in_a_write_drops_the_write(q35: tuple) -> None:
    _vm, _dev, bus, _guest = q35
    smbus_eeprom_init_one(bus, 0x58, bytes(range(256)))
    assert smbus_read_byte(bus, 0x58, 0x10) == 0x10       # position now 0x11
    assert bus.start_send(0x58)
    assert bus.recv() == 0xFF                              # a read in a write: protocol error
    bus.send(0x40)                                         # ignored: no new position
    bus.end_transfer()
    assert smbus_receive_byte(bus, 0x58) == 0x11
