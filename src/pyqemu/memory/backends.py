"""Host memory backends: ``-object memory-backend-{ram,memfd,file}`` (QEMU's ``backends/hostmem*.c``).

A backend is a user-creatable QOM object holding guest RAM.  Its properties
are set first; :meth:`HostMemoryBackend.complete` then allocates the host
memory and a RAM region named after the backend's id, a child ``ID[0]`` of
the backend (``/objects/m0/m0[0]``), which boards and NUMA nodes map into
the guest.  From then on the size and the properties that shape the
mapping are frozen; ``dump``, ``merge`` and ``prealloc`` act on the live
mapping instead.  Property names, QOM types and error texts are QEMU 7.2's.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import platform
import re
from collections.abc import Callable
from typing import Any, ClassVar

from pyqemu.memory.ram import MADV_REMOVE, RamBlock, alloc_anonymous, alloc_file, alloc_memfd
from pyqemu.memory.region import UINT64_MAX, MemoryRegion
from pyqemu.qom.object import Object, register_type
from pyqemu.qom.object_interfaces import UserCreatable
from pyqemu.qom.property import BOOL, STR, UINT32, SizeKind, ValueKind, enum_kind, parse_int_text
from pyqemu.util.cutils import invalid_parameter_type
from pyqemu.util.errors import ConfigError

MAX_NODES = 128
HOST_MEM_POLICIES = ("default", "preferred", "bind", "interleave")
HOST_MEM_POLICY = enum_kind("HostMemPolicy", HOST_MEM_POLICIES)
MPOL_MF_STRICT = 1 << 0
MPOL_MF_MOVE = 1 << 1
_SYS_MBIND = {"x86_64": 237, "aarch64": 235}
_MADV = {"dump": (17, 16), "merge": (12, 13)}  # (on, off): MADV_DODUMP/DONTDUMP, MERGEABLE/UNMERGEABLE
_RANGE_RE = re.compile(r"([^-]+)(?:-(.+))?\Z")


class _SizeValue(SizeKind):
    """A ``size`` that ``qom-list`` calls ``int``; JSON takes any 64-bit integer, as QEMU's visitor does."""

    @property
    def qom_type(self) -> str:  # type: ignore[override]
        return "int"

    def from_json(self, value: Any, name: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not -(1 << 63) <= value <= UINT64_MAX:
            raise ConfigError(f"Parameter '{name}' expects uint64")
        return value & UINT64_MAX


class _HostNodes(ValueKind):
    """A list of host NUMA node numbers: a JSON array, or ``N`` / ``N-M`` on the command line."""

    qom_type = "int"

    def from_json(self, value: Any, name: str) -> list[int]:
        if not isinstance(value, list):
            raise invalid_parameter_type(name, "array")
        for index, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, int):
                raise ConfigError(f"Parameter '{name}[{index}]' expects uint64")
            if not 0 <= item <= 0xFFFF:
                raise ConfigError("Parameter 'null' expects uint16_t")
        return list(value)

    def from_str(self, text: str, name: str) -> list[int]:
        match = _RANGE_RE.match(text)
        low = parse_int_text(match.group(1)) if match else None
        high = parse_int_text(match.group(2)) if match and match.group(2) else low
        if low is None or high is None or not 0 <= low <= high:
            raise ConfigError(f"Parameter '{name}' expects a uint64 value or range")
        return self.from_json(list(range(low, high + 1)), name)


SIZE_VALUE = _SizeValue()
HOST_NODES = _HostNodes()


