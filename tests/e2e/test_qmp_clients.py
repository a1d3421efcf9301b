"""QMP with real, unmodified clients: qemu.qmp's QMPClient and its qmp-shell.

The emulator runs as a process; every test talks to it the way management
tools and QEMU's own Python test machinery do.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path

import pytest
from qemu.qmp import ExecuteError, QMPClient

from .conftest import pyqemu_command, start_pyqemu, wait_for

BASE = ["-M", "none", "-accel", "qtest", "-nodefaults", "-display", "none"]
QMP_SHELL = Path(sys.executable).parent / "qmp-shell"


@contextmanager
def emulator(tmp_path: Path, *extra: str, sockets: int = 1) -> Iterator[list[str]]:
    """A running pyqemu with ``sockets`` QMP servers on unix sockets; yields their paths."""
    paths = [str(tmp_path / f"qmp{i}.sock") for i in range(sockets)]
    qmp = [arg for path in paths for arg in ("-qmp", f"unix:{path},server=on,wait=off")]
    proc = start_pyqemu([*BASE, *qmp, *extra])
    try:
        wait_for(lambda: all(os.path.exists(p) for p in paths) or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()
        yield paths
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.communicate(timeout=20)


@asynccontextmanager
async def client(path: str | socket.socket) -> AsyncIterator[QMPClient]:
    """A connected QMPClient; as in QEMU's test machinery, EOF at disconnect after ``quit`` is fine."""
    qmp = QMPClient("test")
    await qmp.connect(path)
    try:
        yield qmp
    finally:
        with suppress(EOFError):
            await qmp.disconnect()


def test_rfc_session_with_qmp_shell(tmp_path: Path) -> None:
    """Seed 002's session, typed into qmp-shell: phases stepped from -preconfig to ready."""
    with emulator(tmp_path, "-preconfig") as (path,):
        script = "\n".join([
            "query-machine-phase", "next-machine-phase", "query-machine-phase",
            "next-machine-phase", "query-machine-phase", "query-status",
        ]) + "\n"
        shell = subprocess.run([str(QMP_SHELL), path], input=script, capture_output=True, text=True,
                               timeout=60)
    lines = (line.removeprefix("(QEMU) ") for line in shell.stdout.splitlines())
    replies = [line for line in lines if line.startswith("{")]
    assert replies == [
        '{"return": {"phase": "accel-created"}}',
        '{"return": {}}',
        '{"return": {"phase": "initialized"}}',
        '{"return": {}}',
        '{"return": {"phase": "ready"}}',
        '{"return": {"status": "running", "singlestep": false, "running": true}}',
    ]
    assert "Connected to QEMU 7.2.0" in shell.stdout


def test_qmp_client_run_control_and_events(tmp_path: Path) -> None:
    async def session(path: str) -> list[str]:
        async with client(path) as qmp:
            seen: list[str] = []
            with qmp.listener() as listener:
                assert await qmp.execute("query-status") == {
                    "status": "prelaunch", "singlestep": False, "running": False}
                await qmp.execute("cont")
                await qmp.execute("stop")
                await qmp.execute("system_reset")
                await qmp.execute("system_powerdown")
                assert (await qmp.execute("query-status"))["status"] == "prelaunch"
                with pytest.raises(ExecuteError) as info:
                    await qmp.execute("qom-list", {"path": "/nothere"})
                assert info.value.error.error.class_ == "DeviceNotFound"
                assert info.value.error.error.desc == "Device '/nothere' not found"
                await qmp.execute("quit")
                while len(seen) < 5:
                    event = await asyncio.wait_for(listener.get(), 10)
                    seen.append(event["event"])
            return seen

    with emulator(tmp_path, "-S") as (path,):
        events = asyncio.run(session(path))
    assert events == ["RESUME", "STOP", "RESET", "POWERDOWN", "SHUTDOWN"]


