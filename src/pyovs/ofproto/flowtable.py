"""The OpenFlow flow tables of a switch: rules, flow_mod, expiry and statistics.

(The ``Rule`` itself and the helpers about what actions refer to live in
``rule``; this module re-exports them.)

This is the table half of OVS's ``ofproto/ofproto.c``, sans-IO: every
operation takes ``now`` (monotonic seconds, a float) and returns what
happened; nothing here reads a clock, sends a message or touches a
datapath.  ``FlowTables`` holds tables 0..254 (OVS's ``N_TABLES``), each a
``classifier.Classifier`` of ``Rule``s, and owns the switch's
``groups.GroupTable`` and ``meters.MeterTable`` because rules refer to both:
a flow_mod may not name a missing group or meter, and deleting a group or a
meter deletes the rules that use it.

Semantics follow OVS function by function (names in the docstrings):

* ADD replaces a rule with an identical match and priority: timeouts,
  importance and flags come from the flow_mod, counters are kept unless
  ``OFPFF_RESET_COUNTS`` (which OpenFlow 1.0/1.1 adds imply), the cookie is
  the new one unless that is all-ones.  No flow_removed for the replaced
  rule.  ``OFPFF_CHECK_OVERLAP`` refuses a new rule that overlaps one of
  equal priority (``OFPFMFC_OVERLAP``).
* MODIFY[_STRICT] changes the actions of the rules it selects (cookie
  mask filter; strict also by priority) and keeps their timeouts, flags,
  importance and creation time; the cookie changes only when the flow_mod
  carries a new one (OpenFlow 1.0 and Nicira) and counters reset only with
  ``RESET_COUNTS``.  When nothing is selected it adds a flow if the
  flow_mod has a new cookie and no cookie mask (``modify_may_add_flow``).
* DELETE[_STRICT] selects like modify plus ``out_port``/``out_group``
  (an output anywhere in the actions, nested ones included, as
  ``ofpacts_output_to_port``), over all visible tables for ``OFPTT_ALL``.
* Errors are OVS's: ``OFPBRC_BAD_TABLE_ID``, ``OFPBRC_EPERM`` (read-only
  table, or a controller matching the hidden fields ``recirc_id``/``dp_hash``),
  ``OFPBRC_BUFFER_UNKNOWN`` (a buffer id on add/modify: like OVS, pyovs
  buffers no packets, and the flow_mod is not applied), ``OFPBAC_BAD_OUT_GROUP``,
  ``OFPMMFC_INVALID_METER``, ``OFPBIC_BAD_TABLE_ID`` (goto beyond the last
  table), ``OFPFMFC_OVERLAP``, ``OFPFMFC_TABLE_FULL`` (a table's ``max_flows``;
  pyovs does not evict).

Rules are changed in place by modify and by a replacing add (OVS makes a
new ``struct rule`` and forwards the old one's statistics to it; keeping
the object keeps the caller's references valid).  ``generation`` counts
changes, so a datapath knows when its cached flows must be revalidated.

Time: ``created`` and ``modified`` are when the rule was added and last
changed by a flow_mod; ``used`` when it last matched a packet (``account``),
or when it was added if it never did (a modify keeps it).  A hard timeout
counts from ``modified`` and an idle timeout from ``used``, strictly after
(``now > modified + hard``), as ``rule_expire`` in ofproto-dpif.  Durations are reported in whole
milliseconds, as OVS's ``calc_duration``.

Beyond flow_mod: ``transaction``/``bundle`` (all or nothing, for bundle
commits), ``learn`` (the ``learn`` action's refresh-or-modify), ``add_flow``/
``delete_flow``/``flush`` (the switch's own flows), ``table_mod``,
``group_mod``/``meter_mod`` (deleting the flows that used what they delete).

Table 254 is OVS's internal table: hidden (not in ``OFPTT_ALL``
operations and table statistics) and read-only to controllers.  Rules of
priority above 0xffff are hidden rules, selected only by criteria with such
a priority.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from pyovs.openflow.actions import (
    ActionList,
    GotoTable,
    Group,
    Meter,
)
from pyovs.openflow.errors import OFError, OFPErr
from pyovs.openflow.match import Match
from pyovs.openflow.msg_flow import (
    NO_BUFFER,
    OFPG_ANY,
    OFPTT_ALL,
    Command,
    FlowFlags,
    FlowMod,
)
from pyovs.openflow.msg_flowstats import FlowStats, FlowStatsRequest
from pyovs.openflow.msg_group import GC_DELETE, OFPG_ALL, GroupMod
from pyovs.openflow.msg_stats import (
    MC_DELETE,
    MISS_DEFAULT,
    SETTING_DEFAULT,
    SETTING_OFF,
    SETTING_ON,
    MeterConfig,
    MeterMod,
    TableMod,
)
from pyovs.openflow.msg_table import TableStats
from pyovs.openflow.ports import OFPP_ANY

from .classifier import Classifier
from .groups import GroupModResult, GroupTable
from .meters import OFPM13_ALL, MeterModResult, MeterTable
from .rule import (
    ALL_ONES64,
    FF_STATE,
    N_TABLES,
    OFPROTO_EVICTION_FLAGS,
    OFPRR_DELETE,
    OFPRR_EVICTION,
    OFPRR_GROUP_DELETE,
    OFPRR_HARD_TIMEOUT,
    OFPRR_IDLE_TIMEOUT,
    OFPRR_METER_DELETE,
    TBL_INTERNAL,
    UINT16_MAX,
    Rule,
    RuleState,
    age_secs,
    calc_duration,
    conjunctions,
    flattened,
    outputs_to_group,
    outputs_to_port,
    referenced,
)

__all__ = [
    "ALL_ONES64", "N_TABLES", "OFPROTO_EVICTION_FLAGS", "OFPRR_DELETE", "OFPRR_EVICTION",
    "OFPRR_GROUP_DELETE", "OFPRR_HARD_TIMEOUT", "OFPRR_IDLE_TIMEOUT", "OFPRR_METER_DELETE",
    "TBL_INTERNAL", "BundleError", "FlowModResult", "FlowTables", "OFTable", "Rule",
    "age_secs", "calc_duration", "outputs_to_group", "outputs_to_port",
]

# --- tables ----------------------------------------------------------------------

@dataclass(slots=True)
class OFTable:
    """One flow table (OVS ``struct oftable``)."""

    table_id: int
    cls: Classifier[Rule] = field(default_factory=Classifier)
    name: str = ""
    hidden: bool = False
    readonly: bool = False
    n_lookups: int = 0
    """Packets looked up here; the caller increments it (table statistics)."""
    n_matched: int = 0
    """Packets that matched a rule here; the caller increments it."""
    max_flows: int = 0xFFFFFFFF
    """Flow limit (the Flow_Table ``flow_limit``); adds beyond it fail, as with OVS's
    ``overflow_policy=refuse``."""

    n_hidden: int = 0
    """Hidden rules (priority above 0xffff) here: not counted as active."""
    miss_config: int = MISS_DEFAULT
    """What a miss does (``TableMod.miss``: default, controller, continue, drop)."""
    eviction: bool = False
    """Eviction requested by OpenFlow (OVS ``EVICTION_OPENFLOW``); pyovs never evicts."""
    vacancy: tuple[int, int] | None = None
    """(vacancy_down, vacancy_up) when vacancy events are on."""

    def stats(self) -> TableStats:
        """Table statistics as OVS's ``query_tables`` fills them (features aside)."""
        return TableStats(table_id=self.table_id, active_count=len(self.cls) - self.n_hidden,
                          lookup_count=self.n_lookups, matched_count=self.n_matched,
                          name=self.name, max_entries=min(self.max_flows, 1_000_000))


