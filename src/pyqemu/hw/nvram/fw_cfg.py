"""The firmware configuration device's core (abstract QOM type ``fw_cfg``).

What every flavour (``fw_cfg_io`` on x86, ``fw_cfg_mem`` on other boards)
shares: the items (see :mod:`pyqemu.hw.nvram.fw_cfg_items`, whose methods
``add_file``, ``add_i32`` … a ``FwCfgState`` has), the selector, the data
register and the DMA interface, and the items QEMU 7.2 adds at realize.

Registers, as QEMU 7.2 behaves (checked with a small guest under QEMU):

- writing a 16-bit key to the selector selects an item and rewinds it; a
  key out of range selects nothing, and everything then reads 0;
- each data read returns the next bytes of the item (most significant byte
  first, for wider reads), then zeros past its end; writes are ignored
  (write support was removed from QEMU in 2.4);
- DMA: the guest writes the guest-physical address of a 16-byte
  ``FWCfgDmaAccess`` (big-endian ``control``, ``length``, ``address``) to
  the 64-bit big-endian DMA register — as one 64-bit write, or the high
  then the low 32-bit half, the low half starting the transfer.  ``control``
  holds a key in bits 16-31 with SELECT, then READ, WRITE or SKIP; the
  device copies the item to ``address`` (zeros past its end), refuses
  writes to read-only items with the ERROR bit, and finally stores the new
  ``control`` (0 on success) into the structure.  Reading the DMA register
  returns the signature "QEMU CFG".

Realize adds the signature "QEMU", the ID (bit 0: the traditional
interface, bit 1: DMA), the UUID, NOGRAPHIC, BOOT_MENU, ``etc/boot-fail-wait``
and, for ``-boot splash-time=``, ``etc/boot-menu-wait``.  Once the machine
is complete (its init-done notifiers), every system reset rewrites the files
``bootorder`` and — outside legacy order — ``bios-geometry`` from the boot
device lists (empty until devices declare a boot index).
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pyqemu.hw.core.qdev import qdev_get_machine
from pyqemu.hw.core.qdev_properties import prop_bool
from pyqemu.hw.core.sysbus import SysBusDevice
from pyqemu.hw.nvram.fw_cfg_items import (
    FW_CFG_BOOT_MENU,
    FW_CFG_FILE_SLOTS_MAX,
    FW_CFG_FILE_SLOTS_MIN,
    FW_CFG_ID,
    FW_CFG_INVALID,
    FW_CFG_NOGRAPHIC,
    FW_CFG_SIGNATURE,
    FW_CFG_UUID,
    FwCfgEntry,
    FwCfgItems,
)
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegionOps, MemTxResult
from pyqemu.qom.object import register_type
from pyqemu.util.errors import ConfigError, DeviceError

if TYPE_CHECKING:
    from pyqemu.memory.address_space import AddressSpace

TYPE_FW_CFG = "fw_cfg"
#: The traditional interface's selector (and, on ports, the data byte beside it).
FW_CFG_CTL_SIZE = 2
#: The DMA register: one 64-bit address.
FW_CFG_DMA_SIZE = 8

# ID bits
FW_CFG_VERSION = 0x01
FW_CFG_VERSION_DMA = 0x02

# FWCfgDmaAccess.control bits
FW_CFG_DMA_CTL_ERROR = 0x01
FW_CFG_DMA_CTL_READ = 0x02
FW_CFG_DMA_CTL_SKIP = 0x04
FW_CFG_DMA_CTL_SELECT = 0x08
FW_CFG_DMA_CTL_WRITE = 0x10
FW_CFG_DMA_SIGNATURE = 0x51454D5520434647  # "QEMU CFG"
#: ``FWCfgDmaAccess``: control, length, address, all big-endian.
DMA_ACCESS = struct.Struct(">IIQ")
DMA_CONTROL = struct.Struct(">I")
#: Zeros written at once when DMA reads past an item's end.
DMA_ZERO_CHUNK = 0x10000
ADDR_SPACE_END = 1 << 64

SIGNATURE = b"QEMU"
NULL_UUID = bytes(16)
#: ``etc/boot-fail-wait`` when no ``reboot-timeout`` is given: -1, never reboot.
NO_REBOOT = -1
MAX_BOOT_WAIT = 0xFFFF


def _bounded(boot_config: dict[str, Any], key: str, low: int, what: str) -> int | None:
    """A ``-boot`` number checked as QEMU does at realize (its message lacks a space after the comma)."""
    value = boot_config.get(key)
    if value is None:
        return None
    value = int(value)
    if value < low or value > MAX_BOOT_WAIT:
        raise ConfigError(f"{what} is invalid,it should be a value between {low} and {MAX_BOOT_WAIT}")
    return value


def boot_devices_blob(paths: list[str], strict: bool) -> bytes:
    """``bootorder``: one firmware path per line, ``HALT`` last with ``strict=on``, NUL-terminated."""
    if not paths:
        return b""
    lines = [*paths, "HALT"] if strict else paths
    return "\n".join(lines).encode() + b"\0"


@register_type
class FwCfgState(SysBusDevice, FwCfgItems):
    """Base of the fw_cfg devices (abstract ``fw_cfg``); boards create one per machine."""

    TYPE = TYPE_FW_CFG
    ABSTRACT = True
    PROPERTIES = (prop_bool("acpi-mr-restore", default=True),)
    #: Subclasses declare these properties (as QEMU, on the concrete types).
    dma_enabled: bool
    x_file_slots: int

    def __init__(self) -> None:
        SysBusDevice.__init__(self)
        FwCfgItems.__init__(self)
        self.cur_entry = FW_CFG_INVALID
        self.cur_offset = 0
        self.dma_addr = 0
        #: Where DMA reads its structures and copies to (the machine's ``memory``).
        self.dma_as: AddressSpace | None = None
        self.machine_ready = False
        #: Firmware paths of boot devices, by boot index (``get_boot_devices_list``).
        self.boot_devices: Callable[[], list[str]] = list
        #: ``bios-geometry`` lines (``get_boot_devices_lchs_list``).
        self.boot_lchs: Callable[[], list[str]] = list

    # -- realize (fw_cfg_file_slots_allocate + fw_cfg_common_realize) ---------------------

    def realize(self) -> None:
        """Allocate the slots; subclasses make their regions, then call :meth:`common_realize`."""
        if self.x_file_slots < FW_CFG_FILE_SLOTS_MIN:
            raise DeviceError(f'"file_slots" must be at least {FW_CFG_FILE_SLOTS_MIN:#x}')
        if self.x_file_slots > FW_CFG_FILE_SLOTS_MAX:
            raise DeviceError(f'"file_slots" must not exceed {FW_CFG_FILE_SLOTS_MAX:#x}')
        machine = qdev_get_machine(self)
        legacy = bool(getattr(type(machine), "LEGACY_FW_CFG_ORDER", False))
        host = getattr(machine, "host", None)
        self.items_init(self.x_file_slots, legacy, getattr(host, "warn", None))

    def common_realize(self) -> None:
        """The items every fw_cfg has, and the machine-done hook."""
        machine = qdev_get_machine(self)
        if fw_cfg_find(self) is not self:
            raise DeviceError(f"at most one {TYPE_FW_CFG} device is permitted")
        boot = dict(getattr(machine, "boot_config", None) or {})
        self.add_bytes(FW_CFG_SIGNATURE, SIGNATURE)
        self.add_bytes(FW_CFG_UUID, _machine_uuid(machine))
        self.add_i16(FW_CFG_NOGRAPHIC, int(not getattr(machine, "graphics", True)))
        self.add_i16(FW_CFG_BOOT_MENU, int(bool(boot.get("menu", False))))
        self._add_boot_waits(boot)
        self.add_i32(FW_CFG_ID, FW_CFG_VERSION | (FW_CFG_VERSION_DMA if self.dma_enabled else 0))
        notifiers = getattr(machine, "init_done_notifiers", None)
        if notifiers is not None:
            notifiers.append(lambda: fw_cfg_machine_done(self))

    def _add_boot_waits(self, boot: dict[str, Any]) -> None:
        """``etc/boot-menu-wait`` (``splash-time``) and ``etc/boot-fail-wait`` (``reboot-timeout``)."""
        splash_time = _bounded(boot, "splash-time", 0, "splash-time")
        if splash_time is not None:
            self.add_file("etc/boot-menu-wait", struct.pack("<H", splash_time))
        reboot = _bounded(boot, "reboot-timeout", NO_REBOOT, "reboot timeout")
        self.add_file("etc/boot-fail-wait", struct.pack("<i", NO_REBOOT if reboot is None else reboot))

    # -- reset -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Select the signature; once the machine is complete, refresh the boot order files."""
        self.select(FW_CFG_SIGNATURE)
        if self.machine_ready:
            self.machine_reset()

    def machine_reset(self) -> None:
        """``bootorder`` and (outside legacy order) ``bios-geometry`` (QEMU's ``fw_cfg_machine_reset``)."""
        boot = getattr(qdev_get_machine(self), "boot_config", None) or {}
        self.modify_file("bootorder", boot_devices_blob(self.boot_devices(), bool(boot.get("strict", False))))
        if not self.legacy_order:
            self.modify_file("bios-geometry", boot_devices_blob(self.boot_lchs(), False))

    # -- the traditional interface -------------------------------------------------------------

    def _current(self) -> FwCfgEntry | None:
        return None if self.cur_entry == FW_CFG_INVALID else self.entry(self.cur_entry)

    def select(self, key: int) -> bool:
        """Select item ``key`` from its start; False (and nothing selected) if out of range."""
        self.cur_offset = 0
        if not self.key_valid(key):
            self.cur_entry = FW_CFG_INVALID
            return False
        self.cur_entry = key
        entry = self._current()
        if entry is not None and entry.select_cb is not None:
            entry.select_cb()
        return True

    def data_read(self, size: int) -> int:
        """The next ``size`` bytes of the item as a big-endian number, zero-padded on the right."""
        entry = self._current()
        if entry is None or self.cur_offset >= entry.length:
            return 0
        chunk = bytes(entry.data[self.cur_offset:min(self.cur_offset + size, entry.length)])
        self.cur_offset += len(chunk)
        return int.from_bytes(chunk.ljust(size, b"\0"), "big")

    def data_write(self, value: int, size: int) -> None:
        """Data writes are ignored (QEMU removed the write path in 2.4)."""

    # -- DMA -----------------------------------------------------------------------------------

    def dma_mem_read(self, offset: int, size: int) -> int:
        """The DMA register reads as the signature "QEMU CFG", any width."""
        shift = (FW_CFG_DMA_SIZE - offset - size) * 8
        return (FW_CFG_DMA_SIGNATURE >> shift) & ((1 << (size * 8)) - 1)

    def dma_mem_write(self, offset: int, value: int, size: int) -> None:
        """High half, then low half (which starts the transfer), or one 64-bit write."""
        if size == 4 and offset == 0:
            self.dma_addr = value << 32
        elif size == 4 and offset == 4:
            self.dma_addr |= value
            self.dma_transfer()
        elif size == 8 and offset == 0:
            self.dma_addr = value
            self.dma_transfer()

    def dma_transfer(self) -> None:
        """Run the ``FWCfgDmaAccess`` at the address just written (``fw_cfg_dma_transfer``)."""
        space = self.dma_as
        desc_addr, self.dma_addr = self.dma_addr, 0
        if space is None:
            return
        raw = dma_read(space, desc_addr, DMA_ACCESS.size)
        if raw is None:
            space.write_bytes(desc_addr, DMA_CONTROL.pack(FW_CFG_DMA_CTL_ERROR))
            return
        control, length, address = DMA_ACCESS.unpack(raw)
        if control & FW_CFG_DMA_CTL_SELECT:
            self.select(control >> 16)
        if control & FW_CFG_DMA_CTL_READ:
            op = FW_CFG_DMA_CTL_READ
        elif control & FW_CFG_DMA_CTL_WRITE:
            op = FW_CFG_DMA_CTL_WRITE
        elif control & FW_CFG_DMA_CTL_SKIP:
            op = FW_CFG_DMA_CTL_SKIP
        else:
            op, length = 0, 0
        status = self._dma_copy(space, op, length, address)
        space.write_bytes(desc_addr, DMA_CONTROL.pack(status))

    def _dma_copy(self, space: AddressSpace, op: int, length: int, address: int) -> int:
        """Move ``length`` bytes between the item and guest memory; the new ``control``."""
        entry = self._current()
        status = 0
        while length > 0 and not status & FW_CFG_DMA_CTL_ERROR:
            if entry is None or self.cur_offset >= entry.length:
                count = length
                if op == FW_CFG_DMA_CTL_READ and not dma_zero(space, address, count):
                    status |= FW_CFG_DMA_CTL_ERROR
                if op == FW_CFG_DMA_CTL_WRITE:
                    status |= FW_CFG_DMA_CTL_ERROR
            else:
                count = min(length, entry.length - self.cur_offset)
                if op == FW_CFG_DMA_CTL_READ:
                    chunk = entry.data[self.cur_offset:self.cur_offset + count]
                    if space.write_bytes(address, chunk) != MemTxResult.OK:
                        status |= FW_CFG_DMA_CTL_ERROR
                if op == FW_CFG_DMA_CTL_WRITE and not self._dma_store(space, entry, address, count, length):
                    status |= FW_CFG_DMA_CTL_ERROR
                self.cur_offset += count
            address = (address + count) % ADDR_SPACE_END
            length -= count
        return status

    def _dma_store(self, space: AddressSpace, entry: FwCfgEntry, address: int, count: int,
                   length: int) -> bool:
        """A guest write into a writable item: whole, from readable memory, else an error."""
        if not entry.allow_write or count != length or not isinstance(entry.data, bytearray | memoryview):
            return False
        data = dma_read(space, address, count)
        if data is None:
            return False
        entry.data[self.cur_offset:self.cur_offset + count] = data
        if entry.write_cb is not None:
            entry.write_cb(self.cur_offset, count)
        return True

    # -- region callbacks ----------------------------------------------------------------------

    def dma_ops(self) -> MemoryRegionOps:
        """The DMA register: big-endian, 1-8 byte reads, writes of 4 bytes at 0 or 4, or 8 at 0."""
        sizes = AccessSizes(max_access_size=FW_CFG_DMA_SIZE)
        return MemoryRegionOps(read=self.dma_mem_read, write=self.dma_mem_write, endianness=Endianness.BIG,
                               valid=sizes, impl=sizes, accepts=_dma_accepts)


