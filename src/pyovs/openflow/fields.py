"""The match-field table: one row per field, as Open vSwitch's ``meta-flow.h``.

This module is the table and its indexes (by name, by NXM/OXM name, by wire
header); the row type is ``fieldtypes.Field``.  Each ``_f(...)`` row gives, in order:

  name, alias        the ovs-ofctl names (``eth_src``, alias ``dl_src``);
  bytes, bits        wire width in bytes and the number of significant bits;
  MASK / EXACT       whether an arbitrary bitwise mask may be given;
  fmt                how ovs-ofctl writes a value (``fields.Fmt``);
  prereq             what the match must already say (``fields.Prereq``);
  RW / RO            whether set_field/load may write it;
  of10, of11         what the fixed OpenFlow 1.0 / 1.1 matches can express;
  slot, shift        where the value lives in a ``Match`` (OVS's ``struct flow``
                     member) and at which bit; several fields share a slot
                     (``tcp_src``, ``udp_src`` and ``icmp_type`` are all
                     ``tp_src``; ``ip_dscp`` is bits 2-7 of ``nw_tos``);
  valid=             the bits a value may have, where that is not simply the
                     low ``bits`` bits (``nw_tos`` keeps the DSCP bits only);
  bits=              the slot bits an exact match sets, where that is not
                     the default (see ``fieldtypes.make_field``);
  codes              the NXM/OXM assignments ``(name, number, of_version)``,
                     ordered as OVS orders them: version 0 (NXM and extension
                     classes) first, then standard OXM by the OpenFlow version
                     that introduced it.  The class (and experimenter id) come
                     from the name's prefix, as in OVS's build scripts
                     (``fields.OXM_CLASSES``).

Register-like families (``reg0``..``reg15``, ``xreg``, ``xxreg``,
``tun_metadata0``..``63``, ``nsh_c1``..``c4``) are written once as a
comprehension.  ``tests/unit/test_openflow_fields.py`` pins this table:
every field parses, formats and has a wire code where OVS has one, and no two
fields share a code.
"""

from __future__ import annotations

from typing import Final

from .errors import OFPErr
from .fieldtypes import Code, Field, Fmt, OldMatch, Prereq, make_field, nxm_header

_f = make_field
MASK, EXACT = True, False
RW, RO = True, False
NO, EX, CIDR, BITWISE = OldMatch.NO, OldMatch.EXACT, OldMatch.CIDR, OldMatch.BITWISE
DEC, HEX, CT_STATE, ETH = Fmt.DEC, Fmt.HEX, Fmt.CT_STATE, Fmt.ETH
IPV4, IPV6, PORT, PORT_OXM = Fmt.IPV4, Fmt.IPV6, Fmt.PORT, Fmt.PORT_OXM
FRAG, TNL_FLAGS, TCP_FLAGS, PACKET_TYPE = Fmt.FRAG, Fmt.TNL_FLAGS, Fmt.TCP_FLAGS, Fmt.PACKET_TYPE
P = Prereq
ALL = -1  # any value is valid (OVS does not check these)

