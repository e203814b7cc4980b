"""Packet messages: packet-in (standard, Nicira, packet-in2), resume and packet-out.

``PacketIn`` is OVS's ``ofputil_packet_in`` plus what ovs-ofctl prints of the
private continuation: the packet (possibly truncated, ``total_len`` is the
original length), why it was sent, the table and cookie of the flow, the
metadata fields as a ``Match`` (in_port, tunnel, registers...), the buffer
id and, for NXT_PACKET_IN2, controller userdata and the switch's opaque
continuation (kept as bytes; ``Continuation`` decodes it for printing).  The
wire forms are OpenFlow 1.0 (in_port only), 1.1 (in_port and table), 1.2/1.3
(an OXM match of metadata, the cookie from 1.3), Nicira ``nx_packet_in``
(NXM metadata) and ``NXT_PACKET_IN2``/``NXT_RESUME`` (properties).

``PacketOut`` carries the buffer or packet, the actions and the packet's
metadata (only in_port before OpenFlow 1.5, any pipeline field in 1.5).
Decoding checks what OVS checks (``OFPBRC_BAD_PORT`` for a reserved in_port,
``OFPBRC_PIPELINE_FIELDS_ONLY`` for a header field in 1.5 metadata...), and
the text is ``ofputil_packet_in_private_format``/``ofputil_packet_out_format``
with the packet summarized by ``packet.packet_to_string``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .act_text import format_actions
from .act_wire import format_table
from .actions import ActionList, encode_actions, pull_actions
from .codec import Body, FormatContext, MsgCodec
from .dstext import hex_dump
from .errors import OFError, OFPErr
from .match import (
    CATCHALL,
    Match,
    MatchBuilder,
    decode_nx_match,
    decode_oxm_match,
    encode_nx_match,
    encode_oxm_match,
)
from .match_text import format_match
from .msg_flow import ALL_ONES64, NO_BUFFER, fmt_ctx, put_nx_match
from .msgtable import Raw
from .packet import PT_ETH, packet_to_string
from .ports import OFPP_CONTROLLER, OFPP_LOCAL, OFPP_MAX, OFPP_NONE, from_ofp11, to_ofp11
from .props import (
    parse_nested,
    parse_u8,
    parse_u32,
    parse_u64,
    pull_props,
    put_nested,
    put_prop,
    put_u8,
    put_u32,
    put_u64,
)

REASONS: Final = {0: "no_match", 1: "action", 2: "invalid_ttl", 3: "action_set", 4: "group",
                  5: "packet_out", 6: "", 7: ""}

OFP10_PACKET_IN: Final = struct.Struct("!IHHBx")
"""buffer_id, total_len, in_port, reason."""
OFP11_PACKET_IN: Final = struct.Struct("!IIIHBB")
"""buffer_id, in_port, in_phy_port, total_len, reason, table_id."""
OFP12_PACKET_IN: Final = struct.Struct("!IHBB")
"""buffer_id, total_len, reason, table_id (1.3 adds a 64-bit cookie)."""
NX_PACKET_IN: Final = struct.Struct("!IHBBQH6x")
"""buffer_id, total_len, reason, table_id, cookie, match_len."""

NXPINT_PACKET, NXPINT_FULL_LEN, NXPINT_BUFFER_ID, NXPINT_TABLE_ID = 0, 1, 2, 3
NXPINT_COOKIE, NXPINT_REASON, NXPINT_METADATA, NXPINT_USERDATA = 4, 5, 6, 7
NXPINT_CONTINUATION = 8


@dataclass(frozen=True, slots=True)
class PacketIn(Body):
    """A packet sent to the controller (OVS ``ofputil_packet_in``)."""

    packet: bytes
    total_len: int = -1
    """The packet's full length; -1 means ``len(packet)`` (not truncated)."""
    reason: int = 0
    table_id: int = 0
    cookie: int = ALL_ONES64
    """All-ones: none (OpenFlow 1.0-1.2)."""
    metadata: Match = CATCHALL
    buffer_id: int = NO_BUFFER
    userdata: bytes = b""
    continuation: bytes = b""
    """NXPINT_CONTINUATION contents (switch-private, for NXT_RESUME)."""

    @property
    def full_len(self) -> int:
        return len(self.packet) if self.total_len < 0 else self.total_len


