"""The iteration order of OVS's ``shash``, to report errors in OVS's order.

When a request has several problems, ovsdb-server reports the first one it
meets, and it meets them while walking hash tables: a row's columns as they
came in the JSON object, a table schema's columns, an object's unexpected
members.  The walk order is that of OVS's ``hmap``: bucket by bucket
(``hash & mask``), newest node first within a bucket, with the table
doubling as it fills.  The hash is ``hash_string`` (murmur3 steps over
little-endian 32-bit words) as built for generic x86-64, the Debian build.

``shash_order(names)`` replays the insertions and returns the names in the
order OVS would visit them.  It is cached, because the same column lists
come back on every request.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

_M = 0xFFFFFFFF


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M


def _mhash_add(h: int, data: int) -> int:
    if data:
        data = (data * 0xCC9E2D51) & _M
        data = _rot(data, 15)
        data = (data * 0x1B873593) & _M
        h ^= data
    h = _rot(h, 13)
    return (h * 5 + 0xE6546B64) & _M


def _mhash_finish(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M
    h ^= h >> 16
    return h


def hash_string(s: str, basis: int = 0) -> int:
    """OVS's ``hash_string`` (``hash_bytes`` over the UTF-8 bytes)."""
    data = s.encode("utf-8")
    h = basis
    n = len(data)
    full = n - n % 4
    for i in range(0, full, 4):
        h = _mhash_add(h, int.from_bytes(data[i:i + 4], "little"))
    if n % 4:
        h = _mhash_add(h, int.from_bytes(data[full:], "little"))
    return _mhash_finish(h ^ n)


def _calc_mask(capacity: int) -> int:
    mask = capacity // 2
    for shift in (1, 2, 4, 8, 16, 32):
        mask |= mask >> shift
    mask |= (mask & 1) << 1
    return mask


@lru_cache(maxsize=4096)
def shash_order(names: tuple[str, ...]) -> tuple[str, ...]:
    """``names`` (distinct, in insertion order) in OVS's SHASH_FOR_EACH order."""
    mask = 0
    buckets: list[list[tuple[int, str]]] = [[]]
    for n, name in enumerate(names, 1):
        h = hash_string(name)
        buckets[h & mask].insert(0, (h, name))
        if n // 2 > mask:
            new_mask = _calc_mask(n)
            if new_mask > mask:
                new: list[list[tuple[int, str]]] = [[] for _ in range(new_mask + 1)]
                for bucket in buckets:
                    for node in bucket:
                        new[node[0] & new_mask].insert(0, node)
                buckets, mask = new, new_mask
    return tuple(name for bucket in buckets for _, name in bucket)


def ovs_object(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with its members in the order ovsdb-server would serialise them."""
    return {k: obj[k] for k in shash_order(tuple(obj))}
