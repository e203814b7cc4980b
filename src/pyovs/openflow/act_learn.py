"""The Nicira ``learn`` action: add a flow built from the current packet.

``learn(table=1,idle_timeout=10,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=
NXM_OF_ETH_SRC[],load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15],output:reg0)``
carries the new flow's parameters and a list of *specs*, each copying a
subfield or an immediate value into a match field, a load, or an output.
On the wire (``NXAST_LEARN``, or ``NXAST_LEARN2`` with a limit or a result
bit) each spec is a 16-bit header -- n_bits, source type (field or
immediate) and destination type (match, load, output) -- followed by its
operands; a zero header ends the list.  Parsing and printing follow OVS's
``lib/learn.c``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .act_wire import (
    U16,
    U32,
    atoi,
    field_from_nxm32,
    format_table,
    header_bytes,
    nxm32,
    parse_table,
    pull_header,
    zeros,
)
from .action_table import pad_action, put_raw
from .actions import Action, FmtCtx, ParseCtx
from .ctext import parse_key_value, strtoull
from .errors import OFError, OFPErr, ParseError
from .subfield import Subfield, format_subfield, parse_subfield, parse_subfield_prefix
from .values import format_value, hex_bytes, parse_int_string, parse_value

NX_LEARN_F_SEND_FLOW_REM: Final = 1
NX_LEARN_F_DELETE_LEARNED: Final = 2
NX_LEARN_F_WRITE_RESULT: Final = 4
SRC_FIELD, SRC_IMMEDIATE = 0, 1 << 13
DST_MATCH, DST_LOAD, DST_OUTPUT = 0, 1 << 11, 2 << 11
OFP_FLOW_PERMANENT: Final = 0
OFP_DEFAULT_PRIORITY: Final = 0x8000
LEARN: Final = struct.Struct("!HHHQHBxHH")
"""idle_timeout, hard_timeout, priority, cookie, flags, table_id, pad, fin_idle, fin_hard."""


@dataclass(frozen=True, slots=True)
class LearnSpec:
    """One field of the learned flow."""

    src_type: int
    """SRC_FIELD or SRC_IMMEDIATE."""
    dst_type: int
    """DST_MATCH, DST_LOAD or DST_OUTPUT."""
    n_bits: int
    src: Subfield | None = None
    dst: Subfield | None = None
    imm: int = 0


@dataclass(frozen=True, slots=True)
class Learn(Action):
    """NXAST_LEARN / NXAST_LEARN2."""

    specs: tuple[LearnSpec, ...] = ()
    table_id: int = 1
    idle_timeout: int = OFP_FLOW_PERMANENT
    hard_timeout: int = OFP_FLOW_PERMANENT
    fin_idle_timeout: int = 0
    fin_hard_timeout: int = 0
    priority: int = OFP_DEFAULT_PRIORITY
    cookie: int = 0
    flags: int = 0
    limit: int = 0
    result_dst: Subfield | None = None
    raw: str = ""


def _min_len(header: int) -> int:
    n_bits = header & 0x3FF
    length = 6 if header & SRC_IMMEDIATE == SRC_FIELD else 2 * ((n_bits + 15) // 16)
    if header & (3 << 11) in (DST_MATCH, DST_LOAD):
        length += 6
    return length


def _decode_specs(b: memoryview, pos: int) -> tuple[LearnSpec, ...]:
    specs = []
    end = len(b)
    while pos + 2 <= end:
        header = U16.unpack_from(b, pos)[0]
        if not header:
            break
        pos += 2
        src_type, dst_type, n_bits = header & SRC_IMMEDIATE, header & (3 << 11), header & 0x3FF
        if not (dst_type in (DST_MATCH, DST_LOAD)
                or (dst_type == DST_OUTPUT and src_type == SRC_FIELD)):
            raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "learn spec types")
        if end - pos < _min_len(header):
            raise OFError(OFPErr.OFPBAC_BAD_LEN, "learn spec overruns the action")
        src = dst = None
        imm = 0
        if src_type == SRC_FIELD:
            field_hdr, ofs = struct.unpack_from("!IH", b, pos)
            src = Subfield(field_from_nxm32(field_hdr), ofs, n_bits)
            pos += 6
        else:
            p_bytes = 2 * ((n_bits + 15) // 16)
            imm = int.from_bytes(b[pos:pos + p_bytes], "big") & ((1 << (8 * (
                (n_bits + 7) // 8))) - 1)
            pos += p_bytes
        if dst_type in (DST_MATCH, DST_LOAD):
            field_hdr, ofs = struct.unpack_from("!IH", b, pos)
            dst = Subfield(field_from_nxm32(field_hdr), ofs, n_bits)
            pos += 6
        specs.append(LearnSpec(src_type, dst_type, n_bits, src, dst, imm))
    if not zeros(b[pos:]):
        raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "learn trailing bytes")
    return tuple(specs)


def _dec_learn(raw: str) -> Callable[[int, memoryview, int], list[Action]]:
    def dec(v: int, b: memoryview, arg: int) -> list[Action]:
        idle, hard, prio, cookie, flags, table, fin_idle, fin_hard = LEARN.unpack_from(b, 10)
        if b[27]:
            raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "learn pad")
        if table == 0xFF:
            raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "learn into table 255")
        limit = 0
        result_dst = None
        pos = 32
        if raw == "NXAST_LEARN":
            if flags & ~3:
                raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "learn flags")
        else:
            limit, result_ofs, pad2 = struct.unpack_from("!IHH", b, 32)
            if pad2:
                raise OFError(OFPErr.NXBAC_MUST_BE_ZERO, "learn2 pad")
            if flags & ~7:
                raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "learn flags")
            pos = 40
            if flags & NX_LEARN_F_WRITE_RESULT:
                f, hasmask, _, pos = pull_header(b, pos, len(b))
                if hasmask:
                    raise OFError(OFPErr.OFPBMC_BAD_MASK, "masked learn result")
                if not f.writable:
                    raise OFError(OFPErr.OFPBAC_BAD_SET_ARGUMENT, "learn result read-only")
                result_dst = Subfield(f, result_ofs, 1)
            elif result_ofs:
                raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "learn result offset")
        specs = _decode_specs(b, pos)
        return [Learn(specs, table, idle, hard, fin_idle, fin_hard, prio, cookie, flags, limit,
                      result_dst, raw)]
    return dec


def _enc_learn(a: Action, v: int) -> bytes:
    assert isinstance(a, Learn)
    two = a.raw == "NXAST_LEARN2" or a.limit or a.flags & NX_LEARN_F_WRITE_RESULT
    out = put_raw("NXAST_LEARN2" if two else "NXAST_LEARN", v)
    LEARN.pack_into(out, 10, a.idle_timeout, a.hard_timeout, a.priority, a.cookie, a.flags,
                    a.table_id, a.fin_idle_timeout, a.fin_hard_timeout)
    if two:
        struct.pack_into("!IH", out, 32, a.limit, a.result_dst.ofs if a.result_dst else 0)
    if a.flags & NX_LEARN_F_WRITE_RESULT and a.result_dst is not None:
        out += header_bytes(a.result_dst.field)
    for spec in a.specs:
        out += U16.pack(spec.n_bits | spec.dst_type | spec.src_type)
        if spec.src_type == SRC_FIELD:
            assert spec.src is not None
            out += U32.pack(nxm32(spec.src.field)) + U16.pack(spec.src.ofs)
        else:
            out += spec.imm.to_bytes(2 * ((spec.n_bits + 15) // 16), "big")
        if spec.dst_type in (DST_MATCH, DST_LOAD):
            assert spec.dst is not None
            out += U32.pack(nxm32(spec.dst.field)) + U16.pack(spec.dst.ofs)
    pad_action(out, 0)
    return bytes(out)


def _fmt_learn(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, Learn)
    text = "learn(table=" + format_table(a.table_id, ctx.table_names)
    if a.idle_timeout != OFP_FLOW_PERMANENT:
        text += f",idle_timeout={a.idle_timeout}"
    if a.hard_timeout != OFP_FLOW_PERMANENT:
        text += f",hard_timeout={a.hard_timeout}"
    if a.fin_idle_timeout:
        text += f",fin_idle_timeout={a.fin_idle_timeout}"
    if a.fin_hard_timeout:
        text += f",fin_hard_timeout={a.fin_hard_timeout}"
    if a.priority != OFP_DEFAULT_PRIORITY:
        text += f",priority={a.priority}"
    if a.flags & NX_LEARN_F_SEND_FLOW_REM:
        text += ",send_flow_rem"
    if a.flags & NX_LEARN_F_DELETE_LEARNED:
        text += ",delete_learned"
    if a.cookie:
        text += f",cookie={a.cookie:#x}"
    if a.limit:
        text += f",limit={a.limit}"
    if a.flags & NX_LEARN_F_WRITE_RESULT and a.result_dst is not None:
        text += ",result_dst=" + format_subfield(a.result_dst)
    for s in a.specs:
        text += ","
        kind = s.src_type | s.dst_type
        if kind == SRC_IMMEDIATE | DST_MATCH:
            assert s.dst is not None
            if s.dst.ofs == 0 and s.dst.n_bits == s.dst.field.n_bits:
                value = format_value(s.dst.field, s.imm, None, ctx.port_names)
                text += f"{s.dst.field.name}={value}"
            else:
                text += f"{format_subfield(s.dst)}={hex_bytes(s.imm)}"
        elif kind == SRC_FIELD | DST_MATCH:
            assert s.src is not None and s.dst is not None
            text += format_subfield(s.dst)
            if s.src.field is not s.dst.field or s.src.ofs != s.dst.ofs:
                text += "=" + format_subfield(s.src)
        elif kind == SRC_IMMEDIATE | DST_LOAD:
            assert s.dst is not None
            text += f"load:{hex_bytes(s.imm)}->{format_subfield(s.dst)}"
        elif kind == SRC_FIELD | DST_LOAD:
            assert s.src is not None and s.dst is not None
            text += f"load:{format_subfield(s.src)}->{format_subfield(s.dst)}"
        else:
            assert s.src is not None
            text += "output:" + format_subfield(s.src)
    return text + ")"


def _parse_spec(orig: str, name: str, value: str, ctx: ParseCtx) -> LearnSpec:
    try:
        dst = parse_subfield(name)
    except ParseError:
        dst = None
    if dst is not None:
        if not nxm32(dst.field):
            raise ParseError(f"{orig}: experimenter OXM field '{name}' not supported")
        if not value:
            return LearnSpec(SRC_FIELD, DST_MATCH, dst.n_bits, dst, dst)
        try:
            src = parse_subfield(value)
        except ParseError as src_error:
            try:
                if dst.ofs == 0 and dst.n_bits == dst.field.n_bits:
                    imm, mask = parse_value(dst.field, value, ctx.port_map)
                    if mask != dst.field.all_ones:
                        raise ParseError(f"{value}: wildcards not allowed here") from None
                else:
                    imm, end, err = parse_int_string(value, dst.field.n_bytes)
                    if err or end != len(value):
                        raise ParseError(f"{orig}: cannot parse integer value") from None
                    if imm >> dst.n_bits:
                        raise ParseError(f"{orig}: value {format_value(dst.field, imm)} "
                                         f"does not fit into {dst.n_bits} bits") from None
            except ParseError as imm_error:
                raise ParseError(f"{orig}: {name} value {value} cannot be parsed as a subfield "
                                 f"({src_error}) or an immediate value ({imm_error})") from None
            return LearnSpec(SRC_IMMEDIATE, DST_MATCH, dst.n_bits, None, dst,
                             imm & ((1 << (8 * ((dst.n_bits + 7) // 8))) - 1))
        if src.n_bits != dst.n_bits:
            raise ParseError(f"{orig}: bit widths of {name} ({src.n_bits}) and {value} "
                             f"({dst.n_bits}) differ")
        return LearnSpec(SRC_FIELD, DST_MATCH, dst.n_bits, src, dst)
    if name == "load":
        arrow = value.find("->")
        if arrow == 0:
            raise ParseError(f"{name}: missing source before `->' in `{value}'")
        if arrow < 0:
            raise ParseError(f"{name}: missing `->' in `{value}'")
        imm, end, err = parse_int_string(value, 128)
        if not err and end != 0:
            if end != arrow:
                raise ParseError(f"{name}: garbage before `->' in `{value}'")
            load_dst = parse_subfield(value[arrow + 2:])
            if not nxm32(load_dst.field):
                raise ParseError(f"{value}: experimenter OXM field '{value[arrow + 2:]}' "
                                 "not supported")
            if imm >> load_dst.n_bits:
                raise ParseError(f"{value}: value does not fit into {load_dst.n_bits} bits")
            return LearnSpec(SRC_IMMEDIATE, DST_LOAD, load_dst.n_bits, None, load_dst, imm)
        src, pos = parse_subfield_prefix(value)
        if not value.startswith("->", pos):
            raise ParseError(f"{value}: missing `->' following source")
        mdst = parse_subfield(value[pos + 2:])
        if src.n_bits != mdst.n_bits:
            raise ParseError(f"{value}: source field is {src.n_bits} bits wide but destination "
                             f"is {mdst.n_bits} bits wide")
        return LearnSpec(SRC_FIELD, DST_LOAD, src.n_bits, src, mdst)
    if name == "output":
        src = parse_subfield(value)
        return LearnSpec(SRC_FIELD, DST_OUTPUT, src.n_bits, src)
    raise ParseError(f"{orig}: unknown keyword {name}")


def _parse_learn(arg: str, ctx: ParseCtx) -> list[Action]:
    table, idle, hard, fin_idle, fin_hard = 1, 0, 0, 0, 0
    priority, cookie, flags, limit = OFP_DEFAULT_PRIORITY, 0, 0, 0
    result_dst: Subfield | None = None
    specs: list[LearnSpec] = []
    pos = 0
    while (item := parse_key_value(arg, pos)) is not None:
        name, value, pos = item
        if name == "table":
            t = parse_table(value, ctx.table_map)
            if t is None:
                raise ParseError(f'unknown table "{value}"')
            if t == 255:
                raise ParseError(f"{arg}: table id 255 not valid for `learn' action")
            table = t
        elif name == "priority":
            priority = atoi(value) & 0xFFFF
        elif name == "idle_timeout":
            idle = atoi(value) & 0xFFFF
        elif name == "hard_timeout":
            hard = atoi(value) & 0xFFFF
        elif name == "fin_idle_timeout":
            fin_idle = atoi(value) & 0xFFFF
        elif name == "fin_hard_timeout":
            fin_hard = atoi(value) & 0xFFFF
        elif name == "cookie":
            cookie = strtoull(value, 0)[0]
        elif name == "send_flow_rem":
            flags |= NX_LEARN_F_SEND_FLOW_REM
        elif name == "delete_learned":
            flags |= NX_LEARN_F_DELETE_LEARNED
        elif name == "limit":
            limit = atoi(value) & 0xFFFFFFFF
        elif name == "result_dst":
            flags |= NX_LEARN_F_WRITE_RESULT
            result_dst = parse_subfield(value)
            if not result_dst.field.writable:
                raise ParseError(f"{value} is read-only")
            if result_dst.n_bits != 1:
                raise ParseError("result_dst in 'learn' action must be a single bit")
        else:
            specs.append(_parse_spec(arg, name, value, ctx))
    return [Learn(tuple(specs), table, idle, hard, fin_idle, fin_hard, priority, cookie, flags,
                  limit, result_dst)]


DECODERS: Final[dict[str, Callable[[int, memoryview, int], list[Action]]]] = {
    "NXAST_LEARN": _dec_learn("NXAST_LEARN"),
    "NXAST_LEARN2": _dec_learn("NXAST_LEARN2"),
}
ENCODERS: Final[dict[type, Callable[[Action, int], bytes]]] = {Learn: _enc_learn}
FORMATTERS: Final[dict[type, Callable[[Action, FmtCtx], str]]] = {Learn: _fmt_learn}
PARSERS: Final[dict[str, Callable[[str, ParseCtx], list[Action]]]] = {"learn": _parse_learn}
