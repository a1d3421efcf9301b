"""QEMU's KEY=VALUE,... syntax for the options that use it (``util/keyval.c``).

In QEMU 7.2 ``-machine``/``-M``, ``-smp``, ``-boot``, ``-audiodev``,
``-blockdev``, ``-display`` and ``-compat`` are read this way (``-object``,
``-device`` and most others still use QemuOpts, see :mod:`.qemuopts`)::

    type=pc,accel=kvm            {"type": "pc", "accel": "kvm"}
    pc,accel=kvm                 the same, with implied key "type"
    path=a,,b                    {"path": "a,b"}: ",," is a comma in a value
    numa.node.0=x,numa.node.1=y  {"numa": {"node": ["x", "y"]}}

Every leaf is a string; QAPI visitors convert them later.  A key is made of
fragments separated by dots: the first is a QAPI-style name, the others a
name or a list index.  If a key is given twice the later value wins.  An
element that is exactly ``help`` or ``?`` asks for help.

:func:`keyval_merge` folds one tree into another (repeated ``-M``, or a
``[machine]`` section of ``-readconfig``) and :func:`keyval_crumple` turns
the flat ``a.b.c`` keys of a config file section into a tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple, Union

from pyqemu.util.cutils import InvalidNumberError, parse_int
from pyqemu.util.errors import ConfigError

KeyvalValue = Union[str, "KeyvalDict", list["KeyvalValue"]]
KeyvalDict = dict[str, KeyvalValue]

HELP_WORDS = frozenset({"help", "?"})
KEY_FRAGMENT_MAX = 127  # longest key fragment QEMU accepts
_INT_MAX = 2**31 - 1  # list indexes are capped here, as in QEMU
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
_PREFIX_CHARS = (_NAME_CHARS - {"_"}) | {"."}
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGIT_CHARS = frozenset("0123456789")
QDICT_BUCKETS = 512
_UINT32 = 0xFFFFFFFF


class KeyvalResult(NamedTuple):
    """What :func:`keyval_parse` found: the tree, and whether help was asked for."""

    values: KeyvalDict
    help: bool


def _qdict_hash(key: str) -> int:
    """The hash QEMU's QDict files a key under (the "tdb" string hash)."""
    data = key.encode("utf-8", "surrogateescape")
    value = (0x238F13AF * len(data)) & _UINT32
    for index, byte in enumerate(data):
        value = (value + (byte << (index * 5 % 24))) & _UINT32
    return (1103515243 * value + 12345) & _UINT32


def qdict_order(keys: Iterable[str]) -> list[str]:
    """The order in which QEMU walks a QDict whose keys were added in the given order.

    QEMU applies the members of a dict (config file sections, ``-M``
    properties) and reports the first bad one in this order, not in the
    order they were written: bucket by bucket, newest first in a bucket.
    """
    buckets: dict[int, list[str]] = {}
    for key in dict.fromkeys(keys):
        buckets.setdefault(_qdict_hash(key) % QDICT_BUCKETS, []).insert(0, key)
    return [key for bucket in sorted(buckets) for key in buckets[bucket]]


def is_help_option(text: str) -> bool:
    """Whether ``text`` asks for help (``help`` or ``?``)."""
    return text in HELP_WORDS


def _name_length(text: str, pos: int) -> int:
    """Length of the QAPI name at ``text[pos:]`` (``__RFQDN_`` prefix allowed), 0 if none."""
    start = pos
    if text.startswith("_", pos):
        if not text.startswith("__", pos):
            return 0
        pos += 2
        while pos < len(text) and text[pos] in _PREFIX_CHARS:
            pos += 1
        if not text.startswith("_", pos):
            return 0
        pos += 1
    if pos >= len(text) or text[pos] not in _LETTERS:
        return 0
    pos += 1
    while pos < len(text) and text[pos] in _NAME_CHARS:
        pos += 1
    return pos - start


def _index_length(text: str, pos: int) -> int:
    end = pos
    while end < len(text) and text[end] in _DIGIT_CHARS:
        end += 1
    return end - pos


def _key_index(key: str) -> int:
    """The list index a whole key stands for, or -1 when it is not all digits."""
    if not key or _index_length(key, 0) != len(key):
        return -1
    return min(int(key), _INT_MAX)


