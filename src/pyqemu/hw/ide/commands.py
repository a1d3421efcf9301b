"""ATA commands as QEMU 7.2 runs them on a channel position that has no drive.

With no drive QEMU treats the position as an ATA disk without a backend:
commands of the disk command set run, and those that need the medium
(reads, writes, IDENTIFY, SET FEATURES …) abort with ABRT; commands of other
sets (ATAPI, CompactFlash) and unknown opcodes abort too.  Every command
ends by raising the channel IRQ.  A few complete without a medium (power
management, SEEK, VERIFY, SET MULTIPLE, FLUSH CACHE), and SMART works once
enabled, including its 512-byte data-in pages.  Not modelled: the lba48
sector-count conversion's effect on later commands (nothing reads it back
without a drive).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, NamedTuple

from pyqemu.hw.ide.core import BUSY_STAT, ERR_STAT, MAX_MULT_SECTORS, READY_STAT, SECTOR_SIZE, SEEK_STAT

if TYPE_CHECKING:
    from pyqemu.hw.ide.core import AtaDevice, IdeChannel


class Outcome(Enum):
    """How a command handler left the position."""

    COMPLETE = "complete"  # finish: clear BSY, set DSC if asked, raise the IRQ
    PENDING = "pending"    # the handler raised the IRQ itself (or will)


Handler = Callable[["IdeChannel", "AtaDevice", int], Outcome]


def _abort(channel: IdeChannel, dev: AtaDevice, cmd: int) -> Outcome:
    """A command that needs a medium."""
    dev.abort()
    return Outcome.COMPLETE


def _nop(channel: IdeChannel, dev: AtaDevice, cmd: int) -> Outcome:
    return Outcome.COMPLETE


def _verify(channel: IdeChannel, dev: AtaDevice, cmd: int) -> Outcome:
    dev.lba48 = cmd == WIN_VERIFY_EXT
    return Outcome.COMPLETE


def _check_power_mode(channel: IdeChannel, dev: AtaDevice, cmd: int) -> Outcome:
    dev.nsector = 0xFF  # active or idle
    return Outcome.COMPLETE


def _set_multiple_mode(channel: IdeChannel, dev: AtaDevice, cmd: int) -> Outcome:
    count = dev.nsector & 0xFF
    if count and (count > MAX_MULT_SECTORS or dev.nsector & (dev.nsector - 1)):
        dev.abort()
    else:
        dev.mult_sectors = count
    return Outcome.COMPLETE


def _wear_level(channel: IdeChannel, dev: AtaDevice, cmd: int) -> Outcome:
    """0xf5 (also SECURITY FREEZE LOCK, which Windows sends): succeeds, sector count 0."""
    dev.nsector = 0
    return Outcome.COMPLETE


def _diagnostic(channel: IdeChannel, dev: AtaDevice, cmd: int) -> Outcome:
    dev.run_diagnostic()
    channel.set_irq()
    return Outcome.PENDING


def _flush_cache(channel: IdeChannel, dev: AtaDevice, cmd: int) -> Outcome:
    """Nothing to flush: done at once, with the IRQ."""
    dev.status = READY_STAT | SEEK_STAT
    channel.set_irq()
    return Outcome.PENDING


# -- SMART ------------------------------------------------------------------------------

SMART_READ_DATA = 0xD0
SMART_READ_THRESH = 0xD1
SMART_ATTR_AUTOSAVE = 0xD2
SMART_EXECUTE_OFFLINE = 0xD4
SMART_READ_LOG = 0xD5
SMART_ENABLE = 0xD8
SMART_DISABLE = 0xD9
SMART_STATUS = 0xDA
SMART_LCYL, SMART_HCYL = 0x4F, 0xC2
SMART_FAILING_LCYL, SMART_FAILING_HCYL = 0xF4, 0x2C
AUTOSAVE_OFF, AUTOSAVE_ON = 0x00, 0xF1
LOG_SUMMARY_ERRORS, LOG_SELF_TEST = 0x01, 0x06
SELF_TEST_ROUTINES = (0, 1, 2)  # off-line, short, extended
SELF_TEST_LOG_ENTRIES = 21
SELF_TEST_ENTRY_SIZE = 24
SELF_TEST_HOURS = 0x1234


class SmartAttribute(NamedTuple):
    """One SMART attribute QEMU reports: id, flags, current and worst value, raw bytes, threshold."""

    id: int
    flags: int
    value: int
    worst: int
    raw: bytes
    threshold: int


SMART_ATTRIBUTES = (
    SmartAttribute(0x01, 0x0003, 0x64, 0x64, bytes(6), 0x06),                   # raw read error rate
    SmartAttribute(0x03, 0x0003, 0x64, 0x64, b"\x10" + bytes(5), 0x00),         # spin-up time
    SmartAttribute(0x04, 0x0002, 0x64, 0x64, b"\x64" + bytes(5), 0x14),         # start/stop count
    SmartAttribute(0x05, 0x0003, 0x64, 0x64, bytes(6), 0x24),                   # reallocated sectors
    SmartAttribute(0x09, 0x0003, 0x64, 0x64, b"\x01" + bytes(5), 0x00),         # power-on hours
    SmartAttribute(0x0C, 0x0003, 0x64, 0x64, bytes(6), 0x00),                   # power cycles
    SmartAttribute(0xBE, 0x0003, 0x45, 0x45, b"\x1f\x00\x1f\x1f\x00\x00", 0x32),  # airflow temperature
)
SMART_ENTRY_SIZE = 12
SMART_STRUCT_VERSION = 0x01
#: Offline-data-collection and capability bytes of the READ DATA page (offset, value).
SMART_DATA_CAPABILITIES = ((364, 0x20), (365, 0x01), (367, 0x19), (368, 0x03), (370, 0x01),
                           (372, 0x02), (373, 0x36), (374, 0x01))
SMART_DATA_OFFLINE_STATUS = 362
SMART_DATA_SELF_TEST_STATUS = 363
SMART_LOG_ERROR_COUNT = 452
SMART_LOG_SELF_TEST_INDEX = 508


def _with_checksum(page: bytearray) -> bytes:
    """Set the last byte so that all 512 bytes sum to zero."""
    page[-1] = -sum(page[:-1]) & 0xFF
    return bytes(page)


def smart_data_page(dev: AtaDevice) -> bytes:
    page = bytearray(SECTOR_SIZE)
    page[0] = SMART_STRUCT_VERSION
    for n, attr in enumerate(SMART_ATTRIBUTES):
        at = 2 + n * SMART_ENTRY_SIZE
        head = (attr.id, attr.flags & 0xFF, attr.flags >> 8, attr.value, attr.worst)
        page[at:at + 11] = bytes(head) + attr.raw
    page[SMART_DATA_OFFLINE_STATUS] = 0x02 | (0x80 if dev.smart_autosave else 0)
    count = dev.smart_selftest_count
    if count:  # the status byte of the latest self-test
        page[SMART_DATA_SELF_TEST_STATUS] = dev.smart_selftest_data[3 + (count - 1) * SELF_TEST_ENTRY_SIZE]
    for offset, value in SMART_DATA_CAPABILITIES:
        page[offset] = value
    return _with_checksum(page)


def smart_thresholds_page() -> bytes:
    page = bytearray(SECTOR_SIZE)
    page[0] = SMART_STRUCT_VERSION
    for n, attr in enumerate(SMART_ATTRIBUTES):
        page[2 + n * SMART_ENTRY_SIZE] = attr.id
        page[3 + n * SMART_ENTRY_SIZE] = attr.threshold
    return _with_checksum(page)


def smart_log_page(dev: AtaDevice, log: int) -> bytes | None:
    page = bytearray(SECTOR_SIZE)
    page[0] = SMART_STRUCT_VERSION
    if log == LOG_SUMMARY_ERRORS:
        errors = (dev.smart_errors & 0xFFFF).to_bytes(2, "little")
        page[SMART_LOG_ERROR_COUNT:SMART_LOG_ERROR_COUNT + 2] = errors
    elif log == LOG_SELF_TEST:
        page[SMART_LOG_SELF_TEST_INDEX] = dev.smart_selftest_count
        if dev.smart_selftest_count:
            page[2:506] = dev.smart_selftest_data[2:506]
    else:
        return None
    return _with_checksum(page)


def _record_self_test(dev: AtaDevice) -> None:
    dev.smart_selftest_count = dev.smart_selftest_count % SELF_TEST_LOG_ENTRIES + 1
    at = 2 + (dev.smart_selftest_count - 1) * SELF_TEST_ENTRY_SIZE
    entry = bytes((dev.sector, 0x00)) + SELF_TEST_HOURS.to_bytes(2, "little")  # OK and finished
    dev.smart_selftest_data[at:at + 4] = entry


def _smart(channel: IdeChannel, dev: AtaDevice, cmd: int) -> Outcome:
    if dev.hcyl != SMART_HCYL or dev.lcyl != SMART_LCYL:
        return _abort(channel, dev, cmd)
    if not dev.smart_enabled and dev.feature != SMART_ENABLE:
        return _abort(channel, dev, cmd)
    feature = dev.feature
    page: bytes | None = None
    if feature in (SMART_ENABLE, SMART_DISABLE):
        dev.smart_enabled = feature == SMART_ENABLE
    elif feature == SMART_ATTR_AUTOSAVE and dev.sector in (AUTOSAVE_OFF, AUTOSAVE_ON):
        dev.smart_autosave = dev.sector == AUTOSAVE_ON
    elif feature == SMART_STATUS:
        failing = dev.smart_errors != 0
        dev.hcyl = SMART_FAILING_HCYL if failing else SMART_HCYL
        dev.lcyl = SMART_FAILING_LCYL if failing else SMART_LCYL
    elif feature == SMART_EXECUTE_OFFLINE and dev.sector in SELF_TEST_ROUTINES:
        _record_self_test(dev)
    elif feature == SMART_READ_DATA:
        page = smart_data_page(dev)
    elif feature == SMART_READ_THRESH:
        page = smart_thresholds_page()
    elif feature == SMART_READ_LOG:
        page = smart_log_page(dev, dev.sector)
        if page is None:
            return _abort(channel, dev, cmd)
    else:
        return _abort(channel, dev, cmd)
    if page is None:
        return Outcome.COMPLETE
    dev.status = READY_STAT | SEEK_STAT
    dev.transfer_start(page)
    channel.set_irq()
    return Outcome.PENDING


# -- the table ------------------------------------------------------------------------------

WIN_DSM = 0x06
WIN_VERIFY_EXT = 0x42
WIN_DIAGNOSE = 0x90

_NEEDS_MEDIUM = (
    WIN_DSM, 0x20, 0x21, 0x24, 0x25, 0x27, 0x29, 0x30, 0x31, 0x34, 0x35, 0x39, 0x3C,
    0xC4, 0xC5, 0xC8, 0xC9, 0xCA, 0xCB, 0xEC, 0xF8,
)
_POWER_NOPS = (0x94, 0x95, 0x96, 0x97, 0x99, 0xE0, 0xE1, 0xE2, 0xE3, 0xE6)


class Command(NamedTuple):
    handler: Handler
    #: Set DSC in the status when the command succeeds.
    seek_complete: bool = False


#: Commands of the ATA disk command set (what QEMU allows an empty position).
DISK_COMMANDS: dict[int, Command] = {
    **{op: Command(_abort) for op in _NEEDS_MEDIUM},
    **{op: Command(_nop) for op in _POWER_NOPS},
    0x10: Command(_nop, True),          # RECALIBRATE
    0x40: Command(_verify, True),       # READ VERIFY SECTORS
    0x41: Command(_verify, True),
    WIN_VERIFY_EXT: Command(_verify, True),
    0x70: Command(_nop, True),          # SEEK
    WIN_DIAGNOSE: Command(_diagnostic),
    0x91: Command(_nop, True),          # INITIALIZE DEVICE PARAMETERS
    0x98: Command(_check_power_mode, True),
    0xE5: Command(_check_power_mode, True),
    0xB0: Command(_smart, True),
    0xC6: Command(_set_multiple_mode, True),
    0xE7: Command(_flush_cache),
    0xEA: Command(_flush_cache),
    0xEF: Command(_abort, True),        # SET FEATURES
    0xF5: Command(_wear_level, True),
}


def execute(channel: IdeChannel, dev: AtaDevice, cmd: int) -> None:
    """Run ``cmd`` on ``dev`` and raise the IRQ when it completes."""
    command = DISK_COMMANDS.get(cmd)
    if command is None:
        dev.abort()
        channel.set_irq()
        return
    dev.status = READY_STAT | BUSY_STAT
    dev.error = 0
    if command.handler(channel, dev, cmd) is Outcome.PENDING:
        return
    dev.status &= ~BUSY_STAT
    if command.seek_complete and not dev.error:
        dev.status |= SEEK_STAT
    assert bool(dev.error) == bool(dev.status & ERR_STAT)
    channel.set_irq()
