"""Fakes for device tests: an IRQ that records levels, a hand-stepped clock, and a small ISA board."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest


class FakeIrq:
    """An interrupt line: every level the device drives, in order."""

    def __init__(self) -> None:
        self.levels: list[int] = []

    def __call__(self, level: int) -> None:
        self.levels.append(level)

    @property
    def level(self) -> int:
        return self.levels[-1] if self.levels else 0


class FakeTimer:
    """A one-shot timer with the ``mod`` / ``delete`` / ``expire_ns`` of the main loop's Timer."""

    def __init__(self, clock: FakeClock, callback: Callable[[], None]) -> None:
        self.clock = clock
        self.callback = callback
        self.expire_ns: int | None = None

    def mod(self, expire_ns: int) -> None:
        self.expire_ns = expire_ns

    def delete(self) -> None:
        self.expire_ns = None

    @property
    def pending(self) -> bool:
        return self.expire_ns is not None


class FakeClock:
    """A clock that moves only by :meth:`advance`, running due timers in expiry order."""

    def __init__(self, start_ns: int = 0) -> None:
        self.ns = start_ns
        self.timers: list[FakeTimer] = []

    def now_ns(self) -> int:
        return self.ns

    def new_timer(self, callback: Callable[[], None]) -> FakeTimer:
        timer = FakeTimer(self, callback)
        self.timers.append(timer)
        return timer

    def advance(self, ns: int) -> None:
        self.advance_to(self.ns + ns)

    def advance_to(self, target: int) -> None:
        while True:
            due = [t for t in self.timers if t.expire_ns is not None and t.expire_ns <= target]
            if not due:
                break
            timer = min(due, key=lambda t: t.expire_ns or 0)
            assert timer.expire_ns is not None
            self.ns = max(self.ns, timer.expire_ns)
            timer.expire_ns = None
            timer.callback()
        self.ns = target


@pytest.fixture
def irq() -> FakeIrq:
    return FakeIrq()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# -- a machine with an ISA bus, for the QOM devices ------------------------------------


class FakeHost:
    """What devices ask of the emulator (``machine.host``), recorded; the virtual clock is stepped."""

    def __init__(self) -> None:
        from pyqemu.util.main_loop import ClockType, MainLoop

        self.main_loop = MainLoop()
        virtual = self.main_loop.clock(ClockType.VIRTUAL)
        virtual.set_enabled(True)  # the guest runs: its timers may fire
        virtual.set_manual()
        self.rtc: object | None = None
        self.events: list[tuple[str, dict | None]] = []
        self.resets = 0
        self.exits: list[int] = []
        self.wakeups: list[str] = []
        self.warnings: list[str] = []
        self.shutdowns = 0
        self.suspends = 0
        self.wakeup_disabled: set[str] = set()

    def emit_event(self, name: str, data: dict | None = None) -> None:
        self.events.append((name, data))

    def guest_reset(self) -> None:
        self.resets += 1

    def guest_exit(self, status: int) -> None:
        self.exits.append(status)

    def guest_shutdown(self) -> None:
        self.shutdowns += 1

    def guest_suspend(self) -> None:
        self.suspends += 1

    def wakeup_enable(self, reason: str, enabled: bool) -> None:
        (self.wakeup_disabled.discard if enabled else self.wakeup_disabled.add)(reason)

    def wakeup(self, reason: str) -> None:
        self.wakeups.append(reason)

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def step(self, ns: int) -> None:
        """Advance the virtual clock by ``ns``, running its timers."""
        from pyqemu.util.main_loop import ClockType

        clock = self.main_loop.clock(ClockType.VIRTUAL)
        self.main_loop.step_clock(ClockType.VIRTUAL, clock.now_ns() + ns)


class Board:
    """``/machine`` (the ``none`` board) with a main system bus, an ISA bus and its 16 IRQ lines."""

    def __init__(self) -> None:
        from pyqemu.hw.core.bus import main_system_bus
        from pyqemu.hw.core.irq import allocate_irqs
        from pyqemu.hw.isa.isa_bus import isa_bus_new
        from pyqemu.qom.object import Container, object_new

        self.root = Container()
        self.machine = object_new("none-machine")
        self.root.add_child("machine", self.machine)
        self.machine.unref()
        self.host = FakeHost()
        self.machine.host = self.host  # type: ignore[attr-defined]
        self.memory = self.machine.memory_system  # type: ignore[attr-defined]
        sysbus = main_system_bus(self.machine)
        self.irqs: dict[int, list[int]] = {n: [] for n in range(16)}
        lines = allocate_irqs(lambda n, level: self.irqs[n].append(level), 16)
        self.isa = isa_bus_new(None, self.memory.system_io, lines, sysbus=sysbus)

    def create(self, typename: str, **props: object) -> Any:
        """Create, configure (JSON values) and realize an ISA device."""
        from pyqemu.hw.isa.isa_bus import isa_new, isa_realize_and_unref

        dev = isa_new(typename)
        self.machine.peripheral(anonymous=True).add_child("device[*]", dev)  # type: ignore[attr-defined]
        for name, value in props.items():
            dev.property_set(name, value)
        isa_realize_and_unref(dev, self.isa)
        return dev

    def ringbuf(self, label: str) -> Any:
        from pyqemu.chardev.char import ChardevContext, chardev_new

        return chardev_new(label, "chardev-ringbuf", {}, ChardevContext(self.host.main_loop.loop, self.root))

    def outb(self, port: int, value: int, size: int = 1) -> None:
        self.memory.address_space_io.write(port, value, size)

    def inb(self, port: int, size: int = 1) -> int:
        return self.memory.address_space_io.read(port, size)

    def close(self) -> None:
        from pyqemu.chardev.char import chardev_cleanup

        chardev_cleanup(self.root)
        self.host.main_loop.close()


@pytest.fixture
def board() -> Iterator[Board]:
    board = Board()
    yield board
    board.close()
