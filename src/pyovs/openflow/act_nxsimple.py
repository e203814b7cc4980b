"""Simple Nicira actions and the instructions.

controller (``NXAST_CONTROLLER`` or the property-based ``CONTROLLER2``),
output_reg(2), resubmit (three forms), fin_timeout, note, conjunction,
check_pkt_larger, output with truncation, exit, ct_clear, and the OpenFlow
1.1+ instructions (meter, clear/write actions, write_metadata, goto_table),
which in OpenFlow 1.0 become Nicira actions or disappear, as in OVS.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final

from .act_std import parse_output
from .act_wire import (
    PACKET_IN_REASONS,
    Dec,
    check_subfield,
    const,
    decode_ofs_nbits,
    encode_ofs_nbits,
    field_from_nxm32,
    format_table,
    header_bytes,
    hex_arg,
    nullary,
    nxm32,
    parse_hex,
    parse_table,
    pull_header,
    raw_only,
    split_arrow,
    str_to_u16,
    str_to_u32,
    str_to_u64,
    tmpl,
    zeros,
)
from .action_table import pad_action, put_raw
from .actions import (
    NX_CTLR_NO_METER,
    OFPR_ACTION,
    Action,
    CheckPktLarger,
    ClearActions,
    Conjunction,
    Controller,
    CtClear,
    DebugRecirc,
    DebugSlow,
    DecNshTtl,
    Exit,
    FinTimeout,
    FmtCtx,
    GotoTable,
    Meter,
    Note,
    Output,
    OutputReg,
    OutputTrunc,
    ParseCtx,
    Resubmit,
    WriteActions,
    WriteMetadata,
)
from .errors import OFError, OFPErr, ParseError
from .ports import (
    OFPP_CONTROLLER,
    OFPP_IN_PORT,
    OFPP_LOCAL,
    OFPP_MAX,
    format_port,
    parse_port,
)
from .protocols import NXM_OF11_UP, OF13_UP
from .subfield import Subfield, format_subfield, parse_subfield

NXAC2_MAX_LEN, NXAC2_CONTROLLER_ID, NXAC2_REASON, NXAC2_USERDATA, NXAC2_PAUSE, NXAC2_METER_ID = \
    range(6)


def _dec_controller(v: int, b: memoryview, arg: int) -> list[Action]:
    max_len, controller_id, reason = struct.unpack_from("!HHB", b, 10)
    return [Controller(max_len, controller_id, reason, raw="NXAST_CONTROLLER")]


def _dec_controller2(v: int, b: memoryview, arg: int) -> list[Action]:
    if not zeros(b[10:16]):
        raise OFError(OFPErr.NXBRC_MUST_BE_ZERO, "controller2 padding")
    from .props import parse_u8, parse_u16, parse_u32, pull_props
    max_len, cid, reason, userdata, pause, meter = 0xFFFF, 0, OFPR_ACTION, b"", False, \
        NX_CTLR_NO_METER
    for type_, payload in pull_props(b[16:]):
        if type_ == NXAC2_MAX_LEN:
            max_len = parse_u16(payload)
        elif type_ == NXAC2_CONTROLLER_ID:
            cid = parse_u16(payload)
        elif type_ == NXAC2_REASON:
            reason = parse_u8(payload)
        elif type_ == NXAC2_USERDATA:
            userdata = bytes(payload)
        elif type_ == NXAC2_PAUSE:
            pause = True
        elif type_ == NXAC2_METER_ID:
            meter = parse_u32(payload)
        else:
            raise OFError(OFPErr.OFPBPC_BAD_TYPE, f"controller2 property {type_}")
    return [Controller(max_len, cid, reason, userdata, pause, meter, "NXAST_CONTROLLER2")]


def _enc_controller(a: Action, v: int) -> bytes:
    assert isinstance(a, Controller)
    if a.userdata or a.pause or a.meter_id != NX_CTLR_NO_METER or a.raw == "NXAST_CONTROLLER2":
        from .props import put_prop, put_u16, put_u32
        out = put_raw("NXAST_CONTROLLER2", v)
        if a.max_len != 0xFFFF:
            out += put_u16(NXAC2_MAX_LEN, a.max_len)
        if a.controller_id:
            out += put_u16(NXAC2_CONTROLLER_ID, a.controller_id)
        if a.reason != OFPR_ACTION:
            out += put_prop(NXAC2_REASON, bytes([a.reason]))
        if a.userdata:
            out += put_prop(NXAC2_USERDATA, a.userdata)
        if a.pause:
            out += put_prop(NXAC2_PAUSE, b"")
        if a.meter_id != NX_CTLR_NO_METER:
            out += put_u32(NXAC2_METER_ID, a.meter_id)
        pad_action(out, 0)
        return bytes(out)
    out = put_raw("NXAST_CONTROLLER", v)
    struct.pack_into("!HHB", out, 10, a.max_len, a.controller_id, a.reason)
    return bytes(out)


def reason_name(reason: int) -> str:
    if reason < len(PACKET_IN_REASONS):
        return PACKET_IN_REASONS[reason]
    return "" if reason in (6, 7) else str(reason)


def _fmt_controller(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, Controller)
    if (a.reason == OFPR_ACTION and not a.controller_id and not a.userdata and not a.pause
            and a.meter_id == NX_CTLR_NO_METER):
        return f"CONTROLLER:{a.max_len}"
    parts = []
    if a.reason != OFPR_ACTION:
        parts.append(f"reason={reason_name(a.reason)}")
    if a.max_len != 0xFFFF:
        parts.append(f"max_len={a.max_len}")
    if a.controller_id:
        parts.append(f"id={a.controller_id}")
    if a.userdata:
        parts.append(f"userdata={hex_arg(a.userdata)}")
    if a.pause:
        parts.append("pause")
    if a.meter_id != NX_CTLR_NO_METER:
        parts.append(f"meter_id={a.meter_id}")
    return "controller(" + ",".join(parts) + ")"


def _parse_controller(arg: str, ctx: ParseCtx) -> list[Action]:
    from .ctext import parse_key_value
    reason, cid, max_len, meter = OFPR_ACTION, 0, 0xFFFF, NX_CTLR_NO_METER
    userdata: bytes | None = None
    pause = False
    if arg and arg.isdigit():
        max_len = str_to_u16(arg, "max_len")
    elif arg:
        pos = 0
        while (item := parse_key_value(arg, pos)) is not None:
            name, value, pos = item
            if name == "reason":
                matches = [i for i, r in enumerate(PACKET_IN_REASONS) if r == value.lower()]
                if not matches:
                    raise ParseError(f'unknown reason "{value}"')
                reason = matches[0]
            elif name == "max_len":
                max_len = str_to_u16(value, "max_len")
            elif name == "id":
                cid = str_to_u16(value, "id")
            elif name == "userdata":
                userdata, used = parse_hex(value)
                if used != len(value):
                    raise ParseError("bad hex digit in `controller' action `userdata'")
            elif name == "pause":
                pause = True
            elif name == "meter_id":
                meter = str_to_u32(value)
            else:
                raise ParseError(f'unknown key "{name}" parsing controller action')
    if reason == OFPR_ACTION and not cid and userdata is None and not pause \
            and meter == NX_CTLR_NO_METER:
        return [Output(OFPP_CONTROLLER, max_len)]
    return [Controller(max_len, cid, reason, userdata or b"", pause, meter)]


def _dec_output_reg(v: int, b: memoryview, arg: int) -> list[Action]:
    ofs_nbits, src, max_len = struct.unpack_from("!HIH", b, 10)
    if not zeros(b[18:24]):
        raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "output_reg reserved bytes")
    ofs, n_bits = decode_ofs_nbits(ofs_nbits)
    sf = Subfield(field_from_nxm32(src), ofs, n_bits)
    check_subfield(sf)
    return [OutputReg(sf, max_len, "NXAST_OUTPUT_REG")]


def _dec_output_reg2(v: int, b: memoryview, arg: int) -> list[Action]:
    ofs_nbits, max_len = struct.unpack_from("!HH", b, 10)
    f, _, _, pos = pull_header(b, 14, len(b), exact=True)
    if not zeros(b[pos:]):
        raise OFError(OFPErr.NXBRC_MUST_BE_ZERO, "output_reg2 padding")
    ofs, n_bits = decode_ofs_nbits(ofs_nbits)
    sf = Subfield(f, ofs, n_bits)
    check_subfield(sf)
    return [OutputReg(sf, max_len, "NXAST_OUTPUT_REG2")]


def _enc_output_reg(a: Action, v: int) -> bytes:
    assert isinstance(a, OutputReg)
    ofs_nbits = encode_ofs_nbits(a.src.ofs, a.src.n_bits)
    if a.raw == "NXAST_OUTPUT_REG2" or not nxm32(a.src.field):
        out = put_raw("NXAST_OUTPUT_REG2", v)
        struct.pack_into("!HH", out, 10, ofs_nbits, a.max_len)
        hdr = header_bytes(a.src.field)
        out[14:14 + len(hdr)] = hdr
        return bytes(out)
    out = put_raw("NXAST_OUTPUT_REG", v)
    struct.pack_into("!HIH", out, 10, ofs_nbits, nxm32(a.src.field), a.max_len)
    return bytes(out)


def _fmt_output_reg(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, OutputReg)
    return "output:" + format_subfield(a.src)


def _dec_fin_timeout(v: int, b: memoryview, arg: int) -> list[Action]:
    idle, hard = struct.unpack_from("!HH", b, 10)
    return [FinTimeout(idle, hard)]


def _enc_fin_timeout(a: Action, v: int) -> bytes:
    assert isinstance(a, FinTimeout)
    out = put_raw("NXAST_FIN_TIMEOUT", v)
    struct.pack_into("!HH", out, 10, a.idle_timeout, a.hard_timeout)
    return bytes(out)


def _parse_fin_timeout(arg: str, ctx: ParseCtx) -> list[Action]:
    from .ctext import parse_key_value
    idle = hard = 0
    pos = 0
    while (item := parse_key_value(arg, pos)) is not None:
        key, value, pos = item
        if key == "idle_timeout":
            idle = str_to_u16(value, key)
        elif key == "hard_timeout":
            hard = str_to_u16(value, key)
        else:
            raise ParseError(f"invalid key '{key}' in 'fin_timeout' argument")
    return [FinTimeout(idle, hard)]


def _fmt_fin_timeout(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, FinTimeout)
    parts = []
    if a.idle_timeout:
        parts.append(f"idle_timeout={a.idle_timeout}")
    if a.hard_timeout:
        parts.append(f"hard_timeout={a.hard_timeout}")
    return "fin_timeout(" + ",".join(parts) + ")"


def _dec_resubmit(v: int, b: memoryview, in_port: int) -> list[Action]:
    return [Resubmit(in_port, 0xFF, False, "NXAST_RESUBMIT")]


def _dec_resubmit_table(ct: bool) -> Dec:
    def dec(v: int, b: memoryview, arg: int) -> list[Action]:
        in_port, table = struct.unpack_from("!HB", b, 10)
        if not zeros(b[13:16]):
            raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "resubmit padding")
        return [Resubmit(in_port, table, ct,
                         "NXAST_RESUBMIT_TABLE_CT" if ct else "NXAST_RESUBMIT_TABLE")]
    return dec


def _enc_resubmit(a: Action, v: int) -> bytes:
    assert isinstance(a, Resubmit)
    if a.table_id == 0xFF and a.raw == "NXAST_RESUBMIT":
        return bytes(put_raw("NXAST_RESUBMIT", v, a.in_port))
    out = put_raw("NXAST_RESUBMIT_TABLE_CT" if a.with_ct_orig else "NXAST_RESUBMIT_TABLE", v)
    struct.pack_into("!HB", out, 10, a.in_port, a.table_id)
    return bytes(out)


def _parse_resubmit(arg: str, ctx: ParseCtx) -> list[Action]:
    if "," in arg:
        parts = arg.split(",")
        in_port_s = parts[0]
        table_s = parts[1] if len(parts) > 1 else ""
        ct_s = parts[2] if len(parts) > 2 else ""
        in_port = OFPP_IN_PORT
        if in_port_s:
            port = parse_port(in_port_s, ctx.port_map)
            if port is None:
                raise ParseError(f"{in_port_s}: resubmit to unknown port")
            in_port = port
        table = 0xFF
        if table_s:
            t = parse_table(table_s, ctx.table_map)
            if t is None:
                raise ParseError(f'unknown table "{table_s}"')
            table = t
        with_ct = False
        if ct_s:
            if ct_s != "ct":
                raise ParseError(f"{ct_s}: unknown parameter for resubmit")
            with_ct = True
        if in_port == OFPP_IN_PORT and table == 0xFF:
            raise ParseError("at least one \"in_port\" or \"table\" must be specified "
                             "on resubmit")
        return [Resubmit(in_port, table, with_ct, "NXAST_RESUBMIT_TABLE")]
    port = parse_port(arg, ctx.port_map)
    if port is None:
        raise ParseError(f"{arg}: resubmit to unknown port")
    return [Resubmit(port, 0xFF, False, "NXAST_RESUBMIT")]


def _fmt_resubmit(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, Resubmit)
    if a.in_port != OFPP_IN_PORT and a.table_id == 255:
        return "resubmit:" + format_port(a.in_port, ctx.port_names)
    text = "resubmit("
    if a.in_port != OFPP_IN_PORT:
        text += format_port(a.in_port, ctx.port_names)
    text += ","
    if a.table_id != 255:
        text += format_table(a.table_id, ctx.table_names)
    if a.with_ct_orig:
        text += ",ct"
    return text + ")"


def _dec_note(v: int, b: memoryview, arg: int) -> list[Action]:
    return [Note(bytes(b[10:]))]


def _enc_note(a: Action, v: int) -> bytes:
    assert isinstance(a, Note)
    out = bytearray(put_raw("NXAST_NOTE", v)[:10]) + a.data
    pad_action(out, 0)
    return bytes(out)


def _parse_note(arg: str, ctx: ParseCtx) -> list[Action]:
    data, used = parse_hex(arg)
    if used != len(arg):
        raise ParseError("bad hex digit in `note' argument")
    return [Note(data)]


def _dec_conjunction(v: int, b: memoryview, arg: int) -> list[Action]:
    clause, n_clauses, id_ = struct.unpack_from("!BBI", b, 10)
    if n_clauses < 2 or n_clauses > 64 or clause >= n_clauses:
        raise OFError(OFPErr.NXBAC_BAD_CONJUNCTION, "conjunction clause")
    return [Conjunction(id_, clause, n_clauses)]


def _enc_conjunction(a: Action, v: int) -> bytes:
    assert isinstance(a, Conjunction)
    out = put_raw("NXAST_CONJUNCTION", v)
    struct.pack_into("!BBI", out, 10, a.clause, a.n_clauses, a.id)
    return bytes(out)


def _parse_conjunction(arg: str, ctx: ParseCtx) -> list[Action]:
    import re
    m = re.fullmatch(r"\s*(\d+)\s*,\s*(\d+)\s*/\s*(\d+)\s*", arg)
    if m is None:
        raise ParseError('"conjunction" syntax is "conjunction(id,i/n)"')
    id_, k, n = (int(g) for g in m.groups())
    if n < 2:
        raise ParseError('conjunction must have at least 2 clauses')
    if n > 64:
        raise ParseError('conjunction must have at most 64 clauses')
    if k < 1:
        raise ParseError('clause index must be positive')
    if k > n:
        raise ParseError('clause index must be less than or equal to number of clauses')
    return [Conjunction(id_ & 0xFFFFFFFF, k - 1, n)]


def _enc_meter(a: Action, v: int) -> bytes:
    assert isinstance(a, Meter)
    if v in (4, 5):
        return struct.pack("!HHI", 6, 8, a.meter_id)
    if v >= 6:
        return bytes(put_raw("OFPAT15_METER", v, a.meter_id))
    return b""


def _enc_clear(a: Action, v: int) -> bytes:
    return struct.pack("!HH4x", 5, 8) if v > 1 else b""


def _enc_write_actions(a: Action, v: int) -> bytes:
    assert isinstance(a, WriteActions)
    if v == 1:
        return b""
    from .actions import encode_actions
    body = encode_actions(a.actions, v)
    return struct.pack("!HH4x", 3, 8 + len(body)) + body


def _dec_write_metadata(v: int, b: memoryview, arg: int) -> list[Action]:
    if not zeros(b[10:16]):
        raise OFError(OFPErr.NXBRC_MUST_BE_ZERO, "write_metadata reserved bytes")
    metadata, mask = struct.unpack_from("!QQ", b, 16)
    return [WriteMetadata(metadata, mask)]


def _enc_write_metadata(a: Action, v: int) -> bytes:
    assert isinstance(a, WriteMetadata)
    if v == 1:
        out = put_raw("NXAST_WRITE_METADATA", v)
        struct.pack_into("!QQ", out, 16, a.metadata, a.mask)
        return bytes(out)
    return struct.pack("!HH4xQQ", 2, 24, a.metadata, a.mask)


def _parse_write_metadata(arg: str, ctx: ParseCtx) -> list[Action]:
    ctx.usable &= NXM_OF11_UP
    if "/" in arg:
        value, mask = arg.split("/", 1)
        return [WriteMetadata(str_to_u64(value), str_to_u64(mask))]
    return [WriteMetadata(str_to_u64(arg))]


def _fmt_write_metadata(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, WriteMetadata)
    text = f"write_metadata:{_hex_c(a.metadata)}"
    if a.mask != 2**64 - 1:
        text += f"/{_hex_c(a.mask)}"
    return text


def _hex_c(value: int) -> str:
    return f"{value:#x}" if value else "0"


def _enc_goto_table(a: Action, v: int) -> bytes:
    assert isinstance(a, GotoTable)
    if v == 1:
        out = put_raw("NXAST_RESUBMIT_TABLE", v)
        struct.pack_into("!HB", out, 10, OFPP_IN_PORT, a.table_id)
        return bytes(out)
    return struct.pack("!HHB3x", 1, 8, a.table_id)


def _parse_goto_table(arg: str, ctx: ParseCtx) -> list[Action]:
    table = parse_table(arg, ctx.table_map)
    if table is None:
        raise ParseError(f'unknown table "{arg}"')
    return [GotoTable(table)]


def _parse_meter(arg: str, ctx: ParseCtx) -> list[Action]:
    ctx.usable &= OF13_UP
    return [Meter(str_to_u32(arg))]


def _parse_write_actions(arg: str, ctx: ParseCtx) -> list[Action]:
    from .act_text import parse_actions_nested
    return [WriteActions(parse_actions_nested(arg, ctx, "write_actions"))]


def _fmt_write_actions(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, WriteActions)
    from .act_text import format_actions
    return f"write_actions({format_actions(a.actions, ctx)})"


def _parse_check_pkt_larger(arg: str, ctx: ParseCtx) -> list[Action]:
    value, key = split_arrow(arg)
    if value.endswith(")"):
        value = value[:-1]
    dst = parse_subfield(key)
    if dst.n_bits != 1:
        raise ParseError("Only 1-bit destination field is allowed")
    from .ctext import str_to_int
    pkt_len = str_to_int(value, 0)
    if pkt_len is None or not 0 <= pkt_len <= 65535:
        raise ParseError(f'invalid (null) "{value}"')
    return [CheckPktLarger(pkt_len, dst)]


def _dec_check_pkt_larger(v: int, b: memoryview, arg: int) -> list[Action]:
    pkt_len, ofs = struct.unpack_from("!HH", b, 10)
    f, _, _, pos = pull_header(b, 14, len(b), exact=True)
    if not zeros(b[pos:]):
        raise OFError(OFPErr.NXBRC_MUST_BE_ZERO, "check_pkt_larger padding")
    dst = Subfield(f, ofs, 1)
    check_subfield(dst, dst=True)
    return [CheckPktLarger(pkt_len, dst)]


def _enc_check_pkt_larger(a: Action, v: int) -> bytes:
    assert isinstance(a, CheckPktLarger)
    out = put_raw("NXAST_CHECK_PKT_LARGER", v)
    struct.pack_into("!HH", out, 10, a.pkt_len, a.dst.ofs)
    hdr = header_bytes(a.dst.field)
    out[14:14 + len(hdr)] = hdr
    return bytes(out)


def _dec_output_trunc(v: int, b: memoryview, arg: int) -> list[Action]:
    port, max_len = struct.unpack_from("!HI", b, 10)
    if max_len < 14:  # the port is checked with the flow (act_check)
        raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "output_trunc max_len")
    return [OutputTrunc(port, max_len)]


def _enc_output_trunc(a: Action, v: int) -> bytes:
    assert isinstance(a, OutputTrunc)
    out = put_raw("NXAST_OUTPUT_TRUNC", v)
    struct.pack_into("!HI", out, 10, a.port, a.max_len)
    return bytes(out)


def parse_output_trunc(arg: str, ctx: ParseCtx) -> list[Action]:
    """``output(port=N,max_len=M)`` (OVS ``parse_truncate_subfield``)."""
    from .ctext import parse_key_value
    port = 0
    max_len = 0
    pos = 0
    while (item := parse_key_value(arg, pos)) is not None:
        key, value, pos = item
        if key == "port":
            parsed = parse_port(value, ctx.port_map)
            if parsed is None:
                raise ParseError(f"output to unknown truncate port: {value}")
            if parsed > OFPP_MAX and parsed not in (OFPP_LOCAL, OFPP_IN_PORT):
                raise ParseError(f"output to unsupported truncate port: {value}")
            port = parsed
        elif key == "max_len":
            max_len = str_to_u32(value)
            if max_len < 14:
                raise ParseError(f"max_len {max_len} is less than the minimum value 14")
        else:
            raise ParseError(f"invalid key '{key}' in output_trunc argument")
    return [OutputTrunc(port, max_len)]


def _fmt_output_trunc(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, OutputTrunc)
    return f"output(port={format_port(a.port, ctx.port_names)},max_len={a.max_len})"


def _fmt_conjunction(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, Conjunction)
    return f"conjunction({a.id},{a.clause + 1}/{a.n_clauses})"


def _fmt_check_pkt_larger(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, CheckPktLarger)
    return f"check_pkt_larger({a.pkt_len})->{format_subfield(a.dst)}"


def _fmt_goto_table(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, GotoTable)
    return f"goto_table:{format_table(a.table_id, ctx.table_names)}"


DECODERS: Final[dict[str, Dec]] = {
    "NXAST_CONTROLLER": _dec_controller,
    "NXAST_CONTROLLER2": _dec_controller2,
    "NXAST_OUTPUT_REG": _dec_output_reg,
    "NXAST_OUTPUT_REG2": _dec_output_reg2,
    "NXAST_FIN_TIMEOUT": _dec_fin_timeout,
    "NXAST_RESUBMIT": _dec_resubmit,
    "NXAST_RESUBMIT_TABLE": _dec_resubmit_table(False),
    "NXAST_RESUBMIT_TABLE_CT": _dec_resubmit_table(True),
    "NXAST_NOTE": _dec_note,
    "NXAST_EXIT": lambda v, b, a: [Exit()],
    "NXAST_CONJUNCTION": _dec_conjunction,
    "NXAST_CT_CLEAR": lambda v, b, a: [CtClear()],
    "NXAST_DEC_NSH_TTL": lambda v, b, a: [DecNshTtl()],
    "OFPAT15_METER": lambda v, b, a: [Meter(a)],
    "NXAST_WRITE_METADATA": _dec_write_metadata,
    "NXAST_CHECK_PKT_LARGER": _dec_check_pkt_larger,
    "NXAST_OUTPUT_TRUNC": _dec_output_trunc,
}

ENCODERS: Final[dict[type, Callable[[Action, int], bytes]]] = {
    Controller: _enc_controller,
    OutputReg: _enc_output_reg,
    FinTimeout: _enc_fin_timeout,
    Resubmit: _enc_resubmit,
    Note: _enc_note,
    Exit: raw_only("NXAST_EXIT"),
    Conjunction: _enc_conjunction,
    CtClear: raw_only("NXAST_CT_CLEAR"),
    DecNshTtl: raw_only("NXAST_DEC_NSH_TTL"),
    DebugRecirc: raw_only("NXAST_DEBUG_RECIRC"),
    DebugSlow: raw_only("NXAST_DEBUG_SLOW"),
    Meter: _enc_meter,
    ClearActions: _enc_clear,
    WriteActions: _enc_write_actions,
    WriteMetadata: _enc_write_metadata,
    GotoTable: _enc_goto_table,
    CheckPktLarger: _enc_check_pkt_larger,
    OutputTrunc: _enc_output_trunc,
}

FORMATTERS: Final[dict[type, Callable[[Action, FmtCtx], str]]] = {
    Controller: _fmt_controller,
    OutputReg: _fmt_output_reg,
    FinTimeout: _fmt_fin_timeout,
    Resubmit: _fmt_resubmit,
    Note: tmpl("note:{}", "data", hex_arg),  # type: ignore[arg-type]
    Exit: const("exit"),
    Conjunction: _fmt_conjunction,
    CtClear: const("ct_clear"),
    DecNshTtl: const("dec_nsh_ttl"),
    DebugRecirc: const("debug_recirc"),
    DebugSlow: const("debug_slow"),
    Meter: tmpl("meter:{}", "meter_id"),
    ClearActions: const("clear_actions"),
    WriteActions: _fmt_write_actions,
    WriteMetadata: _fmt_write_metadata,
    GotoTable: _fmt_goto_table,
    CheckPktLarger: _fmt_check_pkt_larger,
    OutputTrunc: _fmt_output_trunc,
}

PARSERS: Final[dict[str, Callable[[str, ParseCtx], list[Action]]]] = {
    "controller": _parse_controller,
    "output_reg": parse_output,
    "dec_nsh_ttl": nullary(DecNshTtl),
    "fin_timeout": _parse_fin_timeout,
    "resubmit": _parse_resubmit,
    "conjunction": _parse_conjunction,
    "note": _parse_note,
    "exit": nullary(Exit),
    "ct_clear": nullary(CtClear),
    "check_pkt_larger": _parse_check_pkt_larger,
    "debug_recirc": nullary(DebugRecirc),
    "debug_slow": nullary(DebugSlow),
    "meter": _parse_meter,
    "clear_actions": nullary(ClearActions),
    "write_actions": _parse_write_actions,
    "write_metadata": _parse_write_metadata,
    "goto_table": _parse_goto_table,
}

