"""How the KVM classes fail, without /dev/kvm: QEMU's messages, errno kept, fds closed.

The open and API-version messages are compared with QEMU 7.2 itself where it
can be run with /dev/kvm hidden (root, unshare, qemu-system-x86_64).
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator

import pytest

from pyqemu.accel.kvm.ioctls import Ioctl, kvm_ioctl
from pyqemu.accel.kvm.structs import kvm_regs
from pyqemu.accel.kvm.system import Kvm
from pyqemu.accel.kvm.vcpu import KvmVcpu
from pyqemu.accel.kvm.vm import KvmVm, host_address
from pyqemu.util.errors import KvmError

QEMU = "qemu-system-x86_64"
ENOTTY_TEXT = "Inappropriate ioctl for device"


def _cause_errno(err: KvmError) -> int | None:
    assert isinstance(err.__cause__, OSError)
    return err.__cause__.errno


def _desc_of(call: Callable[[], object]) -> str:
    with pytest.raises(KvmError) as info:
        call()
    return info.value.desc


def test_missing_device() -> None:
    with pytest.raises(KvmError) as info:
        Kvm("/nonexistent/kvm")
    assert info.value.desc == "Could not access KVM kernel module: No such file or directory"
    assert _cause_errno(info.value) == errno.ENOENT


def test_not_a_kvm_device_is_too_old() -> None:
    with pytest.raises(KvmError) as info:
        Kvm("/dev/null")
    assert info.value.desc == "kvm version too old"
    assert _cause_errno(info.value) == errno.ENOTTY


@pytest.fixture
def opened_fds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Record the fds Kvm opens (on /dev/null, with a faked API version)."""
    fds: list[int] = []
    real_open = os.open

    def recording_open(path: str, flags: int) -> int:
        fds.append(real_open(os.devnull, flags))
        return fds[-1]

    monkeypatch.setattr(os, "open", recording_open)
    yield fds


@pytest.mark.parametrize(
    ("version", "desc"), [(11, "kvm version too old"), (13, "kvm version not supported")]
)
def test_wrong_api_version(
    monkeypatch: pytest.MonkeyPatch, opened_fds: list[int], version: int, desc: str
) -> None:
    monkeypatch.setattr(Kvm, "get_api_version", lambda self: version)
    with pytest.raises(KvmError) as info:
        Kvm()
    assert info.value.desc == desc
    assert _cause_errno(info.value) == errno.EINVAL
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(opened_fds[0])  # closed on the way out


def test_version_12_is_accepted_and_closed_once(
    monkeypatch: pytest.MonkeyPatch, opened_fds: list[int]
) -> None:
    monkeypatch.setattr(Kvm, "get_api_version", lambda self: 12)
    with Kvm() as kvm:
        assert kvm.fd == opened_fds[0]
    assert kvm.fd == -1
    kvm.close()
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(opened_fds[0])


def test_failed_ioctl_default_message() -> None:
    fd = os.open(os.devnull, os.O_RDWR)
    try:
        with pytest.raises(KvmError) as info:
            kvm_ioctl(fd, Ioctl.GET_REGS, kvm_regs())
        assert info.value.desc == "KVM_GET_REGS failed: Inappropriate ioctl for device"
        template = "ioctl(KVM_CREATE_VM) failed: {errno} {strerror}"
        assert _desc_of(lambda: kvm_ioctl(fd, Ioctl.CREATE_VM, 0, template)) == (
            "ioctl(KVM_CREATE_VM) failed: 25 Inappropriate ioctl for device"
        )
    finally:
        os.close(fd)


def test_vm_wrappers_use_qemu_wording() -> None:
    with KvmVm(os.open(os.devnull, os.O_RDWR), 4096) as vm:
        assert _desc_of(lambda: vm.set_user_memory_region(3, 0x100000, 0x2000, 1 << 40)) == (
            "kvm_set_user_memory_region: KVM_SET_USER_MEMORY_REGION failed, slot=3,"
            f" start=0x100000, size=0x2000: {ENOTTY_TEXT}"
        )
        assert _desc_of(vm.create_irqchip) == f"Create kernel irqchip failed: {ENOTTY_TEXT}"
        assert _desc_of(vm.create_pit2) == f"Create kernel PIC irqchip failed: {ENOTTY_TEXT}"
        assert _desc_of(lambda: vm.irq_line(4, 1)) == f"kvm_set_irq: {ENOTTY_TEXT}"
        assert _desc_of(lambda: vm.set_tss_addr(0xFFFBD000)) == (
            f"KVM_SET_TSS_ADDR failed: {ENOTTY_TEXT}"
        )
        assert _desc_of(lambda: vm.create_vcpu(2)) == (
            f"kvm_init_vcpu: kvm_get_vcpu failed (2): {ENOTTY_TEXT}"
        )
    assert vm.fd == -1


def test_vcpu_mmap_failure_closes_the_fd() -> None:
    fd = os.open(os.devnull, os.O_RDWR)
    with pytest.raises(KvmError) as info:
        KvmVcpu(fd, 5, 4096)
    assert info.value.desc == "kvm_init_vcpu: mmap'ing vcpu state failed (5): No such device"
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(fd)


def test_host_address_leaves_the_buffer_closable() -> None:
    mapping = mmap.mmap(-1, 4096)
    mapping[0] = 0x5A
    addr = host_address(mapping)
    assert ctypes.c_uint8.from_address(addr).value == 0x5A
    mapping.close()


def _qemu_first_line(setup: str) -> str:
    """QEMU 7.2's first stderr line with /dev/kvm replaced by ``setup`` in a mount namespace."""
    script = f"{setup} && exec {QEMU} -accel kvm -M none -display none -nodefaults -S"
    proc = subprocess.run(
        ["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 1, proc.stderr
    return proc.stderr.splitlines()[0]


needs_qemu_and_root = pytest.mark.skipif(
    shutil.which(QEMU) is None or shutil.which("unshare") is None or os.geteuid() != 0,
    reason=f"compares with {QEMU} in a mount namespace: needs it, unshare and root",
)


@needs_qemu_and_root
def test_open_message_matches_qemu() -> None:
    expected = _qemu_first_line("mount -t tmpfs none /dev")
    with pytest.raises(KvmError) as info:
        Kvm("/nonexistent/kvm")
    assert info.value.desc == expected


@needs_qemu_and_root
def test_version_message_matches_qemu() -> None:
    expected = _qemu_first_line("mount -t tmpfs none /dev && mknod /dev/kvm c 1 3")
    with pytest.raises(KvmError) as info:
        Kvm("/dev/null")
    assert info.value.desc == expected