def _in_port_match(port: int) -> Match:
    b = MatchBuilder()
    b.put("in_port", port, 0xFFFF)
    return b.freeze()


def _decode_packet_in(version: int, raw: Raw, b: memoryview) -> Body:
    name = raw.name
    if name in ("OFPT12_PACKET_IN", "OFPT13_PACKET_IN"):
        buffer_id, total_len, reason, table_id = OFP12_PACKET_IN.unpack_from(b)
        pos = OFP12_PACKET_IN.size
        cookie = ALL_ONES64
        if name == "OFPT13_PACKET_IN":
            cookie = struct.unpack_from("!Q", b, pos)[0]
            pos += 8
        match, used = decode_oxm_match(b, pos, strict=False)
        pos += used
        if len(b) - pos < 2:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, "packet-in lacks padding")
        return PacketIn(bytes(b[pos + 2:]), total_len, reason, table_id, cookie, match,
                        buffer_id)
    if name == "OFPT10_PACKET_IN":
        buffer_id, total_len, in_port, reason = OFP10_PACKET_IN.unpack_from(b)
        return PacketIn(bytes(b[OFP10_PACKET_IN.size:]), total_len, reason, 0, ALL_ONES64,
                        _in_port_match(in_port), buffer_id)
    if name == "OFPT11_PACKET_IN":
        buffer_id, in_port, _, total_len, reason, table_id = OFP11_PACKET_IN.unpack_from(b)
        return PacketIn(bytes(b[OFP11_PACKET_IN.size:]), total_len, reason, table_id,
                        ALL_ONES64, _in_port_match(from_ofp11(in_port)), buffer_id)
    if name == "NXT_PACKET_IN":
        buffer_id, total_len, reason, table_id, cookie, match_len = NX_PACKET_IN.unpack_from(b)
        padded = match_len + (-match_len % 8)
        if NX_PACKET_IN.size + padded > len(b):
            raise OFError(OFPErr.OFPBMC_BAD_LEN, "nx_match overruns the packet-in")
        match, _, _ = decode_nx_match(b[NX_PACKET_IN.size:NX_PACKET_IN.size + match_len],
                                      strict=False)
        pos = NX_PACKET_IN.size + padded
        if len(b) - pos < 2:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, "packet-in lacks padding")
        return PacketIn(bytes(b[pos + 2:]), total_len, reason, table_id, cookie, match,
                        buffer_id)
    return _decode_packet_in2(b)


def _decode_packet_in2(b: memoryview) -> PacketIn:
    packet: bytes | None = None
    total_len = 0
    buffer_id = NO_BUFFER
    table_id = reason = 0
    cookie = ALL_ONES64
    metadata = CATCHALL
    userdata = continuation = b""
    for type_, payload in pull_props(b):
        if type_ == NXPINT_PACKET:
            packet = bytes(payload)
        elif type_ == NXPINT_FULL_LEN:
            total_len = parse_u32(payload)
        elif type_ == NXPINT_BUFFER_ID:
            buffer_id = parse_u32(payload)
        elif type_ == NXPINT_TABLE_ID:
            table_id = parse_u8(payload)
        elif type_ == NXPINT_COOKIE:
            cookie = parse_u64(payload)
        elif type_ == NXPINT_REASON:
            reason = parse_u8(payload)
        elif type_ == NXPINT_METADATA:
            metadata, _, _ = decode_nx_match(payload, strict=False)
        elif type_ == NXPINT_USERDATA:
            userdata = bytes(payload)
        elif type_ == NXPINT_CONTINUATION:
            continuation = bytes(parse_nested(payload))
        # Other properties are ignored, as OVS does when decoding loosely.
    if not packet:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "NXT_PACKET_IN2 lacks a packet")
    if not total_len:
        total_len = len(packet)
    elif total_len < len(packet):
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "NXT_PACKET_IN2 full_len < len")
    return PacketIn(packet, total_len, reason, table_id, cookie, metadata, buffer_id,
                    userdata, continuation)


