"""fw_cfg_io and the x86 items, against what a small guest read from QEMU 7.2 (TCG) through the ports.

The expected bytes below were dumped by a 16-bit guest (``-bios``) that
selected every key, walked the file directory, read each file, and probed
the registers and the DMA interface of ``qemu-system-x86_64 -nodefaults``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pyqemu.hw.nvram.fw_cfg_io  # noqa: F401  (registers fw_cfg_io)
from pyqemu.hw.core.qtree import qtree_info
from pyqemu.hw.i386.fw_cfg import (
    FW_CFG_HPET,
    FW_CFG_IRQ0_OVERRIDE,
    fw_cfg_arch_create,
    fw_cfg_microvm_create,
    numa_blob,
    x86_e820_table,
)
from pyqemu.hw.nvram.fw_cfg import boot_devices_blob, fw_cfg_find, fw_cfg_machine_done
from pyqemu.hw.nvram.fw_cfg_io import fw_cfg_init_io_dma
from pyqemu.hw.nvram.fw_cfg_items import FwCfgItems
from pyqemu.hw.timer.hpet_fw import HpetFwConfig, hpet_fw_config
from pyqemu.memory.region import MemoryRegion
from pyqemu.util.errors import ConfigError, DeviceError, QemuError

from .conftest import Board

DATA = Path(__file__).parents[1] / "boards" / "data"
MiB = 1 << 20
GiB = 1 << 30
RAM_SIZE = 128 * MiB
GUEST_RAM = 1 * MiB
SEL, DATA_PORT, DMA_PORT = 0x510, 0x511, 0x514
DESC, BUF = 0x2000, 0x3000

#: QEMU 7.2 ``-M pc`` (128 MiB, qemu64 = AMD): ``etc/e820`` (the HT hole first, then RAM).
PC_E820 = bytes.fromhex("00000000fd000000000000000300000002000000" "0000000000000000000000080000000001000000")


def _board_with_ram(board: Board) -> None:
    ram = MemoryRegion.new_ram(None, "test-ram", GUEST_RAM, parent=board.machine.unattached())
    board.memory.system_memory.add_subregion(0, ram)
    board.machine.ram_size = RAM_SIZE


@pytest.fixture
def pc(board: Board) -> Iterator[tuple[Board, Any]]:
    """A fw_cfg as ``pc`` makes it, after machine done and the first system reset."""
    _board_with_ram(board)
    fw = fw_cfg_arch_create(board.machine, 1, 1, x86_e820_table(RAM_SIZE, 0, reserve_amd_ht=True))
    fw_cfg_machine_done(fw)
    fw.reset()
    yield board, fw


def select(board: Board, key: int) -> None:
    board.outb(SEL, key, 2)


def read(board: Board, count: int) -> bytes:
    return bytes(board.inb(DATA_PORT) for _ in range(count))


def item(board: Board, key: int, count: int) -> bytes:
    select(board, key)
    return read(board, count)


def directory(board: Board) -> list[tuple[str, int, int]]:
    """(name, size, key) of every file, as firmware walks the directory."""
    select(board, 0x19)
    (count,) = struct.unpack(">I", read(board, 4))
    files = []
    for _ in range(count):
        size, key, _reserved, name = struct.unpack(">IHH56s", read(board, 64))
        files.append((name.rstrip(b"\0").decode(), size, key))
    return files


# -- the items, read through the ports --------------------------------------------------


def test_signature_id_and_pc_items(pc: tuple[Board, Any]) -> None:
    board, _fw = pc
    assert item(board, 0x00, 6) == b"QEMU\0\0"
    assert item(board, 0x01, 4) == bytes.fromhex("03000000")  # traditional + DMA
    assert item(board, 0x02, 16) == bytes(16)  # no -uuid
    assert item(board, 0x03, 8) == struct.pack("<Q", RAM_SIZE)
    assert item(board, 0x04, 2) == b"\0\0"  # graphics on
    assert item(board, 0x05, 2) == b"\x01\0"  # NB_CPUS
    assert item(board, 0x0E, 2) == b"\0\0"  # no boot menu
    assert item(board, 0x0F, 2) == b"\x01\0"  # APIC id limit
    assert item(board, 0x0D, 17) == bytes(17)  # NUMA: no nodes, CPU 0 on node 0
    assert item(board, FW_CFG_IRQ0_OVERRIDE, 4) == b"\x01\0\0\0"
    assert item(board, FW_CFG_HPET, 2) == b"\xff\0"  # no HPET realized


def test_directory_and_files(pc: tuple[Board, Any]) -> None:
    board, fw = pc
    assert directory(board) == [
        ("bios-geometry", 0, 0x20), ("bootorder", 0, 0x21),
        ("etc/boot-fail-wait", 4, 0x22), ("etc/e820", 40, 0x23),
    ]
    assert item(board, 0x22, 5) == b"\xff\xff\xff\xff\0"  # -1: never reboot, then zeros
    assert item(board, 0x23, 40) == PC_E820
    assert fw.file_data("etc/e820") == PC_E820
    assert fw.entry(0x19).length == 4 + 64 * 32  # type: ignore[union-attr]  # room for every slot


def test_reads_past_the_end_and_unknown_keys_are_zero(pc: tuple[Board, Any]) -> None:
    board, _fw = pc
    assert item(board, 0x00, 8) == b"QEMU" + bytes(4)
    assert item(board, 0x0100, 2) == b"\0\0"  # free slot
    assert item(board, 0x3FFF, 2) == b"\0\0"  # beyond the last slot
    assert item(board, 0x4000, 4) == b"QEMU"  # write-channel bit ignored for reading


def test_port_probes_as_qemu_answers_them(pc: tuple[Board, Any]) -> None:
    """The register probes of the dump guest, with QEMU's answers."""
    board, fw = pc
    comb = fw.comb_iomem
    select(board, 0)
    assert board.inb(SEL) == 0x51  # a byte read at the selector is a data read: 'Q'
    assert comb.dispatch_read(0, 2)[0] == 0  # 16-bit reads are refused
    assert board.inb(DATA_PORT) == 0x45  # 'E': the refused read consumed nothing
    assert comb.dispatch_read(0, 4)[0] == 0
    board.outb(SEL, 0x55)  # byte writes are ignored, the offset stays
    assert board.inb(DATA_PORT) == 0x4D
    board.outb(DATA_PORT, 0x55)
    assert board.inb(DATA_PORT) == 0x55  # 'U'
    assert bytes(board.inb(DMA_PORT + i) for i in range(8)) == b"QEMU CFG"
    assert struct.pack("<H", board.inb(DMA_PORT, 2)) == b"QE"
    assert struct.pack("<II", board.inb(DMA_PORT, 4), board.inb(DMA_PORT + 4, 4)) == b"QEMU CFG"
    assert fw.dma_iomem.dispatch_read(1, 2)[0] == 0  # unaligned
    assert fw.dma_iomem.dispatch_read(2, 4)[0] == 0


