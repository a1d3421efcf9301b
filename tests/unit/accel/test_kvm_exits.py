"""decode_exit and the exit answers, on synthetic kvm_run buffers (no /dev/kvm needed)."""

from __future__ import annotations

import mmap
from collections.abc import Iterator

import pytest

from pyqemu.accel.kvm.constants import KVM_EXIT_IO_IN, KVM_EXIT_IO_OUT, ExitReason
from pyqemu.accel.kvm.exits import (
    FailEntry,
    Hlt,
    InternalError,
    Interrupted,
    IoIn,
    IoOut,
    MmioRead,
    MmioWrite,
    Shutdown,
    SystemEvent,
    Unknown,
    decode_exit,
    write_io_in,
    write_mmio_read,
)
from pyqemu.accel.kvm.structs import kvm_run

PAGE = 4096
IO_DATA_OFFSET = PAGE  # where KVM puts port I/O data: the page after kvm_run


@pytest.fixture
def page() -> Iterator[tuple[kvm_run, bytearray]]:
    buf = bytearray(3 * PAGE)
    run = kvm_run.from_buffer(buf)
    yield run, buf
    del run


def _io(run: kvm_run, direction: int, port: int, size: int, count: int) -> None:
    run.exit_reason = ExitReason.IO
    run.io.direction = direction
    run.io.port = port
    run.io.size = size
    run.io.count = count
    run.io.data_offset = IO_DATA_OFFSET


def test_io_out_copies_the_data(page: tuple[kvm_run, bytearray]) -> None:
    run, buf = page
    _io(run, KVM_EXIT_IO_OUT, 0x3F8, 1, 1)
    buf[IO_DATA_OFFSET : IO_DATA_OFFSET + 2] = b"AZ"
    exit_ = decode_exit(run, buf)
    assert exit_ == IoOut(port=0x3F8, size=1, count=1, data=b"A")
    buf[IO_DATA_OFFSET] = 0
    assert exit_.data == b"A"  # a copy, not a view of the shared page


def test_io_out_string_instruction(page: tuple[kvm_run, bytearray]) -> None:
    run, buf = page
    _io(run, KVM_EXIT_IO_OUT, 0x1CE, 2, 3)
    buf[IO_DATA_OFFSET : IO_DATA_OFFSET + 8] = bytes(range(1, 9))
    assert decode_exit(run, buf) == IoOut(0x1CE, 2, 3, bytes(range(1, 7)))


def test_io_in_and_its_answer(page: tuple[kvm_run, bytearray]) -> None:
    run, buf = page
    _io(run, KVM_EXIT_IO_IN, 0x64, 1, 2)
    exit_ = decode_exit(run, buf)
    assert exit_ == IoIn(port=0x64, size=1, count=2, data_offset=IO_DATA_OFFSET)
    write_io_in(buf, exit_, b"\x1c\x1d")
    assert buf[IO_DATA_OFFSET : IO_DATA_OFFSET + 3] == b"\x1c\x1d\x00"
    with pytest.raises(ValueError, match="needs 2 bytes"):
        write_io_in(buf, exit_, b"\x1c")


def test_mmio_write_takes_len_bytes(page: tuple[kvm_run, bytearray]) -> None:
    run, buf = page
    run.exit_reason = ExitReason.MMIO
    run.mmio.phys_addr = 0xFEE00300
    run.mmio.data[:] = list(range(0x11, 0x19))
    run.mmio.len = 4
    run.mmio.is_write = 1
    assert decode_exit(run, buf) == MmioWrite(addr=0xFEE00300, data=b"\x11\x12\x13\x14")


