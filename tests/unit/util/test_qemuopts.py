"""QemuOpts parsing as QEMU 7.2 does it.

The groups below copy what QEMU 7.2 declares for ``-rtc``, ``-m``, ``-name``,
``-msg`` and (in part) ``-chardev``, as its ``help`` output lists them, and
``-device``, which accepts any key.  Every error and warning text was
printed by qemu-system-x86_64 7.2 for the same argument.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyqemu.util.cutils import ID_HINT, ParseWarning
from pyqemu.util.errors import ConfigError
from pyqemu.util.qemuopts import (
    SIZE_HINT,
    OptDesc,
    Opts,
    OptsList,
    OptsStore,
    OptType,
    ParseResult,
)

BOOL, NUMBER, SIZE = OptType.BOOL, OptType.NUMBER, OptType.SIZE
RTC = OptsList("rtc", None, True, (OptDesc("base"), OptDesc("clock"), OptDesc("driftfix")))
MEMORY = OptsList(
    "memory",
    "size",
    True,
    (OptDesc("maxmem", SIZE), OptDesc("size", SIZE), OptDesc("slots", NUMBER)),
)
NAME = OptsList(
    "name",
    "guest",
    True,
    (OptDesc("debug-threads", BOOL), OptDesc("guest"), OptDesc("process")),
)
MSG = OptsList("msg", None, False, (OptDesc("guest-name", BOOL), OptDesc("timestamp", BOOL)))
CHARDEV = OptsList(
    "chardev",
    "backend",
    False,
    (
        OptDesc("backend"),
        OptDesc("cols", NUMBER),
        OptDesc("nodelay", BOOL),
        OptDesc("path"),
        OptDesc("server", BOOL, default_str="off"),
        OptDesc("size", SIZE),
        OptDesc("wait", BOOL),
    ),
)
DEVICE = OptsList("device", "driver")

ONLY_ID = "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter."
SIZE_TEXT = (
    "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\nand exabytes, respectively."
)


@pytest.fixture
def store() -> OptsStore:
    return OptsStore([RTC, MEMORY, NAME, MSG, CHARDEV, DEVICE])


def parse(store: OptsStore, group: str, text: str) -> tuple[ParseResult, list[ParseWarning]]:
    warnings: list[ParseWarning] = []
    return store.parse(group, text, f"-{group} {text}", warnings=warnings), warnings


def parse_error(store: OptsStore, group: str, text: str) -> tuple[ConfigError, list[ParseWarning]]:
    warnings: list[ParseWarning] = []
    with pytest.raises(ConfigError) as info:
        store.parse(group, text, warnings=warnings)
    return info.value, warnings


def flag(name: str, hint: str) -> ParseWarning:
    return ParseWarning(f"short-form boolean option '{name}' deprecated", hint)


def test_hints_are_qemus() -> None:
    assert ID_HINT == ONLY_ID
    assert SIZE_HINT == SIZE_TEXT


# --- values and escaping --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("null,id=c0", [("backend", "null")]),
        ("null,,x,id=c0", [("backend", "null,x")]),  # ',,' works in an implied value
        ("socket,id=c0,path=a,,b", [("backend", "socket"), ("path", "a,b")]),
        ("socket,id=c0,path=,,a", [("backend", "socket"), ("path", ",a")]),
        ("socket,id=c0,path=a,,", [("backend", "socket"), ("path", "a,")]),
        ("socket,id=c0,path=a,,,,b", [("backend", "socket"), ("path", "a,,b")]),
        ("socket,id=c0,path=", [("backend", "socket"), ("path", "")]),
        ("socket,id=c0,path=a=b", [("backend", "socket"), ("path", "a=b")]),
        ("socket,id=c0,", [("backend", "socket")]),  # trailing comma
        (",id=c0", [("backend", "")]),
        ("id=c0,backend=null", [("backend", "null")]),
        ("a,,b=c,id=c0", [("backend", "a,b=c")]),
        ("null,id=c0,path=x,path=y", [("backend", "null"), ("path", "x"), ("path", "y")]),
    ],
)
def test_values(store: OptsStore, text: str, items: list[tuple[str, str]]) -> None:
    result, warnings = parse(store, "chardev", text)
    assert result.opts is not None and result.opts.items() == items
    assert warnings == []


def test_empty_argument(store: OptsStore) -> None:
    result, _ = parse(store, "rtc", "")
    assert result.opts is not None and result.opts.items() == []


def test_last_value_wins(store: OptsStore) -> None:
    result, _ = parse(store, "name", "guest=foo,guest=bar")
    assert result.opts is not None and result.opts.get("guest") == "bar"


@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=30))
def test_any_value_survives_escaping(value: str) -> None:
    store = OptsStore([CHARDEV])
    text = f"socket,id=c0,path={value.replace(',', ',,')}"
    opts = store.parse("chardev", text).opts
    assert opts is not None and opts.get("path") == value


@given(st.from_regex(r"[^=,]*", fullmatch=True), st.text(max_size=10))
def test_implied_value_survives_escaping(first: str, tail: str) -> None:
    store = OptsStore([DEVICE])
    value = first + "," + tail.replace("=", "")
    opts = store.parse("device", value.replace(",", ",,") + ",bus=pci.0").opts
    assert opts is not None and opts.items() == [("driver", value), ("bus", "pci.0")]


# --- short-form booleans --------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "text", "items", "warning"),
    [
        (
            "name",
            "foo,debug-threads",
            [("guest", "foo"), ("debug-threads", "on")],
            flag("debug-threads", "Please use debug-threads=on instead"),
        ),
        (
            "name",
            "foo,nodebug-threads",
            [("guest", "foo"), ("debug-threads", "off")],
            flag("nodebug-threads", "Please use debug-threads=off instead"),
        ),
        ("msg", "timestamp", [("timestamp", "on")], flag("timestamp", "Please use timestamp=on instead")),
        (
            "msg",
            "notimestamp,id=x",
            [("timestamp", "off")],
            flag("notimestamp", "Please use timestamp=off instead"),
        ),
        (
            "chardev",
            "null,id=c0,id",
            [("backend", "null")],
            flag("id", "Please use id=on instead"),
        ),
    ],
)
def test_short_form_booleans(
    store: OptsStore, group: str, text: str, items: list[tuple[str, str]], warning: ParseWarning
) -> None:
    result, warnings = parse(store, group, text)
    assert result.opts is not None and result.opts.items() == items
    assert warnings == [warning]


@pytest.mark.parametrize(
    ("group", "text", "warning", "error"),
    [
        ("rtc", "base=utc,foo", flag("foo", "Please use foo=on instead"), "Invalid parameter 'foo'"),
        ("rtc", "utc", flag("utc", "Please use utc=on instead"), "Invalid parameter 'utc'"),
        ("msg", "on", flag("on", "Please use on=on instead"), "Invalid parameter 'on'"),
        ("memory", "1G,foo", flag("foo", "Please use foo=on instead"), "Invalid parameter 'foo'"),
        ("rtc", ",base=utc", flag("", "Please use =on instead"), "Invalid parameter ''"),
        ("rtc", ",", flag("", "Please use =on instead"), "Invalid parameter ''"),
        (
            "rtc",
            "base=utc,nohelp",
            flag("nohelp", "Please use help=off instead"),
            "Invalid parameter 'help'",
        ),
        # 'delay' is the odd one out: its hint names the inverted 'nodelay'.
        (
            "name",
            "foo,nodelay",
            flag("nodelay", "Please use nodelay=on instead"),
            "Invalid parameter 'delay'",
        ),
        ("name", "foo,delay", flag("delay", "Please use nodelay=off instead"), "Invalid parameter 'delay'"),
    ],
)
def test_warning_then_error(
    store: OptsStore, group: str, text: str, warning: ParseWarning, error: str
) -> None:
    err, warnings = parse_error(store, group, text)
    assert warnings == [warning]
    assert (err.desc, err.hint) == (error, None)


def test_nodelay_flag_sets_delay_off(store: OptsStore) -> None:
    err, _ = parse_error(store, "chardev", "socket,id=c0,nodelay")  # declared 'nodelay', not 'delay'
    assert err.desc == "Invalid parameter 'delay'"


# --- typed values ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "text", "error", "hint"),
    [
        ("msg", "timestamp=ON", "Parameter 'timestamp' expects 'on' or 'off'", None),
        ("msg", "timestamp=1", "Parameter 'timestamp' expects 'on' or 'off'", None),
        ("msg", "timestamp=", "Parameter 'timestamp' expects 'on' or 'off'", None),
        ("memory", "foo", "Parameter 'size' expects a non-negative number below 2^64", SIZE_TEXT),
        ("memory", "help", "Parameter 'size' expects a non-negative number below 2^64", SIZE_TEXT),
        ("memory", "1.5", "Parameter 'size' expects a non-negative number below 2^64", SIZE_TEXT),
        ("memory", "-1", "Parameter 'size' expects a non-negative number below 2^64", SIZE_TEXT),
        ("memory", "16E", "Value '16E' is out of range for parameter 'size'", None),
        (
            "memory",
            "18446744073709551616",
            "Value '18446744073709551616' is out of range for parameter 'size'",
            None,
        ),
        ("chardev", "null,id=c0,cols=5 ", "Parameter 'cols' expects a number", None),
        ("chardev", "null,id=c0,cols=08", "Parameter 'cols' expects a number", None),
        ("chardev", "null,id=c0,cols=1k", "Parameter 'cols' expects a number", None),
        (
            "chardev",
            "null,id=c0,cols=18446744073709551616",
            "Value '18446744073709551616' is too large for parameter 'cols'",
            None,
        ),
        ("rtc", "foo=1", "Invalid parameter 'foo'", None),
    ],
)
def test_typed_value_errors(store: OptsStore, group: str, text: str, error: str, hint: str | None) -> None:
    err, _ = parse_error(store, group, text)
    assert (err.desc, err.hint) == (error, hint)


@pytest.mark.parametrize("word", ["on", "yes", "true", "y", "off", "no", "false", "n"])
def test_boolean_words(store: OptsStore, word: str) -> None:
    result, _ = parse(store, "msg", f"timestamp={word}")
    assert result.opts is not None
    assert result.opts.get_bool("timestamp", False) is (word in ("on", "yes", "true", "y"))


def test_typed_getters(store: OptsStore) -> None:
    result, _ = parse(store, "chardev", "socket,id=c0,cols=010,size=1.5k,wait=no")
    opts = result.opts
    assert opts is not None
    assert opts.get_number("cols", 0) == 8
    assert opts.get_size("size", 0) == 1536
    assert opts.get_bool("wait", True) is False
    assert opts.get("cols") == "010"  # the text as written
    assert opts.get_bool("server", True) is False  # declared default "off"
    assert opts.get("server") == "off"
    assert opts.get_bool("nodelay", True) is True  # no declared default
    assert opts.get("path") is None and opts.get("path", "x") == "x"
    assert "cols" in opts and "path" not in opts


def test_hex_size_warns(store: OptsStore) -> None:
    result, warnings = parse(store, "memory", "0x10M")
    assert result.opts is not None and result.opts.get_size("size", 0) == 16 * 1024 * 1024
    assert warnings == [ParseWarning("Using a multiplier suffix on hex numbers is deprecated: 0x10M")]


def test_undeclared_keys_are_read_on_demand(store: OptsStore) -> None:
    result, _ = parse(store, "device", "virtio-blk,num-queues=0x4,share-rw=on,size=2k,x=maybe")
    opts = result.opts
    assert opts is not None
    assert opts.get_number("num-queues", 1) == 4
    assert opts.get_bool("share-rw", False) is True
    assert opts.get_size("size", 0) == 2048
    with pytest.raises(ConfigError) as info:
        opts.get_bool("x", False)
    assert info.value.desc == "Parameter 'x' expects 'on' or 'off'"


# --- help -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group", "text"),
    [
        ("rtc", "help"),
        ("rtc", "?"),
        ("rtc", "base=utc,help"),
        ("rtc", "base=utc,?"),
        ("memory", "size=1G,help"),
        ("chardev", "null,id=x,help"),
        ("name", "x,help"),
    ],
)
def test_help_request(store: OptsStore, group: str, text: str) -> None:
    result, warnings = parse(store, group, text)
    assert result == (None, True)
    assert warnings == []
    assert store.all(group) == []


@pytest.mark.parametrize(("text", "name"), [("foo,help", "help"), ("foo,?", "?")])
def test_help_kept_as_a_key_when_any_key_is_accepted(store: OptsStore, text: str, name: str) -> None:
    result, warnings = parse(store, "device", text)
    assert result.opts is not None and result.opts.items() == [("driver", "foo"), (name, "on")]
    assert result.opts.has_help_option()
    assert warnings == []


def test_help_as_implied_value_is_a_value(store: OptsStore) -> None:
    result, _ = parse(store, "device", "help")
    assert result.opts is not None and result.opts.get("driver") == "help"
    assert not result.opts.has_help_option()


# --- ids ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["null,id=1x", "null,id=", "null,id=é", "null,foo=1,id=1x", "null,id=a,,b"])
def test_malformed_id(store: OptsStore, text: str) -> None:
    err, _ = parse_error(store, "chardev", text)
    assert (err.desc, err.hint) == ("Parameter 'id' expects an identifier", ONLY_ID)


def test_device_id_is_checked_too(store: OptsStore) -> None:
    err, _ = parse_error(store, "device", "foo,id=1")
    assert err.desc == "Parameter 'id' expects an identifier"


def test_duplicate_id(store: OptsStore) -> None:
    parse(store, "chardev", "null,id=a")
    err, _ = parse_error(store, "chardev", "null,id=a")
    assert (err.desc, err.hint) == ("Duplicate ID 'a' for chardev", None)


def test_first_id_wins(store: OptsStore) -> None:
    result, _ = parse(store, "chardev", "null,id=a,id=b")
    assert result.opts is not None and result.opts.id == "a"
    parse(store, "chardev", "null,id=b")
    err, _ = parse_error(store, "chardev", "null,id=a")
    assert err.desc == "Duplicate ID 'a' for chardev"


@pytest.mark.parametrize(("text", "ident"), [("null,id", "on"), ("null,noid", "off")])
def test_bare_id_flag_names_the_instance(store: OptsStore, text: str, ident: str) -> None:
    result, warnings = parse(store, "chardev", text)
    assert result.opts is not None and result.opts.id == ident
    assert len(warnings) == 1


@pytest.mark.parametrize(("group", "text"), [("rtc", "id=foo"), ("name", "x,id=foo"), ("memory", "id=x")])
def test_merging_group_takes_no_id(store: OptsStore, group: str, text: str) -> None:
    err, _ = parse_error(store, group, text)
    assert err.desc == "Invalid parameter 'id'"


def test_anonymous_instances_do_not_clash(store: OptsStore) -> None:
    parse(store, "device", "a")
    parse(store, "device", "b")
    assert [opts.get("driver") for opts in store.all("device")] == ["a", "b"]


# --- merging groups -------------------------------------------------------------


def test_merging_group_keeps_one_instance(store: OptsStore) -> None:
    first, _ = parse(store, "name", "foo")
    second, _ = parse(store, "name", "debug-threads=on")
    third, _ = parse(store, "name", "bar")
    assert first.opts is second.opts is third.opts
    assert store.all("name") == [first.opts]
    assert third.opts is not None
    assert third.opts.get("guest") == "bar"
    assert third.opts.get_bool("debug-threads", False) is True


def test_repeated_memory_option(store: OptsStore) -> None:
    for text in ("1G", "maxmem=4G", "2G"):
        parse(store, "memory", text)
    opts = store.find("memory")
    assert opts is not None
    assert opts.get_size("size", 0) == 2 * 1024**3
    assert opts.get_size("maxmem", 0) == 4 * 1024**3


def test_location_of_a_merged_instance_is_the_first(store: OptsStore) -> None:
    store.parse("rtc", "base=utc", "-rtc base=utc")
    result = store.parse("rtc", "clock=host", "-rtc clock=host")
    assert result.opts is not None and result.opts.location == "-rtc base=utc"


def test_store_unchanged_on_error(store: OptsStore) -> None:
    parse(store, "rtc", "base=utc")
    parse_error(store, "rtc", "clock=host,foo=1")
    opts = store.find("rtc")
    assert opts is not None and opts.items() == [("base", "utc")]
    parse_error(store, "chardev", "null,id=c0,cols=x")
    assert store.find("chardev", "c0") is None


def test_stores_are_independent() -> None:
    one, two = OptsStore([CHARDEV]), OptsStore([CHARDEV])
    one.parse("chardev", "null,id=a")
    assert two.parse("chardev", "null,id=a").opts is not None


# --- the rest of the store --------------------------------------------------------


def test_unknown_group(store: OptsStore) -> None:
    with pytest.raises(ConfigError) as info:
        store.parse("foo", "x=1")
    assert info.value.desc == "There is no option group 'foo'"


def test_create_find_singleton_delete(store: OptsStore) -> None:
    created = store.create("chardev", "c1", "file.cfg:3")
    assert store.find("chardev", "c1") is created and created.location == "file.cfg:3"
    with pytest.raises(ConfigError):
        store.create("chardev", "c1")
    single = store.singleton("rtc")
    assert store.singleton("rtc") is single and store.all("rtc") == [single]
    store.delete(created)
    assert store.find("chardev", "c1") is None


def test_set_checks_like_parse(store: OptsStore) -> None:
    opts = store.singleton("memory")
    warnings: list[ParseWarning] = []
    opts.set("size", "0x1G", warnings)
    assert len(warnings) == 1
    with pytest.raises(ConfigError) as info:
        opts.set("slots", "x")
    assert info.value.desc == "Parameter 'slots' expects a number"


def test_do_parse_into_an_instance(store: OptsStore) -> None:
    opts = store.create("chardev", "c1")
    opts.do_parse("/tmp/a,,b,server,nowait,id=1x,size=1k", implied_key="path")
    assert opts.id == "c1"  # an id in the text is skipped, unchecked (qemu_opts_do_parse)
    assert opts.items() == [("path", "/tmp/a,b"), ("server", "on"), ("wait", "off"), ("size", "1k")]
    assert opts.get_size("size", 0) == 1024


@pytest.mark.parametrize(("text", "desc"), [
    ("help", "Invalid parameter 'help'"),  # a key here, not a help request
    ("server=on,bogus=1", "Invalid parameter 'bogus'"),
    ("cols=x", "Parameter 'cols' expects a number"),
])
def test_do_parse_errors_leave_the_instance_unchanged(store: OptsStore, text: str, desc: str) -> None:
    opts = store.create("chardev", "c1")
    opts.set("backend", "null")
    with pytest.raises(ConfigError) as info:
        opts.do_parse(text)
    assert info.value.desc == desc
    assert opts.items() == [("backend", "null")]


def test_from_dict(store: OptsStore) -> None:
    opts = store.from_dict("chardev", {"id": "c1", "backend": "null"}, "x.cfg:2")
    assert (opts.id, opts.items(), opts.location) == ("c1", [("backend", "null")], "x.cfg:2")
    with pytest.raises(ConfigError) as info:
        store.from_dict("chardev", {"id": "c1", "backend": "null"})
    assert info.value.desc == "Duplicate ID 'c1' for chardev"
    with pytest.raises(ConfigError) as info:
        store.from_dict("rtc", {"id": "x", "base": "utc"})
    assert info.value.desc == "Invalid parameter 'id'"
    with pytest.raises(ConfigError) as info:
        store.from_dict("name", {"debug-threads": ""})
    assert info.value.desc == "Parameter 'debug-threads' expects 'on' or 'off'"


def test_to_dict_pop_items(store: OptsStore) -> None:
    result, _ = parse(store, "device", "virtio-net,id=n0,mac=1,mac=2,bus=pci.0")
    opts = result.opts
    assert isinstance(opts, Opts)
    assert opts.to_dict() == {"id": "n0", "driver": "virtio-net", "mac": "2", "bus": "pci.0"}
    assert opts.pop("mac") == "2"
    assert opts.items() == [("driver", "virtio-net"), ("bus", "pci.0")]
    assert opts.pop("mac", "none") == "none"
