"""The machine init sequence: QEMU's start-up as an ordered table of named steps.

This file is the cleaned-up sequence of seed ``000_…`` (Paolo Bonzini's
"Machine init sequence"), in the stages of DESIGN.md.  Each stage ends in a
machine phase; only :class:`InitSequence` moves the phase, forward, one step
at a time.  ``-preconfig`` stops after *late creation* (``accel-created``);
QMP's ``next-machine-phase`` / ``advance-machine-phase`` / ``x-exit-preconfig``
run the rest (seed ``002_…``).  ``-x-init-trace help`` prints the table.

Read the steps top to bottom; :data:`SEQUENCE` at the end lists them in order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from pyqemu.hw.core.phase import MachinePhase
from pyqemu.util.errors import ConfigError, OptionError, StateError, location
from pyqemu.util.keyval import is_help_option

if TYPE_CHECKING:
    from pyqemu.system.config import Config
    from pyqemu.system.emulator import Emulator

P = MachinePhase


def _config(vm: Emulator) -> Config:
    assert vm.config is not None
    return vm.config


# -- Early option parsing (phase no-machine) -----------------------------------------


def parse_command_line(vm: Emulator) -> None:
    """Both passes over argv: look every option up, then act on each in order."""
    from pyqemu.system.cmdline import lex_argv
    from pyqemu.system.config import process_options

    vm.config = process_options(
        lex_argv(vm.argv), warn=lambda where, warning: vm.warn(warning.desc, where or None, warning.hint)
    )


#: The site configuration file read unless ``-no-user-config`` (QEMU reads its own).
DEFAULT_CONFIG_FILE = "/etc/pyqemu/qemu.conf"


def read_default_config(vm: Emulator) -> None:
    """Read the site configuration file, unless ``-no-user-config``."""
    import os

    if _config(vm).user_config and os.path.exists(DEFAULT_CONFIG_FILE):
        from pyqemu.system.readconfig_apply import read_config_file

        read_config_file(_config(vm), DEFAULT_CONFIG_FILE)


def process_help_options(vm: Emulator) -> None:
    """``-device help`` and ``-cpu help`` are answered once every option is read."""
    config = _config(vm)
    if is_help_option(config.cpu_option):
        from pyqemu.system.config import HelpRequest
        from pyqemu.system.help import cpu_help_text

        raise HelpRequest(cpu_help_text)
    for item in config.devices:
        if isinstance(item.value, str):
            from pyqemu.hw.core.qdev_monitor import device_help_text
            from pyqemu.system.cmdline import PROG
            from pyqemu.system.config import HelpRequest
            from pyqemu.util.errors import EarlyExit

            try:
                with location(item.location):
                    text = device_help_text(item.value)
            except ConfigError as err:  # QEMU reports an unknown device here and exits 0
                vm.stderr.write(err.cli_message(PROG) + "\n")
                raise EarlyExit(0) from err
            raise HelpRequest(lambda: text)  # noqa: B023 - raised at once


def validate_options(vm: Emulator) -> None:
    """Refuse combinations QEMU refuses, before anything is created."""
    config = _config(vm)
    for item in config.images:
        raise OptionError("disk images are not implemented in pyqemu yet", location=item.location)
    if config.opts.all("accel") and "accel" in config.machine:
        raise ConfigError('The -accel and "-machine accel=" options are incompatible')
    if config.preconfig and config.incoming not in (None, "defer"):
        raise ConfigError("'preconfig' supports '-incoming defer' only")
    if config.daemonize:
        for item in config.monitors:
            if item.value[2] == "stdio":
                with location(item.location):
                    raise ConfigError("cannot use stdio with -daemonize")
        if config.nographic and config.defaults:
            raise ConfigError("-nographic cannot be used with -daemonize")


def process_sugar_options(vm: Emulator) -> None:
    """Expand shorthands: ``-no-shutdown``, ``-no-reboot``, ``-incoming``'s run state."""
    config = _config(vm)
    vm.shutdown_action_pause = config.no_shutdown
    vm.reboot_action_shutdown = config.no_reboot
    if config.incoming is not None:
        from pyqemu.system.runstate import RunState

        vm.runstate.set(RunState.INMIGRATE)


def configure_tracing(vm: Emulator) -> None:
    """``-trace``: enable the named events."""
    for opts in _config(vm).opts.all("trace"):
        pattern = opts.get("enable")
        if pattern and not vm.tracer.enable(pattern):
            vm.warn(f"trace event '{pattern}' does not exist")


