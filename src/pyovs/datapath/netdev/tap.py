"""The ``internal`` and ``tap`` netdevs: a Linux tap device read and written by the switch.

``internal`` is the switch's own port into the host stack (a bridge's
local port, or an internal interface): the device is *created* with the
port's name when opened and disappears when closed, as in OVS's
``netdev-linux`` tap class.  ``tap`` attaches to a tap device that already
exists (made persistent by ``ip tuntap add``); a missing one is OVS's
"could not open network device NAME (No such device)".

The descriptor is opened with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, and
TUNSETOFFLOAD tells the kernel this reader takes checksum-pending and
TSO/GSO frames, so the host stack's TCP reaches the switch as 64 KiB
super-packets and leaves it the same way -- the vnet header is carried
through, as for ``system`` ports.  Reads and writes use ``readv`` and
``writev`` over (vnet header, frame), the descriptor is non-blocking.

The kernel counts from the host's side (what the switch sends, the host
receives), so ``stats`` swaps rx and tx, as OVS does for taps.  Like OVS,
an ``internal`` device is left down when created: whoever configures the
host side brings it up (``set_admin_up`` or ``ip link set ... up``).
"""

from __future__ import annotations

import fcntl
import os
import socket
import struct
from typing import Final

from pyovs.packet.vnet import VNET_LEN, ZERO

from .base import Frame, Netdev, NetdevStats, NetdevStatus
from .linux import (
    IFF_UP,
    device_stats,
    device_status,
    no_such_device,
    open_error,
    set_flags,
    set_mac,
)

__all__ = ["TapNetdev"]

TUNSETIFF: Final = 0x400454CA
TUNSETOFFLOAD: Final = 0x400454D0
IFF_TAP: Final = 0x0002
IFF_NO_PI: Final = 0x1000
IFF_VNET_HDR: Final = 0x4000
TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, TUN_F_TSO_ECN = 0x01, 0x02, 0x04, 0x08
OFFLOADS: Final = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN
RX_BUF: Final = 256 * 1024
_IFREQ_FLAGS: Final = struct.Struct("16sH22x")


class TapNetdev(Netdev):
    """A tap device (see the module comment)."""

    def __init__(self, name: str, kind: str = "internal") -> None:
        self.name = name
        self.kind = kind
        if kind == "tap":
            try:
                socket.if_nametoindex(name)
            except OSError:
                raise no_such_device(name) from None
        if not name or len(name.encode()) > 15:
            raise open_error(name, os.strerror(22))
        try:
            fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as e:
            raise open_error(name, os.strerror(e.errno or 0)) from None
        try:
            fcntl.ioctl(fd, TUNSETIFF, _IFREQ_FLAGS.pack(name.encode(),
                                                         IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
            fcntl.ioctl(fd, TUNSETOFFLOAD, OFFLOADS)
        except OSError as e:
            os.close(fd)
            raise open_error(name, os.strerror(e.errno or 0)) from None
        self._fd = fd
        self._vbuf = bytearray(VNET_LEN)
        self._fbuf = bytearray(RX_BUF)
        self._fview = memoryview(self._fbuf)
        self._iov = [self._vbuf, self._fbuf]
        self.tx_dropped = 0

    def fileno(self) -> int:
        return self._fd

    def recv_batch(self, limit: int) -> list[Frame]:
        out: list[Frame] = []
        fd, iov, vbuf, fview = self._fd, self._iov, self._vbuf, self._fview
        readv = os.readv
        for _ in range(limit):
            try:
                n = readv(fd, iov)
            except OSError:  # EAGAIN, or the device went down
                break
            if n <= VNET_LEN:
                continue
            vnet = bytes(vbuf) if vbuf[1] or vbuf[0] & 1 else b""
            out.append((bytes(fview[:n - VNET_LEN]), vnet))
        return out

    def send(self, data: bytes, vnet: bytes = b"") -> None:
        try:
            os.writev(self._fd, (vnet or ZERO, data))
        except OSError:
            self.tx_dropped += 1

    def status(self) -> NetdevStatus:
        return device_status(self.name)

    def stats(self) -> NetdevStats:
        st = device_stats(self.name, swap=True)
        st.tx_dropped += self.tx_dropped
        return st

    def set_admin_up(self, up: bool) -> None:
        if up:
            set_flags(self.name, on=IFF_UP)
        else:
            set_flags(self.name, off=IFF_UP)

    def set_mac(self, mac: bytes) -> None:
        """Give the host side this Ethernet address (a bridge's local port takes the bridge's)."""
        set_mac(self.name, mac)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
