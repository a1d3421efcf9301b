"""Dispatching one QMP request: QEMU's ``qmp_dispatch``, with the RFC's phase rule.

Order of checks, as QEMU: the request's shape, the command's existence
(only ``qmp_capabilities`` before negotiation), out-of-band use, the machine
phase, the arguments; then the handler runs.  Requests the command caused
(reset, shutdown …) are handled before the reply goes out, so their events
precede it exactly as QEMU's do.  Every error becomes an error reply here —
the one place QMP errors are made.

Phases: a command runs at ``ready``; before that only if it declares
``allow_preconfig`` (from ``accel-created``) or ``allow_init_config`` (in
``initialized``, the RFC's cold-plug window).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyqemu.hw.core.phase import MachinePhase
from pyqemu.qapi.input_visitor import check_arguments
from pyqemu.qapi.request import NO_ID, message_id, parse_request, resolve_command
from pyqemu.qapi.schema import SCHEMA, Command
from pyqemu.util.errors import PhaseError, QemuError

if TYPE_CHECKING:
    from pyqemu.monitor.qmp import QmpMonitor
    from pyqemu.system.emulator import Emulator


@dataclass
class CommandContext:
    """What a command handler gets besides its arguments."""

    vm: Emulator
    monitor: QmpMonitor


def check_phase(vm: Emulator, cmd: Command) -> None:
    """Refuse ``cmd`` in a phase it does not allow (QEMU's text for the preconfig case)."""
    phase = vm.phase
    if phase == MachinePhase.READY or cmd.allow_preconfig:
        return
    if phase == MachinePhase.INITIALIZED and cmd.allow_init_config:
        return
    if cmd.allow_init_config:
        raise PhaseError(
            f"The command '{cmd.name}' is permitted only from machine phase 'initialized'"
        )
    raise PhaseError(
        f"The command '{cmd.name}' is permitted only after machine initialization has completed"
    )


def _reply(key: str, value: Any, request_id: Any) -> dict[str, Any]:
    reply = {key: value}
    if request_id is not NO_ID:
        reply["id"] = request_id
    return reply


def dispatch(vm: Emulator, monitor: QmpMonitor, message: Any) -> dict[str, Any] | None:
    """Run one request from ``monitor``; the reply to send, or None for none."""
    import pyqemu.monitor.commands  # noqa: F401 - declares every command on first use

    session = monitor.session
    request_id = message_id(message)
    try:
        request = parse_request(message, oob_enabled=session.oob)
        cmd = resolve_command(request, SCHEMA, negotiated=session.negotiated)
        check_phase(vm, cmd)
        kwargs = check_arguments(cmd, request.arguments)
        assert cmd.handler is not None
        result = cmd.handler(CommandContext(vm, monitor), **kwargs)
    except QemuError as err:
        vm.handle_requests()
        return _reply("error", err.qmp_error(), request_id)
    except Exception as err:  # a bug in a handler must not cost the client its connection
        import traceback

        traceback.print_exc()
        return _reply("error", {"class": "GenericError", "desc": f"internal error: {err}"}, request_id)
    vm.handle_requests()
    if not cmd.success_response:
        return None
    return _reply("return", {} if result is None else result, request_id)
