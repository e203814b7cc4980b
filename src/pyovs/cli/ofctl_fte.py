"""Flow tables as ovs-ofctl compares them: ``diff-flows``, ``replace-flows``, ``--sort``.

``diff-flows A B`` and ``replace-flows SWITCH FILE`` read two sets of flows
(from files or switches) into one table of *flow table entries* (OVS's
``struct fte``): an entry is a rule -- OpenFlow table, priority and match --
holding up to two *versions* (cookie, timeouts, importance, actions), one
from each side.  An entry with one version exists on one side only; one
whose versions differ (``fte_version_equals``: flags are ignored because a
switch cannot report them, actions are compared as text) has changed.

The order entries come out in is what ``diff-flows`` prints and the order
``replace-flows`` sends its flow mods in, so it follows OVS's classifier
(``CLS_FOR_EACH``): OpenFlow tables in number order; within a table, the
*subtables* -- rules grouped by their mask -- by their highest priority,
highest first, ties in the order the subtables were created (OVS sorts its
priority vector with a stable sort); within a subtable, rules in the order
they were first inserted (a rule read again from the other side keeps its
place).

``flow_sort_key``/``sort_flows`` are ``dump-flows --sort/--rsort``
(``compare_flows``): each criterion is the priority or a field; a flow
without the field (its prerequisites unmet or the field wildcarded) sorts
after every flow with it, whichever the direction; ties keep the switch's
order.

Everything here is pure: the commands in ``ofctl_flows`` do the I/O.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from pyovs.cli.cmdline import Fatal
from pyovs.openflow.act_text import format_actions
from pyovs.openflow.actions import ActionList, FmtCtx
from pyovs.openflow.fields import FIELD_BY_NAME
from pyovs.openflow.fieldtypes import Field
from pyovs.openflow.match import Match
from pyovs.openflow.match_text import format_match
from pyovs.openflow.msg_flow import Command, FlowFlags, FlowMod
from pyovs.openflow.msg_flowstats import FlowStats

__all__ = [
    "Fte", "FteTable", "FteVersion", "SortCriterion", "sort_criterion", "sort_flows",
    "version_from_flow_mod", "version_from_stats",
]

OFPTT_ALL = 0xFF
OFP_FLOW_PERMANENT = 0


@dataclass(frozen=True, slots=True)
class FteVersion:
    """One side's version of a flow table entry (OVS ``struct fte_version``)."""

    cookie: int
    idle_timeout: int
    hard_timeout: int
    importance: int
    flags: FlowFlags
    """Only send_flow_rem/emerg, from a file; a switch's flows have none."""
    actions: ActionList
    table_id: int

    def equals(self, other: FteVersion) -> bool:
        """``fte_version_equals``: flags ignored, actions compared as text."""
        return (self.cookie == other.cookie and self.idle_timeout == other.idle_timeout
                and self.hard_timeout == other.hard_timeout
                and self.importance == other.importance and self.table_id == other.table_id
                and (self.actions == other.actions
                     or format_actions(self.actions, FmtCtx())
                     == format_actions(other.actions, FmtCtx())))


def version_from_flow_mod(fm: FlowMod) -> FteVersion:
    """A flow read from a file (``read_flows_from_file``)."""
    flags = fm.flags & (FlowFlags.SEND_FLOW_REM | FlowFlags.EMERG)
    return FteVersion(fm.new_cookie, fm.idle_timeout, fm.hard_timeout, fm.importance,
                      FlowFlags(flags), fm.actions,
                      fm.table_id if fm.table_id != OFPTT_ALL else 0)


def version_from_stats(fs: FlowStats) -> FteVersion:
    """A flow read from a switch (``read_flows_from_switch``)."""
    return FteVersion(fs.cookie, fs.idle_timeout, fs.hard_timeout, fs.importance,
                      FlowFlags(0), fs.actions, fs.table_id)


@dataclass(slots=True)
class Fte:
    """A rule and its two versions (OVS ``struct fte``)."""

    priority: int
    match: Match
    versions: list[FteVersion | None] = field(default_factory=lambda: [None, None])

    def differs(self) -> bool:
        a, b = self.versions
        return a is None or b is None or not a.equals(b)

    def format(self, index: int, port_names: Mapping[int, str] | None = None) -> str:
        """``fte_version_format``: the version's line (with its newline), or ""."""
        v = self.versions[index]
        if v is None:
            return ""
        text = f"table={v.table_id} " if v.table_id else ""
        text += format_match(self.match, self.priority, port_names)
        if v.cookie:
            text += f" cookie=0x{v.cookie:x}"
        if v.idle_timeout != OFP_FLOW_PERMANENT:
            text += f" idle_timeout={v.idle_timeout}"
        if v.hard_timeout != OFP_FLOW_PERMANENT:
            text += f" hard_timeout={v.hard_timeout}"
        if v.importance:
            text += f" importance={v.importance}"
        names = dict(port_names) if port_names else None
        return text + " actions=" + format_actions(v.actions, FmtCtx(names)) + "\n"

    def flow_mod(self, index: int, command: int) -> FlowMod:
        """``fte_make_flow_mod``: the flow mod that installs or removes version ``index``."""
        v = self.versions[index]
        assert v is not None
        with_actions = command in (Command.ADD, Command.MODIFY, Command.MODIFY_STRICT)
        return FlowMod(command=command, match=self.match, priority=self.priority,
                       actions=v.actions if with_actions else (), new_cookie=v.cookie,
                       table_id=v.table_id, idle_timeout=v.idle_timeout,
                       hard_timeout=v.hard_timeout, importance=v.importance, flags=v.flags)


