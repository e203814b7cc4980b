"""Tunnel-metadata TLV maps: NXT_TLV_TABLE_MOD and NXT_TLV_TABLE_REPLY (lib/ofp-match.c).

A Geneve option (class, type, length) is bound to one of the 64
``tun_metadata<N>`` fields by a mapping; ``TlvTableMod`` adds, deletes or
clears mappings and ``TlvTableReply`` lists them with the switch's limits.
Both carry ``TlvMap`` entries (``nx_tlv_map``, 8 bytes).  Decoding applies
OVS's checks (command range, option lengths a multiple of 4 up to 124, field
indexes below 64 -- or below the reply's own ``max_fields``); printing is
OVS's table.  ``parse_tlv_mappings`` reads the ``ovs-ofctl add-tlv-map`` text
``{class=C,type=T,len=L}->tun_metadataN[,...]``.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .codec import Body, FormatContext, MsgCodec
from .errors import OFError, OFPErr, ParseError
from .msgtable import Raw

NX_TLV_TABLE_MOD: Final = struct.Struct("!H6x")
NX_TLV_MAP: Final = struct.Struct("!HBBH2x")
"""option_class, option_type, option_len, index."""
NX_TLV_TABLE_REPLY: Final = struct.Struct("!IH10x")
"""max_option_space, max_fields."""
TLV_ADD, TLV_DELETE, TLV_CLEAR = 0, 1, 2
COMMAND_NAMES: Final = ("ADD", "DEL", "CLEAR")
TUN_METADATA_NUM_OPTS: Final = 64
TLV_MAX_OPT_SIZE: Final = 124

_INT: Final = r"\s*([+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*))"
_MAPPING: Final = re.compile(r"\{class=" + _INT + ",type=" + _INT + ",len=" + _INT
                             + r"\}->tun_metadata" + _INT)


@dataclass(frozen=True, slots=True)
class TlvMap:
    """One mapping (``struct ofputil_tlv_map``)."""

    option_class: int
    option_type: int
    option_len: int
    index: int


@dataclass(frozen=True, slots=True)
class TlvTableMod(Body):
    """NXT_TLV_TABLE_MOD."""

    command: int
    mappings: tuple[TlvMap, ...] = ()


@dataclass(frozen=True, slots=True)
class TlvTableReply(Body):
    """NXT_TLV_TABLE_REPLY."""

    max_option_space: int
    max_fields: int
    mappings: tuple[TlvMap, ...] = ()


def _pull_maps(b: memoryview, max_fields: int) -> tuple[TlvMap, ...]:
    out = []
    for pos in range(0, len(b), NX_TLV_MAP.size):
        if len(b) - pos < NX_TLV_MAP.size:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, "partial tlv mapping")
        m = TlvMap(*NX_TLV_MAP.unpack_from(b, pos))
        if m.option_len % 4 or m.option_len > TLV_MAX_OPT_SIZE:
            raise OFError(OFPErr.NXTTMFC_BAD_OPT_LEN, f"tlv option length {m.option_len}")
        if m.index >= max_fields:
            raise OFError(OFPErr.NXTTMFC_BAD_FIELD_IDX, f"tlv field index {m.index}")
        out.append(m)
    return tuple(out)


def _put_maps(maps: tuple[TlvMap, ...]) -> bytes:
    return b"".join(NX_TLV_MAP.pack(m.option_class, m.option_type, m.option_len, m.index)
                    for m in maps)


def _decode_mod(version: int, raw: Raw, b: memoryview) -> Body:
    (command,) = NX_TLV_TABLE_MOD.unpack_from(b)
    if command > TLV_CLEAR:
        raise OFError(OFPErr.NXTTMFC_BAD_COMMAND, f"tlv table mod command {command}")
    return TlvTableMod(command, _pull_maps(b[NX_TLV_TABLE_MOD.size:], TUN_METADATA_NUM_OPTS))


def _encode_mod(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, TlvTableMod)
    return NX_TLV_TABLE_MOD.pack(body.command) + _put_maps(body.mappings)


def _decode_reply(version: int, raw: Raw, b: memoryview) -> Body:
    space, fields = NX_TLV_TABLE_REPLY.unpack_from(b)
    return TlvTableReply(space, fields, _pull_maps(b[NX_TLV_TABLE_REPLY.size:], fields))


def _encode_reply(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, TlvTableReply)
    return NX_TLV_TABLE_REPLY.pack(body.max_option_space, body.max_fields) + _put_maps(
        body.mappings)


def _c_hex(value: int, width: int) -> str:
    """C's ``%#<width>x``: no ``0x`` for zero."""
    return f"{value:#x}".rjust(width) if value else "0".rjust(width)


def _table(maps: tuple[TlvMap, ...]) -> str:
    text = (" mapping table:\n  class  type  length  match field\n"
            " ------  ----  ------  --------------")
    for m in maps:
        text += (f"\n {_c_hex(m.option_class, 6)}  {_c_hex(m.option_type, 4)}  "
                 f"{m.option_len:6d}  tun_metadata{m.index}")
    return text


def _format_mod(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, TlvTableMod)
    text = "\n " + COMMAND_NAMES[body.command]
    return text if body.command == TLV_CLEAR else text + _table(body.mappings)


def _format_reply(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, TlvTableReply)
    space = sum(m.option_len for m in body.mappings)
    return (f"\n max option space={body.max_option_space} max fields={body.max_fields}\n"
            f" allocated option space={space}\n\n" + _table(body.mappings))


def _c_int(text: str) -> int:
    """A ``%i`` conversion: decimal, ``0x`` hex or leading-zero octal, signed."""
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits[:2].lower() == "0x":
        return sign * int(digits[2:], 16)
    if len(digits) > 1 and digits[0] == "0":
        return sign * int(digits[1:], 8)
    return sign * int(digits)


def parse_tlv_mappings(text: str) -> tuple[TlvMap, ...]:
    """``parse_ofp_tlv_table_mod_str``'s mappings; ``ParseError("invalid tlv mapping")``."""
    out = []
    pos = 0
    while pos < len(text):
        if text[pos] == ",":
            pos += 1
        m = _MAPPING.match(text, pos)
        if m is None:
            raise ParseError("invalid tlv mapping")
        c, t, n, i = (_c_int(g) for g in m.groups())
        out.append(TlvMap(c & 0xFFFF, t & 0xFF, n & 0xFF, i & 0xFFFF))
        pos = m.end()
    return tuple(out)


CODECS: Final = {
    "NXT_TLV_TABLE_MOD": MsgCodec(_decode_mod, _encode_mod, _format_mod),
    "NXT_TLV_TABLE_REPLY": MsgCodec(_decode_reply, _encode_reply, _format_reply),
}
DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {
    TlvTableMod: lambda v: "NXT_TLV_TABLE_MOD",
    TlvTableReply: lambda v: "NXT_TLV_TABLE_REPLY",
}
