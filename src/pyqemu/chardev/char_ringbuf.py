"""The ``ringbuf`` backend: a fixed-size ring that keeps the latest bytes written.

What the frontend writes goes into the ring, overwriting the oldest bytes
once it is full; ``ringbuf-read`` takes bytes out and ``ringbuf-write`` puts
bytes in, over QMP.  The size must be a power of two (64 KiB by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pyqemu.chardev.char import Chardev, chardev_find
from pyqemu.qom.object import Object, register_type
from pyqemu.util.errors import ConfigError

if TYPE_CHECKING:
    from pyqemu.util.qemuopts import Opts

DEFAULT_SIZE = 64 * 1024


@register_type
class RingbufChardev(Chardev):
    """``-chardev ringbuf[,size=N]``: a ring buffer of the last ``size`` bytes written."""

    TYPE = "chardev-ringbuf"
    BACKEND = "ringbuf"

    def __init__(self) -> None:
        super().__init__()
        self._ring = bytearray()
        self._prod = 0  # total bytes ever written
        self._cons = 0  # total bytes ever read or overwritten

    @classmethod
    def parse_opts(cls, opts: Opts) -> dict[str, Any]:
        size = opts.get_size("size", 0)
        return {"size": size} if size else {}

    def open(self, data: Mapping[str, Any]) -> bool:
        size = data.get("size") or DEFAULT_SIZE
        if size & (size - 1):
            raise ConfigError("size of ringbuf chardev must be power of two")
        self._ring = bytearray(size)
        return True

    @property
    def size(self) -> int:
        return len(self._ring)

    @property
    def count(self) -> int:
        """Bytes in the ring, waiting to be read."""
        return self._prod - self._cons

    def chr_write(self, data: bytes) -> int:
        tail = data[-self.size:]  # only the last ``size`` bytes can survive
        self._prod += len(data) - len(tail)
        start = self._prod & (self.size - 1)
        first = min(len(tail), self.size - start)
        self._ring[start:start + first] = tail[:first]
        self._ring[:len(tail) - first] = tail[first:]
        self._prod += len(tail)
        self._cons = max(self._cons, self._prod - self.size)
        return len(data)

    def ringbuf_write(self, data: bytes) -> None:
        """``ringbuf-write``: put bytes in as if the frontend had written them."""
        self.write(data)

    def ringbuf_read(self, size: int) -> bytes:
        """``ringbuf-read``: take up to ``size`` of the oldest bytes out."""
        if size <= 0:
            raise ConfigError("size must be greater than zero")
        with self.write_lock:
            count = min(size, self.count)
            mask = self.size - 1
            start = self._cons & mask
            first = min(count, self.size - start)
            out = bytes(self._ring[start:start + first]) + bytes(self._ring[:count - first])
            self._cons += count
        return out


def ringbuf_find(root: Object, device: str) -> RingbufChardev:
    """The ringbuf chardev ``device`` for ``ringbuf-read``/``-write``, or QEMU's error."""
    chr = chardev_find(root, device)
    if chr is None:
        raise ConfigError(f"Device '{device}' not found")
    if not isinstance(chr, RingbufChardev):
        raise ConfigError(f"{device} is not a ringbuf device")
    return chr
