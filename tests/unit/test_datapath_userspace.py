"""The userspace datapath on dummy ports: caches, upcalls, statistics and every action.

The datapath runs synchronously here (no event loop): ``inject`` on a dummy
port processes the frame before it returns, so each test reads like
"packet in, what came out".
"""

from __future__ import annotations

import asyncio
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyovs.datapath.dpif import DpFlow, Upcall, UpcallResult
from pyovs.datapath.netdev import NetdevError, open_netdev
from pyovs.datapath.netdev.dummy import DummyNetdev
from pyovs.datapath.userspace import UserspaceDpif
from pyovs.openflow.packet import extract_flow
from pyovs.packet import build
from pyovs.packet.vnet import GSO_TCPV4, NEEDS_CSUM, VNET

A4, B4 = 0x0A000001, 0x0A000002
MAC1, MAC2 = 0x020000000001, 0x020000000002


def udp(sport: int = 1000, ident: int = 0, payload: bytes = b"data") -> bytes:
    return build.eth(MAC2, MAC1, 0x0800, build.ipv4(
        A4, B4, 17, build.udp(sport, 53, payload, A4, B4), ident=ident))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Switch:
    """A datapath with three dummy ports and a scripted handler."""

    def __init__(self, actions: list[tuple[Any, ...]] | None = None,
                 mask: dict[str, int] | None = None, install: bool = True) -> None:
        self.clock = Clock()
        self.dp = UserspaceDpif(clock=self.clock)
        self.p = {n: DummyNetdev(f"p{n}") for n in (1, 2, 3)}
        for n, dev in self.p.items():
            assert self.dp.port_add(dev, n) == n
        self.upcalls: list[Upcall] = []
        self.actions = actions if actions is not None else [("output", 2)]
        self.mask = mask if mask is not None else {}
        self.install = install
        self.dp.handler = self.handle

    def handle(self, upcall: Upcall) -> UpcallResult:
        self.upcalls.append(upcall)
        return UpcallResult(list(self.actions), dict(self.mask) if self.install else None,
                            owner=("rule", len(self.upcalls)))


def test_a_miss_upcalls_once_and_the_class_stays_in_the_fast_path() -> None:
    sw = Switch()
    for i in range(10):
        sw.p[1].inject(udp(ident=i, payload=b"x" * i))
    assert len(sw.upcalls) == 1
    up = sw.upcalls[0]
    assert up.in_port == 1 and up.flow["in_port"] == 1 and up.flow["recirc_id"] == 0
    assert up.flow["tp_src"] == 1000 and up.flow["nw_dst"] == B4
    assert len(sw.p[2].sent) == 10
    assert list(sw.p[2].sent)[3] == udp(ident=3, payload=b"xxx")
    c = sw.dp.counters()
    # The second packet enters the EMC through the megaflow table, the rest hit the EMC.
    assert (c["missed"], c["hit"], c["flows"], sw.dp.n_mf_hit) == (1, 9, 1, 1)
    # Another class under the same megaflow (mask: in_port only): megaflow hit, no upcall.
    sw.p[1].inject(udp(sport=7))
    sw.p[1].inject(udp(sport=7))
    assert len(sw.upcalls) == 1 and sw.dp.n_mf_hit == 2
    # Another port is another megaflow.
    sw.p[3].inject(udp())
    assert len(sw.upcalls) == 2


def test_masks_decide_which_packets_share_a_megaflow() -> None:
    sw = Switch(mask={"tp_src": 0xFFFF})
    sw.p[1].inject(udp(sport=1))
    sw.p[1].inject(udp(sport=2))
    sw.p[1].inject(udp(sport=1, ident=5))
    assert [u.flow["tp_src"] for u in sw.upcalls] == [1, 2]
    assert sw.dp.counters()["masks"] == 1 and sw.dp.counters()["flows"] == 2


def test_flush_invalidates_the_emc_and_megaflows() -> None:
    sw = Switch()
    sw.p[1].inject(udp())
    sw.dp.flush()
    sw.p[1].inject(udp())
    assert len(sw.upcalls) == 2
    sw.actions = [("output", 3)]
    sw.dp.flush()
    sw.p[1].inject(udp())
    assert len(sw.p[3].sent) == 1


def test_mask_none_means_every_packet_upcalls() -> None:
    sw = Switch(install=False)
    for _ in range(3):
        sw.p[1].inject(udp())
    assert len(sw.upcalls) == 3 and len(sw.p[2].sent) == 3
    assert list(sw.dp.dump_flows()) == []


def test_stats_dump_and_push_deltas() -> None:
    sw = Switch()
    for _ in range(4):
        sw.p[1].inject(udp())
    [flow] = sw.dp.dump_flows()
    frame_len = len(udp())
    assert (flow.packets, flow.bytes, flow.used) == (3, 3 * frame_len, 100.0)
    assert flow.key["in_port"] == 1 and flow.mask["in_port"] == 0xFFFFFFFF
    assert flow.actions == [("output", 2)] and flow.owner == ("rule", 1)
    assert list(sw.dp.push_stats()) == [(("rule", 1), 3, 3 * frame_len, 100.0)]
    assert list(sw.dp.push_stats()) == []
    sw.p[1].inject(udp())
    sw.dp.flush()  # a deleted flow still reports what it served
    assert list(sw.dp.push_stats()) == [(("rule", 1), 1, frame_len, 100.0)]
    assert list(sw.dp.push_stats()) == []


