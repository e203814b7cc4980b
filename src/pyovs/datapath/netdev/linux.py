"""Linux device status and control through ioctl and /proc, shared by the real netdevs.

The same calls OVS's ``lib/netdev-linux.c`` makes, on a throwaway
``AF_INET`` datagram socket: SIOCGIFHWADDR/MTU/INDEX/FLAGS for status,
SIOCSIFFLAGS for up/down.  Counters come from ``/proc/net/dev``, which --
unlike ``/sys/class/net`` -- always describes the caller's network
namespace, and costs one read for all of them.  Nothing here is on the
packet path, and nothing needs a netlink library at start-up.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import struct
from typing import Final

from .base import NetdevError, NetdevStats, NetdevStatus

__all__ = ["IFF_RUNNING", "IFF_UP", "device_stats", "device_status", "no_such_device",
           "open_error", "set_flags", "set_mac"]

SIOCGIFFLAGS: Final = 0x8913
SIOCSIFFLAGS: Final = 0x8914
SIOCGIFMTU: Final = 0x8921
SIOCGIFHWADDR: Final = 0x8927
SIOCSIFHWADDR: Final = 0x8924
ARPHRD_ETHER: Final = 1
SIOCGIFINDEX: Final = 0x8933
IFF_UP: Final = 0x1
IFF_RUNNING: Final = 0x40
IFNAMSIZ: Final = 16
_IFREQ: Final = struct.Struct("16s24s")


def no_such_device(name: str) -> NetdevError:
    """OVS's Interface.error for a device that does not exist."""
    return open_error(name, os.strerror(19))


def open_error(name: str, reason: str) -> NetdevError:
    return NetdevError(f"could not open network device {name} ({reason})")


def _ifreq(name: str, payload: bytes = b"") -> bytes:
    return _IFREQ.pack(name.encode()[:IFNAMSIZ - 1], payload)


def _ioctl(name: str, request: int, payload: bytes = b"") -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        return fcntl.ioctl(s.fileno(), request, _ifreq(name, payload))


def device_status(name: str) -> NetdevStatus:
    """MAC, MTU, ifindex, admin state and carrier; zeros if the device vanished."""
    try:
        mac = _ioctl(name, SIOCGIFHWADDR)[18:24]
        mtu = struct.unpack_from("i", _ioctl(name, SIOCGIFMTU), 16)[0]
        ifindex = struct.unpack_from("i", _ioctl(name, SIOCGIFINDEX), 16)[0]
        flags = struct.unpack_from("H", _ioctl(name, SIOCGIFFLAGS), 16)[0]
    except OSError:
        return NetdevStatus(bytes(6), 0, 0, False, False)
    return NetdevStatus(bytes(mac), mtu, ifindex, bool(flags & IFF_UP), bool(flags & IFF_RUNNING))


def set_flags(name: str, on: int = 0, off: int = 0) -> None:
    """Set and clear interface flags (IFF_UP ...); errors are the caller's NetdevError."""
    try:
        flags = struct.unpack_from("H", _ioctl(name, SIOCGIFFLAGS), 16)[0]
        new = (flags | on) & ~off & 0xFFFF
        if new != flags:
            _ioctl(name, SIOCSIFFLAGS, struct.pack("H", new))
    except OSError as e:
        raise NetdevError(f"could not set flags of network device {name} "
                          f"({os.strerror(e.errno or 0)})") from e


def set_mac(name: str, mac: bytes) -> None:
    """Set the device's Ethernet address (raises NetdevError)."""
    try:
        _ioctl(name, SIOCSIFHWADDR, struct.pack("H6s", ARPHRD_ETHER, mac[:6]))
    except OSError as e:
        raise NetdevError(f"could not set MAC address of network device {name} "
                          f"({os.strerror(e.errno or 0)})") from e


def device_stats(name: str, swap: bool = False) -> NetdevStats:
    """The kernel's counters; ``swap`` exchanges rx and tx (a tap seen from the switch)."""
    with contextlib.suppress(OSError), open("/proc/net/dev") as f:
        for line in f:
            dev, sep, rest = line.partition(":")
            if sep and dev.strip() == name:
                c = [int(x) for x in rest.split()]
                rx = (c[1], c[0], c[3], c[2])
                tx = (c[9], c[8], c[11], c[10])
                if swap:
                    rx, tx = tx, rx
                return NetdevStats(rx[0], rx[1], rx[2], rx[3], tx[0], tx[1], tx[2], tx[3], c[13])
    return NetdevStats()
