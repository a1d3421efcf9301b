"""Non-blocking fd plumbing shared by the backends: a flow-controlled reader and a buffered writer.

:class:`FdReader` is QEMU's ``io_add_watch_poll``: the fd is watched on the
main loop only while the frontend can take data, and each read asks for no
more than it can take, so a slow guest pushes back on the peer instead of
losing bytes.  When the frontend is full the watch is dropped; it comes back
when the frontend calls ``accept_input`` or, as a safety net for frontends
that never do, after :data:`RECHECK_INTERVAL`.

:class:`FdWriter` writes at once from whichever thread calls it (the main
loop, or a vCPU thread holding the big lock), never blocking: what the fd
does not take is queued, and the main loop flushes the queue when the fd
becomes writable.  The only asyncio call made off the loop thread is
``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import os
import select
import threading
from collections.abc import Callable

from pyqemu.chardev.char import READ_BUF_LEN

#: How often a paused reader asks the frontend again, in seconds.
RECHECK_INTERVAL = 0.05
#: The most bytes a writer queues; beyond that, writes are cut short (dropped).
WRITE_QUEUE_MAX = 4 << 20
#: Writes to a shared blocking fd (stdout) go in pieces no larger than this.
_PIPE_BUF = select.PIPE_BUF

Recv = Callable[[int], bytes]
Send = Callable[[bytes], int]


class FdReader:
    """Reads ``fd`` on the loop while ``can_read() > 0``; gives the bytes to ``on_data``.

    ``can_read`` returns 0 while the frontend is full (the reader looks again
    later) and a negative number without a frontend (it waits to be updated).

    ``on_eof`` gets None at end of file or the OSError that ended reading;
    the reader is stopped by then.  Use from the loop thread only.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        fd: int,
        can_read: Callable[[], int],
        on_data: Callable[[bytes], None],
        on_eof: Callable[[OSError | None], None],
        recv: Recv | None = None,
    ) -> None:
        self._loop = loop
        self._fd = fd
        self._can_read = can_read
        self._on_data = on_data
        self._on_eof = on_eof
        self._recv: Recv = recv if recv is not None else (lambda size: os.read(fd, size))
        self._watching = False
        self._recheck: asyncio.TimerHandle | None = None
        #: A regular file cannot be watched (epoll refuses it) but is always readable.
        self._always_ready = False
        self.stopped = False

    def update(self) -> None:
        """Watch the fd if the frontend can take data, else stop watching and check again later."""
        if self.stopped:
            return
        self._cancel_recheck()
        size = self._can_read()
        if size > 0:
            if not self._watching:
                self._watch()
            return
        self._unwatch()
        if size == 0:
            self._recheck = self._loop.call_later(RECHECK_INTERVAL, self.update)

    def _watch(self) -> None:
        if not self._always_ready:
            try:
                self._loop.add_reader(self._fd, self._ready)
                self._watching = True
                return
            except PermissionError:
                self._always_ready = True
        self._recheck = self._loop.call_soon(self._ready)

    def stop(self) -> None:
        """Stop for good (before the fd is closed)."""
        self.stopped = True
        self._cancel_recheck()
        self._unwatch()

    def _unwatch(self) -> None:
        if self._watching and not self._always_ready:
            self._loop.remove_reader(self._fd)
            self._watching = False

    def _cancel_recheck(self) -> None:
        if self._recheck is not None:
            self._recheck.cancel()
            self._recheck = None

    def _ready(self) -> None:
        self._recheck = None
        size = self._can_read()
        if size <= 0:
            self.update()
            return
        try:
            data = self._recv(min(size, READ_BUF_LEN))
        except (BlockingIOError, InterruptedError):
            return
        except OSError as err:
            self.stop()
            self._on_eof(err)
            return
        if not data:
            self.stop()
            self._on_eof(None)
            return
        self._on_data(data)
        self.update()


def fd_writable(fd: int) -> bool:
    """True if a write to ``fd`` would not block now (it may fail: a hung-up fd counts)."""
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return bool(poller.poll(0))


class FdWriter:
    """Writes to ``fd`` without blocking from any thread; queues the rest for the loop.

    ``lock`` is the chardev's write lock, held by callers of :meth:`write` and
    taken by the loop's flush.  ``on_error`` gets a write error (e.g. EPIPE),
    on the loop thread.  With ``shared_blocking`` the fd is one we must not
    make non-blocking (stdout): writes then go in pieces while poll says the
    fd is writable.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        fd: int,
        lock: threading.RLock,
        on_error: Callable[[OSError], None],
        *,
        send: Send | None = None,
        shared_blocking: bool = False,
    ) -> None:
        self._loop = loop
        self._fd = fd
        self._lock = lock
        self._on_error = on_error
        self._send: Send = send if send is not None else (lambda data: os.write(fd, data))
        self._shared_blocking = shared_blocking
        self._queue = bytearray()
        self._armed = False
        self.closed = False

    @property
    def queued(self) -> int:
        """Bytes waiting for the fd to become writable."""
        return len(self._queue)

    def write(self, data: bytes) -> int:
        """Write or queue ``data``; the count taken. Call with the lock held."""
        if self.closed:
            return 0
        if self._queue:
            return self._enqueue(data)
        try:
            done = self._write_now(data)
        except OSError as err:
            self._loop.call_soon_threadsafe(self._report, err)
            return 0
        if done < len(data):
            done += self._enqueue(data[done:])
            self._loop.call_soon_threadsafe(self._arm)
        return done

    def close(self) -> None:
        """Stop writing; the queue is dropped. Loop thread (or before the loop runs)."""
        with self._lock:
            self.closed = True
            self._queue.clear()
            if self._armed:
                self._loop.remove_writer(self._fd)
                self._armed = False

    def _enqueue(self, data: bytes) -> int:
        room = max(0, WRITE_QUEUE_MAX - len(self._queue))
        self._queue += data[:room]
        return min(room, len(data))

    def _write_now(self, data: bytes) -> int:
        """Write what the fd takes without blocking; raises OSError except for EAGAIN."""
        done = 0
        while done < len(data):
            if self._shared_blocking and not fd_writable(self._fd):
                break
            chunk = data[done:done + _PIPE_BUF] if self._shared_blocking else data[done:]
            try:
                written = self._send(chunk)
            except (BlockingIOError, InterruptedError):
                break
            if written <= 0:
                break
            done += written
        return done

    def _arm(self) -> None:
        with self._lock:
            if self.closed or self._armed or not self._queue:
                return
            self._loop.add_writer(self._fd, self._flush)
            self._armed = True

    def _flush(self) -> None:
        with self._lock:
            if self.closed:
                return
            try:
                done = self._write_now(bytes(self._queue))
            except OSError as err:
                self._queue.clear()
                done = 0
                error: OSError | None = err
            else:
                error = None
                del self._queue[:done]
            if not self._queue:
                self._loop.remove_writer(self._fd)
                self._armed = False
        if error is not None:
            self._report(error)

    def _report(self, err: OSError) -> None:
        if not self.closed:
            self._on_error(err)