@dataclass(slots=True)
class _Subtable:
    max_priority: int
    created: int
    rules: list[tuple[int, Match]] = field(default_factory=list)


def _mask_of(match: Match) -> tuple[tuple[str, int], ...]:
    return tuple((slot, mask) for slot, _, mask in match)


class FteTable:
    """Flow table entries of both sides, iterated in OVS's classifier order."""

    def __init__(self) -> None:
        self._entries: dict[tuple[int, int, Match], Fte] = {}
        self._subtables: dict[int, dict[tuple[tuple[str, int], ...], _Subtable]] = {}

    def insert(self, match: Match, priority: int, version: FteVersion, index: int) -> None:
        """``fte_insert``: set version ``index`` of the rule, creating it if new."""
        key = (version.table_id, priority, match)
        fte = self._entries.get(key)
        if fte is None:
            fte = self._entries[key] = Fte(priority, match)
            subtables = self._subtables.setdefault(version.table_id, {})
            mask = _mask_of(match)
            sub = subtables.get(mask)
            if sub is None:
                sub = subtables[mask] = _Subtable(priority, len(subtables))
            sub.max_priority = max(sub.max_priority, priority)
            sub.rules.append((priority, match))
        fte.versions[index] = version

    def __iter__(self) -> Iterator[Fte]:
        for table_id in sorted(self._subtables):
            subs = sorted(self._subtables[table_id].values(),
                          key=lambda s: (-s.max_priority, s.created))
            for sub in subs:
                for priority, match in sub.rules:
                    yield self._entries[(table_id, priority, match)]

    def diff(self, port_names: Mapping[int, str] | None = None) -> str:
        """``diff-flows`` output: "-" lines for side 0, "+" lines for side 1."""
        out = []
        for fte in self:
            if fte.differs():
                a, b = fte.format(0, port_names), fte.format(1, port_names)
                if a:
                    out.append("-" + a)
                if b:
                    out.append("+" + b)
        return "".join(out)

    def replace_mods(self, readd: bool) -> list[FlowMod]:
        """``replace-flows``: per table, deletions of switch-only flows, then
        additions of new or changed flows (all of the file's with ``--readd``)."""
        mods: list[FlowMod] = []
        by_table: dict[int, list[Fte]] = {}
        for fte in self:
            v = fte.versions[0] or fte.versions[1]
            assert v is not None
            by_table.setdefault(v.table_id, []).append(fte)
        for ftes in by_table.values():
            for fte in ftes:
                if fte.versions[1] is not None and fte.versions[0] is None:
                    mods.append(fte.flow_mod(1, Command.DELETE_STRICT))
            for fte in ftes:
                file_v, sw_v = fte.versions
                if file_v is not None and (readd or sw_v is None or not sw_v.equals(file_v)):
                    mods.append(fte.flow_mod(0, Command.ADD))
        return mods


# --- dump-flows --sort / --rsort ---------------------------------------------------

@dataclass(frozen=True, slots=True)
class SortCriterion:
    """One ``--sort``/``--rsort`` option: a field (None: priority) and a direction."""

    field: Field | None
    descending: bool


def sort_criterion(name: str | None, descending: bool) -> SortCriterion:
    """``add_sort_criterion``: ``Fatal`` "NAME: unknown field name" for a bad field."""
    if not name or name.lower() == "priority":
        return SortCriterion(None, descending)
    f = FIELD_BY_NAME.get(name)
    if f is None:
        raise Fatal(f"{name}: unknown field name")
    return SortCriterion(f, descending)


def _compare(criteria: Sequence[SortCriterion], a: FlowStats, b: FlowStats) -> int:
    for c in criteria:
        if c.field is None:
            ret = (a.priority > b.priority) - (a.priority < b.priority)
        else:
            ab, bb = a.match.builder(), b.match.builder()
            ina = ab.prereqs_ok(c.field) and not ab.is_all_wild(c.field)
            inb = bb.prereqs_ok(c.field) and not bb.is_all_wild(c.field)
            if ina != inb:
                return -1 if ina else 1
            av, bv = ab.get_field(c.field)[0], bb.get_field(c.field)[0]
            ret = (av > bv) - (av < bv)
        if ret:
            return -ret if c.descending else ret
    return 0


def sort_flows(flows: Sequence[FlowStats], criteria: Sequence[SortCriterion]
               ) -> list[FlowStats]:
    """The flows in ``--sort``/``--rsort`` order (stable, as glibc's qsort here)."""
    def cmp(a: FlowStats, b: FlowStats) -> int:
        return _compare(criteria, a, b)

    return sorted(flows, key=functools.cmp_to_key(cmp))
