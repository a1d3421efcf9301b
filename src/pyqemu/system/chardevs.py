"""Chardevs of the command line: ``-chardev``, and the backends of ``-serial`` and friends.

The compact syntax of ``-serial``, ``-qmp`` … (``unix:PATH,server=on``,
``mon:stdio``) becomes a chardev labelled as QEMU labels it (``serial0``,
``compat_monitor0``); the board and the monitors find them by label.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from pyqemu.chardev.char import Chardev, Reporter, chardev_cleanup
from pyqemu.chardev.create import CompatSpecError, chardev_new_compat, chardev_new_from_opts
from pyqemu.system.cmdline import PROG
from pyqemu.util.errors import ConfigError, location

if TYPE_CHECKING:
    from pyqemu.system.emulator import Emulator

#: The discarded console QEMU uses when there is no display: a null chardev here.
_CONSOLE_SPECS = ("vc", "vc:80Cx24C")


class CliReporter(Reporter):
    """Chardev messages as QEMU's ``info_report`` / ``error_report`` print them."""

    def __init__(self, where: str | None):
        self.where = where

    def _head(self) -> str:
        return f"{PROG}: {self.where}: " if self.where else f"{PROG}: "

    def info(self, message: str) -> None:
        sys.stderr.write(f"{self._head()}info: {message}\n")

    def error(self, message: str) -> None:
        sys.stderr.write(f"{self._head()}{message}\n")


def _ensure_cleanup(vm: Emulator) -> None:
    """Close every chardev at exit (terminals restored, socket files removed), once."""
    if not vm.chardev_cleanup_registered:
        vm.chardev_cleanup_registered = True
        vm.cleanup.callback(chardev_cleanup, vm.root)


def new_chardev(
    vm: Emulator, label: str | None, backend: str | None, opts: dict[str, Any], where: str | None
) -> Chardev:
    """Create one chardev for the command line, reporting as QEMU does."""
    assert vm.main_loop is not None
    _ensure_cleanup(vm)
    return chardev_new_from_opts(
        backend, label, opts, vm.main_loop.loop, vm.root,
        reporter=CliReporter(where), request_quit=vm.quit,
    )


def new_chardev_compat(vm: Emulator, label: str, spec: str, what: str, where: str | None) -> Chardev:
    """A chardev from the compact syntax (QEMU's ``qemu_chr_new_mux_mon``).

    For a port (``what`` = serial …) any failure is reported, then QEMU's
    "could not connect" line ends start-up; for a monitor a spec that does
    not parse is a "parse error".
    """
    if spec in _CONSOLE_SPECS:
        return new_chardev(vm, label, "null", {}, where)
    assert vm.main_loop is not None
    _ensure_cleanup(vm)
    failed = ConfigError(f"could not connect {what} device to character backend '{spec}'")
    try:
        return chardev_new_compat(label, spec, vm.main_loop.loop, vm.root,
                                  reporter=CliReporter(where), request_quit=vm.quit)
    except CompatSpecError as err:
        if err.cause is not None:
            _report(err.cause, where)
        raise (ConfigError(f"parse error: {spec}") if what == "monitor" else failed) from err
    except ConfigError as err:
        if what == "monitor":
            raise
        _report(err, where)
        raise failed from err


def _report(err: ConfigError, where: str | None) -> None:
    """Print an error now, as QEMU's ``error_report_err`` before the line that ends start-up."""
    err.location = err.location or where
    sys.stderr.write(err.cli_message(PROG) + "\n")


def create_cli_chardevs(vm: Emulator) -> None:
    """Create every ``-chardev`` in order."""
    assert vm.config is not None
    for opts in vm.config.opts.all("chardev"):
        values = dict(opts.items())
        backend = values.pop("backend", None)
        with location(opts.location or ""):
            new_chardev(vm, opts.id, backend, values, opts.location)


def create_port_chardevs(vm: Emulator) -> None:
    """Backends for ``-serial``, ``-parallel`` and ``-debugcon``, kept for the board."""
    assert vm.config is not None
    config = vm.config
    for kind, items, label in (
        ("serial", config.serials, "serial{}"),
        ("parallel", config.parallels, "parallel{}"),
        ("debugcon", config.debugcons, "debugcon"),
    ):
        hds: list[Chardev | None] = []
        for index, item in enumerate(items):
            if item.value == "none":
                hds.append(None)
                continue
            with location(item.location):
                hds.append(new_chardev_compat(vm, label.format(index), item.value, kind, item.location))
        vm.port_chardevs[kind] = hds
    assert vm.machine is not None
    vm.machine.serial_chardevs = vm.port_chardevs.get("serial", [])
