"""KEY=VALUE,... parsing, merging and crumpling as QEMU 7.2 does it.

Error texts were observed with qemu-system-x86_64 7.2 through ``-M`` (keyval
with implied key ``type``), ``-audiodev``/``-blockdev`` (no help available),
and ``-readconfig`` ``[machine]`` sections (crumple and merge).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyqemu.util.errors import ConfigError
from pyqemu.util.keyval import (
    KeyvalDict,
    keyval_crumple,
    keyval_merge,
    keyval_parse,
    keyval_parse_into,
    qdict_order,
    read_escaped_value,
)

A127, A128 = "a" * 127, "a" * 128


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("", {}),
        ("none", {"type": "none"}),
        ("type=none", {"type": "none"}),
        ("none,type=pc", {"type": "pc"}),  # a key given twice: the later wins
        ("a=1,a=2", {"a": "2"}),
        ("none=1", {"none": "1"}),  # a first element with '=' is a key
        ("none,a=1,", {"type": "none", "a": "1"}),  # trailing comma
        ("none,a=", {"type": "none", "a": ""}),
        ("none,a=1,,", {"type": "none", "a": "1,"}),  # ',,' at the end
        ("none,a=,,", {"type": "none", "a": ","}),
        ("a=,,x", {"a": ",x"}),  # ',,' at the start
        ("a=x,,y,b=2", {"a": "x,y", "b": "2"}),  # ',,' in the middle
        ("a=x,,,,y", {"a": "x,,y"}),
        ("a=x=y", {"a": "x=y"}),
        ("x.y.z=1", {"x": {"y": {"z": "1"}}}),
        ("a.b=1,a.c=2", {"a": {"b": "1", "c": "2"}}),
        ("none,a.0=x,a.1=y", {"type": "none", "a": ["x", "y"]}),
        ("a.1=y,a.0=x", {"a": ["x", "y"]}),
        ("a.0.b=1,a.1.b=2", {"a": [{"b": "1"}, {"b": "2"}]}),
        ("a.B.0=1,a.B.1=2,a.c=3", {"a": {"B": ["1", "2"], "c": "3"}}),
        ("__com.redhat_x=1", {"__com.redhat_x": "1"}),
        ("a-b_c=1,Ab=2", {"a-b_c": "1", "Ab": "2"}),
        (f"{A127}=1", {A127: "1"}),
        (f"x.{A127}.y=1", {"x": {A127: {"y": "1"}}}),
    ],
)
def test_parse(text: str, values: KeyvalDict) -> None:
    assert keyval_parse(text, "type") == (values, False)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("none,,x", "Invalid parameter ''"),  # ',,' does not escape an implied value
        (",none", "Invalid parameter ''"),
        ("none,,", "Invalid parameter ''"),
        ("none,,,", "Invalid parameter ''"),
        ("none,=1", "Invalid parameter ''"),
        ("=x", "Invalid parameter ''"),
        ("none,foo", "Expected '=' after parameter 'foo'"),
        ("help,foo", "Expected '=' after parameter 'foo'"),
        ("none,1a=2", "Invalid parameter '1a'"),
        ("none,_x=1", "Invalid parameter '_x'"),
        ("none,a..b=1", "Invalid parameter 'a..b'"),
        ("none,a.=1", "Invalid parameter 'a.'"),
        ("none,a.0x=1", "Invalid parameter 'a.0x'"),
        ("none,a.b=1,a=2", "Parameters 'a.*' used inconsistently"),
        ("none,a=1,a.b=2", "Parameters 'a.*' used inconsistently"),
        ("none,a.0=x,a.b=y", "Parameters 'a.*' used inconsistently"),
        ("none,a=1,a.=1", "Invalid parameter 'a.'"),  # the bad fragment is seen first
        ("none,a=1,,,a.0x=1", "Invalid parameter 'a.0x'"),
        ("none,a.1=x", "Parameter 'a.0' missing"),
        ("none,a.01=1", "Parameter 'a.0' missing"),
        (f"none,{A128}=1", f"Parameter '{A128}' is too long"),
        (f"none,x.{A128}=1", f"Parameter fragment '{A128}' is too long"),
        (f"none,{A128}.x=1", f"Parameter fragment '{A128}' is too long"),
    ],
)
def test_parse_errors(text: str, error: str) -> None:
    with pytest.raises(ConfigError) as info:
        keyval_parse(text, "type")
    assert info.value.desc == error


def test_without_implied_key_a_bare_word_needs_a_value() -> None:
    with pytest.raises(ConfigError) as info:
        keyval_parse("none")
    assert info.value.desc == "Expected '=' after parameter 'none'"


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("help", {}),
        ("?", {}),
        ("none,help", {"type": "none"}),
        ("none,?", {"type": "none"}),
        ("2,help", {"type": "2"}),
        ("help,a=1", {"a": "1"}),
    ],
)
def test_help_request(text: str, values: KeyvalDict) -> None:
    assert keyval_parse(text, "type") == (values, True)


def test_help_as_a_key_is_not_a_request() -> None:
    assert keyval_parse("none,help=1", "type") == ({"type": "none", "help": "1"}, False)


@pytest.mark.parametrize("text", ["help", "none,id=a,help", "null-co,node-name=x,help"])
def test_help_not_available(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        keyval_parse(text, "driver", allow_help=False)
    assert info.value.desc == "Help is not available for this option"


def test_repeated_option_fills_one_dict() -> None:
    machine: KeyvalDict = {}
    assert not keyval_parse_into(machine, "none,dump-guest-core=on", "type")
    assert not keyval_parse_into(machine, "dump-guest-core=off", "type")
    assert machine == {"type": "none", "dump-guest-core": "off"}


def test_repeated_option_must_agree_on_shape() -> None:
    machine: KeyvalDict = {}
    keyval_parse_into(machine, "none,a.b=1", "type")
    with pytest.raises(ConfigError) as info:
        keyval_parse_into(machine, "a=2", "type")
    assert info.value.desc == "Parameters 'a.*' used inconsistently"


def test_read_escaped_value() -> None:
    assert read_escaped_value("a,,b,c", 0) == ("a,b", 4)
    assert read_escaped_value("x=a,,", 2) == ("a,", 5)


# --- merge --------------------------------------------------------------------


def test_merge_replaces_strings_and_merges_dicts() -> None:
    dest: KeyvalDict = {"type": "pc", "smp": {"cpus": "1", "cores": "1"}}
    keyval_merge(dest, {"type": "q35", "smp": {"cpus": "2"}, "accel": "kvm"})
    assert dest == {"type": "q35", "smp": {"cpus": "2", "cores": "1"}, "accel": "kvm"}


def test_merge_appends_lists_and_copies() -> None:
    src: KeyvalDict = {"foo": ["2", {"x": "3"}]}
    dest: KeyvalDict = {"foo": ["1"]}
    keyval_merge(dest, src)
    assert dest == {"foo": ["1", "2", {"x": "3"}]}
    dest["foo"][2]["x"] = "changed"  # type: ignore[index]
    assert src == {"foo": ["2", {"x": "3"}]}


@pytest.mark.parametrize(
    ("dest", "src", "error"),
    [
        ({"foo": {"bar": "1"}}, {"foo": "1"}, "Parameter 'foo' used inconsistently"),
        ({"foo": "1"}, {"foo": {"bar": "1"}}, "Parameter 'foo' used inconsistently"),
        (
            {"foo": {"bar": {"baz": "1"}}},
            {"foo": {"bar": "1"}},
            "Parameter 'foo.bar' used inconsistently",
        ),
        (
            {"foo": {"bar": "1"}},
            {"foo": {"bar": {"baz": "1"}}},
            "Parameter 'foo.bar' used inconsistently",
        ),
    ],
)
def test_merge_errors(dest: KeyvalDict, src: KeyvalDict, error: str) -> None:
    with pytest.raises(ConfigError) as info:
        keyval_merge(dest, src)
    assert info.value.desc == error


# --- crumple (config file sections) -------------------------------------------


@pytest.mark.parametrize(
    ("flat", "tree"),
    [
        ({}, {}),
        ({"type": "none", "a.b": "1"}, {"type": "none", "a": {"b": "1"}}),
        ({"a..b": "1"}, {"a.b": "1"}),  # '..' is a dot
        ({"a..b.c": "1"}, {"a.b": {"c": "1"}}),
        ({"a.0": "1", "a.2": "3", "a.1": "2"}, {"a": ["1", "2", "3"]}),
        ({"1a": "1", "id": "x"}, {"1a": "1", "id": "x"}),  # keys are not checked
        ({"0": "1"}, ["1"]),
    ],
)
def test_crumple(flat: dict[str, str], tree: KeyvalDict) -> None:
    assert keyval_crumple(flat) == tree


@pytest.mark.parametrize(
    ("flat", "error"),
    [
        ({"a.b": "1", "a": "1"}, "Cannot mix scalar and non-scalar keys"),
        ({"a": "1", "a.b": "1"}, "Cannot mix scalar and non-scalar keys"),
        ({"a.0": "1", "a.x": "1"}, "Cannot mix list and non-list keys"),
        ({"a.1": "1"}, "List indices are not contiguous, saw 1 elements but 1 largest index"),
        ({"a.01": "1"}, "List indices are not contiguous, saw 1 elements but 1 largest index"),
        ({"a.1": "1", "a.+0": "1"}, "Missing list index 0"),
    ],
)
def test_crumple_errors(flat: dict[str, str], error: str) -> None:
    with pytest.raises(ConfigError) as info:
        keyval_crumple(flat)
    assert info.value.desc == error


# --- QDict order ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "first"),
    [
        (["b1", "b2", "b3", "b4", "b5", "zz", "aa"], "b2"),
        (["xa", "xb", "xc", "xd"], "xa"),
        (["foo", "bar", "baz", "quux"], "quux"),
        (["kaa", "kab"], "kab"),  # same bucket: the newer first
        (["kab", "kaa"], "kaa"),
    ],
)
def test_qdict_order_first_key(keys: list[str], first: str) -> None:
    # QEMU reported the first of these as the invalid parameter of a config section.
    assert qdict_order(keys)[0] == first


def test_qdict_order_keeps_every_key_once() -> None:
    assert sorted(qdict_order(["a", "b", "a", "c"])) == ["a", "b", "c"]


# --- properties -----------------------------------------------------------------

NAMES = st.from_regex(r"[a-z][a-z0-9_-]{0,15}", fullmatch=True)
VALUES = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


def escape(value: str) -> str:
    return value.replace(",", ",,")


@given(VALUES)
def test_any_value_survives_escaping(value: str) -> None:
    assert keyval_parse(f"key={escape(value)}") == ({"key": value}, False)


@given(st.dictionaries(NAMES, VALUES, max_size=6), st.booleans())
def test_dict_round_trip(values: dict[str, str], trailing_comma: bool) -> None:
    text = ",".join(f"{key}={escape(value)}" for key, value in values.items())
    if values and trailing_comma:
        text += ","
    assert keyval_parse(text) == (values, False)


@given(st.from_regex(r"[^=,]+", fullmatch=True).filter(lambda v: v not in ("help", "?")), VALUES)
def test_implied_value_round_trip(first: str, value: str) -> None:
    assert keyval_parse(f"{first},x={escape(value)}", "type") == (
        {"type": first, "x": value},
        False,
    )


@given(st.dictionaries(NAMES, st.dictionaries(NAMES, VALUES, max_size=3), max_size=3))
def test_dotted_keys_nest(tree: dict[str, dict[str, str]]) -> None:
    parts = [f"{a}.{b}={escape(v)}" for a, sub in tree.items() for b, v in sub.items()]
    expected = {a: sub for a, sub in tree.items() if sub}
    assert keyval_parse(",".join(parts)) == (expected, False)
    flat = {f"{a}.{b}": v for a, sub in tree.items() for b, v in sub.items()}
    assert keyval_crumple(flat) == expected
