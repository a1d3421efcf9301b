"""Flat views: a region tree rendered into sorted, non-overlapping ranges.

This is what an address space dispatches through and what memory listeners
(the KVM memory slots) see.  Rendering follows QEMU's
``render_memory_region``: a region's subregions are drawn first, in their
list order (higher priority first, newest first at equal priority), and a
terminating region (RAM, ROM, I/O) then fills only the gaps they leave.
Aliases are followed, disabled regions skipped, and read-only propagates
down.  Adjacent ranges that continue one another are merged afterwards, as
``flatview_simplify`` does.  Lookups bisect the sorted start addresses.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

from pyqemu.memory.region import SIZE_2_64, MemoryRegion


@dataclass(frozen=True, slots=True)
class FlatRange:
    """One range of a flat view: ``size`` bytes at ``start`` showing ``mr`` from ``offset_in_region``.

    It is also the section a memory listener receives (QEMU's
    ``MemoryRegionSection``): ``start`` is the guest-physical address and
    :attr:`host_address` the host address of RAM-backed ranges.
    """

    start: int
    size: int
    mr: MemoryRegion
    offset_in_region: int
    readonly: bool = False
    nonvolatile: bool = False
    romd_mode: bool = True

    @property
    def end(self) -> int:
        return self.start + self.size

    @property
    def host_address(self) -> int | None:
        """Host address of the first byte if the range is backed by a RAM block, else None."""
        if self.mr.ram_block is None:
            return None
        return self.mr.ram_block.host + self.offset_in_region

    def same_as(self, other: FlatRange) -> bool:
        """Equal for listeners: same region, place and attributes (``flatrange_equal``)."""
        return (
            self.mr is other.mr
            and self.start == other.start
            and self.size == other.size
            and self.offset_in_region == other.offset_in_region
            and self.romd_mode == other.romd_mode
            and self.readonly == other.readonly
            and self.nonvolatile == other.nonvolatile
        )

    def continued_by(self, other: FlatRange) -> bool:
        """Whether ``other`` continues this range exactly, so the two can merge (``can_merge``)."""
        return (
            self.end == other.start
            and self.mr is other.mr
            and self.offset_in_region + self.size == other.offset_in_region
            and self.romd_mode == other.romd_mode
            and self.readonly == other.readonly
            and self.nonvolatile == other.nonvolatile
        )


class FlatView:
    """The sorted, disjoint ranges of one rendered region tree."""

    def __init__(self, root: MemoryRegion | None, ranges: list[FlatRange]):
        self.root = root
        self.ranges = ranges
        self._starts = [fr.start for fr in ranges]

    def lookup(self, addr: int) -> FlatRange | None:
        """The range containing ``addr``, or None if nothing is mapped there."""
        index = bisect_right(self._starts, addr) - 1
        if index >= 0 and addr < self.ranges[index].end:
            return self.ranges[index]
        return None

    def next_start(self, addr: int) -> int:
        """The start of the first range above ``addr`` (2**64 if none): where a hole ends."""
        index = bisect_right(self._starts, addr)
        return self._starts[index] if index < len(self._starts) else SIZE_2_64

    def __iter__(self) -> Iterator[FlatRange]:
        return iter(self.ranges)

    def __len__(self) -> int:
        return len(self.ranges)


def flatview_root(mr: MemoryRegion | None) -> MemoryRegion | None:
    """The region a flat view is really rendered from (``memory_region_get_flatview_root``).

    Whole-region aliases and lone children covering their container are
    skipped so that address spaces showing the same thing share one view;
    a container with nothing enabled inside gives None (an empty view).
    """
    while mr is not None and mr.enabled:
        if mr.alias is not None:
            if not mr.alias_offset and mr.size >= mr.alias.size:
                mr = mr.alias
                continue
        elif not mr.terminates:
            enabled = [child for child in mr.subregions if child.enabled]
            if not enabled:
                return None
            only = enabled[0]
            if len(enabled) == 1 and not only.addr and mr.size >= only.size:
                mr = only
                continue
        return mr
    return None


class _Renderer:
    """Accumulates ranges in address order while a tree is rendered."""

    def __init__(self) -> None:
        self.ranges: list[FlatRange] = []
        self.starts: list[int] = []

    def render(self, mr: MemoryRegion, base: int, clip_start: int, clip_end: int,
               readonly: bool, nonvolatile: bool) -> None:
        if not mr.enabled:
            return
        base += mr.addr
        readonly = readonly or mr.readonly
        nonvolatile = nonvolatile or mr.nonvolatile
        clip_start, clip_end = max(clip_start, base), min(clip_end, base + mr.size)
        if clip_start >= clip_end:
            return
        if mr.alias is not None:
            target_base = base - mr.alias.addr - mr.alias_offset
            self.render(mr.alias, target_base, clip_start, clip_end, readonly, nonvolatile)
            return
        for subregion in mr.subregions:
            self.render(subregion, base, clip_start, clip_end, readonly, nonvolatile)
        if mr.terminates:
            self._fill_gaps(mr, base, clip_start, clip_end, readonly, nonvolatile)

    def _fill_gaps(self, mr: MemoryRegion, base: int, start: int, end: int,
                   readonly: bool, nonvolatile: bool) -> None:
        """Add ``mr`` wherever ``[start, end)`` is not covered yet."""
        pos = bisect_right(self.starts, start) - 1
        cur = start
        if pos >= 0 and self.ranges[pos].end > cur:
            cur = self.ranges[pos].end
        pos += 1
        while cur < end:
            if pos < len(self.ranges) and self.starts[pos] <= cur:
                cur = max(cur, self.ranges[pos].end)
                pos += 1
                continue
            stop = min(self.starts[pos], end) if pos < len(self.ranges) else end
            piece = FlatRange(cur, stop - cur, mr, cur - base, readonly, nonvolatile, mr.romd_mode)
            self.ranges.insert(pos, piece)
            self.starts.insert(pos, cur)
            pos += 1
            cur = stop


def _simplify(ranges: list[FlatRange]) -> list[FlatRange]:
    merged: list[FlatRange] = []
    for fr in ranges:
        last = merged[-1] if merged else None
        if last is not None and last.continued_by(fr):
            merged[-1] = FlatRange(last.start, last.size + fr.size, last.mr, last.offset_in_region,
                                   last.readonly, last.nonvolatile, last.romd_mode)
        else:
            merged.append(fr)
    return merged


def generate_flatview(root: MemoryRegion | None) -> FlatView:
    """Render the tree under ``root`` (already a :func:`flatview_root`) into a flat view."""
    renderer = _Renderer()
    if root is not None:
        renderer.render(root, 0, 0, SIZE_2_64, False, False)
    return FlatView(root, _simplify(renderer.ranges))
