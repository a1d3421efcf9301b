"""Smoke test of the KVM layer on a real /dev/kvm: a few real-mode instructions.

One 64 KiB RAM slot at guest address 0 backed by an anonymous mmap; code at
0x1000; CS base and selector 0.  Everything above 64 KiB is unmapped, so
accesses there exit to us as MMIO.  Works on nested, emulated KVM too.
"""

from __future__ import annotations

import mmap
import signal
import threading
from collections.abc import Iterator

import pytest

from pyqemu.accel.kvm.constants import KVM_API_VERSION, KVM_PIT_SPEAKER_DUMMY, Cap, MpState
from pyqemu.accel.kvm.exits import Exit, Hlt, Interrupted, IoIn, IoOut, MmioRead, MmioWrite
from pyqemu.accel.kvm.system import Kvm
from pyqemu.accel.kvm.vcpu import KvmVcpu
from pyqemu.accel.kvm.vm import KvmVm, host_address
from pyqemu.util.errors import KvmError

RAM_SIZE = 0x10000
CODE_ADDR = 0x1000
TSS_ADDR = 0xFFFBD000
COM1 = 0x3F8
UNMAPPED_SEGMENT = 0x2000  # segment 0x2000 starts at 0x20000, beyond RAM
MAX_EXITS = 20
APIC_VERSION_REG = 0x30
KVM_APIC_VERSION = 0x14  # the integrated-APIC version KVM emulates

# 16-bit real-mode encodings
MOV_AL = 0xB0  # mov al, imm8
MOV_DX = 0xBA  # mov dx, imm16
OUT_DX_AL = 0xEE
IN_AL_DX = 0xEC
HLT = 0xF4
SET_DS_TO_UNMAPPED = bytes([0xB8, 0x00, 0x20, 0x8E, 0xD8])  # mov ax, 0x2000; mov ds, ax
STORE_55_AT_DS_10 = bytes([0xC6, 0x06, 0x10, 0x00, 0x55])  # mov byte [0x10], 0x55
LOAD_AL_FROM_DS_10 = bytes([0xA0, 0x10, 0x00])  # mov al, [0x10]
JMP_SELF = bytes([0xEB, 0xFE])  # jmp $
DX_COM1 = bytes([MOV_DX, COM1 & 0xFF, COM1 >> 8])


@pytest.fixture
def kvm() -> Iterator[Kvm]:
    try:
        handle = Kvm()
    except KvmError as err:
        pytest.skip(f"needs a usable /dev/kvm: {err.desc}")
    with handle:
        yield handle


