"""The terminal backends: pty (a pseudo-terminal for a user to open) and stdio (raw mode, restored)."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import termios
import textwrap

from pyqemu.chardev.char import ChrEvent
from pyqemu.chardev.char_pty import POLL_INTERVAL, PtyChardev
from pyqemu.chardev.create import chardev_new_from_opts, chardev_new_from_qapi, chardev_return

from .conftest import Frontend, run_until

PEER_TIMEOUT = POLL_INTERVAL * 3


def read_available(fd: int, timeout: float = 2.0) -> bytes:
    ready, _, _ = select.select([fd], [], [], timeout)
    return os.read(fd, 1024) if ready else b""


def test_pty_round_trip_with_open_and_close_events(loop, root, reporter) -> None:
    chr = chardev_new_from_opts("pty", "p", {}, loop, root, reporter=reporter)
    assert isinstance(chr, PtyChardev)
    name = chr.pty_name
    assert name.startswith("/dev/pts/") and chr.filename == f"pty:{name}"
    assert reporter.lines == [f"char device redirected to {name} (label p)\n"]
    front = Frontend(chr)
    assert front.events == [] and front.be.write(b"nobody hears this") == 17
    slave = os.open(name, os.O_RDWR | os.O_NOCTTY)
    try:
        run_until(loop, lambda: front.events == [ChrEvent.OPENED], PEER_TIMEOUT)
        os.write(slave, b"typed\n")
        run_until(loop, lambda: front.data == b"typed\n")  # raw: no line editing, no CR/NL change
        chr.write(b"shown\n")
        assert read_available(slave) == b"shown\n"
    finally:
        os.close(slave)
    run_until(loop, lambda: front.events == [ChrEvent.OPENED, ChrEvent.CLOSED])
    slave = os.open(name, os.O_RDWR | os.O_NOCTTY)  # a second session
    try:
        run_until(loop, lambda: len(front.events) == 3, PEER_TIMEOUT)
        assert front.events[2] is ChrEvent.OPENED
        assert read_available(slave, 0.1) == b""  # what was written while nobody listened is gone
    finally:
        os.close(slave)


def test_chardev_add_pty_returns_its_path(loop, root, reporter) -> None:
    chr = chardev_new_from_qapi("p", {"type": "pty", "data": {}}, loop, root, reporter=reporter)
    assert isinstance(chr, PtyChardev)
    assert chardev_return(chr) == {"pty": chr.pty_name}


STDIO_SCRIPT = textwrap.dedent("""
    import asyncio, sys, termios
    from pyqemu.qom.object import Container
    from pyqemu.chardev.char import chardev_remove
    from pyqemu.chardev.create import chardev_new_from_opts
    from pyqemu.util.errors import ConfigError

    loop, root = asyncio.new_event_loop(), Container()
    before = termios.tcgetattr(0)
    chr = chardev_new_from_opts("stdio", "s", {"signal": sys.argv[1]}, loop, root)
    raw = termios.tcgetattr(0)
    lflag = raw[3]
    print("echo", bool(lflag & termios.ECHO), "icanon", bool(lflag & termios.ICANON),
          "isig", bool(lflag & termios.ISIG), "icrnl", bool(raw[0] & termios.ICRNL), flush=True)
    try:
        chardev_new_from_opts("stdio", "t", {}, loop, root)
    except ConfigError as err:
        print(err.desc, flush=True)
    chr.write(b"from the guest\\n")
    if sys.argv[2] == "remove":
        chardev_remove(root, "s")
        print("restored", termios.tcgetattr(0) == before, flush=True)
""")


def run_stdio_script(signal: str, ending: str) -> tuple[list[str], list]:
    """Run the script with a fresh pty as stdin; its output and the pty's settings afterwards."""
    master, slave = os.openpty()
    try:
        before = termios.tcgetattr(slave)
        result = subprocess.run(
            [sys.executable, "-c", STDIO_SCRIPT, signal, ending],
            stdin=slave, capture_output=True, text=True, timeout=30, check=True,
        )
        after = termios.tcgetattr(slave)
    finally:
        os.close(master)
        os.close(slave)
    assert after == before, "the terminal was not restored"
    return result.stdout.splitlines(), before


def test_stdio_raw_mode_signal_off_and_restored_on_close() -> None:
    lines, _ = run_stdio_script("off", "remove")
    assert lines == [
        "echo False icanon False isig False icrnl False",
        "cannot use stdio by multiple character devices",
        "from the guest",
        "restored True",
    ]


def test_stdio_keeps_signals_and_restores_the_terminal_at_exit() -> None:
    lines, _ = run_stdio_script("on", "exit")
    assert lines[0] == "echo False icanon False isig True icrnl False"
