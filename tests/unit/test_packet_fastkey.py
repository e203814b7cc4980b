"""The exact-match key is sound: equal keys mean equal ``extract_flow`` results.

Frames are drawn around the shapes the fast path knows (tags, IPv4 with
and without options and fragments, IPv6, TCP/UDP/ICMP/other protocols,
lengths right and wrong), then a second frame is made from the first by
overwriting random bytes and changing its length.  Whenever the two get the
same key, their flows must be equal -- the property the EMC relies on.
"""

from __future__ import annotations

import struct

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pyovs.openflow.packet import extract_flow
from pyovs.packet import build
from pyovs.packet.fastkey import fast_key, flow_key

MAC1, MAC2 = 0x020000000001, 0x020000000002


@st.composite
def frames(draw: st.DrawFn) -> bytes:
    vlans = draw(st.sampled_from([(), ((0x8100, 5),), ((0x88A8, 7),), ((0x88A8, 1), (0x8100, 2))]))
    eth_type = draw(st.sampled_from([0x0800, 0x0800, 0x0800, 0x86DD, 0x86DD, 0x0806, 0x1234]))
    proto = draw(st.sampled_from([6, 6, 6, 17, 17, 17, 1, 1, 2, 58, 132, 47, 0, 44, 60]))
    l4 = draw(st.binary(min_size=0, max_size=48)) if draw(st.booleans()) else bytes(40)
    if proto == 6 and len(l4) >= 20:
        l4 = l4[:12] + bytes((draw(st.sampled_from([0x50, 0x80, 0x40, 0xF0])),)) + l4[13:]
    if eth_type == 0x0800:
        options = draw(st.sampled_from([b"", b"", b"", b"\x01\x01\x01\x00"]))
        frag = draw(st.sampled_from([0x4000, 0, 0x2000, 0x0010, 0x8000]))
        payload = build.ipv4(0x0A000001, 0x0A000002, proto, l4, frag=frag, options=options,
                             ttl=draw(st.integers(0, 255)), tos=draw(st.integers(0, 255)))
    elif eth_type == 0x86DD:
        payload = build.ipv6(1, 2, proto, l4, label=draw(st.integers(0, 0xFFFFF)))
    else:
        payload = l4
    frame = build.eth(MAC1, MAC2, eth_type, payload, vlans)
    pad = draw(st.binary(max_size=8))
    return frame + pad


# Offsets of fields that vary per packet (IP lengths, id, checksums, L4 lengths,
# sequence numbers), untagged and tagged: most mutations land there, so equal keys
# are common; the rest land anywhere.
_VARYING = sorted({o + t for t in (0, 4) for o in (
    16, 17, 18, 19, 24, 25, 38, 39, 40, 41, 42, 43, 44, 45, 48, 49, 50, 51, 52, 53,
    58, 59, 60, 61, 62, 63, 64, 65, 68, 69, 70, 71, 72, 73, 74, 75)})


@st.composite
def mutated(draw: st.DrawFn, frame: bytes, anywhere: bool = True) -> bytes:
    buf = bytearray(frame)
    for _ in range(draw(st.integers(1, 3))):
        if not buf:
            break
        pos = draw(st.one_of(st.integers(0, len(buf) - 1), st.sampled_from(_VARYING))
                   if anywhere else st.sampled_from(_VARYING))
        if pos >= len(buf):
            continue
        buf[pos] = draw(st.integers(0, 255))
    cut = draw(st.integers(-6, 6))
    if cut < 0:
        del buf[cut:]
    else:
        buf += bytes(cut)
    return bytes(buf)


def flow_of(port: int, data: bytes) -> dict[str, int]:
    return {**extract_flow(data).values, "in_port": port}


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_equal_fast_keys_mean_equal_flows(data: st.DataObject) -> None:
    a = data.draw(frames())
    b = data.draw(mutated(a))
    ka, kb = fast_key(3, a), fast_key(3, b)
    event("same key" if ka is not None and ka == kb else "different keys")
    if ka is not None and ka == kb:
        assert flow_of(3, a) == flow_of(3, b)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_changing_per_packet_fields_is_sound(data: st.DataObject) -> None:
    a = data.draw(frames())
    b = data.draw(mutated(a, anywhere=False))
    ka, kb = fast_key(3, a), fast_key(3, b)
    event("same key" if ka is not None and ka == kb else "different keys")
    if ka is not None and ka == kb:
        assert flow_of(3, a) == flow_of(3, b)


@settings(max_examples=500)
@given(st.data())
def test_keys_of_independent_frames_are_sound(data: st.DataObject) -> None:
    a, b = data.draw(frames()), data.draw(frames())
    ka, kb = fast_key(1, a), fast_key(1, b)
    if ka is not None and ka == kb:
        assert flow_of(1, a) == flow_of(1, b)


@given(st.binary(max_size=120))
def test_garbage_never_raises(data: bytes) -> None:
    key = fast_key(1, data)
    if key is not None:
        assert key == fast_key(1, data)


def test_per_packet_fields_do_not_change_the_key() -> None:
    def udp(ident: int, payload: bytes) -> bytes:
        return build.eth(MAC1, MAC2, 0x0800, build.ipv4(
            0x0A000001, 0x0A000002, 17, build.udp(1000, 2000, payload, 0x0A000001, 0x0A000002),
            ident=ident))

    def tcp(seq: int, payload: bytes, flags: int = 0x10) -> bytes:
        return build.eth(MAC1, MAC2, 0x86DD, build.ipv6(
            1, 2, 6, build.tcp(1000, 2000, payload, 1, 2, v6=True, seq=seq, flags=flags)))

    assert fast_key(1, udp(1, b"x")) == fast_key(1, udp(2, b"longer payload"))
    assert fast_key(1, tcp(1, b"x")) == fast_key(1, tcp(99, b"yz" * 30))
    assert fast_key(1, tcp(1, b"x", flags=0x02)) != fast_key(1, tcp(1, b"x"))  # tcp_flags
    assert fast_key(1, udp(1, b"x")) != fast_key(2, udp(1, b"x"))  # in_port


def test_unusual_packets_fall_back_to_the_flow_key() -> None:
    arp = build.eth(MAC1, MAC2, 0x0806, struct.pack("!HHBBH", 1, 0x800, 6, 4, 1) + bytes(20))
    options = build.eth(MAC1, MAC2, 0x0800, build.ipv4(1, 2, 17, bytes(8), options=bytes(4)))
    fragment = build.eth(MAC1, MAC2, 0x0800, build.ipv4(1, 2, 17, bytes(8), frag=0x2000))
    qinq = build.eth(MAC1, MAC2, 0x0800, build.ipv4(1, 2, 17, bytes(8)),
                     ((0x88A8, 1), (0x8100, 2)))
    for frame in (arp, options, fragment, qinq, b"", bytes(13)):
        assert fast_key(1, frame) is None
    flow = flow_of(1, arp)
    assert flow_key(1, flow) == flow_key(1, dict(flow_of(1, arp)))
