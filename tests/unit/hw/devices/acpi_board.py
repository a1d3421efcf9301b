"""A small machine for the ACPI tests: ``/machine`` (``none``) with a root PCI bus and no ISA bus.

The chipset functions under test create the ISA bus themselves (ICH9-LPC).
Configuration cycles go through 0xcf8 / 0xcfc as a guest makes them; the PCI
I/O space is the machine's ``io``.  The emulator is the device tests'
:class:`FakeHost` (virtual clock stepped by hand), which also counts guest
power-offs here.  Reference data: QEMU 7.2's ``info qtree``
of ``pc``, ``q35`` and ``microvm`` (``tests/unit/hw/boards/data``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyqemu.hw.pci.pci_host import PCIHostState
from pyqemu.qom.object import register_type

QTREE_DATA = Path(__file__).parent.parent / "boards" / "data"


@register_type
class AcpiTestPciHost(PCIHostState):
    """A bare host bridge: configuration mechanism #1 and nothing else."""

    TYPE = "x-test-acpi-pci-host"

    def realize(self) -> None:
        self.map_config_ports()


class PciBoard:
    """A machine with a root bus (``pci.0``, or ``pcie.0`` if express); :meth:`close` it after use."""

    def __init__(self, *, express: bool = False, smp: int = 0, max_cpus: int = 0) -> None:
        from pyqemu.hw.core.bus import main_system_bus
        from pyqemu.hw.core.machine_smp import CpuTopology
        from pyqemu.hw.pci_host.pcihost_init import pci_host_create
        from pyqemu.qom.object import Container, object_new

        from .conftest import FakeHost

        self.root = Container()
        self.machine: Any = object_new("none-machine")
        self.root.add_child("machine", self.machine)
        self.machine.unref()
        self.host = FakeHost()
        self.machine.host = self.host
        # ``smp`` stand-in CPUs (the CPU hot-plug blocks only count them) of ``max_cpus`` possible ones.
        self.machine.cpus = [object() for _ in range(smp)]
        max_cpus = max_cpus or smp or 1
        self.machine.smp = CpuTopology(cpus=smp or 1, sockets=max_cpus, max_cpus=max_cpus)
        self.memory = memory = self.machine.memory_system
        main_system_bus(self.machine)
        bus_type = "PCIE" if express else "PCI"
        self.pci_host, self.bus = pci_host_create(
            self.machine, AcpiTestPciHost.TYPE, "pci-host", bus_type, memory, memory.system_memory
        )
        self.io = memory.address_space_io
        self.shutdowns = 0
        self.host.guest_shutdown = self._shutdown

    def _shutdown(self) -> None:
        self.shutdowns += 1

    def config_read(self, devfn: int, offset: int, size: int = 4) -> int:
        self.io.write(0xCF8, 0x80000000 | devfn << 8 | (offset & 0xFC), 4)
        return int(self.io.read(0xCFC + (offset & 3), size))

    def config_write(self, devfn: int, offset: int, value: int, size: int = 4) -> None:
        self.io.write(0xCF8, 0x80000000 | devfn << 8 | (offset & 0xFC), 4)
        self.io.write(0xCFC + (offset & 3), value, size)

    def inb(self, port: int, size: int = 1) -> int:
        return int(self.io.read(port, size))

    def outb(self, port: int, value: int, size: int = 1) -> None:
        self.io.write(port, value, size)

    def step(self, ns: int) -> None:
        self.host.step(ns)

    def now_ns(self) -> int:
        from pyqemu.util.main_loop import ClockType

        return int(self.host.main_loop.clock(ClockType.VIRTUAL).now_ns())

    def close(self) -> None:
        self.host.main_loop.close()

    def machine_done(self) -> None:
        """What start-up does after board init: init-done notifiers, then a system reset."""
        from pyqemu.hw.core.reset import reset_machine

        for notifier in list(self.machine.init_done_notifiers):
            notifier()
        reset_machine(self.machine)


def reference_qtree_block(board: str, device: str) -> list[str]:
    """The lines of the first ``dev: DEVICE`` in QEMU 7.2's ``info qtree`` of ``board``, dedented."""
    lines = (QTREE_DATA / f"{board}-qtree.txt").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(f"dev: {device},"))
    indent = len(lines[start]) - len(lines[start].lstrip())
    block = [lines[start][indent:]]
    for line in lines[start + 1:]:
        if len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line[indent:])
    return block
