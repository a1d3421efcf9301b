"""The x86_64 KVM ABI structures, as ``ctypes.Structure`` definitions.

Each class has the C struct's name and field names (``<linux/kvm.h>`` and
``<asm/kvm.h>``), so code and kernel documentation read alike; ctypes' native
alignment gives the C layout on x86_64.  ``tests/unit/accel/test_kvm_abi.py``
compares every size and field offset with what gcc computes from the host's
headers.

Two structs end in a flexible array (``kvm_cpuid2``, ``kvm_msrs``): their
classes here are the fixed header only, as ``sizeof`` is in C (the ioctl
numbers encode that size); :func:`with_entries` makes a buffer with room for
the entries.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from typing import Any, TypeVar

u8 = ctypes.c_uint8
u16 = ctypes.c_uint16
u32 = ctypes.c_uint32
s32 = ctypes.c_int32
u64 = ctypes.c_uint64

KVM_NR_INTERRUPTS = 256
KVM_APIC_REG_SIZE = 0x400
KVM_RUN_EXIT_UNION_SIZE = 256
SYNC_REGS_SIZE_BYTES = 2048

class kvm_userspace_memory_region(ctypes.Structure):
    """Argument of KVM_SET_USER_MEMORY_REGION: maps host memory into guest physical space."""

    _fields_ = [
        ("slot", u32),
        ("flags", u32),
        ("guest_phys_addr", u64),
        ("memory_size", u64),
        ("userspace_addr", u64),
    ]


class kvm_regs(ctypes.Structure):
    """General-purpose registers (KVM_GET_REGS / KVM_SET_REGS)."""

    _fields_ = [
        (name, u64)
        for name in (
            "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
            "rip", "rflags",
        )
    ]  # fmt: skip


class kvm_segment(ctypes.Structure):
    """A segment register with its hidden descriptor cache."""

    _fields_ = [
        ("base", u64),
        ("limit", u32),
        ("selector", u16),
        ("type", u8),
        ("present", u8),
        ("dpl", u8),
        ("db", u8),
        ("s", u8),
        ("l", u8),
        ("g", u8),
        ("avl", u8),
        ("unusable", u8),
        ("padding", u8),
    ]


class kvm_dtable(ctypes.Structure):
    """A descriptor-table register (GDTR, IDTR)."""

    _fields_ = [("base", u64), ("limit", u16), ("padding", u16 * 3)]


class kvm_sregs(ctypes.Structure):
    """Segment and control registers (KVM_GET_SREGS / KVM_SET_SREGS)."""

    _fields_ = [
        *((name, kvm_segment) for name in ("cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt")),
        ("gdt", kvm_dtable),
        ("idt", kvm_dtable),
        *((name, u64) for name in ("cr0", "cr2", "cr3", "cr4", "cr8", "efer", "apic_base")),
        ("interrupt_bitmap", u64 * ((KVM_NR_INTERRUPTS + 63) // 64)),
    ]


class kvm_fpu(ctypes.Structure):
    """x87/SSE state in FXSAVE layout (KVM_GET_FPU / KVM_SET_FPU)."""

    _fields_ = [
        ("fpr", (u8 * 16) * 8),
        ("fcw", u16),
        ("fsw", u16),
        ("ftwx", u8),
        ("pad1", u8),
        ("last_opcode", u16),
        ("last_ip", u64),
        ("last_dp", u64),
        ("xmm", (u8 * 16) * 16),
        ("mxcsr", u32),
        ("pad2", u32),
    ]


class kvm_msr_entry(ctypes.Structure):
    """One model-specific register: index and value."""

    _fields_ = [("index", u32), ("reserved", u32), ("data", u64)]


class kvm_msrs(ctypes.Structure):
    """Header of KVM_GET_MSRS / KVM_SET_MSRS; ``nmsrs`` kvm_msr_entry follow."""

    _fields_ = [("nmsrs", u32), ("pad", u32)]


class kvm_cpuid_entry2(ctypes.Structure):
    """One CPUID leaf (function, index) and its four result registers."""

    _fields_ = [
        ("function", u32),
        ("index", u32),
        ("flags", u32),
        ("eax", u32),
        ("ebx", u32),
        ("ecx", u32),
        ("edx", u32),
        ("padding", u32 * 3),
    ]


class kvm_cpuid2(ctypes.Structure):
    """Header of KVM_GET_SUPPORTED_CPUID / KVM_SET_CPUID2; ``nent`` entries follow."""

    _fields_ = [("nent", u32), ("padding", u32)]


class kvm_lapic_state(ctypes.Structure):
    """The local APIC's register page (KVM_GET_LAPIC / KVM_SET_LAPIC)."""

    _fields_ = [("regs", u8 * KVM_APIC_REG_SIZE)]


class kvm_mp_state(ctypes.Structure):
    """A vCPU's multiprocessing state (KVM_GET_MP_STATE / KVM_SET_MP_STATE)."""

    _fields_ = [("mp_state", u32)]


