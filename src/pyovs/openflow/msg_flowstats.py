"""Flow statistics: flow and aggregate stats requests and replies.

``FlowStatsRequest`` (and ``AggregateStatsRequest``, the same selection
summed) mirror OVS's ``ofputil_flow_stats_request``; ``FlowStatsReply``
carries ``FlowStats`` entries (``ofputil_flow_stats``), and
``AggregateStatsReply`` the three totals.  Wire layouts are the struct
formats below: OpenFlow 1.0 with the fixed match, 1.1-1.4 ``ofp11_flow_stats``
(flags only in the 1.3+ raw type, importance from 1.4), 1.5
``ofp15_flow_desc`` with OXS statistics, and Nicira ``nx_flow_stats`` with
idle/hard ages stored plus one.  Unknown counters are all-ones
(``UNKNOWN64``), printed as ``?`` and sent as 0 where a version cannot say
"unknown".  ``format_flow_stats`` is the ``dump-flows`` line.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Final

from .act_text import format_actions
from .act_wire import format_table
from .actions import ActionList, FmtCtx, decode_instructions, encode_instructions
from .codec import Body, FormatContext, MsgCodec, list_codec
from .dstext import duration
from .errors import OFError, OFPErr
from .match import CATCHALL, Match, pad8
from .match_text import OFP_DEFAULT_PRIORITY, format_match
from .msg_flow import (
    OFPG_ANY,
    OFPTT_ALL,
    FlowFlags,
    by_version,
    decode_flags,
    encode_flags,
    fmt_ctx,
    format_flags,
    pull_nx_match,
    put_nx_match,
    unknown_to_zero,
)
from .msgtable import Raw
from .ofp10_match import OFP10_MATCH, decode_ofp10_match, encode_ofp10_match
from .ofp11_match import pull_ofp11_match, put_ofp11_match
from .oxs import UNKNOWN64, OxsStats, duration_of, or_unknown, pull_oxs, put_oxs
from .ports import OFPP_ANY, format_port, from_ofp11, to_ofp11

OFP10_FLOW_STATS_REQUEST: Final = struct.Struct("!BxH")
"""(after the match) table_id, out_port."""
OFP11_FLOW_STATS_REQUEST: Final = struct.Struct("!B3xII4xQQ")
"""table_id, out_port, out_group, cookie, cookie_mask."""
NX_FLOW_STATS_REQUEST: Final = struct.Struct("!HHB3x")
"""out_port, match_len, table_id."""
OFP10_FLOW_STATS: Final = struct.Struct("!HBx40sIIHHH6xQQQ")
"""length, table_id, match, duration_sec/nsec, priority, idle, hard, cookie,
packets, bytes."""
OFP11_FLOW_STATS: Final = struct.Struct("!HBxIIHHHHH2xQQQ")
"""length, table_id, duration_sec/nsec, priority, idle, hard, flags,
importance, cookie, packets, bytes."""
OFP15_FLOW_DESC: Final = struct.Struct("!H2xBxHHHHHQ")
"""length, table_id, priority, idle, hard, flags, importance, cookie."""
NX_FLOW_STATS: Final = struct.Struct("!HBxIIHHHHHHQQQ")
"""length, table_id, duration_sec/nsec, priority, idle, hard, match_len,
idle_age, hard_age, cookie, packets, bytes."""
AGGREGATE_REPLY: Final = struct.Struct("!QQI4x")
"""packet_count, byte_count, flow_count."""


# --- flow / aggregate statistics requests ----------------------------------------

@dataclass(frozen=True, slots=True)
class FlowStatsRequest(Body):
    """OFPST_FLOW / NXST_FLOW request (OVS ``struct ofputil_flow_stats_request``)."""

    match: Match = CATCHALL
    table_id: int = OFPTT_ALL
    out_port: int = OFPP_ANY
    out_group: int = OFPG_ANY
    cookie: int = 0
    cookie_mask: int = 0


@dataclass(frozen=True, slots=True)
class AggregateStatsRequest(FlowStatsRequest):
    """OFPST_AGGREGATE / NXST_AGGREGATE request: the same selection, summed."""


def _decode_flow_stats_request(version: int, raw: Raw, b: memoryview) -> Body:
    cls = AggregateStatsRequest if "AGGREGATE" in raw.name else FlowStatsRequest
    if raw.name.startswith("OFPST10"):
        match = decode_ofp10_match(b)
        table_id, out_port = OFP10_FLOW_STATS_REQUEST.unpack_from(b, OFP10_MATCH.size)
        return cls(match, table_id, out_port)
    if raw.name.startswith("NXST"):
        out_port, match_len, table_id = NX_FLOW_STATS_REQUEST.unpack_from(b)
        match, cookie, cookie_mask, used = pull_nx_match(
            b, NX_FLOW_STATS_REQUEST.size, match_len, allow_cookie=True)
        if NX_FLOW_STATS_REQUEST.size + used != len(b):
            raise OFError(OFPErr.OFPBRC_BAD_LEN, "bytes after the flow stats request match")
        return cls(match, table_id, out_port, OFPG_ANY, cookie, cookie_mask)
    table_id, out_port, out_group, cookie, cookie_mask = OFP11_FLOW_STATS_REQUEST.unpack_from(b)
    port = from_ofp11(out_port)
    match, _ = pull_ofp11_match(b, OFP11_FLOW_STATS_REQUEST.size)
    return cls(match, table_id, port, out_group, cookie, cookie_mask)


def _encode_flow_stats_request(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, FlowStatsRequest)
    r = body
    if raw.name.startswith("OFPST10"):
        return encode_ofp10_match(r.match) + OFP10_FLOW_STATS_REQUEST.pack(r.table_id,
                                                                           r.out_port)
    if raw.name.startswith("NXST"):
        nxm, match_len = put_nx_match(r.match, r.cookie, r.cookie_mask)
        return NX_FLOW_STATS_REQUEST.pack(r.out_port, match_len, r.table_id) + nxm
    return OFP11_FLOW_STATS_REQUEST.pack(
        r.table_id, to_ofp11(r.out_port), r.out_group, r.cookie,
        r.cookie_mask) + put_ofp11_match(r.match, version)


def _format_flow_stats_request(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, FlowStatsRequest)
    text = ""
    if body.table_id != 0xFF:
        names = dict(ctx.table_names) if ctx.table_names else None
        text += " table=" + format_table(body.table_id, names)
    if body.out_port != OFPP_ANY:
        text += " out_port=" + format_port(body.out_port, ctx.port_names)
    return text + " " + format_match(body.match, OFP_DEFAULT_PRIORITY, ctx.port_names)


# --- flow statistics replies -----------------------------------------------------

@dataclass(frozen=True, slots=True)
class FlowStats:
    """One flow in a flow stats reply (OVS ``struct ofputil_flow_stats``)."""

    match: Match = CATCHALL
    priority: int = OFP_DEFAULT_PRIORITY
    actions: ActionList = ()
    table_id: int = 0
    cookie: int = 0
    duration_sec: int = 0
    duration_nsec: int = 0
    idle_timeout: int = 0
    hard_timeout: int = 0
    importance: int = 0
    flags: FlowFlags = FlowFlags(0)  # noqa: RUF009 (an immutable enum value)
    idle_age: int = -1
    """Seconds since the flow last matched a packet; -1 if unknown."""
    hard_age: int = -1
    """Seconds since the flow was last modified; -1 if unknown."""
    packet_count: int = 0
    """``UNKNOWN64`` if unknown."""
    byte_count: int = 0


@dataclass(frozen=True, slots=True)
class FlowStatsReply(Body):
    """OFPST_FLOW / NXST_FLOW reply: some of the flows (more may follow)."""

    flows: tuple[FlowStats, ...] = field(default_factory=tuple)


def _decode_one_flow_stats(version: int, raw: Raw, b: memoryview, pos: int
                           ) -> tuple[FlowStats, int]:
    name = raw.name
    if name == "OFPST15_FLOW_REPLY":
        # OVS reports the 1.5 layout's own problems as EINVAL, not an OFPERR.
        def invalid(why: str) -> OFError:
            return OFError(OFPErr.OFPBRC_BAD_LEN, why, printed_as="<invalid>")
        if len(b) - pos < OFP15_FLOW_DESC.size:
            raise invalid("leftover bytes in flow stats reply")
        (length, table_id, priority, idle, hard, raw_flags, importance,
         cookie) = OFP15_FLOW_DESC.unpack_from(b, pos)
        if length < OFP15_FLOW_DESC.size:
            raise invalid(f"flow stats length {length}")
        try:
            match, used = pull_ofp11_match(b, pos + OFP15_FLOW_DESC.size)
        except OFError:
            raise invalid("bad match in flow stats") from None
        flags = decode_flags(raw_flags, -1, version)
        try:
            stats, stat_len = pull_oxs(b, pos + OFP15_FLOW_DESC.size + used)
        except OFError:
            raise invalid("bad OXS statistics in flow stats") from None
        head = OFP15_FLOW_DESC.size + used + stat_len
        sec, nsec = duration_of(stats)
        idle_age = stats.idle_age
        if idle_age is None or idle_age >= 1 << 31:  # absent, or negative as OVS's int
            idle_age = -1
        fs = FlowStats(match, priority, (), table_id, cookie, sec, nsec, idle, hard,
                       importance, flags, idle_age, -1,
                       or_unknown(stats.packet_count), or_unknown(stats.byte_count))
    elif name in ("OFPST11_FLOW_REPLY", "OFPST13_FLOW_REPLY"):
        if len(b) - pos < OFP11_FLOW_STATS.size:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, "leftover bytes in flow stats reply")
        (length, table_id, sec, nsec, priority, idle, hard, raw_flags, importance, cookie,
         packets, bytes_) = OFP11_FLOW_STATS.unpack_from(b, pos)
        if length < OFP11_FLOW_STATS.size:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, f"flow stats length {length}")
        match, used = pull_ofp11_match(b, pos + OFP11_FLOW_STATS.size)
        head = OFP11_FLOW_STATS.size + used
        flags = (decode_flags(raw_flags, -1, version) if name == "OFPST13_FLOW_REPLY"
                 else FlowFlags(0))
        fs = FlowStats(match, priority, (), table_id, cookie, sec, nsec, idle, hard,
                       importance if version >= 5 else 0, flags, -1, -1, packets, bytes_)
    elif name == "OFPST10_FLOW_REPLY":
        if len(b) - pos < OFP10_FLOW_STATS.size:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, "leftover bytes in flow stats reply")
        (length, table_id, _, sec, nsec, priority, idle, hard, cookie, packets,
         bytes_) = OFP10_FLOW_STATS.unpack_from(b, pos)
        if length < OFP10_FLOW_STATS.size:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, f"flow stats length {length}")
        match = decode_ofp10_match(b, pos + 4)
        head = OFP10_FLOW_STATS.size
        fs = FlowStats(match, priority, (), table_id, cookie, sec, nsec, idle, hard,
                       0, FlowFlags(0), -1, -1, packets, bytes_)
    else:
        if len(b) - pos < NX_FLOW_STATS.size:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, "leftover bytes in flow stats reply")
        (length, table_id, sec, nsec, priority, idle, hard, match_len, idle_age, hard_age,
         cookie, packets, bytes_) = NX_FLOW_STATS.unpack_from(b, pos)
        if length < NX_FLOW_STATS.size + match_len + pad8(match_len):
            raise OFError(OFPErr.OFPBRC_BAD_LEN, f"flow stats length {length}")
        match, _, _, used = pull_nx_match(b, pos + NX_FLOW_STATS.size, match_len)
        head = NX_FLOW_STATS.size + used
        fs = FlowStats(match, priority, (), table_id, cookie, sec, nsec, idle, hard, 0,
                       FlowFlags(0), idle_age - 1 if idle_age else -1,
                       hard_age - 1 if hard_age else -1, packets, bytes_)
    if length < head or pos + length > len(b):
        raise OFError(OFPErr.OFPBRC_BAD_LEN if version == 1 else OFPErr.OFPBIC_BAD_LEN,
                      f"flow stats length {length} leaves no room for the instructions")
    actions = decode_instructions(b[pos + head:pos + length], version)
    return replace(fs, actions=actions), pos + length


def encode_flow_stats(fs: FlowStats, version: int, raw: str) -> bytes:
    """One flow's entry in a ``raw`` flow stats reply (OVS ``ofputil_append_flow_stats_reply``)."""
    if raw == "OFPST15_FLOW_REPLY":
        rest = (put_ofp11_match(fs.match, version)
                + put_oxs(OxsStats(fs.duration_sec, fs.duration_nsec,
                                   fs.idle_age if fs.idle_age >= 0 else None,
                                   fs.packet_count, fs.byte_count))
                + encode_instructions(fs.actions, version))
        return OFP15_FLOW_DESC.pack(
            OFP15_FLOW_DESC.size + len(rest), fs.table_id, fs.priority, fs.idle_timeout,
            fs.hard_timeout, encode_flags(fs.flags, version), fs.importance, fs.cookie) + rest
    if raw in ("OFPST11_FLOW_REPLY", "OFPST13_FLOW_REPLY"):
        rest = put_ofp11_match(fs.match, version) + encode_instructions(fs.actions, version)
        return OFP11_FLOW_STATS.pack(
            OFP11_FLOW_STATS.size + len(rest), fs.table_id, fs.duration_sec, fs.duration_nsec,
            fs.priority, fs.idle_timeout, fs.hard_timeout,
            encode_flags(fs.flags, version) if raw == "OFPST13_FLOW_REPLY" else 0,
            fs.importance if version >= 5 else 0, fs.cookie, unknown_to_zero(fs.packet_count),
            unknown_to_zero(fs.byte_count)) + rest
    actions = encode_instructions(fs.actions, version)
    if raw == "OFPST10_FLOW_REPLY":
        return OFP10_FLOW_STATS.pack(
            OFP10_FLOW_STATS.size + len(actions), fs.table_id, encode_ofp10_match(fs.match),
            fs.duration_sec, fs.duration_nsec, fs.priority, fs.idle_timeout, fs.hard_timeout,
            fs.cookie, unknown_to_zero(fs.packet_count), unknown_to_zero(fs.byte_count)) + actions
    nxm, match_len = put_nx_match(fs.match)

    def age(a: int) -> int:
        return 0 if a < 0 else min(a + 1, 0xFFFF)

    return NX_FLOW_STATS.pack(
        NX_FLOW_STATS.size + len(nxm) + len(actions), fs.table_id, fs.duration_sec,
        fs.duration_nsec, fs.priority, fs.idle_timeout, fs.hard_timeout, match_len,
        age(fs.idle_age), age(fs.hard_age), fs.cookie, fs.packet_count,
        fs.byte_count) + nxm + actions


