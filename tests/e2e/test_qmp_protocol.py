"""The QMP wire protocol against QEMU 7.2: the same bytes to both, the same replies back.

Each case is sent on a fresh, negotiated connection, followed by a sentinel
request; everything up to the sentinel's reply must match QEMU's (events'
timestamps aside).  Without QEMU installed the replies are checked against
the expectations written here instead.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .conftest import QEMU, pyqemu_command, wait_for

SENTINEL = b'\n{"execute": "query-target", "id": "sentinel"}'
ARGS = ["-M", "none", "-nodefaults", "-display", "none", "-S"]

#: (name, bytes to send, the kinds of reply expected when QEMU is not there to ask)
CASES: list[tuple[str, bytes, list[str]]] = [
    ("not JSON", b"hello", ["GenericError"]),
    ("array", b"[1, 2]", ["GenericError"]),
    ("string", b'"query-status"', ["GenericError"]),
    ("number", b"42", ["GenericError"]),
    ("no execute", b'{"arguments": {}}', ["GenericError"]),
    ("execute not a string", b'{"execute": 1}', ["GenericError"]),
    ("unknown member", b'{"execute": "query-status", "foo": 1}', ["GenericError"]),
    ("arguments not an object", b'{"execute": "query-status", "arguments": []}', ["GenericError"]),
    ("unexpected argument", b'{"execute": "query-status", "arguments": {"x": 1}}', ["GenericError"]),
    ("missing argument", b'{"execute": "qom-list"}', ["GenericError"]),
    ("wrong argument type", b'{"execute": "qom-list", "arguments": {"path": 1}}', ["GenericError"]),
    ("unknown command", b'{"execute": "no-such-command"}', ["CommandNotFound"]),
    ("odd id", b'{"execute": "query-target", "id": [1, {"a": null}, 2.5, "x"]}', ["return"]),
    ("null id", b'{"execute": "query-target", "id": null}', ["return"]),
    ("single quotes", b"{'execute': 'query-target'}", ["return"]),
    ("two in one write", b'{"execute": "query-target"}{"execute": "query-target"}', ["return", "return"]),
    ("deep nesting", b"[" * 2000 + b"]" * 2000, ["GenericError"]),
    ("not UTF-8", b'{"execute": "\xff\xfe"}', ["GenericError"]),
    ("control character", b'{"execute": "query-\x01status"}', ["GenericError"]),
    ("bad escape", b'{"execute": "\\q"}', ["GenericError"]),
    ("exec-oob without oob", b'{"exec-oob": "query-target"}', ["GenericError"]),
    ("negotiate twice", b'{"execute": "qmp_capabilities"}', ["CommandNotFound"]),
    ("huge string", b'{"execute": "' + b"x" * 100_000 + b'"}', ["CommandNotFound"]),
]


@contextmanager
def server(command: list[str], tmp: Path, name: str) -> Iterator[str]:
    path = str(tmp / f"{name}.sock")
    proc = subprocess.Popen([*command, *ARGS, "-qmp", f"unix:{path},server=on,wait=off"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: os.path.exists(path) or proc.poll() is not None)
        yield path
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def exchange(path: str, payload: bytes) -> list[str]:
    """Negotiate, send ``payload`` then the sentinel; the reply lines before the sentinel's."""
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(path)
    sock.settimeout(10)
    reader = sock.makefile("rb")
    reader.readline()
    sock.sendall(b'{"execute": "qmp_capabilities"}')
    reader.readline()
    sock.sendall(payload + SENTINEL)
    lines = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        line = reader.readline()
        if not line or b'"sentinel"' in line:
            break
        message = json.loads(line)
        message.pop("timestamp", None)
        lines.append(json.dumps(message))
    sock.close()
    return lines


def kinds(lines: list[str]) -> list[str]:
    """Each reply's error class, or its first key (``return``, ``event``)."""
    return [m["error"]["class"] if "error" in m else next(iter(m)) for m in map(json.loads, lines)]


@pytest.fixture(scope="module")
def sockets(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str | None]]:
    tmp = tmp_path_factory.mktemp("qmp")
    with server([*pyqemu_command(), "-accel", "qtest"], tmp, "pyqemu") as ours:
        if QEMU is None:
            yield ours, None
        else:
            with server([QEMU, "-accel", "tcg"], tmp, "qemu") as theirs:
                yield ours, theirs


@pytest.mark.parametrize(("name", "payload", "expected"), CASES, ids=[c[0] for c in CASES])
def test_reply_matches_qemu(sockets: tuple[str, str | None], name: str, payload: bytes,
                            expected: list[str]) -> None:
    ours, theirs = sockets
    got = exchange(ours, payload)
    if theirs is None:
        # QEMU reports some inputs several times (once per bad token); the kinds must match.
        assert set(kinds(got)) == set(expected)
        if len(expected) > 1:
            assert kinds(got) == expected
    else:
        assert got == exchange(theirs, payload)
