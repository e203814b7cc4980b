"""Flow table messages: flow_mod and flow_removed (plus what flow stats share).

Each body is one version-independent value, as OVS's ``ofputil_flow_mod``
and ``ofputil_flow_removed`` (flow statistics are in ``msg_flowstats``,
which shares the flow flags and NXM helpers here); the wire layouts
(OpenFlow 1.0 ``ofp10_*`` with the fixed match, 1.1+ ``ofp11_*``/``ofp12_*``
with an ``ofp11_match_header`` match and instructions, 1.5 ``ofp15_*`` with
OXS statistics, Nicira ``nx_*`` with an NXM match) are struct formats below,
declared once.  Decoding applies OVS's rules and errors (``OFPFMFC_BAD_TABLE_ID``
for table 0xff in an add, ``NXBRC_NXM_INVALID`` for a cookie mask in an NXM
add, ``OFPFMFC_BAD_FLAGS``...), and encoding is OVS's, so that messages OVS
produces re-encode byte for byte.

Two OpenFlow 1.0 rules are interpretation, not encoding, and are kept out of
the decoded value so that it still re-encodes exactly: a switch normalizes a
1.0 flow_mod's match (drops fields whose prerequisites are missing) and gives
exact-match flows the top priority.  ``FlowMod.as_received`` applies them, as
OVS ``ofputil_decode_flow_mod`` does.  Likewise OpenFlow 1.0 and Nicira flow
mods carry the table in the command's high byte (the ``flow_mod_table_id``
extension): decoding always reads it, and encoding writes it unless the
table is 0xff ("unspecified").
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from .act_check import check_actions
from .act_text import format_actions
from .act_wire import format_table
from .actions import ActionList, FmtCtx, decode_instructions, encode_instructions
from .codec import Body, FormatContext, MsgCodec
from .dstext import duration
from .errors import OFError, OFPErr
from .match import CATCHALL, Match, decode_nx_match, encode_nx_match, pad8
from .match_text import OFP_DEFAULT_PRIORITY, format_match
from .msgtable import Raw
from .ofp10_match import OFP10_MATCH, decode_ofp10_match, encode_ofp10_match, normalize_match
from .ofp11_match import pull_ofp11_match, put_ofp11_match
from .oxs import UNKNOWN64, OxsStats, duration_of, or_unknown, pull_oxs, put_oxs
from .ports import OFPP_ANY, format_port, from_ofp11, to_ofp11

OFPG_ANY: Final = 0xFFFFFFFF
OFPTT_ALL: Final = 0xFF
NO_BUFFER: Final = 0xFFFFFFFF
ALL_ONES64: Final = (1 << 64) - 1


class Command(enum.IntEnum):
    """``ofp_flow_mod_command``."""

    ADD = 0
    MODIFY = 1
    MODIFY_STRICT = 2
    DELETE = 3
    DELETE_STRICT = 4


_COMMAND_NAMES: Final[dict[int, str]] = {Command.ADD: "ADD", Command.MODIFY: "MOD",
                         Command.MODIFY_STRICT: "MOD_STRICT", Command.DELETE: "DEL",
                         Command.DELETE_STRICT: "DEL_STRICT"}


class FlowFlags(enum.IntFlag):
    """OVS's version-independent flow flags (``enum ofputil_flow_mod_flags``)."""

    SEND_FLOW_REM = 1 << 0
    NO_PKT_COUNTS = 1 << 1
    NO_BYT_COUNTS = 1 << 2
    CHECK_OVERLAP = 1 << 3
    RESET_COUNTS = 1 << 4
    EMERG = 1 << 5


# (wire bit, first version, last version or 0, flag), as OVS's table.
FLAG_BITS: Final = (
    (1 << 0, 1, 0, FlowFlags.SEND_FLOW_REM),
    (1 << 1, 1, 0, FlowFlags.CHECK_OVERLAP),
    (1 << 2, 1, 1, FlowFlags.EMERG),
    (1 << 2, 3, 0, FlowFlags.RESET_COUNTS),
    (1 << 3, 4, 0, FlowFlags.NO_PKT_COUNTS),
    (1 << 4, 4, 0, FlowFlags.NO_BYT_COUNTS),
)
# Text in OVS's order (ofputil_flow_mod_flags_format).
FLAG_TEXT: Final = (
    (FlowFlags.SEND_FLOW_REM, "send_flow_rem"), (FlowFlags.CHECK_OVERLAP, "check_overlap"),
    (FlowFlags.RESET_COUNTS, "reset_counts"), (FlowFlags.NO_PKT_COUNTS, "no_packet_counts"),
    (FlowFlags.NO_BYT_COUNTS, "no_byte_counts"),
)


