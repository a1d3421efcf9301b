"""The KVM ABI tables against the host's <linux/kvm.h>, as gcc sees it.

A C program generated from our own tables prints every ioctl number,
constant, struct size, field offset and field size; each must equal what
Python computed.  A few well-known numbers are also checked without gcc.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyqemu.accel.kvm import constants, structs
from pyqemu.accel.kvm.constants import Cap, ExitReason, InternalErrorCode, MpState, SystemEventType
from pyqemu.accel.kvm.ioctls import _IOC, KVMIO, Ioctl, _as_c_int

KVM_HEADER = Path("/usr/include/linux/kvm.h")

STRUCTS: list[type[ctypes.Structure]] = [
    structs.kvm_userspace_memory_region,
    structs.kvm_regs,
    structs.kvm_segment,
    structs.kvm_dtable,
    structs.kvm_sregs,
    structs.kvm_fpu,
    structs.kvm_msr_entry,
    structs.kvm_msrs,
    structs.kvm_cpuid_entry2,
    structs.kvm_cpuid2,
    structs.kvm_lapic_state,
    structs.kvm_mp_state,
    structs.kvm_pit_config,
    structs.kvm_irq_level,
    structs.kvm_run,
]

PLAIN_CONSTANTS = {
    "KVM_API_VERSION": constants.KVM_API_VERSION,
    "KVM_MEM_LOG_DIRTY_PAGES": constants.KVM_MEM_LOG_DIRTY_PAGES,
    "KVM_MEM_READONLY": constants.KVM_MEM_READONLY,
    "KVM_PIT_SPEAKER_DUMMY": constants.KVM_PIT_SPEAKER_DUMMY,
    "KVM_EXIT_IO_IN": constants.KVM_EXIT_IO_IN,
    "KVM_EXIT_IO_OUT": constants.KVM_EXIT_IO_OUT,
    "KVMIO": KVMIO,
    "KVM_NR_INTERRUPTS": structs.KVM_NR_INTERRUPTS,
    "KVM_APIC_REG_SIZE": structs.KVM_APIC_REG_SIZE,
    "SYNC_REGS_SIZE_BYTES": structs.SYNC_REGS_SIZE_BYTES,
}


def _fields(struct: type, prefix: str = "", base: int = 0) -> Iterator[tuple[str, int, int]]:
    """(C member path, offset, size) of every member, inside anonymous members too."""
    anonymous = getattr(struct, "_anonymous_", ())
    for name, ctype, *_ in struct._fields_:  # type: ignore[attr-defined]
        offset = base + getattr(struct, name).offset
        nested = issubclass(ctype, ctypes.Structure | ctypes.Union)
        if name in anonymous:
            yield from _fields(ctype, prefix, offset)
            continue
        yield prefix + name, offset, ctypes.sizeof(ctype)
        if nested:
            yield from _fields(ctype, f"{prefix}{name}.", offset)


def python_values() -> dict[str, int]:
    """Every value the C program prints, as our tables compute it."""
    values = {ioctl.c_name: int(ioctl) for ioctl in Ioctl}
    for enum_type in (Cap, ExitReason, SystemEventType, InternalErrorCode, MpState):
        values.update({member.c_name: int(member) for member in enum_type})
    values.update(PLAIN_CONSTANTS)
    for struct in STRUCTS:
        name = struct.__name__
        values[f"sizeof {name}"] = ctypes.sizeof(struct)
        for path, offset, size in _fields(struct):
            values[f"offsetof {name} {path}"] = offset
            values[f"sizeof {name} {path}"] = size
    return values


def c_program(keys: list[str]) -> str:
    """A C program printing each key and its value from the kernel headers."""
    lines = ["#include <stdio.h>", "#include <stddef.h>", "#include <linux/kvm.h>", ""]
    lines.append('#define SHOW(key, v) printf("%s %llu\\n", key, (unsigned long long)(v))')
    lines.append("int main(void) {")
    for key in keys:
        words = key.split(" ")
        if words[0] == "offsetof":
            expr = f"offsetof(struct {words[1]}, {words[2]})"
        elif words[0] == "sizeof" and len(words) == 3:
            expr = f"sizeof(((struct {words[1]} *)0)->{words[2]})"
        elif words[0] == "sizeof":
            expr = f"sizeof(struct {words[1]})"
        else:
            expr = key
        lines.append(f'    SHOW("{key}", {expr});')
    lines += ["    return 0;", "}", ""]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def c_values(tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    gcc = shutil.which("gcc")
    if gcc is None or not KVM_HEADER.exists():
        pytest.skip("needs gcc and <linux/kvm.h> (apt-get install gcc linux-libc-dev)")
    work = tmp_path_factory.mktemp("kvm_abi")
    source = work / "abi.c"
    source.write_text(c_program(sorted(python_values())))
    binary = work / "abi"
    subprocess.run([gcc, "-o", str(binary), str(source)], check=True, capture_output=True)
    output = subprocess.run([str(binary)], check=True, capture_output=True, text=True).stdout
    return {key: int(value) for key, value in (line.rsplit(" ", 1) for line in output.splitlines())}


def _subset(values: dict[str, int], keep: str) -> dict[str, int]:
    return {key: value for key, value in values.items() if key.startswith(keep)}


@pytest.mark.parametrize("kind", ["KVM_", "KVMIO", "SYNC_", "sizeof kvm", "offsetof kvm"])
def test_matches_linux_header(c_values: dict[str, int], kind: str) -> None:
    ours = _subset(python_values(), kind)
    assert ours, kind
    assert ours == _subset(c_values, kind)


def test_ioctl_table_covers_distinct_numbers() -> None:
    assert len({int(i) for i in Ioctl}) == len(Ioctl) == 26


# Known values (from the kernel's documentation and strace output), checked without gcc.
KNOWN_IOCTLS = {
    Ioctl.GET_API_VERSION: 0xAE00,
    Ioctl.CREATE_VM: 0xAE01,
    Ioctl.RUN: 0xAE80,
    Ioctl.SET_USER_MEMORY_REGION: 0x4020AE46,
    Ioctl.GET_REGS: 0x8090AE81,
    Ioctl.SET_SREGS: 0x4138AE84,
    Ioctl.GET_SUPPORTED_CPUID: 0xC008AE05,
    Ioctl.SET_CPUID2: 0x4008AE90,
    Ioctl.CREATE_PIT2: 0x4040AE77,
    Ioctl.GET_LAPIC: 0x8400AE8E,
    Ioctl.GET_FPU: 0x81A0AE8C,
}


@pytest.mark.parametrize(("ioctl", "number"), KNOWN_IOCTLS.items(), ids=lambda v: str(v))
def test_known_ioctl_numbers(ioctl: Ioctl, number: int) -> None:
    assert int(ioctl) == number


def test_known_struct_sizes() -> None:
    assert ctypes.sizeof(structs.kvm_run) == 2352
    assert structs.kvm_run.io.offset == 32
    assert ctypes.sizeof(structs.kvm_sregs) == 312


def test_ioc_rejects_fields_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="does not fit in 14 bits"):
        _IOC(1, KVMIO, 0, 1 << 14)
    with pytest.raises(ValueError, match="does not fit in 8 bits"):
        _IOC(0, KVMIO, 256, 0)


def test_int_arguments_travel_as_c_int_bit_patterns() -> None:
    assert _as_c_int(0) == 0
    assert _as_c_int(0x7FFFFFFF) == 0x7FFFFFFF
    assert _as_c_int(0xFFFBD000) == 0xFFFBD000 - (1 << 32)
    assert ctypes.c_uint32(_as_c_int(0xFFFBD000)).value == 0xFFFBD000
    with pytest.raises(ValueError, match="32 bits"):
        _as_c_int(1 << 32)


def test_with_entries_extends_the_header() -> None:
    buf = structs.cpuid2_of([structs.kvm_cpuid_entry2(function=7, eax=1)] * 3)
    assert isinstance(buf, structs.kvm_cpuid2)
    assert ctypes.sizeof(buf) == 8 + 3 * 40
    assert buf.nent == 3
    assert [e.function for e in buf.entries] == [7, 7, 7]
    msrs = structs.msrs_of([(0x10, 5), (0xC0000080, 1 << 40)])
    assert ctypes.sizeof(msrs) == 8 + 2 * 16
    assert [(e.index, e.data) for e in msrs.entries] == [(0x10, 5), (0xC0000080, 1 << 40)]
