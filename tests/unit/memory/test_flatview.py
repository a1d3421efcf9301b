"""Flat views: priorities, overlaps, aliases, disabled regions, merging; random trees vs a naive model."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from pyqemu.memory.flatview import FlatView, flatview_root, generate_flatview
from pyqemu.memory.region import MemoryRegion

SPACE = 64


def io(name: str, size: int) -> MemoryRegion:
    return MemoryRegion.new_io(None, None, name, size)


def spans(view: FlatView) -> list[tuple[int, int, str, int]]:
    return [(fr.start, fr.end, fr.mr.region_name(), fr.offset_in_region) for fr in view]


def test_higher_priority_wins_and_lower_fills_the_rest() -> None:
    root = MemoryRegion.new_container(None, "root", 0x100)
    root.add_subregion(0x00, io("low", 0x40))
    root.add_subregion_overlap(0x10, io("high", 0x10), 1)
    assert spans(generate_flatview(root)) == [
        (0x00, 0x10, "low", 0x00), (0x10, 0x20, "high", 0x00), (0x20, 0x40, "low", 0x20),
    ]


def test_equal_priority_the_region_added_last_wins() -> None:
    root = MemoryRegion.new_container(None, "root", 0x100)
    root.add_subregion(0x00, io("older", 0x20))
    root.add_subregion(0x10, io("newer", 0x20))
    assert spans(generate_flatview(root)) == [(0x00, 0x10, "older", 0), (0x10, 0x30, "newer", 0)]


def test_container_holes_fall_through_to_lower_priority() -> None:
    # like -M pc: an alias of "pci" at prio 1 shows the RAM below wherever pci has nothing
    root = MemoryRegion.new_container(None, "root", 0x100)
    root.add_subregion(0, io("ram", 0x100))
    pci = MemoryRegion.new_container(None, "pci", 0x100)
    pci.add_subregion(0x30, io("rom", 0x10))
    root.add_subregion_overlap(0x20, MemoryRegion.new_alias(None, "win", pci, 0x20, 0x20), 1)
    assert spans(generate_flatview(root)) == [
        (0x00, 0x30, "ram", 0x00), (0x30, 0x40, "rom", 0x00), (0x40, 0x100, "ram", 0x40),
    ]


def test_alias_offset_clipping_and_readonly() -> None:
    root = MemoryRegion.new_container(None, "root", 0x1000)
    target = io("target", 0x100)
    alias = MemoryRegion.new_alias(None, "a", target, 0xF0, 0x40)  # runs off the end of target
    alias.set_readonly(True)
    root.add_subregion(0x200, alias)
    (fr,) = generate_flatview(root)
    assert (fr.start, fr.size, fr.mr, fr.offset_in_region, fr.readonly) == (0x200, 0x10, target, 0xF0, True)


def test_disabled_regions_are_skipped() -> None:
    root = MemoryRegion.new_container(None, "root", 0x100)
    low = io("low", 0x100)
    high = io("high", 0x100)
    root.add_subregion(0, low)
    root.add_subregion_overlap(0, high, 1)
    high.set_enabled(False)
    assert spans(generate_flatview(root)) == [(0, 0x100, "low", 0)]


def test_adjacent_pieces_of_one_region_merge() -> None:
    root = MemoryRegion.new_container(None, "root", 0x100)
    ram = io("ram", 0x100)
    root.add_subregion(0, ram)
    # two aliases side by side showing consecutive parts of the same region
    root.add_subregion_overlap(0x10, MemoryRegion.new_alias(None, "a", ram, 0x10, 0x10), 1)
    root.add_subregion_overlap(0x20, MemoryRegion.new_alias(None, "b", ram, 0x20, 0x10), 1)
    assert spans(generate_flatview(root)) == [(0, 0x100, "ram", 0)]


def test_lookup_and_next_start() -> None:
    root = MemoryRegion.new_container(None, "root", 0x1000)
    root.add_subregion(0x100, io("a", 0x10))
    root.add_subregion(0x400, io("b", 0x10))
    view = generate_flatview(root)
    assert view.lookup(0x0FF) is None
    assert view.lookup(0x100).mr.name == "a"  # type: ignore[union-attr]
    assert view.lookup(0x10F).mr.name == "a"  # type: ignore[union-attr]
    assert view.lookup(0x110) is None
    assert view.next_start(0x110) == 0x400 and view.next_start(0x400) == 1 << 64


def test_flatview_root_skips_whole_aliases_and_lone_children() -> None:
    system = MemoryRegion.new_container(None, "system", 1 << 64)
    assert flatview_root(system) is None  # empty container: QEMU prints "(none)"
    pci = MemoryRegion.new_container(None, "pci", 1 << 64)
    system.add_subregion(0, pci)
    assert flatview_root(system) is None  # pci is empty too
    pci.add_subregion(0x1000, io("dev", 4))
    assert flatview_root(system) is pci
    smm = MemoryRegion.new_container(None, "memory", 1 << 64)
    smm.add_subregion(0, MemoryRegion.new_alias(None, "memory", system, 0, 1 << 64))
    assert flatview_root(smm) is pci
    system.add_subregion(0, io("other", 4))
    assert flatview_root(system) is system


# -- random trees against a per-address model ---------------------------------


def model(mr: MemoryRegion, addr: int, readonly: bool = False) -> tuple[MemoryRegion, int, bool] | None:
    """What QEMU's rules show at ``addr`` (relative to ``mr``), found one address at a time."""
    if not mr.enabled or not 0 <= addr < mr.size:
        return None
    readonly = readonly or mr.readonly
    if mr.alias is not None:
        return model(mr.alias, addr + mr.alias_offset, readonly)
    for sub in mr.subregions:
        hit = model(sub, addr - sub.addr, readonly)
        if hit is not None:
            return hit
    return (mr, addr, readonly) if mr.terminates else None


