"""Table features replies (OFPMP_TABLE_FEATURES, OpenFlow 1.3+; lib/ofp-table.c).

Each ``ofp13_table_features`` entry is a table's header (id, name, metadata
masks, capabilities, size; a command in 1.5) and a property list: the
instructions, next tables, write/apply actions and write/apply set-fields a
flow may use -- each in a "miss" variant for the table-miss flow -- and the
match and wildcard fields.  ``TableFeatures`` is OVS's
``ofputil_table_features``: action types as a wire bitmap, instructions as
OVS's instruction indexes, fields as sets of field ids, and the miss
variants copied from the others when absent, as OVS does.  Decoding is
OVS's "loose" mode (what a controller uses): unknown properties, fields and
instructions are skipped, but the required properties must be there.  The
entry's bytes are kept, so a reply re-encodes unchanged.

``format_table_features`` is OVS's ``ofputil_table_features_format`` for
feature lists without statistics: tables equal to the previous one
collapse into ditto runs, and a table's next-tables set counts as equal to
its predecessor's when it only lacks its own id.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from .act_wire import pull_header
from .action_bitmap import format_action_bitmap, known_bits
from .codec import Body, FormatContext, list_codec
from .dstext import c_string
from .errors import OFError, OFPErr
from .fields import FIELDS
from .msg_table import INSTRUCTION_BITS, INSTRUCTION_NAMES, print_names
from .msgtable import Raw
from .props import pull_props

OFP13_TABLE_FEATURES: Final = struct.Struct("!HBB4x32sQQII")
"""length, table_id, command (1.5), name, metadata_match, metadata_write,
capabilities, max_entries."""
OFPTT_ALL: Final = 0xFF
OFPTC14_EVICTION: Final = 1 << 2
OFPTC14_VACANCY_EVENTS: Final = 1 << 3
COMMANDS: Final = ("replace", "modify", "enable", "disable")

(P_INSTRUCTIONS, P_INSTRUCTIONS_MISS, P_NEXT_TABLES, P_NEXT_TABLES_MISS, P_WRITE_ACTIONS,
 P_WRITE_ACTIONS_MISS, P_APPLY_ACTIONS, P_APPLY_ACTIONS_MISS, P_MATCH, _, P_WILDCARDS, _,
 P_WRITE_SETFIELD, P_WRITE_SETFIELD_MISS, P_APPLY_SETFIELD, P_APPLY_SETFIELD_MISS) = range(16)
REQUIRED: Final = sum(1 << p for p in (P_INSTRUCTIONS, P_NEXT_TABLES, P_WRITE_ACTIONS,
                                       P_APPLY_ACTIONS, P_MATCH, P_WILDCARDS,
                                       P_WRITE_SETFIELD, P_APPLY_SETFIELD))


@dataclass(frozen=True, slots=True)
class ActionFeatures:
    """Actions a flow may write or apply."""

    actions: int = 0
    """Wire action-type bitmap."""
    set_fields: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class InstructionFeatures:
    """What a flow (or the table-miss flow) may do."""

    next: frozenset[int] = frozenset()
    instructions: int = 0
    """Bits of OVS instruction indexes (``INSTRUCTION_NAMES``)."""
    write: ActionFeatures = ActionFeatures()
    apply: ActionFeatures = ActionFeatures()

    @property
    def empty(self) -> bool:
        return not (self.next or self.instructions or self.write.actions
                    or self.write.set_fields or self.apply.actions or self.apply.set_fields)


@dataclass(frozen=True, slots=True)
class TableFeatures:
    """One table's features (``struct ofputil_table_features``)."""

    table_id: int
    name: str = ""
    command: int = 0
    metadata_match: int = 0
    metadata_write: int = 0
    eviction: int = -1
    """1/0 if the table can/cannot evict (OpenFlow 1.4+), -1 when unsaid."""
    vacancy: int = -1
    max_entries: int = 0
    nonmiss: InstructionFeatures = InstructionFeatures()
    miss: InstructionFeatures = InstructionFeatures()
    match: frozenset[int] = frozenset()
    mask: frozenset[int] = frozenset()
    wildcard: frozenset[int] = frozenset()
    raw: bytes = field(default=b"", compare=False)
    """The entry as received, for re-encoding."""


