"""PIIX4 power management, PCI function 01.3 of the ``pc`` board (``PIIX4_PM``, 8086:7113).

Configuration registers the firmware programs (as QEMU models them):

- PMBA (0x40): base of the 64-byte PM I/O block (``piix4-pm``: PM1a event at
  +0, control at +4, timer at +8); bits 6-15 count, bit 0 reads 1 after reset.
  PMREGMISC (0x80) bit 0 switches the block on.  Until then it is mapped at 0
  and disabled, which is why ``info mtree`` shows its registers at 0.
- DEVACTB (0x58-0x5b): bit 1 of 0x5b lets a write to the APM control port
  0xb2 raise the ``smi-irq`` output (QEMU sets it at reset when SMM is off).
- SMBBA (0x90) and SMBHSTCFG (0xd2) bit 0: base and enable of the SMBus
  controller (``pm-smbus``, 64 bytes at ``smb_io_base``, driving bus ``i2c``).

Fixed I/O blocks besides: GPE0 (``acpi-gpe0``, 4 bytes at 0xafe0), ACPI PCI
hot-plug (0xae00) and CPU hot-plug (0xaf00).  The SCI is the unnamed GPIO
output (the board wires it to GSI 9); writing 0xf1 / 0xf0 to port 0xb2 sets
/ clears SCI_EN.  Once every device exists the function also reports which
legacy serial and parallel ports are decoded (config 0x5f, 0x63, 0x67).
"""

from __future__ import annotations

from typing import Any

from pyqemu.hw.acpi.core import AcpiRegs, map_pm1_regions, new_gpe_region, ranges_overlap
from pyqemu.hw.acpi.cpu_hotplug import CpuHotplug, cpu_hotplug_init, legacy_property_get, legacy_property_set
from pyqemu.hw.acpi.host import (
    HostPower,
    LoopClock,
    add_readonly_property,
    add_system_states_file,
    register_pm1_wakeup,
    system_states,
)
from pyqemu.hw.acpi.pcihp import ACPI_PCIHP_ADDR_PIIX4, AcpiPciHp
from pyqemu.hw.core.hotplug import HotplugHandler
from pyqemu.hw.core.irq import Irq, qdev_connect_gpio_out_named, qdev_init_gpio_out, qdev_init_gpio_out_named
from pyqemu.hw.core.qdev import DeviceState, qdev_get_machine, qdev_new, qdev_realize_and_unref
from pyqemu.hw.core.qdev_properties import prop_bool, prop_uint8, prop_uint32
from pyqemu.hw.isa.apm import apm_init
from pyqemu.hw.pci.pci import PCI_INTERRUPT_PIN, PCI_STATUS, PCI_VENDOR_ID_INTEL, PCIBus, PCIDevice
from pyqemu.memory.region import MemoryRegion
from pyqemu.qom.object import register_type
from pyqemu.qom.property import BOOL, UINT8, UINT16, UINT32, ObjectProperty
from pyqemu.util.errors import ConfigError

TYPE_PIIX4_PM = "PIIX4_PM"
PCI_DEVICE_ID_INTEL_82371AB_3 = 0x7113
PIIX4_PM_REVISION = 0x03
PCI_CLASS_BRIDGE_OTHER = 0x0680
#: Status: medium DEVSEL timing, fast back-to-back capable.
PIIX4_PM_STATUS = 0x0280
PIIX4_PM_INTX_PIN = 1  # INTA

# Configuration registers.
PIIX4_PMBA = 0x40
PIIX4_PMBA_RTE = 0x01  # read as 1 after reset: an I/O base
PIIX4_IO_BASE_MASK = 0xFFC0
PIIX4_DEVACTB = 0x58
PIIX4_DEVACTB_LEN = 4
PIIX4_DEVACTB_APMC = 0x5B
PIIX4_APMC_EN = 1 << 1
PIIX4_DEVRESD = 0x5F
PIIX4_DEVRESE = 0x63
PIIX4_DEVRESF = 0x67
PIIX4_PMREGMISC = 0x80
PIIX4_PMIOSE = 0x01
PIIX4_SMBBA = 0x90
PIIX4_SMBHSTCFG = 0xD2
PIIX4_SMBHSTCFG_DEFAULT = 0x09
PIIX4_SMB_HST_EN = 0x01

