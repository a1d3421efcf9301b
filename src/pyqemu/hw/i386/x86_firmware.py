"""The x86 boards' firmware ROM: ``pc.bios`` ending at 4 GiB and its copy below 1 MiB (``x86_bios_rom_init``).

The image (SeaBIOS for the PCs, qboot for microvm) must be a whole number
of 64 KiB blocks.  It is mapped so that it ends at 4 GiB, where the CPU
starts, and its last 128 KiB (or all of it, if smaller) also end at 1 MiB as
``isa-bios``, where real-mode code expects the BIOS.  The PCs map both into
the ``pci`` window as ROM; microvm (``ram_fw``) maps them into system memory
as RAM, as QEMU does for boards without PCI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.util.errors import BareError
from pyqemu.util.units import GiB, KiB

if TYPE_CHECKING:
    from pyqemu.hw.core.machine import MachineState
    from pyqemu.memory.region import MemoryRegion

BIOS_BLOCK = 64 * KiB
ISA_BIOS_MAX_SIZE = 128 * KiB
ISA_BIOS_END = 1 << 20
BIOS_END = 4 * GiB


def load_bios_image(name: str) -> bytes:
    """The firmware image's bytes; QEMU's fatal error when it is missing or not 64 KiB blocks."""
    from pyqemu.hw.core.loader import find_firmware

    path = find_firmware(name)
    data = b""
    if path is not None:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            data = b""
    if not data or len(data) % BIOS_BLOCK:
        raise BareError(f"qemu: could not load PC BIOS '{name}'")
    return data


def x86_bios_rom_init(
    machine: MachineState, name: str, rom_memory: MemoryRegion, *, ram_fw: bool
) -> MemoryRegion:
    """Map firmware ``name`` as ``pc.bios`` below 4 GiB and ``isa-bios`` below 1 MiB; returns ``pc.bios``."""
    from pyqemu.memory.region import MemoryRegion

    data = load_bios_image(name)
    size = len(data)
    parent = machine.unattached()
    if ram_fw:
        bios = MemoryRegion.new_ram(None, "pc.bios", size, parent=parent)
    else:
        bios = MemoryRegion.new_rom(None, "pc.bios", size, parent=parent)
    bios.ram_view(0, size)[:] = data
    isa_size = min(size, ISA_BIOS_MAX_SIZE)
    isa_bios = MemoryRegion.new_alias(None, "isa-bios", bios, size - isa_size, isa_size, parent=parent)
    isa_bios.set_readonly(not ram_fw)
    rom_memory.add_subregion_overlap(ISA_BIOS_END - isa_size, isa_bios, 1)
    rom_memory.add_subregion(BIOS_END - size, bios)
    return bios
