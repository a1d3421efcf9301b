"""The chipsets' PAM and SMRAM registers switch the memory map as in QEMU 7.2 (``info mtree`` lines)."""

from __future__ import annotations

import pytest

from pyqemu.memory.mtree import mtree_info

from .conftest import board, pci_config_read, pci_config_write

#: (board, PAM0 offset, SMRAM offset) of the host bridge function at 00.0.
CHIPSETS = [("pc", 0x59, 0x72), ("q35", 0x90, 0x9D)]


def _memory_lines(vm) -> list[str]:  # type: ignore[no-untyped-def]
    text = mtree_info(vm.machine.memory_system)
    section = text.split("address-space: memory\n", 1)[1].split("\n\n", 1)[0]
    return section.splitlines()


def _bios_shadow(vm) -> list[str]:  # type: ignore[no-untyped-def]
    return [line.strip() for line in _memory_lines(vm) if "0f0000-" in line and "pam" in line]


@pytest.mark.parametrize(("machine", "pam0", "_smram"), CHIPSETS)
def test_pam_segments_start_on_pci(machine: str, pam0: int, _smram: int) -> None:
    with board(machine) as vm:
        lines = [line for line in _memory_lines(vm) if "pam" in line]
        owner = vm.machine.child("i440fx") if machine == "pc" else vm.machine.child("q35").child("mch")
        names = {p.name for p in owner.iter_properties() if p.name.startswith("pam-")}
    assert len(lines) == 13
    assert all("alias pam-pci @pci" in line for line in lines)
    assert lines[0].strip() == ("00000000000c0000-00000000000c3fff (prio 1, i/o): "
                                "alias pam-pci @pci 00000000000c0000-00000000000c3fff")
    assert names == {f"pam-pci[{i}]" for i in range(26)} | {f"pam-ram[{i}]" for i in range(13)} \
        | {f"pam-rom[{i}]" for i in range(13)}


@pytest.mark.parametrize(("machine", "pam0", "_smram"), CHIPSETS)
@pytest.mark.parametrize(("value", "expected"), [
    (0x30, "(prio 1, ram): alias pam-ram @pc.ram 00000000000f0000-00000000000fffff"),
    (0x10, "(prio 1, ram): alias pam-rom @pc.ram 00000000000f0000-00000000000fffff"),
    (0x20, "(prio 1, ram): alias pam-pci @pc.ram 00000000000f0000-00000000000fffff"),
    (0x00, "(prio 1, i/o): alias pam-pci @pci 00000000000f0000-00000000000fffff"),
])
def test_pam0_high_nibble_switches_the_bios_segment(machine: str, pam0: int, _smram: int, value: int,
                                                    expected: str) -> None:
    with board(machine) as vm:
        pci_config_write(vm, 0, pam0, value, 1)
        assert _bios_shadow(vm) == [f"00000000000f0000-00000000000fffff {expected}"]


def test_shadowed_bios_segment_is_writable_ram() -> None:
    with board("pc") as vm:
        memory = vm.machine.memory_system.address_space_memory  # type: ignore[union-attr]
        memory.write(0xF0000, 0x1234, 2)
        assert memory.read(0xF0000, 2) != 0x1234  # PCI: the BIOS ROM copy
        pci_config_write(vm, 0, 0x59, 0x30, 1)
        memory.write(0xF0000, 0x1234, 2)
        assert memory.read(0xF0000, 2) == 0x1234
        pci_config_write(vm, 0, 0x59, 0x10, 1)  # read-only for vCPUs; address-space writes land, as in QEMU
        memory.write(0xF0000, 0x5678, 2)
        assert memory.read(0xF0000, 2) == 0x5678
        assert memory.lookup(0xF0000).readonly  # type: ignore[union-attr]


@pytest.mark.parametrize(("machine", "_pam0", "smram"), CHIPSETS)
def test_smram_open_shows_ram_at_0xa0000(machine: str, _pam0: int, smram: int) -> None:
    region = "alias smram-region @pci 00000000000a0000-00000000000bffff"
    with board(machine) as vm:
        assert pci_config_read(vm, 0, smram, 1) == 0x02
        assert any(region in line for line in _memory_lines(vm))
        pci_config_write(vm, 0, smram, 0x4A, 1)  # D_OPEN | G_SMRAME | C_BASE_SEG
        assert not any(region in line for line in _memory_lines(vm))
        assert vm.machine.property_get("smram") == (  # type: ignore[union-attr]
            "/machine/unattached/device[2]/smram[0]" if machine == "pc" else "/machine/q35/mch/smram[0]")


def test_q35_tseg_and_lock() -> None:
    with board("q35") as vm:
        pci_config_write(vm, 0, 0x9E, 0x39, 1)  # H_SMRAME off, 1 MiB TSEG, T_EN
        pci_config_write(vm, 0, 0x9D, 0x1A, 1)  # D_LCK | G_SMRAME
        lines = _memory_lines(vm)
        assert "    0000000007f00000-0000000007ffffff (prio 1, i/o): tseg-blackhole" in lines
        pci_config_write(vm, 0, 0x9D, 0x4A, 1)  # locked: only D_CLS stays writable
        assert pci_config_read(vm, 0, 0x9D, 1) == 0x1A
        memory = vm.machine.memory_system.address_space_memory  # type: ignore[union-attr]
        assert memory.read(0x7F00000, 4) == 0xFFFFFFFF


def test_q35_extended_tseg_query() -> None:
    with board("q35") as vm:
        assert pci_config_read(vm, 0, 0x50, 2) == 16
        pci_config_write(vm, 0, 0x50, 0xFFFF, 2)
        assert pci_config_read(vm, 0, 0x50, 2) == 16
    with board("pc-q35-2.9") as vm:
        assert pci_config_read(vm, 0, 0x50, 2) == 0


def test_q35_smbase_negotiation() -> None:
    with board("q35") as vm:
        pci_config_write(vm, 0, 0x9C, 0x02, 1)  # before negotiation the write is dropped
        assert pci_config_read(vm, 0, 0x9C, 1) == 0
        pci_config_write(vm, 0, 0x9C, 0xFF, 1)
        assert pci_config_read(vm, 0, 0x9C, 1) == 0x01
        pci_config_write(vm, 0, 0x9C, 0x02, 1)
        assert pci_config_read(vm, 0, 0x9C, 1) == 0x02
        lines = _memory_lines(vm)
        assert "    0000000000030000-000000000003ffff (prio 1, i/o): smbase-blackhole" in lines