def _flag_applies(version: int, first: int, last: int) -> bool:
    return version >= first and (not last or version <= last)


# FLAG_BITS per version with plain ints: flags are converted for every flow
# mod and flow stats entry, and IntFlag operators cost a Python call each.
_BITS_BY_VERSION: Final = {
    version: tuple((bit, int(flag)) for bit, first, last, flag in FLAG_BITS
                   if _flag_applies(version, first, last))
    for version in range(256)
}


def decode_flags(raw_flags: int, command: int, version: int) -> FlowFlags:
    """OVS ``ofputil_decode_flow_mod_flags`` (``command`` -1 for stats replies)."""
    flags = 0
    for bit, flag in _BITS_BY_VERSION[version & 0xFF]:
        if raw_flags & bit:
            raw_flags &= ~bit
            flags |= flag
    if version in (1, 2) and command == Command.ADD:
        flags |= FlowFlags.RESET_COUNTS.value
    if raw_flags:
        raise OFError(OFPErr.OFPFMFC_BAD_FLAGS, f"unknown flow flags {raw_flags:#x}")
    return FlowFlags(flags)


def encode_flags(flags: int, version: int) -> int:
    flags = int(flags)
    out = 0
    for bit, flag in _BITS_BY_VERSION[version & 0xFF]:
        if flags & flag:
            out |= bit
    return out


def format_flags(flags: int) -> str:
    """Each set flag's name followed by a space."""
    return "".join(f"{name} " for flag, name in FLAG_TEXT if flags & flag)


# --- wire layouts ------------------------------------------------------------

OFP10_FLOW_MOD: Final = struct.Struct("!QHHHHIHH")
"""(after the 40-byte match) cookie, command, idle, hard, priority, buffer_id,
out_port, flags."""
OFP11_FLOW_MOD: Final = struct.Struct("!QQBBHHHIIIHH")
"""cookie, cookie_mask, table_id, command, idle, hard, priority, buffer_id,
out_port, out_group, flags, importance."""
NX_FLOW_MOD: Final = struct.Struct("!QHHHHIHHH6x")
"""cookie, command, idle, hard, priority, buffer_id, out_port, flags, match_len."""
OFP10_FLOW_REMOVED: Final = struct.Struct("!QHBxIIH2xQQ")
"""(after the match) cookie, priority, reason, duration_sec/nsec, idle, packet/byte count."""
OFP12_FLOW_REMOVED: Final = struct.Struct("!QHBBIIHHQQ")
"""cookie, priority, reason, table_id, duration_sec/nsec, idle, hard, packets, bytes."""
OFP15_FLOW_REMOVED: Final = struct.Struct("!BBHHHQ")
"""table_id, reason, priority, idle, hard, cookie."""
NX_FLOW_REMOVED: Final = struct.Struct("!QHBBIIHHQQ")
"""cookie, priority, reason, table_id + 1, duration_sec/nsec, idle, match_len,
packets, bytes."""


# --- flow_mod ----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FlowMod(Body):
    """OFPT_FLOW_MOD / NXT_FLOW_MOD (OVS ``struct ofputil_flow_mod``)."""

    command: int = Command.ADD
    match: Match = CATCHALL
    priority: int = OFP_DEFAULT_PRIORITY
    actions: ActionList = ()
    cookie: int = 0
    """Cookie to match (modify/delete), under ``cookie_mask``."""
    cookie_mask: int = 0
    new_cookie: int = 0
    """Cookie for new/modified flows; all-ones means "leave unchanged"."""
    table_id: int = 0
    idle_timeout: int = 0
    hard_timeout: int = 0
    importance: int = 0
    buffer_id: int = NO_BUFFER
    out_port: int = OFPP_ANY
    out_group: int = OFPG_ANY
    flags: FlowFlags = FlowFlags(0)  # noqa: RUF009 (an immutable enum value)

    def as_received(self, raw: str) -> FlowMod:
        """The flow mod as a switch takes it: OpenFlow 1.0's match rules applied."""
        if raw != "OFPT10_FLOW_MOD":
            return self
        exact = not (struct.unpack_from("!I", encode_ofp10_match(self.match))[0]
                     & ((1 << 22) - 1))
        return replace(self, match=normalize_match(self.match),
                       priority=0xFFFF if exact else self.priority)


