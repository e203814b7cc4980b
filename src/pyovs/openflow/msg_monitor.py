"""Flow monitoring: monitor requests, flow updates, cancel/pause/resume (lib/ofp-monitor.c).

A controller asks to watch flow table changes with a multipart request
holding ``FlowMonitorRequest``s; the switch answers with ``FlowUpdate``s,
first for the flows already there (initial), then as flows are added,
deleted and modified, abbreviating changes the watcher itself made.  Three
wire dialects exist, and one abstract form covers them, in OpenFlow 1.4
terms as OVS keeps it:

* Nicira (OpenFlow 1.0-1.2): ``nx_flow_monitor_request`` with an NXM match,
  ``nx_flow_update_*`` with NXM match and actions, NXT cancel/paused/resumed;
* ONF (OpenFlow 1.3): the same layouts with an OXM match and instructions,
  ONFT cancel/paused/resumed;
* OpenFlow 1.4+: ``ofp14_flow_monitor_request`` (with a command, so that a
  "delete" request cancels), ``ofp_flow_update_*`` (events including
  PAUSED/RESUMED).

``FLAG_MAP`` and ``EVENT_MAP`` are the translation tables between the Nicira
numbering and OpenFlow 1.4's.  Decoding applies OVS's checks (flags must
watch something and name nothing unknown, reserved bytes zero, lengths
multiples of 8); printing is OVS's text.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .act_text import format_actions
from .act_wire import atoi, format_table, parse_table
from .actions import ActionList, decode_instructions, encode_actions, encode_instructions
from .actions import pull_actions as pull_plain_actions
from .codec import Body, FormatContext, MsgCodec, list_codec
from .ctext import parse_key_value
from .dstext import bit_names
from .errors import OFError, OFPErr, ParseError
from .match import CATCHALL, Match, MatchBuilder, decode_nx_match, encode_nx_match, pad8
from .match_text import OFP_DEFAULT_PRIORITY, apply_match_key, finish_match, format_match
from .msg_flow import REMOVED_REASONS, fmt_ctx
from .msgtable import Raw
from .ofp11_match import pull_ofp11_match, put_ofp11_match
from .ports import OFPP_NONE, format_port, from_ofp11, to_ofp11
from .protocols import ANY, OF10_ANY

OFPG_ANY: Final = 0xFFFFFFFF

# OpenFlow 1.4 flags (the abstract form) and their Nicira/ONF bits.
FMF_INITIAL, FMF_ADD, FMF_REMOVED, FMF_MODIFY = 1, 2, 4, 8
FMF_INSTRUCTIONS, FMF_NO_ABBREV, FMF_ONLY_OWN = 16, 32, 64
FLAG_MAP: Final = ((FMF_INITIAL, 1), (FMF_ADD, 2), (FMF_REMOVED, 4), (FMF_MODIFY, 8),
                   (FMF_INSTRUCTIONS, 16), (FMF_ONLY_OWN, 32))
"""(OpenFlow 1.4 bit, Nicira bit); NO_ABBREV has no Nicira form."""
FLAG_NAMES: Final = {FMF_INITIAL: "initial", FMF_ADD: "add", FMF_REMOVED: "delete",
                     FMF_MODIFY: "modify", FMF_INSTRUCTIONS: "actions",
                     FMF_NO_ABBREV: "no-abbrev", FMF_ONLY_OWN: "own"}
FMC_ADD, FMC_MODIFY, FMC_DELETE = 0, 1, 2
COMMAND_NAMES: Final = {FMC_ADD: "add", FMC_MODIFY: "modify", FMC_DELETE: "delete"}

# OpenFlow 1.4 events (the abstract form) and the Nicira numbers.
FME_INITIAL, FME_ADDED, FME_REMOVED, FME_MODIFIED, FME_ABBREV = 0, 1, 2, 3, 4
FME_PAUSED, FME_RESUMED = 5, 6
EVENT_MAP: Final = ((FME_ADDED, 0), (FME_REMOVED, 1), (FME_MODIFIED, 2), (FME_ABBREV, 3))
"""(OpenFlow 1.4 event, Nicira event); INITIAL goes out as Nicira ADDED."""

NX_FLOW_MONITOR_REQUEST: Final = struct.Struct("!IHHHB5s")
"""id, flags, out_port, match_len, table_id, zeros."""
ONF_FLOW_MONITOR_REQUEST: Final = struct.Struct("!IHHIB3s")
"""id, flags, match_len, out_port, table_id, zeros."""
OFP14_FLOW_MONITOR_REQUEST: Final = struct.Struct("!IIIHBB")
"""monitor_id, out_port, out_group, flags, table_id, command."""
UPDATE_HEADER: Final = struct.Struct("!HH")
"""length, event."""
NX_UPDATE_FULL: Final = struct.Struct("!HHHHHHHBxQ")
"""length, event, reason, priority, idle_timeout, hard_timeout, match_len, table_id, cookie."""
OFP14_UPDATE_FULL: Final = struct.Struct("!HHBBHHH4xQ")
"""length, event, table_id, reason, idle_timeout, hard_timeout, priority, cookie."""
UPDATE_ABBREV: Final = struct.Struct("!HHI")
"""length, event, xid."""
UPDATE_PAUSED: Final = struct.Struct("!HH4x")
FLOW_MONITOR_CANCEL: Final = struct.Struct("!I")


def _to_ofp_flags(nx: int) -> int:
    return sum(ofp for ofp, bit in FLAG_MAP if nx & bit)


def _to_nx_flags(flags: int) -> int:
    return sum(bit for ofp, bit in FLAG_MAP if flags & ofp)


# --- requests ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FlowMonitorRequest:
    """One monitor (``struct ofputil_flow_monitor_request``)."""

    id: int
    flags: int = 0
    """OpenFlow 1.4 FMF_* bits."""
    out_port: int = OFPP_NONE
    out_group: int = OFPG_ANY
    table_id: int = 0xFF
    command: int = FMC_ADD
    match: Match = CATCHALL


@dataclass(frozen=True, slots=True)
class FlowMonitorRequests(Body):
    """A flow monitor multipart request (one or more monitors)."""

    monitors: tuple[FlowMonitorRequest, ...] = ()


def _check_flags(flags: int, known: int, watch: int) -> None:
    if not flags & watch or flags & ~known:
        raise OFError(OFPErr.OFPMOFC_BAD_FLAGS, f"flow monitor flags {flags:#x}")


def _pull_request(version: int, raw: Raw, b: memoryview, pos: int
                  ) -> tuple[FlowMonitorRequest, int]:
    name = raw.name
    layout = (NX_FLOW_MONITOR_REQUEST if name.startswith("NXST") else
              ONF_FLOW_MONITOR_REQUEST if name.startswith("ONFST") else
              OFP14_FLOW_MONITOR_REQUEST)
    if len(b) - pos < layout.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "leftover bytes in flow monitor request")
    fields = layout.unpack_from(b, pos)
    pos += layout.size
    if layout is OFP14_FLOW_MONITOR_REQUEST:
        mon_id, out_port, out_group, flags, table_id, command = fields
        if command != FMC_DELETE:
            _check_flags(flags, 0x5F, FMF_ADD | FMF_REMOVED | FMF_MODIFY)
        match, used = pull_ofp11_match(b, pos)
        if command == FMC_DELETE:
            return FlowMonitorRequest(mon_id, command=command, match=match), pos + used
        return FlowMonitorRequest(mon_id, flags, from_ofp11(out_port), out_group, table_id,
                                  command, match), pos + used
    if layout is NX_FLOW_MONITOR_REQUEST:
        mon_id, flags, out_port, match_len, table_id, zeros = fields
    else:
        mon_id, flags, match_len, out_port, table_id, zeros = fields
    _check_flags(flags, 0x3F, 2 | 4 | 8)
    if any(zeros):
        raise OFError(OFPErr.NXBRC_MUST_BE_ZERO, "flow monitor request padding")
    if layout is NX_FLOW_MONITOR_REQUEST:
        padded = match_len + pad8(match_len)
        if len(b) - pos < padded:
            raise OFError(OFPErr.OFPBMC_BAD_LEN, "flow monitor match overruns")
        match = decode_nx_match(b[pos:pos + match_len])[0]
        used = padded
    else:
        out_port = from_ofp11(out_port)
        match, used = pull_ofp11_match(b, pos)
    return FlowMonitorRequest(mon_id, _to_ofp_flags(flags), out_port, OFPG_ANY, table_id,
                              FMC_ADD, match), pos + used


def _put_request(r: FlowMonitorRequest, version: int, raw: str) -> bytes:
    if raw.startswith("NXST"):
        match = encode_nx_match(r.match)
        return NX_FLOW_MONITOR_REQUEST.pack(r.id, _to_nx_flags(r.flags), r.out_port,
                                            len(match), r.table_id, bytes(5)) \
            + match + bytes(pad8(len(match)))
    match = put_ofp11_match(r.match, version)
    if raw.startswith("ONFST"):
        return ONF_FLOW_MONITOR_REQUEST.pack(r.id, _to_nx_flags(r.flags),
                                             len(encode_nx_match(r.match, version)) + 4,
                                             to_ofp11(r.out_port), r.table_id, bytes(3)) + match
    return OFP14_FLOW_MONITOR_REQUEST.pack(r.id, to_ofp11(r.out_port), r.out_group, r.flags,
                                           r.table_id, r.command) + match


def _encode_requests(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, FlowMonitorRequests)
    return b"".join(_put_request(r, version, raw.name) for r in body.monitors)


def format_monitor_request(r: FlowMonitorRequest, ctx: FormatContext) -> str:
    """OVS ``ofputil_flow_monitor_request_format``."""
    if r.command == FMC_DELETE:
        return f"\n id={r.id} command={COMMAND_NAMES[r.command]}"
    text = f"\n id={r.id} flags=" + bit_names(r.flags, FLAG_NAMES, ",")
    if r.out_port != OFPP_NONE:
        text += " out_port=" + format_port(r.out_port, ctx.port_names)
    if r.out_group and r.out_group != OFPG_ANY:
        text += f" out_group={r.out_group - (1 << 32) if r.out_group >> 31 else r.out_group}"
    if r.table_id != 0xFF:
        text += " table=" + format_table(r.table_id, dict(ctx.table_names or {}))
    text += " " + format_match(r.match, OFP_DEFAULT_PRIORITY, ctx.port_names)
    return text[:-1] if text.endswith(" ") else text


def _format_requests(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, FlowMonitorRequests)
    return "".join(format_monitor_request(r, ctx) for r in body.monitors)


# --- updates ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FlowUpdate:
    """One flow update (``struct ofputil_flow_update``), in OpenFlow 1.4 events."""

    event: int
    reason: int = 0
    idle_timeout: int = 0
    hard_timeout: int = 0
    table_id: int = 0
    cookie: int = 0
    priority: int = OFP_DEFAULT_PRIORITY
    match: Match = CATCHALL
    actions: ActionList = ()
    xid: int = 0
    """For ABBREV: the xid of the watcher's own request."""


