"""Group messages: group mod, group stats, group descriptions and group features.

A group is an id, a type (all, select, indirect, fast failover) and a list
of ``Bucket``s, each with actions and, depending on the type, a weight or a
watched port/group.  Two wire layouts exist: OpenFlow 1.1-1.4
(``ofp11_group_mod``, ``ofp11_bucket``: bucket ids are implicit positions)
and OpenFlow 1.5, also used by the Nicira messages of OpenFlow 1.0
(``ofp15_group_mod``, ``ofp15_bucket`` with explicit bucket ids and
properties, the INSERT_BUCKET/REMOVE_BUCKET commands and the Netronome
"selection method" group property: ``hash``/``dp_hash`` with an optional
list of fields).  Decoding applies OVS's checks (``ofputil_check_group_mod``:
indirect groups take one bucket, fast-failover buckets need a watch, only
select groups weigh buckets...) with its error codes; text is OVS's.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .act_text import format_actions
from .act_wire import pull_entry, put_entry
from .action_bitmap import format_action_bitmap
from .actions import ActionList, encode_actions, pull_actions
from .codec import Body, FormatContext, MsgCodec, list_codec
from .dstext import duration
from .errors import OFError, OFPErr
from .fieldtypes import Field
from .msg_flow import fmt_ctx
from .msgtable import Raw
from .ports import OFPP_ANY, format_port, from_ofp11, to_ofp11
from .props import parse_u16, parse_u32, pull_props, put_prop, put_u16, put_u32
from .values import format_value

OFPG_MAX: Final = 0xFFFFFF00
OFPG_ALL: Final = 0xFFFFFFFC
OFPG_ANY: Final = 0xFFFFFFFF
GROUP_TYPES: Final = ("all", "select", "indirect", "ff")
GT_ALL, GT_SELECT, GT_INDIRECT, GT_FF = 0, 1, 2, 3

GC_ADD, GC_MODIFY, GC_DELETE, GC_INSERT_BUCKET, GC_REMOVE_BUCKET = 0, 1, 2, 3, 5
GC_ADD_OR_MOD: Final = 0x8000
COMMAND_NAMES: Final = {GC_ADD: "ADD", GC_MODIFY: "MOD", GC_ADD_OR_MOD: "ADD_OR_MOD",
                        GC_DELETE: "DEL", GC_INSERT_BUCKET: "INSERT_BUCKET",
                        GC_REMOVE_BUCKET: "REMOVE_BUCKET"}
BUCKET_MAX: Final = 0xFFFFFF00
BUCKET_FIRST: Final = 0xFFFFFFFD
BUCKET_LAST: Final = 0xFFFFFFFE
BUCKET_ALL: Final = 0xFFFFFFFF
BUCKET_ID_NAMES: Final = {BUCKET_FIRST: "first", BUCKET_LAST: "last", BUCKET_ALL: "all"}

OFP11_GROUP_MOD: Final = struct.Struct("!HBxI")
"""command, type, group_id."""
OFP15_GROUP_MOD: Final = struct.Struct("!HBxIH2xI")
"""command, type, group_id, bucket_array_len, command_bucket_id."""
OFP11_BUCKET: Final = struct.Struct("!HHII4x")
"""len, weight, watch_port, watch_group."""
OFP15_BUCKET: Final = struct.Struct("!HHI")
"""len, action_array_len, bucket_id."""
OFPGBPT15_WEIGHT, OFPGBPT15_WATCH_PORT, OFPGBPT15_WATCH_GROUP = 0, 1, 2
NTR_VENDOR_ID: Final = 0x0000154D
NTR_COMPAT_VENDOR_ID: Final = 0x00001540
NTRT_SELECTION_METHOD: Final = 1
SELECTION_METHOD: Final = struct.Struct("!4x16sQ")
"""(property payload after the experimenter header) selection_method, param."""


def format_group(group_id: int) -> str:
    """OVS ``ofputil_format_group``."""
    return {OFPG_ALL: "ALL", OFPG_ANY: "ANY"}.get(group_id, str(group_id))


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bucket (OVS ``struct ofputil_bucket``)."""

    actions: ActionList = ()
    weight: int = 0
    watch_port: int = OFPP_ANY
    watch_group: int = OFPG_ANY
    bucket_id: int = 0

    @property
    def has_liveness(self) -> bool:
        return self.watch_port != OFPP_ANY or self.watch_group != OFPG_ANY


