"""Header rewrites on raw frames: VLAN push/pop and the datapath "set" action.

The datapath's ``("set", slot, value, mask)`` names a flow slot of
``pyovs.openflow.packet.extract_flow``; ``value`` and ``mask`` are in the
slot's terms (``nw_tos`` is the whole TOS byte, ``ipv6_label`` the 20-bit
label, ``tp_src`` of ICMP the type).  ``FIELDS`` says, per slot and per
kind of packet, where the bits live (layer, byte offset, width, shift) and
which checksums cover them:

* ``IP``: the IPv4 header checksum (always complete, patched per RFC 1624);
* ``PSEUDO``: the transport checksum through the pseudo-header (addresses);
* ``L4``: the transport checksum directly (ports, ICMP type/code).

A pending checksum (the frame's vnet header has NEEDS_CSUM at this L4) is
a seed, not a checksum: addresses update it without complements, ports not
at all (see ``pyovs.packet.csum``).  A UDP-over-IPv4 checksum of zero means
"none" and stays zero.  SCTP's CRC32c is not recomputed (not offered).

Frames are ``bytes`` in and out: the datapath's clone action relies on
every rewrite producing a new object and never touching its input.
Anything that does not fit (short frame, wrong protocol for the slot) comes
back unchanged -- a rewrite never raises on packet data.
"""

from __future__ import annotations

import struct
from typing import Final

from .csum import fold_update, update_csum
from .vnet import NEEDS_CSUM, VNET, shift

__all__ = ["FIELDS", "Layout", "layout", "pop_vlan", "push_vlan", "set_field"]

VLAN_TPIDS: Final = (0x8100, 0x88A8)
ETH_IP, ETH_IPV6, ETH_ARP = 0x0800, 0x86DD, 0x0806
ETH_MPLS: Final = (0x8847, 0x8848)
TCP, UDP, ICMP, ICMPV6, SCTP = 6, 17, 1, 58, 132
_V6_EXT: Final = (0, 43, 60, 51, 44)

IP, PSEUDO, L4 = 1, 2, 4
L2, L3, L4_BASE = 0, 1, 2

# (slot, family) -> (base, offset, width in bytes, shift, field bits, checksums).
# family: "eth", "ip4", "ip6", "arp", "mpls" (the top label stack entry),
# "ports" (TCP/UDP/SCTP), "icmp".
FieldSpec = tuple[int, int, int, int, int, int]
FIELDS: Final[dict[tuple[str, str], FieldSpec]] = {
    ("dl_dst", "eth"): (L2, 0, 6, 0, 48, 0),
    ("dl_src", "eth"): (L2, 6, 6, 0, 48, 0),
    ("nw_src", "ip4"): (L3, 12, 4, 0, 32, IP | PSEUDO),
    ("nw_dst", "ip4"): (L3, 16, 4, 0, 32, IP | PSEUDO),
    ("nw_tos", "ip4"): (L3, 0, 2, 0, 8, IP),
    ("nw_ttl", "ip4"): (L3, 8, 2, 8, 8, IP),
    ("nw_tos", "ip6"): (L3, 0, 4, 20, 8, 0),
    ("nw_ttl", "ip6"): (L3, 6, 2, 0, 8, 0),
    ("ipv6_label", "ip6"): (L3, 0, 4, 0, 20, 0),
    ("ipv6_src", "ip6"): (L3, 8, 16, 0, 128, PSEUDO),
    ("ipv6_dst", "ip6"): (L3, 24, 16, 0, 128, PSEUDO),
    ("nw_src", "arp"): (L3, 14, 4, 0, 32, 0),
    ("nw_dst", "arp"): (L3, 24, 4, 0, 32, 0),
    ("nw_proto", "arp"): (L3, 6, 2, 0, 8, 0),
    ("arp_sha", "arp"): (L3, 8, 6, 0, 48, 0),
    ("arp_tha", "arp"): (L3, 18, 6, 0, 48, 0),
    ("mpls_lse", "mpls"): (L3, 0, 4, 0, 32, 0),
    ("tp_src", "ports"): (L4_BASE, 0, 2, 0, 16, L4),
    ("tp_dst", "ports"): (L4_BASE, 2, 2, 0, 16, L4),
    ("tp_src", "icmp"): (L4_BASE, 0, 2, 8, 8, L4),
    ("tp_dst", "icmp"): (L4_BASE, 0, 2, 0, 8, L4),
}
"""Offsets are word-aligned within their base, so checksum updates see whole 16-bit words."""