FIELDS: Final[tuple[Field, ...]] = tuple(
    f.with_id(i) for i, f in enumerate((
    _f("dp_hash", None, 4, 32, MASK, HEX, P.NONE, RO, NO, NO, "dp_hash", 0,
       (("NXOXM_ET_DP_HASH", 0, 0), ("NXM_NX_DP_HASH", 35, 0))),
    _f("recirc_id", None, 4, 32, EXACT, DEC, P.NONE, RO, NO, NO, "recirc_id", 0,
       (("NXM_NX_RECIRC_ID", 36, 0),)),
    _f("packet_type", None, 4, 32, EXACT, PACKET_TYPE, P.NONE, RO, NO, NO, "packet_type", 0,
       (("OXM_OF_PACKET_TYPE", 44, 6),)),
    _f("conj_id", None, 4, 32, EXACT, DEC, P.NONE, RO, NO, NO, "conj_id", 0,
       (("NXM_NX_CONJ_ID", 37, 0),)),
    _f("tun_id", "tunnel_id", 8, 64, MASK, HEX, P.NONE, RW, NO, NO, "tun_id", 0,
       (("NXM_NX_TUN_ID", 16, 0), ("OXM_OF_TUNNEL_ID", 38, 4))),
    _f("tun_src", None, 4, 32, MASK, IPV4, P.NONE, RW, NO, NO, "tun_src", 0,
       (("NXM_NX_TUN_IPV4_SRC", 31, 0),)),
    _f("tun_dst", None, 4, 32, MASK, IPV4, P.NONE, RW, NO, NO, "tun_dst", 0,
       (("NXM_NX_TUN_IPV4_DST", 32, 0),)),
    _f("tun_ipv6_src", None, 16, 128, MASK, IPV6, P.NONE, RW, NO, NO, "tun_ipv6_src", 0,
       (("NXM_NX_TUN_IPV6_SRC", 109, 0),)),
    _f("tun_ipv6_dst", None, 16, 128, MASK, IPV6, P.NONE, RW, NO, NO, "tun_ipv6_dst", 0,
       (("NXM_NX_TUN_IPV6_DST", 110, 0),)),
    _f("tun_flags", None, 2, 1, MASK, TNL_FLAGS, P.NONE, RW, NO, NO, "tun_flags", 0,
       (("NXM_NX_TUN_FLAGS", 104, 0),), bits=0x1),
    _f("tun_ttl", None, 1, 8, EXACT, DEC, P.NONE, RO, NO, NO, "tun_ttl", 0,
       ()),
    _f("tun_tos", None, 1, 8, EXACT, DEC, P.NONE, RO, NO, NO, "tun_tos", 0,
       ()),
    _f("tun_gbp_id", None, 2, 16, MASK, DEC, P.NONE, RW, NO, NO, "tun_gbp_id", 0,
       (("NXM_NX_TUN_GBP_ID", 38, 0),)),
    _f("tun_gbp_flags", None, 1, 8, MASK, HEX, P.NONE, RW, NO, NO, "tun_gbp_flags", 0,
       (("NXM_NX_TUN_GBP_FLAGS", 39, 0),)),
    _f("tun_erspan_idx", None, 4, 20, MASK, HEX, P.NONE, RW, NO, NO, "tun_erspan_idx", 0,
       (("NXOXM_ET_ERSPAN_IDX", 11, 0),), valid=ALL),
    _f("tun_erspan_ver", None, 1, 4, MASK, DEC, P.NONE, RW, NO, NO, "tun_erspan_ver", 0,
       (("NXOXM_ET_ERSPAN_VER", 12, 0),), valid=ALL),
    _f("tun_erspan_dir", None, 1, 1, MASK, DEC, P.NONE, RW, NO, NO, "tun_erspan_dir", 0,
       (("NXOXM_ET_ERSPAN_DIR", 13, 0),), valid=ALL),
    _f("tun_erspan_hwid", None, 1, 6, MASK, HEX, P.NONE, RW, NO, NO, "tun_erspan_hwid", 0,
       (("NXOXM_ET_ERSPAN_HWID", 14, 0),), valid=ALL),
    _f("tun_gtpu_flags", None, 1, 8, MASK, HEX, P.NONE, RO, NO, NO, "tun_gtpu_flags", 0,
       (("NXOXM_ET_GTPU_FLAGS", 15, 0),)),
    _f("tun_gtpu_msgtype", None, 1, 8, MASK, DEC, P.NONE, RO, NO, NO, "tun_gtpu_msgtype", 0,
       (("NXOXM_ET_GTPU_MSGTYPE", 16, 0),)),
    *(_f(f"tun_metadata{i}", None, 124, 992, MASK, HEX, P.NONE, RW, NO, NO, f"tun_metadata{i}", 0,
         ((f"NXM_NX_TUN_METADATA{i}", 40 + i, 0),), variable=True) for i in range(64)),
    _f("metadata", None, 8, 64, MASK, HEX, P.NONE, RW, NO, BITWISE, "metadata", 0,
       (("OXM_OF_METADATA", 2, 3),)),
    _f("in_port", None, 2, 16, EXACT, PORT, P.NONE, RW, EX, EX, "in_port", 0,
       (("NXM_OF_IN_PORT", 0, 0),)),
    _f("in_port_oxm", None, 4, 32, EXACT, PORT_OXM, P.NONE, RW, NO, EX, "in_port", 0,
       (("OXM_OF_IN_PORT", 0, 3),)),
    _f("actset_output", None, 4, 32, EXACT, PORT_OXM, P.NONE, RO, NO, NO, "actset_output", 0,
       (("ONFOXM_ET_ACTSET_OUTPUT", 43, 4), ("OXM_OF_ACTSET_OUTPUT", 43, 6))),
    _f("skb_priority", None, 4, 32, EXACT, HEX, P.NONE, RO, NO, NO, "skb_priority", 0,
       ()),
    _f("pkt_mark", None, 4, 32, MASK, HEX, P.NONE, RW, NO, NO, "pkt_mark", 0,
       (("NXM_NX_PKT_MARK", 33, 0),)),
    _f("ct_state", None, 4, 32, MASK, CT_STATE, P.NONE, RO, NO, NO, "ct_state", 0,
       (("NXM_NX_CT_STATE", 105, 0),), valid=0xff),
    _f("ct_zone", None, 2, 16, EXACT, HEX, P.NONE, RO, NO, NO, "ct_zone", 0,
       (("NXM_NX_CT_ZONE", 106, 0),)),
    _f("ct_mark", None, 4, 32, MASK, HEX, P.NONE, RW, NO, NO, "ct_mark", 0,
       (("NXM_NX_CT_MARK", 107, 0),)),
    _f("ct_label", None, 16, 128, MASK, HEX, P.NONE, RW, NO, NO, "ct_label", 0,
       (("NXM_NX_CT_LABEL", 108, 0),)),
    _f("ct_nw_proto", None, 1, 8, EXACT, DEC, P.CT_VALID, RO, NO, NO, "ct_nw_proto", 0,
       (("NXM_NX_CT_NW_PROTO", 119, 0),)),
    _f("ct_nw_src", None, 4, 32, MASK, IPV4, P.CT_VALID, RO, NO, NO, "ct_nw_src", 0,
       (("NXM_NX_CT_NW_SRC", 120, 0),)),
    _f("ct_nw_dst", None, 4, 32, MASK, IPV4, P.CT_VALID, RO, NO, NO, "ct_nw_dst", 0,
       (("NXM_NX_CT_NW_DST", 121, 0),)),
    _f("ct_ipv6_src", None, 16, 128, MASK, IPV6, P.CT_VALID, RO, NO, NO, "ct_ipv6_src", 0,
       (("NXM_NX_CT_IPV6_SRC", 122, 0),)),
    _f("ct_ipv6_dst", None, 16, 128, MASK, IPV6, P.CT_VALID, RO, NO, NO, "ct_ipv6_dst", 0,
       (("NXM_NX_CT_IPV6_DST", 123, 0),)),
    _f("ct_tp_src", None, 2, 16, MASK, DEC, P.CT_VALID, RO, NO, NO, "ct_tp_src", 0,
       (("NXM_NX_CT_TP_SRC", 124, 0),)),
    _f("ct_tp_dst", None, 2, 16, MASK, DEC, P.CT_VALID, RO, NO, NO, "ct_tp_dst", 0,
       (("NXM_NX_CT_TP_DST", 125, 0),)),
    *(_f(f"reg{i}", None, 4, 32, MASK, HEX, P.NONE, RW, NO, NO, "regs", (15 - i) * 32,
         ((f"NXM_NX_REG{i}", i, 0),)) for i in range(16)),
    *(_f(f"xreg{i}", None, 8, 64, MASK, HEX, P.NONE, RW, NO, NO, "regs", (7 - i) * 64,
         ((f"OXM_OF_PKT_REG{i}", i, 4),)) for i in range(8)),
    *(_f(f"xxreg{i}", None, 16, 128, MASK, HEX, P.NONE, RW, NO, NO, "regs", (3 - i) * 128,
         ((f"NXM_NX_XXREG{i}", 111 + i, 0),)) for i in range(4)),
    _f("eth_src", "dl_src", 6, 48, MASK, ETH, P.ETHERNET, RW, EX, BITWISE, "dl_src", 0,
       (("NXM_OF_ETH_SRC", 2, 0), ("OXM_OF_ETH_SRC", 4, 3))),
    _f("eth_dst", "dl_dst", 6, 48, MASK, ETH, P.ETHERNET, RW, EX, BITWISE, "dl_dst", 0,
       (("NXM_OF_ETH_DST", 1, 0), ("OXM_OF_ETH_DST", 3, 3))),
    _f("eth_type", "dl_type", 2, 16, EXACT, HEX, P.ETHERNET, RO, EX, EX, "dl_type", 0,
       (("NXM_OF_ETH_TYPE", 3, 0), ("OXM_OF_ETH_TYPE", 5, 3))),
    _f("vlan_tci", None, 2, 16, MASK, HEX, P.ETHERNET, RW, EX, EX, "vlan_tci", 0,
       (("NXM_OF_VLAN_TCI", 4, 0),)),
    _f("dl_vlan", None, 2, 12, EXACT, DEC, P.ETHERNET, RW, EX, EX, "vlan_tci", 0,
       (), valid=0xfff),
    _f("vlan_vid", None, 2, 12, MASK, DEC, P.ETHERNET, RW, EX, EX, "vlan_tci", 0,
       (("OXM_OF_VLAN_VID", 6, 3),), valid=0x1fff, bits=0x1fff),
    _f("dl_vlan_pcp", None, 1, 3, EXACT, DEC, P.ETHERNET, RW, EX, EX, "vlan_tci", 13,
       ()),
    _f("vlan_pcp", None, 1, 3, EXACT, DEC, P.VLAN_VID, RW, EX, EX, "vlan_tci", 13,
       (("OXM_OF_VLAN_PCP", 7, 3),)),
    _f("mpls_label", None, 4, 20, EXACT, DEC, P.MPLS, RW, NO, EX, "mpls_lse", 12,
       (("OXM_OF_MPLS_LABEL", 34, 3),)),
    _f("mpls_tc", None, 1, 3, EXACT, DEC, P.MPLS, RW, NO, EX, "mpls_lse", 9,
       (("OXM_OF_MPLS_TC", 35, 3),)),
    _f("mpls_bos", None, 1, 1, EXACT, DEC, P.MPLS, RO, NO, NO, "mpls_lse", 8,
       (("OXM_OF_MPLS_BOS", 36, 4),)),
    _f("mpls_ttl", None, 1, 8, EXACT, DEC, P.MPLS, RW, NO, NO, "mpls_lse", 0,
       (("NXM_NX_MPLS_TTL", 30, 0),)),
    _f("ip_src", "nw_src", 4, 32, MASK, IPV4, P.IPV4, RW, CIDR, BITWISE, "nw_src", 0,
       (("NXM_OF_IP_SRC", 7, 0), ("OXM_OF_IPV4_SRC", 11, 3))),
    _f("ip_dst", "nw_dst", 4, 32, MASK, IPV4, P.IPV4, RW, CIDR, BITWISE, "nw_dst", 0,
       (("NXM_OF_IP_DST", 8, 0), ("OXM_OF_IPV4_DST", 12, 3))),
    _f("ipv6_src", None, 16, 128, MASK, IPV6, P.IPV6, RW, NO, NO, "ipv6_src", 0,
       (("NXM_NX_IPV6_SRC", 19, 0), ("OXM_OF_IPV6_SRC", 26, 3))),
    _f("ipv6_dst", None, 16, 128, MASK, IPV6, P.IPV6, RW, NO, NO, "ipv6_dst", 0,
       (("NXM_NX_IPV6_DST", 20, 0), ("OXM_OF_IPV6_DST", 27, 3))),
    _f("ipv6_label", None, 4, 20, MASK, HEX, P.IPV6, RW, NO, NO, "ipv6_label", 0,
       (("NXM_NX_IPV6_LABEL", 27, 0), ("OXM_OF_IPV6_FLABEL", 28, 3))),
    _f("nw_proto", "ip_proto", 1, 8, EXACT, DEC, P.IP_ANY, RO, EX, EX, "nw_proto", 0,
       (("NXM_OF_IP_PROTO", 6, 0), ("OXM_OF_IP_PROTO", 10, 3))),
    _f("nw_tos", None, 1, 8, EXACT, DEC, P.IP_ANY, RW, EX, EX, "nw_tos", 0,
       (("NXM_OF_IP_TOS", 5, 0),), valid=0xfc, bits=0xfc),
    _f("ip_dscp", None, 1, 6, EXACT, DEC, P.IP_ANY, RW, EX, EX, "nw_tos", 2,
       (("OXM_OF_IP_DSCP", 8, 3),)),
    _f("nw_ecn", "ip_ecn", 1, 2, EXACT, DEC, P.IP_ANY, RW, NO, EX, "nw_tos", 0,
       (("NXM_NX_IP_ECN", 28, 0), ("OXM_OF_IP_ECN", 9, 3))),
    _f("nw_ttl", None, 1, 8, EXACT, DEC, P.IP_ANY, RW, NO, NO, "nw_ttl", 0,
       (("NXM_NX_IP_TTL", 29, 0),)),
    _f("ip_frag", "nw_frag", 1, 2, MASK, FRAG, P.IP_ANY, RO, NO, NO, "nw_frag", 0,
       (("NXM_NX_IP_FRAG", 26, 0),)),
    _f("arp_op", None, 2, 16, EXACT, DEC, P.ARP, RW, EX, EX, "nw_proto", 0,
       (("NXM_OF_ARP_OP", 15, 0), ("OXM_OF_ARP_OP", 21, 3)), valid=0xff),
    _f("arp_spa", None, 4, 32, MASK, IPV4, P.ARP, RW, CIDR, BITWISE, "nw_src", 0,
       (("NXM_OF_ARP_SPA", 16, 0), ("OXM_OF_ARP_SPA", 22, 3))),
    _f("arp_tpa", None, 4, 32, MASK, IPV4, P.ARP, RW, CIDR, BITWISE, "nw_dst", 0,
       (("NXM_OF_ARP_TPA", 17, 0), ("OXM_OF_ARP_TPA", 23, 3))),
    _f("arp_sha", None, 6, 48, MASK, ETH, P.ARP, RW, NO, NO, "arp_sha", 0,
       (("NXM_NX_ARP_SHA", 17, 0), ("OXM_OF_ARP_SHA", 24, 3))),
    _f("arp_tha", None, 6, 48, MASK, ETH, P.ARP, RW, NO, NO, "arp_tha", 0,
       (("NXM_NX_ARP_THA", 18, 0), ("OXM_OF_ARP_THA", 25, 3))),
    _f("tcp_src", "tp_src", 2, 16, MASK, DEC, P.TCP, RW, EX, EX, "tp_src", 0,
       (("NXM_OF_TCP_SRC", 9, 0), ("OXM_OF_TCP_SRC", 13, 3))),
    _f("tcp_dst", "tp_dst", 2, 16, MASK, DEC, P.TCP, RW, EX, EX, "tp_dst", 0,
       (("NXM_OF_TCP_DST", 10, 0), ("OXM_OF_TCP_DST", 14, 3))),
    _f("tcp_flags", None, 2, 12, MASK, TCP_FLAGS, P.TCP, RO, NO, NO, "tcp_flags", 0,
       (("NXM_NX_TCP_FLAGS", 34, 0), ("ONFOXM_ET_TCP_FLAGS", 42, 4), ("OXM_OF_TCP_FLAGS", 42, 6))),
    _f("udp_src", None, 2, 16, MASK, DEC, P.UDP, RW, EX, EX, "tp_src", 0,
       (("NXM_OF_UDP_SRC", 11, 0), ("OXM_OF_UDP_SRC", 15, 3))),
    _f("udp_dst", None, 2, 16, MASK, DEC, P.UDP, RW, EX, EX, "tp_dst", 0,
       (("NXM_OF_UDP_DST", 12, 0), ("OXM_OF_UDP_DST", 16, 3))),
    _f("sctp_src", None, 2, 16, MASK, DEC, P.SCTP, RW, NO, EX, "tp_src", 0,
       (("OXM_OF_SCTP_SRC", 17, 3),)),
    _f("sctp_dst", None, 2, 16, MASK, DEC, P.SCTP, RW, NO, EX, "tp_dst", 0,
       (("OXM_OF_SCTP_DST", 18, 3),)),
    _f("icmp_type", None, 1, 8, EXACT, DEC, P.ICMPV4, RW, EX, EX, "tp_src", 0,
       (("NXM_OF_ICMP_TYPE", 13, 0), ("OXM_OF_ICMPV4_TYPE", 19, 3))),
    _f("icmp_code", None, 1, 8, EXACT, DEC, P.ICMPV4, RW, EX, EX, "tp_dst", 0,
       (("NXM_OF_ICMP_CODE", 14, 0), ("OXM_OF_ICMPV4_CODE", 20, 3))),
    _f("icmpv6_type", None, 1, 8, EXACT, DEC, P.ICMPV6, RW, NO, NO, "tp_src", 0,
       (("NXM_NX_ICMPV6_TYPE", 21, 0), ("OXM_OF_ICMPV6_TYPE", 29, 3))),
    _f("icmpv6_code", None, 1, 8, EXACT, DEC, P.ICMPV6, RW, NO, NO, "tp_dst", 0,
       (("NXM_NX_ICMPV6_CODE", 22, 0), ("OXM_OF_ICMPV6_CODE", 30, 3))),
    _f("nd_target", None, 16, 128, MASK, IPV6, P.ND, RW, NO, NO, "nd_target", 0,
       (("NXM_NX_ND_TARGET", 23, 0), ("OXM_OF_IPV6_ND_TARGET", 31, 3))),
    _f("nd_sll", None, 6, 48, MASK, ETH, P.ND_SOLICIT, RW, NO, NO, "arp_sha", 0,
       (("NXM_NX_ND_SLL", 24, 0), ("OXM_OF_IPV6_ND_SLL", 32, 3))),
    _f("nd_tll", None, 6, 48, MASK, ETH, P.ND_ADVERT, RW, NO, NO, "arp_tha", 0,
       (("NXM_NX_ND_TLL", 25, 0), ("OXM_OF_IPV6_ND_TLL", 33, 3))),
    _f("nd_reserved", None, 4, 32, EXACT, DEC, P.ND, RW, NO, NO, "igmp_group_ip4", 0,
       (("ERICOXM_OF_ICMPV6_ND_RESERVED", 1, 0),)),
    _f("nd_options_type", None, 1, 8, EXACT, DEC, P.ND, RW, NO, NO, "tcp_flags", 0,
       (("ERICOXM_OF_ICMPV6_ND_OPTIONS_TYPE", 2, 0),)),
    _f("nsh_flags", None, 1, 8, MASK, DEC, P.NSH, RW, NO, NO, "nsh_flags", 0,
       (("NXOXM_NSH_FLAGS", 1, 0),)),
    _f("nsh_mdtype", None, 1, 8, EXACT, DEC, P.NSH, RO, NO, NO, "nsh_mdtype", 0,
       (("NXOXM_NSH_MDTYPE", 2, 0),)),
    _f("nsh_np", None, 1, 8, EXACT, DEC, P.NSH, RO, NO, NO, "nsh_np", 0,
       (("NXOXM_NSH_NP", 3, 0),)),
    _f("nsh_spi", "nsp", 4, 24, EXACT, HEX, P.NSH, RW, NO, NO, "nsh_path_hdr", 8,
       (("NXOXM_NSH_SPI", 4, 0),)),
    _f("nsh_si", "nsi", 1, 8, EXACT, DEC, P.NSH, RW, NO, NO, "nsh_path_hdr", 0,
       (("NXOXM_NSH_SI", 5, 0),)),
    *(_f(f"nsh_c{i}", f"nshc{i}", 4, 32, MASK, HEX, P.NSH, RW, NO, NO, f"nsh_c{i}", 0,
         ((f"NXOXM_NSH_C{i}", 5 + i, 0),)) for i in range(1, 5)),
    _f("nsh_ttl", None, 1, 8, EXACT, DEC, P.NSH, RW, NO, NO, "nsh_ttl", 0,
       (("NXOXM_NSH_TTL", 10, 0),), valid=0x3f),
)))