@dataclass(frozen=True, slots=True)
class SelectionMethod:
    """The Netronome selection-method group property."""

    method: str = ""
    """``hash`` or ``dp_hash`` ("" when absent)."""
    param: int = 0
    fields: tuple[tuple[Field, int], ...] = ()
    """(field, mask) to hash on, in OVS field order."""


NO_SELECTION: Final = SelectionMethod()


@dataclass(frozen=True, slots=True)
class GroupMod(Body):
    """OFPT_GROUP_MOD / NXT_GROUP_MOD (OVS ``struct ofputil_group_mod``)."""

    command: int
    group_id: int
    type: int = GT_ALL
    buckets: tuple[Bucket, ...] = ()
    command_bucket_id: int = BUCKET_ALL
    selection: SelectionMethod = NO_SELECTION


# --- buckets and properties -------------------------------------------------------

def _pull_ofp11_buckets(b: memoryview, version: int) -> tuple[Bucket, ...]:
    out: list[Bucket] = []
    pos = 0
    while pos < len(b):
        if len(b) - pos < OFP11_BUCKET.size:
            raise OFError(OFPErr.OFPGMFC_BAD_BUCKET, "leftover bytes after buckets")
        length, weight, watch_port, watch_group = OFP11_BUCKET.unpack_from(b, pos)
        if length < OFP11_BUCKET.size or length > len(b) - pos:
            raise OFError(OFPErr.OFPGMFC_BAD_BUCKET, f"bucket length {length}")
        actions = pull_actions(b[pos + OFP11_BUCKET.size:pos + length], version)
        try:
            port = from_ofp11(watch_port)
        except OFError:
            raise OFError(OFPErr.OFPGMFC_BAD_WATCH, "bad watch port") from None
        out.append(Bucket(actions, weight, port, watch_group, len(out)))
        pos += length
    return tuple(out)


def _pull_ofp15_buckets(b: memoryview, version: int, group_type: int) -> tuple[Bucket, ...]:
    out = []
    pos = 0
    while pos < len(b):
        if len(b) - pos < OFP15_BUCKET.size:
            raise OFError(OFPErr.OFPGMFC_BAD_BUCKET, "leftover bytes after buckets")
        length, actions_len, bucket_id = OFP15_BUCKET.unpack_from(b, pos)
        if (length < OFP15_BUCKET.size or length > len(b) - pos
                or actions_len > length - OFP15_BUCKET.size):
            raise OFError(OFPErr.OFPGMFC_BAD_BUCKET, f"bucket length {length}")
        start = pos + OFP15_BUCKET.size
        actions = pull_actions(b[start:start + actions_len], version)
        weight = 1 if group_type == GT_SELECT else 0
        watch_port, watch_group = to_ofp11(OFPP_ANY), OFPG_ANY
        for type_, payload in pull_props(b[start + actions_len:pos + length]):
            if type_ == OFPGBPT15_WEIGHT:
                weight = parse_u16(payload)
            elif type_ == OFPGBPT15_WATCH_PORT:
                watch_port = parse_u32(payload)
            elif type_ == OFPGBPT15_WATCH_GROUP:
                watch_group = parse_u32(payload)
            else:
                raise OFError(OFPErr.OFPBPC_BAD_EXP_TYPE if type_ > 0xFFFF
                              else OFPErr.OFPBPC_BAD_TYPE, f"bucket property {type_}")
        try:
            port = from_ofp11(watch_port)
        except OFError:
            raise OFError(OFPErr.OFPGMFC_BAD_WATCH, "bad watch port") from None
        if bucket_id > BUCKET_MAX:
            raise OFError(OFPErr.OFPGMFC_BAD_BUCKET, f"bucket id {bucket_id}")
        out.append(Bucket(actions, weight, port, watch_group, bucket_id))
        pos += length
    if len({bk.bucket_id for bk in out}) != len(out):
        raise OFError(OFPErr.OFPGMFC_BAD_BUCKET, "duplicate bucket id")
    return tuple(out)


