"""A KVM virtual CPU: its registers, and running it until the next exit.

Last of the owning classes ``Kvm -> KvmVm -> KvmVcpu``; made by
``KvmVm.create_vcpu()``.  It owns the vCPU fd and the shared ``kvm_run``
mapping.  Each method makes one ioctl on the vCPU fd, except the two
``complete_*`` methods, which only write the answer to an exit into kvm_run.

Kicking a vCPU out of the guest, as QEMU does: another thread sets
:attr:`KvmVcpu.immediate_exit` and sends the vCPU thread a signal that has a
handler (installed by the main thread with ``signal.signal``); :meth:`run`
then returns :class:`Interrupted`.  The kicker's owner clears
``immediate_exit`` before running the vCPU again.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
from collections.abc import Mapping, Sequence
from typing import TypeVar

from pyqemu.accel.kvm.exits import (
    Exit,
    Interrupted,
    IoIn,
    decode_exit,
    write_io_in,
    write_mmio_read,
)
from pyqemu.accel.kvm.fd_owner import FdOwner
from pyqemu.accel.kvm.ioctls import Ioctl, kvm_error, kvm_ioctl
from pyqemu.accel.kvm.structs import (
    cpuid2_of,
    kvm_cpuid_entry2,
    kvm_fpu,
    kvm_lapic_state,
    kvm_mp_state,
    kvm_msrs,
    kvm_regs,
    kvm_run,
    kvm_sregs,
    msrs_of,
)
from pyqemu.util.errors import KvmError

_RETRY_ERRNOS = frozenset({errno.EINTR, errno.EAGAIN})
"""KVM_RUN failures that only mean "returned early": QEMU re-enters the loop."""

_State = TypeVar("_State", kvm_regs, kvm_sregs, kvm_fpu, kvm_lapic_state, kvm_mp_state)


class KvmVcpu(FdOwner):
    """An open vCPU fd with its kvm_run page mapped."""

    def __init__(self, fd: int, vcpu_id: int, mmap_size: int) -> None:
        """Take ownership of vCPU ``fd`` and map its ``mmap_size``-byte kvm_run area."""
        self._fd = fd
        self._id = vcpu_id
        try:
            self._mmap = mmap.mmap(fd, mmap_size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        except OSError as err:
            os.close(fd)
            self._fd = -1
            raise KvmError(
                f"kvm_init_vcpu: mmap'ing vcpu state failed ({vcpu_id}): "
                f"{os.strerror(err.errno or 0)}"
            ) from err
        self._run: kvm_run | None = kvm_run.from_buffer(self._mmap)

    @property
    def id(self) -> int:
        """The vCPU id given to KVM_CREATE_VCPU (the APIC id on x86)."""
        return self._id


    def _page(self) -> kvm_run:
        if self._run is None:
            raise KvmError(f"vCPU {self._id} is closed")
        return self._run

    @property
    def immediate_exit(self) -> bool:
        """When set, KVM_RUN returns at once (or the running one at the next signal)."""
        return bool(self._page().immediate_exit)

    @immediate_exit.setter
    def immediate_exit(self, value: bool) -> None:
        self._page().immediate_exit = int(value)

    def _get(self, request: Ioctl, state: _State) -> _State:
        kvm_ioctl(self._fd, request, state)
        return state

    def get_regs(self) -> kvm_regs:
        """KVM_GET_REGS: the general-purpose registers, RIP and RFLAGS."""
        return self._get(Ioctl.GET_REGS, kvm_regs())

    def set_regs(self, regs: kvm_regs) -> None:
        """KVM_SET_REGS."""
        kvm_ioctl(self._fd, Ioctl.SET_REGS, regs)

    def get_sregs(self) -> kvm_sregs:
        """KVM_GET_SREGS: segment, descriptor-table and control registers, EFER."""
        return self._get(Ioctl.GET_SREGS, kvm_sregs())

    def set_sregs(self, sregs: kvm_sregs) -> None:
        """KVM_SET_SREGS."""
        kvm_ioctl(self._fd, Ioctl.SET_SREGS, sregs)

    def get_fpu(self) -> kvm_fpu:
        """KVM_GET_FPU: x87 and SSE state."""
        return self._get(Ioctl.GET_FPU, kvm_fpu())

    def set_fpu(self, fpu: kvm_fpu) -> None:
        """KVM_SET_FPU."""
        kvm_ioctl(self._fd, Ioctl.SET_FPU, fpu)

    def get_lapic(self) -> kvm_lapic_state:
        """KVM_GET_LAPIC: the in-kernel local APIC's registers (needs an irqchip)."""
        return self._get(Ioctl.GET_LAPIC, kvm_lapic_state())

    def set_lapic(self, lapic: kvm_lapic_state) -> None:
        """KVM_SET_LAPIC."""
        kvm_ioctl(self._fd, Ioctl.SET_LAPIC, lapic)

    def set_cpuid2(self, entries: Sequence[kvm_cpuid_entry2]) -> None:
        """KVM_SET_CPUID2: the CPUID leaves the guest sees."""
        kvm_ioctl(self._fd, Ioctl.SET_CPUID2, cpuid2_of(entries))

    def get_msrs(self, indices: Sequence[int]) -> dict[int, int]:
        """KVM_GET_MSRS: the values of the MSRs ``indices``; all must be readable."""
        buf = msrs_of([(index, 0) for index in indices])
        done = kvm_ioctl(self._fd, Ioctl.GET_MSRS, buf)
        _check_all_msrs(buf, done, "error: failed to get MSR {index:#x}")
        return {e.index: e.data for e in buf.entries[: buf.nmsrs]}  # type: ignore[attr-defined]

    def set_msrs(self, values: Mapping[int, int]) -> None:
        """KVM_SET_MSRS: write ``{index: value}``; all must be writable."""
        buf = msrs_of(list(values.items()))
        done = kvm_ioctl(self._fd, Ioctl.SET_MSRS, buf)
        _check_all_msrs(buf, done, "error: failed to set MSR {index:#x} to {data:#x}")

    def get_mp_state(self) -> int:
        """KVM_GET_MP_STATE: an :class:`MpState` value."""
        return self._get(Ioctl.GET_MP_STATE, kvm_mp_state()).mp_state  # type: ignore[no-any-return]

    def set_mp_state(self, state: int) -> None:
        """KVM_SET_MP_STATE."""
        kvm_ioctl(self._fd, Ioctl.SET_MP_STATE, kvm_mp_state(state))

    def run(self) -> Exit:
        """KVM_RUN until the next exit, with the GIL released; the exit, decoded.

        A signal or ``immediate_exit`` gives :class:`Interrupted`.  Answer an
        IoIn / MmioRead with :meth:`complete_io_in` / :meth:`complete_mmio_read`
        before calling again.
        """
        page = self._page()
        try:
            # An int argument makes fcntl release the GIL; errors stay OSError
            # here because EINTR is an expected outcome, not a failure.
            fcntl.ioctl(self._fd, Ioctl.RUN, 0)
        except OSError as err:
            if err.errno in _RETRY_ERRNOS:
                return Interrupted()
            raise kvm_error(err, Ioctl.RUN, "error: kvm run failed {strerror}") from err
        return decode_exit(page, self._mmap)

    def complete_io_in(self, exit_: IoIn, data: bytes) -> None:
        """Give the guest the ``data`` its IN instruction reads (``size * count`` bytes)."""
        self._page()
        write_io_in(self._mmap, exit_, data)

    def complete_mmio_read(self, data: bytes) -> None:
        """Give the guest the ``data`` its pending MMIO read returns."""
        write_mmio_read(self._page(), data)

    def close(self) -> None:
        """Unmap kvm_run and close the vCPU fd; harmless when already closed."""
        if self._run is not None:
            self._run = None  # drop the view first: an exported mmap cannot close
            self._mmap.close()
        super().close()



def _check_all_msrs(buf: kvm_msrs, done: int, message: str) -> None:
    """KVM_{GET,SET}_MSRS stop at the first MSR they cannot access; report it as QEMU does."""
    if done < buf.nmsrs:
        entry = buf.entries[done]  # type: ignore[attr-defined]
        raise KvmError(message.format(index=entry.index, data=entry.data))