def _encode_flow_stats_reply(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, FlowStatsReply)
    return b"".join(encode_flow_stats(fs, version, raw.name) for fs in body.flows)


def _stat(name: str, value: int) -> str:
    return f"{name}={'?' if value == UNKNOWN64 else value}, "


def format_flow_stats(fs: FlowStats, port_names: dict[int, str] | None = None,
                      table_names: dict[int, str] | None = None,
                      show_stats: bool = True) -> str:
    """One flow as ``ovs-ofctl dump-flows`` prints it (OVS ``ofputil_flow_stats_format``)."""
    text = ""
    if show_stats or fs.cookie:
        text += f"cookie=0x{fs.cookie:x}, "
    if show_stats:
        text += "duration=" + duration(fs.duration_sec, fs.duration_nsec) + ", "
    if show_stats or fs.table_id or (table_names and fs.table_id in table_names):
        text += "table=" + format_table(fs.table_id, table_names) + ", "
    if show_stats:
        text += _stat("n_packets", fs.packet_count) + _stat("n_bytes", fs.byte_count)
    if fs.idle_timeout:
        text += f"idle_timeout={fs.idle_timeout}, "
    if fs.hard_timeout:
        text += f"hard_timeout={fs.hard_timeout}, "
    text += format_flags(fs.flags)
    if fs.importance:
        text += f"importance={fs.importance}, "
    if show_stats and fs.idle_age >= 0:
        text += f"idle_age={fs.idle_age}, "
    if show_stats and fs.hard_age >= 0 and fs.hard_age != fs.duration_sec:
        text += f"hard_age={fs.hard_age}, "
    match = format_match(fs.match, fs.priority, port_names)
    if match:
        text += match + " "
    return text + "actions=" + format_actions(fs.actions, FmtCtx(port_names, table_names))


