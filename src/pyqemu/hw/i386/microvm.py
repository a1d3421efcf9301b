"""The ``microvm`` board: no PCI, a minimal firmware (qboot), for directly booted Linux guests.

Board init (:meth:`MicrovmMachine.board_init`): RAM (split at 3 GiB) and
fw_cfg, ``isa.0`` on a bare ``isabus-bridge``, the I/O APIC(s), the
virtio-mmio transports, the ACPI generic event device, the 8259s and the
PIT, the RTC (``rtc=on`` or ``auto``), with ``isa-serial=on`` a serial port
per ``-serial``, and last the firmware (qboot) as RAM ending at 4 GiB.  As in
QEMU 7.2 it has no keyboard controller: guests reset by triple fault.

Empty virtio-mmio transports sit 512 bytes apart from 0xfeb00000: 24 of
them on GSIs 24-47 (the second I/O APIC's pins) when ACPI is on and
``ioapic2`` is not off, else 8 on GSIs 16-23 (ACPI on) or 5-12 (ACPI off).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.hw.core.machine_props import attr_getter, attr_setter
from pyqemu.hw.i386.x86 import X86MachineState
from pyqemu.hw.i386.x86_gsi import IOAPIC_NUM_PINS
from pyqemu.qom.object import register_type
from pyqemu.qom.property import BOOL, ON_OFF_AUTO
from pyqemu.util.units import GiB

if TYPE_CHECKING:
    from pyqemu.memory.address_space import MemorySystem

TYPE_MICROVM_MACHINE = "microvm-machine"
MICROVM_LOWMEM = 3 * GiB
MICROVM_MAX_CPUS = 288
VIRTIO_MMIO_BASE = 0xFEB00000
MICROVM_BIOS_FILE = "bios-microvm.bin"  # qboot
GED_IRQ = 9
#: Transports and their first GSI (QEMU's ``virtio_num_transports``, ``virtio_irq_base``).
VIRTIO_ON_IOAPIC2 = (24, 24)
VIRTIO_WITH_ACPI = (8, 16)
VIRTIO_WITHOUT_ACPI = (8, 5)

_PROPS = (
    ("rtc", ON_OFF_AUTO, "rtc", "auto", "Enable MC146818 RTC"),
    ("pcie", ON_OFF_AUTO, "pcie", "auto", "Enable PCIe"),
    ("ioapic2", ON_OFF_AUTO, "ioapic2", "auto", "Enable second IO-APIC"),
    ("isa-serial", BOOL, "isa_serial", True, "Set off to disable the instantiation an ISA serial port"),
    ("x-option-roms", BOOL, "option_roms", True, "Set off to disable loading option ROMs"),
    ("auto-kernel-cmdline", BOOL, "auto_kernel_cmdline", True,
     "Set off to disable adding virtio-mmio devices to the kernel cmdline"),
)


@register_type
class MicrovmMachine(X86MachineState):
    """The ``microvm`` board."""

    TYPE = TYPE_MICROVM_MACHINE
    NAME = "microvm"
    DESCRIPTION = "microvm (i386)"
    FAMILY = "microvm_i386"
    DEFAULT_RAM_ID = "microvm.ram"
    MAX_CPUS = MICROVM_MAX_CPUS
    NO_PARALLEL = NO_FLOPPY = NO_CDROM = True

    @classmethod
    def class_init(cls) -> None:
        for name, kind, attr, _default, desc in _PROPS:
            cls.class_property_add(name, kind, attr_getter(attr), attr_setter(attr), description=desc)

    def __init__(self) -> None:
        super().__init__()
        for _name, _kind, attr, default, _desc in _PROPS:
            setattr(self, attr, default)

    def lowmem_limit(self) -> int:
        return MICROVM_LOWMEM

    def memory_init(self, memory: MemorySystem) -> None:
        """RAM and fw_cfg, before the CPUs (``microvm_memory_init``)."""
        from pyqemu.hw.i386.fw_cfg import fw_cfg_microvm_create

        self.map_ram(memory)
        fw_cfg_microvm_create(self)

    def board_init(self, memory: MemorySystem) -> None:
        """The devices in QEMU's order (``microvm_devices_init``), the firmware last."""
        from pyqemu.hw.core.sysbus import sysbus_get_default
        from pyqemu.hw.i386.x86_firmware import x86_bios_rom_init
        from pyqemu.hw.isa.isa_bus import isa_bus_new

        isa_bus = isa_bus_new(None, memory.system_io, memory=memory.system_memory,
                              sysbus=sysbus_get_default(self))
        self.wire_isa_irqs(isa_bus)
        self.ioapic_init(self)
        if self.ioapic_count() > 1:
            self.ioapic2_init()
        self.create_virtio_transports()
        if self.acpi_enabled():
            self.ged_init()
        if self.pic != "off":  # type: ignore[attr-defined]
            self.pic_init(isa_bus)
        self.pit_init(isa_bus)
        if self.rtc != "off":  # type: ignore[attr-defined]
            self.create_rtc(isa_bus)
        if self.isa_serial:  # type: ignore[attr-defined]
            self.create_serial_ports(isa_bus)
        x86_bios_rom_init(self, self.firmware or MICROVM_BIOS_FILE, memory.system_memory, ram_fw=True)

    def ioapic_count(self) -> int:
        """Two I/O APICs unless ``ioapic2=off`` or ACPI is off (``microvm_ioapics``)."""
        return 2 if self.ioapic2 != "off" and self.acpi_enabled() else 1  # type: ignore[attr-defined]

    def gsi_count(self) -> int:
        return IOAPIC_NUM_PINS * self.ioapic_count()

    def ged_init(self) -> None:
        """The ACPI generic event device: power-button events, sleep and reset registers, on GSI 9."""
        from pyqemu.hw.acpi.generic_event_device import acpi_ged_x86_init

        acpi_ged_x86_init(self, self.gsi[GED_IRQ])

    def acpi_enabled(self) -> bool:
        """Whether ACPI is on (``acpi=on`` or ``auto``; QEMU's ``x86_machine_is_acpi_enabled``)."""
        return self.acpi != "off"  # type: ignore[attr-defined]

    def virtio_layout(self) -> tuple[int, int]:
        """How many virtio-mmio transports, and the GSI of the first (``microvm_devices_init``)."""
        if not self.acpi_enabled():
            return VIRTIO_WITHOUT_ACPI
        return VIRTIO_ON_IOAPIC2 if self.ioapic_count() > 1 else VIRTIO_WITH_ACPI

    def create_virtio_transports(self) -> None:
        """Empty ``virtio-mmio`` transports at ``VIRTIO_MMIO_BASE + 512 * N`` on consecutive GSIs."""
        from pyqemu.hw.core.qdev import qdev_new, qdev_realize_and_unref
        from pyqemu.hw.core.qdev_monitor import apply_global_props
        from pyqemu.hw.core.sysbus import (
            SysBusDevice,
            sysbus_connect_irq,
            sysbus_get_default,
            sysbus_mmio_map,
        )
        from pyqemu.hw.virtio.virtio_mmio import TYPE_VIRTIO_MMIO, VIRTIO_MMIO_SIZE

        count, irq_base = self.virtio_layout()
        for index in range(count):
            dev = qdev_new(TYPE_VIRTIO_MMIO)
            assert isinstance(dev, SysBusDevice)
            try:
                apply_global_props(self, dev)  # -global virtio-mmio.force-legacy=off
            except BaseException:
                dev.unref()
                raise
            qdev_realize_and_unref(dev, sysbus_get_default(self))
            sysbus_mmio_map(dev, 0, VIRTIO_MMIO_BASE + index * VIRTIO_MMIO_SIZE)
            gsi = irq_base + index
            if gsi < len(self.gsi):
                sysbus_connect_irq(dev, 0, self.gsi[gsi])
