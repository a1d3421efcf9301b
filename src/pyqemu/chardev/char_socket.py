"""The ``socket`` backend: a Unix or TCP stream, as server or client, one peer at a time.

Server (``server=on``): listens, and serves one client at a time as QEMU
does — while a client is connected, others wait in the backlog.  With
``wait=on`` (the ``-chardev`` default for a server) opening blocks until the
first client connects, after "QEMU waiting for connection on: ..." is
reported.  Client: connects at once, or with ``reconnect=N`` in the
background, retrying every N seconds, and again N seconds after each
disconnection.  ``fd=N`` takes an inherited socket: a listening one for a
server, a connected one for a client.

State changes follow QEMU's (``DISCONNECTED`` → ``CONNECTING`` →
``CONNECTED``); the frontend gets ``OPENED`` on connection and ``CLOSED`` on
disconnection, and the ``query-chardev`` filename shows the address with a
``disconnected:`` prefix while nobody is there.  A server's Unix socket
file is removed when the chardev closes.
"""

from __future__ import annotations

import asyncio
import enum
import socket
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from pyqemu.chardev import socket_address
from pyqemu.chardev.char import Chardev, ChrEvent
from pyqemu.chardev.char_io import FdReader, FdWriter
from pyqemu.qom.object import register_type
from pyqemu.qom.property import ValueKind
from pyqemu.util.errors import ConfigError, QemuError

if TYPE_CHECKING:
    from pyqemu.util.qemuopts import Opts

#: Options QEMU has that pyqemu does not implement (they need telnet, TLS or websocket code).
UNSUPPORTED = ("telnet", "tn3270", "websocket", "tls-creds")


class SocketState(enum.Enum):
    """QEMU's ``TCPChardevState``."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"


def _addr_from_opts(opts: Opts) -> dict[str, Any]:
    """The ``SocketAddressLegacy`` that ``path=``, ``host=``/``port=`` or ``fd=`` describe."""
    if "path" in opts:
        return {"type": "unix", "data": {
            "path": opts.get("path"), "tight": opts.get_bool("tight", True),
            "abstract": opts.get_bool("abstract", False),
        }}
    if "host" in opts:
        inet: dict[str, Any] = {"host": opts.get("host"), "port": opts.get("port")}
        if "to" in opts:
            inet["to"] = opts.get_number("to", 0)
        for flag in ("ipv4", "ipv6"):
            if flag in opts:
                inet[flag] = opts.get_bool(flag, False)
        return {"type": "inet", "data": inet}
    return {"type": "fd", "data": {"str": opts.get("fd", "")}}


def _validate(data: Mapping[str, Any]) -> None:
    """QEMU's checks of options that depend on each other (``qmp_chardev_validate_socket``)."""
    kind = data["addr"]["type"]
    client = not data.get("server", True)
    if kind == "fd" and "reconnect" in data:
        raise ConfigError("'reconnect' option is incompatible with 'fd' address type")
    if "tls-authz" in data and "tls-creds" not in data:
        raise ConfigError("'tls_authz' option requires 'tls_creds' option")
    if not client and "reconnect" in data:
        raise ConfigError("'reconnect' option is incompatible with socket in server listen mode")
    if client and data.get("websocket"):
        raise ConfigError("Websocket client is not implemented")
    if client and "wait" in data:
        raise ConfigError("'wait' option is incompatible with socket in client connect mode")
    for name in UNSUPPORTED:
        if data.get(name):
            raise ConfigError(f"chardev: socket: '{name}' is not supported")


