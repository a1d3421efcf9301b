"""The 8259A programmable interrupt controller: its core, the ``isa-i8259`` device and the PC pair.

One chip has eight inputs, a mask (IMR), requests waiting (IRR) and
requests in service (ISR).  The guest programs it through two ports:

- offset 0: ICW1 (bit 4 set: start the init sequence), OCW3 (bit 3 set:
  select IRR / ISR for reading, poll, special mask) or OCW2 (EOIs and
  priority rotation, command in bits 5-7);
- offset 1: the IMR (OCW1), or ICW2-ICW4 while an init sequence runs.

A separate one-byte ELCR port (PIIX / ICH) makes inputs level-triggered;
only the bits of ``elcr_mask`` can be set.  The chip raises its INT output
while an unmasked request has a higher priority than everything in service.
The CPU acknowledges with :func:`pic_read_irq`, which returns the vector
(``irq_base`` + line, the slave's when the master's line 2 wins) and moves the
request into service.  A request that went away before the acknowledge
gives the spurious IRQ 7 of the chip concerned.

This follows QEMU 7.2's ``hw/intc/i8259.c``: ICW1's LTIM bit (chip-wide
level mode) is ignored, and the master's special fully nested mode only
leaves line 2 out of the in-service priority.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pyqemu.hw.core.irq import (
    GpioOutput,
    Irq,
    qdev_connect_gpio_out,
    qdev_get_gpio_in,
    qdev_init_gpio_in,
    qdev_init_gpio_out,
)
from pyqemu.hw.core.qdev import qdev_get_machine
from pyqemu.hw.core.qdev_properties import prop_bit, prop_uint8, prop_uint32
from pyqemu.hw.intc.intc import InterruptStatsProvider, IrqStats
from pyqemu.hw.isa.isa_bus import (
    ISA_NUM_IRQS,
    IsaBus,
    IsaDevice,
    isa_new,
    isa_realize_and_unref,
    isa_register_ioport,
)
from pyqemu.memory.region import AccessSizes, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import register_type

if TYPE_CHECKING:
    from pyqemu.hw.core.machine import MachineState

TYPE_PIC_COMMON = "pic-common"
TYPE_I8259 = "isa-i8259"
PIC_LINES = 8
NO_ADDR = 0xFFFFFFFF

#: (iobase, elcr_addr, elcr_mask) of the PC's master and slave.
PC_MASTER = (0x20, 0x4D0, 0xF8)
PC_SLAVE = (0xA0, 0x4D1, 0xDE)
CASCADE_IRQ = 2
SPURIOUS_IRQ = 7
NO_PRIORITY = 8

# Port 0 writes.
ICW1_INIT = 0x10
ICW1_IC4 = 0x01  # ICW4 follows
ICW1_SNGL = 0x02  # single chip: no ICW3
OCW3_SELECT = 0x08
OCW3_POLL = 0x04
OCW3_READ_REG = 0x02  # bit 0 then selects ISR (1) or IRR (0)
OCW3_ESMM = 0x40  # bit 5 then sets or clears special mask mode
OCW2_SHIFT = 5
OCW2_LEVEL = 0x07
OCW2_ROTATE_AEOI_CLEAR = 0
OCW2_EOI = 1
OCW2_SPECIFIC_EOI = 3
OCW2_ROTATE_AEOI_SET = 4
OCW2_ROTATE_EOI = 5
OCW2_SET_PRIORITY = 6
OCW2_ROTATE_SPECIFIC_EOI = 7
ICW2_BASE_MASK = 0xF8
ICW4_AEOI = 0x02
ICW4_SFNM = 0x10
POLL_READY = 0x80

# Where port 1 writes go.
INIT_DONE, INIT_ICW2, INIT_ICW3, INIT_ICW4 = range(4)

PIC_IMPL = AccessSizes(1, 1)


class PicCore:
    """One 8259A: ``read`` / ``write`` at offsets 0 and 1, ``set_irq(line, level)`` for its inputs.

    ``set_output(level)`` drives the INT pin; it is called on every change of
    state, with the level the chip has now.  A master's ``slave`` is the chip
    on its line 2, which :meth:`read_irq` acknowledges too.
    """

    def __init__(self, set_output: Callable[[int], None], *, master: bool = False, elcr_mask: int = 0xFF,
                 stats: IrqStats | None = None):
        self._set_output = set_output
        self.master = master
        self.elcr_mask = elcr_mask
        self.slave: PicCore | None = None
        #: Rising edges per ISA line; the slave of a PC pair counts into its master's.
        self.stats = stats if stats is not None else IrqStats(ISA_NUM_IRQS)
        self.elcr = 0
        self.irr = 0
        self.reset()

    # -- state -------------------------------------------------------------------------

    def reset(self) -> None:
        """Device reset: the ELCR too is cleared."""
        self.elcr = 0
        self._init_reset()

    def _init_reset(self) -> None:
        """What ICW1 resets; level-triggered requests stay pending."""
        self.last_irr = 0
        self.irr &= self.elcr
        self.imr = self.isr = 0
        self.priority_add = 0
        self.irq_base = 0
        self.read_reg_select = self.poll = self.special_mask = 0
        self.init_state = INIT_DONE
        self.auto_eoi = self.rotate_on_auto_eoi = self.special_fully_nested_mode = 0
        self.init4 = self.single_mode = 0
        self._update()

    def _priority(self, mask: int) -> int:
        """The best priority (0 = highest) among the lines in ``mask``, or NO_PRIORITY."""
        if not mask:
            return NO_PRIORITY
        priority = 0
        while not mask & (1 << ((priority + self.priority_add) & 7)):
            priority += 1
        return priority

    def get_irq(self) -> int:
        """The line the chip wants to interrupt with, or -1 (QEMU's ``pic_get_irq``)."""
        priority = self._priority(self.irr & ~self.imr)
        if priority == NO_PRIORITY:
            return -1
        in_service = self.isr
        if self.special_mask:
            in_service &= ~self.imr
        if self.special_fully_nested_mode and self.master:
            in_service &= ~(1 << CASCADE_IRQ)
        if priority < self._priority(in_service):
            return (priority + self.priority_add) & 7
        return -1

    @property
    def output(self) -> int:
        """The level of the INT pin."""
        return int(self.get_irq() >= 0)

    def _update(self) -> None:
        self._set_output(self.output)

    # -- inputs and acknowledge --------------------------------------------------------

    def set_irq(self, line: int, level: int) -> None:
        """Input ``line`` is at ``level``: a level-triggered line follows it, an edge latches."""
        mask = 1 << line
        self.stats.update(line if self.master else line + PIC_LINES, level)
        if self.elcr & mask:
            if level:
                self.irr |= mask
                self.last_irr |= mask
            else:
                self.irr &= ~mask
                self.last_irr &= ~mask
        elif level:
            if not self.last_irr & mask:
                self.irr |= mask
            self.last_irr |= mask
        else:
            self.last_irr &= ~mask
        self._update()

    def intack(self, line: int) -> None:
        """Acknowledge ``line``: into service (unless auto-EOI); an edge request is consumed."""
        if self.auto_eoi:
            if self.rotate_on_auto_eoi:
                self.priority_add = (line + 1) & 7
        else:
            self.isr |= 1 << line
        if not self.elcr & (1 << line):
            self.irr &= ~(1 << line)
        self._update()

    def read_irq(self) -> int:
        """The CPU's interrupt acknowledge on this (master) chip: the vector (``pic_read_irq``)."""
        line = self.get_irq()
        if line < 0:
            return self.irq_base + SPURIOUS_IRQ
        if line == CASCADE_IRQ and self.slave is not None:
            slave = self.slave
            slave_line = slave.get_irq()
            if slave_line >= 0:
                slave.intack(slave_line)
            else:
                slave_line = SPURIOUS_IRQ
            self.intack(line)
            return slave.irq_base + slave_line
        self.intack(line)
        return self.irq_base + line

    # -- the ports ---------------------------------------------------------------------

    def write(self, offset: int, value: int, size: int = 1) -> None:
        """Offset 0: ICW1 / OCW2 / OCW3; offset 1: the IMR or the next ICW."""
        value &= 0xFF
        if offset & 1:
            self._write_data(value)
        elif value & ICW1_INIT:
            self._init_reset()
            self.init_state = INIT_ICW2
            self.init4 = value & ICW1_IC4
            self.single_mode = value & ICW1_SNGL
        elif value & OCW3_SELECT:
            self._ocw3(value)
        else:
            self._ocw2(value)

    def _write_data(self, value: int) -> None:
        if self.init_state == INIT_DONE:
            self.imr = value
            self._update()
        elif self.init_state == INIT_ICW2:
            self.irq_base = value & ICW2_BASE_MASK
            if self.single_mode:
                self.init_state = INIT_ICW4 if self.init4 else INIT_DONE
            else:
                self.init_state = INIT_ICW3
        elif self.init_state == INIT_ICW3:  # the cascade wiring is fixed: ICW3 is not kept
            self.init_state = INIT_ICW4 if self.init4 else INIT_DONE
        else:
            self.special_fully_nested_mode = int(bool(value & ICW4_SFNM))
            self.auto_eoi = int(bool(value & ICW4_AEOI))
            self.init_state = INIT_DONE

    def _ocw3(self, value: int) -> None:
        if value & OCW3_POLL:
            self.poll = 1
        if value & OCW3_READ_REG:
            self.read_reg_select = value & 1
        if value & OCW3_ESMM:
            self.special_mask = (value >> 5) & 1

    def _ocw2(self, value: int) -> None:
        command = value >> OCW2_SHIFT
        if command in (OCW2_ROTATE_AEOI_CLEAR, OCW2_ROTATE_AEOI_SET):
            self.rotate_on_auto_eoi = command >> 2
        elif command in (OCW2_EOI, OCW2_ROTATE_EOI):
            priority = self._priority(self.isr)
            if priority != NO_PRIORITY:  # no update at all when nothing is in service
                line = (priority + self.priority_add) & 7
                self._end_of_interrupt(line, rotate=command == OCW2_ROTATE_EOI)
        elif command in (OCW2_SPECIFIC_EOI, OCW2_ROTATE_SPECIFIC_EOI):
            self._end_of_interrupt(value & OCW2_LEVEL, rotate=command == OCW2_ROTATE_SPECIFIC_EOI)
        elif command == OCW2_SET_PRIORITY:
            self.priority_add = (value + 1) & 7
            self._update()

    def _end_of_interrupt(self, line: int, *, rotate: bool) -> None:
        self.isr &= ~(1 << line)
        if rotate:
            self.priority_add = (line + 1) & 7
        self._update()

    def read(self, offset: int, size: int = 1) -> int:
        """A poll answer if one was asked for, else IRR or ISR (offset 0) or the IMR (offset 1)."""
        if self.poll:
            self.poll = 0
            line = self.get_irq()
            if line < 0:
                return 0
            self.intack(line)
            return line | POLL_READY
        if offset & 1:
            return self.imr
        return self.isr if self.read_reg_select else self.irr

    def elcr_read(self, offset: int, size: int = 1) -> int:
        return self.elcr

    def elcr_write(self, offset: int, value: int, size: int = 1) -> None:
        """Only the lines of ``elcr_mask`` can be made level-triggered."""
        self.elcr = value & self.elcr_mask

    def info(self) -> str:
        """The chip's line of ``info pic``."""
        return (
            f"pic{0 if self.master else 1}: irr={self.irr:02x} imr={self.imr:02x} isr={self.isr:02x} "
            f"hprio={self.priority_add} irq_base={self.irq_base:02x} rr_sel={self.read_reg_select} "
            f"elcr={self.elcr:02x} fnm={self.special_fully_nested_mode}\n"
        )


@register_type
class PicCommon(IsaDevice, InterruptStatsProvider):
    """What every 8259 model shares (abstract ``pic-common``): its properties and ports."""

    TYPE = TYPE_PIC_COMMON
    ABSTRACT = True
    USER_CREATABLE = False  # its lines are wired by board code
    PROPERTIES = (
        prop_uint32("iobase", default=NO_ADDR),
        prop_uint32("elcr_addr", default=NO_ADDR),
        prop_uint8("elcr_mask", default=0xFF),
        prop_bit("master", default=False),
    )

    def __init__(self) -> None:
        super().__init__()
        self.base_io: MemoryRegion | None = None
        self.elcr_io: MemoryRegion | None = None

    def realize(self) -> None:
        assert self.base_io is not None and self.elcr_io is not None
        isa_register_ioport(self, self.base_io, self.iobase)
        if self.elcr_addr != NO_ADDR:
            isa_register_ioport(self, self.elcr_io, self.elcr_addr)


@register_type
class I8259(PicCommon):
    """An emulated 8259A on the ISA bus (type ``isa-i8259``): 8 inputs, one INT output."""

    TYPE = TYPE_I8259

    def __init__(self) -> None:
        super().__init__()
        self.core: PicCore | None = None
        self.int_out: GpioOutput | None = None

    def realize(self) -> None:
        core = self.core = PicCore(self._set_output, master=bool(self.master), elcr_mask=self.elcr_mask)
        pic_ops = MemoryRegionOps(read=core.read, write=core.write, impl=PIC_IMPL)
        elcr_ops = MemoryRegionOps(read=core.elcr_read, write=core.elcr_write, impl=PIC_IMPL)
        self.base_io = MemoryRegion.new_io(self, pic_ops, "pic", 2)
        self.elcr_io = MemoryRegion.new_io(self, elcr_ops, "elcr", 1)
        (self.int_out,) = qdev_init_gpio_out(self, 1)
        qdev_init_gpio_in(self, core.set_irq, PIC_LINES)
        super().realize()

    def _set_output(self, level: int) -> None:
        if self.int_out is not None:
            self.int_out.set(level)

    def _core(self) -> PicCore:
        assert self.core is not None, "isa-i8259 used before realize"
        return self.core

    def reset(self) -> None:
        if self.core is not None:
            self.core.reset()

    def get_statistics(self) -> list[int] | None:
        """The master reports the counts of all 16 ISA lines; the slave none."""
        return self._core().stats.counts if self.master else None

    def print_info(self) -> str:
        return self._core().info()


# -- board-facing -------------------------------------------------------------------


def i8259_init_chip(bus: IsaBus, master: bool) -> I8259:
    """Create and realize one chip of the PC pair at its PC addresses (``i8259_init_chip``)."""
    from pyqemu.hw.core.qdev_monitor import apply_global_props

    iobase, elcr_addr, elcr_mask = PC_MASTER if master else PC_SLAVE
    dev = isa_new(TYPE_I8259)
    try:
        machine = qdev_get_machine(bus)
        if machine is not None:  # -global comes first, so the PC values below win
            apply_global_props(machine, dev)
        dev.property_set("iobase", iobase)
        dev.property_set("elcr_addr", elcr_addr)
        dev.property_set("elcr_mask", elcr_mask)
        dev.property_set("master", master)
    except BaseException:
        dev.unref()
        raise
    isa_realize_and_unref(dev, bus)
    assert isinstance(dev, I8259)
    return dev


def i8259_init(isa_bus: IsaBus, parent_irq: Irq | None) -> list[Irq]:
    """The PC's two 8259s: the master (made first) drives ``parent_irq``, the slave its line 2.

    Returns the 16 ISA IRQ inputs (0-7 the master's, 8-15 the slave's) and
    makes the master the machine's ``isa_pic`` (see :func:`isa_pic`).
    """
    master = i8259_init_chip(isa_bus, True)
    qdev_connect_gpio_out(master, 0, parent_irq)
    irqs = [qdev_get_gpio_in(master, n) for n in range(PIC_LINES)]
    slave = i8259_init_chip(isa_bus, False)
    qdev_connect_gpio_out(slave, 0, irqs[CASCADE_IRQ])
    irqs += [qdev_get_gpio_in(slave, n) for n in range(PIC_LINES)]
    master_core, slave_core = master._core(), slave._core()
    master_core.slave = slave_core
    slave_core.stats = master_core.stats
    machine = qdev_get_machine(master)
    if machine is not None:
        machine.isa_pic = master
    return irqs


def isa_pic(machine: MachineState | None) -> I8259 | None:
    """The machine's master 8259, once :func:`i8259_init` made it."""
    pic = machine.isa_pic if machine is not None else None
    return pic if isinstance(pic, I8259) else None


def pic_read_irq(pic: I8259) -> int:
    """Interrupt acknowledge from the CPU on master ``pic``: the vector to take (``pic_read_irq``)."""
    return pic._core().read_irq()


def pic_get_output(pic: I8259) -> int:
    """The level of ``pic``'s INT output: 1 while it has an interrupt for the CPU."""
    return pic._core().output
