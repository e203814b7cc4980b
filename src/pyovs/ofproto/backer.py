"""The glue between the bridges and the one datapath they share.

OVS calls this ``dpif_backer`` (ofproto-dpif.c): every bridge of the
process puts its ports into one datapath, so a packet that crosses two
bridges over patch ports is one datapath flow.  ``Backer``

* maps datapath ports to (bridge, OpenFlow port) and back;
* answers upcalls: the packet's flow goes through ``xlate.translate`` in
  its bridge, and the result is installed as a megaflow whose mask is what
  the translation looked at (``in_port`` always exact), owned by a
  ``FlowOwner`` that remembers the rules and MAC entries it relied on;
* runs packet-outs and delivers ``userspace`` actions (packet-ins) to the
  bridge's controllers;
* periodically pulls datapath statistics into the OpenFlow rules (their
  packet and byte counters, idle timeouts) and refreshes the MAC entries
  of the traffic the datapath served, as OVS's revalidators do;
* ``revalidate`` drops the datapath's cached decisions whenever something
  they depended on changed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from pyovs.datapath.dpif import Dpif, Upcall, UpcallResult
from pyovs.openflow.errors import OFError
from pyovs.openflow.packet import extract_flow
from pyovs.openflow.ports import OFPP_CONTROLLER, OFPP_LOCAL, OFPP_NONE

from .ofproto import Ofproto
from .xlate import Bridge, PacketInRequest, translate

log = logging.getLogger("backer")

__all__ = ["Backer", "FlowOwner"]


@dataclass(slots=True)
class FlowOwner:
    """What a megaflow's decision relied on (OVS's xlate cache)."""

    rules: list[Any]
    learned: list[tuple[Bridge, int, int, int]]
    learns: list[tuple[Ofproto, Any]] = field(default_factory=list)
    """(bridge, (learned flow mod, limit)): traffic keeps the learned flows alive."""


class Backer:
    """The process-wide datapath and its bridges (see the module comment)."""

    def __init__(self, dpif: Dpif) -> None:
        self.dpif = dpif
        self.bridges: dict[str, Ofproto] = {}
        self.odp_to_port: dict[int, tuple[Ofproto, int]] = {}
        dpif.handler = self.upcall
        dpif.on_userspace = self.userspace
        self.n_upcalls = 0
        self.n_revalidations = 0

    # -- ports -------------------------------------------------------------------------
    def bind(self, odp_port: int, bridge: Ofproto, ofport: int) -> None:
        self.odp_to_port[odp_port] = (bridge, ofport)

    def unbind(self, odp_port: int) -> None:
        self.odp_to_port.pop(odp_port, None)

    # -- the Backer protocol of Ofproto ------------------------------------------------
    def revalidate(self) -> None:
        self.n_revalidations += 1
        self.dpif.flush()

    def packet_out(self, bridge: Ofproto, packet: bytes, in_port: int,
                   actions: tuple[Any, ...]) -> None:
        flow = dict(extract_flow(packet).values)
        flow["in_port"] = in_port
        odp_in = self._odp_of(bridge, in_port)
        result = translate(bridge, flow, time.monotonic(), start_actions=list(actions))
        if result.mac_changed:
            self.revalidate()
        dp_flow = dict(flow)
        dp_flow["in_port"] = odp_in
        self.dpif.execute(packet, b"", result.actions, dp_flow)

    def _odp_of(self, bridge: Ofproto, ofport: int) -> int:
        if ofport in (OFPP_CONTROLLER, OFPP_NONE):
            return 0xFFFF
        x = bridge.ports.get(ofport)
        if x is not None and x.odp is not None:
            return x.odp
        return 0 if ofport == OFPP_LOCAL else 0xFFFF

    # -- datapath callbacks ----------------------------------------------------------
    def upcall(self, up: Upcall) -> UpcallResult:
        self.n_upcalls += 1
        where = self.odp_to_port.get(up.in_port)
        if where is None:
            return UpcallResult([], {"in_port": 0xFFFF, "recirc_id": 0xFFFFFFFF})
        bridge, ofport = where
        flow = dict(up.flow)
        flow["in_port"] = ofport
        result = translate(bridge, flow, time.monotonic())
        learns = [(bridge, fm) for fm in result.learns]
        if self.apply_learns(learns):
            result.mac_changed = True  # the tables changed: revalidate as below
        if result.mac_changed:
            # Decisions cached before this packet taught us its source may
            # be wrong now (a flood that should be a unicast); the flow for
            # this packet is installed after the flush.
            self.revalidate()
        now = time.monotonic()
        for rule in result.rules:
            rule.account(1, len(up.data), now)
        if result.slow:
            return UpcallResult(result.actions, None)
        mask = {slot: m for slot, m in result.wc.items() if m}
        mask["in_port"] = 0xFFFF
        return UpcallResult(result.actions, mask,
                            FlowOwner(result.rules, result.learned, learns))

    def apply_learns(self, learns: list[tuple[Ofproto, Any]], now: float | None = None
                     ) -> bool:
        """Install learned flows; True if a table changed (not a mere refresh)."""
        changed = False
        now = time.monotonic() if now is None else now
        for bridge, (fm, limit) in learns:
            try:
                _, result = bridge.tables.learn(fm, now, limit)
            except OFError as e:  # a learned flow the table refuses is dropped, as in OVS
                log.warning("%s: learn failed: %s", bridge.name, e)
                continue
            changed = changed or bool(result.added or result.modified or result.deleted)
        return changed

    def userspace(self, cookie: object, data: bytes, vnet: bytes, flow: dict[str, int]) -> None:
        if isinstance(cookie, PacketInRequest):
            bridge = self.bridges.get(cookie.bridge)
            if bridge is not None:
                bridge.packet_in(cookie, data)

    # -- periodic work -------------------------------------------------------------------
    def run_periodic(self, now: float | None = None) -> None:
        """Credit datapath stats to rules, refresh MACs, expire flows and rules."""
        now = time.monotonic() if now is None else now
        for owner, packets, nbytes, used in self.dpif.push_stats():
            if not isinstance(owner, FlowOwner):
                continue
            for rule in owner.rules:
                rule.account(packets, nbytes, used)
            for br, mac, vlan, port in owner.learned:
                br.mac.refresh(mac, vlan, port, used)
            if owner.learns:
                self.apply_learns(owner.learns, used)
        for bridge in self.bridges.values():
            bridge.expire(now)
        self.dpif.expire(now, 10.0)
