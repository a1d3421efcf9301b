"""Entry point of ``pyqemu-system-x86_64`` (minimal for now).

Lexes the command line, answers ``-h``, ``-help`` and ``-version`` in order as
QEMU's second pass does, and turns a :class:`QemuError` into QEMU's
``prog: location: message`` line on stderr with exit status 1.
"""

from __future__ import annotations

import os
import sys

from pyqemu.system import cmdline
from pyqemu.util.errors import QemuError


def _print(text: str) -> None:
    """Write ``text`` to stdout; a reader that went away (``| head``) is not an error."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    """Run the emulator with ``argv`` (the words after the program name); the exit status."""
    words = sys.argv[1:] if argv is None else argv
    try:
        for arg in cmdline.lex_argv(words):
            cmdline.check_target(arg)
            text = cmdline.info_text(arg)
            if text is not None:
                _print(text)
                return 0
    except QemuError as err:
        print(err.cli_message(cmdline.PROG), file=sys.stderr)
        return 1
    return 0
