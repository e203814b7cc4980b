"""The match-field table is pinned: codes, names, storage, text round trips."""

from __future__ import annotations

import pytest

from pyovs.openflow.errors import ParseError
from pyovs.openflow.fields import (
    CODE_BY_NAME,
    FIELD_BY_NAME,
    FIELDS,
    field,
    header_key,
    lookup_header,
)
from pyovs.openflow.fieldtypes import SLOT_BITS, Fmt, Prereq
from pyovs.openflow.values import format_value, parse_value

# Fields OVS gives no NXM/OXM code (internal or OF1.0-only spellings).
NO_CODE = {"tun_ttl", "tun_tos", "skb_priority", "dl_vlan", "dl_vlan_pcp"}

REQUIRED = [
    "in_port", "in_port_oxm", "metadata", "tun_id", "tun_src", "tun_dst", "tun_ipv6_src",
    "tun_ipv6_dst", "tun_flags", "tun_gbp_id", "tun_gbp_flags", "pkt_mark", "conj_id",
    "recirc_id", "dp_hash", "ct_state", "ct_zone", "ct_mark", "ct_label", "ct_nw_src",
    "ct_nw_dst", "ct_ipv6_src", "ct_ipv6_dst", "ct_nw_proto", "ct_tp_src", "ct_tp_dst",
    "eth_src", "eth_dst", "eth_type", "vlan_tci", "dl_vlan", "dl_vlan_pcp", "vlan_vid",
    "vlan_pcp", "mpls_label", "mpls_tc", "mpls_bos", "mpls_ttl", "ip_src", "ip_dst",
    "ipv6_src", "ipv6_dst", "ipv6_label", "nw_proto", "nw_tos", "ip_dscp", "nw_ecn", "nw_ttl",
    "ip_frag", "arp_op", "arp_spa", "arp_tpa", "arp_sha", "arp_tha", "tcp_src", "tcp_dst",
    "udp_src", "udp_dst", "sctp_src", "sctp_dst", "tcp_flags", "icmp_type", "icmp_code",
    "icmpv6_type", "icmpv6_code", "nd_target", "nd_sll", "nd_tll",
]

# One value per format kind: text in, (value, mask) expected, text out.
SAMPLES = {
    Fmt.DEC: ("5", "5"),
    Fmt.HEX: ("0x1f", "0x1f"),
    Fmt.CT_STATE: ("+trk-new", "-new+trk"),
    Fmt.ETH: ("00:11:22:33:44:55", "00:11:22:33:44:55"),
    Fmt.IPV4: ("10.1.0.0/16", "10.1.0.0/16"),
    Fmt.IPV6: ("2001:db8::/32", "2001:db8::/32"),
    Fmt.PORT: ("LOCAL", "LOCAL"),
    Fmt.PORT_OXM: ("7", "7"),
    Fmt.FRAG: ("later", "later"),
    Fmt.TNL_FLAGS: ("+oam", "oam"),
    Fmt.TCP_FLAGS: ("+syn-ack", "+syn-ack"),
    Fmt.PACKET_TYPE: ("(1,0x800)", "packet_type=(1,0x800)"),
}


def test_table_size_and_order_match_ovs() -> None:
    assert len(FIELDS) == 183
    assert [f.id for f in FIELDS] == list(range(len(FIELDS)))
    assert FIELDS[0].name == "dp_hash" and FIELDS[-1].name == "nsh_ttl"


@pytest.mark.parametrize("name", REQUIRED)
def test_required_field_present(name: str) -> None:
    assert name in FIELD_BY_NAME


def test_aliases_resolve_to_canonical_fields() -> None:
    for alias, canonical in [("tp_src", "tcp_src"), ("tp_dst", "tcp_dst"),
                             ("nw_src", "ip_src"), ("nw_dst", "ip_dst"),
                             ("dl_dst", "eth_dst"), ("dl_src", "eth_src"),
                             ("dl_type", "eth_type"), ("ip_proto", "nw_proto"),
                             ("nw_frag", "ip_frag"), ("ip_ecn", "nw_ecn"),
                             ("tunnel_id", "tun_id")]:
        assert field(alias) is field(canonical)


def test_names_unique() -> None:
    names = [f.name for f in FIELDS] + [f.alias for f in FIELDS if f.alias]
    assert len(names) == len(set(names))


def test_every_field_has_a_wire_code_where_ovs_has_one() -> None:
    for f in FIELDS:
        assert bool(f.codes) == (f.name not in NO_CODE), f.name


def test_no_duplicate_codes() -> None:
    seen: dict[tuple[int, int, int], str] = {}
    for f in FIELDS:
        for c in f.codes:
            key = (c.oxm_class, c.field, c.vendor)
            assert key not in seen, (f.name, seen.get(key))
            seen[key] = f.name
            assert lookup_header(c.header()) == (f, c)
            assert lookup_header(c.header(masked=True)) == (f, c)
            assert header_key(c.header()) == key
    assert len(CODE_BY_NAME) == len(seen)


@pytest.mark.parametrize(("name", "nxm", "oxm13", "oxm15"), [
    ("eth_src", (0x0000, 2), (0x8000, 4), (0x8000, 4)),
    ("in_port", (0x0000, 0), (0x0000, 0), (0x0000, 0)),
    ("in_port_oxm", (0x8000, 0), (0x8000, 0), (0x8000, 0)),
    ("tcp_flags", (0x0001, 34), (0xFFFF, 42), (0x8000, 42)),
    ("reg3", (0x0001, 3), (0x0001, 3), (0x0001, 3)),
    ("xreg2", (0x8001, 2), (0x8001, 2), (0x8001, 2)),
    ("ct_state", (0x0001, 105), (0x0001, 105), (0x0001, 105)),
    ("tun_metadata5", (0x0001, 45), (0x0001, 45), (0x0001, 45)),
    ("nd_target", (0x0001, 23), (0x8000, 31), (0x8000, 31)),
])
def test_codes_per_version(name: str, nxm: tuple[int, int], oxm13: tuple[int, int],
                           oxm15: tuple[int, int]) -> None:
    f = field(name)
    for version, want in ((0, nxm), (4, oxm13), (6, oxm15)):
        code = f.code_for(version)
        assert code is not None and (code.oxm_class, code.field) == want


