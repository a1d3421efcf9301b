"""``info mtree`` text, compared with what QEMU 7.2 prints (HMP turns each \\n into \\r\\n)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pyqemu.memory.address_space import MemorySystem
from pyqemu.memory.mtree import mtree_info
from pyqemu.memory.region import UINT64_MAX, MemoryRegion
from pyqemu.qom.object import Container, container_get

QEMU = "qemu-system-x86_64"
DATA = Path(__file__).parent / "data"

# qemu-system-x86_64 -M none -display none -nodefaults -S, HMP "info mtree" (QEMU prints the
# two address-space groups in a pointer-hash order that changes between runs; pyqemu uses
# creation order).
M_NONE_MTREE = """\
address-space: memory
  0000000000000000-ffffffffffffffff (prio 0, i/o): system

address-space: I/O
  0000000000000000-000000000000ffff (prio 0, i/o): io

"""

M_NONE_MTREE_F = """\
FlatView #0
 AS "memory", root: system
 Root memory region: (none)
  No rendered FlatView

FlatView #1
 AS "I/O", root: io
 Root memory region: io
  0000000000000000-000000000000ffff (prio 0, i/o): io

"""


def none_machine() -> tuple[MemorySystem, Container]:
    unattached = container_get(Container(), "/machine/unattached")
    return MemorySystem(unattached), unattached  # type: ignore[return-value]


def blocks(text: str) -> list[str]:
    return sorted(text.split("\n\n"))


def qemu_hmp(*commands: str) -> list[str]:
    lines = [{"execute": "qmp_capabilities"}]
    lines += [{"execute": "human-monitor-command", "arguments": {"command-line": c}} for c in commands]
    lines.append({"execute": "quit"})
    proc = subprocess.run(
        [QEMU, "-M", "none", "-display", "none", "-nodefaults", "-S", "-qmp", "stdio"],
        input="".join(json.dumps(line) + "\n" for line in lines), capture_output=True, text=True, timeout=30,
    )
    replies = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    texts = [r["return"] for r in replies if isinstance(r.get("return"), str)]
    return [t.replace("\r\n", "\n") for t in texts]


def test_m_none_tree_and_flat_views_match_qemu() -> None:
    mem, _ = none_machine()
    assert mtree_info(mem) == M_NONE_MTREE
    assert mtree_info(mem, flatview=True) == M_NONE_MTREE_F


@pytest.mark.skipif(shutil.which(QEMU) is None, reason="QEMU 7.2 is not installed")
def test_m_none_matches_the_installed_qemu_up_to_group_order() -> None:
    mem, _ = none_machine()
    tree, owners = qemu_hmp("info mtree", "info mtree -o")
    assert blocks(mtree_info(mem)) == blocks(tree)
    assert blocks(mtree_info(mem, owner=True)) == blocks(owners)


def test_owner_form_names_the_parent_of_owner_less_regions() -> None:
    mem, unattached = none_machine()
    text = mtree_info(mem, owner=True)
    assert "(prio 0, i/o): io parent:{obj path=/machine/unattached}\n" in text
    orphan = MemoryRegion.new_io(None, None, "lonely", 4)
    mem.system_io.add_subregion(0x10, orphan)
    assert "(prio 0, i/o): lonely orphan\n" in mtree_info(mem, owner=True)
    owner = Container()
    unattached.add_child("thing", owner)
    mem.system_io.add_subregion(0x20, MemoryRegion.new_io(owner, None, "owned", 4))
    assert "): owned owner:{obj path=/machine/unattached/thing}\n" in mtree_info(mem, owner=True)


def build_pc_fragment(mem: MemorySystem, parent: Container) -> None:
    """The start of -M pc's memory map, built as pc_memory_init and i440fx do."""
    system = mem.system_memory
    ram = MemoryRegion.new_ram(None, "pc.ram", 0x8000000, parent=parent)
    system.add_subregion(0, MemoryRegion.new_alias(None, "ram-below-4g", ram, 0, 0x8000000, parent=parent))
    pci = MemoryRegion.new_container(None, "pci", UINT64_MAX, parent=parent)
    system.add_subregion_overlap(0, pci, -1)
    bios = MemoryRegion.new_rom(None, "pc.bios", 0x40000, parent=parent)
    pci.add_subregion(0xFFFC0000, bios)
    pci.add_subregion_overlap(0xE0000, MemoryRegion.new_alias(None, "isa-bios", bios, 0x20000, 0x20000,
                                                                  parent=parent), 1)
    pci.add_subregion_overlap(0xC0000, MemoryRegion.new_rom(None, "pc.rom", 0x20000, parent=parent), 1)
    smram = MemoryRegion.new_alias(None, "smram-region", pci, 0xA0000, 0x20000, parent=parent)
    system.add_subregion_overlap(0xA0000, smram, 1)
    for start in (0xC0000, 0xE0000):
        pam = MemoryRegion.new_alias(None, "pam-pci", pci, start, 0x20000, parent=parent)
        system.add_subregion_overlap(start, pam, 1)
    msi = MemoryRegion.new_io(None, None, "apic-msi", 0x100000, parent=parent)
    system.add_subregion_overlap(0xFEE00000, msi, 4096)


