"""Switch description, table mod and meters.

``DescReply`` is the switch description (``ofp_desc_stats``: five fixed-size
strings).  ``TableMod`` is OVS's ``ofputil_table_mod``: a table's miss
behaviour (OpenFlow 1.1/1.2 config bits), eviction and vacancy settings
(OpenFlow 1.4+, partly as properties).  Meters (OpenFlow 1.3+): ``MeterMod``
with its ``MeterBand`` list, meter stats/config requests (a meter id), and
the config, stats and features replies, each as OVS's ``ofp-meter.c``
decodes and prints them -- including its quirks, such as ignoring the bands
of a delete and refusing a meter that is both kbps and pktps.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .act_wire import format_table
from .codec import Body, FormatContext, MsgCodec, list_codec
from .dstext import bit_names, duration
from .errors import OFError, OFPErr
from .msg_flow import fmt_ctx
from .msgtable import Raw
from .props import parse_u32, pull_props, put_prop, put_u32

# --- switch description ---------------------------------------------------------

DESC: Final = struct.Struct("!256s256s256s32s256s")
"""mfr_desc, hw_desc, sw_desc, serial_num, dp_desc."""


@dataclass(frozen=True, slots=True)
class DescReply(Body):
    """OFPST_DESC reply: who made the switch and what it runs (raw, NUL-padded)."""

    mfr_desc: bytes = b""
    hw_desc: bytes = b""
    sw_desc: bytes = b""
    serial_num: bytes = b""
    dp_desc: bytes = b""


def _decode_desc(version: int, raw: Raw, b: memoryview) -> Body:
    return DescReply(*(bytes(x).rstrip(b"\0") for x in DESC.unpack_from(b)))


def _encode_desc(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, DescReply)
    return DESC.pack(body.mfr_desc, body.hw_desc, body.sw_desc, body.serial_num,
                     body.dp_desc)


def _c_text(raw: bytes) -> str:
    """``%.*s`` of a fixed-size field: up to the first NUL."""
    return raw.split(b"\0", 1)[0].decode("latin-1")


def _format_desc(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, DescReply)
    return (f"\nManufacturer: {_c_text(body.mfr_desc)}\nHardware: {_c_text(body.hw_desc)}\n"
            f"Software: {_c_text(body.sw_desc)}\nSerial Num: {_c_text(body.serial_num)}\n"
            f"DP Description: {_c_text(body.dp_desc)}\n")


# --- table mod --------------------------------------------------------------------

TABLE_MOD: Final = struct.Struct("!B3xI")
"""table_id, config (OpenFlow 1.4 adds properties)."""
TABLE_VACANCY: Final = struct.Struct("!BBBx")
"""(property payload) vacancy_down, vacancy_up, vacancy."""
OFPTMPT14_EVICTION, OFPTMPT14_VACANCY = 2, 3
OFPTC11_MISS_MASK: Final = 3
OFPTC14_EVICTION: Final = 1 << 2
OFPTC14_VACANCY_EVENTS: Final = 1 << 3
MISS_DEFAULT, MISS_CONTROLLER, MISS_CONTINUE, MISS_DROP = 0, 1, 2, 3
SETTING_DEFAULT, SETTING_ON, SETTING_OFF = 0, 1, 2
MISS_NAMES: Final = ("default", "controller", "continue", "drop")
SETTING_NAMES: Final = ("default", "on", "off")
EVICTION_FLAG_NAMES: Final = {1: "OTHER", 2: "IMPORTANCE", 4: "LIFETIME"}


@dataclass(frozen=True, slots=True)
class TableMod(Body):
    """OFPT_TABLE_MOD (OVS ``struct ofputil_table_mod``)."""

    table_id: int
    miss: int = MISS_DEFAULT
    eviction: int = SETTING_DEFAULT
    eviction_flags: int = 0xFFFFFFFF
    """0xffffffff: not given."""
    vacancy: int = SETTING_DEFAULT
    vacancy_down: int = 0
    vacancy_up: int = 0


def _decode_table_mod(version: int, raw: Raw, b: memoryview) -> Body:
    table_id, config = TABLE_MOD.unpack_from(b)
    miss = MISS_DEFAULT
    if version in (2, 3):
        miss = {0: MISS_CONTROLLER, 1: MISS_CONTINUE, 2: MISS_DROP}.get(
            config & OFPTC11_MISS_MASK, MISS_CONTROLLER)
    if raw.name == "OFPT11_TABLE_MOD":
        return TableMod(table_id, miss)
    eviction = SETTING_ON if config & OFPTC14_EVICTION else SETTING_OFF
    vacancy = SETTING_ON if config & OFPTC14_VACANCY_EVENTS else SETTING_OFF
    down = up = 0
    for type_, payload in pull_props(b[TABLE_MOD.size:]):
        if type_ == OFPTMPT14_EVICTION:
            eviction = parse_u32(payload)  # (sic) OVS stores it as the eviction setting
        elif type_ == OFPTMPT14_VACANCY:
            if len(payload) != TABLE_VACANCY.size:
                raise OFError(OFPErr.OFPBPC_BAD_LEN, "vacancy property length")
            down, up, current = TABLE_VACANCY.unpack_from(payload)
            if down > up or down > 100 or up > 100 or current:
                raise OFError(OFPErr.OFPBPC_BAD_VALUE, "bad vacancy thresholds")
        else:
            raise OFError(OFPErr.OFPBRC_BAD_TYPE, f"table mod property {type_}")
    return TableMod(table_id, miss, eviction, 0xFFFFFFFF, vacancy, down, up)


def _table_config(tm: TableMod, version: int) -> int:
    if version in (2, 3):
        return {MISS_CONTINUE: 1, MISS_DROP: 2}.get(tm.miss, 0)
    if version >= 5:
        return ((OFPTC14_EVICTION if tm.eviction == SETTING_ON else 0)
                | (OFPTC14_VACANCY_EVENTS if tm.vacancy == SETTING_ON else 0))
    return 0


def _encode_table_mod(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, TableMod)
    tm = body
    out = TABLE_MOD.pack(tm.table_id, _table_config(tm, version))
    if raw.name == "OFPT14_TABLE_MOD":
        if tm.eviction_flags != 0xFFFFFFFF:
            out += put_u32(OFPTMPT14_EVICTION, tm.eviction_flags)
        if tm.vacancy == SETTING_ON:
            out += put_prop(OFPTMPT14_VACANCY,
                            TABLE_VACANCY.pack(tm.vacancy_down, tm.vacancy_up, 0))
    return out


def _setting(names: tuple[str, ...], value: int) -> str:
    return names[value] if 0 <= value < len(names) else "***error***"


def _format_table_mod(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, TableMod)
    tm = body
    if tm.table_id == 0xFF:
        text = " table_id: ALL_TABLES"
    else:
        text = " table_id=" + format_table(tm.table_id, fmt_ctx(ctx).table_names)
    if tm.miss != MISS_DEFAULT:
        text += ", flow_miss_config=" + _setting(MISS_NAMES, tm.miss)
    if tm.eviction != SETTING_DEFAULT:
        text += ", eviction=" + _setting(SETTING_NAMES, tm.eviction)
    if tm.eviction_flags != 0xFFFFFFFF:
        text += "eviction_flags=" + bit_names(tm.eviction_flags, EVICTION_FLAG_NAMES, "|")
    if tm.vacancy != SETTING_DEFAULT:
        text += ", vacancy=" + _setting(SETTING_NAMES, tm.vacancy)
        if tm.vacancy == SETTING_ON:
            text += f" vacancy:{tm.vacancy_down},{tm.vacancy_up}"
    return text


# --- meters -------------------------------------------------------------------------

METER_MOD: Final = struct.Struct("!HHI")
"""command, flags, meter_id."""
METER_BAND: Final = struct.Struct("!HHIIB3x")
"""type, len, rate, burst_size, prec_level (DSCP remark only)."""
METER_REQUEST: Final = struct.Struct("!I4x")
METER_CONFIG: Final = struct.Struct("!HHI")
"""length, flags, meter_id."""
METER_STATS: Final = struct.Struct("!IH6xIQQII")
"""meter_id, len, flow_count, packet_in_count, byte_in_count, duration_sec/nsec."""
BAND_STATS: Final = struct.Struct("!QQ")
METER_FEATURES: Final = struct.Struct("!IIIBB2x")
"""max_meter, band_types, capabilities, max_bands, max_color."""
MC_ADD, MC_MODIFY, MC_DELETE = 0, 1, 2
MF_KBPS, MF_PKTPS, MF_BURST, MF_STATS = 1, 2, 4, 8
MBT_DROP, MBT_DSCP_REMARK = 1, 2
METER_MAX: Final = 0xFFFF0000
METER_NAMES: Final = {0xFFFFFFFD: "slowpath", 0xFFFFFFFE: "controller", 0xFFFFFFFF: "all"}
METER_FLAG_NAMES: Final = ((MF_KBPS, "kbps"), (MF_PKTPS, "pktps"), (MF_BURST, "burst"),
                           (MF_STATS, "stats"))


def format_meter_id(meter_id: int, sep: str) -> str:
    """OVS ``ofputil_format_meter_id``."""
    if meter_id <= METER_MAX:
        return f"meter{sep}{meter_id}"
    return f"meter{sep}{METER_NAMES.get(meter_id, 'unknown')}"


@dataclass(frozen=True, slots=True)
class MeterBand:
    """One band (OVS ``struct ofputil_meter_band``)."""

    type: int
    rate: int
    burst_size: int = 0
    prec_level: int = 0


@dataclass(frozen=True, slots=True)
class MeterConfig:
    """A meter's settings (OVS ``struct ofputil_meter_config``)."""

    meter_id: int
    flags: int = 0
    bands: tuple[MeterBand, ...] = ()