def _check_flow_mod(fm: FlowMod, version: int) -> FlowMod:
    """Checks OVS makes after reading any flow_mod."""
    b = fm.match.builder()
    dl_type = b.value("dl_type")
    if (((b.mask("ct_nw_src") or b.mask("ct_nw_dst")) and dl_type != 0x0800)
            or ((b.mask("ct_ipv6_src") or b.mask("ct_ipv6_dst")) and dl_type != 0x86DD)):
        raise OFError(OFPErr.OFPBAC_MATCH_INCONSISTENT, "ct tuple does not match dl_type")
    if fm.command > Command.DELETE_STRICT:
        raise OFError(OFPErr.OFPFMFC_BAD_COMMAND, f"flow_mod command {fm.command}")
    return fm


def _finish_flow_mod(fm: FlowMod, version: int, raw: str, raw_flags: int,
                     actions: memoryview) -> FlowMod:
    fm = _check_flow_mod(fm, version)
    acts = decode_instructions(actions, version)
    flags = decode_flags(raw_flags, fm.command, version)
    if flags & FlowFlags.EMERG:
        raise OFError(OFPErr.OFPFMFC_BAD_EMERG_TIMEOUT if fm.idle_timeout or fm.hard_timeout
                      else OFPErr.OFPFMFC_TABLE_FULL, "emergency flow")
    # OVS checks the actions against the match (as the switch will see it),
    # with the widest limits; a switch re-checks with its own.
    seen = replace(fm, actions=acts).as_received(raw)
    acts = check_actions(acts, seen.match, version=version, table_id=fm.table_id)
    return replace(fm, actions=acts, flags=flags)


def _decode_flow_mod(version: int, raw: Raw, b: memoryview) -> Body:
    if raw.name == "OFPT11_FLOW_MOD":
        (cookie, cookie_mask, table_id, command, idle, hard, priority, buffer_id, out_port,
         out_group, raw_flags, importance) = OFP11_FLOW_MOD.unpack_from(b)
        match, used = pull_ofp11_match(b, OFP11_FLOW_MOD.size)
        if command == Command.ADD or (version == 2 and command in (1, 2) and not cookie_mask):
            cookie, cookie_mask, new_cookie = 0, 0, cookie
        else:
            new_cookie = ALL_ONES64
        if table_id == OFPTT_ALL and (version == 2 or command not in (3, 4)):
            raise OFError(OFPErr.OFPFMFC_BAD_TABLE_ID, "flow_mod for table 0xff")
        fm = FlowMod(
            command=command, match=match, priority=priority, cookie=cookie,
            cookie_mask=cookie_mask, new_cookie=new_cookie, table_id=table_id,
            idle_timeout=idle, hard_timeout=hard,
            importance=importance if version >= 5 and command == Command.ADD else 0,
            buffer_id=buffer_id, out_port=from_ofp11(out_port),
            out_group=out_group if command in (3, 4) else OFPG_ANY)
        return _finish_flow_mod(fm, version, raw.name, raw_flags,
                                b[OFP11_FLOW_MOD.size + used:])
    if raw.name == "OFPT10_FLOW_MOD":
        match = decode_ofp10_match(b)
        (new_cookie, command, idle, hard, priority, buffer_id, out_port,
         raw_flags) = OFP10_FLOW_MOD.unpack_from(b, OFP10_MATCH.size)
        cookie = cookie_mask = 0
        rest = b[OFP10_MATCH.size + OFP10_FLOW_MOD.size:]
    else:
        (new_cookie, command, idle, hard, priority, buffer_id, out_port, raw_flags,
         match_len) = NX_FLOW_MOD.unpack_from(b)
        match, cookie, cookie_mask, used = pull_nx_match(b, NX_FLOW_MOD.size, match_len,
                                                          allow_cookie=True)
        if command & 0xFF == Command.ADD and cookie_mask:
            raise OFError(OFPErr.NXBRC_NXM_INVALID, "cookie mask in an add")
        rest = b[NX_FLOW_MOD.size + used:]
    fm = FlowMod(
        command=command & 0xFF, table_id=command >> 8, match=match, priority=priority,
        cookie=cookie, cookie_mask=cookie_mask, new_cookie=new_cookie, idle_timeout=idle,
        hard_timeout=hard, buffer_id=buffer_id, out_port=out_port)
    return _finish_flow_mod(fm, version, raw.name, raw_flags, rest)


