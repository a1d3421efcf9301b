"""Session control (QEMU's control.json and introspect.json): negotiation, version, schema, quit."""

from __future__ import annotations

from typing import Any

from pyqemu.monitor.dispatch import CommandContext
from pyqemu.qapi.introspect import query_commands, query_qmp_schema
from pyqemu.qapi.request import ERR_ALREADY_NEGOTIATED
from pyqemu.qapi.schema import SCHEMA
from pyqemu.util.errors import CommandNotFoundError

SCHEMA.enum("QMPCapability", ["oob"])
SCHEMA.struct("VersionTriple", {"major": "int", "minor": "int", "micro": "int"})
SCHEMA.struct("VersionInfo", {"qemu": "VersionTriple", "package": "str"})
SCHEMA.struct("CommandInfo", {"name": "str"})
SCHEMA.enum("SchemaMetaType", ["builtin", "enum", "array", "object", "alternate", "command", "event"])
SCHEMA.struct("SchemaInfo", {"name": "str", "meta-type": "SchemaMetaType", "*features": ["str"]})


@SCHEMA.command("qmp_capabilities", arguments={"*enable": ["QMPCapability"]}, allow_preconfig=True,
                allow_init_config=True)
def qmp_capabilities(ctx: CommandContext, enable: list[str] | None = None) -> None:
    """Leave capabilities negotiation, enabling out-of-band execution if asked."""
    session = ctx.monitor.session
    if session.negotiated:
        raise CommandNotFoundError(ERR_ALREADY_NEGOTIATED)
    session.oob = "oob" in (enable or [])
    session.negotiated = True


@SCHEMA.command("query-version", returns="VersionInfo", allow_preconfig=True)
def query_version(ctx: CommandContext) -> dict[str, Any]:
    from pyqemu.monitor.qmp import greeting

    return greeting(ctx.vm)["QMP"]["version"]  # type: ignore[no-any-return]


@SCHEMA.command("query-commands", returns=["CommandInfo"], allow_preconfig=True)
def query_commands_(ctx: CommandContext) -> list[dict[str, str]]:
    return query_commands(SCHEMA)


@SCHEMA.command("query-qmp-schema", returns=["SchemaInfo"], allow_preconfig=True)
def query_qmp_schema_(ctx: CommandContext) -> list[dict[str, Any]]:
    return query_qmp_schema(SCHEMA)


@SCHEMA.command("quit", allow_preconfig=True)
def quit_(ctx: CommandContext) -> None:
    """End the emulator: SHUTDOWN, then the reply (QEMU's order), then the connection closes."""
    ctx.vm.quit()