@dataclass(frozen=True, slots=True)
class MeterMod(Body):
    """OFPT_METER_MOD."""

    command: int
    meter: MeterConfig


def _pull_bands(b: memoryview) -> tuple[MeterBand, ...]:
    out = []
    pos = 0
    while len(b) - pos >= METER_BAND.size:
        type_, length, rate, burst, prec = METER_BAND.unpack_from(b, pos)
        if length != METER_BAND.size:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, f"meter band length {length}")
        if type_ not in (MBT_DROP, MBT_DSCP_REMARK):
            raise OFError(OFPErr.OFPMMFC_BAD_BAND, f"meter band type {type_}")
        out.append(MeterBand(type_, rate, burst, prec if type_ == MBT_DSCP_REMARK else 0))
        pos += length
    if pos != len(b):
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "leftover bytes after meter bands")
    return tuple(out)


def _put_bands(bands: tuple[MeterBand, ...]) -> bytes:
    return b"".join(METER_BAND.pack(mb.type, METER_BAND.size, mb.rate, mb.burst_size,
                                    mb.prec_level) for mb in bands)


def _decode_meter_mod(version: int, raw: Raw, b: memoryview) -> Body:
    command, flags, meter_id = METER_MOD.unpack_from(b)
    if command not in (MC_ADD, MC_MODIFY, MC_DELETE):
        raise OFError(OFPErr.OFPMMFC_BAD_COMMAND, f"meter command {command}")
    if command == MC_DELETE:
        return MeterMod(command, MeterConfig(meter_id))
    if flags & MF_KBPS and flags & MF_PKTPS:
        raise OFError(OFPErr.OFPMMFC_BAD_FLAGS, "meter is both kbps and pktps")
    return MeterMod(command, MeterConfig(meter_id, flags, _pull_bands(b[METER_MOD.size:])))


