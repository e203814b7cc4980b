"""Table statistics: the OFPST_TABLE reply, and OVS's way of printing tables.

Each ``TableStats`` entry holds a table's counters and, in OpenFlow 1.0-1.2
where the reply also describes the table, its features as they are on the
wire: name, match/wildcard bitmaps (OpenFlow 1.0 wildcard bits, 1.1 match
field bits, 1.2 OXM field bits), instruction and action bitmaps, config,
metadata masks and size.  OpenFlow 1.3 moved features to their own message,
so its entries are counters only.

``format_tables`` is OVS's ``ofputil_table_features_format``: tables whose
counters and features equal the previous table's collapse into "ditto"
runs, features are compared with the previous table ("same instructions"),
and field sets are abbreviated (``eth_{src,dst}``, ``reg0...reg3``) as
OVS's ``print_names`` does.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from .action_bitmap import format_action_bitmap
from .codec import Body, FormatContext, list_codec
from .errors import OFError, OFPErr
from .fields import FIELD_BY_NAME, FIELDS
from .msgtable import Raw

OFP10_TABLE_STATS: Final = struct.Struct("!B3x32sIIIQQ")
"""table_id, name, wildcards, max_entries, active_count, lookup_count, matched_count."""
OFP11_TABLE_STATS: Final = struct.Struct("!B7x32sIIIIIIIIQQ")
"""table_id, name, wildcards, match, instructions, write_actions, apply_actions,
config, max_entries, active_count, lookup_count, matched_count."""
OFP12_TABLE_STATS: Final = struct.Struct("!B7x32sQQIIQQQQIIIIQQ")
"""table_id, name, match, wildcards, write_actions, apply_actions,
write_setfields, apply_setfields, metadata_match, metadata_write, instructions,
config, max_entries, active_count, lookup_count, matched_count."""
OFP13_TABLE_STATS: Final = struct.Struct("!B3xIQQ")
"""table_id, active_count, lookup_count, matched_count."""
_LAYOUTS: Final = {1: OFP10_TABLE_STATS, 2: OFP11_TABLE_STATS, 3: OFP12_TABLE_STATS}

# Wildcard/match bits -> field, for OpenFlow 1.0 and 1.1 (OVS's maps).
OF10_FIELD_BITS: Final = ((1 << 0, "in_port"), (1 << 1, "vlan_vid"), (1 << 2, "eth_src"),
                          (1 << 3, "eth_dst"), (1 << 4, "eth_type"), (1 << 5, "nw_proto"),
                          (1 << 6, "tcp_src"), (1 << 7, "tcp_dst"), (0x3F << 8, "ip_src"),
                          (0x3F << 14, "ip_dst"), (1 << 20, "vlan_pcp"), (1 << 21, "nw_tos"))
OF11_FIELD_BITS: Final = ((1 << 0, "in_port"), (1 << 1, "vlan_vid"), (1 << 2, "vlan_pcp"),
                          (1 << 3, "eth_type"), (1 << 4, "nw_tos"), (1 << 5, "nw_proto"),
                          (1 << 6, "tcp_src"), (1 << 7, "tcp_dst"), (1 << 8, "mpls_label"),
                          (1 << 9, "mpls_tc"), (1 << 11, "eth_src"), (1 << 12, "eth_dst"),
                          (1 << 13, "ip_src"), (1 << 14, "ip_dst"), (1 << 15, "metadata"))
# Instruction bits (OpenFlow 1.1-1.5 numbering) -> OVS instruction type.
INSTRUCTION_BITS: Final = {1: 5, 2: 4, 3: 3, 4: 1, 5: 2, 6: 0}
INSTRUCTION_NAMES: Final = ("meter", "apply_actions", "clear_actions", "write_actions",
                            "write_metadata", "goto_table")
MISS_NAMES: Final = {0: "controller", 1: "continue", 2: "drop"}


@dataclass(frozen=True, slots=True)
class TableStats:
    """One table in a table stats reply; the feature fields as on the wire."""

    table_id: int
    active_count: int = 0
    lookup_count: int = 0
    matched_count: int = 0
    name: str = ""
    wildcards: int = 0
    match: int = 0
    instructions: int = 0
    write_actions: int = 0
    apply_actions: int = 0
    write_setfields: int = 0
    apply_setfields: int = 0
    metadata_match: int = 0
    metadata_write: int = 0
    config: int = 0
    max_entries: int = 0


@dataclass(frozen=True, slots=True)
class TableStatsReply(Body):
    """OFPST_TABLE reply."""

    tables: tuple[TableStats, ...] = ()


def _name(raw: bytes) -> str:
    end = raw.find(b"\0")
    return (raw if end < 0 else raw[:end])[:31].decode("latin-1")


def _pull_table(version: int, raw: Raw, b: memoryview, pos: int) -> tuple[TableStats, int]:
    layout = _LAYOUTS.get(version, OFP13_TABLE_STATS)
    if len(b) - pos < layout.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "leftover bytes in table stats reply")
    v = layout.unpack_from(b, pos)
    if version >= 4:
        t = TableStats(v[0], v[1], v[2], v[3])
    elif version == 1:
        t = TableStats(v[0], v[4], v[5], v[6], _name(v[1]), wildcards=v[2], max_entries=v[3])
    elif version == 2:
        t = TableStats(v[0], v[9], v[10], v[11], _name(v[1]), v[2], v[3], v[4], v[5], v[6],
                       config=v[7], max_entries=v[8])
    else:
        t = TableStats(v[0], v[13], v[14], v[15], _name(v[1]), v[3], v[2], v[10], v[4], v[5],
                       v[6], v[7], v[8], v[9], v[11], v[12])
    return t, pos + layout.size


def _encode(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, TableStatsReply)
    out = b""
    for t in body.tables:
        name = t.name.encode("latin-1")[:31].ljust(32, b"\0")
        if version >= 4:
            out += OFP13_TABLE_STATS.pack(t.table_id, t.active_count, t.lookup_count,
                                          t.matched_count)
        elif version == 1:
            out += OFP10_TABLE_STATS.pack(t.table_id, name, t.wildcards, t.max_entries,
                                          t.active_count, t.lookup_count, t.matched_count)
        elif version == 2:
            out += OFP11_TABLE_STATS.pack(
                t.table_id, name, t.wildcards, t.match, t.instructions, t.write_actions,
                t.apply_actions, t.config, t.max_entries, t.active_count, t.lookup_count,
                t.matched_count)
        else:
            out += OFP12_TABLE_STATS.pack(
                t.table_id, name, t.match, t.wildcards, t.write_actions, t.apply_actions,
                t.write_setfields, t.apply_setfields, t.metadata_match, t.metadata_write,
                t.instructions, t.config, t.max_entries, t.active_count, t.lookup_count,
                t.matched_count)
    return out


# --- features, as OVS derives and compares them -------------------------------------

@dataclass(frozen=True, slots=True)
class _Features:
    name: str
    match: frozenset[int]
    wildcard: frozenset[int]
    instructions: int
    write_actions: int
    apply_actions: int
    write_setfields: frozenset[int]
    apply_setfields: frozenset[int]
    metadata_match: int
    metadata_write: int
    miss: str
    max_entries: int
    version: int

    @property
    def empty(self) -> bool:
        return not (self.match or self.instructions or self.write_actions
                    or self.apply_actions or self.write_setfields or self.apply_setfields
                    or self.metadata_match or self.metadata_write or self.miss
                    or self.max_entries)

    def same_as(self, other: _Features) -> bool:
        return (self.match, self.instructions, self.write_actions, self.apply_actions,
                self.write_setfields, self.apply_setfields, self.metadata_match,
                self.metadata_write, self.miss, self.max_entries) == (
            other.match, other.instructions, other.write_actions, other.apply_actions,
            other.write_setfields, other.apply_setfields, other.metadata_match,
            other.metadata_write, other.miss, other.max_entries)


def _bits_to_fields(bits: int, table: Iterable[tuple[int, str]]) -> frozenset[int]:
    return frozenset(FIELD_BY_NAME[name].id for bit, name in table if bits & bit)


def _oxm_fields(bitmap: int) -> frozenset[int]:
    """OVS ``oxm_bitmap_to_mf_bitmap`` for OpenFlow 1.2."""
    out = set()
    for f in FIELDS:
        code = f.code_for(3)
        if (code is not None and code.version and code.version <= 3
                and code.oxm_class == 0x8000 and code.field < 64 and bitmap >> code.field & 1):
            out.add(f.id)
    return frozenset(out)


def _instructions(bits: int) -> int:
    return sum(1 << ovs for bit, ovs in INSTRUCTION_BITS.items() if bits >> bit & 1 and bit != 6)


def _features(t: TableStats, version: int) -> _Features:
    if version == 1:
        fields = _bits_to_fields(t.wildcards, OF10_FIELD_BITS)
        return _Features(t.name, fields, fields, 0, 0, 0, frozenset(), frozenset(), 0, 0, "",
                         t.max_entries, version)
    if version == 2:
        wildcard = _bits_to_fields(t.wildcards, OF11_FIELD_BITS)
        match = _bits_to_fields(t.match, OF11_FIELD_BITS) | wildcard
        # (sic) OVS reads the apply actions from write_actions here.
        return _Features(t.name, match, wildcard, _instructions(t.instructions),
                         t.write_actions, t.write_actions, frozenset(), frozenset(), 0, 0,
                         MISS_NAMES.get(t.config & 3, "controller"), t.max_entries, version)
    if version == 3:
        wildcard = _oxm_fields(t.wildcards)
        match = _oxm_fields(t.match) | wildcard
        return _Features(t.name, match, wildcard, _instructions(t.instructions),
                         t.write_actions, t.apply_actions, _oxm_fields(t.write_setfields),
                         _oxm_fields(t.apply_setfields), t.metadata_match, t.metadata_write,
                         MISS_NAMES.get(t.config & 3, "controller"), t.max_entries, version)
    return _Features("", frozenset(), frozenset(), 0, 0, 0, frozenset(), frozenset(), 0, 0,
                     "", 0, version)


def _common_prefix(a: str, b: str) -> int:
    """Length of the common prefix of ``a`` and ``b`` ending in ``_``."""
    n = 0
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            break
        if x == "_":
            n = i + 1
    return n


def _sequential(a: str, b: str) -> bool:
    i = 0
    while i < len(a) and i < len(b) and a[i] == b[i]:
        i += 1
    if i == len(a) == len(b):
        return False
    ra, rb = a[i:], b[i:]
    return (ra.isdigit() and rb.isdigit() and len(ra) < 10 and len(rb) < 10
            and int(ra) + 1 == int(rb))


def print_names(ids: list[str], prefix_len: int = 0) -> str:
    """OVS ``print_names``: ``eth_{src,dst}``, ``reg0...reg3``."""
    out = ""
    group = 0
    while ids:
        if group:
            out += "," if prefix_len else " "
        group += 1
        extra = 0
        prefix_run = 1 if len(ids) >= 2 else len(ids)
        if len(ids) >= 2:
            extra = _common_prefix(ids[0][prefix_len:], ids[1][prefix_len:])
            if extra:
                i = 2
                while i < len(ids) and _common_prefix(ids[0][prefix_len:], ids[i][prefix_len:]):
                    i += 1
                prefix_run = i
        suffix_run = 1
        while suffix_run < len(ids) and _sequential(ids[suffix_run - 1], ids[suffix_run]):
            suffix_run += 1
        if suffix_run == 2:
            suffix_run = 1
        run = max(prefix_run, suffix_run)
        if suffix_run >= prefix_run:
            out += ids[0][prefix_len:] + (f"...{ids[run - 1][prefix_len:]}" if run > 1 else "")
        else:
            out += ids[0][prefix_len:prefix_len + extra] + "{"
            out += print_names(ids[:run], prefix_len + extra) + "}"
        ids = ids[run:]
    return out


def _field_names(ids: frozenset[int]) -> str:
    return " " + print_names([FIELDS[i].name for i in sorted(ids)]) if ids else ""


def _action_features(actions: int, setfields: frozenset[int], version: int) -> str:
    text = ""
    if actions:
        text += "        actions: " + format_action_bitmap(actions, version) + "\n"
    if setfields:
        text += "        supported on Set-Field:" + _field_names(setfields) + "\n"
    return text


def _instruction_text(f: _Features, prev: _Features | None) -> str:
    text = ""
    if f.instructions:
        if prev is not None and f.instructions == prev.instructions:
            text += "      (same instructions)\n"
        else:
            text += "      instructions: " + " ".join(
                INSTRUCTION_NAMES[i] for i in range(6) if f.instructions >> i & 1) + "\n"
    write = (f.write_actions, f.write_setfields)
    apply = (f.apply_actions, f.apply_setfields)
    if (prev is not None and write == (prev.write_actions, prev.write_setfields)
            and apply == (prev.apply_actions, prev.apply_setfields) and f.write_setfields):
        text += "      (same actions)\n"
    elif write != apply:
        text += "      Write-Actions features:\n" + _action_features(*write, f.version)
        text += "      Apply-Actions features:\n" + _action_features(*apply, f.version)
    elif f.write_actions or f.write_setfields:
        text += ("      Write-Actions and Apply-Actions features:\n"
                 + _action_features(*write, f.version))
    return text


def _matching(f: _Features) -> str:
    text = "    matching:\n"
    exact_or_wild = f.match & f.wildcard
    must_exact = f.match - f.wildcard
    if exact_or_wild:
        text += "      exact match or wildcard:" + _field_names(exact_or_wild) + "\n"
    if must_exact:
        text += "      must exact match:" + _field_names(must_exact) + "\n"
    return text


def format_tables(tables: tuple[TableStats, ...], version: int) -> str:
    """OVS ``ofputil_table_features_format`` over a table stats reply, dittos and all."""
    text = ""
    first = last = -1
    prev_t: TableStats | None = None
    prev_f: _Features | None = None
    for t in tables:
        f = _features(t, version)
        same_stats = prev_t is not None and (t.active_count, t.lookup_count,
                                             t.matched_count) == (
            prev_t.active_count, prev_t.lookup_count, prev_t.matched_count)
        same_features = prev_f is not None and f.same_as(prev_f)
        prev_t, prev_f_saved = t, prev_f
        prev_f = f
        if same_stats and same_features and not f.name:
            first = t.table_id if first < 0 else first
            last = t.table_id
            continue
        text += _ditto(first, last)
        first = -1
        text += f"\n  table {t.table_id}" + (f' ("{f.name}")' if f.name else "") + ":"
        if same_stats and same_features:
            text += " ditto"
            continue
        text += (f"\n    active={t.active_count}, lookup={t.lookup_count}, "
                 f"matched={t.matched_count}\n")
        if same_features:
            text += "" if f.empty else "    (same features)\n"
            continue
        if f.metadata_match or f.metadata_write:
            text += (f"    metadata: match={_hex(f.metadata_match)} "
                     f"write={_hex(f.metadata_write)}\n")
        if f.miss:
            text += f"    config={f.miss}\n"
        if f.max_entries:
            text += f"    max_entries={f.max_entries}\n"
        prev = prev_f_saved
        if prev is not None and (f.instructions, f.write_actions, f.apply_actions,
                                 f.write_setfields, f.apply_setfields) == (
                prev.instructions, prev.write_actions, prev.apply_actions,
                prev.write_setfields, prev.apply_setfields):
            if f.instructions or f.write_actions or f.write_setfields:
                text += "    (same instructions)\n"
        elif f.instructions or f.write_actions or f.apply_actions or f.write_setfields \
                or f.apply_setfields:
            text += "    instructions (table miss and others):\n" + _instruction_text(f, prev)
        if f.match:
            if prev is not None and f.match == prev.match:
                text += "    (same matching)\n"
            else:
                text += _matching(f)
    return text + _ditto(first, last)


def _hex(value: int) -> str:
    return f"0x{value:x}" if value else "0"


def _ditto(first: int, last: int) -> str:
    if first < 0:
        return ""
    if first == last:
        return f"\n  table {first}: ditto\n"
    return f"\n  tables {first}...{last}: ditto\n"


def _format(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, TableStatsReply)
    return format_tables(body.tables, ctx.version)


CODECS: Final = {
    name: list_codec(_pull_table, TableStatsReply, _encode, _format)
    for name in ("OFPST10_TABLE_REPLY", "OFPST11_TABLE_REPLY", "OFPST12_TABLE_REPLY",
                 "OFPST13_TABLE_REPLY")
}

DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {
    TableStatsReply: lambda v: {1: "OFPST10_TABLE_REPLY", 2: "OFPST11_TABLE_REPLY",
                                3: "OFPST12_TABLE_REPLY"}.get(v, "OFPST13_TABLE_REPLY"),
}