def _mbind(host: int, length: int, policy: str, nodes: set[int]) -> None:
    """Apply a NUMA policy to host memory, as QEMU does right after allocating it."""
    number = _SYS_MBIND.get(platform.machine())
    if number is None or policy == "default":
        return
    words = (MAX_NODES + 1 + 63) // 64
    mask = (ctypes.c_ulong * words)()
    for node in nodes:
        mask[node // 64] |= 1 << (node % 64)
    maxnode = max(nodes) + 1
    libc = ctypes.CDLL(None, use_errno=True)
    mode = HOST_MEM_POLICIES.index(policy)
    if libc.syscall(number, ctypes.c_void_p(host), ctypes.c_ulong(length), ctypes.c_int(mode), mask,
                    ctypes.c_ulong(maxnode + 1), ctypes.c_uint(MPOL_MF_STRICT | MPOL_MF_MOVE)):
        err = ctypes.get_errno() or errno.EINVAL
        raise ConfigError(f"cannot bind memory to host NUMA nodes: {os.strerror(err)}")


@register_type
class HostMemoryBackend(Object, UserCreatable):
    """Base of the memory backends: the properties they share and the allocation sequence."""

    TYPE = "memory-backend"
    ABSTRACT = True
    REQUIRED_PROPERTIES: ClassVar[tuple[str, ...]] = ("size",)
    SHARE_DEFAULT: ClassVar[bool] = False

    @classmethod
    def class_init(cls) -> None:
        add = cls.class_property_add
        add("share", BOOL, lambda b: b.share, cls._frozen_setter("share"),
            description="Map the memory shared with other processes rather than private")
        add("size", SIZE_VALUE, lambda b: b.size, cls._set_size,
            description="Bytes of guest memory to allocate, e.g. 512M")
        add("dump", BOOL, lambda b: b.dump, lambda b, v: b._set_advice("dump", v),
            description="Include the memory in core dumps ('off' leaves it out)")
        add("prealloc-threads", UINT32, lambda b: b.prealloc_threads, cls._set_prealloc_threads,
            type="int", description="How many threads touch the memory when preallocating")
        add("x-use-canonical-path-for-ramblock-id", BOOL, lambda b: b.use_canonical_path,
            lambda b, v: setattr(b, "use_canonical_path", v))
        add("policy", HOST_MEM_POLICY, lambda b: b.policy, lambda b, v: setattr(b, "policy", v),
            description="NUMA placement policy for the memory")
        context = add("prealloc-context", STR, lambda b: b._context_path(), cls._set_prealloc_context,
                      type="link<thread-context>",
                      description="Thread context whose CPUs run the preallocation threads")
        context.link_target = "thread-context"
        add("prealloc", BOOL, lambda b: b.prealloc, cls._set_prealloc,
            description="Fault all of the memory in when it is created")
        add("reserve", BOOL, lambda b: b.reserve, cls._frozen_setter("reserve"),
            description="Reserve swap space (or huge pages) for the memory where that applies")
        add("host-nodes", HOST_NODES, lambda b: sorted(b.host_nodes), cls._set_host_nodes,
            description="Host NUMA nodes the memory is bound to")
        add("merge", BOOL, lambda b: b.merge, lambda b, v: b._set_advice("merge", v),
            description="Let the kernel merge identical pages (KSM)")

    def __init__(self) -> None:
        super().__init__()
        self.size = 0
        self.share = self.SHARE_DEFAULT
        self.dump = True
        self.merge = True
        self.prealloc = False
        self.reserve = True
        self.prealloc_threads = 1
        self.use_canonical_path = False
        self.policy = "default"
        self.host_nodes: set[int] = set()
        self.prealloc_context: Object | None = None
        self.region: MemoryRegion | None = None
        #: Set by whoever maps the memory into a guest; a mapped backend cannot be deleted.
        self.mapped = False

    # -- property setters ---------------------------------------------------

    @staticmethod
    def _frozen_setter(attr: str) -> Callable[[HostMemoryBackend, Any], None]:
        def setter(backend: HostMemoryBackend, value: Any) -> None:
            if backend.region is not None:
                raise ConfigError("cannot change property value")
            setattr(backend, attr, value)
        return setter

    def _set_size(self, value: int) -> None:
        if self.region is not None:
            raise ConfigError(f"cannot change property size of {self.typename} ")
        if not value:
            raise ConfigError(f"property 'size' of {self.typename} doesn't take value '{value}'")
        self.size = value

    def _set_prealloc_threads(self, value: int) -> None:
        if not value:
            raise ConfigError(f"property 'prealloc-threads' of {self.typename} doesn't take value '0'")
        self.prealloc_threads = value

    def _set_host_nodes(self, nodes: list[int]) -> None:
        for node in nodes:
            if node >= MAX_NODES:
                raise ConfigError(f"Invalid host-nodes value: {node}")
            self.host_nodes.add(node)

    def _context_path(self) -> str:
        return self.prealloc_context.canonical_path() if self.prealloc_context is not None else ""

    def _set_prealloc_context(self, path: str) -> None:
        from pyqemu.qom.path import resolve_link

        self.prealloc_context = resolve_link(self.root(), path, "prealloc-context", "thread-context") \
            if path else None

    def _set_advice(self, attr: str, value: bool) -> None:
        if self.region is not None and value != getattr(self, attr):
            on, off = _MADV[attr]
            self._madvise(on if value else off)
        setattr(self, attr, value)

    def _set_prealloc(self, value: bool) -> None:
        if self.region is not None and value and not self.prealloc:
            self.block().prealloc()
        self.prealloc = value

    # -- the memory ---------------------------------------------------------

    def block(self) -> RamBlock:
        """The host memory, once :meth:`complete` has run."""
        if self.region is None or self.region.ram_block is None:
            raise ValueError(f"{self.typename} has no memory yet")
        return self.region.ram_block

    def get_memory(self) -> MemoryRegion | None:
        """The RAM region to map into a guest, None before :meth:`complete`."""
        return self.region

    def _madvise(self, advice: int) -> None:
        with contextlib.suppress(OSError):  # advisory: QEMU ignores qemu_madvise() failures
            self.block().madvise(advice)

    def _region_name(self) -> str:
        if self.use_canonical_path:
            return self.canonical_path()
        return self.name_in_parent or self.typename

    def _alloc(self, name: str) -> RamBlock:
        """Allocate the host memory (each backend type's own way)."""
        raise NotImplementedError

    def _readonly(self) -> bool:
        return False

    def _check_policy(self) -> None:
        if self.host_nodes and self.policy == "default":
            raise ConfigError("host-nodes must be empty for policy default, or you should explicitly "
                              "specify a policy other than default")
        if not self.host_nodes and self.policy != "default":
            raise ConfigError(f"host-nodes must be set for policy {self.policy}")

    def complete(self) -> None:
        """Allocate the memory and its region ``ID[0]``, then apply advice, NUMA policy, prealloc."""
        if self.prealloc and not self.reserve:
            raise ConfigError("'prealloc=on' and 'reserve=off' are incompatible")
        name = self._region_name()
        block = self._alloc(name)
        self.region = MemoryRegion.new_ram(self, name, self.size, block=block, readonly=self._readonly())
        if self.merge:
            self._madvise(_MADV["merge"][0])
        if not self.dump:
            self._madvise(_MADV["dump"][1])
        self._check_policy()
        _mbind(block.host, block.max_length, self.policy, self.host_nodes)
        if self.prealloc:
            block.prealloc()

    def can_be_deleted(self) -> bool:
        return not self.mapped


@register_type
class RamMemoryBackend(HostMemoryBackend):
    """Anonymous host memory (``memory-backend-ram``)."""

    TYPE = "memory-backend-ram"

    def _alloc(self, name: str) -> RamBlock:
        return alloc_anonymous(self.size, name, shared=self.share, reserve=self.reserve)


@register_type
class MemfdMemoryBackend(HostMemoryBackend):
    """Host memory in an anonymous memfd, shared by default (``memory-backend-memfd``)."""

    TYPE = "memory-backend-memfd"
    SHARE_DEFAULT = True

    @classmethod
    def class_init(cls) -> None:
        cls.class_property_add("hugetlb", BOOL, lambda b: b.hugetlb, lambda b, v: setattr(b, "hugetlb", v),
                               description="Back the memory with huge pages")
        cls.class_property_add("seal", BOOL, lambda b: b.seal, lambda b, v: setattr(b, "seal", v),
                               description="Seal the memfd so that it cannot grow or shrink")
        cls.class_property_add("hugetlbsize", SIZE_VALUE, lambda b: b.hugetlbsize, cls._set_hugetlbsize,
                               description="Huge page size to use, e.g. 2M or 1G")

    def __init__(self) -> None:
        super().__init__()
        self.hugetlb = False
        self.seal = True
        self.hugetlbsize = 0

    def _set_hugetlbsize(self, value: int) -> None:
        if self.region is not None:
            raise ConfigError("cannot change property value")
        if not value:
            raise ConfigError(f"Property '{self.typename}.hugetlbsize' doesn't take value '0'")
        self.hugetlbsize = value

    def _alloc(self, name: str) -> RamBlock:
        return alloc_memfd(self.size, hugetlb=self.hugetlb, hugetlbsize=self.hugetlbsize, seal=self.seal,
                           shared=self.share)


@register_type
class FileMemoryBackend(HostMemoryBackend):
    """Host memory mapped from a file or a directory such as hugetlbfs (``memory-backend-file``)."""

    TYPE = "memory-backend-file"
    REQUIRED_PROPERTIES = ("size", "mem-path")

    @classmethod
    def class_init(cls) -> None:
        add = cls.class_property_add
        add("readonly", BOOL, lambda b: b.readonly, cls._fixed("readonly", "."))
        add("align", SIZE_VALUE, lambda b: b.align, cls._fixed("align", ""))
        add("pmem", BOOL, lambda b: b.pmem, cls._fixed("pmem", "."))
        add("mem-path", STR, lambda b: b.mem_path, cls._fixed("mem-path", ""))
        add("discard-data", BOOL, lambda b: b.discard_data, lambda b, v: setattr(b, "discard_data", v))

    def __init__(self) -> None:
        super().__init__()
        self.readonly = False
        self.align = 0
        self.pmem = False
        self.mem_path = ""
        self.discard_data = False

    @staticmethod
    def _fixed(name: str, stop: str) -> Callable[[FileMemoryBackend, Any], None]:
        """A setter refused once the memory exists (QEMU ends some of these messages with '.')."""
        def setter(backend: FileMemoryBackend, value: Any) -> None:
            if backend.region is not None:
                raise ConfigError(f"cannot change property '{name}' of {backend.typename}{stop}")
            setattr(backend, name.replace("-", "_"), value)
        return setter

    def _readonly(self) -> bool:
        return self.readonly

    def _alloc(self, name: str) -> RamBlock:
        return alloc_file(self.size, self.mem_path, name, shared=self.share, readonly=self.readonly,
                          align=self.align)

    def finalize(self) -> None:
        """With ``discard-data``, drop the file's contents instead of writing them back."""
        if self.discard_data and self.region is not None:
            self._madvise(MADV_REMOVE)
        super().finalize()
