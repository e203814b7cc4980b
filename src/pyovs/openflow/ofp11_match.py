"""Matches in OpenFlow 1.1+ messages: the 1.1 fixed match or an OXM match.

Every OpenFlow 1.1+ message with a match starts it with an
``ofp11_match_header`` (type, length).  Type ``OFPMT_STANDARD`` is OpenFlow
1.1's fixed 88-byte ``ofp11_match`` (wildcard bits plus arbitrary masks for
Ethernet and IPv4 addresses and metadata); ``OFPMT_OXM`` is the TLV match of
1.2+ (``match.encode_oxm_match``).  ``pull_ofp11_match`` reads either, as OVS
``ofputil_pull_ofp11_match`` does (with its errors), and ``put_ofp11_match``
writes the form a version uses: the fixed match for OpenFlow 1.1, OXM after.

Conversion of the fixed match follows ``ofputil_match_{from,to}_ofp11_match``:
``dl_vlan`` 0xffff means "no tag" and 0xfffe "any tag"; transport ports are
read only for TCP/UDP/SCTP (and ICMP type/code for ICMP); MPLS only for MPLS
ethertypes.  Masks on the wire are inverted (1 bits are wildcards).
"""

from __future__ import annotations

import struct
from typing import Final

from .errors import OFError, OFPErr
from .match import (
    VLAN_CFI,
    VLAN_PCP_MASK,
    VLAN_VID_MASK,
    Match,
    MatchBuilder,
    decode_oxm_match,
    encode_oxm_match,
)
from .ports import from_ofp11, to_ofp11

OFPMT_STANDARD: Final = 0
OFPMT_OXM: Final = 1
OFPMT11_STANDARD_LENGTH: Final = 88

OFP11_MATCH: Final = struct.Struct("!HHII6s6s6s6sHBxHBBIIIIHHIB3xQQ")
"""type, length, in_port, wildcards, dl_src, dl_src_mask, dl_dst, dl_dst_mask,
dl_vlan, dl_vlan_pcp, dl_type, nw_tos, nw_proto, nw_src, nw_src_mask, nw_dst,
nw_dst_mask, tp_src, tp_dst, mpls_label, mpls_tc, metadata, metadata_mask."""
assert OFP11_MATCH.size == OFPMT11_STANDARD_LENGTH

OFPFW11_IN_PORT: Final = 1 << 0
OFPFW11_DL_VLAN: Final = 1 << 1
OFPFW11_DL_VLAN_PCP: Final = 1 << 2
OFPFW11_DL_TYPE: Final = 1 << 3
OFPFW11_NW_TOS: Final = 1 << 4
OFPFW11_NW_PROTO: Final = 1 << 5
OFPFW11_TP_SRC: Final = 1 << 6
OFPFW11_TP_DST: Final = 1 << 7
OFPFW11_MPLS_LABEL: Final = 1 << 8
OFPFW11_MPLS_TC: Final = 1 << 9
OFPVID11_ANY: Final = 0xFFFE
OFPVID11_NONE: Final = 0xFFFF

_ETH_ALL: Final = (1 << 48) - 1
_U32_ALL: Final = 0xFFFFFFFF
_U64_ALL: Final = (1 << 64) - 1
_MPLS_TYPES: Final = (0x8847, 0x8848)
_MPLS_LABEL_MASK: Final = 0xFFFFF000
_MPLS_TC_MASK: Final = 0x00000E00


