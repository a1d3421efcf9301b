"""A KVM virtual machine: guest memory slots, in-kernel devices, vCPU creation.

Second of the owning classes ``Kvm -> KvmVm -> KvmVcpu``; made by
``Kvm.create_vm()``.  Each method makes one ioctl on the VM fd.
"""

from __future__ import annotations

import ctypes
import mmap

from pyqemu.accel.kvm.fd_owner import FdOwner
from pyqemu.accel.kvm.ioctls import Ioctl, kvm_ioctl
from pyqemu.accel.kvm.structs import kvm_irq_level, kvm_pit_config, kvm_userspace_memory_region
from pyqemu.accel.kvm.vcpu import KvmVcpu


def host_address(buf: mmap.mmap | bytearray) -> int:
    """The host virtual address of a writable buffer, for ``userspace_addr``.

    The address stays valid while ``buf`` is open; an mmap never moves.
    """
    anchor = ctypes.c_char.from_buffer(buf)
    try:
        return ctypes.addressof(anchor)
    finally:
        del anchor  # release the buffer export so that buf can be closed


class KvmVm(FdOwner):
    """An open VM fd; owns it and closes it."""

    def __init__(self, fd: int, vcpu_mmap_size: int) -> None:
        """Take ownership of VM ``fd``; vCPUs will map ``vcpu_mmap_size`` bytes each."""
        self._fd = fd
        self._vcpu_mmap_size = vcpu_mmap_size


    def check_extension(self, cap: int) -> int:
        """KVM_CHECK_EXTENSION on the VM: the answer for this VM (0 if missing)."""
        return kvm_ioctl(self._fd, Ioctl.CHECK_EXTENSION, cap)

    def set_user_memory_region(
        self, slot: int, guest_phys: int, size: int, host_addr: int, flags: int = 0
    ) -> None:
        """KVM_SET_USER_MEMORY_REGION: back ``size`` bytes at ``guest_phys`` with host memory.

        ``size`` 0 deletes the slot; ``flags`` are KVM_MEM_* bits.
        """
        region = kvm_userspace_memory_region(slot, flags, guest_phys, size, host_addr)
        kvm_ioctl(
            self._fd,
            Ioctl.SET_USER_MEMORY_REGION,
            region,
            f"kvm_set_user_memory_region: KVM_SET_USER_MEMORY_REGION failed, slot={slot},"
            f" start={guest_phys:#x}, size={size:#x}: {{strerror}}",
        )

    def create_irqchip(self) -> None:
        """KVM_CREATE_IRQCHIP: in-kernel PIC, IOAPIC and local APICs."""
        kvm_ioctl(self._fd, Ioctl.CREATE_IRQCHIP, 0, "Create kernel irqchip failed: {strerror}")

    def create_pit2(self, flags: int = 0) -> None:
        """KVM_CREATE_PIT2: in-kernel i8254 (``flags``: KVM_PIT_SPEAKER_DUMMY)."""
        # QEMU's message says "PIC" for the PIT; it is reproduced as printed.
        kvm_ioctl(
            self._fd,
            Ioctl.CREATE_PIT2,
            kvm_pit_config(flags),
            "Create kernel PIC irqchip failed: {strerror}",
        )

    def set_tss_addr(self, addr: int) -> None:
        """KVM_SET_TSS_ADDR: three pages of guest memory below 4 GiB for Intel's real mode."""
        kvm_ioctl(self._fd, Ioctl.SET_TSS_ADDR, addr)

    def set_identity_map_addr(self, addr: int) -> None:
        """KVM_SET_IDENTITY_MAP_ADDR: one guest page for EPT's real-mode identity map."""
        kvm_ioctl(self._fd, Ioctl.SET_IDENTITY_MAP_ADDR, ctypes.c_uint64(addr))

    def irq_line(self, irq: int, level: int) -> None:
        """KVM_IRQ_LINE: drive in-kernel irqchip input ``irq`` (a GSI) to ``level``."""
        arg = kvm_irq_level(level=int(level))
        arg.irq = irq
        kvm_ioctl(self._fd, Ioctl.IRQ_LINE, arg, "kvm_set_irq: {strerror}")

    def create_vcpu(self, vcpu_id: int) -> KvmVcpu:
        """KVM_CREATE_VCPU; the new :class:`KvmVcpu` owns its fd and kvm_run mapping."""
        fd = kvm_ioctl(
            self._fd,
            Ioctl.CREATE_VCPU,
            vcpu_id,
            f"kvm_init_vcpu: kvm_get_vcpu failed ({vcpu_id}): {{strerror}}",
        )
        return KvmVcpu(fd, vcpu_id, self._vcpu_mmap_size)


