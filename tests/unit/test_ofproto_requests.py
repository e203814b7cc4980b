"""Ofproto's request handlers in memory: what the interop suites check against OVS, unit-sized.

An ``Ofproto`` with a recording backer and connections whose asynchronous
messages land in lists: port mods that take the device down, bundles that
fail half-way and leave the tables as they were, flow monitors, the async
configuration filtering what a connection hears, and the table-features
reply's shape.  The byte-level truth is the real switch
(``tests/interop/test_vswitchd_ofctl.py``); these pin the behaviour fast.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest

from pyovs.ofproto.ofproto import OfConnState, Ofproto, PortInfo
from pyovs.ofproto.replies import Multipart
from pyovs.ofproto.xlate import XPort
from pyovs.openflow import codec
from pyovs.openflow.act_text import parse_actions
from pyovs.openflow.codec import Body
from pyovs.openflow.errors import OFError, OFPErr
from pyovs.openflow.match_text import parse_match
from pyovs.openflow.msg_basic import TableFeaturesRequest
from pyovs.openflow.msg_bundle import BundleAdd, BundleCtrl, BundleCtrlType
from pyovs.openflow.msg_flow import FlowMod
from pyovs.openflow.msg_flowstats import FlowStatsRequest
from pyovs.openflow.msg_monitor import FMF_ADD, FMF_INITIAL, FlowMonitorRequest, FlowMonitorRequests
from pyovs.openflow.msg_port import PortMod, PortStatus
from pyovs.openflow.tablefeatures import table_features_parts


class RecordingBacker:
    def __init__(self) -> None:
        self.revalidations = 0

    def revalidate(self) -> None:
        self.revalidations += 1

    def packet_out(self, bridge: Ofproto, packet: bytes, in_port: int,
                   actions: tuple[Any, ...]) -> None:
        pass


def _bridge() -> Ofproto:
    br = Ofproto("br0", 1, RecordingBacker())
    br.add_port(PortInfo(XPort(1, "p1", None), hw_addr=0x0A))
    return br


def _conn(br: Ofproto, version: int = 4, service: bool = False) -> tuple[OfConnState,
                                                                          list[Body]]:
    sent: list[Body] = []
    conn = OfConnState(version=version, service=service, miss_send_len=0 if service else 128,
                       send=lambda body, raw: sent.append(body))
    br.conns.append(conn)
    return conn, sent


def _ask(br: Ofproto, conn: OfConnState, body: Body, xid: int = 7) -> list[Body]:
    replies: list[Body] = []
    br.handle(conn, codec.make(body, conn.version, xid), replies.append)
    return replies


def test_port_down_goes_through_the_device_hook() -> None:
    br = _bridge()
    turned: list[bool] = []

    def set_admin(up: bool) -> bool:
        turned.append(up)
        return up

    br.port_info[1].set_admin = set_admin
    _, seen = _conn(br)
    me, _ = _conn(br)
    _ask(br, me, PortMod(1, 0x0A, config=1, mask=1))
    assert turned == [False]
    states = [s.port.state for s in seen if isinstance(s, PortStatus)]
    assert len(states) == 2 and states[1] & 1  # config first, then LINK_DOWN


def test_failed_bundle_leaves_the_tables_alone() -> None:
    br = _bridge()
    conn, _ = _conn(br, version=5)
    good = FlowMod(match=parse_match("in_port=1")[0], priority=5)
    bad = FlowMod(match=parse_match("in_port=1")[0], priority=6,
                  actions=parse_actions("group:99"))  # no such group: fails when applied
    _ask(br, conn, BundleCtrl(1, BundleCtrlType.OPEN_REQUEST, 0), 1)
    for xid, fm in ((2, good), (3, bad)):
        inner = codec.encode(codec.make(fm, 5, xid))
        _ask(br, conn, BundleAdd(1, 0, inner), xid)
    with pytest.raises(OFError) as e:
        _ask(br, conn, BundleCtrl(1, BundleCtrlType.COMMIT_REQUEST, 0), 4)
    assert e.value.error is OFPErr.OFPBFC_MSG_FAILED
    assert br.tables.flow_stats(FlowStatsRequest(), 0.0) == []


def test_flow_monitor_initial_then_added() -> None:
    br = _bridge()
    br.flow_mod(FlowMod(match=parse_match("in_port=1")[0], priority=5))
    conn, sent = _conn(br)
    (reply,) = _ask(br, conn, FlowMonitorRequests((FlowMonitorRequest(1, FMF_INITIAL | FMF_ADD),)))
    assert [u.priority for u in reply.updates] == [5]  # type: ignore[attr-defined]
    br.flow_mod(FlowMod(match=parse_match("in_port=2")[0], priority=6))
    assert [u.priority for u in sent[-1].updates] == [6]  # type: ignore[attr-defined]


def test_management_connections_hear_nothing_without_miss_send_len() -> None:
    br = _bridge()
    _, service_seen = _conn(br, service=True)
    _, controller_seen = _conn(br)
    br.ports[1].config = 4  # no-receive, say
    br.port_changed(1)
    assert service_seen == [] and len(controller_seen) == 1


def test_table_features_reply_parts_fit_in_messages() -> None:
    br = _bridge()
    conn, _ = _conn(br)
    (reply,) = _ask(br, conn, TableFeaturesRequest())
    assert isinstance(reply, Multipart) and len(reply.parts) > 1
    assert all(16 + len(p) <= 0xFFFF for p in table_features_parts(4, 254))


def _features_entry(table_id: int, name: bytes, max_entries: int = 1_000_000) -> bytes:
    return struct.pack("!HBB4x32sQQII", 64, table_id, 0, name, 2**64 - 1, 2**64 - 1, 0,
                       max_entries)


def test_table_features_requests_rename_tables_only() -> None:
    br = _bridge()
    conn, _ = _conn(br)
    every = b"".join(_features_entry(i, b"t%d" % i) for i in range(254))
    _ask(br, conn, TableFeaturesRequest(every))
    assert br.tables.tables[7].name == "t7"
    for bad, error in ((_features_entry(0, b"x"), OFPErr.OFPTFFC_EPERM),  # not every table
                       (every + _features_entry(0, b"x"), OFPErr.NXTFFC_DUP_TABLE),
                       (_features_entry(0, b"x", 5) + every[64:], OFPErr.OFPTFFC_EPERM)):
        with pytest.raises(OFError) as e:
            _ask(br, conn, TableFeaturesRequest(bad))
        assert e.value.error is error