def _encode_meter_mod(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, MeterMod)
    m = body.meter
    flags = 0 if body.command == MC_DELETE else m.flags
    return METER_MOD.pack(body.command, flags, m.meter_id) + _put_bands(m.bands)


def format_meter_config(mc: MeterConfig) -> str:
    """OVS ``ofputil_format_meter_config``."""
    text = format_meter_id(mc.meter_id, "=") + " "
    text += "".join(f"{name} " for flag, name in METER_FLAG_NAMES if mc.flags & flag)
    rest = mc.flags & ~(MF_KBPS | MF_PKTPS | MF_BURST | MF_STATS)
    if rest:
        text += f"flags:0x{rest:x} "
    text += "bands="
    for mb in mc.bands:
        text += "\ntype=" + {MBT_DROP: "drop", MBT_DSCP_REMARK: "dscp_remark"}.get(
            mb.type, str(mb.type))
        text += f" rate={mb.rate}"
        if mc.flags & MF_BURST:
            text += f" burst_size={mb.burst_size}"
        if mb.type == MBT_DSCP_REMARK:
            text += f" prec_level={mb.prec_level}"
    return text + "\n"


def _format_meter_mod(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, MeterMod)
    names = {MC_ADD: "ADD", MC_MODIFY: "MOD", MC_DELETE: "DEL"}
    return f" {names.get(body.command, f'cmd:{body.command}')} " + format_meter_config(body.meter)


