"""The ``dummy`` netdev: a port that lives in memory, for tests and demos.

No root, no descriptor.  ``inject(data)`` queues a frame as if the wire had
delivered it and calls ``notify`` so the datapath drains it; what the
datapath sends is kept in ``sent`` (a bounded deque of frames, oldest
dropped first) for tests and appctl commands to look at.

A dummy device cannot take offloaded work, so ``send`` does what a NIC
would: it finishes a pending checksum and cuts a GSO super-packet into
segments (``pyovs.packet.vnet.finish``) and keeps the frames as they would
appear on the wire.  Counters are the switch's view: rx counts frames the
datapath took, tx the frames it sent (after segmentation).
"""

from __future__ import annotations

from collections import deque
from typing import Final

from pyovs.packet.vnet import finish, normalize

from .base import Frame, Netdev, NetdevStats, NetdevStatus

__all__ = ["DummyNetdev"]

SENT_MAX: Final = 10000

_serial = 0


class DummyNetdev(Netdev):
    """An in-memory port (see the module comment)."""

    def __init__(self, name: str, kind: str = "dummy", sent_max: int = SENT_MAX) -> None:
        global _serial
        _serial += 1
        self.name = name
        self.kind = kind
        self.mac = bytes((0xAA, 0x55, 0xAA, 0x55, (_serial >> 8) & 0xFF, _serial & 0xFF))
        self.mtu = 1500
        self.admin_up = True
        self.carrier = True
        self.rx: deque[Frame] = deque()
        self.sent: deque[bytes] = deque(maxlen=sent_max)
        self._stats = NetdevStats()
        self.closed = False

    def inject(self, data: bytes, vnet: bytes = b"") -> None:
        """Queue a received frame and tell the datapath."""
        self.rx.append((bytes(data), normalize(vnet)))
        if self.notify is not None:
            self.notify()

    def recv_batch(self, limit: int) -> list[Frame]:
        rx = self.rx
        n = min(limit, len(rx))
        out = [rx.popleft() for _ in range(n)]
        st = self._stats
        st.rx_packets += n
        st.rx_bytes += sum(len(d) for d, _ in out)
        return out

    def send(self, data: bytes, vnet: bytes = b"") -> None:
        st = self._stats
        if self.closed or not self.admin_up:
            st.tx_dropped += 1
            return
        frames = finish(data, vnet) if vnet else (data,)
        for frame in frames:
            self.sent.append(frame)
            st.tx_packets += 1
            st.tx_bytes += len(frame)

    def status(self) -> NetdevStatus:
        return NetdevStatus(self.mac, self.mtu, 0, self.admin_up, self.carrier)

    def stats(self) -> NetdevStats:
        s = self._stats
        return NetdevStats(s.rx_packets, s.rx_bytes, s.rx_dropped, s.rx_errors,
                           s.tx_packets, s.tx_bytes, s.tx_dropped, s.tx_errors, s.collisions)

    def set_admin_up(self, up: bool) -> None:
        self.admin_up = up

    def set_mac(self, mac: bytes) -> None:
        self.mac = bytes(mac[:6])

    def close(self) -> None:
        self.closed = True
        self.rx.clear()