def pull_nx_match(b: memoryview, offset: int, match_len: int,
                   allow_cookie: bool = False) -> tuple[Match, int, int, int]:
    """OVS ``nx_pull_match``: (match, cookie, cookie_mask, bytes used with padding)."""
    padded = match_len + pad8(match_len)
    if offset + padded > len(b):
        raise OFError(OFPErr.OFPBMC_BAD_LEN, f"nx_match length {match_len} overruns")
    match, cookie, cookie_mask = decode_nx_match(b[offset:offset + match_len],
                                                 allow_cookie=allow_cookie)
    return match, cookie, cookie_mask, padded


def put_nx_match(match: Match, cookie: int = 0, cookie_mask: int = 0) -> tuple[bytes, int]:
    """(padded nx_match, unpadded length)."""
    body = encode_nx_match(match, 0, cookie, cookie_mask)
    return body + bytes(pad8(len(body))), len(body)


def _tid_command(fm: FlowMod) -> int:
    return fm.command & 0xFF if fm.table_id == OFPTT_ALL else (fm.command & 0xFF) | fm.table_id << 8


def _encode_flow_mod(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, FlowMod)
    fm = body
    flags = encode_flags(fm.flags, version)
    if raw.name == "OFPT11_FLOW_MOD":
        if fm.command == Command.ADD or (version == 2 and fm.command in (1, 2)
                                         and not fm.cookie_mask):
            cookie = fm.new_cookie
        else:
            cookie = fm.cookie & fm.cookie_mask
        table_id = fm.table_id
        if table_id == OFPTT_ALL and (version == 2 or fm.command not in (3, 4)):
            table_id = 0
        importance = fm.importance if version >= 5 and fm.command == Command.ADD else 0
        head = OFP11_FLOW_MOD.pack(
            cookie, fm.cookie_mask, table_id, fm.command, fm.idle_timeout, fm.hard_timeout,
            fm.priority, fm.buffer_id, to_ofp11(fm.out_port), fm.out_group, flags, importance)
        return (head + put_ofp11_match(fm.match, version)
                + encode_instructions(fm.actions, version))
    actions = encode_instructions(fm.actions, version)
    if raw.name == "OFPT10_FLOW_MOD":
        return (encode_ofp10_match(fm.match) + OFP10_FLOW_MOD.pack(
            fm.new_cookie, _tid_command(fm), fm.idle_timeout, fm.hard_timeout, fm.priority,
            fm.buffer_id, fm.out_port, flags) + actions)
    nxm, match_len = put_nx_match(fm.match, fm.cookie, fm.cookie_mask)
    return NX_FLOW_MOD.pack(
        fm.new_cookie, _tid_command(fm), fm.idle_timeout, fm.hard_timeout, fm.priority,
        fm.buffer_id, fm.out_port, flags, match_len) + nxm + actions


def fmt_ctx(ctx: FormatContext) -> FmtCtx:
    return FmtCtx(dict(ctx.port_names) if ctx.port_names else None,
                  dict(ctx.table_names) if ctx.table_names else None)


