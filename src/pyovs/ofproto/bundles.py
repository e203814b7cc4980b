"""Bundles: messages a connection asks the switch to apply together (OVS ofproto/bundles.c).

A controller (``ovs-ofctl --bundle``) opens bundle N with a BUNDLE_CONTROL
OPEN_REQUEST, wraps each message in a BUNDLE_ADD_MESSAGE, then commits (or
discards) it.  Bundles belong to one connection (``OfConnState.bundles``)
and are checked as OVS checks them: an id opened twice, a message added
to a closed bundle, flags that change between messages all drop the bundle
with an error.  Adding a message to a bundle that does not exist opens it.

Commit applies every message or none (``do_bundle_commit``), and flow
monitors hear of its changes only once it has succeeded.  OVS gets
atomicity from its versioned classifier; here the flow tables are copied
before the first message and put back if one fails.  Port mods cannot be
undone, so an atomic bundle refuses them, as OVS does.  Flow-removed
messages and packet-outs wait until the whole bundle has succeeded.  A
failure is reported twice, as by OVS: the failing message's own error,
quoting the BUNDLE_ADD that carried it, then ``OFPBFC_MSG_FAILED`` for the
commit (``BundleFailed`` carries both to the connection).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from pyovs.openflow import codec
from pyovs.openflow.codec import Body, Message
from pyovs.openflow.errors import OFError, OFPErr
from pyovs.openflow.msg_bundle import (
    BundleAdd,
    BundleCtrl,
    BundleCtrlType,
    BundleFlags,
    check_bundle_add,
)
from pyovs.openflow.msg_flow import OFPTT_ALL, FlowMod
from pyovs.openflow.msg_group import GroupMod
from pyovs.openflow.msg_packet import PacketOut
from pyovs.openflow.msg_port import PortMod
from pyovs.openflow.ports import OFPP_CONTROLLER

from . import monitors
from .flowtable import FlowModResult

if TYPE_CHECKING:
    from .ofproto import OfConnState, Ofproto

OFPRR_DELETE, OFPRR_GROUP_DELETE = 2, 3

__all__ = ["Bundle", "BundleFailed", "add", "conn_flow_mod", "control", "packet_out_in_port"]


@dataclass(slots=True)
class Bundle:
    """One bundle being filled (OVS ``struct ofp_bundle``)."""

    flags: int
    closed: bool = False
    messages: list[tuple[Message, bytes]] = field(default_factory=list)
    """The decoded inner messages, each with its BUNDLE_ADD message as received."""


class BundleFailed(OFError):
    """A commit failed: ``OFPBFC_MSG_FAILED`` for the commit, after ``first``.

    ``first`` is the error of the message that failed; ``quote`` the
    BUNDLE_ADD message that carried it, which that error quotes.
    """

    def __init__(self, first: OFError, quote: bytes) -> None:
        super().__init__(OFPErr.OFPBFC_MSG_FAILED, first.detail)
        self.first = first
        self.quote = quote


def conn_flow_mod(conn: OfConnState, msg: Message) -> FlowMod:
    """The flow mod ``msg`` carries, as this connection's protocol means it."""
    assert isinstance(msg.body, FlowMod)
    fm = msg.body
    if msg.raw in ("OFPT10_FLOW_MOD", "NXT_FLOW_MOD") and not conn.flow_mod_table_id:
        # Without the flow_mod_table_id extension the command's high byte
        # is no table: the mod is for every table (OVS
        # ofputil_decode_flow_mod), and a high byte makes a bad command.
        if fm.table_id:
            raise OFError(OFPErr.OFPFMFC_BAD_COMMAND)
        fm = replace(fm, table_id=OFPTT_ALL)
    return fm


def packet_out_in_port(po: PacketOut) -> int:
    return int(po.metadata.get("in_port")[0]) if po.metadata else OFPP_CONTROLLER