def decode_ofp11_standard(data: bytes | memoryview, offset: int = 0) -> Match:
    """A ``Match`` from an 88-byte ``ofp11_match`` (OVS ``ofputil_match_from_ofp11_match``)."""
    (_, _, in_port, wildcards, dl_src, dl_src_mask, dl_dst, dl_dst_mask, dl_vlan,
     dl_vlan_pcp, dl_type, nw_tos, nw_proto, nw_src, nw_src_mask, nw_dst, nw_dst_mask,
     tp_src, tp_dst, mpls_label, mpls_tc, metadata,
     metadata_mask) = OFP11_MATCH.unpack_from(data, offset)
    wc = wildcards & 0xFFFF
    b = MatchBuilder()
    if not wc & OFPFW11_IN_PORT:
        try:
            b.put("in_port", from_ofp11(in_port), 0xFFFF)
        except OFError:
            raise OFError(OFPErr.OFPBMC_BAD_VALUE, f"bad in_port {in_port}") from None
    src_mask = ~int.from_bytes(dl_src_mask, "big") & _ETH_ALL
    dst_mask = ~int.from_bytes(dl_dst_mask, "big") & _ETH_ALL
    if src_mask or dst_mask:
        b.put("dl_src", int.from_bytes(dl_src, "big"), src_mask)
        b.put("dl_dst", int.from_bytes(dl_dst, "big"), dst_mask)
        b.set_default_packet_type()
    if not wc & OFPFW11_DL_VLAN:
        if dl_vlan == OFPVID11_NONE:
            b.put("vlan_tci", 0, 0xFFFF)
        else:
            if dl_vlan == OFPVID11_ANY:
                tci, tci_mask = VLAN_CFI, VLAN_CFI
            elif dl_vlan < 4096:
                tci, tci_mask = VLAN_CFI | dl_vlan, VLAN_CFI | VLAN_VID_MASK
            else:
                raise OFError(OFPErr.OFPBMC_BAD_VALUE, f"bad dl_vlan {dl_vlan}")
            if not wc & OFPFW11_DL_VLAN_PCP:
                if dl_vlan_pcp > 7:
                    raise OFError(OFPErr.OFPBMC_BAD_VALUE, f"bad dl_vlan_pcp {dl_vlan_pcp}")
                tci |= dl_vlan_pcp << 13
                tci_mask |= VLAN_PCP_MASK
            b.put("vlan_tci", tci, tci_mask)
        b.set_default_packet_type()
    if not wc & OFPFW11_DL_TYPE:
        b.put("dl_type", dl_type, 0xFFFF)
        b.set_default_packet_type()
    dl_type_value = b.value("dl_type")
    ipv4 = dl_type_value == 0x0800
    if ipv4 and not wc & OFPFW11_NW_TOS:
        if nw_tos & ~0xFC:
            raise OFError(OFPErr.OFPBMC_BAD_VALUE, f"bad nw_tos {nw_tos}")
        b.replace_bits("nw_tos", 0xFC, nw_tos, 0xFC)
    if ipv4 or dl_type_value in (0x0806, 0x8035):
        if not wc & OFPFW11_NW_PROTO:
            b.put("nw_proto", nw_proto, 0xFF)
        b.put("nw_src", nw_src, ~nw_src_mask & _U32_ALL)
        b.put("nw_dst", nw_dst, ~nw_dst_mask & _U32_ALL)
    tp_all = OFPFW11_TP_SRC | OFPFW11_TP_DST
    if ipv4 and wc & tp_all != tp_all:
        proto = b.value("nw_proto")
        if proto == 1:
            for bit, slot, value in ((OFPFW11_TP_SRC, "tp_src", tp_src),
                                     (OFPFW11_TP_DST, "tp_dst", tp_dst)):
                if not wc & bit:
                    if value >= 0x100:
                        raise OFError(OFPErr.OFPBMC_BAD_FIELD, f"bad ICMP {slot} {value}")
                    b.put(slot, value, 0xFF)
        elif proto in (6, 17, 132):
            if not wc & OFPFW11_TP_SRC:
                b.put("tp_src", tp_src, 0xFFFF)
            if not wc & OFPFW11_TP_DST:
                b.put("tp_dst", tp_dst, 0xFFFF)
    if dl_type_value in _MPLS_TYPES:
        if not wc & OFPFW11_MPLS_LABEL:
            b.replace_bits("mpls_lse", _MPLS_LABEL_MASK, mpls_label << 12, _MPLS_LABEL_MASK)
        if not wc & OFPFW11_MPLS_TC:
            b.replace_bits("mpls_lse", _MPLS_TC_MASK, mpls_tc << 9, _MPLS_TC_MASK)
    b.put("metadata", metadata, ~metadata_mask & _U64_ALL)
    return b.freeze()


