"""OXS: the TLV-encoded flow statistics of OpenFlow 1.5.

OpenFlow 1.5 replaced the fixed counters of flow stats, flow-removed and
aggregate replies with an ``ofp_oxs_stat`` block: a 4-byte header (reserved,
length) and TLVs shaped like OXM (class 0x8002, field, length) for duration,
idle time, flow count, packet count and byte count, padded to 8 bytes.  This
module reads and writes that block as OVS ``oxs_pull_stat``/``oxs_put_stats``
do: unknown or oddly sized entries are skipped, absent statistics are
``None``, and output order is OVS's.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from .errors import OFError, OFPErr
from .match import pad8

UNKNOWN64: Final = (1 << 64) - 1

OXS_HEADER: Final = struct.Struct("!HH")
"""reserved, length of the ofp_oxs_stat block."""
OFPXSC_OPENFLOW_BASIC: Final = 0x8002
OFPXST_DURATION: Final = 0
OFPXST_IDLE_TIME: Final = 1
OFPXST_FLOW_COUNT: Final = 3
OFPXST_PACKET_COUNT: Final = 4
OFPXST_BYTE_COUNT: Final = 5


@dataclass(frozen=True, slots=True)
class OxsStats:
    """OVS ``struct oxs_stats``: all-ones (``None`` here) means absent."""

    duration_sec: int | None = None
    duration_nsec: int = 0
    idle_age: int | None = None
    packet_count: int | None = None
    byte_count: int | None = None
    flow_count: int | None = None


def pull_oxs(data: memoryview, offset: int) -> tuple[OxsStats, int]:
    """(stats, bytes used with padding), as OVS ``oxs_pull_stat``."""
    if len(data) - offset < 4:
        raise OFError(OFPErr.OFPBMC_BAD_LEN, "truncated OXS header")
    length = OXS_HEADER.unpack_from(data, offset)[1]
    padded = length + pad8(length)
    if length < 4 or offset + padded > len(data):
        raise OFError(OFPErr.OFPBMC_BAD_LEN, f"OXS length {length}")
    values: dict[str, int | None] = {}
    pos, end = offset + 4, offset + length
    while pos < end:
        if end - pos < 4:
            raise OFError(OFPErr.OFPBMC_BAD_LEN, "partial OXS entry")
        header = struct.unpack_from("!I", data, pos)[0]
        oxs_class, stat, size = header >> 16, (header >> 9) & 0x7F, header & 0xFF
        head = 4
        if oxs_class == 0xFFFF:
            if end - pos < 8:
                raise OFError(OFPErr.OFPBMC_BAD_LEN, "partial OXS experimenter entry")
            if size < 4:
                raise OFError(OFPErr.OFPBMC_BAD_LEN, "OXS length below its header")
            head, size = 8, size - 4
        if pos + head + size > end:
            raise OFError(OFPErr.OFPBMC_BAD_LEN, "OXS entry overruns")
        payload = bytes(data[pos + head:pos + head + size])
        pos += head + size
        if oxs_class != OFPXSC_OPENFLOW_BASIC or header & 0x100:
            continue
        value = int.from_bytes(payload, "big")
        if stat == OFPXST_DURATION and size == 8:
            values["duration_sec"], values["duration_nsec"] = value >> 32, value & 0xFFFFFFFF
        elif stat == OFPXST_IDLE_TIME and size == 8:
            values["idle_age"] = value >> 32
        elif stat == OFPXST_PACKET_COUNT and size == 8:
            values["packet_count"] = value
        elif stat == OFPXST_BYTE_COUNT and size == 8:
            values["byte_count"] = value
        elif stat == OFPXST_FLOW_COUNT and size == 4:
            values["flow_count"] = value
    sec = values.get("duration_sec")
    stats = OxsStats(sec, values.get("duration_nsec") or 0, values.get("idle_age"),
                     values.get("packet_count"), values.get("byte_count"),
                     values.get("flow_count"))
    return stats, padded


def or_unknown(value: int | None) -> int:
    """A counter as OVS holds it: all-ones when absent."""
    return UNKNOWN64 if value is None else value


def duration_of(stats: OxsStats) -> tuple[int, int]:
    """(sec, nsec), all-ones when absent, as OVS leaves them."""
    if stats.duration_sec is None:
        return 0xFFFFFFFF, 0xFFFFFFFF
    return stats.duration_sec, stats.duration_nsec


def put_oxs(stats: OxsStats) -> bytes:
    """OVS ``oxs_put_stats``."""
    body = bytearray()

    def put(stat: int, size: int, value: int) -> None:
        body.extend(struct.pack("!I", OFPXSC_OPENFLOW_BASIC << 16 | stat << 9 | size))
        body.extend(value.to_bytes(size, "big"))

    if stats.duration_sec is not None:
        put(OFPXST_DURATION, 8, stats.duration_sec << 32 | stats.duration_nsec)
    if stats.idle_age is not None:
        put(OFPXST_IDLE_TIME, 8, stats.idle_age << 32)
    if stats.packet_count is not None:
        put(OFPXST_PACKET_COUNT, 8, stats.packet_count)
    if stats.byte_count is not None:
        put(OFPXST_BYTE_COUNT, 8, stats.byte_count)
    if stats.flow_count is not None:
        put(OFPXST_FLOW_COUNT, 4, stats.flow_count)
    length = 4 + len(body)
    return OXS_HEADER.pack(0, length) + bytes(body) + bytes(pad8(length))


