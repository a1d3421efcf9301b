"""Helpers for tests that run the console script as a process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

QEMU = shutil.which("qemu-system-x86_64")
needs_qemu = pytest.mark.skipif(QEMU is None, reason="qemu-system-x86_64 (the reference) is not installed")


def pyqemu_command() -> list[str]:
    """The console script of this checkout's environment, else ``python -m pyqemu``."""
    script = os.path.join(os.path.dirname(sys.executable), "pyqemu-system-x86_64")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "pyqemu"]


def run_pyqemu(argv: Sequence[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*pyqemu_command(), *argv], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def start_pyqemu(argv: Sequence[str], **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen([*pyqemu_command(), *argv], text=True, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)  # type: ignore[call-overload]


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``condition`` until true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


# -- qtest boards shared by a test module ------------------------------------------------------


@pytest.fixture(scope="module")
def pc() -> Iterator[Any]:
    """``-M pc -nodefaults`` under qtest, IOAPIC inputs intercepted; one per test module."""
    from .qtest_x86 import started

    yield from started("pc")


@pytest.fixture(scope="module")
def q35() -> Iterator[Any]:
    """``-M q35 -nodefaults`` under qtest, IOAPIC inputs intercepted; one per test module."""
    from .qtest_x86 import started

    yield from started("q35")
