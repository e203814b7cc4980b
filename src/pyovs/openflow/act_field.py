"""Field actions: set_field, load (reg_load, reg_load2), move (reg_move, copy_field), push/pop.

The encoding rules are OVS's ``encode_SET_FIELD``: OpenFlow 1.5 always uses
set-field; a value that arrived as Nicira ``reg_load`` leaves that way,
split along its mask into runs of at most 64 bits (``load_segments``);
OpenFlow 1.0/1.1 fall back to the legacy rewrite actions where one exists
and to ``reg_load`` otherwise; 1.2-1.4 use set-field for exact values and
``reg_load`` for masked ones.  ``move`` is Nicira ``reg_move`` except in
1.5 (``copy_field``) and in 1.3 when it arrived as ONF ``copy_field``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final

from .act_std import enc_ecn
from .act_wire import (
    OFPVID12_PRESENT,
    U16,
    Dec,
    check_subfield,
    decode_ofs_nbits,
    field_from_nxm32,
    header_bytes,
    nxm32,
    pull_entry,
    pull_header,
    put_entry,
    put_reg_load,
    split_arrow,
    zeros,
)
from .action_table import pad_action, put_raw
from .actions import (
    Action,
    FmtCtx,
    ParseCtx,
    RegMove,
    SetField,
    SetIpEcn,
    StackPop,
    StackPush,
)
from .errors import OFError, OFPErr, ParseError
from .fields import FIELD_BY_NAME
from .fieldtypes import Field
from .subfield import Subfield, format_subfield, parse_subfield, parse_subfield_prefix
from .values import (
    format_value,
    hex_bytes,
    parse_int_string,
    parse_value,
)


def load_segments(f: Field, value: int, mask: int) -> list[tuple[Subfield, int]]:
    """OVS ``next_load_segment``: the mask's runs of ones, at most 64 bits each."""
    out = []
    ofs = 0
    n = f.n_bits
    while ofs < n:
        while ofs < n and not mask >> ofs & 1:
            ofs += 1
        if ofs >= n:
            break
        end = ofs
        limit = min(ofs + 64, n)
        while end < limit and mask >> end & 1:
            end += 1
        n_bits = end - ofs
        out.append((Subfield(f, ofs, n_bits), (value >> ofs) & ((1 << n_bits) - 1)))
        ofs = end
    return out


def _set_field_to_nxast(a: SetField, v: int) -> bytes:
    if a.raw == "NXAST_REG_LOAD2" or not nxm32(a.field) or a.field.variable:
        out = bytearray(put_raw("NXAST_REG_LOAD2", v)[:10])
        out += put_entry(a.field, 0, a.value, a.mask)
        pad_action(out, 0)
        return bytes(out)
    return b"".join(put_reg_load(sf, value) for sf, value in load_segments(a.field, a.value,
                                                                            a.mask))


