"""Character devices: the abstract ``chardev`` type and its frontend, ``CharBackend``.

A chardev (QEMU's ``Chardev``) is a byte pipe to the outside world — a
socket, a terminal, a file — that one device model, the *frontend*, uses
through a :class:`CharBackend`.  Data flows both ways:

* frontend → outside: :meth:`Chardev.write` (QEMU's ``qemu_chr_write``).  It
  may be called from the main loop or from a vCPU thread holding the big
  lock, so it never touches asyncio objects directly: it writes to the fd at
  once, without blocking, and queues what does not fit for the main loop to
  flush (see :mod:`pyqemu.chardev.char_io`).
* outside → frontend: the backend reads only while the frontend says it can
  take data (``can_receive() > 0``), as QEMU's ``io_add_watch_poll`` does, and
  hands the bytes to ``receive``; connection changes arrive as ``event``
  (:class:`ChrEvent`).  All of these run on the main loop.

A chardev is created from a QAPI ``ChardevBackend`` (``chardev-add``) or from
``-chardev`` options (see :mod:`pyqemu.chardev.create`), opened, and placed
at ``/chardevs/ID`` in the QOM tree; removing it from there closes it.
"""

from __future__ import annotations

import asyncio
import enum
import os
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from pyqemu.qom.object import Object, container_get, object_new, register_type
from pyqemu.util.errors import ConfigError

if TYPE_CHECKING:
    from pyqemu.util.qemuopts import Opts

CHARDEVS_PATH = "/chardevs"
TYPE_PREFIX = "chardev-"
#: The most a backend reads from its fd at once (QEMU's ``CHR_READ_BUF_LEN``).
READ_BUF_LEN = 4096
_FILE_MODE = 0o666


class ChrEvent(enum.Enum):
    """What a chardev tells its frontend besides data (QEMU's ``QEMUChrEvent``)."""

    BREAK = "break"  #: a serial break
    OPENED = "opened"  #: the backend is connected: a peer is there
    MUX_IN = "mux-in"  #: a mux gave this frontend the focus
    MUX_OUT = "mux-out"  #: a mux took the focus away
    CLOSED = "closed"  #: the peer went away


class Reporter:
    """Where a chardev's messages go: QEMU's ``info_report``, ``error_report`` and ``qemu_printf``.

    The default writes bare lines; the emulator passes one that adds the
    program name and the option being processed, as QEMU's error reporting does.
    """

    def info(self, message: str) -> None:
        """An informational line (``info_report``), e.g. while waiting for a client."""
        sys.stderr.write(f"info: {message}\n")

    def error(self, message: str) -> None:
        """An error that does not stop anything (``error_report``), e.g. a failed reconnect."""
        sys.stderr.write(message + "\n")

    def printf(self, text: str) -> None:
        """Text for the user (``qemu_printf``): stdout, or the current human monitor."""
        sys.stdout.write(text)
        sys.stdout.flush()


def _fd_number(name: str) -> int:
    """An fd given on the command line (``fd=3``): QEMU's ``socket_get_fd`` without a monitor."""
    if not name.isdigit():
        raise ConfigError(f"Unable to parse FD number {name}")
    return int(name)


@dataclass
class ChardevContext:
    """What a chardev needs from the emulator: its main loop, QOM root, reporter and fd table.

    ``get_fd`` resolves an fd *name* as a monitor's ``getfd`` table does; the
    default reads a number, as QEMU does for ``-chardev ...,fd=N``.
    ``request_quit`` is how a mux's ``C-a x`` stops the emulator.  ``startup``
    is true while the emulator starts (``-chardev``): muxes open later then.
    """

    loop: asyncio.AbstractEventLoop
    root: Object
    reporter: Reporter = field(default_factory=Reporter)
    get_fd: Callable[[str], int] = _fd_number
    request_quit: Callable[[], None] | None = None
    startup: bool = False


CanReceive = Callable[[], int]
Receive = Callable[[bytes], None]
EventHandler = Callable[[ChrEvent], None]


