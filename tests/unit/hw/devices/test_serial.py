"""The 16550A core against a fake IRQ, a byte buffer and a hand-stepped clock.

Register sequences and values were checked against QEMU 7.2 (``-M pc -S``,
HMP ``o``/``i`` on 0x3f8 with a socket chardev, IRQ 4 watched through the
PIC's IRR with ELCR level mode).
"""

from __future__ import annotations

import pytest

from pyqemu.hw.char import serial as uart
from pyqemu.hw.char.serial import Serial16550
from pyqemu.util.errors import DeviceError

from .conftest import Board, FakeClock, FakeIrq

RESET_CHAR_NS = 1_041_660  # (1e9 // 9600) * 10
TIMEOUT_NS = 4 * RESET_CHAR_NS


class Port:
    """A UART with its fakes: ``out`` collects transmitted bytes."""

    def __init__(self, irq: FakeIrq, clock: FakeClock) -> None:
        self.irq = irq
        self.clock = clock
        self.out = bytearray()
        self.accepted = 0
        self.wakeups = 0
        self.uart = Serial16550(
            irq, self.out.extend, clock.now_ns, clock.new_timer,
            accept_input=self._accept, wakeup=self._wake,
        )

    def _accept(self) -> None:
        self.accepted += 1

    def _wake(self) -> None:
        self.wakeups += 1

    def r(self, reg: int) -> int:
        return self.uart.read(reg, 1)

    def w(self, reg: int, value: int) -> None:
        self.uart.write(reg, value, 1)


@pytest.fixture
def port(irq: FakeIrq, clock: FakeClock) -> Port:
    return Port(irq, clock)