def _set_field_to_legacy(a: SetField, v: int) -> bytes:
    name = a.field.name
    value = a.value
    if name == "vlan_tci":
        cfi = bool(value & 0x1000)
        vid, pcp = value & 0xFFF, value >> 13
        if v == 1:
            if cfi:
                return bytes(put_raw("OFPAT10_SET_VLAN_VID", v, vid)
                             + put_raw("OFPAT10_SET_VLAN_PCP", v, pcp))
            return bytes(put_raw("OFPAT10_STRIP_VLAN", v))
        if cfi:
            out = b"" if a.flow_has_vlan else bytes(put_raw("OFPAT11_PUSH_VLAN", v, 0x8100))
            return out + bytes(put_raw("OFPAT11_SET_VLAN_VID", v, vid)
                               + put_raw("OFPAT11_SET_VLAN_PCP", v, pcp))
        return bytes(put_raw("OFPAT11_POP_VLAN", v))
    if name == "vlan_vid":
        return bytes(put_raw("OFPAT10_SET_VLAN_VID" if v == 1 else "OFPAT11_SET_VLAN_VID", v,
                             value & 0xFFF))
    if name == "vlan_pcp":
        return bytes(put_raw("OFPAT10_SET_VLAN_PCP" if v == 1 else "OFPAT11_SET_VLAN_PCP", v,
                             value))
    if name in ("eth_src", "eth_dst"):
        dl = put_raw("OFPAT_SET_DL_SRC" if name == "eth_src" else "OFPAT_SET_DL_DST", v)
        dl[4:10] = value.to_bytes(6, "big")
        return bytes(dl)
    simple = {"ip_src": ("OFPAT_SET_NW_SRC", 0), "ip_dst": ("OFPAT_SET_NW_DST", 0),
              "nw_tos": ("OFPAT_SET_NW_TOS", 0), "ip_dscp": ("OFPAT_SET_NW_TOS", 2),
              "tcp_src": ("OFPAT_SET_TP_SRC", 0), "udp_src": ("OFPAT_SET_TP_SRC", 0),
              "tcp_dst": ("OFPAT_SET_TP_DST", 0), "udp_dst": ("OFPAT_SET_TP_DST", 0)}
    if name in simple:
        raw, shift = simple[name]
        return bytes(put_raw(raw, v, value << shift))
    if name == "nw_ecn":
        return enc_ecn(SetIpEcn(value), v)
    return _set_field_to_nxast(a, v)


def _set_field_to_set_field(a: SetField, v: int) -> bytes:
    out = bytearray(put_raw("OFPAT12_SET_FIELD" if v < 6 else "OFPAT15_SET_FIELD", v)[:4])
    out += put_entry(a.field, v, a.value, a.mask)
    pad_action(out, 0)
    return bytes(out)


def _enc_set_field(a: Action, v: int) -> bytes:
    assert isinstance(a, SetField)
    if v >= 6:
        return _set_field_to_set_field(a, v)
    if a.raw in ("NXAST_REG_LOAD", "NXAST_REG_LOAD2"):
        return _set_field_to_nxast(a, v)
    if v < 3:
        return _set_field_to_legacy(a, v)
    if a.mask == a.field.all_ones:
        return _set_field_to_set_field(a, v)
    return _set_field_to_nxast(a, v)


def _dec_set_field(may_mask: bool) -> Dec:
    def dec(v: int, b: memoryview, arg: int) -> list[Action]:
        try:
            f, value, mask, pos = pull_entry(b, 4, len(b), may_mask, action=True)
        except OFError as e:
            if e.error is OFPErr.OFPBMC_BAD_MASK:
                raise OFError(OFPErr.OFPBAC_BAD_SET_MASK, "masked set-field") from None
            raise
        if not may_mask:
            mask = f.all_ones
        if not zeros(b[pos:]):
            raise OFError(OFPErr.OFPBAC_BAD_SET_ARGUMENT, "set-field padding")
        if f.name == "in_port_oxm" or not f.writable:
            raise OFError(OFPErr.OFPBAC_BAD_SET_ARGUMENT, f"cannot set {f.name}")
        from .match import value_is_valid
        if not value_is_valid(f, value) or (
                f.name == "vlan_vid" and not (mask & value & OFPVID12_PRESENT)):
            raise OFError(OFPErr.OFPBAC_BAD_SET_ARGUMENT, f"bad value for {f.name}")
        return [SetField(f, value, mask)]
    return dec


def _dec_reg_load(v: int, b: memoryview, arg: int) -> list[Action]:
    ofs_nbits, dst, value = struct.unpack_from("!HIQ", b, 10)
    ofs, n_bits = decode_ofs_nbits(ofs_nbits)
    sf = Subfield(field_from_nxm32(dst), ofs, n_bits)
    check_subfield(sf, dst=True)
    if n_bits < 64 and value >> n_bits:
        raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "reg_load value too wide")
    return [SetField(sf.field, value << ofs, ((1 << n_bits) - 1) << ofs, "NXAST_REG_LOAD")]


