"""The two shapes of chardev configuration, checked with QEMU's error texts.

* QAPI data, as ``chardev-add`` sends it: each backend declares its members
  (:class:`Member`), and :func:`check_members` checks a JSON object against
  them — missing, wrongly typed and unexpected members, named by their full
  path (``backend.data.addr.data.path``).  ``SocketAddressLegacy`` and
  ``ChardevBackend`` are "simple unions" (``{"type": T, "data": {...}}``):
  :class:`LegacyUnion`.
* ``-chardev`` options, as strings: one table of the keys QEMU's ``chardev``
  option group accepts, whatever the backend (:data:`CHARDEV_OPTS`), checked
  by :func:`check_opts`, and read by the typed getters ``opt_*``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pyqemu.qom.property import BOOL, INT, STR, UINT16, ValueKind
from pyqemu.util.cutils import invalid_parameter_type, parse_size, parse_uint
from pyqemu.util.errors import ConfigError

# -- QAPI data -------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One member of a QAPI struct: a scalar kind, a nested struct or a simple union."""

    kind: ValueKind | Mapping[str, Member] | LegacyUnion
    required: bool = False


@dataclass(frozen=True)
class LegacyUnion:
    """A QAPI simple union: ``{"type": NAME, "data": {...}}``; ``variants`` maps NAME to members.

    ``variants`` may be a function, for a union whose branches are found on demand.
    """

    variants: Mapping[str, Mapping[str, Member]] | Callable[[str], Mapping[str, Member] | None]

    def branch(self, name: str) -> Mapping[str, Member] | None:
        if callable(self.variants):
            return self.variants(name)
        return self.variants.get(name)


def _type_error(path: str, expected: str) -> ConfigError:
    return invalid_parameter_type(path, expected)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def check_members(value: Any, members: Mapping[str, Member], path: str) -> dict[str, Any]:
    """Check a JSON object against ``members`` in schema order, as QEMU's input visitor does."""
    if not isinstance(value, dict):
        raise _type_error(path, "object")
    checked: dict[str, Any] = {}
    for name, member in members.items():
        full = _join(path, name)
        if name not in value:
            if member.required:
                raise ConfigError(f"Parameter '{full}' is missing")
            continue
        checked[name] = check_value(value[name], member, full)
    for name in value:
        if name not in members:
            raise ConfigError(f"Parameter '{_join(path, name)}' is unexpected")
    return checked


def check_value(value: Any, member: Member, path: str) -> Any:
    """Check one member's value; structs and unions recursively."""
    kind = member.kind
    if isinstance(kind, ValueKind):
        return kind.from_json(value, path)
    if isinstance(kind, LegacyUnion):
        return check_union(value, kind, path)
    return check_members(value, kind, path)


def check_union(value: Any, union: LegacyUnion, path: str) -> dict[str, Any]:
    """Check ``{"type": ..., "data": {...}}``; QEMU names a bad type without its path."""
    if not isinstance(value, dict):
        raise _type_error(path, "object")
    if "type" not in value:
        raise ConfigError(f"Parameter '{_join(path, 'type')}' is missing")
    name = STR.from_json(value["type"], _join(path, "type"))
    branch = union.branch(name)
    if branch is None:
        raise ConfigError(f"Parameter 'type' does not accept value '{name}'")
    if "data" not in value:
        raise ConfigError(f"Parameter '{_join(path, 'data')}' is missing")
    data = check_members(value["data"], branch, _join(path, "data"))
    for key in value:
        if key not in ("type", "data"):
            raise ConfigError(f"Parameter '{_join(path, key)}' is unexpected")
    return {"type": name, "data": data}


def _opt(kind: ValueKind) -> Member:
    return Member(kind)


def _req(kind: ValueKind) -> Member:
    return Member(kind, required=True)


#: ChardevCommon: the members every backend has.
COMMON_MEMBERS: Mapping[str, Member] = {"logfile": _opt(STR), "logappend": _opt(BOOL)}

