"""The qtest protocol: parsing and formatting, and the server answering commands against a small machine.

Expected replies and log lines are what ``qemu-system-x86_64 -M pc -accel tcg
-qtest unix:PATH -qtest-log FILE`` (QEMU 7.2) answered to the same commands.
"""

from __future__ import annotations

import io
import re
from contextlib import ExitStack
from types import SimpleNamespace
from typing import Any

import pytest

from pyqemu.accel.qtest import protocol as p
from pyqemu.accel.qtest.accel import QtestAccel, clock_deadline, clock_now, clock_warp
from pyqemu.accel.qtest.server import QTest
from pyqemu.chardev.char import ChardevContext, ChrEvent, chardev_new
from pyqemu.chardev.char_ringbuf import RingbufChardev
from pyqemu.hw.core.irq import (
    qdev_connect_gpio_out,
    qdev_get_gpio_in,
    qdev_get_gpio_out_named,
    qdev_init_gpio_in,
    qdev_init_gpio_in_named,
    qdev_init_gpio_out,
)
from pyqemu.hw.core.qdev import DeviceState
from pyqemu.memory.address_space import MemorySystem
from pyqemu.memory.region import MemoryRegion, MemoryRegionOps
from pyqemu.qom.object import Container, object_new, register_type
from pyqemu.util.cutils import UINT64_MAX
from pyqemu.util.errors import ConfigError
from pyqemu.util.main_loop import ClockType, MainLoop

RAM_SIZE = 0x10000
PORT_BASE = 0x70

# -- numbers and words -----------------------------------------------------------------


@pytest.mark.parametrize(("text", "value"), [
    ("0x80", 0x80), ("0X1f", 0x1F), ("128", 128), ("010", 8), ("0", 0), ("-1", UINT64_MAX), ("+5", 5),
    ("0xffffffffffffffff", UINT64_MAX),
])
def test_unsigned_words_parse_like_strtoul_base_0(text: str, value: int) -> None:
    assert p.parse_unsigned(text) == value


@pytest.mark.parametrize("text", ["", "0x", "12a", "08", "x1", "1 ", "0x10000000000000000"])
def test_words_that_are_not_whole_numbers_are_refused(text: str) -> None:
    with pytest.raises(p.ProtocolError):
        p.parse_unsigned(text)


def test_signed_words_respect_their_width() -> None:
    assert p.parse_signed("-3", p.INT32_BITS) == -3
    assert p.parse_signed("0x7fffffffffffffff") == (1 << 63) - 1
    with pytest.raises(p.ProtocolError):
        p.parse_signed("0x80000000", p.INT32_BITS)


@pytest.mark.parametrize(("text", "value"), [
    ("\t5", 5), ("-0x1", UINT64_MAX), ("-18446744073709551615", 1), ("00", 0),
])
def test_unsigned_word_edges(text: str, value: int) -> None:
    assert p.parse_unsigned(text) == value


@pytest.mark.parametrize(("text", "message"), [
    ("--1", "invalid number '--1'"), ("+-1", "invalid number '+-1'"), ("1_0", "invalid number '1_0'"),
    ("0x ", "invalid number '0x '"), ("18446744073709551616", "number out of range '18446744073709551616'"),
    ("-18446744073709551616", "number out of range '-18446744073709551616'"),
])
def test_unsigned_word_errors(text: str, message: str) -> None:
    with pytest.raises(p.ProtocolError) as info:
        p.parse_unsigned(text)
    assert str(info.value) == message


def test_signed_word_edges() -> None:
    assert p.parse_signed("-0x8000000000000000") == -(1 << 63)
    assert p.parse_signed("\t-010", p.INT32_BITS) == -8
    assert p.parse_signed("-0x80000000", p.INT32_BITS) == -(1 << 31)
    for text, message in (("9223372036854775808", "number out of range '9223372036854775808'"),
                          ("-2147483649", "number out of range '-2147483649'"),
                          ("5x", "invalid number '5x'")):
        bits = p.INT32_BITS if text.startswith("-2") else p.INT64_BITS
        with pytest.raises(p.ProtocolError) as info:
            p.parse_signed(text, bits)
        assert str(info.value) == message


