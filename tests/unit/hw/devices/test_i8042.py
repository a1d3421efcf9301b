"""The i8042 core with its PS/2 keyboard and mouse, driven through ports 0x60 / 0x64.

Sequences and values were checked against QEMU 7.2 (``-M pc -S``, HMP
``o``/``i`` on ports 0x60 and 0x64; IRQ 12 watched through the PIC's IRR in
ELCR level mode, IRQ 1 through its edge).
"""

from __future__ import annotations

import pytest

from pyqemu.hw.input import i8042 as kbc
from pyqemu.hw.input.i8042 import I8042Core
from pyqemu.util.errors import DeviceError

from .conftest import Board, FakeIrq

DATA, CMD = kbc.REG_DATA, kbc.REG_COMMAND


class Controller:
    def __init__(self) -> None:
        self.kbd_irq = FakeIrq()
        self.mouse_irq = FakeIrq()
        self.a20 = FakeIrq()
        self.resets = 0
        self.core = I8042Core(self.kbd_irq, self.mouse_irq, self._reset, self.a20)

    def _reset(self) -> None:
        self.resets += 1

    def status(self) -> int:
        return self.core.read(kbc.REG_STATUS)

    def data(self) -> int:
        return self.core.read(DATA)

    def command(self, cmd: int, *args: int) -> None:
        self.core.write(CMD, cmd)
        for arg in args:
            self.core.write(DATA, arg)

    def send(self, *values: int) -> None:
        for value in values:
            self.core.write(DATA, value)

    def drain(self) -> list[int]:
        out = []
        while self.status() & kbc.STAT_OBF:
            out.append(self.data())
        return out

    def mouse(self, *values: int) -> list[int]:
        for value in values:
            self.command(kbc.CCMD_WRITE_MOUSE, value)
        return self.drain()


@pytest.fixture
def ctl() -> Controller:
    return Controller()


def test_power_on_state(ctl: Controller) -> None:
    assert ctl.status() == 0x18
    assert ctl.kbd_irq.levels == [0] and ctl.mouse_irq.levels == [0]
    assert ctl.data() == 0x00


def test_read_mode_raises_irq1_and_empty_reads_repeat(ctl: Controller) -> None:
    ctl.command(kbc.CCMD_READ_MODE)
    assert ctl.status() == 0x19
    assert ctl.kbd_irq.levels == [0, 1]
    assert ctl.data() == 0x03
    assert ctl.status() == 0x18
    assert ctl.kbd_irq.levels == [0, 1, 0]
    assert ctl.data() == 0x03  # empty: the last byte again


def test_write_mode_and_translation(ctl: Controller) -> None:
    ctl.command(kbc.CCMD_WRITE_MODE, 0x43)
    assert ctl.status() == 0x18  # the command bit never changes
    ctl.command(kbc.CCMD_READ_MODE)
    assert ctl.drain() == [0x43]
    ctl.send(0xF2)
    assert ctl.drain() == [0xFA, 0xAB, 0x41]
    ctl.send(0xF0, 0x00)
    assert ctl.drain() == [0xFA, 0x41]
    ctl.send(0xF0, 0x03)
    ctl.send(0xF0, 0x00)
    assert ctl.drain() == [0xFA, 0x3F]


def test_self_and_interface_tests(ctl: Controller) -> None:
    ctl.command(kbc.CCMD_SELF_TEST)
    assert ctl.status() == 0x1D
    assert ctl.data() == 0x55
    assert ctl.status() == 0x1C
    for cmd, reply in [(0xAB, 0x00), (0xA9, 0x00), (0xD0, 0xCF), (0xC0, 0x80)]:
        ctl.command(cmd)
        assert ctl.drain() == [reply]
    ctl.command(0xA1)  # unsupported: no reply
    assert ctl.status() == 0x1C


