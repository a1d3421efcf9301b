"""The key orders of QEMU's QDict and GLib's GHashTable."""

from __future__ import annotations

import json
import random
import string
from typing import Any

from pyqemu.qapi.hashorder import GHashTableOrder, first_unvisited, qdict_order


def test_qdict_order_is_qemus_reply_order() -> None:
    # QEMU answers query-status with {"status", "singlestep", "running"}
    assert qdict_order(["running", "singlestep", "status"]) == ["status", "singlestep", "running"]
    # ... and puts "id" before "error" but after "return"
    assert qdict_order(["error", "id"]) == ["id", "error"]
    assert qdict_order(["return", "id"]) == ["return", "id"]


def test_ghashtable_keeps_every_key_through_resizes() -> None:
    keys = [f"key{i}" for i in range(100)]
    table = GHashTableOrder(keys)
    assert sorted(table) == sorted(keys)
    for key in keys[:95]:
        table.remove(key)
    assert sorted(table) == keys[95:]


def _random_keys(rng: random.Random) -> list[str]:
    alphabet = string.ascii_letters + string.digits + "-_\u00e9"
    count = rng.choice([2, 3, 5, 8, 13, 20, 40])
    return list(dict.fromkeys(
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(count)
    ))


def test_unexpected_member_and_parameter_match_reference_qemu(reference_qemu: Any) -> None:
    rng = random.Random(7)
    conn = reference_qemu.connect()
    try:
        for _ in range(30):
            keys = _random_keys(rng)
            request = {key: 1 for key in keys} | {"execute": "query-status"}
            first = next(k for k in qdict_order(request) if k != "execute")
            args = {key: 1 for key in keys} | {"path": "/"}
            unexpected = first_unvisited(qdict_order(args), ["path"])
            for message, desc in [
                (request, f"QMP input member '{first}' is unexpected"),
                ({"execute": "qom-list", "arguments": args}, f"Parameter '{unexpected}' is unexpected"),
            ]:
                (reply,) = conn.send(json.dumps(message).encode(), 1)
                assert reply["error"]["desc"] == desc, message
    finally:
        conn.close()
