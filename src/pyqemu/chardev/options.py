"""The ``chardev`` option group: every key ``-chardev`` accepts, whatever the backend.

As in QEMU 7.2, the keys are one list for all backends, checked when the
option is parsed (``-chardev``, ``-readconfig``, the legacy ``-serial``
syntax); a backend reads the ones it knows and ignores the rest.  Kept
apart from the backends so the command line can declare it cheaply.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyqemu.util.qemuopts import OptDesc, Opts, OptsList, OptType

_STR, _BOOL, _NUM, _SIZE = OptType.STRING, OptType.BOOL, OptType.NUMBER, OptType.SIZE

#: QEMU 7.2's ``chardev`` group, keys in its declaration order.
CHARDEV_OPTS = OptsList("chardev", implied_key="backend", descs=tuple(
    OptDesc(name, kind) for name, kind in (
        ("backend", _STR), ("path", _STR), ("host", _STR), ("port", _STR), ("fd", _STR),
        ("localaddr", _STR), ("localport", _STR), ("to", _NUM), ("ipv4", _BOOL),
        ("ipv6", _BOOL), ("wait", _BOOL), ("server", _BOOL), ("delay", _BOOL),
        ("nodelay", _BOOL), ("reconnect", _NUM), ("telnet", _BOOL), ("tn3270", _BOOL),
        ("tls-creds", _STR), ("tls-authz", _STR), ("websocket", _BOOL), ("width", _NUM),
        ("height", _NUM), ("cols", _NUM), ("rows", _NUM), ("mux", _BOOL), ("signal", _BOOL),
        ("name", _STR), ("debug", _NUM), ("size", _SIZE), ("chardev", _STR),
        ("append", _BOOL), ("logfile", _STR), ("logappend", _BOOL), ("mouse", _BOOL),
        ("clipboard", _BOOL), ("abstract", _BOOL), ("tight", _BOOL),
    )
))


def chardev_opts(values: Mapping[str, str]) -> Opts:
    """``values`` (without ``id``) as checked ``chardev`` options, in order; QEMU's errors."""
    opts = Opts(CHARDEV_OPTS)
    for name, value in values.items():
        opts.set(name, value)
    return opts

