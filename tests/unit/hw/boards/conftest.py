"""Boards built in-process through the real init sequence, with the qtest accelerator."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyqemu.system.emulator import Emulator

DATA = Path(__file__).parent / "data"


def build(machine: str, *extra: str) -> Emulator:
    """Start ``-M machine -nodefaults -S -accel qtest`` up to the ready phase."""
    vm = Emulator(["-M", machine, "-accel", "qtest", "-nodefaults", "-S", *extra])
    try:
        vm.sequence.start()
    except BaseException:
        vm.cleanup.close()
        raise
    return vm


@contextmanager
def board(machine: str, *extra: str) -> Iterator[Emulator]:
    """A built board, torn down afterwards."""
    vm = build(machine, *extra)
    try:
        yield vm
    finally:
        vm.cleanup.close()


def io_space(vm: Emulator):  # type: ignore[no-untyped-def]
    return vm.machine.memory_system.address_space_io  # type: ignore[union-attr]


def pci_config_read(vm: Emulator, devfn: int, offset: int, size: int = 4) -> int:
    """A guest's configuration read through 0xcf8 / 0xcfc."""
    space = io_space(vm)
    space.write(0xCF8, 0x80000000 | devfn << 8 | (offset & 0xFC), 4)
    return space.read(0xCFC + (offset & 3), size)


def pci_config_write(vm: Emulator, devfn: int, offset: int, value: int, size: int = 4) -> None:
    space = io_space(vm)
    space.write(0xCF8, 0x80000000 | devfn << 8 | (offset & 0xFC), 4)
    space.write(0xCFC + (offset & 3), value, size)
