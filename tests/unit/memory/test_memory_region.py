"""MemoryRegion: QOM identity and properties, kinds, the subregion list and its priority order."""

from __future__ import annotations

import pytest

from pyqemu.memory.address_space import MemorySystem
from pyqemu.memory.region import UINT64_MAX, MemoryRegion, MemoryRegionOps, escape_name
from pyqemu.qom.object import Container, container_get, object_new
from pyqemu.qom.path import resolve_path


@pytest.fixture
def unattached() -> Container:
    return container_get(Container(), "/machine/unattached")  # type: ignore[return-value]


def test_system_and_io_are_children_of_unattached_as_in_qemu(unattached: Container) -> None:
    # qemu-system-x86_64 -M none: qom-list /machine/unattached shows io[0] and system[0]
    mem = MemorySystem(unattached)
    props = [(p.name, p.type) for p in unattached.iter_properties()]
    child = "child<memory-region>"
    assert props == [("type", "string"), ("io[0]", child), ("system[0]", child)]
    system = mem.system_memory
    assert system.canonical_path() == "/machine/unattached/system[0]"
    # qom-list /machine/unattached/system[0]; qom-get size == UINT64_MAX
    assert [(p.name, p.type) for p in system.iter_properties()] == [
        ("type", "string"), ("container", "link<memory-region>"), ("addr", "uint64"),
        ("size", "uint64"), ("priority", "uint32"),
    ]
    assert system.property_get("size") == UINT64_MAX
    assert system.size == 1 << 64
    assert system.property_get("container") == ""
    assert mem.system_io.size == 0x10000


def test_named_regions_number_themselves_and_escape_names(unattached: Container) -> None:
    a = MemoryRegion.new_container(None, "pam-pci", 0x4000, parent=unattached)
    b = MemoryRegion.new_container(None, "pam-pci", 0x4000, parent=unattached)
    odd = MemoryRegion.new_container(None, "/objects/m1", 0x1000, parent=unattached)
    assert (a.name_in_parent, b.name_in_parent) == ("pam-pci[0]", "pam-pci[1]")
    assert odd.name_in_parent == "\\x2fobjects\\x2fm1[0]"
    assert escape_name("a[b]\\c") == "a\\x5bb\\x5d\\x5cc"
    assert odd.region_name() == "/objects/m1"
    assert a.refcount == 1  # the parent's child property holds the only reference


def test_owner_gets_the_child_and_container_link_resolves(unattached: Container) -> None:
    owner = object_new("container")
    unattached.add_child("dev", owner)
    parent = MemoryRegion.new_container(owner, "bar", 0x1000)
    child = MemoryRegion.new_io(owner, None, "reg", 0x10)
    parent.add_subregion_overlap(0x20, child, -3)
    assert child.canonical_path() == "/machine/unattached/dev/reg[0]"
    assert child.property_get("container") == "/machine/unattached/dev/bar[0]"
    assert child.property_get("addr") == 0x20 and child.property_get("priority") == -3
    assert resolve_path(unattached.root(), "/machine/unattached/dev/reg[0]/container")[0] is parent


def test_unnamed_region_stays_out_of_the_tree() -> None:
    mr = MemoryRegion.new_container(None, None, 0x100)
    assert mr.parent is None and mr.refcount == 1


def test_kinds_and_type_names() -> None:
    ram = MemoryRegion.new_ram(None, "ram", 0x1000)
    rom = MemoryRegion.new_rom(None, "rom", 0x1000)
    romd = MemoryRegion.new_rom_device(None, MemoryRegionOps(), "flash", 0x1000)
    io = MemoryRegion.new_io(None, None, "io", 4)
    alias = MemoryRegion.new_alias(None, "win", rom, 0, 0x100)
    container = MemoryRegion.new_container(None, "c", 0x1000)
    assert [m.type_name() for m in (ram, rom, romd, io, alias, container)] == [
        "ram", "rom", "romd", "i/o", "rom", "i/o",
    ]
    romd.set_romd(False)
    assert romd.type_name() == "i/o"
    assert ram.terminates and io.terminates and not container.terminates and not alias.terminates


def test_ram_host_address_and_view_follow_aliases() -> None:
    ram = MemoryRegion.new_ram(None, "ram", 0x3000)
    alias = MemoryRegion.new_alias(None, "hi", ram, 0x1000, 0x2000)
    ram.ram_view()[0x1000:0x1004] = b"abcd"
    assert bytes(alias.ram_view(0, 4)) == b"abcd"
    assert alias.ram_host(2) == ram.ram_host(0x1002) == ram.ram_block.host + 0x1002  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="has no RAM"):
        MemoryRegion.new_io(None, None, "x", 4).ram_host()


def test_subregion_order_priority_then_newest_first() -> None:
    parent = MemoryRegion.new_container(None, "p", 0x1000)
    low = MemoryRegion.new_io(None, None, "low", 0x10)
    first = MemoryRegion.new_io(None, None, "first", 0x10)
    second = MemoryRegion.new_io(None, None, "second", 0x10)
    high = MemoryRegion.new_io(None, None, "high", 0x10)
    parent.add_subregion_overlap(0, low, -1)
    parent.add_subregion(0, first)
    parent.add_subregion_overlap(0, high, 5)
    parent.add_subregion(0, second)
    assert [m.name for m in parent.subregions] == ["high", "second", "first", "low"]
    first.set_address(0x10)  # moving re-adds: it becomes the newest of its priority
    assert [m.name for m in parent.subregions] == ["high", "first", "second", "low"]
    parent.del_subregion(second)
    assert second.container is None and not second.is_mapped
    assert [m.name for m in parent.subregions] == ["high", "first", "low"]


def test_mapping_twice_or_removing_from_the_wrong_container_is_refused() -> None:
    a = MemoryRegion.new_container(None, "a", 0x100)
    b = MemoryRegion.new_container(None, "b", 0x100)
    sub = MemoryRegion.new_io(None, None, "s", 4)
    a.add_subregion(0, sub)
    with pytest.raises(ValueError, match="already mapped"):
        b.add_subregion(0, sub)
    with pytest.raises(ValueError, match="not mapped here"):
        b.del_subregion(sub)
    with pytest.raises(ValueError, match="not an alias"):
        a.set_alias_offset(4)


def test_set_size_uint64_max_means_2_64() -> None:
    mr = MemoryRegion.new_container(None, "c", 0x100)
    mr.set_size(UINT64_MAX)
    assert mr.size == 1 << 64 and mr.property_get("size") == UINT64_MAX


def test_unparent_unmaps_and_frees_ram(unattached: Container) -> None:
    mem = MemorySystem(unattached)
    ram = MemoryRegion.new_ram(None, "ram", 0x1000, parent=unattached)
    mem.system_memory.add_subregion(0x1000, ram)
    block = ram.ram_block
    assert mem.address_space_memory.lookup(0x1000) is not None
    ram.unparent()
    assert block is not None and block.closed
    assert mem.address_space_memory.lookup(0x1000) is None
    assert mem.system_memory.subregions == []
