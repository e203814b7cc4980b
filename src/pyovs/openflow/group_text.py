"""Group mods from ovs-ofctl text (OVS ``parse_ofp_group_mod_str``, lib/ofp-group.c).

The syntax is ``group_id=N,type=T[,selection_method=M,...],bucket=...,bucket=...``:
keywords first, then buckets, each running to the next ``bucket=``; a
bucket's own keywords (``weight``, ``watch_port``, ``watch_group``,
``bucket_id``) are taken out and everything else in it is its action list
(``actions=`` or bare ``output:1``-style items).  Buckets are parsed after
the group's keywords because the group type sets their defaults (a select
bucket weighs 1).

What a command accepts is a table (``_COMMAND_FIELDS``): ``add``/``modify``
need a type and take buckets, ``delete`` takes only the id (none at all
means every group), ``insert_bucket`` needs a ``command_bucket_id`` and
takes buckets, ``remove_bucket`` takes a ``command_bucket_id`` (default
``all``).  Lines of a groups file may start with the command word, matched
as a prefix the way OVS's ``strncmp`` does.  Errors are ``ParseError`` with
OVS's wording; the result carries the protocols able to express it
(bucket ids, selection methods and the bucket commands need OpenFlow 1.5
or the Nicira OpenFlow 1.0 extension).

``assign_bucket_ids`` is the id allocation OVS's 1.5 encoder does for
buckets given without an id.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from .act_text import parse_actions
from .act_wire import str_to_u16, str_to_u32, str_to_u64
from .actions import ParseCtx
from .ctext import parse_key_value, str_to_uint
from .errors import ParseError
from .fields import FIELD_BY_NAME
from .fieldtypes import Field
from .msg_group import (
    BUCKET_ALL,
    BUCKET_FIRST,
    BUCKET_LAST,
    BUCKET_MAX,
    GC_ADD,
    GC_ADD_OR_MOD,
    GC_DELETE,
    GC_INSERT_BUCKET,
    GC_MODIFY,
    GC_REMOVE_BUCKET,
    GT_ALL,
    GT_FF,
    GT_INDIRECT,
    GT_SELECT,
    OFPG_ALL,
    OFPG_ANY,
    OFPG_MAX,
    Bucket,
    GroupMod,
    SelectionMethod,
)
from .ports import OFPP_ANY, OFPP_CONTROLLER, OFPP_MAX, PortMap, parse_port
from .protocols import ANY, OF10_ANY, OF15_UP
from .values import parse_value

__all__ = ["assign_bucket_ids", "group_from_string", "parse_group_mod"]

LINE_COMMAND: Final = -2
"""``command`` for a groups-file line, which may name its own command."""

_F_TYPE, _F_BUCKETS, _F_CMD_BUCKET, _F_CMD_BUCKET_ALL = 1, 2, 4, 8
_COMMAND_FIELDS: Final = {
    GC_ADD: _F_TYPE | _F_BUCKETS,
    GC_DELETE: 0,
    GC_MODIFY: _F_TYPE | _F_BUCKETS,
    GC_ADD_OR_MOD: _F_TYPE | _F_BUCKETS,
    GC_INSERT_BUCKET: _F_BUCKETS | _F_CMD_BUCKET,
    GC_REMOVE_BUCKET: _F_CMD_BUCKET | _F_CMD_BUCKET_ALL,
}
_LINE_COMMANDS: Final = (
    ("add", GC_ADD), ("delete", GC_DELETE), ("modify", GC_MODIFY),
    ("add_or_mod", GC_ADD_OR_MOD), ("insert_bucket", GC_INSERT_BUCKET),
    ("remove_bucket", GC_REMOVE_BUCKET),
)
_TYPES: Final = {"all": GT_ALL, "select": GT_SELECT, "indirect": GT_INDIRECT,
                 "ff": GT_FF, "fast_failover": GT_FF}
_COMMAND_BUCKET_NAMES: Final = {"all": BUCKET_ALL, "first": BUCKET_FIRST,
                                "last": BUCKET_LAST}
_OF15_OR_NX: Final = OF10_ANY | OF15_UP
NTR_MAX_SELECTION_METHOD_LEN: Final = 16


def group_from_string(s: str) -> int | None:
    """OVS ``ofputil_group_from_string``: ``any``, ``all`` or a 32-bit number."""
    if s.lower() == "any":
        return OFPG_ANY
    if s.lower() == "all":
        return OFPG_ALL
    return str_to_uint(s, 10)


def _line_command(text: str) -> tuple[int, str]:
    start = len(text) - len(text.lstrip(" \t\r\n"))
    end = start
    while end < len(text) and text[end] not in ", \t\r\n":
        end += 1
    token = text[start:end]
    for word, command in _LINE_COMMANDS:
        if word.startswith(token):
            return command, text[start + len(token):]
    return GC_ADD, text[start:]


class _Builder:
    """The group mod being assembled, and the protocols that can carry it."""

    def __init__(self, command: int) -> None:
        self.command = command
        self.group_id = OFPG_ANY
        self.type = GT_ALL
        self.command_bucket_id = BUCKET_ALL
        self.method = ""
        self.param = 0
        self.fields: dict[int, tuple[Field, int]] = {}
        self.usable = ANY


def _parse_fields(s: str, b: _Builder, port_map: PortMap | None) -> None:
    """``parse_select_group_field``: fields to hash on, each with an optional mask."""
    pos = 0
    while (item := parse_key_value(s, pos)) is not None:
        name, value_str, pos = item
        f = FIELD_BY_NAME.get(name)
        if f is None:
            raise ParseError(f"{s[pos:]}: unknown field {name}")
        if f.id in b.fields:
            raise ParseError(f"{name}: duplicate field")
        if value_str:
            value, _ = parse_value(f, value_str, port_map)
            if not f.variable and value == 0:
                raise ParseError(f"{s[pos:]}: values are wildcards here and must not be "
                                 "all-zeros")
        else:
            value = f.all_ones
        b.fields[f.id] = (f, value)
        exact, cidr, bitwise = f.usable
        if value == f.all_ones:
            b.usable &= exact
        else:
            top = value >> (8 * f.n_bytes - 32) if f.n_bytes >= 4 else value
            inv = ~top & 0xFFFFFFFF
            b.usable &= cidr if cidr == bitwise or not inv & (inv + 1) else bitwise


def _parse_group_keyword(name: str, value: str, fields: int, b: _Builder,
                         port_map: PortMap | None) -> bool:
    """One keyword before the buckets; True if it was ``type``."""
    if name == "command_bucket_id":
        if not fields & _F_CMD_BUCKET:
            raise ParseError("command bucket id is not needed")
        if value in _COMMAND_BUCKET_NAMES:
            b.command_bucket_id = _COMMAND_BUCKET_NAMES[value]
        else:
            b.command_bucket_id = str_to_u32(value)
            if b.command_bucket_id > BUCKET_MAX and b.command_bucket_id not in (
                    BUCKET_FIRST, BUCKET_LAST, BUCKET_ALL):
                raise ParseError(f"invalid command bucket id {b.command_bucket_id}")
        if b.command_bucket_id == BUCKET_ALL and not fields & _F_CMD_BUCKET_ALL:
            raise ParseError("command_bucket_id=all is not permitted")
    elif name == "group_id":
        if value == "all":
            b.group_id = OFPG_ALL
        else:
            b.group_id = str_to_u32(value)
            if b.group_id != OFPG_ALL and b.group_id > OFPG_MAX:
                raise ParseError(f"invalid group id {b.group_id}")
    elif name == "type":
        if not fields & _F_TYPE:
            raise ParseError("type is not needed")
        if value not in _TYPES:
            raise ParseError(f"invalid group type {value}")
        b.type = _TYPES[value]
        return True
    elif name == "selection_method":
        if not fields & _F_TYPE:
            raise ParseError("selection method is not needed")
        if len(value.encode()) >= NTR_MAX_SELECTION_METHOD_LEN:
            raise ParseError(f"selection method is longer than "
                             f"{NTR_MAX_SELECTION_METHOD_LEN - 1} bytes long")
        b.method = value
        b.usable &= _OF15_OR_NX
    elif name == "selection_method_param":
        if not fields & _F_TYPE:
            raise ParseError("selection method param is not needed")
        b.param = str_to_u64(value)
        b.usable &= _OF15_OR_NX
    elif name == "fields":
        if not fields & _F_TYPE:
            raise ParseError("fields are not needed")
        _parse_fields(value, b, port_map)
        b.usable &= _OF15_OR_NX
    else:
        raise ParseError(f"unknown keyword {name}")
    return False


def _parse_bucket(text: str, group_type: int, b: _Builder, ctx: ParseCtx) -> Bucket:
    """``parse_bucket_str``: a bucket's keywords and actions."""
    weight = 1 if group_type == GT_SELECT else 0
    watch_port, watch_group, bucket_id = OFPP_ANY, OFPG_ANY, BUCKET_ALL
    actions: list[str] = []
    pos = 0
    while (item := parse_key_value(text, pos)) is not None:
        key, value, pos = item
        lkey = key.lower()
        if lkey == "weight":
            weight = str_to_u16(value, "weight")
        elif lkey == "watch_port":
            port = parse_port(value, ctx.port_map)
            if port is None or (port >= OFPP_MAX and port not in (OFPP_ANY, OFPP_CONTROLLER)):
                raise ParseError(f"{value}: invalid watch_port")
            watch_port = port
        elif lkey == "watch_group":
            watch_group = str_to_u32(value)
            if watch_group > OFPG_MAX:
                raise ParseError(f"invalid watch_group id {watch_group}")
        elif lkey == "bucket_id":
            bucket_id = str_to_u32(value)
            if bucket_id > BUCKET_MAX:
                raise ParseError(f"invalid bucket_id id {bucket_id}")
            b.usable &= _OF15_OR_NX
        elif lkey in ("action", "actions"):
            actions.append(value)
        else:
            actions.append(f"{key}({value})")
    if not actions:
        raise ParseError("bucket must specify actions")
    bucket = Bucket((), weight, watch_port, watch_group, bucket_id)
    if group_type == GT_FF and not bucket.has_liveness:
        raise ParseError("fast failover bucket requires watch_port or watch_group")
    # OVS's action parser starts its usable protocols afresh, so a bucket's
    # actions decide them: what the group's keywords and the bucket's own
    # (selection method, bucket_id) restricted is forgotten.  ovs-ofctl 3.1
    # behaves so (a group with buckets and a selection method goes out in
    # OpenFlow 1.3), and pyovs-ofctl must too.
    ctx.usable = ANY
    parsed = parse_actions(",".join(actions), ctx, allow_instructions=False)
    b.usable = ctx.usable
    return replace(bucket, actions=parsed)