def _format_flow_mod(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, FlowMod)
    fm = body.as_received(ctx.raw.name)
    names = dict(ctx.table_names) if ctx.table_names else None
    text = " " + _COMMAND_NAMES.get(fm.command, f"cmd:{fm.command}")
    if fm.table_id != 0 or (names and fm.table_id in names):
        text += " table:" + format_table(fm.table_id, names)
    text += " " + format_match(fm.match, fm.priority, ctx.port_names)
    if not text.endswith(" "):
        text += " "
    if fm.new_cookie not in (0, ALL_ONES64):
        text += f"cookie:0x{fm.new_cookie:x} "
    if fm.cookie_mask:
        text += f"cookie:0x{fm.cookie:x}/0x{fm.cookie_mask:x} "
    if fm.idle_timeout:
        text += f"idle:{fm.idle_timeout} "
    if fm.hard_timeout:
        text += f"hard:{fm.hard_timeout} "
    if fm.importance:
        text += f"importance:{fm.importance} "
    if fm.buffer_id != NO_BUFFER:
        text += f"buf:0x{fm.buffer_id:x} "
    if fm.out_port != OFPP_ANY:
        text += "out_port:" + format_port(fm.out_port, ctx.port_names) + " "
    flags = fm.flags
    if ctx.version in (1, 2):
        flags &= ~FlowFlags.RESET_COUNTS
    text += format_flags(flags)
    return text + "actions=" + format_actions(fm.actions, fmt_ctx(ctx))


# --- flow_removed ------------------------------------------------------------

REMOVED_REASONS: Final = {0: "idle", 1: "hard", 2: "delete", 3: "group_delete",
                          4: "meter_delete", 5: "eviction"}
OFPRR_METER_DELETE: Final = 4


@dataclass(frozen=True, slots=True)
class FlowRemoved(Body):
    """OFPT_FLOW_REMOVED / NXT_FLOW_REMOVED (OVS ``struct ofputil_flow_removed``)."""

    match: Match = CATCHALL
    priority: int = OFP_DEFAULT_PRIORITY
    reason: int = 0
    table_id: int = 0xFF
    """255 when the wire form has no table (OpenFlow 1.0)."""
    cookie: int = 0
    duration_sec: int = 0
    duration_nsec: int = 0
    idle_timeout: int = 0
    hard_timeout: int = 0
    packet_count: int = 0
    byte_count: int = 0


def _decode_flow_removed(version: int, raw: Raw, b: memoryview) -> Body:
    if raw.name == "OFPT15_FLOW_REMOVED":
        table_id, reason, priority, idle, hard, cookie = OFP15_FLOW_REMOVED.unpack_from(b)
        match, used = pull_ofp11_match(b, OFP15_FLOW_REMOVED.size)
        stats, _ = pull_oxs(b, OFP15_FLOW_REMOVED.size + used)
        sec, nsec = duration_of(stats)
        return FlowRemoved(match, priority, reason, table_id, cookie, sec, nsec, idle, hard,
                           or_unknown(stats.packet_count), or_unknown(stats.byte_count))
    if raw.name == "OFPT11_FLOW_REMOVED":
        (cookie, priority, reason, table_id, sec, nsec, idle, hard, packets,
         bytes_) = OFP12_FLOW_REMOVED.unpack_from(b)
        match, _ = pull_ofp11_match(b, OFP12_FLOW_REMOVED.size)
        return FlowRemoved(match, priority, reason, table_id, cookie, sec, nsec, idle, hard,
                           packets, bytes_)
    if raw.name == "OFPT10_FLOW_REMOVED":
        match = decode_ofp10_match(b)
        (cookie, priority, reason, sec, nsec, idle, packets,
         bytes_) = OFP10_FLOW_REMOVED.unpack_from(b, OFP10_MATCH.size)
        return FlowRemoved(match, priority, reason, 0xFF, cookie, sec, nsec, idle, 0,
                           packets, bytes_)
    (cookie, priority, reason, table_id, sec, nsec, idle, match_len, packets,
     bytes_) = NX_FLOW_REMOVED.unpack_from(b)
    match, _, _, used = pull_nx_match(b, NX_FLOW_REMOVED.size, match_len)
    if NX_FLOW_REMOVED.size + used != len(b):
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "bytes after NXT_FLOW_REMOVED match")
    return FlowRemoved(match, priority, reason, table_id - 1 if table_id else 0xFF, cookie,
                       sec, nsec, idle, 0, packets, bytes_)


