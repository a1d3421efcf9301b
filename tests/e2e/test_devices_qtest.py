"""ISA devices of the x86 boards driven through qtest, as QEMU's own device qtests do.

Each test starts the emulator with ``-accel qtest`` (see :mod:`.qtest_client`),
pokes the device's I/O ports and checks what a guest would see: the 16550
UART (``isa-serial``) against a socket chardev, the MC146818 RTC, the debug
exit and debug console ports and the i8042 keyboard controller.  Register
values and exit statuses are QEMU 7.2's (its ``serial``, ``rtc-test`` and
``i8042`` behaviour).
"""

from __future__ import annotations

import datetime
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator

import pytest

from .qtest_client import QtestClient

DEADLINE = 10.0

# 16550 UART at COM1.
COM1 = 0x3F8
UART_RBR = UART_THR = COM1
UART_IER = COM1 + 1
UART_MCR = COM1 + 4
UART_LSR = COM1 + 5
UART_IIR = COM1 + 2
IER_RDI = 0x01
MCR_OUT2 = 0x08
LSR_DR = 0x01
LSR_THRE = 0x20
IIR_NO_INT = 0x01
IIR_RDI = 0x04
COM1_IRQ = 4

# MC146818 RTC.
RTC_INDEX, RTC_DATA = 0x70, 0x71
RTC_SECONDS, RTC_MINUTES, RTC_HOURS = 0x00, 0x02, 0x04
RTC_REG_A, RTC_REG_B, RTC_REG_C, RTC_REG_D = 0x0A, 0x0B, 0x0C, 0x0D
REG_A_UIP = 0x80
REG_A_32KHZ_1024HZ = 0x26
REG_B_24H = 0x02
REG_B_DM = 0x04
REG_B_PIE = 0x40
REG_C_PF = 0x40
REG_C_IRQF = 0x80
REG_D_VRT = 0x80
RTC_IRQ = 8
PERIOD_1024HZ_NS = 976_562  # 32 ticks of the 32.768 kHz clock
TIME_TOLERANCE_S = 2

# i8042 keyboard controller.
KBD_DATA, KBD_STATUS = 0x60, 0x64
KBD_STAT_OBF = 0x01
KBD_CCMD_SELF_TEST = 0xAA
KBD_SELF_TEST_OK = 0x55
KBD_CCMD_RESET = 0xFE

UART_BOARDS = ("pc", "q35", "microvm")
RTC_BOARDS = ("pc", "q35", "microvm")


def poll(condition: Callable[[], bool], what: str, timeout: float = DEADLINE) -> None:
    """Retry ``condition`` (each try is a qtest round trip) until true; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")


# -- interrupt lines ------------------------------------------------------------------------


@pytest.mark.parametrize(("board", "path"), [
    ("pc", "/machine/i440fx/ioapic"), ("q35", "/machine/q35/ioapic"), ("microvm", "/machine/ioapic"),
])
def test_gsi_lines_are_the_inputs_of_an_ioapic_object_where_qemu_has_it(board: str, path: str) -> None:
    with QtestClient(f"-M {board} -nodefaults") as qts:
        assert qts.qmp("qom-get", path=path, property="type") == {"return": "ioapic"}
        assert qts.command("irq_intercept_in ioapic") == "OK"
        assert qts.command(f"irq_intercept_in {path}") == "OK"


# -- UART ---------------------------------------------------------------------------------


@pytest.fixture()
def tmpdir_short() -> Iterator[str]:
    """A short directory (unix socket paths are limited to ~100 bytes)."""
    with tempfile.TemporaryDirectory(prefix="devq-") as path:
        yield path


def uart_args(board: str, sock_path: str) -> str:
    chardev = f"-chardev socket,id=s0,path={sock_path},server=on,wait=off"
    return f"-M {board} -nodefaults {chardev} -device isa-serial,chardev=s0"


def connect(path: str) -> socket.socket:
    """Connect to the emulator's listening socket chardev."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(DEADLINE)
    sock.connect(path)
    return sock


