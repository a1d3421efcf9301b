"""The ``pipe`` backend: a named pipe pair ``PATH.in`` / ``PATH.out``, or one pipe ``PATH``.

As in QEMU, both ``PATH.in`` (read) and ``PATH.out`` (written) are tried
first; if either is missing, ``PATH`` itself is opened for both directions.
Opening read-write keeps a FIFO from blocking while nobody is at the other end.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pyqemu.chardev.char_fd import FdChardev, open_path
from pyqemu.qom.object import register_type
from pyqemu.util.errors import ConfigError

if TYPE_CHECKING:
    from pyqemu.util.qemuopts import Opts


def _try_open(path: str) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return -1


@register_type
class PipeChardev(FdChardev):
    """``-chardev pipe,path=P``: read ``P.in`` and write ``P.out`` (or ``P`` both ways)."""

    TYPE = "chardev-pipe"
    BACKEND = "pipe"

    @classmethod
    def parse_opts(cls, opts: Opts) -> dict[str, Any]:
        path = opts.get("path")
        if path is None:
            raise ConfigError("chardev: pipe: no device path given")
        return {"device": path}

    def open(self, data: Mapping[str, Any]) -> bool:
        path = data["device"]
        fd_in, fd_out = _try_open(path + ".in"), _try_open(path + ".out")
        if fd_in < 0 or fd_out < 0:
            for fd in (fd_in, fd_out):
                if fd >= 0:
                    os.close(fd)
            fd_in = fd_out = open_path(path, os.O_RDWR)
        self.open_fds(fd_in, fd_out)
        return True
