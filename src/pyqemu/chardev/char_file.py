"""The ``file`` backend: output to a file, truncated or appended to; optional input file (QMP ``in``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pyqemu.chardev.char_fd import FdChardev, open_path
from pyqemu.qom.object import register_type
from pyqemu.util.errors import ConfigError

if TYPE_CHECKING:
    from pyqemu.util.qemuopts import Opts


@register_type
class FileChardev(FdChardev):
    """``-chardev file,path=P[,append=on]``: what the frontend writes lands in file ``P``."""

    TYPE = "chardev-file"
    BACKEND = "file"

    @classmethod
    def parse_opts(cls, opts: Opts) -> dict[str, Any]:
        path = opts.get("path")
        if path is None:
            raise ConfigError("chardev: file: no filename given")
        return {"out": path, "append": opts.get_bool("append", False)}

    def open(self, data: Mapping[str, Any]) -> bool:
        mode = os.O_APPEND if data.get("append") else os.O_TRUNC
        fd_out = open_path(data["out"], os.O_WRONLY | os.O_CREAT | mode)
        try:
            fd_in = open_path(data["in"], os.O_RDONLY) if "in" in data else -1
        except BaseException:
            os.close(fd_out)
            raise
        self.open_fds(fd_in, fd_out)
        return True