PIIX4_PM_REGION = "piix4-pm"
PIIX4_PM_IO_LEN = 64
GPE_BASE = 0xAFE0
GPE_LEN = 4
PIIX4_CPU_HOTPLUG_IO_BASE = 0xAF00
SCI_INT = 9
ACPI_ENABLE = 0xF1
ACPI_DISABLE = 0xF0
SMI_IRQ = "smi-irq"
# What the init-done notifier reports in DEVRESD / DEVRESE / DEVRESF.
PARALLEL_PORT = 0x378
SERIAL_PORT_A = 0x3F8
SERIAL_PORT_B = 0x2F8
DEVRESD_DEFAULT = 0x10
DEVRESD_LPT = 0x80
DEVRESE_DEFAULT = 0x60
DEVRESF_COMA = 0x08
DEVRESF_COMB = 0x90


@register_type
class PIIX4PM(PCIDevice, HotplugHandler):
    """The PIIX4 power-management function (``PIIX4_PM``); boards make it with :func:`piix4_pm_init`."""

    TYPE = TYPE_PIIX4_PM
    DESCRIPTION = "PM"
    USER_CREATABLE = False
    HOTPLUGGABLE = False
    ASYNC_UNPLUG = True
    VENDOR_ID = PCI_VENDOR_ID_INTEL
    DEVICE_ID = PCI_DEVICE_ID_INTEL_82371AB_3
    REVISION = PIIX4_PM_REVISION
    CLASS_ID = PCI_CLASS_BRIDGE_OTHER
    PROPERTIES = (
        prop_uint32("smb_io_base", default=0),
        prop_uint8("disable_s3", default=0),
        prop_uint8("disable_s4", default=0),
        prop_uint8("s4_val", default=2),
        prop_bool("acpi-pci-hotplug-with-bridge-support", default=True),
        prop_bool("acpi-root-pci-hotplug", default=True),
        prop_bool("memory-hotplug-support", default=True),
        prop_bool("smm-compat", default=False),
        prop_bool("smm-enabled", default=False),
        prop_bool("x-not-migrate-acpi-index", default=False),
    )

    def __init__(self) -> None:
        super().__init__()
        (self.sci_out,) = qdev_init_gpio_out(self, 1)
        (self.smi_out,) = qdev_init_gpio_out_named(self, SMI_IRQ, 1)
        self.io_base = 0
        self.regs: AcpiRegs | None = None
        self.io: MemoryRegion | None = None
        self.smb: Any = None
        self.pcihp: AcpiPciHp | None = None
        self.cpu_hotplug: CpuHotplug | None = None

    # -- realize -----------------------------------------------------------------------

    def pci_realize(self) -> None:
        self.set_word(PCI_STATUS, PIIX4_PM_STATUS)
        self.set_byte(PCI_INTERRUPT_PIN, PIIX4_PM_INTX_PIN)
        io_space = self._io_space()
        self.apm = apm_init(self, self._apm_ctrl_changed)
        if not self.property_get("smm-enabled"):
            self.set_byte(PIIX4_DEVACTB_APMC, PIIX4_APMC_EN)  # no SMM: mark it as set up already
        self._smbus_init(io_space)
        self.io = MemoryRegion.new_container(self, PIIX4_PM_REGION, PIIX4_PM_IO_LEN)
        self.io.set_enabled(False)
        io_space.add_subregion(0, self.io)
        machine = qdev_get_machine(self)
        self.regs = AcpiRegs(
            self.sci_out.set, LoopClock(machine.host.main_loop), HostPower(machine.host), GPE_LEN,
            s4_val=self.s4_val, acpi_only=self._acpi_only(),  # type: ignore[attr-defined]
        )
        map_pm1_regions(self, self.regs, self.io)
        add_system_states_file(self, self.disable_s3, self.disable_s4, self.s4_val)  # type: ignore[attr-defined]
        machine.powerdown_notifiers.append(self.regs.power_down)
        register_pm1_wakeup(machine, self.regs)
        machine.init_done_notifiers.append(self._machine_ready)
        self._hot_add_init(io_space)
        self._add_properties()

    def _io_space(self) -> MemoryRegion:
        bus = self.parent_bus
        assert isinstance(bus, PCIBus) and bus.address_space_io is not None
        return bus.address_space_io

    def _acpi_only(self) -> bool:
        """Without SMM there is nothing to hand ACPI over from: SCI_EN is always set."""
        return not self.property_get("smm-compat") and not self.property_get("smm-enabled")

    def _smbus_init(self, io_space: MemoryRegion) -> None:
        """The SMBus controller at ``smb_io_base``, and the SMBBA / SMBHSTCFG registers that place it."""
        from pyqemu.hw.i2c.pm_smbus import pm_smbus_init

        base = self.smb_io_base  # type: ignore[attr-defined]
        self.set_byte(PIIX4_SMBBA, base | PIIX4_PMBA_RTE)
        self.set_byte(PIIX4_SMBBA + 1, base >> 8)
        self.set_byte(PIIX4_SMBHSTCFG, PIIX4_SMBHSTCFG_DEFAULT)
        self.smb = pm_smbus_init(self, force_aux_blk=True)
        self.smb.io.set_enabled(bool(self.get_byte(PIIX4_SMBHSTCFG) & PIIX4_SMB_HST_EN))
        io_space.add_subregion(base, self.smb.io)

    def _hot_add_init(self, io_space: MemoryRegion) -> None:
        """GPE0, then PCI hot-plug (becoming the bus's hotplug handler), then CPU hot-plug."""
        assert self.regs is not None
        io_space.add_subregion(GPE_BASE, new_gpe_region(self, self.regs))
        bridge = self.property_get("acpi-pci-hotplug-with-bridge-support")
        root = self.property_get("acpi-root-pci-hotplug")
        bus = self.parent_bus
        if (bridge or root) and isinstance(bus, PCIBus):
            self.pcihp = AcpiPciHp(self, bus, io_space, ACPI_PCIHP_ADDR_PIIX4, self.regs.send_gpe,
                                   legacy_piix=not bridge, root_hotplug=root)
            bus.set_hotplug_handler(self)
        self.cpu_hotplug = cpu_hotplug_init(self, io_space, PIIX4_CPU_HOTPLUG_IO_BASE)

    def _add_properties(self) -> None:
        add_readonly_property(self, "acpi_enable_cmd", UINT8, lambda: ACPI_ENABLE)
        add_readonly_property(self, "acpi_disable_cmd", UINT8, lambda: ACPI_DISABLE)
        add_readonly_property(self, "gpe0_blk", UINT32, lambda: GPE_BASE)
        add_readonly_property(self, "gpe0_blk_len", UINT32, lambda: GPE_LEN)
        add_readonly_property(self, "sci_int", UINT16, lambda: SCI_INT)
        add_readonly_property(self, "pm_io_base", UINT32, lambda: self.io_base)
        self.property_add(ObjectProperty(
            "cpu-hotplug-legacy", "bool", BOOL, get=lambda _obj: legacy_property_get(self.cpu_hotplug),
            set=lambda _obj, value: legacy_property_set(self.cpu_hotplug, value),
        ))

    # -- configuration space ---------------------------------------------------------

    def config_write(self, offset: int, value: int, size: int) -> None:
        super().config_write(offset, value, size)
        if ranges_overlap(offset, size, PIIX4_PMREGMISC, 1) or ranges_overlap(offset, size, PIIX4_PMBA, 4):
            self._pm_io_space_update()
        if ranges_overlap(offset, size, PIIX4_SMBHSTCFG, 1) or ranges_overlap(offset, size, PIIX4_SMBBA, 4):
            self._smbus_io_space_update()

    def _pm_io_space_update(self) -> None:
        """Map the PM block where PMBA says, enabled while PMREGMISC's PMIOSE is set."""
        self.io_base = self.get_long(PIIX4_PMBA) & PIIX4_IO_BASE_MASK
        if self.io is not None:
            self.io.set_enabled(bool(self.get_byte(PIIX4_PMREGMISC) & PIIX4_PMIOSE))
            self.io.set_address(self.io_base)

    def _smbus_io_space_update(self) -> None:
        if self.smb is None:
            return
        self.smb.io.set_enabled(bool(self.get_byte(PIIX4_SMBHSTCFG) & PIIX4_SMB_HST_EN))
        self.smb.io.set_address(self.get_long(PIIX4_SMBBA) & PIIX4_IO_BASE_MASK)

    # -- events ------------------------------------------------------------------------

    def _apm_ctrl_changed(self, value: int) -> None:
        """0xf1 / 0xf0 switch SCI_EN; any other command raises SMI if DEVACTB allows it."""
        assert self.regs is not None
        self.regs.set_sci_enable(value == ACPI_ENABLE, value == ACPI_DISABLE)
        if value in (ACPI_ENABLE, ACPI_DISABLE):
            return
        if self.get_byte(PIIX4_DEVACTB_APMC) & PIIX4_APMC_EN:
            self.smi_out.raise_()

    def _machine_ready(self) -> None:
        """Report the decoded legacy ports (QEMU's init-done notifier)."""
        space = qdev_get_machine(self).memory_system.address_space_io
        io_space = self._io_space()

        def present(port: int) -> bool:
            """Whether a device decodes ``port`` (QEMU's ``memory_region_present``)."""
            found = space.lookup(port)
            return found is not None and found.mr is not io_space

        self.set_byte(PIIX4_DEVRESD, DEVRESD_DEFAULT | (DEVRESD_LPT if present(PARALLEL_PORT) else 0))
        self.set_byte(PIIX4_DEVRESE, DEVRESE_DEFAULT)
        self.set_byte(PIIX4_DEVRESF, (DEVRESF_COMA if present(SERIAL_PORT_A) else 0)
                      | (DEVRESF_COMB if present(SERIAL_PORT_B) else 0))

    def send_event(self, event: int) -> None:
        """Raise an ACPI event (:class:`~pyqemu.hw.acpi.core.AcpiEvent` bits) as a GPE0 status bit."""
        assert self.regs is not None
        self.regs.send_gpe(event)

    def power_down(self) -> None:
        """Press the power button (what ``system_powerdown`` does)."""
        assert self.regs is not None
        self.regs.power_down()

    def system_states(self) -> bytes:
        """The fw_cfg ``etc/system-states`` contents for this function's S3 / S4 settings."""
        return system_states(self.disable_s3, self.disable_s4, self.s4_val)  # type: ignore[attr-defined]

    @property
    def i2c_bus(self) -> Any:
        """The SMBus (``i2c``), where the board puts the SPD EEPROMs."""
        return self.smb.bus if self.smb is not None else None

    # -- reset -----------------------------------------------------------------------------

    def reset(self) -> None:
        super().reset()
        self.config[PIIX4_DEVACTB:PIIX4_DEVACTB + PIIX4_DEVACTB_LEN] = bytes(PIIX4_DEVACTB_LEN)
        self.set_byte(PIIX4_PMBA, PIIX4_PMBA_RTE)
        self.set_byte(PIIX4_PMREGMISC, 0)
        if not self.property_get("smm-enabled"):
            self.set_byte(PIIX4_DEVACTB_APMC, PIIX4_APMC_EN)
        if self.regs is not None:
            self.regs.reset()
        self._pm_io_space_update()
        if self.pcihp is not None:
            self.pcihp.reset()

    # -- hotplug handler of the PCI bus ----------------------------------------------------

    def hotplug_pre_plug(self, dev: DeviceState) -> None:
        if isinstance(dev, PCIDevice) and self.pcihp is not None:
            self.pcihp.pre_plug(dev)

    def hotplug_plug(self, dev: DeviceState) -> None:
        if isinstance(dev, PCIDevice) and self.pcihp is not None:
            self.pcihp.plug(dev)

    def hotplug_unplug_request(self, dev: DeviceState) -> None:
        if not isinstance(dev, PCIDevice) or self.pcihp is None:
            raise ConfigError(f"acpi: device unplug request for not supported device type: {dev.typename}")
        self.pcihp.unplug_request(dev)

    def is_hotpluggable_bus(self, bus: Any) -> bool:
        return self.pcihp is not None and self.pcihp.is_hotpluggable_bus(bus)


def piix4_pm_init(pci_bus: PCIBus, devfn: int, sci_irq: Irq | None, smi_irq: Irq | None, smb_io_base: int,
                  smm_enabled: bool = True) -> PIIX4PM:
    """Board code: create ``PIIX4_PM`` at ``devfn``, its SCI to ``sci_irq`` and SMI to ``smi_irq``.

    The board then adds the SPD EEPROMs to :attr:`PIIX4PM.i2c_bus`.
    """
    from pyqemu.hw.core.qdev_monitor import apply_global_props

    dev = qdev_new(TYPE_PIIX4_PM)
    assert isinstance(dev, PIIX4PM)
    machine = qdev_get_machine(pci_bus)
    if machine is not None:
        apply_global_props(machine, dev)
    dev.devfn = devfn
    dev.property_set("smb_io_base", smb_io_base)
    dev.property_set("smm-enabled", smm_enabled)
    qdev_realize_and_unref(dev, pci_bus)
    qdev_connect_gpio_out_named(dev, None, 0, sci_irq)
    qdev_connect_gpio_out_named(dev, SMI_IRQ, 0, smi_irq)
    return dev