FIELD_BY_NAME: Final[dict[str, Field]] = {
    **{f.alias: f for f in FIELDS if f.alias},
    **{f.name: f for f in FIELDS},
}
"""Fields by ovs-ofctl name or alias (``tcp_src`` and ``tp_src``)."""

CODE_BY_NAME: Final[dict[str, tuple[Field, Code]]] = {
    c.name: (f, c) for f in FIELDS for c in f.codes
}
"""Fields by NXM/OXM name (``NXM_OF_ETH_SRC``), as ``load``/``move`` accept them."""

_BY_HEADER: Final[dict[tuple[int, int, int], tuple[Field, Code]]] = {
    (c.oxm_class, c.field, c.vendor): (f, c) for f in FIELDS for c in f.codes
}


def field(name: str) -> Field:
    """The field called ``name`` (or its alias); KeyError if there is none."""
    return FIELD_BY_NAME[name]


def header_key(header: int) -> tuple[int, int, int]:
    """(class, field, experimenter) of a 64-bit NXM/OXM header."""
    oxm_class = header >> 48
    vendor = header & 0xFFFFFFFF if oxm_class == 0xFFFF else 0
    return oxm_class, (header >> 41) & 0x7F, vendor


def lookup_header(header: int) -> tuple[Field, Code] | None:
    """The field a header names, checking its length as OVS does.

    A masked header's length is twice the value's.  A length that does not
    fit the field makes the header unknown (``OFPBMC_BAD_FIELD`` to callers),
    except for variable-length fields.
    """
    hit = _BY_HEADER.get(header_key(header))
    if hit is None:
        return None
    f, code = hit
    length = _exact_length(header)
    # OVS compares lengths to 7 bits only in its lookup key, so 128 and up
    # never names a field, not even a variable-length one.
    if length & 0x80 or (length != code.length and not f.variable):
        return None
    return hit


