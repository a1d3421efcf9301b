"""The ACPI Generic Event Device (``acpi-ged``, ``acpi-ged-x86``; QEMU's ``generic_event_device.c``).

Hardware-reduced ACPI (``microvm``) has no PM1 blocks or GPEs; events reach
the guest through this device instead.  Its MMIO regions, numbered as the
board maps them:

0. ``acpi-ged`` (4 bytes, 32-bit reads only): the event selector.  The
   device ORs an event's bit in and pulses its interrupt; the guest's ACPI
   code reads the selector, which clears it.  Bits: 1 memory hot-plug, 2
   power down, 4 NVDIMM hot-plug; ``ged-event`` says which the board uses.
1. ``memhp container`` (0x18 bytes): room for the memory hot-plug block
   (only with ``-m slots=``; not modelled yet, so it stays empty).
2. ``acpi-ged-regs`` (3 bytes, byte accesses): the hardware-reduced sleep
   control (a write with SLP_EN and sleep type 5 powers off), sleep status
   and the reset register (0x42 resets the machine); they read 0.
"""

from __future__ import annotations

from typing import Any

from pyqemu.hw.acpi.core import AcpiEvent
from pyqemu.hw.acpi.host import HostPower
from pyqemu.hw.core.irq import Irq
from pyqemu.hw.core.qdev import qdev_get_machine
from pyqemu.hw.core.qdev_properties import prop_uint32
from pyqemu.hw.core.sysbus import SysBusDevice, sysbus_init_irq, sysbus_init_mmio
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type

TYPE_ACPI_GED = "acpi-ged"
TYPE_ACPI_GED_X86 = "acpi-ged-x86"
ACPI_GED_EVT_SEL_OFFSET = 0x0
ACPI_GED_EVT_SEL_LEN = 0x4
MEMORY_HOTPLUG_IO_LEN = 0x18
ACPI_GED_REG_SLEEP_CTL = 0x00
ACPI_GED_REG_SLEEP_STS = 0x01
ACPI_GED_REG_RESET = 0x02
ACPI_GED_REG_COUNT = 3
ACPI_GED_RESET_VALUE = 0x42
ACPI_GED_SLP_TYP_POS = 2
ACPI_GED_SLP_TYP_MASK = 0x07
ACPI_GED_SLP_TYP_S5 = 0x05
ACPI_GED_SLP_EN = 0x20

ACPI_GED_MEM_HOTPLUG_EVT = 0x1
ACPI_GED_PWR_DOWN_EVT = 0x2
ACPI_GED_NVDIMM_HOTPLUG_EVT = 0x4
#: Which selector bit each ACPI event sets, in QEMU's order of preference.
_EVENT_SELECTOR = (
    (AcpiEvent.MEMORY_HOTPLUG, ACPI_GED_MEM_HOTPLUG_EVT),
    (AcpiEvent.POWER_DOWN, ACPI_GED_PWR_DOWN_EVT),
    (AcpiEvent.NVDIMM_HOTPLUG, ACPI_GED_NVDIMM_HOTPLUG_EVT),
)

# Where microvm maps the regions, and its interrupt.
GED_MMIO_BASE = 0xFEA00000
GED_MMIO_BASE_MEMHP = GED_MMIO_BASE + 0x100
GED_MMIO_BASE_REGS = GED_MMIO_BASE + 0x200
GED_MMIO_IRQ = 9
# The regions' numbers.
GED_MMIO_EVT = 0
GED_MMIO_MEMHP = 1
GED_MMIO_REGS = 2