def _put_ofp11_bucket(bk: Bucket, version: int) -> bytes:
    actions = encode_actions(bk.actions, version)
    return OFP11_BUCKET.pack(OFP11_BUCKET.size + len(actions), bk.weight,
                             to_ofp11(bk.watch_port), bk.watch_group) + actions


def _put_ofp15_bucket(bk: Bucket, group_type: int, version: int) -> bytes:
    actions = encode_actions(bk.actions, version)
    props = b""
    if group_type == GT_SELECT or bk.weight:
        props += put_u16(OFPGBPT15_WEIGHT, bk.weight)
    if bk.watch_port != OFPP_ANY:
        props += put_u32(OFPGBPT15_WATCH_PORT, to_ofp11(bk.watch_port))
    if bk.watch_group != OFPG_ANY:
        props += put_u32(OFPGBPT15_WATCH_GROUP, bk.watch_group)
    return OFP15_BUCKET.pack(OFP15_BUCKET.size + len(actions) + len(props), len(actions),
                             bk.bucket_id) + actions + props


def _pull_group_props(b: memoryview, group_type: int, command: int) -> SelectionMethod:
    selection = NO_SELECTION
    for type_, payload in pull_props(b):
        if type_ not in (NTR_VENDOR_ID << 32 | NTRT_SELECTION_METHOD,
                         NTR_COMPAT_VENDOR_ID << 32 | NTRT_SELECTION_METHOD):
            raise OFError(OFPErr.OFPBPC_BAD_EXP_TYPE if type_ > 0xFFFF
                          else OFPErr.OFPBPC_BAD_TYPE, f"group property {type_:#x}")
        if group_type != GT_SELECT:
            raise OFError(OFPErr.OFPBPC_BAD_VALUE if group_type < 4
                          else OFPErr.OFPGMFC_BAD_TYPE, "selection method needs select")
        if command not in (GC_ADD, GC_MODIFY, GC_ADD_OR_MOD):
            raise OFError(OFPErr.OFPBPC_BAD_VALUE
                          if command in (GC_DELETE, GC_INSERT_BUCKET, GC_REMOVE_BUCKET)
                          else OFPErr.OFPGMFC_BAD_COMMAND, "selection method command")
        if len(payload) < SELECTION_METHOD.size:
            raise OFError(OFPErr.OFPBPC_BAD_LEN, "selection method property length")
        raw_method, param = SELECTION_METHOD.unpack_from(payload)
        if b"\0" not in raw_method:
            raise OFError(OFPErr.OFPBPC_BAD_VALUE, "selection method not terminated")
        method = raw_method.split(b"\0", 1)[0].decode("latin-1")
        if method not in ("hash", "dp_hash"):
            raise OFError(OFPErr.OFPBPC_BAD_VALUE, f"selection method {method}")
        fields_data = payload[SELECTION_METHOD.size:]
        if len(fields_data) and method != "hash":
            raise OFError(OFPErr.OFPBPC_BAD_VALUE, f"{method} takes no fields")
        fields: dict[int, tuple[Field, int]] = {}
        pos = 0
        while pos < len(fields_data):
            f, value, _, pos = pull_entry(fields_data, pos, len(fields_data), False)
            if f.id in fields:
                raise OFError(OFPErr.OFPBMC_DUP_FIELD, f"duplicate field {f.name}")
            if not f.maskable and value not in (0, f.all_ones):
                raise OFError(OFPErr.OFPBMC_BAD_MASK, f"bad mask for {f.name}")
            fields[f.id] = (f, value)
        selection = SelectionMethod(method, param, tuple(fields[i] for i in sorted(fields)))
    return selection


