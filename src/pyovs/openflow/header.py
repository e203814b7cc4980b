"""OpenFlow headers: find a message's raw type, check its length, write headers.

Every OpenFlow message starts with ``ofp_header`` (version, type, length,
xid).  Statistics messages add a stats header (stat type and flags; 4 bytes
in 1.0, 8 in 1.1+), vendor messages a vendor id and subtype, and vendor
statistics both.  ``decode_header`` peels all of them off and identifies the
raw type from ``msgtable``, with the checks and errors of OVS's
``ofphdrs_decode``/``ofpraw_pull``:

* fewer bytes than the headers need: ``OFPBRC_BAD_LEN``;
* an unknown vendor: ``OFPBRC_BAD_VENDOR``;
* no raw type for (version, type, stat, vendor, subtype): ``BAD_SUBTYPE`` for
  vendor messages, ``BAD_STAT`` for statistics, ``BAD_TYPE`` otherwise;
* a body length the raw type does not allow: ``OFPBRC_BAD_LEN``.

The caller hands in exactly one message (``length`` bytes); framing a byte
stream into messages is ``connection.py``'s job.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from .errors import NX_VENDOR_ID, ONF_VENDOR_ID, OFError, OFPErr
from .msgtable import RAWS, Family, Raw

OFP_HEADER: Final = struct.Struct("!BBHI")
"""version, type, length, xid."""
OFP10_STATS: Final = struct.Struct("!HH")
"""stat type, flags (after ofp_header, OpenFlow 1.0)."""
OFP11_STATS: Final = struct.Struct("!HH4x")
"""stat type, flags, pad (after ofp_header, OpenFlow 1.1+)."""
VENDOR: Final = struct.Struct("!II")
"""vendor id, subtype."""

OFPT_VENDOR: Final = 4
OFPT10_STATS_REQUEST: Final = 16
OFPT10_STATS_REPLY: Final = 17
OFPT11_STATS_REQUEST: Final = 18
OFPT11_STATS_REPLY: Final = 19
OFPST_VENDOR: Final = 0xFFFF
OFPSF_REPLY_MORE: Final = 1
MAX_VERSION: Final = 6
ALL_VERSIONS: Final = 255

HdrsKey = tuple[int, int, int, int, int]
"""(version, type, stat, vendor, subtype), OVS's ``struct ofphdrs``."""


def _stats_types(version: int) -> tuple[int, int]:
    return ((OFPT10_STATS_REQUEST, OFPT10_STATS_REPLY) if version == 1
            else (OFPT11_STATS_REQUEST, OFPT11_STATS_REPLY))


def hdrs_for(raw: Raw, version: int) -> HdrsKey:
    """The header values that identify ``raw`` in ``version``."""
    fam = raw.family
    if fam is Family.OFPT:
        return version, raw.number, 0, 0, 0
    if fam in (Family.NXT, Family.ONFT):
        vendor = NX_VENDOR_ID if fam is Family.NXT else ONF_VENDOR_ID
        return version, OFPT_VENDOR, 0, vendor, raw.number
    request, reply = _stats_types(version)
    type_ = request if raw.is_request else reply
    if fam is Family.OFPST:
        return version, type_, raw.number, 0, 0
    vendor = NX_VENDOR_ID if fam is Family.NXST else ONF_VENDOR_ID
    return version, type_, OFPST_VENDOR, vendor, raw.number


def _build_index() -> dict[HdrsKey, Raw]:
    index: dict[HdrsKey, Raw] = {}
    for raw in RAWS.values():
        for version in range(raw.min_version, raw.max_version + 1):
            index[hdrs_for(raw, version)] = raw
    return index


_INDEX: Final = _build_index()


def headers_len(key: HdrsKey) -> int:
    """OVS ``ofphdrs_len``: bytes of headers before the body."""
    version, type_, stat, _, _ = key
    if type_ == OFPT_VENDOR:
        return 16
    if type_ in _stats_types(version) and 1 <= version <= MAX_VERSION:
        if version == 1:
            return 24 if stat == OFPST_VENDOR else 12
        return 24 if stat == OFPST_VENDOR else 16
    return 8


@dataclass(frozen=True, slots=True)
class Header:
    """What the headers of one message say."""

    raw: Raw
    """The raw type."""
    version: int
    xid: int
    length: int
    """Total message length from ofp_header."""
    header_len: int
    """Bytes of headers before the body."""
    stats_flags: int = 0
    """Stats/multipart flags (``OFPSF_REPLY_MORE``); 0 for other messages."""


