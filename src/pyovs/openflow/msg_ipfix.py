"""IPFIX statistics replies (Nicira NXST_IPFIX_BRIDGE / NXST_IPFIX_FLOW, lib/ofp-ipfix.c).

Both replies are lists of ``nx_ipfix_stats_reply`` (88 bytes: ten 64-bit
counters and a collector set id): one entry for the bridge exporter, one per
collector set for flow-based sampling.  Counters of all ones are unknown and
print as ``?``.  The requests have no body (``msg_basic``'s empty requests).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .codec import Body, FormatContext, list_codec
from .errors import OFError, OFPErr
from .msgtable import Raw

NX_IPFIX_STATS_REPLY: Final = struct.Struct("!QQQQQQQQQQI4x")
"""total_flows, current_flows, pkts, ipv4_pkts, ipv6_pkts, error_pkts,
ipv4_error_pkts, ipv6_error_pkts, tx_pkts, tx_errors, collector_set_id."""
assert NX_IPFIX_STATS_REPLY.size == 88
_UNKNOWN: Final = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class IpfixStats:
    """One exporter's counters (``struct ofputil_ipfix_stats``)."""

    total_flows: int
    current_flows: int
    pkts: int
    ipv4_pkts: int
    ipv6_pkts: int
    error_pkts: int
    ipv4_error_pkts: int
    ipv6_error_pkts: int
    tx_pkts: int
    tx_errors: int
    collector_set_id: int


@dataclass(frozen=True, slots=True)
class IpfixStatsReply(Body):
    """NXST_IPFIX_BRIDGE or NXST_IPFIX_FLOW reply."""

    stats: tuple[IpfixStats, ...] = ()


def _pull(version: int, raw: Raw, b: memoryview, pos: int) -> tuple[IpfixStats, int]:
    if len(b) - pos < NX_IPFIX_STATS_REPLY.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "leftover bytes in ipfix stats reply")
    return (IpfixStats(*NX_IPFIX_STATS_REPLY.unpack_from(b, pos)),
            pos + NX_IPFIX_STATS_REPLY.size)


def _encode(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, IpfixStatsReply)
    return b"".join(NX_IPFIX_STATS_REPLY.pack(
        s.total_flows, s.current_flows, s.pkts, s.ipv4_pkts, s.ipv6_pkts, s.error_pkts,
        s.ipv4_error_pkts, s.ipv6_error_pkts, s.tx_pkts, s.tx_errors, s.collector_set_id)
        for s in body.stats)


def _counters(s: IpfixStats, indent: int) -> str:
    """OVS ``format_ipfix_stats``: two lines of counters, the second indented."""
    def one(label: str, value: int, last: bool) -> str:
        return label + ("?" if value == _UNKNOWN else str(value)) + ("\n" if last else ", ")
    return (one("flows=", s.total_flows, False) + one("current flows=", s.current_flows, False)
            + one("sampled pkts=", s.pkts, False) + one("ipv4 ok=", s.ipv4_pkts, False)
            + one("ipv6 ok=", s.ipv6_pkts, False) + one("tx pkts=", s.tx_pkts, True)
            + " " * indent + one("pkts errs=", s.error_pkts, False)
            + one("ipv4 errs=", s.ipv4_error_pkts, False)
            + one("ipv6 errs=", s.ipv6_error_pkts, False) + one("tx errs=", s.tx_errors, True))


def _format_bridge(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, IpfixStatsReply)
    return "".join("\n  bridge ipfix: " + _counters(s, 16) for s in body.stats)


def _format_flow(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, IpfixStatsReply)
    return f" {len(body.stats)} ids\n" + "".join(
        f"  id {s.collector_set_id:3d}: " + _counters(s, 10) for s in body.stats)


CODECS: Final = {
    "NXST_IPFIX_BRIDGE_REPLY": list_codec(_pull, IpfixStatsReply, _encode, _format_bridge),
    "NXST_IPFIX_FLOW_REPLY": list_codec(_pull, IpfixStatsReply, _encode, _format_flow),
}
DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {}
