"""Conntrack flushes by tuple: NXT_CT_FLUSH (OVS lib/ofp-ct.c).

The message is an IP protocol, 7 zero bytes and properties: the original
and reply tuples (each a nested list of address, port and ICMP properties;
IPv4 addresses travel IPv4-mapped in 16 bytes) and an optional zone.
``CtFlush`` holds the decoded match; ``l3`` is the address family as OVS
works it out while decoding (each address property sets it, a zero one
clears it, a mix of families is ``OFPBPC_BAD_VALUE``), which decides whether
both tuples print as ``ct_nw_*`` or ``ct_ipv6_*``.  The message's bytes are
kept, so that it re-encodes unchanged.

``parse_ct_tuple`` is ``ofp_ct_tuple_parse``, the text ``ovs-ofctl
ct-flush`` takes; ``encode_ct_flush`` builds the message as OVS does.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from .act_wire import str_to_u8, str_to_u16
from .codec import Body, FormatContext, MsgCodec
from .ctext import parse_key_value
from .errors import OFError, OFPErr, ParseError
from .msgtable import Raw
from .props import parse_nested, parse_u8, parse_u16, pull_props, put_nested, put_prop, put_u16

NX_CT_FLUSH: Final = struct.Struct("!B7s")
ORIG_TUPLE, REPLY_TUPLE, ZONE_ID = 0, 1, 2
T_SRC, T_DST, T_SRC_PORT, T_DST_PORT, T_ICMP_ID, T_ICMP_TYPE, T_ICMP_CODE = range(7)
AF_INET, AF_INET6 = 2, 10
IPPROTO_ICMP, IPPROTO_ICMPV6 = 1, 58
_V4_MAPPED: Final = 0xFFFF << 32


@dataclass(frozen=True, slots=True)
class CtTuple:
    """One direction's 5-tuple (``struct ofp_ct_tuple``); addresses as 128-bit ints."""

    src: int = 0
    dst: int = 0
    src_port: int = 0
    dst_port: int = 0
    icmp_id: int = 0
    icmp_type: int = 0
    icmp_code: int = 0


@dataclass(frozen=True, slots=True)
class CtFlush(Body):
    """NXT_CT_FLUSH."""

    ip_proto: int = 0
    orig: CtTuple = CtTuple()
    reply: CtTuple = CtTuple()
    zone: int | None = None
    l3: int = 0
    raw: bytes = field(default=b"", compare=False)


def _family(addr: int) -> int:
    if not addr:
        return 0
    return AF_INET if addr >> 32 == 0xFFFF else AF_INET6


def _tuple(payload: memoryview, l3: int) -> tuple[CtTuple, int]:
    values = {T_SRC: 0, T_DST: 0, T_SRC_PORT: 0, T_DST_PORT: 0, T_ICMP_ID: 0,
              T_ICMP_TYPE: 0, T_ICMP_CODE: 0}
    for t, inner in pull_props(parse_nested(payload)):
        if t in (T_SRC, T_DST):
            if len(inner) < 16:
                raise OFError(OFPErr.OFPBPC_BAD_LEN, "ct tuple address")
            addr = int.from_bytes(inner[:16], "big")
            family = _family(addr)
            if l3 and family and l3 != family:
                raise OFError(OFPErr.OFPBPC_BAD_VALUE, "ct tuple address family")
            l3 = family
            values[t] = addr
        elif t in (T_SRC_PORT, T_DST_PORT, T_ICMP_ID):
            values[t] = parse_u16(inner)
        elif t in (T_ICMP_TYPE, T_ICMP_CODE):
            values[t] = parse_u8(inner)
    return CtTuple(*(values[t] for t in range(7))), l3


def _decode(version: int, raw: Raw, b: memoryview) -> Body:
    ip_proto, pad = NX_CT_FLUSH.unpack_from(b)
    if any(pad):
        raise OFError(OFPErr.NXBRC_MUST_BE_ZERO, "ct flush padding")
    orig = reply = CtTuple()
    zone: int | None = None
    l3 = 0
    for t, payload in pull_props(b[NX_CT_FLUSH.size:]):
        if t == ORIG_TUPLE:
            orig, l3 = _tuple(payload, l3)
        elif t == REPLY_TUPLE:
            reply, l3 = _tuple(payload, l3)
        elif t == ZONE_ID:
            zone = parse_u16(payload)
    return CtFlush(ip_proto, orig, reply, zone, l3, bytes(b))


def _put_tuple(t: CtTuple, kind: int, ip_proto: int) -> bytes:
    nested = b""
    for prop, addr in ((T_SRC, t.src), (T_DST, t.dst)):
        if addr:
            nested += put_prop(prop, addr.to_bytes(16, "big"))
    if ip_proto in (IPPROTO_ICMP, IPPROTO_ICMPV6):
        nested += (put_u16(T_ICMP_ID, t.icmp_id) + put_prop(T_ICMP_TYPE, bytes([t.icmp_type]))
                   + put_prop(T_ICMP_CODE, bytes([t.icmp_code])))
    else:
        for prop, port in ((T_SRC_PORT, t.src_port), (T_DST_PORT, t.dst_port)):
            if port:
                nested += put_u16(prop, port)
    return put_nested(kind, nested) if nested else b""