@register_type
class Chardev(Object):
    """Base of every character backend (abstract QOM type ``chardev``).

    A backend subclass sets ``BACKEND`` (its ``-chardev`` name), turns
    ``-chardev`` options into its QAPI data (declared in
    :mod:`pyqemu.qapi.char`) in :meth:`parse_opts`, and implements
    :meth:`open`, :meth:`chr_write` and :meth:`close`.
    """

    TYPE = "chardev"
    ABSTRACT = True
    #: The backend's name in ``-chardev NAME`` and ``ChardevBackend``'s ``type``.
    BACKEND: ClassVar[str] = ""

    def __init__(self) -> None:
        super().__init__()
        self.label = ""
        self.filename = ""
        self.be: CharBackend | None = None
        self.be_open = False
        self._ctx: ChardevContext | None = None
        #: QEMU's ``chr_write_lock``: serializes writers from the loop and vCPU threads.
        self.write_lock = threading.RLock()
        self._log_fd = -1
        self._closed = False

    # -- set-up and tear-down ---------------------------------------------

    @property
    def ctx(self) -> ChardevContext:
        assert self._ctx is not None, "chardev used before chardev_new()"
        return self._ctx

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self.ctx.loop

    @classmethod
    def parse_opts(cls, opts: Opts) -> dict[str, Any]:
        """Turn checked ``-chardev`` options into this backend's QAPI data (QEMU's ``parse``)."""
        return {}

    def open(self, data: Mapping[str, Any]) -> bool:
        """Open the backend from its QAPI data; True if a peer is there already.

        Raise a QemuError with QEMU's text on failure; :meth:`close` is
        called then, so it must cope with a half-open backend.
        """
        return True

    def open_log(self, data: Mapping[str, Any]) -> None:
        """Open ``logfile`` (ChardevCommon), which gets a copy of everything written."""
        path = data.get("logfile")
        if path is None:
            return
        mode = os.O_APPEND if data.get("logappend") else os.O_TRUNC
        try:
            self._log_fd = os.open(path, os.O_WRONLY | os.O_CREAT | mode, _FILE_MODE)
        except OSError as err:
            raise ConfigError(f"Could not create '{path}': {os.strerror(err.errno or 0)}") from err

    def close(self) -> None:
        """Release the backend's fds, watches and timers. Subclasses extend it."""
        if self._log_fd >= 0:
            os.close(self._log_fd)
            self._log_fd = -1

    def finalize(self) -> None:
        if not self._closed:
            self._closed = True
            self.close()
        if self.be is not None:
            self.be.chr = None
            self.be = None
        super().finalize()

    # -- frontend -> outside ------------------------------------------------

    def write(self, data: bytes) -> int:
        """Send ``data`` to the outside; the count written or queued (QEMU's ``qemu_chr_write``).

        Safe from any thread.  Fewer than ``len(data)`` (often 0) means the
        rest was dropped — no peer is connected, or the queue is full; QEMU
        frontends drop the data then too.
        """
        if not data or self._closed:
            return 0
        with self.write_lock:
            count = self.chr_write(bytes(data))
            if count > 0 and self._log_fd >= 0:
                os.write(self._log_fd, data[:count])
        return count

    def chr_write(self, data: bytes) -> int:
        """Backend-specific write, called with :attr:`write_lock` held."""
        return len(data)

    def set_echo(self, echo: bool) -> None:
        """Ask a terminal backend to echo typed input or not (``qemu_chr_fe_set_echo``)."""

    def set_fe_open(self, fe_open: bool) -> None:
        """The frontend opened or closed its side (``chr_set_fe_open``)."""

    def update_read_handler(self) -> None:
        """The frontend's handlers or readiness changed: start or stop reading. Loop thread."""

    def accept_input(self) -> None:
        """The frontend can take data again; safe from any thread (``qemu_chr_fe_accept_input``)."""
        if self._ctx is not None and not self._closed:
            self.loop.call_soon_threadsafe(self._accept_input_on_loop)

    def _accept_input_on_loop(self) -> None:
        if not self._closed:
            self.update_read_handler()

    # -- outside -> frontend (main loop only) ---------------------------------

    def be_can_write(self) -> int:
        """How many bytes the frontend takes now; 0 without one (``qemu_chr_be_can_write``)."""
        return max(0, self.read_poll())

    def read_poll(self) -> int:
        """Like :meth:`be_can_write`, but -1 without a frontend: no reason to look again later."""
        be = self.be
        if be is None or be.can_receive is None:
            return -1
        return be.can_receive()

    def be_write(self, data: bytes) -> None:
        """Hand bytes read from the outside to the frontend (``qemu_chr_be_write``)."""
        be = self.be
        if be is not None and be.receive is not None:
            be.receive(data)

    def be_event(self, event: ChrEvent) -> None:
        """Record the open state and tell the frontend (``qemu_chr_be_event``)."""
        if event is ChrEvent.OPENED:
            self.be_open = True
        elif event is ChrEvent.CLOSED:
            self.be_open = False
        be = self.be
        if be is not None and be.event is not None:
            be.event(event)

    # -- frontends ---------------------------------------------------------

    def attach_frontend(self, be: CharBackend) -> int:
        """Take ``be`` as this chardev's frontend; its tag. One at a time, as in QEMU."""
        if self.be is not None:
            raise ConfigError(f"Device '{self.label}' is in use")
        self.be = be
        return 0

    def detach_frontend(self, be: CharBackend) -> None:
        if self.be is be:
            self.be = None

    def frontend_focus(self, be: CharBackend) -> None:
        """``be`` installed its handlers: a mux gives it the focus; others have one frontend."""

    def is_busy(self) -> bool:
        """True while a frontend uses the chardev (``qemu_chr_is_busy``)."""
        return self.be is not None

    def info(self) -> dict[str, Any]:
        """The ``ChardevInfo`` of ``query-chardev``."""
        be = self.be
        return {
            "label": self.label,
            "filename": self.filename,
            "frontend-open": bool(be is not None and be.fe_open),
        }