def test_keyboard_probe_as_linux_does_it(ctl: Controller) -> None:
    ctl.send(0xFF)
    assert ctl.drain() == [0xFA, 0xAA]
    ctl.send(0xF2)
    assert ctl.drain() == [0xFA, 0xAB, 0x83]  # untranslated MF2 id
    ctl.send(0xF5)
    assert ctl.drain() == [0xFA]
    assert not ctl.core.keyboard.scan_enabled
    ctl.send(0xED, 0x07)
    assert ctl.drain() == [0xFA]
    assert ctl.core.keyboard.leds == 0x07
    ctl.send(0xF4)
    assert ctl.drain() == [0xFA]
    ctl.send(0xEE)
    assert ctl.drain() == [0xEE]
    ctl.send(0xF0, 0x00)
    assert ctl.drain() == [0xFA, 0x02]
    for value, reply in [(0xF0, 0xFA), (0x05, 0xFE), (0x99, 0xFE), (0x00, 0xFA)]:
        ctl.send(value)
        assert ctl.drain() == [reply]


def test_new_keyboard_command_drops_unread_replies(ctl: Controller) -> None:
    ctl.send(0xF2)
    ctl.send(0xF4)
    assert ctl.drain() == [0xFA]
    ctl.send(0xF0)
    ctl.send(0x00)
    assert ctl.drain() == [0xFA, 0x02]


def test_keyboard_replies_go_before_scancodes(ctl: Controller) -> None:
    ctl.core.keyboard.put_scancodes(b"\x1c\xf0\x1c")
    assert ctl.data() == 0x1C
    ctl.send(0xEE)
    assert ctl.drain() == [0xEE, 0xF0, 0x1C]


def test_scancodes_dropped_while_scanning_off_and_queue_limit(ctl: Controller) -> None:
    ctl.send(0xF5)
    ctl.drain()
    ctl.core.keyboard.put_scancodes(b"\x1c")
    assert ctl.status() == 0x18
    ctl.send(0xF4)
    ctl.drain()
    ctl.core.keyboard.put_scancodes(bytes(range(1, 21)))
    assert ctl.drain() == list(range(1, 17))


def test_aux_obuf_and_irq12(ctl: Controller) -> None:
    ctl.command(kbc.CCMD_WRITE_AUX_OBUF, 0x5A)
    assert ctl.status() == 0x39
    assert ctl.mouse_irq.levels == [0, 1]
    ctl.command(kbc.CCMD_MOUSE_DISABLE)  # does not touch the line
    assert ctl.mouse_irq.levels == [0, 1]
    ctl.command(kbc.CCMD_WRITE_MODE, 0x00)  # interrupt enables act at once
    assert ctl.mouse_irq.levels == [0, 1, 0]
    assert ctl.status() == 0x39
    ctl.command(kbc.CCMD_WRITE_MODE, 0x02)
    assert ctl.mouse_irq.levels == [0, 1, 0, 1]
    assert ctl.data() == 0x5A
    assert ctl.status() == 0x18
    assert ctl.mouse_irq.levels == [0, 1, 0, 1, 0]
    ctl.command(kbc.CCMD_WRITE_OBUF, 0xA5)
    assert ctl.status() == 0x19
    assert ctl.drain() == [0xA5]


def test_controller_byte_waits_for_a_full_buffer(ctl: Controller) -> None:
    ctl.command(kbc.CCMD_READ_MODE)
    ctl.command(kbc.CCMD_WRITE_MOUSE, 0xF2)
    assert ctl.status() == 0x19
    assert ctl.data() == 0x03
    assert ctl.status() == 0x39
    assert ctl.drain() == [0xFA, 0x00]
    ctl.command(kbc.CCMD_WRITE_AUX_OBUF, 0x11)
    ctl.command(kbc.CCMD_WRITE_OBUF, 0x22)  # replaces the unread byte, keeps the mouse flag
    assert ctl.status() == 0x39
    assert ctl.drain() == [0x22]


def test_disabled_keyboard_holds_its_data(ctl: Controller) -> None:
    ctl.command(kbc.CCMD_WRITE_MODE, 0x13)
    ctl.command(kbc.CCMD_WRITE_MOUSE, 0xF2)
    ctl.send(0xEE)  # writing to the keyboard enables it again
    assert ctl.data() == 0xFA
    assert ctl.status() == 0x19
    assert ctl.data() == 0xEE
    assert ctl.status() == 0x39
    assert ctl.drain() == [0x00]  # the rest of the mouse's reply
    ctl.command(kbc.CCMD_KBD_DISABLE)
    ctl.core.keyboard.put_scancodes(b"\x1c")
    assert ctl.status() == 0x18
    ctl.command(kbc.CCMD_KBD_ENABLE)
    assert ctl.drain() == [0x1C]


