"""Start-up time: from exec to exit of short commands, pyqemu beside QEMU.

Runs ``-M none -version`` and ``-M help`` N times each (default 10) with
pyqemu's console script (``.venv/bin/pyqemu-system-x86_64``, else
``python -m pyqemu``) and, when installed, ``qemu-system-x86_64``; prints the
median wall time of each and their ratio.  A command that exits non-zero, or
prints nothing, is reported as such rather than timed.

    python bench/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

CASES: tuple[tuple[str, ...], ...] = (("-M", "none", "-version"), ("-M", "help"))
DEFAULT_RUNS = 10
SCRIPT = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "pyqemu-system-x86_64"


def pyqemu_command() -> list[str]:
    """The console script when the virtualenv has it, else the module."""
    if SCRIPT.exists():
        return [str(SCRIPT)]
    return [sys.executable, "-m", "pyqemu"]


def time_once(command: list[str]) -> tuple[float, str | None]:
    """Seconds from exec to exit, and what went wrong (None when it worked)."""
    start = time.perf_counter()
    proc = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        return seconds, f"exit {proc.returncode}"
    return seconds, None if proc.stdout else "no output"


def median_ms(command: list[str], runs: int) -> float | str:
    """Median milliseconds over ``runs``, or a note saying why it was not timed."""
    samples = []
    for _ in range(runs):
        seconds, failure = time_once(command)
        if failure:
            return failure
        samples.append(seconds * 1000)
    return statistics.median(samples)


def ratio(mine: float | str, theirs: float | str | None) -> str:
    """pyqemu's time as a multiple of QEMU's, when both were timed."""
    if isinstance(mine, float) and isinstance(theirs, float):
        return f"{mine / theirs:.2f}x"
    return "-"


def _cell(value: float | str | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}" if isinstance(value, float) else value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="runs per command")
    runs = parser.parse_args().runs
    ours = pyqemu_command()
    qemu = shutil.which("qemu-system-x86_64")
    print(f"pyqemu: {' '.join(ours)}")
    print(f"qemu:   {qemu or 'not installed'}")
    print(f"median of {runs} runs, milliseconds from exec to exit\n")
    print(f"{'arguments':<20} {'pyqemu':>10} {'qemu':>10} {'ratio':>8}")
    for case in CASES:
        mine = median_ms([*ours, *case], runs)
        theirs = median_ms([qemu, *case], runs) if qemu else None
        print(f"{' '.join(case):<20} {_cell(mine):>10} {_cell(theirs):>10} "
              f"{ratio(mine, theirs):>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