@st.composite
def trees(draw: st.DrawFn) -> MemoryRegion:
    pool: list[MemoryRegion] = []
    counter = iter(range(1000))

    def region(depth: int) -> MemoryRegion:
        size = draw(st.integers(1, SPACE))
        kinds = ["leaf", "alias"] + (["container"] if depth < 3 else [])
        kind = draw(st.sampled_from(kinds)) if pool else "leaf"
        name = f"r{next(counter)}"
        if kind == "alias":
            target = draw(st.sampled_from(pool))
            mr = MemoryRegion.new_alias(None, name, target, draw(st.integers(0, SPACE)), size)
        elif kind == "container":
            mr = MemoryRegion.new_container(None, name, size)
            for _ in range(draw(st.integers(0, 3))):
                mr.add_subregion_overlap(draw(st.integers(0, SPACE)), region(depth + 1),
                                         draw(st.integers(-1, 1)))
            mr.terminates = draw(st.booleans())  # a container may also be an I/O region
        else:
            mr = io(name, size)
        mr.enabled = draw(st.integers(0, 5)) > 0
        mr.readonly = draw(st.integers(0, 5)) == 0
        pool.append(mr)
        return mr

    root = MemoryRegion.new_container(None, "root", SPACE)
    for _ in range(draw(st.integers(1, 6))):
        root.add_subregion_overlap(draw(st.integers(0, SPACE - 1)), region(1), draw(st.integers(-1, 1)))
    return root


@settings(max_examples=300, deadline=None)
@given(trees())
def test_random_trees_match_the_naive_model(root: MemoryRegion) -> None:
    view = generate_flatview(root)
    ranges = list(view)
    for before, after in itertools.pairwise(ranges):
        assert before.end <= after.start
        assert not before.continued_by(after)  # simplified: nothing left to merge
    for addr in range(SPACE + 2):
        fr = view.lookup(addr)
        got = None if fr is None else (fr.mr, fr.offset_in_region + addr - fr.start, fr.readonly)
        assert got == model(root, addr), hex(addr)
