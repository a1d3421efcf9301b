"""The VMware mouse (``vmmouse``): absolute pointer packets over the VMware backdoor.

The guest driver talks to it through ``vmport`` commands 39-41 (the low 16
bits of ECX): STATUS (40) answers EAX = status << 16 | words queued; COMMAND
(41) takes EBX — READ_ID queues the version word and enables the device,
REQUEST_ABSOLUTE / REQUEST_RELATIVE pick the mode, DISABLE turns it off
(status 0xffff); DATA (39) moves EBX queued words (1-6) into EAX, EBX, ECX,
EDX, ESI, EDI.  Each pointer event queues four words (buttons, x, y, wheel)
and nudges the PS/2 mouse of the ``i8042`` the device links to, so that the
guest's PS/2 driver wakes up and reads the backdoor.

Pointer events come from the user interface (:meth:`VmmouseCore.mouse_event`);
pyqemu has none yet, so only the guest's side is exercised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyqemu.hw.core.qdev import qdev_get_machine
from pyqemu.hw.i386.vmport import TYPE_VMPORT, Regs, VmportCommand, VmportState
from pyqemu.hw.isa.isa_bus import IsaBus, IsaDevice, isa_new, isa_realize_and_unref
from pyqemu.qom.object import Object, register_type
from pyqemu.qom.path import resolve_link, resolve_path
from pyqemu.qom.property import STR
from pyqemu.util.errors import DeviceError

TYPE_VMMOUSE = "vmmouse"
TYPE_I8042 = "i8042"
QUEUE_SIZE = 1024
PACKET_WORDS = 4
MAX_DATA_WORDS = 6
STATUS_DISABLED = 0xFFFF

# COMMAND arguments (EBX).
READ_ID = 0x45414552
DISABLE = 0x000000F5
REQUEST_RELATIVE = 0x4C455252
REQUEST_ABSOLUTE = 0x53424152
VERSION = 0x3442554A

# Packet bits.
RELATIVE_PACKET = 0x00010000
LEFT_BUTTON = 0x20
RIGHT_BUTTON = 0x10
MIDDLE_BUTTON = 0x08
#: The user interface's button bits (QEMU's ``MOUSE_EVENT_*``) and the packet's.
BUTTONS = ((0x01, LEFT_BUTTON), (0x02, RIGHT_BUTTON), (0x04, MIDDLE_BUTTON))
REG_ORDER = ("eax", "ebx", "ecx", "edx", "esi", "edi")
VMMOUSE_COMMANDS = (VmportCommand.VMMOUSE_STATUS, VmportCommand.VMMOUSE_COMMAND, VmportCommand.VMMOUSE_DATA)


class VmmouseCore:
    """The queue and the protocol; ``ps2_nudge()`` makes the PS/2 mouse report a fake movement.

    ``handler_active`` says whether pointer events reach the device (QEMU
    registers its mouse handler with the user interface then).
    """

    def __init__(self, ps2_nudge: Callable[[], None] = lambda: None):
        self._ps2_nudge = ps2_nudge
        self.queue: list[int] = []
        self.status = STATUS_DISABLED
        self.absolute = False
        self.handler_active = False

    def reset(self) -> None:
        self.queue.clear()
        self._disable()

    def command(self, regs: Regs, _offset: int = 0) -> int:
        """Commands 39-41 of the backdoor: change ``regs`` as the guest expects; returns EAX."""
        data = [regs[name] & 0xFFFFFFFF for name in REG_ORDER]
        command = data[2] & 0xFFFF
        if command == VmportCommand.VMMOUSE_STATUS:
            data[0] = (self.status << 16) | len(self.queue)
        elif command == VmportCommand.VMMOUSE_COMMAND:
            self._command(data[1])
        elif command == VmportCommand.VMMOUSE_DATA:
            self._data(data, data[1])
        for name, value in zip(REG_ORDER, data, strict=True):
            regs[name] = value
        return data[0]

    def mouse_event(self, x: int, y: int, dz: int, buttons_state: int) -> None:
        """A pointer event from the user interface (absolute x/y in 0-0x7fff, or deltas)."""
        if not self.handler_active or len(self.queue) > QUEUE_SIZE - PACKET_WORDS:
            return
        buttons = 0
        for ui_bit, packet_bit in BUTTONS:
            if buttons_state & ui_bit:
                buttons |= packet_bit
        if self.absolute:
            x, y = x << 1, y << 1
        else:
            buttons |= RELATIVE_PACKET
        self.queue += [buttons, x & 0xFFFFFFFF, y & 0xFFFFFFFF, dz & 0xFFFFFFFF]
        self._ps2_nudge()  # the guest's PS/2 driver learns that a packet waits

    def _command(self, arg: int) -> None:
        if arg == DISABLE:
            self._disable()
        elif arg == READ_ID:
            if len(self.queue) < QUEUE_SIZE:
                self.queue.append(VERSION)
                self.status = 0
                self._update_handler(self.absolute)
        elif arg in (REQUEST_RELATIVE, REQUEST_ABSOLUTE):
            self._update_handler(arg == REQUEST_ABSOLUTE)
        # QEMU prints "vmmouse: unknown command" for anything else.

    def _data(self, data: list[int], size: int) -> None:
        if size == 0 or size > MAX_DATA_WORDS or size > len(self.queue):
            self._disable()  # the driver asked for too much
            return
        data[:size] = self.queue[:size]
        del self.queue[:size]

    def _update_handler(self, absolute: bool) -> None:
        if self.status == 0:
            self.absolute = absolute
            self.handler_active = True

    def _disable(self) -> None:
        self.status = STATUS_DISABLED
        self.handler_active = False


def _ps2_fake_event(i8042: Any) -> None:
    """QEMU's ``i8042_isa_mouse_fake_event``: the PS/2 mouse reports a one-count movement."""
    mouse = getattr(getattr(i8042, "ps2mouse", None), "core", None)
    fake_event = getattr(mouse, "fake_event", None)
    if callable(fake_event):
        fake_event()