def _dec_reg_load2(v: int, b: memoryview, arg: int) -> list[Action]:
    f, value, mask, pos = pull_entry(b, 10, len(b), True, action=True)
    if not zeros(b[pos:]):
        raise OFError(OFPErr.OFPBAC_BAD_SET_ARGUMENT, "reg_load2 padding")
    if not f.writable:
        raise OFError(OFPErr.OFPBAC_BAD_SET_ARGUMENT, f"cannot set {f.name}")
    return [SetField(f, value, mask, "NXAST_REG_LOAD2")]


def _fmt_set_field(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, SetField)
    if a.raw == "NXAST_REG_LOAD":
        return ",".join(f"load:{hex_bytes(value) if value else '0'}->{format_subfield(sf)}"
                        for sf, value in load_segments(a.field, a.value, a.mask))
    return f"set_field:{format_value(a.field, a.value, a.mask, ctx.port_names)}->{a.field.name}"




def _parse_set_field(arg: str, ctx: ParseCtx) -> list[Action]:
    value_text, key = split_arrow(arg)
    f = FIELD_BY_NAME.get(key)
    if f is None:
        raise ParseError(f"{key} is not a valid OXM field name")
    if not f.writable:
        raise ParseError(f"{key} is read-only")
    value, mask = parse_value(f, value_text, ctx.port_map)
    from .match import value_is_valid
    if not value_is_valid(f, value):
        raise ParseError(f"{value_text} is not a valid value for field {key}")
    ctx.usable &= f.usable[0]
    return [SetField(f, value, mask)]


def _parse_load(arg: str, ctx: ParseCtx) -> list[Action]:
    value_text, key = split_arrow(arg)
    dst = parse_subfield(key)
    value, end, err = parse_int_string(value_text, dst.field.n_bytes)
    if err or end != len(value_text):
        raise ParseError(f"{arg}: cannot parse integer value")
    if value >> dst.n_bits:
        raise ParseError(f"{arg}: value {format_value(dst.field, value)} does not fit into "
                         f"{dst.n_bits} bits")
    return [SetField(dst.field, value << dst.ofs, ((1 << dst.n_bits) - 1) << dst.ofs,
                     "NXAST_REG_LOAD")]


def _dec_move(raw: str, hdr_ofs: int) -> Dec:
    def dec(v: int, b: memoryview, arg: int) -> list[Action]:
        if raw == "NXAST_REG_MOVE":
            n_bits, src_ofs, dst_ofs = struct.unpack_from("!HHH", b, 10)
        elif raw == "ONFACT13_COPY_FIELD":
            n_bits, src_ofs, dst_ofs = struct.unpack_from("!HHH", b, 12)
        else:
            n_bits, src_ofs, dst_ofs = struct.unpack_from("!HHH", b, 4)
        src_f, _, _, pos = pull_header(b, hdr_ofs, len(b), exact=True)
        dst_f, _, _, pos = pull_header(b, pos, len(b), exact=True)
        if not zeros(b[pos:]):
            raise OFError(OFPErr.NXBRC_MUST_BE_ZERO, "move padding")
        src, dst = Subfield(src_f, src_ofs, n_bits), Subfield(dst_f, dst_ofs, n_bits)
        check_subfield(src)
        check_subfield(dst, dst=True)
        return [RegMove(src, dst, "NXAST_REG_MOVE" if raw == "NXAST_REG_MOVE"
                        else "ONFACT13_COPY_FIELD")]
    return dec


def _enc_move(a: Action, v: int) -> bytes:
    assert isinstance(a, RegMove)
    if v >= 6:
        out = put_raw("OFPAT15_COPY_FIELD", v)[:12]
        struct.pack_into("!HHH", out, 4, a.dst.n_bits, a.src.ofs, a.dst.ofs)
        hv = v
    elif v == 4 and a.raw == "ONFACT13_COPY_FIELD":
        out = put_raw("ONFACT13_COPY_FIELD", v)[:20]
        struct.pack_into("!HHH", out, 12, a.dst.n_bits, a.src.ofs, a.dst.ofs)
        hv = v
    else:
        out = put_raw("NXAST_REG_MOVE", v)
        struct.pack_into("!HHH", out, 10, a.dst.n_bits, a.src.ofs, a.dst.ofs)
        hv = 0
    out += header_bytes(a.src.field, hv) + header_bytes(a.dst.field, hv)
    pad_action(out, 0)
    return bytes(out)


