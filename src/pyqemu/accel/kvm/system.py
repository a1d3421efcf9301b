"""The /dev/kvm handle: API version, capabilities, CPUID, and VM creation.

First of the three owning classes ``Kvm -> KvmVm -> KvmVcpu``.  Each owns its
file descriptor (a vCPU also its kvm_run mapping) and releases it in
``close()`` or on leaving a ``with`` block; closing a parent does not close
its children, which keep the kernel objects alive on their own.

Errors are :class:`KvmError` with QEMU 7.2's text.  QEMU prints the open and
version messages bare (``Could not access KVM kernel module: Permission
denied``) and then, through the accelerator, ``-accel kvm: failed to
initialize kvm: <strerror>``; that errno is the ``errno`` of the error's
``__cause__`` (EINVAL for a version mismatch).
"""

from __future__ import annotations

import errno
import os

from pyqemu.accel.kvm.constants import KVM_API_VERSION, KVM_DEVICE, KVM_MAX_CPUID_ENTRIES
from pyqemu.accel.kvm.fd_owner import FdOwner
from pyqemu.accel.kvm.ioctls import Ioctl, kvm_ioctl
from pyqemu.accel.kvm.structs import kvm_cpuid2, kvm_cpuid_entry2, with_entries
from pyqemu.accel.kvm.vm import KvmVm
from pyqemu.util.errors import KvmError

VERSION_TOO_OLD = "kvm version too old"
VERSION_NOT_SUPPORTED = "kvm version not supported"


def _einval() -> OSError:
    return OSError(errno.EINVAL, os.strerror(errno.EINVAL))


class Kvm(FdOwner):
    """An open /dev/kvm whose API version has been checked to be 12."""

    def __init__(self, path: str = KVM_DEVICE) -> None:
        """Open ``path`` and check the API version; raise KvmError as QEMU reports it."""
        try:
            self._fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except OSError as err:
            raise KvmError(f"Could not access KVM kernel module: {os.strerror(err.errno or 0)}") from err
        try:
            self._check_api_version()
        except BaseException:
            self.close()
            raise

    def _check_api_version(self) -> None:
        version = self.get_api_version()
        if version < KVM_API_VERSION:
            raise KvmError(VERSION_TOO_OLD) from _einval()
        if version > KVM_API_VERSION:
            raise KvmError(VERSION_NOT_SUPPORTED) from _einval()


    def get_api_version(self) -> int:
        """KVM_GET_API_VERSION; QEMU calls a failure a too old version."""
        return kvm_ioctl(self._fd, Ioctl.GET_API_VERSION, 0, VERSION_TOO_OLD)

    def check_extension(self, cap: int) -> int:
        """KVM_CHECK_EXTENSION: 0 if ``cap`` (a :class:`Cap`) is missing, else >0 (often a limit)."""
        return kvm_ioctl(self._fd, Ioctl.CHECK_EXTENSION, cap)

    def get_vcpu_mmap_size(self) -> int:
        """KVM_GET_VCPU_MMAP_SIZE: bytes to map from each vCPU fd (kvm_run and its data)."""
        return kvm_ioctl(
            self._fd,
            Ioctl.GET_VCPU_MMAP_SIZE,
            0,
            "kvm_init_vcpu: KVM_GET_VCPU_MMAP_SIZE failed: {strerror}",
        )

    def get_supported_cpuid(
        self, max_entries: int = KVM_MAX_CPUID_ENTRIES
    ) -> list[kvm_cpuid_entry2]:
        """KVM_GET_SUPPORTED_CPUID with room for ``max_entries`` leaves.

        The kernel fails with E2BIG when they do not fit.
        """
        buf = with_entries(kvm_cpuid2, kvm_cpuid_entry2, max_entries)
        buf.nent = max_entries
        kvm_ioctl(self._fd, Ioctl.GET_SUPPORTED_CPUID, buf)
        return [kvm_cpuid_entry2.from_buffer_copy(e) for e in buf.entries[: buf.nent]]  # type: ignore[attr-defined]

    def create_vm(self, vm_type: int = 0) -> KvmVm:
        """KVM_CREATE_VM; the new :class:`KvmVm` owns the VM fd."""
        mmap_size = self.get_vcpu_mmap_size()
        fd = kvm_ioctl(
            self._fd, Ioctl.CREATE_VM, vm_type, "ioctl(KVM_CREATE_VM) failed: {errno} {strerror}"
        )
        return KvmVm(fd, mmap_size)


