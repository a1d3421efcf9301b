"""Memory regions: the tree a machine's address spaces are built from (QEMU's ``MemoryRegion``).

A region is a QOM object (type ``memory-region``) of one of these kinds:

- *container*: only holds subregions (``system``, a PCI hole);
- *RAM* / *ROM*: backed by a :class:`~pyqemu.memory.ram.RamBlock` (host mmap);
- *I/O*: reads and writes call a :class:`MemoryRegionOps` (MMIO, port I/O);
- *ROM device*: reads come from RAM (in ROMD mode), writes go to its ops;
- *alias*: a window onto part of another region.

Subregions are placed at an offset with a priority.  Where they overlap the
higher priority wins and, at equal priority, the one added last, because a
new subregion goes in front of the first one whose priority is not higher
than its own (QEMU's ``memory_region_update_container_subregions``).

As in QEMU a named region becomes a child ``NAME[*]`` of its owner (for
example ``/machine/unattached/system[0]``).  A size of ``UINT64_MAX`` means
the full 2**64 bytes; the ``size`` property then reads ``UINT64_MAX`` again.

Every change that can alter what an address space sees is reported to the
:class:`~pyqemu.memory.address_space.MemorySystem` that shows the region;
that system batches changes in transactions and recomputes its flat views.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from pyqemu.memory.ram import RamBlock, alloc_anonymous
from pyqemu.qom.object import Object, register_type
from pyqemu.qom.property import INT32, STR, UINT64
from pyqemu.util.cutils import UINT64_MAX

TYPE_MEMORY_REGION = "memory-region"


SIZE_2_64 = 1 << 64
DEFAULT_IMPL_MAX_ACCESS = 4
_ESCAPED = frozenset("/[\\]")


class Endianness(enum.Enum):
    """Byte order of a device's registers; NATIVE is the target's (little on x86)."""

    NATIVE = "native"
    LITTLE = "little"
    BIG = "big"


class MemTxResult(enum.IntFlag):
    """Outcome of a memory transaction (QEMU's ``MemTxResult``)."""

    OK = 0
    ERROR = 1
    DECODE_ERROR = 2


@dataclass(frozen=True)
class AccessSizes:
    """Access sizes in bytes; 0 means "not restricted" (QEMU's ``valid`` / ``impl``)."""

    min_access_size: int = 0
    max_access_size: int = 0
    unaligned: bool = False


ReadFn = Callable[[int, int], int]
WriteFn = Callable[[int, int, int], None]
AcceptsFn = Callable[[int, int, bool], bool]


@dataclass(frozen=True)
class MemoryRegionOps:
    """The callbacks of an I/O region: ``read(offset, size) -> value``, ``write(offset, value, size)``.

    ``valid`` says which guest accesses are accepted at all; ``impl`` which
    sizes the callbacks handle: other sizes are split or widened to fit.
    """

    read: ReadFn | None = None
    write: WriteFn | None = None
    endianness: Endianness = Endianness.NATIVE
    valid: AccessSizes = field(default_factory=AccessSizes)
    impl: AccessSizes = field(default_factory=AccessSizes)
    accepts: AcceptsFn | None = None


#: What RAM, containers and the unassigned region answer: every access is rejected.
UNASSIGNED_MEM_OPS = MemoryRegionOps(accepts=lambda _addr, _size, _is_write: False)
#: Port I/O with no device behind it: reads return all ones, writes are ignored.
UNASSIGNED_IO_OPS = MemoryRegionOps(read=lambda _addr, size: -1, write=lambda _addr, _value, _size: None)


class TopologyObserver(Protocol):
    """What a root region reports its changes to (a memory system, through an address space)."""

    def topology_changed(self) -> None: ...


def escape_name(name: str) -> str:
    """A region name made safe as a QOM property name: ``/ [ \\ ]`` become ``\\xNN``."""
    return "".join(f"\\x{ord(c):02x}" if c in _ESCAPED else c for c in name)


def size_mask(size: int) -> int:
    return (1 << (size * 8)) - 1


def bswap(value: int, size: int) -> int:
    """Reverse the byte order of the low ``size`` bytes of ``value``."""
    return int.from_bytes((value & size_mask(size)).to_bytes(size, "little"), "big")


@register_type
class MemoryRegion(Object):
    """A region of guest-physical or I/O address space; make one with a ``new_*`` classmethod."""

    TYPE = TYPE_MEMORY_REGION

    @classmethod
    def class_init(cls) -> None:
        container = cls.class_property_add(
            "container", STR, lambda mr: mr.container.canonical_path() if mr.container else "",
            type=f"link<{TYPE_MEMORY_REGION}>",
        )
        container.link_target = TYPE_MEMORY_REGION
        cls.class_property_add("addr", UINT64, lambda mr: mr.addr)
        cls.class_property_add("size", UINT64, lambda mr: min(mr.size, UINT64_MAX))
        cls.class_property_add("priority", INT32, lambda mr: mr.priority, type="uint32")

    def __init__(self) -> None:
        super().__init__()
        self.name: str | None = None
        self.owner: Object | None = None
        self.size = 0
        self.addr = 0
        self.priority = 0
        self.container: MemoryRegion | None = None
        self.subregions: list[MemoryRegion] = []
        self.enabled = True
        self.readonly = False
        self.nonvolatile = False
        self.ram = False
        self.rom_device = False
        self.romd_mode = True
        self.terminates = False
        self.alias: MemoryRegion | None = None
        self.alias_offset = 0
        self.ops = UNASSIGNED_MEM_OPS
        self.ram_block: RamBlock | None = None
        self._alias_users: list[MemoryRegion] = []
        self._observers: list[TopologyObserver] = []

    # -- construction (memory_region_init_*) ---------------------------------

    @classmethod
    def _new(cls, owner: Object | None, name: str | None, size: int, parent: Object | None) -> MemoryRegion:
        mr = cls()
        mr.size = SIZE_2_64 if size == UINT64_MAX else size
        mr.name = name
        mr.owner = owner
        attach_to = owner if owner is not None else parent
        if name is not None and attach_to is not None:
            attach_to.add_child(f"{escape_name(name)}[*]", mr)
            mr.unref()
        return mr

    @classmethod
    def new_container(cls, owner: Object | None, name: str | None, size: int, *,
                      parent: Object | None = None) -> MemoryRegion:
        """A pure container (``memory_region_init``); ``parent`` stands for ``/machine/unattached``."""
        return cls._new(owner, name, size, parent)

    @classmethod
    def new_io(cls, owner: Object | None, ops: MemoryRegionOps | None, name: str | None, size: int, *,
               parent: Object | None = None) -> MemoryRegion:
        """An MMIO or port I/O region whose accesses call ``ops`` (``memory_region_init_io``)."""
        mr = cls._new(owner, name, size, parent)
        mr.ops = ops if ops is not None else UNASSIGNED_MEM_OPS
        mr.terminates = True
        return mr

    @classmethod
    def new_ram(cls, owner: Object | None, name: str, size: int, *, parent: Object | None = None,
                block: RamBlock | None = None, readonly: bool = False) -> MemoryRegion:
        """RAM (or ROM if ``readonly``) backed by ``block``, or by new anonymous host memory."""
        if block is None:
            block = alloc_anonymous(size, name)
        mr = cls._new(owner, name, size, parent)
        mr.ram = True
        mr.terminates = True
        mr.readonly = readonly
        mr.ram_block = block
        return mr

    @classmethod
    def new_rom(cls, owner: Object | None, name: str, size: int, *,
                parent: Object | None = None) -> MemoryRegion:
        """Read-only RAM: the guest reads it, its writes are dropped (``memory_region_init_rom``)."""
        return cls.new_ram(owner, name, size, parent=parent, readonly=True)

    @classmethod
    def new_rom_device(cls, owner: Object | None, ops: MemoryRegionOps, name: str, size: int, *,
                       parent: Object | None = None) -> MemoryRegion:
        """Reads come from RAM while in ROMD mode, writes always go to ``ops`` (flash chips)."""
        block = alloc_anonymous(size, name)
        mr = cls._new(owner, name, size, parent)
        mr.ops = ops
        mr.terminates = True
        mr.rom_device = True
        mr.ram_block = block
        return mr

    @classmethod
    def new_alias(cls, owner: Object | None, name: str, orig: MemoryRegion, offset: int, size: int, *,
                  parent: Object | None = None) -> MemoryRegion:
        """A window of ``size`` bytes onto ``orig`` starting at ``offset`` (``memory_region_init_alias``)."""
        mr = cls._new(owner, name, size, parent)
        mr.alias = orig
        mr.alias_offset = offset
        orig._alias_users.append(mr)
        return mr

    # -- what kind of region ------------------------------------------------

    @property
    def is_ram(self) -> bool:
        return self.ram

    @property
    def is_rom(self) -> bool:
        return self.ram and self.readonly

    @property
    def is_romd(self) -> bool:
        return self.rom_device and self.romd_mode

    @property
    def is_mapped(self) -> bool:
        return self.container is not None

    def region_name(self) -> str:
        """The name ``info mtree`` shows (``memory_region_name``)."""
        if self.name is None and self.name_in_parent is not None:
            self.name = self.name_in_parent
        return self.name if self.name is not None else "(null)"

    def type_name(self) -> str:
        """The kind ``info mtree`` prints: ram, rom, romd or i/o (containers too)."""
        if self.alias is not None:
            return self.alias.type_name()
        if self.is_romd:
            return "romd"
        if self.is_rom:
            return "rom"
        return "ram" if self.ram else "i/o"

    # -- host memory --------------------------------------------------------

    def ram_location(self, offset: int = 0) -> tuple[RamBlock, int]:
        """The RAM block behind this region (through aliases) and the offset into it."""
        mr: MemoryRegion = self
        while mr.alias is not None:
            offset += mr.alias_offset
            mr = mr.alias
        if mr.ram_block is None:
            raise ValueError(f"memory region '{self.region_name()}' has no RAM")
        return mr.ram_block, offset

    def ram_host(self, offset: int = 0) -> int:
        """Host address of byte ``offset`` of this region's RAM (for KVM memory slots)."""
        block, offset = self.ram_location(offset)
        return block.host + offset

    def ram_view(self, offset: int = 0, length: int | None = None) -> memoryview:
        """A memoryview of this region's RAM from ``offset`` (to the end by default)."""
        block, offset = self.ram_location(offset)
        end = block.used_length if length is None else offset + length
        return block.view[offset:end]

    # -- building the tree --------------------------------------------------

    def add_subregion(self, offset: int, subregion: MemoryRegion) -> None:
        """Map ``subregion`` at ``offset`` with priority 0."""
        self.add_subregion_overlap(offset, subregion, 0)

    def add_subregion_overlap(self, offset: int, subregion: MemoryRegion, priority: int) -> None:
        """Map ``subregion`` at ``offset``; it hides lower-priority (and older equal-priority) ones."""
        if subregion.container is not None:
            raise ValueError(f"memory region '{subregion.region_name()}' is already mapped")
        subregion.container = self
        subregion.addr = offset
        subregion.priority = priority
        self._insert(subregion)
        self._topology_changed()

    def _insert(self, subregion: MemoryRegion) -> None:
        for index, other in enumerate(self.subregions):
            if subregion.priority >= other.priority:
                self.subregions.insert(index, subregion)
                return
        self.subregions.append(subregion)

    def del_subregion(self, subregion: MemoryRegion) -> None:
        """Unmap ``subregion`` from this container."""
        if subregion.container is not self:
            raise ValueError(f"memory region '{subregion.region_name()}' is not mapped here")
        subregion.container = None
        self.subregions.remove(subregion)
        self._topology_changed()

    def set_address(self, addr: int) -> None:
        """Move the region within its container (it is re-added, so it becomes the newest)."""
        if addr == self.addr:
            return
        self.addr = addr
        container = self.container
        if container is not None:
            container.subregions.remove(self)
            container._insert(self)
            container._topology_changed()

    def _set(self, attr: str, value: object) -> None:
        if getattr(self, attr) != value:
            setattr(self, attr, value)
            self._topology_changed()

    def set_enabled(self, enabled: bool) -> None:
        self._set("enabled", enabled)

    def set_readonly(self, readonly: bool) -> None:
        self._set("readonly", readonly)

    def set_nonvolatile(self, nonvolatile: bool) -> None:
        self._set("nonvolatile", nonvolatile)

    def set_romd(self, romd_mode: bool) -> None:
        """Switch a ROM device between ROMD mode (reads from RAM) and MMIO mode."""
        self._set("romd_mode", romd_mode)

    def set_size(self, size: int) -> None:
        self._set("size", SIZE_2_64 if size == UINT64_MAX else size)

    def set_alias_offset(self, offset: int) -> None:
        if self.alias is None:
            raise ValueError(f"memory region '{self.region_name()}' is not an alias")
        self._set("alias_offset", offset)

    # -- change reporting ------------------------------------------------------

    def observe(self, observer: TopologyObserver) -> None:
        """Report changes below this (root) region to ``observer``."""
        self._observers.append(observer)

    def unobserve(self, observer: TopologyObserver) -> None:
        self._observers.remove(observer)

    def _reachable_observers(self) -> Iterator[TopologyObserver]:
        seen: set[int] = set()
        stack: list[MemoryRegion] = [self]
        while stack:
            mr = stack.pop()
            if id(mr) in seen:
                continue
            seen.add(id(mr))
            yield from mr._observers
            stack.extend(mr._alias_users)
            if mr.container is not None:
                stack.append(mr.container)

    def _topology_changed(self) -> None:
        notified: set[int] = set()
        for observer in self._reachable_observers():
            if id(observer) not in notified:
                notified.add(id(observer))
                observer.topology_changed()

    # -- MMIO dispatch (memory_region_dispatch_read/write) -------------------------

    def access_valid(self, addr: int, size: int, is_write: bool) -> bool:
        """Whether the guest may make this access at all (``ops.valid``)."""
        ops = self.ops
        if ops.accepts is not None and not ops.accepts(addr, size, is_write):
            return False
        if not ops.valid.unaligned and addr & (size - 1):
            return False
        if not ops.valid.max_access_size:
            return True
        return ops.valid.min_access_size <= size <= ops.valid.max_access_size

    def _big_endian(self) -> bool:
        return self.ops.endianness is Endianness.BIG

    def _access_sizes(self, size: int) -> tuple[int, int]:
        impl = self.ops.impl
        access = max(min(size, impl.max_access_size or DEFAULT_IMPL_MAX_ACCESS), impl.min_access_size or 1)
        return access, size_mask(access)

    def _shift(self, size: int, access: int, index: int) -> int:
        return (size - access - index) * 8 if self._big_endian() else index * 8

    def dispatch_read(self, addr: int, size: int) -> tuple[int, MemTxResult]:
        """Read ``size`` bytes at ``addr``, split or widened to the sizes ``ops.impl`` handles."""
        if not self.access_valid(addr, size, False):
            return 0, MemTxResult.DECODE_ERROR
        read = self.ops.read
        access, mask = self._access_sizes(size)
        value = 0
        for index in range(0, size, access):
            part = (read(addr + index, access) if read is not None else 0) & mask
            shift = self._shift(size, access, index)
            value |= part << shift if shift >= 0 else part >> -shift
        value &= size_mask(size)
        return (bswap(value, size) if self._big_endian() else value), MemTxResult.OK

    def dispatch_write(self, addr: int, value: int, size: int) -> MemTxResult:
        """Write ``value`` (``size`` bytes) at ``addr`` through the ops, split as for reads."""
        if not self.access_valid(addr, size, True):
            return MemTxResult.DECODE_ERROR
        value &= size_mask(size)
        if self._big_endian():
            value = bswap(value, size)
        write = self.ops.write
        access, mask = self._access_sizes(size)
        for index in range(0, size, access):
            shift = self._shift(size, access, index)
            part = (value >> shift if shift >= 0 else value << -shift) & mask
            if write is not None:
                write(addr + index, part, access)
        return MemTxResult.OK

    # -- lifetime -------------------------------------------------------------

    def finalize(self) -> None:
        """Unmap the region and its subregions and free its RAM (``memory_region_finalize``)."""
        if self.container is not None:
            self.container.del_subregion(self)
        self.enabled = False
        for subregion in list(self.subregions):
            self.del_subregion(subregion)
        if self.alias is not None and self in self.alias._alias_users:
            self.alias._alias_users.remove(self)
        if self.ram_block is not None:
            self.ram_block.close()
        super().finalize()
