"""The power-management block of the ICH9 LPC bridge (QEMU's ``hw/acpi/ich9.c``, ``ICH9LPCPMRegs``).

It lives in ``ICH9-LPC`` (function 1f.0 of ``q35``), which maps its 128-byte
I/O block ``ich9-pm`` at PMBASE once ACPI_CNTL has ACPI_EN (until then it
sits disabled at 0, as ``info mtree`` shows):

==== ============ =============================================================
+0   acpi-evt     PM1a status / enable
+4   acpi-cnt     PM1a control
+8   acpi-tmr     PM timer
+20  acpi-gpe0    GPE0 status (8 bytes) and enable (8 bytes)
+30  acpi-smi     SMI_EN (32-bit only) and SMI_STS at +34
+60  sm-tco       the TCO watchdog (with ``enable_tco``)
==== ============ =============================================================

Fixed blocks besides: ACPI PCI hot-plug at 0xcc0 (the root bus itself is not
hot-pluggable on ICH9) and CPU hot-plug at 0xcd8.  APM commands 0x02 / 0x03
set / clear SCI_EN; any other command requests an SMI while SMI_EN has
APMC_EN.  SMI_EN's GBL_SMI_EN freezes once the LPC's SMI_LOCK is set, and
its TCO_EN once the TCO's TCO_LOCK is.  Without SMM, APMC_EN is set at
reset, as QEMU marks SMM as already set up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyqemu.hw.acpi.core import AcpiRegs, map_pm1_regions, new_gpe_region
from pyqemu.hw.acpi.cpu_hotplug import CpuHotplug, cpu_hotplug_init, legacy_property_get, legacy_property_set
from pyqemu.hw.acpi.host import (
    HostPower,
    LoopClock,
    add_system_states_file,
    register_pm1_wakeup,
    system_states,
)
from pyqemu.hw.acpi.pcihp import ACPI_PCIHP_ADDR_ICH9, AcpiPciHp
from pyqemu.hw.acpi.tco import ICH9_PMIO_TCO_LEN, ICH9_PMIO_TCO_RLD, TCO_REGION, TcoWatchdog
from pyqemu.hw.core.qdev import qdev_get_machine
from pyqemu.hw.pci.pci import PCIBus
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.property import BOOL, UINT8, UINT32

ICH9_PM_REGION = "ich9-pm"
ICH9_PMIO_SIZE = 128
ICH9_PMIO_GPE0_STS = 0x20
ICH9_PMIO_GPE0_LEN = 16
ICH9_PMIO_SMI_EN = 0x30
ICH9_PMIO_SMI_LEN = 8
ICH9_SMI_REGION = "acpi-smi"
SMI_EN = 0
SMI_STS = 4
ICH9_PMIO_SMI_EN_GLOBAL_SMI_EN = 1 << 0
ICH9_PMIO_SMI_EN_APMC_EN = 1 << 5
ICH9_PMIO_SMI_EN_TCO_EN = 1 << 13
ALL_BITS = 0xFFFFFFFF
ICH9_CPU_HOTPLUG_IO_BASE = 0x0CD8
ICH9_APM_ACPI_ENABLE = 0x02
ICH9_APM_ACPI_DISABLE = 0x03


def machine_smm_enabled(machine: Any) -> bool:
    """Whether the machine has SMM: ``smm=on`` or ``auto`` (QEMU's ``x86_machine_is_smm_enabled``).

    ``auto`` counts as on: TCG and qtest always have SMM, and KVM hosts in
    practice do.
    """
    return getattr(machine, "smm", "auto") != "off"


class ICH9PM:
    """The PM block's settings (ICH9-LPC properties) and, once realized, its registers."""

    def __init__(self) -> None:
        self.pm_io_base = 0
        self.disable_s3 = 0
        self.disable_s4 = 0
        self.s4_val = 2
        self.enable_tco = True
        self.use_acpi_hotplug_bridge = True
        self.keep_pci_slot_hpc = True
        self.memory_hotplug_support = True
        self.smm_enabled = False
        self.smi_en = 0
        self.smi_en_wmask = ALL_BITS
        self.smi_sts = 0
        self.io: MemoryRegion | None = None
        self.regs: AcpiRegs | None = None
        self.tco: TcoWatchdog | None = None
        self.pcihp: AcpiPciHp | None = None
        self.cpu_hotplug: CpuHotplug | None = None
        self._raise_smi: Callable[[], None] = lambda: None

    @property
    def gpe0_blk(self) -> int:
        return self.pm_io_base + ICH9_PMIO_GPE0_STS

    def realize(self, lpc: Any, sci: Callable[[int], None], raise_smi: Callable[[], None],
                may_reboot: Callable[[], bool]) -> None:
        """Create the regions of ``lpc`` (QEMU's ``ich9_pm_init``); ``sci(level)`` drives the SCI."""
        machine = qdev_get_machine(lpc)
        bus = lpc.parent_bus
        assert isinstance(bus, PCIBus) and bus.address_space_io is not None
        io_space = bus.address_space_io
        self._raise_smi = raise_smi
        self.smm_enabled = machine_smm_enabled(machine)
        self.io = MemoryRegion.new_container(lpc, ICH9_PM_REGION, ICH9_PMIO_SIZE)
        self.io.set_enabled(False)
        io_space.add_subregion(0, self.io)
        clock, power = LoopClock(machine.host.main_loop), HostPower(machine.host)
        acpi_only = not lpc.property_get("smm-compat") and not self.smm_enabled
        self.regs = AcpiRegs(sci, clock, power, ICH9_PMIO_GPE0_LEN, s4_val=self.s4_val, acpi_only=acpi_only)
        map_pm1_regions(lpc, self.regs, self.io)
        add_system_states_file(lpc, self.disable_s3, self.disable_s4, self.s4_val)
        self.io.add_subregion(ICH9_PMIO_GPE0_STS, new_gpe_region(lpc, self.regs))
        ops = MemoryRegionOps(read=self.smi_read, write=self.smi_write, endianness=Endianness.LITTLE,
                              valid=AccessSizes(4, 4))
        smi = MemoryRegion.new_io(lpc, ops, ICH9_SMI_REGION, ICH9_PMIO_SMI_LEN)
        self.io.add_subregion(ICH9_PMIO_SMI_EN, smi)
        if self.enable_tco:
            self._tco_init(lpc, clock, power, may_reboot)
        if self.use_acpi_hotplug_bridge:
            self.pcihp = AcpiPciHp(lpc, bus, io_space, ACPI_PCIHP_ADDR_ICH9, self.regs.send_gpe,
                                   root_hotplug=False)
            bus.set_hotplug_handler(lpc)
        machine.powerdown_notifiers.append(self.regs.power_down)
        register_pm1_wakeup(machine, self.regs)
        self.cpu_hotplug = cpu_hotplug_init(lpc, io_space, ICH9_CPU_HOTPLUG_IO_BASE)

    def _tco_init(self, lpc: Any, clock: LoopClock, power: HostPower, may_reboot: Callable[[], bool]) -> None:
        assert self.io is not None
        self.tco = TcoWatchdog(clock, self._raise_smi, lambda: bool(self.smi_en & ICH9_PMIO_SMI_EN_TCO_EN),
                               may_reboot, power.watchdog_reset)
        ops = MemoryRegionOps(read=self.tco.read, write=self.tco.write, endianness=Endianness.LITTLE,
                              valid=AccessSizes(1, 4), impl=AccessSizes(1, 2))
        self.io.add_subregion(ICH9_PMIO_TCO_RLD, MemoryRegion.new_io(lpc, ops, TCO_REGION, ICH9_PMIO_TCO_LEN))

    # -- where the block is -----------------------------------------------------------

    def iospace_update(self, pm_io_base: int) -> None:
        """Move the block to ``pm_io_base``; 0 disables it (QEMU's ``ich9_pm_iospace_update``)."""
        self.pm_io_base = pm_io_base
        if self.io is not None:
            self.io.set_enabled(pm_io_base != 0)
            self.io.set_address(pm_io_base)

    # -- SMI_EN / SMI_STS ----------------------------------------------------------------

    def smi_read(self, offset: int, size: int = 4) -> int:
        if offset == SMI_EN:
            return self.smi_en
        return self.smi_sts if offset == SMI_STS else 0

    def smi_write(self, offset: int, value: int, size: int = 4) -> None:
        if offset != SMI_EN:
            return
        if self.tco is not None and self.tco.locked:
            value = (value & ~ICH9_PMIO_SMI_EN_TCO_EN) | (self.smi_en & ICH9_PMIO_SMI_EN_TCO_EN)
        self.smi_en = (self.smi_en & ~self.smi_en_wmask) | (value & self.smi_en_wmask)

    def lock_smi(self) -> None:
        """The LPC's SMI_LOCK: GBL_SMI_EN keeps its value until the next power-on."""
        self.smi_en_wmask &= ~ICH9_PMIO_SMI_EN_GLOBAL_SMI_EN

    # -- events ---------------------------------------------------------------------------

    def apm_ctrl_changed(self, value: int) -> None:
        """A write to port 0xb2: ACPI enable / disable, else an SMI if APMC_EN is set."""
        assert self.regs is not None
        self.regs.set_sci_enable(value == ICH9_APM_ACPI_ENABLE, value == ICH9_APM_ACPI_DISABLE)
        if value in (ICH9_APM_ACPI_ENABLE, ICH9_APM_ACPI_DISABLE):
            return
        if self.smi_en & ICH9_PMIO_SMI_EN_APMC_EN:
            self._raise_smi()

    def send_event(self, event: int) -> None:
        assert self.regs is not None
        self.regs.send_gpe(event)

    def system_states(self) -> bytes:
        """The fw_cfg ``etc/system-states`` contents for the S3 / S4 settings."""
        return system_states(self.disable_s3, self.disable_s4, self.s4_val)

    # -- reset ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Power-on state (QEMU's ``pm_reset``); the TCO keeps its registers."""
        self.iospace_update(0)
        self.smi_en = 0 if self.smm_enabled else ICH9_PMIO_SMI_EN_APMC_EN
        self.smi_en_wmask = ALL_BITS
        if self.pcihp is not None:
            self.pcihp.reset()
        if self.regs is not None:
            self.regs.reset()


# -- the PM block's properties on ICH9-LPC ----------------------------------------------------

#: ``(name, kind, attribute of ICH9PM, writable)``: QEMU's ``ich9_pm_add_properties``.
_PM_PROPERTIES = (
    ("pm_io_base", UINT32, "pm_io_base", False),
    ("gpe0_blk", UINT32, "gpe0_blk", False),
    ("memory-hotplug-support", BOOL, "memory_hotplug_support", True),
    ("disable_s3", UINT8, "disable_s3", True),
    ("disable_s4", UINT8, "disable_s4", True),
    ("s4_val", UINT8, "s4_val", True),
    ("enable_tco", BOOL, "enable_tco", True),
    ("acpi-pci-hotplug-with-bridge-support", BOOL, "use_acpi_hotplug_bridge", True),
    ("x-keep-pci-slot-hpc", BOOL, "keep_pci_slot_hpc", True),
)


def ich9_pm_class_properties(cls: Any) -> None:
    """Declare the PM block's properties on the LPC class ``cls``, whose instances keep it in ``pm``."""
    for name, kind, attr, writable in _PM_PROPERTIES:
        cls.class_property_add(
            name, kind, lambda obj, attr=attr: getattr(obj.pm, attr),
            (lambda obj, value, attr=attr: setattr(obj.pm, attr, value)) if writable else None,
        )
    cls.class_property_add("gpe0_blk_len", UINT32, lambda obj: ICH9_PMIO_GPE0_LEN)
    cls.class_property_add(
        "cpu-hotplug-legacy", BOOL, lambda obj: legacy_property_get(obj.pm.cpu_hotplug),
        lambda obj, value: legacy_property_set(obj.pm.cpu_hotplug, value),
    )