@dataclass(frozen=True, slots=True)
class FlowUpdates(Body):
    """A flow monitor reply (the updates in it)."""

    updates: tuple[FlowUpdate, ...] = ()


def _bad_len(raw: Raw) -> OFError:
    return OFError(OFPErr.OFPBRC_BAD_LEN, f"{raw.human_name} has leftover bytes at end")


def _pull_update(version: int, raw: Raw, b: memoryview, pos: int) -> tuple[FlowUpdate, int]:
    if len(b) - pos < UPDATE_HEADER.size:
        raise _bad_len(raw)
    length, event = UPDATE_HEADER.unpack_from(b, pos)
    if length > len(b) - pos or length % 8:
        raise _bad_len(raw)
    end = pos + length
    if raw.name != "OFPST14_FLOW_MONITOR_REPLY":
        ofp_event = dict((nx, ofp) for ofp, nx in EVENT_MAP).get(event)
        if ofp_event == FME_ABBREV:
            if length != UPDATE_ABBREV.size:
                raise _bad_len(raw)
            return FlowUpdate(FME_ABBREV, xid=UPDATE_ABBREV.unpack_from(b, pos)[2]), end
        if ofp_event is None:
            raise OFError(OFPErr.NXBRC_FM_BAD_EVENT, f"flow update event {event}")
        if length < NX_UPDATE_FULL.size:
            raise _bad_len(raw)
        (_, _, reason, priority, idle, hard, match_len, table_id,
         cookie) = NX_UPDATE_FULL.unpack_from(b, pos)
        if NX_UPDATE_FULL.size + match_len > length:
            raise _bad_len(raw)
        at = pos + NX_UPDATE_FULL.size
        if raw.name.startswith("ONFST"):
            match, used = pull_ofp11_match(b[:end], at)
            actions = decode_instructions(b[at + used:end], version)
        else:
            match = decode_nx_match(b[at:at + match_len])[0]
            used = match_len + pad8(match_len)
            actions = pull_plain_actions(b[at + used:end], version)
        return FlowUpdate(ofp_event, reason, idle, hard, table_id, cookie, priority, match,
                          actions), end
    if event == FME_ABBREV:
        if length != UPDATE_ABBREV.size:
            raise _bad_len(raw)
        return FlowUpdate(event, xid=UPDATE_ABBREV.unpack_from(b, pos)[2]), end
    if event in (FME_PAUSED, FME_RESUMED):
        if length != UPDATE_PAUSED.size:
            raise _bad_len(raw)
        return FlowUpdate(event), end
    if event not in (FME_INITIAL, FME_ADDED, FME_REMOVED, FME_MODIFIED):
        raise OFError(OFPErr.NXBRC_FM_BAD_EVENT, f"flow update event {event}")
    if length < OFP14_UPDATE_FULL.size:
        raise _bad_len(raw)
    (_, _, table_id, reason, idle, hard, priority,
     cookie) = OFP14_UPDATE_FULL.unpack_from(b, pos)
    at = pos + OFP14_UPDATE_FULL.size
    match, used = pull_ofp11_match(b[:end], at)
    actions = decode_instructions(b[at + used:end], version)
    return FlowUpdate(event, reason, idle, hard, table_id, cookie, priority, match,
                      actions), end