def test_expire_deletes_idle_megaflows() -> None:
    sw = Switch(mask={"tp_src": 0xFFFF})
    sw.p[1].inject(udp(sport=1))
    sw.clock.now = 105.0
    sw.p[1].inject(udp(sport=2))
    sw.p[1].inject(udp(sport=2))
    sw.clock.now = 111.0
    assert sw.dp.expire(sw.clock.now, 10.0) == 1  # sport=1: created at 100, never used
    assert [f.key["tp_src"] for f in sw.dp.dump_flows()] == [2]
    sw.p[1].inject(udp(sport=1))
    assert len(sw.upcalls) == 3


def test_revalidate_keeps_updates_and_deletes() -> None:
    sw = Switch(mask={"tp_src": 0xFFFF})
    for sport in (1, 2, 3):
        sw.p[1].inject(udp(sport=sport))

    def retranslate(flow: DpFlow) -> UpcallResult | None:
        sport = flow.key["tp_src"]
        if sport == 1:
            return None
        return UpcallResult([("output", 3 if sport == 2 else 2)], {"tp_src": 0xFFFF},
                            owner="new")

    assert sw.dp.revalidate(retranslate) == 1
    sw.p[1].inject(udp(sport=2))
    sw.p[1].inject(udp(sport=3))
    assert len(sw.p[3].sent) == 1 and len(sw.p[2].sent) == 4 and len(sw.upcalls) == 3
    sw.p[1].inject(udp(sport=1))
    assert len(sw.upcalls) == 4


def test_set_actions_keep_checksums() -> None:
    sw = Switch(actions=[("set", "nw_dst", 0xC0A80001, 0xFFFFFFFF),
                         ("set", "tp_dst", 5353, 0xFFFF),
                         ("set", "dl_dst", MAC1, (1 << 48) - 1), ("output", 2)])
    sw.p[1].inject(udp())
    sw.p[1].inject(udp(ident=9))
    for out in sw.p[2].sent:
        v = extract_flow(out).values
        assert (v["nw_dst"], v["tp_dst"], v["dl_dst"]) == (0xC0A80001, 5353, MAC1)
        assert build.l4_checksum_ok(out)


def test_vlan_clone_trunc_and_multiple_outputs() -> None:
    sw = Switch(actions=[
        ("push_vlan", 0x8100, 0x1000 | 10), ("output", 2),
        ("clone", [("pop_vlan",), ("set", "nw_ttl", 1, 0xFF), ("output", 3)]),
        ("trunc", 20), ("output", 1), ("output", 3), ("drop",), ("output", 2)])
    frame = udp()
    sw.p[1].inject(frame)
    tagged = frame[:12] + b"\x81\x00\x00\x0a" + frame[12:]
    assert list(sw.p[2].sent) == [tagged]
    ttl1, full = sw.p[3].sent
    assert extract_flow(ttl1).values["nw_ttl"] == 1 and build.l4_checksum_ok(ttl1)
    assert full == tagged  # the clone did not change the outer packet; trunc cut one output
    assert list(sw.p[1].sent) == [tagged[:20]]


def test_userspace_action_and_recirculation() -> None:
    sw = Switch(actions=[("userspace", "cookie"), ("recirc", 5)])
    seen: list[tuple[object, bytes, dict[str, int]]] = []
    sw.dp.on_userspace = lambda cookie, data, vnet, flow: seen.append((cookie, data, flow))
    frame = udp()

    def handle(upcall: Upcall) -> UpcallResult:
        sw.upcalls.append(upcall)
        if upcall.flow["recirc_id"] == 5:
            return UpcallResult([("output", 3)], {})
        return UpcallResult([("userspace", "cookie"), ("recirc", 5)], {})
    sw.dp.handler = handle
    sw.p[1].inject(frame)
    sw.p[1].inject(frame)
    assert [u.flow["recirc_id"] for u in sw.upcalls] == [0, 5]
    assert len(seen) == 2 and seen[0][0] == "cookie" and seen[0][2]["in_port"] == 1
    assert list(sw.p[3].sent) == [frame, frame]
    assert sorted(f.key["recirc_id"] for f in sw.dp.dump_flows()) == [0, 5]


def test_recirculation_loops_are_bounded() -> None:
    sw = Switch(actions=[("recirc", 1)])
    sw.p[1].inject(udp())
    assert sw.dp.n_lost == 1 and len(sw.upcalls) == 2


