"""Typed vCPU exits: what ``KvmVcpu.run()`` returns instead of a raw kvm_run page.

:func:`decode_exit` turns the kernel's ``kvm_run`` (exit reason plus a union of
per-reason fields, I/O data at an offset inside the shared mapping) into one
small immutable value, so that the code dispatching exits to devices matches
on types and never reads offsets.  It is a pure function of the page's
contents and is unit-tested with synthetic buffers.

Two exits need an answer before the vCPU runs again: the data for an IN
(:func:`write_io_in`) and for an MMIO read (:func:`write_mmio_read`).  KVM
completes the guest instruction with it on the next KVM_RUN.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from dataclasses import dataclass

from pyqemu.accel.kvm.constants import KVM_EXIT_IO_OUT, ExitReason
from pyqemu.accel.kvm.structs import kvm_run

RunBuffer = mmap.mmap | bytearray | memoryview
"""The kvm_run mapping, or in tests any writable buffer holding a kvm_run at offset 0."""


@dataclass(frozen=True, slots=True)
class IoIn:
    """The guest reads ``count`` items of ``size`` bytes from I/O ``port``.

    Answer with :func:`write_io_in` (``size * count`` bytes) before running again.
    """

    port: int
    size: int
    count: int
    data_offset: int


@dataclass(frozen=True, slots=True)
class IoOut:
    """The guest wrote ``data`` (``count`` items of ``size`` bytes) to I/O ``port``."""

    port: int
    size: int
    count: int
    data: bytes


@dataclass(frozen=True, slots=True)
class MmioRead:
    """The guest reads ``len`` bytes at unmapped guest-physical ``addr``.

    Answer with :func:`write_mmio_read` before running again.
    """

    addr: int
    len: int


@dataclass(frozen=True, slots=True)
class MmioWrite:
    """The guest wrote ``data`` at unmapped guest-physical ``addr``."""

    addr: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Hlt:
    """The guest executed HLT (only seen without an in-kernel irqchip)."""


@dataclass(frozen=True, slots=True)
class Shutdown:
    """The guest triple-faulted; QEMU treats it as a reset request."""


@dataclass(frozen=True, slots=True)
class SystemEvent:
    """The guest asked for a shutdown, reset, crash report …: ``type`` is a SystemEventType."""

    type: int
    flags: int


@dataclass(frozen=True, slots=True)
class FailEntry:
    """The hardware refused to enter the guest; ``reason`` is its failure code."""

    reason: int
    cpu: int


@dataclass(frozen=True, slots=True)
class InternalError:
    """KVM could not handle an exit itself (e.g. emulation failure)."""

    suberror: int
    data: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Interrupted:
    """KVM_RUN returned early for a signal or ``immediate_exit``; nothing to handle."""


@dataclass(frozen=True, slots=True)
class Unknown:
    """An exit pyqemu does not handle; ``hardware_reason`` only for KVM_EXIT_UNKNOWN."""

    reason: int
    hardware_reason: int = 0


Exit = (
    IoIn
    | IoOut
    | MmioRead
    | MmioWrite
    | Hlt
    | Shutdown
    | SystemEvent
    | FailEntry
    | InternalError
    | Interrupted
    | Unknown
)


def _decode_io(run: kvm_run, buf: RunBuffer) -> Exit:
    io = run.io
    if io.direction != KVM_EXIT_IO_OUT:
        return IoIn(io.port, io.size, io.count, io.data_offset)
    end = io.data_offset + io.size * io.count
    with memoryview(buf) as view:
        data = bytes(view[io.data_offset : end])
    return IoOut(io.port, io.size, io.count, data)


def _decode_mmio(run: kvm_run, buf: RunBuffer) -> Exit:
    mmio = run.mmio
    if mmio.is_write:
        return MmioWrite(mmio.phys_addr, bytes(mmio.data[: mmio.len]))
    return MmioRead(mmio.phys_addr, mmio.len)


def _decode_system_event(run: kvm_run, buf: RunBuffer) -> Exit:
    return SystemEvent(run.system_event.type, run.system_event.flags)


def _decode_fail_entry(run: kvm_run, buf: RunBuffer) -> Exit:
    fail = run.fail_entry
    return FailEntry(fail.hardware_entry_failure_reason, fail.cpu)


def _decode_internal(run: kvm_run, buf: RunBuffer) -> Exit:
    internal = run.internal
    count = min(internal.ndata, len(internal.data))
    return InternalError(internal.suberror, tuple(internal.data[:count]))


def _decode_unknown(run: kvm_run, buf: RunBuffer) -> Exit:
    return Unknown(ExitReason.UNKNOWN, run.hw.hardware_exit_reason)


_DECODERS: dict[int, Callable[[kvm_run, RunBuffer], Exit]] = {
    ExitReason.IO: _decode_io,
    ExitReason.MMIO: _decode_mmio,
    ExitReason.HLT: lambda run, buf: Hlt(),
    ExitReason.SHUTDOWN: lambda run, buf: Shutdown(),
    ExitReason.INTR: lambda run, buf: Interrupted(),
    ExitReason.SYSTEM_EVENT: _decode_system_event,
    ExitReason.FAIL_ENTRY: _decode_fail_entry,
    ExitReason.INTERNAL_ERROR: _decode_internal,
    ExitReason.UNKNOWN: _decode_unknown,
}


def decode_exit(run: kvm_run, run_mmap: RunBuffer) -> Exit:
    """The exit described by ``run``; ``run_mmap`` is the mapping it lives in.

    ``run`` must be a view of the start of ``run_mmap`` (I/O data is found at
    ``run.io.data_offset`` inside it).  Reasons without a decoder give
    :class:`Unknown`.
    """
    decoder = _DECODERS.get(run.exit_reason)
    if decoder is None:
        return Unknown(run.exit_reason)
    return decoder(run, run_mmap)


def write_io_in(run_mmap: RunBuffer, exit_: IoIn, data: bytes) -> None:
    """Store the answer to an :class:`IoIn` where KVM will fetch it."""
    expected = exit_.size * exit_.count
    if len(data) != expected:
        raise ValueError(f"IN of {exit_.count}x{exit_.size} bytes needs {expected} bytes")
    with memoryview(run_mmap) as view:
        view[exit_.data_offset : exit_.data_offset + expected] = data


def write_mmio_read(run: kvm_run, data: bytes) -> None:
    """Store the answer to an :class:`MmioRead` where KVM will fetch it."""
    if len(data) != run.mmio.len:
        raise ValueError(f"MMIO read of {run.mmio.len} bytes answered with {len(data)}")
    run.mmio.data[: len(data)] = data
