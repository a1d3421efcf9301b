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
from pyqemu.qom.object import register_type
from pyqemu.qom.property import BOOL, ON_OFF_AUTO, SIZE
from pyqemu.util.units import GiB, KiB

if TYPE_CHECKING:
    from pyqemu.hw.isa.isa_bus import IsaBus
    from pyqemu.hw.pci.pci import PCIBus
    from pyqemu.memory.address_space import MemorySystem
    from pyqemu.memory.region import MemoryRegion

TYPE_PC_MACHINE = "generic-pc-machine"
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
        self.pci_bus: PCIBus | None = None
        self.add_link("rtc_state", "isa-device", lambda: self.rtc)  # type: ignore[arg-type, return-value]

    def board_init(self, memory: MemorySystem) -> None:
        self.map_ram(memory)
        pci_memory = self._pci_window(memory)
        self._firmware_init(pci_memory)
        self._dummy_ports(memory)
        isa_bus = self.chipset_init(memory, pci_memory)
        self.wire_isa_irqs(isa_bus)
        self.basic_devices_init(isa_bus)

    def chipset_init(self, memory: MemorySystem, pci_memory: MemoryRegion) -> IsaBus:
        """Host bridge, root bus and ISA bridge; returns ``isa.0``. Boards override."""
        raise NotImplementedError

    def basic_devices_init(self, isa_bus: IsaBus) -> None:
        """The RTC, the keyboard controller and the serial ports (``pc_basic_device_init``)."""
        self.rtc = self.create_rtc(isa_bus)
        if self.i8042:  # type: ignore[attr-defined]
            create_isa_device(self, isa_bus, "i8042")
        self.create_serial_ports(isa_bus)

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

