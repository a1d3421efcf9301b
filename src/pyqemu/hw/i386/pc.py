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

from typing import TYPE_CHECKING, ClassVar

from pyqemu.hw.i386.x86 import X86MachineState, attr_getter, attr_setter, create_isa_device
from pyqemu.hw.i386.x86_gsi import IOAPIC_NUM_PINS
from pyqemu.qom.object import register_type
from pyqemu.qom.property import BOOL, ON_OFF_AUTO, SIZE
from pyqemu.util.errors import ConfigError
from pyqemu.util.units import GiB, KiB

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
#: Ports firmware pokes for delays and the FPU (``ioport80``, ``ioportF0``): accepted and ignored.
DUMMY_PORTS = (("ioport80", 0x80), ("ioportF0", 0xF0))
#: Default limit of RAM below 4 GiB before the split (QEMU's ``max-ram-below-4g`` default).
DEFAULT_MAX_RAM_BELOW_4G = 0xE0000000

_BOOL_PROPS = (
    ("i8042", "i8042", True), ("hpet", "hpet", True), ("sata", "sata", True), ("smbus", "smbus", True),
)


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

    @classmethod
    def class_init(cls) -> None:
        for name, attr, _default in _BOOL_PROPS:
            cls.class_property_add(name, BOOL, attr_getter(attr), attr_setter(attr))
        cls.class_property_add("vmport", ON_OFF_AUTO, attr_getter("vmport"), attr_setter("vmport"),
                               description="Enable vmport (pc & q35)")
        cls.class_property_add("max-ram-below-4g", SIZE, attr_getter("max_ram_below_4g"),
                               attr_setter("max_ram_below_4g"),
                               description="Maximum ram below the 4G boundary (32bit boundary)")

    def __init__(self) -> None:
        super().__init__()
        for _name, attr, default in _BOOL_PROPS:
            setattr(self, attr, default)
        self.vmport = "auto"
        self.max_ram_below_4g = 0
        self.rtc: object | None = None
        self.a20 = 1
        self.pci_bus: PCIBus | None = None
        self.add_link("rtc_state", "isa-device", lambda: self.rtc)  # type: ignore[arg-type, return-value]

    def board_init(self, memory: MemorySystem) -> None:
        self.map_ram(memory)
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
        pit = self.pit_init(isa_bus, pit_irq)
        if pit is not None:
            from pyqemu.hw.audio.pcspk import pcspk_init

            if hpet is not None:
                qdev_connect_gpio_out(hpet, 0, qdev_get_gpio_in(pit, 0))  # HPET legacy mode stops the PIT
            pcspk_init(isa_bus, pit)  # type: ignore[arg-type]
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
        vmport = self.vmport != "off"  # type: ignore[attr-defined]
        if not self.i8042:  # type: ignore[attr-defined]
            if vmport and self.vmport == "on":  # type: ignore[attr-defined]
                raise ConfigError("vmport requires the i8042 controller to be enabled")
            return
        i8042 = create_isa_device(self, isa_bus, "i8042")
        if vmport:
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
        """i440FX: up to 3.5 GiB below 4 GiB; from 3.5 GiB of RAM on, 3 GiB (gigabyte aligned)."""
        limit = self.max_ram_below_4g or DEFAULT_MAX_RAM_BELOW_4G
        if self.ram_size >= limit and self.GIGABYTE_ALIGN and limit > 3 * GiB:
            return 3 * GiB
        return limit

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
        x86_bios_rom_init(self, self.firmware or BIOS_FILE, pci_memory, ram_fw=False)

    def _dummy_ports(self, memory: MemorySystem) -> None:
        from pyqemu.memory.region import MemoryRegion, MemoryRegionOps

        ops = MemoryRegionOps(read=lambda _addr, _size: 0xFF, write=lambda _addr, _value, _size: None)
        for name, port in DUMMY_PORTS:
            region = MemoryRegion.new_io(None, ops, name, 1, parent=self.unattached())
            memory.system_io.add_subregion(port, region)

