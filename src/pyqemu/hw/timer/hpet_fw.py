"""What the HPETs tell firmware: the FW_CFG_HPET blob (QEMU's ``struct hpet_fw_config``).

A count, then one block per HPET: the low half of its capabilities
register (the event timer block ID), its MMIO address, a minimum tick and a
page protection byte.  The count reads 0xff until an HPET is realized.  The
x86 fw_cfg device serves the bytes live, so an HPET fills its block at
reset, after fw_cfg has been created, as in QEMU.
"""

from __future__ import annotations

import struct
from typing import Any

from pyqemu.util.errors import DeviceError

HPET_MAX = 8
HPET_COUNT_NONE = 0xFF
HPET_ENTRY = struct.Struct("<IQHB")


class HpetFwConfig:
    """The blob and its numbering of HPETs (``hpet_id``)."""

    def __init__(self) -> None:
        self.data = bytearray(1 + HPET_MAX * HPET_ENTRY.size)
        self.data[0] = HPET_COUNT_NONE

    @property
    def count(self) -> int:
        return self.data[0]

    def add_block(self) -> int:
        """Number a new HPET; at most 8."""
        if self.count == HPET_COUNT_NONE:
            self.data[0] = 0
        if self.count == HPET_MAX:
            raise DeviceError(f"Only {HPET_MAX} instances of HPET is allowed")
        self.data[0] += 1
        return self.count - 1

    def set_block(self, index: int, event_timer_block_id: int, address: int,
                  min_tick: int = 0, page_prot: int = 0) -> None:
        """What HPET ``index`` reports: its capabilities' low 32 bits and its MMIO address."""
        HPET_ENTRY.pack_into(self.data, 1 + index * HPET_ENTRY.size,
                             event_timer_block_id, address, min_tick, page_prot)


def hpet_fw_config(machine: Any) -> HpetFwConfig:
    """The machine's blob (``machine.hpet_fw_cfg``), made on first use."""
    if machine.hpet_fw_cfg is None:
        machine.hpet_fw_cfg = HpetFwConfig()
    assert isinstance(machine.hpet_fw_cfg, HpetFwConfig)
    return machine.hpet_fw_cfg