def _dma_accepts(offset: int, size: int, is_write: bool) -> bool:
    return not is_write or (size == 4 and offset in (0, 4)) or (size == 8 and offset == 0)


def dma_read(space: AddressSpace, addr: int, length: int) -> bytes | None:
    """``length`` bytes of guest memory at ``addr``, or None if part of it is unmapped."""
    end = addr + length
    if end > ADDR_SPACE_END:
        return None
    pos = addr
    while pos < end:
        section = space.lookup(pos)
        if section is None:
            return None
        pos = section.end
    return space.read_bytes(addr, length)


def dma_zero(space: AddressSpace, addr: int, length: int) -> bool:
    """Fill guest memory with zeros (``dma_memory_set``); False if some of it was not writable."""
    ok = True
    while length > 0:
        count = min(length, DMA_ZERO_CHUNK)
        ok &= space.write_bytes(addr, bytes(count)) == MemTxResult.OK
        addr = (addr + count) % ADDR_SPACE_END
        length -= count
    return ok


def _machine_uuid(machine: Any) -> bytes:
    """``-uuid``'s 16 bytes in their printed order, or zeros."""
    config = getattr(getattr(machine, "host", None), "config", None)
    text = getattr(config, "uuid", None)
    return uuid.UUID(text).bytes if text else NULL_UUID


def fw_cfg_find(obj: Any) -> FwCfgState | None:
    """The machine's fw_cfg device if there is exactly one (QEMU's ``fw_cfg_find``)."""
    from pyqemu.qom.path import resolve_path

    found, _ambiguous = resolve_path(obj.root(), "", TYPE_FW_CFG)
    return found if isinstance(found, FwCfgState) else None


def fw_cfg_machine_done(fw_cfg: FwCfgState) -> None:
    """The machine is complete: from the next system reset on, boot order files are kept current.

    Realize registers this as a machine init-done notifier, so boards need
    not call it; the first system reset after init-done adds the files.
    """
    fw_cfg.machine_ready = True
