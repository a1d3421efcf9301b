"""The VMware backdoor (``vmport``) and the VMware mouse (``vmmouse``).

Properties, ``info qtree`` blocks, ``-device X,help`` text and the vmmouse
realize errors were checked against QEMU 7.2 (``-M pc -accel tcg
-nodefaults -S``; ``-device vmmouse`` → "'i8042' link is not set", with
``-M pc,vmport=off`` → "vmmouse needs a machine with vmport").  The command
results follow QEMU 7.2's ``hw/i386/vmport.c`` / ``vmmouse.c``; without a
CPU (qtest) the port reads 0xffffffff as QEMU's qtest branch returns.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pyqemu.hw.core.qdev_monitor import device_help_text
from pyqemu.hw.i386 import vmmouse as vm
from pyqemu.hw.i386.vmmouse import VmmouseCore, VmmouseState, vmmouse_init
from pyqemu.hw.i386.vmport import VMPORT_MAGIC, VmportCore, VmportState, vmport_init
from pyqemu.util.errors import ConfigError, DeviceError

from .conftest import Board
from .test_port92 import qtree_blocks

GETVERSION, GETBIOSUUID, GETRAMSIZE, GETHZ, GET_VCPU_INFO = 10, 19, 20, 45, 68
MOUSE_DATA, MOUSE_STATUS, MOUSE_COMMAND = 39, 40, 41
ALL_ONES = 0xFFFFFFFF


def regs(ecx: int, ebx: int = 0, eax: int = VMPORT_MAGIC) -> dict[str, int]:
    return {"eax": eax, "ebx": ebx, "ecx": ecx, "edx": 0x5658, "esi": 0, "edi": 0}


# -- the command table ---------------------------------------------------------------


def test_getversion() -> None:
    r = regs(GETVERSION)
    assert VmportCore().backdoor(r) == 6
    assert r == {"eax": 6, "ebx": VMPORT_MAGIC, "ecx": 2, "edx": 0x5658, "esi": 0, "edi": 0}
    r = regs(0x100 | GETVERSION)  # only ECX's low byte picks the command
    VmportCore(vmx_version=7, vmx_type=4, report_vmx_type=False).backdoor(r)
    assert (r["eax"], r["ebx"], r["ecx"]) == (7, VMPORT_MAGIC, 0x10A)


def test_getramsize() -> None:
    r = regs(GETRAMSIZE)
    assert VmportCore(ram_size=128 << 20).backdoor(r) == 0x08000000
    assert (r["eax"], r["ebx"]) == (0x08000000, 0x1177)
    assert VmportCore(ram_size=5 << 30).backdoor(regs(GETRAMSIZE)) == 0x40000000  # truncated to 32 bits


def test_bad_magic_and_unknown_commands() -> None:
    core = VmportCore()
    for r in (regs(GETVERSION, eax=0x1234), regs(0x55), regs(0xFF)):
        assert core.backdoor(r) == ALL_ONES
        assert r["eax"] == ALL_ONES
    quiet = VmportCore(signal_unsupported_cmd=False)
    r = regs(0x55)
    assert (quiet.backdoor(r), r["eax"]) == (VMPORT_MAGIC, VMPORT_MAGIC)


def test_read_set_eax_off_leaves_eax() -> None:
    r = regs(GETVERSION)
    assert VmportCore(read_set_eax=False).backdoor(r) == 6
    assert r["eax"] == VMPORT_MAGIC


def test_v2_commands() -> None:
    uuid = bytes(range(16))
    core = VmportCore(uuid=uuid)
    r = regs(GETBIOSUUID)
    assert core.backdoor(r) == 0x03020100
    assert [r[n] for n in ("eax", "ebx", "ecx", "edx")] == [0x03020100, 0x07060504, 0x0B0A0908, 0x0F0E0D0C]
    r = regs(GETHZ)
    assert core.backdoor(r) == VMPORT_MAGIC  # no TSC frequency known: EBX says unsupported
    assert r["ebx"] == ALL_ONES
    r = regs(GETHZ)
    assert VmportCore(tsc_khz=3_000_000).backdoor(r) == 0xB2D05E00
    assert (r["ebx"], r["ecx"]) == (0, 1_000_000_000)
    assert core.backdoor(regs(GET_VCPU_INFO)) == 0
    assert VmportCore(x2apic=True).backdoor(regs(GET_VCPU_INFO)) == 8
    assert VmportCore(cmds_v2=False).backdoor(regs(GETBIOSUUID)) == ALL_ONES


def test_without_a_cpu() -> None:
    core = VmportCore()
    assert core.read(None) == ALL_ONES
    core.write(None)  # nothing to do
    r = regs(GETVERSION)
    core.write(r)
    assert (r["eax"], r["ebx"]) == (6, VMPORT_MAGIC)


# -- the device ------------------------------------------------------------------------


@pytest.fixture
def vmport(board: Board) -> VmportState:
    board.machine.ram_size = 128 << 20  # type: ignore[attr-defined]
    return vmport_init(board.isa)


def test_port_with_qtest(board: Board, vmport: VmportState) -> None:
    assert (board.inb(0x5658), board.inb(0x5658, 2), board.inb(0x5658, 4)) == (0xFF, 0xFFFF, ALL_ONES)
    board.outb(0x5658, 0x12, 4)


def test_port_with_a_cpu(board: Board, vmport: VmportState) -> None:
    cpu = SimpleNamespace(regs=regs(GETRAMSIZE))
    board.machine.current_cpu = lambda: cpu  # type: ignore[attr-defined]
    assert board.inb(0x5658, 4) == 128 << 20
    assert cpu.regs["ebx"] == 0x1177
    cpu.regs = regs(GETVERSION)
    board.outb(0x5658, 0, 1)
    assert cpu.regs["eax"] == 6


def test_vmport_as_qemu(board: Board, vmport: VmportState) -> None:
    ours, qemu = qtree_blocks(board, "vmport")
    assert ours == qemu
    assert vmport.child("vmport[0]").property_get("size") == 1  # type: ignore[union-attr]
    assert not VmportState.USER_CREATABLE
    assert device_help_text("vmport") == (
        "vmport options:\n"
        "  vmware-vmx-type=<uint8> -  (default: 2)\n"
        "  vmware-vmx-version=<uint32> -  (default: 6)\n"
        "  x-cmds-v2=<bool>       - on/off (default: true)\n"
        "  x-read-set-eax=<bool>  - on/off (default: true)\n"
        "  x-report-vmx-type=<bool> - on/off (default: true)\n"
        "  x-signal-unsupported-cmd=<bool> - on/off (default: true)\n"
    )


def test_vmport_properties_reach_the_core(board: Board) -> None:
    board.create("vmport", **{"vmware-vmx-version": 9, "x-report-vmx-type": False})
    cpu = SimpleNamespace(regs=regs(GETVERSION))
    board.machine.current_cpu = lambda: cpu  # type: ignore[attr-defined]
    assert board.inb(0x5658, 4) == 9
    assert cpu.regs["ecx"] == GETVERSION


# -- vmmouse ---------------------------------------------------------------------------------


def command(core: VmmouseCore, ecx: int, ebx: int = 0) -> dict[str, int]:
    r = regs(ecx, ebx)
    core.command(r)
    return r


def test_vmmouse_protocol() -> None:
    nudges: list[int] = []
    core = VmmouseCore(lambda: nudges.append(1))
    assert command(core, MOUSE_STATUS)["eax"] == 0xFFFF0000  # disabled at power-on
    core.mouse_event(1, 2, 0, 1)
    assert core.queue == []  # no events while disabled
    command(core, MOUSE_COMMAND, vm.READ_ID)
    assert command(core, MOUSE_STATUS)["eax"] == 1
    assert command(core, MOUSE_DATA, 1)["eax"] == vm.VERSION
    command(core, MOUSE_COMMAND, vm.REQUEST_ABSOLUTE)
    core.mouse_event(0x100, 0x200, -1, 0x05)
    assert nudges == [1]
    r = command(core, MOUSE_DATA, 4)
    assert [r[n] for n in ("eax", "ebx", "ecx", "edx")] == [0x28, 0x200, 0x400, ALL_ONES]
    command(core, MOUSE_COMMAND, vm.REQUEST_RELATIVE)
    core.mouse_event(3, -2, 0, 0x02)
    assert core.queue == [0x10010, 3, 0xFFFFFFFE, 0]


def test_vmmouse_overread_disables() -> None:
    core = VmmouseCore()
    command(core, MOUSE_COMMAND, vm.READ_ID)
    r = command(core, MOUSE_DATA, 2)  # only one word queued
    assert (r["eax"], core.status, core.handler_active) == (VMPORT_MAGIC, 0xFFFF, False)
    assert command(core, MOUSE_STATUS)["eax"] == 0xFFFF0001


def test_vmmouse_reset() -> None:
    core = VmmouseCore()
    command(core, MOUSE_COMMAND, vm.READ_ID)
    core.reset()
    assert (core.queue, core.status) == ([], 0xFFFF)


def test_vmmouse_device_through_vmport(board: Board, vmport: VmportState) -> None:
    i8042 = board.create("i8042")
    mouse = vmmouse_init(board.isa, i8042)
    assert mouse.property_get("i8042") == i8042.canonical_path()
    cpu = SimpleNamespace(regs=regs(MOUSE_COMMAND, vm.READ_ID))
    board.machine.current_cpu = lambda: cpu  # type: ignore[attr-defined]
    board.inb(0x5658, 4)
    cpu.regs = regs(MOUSE_STATUS)
    assert board.inb(0x5658, 4) == 1
    ours, qemu = qtree_blocks(board, "vmmouse")
    assert ours == qemu == 'dev: vmmouse, id ""'


def test_vmmouse_errors_and_properties(board: Board) -> None:
    with pytest.raises(DeviceError) as err:
        board.create("vmmouse")
    assert err.value.desc == "'i8042' link is not set"
    i8042 = board.create("i8042")
    with pytest.raises(DeviceError) as err:
        board.create("vmmouse", i8042=i8042.canonical_path())
    assert err.value.desc == "vmmouse needs a machine with vmport"
    vmport_init(board.isa)
    mouse = board.create("vmmouse", i8042=i8042.canonical_path())
    with pytest.raises(ConfigError) as bad:
        mouse.property_get("legacy-i8042")
    assert bad.value.desc == "Property 'vmmouse.legacy-i8042' is not readable"
    assert VmmouseState.CATEGORY == "Input devices"
    assert device_help_text("vmmouse") == "vmmouse options:\n  i8042=<link<i8042>>\n"