def _parse_move(arg: str, ctx: ParseCtx) -> list[Action]:
    src, pos = parse_subfield_prefix(arg)
    if not arg.startswith("->", pos):
        raise ParseError(f"{arg}: missing `->' following source")
    dst = parse_subfield(arg[pos + 2:])
    if src.n_bits != dst.n_bits:
        raise ParseError(f"{arg}: source field is {src.n_bits} bits wide but destination is "
                         f"{dst.n_bits} bits wide")
    return [RegMove(src, dst)]


def _fmt_move(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, RegMove)
    return f"move:{format_subfield(a.src)}->{format_subfield(a.dst)}"


def _dec_stack(push: bool) -> Dec:
    def dec(v: int, b: memoryview, arg: int) -> list[Action]:
        ofs = U16.unpack_from(b, 10)[0]
        f, _, _, pos = pull_header(b, 12, len(b), exact=True)
        n_bits = U16.unpack_from(b, pos)[0]
        if not zeros(b[pos + 2:]):
            raise OFError(OFPErr.NXBRC_MUST_BE_ZERO, "stack padding")
        sf = Subfield(f, ofs, n_bits)
        check_subfield(sf, dst=not push)
        return [StackPush(sf) if push else StackPop(sf)]
    return dec


def _enc_stack(a: Action, v: int) -> bytes:
    assert isinstance(a, (StackPush, StackPop))
    out = put_raw("NXAST_STACK_PUSH" if isinstance(a, StackPush) else "NXAST_STACK_POP", v)
    U16.pack_into(out, 10, a.subfield.ofs)
    hdr = header_bytes(a.subfield.field) + U16.pack(a.subfield.n_bits)
    out[12:12 + len(hdr)] = hdr
    return bytes(out)


def _parse_stack(push: bool) -> Callable[[str, ParseCtx], list[Action]]:
    def parse(arg: str, ctx: ParseCtx) -> list[Action]:
        sf, pos = parse_subfield_prefix(arg)
        if pos != len(arg):
            raise ParseError(f"{arg[pos:]}: trailing garbage following push or pop")
        return [StackPush(sf) if push else StackPop(sf)]
    return parse


def _fmt_stack(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, (StackPush, StackPop))
    return f"{'push' if isinstance(a, StackPush) else 'pop'}:{format_subfield(a.subfield)}"


DECODERS: Final[dict[str, Dec]] = {
    "OFPAT12_SET_FIELD": _dec_set_field(False),
    "OFPAT15_SET_FIELD": _dec_set_field(True),
    "NXAST_REG_LOAD": _dec_reg_load,
    "NXAST_REG_LOAD2": _dec_reg_load2,
    "NXAST_REG_MOVE": _dec_move("NXAST_REG_MOVE", 16),
    "ONFACT13_COPY_FIELD": _dec_move("ONFACT13_COPY_FIELD", 20),
    "OFPAT15_COPY_FIELD": _dec_move("OFPAT15_COPY_FIELD", 12),
    "NXAST_STACK_PUSH": _dec_stack(True),
    "NXAST_STACK_POP": _dec_stack(False),
}

ENCODERS: Final[dict[type, Callable[[Action, int], bytes]]] = {
    SetField: _enc_set_field,
    RegMove: _enc_move,
    StackPush: _enc_stack,
    StackPop: _enc_stack,
}

FORMATTERS: Final[dict[type, Callable[[Action, FmtCtx], str]]] = {
    SetField: _fmt_set_field,
    RegMove: _fmt_move,
    StackPush: _fmt_stack,
    StackPop: _fmt_stack,
}

PARSERS: Final[dict[str, Callable[[str, ParseCtx], list[Action]]]] = {
    "set_field": _parse_set_field,
    "move": _parse_move,
    "load": _parse_load,
    "push": _parse_stack(True),
    "pop": _parse_stack(False),
}

