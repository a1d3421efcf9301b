"""Backends over a pair of plain fds (QEMU's ``chardev-fd``): the base of file, pipe and stdio.

Input is read from ``fd_in`` while the frontend can take it; end of file
closes the input and sends ``CLOSED``, as QEMU does.  Output goes to
``fd_out`` through a non-blocking, queueing :class:`~pyqemu.chardev.char_io.FdWriter`.
"""

from __future__ import annotations

import os
from typing import ClassVar

from pyqemu.chardev.char import Chardev, ChrEvent
from pyqemu.chardev.char_io import FdReader, FdWriter
from pyqemu.qom.object import register_type
from pyqemu.util.errors import ConfigError


def open_path(path: str, flags: int, mode: int = 0o666) -> int:
    """``os.open`` with QEMU's "Could not open 'PATH': reason" on failure."""
    try:
        return os.open(path, flags | os.O_CLOEXEC, mode)
    except OSError as err:
        raise ConfigError(f"Could not open '{path}': {os.strerror(err.errno or 0)}") from err


@register_type
class FdChardev(Chardev):
    """Abstract base of backends that read one fd and write another (type ``chardev-fd``)."""

    TYPE = "chardev-fd"
    ABSTRACT = True
    #: False for fds the process shares (stdin/stdout): never closed nor made non-blocking.
    OWNS_FDS: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.fd_in = -1
        self.fd_out = -1
        self._reader: FdReader | None = None
        self._writer: FdWriter | None = None

    def open_fds(self, fd_in: int, fd_out: int) -> None:
        """Start using the fds (-1: none), as QEMU's ``qemu_chr_open_fd``."""
        self.fd_in, self.fd_out = fd_in, fd_out
        if self.OWNS_FDS:
            for fd in {fd_in, fd_out} - {-1}:
                os.set_blocking(fd, False)
        if fd_out >= 0:
            self._writer = FdWriter(
                self.loop, fd_out, self.write_lock, self._output_failed,
                shared_blocking=not self.OWNS_FDS,
            )
        if fd_in >= 0:
            self._reader = FdReader(self.loop, fd_in, self.read_poll, self.be_write, self._input_ended)

    def chr_write(self, data: bytes) -> int:
        return self._writer.write(data) if self._writer is not None else len(data)

    def update_read_handler(self) -> None:
        if self._reader is not None:
            self._reader.update()

    def _input_ended(self, error: OSError | None) -> None:
        self.be_event(ChrEvent.CLOSED)

    def _output_failed(self, error: OSError) -> None:
        """A write failed (e.g. the reader of a pipe went away): the data is dropped."""

    def close(self) -> None:
        if self._reader is not None:
            self._reader.stop()
        if self._writer is not None:
            self._writer.close()
        if self.OWNS_FDS:
            for fd in {self.fd_in, self.fd_out} - {-1}:
                os.close(fd)
        self.fd_in = self.fd_out = -1
        super().close()
