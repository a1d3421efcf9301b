"""A raw QMP connection to the reference QEMU, for tests that compare with it.

Tests using ``reference_qmp`` are skipped when qemu-system-x86_64 is not
installed; they check that the expectations written in the other tests are
what QEMU 7.2 really does.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest

QEMU = shutil.which("qemu-system-x86_64")
REPLY_WAIT = 0.3  # seconds of silence that end a batch of replies
REPLY_TIMEOUT = 5.0  # seconds to wait for an expected reply
EXTRA_WAIT = 0.05  # seconds to wait for replies beyond the expected ones


class RawQmp:
    """Send bytes to a QMP socket; read the replies (fresh parser per connection)."""

    def __init__(self, path: str, *, negotiate: bool = True):
        self._sock = socket.socket(socket.AF_UNIX)
        self._sock.connect(path)
        self._buf = b""
        self.greeting = self.read(1)[0]
        if negotiate:
            self.send(b'{"execute":"qmp_capabilities"}', count=1)

    def read(self, count: int | None = None, wait: float = REPLY_WAIT) -> list[dict[str, Any]]:
        replies: list[dict[str, Any]] = []
        self._sock.settimeout(wait)
        while count is None or len(replies) < count:
            while b"\n" in self._buf and (count is None or len(replies) < count):
                line, self._buf = self._buf.split(b"\n", 1)
                if line.strip():
                    replies.append(json.loads(line))
            if count is not None and len(replies) >= count:
                break
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                break
            if not data:
                break
            self._buf += data
        return replies

    def send(self, data: bytes, count: int | None = None) -> list[dict[str, Any]]:
        """Send ``data``; read ``count`` replies and any extra, or until silence."""
        self._sock.settimeout(None)
        self._sock.sendall(data)
        if count is None:
            return self.read()
        return self.read(count, REPLY_TIMEOUT) + self.read(None, EXTRA_WAIT)

    def close(self) -> None:
        self._sock.close()


class ReferenceQemu:
    """A paused ``-M none`` QEMU with a QMP socket."""

    def __init__(self, path: str):
        self.path = path

    def connect(self, *, negotiate: bool = True) -> RawQmp:
        return RawQmp(self.path, negotiate=negotiate)

    def exchange(
        self, data: bytes, *, expect: int | None = None, negotiate: bool = True
    ) -> list[dict[str, Any]]:
        """Replies to ``data`` on a fresh connection (``expect``: how many are due)."""
        conn = self.connect(negotiate=negotiate)
        try:
            return conn.send(data, expect)
        finally:
            conn.close()

    def texts(self, data: bytes, *, expect: int | None = None, negotiate: bool = True) -> list[str]:
        """:func:`reply_text` of each reply to ``data`` on a fresh connection."""
        replies = self.exchange(data, expect=expect, negotiate=negotiate)
        return [reply_text(r) for r in replies]


@pytest.fixture(scope="session")
def reference_qemu() -> Iterator[ReferenceQemu]:
    if QEMU is None:
        pytest.skip("qemu-system-x86_64 (the reference) is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "qmp.sock")
        proc = subprocess.Popen(
            [QEMU, "-M", "none", "-display", "none", "-nodefaults", "-S",
             "-qmp", f"unix:{path},server=on,wait=off"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while not os.path.exists(path):
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.skip("the reference QEMU did not start")
                time.sleep(0.02)
            yield ReferenceQemu(path)
        finally:
            proc.kill()
            proc.wait()


def reply_text(reply: dict[str, Any]) -> str:
    """An error reply's desc, or ``OK`` for a success."""
    return reply["error"]["desc"] if "error" in reply else "OK"
