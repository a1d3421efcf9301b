"""The local APIC device (``apic``): each x86 CPU's interrupt controller, and the MSI window.

Every CPU has one APIC, its QOM child ``lapic`` (:func:`apic_create`,
:func:`apic_realize`).  The guest reaches it at 0xfee00000, where the first
CPU's region ``apic-msi`` (1 MiB, priority 4096) is mapped — once for the
machine, as QEMU maps only the first CPU's:

- a CPU accessing the page reads and writes *its own* APIC's registers
  (``current_cpu`` picks the APIC, as in QEMU);
- any other write — from a device (the IOAPIC, a PCI MSI), from qtest, or
  from a CPU beyond the first 0x1000 bytes or at offset 0 — is an MSI:
  address bits 19:12 the destination, bit 2 logical mode; data bits 7:0
  the vector, 10:8 the delivery mode, 15 the trigger mode.  Without a CPU
  reads return 0 and register writes are dropped.  Accesses narrower than
  4 bytes do nothing.

The logic lives in :mod:`.apic_core` (one APIC) and :mod:`.apic_bus` (the
machine's APICs and their wiring).  The first APIC realized (with
``vapic`` on and at least 1 MiB of RAM) creates the ``kvmvapic`` device.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Protocol

from pyqemu.hw.core.qdev import DeviceState, qdev_get_machine, qdev_realize
from pyqemu.hw.core.qdev_properties import prop_bit, prop_bool, prop_uint8
from pyqemu.hw.intc.apic_bus import MAX_APICS, ApicBus
from pyqemu.hw.intc.apic_core import (
    APIC_DEFAULT_ADDRESS,
    APICBASE_EXTD,
    DEFAULT_VERSION,
    MSI_REGS_END,
    WORD,
    ApicCore,
)
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import Object, object_new, register_type
from pyqemu.qom.property import UINT32, ObjectProperty
from pyqemu.util.errors import DeviceError

if TYPE_CHECKING:
    from pyqemu.hw.core.irq import Irq
    from pyqemu.hw.core.machine import MachineState

TYPE_APIC_COMMON = "apic-common"
TYPE_APIC = "apic"
APIC_SPACE_SIZE = 0x100000
APIC_MMIO_PRIORITY = 0x1000
VAPIC_MIN_RAM = 1 << 20  # the VAPIC option ROM needs 1 MiB of RAM


class CurrentCpu(Protocol):
    """What a device may ask of the CPU whose access it is handling (QEMU's ``current_cpu``)."""

    #: 32-bit general registers by name: ``eax`` ``ebx`` ``ecx`` ``edx`` ``esi`` ``edi`` …
    regs: MutableMapping[str, int]

    def child(self, name: str) -> Object | None:
        """Its QOM children; ``lapic`` is its APIC."""
        ...

    def code_address(self) -> int:
        """CS base + EIP of the accessing instruction."""
        ...


def current_cpu(obj: Object) -> CurrentCpu | None:
    """The CPU running on this thread, from the machine's ``current_cpu()`` hook; None without one (qtest)."""
    hook = getattr(qdev_get_machine(obj), "current_cpu", None)
    return hook() if callable(hook) else None


def current_apic(obj: Object) -> ApicCore | None:
    """The APIC of the CPU running on this thread (``cpu_get_current_apic``)."""
    cpu = current_cpu(obj)
    lapic = cpu.child("lapic") if cpu is not None else None
    return lapic.core if isinstance(lapic, ApicCommon) else None


def apic_bus(machine: MachineState) -> ApicBus:
    """The machine's :class:`ApicBus`, made on first use (kept as ``machine.apic_bus``)."""
    if machine.apic_bus is None:
        machine.apic_bus = ApicBus(lambda: current_apic(machine))
    bus: ApicBus = machine.apic_bus
    return bus


def _msi_ops(bus: ApicBus) -> MemoryRegionOps:
    def read(offset: int, size: int) -> int:
        apic = bus.current_apic()
        return apic.read_mmio(offset, size) if apic is not None else 0

    def write(offset: int, value: int, size: int) -> None:
        apic = bus.current_apic()
        if apic is not None:
            apic.write_mmio(offset, value, size)
        elif size >= 4 and (offset > MSI_REGS_END or not offset >> 4 & 0xFF):
            bus.send_msi(offset, value)

    sizes = AccessSizes(1, 4)
    return MemoryRegionOps(read=read, write=write, endianness=Endianness.NATIVE, valid=sizes, impl=sizes)


@register_type
class ApicCommon(DeviceState):
    """Base of the local APIC models (abstract ``apic-common``); only CPUs create APICs."""

    TYPE = TYPE_APIC_COMMON
    ABSTRACT = True
    USER_CREATABLE = False
    PROPERTIES = (
        prop_uint8("version", default=DEFAULT_VERSION),
        prop_bit("vapic", default=True),
        prop_bool("legacy-instance-id", default=False),
    )

    def __init__(self) -> None:
        super().__init__()
        self.initial_apic_id = WORD
        self.index = 0
        self.bsp = False
        self.core: ApicCore | None = None
        self.property_add(
            ObjectProperty("id", "uint32", UINT32, get=lambda _o: self._get_id(), set=self._set_id)
        )

    def _get_id(self) -> int:
        if self.core is None:
            return self.initial_apic_id & 0xFF
        return self.initial_apic_id if self.core.apicbase & APICBASE_EXTD else self.core.id

    def _set_id(self, _obj: Object, value: int) -> None:
        self.check_settable("id")
        self.initial_apic_id = value


@register_type
class Apic(ApicCommon):
    """The emulated local APIC (type ``apic``), child ``lapic`` of its CPU."""

    TYPE = TYPE_APIC

    def realize(self) -> None:
        from pyqemu.util.main_loop import ClockType

        if (self.initial_apic_id & 0xFF) >= MAX_APICS:
            apic_id = self.initial_apic_id & 0xFF
            raise DeviceError(f"{self.typename} initialization failed. APIC ID {apic_id} is invalid")
        machine = qdev_get_machine(self)
        bus = apic_bus(machine)
        loop = machine.host.main_loop
        self.core = ApicCore(
            bus, loop.clock(ClockType.VIRTUAL).now_ns, lambda cb: loop.timer_new(ClockType.VIRTUAL, cb),
            apic_id=self.initial_apic_id, version=self.version, bsp=self.bsp,
        )
        self.region = MemoryRegion.new_io(self, _msi_ops(bus), "apic-msi", APIC_SPACE_SIZE)
        self.index = self.core.id
        bus.apics[self.index] = self.core
        if bus.vapic is None and self.vapic and machine.ram_size >= VAPIC_MIN_RAM:
            from pyqemu.hw.i386.kvmvapic import vapic_create

            bus.vapic = vapic_create(machine)

    def unrealize(self) -> None:
        if self.core is not None:
            self.core.bus.apics.pop(self.index, None)
            self.core.init_reset()  # stops the timer

    def reset(self) -> None:
        if self.core is not None:
            self.core.reset()


# -- what the CPU and the board call ------------------------------------------------------


def apic_create(cpu: DeviceState, apic_id: int) -> Apic:
    """Make the CPU's APIC, its child ``lapic`` (``x86_cpu_apic_create``); CPU index 0 is the BSP."""
    apic = object_new(TYPE_APIC)
    assert isinstance(apic, Apic)
    cpu.add_child("lapic", apic)
    apic.unref()
    apic.property_set("id", apic_id)
    apic.bsp = getattr(cpu, "cpu_index", 0) == 0
    return apic


def apic_realize(apic: Apic) -> None:
    """Realize the APIC and map the first one's ``apic-msi`` at 0xfee00000 (``x86_cpu_apic_realize``)."""
    qdev_realize(apic)
    assert apic.core is not None
    bus = apic.core.bus
    if not bus.msi_mapped:
        system = qdev_get_machine(apic).memory_system.system_memory
        system.add_subregion_overlap(APIC_DEFAULT_ADDRESS, apic.region, APIC_MMIO_PRIORITY)
        bus.msi_mapped = True


def apic_designate_bsp(apic: Apic, bsp: bool) -> None:
    """Set or clear the BSP flag of the APIC base (the CPU's reset does this for CPU 0)."""
    apic.bsp = bsp
    if apic.core is not None:
        apic.core.designate_bsp(bsp)


def apic_pic_irq(machine: MachineState) -> Irq:
    """The CPU-side input for the 8259's INT output (QEMU's ``x86_allocate_cpu_irq``)."""
    from pyqemu.hw.core.irq import Irq

    bus = apic_bus(machine)
    bus.has_pic = True
    return Irq.new(lambda _n, level: bus.pic_irq_request(level))
