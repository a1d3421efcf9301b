"""A small Python client for the qtest protocol that does what QEMU's libqtest does, in its order.

libqtest (``tests/qtest/libqtest.c``, QEMU 7.2) listens on two unix sockets,
starts the emulator with ``-qtest unix:SOCK -qtest-log /dev/null -chardev
socket,path=QMP,id=char0 -mon chardev=char0,mode=control -display none
EXTRA -accel qtest``, accepts the qtest connection and then the QMP one,
asks ``endianness`` first, then reads the QMP greeting and sends
``qmp_capabilities``.  While it waits for a reply it records ``IRQ raise N``
/ ``IRQ lower N`` lines as they come.  It ends the emulator with SIGTERM
and expects exit status 0.

Device tests drive a board through :class:`QtestClient`::

    with QtestClient("-M pc") as qts:
        qts.outb(0x70, 0x0a)
        assert qts.inb(0x71) == 0x26
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from typing import Any

from .conftest import pyqemu_command

ACCEPT_TIMEOUT = 30.0
POLL_INTERVAL = 0.05
REPLY_TIMEOUT = 30.0
MAX_IRQ = 256


class QtestError(AssertionError):
    """The emulator answered something other than ``OK`` (libqtest asserts there)."""


class QtestClient:
    """One emulator under test: its qtest channel, its QMP monitor and its IRQ levels."""

    def __init__(self, extra_args: str = "", *, log: str = "/dev/null", command: list[str] | None = None):
        self._dir = tempfile.TemporaryDirectory(prefix="qtest-")
        self.sock_path = os.path.join(self._dir.name, "qtest.sock")
        self.qmp_path = os.path.join(self._dir.name, "qtest.qmp")
        qtest_listener = _listen(self.sock_path)
        qmp_listener = _listen(self.qmp_path)
        argv = [
            *(command or pyqemu_command()),
            "-qtest", f"unix:{self.sock_path}", "-qtest-log", log,
            "-chardev", f"socket,path={self.qmp_path},id=char0", "-mon", "chardev=char0,mode=control",
            "-display", "none", *shlex.split(extra_args), "-accel", "qtest",
        ]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        try:
            self._sock = _accept(qtest_listener, self.proc)
            self._qmp = _accept(qmp_listener, self.proc)
        finally:
            qtest_listener.close()
            qmp_listener.close()
        self._rx = self._sock.makefile("rb")
        self._qmp_rx = self._qmp.makefile("rb")
        self.irq_level = [False] * MAX_IRQ
        #: QMP events received and not yet taken by :meth:`wait_event`.
        self.events: list[dict[str, Any]] = []
        self.big_endian = self.command("endianness") == "OK big"
        self.greeting = self._qmp_read()
        self.qmp("qmp_capabilities")

    # -- the qtest channel -------------------------------------------------------

    def _read_line(self) -> str:
        line = self._rx.readline()
        if not line:
            raise QtestError(f"emulator closed the qtest channel; stderr: {self._stderr_so_far()}")
        return line.decode("latin-1").rstrip("\n")

    def _stderr_so_far(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def command(self, line: str) -> str:
        """Send one command; its reply line, after recording any IRQ notices before it."""
        self._sock.sendall(line.encode("latin-1") + b"\n")
        while True:
            reply = self._read_line()
            words = reply.split(" ")
            if words[0] == "IRQ" and len(words) == 3 and words[1] in ("raise", "lower"):
                self.irq_level[int(words[2])] = words[1] == "raise"
                continue
            return reply

    def ok(self, line: str) -> list[str]:
        """Run a command that must succeed; the words after ``OK``."""
        reply = self.command(line)
        words = reply.split(" ")
        if words[0] != "OK":
            raise QtestError(f"{line!r} -> {reply!r}")
        return words[1:]

    def _value(self, line: str) -> int:
        return int(self.ok(line)[0], 16)

    # -- libqtest's helpers --------------------------------------------------------

    def outb(self, port: int, value: int) -> None:
        self.ok(f"outb 0x{port:x} 0x{value:x}")

    def outw(self, port: int, value: int) -> None:
        self.ok(f"outw 0x{port:x} 0x{value:x}")

    def outl(self, port: int, value: int) -> None:
        self.ok(f"outl 0x{port:x} 0x{value:x}")

    def inb(self, port: int) -> int:
        return self._value(f"inb 0x{port:x}")

    def inw(self, port: int) -> int:
        return self._value(f"inw 0x{port:x}")

    def inl(self, port: int) -> int:
        return self._value(f"inl 0x{port:x}")

    def writeb(self, addr: int, value: int) -> None:
        self.ok(f"writeb 0x{addr:x} 0x{value:x}")

    def writel(self, addr: int, value: int) -> None:
        self.ok(f"writel 0x{addr:x} 0x{value:x}")

    def writeq(self, addr: int, value: int) -> None:
        self.ok(f"writeq 0x{addr:x} 0x{value:x}")

    def readb(self, addr: int) -> int:
        return self._value(f"readb 0x{addr:x}")

    def readl(self, addr: int) -> int:
        return self._value(f"readl 0x{addr:x}")

    def readq(self, addr: int) -> int:
        return self._value(f"readq 0x{addr:x}")

    def memread(self, addr: int, size: int) -> bytes:
        data = self.ok(f"read 0x{addr:x} 0x{size:x}")[0]
        return bytes.fromhex(data[2:])

    def memwrite(self, addr: int, data: bytes) -> None:
        self.ok(f"write 0x{addr:x} 0x{len(data):x} 0x{data.hex()}")

    def bufread(self, addr: int, size: int) -> bytes:
        words = self.ok(f"b64read 0x{addr:x} 0x{size:x}")
        return base64.b64decode(words[0]) if words and words[0] else b""

    def bufwrite(self, addr: int, data: bytes) -> None:
        self.ok(f"b64write 0x{addr:x} 0x{len(data):x} {base64.b64encode(data).decode()}")

    def memset(self, addr: int, pattern: int, size: int) -> None:
        self.ok(f"memset 0x{addr:x} 0x{size:x} 0x{pattern:02x}")

    def clock_step(self, ns: int | None = None) -> int:
        """Advance the virtual clock by ``ns`` (to the next timer without); the new time."""
        return int(self.ok("clock_step" if ns is None else f"clock_step {ns}")[0])

    def clock_set(self, ns: int) -> int:
        return int(self.ok(f"clock_set {ns}")[0])

    def irq_intercept_in(self, qom_path: str) -> None:
        self.ok(f"irq_intercept_in {qom_path}")

    def irq_intercept_out(self, qom_path: str) -> None:
        self.ok(f"irq_intercept_out {qom_path}")

    def set_irq_in(self, qom_path: str, name: str | None, num: int, level: int) -> None:
        self.ok(f"set_irq_in {qom_path} {name or 'unnamed-gpio-in'} {num} {level}")

    def get_irq(self, num: int) -> bool:
        """The last level the emulator reported for intercepted line ``num``."""
        return self.irq_level[num]

    # -- QMP ---------------------------------------------------------------------

    def _qmp_read_message(self) -> dict[str, Any]:
        line = self._qmp_rx.readline()
        if not line:
            raise QtestError(f"emulator closed QMP; stderr: {self._stderr_so_far()}")
        return json.loads(line)  # type: ignore[no-any-return]

    def _qmp_read(self) -> dict[str, Any]:
        """The next reply; events that come first are kept for :meth:`wait_event`."""
        while True:
            message = self._qmp_read_message()
            if "event" not in message:
                return message
            self.events.append(message)

    def wait_event(self, name: str) -> dict[str, Any]:
        """The first event ``name`` not yet taken, waiting for it if none came yet."""
        while True:
            for index, event in enumerate(self.events):
                if event["event"] == name:
                    return self.events.pop(index)
            self.events.append(self._qmp_read_message())

    def qmp(self, execute: str, **arguments: Any) -> dict[str, Any]:
        """Run a QMP command; its whole reply (events are skipped)."""
        request: dict[str, Any] = {"execute": execute}
        if arguments:
            request["arguments"] = arguments
        self._qmp.sendall(json.dumps(request).encode() + b"\n")
        return self._qmp_read()

    # -- the end ------------------------------------------------------------------

    def quit(self) -> int:
        """SIGTERM, as ``qtest_quit`` does; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.communicate(timeout=REPLY_TIMEOUT)
        finally:
            self._sock.close()
            self._qmp.close()
            self._dir.cleanup()
        return self.proc.returncode

    def __enter__(self) -> QtestClient:
        return self

    def __exit__(self, *exc: object) -> None:
        status = self.quit()
        if exc == (None, None, None) and status != 0:
            raise QtestError(f"emulator exited with status {status}")


def _listen(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    sock.listen(1)
    sock.settimeout(POLL_INTERVAL)
    return sock


def _accept(listener: socket.socket, proc: subprocess.Popen[str]) -> socket.socket:
    """The emulator's connection, or an error with its stderr if it exits or hangs first."""
    deadline = time.monotonic() + ACCEPT_TIMEOUT
    while True:
        try:
            conn, _ = listener.accept()
            break
        except TimeoutError:
            if proc.poll() is None and time.monotonic() < deadline:
                continue
            proc.kill()
            _, err = proc.communicate()
            raise QtestError(f"emulator did not connect (status {proc.returncode}); stderr: {err}") from None
    conn.settimeout(REPLY_TIMEOUT)
    return conn