# -- DMA --------------------------------------------------------------------------------------


def dma(board: Board, control: int, length: int, address: int = BUF, *, wide: bool = False) -> bytes:
    """Write an FWCfgDmaAccess at DESC, start it, and return the structure afterwards."""
    board.memory.address_space_memory.write_bytes(DESC, struct.pack(">IIQ", control, length, address))
    if wide:
        board.outb(DMA_PORT, int.from_bytes(struct.pack(">Q", DESC), "little"), 8)
    else:
        board.outb(DMA_PORT, 0, 4)
        board.outb(DMA_PORT + 4, int.from_bytes(struct.pack(">I", DESC), "little"), 4)
    return board.memory.address_space_memory.read_bytes(DESC, 16)


def guest(board: Board, addr: int, count: int) -> bytes:
    return board.memory.address_space_memory.read_bytes(addr, count)


def test_dma_as_qemu_does_it(pc: tuple[Board, Any]) -> None:
    board, _fw = pc
    board.memory.address_space_memory.write_bytes(BUF, b"\xaa" * 12)
    # select ID and read 8 bytes: the 4 of the item, then zeros; control becomes 0
    assert dma(board, 1 << 16 | 0x08 | 0x02, 8) == bytes.fromhex("00000000 00000008 0000000000003000")
    assert guest(board, BUF, 12) == bytes.fromhex("0300000000000000aaaaaaaa")
    # writing is refused with the error bit (the item still advances)
    assert dma(board, 0x08 | 0x10, 4)[:4] == b"\0\0\0\x01"
    # select signature, skip 2, then read 4 without selecting: "MU" and zeros
    assert dma(board, 0x08 | 0x04, 2)[:4] == bytes(4)
    assert dma(board, 0x02, 4)[:4] == bytes(4)
    assert guest(board, BUF, 4) == b"MU\0\0"
    # no operation bit: nothing is copied, length ignored
    assert dma(board, 0, 4)[:8] == bytes.fromhex("0000000000000004")
    assert board.inb(DATA_PORT) == 0  # the port continues where DMA left the item


