"""``-readconfig`` files read as QEMU 7.2 reads them.

Each file below was given to ``qemu-system-x86_64 -M none -readconfig`` 7.2;
the expected lines are what it printed (its ``-rtc``, ``-name`` and
``-chardev`` groups are mirrored by the groups declared here).  QEMU prints
a file location as ``prog:file:line: message``, without a blank after the
program name; :func:`qemu_message` renders our errors the same way.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyqemu.util.errors import ConfigError, location
from pyqemu.util.keyval import KeyvalDict, keyval_merge
from pyqemu.util.qemuopts import OptDesc, OptsList, OptsStore, OptType
from pyqemu.util.readconfig import ConfigSection, parse_config, read_config_file

PROG = "qemu-system-x86_64"
FILE = "x.cfg"
KEYVAL_GROUPS = ("machine", "smp-opts", "boot-opts", "object")
GROUPS = [
    OptsList("rtc", None, True, (OptDesc("base"), OptDesc("clock"), OptDesc("driftfix"))),
    OptsList(
        "name",
        "guest",
        True,
        (OptDesc("debug-threads", OptType.BOOL), OptDesc("guest"), OptDesc("process")),
    ),
    OptsList("chardev", "backend", False, (OptDesc("backend"), OptDesc("path"))),
]


def sections(text: str | bytes) -> list[ConfigSection]:
    data = text.encode() if isinstance(text, str) else text
    return list(parse_config(data, FILE))


def qemu_message(err: ConfigError) -> str:
    where = f"{err.location}: " if err.location else " "
    return f"{PROG}:{where}{err.desc}"


def apply(text: str | bytes, machine: KeyvalDict | None = None) -> OptsStore:
    """Feed a file to a store section by section, as QEMU's -readconfig does."""
    store = OptsStore(GROUPS)
    data = text.encode() if isinstance(text, str) else text
    for section in parse_config(data, FILE):
        where = location(section.location) if section.location else contextlib.nullcontext()
        with where:
            if section.group in KEYVAL_GROUPS:
                keyval_merge(machine if machine is not None else {}, section.to_tree())
            else:
                store.from_dict(section.group, section.values, section.location)
    return store


