"""The exact-match key: which class of packet this is, without parsing it.

The datapath's exact-match cache (EMC) maps a key to the megaflow that
served the last packet with that key.  The key must be cheap -- a few byte
slices of fixed headers in one tuple -- and *sound*: two packets with the
same key must have the same ``extract_flow`` result (with the same
``in_port``), or the cache would apply one packet's decision to another.

``fast_key`` returns such a key for the common shapes -- Ethernet,
optionally one 802.1Q/802.1ad tag, then IPv4 without options and not a
fragment, or IPv6 without extension headers, carrying TCP, UDP, ICMP or a
protocol ``extract_flow`` does not look into -- after checking exactly the
conditions under which ``extract_flow`` reads the fields the key holds
(header lengths within the IP total length, a sane TCP data offset).  The
slices skip the fields that vary from packet to packet without changing
the flow: IPv4 total length, identification and checksum, IPv6 payload
length, L4 lengths, sequence numbers and checksums.  Anything else (ARP,
IP options, fragments, extension headers, neighbour discovery, IGMP,
SCTP, truncated headers, two tags) gets ``None``, and the caller keys the
packet by its full extracted flow (``flow_key``).

Keys of different shapes never collide: every slice tuple starts with the
Ethernet header up to and including the IP version byte, so the
ethertype, the tag and the tuple's length tell the shapes apart, and the
protocol byte sits in the same place for all shapes of one IP version.
The two commonest shapes (untagged IPv4 UDP and TCP) are cut by one
``struct`` call into an inner tuple, ``(in_port, (slices...))``, a shape
no other key has.
The hypothesis tests in ``tests/unit/test_packet_fastkey.py`` check the
soundness property against ``extract_flow`` directly.
"""

from __future__ import annotations

import struct
from collections.abc import Hashable, Mapping
from typing import Final

__all__ = ["fast_key", "flow_key"]


_V4: Final = struct.Struct("!12xHBxHxxHxB")
"""Untagged IPv4 in one call: ethertype, version/IHL, total length, flags/offset, protocol."""
_V4_UDP: Final = struct.Struct("!16s4x4s2x12s")
"""The key slices of untagged IPv4 UDP, as one tuple: [0:16], [20:24], [26:38]."""
_V4_TCP: Final = struct.Struct("!16s4x4s2x12s8x2s")
"""The same plus the TCP data offset and flags, [46:48]."""


def fast_key(in_port: int, data: bytes) -> Hashable | None:
    """The packet's exact-match key, or None for shapes the fast path does not know."""
    n = len(data)
    if n < 34:
        return None
    # The commonest shapes first: one unpack checks them, one more cuts the key
    # (the same slices the general code below cuts, nested in an inner tuple).
    et, vihl, tot, frag, proto = _V4.unpack_from(data)
    if et == 0x0800 and vihl == 0x45 and not frag & 0x3FFF and 20 <= tot <= n - 14:
        if proto == 17 and tot >= 28:
            return in_port, _V4_UDP.unpack_from(data)
        if proto == 6 and tot >= 40 and 20 <= (data[46] >> 4) * 4 <= tot - 20:
            return in_port, _V4_TCP.unpack_from(data)
    et = data[12] << 8 | data[13]
    o = 0
    if et == 0x8100 or et == 0x88A8:
        o = 4
        if n < 38:
            return None
        et = data[16] << 8 | data[17]
    if et == 0x0800:
        if data[14 + o] != 0x45:
            return None
        tot = data[16 + o] << 8 | data[17 + o]
        if (data[20 + o] & 0x3F) or data[21 + o] or tot < 20 or tot + 14 + o > n:
            return None
        proto = data[23 + o]
        if proto == 6:
            doff = (data[46 + o] >> 4) * 4 if tot >= 40 else 0
            if doff < 20 or doff > tot - 20:
                return None
            return (in_port, data[0:16 + o], data[20 + o:24 + o], data[26 + o:38 + o],
                    data[46 + o:48 + o])
        if proto == 17:
            if tot < 28:
                return None
            return in_port, data[0:16 + o], data[20 + o:24 + o], data[26 + o:38 + o]
        if proto == 1:
            if tot < 28:
                return None
            return in_port, data[0:16 + o], data[20 + o:24 + o], data[26 + o:36 + o]
        if proto in (2, 58, 132):
            return None
        return in_port, data[0:16 + o], data[20 + o:24 + o], data[26 + o:34 + o]
    if et == 0x86DD:
        if n < 54 + o:
            return None
        plen = data[18 + o] << 8 | data[19 + o]
        if plen + 54 + o > n:
            return None
        nh = data[20 + o]
        if nh == 6:
            doff = (data[66 + o] >> 4) * 4 if plen >= 20 else 0
            if doff < 20 or doff > plen:
                return None
            return in_port, data[0:18 + o], data[20 + o:58 + o], data[66 + o:68 + o]
        if nh == 17:
            if plen < 8:
                return None
            return in_port, data[0:18 + o], data[20 + o:58 + o]
        if nh == 58:
            if plen < 8 or (data[55 + o] == 0 and data[54 + o] in (135, 136)):
                return None
            return in_port, data[0:18 + o], data[20 + o:56 + o]
        if nh in (0, 1, 2, 43, 44, 51, 60, 132):
            return None
        return in_port, data[0:18 + o], data[20 + o:54 + o]
    return None


def flow_key(in_port: int, flow: Mapping[str, int]) -> Hashable:
    """A key from a fully extracted flow (never equal to a ``fast_key``)."""
    return in_port, tuple(sorted(flow.items()))
