"""The ``qtest`` accelerator: no CPU runs; a test drives the machine over the qtest protocol.

The virtual clock only moves when the test steps it (``clock_step``): once
the accelerator is chosen, :meth:`QtestAccel.init_clocks` makes it manual,
so guest time starts at 0 and stays there until the qtest client moves it,
as QEMU's qtest accelerator does with its own clock counter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pyqemu.accel.accel import AccelState
from pyqemu.qom.object import register_type

if TYPE_CHECKING:
    from pyqemu.hw.core.machine import MachineState
    from pyqemu.util.main_loop import MainLoop

QTEST_ACCEL_NAME = "qtest"


@register_type
class QtestAccel(AccelState):
    TYPE = "qtest-accel"
    NAME = DISPLAY_NAME = QTEST_ACCEL_NAME

    def init_machine(self, machine: MachineState) -> None:
        """Nothing to open: qtest needs no host support."""

    def init_clocks(self, main_loop: MainLoop) -> None:
        """Hand the virtual clock to the qtest client: it moves only by ``clock_step``/``clock_set``.

        Call it before the VM first runs; calling it again changes nothing.
        """
        from pyqemu.util.main_loop import ClockType

        main_loop.clock(ClockType.VIRTUAL).set_manual()


def is_qtest_accel(accel: AccelState | None) -> bool:
    """True if ``accel`` is the qtest accelerator (QEMU's ``qtest_enabled()``)."""
    return accel is not None and accel.NAME == QTEST_ACCEL_NAME


# -- the clock commands (QEMU's qtest_clock_warp) --------------------------------------


def clock_now(main_loop: MainLoop) -> int:
    """The virtual clock in nanoseconds."""
    from pyqemu.util.main_loop import ClockType

    return main_loop.clock(ClockType.VIRTUAL).now_ns()


def clock_deadline(main_loop: MainLoop) -> int:
    """Nanoseconds to the next virtual timer, 0 if one is due, -1 if none can run (clock stopped)."""
    from pyqemu.util.main_loop import ClockType

    clock = main_loop.clock(ClockType.VIRTUAL)
    expire = main_loop.next_deadline_ns(ClockType.VIRTUAL)
    if expire is None or not clock.enabled:
        return -1
    return max(0, expire - clock.now_ns())


def clock_warp(main_loop: MainLoop, dest: int) -> None:
    """Move the virtual clock forward to ``dest``, running timers as they fall due; never back.

    Timers run only while the VM runs (with ``-S`` the clock still moves).
    """
    from pyqemu.util.main_loop import ClockType

    if dest > clock_now(main_loop):
        main_loop.step_clock(ClockType.VIRTUAL, dest)
