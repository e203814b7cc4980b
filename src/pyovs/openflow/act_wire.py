"""Small wire and text helpers shared by the action codecs.

NXM headers inside actions (``load``, ``move``, ``output_reg``...),
``ofs_nbits`` packing, set-field entries, and OVS's ``str_to_u16``-style
argument parsers with their exact error messages.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final

from .action_table import has_encoding, pad_action, put_raw
from .actions import Action, FmtCtx, ParseCtx
from .ctext import str_to_int, strtoll, strtoull
from .errors import OFError, OFPErr, ParseError
from .fields import lookup_header, unknown_action_header_error
from .fieldtypes import Field
from .ports import OFPP_MAX
from .subfield import Subfield

U16: Final = struct.Struct("!H")
U32: Final = struct.Struct("!I")
U64: Final = struct.Struct("!Q")


def decode_ofs_nbits(ofs_nbits: int) -> tuple[int, int]:
    """OVS ``nxm_decode_ofs``/``nxm_decode_n_bits``."""
    return ofs_nbits >> 6, (ofs_nbits & 0x3F) + 1


def encode_ofs_nbits(ofs: int, n_bits: int) -> int:
    return (ofs << 6) | (n_bits - 1)


def field_from_nxm32(header32: int) -> Field:
    """The field an action's 32-bit NXM header names (OVS ``mf_from_nxm_header``)."""
    hit = lookup_header(header32 << 32)
    if hit is None:
        raise OFError(OFPErr.OFPBAC_BAD_SET_TYPE, f"unknown NXM header {header32:#x}")
    return hit[0]


def nxm32(field: Field) -> int:
    """OVS ``nxm_header_from_mff``: a field's 32-bit NXM header, 0 if experimenter."""
    code = field.code_for(0)
    if code is None or code.is_experimenter:
        return 0
    return code.header() >> 32


def header_bytes(field: Field, version: int = 0, masked: bool = False,
                 n_bytes: int | None = None) -> bytes:
    """OVS ``nx_put_mff_header``: 4 or 8 header bytes for ``field``."""
    code = field.code_for(version)
    if code is None:
        raise ValueError(f"{field.name} has no NXM/OXM code")
    return U64.pack(code.header(masked, n_bytes))[:code.header_len]


def pull_header(data: memoryview, pos: int, end: int, action: bool = False,
                exact: bool = False) -> tuple[Field, bool, int, int]:
    """One NXM/OXM header at ``pos``: (field, hasmask, payload length, next pos).

    An unknown header is ``OFPBMC_BAD_FIELD``, except where OVS reads it as
    an action's (set_field, reg_load2: ``action``): then it is
    ``OFPBAC_BAD_SET_LEN`` or ``OFPBAC_BAD_SET_TYPE`` by OVS's hash-table
    rule (``fields.unknown_action_header_error``).  With ``exact``, a masked
    header is ``OFPBMC_BAD_MASK`` (OVS ``nx_pull_header`` without a mask).
    """
    if end - pos < 4:
        raise OFError(OFPErr.OFPBMC_BAD_LEN, "partial OXM header in action")
    header = U32.unpack_from(data, pos)[0] << 32
    hlen = 4
    if header >> 48 == 0xFFFF:
        if end - pos < 8:
            raise OFError(OFPErr.OFPBMC_BAD_LEN, "partial OXM header in action")
        header = U64.unpack_from(data, pos)[0]
        hlen = 8
    length = (header >> 32) & 0xFF
    if length < hlen - 4:
        raise OFError(OFPErr.OFPBMC_BAD_LEN, "OXM header length too short")
    hit = lookup_header(header)
    if hit is None:
        if action:
            raise OFError(unknown_action_header_error(header),
                          f"unknown OXM header {header:#x} in an action")
        raise OFError(OFPErr.OFPBMC_BAD_FIELD, f"unknown OXM header {header:#x}")
    hasmask = bool(header >> 40 & 1)
    if exact and hasmask:
        raise OFError(OFPErr.OFPBMC_BAD_MASK, f"masked header {header:#x} not allowed here")
    return hit[0], hasmask, length - (hlen - 4), pos + hlen