def test_execute_runs_a_packet_out() -> None:
    sw = Switch()
    sw.dp.execute(udp(), b"", [("set", "tp_src", 9, 0xFFFF), ("output", 3), ("output", 99)])
    [out] = sw.p[3].sent
    assert extract_flow(out).values["tp_src"] == 9 and build.l4_checksum_ok(out)
    for bad in ([("teleport", 3)], [("push_vlan", 0x18100, 5)], [("output",)],
                [("clone", ("output", 1))], [("trunc", -1)], [("set", "nw_src", 1)]):
        with pytest.raises(ValueError):
            sw.dp.execute(udp(), b"", bad)


def test_handler_failures_and_bad_actions_drop_the_packet() -> None:
    sw = Switch(actions=[("output", "two")])
    sw.p[1].inject(udp())
    assert sw.dp.n_lost == 1 and not sw.p[2].sent

    def boom(upcall: Upcall) -> UpcallResult:
        raise RuntimeError("slow path bug")
    sw.dp.handler = boom
    sw.p[1].inject(udp())
    assert sw.dp.n_lost == 2
    sw.dp.handler = None
    sw.p[1].inject(udp())
    assert sw.dp.n_lost == 3


def test_gso_frames_are_segmented_for_a_dummy_port() -> None:
    sw = Switch()
    payload = b"z" * 4000
    frame = build.eth(MAC2, MAC1, 0x0800, build.ipv4(
        A4, B4, 6, build.tcp(1, 2, payload, A4, B4)))
    vnet = VNET.pack(NEEDS_CSUM, GSO_TCPV4, 54, 1000, 34, 16)
    buf = bytearray(frame)
    buf[50:52] = b"\0\0"  # a wrong seed: only checks that all segments are recomputed
    sw.p[1].inject(bytes(buf), vnet)
    assert len(sw.p[2].sent) == 4


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=100), max_size=5), st.integers(0, 70000))
def test_bad_frames_never_raise(frames: list[bytes], big: int) -> None:
    sw = Switch(actions=[("set", "nw_src", 1, 0xFFFFFFFF), ("push_vlan", 0x8100, 0x1005),
                         ("output", 2), ("pop_vlan",), ("set", "tp_dst", 1, 0xFFFF),
                         ("output", 3)])
    for frame in [*frames, bytes(big), b""]:
        sw.p[1].inject(frame)
        sw.p[1].inject(frame, VNET.pack(NEEDS_CSUM, GSO_TCPV4, 0, 10, 34, 16))


def test_ports() -> None:
    dp = UserspaceDpif()
    a, b = DummyNetdev("a"), DummyNetdev("b")
    assert dp.port_add(a) == 1 and dp.port_add(b) == 2
    with pytest.raises(ValueError):
        dp.port_add(DummyNetdev("c"), 1)
    dp.port_del(1)
    assert dict(dp.ports()) == {2: b} and a.notify is None
    assert dp.port_add(DummyNetdev("local"), 0) == 0


def test_attached_to_an_event_loop_dummy_ports_drain_in_callbacks() -> None:
    async def main() -> None:
        sw = Switch()
        sw.dp.attach(asyncio.get_running_loop())
        for i in range(100):
            sw.p[1].inject(udp(ident=i))
        assert not sw.p[2].sent  # nothing ran inside inject
        for _ in range(5):
            await asyncio.sleep(0)
        assert len(sw.p[2].sent) == 100
        sw.dp.close()
    asyncio.run(main())


def test_open_netdev_errors_are_ovs_texts() -> None:
    with pytest.raises(NetdevError, match=r"^could not open network device nonexist0 "
                                          r"\(No such device\)$"):
        open_netdev("nonexist0", "system")
    with pytest.raises(NetdevError, match=r"\(No such device\)"):
        open_netdev("nonexist0", "tap")
    with pytest.raises(NetdevError, match="Address family not supported"):
        open_netdev("x", "geneve")
    dev = open_netdev("d0", "dummy")
    assert isinstance(dev, DummyNetdev) and dev.status().mtu == 1500


def test_dummy_netdev_stats() -> None:
    sw = Switch()
    sw.p[1].inject(udp())
    assert sw.p[1].stats().rx_packets == 1
    assert sw.p[2].stats().tx_packets == 1 and sw.p[2].stats().tx_bytes == len(udp())
    assert struct.unpack("!H", sw.p[2].sent[0][12:14]) == (0x0800,)


def test_tcp_flags_of_served_packets_are_reported() -> None:
    sw = Switch()

    def tcp(flags: int) -> bytes:
        return build.eth(MAC2, MAC1, 0x0800, build.ipv4(
            A4, B4, 6, build.tcp(1, 2, b"", A4, B4, flags=flags)))
    sw.p[1].inject(tcp(0x02))  # the upcalled SYN is not counted
    [flow] = sw.dp.dump_flows()
    assert (flow.packets, flow.tcp_flags) == (0, 0)
    sw.p[1].inject(tcp(0x10))
    sw.p[1].inject(tcp(0x10))
    sw.p[1].inject(tcp(0x18))
    [flow] = sw.dp.dump_flows()
    assert (flow.packets, flow.tcp_flags) == (3, 0x10 | 0x18)