def test_mmio_read_and_its_answer(page: tuple[kvm_run, bytearray]) -> None:
    run, buf = page
    run.exit_reason = ExitReason.MMIO
    run.mmio.phys_addr = 0xD0000000
    run.mmio.len = 2
    run.mmio.is_write = 0
    assert decode_exit(run, buf) == MmioRead(addr=0xD0000000, len=2)
    write_mmio_read(run, b"\x34\x12")
    assert bytes(run.mmio.data[:3]) == b"\x34\x12\x00"
    with pytest.raises(ValueError, match="MMIO read of 2 bytes answered with 4"):
        write_mmio_read(run, b"\x00" * 4)


@pytest.mark.parametrize(
    ("reason", "expected"),
    [(ExitReason.HLT, Hlt()), (ExitReason.SHUTDOWN, Shutdown()), (ExitReason.INTR, Interrupted())],
)
def test_exits_without_data(page: tuple[kvm_run, bytearray], reason: int, expected: object) -> None:
    run, buf = page
    run.exit_reason = reason
    run.io.port = 0x3F8  # stale union contents must not matter
    assert decode_exit(run, buf) == expected


def test_system_event(page: tuple[kvm_run, bytearray]) -> None:
    run, buf = page
    run.exit_reason = ExitReason.SYSTEM_EVENT
    run.system_event.type = 2
    run.system_event.ndata = 1
    run.system_event.flags = 0x5
    assert decode_exit(run, buf) == SystemEvent(type=2, flags=5)


def test_fail_entry(page: tuple[kvm_run, bytearray]) -> None:
    run, buf = page
    run.exit_reason = ExitReason.FAIL_ENTRY
    run.fail_entry.hardware_entry_failure_reason = 0x80000021
    run.fail_entry.cpu = 3
    assert decode_exit(run, buf) == FailEntry(reason=0x80000021, cpu=3)


def test_internal_error_keeps_ndata_words(page: tuple[kvm_run, bytearray]) -> None:
    run, buf = page
    run.exit_reason = ExitReason.INTERNAL_ERROR
    run.internal.suberror = 1
    run.internal.ndata = 2
    run.internal.data[:3] = [7, 8, 9]
    assert decode_exit(run, buf) == InternalError(suberror=1, data=(7, 8))
    run.internal.ndata = 1000  # never beyond the array
    assert len(decode_exit(run, buf).data) == 16  # type: ignore[union-attr]


def test_kvm_exit_unknown_keeps_the_hardware_reason(page: tuple[kvm_run, bytearray]) -> None:
    run, buf = page
    run.exit_reason = ExitReason.UNKNOWN
    run.hw.hardware_exit_reason = 0x1234
    assert decode_exit(run, buf) == Unknown(reason=0, hardware_reason=0x1234)


@pytest.mark.parametrize("reason", [ExitReason.DEBUG, ExitReason.IRQ_WINDOW_OPEN, 0xFFFF])
def test_unhandled_reasons_are_unknown(page: tuple[kvm_run, bytearray], reason: int) -> None:
    run, buf = page
    run.exit_reason = reason
    assert decode_exit(run, buf) == Unknown(reason=reason, hardware_reason=0)


def test_decodes_from_an_mmap_and_lets_it_close() -> None:
    mapping = mmap.mmap(-1, 3 * PAGE)
    run = kvm_run.from_buffer(mapping)
    _io(run, KVM_EXIT_IO_OUT, 0x80, 4, 1)
    mapping[IO_DATA_OFFSET : IO_DATA_OFFSET + 4] = b"\xef\xbe\xad\xde"
    assert decode_exit(run, mapping) == IoOut(0x80, 4, 1, b"\xef\xbe\xad\xde")
    write_io_in(mapping, IoIn(0x80, 4, 1, IO_DATA_OFFSET), b"1234")
    del run
    mapping.close()  # no buffer export left behind by decoding


def test_exits_are_immutable_values() -> None:
    exit_ = IoOut(0x3F8, 1, 1, b"A")
    with pytest.raises(AttributeError):
        exit_.port = 0  # type: ignore[misc]
    assert {exit_, IoOut(0x3F8, 1, 1, b"A"), Hlt(), Hlt()} == {exit_, Hlt()}
