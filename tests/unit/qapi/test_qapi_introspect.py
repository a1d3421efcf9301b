"""query-qmp-schema and query-commands output, against QEMU 7.2's format."""

from __future__ import annotations

import json
from typing import Any

from pyqemu.qapi.introspect import query_commands, query_qmp_schema
from pyqemu.qapi.schema import EMPTY_OBJECT, Schema


def _small_schema() -> Schema:
    s = Schema()
    s.enum("Color", ["red", "green"], value_features={"green": ["unstable"]})
    s.struct("Base", {"id": "str"})
    s.struct("Thing", {"color": "Color", "*size": "size", "tags": ["str"],
                       "*n": {"type": "uint8", "features": ["deprecated"]}},
             base="Base", features=["f1"])
    s.alternate("StrOrNull", {"s": "str", "n": "null"})
    s.enum("Kind", ["a", "b", "c"])
    s.struct("BranchA", {"x": "int16"})
    s.union("U", base={"kind": "Kind"}, discriminator="kind", branches={"b": "BranchA"})
    s.struct("Unused", {"x": "number"})
    s.command("query-a", returns="Thing", allow_preconfig=True, allow_init_config=True)(print)
    s.event("EV", {"*why": "StrOrNull"})
    s.command("do-b", arguments={"u": "U", "list": ["uint32"]}, allow_oob=True,
              features=["deprecated"])(print)
    s.check()
    return s


def test_small_schema() -> None:
    assert query_qmp_schema(_small_schema()) == [
        {"name": "query-a", "meta-type": "command", "arg-type": "0", "ret-type": "1"},
        {"name": "EV", "meta-type": "event", "arg-type": "2"},
        {"name": "do-b", "meta-type": "command", "arg-type": "3", "ret-type": "0",
         "allow-oob": True, "features": ["deprecated"]},
        {"name": "0", "meta-type": "object", "members": []},
        {"name": "1", "meta-type": "object", "features": ["f1"], "members": [
            {"name": "id", "type": "str"},
            {"name": "color", "type": "4"},
            {"name": "size", "type": "int", "default": None},
            {"name": "tags", "type": "[str]"},
            {"name": "n", "type": "int", "default": None, "features": ["deprecated"]},
        ]},
        {"name": "2", "meta-type": "object", "members": [
            {"name": "why", "type": "5", "default": None}]},
        {"name": "3", "meta-type": "object", "members": [
            {"name": "u", "type": "6"}, {"name": "list", "type": "[int]"}]},
        {"name": "str", "meta-type": "builtin", "json-type": "string"},
        {"name": "4", "meta-type": "enum", "values": ["red", "green"],
         "members": [{"name": "red"}, {"name": "green", "features": ["unstable"]}]},
        {"name": "int", "meta-type": "builtin", "json-type": "int"},
        {"name": "[str]", "meta-type": "array", "element-type": "str"},
        {"name": "5", "meta-type": "alternate", "members": [{"type": "str"}, {"type": "null"}]},
        {"name": "6", "meta-type": "object", "members": [{"name": "kind", "type": "7"}],
         "tag": "kind", "variants": [
             {"case": "b", "type": "8"}, {"case": "a", "type": "0"}, {"case": "c", "type": "0"}]},
        {"name": "[int]", "meta-type": "array", "element-type": "int"},
        {"name": "null", "meta-type": "builtin", "json-type": "null"},
        {"name": "7", "meta-type": "enum", "values": ["a", "b", "c"],
         "members": [{"name": "a"}, {"name": "b"}, {"name": "c"}]},
        {"name": "8", "meta-type": "object", "members": [{"name": "x", "type": "int"}]},
    ]


def test_query_commands_lists_the_newest_first() -> None:
    assert query_commands(_small_schema()) == [{"name": "do-b"}, {"name": "query-a"}]


# -- comparison with the real QEMU ----------------------------------------------


def _ref(name: str) -> Any:
    return [_ref(name[1:-1])] if name.startswith("[") else name


