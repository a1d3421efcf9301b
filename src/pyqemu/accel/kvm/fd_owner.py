"""The common part of ``Kvm``, ``KvmVm`` and ``KvmVcpu``: each owns one file descriptor."""

from __future__ import annotations

import os
from types import TracebackType
from typing import Self


class FdOwner:
    """Owns ``_fd`` and closes it once: in :meth:`close` or on leaving a ``with`` block."""

    _fd: int

    @property
    def fd(self) -> int:
        """The file descriptor (-1 once closed)."""
        return self._fd

    def close(self) -> None:
        """Close the fd; harmless when already closed. Subclasses release more first."""
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
