"""Checksums, software offloads (vnet), VLAN push/pop and "set" rewrites on raw frames.

Every rewritten frame is checked by summing it again from scratch
(``build.l4_checksum_ok``), never by the incremental code under test.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyovs.openflow.packet import extract_flow
from pyovs.packet import build
from pyovs.packet.csum import csum, ones_sum, pseudo_sum_v4, pseudo_sum_v6, update_csum
from pyovs.packet.rewrite import FIELDS, layout, pop_vlan, push_vlan, set_field
from pyovs.packet.vnet import GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4, NEEDS_CSUM, VNET, finish

A4, B4, C4 = 0x0A000001, 0x0A000002, 0xC0A80105
A6, B6 = 0x20010DB8 << 96 | 1, 0x20010DB8 << 96 | 2
MAC1, MAC2 = 0x020000000001, 0x020000000002


def naive_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


@given(st.binary(max_size=300))
def test_ones_sum_is_rfc1071(data: bytes) -> None:
    assert ones_sum(data) == naive_sum(data)


@given(st.binary(min_size=8, max_size=64).filter(lambda b: len(b) % 2 == 0),
       st.integers(0, 3), st.binary(min_size=2, max_size=2))
def test_incremental_update_matches_recomputing(data: bytes, word: int, new: bytes) -> None:
    at = (word * 2) % len(data)
    changed = data[:at] + new + data[at + 2:]
    assert ones_sum(changed, (~update_csum(csum(data), data[at:at + 2], new)) & 0xFFFF) in (
        0, 0xFFFF) or csum(changed) == update_csum(csum(data), data[at:at + 2], new)


def v4_tcp(payload: bytes = b"hello", flags: int = 0x18) -> bytes:
    return build.eth(MAC1, MAC2, 0x0800, build.ipv4(
        A4, B4, 6, build.tcp(1000, 80, payload, A4, B4, flags=flags, seq=7)))


def v4_udp(payload: bytes = b"hello", vlans: tuple[tuple[int, int], ...] = ()) -> bytes:
    return build.eth(MAC1, MAC2, 0x0800, build.ipv4(
        A4, B4, 17, build.udp(1000, 53, payload, A4, B4)), vlans)


def v6_tcp(payload: bytes = b"hello") -> bytes:
    return build.eth(MAC1, MAC2, 0x86DD, build.ipv6(
        A6, B6, 6, build.tcp(1000, 80, payload, A6.to_bytes(16, "big"),
                             B6.to_bytes(16, "big"), v6=True, seq=7)))


def pending(frame: bytes, l4: int, off: int, gso: int = 0, mss: int = 0) -> tuple[bytes, bytes]:
    """The frame as a sender with checksum offload hands it over: seed in the field."""
    l3, eth_type, _l4, proto = layout(frame)
    if eth_type == 0x0800:
        seed = pseudo_sum_v4(frame[l3 + 12:l3 + 16], frame[l3 + 16:l3 + 20], proto,
                             len(frame) - l4)
    else:
        seed = pseudo_sum_v6(frame[l3 + 8:l3 + 24], frame[l3 + 24:l3 + 40], proto,
                             len(frame) - l4)
    buf = bytearray(frame)
    buf[l4 + off:l4 + off + 2] = seed.to_bytes(2, "big")
    return bytes(buf), VNET.pack(NEEDS_CSUM, gso, 0, mss, l4, off)


def test_finishing_a_pending_checksum() -> None:
    for frame, l4, off in ((v4_tcp(), 34, 16), (v4_udp(), 34, 6), (v6_tcp(), 54, 16)):
        data, vnet = pending(frame, l4, off)
        assert not build.l4_checksum_ok(data)
        [done] = finish(data, vnet)
        assert done == frame


@pytest.mark.parametrize("v6", [False, True])
def test_tcp_segmentation(v6: bool) -> None:
    payload = bytes(range(256)) * 20  # 5120 bytes
    frame = v6_tcp(payload) if v6 else v4_tcp(payload, flags=0x19)  # PSH|FIN|ACK
    l4 = 54 if v6 else 34
    data, vnet = pending(frame, l4, 16, GSO_TCPV6 if v6 else GSO_TCPV4, 1448)
    segs = finish(data, vnet)
    assert len(segs) == 4
    got = b""
    for i, seg in enumerate(segs):
        assert build.l4_checksum_ok(seg)
        f = extract_flow(seg)
        assert f.l4 is not None
        thl = (f.l4[12] >> 4) * 4
        got += f.l4[thl:]
        seq = int.from_bytes(f.l4[4:8], "big")
        assert seq == 7 + 1448 * i
        if not v6:
            assert int.from_bytes(seg[18:20], "big") == i  # IPv4 id counts up
        last = i == len(segs) - 1
        assert bool(f.values["tcp_flags"] & 0x09) == last  # PSH and FIN only on the last
    assert got == payload


def test_udp_segmentation() -> None:
    payload = b"x" * 3000
    frame = v4_udp(payload)
    data, vnet = pending(frame, 34, 6, GSO_UDP_L4, 1000)
    segs = finish(data, vnet)
    assert [len(s) - 42 for s in segs] == [1000, 1000, 1000]
    assert all(build.l4_checksum_ok(s) for s in segs)


def test_vlan_push_pop_round_trip_moves_csum_start() -> None:
    data, vnet = pending(v4_tcp(), 34, 16)
    tagged, vnet2 = push_vlan(data, vnet, 0x8100, 0x1000 | 42)
    assert tagged[12:16] == b"\x81\x00\x00\x2a"
    assert VNET.unpack(vnet2)[4] == 38
    assert extract_flow(tagged).values["vlan_tci"] == 0x1000 | 42
    assert finish(tagged, vnet2)[0] == push_vlan(v4_tcp(), b"", 0x8100, 0x1000 | 42)[0]
    assert pop_vlan(tagged, vnet2) == (data, vnet)
    assert pop_vlan(b"short", b"") == (b"short", b"")


REWRITES = [
    ("dl_dst", 0x0A0B0C0D0E0F, (1 << 48) - 1),
    ("dl_src", 0x0A0B0C0D0E0F, (1 << 48) - 1),
    ("nw_src", C4, 0xFFFFFFFF),
    ("nw_dst", C4, 0xFFFFFF00),
    ("nw_tos", 0xB8, 0xFC),
    ("nw_ttl", 9, 0xFF),
    ("tp_src", 4321, 0xFFFF),
    ("tp_dst", 4321, 0xFFFF),
]


@pytest.mark.parametrize(("slot", "value", "mask"), REWRITES)
@pytest.mark.parametrize("kind", ["tcp", "udp", "udp-vlan"])
def test_set_field_ipv4(slot: str, value: int, mask: int, kind: str) -> None:
    frame = {"tcp": v4_tcp(), "udp": v4_udp(),
             "udp-vlan": v4_udp(vlans=((0x8100, 7),))}[kind]
    before = extract_flow(frame).values
    out = set_field(frame, b"", slot, value, mask)
    after = extract_flow(out).values
    assert after[slot] == (before[slot] & ~mask) | (value & mask)
    assert {k: v for k, v in after.items() if k != slot} == {
        k: v for k, v in before.items() if k != slot}
    assert build.l4_checksum_ok(out)
    # The same rewrite on a checksum-pending frame, finished afterwards.
    l4 = 38 if kind == "udp-vlan" else 34
    data, vnet = pending(frame, l4, 16 if kind == "tcp" else 6)
    assert finish(set_field(data, vnet, slot, value, mask), vnet)[0] == out


@pytest.mark.parametrize(("slot", "value", "mask"), [
    ("ipv6_src", 0xFE80 << 112 | 5, (1 << 128) - 1), ("ipv6_dst", 7, 0xFFFF),
    ("ipv6_label", 0xABCDE, 0xFFFFF), ("nw_tos", 0x20, 0xFF), ("nw_ttl", 1, 0xFF),
    ("tp_src", 1, 0xFFFF), ("tp_dst", 2, 0xFFFF)])
def test_set_field_ipv6(slot: str, value: int, mask: int) -> None:
    frame = v6_tcp()
    out = set_field(frame, b"", slot, value, mask)
    assert extract_flow(out).values[slot] == (extract_flow(frame).values[slot] & ~mask) | value
    assert build.l4_checksum_ok(out)
    data, vnet = pending(frame, 54, 16)
    assert finish(set_field(data, vnet, slot, value, mask), vnet)[0] == out


def test_set_field_icmp_and_arp() -> None:
    ping = build.eth(MAC1, MAC2, 0x0800, build.ipv4(A4, B4, 1, build.icmp4(8, 0, b"abcd")))
    out = set_field(set_field(ping, b"", "tp_src", 0, 0xFF), b"", "nw_dst", C4, 0xFFFFFFFF)
    assert extract_flow(out).values["tp_src"] == 0
    assert build.l4_checksum_ok(out)
    arp = build.eth(MAC1, MAC2, 0x0806, struct.pack("!HHBBH6s4s6s4s", 1, 0x800, 6, 4, 1,
                                                     bytes(6), bytes(4), bytes(6), bytes(4)))
    for slot, value in (("nw_src", A4), ("nw_dst", B4), ("arp_sha", MAC1), ("arp_tha", MAC2),
                        ("nw_proto", 2)):
        arp = set_field(arp, b"", slot, value, (1 << 48) - 1)
        assert extract_flow(arp).values[slot] == value


def test_set_mpls_lse() -> None:
    frame = build.eth(MAC1, MAC2, 0x8847, struct.pack("!I", 5 << 12 | 1 << 8 | 64) + bytes(30))
    out = set_field(frame, b"", "mpls_lse", 7 << 12 | 1 << 8 | 63, 0xFFFFFFFF)
    assert extract_flow(out).values["mpls_lse"] == 7 << 12 | 1 << 8 | 63


def test_udp_without_checksum_stays_without() -> None:
    frame = bytearray(v4_udp())
    frame[40:42] = b"\0\0"
    out = set_field(bytes(frame), b"", "nw_src", C4, 0xFFFFFFFF)
    assert out[40:42] == b"\0\0"


@given(st.binary(max_size=80), st.sampled_from(sorted({s for s, _ in FIELDS})),
       st.integers(0, (1 << 128) - 1))
def test_rewrites_never_raise_on_garbage(data: bytes, slot: str, value: int) -> None:
    set_field(data, b"", slot, value, value)
    push_vlan(data, b"", 0x8100, 5)
    pop_vlan(data, b"")
    finish(data, VNET.pack(NEEDS_CSUM, GSO_TCPV4, 0, 100, 34, 16))
    finish(data, VNET.pack(NEEDS_CSUM, 0, 0, 0, 60000, 16))
