"""The demo behind ``make run``: build a machine phase by phase over QMP, as the RFC proposes.

Starts ``pyqemu-system-x86_64 -preconfig`` with a QMP socket, connects with
the qemu.qmp library, steps the machine from ``accel-created`` to ``ready``
(cold-plugging a device in ``initialized`` when the board has a bus for it),
prints what happened at each phase and the init trace, then quits.

    python scripts/demo.py [MACHINE]        (default: microvm if available, else none)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qemu.qmp import ExecuteError, QMPClient

SCRIPT = Path(sys.executable).parent / "pyqemu-system-x86_64"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "pyqemu"]


def start(machine: str, socket_path: str) -> subprocess.Popen[bytes]:
    argv = [*COMMAND, "-M", machine, "-accel", "qtest", "-nodefaults", "-display", "none",
            "-preconfig", "-qmp", f"unix:{socket_path},server=on,wait=off"]
    print("$", " ".join(argv[len(COMMAND) - 1:]))
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not os.path.exists(socket_path):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("pyqemu did not start")
        time.sleep(0.02)
    return proc


async def walk(socket_path: str, machine: str) -> None:
    qmp = QMPClient("demo")
    await qmp.connect(socket_path)
    version = qmp.greeting.QMP.version["qemu"] if qmp.greeting else None
    print(f"connected; the server says it is QEMU {version['major']}.{version['minor']}.{version['micro']}"
          if version else "connected")

    async def phase() -> str:
        return str((await qmp.execute("query-machine-phase"))["phase"])

    print(f"phase: {await phase()}   (-preconfig stops here: the accelerator exists, no board yet)")
    await qmp.execute("next-machine-phase")
    print(f"phase: {await phase()}   (board init ran: buses exist, devices can be cold-plugged)")
    try:
        await qmp.execute("device_add", {"driver": "isa-debug-exit", "id": "exit0", "iobase": "0x501"})
        print("device_add isa-debug-exit,id=exit0,iobase=0x501: cold-plugged")
    except ExecuteError as err:
        print(f"device_add isa-debug-exit: {err.error.error.desc}")
    await qmp.execute("next-machine-phase")
    print(f"phase: {await phase()}   (init-done notifiers ran, the machine was reset)")
    print("status:", (await qmp.execute("query-status"))["status"])

    trace = await qmp.execute("x-query-init-trace")
    print("\ninit trace (microseconds since exec):")
    for step in trace:  # type: ignore[union-attr]
        print(f"  {step['stage']:24} {step['step']:28} {step['start-us']:>8} {step['duration-us']:>7}"
              f"  -> {step['phase']}")
    await qmp.execute("quit")
    with contextlib.suppress(EOFError):  # the emulator closes the socket as it exits
        await qmp.disconnect()


def main() -> None:
    machine = sys.argv[1] if len(sys.argv) > 1 else "microvm"
    listing = subprocess.run([*COMMAND, "-M", "help"], capture_output=True, text=True).stdout
    if f"\n{machine} " not in listing:
        machine = "none"
    with tempfile.TemporaryDirectory() as tmp:
        socket_path = os.path.join(tmp, "qmp.sock")
        proc = start(machine, socket_path)
        try:
            asyncio.run(walk(socket_path, machine))
            print("\nexit status:", proc.wait(timeout=30))
        finally:
            if proc.poll() is None:
                proc.kill()


if __name__ == "__main__":
    main()