def test_words_split_on_single_spaces_as_g_strsplit() -> None:
    assert p.split_words("writeb 0  1") == ["writeb", "0", "", "1"]
    assert p.split_words("") == []
    with pytest.raises(p.ProtocolError, match="'outb' needs more arguments"):
        p.arg(["outb", "0x80"], 2)


# -- data words ---------------------------------------------------------------------------


def test_hex_data_is_zero_filled_and_bad_digits_count_as_minus_one() -> None:
    assert p.hex_decode("0x0102", 4) == b"\x01\x02\x00\x00"
    assert p.hex_decode("0xzz1", 2) == b"\xff\x00"  # QEMU read back 0xff00
    assert p.hex_decode("0x1g", 1) == b"\xff"
    assert p.hex_decode("0xg1", 1) == b"\xf1"
    assert p.hex_decode("0x010203", 2) == b"\x01\x02"
    assert p.hex_encode(b"\x78\x56\x34\x12\x00") == "0x7856341200"


@pytest.mark.parametrize(("text", "length", "data", "found"), [
    ("AQIDBAUG", 4, b"\x01\x02\x03\x04", 6),
    ("AQID", 4, b"\x01\x02\x03D", 3),  # QEMU read back 0x01020344: the text's 'D'
    ("A*Q=ID", 4, b"\x01\x08Q=", 2),  # 0x0108513d: '*' skipped, '=' suppresses a byte
    ("AQI", 6, b"AQI\x00\x00\x00", 0),  # an incomplete group decodes to nothing
    ("AQ==", 1, b"\x01", 1),
])
def test_b64write_decodes_in_place_as_glib(text: str, length: int, data: bytes, found: int) -> None:
    assert p.b64_write_data(text, length) == (data, found)


def test_replies_have_qemus_widths() -> None:
    assert p.reply_port_value(0xFF) == "OK 0x00ff\n"
    assert p.reply_port_value(0xFFFFFFFF) == "OK 0xffffffff\n"
    assert p.reply_mem_value(0x12345678) == "OK 0x0000000012345678\n"
    assert p.reply_value(p.b64_encode(bytes.fromhex("7856341200000000"))) == "OK eFY0EgAAAAA=\n"
    assert p.reply_value(p.b64_encode(b"")) == "OK \n"
    assert p.reply_unknown("foo") == "FAIL Unknown command 'foo'\n"
    assert p.irq_line(-3, 5) == "IRQ raise 5\n"
    assert p.irq_line(0, 4) == "IRQ lower 4\n"


def test_log_lines_have_qemus_format() -> None:
    assert p.log_opened(0.0) == "[I 0.000000] OPENED\n"
    assert p.log_received(0.02316, ["outb", "0x80", "0x1"]) == "[R +0.023160] outb 0x80 0x1\n"
    assert p.log_received(1.5, []) == "[R +1.500000]\n"
    assert p.log_sent_prefix(0.028652) + "IRQ raise 4\n" == "[S +0.028652] IRQ raise 4\n"
    assert p.log_closed(0.030485) == "[I +0.030485] CLOSED\n"
    assert p.b64_mismatch(4, 6) == "b64write: data length mismatch (told 4, found 6)\n"


# -- the server against a small machine ------------------------------------------------------


@register_type
class QtestTestGpioDevice(DeviceState):
    """Four unnamed inputs that record their levels, two unnamed outputs, one named input list."""

    TYPE = "test-qtest-gpio"

    def __init__(self) -> None:
        super().__init__()
        self.levels: dict[int, int] = {}
        qdev_init_gpio_in(self, self._set, 4)
        qdev_init_gpio_out(self, 2)
        qdev_init_gpio_in_named(self, self._set_named, "extra", 1)
        self.named: list[int] = []

    def _set(self, n: int, level: int) -> None:
        self.levels[n] = level

    def _set_named(self, n: int, level: int) -> None:
        self.named.append(level)


