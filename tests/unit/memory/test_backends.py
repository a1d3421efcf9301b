"""Host memory backends through user_creatable_add, with QEMU 7.2's properties and error texts."""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any

import pytest

from pyqemu.memory.backends import HostMemoryBackend
from pyqemu.memory.region import MemoryRegion
from pyqemu.qom.object import Container, Object, object_class_by_name, object_new
from pyqemu.qom.object_interfaces import user_creatable_add, user_creatable_del
from pyqemu.util.errors import ConfigError, NotFoundError

# qom-list-properties memory-backend-ram on QEMU 7.2 (names and types, in its order)
BASE_PROPERTIES = [
    ("type", "string"), ("share", "bool"), ("size", "int"), ("dump", "bool"), ("prealloc-threads", "int"),
    ("x-use-canonical-path-for-ramblock-id", "bool"), ("policy", "HostMemPolicy"),
    ("prealloc-context", "link<thread-context>"), ("prealloc", "bool"), ("reserve", "bool"),
    ("host-nodes", "int"), ("merge", "bool"),
]
MEMFD_EXTRA = [("hugetlb", "bool"), ("seal", "bool"), ("hugetlbsize", "int")]
FILE_EXTRA = [("readonly", "bool"), ("align", "int"), ("pmem", "bool"), ("mem-path", "string"),
              ("discard-data", "bool")]
# qom-get of every property of a fresh memory-backend-ram
DEFAULTS = {"share": False, "dump": True, "prealloc-threads": 1,
            "x-use-canonical-path-for-ramblock-id": False, "policy": "default", "prealloc-context": "",
            "prealloc": False, "reserve": True, "host-nodes": [], "merge": True}


@pytest.fixture
def root() -> Container:
    return Container()


def add(root: Object, qom_type: str, props: dict[str, Any], ident: str = "m0", text: bool = False) -> Any:
    return user_creatable_add(root, qom_type, ident, props, from_text=text)


@pytest.mark.parametrize(("qom_type", "extra"), [
    ("memory-backend", []), ("memory-backend-ram", []), ("memory-backend-memfd", MEMFD_EXTRA),
    ("memory-backend-file", FILE_EXTRA),
])
def test_property_names_and_types(qom_type: str, extra: list[tuple[str, str]]) -> None:
    cls = object_class_by_name(qom_type)
    assert cls is not None
    assert [(p.name, p.type) for p in cls.class_properties()] == BASE_PROPERTIES + extra
    descriptions = {p.name: p.description for p in cls.class_properties()}
    assert descriptions["x-use-canonical-path-for-ramblock-id"] is None and descriptions["size"]


def test_ram_backend_creates_its_region_named_after_the_id(root: Container) -> None:
    backend = add(root, "memory-backend-ram", {"size": 4097})
    assert {name: backend.property_get(name) for name in DEFAULTS} == DEFAULTS
    assert backend.property_get("size") == 4097
    region = backend.get_memory()
    assert isinstance(region, MemoryRegion)
    assert region.canonical_path() == "/objects/m0/m0[0]" and region.region_name() == "m0"
    assert region.property_get("size") == 4097 and region.owner is backend and region.type_name() == "ram"
    block = backend.block()
    assert block.max_length == 8192 and block.used_length == 4097
    ctypes.memmove(block.host, b"hello", 5)  # the host address is the mapping the memoryview shows
    assert bytes(region.ram_view(0, 5)) == b"hello"
    assert [p.name for p in backend.iter_properties()][-1] == "m0[0]"


def test_canonical_path_names_the_region(root: Container) -> None:
    backend = add(root, "memory-backend-ram", {"size": 4096, "x-use-canonical-path-for-ramblock-id": True})
    assert backend.get_memory().name_in_parent == "\\x2fobjects\\x2fm0[0]"


def test_frozen_and_live_properties_after_complete(root: Container) -> None:
    backend = add(root, "memory-backend-ram", {"size": 4096})
    with pytest.raises(ConfigError, match=r"^cannot change property size of memory-backend-ram $"):
        backend.property_set("size", 8192)
    for name in ("share", "reserve"):
        with pytest.raises(ConfigError, match=r"^cannot change property value$"):
            backend.property_set(name, not backend.property_get(name))
    for name, value in (("dump", False), ("merge", False), ("prealloc", True), ("policy", "bind"),
                        ("prealloc-threads", 2), ("x-use-canonical-path-for-ramblock-id", True)):
        backend.property_set(name, value)
        assert backend.property_get(name) == value


