"""Port lists: byte-wide port handlers mapped as QEMU's ``isa_register_portio_list`` maps them.

Old ISA models (the DMA page registers, the floppy controller) describe
their ports as a list of (offset, length) runs of one-byte registers; each
run becomes an I/O region named after the list, owned by the device, so the
device gets QOM children ``NAME[0]``, ``NAME[1]`` … in list order.  The
handlers see the absolute port number, not an offset.

Wider accesses behave as QEMU's ``portio_ops`` make them, which the memory
core's generic splitting would not: a 16-bit access is two byte accesses
(the high byte reads as 0xff, and is not written, past the end of the run);
a 32-bit access does nothing and reads as all ones.  A list may also have
wide registers of their own at some offsets (the IDE data port):
an access of exactly that size there goes to them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from pyqemu.hw.isa.isa_bus import IsaDevice, isa_address_space_io, isa_init_ioport
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegion, MemoryRegionOps, size_mask

#: ``read(port) -> byte`` and ``write(port, byte)``.
PortRead = Callable[[int], int]
PortWrite = Callable[[int, int], None]
#: One run of byte registers: (offset from the list's base, number of ports).
PortRun = tuple[int, int]
#: A wider register: ``read() -> value`` and ``write(value)``, keyed by (offset, access size).
WidePort = tuple[Callable[[], int], Callable[[int], None]]

BYTE = 0xFF
WORD = 2
ANY_SIZE = AccessSizes(1, 4, unaligned=True)


def _merge(runs: Sequence[PortRun]) -> list[PortRun]:
    """Join runs that touch, as QEMU makes one region of contiguous list entries."""
    merged: list[PortRun] = []
    for offset, length in sorted(runs):
        if merged and merged[-1][0] + merged[-1][1] == offset:
            merged[-1] = (merged[-1][0], merged[-1][1] + length)
        else:
            merged.append((offset, length))
    return merged


def portio_ops(first_port: int, length: int, read: PortRead, write: PortWrite,
               wide: Mapping[tuple[int, int], WidePort] | None = None) -> MemoryRegionOps:
    """The ops of one run of ``length`` byte registers starting at ``first_port``, plus ``wide`` ones."""
    wide = wide or {}

    def read_access(offset: int, size: int) -> int:
        port = first_port + offset
        if (offset, size) in wide:
            return wide[offset, size][0]()
        if size == 1:
            return read(port) & BYTE
        if size != WORD:
            return size_mask(size)
        high = read(port + 1) & BYTE if offset + 1 < length else BYTE
        return (read(port) & BYTE) | high << 8

    def write_access(offset: int, value: int, size: int) -> None:
        port = first_port + offset
        if (offset, size) in wide:
            wide[offset, size][1](value)
        elif size == 1:
            write(port, value & BYTE)
        elif size == WORD:
            write(port, value & BYTE)
            if offset + 1 < length:
                write(port + 1, (value >> 8) & BYTE)

    return MemoryRegionOps(
        read=read_access, write=write_access, endianness=Endianness.LITTLE, valid=ANY_SIZE, impl=ANY_SIZE
    )


def isa_register_portio_list(
    dev: IsaDevice, start: int, runs: Sequence[PortRun], name: str, read: PortRead, write: PortWrite
) -> list[MemoryRegion]:
    """Map ``runs`` of byte ports from ``start`` on the device's bus; returns the regions made."""
    isa_init_ioport(dev, start)
    io = isa_address_space_io(dev)
    regions = []
    for offset, length in _merge(runs):
        region = MemoryRegion.new_io(dev, portio_ops(start + offset, length, read, write), name, length)
        io.add_subregion(start + offset, region)
        regions.append(region)
    return regions


def isa_unregister_portio_list(dev: IsaDevice, regions: Sequence[MemoryRegion]) -> None:
    """Unmap and drop regions :func:`isa_register_portio_list` made."""
    io = isa_address_space_io(dev)
    for region in regions:
        io.del_subregion(region)
        region.unparent()