def daemonize(vm: Emulator) -> None:
    """``-daemonize``: fork; the parent waits for the child to report success."""
    if _config(vm).daemonize:
        from pyqemu.system.os_posix import daemon_ready, daemonize

        report_fd = daemonize()
        vm.sequence.at_ready(lambda: daemon_ready(report_fd))


def write_pidfile(vm: Emulator) -> None:
    """``-pidfile``: write and lock it; removed at exit."""
    path = _config(vm).pidfile
    if path:
        from pyqemu.system.os_posix import PidFile

        pidfile = PidFile(path)
        vm.cleanup.callback(pidfile.remove)


# -- Early initialization (phase no-machine) ---------------------------------------


def init_main_loop(vm: Emulator) -> None:
    """The main loop, its clocks and the big lock; termination signals go to it."""
    from pyqemu.system.os_posix import start_signal_thread
    from pyqemu.util.main_loop import MainLoop

    vm.main_loop = main_loop = MainLoop()
    vm.cleanup.callback(main_loop.close)
    if vm.handle_signals:
        start_signal_thread(
            lambda signo, pid: main_loop.call_soon_threadsafe(lambda: vm.system_killed(signo, pid))
        )


def init_cpu_timers(vm: Emulator) -> None:
    """The virtual clock starts stopped; it runs only while the VM runs."""
    from pyqemu.util.main_loop import ClockType

    assert vm.main_loop is not None
    vm.main_loop.clock(ClockType.VIRTUAL).set_enabled(False)


# -- Command line, part one (phase no-machine) ----------------------------------------


def register_global_properties(vm: Emulator) -> None:
    """``-global DRIVER.PROP=VALUE``: remembered, applied to each device as it is created."""
    vm.global_props.extend(item.value for item in _config(vm).globals)


def configure_rtc(vm: Emulator) -> None:
    """``-rtc base=,clock=,driftfix=``: where guest wall-clock time starts and runs."""
    from pyqemu.system.rtc_config import parse_rtc_options

    opts = _config(vm).opts.find("rtc")
    vm.rtc = parse_rtc_options(opts)
    if vm.rtc.driftfix == "slew":  # QEMU's sugar for the RTC's lost-tick policy
        vm.global_props.append(("mc146818rtc", "lost_tick_policy", "slew"))


def select_machine_class(vm: Emulator) -> None:
    """``-machine type=``, or the default board: decides the machine class."""
    from pyqemu.hw.core.machine import find_machine_class

    name = _config(vm).machine.get("type")
    cls = find_machine_class(None if name is None else str(name))
    if cls is None and name is None:
        raise ConfigError(
            "No machine specified, and there is no default",
            hint="Use -machine help to list supported machines",
        )
    if cls is None:
        raise ConfigError("unsupported machine type", hint="Use -machine help to list supported machines")
    vm.machine_class = cls


def set_compat_props(vm: Emulator) -> None:
    """An older machine version's compat properties, applied before any ``-global``."""
    vm.global_props[:0] = list(vm.machine_class.COMPAT_PROPS)


def add_default_devices(vm: Emulator) -> None:
    """Default serial port and monitor, unless ``-nodefaults`` or given explicitly."""
    from pyqemu.system.default_devices import add_default_devices

    add_default_devices(_config(vm), vm.machine_class)


def create_early_objects(vm: Emulator) -> None:
    """``-object`` for every type that does not need the accelerator."""
    if _config(vm).objects:
        from pyqemu.system.objects import create_objects

        create_objects(vm, early=True)


def create_chardevs(vm: Emulator) -> None:
    """``-chardev``: the character backends monitors and serial ports will use."""
    if _config(vm).opts.all("chardev"):
        from pyqemu.system.chardevs import create_cli_chardevs

        create_cli_chardevs(vm)


def init_displays(vm: Emulator) -> None:
    """``-display none`` is the only display: nothing to create."""


# -- Machine creation (phase machine-created) ---------------------------------------


def set_memory_options(vm: Emulator) -> None:
    """``-m SIZE[,slots=,maxmem=]`` becomes the machine's ``memory`` property."""
    config = _config(vm)
    opts = config.opts.find("memory")
    if opts is None:
        return
    memory = config.machine.setdefault("memory", {})
    assert isinstance(memory, dict)
    for name, key in (("size", "size"), ("maxmem", "max-size"), ("slots", "slots")):
        value = opts.get(name)
        if value is not None:
            memory[key] = value
    size = opts.get("size")
    if (size is None and memory.get("size") is None) or size == "":
        raise ConfigError("missing 'size' option value")
    if size and size[-1].isdigit() and size[-1].isascii():
        memory["size"] = size + "M"  # -m's legacy form: a size without a suffix is in MiB


