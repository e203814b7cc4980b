"""The OpenFlow 1.0 fixed match, ``struct ofp10_match``, to and from ``Match``.

OpenFlow 1.0 matches with a fixed 40-byte structure: a wildcard bit per
field, plus two 6-bit counts of wildcarded low-order bits for the IPv4
source and destination (so only CIDR masks are possible).  Conversion follows
OVS's ``ofputil_match_{from,to}_ofp10_match``: wildcarded fields are zeroed,
``nw_tos`` keeps only its DSCP bits, and VLANs map onto ``vlan_tci`` --
``dl_vlan=0xffff`` (``OFP10_VLAN_NONE``) means "no 802.1Q header", any other
VID or PCP implies the CFI ("VLAN present") bit.

``normalize_match`` is OVS's ``ofputil_normalize_match``, which OVS
applies to every OpenFlow 1.0 match it receives: fields whose prerequisites
the match lacks are dropped.

What the structure cannot say (other fields, non-CIDR masks, masked ports)
is simply dropped by ``encode_ofp10_match``; the flow-text parser's
``Protocol`` result is how callers learn beforehand that OpenFlow 1.0 would
lose information, as in ovs-ofctl.
"""

from __future__ import annotations

import struct
from typing import Final

from .errors import OFError, OFPErr
from .match import (
    ETH_TYPE_ARP,
    ETH_TYPE_IP,
    ETH_TYPE_IPV6,
    ETH_TYPE_MPLS,
    ETH_TYPE_MPLS_MCAST,
    ETH_TYPE_RARP,
    IPPROTO_ICMP,
    IPPROTO_ICMPV6,
    IPPROTO_SCTP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    ND_NEIGHBOR_ADVERT,
    ND_NEIGHBOR_SOLICIT,
    OFP10_VLAN_NONE,
    OFPHTN_ETHERTYPE,
    PT_ETH,
    VLAN_CFI,
    VLAN_PCP_MASK,
    VLAN_VID_MASK,
    Match,
    MatchBuilder,
)

OFPFW10_IN_PORT: Final = 1 << 0
OFPFW10_DL_VLAN: Final = 1 << 1
OFPFW10_DL_SRC: Final = 1 << 2
OFPFW10_DL_DST: Final = 1 << 3
OFPFW10_DL_TYPE: Final = 1 << 4
OFPFW10_NW_PROTO: Final = 1 << 5
OFPFW10_TP_SRC: Final = 1 << 6
OFPFW10_TP_DST: Final = 1 << 7
OFPFW10_NW_SRC_SHIFT: Final = 8
OFPFW10_NW_DST_SHIFT: Final = 14
OFPFW10_DL_VLAN_PCP: Final = 1 << 20
OFPFW10_NW_TOS: Final = 1 << 21
OFPFW10_ALL: Final = (1 << 22) - 1

OFP10_MATCH: Final = struct.Struct("!IH6s6sHBxHBB2xIIHH")
"""wildcards, in_port, dl_src, dl_dst, dl_vlan, dl_vlan_pcp, dl_type, nw_tos,
nw_proto, nw_src, nw_dst, tp_src, tp_dst."""
assert OFP10_MATCH.size == 40

_DATA_BITS: Final = (OFPFW10_NW_TOS | OFPFW10_NW_PROTO | OFPFW10_TP_SRC | OFPFW10_TP_DST
                     | OFPFW10_DL_SRC | OFPFW10_DL_DST | OFPFW10_DL_TYPE | OFPFW10_DL_VLAN
                     | OFPFW10_DL_VLAN_PCP)


def _wcbits_to_netmask(n: int) -> int:
    n &= 0x3F
    return (~((1 << n) - 1)) & 0xFFFFFFFF if n < 32 else 0


def _netmask_to_wcbits(mask: int) -> int:
    """Trailing zero bits of the mask (32 for 0), as OVS ``ofputil_netmask_to_wcbits``."""
    return (mask & -mask).bit_length() - 1 if mask else 32


def decode_ofp10_match(data: bytes | memoryview, offset: int = 0) -> Match:
    """A ``Match`` from the 40-byte ``ofp10_match`` at ``offset``."""
    if len(data) - offset < OFP10_MATCH.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "truncated ofp10_match")
    (wildcards, in_port, dl_src, dl_dst, dl_vlan, dl_vlan_pcp, dl_type, nw_tos, nw_proto,
     nw_src, nw_dst, tp_src, tp_dst) = OFP10_MATCH.unpack_from(data, offset)
    w = wildcards & OFPFW10_ALL
    b = MatchBuilder()
    src_mask = _wcbits_to_netmask(w >> OFPFW10_NW_SRC_SHIFT)
    dst_mask = _wcbits_to_netmask(w >> OFPFW10_NW_DST_SHIFT)
    if (w & _DATA_BITS) != _DATA_BITS or src_mask or dst_mask:
        b.set_default_packet_type()
    if not w & OFPFW10_IN_PORT:
        b.put("in_port", in_port, 0xFFFF)
    if not w & OFPFW10_NW_TOS:
        b.put("nw_tos", nw_tos & 0xFC, 0xFC)
    if not w & OFPFW10_NW_PROTO:
        b.put("nw_proto", nw_proto, 0xFF)
    b.put("nw_src", nw_src, src_mask)
    b.put("nw_dst", nw_dst, dst_mask)
    if not w & OFPFW10_TP_SRC:
        b.put("tp_src", tp_src, 0xFFFF)
    if not w & OFPFW10_TP_DST:
        b.put("tp_dst", tp_dst, 0xFFFF)
    if not w & OFPFW10_DL_SRC:
        b.put("dl_src", int.from_bytes(dl_src, "big"), 0xFFFFFFFFFFFF)
    if not w & OFPFW10_DL_DST:
        b.put("dl_dst", int.from_bytes(dl_dst, "big"), 0xFFFFFFFFFFFF)
    if not w & OFPFW10_DL_TYPE:
        b.put("dl_type", dl_type, 0xFFFF)
    tci_mask = 0
    if not w & OFPFW10_DL_VLAN_PCP:
        tci_mask |= VLAN_PCP_MASK | VLAN_CFI
    if not w & OFPFW10_DL_VLAN:
        tci_mask |= VLAN_VID_MASK | VLAN_CFI
    if not w & OFPFW10_DL_VLAN and dl_vlan == OFP10_VLAN_NONE:
        b.put("vlan_tci", 0, 0xFFFF)
    else:
        tci = (dl_vlan & VLAN_VID_MASK) | ((dl_vlan_pcp << 13) & VLAN_PCP_MASK) | VLAN_CFI
        b.put("vlan_tci", tci, tci_mask)
    return b.freeze()


