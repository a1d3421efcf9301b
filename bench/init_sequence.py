"""Start-up to the main loop: pyqemu's init trace, and exec-to-QMP-greeting beside QEMU.

1. Runs ``pyqemu-system-x86_64 -M none -S -accel qtest -x-init-trace on``
   N times and prints the median time from exec to the end of start-up and
   each stage's share of it (from the init trace).
2. Times exec to the QMP greeting on a unix socket for ``-M none -S``, for
   pyqemu and, when installed, QEMU 7.2 (QEMU has no init trace: the greeting
   is the nearest thing both show), and prints the ratio.

    python bench/init_sequence.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "pyqemu-system-x86_64"
PYQEMU = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "pyqemu"]
QEMU = shutil.which("qemu-system-x86_64")
BASE = ["-M", "none", "-S", "-nodefaults", "-display", "none"]
_STAGE = re.compile(r"^    (.+?)\s+([\d.]+)$")
_STEP = re.compile(r"^  (.{22}) (\S+)\s+([\d.]+)\s+([\d.]+)\s+(\S+)$")


def trace_once() -> tuple[float, dict[str, float]]:
    """One start: ms from exec to the last step's end, and ms per stage."""
    proc = subprocess.Popen([*PYQEMU, *BASE, "-accel", "qtest", "-x-init-trace", "on"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stderr is not None
    stages: dict[str, float] = {}
    end = 0.0
    in_stages = False
    for line in proc.stderr:
        if line.startswith("  time per stage"):
            in_stages = True
            continue
        step = _STEP.match(line.rstrip("\n"))
        if step and not in_stages:
            end = max(end, float(step[3]) + float(step[4]))
        stage = _STAGE.match(line.rstrip("\n"))
        if in_stages and stage:
            stages[stage[1].strip()] = float(stage[2])
            if stage[1].strip() == "start":
                break
    proc.terminate()
    proc.communicate(timeout=20)
    return end, stages


def greeting_once(command: list[str]) -> float | None:
    """ms from exec until the QMP greeting arrives on a unix socket; None if it never does."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "qmp.sock")
        start = time.perf_counter()
        proc = subprocess.Popen([*command, *BASE, "-qmp", f"unix:{path},server=on,wait=off"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            while time.perf_counter() - start < 20:
                if proc.poll() is not None:
                    return None
                try:
                    with socket.socket(socket.AF_UNIX) as sock:
                        sock.connect(path)
                        if sock.recv(4096).startswith(b'{"QMP"'):
                            return (time.perf_counter() - start) * 1000
                except OSError:
                    time.sleep(0.001)
            return None
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs

    results = [trace_once() for _ in range(runs)]
    total = statistics.median(r[0] for r in results)
    print(f"pyqemu -M none -S: exec to end of start-up, median of {runs}: {total:.1f} ms")
    for name in results[0][1]:
        share = statistics.median(r[1].get(name, 0.0) for r in results)
        print(f"  {name:26} {share:8.2f} ms  {100 * share / total:5.1f} %")

    print(f"\nexec to QMP greeting, -M none -S, median of {runs} (ms):")
    ours = [g for g in (greeting_once([*PYQEMU, "-accel", "qtest"]) for _ in range(runs)) if g]
    mine = statistics.median(ours) if ours else None
    print(f"  pyqemu  {mine:8.1f}" if mine else "  pyqemu  no greeting")
    if QEMU:
        theirs = [g for g in (greeting_once([QEMU, "-accel", "tcg"]) for _ in range(runs)) if g]
        ref = statistics.median(theirs) if theirs else None
        print(f"  qemu    {ref:8.1f}" if ref else "  qemu    no greeting")
        if mine and ref:
            print(f"  ratio   {mine / ref:8.2f}x")


if __name__ == "__main__":
    main()
