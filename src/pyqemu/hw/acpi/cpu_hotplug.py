"""The CPU hot-plug register block ``acpi-cpu-hotplug`` (QEMU's ``cpu_hotplug.c`` and ``cpu.c``).

Two interfaces share one I/O base (0xaf00 on ``pc``, 0xcd8 on ``q35``):

- *legacy* (at start): 32 read-only bytes, a bitmap with bit N set when the
  CPU with APIC id N is present.  Firmware never writes it, so QEMU takes a
  write of 0 to byte 0 as the guest's request to switch to the modern
  interface (QEMU's own ACPI tables do that); so does the owner's
  ``cpu-hotplug-legacy`` property set to false.
- *modern* (12 bytes): a selector (write at 0) picks one of the possible
  CPUs; its flags (byte at 4: 1 present, 2 inserting, 4 removing, 16
  firmware-remove) and a command (byte at 5) with data (at 8, and the high
  half at 0): 0 finds the next CPU with a pending event, 1 / 2 store the
  guest's _OST event and status (an ACPI_DEVICE_OST event), 3 reads the
  CPU's APIC id.  Accesses with the selector past the last CPU read 0 and
  are ignored.

pyqemu cannot add or remove CPUs at run time yet, so no insert or remove
event ever becomes pending and ejecting (flag 8) does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegion, MemoryRegionOps

CPU_HOTPLUG_REGION = "acpi-cpu-hotplug"
#: The legacy bitmap: one bit per APIC id 0-255.
ACPI_GPE_PROC_LEN = 32
ACPI_CPU_HOTPLUG_REG_LEN = 12
UNASSIGNED_APIC_ID = 0xFFFFFFFF

# Modern interface registers.
CPU_SELECTOR = 0  # write: the selected CPU
CPU_CMD_DATA2 = 0  # read: high half of the command's data
CPU_FLAGS = 4
CPU_CMD = 5
CPU_CMD_DATA = 8

FLAG_ENABLED = 1
FLAG_INSERTING = 2
FLAG_REMOVING = 4
FLAG_EJECT = 8
FLAG_FW_REMOVE = 16

CMD_GET_NEXT_CPU_WITH_EVENT = 0
CMD_OST_EVENT = 1
CMD_OST_STATUS = 2
CMD_GET_CPU_ID = 3
CMD_MAX = 4

#: ``emit_event(name, data)``: send a QMP event.
EmitEvent = Callable[[str, dict[str, Any]], None]


@dataclass
class PossibleCpu:
    """One CPU the machine may have: its APIC id and the CPU object if present."""

    arch_id: int
    cpu: Any = None
    is_inserting: bool = False
    is_removing: bool = False
    fw_remove: bool = False
    ost_event: int = 0
    ost_status: int = 0


def _bit_width(count: int) -> int:
    return (count - 1).bit_length() if count > 1 else 0


def x86_apic_id(topology: Any, index: int) -> int:
    """The APIC id of CPU ``index`` (QEMU's ``x86_apicid_from_cpu_idx``): thread, core, die, socket fields."""
    threads, cores, dies = topology.threads, topology.cores, topology.dies
    smt = index % threads
    core = index // threads % cores
    die = index // (threads * cores) % dies
    pkg = index // (threads * cores * dies)
    core_offset = _bit_width(threads)
    die_offset = core_offset + _bit_width(cores)
    pkg_offset = die_offset + _bit_width(dies)
    return pkg << pkg_offset | die << die_offset | core << core_offset | smt


def machine_possible_cpus(machine: Any) -> list[PossibleCpu]:
    """Every CPU ``machine`` may have (``-smp maxcpus``), present ones with their object.

    A present CPU's APIC id is its own ``apic-id``; an absent one's follows the topology.
    """
    present = list(getattr(machine, "cpus", []))
    topology = machine.smp
    cpus = []
    for index in range(max(topology.max_cpus, len(present))):
        cpu = present[index] if index < len(present) else None
        apic_id = getattr(cpu, "apic_id", None)
        if not isinstance(apic_id, int) or apic_id == UNASSIGNED_APIC_ID:
            apic_id = x86_apic_id(topology, index)
        cpus.append(PossibleCpu(apic_id, cpu))
    return cpus


class ModernCpuHotplug:
    """The modern register block over the machine's possible CPUs (QEMU's ``CPUHotplugState``)."""

    def __init__(self, cpus: list[PossibleCpu], emit_event: EmitEvent):
        self.cpus = cpus
        self.selector = 0
        self.command = CMD_GET_NEXT_CPU_WITH_EVENT
        self._emit_event = emit_event

    def _selected(self) -> PossibleCpu | None:
        return self.cpus[self.selector] if self.selector < len(self.cpus) else None

    def read(self, offset: int, size: int) -> int:
        cpu = self._selected()
        if cpu is None:
            return 0
        if offset == CPU_FLAGS:
            return ((FLAG_ENABLED if cpu.cpu is not None else 0) | (FLAG_INSERTING if cpu.is_inserting else 0)
                    | (FLAG_REMOVING if cpu.is_removing else 0) | (FLAG_FW_REMOVE if cpu.fw_remove else 0))
        if offset == CPU_CMD_DATA:
            if self.command == CMD_GET_NEXT_CPU_WITH_EVENT:
                return self.selector
            return cpu.arch_id & 0xFFFFFFFF if self.command == CMD_GET_CPU_ID else 0
        if offset == CPU_CMD_DATA2 and self.command == CMD_GET_CPU_ID:
            return cpu.arch_id >> 32
        return 0

    def write(self, offset: int, value: int, size: int) -> None:
        if offset == CPU_SELECTOR:
            self.selector = value
            return
        cpu = self._selected()
        if cpu is None:
            return
        if offset == CPU_FLAGS:
            self._write_flags(cpu, value)
        elif offset == CPU_CMD and value < CMD_MAX:
            self.command = value
            if value == CMD_GET_NEXT_CPU_WITH_EVENT:
                self._select_next_event()
        elif offset == CPU_CMD_DATA:
            self._write_data(cpu, value)

    def _write_flags(self, cpu: PossibleCpu, value: int) -> None:
        """Clear an insert or remove event, or mark the CPU for removal by firmware."""
        if value & FLAG_INSERTING:
            cpu.is_inserting = False
        elif value & FLAG_REMOVING:
            cpu.is_removing = False
        elif value & FLAG_EJECT:
            return  # CPUs cannot be unplugged in pyqemu
        elif value & FLAG_FW_REMOVE and cpu.cpu is not None and cpu is not self.cpus[0]:
            cpu.fw_remove = True

    def _select_next_event(self) -> None:
        """From the selected CPU on, round the list, select the first with a pending event."""
        count = len(self.cpus)
        for step in range(count):
            index = (self.selector + step) % count
            cpu = self.cpus[index]
            if cpu.is_inserting or cpu.is_removing or cpu.fw_remove:
                self.selector = index
                return

    def _write_data(self, cpu: PossibleCpu, value: int) -> None:
        if self.command == CMD_OST_EVENT:
            cpu.ost_event = value
        elif self.command == CMD_OST_STATUS:
            cpu.ost_status = value
            self._emit_event("ACPI_DEVICE_OST", {"info": self.ost_info(self.selector)})

    def ost_info(self, index: int) -> dict[str, Any]:
        """The ``ACPIOSTInfo`` of possible CPU ``index``."""
        cpu = self.cpus[index]
        device_id = getattr(cpu.cpu, "id", None)
        info: dict[str, Any] = {"device": device_id} if device_id else {}
        info["slot"] = str(index)
        info["slot-type"] = "CPU"
        info["source"] = cpu.ost_event
        info["status"] = cpu.ost_status
        return info


class CpuHotplug:
    """Both interfaces of one chipset, at ``base`` in ``io_space``; legacy first."""

    def __init__(self, owner: Any, io_space: MemoryRegion, base: int, cpus: list[PossibleCpu],
                 emit_event: EmitEvent):
        self.owner = owner
        self.io_space = io_space
        self.base = base
        self.cpus = cpus
        self.emit_event = emit_event
        self.legacy = True
        self.modern: ModernCpuHotplug | None = None
        ops = MemoryRegionOps(read=self.legacy_read, write=self.legacy_write,
                              endianness=Endianness.LITTLE, valid=AccessSizes(1, 1))
        self.io = MemoryRegion.new_io(owner, ops, CPU_HOTPLUG_REGION, ACPI_GPE_PROC_LEN)
        io_space.add_subregion(base, self.io)
        self.bitmap = bytearray(ACPI_GPE_PROC_LEN)
        for cpu in cpus:
            if cpu.cpu is not None:
                self._set_present(cpu.arch_id)

    def _set_present(self, arch_id: int) -> None:
        if arch_id // 8 >= ACPI_GPE_PROC_LEN:
            self.switch_to_modern()  # the bitmap has no room for this APIC id
            return
        self.bitmap[arch_id // 8] |= 1 << (arch_id % 8)

    def legacy_read(self, offset: int, size: int = 1) -> int:
        return self.bitmap[offset]

    def legacy_write(self, offset: int, value: int, size: int = 1) -> None:
        if offset == 0 and value == 0:
            self.switch_to_modern()

    def switch_to_modern(self) -> None:
        """Replace the legacy bitmap by the modern block at the same base (once)."""
        if not self.legacy:
            return
        self.legacy = False
        self.io_space.del_subregion(self.io)
        self.modern = ModernCpuHotplug(self.cpus, self.emit_event)
        ops = MemoryRegionOps(read=self.modern.read, write=self.modern.write,
                              endianness=Endianness.LITTLE, valid=AccessSizes(1, 4))
        self.io = MemoryRegion.new_io(self.owner, ops, CPU_HOTPLUG_REGION, ACPI_CPU_HOTPLUG_REG_LEN)
        self.io_space.add_subregion(self.base, self.io)


def cpu_hotplug_init(owner: Any, io_space: MemoryRegion, base: int) -> CpuHotplug:
    """The CPU hot-plug block of chipset function ``owner`` over its machine's CPUs."""
    from pyqemu.hw.core.qdev import qdev_get_machine

    machine = qdev_get_machine(owner)
    host = machine.host

    def emit_event(name: str, data: dict[str, Any]) -> None:
        if host is not None:
            host.emit_event(name, data)

    return CpuHotplug(owner, io_space, base, machine_possible_cpus(machine), emit_event)


def legacy_property_get(hotplug: CpuHotplug | None) -> bool:
    """The owner's ``cpu-hotplug-legacy``: true until the modern interface is switched on."""
    return hotplug is None or hotplug.legacy


def legacy_property_set(hotplug: CpuHotplug | None, value: bool) -> None:
    """Set ``cpu-hotplug-legacy``: false switches to the modern interface.

    QEMU aborts when it is set to true; pyqemu refuses that with an error.
    """
    from pyqemu.util.errors import ConfigError

    if value:
        raise ConfigError("cpu-hotplug-legacy can only be switched off")
    if hotplug is not None:
        hotplug.switch_to_modern()