# Where each transport keeps its checksum, and the minimum header it needs.
_L4_CSUM: Final = {TCP: (16, 20), UDP: (6, 8), ICMPV6: (2, 8), ICMP: (2, 8), SCTP: (-1, 12)}


Layout = tuple[int, int, int, int]
"""(l3 offset, ethertype, l4 offset or -1, IP protocol or -1)."""


def layout(data: bytes) -> Layout:
    """Where the headers of an Ethernet frame start (VLAN tags skipped)."""
    pos, n = 12, len(data)
    while n >= pos + 2 and (data[pos] << 8 | data[pos + 1]) in VLAN_TPIDS:
        pos += 4
    if n < pos + 2:
        return -1, -1, -1, -1
    eth_type, l3 = data[pos] << 8 | data[pos + 1], pos + 2
    if eth_type == ETH_IP and n >= l3 + 20:
        ihl = (data[l3] & 0x0F) * 4
        if ihl < 20 or n < l3 + ihl:
            return l3, eth_type, -1, -1
        frag = (data[l3 + 6] << 8 | data[l3 + 7]) & 0x1FFF
        return l3, eth_type, (-1 if frag else l3 + ihl), data[l3 + 9]
    if eth_type == ETH_IPV6 and n >= l3 + 40:
        proto, pos = data[l3 + 6], l3 + 40
        while proto in _V6_EXT:
            if n < pos + 8:
                return l3, eth_type, -1, -1
            if proto == 44:
                if (data[pos + 2] << 8 | data[pos + 3]) & 0xFFF8:
                    return l3, eth_type, -1, -1
                proto, pos = data[pos], pos + 8
                continue
            length = (data[pos + 1] + 2) * 4 if proto == 51 else (data[pos + 1] + 1) * 8
            proto, pos = data[pos], pos + length
        return l3, eth_type, (pos if pos <= n else -1), proto
    return l3, eth_type, -1, -1


def push_vlan(data: bytes, vnet: bytes, tpid: int, tci: int) -> tuple[bytes, bytes]:
    """Insert a tag after the MAC addresses (``tci``'s present bit 0x1000 is not sent)."""
    if len(data) < 12:
        return data, vnet
    tag = struct.pack("!HH", tpid, tci & ~0x1000 & 0xFFFF)
    return data[:12] + tag + data[12:], shift(vnet, 4)


def _ethertype_at(data: bytes) -> int:
    """Where the Ethernet type after any VLAN tags is (-1 if the frame is too short)."""
    pos = 12
    while len(data) >= pos + 2 and (data[pos] << 8 | data[pos + 1]) in VLAN_TPIDS:
        pos += 4
    return pos if len(data) >= pos + 2 else -1


def push_mpls(data: bytes, vnet: bytes, ethertype: int, lse: int) -> tuple[bytes, bytes]:
    """Insert an MPLS label stack entry after the L2 header; the type becomes ``ethertype``."""
    pos = _ethertype_at(data)
    if pos < 0:
        return data, vnet
    return (data[:pos] + struct.pack("!HI", ethertype, lse & 0xFFFFFFFF) + data[pos + 2:],
            shift(vnet, 4))


def pop_mpls(data: bytes, vnet: bytes, ethertype: int) -> tuple[bytes, bytes]:
    """Remove the top MPLS label stack entry; the type becomes ``ethertype``."""
    pos = _ethertype_at(data)
    if pos < 0 or len(data) < pos + 6 or (data[pos] << 8 | data[pos + 1]) not in (0x8847,
                                                                                   0x8848):
        return data, vnet
    return data[:pos] + struct.pack("!H", ethertype) + data[pos + 6:], shift(vnet, -4)