def _put_selection(sel: SelectionMethod, version: int) -> bytes:
    if not sel.method:
        return b""
    fields = b"".join(put_entry(f, version, value, f.all_ones) for f, value in sel.fields)
    payload = SELECTION_METHOD.pack(sel.method.encode(), sel.param) + fields
    return put_prop(NTR_VENDOR_ID << 32 | NTRT_SELECTION_METHOD, payload)


# --- group mod ---------------------------------------------------------------------

def _check_group_mod(gm: GroupMod) -> None:
    """OVS ``ofputil_check_group_mod``."""
    if gm.type == GT_INDIRECT:
        if gm.command != GC_DELETE and len(gm.buckets) != 1:
            raise OFError(OFPErr.OFPGMFC_INVALID_GROUP, "indirect group needs one bucket")
    elif gm.type not in (GT_ALL, GT_SELECT, GT_FF):
        raise OFError(OFPErr.OFPGMFC_BAD_TYPE, f"group type {gm.type}")
    if gm.command == GC_REMOVE_BUCKET:
        if gm.buckets:
            raise OFError(OFPErr.OFPGMFC_BAD_BUCKET, "remove-bucket with buckets")
    elif gm.command not in (GC_ADD, GC_MODIFY, GC_ADD_OR_MOD, GC_DELETE, GC_INSERT_BUCKET):
        raise OFError(OFPErr.OFPGMFC_BAD_COMMAND, f"group command {gm.command}")
    for bk in gm.buckets:
        if bk.weight and gm.type != GT_SELECT and gm.command != GC_INSERT_BUCKET:
            raise OFError(OFPErr.OFPGMFC_INVALID_GROUP, "weight outside a select group")
        if gm.type in (GT_ALL, GT_INDIRECT) and bk.has_liveness:
            raise OFError(OFPErr.OFPGMFC_WATCH_UNSUPPORTED, "watch in all/indirect group")
        if gm.type == GT_FF and not bk.has_liveness:
            raise OFError(OFPErr.OFPGMFC_INVALID_GROUP, "fast failover bucket without watch")


def _decode_group_mod(version: int, raw: Raw, b: memoryview) -> Body:
    if raw.name == "OFPT11_GROUP_MOD":
        command, type_, group_id = OFP11_GROUP_MOD.unpack_from(b)
        buckets = _pull_ofp11_buckets(b[OFP11_GROUP_MOD.size:], version)
        if version >= 4 and command == GC_DELETE and buckets:
            raise OFError(OFPErr.OFPGMFC_INVALID_GROUP, "delete with buckets")
        gm = GroupMod(command, group_id, type_, buckets)
    else:
        command, type_, group_id, buckets_len, cmd_bucket = OFP15_GROUP_MOD.unpack_from(b)
        ok = cmd_bucket == BUCKET_ALL
        if command in (GC_INSERT_BUCKET, GC_REMOVE_BUCKET):
            ok = (cmd_bucket <= BUCKET_MAX or cmd_bucket in (BUCKET_FIRST, BUCKET_LAST)
                  or (command == GC_REMOVE_BUCKET and cmd_bucket == BUCKET_ALL))
        if not ok:
            raise OFError(OFPErr.OFPGMFC_BAD_BUCKET, f"command bucket id {cmd_bucket:#x}")
        rest = b[OFP15_GROUP_MOD.size:]
        if buckets_len > len(rest):
            raise OFError(OFPErr.OFPBRC_BAD_LEN, "bucket array overruns")
        buckets = _pull_ofp15_buckets(rest[:buckets_len], version, type_)
        selection = _pull_group_props(rest[buckets_len:], type_, command)
        gm = GroupMod(command, group_id, type_, buckets, cmd_bucket, selection)
    _check_group_mod(gm)
    return gm


