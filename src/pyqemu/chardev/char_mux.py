"""The ``mux`` backend: up to four frontends sharing one chardev (``-serial mon:stdio``).

All frontends may write; input goes to the one with the focus.  Typing the
escape character (Ctrl-A) and a letter gives commands, as in QEMU: ``h``
help, ``x`` exit, ``s`` commit disks, ``t`` toggle timestamps, ``b`` send a
break, ``c`` move the focus to the next frontend, the escape twice sends it
once.  Input that arrives while the focused frontend is full is kept in a
small buffer per frontend.

Muxes made while the emulator starts report ``OPENED`` only once the
machine is built, when the emulator calls :func:`open_muxes` (QEMU's
"muxes created" notifier); one made later (``chardev-add``) is open at once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pyqemu.chardev.char import CharBackend, Chardev, ChrEvent, chardev_find, chardevs_container
from pyqemu.qom.object import Object, register_type
from pyqemu.util.errors import ConfigError

if TYPE_CHECKING:
    from pyqemu.util.qemuopts import Opts

MAX_MUX = 4
MUX_BUFFER_SIZE = 32
#: Ctrl-A, QEMU's default escape character (``-echr``).
DEFAULT_ESCAPE = 0x01
TERMINATED = b"QEMU: Terminated\n\r"
_HELP = (
    "% h    print this help\n\r",
    "% x    exit emulator\n\r",
    "% s    save disk data back to file (if -snapshot)\n\r",
    "% t    toggle console timestamps\n\r",
    "% b    send break (magic sysrq)\n\r",
    "% c    switch between console and monitor\n\r",
    "% %  sends %\n\r",
)
_CONTROL_LETTERS = 26
_MS_PER_HOUR, _MS_PER_MIN, _MS_PER_SEC = 3_600_000, 60_000, 1000


def help_text(escape: int) -> bytes:
    """What ``C-a h`` prints, naming the escape key as QEMU does."""
    if 0 < escape < _CONTROL_LETTERS:
        head, name = "\n\r", f"C-{chr(escape - 1 + ord('a'))}"
    else:
        head, name = f"\n\rEscape-Char set to Ascii: 0x{escape:02x}\n\r\n\r", "Escape-Char"
    return (head + "".join(line.replace("%", name) for line in _HELP)).encode()


def timestamp(elapsed_ms: int) -> bytes:
    """The ``[HH:MM:SS.mmm] `` put before each line while timestamps are on."""
    hours, rest = divmod(elapsed_ms, _MS_PER_HOUR)
    minutes, rest = divmod(rest, _MS_PER_MIN)
    seconds, millis = divmod(rest, _MS_PER_SEC)
    return f"[{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}] ".encode()


@register_type
class MuxChardev(Chardev):
    """``-chardev ...,mux=on`` or ``mon:DEV``: several frontends on the chardev ``chardev``."""

    TYPE = "chardev-mux"
    BACKEND = "mux"

    def __init__(self) -> None:
        super().__init__()
        self.frontends: list[CharBackend | None] = []
        self.focus = -1
        self.escape = DEFAULT_ESCAPE
        self._got_escape = False
        self._buffers: list[bytearray] = []
        self.timestamps = False
        self._timestamps_start = -1
        self._linestart = False
        self._base = CharBackend()
        self._opened = False  # events pass only once the mux is open

    @classmethod
    def parse_opts(cls, opts: Opts) -> dict[str, Any]:
        if "chardev" not in opts:
            raise ConfigError("chardev: mux: no chardev given")
        return {"chardev": opts.get("chardev")}

    def open(self, data: Mapping[str, Any]) -> bool:
        base = chardev_find(self.ctx.root, data["chardev"])
        if base is None:
            raise ConfigError(f"mux: base chardev {data['chardev']} not found")
        self._base.init(base)
        self._opened = not self.ctx.startup
        return self._opened

    def close(self) -> None:
        for be in self.frontends:
            if be is not None:
                be.chr = None
        self._base.deinit()
        super().close()

    # -- frontends -------------------------------------------------------------

    def attach_frontend(self, be: CharBackend) -> int:
        if len(self.frontends) >= MAX_MUX:
            raise ConfigError(f"Device '{self.label}' is in use")
        self.frontends.append(be)
        self._buffers.append(bytearray())
        return len(self.frontends) - 1

    def detach_frontend(self, be: CharBackend) -> None:
        if be.tag < len(self.frontends) and self.frontends[be.tag] is be:
            self.frontends[be.tag] = None
        if self.be is be:
            self.be = None

    def is_busy(self) -> bool:
        """Always: QEMU 7.2 never lets ``chardev-remove`` take a mux away."""
        return True

    def frontend_focus(self, be: CharBackend) -> None:
        self.set_focus(be.tag)

    def set_focus(self, focus: int) -> None:
        """Give the input to frontend ``focus``; the old one gets ``MUX_OUT``, the new ``MUX_IN``."""
        if self.focus != -1:
            self._send_event(self.focus, ChrEvent.MUX_OUT)
        self.focus = focus
        self.be = self.frontends[focus]  # query-chardev shows the focused frontend
        self._send_event(focus, ChrEvent.MUX_IN)
        self.update_read_handler()

    def _send_event(self, tag: int, event: ChrEvent) -> None:
        be = self.frontends[tag]
        if be is not None and be.event is not None:
            be.event(event)

    def _send_all(self, event: ChrEvent) -> None:
        if not self._opened:
            return
        for tag in range(len(self.frontends)):
            self._send_event(tag, event)

    def be_event(self, event: ChrEvent) -> None:
        """An event the mux makes itself (a break) goes to the focused frontend only."""
        if event is ChrEvent.OPENED:
            self.be_open = True
        elif event is ChrEvent.CLOSED:
            self.be_open = False
        if self.focus != -1:
            self._send_event(self.focus, event)

    def open_all(self) -> None:
        """Send ``OPENED`` to every frontend and count as open from now on."""
        self._opened = True
        self._send_all(ChrEvent.OPENED)
        self.be_open = True

    # -- output ----------------------------------------------------------------

    def chr_write(self, data: bytes) -> int:
        if not self.timestamps:
            return self._base.write(data)
        written = 0
        for index in range(len(data)):
            if self._linestart:
                now = time.monotonic_ns() // 1_000_000
                if self._timestamps_start == -1:
                    self._timestamps_start = now
                self._base.write(timestamp(now - self._timestamps_start))
                self._linestart = False
            written += self._base.write(data[index:index + 1])
            if data[index] == ord("\n"):
                self._linestart = True
        return written

    # -- input from the base chardev ---------------------------------------------

    def _focused(self) -> CharBackend | None:
        return self.frontends[self.focus] if self.focus != -1 else None

    def _fe_room(self) -> int:
        be = self._focused()
        return be.can_receive() if be is not None and be.can_receive is not None else 0

    def _can_read(self) -> int:
        if self.focus == -1:
            return 0
        return MUX_BUFFER_SIZE - len(self._buffers[self.focus]) + self._fe_room()

    def _read(self, data: bytes) -> None:
        run = bytearray()  # input bytes between escape sequences
        for byte in data:
            if self._process_byte(byte):
                run.append(byte)
            elif run:
                self._deliver(bytes(run))
                run.clear()
        if run:
            self._deliver(bytes(run))

    def _deliver(self, data: bytes) -> None:
        """Give input to the focused frontend, keeping what it cannot take yet."""
        be = self._focused()
        if be is None:
            return
        buffer = self._buffers[self.focus]
        if not buffer and be.receive is not None:
            take = min(len(data), self._fe_room())
            if take > 0:
                be.receive(data[:take])
            data = data[take:]
        buffer += data[: MUX_BUFFER_SIZE - len(buffer)]

    def update_read_handler(self) -> None:
        """A frontend changed: listen to the base, and drain the focused frontend's buffer."""
        if self._base.chr is not None and self._base.receive is None:
            self._base.set_handlers(self._can_read, self._read, self._base_event, sync_state=False)
        be = self._focused()
        if be is not None and be.receive is not None:
            buffer = self._buffers[self.focus]
            while buffer and self._fe_room() > 0:
                take = min(len(buffer), self._fe_room())
                chunk = bytes(buffer[:take])
                del buffer[:take]
                be.receive(chunk)
        if self._base.chr is not None:
            self._base.chr.update_read_handler()

    def _process_byte(self, byte: int) -> bool:
        """Handle the escape sequences; True if ``byte`` is input for the frontend."""
        if not self._got_escape:
            if byte == self.escape:
                self._got_escape = True
                return False
            return True
        self._got_escape = False
        if byte == self.escape:
            return True
        command = chr(byte)
        if command in "?h":
            self.write(help_text(self.escape))
        elif command == "x":
            self.write(TERMINATED)
            if self.ctx.request_quit is not None:
                self.ctx.request_quit()
        elif command == "b":
            self.be_event(ChrEvent.BREAK)
        elif command == "c" and self.frontends:
            self.set_focus((self.focus + 1) % len(self.frontends))
        elif command == "t":
            self.timestamps = not self.timestamps
            self._timestamps_start = -1
            self._linestart = False
        return False

    def _base_event(self, event: ChrEvent) -> None:
        """Events of the base chardev (a client connecting) go to every frontend."""
        self._send_all(event)


def open_muxes(root: Object) -> None:
    """Open the muxes made during start-up, once the machine is built (QEMU's ``muxes_opened``)."""
    for chr in chardevs_container(root).children():
        if isinstance(chr, MuxChardev) and not chr.be_open:
            chr.open_all()
