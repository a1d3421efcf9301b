"""The running emulator: one object that owns the machine, main loop, monitors and accelerator.

Start-up is :attr:`Emulator.sequence` (``init_sequence.py``); after it, the
main loop runs until a shutdown request ends it.  Run control — stop, cont,
reset, powerdown, shutdown — lives here and changes the run state exactly as
QEMU's ``runstate.c`` and ``cpus.c`` do, with the same events.  Requests may
come from any thread (a vCPU, the signal thread); they are handled on the
main loop, as ``main_loop_should_exit`` handles them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from functools import cached_property
from typing import TYPE_CHECKING, Any, TextIO

from pyqemu.hw.core.phase import MachinePhase, require_phase
from pyqemu.system.cmdline import PROG
from pyqemu.system.init_sequence import InitSequence
from pyqemu.system.init_trace import InitTrace
from pyqemu.system.runstate import RunState, RunStateMachine, ShutdownCause
from pyqemu.util.errors import StateError, report_text
from pyqemu.util.trace import Tracer

if TYPE_CHECKING:
    import asyncio

    from pyqemu.accel.accel import AccelState
    from pyqemu.hw.core.machine import MachineState, WakeupReason
    from pyqemu.qom.object import Object
    from pyqemu.system.config import Config
    from pyqemu.system.rtc_config import RtcConfig
    from pyqemu.util.main_loop import MainLoop

EventListener = Callable[[str, dict[str, Any] | None], None]


class Emulator:
    """One pyqemu instance, from its command line to its exit status."""

    def __init__(self, argv: list[str], *, stderr: TextIO | None = None, handle_signals: bool = False):
        self.argv = argv
        self.stderr = stderr or sys.stderr
        self.handle_signals = handle_signals
        self.config: Config | None = None
        self.machine_class: type[MachineState] | None = None
        self.machine: MachineState | None = None
        self.rtc: RtcConfig | None = None
        self.migration_status = "none"
        self.accel: AccelState | None = None
        self.main_loop: MainLoop | None = None
        self.runstate = RunStateMachine()
        self.phase = MachinePhase.NO_MACHINE
        self.trace = InitTrace()
        self.tracer = Tracer(self.stderr)
        self.sequence = InitSequence(self)
        #: Teardown of everything start-up set up, in reverse order.
        self.cleanup = ExitStack()
        self.monitors: list[Any] = []
        #: The qtest protocol server (``-qtest``), if any.
        self.qtest: Any = None
        #: Backends of ``-serial`` / ``-parallel`` / ``-debugcon`` by kind, None for ``none``.
        self.port_chardevs: dict[str, list[Any]] = {}
        self.chardev_cleanup_registered = False
        self.global_props: list[tuple[str, str, str]] = []
        self.event_listeners: list[EventListener] = []
        self.exit_status = 0
        self._exit: asyncio.Future[int] | None = None
        self._shutdown_request: ShutdownCause | None = None
        self._reset_request: ShutdownCause | None = None
        self._powerdown_request = False
        self._suspend_request = False
        #: Why the guest is being woken (QEMU's ``wakeup_reason``), until the main loop has done it.
        self._wakeup_reason: WakeupReason | None = None
        #: The wake-up reasons the guest has enabled (QEMU's ``wakeup_reason_mask``: all at first).
        self.wakeup_disabled: set[WakeupReason] = set()
        self._killed_by: tuple[int, int] | None = None
        self.shutdown_action_pause = False
        self.reboot_action_shutdown = False

    @cached_property
    def root(self) -> Object:
        """The root of the QOM composition tree (made on first use: ``-version`` needs none)."""
        from pyqemu.qom.object import Container

        return Container()

    # -- diagnostics ---------------------------------------------------------

    def warn(self, text: str, location: str | None = None, hint: str | None = None) -> None:
        """Print ``prog: [where: ]warning: text`` as QEMU's ``warn_report``."""
        self.stderr.write(report_text(PROG, f"warning: {text}", location, hint) + "\n")

    def report(self, text: str) -> None:
        """Print ``prog: text`` as QEMU's ``error_report``."""
        self.stderr.write(f"{PROG}: {text}\n")

    # -- machine phases: the RFC's operations -------------------------------------

    def require_phase(self, needed: MachinePhase, what: str) -> None:
        require_phase(self.phase, needed, what)

    def query_machine_phase(self) -> MachinePhase:
        return self.phase

    def next_machine_phase(self) -> None:
        """Run the steps up to the next phase (``next-machine-phase``)."""
        if self.phase == MachinePhase.READY:
            raise StateError("machine is already in phase 'ready'; there is no next phase")
        self.sequence.advance_to(MachinePhase(self.phase + 1))

    def advance_machine_phase(self, phase: MachinePhase) -> None:
        """Run the steps up to ``phase`` (``advance-machine-phase``), which must be ahead."""
        if phase <= self.phase:
            raise StateError(
                f"machine phase '{phase.qapi_name}' is not ahead of the current phase "
                f"'{self.phase.qapi_name}'"
            )
        self.sequence.advance_to(phase)

    def exit_preconfig(self) -> None:
        """Leave preconfig: finish start-up (QEMU's ``x-exit-preconfig``)."""
        if self.phase == MachinePhase.READY:
            raise StateError("The command is permitted only before machine initialization")
        self.sequence.advance_to(MachinePhase.READY)

    # -- events --------------------------------------------------------------

    def emit_event(self, name: str, data: dict[str, Any] | None = None) -> None:
        """Send a QMP event to every listener (the monitors)."""
        for listener in list(self.event_listeners):
            listener(name, data)

    # -- run control (QEMU's vm_start / vm_stop / qemu_system_*) -------------------

    def _set_vm_running(self, running: bool) -> None:
        from pyqemu.util.main_loop import ClockType

        if self.main_loop is not None:
            self.main_loop.clock(ClockType.VIRTUAL).set_enabled(running)
            self.main_loop.rearm()

    def vm_start(self) -> None:
        """Start the vCPUs: run state ``running`` and a RESUME event."""
        if self.runstate.running:
            return
        self.emit_event("RESUME")
        self.runstate.set(RunState.RUNNING)
        self._set_vm_running(True)

    def vm_stop(self, state: RunState = RunState.PAUSED) -> None:
        """Pause the vCPUs; only a running VM changes state and sends STOP."""
        if not self.runstate.running:
            return
        self.runstate.set(state)
        self._set_vm_running(False)
        self.emit_event("STOP")

    def cont(self) -> None:
        """QMP ``cont``: resume unless the VM must be reset first."""
        if self.runstate.needs_reset:
            raise StateError("Resetting the Virtual Machine is required")
        if self.runstate.state == RunState.SUSPENDED:
            return
        if self.runstate.state == RunState.FINISH_MIGRATE:
            raise StateError("Migration is not finalized yet")
        if self.runstate.state == RunState.INMIGRATE:
            assert self.config is not None
            self.config.autostart = True
            return
        self.vm_start()

    def stop(self) -> None:
        """QMP ``stop``."""
        if self.runstate.state == RunState.INMIGRATE:
            assert self.config is not None
            self.config.autostart = False
            return
        self.vm_stop(RunState.PAUSED)

    def _notify(self) -> None:
        if self.main_loop is not None:
            self.main_loop.call_soon_threadsafe(self.handle_requests)

    def request_shutdown(self, cause: ShutdownCause) -> None:
        """Ask the main loop to shut down (from any thread)."""
        self._shutdown_request = cause
        self._notify()

    def request_reset(self, cause: ShutdownCause) -> None:
        """Ask for a reset; with ``-no-reboot`` a guest reset becomes a shutdown."""
        if self.reboot_action_shutdown and cause != ShutdownCause.SUBSYSTEM_RESET:
            self._shutdown_request = cause
        else:
            self._reset_request = cause
        self._notify()

    def request_powerdown(self) -> None:
        """Ask the guest to power down (ACPI power button)."""
        self._powerdown_request = True
        self._notify()

    # -- the machine's host interface (hw.core.machine.MachineHost) ------------------

    def guest_reset(self) -> None:
        self.request_reset(ShutdownCause.GUEST_RESET)

    def guest_shutdown(self) -> None:
        self.request_shutdown(ShutdownCause.GUEST_SHUTDOWN)

    def guest_suspend(self) -> None:
        """The guest entered S3: suspend at the next turn of the main loop, unless it is suspended."""
        if self.runstate.state == RunState.SUSPENDED:
            return
        self._suspend_request = True
        self._notify()

    def wakeup_enable(self, reason: WakeupReason, enabled: bool) -> None:
        if enabled:
            self.wakeup_disabled.discard(reason)
        else:
            self.wakeup_disabled.add(reason)

    def guest_exit(self, status: int) -> None:
        """End with ``status`` as soon as the main loop sees it (QEMU's ``exit()`` from a device)."""
        self.exit_status = status
        if self.main_loop is not None:
            self.main_loop.call_soon_threadsafe(lambda: self._finish(status))

    def wakeup(self, reason: WakeupReason) -> None:
        """A device's wake-up event: wake a suspended guest if the guest enabled ``reason``."""
        if self.runstate.state == RunState.SUSPENDED:
            self.request_wakeup(reason)

    def request_wakeup(self, reason: WakeupReason) -> None:
        """Leave ``suspended`` now; the main loop resets the machine and sends WAKEUP."""
        if self.runstate.state != RunState.SUSPENDED:
            raise StateError("Unable to wake up: guest is not in suspended state")
        if reason in self.wakeup_disabled:
            return
        self.runstate.set(RunState.RUNNING)
        self._wakeup_reason = reason
        self._notify()

    def quit(self) -> None:
        """QMP ``quit``: shut down even with ``-no-shutdown``."""
        self.shutdown_action_pause = False
        self.request_shutdown(ShutdownCause.HOST_QMP_QUIT)

    def system_killed(self, signo: int, pid: int) -> None:
        """A termination signal arrived (QEMU's ``qemu_system_killed``)."""
        self._killed_by = (signo, pid)
        self.shutdown_action_pause = False
        self.request_shutdown(ShutdownCause.HOST_SIGNAL)

    def system_reset(self, cause: ShutdownCause) -> None:
        """Reset every device now, and send RESET unless the cause is internal."""
        if self.machine is not None:
            self.machine.reset()
        if cause not in (ShutdownCause.NONE, ShutdownCause.SUBSYSTEM_RESET):
            self.emit_event("RESET", {"guest": cause.from_guest, "reason": str(cause)})

    def _report_kill(self) -> None:
        from pyqemu.system.os_posix import process_name

        if self._killed_by is None or (self.qtest is not None and self.qtest.driving):
            return  # QEMU says nothing when the qtest client ends it
        signo, pid = self._killed_by
        if pid:
            self.report(
                f"terminating on signal {signo} from pid {pid} ({process_name(pid) or '<unknown process>'})"
            )
        else:
            self.report(f"terminating on signal {signo}")

    def handle_requests(self) -> None:
        """Act on pending requests, in QEMU's order (``main_loop_should_exit``)."""
        if self._suspend_request:
            self._suspend_request = False
            self.runstate.set(RunState.SUSPENDED)
            self.emit_event("SUSPEND")
        cause, self._shutdown_request = self._shutdown_request, None
        if cause is not None:
            self._report_kill()
            self.emit_event("SHUTDOWN", {"guest": cause.from_guest, "reason": str(cause)})
            if self.shutdown_action_pause:
                self.vm_stop(RunState.SHUTDOWN)
            else:
                self._finish(0)
                return
        cause, self._reset_request = self._reset_request, None
        if cause is not None:
            self.system_reset(cause)
            if self.runstate.state not in (RunState.RUNNING, RunState.INMIGRATE, RunState.FINISH_MIGRATE):
                self.runstate.set(RunState.PRELAUNCH)
        reason, self._wakeup_reason = self._wakeup_reason, None
        if reason is not None:
            self.system_reset(ShutdownCause.NONE)
            if self.machine is not None:
                for notify_wakeup in list(self.machine.wakeup_notifiers):
                    notify_wakeup(reason)
            self.emit_event("WAKEUP")
        if self._powerdown_request:
            self._powerdown_request = False
            self.emit_event("POWERDOWN")
            if self.machine is not None:
                for power_down in list(self.machine.powerdown_notifiers):
                    power_down()

    def _finish(self, status: int) -> None:
        if self._exit is not None and not self._exit.done():
            self._exit.set_result(status)

    # -- the whole life --------------------------------------------------------

    def run(self) -> int:
        """Start up, run the main loop until shutdown, tear down; the exit status.

        Errors of start-up propagate (the caller reports them); whatever was
        set up is torn down either way.
        """
        with self.cleanup:
            assert self.main_loop is None
            if self.handle_signals:
                # Held pending until the signal thread (started with the main loop) takes them.
                from pyqemu.system.os_posix import block_termination_signals

                block_termination_signals()
            self.sequence.start()
            assert self.main_loop is not None
            loop = self.main_loop
            self._exit = loop.loop.create_future()
            loop.call_soon_threadsafe(self.handle_requests)
            return int(loop.run_until_complete(self._exit))  # type: ignore[arg-type]
