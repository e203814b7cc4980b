"""Matches: storage rules, prerequisites, NXM/OXM and OF1.0 codecs, ovs-ofctl text.

Expected strings come from the real ovs-ofctl 3.1 (``ovs-ofctl parse-flow``);
the byte-level comparison against it is the corpus test in
``tests/interop/test_openflow_corpus.py``.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyovs.openflow.errors import OFError, OFPErr, ParseError
from pyovs.openflow.fields import field
from pyovs.openflow.match import (
    CATCHALL,
    Match,
    MatchBuilder,
    decode_nx_match,
    decode_oxm_match,
    encode_nx_match,
    encode_oxm_match,
)
from pyovs.openflow.match_text import format_match, parse_match
from pyovs.openflow.ofp10_match import decode_ofp10_match, encode_ofp10_match, normalize_match
from pyovs.openflow.protocols import ANY, NXM_OXM_ANY, OF10_STD_ANY


def fmt(text: str) -> str:
    return format_match(parse_match(text)[0])


@pytest.mark.parametrize(("text", "printed"), [
    ("ip,nw_src=10.0.0.0/8,tcp,tp_dst=80", "tcp,nw_src=10.0.0.0/8,tp_dst=80"),
    ("dl_type=0x0800,nw_proto=6", "tcp"),
    ("dl_type=0x0800,nw_proto=89", "ip,nw_proto=89"),
    ("dl_type=0x86dd,nw_proto=17", "udp6"),
    ("eth_type=0x0806,arp_op=1", "arp,arp_op=1"),
    ("icmp,icmp_type=8", "icmp,icmp_type=8"),
    ("icmp6,icmp_type=135,nd_target=fe80::1", "icmp6,icmp_type=135,nd_target=fe80::1"),
    ("tp_src=80,tcp", "tcp,tp_src=80"),
    ("udp,udp_dst=67", "udp,tp_dst=67"),
    ("xreg0=5", "reg0=0,reg1=0x5"),
    ("reg0[0..3]=5,in_port=LOCAL", "reg0=0x5/0xf,in_port=LOCAL"),
    ("dl_vlan=5,dl_vlan_pcp=3", "dl_vlan=5,dl_vlan_pcp=3"),
    ("dl_vlan=4096", "dl_vlan=0"),
    ("vlan_tci=0x1000/0x1000", "vlan_tci=0x1000/0x1000"),
    ("ip,nw_proto=6/0xff", "tcp"),
    ("ip,nw_tos=8,nw_ecn=1", "ip,nw_tos=8,nw_ecn=1"),
    ("ip,ip_dscp=2", "ip,nw_tos=8"),
    ("ct_state=+trk+est,ct_zone=5,ct_mark=1/1", "ct_state=+est+trk,ct_zone=5,ct_mark=0x1/0x1"),
    ("ct_state=trk|new", "ct_state=new|trk"),
    ("tcp,tcp_flags=syn|ack", "tcp,tcp_flags=syn|ack"),
    ("tun_metadata0=0x1234,tun_metadata3=0x5/0xff00",
     "tun_metadata0=0x1234,tun_metadata3=0/0xff00"),
    ("ipv6,ipv6_label=0x12345", "ipv6,ipv6_label=0x12345"),
    ("mpls,mpls_ttl=3,mpls_bos=1", "mpls,mpls_ttl=3,mpls_bos=1"),
    ("priority=5", ""),
])
def test_text_round_trip_matches_ovs(text: str, printed: str) -> None:
    if text.startswith("priority"):
        with pytest.raises(ParseError, match="unknown keyword priority"):
            parse_match(text)
        return
    assert fmt(text) == printed


def test_priority_printed_unless_default() -> None:
    m, _ = parse_match("tcp")
    assert format_match(m, 100) == "priority=100,tcp"
    assert format_match(m, 32768) == "tcp"
    assert format_match(CATCHALL, 0) == "priority=0"


@pytest.mark.parametrize(("text", "error"), [
    ("nw_src=1.2.3.4/33", "1.2.3.4/33: IPv4 network prefix bits not between 0 and 32, inclusive"),
    ("tcp,tp_dst=99999", "99999: value too large for 2-byte field tcp_dst"),
    ("bogus=1", "unknown keyword bogus"),
    ("reg0[0..40]=1", "reg0[0..40]: ending bit 40 is not valid because field is only 32 bits "
                      "wide"),
    ("reg0[5..3]=1", "reg0[5..3]: starting bit 5 is after ending bit 3"),
    ("reg0[0..3]=17", "reg0[0..3]: value 0x11 does not fit into 4 bits"),
    ("reg0[0..3]=x", "reg0[0..3]: cannot parse integer value: x"),
    ("in_port=foo", "foo: invalid or unknown port for in_port"),
    ("tcp_flags=+syn+syn", "syn: Each TCP flag can be specified only once"),
    ("tcp_flags=syn+ack", "syn+ack: unknown TCP flag(s)"),
    ("ct_state=+foo", "foo: unknown ct_state flag(s)"),
    ("eth_dst=1:2:3", "1:2:3: invalid Ethernet address"),
])
def test_parse_errors_match_ovs(text: str, error: str) -> None:
    with pytest.raises(ParseError) as exc:
        parse_match(text)
    assert str(exc.value) == error


def test_usable_protocols() -> None:
    assert parse_match("tcp,tp_dst=80")[1] == ANY
    assert parse_match("reg0=1")[1] == NXM_OXM_ANY
    assert parse_match("ip,nw_src=10.0.0.0/8")[1] == ANY
    assert not parse_match("ip,nw_src=10.0.0.1/255.0.255.0")[1] & OF10_STD_ANY
    assert not parse_match("ipv6,nw_proto=6")[1] & OF10_STD_ANY


def test_match_is_an_immutable_hashable_value() -> None:
    a, _ = parse_match("tcp,tp_dst=80")
    b, _ = parse_match("dl_type=0x800,nw_proto=6,tcp_dst=80")
    assert a == b and hash(a) == hash(b)
    assert a.get_field("tcp_dst") == (80, 0xFFFF)
    assert a.get_field("icmp_code") == (80, 0xFFFF)  # same storage as tcp_dst
    assert a.with_field("tcp_src", 1) != a
    assert Match.from_fields(dl_type=0x800, nw_proto=6, tcp_dst=80) == a
    assert str(a) == "tcp,tp_dst=80"


def test_vlan_fields_share_vlan_tci_like_ovs() -> None:
    b = MatchBuilder()
    b.set_field(field("dl_vlan_pcp"), 3)
    assert b.get("vlan_tci") == (0x7000, 0xF000)
    b.set_field(field("dl_vlan"), 5)
    assert b.get("vlan_tci") == (0x7005, 0xFFFF)
    b.set_field(field("dl_vlan"), 0, 0)  # wildcard the VID keeps the PCP
    assert b.get("vlan_tci") == (0x7000, 0xF000)
    b.set_field(field("vlan_pcp"), 0, 0)
    assert b.get("vlan_tci") == (0, 0)
    b.set_field(field("dl_vlan"), 0xFFFF)  # OFP10_VLAN_NONE: no 802.1Q header
    assert b.get("vlan_tci") == (0, 0xFFFF)


def test_prerequisites() -> None:
    b = MatchBuilder()
    assert not b.prereqs_ok(field("tcp_dst"))
    b.set_field(field("eth_type"), 0x800)
    assert b.prereqs_ok(field("ip_src")) and not b.prereqs_ok(field("tcp_dst"))
    b.set_field(field("nw_proto"), 6)
    assert b.prereqs_ok(field("tcp_dst")) and not b.prereqs_ok(field("udp_dst"))
    b.set_field(field("ip_frag"), 3, 3)  # a later fragment has no TCP header
    assert not b.prereqs_ok(field("tcp_dst"))
    assert not MatchBuilder().prereqs_ok(field("ct_nw_src"))
    c = MatchBuilder()
    c.set_field(field("ct_state"), 0x21, 0x21)
    assert c.prereqs_ok(field("ct_nw_src"))


def _entry(name: str, value: int, mask: int | None = None, version: int = 4) -> bytes:
    f = field(name)
    code = f.code_for(version)
    assert code is not None
    header = struct.pack("!Q", code.header(mask is not None))[:code.header_len]
    out = header + value.to_bytes(f.n_bytes, "big")
    return out + (mask.to_bytes(f.n_bytes, "big") if mask is not None else b"")


@pytest.mark.parametrize(("data", "error"), [
    (b"\x80\x00", OFPErr.OFPBMC_BAD_LEN),
    (b"\x80\x00\x0a\x02\x08", OFPErr.OFPBMC_BAD_LEN),
    (b"\x80\x00\x7e\x02\x00\x00", OFPErr.OFPBMC_BAD_FIELD),
    (b"\x80\x00\x0a\x03\x08\x00\x00", OFPErr.OFPBMC_BAD_FIELD),  # wrong length
    (_entry("ip_src", 1), OFPErr.OFPBMC_BAD_PREREQ),
    (_entry("eth_type", 0x800) + _entry("eth_type", 0x800), OFPErr.OFPBMC_DUP_FIELD),
    (_entry("eth_src", 0xFF, 0x0F), OFPErr.OFPBMC_BAD_WILDCARDS),
    (b"\x80\x00\x0b\x04\x08\x00\xff\x00", OFPErr.OFPBMC_BAD_MASK),  # eth_type masked
    (_entry("in_port_oxm", 0x10000), OFPErr.OFPBMC_BAD_VALUE),
    (_entry("eth_type", 0x800) + _entry("ip_dscp", 0xFF), OFPErr.OFPBMC_BAD_VALUE),
])
def test_decode_errors_are_ovs_errors(data: bytes, error: OFPErr) -> None:
    with pytest.raises(OFError) as exc:
        decode_nx_match(data)
    assert exc.value.error is error


def test_loose_decoding_skips_unknown_fields_and_prerequisites() -> None:
    m, _, _ = decode_nx_match(b"\x80\x00\x7e\x02\x00\x00" + _entry("ip_src", 1), strict=False)
    assert m.get("nw_src") == (1, 0xFFFFFFFF)


def test_cookie_pseudo_field_only_where_allowed() -> None:
    cookie = bytes.fromhex("0001 3d10 0000000000000005 00000000000000ff".replace(" ", ""))
    m, c, cm = decode_nx_match(cookie, allow_cookie=True)
    assert (m, c, cm) == (CATCHALL, 5, 0xFF)
    assert encode_nx_match(m, 0, 5, 0xFF) == cookie
    with pytest.raises(OFError):
        decode_nx_match(cookie)


def test_oxm_framing() -> None:
    m, _ = parse_match("tcp,tp_dst=80")
    data = encode_oxm_match(m, 4)
    assert len(data) % 8 == 0
    assert decode_oxm_match(data) == (m, len(data))
    with pytest.raises(OFError) as exc:
        decode_oxm_match(b"\x00\x00\x00\x04")
    assert exc.value.error is OFPErr.OFPBMC_BAD_TYPE
    with pytest.raises(OFError) as exc:
        decode_oxm_match(b"\x00\x01\x00\x40")
    assert exc.value.error is OFPErr.OFPBMC_BAD_LEN


def test_ofp10_match_round_trip_and_losses() -> None:
    m, _ = parse_match("in_port=1,dl_vlan=5,tcp,nw_src=10.0.0.0/8,tp_dst=80")
    assert decode_ofp10_match(encode_ofp10_match(m)) == m
    assert format_match(decode_ofp10_match(encode_ofp10_match(parse_match("vlan_vid=5")[0]))) \
        == "vlan_tci=0x0000"
    assert decode_ofp10_match(encode_ofp10_match(CATCHALL)) == CATCHALL


def test_normalize_drops_fields_without_prerequisites() -> None:
    b = MatchBuilder()
    b.put("dl_type", 0x800, 0xFFFF)
    b.put("tp_dst", 80, 0xFFFF)
    b.put("nw_src", 1, 0xFFFFFFFF)
    assert format_match(normalize_match(b.freeze())) == "ip,nw_src=0.0.0.1"


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=80))
def test_fuzzed_nxm_raises_only_oferror(data: bytes) -> None:
    try:
        m, _, _ = decode_nx_match(data, allow_cookie=True)
    except OFError:
        return
    encode_nx_match(m)
    format_match(m)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["ip", "tcp", "udp6", "arp", "in_port=3", "reg2=0x5/0xff",
                                 "dl_vlan=9", "nw_ttl=4", "metadata=0x1", "tun_id=0x7",
                                 "ct_state=+trk", "icmp6", "icmp_type=135",
                                 "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00"]),
                max_size=6))
def test_encode_decode_round_trip(items: list[str]) -> None:
    m, _ = parse_match(",".join(items))
    for version in (0, 4, 6):
        data = encode_nx_match(m, version)
        decoded, _, _ = decode_nx_match(data, strict=False)
        assert encode_nx_match(decoded, version) == data
