"""What every x86 board shares (QEMU's ``X86MachineState``): memory, RAM split, CPUs, interrupt lines.

Board init of an x86 machine reads top to bottom in :meth:`X86MachineState.init`:

1. (the machine base has made ``system``, ``io`` and the main system bus;)
2. RAM split at the board's low-memory limit: ``ram-below-4g`` from 0,
   the rest as ``ram-above-4g`` from 4 GiB, both aliases of one RAM region;
3. 24 global interrupt lines (GSIs) — ISA IRQ N is GSI N; once the
   chipset exists they also reach the inputs of an ``ioapic`` object, as in
   QEMU (see :class:`IoapicLines`);
4. one CPU object per ``-smp`` CPU at ``/machine/unattached/device[N]``;
5. the board's own chipset and devices (:meth:`X86MachineState.board_init`).

Devices other helpers have not written yet (``isa-serial`` …) are created
only once their type exists (:func:`create_isa_device`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from pyqemu.hw.core.machine import MachineState
from pyqemu.hw.core.sysbus import SysBusDevice
from pyqemu.qom.object import Object, register_type
from pyqemu.qom.property import ON_OFF_AUTO, STR, UINT64
from pyqemu.util.units import GiB

if TYPE_CHECKING:
    from pyqemu.hw.core.irq import Irq
    from pyqemu.hw.isa.isa_bus import IsaBus, IsaDevice
    from pyqemu.memory.address_space import MemorySystem
    from pyqemu.memory.region import MemoryRegion

TYPE_X86_MACHINE = "x86-machine"
FOUR_GiB = 4 * GiB
GSI_NUM_PINS = 24
ISA_NUM_IRQS = 16
MAX_ISA_SERIAL_PORTS = 4
DEFAULT_MEMDEV_TYPE = "memory-backend-ram"
TYPE_IOAPIC = "ioapic"
IOAPIC_CHILD = "ioapic"

#: OnOffAuto machine properties: (name, description).
_ON_OFF_AUTO_PROPS = (
    ("smm", "Enable SMM"),
    ("acpi", "Enable ACPI"),
    ("pit", "Enable i8254 PIT"),
    ("pic", "Enable i8259 PIC"),
)


def machine_ram(machine: MachineState) -> MemoryRegion:
    """The machine's RAM region: the system layer's (``-machine memory-backend=`` or ``/objects/<id>``).

    Without a system layer (a board built directly in a test) a backend
    ``/objects/DEFAULT_RAM_ID`` is created here, as QEMU's ``create_default_memdev`` does.
    """
    ram = getattr(machine, "ram", None)
    if ram is None:
        from pyqemu.qom.object_interfaces import user_creatable_add

        ram_id = type(machine).DEFAULT_RAM_ID or "ram"
        backend = user_creatable_add(machine.root(), DEFAULT_MEMDEV_TYPE, ram_id, {"size": machine.ram_size})
        machine.memory_backend = backend
        ram = machine.ram = backend.get_memory()  # type: ignore[attr-defined]
    assert ram is not None
    return ram  # type: ignore[no-any-return]


@register_type
class IoapicLines(SysBusDevice):
    """The GSIs as the 24 unnamed GPIO inputs of an ``ioapic`` object, where QEMU's IOAPIC has them.

    It only carries the lines so that they can be observed (``irq_intercept_in
    ioapic`` in qtest, as QEMU's device tests do): it has no redirection
    table, no MMIO window at 0xfec00000 and delivers nothing to the CPUs.
    """

    TYPE = TYPE_IOAPIC

    def __init__(self) -> None:
        super().__init__()
        from pyqemu.hw.core.irq import qdev_init_gpio_in

        self.levels = [0] * GSI_NUM_PINS
        qdev_init_gpio_in(self, self._set_level, GSI_NUM_PINS)

    def _set_level(self, n: int, level: int) -> None:
        self.levels[n] = level


@register_type
class X86MachineState(MachineState):
    """Base of the x86 boards (abstract ``x86-machine``)."""

    TYPE = TYPE_X86_MACHINE
    ABSTRACT = True
    DEFAULT_CPU_TYPE = "qemu64-x86_64-cpu"
    SMP_DIES = True
    #: Boards of one family list together in ``-M help``, newest first (QEMU's ``family``).
    #: What ``query-machines`` reports as ``numa-mem-supported``.
    NUMA_MEM_SUPPORTED: ClassVar[bool] = False

    @classmethod
    def class_init(cls) -> None:
        for name, desc in _ON_OFF_AUTO_PROPS:
            attr = name
            cls.class_property_add(
                name, ON_OFF_AUTO, attr_getter(attr), attr_setter(attr), description=desc,
            )
        for name, attr in (("x-oem-id", "oem_id"), ("x-oem-table-id", "oem_table_id")):
            cls.class_property_add(name, STR, attr_getter(attr), attr_setter(attr), type="string")
        cls.class_property_add(
            "bus-lock-ratelimit", UINT64,
            attr_getter("bus_lock_ratelimit"), attr_setter("bus_lock_ratelimit"),
            description="Set the ratelimit for the bus locks acquired in VMs",
        )

    def __init__(self) -> None:
        super().__init__()
        self.smm = self.acpi = self.pit = self.pic = "auto"
        self.oem_id = "BOCHS "
        self.oem_table_id = "BXPC    "
        self.bus_lock_ratelimit = 0
        self.below_4g_mem_size = 0
        self.above_4g_mem_size = 0
        #: The ``-serial`` backends (Chardev or None per port); the system layer fills it.
        self.gsi: list[Irq] = []
        #: Level of each GSI, until an interrupt controller model receives them.
        self.gsi_levels = [0] * GSI_NUM_PINS
        self.cpus: list[Object] = []
        self.isa_bus: IsaBus | None = None
        self.ioapic: IoapicLines | None = None

    # -- board init ------------------------------------------------------------------

    def init(self) -> None:
        memory = self.memory_system
        self.gsi = self._allocate_gsi()
        self.cpus_init()
        self.board_init(memory)

    def board_init(self, memory: MemorySystem) -> None:
        """The board's RAM layout, chipset and devices. Boards override."""

    def _allocate_gsi(self) -> list[Irq]:
        from pyqemu.hw.core.irq import allocate_irqs, qdev_get_gpio_in

        def record(n: int, level: int) -> None:
            self.gsi_levels[n] = level
            if self.ioapic is not None:
                qdev_get_gpio_in(self.ioapic, n).set(level)

        return allocate_irqs(record, GSI_NUM_PINS)

    def cpus_init(self) -> None:
        """One CPU object per ``-smp`` CPU, numbered as their APIC ids (``x86_cpus_init``)."""
        from pyqemu.hw.core.qdev import qdev_new, qdev_realize
        from pyqemu.hw.core.qdev_monitor import apply_global_props
        from pyqemu.hw.i386.x86_cpu import x86_cpu_class_by_name

        cpu_type = self.cpu_type or type(self).DEFAULT_CPU_TYPE
        assert cpu_type is not None
        typename = x86_cpu_class_by_name(cpu_type.removesuffix("-x86_64-cpu"))
        for index in range(self.smp.cpus):
            cpu = qdev_new(typename)
            try:
                apply_global_props(self, cpu)
                cpu.property_set("apic-id", index)
                cpu.cpu_index = index  # type: ignore[attr-defined]
                qdev_realize(cpu, machine=self)
            except BaseException:
                cpu.unparent()
                raise
            finally:
                cpu.unref()
            self.cpus.append(cpu)

    # -- RAM -----------------------------------------------------------------------------

    def lowmem_limit(self) -> int:
        """How much RAM goes below 4 GiB for this RAM size. Boards override."""
        return min(self.ram_size, 3 * GiB)

    def map_ram(self, memory: MemorySystem) -> MemoryRegion:
        """Map RAM as ``ram-below-4g`` (and ``ram-above-4g`` at 4 GiB); returns the RAM region."""
        from pyqemu.memory.region import MemoryRegion

        ram = machine_ram(self)
        below = min(self.ram_size, self.lowmem_limit())
        self.below_4g_mem_size = below
        self.above_4g_mem_size = self.ram_size - below
        low = MemoryRegion.new_alias(None, "ram-below-4g", ram, 0, below, parent=self.unattached())
        memory.system_memory.add_subregion(0, low)
        if self.above_4g_mem_size:
            high = MemoryRegion.new_alias(
                None, "ram-above-4g", ram, below, self.above_4g_mem_size, parent=self.unattached()
            )
            memory.system_memory.add_subregion(FOUR_GiB, high)
        return ram

    # -- ISA devices --------------------------------------------------------------------------

    def wire_isa_irqs(self, bus: IsaBus) -> None:
        from pyqemu.hw.isa.isa_bus import isa_bus_irqs

        isa_bus_irqs(bus, self.gsi[:ISA_NUM_IRQS])
        self.isa_bus = bus
        self.ioapic = self._ioapic_init()

    def _ioapic_init(self) -> IoapicLines:
        """The ``ioapic`` object: under the PCI host (``/machine/q35/ioapic``), else ``/machine/ioapic``."""
        from pyqemu.hw.core.qdev import qdev_new
        from pyqemu.hw.core.sysbus import sysbus_realize

        pci_bus = getattr(self, "pci_bus", None)
        parent = pci_bus.parent_device if pci_bus is not None else None
        dev = qdev_new(TYPE_IOAPIC)
        assert isinstance(dev, IoapicLines)
        (parent or self).add_child(IOAPIC_CHILD, dev)
        sysbus_realize(dev, self)
        dev.unref()
        return dev

    def create_rtc(self, bus: IsaBus) -> IsaDevice | None:
        """The MC146818 RTC at 0x70, output wired to IRQ 8; QEMU 7.2's x86 boards give it ``base_year`` 0."""
        from pyqemu.hw.isa.isa_bus import isa_connect_gpio_out

        rtc = create_isa_device(self, bus, "mc146818rtc", lambda dev: dev.property_set("base_year", 0))
        isa_connect_gpio_out(rtc, 0, rtc.irq)  # type: ignore[attr-defined]
        self.add_alias("rtc-time", rtc, "date")  # QEMU's /machine rtc-time
        return rtc

    def create_serial_ports(self, bus: IsaBus) -> None:
        """An ``isa-serial`` for each ``-serial`` backend, as ports 0-3 (``serial_hds_isa_init``)."""
        from pyqemu.hw.core.qdev_properties import qdev_prop_set_chr

        for index, chr in enumerate(self.serial_chardevs[:MAX_ISA_SERIAL_PORTS]):
            if chr is None:
                continue

            def configure(dev: IsaDevice, index: int = index, chr: Any = chr) -> None:
                dev.property_set("index", index)
                qdev_prop_set_chr(dev, "chardev", chr)

            create_isa_device(self, bus, "isa-serial", configure)


def create_isa_device(
    machine: MachineState, bus: IsaBus, typename: str, configure: Callable[[IsaDevice], None] | None = None
) -> IsaDevice:
    """Create, configure (``-global`` and compat properties first) and realize an on-board ISA device."""
    from pyqemu.hw.core.qdev_monitor import apply_global_props
    from pyqemu.hw.isa.isa_bus import isa_new, isa_realize_and_unref

    dev = isa_new(typename)
    try:
        apply_global_props(machine, dev)
        if configure is not None:
            configure(dev)
    except BaseException:
        dev.unref()
        raise
    isa_realize_and_unref(dev, bus)
    return dev


def attr_getter(attr: str) -> Callable[[Any], Any]:
    return lambda obj: getattr(obj, attr)


def attr_setter(attr: str) -> Callable[[Any, Any], None]:
    return lambda obj, value: setattr(obj, attr, value)
