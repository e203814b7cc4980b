"""Table descriptions: the OpenFlow 1.4+ OFPST_TABLE_DESC reply (OVS lib/ofp-table.c).

Each ``TableDesc`` is one ``ofp14_table_desc``: a table id, the eviction and
vacancy-events bits of its config, and two optional properties -- the
eviction flags (``OFPTMPT14_EVICTION``, a u32 bitmap) and the vacancy
thresholds (``OFPTMPT14_VACANCY``: down, up and current percentages).
Unknown properties are skipped, as OVS does (it decodes "loosely").  A flag
set of all ones means "no eviction property", which prints ``(default)``.

The request has no body (``msg_basic.TableDescRequest``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .act_wire import format_table
from .codec import Body, FormatContext, list_codec
from .dstext import bit_names
from .errors import OFError, OFPErr
from .msgtable import Raw
from .props import parse_u32, pull_props, put_prop, put_u32

OFP14_TABLE_DESC: Final = struct.Struct("!HBxI")
"""length, table_id, config."""
VACANCY: Final = struct.Struct("!BBBx")
"""(property payload) vacancy_down, vacancy_up, vacancy."""
OFPTC14_EVICTION: Final = 1 << 2
OFPTC14_VACANCY_EVENTS: Final = 1 << 3
OFPTMPT14_EVICTION: Final = 2
OFPTMPT14_VACANCY: Final = 3
NO_EVICTION_FLAGS: Final = 0xFFFFFFFF
EVICTION_FLAG_NAMES: Final = {1 << 0: "OTHER", 1 << 1: "IMPORTANCE", 1 << 2: "LIFETIME"}


@dataclass(frozen=True, slots=True)
class TableDesc:
    """One table's description (OVS ``struct ofputil_table_desc``)."""

    table_id: int
    config: int = 0
    """OFPTC14_* bits: eviction on, vacancy events on."""
    eviction_flags: int = NO_EVICTION_FLAGS
    vacancy: tuple[int, int, int] | None = None
    """(down, up, current) percentages, when the property is present."""


@dataclass(frozen=True, slots=True)
class TableDescReply(Body):
    """OFPST_TABLE_DESC reply."""

    tables: tuple[TableDesc, ...] = ()


def _pull(version: int, raw: Raw, b: memoryview, pos: int) -> tuple[TableDesc, int]:
    if len(b) - pos < OFP14_TABLE_DESC.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "leftover bytes in table desc reply")
    length, table_id, config = OFP14_TABLE_DESC.unpack_from(b, pos)
    if length < OFP14_TABLE_DESC.size or length > len(b) - pos:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, f"table desc length {length}")
    flags, vacancy = NO_EVICTION_FLAGS, None
    for type_, payload in pull_props(b[pos + OFP14_TABLE_DESC.size:pos + length]):
        if type_ == OFPTMPT14_EVICTION:
            flags = parse_u32(payload)
        elif type_ == OFPTMPT14_VACANCY:
            if len(payload) != VACANCY.size:
                raise OFError(OFPErr.OFPBPC_BAD_LEN, "vacancy property length")
            vacancy = VACANCY.unpack_from(payload)
    return TableDesc(table_id, config, flags, vacancy), pos + length


def _put(t: TableDesc) -> bytes:
    props = b""
    if t.eviction_flags != NO_EVICTION_FLAGS:
        props += put_u32(OFPTMPT14_EVICTION, t.eviction_flags)
    if t.vacancy is not None:
        props += put_prop(OFPTMPT14_VACANCY, VACANCY.pack(*t.vacancy))
    return OFP14_TABLE_DESC.pack(OFP14_TABLE_DESC.size + len(props), t.table_id,
                                 t.config) + props


def _encode(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, TableDescReply)
    return b"".join(_put(t) for t in body.tables)


def format_table_desc(t: TableDesc, table_names: dict[int, str] | None = None) -> str:
    """OVS ``ofputil_table_desc_format``."""
    eviction = "on" if t.config & OFPTC14_EVICTION else "off"
    flags = ("(default)" if t.eviction_flags == NO_EVICTION_FLAGS
             else bit_names(t.eviction_flags, EVICTION_FLAG_NAMES, "|"))
    text = (f"\n  table {format_table(t.table_id, table_names)}:\n"
            f"   eviction={eviction} eviction_flags={flags}\n")
    if t.config & OFPTC14_VACANCY_EVENTS:
        down, up, current = t.vacancy or (0, 0, 0)
        return text + (f"   vacancy=on vacancy_down={down}% vacancy_up={up}% "
                       f"vacancy={current}%\n")
    return text + "   vacancy=off\n"


def _format(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, TableDescReply)
    names = dict(ctx.table_names) if ctx.table_names else None
    return "".join(format_table_desc(t, names) for t in body.tables)


CODECS: Final = {"OFPST14_TABLE_DESC_REPLY": list_codec(_pull, TableDescReply, _encode,
                                                        _format)}
DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {
    TableDescReply: lambda v: "OFPST14_TABLE_DESC_REPLY",
}
