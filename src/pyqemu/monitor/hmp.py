"""``human-monitor-command``: the human monitor's read-only ``info`` commands, over QMP.

Only what shows the machine's structure and state is here (``info status``,
``qtree``, ``mtree``, ``qom-tree``, ``chardev``, ``version``, ``kvm``,
``name``, ``uuid``, ``device_add help`` and ``device_add TYPE,help``);
output is text with ``\\r\\n`` line ends, as QEMU's monitor prints it.
Anything else is answered as QEMU answers an unknown command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pyqemu.monitor.dispatch import CommandContext
from pyqemu.qapi.schema import SCHEMA
from pyqemu.qom.object import Object

if TYPE_CHECKING:
    from pyqemu.system.emulator import Emulator

InfoCommand = Callable[["Emulator", list[str]], str]


def _status(vm: Emulator, args: list[str]) -> str:
    from pyqemu.qapi.run_state import RunState

    state = vm.runstate.state
    if state == RunState.RUNNING:
        return "VM status: running\n"
    if state == RunState.PAUSED:
        return "VM status: paused\n"
    return f"VM status: paused ({state})\n"


def _version(vm: Emulator, args: list[str]) -> str:
    from pyqemu.monitor.qmp import greeting

    version = greeting(vm)["QMP"]["version"]
    qemu = version["qemu"]
    return f"{qemu['major']}.{qemu['minor']}.{qemu['micro']}{version['package']}\n"


def _kvm(vm: Emulator, args: list[str]) -> str:
    enabled = vm.accel is not None and vm.accel.NAME == "kvm"
    return f"kvm support: {'enabled' if enabled else 'disabled'}\n"


def _chardev(vm: Emulator, args: list[str]) -> str:
    from pyqemu.chardev.char import query_chardev

    return "".join(f"{info['label']}: filename={info['filename']}\n" for info in query_chardev(vm.root))


def _qom_tree_lines(obj: Object, name: str, depth: int) -> list[str]:
    lines = [f"{'  ' * depth}/{name} ({obj.typename})"]
    children = sorted((child.name_in_parent or "", child) for child in obj.children())
    for child_name, child in children:
        lines += _qom_tree_lines(child, child_name, depth + 1)
    return lines


def _qom_tree(vm: Emulator, args: list[str]) -> str:
    from pyqemu.qom.path import resolve_path

    path = args[0] if args else "/machine"
    obj, ambiguous = resolve_path(vm.root, path)
    if obj is None:
        return f"Path '{path}' is ambiguous\n" if ambiguous else f"Path '{path}' could not be resolved\n"
    name = obj.name_in_parent or ""
    return "\n".join(_qom_tree_lines(obj, name, 0)) + "\n"


def _qtree(vm: Emulator, args: list[str]) -> str:
    from pyqemu.hw.core.qtree import qtree_info

    assert vm.machine is not None
    return qtree_info(vm.machine)


def _mtree(vm: Emulator, args: list[str]) -> str:
    from pyqemu.memory.mtree import mtree_info

    memory = getattr(vm.machine, "memory_system", None)
    if memory is None:
        return ""
    return mtree_info(memory, flatview="-f" in args)


def _name(vm: Emulator, args: list[str]) -> str:
    assert vm.config is not None
    opts = vm.config.opts.find("name")
    name = opts.get("guest") if opts is not None else None
    return f"{name}\n" if name else ""


def _uuid(vm: Emulator, args: list[str]) -> str:
    assert vm.config is not None
    return (vm.config.uuid or "00000000-0000-0000-0000-000000000000") + "\n"


INFO: dict[str, InfoCommand] = {
    "status": _status, "version": _version, "kvm": _kvm, "chardev": _chardev,
    "qom-tree": _qom_tree, "qtree": _qtree, "mtree": _mtree, "name": _name, "uuid": _uuid,
}


def _device_add_help(text: str) -> str | None:
    """``device_add help`` or ``device_add TYPE,help``, errors as their bare text; None if no help asked."""
    from pyqemu.hw.core.qdev_monitor import device_help_requested, device_help_text
    from pyqemu.util.errors import QemuError

    if not device_help_requested(text):
        return None
    try:
        return device_help_text(text)
    except QemuError as err:
        return err.desc + "\n"


def run_hmp(vm: Emulator, command_line: str) -> str:
    """The text a human monitor prints for ``command_line`` (``\\n`` line ends)."""
    words = command_line.split()
    if not words:
        return ""
    if words[0] == "info" and len(words) > 1 and words[1] in INFO:
        return INFO[words[1]](vm, words[2:])
    help_text = _device_add_help(words[1]) if words[0] == "device_add" and len(words) > 1 else None
    if help_text is not None:
        return help_text
    return f"unknown command: '{command_line.strip()}'\n"


@SCHEMA.command("human-monitor-command", arguments={"command-line": "str", "*cpu-index": "int"},
                returns="str", allow_preconfig=True, allow_init_config=True)
def human_monitor_command(ctx: CommandContext, command_line: str, cpu_index: int | None = None) -> str:
    return run_hmp(ctx.vm, command_line).replace("\n", "\r\n")
