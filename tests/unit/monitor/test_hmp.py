"""The human monitor's info commands, as QEMU prints them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pyqemu.monitor.hmp import run_hmp
from pyqemu.system.emulator import Emulator


@pytest.fixture
def vm() -> Iterator[Emulator]:
    emulator = Emulator(["-M", "none", "-accel", "qtest", "-nodefaults", "-S", "-name", "guest0",
                         "-uuid", "12345678-1234-1234-1234-123456789ABC"])
    emulator.sequence.start()
    yield emulator
    emulator.cleanup.close()


def test_info_status_follows_the_run_state(vm: Emulator) -> None:
    assert run_hmp(vm, "info status") == "VM status: paused (prelaunch)\n"
    vm.vm_start()
    assert run_hmp(vm, "info status") == "VM status: running\n"
    vm.stop()
    assert run_hmp(vm, "info status") == "VM status: paused\n"


def test_info_identity(vm: Emulator) -> None:
    assert run_hmp(vm, "info version") == "7.2.0 (pyqemu 0.1.0)\n"
    assert run_hmp(vm, "info kvm") == "kvm support: disabled\n"
    assert run_hmp(vm, "info name") == "guest0\n"
    assert run_hmp(vm, "info uuid") == "12345678-1234-1234-1234-123456789abc\n"


def test_info_qom_tree_is_sorted_and_indented(vm: Emulator) -> None:
    lines = run_hmp(vm, "info qom-tree").splitlines()
    assert lines[0] == "/machine (none-machine)"
    assert lines[1:4] == [
        "  /peripheral (container)", "  /peripheral-anon (container)", "  /unattached (container)",
    ]


def test_unknown_commands(vm: Emulator) -> None:
    assert run_hmp(vm, "info nope") == "unknown command: 'info nope'\n"
    assert run_hmp(vm, "nope") == "unknown command: 'nope'\n"
    assert run_hmp(vm, "") == ""