def _put(node: KeyvalDict, name: str, value: str | None, shown_key: str) -> KeyvalValue:
    """Map ``name`` in ``node`` to ``value``, or to a dict when ``value`` is None."""
    old = node.get(name)
    if old is not None:
        if not isinstance(old, dict if value is None else str):
            raise ConfigError(f"Parameters '{shown_key}.*' used inconsistently")
        if value is None:
            return old
    node[name] = {} if value is None else value
    return node[name]


def _walk_key(dest: KeyvalDict, key: str) -> tuple[KeyvalDict, str]:
    """Check ``key`` fragment by fragment, making the dicts it goes through.

    Returns the dict that holds the last fragment, and that fragment.  As in
    QEMU, a fragment becomes a dict once the fragment after it is found
    valid, so a clash can be reported before a bad fragment further on.
    """
    node, pos, parent = dest, 0, 0
    while True:
        length = _index_length(key, pos) if pos else 0
        length = length or _name_length(key, pos)
        end = pos + length
        if not length or (end < len(key) and key[end] != "."):
            raise ConfigError(f"Invalid parameter '{key}'")
        if length > KEY_FRAGMENT_MAX:
            kind = "Parameter" if pos == 0 and end == len(key) else "Parameter fragment"
            raise ConfigError(f"{kind} '{key[pos:end]}' is too long")
        if pos:
            child = _put(node, key[parent : pos - 1], None, key[: pos - 1])
            assert isinstance(child, dict)
            node = child
        if end == len(key):
            return node, key[pos:]
        parent, pos = pos, end + 1


def read_escaped_value(text: str, pos: int) -> tuple[str, int]:
    """The value at ``text[pos:]`` up to a single comma, ``,,`` read as a comma.

    Returns the value and the index of the comma that ends it (or the end).
    QemuOpts reads values the same way.
    """
    chars: list[str] = []
    while pos < len(text):
        if text[pos] == ",":
            if not text.startswith(",,", pos):
                break
            pos += 1
        chars.append(text[pos])
        pos += 1
    return "".join(chars), pos


def _parse_element(dest: KeyvalDict, text: str, pos: int, implied_key: str | None) -> tuple[int, bool]:
    """Parse the element at ``pos`` into ``dest``; the next position and whether it was help."""
    end = pos
    while end < len(text) and text[end] not in "=,":
        end += 1
    if end > pos and not text.startswith("=", end):
        word = text[pos:end]
        next_pos = end + 1 if end < len(text) else end
        if is_help_option(word):
            return next_pos, True
        if implied_key is not None:
            node, name = _walk_key(dest, implied_key)
            _put(node, name, word, implied_key)
            return next_pos, False
    key = text[pos:end]
    node, name = _walk_key(dest, key)
    if not text.startswith("=", end):
        raise ConfigError(f"Expected '=' after parameter '{key}'")
    value, end = read_escaped_value(text, end + 1)
    _put(node, name, value, key)
    return min(end + 1, len(text)), False


def _listify(node: KeyvalDict, path: str) -> KeyvalDict | list[KeyvalValue]:
    """Turn every dict whose keys are all list indexes into a list, innermost first."""
    has_index = has_member = False
    for name in qdict_order(node):
        child = node[name]
        if _key_index(name) >= 0:
            has_index = True
        else:
            has_member = True
        if isinstance(child, dict):
            node[name] = _listify(child, f"{path}{name}.")
    if has_index and has_member:
        raise ConfigError(f"Parameters '{path}*' used inconsistently")
    if not has_index:
        return node
    slots: list[KeyvalValue | None] = [None] * (len(node) + 1)
    highest = -1
    for name, child in node.items():
        index = _key_index(name)
        highest = max(highest, index)
        if index < len(slots) - 1:
            slots[index] = child
    items: list[KeyvalValue] = []
    for index in range(min(len(slots), highest + 1)):
        item = slots[index]
        if item is None:
            raise ConfigError(f"Parameter '{path}{index}' missing")
        items.append(item)
    return items


def keyval_parse_into(
    dest: KeyvalDict, text: str, implied_key: str | None = None, *, allow_help: bool = True
) -> bool:
    """Parse ``text`` into ``dest`` (later keys override), as repeated ``-M`` does.

    ``implied_key`` names the value of a first element written without ``=``.
    Returns whether help was asked for; with ``allow_help=False`` that is an
    error instead.  Raises ConfigError with QEMU's text on bad syntax.
    """
    pos, wants_help = 0, False
    while pos < len(text):
        pos, is_help = _parse_element(dest, text, pos, implied_key)
        wants_help = wants_help or is_help
        implied_key = None
    if wants_help and not allow_help:
        raise ConfigError("Help is not available for this option")
    _listify(dest, "")
    return wants_help