@pytest.fixture
def vm(kvm: Kvm) -> Iterator[tuple[KvmVm, mmap.mmap]]:
    ram = mmap.mmap(-1, RAM_SIZE, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    with kvm.create_vm() as machine:
        machine.set_tss_addr(TSS_ADDR)
        machine.set_user_memory_region(0, 0, RAM_SIZE, host_address(ram))
        yield machine, ram
    ram.close()


def real_mode_vcpu(machine: KvmVm, ram: mmap.mmap, code: bytes) -> KvmVcpu:
    ram[CODE_ADDR : CODE_ADDR + len(code)] = code
    vcpu = machine.create_vcpu(0)
    sregs = vcpu.get_sregs()
    sregs.cs.base = 0
    sregs.cs.selector = 0
    vcpu.set_sregs(sregs)
    regs = vcpu.get_regs()
    regs.rip = CODE_ADDR
    regs.rflags = 0x2
    vcpu.set_regs(regs)
    return vcpu


def run_to_hlt(vcpu: KvmVcpu, answers: dict[type, bytes] | None = None) -> list[Exit]:
    """Run until Hlt, answering reads from ``answers`` (by exit type)."""
    answers = answers or {}
    exits: list[Exit] = []
    while len(exits) < MAX_EXITS:
        exit_ = vcpu.run()
        exits.append(exit_)
        if isinstance(exit_, IoIn):
            vcpu.complete_io_in(exit_, answers[IoIn])
        elif isinstance(exit_, MmioRead):
            vcpu.complete_mmio_read(answers[MmioRead])
        elif isinstance(exit_, Hlt):
            return exits
    pytest.fail(f"no HLT after {MAX_EXITS} exits: {exits}")


def test_kvm_handle(kvm: Kvm) -> None:
    assert kvm.get_api_version() == KVM_API_VERSION
    assert kvm.check_extension(Cap.USER_MEMORY) > 0
    assert kvm.get_vcpu_mmap_size() >= 2 * mmap.PAGESIZE  # kvm_run and the PIO page
    leaves = {entry.function for entry in kvm.get_supported_cpuid()}
    assert {0, 1, 0x80000000} <= leaves


def test_out_out_hlt(vm: tuple[KvmVm, mmap.mmap]) -> None:
    code = bytes([MOV_AL, 0x41, *DX_COM1, OUT_DX_AL, MOV_AL, 0x42, OUT_DX_AL, HLT])
    with real_mode_vcpu(*vm, code) as vcpu:
        assert run_to_hlt(vcpu) == [
            IoOut(port=COM1, size=1, count=1, data=b"A"),
            IoOut(port=COM1, size=1, count=1, data=b"B"),
            Hlt(),
        ]
        assert vcpu.get_regs().rip == CODE_ADDR + len(code)


def test_mmio_write_to_unmapped_address(vm: tuple[KvmVm, mmap.mmap]) -> None:
    code = SET_DS_TO_UNMAPPED + STORE_55_AT_DS_10 + bytes([HLT])
    with real_mode_vcpu(*vm, code) as vcpu:
        assert run_to_hlt(vcpu) == [MmioWrite(addr=0x20010, data=b"\x55"), Hlt()]


def test_reads_are_completed_with_our_answers(vm: tuple[KvmVm, mmap.mmap]) -> None:
    code = (
        SET_DS_TO_UNMAPPED
        + LOAD_AL_FROM_DS_10
        + DX_COM1
        + bytes([OUT_DX_AL, IN_AL_DX, OUT_DX_AL, HLT])
    )
    with real_mode_vcpu(*vm, code) as vcpu:
        exits = run_to_hlt(vcpu, {MmioRead: b"\x99", IoIn: b"Z"})
    assert exits[0] == MmioRead(addr=0x20010, len=1)
    assert exits[1] == IoOut(COM1, 1, 1, b"\x99")
    assert isinstance(exits[2], IoIn)
    assert (exits[2].port, exits[2].size, exits[2].count) == (COM1, 1, 1)
    assert exits[3:] == [IoOut(COM1, 1, 1, b"Z"), Hlt()]


def test_registers_round_trip(vm: tuple[KvmVm, mmap.mmap]) -> None:
    with real_mode_vcpu(*vm, bytes([HLT])) as vcpu:
        regs = vcpu.get_regs()
        regs.rax, regs.r15 = 0x1122334455667788, 0xF00D
        vcpu.set_regs(regs)
        again = vcpu.get_regs()
        assert (again.rax, again.r15, again.rip) == (0x1122334455667788, 0xF00D, CODE_ADDR)
        assert vcpu.get_sregs().cs.selector == 0
        vcpu.set_fpu(vcpu.get_fpu())
        assert vcpu.get_mp_state() == MpState.RUNNABLE


def test_in_kernel_devices(vm: tuple[KvmVm, mmap.mmap]) -> None:
    machine, ram = vm
    machine.set_identity_map_addr(TSS_ADDR - 0x1000)
    machine.create_irqchip()
    machine.create_pit2(KVM_PIT_SPEAKER_DUMMY)
    machine.irq_line(4, 1)
    machine.irq_line(4, 0)
    with real_mode_vcpu(machine, ram, bytes([HLT])) as vcpu:
        lapic = bytes(vcpu.get_lapic().regs)
        assert len(lapic) == 0x400
        assert lapic[APIC_VERSION_REG] == KVM_APIC_VERSION
        vcpu.set_lapic(vcpu.get_lapic())
        vcpu.set_mp_state(MpState.HALTED)
        assert vcpu.get_mp_state() == MpState.HALTED


def test_blocked_run_is_kicked(vm: tuple[KvmVm, mmap.mmap]) -> None:
    previous = signal.signal(signal.SIGUSR1, lambda *args: None)
    try:
        with real_mode_vcpu(*vm, JMP_SELF) as vcpu:
            exits: list[Exit] = []

            def vcpu_thread() -> None:
                while len(exits) < MAX_EXITS:
                    exits.append(vcpu.run())
                    if isinstance(exits[-1], Interrupted):
                        return

            thread = threading.Thread(target=vcpu_thread)
            thread.start()
            thread.join(0.2)  # let it enter the guest; the kick works either way
            assert thread.is_alive()
            vcpu.immediate_exit = True
            signal.pthread_kill(thread.ident, signal.SIGUSR1)  # type: ignore[arg-type]
            thread.join(10)
            assert not thread.is_alive()
            assert exits == [Interrupted()]
            assert vcpu.get_regs().rip == CODE_ADDR
    finally:
        signal.signal(signal.SIGUSR1, previous)
