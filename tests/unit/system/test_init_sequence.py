"""The init sequence: step order, phases only forward, preconfig / -S stops, failures."""

from __future__ import annotations

import pytest

from pyqemu.hw.core.phase import MachinePhase
from pyqemu.system.emulator import Emulator
from pyqemu.system.init_sequence import SEQUENCE, sequence_help_text, step_name
from pyqemu.system.runstate import RunState
from pyqemu.util.errors import ConfigError, PhaseError, StateError

P = MachinePhase
BASE = ["-M", "none", "-accel", "qtest", "-nodefaults"]


class Recorder:
    """An emulator for the test, with every event it emits."""

    def __init__(self, *extra: str):
        self.vm = Emulator([*BASE, *extra])
        self.events: list[tuple[str, object]] = []
        self.vm.event_listeners.append(lambda name, data: self.events.append((name, data)))

    def names(self, *wanted: str) -> list[str]:
        return [name for name, _ in self.events if name in wanted]


def _emulator(*extra: str) -> Emulator:
    return Recorder(*extra).vm


def _close(vm: Emulator) -> None:
    vm.cleanup.close()


def test_stages_end_in_phases_that_never_go_back() -> None:
    phases = [stage.phase for stage in SEQUENCE]
    assert phases == sorted(phases)
    assert [s.name for s in SEQUENCE] == [
        "early option parsing", "early initialization", "command line, part one", "machine creation",
        "accelerator creation", "late creation", "board init", "machine done", "start",
    ]
    assert {stage.phase for stage in SEQUENCE} == set(MachinePhase)


def test_full_start_runs_every_step_once_in_table_order() -> None:
    rec = Recorder("-S")
    vm = rec.vm
    vm.sequence.start()
    ran = [(rec.stage, rec.step) for rec in vm.trace.records]
    assert ran == [(stage.name, step_name(step)) for stage in SEQUENCE for step in stage.steps]
    assert vm.phase == P.READY and vm.runstate.state == RunState.PRELAUNCH
    phase_events = [data for name, data in rec.events if name == "MACHINE_PHASE_CHANGE"]
    phases = ("machine-created", "accel-created", "initialized", "ready")
    assert phase_events == [{"phase": p} for p in phases]
    _close(vm)


def test_without_dash_s_the_vm_runs() -> None:
    rec = Recorder()
    vm = rec.vm
    vm.sequence.start()
    assert vm.runstate.state == RunState.RUNNING
    assert ("RESUME", None) in rec.events
    _close(vm)


def test_preconfig_stops_in_accel_created_and_steps_forward() -> None:
    vm = _emulator("-preconfig")
    vm.sequence.start()
    assert vm.query_machine_phase() == P.ACCEL_CREATED
    assert vm.machine is not None and vm.accel is not None
    assert vm.machine.child("peripheral") is not None
    with pytest.raises(PhaseError, match="needs phase 'initialized'"):
        vm.require_phase(P.INITIALIZED, "device_add")
    vm.next_machine_phase()
    assert vm.query_machine_phase() == P.INITIALIZED
    vm.require_phase(P.INITIALIZED, "device_add")
    with pytest.raises(StateError, match="not ahead"):
        vm.advance_machine_phase(P.ACCEL_CREATED)
    vm.advance_machine_phase(P.READY)
    assert vm.query_machine_phase() == P.READY
    assert vm.runstate.state == RunState.RUNNING
    with pytest.raises(StateError, match="no next phase"):
        vm.next_machine_phase()
    _close(vm)


def test_exit_preconfig_finishes_start_up() -> None:
    vm = _emulator("-preconfig", "-S")
    vm.sequence.start()
    vm.exit_preconfig()
    assert vm.phase == P.READY and vm.runstate.state == RunState.PRELAUNCH
    with pytest.raises(StateError):
        vm.exit_preconfig()
    _close(vm)


def test_a_failing_step_stops_the_sequence_for_good() -> None:
    vm = _emulator("-preconfig", "-device", "nope")
    vm.sequence.start()
    with pytest.raises(ConfigError, match="'nope' is not a valid device model name") as info:
        vm.next_machine_phase()
    assert info.value.location == "-device nope"
    assert vm.sequence.failed == "create_cli_devices"
    assert vm.phase == P.ACCEL_CREATED
    with pytest.raises(StateError, match="failed at step 'create_cli_devices'"):
        vm.next_machine_phase()
    _close(vm)