@dataclass(slots=True)
class FlowModResult:
    """What a flow_mod (or a group/meter deletion, or expiry) did."""

    added: list[Rule] = field(default_factory=list)
    modified: list[Rule] = field(default_factory=list)
    """Changed in place: by modify, or replaced by an identical add."""
    previous: list[tuple[ActionList, int]] = field(default_factory=list)
    """For each modified rule, its actions and cookie before (flow monitors report
    a modification only if one of them changed, and may show the old actions)."""
    replaced: bool = False
    """Whether the modification was an add replacing an identical rule (flow
    monitors report it as an addition)."""
    deleted: list[Rule] = field(default_factory=list)
    removed: list[tuple[Rule, int]] = field(default_factory=list)
    """Deleted rules that asked for OFPFF_SEND_FLOW_REM, with the reason."""

    def extend(self, other: FlowModResult) -> None:
        self.added += other.added
        self.modified += other.modified
        self.previous += other.previous
        self.deleted += other.deleted
        self.removed += other.removed


class BundleError(OFError):
    """A bundle's message ``index`` failed with ``cause``; nothing was applied."""

    def __init__(self, index: int, cause: OFError) -> None:
        super().__init__(cause.error, cause.detail, cause.version, cause.printed_as)
        self.index = index
        self.cause = cause


