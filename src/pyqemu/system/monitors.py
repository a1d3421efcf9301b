"""Monitors of the command line: ``-qmp``, ``-qmp-pretty`` and ``-mon chardev=ID,mode=control``.

``-qmp SPEC`` is sugar for a chardev ``compat_monitorN`` made from SPEC's
compact syntax plus ``-mon chardev=compat_monitorN,mode=control``; ``-qmp
chardev:ID`` names an existing chardev.  Only control (QMP) monitors exist:
the human monitor is refused where it is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.util.errors import ConfigError, OptionError, location

if TYPE_CHECKING:
    from pyqemu.system.emulator import Emulator


def _start_monitor(vm: Emulator, chardev_id: str, pretty: bool) -> None:
    from pyqemu.chardev.char import chardev_find
    from pyqemu.monitor.qmp import QmpMonitor

    chardev = chardev_find(vm.root, chardev_id)
    if chardev is None:
        raise ConfigError(f"chardev \"{chardev_id}\" not found")
    monitor = QmpMonitor(vm, chardev, pretty=pretty)
    vm.monitors.append(monitor)
    vm.cleanup.callback(monitor.close)


def create_cli_monitors(vm: Emulator) -> None:
    """Create every ``-qmp`` / ``-mon`` monitor, in command-line order."""
    from pyqemu.system.chardevs import new_chardev_compat

    assert vm.config is not None
    for item in vm.config.monitors:
        _mode, pretty, spec = item.value
        if spec == "none":
            continue
        with location(item.location):
            if spec.startswith("chardev:"):
                label = spec.removeprefix("chardev:")
            else:
                label = f"compat_monitor{vm.config.monitor_index}"
                vm.config.monitor_index += 1
                new_chardev_compat(vm, label, spec, "monitor", item.location)
            _start_monitor(vm, label, pretty)
    for opts in vm.config.opts.all("mon"):
        with location(opts.location or ""):
            if (opts.get("mode") or "readline") != "control":
                raise OptionError("the human monitor (HMP) is not implemented in pyqemu yet; "
                                  "use mode=control")
            chardev_id = opts.get("chardev")
            if chardev_id is None:
                raise ConfigError("Parameter 'chardev' is missing")
            _start_monitor(vm, chardev_id, opts.get_bool("pretty", False))