def set_smp_options(vm: Emulator) -> None:
    """``-smp N[,sockets=…]`` becomes the machine's ``smp`` property."""
    config = _config(vm)
    opts = config.opts.find("smp-opts")
    if opts is not None:
        smp = config.machine.setdefault("smp", {})
        assert isinstance(smp, dict)
        smp.update({name: value for name, value in opts.items()})


def create_machine(vm: Emulator) -> None:
    """The machine object, at ``/machine``, with its ``unattached`` and ``peripheral`` containers."""
    from pyqemu.hw.core.machine import MachineState
    from pyqemu.qom.object import object_new

    assert vm.machine_class is not None
    machine = object_new(vm.machine_class.TYPE)
    assert isinstance(machine, MachineState)
    vm.root.add_child("machine", machine)
    machine.unref()
    machine.global_props = vm.global_props
    machine.host = vm
    vm.machine = machine


MEMORY_BACKEND_PROP = "memory-backend"
TYPE_MEMORY_BACKEND = "memory-backend"


def apply_machine_properties(vm: Emulator) -> None:
    """Every ``-machine key=value`` (and its sugar) as a machine property."""
    assert vm.machine is not None
    for name, value in _config(vm).machine.items():
        if name in ("type", "accel", MEMORY_BACKEND_PROP):
            continue  # memory-backend= names an object not created yet: resolve_machine_memdev
        vm.machine.property_parse(name, value)  # type: ignore[arg-type]
    for warning in vm.machine.warnings:
        vm.warn(warning)


# -- Accelerator creation (phase accel-created) ------------------------------------


def configure_accelerators(vm: Emulator) -> None:
    """``-accel`` (tried in order) or ``-machine accel=a:b`` (a fallback list)."""
    from pyqemu.system.accel_select import configure_accelerators

    configure_accelerators(vm)


def warn_deprecated_machine(vm: Emulator) -> None:
    """A deprecated machine type says so, unless qtest drives it."""
    cls = vm.machine_class
    if cls.DEPRECATION_REASON and (vm.accel is None or vm.accel.NAME != "qtest"):
        vm.warn(f"Machine type '{cls.machine_name()}' is deprecated: {cls.DEPRECATION_REASON}")


def check_boot_files(vm: Emulator) -> None:
    """``-initrd`` and ``-append`` need ``-kernel``; each file must be readable."""
    import os

    machine = vm.machine
    assert machine is not None
    if machine.kernel_filename is None:
        if machine.initrd_filename is not None:
            raise ConfigError("-initrd only allowed with -kernel option")
        if machine.kernel_cmdline:
            raise ConfigError("-append only allowed with -kernel option")
    for path in (machine.kernel_filename, machine.initrd_filename):
        if path is not None and not os.access(path, os.R_OK):
            raise ConfigError(f"could not load kernel '{path}'" if path == machine.kernel_filename
                              else f"could not load initial ram disk '{path}'")
    if machine.kernel_filename is not None or machine.dtb is not None:
        raise OptionError("direct kernel boot (-kernel, -initrd, -append, -dtb) is not implemented "
                          "in pyqemu yet")


def init_migration_state(vm: Emulator) -> None:
    """The migration state: idle, or waiting for ``migrate-incoming`` after ``-incoming defer``."""
    vm.migration_status = "none"


# -- Late creation (phase accel-created; -preconfig stops here) ---------------------------


def configure_boot_order(vm: Emulator) -> None:
    """``-boot order=,once=,menu=…`` becomes the machine's ``boot`` property."""
    config = _config(vm)
    opts = config.opts.find("boot-opts")
    if opts is not None and vm.machine is not None:
        vm.machine.property_parse("boot", dict(opts.items()))


def init_qtest_server(vm: Emulator) -> None:
    """``-qtest CHARDEV``: the qtest protocol server at ``/machine/qtest``, for tests driving the machine."""
    if _config(vm).qtest_chardev is not None:
        from pyqemu.accel.qtest.server import qtest_server_init

        vm.qtest = qtest_server_init(vm)


def create_late_objects(vm: Emulator) -> None:
    """``-object`` for types that need the accelerator (memory backends …)."""
    if _config(vm).objects:
        from pyqemu.system.objects import create_objects

        create_objects(vm, early=False)


def create_monitors(vm: Emulator) -> None:
    """``-qmp``, ``-mon`` and the default monitor: QMP servers on their chardevs."""
    config = _config(vm)
    if config.monitors or config.opts.all("mon"):
        from pyqemu.system.monitors import create_cli_monitors

        create_cli_monitors(vm)