class Harness:
    """A root, a machine with 64 KiB of RAM and a port at 0x70, a main loop, and a started server."""

    def __init__(self, accel: bool = True, log: str | None = None):
        self.loop = MainLoop()
        self.root = Container()
        self.mem = MemorySystem(None)
        self.ram = MemoryRegion.new_ram(None, "ram", RAM_SIZE)
        self.mem.system_memory.add_subregion(0, self.ram)
        self.port_writes: list[tuple[int, int, int]] = []
        ops = MemoryRegionOps(read=lambda addr, size: 0x1234 + addr,
                              write=lambda addr, value, size: self.port_writes.append((addr, value, size)))
        self.mem.system_io.add_subregion(PORT_BASE, MemoryRegion.new_io(None, ops, "port", 2))
        self.stderr = io.StringIO()
        self.vm: Any = SimpleNamespace(
            root=self.root, machine=SimpleNamespace(memory_system=self.mem), main_loop=self.loop,
            accel=object_new("qtest-accel") if accel else None, stderr=self.stderr,
            cleanup=ExitStack(), event_listeners=[],
        )
        ctx = ChardevContext(self.loop.loop, self.root)
        self.chr = chardev_new("qtest", "chardev-ringbuf", {"size": 1 << 16}, ctx)
        assert isinstance(self.chr, RingbufChardev)
        self.server = QTest()
        self.server.log_path = log
        self.server.start(self.vm, self.chr)

    def cmd(self, line: str) -> str:
        """Send one line; everything the server sent back."""
        self.chr.be_write(line.encode() + b"\n")
        return self.chr.ringbuf_read(1 << 16).decode()

    def close(self) -> None:
        self.server.close()
        self.loop.close()


@pytest.fixture
def qt() -> Any:
    harness = Harness(log="none")
    yield harness
    harness.close()


def test_ports_reach_the_io_space_and_empty_ports_read_all_ones(qt: Harness) -> None:
    assert qt.cmd("endianness") == "OK little\n"
    assert qt.cmd("inb 0x80") == "OK 0x00ff\n"
    assert qt.cmd("inw 0x80") == "OK 0xffff\n"
    assert qt.cmd("inl 0x80") == "OK 0xffffffff\n"
    assert qt.cmd("inb 0x71") == "OK 0x0035\n"
    assert qt.cmd("outb 0x70 0x1234") == "OK\n"
    assert qt.cmd("outw 0x70 0x1234 extra") == "OK\n"
    assert qt.port_writes == [(0, 0x34, 1), (0, 0x1234, 2)]
    assert qt.cmd("outb 0x10000 1") == "FAIL port 0x10000 out of range\n"


def test_memory_reads_and_writes(qt: Harness) -> None:
    assert qt.cmd("writel 0 0x12345678") == "OK\n"
    assert qt.cmd("readq 0") == "OK 0x0000000012345678\n"
    assert qt.cmd("readb 0") == "OK 0x0000000000000078\n"
    assert qt.cmd("read 0 8") == "OK 0x7856341200000000\n"
    assert qt.cmd("b64read 0 8") == "OK eFY0EgAAAAA=\n"
    assert qt.cmd("b64read 0 0") == "OK \n"
    assert qt.cmd("write 0 4 0x0102") == "OK\n"
    assert qt.cmd("read 0 4") == "OK 0x01020000\n"
    assert qt.cmd("write 0 4 0x") == "ERR invalid argument size\n"
    assert qt.cmd("b64write 0 4 AQID") == "OK\n"
    assert qt.cmd("read 0 4") == "OK 0x01020344\n"
    assert qt.cmd("memset 0 3 0x1ff") == "OK\n"
    assert qt.cmd("read 0 4") == "OK 0xffffff44\n"
    assert qt.cmd("memset 0 0 1") == "OK\n"
    assert qt.cmd("writeq 0x100 0x0123456789abcdef") == "OK\n"
    assert qt.cmd("readw 0x100") == "OK 0x000000000000cdef\n"
    assert bytes(qt.ram.ram_view(0x100, 8)) == bytes.fromhex("efcdab8967452301")
    assert qt.cmd("readb 0xffffffffffffffff") == "OK 0x0000000000000000\n"