@dataclass(frozen=True, slots=True)
class MeterStatsRequest(Body):
    """OFPST_METER request."""

    meter_id: int = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class MeterConfigRequest(Body):
    """OFPST_METER_CONFIG request."""

    meter_id: int = 0xFFFFFFFF


def _decode_meter_request(version: int, raw: Raw, b: memoryview) -> Body:
    meter_id = METER_REQUEST.unpack_from(b)[0]
    return (MeterConfigRequest(meter_id) if "CONFIG" in raw.name
            else MeterStatsRequest(meter_id))


def _encode_meter_request(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, (MeterStatsRequest, MeterConfigRequest))
    return METER_REQUEST.pack(body.meter_id)


def _format_meter_request(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, (MeterStatsRequest, MeterConfigRequest))
    return " " + format_meter_id(body.meter_id, "=")


@dataclass(frozen=True, slots=True)
class MeterConfigReply(Body):
    meters: tuple[MeterConfig, ...] = ()


def _pull_meter_config(version: int, raw: Raw, b: memoryview, pos: int
                       ) -> tuple[MeterConfig, int]:
    if len(b) - pos < METER_CONFIG.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "leftover bytes in meter config reply")
    length, flags, meter_id = METER_CONFIG.unpack_from(b, pos)
    end = pos + length
    if length < METER_CONFIG.size or end > len(b):
        raise OFError(OFPErr.OFPBRC_BAD_LEN, f"meter config length {length}")
    return MeterConfig(meter_id, flags, _pull_bands(b[pos + METER_CONFIG.size:end])), end


def _encode_meter_config_reply(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, MeterConfigReply)
    out = b""
    for mc in body.meters:
        bands = _put_bands(mc.bands)
        out += METER_CONFIG.pack(METER_CONFIG.size + len(bands), mc.flags, mc.meter_id) + bands
    return out


def _format_meter_config_reply(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, MeterConfigReply)
    return "".join("\n" + format_meter_config(mc) for mc in body.meters)


@dataclass(frozen=True, slots=True)
class MeterStats:
    """One meter's counters (OVS ``struct ofputil_meter_stats``)."""

    meter_id: int
    flow_count: int = 0
    packet_in_count: int = 0
    byte_in_count: int = 0
    duration_sec: int = 0
    duration_nsec: int = 0
    bands: tuple[tuple[int, int], ...] = ()
    """(packet_count, byte_count) per band."""


@dataclass(frozen=True, slots=True)
class MeterStatsReply(Body):
    stats: tuple[MeterStats, ...] = ()


def _pull_meter_stats(version: int, raw: Raw, b: memoryview, pos: int
                      ) -> tuple[MeterStats, int]:
    if len(b) - pos < METER_STATS.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "leftover bytes in meter stats reply")
    meter_id, length, flows, packets, bytes_, sec, nsec = METER_STATS.unpack_from(b, pos)
    band_len = length - METER_STATS.size
    start = pos + METER_STATS.size
    if band_len < 0 or start + band_len > len(b) or band_len % BAND_STATS.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, f"meter stats length {length}")
    bands = tuple(BAND_STATS.unpack_from(b, start + i)
                  for i in range(0, band_len, BAND_STATS.size))
    return MeterStats(meter_id, flows, packets, bytes_, sec, nsec, bands), start + band_len


