"""The main loop: asyncio plus QEMU's clocks, timers, bottom halves and big lock.

One :class:`MainLoop` per emulator.  Its thread holds the big emulator lock
(QEMU's BQL) whenever it runs a handler and drops it only while it waits for
events, exactly as ``main_loop_wait`` does, so device models called from the
loop and from vCPU threads (which take the lock to handle an exit) never run
at the same time.

Clocks, as QEMU's ``QEMUClockType``:

* ``REALTIME`` — monotonic host time; always runs.
* ``VIRTUAL`` — guest time; stopped while the VM is paused, and stepped by
  hand under the qtest accelerator.
* ``HOST`` — wall-clock time (for the RTC), always runs.
"""

from __future__ import annotations

import asyncio
import enum
import heapq
import itertools
import selectors
import threading
import time
from collections.abc import Callable

Callback = Callable[[], None]
NS_PER_SEC = 1_000_000_000


class ClockType(enum.Enum):
    REALTIME = "realtime"
    VIRTUAL = "virtual"
    HOST = "host"


class Clock:
    """One clock: its time in nanoseconds, and whether it runs."""

    def __init__(self, kind: ClockType):
        self.kind = kind
        self.enabled = kind != ClockType.VIRTUAL
        self.manual = False  # qtest: time moves only by step()
        self._offset = 0  # virtual: ns to add to monotonic time
        self._frozen_at = 0  # virtual: the time while stopped or manual

    def now_ns(self) -> int:
        if self.kind == ClockType.HOST:
            return time.time_ns()
        if self.kind == ClockType.REALTIME:
            return time.monotonic_ns()
        if self.manual or not self.enabled:
            return self._frozen_at
        return time.monotonic_ns() + self._offset

    def set_enabled(self, enabled: bool) -> None:
        """Start or stop a virtual clock; stopped time does not count, and its timers wait."""
        if self.kind != ClockType.VIRTUAL or enabled == self.enabled:
            return
        if enabled and not self.manual:
            self._offset = self._frozen_at - time.monotonic_ns()
        else:
            self._frozen_at = self.now_ns()
        self.enabled = enabled

    def set_manual(self) -> None:
        """Make the virtual clock move only through :meth:`step` (qtest)."""
        self._frozen_at = self.now_ns()
        self.manual = True

    def step_to(self, ns: int) -> None:
        self._frozen_at = max(self._frozen_at, ns)


class Timer:
    """A one-shot timer on a clock; re-arm it with :meth:`mod` (QEMU's ``timer_mod``)."""

    def __init__(self, loop: MainLoop, clock: Clock, callback: Callback):
        self._loop = loop
        self.clock = clock
        self.callback = callback
        self.expire_ns: int | None = None

    def mod(self, expire_ns: int) -> None:
        self.expire_ns = expire_ns
        self._loop._arm(self)

    def delete(self) -> None:
        self.expire_ns = None

    @property
    def pending(self) -> bool:
        return self.expire_ns is not None


class BottomHalf:
    """A callback to run soon on the main loop; scheduling it is safe from any thread."""

    def __init__(self, loop: MainLoop, callback: Callback):
        self._loop = loop
        self.callback = callback
        self._scheduled = threading.Event()

    def schedule(self) -> None:
        if not self._scheduled.is_set():
            self._scheduled.set()
            self._loop.call_soon_threadsafe(self._run)

    def _run(self) -> None:
        self._scheduled.clear()
        self.callback()


class _LockReleasingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """The selector of the loop: it drops the big lock while it waits."""

    def __init__(self, lock: threading.RLock):
        super().__init__()
        self._lock = lock

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        self._lock.release()
        try:
            return super().select(timeout)
        finally:
            self._lock.acquire()