def test_unknown_and_malformed_commands(qt: Harness) -> None:
    assert qt.cmd("foo bar") == "FAIL Unknown command 'foo'\n"
    assert qt.cmd("module_load a b") == "FAIL\n"
    assert qt.cmd("writeb 0  1") == "FAIL invalid number ''\n"
    assert qt.cmd("readb") == "FAIL 'readb' needs more arguments\n"
    assert qt.cmd("read 0 0") == "FAIL 'read' needs a non-zero size\n"
    assert qt.cmd("") == "FAIL empty command\n"


def test_commands_may_arrive_in_pieces_and_together(qt: Harness) -> None:
    qt.chr.be_write(b"inb 0x8")
    assert qt.chr.ringbuf_read(100) == b""
    qt.chr.be_write(b"0\nendianness\n")
    assert qt.chr.ringbuf_read(100) == b"OK 0x00ff\nOK little\n"


def test_clock_moves_only_by_commands_and_runs_due_timers() -> None:
    qt = Harness()
    try:
        clock = qt.loop.clock(ClockType.VIRTUAL)
        QtestAccel.init_clocks(qt.vm.accel, qt.loop)
        clock.set_enabled(True)  # the VM runs
        fired: list[int] = []
        for expire in (250, 100):
            qt.loop.timer_new(ClockType.VIRTUAL, lambda e=expire: fired.append(clock.now_ns())).mod(expire)
        assert qt.cmd("clock_step") == "OK 100\n"  # to the next deadline
        assert fired == [100]
        assert qt.cmd("clock_step 100") == "OK 200\n"
        assert qt.cmd("clock_set 50") == "OK 200\n"  # never back
        assert qt.cmd("clock_set 1000") == "OK 1000\n"
        assert fired == [100, 250]
        assert qt.cmd("clock_step") == "OK 1000\n"  # no timer: no move
    finally:
        qt.close()


def test_timers_wait_while_the_vm_is_stopped() -> None:
    qt = Harness()
    try:
        QtestAccel.init_clocks(qt.vm.accel, qt.loop)
        fired: list[str] = []
        qt.loop.timer_new(ClockType.VIRTUAL, lambda: fired.append("t")).mod(10)
        assert clock_deadline(qt.loop) == -1
        clock_warp(qt.loop, 500)
        assert clock_now(qt.loop) == 500 and fired == []
    finally:
        qt.close()


def test_clock_commands_need_the_qtest_accelerator() -> None:
    qt = Harness(accel=False)
    try:
        assert qt.cmd("clock_step") == "FAIL Unknown command 'clock_step'\n"
        assert qt.cmd("clock_set 5") == "FAIL Unknown command 'clock_set'\n"
    finally:
        qt.close()


def _add_device(qt: Harness, name: str) -> QtestTestGpioDevice:
    dev = object_new(QtestTestGpioDevice.TYPE)
    assert isinstance(dev, QtestTestGpioDevice)
    qt.root.add_child(name, dev)
    dev.unref()
    return dev


