"""The socket chardev: unix and TCP, server and client, reconnection, inherited fds, filenames."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from pyqemu.chardev.char import ChrEvent, chardev_remove
from pyqemu.chardev.char_socket import SocketChardev, SocketState
from pyqemu.chardev.create import chardev_new_from_opts, chardev_new_from_qapi
from pyqemu.util.errors import ConfigError

from .conftest import Frontend, run_for, run_until

CONNECT_TIMEOUT = 5.0
LONG_PATH = "/tmp/" + "x" * 120


def new(loop, root, id: str, reporter=None, get_fd=None, **opts: str) -> SocketChardev:
    chr = chardev_new_from_opts("socket", id, opts, loop, root, reporter=reporter, get_fd=get_fd)
    assert isinstance(chr, SocketChardev)
    return chr


def unix_client(path: Path | str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(CONNECT_TIMEOUT)
    sock.connect(str(path))
    return sock


def accept_running(loop, listener: socket.socket) -> socket.socket:
    """Accept a connection while the loop runs (the chardev connects from the loop)."""
    listener.setblocking(False)
    accepted: list[socket.socket] = []

    def try_accept() -> bool:
        with contextlib.suppress(BlockingIOError):
            accepted.append(listener.accept()[0])
        return bool(accepted)

    run_until(loop, try_accept)
    accepted[0].settimeout(CONNECT_TIMEOUT)
    return accepted[0]


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "peer closed"
        data += chunk
    return data


def test_unix_server_both_ways_and_one_client_at_a_time(loop, root, tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    chr = new(loop, root, "s", path=str(path), server="on", wait="off")
    front = Frontend(chr)
    assert chr.filename == f"disconnected:unix:{path},server=on"
    assert chr.property_get("addr") == {"type": "unix", "path": str(path)}
    first = unix_client(path)
    run_until(loop, lambda: chr.state is SocketState.CONNECTED)
    assert chr.filename == f"unix:{path},server=on" and chr.property_get("connected") is True
    first.sendall(b"hello")
    run_until(loop, lambda: front.data == b"hello")
    assert front.be.write(b"world") == 5
    assert recv_exactly(first, 5) == b"world"
    second = unix_client(path)  # waits in the backlog
    run_for(loop, 0.05)
    assert front.events == [ChrEvent.OPENED]
    first.close()
    run_until(loop, lambda: front.events == [ChrEvent.OPENED, ChrEvent.CLOSED, ChrEvent.OPENED])
    second.sendall(b"again")
    run_until(loop, lambda: front.data == b"helloagain")
    second.close()
    run_until(loop, lambda: chr.state is SocketState.DISCONNECTED)
    assert front.be.write(b"nobody") == 0
    assert chr.filename == f"disconnected:unix:{path},server=on"


def test_server_replaces_a_stale_file_and_removes_its_socket(loop, root, tmp_path: Path) -> None:
    path = tmp_path / "stale.sock"
    path.write_text("left over")
    new(loop, root, "s", path=str(path), server="on", wait="off")
    assert path.is_socket()
    chardev_remove(root, "s")
    assert not path.exists()


def test_tcp_server_on_port_zero_and_client(loop, root) -> None:
    server = new(loop, root, "srv", host="127.0.0.1", port="0", server="on", wait="off", nodelay="on")
    port = server.property_get("addr")["port"]
    assert server.property_get("addr") == {"type": "inet", "host": "127.0.0.1", "port": port, "ipv4": True}
    assert server.filename == f"disconnected:tcp:127.0.0.1:{port},server=on"
    server_front = Frontend(server)
    client = new(loop, root, "cli", host="127.0.0.1", port=port)
    client_front = Frontend(client)
    run_until(loop, lambda: server.state is SocketState.CONNECTED)
    local_port = client.filename.split(" ")[0].rsplit(":", 1)[1]
    assert client.filename == f"tcp:127.0.0.1:{local_port} <-> 127.0.0.1:{port}"
    assert server.filename == f"tcp:127.0.0.1:{port},server=on <-> 127.0.0.1:{local_port}"
    assert client_front.events == [ChrEvent.OPENED]
    client.write(b"to server")
    server.write(b"to client")
    run_until(loop, lambda: server_front.data == b"to server" and client_front.data == b"to client")


def test_client_reconnects_after_the_server_goes(loop, root, tmp_path: Path, reporter) -> None:
    path = tmp_path / "r.sock"
    client = new(loop, root, "c", reporter, path=str(path), reconnect="1")
    front = Frontend(client)
    assert client.filename == f"disconnected:unix:{path}"
    run_until(loop, lambda: reporter.lines != [])
    assert reporter.lines == [
        f"error: Unable to connect character device c: Failed to connect to '{path}': "
        "No such file or directory"
    ]
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(1)
    try:
        peer = accept_running(loop, listener)
        run_until(loop, lambda: client.state is SocketState.CONNECTED)
        assert client.filename == "unix:"
        peer.close()
        run_until(loop, lambda: front.events == [ChrEvent.OPENED, ChrEvent.CLOSED])
        peer = accept_running(loop, listener)  # about a second later
        run_until(loop, lambda: front.events[-1] is ChrEvent.OPENED)
        peer.sendall(b"back")
        run_until(loop, lambda: front.data == b"back")
        peer.close()
    finally:
        listener.close()
    assert len(reporter.lines) == 1  # reported once until a connection succeeds


def test_fd_connected_socketpair(loop, root) -> None:
    ours, theirs = socket.socketpair()
    fd = ours.detach()
    chr = new(loop, root, "f", fd=str(fd))
    front = Frontend(chr)
    assert front.events == [ChrEvent.OPENED] and chr.filename == "unix:"
    theirs.sendall(b"x")
    run_until(loop, lambda: front.data == b"x")
    chr.write(b"y")
    assert theirs.recv(1) == b"y"
    theirs.close()
    run_until(loop, lambda: front.events == [ChrEvent.OPENED, ChrEvent.CLOSED])
    assert chr.filename == f"disconnected:fd:{fd}"


def test_fd_listening_socket_with_named_fds(loop, root, tmp_path: Path) -> None:
    path = tmp_path / "l.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(1)
    fds = {"mine": listener.detach()}
    backend = {"type": "socket", "data": {"addr": {"type": "fd", "data": {"str": "mine"}}, "wait": False}}
    chr = chardev_new_from_qapi("l", backend, loop, root, get_fd=fds.__getitem__)
    assert chr.filename == f"disconnected:unix:{path},server=on"
    front = Frontend(chr)
    peer = unix_client(path)
    run_until(loop, lambda: front.events == [ChrEvent.OPENED])
    peer.close()
    front.be.deinit(delete=True)
    assert not path.exists()


def test_wait_on_blocks_until_a_client_connects(loop, root, tmp_path: Path, reporter) -> None:
    path = tmp_path / "w.sock"
    sent = threading.Event()

    def client() -> None:  # keeps trying until the chardev listens, then says "!"
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while time.monotonic() < deadline:
            try:
                sock = unix_client(path)
            except OSError:
                time.sleep(0.01)
                continue
            sock.sendall(b"!")
            sent.wait(CONNECT_TIMEOUT)
            sock.close()
            return

    thread = threading.Thread(target=client)
    thread.start()
    try:
        chr = new(loop, root, "w", reporter, path=str(path), server="on")
        assert reporter.lines == [f"info: QEMU waiting for connection on: disconnected:unix:{path},server=on"]
        assert chr.state is SocketState.CONNECTED and chr.be_open
        front = Frontend(chr)
        assert front.events == [ChrEvent.OPENED]
        run_until(loop, lambda: front.data == b"!")
    finally:
        sent.set()
        thread.join()


@pytest.mark.parametrize(("opts", "message"), [
    ({}, "Unable to parse FD number "),
    ({"fd": "abc"}, "Unable to parse FD number abc"),
    ({"path": "/x", "host": "h"}, "None or one of 'path', 'fd' or 'host' option required."),
    ({"host": "localhost"}, "chardev: socket: no port given"),
    ({"path": "/tmp/a", "wait": "off"}, "'wait' option is incompatible with socket in client connect mode"),
    ({"path": "/tmp/a", "server": "on", "wait": "off", "reconnect": "1"},
     "'reconnect' option is incompatible with socket in server listen mode"),
    ({"path": "/tmp/a", "delay": "off", "nodelay": "on"}, "'delay' and 'nodelay' are mutually exclusive"),
    ({"path": "/nonexistent/dir/x.sock", "server": "on", "wait": "off"},
     "Failed to bind socket to /nonexistent/dir/x.sock: No such file or directory"),
    ({"path": "/nonexistent/x.sock"},
     "Failed to connect to '/nonexistent/x.sock': No such file or directory"),
    ({"host": "127.0.0.1", "port": "abc"},
     "address resolution failed for 127.0.0.1:abc: Servname not supported for ai_socktype"),
    ({"path": LONG_PATH, "server": "on", "wait": "off"}, f"UNIX socket path '{LONG_PATH}' is too long"),
    ({"path": "/tmp/a", "server": "on", "wait": "off", "telnet": "on"},
     "chardev: socket: 'telnet' is not supported"),
])
def test_socket_errors_match_qemu(loop, root, opts, message) -> None:
    with pytest.raises(ConfigError) as info:
        new(loop, root, "s", **opts)
    assert info.value.desc == message


def test_fd_that_is_not_a_socket(loop, root, tmp_path: Path) -> None:
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        with pytest.raises(ConfigError, match=rf"^File descriptor '{fd}' is not a socket$"):
            new(loop, root, "s", fd=str(fd))
    finally:
        os.close(fd)


def test_tcp_connect_refused_and_port_in_use(loop, root) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = str(busy.getsockname()[1])
    try:
        with pytest.raises(ConfigError, match=r"^Failed to find an available port: Address already in use$"):
            new(loop, root, "s", host="127.0.0.1", port=port, server="on", wait="off")
    finally:
        busy.close()
    with pytest.raises(ConfigError, match=rf"^Failed to connect to '127.0.0.1:{port}': Connection refused$"):
        new(loop, root, "s", host="127.0.0.1", port=port)
