"""The order in which QEMU's hash tables hand out their keys.

Which error QEMU reports, when a request has several faults, depends on the
order it walks a JSON object's members, and that is the iteration order of
the hash table holding them, not the order the client wrote them:

* a ``QDict`` (``qobject/qdict.c``) puts each key in one of 512 buckets
  chosen by the gdbm/tdb string hash; a bucket is a list with the newest key
  first; iteration goes bucket by bucket.  QMP request members
  (``execute``, ``exec-oob``, ``arguments``, ``id``, unknown ones) are
  checked in this order, and QEMU writes its JSON replies in it.
* the QObject input visitor keeps a command's not-yet-visited arguments in a
  GLib ``GHashTable`` (open addressing, quadratic probing, prime modulus,
  in-place rehash on resize); "Parameter 'x' is unexpected" names the first
  key left in that table.  :class:`GHashTableOrder` replays GLib 2.74's
  table with the same hash function, so the same key is named.

Keys are encoded as QEMU stores them: UTF-8, with U+0000 as ``C0 80``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

QDICT_BUCKET_MAX = 512
_U32 = 0xFFFFFFFF

_GHASH_MIN_SHIFT = 3
_GHASH_UNUSED = 0
_GHASH_TOMBSTONE = 1
# GLib's prime modulus per table size (the largest prime below 1 << shift).
_GHASH_PRIME_MOD = (
    1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093, 8191, 16381, 32749,
    65521, 131071, 262139, 524287, 1048573, 2097143, 4194301, 8388593, 16777213,
    33554393, 67108859, 134217689, 268435399, 536870909, 1073741789, 2147483647,
)


def qemu_key_bytes(key: str) -> bytes:
    """``key`` as QEMU holds it in memory: modified UTF-8 (NUL as C0 80)."""
    return key.encode("utf-8", "surrogatepass").replace(b"\x00", b"\xc0\x80")


def tdb_hash(key: bytes) -> int:
    """The string hash QDict uses to pick a bucket."""
    value = (0x238F13AF * len(key)) & _U32
    for i, byte in enumerate(key):
        value = (value + (byte << (i * 5 % 24))) & _U32
    return (1103515243 * value + 12345) & _U32


def qdict_order(keys: Iterable[str]) -> list[str]:
    """The keys, inserted in the order given, in QDict iteration order."""
    buckets: dict[int, list[str]] = {}
    for key in keys:
        buckets.setdefault(tdb_hash(qemu_key_bytes(key)) % QDICT_BUCKET_MAX, []).insert(0, key)
    return [key for bucket in sorted(buckets) for key in buckets[bucket]]


def g_str_hash(key: bytes) -> int:
    """GLib's ``g_str_hash`` (djb2 over *signed* chars)."""
    value = 5381
    for byte in key:
        signed = byte - 256 if byte >= 0x80 else byte
        value = (value * 33 + signed) & _U32
    return value


class GHashTableOrder:
    """A string-keyed GLib hash table reduced to what decides iteration order."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        self._set_shift(_GHASH_MIN_SHIFT)
        self._hashes = [_GHASH_UNUSED] * self._size
        self._keys: list[str | None] = [None] * self._size
        self._nnodes = 0
        self._noccupied = 0
        for key in keys:
            self.insert(key)

    def _set_shift(self, shift: int) -> None:
        self._size = 1 << shift
        self._mod = _GHASH_PRIME_MOD[shift]
        self._mask = self._size - 1

    def _index(self, hash_value: int) -> int:
        return (hash_value * 11 & _U32) % self._mod

    def _lookup(self, key: str) -> tuple[int, int]:
        """Slot holding ``key``, else the slot an insertion would use; and the hash."""
        hash_value = g_str_hash(qemu_key_bytes(key))
        if hash_value < 2:
            hash_value = 2
        index = self._index(hash_value)
        tombstone = None
        step = 0
        while self._hashes[index] != _GHASH_UNUSED:
            node_hash = self._hashes[index]
            if node_hash == hash_value and self._keys[index] == key:
                return index, hash_value
            if node_hash == _GHASH_TOMBSTONE and tombstone is None:
                tombstone = index
            step += 1
            index = (index + step) & self._mask
        return (index if tombstone is None else tombstone), hash_value

    def insert(self, key: str) -> None:
        """Add ``key`` (a no-op when present), resizing as GLib would."""
        index, hash_value = self._lookup(key)
        old = self._hashes[index]
        if old >= 2:
            return
        self._hashes[index] = hash_value
        self._keys[index] = key
        self._nnodes += 1
        if old == _GHASH_UNUSED:
            self._noccupied += 1
            self._maybe_resize()

    def remove(self, key: str) -> None:
        """Remove ``key`` (leaving a tombstone), resizing as GLib would."""
        index, _ = self._lookup(key)
        if self._hashes[index] < 2:
            return
        self._hashes[index] = _GHASH_TOMBSTONE
        self._keys[index] = None
        self._nnodes -= 1
        self._maybe_resize()

    def __iter__(self) -> Iterator[str]:
        """Keys in ``GHashTableIter`` order."""
        return (k for h, k in zip(self._hashes, self._keys, strict=True) if h >= 2 and k is not None)

    def _maybe_resize(self) -> None:
        size, occupied = self._size, self._noccupied
        too_sparse = size > self._nnodes * 4 and size > 1 << _GHASH_MIN_SHIFT
        if too_sparse or size <= occupied + occupied // 16:
            self._resize()

    def _resize(self) -> None:
        """Rehash in place with GLib's eviction scheme (the resulting order depends on it)."""
        old_size = self._size
        shift = max(int(self._nnodes * 1.333).bit_length(), _GHASH_MIN_SHIFT)
        self._set_shift(shift)
        if self._size > old_size:
            self._hashes += [_GHASH_UNUSED] * (self._size - old_size)
            self._keys += [None] * (self._size - old_size)
        placed = [False] * max(self._size, old_size)
        for i in range(old_size):
            node_hash = self._hashes[i]
            if node_hash < 2:
                self._hashes[i] = _GHASH_UNUSED
                continue
            if placed[i]:
                continue
            self._hashes[i] = _GHASH_UNUSED
            key, self._keys[i] = self._keys[i], None
            while True:
                index = self._index(node_hash)
                step = 0
                while placed[index]:
                    step += 1
                    index = (index + step) & self._mask
                placed[index] = True
                replaced = self._hashes[index]
                self._hashes[index] = node_hash
                if replaced < 2:
                    self._keys[index] = key
                    break
                node_hash = replaced
                key, self._keys[index] = self._keys[index], key
        del self._hashes[self._size:], self._keys[self._size:]
        self._noccupied = self._nnodes


def first_unvisited(keys: Iterable[str], visited: Iterable[str]) -> str | None:
    """The key QEMU names as unexpected after visiting ``visited`` members.

    ``keys`` are the object's members in QDict order (see :func:`qdict_order`).
    """
    table = GHashTableOrder(keys)
    for key in visited:
        table.remove(key)
    return next(iter(table), None)