@dataclass(frozen=True, slots=True)
class TableFeaturesReply(Body):
    """OFPST_TABLE_FEATURES reply."""

    tables: tuple[TableFeatures, ...] = ()


def _action_bitmap(payload: memoryview, version: int) -> int:
    """The action types listed, as a wire bitmap of the ones OVS knows.

    OVS keeps these as its own action set (``ofpact_bitmap_from_openflow``),
    so types without an OVS action do not count, in comparisons either.
    """
    bits = 0
    for t, _ in pull_props(payload, 1, 0x10000):
        if t < 32:
            bits |= 1 << t
    return bits & known_bits(version)


def _instructions(payload: memoryview) -> int:
    bits = 0
    for t, _ in pull_props(payload, 1, 0x10000):
        if t in INSTRUCTION_BITS:
            bits |= 1 << INSTRUCTION_BITS[t]
    return bits


def _next_tables(payload: memoryview) -> frozenset[int]:
    if any(t >= 255 for t in payload):
        raise OFError(OFPErr.OFPBPC_BAD_VALUE, "next table 255")
    return frozenset(payload)


def _oxms(payload: memoryview) -> tuple[frozenset[int], frozenset[int]]:
    """(exact, masked) field ids of a list of OXM headers; unknown ones skipped."""
    exact: set[int] = set()
    masked: set[int] = set()
    pos = 0
    while pos < len(payload):
        try:
            f, hasmask, _, pos = pull_header(payload, pos, len(payload))
        except OFError as e:
            if e.error is not OFPErr.OFPBMC_BAD_FIELD:
                raise
            pos += 8 if int.from_bytes(payload[pos:pos + 2], "big") == 0xFFFF else 4
            continue
        (masked if hasmask else exact).add(f.id)
    return frozenset(exact), frozenset(masked)


def _exact_only(payload: memoryview) -> frozenset[int]:
    exact, masked = _oxms(payload)
    if masked:
        raise OFError(OFPErr.OFPBMC_BAD_MASK, "masked field in a field list")
    return exact


def _pull(version: int, raw: Raw, b: memoryview, pos: int) -> tuple[TableFeatures, int]:
    if len(b) - pos < OFP13_TABLE_FEATURES.size:
        raise OFError(OFPErr.OFPBPC_BAD_LEN, "truncated table features")
    (length, table_id, command, name, md_match, md_write, caps,
     max_entries) = OFP13_TABLE_FEATURES.unpack_from(b, pos)
    if length < OFP13_TABLE_FEATURES.size or length % 8 or length > len(b) - pos:
        raise OFError(OFPErr.OFPBPC_BAD_LEN, f"table features length {length}")
    if version >= 6 and command >= len(COMMANDS):
        raise OFError(OFPErr.OFPTFFC_BAD_COMMAND, f"table features command {command}")
    if table_id == OFPTT_ALL:
        raise OFError(OFPErr.OFPTFFC_BAD_TABLE, "table features for table 255")
    props = b[pos + OFP13_TABLE_FEATURES.size:pos + length]
    ints: dict[int, int] = {}
    sets: dict[int, frozenset[int]] = {}
    exact: frozenset[int] = frozenset()
    mask: frozenset[int] = frozenset()
    seen = 0
    for t, payload in pull_props(props, 8, 0xFFFE):
        if t < 32:
            if seen >> t & 1:
                raise OFError(OFPErr.OFPTFFC_BAD_FEATURES, f"duplicate property {t}")
            seen |= 1 << t
        if t in (P_INSTRUCTIONS, P_INSTRUCTIONS_MISS):
            ints[t] = _instructions(payload)
        elif t in (P_NEXT_TABLES, P_NEXT_TABLES_MISS):
            sets[t] = _next_tables(payload)
        elif t in (P_WRITE_ACTIONS, P_WRITE_ACTIONS_MISS, P_APPLY_ACTIONS, P_APPLY_ACTIONS_MISS):
            ints[t] = _action_bitmap(payload, version)
        elif t == P_MATCH:
            exact, mask = _oxms(payload)
        elif t in (P_WILDCARDS, P_WRITE_SETFIELD, P_WRITE_SETFIELD_MISS, P_APPLY_SETFIELD,
                   P_APPLY_SETFIELD_MISS):
            sets[t] = _exact_only(payload)
    any_props = len(props) > 0
    if (seen & REQUIRED) != REQUIRED and (any_props or version < 6):
        raise OFError(OFPErr.OFPTFFC_BAD_FEATURES, "required table features missing")

    def features(miss: bool) -> InstructionFeatures:
        # A missing "miss" property means "as for other flows" (when the
        # entry has properties at all).
        def num(t: int) -> int:
            if miss and (t + 1 in ints or not any_props):
                return ints.get(t + 1, 0)
            return ints.get(t, 0)

        def ids(t: int) -> frozenset[int]:
            if miss and (t + 1 in sets or not any_props):
                return sets.get(t + 1, frozenset())
            return sets.get(t, frozenset())
        return InstructionFeatures(
            ids(P_NEXT_TABLES), num(P_INSTRUCTIONS),
            ActionFeatures(num(P_WRITE_ACTIONS), ids(P_WRITE_SETFIELD)),
            ActionFeatures(num(P_APPLY_ACTIONS), ids(P_APPLY_SETFIELD)))

    match = exact | mask
    newer = version >= 5
    return TableFeatures(
        table_id, c_string(name), command if version >= 6 else 0, md_match, md_write,
        int(bool(caps & OFPTC14_EVICTION)) if newer else -1,
        int(bool(caps & OFPTC14_VACANCY_EVENTS)) if newer else -1, max_entries,
        features(False), features(True), match, mask,
        (sets.get(P_WILDCARDS, frozenset()) | mask) & match,
        bytes(b[pos:pos + length])), pos + length


