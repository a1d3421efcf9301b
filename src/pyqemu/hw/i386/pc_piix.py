"""The ``pc`` boards: i440FX host bridge and PIIX3, versions 7.2 back to 1.4.

Every version runs the same init; an older one differs only by compat
properties (what changed in devices after it was released) and a few class
facts.  Each version's ``COMPAT_PROPS`` holds the newer versions' entries
first, then its own, so later (older) settings win — as QEMU chains its
``pc_i440fx_X_Y_machine_options``.  The compat entries listed are the ones
that touch devices pyqemu models; each was checked against QEMU 7.2's
``info qtree`` for that version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.hw.i386.pc import PCMachineState
from pyqemu.hw.i386.pc_versions import MachineVersion, register_versions
from pyqemu.hw.i386.x86 import ISA_NUM_IRQS, machine_ram
from pyqemu.qom.object import register_type

if TYPE_CHECKING:
    from pyqemu.hw.isa.isa_bus import IsaBus
    from pyqemu.memory.address_space import MemorySystem
    from pyqemu.memory.region import MemoryRegion

TYPE_PC_I440FX_MACHINE = "pc-i440fx-machine"
PIIX3_DEVFN = 1 << 3
SCI_IRQ = 9
SMB_IO_BASE = 0xB100
SMBUS_EEPROMS = 8
I440FX_DESCRIPTION = "Standard PC (i440FX + PIIX, 1996)"
DEPRECATED_OLD = "old and unattended - use a newer version instead"

#: (version, own compat props, extra class attributes), newest first.
VERSIONS: tuple[MachineVersion, ...] = (
    MachineVersion("7.2", (), {"ALIAS": "pc", "IS_DEFAULT": True}),
    MachineVersion("7.1"),
    MachineVersion("7.0"),
    MachineVersion("6.2"),
    MachineVersion("6.1", (), {"SMP_PREFER_SOCKETS": True}),
    MachineVersion("6.0", (("i8042", "extended-state", "false"),)),
    MachineVersion("5.2"),
    MachineVersion("5.1"),
    MachineVersion("5.0", (("pci-host-bridge", "x-config-reg-migration-enabled", "off"),),
                   {"NUMA_MEM_SUPPORTED": True}),
    MachineVersion("4.2"),
    MachineVersion("4.1"),
    MachineVersion("4.0"),
    MachineVersion("3.1"),
    MachineVersion("3.0"),
    MachineVersion("2.12"),
    MachineVersion("2.11"),
    MachineVersion("2.10", (("i440FX-pcihost", "x-pci-hole64-fix", "off"),)),
    MachineVersion("2.9"),
    MachineVersion("2.8", (("pci-device", "x-pcie-extcap-init", "off"),)),
    MachineVersion("2.7"),
    MachineVersion("2.6"),
    MachineVersion("2.5"),
    MachineVersion("2.4"),
    MachineVersion("2.3", (("pci-device", "x-pcie-lnksta-dllla", "off"),)),
    MachineVersion("2.2", (), {"DEFAULT_SUPPRESS_VMDESC": True}),
    MachineVersion("2.1", (), {"ENFORCE_ALIGNED_DIMM": False}),
    MachineVersion("2.0", (), {"HAS_RESERVED_MEMORY": False}),
    MachineVersion("1.7", (), {"DEPRECATION_REASON": DEPRECATED_OLD, "GIGABYTE_ALIGN": False,
                               "DEFAULT_FIRMWARE": None, "DEFAULT_SUPPRESS_VMDESC": False}),
    MachineVersion("1.6", (("i440FX-pcihost", "short_root_bus", "1"),)),
    MachineVersion("1.5", (("i440FX-pcihost", "short_root_bus", "0"),)),
    MachineVersion("1.4"),
)


@register_type
class PCI440FXMachine(PCMachineState):
    """The i440FX board (abstract ``pc-i440fx-machine``); the versions below are its concrete types."""

    TYPE = TYPE_PC_I440FX_MACHINE
    ABSTRACT = True
    DESCRIPTION = I440FX_DESCRIPTION
    FAMILY = "pc_piix"

    def chipset_init(self, memory: MemorySystem, pci_memory: MemoryRegion) -> IsaBus:
        """The i440FX host bridge and, at 01.0, the PIIX3 ISA bridge with ``isa.0``."""
        from pyqemu.hw.isa.piix3 import PIIX3
        from pyqemu.hw.pci.pci import pci_create_simple
        from pyqemu.hw.pci_host.i440fx import i440fx_init

        self.pci_bus = i440fx_init(self, memory, pci_memory, machine_ram(self))
        piix3 = pci_create_simple(self.pci_bus, PIIX3_DEVFN, "PIIX3", multifunction=True)
        assert isinstance(piix3, PIIX3) and piix3.isa_bus is not None
        piix3.pic = self.gsi[:ISA_NUM_IRQS]
        return piix3.isa_bus

    def southbridge_init(self, isa_bus: IsaBus) -> None:
        """The PIIX3 IDE function (01.1), then PIIX4 power management (01.3) with the SMBus EEPROMs."""
        from pyqemu.hw.acpi.piix4 import piix4_pm_init
        from pyqemu.hw.core.irq import Irq
        from pyqemu.hw.i2c.smbus_eeprom import smbus_eeprom_init
        from pyqemu.hw.ide.piix import piix3_ide_init

        assert self.pci_bus is not None
        piix3_ide_init(self.pci_bus, PIIX3_DEVFN + 1)
        if self.acpi == "off":  # type: ignore[attr-defined]
            return
        smi_irq = Irq.new(lambda _n, level: self.smi_request(level))
        pm = piix4_pm_init(self.pci_bus, PIIX3_DEVFN + 3, self.gsi[SCI_IRQ], smi_irq, SMB_IO_BASE,
                           smm_enabled=self.smm_enabled())
        self.set_acpi_device(pm)
        smbus_eeprom_init(pm.i2c_bus, SMBUS_EEPROMS)


register_versions(PCI440FXMachine, "pc-i440fx", VERSIONS, globals())
