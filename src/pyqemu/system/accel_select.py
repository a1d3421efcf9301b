"""Choosing the accelerator: ``-accel`` options tried in order, or ``-machine accel=a:b``.

Follows QEMU 7.2's ``configure_accelerators``: an unknown name or a failing
accelerator is reported and the next one tried; "falling back to X" follows
when an earlier one failed; if none works, start-up ends with the last
failure.  With no choice at all the default is ``kvm`` (pyqemu has no TCG).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.accel.accel import AccelState, accel_find
from pyqemu.qom.object import object_new
from pyqemu.system.cmdline import PROG
from pyqemu.util.errors import ConfigError, QemuError
from pyqemu.util.qemuopts import Opts

if TYPE_CHECKING:
    from pyqemu.system.emulator import Emulator

DEFAULT_ACCELERATORS = "kvm"


def _accel_opts(vm: Emulator) -> list[Opts]:
    """The ``-accel`` options; ``-machine accel=a:b`` is turned into the same form."""
    assert vm.config is not None
    store = vm.config.opts
    given = store.all("accel")
    if given:
        return given
    group = store.find_list("accel")
    names = str(vm.config.machine.get("accel") or DEFAULT_ACCELERATORS).split(":")
    return [_named(Opts(group), name) for name in names if name]


def _named(opts: Opts, name: str) -> Opts:
    opts.set("accel", name)
    return opts


def _init_accel(vm: Emulator, opts: Opts) -> AccelState:
    """Create one accelerator, set its properties and attach it to the machine."""
    name = opts.get("accel") or ""
    cls = accel_find(name)
    if cls is None:
        raise ConfigError(f"invalid accelerator {name}", location=opts.location)
    accel = object_new(cls.TYPE)
    assert isinstance(accel, AccelState) and vm.machine is not None
    try:
        for key, value in opts.items():
            if key != "accel":
                accel.property_parse(key, value)
        accel.init_machine(vm.machine)
    except QemuError as err:
        err.location = err.location or opts.location
        accel.close()
        raise
    return accel


def configure_accelerators(vm: Emulator) -> None:
    """Set ``vm.accel`` to the first accelerator that works, or raise the last failure."""
    last_error: QemuError | None = None
    for opts in _accel_opts(vm):
        try:
            accel = _init_accel(vm, opts)
        except QemuError as err:
            if last_error is not None:
                vm.stderr.write(last_error.cli_message(PROG) + "\n")
            last_error = err
            continue
        if last_error is not None:
            vm.stderr.write(last_error.cli_message(PROG) + "\n")
            vm.report(f"falling back to {accel.DISPLAY_NAME}")
        assert vm.machine is not None and vm.main_loop is not None
        vm.accel = vm.machine.accelerator = accel
        vm.cleanup.callback(accel.close)
        accel.init_clocks(vm.main_loop)
        return
    raise last_error or ConfigError("no accelerator found")
