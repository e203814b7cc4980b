"""The virtio_net_hdr that rides with offloaded frames, and doing its work in software.

Linux hands AF_PACKET (PACKET_VNET_HDR) and tap (IFF_VNET_HDR) readers a
10-byte ``virtio_net_hdr`` before each frame, and takes one before each
frame written.  It says what the sender left for "the hardware":

* ``NEEDS_CSUM``: the transport checksum at ``csum_start + csum_offset``
  holds only the pseudo-header sum; sum from ``csum_start`` and complement.
* ``gso_type`` TCPV4/TCPV6/UDP_L4 with ``gso_size``: the frame is a
  super-packet to be cut into ``gso_size``-byte segments, each with its
  own IP length, IPv4 id, TCP sequence number and checksums.

pyovs keeps the header as opaque ``bytes`` beside the frame (``b""`` when
nothing is pending, so the common case costs nothing) and only looks
inside when a frame's layout changes (VLAN push/pop moves ``csum_start``)
or when a device that cannot take offloads (``dummy``) must receive it:
``finish`` then returns the finished frames, as a NIC would have put them
on the wire.

The header's integers are in host order (little-endian on every machine
pyovs runs on; the legacy virtio layout that both interfaces use).
"""

from __future__ import annotations

import struct
from typing import Final

from .csum import UDP_CSUM_OFFSET, complete_partial, csum, ones_sum

__all__ = [
    "GSO_NONE",
    "GSO_TCPV4",
    "GSO_TCPV6",
    "GSO_UDP_L4",
    "NEEDS_CSUM",
    "VNET",
    "VNET_LEN",
    "finish",
    "normalize",
    "shift",
]

VNET: Final = struct.Struct("<BBHHHH")
"""flags, gso_type, hdr_len, gso_size, csum_start, csum_offset."""
VNET_LEN: Final = 10
assert VNET.size == VNET_LEN
NEEDS_CSUM: Final = 1
DATA_VALID: Final = 2
GSO_NONE, GSO_TCPV4, GSO_UDP, GSO_TCPV6, GSO_UDP_L4 = 0, 1, 3, 4, 5
GSO_ECN: Final = 0x80
ZERO: Final = bytes(VNET_LEN)

_VLAN_TPIDS: Final = (0x8100, 0x88A8)
_TCP_FIN, _TCP_PSH, _TCP_CWR = 0x01, 0x08, 0x80


def normalize(vnet: bytes) -> bytes:
    """``vnet`` if it asks for work, else ``b""`` (DATA_VALID alone asks for nothing)."""
    if len(vnet) < VNET_LEN or (not vnet[1] and not vnet[0] & NEEDS_CSUM):
        return b""
    return vnet[:VNET_LEN]


def shift(vnet: bytes, delta: int) -> bytes:
    """The header after ``delta`` bytes were inserted (or removed) before the L3 header."""
    if not vnet:
        return vnet
    flags, gso, hdr_len, gso_size, start, offset = VNET.unpack_from(vnet)
    if flags & NEEDS_CSUM:
        start = max(0, start + delta)
    if hdr_len:
        hdr_len = max(0, hdr_len + delta)
    return VNET.pack(flags, gso, hdr_len, gso_size, start, offset)


def finish(data: bytes, vnet: bytes) -> list[bytes]:
    """The frames a NIC would transmit for ``(data, vnet)``: segmented, checksums done."""
    if not vnet:
        return [data]
    flags, gso, _hdr_len, gso_size, start, offset = VNET.unpack_from(vnet)
    gso &= ~GSO_ECN
    if gso in (GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4) and gso_size:
        segs = _segment(data, gso, gso_size, start if flags & NEEDS_CSUM else -1)
        if segs is not None:
            return segs
    if flags & NEEDS_CSUM:
        return [complete_partial(data, start, offset)]
    return [data]


def _l3_offset(data: bytes) -> tuple[int, int]:
    pos = 12
    while len(data) >= pos + 2 and int.from_bytes(data[pos:pos + 2], "big") in _VLAN_TPIDS:
        pos += 4
    return pos + 2, int.from_bytes(data[pos:pos + 2], "big")


def _segment(data: bytes, gso: int, mss: int, l4: int) -> list[bytes] | None:
    """Software GSO; None when the frame is not what the header claims."""
    l3, eth_type = _l3_offset(data)
    v4 = eth_type == 0x0800
    if not v4 and eth_type != 0x86DD:
        return None
    if len(data) < l3 + (20 if v4 else 40):
        return None
    if l4 < 0:
        l4 = l3 + ((data[l3] & 0x0F) * 4 if v4 else 40)
    udp = gso == GSO_UDP_L4
    if udp:
        thl = 8
    elif len(data) >= l4 + 20:
        thl = (data[l4 + 12] >> 4) * 4
    else:
        return None
    if thl < (8 if udp else 20) or len(data) < l4 + thl:
        return None
    hdr, payload = data[:l4 + thl], memoryview(data)[l4 + thl:]
    if v4:
        src, dst = data[l3 + 12:l3 + 16], data[l3 + 16:l3 + 20]
        ip_id = int.from_bytes(data[l3 + 4:l3 + 6], "big")
    else:
        src, dst = data[l3 + 8:l3 + 24], data[l3 + 24:l3 + 40]
    proto = 17 if udp else 6
    seq = 0 if udp else int.from_bytes(data[l4 + 4:l4 + 8], "big")
    segs = []
    n = len(payload)
    for i, off in enumerate(range(0, max(n, 1), mss)):
        chunk = payload[off:off + mss]
        seg = bytearray(hdr)
        seg += chunk
        l4_len = thl + len(chunk)
        if v4:
            seg[l3 + 2:l3 + 4] = (l4 - l3 + l4_len).to_bytes(2, "big")
            seg[l3 + 4:l3 + 6] = ((ip_id + i) & 0xFFFF).to_bytes(2, "big")
            seg[l3 + 10:l3 + 12] = b"\0\0"
            seg[l3 + 10:l3 + 12] = csum(seg[l3:l4]).to_bytes(2, "big")
            pseudo = ones_sum(src + dst + bytes((0, proto)) + l4_len.to_bytes(2, "big"))
        else:
            seg[l3 + 4:l3 + 6] = (l4 - l3 - 40 + l4_len).to_bytes(2, "big")
            pseudo = ones_sum(src + dst + l4_len.to_bytes(4, "big") + bytes((0, 0, 0, proto)))
        if udp:
            seg[l4 + 4:l4 + 6] = l4_len.to_bytes(2, "big")
            at = l4 + UDP_CSUM_OFFSET
        else:
            seg[l4 + 4:l4 + 8] = ((seq + off) & 0xFFFFFFFF).to_bytes(4, "big")
            flags = seg[l4 + 13]
            if off + mss < n:
                flags &= ~(_TCP_FIN | _TCP_PSH)
            if i:
                flags &= ~_TCP_CWR
            seg[l4 + 13] = flags
            at = l4 + 16
        seg[at:at + 2] = b"\0\0"
        value = csum(memoryview(seg)[l4:], pseudo)
        if udp and value == 0:
            value = 0xFFFF
        seg[at:at + 2] = value.to_bytes(2, "big")
        segs.append(bytes(seg))
    return segs
