"""The qtest server as libqtest uses it: a process started with ``-qtest unix:PATH -accel qtest``.

Expected replies are QEMU 7.2's (``qemu-system-x86_64 -qtest`` answered the
same commands with ``-accel tcg``; its qtest accelerator module is not
packaged in Debian, so the clock commands are checked against its source).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from .conftest import QEMU, needs_qemu, run_pyqemu
from .qtest_client import QtestClient

NONE_MACHINE = "-M none -nodefaults"


def test_libqtest_handshake_and_sigterm_exit_status_0() -> None:
    qts = QtestClient(NONE_MACHINE)
    assert qts.big_endian is False
    assert "QMP" in qts.greeting
    assert qts.qmp("query-status")["return"]["status"] == "running"
    assert qts.quit() == 0


def test_io_ports_without_devices_read_all_ones() -> None:
    with QtestClient(NONE_MACHINE) as qts:
        assert qts.command("inb 0x80") == "OK 0x00ff"
        assert qts.command("inw 0x80") == "OK 0xffff"
        assert qts.command("inl 0x80") == "OK 0xffffffff"
        qts.outb(0x80, 0x12)
        qts.outl(0xCF8, 0x80000000)
        assert qts.inl(0xCFC) == 0xFFFFFFFF
        assert qts.command("outb 0x80") == "FAIL 'outb' needs more arguments"


def test_unknown_commands_fail_and_the_channel_goes_on() -> None:
    with QtestClient(NONE_MACHINE) as qts:
        assert qts.command("foo bar") == "FAIL Unknown command 'foo'"
        assert qts.command("module_load hw- display-qxl") == "FAIL"
        assert qts.command("write 0 4 0x") == "ERR invalid argument size"
        assert qts.command("endianness") == "OK little"


def test_virtual_clock_moves_only_when_stepped() -> None:
    with QtestClient(NONE_MACHINE) as qts:
        assert qts.clock_step(0) == 0
        assert qts.clock_step() == 0  # no timer pending: the clock stays
        assert qts.clock_step(100) == 100
        assert qts.clock_set(50) == 100  # never backwards
        assert qts.clock_set(1_000_000) == 1_000_000
        assert qts.clock_step(0x10) == 1_000_016
        status = qts.qmp("query-status")["return"]
        assert status["running"] is True


def test_memory_round_trips_through_ram() -> None:
    with QtestClient(NONE_MACHINE + " -m 16M") as qts:
        qts.writel(0x1000, 0x12345678)
        assert qts.readl(0x1000) == 0x12345678
        assert qts.command("readq 0x1000") == "OK 0x0000000012345678"
        assert qts.command("read 0x1000 8") == "OK 0x7856341200000000"
        payload = bytes(range(256)) * 4
        qts.bufwrite(0x2000, payload)
        assert qts.bufread(0x2000, len(payload)) == payload
        qts.memwrite(0x3000, b"\x01\x02\x03")
        assert qts.memread(0x3000, 4) == b"\x01\x02\x03\x00"
        qts.memset(0x3000, 0xAA, 2)
        assert qts.memread(0x3000, 4) == b"\xaa\xaa\x03\x00"


def test_qtest_log_records_the_session(tmp_path: Path) -> None:
    log = tmp_path / "qtest.log"
    with QtestClient(NONE_MACHINE, log=str(log)) as qts:
        qts.outb(0x80, 1)
        qts.command("nope")
    text = re.sub(r"\d+\.\d{6}\]", "T]", log.read_text())
    assert text == (
        "[I T] OPENED\n"
        "[R +T] endianness\n[S +T] OK little\n"
        "[R +T] outb 0x80 0x1\n[S +T] OK\n"
        "[R +T] nope\n[S +T] FAIL Unknown command 'nope'\n"
        "[I +T] CLOSED\n"
    )


def test_server_is_machine_qtest_in_the_qom_tree() -> None:
    with QtestClient(NONE_MACHINE) as qts:
        props = qts.qmp("qom-list", path="/machine/qtest")["return"]
        assert [(p["name"], p["type"]) for p in props] == [
            ("type", "string"), ("chardev", "string"), ("log", "string"),
        ]
        assert qts.qmp("qom-get", path="/machine/qtest", property="chardev")["return"] == "qtest"


def test_qtest_chardev_is_listed() -> None:
    with QtestClient(NONE_MACHINE) as qts:
        chardevs = {c["label"]: c for c in qts.qmp("query-chardev")["return"]}
        assert chardevs["qtest"]["frontend-open"] is True


QTEST_CONNECT_FAILURE = (
    "{prog}: Failed to connect to '/nonexistent/qtest.sock': No such file or directory\n"
    '{prog}: Failed to initialize device for qtest: "unix:/nonexistent/qtest.sock"\n'
)


def test_a_qtest_chardev_that_cannot_connect_stops_start_up() -> None:
    result = run_pyqemu(["-M", "none", "-display", "none", "-accel", "qtest",
                         "-qtest", "unix:/nonexistent/qtest.sock"])
    assert result.returncode == 1
    assert result.stderr == QTEST_CONNECT_FAILURE.format(prog="pyqemu-system-x86_64")


def test_an_unknown_qtest_backend_is_reported_twice() -> None:
    result = run_pyqemu(["-M", "none", "-display", "none", "-accel", "qtest", "-qtest", "foo:bar"])
    assert result.returncode == 1
    assert result.stderr == (
        "pyqemu-system-x86_64: 'foo:bar' is not a valid char driver\n"
        'pyqemu-system-x86_64: Failed to initialize device for qtest: "foo:bar"\n'
    )


@needs_qemu
def test_qtest_chardev_failure_matches_qemu() -> None:
    assert QEMU is not None
    result = subprocess.run([QEMU, "-M", "none", "-display", "none", "-accel", "tcg",
                             "-qtest", "unix:/nonexistent/qtest.sock"],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
    assert result.returncode == 1
    assert result.stderr == QTEST_CONNECT_FAILURE.format(prog="qemu-system-x86_64")