def control(ofp: Ofproto, conn: OfConnState, msg: Message,
            reply: Callable[[Body], None]) -> None:
    """BUNDLE_CONTROL (OVS ``handle_bundle_control``)."""
    assert isinstance(msg.body, BundleCtrl)
    ctrl = msg.body
    bundle = conn.bundles.get(ctrl.bundle_id)
    if ctrl.type == BundleCtrlType.OPEN_REQUEST:
        if bundle is not None:
            del conn.bundles[ctrl.bundle_id]
            raise OFError(OFPErr.OFPBFC_BAD_ID)
        conn.bundles[ctrl.bundle_id] = Bundle(ctrl.flags)
    elif ctrl.type in (BundleCtrlType.CLOSE_REQUEST, BundleCtrlType.COMMIT_REQUEST,
                       BundleCtrlType.DISCARD_REQUEST):
        if bundle is None:
            raise OFError(OFPErr.OFPBFC_BAD_ID)
        if ctrl.type == BundleCtrlType.DISCARD_REQUEST:
            del conn.bundles[ctrl.bundle_id]
        elif ctrl.type == BundleCtrlType.CLOSE_REQUEST:
            if bundle.closed or bundle.flags != ctrl.flags:
                del conn.bundles[ctrl.bundle_id]
                raise OFError(OFPErr.OFPBFC_BUNDLE_CLOSED if bundle.closed
                              else OFPErr.OFPBFC_BAD_FLAGS)
            bundle.closed = True
        else:
            del conn.bundles[ctrl.bundle_id]
            if bundle.flags != ctrl.flags:
                raise OFError(OFPErr.OFPBFC_BAD_FLAGS)
            commit(ofp, conn, bundle)
    else:
        raise OFError(OFPErr.OFPBFC_BAD_TYPE)
    reply(BundleCtrl(ctrl.bundle_id, ctrl.type + 1, 0))


def add(ofp: Ofproto, conn: OfConnState, msg: Message, reply: Callable[[Body], None]) -> None:
    """BUNDLE_ADD_MESSAGE (OVS ``handle_bundle_add`` + ``ofp_bundle_add_message``)."""
    assert isinstance(msg.body, BundleAdd)
    badd = msg.body
    check_bundle_add(badd, msg.xid)
    inner = codec.decode(badd.message)
    bundle = conn.bundles.get(badd.bundle_id)
    if bundle is None:
        bundle = conn.bundles[badd.bundle_id] = Bundle(badd.flags)
    elif bundle.closed or bundle.flags != badd.flags:
        del conn.bundles[badd.bundle_id]
        raise OFError(OFPErr.OFPBFC_BUNDLE_CLOSED if bundle.closed
                      else OFPErr.OFPBFC_BAD_FLAGS)
    bundle.messages.append((inner, codec.encode(msg)))


def commit(ofp: Ofproto, conn: OfConnState, bundle: Bundle) -> None:
    """Apply the bundle's messages, all or none (see the module comment)."""
    saved = copy.deepcopy(ofp.tables)
    removed: list[tuple[Any, int]] = []
    outs: list[PacketOut] = []
    changes: list[tuple[FlowModResult, int, int]] = []
    """What each flow or group mod did, its xid and its deletions' reason (monitors)."""
    now = time.monotonic()
    try:
        for inner, quote in bundle.messages:
            try:
                body = inner.body
                if isinstance(body, PortMod):
                    if bundle.flags & BundleFlags.ATOMIC:
                        raise OFError(OFPErr.OFPBFC_MSG_FAILED)
                    ofp.port_mod(conn, body)
                elif isinstance(body, FlowMod):
                    result = ofp.tables.flow_mod(conn_flow_mod(conn, inner), now)
                    removed += result.removed
                    changes.append((result, inner.xid, OFPRR_DELETE))
                elif isinstance(body, GroupMod):
                    result = ofp.tables.group_mod(body, now)[1]
                    removed += result.removed
                    changes.append((result, inner.xid, OFPRR_GROUP_DELETE))
                elif isinstance(body, PacketOut):
                    ofp.check_packet_out(body)
                    outs.append(body)
                else:
                    raise OFError(OFPErr.OFPBFC_MSG_UNSUP)
            except OFError as e:
                raise BundleFailed(e, quote) from None
    except BundleFailed:
        ofp.tables = saved
        ofp.backer.revalidate()
        raise
    for rule, reason in removed:
        ofp.send_flow_removed(rule, reason, now)
    for result, xid, reason in changes:
        monitors.report_result(ofp, result, conn, xid, reason, send=False)
    monitors.flush(ofp)
    ofp.backer.revalidate()
    for po in outs:
        ofp.run_packet_out(po)
