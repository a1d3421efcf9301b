"""Address spaces: what a CPU or a device sees, and the accesses made through it.

A :class:`MemorySystem` is one machine's memory: the ``system`` region
(2**64 bytes) seen as address space ``memory``, the ``io`` region (64 KiB
of x86 ports) seen as address space ``I/O``, any further address spaces,
and the transactions that batch changes to them (QEMU's
``memory_region_transaction_begin/commit``).  When a transaction that
changed something ends, the flat views are rendered again: at once for an
address space with listeners, which are told which ranges went away and
which appeared (``region_del`` / ``region_add``, what KVM turns into memory
slots), otherwise lazily, on the next access.

Accesses follow QEMU's ``flatview_read/write_continue``: RAM is copied
through memoryviews, I/O regions get accesses of the sizes they accept, and
holes read as zero while writes to them are dropped.  In the ``I/O`` space
every port inside the 64 KiB ``io`` region with no device reads as all
ones, because that region's own callbacks answer there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pyqemu.memory.flatview import FlatRange, FlatView, flatview_root, generate_flatview
from pyqemu.memory.region import UINT64_MAX, UNASSIGNED_IO_OPS, MemoryRegion, MemTxResult
from pyqemu.qom.object import Object

IO_SPACE_SIZE = 0x10000
DEFAULT_VALID_MAX_ACCESS = 4


class MemoryListener:
    """Told about the ranges of an address space; override what you need (QEMU's ``MemoryListener``)."""

    def begin(self) -> None:
        """An update starts."""

    def commit(self) -> None:
        """An update ends."""

    def region_add(self, section: FlatRange) -> None:
        """``section`` appeared (or changed attributes)."""

    def region_del(self, section: FlatRange) -> None:
        """``section`` went away (or is about to reappear changed)."""

    def region_nop(self, section: FlatRange) -> None:
        """``section`` is unchanged by this update."""


class AddressSpace:
    """A view of a region tree from its ``root`` (QEMU's ``AddressSpace``)."""

    def __init__(self, system: MemorySystem, root: MemoryRegion, name: str | None):
        self.system = system
        self.root = root
        self.name = name if name is not None else "anonymous"
        self.listeners: list[MemoryListener] = []
        self._view: FlatView | None = None
        root.observe(system)

    # -- the flat view ----------------------------------------------------

    @property
    def flatview(self) -> FlatView:
        """The current flat view, rendered now if the tree changed since the last one."""
        if self._view is None:
            self._view = self.system.flatview_for(self.root)
        return self._view

    def lookup(self, addr: int) -> FlatRange | None:
        """The range mapped at ``addr`` (``memory_region_find`` for one byte)."""
        return self.flatview.lookup(addr)

    def _update(self) -> None:
        """Switch to a new view; listeners hear deletions, then additions (two passes as in QEMU)."""
        old = self._view
        self._view = None
        if not self.listeners:
            return
        new = self.flatview
        old_ranges = old.ranges if old is not None else []
        gone, kept, added = _diff(old_ranges, new.ranges)
        for listener in reversed(self.listeners):
            for section in gone:
                listener.region_del(section)
        for listener in self.listeners:
            for section in kept:
                listener.region_nop(section)
            for section in added:
                listener.region_add(section)

    # -- listeners --------------------------------------------------------

    def listener_register(self, listener: MemoryListener) -> None:
        """Add ``listener`` and tell it about every current range."""
        self.listeners.append(listener)
        listener.begin()
        for section in self.flatview:
            listener.region_add(section)
        listener.commit()

    def listener_unregister(self, listener: MemoryListener) -> None:
        """Remove ``listener``, telling it every current range goes away."""
        listener.begin()
        for section in self.flatview:
            listener.region_del(section)
        listener.commit()
        self.listeners.remove(listener)

    # -- accesses ---------------------------------------------------------

    def _pieces(
        self, addr: int, length: int, *, write: bool = False
    ) -> Iterator[tuple[int, int, FlatRange | None]]:
        """Split ``[addr, addr + length)`` into (position, length, range or None for a hole).

        RAM is cut at flat-range ends; an I/O region gets one access of the size
        it allows, *not* cut where an overlapping region starts, as QEMU does:
        an ``outl`` to 0xcf8 goes whole to the PCI index register although the
        reset control register overlays 0xcf9.
        """
        view = self.flatview
        pos = 0
        while pos < length:
            here = addr + pos
            fr = view.lookup(here)
            if fr is None:
                end = view.next_start(here)
                chunk = min(length - pos, end - here) if end > here else length - pos
            elif _is_direct(fr, write):
                chunk = min(length - pos, fr.end - here)
            else:
                chunk = _access_size(fr.mr, length - pos, fr.offset_in_region + here - fr.start)
            yield pos, chunk, fr
            pos += chunk

    def read_bytes(self, addr: int, length: int) -> bytes:
        """Read ``length`` bytes at ``addr`` (``address_space_read``)."""
        out = bytearray(length)
        for pos, chunk, fr in self._pieces(addr, length):
            if fr is None:
                continue  # unassigned memory reads as zero
            offset = fr.offset_in_region + (addr + pos - fr.start)
            mr = fr.mr
            if _is_direct(fr):
                assert mr.ram_block is not None
                out[pos:pos + chunk] = mr.ram_block.view[offset:offset + chunk]
            else:
                value, _ = mr.dispatch_read(offset, chunk)
                out[pos:pos + chunk] = value.to_bytes(chunk, "little")
        return bytes(out)

    def write_bytes(self, addr: int, data: bytes | bytearray | memoryview) -> MemTxResult:
        """Write ``data`` at ``addr`` (``address_space_write``); ROM and holes drop it."""
        src = memoryview(data).cast("B")
        result = MemTxResult.OK
        for pos, chunk, fr in self._pieces(addr, len(src), write=True):
            if fr is None:
                result |= MemTxResult.DECODE_ERROR
                continue
            offset = fr.offset_in_region + (addr + pos - fr.start)
            mr = fr.mr
            if _is_direct(fr, write=True):
                assert mr.ram_block is not None
                mr.ram_block.view[offset:offset + chunk] = src[pos:pos + chunk]
                continue
            result |= mr.dispatch_write(offset, int.from_bytes(src[pos:pos + chunk], "little"), chunk)
        return result

    def write_rom(self, addr: int, data: bytes | bytearray | memoryview) -> None:
        """Write into RAM and ROM alike, skipping I/O (``address_space_write_rom``, for loaders)."""
        src = memoryview(data).cast("B")
        for pos, chunk, fr in self._pieces(addr, len(src)):
            if fr is not None and fr.mr.ram_block is not None and not fr.mr.ram_block.readonly:
                offset = fr.offset_in_region + (addr + pos - fr.start)
                fr.mr.ram_block.view[offset:offset + chunk] = src[pos:pos + chunk]

    def read(self, addr: int, size: int) -> int:
        """Read a little-endian value of ``size`` bytes (qtest ``readl``, KVM MMIO/PIO exits)."""
        return int.from_bytes(self.read_bytes(addr, size), "little")

    def write(self, addr: int, value: int, size: int) -> MemTxResult:
        """Write the low ``size`` bytes of ``value``, little-endian."""
        return self.write_bytes(addr, (value & ((1 << (size * 8)) - 1)).to_bytes(size, "little"))

    def map(self, addr: int, length: int) -> memoryview | None:
        """Direct access to ``length`` bytes of RAM at ``addr``, or None if not one RAM range."""
        fr = self.lookup(addr)
        if fr is None or not fr.mr.ram or fr.mr.ram_block is None or addr + length > fr.end:
            return None
        offset = fr.offset_in_region + (addr - fr.start)
        return fr.mr.ram_block.view[offset:offset + length]

    def destroy(self) -> None:
        """Take the address space out of its system (``address_space_destroy``)."""
        self.system.address_spaces.remove(self)
        self.root.unobserve(self.system)
        self._view = None


def _diff(old: list[FlatRange], new: list[FlatRange]) -> tuple[list[FlatRange], ...]:
    """Ranges only in ``old``, in both unchanged, and only in ``new`` (QEMU's update passes)."""
    gone: list[FlatRange] = []
    kept: list[FlatRange] = []
    added: list[FlatRange] = []
    i = j = 0
    while i < len(old) or j < len(new):
        fo = old[i] if i < len(old) else None
        fn = new[j] if j < len(new) else None
        if fo is not None and (fn is None or fo.start < fn.start
                               or (fo.start == fn.start and not fo.same_as(fn))):
            gone.append(fo)
            i += 1
        elif fo is not None and fn is not None and fo.same_as(fn):
            kept.append(fn)
            i += 1
            j += 1
        else:
            assert fn is not None
            added.append(fn)
            j += 1
    return gone, kept, added


def _is_direct(fr: FlatRange, write: bool = False) -> bool:
    """Whether the access goes straight to host memory (QEMU's ``memory_access_is_direct``):
    reads of RAM or of a ROM device in romd mode; writes of writable RAM only.

    Whether the RAM is writable is the region's own flag: as in QEMU, a read-only
    alias of RAM (a PAM area) keeps only vCPU writes out; qtest and DMA writes land.
    """
    mr = fr.mr
    if mr.ram_block is None:
        return False
    if write:
        return mr.ram and not mr.readonly and not mr.rom_device
    return mr.ram or mr.is_romd


def _access_size(mr: MemoryRegion, length: int, addr: int) -> int:
    """The largest access the region takes at ``addr`` (``memory_access_size``)."""
    limit = mr.ops.valid.max_access_size or DEFAULT_VALID_MAX_ACCESS
    if not mr.ops.impl.unaligned:
        align = addr & -addr
        if align and align < limit:
            limit = align
    return 1 << (min(length, limit).bit_length() - 1)


class MemorySystem:
    """One machine's regions, address spaces and memory transactions.

    ``parent`` is where owner-less regions go in the QOM tree
    (``/machine/unattached``), so ``system`` becomes ``system[0]`` there.
    """

    def __init__(self, parent: Object | None = None):
        self.parent = parent
        self.address_spaces: list[AddressSpace] = []
        self._depth = 0
        self._pending = False
        self._views: dict[int, FlatView] = {}
        self.system_memory = MemoryRegion.new_container(None, "system", UINT64_MAX, parent=parent)
        self.system_io = MemoryRegion.new_io(None, UNASSIGNED_IO_OPS, "io", IO_SPACE_SIZE, parent=parent)
        self.address_space_memory = self.address_space_init(self.system_memory, "memory")
        self.address_space_io = self.address_space_init(self.system_io, "I/O")

    def address_space_init(self, root: MemoryRegion, name: str | None) -> AddressSpace:
        """A new address space showing ``root``."""
        space = AddressSpace(self, root, name)
        self.address_spaces.append(space)
        return space

    def flatview_for(self, root: MemoryRegion) -> FlatView:
        """The flat view of ``root``, shared by address spaces that render the same tree."""
        physical = flatview_root(root)
        key = id(physical)
        view = self._views.get(key)
        if view is None:
            view = generate_flatview(physical)
            self._views[key] = view
        return view

    # -- transactions -----------------------------------------------------

    def transaction_begin(self) -> None:
        self._depth += 1

    def transaction_commit(self) -> None:
        """End a transaction; at the outermost one, apply what changed."""
        if self._depth <= 0:
            raise RuntimeError("memory transaction commit without begin")
        self._depth -= 1
        if self._depth == 0 and self._pending:
            self._apply()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """``with system.transaction():`` batches changes into one update."""
        self.transaction_begin()
        try:
            yield
        finally:
            self.transaction_commit()

    def topology_changed(self) -> None:
        """A region shown by this system changed; update now unless inside a transaction."""
        self._pending = True
        if self._depth == 0:
            self._apply()

    def _apply(self) -> None:
        self._pending = False
        self._views.clear()
        listeners = list(dict.fromkeys(lsn for space in self.address_spaces for lsn in space.listeners))
        for listener in listeners:
            listener.begin()
        for space in self.address_spaces:
            space._update()
        for listener in listeners:
            listener.commit()
