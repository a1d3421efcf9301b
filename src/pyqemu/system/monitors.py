"""Monitors of the command line: ``-qmp``, ``-qmp-pretty``, ``-mon``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.util.errors import OptionError, location

if TYPE_CHECKING:
    from pyqemu.system.emulator import Emulator


def create_cli_monitors(vm: Emulator) -> None:
    """Create every monitor in order."""
    assert vm.config is not None
    for item in vm.config.monitors:
        if item.value[2] == "none":
            continue
        with location(item.location):
            raise OptionError("the QMP monitor is not wired into start-up yet")
    for opts in vm.config.opts.all("mon"):
        with location(opts.location or ""):
            raise OptionError("the QMP monitor is not wired into start-up yet")