def _encode_group_mod(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, GroupMod)
    gm = body
    if raw.name == "OFPT11_GROUP_MOD":
        buckets = b"".join(_put_ofp11_bucket(bk, version) for bk in gm.buckets)
        return OFP11_GROUP_MOD.pack(gm.command, gm.type, gm.group_id) + buckets
    buckets = b"".join(_put_ofp15_bucket(bk, gm.type, version) for bk in gm.buckets)
    return (OFP15_GROUP_MOD.pack(gm.command, gm.type, gm.group_id, len(buckets),
                                 gm.command_bucket_id)
            + buckets + _put_selection(gm.selection, version))


def _bucket_id_text(label: str, bucket_id: int, version: int) -> str:
    if 1 < version < 6:
        return ""
    return label + BUCKET_ID_NAMES.get(bucket_id, str(bucket_id)) + ","


def format_group_body(group_id: int, type_: int, buckets: tuple[Bucket, ...] | None,
                      selection: SelectionMethod, version: int, suppress_type: bool,
                      ctx: FormatContext) -> str:
    """OVS ``ofp_print_group``."""
    text = f"group_id={group_id}"
    if not suppress_type:
        text += ",type=" + (GROUP_TYPES[type_] if type_ < 4 else "unknown")
    if selection.method:
        text += f",selection_method={selection.method}"
        if selection.param:
            text += f",selection_method_param={selection.param}"
        fields = ",".join(f.name + ("" if value == f.all_ones else "=" + format_value(f, value))
                          for f, value in selection.fields)
        if len(selection.fields) == 1:
            text += ",fields=" + fields
        elif selection.fields:
            text += ",fields(" + fields + ")"
    if buckets is None:
        return text
    text += ","
    names = fmt_ctx(ctx)
    for bk in buckets:
        text += "bucket=" + _bucket_id_text("bucket_id:", bk.bucket_id, version)
        if bk.weight != (1 if type_ == GT_SELECT else 0):
            text += f"weight:{bk.weight},"
        if bk.watch_port != OFPP_ANY:
            text += "watch_port:" + format_port(bk.watch_port, ctx.port_names) + ","
        if bk.watch_group != OFPG_ANY:
            text += f"watch_group:{bk.watch_group},"
        text += "actions=" + format_actions(bk.actions, names) + ","
    return text[:-1] if text.endswith(",") else text


def _format_group_mod(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, GroupMod)
    gm = body
    bucket_command = gm.command in (GC_INSERT_BUCKET, GC_REMOVE_BUCKET)
    text = "\n " + COMMAND_NAMES.get(gm.command, f"cmd:{gm.command}") + " "
    if bucket_command:
        text += _bucket_id_text("command_bucket_id:", gm.command_bucket_id, ctx.version)
    return text + format_group_body(gm.group_id, gm.type, gm.buckets, gm.selection,
                                    ctx.version, bucket_command, ctx)


# --- group descriptions ------------------------------------------------------------

OFP11_GROUP_DESC: Final = struct.Struct("!HBxI")
"""length, type, group_id."""
OFP15_GROUP_DESC: Final = struct.Struct("!HBxIH6x")
"""length, type, group_id, bucket_list_len."""
GROUP_ID_REQUEST: Final = struct.Struct("!I4x")
"""group_id (group stats and 1.5 group desc requests)."""


@dataclass(frozen=True, slots=True)
class GroupDesc:
    """One group's description (OVS ``struct ofputil_group_desc``)."""

    group_id: int
    type: int = GT_ALL
    buckets: tuple[Bucket, ...] = ()
    selection: SelectionMethod = NO_SELECTION