def _format_flow_stats_reply(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, FlowStatsReply)
    f = fmt_ctx(ctx)
    return "".join("\n " + format_flow_stats(fs, f.port_names, f.table_names)
                   for fs in body.flows)


# --- aggregate replies -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class AggregateStatsReply(Body):
    """OFPST_AGGREGATE / NXST_AGGREGATE reply (OVS ``struct ofputil_aggregate_stats``)."""

    packet_count: int = 0
    byte_count: int = 0
    flow_count: int = 0


def _decode_aggregate_reply(version: int, raw: Raw, b: memoryview) -> Body:
    if raw.name == "OFPST15_AGGREGATE_REPLY":
        stats, _ = pull_oxs(b, 0)
        return AggregateStatsReply(
            or_unknown(stats.packet_count), or_unknown(stats.byte_count),
            0xFFFFFFFF if stats.flow_count is None else stats.flow_count)
    packets, bytes_, flows = AGGREGATE_REPLY.unpack_from(b)
    return AggregateStatsReply(packets, bytes_, flows)


def _encode_aggregate_reply(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, AggregateStatsReply)
    if raw.name == "OFPST15_AGGREGATE_REPLY":
        return put_oxs(OxsStats(None, 0, None, body.packet_count, body.byte_count,
                                body.flow_count))
    return AGGREGATE_REPLY.pack(body.packet_count, body.byte_count, body.flow_count)