class MainLoop:
    """The emulator's event loop, clocks and big lock."""

    def __init__(self) -> None:
        self.bql = threading.RLock()
        self.loop = asyncio.SelectorEventLoop(_LockReleasingSelector(self.bql))
        self.clocks = {kind: Clock(kind) for kind in ClockType}
        self._timers: list[tuple[int, int, Timer]] = []
        self._seq = itertools.count()
        self._wakeup: asyncio.TimerHandle | None = None
        self._loop_thread = threading.get_ident()

    # -- fd handlers and callbacks ---------------------------------------

    def set_fd_handler(self, fd: int, on_read: Callback | None, on_write: Callback | None = None) -> None:
        """Watch ``fd`` (QEMU's ``qemu_set_fd_handler``); None removes a handler."""
        self.loop.remove_reader(fd)
        self.loop.remove_writer(fd)
        if on_read is not None:
            self.loop.add_reader(fd, on_read)
        if on_write is not None:
            self.loop.add_writer(fd, on_write)

    def call_soon_threadsafe(self, callback: Callback) -> None:
        self.loop.call_soon_threadsafe(callback)

    def bh_new(self, callback: Callback) -> BottomHalf:
        return BottomHalf(self, callback)

    # -- timers --------------------------------------------------------------

    def clock(self, kind: ClockType) -> Clock:
        return self.clocks[kind]

    def timer_new(self, kind: ClockType, callback: Callback) -> Timer:
        return Timer(self, self.clocks[kind], callback)

    def _arm(self, timer: Timer) -> None:
        assert timer.expire_ns is not None
        heapq.heappush(self._timers, (timer.expire_ns, next(self._seq), timer))
        if threading.get_ident() == self._loop_thread:
            self.rearm()
        else:  # a vCPU thread (holding the big lock): the loop must wake up to see it
            self.loop.call_soon_threadsafe(self.rearm)

    def _deadline_s(self) -> float | None:
        """Loop time at which the earliest runnable timer expires."""
        best: float | None = None
        for expire, _, timer in self._timers:
            clock = timer.clock
            if timer.expire_ns != expire or not clock.enabled or clock.manual:
                continue
            delay = max(0, expire - clock.now_ns()) / NS_PER_SEC
            best = delay if best is None else min(best, delay)
        return None if best is None else self.loop.time() + best

    def rearm(self) -> None:
        """Recompute when to wake for timers (after any timer or clock change)."""
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._wakeup = None
        when = self._deadline_s()
        if when is not None:
            self._wakeup = self.loop.call_at(when, self.run_expired_timers)

    def run_expired_timers(self) -> int:
        """Run every timer whose clock has reached its expiry; returns how many ran."""
        ran = 0
        progress = True
        while progress:
            progress = False
            for entry in sorted(self._timers):
                expire, _, timer = entry
                if timer.expire_ns != expire:
                    self._timers.remove(entry)
                    continue
                if timer.clock.enabled and timer.clock.now_ns() >= expire:
                    self._timers.remove(entry)
                    timer.expire_ns = None
                    timer.callback()
                    ran += 1
                    progress = True
                    break
        heapq.heapify(self._timers)
        self.rearm()
        return ran

    def next_deadline_ns(self, kind: ClockType) -> int | None:
        """The earliest pending expiry on one clock (qtest's ``clock_step`` without argument)."""
        pending = [e for e, _, t in self._timers if t.expire_ns == e and t.clock.kind == kind]
        return min(pending, default=None)

    def step_clock(self, kind: ClockType, ns: int) -> None:
        """Advance a manual clock to ``ns``, running timers in expiry order on the way."""
        clock = self.clocks[kind]
        while clock.enabled and (deadline := self.next_deadline_ns(kind)) is not None and deadline <= ns:
            clock.step_to(deadline)
            self.run_expired_timers()
        clock.step_to(ns)

    # -- running -------------------------------------------------------------

    def run_until_complete(self, future: asyncio.Future[object] | asyncio.Task[object]) -> object:
        """Run the loop, holding the big lock (except while waiting), until ``future`` is done.

        The caller must not hold the lock already: the selector releases it once per wait.
        """
        with self.bql:
            return self.loop.run_until_complete(future)

    def close(self) -> None:
        self.loop.close()
