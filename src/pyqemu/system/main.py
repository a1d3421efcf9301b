"""Entry point of ``pyqemu-system-x86_64`` and ``python -m pyqemu``.

The one place where a start-up error becomes QEMU's
``pyqemu-system-x86_64: LOCATION: MESSAGE`` line on stderr and exit status 1,
and where help output is printed with exit status 0.
"""

from __future__ import annotations

import os
import sys

from pyqemu.system.cmdline import PROG
from pyqemu.util.errors import EarlyExit, QemuError


def _print(text: str) -> None:
    """Write ``text`` to stdout; a reader that went away (``| head``) is not an error."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    """Run the emulator with ``argv`` (the words after the program name); the exit status."""
    from pyqemu.system.config import HelpRequest
    from pyqemu.system.emulator import Emulator

    words = sys.argv[1:] if argv is None else argv
    vm = Emulator(words, handle_signals=True)
    try:
        return vm.run()
    except HelpRequest as request:
        try:
            _print(request.text())
        except QemuError as err:
            print(err.cli_message(PROG), file=sys.stderr)
            return 1
        return 0
    except EarlyExit as request:
        return request.status
    except QemuError as err:
        if err.desc:
            print(err.cli_message(PROG), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