@dataclass(frozen=True, slots=True)
class GroupDescRequest(Body):
    """OFPST_GROUP_DESC request (a group selector only in 1.0 (NX) and 1.5)."""

    group_id: int = OFPG_ALL


@dataclass(frozen=True, slots=True)
class GroupDescReply(Body):
    groups: tuple[GroupDesc, ...] = ()


@dataclass(frozen=True, slots=True)
class GroupStatsRequest(Body):
    group_id: int = OFPG_ALL


def _decode_group_id_request(version: int, raw: Raw, b: memoryview) -> Body:
    if raw.name == "OFPST11_GROUP_DESC_REQUEST":
        return GroupDescRequest()
    group_id = GROUP_ID_REQUEST.unpack_from(b)[0]
    return (GroupStatsRequest(group_id) if "DESC" not in raw.name
            else GroupDescRequest(group_id))


def _encode_group_id_request(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, (GroupDescRequest, GroupStatsRequest))
    if raw.name == "OFPST11_GROUP_DESC_REQUEST":
        return b""
    return GROUP_ID_REQUEST.pack(body.group_id)


def _format_group_id_request(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, (GroupDescRequest, GroupStatsRequest))
    return " group_id=" + format_group(body.group_id)


def _pull_group_desc(version: int, raw: Raw, b: memoryview, pos: int) -> tuple[GroupDesc, int]:
    new_layout = version in (1, 6)
    head = OFP15_GROUP_DESC if new_layout else OFP11_GROUP_DESC
    if len(b) - pos < head.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "leftover bytes in group desc reply")
    length, type_, group_id, *rest = head.unpack_from(b, pos)
    if length < head.size or length - head.size > len(b) - pos - head.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, f"group desc length {length}")
    body = b[pos + head.size:pos + length]
    if not new_layout:
        return GroupDesc(group_id, type_, _pull_ofp11_buckets(body, version)), pos + length
    buckets_len = rest[0]
    if length < buckets_len + head.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, f"bucket list length {buckets_len}")
    buckets = _pull_ofp15_buckets(body[:buckets_len], version, type_)
    selection = _pull_group_props(body[buckets_len:], type_, GC_ADD)
    return GroupDesc(group_id, type_, buckets, selection), pos + length


def _encode_group_desc_reply(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, GroupDescReply)
    out = b""
    for g in body.groups:
        if version in (1, 6):
            buckets = b"".join(_put_ofp15_bucket(bk, g.type, version) for bk in g.buckets)
            props = _put_selection(g.selection, version)
            out += OFP15_GROUP_DESC.pack(OFP15_GROUP_DESC.size + len(buckets) + len(props),
                                         g.type, g.group_id, len(buckets)) + buckets + props
        else:
            buckets = b"".join(_put_ofp11_bucket(bk, version) for bk in g.buckets)
            out += OFP11_GROUP_DESC.pack(OFP11_GROUP_DESC.size + len(buckets), g.type,
                                         g.group_id) + buckets
    return out


def _format_group_desc_reply(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, GroupDescReply)
    return "".join("\n " + format_group_body(g.group_id, g.type, g.buckets, g.selection,
                                             ctx.version, False, ctx)
                   for g in body.groups)


# --- group statistics ----------------------------------------------------------------

OFP11_GROUP_STATS: Final = struct.Struct("!H2xII4xQQ")
"""length, group_id, ref_count, packet_count, byte_count."""
OFP13_GROUP_STATS: Final = struct.Struct("!H2xII4xQQII")
"""As OFP11_GROUP_STATS plus duration_sec, duration_nsec."""
BUCKET_COUNTER: Final = struct.Struct("!QQ")


@dataclass(frozen=True, slots=True)
class GroupStats:
    """One group's counters (OVS ``struct ofputil_group_stats``)."""

    group_id: int
    ref_count: int = 0
    packet_count: int = 0
    byte_count: int = 0
    duration_sec: int = 0xFFFFFFFF
    duration_nsec: int = 0xFFFFFFFF
    buckets: tuple[tuple[int, int], ...] = ()
    """(packet_count, byte_count) per bucket."""


