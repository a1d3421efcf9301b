"""What ``pc`` and ``q35`` share (QEMU's ``PCMachineState``, abstract ``generic-pc-machine``).

Board init of a PC, after the x86 steps (memory, CPUs):

1. RAM below / above 4 GiB, and the ``pci`` window under it at priority -1
   that PCI memory BARs and the firmware ROMs live in;
2. ``pc.rom`` for option ROMs at 0xc0000 and the firmware (SeaBIOS by
   default: ``pc.bios`` ending at 4 GiB, its top 128 KiB also at 0xe0000 as
   ``isa-bios``; :mod:`x86_firmware`);
3. the chipset (:meth:`PCMachineState.chipset_init`), which returns ``isa.0``;
4. the ISA devices every PC has: the RTC, the keyboard controller (unless
   ``i8042=off``) and a serial port per ``-serial``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from pyqemu.hw.core.machine_props import attr_getter, attr_setter, not_implemented
from pyqemu.hw.i386.pc_props import pc_class_properties, pc_instance_properties
from pyqemu.hw.i386.x86 import FOUR_GiB, X86MachineState, create_isa_device
from pyqemu.hw.i386.x86_gsi import IOAPIC_NUM_PINS
from pyqemu.qom.object import Object, register_type
from pyqemu.qom.property import ON_OFF_AUTO
from pyqemu.util.errors import ConfigError
from pyqemu.util.units import GiB, KiB, round_up

if TYPE_CHECKING:
    from pyqemu.hw.core.sysbus import SysBusDevice
    from pyqemu.hw.isa.isa_bus import IsaBus
    from pyqemu.hw.pci.pci import PCIBus
    from pyqemu.memory.address_space import MemorySystem
    from pyqemu.memory.region import MemoryRegion

TYPE_PC_MACHINE = "generic-pc-machine"
HPET_BASE = 0xFED00000
PC_ROM_BASE = 0xC0000
PC_ROM_SIZE = 128 * KiB
BIOS_FILE = "bios-256k.bin"
#: The firmware when ``firmware`` is unset, as it is by default for versions 1.7 and older.
FALLBACK_BIOS_FILE = "bios.bin"
#: Ports firmware pokes for delays and the FPU (``ioport80``, ``ioportF0``): accepted and ignored.
DUMMY_PORTS = (("ioport80", 0x80), ("ioportF0", 0xF0))
#: Default limit of RAM below 4 GiB before the split (QEMU's ``max-ram-below-4g`` default).
DEFAULT_MAX_RAM_BELOW_4G = 0xE0000000
#: With gigabyte alignment, at most this much RAM stays below 4 GiB once RAM reaches the limit.
GIGABYTE_ALIGNED_LOWMEM = 3 * GiB
#: Memory slots ACPI can describe for hot-pluggable DIMMs (QEMU's ``ACPI_MAX_RAM_SLOTS``).
ACPI_MAX_RAM_SLOTS = 256
#: ``maxmem`` must be a whole number of guest pages.
TARGET_PAGE_SIZE = 4096
#: Room reserved per memory slot so that each DIMM can be 1 GiB aligned (QEMU's ``enforce_aligned_dimm``).
DIMM_ALIGN = 1 * GiB
TYPE_HOTPLUG_HANDLER = "hotplug-handler"
TYPE_SGX_EPC_BACKEND = "memory-backend-epc"


@register_type
class PCMachineState(X86MachineState):
    """Base of the PC boards (abstract ``generic-pc-machine``)."""

    TYPE = TYPE_PC_MACHINE
    ABSTRACT = True
    DEFAULT_RAM_ID = "pc.ram"
    MAX_CPUS = 255
    #: Whether the RAM split falls on a gigabyte boundary (QEMU's ``gigabyte_align``).
    GIGABYTE_ALIGN: ClassVar[bool] = True
    #: The HPET's interrupt routing capability (which GSIs its timers may use).
    HPET_INTCAP: ClassVar[int] = 0x4
    #: Whether the board has a floppy controller even without floppy drives (QEMU's ``pc`` does).
    HAS_FLOPPY: ClassVar[bool] = True
    DEFAULT_BOOT_ORDER = "cad"
    #: ``firmware`` and ``suppress-vmdesc`` as the version's default ``-M`` options set them.
    DEFAULT_FIRMWARE: ClassVar[str | None] = BIOS_FILE
    DEFAULT_SUPPRESS_VMDESC: ClassVar[bool] = False
    #: ``max-ram-below-4g`` when not given (filled in at board init, as QEMU does).
    DEFAULT_MAX_RAM_BELOW_4G: ClassVar[int] = DEFAULT_MAX_RAM_BELOW_4G
    #: Whether ``maxmem`` / ``slots`` are supported (QEMU's ``has_reserved_memory``).
    HAS_RESERVED_MEMORY: ClassVar[bool] = True
    #: Whether device memory has 1 GiB of room per slot (QEMU's ``enforce_aligned_dimm``).
    ENFORCE_ALIGNED_DIMM: ClassVar[bool] = True

    @classmethod
    def class_init(cls) -> None:
        cls.class_property_add("vmport", ON_OFF_AUTO, attr_getter("vmport"), attr_setter("vmport"),
                               description="Enable vmport (pc & q35)")
        pc_class_properties(cls)

    def __init__(self) -> None:
        super().__init__()
        self.firmware = self.DEFAULT_FIRMWARE
        self.suppress_vmdesc = self.DEFAULT_SUPPRESS_VMDESC
        self.vmport = "auto"
        self.rtc: object | None = None
        self.a20 = 1
        self.pci_bus: PCIBus | None = None
        self.pcspk: Any = None
        #: The device memory container (``-m …,maxmem=``), None without one.
        self.device_memory: MemoryRegion | None = None
        self.acpi_dev: Object | None = None
        pc_instance_properties(self)

    @property
    def device_memory_size(self) -> int:
        """``device-memory-region-size``: 0 without device memory."""
        return self.device_memory.size if self.device_memory is not None else 0

    def board_init(self, memory: MemorySystem) -> None:
        self._resolve_defaults()
        self.map_ram(memory)
        self._sgx_epc_init()
        self._device_memory_init(memory)
        pci_memory = self._pci_window(memory)
        self._firmware_init(pci_memory)
        self._dummy_ports(memory)
        self.fw_cfg_init()
        isa_bus = self.chipset_init(memory, pci_memory)
        self.wire_isa_irqs(isa_bus)
        if self.pic != "off":  # type: ignore[attr-defined]
            self.pic_init(isa_bus)
        assert self.pci_bus is not None and self.pci_bus.parent_device is not None
        self.ioapic_init(self.pci_bus.parent_device)
        self.basic_devices_init(isa_bus)
        self.southbridge_init(isa_bus)

    def _resolve_defaults(self) -> None:
        """What QEMU fills in at board init: ``vmport=auto`` is on (no Xen), the low-memory limit."""
        if self.vmport == "auto":
            self.vmport = "on"
        if not self.max_ram_below_4g:  # type: ignore[has-type]
            self.max_ram_below_4g = self.DEFAULT_MAX_RAM_BELOW_4G
        warning = self.ram_split_warning()
        if warning is not None:
            self.warn(warning)

    def set_acpi_device(self, dev: Object) -> None:
        """Board code: ``dev`` (PIIX4_PM, ICH9-LPC) handles ACPI hotplug; link it as ``acpi-device``.

        As in QEMU the link is settable, but only to the device it already names.
        """
        from pyqemu.qom.path import resolve_link
        from pyqemu.qom.property import STR, ObjectProperty

        def set_path(obj: Any, path: str) -> None:
            target = resolve_link(obj.root(), path, "acpi-device", TYPE_HOTPLUG_HANDLER) if path else None
            if target is not self.acpi_dev:
                raise not_implemented("acpi-device")

        self.acpi_dev = dev
        self.property_add(ObjectProperty(
            "acpi-device", f"link<{TYPE_HOTPLUG_HANDLER}>", STR, lambda _obj: dev.canonical_path(), set_path,
            link_target=TYPE_HOTPLUG_HANDLER,
        ))

    def _sgx_epc_init(self) -> None:
        """``sgx-epc`` sections need ``memory-backend-epc`` objects, which pyqemu cannot make."""
        from pyqemu.qom.path import resolve_link

        for section in self.sgx_epc:  # type: ignore[attr-defined]
            resolve_link(self.root(), section["memdev"], "memdev", TYPE_SGX_EPC_BACKEND)
            raise not_implemented("sgx-epc")

    def pci_hole64_start(self) -> int:
        """Where the 64-bit PCI window starts without 64-bit BARs (``pc_pci_hole64_start``):
        above RAM and device memory, on a 1 GiB boundary."""
        if self.device_memory is not None:
            start = self.device_memory.addr + self.device_memory.size
        else:
            start = FOUR_GiB + self.above_4g_mem_size
        return round_up(start, GiB)

    def _device_memory_init(self, memory: MemorySystem) -> None:
        """The ``device-memory`` container above RAM for ``maxmem`` (QEMU's ``pc_memory_init``)."""
        from pyqemu.memory.region import SIZE_2_64, MemoryRegion

        if (self.maxram_size > self.ram_size or self.ram_slots) and not self.HAS_RESERVED_MEMORY:
            raise ConfigError(f"\"-memory 'slots|maxmem'\" is not supported by: {self.machine_name()}")
        if not self.maxram_size > self.ram_size:
            return
        if self.ram_slots > ACPI_MAX_RAM_SLOTS:
            raise ConfigError(f"unsupported amount of memory slots: {self.ram_slots}")
        if self.maxram_size % TARGET_PAGE_SIZE:
            raise ConfigError(f"maximum memory size must by aligned to multiple of {TARGET_PAGE_SIZE} bytes")
        size = self.maxram_size - self.ram_size
        if self.ENFORCE_ALIGNED_DIMM:
            size += DIMM_ALIGN * self.ram_slots
        base = round_up(FOUR_GiB + self.above_4g_mem_size, GiB)
        if base + size >= SIZE_2_64:
            raise ConfigError(f"unsupported amount of maximum memory: {self.maxram_size:x}")
        self.device_memory = MemoryRegion.new_container(self, "device-memory", size)
        memory.system_memory.add_subregion(base, self.device_memory)

    def fw_cfg_init(self) -> None:
        """``/machine/fw_cfg`` at 0x510 with the x86 entries (``fw_cfg_arch_create``)."""
        from pyqemu.hw.i386.fw_cfg import fw_cfg_arch_create

        fw_cfg_arch_create(self, self.smp.cpus, self.smp.max_cpus)

    def chipset_init(self, memory: MemorySystem, pci_memory: MemoryRegion) -> IsaBus:
        """Host bridge, root bus and ISA bridge; returns ``isa.0``. Boards override."""
        raise NotImplementedError

    def southbridge_init(self, isa_bus: IsaBus) -> None:
        """The disk controller, power management and SMBus after the basic devices. Boards override."""

    def basic_devices_init(self, isa_bus: IsaBus) -> None:
        """HPET, RTC, PIT, speaker, then the super I/O devices (``pc_basic_device_init``)."""
        from pyqemu.hw.core.irq import qdev_connect_gpio_out, qdev_get_gpio_in
        from pyqemu.hw.timer.hpet import HPET_LEGACY_PIT_INT, HPET_LEGACY_RTC_INT

        hpet = self.hpet_init() if self.hpet else None  # type: ignore[attr-defined]
        pit_irq = qdev_get_gpio_in(hpet, HPET_LEGACY_PIT_INT) if hpet is not None else None
        rtc_irq = qdev_get_gpio_in(hpet, HPET_LEGACY_RTC_INT) if hpet is not None else None
        self.rtc = self.create_rtc(isa_bus, rtc_irq)
        self.add_link("rtc_state", "isa-device", lambda: self.rtc)  # type: ignore[arg-type, return-value]
        pit = self.pit_init(isa_bus, pit_irq)
        if pit is not None:
            from pyqemu.hw.audio.pcspk import pcspk_init

            if hpet is not None:
                qdev_connect_gpio_out(hpet, 0, qdev_get_gpio_in(pit, 0))  # HPET legacy mode stops the PIT
            pcspk_init(isa_bus, pit, self.pcspk)  # type: ignore[arg-type]
            self.pcspk = None  # realized on the ISA bus, which now holds it
        self.superio_init(isa_bus)

    def hpet_init(self) -> SysBusDevice:
        """The HPET at 0xfed00000 on the GSIs, with the board's routing unless ``-global`` set one."""
        from pyqemu.hw.core.qdev import qdev_new, qdev_realize_and_unref
        from pyqemu.hw.core.qdev_monitor import apply_global_props
        from pyqemu.hw.core.sysbus import (
            SysBusDevice,
            sysbus_connect_irq,
            sysbus_get_default,
            sysbus_mmio_map,
        )

        hpet = qdev_new("hpet")
        assert isinstance(hpet, SysBusDevice)
        try:
            apply_global_props(self, hpet)
            if not hpet.hpet_intcap:  # type: ignore[attr-defined]
                hpet.property_set("hpet-intcap", type(self).HPET_INTCAP)
        except BaseException:
            hpet.unref()
            raise
        qdev_realize_and_unref(hpet, sysbus_get_default(self))
        sysbus_mmio_map(hpet, 0, HPET_BASE)
        for gsi, line in enumerate(self.gsi[:IOAPIC_NUM_PINS]):
            sysbus_connect_irq(hpet, gsi, line)
        return hpet

    def superio_init(self, isa_bus: IsaBus) -> None:
        """Serial ports, floppy controller, i8042, vmport / vmmouse, port 0x92, A20 (``pc_superio_init``)."""
        from pyqemu.hw.i386.port92 import connect_a20_lines, port92_init
        from pyqemu.hw.i386.vmmouse import vmmouse_init
        from pyqemu.hw.i386.vmport import vmport_init

        self.create_serial_ports(isa_bus)
        if self.HAS_FLOPPY:
            from pyqemu.hw.block.fdc_isa import isa_fdc_create

            isa_fdc_create(isa_bus)
        if not self.i8042:  # type: ignore[attr-defined]
            return  # QEMU 7.2 then makes no vmport either, whatever ``vmport`` says
        i8042 = create_isa_device(self, isa_bus, "i8042")
        if self.vmport == "on":
            vmport_init(isa_bus)
            vmmouse_init(isa_bus, i8042)
        port92 = port92_init(isa_bus)
        connect_a20_lines(i8042, port92, self.set_a20)

    def smi_request(self, level: int) -> None:
        """The chipset SMI line (APM port 0xb2): an SMI for the first CPU (``pc_acpi_smi_interrupt``)."""
        from pyqemu.hw.intc.apic_bus import CpuInterrupt

        apic = getattr(self.cpus[0], "apic", None) if self.cpus else None
        if level and apic is not None and apic.core is not None:
            apic.core.cpu_interrupt(CpuInterrupt.SMI)

    def set_a20(self, level: int) -> None:
        """The A20 gate, from the keyboard controller or port 0x92: kept for the CPUs."""
        self.a20 = level

    # -- memory ------------------------------------------------------------------------

    def lowmem_limit(self) -> int:
        """i440FX: RAM up to ``max-ram-below-4g`` (3.5 GiB) stays below 4 GiB; once RAM reaches
        that limit, at most 3 GiB if the board keeps the split gigabyte aligned (``pc_init1``)."""
        limit = self.max_ram_below_4g or self.DEFAULT_MAX_RAM_BELOW_4G
        if self.ram_size >= limit and self.GIGABYTE_ALIGN:
            return min(limit, GIGABYTE_ALIGNED_LOWMEM)
        return limit

    def ram_split_warning(self) -> str | None:
        """QEMU's warning when RAM splits at a limit that is not a multiple of 1 GiB."""
        limit = self.max_ram_below_4g
        if self.ram_size >= limit and self.GIGABYTE_ALIGN and self.lowmem_limit() % GiB:
            return (f"Large machine and max_ram_below_4g ({limit}) not a multiple of 1G; "
                    "possible bad performance.")
        return None

    def _pci_window(self, memory: MemorySystem) -> MemoryRegion:
        from pyqemu.memory.region import UINT64_MAX, MemoryRegion

        pci = MemoryRegion.new_container(None, "pci", UINT64_MAX, parent=self.unattached())
        memory.system_memory.add_subregion_overlap(0, pci, -1)
        return pci

    def _firmware_init(self, pci_memory: MemoryRegion) -> None:
        """``pc.rom`` for option ROMs at 0xc0000, then the BIOS (``-bios``, default SeaBIOS)."""
        from pyqemu.hw.i386.x86_firmware import x86_bios_rom_init
        from pyqemu.memory.region import MemoryRegion

        option_rom = MemoryRegion.new_rom(None, "pc.rom", PC_ROM_SIZE, parent=self.unattached())
        pci_memory.add_subregion_overlap(PC_ROM_BASE, option_rom, 1)
        x86_bios_rom_init(self, self.firmware or FALLBACK_BIOS_FILE, pci_memory, ram_fw=False)

    def _dummy_ports(self, memory: MemorySystem) -> None:
        from pyqemu.memory.region import MemoryRegion, MemoryRegionOps

        ops = MemoryRegionOps(read=lambda _addr, _size: 0xFF, write=lambda _addr, _value, _size: None)
        for name, port in DUMMY_PORTS:
            region = MemoryRegion.new_io(None, ops, name, 1, parent=self.unattached())
            memory.system_io.add_subregion(port, region)