def test_intercepted_inputs_report_level_changes_before_the_reply(qt: Harness) -> None:
    dev = _add_device(qt, "gpiodev")
    assert qt.cmd("irq_intercept_in nonexist") == "FAIL Unknown device\n"
    assert qt.cmd("set_irq_in nonexist unnamed-gpio-in 5 1") == "FAIL Unknown device\n"
    assert qt.cmd("irq_intercept_in gpiodev") == "OK\n"
    assert qt.cmd("irq_intercept_in /gpiodev") == "OK\n"  # the same device again
    assert qt.cmd("irq_intercept_out gpiodev") == "OK\n"
    assert qt.cmd("set_irq_in gpiodev unnamed-gpio-in 3 1") == "IRQ raise 3\nOK\n"
    assert qt.cmd("set_irq_in gpiodev unnamed-gpio-in 3 1") == "OK\n"
    assert qt.cmd("set_irq_in gpiodev unnamed-gpio-in 3 0") == "IRQ lower 3\nOK\n"
    assert qt.cmd("set_irq_in /gpiodev unnamed-gpio-in 2 -3") == "IRQ raise 2\nOK\n"
    assert dev.levels == {3: 0, 2: -3}  # the device still sees its lines
    assert qt.cmd("set_irq_in gpiodev extra 0 1") == "OK\n"  # named lists are not intercepted
    assert dev.named == [1]
    other = _add_device(qt, "other")
    assert qt.cmd("irq_intercept_out other") == "FAIL IRQ intercept already enabled\n"
    assert other.levels == {}


def test_intercepted_outputs_still_reach_their_targets(qt: Harness) -> None:
    src = _add_device(qt, "src")
    dst = _add_device(qt, "dst")
    qdev_connect_gpio_out(src, 1, qdev_get_gpio_in(dst, 0))
    assert qt.cmd("irq_intercept_out src") == "OK\n"
    qdev_get_gpio_out_named(src, None, 1).raise_()
    qdev_get_gpio_out_named(src, None, 0).raise_()
    assert qt.chr.ringbuf_read(100) == b"IRQ raise 1\nIRQ raise 0\n"
    assert dst.levels == {0: 1}


def test_the_log_records_commands_replies_and_notes(tmp_path: Any) -> None:
    log = tmp_path / "qtest.log"
    qt = Harness(log=str(log))
    try:
        qt.cmd("outb 0x80 0x1")
        qt.cmd("write 0 4 0x")
        qt.cmd("b64write 0 4 AQIDBAUG")
        qt.chr.be_event(ChrEvent.CLOSED)
    finally:
        qt.close()
    lines = log.read_text().splitlines()
    shapes = [_mask_time(line) for line in lines]
    assert shapes == [
        "[I T] OPENED",
        "[R +T] outb 0x80 0x1",
        "[S +T] OK",
        "[R +T] write 0 4 0x",
        "ERR invalid argument size",
        "[R +T] b64write 0 4 AQIDBAUG",
        "[S +T] b64write: data length mismatch (told 4, found 6)",
        "[S +T] OK",
        "[I +T] CLOSED",
    ]


def _mask_time(line: str) -> str:
    return re.sub(r"\d+\.\d{6}\]", "T]", line)


def test_the_log_goes_to_stderr_without_a_file_and_nowhere_with_none() -> None:
    qt = Harness(log=None)
    try:
        qt.cmd("endianness")
        assert _mask_time(qt.stderr.getvalue()) == "[I T] OPENED\n[R +T] endianness\n[S +T] OK little\n"
    finally:
        qt.close()
    quiet = Harness(log="none")
    try:
        quiet.cmd("endianness")
        assert quiet.stderr.getvalue() == ""
    finally:
        quiet.close()


def test_qom_properties_of_the_server(qt: Harness) -> None:
    assert [prop.name for prop in qt.server.iter_properties()] == ["type", "chardev", "log"]
    assert qt.server.property_get("log") == "none"
    with pytest.raises(ConfigError, match="Property 'log' can not be set now"):
        qt.server.property_set("log", "x")
    fresh = QTest()
    assert fresh.property_get("chardev") == ""
    fresh.property_set("chardev", "qtest")
    assert fresh.chardev_label == "qtest"