@register_type
class AcpiGed(SysBusDevice):
    """The generic event device (``acpi-ged``)."""

    TYPE = TYPE_ACPI_GED
    DESCRIPTION = "ACPI Generic Event Device"
    HOTPLUGGABLE = False
    PROPERTIES = (prop_uint32("ged-event", default=0),)

    def __init__(self) -> None:
        super().__init__()
        self.sel = 0
        evt_ops = MemoryRegionOps(read=self.evt_read, write=self.evt_write, endianness=Endianness.LITTLE,
                                  valid=AccessSizes(4, 4))
        sysbus_init_mmio(self, MemoryRegion.new_io(self, evt_ops, TYPE_ACPI_GED, ACPI_GED_EVT_SEL_LEN))
        self.irq = sysbus_init_irq(self)
        sysbus_init_mmio(self, MemoryRegion.new_container(self, "memhp container", MEMORY_HOTPLUG_IO_LEN))
        regs_ops = MemoryRegionOps(read=self.regs_read, write=self.regs_write, endianness=Endianness.LITTLE,
                                   valid=AccessSizes(1, 1))
        regs = MemoryRegion.new_io(self, regs_ops, f"{TYPE_ACPI_GED}-regs", ACPI_GED_REG_COUNT)
        sysbus_init_mmio(self, regs)

    def realize(self) -> None:
        self.power = HostPower(qdev_get_machine(self).host)

    # -- registers ------------------------------------------------------------------------

    def evt_read(self, offset: int, size: int = 4) -> int:
        """The selector, cleared by the read."""
        if offset != ACPI_GED_EVT_SEL_OFFSET:
            return 0
        value, self.sel = self.sel, 0
        return value

    def evt_write(self, offset: int, value: int, size: int = 4) -> None:
        """Nothing is expected to be written to the selector."""

    def regs_read(self, offset: int, size: int = 1) -> int:
        return 0

    def regs_write(self, offset: int, value: int, size: int = 1) -> None:
        if offset == ACPI_GED_REG_SLEEP_CTL:
            sleep_type = (value >> ACPI_GED_SLP_TYP_POS) & ACPI_GED_SLP_TYP_MASK
            if value & ACPI_GED_SLP_EN and sleep_type == ACPI_GED_SLP_TYP_S5:
                self.power.shutdown()
        elif offset == ACPI_GED_REG_RESET and value == ACPI_GED_RESET_VALUE:
            self.power.reset()

    # -- events -----------------------------------------------------------------------------

    def send_event(self, event: int) -> None:
        """Signal ``event`` (:class:`~pyqemu.hw.acpi.core.AcpiEvent` bits): its selector bit, an IRQ pulse."""
        selector = next((sel for bit, sel in _EVENT_SELECTOR if event & bit), None)
        if selector is None:
            host = qdev_get_machine(self).host
            host.warn(f"GED: Unsupported event {event}. No irq injected")
            return
        self.sel |= selector
        self.irq.pulse()

    def power_down(self) -> None:
        """``system_powerdown`` on a hardware-reduced machine."""
        self.send_event(AcpiEvent.POWER_DOWN)


@register_type
class AcpiGedX86(AcpiGed):
    """The x86 flavour (``acpi-ged-x86``): the same device, for microvm's ACPI tables."""

    TYPE = TYPE_ACPI_GED_X86


def acpi_ged_x86_init(machine: Any, irq: Irq | None, ged_event: int = ACPI_GED_PWR_DOWN_EVT) -> AcpiGedX86:
    """Board code (microvm): the GED with its selector at 0xfea00000, registers at 0xfea00200.

    ``irq`` is GSI 9; ``system_powerdown`` reaches the guest through it.
    """
    from pyqemu.hw.core.qdev import qdev_new
    from pyqemu.hw.core.sysbus import sysbus_connect_irq, sysbus_mmio_map, sysbus_realize

    dev = qdev_new(TYPE_ACPI_GED_X86)
    assert isinstance(dev, AcpiGedX86)
    dev.property_set("ged-event", ged_event)
    try:
        sysbus_realize(dev, machine)
    finally:
        dev.unref()
    sysbus_mmio_map(dev, GED_MMIO_EVT, GED_MMIO_BASE)
    sysbus_mmio_map(dev, GED_MMIO_REGS, GED_MMIO_BASE_REGS)
    sysbus_connect_irq(dev, 0, irq)
    machine.powerdown_notifiers.append(dev.power_down)
    return dev
