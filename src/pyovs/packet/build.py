"""Building frames from fields (OVS's ``flow_compose`` in spirit), for tests and benchmarks.

Each function returns wire bytes with correct lengths and checksums, so a
test can state a packet in one line and check the datapath's output with
the same helpers.  Addresses are ints or bytes; nothing here validates.
"""

from __future__ import annotations

import struct

from .csum import csum, ones_sum

__all__ = ["eth", "icmp4", "ipv4", "ipv6", "l4_checksum_ok", "tcp", "udp"]


def _b(value: int | bytes, width: int) -> bytes:
    return value if isinstance(value, bytes) else value.to_bytes(width, "big")


def eth(dst: int | bytes, src: int | bytes, eth_type: int, payload: bytes,
        vlans: tuple[tuple[int, int], ...] = ()) -> bytes:
    """An Ethernet frame; ``vlans`` is ((tpid, tci), ...) outermost first."""
    tags = b"".join(struct.pack("!HH", tpid, tci) for tpid, tci in vlans)
    return _b(dst, 6) + _b(src, 6) + tags + struct.pack("!H", eth_type) + payload


def ipv4(src: int | bytes, dst: int | bytes, proto: int, payload: bytes, ttl: int = 64,
         tos: int = 0, ident: int = 0, frag: int = 0x4000, options: bytes = b"") -> bytes:
    """An IPv4 packet with a correct header checksum; ``frag`` is the flags+offset word."""
    ihl = 5 + len(options) // 4
    hdr = bytearray(struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, tos, ihl * 4 + len(payload), ident,
                                frag, ttl, proto, 0, _b(src, 4), _b(dst, 4)) + options)
    hdr[10:12] = csum(hdr).to_bytes(2, "big")
    return bytes(hdr) + payload


def ipv6(src: int | bytes, dst: int | bytes, nh: int, payload: bytes, hlim: int = 64,
         tclass: int = 0, label: int = 0) -> bytes:
    word = 6 << 28 | tclass << 20 | label
    return struct.pack("!IHBB16s16s", word, len(payload), nh, hlim, _b(src, 16),
                       _b(dst, 16)) + payload


def _pseudo(src: bytes, dst: bytes, proto: int, length: int) -> int:
    if len(src) == 4:
        return ones_sum(src + dst + bytes((0, proto)) + length.to_bytes(2, "big"))
    return ones_sum(src + dst + length.to_bytes(4, "big") + bytes((0, 0, 0, proto)))


def udp(sport: int, dport: int, payload: bytes, src: int | bytes = 0, dst: int | bytes = 0,
        v6: bool = False) -> bytes:
    """A UDP datagram with its checksum over the given addresses."""
    width = 16 if v6 else 4
    s, d = _b(src, width), _b(dst, width)
    seg = bytearray(struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload)
    value = csum(seg, _pseudo(s, d, 17, len(seg))) or 0xFFFF
    seg[6:8] = value.to_bytes(2, "big")
    return bytes(seg)


def tcp(sport: int, dport: int, payload: bytes, src: int | bytes = 0, dst: int | bytes = 0,
        v6: bool = False, seq: int = 0, ack: int = 0, flags: int = 0x18,
        options: bytes = b"") -> bytes:
    width = 16 if v6 else 4
    s, d = _b(src, width), _b(dst, width)
    doff = 5 + len(options) // 4
    seg = bytearray(struct.pack("!HHIIBBHHH", sport, dport, seq, ack, doff << 4, flags, 65535,
                                0, 0) + options + payload)
    seg[16:18] = csum(seg, _pseudo(s, d, 6, len(seg))).to_bytes(2, "big")
    return bytes(seg)


def icmp4(type_: int, code: int, payload: bytes) -> bytes:
    msg = bytearray(struct.pack("!BBH", type_, code, 0) + payload)
    msg[2:4] = csum(msg).to_bytes(2, "big")
    return bytes(msg)


def l4_checksum_ok(frame: bytes) -> bool:
    """Whether an untagged/tagged IPv4 or IPv6 TCP/UDP/ICMP frame's checksums verify."""
    from .rewrite import layout
    l3, eth_type, l4, proto = layout(frame)
    if l4 < 0:
        return False
    if eth_type == 0x0800:
        if ones_sum(frame[l3:l4]) != 0xFFFF:
            return False
        end = l3 + int.from_bytes(frame[l3 + 2:l3 + 4], "big")
        src, dst = frame[l3 + 12:l3 + 16], frame[l3 + 16:l3 + 20]
    else:
        end = l3 + 40 + int.from_bytes(frame[l3 + 4:l3 + 6], "big")
        src, dst = frame[l3 + 8:l3 + 24], frame[l3 + 24:l3 + 40]
    seg = frame[l4:end]
    if proto == 1:
        return ones_sum(seg) == 0xFFFF
    if proto == 17 and eth_type == 0x0800 and seg[6:8] == b"\0\0":
        return True
    return ones_sum(seg, _pseudo(src, dst, proto, len(seg))) == 0xFFFF
