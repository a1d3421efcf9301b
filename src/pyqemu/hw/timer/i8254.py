"""The i8254 programmable interval timer: its core, and the ``isa-pit`` ISA device.

Three 16-bit down-counters clocked at 1.193182 MHz.  Channel 0 drives ISA
IRQ 0 (the system tick), channel 2 the PC speaker, whose gate comes from
port 0x61; channel 1 (DRAM refresh, once) only counts.  The guest programs
a channel through the control port (0x43: channel, access mode, counting
mode, BCD flag) and its count through the channel's port (0x40-0x42), and
reads the count back live, through a counter latch or through the
read-back command (which can also latch a status byte).

As in QEMU 7.2 (``hw/timer/i8254.c``, ``i8254_common.c``) nothing ticks:
a channel keeps the virtual-clock time its count was loaded, and its count
and OUT pin are computed from the ticks elapsed since (``muldiv64``, so the
integer rounding is QEMU's).  Channel 0 arms one timer at the next edge of
OUT and drives the IRQ line to OUT's level each time it fires.  QEMU's own
approximations are kept, so a guest (or a qtest) sees the same numbers:
mode 2 raises OUT only for the tick its count reaches a multiple of the
initial count, mode 3 treats odd counts like even ones, BCD counting is
stored but counts in binary, the gate only restarts modes 1, 2, 3 and 5,
and the status byte never reports a null count.

:class:`PitCore` takes its clock, timer factory and IRQ as arguments (no
QOM); :class:`I8254State` wires it to the ISA bus, the virtual clock and
its GPIO pins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pyqemu.hw.core.irq import GpioOutput, Irq, qdev_connect_gpio_out, qdev_init_gpio_in, qdev_init_gpio_out
from pyqemu.hw.core.qdev import qdev_get_machine
from pyqemu.hw.core.qdev_properties import prop_uint32
from pyqemu.hw.isa.isa_bus import (
    IsaBus,
    IsaDevice,
    isa_get_irq,
    isa_new,
    isa_realize_and_unref,
    isa_register_ioport,
)
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type
from pyqemu.util.cutils import UINT64_MAX
from pyqemu.util.main_loop import NS_PER_SEC, ClockType

PIT_FREQ = 1_193_182
PIT_CHANNELS = 3
PIT_IRQ_CHANNEL = 0
PIT_SPEAKER_CHANNEL = 2
PIT_IO_SIZE = 4
PIT_ISA_BASE = 0x40
PIT_ISA_IRQ = 0
#: What a count of 0 stands for.
COUNT_MAX = 0x10000
#: Counting mode of every channel after reset (square wave).
RESET_MODE = 3

# Port offsets: channels 0-2, then the control word (write only; reads 0).
REG_CONTROL = 3

# Access modes (control word bits 5-4), and where a 16-bit transfer is.
ACCESS_LATCH = 0
RW_LSB = 1
RW_MSB = 2
RW_WORD0 = 3  # LSB then MSB: the LSB comes next
RW_WORD1 = 4  # ... the MSB comes next

# The control word.
CTRL_CHANNEL_SHIFT = 6
CTRL_READ_BACK = 3  # "channel 3": the read-back command
CTRL_ACCESS_SHIFT = 4
CTRL_ACCESS_MASK = 3
CTRL_MODE_SHIFT = 1
CTRL_MODE_MASK = 7
CTRL_BCD = 0x01

# The read-back command: which channels, and what not to latch.
RB_CHANNEL0 = 0x02  # channel N is bit N + 1
RB_NO_COUNT = 0x20
RB_NO_STATUS = 0x10
# The status byte: OUT, access mode, counting mode, BCD.
STATUS_OUT_SHIFT = 7
STATUS_ACCESS_SHIFT = 4

#: ``next_transition_time`` when OUT will not change again.
NO_TRANSITION = -1


def muldiv64(a: int, b: int, c: int) -> int:
    """QEMU's ``muldiv64``: ``a * b / c`` with ``a`` taken as unsigned 64-bit, rounded down."""
    return ((a & UINT64_MAX) * b // c) & UINT64_MAX


@dataclass(frozen=True)
class PitChannelInfo:
    """What the speaker learns of a channel (QEMU's ``PITChannelInfo``)."""

    gate: int
    mode: int
    initial_count: int
    out: int


class PitChannel:
    """One counter (QEMU's ``PITChannelState``): programmed state, latches and load time."""

    def __init__(self) -> None:
        self.count = COUNT_MAX  # the initial count, 1 to 0x10000
        self.latched_count = 0
        self.count_latched = 0  # 0, or the access mode the latched count is read in
        self.status_latched = False
        self.status = 0
        self.read_state = 0
        self.write_state = 0
        self.write_latch = 0
        self.rw_mode = 0
        self.mode = 0
        self.bcd = 0
        self.gate = 0
        self.count_load_time = 0
        self.next_transition_time = NO_TRANSITION

    def ticks(self, now: int) -> int:
        """PIT clock ticks since the count was loaded (or the gate restarted it)."""
        return muldiv64(now - self.count_load_time, PIT_FREQ, NS_PER_SEC)

    def counter(self, now: int) -> int:
        """The count a read would see (0x10000 stands for 0 in modes 2 and 3)."""
        d, count = self.ticks(now), self.count
        if self.mode in (0, 1, 4, 5):
            return (count - d) & 0xFFFF
        if self.mode == 3:
            return count - (2 * d) % count
        return count - d % count  # mode 2, and 6 and 7 (QEMU counts them as 2)

    def out(self, now: int) -> int:
        """The level of the OUT pin."""
        d, count, mode = self.ticks(now), self.count, self.mode
        if mode == 1:
            return int(d < count)
        if mode == 2:
            return int(d % count == 0 and d != 0)
        if mode == 3:
            return int(d % count < (count + 1) >> 1)
        if mode in (4, 5):
            return int(d == count)
        return int(d >= count)  # mode 0, and 6 and 7 (QEMU treats them as 0)

    def next_transition(self, now: int) -> int:
        """Clock time of OUT's next edge, or :data:`NO_TRANSITION`."""
        d, count, mode = self.ticks(now), self.count, self.mode
        if mode in (2, 3):
            base = d - d % count
            if mode == 2:
                tick = base + count if d == base and d != 0 else base + count + 1
            else:
                half = (count + 1) >> 1
                tick = base + half if d - base < half else base + count
        elif d < count:
            tick = count
        elif mode in (4, 5) and d == count:
            tick = count + 1
        else:
            return NO_TRANSITION
        when = self.count_load_time + muldiv64(tick, NS_PER_SEC, PIT_FREQ)
        # Rounding may put the edge at or before now: QEMU then takes the next nanosecond.
        return when if when > now else now + 1

    def status_byte(self, now: int) -> int:
        return (
            self.out(now) << STATUS_OUT_SHIFT
            | self.rw_mode << STATUS_ACCESS_SHIFT
            | self.mode << CTRL_MODE_SHIFT
            | self.bcd
        )


class _Timer(Protocol):
    def mod(self, expire_ns: int) -> None: ...
    def delete(self) -> None: ...


class PitCore:
    """The three channels behind ports 0-3: ``read(offset)`` / ``write(offset, value)``.

    ``now_ns`` is the virtual clock, ``new_timer(callback)`` makes a timer on
    it, ``set_irq(level)`` drives the line of channel 0's OUT.
    """

    def __init__(
        self, now_ns: Callable[[], int], new_timer: Callable[[Callable[[], None]], _Timer],
        set_irq: Callable[[int], None],
    ):
        self._now = now_ns
        self._set_irq = set_irq
        self.channels = [PitChannel() for _ in range(PIT_CHANNELS)]
        #: Set while the HPET in legacy mode has taken over IRQ 0.
        self.irq_disabled = False
        self._timer = new_timer(self._irq_timer)
        self.reset()

    def reset(self) -> None:
        """Every channel to mode 3, count 0x10000, restarted now; gates high except channel 2's."""
        now = self._now()
        for n, ch in enumerate(self.channels):
            ch.mode = RESET_MODE
            ch.gate = int(n != PIT_SPEAKER_CHANNEL)
            ch.count_load_time = now
            ch.count = COUNT_MAX
        irq_channel = self.channels[PIT_IRQ_CHANNEL]
        if not self.irq_disabled:
            irq_channel.next_transition_time = irq_channel.next_transition(now)
            self._timer.mod(irq_channel.next_transition_time)

    # -- register access ---------------------------------------------------------

    def read(self, offset: int, size: int = 1) -> int:
        """A channel's status, latched count or live count; the control port reads 0."""
        offset &= 3
        if offset == REG_CONTROL:
            return 0
        ch = self.channels[offset]
        if ch.status_latched:
            ch.status_latched = False
            return ch.status
        if ch.count_latched:
            return self._read_latched(ch)
        return self._read_live(ch)

    def write(self, offset: int, value: int, size: int = 1) -> None:
        """A control word (offset 3), or a byte of a channel's count."""
        offset &= 3
        value &= 0xFF
        if offset == REG_CONTROL:
            self._control(value)
            return
        ch = self.channels[offset]
        if ch.write_state == RW_WORD0:
            ch.write_latch = value
            ch.write_state = RW_WORD1
        elif ch.write_state == RW_WORD1:
            self._load(ch, ch.write_latch | value << 8)
            ch.write_state = RW_WORD0
        elif ch.write_state == RW_MSB:
            self._load(ch, value << 8)
        else:
            self._load(ch, value)

    @staticmethod
    def _read_latched(ch: PitChannel) -> int:
        if ch.count_latched == RW_MSB:
            ch.count_latched = 0
            return ch.latched_count >> 8
        if ch.count_latched == RW_WORD0:
            ch.count_latched = RW_MSB
        else:
            ch.count_latched = 0
        return ch.latched_count & 0xFF

    def _read_live(self, ch: PitChannel) -> int:
        count = ch.counter(self._now())
        msb = ch.read_state in (RW_MSB, RW_WORD1)
        if ch.read_state == RW_WORD0:
            ch.read_state = RW_WORD1
        elif ch.read_state == RW_WORD1:
            ch.read_state = RW_WORD0
        return (count >> 8) & 0xFF if msb else count & 0xFF

    def _control(self, value: int) -> None:
        channel = value >> CTRL_CHANNEL_SHIFT
        if channel == CTRL_READ_BACK:
            self._read_back(value)
            return
        ch = self.channels[channel]
        access = (value >> CTRL_ACCESS_SHIFT) & CTRL_ACCESS_MASK
        if access == ACCESS_LATCH:
            self._latch(ch)
            return
        ch.rw_mode = ch.read_state = ch.write_state = access
        ch.mode = (value >> CTRL_MODE_SHIFT) & CTRL_MODE_MASK
        ch.bcd = value & CTRL_BCD
        # As in QEMU, a new mode takes effect at the next count load or gate edge.

    def _read_back(self, value: int) -> None:
        now = self._now()
        for n, ch in enumerate(self.channels):
            if not value & (RB_CHANNEL0 << n):
                continue
            if not value & RB_NO_COUNT:
                self._latch(ch)
            if not value & RB_NO_STATUS and not ch.status_latched:
                ch.status = ch.status_byte(now)
                ch.status_latched = True

    def _latch(self, ch: PitChannel) -> None:
        """Freeze the count for reading; a second latch before it is read changes nothing."""
        if not ch.count_latched:
            ch.latched_count = ch.counter(self._now()) & 0xFFFF
            ch.count_latched = ch.rw_mode

    def _load(self, ch: PitChannel, value: int) -> None:
        now = self._now()
        ch.count = value or COUNT_MAX
        ch.count_load_time = now
        self._irq_update(ch, now)

    # -- the gate and the IRQ ------------------------------------------------------

    def set_gate(self, channel: int, level: int) -> None:
        """Drive a channel's GATE input: a rising edge restarts modes 1, 2, 3 and 5."""
        ch = self.channels[channel]
        if ch.mode in (1, 2, 3, 5) and ch.gate < level:
            ch.count_load_time = self._now()
            self._irq_update(ch, ch.count_load_time)
        ch.gate = level

    def channel_info(self, channel: int) -> PitChannelInfo:
        ch = self.channels[channel]
        return PitChannelInfo(ch.gate, ch.mode, ch.count, ch.out(self._now()))

    def irq_control(self, enable: bool) -> None:
        """The HPET's line: low while its legacy mode owns IRQ 0 (channel 0 then stays quiet)."""
        self.irq_disabled = not enable
        if enable:
            self._irq_update(self.channels[PIT_IRQ_CHANNEL], self._now())
        else:
            self._timer.delete()

    def _irq_update(self, ch: PitChannel, when: int) -> None:
        """Drive the IRQ to channel 0's OUT at ``when`` and arm the timer at its next edge."""
        if ch is not self.channels[PIT_IRQ_CHANNEL] or self.irq_disabled:
            return
        expire = ch.next_transition(when)
        self._set_irq(ch.out(when))
        ch.next_transition_time = expire
        if expire != NO_TRANSITION:
            self._timer.mod(expire)
        else:
            self._timer.delete()

    def _irq_timer(self) -> None:
        ch = self.channels[PIT_IRQ_CHANNEL]
        self._irq_update(ch, ch.next_transition_time)


# -- the QOM devices ("pit-common", "isa-pit") -------------------------------------------

TYPE_PIT_COMMON = "pit-common"
TYPE_I8254 = "isa-pit"
#: ``iobase`` until a board sets it (QEMU's -1).
PIT_IOBASE_UNSET = 0xFFFFFFFF
PIT_PORT_SIZES = AccessSizes(1, 1)


@register_type
class PitCommonState(IsaDevice):
    """Base of the i8254 models (abstract ``pit-common``): the ports at ``iobase``.

    Only boards create a PIT: it may have to be wired to the HPET.
    """

    TYPE = TYPE_PIT_COMMON
    ABSTRACT = True
    USER_CREATABLE = False
    PROPERTIES = (prop_uint32("iobase", default=PIT_IOBASE_UNSET),)

    def __init__(self) -> None:
        super().__init__()
        self.ioports: MemoryRegion | None = None

    def realize(self) -> None:
        assert self.ioports is not None, "a PIT model makes its ports before realizing pit-common"
        isa_register_ioport(self, self.ioports, self.iobase)

    def set_channel_gate(self, channel: int, level: int) -> None:
        raise NotImplementedError

    def get_channel_info(self, channel: int) -> PitChannelInfo:
        raise NotImplementedError


@register_type
class I8254State(PitCommonState):
    """The emulated PIT (type ``isa-pit``) on the virtual clock.

    Unnamed GPIO output 0 is channel 0's interrupt (ISA IRQ 0, or the HPET's
    legacy input 0); unnamed GPIO input 0 is driven by the HPET: low stops
    the interrupt while the HPET's legacy replacement owns IRQ 0.
    """

    TYPE = TYPE_I8254

    def __init__(self) -> None:
        super().__init__()
        self.core: PitCore | None = None
        self.irq_out: GpioOutput | None = None

    def _core(self) -> PitCore:
        assert self.core is not None, "isa-pit used before realize"
        return self.core

    def realize(self) -> None:
        loop = qdev_get_machine(self).host.main_loop
        (self.irq_out,) = qdev_init_gpio_out(self, 1)
        self.core = PitCore(
            loop.clock(ClockType.VIRTUAL).now_ns,
            lambda callback: loop.timer_new(ClockType.VIRTUAL, callback),
            self.irq_out.set,
        )
        ops = MemoryRegionOps(
            read=self.core.read, write=self.core.write, endianness=Endianness.LITTLE, impl=PIT_PORT_SIZES
        )
        self.ioports = MemoryRegion.new_io(self, ops, "pit", PIT_IO_SIZE)
        qdev_init_gpio_in(self, lambda _n, level: self._core().irq_control(bool(level)), 1)
        super().realize()

    def reset(self) -> None:
        if self.core is not None:
            self.core.reset()

    def set_channel_gate(self, channel: int, level: int) -> None:
        self._core().set_gate(channel, level)

    def get_channel_info(self, channel: int) -> PitChannelInfo:
        return self._core().channel_info(channel)


def i8254_pit_init(
    isa_bus: IsaBus, base: int = PIT_ISA_BASE, isa_irq: int | None = PIT_ISA_IRQ, alt_irq: Irq | None = None
) -> I8254State:
    """Board code: create the PIT at ports ``base``, its interrupt on ISA line ``isa_irq``.

    With ``isa_irq`` None or negative the interrupt goes to ``alt_irq``
    instead (the HPET's legacy input 0 on ``pc`` and ``q35``).
    """
    dev = isa_new(TYPE_I8254)
    assert isinstance(dev, I8254State)
    dev.property_set("iobase", base)
    isa_realize_and_unref(dev, isa_bus)
    target = isa_get_irq(dev, isa_irq) if isa_irq is not None and isa_irq >= 0 else alt_irq
    qdev_connect_gpio_out(dev, 0, target)
    return dev


def pit_set_gate(dev: PitCommonState, channel: int, level: int) -> None:
    """Drive GATE of ``channel`` (0 or 1), as port 0x61 does for channel 2."""
    dev.set_channel_gate(channel, level)


def pit_get_channel_info(dev: PitCommonState, channel: int) -> PitChannelInfo:
    """Gate, mode, initial count and OUT of ``channel`` now."""
    return dev.get_channel_info(channel)