def create_serial_backends(vm: Emulator) -> None:
    """``-serial``, ``-parallel``, ``-debugcon``: their chardevs, for the board to use."""
    config = _config(vm)
    if config.serials or config.parallels or config.debugcons:
        from pyqemu.system.chardevs import create_port_chardevs

        create_port_chardevs(vm)


def resolve_machine_memdev(vm: Emulator) -> None:
    """``-machine memory-backend=ID``, once the objects exist: the backend's size is the RAM size."""
    from pyqemu.qom.path import resolve_path

    machine = vm.machine
    assert machine is not None
    memdev_id = _config(vm).machine.get(MEMORY_BACKEND_PROP)
    if isinstance(memdev_id, str):
        backend, _ambiguous = resolve_path(vm.root, memdev_id, TYPE_MEMORY_BACKEND)
        if backend is None:
            raise ConfigError(f"Memory backend '{memdev_id}' not found")
        machine.property_set(MEMORY_BACKEND_PROP, backend.canonical_path())
    backend = machine.memory_backend
    if backend is None:
        return
    size = backend.property_get("size")
    memory = _config(vm).machine.get("memory")
    if not (isinstance(memory, dict) and "size" in memory):  # no -m / memory.size: the backend's
        machine.ram_size = size
    elif machine.ram_size != size:
        raise ConfigError("Machine memory size does not match the size of the memory backend")


def set_cpu_type(vm: Emulator) -> None:
    """``-cpu MODEL[,features]``, or the board's default CPU type."""
    machine = vm.machine
    assert machine is not None
    option = _config(vm).cpu_option
    if option is not None:
        from pyqemu.hw.i386.x86_cpu import x86_cpu_class_by_name

        model, _, features = option.partition(",")
        if features:
            raise OptionError("CPU features are not implemented in pyqemu yet", location=f"-cpu {option}")
        machine.cpu_type = x86_cpu_class_by_name(model)


# -- Board init (phase initialized) --------------------------------------------------


def create_default_ram(vm: Emulator) -> None:
    """Guest RAM: the ``memory-backend=`` object, else a backend ``/objects/<default RAM id>``."""
    from pyqemu.qom.object_interfaces import user_creatable_add

    machine = vm.machine
    assert machine is not None
    backend = machine.memory_backend
    if backend is None and machine.ram_size and machine.DEFAULT_RAM_ID:
        backend = user_creatable_add(vm.root, "memory-backend-ram", machine.DEFAULT_RAM_ID,
                                     {"size": machine.ram_size})
    if backend is not None:
        machine.ram = backend.get_memory()  # type: ignore[attr-defined]


def run_board_init(vm: Emulator) -> None:
    """The board's init: CPUs, RAM, chipset and on-board devices (``machine_run_board_init``)."""
    assert vm.machine is not None
    vm.machine.init()


def create_cli_devices(vm: Emulator) -> None:
    """Every ``-device``, cold-plugged, in command-line order."""
    if _config(vm).devices:
        from pyqemu.system.devices import create_cli_devices

        create_cli_devices(vm)


# -- Machine done (phase ready) -------------------------------------------------------


def run_init_done_notifiers(vm: Emulator) -> None:
    """Board code that waits for every device to exist runs now (``machine_init_done``)."""
    assert vm.machine is not None
    for notifier in list(vm.machine.init_done_notifiers):
        notifier()


def check_globals(vm: Emulator) -> None:
    """Warn about ``-global`` settings that named no existing type."""
    from pyqemu.qom.object import type_lookup

    for driver, prop, _ in vm.global_props:
        if type_lookup(driver) is None:
            vm.warn(f"global {driver}.{prop} has invalid class name")


def reset_machine(vm: Emulator) -> None:
    """A first system reset puts every device in its power-on state."""
    from pyqemu.system.runstate import ShutdownCause

    vm.system_reset(ShutdownCause.NONE)


def setup_accel_post(vm: Emulator) -> None:
    """The accelerator's last step once the machine is complete."""
    assert vm.accel is not None and vm.machine is not None
    vm.accel.setup_post(vm.machine)


# -- Start (phase ready) ---------------------------------------------------------------


def start_vm(vm: Emulator) -> None:
    """Run, unless ``-S`` (stay in prelaunch) or ``-incoming`` (wait for migration)."""
    config = _config(vm)
    if config.incoming is None and config.autostart:
        vm.vm_start()
    if vm.accel is not None and vm.accel.NAME == "kvm" and getattr(vm.machine, "cpus", None):
        vm.warn("pyqemu does not run vCPUs yet: the machine is built, the guest does not execute")


