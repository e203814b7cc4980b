"""Packets as flows: header fields extracted from raw bytes, and their text.

``extract_flow`` reads an Ethernet frame (or a packet of another
``packet_type``) the way OVS's ``miniflow_extract`` does: up to two VLAN
tags, LLC/SNAP, up to three MPLS labels, IPv4 (with OVS's sanity checks,
fragments and trailing-padding rules), IPv6 and its extension headers, ARP,
TCP/UDP/SCTP/ICMP/IGMP ports and types, ICMPv6 and neighbour discovery.  The
result is a ``Flow``: slot values in ``Match`` storage terms plus where the
transport header starts.

``packet_to_string`` is OVS's ``ofp_packet_to_string``, the line ovs-ofctl
prints for a packet in a packet-in or packet-out: the flow formatted as a
match over exactly the fields a packet has (``flow_wildcards_init_for_packet``
less the all-zero context fields), then the transport checksum.

Not handled: tunnel metadata and NSH headers (an NSH packet prints as its
Ethernet part only).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Final

from .match import Match, MatchBuilder

PT_ETH: Final = 0
ETH_TYPE_MIN: Final = 0x600
DL_TYPE_NONE: Final = 0x5FF
ETH_TYPE_IP: Final = 0x0800
ETH_TYPE_IPV6: Final = 0x86DD
ETH_TYPE_ARP: Final = 0x0806
ETH_TYPE_RARP: Final = 0x8035
MPLS_TYPES: Final = (0x8847, 0x8848)
VLAN_TYPES: Final = (0x8100, 0x88A8)
FRAG_ANY: Final = 1
FRAG_LATER: Final = 2
IPPROTO_ICMP, IPPROTO_IGMP, IPPROTO_TCP, IPPROTO_UDP = 1, 2, 6, 17
IPPROTO_SCTP, IPPROTO_ICMPV6 = 132, 58
IPV6_EXT_HOPOPTS, IPV6_EXT_ROUTING, IPV6_EXT_FRAGMENT = 0, 43, 44
IPV6_EXT_DSTOPTS, IPV6_EXT_AH = 60, 51
ND_SOLICIT, ND_ADVERT = 135, 136

# Transport checksum: protocol -> (minimum header length, offset, width, label).
CHECKSUMS: Final = {
    IPPROTO_TCP: (20, 16, 2, "tcp_csum"), IPPROTO_UDP: (8, 6, 2, "udp_csum"),
    IPPROTO_SCTP: (12, 8, 4, "sctp_csum"), IPPROTO_ICMP: (8, 2, 2, "icmp_csum"),
    IPPROTO_ICMPV6: (4, 2, 2, "icmp6_csum"),
}
_L4_PORTS: Final = (IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP,
                    IPPROTO_IGMP)


@dataclass(slots=True)
class Flow:
    """What ``extract_flow`` found: slot -> value, and the transport payload."""

    values: dict[str, int] = field(default_factory=dict)
    l4: bytes | None = None
    """From the transport header to the end of the IP payload, if any."""

    def get(self, slot: str) -> int:
        return self.values.get(slot, 0)


def extract_flow(data: bytes, packet_type: int = PT_ETH) -> Flow:
    """OVS ``flow_extract`` for the header fields of ``data``."""
    flow = Flow({"packet_type": packet_type})
    v = flow.values
    pos, size = 0, len(data)
    if packet_type == PT_ETH:
        if size < 14:
            return flow
        v["dl_dst"] = int.from_bytes(data[0:6], "big")
        v["dl_src"] = int.from_bytes(data[6:12], "big")
        pos = 12
        for slot in ("vlan_tci", "vlan_tci1"):
            if int.from_bytes(data[pos:pos + 2], "big") not in VLAN_TYPES or size - pos < 6:
                break
            v[slot] = int.from_bytes(data[pos + 2:pos + 4], "big") | 0x1000
            pos += 4
        dl_type, pos = _ethertype(data, pos)
    else:
        dl_type = packet_type & 0xFFFF
    v["dl_type"] = dl_type
    if dl_type in MPLS_TYPES:
        for slot in ("mpls_lse", "mpls_lse1", "mpls_lse2"):
            if size - pos < 4:
                break
            lse = int.from_bytes(data[pos:pos + 4], "big")
            v[slot] = lse
            pos += 4
            if lse & 0x100:
                break
    if dl_type == ETH_TYPE_IP:
        end = _ipv4(data, pos, v)
        if end is None:
            return flow
        pos, size = end
    elif dl_type == ETH_TYPE_IPV6:
        end = _ipv6(data, pos, v)
        if end is None:
            return flow
        pos, size = end
    else:
        if dl_type in (ETH_TYPE_ARP, ETH_TYPE_RARP):
            _arp(data[pos:], v)
        return flow
    flow.l4 = data[pos:size]
    if not v.get("nw_frag", 0) & FRAG_LATER:
        _transport(flow.l4, v)
    return flow


def _ethertype(data: bytes, pos: int) -> tuple[int, int]:
    proto = int.from_bytes(data[pos:pos + 2], "big")
    pos += 2
    if proto >= ETH_TYPE_MIN:
        return proto, pos
    llc = data[pos:pos + 8]
    if len(llc) < 8 or llc[:3] != b"\xaa\xaa\x03" or llc[3:6] != b"\0\0\0":
        return DL_TYPE_NONE, pos
    snap_type = int.from_bytes(llc[6:8], "big")
    return (snap_type if snap_type >= ETH_TYPE_MIN else DL_TYPE_NONE), pos + 8


def _ipv4(data: bytes, pos: int, v: dict[str, int]) -> tuple[int, int] | None:
    size = len(data) - pos
    if size < 20:
        return None
    ip_len = (data[pos] & 0x0F) * 4
    if ip_len < 20 or size < ip_len:
        return None
    tot_len = int.from_bytes(data[pos + 2:pos + 4], "big")
    if tot_len > size or ip_len > tot_len:
        return None
    v["nw_src"] = int.from_bytes(data[pos + 12:pos + 16], "big")
    v["nw_dst"] = int.from_bytes(data[pos + 16:pos + 20], "big")
    v["nw_tos"], v["nw_ttl"], v["nw_proto"] = data[pos + 1], data[pos + 8], data[pos + 9]
    frag_off = int.from_bytes(data[pos + 6:pos + 8], "big")
    if frag_off & 0x3FFF:  # MF or an offset
        v["nw_frag"] = FRAG_ANY | (FRAG_LATER if frag_off & 0x1FFF else 0)
    return pos + ip_len, pos + tot_len


def _ipv6(data: bytes, pos: int, v: dict[str, int]) -> tuple[int, int] | None:
    size = len(data) - pos
    if size < 40:
        return None
    plen = int.from_bytes(data[pos + 4:pos + 6], "big")
    if plen + 40 > size:
        return None
    tc_flow = int.from_bytes(data[pos:pos + 4], "big")
    v["ipv6_src"] = int.from_bytes(data[pos + 8:pos + 24], "big")
    v["ipv6_dst"] = int.from_bytes(data[pos + 24:pos + 40], "big")
    tos, ttl, proto = (tc_flow >> 20) & 0xFF, data[pos + 7], data[pos + 6]
    pos += 40
    end = pos + plen
    frag = 0
    while proto in (IPV6_EXT_HOPOPTS, IPV6_EXT_ROUTING, IPV6_EXT_DSTOPTS, IPV6_EXT_AH,
                    IPV6_EXT_FRAGMENT):
        if end - pos < 8:
            return None
        nxt, hlen = data[pos], data[pos + 1]
        if proto == IPV6_EXT_FRAGMENT:
            offlg = int.from_bytes(data[pos + 2:pos + 4], "big")
            proto, pos = nxt, pos + 8
            if offlg:
                frag = FRAG_ANY
                if offlg & 0xFFF8:
                    frag |= FRAG_LATER
                    proto = IPV6_EXT_FRAGMENT
                    break
            continue
        length = (hlen + 2) * 4 if proto == IPV6_EXT_AH else (hlen + 1) * 8
        if end - pos < length:
            return None
        proto, pos = nxt, pos + length
    # Only a parsable header chain yields the IP fields (as OVS pushes them).
    v["nw_proto"], v["nw_tos"], v["nw_ttl"] = proto, tos, ttl
    v["ipv6_label"] = tc_flow & 0xFFFFF
    if frag:
        v["nw_frag"] = frag
    return pos, end


def _arp(arp: bytes, v: dict[str, int]) -> None:
    if len(arp) < 28:
        return
    hrd, pro, hln, pln, op = struct.unpack_from("!HHBBH", arp)
    if hrd != 1 or pro != ETH_TYPE_IP or hln != 6 or pln != 4:
        return
    v["nw_src"] = int.from_bytes(arp[14:18], "big")
    v["nw_dst"] = int.from_bytes(arp[24:28], "big")
    if op <= 0xFF:
        v["nw_proto"] = op
    v["arp_sha"] = int.from_bytes(arp[8:14], "big")
    v["arp_tha"] = int.from_bytes(arp[18:24], "big")


def _transport(l4: bytes, v: dict[str, int]) -> None:
    proto = v.get("nw_proto", 0)
    n = len(l4)
    if proto == IPPROTO_TCP:
        if n >= 20:
            ctl = int.from_bytes(l4[12:14], "big")
            if (ctl >> 12) * 4 >= 20 and n >= (ctl >> 12) * 4:
                v["tcp_flags"] = ctl & 0x0FFF
                v["tp_src"], v["tp_dst"] = struct.unpack_from("!HH", l4)
    elif proto in (IPPROTO_UDP, IPPROTO_SCTP):
        if n >= (8 if proto == IPPROTO_UDP else 12):
            v["tp_src"], v["tp_dst"] = struct.unpack_from("!HH", l4)
    elif proto in (IPPROTO_ICMP, IPPROTO_IGMP):
        if n >= 8:
            v["tp_src"], v["tp_dst"] = l4[0], l4[1]
            if proto == IPPROTO_IGMP:
                v["igmp_group_ip4"] = int.from_bytes(l4[4:8], "big")
    elif proto == IPPROTO_ICMPV6 and n >= 8:
        type_, code = l4[0], l4[1]
        v["tp_src"], v["tp_dst"] = type_, code
        if code == 0 and type_ in (ND_SOLICIT, ND_ADVERT):
            _neighbour_discovery(l4, v)


def _neighbour_discovery(l4: bytes, v: dict[str, int]) -> None:
    v["igmp_group_ip4"] = int.from_bytes(l4[4:8], "big")  # the ND flags word
    v["arp_sha"] = v["arp_tha"] = 0
    pos = 8
    if len(l4) - pos < 16:
        return
    target = int.from_bytes(l4[pos:pos + 16], "big")
    pos += 16
    sll = tll = 0
    while len(l4) - pos >= 8:
        opt_type, opt_len = l4[pos], l4[pos + 1] * 8
        if not opt_len or opt_len > len(l4) - pos:
            break
        if opt_len == 8 and opt_type in (1, 2):
            mac = int.from_bytes(l4[pos + 2:pos + 8], "big")
            if sll if opt_type == 1 else tll:
                return  # a repeated option invalidates target and addresses
            if opt_type == 1:
                sll = mac
            else:
                tll = mac
        pos += opt_len
    v["nd_target"] = target
    v["arp_sha"], v["arp_tha"] = sll, tll


def packet_match(flow: Flow) -> Match:
    """The match ovs-ofctl prints for a packet (``match_wc_init`` + ``flow_format``)."""
    get = flow.get
    masked: list[tuple[str, int]] = [("packet_type", 0xFFFFFFFF)]
    if get("packet_type") == PT_ETH:
        masked += [("dl_dst", (1 << 48) - 1), ("dl_src", (1 << 48) - 1), ("dl_type", 0xFFFF),
                   ("vlan_tci", 0xFFFF)]
        if get("vlan_tci"):
            masked.append(("vlan_tci1", 0xFFFF))
        dl_type = get("dl_type")
    else:
        dl_type = get("packet_type") & 0xFFFF
    ip = False
    if dl_type == ETH_TYPE_IP:
        masked += [("nw_src", 0xFFFFFFFF), ("nw_dst", 0xFFFFFFFF)]
        ip = True
    elif dl_type == ETH_TYPE_IPV6:
        all128 = (1 << 128) - 1
        masked += [("ipv6_src", all128), ("ipv6_dst", all128), ("ipv6_label", 0xFFFFFFFF)]
        if (get("nw_proto") == IPPROTO_ICMPV6 and get("tp_src") in (ND_SOLICIT, ND_ADVERT)
                and get("tp_dst") == 0):
            masked += [("arp_sha", (1 << 48) - 1), ("arp_tha", (1 << 48) - 1),
                       ("nd_target", all128)]
        ip = True
    elif dl_type in (ETH_TYPE_ARP, ETH_TYPE_RARP):
        masked += [("nw_src", 0xFFFFFFFF), ("nw_dst", 0xFFFFFFFF), ("nw_proto", 0xFF),
                   ("arp_sha", (1 << 48) - 1), ("arp_tha", (1 << 48) - 1)]
    elif dl_type in MPLS_TYPES:
        for slot in ("mpls_lse", "mpls_lse1", "mpls_lse2"):
            masked.append((slot, 0xFFFFFFFF))
            if get(slot) & 0x100:
                break
    if ip:
        masked += [("nw_frag", 3), ("nw_tos", 0xFF), ("nw_ttl", 0xFF), ("nw_proto", 0xFF)]
        if not get("nw_frag") & FRAG_LATER and get("nw_proto") in _L4_PORTS:
            masked += [("tp_src", 0xFFFF), ("tp_dst", 0xFFFF)]
            if get("nw_proto") == IPPROTO_TCP:
                masked.append(("tcp_flags", 0xFFFF))
            elif get("nw_proto") == IPPROTO_IGMP:
                masked.append(("igmp_group_ip4", 0xFFFFFFFF))
    b = MatchBuilder()
    for slot, mask in masked:
        b.slots[slot] = (get(slot) & mask, mask)
    return b.freeze()


def packet_to_string(data: bytes, packet_type: int = PT_ETH) -> str:
    """OVS ``ofp_packet_to_string``: the packet's flow, its checksum, a newline."""
    from .match_text import format_match  # text sits above the value
    flow = extract_flow(data, packet_type)
    text = format_match(packet_match(flow))
    proto = flow.get("nw_proto")
    if flow.l4 is not None and proto in CHECKSUMS:
        min_len, offset, width, label = CHECKSUMS[proto]
        if len(flow.l4) >= min_len:
            csum = int.from_bytes(flow.l4[offset:offset + width], "big")
            text += f" {label}:{csum:x}"
    return text + "\n"
