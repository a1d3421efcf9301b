"""QMP request checking and command lookup, against QEMU 7.2's replies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pyqemu.qapi.request import (
    NO_ID,
    Request,
    message_id,
    parse_request,
    resolve_command,
)
from pyqemu.qapi.schema import Schema
from pyqemu.util.errors import ErrorClass, QemuError

GENERIC = ErrorClass.GENERIC_ERROR
NOT_FOUND = ErrorClass.COMMAND_NOT_FOUND


def _schema() -> Schema:
    """The few real commands the cases use (only their flags matter here)."""
    schema = Schema()
    schema.command("qmp_capabilities", arguments={"*enable": ["str"]}, allow_preconfig=True)(print)
    schema.command("query-status", allow_preconfig=True)(print)
    schema.command("migrate-recover", arguments={"uri": "str"}, allow_oob=True)(print)
    schema.command("x-exit-preconfig", allow_preconfig=True, features=["unstable"])(print)
    return schema


SCHEMA = _schema()
OK = ("OK", "")

# (message, negotiated, oob enabled, (class, desc) or OK for the command found)
CASES: list[tuple[str, bool, bool, tuple[str, str]]] = [
    ('{"execute":"query-status"}', True, False, OK),
    ('{"execute":"query-status","arguments":{}}', True, False, OK),
    ('{"execute":"query-status","id":null}', True, False, OK),
    ("[1]", True, False, (GENERIC, "QMP input must be a JSON object")),
    ('"abc"', True, False, (GENERIC, "QMP input must be a JSON object")),
    ("{}", True, False, (GENERIC, "QMP input lacks member 'execute'")),
    ('{"id":5}', True, False, (GENERIC, "QMP input lacks member 'execute'")),
    ('{"execute":1}', True, False, (GENERIC, "QMP input member 'execute' must be a string")),
    ('{"execute":null}', True, False, (GENERIC, "QMP input member 'execute' must be a string")),
    ('{"a":1}', True, False, (GENERIC, "QMP input member 'a' is unexpected")),
    ('{"foo":1,"execute":"query-status"}', True, False,
     (GENERIC, "QMP input member 'foo' is unexpected")),
    # QEMU meets "execute" before "foo" and "arguments" (hash order, not text order)
    ('{"foo":1, "execute":1}', True, False, (GENERIC, "QMP input member 'execute' must be a string")),
    ('{"arguments":1,"execute":1}', True, False,
     (GENERIC, "QMP input member 'execute' must be a string")),
    ('{"execute":"query-status","arguments":[]}', True, False,
     (GENERIC, "QMP input member 'arguments' must be an object")),
    ('{"execute":"query-status","arguments":null}', True, False,
     (GENERIC, "QMP input member 'arguments' must be an object")),
    ('{"exec-oob":"query-status"}', True, False,
     (GENERIC, "QMP input member 'exec-oob' is unexpected")),
    ('{"execute":"query-status","exec-oob":"query-status"}', True, False,
     (GENERIC, "QMP input member 'exec-oob' is unexpected")),
    ('{"execute":"nope","id":5}', True, False, (NOT_FOUND, "The command nope has not been found")),
    ('{"execute":"","id":1}', True, False, (NOT_FOUND, "The command  has not been found")),
    # before negotiation
    ('{"execute":"query-status"}', False, False,
     (NOT_FOUND, "Expecting capabilities negotiation with 'qmp_capabilities'")),
    ('{"execute":"nope"}', False, False,
     (NOT_FOUND, "Expecting capabilities negotiation with 'qmp_capabilities'")),
    ('{"execute":1}', False, False, (GENERIC, "QMP input member 'execute' must be a string")),
    ('{"exec-oob":"qmp_capabilities"}', False, False,
     (GENERIC, "QMP input member 'exec-oob' is unexpected")),
    ('{"execute":"qmp_capabilities"}', False, False, OK),
    # with the oob capability
    ('{"exec-oob":"query-status","id":1}', True, True,
     (GENERIC, "The command query-status does not support OOB")),
    ('{"exec-oob":"qmp_capabilities"}', True, True,
     (GENERIC, "The command qmp_capabilities does not support OOB")),
    ('{"exec-oob":"migrate-recover","id":1}', True, True, OK),
    ('{"exec-oob":"nope"}', True, True, (NOT_FOUND, "The command nope has not been found")),
    ('{"exec-oob":1}', True, True, (GENERIC, "QMP input member 'exec-oob' must be a string")),
    ('{"execute":"query-status","exec-oob":"query-status"}', True, True,
     (GENERIC, "QMP input member 'execute' clashes with 'exec-oob'")),
    ('{"exec-oob":"query-status","execute":"query-status"}', True, True,
     (GENERIC, "QMP input member 'execute' clashes with 'exec-oob'")),
    ('{"exec-oob":1, "execute":2}', True, True,
     (GENERIC, "QMP input member 'exec-oob' must be a string")),
    ('{"execute":1, "exec-oob":2}', True, True,
     (GENERIC, "QMP input member 'exec-oob' must be a string")),
]


def _outcome(message: Any, negotiated: bool, oob: bool) -> tuple[str, str]:
    try:
        request = parse_request(message, oob_enabled=oob)
        resolve_command(request, SCHEMA, negotiated=negotiated)
    except QemuError as err:
        return str(err.error_class), err.desc
    return OK


@pytest.mark.parametrize(("text", "negotiated", "oob", "expected"), CASES)
def test_request(text: str, negotiated: bool, oob: bool, expected: tuple[str, str]) -> None:
    assert _outcome(json.loads(text), negotiated, oob) == expected


def test_request_fields() -> None:
    message = {"id": {"x": [1]}, "arguments": {"uri": "u"}, "exec-oob": "migrate-recover"}
    request = parse_request(message, oob_enabled=True)
    assert request == Request("migrate-recover", {"uri": "u"}, oob=True, id={"x": [1]})
    assert resolve_command(request, SCHEMA, negotiated=True) is SCHEMA.commands["migrate-recover"]
    assert parse_request({"execute": "query-status"}) == Request("query-status", {}, False, NO_ID)


@pytest.mark.parametrize(
    ("message", "expected"),
    [({"id": None}, None), ({"id": 5, "execute": 1}, 5), ({}, NO_ID), ([1], NO_ID), ("id", NO_ID)],
)
def test_message_id_is_echoed_even_for_bad_requests(message: Any, expected: Any) -> None:
    assert message_id(message) is expected or message_id(message) == expected


def test_policy_rejects_unstable_commands() -> None:
    request = parse_request({"execute": "x-exit-preconfig"})
    with pytest.raises(QemuError) as info:
        resolve_command(request, SCHEMA, negotiated=True, reject_features=["unstable"])
    assert info.value.qmp_error() == {
        "class": NOT_FOUND, "desc": "Unstable command x-exit-preconfig disabled by policy",
    }
    assert resolve_command(request, SCHEMA, negotiated=True, reject_features=["deprecated"])


@pytest.mark.parametrize(("text", "negotiated", "oob", "expected"), CASES)
def test_matches_reference_qemu(
    reference_qemu: Any, text: str, negotiated: bool, oob: bool, expected: tuple[str, str]
) -> None:
    conn = reference_qemu.connect(negotiate=False)
    try:
        if negotiated:
            enable = b',"arguments":{"enable":["oob"]}' if oob else b""
            assert conn.send(b'{"execute":"qmp_capabilities"' + enable + b"}", 1) == [
                {"return": {}}
            ]
        (reply,) = conn.send(text.encode(), 1)
    finally:
        conn.close()
    if expected == OK:
        # the command was found and ran (or failed on its own arguments)
        assert "return" in reply or reply["error"]["desc"] == "Parameter 'uri' is missing"
    else:
        assert (reply["error"]["class"], reply["error"]["desc"]) == expected
    message = json.loads(text)
    if message_id(message) is not NO_ID:
        assert reply["id"] == message_id(message)
    else:
        assert "id" not in reply
