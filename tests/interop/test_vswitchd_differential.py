"""Differential forwarding: the same flows and frames into pyovs and the real OVS.

For each flow set of ``CASES`` (NORMAL, output, rewrites of L2/L3/L4
fields, VLAN push/pop/modify, resubmit, goto_table, groups of type all and
fast_failover, drop), both switches (``switch_peers``: dummy ports
``p1``..``p4`` on a bridge of the same name, same datapath ID) are emptied
(flows, groups, MAC table), given the flows with the real ``ovs-ofctl``,
and fed the same frames one at a time with ``netdev-dummy/receive``.  What
leaves each port -- the exact bytes, in order -- must be the same.

The frames are built here with ``struct`` (checksums computed from the
RFCs), independent of pyovs's packet code, so that a rewrite that forgets to
update a checksum shows as a byte difference.  The bridge's LOCAL port is
not compared: on the real switch it is a dummy under
``--enable-dummy=override``, on pyovs a tap device.

``test_normal_with_vlan_port_modes`` does the same for the NORMAL action on
a second bridge whose ports are VLAN access ports, a trunk and a
native-untagged port.

Flows that overlap have distinct priorities: which of two equal-priority
overlapping flows wins is undefined in OpenFlow.

Cases whose difference lies in code this suite may not fix (xlate,
NORMAL, the datapath) are strict xfails naming the difference.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from switch_peers import Switchd, bridge_name, switchd, unavailable

pytestmark = [pytest.mark.interop]

PORTS = ("p1", "p2", "p3", "p4")


# --- frames ---------------------------------------------------------------------------

def mac(i: int) -> bytes:
    return bytes((0x02, 0, 0, 0, 0, i))


BCAST = b"\xff" * 6


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def eth(dst: bytes, src: bytes, ethertype: int, payload: bytes, vlan: int | None = None,
        pcp: int = 0) -> bytes:
    tag = struct.pack("!HH", 0x8100, pcp << 13 | vlan) if vlan is not None else b""
    return dst + src + tag + struct.pack("!H", ethertype) + payload


def ipv4(src: str, dst: str, proto: int, payload: bytes, ttl: int = 64, tos: int = 0) -> bytes:
    s, d = bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))
    head = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(payload), 0x1234, 0, ttl, proto, 0,
                       s, d)
    head = head[:10] + struct.pack("!H", _csum(head)) + head[12:]
    return head + payload


def _l4(src: str, dst: str, proto: int, segment: bytes, csum_at: int) -> bytes:
    s, d = bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))
    pseudo = s + d + struct.pack("!BBH", 0, proto, len(segment))
    c = _csum(pseudo + segment) or (0xFFFF if proto == 17 else 0)
    return segment[:csum_at] + struct.pack("!H", c) + segment[csum_at + 2:]


def udp(src: str, dst: str, sport: int, dport: int, data: bytes = b"pyovs-udp") -> bytes:
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    return ipv4(src, dst, 17, _l4(src, dst, 17, seg, 6))


def tcp(src: str, dst: str, sport: int, dport: int, data: bytes = b"pyovs-tcp") -> bytes:
    seg = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, 0x18, 8192, 0, 0) + data
    return ipv4(src, dst, 6, _l4(src, dst, 6, seg, 16))


def icmp_echo(src: str, dst: str) -> bytes:
    msg = struct.pack("!BBHHH", 8, 0, 0, 7, 1) + b"ping" * 4
    msg = msg[:2] + struct.pack("!H", _csum(msg)) + msg[4:]
    return ipv4(src, dst, 1, msg)


def arp_request(sha: bytes, spa: str, tpa: str) -> bytes:
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, sha,
                       bytes(map(int, spa.split("."))), b"\0" * 6,
                       bytes(map(int, tpa.split("."))))


def ipv6_udp(sport: int, dport: int) -> bytes:
    src = bytes.fromhex("20010db8000000000000000000000001")
    dst = bytes.fromhex("20010db8000000000000000000000002")
    data = b"pyovs-v6"
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    pseudo = src + dst + struct.pack("!IxxxB", len(seg), 17)
    seg = seg[:6] + struct.pack("!H", _csum(pseudo + seg) or 0xFFFF) + seg[8:]
    return struct.pack("!IHBB", 6 << 28, len(seg), 17, 64) + src + dst + seg


H1, H2, H3 = mac(1), mac(2), mac(3)
FRAMES: dict[str, bytes] = {
    "arp": eth(BCAST, H1, 0x0806, arp_request(H1, "10.0.0.1", "10.0.0.2")),
    "udp": eth(H2, H1, 0x0800, udp("10.0.0.1", "10.0.0.2", 1000, 53)),
    "tcp": eth(H2, H1, 0x0800, tcp("10.0.0.1", "10.0.0.2", 40000, 80)),
    "icmp": eth(H2, H1, 0x0800, icmp_echo("10.0.0.1", "10.0.0.2")),
    "udp6": eth(H2, H1, 0x86DD, ipv6_udp(5000, 6000)),
    "vlan10": eth(H2, H1, 0x0800, udp("10.0.0.1", "10.0.0.2", 1000, 53), vlan=10, pcp=3),
    "raw": eth(H3, H1, 0x88B5, b"pyovs-raw-frame-" * 3),
    "reply": eth(H1, H2, 0x0800, udp("10.0.0.2", "10.0.0.1", 53, 1000)),
}


# --- cases ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    name: str
    flows: tuple[str, ...]
    packets: tuple[tuple[str, str], ...]
    """(input port, frame name), fed in order."""
    version: str = "OpenFlow13"
    groups: tuple[str, ...] = ()
    xfail: str | None = None


ALL = tuple((p, f) for p in ("p1",) for f in FRAMES)
CASES = (
    Case("normal", ("priority=0,actions=NORMAL",),
         (("p1", "arp"), ("p2", "reply"), ("p1", "udp"), ("p3", "raw"), ("p1", "vlan10"),
          ("p2", "reply"))),
    Case("output", ("in_port=1,actions=output:2", "in_port=2,actions=output:1,output:3",
                    "in_port=3,actions=all", "in_port=4,actions=in_port,output:1"),
         (("p1", "udp"), ("p2", "tcp"), ("p3", "arp"), ("p4", "raw")), version="OpenFlow10"),
    Case("mod_dl", ("in_port=1,actions=mod_dl_src:0a:00:00:00:00:01,"
                    "mod_dl_dst:0a:00:00:00:00:02,output:2",),
         ALL, version="OpenFlow10"),
    Case("mod_nw", ("ip,in_port=1,actions=mod_nw_src:192.168.0.1,mod_nw_dst:192.168.0.2,"
                    "mod_nw_tos:32,output:2",
                    "ipv6,in_port=1,actions=output:3"),
         ALL, version="OpenFlow10"),
    Case("ttl", ("ip,in_port=1,actions=dec_ttl,output:2",
                 "priority=0,in_port=1,actions=output:3"),
         ALL),
    Case("mod_tp", ("tcp,in_port=1,actions=mod_tp_src:1111,mod_tp_dst:2222,output:2",
                    "udp,in_port=1,actions=mod_tp_dst:5353,output:3",
                    "udp6,in_port=1,actions=set_field:7777->udp_src,output:4"),
         ALL),
    Case("set_field", ("ip,in_port=1,actions=set_field:10.9.9.9->ip_dst,"
                       "set_field:02:aa:bb:cc:dd:ee->eth_src,output:2",),
         ALL),
    Case("vlan_push", ("in_port=1,dl_vlan=0xffff,actions=push_vlan:0x8100,"
                       "set_field:4196->vlan_vid,output:2",
                       "in_port=1,dl_vlan=10,actions=mod_vlan_vid:20,mod_vlan_pcp:5,output:3",
                       "in_port=2,actions=output:1"),
         ALL),
    Case("vlan_of10", ("in_port=1,dl_vlan=0xffff,actions=mod_vlan_vid:30,output:2",
                       "in_port=1,dl_vlan=10,actions=strip_vlan,output:3"),
         ALL, version="OpenFlow10"),
    Case("vlan_pop", ("in_port=1,vlan_tci=0x1000/0x1000,actions=pop_vlan,output:4",
                      "priority=0,in_port=1,actions=output:2"),
         ALL),
    Case("resubmit", ("table=0,in_port=1,actions=resubmit(,1),output:4",
                      "table=1,udp,actions=mod_tp_dst:99,output:2",
                      "table=1,priority=0,actions=resubmit(2,2)",
                      "table=2,in_port=2,actions=output:3"),
         ALL),
    Case("goto_table", ("table=0,in_port=1,actions=mod_dl_dst:02:00:00:00:00:09,goto_table:3",
                        "table=3,ip,actions=output:2",
                        "table=3,priority=0,actions=write_actions(output:3)"),
         ALL),
    Case("group_all", ("in_port=1,actions=group:1",),
         ALL, groups=("group_id=1,type=all,bucket=output:2,"
                      "bucket=mod_dl_dst:02:00:00:00:00:42,output:3,bucket=output:4",)),
    Case("group_ff", ("in_port=1,actions=group:2", "in_port=3,actions=group:3"),
         (("p1", "udp"), ("p3", "tcp")),
         groups=("group_id=2,type=fast_failover,bucket=watch_port:2,output:2,"
                 "bucket=watch_port:3,output:3",
                 "group_id=3,type=fast_failover,bucket=watch_port:9,output:9,"
                 "bucket=watch_port:4,output:4")),
    Case("outputs_between_rewrites",
         ("ip,in_port=1,actions=output:2,mod_dl_src:02:00:00:00:00:77,output:3,"
          "mod_nw_dst:10.7.7.7,output:4,in_port",
          "priority=0,in_port=1,actions=output:2,mod_dl_src:02:00:00:00:00:77,output:3"),
         ALL, version="OpenFlow10"),
    Case("mod_nw_dst_on_arp", ("arp,in_port=1,actions=mod_nw_dst:10.7.7.7,output:4",),
         (("p1", "arp"),), version="OpenFlow10"),
    Case("output_to_in_port_drops", ("in_port=1,actions=output:1,flood",), ALL,
         version="OpenFlow10"),
    Case("registers", ("table=0,in_port=1,actions=load:0x5->NXM_NX_REG0[],"
                       "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],resubmit(,1)",
                       "table=1,reg0=5,ip,actions=output:2",
                       "table=1,reg0=5,priority=0,actions=output:3"),
         ALL),
    Case("ttl_expiry", ("ip,in_port=1,actions=mod_nw_ttl:1,output:2,dec_ttl,output:3",),
         ALL),
    Case("ipv6_rewrite", ("ipv6,in_port=1,actions=set_field:2001:db8::99->ipv6_dst,"
                          "mod_nw_tos:16,output:2",),
         ALL),
    Case("arp_rewrite", ("arp,in_port=1,actions=set_field:10.0.0.99->arp_tpa,"
                         "set_field:10.0.0.98->arp_spa,set_field:02:00:00:00:00:55->arp_sha,"
                         "output:2",),
         ALL),
    Case("arp_op_rewrite", ("arp,in_port=1,actions=set_field:2->arp_op,output:2",),
         (("p1", "arp"),)),
    Case("dscp_ecn", ("ip,in_port=1,actions=set_field:46->ip_dscp,"
                      "set_field:1->nw_ecn,output:2",),
         ALL),
    Case("qinq_push_on_tagged",
         ("in_port=1,dl_vlan=10,actions=push_vlan:0x88a8,mod_vlan_vid:100,output:2",),
         (("p1", "vlan10"),)),
    Case("qinq_double_push",
         ("in_port=1,actions=push_vlan:0x8100,mod_vlan_vid:5,push_vlan:0x8100,"
          "mod_vlan_vid:6,output:3",),
         (("p1", "udp"),)),
    Case("mpls", ("ip,in_port=1,actions=push_mpls:0x8847,set_field:77->mpls_label,output:2",),
         (("p1", "udp"),)),
    Case("mpls_pop", ("in_port=1,ip,actions=push_mpls:0x8847,set_mpls_ttl:9,output:2,"
                      "pop_mpls:0x0800,output:3",),
         (("p1", "udp"),)),
    Case("truncate", ("in_port=1,actions=output(port=2,max_len=40),output:3",), ALL),
    Case("drop", ("in_port=1,udp,actions=drop", "in_port=1,priority=0,actions=output:2"),
         ALL),
    Case("no_flows", (), ALL),
)


# --- the pair of switches -------------------------------------------------------------

@dataclass
class Pair:
    real: Switchd
    py: Switchd
    bridge: str

    def load(self, case: Case) -> None:
        for sw in (self.real, self.py):
            for args in (("del-flows", self.bridge),
                         ("-O", "OpenFlow13", "del-groups", self.bridge)):
                proc = sw.ofctl(*args)
                assert proc.returncode == 0, (sw.kind, args, proc.stderr)
            sw.appctl("fdb/flush", self.bridge)
            for group in case.groups:
                proc = sw.ofctl("-O", case.version, "add-group", self.bridge, group)
                assert proc.returncode == 0, (sw.kind, group, proc.stderr)
            for flow in case.flows:
                proc = sw.ofctl("-O", case.version, "add-flow", self.bridge, flow)
                assert proc.returncode == 0, (sw.kind, flow, proc.stderr)
            sw.sent()  # forget anything earlier

    def feed(self, port: str, frame: bytes) -> tuple[dict[str, list[bytes]],
                                                     dict[str, list[bytes]]]:
        for sw in (self.real, self.py):
            sw.receive(port, frame)
        return self.real.sent(), self.py.sent()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("vswitchd-diff")
    br = bridge_name()
    with switchd("real", tmp) as real, switchd("pyovs", tmp) as py:
        for sw in (real, py):
            sw.add_bridge(br, PORTS)
        yield Pair(real, py, br)


def _show(sent: dict[str, list[bytes]]) -> str:
    return "; ".join(f"{port}: {[f.hex() for f in frames]}" for port, frames in sent.items()
                     if frames) or "nothing"


def _params() -> list[object]:
    out: list[object] = []
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        out.append(pytest.param(case, id=case.name, marks=marks))
    return out


@pytest.mark.parametrize("case", _params())
def test_same_frames_leave_the_same_ports(pair: Pair, case: Case) -> None:
    pair.load(case)
    differences = []
    forwarded = 0
    for port, name in case.packets:
        real, py = pair.feed(port, FRAMES[name])
        forwarded += sum(len(v) for v in real.values())
        if real != py:
            differences.append(f"{name} into {port}:\n  real:  {_show(real)}\n"
                               f"  pyovs: {_show(py)}")
    assert not differences, "\n".join(differences)
    if case.name not in ("no_flows",):
        assert forwarded, "the case forwarded nothing on the real switch: a broken case"


# --- NORMAL with VLAN port modes ---------------------------------------------------------

VLAN_PORTS = {"q1": ("tag=10",), "q2": ("tag=10",), "q3": ("trunks=10,20",),
              "q4": ("tag=20",), "q5": ("tag=20", "vlan_mode=native-untagged", "trunks=10")}
"""Access ports on VLANs 10 and 20, a trunk, a native-untagged port."""

VLAN_FRAMES = (
    ("q1", eth(BCAST, H1, 0x0806, arp_request(H1, "10.0.0.1", "10.0.0.2"))),
    ("q2", eth(H1, H2, 0x0800, udp("10.0.0.2", "10.0.0.1", 53, 1000))),
    ("q3", eth(BCAST, H3, 0x88B5, b"trunk-frame-on-20-" * 3, vlan=20)),
    ("q3", eth(H1, H3, 0x0800, udp("10.0.0.3", "10.0.0.1", 7, 1000), vlan=10)),
    ("q3", eth(BCAST, H3, 0x88B5, b"trunk-frame-on-30-" * 3, vlan=30)),
    ("q5", eth(BCAST, mac(5), 0x88B5, b"native-untagged-" * 3)),
    ("q5", eth(BCAST, mac(5), 0x88B5, b"tagged-ten-on-q5-" * 3, vlan=10)),
    ("q1", eth(BCAST, H1, 0x88B5, b"tagged-on-access-" * 3, vlan=10)),
    ("q4", eth(mac(5), mac(4), 0x0800, udp("10.0.0.4", "10.0.0.5", 9, 9))),
)


@pytest.fixture(scope="module")
def vlan_pair(pair: Pair) -> Pair:
    br = bridge_name()
    for sw in (pair.real, pair.py):
        cmd = ["add-br", br, "--", "set", "bridge", br, "datapath_type=netdev",
               "other_config:datapath-id=0000000000000002"]
        for i, (port, settings) in enumerate(VLAN_PORTS.items(), 1):
            cmd += ["--", "add-port", br, port, *settings, "--", "set", "interface", port,
                    "type=dummy", f"ofport_request={i}"]
            if sw.kind == "real":
                cmd.append(f"options:tx_pcap={sw.dir / (port + '.pcap')}")
            sw.dummy_ports.append(port)
        sw.vsctl(*cmd)
    return Pair(pair.real, pair.py, br)


def test_normal_with_vlan_port_modes(vlan_pair: Pair) -> None:
    for sw in (vlan_pair.real, vlan_pair.py):
        sw.appctl("fdb/flush", vlan_pair.bridge)
        sw.sent()
    differences = []
    forwarded = 0
    for port, frame in VLAN_FRAMES:
        real, py = vlan_pair.feed(port, frame)
        real = {p: f for p, f in real.items() if p in VLAN_PORTS}
        py = {p: f for p, f in py.items() if p in VLAN_PORTS}
        forwarded += sum(map(len, real.values()))
        if real != py:
            differences.append(f"{frame.hex()[:40]}... into {port}:\n  real:  {_show(real)}\n"
                               f"  pyovs: {_show(py)}")
    assert not differences, "\n".join(differences)
    assert forwarded >= 10, "the real switch forwarded too little: a broken case"
