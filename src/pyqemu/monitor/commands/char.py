"""Character devices over QMP (QEMU's char.json): query-chardev, chardev-add, chardev-remove."""

from __future__ import annotations

from typing import Any

from pyqemu.monitor.dispatch import CommandContext
from pyqemu.qapi.char import CHARDEV_BACKEND
from pyqemu.qapi.schema import SCHEMA

SCHEMA.struct("ChardevInfo", {"label": "str", "filename": "str", "frontend-open": "bool"})
SCHEMA.struct("ChardevReturn", {"*pty": "str"})


@SCHEMA.command("query-chardev", returns=["ChardevInfo"], allow_preconfig=True, allow_init_config=True)
def query_chardev(ctx: CommandContext) -> list[dict[str, Any]]:
    from pyqemu.chardev.char import query_chardev as query

    return query(ctx.vm.root)


@SCHEMA.command("chardev-add", arguments={"id": "str", "backend": CHARDEV_BACKEND}, returns="ChardevReturn",
                allow_preconfig=True, allow_init_config=True)
def chardev_add(ctx: CommandContext, id: str, backend: dict[str, Any]) -> dict[str, Any]:
    from pyqemu.chardev.create import chardev_new_from_qapi, chardev_return

    assert ctx.vm.main_loop is not None
    chr = chardev_new_from_qapi(id, backend, ctx.vm.main_loop.loop, ctx.vm.root, request_quit=ctx.vm.quit)
    return chardev_return(chr)


@SCHEMA.command("chardev-remove", arguments={"id": "str"}, allow_preconfig=True, allow_init_config=True)
def chardev_remove(ctx: CommandContext, id: str) -> None:
    from pyqemu.chardev.char import chardev_remove as remove

    remove(ctx.vm.root, id)