def apply_error(text: str | bytes, machine: KeyvalDict | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        apply(text, machine)
    return qemu_message(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[foo]\n", f"{PROG}: There is no option group 'foo'"),
        ('# c\n\n[rtc]\n  base = "utc"\n  bogus = "1"\n', f"{PROG}:x.cfg:5: Invalid parameter 'bogus'"),
        (
            '[rtc]\n  base = "utc"\n\n\n[name]\n  bogus = "1"\n# tail\n\n',
            f"{PROG}:x.cfg:6: Invalid parameter 'bogus'",
        ),
        (
            '[rtc]\n  base = "utc"\n  bogus = "1"\n[name]\n guest = "x"\n',
            f"{PROG}:x.cfg:3: Invalid parameter 'bogus'",
        ),
        ('[rtc]\nbase="utc"\n', f"{PROG}:x.cfg:2: Invalid parameter 'base=\"utc\"'"),
        ("[rtc]\n   \n", f"{PROG}:x.cfg:2: parse error"),
        ('  base = "utc"\n', f"{PROG}:x.cfg:1: no group defined"),
        ("[rtc]\ngarbage\n", f"{PROG}:x.cfg:2: Invalid parameter 'garbage'"),
        ("[rtc]\n  # comment\n", f"{PROG}:x.cfg:2: Invalid parameter '#'"),
        ("[ rtc ]\n", f"{PROG}: There is no option group ' rtc '"),
        ("[rtc\n", f"{PROG}: There is no option group 'rtc\n'"),
        (
            '[chardev "c1"]\n backend = "null"\n[chardev "c1"]\n backend = "null"\n',
            f"{PROG}:x.cfg:4: Duplicate ID 'c1' for chardev",
        ),
        (
            '[chardev "1c"]\n backend = "null"\n',
            f"{PROG}:x.cfg:2: Parameter 'id' expects an identifier",
        ),
        (
            '[chardev "c1"]\n backend = "null"\n id = "c2"\n[chardev "c2"]\n backend = "null"\n',
            f"{PROG}:x.cfg:5: Duplicate ID 'c2' for chardev",
        ),
        ('[rtc "x"]\n base = "utc"\n', f"{PROG}:x.cfg:2: Invalid parameter 'id'"),
        ('[rtc "a"]\n', f"{PROG}: Invalid parameter 'id'"),
        ('[rtc]\n bogus = "x"\n id = "y"\n', f"{PROG}:x.cfg:3: Invalid parameter 'id'"),
        ('[rtc]\n bogus = "x"\n base = "utc"\n', f"{PROG}:x.cfg:3: Invalid parameter 'bogus'"),
        ('[rtc]\n[rtc]\n bogus = "x"\n', f"{PROG}:x.cfg:3: Invalid parameter 'bogus'"),
        ('[rtc]\n base = "utc"\n[foo]\n', f"{PROG}:x.cfg:2: There is no option group 'foo'"),
        ('[foo]\n[rtc]\n base = "x"\n', f"{PROG}: There is no option group 'foo'"),
        (
            '[rtc]\n base = "utc"\n[foo]\n# c\n\n[rtc]\n',
            f"{PROG}:x.cfg:2: There is no option group 'foo'",
        ),
        (
            '[name]\n debug-threads = "maybe"\n',
            f"{PROG}:x.cfg:2: Parameter 'debug-threads' expects 'on' or 'off'",
        ),
        ("[name]\n debug-threads\n", f"{PROG}:x.cfg:2: Parameter 'debug-threads' expects 'on' or 'off'"),
        ('[rtc]\n base= "utc"\n', f"{PROG}:x.cfg:2: Invalid parameter 'base='"),
        ('[chardev"c1"]\n backend = "null"\n', f"{PROG}:x.cfg:2: There is no option group 'chardev\"c1\"'"),
        ('[chardev ""]\n backend = "null"\n', f"{PROG}:x.cfg:2: There is no option group 'chardev \"\"'"),
        ('[rtc]\r\n base = "utc"\r\n\r\n', f"{PROG}:x.cfg:3: parse error"),  # "\r\n" is not empty
        ('[rtc]\n\0base = "x"\n', f"{PROG}:x.cfg:2: parse error"),
        # The last section is reported under what the last '[' line left in the group buffer.
        ("[rtc]\n[]\n", f"{PROG}:x.cfg:2: There is no option group ']'"),
        ("[rtc]\n[]\n[name]\n", f"{PROG}:x.cfg:2: Invalid parameter '[]'"),
        ('[rtc]\n base = "utc"\n[] = "x"\n', f"{PROG}:x.cfg:3: There is no option group ']'"),
        ("[rtc]\n[bogus thing\n", f"{PROG}: There is no option group 'bogus thing\n'"),
        ('[rtc]\n[rtc2 "x\n', f"{PROG}: There is no option group 'rtc2'"),
        ("[" + "r" * 70 + "]\n", f"{PROG}: There is no option group '{'r' * 63}'"),
        (
            '[rtc]\n base = "' + "x" * 1100 + '"\n',  # read as two lines by a 1024-byte buffer
            f"{PROG}:x.cfg:3: Invalid parameter '{'x' * 63}'",
        ),
        ("[rtc]\n " + "b" * 70 + ' = "x"\n', f"{PROG}:x.cfg:2: Invalid parameter '{'b' * 63}'"),
    ],
)
def test_errors_as_qemu_prints_them(text: str, message: str) -> None:
    assert apply_error(text) == message


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ('[rtc]\n base = "utc"\n', {"base": "utc"}),
        ('[rtc] junk\n base = "utc"\n', {"base": "utc"}),
        ('[rtc]\n\tbase\t=\t"utc"\n', {"base": "utc"}),
        ('[rtc]\nbase = "utc" \n', {"base": "utc"}),
        ('[rtc]\n base ="utc"\n', {"base": "utc"}),
        ('[rtc]\n base = "utc" trailing\n', {"base": "utc"}),
        ('[rtc]\n base = ""\n', {"base": ""}),
        ('[rtc]\n base = ""x\n', {"base": ""}),
        ("[rtc]\n base = utc\n", {"base": ""}),
        ("[rtc]\n base =\n", {"base": ""}),
        ('[rtc]\n base = "utc\n', {"base": "utc\n"}),
        ('[rtc]\n base = "a"\n base = "b"\n', {"base": "b"}),
        ('[rtc]\n base = "a,b"\n', {"base": "a,b"}),
        ('[name]\n guest = "aéb"\n', {"guest": "aéb"}),
    ],
)
def test_values(text: str, values: dict[str, str]) -> None:
    (section,) = sections(text)
    assert section.values == values
    apply(text)  # and QEMU accepted it


