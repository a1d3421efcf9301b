"""What every x86 board shares (QEMU's ``X86MachineState``): memory, RAM split, CPUs, interrupt lines.

Board init of an x86 machine reads top to bottom in :meth:`X86MachineState.init`:

1. (the machine base has made ``system``, ``io`` and the main system bus;)
2. RAM split at the board's low-memory limit: ``ram-below-4g`` from 0,
   the rest as ``ram-above-4g`` from 4 GiB, both aliases of one RAM region;
3. the global interrupt lines (GSIs) — ISA IRQ N is GSI N — routed to the
   8259s and I/O APIC(s) once the board has made them (:mod:`x86_gsi`);
4. one CPU object per ``-smp`` CPU at ``/machine/unattached/device[N]``;
5. the board's own chipset and devices (:meth:`X86MachineState.board_init`).

"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from pyqemu.hw.core.machine import MachineState
from pyqemu.hw.core.machine_props import (
    WRAPPING_UINT64,
    ListKind,
    attr_getter,
    attr_setter,
    default_only_setter,
)
from pyqemu.hw.i386.x86_gsi import IOAPIC_NUM_PINS, ISA_NUM_IRQS, GSIState
from pyqemu.qom.object import Object, register_type
from pyqemu.qom.property import BOOL, INT, ON_OFF_AUTO, STR, ObjectProperty, StructKind
from pyqemu.util.errors import ConfigError
from pyqemu.util.units import GiB

if TYPE_CHECKING:
    from pyqemu.hw.core.irq import Irq
    from pyqemu.hw.isa.isa_bus import IsaBus, IsaDevice
    from pyqemu.memory.address_space import MemorySystem
    from pyqemu.memory.region import MemoryRegion

TYPE_X86_MACHINE = "x86-machine"
FOUR_GiB = 4 * GiB
MAX_ISA_SERIAL_PORTS = 4
GSI_NUM_PINS = IOAPIC_NUM_PINS
#: APIC IDs an xAPIC can address (QEMU's ``apic_id_limit`` check without KVM's x2APIC).
XAPIC_ID_LIMIT = 255
DEFAULT_MEMDEV_TYPE = "memory-backend-ram"

#: OnOffAuto machine properties: (name, description).
_ON_OFF_AUTO_PROPS = (
    ("smm", "Enable SMM"),
    ("acpi", "Enable ACPI"),
    ("pit", "Enable i8254 PIT"),
    ("pic", "Enable i8259 PIC"),
)
#: The ACPI table header's OEM fields: (property, attribute, default, size in bytes, description).
_OEM_PROPS = (
    ("x-oem-id", "oem_id", "BOCHS ", 6, "OEM ID written into ACPI table headers (at most 6 bytes)"),
    ("x-oem-table-id", "oem_table_id", "BXPC    ", 8,
     "OEM table ID written into ACPI table headers (at most 8 bytes)"),
)
#: ``sgx-epc``: the SGX enclave page cache sections, each a ``memory-backend-epc`` and a NUMA node.
SGX_EPC_LIST = ListKind(
    StructKind("SgxEPC", (("memdev", STR), ("node", INT)), required=frozenset({"memdev", "node"})), "SgxEPC"
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
        for name, attr, _default, size, desc in _OEM_PROPS:
            cls.class_property_add(name, STR, attr_getter(attr), _oem_setter(name, attr, size),
                                   type="string", description=desc)
        cls.class_property_add(
            "bus-lock-ratelimit", WRAPPING_UINT64, attr_getter("bus_lock_ratelimit"),
            default_only_setter("bus-lock-ratelimit", "bus_lock_ratelimit", 0), type="uint64_t",
            description="Bus locks per second a guest may take before it is slowed down (pyqemu: only 0)",
        )
        cls.class_property_add(
            "sgx-epc", SGX_EPC_LIST, attr_getter("sgx_epc"), attr_setter("sgx_epc"),
            description="SGX enclave page cache sections (memdev, node)",
        )

    def __init__(self) -> None:
        super().__init__()
        self.smm = self.acpi = self.pit = self.pic = "auto"
        for _name, attr, default, _size, _desc in _OEM_PROPS:
            setattr(self, attr, default)
        self.bus_lock_ratelimit = 0
        self.sgx_epc: list[dict[str, Any]] = []
        self.hmat = False
        # The x86 boards support NUMA, so every one has ``hmat`` (QEMU adds it at instance init).
        self.property_add(ObjectProperty(
            "hmat", "bool", BOOL, attr_getter("hmat"), default_only_setter("hmat", "hmat", False),
            description="Whether to describe NUMA memory performance in ACPI (HMAT; pyqemu: only off)",
        ))
        self.below_4g_mem_size = 0
        self.above_4g_mem_size = 0
        self.gsi: list[Irq] = []
        self.gsi_state = GSIState(GSI_NUM_PINS)
        self.cpus: list[Object] = []
        self.isa_bus: IsaBus | None = None

    # -- board init ------------------------------------------------------------------

    @property
    def gsi_levels(self) -> list[int]:
        """The level of each GSI, as devices drive them."""
        return self.gsi_state.levels

    def init(self) -> None:
        memory = self.memory_system
        self.gsi = self._allocate_gsi(self.gsi_count())
        self.memory_init(memory)
        self.cpus_init()
        self.board_init(memory)

    def reset(self) -> None:
        """Devices, then each CPU (its reset handler), then the local APICs again, so that
        nothing a device did at reset sticks in them (QEMU's ``pc_machine_reset``)."""
        super().reset()
        for cpu in self.cpus:
            cpu.reset()  # type: ignore[attr-defined]
        for cpu in self.cpus:
            apic = cpu.child("lapic")
            if apic is not None:
                apic.reset()  # type: ignore[attr-defined]

    def memory_init(self, memory: MemorySystem) -> None:
        """What a board sets up before its CPUs (microvm: RAM and fw_cfg). Boards override."""

    def smm_enabled(self) -> bool:
        """``smm=on``, or ``auto`` and the accelerator offers SMM (``x86_machine_is_smm_enabled``)."""
        if self.smm != "auto":  # type: ignore[attr-defined]
            return bool(self.smm == "on")  # type: ignore[attr-defined]
        accel = getattr(self, "accelerator", None)
        return accel is None or bool(accel.supports_smm())

    def gsi_count(self) -> int:
        """How many GSIs the board has: one I/O APIC's worth unless a board has more."""
        return GSI_NUM_PINS

    def board_init(self, memory: MemorySystem) -> None:
        """The board's RAM layout, chipset and devices. Boards override."""

    def _allocate_gsi(self, count: int) -> list[Irq]:
        from pyqemu.hw.core.irq import allocate_irqs

        self.gsi_state = GSIState(count)
        return allocate_irqs(self.gsi_state.handler, count)

    def cpus_init(self) -> None:
        """One CPU object per ``-smp`` CPU, numbered as their APIC ids (``x86_cpus_init``)."""
        from pyqemu.hw.core.qdev import qdev_new, qdev_realize
        from pyqemu.hw.core.qdev_monitor import apply_global_props
        from pyqemu.hw.i386.x86_cpu import x86_cpu_class_by_name

        if self.smp.max_cpus > XAPIC_ID_LIMIT:
            raise ConfigError("current -smp configuration requires kernel irqchip and X2APIC API support.")
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
        """ISA IRQ N of ``bus`` is GSI N (``isa_bus_irqs``)."""
        from pyqemu.hw.isa.isa_bus import isa_bus_irqs

        isa_bus_irqs(bus, self.gsi[:ISA_NUM_IRQS])
        self.isa_bus = bus

    def pic_init(self, bus: IsaBus) -> None:
        """The 8259 pair on ``bus``, its output to the CPU, GSIs 0-15 to its inputs (``pc_i8259_create``)."""
        from pyqemu.hw.intc.apic import apic_pic_irq
        from pyqemu.hw.intc.i8259 import i8259_init

        self.gsi_state.i8259_irq[:] = i8259_init(bus, apic_pic_irq(self))

    def ioapic_init(self, parent: Object) -> None:
        """The I/O APIC, ``PARENT/ioapic`` at 0xfec00000, on GSIs 0-23 (``ioapic_init_gsi``)."""
        from pyqemu.hw.core.irq import qdev_get_gpio_in
        from pyqemu.hw.intc.apic import apic_bus
        from pyqemu.hw.intc.ioapic import ioapic_eoi_broadcast, ioapic_init_gsi

        dev = ioapic_init_gsi(self, parent)
        self.gsi_state.ioapic_irq[:] = [qdev_get_gpio_in(dev, n) for n in range(IOAPIC_NUM_PINS)]
        apic_bus(self).eoi_listeners.append(lambda vector: ioapic_eoi_broadcast(self, vector))

    def ioapic2_init(self) -> None:
        """A second I/O APIC at 0xfec10000 on GSIs 24-47 (microvm's ``ioapic_init_secondary``)."""
        from pyqemu.hw.core.irq import qdev_get_gpio_in
        from pyqemu.hw.intc.ioapic import ioapic_init_secondary

        dev = ioapic_init_secondary(self)
        self.gsi_state.ioapic2_irq[:] = [qdev_get_gpio_in(dev, n) for n in range(IOAPIC_NUM_PINS)]

    def pit_init(self, bus: IsaBus, alt_irq: Irq | None = None) -> IsaDevice | None:
        """The 8254 at 0x40 on IRQ 0 (or, with an HPET, on its legacy input), unless ``pit=off``."""
        from pyqemu.hw.timer.i8254 import i8254_pit_init

        if self.pit == "off":  # type: ignore[attr-defined]
            return None
        return i8254_pit_init(bus, 0x40, -1 if alt_irq is not None else 0, alt_irq)

    def create_rtc(self, bus: IsaBus, intercept_irq: Irq | None = None) -> IsaDevice | None:
        """The MC146818 RTC at 0x70 on IRQ 8 (or ``intercept_irq``), ``base_year`` 0 as in QEMU 7.2."""
        from pyqemu.hw.core.irq import qdev_connect_gpio_out
        from pyqemu.hw.isa.isa_bus import isa_connect_gpio_out

        rtc = create_isa_device(self, bus, "mc146818rtc", lambda dev: dev.property_set("base_year", 0))
        if intercept_irq is not None:
            qdev_connect_gpio_out(rtc, 0, intercept_irq)
        else:
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


def _oem_setter(name: str, attr: str, size: int) -> Callable[[Any, str], None]:
    """An ACPI OEM field: text of at most ``size`` bytes."""

    def set_value(obj: Any, value: str) -> None:
        if len(value.encode()) > size:
            raise ConfigError(f"User specified {name} value is bigger than {size} bytes in size")
        setattr(obj, attr, value)

    return set_value
