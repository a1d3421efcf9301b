"""The ICH9 LPC bridge of the ``q35`` board (``ICH9-LPC``, 8086:2918, function 1f.0).

Like PIIX3 on ``pc`` it owns ``isa.0`` and the reset control register at
0xcf9 (``lpc-reset-control``).  It also has 24 ``gsi`` outputs, which the
board connects to its interrupt lines.

It holds the chipset's ACPI power management (:mod:`pyqemu.hw.acpi.ich9`)
and the APM ports 0xb2 / 0xb3.  Its configuration registers place them:

- PMBASE (0x40): base of the 128-byte PM I/O block (bits 7-15; bits 0-2
  are writable too, as in QEMU, and bit 0 reads 1 after reset);
- ACPI_CNTL (0x44): bit 7 ACPI_EN maps the block at PMBASE, bits 0-2 route
  the SCI to GSI 9, 10, 11, 20 or 21 (values 0, 1, 2, 4, 5; the others are
  reserved and keep the current GSI);
- GEN_PMCON_1 (0xa0): SMI_LOCK (bit 4) sticks and freezes GBL_SMI_EN;
- RCBA (0xf0): with bit 0, the 16 KiB chipset configuration block
  (``lpc-rcrb-mmio``, :mod:`pyqemu.hw.isa.ich9_cc`) appears in system memory
  at bits 14-31;
- PIRQA-D_ROUT (0x60-0x63) and PIRQE-H_ROUT (0x68-0x6b): the ISA IRQ each
  PIRQ also drives (bits 0-3), unless bit 7 is set (the reset value).

PCI interrupts: the chipset configuration block maps each device's INTx
pin to one of the eight PIRQs.  PIRQ N drives GSI 16 + N on the IOAPIC and,
if routed, an ISA IRQ; the SCI is ORed into whichever GSI it is on (QEMU's
``ich9_lpc_update_pic`` / ``ich9_lpc_update_apic``).  As in QEMU, writing a
routing register does not re-evaluate the lines: the next change of a PIRQ does.

pyqemu has no System Management Mode: an SMI request (APM command, TCO) is
counted in :attr:`ICH9LPC.smi_count` and passed to :attr:`ICH9LPC.smi_handler`
if the board sets one.  Not modelled yet: the SMI feature negotiation through fw_cfg.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyqemu.hw.acpi.core import ranges_overlap
from pyqemu.hw.acpi.ich9 import ICH9_APM_ACPI_DISABLE, ICH9_APM_ACPI_ENABLE, ICH9PM, ich9_pm_class_properties
from pyqemu.hw.core.hotplug import HotplugHandler
from pyqemu.hw.core.irq import qdev_init_gpio_out_named
from pyqemu.hw.core.qdev import DeviceState, qdev_get_machine
from pyqemu.hw.core.qdev_properties import prop_bit, prop_bool
from pyqemu.hw.isa.apm import apm_init
from pyqemu.hw.isa.ich9_cc import ICH9_CC_SIZE, ChipConfig
from pyqemu.hw.isa.piix3 import PCIIsaBridge
from pyqemu.hw.pci.pci import PCI_CLASS_BRIDGE_ISA, PCI_VENDOR_ID_INTEL, PCIBus, PCIDevice, pci_slot
from pyqemu.hw.pci.pci_intx import pci_bus_get_irq_level, pci_bus_irqs
from pyqemu.memory.region import Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type
from pyqemu.qom.property import UINT8, UINT64
from pyqemu.util.errors import ConfigError

TYPE_ICH9_LPC_DEVICE = "ICH9-LPC"
PCI_DEVICE_ID_INTEL_ICH9_8 = 0x2918
ICH9_LPC_REVISION = 0x02
ICH9_LPC_DEV = 31
ICH9_LPC_FUNC = 0
GSI_NUM_PINS = 24
ICH9_GPIO_GSI = "gsi"

ICH9_LPC_PMBASE = 0x40
ICH9_LPC_PMBASE_LEN = 4
ICH9_LPC_PMBASE_BASE_ADDRESS_MASK = 0xFF80
#: The bits a guest may write (QEMU 7.2, measured: the base bits and 0-2).
ICH9_LPC_PMBASE_WMASK = 0xFF87
ICH9_LPC_PMBASE_DEFAULT = 0x1
ICH9_LPC_ACPI_CTRL = 0x44
ICH9_LPC_ACPI_CTRL_ACPI_EN = 0x80
ICH9_LPC_ACPI_CTRL_SCI_IRQ_SEL_MASK = 0x07
ICH9_LPC_ACPI_CTRL_DEFAULT = 0x0
ICH9_LPC_GEN_PMCON_1 = 0xA0
ICH9_LPC_GEN_PMCON_1_LEN = 8
ICH9_LPC_GEN_PMCON_1_SMI_LOCK = 1 << 4
ICH9_LPC_RCBA = 0xF0
ICH9_LPC_RCBA_LEN = 4
ICH9_LPC_RCBA_BA_MASK = 0xFFFFC000
ICH9_LPC_RCBA_EN = 0x1
ICH9_LPC_RCBA_DEFAULT = 0x0
RCRB_REGION = "lpc-rcrb-mmio"
ICH9_LPC_PIRQA_ROUT = 0x60
ICH9_LPC_PIRQE_ROUT = 0x68
ICH9_LPC_PIRQ_ROUT_DEFAULT = 0x80
ICH9_LPC_PIRQ_ROUT_IRQEN = 0x80
ICH9_LPC_PIRQ_ROUT_MASK = 0x0F
ICH9_LPC_NB_PIRQS = 8
#: GSIs 0-15 are the ISA IRQs (PIC and IOAPIC); PIRQ N is GSI 16 + N.
ICH9_LPC_PIC_NUM_PINS = 16
#: SCI_IRQ_SEL values and their GSI.
SCI_IRQ_SEL_GSI = {0: 9, 1: 10, 2: 11, 4: 20, 5: 21}
ICH9_SCI_DEFAULT_GSI = 9


@register_type
class ICH9LPC(PCIIsaBridge, HotplugHandler):
    """The ICH9 LPC bridge (``ICH9-LPC``)."""

    TYPE = TYPE_ICH9_LPC_DEVICE
    USER_CREATABLE = False
    HOTPLUGGABLE = False
    ASYNC_UNPLUG = True
    VENDOR_ID = PCI_VENDOR_ID_INTEL
    DEVICE_ID = PCI_DEVICE_ID_INTEL_ICH9_8
    REVISION = ICH9_LPC_REVISION
    CLASS_ID = PCI_CLASS_BRIDGE_ISA
    RESET_CONTROL_NAME = "lpc-reset-control"
    PROPERTIES = (
        prop_bool("noreboot", default=True),
        prop_bool("smm-compat", default=False),
        prop_bit("x-smi-broadcast", default=True),
        prop_bit("x-smi-cpu-hotplug", default=True),
        prop_bit("x-smi-cpu-hotunplug", default=True),
    )

    @classmethod
    def class_init(cls) -> None:
        cls.class_property_add("sci_int", UINT8, lambda lpc: lpc.sci_gsi)
        cls.class_property_add("acpi_enable_cmd", UINT8, lambda lpc: ICH9_APM_ACPI_ENABLE)
        cls.class_property_add("acpi_disable_cmd", UINT8, lambda lpc: ICH9_APM_ACPI_DISABLE)
        cls.class_property_add("x-smi-negotiated-features", UINT64, lambda lpc: lpc.smi_negotiated_features)
        ich9_pm_class_properties(cls)

    def __init__(self) -> None:
        super().__init__()
        # Made before realize (QEMU: in realize), so the board can wire them before the ISA devices exist.
        self.gsi = qdev_init_gpio_out_named(self, ICH9_GPIO_GSI, GSI_NUM_PINS)
        self.pm = ICH9PM()
        self.sci_gsi = ICH9_SCI_DEFAULT_GSI
        self.sci_level = 0
        self.smi_negotiated_features = 0
        #: SMI requests so far (pyqemu has no SMM to enter).
        self.smi_count = 0
        #: Called on each SMI request, if the board wants to know.
        self.smi_handler: Callable[[], None] | None = None
        self.chip_config = ChipConfig()
        self.rcrb_mem: MemoryRegion | None = None

    def pci_realize(self) -> None:
        super().pci_realize()
        pci_bus_irqs(self._pci_bus(), self._set_pirq, self._map_irq, ICH9_LPC_NB_PIRQS)
        ops = MemoryRegionOps(read=self.chip_config.read, write=self.chip_config.write,
                              endianness=Endianness.LITTLE)
        self.rcrb_mem = MemoryRegion.new_io(self, ops, RCRB_REGION, ICH9_CC_SIZE)
        self.wmask[ICH9_LPC_PMBASE:ICH9_LPC_PMBASE + ICH9_LPC_PMBASE_LEN] = \
            ICH9_LPC_PMBASE_WMASK.to_bytes(ICH9_LPC_PMBASE_LEN, "little")
        self.apm = apm_init(self, self.pm.apm_ctrl_changed)
        self.pm.realize(self, self._set_sci, self._raise_smi, self._tco_may_reboot)
        self.chip_config.reset()
        self._reset_pm_config()

    # -- power management configuration ----------------------------------------------------

    def config_write(self, offset: int, value: int, size: int) -> None:
        super().config_write(offset, value, size)
        if ranges_overlap(offset, size, ICH9_LPC_PMBASE, ICH9_LPC_PMBASE_LEN) or \
                ranges_overlap(offset, size, ICH9_LPC_ACPI_CTRL, 1):
            self._pmbase_sci_update()
        if ranges_overlap(offset, size, ICH9_LPC_GEN_PMCON_1, ICH9_LPC_GEN_PMCON_1_LEN):
            self._pmcon_update()
        if ranges_overlap(offset, size, ICH9_LPC_RCBA, ICH9_LPC_RCBA_LEN):
            self._rcba_update()

    def _pmbase_sci_update(self) -> None:
        """Map the PM block per PMBASE / ACPI_EN and move the SCI to the GSI ACPI_CNTL selects."""
        acpi_cntl = self.get_byte(ICH9_LPC_ACPI_CTRL)
        enabled = acpi_cntl & ICH9_LPC_ACPI_CTRL_ACPI_EN
        self.pm.iospace_update(self.get_long(ICH9_LPC_PMBASE) & ICH9_LPC_PMBASE_BASE_ADDRESS_MASK
                               if enabled else 0)
        new_gsi = SCI_IRQ_SEL_GSI.get(acpi_cntl & ICH9_LPC_ACPI_CTRL_SCI_IRQ_SEL_MASK)
        if new_gsi is None:
            return  # reserved: the SCI stays where it is
        if self.sci_level and new_gsi != self.sci_gsi:
            self._set_sci(0)
            self.sci_gsi = new_gsi
            self._set_sci(1)
        self.sci_gsi = new_gsi

    def _pmcon_update(self) -> None:
        """SMI_LOCK: the bit itself becomes read-only, and SMI_EN's GBL_SMI_EN frozen."""
        if self.get_word(ICH9_LPC_GEN_PMCON_1) & ICH9_LPC_GEN_PMCON_1_SMI_LOCK:
            self.wmask[ICH9_LPC_GEN_PMCON_1] &= ~ICH9_LPC_GEN_PMCON_1_SMI_LOCK
            self.pm.lock_smi()

    # -- root complex register block ---------------------------------------------------------

    def _rcba_update(self) -> None:
        """Map the chipset configuration block where RCBA says, above other regions, if enabled."""
        if self.rcrb_mem is None:
            return
        system = qdev_get_machine(self).memory_system.system_memory
        if self.rcrb_mem.container is not None:
            self.rcrb_mem.container.del_subregion(self.rcrb_mem)
        rcba = self.get_long(ICH9_LPC_RCBA)
        if rcba & ICH9_LPC_RCBA_EN:
            system.add_subregion_overlap(rcba & ICH9_LPC_RCBA_BA_MASK, self.rcrb_mem, 1)

    def _reset_pm_config(self) -> None:
        self.set_byte(ICH9_LPC_ACPI_CTRL, ICH9_LPC_ACPI_CTRL_DEFAULT)
        self.set_long(ICH9_LPC_PMBASE, ICH9_LPC_PMBASE_DEFAULT)
        self._pmbase_sci_update()
        self.sci_level = 0

    # -- PCI interrupts and the SCI ----------------------------------------------------------

    def _pci_bus(self) -> PCIBus:
        bus = self.parent_bus
        assert isinstance(bus, PCIBus)
        return bus

    def _map_irq(self, device: PCIDevice, pin: int) -> int:
        """The PIRQ of ``device``'s pin, from the chipset configuration's table (``ich9_lpc_map_irq``)."""
        return self.chip_config.irr[pci_slot(device.devfn)][pin]

    def _pirq_rout(self, pirq: int) -> int:
        """PIRQ ``pirq``'s route control register."""
        return self.config[(ICH9_LPC_PIRQA_ROUT if pirq < 4 else ICH9_LPC_PIRQE_ROUT - 4) + pirq]

    def _set_pirq(self, pirq: int, level: int) -> None:
        """A PIRQ changed: update its own GSI and its ISA IRQ (``ich9_lpc_set_irq``).

        As in QEMU, the ISA IRQ named by the register's low bits is re-evaluated even while the
        routing is disabled (it then drives the SCI's level or 0).
        """
        self._update_gsi(ICH9_LPC_PIC_NUM_PINS + pirq)
        self._update_gsi(self._pirq_rout(pirq) & ICH9_LPC_PIRQ_ROUT_MASK)

    def _update_gsi(self, gsi: int) -> None:
        """Drive GSI ``gsi`` with the OR of the PIRQs on it and the SCI if it is there."""
        bus = self._pci_bus()
        if gsi < ICH9_LPC_PIC_NUM_PINS:
            level = any(self._pirq_rout(pirq) == gsi and pci_bus_get_irq_level(bus, pirq)
                        for pirq in range(ICH9_LPC_NB_PIRQS))
        else:
            level = bool(pci_bus_get_irq_level(bus, gsi - ICH9_LPC_PIC_NUM_PINS))
        self.gsi[gsi].set(int(level or (gsi == self.sci_gsi and self.sci_level)))

    def _set_sci(self, level: int) -> None:
        """The PM block's SCI, on the GSI ACPI_CNTL selects, shared with the PIRQs there."""
        level = int(bool(level))
        if level == self.sci_level:
            return
        self.sci_level = level
        self._update_gsi(self.sci_gsi)

    def _raise_smi(self) -> None:
        self.smi_count += 1
        if self.smi_handler is not None:
            self.smi_handler()

    def _tco_may_reboot(self) -> bool:
        """A second TCO timeout resets only without the ``noreboot`` strap and GCS's NO_REBOOT."""
        return not self.noreboot and not self.chip_config.no_reboot  # type: ignore[attr-defined]

    def send_event(self, event: int) -> None:
        """Raise an ACPI event (:class:`~pyqemu.hw.acpi.core.AcpiEvent` bits) as a GPE0 status bit."""
        self.pm.send_event(event)

    # -- reset -------------------------------------------------------------------------------

    def reset(self) -> None:
        super().reset()
        self.set_long(ICH9_LPC_RCBA, ICH9_LPC_RCBA_DEFAULT)
        for first in (ICH9_LPC_PIRQA_ROUT, ICH9_LPC_PIRQE_ROUT):
            self.config[first:first + 4] = bytes([ICH9_LPC_PIRQ_ROUT_DEFAULT] * 4)
        self.chip_config.reset()
        self._reset_pm_config()
        self._rcba_update()
        self.pm.reset()

    # -- hotplug handler of the PCI bus -------------------------------------------------------

    def hotplug_pre_plug(self, dev: DeviceState) -> None:
        if isinstance(dev, PCIDevice) and self.pm.pcihp is not None:
            self.pm.pcihp.pre_plug(dev)

    def hotplug_plug(self, dev: DeviceState) -> None:
        if isinstance(dev, PCIDevice) and self.pm.pcihp is not None:
            self.pm.pcihp.plug(dev)

    def hotplug_unplug_request(self, dev: DeviceState) -> None:
        if not isinstance(dev, PCIDevice) or self.pm.pcihp is None:
            raise ConfigError(f"acpi: device unplug request for not supported device type: {dev.typename}")
        self.pm.pcihp.unplug_request(dev)

    def is_hotpluggable_bus(self, bus: Any) -> bool:
        return self.pm.pcihp is not None and self.pm.pcihp.is_hotpluggable_bus(bus)
