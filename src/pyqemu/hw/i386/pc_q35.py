"""The ``q35`` boards: Q35 host bridge (MCH) and ICH9 LPC bridge, versions 7.2 back to 2.4.

Same scheme as :mod:`pyqemu.hw.i386.pc_piix`: one init, versions that
differ by compat properties (those touching devices pyqemu models, checked
against QEMU 7.2's ``info qtree`` of each version) and class facts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.hw.i386.pc import PCMachineState
from pyqemu.hw.i386.pc_versions import MachineVersion, register_versions
from pyqemu.hw.i386.x86 import machine_ram
from pyqemu.hw.i386.x86_gsi import IOAPIC_NUM_PINS
from pyqemu.qom.object import register_type
from pyqemu.util.units import GiB

if TYPE_CHECKING:
    from pyqemu.hw.isa.isa_bus import IsaBus
    from pyqemu.memory.address_space import MemorySystem
    from pyqemu.memory.region import MemoryRegion

TYPE_PC_Q35_MACHINE = "pc-q35-machine"
Q35_DESCRIPTION = "Standard PC (Q35 + ICH9, 2009)"
Q35_MAX_CPUS = 288
OLD_MAX_CPUS = 255
#: Below this much RAM, 2.75 GiB fit under the MMCONFIG window; from it on, only 2 GiB.
Q35_LOWMEM_THRESHOLD = 0xB0000000
Q35_LOWMEM_SMALL = 0x80000000
ICH9_LPC_DEVFN = 31 << 3
ICH9_SATA1_DEVFN = 31 << 3 | 2
ICH9_SMB_DEVFN = 31 << 3 | 3
SMB_IO_BASE = 0xB100
SMBUS_EEPROMS = 8

VERSIONS: tuple[MachineVersion, ...] = (
    MachineVersion("7.2", (), {"ALIAS": "q35"}),
    MachineVersion("7.1"),
    MachineVersion("7.0"),
    MachineVersion("6.2"),
    MachineVersion("6.1", (), {"SMP_PREFER_SOCKETS": True}),
    MachineVersion("6.0", (("i8042", "extended-state", "false"),)),
    MachineVersion("5.2", (("ICH9-LPC", "x-smi-cpu-hotunplug", "off"), ("ICH9-LPC", "smm-compat", "on"))),
    MachineVersion("5.1", (("ICH9-LPC", "x-smi-cpu-hotplug", "off"),)),
    MachineVersion("5.0", (("pci-host-bridge", "x-config-reg-migration-enabled", "off"),),
                   {"NUMA_MEM_SUPPORTED": True}),
    MachineVersion("4.2", (("mch", "smbase-smram", "off"),)),
    MachineVersion("4.1"),
    MachineVersion("4.0.1"),
    MachineVersion("4.0"),
    MachineVersion("3.1"),
    MachineVersion("3.0"),
    MachineVersion("2.12"),
    MachineVersion("2.11"),
    MachineVersion("2.10", (("q35-pcihost", "x-pci-hole64-fix", "off"),)),
    MachineVersion("2.9", (("mch", "extended-tseg-mbytes", "0"),)),
    MachineVersion("2.8", (("pci-device", "x-pcie-extcap-init", "off"),
                           ("ICH9-LPC", "x-smi-broadcast", "off"))),
    MachineVersion("2.7", (), {"MAX_CPUS": OLD_MAX_CPUS}),
    MachineVersion("2.6"),
    MachineVersion("2.5"),
    MachineVersion("2.4"),
)


@register_type
class Q35Machine(PCMachineState):
    """The Q35 board (abstract ``pc-q35-machine``); the versions below are its concrete types."""

    TYPE = TYPE_PC_Q35_MACHINE
    ABSTRACT = True
    DESCRIPTION = Q35_DESCRIPTION
    FAMILY = "pc_q35"
    MAX_CPUS = Q35_MAX_CPUS
    HPET_INTCAP = 0xFF0104
    HAS_FLOPPY = False
    DEFAULT_MAX_RAM_BELOW_4G = 4 * GiB

    def lowmem_limit(self) -> int:
        """Q35 keeps 0xb0000000-4 GiB for MMCONFIG and MMIO: at most 2.75 GiB, 2 GiB for large RAM,
        and never more than ``max-ram-below-4g`` (``pc_q35_init``)."""
        lowmem = Q35_LOWMEM_SMALL if self.ram_size >= Q35_LOWMEM_THRESHOLD else Q35_LOWMEM_THRESHOLD
        return min(lowmem, self.max_ram_below_4g or self.DEFAULT_MAX_RAM_BELOW_4G)

    def ram_split_warning(self) -> str | None:
        """QEMU's warning when a ``max-ram-below-4g`` off a 1 GiB boundary leaves most RAM above 4 GiB."""
        lowmem = self.lowmem_limit()
        if lowmem == self.max_ram_below_4g and self.ram_size - lowmem > lowmem and lowmem % GiB:
            return (f"There is possibly poor performance as the ram size  (0x{self.ram_size:x}) is more "
                    f"then twice the size of max-ram-below-4g ({lowmem}) and max-ram-below-4g is not "
                    "a multiple of 1G.")
        return None

    def chipset_init(self, memory: MemorySystem, pci_memory: MemoryRegion) -> IsaBus:
        """The Q35 host with the MCH; at 1f.0 the ICH9 LPC bridge with ``isa.0``, its GSI outputs wired."""
        from pyqemu.hw.core.irq import qdev_connect_gpio_out_named
        from pyqemu.hw.isa.lpc_ich9 import ICH9_GPIO_GSI, ICH9LPC
        from pyqemu.hw.pci.pci import pci_create_simple
        from pyqemu.hw.pci_host.q35 import q35_host_init

        below = min(self.ram_size, self.lowmem_limit())
        self.pci_bus = q35_host_init(
            self, memory, pci_memory, machine_ram(self), below, self.ram_size - below
        )
        # No IOMMU exists to bypass; the host bridge still shows the setting, as QEMU's q35 does
        # (its i440FX host keeps its own default).
        self.pci_bus.parent_device.bypass_iommu = self.default_bus_bypass_iommu  # type: ignore[attr-defined]

        def configure(lpc: object) -> None:
            for gsi, line in enumerate(self.gsi[:IOAPIC_NUM_PINS]):
                qdev_connect_gpio_out_named(lpc, ICH9_GPIO_GSI, gsi, line)  # type: ignore[arg-type]

        lpc = pci_create_simple(self.pci_bus, ICH9_LPC_DEVFN, "ICH9-LPC", multifunction=True,
                                configure=configure)
        assert isinstance(lpc, ICH9LPC) and lpc.isa_bus is not None
        self.set_acpi_device(lpc)
        return lpc.isa_bus

    def southbridge_init(self, isa_bus: IsaBus) -> None:
        """The AHCI controller (1f.2, ``sata=on``) and the SMBus (1f.3, ``smbus=on``) with its EEPROMs."""
        from pyqemu.hw.i2c.smbus_eeprom import smbus_eeprom_init
        from pyqemu.hw.i2c.smbus_ich9 import ich9_smb_init
        from pyqemu.hw.ide.ich9_ahci import ich9_ahci_init

        assert self.pci_bus is not None
        if self.sata:  # type: ignore[attr-defined]
            ich9_ahci_init(self.pci_bus, ICH9_SATA1_DEVFN)
        if self.smbus:  # type: ignore[attr-defined]
            _smb, i2c = ich9_smb_init(self.pci_bus, ICH9_SMB_DEVFN, SMB_IO_BASE)
            smbus_eeprom_init(i2c, SMBUS_EEPROMS)


register_versions(Q35Machine, "pc-q35", VERSIONS, globals())
