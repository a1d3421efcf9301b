"""Process-level services: -daemonize, -pidfile and termination signals (QEMU's os-posix.c)."""

from __future__ import annotations

import fcntl
import os
import signal
import sys
import threading
from collections.abc import Callable

from pyqemu.util.errors import ConfigError

TERMINATION_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def daemonize() -> int:
    """Fork into the background; returns the fd on which to report success (QEMU's ``os_daemonize``).

    The parent waits until the child writes one zero byte (:func:`daemon_ready`)
    and exits 0, or exits 1 when the child fails first.
    """
    read_fd, write_fd = os.pipe()
    if os.fork() > 0:
        os.close(write_fd)
        status = os.read(read_fd, 1)
        os._exit(0 if status == b"\0" else 1)
    os.close(read_fd)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    os.umask(0o027)
    for sig in (signal.SIGTSTP, signal.SIGTTOU, signal.SIGTTIN):
        signal.signal(sig, signal.SIG_IGN)
    return write_fd


def daemon_ready(report_fd: int) -> None:
    """Detach from the terminal and tell the waiting parent that start-up succeeded."""
    os.chdir("/")
    null = os.open(os.devnull, os.O_RDWR)
    sys.stdout.flush()
    sys.stderr.flush()
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    os.write(report_fd, b"\0")
    os.close(report_fd)


class PidFile:
    """A pid file held with a write lock while the emulator runs, removed at exit."""

    def __init__(self, path: str):
        self.path = path
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as err:
            raise ConfigError(
                f"cannot create PID file: Could not create '{path}': {os.strerror(err.errno or 0)}"
            ) from err
        try:
            fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(self.fd)
            raise ConfigError(
                f"cannot create PID file: Cannot lock pid file: {os.strerror(err.errno or 0)}"
            ) from err
        os.ftruncate(self.fd, 0)
        os.write(self.fd, f"{os.getpid()}\n".encode())

    def remove(self) -> None:
        """Unlink the file if it is still ours, then release the lock."""
        try:
            if os.stat(self.path).st_ino == os.fstat(self.fd).st_ino:
                os.unlink(self.path)
        except OSError:
            pass
        os.close(self.fd)


def process_name(pid: int) -> str | None:
    """The first word of ``/proc/PID/cmdline`` (QEMU names the sender of a signal so)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0", 1)[0].decode(errors="replace") or None
    except OSError:
        return None


def block_termination_signals() -> None:
    """Block SIGINT, SIGTERM and SIGHUP in this thread and every thread started after."""
    signal.pthread_sigmask(signal.SIG_BLOCK, TERMINATION_SIGNALS)


def start_signal_thread(on_signal: Callable[[int, int], None]) -> None:
    """Route SIGINT, SIGTERM and SIGHUP, with the sender's pid, to ``on_signal(signo, pid)``.

    The signals are blocked in every thread and taken by one waiting thread,
    which is how the sender's pid is known (Python's handlers do not get it).
    Call before any other thread is started, so that they inherit the mask.
    """
    block_termination_signals()

    def wait_forever() -> None:
        while True:
            info = signal.sigwaitinfo(TERMINATION_SIGNALS)
            on_signal(info.si_signo, info.si_pid)

    threading.Thread(target=wait_forever, name="signals", daemon=True).start()