def decode_hdrs(data: bytes | memoryview) -> tuple[HdrsKey, int]:
    """OVS ``ofphdrs_decode``: (key, stats flags) from the start of a message."""
    n = len(data)
    if n < 8:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "shorter than ofp_header")
    version, type_ = data[0], data[1]
    stat = vendor = subtype = flags = 0
    if type_ == OFPT_VENDOR:
        if n < 16:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, "truncated vendor header", version)
        vendor, subtype = VENDOR.unpack_from(data, 8)
        if vendor not in (NX_VENDOR_ID, ONF_VENDOR_ID):
            raise OFError(OFPErr.OFPBRC_BAD_VENDOR, f"vendor {vendor:#x}", version)
    elif type_ in _stats_types(version):
        stats_len = 12 if version == 1 else 16
        if n < stats_len:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, "truncated stats header", version)
        stat, flags = OFP10_STATS.unpack_from(data, 8)
        if stat == OFPST_VENDOR:
            # OpenFlow 1.0: vendor, then (Nicira only) subtype and 4 bytes of
            # padding; 1.1+: vendor and subtype, checked together.
            if n < (16 if version == 1 else 24):
                raise OFError(OFPErr.OFPBRC_BAD_LEN, "truncated vendor stats header",
                              version)
            vendor = struct.unpack_from("!I", data, stats_len)[0]
            allowed = (NX_VENDOR_ID,) if version == 1 else (NX_VENDOR_ID, ONF_VENDOR_ID)
            if vendor not in allowed:
                raise OFError(OFPErr.OFPBRC_BAD_VENDOR, f"vendor {vendor:#x}", version)
            if n < 24:
                raise OFError(OFPErr.OFPBRC_BAD_LEN, "truncated vendor stats header",
                              version)
            subtype = struct.unpack_from("!I", data, stats_len + 4)[0]
    return (version, type_, stat, vendor, subtype), flags


def lookup(key: HdrsKey) -> Raw:
    """OVS ``ofpraw_from_ofphdrs``."""
    raw = _INDEX.get(key)
    if raw is None and key[0] > MAX_VERSION and key[1] <= 3:
        raw = _INDEX.get((1, *key[1:]))
        if raw is not None and raw.max_version != ALL_VERSIONS:
            raw = None
    if raw is None:
        version, type_, _, vendor, _ = key
        if vendor:
            err = OFPErr.OFPBRC_BAD_SUBTYPE
        elif type_ in _stats_types(version) and 1 <= version <= MAX_VERSION:
            err = OFPErr.OFPBRC_BAD_STAT
        else:
            err = OFPErr.OFPBRC_BAD_TYPE
        raise OFError(err, f"unknown OpenFlow message (version {version}, type {type_})", version)
    return raw


def check_length(raw: Raw, header_len: int, length: int, version: int) -> None:
    """OVS ``ofpraw_check_length``."""
    min_len = header_len + raw.min_body
    if raw.extra == 0:
        ok = length == min_len
    else:
        ok = length >= min_len and (length - min_len) % raw.extra == 0
    if not ok:
        raise OFError(OFPErr.OFPBRC_BAD_LEN,
                      f"received {raw.human_name} with incorrect length {length}", version)


def decode_header(data: bytes | memoryview) -> Header:
    """Identify one whole message (``len(data)`` must equal its length field)."""
    key, flags = decode_hdrs(data)
    raw = lookup(key)
    header_len = headers_len(key)
    length = len(data)
    check_length(raw, header_len, length, key[0])
    xid = struct.unpack_from("!I", data, 4)[0]
    return Header(raw, key[0], xid, length, header_len, flags)


def encode_header(raw: Raw, version: int, xid: int, body_len: int,
                  stats_flags: int = 0) -> bytes:
    """All headers of a ``raw`` message in ``version`` with a ``body_len``-byte body."""
    v, type_, stat, vendor, subtype = hdrs_for(raw, version)
    header_len = headers_len((v, type_, stat, vendor, subtype))
    out = OFP_HEADER.pack(version, type_, header_len + body_len, xid)
    if type_ == OFPT_VENDOR:
        return out + VENDOR.pack(vendor, subtype)
    if raw.is_stats:
        stats = (OFP10_STATS if version == 1 else OFP11_STATS).pack(stat, stats_flags)
        out += stats
        if stat == OFPST_VENDOR:
            out += VENDOR.pack(vendor, subtype)
            if version == 1:
                out += bytes(4)
    return out
