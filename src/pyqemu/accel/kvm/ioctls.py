"""Every KVM ioctl number pyqemu uses, and the one function that issues them.

The numbers are computed as ``<linux/kvm.h>`` defines them, with the generic
``_IOC`` encoding of ``<asm-generic/ioctl.h>`` (direction, size of the
argument struct, type ``KVMIO`` and a sequence number), so a struct whose
size is wrong shows up as a wrong number in ``tests/unit/accel/test_kvm_abi.py``.

:func:`kvm_ioctl` is how the owning classes (``Kvm``, ``KvmVm``, ``KvmVcpu``)
call the kernel: one ioctl, and a failure becomes a :class:`KvmError` worded
as QEMU words it, whose ``__cause__`` is the ``OSError`` (QEMU's
``failed to initialize kvm: <strerror>`` takes its errno from there).
"""

from __future__ import annotations

import ctypes
import enum
import fcntl
import os

from pyqemu.accel.kvm.structs import (
    kvm_cpuid2,
    kvm_fpu,
    kvm_irq_level,
    kvm_lapic_state,
    kvm_mp_state,
    kvm_msrs,
    kvm_pit_config,
    kvm_regs,
    kvm_sregs,
    kvm_userspace_memory_region,
)
from pyqemu.util.errors import KvmError

# <asm-generic/ioctl.h>: nr in bits 0-7, type in 8-15, size in 16-29, direction in 30-31.
_IOC_NRBITS = 8
_IOC_TYPEBITS = 8
_IOC_SIZEBITS = 14
_IOC_DIRBITS = 2
_IOC_NRSHIFT = 0
_IOC_TYPESHIFT = _IOC_NRSHIFT + _IOC_NRBITS
_IOC_SIZESHIFT = _IOC_TYPESHIFT + _IOC_TYPEBITS
_IOC_DIRSHIFT = _IOC_SIZESHIFT + _IOC_SIZEBITS

_IOC_NONE = 0
_IOC_WRITE = 1
_IOC_READ = 2

KVMIO = 0xAE

_CType = type[ctypes.Structure] | type[ctypes._SimpleCData]  # type: ignore[type-arg]

# The helpers keep the kernel's macro names, so that the table reads like kvm.h.


def _IOC(direction: int, type_: int, nr: int, size: int) -> int:
    """Encode an ioctl request number from its four fields."""
    for value, bits in ((direction, _IOC_DIRBITS), (type_, _IOC_TYPEBITS),
                        (nr, _IOC_NRBITS), (size, _IOC_SIZEBITS)):  # fmt: skip
        if not 0 <= value < 1 << bits:
            raise ValueError(f"ioctl field {value:#x} does not fit in {bits} bits")
    return (
        direction << _IOC_DIRSHIFT
        | type_ << _IOC_TYPESHIFT
        | nr << _IOC_NRSHIFT
        | size << _IOC_SIZESHIFT
    )


def _IO(type_: int, nr: int) -> int:
    """A request without argument struct."""
    return _IOC(_IOC_NONE, type_, nr, 0)


def _IOR(type_: int, nr: int, arg: _CType) -> int:
    """A request whose argument the kernel writes."""
    return _IOC(_IOC_READ, type_, nr, ctypes.sizeof(arg))


def _IOW(type_: int, nr: int, arg: _CType) -> int:
    """A request whose argument the kernel reads."""
    return _IOC(_IOC_WRITE, type_, nr, ctypes.sizeof(arg))


def _IOWR(type_: int, nr: int, arg: _CType) -> int:
    """A request whose argument the kernel reads and writes."""
    return _IOC(_IOC_READ | _IOC_WRITE, type_, nr, ctypes.sizeof(arg))