class kvm_pit_config(ctypes.Structure):
    """Argument of KVM_CREATE_PIT2."""

    _fields_ = [("flags", u32), ("pad", u32 * 15)]


class _irq_or_status(ctypes.Union):
    _fields_ = [("irq", u32), ("status", s32)]


class kvm_irq_level(ctypes.Structure):
    """Argument of KVM_IRQ_LINE: a GSI and its new level."""

    _anonymous_ = ("_u",)
    _fields_ = [("_u", _irq_or_status), ("level", u32)]


# --- kvm_run: the page shared with the kernel, mmap'ed from the vCPU fd ---


class _exit_hw(ctypes.Structure):
    _fields_ = [("hardware_exit_reason", u64)]


class _exit_fail_entry(ctypes.Structure):
    _fields_ = [("hardware_entry_failure_reason", u64), ("cpu", u32)]


class _exit_ex(ctypes.Structure):
    _fields_ = [("exception", u32), ("error_code", u32)]


class _exit_io(ctypes.Structure):
    _fields_ = [
        ("direction", u8),
        ("size", u8),
        ("port", u16),
        ("count", u32),
        ("data_offset", u64),  # of the data, from the start of kvm_run
    ]


class _exit_mmio(ctypes.Structure):
    _fields_ = [("phys_addr", u64), ("data", u8 * 8), ("len", u32), ("is_write", u8)]


class _exit_hypercall(ctypes.Structure):
    _fields_ = [("nr", u64), ("args", u64 * 6), ("ret", u64), ("longmode", u32), ("pad", u32)]


class _exit_internal(ctypes.Structure):
    _fields_ = [("suberror", u32), ("ndata", u32), ("data", u64 * 16)]


class _system_event_data(ctypes.Union):
    _fields_ = [("flags", u64), ("data", u64 * 16)]


class _exit_system_event(ctypes.Structure):
    _anonymous_ = ("_u",)
    _fields_ = [("type", u32), ("ndata", u32), ("_u", _system_event_data)]


class _exit_union(ctypes.Union):
    _fields_ = [
        ("hw", _exit_hw),
        ("fail_entry", _exit_fail_entry),
        ("ex", _exit_ex),
        ("io", _exit_io),
        ("mmio", _exit_mmio),
        ("hypercall", _exit_hypercall),
        ("internal", _exit_internal),
        ("system_event", _exit_system_event),
        ("padding", u8 * KVM_RUN_EXIT_UNION_SIZE),
    ]


class _sync_regs(ctypes.Union):
    _fields_ = [("padding", u8 * SYNC_REGS_SIZE_BYTES)]


class kvm_run(ctypes.Structure):
    """The shared vCPU page: inputs to KVM_RUN and the description of its exit.

    The per-reason exit data is an anonymous union in C; here too its members
    are reached directly (``run.io.port``, ``run.mmio.data``).
    """

    _anonymous_ = ("_exit",)
    _fields_ = [
        ("request_interrupt_window", u8),
        ("immediate_exit", u8),
        ("padding1", u8 * 6),
        ("exit_reason", u32),
        ("ready_for_interrupt_injection", u8),
        ("if_flag", u8),
        ("flags", u16),
        ("cr8", u64),
        ("apic_base", u64),
        ("_exit", _exit_union),
        ("kvm_valid_regs", u64),
        ("kvm_dirty_regs", u64),
        ("s", _sync_regs),
    ]


_Header = TypeVar("_Header", kvm_cpuid2, kvm_msrs)


def with_entries(header: type[_Header], entry: type[ctypes.Structure], count: int) -> _Header:
    """A zeroed ``header`` struct followed by room for ``count`` ``entry`` structs.

    The result is an instance of a subclass of ``header`` with an ``entries``
    array, so it passes wherever the header type is expected.
    """
    fields: list[tuple[str, Any]] = [("entries", entry * count)]
    sized = type(f"{header.__name__}_{count}", (header,), {"_fields_": fields})
    return sized()  # type: ignore[no-any-return]


def cpuid2_of(entries: Sequence[kvm_cpuid_entry2]) -> kvm_cpuid2:
    """A kvm_cpuid2 buffer holding copies of ``entries``."""
    buf = with_entries(kvm_cpuid2, kvm_cpuid_entry2, len(entries))
    buf.nent = len(entries)
    buf.entries[:] = entries  # type: ignore[attr-defined]
    return buf


def msrs_of(entries: Sequence[tuple[int, int]]) -> kvm_msrs:
    """A kvm_msrs buffer holding ``(index, data)`` pairs."""
    buf = with_entries(kvm_msrs, kvm_msr_entry, len(entries))
    buf.nmsrs = len(entries)
    for slot, (index, data) in zip(buf.entries, entries, strict=True):  # type: ignore[attr-defined]
        slot.index = index
        slot.data = data
    return buf