def test_test_machinery_command_line_over_a_socketpair() -> None:
    """QEMU's Python test machinery: a connected socketpair end as ``fd=N``; quit's reply arrives."""
    ours, theirs = socket.socketpair()
    fd = theirs.fileno()
    proc = subprocess.Popen(
        [*pyqemu_command(), "-display", "none", "-vga", "none", "-accel", "qtest",
         "-chardev", f"socket,id=mon,fd={fd}", "-mon", "chardev=mon,mode=control", "-machine", "none"],
        pass_fds=[fd], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    theirs.close()

    async def session() -> object:
        async with client(ours) as qmp:
            assert (await qmp.execute("query-target")) == {"arch": "x86_64"}
            return await qmp.execute("quit")

    try:
        assert asyncio.run(session()) == {}
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_listening_fd_handed_in_like_libvirt(tmp_path: Path) -> None:
    path = str(tmp_path / "mon.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(1)
    fd = listener.fileno()
    proc = subprocess.Popen(
        [*pyqemu_command(), *BASE, "-S", "-chardev", f"socket,id=mon,fd={fd},server=on,wait=off",
         "-mon", "chardev=mon,mode=control"],
        pass_fds=[fd], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    listener.close()

    async def session() -> object:
        async with client(path) as qmp:
            return await qmp.execute("query-status")

    try:
        assert asyncio.run(session())["status"] == "prelaunch"  # type: ignore[index]
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def test_monitor_connecting_out_to_a_listening_client(tmp_path: Path) -> None:
    """qmp-shell-wrap and libqtest listen; ``-chardev socket,path=P`` without server=on connects out."""
    path = str(tmp_path / "client.sock")

    async def session() -> object:
        qmp = QMPClient("listener")
        await qmp.start_server(path)
        proc = subprocess.Popen(
            [*pyqemu_command(), *BASE, "-S", "-chardev", f"socket,path={path},id=char0",
             "-mon", "chardev=char0,mode=control"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            await asyncio.wait_for(qmp.accept(), 30)
            status = await qmp.execute("query-status")
            await qmp.execute("quit")
            with suppress(EOFError):
                await qmp.disconnect()
            return status
        finally:
            await asyncio.to_thread(proc.wait, 20)

    assert asyncio.run(session())["status"] == "prelaunch"  # type: ignore[index]


def test_two_clients_on_two_monitors_negotiate_separately(tmp_path: Path) -> None:
    async def session(first: str, second: str) -> tuple[list[str], list[str]]:
        async with client(first) as a:
            raw = socket.socket(socket.AF_UNIX)
            raw.connect(second)
            reader = raw.makefile("rb")
            assert reader.readline().startswith(b'{"QMP"')
            raw.sendall(b'{"execute": "query-status"}')
            refused = reader.readline()
            with a.listener() as events:
                await a.execute("cont")
                got_a = [(await asyncio.wait_for(events.get(), 10))["event"]]
            raw.sendall(b'{"execute": "qmp_capabilities"}{"execute": "stop"}')
            lines = [reader.readline() for _ in range(3)]
            raw.close()
            return got_a, [refused.decode(), *(line.decode() for line in lines)]

    with emulator(tmp_path, "-S", sockets=2) as (first, second):
        got_a, got_b = asyncio.run(session(first, second))
    assert got_a == ["RESUME"]
    assert '"CommandNotFound"' in got_b[0]
    assert got_b[1] == '{"return": {}}\r\n'
    assert '"event": "STOP"' in got_b[2] and got_b[3] == '{"return": {}}\r\n'


def test_client_leaving_mid_command_does_not_disturb(tmp_path: Path) -> None:
    with emulator(tmp_path, "-S") as (path,):
        for _ in range(3):
            raw = socket.socket(socket.AF_UNIX)
            raw.connect(path)
            raw.recv(4096)
            raw.sendall(b'{"execute": "qmp_capabilities"}{"execute": "query-st')
            raw.close()

        async def session() -> object:
            async with client(path) as qmp:
                return await qmp.execute("query-status")

        assert asyncio.run(session())["status"] == "prelaunch"  # type: ignore[index]


def test_accel_help_is_a_header_then_one_per_line() -> None:
    out = subprocess.run([*pyqemu_command(), "-accel", "help"], capture_output=True, text=True, timeout=30)
    lines = out.stdout.splitlines()
    assert lines[0] == "Accelerators supported in QEMU binary:"
    assert [line.strip() for line in lines[1:]][:2] == ["kvm", "qtest"]
    assert shutil.which(QMP_SHELL.name) or QMP_SHELL.exists()


def test_rfc_session_on_a_real_board_with_qmp_shell(tmp_path: Path) -> None:
    """Seed 002's session with a board: a device cold-plugged in 'initialized', then ready."""
    with emulator(tmp_path, "-M", "pc", "-preconfig") as (path,):
        script = "\n".join([
            "query-machine-phase", "next-machine-phase", "query-machine-phase",
            "device_add driver=isa-debug-exit id=exit0 iobase=0x501",
            "next-machine-phase", "query-machine-phase",
            "qom-get path=/machine/peripheral/exit0 property=iobase",
        ]) + "\n"
        shell = subprocess.run([str(QMP_SHELL), path], input=script, capture_output=True, text=True,
                               timeout=60)
    lines = (line.removeprefix("(QEMU) ") for line in shell.stdout.splitlines())
    assert [line for line in lines if line.startswith("{")] == [
        '{"return": {"phase": "accel-created"}}',
        '{"return": {}}',
        '{"return": {"phase": "initialized"}}',
        '{"return": {}}',
        '{"return": {}}',
        '{"return": {"phase": "ready"}}',
        '{"return": 1281}',
    ]


def test_cold_unplug_in_initialized_and_no_hotplug_on_isa(tmp_path: Path) -> None:
    async def session(path: str) -> tuple[dict[str, object], str, str]:
        async with client(path) as qmp:
            await qmp.execute("next-machine-phase")
            with qmp.listener("DEVICE_DELETED") as listener:
                await qmp.execute("device_add", {"driver": "isa-debug-exit", "id": "exit0"})
                await qmp.execute("device_del", {"id": "exit0"})
                deleted = (await asyncio.wait_for(listener.get(), 10))["data"]
            await qmp.execute("next-machine-phase")
            with pytest.raises(ExecuteError) as hot:
                await qmp.execute("device_add", {"driver": "isa-debug-exit", "id": "exit1"})
            with pytest.raises(ExecuteError) as early:
                await qmp.execute("next-machine-phase")
            return deleted, hot.value.error.error.desc, early.value.error.error.desc

    with emulator(tmp_path, "-M", "pc", "-preconfig") as (path,):
        deleted, hot, early = asyncio.run(session(path))
    assert deleted == {"device": "exit0", "path": "/machine/peripheral/exit0"}
    assert hot == "Bus 'isa.0' does not support hotplugging"
    assert "no next phase" in early
