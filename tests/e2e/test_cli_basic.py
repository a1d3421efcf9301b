"""The entry point as a process: -h, -version and command-line errors.

Where ``qemu-system-x86_64`` is installed, each error case is also run with it
and its output compared, with the program name replaced.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from pyqemu.system import cmdline

QEMU = shutil.which("qemu-system-x86_64")
needs_qemu = pytest.mark.skipif(QEMU is None, reason="qemu-system-x86_64 is not installed")
PROG = "pyqemu-system-x86_64"
VERSION_LINE = re.compile(r"QEMU emulator version (\d+)\.(\d+)\.(\d+)")

ERROR_CASES = [
    (["-foo"], "-foo: invalid option"),
    (["--foo"], "--foo: invalid option"),
    (["-"], "-: invalid option"),
    (["--"], "--: invalid option"),
    (["-m"], "-m: requires an argument"),
    (["-M", "none", "-machine"], "-machine: requires an argument"),
    (["-version", "-foo"], "-foo: invalid option"),
    (["-h", "--bar"], "--bar: invalid option"),
    (["-g", "1", "-version"], "-g 1: Option not supported for this target"),
    (["-chardev", "null"], "-chardev null: chardev: no id specified"),
    # A monitor spec that does not parse: the parser's own error, then "parse error".
    (["-qmp", "bogus:xx"], f"-qmp bogus:xx: 'bogus:xx' is not a valid char driver\n{PROG}: -qmp bogus:xx: "
                           "parse error: bogus:xx"),
    (["-qmp", "unix:q.sock,bogus"], f"-qmp unix:q.sock,bogus: Invalid parameter 'bogus'\n{PROG}: "
                                    "-qmp unix:q.sock,bogus: parse error: unix:q.sock,bogus"),
]


def _run(argv: list[str], program: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    command = program or [sys.executable, "-m", "pyqemu"]
    return subprocess.run([*command, *argv], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=60)


def test_help() -> None:
    proc = _run(["-h"])
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == cmdline.help_text()
    assert proc.stdout.splitlines()[2] == f"usage: {PROG} [options] [disk_image]"


@pytest.mark.parametrize("argv", [["-help"], ["--help"], ["-S", "-h"], ["x.img", "-h"]])
def test_help_spellings(argv: list[str]) -> None:
    proc = _run(argv)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, cmdline.help_text(), "")


@pytest.mark.parametrize("argv", [["-version"], ["--version"], ["-version", "-g", "1"],
                                  ["-M", "none", "-version"], ["-version", "-h"]])
def test_version(argv: list[str]) -> None:
    proc = _run(argv)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines()[0] == "QEMU emulator version 7.2.0 (pyqemu 0.1.0)"
    assert proc.stdout == cmdline.version_text()


@pytest.mark.parametrize(("argv", "message"), ERROR_CASES)
def test_errors(argv: list[str], message: str) -> None:
    proc = _run(argv)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", f"{PROG}: {message}\n")


def test_help_into_a_closed_pipe_is_quiet() -> None:
    command = [sys.executable, "-m", "pyqemu", "-h"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(10)
        proc.stdout.close()
        error = proc.stderr.read()
    assert (proc.returncode, error) == (0, b"")


@needs_qemu
@pytest.mark.parametrize(("argv", "message"), ERROR_CASES)
def test_errors_match_qemu(argv: list[str], message: str) -> None:
    assert QEMU is not None
    theirs = _run(argv, [QEMU])
    ours = _run(argv)
    assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout)
    assert ours.stderr == theirs.stderr.replace("qemu-system-x86_64", PROG)


@needs_qemu
@pytest.mark.parametrize("argv", [["-h"], ["-version"], ["-version", "-g", "1"]])
def test_info_matches_qemu(argv: list[str]) -> None:
    assert QEMU is not None
    theirs = _run(argv, [QEMU])
    ours = _run(argv)
    assert (ours.returncode, ours.stderr) == (theirs.returncode, theirs.stderr) == (0, "")
    our_version = VERSION_LINE.match(ours.stdout)
    their_version = VERSION_LINE.match(theirs.stdout)
    assert our_version and their_version
    assert our_version.group(1, 2) == their_version.group(1, 2)


DEVICES = ["isa-serial", "i8042", "mc146818rtc", "isa-debugcon", "isa-debug-exit", "ich9-ahci", "isa-fdc",
           "piix3-ide", "vmmouse"]


@pytest.mark.parametrize("device", DEVICES)
def test_device_property_help_matches_qemu(device: str) -> None:
    ours = _run(["-device", f"{device},help"])
    assert ours.returncode == 0 and ours.stdout.startswith(f"{device} options:\n")
    if QEMU is not None:
        ref = subprocess.run([QEMU, "-device", f"{device},help"], capture_output=True, text=True, timeout=30)
        assert ours.stdout == ref.stdout


def test_device_listing_is_qemus_for_our_devices() -> None:
    ours = _run(["-device", "help"])
    assert ours.returncode == 0
    listed = [line for line in ours.stdout.splitlines() if line.startswith("name ")]
    assert sorted(line.split('"')[1] for line in listed) == sorted(DEVICES)
    if QEMU is not None:
        ref = subprocess.run([QEMU, "-device", "help"], capture_output=True, text=True, timeout=30).stdout
        categories = [line for line in ref.splitlines() if line.endswith(":")]
        ours_categories = [line for line in ours.stdout.splitlines() if line.endswith(":")]
        assert ours_categories == [c for c in categories if c in ours_categories]
        assert all(line in ref.splitlines() for line in listed)


def test_unknown_device_help_is_reported_and_exits_0() -> None:
    proc = _run(["-device", "nope,help"])
    assert (proc.returncode, proc.stderr) == (0, f"{PROG}: -device nope,help: Device 'nope' not found\n")
