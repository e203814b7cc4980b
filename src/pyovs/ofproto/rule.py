"""OpenFlow rules: one flow in a table, and what its actions refer to.

``Rule`` is OVS's ``struct rule`` as the flow tables keep it: the match
and priority the classifier files it under, the flat action list, cookie,
timeouts, flags and counters, and the times (created, modified, used)
that timeouts and statistics are computed from, in OVS's millisecond
arithmetic (``calc_duration``, ``age_secs``).  The helpers before it answer
the questions the tables ask of actions: which ports and groups a rule
outputs to (``out_port``/``out_group`` filters, group reference counts) and
which conjunctions it belongs to.

Split from ``flowtable`` so that the table semantics read on their own;
``flowtable`` re-exports every name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from pyovs.openflow.act_ct import Ct
from pyovs.openflow.actions import (
    Action,
    ActionList,
    Clone,
    Conjunction,
    Controller,
    Enqueue,
    Group,
    Meter,
    Note,
    Output,
    WriteActions,
)
from pyovs.openflow.match import Match
from pyovs.openflow.msg_flow import OFPG_ANY, FlowFlags, FlowRemoved
from pyovs.openflow.msg_flowstats import FlowStats
from pyovs.openflow.ports import OFPP_ANY, OFPP_CONTROLLER

N_TABLES: Final = 255
TBL_INTERNAL: Final = N_TABLES - 1
ALL_ONES64: Final = (1 << 64) - 1
UINT16_MAX: Final = 0xFFFF

# Flow removed reasons (ofp_flow_removed_reason).
OFPRR_IDLE_TIMEOUT: Final = 0
OFPRR_HARD_TIMEOUT: Final = 1
OFPRR_DELETE: Final = 2
OFPRR_GROUP_DELETE: Final = 3
OFPRR_METER_DELETE: Final = 4
OFPRR_EVICTION: Final = 5

# OFPTMPEF14_OTHER | OFPTMPEF14_IMPORTANCE | OFPTMPEF14_LIFETIME: the eviction
# flags OVS reports and the only ones a table_mod may name.
OFPROTO_EVICTION_FLAGS: Final = 1 | 2 | 4

# The flags a rule keeps (OFPUTIL_FF_STATE).
FF_STATE: Final = (FlowFlags.SEND_FLOW_REM | FlowFlags.NO_PKT_COUNTS | FlowFlags.NO_BYT_COUNTS
                   | FlowFlags.CHECK_OVERLAP | FlowFlags.RESET_COUNTS)


# --- what actions refer to ------------------------------------------------------

def flattened(actions: Iterable[Action]) -> Iterator[Action]:
    """Every action, nested ones included (OVS ``OFPACT_FOR_EACH_FLATTENED``)."""
    for a in actions:
        yield a
        if isinstance(a, (Clone, WriteActions, Ct)):
            yield from flattened(a.actions)


def outputs_to_port(actions: ActionList, port: int) -> bool:
    """OVS ``ofpacts_output_to_port``; OFPP_ANY selects every rule."""
    if port == OFPP_ANY:
        return True
    for a in flattened(actions):
        if isinstance(a, (Output, Enqueue)):
            if a.port == port:
                return True
        elif isinstance(a, Controller) and port == OFPP_CONTROLLER:
            return True
    return False


def outputs_to_group(actions: ActionList, group_id: int) -> bool:
    """OVS ``ofpacts_output_to_group``; OFPG_ANY selects every rule."""
    if group_id == OFPG_ANY:
        return True
    return any(isinstance(a, Group) and a.group_id == group_id for a in flattened(actions))


def referenced(actions: ActionList) -> tuple[frozenset[int], frozenset[int]]:
    groups = set()
    meters = set()
    for a in flattened(actions):
        if isinstance(a, Group):
            groups.add(a.group_id)
        elif isinstance(a, Meter):
            meters.add(a.meter_id)
    return frozenset(groups), frozenset(meters)


def conjunctions(actions: ActionList) -> tuple[tuple[int, int, int], ...]:
    """OVS ``get_conjunctions``: a rule's conjunction clauses, if those (and notes) are all
    its actions; such a rule is a soft match in the classifier."""
    if not all(isinstance(a, (Conjunction, Note)) for a in actions):
        return ()
    return tuple((a.id, a.clause, a.n_clauses) for a in actions if isinstance(a, Conjunction))


def msecs(seconds: float) -> int:
    """Whole milliseconds, as OVS's ``time_msec`` differences."""
    return int(seconds * 1000)


def calc_duration(start: float, now: float) -> tuple[int, int]:
    """OVS ``calc_duration``: (sec, nsec) with millisecond resolution."""
    ms = max(0, msecs(now) - msecs(start))
    return ms // 1000, (ms % 1000) * 1_000_000


