"""A small PCI machine for the IDE / AHCI tests: the ``board`` fixture's ISA machine plus a root PCI bus.

The host bridge answers configuration cycles at 0xcf8 / 0xcfc; memory BARs
and the functions' bus-master view are the machine's system memory, which
has 1 MiB of RAM at 0 (as QEMU's bus-master address space shows system
memory).  Reference data: QEMU 7.2's ``info qtree`` of ``pc`` and ``q35``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyqemu.hw.pci.pci_host import PCIHostState
from pyqemu.memory.region import MemoryRegion
from pyqemu.qom.object import register_type

QTREE_DATA = Path(__file__).parent.parent / "boards" / "data"
RAM_SIZE = 1 << 20


@register_type
class TestPciHost(PCIHostState):
    """A bare host bridge: configuration mechanism #1 and nothing else."""

    TYPE = "x-test-ide-pci-host"

    def realize(self) -> None:
        self.map_config_ports()


class PciBoard:
    """Wraps the ``board`` fixture's machine with a root bus (``pci.0``, or ``pcie.0`` if express)."""

    def __init__(self, board: Any, *, express: bool = False) -> None:
        from pyqemu.hw.pci_host.pcihost_init import pci_host_create

        self.board = board
        self.machine = board.machine
        memory = board.memory
        self.ram = MemoryRegion.new_ram(None, "ram", RAM_SIZE, parent=self.machine.unattached())
        memory.system_memory.add_subregion(0, self.ram)
        bus_type = "PCIE" if express else "PCI"
        self.host, self.bus = pci_host_create(self.machine, TestPciHost.TYPE, "pci-host", bus_type,
                                              memory, memory.system_memory)
        self.memory = memory.address_space_memory
        self.io = memory.address_space_io
        self.reports: list[str] = []
        board.host.report = self.reports.append

    def config_read(self, devfn: int, offset: int, size: int = 4) -> int:
        self.io.write(0xCF8, 0x80000000 | devfn << 8 | (offset & 0xFC), 4)
        return self.io.read(0xCFC + (offset & 3), size)

    def config_write(self, devfn: int, offset: int, value: int, size: int = 4) -> None:
        self.io.write(0xCF8, 0x80000000 | devfn << 8 | (offset & 0xFC), 4)
        self.io.write(0xCFC + (offset & 3), value, size)

    def config_dump(self, devfn: int) -> bytes:
        """The first 256 bytes of a function's configuration space, read as a guest does."""
        return b"".join(self.config_read(devfn, off).to_bytes(4, "little") for off in range(0, 256, 4))


def sparse(data: dict[int, int], size: int = 256) -> bytes:
    """``size`` bytes, zero except at the given offsets."""
    out = bytearray(size)
    for offset, value in data.items():
        out[offset] = value
    return bytes(out)


def reference_qtree_block(board: str, device: str) -> list[str]:
    """The lines of ``dev: DEVICE`` in QEMU 7.2's ``info qtree`` of ``board``, indentation removed."""
    lines = (QTREE_DATA / f"{board}-qtree.txt").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(f"dev: {device},"))
    indent = len(lines[start]) - len(lines[start].lstrip())
    block = [lines[start][indent:]]
    for line in lines[start + 1:]:
        if len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line[indent:])
    return block


def qtree_block(dev: Any) -> list[str]:
    from pyqemu.hw.core.qtree import qdev_print

    return qdev_print(dev, 0)
