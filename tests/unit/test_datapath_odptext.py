"""Datapath flows printed as ``ovs-appctl dpctl/dump-flows`` prints netdev datapath flows."""

from __future__ import annotations

from pyovs.datapath.dpif import DpFlow
from pyovs.datapath.odptext import format_actions, format_dpflow
from pyovs.openflow.packet import extract_flow
from pyovs.packet import build

EXACT32 = 0xFFFFFFFF
MAC48 = (1 << 48) - 1
BASE = {"in_port": EXACT32, "recirc_id": EXACT32, "packet_type": EXACT32,
        "dl_src": MAC48, "dl_dst": MAC48, "dl_type": 0xFFFF}


def dpflow(frame: bytes, mask: dict[str, int], actions: list[tuple[object, ...]],
           packets: int = 0, nbytes: int = 0, used: float = 0.0) -> DpFlow:
    flow = {**extract_flow(frame).values, "in_port": 2, "recirc_id": 0}
    key = {slot: flow.get(slot, 0) & bits for slot, bits in mask.items()}
    return DpFlow(key, dict(mask), list(actions), packets, nbytes, used)


PING = build.eth(0x0A0000000002, 0x0A0000000001, 0x0800, build.ipv4(
    0x0A000001, 0x0A000002, 1, build.icmp4(8, 0, bytes(56))))


def test_the_common_line() -> None:
    f = dpflow(PING, {**BASE, "nw_frag": 3}, [("output", 3)], 3, 294, 99.48)
    assert format_dpflow(f, 100.0) == (
        "recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src=0a:00:00:00:00:01,"
        "dst=0a:00:00:00:00:02),eth_type(0x0800),ipv4(frag=no), packets:3, bytes:294, "
        "used:0.520s, actions:3")


def test_never_used_names_and_drop() -> None:
    f = dpflow(PING, {"in_port": EXACT32, "recirc_id": EXACT32}, [])
    assert format_dpflow(f, 5.0, {2: "veth0"}) == (
        "recirc_id(0),in_port(veth0),packet_type(ns=0,id=0), packets:0, bytes:0, "
        "used:never, actions:drop")


def test_masked_fields_and_l4() -> None:
    mask = {**BASE, "nw_src": 0xFFFFFF00, "nw_proto": 0xFF, "nw_tos": 0xFC, "nw_frag": 3,
            "tp_src": 0xFF, "tp_dst": 0xFF, "dl_src": 0}
    assert format_dpflow(dpflow(PING, mask, [("output", 1)]), 0.0).startswith(
        "recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(dst=0a:00:00:00:00:02),"
        "eth_type(0x0800),ipv4(src=10.0.0.0/255.255.255.0,proto=1,tos=0/0xfc,frag=no),"
        "icmp(type=8,code=0), ")
    syn = build.eth(2, 1, 0x0800, build.ipv4(1, 2, 6, build.tcp(1234, 80, b"", flags=0x02)))
    mask = {**BASE, "nw_proto": 0xFF, "nw_frag": 3, "tp_dst": 0xFFFF, "tcp_flags": 0x12}
    assert ",tcp(dst=80),tcp_flags(+syn-ack), " in format_dpflow(dpflow(syn, mask, []), 0.0)


def test_vlan_flows_nest_the_inner_headers_in_encap() -> None:
    tagged = build.eth(2, 1, 0x0800, build.ipv4(1, 2, 17, build.udp(1, 2, b"")),
                       ((0x8100, 10),))
    mask = {**BASE, "vlan_tci": 0xFFFF, "nw_frag": 3}
    assert format_dpflow(dpflow(tagged, mask, [("pop_vlan",), ("output", 3)]), 0.0) == (
        "recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src=00:00:00:00:00:01,"
        "dst=00:00:00:00:00:02),eth_type(0x8100),vlan(vid=10,pcp=0),"
        "encap(eth_type(0x0800),ipv4(frag=no)), packets:0, bytes:0, used:never, "
        "actions:pop_vlan,3")


def test_actions() -> None:
    v6 = {"dl_type": 0x86DD, "nw_proto": 17}
    assert format_actions([("set", "nw_ttl", 63, 0xFF), ("set", "tp_dst", 53, 0xFFFF),
                           ("push_vlan", 0x88A8, 0x1000 | 5), ("trunc", 100),
                           ("output", 3), ("clone", [("output", 1)]), ("recirc", 1),
                           ("userspace", None), ("drop",)], {3: "p3"}, v6) == (
        "set(ipv6(hlimit=63)),set(udp(dst=53)),push_vlan(tpid=0x88a8,vid=5,pcp=0),"
        "trunc(100),p3,clone(1),recirc(0x1),userspace(pid=0),drop")
    assert format_actions([("set", "mpls_lse", 5 << 12 | 1 << 8 | 64, EXACT32)]) == (
        "set(mpls(label=5,tc=0,ttl=64,bos=1))")
    assert format_actions([("set", "nw_dst", 0x0A000001, EXACT32),
                           ("set", "dl_src", 1, MAC48)]) == (
        "set(ipv4(dst=10.0.0.1)),set(eth(src=00:00:00:00:00:01))")


