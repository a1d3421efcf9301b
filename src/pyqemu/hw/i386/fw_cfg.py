"""What x86 boards put in fw_cfg (QEMU 7.2's ``fw_cfg_arch_create`` and microvm's share of it).

``pc`` and ``q35`` call :func:`fw_cfg_arch_create` while mapping RAM (QEMU's
``pc_memory_init``), once the e820 table is complete.  It creates
``/machine/fw_cfg`` (``fw_cfg_io`` at ports 0x510, DMA at 0x514 into the
``memory`` space) and adds, besides what every fw_cfg has:

======================  =====================================================
NB_CPUS (0x05)          CPUs at boot, 16-bit
MAX_CPUS (0x0f)         the APIC id limit (not the CPU count), 16-bit
RAM_SIZE (0x03)         64-bit
ACPI_TABLES (0x8000)    ``-acpitable`` blobs (empty: not supported yet)
IRQ0_OVERRIDE (0x8002)  1, 32-bit
``etc/e820``            the e820 table: 20-byte records (address, length, type)
HPET (0x8004)           the HPET blocks (:class:`~pyqemu.hw.timer.hpet_fw.HpetFwConfig`), live
NUMA (0x0d)             node count, node of each APIC id, memory of each node
======================  =====================================================

``microvm`` adds only NB_CPUS, MAX_CPUS (``maxcpus`` there), RAM_SIZE,
IRQ0_OVERRIDE and ``etc/e820`` (:func:`fw_cfg_microvm_create`).

The e820 table lists RAM below 4 GiB from 0, RAM above 4 GiB from 4 GiB
and, on PC machine types from 7.1 with an AMD vCPU of 40 or more physical
address bits, AMD's HyperTransport hole below 1 TiB as reserved — first,
because QEMU adds it before the RAM (QEMU's default ``qemu64`` CPU is AMD
under TCG and qtest).  Contents were checked byte for byte against QEMU
7.2 read by a small guest through the ports.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from pyqemu.hw.nvram.fw_cfg_items import (
    FW_CFG_ARCH_LOCAL,
    FW_CFG_MAX_CPUS,
    FW_CFG_NB_CPUS,
    FW_CFG_NUMA,
    FW_CFG_RAM_SIZE,
)
from pyqemu.hw.timer.hpet_fw import hpet_fw_config

if TYPE_CHECKING:
    from pyqemu.hw.core.machine import MachineState
    from pyqemu.hw.nvram.fw_cfg_io import FwCfgIo

FW_CFG_ACPI_TABLES = FW_CFG_ARCH_LOCAL + 0
FW_CFG_SMBIOS_ENTRIES = FW_CFG_ARCH_LOCAL + 1
FW_CFG_IRQ0_OVERRIDE = FW_CFG_ARCH_LOCAL + 2
FW_CFG_HPET = FW_CFG_ARCH_LOCAL + 4

GiB = 1 << 30
FOUR_GiB = 4 * GiB
#: AMD's HyperTransport range just below 1 TiB, reserved on AMD hosts with an IOMMU.
AMD_HT_START = 0xFD00000000
AMD_HT_END = 0xFFFFFFFFFF
AMD_HT_MIN_PHYS_BITS = 40
DEFAULT_PHYS_BITS = 40
VENDOR_AMD = "AuthenticAMD"
#: CPU models whose vendor is AMD when the accelerator does not pass the host's through.
AMD_MODEL_PREFIXES = ("qemu64", "max", "phenom", "athlon", "Opteron_", "EPYC")
KVM_ACCEL = "kvm"
CPU_SUFFIX = "-x86_64-cpu"


class E820Type(IntEnum):
    RAM = 1
    RESERVED = 2
    ACPI = 3
    NVS = 4
    UNUSABLE = 5


E820_ENTRY = struct.Struct("<QQI")


@dataclass(frozen=True)
class E820Entry:
    address: int
    length: int
    type: E820Type


class E820Table:
    """A machine's e820 map, in the order entries were added (QEMU's ``e820_add_entry``)."""

    def __init__(self) -> None:
        self.entries: list[E820Entry] = []

    def add_entry(self, address: int, length: int, kind: E820Type) -> int:
        """Append an entry; returns how many there are."""
        self.entries.append(E820Entry(address, length, kind))
        return len(self.entries)

    def ram_entries(self) -> list[E820Entry]:
        return [e for e in self.entries if e.type == E820Type.RAM]

    def pack(self) -> bytes:
        """The ``etc/e820`` file."""
        return b"".join(E820_ENTRY.pack(e.address, e.length, e.type) for e in self.entries)


def x86_e820_table(below_4g: int, above_4g: int, *, above_4g_start: int = FOUR_GiB,
                   reserve_amd_ht: bool = False) -> E820Table:
    """The e820 table of a RAM split: [AMD hole,] RAM from 0, RAM above 4 GiB (if any)."""
    table = E820Table()
    if reserve_amd_ht:
        table.add_entry(AMD_HT_START, AMD_HT_END + 1 - AMD_HT_START, E820Type.RESERVED)
    table.add_entry(0, below_4g, E820Type.RAM)
    if above_4g:
        table.add_entry(above_4g_start, above_4g, E820Type.RAM)
    return table


def _host_vendor() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("vendor_id"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        return None
    return None


def cpu_is_amd(machine: Any) -> bool:
    """Whether the first vCPU reports AMD: the host's vendor under KVM, else the model's."""
    cpus = getattr(machine, "cpus", None) or []
    vendor = getattr(cpus[0], "vendor", None) if cpus else None
    if vendor:
        return bool(vendor == VENDOR_AMD)
    if getattr(getattr(machine, "accelerator", None), "NAME", None) == KVM_ACCEL:
        return _host_vendor() == VENDOR_AMD
    model = (getattr(machine, "cpu_type", None) or "qemu64").removesuffix(CPU_SUFFIX)
    return model.startswith(AMD_MODEL_PREFIXES)


def pc_reserves_amd_ht(machine: Any) -> bool:
    """Whether a PC machine lists the AMD HyperTransport hole (machine types from 7.1 on)."""
    if not getattr(type(machine), "ENFORCE_AMD_1TB_HOLE", True):
        return False
    cpus = getattr(machine, "cpus", None) or []
    phys_bits = getattr(cpus[0], "phys_bits", DEFAULT_PHYS_BITS) if cpus else DEFAULT_PHYS_BITS
    return cpu_is_amd(machine) and phys_bits >= AMD_HT_MIN_PHYS_BITS


def machine_e820_table(machine: Any, *, reserve_amd_ht: bool | None = None) -> E820Table:
    """The e820 table of the machine's RAM split (``below_4g_mem_size`` / ``above_4g_mem_size``)."""
    if reserve_amd_ht is None:
        reserve_amd_ht = pc_reserves_amd_ht(machine)
    return x86_e820_table(machine.below_4g_mem_size, machine.above_4g_mem_size,
                          above_4g_start=getattr(machine, "above_4g_mem_start", FOUR_GiB),
                          reserve_amd_ht=reserve_amd_ht)