def _encode_meter_stats_reply(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, MeterStatsReply)
    out = b""
    for ms in body.stats:
        bands = b"".join(BAND_STATS.pack(*band) for band in ms.bands)
        out += METER_STATS.pack(ms.meter_id, METER_STATS.size + len(bands), ms.flow_count,
                                ms.packet_in_count, ms.byte_in_count, ms.duration_sec,
                                ms.duration_nsec) + bands
    return out


def _format_meter_stats_reply(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, MeterStatsReply)
    text = ""
    for ms in body.stats:
        text += ("\n" + format_meter_id(ms.meter_id, ":") + f" flow_count:{ms.flow_count}"
                 f" packet_in_count:{ms.packet_in_count} byte_in_count:{ms.byte_in_count}"
                 " duration:" + duration(ms.duration_sec, ms.duration_nsec) + " bands:\n")
        for i, (packets, bytes_) in enumerate(ms.bands):
            text += f"{i}: packet_count:{packets} byte_count:{bytes_}\n"
    return text


@dataclass(frozen=True, slots=True)
class MeterFeaturesReply(Body):
    """OFPST_METER_FEATURES reply."""

    max_meters: int = 0
    band_types: int = 0
    capabilities: int = 0
    max_bands: int = 0
    max_color: int = 0


def _decode_meter_features(version: int, raw: Raw, b: memoryview) -> Body:
    return MeterFeaturesReply(*METER_FEATURES.unpack_from(b))


def _encode_meter_features(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, MeterFeaturesReply)
    f = body
    return METER_FEATURES.pack(f.max_meters, f.band_types, f.capabilities, f.max_bands,
                               f.max_color)


def _format_meter_features(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, MeterFeaturesReply)
    f = body
    return (f"\nmax_meter:{f.max_meters} max_bands:{f.max_bands} max_color:{f.max_color}\n"
            "band_types: " + bit_names(f.band_types, {2: "drop", 4: "dscp_remark"}) + "\n"
            "capabilities: " + bit_names(f.capabilities, dict(METER_FLAG_NAMES)) + "\n")


# --- tables ----------------------------------------------------------------------------

_METER_REQUEST: Final = MsgCodec(_decode_meter_request, _encode_meter_request,
                                 _format_meter_request)

CODECS: Final[dict[str, MsgCodec]] = {
    "OFPST_DESC_REPLY": MsgCodec(_decode_desc, _encode_desc, _format_desc),
    "OFPT11_TABLE_MOD": MsgCodec(_decode_table_mod, _encode_table_mod, _format_table_mod),
    "OFPT14_TABLE_MOD": MsgCodec(_decode_table_mod, _encode_table_mod, _format_table_mod),
    "OFPT13_METER_MOD": MsgCodec(_decode_meter_mod, _encode_meter_mod, _format_meter_mod),
    "OFPST13_METER_REQUEST": _METER_REQUEST,
    "OFPST13_METER_CONFIG_REQUEST": _METER_REQUEST,
    "OFPST13_METER_CONFIG_REPLY": list_codec(_pull_meter_config, MeterConfigReply,
                                             _encode_meter_config_reply,
                                             _format_meter_config_reply),
    "OFPST13_METER_REPLY": list_codec(_pull_meter_stats, MeterStatsReply,
                                      _encode_meter_stats_reply, _format_meter_stats_reply),
    "OFPST13_METER_FEATURES_REPLY": MsgCodec(_decode_meter_features, _encode_meter_features,
                                             _format_meter_features),
}

DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {
    DescReply: lambda v: "OFPST_DESC_REPLY",
    TableMod: lambda v: "OFPT14_TABLE_MOD" if v >= 5 else "OFPT11_TABLE_MOD",
    MeterMod: lambda v: "OFPT13_METER_MOD",
    MeterStatsRequest: lambda v: "OFPST13_METER_REQUEST",
    MeterConfigRequest: lambda v: "OFPST13_METER_CONFIG_REQUEST",
    MeterConfigReply: lambda v: "OFPST13_METER_CONFIG_REPLY",
    MeterStatsReply: lambda v: "OFPST13_METER_REPLY",
    MeterFeaturesReply: lambda v: "OFPST13_METER_FEATURES_REPLY",
}
