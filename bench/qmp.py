"""QMP speed, pyqemu beside QEMU 7.2: round trips, time to greeting, query-qmp-schema.

For each emulator (``-M none -S``, a QMP unix socket):

* sequential ``query-status`` round trips per second on one connection, with
  a raw socket client and with qemu.qmp's QMPClient;
* milliseconds from exec to the QMP greeting, with ``-S`` and with ``-preconfig``;
* milliseconds for one ``query-qmp-schema``.

    python bench/qmp.py [--seconds S] [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qemu.qmp import QMPClient

SCRIPT = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "pyqemu-system-x86_64"
PYQEMU = [*([str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "pyqemu"]), "-accel", "qtest"]
QEMU = shutil.which("qemu-system-x86_64")
BASE = ["-M", "none", "-nodefaults", "-display", "none"]


@contextmanager
def running(command: list[str], *extra: str) -> Iterator[tuple[str, float]]:
    """Start an emulator; yield its socket path and ms from exec to the greeting."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "qmp.sock")
        start = time.perf_counter()
        proc = subprocess.Popen([*command, *BASE, *extra, "-qmp", f"unix:{path},server=on,wait=off"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    with socket.socket(socket.AF_UNIX) as probe:
                        probe.connect(path)
                        probe.recv(4096)
                    break
                except OSError:
                    if proc.poll() is not None:
                        raise SystemExit(f"{command[0]} exited") from None
                    time.sleep(0.001)
            yield path, (time.perf_counter() - start) * 1000
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def raw_round_trips(path: str, seconds: float) -> float:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(path)
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(b'{"execute": "qmp_capabilities"}')
        reader.readline()
        count, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            sock.sendall(b'{"execute": "query-status"}')
            reader.readline()
            count += 1
        return count / seconds


async def _client_round_trips(path: str, seconds: float) -> float:
    qmp = QMPClient("bench")
    await qmp.connect(path)
    count, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        await qmp.execute("query-status")
        count += 1
    await qmp.disconnect()
    return count / seconds


async def _schema_ms(path: str) -> float:
    qmp = QMPClient("bench")
    await qmp.connect(path)
    start = time.perf_counter()
    await qmp.execute("query-qmp-schema")
    took = (time.perf_counter() - start) * 1000
    await qmp.disconnect()
    return took


def measure(command: list[str], seconds: float, runs: int) -> dict[str, float]:
    results: dict[str, float] = {}
    with running(command, "-S") as (path, _):
        results["query-status/s, raw socket"] = raw_round_trips(path, seconds)
        results["query-status/s, qemu.qmp"] = asyncio.run(_client_round_trips(path, seconds))
        results["query-qmp-schema, ms"] = statistics.median(
            asyncio.run(_schema_ms(path)) for _ in range(runs))
    for flag in ("-S", "-preconfig"):
        greetings = []
        for _ in range(runs):
            with running(command, flag) as (_, ms):
                greetings.append(ms)
        results[f"exec to greeting {flag}, ms"] = statistics.median(greetings)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ours = measure(PYQEMU, args.seconds, args.runs)
    theirs = measure([QEMU, "-accel", "tcg"], args.seconds, args.runs) if QEMU else {}
    print(f"{'':34} {'pyqemu':>10} {'qemu':>10} {'pyqemu/qemu':>12}")
    for name, value in ours.items():
        ref = theirs.get(name)
        ratio = f"{value / ref:11.2f}x" if ref else ""
        print(f"{name:34} {value:10.1f} {ref if ref is not None else float('nan'):10.1f} {ratio}")


if __name__ == "__main__":
    main()