@pytest.mark.parametrize(("props", "error"), [
    ({"size": 0}, "property 'size' of memory-backend-ram doesn't take value '0'"),
    ({"size": "1M"}, "Parameter 'size' expects uint64"),
    ({"size": 4096, "prealloc-threads": 0},
     "property 'prealloc-threads' of memory-backend-ram doesn't take value '0'"),
    ({"size": 4096, "prealloc-threads": -1}, "Parameter 'prealloc-threads' expects uint32_t"),
    ({"size": 4096, "policy": "foo"}, "Parameter 'policy' does not accept value 'foo'"),
    ({"size": 4096, "policy": "bind"}, "host-nodes must be set for policy bind"),
    ({"size": 4096, "policy": "preferred"}, "host-nodes must be set for policy preferred"),
    ({"size": 4096, "host-nodes": [0, 1]},
     "host-nodes must be empty for policy default, or you should explicitly specify a policy "
     "other than default"),
    ({"size": 4096, "host-nodes": 0}, "Invalid parameter type for 'host-nodes', expected: array"),
    ({"size": 4096, "host-nodes": ["a"]}, "Parameter 'host-nodes[0]' expects uint64"),
    ({"size": 4096, "host-nodes": [0, 70000]}, "Parameter 'null' expects uint16_t"),
    ({"size": 4096, "host-nodes": [128], "policy": "bind"}, "Invalid host-nodes value: 128"),
    ({"size": 4096, "host-nodes": [127], "policy": "bind"},
     "cannot bind memory to host NUMA nodes: Invalid argument"),
    ({"size": 4096, "reserve": False, "prealloc": True}, "'prealloc=on' and 'reserve=off' are incompatible"),
    ({"size": 4096, "share": "on"}, "Invalid parameter type for 'share', expected: boolean"),
    ({"size": 1 << 62}, "cannot set up guest memory 'm0': Cannot allocate memory"),
    ({}, "Parameter 'size' is missing"),
])
def test_ram_backend_errors_leave_nothing_behind(root: Container, props: dict[str, Any], error: str) -> None:
    with pytest.raises(ConfigError) as info:
        add(root, "memory-backend-ram", props)
    assert info.value.desc == error
    objects = root.child("objects")
    assert objects is None or objects.child("m0") is None


def test_command_line_values(root: Container) -> None:
    backend = add(root, "memory-backend-ram", {"size": "4096", "host-nodes": "0-1", "policy": "interleave",
                                               "merge": "off"}, text=True)
    assert backend.property_get("host-nodes") == [0, 1] and backend.property_get("merge") is False
    with pytest.raises(ConfigError, match=r"^Parameter 'host-nodes' expects a uint64 value or range$"):
        add(root, "memory-backend-ram", {"size": "4096", "host-nodes": "x"}, ident="m1", text=True)
    with pytest.raises(ConfigError, match=r"^Parameter 'size' expects a size value$"):
        add(root, "memory-backend-ram", {"size": "-1"}, ident="m1", text=True)


def test_bound_and_preallocated_memory(root: Container) -> None:
    backend = add(root, "memory-backend-ram", {"size": 65536, "host-nodes": [0], "policy": "bind",
                                               "prealloc": True})
    assert bytes(backend.get_memory().ram_view(0, 16)) == bytes(16)


def test_host_nodes_accumulate_as_a_sorted_set() -> None:
    backend = object_new("memory-backend-ram")
    backend.property_set("host-nodes", [3, 1])
    backend.property_set("host-nodes", [1, 0])
    assert backend.property_get("host-nodes") == [0, 1, 3]


def test_prealloc_context_is_a_link(root: Container) -> None:
    with pytest.raises(NotFoundError, match=r"^Device 'x' not found$"):
        add(root, "memory-backend-ram", {"size": 4096, "prealloc-context": "x"})


def test_object_del_frees_the_memory_unless_mapped(root: Container) -> None:
    backend: HostMemoryBackend = add(root, "memory-backend-ram", {"size": 4096})
    block = backend.block()
    backend.mapped = True
    with pytest.raises(ConfigError, match=r"^object 'm0' is in use, can not be deleted$"):
        user_creatable_del(root, "m0")
    backend.mapped = False
    user_creatable_del(root, "m0")
    assert block.closed and root.child("objects").child("m0") is None  # type: ignore[union-attr]