def _encode(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, TableFeaturesReply)
    return b"".join(t.raw for t in body.tables)


# --- text ---------------------------------------------------------------------------

def _names(ids: frozenset[int]) -> str:
    return " " + print_names([FIELDS[i].name for i in sorted(ids)]) if ids else ""


def _next_equal(a: frozenset[int], a_id: int, b: frozenset[int], b_id: int) -> bool:
    if b_id == a_id + 1 and b_id in a and b_id not in b:
        return a - {b_id} == b
    if a_id == b_id + 1:
        return _next_equal(b, b_id, a, a_id)
    return a == b


def _inst_equal(a: InstructionFeatures, a_id: int, b: InstructionFeatures, b_id: int) -> bool:
    return (_next_equal(a.next, a_id, b.next, b_id) and a.instructions == b.instructions
            and a.write == b.write and a.apply == b.apply)


def _features_equal(a: TableFeatures, b: TableFeatures) -> bool:
    return ((a.metadata_match, a.metadata_write, a.eviction, a.vacancy, a.max_entries, a.match)
            == (b.metadata_match, b.metadata_write, b.eviction, b.vacancy, b.max_entries,
                b.match)
            and _inst_equal(a.nonmiss, a.table_id, b.nonmiss, b.table_id)
            and _inst_equal(a.miss, a.table_id, b.miss, b.table_id))


def _action_text(a: ActionFeatures, version: int) -> str:
    text = ""
    if a.actions:
        text += "        actions: " + format_action_bitmap(a.actions, version) + "\n"
    if a.set_fields:
        text += "        supported on Set-Field:" + _names(a.set_fields) + "\n"
    return text


def _ranges(ids: frozenset[int]) -> str:
    out = []
    ordered = sorted(ids)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        out.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(out)


def _instruction_text(f: InstructionFeatures, prev: InstructionFeatures | None,
                      version: int) -> str:
    """OVS ``print_table_instruction_features``."""
    text = ""
    if f.next:
        text += "      next tables: " + _ranges(f.next) + "\n"
    if f.instructions:
        if prev is not None and f.instructions == prev.instructions:
            text += "      (same instructions)\n"
        else:
            text += "      instructions: " + " ".join(
                INSTRUCTION_NAMES[i] if i < len(INSTRUCTION_NAMES) else str(i)
                for i in range(32) if f.instructions >> i & 1) + "\n"
    if (prev is not None and f.write == prev.write and f.apply == prev.apply
            and f.write.set_fields):
        text += "      (same actions)\n"
    elif f.write != f.apply:
        text += "      Write-Actions features:\n" + _action_text(f.write, version)
        text += "      Apply-Actions features:\n" + _action_text(f.apply, version)
    elif f.write.actions or f.write.set_fields:
        text += ("      Write-Actions and Apply-Actions features:\n"
                 + _action_text(f.write, version))
    return text


