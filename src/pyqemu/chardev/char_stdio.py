"""The ``stdio`` backend: the emulator's own stdin and stdout.

When stdin is a terminal it is put in raw mode while the chardev exists —
no echo, no line editing, no CR/NL translation, 8-bit characters — and with
``signal=off`` Ctrl-C reaches the guest instead of stopping the emulator.
The saved settings are restored when the chardev closes, and at exit in
any case.  Only one chardev may use stdio, as in QEMU.
"""

from __future__ import annotations

import atexit
import os
import termios
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pyqemu.chardev.char import chardevs_container
from pyqemu.chardev.char_fd import FdChardev
from pyqemu.qom.object import register_type
from pyqemu.util.errors import ConfigError

if TYPE_CHECKING:
    from pyqemu.util.qemuopts import Opts

STDIN_FD = 0
STDOUT_FD = 1
# termios attribute list indexes
_IFLAG, _OFLAG, _CFLAG, _LFLAG, _CC = 0, 1, 2, 3, 6
_RAW_IFLAG_OFF = (
    termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP
    | termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON
)
_RAW_LFLAG_OFF = termios.ECHO | termios.ECHONL | termios.ICANON | termios.IEXTEN


def raw_attributes(saved: list[Any], echo: bool, allow_signals: bool) -> list[Any]:
    """The terminal settings QEMU uses for stdio, derived from the ``saved`` ones."""
    attrs = [*saved[:_CC], list(saved[_CC])]
    if not echo:
        attrs[_IFLAG] &= ~_RAW_IFLAG_OFF
        attrs[_OFLAG] |= termios.OPOST
        attrs[_LFLAG] &= ~_RAW_LFLAG_OFF
        attrs[_CFLAG] = (attrs[_CFLAG] & ~(termios.CSIZE | termios.PARENB)) | termios.CS8
        attrs[_CC][termios.VMIN] = 1
        attrs[_CC][termios.VTIME] = 0
    if not allow_signals:
        attrs[_LFLAG] &= ~termios.ISIG
    return attrs


@register_type
class StdioChardev(FdChardev):
    """``-chardev stdio[,signal=on|off]``: the emulator's stdin and stdout."""

    TYPE = "chardev-stdio"
    BACKEND = "stdio"
    OWNS_FDS = False

    def __init__(self) -> None:
        super().__init__()
        self._saved_tty: list[Any] | None = None
        self._allow_signals = True

    @classmethod
    def parse_opts(cls, opts: Opts) -> dict[str, Any]:
        return {"signal": opts.get_bool("signal", True)} if "signal" in opts else {}

    def open(self, data: Mapping[str, Any]) -> bool:
        for other in chardevs_container(self.ctx.root).children():
            if isinstance(other, StdioChardev):
                raise ConfigError("cannot use stdio by multiple character devices")
        self._allow_signals = data.get("signal", True)
        self.open_fds(STDIN_FD, STDOUT_FD)
        if os.isatty(STDIN_FD):
            self._saved_tty = termios.tcgetattr(STDIN_FD)
            atexit.register(self._restore_terminal)
            self.set_echo(False)
        return True

    def set_echo(self, echo: bool) -> None:
        if self._saved_tty is not None:
            attrs = raw_attributes(self._saved_tty, echo, self._allow_signals)
            termios.tcsetattr(STDIN_FD, termios.TCSANOW, attrs)

    def _restore_terminal(self) -> None:
        if self._saved_tty is not None:
            termios.tcsetattr(STDIN_FD, termios.TCSANOW, self._saved_tty)
            self._saved_tty = None

    def close(self) -> None:
        self._restore_terminal()
        atexit.unregister(self._restore_terminal)
        super().close()
