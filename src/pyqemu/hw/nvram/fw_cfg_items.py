"""The items of a firmware configuration device and its file directory (no QOM, no ports).

fw_cfg hands firmware a set of *items*, each selected by a 16-bit key:

- well-known keys below ``FW_CFG_FILE_FIRST`` (0x20): signature, RAM size …;
- keys with bit 15 (``FW_CFG_ARCH_LOCAL``) set: the target's own items;
- *files*: named items in the slots from 0x20 on, listed by the directory at
  ``FW_CFG_FILE_DIR`` (0x19): a big-endian 32-bit count, then one 64-byte
  record per file (big-endian size, big-endian key, 2 reserved bytes, a
  56-byte NUL-padded name).

The directory keeps files sorted by name (``strcmp`` order), so a file added
later can move others to higher keys; machine types up to 2.4 use QEMU's
fixed "legacy" order instead.  The directory item has a fixed length
(room for every slot), as in QEMU, and is rewritten in place.

Integers given to ``add_i16/i32/i64`` are stored little-endian, strings with
their terminating NUL.  An item's length is fixed when it is added; its
bytes are read when the guest reads them, so a ``bytearray`` changed in
place later (the HPET table) is seen by the guest.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from pyqemu.util.errors import ConfigError

Buffer = bytes | bytearray | memoryview

# -- well-known keys (QEMU's FW_CFG_*) ---------------------------------------------
FW_CFG_SIGNATURE = 0x00
FW_CFG_ID = 0x01
FW_CFG_UUID = 0x02
FW_CFG_RAM_SIZE = 0x03
FW_CFG_NOGRAPHIC = 0x04
FW_CFG_NB_CPUS = 0x05
FW_CFG_MACHINE_ID = 0x06
FW_CFG_KERNEL_ADDR = 0x07
FW_CFG_KERNEL_SIZE = 0x08
FW_CFG_KERNEL_CMDLINE = 0x09
FW_CFG_INITRD_ADDR = 0x0A
FW_CFG_INITRD_SIZE = 0x0B
FW_CFG_BOOT_DEVICE = 0x0C
FW_CFG_NUMA = 0x0D
FW_CFG_BOOT_MENU = 0x0E
FW_CFG_MAX_CPUS = 0x0F
FW_CFG_KERNEL_ENTRY = 0x10
FW_CFG_KERNEL_DATA = 0x11
FW_CFG_INITRD_DATA = 0x12
FW_CFG_CMDLINE_ADDR = 0x13
FW_CFG_CMDLINE_SIZE = 0x14
FW_CFG_CMDLINE_DATA = 0x15
FW_CFG_SETUP_ADDR = 0x16
FW_CFG_SETUP_SIZE = 0x17
FW_CFG_SETUP_DATA = 0x18
FW_CFG_FILE_DIR = 0x19
FW_CFG_FILE_FIRST = 0x20
#: Fewest file slots a device may have (``x-file-slots``).
FW_CFG_FILE_SLOTS_MIN = 0x10
FW_CFG_FILE_SLOTS_DEFAULT = 0x20
FW_CFG_WRITE_CHANNEL = 0x4000
FW_CFG_ARCH_LOCAL = 0x8000
FW_CFG_ENTRY_MASK = 0xFFFF & ~(FW_CFG_WRITE_CHANNEL | FW_CFG_ARCH_LOCAL)
#: ``cur_entry`` when no valid key is selected.
FW_CFG_INVALID = 0xFFFF
#: Most file slots: the highest key the mask allows.
FW_CFG_FILE_SLOTS_MAX = FW_CFG_ENTRY_MASK - FW_CFG_FILE_FIRST + 1

#: Directory layout: count, then records of size, key, reserved, name.
DIR_COUNT = struct.Struct(">I")
DIR_RECORD = struct.Struct(">IHH56s")
FILE_NAME_SIZE = 56
#: An item's length is a 32-bit field.
MAX_ITEM_LEN = 0xFFFFFFFF

#: Legacy file order (machine types up to 2.4): a file sorts by this number, then by when it came.
LEGACY_ORDER = {
    "etc/boot-menu-wait": 10, "bootsplash.jpg": 11, "bootsplash.bmp": 12, "etc/boot-fail-wait": 15,
    "etc/smbios/smbios-tables": 20, "etc/smbios/smbios-anchor": 30, "etc/e820": 40,
    "etc/reserved-memory-end": 50, "genroms/kvmvapic.bin": 55, "genroms/linuxboot.bin": 60,
    "etc/system-states": 90, "etc/extra-pci-roots": 120, "etc/acpi/tables": 130,
    "etc/table-loader": 140, "etc/tpm/log": 150, "etc/acpi/rsdp": 160, "bootorder": 170,
    "etc/msr_feature_control": 180,
}
#: Where an unknown file goes in legacy order (after everything known).
LEGACY_ORDER_LAST = 200

SelectCallback = Callable[[], None]
#: Called after the guest wrote ``length`` bytes at ``offset`` of a writable item.
WriteCallback = Callable[[int, int], None]


@dataclass
class FwCfgEntry:
    """One item: its bytes (``length`` of them are visible), callbacks and whether DMA may write it."""

    data: Buffer
    length: int
    select_cb: SelectCallback | None = None
    write_cb: WriteCallback | None = None
    allow_write: bool = False


@dataclass
class FwCfgFile:
    """A named item in the directory; ``order`` is its legacy-order rank."""

    name: bytes
    entry: FwCfgEntry
    order: int = 0


def _entry(data: Buffer, select_cb: SelectCallback | None = None, write_cb: WriteCallback | None = None,
           read_only: bool = True) -> FwCfgEntry:
    if len(data) >= MAX_ITEM_LEN:
        raise ValueError(f"fw_cfg item of {len(data)} bytes is too large")
    return FwCfgEntry(data, len(data), select_cb, write_cb, not read_only)


def _c_name(name: str) -> bytes:
    """The name as the directory stores it: at most 55 bytes, room for the NUL."""
    return name.encode()[:FILE_NAME_SIZE - 1]


class FwCfgItems:
    """Every item of one fw_cfg device, and the file directory."""

    def __init__(self, file_slots: int = FW_CFG_FILE_SLOTS_DEFAULT, legacy_order: bool = False,
                 warn: Callable[[str], None] | None = None) -> None:
        self.items_init(file_slots, legacy_order, warn)

    def items_init(self, file_slots: int, legacy_order: bool = False,
                   warn: Callable[[str], None] | None = None) -> None:
        """Start empty with ``file_slots`` file slots (what the device's realize does)."""
        self.file_slots = file_slots
        self.legacy_order = legacy_order
        self._warn = warn
        #: Non-file items: [target-independent, arch-local], by key without the high bits.
        self._entries: tuple[dict[int, FwCfgEntry], dict[int, FwCfgEntry]] = ({}, {})
        self._files: list[FwCfgFile] = []
        self._directory: bytearray | None = None
        self._order_override = 0

    # -- keys -------------------------------------------------------------------------

    @property
    def max_entry(self) -> int:
        """One more than the highest valid key without the high bits."""
        return FW_CFG_FILE_FIRST + self.file_slots

    def key_valid(self, key: int) -> bool:
        return (key & FW_CFG_ENTRY_MASK) < self.max_entry

    def entry(self, key: int) -> FwCfgEntry | None:
        """The item behind ``key`` (the write-channel bit is ignored), or None."""
        index = key & FW_CFG_ENTRY_MASK
        arch = bool(key & FW_CFG_ARCH_LOCAL)
        if not arch and index >= FW_CFG_FILE_FIRST:
            slot = index - FW_CFG_FILE_FIRST
            return self._files[slot].entry if slot < len(self._files) else None
        return self._entries[arch].get(index)

    def _check_key(self, key: int) -> tuple[bool, int]:
        index = key & FW_CFG_ENTRY_MASK
        arch = bool(key & FW_CFG_ARCH_LOCAL)
        if index >= self.max_entry:
            raise ValueError(f"fw_cfg key {key:#x} is out of range")
        if not arch and index >= FW_CFG_FILE_FIRST:
            raise ValueError(f"fw_cfg key {key:#x} is a file slot: add files by name")
        return arch, index

    # -- numbered items (fw_cfg_add_* / fw_cfg_modify_*) -------------------------------

    def add_bytes(self, key: int, data: Buffer, *, select_cb: SelectCallback | None = None,
                  write_cb: WriteCallback | None = None, read_only: bool = True) -> None:
        """Add item ``key`` holding ``data`` (``fw_cfg_add_bytes``); the key must be free."""
        arch, index = self._check_key(key)
        if index in self._entries[arch]:
            raise ValueError(f"fw_cfg key {key:#x} is already in use")
        self._entries[arch][index] = _entry(data, select_cb, write_cb, read_only)

    def add_string(self, key: int, value: str) -> None:
        """Add a NUL-terminated string."""
        self.add_bytes(key, value.encode() + b"\0")

    def add_i16(self, key: int, value: int) -> None:
        self.add_bytes(key, struct.pack("<H", value & 0xFFFF))

    def add_i32(self, key: int, value: int) -> None:
        self.add_bytes(key, struct.pack("<I", value & 0xFFFFFFFF))

    def add_i64(self, key: int, value: int) -> None:
        self.add_bytes(key, struct.pack("<Q", value & 0xFFFFFFFFFFFFFFFF))

    def modify_bytes(self, key: int, data: Buffer) -> Buffer | None:
        """Replace item ``key``'s bytes (read-only, no callbacks from now on); returns the old bytes."""
        arch, index = self._check_key(key)
        old = self._entries[arch].get(index)
        self._entries[arch][index] = _entry(data)
        return old.data if old is not None else None

    def modify_string(self, key: int, value: str) -> None:
        self.modify_bytes(key, value.encode() + b"\0")

    def modify_i16(self, key: int, value: int) -> None:
        self.modify_bytes(key, struct.pack("<H", value & 0xFFFF))

    def modify_i32(self, key: int, value: int) -> None:
        self.modify_bytes(key, struct.pack("<I", value & 0xFFFFFFFF))

    def modify_i64(self, key: int, value: int) -> None:
        self.modify_bytes(key, struct.pack("<Q", value & 0xFFFFFFFFFFFFFFFF))

    # -- files ------------------------------------------------------------------------------

    @property
    def file_names(self) -> list[str]:
        """File names in directory order (file N has key ``FW_CFG_FILE_FIRST + N``)."""
        return [f.name.decode(errors="replace") for f in self._files]

    def file_key(self, name: str) -> int | None:
        """The key of file ``name`` now, or None."""
        index = self._find_file(name)
        return None if index is None else FW_CFG_FILE_FIRST + index

    def file_data(self, name: str) -> bytes | None:
        """The visible bytes of file ``name``, or None."""
        index = self._find_file(name)
        if index is None:
            return None
        entry = self._files[index].entry
        return bytes(entry.data[:entry.length])

    def _find_file(self, name: str) -> int | None:
        wanted = name.encode()
        return next((i for i, f in enumerate(self._files) if f.name == wanted), None)

    def add_file(self, name: str, data: Buffer, *, select_cb: SelectCallback | None = None,
                 write_cb: WriteCallback | None = None, read_only: bool = True) -> None:
        """Add file ``name`` (``fw_cfg_add_file`` / ``fw_cfg_add_file_callback``).

        A name already in the directory is QEMU's fatal "duplicate fw_cfg file
        name" error; running out of slots is a programming error.
        """
        entry = _entry(data, select_cb, write_cb, read_only)
        if self._directory is None:
            self._directory = bytearray(DIR_COUNT.size + DIR_RECORD.size * self.file_slots)
            self._entries[0][FW_CFG_FILE_DIR] = _entry(self._directory)
        if len(self._files) >= self.file_slots:
            raise ValueError(f"fw_cfg has no free file slot for '{name}'")
        stored = _c_name(name)
        if any(f.name == stored for f in self._files):
            raise ConfigError(f"duplicate fw_cfg file name: {stored.decode(errors='replace')}")
        order = self._order_for(name) if self.legacy_order else 0
        index = self._insertion_point(name.encode(), order)
        self._files.insert(index, FwCfgFile(stored, entry, order))
        self._write_directory()

    def modify_file(self, name: str, data: Buffer) -> Buffer | None:
        """Replace file ``name``'s bytes, or add it; returns the old bytes (``fw_cfg_modify_file``)."""
        index = self._find_file(name)
        if index is None:
            self.add_file(name, data)
            return None
        old = self._files[index].entry
        self._files[index].entry = _entry(data)
        self._write_directory()
        return old.data

    def set_order_override(self, order: int) -> None:
        """Give files added from now on legacy rank ``order`` (VGA / NIC option ROMs)."""
        if self._order_override:
            raise ValueError("fw_cfg order override is already set")
        self._order_override = order

    def reset_order_override(self) -> None:
        if not self._order_override:
            raise ValueError("fw_cfg order override is not set")
        self._order_override = 0

    def _order_for(self, name: str) -> int:
        if self._order_override > 0:
            return self._order_override
        order = LEGACY_ORDER.get(name)
        if order is None:
            if self._warn is not None:
                self._warn(f"Unknown firmware file in legacy mode: {name}")
            return LEGACY_ORDER_LAST
        return order

    def _insertion_point(self, name: bytes, order: int) -> int:
        """After every file that sorts before or equal (stable), as QEMU's backwards scan."""
        index = len(self._files)
        if self.legacy_order:
            while index > 0 and order < self._files[index - 1].order:
                index -= 1
        else:
            while index > 0 and name < self._files[index - 1].name:
                index -= 1
        return index

    def _write_directory(self) -> None:
        directory = self._directory
        assert directory is not None
        DIR_COUNT.pack_into(directory, 0, len(self._files))
        for index, f in enumerate(self._files):
            DIR_RECORD.pack_into(directory, DIR_COUNT.size + index * DIR_RECORD.size,
                                 f.entry.length, FW_CFG_FILE_FIRST + index, 0, f.name)