def _encode_packet_in(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, PacketIn)
    p = body
    name = raw.name
    in_port = p.metadata.get("in_port")[0]
    if name in ("OFPT12_PACKET_IN", "OFPT13_PACKET_IN"):
        out = OFP12_PACKET_IN.pack(p.buffer_id, p.full_len, p.reason, p.table_id)
        if name == "OFPT13_PACKET_IN":
            out += struct.pack("!Q", p.cookie)
        return out + encode_oxm_match(p.metadata, version) + bytes(2) + p.packet
    if name == "OFPT10_PACKET_IN":
        return OFP10_PACKET_IN.pack(p.buffer_id, p.full_len, in_port, p.reason) + p.packet
    if name == "OFPT11_PACKET_IN":
        port = to_ofp11(in_port)
        return OFP11_PACKET_IN.pack(p.buffer_id, port, port, p.full_len, p.reason,
                                    p.table_id) + p.packet
    if name == "NXT_PACKET_IN":
        nxm, match_len = put_nx_match(p.metadata)
        return (NX_PACKET_IN.pack(p.buffer_id, p.full_len, p.reason, p.table_id, p.cookie,
                                  match_len) + nxm + bytes(2) + p.packet)
    out = put_prop(NXPINT_PACKET, p.packet)
    if p.full_len != len(p.packet):
        out += put_u32(NXPINT_FULL_LEN, p.full_len)
    if p.buffer_id != NO_BUFFER:
        out += put_u32(NXPINT_BUFFER_ID, p.buffer_id)
    out += put_u8(NXPINT_TABLE_ID, p.table_id)
    if p.cookie != ALL_ONES64:
        out += put_u64(NXPINT_COOKIE, p.cookie)
    out += put_u8(NXPINT_REASON, p.reason)
    out += put_prop(NXPINT_METADATA, encode_nx_match(p.metadata, version))
    if p.continuation:
        out += put_nested(NXPINT_CONTINUATION, p.continuation)
    if p.userdata:
        out += put_prop(NXPINT_USERDATA, p.userdata)
    return out


# --- the continuation, for printing ---------------------------------------------

NXCPT_BRIDGE, NXCPT_STACK, NXCPT_MIRRORS, NXCPT_CONNTRACKED = 0x8000, 0x8001, 0x8002, 0x8003
NXCPT_TABLE_ID, NXCPT_COOKIE, NXCPT_ACTIONS, NXCPT_ACTION_SET = 0x8004, 0x8005, 0x8006, 0x8007
NXCPT_ODP_PORT: Final = 0x8008


def _hex(data: bytes) -> str:
    """OVS ``ds_put_hex``."""
    value = int.from_bytes(data, "big")
    return f"0x{value:x}" if value else "0"


def _format_continuation(data: bytes, version: int, ctx: FormatContext) -> str:
    """The ``continuation.*`` lines (OVS ``ofputil_decode_packet_in_private`` + format)."""
    bridge = b""
    stack: list[bytes] = []
    mirrors = 0
    conntracked = False
    table_id, cookie = 0, 0
    actions: list[str] = []
    action_set: ActionList = ()
    odp_port = 0
    names = fmt_ctx(ctx)
    for type_, payload in pull_props(data):
        if type_ == NXCPT_BRIDGE:
            if len(payload) != 16:
                raise OFError(OFPErr.OFPBPC_BAD_LEN, "bridge property")
            bridge = bytes(payload)
        elif type_ == NXCPT_STACK:
            if len(payload) > 128:
                raise OFError(OFPErr.OFPBPC_BAD_LEN, "stack property")
            stack.append(bytes(payload))
        elif type_ == NXCPT_MIRRORS:
            mirrors = parse_u32(payload)
        elif type_ == NXCPT_CONNTRACKED:
            conntracked = True
        elif type_ == NXCPT_TABLE_ID:
            table_id = parse_u8(payload)
        elif type_ == NXCPT_COOKIE:
            cookie = parse_u64(payload)
        elif type_ == NXCPT_ACTIONS:
            acts = pull_actions(parse_nested(payload), version)
            head = (f"unroll_xlate(table={format_table(table_id, names.table_names)},"
                    f" cookie={cookie})")
            actions.append(head + ("," + format_actions(acts, names) if acts else ""))
        elif type_ == NXCPT_ACTION_SET:
            action_set = pull_actions(parse_nested(payload), version)
        elif type_ == NXCPT_ODP_PORT:
            odp_port = parse_u32(payload)
    text = ""
    if any(bridge):
        p = struct.unpack("<4I", bridge)
        text += (f" continuation.bridge={p[0]:08x}-{p[1] >> 16:04x}-{p[1] & 0xFFFF:04x}-"
                 f"{p[2] >> 16:04x}-{p[2] & 0xFFFF:04x}{p[3]:08x}\n")
    if stack:
        text += " continuation.stack=(top) " + " ".join(_hex(v) for v in stack) + " (bottom)\n"
    if mirrors:
        text += f" continuation.mirrors=0x{mirrors:x}\n"
    if conntracked:
        text += " continuation.conntracked=true\n"
    if actions:
        text += " continuation.actions=" + ",".join(actions) + "\n"
    if action_set:
        text += " continuation.action_set=" + format_actions(action_set, names) + "\n"
    if odp_port:
        text += f" continuation.odp_port={odp_port}\n"
    return text


