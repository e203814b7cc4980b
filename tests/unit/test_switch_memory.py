"""The switch in memory: ofproto + xlate + NORMAL + the userspace datapath on dummy ports.

No daemon, no sockets, no root: a ``Backer`` over a ``UserspaceDpif``
with bridges whose ports are ``DummyNetdev``s.  Frames are injected into
ports and what each port sent is read back, which checks forwarding
decisions end to end (classifier, xlate, datapath actions, megaflow
installation) as well as what the slow path saw (upcall counts).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import pytest

from pyovs.datapath.netdev.dummy import DummyNetdev
from pyovs.datapath.userspace import UserspaceDpif
from pyovs.ofproto.backer import Backer
from pyovs.ofproto.normal import MacTable, VlanConfig, input_vlan, output_vlan
from pyovs.ofproto.ofproto import OfConnState, Ofproto, PortInfo
from pyovs.ofproto.xlate import XPort, translate
from pyovs.openflow.act_text import parse_actions
from pyovs.openflow.actions import Output
from pyovs.openflow.codec import Message
from pyovs.openflow.errors import OFError
from pyovs.openflow.match_text import parse_match
from pyovs.openflow.msg_flow import Command, FlowMod
from pyovs.openflow.msg_flowstats import FlowStatsRequest
from pyovs.openflow.msg_group import Bucket, GroupMod
from pyovs.openflow.msg_packet import PacketIn, PacketOut
from pyovs.openflow.ports import OFPP_NORMAL

BCAST = b"\xff" * 6


def mac(i: int) -> bytes:
    return bytes([0x02, 0, 0, 0, 0, i])


def frame(src: int, dst: int | bytes, vid: int | None = None, payload: bytes = b"x" * 46,
          ethertype: int = 0x88B5) -> bytes:
    d = dst if isinstance(dst, bytes) else mac(dst)
    tag = struct.pack("!HH", 0x8100, vid) if vid is not None else b""
    return d + mac(src) + tag + struct.pack("!H", ethertype) + payload


def udp_frame(src: int, dst: int, sport: int = 1000, dport: int = 2000) -> bytes:
    udp = struct.pack("!HHHH", sport, dport, 8 + 4, 0) + b"data"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     bytes([10, 0, 0, src]), bytes([10, 0, 0, dst]))
    ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
    return mac(dst) + mac(src) + b"\x08\x00" + ip + udp


class Switch:
    """One datapath, bridges with dummy ports."""

    def __init__(self) -> None:
        self.dpif = UserspaceDpif()
        self.backer = Backer(self.dpif)
        self.ports: dict[str, DummyNetdev] = {}

    def bridge(self, name: str, normal: bool = True) -> Ofproto:
        br = Ofproto(name, 0x1234, self.backer)
        self.backer.bridges[name] = br
        if normal:
            br.flow_mod(FlowMod(priority=0, actions=(Output(OFPP_NORMAL),)))
        return br

    def port(self, br: Ofproto, name: str, ofport: int, vlan: VlanConfig | None = None
             ) -> DummyNetdev:
        nd = DummyNetdev(name)
        odp = self.dpif.port_add(nd)
        self.backer.bind(odp, br, ofport)
        br.add_port(PortInfo(XPort(ofport, name, odp, vlan or VlanConfig())))
        self.ports[name] = nd
        return nd

    def patch(self, a: Ofproto, a_port: int, b: Ofproto, b_port: int) -> None:
        xa, xb = XPort(a_port, f"patch-{b.name}", None), XPort(b_port, f"patch-{a.name}", None)
        xa.peer, xb.peer = (b, b_port), (a, a_port)
        a.add_port(PortInfo(xa))
        b.add_port(PortInfo(xb))

    def send(self, port: str, data: bytes) -> None:
        self.ports[port].inject(data)

    def sent(self) -> dict[str, list[bytes]]:
        out = {}
        for name, nd in self.ports.items():
            out[name] = list(nd.sent)
            nd.sent.clear()
        return out


def flow_mod(br: Ofproto, text: str, command: int = Command.ADD, **kw: int) -> None:
    from pyovs.cli.ofctl_flow import parse_flow_mod
    fm, _ = parse_flow_mod(text, command)
    br.flow_mod(fm)


@pytest.fixture
def sw() -> Iterator[Switch]:
    yield Switch()


def test_normal_floods_then_learns(sw: Switch) -> None:
    br = sw.bridge("br0")
    for i in (1, 2, 3):
        sw.port(br, f"p{i}", i)
    sw.send("p1", frame(1, BCAST))
    got = sw.sent()
    assert got["p2"] == got["p3"] == [frame(1, BCAST)] and got["p1"] == []
    sw.send("p2", frame(2, 1))
    got = sw.sent()
    assert got["p1"] == [frame(2, 1)] and got["p3"] == []
    upcalls = sw.backer.n_upcalls
    for _ in range(5):
        sw.send("p2", frame(2, 1))
    assert sw.sent()["p1"] == [frame(2, 1)] * 5
    assert sw.backer.n_upcalls == upcalls, "the class of packets stays in the datapath"
    # Counters reach the OpenFlow rule.
    sw.backer.run_periodic()
    (fs,) = br.tables.flow_stats(FlowStatsRequest(), 0.0)
    assert fs.packet_count == 7


def test_mac_move_and_unicast_to_input_port_drop(sw: Switch) -> None:
    br = sw.bridge("br0")
    for i in (1, 2, 3):
        sw.port(br, f"p{i}", i)
    sw.send("p1", frame(1, BCAST))
    sw.send("p2", frame(2, 1))
    sw.sent()
    sw.send("p1", frame(1, 1))  # destination learned on the input port: dropped
    assert all(v == [] for v in sw.sent().values())
    sw.send("p3", frame(1, BCAST))  # host 1 moved to p3
    sw.sent()
    sw.send("p2", frame(2, 1))
    got = sw.sent()
    assert got["p3"] == [frame(2, 1)] and got["p1"] == []


def test_vlan_access_and_trunk(sw: Switch) -> None:
    br = sw.bridge("br0")
    sw.port(br, "a10", 1, VlanConfig.from_port(None, 10, []))
    sw.port(br, "b10", 2, VlanConfig.from_port(None, 10, []))
    sw.port(br, "c20", 3, VlanConfig.from_port(None, 20, []))
    sw.port(br, "trunk", 4, VlanConfig.from_port(None, None, [10, 20]))
    sw.send("a10", frame(1, BCAST))
    got = sw.sent()
    assert got["b10"] == [frame(1, BCAST)]
    assert got["trunk"] == [frame(1, BCAST, vid=10)]
    assert got["c20"] == []
    sw.send("trunk", frame(5, BCAST, vid=20))
    got = sw.sent()
    assert got["c20"] == [frame(5, BCAST)] and got["a10"] == got["b10"] == []
    sw.send("a10", frame(1, BCAST, vid=20))  # tagged packet on an access port
    assert all(v == [] for v in sw.sent().values())
    sw.send("trunk", frame(5, BCAST, vid=30))  # VLAN the trunk does not carry
    assert all(v == [] for v in sw.sent().values())


def test_vlan_helpers() -> None:
    native = VlanConfig.from_port("native-untagged", 5, [7])
    assert input_vlan(native, 0) == 5 and input_vlan(native, 0x1007) == 7
    assert input_vlan(native, 0x1008) is None
    assert output_vlan(native, 5) is None and output_vlan(native, 7) == 7
    tagged = VlanConfig.from_port("native-tagged", 5, [])
    assert output_vlan(tagged, 5) == 5
    table = MacTable(aging=10, size=2)
    assert table.learn(1, 0, 1, 0.0) and not table.learn(1, 0, 1, 1.0)
    assert table.learn(1, 0, 2, 2.0)  # moved
    table.learn(2, 0, 1, 3.0)
    table.learn(3, 0, 1, 4.0)
    assert len(table) == 2 and table.lookup(1, 0, 4.0) is None  # the oldest was evicted
    assert table.lookup(3, 0, 20.0) is None  # aged out


def test_openflow_rules_rewrite_and_megaflow(sw: Switch) -> None:
    br = sw.bridge("br0", normal=False)
    for i in (1, 2, 3):
        sw.port(br, f"p{i}", i)
    flow_mod(br, "priority=100,udp,in_port=1,tp_dst=2000,"
                 "actions=mod_dl_src:02:00:00:00:00:99,mod_nw_dst:10.0.0.77,output:3")
    flow_mod(br, "priority=10,in_port=1,actions=output:2")
    sw.send("p1", udp_frame(1, 2))
    got = sw.sent()
    assert got["p2"] == [] and len(got["p3"]) == 1
    out = got["p3"][0]
    assert out[6:12] == mac(0x99) and out[30:34] == bytes([10, 0, 0, 77])
    ip = out[14:34]
    assert _csum(ip) == 0, "IPv4 header checksum kept right"
    sw.send("p1", udp_frame(1, 2, dport=2001))
    assert len(sw.sent()["p2"]) == 1
    # Same megaflow for another source port: no new upcall.
    n = sw.backer.n_upcalls
    sw.send("p1", udp_frame(1, 2, sport=4444))
    assert len(sw.sent()["p3"]) == 1 and sw.backer.n_upcalls == n
    # Deleting the rule revalidates: the next packet follows the other rule.
    flow_mod(br, "udp,tp_dst=2000", Command.DELETE)
    sw.send("p1", udp_frame(1, 2))
    got = sw.sent()
    assert len(got["p2"]) == 1 and got["p3"] == []


def _csum(data: bytes) -> int:
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    return ~(s + (s >> 16)) & 0xFFFF


def test_vlan_push_pop_actions_and_resubmit(sw: Switch) -> None:
    br = sw.bridge("br0", normal=False)
    for i in (1, 2, 3):
        sw.port(br, f"p{i}", i)
    flow_mod(br, "in_port=1,actions=mod_vlan_vid:42,output:2")
    flow_mod(br, "in_port=2,dl_vlan=42,actions=strip_vlan,resubmit(,1)")
    flow_mod(br, "table=1,actions=output:3")
    sw.send("p1", frame(1, 2))
    assert sw.sent()["p2"] == [frame(1, 2, vid=42)]
    sw.send("p2", frame(1, 2, vid=42))
    assert sw.sent()["p3"] == [frame(1, 2)]


def test_goto_table_write_actions_and_metadata(sw: Switch) -> None:
    br = sw.bridge("br0", normal=False)
    for i in (1, 2, 3):
        sw.port(br, f"p{i}", i)
    flow_mod(br, "in_port=1,actions=write_actions(output:2),write_metadata:0x5/0xff,"
                 "goto_table:3")
    flow_mod(br, "table=3,metadata=0x5/0xff,actions=clear_actions,write_actions(output:3)")
    sw.send("p1", frame(1, 2))
    got = sw.sent()
    assert got["p3"] == [frame(1, 2)] and got["p2"] == []


def test_patch_ports_join_bridges(sw: Switch) -> None:
    br_int, br_ex = sw.bridge("br-int"), sw.bridge("br-ex")
    sw.port(br_int, "vm", 1)
    sw.port(br_ex, "uplink", 1)
    sw.patch(br_int, 2, br_ex, 2)
    sw.send("vm", frame(1, BCAST))
    assert sw.sent()["uplink"] == [frame(1, BCAST)]
    sw.send("uplink", frame(9, 1))
    assert sw.sent()["vm"] == [frame(9, 1)]
    entries = {(e.mac, e.port) for e in br_ex.mac}
    assert (int.from_bytes(mac(1), "big"), 2) in entries


def test_groups_all_select_fast_failover(sw: Switch) -> None:
    br = sw.bridge("br0", normal=False)
    for i in (1, 2, 3, 4):
        sw.port(br, f"p{i}", i)
    out = parse_actions
    br.tables.group_mod(GroupMod(command=0, type=0, group_id=1, buckets=(
        Bucket(out("output:2")), Bucket(out("output:3")))), 0.0)
    br.tables.group_mod(GroupMod(command=0, type=3, group_id=2, buckets=(
        Bucket(out("output:2"), watch_port=2), Bucket(out("output:4"), watch_port=4))), 0.0)
    flow_mod(br, "in_port=1,dl_type=0x88b5,actions=group:1")
    flow_mod(br, "in_port=1,dl_type=0x88b6,actions=group:2")
    sw.send("p1", frame(1, 2))
    got = sw.sent()
    assert got["p2"] == got["p3"] == [frame(1, 2)]
    sw.send("p1", frame(1, 2, ethertype=0x88B6))
    assert sw.sent()["p2"] == [frame(1, 2, ethertype=0x88B6)]
    br.ports[2].live = False
    br.port_changed(2)
    sw.send("p1", frame(1, 2, ethertype=0x88B6))
    got = sw.sent()
    assert got["p4"] == [frame(1, 2, ethertype=0x88B6)] and got["p2"] == []


def test_packet_out_and_packet_in(sw: Switch) -> None:
    br = sw.bridge("br0", normal=False)
    for i in (1, 2):
        sw.port(br, f"p{i}", i)
    sent: list[object] = []
    conn = OfConnState(version=4, service=False, miss_send_len=128)
    conn.send = lambda body, raw: sent.append(body)
    br.conns.append(conn)
    po = PacketOut.from_port(0xFFFD, parse_actions("output:2"), frame(7, 2))
    br.handle(conn, Message(4, 1, "OFPT11_PACKET_OUT", po), lambda body: None)
    assert sw.sent()["p2"] == [frame(7, 2)]
    flow_mod(br, "in_port=1,actions=controller")
    sw.send("p1", frame(1, 2))
    pins = [b for b in sent if isinstance(b, PacketIn)]
    assert len(pins) == 1 and pins[0].packet == frame(1, 2) and pins[0].reason == 1


def test_slave_cannot_write_and_errors_are_oferrors(sw: Switch) -> None:
    br = sw.bridge("br0")
    conn = OfConnState(version=4, service=False, role=3)
    fm, _ = parse_match("in_port=1")
    with pytest.raises(OFError):
        br.handle(conn, Message(4, 1, "OFPT11_FLOW_MOD", FlowMod(match=fm)), lambda b: None)


def test_trace_explains_the_decision(sw: Switch) -> None:
    br = sw.bridge("br0")
    sw.port(br, "p1", 1)
    sw.port(br, "p2", 2)
    flow = {"in_port": 1, "dl_src": 1, "dl_dst": 0xFFFFFFFFFFFF, "dl_type": 0x88B5}
    result = translate(br, flow, 0.0, tracing=True)
    text = "\n".join(result.trace)
    assert "NORMAL" in text and "flooding" in text
    assert result.wc["dl_dst"] == 0xFFFFFFFFFFFF and result.wc["in_port"] == 0xFFFF


def test_learn_action_builds_a_mac_table_in_flows(sw: Switch) -> None:
    br = sw.bridge("br0", normal=False)
    for i in (1, 2, 3):
        sw.port(br, f"p{i}", i)
    flow_mod(br, "table=0,priority=0,actions=learn(table=1,hard_timeout=60,"
                 "NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),resubmit(,1)")
    flow_mod(br, "table=1,priority=0,actions=flood")
    sw.send("p1", frame(1, BCAST))
    got = sw.sent()
    assert got["p2"] == got["p3"] == [frame(1, BCAST)]
    learned = [r for r in br.tables if r.table_id == 1 and r.priority != 0]
    assert len(learned) == 1 and "dl_dst=02:00:00:00:00:01" in str(learned[0].match)
    sw.send("p2", frame(2, 1))
    got = sw.sent()
    assert got["p1"] == [frame(2, 1)] and got["p3"] == []
    # The same packet again is served by the datapath: learning is stable.
    n = sw.backer.n_upcalls
    sw.send("p2", frame(2, 1))
    assert sw.sent()["p1"] == [frame(2, 1)] and sw.backer.n_upcalls == n


def test_mpls_push_set_pop(sw: Switch) -> None:
    br = sw.bridge("br0", normal=False)
    for i in (1, 2, 3):
        sw.port(br, f"p{i}", i)
    flow_mod(br, "in_port=1,ip,actions=push_mpls:0x8847,set_field:77->mpls_label,output:2,"
                 "pop_mpls:0x0800,output:3")
    pkt = udp_frame(1, 2)
    sw.send("p1", pkt)
    got = sw.sent()
    lse = 77 << 12 | 1 << 8 | 64  # label 77, tc 0, bottom of stack, TTL from the IP header
    assert got["p2"] == [pkt[:12] + struct.pack("!HI", 0x8847, lse) + pkt[14:]]
    assert got["p3"] == [pkt]
