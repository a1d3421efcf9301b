"""Reading ``-readconfig`` files the way QEMU 7.2 does.

A config file is a list of sections, one per option instance::

    # a comment (only with '#' in the first column)
    [chardev "serial0"]          group chardev, id serial0
      backend = "socket"
      path = "/tmp/serial.sock"

    [machine]                    a group without an id
      type = "q35"

QEMU reads each line with ``fgets`` into a 1024-byte buffer and matches it
with ``sscanf`` patterns, and that shapes what it accepts: a line longer
than 1023 bytes is read as several lines, ``key="v"`` without blanks is a
key named ``key="v"`` with an empty value, any other single word is a key
with an empty value, a line of blanks is a "parse error", and the last
section is reported under the group buffer as the last ``[`` line left it.
This module reproduces those rules rather than a tidier grammar, so a file
means the same to pyqemu as to QEMU.

Sections are yielded one at a time as they end, so the caller applies each
before later lines are read, as QEMU does.  QEMU names the location of the
last ``key = "value"`` line read so far in errors about a section; each
:class:`ConfigSection` carries that location.  QemuOpts groups go to
:meth:`~.qemuopts.OptsStore.from_dict`; the keyval groups (``object``,
``machine``, ``smp-opts``, ``boot-opts``) use :meth:`ConfigSection.to_tree`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from pyqemu.util.errors import ConfigError
from pyqemu.util.keyval import KeyvalDict, keyval_crumple, qdict_order

LINE_BUFFER = 1024  # fgets buffer size: lines are read in pieces of 1023 bytes
NAME_WIDTH = 63  # longest group, id and key
VALUE_WIDTH = 1023  # longest value
ID_KEY = "id"
_C_SPACE = " \t\n\v\f\r"
_ENCODING = "utf-8"


class _Lit(NamedTuple):
    char: str


class _Blanks(NamedTuple):
    pass


class _Word(NamedTuple):
    width: int


class _Until(NamedTuple):
    width: int
    stop: str


_Token = _Lit | _Blanks | _Word | _Until

# The sscanf patterns: [%63s "%63[^"]"]  /  [%63[^]]]  /   %63s = "%1023[^"]"
_GROUP_WITH_ID = (_Lit("["), _Word(NAME_WIDTH), _Blanks(), _Lit('"'), _Until(NAME_WIDTH, '"'))
_GROUP = (_Lit("["), _Until(NAME_WIDTH, "]"))
_KEY_VALUE = (
    _Blanks(), _Word(NAME_WIDTH), _Blanks(), _Lit("="), _Blanks(), _Lit('"'),
    _Until(VALUE_WIDTH, '"'),
)  # fmt: skip


def _span(line: str, pos: int, width: int, stop: str) -> int:
    end = pos
    while end < len(line) and end - pos < width and line[end] not in stop:
        end += 1
    return end


def _scan(pattern: tuple[_Token, ...], line: str) -> list[str]:
    """What ``sscanf`` assigns before the first mismatch: the captured strings.

    Only what the assignments are matters to QEMU's reader: the literals that
    follow the last conversion of its patterns are never checked.
    """
    captured: list[str] = []
    pos = 0
    for token in pattern:
        if isinstance(token, _Lit):
            if not line.startswith(token.char, pos):
                break
            pos += 1
            continue
        if isinstance(token, _Blanks | _Word):
            while pos < len(line) and line[pos] in _C_SPACE:
                pos += 1
        if isinstance(token, _Blanks):
            continue
        stop = _C_SPACE if isinstance(token, _Word) else token.stop
        end = _span(line, pos, token.width, stop)
        if end == pos:
            break
        captured.append(line[pos:end])
        pos = end
    return captured


def _buffer_lines(data: bytes) -> Iterator[str]:
    """The pieces ``fgets`` returns, cut at a NUL as C sees them, one char per byte."""
    pos = 0
    while pos < len(data):
        newline = data.find(b"\n", pos, pos + LINE_BUFFER - 1)
        end = newline + 1 if newline >= 0 else min(pos + LINE_BUFFER - 1, len(data))
        yield data[pos:end].split(b"\0", 1)[0].decode("latin-1")
        pos = end


def _text(raw: str) -> str:
    """Bytes held one per char back to text."""
    return raw.encode("latin-1").decode(_ENCODING, "surrogateescape")


@dataclass(frozen=True)
class ConfigSection:
    """One section: its group, its keys and values (``id`` among them), where to blame."""

    group: str
    values: dict[str, str]  # in the order QEMU walks them (see keyval.qdict_order)
    filename: str
    lineno: int | None  # the last key line read when the section ended, as QEMU reports

    @property
    def id(self) -> str | None:
        """The section's id: from ``[group "id"]``, or a later ``id = "..."`` line."""
        return self.values.get(ID_KEY)

    @property
    def location(self) -> str | None:
        """``file:line`` for errors about this section; None before any key line."""
        return None if self.lineno is None else f"{self.filename}:{self.lineno}"

    def to_tree(self) -> KeyvalDict:
        """The values as a keyval tree (dotted keys nest), for the keyval groups."""
        tree = keyval_crumple(self.values)
        if isinstance(tree, list):
            raise ConfigError("Lists cannot be at top level of a configuration section")
        return tree


