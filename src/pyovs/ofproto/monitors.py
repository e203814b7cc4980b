"""Flow monitors: connections watching the flow tables change (OVS connmgr.c ``ofmonitor_*``).

A connection (``ovs-ofctl monitor BR watch:``, OVN's ofctrl) sends flow
monitor requests; each monitor (``FlowMonitorRequest``, kept per connection
in ``OfConnState.monitors`` by id) selects rules by table, loose match, and
output port or group, and asks for some events: initial, add, delete,
modify, with or without actions.

* ``request``: add, modify or delete monitors (OVS's errors:
  ``OFPMOFC_MONITOR_EXISTS``, ``OFPMOFC_UNKNOWN_MONITOR``, bad table), then
  reply with the rules the new monitors want to see initially, one update
  per rule (the flags of every monitor that selects it combined).
* ``report``: after each change to a rule, queue an update for every
  connection with a monitor that selects it.  A change the connection made
  itself is abbreviated to one ``ABBREV`` event carrying the xid of its
  request, unless one of its monitors asked for its own changes in full.
* ``flush``: send each connection its queued updates as one message (xid 0).

Hidden rules are never reported.  OVS pauses a connection whose updates
pile up (``PAUSED``/``RESUMED``); pyovs does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from pyovs.openflow.codec import Body, Message
from pyovs.openflow.errors import OFError, OFPErr
from pyovs.openflow.msg_flow import OFPTT_ALL
from pyovs.openflow.msg_flowstats import FlowStatsRequest
from pyovs.openflow.msg_monitor import (
    FMC_ADD,
    FMC_DELETE,
    FME_ABBREV,
    FME_ADDED,
    FME_INITIAL,
    FME_MODIFIED,
    FME_REMOVED,
    FMF_ADD,
    FMF_INITIAL,
    FMF_INSTRUCTIONS,
    FMF_MODIFY,
    FMF_ONLY_OWN,
    FMF_REMOVED,
    FlowMonitorCancel,
    FlowMonitorRequest,
    FlowMonitorRequests,
    FlowUpdate,
    FlowUpdates,
)

from .flowtable import FlowModResult, Rule, outputs_to_group, outputs_to_port

if TYPE_CHECKING:
    from .ofproto import OfConnState, Ofproto

__all__ = ["cancel", "flush", "report", "report_removed", "report_result", "request"]

_EVENT_FLAG = {FME_ADDED: FMF_ADD, FME_REMOVED: FMF_REMOVED, FME_MODIFIED: FMF_MODIFY}
OFPRR_DELETE = 2


def _selects(m: FlowMonitorRequest, rule: Rule) -> bool:
    """OVS: the table, output port and group, and ``cls_rule_is_loose_match``."""
    if m.table_id not in (OFPTT_ALL, rule.table_id):
        return False
    if not outputs_to_port(rule.actions, m.out_port):
        return False
    if not outputs_to_group(rule.actions, m.out_group):
        return False
    have = {slot: (value, mask) for slot, value, mask in rule.match.entries}
    for slot, value, mask in m.match.entries:
        v, rmask = have.get(slot, (0, 0))
        if rmask & mask != mask or v & mask != value:
            return False
    return True


def _update(rule: Rule, event: int, flags: int, reason: int = 0) -> FlowUpdate:
    return FlowUpdate(event, reason, rule.idle_timeout, rule.hard_timeout, rule.table_id,
                      rule.cookie, rule.priority, rule.match,
                      rule.actions if flags & FMF_INSTRUCTIONS else ())


def request(ofp: Ofproto, conn: OfConnState, msg: Message,
            reply: Callable[[Body], None]) -> None:
    """OVS ``handle_flow_monitor_request``."""
    assert isinstance(msg.body, FlowMonitorRequests)
    monitors = dict(conn.monitors)
    new: list[FlowMonitorRequest] = []
    for m in msg.body.monitors:
        if m.table_id != OFPTT_ALL and m.table_id >= ofp.tables.n_tables:
            raise OFError(OFPErr.OFPBRC_BAD_TABLE_ID)
        if m.command == FMC_ADD:
            if m.id in monitors:
                raise OFError(OFPErr.OFPMOFC_MONITOR_EXISTS)
        elif m.id not in monitors:
            raise OFError(OFPErr.OFPMOFC_UNKNOWN_MONITOR)
        if m.command == FMC_DELETE:
            del monitors[m.id]
        else:
            monitors[m.id] = m
            new.append(m)
    conn.monitors = monitors
    # One update per rule, in the order a flow dump meets them.
    wanted: dict[int, tuple[Rule, int]] = {}
    for m in new:
        if not m.flags & FMF_INITIAL:
            continue
        req = FlowStatsRequest(m.match, m.table_id, m.out_port, m.out_group)
        for rule in ofp.tables.collect(req):
            if rule.hidden:
                continue
            _, flags = wanted.get(id(rule), (rule, 0))
            wanted[id(rule)] = (rule, flags | FMF_INITIAL | (m.flags & FMF_INSTRUCTIONS))
    reply(FlowUpdates(tuple(_update(rule, FME_INITIAL, flags)
                            for rule, flags in wanted.values())))


def cancel(ofp: Ofproto, conn: OfConnState, msg: Message,
           reply: Callable[[Body], None]) -> None:
    """OVS ``handle_flow_monitor_cancel``."""
    assert isinstance(msg.body, FlowMonitorCancel)
    if conn.monitors.pop(msg.body.id, None) is None:
        raise OFError(OFPErr.OFPMOFC_UNKNOWN_MONITOR)


def report(ofp: Ofproto, rule: Rule, event: int, reason: int = 0,
           source: OfConnState | None = None, xid: int = 0) -> None:
    """Queue the updates ``event`` on ``rule`` means (OVS ``ofmonitor_report``)."""
    if rule.hidden:
        return
    update = _EVENT_FLAG[event]
    for conn in ofp.conns:
        flags = 0
        for m in conn.monitors.values():
            if m.flags & update and _selects(m, rule):
                flags |= m.flags
        if not flags:
            continue
        if not conn.updates:
            conn.sent_abbrev = False
        if flags & FMF_ONLY_OWN or conn is not source:
            conn.updates.append(_update(rule, event, flags,
                                        reason if event == FME_REMOVED else 0))
        elif not conn.sent_abbrev:
            conn.updates.append(FlowUpdate(FME_ABBREV, xid=xid))
            conn.sent_abbrev = True


def report_result(ofp: Ofproto, result: FlowModResult, source: OfConnState | None = None,
                  xid: int = 0, deleted_reason: int = OFPRR_DELETE, send: bool = True) -> None:
    """Report what a flow mod (or a group or meter deletion) did, then flush if ``send``."""
    for rule in result.added:
        report(ofp, rule, FME_ADDED, 0, source, xid)
    for i, rule in enumerate(result.modified):
        if result.replaced:
            report(ofp, rule, FME_ADDED, 0, source, xid)
        elif i >= len(result.previous) or result.previous[i] != (rule.actions, rule.cookie):
            report(ofp, rule, FME_MODIFIED, 0, source, xid)
    for rule in result.deleted:
        report(ofp, rule, FME_REMOVED, deleted_reason, source, xid)
    if send:
        flush(ofp)


def report_removed(ofp: Ofproto, removed: Iterable[tuple[Rule, int]]) -> None:
    """Report rules that expired (reason idle or hard timeout), then flush."""
    for rule, reason in removed:
        report(ofp, rule, FME_REMOVED, reason)
    flush(ofp)


def flush(ofp: Ofproto) -> None:
    """Send each connection its queued updates (OVS ``ofmonitor_flush``)."""
    for conn in ofp.conns:
        if conn.updates and conn.send is not None:
            updates, conn.updates = tuple(conn.updates), []
            conn.send(FlowUpdates(updates), None)


