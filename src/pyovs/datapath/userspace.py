"""The userspace datapath: OVS's dpif-netdev in one Python thread.

Per received batch of frames, for each frame (``receive``):

1. ``fast_key(in_port, data)`` -- a few slices of fixed headers
   (``pyovs.packet.fastkey``) -- is looked up in the exact-match cache;
   a live hit bumps the megaflow's counters and calls its compiled
   actions.  This is the whole per-packet cost of an established flow:
   one key, one dict lookup, one call (a bound ``send`` for a single
   output).
2. Otherwise the frame is parsed (``extract_flow``) and classified in the
   megaflow table (tuple space search, ``flowcache``); a hit refills the
   EMC.
3. Otherwise it is a miss: ``handler`` gets one ``Upcall`` for this packet,
   the returned actions run on it and, unless the mask is None, are
   installed as a megaflow (``in_port`` and ``recirc_id`` always exact)
   that serves the rest of the class.  The upcalled packet itself is not
   counted on the new megaflow: the slow path accounted for it when it
   translated it (as in OVS).  Its class enters the EMC with its next
   packet, through step 2, which is where a megaflow learns the TCP flags
   of the classes it serves.

``recirc`` runs steps 2-3 again with ``recirc_id`` set (at most
``MAX_RECIRC_DEPTH`` deep); recirculated packets bypass the EMC, whose
keys do not carry a recirc_id.

I/O: ``attach(loop)`` registers each port's descriptor with an asyncio
loop; a readable port is drained ``batch`` frames at a time (the loop runs
other callbacks between batches, so a flood cannot starve the control
plane).  Descriptor-less ports (``dummy``) call ``notify``, which drains
them at once when no loop is attached -- the unit tests' mode, entirely
synchronous -- or schedules the drain on the loop.

Invariants: the EMC only points at megaflows; a deleted megaflow is marked
dead (EMC hits on it become misses); every change of ports flushes the
caches, since compiled actions hold the ports' bound send methods.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Final

from pyovs.openflow.packet import extract_flow
from pyovs.packet.fastkey import fast_key, flow_key
from pyovs.packet.vnet import normalize

from .actions import Sender, compile_actions
from .dpif import DpAction, DpFlow, Dpif, Upcall, UpcallResult
from .flowcache import Emc, Megaflow, MegaflowTable, mask_items
from .netdev.base import Netdev

__all__ = ["ODPP_LOCAL", "ODPP_NONE", "UserspaceDpif"]

log = logging.getLogger(__name__)

ODPP_LOCAL: Final = 0
ODPP_NONE: Final = 0xFFFFFFFF
MAX_RECIRC_DEPTH: Final = 6
EXACT32: Final = 0xFFFFFFFF
BATCH: Final = 128


class UserspaceDpif(Dpif):
    """The datapath (see the module comment)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 emc_capacity: int = 8192, batch: int = BATCH) -> None:
        self._clock = clock
        self.batch = batch
        self._ports: dict[int, Netdev] = {}
        self.megaflows = MegaflowTable()
        self.emc = Emc(emc_capacity)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._readers: dict[int, int] = {}
        self._draining: set[int] = set()
        self._depth = 0
        # EMC hits are not counted per packet (the hot path); they are
        # n_received - n_mf_hit - n_missed.
        self.n_received = 0
        self.n_batches = 0
        self.n_mf_hit = 0
        self.n_missed = 0
        self.n_lost = 0

    # ---------------------------------------------------------------- ports

    def port_add(self, netdev: Netdev, odp_port: int | None = None) -> int:
        if odp_port is None:
            odp_port = 1
            while odp_port in self._ports:
                odp_port += 1
        elif odp_port in self._ports:
            raise ValueError(f"odp port {odp_port} is in use")
        self._ports[odp_port] = netdev
        netdev.notify = lambda: self._notify(odp_port)
        if self._loop is not None:
            self._add_reader(odp_port, netdev)
        self.flush()
        return odp_port

    def port_del(self, odp_port: int) -> None:
        netdev = self._ports.pop(odp_port, None)
        if netdev is None:
            return
        netdev.notify = None
        fd = self._readers.pop(odp_port, None)
        if fd is not None and self._loop is not None:
            self._loop.remove_reader(fd)
        self.flush()

    def ports(self) -> Mapping[int, Netdev]:
        return MappingProxyType(self._ports)

    # ------------------------------------------------------------ event loop

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Poll the ports' descriptors from ``loop`` (see the module comment)."""
        self._loop = loop
        for port_no, netdev in self._ports.items():
            self._add_reader(port_no, netdev)

    def detach(self) -> None:
        if self._loop is not None:
            for fd in self._readers.values():
                self._loop.remove_reader(fd)
        self._readers.clear()
        self._loop = None

    def _add_reader(self, port_no: int, netdev: Netdev) -> None:
        assert self._loop is not None
        fd = netdev.fileno()
        if fd >= 0:
            self._readers[port_no] = fd
            self._loop.add_reader(fd, self.poll, port_no)

    def poll(self, port_no: int) -> int:
        """Receive and process one batch from a port; returns how many frames."""
        netdev = self._ports.get(port_no)
        if netdev is None:
            return 0
        frames = netdev.recv_batch(self.batch)
        if frames:
            self.receive(port_no, frames)
        return len(frames)

    def _notify(self, port_no: int) -> None:
        if port_no in self._draining:
            return
        self._draining.add(port_no)
        if self._loop is not None:
            self._loop.call_soon(self._drain_later, port_no)
            return
        try:
            while self.poll(port_no):
                pass
        finally:
            self._draining.discard(port_no)

    def _drain_later(self, port_no: int) -> None:
        if self.poll(port_no) == self.batch and self._loop is not None:
            self._loop.call_soon(self._drain_later, port_no)
        else:
            self._draining.discard(port_no)

    # ------------------------------------------------------------- hot path

    def receive(self, in_port: int, frames: list[tuple[bytes, bytes]]) -> None:
        """Process frames that arrived on ``in_port`` (the datapath's input)."""
        now = self._clock()
        emc_get, key_of, size = self.emc.entries.get, fast_key, len  # locals: the loop is hot
        self.n_received += len(frames)
        self.n_batches += 1
        for data, vnet in frames:
            key = key_of(in_port, data)
            if key is not None:
                mf = emc_get(key)
                if mf is not None and not mf.dead:
                    mf.packets += 1
                    mf.bytes += size(data)
                    mf.used = now
                    mf.run(data, vnet)
                    continue
            self._classify(in_port, data, vnet, key, now, 0)

    def _classify(self, in_port: int, data: bytes, vnet: bytes, key: object,
                  now: float, recirc_id: int) -> None:
        flow = extract_flow(data).values
        flow["in_port"] = in_port
        flow["recirc_id"] = recirc_id
        if key is None and not recirc_id:
            key = flow_key(in_port, flow)
        mf = self.megaflows.lookup(flow)
        if mf is not None:
            self.n_mf_hit += 1
            mf.tcp_flags |= flow.get("tcp_flags", 0)
            if not recirc_id:
                self.emc.insert(key, mf)
            mf.packets += 1
            mf.bytes += len(data)
            mf.used = now
            mf.run(data, vnet)
            return
        self.n_missed += 1
        self._upcall(in_port, data, vnet, flow, now)

    def _upcall(self, in_port: int, data: bytes, vnet: bytes, flow: dict[str, int],
                now: float) -> None:
        handler = self.handler
        if handler is None:
            self.n_lost += 1
            return
        try:
            result = handler(Upcall(in_port, dict(flow), data, vnet))
            if result.mask is None:
                run = compile_actions(result.actions, in_port, self)
            else:
                # The class's next packet enters the EMC through the megaflow
                # lookup, which records its TCP flags (see flowcache).
                mf = self._install(flow, result, now)
                run = mf.run
        except Exception:
            self.n_lost += 1
            log.exception("upcall for a packet on port %d failed", in_port)
            return
        run(data, vnet)

    def _install(self, flow: Mapping[str, int], result: UpcallResult, now: float) -> Megaflow:
        assert result.mask is not None
        mask = dict(result.mask)
        mask["in_port"] = EXACT32
        mask["recirc_id"] = EXACT32
        run = compile_actions(result.actions, flow["in_port"], self)
        mf = self.megaflows.insert(flow, mask, list(result.actions), result.owner, now)
        mf.run = run
        return mf

    # ----------------------------------------------------- ExecContext hooks

    def port_sender(self, odp_port: int) -> Sender | None:
        netdev = self._ports.get(odp_port)
        return None if netdev is None else netdev.send

    def userspace(self, cookie: object, data: bytes, vnet: bytes, in_port: int) -> None:
        callback = self.on_userspace
        if callback is None:
            return
        flow = extract_flow(data).values
        flow["in_port"] = in_port
        flow["recirc_id"] = 0
        try:
            callback(cookie, data, vnet, flow)
        except Exception:
            log.exception("userspace action callback failed")

    def recirc(self, in_port: int, recirc_id: int, data: bytes, vnet: bytes) -> None:
        if self._depth >= MAX_RECIRC_DEPTH:
            self.n_lost += 1
            return
        self._depth += 1
        try:
            self._classify(in_port, data, vnet, None, self._clock(), recirc_id)
        finally:
            self._depth -= 1

    # ----------------------------------------------------------- slow path

    def execute(self, data: bytes, vnet: bytes, actions: list[DpAction],
                flow: dict[str, int] | None = None) -> None:
        in_port = ODPP_NONE if flow is None else flow.get("in_port", ODPP_NONE)
        compile_actions(actions, in_port, self)(bytes(data), normalize(vnet))

    def flush(self) -> None:
        self.megaflows.clear()
        self.emc.clear()

    def dump_flows(self) -> Iterator[DpFlow]:
        for mf in self.megaflows:
            yield DpFlow(dict(mf.key), dict(mf.mask), list(mf.actions), mf.packets, mf.bytes,
                         mf.used, mf.owner, mf.tcp_flags if mf.packets else 0)

    def push_stats(self) -> Iterator[tuple[object, int, int, float]]:
        graveyard, self.megaflows.graveyard = self.megaflows.graveyard, []
        for mf in [*graveyard, *self.megaflows]:
            packets = mf.packets - mf.pushed_packets
            if packets:
                nbytes = mf.bytes - mf.pushed_bytes
                mf.pushed_packets, mf.pushed_bytes = mf.packets, mf.bytes
                yield mf.owner, packets, nbytes, mf.used

    def expire(self, now: float, idle: float) -> int:
        n = 0
        for mf in list(self.megaflows):
            if now - (mf.used or mf.created) >= idle:
                self.megaflows.remove(mf)
                n += 1
        return n

    def revalidate(self, fn: Callable[[DpFlow], UpcallResult | None]) -> int:
        """Re-translate every megaflow; delete those whose answer changed mask or is None.

        Returns how many were deleted.  A changed action list is swapped in
        place (its EMC entries stay valid: they point at the megaflow).
        """
        n = 0
        for mf in list(self.megaflows):
            result = fn(DpFlow(dict(mf.key), dict(mf.mask), list(mf.actions), mf.packets,
                               mf.bytes, mf.used, mf.owner))
            mask = None if result is None or result.mask is None else dict(result.mask)
            if mask is not None:
                mask["in_port"] = mask["recirc_id"] = EXACT32
            if result is None or mask is None or mask_items(mask) != mf.mask:
                self.megaflows.remove(mf)
                n += 1
                continue
            if result.actions != mf.actions:
                mf.run = compile_actions(result.actions, mf.key.get("in_port", ODPP_NONE), self)
                mf.actions = list(result.actions)
            mf.owner = result.owner
        return n

    def counters(self) -> dict[str, int]:
        """dpctl/show's lookups: hit (EMC + megaflow), missed, lost; and flows/masks."""
        return {"hit": self.n_received - self.n_missed,
                "missed": self.n_missed, "lost": self.n_lost,
                "flows": len(self.megaflows), "masks": self.megaflows.n_masks(),
                "emc_entries": len(self.emc), "batches": self.n_batches}

    def close(self) -> None:
        self.detach()
        for port_no in list(self._ports):
            netdev = self._ports.pop(port_no)
            netdev.notify = None
            netdev.close()
        self.flush()

