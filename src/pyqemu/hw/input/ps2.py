"""PS/2 keyboard and mouse: the devices behind the i8042 controller (``ps2-kbd``, ``ps2-mouse``).

Each device has a byte queue towards the controller and answers the
commands the guest sends it through the controller.  ``set_irq(level)`` is
the device's "data available" line to the controller (QEMU's
``ps2_raise_irq``): it goes high whenever bytes are queued, low on each read
and high again while bytes remain.

Queue rules as QEMU 7.2's ``hw/input/ps2.c`` has them: at most 16 bytes of
device data; a keyboard command's replies go in front of queued scancodes,
and the next command drops replies the guest has not read; reading an empty
queue returns the last byte read again.

:class:`PS2Keyboard` and :class:`PS2Mouse` are plain Python; the QOM types
at the end of the file wrap them as the system-bus devices QEMU has.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from pyqemu.hw.core.irq import qdev_init_gpio_out
from pyqemu.hw.core.sysbus import SysBusDevice
from pyqemu.qom.object import register_type

QUEUE_SIZE = 16  # what the PS/2 protocol requires

ACK = 0xFA
RESEND = 0xFE
SELF_TEST_PASSED = 0xAA  # sent after a reset (power-on reset, "BAT")
KBD_ID = 0xAB  # first ID byte of an MF2 keyboard

# Keyboard commands.
KBD_CMD_SET_LEDS = 0xED
KBD_CMD_ECHO = 0xEE
KBD_CMD_SCANCODE = 0xF0
KBD_CMD_GET_ID = 0xF2
KBD_CMD_SET_RATE = 0xF3
KBD_CMD_ENABLE = 0xF4
KBD_CMD_RESET_DISABLE = 0xF5
KBD_CMD_RESET_ENABLE = 0xF6
KBD_CMD_SET_TYPEMATIC = 0xFA
KBD_CMD_SET_MAKE_BREAK = 0xFC
KBD_CMD_RESET = 0xFF
#: Commands that take one argument byte.
KBD_ARG_COMMANDS = frozenset({KBD_CMD_SET_LEDS, KBD_CMD_SCANCODE, KBD_CMD_SET_RATE, KBD_CMD_SET_MAKE_BREAK})
#: Second ID byte: an MF2 keyboard, as the controller's translation shows it or raw.
KBD_ID2_TRANSLATED = 0x41
KBD_ID2_RAW = 0x83
#: Scancode set numbers as they read through the controller's set-2-to-1 translation.
TRANSLATED_SET_NUMBER = {1: 0x43, 2: 0x41, 3: 0x3F}
DEFAULT_SCANCODE_SET = 2

# Mouse commands.
AUX_SET_SCALE11 = 0xE6
AUX_SET_SCALE21 = 0xE7
AUX_SET_RES = 0xE8
AUX_GET_SCALE = 0xE9  # status request: status, resolution, sample rate
AUX_SET_STREAM = 0xEA
AUX_POLL = 0xEB
AUX_RESET_WRAP = 0xEC
AUX_SET_WRAP = 0xEE
AUX_SET_REMOTE = 0xF0
AUX_GET_TYPE = 0xF2
AUX_SET_SAMPLE = 0xF3
AUX_ENABLE_DEV = 0xF4
AUX_DISABLE_DEV = 0xF5
AUX_SET_DEFAULT = 0xF6
AUX_RESET = 0xFF

MOUSE_STATUS_REMOTE = 0x40
MOUSE_STATUS_ENABLED = 0x20
MOUSE_STATUS_SCALE21 = 0x10
MOUSE_DEFAULT_RATE = 100
MOUSE_DEFAULT_RESOLUTION = 2
MOUSE_TYPE_PS2 = 0
MOUSE_TYPE_IMPS2 = 3  # IntelliMouse: scroll wheel
MOUSE_TYPE_IMEX = 4  # IntelliMouse Explorer: wheel and five buttons
MOUSE_PACKET_ALWAYS_ONE = 0x08
#: Sample-rate "knocks" that switch the mouse type: 200, 100, 80 -> IMPS/2; 200, 200, 80 -> IMEX.
KNOCK_START = 200
KNOCK_SECOND = {100: MOUSE_TYPE_IMPS2, 200: MOUSE_TYPE_IMEX}
KNOCK_END = 80

SetIrq = Callable[[int], None]


def _no_irq(level: int) -> None:
    pass


class PS2Device:
    """The queue and read side shared by the keyboard and the mouse."""

    def __init__(self, set_irq: SetIrq = _no_irq):
        self.set_irq = set_irq
        self.replies: deque[int] = deque()  # keyboard command replies, read first
        self.data: deque[int] = deque()
        self.last_read = 0
        self.write_cmd: int | None = None

    @property
    def count(self) -> int:
        return len(self.replies) + len(self.data)

    def reset_queue(self) -> None:
        self.replies.clear()
        self.data.clear()

    def reset(self) -> None:
        """Device reset (machine reset): no pending command, empty queue, line low."""
        self.write_cmd = None
        self.reset_queue()
        self.set_irq(0)

    def queue(self, *values: int) -> bool:
        """Queue bytes as one unit if they all fit; raise the line. False if dropped."""
        if QUEUE_SIZE - self.count < len(values):
            return False
        self.data.extend(values)
        self.set_irq(1)
        return True

    def read(self) -> int:
        """Take the next byte for the controller (the last one again if empty)."""
        if self.replies:
            self.last_read = self.replies.popleft()
        elif self.data:
            self.last_read = self.data.popleft()
        else:
            return self.last_read
        self.set_irq(0)
        if self.count:
            self.set_irq(1)
        return self.last_read

    def write(self, value: int) -> None:
        """A byte the guest sends to the device."""
        raise NotImplementedError


class PS2Keyboard(PS2Device):
    """An MF2 keyboard: enough of its command set for firmware and Linux's atkbd probe."""

    def __init__(self, set_irq: SetIrq = _no_irq):
        super().__init__(set_irq)
        self.translate = False  # the controller's set-2-to-set-1 translation (mode bit 6)
        self.scan_enabled = True
        self.scancode_set = DEFAULT_SCANCODE_SET
        self.leds = 0

    def reset(self) -> None:
        super().reset()
        self.scan_enabled = True
        self.translate = False
        self.scancode_set = DEFAULT_SCANCODE_SET

    def _reset_keyboard(self) -> None:
        """What the reset commands (0xFF, 0xF5, 0xF6) do."""
        self.scan_enabled = True
        self.scancode_set = DEFAULT_SCANCODE_SET
        self.reset_queue()
        self.leds = 0

    def _reply(self, *values: int) -> None:
        self.replies.extend(values)
        self.set_irq(1)

    def put_scancodes(self, codes: bytes) -> None:
        """Key events, already in the byte form the guest expects; dropped while scanning is off."""
        if self.scan_enabled:
            for code in codes:
                self.queue(code)

    def write(self, value: int) -> None:
        self.replies.clear()  # a new command drops the unread replies of the last one
        cmd, self.write_cmd = self.write_cmd, None
        if cmd is None:
            self._command(value)
        elif cmd == KBD_CMD_SCANCODE:
            self._scancode_set(value)
        else:
            if cmd == KBD_CMD_SET_LEDS:
                self.leds = value
            self._reply(ACK)

    def _command(self, value: int) -> None:
        if value in KBD_ARG_COMMANDS:
            self.write_cmd = value
            self._reply(ACK)
        elif value == KBD_CMD_GET_ID:
            self._reply(ACK, KBD_ID, KBD_ID2_TRANSLATED if self.translate else KBD_ID2_RAW)
        elif value == KBD_CMD_ECHO:
            self._reply(KBD_CMD_ECHO)
        elif value == KBD_CMD_RESET:
            self._reset_keyboard()
            self._reply(ACK, SELF_TEST_PASSED)
        elif value in (KBD_CMD_RESET_DISABLE, KBD_CMD_RESET_ENABLE):
            self._reset_keyboard()
            self.scan_enabled = value == KBD_CMD_RESET_ENABLE
            self._reply(ACK)
        elif value == KBD_CMD_ENABLE:
            self.scan_enabled = True
            self._reply(ACK)
        elif value in (0x00, KBD_CMD_SET_TYPEMATIC):
            self._reply(ACK)
        else:
            self._reply(RESEND)

    def _scancode_set(self, value: int) -> None:
        if value == 0:
            number = self.scancode_set
            self._reply(ACK, TRANSLATED_SET_NUMBER[number] if self.translate else number)
        elif 1 <= value <= 3:
            self.scancode_set = value
            self._reply(ACK)
        else:
            self._reply(RESEND)