def _format_packet_in(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, PacketIn)
    p = body
    names = fmt_ctx(ctx)
    text = ""
    if p.table_id or (names.table_names and p.table_id in names.table_names):
        text += " table_id=" + format_table(p.table_id, names.table_names)
    if p.cookie != ALL_ONES64:
        text += f" cookie=0x{p.cookie:x}"
    text += f" total_len={p.full_len} " + format_match(p.metadata, None, ctx.port_names)
    text += f" (via {REASONS.get(p.reason, str(p.reason))}) data_len={len(p.packet)}"
    if p.buffer_id == NO_BUFFER:
        text += " (unbuffered)"
        if p.full_len != len(p.packet):
            text += " (***total_len != data_len***)"
    else:
        text += f" buffer=0x{p.buffer_id:08x}"
        if p.full_len < len(p.packet):
            text += " (***total_len < data_len***)"
    text += "\n"
    if p.userdata:
        text += " userdata=" + ".".join(f"{x:02x}" for x in p.userdata) + "\n"
    if p.continuation:
        text += _format_continuation(p.continuation, ctx.version, ctx)
    packet_type = p.metadata.get("packet_type")[0]
    if ctx.verbosity > 0:
        text += packet_to_string(p.packet, packet_type)
    if ctx.verbosity > 2:
        text += hex_dump(p.packet, ascii=False)
    return text


# --- packet-out ------------------------------------------------------------------

OFP10_PACKET_OUT: Final = struct.Struct("!IHH")
"""buffer_id, in_port, actions_len."""
OFP11_PACKET_OUT: Final = struct.Struct("!IIH6x")
"""buffer_id, in_port, actions_len."""
OFP15_PACKET_OUT: Final = struct.Struct("!IH2x")
"""buffer_id, actions_len (then an OXM match of metadata)."""


@dataclass(frozen=True, slots=True)
class PacketOut(Body):
    """OFPT_PACKET_OUT (OVS ``struct ofputil_packet_out``)."""

    actions: ActionList = ()
    packet: bytes = b""
    """The packet, when not buffered."""
    buffer_id: int = NO_BUFFER
    metadata: Match = CATCHALL
    """in_port (and, in OpenFlow 1.5, other pipeline fields)."""

    @classmethod
    def from_port(cls, in_port: int, actions: ActionList, packet: bytes = b"",
                  buffer_id: int = NO_BUFFER) -> PacketOut:
        b = MatchBuilder()
        b.put("packet_type", PT_ETH, 0xFFFFFFFF)
        b.put("in_port", in_port, 0xFFFF)
        return cls(actions, packet, buffer_id, b.freeze())


