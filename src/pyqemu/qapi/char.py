"""QMP's chardev types: ``ChardevBackend`` and the ``SocketAddressLegacy`` a socket uses.

Declared here, in the QAPI layer, so that ``chardev-add`` arguments are
checked by the shared input visitor like any command's (see
:mod:`pyqemu.qapi.input_visitor`).  Both are unions in QEMU 7.2's style:
``{"type": KIND, "data": {...}}``, each branch a wrapper struct with one
member ``data``.  Only the backends pyqemu implements are kinds.
"""

from __future__ import annotations

from pyqemu.qapi.schema import SCHEMA

#: The name of the ``backend`` type, for command declarations.
CHARDEV_BACKEND = "ChardevBackend"


def _wrapped_union(name: str, kind_enum: str, branches: dict[str, str]) -> None:
    """Union ``name`` of ``{"type": KIND, "data": STRUCT}``; ``branches`` maps KIND to STRUCT."""
    SCHEMA.enum(kind_enum, branches)
    for struct in dict.fromkeys(branches.values()):
        SCHEMA.struct(f"{struct}Wrapper", {"data": struct})
    wrappers = {kind: f"{struct}Wrapper" for kind, struct in branches.items()}
    SCHEMA.union(name, base={"type": kind_enum}, discriminator="type", branches=wrappers)


SCHEMA.struct("InetSocketAddress", {
    "host": "str", "port": "str", "*numeric": "bool", "*to": "uint16", "*ipv4": "bool",
    "*ipv6": "bool", "*keep-alive": "bool", "*mptcp": "bool",
})
SCHEMA.struct("UnixSocketAddress", {"path": "str", "*abstract": "bool", "*tight": "bool"})
SCHEMA.struct("VsockSocketAddress", {"cid": "str", "port": "str"})
SCHEMA.struct("String", {"str": "str"})
_wrapped_union("SocketAddressLegacy", "SocketAddressType", {
    "inet": "InetSocketAddress", "unix": "UnixSocketAddress", "vsock": "VsockSocketAddress",
    "fd": "String",
})

_COMMON = "ChardevCommon"  # every backend's base: its log file
SCHEMA.struct(_COMMON, {"*logfile": "str", "*logappend": "bool"})
SCHEMA.struct("ChardevFile", {"*in": "str", "out": "str", "*append": "bool"}, base=_COMMON)
SCHEMA.struct("ChardevHostdev", {"device": "str"}, base=_COMMON)
SCHEMA.struct("ChardevSocket", {
    "addr": "SocketAddressLegacy", "*tls-creds": "str", "*tls-authz": "str", "*server": "bool",
    "*wait": "bool", "*nodelay": "bool", "*telnet": "bool", "*tn3270": "bool",
    "*websocket": "bool", "*reconnect": "int",
}, base=_COMMON)
SCHEMA.struct("ChardevMux", {"chardev": "str"}, base=_COMMON)
SCHEMA.struct("ChardevStdio", {"*signal": "bool"}, base=_COMMON)
SCHEMA.struct("ChardevRingbuf", {"*size": "int"}, base=_COMMON)
_wrapped_union(CHARDEV_BACKEND, "ChardevBackendKind", {
    "file": "ChardevFile", "pipe": "ChardevHostdev", "socket": "ChardevSocket",
    "pty": _COMMON, "null": _COMMON, "mux": "ChardevMux",
    "stdio": "ChardevStdio", "ringbuf": "ChardevRingbuf",
})
