"""Matches as ovs-ofctl text, both ways.

Formatting follows OVS's ``match_format`` field by field: the same order,
the same choice of name for shared storage (``tp_src`` or ``icmp_type``,
``nw_src`` or ``arp_spa``), the same protocol shorthand (``tcp`` instead of
``dl_type=0x0800,nw_proto=6``; ``ip`` with ``nw_proto=N`` for other
protocols), the same number styles (``0x%x`` registers, decimal ports,
``0x%04x`` VLAN TCI), and the VLAN rule that prints ``dl_vlan``/
``dl_vlan_pcp`` only when the match pins the "VLAN present" bit and whole
VID/PCP values, ``vlan_tci=...`` otherwise.  ``ovs-ofctl dump-flows``,
``ofp-print`` and the ``ovs.flow`` Python parser all read this form.

Parsing handles the match part of ovs-ofctl's flow syntax
(``parse_ofp_str``): protocol shorthands, field names and aliases with
``value``, ``value/mask`` and ``value/prefix``, and subfield assignments
(``reg0[0..3]=5``).  The full flow syntax (priority, cookie, actions...) is
built on ``apply_match_key`` by the flow-mod parser.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .ctext import parse_key_value
from .errors import ParseError
from .fields import FIELD_BY_NAME
from .fieldtypes import Field
from .match import (
    ETH_TYPE_ARP,
    ETH_TYPE_IP,
    ETH_TYPE_IPV6,
    ETH_TYPE_MPLS,
    ETH_TYPE_MPLS_MCAST,
    ETH_TYPE_NSH,
    ETH_TYPE_RARP,
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
    IPPROTO_SCTP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    OFPHTN_ETHERTYPE,
    PT_ETH,
    VLAN_CFI,
    VLAN_PCP_MASK,
    VLAN_VID_MASK,
    Match,
    MatchBuilder,
)
from .ports import PortMap, format_port
from .protocols import ANY, NXM_OXM_ANY, Protocol
from .subfield import parse_subfield
from .values import (
    CT_STATE_NAMES,
    TCP_FLAG_NAMES,
    TUN_FLAG_NAMES,
    eth_masked,
    format_flags,
    format_flags_masked,
    format_packet_type,
    hex_bytes,
    ipv4_masked,
    ipv6_masked,
    parse_int_string,
    parse_value,
)

OFP_DEFAULT_PRIORITY: Final = 0x8000

# Protocol shorthands: name -> (dl_type, nw_proto or 0), as OVS ``ofp_parse_protocol``.
PROTOCOLS: Final[dict[str, tuple[int, int]]] = {
    "ip": (ETH_TYPE_IP, 0), "ipv4": (ETH_TYPE_IP, 0), "ip4": (ETH_TYPE_IP, 0),
    "arp": (ETH_TYPE_ARP, 0), "icmp": (ETH_TYPE_IP, IPPROTO_ICMP),
    "tcp": (ETH_TYPE_IP, IPPROTO_TCP), "udp": (ETH_TYPE_IP, IPPROTO_UDP),
    "sctp": (ETH_TYPE_IP, IPPROTO_SCTP), "ipv6": (ETH_TYPE_IPV6, 0),
    "ip6": (ETH_TYPE_IPV6, 0), "icmp6": (ETH_TYPE_IPV6, IPPROTO_ICMPV6),
    "tcp6": (ETH_TYPE_IPV6, IPPROTO_TCP), "udp6": (ETH_TYPE_IPV6, IPPROTO_UDP),
    "sctp6": (ETH_TYPE_IPV6, IPPROTO_SCTP), "rarp": (ETH_TYPE_RARP, 0),
    "mpls": (ETH_TYPE_MPLS, 0), "mplsm": (ETH_TYPE_MPLS_MCAST, 0),
}

# Shorthand printed for (dl_type, nw_proto); nw_proto None means "any other".
_IP_SHORT: Final = {IPPROTO_ICMP: "icmp", IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp",
                    IPPROTO_SCTP: "sctp"}
_IP6_SHORT: Final = {IPPROTO_ICMPV6: "icmp6", IPPROTO_TCP: "tcp6", IPPROTO_UDP: "udp6",
                     IPPROTO_SCTP: "sctp6"}
_L2_SHORT: Final = {ETH_TYPE_ARP: "arp", ETH_TYPE_RARP: "rarp", ETH_TYPE_MPLS: "mpls",
                    ETH_TYPE_MPLS_MCAST: "mplsm"}


def _hex_c(value: int) -> str:
    """C's ``%#x``: ``0`` for zero, else ``0x...``."""
    return f"{value:#x}" if value else "0"