def encode_ct_flush(ip_proto: int, orig: CtTuple, reply: CtTuple, zone: int | None) -> bytes:
    """``ofp_ct_match_encode``: the body of an NXT_CT_FLUSH."""
    body = NX_CT_FLUSH.pack(ip_proto, bytes(7))
    body += _put_tuple(orig, ORIG_TUPLE, ip_proto) + _put_tuple(reply, REPLY_TUPLE, ip_proto)
    return body + (put_u16(ZONE_ID, zone) if zone is not None else b"")


def _encode(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, CtFlush)
    return body.raw or encode_ct_flush(body.ip_proto, body.orig, body.reply, body.zone)


def _address(addr: int) -> str:
    """OVS ``ipv6_format_mapped``."""
    if addr >> 32 == 0xFFFF:
        return socket.inet_ntop(socket.AF_INET, (addr & 0xFFFFFFFF).to_bytes(4, "big"))
    return socket.inet_ntop(socket.AF_INET6, addr.to_bytes(16, "big"))


def format_ct_tuple(t: CtTuple, ip_proto: int, l3: int) -> str:
    """OVS ``ofp_ct_tuple_format``."""
    prefix = "ct_nw_" if l3 == AF_INET else "ct_ipv6_"
    text = f"{prefix}src={_address(t.src)},{prefix}dst={_address(t.dst)}"
    if ip_proto in (IPPROTO_ICMP, IPPROTO_ICMPV6):
        return text + f",icmp_id={t.icmp_id},icmp_type={t.icmp_type},icmp_code={t.icmp_code}"
    return text + f",ct_tp_src={t.src_port},ct_tp_dst={t.dst_port}"


def _format(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, CtFlush)
    return (f" zone={body.zone or 0} '{format_ct_tuple(body.orig, body.ip_proto, body.l3)}"
            f",ct_nw_proto={body.ip_proto}' "
            f"'{format_ct_tuple(body.reply, body.ip_proto, body.l3)}'")


# --- text ----------------------------------------------------------------------------

_ADDRESS_KEYS: Final = {"ct_nw_src": (AF_INET, "src"), "ct_nw_dst": (AF_INET, "dst"),
                        "ct_ipv6_src": (AF_INET6, "src"), "ct_ipv6_dst": (AF_INET6, "dst")}


def _field(key: str, convert: Callable[..., int], *args: str) -> int:
    """A field's value; OVS words any failure as "failed to parse field KEY"."""
    try:
        return convert(*args)
    except ValueError:
        raise ParseError(f"failed to parse field {key}") from None


def _ipv4(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def _ipv6(text: str) -> int:
    return int(ipaddress.IPv6Address(text))


def parse_ct_tuple(text: str, ip_proto: int, l3: int) -> tuple[CtTuple, int, int]:
    """``ofp_ct_tuple_parse``: (tuple, ip_proto, l3 family); ``ParseError`` as OVS words it."""
    v = {"src": 0, "dst": 0, "src_port": 0, "dst_port": 0, "icmp_id": 0, "icmp_type": 0,
         "icmp_code": 0}
    pos = 0
    while (item := parse_key_value(text, pos)) is not None:
        key, value, pos = item
        if not value:
            raise ParseError(f"field {key} missing value")
        if key in _ADDRESS_KEYS:
            family, which = _ADDRESS_KEYS[key]
            if l3 and l3 != family:
                raise ParseError(f"the L3 protocol does not match {value}")
            if v[which]:
                raise ParseError(f"{key} is set multiple times")
            if family == AF_INET:
                v[which] = _V4_MAPPED | _field(key, _ipv4, value)
            else:
                v[which] = _field(key, _ipv6, value)
            l3 = family
        elif key == "ct_nw_proto":
            ip_proto = _field(key, str_to_u8, value, key)
        elif key in ("ct_tp_src", "ct_tp_dst"):
            v["src_port" if key == "ct_tp_src" else "dst_port"] = _field(
                key, str_to_u16, value, key)
        elif key in ("icmp_type", "icmp_code", "icmp_id"):
            if ip_proto not in (IPPROTO_ICMP, IPPROTO_ICMPV6):
                raise ParseError("invalid L4 fields")
            v[key] = _field(key, str_to_u16 if key == "icmp_id" else str_to_u8, value, key)
        else:
            raise ParseError(f"invalid conntrack tuple field: {key}")
    if not ip_proto and (v["src_port"] or v["dst_port"]):
        raise ParseError("port is set without protocol")
    return (CtTuple(v["src"], v["dst"], v["src_port"], v["dst_port"], v["icmp_id"],
                    v["icmp_type"], v["icmp_code"]), ip_proto, l3)


CODECS: Final = {"NXT_CT_FLUSH": MsgCodec(_decode, _encode, _format)}
DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {CtFlush: lambda v: "NXT_CT_FLUSH"}