def _put_update(u: FlowUpdate, version: int, raw: str) -> bytes:
    if raw == "OFPST14_FLOW_MONITOR_REPLY":
        if u.event == FME_ABBREV:
            return UPDATE_ABBREV.pack(UPDATE_ABBREV.size, u.event, u.xid)
        if u.event in (FME_PAUSED, FME_RESUMED):
            return UPDATE_PAUSED.pack(UPDATE_PAUSED.size, u.event)
        rest = put_ofp11_match(u.match, version) + encode_instructions(u.actions, version)
        return OFP14_UPDATE_FULL.pack(OFP14_UPDATE_FULL.size + len(rest), u.event, u.table_id,
                                      u.reason, u.idle_timeout, u.hard_timeout, u.priority,
                                      u.cookie) + rest
    nx_event = dict(EVENT_MAP).get(u.event, 0)
    if u.event == FME_ABBREV:
        return UPDATE_ABBREV.pack(UPDATE_ABBREV.size, nx_event, u.xid)
    if raw.startswith("ONFST"):
        match = put_ofp11_match(u.match, version)
        match_len = len(encode_nx_match(u.match, version)) + 4
        rest = match + encode_instructions(u.actions, version)
    else:
        nxm = encode_nx_match(u.match)
        match_len = len(nxm)
        rest = nxm + bytes(pad8(match_len)) + encode_actions(u.actions, version)
    return NX_UPDATE_FULL.pack(NX_UPDATE_FULL.size + len(rest), nx_event, u.reason, u.priority,
                               u.idle_timeout, u.hard_timeout, match_len, u.table_id,
                               u.cookie) + rest


