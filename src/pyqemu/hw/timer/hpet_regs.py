"""The HPET's registers and bits, and the wrapping counter arithmetic its timers use.

Offsets are in the 1 KiB MMIO window; names follow the IA-PC HPET
specification (1.0a) as QEMU 7.2's ``include/hw/timer/hpet.h`` spells them.
"""

from __future__ import annotations

from pyqemu.util.cutils import UINT64_MAX

HPET_BASE = 0xFED00000
HPET_LEN = 0x400
HPET_CLK_PERIOD_NS = 10
FS_PER_NS = 1_000_000
HPET_MIN_TIMERS = 3
HPET_MAX_TIMERS = 32
HPET_NUM_IRQ_ROUTES = 32
#: GPIO inputs: the PIT's and the RTC's interrupts, passed on outside legacy mode.
HPET_LEGACY_PIT_INT = 0
HPET_LEGACY_RTC_INT = 1
#: Routes of timers 0 and 1 in legacy replacement mode.
LEGACY_PIT_ROUTE = 0
LEGACY_RTC_ROUTE = 8

U32 = 0xFFFFFFFF
HIGH32 = UINT64_MAX ^ U32
#: A timer's upper register half.
HI = 4

# General registers.
HPET_ID = 0x000  # capabilities and ID; the clock period in the upper half
HPET_PERIOD = HPET_ID + HI
HPET_CFG = 0x010
HPET_STATUS = 0x020
HPET_COUNTER = 0x0F0
# Timer N's registers are at 0x100 + 0x20 * N.
TIMER_BASE = 0x100
TIMER_LAST = 0x3FF
TIMER_STRIDE = 0x20
HPET_TN_CFG = 0x00
HPET_TN_CMP = 0x08
HPET_TN_ROUTE = 0x10

HPET_CFG_ENABLE = 0x001
HPET_CFG_LEGACY = 0x002
HPET_CFG_WRITE_MASK = 0x003

#: Vendor 0x8086, legacy replacement capable, 64-bit counter, revision 1.
HPET_ID_BASE = 0x8086A001
HPET_ID_NUM_TIM_SHIFT = 8

HPET_TN_TYPE_LEVEL = 0x002
HPET_TN_ENABLE = 0x004
HPET_TN_PERIODIC = 0x008
HPET_TN_PERIODIC_CAP = 0x010
HPET_TN_SIZE_CAP = 0x020
HPET_TN_SETVAL = 0x040
HPET_TN_32BIT = 0x100
HPET_TN_INT_ROUTE_MASK = 0x3E00
HPET_TN_INT_ROUTE_SHIFT = 9
HPET_TN_FSB_ENABLE = 0x4000
HPET_TN_FSB_CAP = 0x8000
HPET_TN_CFG_WRITE_MASK = 0x7F4E
HPET_TN_INT_ROUTE_CAP_SHIFT = 32
#: Beyond this many nanoseconds ahead a match is not armed (QEMU 8.0's overflow fix).
ARM_LIMIT_NS = (2**63 - 1) // 2

def ticks_to_ns(ticks: int) -> int:
    return (ticks * HPET_CLK_PERIOD_NS) & UINT64_MAX


def fixup_reg(new: int, old: int, mask: int) -> int:
    """``new`` where ``mask`` lets the guest write, ``old`` elsewhere."""
    return (new & mask) | (old & ~mask)


def activating(old: int, new: int, bit: int) -> bool:
    return not old & bit and bool(new & bit)


def deactivating(old: int, new: int, bit: int) -> bool:
    return bool(old & bit) and not new & bit


def time_after(a: int, b: int, bits: int) -> bool:
    """Whether counter value ``a`` is after ``b``, in ``bits``-bit wrapping arithmetic."""
    delta = (a - b) % (1 << bits)
    return 0 < delta <= 1 << (bits - 1)


def advance_comparator(cmp: int, period: int, now: int, bits: int) -> int:
    """Add ``period`` to ``cmp`` until ``now`` is no longer after it (``bits``-bit wrapping)."""
    mod = 1 << bits
    step = period % mod
    if not step or not time_after(now, cmp, bits):
        return cmp
    if step <= mod >> 1:
        return (cmp + -(-((now - cmp) % mod) // step) * step) % mod
    while time_after(now, cmp, bits):  # a step past half the range: count them out
        cmp = (cmp + step) % mod
    return cmp