class _Out:
    """Collects ``name=value,`` items."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[str] = []

    def add(self, text: str) -> None:
        self.parts.append(text)

    def hex32(self, name: str, value: int, mask: int, ones: int = 0xFFFFFFFF) -> None:
        """OVS ``format_uint32_masked``/``format_be64_masked``."""
        if mask:
            self.add(f"{name}={_hex_c(value)}" + ("" if mask == ones else f"/{_hex_c(mask)}"))

    def dec16(self, name: str, value: int, mask: int) -> None:
        """OVS ``format_be16_masked``/``format_uint16_masked``."""
        if mask:
            self.add(f"{name}={value}" if mask == 0xFFFF else f"{name}=0x{value:x}/0x{mask:x}")

    def dec32(self, name: str, value: int, mask: int) -> None:
        """OVS ``format_be32_masked``."""
        if mask:
            self.add(f"{name}={value}" if mask == 0xFFFFFFFF
                     else f"{name}=0x{value:08x}/0x{mask:08x}")

    def ip(self, name: str, value: int, mask: int) -> None:
        if mask:
            self.add(f"{name}={ipv4_masked(value, mask)}")

    def ipv6(self, name: str, value: int, mask: int) -> None:
        if mask:
            self.add(f"{name}={ipv6_masked(value, mask)}")

    def eth(self, name: str, value: int, mask: int) -> None:
        if mask:
            self.add(f"{name}={eth_masked(value, mask)}")


def format_match(match: Match, priority: int | None = None,
                 port_names: Mapping[int, str] | None = None) -> str:
    """``match`` as ``ovs-ofctl`` prints it (OVS ``match_format``).

    ``priority`` is printed first unless it is None or the default (32768).
    """
    b = match.builder()
    get, val, msk = b.get, b.value, b.mask
    o = _Out()
    if priority is not None and priority != OFP_DEFAULT_PRIORITY:
        o.add(f"priority={priority}")
    o.hex32("pkt_mark", *get("pkt_mark"))
    is_megaflow = bool(msk("recirc_id"))
    o.hex32("recirc_id", *get("recirc_id"))
    o.hex32("dp_hash", *get("dp_hash"))
    if msk("conj_id"):
        o.add(f"conj_id={val('conj_id')}")
    if msk("skb_priority"):
        o.add(f"skb_priority={_hex_c(val('skb_priority'))}")
    if msk("actset_output"):
        o.add("actset_output=" + format_port(val("actset_output"), port_names))
    state, state_mask = get("ct_state")
    if state_mask:
        if state_mask == 0xFF:
            o.add("ct_state=" + (format_flags(CT_STATE_NAMES, state) if state else "0"))
        else:
            o.add("ct_state=" + format_flags_masked(CT_STATE_NAMES, state, state_mask, 0xFF))
    o.dec16("ct_zone", *get("ct_zone"))
    o.hex32("ct_mark", *get("ct_mark"))
    label, label_mask = get("ct_label")
    if label_mask:
        o.add("ct_label=" + hex_bytes(label)
              + ("" if label_mask == (1 << 128) - 1 else "/" + hex_bytes(label_mask)))
    o.ip("ct_nw_src", *get("ct_nw_src"))
    o.ipv6("ct_ipv6_src", *get("ct_ipv6_src"))
    o.ip("ct_nw_dst", *get("ct_nw_dst"))
    o.ipv6("ct_ipv6_dst", *get("ct_ipv6_dst"))
    if msk("ct_nw_proto"):
        o.add(f"ct_nw_proto={val('ct_nw_proto')}")
        o.dec16("ct_tp_src", *get("ct_tp_src"))
        o.dec16("ct_tp_dst", *get("ct_tp_dst"))

    dl_type = val("dl_type")
    pt, pt_mask = get("packet_type")
    if pt_mask and (not (pt == PT_ETH and pt_mask == 0xFFFFFFFF) or is_megaflow):
        o.add(format_packet_type(pt, pt_mask))
        if pt >> 16 == OFPHTN_ETHERTYPE:
            dl_type = pt & 0xFFFF
    skip_type = skip_proto = False
    proto = val("nw_proto")
    if msk("dl_type"):
        skip_type = True
        if dl_type in (ETH_TYPE_IP, ETH_TYPE_IPV6):
            short = _IP_SHORT if dl_type == ETH_TYPE_IP else _IP6_SHORT
            name = short.get(proto) if msk("nw_proto") else None
            skip_proto = name is not None
            o.add(name or ("ip" if dl_type == ETH_TYPE_IP else "ipv6"))
        elif dl_type in _L2_SHORT:
            o.add(_L2_SHORT[dl_type])
        else:
            skip_type = False
    regs, regs_mask = get("regs")
    for i in range(16):
        shift = (15 - i) * 32
        o.hex32(f"reg{i}", (regs >> shift) & 0xFFFFFFFF, (regs_mask >> shift) & 0xFFFFFFFF)

    _format_tunnel(o, b)
    o.hex32("metadata", *get("metadata"), ones=(1 << 64) - 1)
    if msk("in_port"):
        o.add("in_port=" + format_port(val("in_port"), port_names))
    for slot, n in (("vlan_tci", ""), ("vlan_tci1", "1")):
        tci, tci_mask = get(slot)
        if not tci_mask:
            break
        vid_mask, pcp_mask = tci_mask & VLAN_VID_MASK, tci_mask & VLAN_PCP_MASK
        if (tci_mask & VLAN_CFI and tci & VLAN_CFI and vid_mask in (0, VLAN_VID_MASK)
                and pcp_mask in (0, VLAN_PCP_MASK) and (vid_mask or pcp_mask)):
            if vid_mask:
                o.add(f"dl_vlan{n}={tci & VLAN_VID_MASK}")
            if pcp_mask:
                o.add(f"dl_vlan_pcp{n}={tci >> 13}")
        elif tci_mask == 0xFFFF:
            o.add(f"vlan_tci{n}=0x{tci:04x}")
        else:
            o.add(f"vlan_tci{n}=0x{tci:04x}/0x{tci_mask:04x}")
    o.eth("dl_src", *get("dl_src"))
    o.eth("dl_dst", *get("dl_dst"))
    if not skip_type and msk("dl_type"):
        o.add(f"dl_type=0x{dl_type:04x}")
    arp = dl_type in (ETH_TYPE_ARP, ETH_TYPE_RARP)
    if dl_type == ETH_TYPE_IPV6:
        o.ipv6("ipv6_src", *get("ipv6_src"))
        o.ipv6("ipv6_dst", *get("ipv6_dst"))
        label, label_mask = get("ipv6_label")
        if label_mask:
            o.add(f"ipv6_label=0x{label:05x}" if label_mask == 0xFFFFFFFF
                  else f"ipv6_label=0x{label:05x}/0x{label_mask:05x}")
    elif arp:
        o.ip("arp_spa", *get("nw_src"))
        o.ip("arp_tpa", *get("nw_dst"))
    elif dl_type == ETH_TYPE_NSH:
        _format_nsh(o, b)
    else:
        o.ip("nw_src", *get("nw_src"))
        o.ip("nw_dst", *get("nw_dst"))
    if not skip_proto and msk("nw_proto"):
        o.add(f"arp_op={proto}" if arp else f"nw_proto={proto}")
    if arp:
        o.eth("arp_sha", *get("arp_sha"))
        o.eth("arp_tha", *get("arp_tha"))
    tos, tos_mask = get("nw_tos")
    if tos_mask & 0xFC:
        o.add(f"nw_tos={tos & 0xFC}")
    if tos_mask & 0x03:
        o.add(f"nw_ecn={tos & 0x03}")
    if msk("nw_ttl"):
        o.add(f"nw_ttl={val('nw_ttl')}")
    lse, lse_mask = get("mpls_lse")
    if lse_mask & 0xFFFFF000:
        o.add(f"mpls_label={lse >> 12}")
    if lse_mask & 0x00000E00:
        o.add(f"mpls_tc={(lse >> 9) & 7}")
    if lse_mask & 0x000000FF:
        o.add(f"mpls_ttl={lse & 0xFF}")
    if lse_mask & 0x00000100:
        o.add(f"mpls_bos={(lse >> 8) & 1}")
    o.dec32("mpls_lse1", *get("mpls_lse1"))
    o.dec32("mpls_lse2", *get("mpls_lse2"))
    frag, frag_mask = val("nw_frag"), msk("nw_frag") & 3
    if frag_mask == 3:
        o.add("nw_frag=" + (("later" if frag & 2 else "first") if frag & 1
                            else ("<error>" if frag & 2 else "no")))
    elif frag_mask == 1:
        o.add("nw_frag=" + ("yes" if frag & 1 else "no"))
    elif frag_mask == 2:
        o.add("nw_frag=" + ("later" if frag & 2 else "not_later"))
    if dl_type == ETH_TYPE_IP and proto == IPPROTO_ICMP:
        o.dec16("icmp_type", *get("tp_src"))
        o.dec16("icmp_code", *get("tp_dst"))
    elif dl_type == ETH_TYPE_IPV6 and proto == IPPROTO_ICMPV6:
        o.dec16("icmp_type", *get("tp_src"))
        o.dec16("icmp_code", *get("tp_dst"))
        o.ipv6("nd_target", *get("nd_target"))
        o.eth("nd_sll", *get("arp_sha"))
        o.eth("nd_tll", *get("arp_tha"))
        o.dec32("nd_reserved", *get("igmp_group_ip4"))
        o.dec16("nd_options_type", *get("tcp_flags"))
    else:
        o.dec16("tp_src", *get("tp_src"))
        o.dec16("tp_dst", *get("tp_dst"))
    flags, flags_mask = get("tcp_flags")
    if dl_type in (ETH_TYPE_IP, ETH_TYPE_IPV6) and proto == IPPROTO_TCP and flags_mask:
        o.add("tcp_flags=" + format_flags_masked(TCP_FLAG_NAMES, flags, flags_mask & 0x0FFF,
                                                 0x0FFF))
    return ",".join(o.parts)


def _format_tunnel(o: _Out, b: MatchBuilder) -> None:
    """OVS ``format_flow_tunnel``."""
    get, val, msk = b.get, b.value, b.mask
    o.hex32("tun_id", *get("tun_id"), ones=(1 << 64) - 1)
    o.ip("tun_src", *get("tun_src"))
    o.ip("tun_dst", *get("tun_dst"))
    o.ipv6("tun_ipv6_src", *get("tun_ipv6_src"))
    o.ipv6("tun_ipv6_dst", *get("tun_ipv6_dst"))
    o.dec16("tun_gbp_id", *get("tun_gbp_id"))
    if msk("tun_gbp_flags"):
        o.add(f"tun_gbp_flags={_hex_c(val('tun_gbp_flags'))}")
    if msk("tun_tos"):
        o.add(f"tun_tos={val('tun_tos'):x}")
    if msk("tun_ttl"):
        o.add(f"tun_ttl={val('tun_ttl')}")
    ver = val("tun_erspan_ver")
    if msk("tun_erspan_ver"):
        o.add(f"tun_erspan_ver={ver}")
    if msk("tun_erspan_idx") and ver == 1:
        o.add(f"tun_erspan_idx={_hex_c(val('tun_erspan_idx'))}")
    if msk("tun_erspan_dir") and ver == 2:
        o.add(f"tun_erspan_dir={val('tun_erspan_dir')}")
    if msk("tun_erspan_hwid") and ver == 2:
        o.add(f"tun_erspan_hwid={_hex_c(val('tun_erspan_hwid'))}")
    if msk("tun_gtpu_flags"):
        o.add(f"gtpu_flags={_hex_c(val('tun_gtpu_flags'))}")
    if msk("tun_gtpu_msgtype"):
        o.add(f"gtpu_msgtype={val('tun_gtpu_msgtype')}")
    flags, flags_mask = get("tun_flags")
    if flags_mask & 0xF:
        o.add("tun_flags=" + format_flags_masked(TUN_FLAG_NAMES, flags & 0xF, flags_mask & 0xF,
                                                 0xF))
    for index, (length, _) in sorted(b.tun_len.items()):
        v, m = get(f"tun_metadata{index}")
        ones = (1 << (8 * length)) - 1
        text = f"tun_metadata{index}"
        if m:
            text += "=" + hex_bytes(v) + ("" if m == ones else "/" + hex_bytes(m))
        o.add(text)


def _format_nsh(o: _Out, b: MatchBuilder) -> None:
    """OVS ``format_nsh_masked``."""
    get = b.get
    for name in ("nsh_flags", "nsh_ttl", "nsh_mdtype", "nsh_np"):
        v, m = get(name)
        if m:
            o.add(f"{name}={v}" if m == 0xFF else f"{name}=0x{v:02x}/0x{m:02x}")
    path, path_mask = get("nsh_path_hdr")
    spi_mask = path_mask >> 8
    o.hex32("nsh_spi", path >> 8, 0xFFFFFFFF if spi_mask == 0xFFFFFF else spi_mask)
    si, si_mask = path & 0xFF, path_mask & 0xFF
    if si_mask:
        o.add(f"nsh_si={si}" if si_mask == 0xFF else f"nsh_si=0x{si:02x}/0x{si_mask:02x}")
    mdtype, mdtype_mask = get("nsh_mdtype")
    if mdtype_mask == 0xFF and mdtype == 1:
        for i in range(1, 5):
            o.hex32(f"nsh_c{i}", *get(f"nsh_c{i}"))


# --- parsing -----------------------------------------------------------------

def set_parsed_field(b: MatchBuilder, f: Field, value: int, mask: int) -> Protocol:
    """Apply a parsed field to ``b`` (OVS ``mf_set``): the protocols that can express it."""
    exact, cidr, bitwise = f.usable
    ones = f.all_ones
    b.set_field(f, value, mask)
    b.add_ethernet_prereq(f)
    if mask == ones:
        return exact
    if mask == 0 and not f.variable:
        return ANY
    if not f.maskable:
        return Protocol.NONE
    top = mask >> (8 * f.n_bytes - 32) if f.n_bytes >= 4 else mask
    inv = ~top & 0xFFFFFFFF
    is_cidr = not inv & (inv + 1)
    return cidr if cidr == bitwise or is_cidr else bitwise


def apply_match_key(b: MatchBuilder, name: str, value: str,
                    port_map: PortMap | None = None) -> Protocol | None:
    """Apply one ``name[=value]`` item of a match; None if ``name`` is not a match key.

    Returns the protocols that can express it.
    """
    proto = PROTOCOLS.get(name)
    if proto is not None:
        b.put("dl_type", proto[0], 0xFFFF)
        if proto[1]:
            b.put("nw_proto", proto[1], 0xFF)
        b.set_default_packet_type()
        return ANY
    if name == "eth":
        b.put("packet_type", PT_ETH, 0xFFFFFFFF)
        return ANY
    f = FIELD_BY_NAME.get(name)
    if f is not None:
        v, m = parse_value(f, value or "0/0", port_map)
        return set_parsed_field(b, f, v, m)
    if "[" in name:
        return _parse_subfield_assignment(b, name, value)
    return None


def _parse_subfield_assignment(b: MatchBuilder, name: str, text: str) -> Protocol:
    """OVS ``parse_subfield``: ``reg0[0..3]=5``."""
    sf = parse_subfield(name)
    f = sf.field
    value, end, err = parse_int_string(text, f.n_bytes)
    if err or end != len(text):
        raise ParseError(f"{name}: cannot parse integer value: {text}")
    if value >> sf.n_bits:
        from .values import format_value
        raise ParseError(f"{name}: value {format_value(f, value)} does not fit into "
                         f"{sf.n_bits} bits")
    old_v, old_m = b.get_field(f)
    bits = ((1 << sf.n_bits) - 1) << sf.ofs
    new_v = (old_v & ~bits) | (value << sf.ofs)
    usable = set_parsed_field(b, f, new_v, old_m | bits)
    return usable


def parse_match(text: str, port_map: PortMap | None = None) -> tuple[Match, Protocol]:
    """A match in ovs-ofctl syntax, and the protocols that can express it."""
    b = MatchBuilder()
    usable = ANY
    pos = 0
    while (item := parse_key_value(text, pos)) is not None:
        name, value, pos = item
        got = apply_match_key(b, name, value, port_map)
        if got is None:
            raise ParseError(f"unknown keyword {name}")
        usable &= got
    return finish_match(b, usable)


def finish_match(b: MatchBuilder, usable: Protocol) -> tuple[Match, Protocol]:
    """The checks ``parse_ofp_str`` makes once every key is in."""
    pt, pt_mask = b.get("packet_type")
    if pt_mask == 0xFFFFFFFF and pt >> 16 == OFPHTN_ETHERTYPE:
        b.put("dl_type", pt & 0xFFFF, b.mask("dl_type"))
    if b.value("dl_type") == ETH_TYPE_IPV6 and (
            b.mask("nw_proto") or b.mask("nw_tos") or b.mask("tp_src") or b.mask("tp_dst")):
        usable &= NXM_OXM_ANY
    return b.freeze(), usable