def test_dma_single_64bit_write_and_file_read(pc: tuple[Board, Any]) -> None:
    board, fw = pc
    key = fw.file_key("etc/e820")
    assert dma(board, key << 16 | 0x08 | 0x02, 40, wide=True)[:4] == bytes(4)
    assert guest(board, BUF, 40) == PC_E820


def test_dma_errors(pc: tuple[Board, Any]) -> None:
    board, fw = pc
    # reading into memory nothing is mapped at fails
    assert dma(board, 0x08 | 0x02, 4, address=0x4000_0000)[:4] == b"\0\0\0\x01"
    # a structure in unmapped memory: nothing happens, nothing can be reported
    board.outb(DMA_PORT, 0, 4)
    board.outb(DMA_PORT + 4, int.from_bytes(struct.pack(">I", 0x4000_0000), "little"), 4)
    assert fw.dma_addr == 0


def test_dma_write_into_a_writable_item(pc: tuple[Board, Any]) -> None:
    board, fw = pc
    written: list[tuple[int, int]] = []
    fw.add_file("etc/smi/requested-features", bytearray(8), write_cb=lambda o, n: written.append((o, n)),
                read_only=False)
    key = fw.file_key("etc/smi/requested-features")
    board.memory.address_space_memory.write_bytes(BUF, b"\x07\0\0\0\0\0\0\0")
    assert dma(board, key << 16 | 0x08 | 0x10, 8)[:4] == bytes(4)
    assert fw.file_data("etc/smi/requested-features") == b"\x07" + bytes(7)
    assert written == [(0, 8)]
    assert dma(board, key << 16 | 0x08 | 0x10, 9)[:4] == b"\0\0\0\x01"  # past the end


# -- the device in the machine --------------------------------------------------------------


def test_qtree_block_equals_qemus(pc: tuple[Board, Any]) -> None:
    board, _fw = pc
    ref = (DATA / "pc-qtree.txt").read_text().splitlines()
    start = ref.index("  dev: fw_cfg_io, id \"\"")
    ours = qtree_info(board.machine).splitlines()
    mine = ours.index("  dev: fw_cfg_io, id \"\"")
    assert ours[mine:mine + 4] == ref[start:start + 4]


def test_qom_children_and_ports(pc: tuple[Board, Any]) -> None:
    board, fw = pc
    assert fw.canonical_path() == "/machine/fw_cfg" and fw.typename == "fw_cfg_io"
    assert fw_cfg_find(board.machine) is fw
    sizes = [fw.child(name).property_get("size") for name in ("fwcfg[0]", "fwcfg.dma[0]")]
    assert sizes == [2, 8]
    io = board.memory.address_space_io
    assert [(r.start, r.size, r.mr.region_name()) for r in io.flatview if r.mr.owner is fw] == [
        (0x510, 2, "fwcfg"), (0x514, 8, "fwcfg.dma")]
    assert fw.mmio == []  # not sysbus MMIO: no "mmio" line in info qtree


def test_at_most_one(pc: tuple[Board, Any]) -> None:
    board, _fw = pc
    from pyqemu.hw.core.qdev import qdev_new
    from pyqemu.hw.core.sysbus import sysbus_realize

    dev = qdev_new("fw_cfg_io")
    board.machine.add_child("fw_cfg2", dev)
    with pytest.raises(DeviceError, match=r"^at most one fw_cfg device is permitted$"):
        sysbus_realize(dev, board.machine)


def test_without_dma(board: Board) -> None:
    fw = fw_cfg_init_io_dma(board.machine, dma_iobase=None)
    assert item(board, 0x01, 4) == b"\x01\0\0\0"
    assert fw.child("fwcfg.dma[0]") is None and board.inb(DMA_PORT) == 0xFF


@pytest.mark.parametrize(("slots", "message"), [
    (8, '"file_slots" must be at least 0x10'), (0xF000, '"file_slots" must not exceed 0x3fe0')])
def test_file_slot_limits(board: Board, slots: int, message: str) -> None:
    board.machine.global_props.append(("fw_cfg_io", "x-file-slots", str(slots)))
    with pytest.raises(QemuError) as err:
        fw_cfg_init_io_dma(board.machine)
    assert err.value.desc == message
    assert board.machine.child("fw_cfg") is None


