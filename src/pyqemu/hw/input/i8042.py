"""The i8042 PC keyboard controller: its core without QOM, and the ``i8042`` ISA device.

The guest talks to the controller through two ports: data (0x60) and
command / status (0x64).  The controller answers its own commands, passes
data bytes on to the PS/2 keyboard or (after command 0xD4) the mouse, and
presents one byte at a time from the controller, keyboard or mouse in its
output buffer, interrupting on IRQ 1 (keyboard) or IRQ 12 (mouse).  Its
output port drives the A20 gate (bit 1) and the CPU reset line (bit 0: low
resets the machine).

This follows QEMU 7.2's ``hw/input/pckbd.c`` with ``extended-state`` on (the
default): controller replies have their own one-byte slot ahead of device
data; a disabled interface (command byte bits 4 and 5) holds back its
device's data; the status byte never changes its "last write was a command"
bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyqemu.hw.core.irq import (
    qdev_connect_gpio_out,
    qdev_get_gpio_in_named,
    qdev_init_gpio_in_named,
    qdev_init_gpio_out,
    qdev_init_gpio_out_named,
)
from pyqemu.hw.core.qdev import qdev_get_machine
from pyqemu.hw.core.qdev_properties import prop_bool, prop_uint8
from pyqemu.hw.core.sysbus import sysbus_realize
from pyqemu.hw.input.ps2 import PS2KbdState, PS2Keyboard, PS2Mouse, PS2MouseState
from pyqemu.hw.isa.isa_bus import ISA_NUM_IRQS, IsaDevice, isa_connect_gpio_out, isa_register_ioport
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import object_new, register_type
from pyqemu.util.errors import DeviceError

DATA_PORT = 0x60
COMMAND_PORT = 0x64
KBD_IRQ = 1
MOUSE_IRQ = 12

# Register offsets inside the device: data at 0, status / command at 4.
REG_DATA = 0
REG_STATUS = REG_COMMAND = 4

# Controller commands.
CCMD_READ_MODE = 0x20
CCMD_WRITE_MODE = 0x60
CCMD_MOUSE_DISABLE = 0xA7
CCMD_MOUSE_ENABLE = 0xA8
CCMD_TEST_MOUSE = 0xA9
CCMD_SELF_TEST = 0xAA
CCMD_KBD_TEST = 0xAB
CCMD_KBD_DISABLE = 0xAD
CCMD_KBD_ENABLE = 0xAE
CCMD_READ_INPORT = 0xC0
CCMD_READ_OUTPORT = 0xD0
CCMD_WRITE_OUTPORT = 0xD1
CCMD_WRITE_OBUF = 0xD2
CCMD_WRITE_AUX_OBUF = 0xD3  # as if the mouse had sent the byte
CCMD_WRITE_MOUSE = 0xD4
CCMD_DISABLE_A20 = 0xDD
CCMD_ENABLE_A20 = 0xDF
CCMD_PULSE_MASK = 0xF0  # 0xF0-0xFF pulse output port bits 3-0 low (0 = pulse)
CCMD_RESET = 0xFE  # pulse bit 0: CPU reset
CCMD_NO_OP = 0xFF
#: Commands whose argument comes as the next write to the data port.
CCMD_WITH_ARGUMENT = frozenset(
    {CCMD_WRITE_MODE, CCMD_WRITE_OBUF, CCMD_WRITE_AUX_OBUF, CCMD_WRITE_MOUSE, CCMD_WRITE_OUTPORT}
)

SELF_TEST_OK = 0x55
INTERFACE_TEST_OK = 0x00
INPUT_PORT = 0x80  # keyboard not inhibited

STAT_OBF = 0x01  # output buffer full
STAT_IBF = 0x02  # input buffer full (never: writes are taken at once)
STAT_SELFTEST = 0x04  # system flag, set by a successful self test
STAT_CMD = 0x08  # last write was a command (QEMU leaves it set)
STAT_UNLOCKED = 0x10  # keyboard not locked
STAT_MOUSE_OBF = 0x20  # the output buffer holds mouse data
RESET_STATUS = STAT_CMD | STAT_UNLOCKED

MODE_KBD_INT = 0x01
MODE_MOUSE_INT = 0x02
MODE_SYS = 0x04
MODE_DISABLE_KBD = 0x10
MODE_DISABLE_MOUSE = 0x20
MODE_KCC = 0x40  # translate keyboard scancodes to set 1
RESET_MODE = MODE_KBD_INT | MODE_MOUSE_INT

OUT_RESET = 0x01  # 1 = running, 0 = CPU held in reset
OUT_A20 = 0x02
OUT_OBF = 0x10
OUT_MOUSE_OBF = 0x20
OUT_ONES = 0xCC  # bits QEMU keeps set
RESET_OUTPORT = OUT_RESET | OUT_A20 | OUT_ONES

# Who has a byte for the output buffer, in priority order.
PENDING_CTRL_KBD = 0x04  # a controller reply
PENDING_CTRL_AUX = 0x08  # a controller byte posing as mouse data (0xD3)
PENDING_KBD = MODE_DISABLE_KBD  # the same bits, so the mode can mask them
PENDING_AUX = MODE_DISABLE_MOUSE

SetLine = Callable[[int], None]


def _no_line(level: int) -> None:
    pass


class I8042Core:
    """The controller with its keyboard and mouse; ``read``/``write`` take offsets 0 (data) and 4.

    ``kbd_irq`` and ``mouse_irq`` are IRQ 1 and 12; ``a20(level)`` follows
    output port bit 1; ``request_reset()`` asks for a guest reset
    (ShutdownCause GUEST_RESET).  The keyboard and mouse are made here
    unless given; given ones must report their data line to
    :meth:`kbd_data_line` / :meth:`mouse_data_line`.
    """

    def __init__(
        self,
        kbd_irq: SetLine,
        mouse_irq: SetLine,
        request_reset: Callable[[], None],
        a20: SetLine = _no_line,
        *,
        keyboard: PS2Keyboard | None = None,
        mouse: PS2Mouse | None = None,
    ):
        self._kbd_irq = kbd_irq
        self._mouse_irq = mouse_irq
        self._request_reset = request_reset
        self._a20 = a20
        self.keyboard = keyboard if keyboard is not None else PS2Keyboard(self.kbd_data_line)
        self.mouse = mouse if mouse is not None else PS2Mouse(self.mouse_data_line)
        self.write_cmd = 0
        self.obdata = 0
        self.cbdata = 0
        self.obsrc = 0
        self.pending = 0
        self._lines: tuple[int | None, int | None] = (None, None)
        self.reset()

    def reset(self) -> None:
        """Controller, keyboard and mouse reset."""
        self.reset_controller()
        self.keyboard.reset()
        self.mouse.reset()

    def reset_controller(self) -> None:
        """The controller's own reset (the devices have theirs)."""
        self.mode = RESET_MODE
        self.status = RESET_STATUS
        self.outport = RESET_OUTPORT
        self.pending = 0
        self._lines = (None, None)
        self._deassert()

    def kbd_data_line(self, level: int) -> None:
        """The keyboard has (1) or has no more (0) bytes for the controller."""
        self._device_line(PENDING_KBD, level)

    def mouse_data_line(self, level: int) -> None:
        """The mouse has (1) or has no more (0) bytes for the controller."""
        self._device_line(PENDING_AUX, level)

    # -- register access ------------------------------------------------------

    def read(self, offset: int, size: int = 1) -> int:
        """Offset 0: the output buffer; offset 4: the status byte."""
        return self.status if offset & REG_STATUS else self._read_data()

    def write(self, offset: int, value: int, size: int = 1) -> None:
        """Offset 0: data for the controller or the keyboard; offset 4: a command."""
        if offset & REG_COMMAND:
            self._command(value & 0xFF)
        else:
            self._data(value & 0xFF)

    # -- the output buffer ------------------------------------------------------

    def _read_data(self) -> int:
        if self.status & STAT_OBF:
            source = self.obsrc
            self._deassert()
            if source == PENDING_KBD:
                self.obdata = self.keyboard.read()
            elif source == PENDING_AUX:
                self.obdata = self.mouse.read()
            else:
                self.obdata = self.cbdata
                self.pending &= ~(PENDING_CTRL_KBD | PENDING_CTRL_AUX)
                self._safe_update()
        # An empty buffer reads its last byte again.
        return self.obdata

    def _queue(self, value: int, aux: bool = False) -> None:
        """Put a controller byte in its slot; a newer one replaces an unread one."""
        self.cbdata = value
        self.pending &= ~(PENDING_CTRL_KBD | PENDING_CTRL_AUX)
        self.pending |= PENDING_CTRL_AUX if aux else PENDING_CTRL_KBD
        self._safe_update()

    def _device_line(self, source: int, level: int) -> None:
        if level:
            self.pending |= source
        else:
            self.pending &= ~source
        self._safe_update()

    def _visible_pending(self) -> int:
        """Pending sources, without the device whose interface the mode disables."""
        return self.pending & ~(self.mode & (PENDING_KBD | PENDING_AUX))

    def _safe_update(self) -> None:
        # A full buffer is refilled only after the guest reads it.
        if not self.status & STAT_OBF and self._visible_pending():
            self._fill()

    def _fill(self) -> None:
        pending = self._visible_pending()
        for source in (PENDING_CTRL_KBD, PENDING_CTRL_AUX, PENDING_KBD, PENDING_AUX):
            if pending & source:
                break
        self.obsrc = source
        self.status |= STAT_OBF
        self.outport |= OUT_OBF
        if source in (PENDING_CTRL_AUX, PENDING_AUX):
            self.status |= STAT_MOUSE_OBF
            self.outport |= OUT_MOUSE_OBF
        self._update_lines()

    def _deassert(self) -> None:
        self.status &= ~(STAT_OBF | STAT_MOUSE_OBF)
        self.outport &= ~(OUT_OBF | OUT_MOUSE_OBF)
        self._update_lines()

    def _update_lines(self) -> None:
        kbd = mouse = 0
        if self.status & STAT_OBF:
            if self.status & STAT_MOUSE_OBF:
                mouse = int(bool(self.mode & MODE_MOUSE_INT))
            else:
                kbd = int(self.mode & (MODE_KBD_INT | MODE_DISABLE_KBD) == MODE_KBD_INT)
        old_kbd, old_mouse = self._lines
        self._lines = (kbd, mouse)
        if kbd != old_kbd:
            self._kbd_irq(kbd)
        if mouse != old_mouse:
            self._mouse_irq(mouse)

    # -- commands and data --------------------------------------------------------

    def _command(self, cmd: int) -> None:
        if cmd & CCMD_PULSE_MASK == CCMD_PULSE_MASK:
            # Only pulsing bit 0 (CPU reset) does anything.
            cmd = CCMD_RESET if not cmd & OUT_RESET else CCMD_NO_OP
        if cmd in CCMD_WITH_ARGUMENT:
            self.write_cmd = cmd
        elif cmd == CCMD_READ_MODE:
            self._queue(self.mode)
        elif cmd == CCMD_MOUSE_DISABLE:
            self.mode |= MODE_DISABLE_MOUSE
        elif cmd == CCMD_MOUSE_ENABLE:
            self.mode &= ~MODE_DISABLE_MOUSE
            self._safe_update()
        elif cmd in (CCMD_TEST_MOUSE, CCMD_KBD_TEST):
            self._queue(INTERFACE_TEST_OK)
        elif cmd == CCMD_SELF_TEST:
            self.status |= STAT_SELFTEST
            self._queue(SELF_TEST_OK)
        elif cmd == CCMD_KBD_DISABLE:
            self.mode |= MODE_DISABLE_KBD
        elif cmd == CCMD_KBD_ENABLE:
            self.mode &= ~MODE_DISABLE_KBD
            self._safe_update()
        elif cmd == CCMD_READ_INPORT:
            self._queue(INPUT_PORT)
        elif cmd == CCMD_READ_OUTPORT:
            self._queue(self.outport)
        elif cmd in (CCMD_ENABLE_A20, CCMD_DISABLE_A20):
            on = cmd == CCMD_ENABLE_A20
            self.outport = self.outport | OUT_A20 if on else self.outport & ~OUT_A20
            self._a20(int(on))
        elif cmd == CCMD_RESET:
            self._request_reset()
        # Anything else (QEMU logs it as unsupported) is ignored.

    def _data(self, value: int) -> None:
        cmd, self.write_cmd = self.write_cmd, 0
        if cmd == 0:
            self.keyboard.write(value)
            self.mode &= ~MODE_DISABLE_KBD  # talking to the keyboard re-enables it
            self._safe_update()
        elif cmd == CCMD_WRITE_MODE:
            self.mode = value
            self.keyboard.translate = bool(value & MODE_KCC)
            self._update_lines()  # the interrupt enables act at once
            self._safe_update()  # and enabling an interface may release its data
        elif cmd == CCMD_WRITE_OBUF:
            self._queue(value)
        elif cmd == CCMD_WRITE_AUX_OBUF:
            self._queue(value, aux=True)
        elif cmd == CCMD_WRITE_OUTPORT:
            self._write_outport(value)
        elif cmd == CCMD_WRITE_MOUSE:
            self.mouse.write(value)
            self.mode &= ~MODE_DISABLE_MOUSE  # talking to the mouse re-enables it
            self._safe_update()

    def _write_outport(self, value: int) -> None:
        self.outport = value
        self._a20((value & OUT_A20) >> 1)
        if not value & OUT_RESET:
            self._request_reset()