class PS2Mouse(PS2Device):
    """A PS/2 mouse that never moves: it answers the probe and configuration commands."""

    def __init__(self, set_irq: SetIrq = _no_irq):
        super().__init__(set_irq)
        self.status = 0
        self.resolution = 0
        self.sample_rate = 0
        self.wrap = False
        self.mouse_type = MOUSE_TYPE_PS2
        self._knock: int | None = None  # None, KNOCK_START, or the type the knock is heading to

    def reset(self) -> None:
        """Device reset: QEMU leaves resolution and rate 0 until the guest resets the mouse."""
        super().reset()
        self.status = 0
        self.resolution = 0
        self.sample_rate = 0
        self.wrap = False
        self.mouse_type = MOUSE_TYPE_PS2
        self._knock = None

    def _defaults(self) -> None:
        self.sample_rate = MOUSE_DEFAULT_RATE
        self.resolution = MOUSE_DEFAULT_RESOLUTION
        self.status = 0

    def write(self, value: int) -> None:
        cmd, self.write_cmd = self.write_cmd, None
        if cmd == AUX_SET_SAMPLE:
            self.sample_rate = value
            self._detect_type(value)
            self.queue(ACK)
        elif cmd == AUX_SET_RES:
            self.resolution = value
            self.queue(ACK)
        elif self.wrap and value == AUX_RESET_WRAP:
            self.wrap = False
            self.queue(ACK)
        elif self.wrap and value != AUX_RESET:
            self.queue(value)  # wrap mode echoes everything else
        else:
            self._command(value)

    def _command(self, value: int) -> None:
        status_bits = {
            AUX_SET_SCALE11: (MOUSE_STATUS_SCALE21, False),
            AUX_SET_SCALE21: (MOUSE_STATUS_SCALE21, True),
            AUX_SET_STREAM: (MOUSE_STATUS_REMOTE, False),
            AUX_SET_REMOTE: (MOUSE_STATUS_REMOTE, True),
            AUX_ENABLE_DEV: (MOUSE_STATUS_ENABLED, True),
            AUX_DISABLE_DEV: (MOUSE_STATUS_ENABLED, False),
        }
        if value in status_bits:
            bit, on = status_bits[value]
            self.status = self.status | bit if on else self.status & ~bit
            self.queue(ACK)
        elif value in (AUX_SET_RES, AUX_SET_SAMPLE):
            self.write_cmd = value
            self.queue(ACK)
        elif value == AUX_GET_TYPE:
            self.queue(ACK, self.mouse_type)
        elif value == AUX_GET_SCALE:
            self.queue(ACK, self.status, self.resolution, self.sample_rate)
        elif value == AUX_POLL:
            self.queue(ACK)
            self._send_packet()
        elif value == AUX_SET_WRAP:
            self.wrap = True
            self.queue(ACK)
        elif value == AUX_SET_DEFAULT:
            self._defaults()
            self.queue(ACK)
        elif value == AUX_RESET:  # QEMU leaves wrap mode on
            self._defaults()
            self.mouse_type = MOUSE_TYPE_PS2
            self.reset_queue()
            self.queue(ACK, SELF_TEST_PASSED, self.mouse_type)
        # Other bytes get no answer, as in QEMU.

    def _send_packet(self) -> None:
        """A movement packet with no movement and no buttons (plus the wheel byte of IMPS/2 and IMEX)."""
        extra = (0,) if self.mouse_type != MOUSE_TYPE_PS2 else ()
        self.queue(MOUSE_PACKET_ALWAYS_ONE, 0, 0, *extra)

    def _detect_type(self, rate: int) -> None:
        """Follow the sample-rate knock; any wrong rate starts it over."""
        knock = self._knock
        if knock is None:
            self._knock = KNOCK_START if rate == KNOCK_START else None
        elif knock == KNOCK_START:
            self._knock = KNOCK_SECOND.get(rate)
        else:
            if rate == KNOCK_END:
                self.mouse_type = knock
            self._knock = None


# -- QOM devices ("ps2-kbd", "ps2-mouse") ------------------------------------------


@register_type
class PS2DeviceState(SysBusDevice):
    """Base of the PS/2 devices (abstract ``ps2-device``): a core and its data line to the controller.

    The line is the device's unnamed GPIO output 0, which the i8042 connects
    to its ``ps2-kbd-input-irq`` / ``ps2-mouse-input-irq`` input.
    """

    TYPE = "ps2-device"
    ABSTRACT = True
    CORE: type[PS2Device] = PS2Device

    def __init__(self) -> None:
        super().__init__()
        (self.data_line,) = qdev_init_gpio_out(self, 1)
        self.core = self.CORE(self.data_line.set)

    def reset(self) -> None:
        self.core.reset()


@register_type
class PS2KbdState(PS2DeviceState):
    """The PS/2 keyboard (type ``ps2-kbd``)."""

    TYPE = "ps2-kbd"
    CORE = PS2Keyboard


@register_type
class PS2MouseState(PS2DeviceState):
    """The PS/2 mouse (type ``ps2-mouse``)."""

    TYPE = "ps2-mouse"
    CORE = PS2Mouse
