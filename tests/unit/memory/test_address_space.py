"""Address spaces: RAM/MMIO/PIO accesses, size splitting, unassigned accesses, listeners, transactions."""

from __future__ import annotations

import pytest

from pyqemu.memory.address_space import MemoryListener, MemorySystem
from pyqemu.memory.flatview import FlatRange
from pyqemu.memory.region import (
    AccessSizes,
    Endianness,
    MemoryRegion,
    MemoryRegionOps,
    MemTxResult,
)


class Device:
    """A register file that records the accesses its ops see."""

    def __init__(self, size: int = 16):
        self.mem = bytearray(range(0x10, 0x10 + size))
        self.log: list[tuple[str, int, int]] = []

    def read(self, offset: int, size: int) -> int:
        self.log.append(("r", offset, size))
        return int.from_bytes(self.mem[offset:offset + size].ljust(size, b"\0"), "little")

    def write(self, offset: int, value: int, size: int) -> None:
        self.log.append(("w", offset, size))
        self.mem[offset:offset + size] = value.to_bytes(size, "little")

    def ops(self, **kwargs: object) -> MemoryRegionOps:
        return MemoryRegionOps(read=self.read, write=self.write, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def mem() -> MemorySystem:
    return MemorySystem()


def map_device(mem: MemorySystem, addr: int, **kwargs: object) -> Device:
    dev = Device()
    mem.system_memory.add_subregion(addr, MemoryRegion.new_io(None, dev.ops(**kwargs), "dev", 16))
    return dev


def test_ram_bulk_access_and_map(mem: MemorySystem) -> None:
    ram = MemoryRegion.new_ram(None, "ram", 0x2000)
    mem.system_memory.add_subregion(0x10000, ram)
    space = mem.address_space_memory
    assert space.write_bytes(0x10FFE, b"\x01\x02\x03\x04") is MemTxResult.OK
    assert bytes(ram.ram_view(0xFFE, 4)) == b"\x01\x02\x03\x04"
    assert space.read(0x10FFE, 4) == 0x04030201
    space.write(0x10000, 0x1122334455667788, 8)
    assert space.read_bytes(0x10000, 8) == bytes.fromhex("8877665544332211")
    view = space.map(0x10000, 0x2000)
    assert view is not None and view[0] == 0x88
    assert space.map(0x10000, 0x2001) is None and space.map(0x9000, 1) is None


def test_bulk_read_across_ram_hole_and_ram(mem: MemorySystem) -> None:
    low = MemoryRegion.new_ram(None, "low", 0x1000)
    high = MemoryRegion.new_ram(None, "high", 0x1000)
    mem.system_memory.add_subregion(0x0000, low)
    mem.system_memory.add_subregion(0x2000, high)
    low.ram_view()[:] = b"\xaa" * 0x1000
    high.ram_view()[:] = b"\xbb" * 0x1000
    data = mem.address_space_memory.read_bytes(0x0FFF, 0x1002)
    assert data == b"\xaa" + b"\0" * 0x1000 + b"\xbb"
    assert mem.address_space_memory.write_bytes(0x0FFF, b"\x01\x02") is MemTxResult.DECODE_ERROR
    assert low.ram_view()[0xFFF] == 1


def test_unassigned_memory_reads_zero_and_unassigned_ports_read_all_ones(mem: MemorySystem) -> None:
    # softmmu/memory.c unassigned_mem_read returns 0; ioport.c unassigned_io_read returns -1
    assert mem.address_space_memory.read(0xFEE00000, 4) == 0
    io = mem.address_space_io
    assert io.read(0x80, 1) == 0xFF
    assert io.read(0x80, 2) == 0xFFFF
    assert io.read(0x80, 4) == 0xFFFFFFFF
    assert io.read(0x80, 8) == (1 << 64) - 1
    assert io.write(0x80, 0x12, 1) is MemTxResult.OK
    assert io.read(0x10000, 4) == 0  # beyond the 64 KiB io region: unassigned memory


def test_pio_device_inside_io(mem: MemorySystem) -> None:
    dev = Device()
    mem.system_io.add_subregion(0x3F8, MemoryRegion.new_io(None, dev.ops(), "serial", 8))
    io = mem.address_space_io
    io.write(0x3F9, 0x5A, 1)
    assert io.read(0x3F9, 1) == 0x5A
    assert io.read(0x3F7, 1) == 0xFF and io.read(0x400, 1) == 0xFF
    assert dev.log == [("w", 1, 1), ("r", 1, 1)]


def test_guest_access_wider_than_impl_is_split(mem: MemorySystem) -> None:
    dev = map_device(mem, 0x1000, impl=AccessSizes(max_access_size=1), valid=AccessSizes(max_access_size=4))
    assert mem.address_space_memory.read(0x1004, 4) == 0x17161514
    assert dev.log == [("r", 4, 1), ("r", 5, 1), ("r", 6, 1), ("r", 7, 1)]
    dev.log.clear()
    mem.address_space_memory.write(0x1000, 0xA1B2C3D4, 4)
    assert dev.log == [("w", 0, 1), ("w", 1, 1), ("w", 2, 1), ("w", 3, 1)]
    assert bytes(dev.mem[:4]) == bytes.fromhex("d4c3b2a1")


def test_guest_access_narrower_than_impl_is_widened(mem: MemorySystem) -> None:
    # access_with_adjusted_size: a 1-byte read of a 4-byte-only device reads 4 bytes at that offset
    dev = map_device(mem, 0x1000, impl=AccessSizes(min_access_size=4, max_access_size=4),
                     valid=AccessSizes(max_access_size=4, unaligned=True))
    assert mem.address_space_memory.read(0x1002, 1) == 0x12
    assert dev.log == [("r", 2, 4)]


def test_valid_max_access_splits_in_the_address_space(mem: MemorySystem) -> None:
    dev = map_device(mem, 0x1000, valid=AccessSizes(max_access_size=2))
    assert mem.address_space_memory.read(0x1000, 8) == 0x1716151413121110
    assert dev.log == [("r", 0, 2), ("r", 2, 2), ("r", 4, 2), ("r", 6, 2)]
    dev.log.clear()
    assert mem.address_space_memory.read(0x1001, 2) == 0x1211  # misaligned: split by alignment
    assert dev.log == [("r", 1, 1), ("r", 2, 1)]


def test_invalid_accesses_are_rejected_like_unassigned(mem: MemorySystem) -> None:
    dev = Device()
    mr = MemoryRegion.new_io(None, dev.ops(valid=AccessSizes(min_access_size=4, max_access_size=4)), "d", 16)
    assert mr.dispatch_read(0, 2) == (0, MemTxResult.DECODE_ERROR)
    assert mr.dispatch_read(1, 4) == (0, MemTxResult.DECODE_ERROR)  # unaligned
    assert mr.dispatch_write(0, 1, 1) is MemTxResult.DECODE_ERROR
    assert mr.dispatch_read(4, 4) == (0x17161514, MemTxResult.OK)
    assert dev.log == [("r", 4, 4)]
    picky = MemoryRegion.new_io(None, MemoryRegionOps(read=dev.read, accepts=lambda a, s, w: a < 8), "p", 16)
    assert picky.dispatch_read(8, 1) == (0, MemTxResult.DECODE_ERROR)


def test_big_endian_device_values_are_swapped(mem: MemorySystem) -> None:
    dev = Device()
    bytewise = dev.ops(endianness=Endianness.BIG, impl=AccessSizes(max_access_size=1))
    mr = MemoryRegion.new_io(None, bytewise, "be", 16)
    # big endian: the byte at the lowest offset is the most significant part of the device value,
    # then the value is byte-swapped for the little-endian CPU
    assert mr.dispatch_read(0, 2) == (0x1110, MemTxResult.OK)
    assert dev.log == [("r", 0, 1), ("r", 1, 1)]
    whole = MemoryRegion.new_io(None, dev.ops(endianness=Endianness.BIG), "be4", 16)
    assert whole.dispatch_read(0, 4) == (0x10111213, MemTxResult.OK)


def test_rom_ignores_writes_but_loaders_can_fill_it(mem: MemorySystem) -> None:
    rom = MemoryRegion.new_rom(None, "bios", 0x1000)
    mem.system_memory.add_subregion(0xF0000, rom)
    space = mem.address_space_memory
    assert space.write(0xF0000, 0xAB, 1) is MemTxResult.DECODE_ERROR
    assert space.read(0xF0000, 1) == 0
    space.write_rom(0xF0000, b"\xea\x5b")
    assert space.read(0xF0000, 2) == 0x5BEA


def test_rom_device_reads_ram_in_romd_mode_and_writes_go_to_ops(mem: MemorySystem) -> None:
    dev = Device()
    flash = MemoryRegion.new_rom_device(None, dev.ops(), "flash", 0x1000)
    flash.ram_view()[0] = 0x42
    mem.system_memory.add_subregion(0x8000, flash)
    space = mem.address_space_memory
    assert space.read(0x8000, 1) == 0x42 and dev.log == []
    space.write(0x8000, 0x99, 1)
    assert dev.log == [("w", 0, 1)]
    flash.set_romd(False)
    assert space.read(0x8000, 1) == 0x99  # now served by the ops


class Recorder(MemoryListener):
    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []

    def begin(self) -> None:
        self.events.append(("begin",))

    def commit(self) -> None:
        self.events.append(("commit",))

    def region_add(self, section: FlatRange) -> None:
        self.events.append(("add", hex(section.start), hex(section.size), section.mr.region_name(),
                            str(section.readonly), str(section.host_address is not None)))

    def region_del(self, section: FlatRange) -> None:
        self.events.append(("del", hex(section.start), hex(section.size), section.mr.region_name()))


def test_listeners_hear_ranges_added_and_removed(mem: MemorySystem) -> None:
    ram = MemoryRegion.new_ram(None, "ram", 0x100000)
    mem.system_memory.add_subregion(0, ram)
    rec = Recorder()
    mem.address_space_memory.listener_register(rec)
    assert rec.events == [("begin",), ("add", "0x0", "0x100000", "ram", "False", "True"), ("commit",)]
    rec.events.clear()
    bios = MemoryRegion.new_rom(None, "bios", 0x10000)
    mem.system_memory.add_subregion_overlap(0xF0000, bios, 1)
    assert rec.events == [
        ("begin",),
        ("del", "0x0", "0x100000", "ram"),
        ("add", "0x0", "0xf0000", "ram", "False", "True"),
        ("add", "0xf0000", "0x10000", "bios", "True", "True"),
        ("commit",),
    ]
    rec.events.clear()
    bios.set_enabled(False)
    assert rec.events == [
        ("begin",), ("del", "0x0", "0xf0000", "ram"), ("del", "0xf0000", "0x10000", "bios"),
        ("add", "0x0", "0x100000", "ram", "False", "True"), ("commit",),
    ]
    section = mem.address_space_memory.lookup(0x1234)
    assert section is not None and section.host_address == ram.ram_host()
    rec.events.clear()
    mem.address_space_memory.listener_unregister(rec)
    assert rec.events == [("begin",), ("del", "0x0", "0x100000", "ram"), ("commit",)]


def test_a_transaction_batches_changes_into_one_update(mem: MemorySystem) -> None:
    rec = Recorder()
    mem.address_space_memory.listener_register(rec)
    rec.events.clear()
    with mem.transaction():
        mem.system_memory.add_subregion(0x0000, MemoryRegion.new_ram(None, "a", 0x1000))
        mem.system_memory.add_subregion(0x1000, MemoryRegion.new_ram(None, "b", 0x1000))
        assert rec.events == []
    assert rec.events == [
        ("begin",), ("add", "0x0", "0x1000", "a", "False", "True"),
        ("add", "0x1000", "0x1000", "b", "False", "True"), ("commit",),
    ]
    with pytest.raises(RuntimeError):
        mem.transaction_commit()


def test_changes_inside_an_alias_target_reach_the_address_space(mem: MemorySystem) -> None:
    pci = MemoryRegion.new_container(None, "pci", 1 << 32)
    mem.system_memory.add_subregion(0, MemoryRegion.new_alias(None, "pci-hole", pci, 0xE0000000, 0x1000))
    assert mem.address_space_memory.lookup(0xE0000000) is None
    dev = Device()
    pci.add_subregion(0xE0000000, MemoryRegion.new_io(None, dev.ops(), "bar", 16))
    assert mem.address_space_memory.read(0x0, 1) == 0x10


def test_address_spaces_with_the_same_root_share_a_flat_view(mem: MemorySystem) -> None:
    cpu = mem.address_space_init(mem.system_memory, "cpu-memory-0")
    mem.system_memory.add_subregion(0, MemoryRegion.new_ram(None, "ram", 0x1000))
    assert cpu.flatview is mem.address_space_memory.flatview
    cpu.destroy()
    assert cpu not in mem.address_spaces


def test_io_access_is_not_cut_where_an_overlapping_region_starts(mem: MemorySystem) -> None:
    """QEMU's 0xcf8/0xcf9 case: an outl to the PCI index register goes to it whole,
    although the reset control register overlays 0xcf9."""
    index, reset = Device(4), Device(1)
    mem.system_io.add_subregion(0xCF8, MemoryRegion.new_io(None, index.ops(), "pci-conf-idx", 4))
    mem.system_io.add_subregion_overlap(0xCF9, MemoryRegion.new_io(None, reset.ops(), "reset", 1), 1)
    io = mem.address_space_io
    io.write(0xCF8, 0x80000000, 4)
    assert index.log == [("w", 0, 4)] and reset.log == []
    assert io.read(0xCF8, 4) == 0x80000000
    io.write(0xCF9, 0x06, 1)
    assert reset.log == [("w", 0, 1)]