def test_reset_values(port: Port) -> None:
    assert [port.r(reg) for reg in range(8)] == [0x00, 0x00, 0x01, 0x00, 0x08, 0x60, 0xB0, 0x00]
    assert port.uart.char_time_ns == RESET_CHAR_NS
    port.w(uart.LCR, 0x80)
    assert (port.r(uart.DLL), port.r(uart.DLM)) == (0x0C, 0x00)
    assert port.irq.levels == [0]
    assert port.uart.char_time_ns == (1_000_000_000 // 9600) * 7  # LCR now says 5N1


def test_transmit_is_instantaneous(port: Port) -> None:
    port.w(uart.THR, 0x41)
    port.w(uart.THR, 0x42)
    assert bytes(port.out) == b"AB"
    assert port.r(uart.LSR) == 0x60
    assert port.irq.levels == [0]  # THRI not enabled


def test_thre_interrupt_ack_by_iir_read_and_ier_resample(port: Port) -> None:
    port.w(uart.IER, uart.IER_THRI)
    assert port.irq.levels == [0, 1]
    assert port.r(uart.IIR) == 0x02
    assert port.r(uart.IIR) == 0x01  # acknowledged by the read
    assert port.irq.levels == [0, 1, 0]
    port.w(uart.IER, uart.IER_THRI)  # unchanged: nothing happens
    assert port.r(uart.IIR) == 0x01
    port.w(uart.IER, 0)
    port.w(uart.IER, uart.IER_THRI)  # THRI toggled on with THR empty: raised again
    assert port.r(uart.IIR) == 0x02
    port.w(uart.THR, 0x41)  # lowered while THR is full, raised when it empties
    assert port.irq.levels == [0, 1, 0, 1, 0, 1]
    assert port.r(uart.IIR) == 0x02


def test_fcr_transmit_reset_raises_thre(port: Port) -> None:
    port.w(uart.IER, uart.IER_THRI)
    port.r(uart.IIR)
    port.w(uart.FCR, uart.FCR_XFR)
    assert port.r(uart.IIR) == 0x02
    assert port.uart.fcr == 0


def test_out2_does_not_gate_the_irq(port: Port) -> None:
    port.w(uart.MCR, 0)
    port.w(uart.IER, uart.IER_THRI)
    assert port.irq.level == 1


def test_non_fifo_receive(port: Port) -> None:
    port.w(uart.IER, uart.IER_RDI)
    assert port.uart.can_receive() == 1
    port.uart.receive(b"ab")  # one holding register: only the first byte is taken
    assert port.uart.can_receive() == 0
    assert (port.r(uart.IIR), port.r(uart.LSR)) == (0x04, 0x61)
    assert port.irq.level == 1
    assert port.r(uart.RBR) == 0x61
    assert port.accepted == 1
    assert (port.r(uart.LSR), port.r(uart.IIR)) == (0x60, 0x01)
    assert port.irq.levels == [0, 1, 0]
    assert port.wakeups == 1


def test_loopback_overrun_and_line_status_priority(port: Port) -> None:
    port.w(uart.IER, uart.IER_RDI | uart.IER_RLSI)
    port.w(uart.MCR, uart.MCR_LOOP)
    port.w(uart.THR, 0x31)
    port.w(uart.THR, 0x32)
    assert port.out == b""  # loopback: nothing reaches the line
    assert port.r(uart.IIR) == 0x06  # line status beats received data
    assert port.r(uart.LSR) == 0x63  # OE is cleared by this read
    assert port.r(uart.IIR) == 0x04
    assert port.r(uart.LSR) == 0x61
    assert port.r(uart.RBR) == 0x32
    assert port.accepted == 0  # in loopback the line stays disconnected
    assert port.r(uart.LSR) == 0x60


@pytest.mark.parametrize(
    ("mcr", "msr"),
    [(0x1F, 0xF0), (0x11, 0x20), (0x12, 0x10), (0x14, 0x40), (0x18, 0x80), (0x10, 0x00)],
)
def test_loopback_modem_lines(port: Port, mcr: int, msr: int) -> None:
    port.w(uart.MCR, mcr)
    assert port.r(uart.MSR) == msr


def test_mcr_keeps_five_bits(port: Port) -> None:
    port.w(uart.MCR, 0xFF)
    assert port.r(uart.MCR) == 0x1F
    port.w(uart.MCR, 0x08)
    assert port.r(uart.MSR) == 0xB0


def test_fifo_trigger_level_and_overrun(port: Port) -> None:
    port.w(uart.IER, uart.IER_RDI | uart.IER_RLSI)
    port.w(uart.FCR, 0x81)  # FIFO on, trigger at 8 bytes
    assert port.r(uart.IIR) == 0xC1
    port.w(uart.MCR, uart.MCR_LOOP)
    for byte in b"0123456":
        port.w(uart.THR, byte)
    assert port.r(uart.IIR) == 0xC1  # 7 bytes: below the trigger level
    port.w(uart.THR, ord("7"))
    assert port.r(uart.IIR) == 0xC4
    for byte in b"89:;<=>?@":  # 17 bytes in all: the last one overruns
        port.w(uart.THR, byte)
    assert port.r(uart.IIR) == 0xC6
    assert port.r(uart.LSR) == 0x63
    assert port.r(uart.IIR) == 0xC4
    assert bytes(port.r(uart.RBR) for _ in range(16)) == b"0123456789:;<=>?"
    assert port.r(uart.LSR) == 0x60
    assert port.r(uart.RBR) == 0x00  # empty FIFO reads 0
    assert port.r(uart.IIR) == 0xC1


def test_fifo_reset_clears_receive(port: Port) -> None:
    port.w(uart.FCR, 0x01)
    port.uart.receive(b"x")
    port.w(uart.FCR, 0x83)
    assert port.r(uart.LSR) == 0x60
    assert port.r(uart.RBR) == 0x00
    assert port.r(uart.IIR) == 0xC1


def test_character_timeout(port: Port, clock: FakeClock) -> None:
    port.w(uart.IER, uart.IER_RDI)
    port.w(uart.FCR, 0x81)
    port.uart.receive(b"abcde")
    assert port.r(uart.IIR) == 0xC1
    clock.advance(TIMEOUT_NS - 1)
    assert port.r(uart.IIR) == 0xC1
    clock.advance(1)
    assert port.r(uart.IIR) == 0xCC
    assert port.irq.levels == [0, 1]
    assert port.r(uart.RBR) == 0x61  # a read clears the timeout and re-arms it
    assert port.r(uart.IIR) == 0xC1
    assert port.irq.levels == [0, 1, 0]
    clock.advance(TIMEOUT_NS)
    assert port.r(uart.IIR) == 0xCC
    port.w(uart.IER, 0)  # IER.RDI masks the timeout as on real chips
    assert port.r(uart.IIR) == 0xC1
    port.w(uart.IER, uart.IER_RDI)
    assert port.r(uart.IIR) == 0xCC


def test_timeout_follows_baud_rate_and_frame(port: Port, clock: FakeClock) -> None:
    port.w(uart.LCR, 0x80)
    port.w(uart.DLL, 1)
    port.w(uart.DLM, 0)
    port.w(uart.LCR, 0x0E)  # 7 data bits, parity, 2 stop bits: 11-bit frames
    assert port.uart.speed == 115200
    assert port.uart.char_time_ns == (1_000_000_000 // 115200) * 11
    port.w(uart.IER, uart.IER_RDI)
    port.w(uart.FCR, 0xC1)
    port.uart.receive(b"z")
    clock.advance(4 * 8680 * 11)
    assert port.r(uart.IIR) == 0xCC


def test_divisor_latch_read_back(port: Port) -> None:
    port.w(uart.LCR, 0x83)
    port.w(uart.DLL, 0x34)
    port.w(uart.DLM, 0x12)
    assert (port.r(uart.DLL), port.r(uart.DLM)) == (0x34, 0x12)
    port.w(uart.LCR, 0x03)
    assert (port.r(uart.RBR), port.r(uart.IER), port.r(uart.LCR)) == (0x00, 0x00, 0x03)
    assert port.uart.divider == 0x1234


@pytest.mark.parametrize(
    ("fcr", "room"),
    [(0x41, [4, 3, 2, 1, 0, 1]), (0x01, [1, 0, 1, 1])],
)
def test_can_receive_offers_up_to_the_trigger_level(port: Port, fcr: int, room: list[int]) -> None:
    port.w(uart.FCR, fcr)
    offered = []
    for _ in room:
        offered.append(port.uart.can_receive())
        port.uart.receive(b"x")
    assert offered == room


def test_can_receive_full_fifo(port: Port) -> None:
    port.w(uart.FCR, 0xC1)
    port.uart.receive(bytes(16))
    assert port.uart.can_receive() == 0


def test_break(port: Port) -> None:
    port.w(uart.IER, uart.IER_RLSI | uart.IER_RDI)
    port.uart.receive_break()
    assert port.r(uart.IIR) == 0x06
    assert port.r(uart.LSR) == 0x71
    assert port.r(uart.IIR) == 0x04
    assert port.r(uart.RBR) == 0x00
    assert port.r(uart.LSR) == 0x60


def test_modem_status_deltas(port: Port) -> None:
    port.w(uart.IER, uart.IER_MSI)
    assert port.irq.level == 0
    port.uart.set_modem_status(uart.MSR_DCD | uart.MSR_DSR | uart.MSR_RI)  # CTS drops, RI rises
    assert port.r(uart.IIR) == 0x00
    assert port.irq.level == 1
    assert port.r(uart.MSR) == 0xE1  # DCTS only: TERI needs RI falling
    assert port.r(uart.MSR) == 0xE0
    assert port.irq.level == 0
    port.uart.set_modem_status(uart.MSR_DSR)  # RI and DCD fall
    assert port.r(uart.MSR) == 0x2C


def test_interrupt_priorities(port: Port) -> None:
    port.w(uart.IER, 0x0F)
    port.uart.set_modem_status(0)
    port.uart.receive(b"a")
    assert port.r(uart.IIR) == 0x04  # received data beats THRE
    port.uart.receive(b"b")
    assert port.r(uart.IIR) == 0x06  # line status (overrun) beats received data
    assert port.r(uart.LSR) == 0x63
    assert port.r(uart.IIR) == 0x04
    port.r(uart.RBR)
    assert port.r(uart.IIR) == 0x02  # THRE beats modem status; this read acknowledges it
    assert port.r(uart.IIR) == 0x00
    port.r(uart.MSR)
    assert port.r(uart.IIR) == 0x01


def test_scratch_and_read_only_registers(port: Port) -> None:
    port.w(uart.SCR, 0x5A)
    port.w(uart.LSR, 0x00)
    port.w(uart.MSR, 0x00)
    assert (port.r(uart.SCR), port.r(uart.LSR), port.r(uart.MSR)) == (0x5A, 0x60, 0xB0)
    assert port.r(uart.SCR + 8) == 0x5A  # only three address bits are decoded


def test_reset_keeps_fcr_as_qemu_does(port: Port) -> None:
    port.w(uart.FCR, 0xC1)
    port.w(uart.SCR, 1)
    port.uart.reset()
    assert (port.r(uart.IIR), port.r(uart.SCR)) == (0x01, 0x00)
    port.w(uart.IER, uart.IER_THRI)
    assert port.r(uart.IIR) == 0x02
    assert port.r(uart.IIR) == 0x01
    port.w(uart.FCR, 0x00)  # FE was still set: switching it off flushes, raising THRE
    assert port.r(uart.IIR) == 0x02


# -- isa-serial, through its ports -------------------------------------------------------

COM1, COM2 = 0x3F8, 0x2F8


def test_isa_serial_defaults_follow_the_index(board: Board) -> None:
    first = board.create("isa-serial")
    second = board.create("isa-serial")
    fourth = board.create("isa-serial", index=3)
    assert [(d.property_get("index"), d.property_get("iobase"), d.property_get("irq")) for d in
            (first, second, fourth)] == [(0, 0x3F8, 4), (1, 0x2F8, 3), (3, 0x2E8, 3)]
    assert first.property_get("baudbase") == 115200
    assert first.property_get("chardev") == ""
    assert board.inb(COM1 + uart.MCR) == 0x08
    assert board.inb(COM2 + uart.LSR) == 0x60


def test_isa_serial_index_limit(board: Board) -> None:
    with pytest.raises(DeviceError, match=r"^Max\. supported number of ISA serial ports is 4\.$"):
        board.create("isa-serial", index=4)
    for _ in range(4):
        board.create("isa-serial")
    with pytest.raises(DeviceError, match="ISA serial ports is 4"):
        board.create("isa-serial")


def test_isa_serial_aliases_the_uart_properties(board: Board) -> None:
    board.ringbuf("c0")
    dev = board.create("isa-serial", chardev="c0", baudbase=1843200, wakeup=True)
    assert dev.serial.property_get("chardev") == "c0"
    assert dev.serial.property_get("baudbase") == 1843200
    assert dev.property_get("wakeup") is True
    info = dev.property_get_info("chardev")
    assert (info.type, info.description) == ("str", "ID of a chardev to use as a backend")
    assert dev.property_get_info("baudbase").default == 115200
    assert dev.child("serial[0]").typename == "memory-region"


def test_isa_serial_output_input_and_irq(board: Board) -> None:
    chr = board.ringbuf("c0")
    board.create("isa-serial", chardev="c0")
    for byte in b"hi\n":
        board.outb(COM1, byte)
    assert chr.ringbuf_read(16) == b"hi\n"
    board.outb(COM1 + uart.IER, uart.IER_RDI)
    assert chr.be_can_write() == 1
    chr.be_write(b"x")
    assert board.irqs[4] == [0, 1]
    assert board.inb(COM1 + uart.IIR) == 0x04
    assert board.inb(COM1) == ord("x")
    assert board.irqs[4] == [0, 1, 0]
    assert board.host.wakeups == []


def test_isa_serial_timeout_on_the_virtual_clock(board: Board) -> None:
    chr = board.ringbuf("c0")
    board.create("isa-serial", chardev="c0", wakeup=True)
    board.outb(COM1 + uart.IER, uart.IER_RDI)
    board.outb(COM1 + uart.FCR, 0x81)
    chr.be_write(b"ab")
    assert board.host.wakeups == ["other"]
    board.host.step(TIMEOUT_NS - 1)
    assert board.inb(COM1 + uart.IIR) == 0xC1
    board.host.step(1)
    assert board.inb(COM1 + uart.IIR) == 0xCC


def test_isa_serial_break_and_reset(board: Board) -> None:
    from pyqemu.chardev.char import ChrEvent

    chr = board.ringbuf("c0")
    dev = board.create("isa-serial", chardev="c0")
    chr.be_event(ChrEvent.BREAK)
    assert board.inb(COM1 + uart.LSR) == 0x71
    board.outb(COM1 + uart.SCR, 0x42)
    dev.reset()
    assert (board.inb(COM1 + uart.SCR), board.inb(COM1 + uart.LSR)) == (0x00, 0x60)