def wait_connected(qts: QtestClient, chardev_id: str) -> None:
    """Wait until the socket chardev reports its client (``query-chardev``'s ``frontend-open``)."""
    def connected() -> bool:
        for chardev in qts.qmp("query-chardev")["return"]:
            if chardev["label"] == chardev_id:
                return "disconnected" not in chardev["filename"]
        return False

    poll(connected, f"chardev {chardev_id} to accept the client")


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_rx(qts: QtestClient, count: int) -> bytes:
    """Read ``count`` bytes from RBR, each after LSR.DR says one is there."""
    data = bytearray()
    for _ in range(count):
        poll(lambda: bool(qts.inb(UART_LSR) & LSR_DR), "LSR.DR")
        data.append(qts.inb(UART_RBR))
    return bytes(data)


@pytest.mark.parametrize("board", UART_BOARDS)
def test_uart_transmits_and_receives_through_a_socket_chardev(board: str, tmpdir_short: str) -> None:
    path = os.path.join(tmpdir_short, "s0")
    with QtestClient(uart_args(board, path)) as qts, connect(path) as peer:
        wait_connected(qts, "s0")
        assert qts.inb(UART_LSR) & LSR_THRE
        assert not qts.inb(UART_LSR) & LSR_DR
        for byte in b"Hi\n":
            qts.outb(UART_THR, byte)
        assert recv_exactly(peer, 3) == b"Hi\n"
        peer.sendall(b"ok?")
        assert read_rx(qts, 3) == b"ok?"
        assert not qts.inb(UART_LSR) & LSR_DR


@pytest.mark.parametrize("board", UART_BOARDS)
def test_uart_receive_interrupt_is_identified_and_cleared_by_reading(board: str, tmpdir_short: str) -> None:
    path = os.path.join(tmpdir_short, "s0")
    with QtestClient(uart_args(board, path)) as qts, connect(path) as peer:
        wait_connected(qts, "s0")
        qts.irq_intercept_in("ioapic")
        qts.outb(UART_IER, IER_RDI)
        qts.outb(UART_MCR, MCR_OUT2)
        assert qts.inb(UART_IIR) & 0x0F == IIR_NO_INT
        assert not qts.get_irq(COM1_IRQ)
        peer.sendall(b"x")
        poll(lambda: qts.inb(UART_IIR) & 0x0F == IIR_RDI, "the receive interrupt")
        assert qts.get_irq(COM1_IRQ)
        assert qts.inb(UART_RBR) == ord("x")
        assert qts.inb(UART_IIR) & 0x0F == IIR_NO_INT
        assert not qts.get_irq(COM1_IRQ)


# -- RTC ----------------------------------------------------------------------------------


def cmos_read(qts: QtestClient, index: int) -> int:
    qts.outb(RTC_INDEX, index)
    return qts.inb(RTC_DATA)


def cmos_write(qts: QtestClient, index: int, value: int) -> None:
    qts.outb(RTC_INDEX, index)
    qts.outb(RTC_DATA, value)


def from_bcd(value: int) -> int:
    return (value >> 4) * 10 + (value & 0x0F)


def rtc_seconds_of_day(qts: QtestClient, decode: Callable[[int], int]) -> int:
    """Hours, minutes and seconds read outside an update cycle, as seconds since midnight."""
    poll(lambda: not cmos_read(qts, RTC_REG_A) & REG_A_UIP, "UIP to clear")
    hours, minutes, seconds = (decode(cmos_read(qts, reg)) for reg in (RTC_HOURS, RTC_MINUTES, RTC_SECONDS))
    return hours * 3600 + minutes * 60 + seconds


def assert_near_host_utc(rtc_seconds: int) -> None:
    now = datetime.datetime.now(datetime.UTC)
    host = now.hour * 3600 + now.minute * 60 + now.second
    diff = (rtc_seconds - host) % 86400
    assert min(diff, 86400 - diff) <= TIME_TOLERANCE_S, (rtc_seconds, host)