def test_mode_disable_bits(ctl: Controller) -> None:
    for cmd, mode in [(0xA7, 0x23), (0xA8, 0x03), (0xAD, 0x13), (0xAE, 0x03)]:
        ctl.command(cmd)
        ctl.command(kbc.CCMD_READ_MODE)
        assert ctl.drain() == [mode]


def test_mouse_commands(ctl: Controller) -> None:
    assert ctl.mouse(0xE9) == [0xFA, 0x00, 0x00, 0x00]  # device reset leaves rate and resolution 0
    assert ctl.mouse(0xF2) == [0xFA, 0x00]
    assert ctl.mouse(0x99) == []  # no answer to unknown commands
    assert ctl.mouse(0xEB) == [0xFA, 0x08, 0x00, 0x00]
    assert ctl.mouse(0xFF) == [0xFA, 0xAA, 0x00]
    assert ctl.mouse(0xE9) == [0xFA, 0x00, 0x02, 0x64]
    assert ctl.mouse(0xF3, 0xC8, 0xF4, 0xE7) == [0xFA, 0xFA, 0xFA, 0xFA]
    assert ctl.mouse(0xE9) == [0xFA, 0x30, 0x02, 0xC8]
    assert ctl.mouse(0xEC) == []  # reset-wrap outside wrap mode is unknown


@pytest.mark.parametrize(
    ("rates", "mouse_type"),
    [((200, 100, 80), 3), ((200, 200, 80), 4), ((200, 200, 200, 80), 0), ((100, 200, 100, 80), 3)],
)
def test_mouse_type_knock(ctl: Controller, rates: tuple[int, ...], mouse_type: int) -> None:
    for rate in rates:
        assert ctl.mouse(0xF3, rate) == [0xFA, 0xFA]
    assert ctl.mouse(0xF2) == [0xFA, mouse_type]


def test_mouse_wrap_mode(ctl: Controller) -> None:
    assert ctl.mouse(0xEE) == [0xFA]
    assert ctl.mouse(0x12, 0xF2) == [0x12, 0xF2]
    assert ctl.mouse(0xEC) == [0xFA]
    assert ctl.mouse(0xF2) == [0xFA, 0x00]


def test_output_port_a20_and_reset(ctl: Controller) -> None:
    ctl.command(kbc.CCMD_DISABLE_A20)
    ctl.command(kbc.CCMD_READ_OUTPORT)
    assert ctl.drain() == [0xCD]
    ctl.command(kbc.CCMD_ENABLE_A20)
    ctl.command(kbc.CCMD_READ_OUTPORT)
    assert ctl.drain() == [0xCF]
    assert ctl.a20.levels == [0, 1]
    ctl.command(kbc.CCMD_WRITE_OUTPORT, 0xDD)
    assert (ctl.a20.levels[-1], ctl.resets) == (0, 0)
    ctl.command(kbc.CCMD_WRITE_OUTPORT, 0xDE)  # bit 0 low: reset the machine
    assert (ctl.a20.levels[-1], ctl.resets) == (1, 1)


@pytest.mark.parametrize(("cmd", "resets"), [(0xFE, 1), (0xFC, 1), (0xF0, 1), (0xFF, 0), (0xFD, 0)])
def test_pulse_commands(ctl: Controller, cmd: int, resets: int) -> None:
    ctl.command(cmd)
    assert ctl.resets == resets


def test_reset_clears_pending_data(ctl: Controller) -> None:
    ctl.command(kbc.CCMD_WRITE_MODE, 0x61)
    ctl.send(0xF2)
    ctl.core.reset()
    assert ctl.status() == 0x18
    assert ctl.kbd_irq.levels[-1] == 0
    ctl.command(kbc.CCMD_READ_MODE)
    assert ctl.drain() == [0x03]