@register_type
class SocketChardev(Chardev):
    """``-chardev socket,path=P|host=H,port=N|fd=N[,server=on][,wait=off][,reconnect=S]``."""

    TYPE = "chardev-socket"
    BACKEND = "socket"

    @classmethod
    def class_init(cls) -> None:
        cls.class_property_add_bool("connected", lambda chr: chr.state is SocketState.CONNECTED)
        cls.class_property_add("addr", ValueKind(), get=lambda chr: dict(chr.addr), type="SocketAddress")

    def __init__(self) -> None:
        super().__init__()
        self.state = SocketState.DISCONNECTED
        self.addr: dict[str, Any] = {}
        self.is_listen = True
        self.nodelay = False
        self.reconnect = 0
        self._listener: socket.socket | None = None
        self._accepting = False
        self._conn: socket.socket | None = None
        self._reader: FdReader | None = None
        self._writer: FdWriter | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._attempt: object | None = None
        self._connect_error_reported = False

    @classmethod
    def parse_opts(cls, opts: Opts) -> dict[str, Any]:
        if sum(name in opts for name in ("path", "fd", "host")) > 1:
            raise ConfigError("None or one of 'path', 'fd' or 'host' option required.")
        if "host" in opts and "port" not in opts:
            raise ConfigError("chardev: socket: no port given")
        if "delay" in opts and "nodelay" in opts:
            raise ConfigError("'delay' and 'nodelay' are mutually exclusive")
        data: dict[str, Any] = {"addr": _addr_from_opts(opts)}
        if "delay" in opts or "nodelay" in opts:
            data["nodelay"] = not opts.get_bool("delay", True) or opts.get_bool("nodelay", False)
        server = opts.get_bool("server", False)
        data["server"] = server
        for name in ("telnet", "tn3270", "websocket"):
            if name in opts:
                data[name] = opts.get_bool(name, False)
        if "wait" in opts or server:  # a -chardev server waits unless told not to
            data["wait"] = opts.get_bool("wait", True)
        if "reconnect" in opts:
            data["reconnect"] = opts.get_number("reconnect", 0)
        for name in ("tls-creds", "tls-authz"):
            if name in opts:
                data[name] = opts.get(name)
        return data

    def open(self, data: Mapping[str, Any]) -> bool:
        _validate(data)
        self.addr = socket_address.flatten(data["addr"])
        self.is_listen = data.get("server", True)
        self.nodelay = data.get("nodelay", False)
        self._set_disconnected_filename()
        if self.is_listen:
            self._open_server(wait=data.get("wait", False))
        elif data.get("reconnect", 0) > 0:
            self.reconnect = data["reconnect"]
            self._connect_async()
        else:
            self._new_client(socket_address.connect(self.addr, self.ctx.get_fd))
        return False

    # -- server -------------------------------------------------------------

    def _open_server(self, wait: bool) -> None:
        self._listener = socket_address.listen(self.addr, self.ctx.get_fd)
        self.addr = socket_address.local_address(self._listener)
        self._set_disconnected_filename()
        if wait:
            self.ctx.reporter.info(f"QEMU waiting for connection on: {self.filename}")
            self._listener.setblocking(True)
            conn, _peer = self._listener.accept()
            self._listener.setblocking(False)
            self._new_client(conn)
        else:
            self._listener.setblocking(False)
            self._accept_clients(True)

    def _accept_clients(self, accept: bool) -> None:
        if self._listener is None or accept == self._accepting:
            return
        if accept:
            self.loop.add_reader(self._listener.fileno(), self._accept)
        else:
            self.loop.remove_reader(self._listener.fileno())
        self._accepting = accept

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            conn, _peer = self._listener.accept()
        except (BlockingIOError, InterruptedError):
            return
        self._new_client(conn)

    # -- client -------------------------------------------------------------

    def _connect_async(self) -> None:
        """Connect in a worker thread (QEMU uses one too); the result comes back to the loop."""
        self.state = SocketState.CONNECTING
        attempt = self._attempt = object()
        future = self.loop.run_in_executor(None, socket_address.connect, self.addr, self.ctx.get_fd)
        future.add_done_callback(partial(self._connect_done, attempt))

    def _connect_done(self, attempt: object, future: asyncio.Future[socket.socket]) -> None:
        error = future.exception()
        if attempt is not self._attempt:  # closed meanwhile
            if error is None:
                future.result().close()
            return
        if error is None:
            self._connect_error_reported = False
            self._new_client(future.result())
            return
        self.state = SocketState.DISCONNECTED
        if not self._connect_error_reported:
            reason = error.desc if isinstance(error, QemuError) else str(error)
            self.ctx.reporter.error(f"Unable to connect character device {self.label}: {reason}")
            self._connect_error_reported = True
        self._restart_timer()

    def _restart_timer(self) -> None:
        self._timer = self.loop.call_later(self.reconnect, self._reconnect_timeout)

    def _reconnect_timeout(self) -> None:
        self._timer = None
        if self.state is SocketState.DISCONNECTED:
            self._connect_async()

    # -- the connection -------------------------------------------------------

    def _new_client(self, conn: socket.socket) -> None:
        conn.setblocking(False)
        if self.nodelay and conn.family in (socket.AF_INET, socket.AF_INET6):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._accept_clients(False)
        fd = conn.fileno()
        with self.write_lock:
            self._conn = conn
            self.filename = socket_address.connected_str(conn, self.is_listen)
            self._writer = FdWriter(
                self.loop, fd, self.write_lock, self._send_failed,
                send=lambda data: conn.send(data, socket.MSG_NOSIGNAL),
            )
            self.state = SocketState.CONNECTED
        self._reader = FdReader(
            self.loop, fd, self.read_poll, self.be_write, self._peer_gone, recv=conn.recv
        )
        self.be_event(ChrEvent.OPENED)
        self._reader.update()

    def chr_write(self, data: bytes) -> int:
        if self.state is not SocketState.CONNECTED or self._writer is None:
            return 0
        return self._writer.write(data)

    def update_read_handler(self) -> None:
        if self._reader is not None:
            self._reader.update()

    def _peer_gone(self, error: OSError | None) -> None:
        self.disconnect()

    def _send_failed(self, error: OSError) -> None:
        self.disconnect()

    def _drop_connection(self) -> bool:
        """Close the connection if there is one; True if there was."""
        with self.write_lock:
            conn, self._conn = self._conn, None
            if self._reader is not None:
                self._reader.stop()
                self._reader = None
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            was_connected = self.state is SocketState.CONNECTED
            self.state = SocketState.DISCONNECTED
            self._set_disconnected_filename()
        if conn is not None:
            conn.close()
        return was_connected

    def disconnect(self) -> None:
        """Drop the peer (QEMU's ``tcp_chr_disconnect``): accept the next one or reconnect later."""
        if not self._drop_connection():
            return
        self._accept_clients(True)
        self.be_event(ChrEvent.CLOSED)
        if self.reconnect and self._timer is None:
            self._restart_timer()

    def _set_disconnected_filename(self) -> None:
        if self.addr:
            self.filename = socket_address.address_str(self.addr, self.is_listen, "disconnected:")
        else:
            self.filename = "disconnected:socket"

    def close(self) -> None:
        self._attempt = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        was_connected = self._drop_connection()
        if self._listener is not None:
            self._accept_clients(False)
            socket_address.unlink_listener(self._listener)
            self._listener.close()
            self._listener = None
        if was_connected:
            self.be_event(ChrEvent.CLOSED)
        super().close()
