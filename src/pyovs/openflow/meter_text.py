"""Meter mods from ovs-ofctl text (OVS ``parse_ofp_meter_mod_str``, lib/ofp-meter.c).

``meter=N,kbps|pktps[,burst][,stats],bands=type=drop,rate=R[,burst_size=B]...``:
the text is cut at the first ``band`` (anywhere, as OVS's ``strstr``); the
part before holds the meter id and flag words, the part after the next
``=`` a list of bands, each begun by ``type=``.  OVS reads both parts with
``strtok_r`` -- names end at ``=``, comma or white space, values at comma
or white space -- and ``_Tokens`` reproduces that, so that odd spacing is
accepted or refused exactly as ovs-ofctl does.

``command`` is a meter-mod command, or ``METER_REQUEST`` for the meter
selector of dump-meters/meter-stats (only ``meter=`` allowed).  Meters exist
from OpenFlow 1.3, so the usable protocols are always OF1.3 and later.
"""

from __future__ import annotations

from typing import Final

from .act_wire import str_to_u8, str_to_u32
from .errors import ParseError
from .msg_stats import (
    MBT_DROP,
    MBT_DSCP_REMARK,
    MC_ADD,
    MC_DELETE,
    MC_MODIFY,
    METER_MAX,
    MF_BURST,
    MF_KBPS,
    MF_PKTPS,
    MF_STATS,
    MeterBand,
    MeterConfig,
    MeterMod,
)
from .protocols import OF13_UP

__all__ = ["METER_REQUEST", "parse_meter_mod"]

METER_REQUEST: Final = -1
_NAME_DELIMS: Final = "=, \t\r\n"
_VALUE_DELIMS: Final = ", \t\r\n"
_F_METER, _F_FLAGS, _F_BANDS = 1, 2, 4
_COMMAND_FIELDS: Final = {METER_REQUEST: _F_METER, MC_ADD: _F_METER | _F_FLAGS | _F_BANDS,
                          MC_DELETE: _F_METER, MC_MODIFY: _F_METER | _F_FLAGS | _F_BANDS}
_FLAGS: Final = {"kbps": MF_KBPS, "pktps": MF_PKTPS, "burst": MF_BURST, "stats": MF_STATS}
_SPECIAL_IDS: Final = {"all": 0xFFFFFFFF, "controller": 0xFFFFFFFE, "slowpath": 0xFFFFFFFD}
_BAND_TYPES: Final = {"drop": MBT_DROP, "dscp_remark": MBT_DSCP_REMARK}


class _Tokens:
    """C ``strtok_r`` over one string: each call may use different delimiters."""

    def __init__(self, s: str) -> None:
        self.s = s
        self.pos = 0

    def next(self, delims: str) -> str | None:
        s, i = self.s, self.pos
        while i < len(s) and s[i] in delims:
            i += 1
        if i >= len(s):
            self.pos = i
            return None
        j = i
        while j < len(s) and s[j] not in delims:
            j += 1
        self.pos = j + 1
        return s[i:j]


def _meter_id(value: str) -> int:
    if value in _SPECIAL_IDS:
        return _SPECIAL_IDS[value]
    meter_id = str_to_u32(value)
    if meter_id > METER_MAX or not meter_id:
        raise ParseError("invalid value for meter")
    return meter_id


def _parse_bands(text: str) -> list[list[int]]:
    """Each band as [type, rate, burst_size, prec_level]."""
    bands: list[list[int]] = []
    tokens = _Tokens(text)
    while (name := tokens.next(_NAME_DELIMS)) is not None:
        value = tokens.next(_VALUE_DELIMS)
        if value is None:
            raise ParseError(f"field {name} missing value")
        if name == "type":
            if value not in _BAND_TYPES:
                raise ParseError(f"field {name} unknown value {value}")
            bands.append([_BAND_TYPES[value], 0, 0, 0])
        elif not bands:
            raise ParseError("band must start with the 'type' keyword")
        elif name == "rate":
            bands[-1][1] = str_to_u32(value)
        elif name == "burst_size":
            bands[-1][2] = str_to_u32(value)
        elif name == "prec_level":
            bands[-1][3] = str_to_u8(value, name)
        else:
            raise ParseError(f"unknown keyword {name}")
    return bands


def _check_band(band: list[int], flags: int) -> MeterBand:
    type_, rate, burst, prec = band
    if type_ == MBT_DSCP_REMARK:
        if not prec:
            raise ParseError("'dscp_remark' band must have 'prec_level'")
    elif prec:
        raise ParseError("Only 'dscp_remark' band may have 'prec_level'")
    if not rate:
        raise ParseError("band must have 'rate'")
    if flags & MF_BURST:
        if not burst:
            raise ParseError("band must have 'burst_size' when 'burst' flag is set")
    elif burst:
        raise ParseError("band may have 'burst_size' only when 'burst' flag is set")
    return MeterBand(type_, rate, burst, prec)


def parse_meter_mod(text: str, command: int) -> tuple[MeterMod, int]:
    """A meter mod (or request selector) and its usable protocols; ``ParseError``."""
    fields = _COMMAND_FIELDS[command]
    band_text = ""
    if fields & _F_BANDS:
        at = text.find("band")
        if at < 0:
            raise ParseError("must specify bands")
        eq = text.find("=", at + 1)
        if eq < 0:
            raise ParseError("must specify bands")
        text, band_text = text[:at], text[eq + 1:]
    meter_id = flags = 0
    tokens = _Tokens(text)
    while (name := tokens.next(_NAME_DELIMS)) is not None:
        if fields & _F_FLAGS and name in _FLAGS:
            flags |= _FLAGS[name]
            continue
        value = tokens.next(_VALUE_DELIMS)
        if value is None:
            raise ParseError(f"field {name} missing value")
        if name != "meter":
            raise ParseError(f"unknown keyword {name}")
        meter_id = _meter_id(value)
    if fields & _F_METER and not meter_id:
        raise ParseError("must specify 'meter'")
    if fields & _F_FLAGS and not flags:
        raise ParseError("meter must specify either 'kbps' or 'pktps'")
    bands: tuple[MeterBand, ...] = ()
    if fields & _F_BANDS:
        raw_bands = _parse_bands(band_text)
        if not raw_bands:
            raise ParseError("meter must have bands")
        bands = tuple(_check_band(b, flags) for b in raw_bands)
    return MeterMod(max(command, 0), MeterConfig(meter_id, flags, bands)), OF13_UP
