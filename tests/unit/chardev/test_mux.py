"""The mux: several frontends on one chardev, focus switching and the Ctrl-A commands.

The help text and the "QEMU: Terminated" line were observed with QEMU 7.2
(``-serial mon:stdio`` under a pty, typing C-a h and C-a x).
"""

from __future__ import annotations

import socket

import pytest

from pyqemu.chardev.char import CharBackend, ChrEvent, chardev_find, chardev_remove, query_chardev
from pyqemu.chardev.char_mux import MuxChardev, help_text, open_muxes, timestamp
from pyqemu.chardev.create import chardev_new_from_opts, chardev_new_from_qapi
from pyqemu.util.errors import ConfigError

from .conftest import Frontend, run_for, run_until

MIN, OUT, OPENED = ChrEvent.MUX_IN, ChrEvent.MUX_OUT, ChrEvent.OPENED


@pytest.fixture
def peer_and_mux(loop, root):
    """A mux ``m`` over a socket chardev ``m-base`` whose other end is ``peer``."""
    ours, peer = socket.socketpair()
    peer.settimeout(5)
    quits: list[bool] = []
    mux = chardev_new_from_opts(
        "socket", "m", {"fd": str(ours.detach()), "mux": "on"}, loop, root,
        request_quit=lambda: quits.append(True),
    )
    assert isinstance(mux, MuxChardev)
    yield peer, mux, quits
    peer.close()


def recv(peer: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        data += peer.recv(size - len(data))
    return data


def test_mux_focus_events_and_input(loop, root, peer_and_mux) -> None:
    peer, mux, _ = peer_and_mux
    monitor, serial = Frontend(mux), Frontend(mux)
    assert monitor.events == [MIN, OUT] and serial.events == [MIN]  # the last one takes the focus
    assert mux.focus == 1 and not mux.be_open
    open_muxes(root)
    assert monitor.events == [MIN, OUT, OPENED] and serial.events == [MIN, OPENED]
    peer.sendall(b"to serial")
    run_until(loop, lambda: serial.data == b"to serial")
    peer.sendall(b"\x01c" + b"to monitor" + b"\x01\x01")
    run_until(loop, lambda: monitor.data == b"to monitor\x01")
    assert serial.events[-1] is OUT and monitor.events[-1] is MIN
    monitor.be.write(b"(qemu) ")
    serial.be.write(b"login: ")
    assert recv(peer, 14) == b"(qemu) login: "
    peer.sendall(b"\x01b")
    run_until(loop, lambda: monitor.events[-1] is ChrEvent.BREAK)
    assert ChrEvent.BREAK not in serial.events


def test_mux_help_timestamps_and_exit(loop, root, peer_and_mux) -> None:
    peer, mux, quits = peer_and_mux
    front = Frontend(mux)
    peer.sendall(b"\x01h")
    expected = help_text(0x01)
    assert expected == (
        b"\n\rC-a h    print this help\n\rC-a x    exit emulator\n\r"
        b"C-a s    save disk data back to file (if -snapshot)\n\rC-a t    toggle console timestamps\n\r"
        b"C-a b    send break (magic sysrq)\n\rC-a c    switch between console and monitor\n\r"
        b"C-a C-a  sends C-a\n\r"
    )
    run_for(loop, 0.05)
    assert recv(peer, len(expected)) == expected
    peer.sendall(b"\x01t")
    run_until(loop, lambda: mux.timestamps)
    front.be.write(b"a\nb")
    assert recv(peer, 3 + len(timestamp(0))) == b"a\n[00:00:00.000] b"
    peer.sendall(b"\x01t\x01x")
    run_until(loop, lambda: quits == [True])
    assert recv(peer, 18) == b"QEMU: Terminated\n\r"
    assert front.data == b""


def test_timestamp_format() -> None:
    assert timestamp(3_723_004) == b"[01:02:03.004] "


def test_mux_limits_busy_and_query(loop, root, peer_and_mux) -> None:
    _peer, mux, _ = peer_and_mux
    fronts = [Frontend(mux) for _ in range(4)]
    with pytest.raises(ConfigError, match=r"^Device 'm' is in use$"):
        CharBackend().init(mux)
    open_muxes(root)
    assert query_chardev(root) == [
        {"label": "m-base", "filename": "unix:", "frontend-open": True},
        {"label": "m", "filename": "mux", "frontend-open": True},
    ]
    with pytest.raises(ConfigError, match=r"^Chardev 'm-base' is busy$"):
        chardev_remove(root, "m-base")
    fronts[3].be.deinit()
    assert query_chardev(root)[1]["frontend-open"] is False
    with pytest.raises(ConfigError, match=r"^Chardev 'm' is busy$"):
        chardev_remove(root, "m")


def test_mux_buffers_input_for_a_full_frontend(loop, root, peer_and_mux) -> None:
    peer, mux, _ = peer_and_mux
    front = Frontend(mux, room=2)
    peer.sendall(b"abcdef")
    run_until(loop, lambda: front.data == b"ab")
    run_for(loop, 0.05)
    front.room = 10
    front.be.accept_input()
    run_until(loop, lambda: front.data == b"abcdef")


def test_chardev_add_mux_is_open_at_once(loop, root) -> None:
    chardev_new_from_opts("ringbuf", "r", {}, loop, root)
    mux = chardev_new_from_qapi("m", {"type": "mux", "data": {"chardev": "r"}}, loop, root)
    assert mux.be_open
    base = chardev_find(root, "r")
    assert base is not None and base.info()["frontend-open"] is False  # until a frontend comes
    front = Frontend(mux)
    assert front.events == [MIN, OPENED]
    assert base.info()["frontend-open"] is True