def _exact_length(header: int) -> int:
    """A header's length as if it were not masked."""
    length = (header >> 32) & 0xFF
    if header >> 40 & 1:
        extra = 4 if header >> 48 == 0xFFFF else 0
        length = (length - extra) // 2 + extra
    return length


# --- OVS's verdict on an unknown header in a set_field action ------------------
#
# OVS looks headers up in a hash table keyed by the header without its length
# and, for actions only, answers OFPBAC_BAD_SET_LEN if any header sharing the
# table bucket has a different length, else OFPBAC_BAD_SET_TYPE.  Which
# headers share a bucket follows from OVS's hash function (murmur-based, as
# OVS builds without SSE 4.2 use) and table size, both reproduced here.

def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & 0xFFFFFFFF


def _mhash_add(h: int, data: int) -> int:
    if data:
        data = _rot((data * 0xCC9E2D51) & 0xFFFFFFFF, 15) * 0x1B873593 & 0xFFFFFFFF
        h ^= data
    return (_rot(h, 13) * 5 + 0xE6546B64) & 0xFFFFFFFF


def _hash_uint64(x: int) -> int:
    h = _mhash_add(_mhash_add(0, x & 0xFFFFFFFF), x >> 32) ^ 8
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


def _no_len(header: int) -> int:
    return header & 0xFFFFFF80FFFFFFFF