def _encode_flow_removed(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, FlowRemoved)
    fr = body
    reason = fr.reason
    if reason == OFPRR_METER_DELETE and version < 5:
        reason = 2  # OFPRR_DELETE: earlier versions cannot say "meter deleted"
    if raw.name == "OFPT15_FLOW_REMOVED":
        return (OFP15_FLOW_REMOVED.pack(fr.table_id, reason, fr.priority, fr.idle_timeout,
                                        fr.hard_timeout, fr.cookie)
                + put_ofp11_match(fr.match, version)
                + put_oxs(OxsStats(fr.duration_sec, fr.duration_nsec, None,
                                   fr.packet_count, fr.byte_count)))
    if raw.name == "OFPT11_FLOW_REMOVED":
        return OFP12_FLOW_REMOVED.pack(
            fr.cookie, fr.priority, reason, fr.table_id, fr.duration_sec, fr.duration_nsec,
            fr.idle_timeout, fr.hard_timeout, fr.packet_count,
            fr.byte_count) + put_ofp11_match(fr.match, version)
    if raw.name == "OFPT10_FLOW_REMOVED":
        return encode_ofp10_match(fr.match) + OFP10_FLOW_REMOVED.pack(
            fr.cookie, fr.priority, reason, fr.duration_sec, fr.duration_nsec,
            fr.idle_timeout, unknown_to_zero(fr.packet_count), unknown_to_zero(fr.byte_count))
    nxm, match_len = put_nx_match(fr.match)
    return NX_FLOW_REMOVED.pack(
        fr.cookie, fr.priority, reason, (fr.table_id + 1) & 0xFF, fr.duration_sec,
        fr.duration_nsec, fr.idle_timeout, match_len, fr.packet_count, fr.byte_count) + nxm


def unknown_to_zero(count: int) -> int:
    """OVS ``unknown_to_zero``: OpenFlow 1.0 has no "unknown" counter value."""
    return 0 if count == UNKNOWN64 else count


def _format_flow_removed(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, FlowRemoved)
    fr = body
    text = " " + format_match(fr.match, fr.priority, ctx.port_names)
    text += " reason=" + REMOVED_REASONS.get(fr.reason, str(fr.reason))
    if fr.table_id != 255:
        names = dict(ctx.table_names) if ctx.table_names else None
        text += " table_id=" + format_table(fr.table_id, names)
    if fr.cookie:
        text += f" cookie:0x{fr.cookie:x}"
    text += " duration" + duration(fr.duration_sec, fr.duration_nsec)
    text += f" idle{fr.idle_timeout}"
    if fr.hard_timeout:
        text += f" hard{fr.hard_timeout}"
    return text + f" pkts{fr.packet_count} bytes{fr.byte_count}\n"


# --- tables ------------------------------------------------------------------------

_FLOW_MOD: Final = MsgCodec(_decode_flow_mod, _encode_flow_mod, _format_flow_mod)
_FLOW_REMOVED: Final = MsgCodec(_decode_flow_removed, _encode_flow_removed,
                                _format_flow_removed)

CODECS: Final[dict[str, MsgCodec]] = {
    "OFPT10_FLOW_MOD": _FLOW_MOD,
    "OFPT11_FLOW_MOD": _FLOW_MOD,
    "NXT_FLOW_MOD": _FLOW_MOD,
    "OFPT10_FLOW_REMOVED": _FLOW_REMOVED,
    "OFPT11_FLOW_REMOVED": _FLOW_REMOVED,
    "OFPT15_FLOW_REMOVED": _FLOW_REMOVED,
    "NXT_FLOW_REMOVED": _FLOW_REMOVED,
}


def by_version(v10: str, v11: str, v13: str | None = None, v15: str | None = None
               ) -> Callable[[int], str]:
    """A DEFAULT_RAWS chooser: ``v10`` for 1.0, ``v11`` for 1.1+, overridden from 1.3/1.5."""
    def choose(version: int) -> str:
        if version >= 6 and v15:
            return v15
        if version >= 4 and v13:
            return v13
        return v10 if version == 1 else v11
    return choose


DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {
    FlowMod: by_version("OFPT10_FLOW_MOD", "OFPT11_FLOW_MOD"),
    FlowRemoved: by_version("OFPT10_FLOW_REMOVED", "OFPT11_FLOW_REMOVED",
                            v15="OFPT15_FLOW_REMOVED"),
}
