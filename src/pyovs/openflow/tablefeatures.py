"""OFPST_TABLE_FEATURES replies as Open vSwitch builds them (OpenFlow 1.3+).

A switch answers an empty table-features request with one
``ofp13_table_features`` entry per table.  ovs-ofctl asks for it before
most commands in OpenFlow 1.3 and later when it is given a bridge name, to
learn table names (``get_table_map``), and fails when the reply is not
one, so a switch that speaks 1.3 must send it.

What OVS says about its tables is fixed by its build (``ofproto.c``
``query_tables``): every table matches every field that has an NXM/OXM
code, with a mask where the field is maskable; the set-field properties list
the writable ones; every instruction and every action with a standard
OFPAT code is supported, in table-miss and other flows alike; each table
may go to any later table (the last one has no ``goto_table``).  The
fields come from ``fields.FIELDS`` in OVS's ``mf_field_id`` order, each
with the header OVS uses in the reply's version (``Field.code_for``), the
actions from ``action_bitmap``.  Properties are laid out as
``ofputil_append_table_features`` does (``ofpprop_put_bitmap`` for the
bitmaps: one 4-byte header per set bit; each property padded to 8 bytes).

``table_features_parts`` splits the entries into multipart bodies as
``ofpmp_postappend`` does: an entry that would take a message past 65535
bytes starts the next one.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Final

from .action_bitmap import action_bits
from .fields import FIELDS

__all__ = ["table_features_entry", "table_features_parts", "table_stats_features"]

_ENTRY: Final = struct.Struct("!HBB4x32sQQII")
assert _ENTRY.size == 64
MULTIPART_HEADER: Final = 16
"""ofp_header plus the multipart type and flags and 4 pad bytes."""
MAX_MESSAGE: Final = 0xFFFF

# enum ofp13_table_feature_prop_type
INSTRUCTIONS, NEXT_TABLES, WRITE_ACTIONS, APPLY_ACTIONS = 0, 2, 4, 6
MATCH, WILDCARDS, WRITE_SETFIELD, APPLY_SETFIELD = 8, 10, 12, 14
MISS: Final = 1
"""Added to a property type for its table-miss twin."""

OFPIT_GOTO_TABLE, OFPIT_METER = 1, 6
OFPTC14_EVICTION, OFPTC14_VACANCY_EVENTS = 4, 8


def _prop(ptype: int, payload: bytes) -> bytes:
    """One property: header, payload, zero padding to 8 bytes (not counted in len)."""
    length = 4 + len(payload)
    return struct.pack("!HH", ptype, length) + payload + bytes(-length % 8)


def _bitmap(ptype: int, bits: Iterable[int]) -> bytes:
    return _prop(ptype, b"".join(struct.pack("!HH", bit, 4) for bit in sorted(bits)))


@lru_cache(maxsize=8)
def _field_headers(version: int) -> tuple[bytes, bytes, bytes]:
    """(match, wildcards, set-field) property payloads for ``version``."""
    match, wild, write = [], [], []
    for f in FIELDS:
        if not f.codes:
            continue
        code = f.code_for(version)
        assert code is not None
        plain = code.header().to_bytes(8, "big")[:code.header_len]
        match.append(code.header(True).to_bytes(8, "big")[:code.header_len]
                     if f.maskable else plain)
        wild.append(plain)
        if f.writable:
            write.append(plain)
    return b"".join(match), b"".join(wild), b"".join(write)


def _instructions(version: int, last: bool) -> list[int]:
    bits = [1, 2, 3, 4, 5]
    if version in (4, 5):  # OVS get_ovsinst_map: meter is an instruction in 1.3 and 1.4
        bits.append(OFPIT_METER)
    if last:
        bits.remove(OFPIT_GOTO_TABLE)
    return bits


@lru_cache(maxsize=1024)
def _properties(version: int, n_tables: int, table_id: int) -> bytes:
    match, wild, write = _field_headers(version)
    actions = sorted(action_bits(version))
    last = table_id == n_tables - 1
    out = []
    for miss in (0, MISS):
        out.append(_bitmap(INSTRUCTIONS + miss, _instructions(version, last)))
        out.append(_prop(NEXT_TABLES + miss, bytes(range(table_id + 1, n_tables))))
        out.append(_bitmap(WRITE_ACTIONS + miss, actions))
        out.append(_prop(WRITE_SETFIELD + miss, write))
        out.append(_bitmap(APPLY_ACTIONS + miss, actions))
        out.append(_prop(APPLY_SETFIELD + miss, write))
    out.append(_prop(MATCH, match))
    out.append(_prop(WILDCARDS, wild))
    return b"".join(out)


def table_features_entry(version: int, table_id: int, n_tables: int, name: str = "",
                         max_entries: int = 1_000_000) -> bytes:
    """One ``ofp13_table_features`` with OVS's properties (see the module comment)."""
    props = _properties(version, n_tables, table_id)
    return _ENTRY.pack(_ENTRY.size + len(props), table_id, 0, name.encode()[:31],
                       (1 << 64) - 1, (1 << 64) - 1, 0, max_entries) + props


def table_features_parts(version: int, n_tables: int,
                         names: Mapping[int, str] | None = None,
                         max_entries: Mapping[int, int] | None = None) -> list[bytes]:
    """The bodies of the multipart reply for tables ``0..n_tables-1``."""
    parts: list[bytes] = []
    current = bytearray()
    for table_id in range(n_tables):
        entry = table_features_entry(version, table_id, n_tables,
                                     (names or {}).get(table_id, ""),
                                     (max_entries or {}).get(table_id, 1_000_000))
        if current and MULTIPART_HEADER + len(current) + len(entry) > MAX_MESSAGE:
            parts.append(bytes(current))
            current = bytearray()
        current += entry
    parts.append(bytes(current))
    return parts


# The same features as the OpenFlow 1.0-1.2 table statistics carry them
# (``ofputil_append_table_stats_reply``): wire bitmaps of the fields, actions
# and instructions above in each version's terms.  They are fixed by OVS's
# build, so they are written out here; tests/interop/test_vswitchd_ofctl.py
# checks them byte for byte against the real switch.
_OF11_INSTRUCTIONS: Final = 0x3E  # goto_table .. clear_actions (bits 1-5)
_TABLE_STATS_FEATURES: Final[dict[int, dict[str, int]]] = {
    1: {"wildcards": 0x3FFFFF},
    2: {"wildcards": 0xFBFF, "match": 0xFBFF, "instructions": _OF11_INSTRUCTIONS,
        "write_actions": 0x1FFE7FF, "apply_actions": 0x1FFE7FF},
    3: {"match": 0x101FFFFFFFFD, "wildcards": 0x101FFFFFFFFD,
        "write_actions": 0x3FF8001, "apply_actions": 0x3FF8001,
        "write_setfields": 0xFFFFFFBDD, "apply_setfields": 0xFFFFFFBDD,
        "metadata_match": (1 << 64) - 1, "metadata_write": (1 << 64) - 1,
        "instructions": _OF11_INSTRUCTIONS},
}


def table_stats_features(version: int, last: bool) -> dict[str, int]:
    """``TableStats`` feature fields for ``version`` 1-3 (the last table has no goto)."""
    out = dict(_TABLE_STATS_FEATURES[version])
    if last and "instructions" in out:
        out["instructions"] &= ~(1 << OFPIT_GOTO_TABLE)
    return out