def report_ready(vm: Emulator) -> None:
    """Tell a waiting ``-daemonize`` parent, and print the init trace if asked."""
    for callback in vm.sequence.ready_callbacks:
        callback()
    if _config(vm).init_trace:
        vm.stderr.write(vm.trace.format())


# -- The table ----------------------------------------------------------------------------

Step = Callable[["Emulator"], None]


class Stage(NamedTuple):
    """Steps that run together; when the last one is done the machine is in ``phase``."""

    name: str
    phase: MachinePhase
    steps: tuple[Step, ...]


SEQUENCE: tuple[Stage, ...] = (
    Stage("early option parsing", P.NO_MACHINE, (
        parse_command_line, read_default_config, process_help_options, validate_options,
        process_sugar_options, configure_tracing, daemonize, write_pidfile,
    )),
    Stage("early initialization", P.NO_MACHINE, (
        init_main_loop, init_cpu_timers,
    )),
    Stage("command line, part one", P.NO_MACHINE, (
        register_global_properties, configure_rtc, select_machine_class, set_compat_props,
        add_default_devices, create_early_objects, create_chardevs, init_displays,
    )),
    Stage("machine creation", P.MACHINE_CREATED, (
        set_memory_options, set_smp_options, create_machine, apply_machine_properties,
    )),
    Stage("accelerator creation", P.ACCEL_CREATED, (
        configure_accelerators, warn_deprecated_machine, check_boot_files, init_migration_state,
    )),
    Stage("late creation", P.ACCEL_CREATED, (
        configure_boot_order, init_qtest_server, create_late_objects, create_monitors, create_serial_backends,
        resolve_machine_memdev, set_cpu_type,
    )),
    Stage("board init", P.INITIALIZED, (
        create_default_ram, run_board_init, create_cli_devices,
    )),
    Stage("machine done", P.READY, (
        run_init_done_notifiers, check_globals, reset_machine, setup_accel_post,
    )),
    Stage("start", P.READY, (
        start_vm, report_ready,
    )),
)


def step_name(step: Step) -> str:
    return step.__name__


def sequence_help_text() -> str:
    """``-x-init-trace help``: the whole sequence, without starting anything."""
    lines = ["pyqemu start-up sequence (stage, step, phase after the stage):"]
    for stage in SEQUENCE:
        lines.append(f"{stage.name}  ->  {stage.phase.qapi_name}")
        for step in stage.steps:
            doc = (step.__doc__ or "").strip().split("\n")[0]
            lines.append(f"    {step_name(step):30} {doc}")
    return "\n".join(lines) + "\n"


class InitSequence:
    """Runs the table for one emulator: forward only, each step once, phases in order."""

    def __init__(self, vm: Emulator):
        self.vm = vm
        self._next = 0  # index into the flattened steps
        self._steps = [(stage, step) for stage in SEQUENCE for step in stage.steps]
        self.failed: str | None = None
        self.ready_callbacks: list[Callable[[], None]] = []

    def at_ready(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once start-up reaches the end (``-daemonize`` reporting)."""
        self.ready_callbacks.append(callback)

    @property
    def done(self) -> bool:
        return self._next == len(self._steps)

    def _run_step(self, stage: Stage, step: Step) -> None:
        start = time.monotonic_ns()
        last_of_stage = stage.steps[-1] is step
        try:
            step(self.vm)
        except BaseException:
            self.failed = step_name(step)
            self.vm.trace.record(step_name(step), stage.name, self.vm.phase.qapi_name, start,
                                 time.monotonic_ns())
            raise
        phase = stage.phase if last_of_stage else self.vm.phase
        self.vm.trace.record(step_name(step), stage.name, phase.qapi_name, start, time.monotonic_ns())
        if last_of_stage and stage.phase != self.vm.phase:
            self.vm.phase = stage.phase
            self.vm.emit_event("MACHINE_PHASE_CHANGE", {"phase": stage.phase.qapi_name})

    def advance_to(self, target: MachinePhase) -> None:
        """Run every step of every stage whose phase is at most ``target``."""
        if self.failed is not None:
            raise StateError(f"start-up failed at step '{self.failed}'; the machine cannot advance")
        if target < self.vm.phase:
            raise StateError(f"machine phase cannot go back to '{target.qapi_name}'")
        while not self.done:
            stage, step = self._steps[self._next]
            if stage.phase > target:
                break
            self._next += 1
            self._run_step(stage, step)

    def start(self) -> None:
        """Start-up from the command line: to ``accel-created`` with ``-preconfig``, else to the end."""
        self.advance_to(MachinePhase.ACCEL_CREATED)
        assert self.vm.config is not None
        if not self.vm.config.preconfig:
            self.advance_to(MachinePhase.READY)