def test_abstract_base_cannot_be_created(root: Container) -> None:
    with pytest.raises(ConfigError, match=r"^Parameter 'qom-type' does not accept value 'memory-backend'$"):
        add(root, "memory-backend", {"size": 4096})


def test_memfd_backend(root: Container) -> None:
    backend = add(root, "memory-backend-memfd", {"size": 8192})
    assert backend.property_get("share") is True and backend.property_get("seal") is True
    block = backend.block()
    assert os.fstat(block.fd).st_size == 8192
    backend.property_set("seal", False)  # accepted after complete, as in QEMU
    with pytest.raises(ConfigError, match=r"^cannot change property value$"):
        backend.property_set("hugetlbsize", 4096)
    with pytest.raises(ConfigError, match=r"^cannot change property size of memory-backend-memfd $"):
        backend.property_set("size", 4096)
    user_creatable_del(root, "m0")
    assert block.closed


@pytest.mark.parametrize(("props", "error"), [
    ({"size": 4097}, "backing store size 0x1001 does not match 'size' option 0x2000"),
    ({"size": 4096, "hugetlbsize": 0}, "Property 'memory-backend-memfd.hugetlbsize' doesn't take value '0'"),
    ({"size": 4096, "hugetlb": True, "hugetlbsize": 4096}, "failed to create memfd with flags 0x30000007: "
                                                            "No such device"),
])
def test_memfd_errors(root: Container, props: dict[str, Any], error: str) -> None:
    with pytest.raises(ConfigError) as info:
        add(root, "memory-backend-memfd", props)
    assert info.value.desc == error


def test_file_backend_creates_and_maps_the_file(root: Container, tmp_path: Path) -> None:
    path = tmp_path / "guest.ram"
    backend = add(root, "memory-backend-file", {"size": 4097, "mem-path": str(path), "share": True})
    assert path.stat().st_size == 8192  # created and sized to whole pages, as QEMU does
    backend.get_memory().ram_view()[:4] = b"data"
    backend.block().view.obj.flush()  # type: ignore[attr-defined]
    assert path.read_bytes()[:4] == b"data"
    for name, text in (("mem-path", "'mem-path' of memory-backend-file"),
                       ("readonly", "'readonly' of memory-backend-file."),
                       ("pmem", "'pmem' of memory-backend-file."),
                       ("align", "'align' of memory-backend-file")):
        with pytest.raises(ConfigError) as info:
            backend.property_set(name, backend.property_get(name))
        assert info.value.desc == f"cannot change property {text}"
    backend.property_set("discard-data", True)
    user_creatable_del(root, "m0")


def test_file_backend_in_a_directory_and_read_only(root: Container, tmp_path: Path) -> None:
    add(root, "memory-backend-file", {"size": 4096, "mem-path": str(tmp_path)})
    assert list(tmp_path.iterdir()) == []  # an unlinked temporary file
    image = tmp_path / "rom.img"
    image.write_bytes(b"\x55\xaa" * 2048)
    backend = add(root, "memory-backend-file", {"size": 4096, "mem-path": str(image), "readonly": True},
                  ident="m1")
    region = backend.get_memory()
    assert region.readonly and region.type_name() == "rom" and bytes(region.ram_view(0, 2)) == b"\x55\xaa"
    assert backend.block().host != 0


@pytest.mark.parametrize(("props", "error"), [
    ({"size": 4096}, "Parameter 'mem-path' is missing"),
    ({"size": 4096, "mem-path": "/nonexistent/x"},
     "can't open backing store /nonexistent/x for guest RAM: No such file or directory"),
    ({"size": 8192, "mem-path": "{small}"}, "backing store size 0x1000 does not match 'size' option 0x2000"),
    ({"size": 4096, "mem-path": "{dir}", "readonly": True},
     "unable to map backing store for guest RAM: No such device"),
    ({"size": 4096, "mem-path": "{dir}/a", "align": 3},
     "alignment 0x3 must be multiples of page size 0x1000"),
])
def test_file_backend_errors(root: Container, tmp_path: Path, props: dict[str, Any], error: str) -> None:
    small = tmp_path / "small"
    small.write_bytes(bytes(4096))
    if "mem-path" in props:
        props = {**props, "mem-path": props["mem-path"].format(small=small, dir=tmp_path)}
    with pytest.raises(ConfigError) as info:
        add(root, "memory-backend-file", props)
    assert info.value.desc == error
