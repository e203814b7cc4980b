"""Standard OpenFlow actions: output, group, enqueue, VLAN, L2-L4 rewrites, MPLS, TTL.

Follows OVS ``ofp-actions.c`` action by action.  Where the wire form depends
on more than the action itself, the rules are OVS's: OpenFlow 1.0/1.1 use
the legacy rewrite actions, 1.2+ use set-field (``put_set_field``);
``mod_vlan_vid`` adds a push_vlan in 1.1+ unless the flow's match guarantees
a tag; ``enqueue`` becomes set_queue + output + pop_queue in 1.1+.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final

from .act_wire import (
    ETH_TYPE_VLAN_8021AD,
    ETH_TYPE_VLAN_8021Q,
    OFPVID12_PRESENT,
    U16,
    Dec,
    arg_parser,
    atoi,
    const,
    nullary,
    put_reg_load,
    put_set_field,
    raw_only,
    str_to_u8,
    str_to_u16,
    str_to_u32,
    str_to_u64,
    strtok,
    tmpl,
    zeros,
)
from .act_wire import check_output_port as _check_output_port
from .action_table import put_raw
from .actions import (
    Action,
    DecMplsTtl,
    DecTtl,
    Enqueue,
    FmtCtx,
    Group,
    Output,
    OutputReg,
    ParseCtx,
    PopMpls,
    PopQueue,
    PushMpls,
    PushVlan,
    SetEthDst,
    SetEthSrc,
    SetIpDscp,
    SetIpEcn,
    SetIpTtl,
    SetIpv4Dst,
    SetIpv4Src,
    SetL4DstPort,
    SetL4SrcPort,
    SetMplsLabel,
    SetMplsTc,
    SetMplsTtl,
    SetQueue,
    SetTunnel,
    SetVlanPcp,
    SetVlanVid,
    StripVlan,
)
from .errors import OFError, OFPErr, ParseError
from .fields import field
from .ports import (
    OFPP_CONTROLLER,
    OFPP_IN_PORT,
    OFPP_LOCAL,
    OFPP_MAX,
    format_port,
    from_ofp11,
    parse_port,
    to_ofp11,
)
from .protocols import OF11_UP
from .subfield import Subfield, parse_subfield
from .values import (
    eth_to_str,
    ipv4_to_str,
    scan_eth,
)

# --- output, group, enqueue, controller --------------------------------------


def _dec_output10(v: int, b: memoryview, arg: int) -> list[Action]:
    port, max_len = struct.unpack_from("!HH", b, 4)
    _check_output_port(port)
    return [Output(port, max_len)]


def _dec_output11(v: int, b: memoryview, arg: int) -> list[Action]:
    port32, max_len = struct.unpack_from("!IH", b, 4)
    port = from_ofp11(port32)
    _check_output_port(port)
    return [Output(port, max_len)]


def _enc_output(a: Action, v: int) -> bytes:
    assert isinstance(a, Output)
    if v == 1:
        out = put_raw("OFPAT10_OUTPUT", v)
        struct.pack_into("!HH", out, 4, a.port, a.max_len)
    else:
        out = put_raw("OFPAT11_OUTPUT", v)
        struct.pack_into("!IH", out, 4, to_ofp11(a.port), a.max_len)
    return bytes(out)


def _fmt_output(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, Output)
    text = format_port(a.port, ctx.port_names)
    if a.port < OFPP_MAX:
        text = "output:" + text
    if a.port == OFPP_CONTROLLER:
        text += f":{a.max_len}"
    return text


def parse_output(arg: str, ctx: ParseCtx) -> list[Action]:
    if "port" in arg and "max_len" in arg:
        from .act_nxsimple import parse_output_trunc
        return parse_output_trunc(arg, ctx)
    port = parse_port(arg, ctx.port_map)
    if port is not None:
        return [Output(port, 0xFFFF if port == OFPP_CONTROLLER else 0)]
    try:
        src = parse_subfield(arg)
    except ParseError:
        raise ParseError(f"{arg}: output to unknown port") from None
    return [OutputReg(src, 0xFFFF)]


def _dec_group(v: int, b: memoryview, arg: int) -> list[Action]:
    return [Group(arg)]


def _enc_group(a: Action, v: int) -> bytes:
    assert isinstance(a, Group)
    return bytes(put_raw("OFPAT_GROUP", v, a.group_id))


def _dec_enqueue(v: int, b: memoryview, arg: int) -> list[Action]:
    port, queue = struct.unpack_from("!H6xI", b, 4)
    if port >= OFPP_MAX and port not in (OFPP_IN_PORT, OFPP_LOCAL):
        raise OFError(OFPErr.OFPBAC_BAD_OUT_PORT, f"enqueue port {port}")
    return [Enqueue(port, queue)]


def _enc_enqueue(a: Action, v: int) -> bytes:
    assert isinstance(a, Enqueue)
    if v == 1:
        out = put_raw("OFPAT10_ENQUEUE", v)
        struct.pack_into("!H6xI", out, 4, a.port, a.queue)
        return bytes(out)
    out = put_raw("OFPAT_SET_QUEUE", v, a.queue)
    output = put_raw("OFPAT11_OUTPUT", v)
    struct.pack_into("!IH", output, 4, to_ofp11(a.port), 0xFFFF)
    return bytes(out + output + put_raw("NXAST_POP_QUEUE", v))


def _parse_enqueue(arg: str, ctx: ParseCtx) -> list[Action]:
    parts = [p for p in strtok(arg, ":q,")]
    if len(parts) < 2:
        raise ParseError('"enqueue" syntax is "enqueue:PORT:QUEUE" or "enqueue(PORT,QUEUE)"')
    port_text = parts[0]
    rest = arg[arg.index(port_text) + len(port_text):].lstrip(":q,")
    port = parse_port(port_text, ctx.port_map)
    if port is None:
        raise ParseError(f"{port_text}: enqueue to unknown port")
    return [Enqueue(port, str_to_u32(rest))]


# --- output_reg --------------------------------------------------------------


# --- VLAN --------------------------------------------------------------------


def _dec_vlan_vid(push: bool) -> Dec:
    def dec(v: int, b: memoryview, vid: int) -> list[Action]:
        if vid & ~0xFFF:
            raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, f"VLAN VID {vid}")
        return [SetVlanVid(vid, push)]
    return dec


def _dec_vlan_pcp(push: bool) -> Dec:
    def dec(v: int, b: memoryview, pcp: int) -> list[Action]:
        if pcp & ~7:
            raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, f"VLAN PCP {pcp}")
        return [SetVlanPcp(pcp, push)]
    return dec


def _enc_vlan_vid(a: Action, v: int) -> bytes:
    assert isinstance(a, SetVlanVid)
    out = b""
    if v > 1 and a.push_vlan_if_needed and not a.flow_has_vlan:
        out = bytes(put_raw("OFPAT11_PUSH_VLAN", v, ETH_TYPE_VLAN_8021Q))
    if v == 1:
        return out + bytes(put_raw("OFPAT10_SET_VLAN_VID", v, a.vid))
    if v == 2:
        return out + bytes(put_raw("OFPAT11_SET_VLAN_VID", v, a.vid))
    return out + put_set_field(field("vlan_vid"), v, a.vid | OFPVID12_PRESENT)


def _enc_vlan_pcp(a: Action, v: int) -> bytes:
    assert isinstance(a, SetVlanPcp)
    out = b""
    if v > 1 and a.push_vlan_if_needed and not a.flow_has_vlan:
        out = bytes(put_raw("OFPAT11_PUSH_VLAN", v, ETH_TYPE_VLAN_8021Q))
    if v == 1:
        return out + bytes(put_raw("OFPAT10_SET_VLAN_PCP", v, a.pcp))
    if v == 2:
        return out + bytes(put_raw("OFPAT11_SET_VLAN_PCP", v, a.pcp))
    return out + put_set_field(field("vlan_pcp"), v, a.pcp)


def _parse_vlan_vid(push: bool) -> Callable[[str, ParseCtx], list[Action]]:
    def parse(arg: str, ctx: ParseCtx) -> list[Action]:
        vid = str_to_u16(arg, "VLAN VID")
        if vid & ~0xFFF:
            raise ParseError(f"{arg}: not a valid VLAN VID")
        return [SetVlanVid(vid, push)]
    return parse


def _parse_vlan_pcp(push: bool) -> Callable[[str, ParseCtx], list[Action]]:
    def parse(arg: str, ctx: ParseCtx) -> list[Action]:
        pcp = str_to_u8(arg, "VLAN PCP")
        if pcp & ~7:
            raise ParseError(f"{arg}: not a valid VLAN PCP")
        return [SetVlanPcp(pcp, push)]
    return parse


def _enc_strip_vlan(a: Action, v: int) -> bytes:
    return bytes(put_raw("OFPAT10_STRIP_VLAN" if v == 1 else "OFPAT11_POP_VLAN", v))


def _dec_push_vlan(v: int, b: memoryview, ethertype: int) -> list[Action]:
    if ethertype not in (ETH_TYPE_VLAN_8021Q, ETH_TYPE_VLAN_8021AD):
        raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, f"push_vlan ethertype {ethertype:#x}")
    return [PushVlan(ethertype)]


def _enc_push_vlan(a: Action, v: int) -> bytes:
    assert isinstance(a, PushVlan)
    # In OpenFlow 1.0 a push is a side effect of setting the VID/PCP.
    return b"" if v == 1 else bytes(put_raw("OFPAT11_PUSH_VLAN", v, a.ethertype))


def _parse_push_vlan(arg: str, ctx: ParseCtx) -> list[Action]:
    ctx.usable &= OF11_UP
    ethertype = str_to_u16(arg, "ethertype")
    if ethertype not in (ETH_TYPE_VLAN_8021Q, ETH_TYPE_VLAN_8021AD):
        raise ParseError(f"{arg}: not a valid VLAN ethertype")
    return [PushVlan(ethertype)]


# --- L2/L3/L4 rewrites -------------------------------------------------------


def _dec_dl(cls: type[SetEthSrc] | type[SetEthDst]) -> Dec:
    def dec(v: int, b: memoryview, arg: int) -> list[Action]:
        return [cls(int.from_bytes(b[4:10], "big"))]
    return dec


def _enc_dl(raw: str, name: str) -> Callable[[Action, int], bytes]:
    def enc(a: Action, v: int) -> bytes:
        assert isinstance(a, (SetEthSrc, SetEthDst))
        if v < 3:
            out = put_raw(raw, v)
            out[4:10] = a.mac.to_bytes(6, "big")
            return bytes(out)
        return put_set_field(field(name), v, a.mac)
    return enc


def _enc_simple(raw: str, set_field: str | None, attr: str,
                shift: int = 0) -> Callable[[Action, int], bytes]:
    """An action with one integer argument: legacy raw before 1.2, set-field after."""
    def enc(a: Action, v: int) -> bytes:
        value = getattr(a, attr)
        if v < 3 or set_field is None:
            return bytes(put_raw(raw, v, value))
        return put_set_field(field(set_field), v, value >> shift)
    return enc


def _dec_arg(build: Callable[[int], Action], check_mask: int = 0) -> Dec:
    def dec(v: int, b: memoryview, arg: int) -> list[Action]:
        if arg & check_mask:
            raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, f"argument {arg:#x}")
        return [build(arg)]
    return dec


def enc_ecn(a: Action, v: int) -> bytes:
    assert isinstance(a, SetIpEcn)
    if v == 1:
        return put_reg_load(Subfield(field("nw_ecn"), 0, 2), a.ecn)
    if v == 2:
        return bytes(put_raw("OFPAT11_SET_NW_ECN", v, a.ecn))
    return put_set_field(field("nw_ecn"), v, a.ecn)


def _enc_ttl(a: Action, v: int) -> bytes:
    assert isinstance(a, SetIpTtl)
    if v >= 2:
        return bytes(put_raw("OFPAT11_SET_NW_TTL", v, a.ttl))
    return put_reg_load(Subfield(field("nw_ttl"), 0, 8), a.ttl)


def _enc_l4(raw: str, suffix: str) -> Callable[[Action, int], bytes]:
    def enc(a: Action, v: int) -> bytes:
        assert isinstance(a, (SetL4SrcPort, SetL4DstPort))
        proto = {6: "tcp", 17: "udp", 132: "sctp"}.get(a.flow_ip_proto)
        if v >= 3 and proto:
            return put_set_field(field(f"{proto}_{suffix}"), v, a.port)
        return bytes(put_raw(raw, v, a.port))
    return enc


# --- MPLS --------------------------------------------------------------------


def _check_mpls_ethertype(ethertype: int) -> None:
    if ethertype not in (0x8847, 0x8848):
        raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, f"MPLS ethertype {ethertype:#x}")


def _dec_push_mpls(v: int, b: memoryview, ethertype: int) -> list[Action]:
    _check_mpls_ethertype(ethertype)
    return [PushMpls(ethertype)]


# --- set_field / load / move -------------------------------------------------


# --- stack -------------------------------------------------------------------


# --- TTLs --------------------------------------------------------------------


def _dec_dec_ttl(v: int, b: memoryview, arg: int) -> list[Action]:
    return [DecTtl((0,))]


def _dec_dec_ttl_ids(v: int, b: memoryview, arg: int) -> list[Action]:
    n = U16.unpack_from(b, 10)[0]
    if not zeros(b[12:16]):
        raise OFError(OFPErr.NXBRC_MUST_BE_ZERO, "dec_ttl reserved bytes")
    if len(b) - 16 < 2 * n:
        raise OFError(OFPErr.OFPBAC_BAD_LEN, "dec_ttl controller ids")
    return [DecTtl(struct.unpack_from(f"!{n}H", b, 16), "NXAST_DEC_TTL_CNT_IDS")]


def _enc_dec_ttl(a: Action, v: int) -> bytes:
    assert isinstance(a, DecTtl)
    if a.raw == "NXAST_DEC_TTL_CNT_IDS" or a.ids != (0,):
        out = put_raw("NXAST_DEC_TTL_CNT_IDS", v)
        U16.pack_into(out, 10, len(a.ids))
        ids = struct.pack(f"!{len(a.ids)}H", *a.ids)
        out += ids + bytes(-len(ids) % 8)
        U16.pack_into(out, 2, len(out))
        return bytes(out)
    return bytes(put_raw("OFPAT_DEC_NW_TTL", v))


def _parse_dec_ttl(arg: str, ctx: ParseCtx) -> list[Action]:
    if not arg:
        return [DecTtl((0,))]
    ids = tuple(atoi(t) & 0xFFFF for t in strtok(arg, ", "))
    if not ids:
        raise ParseError("dec_ttl_cnt_ids: expected at least one controller id.")
    return [DecTtl(ids, "NXAST_DEC_TTL_CNT_IDS")]


def _fmt_dec_ttl(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, DecTtl)
    if a.raw == "NXAST_DEC_TTL_CNT_IDS":
        return "dec_ttl(" + ",".join(str(i) for i in a.ids) + ")"
    return "dec_ttl"


# --- tunnel, queue, fin_timeout, resubmit, misc ------------------------------


def _enc_set_tunnel(a: Action, v: int) -> bytes:
    assert isinstance(a, SetTunnel)
    if v < 3:
        if a.tun_id <= 0xFFFFFFFF and a.raw != "NXAST_SET_TUNNEL64":
            return bytes(put_raw("NXAST_SET_TUNNEL", v, a.tun_id))
        return bytes(put_raw("NXAST_SET_TUNNEL64", v, a.tun_id))
    return put_set_field(field("tun_id"), v, a.tun_id)


def _parse_set_tunnel(raw: str) -> Callable[[str, ParseCtx], list[Action]]:
    def parse(arg: str, ctx: ParseCtx) -> list[Action]:
        return [SetTunnel(str_to_u64(arg), raw)]
    return parse


def _fmt_set_tunnel(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, SetTunnel)
    wide = a.tun_id > 0xFFFFFFFF or a.raw == "NXAST_SET_TUNNEL64"
    return f"set_tunnel{'64' if wide else ''}:{a.tun_id:#x}" if a.tun_id else \
        f"set_tunnel{'64' if wide else ''}:0"


# --- instructions ------------------------------------------------------------


def _parse_tos(arg: str, ctx: ParseCtx) -> list[Action]:
    tos = str_to_u8(arg, "TOS")
    if tos & 3:
        raise ParseError(f"{arg}: not a valid TOS")
    return [SetIpDscp(tos)]


def _parse_ecn(arg: str, ctx: ParseCtx) -> list[Action]:
    ecn = str_to_u8(arg, "ECN")
    if ecn & ~3:
        raise ParseError(f"{arg}: not a valid ECN")
    return [SetIpEcn(ecn)]


def _parse_mac(cls: type[SetEthSrc] | type[SetEthDst]) -> Callable[[str, ParseCtx],
                                                                    list[Action]]:
    def parse(arg: str, ctx: ParseCtx) -> list[Action]:
        got = scan_eth(arg, 0)
        if got is None:
            raise ParseError(f"invalid mac address {arg}")
        return [cls(got[0])]
    return parse


def _parse_ip(cls: type[SetIpv4Src] | type[SetIpv4Dst]) -> Callable[[str, ParseCtx],
                                                                     list[Action]]:
    def parse(arg: str, ctx: ParseCtx) -> list[Action]:
        import socket
        try:
            packed = socket.inet_aton(arg)
        except OSError:
            try:
                packed = socket.inet_aton(socket.gethostbyname(arg))
            except OSError:
                raise ParseError(f"{arg}: could not convert to IP address") from None
        return [cls(int.from_bytes(packed, "big"))]
    return parse


def _parse_mpls_label(arg: str, ctx: ParseCtx) -> list[Action]:
    if not arg:
        raise ParseError("set_mpls_label: expected label.")
    ctx.usable &= OF11_UP
    return [SetMplsLabel(atoi(arg) & 0xFFFFF)]


def _parse_mpls_u8(cls: type[SetMplsTc] | type[SetMplsTtl], what: str
                   ) -> Callable[[str, ParseCtx], list[Action]]:
    def parse(arg: str, ctx: ParseCtx) -> list[Action]:
        if not arg:
            raise ParseError(f"{cls.__name__.lower()}: expected {what}.")
        ctx.usable &= OF11_UP
        return [cls(atoi(arg) & 0xFF)]
    return parse


def _parse_ethertype(cls: type[PushMpls] | type[PopMpls]) -> Callable[[str, ParseCtx],
                                                                       list[Action]]:
    def parse(arg: str, ctx: ParseCtx) -> list[Action]:
        ethertype = str_to_u16(arg, "push_mpls" if cls is PushMpls else "pop_mpls")
        if cls is PushMpls and ethertype not in (0x8847, 0x8848):
            raise ParseError(f"{arg}: invalid ethertype for push_mpls")
        return [cls(ethertype)]
    return parse


def _parse_strip_vlan(raw: str) -> Callable[[str, ParseCtx], list[Action]]:
    def parse(arg: str, ctx: ParseCtx) -> list[Action]:
        return [StripVlan(raw)]
    return parse


def _fmt_group(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, Group)
    return f"group:{a.group_id}"


def _fmt_enqueue(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, Enqueue)
    return f"enqueue:{format_port(a.port, ctx.port_names)}:{a.queue}"


def _fmt_vlan_vid(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, SetVlanVid)
    return f"{'mod_vlan_vid' if a.push_vlan_if_needed else 'set_vlan_vid'}:{a.vid}"


def _fmt_vlan_pcp(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, SetVlanPcp)
    return f"{'mod_vlan_pcp' if a.push_vlan_if_needed else 'set_vlan_pcp'}:{a.pcp}"


def _fmt_strip_vlan(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, StripVlan)
    return "pop_vlan" if a.raw == "OFPAT11_POP_VLAN" else "strip_vlan"


def _hex04(value: int) -> str:
    return f"0x{value:04x}"




DECODERS: Final[dict[str, Dec]] = {
    "OFPAT10_OUTPUT": _dec_output10,
    "OFPAT11_OUTPUT": _dec_output11,
    "OFPAT_GROUP": _dec_group,
    "OFPAT10_ENQUEUE": _dec_enqueue,
    "OFPAT10_SET_VLAN_VID": _dec_vlan_vid(True),
    "OFPAT11_SET_VLAN_VID": _dec_vlan_vid(False),
    "OFPAT10_SET_VLAN_PCP": _dec_vlan_pcp(True),
    "OFPAT11_SET_VLAN_PCP": _dec_vlan_pcp(False),
    "OFPAT10_STRIP_VLAN": lambda v, b, a: [StripVlan("OFPAT10_STRIP_VLAN")],
    "OFPAT11_POP_VLAN": lambda v, b, a: [StripVlan("OFPAT11_POP_VLAN")],
    "OFPAT11_PUSH_VLAN": _dec_push_vlan,
    "OFPAT_SET_DL_SRC": _dec_dl(SetEthSrc),
    "OFPAT_SET_DL_DST": _dec_dl(SetEthDst),
    "OFPAT_SET_NW_SRC": _dec_arg(SetIpv4Src),
    "OFPAT_SET_NW_DST": _dec_arg(SetIpv4Dst),
    "OFPAT_SET_NW_TOS": _dec_arg(SetIpDscp, 3),
    "OFPAT11_SET_NW_ECN": _dec_arg(SetIpEcn, ~3),
    "OFPAT11_SET_NW_TTL": _dec_arg(SetIpTtl),
    "OFPAT_SET_TP_SRC": _dec_arg(SetL4SrcPort),
    "OFPAT_SET_TP_DST": _dec_arg(SetL4DstPort),
    "OFPAT_SET_MPLS_LABEL": _dec_arg(SetMplsLabel),
    "OFPAT_SET_MPLS_TC": _dec_arg(SetMplsTc),
    "OFPAT_SET_MPLS_TTL": _dec_arg(SetMplsTtl),
    "OFPAT_DEC_MPLS_TTL": lambda v, b, a: [DecMplsTtl()],
    "OFPAT_PUSH_MPLS": _dec_push_mpls,
    "OFPAT_POP_MPLS": _dec_arg(PopMpls),
    "OFPAT_SET_QUEUE": _dec_arg(SetQueue),
    "NXAST_POP_QUEUE": lambda v, b, a: [PopQueue()],
    "OFPAT_DEC_NW_TTL": _dec_dec_ttl,
    "NXAST_DEC_TTL_CNT_IDS": _dec_dec_ttl_ids,
    "NXAST_SET_TUNNEL": lambda v, b, a: [SetTunnel(a, "NXAST_SET_TUNNEL")],
    "NXAST_SET_TUNNEL64": lambda v, b, a: [SetTunnel(a, "NXAST_SET_TUNNEL64")],
}

ENCODERS: Final[dict[type, Callable[[Action, int], bytes]]] = {
    Output: _enc_output,
    Group: _enc_group,
    Enqueue: _enc_enqueue,
    SetVlanVid: _enc_vlan_vid,
    SetVlanPcp: _enc_vlan_pcp,
    StripVlan: _enc_strip_vlan,
    PushVlan: _enc_push_vlan,
    SetEthSrc: _enc_dl("OFPAT_SET_DL_SRC", "eth_src"),
    SetEthDst: _enc_dl("OFPAT_SET_DL_DST", "eth_dst"),
    SetIpv4Src: _enc_simple("OFPAT_SET_NW_SRC", "ip_src", "ipv4"),
    SetIpv4Dst: _enc_simple("OFPAT_SET_NW_DST", "ip_dst", "ipv4"),
    SetIpDscp: _enc_simple("OFPAT_SET_NW_TOS", "ip_dscp", "dscp", 2),
    SetIpEcn: enc_ecn,
    SetIpTtl: _enc_ttl,
    SetL4SrcPort: _enc_l4("OFPAT_SET_TP_SRC", "src"),
    SetL4DstPort: _enc_l4("OFPAT_SET_TP_DST", "dst"),
    SetMplsLabel: _enc_simple("OFPAT_SET_MPLS_LABEL", "mpls_label", "label"),
    SetMplsTc: _enc_simple("OFPAT_SET_MPLS_TC", "mpls_tc", "tc"),
    SetMplsTtl: _enc_simple("OFPAT_SET_MPLS_TTL", None, "ttl"),
    DecMplsTtl: raw_only("OFPAT_DEC_MPLS_TTL"),
    PushMpls: _enc_simple("OFPAT_PUSH_MPLS", None, "ethertype"),
    PopMpls: _enc_simple("OFPAT_POP_MPLS", None, "ethertype"),
    SetQueue: _enc_simple("OFPAT_SET_QUEUE", None, "queue_id"),
    PopQueue: raw_only("NXAST_POP_QUEUE"),
    DecTtl: _enc_dec_ttl,
    SetTunnel: _enc_set_tunnel,
}

FORMATTERS: Final[dict[type, Callable[[Action, FmtCtx], str]]] = {
    Output: _fmt_output,
    Group: _fmt_group,
    Enqueue: _fmt_enqueue,
    SetVlanVid: _fmt_vlan_vid,
    SetVlanPcp: _fmt_vlan_pcp,
    StripVlan: _fmt_strip_vlan,
    PushVlan: tmpl("push_vlan:{}", "ethertype", hex),
    SetEthSrc: tmpl("mod_dl_src:{}", "mac", eth_to_str),
    SetEthDst: tmpl("mod_dl_dst:{}", "mac", eth_to_str),
    SetIpv4Src: tmpl("mod_nw_src:{}", "ipv4", ipv4_to_str),
    SetIpv4Dst: tmpl("mod_nw_dst:{}", "ipv4", ipv4_to_str),
    SetIpDscp: tmpl("mod_nw_tos:{}", "dscp"),
    SetIpEcn: tmpl("mod_nw_ecn:{}", "ecn"),
    SetIpTtl: tmpl("mod_nw_ttl:{}", "ttl"),
    SetL4SrcPort: tmpl("mod_tp_src:{}", "port"),
    SetL4DstPort: tmpl("mod_tp_dst:{}", "port"),
    SetMplsLabel: tmpl("set_mpls_label({})", "label"),
    SetMplsTc: tmpl("set_mpls_tc({})", "tc"),
    SetMplsTtl: tmpl("set_mpls_ttl({})", "ttl"),
    DecMplsTtl: const("dec_mpls_ttl"),
    PushMpls: tmpl("push_mpls:{}", "ethertype", _hex04),
    PopMpls: tmpl("pop_mpls:{}", "ethertype", _hex04),
    SetQueue: tmpl("set_queue:{}", "queue_id"),
    PopQueue: const("pop_queue"),
    DecTtl: _fmt_dec_ttl,
    SetTunnel: _fmt_set_tunnel,
}

PARSERS: Final[dict[str, Callable[[str, ParseCtx], list[Action]]]] = {
    "output": parse_output,
    "group": arg_parser(Group, str_to_u32),
    "enqueue": _parse_enqueue,
    "set_vlan_vid": _parse_vlan_vid(False),
    "set_vlan_pcp": _parse_vlan_pcp(False),
    "mod_vlan_vid": _parse_vlan_vid(True),
    "mod_vlan_pcp": _parse_vlan_pcp(True),
    "strip_vlan": _parse_strip_vlan("OFPAT10_STRIP_VLAN"),
    "pop_vlan": _parse_strip_vlan("OFPAT11_POP_VLAN"),
    "push_vlan": _parse_push_vlan,
    "mod_dl_src": _parse_mac(SetEthSrc),
    "mod_dl_dst": _parse_mac(SetEthDst),
    "mod_nw_src": _parse_ip(SetIpv4Src),
    "mod_nw_dst": _parse_ip(SetIpv4Dst),
    "mod_nw_tos": _parse_tos,
    "mod_nw_ecn": _parse_ecn,
    "mod_nw_ttl": arg_parser(SetIpTtl, lambda s: str_to_u8(s, "TTL")),
    "set_nw_ttl": arg_parser(SetIpTtl, lambda s: str_to_u8(s, "TTL")),
    "mod_tp_src": arg_parser(SetL4SrcPort, lambda s: str_to_u16(s, "source port")),
    "mod_tp_dst": arg_parser(SetL4DstPort, lambda s: str_to_u16(s, "destination port")),
    "dec_ttl": _parse_dec_ttl,
    "set_mpls_label": _parse_mpls_label,
    "set_mpls_tc": _parse_mpls_u8(SetMplsTc, "tc"),
    "set_mpls_ttl": _parse_mpls_u8(SetMplsTtl, "ttl"),
    "dec_mpls_ttl": nullary(DecMplsTtl),
    "push_mpls": _parse_ethertype(PushMpls),
    "pop_mpls": _parse_ethertype(PopMpls),
    "set_tunnel": _parse_set_tunnel(""),
    "set_tunnel64": _parse_set_tunnel("NXAST_SET_TUNNEL64"),
    "set_queue": arg_parser(SetQueue, str_to_u32),
    "pop_queue": nullary(PopQueue),
}

