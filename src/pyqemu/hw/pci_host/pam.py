"""Programmable Attribute Map: what the BIOS shadow areas 0xc0000-0xfffff are (QEMU's ``pam.c``).

The i440FX and the Q35 MCH divide the area into 13 segments — 64 KiB at
0xf0000 and twelve of 16 KiB from 0xc0000 — each steered by a 2-bit field of
a PAM configuration register: 0 reads and writes go to PCI (where the
firmware ROM is), 1 reads from RAM with writes dropped, 2 writes to RAM
(approximated, as in QEMU, by plain RAM), 3 RAM.  Each segment is four aliases at
priority 1 over system memory, of which exactly one is enabled, created in
QEMU's order so that their QOM names (``pam-ram[N]``, ``pam-rom[N]``,
``pam-pci[2N]``, ``pam-pci[2N+1]``) and ``info mtree`` lines match.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyqemu.memory.region import MemoryRegion
    from pyqemu.qom.object import Object

PAM_BIOS_BASE = 0xF0000
PAM_BIOS_SIZE = 0x10000
PAM_EXPAN_BASE = 0xC0000
PAM_EXPAN_SIZE = 0x4000
PAM_EXPAN_COUNT = 12
PAM_REGIONS_COUNT = 1 + PAM_EXPAN_COUNT
#: How many configuration bytes hold the 13 fields (the first byte's low nibble is reserved).
PAM_CONFIG_SIZE = 7
PAM_ATTR_MASK = 0x3
PAM_PRIORITY = 1
#: Attribute values, which are also the index of the alias that implements them.
PAM_PCI, PAM_RO, PAM_WO, PAM_RW = range(4)


class PAMRegion:
    """One segment: its four aliases, one of which is enabled (``PAMMemoryRegion``)."""

    def __init__(self, owner: Object, ram: MemoryRegion, system: MemoryRegion, pci: MemoryRegion,
                 start: int, size: int) -> None:
        from pyqemu.memory.region import MemoryRegion

        # Created in QEMU's order: the RAM, ROM and PCI views, then the write-only one.
        rw = MemoryRegion.new_alias(owner, "pam-ram", ram, start, size)
        ro = MemoryRegion.new_alias(owner, "pam-rom", ram, start, size)
        ro.set_readonly(True)
        pci_view = MemoryRegion.new_alias(owner, "pam-pci", pci, start, size)
        wo = MemoryRegion.new_alias(owner, "pam-pci", ram, start, size)
        self.aliases = (pci_view, ro, wo, rw)
        for alias in self.aliases:
            alias.set_enabled(False)
            system.add_subregion_overlap(start, alias, PAM_PRIORITY)
        self.current = PAM_PCI
        self.aliases[self.current].set_enabled(True)

    def update(self, index: int, value: int) -> None:
        """Apply segment ``index``'s field of configuration byte ``value`` (even ones: the high nibble)."""
        self.aliases[self.current].set_enabled(False)
        shift = 0 if index & 1 else 4
        self.current = (value >> shift) & PAM_ATTR_MASK
        self.aliases[self.current].set_enabled(True)


def pam_init(owner: Object, ram: MemoryRegion, system: MemoryRegion, pci: MemoryRegion) -> list[PAMRegion]:
    """The 13 segments, the BIOS one first, as the chipsets create them."""
    regions = [PAMRegion(owner, ram, system, pci, PAM_BIOS_BASE, PAM_BIOS_SIZE)]
    for i in range(PAM_EXPAN_COUNT):
        start = PAM_EXPAN_BASE + i * PAM_EXPAN_SIZE
        regions.append(PAMRegion(owner, ram, system, pci, start, PAM_EXPAN_SIZE))
    return regions


def pam_update_all(regions: list[PAMRegion], config: bytes | bytearray, pam0: int) -> None:
    """Re-read every segment's field from the configuration bytes starting at ``pam0``."""
    for index, region in enumerate(regions):
        region.update(index, config[pam0 + (index + 1) // 2])


def pam_touched(offset: int, size: int, pam0: int) -> bool:
    """Whether a configuration write at ``offset`` of ``size`` bytes changes a PAM register."""
    return offset < pam0 + PAM_CONFIG_SIZE and offset + size > pam0