@register_type
class VmmouseState(IsaDevice):
    """The VMware mouse (type ``vmmouse``); its ``i8042`` link names the keyboard controller."""

    TYPE = TYPE_VMMOUSE
    CATEGORY = "Input devices"

    @classmethod
    def class_init(cls) -> None:
        link = cls.class_property_add(
            "i8042", STR, lambda dev: dev.i8042.canonical_path() if dev.i8042 is not None else "",
            VmmouseState._set_i8042, type=f"link<{TYPE_I8042}>",
        )
        link.link_target = TYPE_I8042
        cls.class_property_add("legacy-i8042", STR, type="str")  # as QEMU: neither readable nor writable

    def __init__(self) -> None:
        super().__init__()
        self.i8042: Object | None = None
        self.core = VmmouseCore(lambda: _ps2_fake_event(self.i8042))

    def _set_i8042(self, path: str) -> None:
        self.check_settable("i8042")
        self.i8042 = resolve_link(self.root(), path, "i8042", TYPE_I8042) if path else None

    def realize(self) -> None:
        if self.i8042 is None:
            raise DeviceError("'i8042' link is not set")
        vmport, _ambiguous = resolve_path(qdev_get_machine(self) or self.root(), "", TYPE_VMPORT)
        if not isinstance(vmport, VmportState) or vmport.core is None:
            raise DeviceError("vmmouse needs a machine with vmport")
        for command in VMMOUSE_COMMANDS:
            vmport.core.register(command, self.core.command)

    def reset(self) -> None:
        self.core.reset()


def vmmouse_init(isa_bus: IsaBus, i8042: Object) -> VmmouseState:
    """Create the VMware mouse linked to ``i8042`` (as ``pc_superio_init`` does after ``vmport``)."""
    dev = isa_new(TYPE_VMMOUSE)
    assert isinstance(dev, VmmouseState)
    dev.i8042 = i8042
    isa_realize_and_unref(dev, isa_bus)
    return dev
