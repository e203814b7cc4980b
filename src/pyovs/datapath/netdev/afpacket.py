"""The ``system`` netdev: an existing Linux device (a veth end, a NIC) through AF_PACKET.

One ``SOCK_RAW`` packet socket bound to the device, set up as OVS's
``netdev-linux`` does plus the offload plumbing its userspace-TSO mode adds:

* PACKET_VNET_HDR: each frame read comes after a ``virtio_net_hdr`` and
  each frame written goes after one.  A namespace's TCP leaves its checksum
  pending and hands over 64 KiB GSO super-packets; they arrive here as they
  are and are written to the egress port unchanged, so the segmentation
  and the checksum happen (if ever) at the far end -- which is why iperf3
  runs at multi-Gbit/s through the switch with the kernel's default
  offloads.  A header with nothing pending becomes ``b""``.
* PACKET_AUXDATA: the kernel moves a received VLAN tag out of the frame
  into metadata (``tp_vlan_tci`` with TP_STATUS_VLAN_VALID); it is put back
  into the bytes, and the vnet header's ``csum_start`` moves with it.
* PACKET_IGNORE_OUTGOING: a packet socket sees the device's transmissions
  too; without this the switch would read back everything it sends.
* PACKET_MR_PROMISC membership (dropped with the socket) and IFF_UP: a
  switch port takes every frame, and a veth end is created down.

Receiving goes through a PACKET_MMAP ring (``ring.py``: no system call per
frame, the VLAN tag comes in the slot header).  Without one (or with
PYOVS_NO_PACKET_MMAP set) it is ``recvmsg_into`` on two preallocated
buffers (vnet header, frame) with the tag in PACKET_AUXDATA; either way a
frame costs one copy into its own ``bytes``.  The socket is non-blocking.
Sending is one ``send`` of header + frame for small frames, a gather
``sendmsg`` for big ones (no 64 KiB concatenation); errors count as
``tx_dropped``.  There is deliberately no transmit ring: the kernel sends
ring frames zero-copy and gives the slot back when the skb is orphaned,
which for a veth peer happens on entry to its IP stack while the data may
still sit in a receive queue -- and a ``send`` costs ~1 us here, the
receiving namespace's stack most of the rest.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
from typing import Final

from pyovs.packet.vnet import VNET_LEN, ZERO, shift

from .base import Frame, Netdev, NetdevError, NetdevStats, NetdevStatus
from .linux import IFF_UP, device_stats, device_status, no_such_device, open_error, set_flags
from .ring import RxRing

__all__ = ["AfPacketNetdev"]

SOL_PACKET: Final = 263
PACKET_ADD_MEMBERSHIP: Final = 1
PACKET_AUXDATA: Final = 8
PACKET_VNET_HDR: Final = 15
PACKET_QDISC_BYPASS: Final = 20
PACKET_IGNORE_OUTGOING: Final = 23
PACKET_MR_PROMISC: Final = 1
ETH_P_ALL: Final = 0x0003
MSG_TRUNC: Final = int(socket.MSG_TRUNC)  # a plain int: IntFlag "&" costs a microsecond
TP_STATUS_VLAN_VALID: Final = 0x10
TP_STATUS_VLAN_TPID_VALID: Final = 0x40
AUXDATA: Final = struct.Struct("IIIHHHH")
"""tpacket_auxdata: status, len, snaplen, mac, net, vlan_tci, vlan_tpid."""
PACKET_MREQ: Final = struct.Struct("iHH8s")
RX_BUF: Final = 256 * 1024
SOCK_BUF: Final = 8 * 1024 * 1024
BIG: Final = 1024
_ANC: Final = socket.CMSG_SPACE(AUXDATA.size)
_VLAN_HDR: Final = struct.Struct("!HH")


class AfPacketNetdev(Netdev):
    """A kernel device opened with a packet socket (see the module comment)."""

    def __init__(self, name: str, kind: str = "system") -> None:
        self.name = name
        self.kind = kind
        try:
            ifindex = socket.if_nametoindex(name)
        except OSError:
            raise no_such_device(name) from None
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        self._sock = sock
        self._send = sock.send
        self._ring: RxRing | None = None
        self._again = False
        self._vbuf = bytearray(VNET_LEN)
        self._fbuf = bytearray(RX_BUF)
        self._fview = memoryview(self._fbuf)
        self._iov = [self._vbuf, self._fbuf]
        self.tx_dropped = 0
        self.rx_errors = 0
        try:
            sock.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
            sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
            sock.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
            with contextlib.suppress(OSError):  # skip the (noqueue) qdisc layer when sending
                sock.setsockopt(SOL_PACKET, PACKET_QDISC_BYPASS, 1)
            if not os.environ.get("PYOVS_NO_PACKET_MMAP"):
                try:
                    self._ring = RxRing.on_socket(sock, self._recv_one)
                except OSError:  # no PACKET_MMAP here: read frame by frame
                    self._ring = None
            for opt, fallback in ((33, socket.SO_RCVBUF), (32, socket.SO_SNDBUF)):
                try:  # SO_RCVBUFFORCE / SO_SNDBUFFORCE need CAP_NET_ADMIN
                    sock.setsockopt(socket.SOL_SOCKET, opt, SOCK_BUF)
                except OSError:
                    sock.setsockopt(socket.SOL_SOCKET, fallback, SOCK_BUF)
            set_flags(name, on=IFF_UP)  # before bind: a socket bound to a down device
            sock.bind((name, ETH_P_ALL))  # gets ENETDOWN queued for its next call
            sock.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP,
                            PACKET_MREQ.pack(ifindex, PACKET_MR_PROMISC, 0, b""))
            sock.setblocking(False)
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)  # clear such a pending error
        except OSError as e:
            self.close()
            if e.errno == 19:
                raise no_such_device(name) from None
            raise open_error(name, os.strerror(e.errno or 0)) from None
        except NetdevError:
            self.close()
            raise

    def fileno(self) -> int:
        return self._sock.fileno()

    def recv_batch(self, limit: int) -> list[Frame]:
        out: list[Frame] = []
        if self._ring is not None:
            self._ring.recv_batch(limit, out)
            if not out and self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                # A pending error (the device went down or away) keeps epoll
                # reporting the socket; reading SO_ERROR clears it.
                self.rx_errors += 1
            return out
        self._again = False
        recv_one = self._recv_one
        for _ in range(limit):
            frame = recv_one()
            if frame is not None:
                out.append(frame)
            elif self._again:
                break
        return out

    def _recv_one(self) -> Frame | None:
        """One frame from the socket's queue; None if none is usable (``_again``: none left)."""
        try:
            n, anc, flags, _addr = self._sock.recvmsg_into(self._iov, _ANC)
        except BlockingIOError:
            self._again = True
            return None
        except OSError:
            self.rx_errors += 1
            self._again = True
            return None
        if n <= VNET_LEN or flags & MSG_TRUNC:
            return None
        vbuf = self._vbuf
        frame = bytes(self._fview[:n - VNET_LEN])
        vnet = bytes(vbuf) if vbuf[1] or vbuf[0] & 1 else b""
        if anc and anc[0][2][0] & TP_STATUS_VLAN_VALID:
            status, _l, _s, _m, _n, tci, tpid = AUXDATA.unpack(anc[0][2][:AUXDATA.size])
            if not status & TP_STATUS_VLAN_TPID_VALID:
                tpid = 0x8100
            frame = frame[:12] + _VLAN_HDR.pack(tpid, tci) + frame[12:]
            vnet = shift(vnet, 4)
        return frame, vnet

    def send(self, data: bytes, vnet: bytes = b"") -> None:
        try:
            if len(data) <= BIG:
                self._send((vnet or ZERO) + data)
            else:
                self._sock.sendmsg([vnet or ZERO, data])
        except OSError:
            self.tx_dropped += 1

    def status(self) -> NetdevStatus:
        return device_status(self.name)

    def stats(self) -> NetdevStats:
        st = device_stats(self.name)
        st.tx_dropped += self.tx_dropped
        st.rx_errors += self.rx_errors
        return st

    def set_admin_up(self, up: bool) -> None:
        if up:
            set_flags(self.name, on=IFF_UP)
        else:
            set_flags(self.name, off=IFF_UP)

    def close(self) -> None:
        if self._ring is not None:
            self._ring.close()
            self._ring = None
        self._sock.close()
