"""Every QMP command, grouped as QEMU's QAPI schema groups them; importing this declares them all."""

from pyqemu.monitor import hmp  # noqa: F401 - imported to declare the commands
from pyqemu.monitor.commands import (  # noqa: F401
    char,
    control,
    machine,
    qdev,
    qom,
    run_state,
)