class Ioctl(enum.IntEnum):
    """The KVM ioctls pyqemu issues; ``c_name`` is the name in ``<linux/kvm.h>``."""

    # on the /dev/kvm fd
    GET_API_VERSION = _IO(KVMIO, 0x00)
    CREATE_VM = _IO(KVMIO, 0x01)
    CHECK_EXTENSION = _IO(KVMIO, 0x03)  # also on a VM fd
    GET_VCPU_MMAP_SIZE = _IO(KVMIO, 0x04)
    GET_SUPPORTED_CPUID = _IOWR(KVMIO, 0x05, kvm_cpuid2)
    # on a VM fd
    CREATE_VCPU = _IO(KVMIO, 0x41)
    SET_USER_MEMORY_REGION = _IOW(KVMIO, 0x46, kvm_userspace_memory_region)
    SET_TSS_ADDR = _IO(KVMIO, 0x47)
    SET_IDENTITY_MAP_ADDR = _IOW(KVMIO, 0x48, ctypes.c_uint64)
    CREATE_IRQCHIP = _IO(KVMIO, 0x60)
    IRQ_LINE = _IOW(KVMIO, 0x61, kvm_irq_level)
    CREATE_PIT2 = _IOW(KVMIO, 0x77, kvm_pit_config)
    # on a vCPU fd
    RUN = _IO(KVMIO, 0x80)
    GET_REGS = _IOR(KVMIO, 0x81, kvm_regs)
    SET_REGS = _IOW(KVMIO, 0x82, kvm_regs)
    GET_SREGS = _IOR(KVMIO, 0x83, kvm_sregs)
    SET_SREGS = _IOW(KVMIO, 0x84, kvm_sregs)
    GET_MSRS = _IOWR(KVMIO, 0x88, kvm_msrs)
    SET_MSRS = _IOW(KVMIO, 0x89, kvm_msrs)
    GET_FPU = _IOR(KVMIO, 0x8C, kvm_fpu)
    SET_FPU = _IOW(KVMIO, 0x8D, kvm_fpu)
    GET_LAPIC = _IOR(KVMIO, 0x8E, kvm_lapic_state)
    SET_LAPIC = _IOW(KVMIO, 0x8F, kvm_lapic_state)
    SET_CPUID2 = _IOW(KVMIO, 0x90, kvm_cpuid2)
    GET_MP_STATE = _IOR(KVMIO, 0x98, kvm_mp_state)
    SET_MP_STATE = _IOW(KVMIO, 0x99, kvm_mp_state)

    @property
    def c_name(self) -> str:
        """The request's name in ``<linux/kvm.h>``."""
        return "KVM_" + self.name


DEFAULT_FAILURE = "{name} failed: {strerror}"
"""How a failed ioctl is reported when QEMU has no message of its own for it."""

_C_UINT_LIMIT = 1 << 32
_C_INT_LIMIT = 1 << 31


def _as_c_int(value: int) -> int:
    """``value`` (below 2**32) as the C int with the same bits.

    ``fcntl.ioctl`` passes an integer argument as a C ``int``; values such as
    the TSS address 0xfffbd000 must travel as their bit pattern.
    """
    if not 0 <= value < _C_UINT_LIMIT:
        raise ValueError(f"ioctl argument {value:#x} does not fit in 32 bits")
    return value - _C_UINT_LIMIT if value >= _C_INT_LIMIT else value


def kvm_error(err: OSError, request: Ioctl, message: str = DEFAULT_FAILURE) -> KvmError:
    """The KvmError reporting ``err`` from ``request``.

    ``message`` is a ``str.format`` template over ``name`` (the ioctl's C name),
    ``errno`` and ``strerror``.  The caller raises it ``from err``.
    """
    code = err.errno or 0
    return KvmError(message.format(name=request.c_name, errno=code, strerror=os.strerror(code)))


def kvm_ioctl(
    fd: int,
    request: Ioctl,
    arg: int | ctypes.Structure | ctypes._SimpleCData = 0,  # type: ignore[type-arg]
    message: str = DEFAULT_FAILURE,
) -> int:
    """Issue one ioctl and return its non-negative result.

    An ``int`` argument is passed by value, and ``fcntl.ioctl`` releases the
    GIL around the call (which is what KVM_RUN needs); a ctypes object is
    passed by address and may be written by the kernel.
    """
    try:
        if isinstance(arg, int):
            return fcntl.ioctl(fd, request, _as_c_int(arg))
        return fcntl.ioctl(fd, request, arg, True)  # type: ignore[call-overload]
    except OSError as err:
        raise kvm_error(err, request, message) from err
