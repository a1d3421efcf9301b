"""Socket addresses for the socket chardev: listen, connect, and show them as QEMU does.

An address is QAPI's flat ``SocketAddress`` as a dict: ``{"type": "unix",
"path": P}``, ``{"type": "inet", "host": H, "port": "N"}`` or ``{"type":
"fd", "str": NAME}``.  :func:`listen` and :func:`connect` make the socket
or raise a ConfigError worded as QEMU's ``util/qemu-sockets.c`` words it;
:func:`address_str` and :func:`connected_str` give the ``query-chardev``
filename of a socket chardev before and after a peer connects.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from collections.abc import Callable, Iterator
from typing import Any

from pyqemu.util.errors import ConfigError

#: ``sizeof(sun_path)``: a Unix socket path must be shorter than this.
UNIX_PATH_MAX = 108
#: Connections waiting to be accepted: one, since a chardev serves one client at a time.
LISTEN_BACKLOG = 1

Address = dict[str, Any]
GetFd = Callable[[str], int]


def flatten(legacy: dict[str, Any]) -> Address:
    """``SocketAddressLegacy`` (``{"type": T, "data": {...}}``) to flat ``SocketAddress``."""
    return {"type": legacy["type"], **legacy["data"]}


def _strerror(err: OSError) -> str:
    return os.strerror(err.errno) if err.errno else str(err)


def address_str(addr: Address, listen: bool, prefix: str = "") -> str:
    """The address as QEMU's chardev filename shows it (``qemu_chr_socket_address``)."""
    server = ",server=on" if listen else ""
    kind = addr["type"]
    if kind == "inet":
        return f"{prefix}tcp:{addr['host']}:{addr['port']}{server}"
    if kind == "unix":
        flags = ""
        if addr.get("abstract"):
            flags = ",abstract=on" + (",tight=on" if addr.get("tight") else "")
        return f"{prefix}unix:{addr['path']}{flags}{server}"
    if kind == "fd":
        return f"{prefix}fd:{addr['str']}{server}"
    return f"{prefix}vsock:{addr['cid']}:{addr['port']}"


def _host_port(sockaddr: tuple[Any, ...], family: int) -> str:
    host = f"[{sockaddr[0]}]" if family == socket.AF_INET6 else sockaddr[0]
    return f"{host}:{sockaddr[1]}"


def _unix_name(name: str | bytes) -> str:
    if isinstance(name, bytes):
        return name.lstrip(b"\0").rstrip(b"\0").decode(errors="replace")
    return name


def connected_str(sock: socket.socket, listen: bool) -> str:
    """The filename of a connected socket chardev (``qemu_chr_compute_filename``)."""
    server = ",server=on" if listen else ""
    if sock.family == socket.AF_UNIX:
        return f"unix:{_unix_name(sock.getsockname())}{server}"
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        local = _host_port(sock.getsockname(), sock.family)
        peer = _host_port(sock.getpeername(), sock.family)
        return f"tcp:{local}{server} <-> {peer}"
    return "unknown"


def local_address(sock: socket.socket) -> Address:
    """The address a listening socket is bound to (``socket_local_address``)."""
    name = sock.getsockname()
    if sock.family == socket.AF_UNIX:
        if isinstance(name, bytes) or name.startswith("\0"):
            return {"type": "unix", "path": _unix_name(name), "abstract": True}
        return {"type": "unix", "path": name}
    version = "ipv4" if sock.family == socket.AF_INET else "ipv6"
    return {"type": "inet", "host": name[0], "port": str(name[1]), version: True}


# -- Unix ---------------------------------------------------------------------


def _unix_sockaddr(addr: Address) -> str | bytes:
    path: str = addr["path"]
    if len(path.encode()) >= UNIX_PATH_MAX:
        raise ConfigError(
            f"UNIX socket path '{path}' is too long", hint=f"Path must be less than {UNIX_PATH_MAX} bytes"
        )
    if not addr.get("abstract"):
        return path
    name = b"\0" + path.encode()
    return name if addr.get("tight", True) else name.ljust(UNIX_PATH_MAX, b"\0")


def _unix_listen(addr: Address) -> socket.socket:
    sockaddr = _unix_sockaddr(addr)
    if isinstance(sockaddr, str):
        try:
            os.unlink(sockaddr)  # a stale socket from an earlier run, as QEMU does
        except FileNotFoundError:
            pass
        except OSError as err:
            raise ConfigError(f"Failed to unlink socket {sockaddr}: {_strerror(err)}") from err
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(sockaddr)
    except OSError as err:
        sock.close()
        raise ConfigError(f"Failed to bind socket to {addr['path']}: {_strerror(err)}") from err
    sock.listen(LISTEN_BACKLOG)
    return sock


