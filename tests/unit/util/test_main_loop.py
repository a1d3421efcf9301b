"""The main loop: timers on each clock, the virtual clock's pausing and stepping, bottom halves."""

from __future__ import annotations

import threading
import time

from pyqemu.util.main_loop import ClockType, MainLoop


def _run_for(loop: MainLoop, seconds: float) -> None:
    future = loop.loop.create_future()
    loop.loop.call_later(seconds, future.set_result, None)
    loop.run_until_complete(future)


def test_realtime_timer_fires_in_order() -> None:
    loop = MainLoop()
    fired: list[str] = []
    now = loop.clock(ClockType.REALTIME).now_ns()
    late = loop.timer_new(ClockType.REALTIME, lambda: fired.append("late"))
    early = loop.timer_new(ClockType.REALTIME, lambda: fired.append("early"))
    late.mod(now + 20_000_000)
    early.mod(now + 5_000_000)
    _run_for(loop, 0.05)
    assert fired == ["early", "late"] and not late.pending
    loop.close()


def test_deleted_and_rearmed_timers() -> None:
    loop = MainLoop()
    fired: list[int] = []
    timer = loop.timer_new(ClockType.REALTIME, lambda: fired.append(1))
    now = loop.clock(ClockType.REALTIME).now_ns()
    timer.mod(now + 1_000_000)
    timer.delete()
    _run_for(loop, 0.02)
    assert fired == []
    timer.mod(now + 2_000_000)
    timer.mod(now + 4_000_000)
    _run_for(loop, 0.02)
    assert fired == [1]
    loop.close()


def test_virtual_clock_stops_while_paused() -> None:
    loop = MainLoop()
    clock = loop.clock(ClockType.VIRTUAL)
    clock.set_enabled(False)
    fired: list[int] = []
    timer = loop.timer_new(ClockType.VIRTUAL, lambda: fired.append(1))
    timer.mod(clock.now_ns() + 1_000_000)
    frozen = clock.now_ns()
    _run_for(loop, 0.02)
    assert fired == [] and clock.now_ns() == frozen
    clock.set_enabled(True)
    loop.rearm()
    _run_for(loop, 0.02)
    assert fired == [1] and clock.now_ns() > frozen
    loop.close()


def test_manual_virtual_clock_steps_through_timers() -> None:
    loop = MainLoop()
    clock = loop.clock(ClockType.VIRTUAL)
    clock.set_manual()
    clock.set_enabled(True)
    start = clock.now_ns()
    seen: list[int] = []
    a = loop.timer_new(ClockType.VIRTUAL, lambda: seen.append(clock.now_ns() - start))
    b = loop.timer_new(ClockType.VIRTUAL, lambda: seen.append(clock.now_ns() - start))
    a.mod(start + 300)
    b.mod(start + 100)
    assert loop.next_deadline_ns(ClockType.VIRTUAL) == start + 100
    loop.step_clock(ClockType.VIRTUAL, start + 1000)
    assert seen == [100, 300] and clock.now_ns() == start + 1000
    clock.set_enabled(False)
    a.mod(start + 1500)
    loop.step_clock(ClockType.VIRTUAL, start + 2000)
    assert seen == [100, 300] and clock.now_ns() == start + 2000
    loop.close()


def test_bottom_half_from_another_thread_runs_once_on_the_loop() -> None:
    loop = MainLoop()
    ran: list[str] = []
    bh = loop.bh_new(lambda: ran.append(threading.current_thread().name))
    worker = threading.Thread(target=lambda: (bh.schedule(), bh.schedule()), name="vcpu")
    worker.start()
    worker.join()
    _run_for(loop, 0.02)
    assert ran == [threading.main_thread().name]
    loop.close()


def test_big_lock_is_free_while_the_loop_waits() -> None:
    loop = MainLoop()
    took: list[float] = []

    def vcpu() -> None:
        start = time.monotonic()
        with loop.bql:
            took.append(time.monotonic() - start)

    loop.loop.call_soon(lambda: threading.Thread(target=vcpu).start())
    _run_for(loop, 0.1)
    assert took and took[0] < 0.05
    loop.close()
