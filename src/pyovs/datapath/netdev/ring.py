"""A PACKET_MMAP (TPACKET_V2) receive ring for the ``system`` netdev.

Without a ring, every received frame costs a ``recvmsg`` system call and
the ancillary-data tuples Python builds for it -- more than the datapath's
own work per packet.  With a ring, the kernel copies each frame into a
slot of a buffer shared with the process and flips the slot's status word
to TP_STATUS_USER; reading a batch is then a loop over slots in memory
(one header unpack and one copy per frame) and no system call at all.

Layout: ``N_FRAMES`` slots of ``FRAME_SIZE`` bytes.  A slot holds the
``tpacket2_hdr`` (status, lengths, offsets, and the VLAN tag the kernel
took out of the frame -- so no PACKET_AUXDATA message is needed), then at
``tp_mac - 10`` the vnet header (PACKET_VNET_HDR is on) and at ``tp_mac``
the frame.  Frames are read in ring order and each slot is given back by
zeroing its status after the copy.

Big frames: a slot holds about 1.9 KiB, and a GSO super-packet is up to
64 KiB.  PACKET_COPY_THRESH makes the kernel, for a frame that does not
fit, also queue a complete copy on the socket's ordinary receive queue and
mark the truncated slot TP_STATUS_COPY; the reader then takes the full
frame from the queue at that very point (``recvmsg`` with auxdata), so
frame order is kept.

Version 2 rather than 3: V3's block-based ring only hands a partly filled
block over on a timer (milliseconds), which would add that much to every
ping through the switch.
"""

from __future__ import annotations

import mmap
import socket
import struct
from collections.abc import Callable
from typing import Final

from pyovs.packet.vnet import VNET_LEN, shift

__all__ = ["FRAME_SIZE", "N_FRAMES", "RING_SIZE", "TPACKET2_HDR", "RxRing"]

SOL_PACKET: Final = 263
PACKET_RX_RING: Final = 5
PACKET_COPY_THRESH: Final = 7
PACKET_VERSION: Final = 10
TPACKET_V2: Final = 1
TP_STATUS_USER: Final = 0x1
TP_STATUS_COPY: Final = 0x2
TP_STATUS_VLAN_VALID: Final = 0x10
TP_STATUS_VLAN_TPID_VALID: Final = 0x40
FRAME_SIZE: Final = 2048
BLOCK_SIZE: Final = 64 * 1024
N_BLOCKS: Final = 32
N_FRAMES: Final = N_BLOCKS * BLOCK_SIZE // FRAME_SIZE
RING_SIZE: Final = BLOCK_SIZE * N_BLOCKS
TPACKET2_HDR: Final = struct.Struct("<IIIHHIIHH4x")
"""status, len, snaplen, mac, net, sec, nsec, vlan_tci, vlan_tpid."""
assert TPACKET2_HDR.size == 32
TPACKET_REQ: Final = struct.Struct("IIII")
_VLAN_HDR: Final = struct.Struct("!HH")

Frame = tuple[bytes, bytes]


class RxRing:
    """The receive ring of one packet socket (see the module comment)."""

    def __init__(self, mm: mmap.mmap, fallback: Callable[[], Frame | None]) -> None:
        """A reader of ring memory ``mm``; ``fallback`` reads one frame from the socket queue."""
        self._mm = mm
        self._words = memoryview(mm).cast("I")
        """The ring as 32-bit words: a slot's status is ``_words[offset // 4]``."""
        self._head = 0
        self._fallback = fallback
        self.dropped = 0

    @classmethod
    def on_socket(cls, sock: socket.socket, fallback: Callable[[], Frame | None]) -> RxRing:
        """Set up a ring on ``sock`` (PACKET_VNET_HDR already on, not yet bound)."""
        sock.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V2)
        sock.setsockopt(SOL_PACKET, PACKET_COPY_THRESH, 1)
        sock.setsockopt(SOL_PACKET, PACKET_RX_RING,
                        TPACKET_REQ.pack(BLOCK_SIZE, N_BLOCKS, FRAME_SIZE, N_FRAMES))
        return cls(mmap.mmap(sock.fileno(), RING_SIZE, mmap.MAP_SHARED,
                             mmap.PROT_READ | mmap.PROT_WRITE), fallback)

    def recv_batch(self, limit: int, out: list[Frame]) -> None:
        mm, words, head = self._mm, self._words, self._head
        unpack = TPACKET2_HDR.unpack_from
        # The head is saved even if a frame raises: a slot already handed back
        # to the kernel must never be waited on again (that stalls the port).
        try:
            for _ in range(limit):
                off = head * FRAME_SIZE
                word = off >> 2
                if not words[word] & TP_STATUS_USER:
                    break
                status, length, snap, mac, _net, _s, _ns, tci, tpid = unpack(mm, off)
                head += 1
                if head == N_FRAMES:
                    head = 0
                if status & TP_STATUS_COPY:
                    words[word] = 0
                    frame = self._fallback()
                    if frame is not None:
                        out.append(frame)
                elif snap < length or mac < VNET_LEN:
                    words[word] = 0
                    self.dropped += 1
                else:
                    start = off + mac
                    data = mm[start:start + snap]
                    vnet = (mm[start - VNET_LEN:start] if mm[start - 9] or mm[start - 10] & 1
                            else b"")
                    words[word] = 0  # the slot goes back to the kernel
                    if status & TP_STATUS_VLAN_VALID:
                        if not status & TP_STATUS_VLAN_TPID_VALID:
                            tpid = 0x8100
                        data = data[:12] + _VLAN_HDR.pack(tpid, tci) + data[12:]
                        vnet = shift(vnet, 4)
                    out.append((data, vnet))
        finally:
            self._head = head

    def close(self) -> None:
        self._words.release()
        self._mm.close()
