"""The x86 boards as a process: built with the qtest accelerator, inspected over QMP like QEMU."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from qemu.qmp import QMPClient

from .conftest import QEMU, needs_qemu, run_pyqemu, start_pyqemu, wait_for

BASE = ["-accel", "qtest", "-nodefaults", "-display", "none", "-S"]


@contextmanager
def running(tmp_path: Path, machine: str, *extra: str) -> Iterator[str]:
    path = str(tmp_path / "qmp.sock")
    proc = start_pyqemu(["-M", machine, *BASE, "-qmp", f"unix:{path},server=on,wait=off", *extra])
    try:
        wait_for(lambda: os.path.exists(path) or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()
        yield path
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.communicate(timeout=20)


async def _session(path: str, *commands: tuple[str, dict[str, object] | None]) -> list[object]:
    qmp = QMPClient("boards")
    await qmp.connect(path)
    try:
        return [await qmp.execute(name, args) for name, args in commands]
    finally:
        with suppress(EOFError):
            await qmp.disconnect()


def _hmp(line: str) -> tuple[str, dict[str, object]]:
    return "human-monitor-command", {"command-line": line}


@pytest.mark.parametrize(("machine", "host_path", "lines"), [
    ("pc", "/machine/i440fx", ["class Host bridge, addr 00:00.0, pci id 8086:1237 (sub 1af4:1100)",
                               "class ISA bridge, addr 00:01.0, pci id 8086:7000 (sub 1af4:1100)"]),
    ("q35", "/machine/q35", ["class Host bridge, addr 00:00.0, pci id 8086:29c0 (sub 1af4:1100)",
                             "class ISA bridge, addr 00:1f.0, pci id 8086:2918 (sub 1af4:1100)"]),
    ("microvm", None, ["dev: mc146818rtc, id \"\""]),
])
def test_board_over_qmp(tmp_path: Path, machine: str, host_path: str | None, lines: list[str]) -> None:
    with running(tmp_path, machine) as path:
        qtree, mtree, unattached = asyncio.run(_session(
            path, _hmp("info qtree"), _hmp("info mtree"),
            ("qom-list", {"path": "/machine/unattached"}),
        ))
    stripped = [line.strip() for line in str(qtree).splitlines()]
    for line in lines:
        assert line in stripped
    assert "ram-below-4g" in str(mtree)
    names = {(p["name"], p["type"]) for p in unattached}  # type: ignore[index, union-attr]
    assert ("device[0]", "child<qemu64-x86_64-cpu>") in names
    assert {("system[0]", "child<memory-region>"), ("io[0]", "child<memory-region>")} <= names


def test_pci_config_through_qtest_ports(tmp_path: Path) -> None:
    """``outl 0xcf8`` / ``inl 0xcfc`` from a qtest client reach the Q35 MCH and LPC bridge."""
    sock = tmp_path / "qtest.sock"
    proc = start_pyqemu(["-M", "q35", *BASE, "-qtest", f"unix:{sock},server=on,wait=off"])
    try:
        wait_for(lambda: sock.exists() or proc.poll() is not None)
        assert proc.poll() is None, proc.communicate()
        import socket

        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(sock))
            f = s.makefile("rw")

            def ask(line: str) -> str:
                f.write(line + "\n")
                f.flush()
                return f.readline().strip()

            assert ask("outl 0xcf8 0x80000000") == "OK"
            assert ask("inl 0xcfc") == "OK 0x29c08086"
            assert ask("outl 0xcf8 0x8000f800") == "OK"
            assert ask("inl 0xcfc") == "OK 0x29188086"
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


@needs_qemu
def test_machine_help_matches_qemu_for_x86_boards() -> None:
    ours = run_pyqemu(["-M", "help"]).stdout.splitlines()
    assert QEMU is not None
    theirs = subprocess.run([QEMU, "-M", "help"], capture_output=True, text=True, check=True)
    theirs_lines = theirs.stdout.splitlines()
    pick = ("pc", "q35", "microvm")
    assert sorted(line for line in ours if line.startswith(pick)) == sorted(
        line for line in theirs_lines if line.startswith(pick)
    )
