"""Creating chardevs from ``-chardev`` options and from QMP's ``chardev-add``.

Both paths end in one call, :func:`~pyqemu.chardev.char.chardev_new`, with
the backend's QAPI data, as in QEMU: ``-chardev`` options are first checked
against the ``chardev`` option group (:mod:`pyqemu.chardev.options`), then
turned into that data by the backend's ``parse_opts``; ``chardev-add``'s
``ChardevBackend`` arrives checked against its QAPI declaration
(:mod:`pyqemu.qapi.char`).  Errors carry QEMU's texts, in QEMU's order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from pyqemu.chardev.char import (
    TYPE_PREFIX,
    Chardev,
    ChardevContext,
    Reporter,
    chardev_find,
    chardev_new,
)
from pyqemu.chardev.options import chardev_opts
from pyqemu.qom.object import Object, object_class_by_name
from pyqemu.util.cutils import check_id
from pyqemu.util.errors import ConfigError
from pyqemu.util.qemuopts import Opts

#: The backends pyqemu provides, in ``-chardev help`` order.
BACKENDS = ("socket", "stdio", "file", "pipe", "null", "ringbuf", "pty", "mux")
MUX_BASE_SUFFIX = "-base"


def backend_class(name: str) -> type[Chardev] | None:
    """The class of backend ``name`` (``chardev-NAME``), or None if there is no such backend."""
    cls = object_class_by_name(TYPE_PREFIX + name)
    if cls is None or not issubclass(cls, Chardev) or cls.__dict__.get("ABSTRACT", False):
        return None
    return cls


def _char_get_class(name: str) -> type[Chardev]:
    cls = backend_class(name)
    if cls is None:
        raise ConfigError(f"'{name}' is not a valid char driver name")
    return cls


def chardev_backend_names() -> list[str]:
    """``query-chardev-backends``: the names of the backends."""
    return list(BACKENDS)


def chardev_help() -> str:
    """What ``-chardev help`` prints."""
    return "Available chardev backend types: \n" + "".join(f"  {name}\n" for name in BACKENDS)


def _context(
    loop: asyncio.AbstractEventLoop,
    root: Object,
    reporter: Reporter | None,
    get_fd: Callable[[str], int] | None,
    request_quit: Callable[[], None] | None,
    startup: bool,
) -> ChardevContext:
    ctx = ChardevContext(loop, root, request_quit=request_quit, startup=startup)
    if reporter is not None:
        ctx.reporter = reporter
    if get_fd is not None:
        ctx.get_fd = get_fd
    return ctx


def _common_from_opts(opts: Opts) -> dict[str, Any]:
    common: dict[str, Any] = {"logappend": opts.get_bool("logappend", False)}
    if "logfile" in opts:
        common["logfile"] = opts.get("logfile")
    return common


def chardev_new_from_opts(
    backend: str | None,
    id: str | None,
    opts: Mapping[str, str],
    loop: asyncio.AbstractEventLoop,
    root: Object,
    *,
    reporter: Reporter | None = None,
    get_fd: Callable[[str], int] | None = None,
    request_quit: Callable[[], None] | None = None,
) -> Chardev:
    """``-chardev BACKEND,id=ID,KEY=VALUE...`` (QEMU's ``qemu_chr_new_from_opts``).

    ``opts`` are the other options as strings, in command-line order; a
    ``backend`` key among them wins over ``backend``, as QemuOpts' last value
    does.  With ``mux=on`` the backend becomes ``ID-base`` behind a mux ``ID``,
    which opens when the emulator calls :func:`~pyqemu.chardev.char_mux.open_muxes`.
    """
    if id is not None:
        check_id(id)
        if chardev_find(root, id) is not None:
            raise ConfigError(f"Duplicate ID '{id}' for chardev")
    checked = chardev_opts(opts)
    if id is None:
        raise ConfigError("chardev: no id specified")
    name = checked.get("backend", backend)
    if not name:
        raise ConfigError(f'chardev: "{id}" missing backend')
    cls = _char_get_class(name)
    data = {**_common_from_opts(checked), **cls.parse_opts(checked)}
    ctx = _context(loop, root, reporter, get_fd, request_quit, startup=True)
    if not checked.get_bool("mux", False):
        return chardev_new(id, cls.TYPE, data, ctx)
    base_id = id + MUX_BASE_SUFFIX
    base = chardev_new(base_id, cls.TYPE, data, ctx)
    try:
        return chardev_new(id, TYPE_PREFIX + "mux", {"chardev": base_id}, ctx)
    except BaseException:
        base.unparent()
        raise


def chardev_new_from_qapi(
    id: str,
    backend: Mapping[str, Any],
    loop: asyncio.AbstractEventLoop,
    root: Object,
    *,
    reporter: Reporter | None = None,
    get_fd: Callable[[str], int] | None = None,
    request_quit: Callable[[], None] | None = None,
) -> Chardev:
    """QMP ``chardev-add``: ``backend`` is a ``ChardevBackend`` (``{"type": ..., "data": {...}}``)
    already checked against its QAPI declaration.

    Errors of opening are prefixed "Failed to add chardev 'ID': ", as in QEMU.
    """
    if chardev_find(root, id) is not None:
        raise ConfigError(f"Chardev with id '{id}' already exists")
    cls = _char_get_class(backend["type"])
    try:
        ctx = _context(loop, root, reporter, get_fd, request_quit, startup=False)
        return chardev_new(id, cls.TYPE, backend["data"], ctx)
    except ConfigError as err:
        raise ConfigError(f"Failed to add chardev '{id}': {err.desc}", hint=err.hint) from err


def chardev_return(chr: Chardev) -> dict[str, Any]:
    """``chardev-add``'s reply: ``{}``, or ``{"pty": PATH}`` for a pty (``ChardevReturn``)."""
    from pyqemu.chardev.char_pty import PtyChardev

    return {"pty": chr.pty_name} if isinstance(chr, PtyChardev) else {}


class CompatSpecError(ConfigError):
    """A compact chardev spec (``-serial``, ``-qmp``, ``-qtest``) that does not parse.

    Each caller words the failure; ``cause`` is what the parser reported
    first, if it said anything (QEMU prints it before the caller's line).
    """

    def __init__(self, spec: str, cause: ConfigError | None = None):
        super().__init__(spec)
        self.cause = cause


def chardev_new_compat(
    label: str,
    spec: str,
    loop: asyncio.AbstractEventLoop,
    root: Object,
    *,
    reporter: Reporter | None = None,
    request_quit: Callable[[], None] | None = None,
) -> Chardev:
    """A chardev ``label`` from the compact syntax (``unix:PATH,server=on``, ``mon:stdio`` …),
    or the existing chardev a ``chardev:ID`` spec names (QEMU's ``qemu_chr_new``)."""
    from pyqemu.chardev.compat import parse_compat

    if spec.startswith("chardev:"):
        existing = chardev_find(root, spec.removeprefix("chardev:"))
        if existing is None:
            raise CompatSpecError(spec)
        return existing
    try:
        parsed = parse_compat(spec)
    except ConfigError as err:  # said something of its own (unknown driver, bad option)
        raise CompatSpecError(spec, cause=err) from err
    if parsed is None:
        raise CompatSpecError(spec)
    backend, opts = parsed
    return chardev_new_from_opts(
        backend, label, dict(opts), loop, root, reporter=reporter, request_quit=request_quit
    )