# -- NUMA ---------------------------------------------------------------------------------

NUMA_WORD = struct.Struct("<Q")


def numa_blob(apic_id_limit: int, cpu_nodes: Mapping[int, int] | None = None,
              node_mem: Sequence[int] = ()) -> bytes:
    """FW_CFG_NUMA: node count, the node of each APIC id below the limit, each node's memory."""
    words = [len(node_mem)] + [0] * apic_id_limit + list(node_mem)
    for apic_id, node in (cpu_nodes or {}).items():
        if apic_id >= apic_id_limit:
            raise ValueError(f"APIC id {apic_id} is not below the limit {apic_id_limit}")
        words[1 + apic_id] = node
    return b"".join(NUMA_WORD.pack(w) for w in words)


# -- board-facing -----------------------------------------------------------------------------


def _x86_fw_cfg(machine: MachineState) -> FwCfgIo:
    from pyqemu.hw.nvram.fw_cfg_io import fw_cfg_init_io_dma

    return fw_cfg_init_io_dma(machine)


def fw_cfg_arch_create(machine: MachineState, boot_cpus: int, apic_id_limit: int,
                       e820: E820Table | None = None) -> FwCfgIo:
    """``/machine/fw_cfg`` of a PC with the x86 items; ``e820`` defaults to the machine's RAM split."""
    table = e820 if e820 is not None else machine_e820_table(machine)
    fw_cfg = _x86_fw_cfg(machine)
    fw_cfg.add_i16(FW_CFG_NB_CPUS, boot_cpus)
    fw_cfg.add_i16(FW_CFG_MAX_CPUS, apic_id_limit)
    fw_cfg.add_i64(FW_CFG_RAM_SIZE, machine.ram_size)
    fw_cfg.add_bytes(FW_CFG_ACPI_TABLES, b"")
    fw_cfg.add_i32(FW_CFG_IRQ0_OVERRIDE, 1)
    fw_cfg.add_file("etc/e820", table.pack())
    fw_cfg.add_bytes(FW_CFG_HPET, hpet_fw_config(machine).data)
    fw_cfg.add_bytes(FW_CFG_NUMA, numa_blob(apic_id_limit))
    return fw_cfg


def fw_cfg_microvm_create(machine: MachineState, e820: E820Table | None = None) -> FwCfgIo:
    """``/machine/fw_cfg`` of a microvm (its ``microvm_memory_init``): no HPET, NUMA or ACPI items."""
    table = e820 if e820 is not None else machine_e820_table(machine, reserve_amd_ht=False)
    fw_cfg = _x86_fw_cfg(machine)
    fw_cfg.add_i16(FW_CFG_NB_CPUS, machine.smp.cpus)
    fw_cfg.add_i16(FW_CFG_MAX_CPUS, machine.smp.max_cpus)
    fw_cfg.add_i64(FW_CFG_RAM_SIZE, machine.ram_size)
    fw_cfg.add_i32(FW_CFG_IRQ0_OVERRIDE, 1)
    fw_cfg.add_file("etc/e820", table.pack())
    return fw_cfg
