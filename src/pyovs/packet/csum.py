"""Internet checksums (RFC 1071), their incremental update (RFC 1624), and
the checksum a NIC would have finished.

The ones' complement sum of a byte string's 16-bit words is the string read
as one big-endian integer modulo 0xFFFF (because 2**16 == 1 mod 0xFFFF), so
``int.from_bytes(data, "big") % 0xFFFF`` sums a 64 KiB segment in C, with no
Python loop.  The only subtlety is ones' complement's two zeros: a non-zero
string whose sum is 0 mod 0xFFFF has the sum 0xFFFF ("negative zero"), as
the end-around-carry loop of RFC 1071 computes it; ``ones_sum`` returns that.

Two checksum states matter to a switch (see ``pyovs.packet.vnet``):

* complete: the field holds ``~sum`` of everything it covers; a header
  rewrite patches it with RFC 1624's eqn. 3, ``HC' = ~(~HC + ~m + m')``.
* pending (virtio NEEDS_CSUM): the field holds only the *uncomplemented*
  pseudo-header sum, and whoever transmits adds ``data[csum_start:]`` and
  complements.  Changing an address then changes the seed by ``+ ~m + m'``
  (the same update without the complements), and changing a port changes
  nothing at all: the port is summed when the checksum is finished.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "complete_partial",
    "csum",
    "fold_update",
    "ones_add",
    "ones_sum",
    "pseudo_sum_v4",
    "pseudo_sum_v6",
    "update_csum",
    "update_seed",
]

UDP_CSUM_OFFSET: Final = 6
"""Where the checksum sits in a UDP header (TCP: 16, ICMP: 2)."""


def ones_sum(data: bytes | bytearray | memoryview, start: int = 0) -> int:
    """The 16-bit ones' complement sum of ``data`` (odd length padded with a 0 byte)."""
    n = int.from_bytes(data, "big")
    if len(data) & 1:
        n <<= 8
    s = (n % 0xFFFF) + start
    s = (s & 0xFFFF) + (s >> 16)
    if s == 0 and (n or start):
        return 0xFFFF
    return s


def ones_add(a: int, b: int) -> int:
    """Ones' complement addition of two 16-bit values."""
    s = a + b
    return (s & 0xFFFF) + (s >> 16)


def csum(data: bytes | bytearray | memoryview, start: int = 0) -> int:
    """The Internet checksum of ``data`` (plus a pseudo-header sum ``start``)."""
    return ~ones_sum(data, start) & 0xFFFF


def _sum_words(old: bytes, new: bytes) -> int:
    """sum(~m) + sum(m') over equal-length big-endian words."""
    s = 0
    for i in range(0, len(old), 2):
        s += (~int.from_bytes(old[i:i + 2], "big") & 0xFFFF) + int.from_bytes(new[i:i + 2], "big")
    return s


def fold_update(value: int, old: bytes, new: bytes) -> int:
    """``value + ~old + new`` in ones' complement (a pending seed's update)."""
    s = value + _sum_words(old, new)
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def update_csum(hc: int, old: bytes, new: bytes) -> int:
    """RFC 1624 eqn. 3: a complete checksum after ``old`` bytes became ``new``.

    ``old`` and ``new`` have the same even length and start at an even offset
    of the checksummed data.
    """
    return ~fold_update(~hc & 0xFFFF, old, new) & 0xFFFF


def update_seed(seed: int, old: bytes, new: bytes) -> int:
    """A pending (uncomplemented pseudo-header) checksum after a field changed."""
    return fold_update(seed, old, new)


def pseudo_sum_v4(src: bytes, dst: bytes, proto: int, length: int) -> int:
    """Ones' complement sum of the IPv4 pseudo-header."""
    return ones_sum(src + dst + bytes((0, proto)) + length.to_bytes(2, "big"))


def pseudo_sum_v6(src: bytes, dst: bytes, proto: int, length: int) -> int:
    """Ones' complement sum of the IPv6 pseudo-header."""
    return ones_sum(src + dst + length.to_bytes(4, "big") + bytes((0, 0, 0, proto)))


def complete_partial(data: bytes, csum_start: int, csum_offset: int) -> bytes:
    """Finish a pending checksum: sum from ``csum_start`` (seed included), complement, store.

    Out-of-range offsets leave the frame unchanged (the caller drops nothing:
    a bad header from the kernel is not the packet's fault to crash on).
    """
    at = csum_start + csum_offset
    if csum_start >= len(data) or at + 2 > len(data):
        return data
    value = csum(memoryview(data)[csum_start:])
    if value == 0 and csum_offset == UDP_CSUM_OFFSET:
        value = 0xFFFF  # UDP sends a computed zero as all ones (RFC 768)
    buf = bytearray(data)
    buf[at:at + 2] = value.to_bytes(2, "big")
    return bytes(buf)