def _encode_updates(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, FlowUpdates)
    return b"".join(_put_update(u, version, raw.name) for u in body.updates)


def format_flow_update(u: FlowUpdate, ctx: FormatContext) -> str:
    """OVS ``ofputil_flow_update_format``."""
    if u.event == FME_ABBREV:
        return f"\n event=ABBREV xid=0x{u.xid:x}"
    if u.event in (FME_PAUSED, FME_RESUMED):
        return "\n event=" + ("PAUSED" if u.event == FME_PAUSED else "RESUMED")
    text = "\n event=" + {FME_INITIAL: "INITIAL", FME_ADDED: "ADDED",
                          FME_MODIFIED: "MODIFIED"}.get(u.event, "DELETED reason="
                                                       + REMOVED_REASONS.get(u.reason,
                                                                             str(u.reason)))
    text += " table=" + format_table(u.table_id, dict(ctx.table_names or {}))
    if u.idle_timeout:
        text += f" idle_timeout={u.idle_timeout}"
    if u.hard_timeout:
        text += f" hard_timeout={u.hard_timeout}"
    text += f" cookie={hex(u.cookie) if u.cookie else '0'}"
    text += " " + format_match(u.match, OFP_DEFAULT_PRIORITY, ctx.port_names)
    if u.actions:
        if not text.endswith(" "):
            text += " "
        text += "actions=" + format_actions(u.actions, fmt_ctx(ctx))
    return text


def _format_updates(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, FlowUpdates)
    return "".join(format_flow_update(u, ctx) for u in body.updates)


# --- cancel -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FlowMonitorCancel(Body):
    """NXT/ONFT flow monitor cancel (OpenFlow 1.4 uses a delete request instead)."""

    id: int