def _table_mask(n: int) -> int:
    """The bucket mask of an OVS hmap after ``n`` insertions."""
    mask = 0
    for count in range(1, n + 1):
        if count // 2 > mask:
            new = count // 2
            for shift in (1, 2, 4, 8, 16, 32):
                new |= new >> shift
            mask = max(mask, new | (new & 1) << 1)
    return mask


_HEADERS: Final = tuple(code.header() for f in FIELDS for code in f.codes)
_MASK: Final = _table_mask(len(_HEADERS))
_BUCKETS: Final[dict[int, tuple[int, ...]]] = {}
for _h in _HEADERS:
    _b = _hash_uint64(_no_len(_h)) & _MASK
    _BUCKETS[_b] = (*_BUCKETS.get(_b, ()), _h)


def unknown_action_header_error(header: int) -> OFPErr:
    """What OVS answers for a set_field/reg_load2 header it does not accept."""
    if header >> 40 & 1:
        header = (header & ~(0x1FF << 32)) | (_exact_length(header) << 32)
    length = (header >> 32) & 0xFF
    for other in _BUCKETS.get(_hash_uint64(_no_len(header)) & _MASK, ()):
        if length and length != (other >> 32) & 0xFF:
            return OFPErr.OFPBAC_BAD_SET_LEN
    return OFPErr.OFPBAC_BAD_SET_TYPE


NXM_NX_COOKIE: Final = nxm_header(0x0001, 30, False, 8)
NXM_NX_COOKIE_W: Final = nxm_header(0x0001, 30, True, 16)
"""The flow-cookie pseudo-field that may appear in NXM flow_mod/stats matches."""

PIPELINE_FIELDS: Final = frozenset(
    f.name for f in FIELDS
    if f.name.startswith(("tun_metadata", "reg", "xreg", "xxreg"))
    or f.name in ("tun_id", "tun_src", "tun_dst", "tun_ipv6_src", "tun_ipv6_dst", "tun_flags",
                  "tun_gbp_id", "tun_gbp_flags", "tun_erspan_ver", "tun_erspan_idx",
                  "tun_erspan_dir", "tun_erspan_hwid", "tun_gtpu_flags", "tun_gtpu_msgtype",
                  "metadata", "in_port", "in_port_oxm", "packet_type"))
"""Fields a packet-out may set (OVS ``mf_is_pipeline_field``): metadata, not packet headers."""
