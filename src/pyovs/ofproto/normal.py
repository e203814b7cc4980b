"""The NORMAL action: a MAC-learning switch with 802.1Q VLANs.

This is OVS's ``xlate_normal`` reduced to its decisions, with no I/O and
the clock as a parameter:

* **Input VLAN** (``input_vlan``): which VLAN a packet belongs to, from the
  in-port's mode (``Port.vlan_mode``, ``tag``, ``trunks``) and the packet's
  802.1Q header; ``None`` when the port must drop it (a tagged packet on an
  access port, a VLAN the trunk does not carry).
* **Learning** (``MacTable``): source MAC and VLAN -> port, aged out after
  ``aging`` seconds (``other_config:mac-aging-time``, 300 s), at most
  ``size`` entries (``mac-table-size``, 8192 here as in OVS 3.1) with the
  oldest evicted first.  ``learn`` says whether the table changed, because a
  change must revalidate datapath flows that were decided without it.
* **Output**: a known unicast destination goes to its port (nothing if
  that is the in-port); broadcast, multicast and unknown destinations flood
  to every port that carries the VLAN, except the in-port and ports with
  ``no-flood``.  ``output_vlan`` says how the packet leaves each port:
  untagged on an access port or the native VLAN of a native-untagged port,
  tagged otherwise.

VLAN modes (ovs-vswitchd.conf.db(5), Port ``vlan_mode``): ``access`` (only
untagged packets, in VLAN ``tag``), ``trunk`` (tagged packets of the VLANs
in ``trunks``, all if empty; untagged ones are VLAN 0), ``native-tagged``
and ``native-untagged`` (a trunk whose untagged packets belong to ``tag``).
The default is ``access`` when ``tag`` is set and ``trunk`` otherwise.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final

__all__ = ["MacEntry", "MacTable", "VlanConfig", "input_vlan", "output_vlan"]

DEFAULT_AGING: Final = 300.0
DEFAULT_SIZE: Final = 8192
VLAN_CFI: Final = 0x1000
VLAN_VID_MASK: Final = 0x0FFF


@dataclass(frozen=True, slots=True)
class VlanConfig:
    """A port's VLAN configuration, from its Port row."""

    mode: str = "trunk"
    """access, trunk, native-tagged or native-untagged."""
    tag: int | None = None
    trunks: frozenset[int] = frozenset()
    """Empty: every VLAN."""

    @classmethod
    def from_port(cls, vlan_mode: str | None, tag: int | None,
                  trunks: Iterable[int]) -> VlanConfig:
        mode = vlan_mode or ("access" if tag is not None else "trunk")
        return cls(mode, tag, frozenset(trunks))

    def carries(self, vlan: int) -> bool:
        """OVS ``ovs_bundle_includes_vlan``: does this port belong to ``vlan``?"""
        if self.mode == "access":
            return vlan == (self.tag or 0)
        if self.mode in ("native-tagged", "native-untagged") and vlan == (self.tag or 0):
            return True
        return not self.trunks or vlan in self.trunks


def input_vlan(cfg: VlanConfig, vlan_tci: int) -> int | None:
    """The VLAN a packet with ``vlan_tci`` arriving on a ``cfg`` port belongs to."""
    tagged = bool(vlan_tci & VLAN_CFI)
    vid = vlan_tci & VLAN_VID_MASK
    if cfg.mode == "access":
        # OVS lets a priority-tagged (VID 0) packet in on an access port.
        if tagged and vid != 0:
            return None
        return cfg.tag or 0
    if not tagged or vid == 0:
        if cfg.mode in ("native-tagged", "native-untagged"):
            return cfg.tag or 0
        return 0 if cfg.carries(0) else None
    return vid if cfg.carries(vid) else None


def output_vlan(cfg: VlanConfig, vlan: int) -> int | None:
    """The VID the packet leaves a ``cfg`` port with; ``None`` means untagged."""
    if cfg.mode == "access":
        return None
    if cfg.mode == "native-untagged" and vlan == (cfg.tag or 0):
        return None
    if vlan == 0 and cfg.mode == "trunk":
        return None
    return vlan


@dataclass(slots=True)
class MacEntry:
    mac: int
    vlan: int
    port: int
    """OpenFlow port number."""
    seen: float = field(default=0.0)


class MacTable:
    """Learned (MAC, VLAN) -> port, oldest first (``lib/mac-learning.c``)."""

    def __init__(self, aging: float = DEFAULT_AGING, size: int = DEFAULT_SIZE) -> None:
        self.aging = aging
        self.size = size
        self._entries: OrderedDict[tuple[int, int], MacEntry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[MacEntry]:
        return iter(self._entries.values())

    def lookup(self, mac: int, vlan: int, now: float) -> MacEntry | None:
        entry = self._entries.get((vlan, mac))
        if entry is None or now - entry.seen >= self.aging:
            return None
        return entry

    def learn(self, mac: int, vlan: int, port: int, now: float) -> bool:
        """Record that ``mac`` was seen on ``port``; True if a decision changed."""
        if mac & (1 << 40):  # a multicast source is never learned
            return False
        key = (vlan, mac)
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            stale = now - entry.seen >= self.aging
            entry.seen = now
            if entry.port == port and not stale:
                return False
            entry.port = port
            return True
        while len(self._entries) >= self.size:
            self._entries.popitem(last=False)
        self._entries[key] = MacEntry(mac, vlan, port, now)
        return True

    def refresh(self, mac: int, vlan: int, port: int, now: float) -> None:
        """Traffic served by the datapath keeps an entry alive (no decision changes)."""
        entry = self._entries.get((vlan, mac))
        if entry is not None and entry.port == port:
            entry.seen = now
            self._entries.move_to_end((vlan, mac))

    def expire(self, now: float) -> int:
        """Drop aged-out entries; returns how many went."""
        old = [k for k, e in self._entries.items() if now - e.seen >= self.aging]
        for k in old:
            del self._entries[k]
        return len(old)

    def flush(self, port: int | None = None, vlan: int | None = None) -> int:
        """Forget entries (all, or of one port / one VLAN); returns how many."""
        keys = [k for k, e in self._entries.items()
                if (port is None or e.port == port) and (vlan is None or e.vlan == vlan)]
        for k in keys:
            del self._entries[k]
        return len(keys)
