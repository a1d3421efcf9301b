"""The ICH9's chipset configuration registers: the 16 KiB block RCBA maps (``lpc-rcrb-mmio``).

Two groups of registers matter to a guest here:

- D25IR-D31IR, one 16-bit register per PCI device number 25-31: four 3-bit
  fields (one per INTA-INTD, 4 bits apart) naming the PIRQ (A-H) that pin
  goes to.  Device 30's register is read-only 0 and its pins go to PIRQ E-H.
  Devices 0-24 are routed by a fixed rotation onto PIRQ E-H (A-D are left
  to PCI Express ports), as QEMU's firmware tables expect;
- GCS, whose NO_REBOOT bit (set at reset) keeps the TCO watchdog from
  resetting the machine.

:attr:`ChipConfig.irr` is the resulting table ``[slot][pin] -> PIRQ``, kept
up to date on every write (QEMU's ``ich9_cc_update``).
"""

from __future__ import annotations

PCI_SLOT_MAX = 32
PCI_NUM_PINS = 4
ICH9_CC_SIZE = 16 * 1024
ICH9_CC_GCS = 0x3410
ICH9_CC_GCS_DEFAULT = 0x00000020
ICH9_CC_GCS_NO_REBOOT = 1 << 5
ICH9_CC_DIR_DEFAULT = 0x3210
ICH9_CC_DIR_SHIFT = 4
ICH9_CC_DIR_MASK = 0x7
#: The interrupt routing register of each device number (D30IR overlaps D31IR's upper half).
ICH9_CC_DIR = {25: 0x3150, 26: 0x314C, 27: 0x3148, 28: 0x3146, 29: 0x3144, 30: 0x3142, 31: 0x3140}
#: The DMI-to-PCI bridge (device 30): INTA-INTD to PIRQ E-H, whatever its register says.
ICH9_D30_SLOT = 30
ICH9_PIRQE = 4
#: Reset values, written in this order: D31IR is written as 32 bits, which is why it reads 0x00003210.
ICH9_CC_RESET_VALUES = (
    (0x3140, ICH9_CC_DIR_DEFAULT), (0x3142, 0), (0x3144, ICH9_CC_DIR_DEFAULT), (0x3146, ICH9_CC_DIR_DEFAULT),
    (0x3148, ICH9_CC_DIR_DEFAULT), (0x314C, ICH9_CC_DIR_DEFAULT), (0x3150, ICH9_CC_DIR_DEFAULT),
    (ICH9_CC_GCS, ICH9_CC_GCS_DEFAULT),
)


def _default_pirq(slot: int, pin: int) -> int:
    """Devices 0-24: pin N of slot S goes to PIRQ E + (S + N) mod 4."""
    return (slot + pin) % PCI_NUM_PINS + ICH9_PIRQE


class ChipConfig:
    """The register block and the PIRQ table it defines."""

    def __init__(self) -> None:
        self.regs = bytearray(ICH9_CC_SIZE)
        self.irr = [[_default_pirq(slot, pin) for pin in range(PCI_NUM_PINS)] for slot in range(PCI_SLOT_MAX)]
        self.reset()

    def reset(self) -> None:
        self.regs[:] = bytes(ICH9_CC_SIZE)
        for offset, value in ICH9_CC_RESET_VALUES:
            self.regs[offset:offset + 4] = value.to_bytes(4, "little")
        self._update_irr()

    def read(self, offset: int, size: int) -> int:
        return int.from_bytes(self.regs[offset:offset + size], "little")

    def write(self, offset: int, value: int, size: int) -> None:
        """Store the bytes that fall inside the block, then recompute the routing."""
        self.regs[offset:offset + size] = value.to_bytes(size, "little")[:ICH9_CC_SIZE - offset]
        self._update_irr()

    @property
    def no_reboot(self) -> bool:
        return bool(self.read(ICH9_CC_GCS, 4) & ICH9_CC_GCS_NO_REBOOT)

    def _update_irr(self) -> None:
        for slot, offset in ICH9_CC_DIR.items():
            if slot == ICH9_D30_SLOT:
                self.irr[slot] = [ICH9_PIRQE + pin for pin in range(PCI_NUM_PINS)]
                continue
            routing = self.read(offset, 2)
            self.irr[slot] = [routing >> (pin * ICH9_CC_DIR_SHIFT) & ICH9_CC_DIR_MASK
                              for pin in range(PCI_NUM_PINS)]