def test_old_machine_slots(board: Board) -> None:
    board.machine.global_props.append(("fw_cfg_io", "x-file-slots", "0x10"))
    fw = fw_cfg_init_io_dma(board.machine)
    assert fw.entry(0x19).length == 4 + 64 * 16  # type: ignore[union-attr]
    assert fw.key_valid(0x2F) and not fw.key_valid(0x30)


def test_reset_selects_the_signature(pc: tuple[Board, Any]) -> None:
    board, fw = pc
    select(board, 0x05)
    fw.reset()
    assert read(board, 4) == b"QEMU"


# -- boot options, as -boot / -uuid / -nographic set them ----------------------------------


def test_boot_options(board: Board) -> None:
    class Config:
        uuid = "12345678-1234-5678-9abc-def012345678"

    board.host.config = Config()  # type: ignore[attr-defined]
    board.machine.graphics = False
    board.machine.boot_config = {"menu": True, "reboot-timeout": 1000, "splash-time": 300, "strict": True}
    fw = fw_cfg_init_io_dma(board.machine)
    assert item(board, 0x02, 16) == bytes.fromhex("12345678123456789abcdef012345678")
    assert item(board, 0x04, 2) == b"\x01\0" and item(board, 0x0E, 2) == b"\x01\0"
    assert fw.file_data("etc/boot-fail-wait") == bytes.fromhex("e8030000")
    assert fw.file_data("etc/boot-menu-wait") == bytes.fromhex("2c01")
    fw.boot_devices = lambda: ["/pci@i0cf8/ethernet@2/ethernet-phy@0"]
    fw_cfg_machine_done(fw)
    fw.reset()
    assert fw.file_data("bootorder") == b"/pci@i0cf8/ethernet@2/ethernet-phy@0\nHALT\0"  # 42 bytes in QEMU


@pytest.mark.parametrize(("key", "value", "message"), [
    ("reboot-timeout", 70000, "reboot timeout is invalid,it should be a value between -1 and 65535"),
    ("splash-time", 70000, "splash-time is invalid,it should be a value between 0 and 65535")])
def test_boot_option_errors(board: Board, key: str, value: int, message: str) -> None:
    board.machine.boot_config = {key: value}
    with pytest.raises(ConfigError) as err:
        fw_cfg_init_io_dma(board.machine)
    assert err.value.desc == message


def test_boot_devices_blob() -> None:
    assert boot_devices_blob([], True) == b""  # HALT only follows real entries
    assert boot_devices_blob(["/a", "/b"], False) == b"/a\n/b\0"


# -- the item store ---------------------------------------------------------------------------


QEMU_Q35_FILES = [  # QEMU 7.2 -M q35 directory, in the order QEMU created the files
    "etc/boot-fail-wait", "etc/e820", "genroms/kvmvapic.bin", "etc/smi/supported-features",
    "etc/smi/requested-features", "etc/smi/features-ok", "etc/system-states", "etc/smbios/smbios-tables",
    "etc/smbios/smbios-anchor", "etc/acpi/tables", "etc/table-loader", "etc/tpm/log", "etc/acpi/rsdp",
    "bootorder", "bios-geometry",
]
QEMU_LEGACY_FILES = [  # QEMU 7.2 -M pc-i440fx-2.4: directory order
    "etc/boot-fail-wait", "etc/smbios/smbios-tables", "etc/smbios/smbios-anchor", "etc/e820",
    "genroms/kvmvapic.bin", "etc/system-states", "etc/acpi/tables", "etc/table-loader", "etc/tpm/log",
    "etc/acpi/rsdp", "bootorder",
]


def test_files_sorted_by_name() -> None:
    items = FwCfgItems()
    for name in QEMU_Q35_FILES:
        items.add_file(name, b"x")
    assert items.file_names == sorted(QEMU_Q35_FILES)
    assert items.file_key("genroms/kvmvapic.bin") == 0x20 + len(QEMU_Q35_FILES) - 1


def test_legacy_order() -> None:
    warnings: list[str] = []
    items = FwCfgItems(0x10, legacy_order=True, warn=warnings.append)
    creation = ["etc/boot-fail-wait", "etc/e820", "genroms/kvmvapic.bin", "etc/system-states",
                "etc/smbios/smbios-tables", "etc/smbios/smbios-anchor", "etc/acpi/tables", "etc/table-loader",
                "etc/tpm/log", "etc/acpi/rsdp", "bootorder"]
    for name in creation:
        items.add_file(name, b"")
    assert items.file_names == QEMU_LEGACY_FILES
    items.add_file("opt/x", b"")
    assert items.file_names[-1] == "opt/x" and warnings == ["Unknown firmware file in legacy mode: opt/x"]