def _format_aggregate_reply(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, AggregateStatsReply)
    return (f" packet_count={body.packet_count} byte_count={body.byte_count}"
            f" flow_count={body.flow_count}")


# --- tables ------------------------------------------------------------------------

_FLOW_REQUEST: Final = MsgCodec(_decode_flow_stats_request, _encode_flow_stats_request,
                                _format_flow_stats_request)
_FLOW_REPLY: Final = list_codec(_decode_one_flow_stats, FlowStatsReply,
                                _encode_flow_stats_reply, _format_flow_stats_reply)
_AGGREGATE_REPLY: Final = MsgCodec(_decode_aggregate_reply, _encode_aggregate_reply,
                                   _format_aggregate_reply)

CODECS: Final[dict[str, MsgCodec]] = {
    "OFPST10_FLOW_REQUEST": _FLOW_REQUEST,
    "OFPST11_FLOW_REQUEST": _FLOW_REQUEST,
    "NXST_FLOW_REQUEST": _FLOW_REQUEST,
    "OFPST10_AGGREGATE_REQUEST": _FLOW_REQUEST,
    "OFPST11_AGGREGATE_REQUEST": _FLOW_REQUEST,
    "OFPST15_AGGREGATE_REQUEST": _FLOW_REQUEST,
    "NXST_AGGREGATE_REQUEST": _FLOW_REQUEST,
    "OFPST10_FLOW_REPLY": _FLOW_REPLY,
    "OFPST11_FLOW_REPLY": _FLOW_REPLY,
    "OFPST13_FLOW_REPLY": _FLOW_REPLY,
    "OFPST15_FLOW_REPLY": _FLOW_REPLY,
    "NXST_FLOW_REPLY": _FLOW_REPLY,
    "OFPST_AGGREGATE_REPLY": _AGGREGATE_REPLY,
    "OFPST15_AGGREGATE_REPLY": _AGGREGATE_REPLY,
    "NXST_AGGREGATE_REPLY": _AGGREGATE_REPLY,
}

DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {
    FlowStatsRequest: by_version("OFPST10_FLOW_REQUEST", "OFPST11_FLOW_REQUEST"),
    AggregateStatsRequest: by_version("OFPST10_AGGREGATE_REQUEST",
                                      "OFPST11_AGGREGATE_REQUEST",
                                      v15="OFPST15_AGGREGATE_REQUEST"),
    FlowStatsReply: by_version("OFPST10_FLOW_REPLY", "OFPST11_FLOW_REPLY",
                               "OFPST13_FLOW_REPLY", "OFPST15_FLOW_REPLY"),
    AggregateStatsReply: by_version("OFPST_AGGREGATE_REPLY", "OFPST_AGGREGATE_REPLY",
                                    v15="OFPST15_AGGREGATE_REPLY"),
}