class _Reader:
    """The state QEMU's reader keeps from line to line."""

    def __init__(self, filename: str):
        self.filename = filename
        self.group_buffer = ""  # sscanf writes here even when a header does not match
        self.group = ""
        self.values: dict[str, str] | None = None  # the section being read
        self.key_line: int | None = None

    def section(self, group: str, values: dict[str, str]) -> ConfigSection:
        """A section that ended, reported under ``group``, its keys in QEMU's order."""
        ordered = {key: values[key] for key in qdict_order(values)}
        return ConfigSection(group, ordered, self.filename, self.key_line)

    def header(self, line: str) -> bool:
        """Start a new section if ``line`` is a ``[group]`` or ``[group "id"]`` header."""
        found = _scan(_GROUP_WITH_ID, line)
        if found:
            self.group_buffer = found[0]
        if len(found) == 2:
            values = {ID_KEY: _text(found[1])}
        else:
            found = _scan(_GROUP, line)
            if not found:
                return False
            self.group_buffer, values = found[0], {}
        self.group, self.values = _text(self.group_buffer), values
        return True

    def key_value(self, line: str, lineno: int) -> None:
        """Add a ``key = "value"`` line to the section; a word alone has an empty value."""
        self.key_line = lineno
        where = f"{self.filename}:{lineno}"
        found = _scan(_KEY_VALUE, line)
        if not found:
            raise ConfigError("parse error", location=where)
        if self.values is None:
            raise ConfigError("no group defined", location=where)
        self.values[_text(found[0])] = _text(found[1]) if len(found) == 2 else ""


def parse_config(data: bytes, filename: str) -> Iterator[ConfigSection]:
    """The sections of config file contents ``data``; ConfigError at the first bad line.

    ``filename`` is only used in locations.
    """
    reader = _Reader(filename)
    for lineno, line in enumerate(_buffer_lines(data), start=1):
        if line[:1] in ("\n", "#"):
            continue
        group, values = reader.group, reader.values
        if not reader.header(line):
            reader.key_value(line, lineno)
        elif values is not None:
            yield reader.section(group, values)
    if reader.values is not None:
        yield reader.section(_text(reader.group_buffer), reader.values)


def read_config_file(path: str) -> Iterator[ConfigSection]:
    """The sections of the config file at ``path``; see :func:`parse_config`.

    The file is read at once, so ConfigError for a file that cannot be
    opened or read is raised here, with QEMU's wording.
    """
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed below; open and read fail differently
    except IsADirectoryError as err:  # C's fopen succeeds here, its first read fails
        raise ConfigError(f"Cannot read config file: {err.strerror}") from err
    except OSError as err:
        raise ConfigError(f"Could not open '{path}': {err.strerror}") from err
    with file:
        try:
            data = file.read()
        except OSError as err:
            raise ConfigError(f"Cannot read config file: {err.strerror}") from err
    return parse_config(data, path)