def keyval_parse(text: str, implied_key: str | None = None, *, allow_help: bool = True) -> KeyvalResult:
    """Parse ``text`` into a new tree; see :func:`keyval_parse_into`."""
    values: KeyvalDict = {}
    wants_help = keyval_parse_into(values, text, implied_key, allow_help=allow_help)
    return KeyvalResult(values, wants_help)


def _copy(value: KeyvalValue) -> KeyvalValue:
    if isinstance(value, dict):
        return {name: _copy(child) for name, child in value.items()}
    if isinstance(value, list):
        return [_copy(child) for child in value]
    return value


def keyval_merge(dest: KeyvalDict, src: Mapping[str, KeyvalValue], _path: str = "") -> None:
    """Fold ``src`` into ``dest``: strings replace, dicts merge, lists are appended to.

    ConfigError "Parameter 'a.b' used inconsistently" when a key is a string
    in one tree and a dict or list in the other.
    """
    for name, value in src.items():
        old = dest.get(name)
        if old is not None and type(old) is not type(value):
            raise ConfigError(f"Parameter '{_path}{name}' used inconsistently")
        if isinstance(old, dict) and isinstance(value, dict):
            keyval_merge(old, value, f"{_path}{name}.")
        elif isinstance(old, list) and isinstance(value, list):
            old.extend(_copy(item) for item in value)
        else:
            dest[name] = _copy(value)


def _split_flat_key(key: str) -> tuple[str, str | None]:
    """Split at the first single dot (``..`` stands for a dot in the prefix)."""
    pos = key.find(".")
    while pos >= 0 and key.startswith("..", pos):
        pos = key.find(".", pos + 2)
    if pos < 0:
        return key.replace("..", "."), None
    return key[:pos].replace("..", "."), key[pos + 1 :]


def _strtoi64_whole(text: str) -> int | None:
    """``qemu_strtoi64(text, NULL, 10)``: the number, or None when it is not one."""
    try:
        value = parse_int(text, 10)
    except InvalidNumberError:
        return None
    return value if _INT64_MIN <= value <= _INT64_MAX else None


def _as_list(node: dict[str, KeyvalValue]) -> KeyvalDict | list[KeyvalValue]:
    indexes = [_strtoi64_whole(name) for name in qdict_order(node)]
    is_list = bool(indexes) and indexes[0] is not None
    if any((index is not None) != is_list for index in indexes):
        raise ConfigError("Cannot mix list and non-list keys")
    if not is_list:
        return node
    highest = max(index for index in indexes if index is not None)
    if len(indexes) != highest + 1:
        raise ConfigError(
            f"List indices are not contiguous, saw {len(indexes)} elements but {highest} largest index"
        )
    items: list[KeyvalValue] = []
    for index in range(len(node)):
        if str(index) not in node:
            raise ConfigError(f"Missing list index {index}")
        items.append(node[str(index)])
    return items


def keyval_crumple(flat: Mapping[str, str]) -> KeyvalDict | list[KeyvalValue]:
    """Turn flat dotted keys into a tree, as QEMU's ``qdict_crumple`` does.

    Used for ``-readconfig`` sections of keyval groups: unlike
    :func:`keyval_parse` keys are not checked, ``..`` escapes a dot, and
    numeric keys (``a.0``, ``a.1``) become lists.
    """
    two_level: dict[str, str | dict[str, str]] = {}
    for key in qdict_order(flat):
        value = flat[key]
        prefix, suffix = _split_flat_key(key)
        child = two_level.get(prefix)
        if child is not None and (not isinstance(child, dict) or suffix is None):
            raise ConfigError("Cannot mix scalar and non-scalar keys")
        if suffix is None:
            two_level[prefix] = value
        else:
            two_level.setdefault(prefix, {})[suffix] = value  # type: ignore[index]
    tree: dict[str, KeyvalValue] = {}
    for name in qdict_order(two_level):
        child = two_level[name]
        tree[name] = keyval_crumple(child) if isinstance(child, dict) else child
    return _as_list(tree)