def parse_group_mod(text: str, command: int, port_map: dict[str, int] | None = None,
                    table_map: dict[str, int] | None = None) -> tuple[GroupMod, int]:
    """A group mod and its usable protocols from text; ``ParseError`` as OVS words it."""
    if command == LINE_COMMAND:
        command, text = _line_command(text)
    fields = _COMMAND_FIELDS[command]
    b = _Builder(command)
    if command in (GC_INSERT_BUCKET, GC_REMOVE_BUCKET):
        b.usable &= _OF15_OR_NX
    if command == GC_DELETE and not text:
        return GroupMod(command, OFPG_ALL), b.usable

    at = text.find("bucket=")
    head, buckets_text = (text, None) if at < 0 else (text[:at], text[at:])
    if buckets_text is not None and not fields & _F_BUCKETS:
        raise ParseError("bucket is not needed")
    had_type = had_cmd_bucket = False
    pos = 0
    while (item := parse_key_value(head, pos)) is not None:
        name, value, pos = item
        had_type |= _parse_group_keyword(name, value, fields, b, port_map)
        had_cmd_bucket |= name == "command_bucket_id"
    if b.group_id == OFPG_ANY:
        raise ParseError("must specify a group_id")
    if fields & _F_TYPE and not had_type:
        raise ParseError("must specify a type")
    if b.method != "hash" and b.fields:
        raise ParseError('fields may only be specified with "selection_method=hash"')
    if not b.method and b.param:
        raise ParseError('selection_method_param is only allowed with "selection_method"')
    if fields & _F_CMD_BUCKET:
        if not (fields & _F_CMD_BUCKET_ALL or had_cmd_bucket):
            raise ParseError("must specify a command bucket id")
    elif had_cmd_bucket:
        raise ParseError("command bucket id is not needed")

    buckets: list[Bucket] = []
    ctx = ParseCtx(port_map=port_map, table_map=table_map)
    rest = buckets_text
    while rest is not None:
        eq = rest.find("=", 1)
        if eq < 0:
            raise ParseError("must specify bucket content")
        body = rest[eq + 1:]
        nxt = body.find("bucket=")
        this, rest = (body, None) if nxt < 0 else (body[:nxt], body[nxt:])
        bucket = _parse_bucket(this, b.type, b, ctx)
        buckets.append(bucket)
        if command != GC_INSERT_BUCKET and b.type != GT_SELECT and bucket.weight:
            raise ParseError("Only select groups can have bucket weights.")
    if b.type == GT_INDIRECT and len(buckets) > 1:
        raise ParseError("Indirect groups can have at most one bucket.")
    selection = SelectionMethod(b.method, b.param,
                                tuple(b.fields[k] for k in sorted(b.fields)))
    return GroupMod(command, b.group_id, b.type, tuple(buckets), b.command_bucket_id,
                    selection), b.usable


def assign_bucket_ids(gm: GroupMod) -> GroupMod:
    """Give buckets without an id the lowest free ids, as OVS's 1.5 encoder does.

    OVS marks as used only the explicit ids of the buckets after the first
    one without an id, then hands out the lowest free id to each bucket
    that lacks one.
    """
    missing = [i for i, bk in enumerate(gm.buckets) if bk.bucket_id > BUCKET_MAX]
    if not missing:
        return gm
    used = {bk.bucket_id for bk in gm.buckets[missing[0] + 1:] if bk.bucket_id <= BUCKET_MAX}
    next_id = 0
    out = list(gm.buckets)
    for i in missing:
        while next_id in used:
            next_id += 1
        out[i] = replace(out[i], bucket_id=next_id)
        used.add(next_id)
    return replace(gm, buckets=tuple(out))