def _decode_packet_out(version: int, raw: Raw, b: memoryview) -> Body:
    if raw.name == "OFPT15_PACKET_OUT":
        buffer_id, actions_len = OFP15_PACKET_OUT.unpack_from(b)
        metadata, used = decode_oxm_match(b, OFP15_PACKET_OUT.size, strict=False,
                                          pipeline_only=True)
        if not metadata.get("in_port")[1]:
            raise OFError(OFPErr.OFPBRC_BAD_PORT, "packet-out without in_port")
        pos = OFP15_PACKET_OUT.size + used
    else:
        if raw.name == "OFPT11_PACKET_OUT":
            buffer_id, port, actions_len = OFP11_PACKET_OUT.unpack_from(b)
            in_port, pos = from_ofp11(port), OFP11_PACKET_OUT.size
        else:
            buffer_id, in_port, actions_len = OFP10_PACKET_OUT.unpack_from(b)
            pos = OFP10_PACKET_OUT.size
        metadata = PacketOut.from_port(in_port, ()).metadata
    if actions_len > len(b) - pos:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "packet-out actions overrun")
    actions = pull_actions(b[pos:pos + actions_len], version)
    in_port = metadata.get("in_port")[0]
    if in_port >= OFPP_MAX and in_port not in (OFPP_LOCAL, OFPP_NONE, OFPP_CONTROLLER):
        raise OFError(OFPErr.OFPBRC_BAD_PORT, f"packet-out in_port {in_port:#x}")
    packet = bytes(b[pos + actions_len:]) if buffer_id == NO_BUFFER else b""
    return PacketOut(actions, packet, buffer_id, metadata)


def _encode_packet_out(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, PacketOut)
    po = body
    actions = encode_actions(po.actions, version)
    packet = po.packet if po.buffer_id == NO_BUFFER else b""
    in_port = po.metadata.get("in_port")[0]
    if raw.name == "OFPT15_PACKET_OUT":
        head = OFP15_PACKET_OUT.pack(po.buffer_id, len(actions))
        return head + encode_oxm_match(po.metadata, version) + actions + packet
    if raw.name == "OFPT11_PACKET_OUT":
        head = OFP11_PACKET_OUT.pack(po.buffer_id, to_ofp11(in_port), len(actions))
        return head + actions + packet
    return OFP10_PACKET_OUT.pack(po.buffer_id, in_port, len(actions)) + actions + packet


def _format_packet_out(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, PacketOut)
    po = body
    text = " " + format_match(po.metadata, None, ctx.port_names)
    text += " actions=" + format_actions(po.actions, fmt_ctx(ctx))
    if po.buffer_id != NO_BUFFER:
        return text + f" buffer=0x{po.buffer_id:08x}"
    text += f" data_len={len(po.packet)}"
    if ctx.verbosity > 0 and po.packet:
        text += "\n" + packet_to_string(po.packet, po.metadata.get("packet_type")[0])
    if ctx.verbosity > 2:
        text += hex_dump(po.packet, ascii=False)
    return text


# --- tables ------------------------------------------------------------------------

_PACKET_IN: Final = MsgCodec(_decode_packet_in, _encode_packet_in, _format_packet_in)
_PACKET_OUT: Final = MsgCodec(_decode_packet_out, _encode_packet_out, _format_packet_out)

CODECS: Final[dict[str, MsgCodec]] = {
    "OFPT10_PACKET_IN": _PACKET_IN,
    "OFPT11_PACKET_IN": _PACKET_IN,
    "OFPT12_PACKET_IN": _PACKET_IN,
    "OFPT13_PACKET_IN": _PACKET_IN,
    "NXT_PACKET_IN": _PACKET_IN,
    "NXT_PACKET_IN2": _PACKET_IN,
    "NXT_RESUME": _PACKET_IN,
    "OFPT10_PACKET_OUT": _PACKET_OUT,
    "OFPT11_PACKET_OUT": _PACKET_OUT,
    "OFPT15_PACKET_OUT": _PACKET_OUT,
}


def _packet_in_raw(version: int) -> str:
    return {1: "OFPT10_PACKET_IN", 2: "OFPT11_PACKET_IN",
            3: "OFPT12_PACKET_IN"}.get(version, "OFPT13_PACKET_IN")


DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {
    PacketIn: _packet_in_raw,
    PacketOut: lambda v: ("OFPT10_PACKET_OUT" if v == 1 else
                          "OFPT15_PACKET_OUT" if v >= 6 else "OFPT11_PACKET_OUT"),
}
