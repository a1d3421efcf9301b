"""The legacy chardev syntax of ``-serial``, ``-monitor``, ``-qmp``: ``tcp::4444,server=on`` …

:func:`parse_compat` turns such a spec into a backend name and ``-chardev``
options, as QEMU's ``qemu_chr_parse_compat`` does; the caller creates the
chardev with :func:`~pyqemu.chardev.create.chardev_new_from_opts`, labelled
as it likes (``serial0``, ``compat_monitor0``).  ``none`` and
``chardev:NAME`` are the caller's business, as in QEMU.  A ``mon:`` prefix
sets ``mux=on`` (the caller adds a human monitor to the mux), and for
``mon:stdio`` also ``signal=off``, so Ctrl-C reaches the guest.
"""

from __future__ import annotations

import re

from pyqemu.chardev.options import CHARDEV_OPTS
from pyqemu.util.errors import ConfigError
from pyqemu.util.qemuopts import Opts

Spec = tuple[str, dict[str, str]]

#: Specs that are just a backend name.
_PLAIN = ("null", "pty", "msmouse", "wctablet", "braille", "testdev", "stdio")
#: Socket flavours of ``PROTO:HOST:PORT[,options]`` and the flag each sets.
_SOCKET_PROTOCOLS = {"tcp:": None, "telnet:": "telnet", "tn3270:": "tn3270", "websocket:": "websocket"}
_HOST_PORT = re.compile(r"([^:]{1,64}):([^,]{1,32})")
_PORT_ONLY = re.compile(r":([^,]{1,32})")
_UDP_HOST_PORT = re.compile(r"([^:]{1,64}):([^@,]{1,32})")
_UDP_PORT_ONLY = re.compile(r":([^@,]{1,32})")
_VC_PIXELS = re.compile(r"([0-9]{1,7})x([0-9]{1,7})")
_VC_CHARS = re.compile(r"([0-9]{1,7})Cx([0-9]{1,7})C")


def parse_opts_text(text: str, implied: str | None = None) -> dict[str, str]:
    """``key=value,flag,nokey`` as checked ``-chardev`` options (``qemu_opts_do_parse``).

    ``implied`` names the first item if it has no ``=`` (``unix:PATH,...``).
    """
    opts = Opts(CHARDEV_OPTS)
    opts.do_parse(text, implied)
    return dict(opts.items())


def _host_port(text: str, both: re.Pattern[str], port_only: re.Pattern[str]) -> tuple[str, str, int] | None:
    match = both.match(text)
    if match is not None:
        return match.group(1), match.group(2), match.end()
    match = port_only.match(text)
    if match is not None:
        return "", match.group(1), match.end()
    return None


def _socket(rest: str, flag: str | None) -> Spec | None:
    parsed = _host_port(rest, _HOST_PORT, _PORT_ONLY)
    if parsed is None:
        return None
    host, port, end = parsed
    opts = {"host": host, "port": port}
    if rest[end:end + 1] == ",":
        opts.update(parse_opts_text(rest[end + 1:]))
    if flag is not None:
        opts[flag] = "on"
    return "socket", opts


def _udp(rest: str) -> Spec | None:
    parsed = _host_port(rest, _UDP_HOST_PORT, _UDP_PORT_ONLY)
    if parsed is None:
        return None
    host, port, end = parsed
    opts = {"host": host, "port": port}
    if rest[end:end + 1] == "@":
        local = _host_port(rest[end + 1:], _HOST_PORT, _PORT_ONLY)
        if local is None:
            return None
        opts["localaddr"], opts["localport"] = local[0], local[1]
    return "udp", opts


def _vc(rest: str) -> Spec | None:
    if not rest.startswith(":"):
        return "vc", {}
    for pattern, keys in ((_VC_PIXELS, ("width", "height")), (_VC_CHARS, ("cols", "rows"))):
        match = pattern.match(rest[1:])
        if match is not None:
            return "vc", dict(zip(keys, match.groups(), strict=True))
    return None


def _parse_device(spec: str) -> Spec | None:
    if spec in _PLAIN:
        return spec, {}
    if spec.startswith("vc"):
        return _vc(spec[2:])
    if spec == "con:":
        return "console", {}
    if spec.startswith("COM"):
        return "serial", {"path": spec}
    for prefix, backend in (("file:", "file"), ("pipe:", "pipe")):
        if spec.startswith(prefix):
            return backend, {"path": spec[len(prefix):]}
    for prefix, flag in _SOCKET_PROTOCOLS.items():
        if spec.startswith(prefix):
            return _socket(spec[len(prefix):], flag)
    if spec.startswith("udp:"):
        return _udp(spec[4:])
    if spec.startswith("unix:"):
        return "socket", parse_opts_text(spec[5:], implied="path")
    if spec.startswith(("/dev/parport", "/dev/ppi")):
        return "parallel", {"path": spec}
    if spec.startswith("/dev/"):
        return "serial", {"path": spec}
    raise ConfigError(f"'{spec}' is not a valid char driver")


def parse_compat(spec: str, permit_mux_mon: bool = True) -> Spec | None:
    """``(backend, options)`` for a legacy chardev spec (QEMU's ``qemu_chr_parse_compat``).

    Raises QEMU's error where QEMU reports one ("'foo' is not a valid char
    driver", "Invalid parameter 'x'"); returns None for a malformed spec that
    QEMU rejects without a message of its own (``tcp:localhost``), after
    which the caller reports its own ("could not connect serial device ...").
    """
    mux: dict[str, str] = {}
    if spec.startswith("mon:"):
        if not permit_mux_mon:
            raise ConfigError("mon: isn't supported in this context")
        spec = spec[4:]
        mux = {"mux": "on", "signal": "off"} if spec == "stdio" else {"mux": "on"}
    parsed = _parse_device(spec)
    if parsed is None:
        return None
    backend, opts = parsed
    return backend, {**mux, **opts}