class CharBackend:
    """A frontend's handle on a chardev (QEMU's ``CharBackend``, ``qemu_chr_fe_*``).

    ``can_receive`` says how many bytes the device takes now, ``receive``
    gets them, ``event`` gets :class:`ChrEvent` values; all run on the main
    loop.  :meth:`write` may be called from any thread.
    """

    def __init__(self) -> None:
        self.chr: Chardev | None = None
        self.tag = 0
        self.fe_open = False
        self.can_receive: CanReceive | None = None
        self.receive: Receive | None = None
        self.event: EventHandler | None = None

    def init(self, chr: Chardev) -> None:
        """Attach to ``chr``; QEMU's "Device 'X' is in use" if it has a frontend already."""
        self.tag = chr.attach_frontend(self)
        self.fe_open = False
        self.chr = chr

    def set_handlers(
        self,
        can_receive: CanReceive | None,
        receive: Receive | None,
        event: EventHandler | None = None,
        *,
        set_open: bool = True,
        sync_state: bool = True,
    ) -> None:
        """Install the device's handlers (all None: detach them), as ``qemu_chr_fe_set_handlers``.

        A frontend attaching to an already connected chardev gets ``OPENED`` at
        once, unless ``sync_state`` is false (a mux listening to its base).
        """
        chr = self.chr
        if chr is None:
            return
        fe_open = not (can_receive is None and receive is None and event is None)
        self.can_receive, self.receive, self.event = can_receive, receive, event
        chr.update_read_handler()
        if set_open:
            self.set_open(fe_open)
        if fe_open:
            chr.frontend_focus(self)
            if sync_state and chr.be_open:
                chr.be_event(ChrEvent.OPENED)

    def set_open(self, fe_open: bool) -> None:
        """Tell the chardev the device opened or closed its side (``qemu_chr_fe_set_open``)."""
        if self.chr is None or self.fe_open == fe_open:
            return
        self.fe_open = fe_open
        self.chr.set_fe_open(fe_open)

    def write(self, data: bytes) -> int:
        """Send bytes out; 0 without a chardev (``qemu_chr_fe_write``)."""
        return self.chr.write(data) if self.chr is not None else 0

    def accept_input(self) -> None:
        """Say the device can take data again, e.g. after the guest emptied a FIFO."""
        if self.chr is not None:
            self.chr.accept_input()

    def set_echo(self, echo: bool) -> None:
        if self.chr is not None:
            self.chr.set_echo(echo)

    @property
    def backend_open(self) -> bool:
        """True while the chardev has a peer (``qemu_chr_fe_backend_open``)."""
        return self.chr is not None and self.chr.be_open

    def deinit(self, delete: bool = False) -> None:
        """Detach from the chardev, and with ``delete`` remove it too (``qemu_chr_fe_deinit``)."""
        chr = self.chr
        if chr is None:
            return
        self.set_handlers(None, None, None)
        chr.detach_frontend(self)
        self.chr = None
        if delete:
            chr.unparent()


def chardevs_container(root: Object) -> Object:
    """``/chardevs``, created on first use."""
    return container_get(root, CHARDEVS_PATH)


def chardev_find(root: Object, label: str) -> Chardev | None:
    """The chardev with id ``label`` (``qemu_chr_find``), or None."""
    chr = chardevs_container(root).child(label)
    return chr if isinstance(chr, Chardev) else None


def chardev_new(
    label: str, typename: str, data: Mapping[str, Any], ctx: ChardevContext
) -> Chardev:
    """Create, open and place at ``/chardevs/LABEL`` a chardev of ``typename`` (``chardev_new``).

    ``data`` is the backend's checked QAPI data.  On failure nothing is left behind.
    """
    chr = object_new(typename)
    assert isinstance(chr, Chardev)
    chr.label = label
    chr._ctx = ctx
    try:
        chr.open_log(data)
        be_opened = chr.open(data)
    except BaseException:
        chr.unref()
        raise
    if not chr.filename:
        chr.filename = typename[len(TYPE_PREFIX):]
    try:
        if be_opened:
            chr.be_event(ChrEvent.OPENED)
        chardevs_container(ctx.root).add_child(label, chr)
    finally:
        chr.unref()  # the tree holds it now, or it is finalized and closed
    return chr


def chardev_remove(root: Object, label: str) -> None:
    """Remove and close ``/chardevs/LABEL`` (``chardev-remove``), or QEMU's error."""
    chr = chardev_find(root, label)
    if chr is None:
        raise ConfigError(f"Chardev '{label}' not found")
    if chr.is_busy():
        raise ConfigError(f"Chardev '{label}' is busy")
    chr.unparent()


def chardev_cleanup(root: Object) -> None:
    """Close every chardev, e.g. at exit (QEMU's ``qemu_chr_cleanup``): terminals are restored."""
    chardevs_container(root).unparent()


def query_chardev(root: Object) -> list[dict[str, Any]]:
    """``query-chardev``: one ``ChardevInfo`` per chardev."""
    return [chr.info() for chr in chardevs_container(root).children() if isinstance(chr, Chardev)]