@pytest.mark.parametrize("board", RTC_BOARDS)
def test_rtc_reads_host_utc_in_bcd_then_binary(board: str) -> None:
    with QtestClient(f"-M {board} -nodefaults") as qts:
        assert cmos_read(qts, RTC_REG_A) & ~REG_A_UIP == REG_A_32KHZ_1024HZ
        assert cmos_read(qts, RTC_REG_B) == REG_B_24H
        assert cmos_read(qts, RTC_REG_D) == REG_D_VRT
        assert_near_host_utc(rtc_seconds_of_day(qts, from_bcd))
        cmos_write(qts, RTC_REG_B, REG_B_24H | REG_B_DM)
        assert cmos_read(qts, RTC_REG_B) == REG_B_24H | REG_B_DM
        assert_near_host_utc(rtc_seconds_of_day(qts, int))


@pytest.mark.parametrize("board", RTC_BOARDS)
def test_rtc_periodic_interrupt_follows_the_virtual_clock(board: str) -> None:
    with QtestClient(f"-M {board} -nodefaults -rtc clock=vm") as qts:
        qts.irq_intercept_in("ioapic")
        cmos_write(qts, RTC_REG_A, REG_A_32KHZ_1024HZ)
        assert cmos_read(qts, RTC_REG_C) == 0
        cmos_write(qts, RTC_REG_B, REG_B_24H | REG_B_PIE)
        assert cmos_read(qts, RTC_REG_C) == 0  # the virtual clock has not moved
        assert not qts.get_irq(RTC_IRQ)
        qts.clock_step(2 * PERIOD_1024HZ_NS)
        assert qts.get_irq(RTC_IRQ)
        assert cmos_read(qts, RTC_REG_C) == REG_C_IRQF | REG_C_PF
        assert not qts.get_irq(RTC_IRQ)  # reading C lowers the line
        assert cmos_read(qts, RTC_REG_C) == 0  # and clears it
        cmos_write(qts, RTC_REG_B, REG_B_24H)  # as in QEMU, the periodic timer stops with PIE off
        qts.clock_step(2 * PERIOD_1024HZ_NS)
        assert cmos_read(qts, RTC_REG_C) == 0


# -- debug exit and debug console -------------------------------------------------------------


def test_debug_exit_ends_the_emulator_with_value_shifted_or_1() -> None:
    qts = QtestClient("-M pc -nodefaults -device isa-debug-exit,iobase=0x501")
    qts._sock.sendall(b"outb 0x501 0x05\n")
    try:
        status = qts.proc.wait(timeout=DEADLINE)
    finally:
        out, err = qts.proc.communicate()
        qts.quit()
    assert status == (5 << 1) | 1
    assert (out, err) == ("", "")


def test_debugcon_writes_bytes_to_its_chardev_and_reads_back_0xe9(tmpdir_short: str) -> None:
    path = os.path.join(tmpdir_short, "debugcon.log")
    args = f"-M pc -nodefaults -chardev file,id=c0,path={path} -device isa-debugcon,iobase=0xe9,chardev=c0"
    with QtestClient(args) as qts:
        for byte in b"hello\n":
            qts.outb(0xE9, byte)
        assert qts.inb(0xE9) == 0xE9
        poll(lambda: os.path.getsize(path) == 6, "the debugcon file to fill")
    with open(path, "rb") as f:
        assert f.read() == b"hello\n"


# -- i8042 ------------------------------------------------------------------------------------


def test_i8042_self_test_answers_0x55() -> None:
    with QtestClient("-M pc -nodefaults") as qts:
        qts.outb(KBD_STATUS, KBD_CCMD_SELF_TEST)
        poll(lambda: bool(qts.inb(KBD_STATUS) & KBD_STAT_OBF), "the output buffer")
        assert qts.inb(KBD_DATA) == KBD_SELF_TEST_OK
        assert not qts.inb(KBD_STATUS) & KBD_STAT_OBF


def test_i8042_reset_command_asks_for_a_guest_reset() -> None:
    with QtestClient("-M pc -nodefaults") as qts:
        qts.outb(KBD_STATUS, KBD_CCMD_RESET)
        event = qts.wait_event("RESET")
        assert event["data"] == {"guest": True, "reason": "guest-reset"}
        assert qts.qmp("query-status")["return"]["status"] == "running"