def encode_ofp10_match(match: Match) -> bytes:
    """The ``ofp10_match`` for ``match`` (OVS ``ofputil_match_to_ofp10_match``)."""
    b = match.builder()
    val, msk = b.value, b.mask
    w = 0
    if not msk("in_port"):
        w |= OFPFW10_IN_PORT
    if not msk("dl_type"):
        w |= OFPFW10_DL_TYPE
    if not msk("nw_proto"):
        w |= OFPFW10_NW_PROTO
    w |= _netmask_to_wcbits(msk("nw_src")) << OFPFW10_NW_SRC_SHIFT
    w |= _netmask_to_wcbits(msk("nw_dst")) << OFPFW10_NW_DST_SHIFT
    if not msk("nw_tos") & 0xFC:
        w |= OFPFW10_NW_TOS
    if not msk("tp_src"):
        w |= OFPFW10_TP_SRC
    if not msk("tp_dst"):
        w |= OFPFW10_TP_DST
    if not msk("dl_src"):
        w |= OFPFW10_DL_SRC
    if not msk("dl_dst"):
        w |= OFPFW10_DL_DST
    dl_vlan = dl_vlan_pcp = 0
    tci, tci_mask = b.get("vlan_tci")
    if not tci_mask:
        w |= OFPFW10_DL_VLAN | OFPFW10_DL_VLAN_PCP
    elif tci_mask & VLAN_CFI and not tci & VLAN_CFI:
        dl_vlan = OFP10_VLAN_NONE
    else:
        if not tci_mask & VLAN_VID_MASK:
            w |= OFPFW10_DL_VLAN
        else:
            dl_vlan = tci & VLAN_VID_MASK
        if not tci_mask & VLAN_PCP_MASK:
            w |= OFPFW10_DL_VLAN_PCP
        else:
            dl_vlan_pcp = tci >> 13
    return OFP10_MATCH.pack(
        w, val("in_port"), val("dl_src").to_bytes(6, "big"), val("dl_dst").to_bytes(6, "big"),
        dl_vlan, dl_vlan_pcp, val("dl_type"), val("nw_tos") & 0xFC, val("nw_proto"),
        val("nw_src"), val("nw_dst"), val("tp_src"), val("tp_dst"))


# Slots each "may match" class covers in normalize_match.
_NORMALIZE_SLOTS: Final = {
    "ether": ("dl_src", "dl_dst"), "nw_addr": ("nw_src", "nw_dst"),
    "tp_addr": ("tp_src", "tp_dst"), "nw_proto": ("nw_proto",),
    "ipvx": ("nw_tos", "nw_ttl"), "arp_sha": ("arp_sha",), "arp_tha": ("arp_tha",),
    "ipv6": ("ipv6_src", "ipv6_dst", "ipv6_label"), "nd_target": ("nd_target",),
    "mpls": ("mpls_lse",),
}


def normalize_match(match: Match) -> Match:
    """Drop fields whose prerequisites the match lacks (OVS ``ofputil_normalize_match``).

    OVS applies this when it decodes an OpenFlow 1.0 flow_mod or flow stats
    request, so ``tcp_dst=80`` without ``tcp`` disappears there.
    """
    b = match.builder()
    pt, pt_mask = b.get("packet_type")
    may: set[str] = set()
    if pt_mask == 0 or (pt == PT_ETH and pt_mask == 0xFFFFFFFF):
        may.add("ether")
        dl_type = b.value("dl_type")
    elif pt_mask == 0xFFFFFFFF and pt >> 16 == OFPHTN_ETHERTYPE:
        dl_type = pt & 0xFFFF
    else:
        dl_type = 0
    proto = b.value("nw_proto")
    if dl_type == ETH_TYPE_IP:
        may |= {"nw_proto", "ipvx", "nw_addr"}
        if proto in (IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP, IPPROTO_ICMP):
            may.add("tp_addr")
    elif dl_type == ETH_TYPE_IPV6:
        may |= {"nw_proto", "ipvx", "ipv6"}
        if proto in (IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP):
            may.add("tp_addr")
        elif proto == IPPROTO_ICMPV6:
            may.add("tp_addr")
            tp_src = b.value("tp_src")
            if tp_src == ND_NEIGHBOR_SOLICIT:
                may |= {"nd_target", "arp_sha"}
            elif tp_src == ND_NEIGHBOR_ADVERT:
                may |= {"nd_target", "arp_tha"}
    elif dl_type in (ETH_TYPE_ARP, ETH_TYPE_RARP):
        may |= {"nw_proto", "nw_addr", "arp_sha", "arp_tha"}
    elif dl_type in (ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST):
        may.add("mpls")
    for group, slots in _NORMALIZE_SLOTS.items():
        if group not in may:
            for slot in slots:
                b.put(slot, 0, 0)
    return b.freeze()
