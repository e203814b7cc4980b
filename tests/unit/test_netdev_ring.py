"""The PACKET_MMAP receive ring's reader, on ring memory filled the way the kernel fills it."""

from __future__ import annotations

import contextlib
import mmap

from pyovs.datapath.netdev.ring import FRAME_SIZE, N_FRAMES, RING_SIZE, TPACKET2_HDR, RxRing
from pyovs.packet import build
from pyovs.packet.vnet import NEEDS_CSUM, VNET

USER, COPY, VLAN_VALID, TPID_VALID = 0x1, 0x2, 0x10, 0x40
MAC = 96  # where the kernel puts the frame in a slot (after header, sockaddr, vnet)

FRAME = build.eth(2, 1, 0x0800, build.ipv4(1, 2, 17, build.udp(1, 2, b"ring", 1, 2)))


class Kernel:
    """Fills slots in order, as tpacket_rcv does."""

    def __init__(self) -> None:
        self.mm = mmap.mmap(-1, RING_SIZE)
        self.head = 0

    def put(self, frame: bytes, vnet: bytes = bytes(10), status: int = USER, tci: int = 0,
            tpid: int = 0, length: int | None = None) -> None:
        off = self.head * FRAME_SIZE
        snap = min(len(frame), FRAME_SIZE - MAC)
        self.mm[off + MAC - 10:off + MAC] = vnet
        self.mm[off + MAC:off + MAC + snap] = frame[:snap]
        TPACKET2_HDR.pack_into(self.mm, off, status, length or len(frame), snap, MAC, MAC + 14,
                               0, 0, tci, tpid)
        self.head = (self.head + 1) % N_FRAMES


def test_frames_come_out_in_order_and_slots_go_back() -> None:
    k = Kernel()
    queued: list[tuple[bytes, bytes]] = [(b"big", b"")]
    ring = RxRing(k.mm, lambda: queued.pop(0) if queued else None)
    pending = VNET.pack(NEEDS_CSUM, 0, 0, 0, 34, 6)
    k.put(FRAME)
    k.put(FRAME, vnet=pending)
    k.put(FRAME[:20], status=USER | COPY, length=70000)  # truncated; the full one is queued
    k.put(FRAME, length=5000)  # truncated without a copy: dropped
    k.put(FRAME, status=USER | VLAN_VALID, tci=10)
    k.put(FRAME, status=USER | VLAN_VALID | TPID_VALID, tci=7, tpid=0x88A8, vnet=pending)
    out: list[tuple[bytes, bytes]] = []
    ring.recv_batch(64, out)
    tagged = FRAME[:12] + b"\x81\x00\x00\x0a" + FRAME[12:]
    qinq = FRAME[:12] + b"\x88\xa8\x00\x07" + FRAME[12:]
    assert out == [(FRAME, b""), (FRAME, pending), (b"big", b""), (tagged, b""),
                   (qinq, VNET.pack(NEEDS_CSUM, 0, 0, 0, 38, 6))]
    assert ring.dropped == 1
    assert all(k.mm[i * FRAME_SIZE] == 0 for i in range(6))  # every slot released
    ring.recv_batch(64, out)
    assert len(out) == 5


def test_the_ring_wraps_and_batches_stop_at_the_limit() -> None:
    k = Kernel()
    ring = RxRing(k.mm, lambda: None)
    seen = 0
    for _ in range(3):
        for _ in range(N_FRAMES // 2 + 3):
            k.put(FRAME)
        out: list[tuple[bytes, bytes]] = []
        ring.recv_batch(10, out)
        assert len(out) == 10
        ring.recv_batch(N_FRAMES, out)
        seen += len(out)
    assert seen == 3 * (N_FRAMES // 2 + 3)
    ring.close()


def test_a_failing_frame_does_not_stall_the_ring() -> None:
    """A slot handed back before an exception is never waited on again.

    (A reader that lost its place this way waited forever on a released slot
    while the kernel kept filling the ones after it.)
    """
    k = Kernel()

    def broken() -> tuple[bytes, bytes] | None:
        raise OSError("queue read failed")

    ring = RxRing(k.mm, broken)
    k.put(FRAME[:20], status=USER | COPY, length=70000)
    k.put(FRAME)
    out: list[tuple[bytes, bytes]] = []
    with contextlib.suppress(OSError):
        ring.recv_batch(64, out)
    ring.recv_batch(64, out)
    assert out == [(FRAME, b"")]
