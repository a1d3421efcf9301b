"""The qtest server: ``-qtest CHARDEV`` lets a test poke I/O ports, memory, IRQ lines and the clock.

QEMU's ``softmmu/qtest.c``, for clients such as QEMU's own libqtest: the
test listens on a socket, starts the emulator with ``-qtest unix:PATH`` and
sends one command per line; each gets one reply line, possibly after
``IRQ raise N`` / ``IRQ lower N`` notices (wire format in
:mod:`pyqemu.accel.qtest.protocol`).  The server is the QOM object
``/machine/qtest`` (type ``qtest``, properties ``chardev`` and ``log``).

Every command and reply is logged, with the seconds since the client
connected, to the ``-qtest-log`` file — or to stderr without one, and
nowhere with ``-qtest-log none`` — exactly as QEMU logs them.

A malformed command (a missing or non-numeric argument) makes QEMU abort
on an assertion; pyqemu answers ``FAIL`` and a reason instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from pyqemu.accel.qtest import protocol as p
from pyqemu.accel.qtest.accel import is_qtest_accel
from pyqemu.chardev.char import CharBackend, Chardev, ChrEvent
from pyqemu.qom.object import Object, register_type
from pyqemu.qom.property import STR
from pyqemu.util.errors import ConfigError, QemuError

if TYPE_CHECKING:
    from pyqemu.hw.core.qdev import DeviceState
    from pyqemu.memory.address_space import AddressSpace, MemorySystem
    from pyqemu.system.emulator import Emulator

TYPE_QTEST = "qtest"
CHARDEV_LABEL = "qtest"
LOG_NONE = "none"
MAX_PORT = 0xFFFF
UNNAMED_GPIO_IN = "unnamed-gpio-in"
#: Access width of each command's last letter (``outw``, ``readq``).
WIDTHS = {"b": 1, "w": 2, "l": 4, "q": 8}
LITTLE_ENDIAN = "little"

Handler = Callable[["QTest", list[str]], str]
_COMMANDS: dict[str, Handler] = {}
#: Commands that exist only under the qtest accelerator (``qtest_enabled()``).
_CLOCK_COMMANDS = frozenset({"clock_step", "clock_set"})


def command(*names: str) -> Callable[[Handler], Handler]:
    """Register a handler for the named commands; it returns the reply line."""

    def register(handler: Handler) -> Handler:
        for name in names:
            _COMMANDS[name] = handler
        return handler

    return register


@register_type
class QTest(Object):
    """The qtest server (QOM type ``qtest``): reads commands from its chardev and answers them."""

    TYPE = TYPE_QTEST

    @classmethod
    def class_init(cls) -> None:
        cls.class_property_add("chardev", STR, lambda o: o.chardev_label or "", QTest._set_chardev)
        cls.class_property_add("log", STR, lambda o: o.log_path or "", QTest._set_log)

    def __init__(self) -> None:
        super().__init__()
        self.chardev_label: str | None = None
        self.log_path: str | None = None
        self.vm: Emulator | None = None
        self.be = CharBackend()
        self._inbuf = b""
        self._log: TextIO | None = None
        self._own_log = False
        self._opened = False
        self._opened_at = 0.0
        self._irq_levels: dict[int, int] = {}
        self.intercepted: DeviceState | None = None
        self._empty_memory: MemorySystem | None = None

    def _set_chardev(self, value: str) -> None:
        if self.vm is not None:
            raise ConfigError("Property 'chardev' can not be set now")
        self.chardev_label = value

    def _set_log(self, value: str) -> None:
        if self.vm is not None:
            raise ConfigError("Property 'log' can not be set now")
        self.log_path = value

    # -- life ------------------------------------------------------------------

    def start(self, vm: Emulator, chr: Chardev) -> None:
        """Open the log and take ``chr`` as the command channel (``qtest_server_start``)."""
        self.vm = vm
        self._log = _open_log(self.log_path, vm.stderr)
        self._own_log = self._log is not None and self._log is not vm.stderr
        self.be.init(chr)
        self.be.set_handlers(lambda: p.CAN_READ, self.receive, self._event)
        self.be.set_echo(True)

    def close(self) -> None:
        """Disconnect and let go of the chardev and the log (at exit); the log notes the close."""
        if self._opened:
            self._event(ChrEvent.CLOSED)
        self.be.deinit()
        if self._log is not None:
            if self._own_log:
                self._log.close()
            else:
                self._log.flush()
            self._log = None

    def finalize(self) -> None:
        self.close()
        super().finalize()

    @property
    def driving(self) -> bool:
        """True while the server has its channel (QEMU's ``qtest_driver()``): a kill is then not reported."""
        return self.be.chr is not None

    # -- the channel -------------------------------------------------------------

    def _elapsed(self) -> float:
        return time.monotonic() - self._opened_at if self._opened else 0.0

    def _write_log(self, text: str) -> None:
        if self._log is not None:
            self._log.write(text)
            self._log.flush()

    def _event(self, event: ChrEvent) -> None:
        if event is ChrEvent.OPENED:
            self._irq_levels.clear()
            self._opened_at = time.monotonic()
            self._opened = True
            self._write_log(p.log_opened(0.0))
        elif event is ChrEvent.CLOSED:
            self._write_log(p.log_closed(self._elapsed()))
            self._opened = False

    def send(self, text: str, *, prefix: bool = True) -> None:
        """Send one line to the client, logging it (with the ``[S +T]`` prefix unless told not to)."""
        if self._opened and prefix:
            self._write_log(p.log_sent_prefix(self._elapsed()))
        self.be.write(text.encode("latin-1", "replace"))
        if self._opened:
            self._write_log(text)

    def log_note(self, text: str) -> None:
        """A line for the log only (``qtest_log_send``)."""
        if self._opened:
            self._write_log(p.log_sent_prefix(self._elapsed()) + text)

    def receive(self, data: bytes) -> None:
        """Bytes from the client: run every complete line."""
        self._inbuf += data
        while (end := self._inbuf.find(b"\n")) >= 0:
            line, self._inbuf = self._inbuf[:end], self._inbuf[end + 1:]
            self.process_line(line.decode("latin-1"))

    def process_line(self, line: str) -> None:
        """Log, run and answer one command line (``qtest_process_command``)."""
        words = p.split_words(line)
        self._write_log(p.log_received(self._elapsed(), words))
        try:
            reply = self._dispatch(words)
        except p.ProtocolError as err:
            reply = p.reply_malformed(err)
        except QemuError as err:
            reply = p.reply_malformed(p.ProtocolError(err.desc))
        self.send(reply, prefix=reply != p.ERR_ARGUMENT_SIZE)

    def _dispatch(self, words: list[str]) -> str:
        if not words:
            raise p.ProtocolError("empty command")
        name = words[0]
        handler = _COMMANDS.get(name)
        if handler is None or (name in _CLOCK_COMMANDS and not is_qtest_accel(self.emulator.accel)):
            return p.reply_unknown(name)
        return handler(self, words)

    # -- what commands reach -------------------------------------------------------

    @property
    def emulator(self) -> Emulator:
        assert self.vm is not None, "qtest server used before start()"
        return self.vm

    def memory(self) -> MemorySystem:
        """The machine's memory; a machine without one looks empty (ports all ones, memory zeros)."""
        found = machine_memory(self.emulator.machine)
        if found is not None:
            return found
        if self._empty_memory is None:
            from pyqemu.memory.address_space import MemorySystem

            self._empty_memory = MemorySystem(None)
        return self._empty_memory

    def device(self, path: str) -> DeviceState | None:
        """The device at a QOM path, full or partial; None if none or ambiguous."""
        from pyqemu.hw.core.qdev import DeviceState
        from pyqemu.qom.path import resolve_path

        found, _ = resolve_path(self.emulator.root, path)
        return found if isinstance(found, DeviceState) else None

    def irq_changed(self, n: int, level: int) -> None:
        """An intercepted line was driven: tell the client if its level changed."""
        if self._irq_levels.get(n, 0) != level:
            self._irq_levels[n] = level
            self.send(p.irq_line(level, n))


def machine_memory(machine: Any) -> MemorySystem | None:
    """A machine's MemorySystem: ``machine.memory_system``, else its main system bus's, else None."""
    if machine is None:
        return None
    found = getattr(machine, "memory_system", None)
    if found is not None:
        return found  # type: ignore[no-any-return]
    from pyqemu.hw.core.bus import main_system_bus

    bus = main_system_bus(machine)
    return getattr(bus, "memory", None)


def _open_log(path: str | None, stderr: TextIO) -> TextIO | None:
    """The log: stderr by default, nothing for ``none``; a file that cannot be made means no log."""
    if path is None:
        return stderr
    if path == LOG_NONE:
        return None
    try:
        return open(path, "w+")  # closed by QTest.close
    except OSError:
        return None


# -- IRQ lines -----------------------------------------------------------------------------


@command("irq_intercept_in", "irq_intercept_out")
def _irq_intercept(qt: QTest, words: list[str]) -> str:
    from pyqemu.hw.core.irq import irq_intercept_in, qdev_intercept_gpio_out

    dev = qt.device(p.arg(words, 1))
    if dev is None:
        return p.FAIL_UNKNOWN_DEVICE
    if qt.intercepted is not None:
        return p.OK if qt.intercepted is dev else p.FAIL_INTERCEPT_ENABLED
    for ngl in list(dev.gpios):
        if ngl.name is not None:
            continue  # QEMU 7.2 intercepts only the unnamed lists
        if words[0] == "irq_intercept_out":
            qdev_intercept_gpio_out(dev, None, qt.irq_changed)
        else:
            irq_intercept_in(ngl.inputs, qt.irq_changed)
    qt.intercepted = dev
    return p.OK


@command("set_irq_in")
def _set_irq_in(qt: QTest, words: list[str]) -> str:
    from pyqemu.hw.core.irq import qdev_get_gpio_in_named

    dev = qt.device(p.arg(words, 1))
    if dev is None:
        return p.FAIL_UNKNOWN_DEVICE
    name: str | None = p.arg(words, 2)
    if name == UNNAMED_GPIO_IN:
        name = None
    num = p.parse_signed(p.arg(words, 3), p.INT32_BITS)
    level = p.parse_signed(p.arg(words, 4), p.INT32_BITS)
    qdev_get_gpio_in_named(dev, name, num).set(level)
    return p.OK


# -- I/O ports and memory ---------------------------------------------------------------------


def _port(words: list[str]) -> int:
    addr = p.parse_unsigned(p.arg(words, 1))
    if addr > MAX_PORT:
        raise p.ProtocolError(f"port {addr:#x} out of range")
    return addr


@command("outb", "outw", "outl")
def _out(qt: QTest, words: list[str]) -> str:
    addr = _port(words)
    value = p.parse_unsigned(p.arg(words, 2))
    qt.memory().address_space_io.write(addr, value, WIDTHS[words[0][3]])
    return p.OK


@command("inb", "inw", "inl")
def _in(qt: QTest, words: list[str]) -> str:
    addr = _port(words)
    return p.reply_port_value(qt.memory().address_space_io.read(addr, WIDTHS[words[0][2]]))


def _ram(qt: QTest) -> AddressSpace:
    return qt.memory().address_space_memory


@command("writeb", "writew", "writel", "writeq")
def _write_value(qt: QTest, words: list[str]) -> str:
    addr = p.parse_unsigned(p.arg(words, 1))
    value = p.parse_unsigned(p.arg(words, 2))
    _ram(qt).write(addr, value, WIDTHS[words[0][5]])
    return p.OK


@command("readb", "readw", "readl", "readq")
def _read_value(qt: QTest, words: list[str]) -> str:
    addr = p.parse_unsigned(p.arg(words, 1))
    return p.reply_mem_value(_ram(qt).read(addr, WIDTHS[words[0][4]]))


def _addr_len(words: list[str]) -> tuple[int, int]:
    return p.parse_unsigned(p.arg(words, 1)), p.parse_unsigned(p.arg(words, 2))


@command("read")
def _read(qt: QTest, words: list[str]) -> str:
    addr, length = _addr_len(words)
    if length == 0:
        raise p.ProtocolError("'read' needs a non-zero size")
    return p.reply_value(p.hex_encode(_ram(qt).read_bytes(addr, length)))


@command("b64read")
def _b64read(qt: QTest, words: list[str]) -> str:
    addr, length = _addr_len(words)
    return p.reply_value(p.b64_encode(_ram(qt).read_bytes(addr, length)))


@command("write")
def _write(qt: QTest, words: list[str]) -> str:
    addr, length = _addr_len(words)
    data = p.arg(words, 3)
    if len(data) < p.MIN_DATA_LEN:
        return p.ERR_ARGUMENT_SIZE
    _ram(qt).write_bytes(addr, p.hex_decode(data, length))
    return p.OK


@command("b64write")
def _b64write(qt: QTest, words: list[str]) -> str:
    addr, length = _addr_len(words)
    text = p.arg(words, 3)
    if len(text) < p.MIN_DATA_LEN:
        return p.ERR_ARGUMENT_SIZE
    data, found = p.b64_write_data(text, length)
    if found != length:
        qt.log_note(p.b64_mismatch(length, found))
    _ram(qt).write_bytes(addr, data)
    return p.OK


@command("memset")
def _memset(qt: QTest, words: list[str]) -> str:
    addr, length = _addr_len(words)
    pattern = p.parse_unsigned(p.arg(words, 3)) & 0xFF
    if length:
        _ram(qt).write_bytes(addr, bytes([pattern]) * length)
    return p.OK


# -- the rest ------------------------------------------------------------------------------------


@command("endianness")
def _endianness(qt: QTest, words: list[str]) -> str:
    return p.reply_value(LITTLE_ENDIAN)


@command("module_load")
def _module_load(qt: QTest, words: list[str]) -> str:
    """pyqemu loads its modules itself: there is nothing a client can load (QEMU without modules)."""
    p.arg(words, 2)
    return "FAIL\n"


@command("clock_step")
def _clock_step(qt: QTest, words: list[str]) -> str:
    from pyqemu.accel.qtest.accel import clock_deadline, clock_now, clock_warp

    loop = qt.emulator.main_loop
    assert loop is not None
    step = p.parse_signed(words[1]) if len(words) > 1 else clock_deadline(loop)
    clock_warp(loop, clock_now(loop) + step)
    return p.reply_value(clock_now(loop))


@command("clock_set")
def _clock_set(qt: QTest, words: list[str]) -> str:
    from pyqemu.accel.qtest.accel import clock_now, clock_warp

    loop = qt.emulator.main_loop
    assert loop is not None
    clock_warp(loop, p.parse_signed(p.arg(words, 1)))
    return p.reply_value(clock_now(loop))


# -- set-up ----------------------------------------------------------------------------------------


def qtest_server_init(vm: Emulator) -> QTest:
    """``-qtest SPEC [-qtest-log FILE]``: the chardev ``qtest`` and the server ``/machine/qtest``.

    A chardev that cannot be made is reported, then start-up fails with
    QEMU's ``Failed to initialize device for qtest``.
    """
    assert vm.config is not None and vm.config.qtest_chardev is not None
    spec = vm.config.qtest_chardev
    chr = _new_chardev(vm, spec)
    server = QTest()
    server.chardev_label = chr.label
    server.log_path = vm.config.qtest_log
    if vm.machine is not None:
        vm.machine.add_child(TYPE_QTEST, server)
        server.unref()
    vm.cleanup.callback(server.close)
    server.start(vm, chr)
    return server


def _new_chardev(vm: Emulator, spec: str) -> Chardev:
    """The chardev ``qtest`` from the compact syntax; its own error is printed first, as QEMU does."""
    from pyqemu.chardev.create import CompatSpecError, chardev_new_compat

    assert vm.main_loop is not None
    failed = ConfigError(f'Failed to initialize device for qtest: "{spec}"')
    try:
        chr = chardev_new_compat(CHARDEV_LABEL, spec, vm.main_loop.loop, vm.root)
    except CompatSpecError as err:
        if err.cause is not None:
            vm.report(err.cause.desc)
        raise failed from err
    except QemuError as err:
        vm.report(err.desc)
        raise failed from err
    vm.cleanup.callback(chr.unparent)
    return chr