#: SocketAddressLegacy, the ``addr`` of a socket chardev.
SOCKET_ADDRESS_LEGACY = LegacyUnion({
    "inet": {
        "host": _req(STR), "port": _req(STR), "numeric": _opt(BOOL), "to": _opt(UINT16),
        "ipv4": _opt(BOOL), "ipv6": _opt(BOOL), "keep-alive": _opt(BOOL), "mptcp": _opt(BOOL),
    },
    "unix": {"path": _req(STR), "abstract": _opt(BOOL), "tight": _opt(BOOL)},
    "vsock": {"cid": _req(STR), "port": _req(STR)},
    "fd": {"str": _req(STR)},
})

STRING_MEMBER = _req(STR)
OPTIONAL_STRING = _opt(STR)
OPTIONAL_BOOL = _opt(BOOL)
OPTIONAL_INT = _opt(INT)
REQUIRED_ADDRESS = Member(SOCKET_ADDRESS_LEGACY, required=True)

# -- -chardev options ---------------------------------------------------------

STRING, BOOLEAN, NUMBER, SIZE = "string", "bool", "number", "size"

#: Every key of QEMU 7.2's ``chardev`` option group and its type; ``id`` is apart.
CHARDEV_OPTS: Mapping[str, str] = {
    "backend": STRING, "path": STRING, "host": STRING, "port": STRING, "fd": STRING,
    "localaddr": STRING, "localport": STRING, "to": NUMBER, "ipv4": BOOLEAN, "ipv6": BOOLEAN,
    "wait": BOOLEAN, "server": BOOLEAN, "delay": BOOLEAN, "nodelay": BOOLEAN,
    "reconnect": NUMBER, "telnet": BOOLEAN, "tn3270": BOOLEAN, "tls-creds": STRING,
    "tls-authz": STRING, "websocket": BOOLEAN, "width": NUMBER, "height": NUMBER,
    "cols": NUMBER, "rows": NUMBER, "mux": BOOLEAN, "signal": BOOLEAN, "name": STRING,
    "debug": NUMBER, "size": SIZE, "chardev": STRING, "append": BOOLEAN, "logfile": STRING,
    "logappend": BOOLEAN, "mouse": BOOLEAN, "clipboard": BOOLEAN, "abstract": BOOLEAN,
    "tight": BOOLEAN,
}

SIZE_HINT = (
    "Optional suffix k, M, G, T, P or E means kilo-, mega-, giga-, tera-, peta-\n"
    "and exabytes, respectively."
)


def _parse_number(text: str) -> int | None:
    try:
        return parse_uint(text)
    except ValueError:
        return None


def _parse_size(text: str) -> int | None:
    try:
        return parse_size(text)
    except ValueError:
        return None


def _check_one(name: str, kind: str, text: str) -> None:
    if kind == BOOLEAN:
        BOOL.from_str(text, name)
    elif kind == NUMBER and _parse_number(text) is None:
        raise ConfigError(f"Parameter '{name}' expects a number")
    elif kind == SIZE and _parse_size(text) is None:
        raise ConfigError(
            f"Parameter '{name}' expects a non-negative number below 2^64", hint=SIZE_HINT
        )


def check_opts(opts: Mapping[str, str]) -> None:
    """Check ``-chardev`` options in order, as QemuOpts does while parsing them."""
    for name, text in opts.items():
        kind = CHARDEV_OPTS.get(name)
        if kind is None:
            raise ConfigError(f"Invalid parameter '{name}'")
        _check_one(name, kind, text)


def opt_bool(opts: Mapping[str, str], name: str, default: bool) -> bool:
    """A checked boolean option, or ``default`` if absent (``qemu_opt_get_bool``)."""
    text = opts.get(name)
    return default if text is None else BOOL.from_str(text, name)


def opt_number(opts: Mapping[str, str], name: str, default: int) -> int:
    """A checked number option, or ``default`` (``qemu_opt_get_number``)."""
    text = opts.get(name)
    value = None if text is None else _parse_number(text)
    return default if value is None else value


def opt_size(opts: Mapping[str, str], name: str, default: int) -> int:
    """A checked size option, or ``default`` (``qemu_opt_get_size``)."""
    text = opts.get(name)
    value = None if text is None else _parse_size(text)
    return default if value is None else value
