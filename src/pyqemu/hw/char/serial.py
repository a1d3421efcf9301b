"""The 16550A UART: its core (registers, FIFOs, interrupts, timing) and the ``serial`` device.

:class:`Serial16550` is the part of a PC serial port a guest sees through
eight byte-wide registers.  It knows nothing of QOM, buses or chardevs: its
interrupt line, its output, its clock and its timers are passed in, so a
test drives it with a list of IRQ levels and a byte buffer.  The busless
QOM device ``serial`` (:class:`SerialState`) connects it to a chardev and
the main loop; bus devices (``isa-serial``) own one and map its registers.

It behaves as QEMU 7.2's ``hw/char/serial.c`` does where QEMU and the
datasheet differ, and the comments say where.  In particular:

* OUT2 (MCR bit 3) does not gate the interrupt line.  On a PC the UART's
  IRQ output reaches the PIC through a buffer enabled by OUT2; QEMU raises
  the line whatever OUT2 says, and resets MCR to OUT2 set.
* Transmission is instantaneous: a byte written to THR is handed to the
  output at once, so LSR reads THRE|TEMT again right after the write and
  the THRE interrupt is raised again immediately.
* Modem status inputs come only from :meth:`set_modem_status`; at reset
  they read CTS, DSR and DCD asserted, as QEMU's do for a non-tty backend.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from pyqemu.chardev.char import ChrEvent
from pyqemu.hw.core.irq import IrqLine
from pyqemu.hw.core.qdev import DeviceState, qdev_get_machine
from pyqemu.hw.core.qdev_properties import prop_bool, prop_chr, prop_uint32
from pyqemu.memory.region import AccessSizes, Endianness, MemoryRegionOps
from pyqemu.qom.object import register_type
from pyqemu.util.main_loop import NS_PER_SEC, ClockType, Timer

# Register offsets (LCR.DLAB selects DLL/DLM at 0 and 1).
RBR = THR = DLL = 0
IER = DLM = 1
IIR = FCR = 2
LCR = 3
MCR = 4
LSR = 5
MSR = 6
SCR = 7
REG_MASK = 7

IER_RDI = 0x01  # received data available
IER_THRI = 0x02  # transmitter holding register empty
IER_RLSI = 0x04  # receiver line status
IER_MSI = 0x08  # modem status
IER_MASK = 0x0F

IIR_NO_INT = 0x01
IIR_ID = 0x06  # the interrupt-identification bits (CTI adds bit 3)
IIR_MSI = 0x00
IIR_THRI = 0x02
IIR_RDI = 0x04
IIR_RLSI = 0x06
IIR_CTI = 0x0C  # character timeout
IIR_FIFO_ENABLED = 0xC0
IIR_KEEP = 0xF0  # bits an interrupt update leaves alone

FCR_FE = 0x01  # FIFO enable
FCR_RFR = 0x02  # receive FIFO reset (self-clearing)
FCR_XFR = 0x04  # transmit FIFO reset (self-clearing)
FCR_DMS = 0x08  # DMA mode select
FCR_ITL_MASK = 0xC0  # receive trigger level
FCR_STICKY = FCR_ITL_MASK | FCR_DMS | FCR_FE
#: Receive trigger level in bytes for each FCR[7:6] value (16550A).
RX_TRIGGER_LEVELS = {0x00: 1, 0x40: 4, 0x80: 8, 0xC0: 14}

LCR_WLS_MASK = 0x03  # word length - 5
LCR_STB = 0x04  # two stop bits
LCR_PEN = 0x08  # parity enable
LCR_BREAK = 0x40
LCR_DLAB = 0x80

MCR_DTR = 0x01
MCR_RTS = 0x02
MCR_OUT1 = 0x04
MCR_OUT2 = 0x08
MCR_LOOP = 0x10
MCR_MASK = 0x1F

LSR_DR = 0x01  # data ready
LSR_OE = 0x02  # overrun error
LSR_PE = 0x04  # parity error
LSR_FE = 0x08  # framing error
LSR_BI = 0x10  # break interrupt
LSR_THRE = 0x20  # transmit holding register empty
LSR_TEMT = 0x40  # transmitter empty
LSR_INT_ANY = LSR_OE | LSR_PE | LSR_FE | LSR_BI  # the bits behind the line status interrupt

MSR_DCTS = 0x01
MSR_DDSR = 0x02
MSR_TERI = 0x04  # trailing edge of RI
MSR_DDCD = 0x08
MSR_ANY_DELTA = 0x0F
MSR_CTS = 0x10
MSR_DSR = 0x20
MSR_RI = 0x40
MSR_DCD = 0x80
MSR_LINES = 0xF0

FIFO_SIZE = 16
DEFAULT_BAUDBASE = 115200
RESET_DIVIDER = 12  # 9600 baud from the standard 1.8432 MHz / 16 clock
RESET_CHAR_TIME_NS = (NS_PER_SEC // 9600) * 10  # 8N1 at 9600 baud
#: The character timeout fires after four character times without FIFO activity.
TIMEOUT_CHARS = 4

SetIrq = Callable[[int], None]
Output = Callable[[bytes], object]
NowNs = Callable[[], int]
NewTimer = Callable[[Callable[[], None]], Timer]


class Serial16550:
    """A 16550A UART: :meth:`read` / :meth:`write` its registers, feed it with :meth:`receive`.

    ``set_irq(level)`` drives the interrupt line (called on changes only);
    ``output(data)`` takes transmitted bytes; ``now_ns`` and ``new_timer``
    are the virtual clock and its timer factory; ``accept_input`` is called
    when the guest made room for input (QEMU's ``qemu_chr_fe_accept_input``);
    ``wakeup`` is called on input when the port may wake a suspended guest.
    """

    def __init__(
        self,
        set_irq: SetIrq,
        output: Output,
        now_ns: NowNs,
        new_timer: NewTimer,
        *,
        baudbase: int = DEFAULT_BAUDBASE,
        accept_input: Callable[[], None] | None = None,
        wakeup: Callable[[], None] | None = None,
    ):
        self._set_irq = set_irq
        self._output = output
        self._now_ns = now_ns
        self._accept_input = accept_input
        self._wakeup = wakeup
        self.baudbase = baudbase
        self._timeout_timer = new_timer(self._character_timeout)
        self._irq_level: int | None = None
        self.rx_fifo: deque[int] = deque()
        self.tx_fifo: deque[int] = deque()
        self.fcr = 0
        self.reset()

    # -- state ----------------------------------------------------------------

    def reset(self) -> None:
        """Power-on state, as QEMU's reset leaves it (FCR is kept, as QEMU keeps it)."""
        self.divider = RESET_DIVIDER
        self.rbr = 0
        self.thr = 0
        self.ier = 0
        self.iir = IIR_NO_INT
        self.lcr = 0
        self.mcr = MCR_OUT2
        self.lsr = LSR_TEMT | LSR_THRE
        self.msr = MSR_DCD | MSR_DSR | MSR_CTS
        self.scr = 0
        self.char_time_ns = RESET_CHAR_TIME_NS
        self.thr_ipending = False
        self.timeout_ipending = False
        self._timeout_timer.delete()
        self.rx_fifo.clear()
        self.tx_fifo.clear()
        self._irq_level = None
        self._drive_irq(0)

    @property
    def fifo_enabled(self) -> bool:
        return bool(self.fcr & FCR_FE)

    @property
    def rx_trigger_level(self) -> int:
        return RX_TRIGGER_LEVELS[self.fcr & FCR_ITL_MASK]

    @property
    def speed(self) -> int:
        """The current baud rate."""
        return self.baudbase // self.divider if self.divider else 0

    @property
    def irq_level(self) -> int:
        return self._irq_level or 0

    # -- register access ------------------------------------------------------

    def read(self, offset: int, size: int = 1) -> int:
        """A guest read of register ``offset`` (0-7); side effects as on the chip."""
        reg = offset & REG_MASK
        if reg == RBR:
            return self.divider & 0xFF if self.lcr & LCR_DLAB else self._read_rbr()
        if reg == IER:
            return self.divider >> 8 if self.lcr & LCR_DLAB else self.ier
        if reg == IIR:
            return self._read_iir()
        if reg == LCR:
            return self.lcr
        if reg == MCR:
            return self.mcr
        if reg == LSR:
            return self._read_lsr()
        if reg == MSR:
            return self._read_msr()
        return self.scr

    def write(self, offset: int, value: int, size: int = 1) -> None:
        """A guest write of ``value`` to register ``offset`` (0-7)."""
        reg = offset & REG_MASK
        value &= 0xFF
        if reg == THR:
            if self.lcr & LCR_DLAB:
                self._set_divider((self.divider & 0xFF00) | value)
            else:
                self._write_thr(value)
        elif reg == IER:
            if self.lcr & LCR_DLAB:
                self._set_divider((self.divider & 0x00FF) | (value << 8))
            else:
                self._write_ier(value)
        elif reg == FCR:
            self._write_fcr(value)
        elif reg == LCR:
            self.lcr = value
            self._update_parameters()
        elif reg == MCR:
            self.mcr = value & MCR_MASK
        elif reg == SCR:
            self.scr = value
        # LSR and MSR are read-only: writes are ignored.

    # -- input ------------------------------------------------------------------

    def can_receive(self) -> int:
        """How many bytes the UART takes now (flow control towards the chardev).

        With the FIFO on, QEMU offers only enough bytes to reach the trigger
        level, then one at a time, so the guest sees its interrupt before the
        FIFO fills.  Quirk kept from QEMU: with exactly trigger-level bytes
        queued it offers none until the guest reads one.
        """
        if not self.fifo_enabled:
            return 0 if self.lsr & LSR_DR else 1
        count = len(self.rx_fifo)
        if count >= FIFO_SIZE:
            return 0
        itl = self.rx_trigger_level
        return itl - count if count <= itl else 1

    def receive(self, data: bytes) -> None:
        """Bytes arriving on the line (the chardev, or the transmitter in loopback)."""
        if not data:
            return
        if self._wakeup is not None:
            self._wakeup()
        if self.fifo_enabled:
            for byte in data:
                self._rx_fifo_put(byte)
            self.lsr |= LSR_DR
            self._arm_timeout()
        else:
            # Without FIFO there is one holding register: only the first
            # byte is taken, and an unread byte is overwritten (overrun).
            if self.lsr & LSR_DR:
                self.lsr |= LSR_OE
            self.rbr = data[0]
            self.lsr |= LSR_DR
        self._update_irq()

    def receive_break(self) -> None:
        """A break condition on the line: a NUL byte with LSR.BI (QEMU's CHR_EVENT_BREAK)."""
        self.rbr = 0
        if self.fifo_enabled:
            self._rx_fifo_put(0)
        self.lsr |= LSR_BI | LSR_DR
        self._update_irq()

    def set_modem_status(self, lines: int) -> None:
        """Set the modem input lines (MSR bits 7-4: DCD, RI, DSR, CTS) and their delta bits."""
        old = self.msr
        self.msr = (self.msr & ~MSR_LINES) | (lines & MSR_LINES)
        if self.msr == old:
            return
        self.msr |= ((self.msr ^ old) >> 4) & MSR_ANY_DELTA
        # TERI flags only the trailing edge of RI, a 1 -> 0 change.
        if not old & MSR_RI:
            self.msr &= ~MSR_TERI
        self._update_irq()

    def set_baudbase(self, baudbase: int) -> None:
        """Change the reference clock (QEMU's ``serial_set_frequency``)."""
        self.baudbase = baudbase
        self._update_parameters()

    # -- registers, one by one ------------------------------------------------

    def _read_rbr(self) -> int:
        if self.fifo_enabled:
            value = self.rx_fifo.popleft() if self.rx_fifo else 0
            if not self.rx_fifo:
                self.lsr &= ~(LSR_DR | LSR_BI)
            else:
                self._arm_timeout()
            self.timeout_ipending = False
        else:
            value = self.rbr
            self.lsr &= ~(LSR_DR | LSR_BI)
        self._update_irq()
        # In loopback mode the line is disconnected: no more input from it.
        if not self.mcr & MCR_LOOP and self._accept_input is not None:
            self._accept_input()
        return value

    def _read_iir(self) -> int:
        value = self.iir
        # Reading IIR while it reports THRE acknowledges that interrupt.
        if value & IIR_ID == IIR_THRI:
            self.thr_ipending = False
            self._update_irq()
        return value

    def _read_lsr(self) -> int:
        value = self.lsr
        # Break and overrun are cleared by reading LSR (PE/FE never happen here).
        if self.lsr & (LSR_BI | LSR_OE):
            self.lsr &= ~(LSR_BI | LSR_OE)
            self._update_irq()
        return value

    def _read_msr(self) -> int:
        if self.mcr & MCR_LOOP:
            # Loopback wires the modem outputs to the inputs: DTR->DSR,
            # RTS->CTS, OUT1->RI, OUT2->DCD.  QEMU shows no delta bits here.
            return (
                (self.mcr & (MCR_OUT1 | MCR_OUT2)) << 4
                | (self.mcr & MCR_RTS) << 3
                | (self.mcr & MCR_DTR) << 5
            )
        value = self.msr
        if self.msr & MSR_ANY_DELTA:
            self.msr &= MSR_LINES
            self._update_irq()
        return value

    def _write_thr(self, value: int) -> None:
        self.thr = value
        if self.fifo_enabled:
            # A transmit overrun drops the oldest byte to make room.
            if len(self.tx_fifo) == FIFO_SIZE:
                self.tx_fifo.popleft()
            self.tx_fifo.append(value)
        self.thr_ipending = False
        self.lsr &= ~(LSR_THRE | LSR_TEMT)
        self._update_irq()
        self._transmit()

    def _write_ier(self, value: int) -> None:
        changed = (self.ier ^ value) & IER_MASK
        self.ier = value & IER_MASK
        # Turning THRI on while THR is empty raises the THRE interrupt again,
        # even if reading IIR had acknowledged it: not in the datasheet, but
        # real chips do it and Windows relies on it (QEMU resamples on any
        # change of THRI, as Bochs does).
        if changed & IER_THRI:
            self.thr_ipending = bool(self.ier & IER_THRI and self.lsr & LSR_THRE)
        if changed:
            self._update_irq()

    def _write_fcr(self, value: int) -> None:
        # Switching the FIFOs on or off flushes both.
        if (value ^ self.fcr) & FCR_FE:
            value |= FCR_XFR | FCR_RFR
        if value & FCR_RFR:
            self.lsr &= ~(LSR_DR | LSR_BI)
            self._timeout_timer.delete()
            self.timeout_ipending = False
            self.rx_fifo.clear()
        if value & FCR_XFR:
            # QEMU raises THRE (and its interrupt) on a transmit FIFO reset.
            self.lsr |= LSR_THRE
            self.thr_ipending = True
            self.tx_fifo.clear()
        self.fcr = value & FCR_STICKY
        if self.fcr & FCR_FE:
            self.iir |= IIR_FIFO_ENABLED
        else:
            self.iir &= ~IIR_FIFO_ENABLED
        self._update_irq()

    def _set_divider(self, divider: int) -> None:
        self.divider = divider
        self._update_parameters()

    # -- machinery --------------------------------------------------------------

    def _update_parameters(self) -> None:
        """Recompute the character time from divisor and LCR (frame: start, data, parity, stop)."""
        if self.divider == 0 or self.divider > self.baudbase:
            return
        data_bits = (self.lcr & LCR_WLS_MASK) + 5
        stop_bits = 2 if self.lcr & LCR_STB else 1
        parity_bits = 1 if self.lcr & LCR_PEN else 0
        frame_bits = 1 + data_bits + parity_bits + stop_bits
        self.char_time_ns = (NS_PER_SEC // self.speed) * frame_bits

    def _transmit(self) -> None:
        """Shift out everything pending; the output never refuses data here."""
        while not self.lsr & LSR_THRE:
            if self.fifo_enabled:
                tsr = self.tx_fifo.popleft()
                if not self.tx_fifo:
                    self.lsr |= LSR_THRE
            else:
                tsr = self.thr
                self.lsr |= LSR_THRE
            if self.lsr & LSR_THRE and not self.thr_ipending:
                self.thr_ipending = True
                self._update_irq()
            if self.mcr & MCR_LOOP:
                self.receive(bytes((tsr,)))
            else:
                self._output(bytes((tsr,)))
        self.lsr |= LSR_TEMT

    def _rx_fifo_put(self, byte: int) -> None:
        # A receive overrun keeps the FIFO contents and drops the new byte.
        if len(self.rx_fifo) < FIFO_SIZE:
            self.rx_fifo.append(byte)
        else:
            self.lsr |= LSR_OE

    def _arm_timeout(self) -> None:
        self._timeout_timer.mod(self._now_ns() + self.char_time_ns * TIMEOUT_CHARS)

    def _character_timeout(self) -> None:
        # Data has sat in the receive FIFO for four character times.
        if self.rx_fifo:
            self.timeout_ipending = True
            self._update_irq()

    def _pending_interrupt(self) -> int:
        """The IIR code of the highest-priority pending interrupt."""
        if self.ier & IER_RLSI and self.lsr & LSR_INT_ANY:
            return IIR_RLSI
        # IER.RDI masks the timeout interrupt too: not in the datasheet, but
        # real hardware does it.
        if self.ier & IER_RDI and self.timeout_ipending:
            return IIR_CTI
        if (
            self.ier & IER_RDI
            and self.lsr & LSR_DR
            and (not self.fifo_enabled or len(self.rx_fifo) >= self.rx_trigger_level)
        ):
            return IIR_RDI
        if self.ier & IER_THRI and self.thr_ipending:
            return IIR_THRI
        if self.ier & IER_MSI and self.msr & MSR_ANY_DELTA:
            return IIR_MSI
        return IIR_NO_INT

    def _update_irq(self) -> None:
        pending = self._pending_interrupt()
        self.iir = pending | (self.iir & IIR_KEEP)
        self._drive_irq(0 if pending == IIR_NO_INT else 1)

    def _drive_irq(self, level: int) -> None:
        if level != self._irq_level:
            self._irq_level = level
            self._set_irq(level)


# -- the QOM device ("serial") -----------------------------------------------------


def serial_io_ops(core: Serial16550) -> MemoryRegionOps:
    """Port I/O callbacks for the UART's eight byte-wide registers."""
    return MemoryRegionOps(
        read=core.read, write=core.write, endianness=Endianness.LITTLE, impl=AccessSizes(1, 1)
    )


def _no_irq(level: int) -> None:
    pass


@register_type
class SerialState(DeviceState):
    """The UART as a device (type ``serial``), its line a chardev; the bus wrappers own it.

    A wrapper (``isa-serial``) sets :attr:`irq_line` and realizes it, then maps
    :func:`serial_io_ops` of :attr:`core`.  Timers run on the virtual clock of
    the machine's host main loop.
    """

    TYPE = "serial"
    USER_CREATABLE = False
    PROPERTIES = (
        prop_chr("chardev"),
        prop_uint32("baudbase", default=DEFAULT_BAUDBASE),
        prop_bool("wakeup", default=False),
    )

    def __init__(self) -> None:
        super().__init__()
        self.irq_line: IrqLine | None = None
        self.core: Serial16550 | None = None

    def realize(self) -> None:
        host = qdev_get_machine(self).host
        loop = host.main_loop
        clock = loop.clock(ClockType.VIRTUAL)
        be = self.chardev
        self.core = Serial16550(
            self.irq_line.set if self.irq_line is not None else _no_irq,
            be.write,
            clock.now_ns,
            lambda callback: loop.timer_new(ClockType.VIRTUAL, callback),
            baudbase=self.baudbase,
            accept_input=be.accept_input,
            wakeup=(lambda: host.wakeup("other")) if self.wakeup else None,
        )
        be.set_handlers(self.core.can_receive, self.core.receive, self._event)

    def unrealize(self) -> None:
        self.chardev.set_handlers(None, None, None)
        if self.core is not None:
            self.core.reset()  # stops its timer
            self.core = None

    def reset(self) -> None:
        if self.core is not None:
            self.core.reset()

    def _event(self, event: ChrEvent) -> None:
        if event is ChrEvent.BREAK and self.core is not None:
            self.core.receive_break()
