"""A guest powering off through ACPI on each board: QEMU 7.2 ends with SHUTDOWN (guest, guest-shutdown).

The boards are built by the real start-up sequence (``-nodefaults -S``,
qtest accelerator); the guest's register writes go through the machine's
I/O space or memory as a vCPU's would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from pyqemu.system.emulator import Emulator

GUEST_SHUTDOWN = ("SHUTDOWN", {"guest": True, "reason": "guest-shutdown"})


@contextmanager
def running(machine: str) -> Iterator[tuple[Emulator, list[tuple[str, Any]]]]:
    vm = Emulator(["-M", machine, "-accel", "qtest", "-nodefaults", "-S"])
    events: list[tuple[str, Any]] = []
    vm.event_listeners.append(lambda name, data: events.append((name, data)))
    try:
        vm.sequence.start()
        yield vm, events
    finally:
        vm.cleanup.close()


def _config_write(io: Any, devfn: int, offset: int, value: int, size: int) -> None:
    io.write(0xCF8, 0x80000000 | devfn << 8 | (offset & 0xFC), 4)
    io.write(0xCFC + (offset & 3), value, size)


def _pc(io: Any) -> None:
    _config_write(io, 0x0B, 0x40, 0x601, 4)  # PIIX4_PM: PMBA, then PMIOSE
    _config_write(io, 0x0B, 0x80, 0x01, 1)
    io.write(0x604, 0x2000, 2)  # PM1a_CNT: SLP_TYP 0 (S5), SLP_EN


def _q35(io: Any) -> None:
    _config_write(io, 0xF8, 0x40, 0x600, 4)  # ICH9-LPC: PMBASE, then ACPI_EN
    _config_write(io, 0xF8, 0x44, 0x80, 1)
    io.write(0x604, 0x2000, 2)


@pytest.mark.parametrize(("machine", "poweroff"), [("pc", _pc), ("q35", _q35)])
def test_s5_is_a_guest_shutdown(machine: str, poweroff: Callable[[Any], None]) -> None:
    with running(machine) as (vm, events):
        assert vm.machine is not None
        poweroff(vm.machine.memory_system.address_space_io)
        vm.handle_requests()
    assert GUEST_SHUTDOWN in events


def test_microvm_ged_sleep_register_is_a_guest_shutdown() -> None:
    with running("microvm") as (vm, events):
        assert vm.machine is not None
        vm.machine.memory_system.address_space_memory.write(0xFEA00200, 0x34, 1)  # SLP_EN | S5 << 2
        vm.handle_requests()
    assert GUEST_SHUTDOWN in events