# The matching lines of QEMU 7.2's "info mtree" / "info mtree -f" for -M pc -nodefaults (with
# the pam-pci aliases at c0000 and e0000 only, as built above).
PC_MTREE = (DATA / "mtree_pc_fragment.txt").read_text()

PC_FLAT_MEMORY = """\
FlatView #0
 AS "memory", root: system
 AS "cpu-memory-0", root: system
 Root memory region: system
  0000000000000000-00000000000bffff (prio 0, ram): pc.ram
  00000000000c0000-00000000000dffff (prio 1, rom): pc.rom
  00000000000e0000-00000000000fffff (prio 0, rom): pc.bios @0000000000020000
  0000000000100000-0000000007ffffff (prio 0, ram): pc.ram @0000000000100000
  00000000fee00000-00000000feefffff (prio 4096, i/o): apic-msi
  00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios

"""


def test_pc_memory_map_prints_like_qemu() -> None:
    mem, unattached = none_machine()
    build_pc_fragment(mem, unattached)
    assert mtree_info(mem) == PC_MTREE
    mem.address_space_init(mem.system_memory, "cpu-memory-0")
    assert mtree_info(mem).startswith("address-space: cpu-memory-0\naddress-space: memory\n  0000")
    assert mtree_info(mem, flatview=True).startswith(PC_FLAT_MEMORY)


def test_disabled_regions_hide_their_line_but_not_their_children() -> None:
    # -M pc prints "memory-region: smram" followed directly by the children of the disabled smram
    mem, unattached = none_machine()
    smram = MemoryRegion.new_container(None, "smram", 1 << 32, parent=unattached)
    ram = MemoryRegion.new_ram(None, "pc.ram", 0x100000, parent=unattached)
    smram.add_subregion(0xA0000, MemoryRegion.new_alias(None, "smram-low", ram, 0xA0000, 0x20000))
    smram.set_enabled(False)
    mem.system_memory.add_subregion_overlap(0, MemoryRegion.new_alias(None, "smram", smram, 0, 1 << 32), 1)
    text = mtree_info(mem)
    assert ("memory-region: smram\n    00000000000a0000-00000000000bffff (prio 0, ram): "
            "alias smram-low @pc.ram 00000000000a0000-00000000000bffff\n") in text
    shown = mtree_info(mem, disabled=True)
    assert ("memory-region: smram\n"
            "  0000000000000000-00000000ffffffff (prio 0, i/o): smram [disabled]\n") in shown


def test_overflow_and_flat_view_of_readonly_alias_and_accel_marks() -> None:
    mem, _ = none_machine()
    big = MemoryRegion.new_container(None, "big", UINT64_MAX)
    mem.system_memory.add_subregion(0x1000, big)
    overflow = "[DETECTED OVERFLOW!]     0000000000001000-0000000000000fff (prio 0, i/o): big\n"
    assert overflow in mtree_info(mem)
    mem.system_memory.del_subregion(big)
    ram = MemoryRegion.new_ram(None, "ram", 0x2000)
    ro = MemoryRegion.new_alias(None, "ro", ram, 0x1000, 0x1000)
    ro.set_readonly(True)
    mem.system_memory.add_subregion(0x4000, ro)
    flat = mtree_info(mem, flatview=True, accel=("kvm", lambda space, start, size: space.name == "memory"))
    assert "  0000000000004000-0000000000004fff (prio 0, rom): ram @0000000000001000 kvm\n" in flat