def pull_entry(data: memoryview, pos: int, end: int, allow_mask: bool,
               action: bool = False) -> tuple[Field, int, int, int]:
    """An NXM/OXM entry (header, value, optional mask): (field, value, mask, next pos).

    As OVS ``nx_pull_entry__``: outside actions, an unknown header is
    reported only after the entry's own length and mask are checked.
    """
    try:
        f, hasmask, payload, start = pull_header(data, pos, end, action)
    except OFError as e:
        if e.error is not OFPErr.OFPBMC_BAD_FIELD:
            raise
        header32 = U32.unpack_from(data, pos)[0]
        header_len = 8 if header32 >> 16 == 0xFFFF else 4
        length = (header32 & 0xFF) - (header_len - 4)
        start = pos + header_len
        if start + length > end:
            raise OFError(OFPErr.OFPBMC_BAD_LEN, "OXM payload overruns") from None
        if header32 & 0x100:
            width = length // 2
            value = int.from_bytes(data[start:start + width], "big")
            mask = int.from_bytes(data[start + width:start + 2 * width], "big")
            if value & ~mask:
                raise OFError(OFPErr.OFPBMC_BAD_WILDCARDS, "value outside mask") from None
            if not allow_mask:
                raise OFError(OFPErr.OFPBMC_BAD_MASK, "mask not allowed here") from None
        raise
    if start + payload > end:
        raise OFError(OFPErr.OFPBMC_BAD_LEN, "OXM payload overruns the action")
    width = payload // 2 if hasmask else payload
    value = int.from_bytes(data[start:start + width], "big")
    if hasmask:
        mask = int.from_bytes(data[start + width:start + payload], "big")
        if value & ~mask:
            raise OFError(OFPErr.OFPBMC_BAD_WILDCARDS, "value outside mask")
        if not allow_mask:
            raise OFError(OFPErr.OFPBMC_BAD_MASK, "mask not allowed here")
    else:
        mask = (1 << (8 * width)) - 1 if f.variable else f.all_ones
    return f, value, mask, start + payload


