"""The second pass over the command line: every option, in order, into one :class:`Config`.

Each option has a small handler in :data:`HANDLERS` (QEMU's big ``switch`` in
``qemu_init``, made a table).  Handlers only record what was asked; the init
sequence acts on it.  An option pyqemu does not implement is refused with a
message that names it, never ignored.  Help requests (``-M help``,
``-accel help`` …) end the pass with :class:`HelpRequest`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyqemu.system.cmdline import ParsedArg, check_target, first_pass, help_text, version_text
from pyqemu.system.option_groups import new_opts_store
from pyqemu.util.errors import ConfigError, EarlyExit, OptionError, location
from pyqemu.util.keyval import KeyvalDict, is_help_option, keyval_parse, keyval_parse_into
from pyqemu.util.qemuopts import Opts, OptsStore, ParseWarning

NOT_IMPLEMENTED = "this option is not implemented in pyqemu yet"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


class HelpRequest(EarlyExit):
    """Print ``text()`` on stdout and exit 0 (``-h``, ``-M help``, ``-accel help`` …)."""

    def __init__(self, text: Callable[[], str]):
        super().__init__(0)
        self.text = text


@dataclass
class CliItem:
    """An option's parsed value kept with its location, for errors reported later."""

    location: str
    value: Any


@dataclass
class Config:
    """Everything the command line asked for, as the init sequence consumes it."""

    opts: OptsStore = field(default_factory=new_opts_store)
    #: ``-machine``/``-M`` merged, plus their sugar (``-enable-kvm``, ``-kernel`` …).
    machine: KeyvalDict = field(default_factory=dict)
    machine_location: str | None = None
    objects: list[CliItem] = field(default_factory=list)
    devices: list[CliItem] = field(default_factory=list)
    globals: list[CliItem] = field(default_factory=list)
    serials: list[CliItem] = field(default_factory=list)
    parallels: list[CliItem] = field(default_factory=list)
    debugcons: list[CliItem] = field(default_factory=list)
    monitors: list[CliItem] = field(default_factory=list)
    #: Positional disk images (refused after the pass: no block layer yet).
    images: list[CliItem] = field(default_factory=list)
    #: Reports a parse warning at once, with the option it came from (``warn_report``).
    warn: Callable[[str, ParseWarning], None] = lambda location, warning: None
    cpu_option: str | None = None
    defaults: bool = True
    user_config: bool = True
    nographic: bool = False
    uuid: str | None = None
    pidfile: str | None = None
    daemonize: bool = False
    autostart: bool = True
    preconfig: bool = False
    incoming: str | None = None
    no_shutdown: bool = False
    no_reboot: bool = False
    qtest_chardev: str | None = None
    qtest_log: str | None = None
    init_trace: bool = False
    monitor_index: int = 0