def _rebuild(entries: list[dict[str, Any]]) -> Schema:
    """Declare, in our DSL, the schema QEMU describes (hidden names become type names)."""
    empty = next(e["name"] for e in entries
                 if e["meta-type"] == "object" and not e["members"] and "variants" not in e)

    def members(info: list[dict[str, Any]]) -> dict[str, Any]:
        return {("*" if "default" in m else "") + m["name"]:
                {"type": _ref(m["type"]), "features": m.get("features", [])} for m in info}

    def named(ref: str) -> str | None:
        return None if ref == empty else ref

    s = Schema()
    for e in entries:
        meta, features = e["meta-type"], e.get("features", [])
        if meta == "enum":
            s.enum(e["name"], e["values"], features=features, value_features={
                m["name"]: m["features"] for m in e["members"] if "features" in m})
        elif meta == "object" and e["name"] != empty and "variants" in e:
            s.union(e["name"], base=members(e["members"]), discriminator=e["tag"],
                    branches={v["case"]: v["type"] for v in e["variants"] if v["type"] != empty},
                    features=features)
        elif meta == "object" and e["name"] != empty:
            s.struct(e["name"], members(e["members"]), features=features)
        elif meta == "alternate":
            s.alternate(e["name"], {f"b{i}": _ref(m["type"]) for i, m in enumerate(e["members"])},
                        features=features)
    for e in entries:
        if e["meta-type"] == "command":
            rets = named(e["ret-type"])
            s.command(e["name"], arguments=named(e["arg-type"]),
                      returns=None if rets is None else _ref(rets),
                      allow_oob=e.get("allow-oob", False), features=e.get("features", []))(print)
        elif e["meta-type"] == "event":
            s.event(e["name"], named(e["arg-type"]), features=e.get("features", []))
    s.check()
    return s


def _pair_names(ours: dict[str, Any], theirs: dict[str, Any], mapping: dict[str, str]) -> None:
    """Map QEMU's hidden names to ours by walking both descriptions in step."""

    def pair(a: str, b: str) -> None:
        assert mapping.setdefault(b, a) == a, f"QEMU {b} maps to both {mapping[b]} and {a}"
        if a.startswith("[") and b.startswith("["):
            pair(a[1:-1], b[1:-1])

    for key in ("arg-type", "ret-type", "element-type"):
        if key in theirs:
            pair(ours[key], theirs[key])
    for a, b in zip(ours.get("members", []), theirs.get("members", []), strict=True):
        if "type" in b:
            pair(a["type"], b["type"])
    for a, b in zip(ours.get("variants", []), theirs.get("variants", []), strict=True):
        pair(a["type"], b["type"])


def _renamed(entry: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    """``entry`` with QEMU's hidden type names replaced by ours."""

    def rename(name: str) -> str:
        if name.startswith("["):
            return "[" + rename(name[1:-1]) + "]"
        return mapping.get(name, name)

    out = dict(entry)
    if out["meta-type"] not in ("command", "event"):
        out["name"] = rename(out["name"])
    for key in ("arg-type", "ret-type", "element-type"):
        if key in out:
            out[key] = rename(out[key])
    for key in ("members", "variants"):
        if key in out:
            out[key] = [{**m, "type": rename(m["type"])} if "type" in m else m for m in out[key]]
    return out


def test_rebuilt_qemu_schema_describes_itself_the_same(reference_qemu: Any) -> None:
    """Every entry QEMU 7.2 reports has the same shape when we generate it.

    Hidden numbers differ in places: QEMU numbers types of commands compiled
    out for this target, which no rebuild can see; the order of numbering was
    checked separately on the unaffected part of the list.
    """
    (reply,) = reference_qemu.exchange(b'{"execute":"query-qmp-schema"}', expect=1)
    theirs = reply["return"]
    ours = query_qmp_schema(_rebuild(theirs))
    by_name = {e["name"]: e for e in ours}
    entities = [e for e in theirs if e["meta-type"] in ("command", "event")]
    assert [e["name"] for e in ours[: len(entities)]] == [e["name"] for e in entities]
    mapping: dict[str, str] = {}
    pending = list(entities)
    seen: set[str] = set()
    qemu_by_name = {e["name"]: e for e in theirs}
    while pending:
        entry = pending.pop()
        mine = by_name[mapping.get(entry["name"], entry["name"])]
        _pair_names(mine, entry, mapping)
        assert _renamed(entry, mapping) == mine
        for theirs_name in mapping:
            if theirs_name not in seen and theirs_name in qemu_by_name:
                seen.add(theirs_name)
                pending.append(qemu_by_name[theirs_name])
    assert len(seen) == len(ours) - len(entities)  # every type we generate was compared
    assert mapping[theirs[0]["arg-type"]] == "0" and by_name["0"]["members"] == []
    assert EMPTY_OBJECT not in json.dumps(ours)