def put_entry(field: Field, version: int, value: int, mask: int) -> bytes:
    """OVS ``nx_put_entry``: header, value and (if not exact) mask."""
    masked = mask != field.all_ones
    n_bytes = field.n_bytes
    if field.variable:
        n_bytes = max((value.bit_length() + 7) // 8,
                      (mask.bit_length() + 7) // 8 if masked else 0)
    out = header_bytes(field, version, masked, n_bytes) + value.to_bytes(n_bytes, "big")
    if masked:
        out += mask.to_bytes(n_bytes, "big")
    return out


def check_subfield(sf: Subfield, dst: bool = False) -> None:
    """OVS ``mf_check_src``/``mf_check_dst`` without a match."""
    if not sf.n_bits or sf.ofs >= sf.field.n_bits or sf.ofs + sf.n_bits > sf.field.n_bits:
        raise OFError(OFPErr.OFPBAC_BAD_SET_LEN, f"bad subfield of {sf.field.name}")
    if dst and not sf.field.writable:
        raise OFError(OFPErr.OFPBAC_BAD_SET_ARGUMENT, f"{sf.field.name} is not writable")


def zeros(data: memoryview | bytes) -> bool:
    return not any(data)


# --- OVS ofp-parse.c argument parsers ----------------------------------------

def str_to_u8(s: str, name: str) -> int:
    value = str_to_int(s, 0)
    if value is None or not 0 <= value <= 255:
        raise ParseError(f'invalid {name} "{s}"')
    return value


def str_to_u16(s: str, name: str) -> int:
    value = str_to_int(s, 0)
    if value is None or not 0 <= value <= 65535:
        raise ParseError(f'invalid {name} "{s}"')
    return value


def str_to_u32(s: str) -> int:
    """OVS ``str_to_u32`` (``strtoul`` base 0; wraps like C's 32-bit result)."""
    if not s:
        raise ParseError("missing required numeric argument")
    value, end, overflow = strtoull(s, 0)
    if end == 0 or end != len(s) or overflow:
        raise ParseError(f"invalid numeric format {s}")
    return value & 0xFFFFFFFF


def str_to_u64(s: str) -> int:
    if not s:
        raise ParseError("missing required numeric argument")
    value, end, overflow = strtoull(s, 0)
    if end == 0 or end != len(s) or overflow:
        raise ParseError(f"invalid numeric format {s}")
    return value


def hex_arg(data: bytes) -> str:
    """OVS ``format_hex_arg``: ``01.02.03``."""
    return ".".join(f"{b:02x}" for b in data)


def parse_hex(s: str) -> tuple[bytes, int]:
    """OVS ``ofpbuf_put_hex``: hex byte pairs, dots and white space skipped.

    Returns (bytes, index where parsing stopped).
    """
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c in " .\t\r\n":
            i += 1
            continue
        pair = s[i:i + 2]
        if len(pair) < 2 or any(ch not in "0123456789abcdefABCDEF" for ch in pair):
            break
        out.append(int(pair, 16))
        i += 2
    return bytes(out), i


def parse_table(s: str, table_map: dict[str, int] | None) -> int | None:
    """OVS ``ofputil_table_from_string``: a table number or name, None if invalid."""
    from .ctext import str_to_uint
    if s.startswith("-"):
        return None
    number = str_to_uint(s, 10)
    if number is not None:
        return number if number <= 255 else None
    if table_map:
        name = s[1:-1] if len(s) > 1 and s[0] == '"' and s[-1] == '"' else s
        return table_map.get(name)
    return None


def format_table(table: int, names: dict[int, str] | None) -> str:
    """OVS ``ofputil_format_table``."""
    from .ports import quote_name
    if names and table in names:
        return quote_name(names[table])
    return str(table)


# --- table-building helpers for the act_* modules ----------------------------

def tmpl(template: str, attr: str,
          conv: Callable[[int], str] = str) -> Callable[[Action, FmtCtx], str]:
    """A formatter writing one attribute into ``template``."""
    def fmt(a: Action, ctx: FmtCtx) -> str:
        return template.format(conv(getattr(a, attr)))
    return fmt


def strtok(s: str, delims: str) -> list[str]:
    out: list[str] = []
    cur = ""
    for c in s:
        if c in delims:
            if cur:
                out.append(cur)
            cur = ""
        else:
            cur += c
    if cur:
        out.append(cur)
    return out


def atoi(s: str) -> int:
    """C ``atoi``."""
    value, _, _ = strtoll(s, 10)
    return value


def nullary(cls: type[Action]) -> Callable[[str, ParseCtx], list[Action]]:
    def parse(arg: str, ctx: ParseCtx) -> list[Action]:
        return [cls()]
    return parse


def const(text: str) -> Callable[[Action, FmtCtx], str]:
    def fmt(a: Action, ctx: FmtCtx) -> str:
        return text
    return fmt


def arg_parser(build: Callable[[int], Action], parse_num: Callable[[str], int]
                ) -> Callable[[str, ParseCtx], list[Action]]:
    def parse(arg: str, ctx: ParseCtx) -> list[Action]:
        return [build(parse_num(arg))]
    return parse


def raw_only(raw: str) -> Callable[[Action, int], bytes]:
    def enc(a: Action, v: int) -> bytes:
        return bytes(put_raw(raw, v)) if has_encoding(raw, v) else b""
    return enc


def put_set_field(f: Field, v: int, value: int) -> bytes:
    """OVS ``put_set_field``: an OFPAT12 set-field with an exact value."""
    out = bytearray(put_raw("OFPAT12_SET_FIELD" if v < 6 else "OFPAT15_SET_FIELD", v)[:4])
    out += put_entry(f, v, value, f.all_ones)
    pad_action(out, 0)
    return bytes(out)


def put_reg_load(dst: Subfield, value: int) -> bytes:
    """OVS ``put_reg_load``: one NXAST_REG_LOAD."""
    out = put_raw("NXAST_REG_LOAD", 1)
    struct.pack_into("!HIQ", out, 10, encode_ofs_nbits(dst.ofs, dst.n_bits),
                     nxm32(dst.field), value)
    return bytes(out)


def split_arrow(arg: str) -> tuple[str, str]:
    i = arg.find("->")
    if i < 0:
        raise ParseError(f"{arg}: missing `->'")
    if len(arg) - i <= 2:
        raise ParseError(f"{arg}: missing field name following `->'")
    return arg[:i], arg[i + 2:]


# Shared by the action families (act_std, act_nxsimple, act_field).

ETH_TYPE_VLAN_8021Q: Final = 0x8100
ETH_TYPE_VLAN_8021AD: Final = 0x88A8
OFPVID12_PRESENT: Final = 0x1000
PACKET_IN_REASONS: Final = ("no_match", "action", "invalid_ttl", "action_set", "group",
                            "packet_out")

Dec = Callable[[int, memoryview, int], list[Action]]


def port16(port: int) -> int:
    if port >= OFPP_MAX and port not in (0xFFF8, 0xFFF9, 0xFFFA, 0xFFFB, 0xFFFC, 0xFFFD,
                                         0xFFFE, 0xFFFF):
        raise OFError(OFPErr.OFPBAC_BAD_OUT_PORT, f"output port {port}")
    return port


def check_output_port(port: int) -> None:
    """OVS ``ofpact_check_output_port`` (with max_ports = OFPP_MAX)."""
    if port >= OFPP_MAX and port not in (0xFFF8, 0xFFF9, 0xFFFA, 0xFFFB, 0xFFFC, 0xFFFD,
                                         0xFFFE):
        raise OFError(OFPErr.OFPBAC_BAD_OUT_PORT, f"output port {port}")