def _matching(t: TableFeatures) -> str:
    text = "    matching:\n"
    for fields, title in ((t.match & t.mask & t.wildcard, "arbitrary mask"),
                          ((t.match - t.mask) & t.wildcard, "exact match or wildcard"),
                          (t.match - t.mask - t.wildcard, "must exact match")):
        if fields:
            text += f"      {title}:" + _names(fields) + "\n"
    return text


@dataclass(slots=True)
class DittoState:
    """The previous table and the open ditto run, carried across reply messages."""

    prev: TableFeatures | None = None
    first: int = -1
    last: int = -1

    def finish(self) -> str:
        """OVS ``ofputil_table_features_format_finish``."""
        if self.first < 0:
            return ""
        text = (f"\n  table {self.first}: ditto\n" if self.first == self.last
                else f"\n  tables {self.first}...{self.last}: ditto\n")
        self.first = -1
        return text


def format_table_features(t: TableFeatures, state: DittoState, version: int) -> str:
    """OVS ``ofputil_table_features_format`` without statistics."""
    prev = state.prev
    state.prev = t
    text = ""
    if prev is None and t.command != 0:
        text += "\n  command: " + (COMMANDS[t.command] if t.command < len(COMMANDS)
                                   else "***bad command***")
    same = prev is not None and _features_equal(t, prev)
    if same and not t.name:
        if state.first < 0:
            state.first = t.table_id
        state.last = t.table_id
        return text
    text += state.finish()
    text += f"\n  table {t.table_id}" + (f' ("{t.name}")' if t.name else "") + ":"
    if same:
        return text + " ditto"
    text += "\n"
    if t.metadata_match or t.metadata_write:
        text += (f"    metadata: match={_hex(t.metadata_match)} "
                 f"write={_hex(t.metadata_write)}\n")
    if t.eviction >= 0:
        text += f"    eviction: {'' if t.eviction else 'not '}supported\n"
    if t.vacancy >= 0:
        text += f"    vacancy events: {'' if t.vacancy else 'not '}supported\n"
    if t.max_entries:
        text += f"    max_entries={t.max_entries}\n"
    p_non = prev.nonmiss if prev else None
    p_miss = prev.miss if prev else None
    if (prev is not None and _inst_equal(t.nonmiss, t.table_id, prev.nonmiss, prev.table_id)
            and _inst_equal(t.miss, t.table_id, prev.miss, prev.table_id)):
        if not t.nonmiss.empty:
            text += "    (same instructions)\n"
    elif not _inst_equal(t.nonmiss, t.table_id, t.miss, t.table_id):
        text += "    instructions (other than table miss):\n"
        text += _instruction_text(t.nonmiss, p_non, version)
        text += "    instructions (table miss):\n"
        text += _instruction_text(t.miss, p_miss, version)
    elif not t.nonmiss.empty:
        text += "    instructions (table miss and others):\n"
        text += _instruction_text(t.nonmiss, p_non, version)
    if t.match:
        if prev is not None and t.match == prev.match:
            text += "    (same matching)\n"
        else:
            text += _matching(t)
    return text


def _hex(value: int) -> str:
    return f"0x{value:x}" if value else "0"


def _format(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, TableFeaturesReply)
    state = DittoState()
    text = "".join(format_table_features(t, state, ctx.version) for t in body.tables)
    return text + state.finish()


CODECS: Final = {"OFPST13_TABLE_FEATURES_REPLY": list_codec(_pull, TableFeaturesReply,
                                                            _encode, _format)}
DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {
    TableFeaturesReply: lambda v: "OFPST13_TABLE_FEATURES_REPLY",
}
