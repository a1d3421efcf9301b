"""PCI configuration space of the boards, read and written as a guest does: through I/O ports.

Expected values are what QEMU 7.2 answers to the same port accesses
(checked with its HMP ``o`` / ``i`` commands on ``-M q35`` / ``-M pc``).
"""

from __future__ import annotations

import pytest

from .conftest import board, io_space, pci_config_read, pci_config_write

LPC_DEVFN = 31 << 3
PIIX3_DEVFN = 1 << 3


@pytest.mark.parametrize(("machine", "devfn", "ids", "class_rev"), [
    ("pc", 0, 0x12378086, 0x06000002),
    ("pc", PIIX3_DEVFN, 0x70008086, 0x06010000),
    ("q35", 0, 0x29C08086, 0x06000000),
    ("q35", LPC_DEVFN, 0x29188086, 0x06010002),
])
def test_identity_registers(machine: str, devfn: int, ids: int, class_rev: int) -> None:
    with board(machine) as vm:
        assert pci_config_read(vm, devfn, 0x00) == ids
        assert pci_config_read(vm, devfn, 0x08) == class_rev
        assert pci_config_read(vm, devfn, 0x2C) == 0x11001AF4
        assert pci_config_read(vm, devfn, 0x04, 2) == 0  # command: decoding off until firmware runs


def test_narrow_reads_of_data_port_pick_bytes_of_the_register() -> None:
    with board("q35") as vm:
        space = io_space(vm)
        space.write(0xCF8, 0x8000FA00, 4)   # ich9-ahci at 1f.2
        assert space.read(0xCFC, 4) == 0x29228086
        space.write(0xCF8, 0x8000FD00, 4)   # nothing at 1f.5
        assert space.read(0xCFC, 4) == 0xFFFFFFFF
        space.write(0xCF8, 0x8000F800, 4)
        assert space.read(0xCFE, 2) == 0x2918
        assert space.read(0xCFD, 1) == 0x80


def test_index_register_reads_back_and_ignores_narrow_writes() -> None:
    with board("pc") as vm:
        space = io_space(vm)
        space.write(0xCF8, 0x80000060, 4)
        assert space.read(0xCF8, 4) == 0x80000060
        assert space.read(0xCF8, 1) == 0x60
        assert space.read(0xCFA, 2) == 0x0060   # QEMU returns the register whatever the offset
        space.write(0xCF8, 0x12, 1)
        assert space.read(0xCF8, 4) == 0x80000060


def test_disabled_or_empty_address_reads_all_ones() -> None:
    with board("pc") as vm:
        space = io_space(vm)
        space.write(0xCF8, 0x00000000, 4)
        assert space.read(0xCFC, 4) == 0xFFFFFFFF
        assert pci_config_read(vm, 2 << 3, 0) == 0xFFFFFFFF
        assert pci_config_read(vm, 0, 0, 2) == 0x8086


def test_identity_is_read_only_and_command_is_writable() -> None:
    with board("pc") as vm:
        pci_config_write(vm, 0, 0x00, 0xFFFFFFFF)
        assert pci_config_read(vm, 0, 0x00) == 0x12378086
        pci_config_write(vm, PIIX3_DEVFN, 0x04, 0x0007, 2)
        assert pci_config_read(vm, PIIX3_DEVFN, 0x04, 2) == 0x0007


def test_multifunction_bit_of_header_type() -> None:
    with board("q35") as vm:
        assert pci_config_read(vm, LPC_DEVFN, 0x0E, 1) == 0x80
        assert pci_config_read(vm, 0, 0x0E, 1) == 0x00


def test_pciexbar_defaults_to_b0000000_and_maps_mmconfig_when_enabled() -> None:
    with board("q35") as vm:
        host = vm.machine.child("q35")  # type: ignore[union-attr]
        assert pci_config_read(vm, 0, 0x60) == 0xB0000000
        assert pci_config_read(vm, 0, 0x64) == 0
        assert host.property_get("MCFG") == 0xFFFF_FFFF_FFFF_FFFF  # QEMU 7.2 qom-get: unmapped is all ones
        memory = vm.machine.memory_system.address_space_memory  # type: ignore[union-attr]
        assert memory.read(0xB0000000, 4) != 0x29C08086
        pci_config_write(vm, 0, 0x60, 0xB0000001)
        assert host.property_get("MCFG") == 0xB0000000
        assert memory.read(0xB0000000, 4) == 0x29C08086          # bus 0, 00.0 via MMCONFIG
        assert memory.read(0xB0000000 + (LPC_DEVFN << 12), 4) == 0x29188086
        # a conventional function has no extended space, even on pcie.0 (QEMU 7.2)
        assert memory.read(0xB0000000 + (LPC_DEVFN << 12) + 0x100, 4) == 0xFFFFFFFF
        pci_config_write(vm, 0, 0x60, 0xB0000000)
        assert host.property_get("MCFG") == 0xFFFF_FFFF_FFFF_FFFF


def test_reset_control_register_asks_for_a_guest_reset() -> None:
    from pyqemu.hw.isa.piix3 import PIIX3

    with board("pc") as vm:
        resets: list[str] = []
        vm.machine.host = type("Host", (), {"guest_reset": lambda self: resets.append("reset")})()  # type: ignore[union-attr]
        piix3 = vm.machine.pci_bus.slots[PIIX3_DEVFN]  # type: ignore[union-attr]
        assert isinstance(piix3, PIIX3)
        piix3.rcr_mem.dispatch_write(0, 0x02, 1)
        assert piix3.rcr_mem.dispatch_read(0, 1)[0] == 0x02 and resets == []
        piix3.rcr_mem.dispatch_write(0, 0x06, 1)
        assert resets == ["reset"]