def test_duplicates_and_modify() -> None:
    items = FwCfgItems()
    items.add_file("opt/a", b"x")
    with pytest.raises(ConfigError, match=r"^duplicate fw_cfg file name: opt/a$"):
        items.add_file("opt/a", b"y")
    assert items.modify_file("opt/a", b"longer") == b"x"
    assert items.file_data("opt/a") == b"longer"
    assert items.modify_file("opt/b", b"") is None and items.file_names == ["opt/a", "opt/b"]
    items.add_i32(0x05, 7)
    items.modify_i16(0x05, 3)
    assert items.entry(0x05).data == b"\x03\0"  # type: ignore[union-attr]
    items.add_string(0x8001, "hi")
    assert items.entry(0x8001).data == b"hi\0"  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        items.add_i16(0x05, 1)


def test_slots_run_out() -> None:
    items = FwCfgItems(0x10)
    for n in range(0x10):
        items.add_file(f"opt/{n:02}", b"")
    with pytest.raises(ValueError):
        items.add_file("opt/zz", b"")


# -- x86 tables -----------------------------------------------------------------------------


HT_HOLE = "00000000fd000000000000000300000002000000"


@pytest.mark.parametrize(("below", "above", "ht", "expected"), [
    # -M pc -m 4G (qemu64): hole, 3 GiB low, 1 GiB from 4 GiB
    (3 * GiB, GiB, True, HT_HOLE + "0000000000000000000000c00000000001000000"
                                   "0000000001000000000000400000000001000000"),
    # -M q35 -m 5G: 2 GiB low, 3 GiB high
    (2 * GiB, 3 * GiB, True, HT_HOLE + "0000000000000000000000800000000001000000"
                                       "0000000001000000000000c00000000001000000"),
    # -M microvm -m 4G, or -cpu qemu64,vendor=GenuineIntel: no hole
    (3 * GiB, GiB, False, "0000000000000000000000c00000000001000000"
                          "0000000001000000000000400000000001000000"),
])
def test_e820_tables(below: int, above: int, ht: bool, expected: str) -> None:
    assert x86_e820_table(below, above, reserve_amd_ht=ht).pack() == bytes.fromhex(expected)


def test_hpet_blob_is_live(pc: tuple[Board, Any]) -> None:
    board, _fw = pc
    config = hpet_fw_config(board.machine)
    index = config.add_block()
    config.set_block(index, 0x8086A201, 0xFED00000)
    # what QEMU's pc reports with its HPET, read after fw_cfg was created
    assert item(board, FW_CFG_HPET, 121) == bytes.fromhex("0101a286800000d0fe") + bytes(112)


@pytest.mark.parametrize(("machine", "has_hpet"), [("pc", True), ("q35", True), ("microvm", False)])
def test_boards_hpet_fills_its_block(machine: str, has_hpet: bool) -> None:
    from ..boards.conftest import board as running_board
    from ..boards.conftest import io_space

    with running_board(machine) as vm:
        io = io_space(vm)
        io.write(0x510, FW_CFG_HPET, 2)
        blob = bytes(io.read(0x511, 1) for _ in range(16))
    if has_hpet:  # one HPET: its capabilities' low half and its address
        assert blob == bytes.fromhex("0101a286800000d0fe000000000000") + b"\0"
    else:  # microvm has no HPET item: the selector reads zeros
        assert blob == bytes(16)


def test_hpet_limit() -> None:
    config = HpetFwConfig()
    assert [config.add_block() for _ in range(8)] == list(range(8))
    with pytest.raises(DeviceError):
        config.add_block()


def test_numa_blob() -> None:
    assert numa_blob(4) == bytes(40)  # -smp 2,maxcpus=4, no NUMA
    assert numa_blob(2, {1: 1}, [GiB, GiB]) == struct.pack("<5Q", 2, 0, 1, GiB, GiB)


def test_microvm_items(board: Board) -> None:
    _board_with_ram(board)
    fw = fw_cfg_microvm_create(board.machine, x86_e820_table(RAM_SIZE, 0))
    assert item(board, 0x0F, 2) == b"\x01\0" and item(board, 0x03, 8) == struct.pack("<Q", RAM_SIZE)
    assert item(board, FW_CFG_HPET, 1) == b"\0" and item(board, 0x0D, 1) == b"\0"
    assert fw.file_data("etc/e820") == bytes.fromhex("0000000000000000000000080000000001000000")
