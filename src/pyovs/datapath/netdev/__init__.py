"""Network devices for the userspace datapath, and ``open_netdev`` to make one by type.

``NETDEV_TYPES`` is the registry: OVS's Interface ``type`` column value ->
the class that implements it (see each module's comment).  Classes are
imported on first use, so a process that only uses ``dummy`` ports never
touches AF_PACKET or /dev/net/tun.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Mapping
from typing import Final

from .base import Frame, Netdev, NetdevError, NetdevStats, NetdevStatus

__all__ = ["NETDEV_TYPES", "Frame", "Netdev", "NetdevError", "NetdevStats", "NetdevStatus",
           "open_netdev"]

NETDEV_TYPES: Final[dict[str, tuple[str, str]]] = {
    "": ("afpacket", "AfPacketNetdev"),
    "system": ("afpacket", "AfPacketNetdev"),
    "internal": ("tap", "TapNetdev"),
    "tap": ("tap", "TapNetdev"),
    "dummy": ("dummy", "DummyNetdev"),
}
"""type -> (module in this package, class); "" is OVS's default, "system"."""

_CONFIGURABLE: Final = frozenset({"dummy"})
log = logging.getLogger(__name__)


def open_netdev(name: str, kind: str = "system",
                options: Mapping[str, str] | None = None) -> Netdev:
    """Open ``name`` as a device of OVS type ``kind``; NetdevError carries Interface.error."""
    entry = NETDEV_TYPES.get(kind)
    if entry is None:
        raise NetdevError(f"could not open network device {name} ({os.strerror(97)})")
    if options and kind not in _CONFIGURABLE:
        # OVS's netdev_set_config: a warning, not an error.
        log.warning("%s: arguments provided to device that is not configurable", name)
    module = importlib.import_module(f"{__name__}.{entry[0]}")
    cls: type[Netdev] = getattr(module, entry[1])
    return cls(name, kind or "system")  # type: ignore[call-arg]
