"""Host RAM blocks: page-rounded mappings, host addresses, preallocation, closing."""

from __future__ import annotations

import ctypes
from pathlib import Path

import pytest

from pyqemu.memory import ram
from pyqemu.memory.ram import PAGE_SIZE, alloc_anonymous, alloc_file, host_page_align


def test_anonymous_block_is_page_rounded_and_addressable() -> None:
    block = alloc_anonymous(PAGE_SIZE + 1, "ram")
    assert (block.used_length, block.max_length) == (PAGE_SIZE + 1, 2 * PAGE_SIZE)
    assert block.host % PAGE_SIZE == 0
    block.view[PAGE_SIZE:PAGE_SIZE + 3] = b"abc"
    assert ctypes.string_at(block.host + PAGE_SIZE, 3) == b"abc"
    block.close()
    assert block.closed
    block.close()  # closing twice is harmless


def test_prealloc_without_madv_populate_touches_each_page_and_keeps_data(
        monkeypatch: pytest.MonkeyPatch) -> None:
    block = alloc_anonymous(4 * PAGE_SIZE, "ram")
    block.view[0] = 7
    block.view[3 * PAGE_SIZE] = 9

    def refuse(advice: int, start: int = 0, length: int | None = None) -> None:
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(block, "madvise", refuse)
    block.prealloc()
    assert (block.view[0], block.view[PAGE_SIZE], block.view[3 * PAGE_SIZE]) == (7, 0, 9)


def test_close_while_a_slice_is_held_defers_the_unmap() -> None:
    block = alloc_anonymous(PAGE_SIZE, "ram")
    piece = block.view[:16]
    block.close()
    piece[0] = 1  # still mapped: freed with the last view
    assert piece[0] == 1


def test_read_only_file_mapping(tmp_path: Path) -> None:
    image = tmp_path / "img"
    image.write_bytes(b"\x12" * PAGE_SIZE)
    block = alloc_file(PAGE_SIZE, str(image), "rom", readonly=True)
    assert block.view.readonly and block.host != 0
    assert ctypes.string_at(block.host, 2) == b"\x12\x12"
    block.prealloc()
    block.close()


def test_hugetlb_shift_goes_into_the_memfd_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def fake_memfd_create(name: str, flags: int) -> int:
        seen.append(flags)
        raise OSError(19, "No such device")

    monkeypatch.setattr(ram.os, "memfd_create", fake_memfd_create)
    with pytest.raises(Exception, match=r"^failed to create memfd with flags 0x54000005: No such device$"):
        ram.alloc_memfd(PAGE_SIZE, hugetlb=True, hugetlbsize=2 << 20, seal=False)
    assert seen == [0x54000005]  # 21 << 26 | MFD_HUGETLB | MFD_CLOEXEC
    assert host_page_align(0) == 0 and host_page_align(1) == PAGE_SIZE
