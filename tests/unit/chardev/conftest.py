"""Fixtures for chardev tests: a real asyncio loop, a QOM root, and a recording frontend."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest

from pyqemu.chardev.char import CharBackend, Chardev, ChrEvent, Reporter, chardev_cleanup
from pyqemu.qom.object import Container, Object

WAIT_TIMEOUT = 5.0


class RecordingReporter(Reporter):
    """Keeps the messages a chardev reports instead of printing them."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append("info: " + message)

    def error(self, message: str) -> None:
        self.lines.append("error: " + message)

    def printf(self, text: str) -> None:
        self.lines.append(text)


class Frontend:
    """A device model stand-in: takes at most ``room`` bytes, records data and events."""

    def __init__(self, chr: Chardev, room: int = 1 << 20) -> None:
        self.data = bytearray()
        self.events: list[ChrEvent] = []
        self.room = room
        self.be = CharBackend()
        self.be.init(chr)
        self.be.set_handlers(self.can_receive, self.receive, self.events.append)

    def can_receive(self) -> int:
        return self.room

    def receive(self, data: bytes) -> None:
        assert len(data) <= self.room
        self.room -= len(data)
        self.data += data


def run_until(
    loop: asyncio.AbstractEventLoop, done: Callable[[], bool], timeout: float = WAIT_TIMEOUT
) -> None:
    """Run the loop until ``done()`` is true; fail after ``timeout`` seconds."""

    async def wait() -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for the chardev")
            await asyncio.sleep(0.002)

    loop.run_until_complete(wait())


def run_for(loop: asyncio.AbstractEventLoop, seconds: float) -> None:
    loop.run_until_complete(asyncio.sleep(seconds))


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()


@pytest.fixture
def root(loop: asyncio.AbstractEventLoop) -> Iterator[Object]:
    root = Container()
    yield root
    chardev_cleanup(root)


@pytest.fixture
def reporter() -> RecordingReporter:
    return RecordingReporter()