@pytest.mark.parametrize(
    ("header", "ident"),
    [
        ('[chardev "c1"]', "c1"),
        ('[chardev "c1"', "c1"),
        ('[chardev "c1" ]', "c1"),
        ('[chardev  "c1"]', "c1"),
        ('[chardev "' + "r" * 70 + '"]', "r" * 63),
    ],
)
def test_section_ids(header: str, ident: str) -> None:
    (section,) = sections(header + '\n backend = "null"\n')
    assert (section.group, section.id) == ("chardev", ident)
    assert section.values == {"id": ident, "backend": "null"}
    store = apply(header + '\n backend = "null"\n')
    assert store.find("chardev", ident) is not None


def test_id_line_renames_the_section() -> None:
    (section,) = sections('[chardev "c1"]\n backend = "null"\n id = "c2"\n')
    assert section.id == "c2"


def test_sections_carry_their_location() -> None:
    found = sections('[rtc]\n base = "utc"\n\n[chardev]\n backend = "null"\n# end\n')
    assert [(s.group, s.location) for s in found] == [("rtc", "x.cfg:2"), ("chardev", "x.cfg:5")]
    store = apply('[chardev]\n backend = "null"\n')  # QEMU objects later, at this location
    (opts,) = store.all("chardev")
    assert (opts.id, opts.location) == (None, "x.cfg:2")


def test_sections_come_one_at_a_time() -> None:
    reader = parse_config(b'[foo]\n x = "1"\n[rtc]\n   \n', FILE)
    assert next(reader).group == "foo"  # before the bad line is read
    with pytest.raises(ConfigError):
        next(reader)


def test_values_come_in_qemus_order() -> None:
    (section,) = sections("[rtc]\n" + "".join(f' {k} = "x"\n' for k in ["b1", "b2", "b3", "zz", "aa"]))
    assert next(iter(section.values)) == "b2"
    assert (
        apply_error('[rtc]\n b1 = "x"\n b2 = "x"\n b3 = "x"\n') == f"{PROG}:x.cfg:4: Invalid parameter 'b2'"
    )


def test_merging_groups_merge() -> None:
    store = apply('[name]\n guest = "a"\n[name]\n process = "p"\n')
    (opts,) = store.all("name")
    assert opts.items() == [("guest", "a"), ("process", "p")]


# --- keyval groups ----------------------------------------------------------------


def test_machine_section_tree() -> None:
    (section,) = sections('[machine "x"]\n type = "none"\n a..b.c = "1"\n l.0 = "p"\n l.1 = "q"\n')
    assert section.to_tree() == {"id": "x", "type": "none", "a.b": {"c": "1"}, "l": ["p", "q"]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[machine]\n 0 = "1"\n', f"{PROG}:x.cfg:2: Lists cannot be at top level of a configuration section"),
        ('[machine]\n a.b = "1"\n a = "1"\n', f"{PROG}:x.cfg:3: Cannot mix scalar and non-scalar keys"),
        ('[machine]\n a.0 = "1"\n a.x = "1"\n', f"{PROG}:x.cfg:3: Cannot mix list and non-list keys"),
        (
            '[machine]\n a.1 = "1"\n',
            f"{PROG}:x.cfg:2: List indices are not contiguous, saw 1 elements but 1 largest index",
        ),
        ('[machine]\n a.1 = "1"\n a.+0 = "1"\n', f"{PROG}:x.cfg:3: Missing list index 0"),
    ],
)
def test_keyval_section_errors(text: str, message: str) -> None:
    assert apply_error(text) == message