def age_secs(start: float, now: float) -> int:
    """OVS ``age_secs``: seconds since ``start``, clamped to 0..65535."""
    ms = msecs(now) - msecs(start)
    return 0 if ms < 0 else UINT16_MAX if ms >= UINT16_MAX * 1000 else ms // 1000


# --- rules -------------------------------------------------------------------------

RuleState = tuple[ActionList, int, int, int, int, FlowFlags, float, float, float, int, int,
                  frozenset[int], frozenset[int]]
"""A rule's changeable state, as ``Rule.state`` returns it."""


class Rule:
    """One flow in a table (OVS ``struct rule``).  Compared by identity."""

    __slots__ = ("actions", "cookie", "created", "flags", "groups", "hard_timeout",
                 "idle_timeout", "importance", "match", "meters", "modified", "n_bytes",
                 "n_packets", "priority", "table_id", "used")

    def __init__(self, match: Match, priority: int, table_id: int = 0,
                 actions: ActionList = (), cookie: int = 0, idle_timeout: int = 0,
                 hard_timeout: int = 0, importance: int = 0,
                 flags: FlowFlags = FlowFlags(0), now: float = 0.0) -> None:  # noqa: B008
        self.match = match
        self.priority = priority
        self.table_id = table_id
        self.actions = actions
        self.cookie = cookie
        self.idle_timeout = idle_timeout
        self.hard_timeout = hard_timeout
        self.importance = importance
        self.flags = flags & FF_STATE
        self.created = now
        self.modified = now
        self.used = now
        self.n_packets = 0
        self.n_bytes = 0
        self.groups, self.meters = referenced(actions)

    def state(self) -> RuleState:
        """What a flow_mod may change in place (for rolling a transaction back)."""
        return (self.actions, self.cookie, self.idle_timeout, self.hard_timeout,
                self.importance, self.flags, self.created, self.modified, self.used,
                self.n_packets, self.n_bytes, self.groups, self.meters)

    def restore(self, state: RuleState) -> None:
        (self.actions, self.cookie, self.idle_timeout, self.hard_timeout, self.importance,
         self.flags, self.created, self.modified, self.used, self.n_packets, self.n_bytes,
         self.groups, self.meters) = state

    def account(self, packets: int, bytes_: int, now: float) -> None:
        """Credit a datapath's statistics to this rule."""
        self.n_packets += packets
        self.n_bytes += bytes_
        if now > self.used:
            self.used = now

    @property
    def hidden(self) -> bool:
        """OVS ``rule_is_hidden``: a priority no OpenFlow message can carry."""
        return self.priority > UINT16_MAX

    @property
    def sends_flow_removed(self) -> bool:
        """Whether deleting this rule sends a flow_removed (OVS ``rule_destroy_cb``)."""
        return bool(self.flags & FlowFlags.SEND_FLOW_REM) and not self.hidden

    @property
    def expirable(self) -> bool:
        return bool(self.idle_timeout or self.hard_timeout)

    def expiry_reason(self, now: float) -> int | None:
        """OVS ``rule_expire``: why the rule has expired at ``now``, if it has."""
        if self.hard_timeout and now > self.modified + self.hard_timeout:
            return OFPRR_HARD_TIMEOUT
        if self.idle_timeout and now > self.used + self.idle_timeout:
            return OFPRR_IDLE_TIMEOUT
        return None

    def flow_stats(self, now: float) -> FlowStats:
        """This rule as a flow stats entry (``handle_flow_stats_request``)."""
        sec, nsec = calc_duration(self.created, now)
        return FlowStats(
            match=self.match, priority=self.priority, actions=self.actions,
            table_id=self.table_id, cookie=self.cookie, duration_sec=sec,
            duration_nsec=nsec, idle_timeout=self.idle_timeout,
            hard_timeout=self.hard_timeout, importance=self.importance, flags=self.flags,
            idle_age=age_secs(self.used, now), hard_age=age_secs(self.modified, now),
            packet_count=self.n_packets, byte_count=self.n_bytes)

    def flow_removed(self, reason: int, now: float) -> FlowRemoved:
        """The flow_removed message for this rule (``ofproto_rule_send_removed``)."""
        sec, nsec = calc_duration(self.created, now)
        return FlowRemoved(
            match=self.match, priority=self.priority, reason=reason, table_id=self.table_id,
            cookie=self.cookie, duration_sec=sec, duration_nsec=nsec,
            idle_timeout=self.idle_timeout, hard_timeout=self.hard_timeout,
            packet_count=self.n_packets, byte_count=self.n_bytes)

    def __repr__(self) -> str:
        return (f"Rule(table={self.table_id}, priority={self.priority}, match={self.match}, "
                f"cookie={self.cookie:#x})")