_J_INSERT, _J_REMOVE, _J_CHANGE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class _Criteria:
    """OVS ``struct rule_criteria``."""

    table_id: int
    match: Match
    priority: int
    cookie: int
    cookie_mask: int
    out_port: int = OFPP_ANY
    out_group: int = OFPG_ANY
    include_readonly: bool = True

    @property
    def include_hidden(self) -> bool:
        return self.priority > UINT16_MAX

    def selects(self, rule: Rule) -> bool:
        """OVS ``collect_rule`` (all but the match and read-only tests)."""
        return ((self.table_id in (rule.table_id, OFPTT_ALL))
                and not (rule.cookie ^ self.cookie) & self.cookie_mask
                and (not rule.hidden or self.include_hidden)
                and outputs_to_port(rule.actions, self.out_port)
                and outputs_to_group(rule.actions, self.out_group))


class FlowTables:
    """A switch's flow tables, with its group and meter tables."""

    def __init__(self, n_tables: int = N_TABLES, internal_table: int | None = TBL_INTERNAL,
                 groups: GroupTable | None = None, meters: MeterTable | None = None) -> None:
        self.tables = [OFTable(i) for i in range(n_tables)]
        if internal_table is not None and internal_table < n_tables:
            self.tables[internal_table].hidden = True
            self.tables[internal_table].readonly = True
        self.groups = groups if groups is not None else GroupTable()
        self.meters = meters if meters is not None else MeterTable()
        self.generation = 0
        """Bumped by every change to the tables, groups or meters."""
        self._cookies: dict[int, set[Rule]] = {}
        self._group_rules: dict[int, set[Rule]] = {}
        self._meter_rules: dict[int, set[Rule]] = {}
        self._expirable: set[Rule] = set()
        self._journal: list[tuple[int, Rule, RuleState | None]] | None = None
        """While a transaction is open: how to undo each change, in order."""

    @property
    def n_tables(self) -> int:
        return len(self.tables)

    def __iter__(self) -> Iterator[Rule]:
        """Every rule, table by table."""
        for t in self.tables:
            yield from t.cls

    def __len__(self) -> int:
        return sum(len(t.cls) for t in self.tables)

    # --- lookup ------------------------------------------------------------

    def lookup(self, table_id: int, flow: Mapping[str, int],
               wc: dict[str, int] | None = None) -> Rule | None:
        """The rule in ``table_id`` that ``flow`` hits (see ``Classifier.lookup``)."""
        return self.tables[table_id].cls.lookup(flow, wc)

    # --- bookkeeping ----------------------------------------------------------

    def _index(self, rule: Rule) -> None:
        self._cookies.setdefault(rule.cookie, set()).add(rule)
        for gid in rule.groups:
            self._group_rules.setdefault(gid, set()).add(rule)
        for mid in rule.meters:
            self._meter_rules.setdefault(mid, set()).add(rule)
        if rule.expirable:
            self._expirable.add(rule)
        if rule.hidden:
            self.tables[rule.table_id].n_hidden += 1

    def _unindex(self, rule: Rule) -> None:
        for index, keys in ((self._cookies, (rule.cookie,)), (self._group_rules, rule.groups),
                            (self._meter_rules, rule.meters)):
            for key in keys:
                rules = index.get(key)
                if rules is not None:
                    rules.discard(rule)
                    if not rules:
                        del index[key]
        self._expirable.discard(rule)
        if rule.hidden:
            self.tables[rule.table_id].n_hidden -= 1

    def _insert(self, rule: Rule) -> None:
        self.tables[rule.table_id].cls.insert(rule, conjunctions(rule.actions))
        self._index(rule)
        if self._journal is not None:
            self._journal.append((_J_INSERT, rule, None))

    def _remove(self, rule: Rule) -> None:
        self.tables[rule.table_id].cls.remove(rule)
        self._unindex(rule)
        if self._journal is not None:
            self._journal.append((_J_REMOVE, rule, None))

    def _begin_change(self, rule: Rule) -> None:
        """Before a rule changes in place: journal it, take it out of the indexes."""
        if self._journal is not None:
            self._journal.append((_J_CHANGE, rule, rule.state()))
        self._unindex(rule)

    # --- transactions (bundles) ---------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Everything inside happens, or -- if it raises -- none of it does.

        This is what an OpenFlow bundle commit needs (OVS ``do_bundle_commit``
        reverts every message when one fails): flow_mods, group_mods and
        meter_mods are undone (expiry and rule deletions too), the exception
        propagates, and nothing the results said should be sent (flow_removed)
        should be.  Lookups afterwards give exactly what they gave before.
        Nested transactions join the outer one.
        """
        if self._journal is not None:
            yield
            return
        journal: list[tuple[int, Rule, RuleState | None]] = []
        groups = self.groups.snapshot()
        meters = self.meters.snapshot()
        self._journal = journal
        try:
            yield
        except BaseException:
            self._journal = None
            for kind, rule, state in reversed(journal):
                if kind == _J_INSERT:
                    self._remove(rule)
                elif kind == _J_REMOVE:
                    self._insert(rule)
                elif state is not None:
                    self._unindex(rule)
                    rule.restore(state)
                    self.tables[rule.table_id].cls.set_conjunctions(
                        rule, conjunctions(rule.actions))
                    self._index(rule)
            self.groups.restore(groups)
            self.meters.restore(meters)
            self.generation += 1
            raise
        finally:
            self._journal = None

    def bundle(self, mods: Sequence[FlowMod | GroupMod | MeterMod],
               now: float) -> list[FlowModResult]:
        """Apply ``mods`` atomically (an OpenFlow bundle commit).

        Returns, per message, the flows it added, changed and deleted (for a
        group_mod or meter_mod, the flows deleted with its groups or meters).
        If one fails, everything is rolled back and ``BundleError`` says which.
        """
        results: list[FlowModResult] = []
        with self.transaction():
            for i, mod in enumerate(mods):
                try:
                    if isinstance(mod, FlowMod):
                        results.append(self.flow_mod(mod, now))
                    elif isinstance(mod, GroupMod):
                        results.append(self.group_mod(mod, now)[1])
                    else:
                        results.append(self.meter_mod(mod, now)[1])
                except OFError as e:
                    raise BundleError(i, e) from e
        return results

    def group_ref_count(self, group_id: int) -> int:
        """Rules whose actions name ``group_id`` (group statistics' ref_count)."""
        return len(self._group_rules.get(group_id, ()))

    def meter_flow_count(self, meter_id: int) -> int:
        return len(self._meter_rules.get(meter_id, ()))

    # --- selection ------------------------------------------------------------

    def _matching_tables(self, table_id: int) -> list[OFTable]:
        """OVS ``FOR_EACH_MATCHING_TABLE`` (the caller has checked ``table_id``)."""
        if table_id == OFPTT_ALL:
            return [t for t in self.tables if not t.hidden]
        return [self.tables[table_id]]

    def _check_table_id(self, table_id: int,
                        error: OFPErr = OFPErr.OFPBRC_BAD_TABLE_ID) -> None:
        """OVS ``check_table_id``."""
        if table_id != OFPTT_ALL and table_id >= self.n_tables:
            raise OFError(error, f"table {table_id}")

    def _collect(self, c: _Criteria, strict: bool) -> list[Rule]:
        """OVS ``collect_rules_loose`` / ``collect_rules_strict``."""
        self._check_table_id(c.table_id)
        found: list[Rule] = []
        n_readonly = 0
        if c.cookie_mask == ALL_ONES64:
            candidates: Iterable[Rule] = [
                r for r in self._cookies.get(c.cookie, ())
                if (r.match == c.match and r.priority == c.priority if strict
                    else _loose_match(r.match, c.match))]
            candidates = sorted(candidates, key=lambda r: r.table_id)
        else:
            cands: list[Rule] = []
            for t in self._matching_tables(c.table_id):
                if strict:
                    r = t.cls.find_exact(c.match, c.priority)
                    if r is not None:
                        cands.append(r)
                else:
                    cands.extend(t.cls.iter_loose(c.match))
            candidates = cands
        for r in candidates:
            if c.selects(r):
                if not self.tables[r.table_id].readonly or c.include_readonly:
                    found.append(r)
                else:
                    n_readonly += 1
        if not found and n_readonly:
            raise OFError(OFPErr.OFPBRC_EPERM, "only read-only flows match")
        return found

    def collect(self, req: FlowStatsRequest) -> list[Rule]:
        """The rules a flow or aggregate statistics request selects."""
        return self._collect(_Criteria(req.table_id, req.match, 0, req.cookie,
                                       req.cookie_mask, req.out_port, req.out_group),
                             strict=False)

    # --- flow_mod ----------------------------------------------------------------

    def flow_mod(self, fm: FlowMod, now: float, *, modify_cookie: bool | None = None,
                 internal: bool = False) -> FlowModResult:
        """Apply a flow_mod (OVS ``handle_flow_mod__``); raises ``OFError`` if refused.

        ``modify_cookie`` is OVS's ``fm->modify_cookie``: whether a modify
        may change the cookie.  It defaults to ``fm.new_cookie != all-ones``,
        which is right for every protocol but OpenFlow 1.1, whose modify
        never changes a cookie (pass False).  ``internal`` lets the switch
        itself write read-only tables and match the hidden fields ``recirc_id``
        and ``dp_hash`` (OVS's ``OFPUTIL_FF_NO_READONLY | OFPUTIL_FF_HIDDEN_FIELDS``).
        """
        cmd = fm.command
        if cmd in (Command.ADD, Command.MODIFY, Command.MODIFY_STRICT):
            table_id = self._add_flow_init(fm, internal)
            if fm.buffer_id != NO_BUFFER:
                raise OFError(OFPErr.OFPBRC_BUFFER_UNKNOWN, f"buffer {fm.buffer_id:#x}")
            if cmd == Command.ADD:
                result = self._add_flow(fm, table_id, now)
            else:
                if modify_cookie is None:
                    modify_cookie = fm.new_cookie != ALL_ONES64
                result = self._modify_flows(fm, table_id, now, cmd == Command.MODIFY_STRICT,
                                            modify_cookie, internal)
        elif cmd in (Command.DELETE, Command.DELETE_STRICT):
            strict = cmd == Command.DELETE_STRICT
            c = _Criteria(fm.table_id, fm.match, fm.priority if strict else 0, fm.cookie,
                          fm.cookie_mask, fm.out_port, fm.out_group, internal)
            result = self.delete_rules(self._collect(c, strict), OFPRR_DELETE)
        else:
            raise OFError(OFPErr.OFPFMFC_BAD_COMMAND, f"flow_mod command {cmd}")
        if result.added or result.modified:
            self.generation += 1
        return result

    def _add_flow_init(self, fm: FlowMod, internal: bool) -> int:
        """OVS ``add_flow_init``: the table a new flow goes in."""
        self._check_table_id(fm.table_id)
        table_id = 0 if fm.table_id == OFPTT_ALL else fm.table_id
        if self.tables[table_id].readonly and not internal:
            raise OFError(OFPErr.OFPBRC_EPERM, f"table {table_id} is read-only")
        if not internal and not _default_hidden_fields(fm.match):
            raise OFError(OFPErr.OFPBRC_EPERM, "only internal flows may match recirc_id "
                          "or dp_hash")
        return table_id

    def _check_actions(self, actions: ActionList) -> None:
        """OVS ``ofproto_check_ofpacts``, plus goto_table against this switch's tables."""
        for a in flattened(actions):
            if isinstance(a, Meter) and not self.meters.exists(a.meter_id):
                raise OFError(OFPErr.OFPMMFC_INVALID_METER, f"meter {a.meter_id}")
            if isinstance(a, Group) and not self.groups.exists(a.group_id):
                raise OFError(OFPErr.OFPBAC_BAD_OUT_GROUP, f"group {a.group_id}")
            if isinstance(a, GotoTable) and a.table_id >= self.n_tables:
                raise OFError(OFPErr.OFPBIC_BAD_TABLE_ID, f"goto_table:{a.table_id}")

    def _add_flow(self, fm: FlowMod, table_id: int, now: float) -> FlowModResult:
        """OVS ``add_flow_start`` + ``replace_rule_start``/``finish``."""
        self._check_actions(fm.actions)
        cls = self.tables[table_id].cls
        old = cls.find_exact(fm.match, fm.priority)
        result = FlowModResult()
        if old is None:
            if fm.flags & FlowFlags.CHECK_OVERLAP and cls.overlaps(fm.match, fm.priority):
                raise OFError(OFPErr.OFPFMFC_OVERLAP, "overlapping flow")
            table = self.tables[table_id]
            if len(cls) >= table.max_flows:
                # OVS would evict a rule if the table allowed eviction; pyovs never does.
                raise OFError(OFPErr.OFPFMFC_TABLE_FULL, f"table {table_id} is full")
            rule = Rule(fm.match, fm.priority, table_id, fm.actions, fm.new_cookie,
                        fm.idle_timeout, fm.hard_timeout, fm.importance, fm.flags, now)
            self._insert(rule)
            result.added.append(rule)
            return result
        self._begin_change(old)
        result.previous.append((old.actions, old.cookie))
        result.replaced = True
        if fm.new_cookie != ALL_ONES64:
            old.cookie = fm.new_cookie
        old.idle_timeout = fm.idle_timeout
        old.hard_timeout = fm.hard_timeout
        old.importance = fm.importance
        old.flags = fm.flags & FF_STATE
        old.created = now
        self._replace_actions(old, fm, now)
        self._index(old)
        result.modified.append(old)
        return result

    def _replace_actions(self, rule: Rule, fm: FlowMod, now: float) -> None:
        """What every replacement does: new actions, ``modified`` now, counters per flags."""
        rule.actions = fm.actions
        rule.groups, rule.meters = referenced(fm.actions)
        self.tables[rule.table_id].cls.set_conjunctions(rule, conjunctions(fm.actions))
        rule.modified = now
        if fm.flags & FlowFlags.RESET_COUNTS:
            rule.n_packets = rule.n_bytes = 0

    def _modify_flows(self, fm: FlowMod, table_id: int, now: float, strict: bool,
                      modify_cookie: bool, internal: bool) -> FlowModResult:
        """OVS ``modify_flows_start__`` and friends."""
        c = _Criteria(fm.table_id, fm.match, fm.priority if strict else 0, fm.cookie,
                      fm.cookie_mask, include_readonly=internal)
        rules = self._collect(c, strict)
        if not rules:
            if fm.new_cookie != ALL_ONES64 and not fm.cookie_mask:
                return self._add_flow(fm, table_id, now)
            return FlowModResult()
        self._check_actions(fm.actions)
        result = FlowModResult(modified=rules)
        for rule in rules:
            self._begin_change(rule)
            result.previous.append((rule.actions, rule.cookie))
            if modify_cookie and fm.new_cookie != ALL_ONES64:
                rule.cookie = fm.new_cookie
            self._replace_actions(rule, fm, now)
            self._index(rule)
        return result

    # --- table configuration -------------------------------------------------------

    def table_mod(self, tm: TableMod) -> None:
        """OVS ``table_mod``: table-miss, eviction and vacancy settings."""
        self._check_table_id(tm.table_id, OFPErr.OFPTMFC_BAD_TABLE)
        if tm.eviction_flags not in (0xFFFFFFFF, OFPROTO_EVICTION_FLAGS):
            raise OFError(OFPErr.OFPTMFC_BAD_CONFIG, "eviction flags")
        if tm.table_id == OFPTT_ALL:
            targets = [t for t in self.tables if not (t.hidden or t.readonly)]
        else:
            target = self.tables[tm.table_id]
            if target.readonly:
                raise OFError(OFPErr.OFPTMFC_EPERM, f"table {tm.table_id} is read-only")
            targets = [target]
        for t in targets:
            if tm.miss != MISS_DEFAULT:
                t.miss_config = tm.miss
            if tm.eviction != SETTING_DEFAULT:
                t.eviction = tm.eviction == SETTING_ON
            if tm.vacancy == SETTING_OFF:
                t.vacancy = None
            elif tm.vacancy == SETTING_ON:
                t.vacancy = (tm.vacancy_down, tm.vacancy_up)

    # --- the switch's own flows ------------------------------------------------------

    def add_flow(self, match: Match, priority: int, actions: ActionList,
                 now: float) -> FlowModResult:
        """OVS ``ofproto_add_flow``: make table 0 hold this flow (in-band, fail-open).

        Nothing happens if the flow is already there with these actions;
        otherwise it is a strict modify that may add.  A priority above 0xffff
        makes a hidden flow.
        """
        rule = self.tables[0].cls.find_exact(match, priority)
        if rule is not None and rule.actions == actions:
            return FlowModResult()
        fm = FlowMod(command=Command.MODIFY_STRICT, match=match, priority=priority,
                     actions=actions)
        return self.flow_mod(fm, now, modify_cookie=False)

    def delete_flow(self, match: Match, priority: int) -> FlowModResult:
        """OVS ``ofproto_delete_flow``: remove exactly this flow from table 0, if present."""
        rule = self.tables[0].cls.find_exact(match, priority)
        return self.delete_rules([rule] if rule is not None else [], OFPRR_DELETE)

    def flush(self, now: float) -> FlowModResult:
        """OVS ``ofproto_flush__``: every flow of the visible tables, groups and meters."""
        result = self.delete_rules([r for t in self.tables if not t.hidden for r in t.cls],
                                   OFPRR_DELETE)
        self.groups.group_mod(GroupMod(GC_DELETE, OFPG_ALL), now)
        self.meters.meter_mod(MeterMod(MC_DELETE, MeterConfig(OFPM13_ALL)), now)
        self.generation += 1
        return result

    def learn(self, fm: FlowMod, now: float, limit: int = 0) -> tuple[Rule | None,
                                                                      FlowModResult]:
        """OVS ``ofproto_flow_mod_learn``: the flow_mod of a ``learn`` action.

        An identical flow already there (same match, priority, timeouts,
        importance, flags, cookie and actions) is only refreshed: its
        ``modified`` time, which its hard timeout counts from, becomes ``now``.
        Otherwise the flow_mod is applied, unless ``limit`` flows with this
        cookie are already in the table.  Returns the learned rule (None when
        over the limit) and what changed.
        """
        if (fm.command != Command.MODIFY_STRICT or fm.table_id == OFPTT_ALL
                or fm.flags & FlowFlags.RESET_COUNTS or fm.buffer_id != NO_BUFFER):
            raise OFError(OFPErr.OFPFMFC_UNKNOWN, "not a learned flow")
        self._check_table_id(fm.table_id)
        rule = self.tables[fm.table_id].cls.find_exact(fm.match, fm.priority)
        modify_cookie = fm.new_cookie != ALL_ONES64
        if (rule is not None and rule.idle_timeout == fm.idle_timeout
                and rule.hard_timeout == fm.hard_timeout and rule.importance == fm.importance
                and rule.flags == fm.flags & FF_STATE
                and (not modify_cookie or fm.new_cookie == rule.cookie)
                and rule.actions == fm.actions):
            rule.modified = now
            return rule, FlowModResult()
        if limit:
            same = [r for r in self._cookies.get(fm.new_cookie, ())
                    if r.table_id == fm.table_id and not r.hidden
                    and not self.tables[r.table_id].readonly]
            if len(same) >= limit:
                return None, FlowModResult()
        result = self.flow_mod(fm, now)
        changed = result.added + result.modified
        return (changed[0] if changed else None), result

    # --- deletion and expiry -------------------------------------------------------

    def delete_rules(self, rules: Iterable[Rule], reason: int) -> FlowModResult:
        """Remove ``rules`` (OVS ``delete_flows__``); flow_removed for those that asked."""
        result = FlowModResult()
        for rule in rules:
            self._remove(rule)
            result.deleted.append(rule)
            if rule.sends_flow_removed:
                result.removed.append((rule, reason))
        if result.deleted:
            self.generation += 1
        return result

    def expire(self, now: float) -> list[tuple[Rule, int]]:
        """Delete the rules whose timeouts have passed; (rule, reason) for each.

        Every expired rule is returned; those whose ``sends_flow_removed`` is
        true want a flow_removed message (``Rule.flow_removed``).
        """
        expired = []
        for rule in list(self._expirable):
            reason = rule.expiry_reason(now)
            if reason is not None:
                expired.append((rule, reason))
        expired.sort(key=lambda e: (e[0].table_id, -e[0].priority))
        for rule, _ in expired:
            self._remove(rule)
        if expired:
            self.generation += 1
        return expired

    def next_expiry(self) -> float | None:
        """When ``expire`` next has something to do, at the earliest (a timer)."""
        times = []
        for r in self._expirable:
            if r.hard_timeout:
                times.append(r.modified + r.hard_timeout)
            if r.idle_timeout:
                times.append(r.used + r.idle_timeout)
        return min(times, default=None)

    def reduce_timeouts(self, rule: Rule, idle_timeout: int, hard_timeout: int) -> None:
        """OVS ``ofproto_rule_reduce_timeouts`` (the ``fin_timeout`` action)."""
        if idle_timeout and (not rule.idle_timeout or rule.idle_timeout > idle_timeout):
            rule.idle_timeout = idle_timeout
        if hard_timeout and (not rule.hard_timeout or rule.hard_timeout > hard_timeout):
            rule.hard_timeout = hard_timeout
        if rule.expirable and self.tables[rule.table_id].cls.find_exact(
                rule.match, rule.priority) is rule:
            self._expirable.add(rule)

    # --- statistics ----------------------------------------------------------------

    def flow_stats(self, req: FlowStatsRequest, now: float) -> list[FlowStats]:
        """The entries of a flow stats reply (OVS ``handle_flow_stats_request``)."""
        return [r.flow_stats(now) for r in self.collect(req)]

    def aggregate(self, req: FlowStatsRequest) -> tuple[int, int, int]:
        """(packet_count, byte_count, flow_count) (OVS ``handle_aggregate_stats_request``)."""
        packets = bytes_ = n = 0
        for r in self.collect(req):
            packets += r.n_packets
            bytes_ += r.n_bytes
            n += 1
        return packets, bytes_, n

    def table_stats(self) -> list[TableStats]:
        """One entry per visible table (OVS ``handle_table_stats_request``)."""
        return [t.stats() for t in self.tables if not t.hidden]

    # --- groups and meters -------------------------------------------------------

    def delete_rules_for_groups(self, group_ids: Iterable[int]) -> FlowModResult:
        rules: dict[int, Rule] = {}
        for gid in group_ids:
            for r in self._group_rules.get(gid, ()):
                rules[id(r)] = r
        return self.delete_rules(_ordered(rules.values()), OFPRR_GROUP_DELETE)

    def delete_rules_for_meters(self, meter_ids: Iterable[int]) -> FlowModResult:
        rules: dict[int, Rule] = {}
        for mid in meter_ids:
            for r in self._meter_rules.get(mid, ()):
                rules[id(r)] = r
        return self.delete_rules(_ordered(rules.values()), OFPRR_METER_DELETE)

    def group_mod(self, gm: GroupMod, now: float) -> tuple[GroupModResult, FlowModResult]:
        """Apply a group_mod; the rules deleted with deleted groups come back too."""
        gres = self.groups.group_mod(gm, now)
        fres = self.delete_rules_for_groups(gres.deleted)
        self.generation += 1
        return gres, fres

    def meter_mod(self, mm: MeterMod, now: float) -> tuple[MeterModResult, FlowModResult]:
        """Apply a meter_mod; the rules deleted with deleted meters come back too."""
        mres = self.meters.meter_mod(mm, now)
        fres = self.delete_rules_for_meters(mres.deleted)
        self.generation += 1
        return mres, fres


def _ordered(rules: Iterable[Rule]) -> list[Rule]:
    """A deterministic order for a set of rules: table, then priority, highest first."""
    return sorted(rules, key=lambda r: (r.table_id, -r.priority, str(r.match)))


def _default_hidden_fields(match: Match) -> bool:
    """OVS ``minimatch_has_default_hidden_fields``: recirc_id 0 (or wild), dp_hash wild."""
    recirc, recirc_mask = match.get("recirc_id")
    return not recirc and recirc_mask in (0, 0xFFFFFFFF) and match.get("dp_hash") == (0, 0)


def _loose_match(rule: Match, criteria: Match) -> bool:
    """OVS ``cls_rule_is_loose_match``: ``rule`` at least as specific as ``criteria``."""
    have = {slot: (value, mask) for slot, value, mask in rule.entries}
    for slot, value, mask in criteria.entries:
        v, m = have.get(slot, (0, 0))
        if m & mask != mask or v & mask != value:
            return False
    return True