@pytest.mark.parametrize(
    ("machine", "text", "message"),
    [
        ({"foo": {"bar": "1"}}, '[machine]\n foo = "1"\n', "Parameter 'foo' used inconsistently"),
        ({"foo": "1"}, '[machine]\n foo.bar = "1"\n', "Parameter 'foo' used inconsistently"),
        (
            {"foo": {"bar": {"baz": "1"}}},
            '[machine]\n foo.bar = "1"\n',
            "Parameter 'foo.bar' used inconsistently",
        ),
    ],
)
def test_machine_section_merges_into_machine_options(machine: KeyvalDict, text: str, message: str) -> None:
    assert apply_error(text, machine) == f"{PROG}:x.cfg:2: {message}"


def test_machine_section_overrides() -> None:
    machine: KeyvalDict = {"type": "pc", "dump-guest-core": "on"}
    apply('[machine]\n type = "none"\n', machine)
    assert machine == {"type": "none", "dump-guest-core": "on"}


# --- files -------------------------------------------------------------------------


def test_read_file(tmp_path: Path) -> None:
    path = tmp_path / "vm.cfg"
    path.write_text('[chardev "c0"]\n  backend = "null"\n')
    (section,) = read_config_file(str(path))
    assert (section.group, section.id, section.location) == ("chardev", "c0", f"{path}:2")


def test_missing_file() -> None:
    with pytest.raises(ConfigError) as info:
        read_config_file("/nonexist.cfg")
    assert info.value.desc == "Could not open '/nonexist.cfg': No such file or directory"
    assert info.value.location is None  # the caller names the -readconfig option


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        read_config_file(str(tmp_path))
    assert info.value.desc == "Cannot read config file: Is a directory"


# --- properties --------------------------------------------------------------------

KEYS = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)
IDS = st.from_regex(r"[a-z][a-z0-9_.-]{0,30}", fullmatch=True)
VALUES = st.text(st.characters(blacklist_characters='"\n\0', blacklist_categories=("Cs",)), max_size=200)
SECTIONS = st.lists(
    st.tuples(KEYS, st.none() | IDS, st.dictionaries(KEYS.filter(lambda k: k != "id"), VALUES, max_size=5)),
    max_size=5,
)


def write_config(entries: list[tuple[str, str | None, dict[str, str]]]) -> str:
    lines = ["# written by a test", ""]
    for group, ident, values in entries:
        lines.append(f'[{group} "{ident}"]' if ident else f"[{group}]")
        lines.extend(f'  {key} = "{value}"' for key, value in values.items())
        lines.append("")
    return "\n".join(lines)


@given(SECTIONS)
def test_written_config_reads_back(entries: list[tuple[str, str | None, dict[str, str]]]) -> None:
    found = sections(write_config(entries))
    assert [(s.group, s.id) for s in found] == [(group, ident) for group, ident, _ in entries]
    for section, (_, ident, values) in zip(found, entries, strict=True):
        assert section.values == ({"id": ident} if ident else {}) | values


@given(st.binary(max_size=300))
def test_any_bytes_give_sections_or_a_config_error(data: bytes) -> None:
    try:
        found = list(parse_config(data, FILE))
    except ConfigError as err:
        assert err.desc in ("parse error", "no group defined")
        assert err.location is not None and err.location.startswith("x.cfg:")
    else:
        assert all(isinstance(section, ConfigSection) for section in found)