def encode_ofp11_standard(match: Match) -> bytes:
    """The ``ofp11_match`` for ``match`` (OVS ``ofputil_match_to_ofp11_match``)."""
    b = match.builder()
    val, msk = b.value, b.mask
    wc = 0
    in_port = 0
    if not msk("in_port"):
        wc |= OFPFW11_IN_PORT
    else:
        in_port = to_ofp11(val("in_port"))
    dl_vlan = dl_vlan_pcp = 0
    tci, tci_mask = b.get("vlan_tci")
    if not tci_mask:
        wc |= OFPFW11_DL_VLAN | OFPFW11_DL_VLAN_PCP
    elif tci_mask & VLAN_CFI and not tci & VLAN_CFI:
        dl_vlan = OFPVID11_NONE
        wc |= OFPFW11_DL_VLAN_PCP
    else:
        dl_vlan = OFPVID11_ANY if not tci_mask & VLAN_VID_MASK else tci & VLAN_VID_MASK
        if not tci_mask & VLAN_PCP_MASK:
            wc |= OFPFW11_DL_VLAN_PCP
        else:
            dl_vlan_pcp = tci >> 13
    dl_type = 0
    if not msk("dl_type"):
        wc |= OFPFW11_DL_TYPE
    else:
        dl_type = val("dl_type")
    nw_tos = 0
    if not msk("nw_tos") & 0xFC:
        wc |= OFPFW11_NW_TOS
    else:
        nw_tos = val("nw_tos") & 0xFC
    nw_proto = 0
    if not msk("nw_proto"):
        wc |= OFPFW11_NW_PROTO
    else:
        nw_proto = val("nw_proto")
    tp_src = tp_dst = 0
    if not msk("tp_src"):
        wc |= OFPFW11_TP_SRC
    else:
        tp_src = val("tp_src")
    if not msk("tp_dst"):
        wc |= OFPFW11_TP_DST
    else:
        tp_dst = val("tp_dst")
    lse, lse_mask = b.get("mpls_lse")
    mpls_label = mpls_tc = 0
    if not lse_mask & _MPLS_LABEL_MASK:
        wc |= OFPFW11_MPLS_LABEL
    else:
        mpls_label = lse >> 12
    if not lse_mask & _MPLS_TC_MASK:
        wc |= OFPFW11_MPLS_TC
    else:
        mpls_tc = (lse >> 9) & 7
    return OFP11_MATCH.pack(
        OFPMT_STANDARD, OFPMT11_STANDARD_LENGTH, in_port, wc,
        val("dl_src").to_bytes(6, "big"), (~msk("dl_src") & _ETH_ALL).to_bytes(6, "big"),
        val("dl_dst").to_bytes(6, "big"), (~msk("dl_dst") & _ETH_ALL).to_bytes(6, "big"),
        dl_vlan, dl_vlan_pcp, dl_type, nw_tos, nw_proto,
        val("nw_src"), ~msk("nw_src") & _U32_ALL, val("nw_dst"), ~msk("nw_dst") & _U32_ALL,
        tp_src, tp_dst, mpls_label, mpls_tc, val("metadata"), ~msk("metadata") & _U64_ALL)


def pull_ofp11_match(data: bytes | memoryview, offset: int = 0) -> tuple[Match, int]:
    """(match, bytes used including padding) at ``offset`` (OVS ``ofputil_pull_ofp11_match``)."""
    view = memoryview(data)
    if len(view) - offset < 4:
        raise OFError(OFPErr.OFPBMC_BAD_LEN, "truncated match header")
    match_type, length = struct.unpack_from("!HH", view, offset)
    if match_type == OFPMT_STANDARD:
        if length != OFPMT11_STANDARD_LENGTH or len(view) - offset < OFPMT11_STANDARD_LENGTH:
            raise OFError(OFPErr.OFPBMC_BAD_LEN, f"standard match length {length}")
        return decode_ofp11_standard(view, offset), OFPMT11_STANDARD_LENGTH
    if match_type == OFPMT_OXM:
        return decode_oxm_match(view, offset)
    raise OFError(OFPErr.OFPBMC_BAD_TYPE, f"match type {match_type}")


def put_ofp11_match(match: Match, version: int) -> bytes:
    """The match as ``version`` writes it: OpenFlow 1.1's fixed match, else OXM."""
    if version == 2:
        return encode_ofp11_standard(match)
    return encode_oxm_match(match, version)
