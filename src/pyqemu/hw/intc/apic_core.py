"""One local APIC's registers, timer and interrupt logic (QEMU's ``hw/intc/apic.c`` and ``apic_common.c``).

:class:`ApicCore` works without QOM.  Registers are accessed by index
(MMIO offset >> 4); ``read_mmio`` / ``write_mmio`` take offsets in the
page as a CPU's access would.  What a CPU asks of its APIC are methods
(``get_interrupt``, ``poll_irq``, ``sipi``, the base MSR, CR8, ``init_reset``);
what the APIC asks of its CPU are :class:`~.apic_bus.CpuInterrupt` bits in
``interrupt_request``, each raise reported to ``on_interrupt``.  Changes
made from another thread (a device, qtest) only ask the CPU to POLL; the
CPU then re-evaluates the APIC with :meth:`ApicCore.poll_irq`, as in QEMU.

The timer counts down on the virtual clock at 1 GHz divided by the divide
configuration.  The virtual-APIC page of ``kvmvapic`` (TPR patching for old
Windows guests) is never synced: only guest code running on a CPU enables it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pyqemu.hw.intc.apic_bus import ApicBus, CpuInterrupt, DeliveryMode

if TYPE_CHECKING:
    from pyqemu.util.main_loop import Timer

APIC_DEFAULT_ADDRESS = 0xFEE00000
DEFAULT_VERSION = 0x14
MSI_REGS_END = 0xFFF  # a CPU's writes beyond the register page are MSIs
WORD = 0xFFFFFFFF

# The IA32_APIC_BASE MSR.
APICBASE_BSP = 1 << 8
APICBASE_EXTD = 1 << 10
APICBASE_ENABLE = 1 << 11
APICBASE_BASE_MASK = 0xFFFFF000

# Local vector table entries.
LVT_TIMER, LVT_THERMAL, LVT_PERFORM, LVT_LINT0, LVT_LINT1, LVT_ERROR = range(6)
LVT_NB = 6
LVT_MASKED = 1 << 16
LVT_TIMER_PERIODIC = 1 << 17
LVT_LEVEL_TRIGGER = 1 << 15

# Registers, by index (MMIO offset >> 4).
REG_ID = 0x02
REG_VERSION = 0x03
REG_TPR = 0x08
REG_APR = 0x09
REG_PPR = 0x0A
REG_EOI = 0x0B
REG_LDR = 0x0D
REG_DFR = 0x0E
REG_SVR = 0x0F
REG_ISR = 0x10  # 8 words each, lowest vectors first
REG_TMR = 0x18
REG_IRR = 0x20
REG_ESR = 0x28
REG_ICR_LOW = 0x30
REG_ICR_HIGH = 0x31
REG_LVT = 0x32  # 6 entries: timer, thermal, performance, LINT0, LINT1, error
REG_TIMER_INITIAL = 0x38
REG_TIMER_CURRENT = 0x39
REG_TIMER_DIVIDE = 0x3E
SV_ENABLE = 1 << 8
SV_DIRECTED_IO = 1 << 12
ESR_ILLEGAL_ADDRESS = 1 << 7
ICR_DEST_MODE_SHIFT = 11
ICR_DELIVERY_SHIFT = 8
ICR_LEVEL = 1 << 14
ICR_TRIGGER_SHIFT = 15
ICR_SHORTHAND_SHIFT = 18
SHORTHAND_NONE, SHORTHAND_SELF, SHORTHAND_ALL, SHORTHAND_OTHERS = range(4)


def _highest(bits: int) -> int:
    """The highest vector set in a 256-bit ISR/IRR/TMR, or -1."""
    return bits.bit_length() - 1


def _word(bits: int, index: int) -> int:
    return (bits >> (32 * index)) & WORD


class ApicCore:
    """One local APIC's registers, timer and interrupt logic.

    ``now_ns`` / ``new_timer`` are the virtual clock; ``bsp`` marks the
    bootstrap processor's APIC.  Register access is by index
    (``read(REG_TPR)``); ``read_mmio`` / ``write_mmio`` take page offsets.
    """

    def __init__(
        self,
        bus: ApicBus,
        now_ns: Callable[[], int],
        new_timer: Callable[[Callable[[], None]], Timer],
        *,
        apic_id: int = 0,
        version: int = DEFAULT_VERSION,
        bsp: bool = False,
    ):
        self.bus = bus
        self._now_ns = now_ns
        self._timer = new_timer(self._timer_expired)
        self.initial_id = apic_id
        self.id = apic_id & 0xFF
        self.version = version
        self.apicbase = APIC_DEFAULT_ADDRESS | APICBASE_ENABLE | (APICBASE_BSP if bsp else 0)
        self.arb_id = 0
        self.vapic_paddr = 0
        self.sipi_vector = 0
        self.interrupt_request = CpuInterrupt(0)
        #: Called with the request bits each time the APIC raises some (to kick the vCPU).
        self.on_interrupt: Callable[[CpuInterrupt], None] = lambda _mask: None
        self.init_reset()

    # -- resets --------------------------------------------------------------

    def reset(self) -> None:
        """Device reset (``apic_reset_common``): enabled at 0xfee00000, BSP bit kept."""
        self.apicbase = APIC_DEFAULT_ADDRESS | (self.apicbase & APICBASE_BSP) | APICBASE_ENABLE
        self.id = self.initial_id & 0xFF
        self.bus.irq_delivered = 0
        self.vapic_paddr = 0
        self.init_reset()

    def init_reset(self) -> None:
        """What an INIT does (``apic_init_reset``): everything but the id and base."""
        self.tpr = 0
        self.spurious_vec = 0xFF
        self.log_dest = 0
        self.dest_mode = 0xF
        self.isr = self.tmr = self.irr = 0
        self.lvt = [LVT_MASKED] * LVT_NB
        self.esr = 0
        self.icr = [0, 0]
        self.divide_conf = 0
        self.count_shift = 0
        self.initial_count = 0
        self.initial_count_load_time = 0
        self.next_time = 0
        self.wait_for_sipi = not self.is_bsp
        self._timer.delete()
        self.timer_expiry = -1

    @property
    def is_bsp(self) -> bool:
        return bool(self.apicbase & APICBASE_BSP)

    def designate_bsp(self, bsp: bool) -> None:
        self.apicbase = self.apicbase | APICBASE_BSP if bsp else self.apicbase & ~APICBASE_BSP

    # -- the CPU's side ---------------------------------------------------------

    def cpu_interrupt(self, mask: CpuInterrupt) -> None:
        self.interrupt_request |= mask
        self.on_interrupt(mask)

    def cpu_reset_interrupt(self, mask: CpuInterrupt) -> None:
        self.interrupt_request &= ~mask

    def get_base(self) -> int:
        return self.apicbase

    def set_base(self, value: int) -> None:
        """A write of IA32_APIC_BASE: a disabled APIC stays disabled until reset."""
        self.apicbase = (value & APICBASE_BASE_MASK) | (self.apicbase & (APICBASE_BSP | APICBASE_ENABLE))
        if not value & APICBASE_ENABLE:
            self.apicbase &= ~APICBASE_ENABLE
            self.spurious_vec &= ~SV_ENABLE

    def get_tpr(self) -> int:
        """CR8: the task priority's upper nibble."""
        return self.tpr >> 4

    def set_tpr(self, cr8: int) -> None:
        if not self.vapic_paddr:  # CR8 writes are ignored while the VAPIC is active
            self.tpr = (cr8 << 4) & 0xFF
            self.update_irq()

    def ppr(self) -> int:
        isrv = max(_highest(self.isr), 0) >> 4
        return self.tpr if self.tpr >> 4 >= isrv else isrv << 4

    def irq_pending(self) -> int:
        """The vector to take (>0), 0 if none, -1 if one waits below the processor priority."""
        if not self.spurious_vec & SV_ENABLE:
            return 0
        irrv = _highest(self.irr)
        if irrv < 0:
            return 0
        ppr = self.ppr()
        if ppr and (irrv & 0xF0) <= (ppr & 0xF0):
            return -1
        return irrv

    def update_irq(self) -> None:
        """Tell the CPU whether an interrupt waits; from another thread, ask it to poll."""
        if self.bus.current_apic() is not self:
            self.cpu_interrupt(CpuInterrupt.POLL)
        else:
            self._update_hard()

    def _update_hard(self) -> None:
        if self.irq_pending() > 0:
            self.cpu_interrupt(CpuInterrupt.HARD)
        elif not (self.accept_pic_intr() and self.bus.pic_level):
            self.cpu_reset_interrupt(CpuInterrupt.HARD)

    def poll_irq(self) -> None:
        """The CPU handles a POLL request on its own thread (``apic_poll_irq``)."""
        self.cpu_reset_interrupt(CpuInterrupt.POLL)
        self._update_hard()

    def get_interrupt(self) -> int:
        """Acknowledge: the vector to run (IRR moves to ISR), the spurious vector, or -1 (ask the PIC)."""
        if not self.spurious_vec & SV_ENABLE:
            return -1
        intno = self.irq_pending()
        if intno == 0 or self._check_pic():
            return -1
        if intno < 0:
            return self.spurious_vec & 0xFF
        self.irr &= ~(1 << intno)
        self.isr |= 1 << intno
        self.update_irq()
        return intno

    def accept_pic_intr(self) -> bool:
        """Whether the 8259 reaches the CPU: APIC disabled, or LINT0 unmasked."""
        if not self.apicbase & APICBASE_ENABLE or not self.lvt[LVT_LINT0] & LVT_MASKED:
            return self.bus.has_pic
        return False

    def deliver_pic_intr(self, level: int) -> None:
        """The 8259's output changed (``apic_deliver_pic_intr``)."""
        if level:
            self.local_deliver(LVT_LINT0)
            return
        lvt = self.lvt[LVT_LINT0]
        mode = (lvt >> 8) & 7
        if mode == DeliveryMode.FIXED and lvt & LVT_LEVEL_TRIGGER:
            self.irr &= ~(1 << (lvt & 0xFF))
        if mode == DeliveryMode.EXTINT or (mode == DeliveryMode.FIXED and lvt & LVT_LEVEL_TRIGGER):
            self.update_irq()

    def deliver_nmi(self) -> None:
        """The external NMI line (LINT1)."""
        self.local_deliver(LVT_LINT1)

    def sipi(self) -> int | None:
        """The CPU takes a pending SIPI: the start-up vector if it was waiting for one."""
        self.cpu_reset_interrupt(CpuInterrupt.SIPI)
        if not self.wait_for_sipi:
            return None
        self.wait_for_sipi = False
        return self.sipi_vector

    def _check_pic(self) -> bool:
        if not (self.accept_pic_intr() and self.bus.pic_level):
            return False
        self.deliver_pic_intr(1)
        return True

    # -- delivery ----------------------------------------------------------------

    def set_irq(self, vector: int, trigger: int) -> None:
        """Latch ``vector`` in the IRR (and TMR for level-triggered)."""
        bit = 1 << vector
        self.bus.irq_delivered += 0 if self.irr & bit else 1
        self.irr |= bit
        self.tmr = self.tmr | bit if trigger else self.tmr & ~bit
        self.update_irq()

    def local_deliver(self, index: int) -> None:
        """Fire LVT entry ``index`` (timer, LINT0, LINT1 …) unless it is masked."""
        lvt = self.lvt[index]
        if lvt & LVT_MASKED:
            return
        mode = (lvt >> 8) & 7
        if mode == DeliveryMode.SMI:
            self.cpu_interrupt(CpuInterrupt.SMI)
        elif mode == DeliveryMode.NMI:
            self.cpu_interrupt(CpuInterrupt.NMI)
        elif mode == DeliveryMode.EXTINT:
            self.cpu_interrupt(CpuInterrupt.HARD)
        elif mode == DeliveryMode.FIXED:
            level = index in (LVT_LINT0, LVT_LINT1) and bool(lvt & LVT_LEVEL_TRIGGER)
            self.set_irq(lvt & 0xFF, int(level))

    def eoi(self) -> None:
        isrv = _highest(self.isr)
        if isrv < 0:
            return
        self.isr &= ~(1 << isrv)
        if not self.spurious_vec & SV_DIRECTED_IO and self.tmr >> isrv & 1:
            self.bus.eoi_broadcast(isrv)
        self.update_irq()

    def _send_ipi(self) -> None:
        """A write of ICR low: an IPI per the ICR (``apic_deliver``)."""
        low = self.icr[0]
        mode = (low >> ICR_DELIVERY_SHIFT) & 7
        shorthand = (low >> ICR_SHORTHAND_SHIFT) & 3
        if shorthand == SHORTHAND_NONE:
            targets = self.bus.destinations((self.icr[1] >> 24) & 0xFF, (low >> ICR_DEST_MODE_SHIFT) & 1)
        elif shorthand == SHORTHAND_SELF:
            targets = [self.id]
        else:
            targets = [i for i in self.bus.indexes() if shorthand == SHORTHAND_ALL or i != self.id]
        apics = [self.bus.apics[i] for i in targets if i in self.bus.apics]
        if mode == DeliveryMode.INIT and not low & ICR_LEVEL and low >> ICR_TRIGGER_SHIFT & 1:
            for apic in apics:  # INIT level de-assert: only re-arbitrates
                apic.arb_id = apic.id
            return
        if mode == DeliveryMode.SIPI:
            for apic in apics:
                apic.sipi_vector = low & 0xFF
                apic.cpu_interrupt(CpuInterrupt.SIPI)
            return
        self.bus.bus_deliver(targets, mode, low & 0xFF, (low >> ICR_TRIGGER_SHIFT) & 1)

    # -- the timer ------------------------------------------------------------------

    def _next_timer(self, now: int) -> bool:
        """Compute the next expiry after ``now`` (``apic_next_timer``); False if none."""
        self.timer_expiry = -1
        lvt = self.lvt[LVT_TIMER]
        if lvt & LVT_MASKED:
            return False
        ticks = (now - self.initial_count_load_time) >> self.count_shift
        period = self.initial_count + 1
        if lvt & LVT_TIMER_PERIODIC:
            if not self.initial_count:
                return False
            ticks = (ticks // period + 1) * period
        elif ticks >= self.initial_count:
            return False
        else:
            ticks = period
        self.next_time = self.initial_count_load_time + (ticks << self.count_shift)
        self.timer_expiry = self.next_time
        return True

    def _timer_update(self, now: int) -> None:
        if self._next_timer(now):
            self._timer.mod(self.next_time)
        else:
            self._timer.delete()

    def _timer_expired(self) -> None:
        self.local_deliver(LVT_TIMER)
        self._timer_update(self.next_time)

    def current_count(self) -> int:
        ticks = (self._now_ns() - self.initial_count_load_time) >> self.count_shift
        if self.lvt[LVT_TIMER] & LVT_TIMER_PERIODIC:
            return (self.initial_count - ticks % (self.initial_count + 1)) & WORD
        return 0 if ticks >= self.initial_count else self.initial_count - ticks

    # -- registers ---------------------------------------------------------------------

    def read(self, index: int) -> int:
        """Register ``index``; an unknown one reads 0 and sets ESR's illegal-address bit."""
        reader = _READERS.get(index)
        if reader is not None:
            return reader(self) & WORD
        for base, bits in ((REG_ISR, self.isr), (REG_TMR, self.tmr), (REG_IRR, self.irr)):
            if base <= index < base + 8:
                return _word(bits, index - base)
        if index in (REG_ICR_LOW, REG_ICR_HIGH):
            return self.icr[index - REG_ICR_LOW]
        if REG_LVT <= index < REG_LVT + LVT_NB:
            return self.lvt[index - REG_LVT]
        self.esr |= ESR_ILLEGAL_ADDRESS
        return 0

    def write(self, index: int, value: int) -> None:
        """Write register ``index``; read-only ones ignore it, unknown ones set ESR."""
        value &= WORD
        if index == REG_ID:
            self.id = value >> 24
        elif index == REG_TPR:
            self.tpr = value & 0xFF
            self.update_irq()
        elif index == REG_EOI:
            self.eoi()
        elif index == REG_LDR:
            self.log_dest = value >> 24
        elif index == REG_DFR:
            self.dest_mode = value >> 28
        elif index == REG_SVR:
            self.spurious_vec = value & 0x1FF
            self.update_irq()
        elif index == REG_ICR_LOW:
            self.icr[0] = value
            self._send_ipi()
        elif index == REG_ICR_HIGH:
            self.icr[1] = value
        elif REG_LVT <= index < REG_LVT + LVT_NB:
            self._write_lvt(index - REG_LVT, value)
        elif index == REG_TIMER_INITIAL:
            self.initial_count = value
            self.initial_count_load_time = self._now_ns()
            self._timer_update(self.initial_count_load_time)
        elif index == REG_TIMER_DIVIDE:
            self.divide_conf = value & 0xB
            self.count_shift = (((self.divide_conf & 3) | ((self.divide_conf >> 1) & 4)) + 1) & 7
        elif not (index in (REG_VERSION, REG_APR, REG_PPR, REG_TIMER_CURRENT) or REG_ISR <= index <= REG_ESR):
            self.esr |= ESR_ILLEGAL_ADDRESS

    def _write_lvt(self, n: int, value: int) -> None:
        self.lvt[n] = value
        if n == LVT_TIMER:
            self._timer_update(self._now_ns())
        elif n == LVT_LINT0 and self._check_pic():
            self.update_irq()

    def read_mmio(self, offset: int, size: int = 4) -> int:
        """A CPU's read of its APIC page at ``offset``; narrower than 4 bytes reads 0."""
        return self.read((offset >> 4) & 0xFF) if size >= 4 else 0

    def write_mmio(self, offset: int, value: int, size: int = 4) -> None:
        """A CPU's write of its APIC page: offset 0 and beyond the page are MSIs, as in QEMU."""
        if size < 4:
            return
        index = (offset >> 4) & 0xFF
        if offset > MSI_REGS_END or not index:
            self.bus.send_msi(offset, value)
        else:
            self.write(index, value)


#: Registers whose value is one expression of the state.
_READERS: dict[int, Callable[[ApicCore], int]] = {
    REG_ID: lambda s: s.id << 24,
    REG_VERSION: lambda s: s.version | ((LVT_NB - 1) << 16),
    REG_TPR: lambda s: s.tpr,
    REG_APR: lambda s: 0,  # no arbitration priority
    REG_PPR: ApicCore.ppr,
    REG_EOI: lambda s: 0,
    REG_LDR: lambda s: s.log_dest << 24,
    REG_DFR: lambda s: (s.dest_mode << 28) | 0x0FFFFFFF,
    REG_SVR: lambda s: s.spurious_vec,
    REG_ESR: lambda s: s.esr,
    REG_TIMER_INITIAL: lambda s: s.initial_count,
    REG_TIMER_CURRENT: ApicCore.current_count,
    REG_TIMER_DIVIDE: lambda s: s.divide_conf,
}