def test_nxm_names_used_in_actions() -> None:
    assert field("eth_src").nxm_name == "NXM_OF_ETH_SRC"
    assert field("metadata").nxm_name == "OXM_OF_METADATA"
    assert field("dl_vlan").nxm_name == "dl_vlan"
    assert field("dp_hash").nxm_name == "NXM_NX_DP_HASH"


def test_storage_is_consistent() -> None:
    for f in FIELDS:
        assert f.slot in SLOT_BITS, f.name
        assert f.slot_bits, f.name
        assert f.slot_bits >> SLOT_BITS[f.slot] == 0, f.name
        assert f.n_bits <= 8 * f.n_bytes
    # Fields sharing storage, as in OVS's struct flow.
    assert field("icmp_type").slot == field("tcp_src").slot == "tp_src"
    assert field("ip_dscp").slot_bits == field("nw_tos").slot_bits == 0xFC
    assert field("nw_ecn").slot_bits == 0x03
    assert field("reg0").slot_bits | field("reg1").slot_bits == field("xreg0").slot_bits
    assert field("xxreg0").slot_bits == (1 << 512) - (1 << 384)


def test_every_format_kind_has_sample() -> None:
    assert set(SAMPLES) == set(Fmt)


@pytest.mark.parametrize("f", [f for f in FIELDS if not f.name.startswith("tun_metadata")
                               or f.name == "tun_metadata0"], ids=lambda f: f.name)
def test_every_field_parses_and_formats(f: object) -> None:
    from pyovs.openflow.fieldtypes import Field
    assert isinstance(f, Field)
    text, out = SAMPLES[f.fmt]
    if f.fmt is Fmt.IPV4 and not f.maskable:
        text = out = "10.1.2.3"
    if f.fmt in (Fmt.DEC, Fmt.HEX) and f.n_bits < 5:
        text, out = "1", "1" if f.fmt is Fmt.DEC else "0x1"
    value, mask = parse_value(f, text)
    assert value & ~mask == 0 or f.fmt is Fmt.FRAG
    assert format_value(f, value, mask) == out
    assert parse_value(f, "*") == (0, 0)


@pytest.mark.parametrize(("name", "text", "error"), [
    ("tcp_src", "65536", "65536: value too large for 2-byte field tcp_src"),
    ("tcp_src", "0x10000", "0x10000: value too large for 2-byte field tcp_src"),
    ("tcp_src", "8x", "8x: bad syntax for tcp_src value"),
    ("tcp_src", "80/zz", "80/zz: bad syntax for tcp_src mask"),
    ("nw_proto", "6/0xf", "6/0xf: invalid mask for field nw_proto"),
    ("nw_src", "1.2.3.4/33", "1.2.3.4/33: IPv4 network prefix bits not between 0 and 32, "
                             "inclusive"),
    ("nw_src", "1.2.3", "1.2.3: invalid IP address"),
    ("ipv6_src", "::1/129", "::1/129: IPv6 network prefix bits not between 0 and 128, "
                            "inclusive"),
    ("eth_dst", "00:11:22", "00:11:22: invalid Ethernet address"),
    ("in_port", "bogus", "bogus: invalid or unknown port for in_port"),
    ("tcp_flags", "+syn+bogus", "bogus: unknown TCP flag(s)"),
    ("ct_state", "trk|xyz", "trk|xyz: unknown ct_state flag(s)"),
    ("ip_frag", "maybe", 'maybe: unknown fragment type (valid types are "no", "yes", '
                         '"first", "later", "not_later"'),
])
def test_parse_errors_read_like_ovs(name: str, text: str, error: str) -> None:
    with pytest.raises(ParseError) as exc:
        parse_value(field(name), text)
    assert str(exc.value) == error


def test_values_in_ovs_notation() -> None:
    assert parse_value(field("tcp_dst"), "0x50/0xfff0") == (0x50, 0xFFF0)
    assert parse_value(field("nw_src"), "10.0.0.1/255.0.255.0") == (0x0A000001, 0xFF00FF00)
    assert format_value(field("nw_src"), 0x0A000001, 0xFF00FF00) == "10.0.0.1/255.0.255.0"
    assert parse_value(field("metadata"), "010") == (8, (1 << 64) - 1)  # strtoull base 0
    assert format_value(field("metadata"), 0) == "0"
    assert format_value(field("reg0"), 5, 0xF) == "0x5/0xf"
    assert format_value(field("tcp_src"), 80, 0xFFF0) == "80/0xfff0"
    assert format_value(field("tcp_src"), 80, 0) == "ANY"
    assert format_value(field("ct_state"), 0x21) == "+new-est-rel-rpl-inv+trk-snat-dnat" + \
        "".join("-[Unknown]" for _ in range(24))
    assert parse_value(field("tcp_flags"), "syn|ack") == (0x12, 0xFFFF)
    assert parse_value(field("ct_state"), "0x21/0x21") == (0x21, 0x21)
    assert parse_value(field("in_port"), "IN_PORT") == (0xFFF8, 0xFFFF)
    assert parse_value(field("in_port_oxm"), "controller") == (0xFFFFFFFD, 0xFFFFFFFF)
    assert field("ct_nw_src").prereq is Prereq.CT_VALID
