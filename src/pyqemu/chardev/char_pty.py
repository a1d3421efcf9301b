"""The ``pty`` backend: a new pseudo-terminal whose other end a user opens (``screen /dev/pts/N``).

The slave's name is printed ("char device redirected to /dev/pts/N (label X)")
and shown by ``query-chardev`` as ``pty:/dev/pts/N``.  Nobody may have the
slave open: as QEMU does, the backend polls the master for a hang-up every
second while disconnected, sends ``OPENED`` once someone opens the slave and
``CLOSED`` when they close it.  Output written while nobody listens is dropped.
"""

from __future__ import annotations

import asyncio
import os
import select
import tty
from collections.abc import Mapping
from typing import Any

from pyqemu.chardev.char import Chardev, ChrEvent
from pyqemu.chardev.char_io import FdReader, FdWriter
from pyqemu.qom.object import register_type
from pyqemu.util.errors import ConfigError

#: How often a disconnected pty looks for a peer, in seconds (QEMU: 1000 ms).
POLL_INTERVAL = 1.0


def peer_present(master: int) -> bool:
    """True if someone has the slave side open: the master is not hung up."""
    poller = select.poll()
    poller.register(master, select.POLLOUT)
    events = poller.poll(0)
    return bool(events) and not events[0][1] & select.POLLHUP


@register_type
class PtyChardev(Chardev):
    """``-chardev pty``: a pseudo-terminal pair; the guest talks to whoever opens the slave."""

    TYPE = "chardev-pty"
    BACKEND = "pty"

    def __init__(self) -> None:
        super().__init__()
        self.master = -1
        self.pty_name = ""
        self.connected = False
        self._reader: FdReader | None = None
        self._writer: FdWriter | None = None
        self._timer: asyncio.TimerHandle | None = None

    def open(self, data: Mapping[str, Any]) -> bool:
        try:
            master, slave = os.openpty()
        except OSError as err:
            raise ConfigError(f"Failed to create PTY: {os.strerror(err.errno or 0)}") from err
        self.master = master
        self.pty_name = os.ttyname(slave)
        tty.setraw(slave)
        os.close(slave)
        os.set_blocking(master, False)
        self.filename = f"pty:{self.pty_name}"
        self._writer = FdWriter(self.loop, master, self.write_lock, lambda _err: None)
        self.ctx.reporter.printf(f"char device redirected to {self.pty_name} (label {self.label})\n")
        self._poll_peer()
        return False

    def chr_write(self, data: bytes) -> int:
        assert self._writer is not None
        if self.connected or peer_present(self.master):
            self._writer.write(data)
        return len(data)

    def update_read_handler(self) -> None:
        if self._reader is not None:
            self._reader.update()

    def _poll_peer(self) -> None:
        self._timer = None
        if peer_present(self.master):
            self._set_connected(True)
        else:
            self._timer = self.loop.call_later(POLL_INTERVAL, self._poll_peer)

    def _set_connected(self, connected: bool) -> None:
        self.connected = connected
        if connected:
            self._reader = FdReader(self.loop, self.master, self.read_poll, self.be_write, self._hung_up)
            self.be_event(ChrEvent.OPENED)
            self._reader.update()
            return
        if self._reader is not None:
            self._reader.stop()
            self._reader = None
        self.be_event(ChrEvent.CLOSED)
        self._timer = self.loop.call_later(POLL_INTERVAL, self._poll_peer)

    def _hung_up(self, error: OSError | None) -> None:
        self._set_connected(False)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._reader is not None:
            self._reader.stop()
        if self._writer is not None:
            self._writer.close()
        if self.master >= 0:
            os.close(self.master)
            self.master = -1
        super().close()
