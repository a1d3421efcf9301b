"""Check one parsed QMP message and find the command it asks for, with QEMU's errors.

A QMP request is a JSON object with ``execute`` (or, once the client enabled
the ``oob`` capability, ``exec-oob``) naming the command, optional
``arguments`` (an object) and optional ``id`` (any JSON value, echoed in the
reply, errors included).  QEMU walks the members in its hash-table order
(:func:`~pyqemu.qapi.hashorder.qdict_order`) and reports the first fault it
meets, so ``{"execute": 1, "foo": 1}`` complains about ``execute``.

Errors and their classes, as QEMU 7.2 sends them:

=====================================================  ===============
``QMP input must be a JSON object``                    GenericError
``QMP input member 'execute' must be a string``        GenericError
``QMP input member 'execute' clashes with 'exec-oob'`` GenericError
``QMP input member 'arguments' must be an object``     GenericError
``QMP input member 'foo' is unexpected``               GenericError
``QMP input lacks member 'execute'``                   GenericError
``The command foo has not been found``                 CommandNotFound
``The command foo does not support OOB``               GenericError
before negotiation, any CommandNotFound becomes
``Expecting capabilities negotiation with 'qmp_capabilities'``
=====================================================  ===============

Without the ``oob`` capability, ``exec-oob`` is just an unexpected member.
The dispatcher in :mod:`pyqemu.monitor` runs, after :func:`resolve_command`,
the phase check, then :func:`pyqemu.qapi.input_visitor.check_arguments`, then
the handler.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Final

from pyqemu.qapi.hashorder import qdict_order
from pyqemu.qapi.schema import Command, Schema
from pyqemu.util.errors import CommandNotFoundError, MonitorError

EXECUTE = "execute"
EXEC_OOB = "exec-oob"
ARGUMENTS = "arguments"
ID = "id"
NEGOTIATION_COMMAND = "qmp_capabilities"

ERR_NOT_OBJECT = "QMP input must be a JSON object"
ERR_NEEDS_NEGOTIATION = "Expecting capabilities negotiation with 'qmp_capabilities'"
ERR_ALREADY_NEGOTIATED = "Capabilities negotiation is already complete, command ignored"

# Feature name -> the adjective of QEMU's "... disabled by policy" message.
POLICY_FEATURES: Final = {"deprecated": "Deprecated", "unstable": "Unstable"}


class _NoId:
    def __repr__(self) -> str:
        return "NO_ID"


NO_ID: Final = _NoId()
"""The ``id`` of a message that has none (``None`` is a valid id: JSON null)."""


@dataclass(frozen=True)
class Request:
    """A well-formed QMP request."""

    command: str
    arguments: dict[str, Any] = field(default_factory=dict)
    oob: bool = False
    id: Any = NO_ID


def message_id(message: Any) -> Any:
    """The id a reply to ``message`` must echo, or :data:`NO_ID`.

    Valid for any message, even one :func:`parse_request` rejects.
    """
    if isinstance(message, dict) and ID in message:
        return message[ID]
    return NO_ID


def parse_request(message: Any, *, oob_enabled: bool = False) -> Request:
    """Check the members of ``message`` (a parsed JSON value); raise MonitorError."""
    if not isinstance(message, dict):
        raise MonitorError(ERR_NOT_OBJECT)
    exec_key = None
    for name in qdict_order(message):
        value = message[name]
        if name == EXECUTE or (name == EXEC_OOB and oob_enabled):
            if not isinstance(value, str):
                raise MonitorError(f"QMP input member '{name}' must be a string")
            if exec_key is not None:
                raise MonitorError(f"QMP input member '{name}' clashes with '{exec_key}'")
            exec_key = name
        elif name == ARGUMENTS:
            if not isinstance(value, dict):
                raise MonitorError("QMP input member 'arguments' must be an object")
        elif name != ID:
            raise MonitorError(f"QMP input member '{name}' is unexpected")
    if exec_key is None:
        raise MonitorError("QMP input lacks member 'execute'")
    return Request(
        command=message[exec_key],
        arguments=message.get(ARGUMENTS, {}),
        oob=exec_key == EXEC_OOB,
        id=message_id(message),
    )


def resolve_command(
    request: Request,
    schema: Schema,
    *,
    negotiated: bool,
    reject_features: Collection[str] = (),
) -> Command:
    """The declaration ``request`` asks for, checked as QEMU's dispatcher does.

    Before capabilities negotiation only ``qmp_capabilities`` exists.
    ``reject_features`` lists the features (``deprecated``, ``unstable``)
    whose commands ``-compat ...-input=reject`` refuses.
    """
    try:
        cmd = _find(request.command, schema, negotiated=negotiated)
        for feature in reject_features:
            if feature in cmd.features:
                raise CommandNotFoundError(
                    f"{POLICY_FEATURES[feature]} command {cmd.name} disabled by policy"
                )
    except CommandNotFoundError as err:
        if negotiated:
            raise
        raise CommandNotFoundError(ERR_NEEDS_NEGOTIATION) from err
    if request.oob and not cmd.allow_oob:
        raise MonitorError(f"The command {cmd.name} does not support OOB")
    return cmd


def _find(name: str, schema: Schema, *, negotiated: bool) -> Command:
    cmd = schema.commands.get(name)
    if cmd is None or (not negotiated and name != NEGOTIATION_COMMAND):
        raise CommandNotFoundError(f"The command {name} has not been found")
    return cmd
