"""The I/O APIC: its core, and the ``ioapic`` system-bus device at 0xfec00000.

The guest sees two registers in a 256-byte window (repeated over the 4 KiB
region): IOREGSEL (0x00) selects an internal register, IOWIN (0x10) reads or
writes it, 32 bits at a time — the ID (bits 24-27), the version (with the
highest redirection entry, 23, in bits 16-23), the arbitration ID (reads as
the ID) and the 24 64-bit redirection entries as pairs of halves from 0x10.
Version 0x20 adds an EOI register at 0x40.

Each input pin has a redirection entry: vector, delivery mode, destination,
trigger mode and a mask; entries start masked.  A pin's interrupt goes out
as an MSI write of 32 bits to the local APICs' window at 0xfee00000 in the
machine's memory: the address carries the destination, the data the vector,
delivery mode and trigger mode.  An edge request is consumed when sent.  A
level-triggered pin sets Remote IRR when sent and sends nothing more until
the local APIC's EOI for that vector comes back (:func:`ioapic_eoi_broadcast`);
if the line is still high then, it is sent again at once — after 10000 such
EOIs in a row, only after 10 ms of virtual time, so a guest that does not
silence its device still makes progress.

As in QEMU 7.2's ``hw/intc/ioapic.c``: input 0 (ISA IRQ 0, the PIT) is
routed to pin 2; an edge on a masked pin is dropped; an ExtINT entry takes
its vector from the 8259 with an interrupt acknowledge; turning an entry to
edge mode clears its Remote IRR (Linux relies on this).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pyqemu.hw.core.irq import qdev_init_gpio_in
from pyqemu.hw.core.qdev import qdev_get_machine, qdev_new
from pyqemu.hw.core.qdev_properties import prop_uint8
from pyqemu.hw.core.sysbus import SysBusDevice, sysbus_init_mmio, sysbus_mmio_map, sysbus_realize
from pyqemu.hw.intc.intc import InterruptStatsProvider, IrqStats
from pyqemu.memory.region import Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type
from pyqemu.util.errors import DeviceError
from pyqemu.util.main_loop import NS_PER_SEC, ClockType, Timer

if TYPE_CHECKING:
    from pyqemu.hw.core.machine import MachineState
    from pyqemu.qom.object import Object

TYPE_IOAPIC_COMMON = "ioapic-common"
TYPE_IOAPIC = "ioapic"
IOAPIC_NUM_PINS = 24
MAX_IOAPICS = 2
IO_APIC_DEFAULT_ADDRESS = 0xFEC00000
IO_APIC_SECONDARY_ADDRESS = 0xFEC10000
IOAPIC_REGION_SIZE = 0x1000
IOAPIC_CHILD = "ioapic"

VERSION_DEFAULT = 0x20
VERSION_WITH_EOI = 0x20
SUPPORTED_VERSIONS = (0x11, 0x20)

# The register window.
WINDOW_MASK = 0xFF
IOREGSEL = 0x00
IOWIN = 0x10
IOEOI = 0x40
WIN_SIZE = 4  # IOWIN and EOI take only 32-bit accesses
REG_ID = 0x00
REG_VER = 0x01
REG_ARB = 0x02
REG_REDTBL_BASE = 0x10
ID_SHIFT = 24
ID_MASK = 0x0F
VER_ENTRIES_SHIFT = 16

# A redirection entry.
LVT_DEST_SHIFT = 56
LVT_DEST_IDX_SHIFT = 48  # destination plus the bits below it, passed on to the MSI address
LVT_MASKED = 1 << 16
LVT_TRIGGER_MODE = 1 << 15  # 1: level
LVT_REMOTE_IRR = 1 << 14
LVT_POLARITY = 1 << 13  # 1: active low
LVT_DELIV_STATUS = 1 << 12
LVT_DEST_MODE = 1 << 11  # 1: logical
LVT_DELIV_MODE_SHIFT = 8
DM_MASK = 0x7
DM_EXTINT = 0x7
VECTOR_MASK = 0xFF
DEST_IDX_MASK = 0xFFFF
RO_BITS = LVT_REMOTE_IRR | LVT_DELIV_STATUS
ENTRY_MASK = (1 << 64) - 1
LOW_HALF = 0xFFFFFFFF
DELIVERY_MODES = ("fixed", "lowest", "SMI", "...", "NMI", "INIT", "...", "extINT")

# The MSI message an entry becomes.
APIC_DEFAULT_ADDRESS = 0xFEE00000
MSI_ADDR_DEST_IDX_SHIFT = 4
MSI_ADDR_DEST_MODE_SHIFT = 2
MSI_DATA_DELIVERY_MODE_SHIFT = 8
MSI_DATA_TRIGGER_SHIFT = 15

#: ISA IRQ 0 arrives on input 0 but is wired to pin 2.
ISA_TIMER_INPUT, ISA_TIMER_PIN = 0, 2
SUCCESSIVE_IRQ_MAX_COUNT = 10000
DELAYED_SERVICE_NS = NS_PER_SEC // 100

Deliver = Callable[[int, int], None]


def msi_message(entry: int, vector: int) -> tuple[int, int]:
    """The MSI (address, data) for redirection ``entry`` sending ``vector``."""
    dest_idx = (entry >> LVT_DEST_IDX_SHIFT) & DEST_IDX_MASK
    dest_mode = int(bool(entry & LVT_DEST_MODE))
    trigger = int(bool(entry & LVT_TRIGGER_MODE))
    delivery = (entry >> LVT_DELIV_MODE_SHIFT) & DM_MASK
    addr = APIC_DEFAULT_ADDRESS | dest_idx << MSI_ADDR_DEST_IDX_SHIFT | dest_mode << MSI_ADDR_DEST_MODE_SHIFT
    data = vector | trigger << MSI_DATA_TRIGGER_SHIFT | delivery << MSI_DATA_DELIVERY_MODE_SHIFT
    return addr, data


class IoapicCore:
    """The I/O APIC: ``read`` / ``write`` at offsets in its window, ``set_irq(n, level)`` per input.

    ``deliver(addr, data)`` makes the 32-bit MSI write; ``read_pic_irq()``
    acknowledges the 8259 for an ExtINT entry (None: there is none, the
    entry's own vector is sent); ``eoi_broadcast(vector)``
    handles a write to the EOI register (every I/O APIC of the machine hears
    it; the default is this one only); ``now_ns`` and ``new_timer`` are the
    virtual clock for the delayed re-delivery (without them it is immediate).
    """

    def __init__(
        self,
        deliver: Deliver,
        *,
        version: int = VERSION_DEFAULT,
        read_pic_irq: Callable[[], int | None] | None = None,
        eoi_broadcast: Callable[[int], None] | None = None,
        now_ns: Callable[[], int] | None = None,
        new_timer: Callable[[Callable[[], None]], Timer] | None = None,
    ):
        self._deliver = deliver
        self.version = version
        self._read_pic_irq = read_pic_irq
        self._eoi_broadcast = eoi_broadcast if eoi_broadcast is not None else self.eoi
        self._now_ns = now_ns
        self.delayed_timer = new_timer(self.service) if new_timer is not None else None
        self.stats = IrqStats(IOAPIC_NUM_PINS)
        #: Successive EOIs that found the line still high, per pin (not cleared by reset, as in QEMU).
        self.irq_eoi = [0] * IOAPIC_NUM_PINS
        self.reset()

    def reset(self) -> None:
        """ID 0, nothing pending, every entry masked."""
        self.id = 0
        self.ioregsel = 0
        self.irr = 0
        self.ioredtbl = [LVT_MASKED] * IOAPIC_NUM_PINS

    # -- pins and delivery -----------------------------------------------------------

    def set_irq(self, n: int, level: int) -> None:
        """Input ``n`` is at ``level`` (``ioapic_set_irq``)."""
        self.stats.update(n, level)
        pin = ISA_TIMER_PIN if n == ISA_TIMER_INPUT else n
        if pin >= IOAPIC_NUM_PINS:
            return
        mask = 1 << pin
        entry = self.ioredtbl[pin]
        if entry & LVT_TRIGGER_MODE:
            if level:
                self.irr |= mask
                if not entry & LVT_REMOTE_IRR:
                    self.service()
            else:
                self.irr &= ~mask
        elif level and not entry & LVT_MASKED:  # an edge on a masked pin is lost
            self.irr |= mask
            self.service()

    def service(self) -> None:
        """Send every pending, unmasked pin; a level pin waits for its EOI (``ioapic_service``)."""
        for pin in range(IOAPIC_NUM_PINS):
            mask = 1 << pin
            if not self.irr & mask:
                continue
            entry = self.ioredtbl[pin]
            vector = self._vector(entry)  # an ExtINT entry acknowledges the 8259 even when masked
            if entry & LVT_MASKED:
                continue
            if entry & LVT_TRIGGER_MODE:
                self.ioredtbl[pin] |= LVT_REMOTE_IRR
                if entry & LVT_REMOTE_IRR:
                    continue  # the local APIC still has the previous one
            else:
                self.irr &= ~mask
            self._deliver(*msi_message(entry, vector))

    def _vector(self, entry: int) -> int:
        if (entry >> LVT_DELIV_MODE_SHIFT) & DM_MASK == DM_EXTINT and self._read_pic_irq is not None:
            vector = self._read_pic_irq()
            if vector is not None:
                return vector & VECTOR_MASK
        return entry & VECTOR_MASK

    def eoi(self, vector: int) -> None:
        """The local APIC ended level-triggered ``vector``: clear Remote IRR, send again if still high."""
        for pin, entry in enumerate(self.ioredtbl):
            if entry & VECTOR_MASK != vector or not entry & LVT_TRIGGER_MODE or not entry & LVT_REMOTE_IRR:
                continue
            self.ioredtbl[pin] = entry & ~LVT_REMOTE_IRR
            if entry & LVT_MASKED or not self.irr & (1 << pin):
                self.irq_eoi[pin] = 0
                continue
            self.irq_eoi[pin] += 1
            if self.irq_eoi[pin] >= SUCCESSIVE_IRQ_MAX_COUNT:
                self.irq_eoi[pin] = 0
                self._delay_service()
            else:
                self.service()

    def _delay_service(self) -> None:
        """An interrupt storm: send again in 10 ms, or sooner if already due (``timer_mod_anticipate``)."""
        timer, now_ns = self.delayed_timer, self._now_ns
        if timer is None or now_ns is None:
            self.service()  # no clock to wait on
            return
        expire = now_ns() + DELAYED_SERVICE_NS
        if timer.expire_ns is None or timer.expire_ns > expire:
            timer.mod(expire)

    # -- the register window -----------------------------------------------------------

    def _redirection(self) -> int:
        """The entry IOREGSEL selects (-1 if none): two registers, low then high half, per entry."""
        index = (self.ioregsel - REG_REDTBL_BASE) >> 1
        return index if 0 <= index < IOAPIC_NUM_PINS else -1

    def read(self, offset: int, size: int = 4) -> int:
        offset &= WINDOW_MASK
        if offset == IOREGSEL:
            return self.ioregsel
        if offset != IOWIN or size != WIN_SIZE:
            return 0
        if self.ioregsel in (REG_ID, REG_ARB):
            return self.id << ID_SHIFT
        if self.ioregsel == REG_VER:
            return self.version | (IOAPIC_NUM_PINS - 1) << VER_ENTRIES_SHIFT
        index = self._redirection()
        if index < 0:
            return 0
        entry = self.ioredtbl[index]
        return entry >> 32 if self.ioregsel & 1 else entry & LOW_HALF

    def write(self, offset: int, value: int, size: int = 4) -> None:
        offset &= WINDOW_MASK
        if offset == IOREGSEL:
            self.ioregsel = value & 0xFF
        elif offset == IOWIN and size == WIN_SIZE:
            self._write_register(value & LOW_HALF)
        elif offset == IOEOI and size == WIN_SIZE and self.version == VERSION_WITH_EOI:
            self._eoi_broadcast(value)

    def _write_register(self, value: int) -> None:
        if self.ioregsel == REG_ID:
            self.id = (value >> ID_SHIFT) & ID_MASK
            return
        index = self._redirection()
        if index < 0:  # VER and ARB are read-only
            return
        entry = self.ioredtbl[index]
        high = self.ioregsel & 1
        new = (entry & LOW_HALF) | value << 32 if high else (entry & ~LOW_HALF & ENTRY_MASK) | value
        new = (new & ~RO_BITS) | (entry & RO_BITS)
        if not new & LVT_TRIGGER_MODE:
            new &= ~LVT_REMOTE_IRR  # edge mode has no Remote IRR: Linux's way to clear it
        self.ioredtbl[index] = new
        self.irq_eoi[index] = 0
        self.service()

    # -- info pic ------------------------------------------------------------------------

    def info(self) -> str:
        """What ``info pic`` prints for this I/O APIC."""
        text = f"ioapic0: ver=0x{self.version:x} id=0x{self.id:02x} sel=0x{self.ioregsel:02x}"
        if self.ioregsel:
            text += f" (redir[{((self.ioregsel - REG_REDTBL_BASE) >> 1) & LOW_HALF}])"
        lines = [text]
        remote_irr = 0
        for pin, entry in enumerate(self.ioredtbl):
            lines.append(_entry_line(pin, entry))
            if entry & LVT_TRIGGER_MODE and entry & LVT_REMOTE_IRR:
                remote_irr |= 1 << pin
        lines += [_pins_line("  IRR", self.irr), _pins_line("  Remote IRR", remote_irr)]
        return "".join(line + "\n" for line in lines)


def _entry_line(pin: int, entry: int) -> str:
    dest = (entry >> LVT_DEST_SHIFT) & (0xFF if entry & LVT_DEST_MODE else 0x0F)
    return (
        f"  pin {pin:<2} 0x{entry:016x} dest={dest:x} vec={entry & VECTOR_MASK:<3} "
        f"{'active-lo' if entry & LVT_POLARITY else 'active-hi'} "
        f"{'level' if entry & LVT_TRIGGER_MODE else 'edge':<5} "
        f"{'masked' if entry & LVT_MASKED else '':<6} "
        f"{DELIVERY_MODES[(entry >> LVT_DELIV_MODE_SHIFT) & DM_MASK]:<6} "
        f"{'logical' if entry & LVT_DEST_MODE else 'physical'}"
    )


def _pins_line(name: str, bitmap: int) -> str:
    pins = "".join(f"{pin:<2} " for pin in range(IOAPIC_NUM_PINS) if bitmap & (1 << pin))
    return f"{name:<10} {pins or '(none)'}"


@register_type
class IoapicCommon(SysBusDevice, InterruptStatsProvider):
    """What every I/O APIC model shares (abstract ``ioapic-common``)."""

    TYPE = TYPE_IOAPIC_COMMON
    ABSTRACT = True


@register_type
class Ioapic(IoapicCommon):
    """The emulated I/O APIC (type ``ioapic``): 24 inputs, MMIO region 0 of 4 KiB."""

    TYPE = TYPE_IOAPIC
    PROPERTIES = (prop_uint8("version", default=VERSION_DEFAULT),)

    def __init__(self) -> None:
        super().__init__()
        self.core: IoapicCore | None = None
        self._machine: Any = None

    def realize(self) -> None:
        machine = self._machine = qdev_get_machine(self)
        ioapics = machine_ioapics(machine)
        if len(ioapics) >= MAX_IOAPICS:
            raise DeviceError(f"Only {MAX_IOAPICS} ioapics allowed")
        if self.version not in SUPPORTED_VERSIONS:
            raise DeviceError(
                f"IOAPIC only supports version 0x11 or 0x20 (default: 0x{VERSION_DEFAULT:x})."
            )
        loop = getattr(getattr(machine, "host", None), "main_loop", None)
        clock: dict[str, Any] = {}
        if loop is not None:
            clock["now_ns"] = loop.clock(ClockType.VIRTUAL).now_ns
            clock["new_timer"] = lambda callback: loop.timer_new(ClockType.VIRTUAL, callback)
        core = self.core = IoapicCore(
            self._deliver,
            version=self.version,
            read_pic_irq=self._read_pic_irq,
            eoi_broadcast=lambda vector: ioapic_eoi_broadcast(machine, vector),
            **clock,
        )
        ops = MemoryRegionOps(read=core.read, write=core.write, endianness=Endianness.NATIVE)
        region = MemoryRegion.new_io(self, ops, TYPE_IOAPIC, IOAPIC_REGION_SIZE)
        qdev_init_gpio_in(self, core.set_irq, IOAPIC_NUM_PINS)
        sysbus_init_mmio(self, region)
        ioapics.append(self)

    def unrealize(self) -> None:
        if self.core is not None and self.core.delayed_timer is not None:
            self.core.delayed_timer.delete()
        ioapics = machine_ioapics(self._machine)
        if self in ioapics:
            ioapics.remove(self)

    def reset(self) -> None:
        if self.core is not None:
            self.core.reset()

    def eoi(self, vector: int) -> None:
        """A local APIC's EOI of level-triggered ``vector``, for this I/O APIC only."""
        self._core().eoi(vector)

    def _deliver(self, addr: int, data: int) -> None:
        """The MSI write, into the machine's ``ioapic_as`` (an IOMMU's) or else its memory."""
        machine = self._machine
        space = getattr(machine, "ioapic_as", None) or machine.memory_system.address_space_memory
        space.write(addr, data, 4)

    def _read_pic_irq(self) -> int | None:
        from pyqemu.hw.intc.i8259 import isa_pic, pic_read_irq

        pic = isa_pic(self._machine)
        return pic_read_irq(pic) if pic is not None else None

    def _core(self) -> IoapicCore:
        assert self.core is not None, "ioapic used before realize"
        return self.core

    def get_statistics(self) -> list[int] | None:
        return self._core().stats.counts

    def print_info(self) -> str:
        return self._core().info()


# -- machine-facing -------------------------------------------------------------------


def machine_ioapics(machine: MachineState | None) -> list[Ioapic]:
    """The machine's realized I/O APICs, in creation order (``machine.ioapics``)."""
    return machine.ioapics if machine is not None else []


def ioapic_eoi_broadcast(machine: Object | None, vector: int) -> None:
    """A local APIC's EOI of level-triggered ``vector``, heard by every I/O APIC of the machine."""
    for dev in list(machine_ioapics(machine)):
        dev._core().eoi(vector)


def ioapic_create(machine: Object, addr: int, parent: Object | None = None) -> Ioapic:
    """A realized ``ioapic`` (``-global`` applied), ``parent``'s child ``ioapic``, mapped at ``addr``.

    Without ``parent`` it goes to ``/machine/unattached`` when realized.
    """
    from pyqemu.hw.core.qdev_monitor import apply_global_props

    dev = qdev_new(TYPE_IOAPIC)
    assert isinstance(dev, Ioapic)
    try:
        apply_global_props(machine, dev)
        if parent is not None:
            parent.add_child(IOAPIC_CHILD, dev)
        sysbus_realize(dev, machine)
    except BaseException:
        dev.unparent()
        raise
    finally:
        dev.unref()
    sysbus_mmio_map(dev, 0, addr)
    return dev


def ioapic_init_gsi(machine: Object, parent: Object) -> Ioapic:
    """The board's I/O APIC: ``PARENT/ioapic`` at 0xfec00000 (QEMU's ``ioapic_init_gsi``)."""
    return ioapic_create(machine, IO_APIC_DEFAULT_ADDRESS, parent)


def ioapic_init_secondary(machine: Object) -> Ioapic:
    """microvm's second I/O APIC, unattached, at 0xfec10000 (QEMU's ``ioapic_init_secondary``)."""
    return ioapic_create(machine, IO_APIC_SECONDARY_ADDRESS)
