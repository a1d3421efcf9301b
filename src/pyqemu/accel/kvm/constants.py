"""Numeric constants of the KVM API (``<linux/kvm.h>``) that pyqemu uses.

Grouped as enums so that error messages and traces can name them
(``Cap.USER_MEMORY.c_name == "KVM_CAP_USER_MEMORY"``).  The values are part of
the kernel's stable ABI; ``tests/unit/accel/test_kvm_abi.py`` checks each one
against the host's header.
"""

from __future__ import annotations

import enum

KVM_API_VERSION = 12
"""The only API version KVM has had since Linux 2.6.22; anything else is refused."""

KVM_DEVICE = "/dev/kvm"

# kvm_userspace_memory_region.flags
KVM_MEM_LOG_DIRTY_PAGES = 1 << 0
KVM_MEM_READONLY = 1 << 1

# kvm_pit_config.flags
KVM_PIT_SPEAKER_DUMMY = 1

# kvm_run.io.direction
KVM_EXIT_IO_IN = 0
KVM_EXIT_IO_OUT = 1

KVM_MAX_CPUID_ENTRIES = 256
"""Capacity of a KVM_GET_SUPPORTED_CPUID buffer large enough for any kernel so far."""


class _Prefixed(enum.IntEnum):
    """An IntEnum whose members are C constants sharing a prefix."""

    _prefix: str

    @property
    def c_name(self) -> str:
        """The constant's name in ``<linux/kvm.h>``."""
        return self._prefix + self.name


class Cap(_Prefixed):
    """Capabilities for KVM_CHECK_EXTENSION (``KVM_CAP_*``)."""

    _prefix = enum.nonmember("KVM_CAP_")

    IRQCHIP = 0
    HLT = 1
    USER_MEMORY = 3
    SET_TSS_ADDR = 4
    EXT_CPUID = 7
    NR_VCPUS = 9
    NR_MEMSLOTS = 10
    MP_STATE = 14
    COALESCED_MMIO = 15
    SYNC_MMU = 16
    DESTROY_MEMORY_REGION_WORKS = 21
    IRQ_INJECT_STATUS = 26
    JOIN_MEMORY_REGIONS_WORKS = 30
    IRQFD = 32
    PIT2 = 33
    PIT_STATE2 = 35
    IOEVENTFD = 36
    SET_IDENTITY_MAP_ADDR = 37
    ADJUST_CLOCK = 39
    INTERNAL_ERROR_DATA = 40
    VCPU_EVENTS = 41
    XSAVE = 55
    MAX_VCPUS = 66
    TSC_DEADLINE_TIMER = 72
    READONLY_MEM = 81
    X86_SMM = 117
    MULTI_ADDRESS_SPACE = 118
    MAX_VCPU_ID = 128
    X2APIC_API = 129
    IMMEDIATE_EXIT = 136


class ExitReason(_Prefixed):
    """Why KVM_RUN returned (``kvm_run.exit_reason``, ``KVM_EXIT_*``)."""

    _prefix = enum.nonmember("KVM_EXIT_")

    UNKNOWN = 0
    EXCEPTION = 1
    IO = 2
    HYPERCALL = 3
    DEBUG = 4
    HLT = 5
    MMIO = 6
    IRQ_WINDOW_OPEN = 7
    SHUTDOWN = 8
    FAIL_ENTRY = 9
    INTR = 10
    SET_TPR = 11
    TPR_ACCESS = 12
    NMI = 16
    INTERNAL_ERROR = 17
    SYSTEM_EVENT = 24
    IOAPIC_EOI = 26
    HYPERV = 27
    X86_RDMSR = 29
    X86_WRMSR = 30
    DIRTY_RING_FULL = 31
    AP_RESET_HOLD = 32
    X86_BUS_LOCK = 33
    XEN = 34
    NOTIFY = 37


class SystemEventType(_Prefixed):
    """``kvm_run.system_event.type`` (``KVM_SYSTEM_EVENT_*``)."""

    _prefix = enum.nonmember("KVM_SYSTEM_EVENT_")

    SHUTDOWN = 1
    RESET = 2
    CRASH = 3
    WAKEUP = 4
    SUSPEND = 5
    SEV_TERM = 6


class InternalErrorCode(_Prefixed):
    """``kvm_run.internal.suberror`` (``KVM_INTERNAL_ERROR_*``)."""

    _prefix = enum.nonmember("KVM_INTERNAL_ERROR_")

    EMULATION = 1
    SIMUL_EX = 2
    DELIVERY_EV = 3
    UNEXPECTED_EXIT_REASON = 4


class MpState(_Prefixed):
    """x86 vCPU multiprocessing states (``kvm_mp_state.mp_state``, ``KVM_MP_STATE_*``)."""

    _prefix = enum.nonmember("KVM_MP_STATE_")

    RUNNABLE = 0
    UNINITIALIZED = 1
    INIT_RECEIVED = 2
    HALTED = 3
    SIPI_RECEIVED = 4
