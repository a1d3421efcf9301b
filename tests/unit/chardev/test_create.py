"""Creating chardevs from -chardev options, from chardev-add, and from the legacy -serial syntax.

Every expected text below was observed with QEMU 7.2 (``qemu-system-x86_64
-M none -nodefaults -display none -S -chardev ...`` and QMP ``chardev-add``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import pyqemu.monitor.commands.char  # noqa: F401 - declares chardev-add
from pyqemu.chardev.char import query_chardev
from pyqemu.chardev.compat import parse_compat, parse_opts_text
from pyqemu.chardev.create import (
    backend_class,
    chardev_backend_names,
    chardev_help,
    chardev_new_from_opts,
    chardev_new_from_qapi,
    chardev_return,
)
from pyqemu.chardev.options import CHARDEV_OPTS
from pyqemu.qapi.input_visitor import check_arguments
from pyqemu.qapi.schema import SCHEMA
from pyqemu.util.errors import ConfigError
from pyqemu.util.qemuopts import SIZE_HINT, OptsStore


@pytest.mark.parametrize(("backend", "id", "opts", "message"), [
    ("foo", "x", {}, "'foo' is not a valid char driver name"),
    ("null", None, {}, "chardev: no id specified"),
    ("foo", None, {}, "chardev: no id specified"),
    (None, "x", {}, 'chardev: "x" missing backend'),
    ("null", "a", {"bogus": "1"}, "Invalid parameter 'bogus'"),
    ("foo", "a", {"bogus": "1"}, "Invalid parameter 'bogus'"),
    ("null", "a", {"server": "maybe"}, "Parameter 'server' expects 'on' or 'off'"),
    ("null", "a", {"reconnect": "x"}, "Parameter 'reconnect' expects a number"),
    ("null", "a", {"to": "99999999999999999999999"},
     "Value '99999999999999999999999' is too large for parameter 'to'"),
    ("null", "a", {"backend": "1"}, "'1' is not a valid char driver name"),
    ("file", "f", {}, "chardev: file: no filename given"),
    ("file", "f", {"path": "/nonexist/x"}, "Could not open '/nonexist/x': No such file or directory"),
    ("pipe", "p", {}, "chardev: pipe: no device path given"),
    ("pipe", "p", {"path": "/nonexist/x"}, "Could not open '/nonexist/x': No such file or directory"),
    ("stdio", "s", {"signal": "maybe"}, "Parameter 'signal' expects 'on' or 'off'"),
    ("file", "f", {"path": "/tmp/x", "append": "maybe"}, "Parameter 'append' expects 'on' or 'off'"),
    ("ringbuf", "r", {"size": "3"}, "size of ringbuf chardev must be power of two"),
    ("mux", "m", {}, "chardev: mux: no chardev given"),
])
def test_opts_errors(loop, root, backend, id, opts, message) -> None:
    with pytest.raises(ConfigError) as info:
        chardev_new_from_opts(backend, id, opts, loop, root)
    assert info.value.desc == message
    assert query_chardev(root) == []


def test_opts_id_checks(loop, root) -> None:
    with pytest.raises(ConfigError) as info:
        chardev_new_from_opts("foo", "1a", {}, loop, root)
    assert info.value.desc == "Parameter 'id' expects an identifier"
    assert info.value.hint == "Identifiers consist of letters, digits, '-', '.', '_', starting with a letter."
    chardev_new_from_opts("null", "a", {}, loop, root)
    with pytest.raises(ConfigError, match=r"^Duplicate ID 'a' for chardev$"):
        chardev_new_from_opts("null", "a", {}, loop, root)


def test_size_error_has_qemus_hint(loop, root) -> None:
    with pytest.raises(ConfigError) as info:
        chardev_new_from_opts("ringbuf", "r", {"size": "abc"}, loop, root)
    assert info.value.desc == "Parameter 'size' expects a non-negative number below 2^64"
    assert info.value.hint == SIZE_HINT
    assert chardev_new_from_opts("ringbuf", "r", {"size": "1k"}, loop, root).size == 1024


def test_keys_of_other_backends_are_accepted_and_ignored(loop, root) -> None:
    chr = chardev_new_from_opts("null", "a", {"path": "x", "port": "abc", "size": "1k"}, loop, root)
    assert chr.typename == "chardev-null"


def chardev_add(id, backend, loop, root):
    """``chardev-add`` as QMP runs it: arguments checked against its declaration, then created."""
    args = check_arguments(SCHEMA.commands["chardev-add"], {"id": id, "backend": backend})
    return chardev_new_from_qapi(args["id"], args["backend"], loop, root)


def test_logfile_that_cannot_be_created(loop, root) -> None:
    backend = {"type": "null", "data": {"logfile": "/nonexist/lg"}}
    with pytest.raises(ConfigError) as info:
        chardev_add("b", backend, loop, root)
    assert info.value.desc == (
        "Failed to add chardev 'b': Could not create '/nonexist/lg': No such file or directory"
    )


ADD_FAILED = "Failed to add chardev 'c': "


def _sock(addr: dict, **extra) -> dict:
    return {"type": "socket", "data": {"addr": addr, **extra}}


@pytest.mark.parametrize(("backend", "message"), [
    ("x", "Invalid parameter type for 'backend', expected: object"),
    ({"data": {}}, "Parameter 'backend.type' is missing"),
    ({"type": "null"}, "Parameter 'backend.data' is missing"),
    ({"type": "null", "data": []}, "Invalid parameter type for 'backend.data', expected: object"),
    ({"type": "foo", "data": {}}, "Parameter 'type' does not accept value 'foo'"),
    ({"type": "null", "data": {"bogus": 1}}, "Parameter 'backend.data.bogus' is unexpected"),
    ({"type": "file", "data": {}}, "Parameter 'backend.data.out' is missing"),
    ({"type": "file", "data": {"out": 1}}, "Invalid parameter type for 'backend.data.out', expected: string"),
    ({"type": "file", "data": {"out": "/tmp/o", "append": "yes"}},
     "Invalid parameter type for 'backend.data.append', expected: boolean"),
    ({"type": "pipe", "data": {}}, "Parameter 'backend.data.device' is missing"),
    ({"type": "stdio", "data": {"signal": "x"}},
     "Invalid parameter type for 'backend.data.signal', expected: boolean"),
    ({"type": "socket", "data": {}}, "Parameter 'backend.data.addr' is missing"),
    (_sock({"type": "bogus", "data": {}}), "Parameter 'type' does not accept value 'bogus'"),
    (_sock({"type": "unix"}), "Parameter 'backend.data.addr.data' is missing"),
    (_sock({"type": "unix", "data": {}}), "Parameter 'backend.data.addr.data.path' is missing"),
    (_sock({"type": "inet", "data": {"host": "127.0.0.1"}}),
     "Parameter 'backend.data.addr.data.port' is missing"),
    (_sock({"type": "inet", "data": {"host": "127.0.0.1", "port": 0}}),
     "Invalid parameter type for 'backend.data.addr.data.port', expected: string"),
    ({"type": "ringbuf", "data": {"size": 100}}, f"{ADD_FAILED}size of ringbuf chardev must be power of two"),
    ({"type": "ringbuf", "data": {"size": -1}}, f"{ADD_FAILED}size of ringbuf chardev must be power of two"),
    (_sock({"type": "unix", "data": {"path": "/tmp/z.sock"}}, server=False, wait=False),
     "Failed to add chardev 'c': 'wait' option is incompatible with socket in client connect mode"),
    (_sock({"type": "unix", "data": {"path": "/tmp/z.sock"}}, reconnect=1),
     "Failed to add chardev 'c': 'reconnect' option is incompatible with socket in server listen mode"),
    (_sock({"type": "fd", "data": {"str": "x"}}, reconnect=1, server=False),
     "Failed to add chardev 'c': 'reconnect' option is incompatible with 'fd' address type"),
    (_sock({"type": "unix", "data": {"path": "/nonexist/z.sock"}}, server=False, reconnect=-1),
     "Failed to add chardev 'c': Failed to connect to '/nonexist/z.sock': No such file or directory"),
    ({"type": "mux", "data": {"chardev": "zz"}}, f"{ADD_FAILED}mux: base chardev zz not found"),
    ({"type": "mux", "data": {}}, "Parameter 'backend.data.chardev' is missing"),
    (_sock({"type": "inet", "data": {"host": "127.0.0.1", "port": "0", "to": 70000}}),
     "Parameter 'to' expects uint16_t"),
    (_sock({"type": "fd", "data": {"str": "x", "a": 1, "b": 2, "c": 3}}),
     "Parameter 'backend.data.addr.data.b' is unexpected"),
    ({"type": "pty", "data": {"q": 1, "r": 1, "s": 1, "t": 1}}, "Parameter 'backend.data.s' is unexpected"),
    ({"type": "null", "data": {}, "q": 1, "r": 1, "s": 1, "t": 1}, "Parameter 'backend.s' is unexpected"),
    ({"type": "file", "data": {"out": "/tmp/o1", "in": "/nonexist/i"}},
     "Failed to add chardev 'c': Could not open '/nonexist/i': No such file or directory"),
])
def test_chardev_add_errors(loop, root, backend, message) -> None:
    with pytest.raises(ConfigError) as info:
        chardev_add("c", backend, loop, root)
    assert info.value.desc == message
    assert query_chardev(root) == []


def test_chardev_add_duplicates_and_ids(loop, root, tmp_path: Path) -> None:
    backend = {"type": "null", "data": {}}
    chr = chardev_add("1b", backend, loop, root)  # QMP does not check the id's form
    assert chardev_return(chr) == {}
    with pytest.raises(ConfigError, match=r"^Chardev with id '1b' already exists$"):
        chardev_add("1b", backend, loop, root)
    sock = tmp_path / "q.sock"
    chr = chardev_add("q", _sock({"type": "unix", "data": {"path": str(sock)}}), loop, root)
    assert chr.filename == f"disconnected:unix:{sock},server=on"  # QMP: server=on, wait=off by default


def test_backend_names_and_help() -> None:
    names = chardev_backend_names()
    assert set(names) == {"socket", "stdio", "file", "pipe", "null", "ringbuf", "pty", "mux"}
    kinds = SCHEMA.resolve("ChardevBackendKind")
    assert kinds.values == ("file", "pipe", "socket", "pty", "null", "mux", "stdio", "ringbuf")
    assert all(backend_class(name) is not None for name in kinds.values)
    assert chardev_help().startswith("Available chardev backend types: \n  socket\n")


@pytest.mark.parametrize(("spec", "expected"), [
    ("stdio", ("stdio", {})),
    ("null", ("null", {})),
    ("pty", ("pty", {})),
    ("vc", ("vc", {})),
    ("vc:80Cx24C", ("vc", {"cols": "80", "rows": "24"})),
    ("vc:640x480", ("vc", {"width": "640", "height": "480"})),
    ("file:/tmp/out", ("file", {"path": "/tmp/out"})),
    ("pipe:/tmp/p", ("pipe", {"path": "/tmp/p"})),
    ("unix:/tmp/x.sock,server=on,wait=off",
     ("socket", {"path": "/tmp/x.sock", "server": "on", "wait": "off"})),
    ("unix:/tmp/a,,b,server,nowait", ("socket", {"path": "/tmp/a,b", "server": "on", "wait": "off"})),
    ("unix:", ("socket", {})),
    ("tcp::4444,server=on,wait=off,nodelay",
     ("socket", {"host": "", "port": "4444", "server": "on", "wait": "off", "delay": "off"})),
    ("tcp:localhost:4444", ("socket", {"host": "localhost", "port": "4444"})),
    ("tcp:a:b:c", ("socket", {"host": "a", "port": "b:c"})),
    ("telnet::4444,server=on", ("socket", {"host": "", "port": "4444", "server": "on", "telnet": "on"})),
    ("udp::5555", ("udp", {"host": "", "port": "5555"})),
    ("mon:stdio", ("stdio", {"mux": "on", "signal": "off"})),
    ("mon:tcp::4444,server=on", ("socket", {"mux": "on", "host": "", "port": "4444", "server": "on"})),
    ("/dev/ttyS0", ("serial", {"path": "/dev/ttyS0"})),
    ("/dev/parport0", ("parallel", {"path": "/dev/parport0"})),
    ("COM1", ("serial", {"path": "COM1"})),
    ("con:", ("console", {})),
    ("tcp:localhost", None),
    ("tcp:", None),
    ("vc:abc", None),
])
def test_parse_compat(spec, expected) -> None:
    assert parse_compat(spec) == expected


@pytest.mark.parametrize(("spec", "message"), [
    ("foo", "'foo' is not a valid char driver"),
    ("mon:foo", "'foo' is not a valid char driver"),
    ("mon:mon:stdio", "'mon:stdio' is not a valid char driver"),
    ("tcp::0,server=on,wait=off,bogus=1", "Invalid parameter 'bogus'"),
    ("unix:/tmp/x,bogus=1", "Invalid parameter 'bogus'"),
    ("tcp::0,id=1x,bogus=2", "Invalid parameter 'bogus'"),
    ("unix:/tmp/x,help", "Invalid parameter 'help'"),
])
def test_parse_compat_errors(spec, message) -> None:
    with pytest.raises(ConfigError) as info:
        parse_compat(spec)
    assert info.value.desc == message


def test_mon_prefix_where_not_allowed() -> None:
    with pytest.raises(ConfigError, match=r"^mon: isn't supported in this context$"):
        parse_compat("mon:stdio", permit_mux_mon=False)


def test_compat_spec_creates_the_chardev_qemu_would(loop, root, tmp_path: Path) -> None:
    parsed = parse_compat(f"unix:{tmp_path}/s.sock,server=on,wait=off")
    assert parsed is not None
    backend, opts = parsed
    chr = chardev_new_from_opts(backend, "serial0", opts, loop, root)
    assert query_chardev(root) == [
        {"label": "serial0", "filename": f"disconnected:unix:{tmp_path}/s.sock,server=on",
         "frontend-open": False},
    ]
    assert chr.property_get("connected") is False


def test_parse_opts_text_as_qemu_opts_do_parse() -> None:
    assert parse_opts_text("server=on,server=off") == {"server": "off"}
    assert parse_opts_text("server,nowait") == {"server": "on", "wait": "off"}
    assert parse_opts_text("p,size=1k", implied="path") == {"path": "p", "size": "1k"}
    assert parse_opts_text("id=1x,server=on") == {"server": "on"}  # ids are skipped, unchecked
    with pytest.raises(ConfigError, match=r"^Invalid parameter 'help'$"):
        parse_opts_text("server,help")


@pytest.mark.parametrize(("text", "message"), [
    ("null,id=a,bogus=1", "Invalid parameter 'bogus'"),
    ("null,id=a,help=1", "Invalid parameter 'help'"),
    ("ringbuf,id=r,size=abc", "Parameter 'size' expects a non-negative number below 2^64"),
])
def test_chardev_group_checks_keys_when_parsed(text, message) -> None:
    store = OptsStore([CHARDEV_OPTS])
    with pytest.raises(ConfigError) as info:
        store.parse("chardev", text)
    assert info.value.desc == message
    assert store.all("chardev") == []


def test_chardev_group_help_requests() -> None:
    store = OptsStore([CHARDEV_OPTS])
    assert store.parse("chardev", "socket,help").help  # QEMU lists the group's keys then
    assert store.parse("chardev", "help").opts.get("backend") == "help"  # ... and the backends here
