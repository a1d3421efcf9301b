"""Argument checking against QEMU 7.2's QObject input visitor.

The test schema declares small look-alikes of real QEMU commands (only the
members the cases need), so each error case can also be sent to the real
QEMU and must get the same text.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from pyqemu.qapi.input_visitor import check_arguments, check_value
from pyqemu.qapi.schema import Schema, SchemaError
from pyqemu.util.errors import ConfigError, ErrorClass


def _schema() -> Schema:
    s = Schema()
    s.command("query-status")(print)
    s.command("qom-list", arguments={"path": "str"})(print)
    s.command("set_link", arguments={"name": "str", "up": "bool"})(print)
    s.command("device_del", arguments={"id": "str"})(print)
    s.command("human-monitor-command",
              arguments={"command-line": "str", "*cpu-index": "int"}, returns="str")(print)
    s.enum("CpuModelExpansionType", ["static", "full"])
    s.struct("CpuModelInfo", {"name": "str", "*props": "any"})
    s.command("query-cpu-model-expansion",
              arguments={"type": "CpuModelExpansionType", "model": "CpuModelInfo"})(print)
    s.enum("MigrationCapability", ["xbzrle", "events"])
    s.struct("MigrationCapabilityStatus", {"capability": "MigrationCapability", "state": "bool"})
    s.command("migrate-set-capabilities",
              arguments={"capabilities": ["MigrationCapabilityStatus"]})(print)
    s.alternate("StrOrNull", {"s": "str", "n": "null"})
    s.struct("BitmapMigrationBitmapAliasTransform", {"*persistent": "bool"})
    s.struct("BitmapMigrationBitmapAlias", {
        "name": "str", "alias": "str", "*transform": "BitmapMigrationBitmapAliasTransform"})
    s.struct("BitmapMigrationNodeAlias", {
        "node-name": "str", "alias": "str", "bitmaps": ["BitmapMigrationBitmapAlias"]})
    s.command("migrate-set-parameters", arguments={
        "*compress-level": "uint8", "*x-checkpoint-delay": "uint32",
        "*downtime-limit": "uint64", "*max-bandwidth": "size", "*tls-creds": "StrOrNull",
        "*block-bitmap-mapping": ["BitmapMigrationNodeAlias"]})(print)
    s.enum("ObjectType", ["iothread", "memory-backend-ram", "secret"])
    s.enum("HostMemPolicy", ["default", "preferred", "bind", "interleave"])
    s.struct("IothreadProperties", {"*poll-max-ns": "int"})
    s.struct("MemoryBackendProperties", {
        "size": "size", "*host-nodes": ["uint16"], "*policy": "HostMemPolicy"})
    s.struct("SecretProperties", {"*data": "str"})
    s.union("ObjectOptions", base={"qom-type": "ObjectType", "id": "str"},
            discriminator="qom-type",
            branches={"iothread": "IothreadProperties",
                      "memory-backend-ram": "MemoryBackendProperties",
                      "secret": "SecretProperties"})
    s.command("object-add", arguments="ObjectOptions")(print)
    s.enum("ChardevBackendKind", ["file", "null"])
    s.struct("ChardevFile", {"*in": "str", "out": "str"})
    s.struct("ChardevFileWrapper", {"data": "ChardevFile"})
    s.struct("ChardevCommon", {"*logfile": "str"})
    s.struct("ChardevCommonWrapper", {"data": "ChardevCommon"})
    s.union("ChardevBackend", base={"type": "ChardevBackendKind"}, discriminator="type",
            branches={"file": "ChardevFileWrapper", "null": "ChardevCommonWrapper"})
    s.command("chardev-add", arguments={"id": "str", "backend": "ChardevBackend"})(print)
    s.enum("NetClientDriver", ["user", "hubport"])
    s.struct("NetdevHubPortOptions", {"hubid": "int32", "*netdev": "str"})
    s.union("Netdev", base={"id": "str", "type": "NetClientDriver"}, discriminator="type",
            branches={"hubport": "NetdevHubPortOptions"})
    s.command("netdev_add", arguments="Netdev")(print)
    s.check()
    return s


SCHEMA = _schema()
BITMAP = {"node-name": "a", "alias": "b"}

# (command, arguments, QEMU 7.2's error text)
ERRORS: list[tuple[str, dict[str, Any], str]] = [
    ("qom-list", {"path": 1}, "Invalid parameter type for 'path', expected: string"),
    ("qom-list", {"path": None}, "Invalid parameter type for 'path', expected: string"),
    ("qom-list", {}, "Parameter 'path' is missing"),
    ("qom-list", {"path": "/", "x": 1}, "Parameter 'x' is unexpected"),
    ("qom-list", {"path": "/", "zz": 1, "aa": 1}, "Parameter 'aa' is unexpected"),
    ("query-status", {"x": 1, "y": 2}, "Parameter 'y' is unexpected"),
    ("query-status", {"a": 1, "b": 2, "c": 3}, "Parameter 'b' is unexpected"),
    ("query-status", {k: 1 for k in ["ab", "cd", "ef", "gh", "ij", "kl", "mn", "op", "qr"]},
     "Parameter 'ab' is unexpected"),
    ("set_link", {"name": "x", "up": "yes"}, "Invalid parameter type for 'up', expected: boolean"),
    ("device_del", {"id": 1}, "Invalid parameter type for 'id', expected: string"),
    ("device_del", {}, "Parameter 'id' is missing"),
    ("human-monitor-command", {}, "Parameter 'command-line' is missing"),
    *[("human-monitor-command", {"command-line": "info version", "cpu-index": bad},
       "Invalid parameter type for 'cpu-index', expected: integer")
      for bad in ["a", 1.0, 9223372036854775808, 18446744073709551616, True, None]],
    ("query-cpu-model-expansion", {"type": "foo", "model": {"name": "x"}},
     "Parameter 'type' does not accept value 'foo'"),
    ("query-cpu-model-expansion", {"type": 1, "model": {"name": "x"}},
     "Invalid parameter type for 'type', expected: string"),
    ("query-cpu-model-expansion", {"type": "static", "model": {"name": 1}},
     "Invalid parameter type for 'model.name', expected: string"),
    ("query-cpu-model-expansion", {"type": "static", "model": {}},
     "Parameter 'model.name' is missing"),
    ("query-cpu-model-expansion", {"type": "static", "model": {"name": "x", "y": 2}, "z": 3},
     "Parameter 'model.y' is unexpected"),
    ("query-cpu-model-expansion", {"type": "static", "model": []},
     "Invalid parameter type for 'model', expected: object"),
    ("query-cpu-model-expansion", {"model": {"name": 1}}, "Parameter 'type' is missing"),
    ("migrate-set-parameters", {"compress-level": 300}, "Parameter 'compress-level' expects uint8_t"),
    ("migrate-set-parameters", {"compress-level": -1}, "Parameter 'compress-level' expects uint8_t"),
    ("migrate-set-parameters", {"compress-level": "a"}, "Parameter 'compress-level' expects uint64"),
    ("migrate-set-parameters", {"compress-level": 1.0}, "Parameter 'compress-level' expects uint64"),
    ("migrate-set-parameters", {"x-checkpoint-delay": 4294967296},
     "Parameter 'x-checkpoint-delay' expects uint32_t"),
    ("migrate-set-parameters", {"downtime-limit": "a"}, "Parameter 'downtime-limit' expects uint64"),
    ("migrate-set-parameters", {"downtime-limit": 18446744073709551616},
     "Parameter 'downtime-limit' expects uint64"),
    ("migrate-set-parameters", {"downtime-limit": 1.5}, "Parameter 'downtime-limit' expects uint64"),
    ("migrate-set-parameters", {"max-bandwidth": "a"}, "Parameter 'max-bandwidth' expects uint64"),
    ("migrate-set-parameters", {"tls-creds": 1},
     "Invalid parameter type for 'tls-creds', expected: StrOrNull"),
    ("migrate-set-parameters",
     {"block-bitmap-mapping": [{**BITMAP, "bitmaps": [{"name": "x", "alias": 1}]}]},
     "Invalid parameter type for 'block-bitmap-mapping[0].bitmaps[0].alias', expected: string"),
    ("migrate-set-parameters",
     {"block-bitmap-mapping": [{**BITMAP, "bitmaps": [
         {"name": "x", "alias": "y", "transform": {"persistent": 3}}]}]},
     "Invalid parameter type for 'block-bitmap-mapping[0].bitmaps[0].transform.persistent', "
     "expected: boolean"),
    ("migrate-set-parameters", {"block-bitmap-mapping": [1]},
     "Invalid parameter type for 'block-bitmap-mapping[0]', expected: object"),
    ("migrate-set-parameters", {"block-bitmap-mapping": {}},
     "Invalid parameter type for 'block-bitmap-mapping', expected: array"),
    ("migrate-set-capabilities", {"capabilities": [{"capability": "xbzrle", "state": 1}]},
     "Invalid parameter type for 'capabilities[0].state', expected: boolean"),
    ("migrate-set-capabilities", {"capabilities": [{"capability": "foo", "state": True}]},
     "Parameter 'capability' does not accept value 'foo'"),
    ("migrate-set-capabilities", {"capabilities": [{"capability": "xbzrle"}]},
     "Parameter 'capabilities[0].state' is missing"),
    ("migrate-set-capabilities",
     {"capabilities": [{"capability": "xbzrle", "state": True, "foo": 1}]},
     "Parameter 'capabilities[0].foo' is unexpected"),
    ("migrate-set-capabilities", {"capabilities": [{"capability": "xbzrle", "state": True}, 1]},
     "Invalid parameter type for 'capabilities[1]', expected: object"),
    ("object-add", {"qom-type": "foo", "id": "x"}, "Parameter 'qom-type' does not accept value 'foo'"),
    ("object-add", {"id": "x"}, "Parameter 'qom-type' is missing"),
    ("object-add", {"qom-type": 1, "id": "x"}, "Invalid parameter type for 'qom-type', expected: string"),
    ("object-add", {"qom-type": "secret", "id": "x", "data": 1},
     "Invalid parameter type for 'data', expected: string"),
    ("object-add", {"qom-type": "secret", "id": "x", "bogus": 1}, "Parameter 'bogus' is unexpected"),
    ("object-add", {"qom-type": "iothread", "id": "x", "poll-max-ns": "a"},
     "Invalid parameter type for 'poll-max-ns', expected: integer"),
    ("object-add", {"qom-type": "iothread", "id": 1}, "Invalid parameter type for 'id', expected: string"),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m", "size": 1048576,
                    "host-nodes": [70000]}, "Parameter 'null' expects uint16_t"),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m", "size": 1048576,
                    "host-nodes": ["a"]}, "Parameter 'host-nodes[0]' expects uint64"),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m", "size": "1M"},
     "Parameter 'size' expects uint64"),
    ("object-add", {"qom-type": "memory-backend-ram", "id": "m", "size": -1, "policy": "x"},
     "Parameter 'policy' does not accept value 'x'"),
    ("chardev-add", {"id": "c2", "backend": {"type": "null"}}, "Parameter 'backend.data' is missing"),
    ("chardev-add", {"id": "c3", "backend": {"type": "file", "data": {"out": 1}}},
     "Invalid parameter type for 'backend.data.out', expected: string"),
    ("chardev-add", {"id": "c3", "backend": {"type": "bogus", "data": {}}},
     "Parameter 'type' does not accept value 'bogus'"),
    ("netdev_add", {"type": "hubport", "id": "h", "hubid": 3000000000},
     "Parameter 'hubid' expects int32_t"),
    ("netdev_add", {"type": "hubport", "id": "h", "hubid": -3000000000},
     "Parameter 'hubid' expects int32_t"),
    ("netdev_add", {"type": "hubport", "id": "h", "hubid": "x"},
     "Invalid parameter type for 'hubid', expected: integer"),
]


def _ids(cases: list[tuple[str, dict[str, Any], Any]]) -> list[str]:
    return [f"{c[0]}:{json.dumps(c[1])[:60]}" for c in cases]


@pytest.mark.parametrize(("command", "arguments", "desc"), ERRORS, ids=_ids(ERRORS))
def test_error(command: str, arguments: dict[str, Any], desc: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_arguments(SCHEMA.commands[command], arguments)
    assert info.value.qmp_error() == {"class": ErrorClass.GENERIC_ERROR, "desc": desc}


@pytest.mark.parametrize(("command", "arguments", "desc"), ERRORS, ids=_ids(ERRORS))
def test_error_matches_reference_qemu(
    reference_qemu: Any, command: str, arguments: dict[str, Any], desc: str
) -> None:
    message = json.dumps({"execute": command, "arguments": arguments}).encode()
    assert reference_qemu.texts(message, expect=1) == [desc]


# (command, arguments, the handler's keyword arguments)
CONVERSIONS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("query-status", {}, {}),
    ("human-monitor-command", {"command-line": "x"}, {"command_line": "x"}),
    ("human-monitor-command", {"command-line": "x", "cpu-index": -5},
     {"command_line": "x", "cpu_index": -5}),
    ("migrate-set-parameters", {"max-bandwidth": -1, "downtime-limit": -2},
     {"max_bandwidth": (1 << 64) - 1, "downtime_limit": (1 << 64) - 2}),
    ("migrate-set-parameters", {"compress-level": 255, "x-checkpoint-delay": 4294967295},
     {"compress_level": 255, "x_checkpoint_delay": 4294967295}),
    ("migrate-set-parameters", {"tls-creds": None}, {"tls_creds": None}),
    ("migrate-set-parameters", {"tls-creds": "c"}, {"tls_creds": "c"}),
    ("query-cpu-model-expansion", {"type": "full", "model": {"name": "x", "props": {"a": [1]}}},
     {"type": "full", "model": {"name": "x", "props": {"a": [1]}}}),
    ("object-add", {"id": "m", "qom-type": "memory-backend-ram", "size": 4096, "host-nodes": [1]},
     {"qom_type": "memory-backend-ram", "id": "m", "size": 4096, "host_nodes": [1]}),
    ("netdev_add", {"type": "user", "id": "n"}, {"id": "n", "type": "user"}),
    ("chardev-add", {"id": "c", "backend": {"type": "null", "data": {}}},
     {"id": "c", "backend": {"type": "null", "data": {}}}),
]


@pytest.mark.parametrize(("command", "arguments", "kwargs"), CONVERSIONS, ids=_ids(CONVERSIONS))
def test_conversion(command: str, arguments: dict[str, Any], kwargs: dict[str, Any]) -> None:
    assert check_arguments(SCHEMA.commands[command], arguments) == kwargs


def test_number_takes_integers_as_floats() -> None:
    schema = Schema()
    schema.struct("S", {"n": "number", "*i": "int8"})
    got = check_value(schema.resolve("S"), {"n": 2, "i": -128})
    assert got == {"n": 2.0, "i": -128} and type(got["n"]) is float
    with pytest.raises(ConfigError, match=r"^Invalid parameter type for 'n', expected: number$"):
        check_value(schema.resolve("S"), {"n": "2"})
    with pytest.raises(ConfigError, match=r"^Parameter 'i' expects int8_t$"):
        check_value(schema.resolve("S"), {"n": 1, "i": 128})


def test_raw_arguments_pass_unchecked() -> None:
    schema = Schema()
    schema.command("device_add", arguments={"driver": "str", "*id": "str"},
                   raw_arguments=True)(print)
    args = {"driver": "x", "anything": [1]}
    assert check_arguments(schema.commands["device_add"], args) is args


def test_schema_check_finds_bad_references() -> None:
    schema = Schema()
    schema.struct("S", {"a": "Nope"})
    with pytest.raises(SchemaError, match="unknown type 'Nope'"):
        schema.check()
    with pytest.raises(SchemaError, match="declared twice"):
        schema.struct("S", {})
