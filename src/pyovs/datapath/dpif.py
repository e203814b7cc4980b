"""The dpif interface: what ofproto (slow path) asks of a datapath (fast path).

As in Open vSwitch, one datapath serves every bridge of the process; its
ports have datapath port numbers ("odp ports", 0 is the datapath's own
local port) that ofproto maps to each bridge's OpenFlow port numbers.

Flows.  A datapath flow ("megaflow") is a *mask* and a *key*: the mask is
a mapping slot -> bit mask over the flow slots of
``pyovs.openflow.packet.extract_flow`` (OVS's ``struct flow`` members:
``dl_src``, ``nw_dst``, ``tp_src``, ``vlan_tci`` ...) plus the datapath
metadata slots ``in_port`` (an odp port, always exact) and ``recirc_id``;
the key is the packet's flow under that mask.  A packet matches at most one
megaflow; which bits a megaflow looks at is decided by ofproto, which
reports them from its classifier lookups.

Actions.  Datapath actions are tuples, executed in order on the packet:

    ("output", odp_port)
    ("push_vlan", tpid, tci)            tci with the CFI/present bit 0x1000 set
    ("pop_vlan",)
    ("push_mpls", ethertype, lse)       a label stack entry after the L2 header
    ("pop_mpls", ethertype)             the top entry off; the Ethernet type becomes ethertype
    ("set", slot, value, mask)          rewrite header bits: dl_src, dl_dst,
                                        nw_src, nw_dst, nw_tos, nw_ttl, tp_src,
                                        tp_dst, ipv6_src, ipv6_dst, ipv6_label,
                                        arp_* ... (checksums kept right,
                                        including a pending partial checksum)
    ("userspace", cookie)               hand the packet to the slow path's
                                        ``on_userspace`` (packet-in, sFlow ...)
    ("trunc", max_len)                  the next output sends at most max_len
                                        bytes (as in OVS, the cut applies to the
                                        one output that follows)
    ("clone", actions)                  run a nested list on a copy
    ("recirc", recirc_id)               run the datapath again with recirc_id set
    ("drop",)                           explicit drop (an empty list also drops)

Upcalls.  A packet that matches no megaflow goes to ``handler`` once, as an
``Upcall``; the handler answers with the actions for this packet and the
mask to install them under (``None``: do not install, e.g. packets that
must always reach the slow path).  The datapath executes the actions on the
packet, installs ``(flow & mask) -> actions`` with the handler's ``owner``
and serves the following packets of the class itself.  ``owner`` is opaque
to the datapath; ``push_stats`` reports the packets and bytes each installed
flow served since the last call, so ofproto can credit its OpenFlow rules.

Revalidation.  When the OpenFlow tables or MAC learning change, ofproto
calls ``flush`` (every megaflow re-upcalls) -- or ``revalidate`` with a
function that re-translates one flow -- and the caches never serve a
stale decision.

Statistics.  A megaflow counts the packets it served after its install;
the upcalled packet that created it was executed by the slow path's answer
and is not counted there (ofproto accounts for it when translating, as in
OVS).  ``DpFlow.tcp_flags`` is the OR of the served packets' TCP flags.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyovs.datapath.netdev.base import Netdev

__all__ = ["DpAction", "DpFlow", "Dpif", "Upcall", "UpcallResult"]

DpAction = tuple[Any, ...]


@dataclass(slots=True)
class Upcall:
    """A packet that matched no megaflow."""

    in_port: int
    """Datapath port the packet arrived on."""
    flow: dict[str, int]
    """The packet's flow: extract_flow slots plus in_port (odp) and recirc_id."""
    data: bytes
    vnet: bytes = b""


@dataclass(slots=True)
class UpcallResult:
    """The slow path's answer to an ``Upcall``."""

    actions: list[DpAction]
    mask: dict[str, int] | None
    """Slots the decision depended on; None: execute only, install nothing."""
    owner: object = None


@dataclass(slots=True)
class DpFlow:
    """One installed megaflow, as ``dump_flows`` reports it."""

    key: dict[str, int]
    mask: dict[str, int]
    actions: list[DpAction]
    packets: int = 0
    bytes: int = 0
    used: float = 0.0
    """Monotonic time of the last packet, 0 if never used."""
    owner: object = field(default=None, repr=False)
    tcp_flags: int = 0
    """OR of the TCP flags of the packets it served (dump-flows' ``flags:``)."""


class Dpif(abc.ABC):
    """A datapath (see the module comment)."""

    handler: Callable[[Upcall], UpcallResult] | None = None
    on_userspace: Callable[[object, bytes, bytes, dict[str, int]], None] | None = None
    """Called for ("userspace", cookie) with (cookie, data, vnet, flow)."""

    @abc.abstractmethod
    def port_add(self, netdev: Netdev, odp_port: int | None = None) -> int:
        """Attach a device; returns its odp port number."""

    @abc.abstractmethod
    def port_del(self, odp_port: int) -> None: ...

    @abc.abstractmethod
    def ports(self) -> Mapping[int, Netdev]: ...

    @abc.abstractmethod
    def execute(self, data: bytes, vnet: bytes, actions: list[DpAction],
                flow: dict[str, int] | None = None) -> None:
        """Run actions on a packet from the slow path (packet-out)."""

    @abc.abstractmethod
    def flush(self) -> None:
        """Delete every megaflow (and the exact-match cache)."""

    @abc.abstractmethod
    def dump_flows(self) -> Iterator[DpFlow]: ...

    @abc.abstractmethod
    def push_stats(self) -> Iterator[tuple[object, int, int, float]]:
        """(owner, packets, bytes, used) for flows that served packets since the last call."""

    @abc.abstractmethod
    def expire(self, now: float, idle: float) -> int:
        """Delete megaflows unused for ``idle`` seconds; returns how many."""

    def revalidate(self, fn: Callable[[DpFlow], UpcallResult | None]) -> int:
        """Re-translate each megaflow with ``fn``; delete it when the answer is None or
        its mask changed, swap in new actions otherwise.  Returns how many were deleted.

        This default deletes everything (correct, if not economical).
        """
        n = sum(1 for _ in self.dump_flows())
        self.flush()
        return n

    def counters(self) -> dict[str, int]:
        """``dpctl/show`` figures: hit, missed, lost, flows (and implementation extras)."""
        return {"flows": sum(1 for _ in self.dump_flows())}
