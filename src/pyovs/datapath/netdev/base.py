"""The network device interface the datapath sends and receives through.

A ``Netdev`` is one port's device: a veth end opened with AF_PACKET
(``system``), a tap device the switch creates (``internal``, ``tap``), or
an in-memory queue (``dummy``).  The datapath owns the event loop; a
netdev only moves frames:

* ``recv_batch(limit)`` returns up to ``limit`` frames without blocking
  (``[]`` when none is pending).  The datapath calls it when ``fileno()``
  is readable, or, for netdevs without a file descriptor, after the
  netdev called ``notify``.
* ``send(data, vnet)`` transmits one frame.

A frame is ``(data, vnet)``: ``data`` the Ethernet frame as it would be on
the wire (a VLAN tag the kernel moved into packet metadata is put back
into the bytes), ``vnet`` the 10-byte ``virtio_net_hdr`` the kernel gave
with it when a checksum or a segmentation is still pending (``b""`` when
nothing is pending).  Passing ``vnet`` along unchanged lets a 64 KiB TCP
super-packet cross the switch in one piece, as the kernel's offloads
intend; a netdev that cannot take pending work (``dummy``) finishes it in
software (checksum, then segmentation) before it "sends".

Errors opening a device are ``NetdevError`` with the text OVS puts in
``Interface.error``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Frame", "Netdev", "NetdevError", "NetdevStats", "NetdevStatus"]

Frame = tuple[bytes, bytes]
"""(Ethernet frame, virtio_net_hdr or b"")."""


class NetdevError(Exception):
    """A device could not be opened or configured; ``str()`` is the user's message."""


@dataclass(slots=True)
class NetdevStats:
    """Counters in OVS ``Interface.statistics`` terms."""

    rx_packets: int = 0
    rx_bytes: int = 0
    rx_dropped: int = 0
    rx_errors: int = 0
    tx_packets: int = 0
    tx_bytes: int = 0
    tx_dropped: int = 0
    tx_errors: int = 0
    collisions: int = 0


@dataclass(slots=True)
class NetdevStatus:
    """What vswitchd writes back to the Interface row."""

    mac: bytes  # 6 bytes
    mtu: int
    ifindex: int  # 0 when the device has none
    admin_up: bool
    carrier: bool


class Netdev(abc.ABC):
    """One open device (see the module comment)."""

    name: str
    kind: str
    """OVS's interface type: "system", "internal", "tap" or "dummy"."""
    notify: Callable[[], None] | None = None
    """Set by the datapath; netdevs without a descriptor call it when frames arrive."""

    def fileno(self) -> int:
        """A descriptor that polls readable when frames are pending, or -1."""
        return -1

    @abc.abstractmethod
    def recv_batch(self, limit: int) -> list[Frame]:
        """Up to ``limit`` received frames, without blocking."""

    @abc.abstractmethod
    def send(self, data: bytes, vnet: bytes = b"") -> None:
        """Transmit one frame; failures count as tx_dropped, never raise."""

    @abc.abstractmethod
    def status(self) -> NetdevStatus: ...

    @abc.abstractmethod
    def stats(self) -> NetdevStats: ...

    def set_admin_up(self, up: bool) -> None:  # noqa: B027 (optional)
        """Bring the device up or down where the switch owns it."""

    @abc.abstractmethod
    def close(self) -> None: ...
