"""QEMU's QemuOpts: the ``name=value,...`` options most of the command line uses.

An :class:`OptsList` declares one option group (``-chardev``, ``-rtc``,
``-m`` …): its name, the key a leading bare value stands for, whether
repeated uses merge into one instance, and the parameters it knows (none
means "any key; checked later").  An :class:`OptsStore` belongs to one
running emulator and holds the :class:`Opts` instances parsed so far, as
QEMU's lists do (``util/qemu-option.c``).

The syntax differs from :mod:`.keyval` in ways users rely on, so it is kept::

    socket,id=c0,path=/tmp/a,,b   backend=socket, id=c0, path=/tmp/a,b
    base=utc,nofoo                foo=off, with a deprecation warning
    base=utc,help                 a help request (groups with declared parameters)

A bare ``foo``/``nofoo`` means ``foo=on``/``foo=off`` and is deprecated; the
warning is handed back to the caller.  ``id=`` names an instance and must be
an identifier; ids are unique within a group.  Values are checked against
their declared type when parsed; unknown keys are refused when the group
declares its parameters.  On error the store is left unchanged.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from pyqemu.util.cutils import (
    SIZE_HINT,
    InvalidNumberError,
    NumberRangeError,
    ParseWarning,
    check_id,
    invalid_parameter_value,
    parse_bool_param,
    parse_size,
    parse_uint,
)
from pyqemu.util.errors import ConfigError
from pyqemu.util.keyval import is_help_option, read_escaped_value

ID_KEY = "id"
NEGATION_PREFIX = "no"

OptValue = str | bool | int


class OptType(enum.Enum):
    """The type of a declared parameter, which decides how its value is checked."""

    STRING = "str"
    BOOL = "bool"
    NUMBER = "num"
    SIZE = "size"


@dataclass(frozen=True)
class OptDesc:
    """One declared parameter of a group: name, type, help text, default as a string."""

    name: str
    type: OptType = OptType.STRING
    help: str = ""
    default_str: str | None = None


@dataclass(frozen=True)
class OptsList:
    """The declaration of one option group; no ``descs`` means any key is accepted."""

    name: str
    implied_key: str | None = None
    merge_lists: bool = False
    descs: tuple[OptDesc, ...] = ()

    @property
    def accepts_any(self) -> bool:
        """Whether keys are not checked here (the group's user checks them)."""
        return not self.descs

    def find_desc(self, name: str) -> OptDesc | None:
        """The declaration of parameter ``name``, if any."""
        return next((desc for desc in self.descs if desc.name == name), None)


def _typed_value(name: str, value: str, opt_type: OptType, warnings: list[ParseWarning]) -> OptValue:
    """Check ``value`` against ``opt_type``; ConfigError with QEMU's text if it does not fit."""
    try:
        if opt_type is OptType.BOOL:
            return parse_bool_param(name, value)
        if opt_type is OptType.NUMBER:
            return parse_uint(value)
        if opt_type is OptType.SIZE:
            return parse_size(value, warnings=warnings)
    except NumberRangeError:
        verb = "is too large for" if opt_type is OptType.NUMBER else "is out of range for"
        raise ConfigError(f"Value '{value}' {verb} parameter '{name}'") from None
    except InvalidNumberError:
        if opt_type is OptType.NUMBER:
            raise invalid_parameter_value(name, "a number") from None
        raise invalid_parameter_value(name, "a non-negative number below 2^64", SIZE_HINT) from None
    return value


def _sink(warnings: list[ParseWarning] | None) -> list[ParseWarning]:
    """Where to put warnings: the caller's list, or a throwaway one."""
    return warnings if warnings is not None else []


@dataclass(frozen=True)
class _Opt:
    name: str
    text: str
    value: OptValue


@dataclass(eq=False)
class Opts:
    """One instance of a group: an optional id and its ``name=value`` pairs, in order.

    A name may occur more than once; the last occurrence counts.
    ``location`` names where it came from (``-chardev socket,id=c0``, or
    ``file.cfg:3``) for errors reported later, as QEMU's saved location does.
    """

    group: OptsList
    id: str | None = None
    location: str | None = None
    _opts: list[_Opt] = field(default_factory=list)

    def _check(self, name: str, value: str, warnings: list[ParseWarning]) -> _Opt:
        desc = self.group.find_desc(name)
        if desc is None:
            if not self.group.accepts_any:
                raise ConfigError(f"Invalid parameter '{name}'")
            return _Opt(name, value, value)
        return _Opt(name, value, _typed_value(name, value, desc.type, warnings))

    def set(self, name: str, value: str, warnings: list[ParseWarning] | None = None) -> None:
        """Add ``name=value`` after checking it, as ``qemu_opt_set``."""
        self._opts.append(self._check(name, value, _sink(warnings)))

    def do_parse(self, text: str, implied_key: str | None = None) -> None:
        """Add the options of ``text`` after checking them, as ``qemu_opts_do_parse``.

        Unlike :meth:`OptsStore.parse`, ``id`` keys are skipped, a bare
        ``help`` is just a key, and bare flags bring no deprecation warning.
        On error nothing is added.
        """
        elements = _elements(text, implied_key)
        self._opts.extend([self._check(e.name, e.value, []) for e in elements if e.name != ID_KEY])

    def items(self) -> list[tuple[str, str]]:
        """Every ``(name, value)`` pair as given, in order, repeats included."""
        return [(opt.name, opt.text) for opt in self._opts]

    def _find(self, name: str) -> _Opt | None:
        return next((opt for opt in reversed(self._opts) if opt.name == name), None)

    def _default(self, name: str) -> str | None:
        desc = self.group.find_desc(name)
        return desc.default_str if desc else None

    def __contains__(self, name: str) -> bool:
        return self._find(name) is not None

    def get(self, name: str, default: str | None = None) -> str | None:
        """The value of ``name`` as written, else its declared default, else ``default``."""
        opt = self._find(name)
        if opt is not None:
            return opt.text
        declared = self._default(name)
        return declared if declared is not None else default

    def _get_typed(self, name: str, opt_type: OptType, default: OptValue) -> OptValue:
        opt = self._find(name)
        if opt is not None and not isinstance(opt.value, str):
            return opt.value
        text = opt.text if opt is not None else self._default(name)
        return default if text is None else _typed_value(name, text, opt_type, [])

    def get_bool(self, name: str, default: bool) -> bool:
        """``name`` as a boolean (on/off …); ConfigError if it is not one."""
        value = self._get_typed(name, OptType.BOOL, default)
        assert isinstance(value, bool)
        return value

    def get_number(self, name: str, default: int) -> int:
        """``name`` as an unsigned number (decimal, 0x hex, 0 octal)."""
        value = self._get_typed(name, OptType.NUMBER, default)
        assert isinstance(value, int)
        return value

    def get_size(self, name: str, default: int) -> int:
        """``name`` as a size in bytes (``4096``, ``1.5G``)."""
        value = self._get_typed(name, OptType.SIZE, default)
        assert isinstance(value, int)
        return value

    def pop(self, name: str, default: str | None = None) -> str | None:
        """Like :meth:`get`, then remove every occurrence (``qemu_opt_get_del``)."""
        value = self.get(name, default)
        self._opts = [opt for opt in self._opts if opt.name != name]
        return value

    def has_help_option(self) -> bool:
        """Whether a ``help`` or ``?`` key was given (groups that accept any key)."""
        return any(is_help_option(opt.name) for opt in self._opts)

    def to_dict(self) -> dict[str, str]:
        """The id and the last value of each name, as ``qemu_opts_to_qdict``."""
        values = {ID_KEY: self.id} if self.id is not None else {}
        values.update(self.items())
        return values


class _Element(NamedTuple):
    name: str
    value: str
    flag_prefix: str | None  # None: written name=value; "" or "no": a bare flag


def _elements(text: str, implied_key: str | None) -> Iterator[_Element]:
    """Split ``text`` into elements; ``implied_key`` names a bare first value."""
    pos = 0
    while pos < len(text):
        end = pos
        while end < len(text) and text[end] not in "=,":
            end += 1
        if text.startswith("=", end):
            name = text[pos:end]
            value, end = read_escaped_value(text, end + 1)
            element = _Element(name, value, None)
        elif implied_key is not None:
            value, end = read_escaped_value(text, pos)
            element = _Element(implied_key, value, None)
        elif text.startswith(NEGATION_PREFIX, pos):
            element = _Element(text[pos + len(NEGATION_PREFIX) : end], "off", NEGATION_PREFIX)
        else:
            element = _Element(text[pos:end], "on", "")
        yield element
        implied_key = None
        pos = end + 1 if end < len(text) else end


def _flag_warning(element: _Element) -> ParseWarning:
    assert element.flag_prefix is not None
    if element.name == "delay":  # the inverted spelling of socket's nodelay
        hint = f"Please use nodelay={'on' if element.flag_prefix else 'off'} instead"
    else:
        hint = f"Please use {element.name}={element.value} instead"
    return ParseWarning(f"short-form boolean option '{element.flag_prefix}{element.name}' deprecated", hint)


def _is_help(element: _Element) -> bool:
    return element.flag_prefix == "" and is_help_option(element.name)


def _scan_id(text: str) -> str | None:
    """The first ``id`` in ``text`` (a bare ``id`` counts too, as in QEMU)."""
    return next((e.value for e in _elements(text, None) if e.name == ID_KEY), None)


class ParseResult(NamedTuple):
    """What :meth:`OptsStore.parse` produced: the instance, or else a help request."""

    opts: Opts | None
    help: bool


class OptsStore:
    """The option instances of one emulator, by group, in the order they were created."""

    def __init__(self, lists: Iterable[OptsList] = ()):
        self._lists: dict[str, OptsList] = {}
        self._instances: dict[str, list[Opts]] = {}
        for opts_list in lists:
            self.add_list(opts_list)

    def add_list(self, opts_list: OptsList) -> None:
        """Make group ``opts_list`` known to this store."""
        self._lists[opts_list.name] = opts_list
        self._instances.setdefault(opts_list.name, [])

    def find_list(self, name: str) -> OptsList:
        """The group called ``name``; ConfigError as QEMU's when there is none."""
        opts_list = self._lists.get(name)
        if opts_list is None:
            raise ConfigError(f"There is no option group '{name}'")
        return opts_list

    def all(self, name: str) -> list[Opts]:
        """Every instance of group ``name``, oldest first."""
        self.find_list(name)
        return list(self._instances[name])

    def find(self, name: str, opts_id: str | None = None) -> Opts | None:
        """The instance of group ``name`` with id ``opts_id`` (None: the one without an id)."""
        return next((o for o in self.all(name) if o.id == opts_id), None)

    def singleton(self, name: str) -> Opts:
        """The instance of group ``name`` without an id, created empty if needed."""
        return self.find(name) or self._add(self._new(name, None, None))

    def delete(self, opts: Opts) -> None:
        """Forget ``opts``."""
        self._instances[opts.group.name].remove(opts)

    def _new(self, name: str, opts_id: str | None, location: str | None) -> Opts:
        """A fresh instance of group ``name``, or the one to merge into; not yet stored."""
        opts_list = self.find_list(name)
        if opts_list.merge_lists:
            if opts_id is not None:
                raise ConfigError(f"Invalid parameter '{ID_KEY}'")
            return self.find(name) or Opts(opts_list, None, location)
        if opts_id is not None:
            check_id(opts_id, ID_KEY)
            if self.find(name, opts_id) is not None:
                raise ConfigError(f"Duplicate ID '{opts_id}' for {name}")
        return Opts(opts_list, opts_id, location)

    def _add(self, opts: Opts) -> Opts:
        instances = self._instances[opts.group.name]
        if opts not in instances:
            instances.append(opts)
        return opts

    def create(self, name: str, opts_id: str | None = None, location: str | None = None) -> Opts:
        """A new instance of group ``name`` (for a merging group: the existing one).

        ConfigError for an id that is malformed, already used, or given to a
        merging group.
        """
        return self._add(self._new(name, opts_id, location))

    def parse(
        self,
        name: str,
        text: str,
        location: str | None = None,
        *,
        permit_abbrev: bool = True,
        warnings: list[ParseWarning] | None = None,
    ) -> ParseResult:
        """Parse an option argument of group ``name``, as ``qemu_opts_parse_noisily``.

        With ``permit_abbrev`` a bare first value stands for the group's
        implied key.  A bare ``help``/``?`` asks for help when the group
        declares its parameters (otherwise it is kept as a key, see
        :meth:`Opts.has_help_option`); nothing is stored then.  Deprecation
        warnings are appended to ``warnings`` in the order QEMU prints them,
        also when an error follows.
        """
        opts_list = self.find_list(name)
        opts = self._new(name, _scan_id(text), location)
        implied = opts_list.implied_key if permit_abbrev else None
        warnings = _sink(warnings)
        checked: list[_Opt] = []
        for element in _elements(text, implied):
            if element.flag_prefix is not None and not _is_help(element):
                warnings.append(_flag_warning(element))
            if _is_help(element) and not opts_list.accepts_any:
                return ParseResult(None, True)
            if element.name != ID_KEY:
                checked.append(opts._check(element.name, element.value, warnings))
        opts._opts.extend(checked)
        return ParseResult(self._add(opts), False)

    def from_dict(
        self,
        name: str,
        values: Mapping[str, str],
        location: str | None = None,
        *,
        warnings: list[ParseWarning] | None = None,
    ) -> Opts:
        """Make an instance from a ``-readconfig`` section (its ``id`` key names it)."""
        opts = self._new(name, values.get(ID_KEY), location)
        sink = _sink(warnings)
        checked = [opts._check(k, v, sink) for k, v in values.items() if k != ID_KEY]
        opts._opts.extend(checked)
        return self._add(opts)