def _decode_cancel(version: int, raw: Raw, b: memoryview) -> Body:
    return FlowMonitorCancel(FLOW_MONITOR_CANCEL.unpack_from(b)[0])


def _encode_cancel(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, FlowMonitorCancel)
    return FLOW_MONITOR_CANCEL.pack(body.id)


def _format_cancel(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, FlowMonitorCancel)
    return f" id={body.id}"


_REQUESTS: Final = list_codec(_pull_request, FlowMonitorRequests, _encode_requests,
                              _format_requests)
_UPDATES: Final = list_codec(_pull_update, FlowUpdates, _encode_updates, _format_updates)
_CANCEL: Final = MsgCodec(_decode_cancel, _encode_cancel, _format_cancel)
CODECS: Final = {
    "NXST_FLOW_MONITOR_REQUEST": _REQUESTS,
    "ONFST13_FLOW_MONITOR_REQUEST": _REQUESTS,
    "OFPST14_FLOW_MONITOR_REQUEST": _REQUESTS,
    "NXST_FLOW_MONITOR_REPLY": _UPDATES,
    "ONFST13_FLOW_MONITOR_REPLY": _UPDATES,
    "OFPST14_FLOW_MONITOR_REPLY": _UPDATES,
    "NXT_FLOW_MONITOR_CANCEL": _CANCEL,
    "ONFT13_FLOW_MONITOR_CANCEL": _CANCEL,
}


def _three(nx: str, onf: str, ofp14: str) -> Callable[[int], str]:
    return lambda v: nx if v < 4 else onf if v == 4 else ofp14


DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {
    FlowMonitorRequests: _three("NXST_FLOW_MONITOR_REQUEST", "ONFST13_FLOW_MONITOR_REQUEST",
                                "OFPST14_FLOW_MONITOR_REQUEST"),
    FlowUpdates: _three("NXST_FLOW_MONITOR_REPLY", "ONFST13_FLOW_MONITOR_REPLY",
                        "OFPST14_FLOW_MONITOR_REPLY"),
    FlowMonitorCancel: lambda v: ("NXT_FLOW_MONITOR_CANCEL" if v < 4
                                  else "ONFT13_FLOW_MONITOR_CANCEL"),
}


# --- text -------------------------------------------------------------------------------

_NOT_FLAGS: Final = {"!initial": FMF_INITIAL, "!add": FMF_ADD, "!delete": FMF_REMOVED,
                     "!modify": FMF_MODIFY, "!actions": FMF_INSTRUCTIONS,
                     "!abbrev": FMF_NO_ABBREV, "!own": FMF_ONLY_OWN}
_DEFAULT_FLAGS: Final = (FMF_INITIAL | FMF_ADD | FMF_REMOVED | FMF_MODIFY | FMF_ONLY_OWN
                         | FMF_INSTRUCTIONS)


def parse_flow_monitor_request(text: str, monitor_id: int,
                               port_map: dict[str, int] | None = None,
                               table_map: dict[str, int] | None = None
                               ) -> tuple[FlowMonitorRequest, int]:
    """``parse_flow_monitor_request``: a ``watch:`` text as a monitor; ``ParseError``.

    Returns the monitor and the protocols able to express its match.
    """
    flags, out_port, out_group, table_id = _DEFAULT_FLAGS, OFPP_NONE, OFPG_ANY, 0xFF
    b = MatchBuilder()
    usable = ANY
    pos = 0
    while (item := parse_key_value(text, pos)) is not None:
        name, value, pos = item
        if name in _NOT_FLAGS:
            flags &= ~_NOT_FLAGS[name]
            continue
        got = apply_match_key(b, name, value, port_map)
        if got is not None:
            usable &= got
            if not usable & OF10_ANY:
                raise ParseError(f"{name}: match field is not supported for flow monitor")
            continue
        if not value:
            raise ParseError(f"{text}: field {name} missing value")
        if name == "table":
            table = parse_table(value, table_map)
            if table is None:
                raise ParseError(f'unknown table "{value}"')
            table_id = table
        elif name == "out_port":
            out_port = atoi(value) & 0xFFFF
        elif name == "out_group":
            out_group = atoi(value) & 0xFFFFFFFF
        else:
            raise ParseError(f"{text}: unknown keyword {name}")
    match, usable = finish_match(b, usable)
    return FlowMonitorRequest(monitor_id, flags, out_port, out_group, table_id, FMC_ADD,
                              match), usable
