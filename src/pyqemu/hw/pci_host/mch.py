"""The Q35 memory controller hub (``mch``): function 00.0 of ``pcie.0``, child ``/machine/q35/mch``.

Its configuration registers steer the memory map:

- PCIEXBAR (0x60, 64 bits) places the MMCONFIG window: bit 0 enables it,
  bits 1-2 choose 256, 128 or 64 MiB; the base defaults to 0xb0000000 and the
  window stays off until firmware turns it on;
- PAM0-PAM6 (0x90-0x96) switch the BIOS shadow areas (:mod:`pam`);
- SMRAM (0x9d) and ESMRAMC (0x9e) open or close the legacy SMRAM window at
  0xa0000, its high copy at 0xfeda0000 and the TSEG at the top of low RAM,
  with QEMU's lock (``D_LCK``) semantics;
- EXT_TSEG_MBYTES (0x50) reports ``extended-tseg-mbytes`` when firmware
  writes the query value; F_SMBASE (0x9c) QEMU's SMRAM-at-SMBASE extension.

The ``smram`` container is the view SMM code gets; the machine links it as
``/machine/smram``, as in QEMU.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.hw.core.qdev_properties import prop_bool, prop_uint16
from pyqemu.hw.pci.pci import PCI_CLASS_BRIDGE_HOST, PCI_VENDOR_ID_INTEL, PCIDevice
from pyqemu.hw.pci_host.pam import PAMRegion, pam_init, pam_touched, pam_update_all
from pyqemu.memory.region import AccessSizes, MemoryRegionOps
from pyqemu.qom.object import register_type
from pyqemu.util.units import MiB

if TYPE_CHECKING:
    from pyqemu.hw.pci.pci_host import PCIExpressHost
    from pyqemu.memory.region import MemoryRegion

TYPE_MCH_PCI_DEVICE = "mch"
PCI_DEVICE_ID_INTEL_Q35_MCH = 0x29C0

PCIEXBAR = 0x60
PCIEXBAR_SIZE = 8
PCIEXBAR_DEFAULT = 0xB0000000
PCIEXBAREN = 0x1
PCIEXBAR_LENGTH_SHIFT = 1
PCIEXBAR_LENGTH_MASK = 0x3
#: Window size and the address bits that form its base, per PCIEXBAR length field.
PCIEXBAR_LENGTHS = {
    0: (256 * MiB, 0xFF_F000_0000),
    1: (128 * MiB, 0xFF_F800_0000),
    2: (64 * MiB, 0xFF_FC00_0000),
}

PAM0 = 0x90
EXT_TSEG_MBYTES = 0x50
EXT_TSEG_MBYTES_QUERY = 0xFFFF
F_SMBASE = 0x9C
F_SMBASE_QUERY = 0xFF
F_SMBASE_IN_RAM = 0x01
F_SMBASE_LCK = 0x02
SMBASE_ADDR = 0x30000
SMBASE_SIZE = 0x10000

SMRAM = 0x9D
SMRAM_D_OPEN = 0x40
SMRAM_D_CLS = 0x20
SMRAM_D_LCK = 0x10
SMRAM_G_SMRAME = 0x08
SMRAM_DEFAULT = 0x02  # C_BASE_SEG
SMRAM_WMASK = SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME
SMRAM_WMASK_LCK = SMRAM_D_CLS
SMRAM_C_BASE = 0xA0000
SMRAM_C_SIZE = 0x20000
SMRAM_HIGH_BASE = 0xFEDA0000
SMRAM_SPACE_SIZE = 1 << 32

ESMRAMC = 0x9E
ESMRAMC_H_SMRAME = 0x80
ESMRAMC_TSEG_SZ_MASK = 0x06
ESMRAMC_T_EN = 0x01
ESMRAMC_DEFAULT = 0x38
ESMRAMC_WMASK = ESMRAMC_H_SMRAME | ESMRAMC_TSEG_SZ_MASK | ESMRAMC_T_EN
ESMRAMC_WMASK_LCK = 0
#: TSEG sizes of the ESMRAMC size field; the fourth value means ``extended-tseg-mbytes``.
TSEG_SIZES = {0x0: 1 * MiB, 0x2: 2 * MiB, 0x4: 8 * MiB}

#: What code outside SMM sees of locked SMRAM: all ones, writes dropped.
BLACKHOLE_OPS = MemoryRegionOps(read=lambda _addr, _size: 0xFFFFFFFF, write=lambda _addr, _value, _size: None,
                                valid=AccessSizes(1, 4), impl=AccessSizes(4, 4))


@register_type
class MCHDevice(PCIDevice):
    """The memory controller hub (``mch``)."""

    TYPE = TYPE_MCH_PCI_DEVICE
    USER_CREATABLE = False
    HOTPLUGGABLE = False
    VENDOR_ID = PCI_VENDOR_ID_INTEL
    DEVICE_ID = PCI_DEVICE_ID_INTEL_Q35_MCH
    CLASS_ID = PCI_CLASS_BRIDGE_HOST
    PROPERTIES = (
        prop_uint16("extended-tseg-mbytes", default=16),
        prop_bool("smbase-smram", default=True),
    )

    def __init__(self) -> None:
        super().__init__()
        self.host: PCIExpressHost | None = None
        self.below_4g_mem_size = 0
        self.pam: list[PAMRegion] = []
        self.regions: dict[str, MemoryRegion] = {}

    # -- realize / reset -----------------------------------------------------------------

    def pci_realize(self) -> None:
        self._reset_registers()

    def memory_init(self, ram: MemoryRegion, system: MemoryRegion, pci: MemoryRegion) -> None:
        """The SMRAM, TSEG and SMBASE windows and the PAM segments, in QEMU's order (``mch_realize``)."""
        from pyqemu.memory.region import MemoryRegion

        below = self.below_4g_mem_size
        r = self.regions
        r["smram-region"] = MemoryRegion.new_alias(self, "smram-region", pci, SMRAM_C_BASE, SMRAM_C_SIZE)
        system.add_subregion_overlap(SMRAM_C_BASE, r["smram-region"], 1)
        high = MemoryRegion.new_alias(self, "smram-open-high", ram, SMRAM_C_BASE, SMRAM_C_SIZE)
        r["smram-open-high"] = high
        r["smram-open-high"].set_enabled(False)
        system.add_subregion_overlap(SMRAM_HIGH_BASE, r["smram-open-high"], 1)
        smram = r["smram"] = MemoryRegion.new_container(self, "smram", SMRAM_SPACE_SIZE)
        r["smram-low"] = MemoryRegion.new_alias(self, "smram-low", ram, SMRAM_C_BASE, SMRAM_C_SIZE)
        smram.add_subregion(SMRAM_C_BASE, r["smram-low"])
        r["smram-high"] = MemoryRegion.new_alias(self, "smram-high", ram, SMRAM_C_BASE, SMRAM_C_SIZE)
        smram.add_subregion(SMRAM_HIGH_BASE, r["smram-high"])
        r["tseg-blackhole"] = MemoryRegion.new_io(self, BLACKHOLE_OPS, "tseg-blackhole", 0)
        r["tseg-blackhole"].set_enabled(False)
        system.add_subregion_overlap(below, r["tseg-blackhole"], 1)
        r["tseg-window"] = MemoryRegion.new_alias(self, "tseg-window", ram, below, 0)
        r["tseg-window"].set_enabled(False)
        smram.add_subregion(below, r["tseg-window"])
        r["smbase-blackhole"] = MemoryRegion.new_io(self, BLACKHOLE_OPS, "smbase-blackhole", SMBASE_SIZE)
        r["smbase-blackhole"].set_enabled(False)
        system.add_subregion_overlap(SMBASE_ADDR, r["smbase-blackhole"], 1)
        r["smbase-window"] = MemoryRegion.new_alias(self, "smbase-window", ram, SMBASE_ADDR, SMBASE_SIZE)
        r["smbase-window"].set_enabled(False)
        smram.add_subregion(SMBASE_ADDR, r["smbase-window"])
        self.system = system
        self.pam = pam_init(self, ram, system, pci)
        self.update()

    def reset(self) -> None:
        super().reset()
        self._reset_registers()
        self.update()

    def _reset_registers(self) -> None:
        """``mch_reset``: MMCONFIG base, SMRAM closed, TSEG query value, SMBASE unlocked."""
        self.set_quad(PCIEXBAR, PCIEXBAR_DEFAULT)
        self.set_byte(SMRAM, SMRAM_DEFAULT)
        self.set_byte(ESMRAMC, ESMRAMC_DEFAULT)
        self.wmask[SMRAM] = SMRAM_WMASK
        self.wmask[ESMRAMC] = ESMRAMC_WMASK
        if self.extended_tseg_mbytes > 0:  # type: ignore[attr-defined]
            self.set_word(EXT_TSEG_MBYTES, EXT_TSEG_MBYTES_QUERY)
        self.set_byte(F_SMBASE, 0)
        self.wmask[F_SMBASE] = 0xFF

    # -- configuration writes --------------------------------------------------------------

    def config_write(self, offset: int, value: int, size: int) -> None:
        super().config_write(offset, value, size)

        def touched(start: int, length: int = 1) -> bool:
            return offset < start + length and offset + size > start

        if touched(PCIEXBAR, PCIEXBAR_SIZE):
            self.update_pciexbar()
        if pam_touched(offset, size, PAM0):
            self.update_pam()
        if touched(SMRAM, 2):
            self.update_smram()
        if touched(EXT_TSEG_MBYTES, 2):
            self.update_ext_tseg_mbytes()
        if touched(F_SMBASE):
            self.update_smbase_smram()

    def update(self) -> None:
        """Apply every register (``mch_update``)."""
        self.update_pciexbar()
        self.update_pam()
        self.update_smram()
        self.update_ext_tseg_mbytes()
        self.update_smbase_smram()

    def update_pciexbar(self) -> None:
        """Move, resize or switch off the MMCONFIG window as PCIEXBAR now says.

        As in QEMU, a write with the reserved length (3) leaves the window as it was, even
        when it clears the enable bit.
        """
        if self.host is None:
            return
        bar = int.from_bytes(self.config[PCIEXBAR:PCIEXBAR + PCIEXBAR_SIZE], "little")
        size_mask = PCIEXBAR_LENGTHS.get((bar >> PCIEXBAR_LENGTH_SHIFT) & PCIEXBAR_LENGTH_MASK)
        if size_mask is None:
            return
        size, mask = size_mask
        self.host.mmcfg_update(bool(bar & PCIEXBAREN), bar & mask, size)

    def update_pam(self) -> None:
        pam_update_all(self.pam, self.config, PAM0)

    def update_smram(self) -> None:
        """Open, close or lock the SMRAM windows and size the TSEG (``mch_update_smram``)."""
        if not self.regions:
            return
        r = self.regions
        if self.config[SMRAM] & SMRAM_D_LCK:
            self.config[SMRAM] &= ~SMRAM_D_OPEN & 0xFF
            self.wmask[SMRAM] = SMRAM_WMASK_LCK
            self.wmask[ESMRAMC] = ESMRAMC_WMASK_LCK
        smram, esmramc = self.config[SMRAM], self.config[ESMRAMC]
        h_smrame = bool(esmramc & ESMRAMC_H_SMRAME)
        if smram & SMRAM_D_OPEN:
            r["smram-region"].set_enabled(h_smrame)  # hide low SMRAM if the high copy is in use
            r["smram-open-high"].set_enabled(h_smrame)
        else:
            r["smram-region"].set_enabled(True)
            r["smram-open-high"].set_enabled(False)
        g_smrame = bool(smram & SMRAM_G_SMRAME)
        r["smram-low"].set_enabled(g_smrame and not h_smrame)
        r["smram-high"].set_enabled(g_smrame and h_smrame)
        tseg_size = 0
        if esmramc & ESMRAMC_T_EN and g_smrame:
            field = esmramc & ESMRAMC_TSEG_SZ_MASK
            tseg_size = TSEG_SIZES.get(field, self.extended_tseg_mbytes * MiB)  # type: ignore[attr-defined]
        base = self.below_4g_mem_size - tseg_size
        blackhole = r["tseg-blackhole"]
        self.system.del_subregion(blackhole)
        blackhole.set_enabled(bool(tseg_size))
        blackhole.set_size(tseg_size)
        self.system.add_subregion_overlap(base, blackhole, 1)
        window = r["tseg-window"]
        window.set_enabled(bool(tseg_size))
        window.set_size(tseg_size)
        window.set_address(base)
        window.set_alias_offset(base)

    def update_ext_tseg_mbytes(self) -> None:
        """Answer firmware's query of the extended TSEG size."""
        mbytes = self.extended_tseg_mbytes  # type: ignore[attr-defined]
        if mbytes > 0 and self.get_word(EXT_TSEG_MBYTES) == EXT_TSEG_MBYTES_QUERY:
            self.set_word(EXT_TSEG_MBYTES, mbytes)

    def update_smbase_smram(self) -> None:
        """QEMU's SMRAM at SMBASE: negotiated through F_SMBASE, then locked (``mch_update_smbase_smram``)."""
        if not self.smbase_smram or not self.regions:  # type: ignore[attr-defined]
            return
        if self.config[F_SMBASE] == F_SMBASE_QUERY:
            self.wmask[F_SMBASE] = F_SMBASE_LCK
            self.config[F_SMBASE] = F_SMBASE_IN_RAM
            return
        if self.wmask[F_SMBASE] == 0xFF:
            self.config[F_SMBASE] = 0  # not negotiated yet: the write is discarded
        locked = bool(self.config[F_SMBASE] & F_SMBASE_LCK)
        if locked:
            self.wmask[F_SMBASE] &= ~F_SMBASE_LCK & 0xFF
            self.config[F_SMBASE] = F_SMBASE_LCK
        self.regions["smbase-blackhole"].set_enabled(locked)
        self.regions["smbase-window"].set_enabled(locked)