@dataclass(frozen=True, slots=True)
class GroupStatsReply(Body):
    stats: tuple[GroupStats, ...] = ()


def _pull_group_stats(version: int, raw: Raw, b: memoryview, pos: int
                      ) -> tuple[GroupStats, int]:
    layout = OFP11_GROUP_STATS if raw.name == "OFPST11_GROUP_REPLY" else OFP13_GROUP_STATS
    if len(b) - pos < layout.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "leftover bytes in group stats reply")
    length, group_id, ref_count, packets, bytes_, *dur = layout.unpack_from(b, pos)
    sec, nsec = dur if dur else (0xFFFFFFFF, 0xFFFFFFFF)
    # OVS refuses lengths under 8 and, below the fixed part, pulls "minus
    # n" bucket counters, which fails too.
    if length < max(8, layout.size):
        raise OFError(OFPErr.OFPBRC_BAD_LEN, f"group stats length {length}")
    n = (length - layout.size) // BUCKET_COUNTER.size
    start = pos + layout.size
    if start + n * BUCKET_COUNTER.size > len(b):
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "bucket counters overrun")
    counters = tuple(BUCKET_COUNTER.unpack_from(b, start + i * BUCKET_COUNTER.size)
                     for i in range(n))
    return (GroupStats(group_id, ref_count, packets, bytes_, sec, nsec, counters),
            start + n * BUCKET_COUNTER.size)


def _encode_group_stats_reply(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, GroupStatsReply)
    out = b""
    for s in body.stats:
        counters = b"".join(BUCKET_COUNTER.pack(*c) for c in s.buckets)
        if raw.name == "OFPST11_GROUP_REPLY":
            head = OFP11_GROUP_STATS.pack(OFP11_GROUP_STATS.size + len(counters), s.group_id,
                                          s.ref_count, s.packet_count, s.byte_count)
        else:
            head = OFP13_GROUP_STATS.pack(OFP13_GROUP_STATS.size + len(counters), s.group_id,
                                          s.ref_count, s.packet_count, s.byte_count,
                                          s.duration_sec, s.duration_nsec)
        out += head + counters
    return out


def _format_group_stats_reply(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, GroupStatsReply)
    text = ""
    for s in body.stats:
        text += f"\n group_id={s.group_id},"
        if s.duration_sec != 0xFFFFFFFF:
            text += "duration=" + duration(s.duration_sec, s.duration_nsec) + ","
        text += (f"ref_count={s.ref_count},packet_count={s.packet_count},"
                 f"byte_count={s.byte_count}")
        for i, (packets, bytes_) in enumerate(s.buckets):
            if packets != (1 << 64) - 1:
                text += f",bucket{i}:packet_count={packets},byte_count={bytes_}"
    if ctx.extra.get("partial"):
        text += " ***parse error***"
    return text


# --- group features --------------------------------------------------------------------

GROUP_FEATURES: Final = struct.Struct("!II4I4I")
"""types, capabilities, max_groups[4], actions[4]."""
FEATURE_TYPE_NAMES: Final = ("all", "select", "indirect", "fast failover")


@dataclass(frozen=True, slots=True)
class GroupFeaturesReply(Body):
    types: int = 0
    capabilities: int = 0
    max_groups: tuple[int, int, int, int] = (0, 0, 0, 0)
    actions: tuple[int, int, int, int] = (0, 0, 0, 0)
    """Wire OFPAT bitmaps per group type."""


def _decode_group_features(version: int, raw: Raw, b: memoryview) -> Body:
    types, caps, *rest = GROUP_FEATURES.unpack_from(b)
    return GroupFeaturesReply(types, caps, tuple(rest[:4]), tuple(rest[4:]))


