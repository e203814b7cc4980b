"""The datapath's two flow caches, without any I/O.

``MegaflowTable`` is OVS's tuple space search (``lib/dpif-netdev.c``'s
``dpcls``): one *subtable* per distinct mask, each a dict from the masked
key (a tuple of ints in the mask's slot order) to a ``Megaflow``.  A lookup
masks the packet's flow once per subtable; subtables are kept in order of
the hits they served, so the busiest is tried first.  A packet matches at
most one megaflow (ofproto's masks are disjoint by construction), so the
first hit is the answer.

``Emc`` is the exact-match cache in front of it: ``pyovs.packet.fastkey``
key -> ``Megaflow``.  An entry is a pointer, not a copy: deleting a
megaflow marks it ``dead`` and every EMC entry still pointing at it becomes
a miss, so deletion never has to find EMC entries.  ``flush`` clears both.
The EMC is bounded: when full it is emptied and refills from the megaflow
table (OVS replaces by a hash probe; a bulk reset is cheaper in Python and
the workload it hurts -- more live classes than slots -- is a megaflow
lookup either way).

Statistics live on the ``Megaflow`` and are bumped by the datapath's hot
loop.  TCP flags cost nothing per packet: they are part of the fast key, so
every packet of one EMC entry has the flags of the packet that created the
entry, and OR-ing them in whenever a class is (re)entered is exact.
``pushed_packets``/``pushed_bytes`` remember what ``push_stats`` has
already reported, so reports are deltas.  A deleted megaflow with
unreported packets is kept in ``graveyard`` until the next report, so no
packet is lost to ofproto's rule statistics.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any

__all__ = ["Emc", "MaskItems", "Megaflow", "MegaflowTable"]

MaskItems = tuple[tuple[str, int], ...]
"""A mask as sorted (slot, bits) pairs with non-zero bits: the subtable's identity."""

Runner = Callable[[bytes, bytes], Any]


class Megaflow:
    """One installed datapath flow and its counters."""

    __slots__ = ("actions", "bytes", "created", "dead", "key", "mask", "masked",
                 "owner", "packets", "pushed_bytes", "pushed_packets", "run", "tcp_flags",
                 "used")

    def __init__(self, mask: MaskItems, masked: tuple[int, ...], actions: list[tuple[Any, ...]],
                 owner: object, created: float) -> None:
        self.mask = mask
        self.masked = masked
        self.key = dict(zip((slot for slot, _ in mask), masked, strict=True))
        self.actions = actions
        self.owner = owner
        self.run: Runner = _drop
        """The compiled actions: run(data, vnet)."""
        self.packets = 0
        self.bytes = 0
        self.used = 0.0
        self.created = created
        self.pushed_packets = 0
        self.pushed_bytes = 0
        self.tcp_flags = 0
        """OR of the TCP flags of the packet classes it served (see the module comment)."""
        self.dead = False


def _drop(data: bytes, vnet: bytes) -> None:
    return None


def mask_items(mask: Mapping[str, int]) -> MaskItems:
    return tuple(sorted((slot, bits) for slot, bits in mask.items() if bits))


class _Subtable:
    __slots__ = ("flows", "hits", "mask")

    def __init__(self, mask: MaskItems) -> None:
        self.mask = mask
        self.flows: dict[tuple[int, ...], Megaflow] = {}
        self.hits = 0


class MegaflowTable:
    """Tuple space search over installed megaflows (see the module comment)."""

    def __init__(self) -> None:
        self._subtables: dict[MaskItems, _Subtable] = {}
        self._order: list[_Subtable] = []
        self._lookups = 0
        self.graveyard: list[Megaflow] = []

    def __len__(self) -> int:
        return sum(len(st.flows) for st in self._order)

    def lookup(self, flow: Mapping[str, int]) -> Megaflow | None:
        get = flow.get
        for st in self._order:
            hit = st.flows.get(tuple([get(slot, 0) & bits for slot, bits in st.mask]))
            if hit is not None:
                st.hits += 1
                self._lookups += 1
                if not self._lookups & 0x3FF:
                    self._order.sort(key=lambda s: -s.hits)
                return hit
        return None

    def insert(self, flow: Mapping[str, int], mask: Mapping[str, int],
               actions: list[tuple[Any, ...]], owner: object, now: float) -> Megaflow:
        """Install ``flow & mask -> actions``, replacing a flow with the same masked key."""
        items = mask_items(mask)
        st = self._subtables.get(items)
        if st is None:
            st = self._subtables[items] = _Subtable(items)
            self._order.append(st)
        masked = tuple(flow.get(slot, 0) & bits for slot, bits in items)
        old = st.flows.get(masked)
        if old is not None:
            self._bury(old)
        mf = st.flows[masked] = Megaflow(items, masked, actions, owner, now)
        return mf

    def remove(self, mf: Megaflow) -> None:
        st = self._subtables.get(mf.mask)
        if st is not None and st.flows.get(mf.masked) is mf:
            del st.flows[mf.masked]
            if not st.flows:
                del self._subtables[mf.mask]
                self._order.remove(st)
        self._bury(mf)

    def _bury(self, mf: Megaflow) -> None:
        mf.dead = True
        if mf.packets != mf.pushed_packets:
            self.graveyard.append(mf)

    def clear(self) -> None:
        for mf in list(self):
            self._bury(mf)
        self._subtables.clear()
        self._order.clear()

    def __iter__(self) -> Iterator[Megaflow]:
        for st in list(self._order):
            yield from list(st.flows.values())

    def n_masks(self) -> int:
        return len(self._order)


class Emc:
    """Exact-match cache: fast key -> megaflow (see the module comment)."""

    def __init__(self, capacity: int = 8192) -> None:
        self.capacity = capacity
        self.entries: dict[Hashable, Megaflow] = {}

    def insert(self, key: Hashable, mf: Megaflow) -> None:
        entries = self.entries
        if len(entries) >= self.capacity:
            entries.clear()
        entries[key] = mf

    def clear(self) -> None:
        self.entries.clear()

    def __len__(self) -> int:
        return len(self.entries)