def pop_vlan(data: bytes, vnet: bytes) -> tuple[bytes, bytes]:
    """Remove the outermost tag, if there is one."""
    if len(data) < 18 or (data[12] << 8 | data[13]) not in VLAN_TPIDS:
        return data, vnet
    return data[:12] + data[16:], shift(vnet, -4)


def _family(slot: str, eth_type: int, proto: int) -> str:
    if slot in ("dl_src", "dl_dst"):
        return "eth"
    if slot in ("tp_src", "tp_dst"):
        return "icmp" if proto in (ICMP, ICMPV6) else "ports"
    if eth_type == ETH_IP:
        return "ip4"
    if eth_type == ETH_IPV6:
        return "ip6"
    if eth_type in ETH_MPLS:
        return "mpls"
    return "arp" if eth_type == ETH_ARP else ""


def set_field(data: bytes, vnet: bytes, slot: str, value: int, mask: int) -> bytes:
    """``data`` with ``slot``'s bits under ``mask`` set to ``value``, checksums kept right."""
    l3, eth_type, l4, proto = layout(data) if slot not in ("dl_src", "dl_dst") else (0, 0, 0, 0)
    spec = FIELDS.get((slot, _family(slot, eth_type, proto)))
    if spec is None:
        return data
    base, offset, width, shift_, bits, sums = spec
    if base == L4_BASE:
        if l4 < 0 or proto not in _L4_CSUM or len(data) < l4 + _L4_CSUM[proto][1]:
            return data
        at = l4 + offset
    elif base == L3:
        if l3 < 0 or len(data) < at_least(eth_type, l3):
            return data
        at = l3 + offset
    else:
        at = offset
    fmask = (1 << bits) - 1
    old = data[at:at + width]
    word = int.from_bytes(old, "big")
    field_mask = mask & fmask
    fv = (word >> shift_) & fmask
    nv = (fv & ~field_mask) | (value & field_mask)
    word = (word & ~(fmask << shift_)) | (nv << shift_)
    new = word.to_bytes(width, "big")
    if new == old:
        return data
    buf = bytearray(data)
    buf[at:at + width] = new
    if sums & IP:
        hc = buf[l3 + 10] << 8 | buf[l3 + 11]
        buf[l3 + 10:l3 + 12] = update_csum(hc, old, new).to_bytes(2, "big")
    if sums & (PSEUDO | L4) and l4 >= 0 and proto in _L4_CSUM:
        _fix_l4(buf, vnet, l4, proto, eth_type, old, new, pseudo=bool(sums & PSEUDO))
    return bytes(buf)


def at_least(eth_type: int, l3: int) -> int:
    """The frame length a slot of this L3 protocol needs."""
    if eth_type in ETH_MPLS:
        return l3 + 4
    return l3 + (20 if eth_type == ETH_IP else 40 if eth_type == ETH_IPV6 else 28)


def _fix_l4(buf: bytearray, vnet: bytes, l4: int, proto: int, eth_type: int,
            old: bytes, new: bytes, pseudo: bool) -> None:
    off, min_len = _L4_CSUM[proto]
    if off < 0 or len(buf) < l4 + min_len:
        return
    if pseudo and proto == ICMP:
        return  # ICMPv4 has no pseudo-header
    at = l4 + off
    hc = buf[at] << 8 | buf[at + 1]
    pending = False
    if vnet:
        flags, _gso, _hl, _gs, start, coff = VNET.unpack_from(vnet)
        pending = bool(flags & NEEDS_CSUM) and start + coff == at
    if pending:
        if not pseudo:
            return  # ports are summed when the checksum is finished
        hc = fold_update(hc, old, new)
    else:
        if proto == UDP and hc == 0 and eth_type == ETH_IP:
            return  # no UDP checksum over IPv4
        hc = update_csum(hc, old, new)
        if proto == UDP and hc == 0:
            hc = 0xFFFF
    buf[at:at + 2] = hc.to_bytes(2, "big")