# -- the QOM device ("i8042") ------------------------------------------------------

A20_LINE = "a20"
KBD_INPUT = "ps2-kbd-input-irq"
MOUSE_INPUT = "ps2-mouse-input-irq"
GPIO_KBD_IRQ = 0  # unnamed GPIO outputs: 0 drives the keyboard IRQ, 1 the mouse IRQ
GPIO_MOUSE_IRQ = 1
PORT_OPS_SIZES = AccessSizes(1, 1)


def _port_ops(core_of: Callable[[], I8042Core], offset: int) -> MemoryRegionOps:
    """Ops of one one-byte port that reach the core at ``offset`` (0: data, 4: command)."""
    return MemoryRegionOps(
        read=lambda _addr, size: core_of().read(offset, size),
        write=lambda _addr, value, size: core_of().write(offset, value, size),
        endianness=Endianness.LITTLE,
        impl=PORT_OPS_SIZES,
    )


@register_type
class I8042State(IsaDevice):
    """The PC keyboard controller (type ``i8042``) with its ``ps2kbd`` and ``ps2mouse`` children.

    The ports are fixed at 0x60 and 0x64.  ``extended-state`` off and
    ``kbd-throttle`` are accepted but not modelled: the controller always
    behaves as with QEMU's defaults.
    """

    TYPE = "i8042"
    CATEGORY = "Input devices"
    PROPERTIES = (
        prop_bool("extended-state", default=True),
        prop_bool("kbd-throttle", default=False),
        prop_uint8("kbd-irq", default=KBD_IRQ),
        prop_uint8("mouse-irq", default=MOUSE_IRQ),
    )

    def __init__(self) -> None:
        super().__init__()
        self.core: I8042Core | None = None
        self.regions = (
            MemoryRegion.new_io(self, _port_ops(self._core, REG_DATA), "i8042-data", 1),
            MemoryRegion.new_io(self, _port_ops(self._core, REG_COMMAND), "i8042-cmd", 1),
        )
        (self.a20_out,) = qdev_init_gpio_out_named(self, A20_LINE, 1)
        self.irq_outs = qdev_init_gpio_out(self, 2)
        self.ps2kbd = self._child("ps2kbd", PS2KbdState.TYPE)
        self.ps2mouse = self._child("ps2mouse", PS2MouseState.TYPE)
        qdev_init_gpio_in_named(self, lambda _n, level: self._core().kbd_data_line(level), KBD_INPUT, 1)
        qdev_init_gpio_in_named(self, lambda _n, level: self._core().mouse_data_line(level), MOUSE_INPUT, 1)

    def _child(self, name: str, typename: str) -> Any:
        child = object_new(typename)
        self.add_child(name, child)
        child.unref()
        return child

    def _core(self) -> I8042Core:
        assert self.core is not None, "i8042 used before realize"
        return self.core

    def realize(self) -> None:
        for name, irq in (("kbd-irq", self.kbd_irq), ("mouse-irq", self.mouse_irq)):
            if irq >= ISA_NUM_IRQS:
                raise DeviceError(f'Maximum value for "{name}" is: {ISA_NUM_IRQS - 1}')
        host = qdev_get_machine(self).host
        if self.kbd_throttle and not self.extended_state:
            host.warn("i8042: can't enable kbd-throttle without extended-state, disabling kbd-throttle")
            self.kbd_throttle = False
        self.core = I8042Core(
            self.irq_outs[GPIO_KBD_IRQ].set, self.irq_outs[GPIO_MOUSE_IRQ].set, host.guest_reset,
            self.a20_out.set, keyboard=self.ps2kbd.core, mouse=self.ps2mouse.core,
        )
        isa_connect_gpio_out(self, GPIO_KBD_IRQ, self.kbd_irq)
        isa_connect_gpio_out(self, GPIO_MOUSE_IRQ, self.mouse_irq)
        isa_register_ioport(self, self.regions[0], DATA_PORT)
        isa_register_ioport(self, self.regions[1], COMMAND_PORT)
        for child, line in ((self.ps2kbd, KBD_INPUT), (self.ps2mouse, MOUSE_INPUT)):
            sysbus_realize(child, qdev_get_machine(self))
            qdev_connect_gpio_out(child, 0, qdev_get_gpio_in_named(self, line, 0))

    def reset(self) -> None:
        if self.core is not None:
            self.core.reset_controller()