def _encode_group_features(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, GroupFeaturesReply)
    return GROUP_FEATURES.pack(body.types, body.capabilities, *body.max_groups, *body.actions)


def _format_group_features(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, GroupFeaturesReply)
    f = body
    text = (f"\n Group table:\n    Types:  0x{f.types:x}\n"
            f"    Capabilities:  0x{f.capabilities:x}\n")
    for i, name in enumerate(FEATURE_TYPE_NAMES):
        if f.types >> i & 1:
            max_groups = f"0x{f.max_groups[i]:x}" if f.max_groups[i] else "0"
            text += (f"    {name} group:\n       max_groups={max_groups}\n"
                     f"       actions: {format_action_bitmap(f.actions[i], ctx.version)}\n")
    return text


# --- tables --------------------------------------------------------------------------

_GROUP_MOD: Final = MsgCodec(_decode_group_mod, _encode_group_mod, _format_group_mod)
_ID_REQUEST: Final = MsgCodec(_decode_group_id_request, _encode_group_id_request,
                              _format_group_id_request)
_DESC_REPLY: Final = list_codec(_pull_group_desc, GroupDescReply, _encode_group_desc_reply,
                                _format_group_desc_reply)
_STATS_REPLY: Final = list_codec(_pull_group_stats, GroupStatsReply,
                                 _encode_group_stats_reply, _format_group_stats_reply)
_FEATURES: Final = MsgCodec(_decode_group_features, _encode_group_features,
                            _format_group_features)

CODECS: Final[dict[str, MsgCodec]] = {
    "OFPT11_GROUP_MOD": _GROUP_MOD,
    "OFPT15_GROUP_MOD": _GROUP_MOD,
    "NXT_GROUP_MOD": _GROUP_MOD,
    "NXST_GROUP_REQUEST": _ID_REQUEST,
    "OFPST11_GROUP_REQUEST": _ID_REQUEST,
    "NXST_GROUP_DESC_REQUEST": _ID_REQUEST,
    "OFPST11_GROUP_DESC_REQUEST": _ID_REQUEST,
    "OFPST15_GROUP_DESC_REQUEST": _ID_REQUEST,
    "NXST_GROUP_DESC_REPLY": _DESC_REPLY,
    "OFPST11_GROUP_DESC_REPLY": _DESC_REPLY,
    "NXST_GROUP_REPLY": _STATS_REPLY,
    "OFPST11_GROUP_REPLY": _STATS_REPLY,
    "OFPST13_GROUP_REPLY": _STATS_REPLY,
    "NXST_GROUP_FEATURES_REPLY": _FEATURES,
    "OFPST12_GROUP_FEATURES_REPLY": _FEATURES,
}


def _nx_or(nx: str, standard: str) -> Callable[[int], str]:
    return lambda v: nx if v == 1 else standard


DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {
    GroupMod: lambda v: ("NXT_GROUP_MOD" if v == 1 else
                         "OFPT15_GROUP_MOD" if v >= 6 else "OFPT11_GROUP_MOD"),
    GroupStatsRequest: _nx_or("NXST_GROUP_REQUEST", "OFPST11_GROUP_REQUEST"),
    GroupDescRequest: lambda v: ("NXST_GROUP_DESC_REQUEST" if v == 1 else
                                 "OFPST15_GROUP_DESC_REQUEST" if v >= 6
                                 else "OFPST11_GROUP_DESC_REQUEST"),
    GroupDescReply: _nx_or("NXST_GROUP_DESC_REPLY", "OFPST11_GROUP_DESC_REPLY"),
    GroupStatsReply: lambda v: ("NXST_GROUP_REPLY" if v == 1 else
                                "OFPST11_GROUP_REPLY" if v <= 3 else "OFPST13_GROUP_REPLY"),
    GroupFeaturesReply: lambda v: ("NXST_GROUP_FEATURES_REPLY" if v <= 2
                                   else "OFPST12_GROUP_FEATURES_REPLY"),
}