def test_failing_start_up_removes_the_pidfile(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pidfile = tmp_path / "vm.pid"
    vm = _emulator("-pidfile", str(pidfile), "-smp", "4")
    with pytest.raises(ConfigError, match="Invalid SMP CPUs 4"):
        vm.run()
    assert not pidfile.exists()


def test_stop_cont_and_events() -> None:
    rec = Recorder()
    vm = rec.vm
    vm.sequence.start()
    vm.stop()
    assert vm.runstate.state == RunState.PAUSED
    vm.stop()
    vm.cont()
    assert vm.runstate.state == RunState.RUNNING
    assert rec.names("STOP", "RESUME") == ["RESUME", "STOP", "RESUME"]
    _close(vm)


def test_no_shutdown_pauses_instead_of_exiting() -> None:
    rec = Recorder("-no-shutdown")
    vm = rec.vm
    vm.sequence.start()
    from pyqemu.system.runstate import ShutdownCause

    vm._exit = vm.main_loop.loop.create_future()  # type: ignore[union-attr]
    vm.request_shutdown(ShutdownCause.GUEST_SHUTDOWN)
    vm.handle_requests()
    assert vm.runstate.state == RunState.SHUTDOWN and not vm._exit.done()
    assert ("SHUTDOWN", {"guest": True, "reason": "guest-shutdown"}) in rec.events
    with pytest.raises(StateError, match="Resetting the Virtual Machine is required"):
        vm.cont()
    vm.request_reset(ShutdownCause.HOST_QMP_SYSTEM_RESET)
    vm.handle_requests()
    assert vm.runstate.state == RunState.PRELAUNCH
    assert ("RESET", {"guest": False, "reason": "host-qmp-system-reset"}) in rec.events
    vm.quit()
    vm.handle_requests()
    assert vm._exit.done() and vm._exit.result() == 0
    _close(vm)


def test_no_reboot_turns_a_guest_reset_into_shutdown() -> None:
    from pyqemu.system.runstate import ShutdownCause

    rec = Recorder("-no-reboot")
    vm = rec.vm
    vm.sequence.start()
    vm._exit = vm.main_loop.loop.create_future()  # type: ignore[union-attr]
    vm.request_reset(ShutdownCause.GUEST_RESET)
    vm.handle_requests()
    assert vm._exit.done()
    assert ("SHUTDOWN", {"guest": True, "reason": "guest-reset"}) in rec.events
    _close(vm)


def test_sequence_help_lists_stages_and_steps() -> None:
    text = sequence_help_text()
    assert "late creation  ->  accel-created" in text
    assert text.index("create_machine") < text.index("configure_accelerators") < text.index("run_board_init")


def test_big_lock_is_free_while_the_running_emulator_waits() -> None:
    """A vCPU thread can take the big lock whenever the main loop is idle."""
    import threading

    vm = _emulator("-S")
    took: list[bool] = []

    def vcpu() -> None:
        assert vm.main_loop is not None
        got = vm.main_loop.bql.acquire(timeout=5)
        took.append(got)
        if got:
            vm.main_loop.bql.release()
        vm.main_loop.call_soon_threadsafe(vm.quit)

    start_up = vm.sequence.start

    def start_then_spawn() -> None:
        start_up()
        assert vm.main_loop is not None
        vm.main_loop.loop.call_soon(lambda: threading.Thread(target=vcpu).start())

    vm.sequence.start = start_then_spawn  # type: ignore[method-assign]
    assert vm.run() == 0
    assert took == [True]


@pytest.mark.parametrize(("extra", "message"), [
    (["-M", "pc", "-cpu", "qemu64,+avx"], "CPU features are not implemented in pyqemu yet"),
    (["-M", "pc", "-cpu", "nope"], "unable to find CPU model 'nope'"),
    (["-M", "pc", "-kernel", "/etc/hostname"], "direct kernel boot"),
    (["-M", "pc,usb=on"], "machine property 'usb' is not implemented in pyqemu yet"),
])
def test_what_pyqemu_cannot_do_is_refused(extra: list[str], message: str) -> None:
    vm = Emulator(["-accel", "qtest", "-nodefaults", "-S", *extra])
    with pytest.raises(ConfigError, match=message):
        vm.sequence.start()
    vm.cleanup.close()


def test_kvm_accel_takes_only_the_default_properties() -> None:
    vm = Emulator(["-M", "none", "-nodefaults", "-S", "-accel", "kvm,kernel-irqchip=split"])
    with pytest.raises(ConfigError, match="'kernel-irqchip' other than on is not implemented") as info:
        vm.sequence.start()
    assert info.value.location == "-accel kvm,kernel-irqchip=split"
    vm.cleanup.close()


def test_query_cpus_fast_lists_the_board_cpus() -> None:
    from pyqemu.monitor.commands.machine import query_cpus_fast
    from pyqemu.monitor.dispatch import CommandContext

    vm = Emulator(["-M", "pc", "-accel", "qtest", "-nodefaults", "-S", "-smp", "2"])
    vm.sequence.start()
    cpus = query_cpus_fast(CommandContext(vm, None))  # type: ignore[arg-type]
    assert [(c["cpu-index"], c["props"], c["target"]) for c in cpus] == [
        (0, {"core-id": 0, "thread-id": 0, "socket-id": 0}, "x86_64"),
        (1, {"core-id": 1, "thread-id": 0, "socket-id": 0}, "x86_64"),
    ]
    assert all(c["qom-path"].startswith("/machine/unattached/device[") for c in cpus)
    vm.cleanup.close()