def test_tcp_flags_in_the_statistics() -> None:
    f = dpflow(PING, {"in_port": EXACT32, "recirc_id": EXACT32}, [("output", 1)], 2, 120, 1.0)
    f.tcp_flags = 0x1B
    assert ", used:0.000s, flags:SFP., actions:1" in format_dpflow(f, 1.0)


def test_lines_the_real_ovs_printed() -> None:
    """Captured from ovs-vswitchd 3.1 (dummy datapath, NORMAL, two packets injected)."""
    mask = {**BASE, "nw_frag": 3}
    syn = build.eth(0x505400000002, 0x505400000001, 0x0800, build.ipv4(
        0x0A000001, 0x0A000002, 6, build.tcp(1234, 80, b"", flags=0x02)))
    flow = dpflow(syn, mask, [("output", 2), ("output", 100)])
    flow.key["in_port"] = 1
    assert format_dpflow(flow, 0.0) == (
        "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:01,"
        "dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, "
        "used:never, actions:2,100")
    reply = build.eth(0x505400000001, 0x505400000002, 0x0800, build.ipv4(
        0x0A000002, 0x0A000001, 1, build.icmp4(0, 0, b"")), ((0x8100, 10),))
    flow = dpflow(reply, {**mask, "vlan_tci": 0x1FFF}, [("output", 100), ("output", 1)])
    assert format_dpflow(flow, 0.0) == (
        "recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:02,"
        "dst=50:54:00:00:00:01),eth_type(0x8100),vlan(vid=10),encap(eth_type(0x0800),"
        "ipv4(frag=no)), packets:0, bytes:0, used:never, actions:100,1")


def test_sets_of_one_header_print_as_one_as_ovs_commits_them() -> None:
    """As ovs-vswitchd 3.1 printed them for mod_nw_dst, mod_tp_dst, dec_ttl, mod_vlan_vid."""
    acts = [("set", "nw_dst", 0x0A000009, EXACT32), ("set", "nw_ttl", 63, 0xFF),
            ("set", "tp_dst", 81, 0xFFFF), ("push_vlan", 0x8100, 0x1000 | 5), ("output", 2)]
    assert format_actions(acts, None, {"dl_type": 0x0800, "nw_proto": 6}) == (
        "set(ipv4(dst=10.0.0.9,ttl=63)),set(tcp(dst=81)),push_vlan(vid=5,pcp=0),2")
    v6 = [("set", "ipv6_label", 0x40, 0xFFFFF), ("set", "nw_ttl", 9, 0xFF), ("output", 1)]
    assert format_actions(v6, None, {"dl_type": 0x86DD, "nw_proto": 17}) == (
        "set(ipv6(label=0x40,hlimit=9)),1")


def test_a_partly_wildcarded_line_the_real_ovs_printed() -> None:
    mask = {"in_port": EXACT32, "recirc_id": EXACT32, "packet_type": EXACT32,
            "dl_type": 0xFFFF, "nw_dst": EXACT32, "nw_proto": 0xFF, "nw_ttl": 0xFF,
            "nw_frag": 3, "tp_dst": 0xFFFF}
    ack = build.eth(0x505400000002, 0x505400000001, 0x0800, build.ipv4(
        0x0A000001, 0x0A000002, 6, build.tcp(1234, 80, b"", flags=0x10)))
    acts = [("set", "nw_dst", 0x0A000009, EXACT32), ("set", "nw_ttl", 63, 0xFF),
            ("set", "tp_dst", 81, 0xFFFF), ("push_vlan", 0x8100, 0x1000 | 5), ("output", 2)]
    flow = dpflow(ack, mask, acts, 1, 118, 9.447)
    flow.key["in_port"], flow.tcp_flags = 1, 0x10
    assert format_dpflow(flow, 10.0) == (
        "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),"
        "ipv4(dst=10.0.0.2,proto=6,ttl=64,frag=no),tcp(dst=80), packets:1, bytes:118, "
        "used:0.553s, flags:., actions:set(ipv4(dst=10.0.0.9,ttl=63)),set(tcp(dst=81)),"
        "push_vlan(vid=5,pcp=0),2")