Handler = Callable[[Config, ParsedArg], None]
HANDLERS: dict[str, Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    """Decorator: ``fn`` handles the options ``names`` (keys: ``machine`` for ``-M``)."""

    def register(fn: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = fn
        return fn

    return register


def _parse(config: Config, group: str, arg: ParsedArg) -> Opts | None:
    """Parse ``arg`` into QemuOpts group ``group``; None if it asked for help."""
    warnings: list[ParseWarning] = []
    try:
        result = config.opts.parse(group, arg.value or "", arg.location, warnings=warnings)
    finally:
        for warning in warnings:
            config.warn(arg.location, warning)
    return None if result.help else result.opts


# -- help and information --------------------------------------------------------


@handles("h")
def _help(config: Config, arg: ParsedArg) -> None:
    raise HelpRequest(help_text)


@handles("version")
def _version(config: Config, arg: ParsedArg) -> None:
    raise HelpRequest(version_text)


@handles("x-init-trace")
def _init_trace(config: Config, arg: ParsedArg) -> None:
    if arg.value == "help":
        from pyqemu.system.init_sequence import sequence_help_text

        raise HelpRequest(sequence_help_text)
    if arg.value not in ("on", "off"):
        raise ConfigError("Parameter 'x-init-trace' expects 'on', 'off' or 'help'")
    config.init_trace = arg.value == "on"


# -- the machine and its sugar -------------------------------------------------


@handles("machine")
def _machine(config: Config, arg: ParsedArg) -> None:
    if keyval_parse_into(config.machine, arg.value or "", "type"):
        from pyqemu.system.help import machine_help_text

        machine = dict(config.machine)
        raise HelpRequest(lambda: machine_help_text(machine))
    config.machine_location = arg.location


@handles("enable-kvm")
def _enable_kvm(config: Config, arg: ParsedArg) -> None:
    config.machine["accel"] = "kvm"


@handles("kernel", "initrd", "append", "dtb")
def _boot_file(config: Config, arg: ParsedArg) -> None:
    assert arg.key is not None
    config.machine[arg.key] = arg.value or ""


@handles("bios")
def _bios(config: Config, arg: ParsedArg) -> None:
    config.machine["firmware"] = arg.value or ""


@handles("accel")
def _accel(config: Config, arg: ParsedArg) -> None:
    opts = _parse(config, "accel", arg)
    name = opts.get("accel") if opts is not None else None
    if name is None or is_help_option(name):
        from pyqemu.accel.accel import accel_help_text

        raise HelpRequest(accel_help_text)


@handles("cpu")
def _cpu(config: Config, arg: ParsedArg) -> None:
    config.cpu_option = arg.value


@handles("smp")
def _smp(config: Config, arg: ParsedArg) -> None:
    _parse(config, "smp-opts", arg)


@handles("m")
def _memory(config: Config, arg: ParsedArg) -> None:
    _parse(config, "memory", arg)


@handles("boot")
def _boot(config: Config, arg: ParsedArg) -> None:
    _parse(config, "boot-opts", arg)


@handles("rtc")
def _rtc(config: Config, arg: ParsedArg) -> None:
    _parse(config, "rtc", arg)


# -- objects, devices, globals ------------------------------------------------------


@handles("object")
def _object(config: Config, arg: ParsedArg) -> None:
    values, wants_help = keyval_parse(arg.value or "", "qom-type")
    if wants_help:
        from pyqemu.qom.object import type_lookup
        from pyqemu.system.help import object_help_text

        qom_type = values.get("qom-type")
        if qom_type is not None and not is_help_option(qom_type) and type_lookup(qom_type) is None:
            raise ConfigError(f"Parameter 'qom-type' does not accept value '{qom_type}'")
        raise HelpRequest(lambda: object_help_text(qom_type))
    object_id = values.get("id")
    if object_id is not None and any(item.value.get("id") == object_id for item in config.objects):
        raise ConfigError(f"Duplicate ID '{object_id}' for object")
    config.objects.append(CliItem(arg.location, values))


@handles("device")
def _device(config: Config, arg: ParsedArg) -> None:
    text = arg.value or ""
    if text.startswith("{"):
        from pyqemu.qapi.json_parser import parse_json_value

        config.devices.append(CliItem(arg.location, parse_json_value(text)))
        return
    opts = _parse(config, "device", arg)
    if opts is None or opts.has_help_option() or is_help_option(opts.get("driver")):
        if opts is not None:
            config.opts.delete(opts)
        config.devices.append(CliItem(arg.location, text))  # a help request, answered after the pass
        return
    config.devices.append(CliItem(arg.location, opts))


@handles("global")
def _global(config: Config, arg: ParsedArg) -> None:
    text = arg.value or ""
    match = re.match(r"([^.=]{1,63})\.([^=]{1,63})=", text)
    if match:
        triple = (match[1], match[2], text[match.end():])
    else:
        opts = _parse(config, "global", arg)
        values = [opts.get(key) if opts else None for key in ("driver", "property", "value")]
        if None in values:
            raise ConfigError("options 'driver', 'property', and 'value' are required")
        triple = tuple(values)  # type: ignore[assignment]
    config.globals.append(CliItem(arg.location, triple))


# -- character devices and monitors ---------------------------------------------------


@handles("chardev")
def _chardev(config: Config, arg: ParsedArg) -> None:
    opts = _parse(config, "chardev", arg)
    if opts is None or opts.has_help_option() or is_help_option(opts.get("backend")):
        if opts is not None:
            config.opts.delete(opts)
        from pyqemu.system.help import chardev_help_text

        raise HelpRequest(chardev_help_text)


def _monitor_parse(config: Config, arg: ParsedArg, mode: str, pretty: bool) -> None:
    """``-qmp``/``-monitor``: a chardev in the compact syntax, and a monitor on it."""
    config.monitors.append(CliItem(arg.location, (mode, pretty, arg.value or "")))


@handles("qmp")
def _qmp(config: Config, arg: ParsedArg) -> None:
    _monitor_parse(config, arg, "control", False)


@handles("qmp-pretty")
def _qmp_pretty(config: Config, arg: ParsedArg) -> None:
    _monitor_parse(config, arg, "control", True)


@handles("monitor")
def _hmp(config: Config, arg: ParsedArg) -> None:
    if arg.value != "none":
        raise OptionError("the human monitor (HMP) is not implemented in pyqemu yet; use -qmp")
    config.monitors.append(CliItem(arg.location, ("readline", False, "none")))


@handles("mon")
def _mon(config: Config, arg: ParsedArg) -> None:
    _parse(config, "mon", arg)


@handles("serial")
def _serial(config: Config, arg: ParsedArg) -> None:
    config.serials.append(CliItem(arg.location, arg.value))


@handles("parallel")
def _parallel(config: Config, arg: ParsedArg) -> None:
    config.parallels.append(CliItem(arg.location, arg.value))


@handles("debugcon")
def _debugcon(config: Config, arg: ParsedArg) -> None:
    config.debugcons.append(CliItem(arg.location, arg.value))


@handles("qtest")
def _qtest(config: Config, arg: ParsedArg) -> None:
    config.qtest_chardev = arg.value


@handles("qtest-log")
def _qtest_log(config: Config, arg: ParsedArg) -> None:
    config.qtest_log = arg.value


# -- display ------------------------------------------------------------------------

_KNOWN_DISPLAYS = ("gtk", "sdl", "egl-headless", "curses", "vnc", "spice-app", "dbus", "cocoa")


@handles("display")
def _display(config: Config, arg: ParsedArg) -> None:
    kind = (arg.value or "").split(",", 1)[0]
    if is_help_option(kind):
        raise HelpRequest(lambda: "Available display backend types:\nnone\n")
    if kind in _KNOWN_DISPLAYS:
        raise ConfigError(f"Display '{kind}' is not available")
    if kind != "none":
        raise ConfigError(f"Parameter 'type' does not accept value '{kind}'")


@handles("nographic")
def _nographic(config: Config, arg: ParsedArg) -> None:
    config.nographic = True


@handles("vga")
def _vga(config: Config, arg: ParsedArg) -> None:
    if arg.value != "none":
        raise OptionError("only '-vga none' is implemented in pyqemu yet")


# -- process and run control -----------------------------------------------------------


@handles("name")
def _name(config: Config, arg: ParsedArg) -> None:
    _parse(config, "name", arg)


@handles("uuid")
def _uuid(config: Config, arg: ParsedArg) -> None:
    if not _UUID.match(arg.value or ""):
        raise ConfigError("Fail to parse UUID string. Wrong format.")
    config.uuid = (arg.value or "").lower()


@handles("pidfile")
def _pidfile(config: Config, arg: ParsedArg) -> None:
    config.pidfile = arg.value


@handles("incoming")
def _incoming(config: Config, arg: ParsedArg) -> None:
    if arg.value != "defer":
        raise OptionError("migration is not implemented in pyqemu yet; only '-incoming defer' is")
    config.incoming = arg.value


@handles("trace")
def _trace(config: Config, arg: ParsedArg) -> None:
    if _parse(config, "trace", arg) is None or is_help_option(arg.value):
        from pyqemu.system.help import trace_help_text

        raise HelpRequest(trace_help_text)


@handles("readconfig")
def _readconfig(config: Config, arg: ParsedArg) -> None:
    from pyqemu.system.readconfig_apply import read_config_file

    read_config_file(config, arg.value or "")


#: Options that only set a flag of the Config: option -> (attribute, value).
FLAG_OPTIONS: dict[str, tuple[str, bool]] = {
    "S": ("autostart", False),
    "preconfig": ("preconfig", True),
    "daemonize": ("daemonize", True),
    "no-shutdown": ("no_shutdown", True),
    "no-reboot": ("no_reboot", True),
    "nodefaults": ("defaults", False),
    "no-user-config": ("user_config", False),
}


def _set_flag(config: Config, arg: ParsedArg) -> None:
    assert arg.key is not None
    attribute, value = FLAG_OPTIONS[arg.key]
    setattr(config, attribute, value)


handles(*FLAG_OPTIONS)(_set_flag)


# -- the pass ------------------------------------------------------------------------


def process_options(args: list[ParsedArg], warn: Callable[[str, ParseWarning], None] | None = None) -> Config:
    """QEMU's second pass: act on each option in order (QEMU's big ``switch``).

    ``warn(location, warning)`` reports deprecation warnings as they are met.
    """
    config = Config() if warn is None else Config(warn=warn)
    config.user_config = first_pass(args).user_config
    for arg in args:
        with location(arg.location):
            if arg.is_image:
                config.images.append(CliItem(arg.location, arg.value))
                continue
            check_target(arg)
            assert arg.key is not None
            handler = HANDLERS.get(arg.key)
            if handler is None:
                raise OptionError(NOT_IMPLEMENTED)
            handler(config, arg)
    return config
