"""The chardev core and the simple backends: frontends, events, null, ringbuf, file, pipe, logfile."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from pyqemu.chardev.char import (
    CharBackend,
    ChrEvent,
    chardev_find,
    chardev_remove,
    query_chardev,
)
from pyqemu.chardev.char_ringbuf import RingbufChardev, ringbuf_find
from pyqemu.chardev.create import chardev_new_from_opts, chardev_new_from_qapi
from pyqemu.qom.object import Object
from pyqemu.util.errors import ConfigError

from .conftest import Frontend, run_for, run_until


def new(loop: asyncio.AbstractEventLoop, root: Object, backend: str, id: str, **opts: str):
    return chardev_new_from_opts(backend, id, opts, loop, root)


def test_one_frontend_at_a_time(loop, root) -> None:
    chr = new(loop, root, "null", "n")
    Frontend(chr)
    with pytest.raises(ConfigError, match=r"^Device 'n' is in use$"):
        CharBackend().init(chr)


def test_deinit_frees_the_chardev_and_delete_removes_it(loop, root) -> None:
    chr = new(loop, root, "null", "n")
    front = Frontend(chr)
    assert chr.is_busy() and chr.info()["frontend-open"] is True
    front.be.deinit()
    assert not chr.is_busy() and chr.info()["frontend-open"] is False
    second = CharBackend()
    second.init(chr)
    second.deinit(delete=True)
    assert chardev_find(root, "n") is None


def test_query_chardev_and_remove_errors(loop, root) -> None:
    new(loop, root, "null", "n")
    busy = new(loop, root, "ringbuf", "r")
    Frontend(busy)
    assert query_chardev(root) == [
        {"label": "n", "filename": "null", "frontend-open": False},
        {"label": "r", "filename": "ringbuf", "frontend-open": True},
    ]
    with pytest.raises(ConfigError, match=r"^Chardev 'x' not found$"):
        chardev_remove(root, "x")
    with pytest.raises(ConfigError, match=r"^Chardev 'r' is busy$"):
        chardev_remove(root, "r")
    chardev_remove(root, "n")
    assert [info["label"] for info in query_chardev(root)] == ["r"]
    assert root.property_get("chardevs") == "/chardevs"
    assert busy.canonical_path() == "/chardevs/r"


def test_null_swallows_and_never_opens(loop, root) -> None:
    chr = new(loop, root, "null", "n")
    front = Frontend(chr)
    assert front.be.write(b"lost") == 4
    assert front.events == [] and not chr.be_open


def test_opened_backend_sends_opened_to_a_late_frontend(loop, root) -> None:
    chr = new(loop, root, "ringbuf", "r")
    assert chr.be_open
    front = Frontend(chr)
    assert front.events == [ChrEvent.OPENED]


def test_ringbuf_keeps_the_latest_bytes_and_wraps(loop, root) -> None:
    chr = new(loop, root, "ringbuf", "r", size="8")
    assert isinstance(chr, RingbufChardev) and chr.size == 8
    chr.write(b"abcdef")
    assert chr.ringbuf_read(4) == b"abcd"
    chr.write(b"ghijkl")  # wraps around the end; overwrites "ef"
    assert chr.count == 8
    assert chr.ringbuf_read(100) == b"efghijkl"[-8:]
    chr.ringbuf_write(b"0123456789ABC")  # longer than the ring: the last 8 survive
    assert chr.ringbuf_read(3) == b"567"
    assert chr.ringbuf_read(10) == b"89ABC"
    assert chr.ringbuf_read(1) == b""
    with pytest.raises(ConfigError, match=r"^size must be greater than zero$"):
        chr.ringbuf_read(0)


def test_ringbuf_size_and_lookup_errors(loop, root) -> None:
    assert new(loop, root, "ringbuf", "d").size == 65536
    with pytest.raises(ConfigError, match=r"^size of ringbuf chardev must be power of two$"):
        new(loop, root, "ringbuf", "r", size="3")
    new(loop, root, "null", "n")
    with pytest.raises(ConfigError, match=r"^n is not a ringbuf device$"):
        ringbuf_find(root, "n")
    with pytest.raises(ConfigError, match=r"^Device 'zz' not found$"):
        ringbuf_find(root, "zz")
    assert ringbuf_find(root, "d").label == "d"


def test_file_truncates_or_appends(loop, root, tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_bytes(b"old\n")
    chr = new(loop, root, "file", "f", path=str(path), append="on")
    chr.write(b"new\n")
    chardev_remove(root, "f")
    assert path.read_bytes() == b"old\nnew\n"
    chr = new(loop, root, "file", "f", path=str(path))
    chr.write(b"only\n")
    assert path.read_bytes() == b"only\n"
    assert chr.filename == "file"


def test_file_input_is_read_then_closed(loop, root, tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_bytes(b"typed input")
    backend = {"type": "file", "data": {"out": str(tmp_path / "o"), "in": str(source)}}
    chr = chardev_new_from_qapi("f", backend, loop, root)
    front = Frontend(chr)
    run_until(loop, lambda: ChrEvent.CLOSED in front.events)
    assert front.data == b"typed input"
    assert front.events == [ChrEvent.OPENED, ChrEvent.CLOSED]


def test_pipe_pair_both_ways(loop, root, tmp_path: Path) -> None:
    base = tmp_path / "p"
    os.mkfifo(f"{base}.in")
    os.mkfifo(f"{base}.out")
    chr = new(loop, root, "pipe", "p", path=str(base))
    front = Frontend(chr)
    to_guest = os.open(f"{base}.in", os.O_WRONLY | os.O_NONBLOCK)
    from_guest = os.open(f"{base}.out", os.O_RDONLY | os.O_NONBLOCK)
    try:
        os.write(to_guest, b"ping")
        run_until(loop, lambda: front.data == b"ping")
        assert front.be.write(b"pong") == 4
        assert os.read(from_guest, 100) == b"pong"
    finally:
        os.close(to_guest)
        os.close(from_guest)
    assert chr.filename == "pipe"


def test_logfile_gets_a_copy(loop, root, tmp_path: Path) -> None:
    log = tmp_path / "log"
    chr = new(loop, root, "ringbuf", "r", logfile=str(log))
    chr.write(b"abc")
    chr.write(b"def")
    assert log.read_bytes() == b"abcdef"


def test_flow_control_reads_only_what_the_frontend_takes(loop, root, tmp_path: Path) -> None:
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    chr = new(loop, root, "pipe", "p", path=str(fifo))
    front = Frontend(chr, room=3)
    writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    try:
        os.write(writer, b"abcdefgh")
        run_until(loop, lambda: len(front.data) == 3)
        run_for(loop, 0.1)
        assert front.data == b"abc"  # the rest stays in the pipe
        front.room = 2
        front.be.accept_input()
        run_until(loop, lambda: len(front.data) == 5)
        run_for(loop, 0.1)
        assert front.data == b"abcde"
        front.room = 100  # no accept_input: the reader looks again by itself
        run_until(loop, lambda: front.data == b"abcdefgh")
    finally:
        os.close(writer)


def test_write_from_another_thread_while_the_loop_runs(loop, root, tmp_path: Path) -> None:
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    chr = new(loop, root, "pipe", "p", path=str(fifo))
    payload = bytes(range(256)) * 2048  # 512 KiB: far more than a pipe holds
    received = bytearray()
    loop.add_reader(reader, lambda: received.extend(os.read(reader, 65536)))
    accepted: list[int] = []
    thread = threading.Thread(target=lambda: accepted.extend(chr.write(payload[i:i + 1000])
                                                             for i in range(0, len(payload), 1000)))
    try:
        thread.start()
        run_until(loop, lambda: len(received) >= len(payload))
        thread.join()
    finally:
        loop.remove_reader(reader)
        os.close(reader)
    assert sum(accepted) == len(payload)
    assert bytes(received) == payload
