"""Devices, pyqemu beside QEMU 7.2: cold-plug rate, memory per device, QOM tree walk.

* Cold-plug: N ``isa-debug-exit`` devices (distinct ports) on ``-M pc``.
  pyqemu adds them over QMP in phase ``initialized`` (the RFC's window); both
  emulators also take them as N ``-device`` options, timed as the growth of
  exec-to-QMP-greeting over a start without them.
* Memory: resident set growth per device (VmRSS, before and after).
* QOM walk: ``qom-list`` of every object of ``-M q35``, recursively, over QMP.

    python bench/devices.py [--devices N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "pyqemu-system-x86_64"
PYQEMU = [*([str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "pyqemu"]), "-accel", "qtest"]
QEMU = shutil.which("qemu-system-x86_64")
BASE = ["-nodefaults", "-display", "none"]


class Qmp:
    """A minimal blocking QMP client: enough for timing, nothing in the way."""

    def __init__(self, path: str):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.reader = self.sock.makefile("rb")
        self.reader.readline()
        self.call("qmp_capabilities")

    def call(self, name: str, **arguments: Any) -> Any:
        import json

        self.sock.sendall(json.dumps({"execute": name, "arguments": arguments}).encode())
        while True:
            reply = json.loads(self.reader.readline())
            if "event" not in reply:
                if "error" in reply:
                    raise RuntimeError(reply["error"]["desc"])
                return reply["return"]


@contextmanager
def running(command: list[str], *extra: str) -> Iterator[tuple[Qmp, subprocess.Popen[bytes], float]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "qmp.sock")
        start = time.perf_counter()
        proc = subprocess.Popen([*command, *BASE, *extra, "-qmp", f"unix:{path},server=on,wait=off"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            while not os.path.exists(path):
                if proc.poll() is not None:
                    raise SystemExit(f"{command[0]} {' '.join(extra[:4])} … exited")
                time.sleep(0.001)
            qmp = Qmp(path)
            yield qmp, proc, time.perf_counter() - start
        finally:
            proc.terminate()
            proc.wait(timeout=60)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def device_args(count: int) -> list[str]:
    return [arg for i in range(count)
            for arg in ("-device", f"isa-debug-exit,iobase={0x1000 + 4 * i:#x},iosize=4")]


def cli_rate(command: list[str], count: int) -> tuple[float, float]:
    """(devices per second from the start-up growth, KiB of RSS per device)."""
    with running(command, "-M", "pc", "-S") as (_, proc, bare):
        bare_rss = rss_kib(proc.pid)
    with running(command, "-M", "pc", "-S", *device_args(count)) as (_, proc, full):
        full_rss = rss_kib(proc.pid)
    return count / max(full - bare, 1e-6), (full_rss - bare_rss) / count


def qmp_rate(count: int) -> tuple[float, float]:
    """pyqemu only: device_add in phase initialized; (devices per second, KiB of RSS per device)."""
    with running(PYQEMU, "-M", "pc", "-preconfig") as (qmp, proc, _):
        qmp.call("next-machine-phase")
        before = rss_kib(proc.pid)
        start = time.perf_counter()
        for i in range(count):
            qmp.call("device_add", driver="isa-debug-exit", iobase=0x1000 + 4 * i, iosize=4)
        took = time.perf_counter() - start
        return count / took, (rss_kib(proc.pid) - before) / count


def qom_walk(command: list[str]) -> tuple[int, float]:
    """(objects, ms) for a recursive qom-list of ``-M q35`` from /."""
    with running(command, "-M", "q35", "-S") as (qmp, _, _):
        start = time.perf_counter()
        todo, seen = ["/"], 0
        while todo:
            path = todo.pop()
            seen += 1
            for prop in qmp.call("qom-list", path=path):
                if prop["type"].startswith("child<"):
                    todo.append(path.rstrip("/") + "/" + prop["name"])
        return seen, (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=1000)
    count = parser.parse_args().devices
    rate, per_dev = qmp_rate(count)
    print(f"pyqemu, {count} x device_add in 'initialized': {rate:8.0f} devices/s, {per_dev:6.1f} KiB/device")
    rows = [("pyqemu", PYQEMU)] + ([("qemu", [QEMU, "-accel", "tcg"])] if QEMU else [])
    for name, command in rows:
        rate, per_dev = cli_rate(command, count)
        print(f"{name:6}, {count} x -device:                {rate:8.0f} devices/s, {per_dev:6.1f} KiB/device")
    for name, command in rows:
        objects, ms = qom_walk(command)
        print(f"{name:6}, qom-list walk of q35: {objects} objects in {ms:7.1f} ms")


if __name__ == "__main__":
    main()