def _unix_connect(addr: Address) -> socket.socket:
    sockaddr = _unix_sockaddr(addr)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(sockaddr)
    except OSError as err:
        sock.close()
        raise ConfigError(f"Failed to connect to '{addr['path']}': {_strerror(err)}") from err
    return sock


# -- TCP ----------------------------------------------------------------------


def _family(addr: Address) -> int:
    if addr.get("ipv4") and not addr.get("ipv6"):
        return socket.AF_INET
    if addr.get("ipv6") and not addr.get("ipv4"):
        return socket.AF_INET6
    return socket.AF_UNSPEC


def _resolve(addr: Address, passive: bool) -> list[tuple[Any, ...]]:
    host = (addr["host"] or None) if passive else addr["host"]
    flags = socket.AI_PASSIVE if passive else 0
    try:
        return socket.getaddrinfo(host, addr["port"], _family(addr), socket.SOCK_STREAM, 0, flags)
    except socket.gaierror as err:
        raise ConfigError(
            f"address resolution failed for {addr['host']}:{addr['port']}: {err.strerror}"
        ) from err


def _ports(first: int, addr: Address) -> Iterator[int]:
    last = addr.get("to", first) if first else first
    yield from range(first, max(first, last) + 1)


def _inet_listen(addr: Address) -> socket.socket:
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in _resolve(addr, passive=True):
        for port in _ports(sockaddr[1], addr):
            sock = socket.socket(family, kind, proto)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((sockaddr[0], port, *sockaddr[2:]))
                sock.listen(LISTEN_BACKLOG)
                return sock
            except OSError as err:
                error = err
                sock.close()
    reason = _strerror(error) if error is not None else "No address"
    raise ConfigError(f"Failed to find an available port: {reason}")


def _inet_connect(addr: Address) -> socket.socket:
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in _resolve(addr, passive=False):
        sock = socket.socket(family, kind, proto)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as err:
            error = err
            sock.close()
    reason = _strerror(error) if error is not None else "No address"
    raise ConfigError(f"Failed to connect to '{addr['host']}:{addr['port']}': {reason}")


# -- inherited fds ------------------------------------------------------------


def _fd_socket(addr: Address, get_fd: GetFd) -> socket.socket:
    name = addr["str"]
    fd = get_fd(name)
    try:
        is_socket = stat.S_ISSOCK(os.fstat(fd).st_mode)
    except OSError:
        is_socket = False
    if not is_socket:
        raise ConfigError(f"File descriptor '{name}' is not a socket")
    return socket.socket(fileno=fd)


def _fd_listen(addr: Address, get_fd: GetFd) -> socket.socket:
    sock = _fd_socket(addr, get_fd)
    try:
        sock.listen(LISTEN_BACKLOG)  # a no-op if it listens already
    except OSError as err:
        sock.detach()
        raise ConfigError(f"Failed to listen on fd socket: {_strerror(err)}") from err
    return sock


def _unsupported(addr: Address, *_: Any) -> socket.socket:
    raise ConfigError(f"chardev: socket: '{addr['type']}' addresses are not supported")


_LISTEN = {"unix": _unix_listen, "inet": _inet_listen}
_CONNECT = {"unix": _unix_connect, "inet": _inet_connect}


def listen(addr: Address, get_fd: GetFd) -> socket.socket:
    """A blocking socket listening on ``addr`` (a stale Unix socket file is replaced)."""
    if addr["type"] == "fd":
        return _fd_listen(addr, get_fd)
    return _LISTEN.get(addr["type"], _unsupported)(addr)


def connect(addr: Address, get_fd: GetFd) -> socket.socket:
    """A blocking socket connected to ``addr`` (or the connected socket an fd names)."""
    if addr["type"] == "fd":
        return _fd_socket(addr, get_fd)
    return _CONNECT.get(addr["type"], _unsupported)(addr)


def unlink_listener(sock: socket.socket) -> None:
    """Remove the file of a listening Unix socket, as QEMU does when it closes one."""
    if sock.family != socket.AF_UNIX:
        return
    name = sock.getsockname()
    if isinstance(name, str) and name and not name.startswith("\0"):
        with contextlib.suppress(OSError):
            os.unlink(name)
