"""Start-up as a process: signals, pidfile, daemonize, the init trace, errors that leave nothing."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest

from .conftest import QEMU, needs_qemu, run_pyqemu, start_pyqemu, wait_for

PROG = "pyqemu-system-x86_64"
BASE = ["-M", "none", "-accel", "qtest", "-nodefaults", "-display", "none"]


def _ready(proc: subprocess.Popen[str], pidfile: str) -> None:
    wait_for(lambda: (os.path.exists(pidfile) and os.path.getsize(pidfile) > 0) or proc.poll() is not None)
    assert proc.poll() is None, proc.communicate()


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_termination_signal_reports_sender_and_exits_0(tmp_path, signo: int) -> None:  # type: ignore[no-untyped-def]
    pidfile = str(tmp_path / "vm.pid")
    proc = start_pyqemu([*BASE, "-S", "-pidfile", pidfile])
    _ready(proc, pidfile)
    os.kill(proc.pid, signo)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    with open("/proc/self/cmdline", "rb") as f:
        me = f.read().split(b"\0")[0].decode()
    assert err == f"{PROG}: terminating on signal {int(signo)} from pid {os.getpid()} ({me})\n"
    assert not os.path.exists(pidfile)


def test_pidfile_is_locked_against_a_second_emulator(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pidfile = str(tmp_path / "vm.pid")
    first = start_pyqemu([*BASE, "-S", "-pidfile", pidfile])
    _ready(first, pidfile)
    with open(pidfile) as f:
        assert f.read() == f"{first.pid}\n"
    second = run_pyqemu([*BASE, "-S", "-pidfile", pidfile])
    assert second.returncode == 1
    assert second.stderr == (
        f"{PROG}: cannot create PID file: Cannot lock pid file: Resource temporarily unavailable\n"
    )
    assert os.path.exists(pidfile)
    first.terminate()
    first.communicate(timeout=20)
    assert not os.path.exists(pidfile)


def test_pidfile_in_a_missing_directory() -> None:
    proc = run_pyqemu([*BASE, "-pidfile", "/nonexistent/dir/vm.pid"])
    assert proc.returncode == 1
    assert proc.stderr == (f"{PROG}: cannot create PID file: Could not create '/nonexistent/dir/vm.pid': "
                           "No such file or directory\n")


def test_daemonize_returns_once_ready_and_keeps_running(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pidfile = tmp_path / "vm.pid"
    proc = run_pyqemu([*BASE, "-S", "-daemonize", "-pidfile", str(pidfile)])
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")
    pid = int(pidfile.read_text())
    os.kill(pid, 0)
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not pidfile.exists())


def test_daemonize_reports_a_child_failure(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pidfile = tmp_path / "vm.pid"
    proc = run_pyqemu([*BASE, "-daemonize", "-pidfile", str(pidfile), "-device", "nope"])
    assert proc.returncode == 1
    assert proc.stderr == f"{PROG}: -device nope: 'nope' is not a valid device model name\n"
    assert not pidfile.exists()


def test_failing_step_leaves_no_pidfile_and_no_socket(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pidfile, sock = tmp_path / "vm.pid", tmp_path / "serial.sock"
    proc = run_pyqemu([*BASE, "-pidfile", str(pidfile),
                       "-chardev", f"socket,id=c0,path={sock},server=on,wait=off", "-smp", "2"])
    assert proc.returncode == 1
    assert proc.stderr == f"{PROG}: Invalid SMP CPUs 2. The max CPUs supported by machine 'none' is 1\n"
    assert not pidfile.exists() and not sock.exists()


def test_init_trace_on_stderr_and_sequence_listing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    listing = run_pyqemu(["-x-init-trace", "help"])
    assert listing.returncode == 0 and "board init  ->  initialized" in listing.stdout
    pidfile = str(tmp_path / "vm.pid")
    proc = start_pyqemu([*BASE, "-S", "-x-init-trace", "on", "-pidfile", pidfile])
    _ready(proc, pidfile)
    proc.terminate()
    _, err = proc.communicate(timeout=20)
    assert "pyqemu init trace" in err
    for step in ("parse_command_line", "create_machine", "configure_accelerators", "start_vm"):
        assert step in err


@needs_qemu
@pytest.mark.parametrize("argv", [
    ["-M", "none", "-smp", "2"],
    ["-M", "none", "-m", "1G,slots=2"],
    ["-M", "none", "-accel", "foo"],
    ["-M", "nope"],
    ["-M", "none", "-device", "nope"],
    ["-M", "none", "-object", "memory-backend-ram,id=m"],
    ["-M", "none", "-rtc", "base=foo"],
    ["-M", "none", "-chardev", "foo,id=x"],
    ["-M", "nope", "-chardev", "null,id=x,bogus=1"],  # -chardev keys are checked when parsed
    ["-M", "none", "-chardev", "null,id=x,to=99999999999999999999999"],
    ["-M", "none", "-chardev", "null,bogus=1", "-chardev", "help"],
    ["-M", "none", "-serial", "tcp::0,server=on,wait=off,id=1x,bogus=2"],
    ["-M", "none", "-initrd", "/etc/hostname"],
    ["-M", "none", "-serial", "foo:bar"],
    ["-M", "pc", "-serial", "chardev:nope"],
    ["-M", "pc", "-device", '{"driver":"isa-debug-exit",'],
    ["-M", "pc", "-device", '{"driver":"isa-debug-exit"} x'],
    ["-M", "pc", "-device", "[1]"],
    ["-M", "none", "-serial", "tcp:localhost"],
    ["-M", "none", "-qmp", "tcp:localhost"],
    ["-M", "none", "-device", "isa-serial"],
    ["-M", "none", "-device", "device"],
    ["-M", "none", "-object", "nope,id=x"],
    ["-M", "none", "-object", "nope,help"],
    ["-M", "pc,memory-backend=nope"],
    ["-m", "512", "-M", "pc,memory-backend=m", "-object", "memory-backend-ram,id=m,size=256M"],
    ["-M", "none", "-m", "foo"],
    ["-M", "none", "-accel", "kvm,foo=1"],
    ["-M", "none,nope=1"],
    ["-M", "help,foo"],
])
def test_errors_match_qemu(argv: list[str]) -> None:
    assert QEMU is not None
    ours = run_pyqemu([*argv, "-nodefaults", "-display", "none", "-S"])
    ref = subprocess.run([QEMU, *argv, "-nodefaults", "-display", "none", "-S"], capture_output=True,
                         text=True, stdin=subprocess.DEVNULL, timeout=30)
    assert ours.returncode == ref.returncode == 1
    assert ours.stderr == ref.stderr.replace("qemu-system-x86_64", PROG)


@needs_qemu
@pytest.mark.parametrize("spec", ["user-creatable,help", "qtest,help"])
def test_object_help_of_any_type_matches_qemu(spec: str) -> None:
    """Not only user-creatable types answer ``help``: an interface has no options, qtest has two."""
    assert QEMU is not None
    ours = run_pyqemu(["-object", spec])
    ref = subprocess.run([QEMU, "-object", spec], capture_output=True, text=True, timeout=30)
    assert (ours.returncode, ours.stdout, ours.stderr) == (ref.returncode, ref.stdout, "")


@needs_qemu
def test_machine_listing_matches_qemu_for_the_boards_we_have() -> None:
    assert QEMU is not None
    ours = run_pyqemu(["-M", "help"]).stdout.splitlines()
    ref = subprocess.run([QEMU, "-M", "help"], capture_output=True, text=True, timeout=30).stdout.splitlines()
    names = {line.split()[0] for line in ours[1:]}
    assert ours == [line for line in ref if line == ref[0] or line.split()[0] in names]
    assert {"pc", "q35", "microvm", "none", "pc-i440fx-2.0", "pc-q35-4.0.1"} <= names