# -- the i8042 device, through ports 0x60 / 0x64 ------------------------------------------


def test_i8042_device_layout(board: Board) -> None:
    dev = board.create("i8042")
    names = {prop.name: prop.type for prop in dev.iter_properties()}
    for name, kind in [
        ("kbd-irq", "uint8"), ("mouse-irq", "uint8"), ("extended-state", "bool"), ("kbd-throttle", "bool"),
        ("a20[0]", "link<irq>"), ("ps2kbd", "child<ps2-kbd>"), ("ps2mouse", "child<ps2-mouse>"),
        ("ps2-kbd-input-irq[0]", "child<irq>"), ("ps2-mouse-input-irq[0]", "child<irq>"),
        ("i8042-data[0]", "child<memory-region>"), ("i8042-cmd[0]", "child<memory-region>"),
        ("unnamed-gpio-out[0]", "link<irq>"), ("unnamed-gpio-out[1]", "link<irq>"),
    ]:
        assert names[name] == kind
    assert dev.ps2kbd.parent_bus.name == "main-system-bus"
    assert type(dev).CATEGORY == "Input devices"


def test_i8042_ports_irqs_and_reset_request(board: Board) -> None:
    board.create("i8042")
    assert board.inb(0x64) == 0x18
    board.outb(0x60, 0xF2)  # keyboard identify, through the ps2-kbd device
    assert board.irqs[1] == [1]
    assert [board.inb(0x60) for _ in range(3)] == [0xFA, 0xAB, 0x83]
    board.outb(0x64, 0xD4)
    board.outb(0x60, 0xF2)
    assert board.irqs[12] == [1]
    assert board.inb(0x64) == 0x39
    assert [board.inb(0x60) for _ in range(2)] == [0xFA, 0x00]
    assert board.irqs[12] == [1, 0, 1, 0]
    board.outb(0x64, 0xFE)
    assert board.host.resets == 1


def test_i8042_irq_numbers(board: Board) -> None:
    board.create("i8042", **{"kbd-irq": 5, "mouse-irq": 9})
    board.outb(0x64, 0x20)
    assert board.irqs[5] == [1] and board.irqs[1] == []
    with pytest.raises(DeviceError, match=r'^Maximum value for "kbd-irq" is: 15$'):
        board.create("i8042", **{"kbd-irq": 16})
    with pytest.raises(DeviceError, match=r'^Maximum value for "mouse-irq" is: 15$'):
        board.create("i8042", **{"mouse-irq": 16})


def test_i8042_throttle_needs_extended_state(board: Board) -> None:
    dev = board.create("i8042", **{"extended-state": False, "kbd-throttle": True})
    assert board.host.warnings == [
        "i8042: can't enable kbd-throttle without extended-state, disabling kbd-throttle"
    ]
    assert dev.property_get("kbd-throttle") is False


def test_i8042_reset_resets_controller_and_keyboard(board: Board) -> None:
    from pyqemu.hw.core.reset import reset_machine

    board.create("i8042")
    board.outb(0x64, 0x60)
    board.outb(0x60, 0x43)
    board.outb(0x60, 0xF5)
    reset_machine(board.machine)
    assert board.inb(0x64) == 0x18
    board.outb(0x64, 0x20)
    assert board.inb(0x60) == 0x03


def test_i8042_qtree_as_qemu_prints_it(board: Board) -> None:
    from pyqemu.hw.core.qtree import qtree_info

    board.create("i8042")
    text = qtree_info(board.machine)
    assert '  dev: ps2-mouse, id ""\n    gpio-out "" 1\n  dev: ps2-kbd, id ""\n    gpio-out "" 1\n' in text
    assert text.endswith(
        '      dev: i8042, id ""\n'
        '        gpio-in "ps2-mouse-input-irq" 1\n'
        '        gpio-in "ps2-kbd-input-irq" 1\n'
        '        gpio-out "" 2\n'
        '        gpio-out "a20" 1\n'
        "        extended-state = true\n"
        "        kbd-throttle = false\n"
        "        kbd-irq = 1 (0x1)\n"
        "        mouse-irq = 12 (0xc)\n"
    )
