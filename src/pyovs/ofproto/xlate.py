"""Translation: an OpenFlow pipeline run on one flow, as datapath actions.

``translate`` is OVS's ``xlate_actions`` for one packet's flow: it walks
the bridge's tables from table 0 (``goto_table``, ``resubmit``, patch
ports into other bridges, groups, NORMAL), applies the actions to a working
copy of the flow, and produces

* the datapath actions that do to the packet what the pipeline did
  (``pyovs.datapath.dpif`` tuples, with odp port numbers);
* the megaflow mask (``wc``): every bit of the flow that a table lookup or
  an action looked at, so that any packet agreeing on those bits would be
  translated the same way and the datapath may serve it without asking;
* side effects to account: the rules hit (their counters), MAC learning,
  packet-ins (as ``("userspace", PacketInRequest)`` actions, so the
  packet reaches the slow path *as modified so far*).

Header changes are *committed* lazily, as OVS does: actions change
``flow``; only before an output (or a userspace action) the differences
from ``base`` -- what the packet looks like in the datapath so far -- are
emitted as ``set``/``push_vlan``/``pop_vlan`` actions.  A field an action
wrote is always un-wildcarded, so the set is right for every packet of the
megaflow.

``Bridge`` is the protocol this module needs from ofproto (one bridge's
tables, ports, MAC table and controllers), which keeps xlate free of
sockets and of the OpenFlow connection machinery.  Tracing
(``ofproto/trace``) is the same walk with ``trace`` lines collected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final, Protocol

from pyovs.datapath.dpif import DpAction
from pyovs.openflow import actions as A
from pyovs.openflow.act_ct import Ct
from pyovs.openflow.act_learn import DST_MATCH, DST_OUTPUT, Learn
from pyovs.openflow.act_text import format_actions
from pyovs.openflow.fieldtypes import SLOT_BITS, Field
from pyovs.openflow.match import MatchBuilder
from pyovs.openflow.match_text import format_match
from pyovs.openflow.msg_flow import Command, FlowFlags, FlowMod
from pyovs.openflow.ports import (
    OFPP_ALL,
    OFPP_CONTROLLER,
    OFPP_FLOOD,
    OFPP_IN_PORT,
    OFPP_NONE,
    OFPP_NORMAL,
    OFPP_TABLE,
    from_ofp11,
    to_ofp11,
)
from pyovs.openflow.subfield import Subfield

from .groups import Liveness
from .normal import MacTable, VlanConfig, input_vlan, output_vlan

__all__ = ["Bridge", "PacketInRequest", "XPort", "Xlate", "XlateResult", "translate"]

# OpenFlow port config bits (OFPPC_*) that xlate honours.
OFPPC_PORT_DOWN: Final = 1 << 0
OFPPC_NO_RECV: Final = 1 << 2
OFPPC_NO_FLOOD: Final = 1 << 4
OFPPC_NO_FWD: Final = 1 << 5
OFPPC_NO_PACKET_IN: Final = 1 << 6

OFPR_ACTION: Final = 1
OFPR_INVALID_TTL: Final = 2
OFPR_EXPLICIT_MISS: Final = 6
"""OVS-internal: sent by a table-miss flow (no_match from OpenFlow 1.3, action before)."""
OFPR_IMPLICIT_MISS: Final = 7
"""OVS-internal: no flow matched (the miss rule); no_match on the wire."""
MAX_RESUBMITS: Final = 4096
MAX_DEPTH: Final = 64
VLAN_CFI: Final = 0x1000

# Slots the datapath can rewrite, in the order commits are emitted.
_SET_SLOTS: Final = ("dl_src", "dl_dst", "nw_src", "nw_dst", "ipv6_src", "ipv6_dst",
                     "ipv6_label", "nw_tos", "nw_ttl", "nw_proto", "tp_src", "tp_dst",
                     "arp_sha", "arp_tha", "mpls_lse")
_FULL: Final = {name: (1 << bits) - 1 for name, bits in SLOT_BITS.items()}
# Pipeline metadata a patch port does not carry into the peer bridge.
_PIPELINE_SLOTS: Final = ("metadata", "regs", "conj_id", "actset_output")


@dataclass(slots=True)
class XPort:
    """What xlate needs to know about one OpenFlow port."""

    ofport: int
    name: str
    odp: int | None
    """Datapath port; None for a patch port."""
    vlan: VlanConfig = field(default_factory=VlanConfig)
    config: int = 0
    """OFPPC_* bits (port-mod)."""
    live: bool = True
    """Link up and usable."""
    peer: tuple[Bridge, int] | None = None
    """For a patch port: the peer bridge and the peer port's ofport."""


class Bridge(Protocol):
    """One bridge, as xlate sees it (implemented by ``ofproto.Ofproto``)."""

    name: str
    ports: dict[int, XPort]
    mac: MacTable
    miss_send_len: int

    def lookup(self, table_id: int, flow: Mapping[str, int], wc: dict[str, int]) -> Any:
        """The rule a flow hits in a table (with .actions, .cookie, .table_id), or None."""

    def table_miss_to_controller(self) -> bool:
        """Whether a table miss becomes a packet-in (a pre-1.3 controller is connected)."""

    @property
    def tables(self) -> Any:
        """The flow tables (``flowtable.FlowTables``), with ``groups``."""

    def group(self, group_id: int) -> Any:
        """The group (``groups.Group``) or None."""


@dataclass(frozen=True, slots=True)
class PacketInRequest:
    """The cookie of a ``userspace`` action that sends a packet-in."""

    bridge: str
    reason: int
    table_id: int
    cookie: int
    max_len: int
    controller_id: int = 0
    userdata: bytes = b""
    metadata: tuple[tuple[str, int], ...] = ()
    """Pipeline fields (in_port, metadata, regs, tunnel) for the packet-in match."""


@dataclass(slots=True)
class XlateResult:
    actions: list[DpAction]
    wc: dict[str, int]
    rules: list[Any]
    learned: list[tuple[Bridge, int, int, int]]
    """(bridge, mac, vlan, port) seen by NORMAL: refreshed while the flow is used."""
    mac_changed: bool = False
    trace: list[str] = field(default_factory=list)
    slow: bool = False
    """Must not be installed (e.g. the pipeline looped)."""
    learns: list[tuple[FlowMod, int]] = field(default_factory=list)
    """(flow mod, limit) the ``learn`` actions of this translation add (for the caller)."""
    final_flow: dict[str, int] = field(default_factory=dict)
    """The flow as the pipeline left it (trace's "Final flow")."""


class Xlate:
    """One translation (see the module comment)."""

    def __init__(self, bridge: Bridge, flow: dict[str, int], now: float,
                 tracing: bool = False) -> None:
        self.br = bridge
        self.flow = dict(flow)
        self.base = dict(flow)
        # OVS xlate_wc_init: what every megaflow matches on exactly.
        self.wc: dict[str, int] = {"in_port": 0xFFFF, "recirc_id": 0xFFFFFFFF,
                                   "packet_type": 0xFFFFFFFF, "dl_type": 0xFFFF}
        if flow.get("dl_type") in (0x0800, 0x86DD):
            self.wc["nw_frag"] = 3
        self.touched: set[str] = set()
        self.actions: list[DpAction] = []
        self.rules: list[Any] = []
        self.learned: list[tuple[Bridge, int, int, int]] = []
        self.mac_changed = False
        self.now = now
        self.resubmits = 0
        self.depth = 0
        self.table_id = 0
        self.exit = False
        self.action_set: list[A.Action] = []
        self.trace: list[str] | None = [] if tracing else None
        self.slow = False
        self.learns: list[tuple[FlowMod, int]] = []
        self.tpids: list[int] = []
        self.rule: Any = None
        """The rule whose actions are running."""
        """TPIDs of the tags push_vlan put on, outermost first (others: 0x8100)."""

    # -- helpers -------------------------------------------------------------
    def note(self, text: str) -> None:
        """A trace line at the current depth (tables, actions, bridges)."""
        if self.trace is not None:
            self.trace.append("    " * self.depth + text)

    def detail(self, text: str) -> None:
        """A trace detail under the current action (OVS's `` -> ...``)."""
        if self.trace is not None:
            self.trace.append("    " * self.depth + " -> " + text)

    def warn(self, text: str) -> None:
        if self.trace is not None:
            self.trace.append("    " * self.depth + " >> " + text)

    def unwild(self, slot: str, mask: int | None = None) -> None:
        self.wc[slot] = self.wc.get(slot, 0) | (_FULL[slot] if mask is None else mask)

    def read(self, f: Field) -> int:
        value = (self.flow.get(f.slot, 0) & f.slot_bits) >> f.shift
        self.unwild(f.slot, f.slot_bits)
        if f.name in ("in_port_oxm", "actset_output"):
            return to_ofp11(value)
        return value

    def write(self, f: Field, value: int, mask: int | None = None) -> None:
        """Set (bits of) a field in the working flow, as OVS ``mf_set_flow_value``."""
        if mask is None:
            mask = f.all_ones
        name = f.name
        if name in ("in_port_oxm", "actset_output"):
            value, mask = from_ofp11(value), 0xFFFF
        if name in ("vlan_vid", "dl_vlan"):
            tci = self.flow.get("vlan_tci", 0)
            if name == "dl_vlan" and value == 0xFFFF:
                self.flow["vlan_tci"] = 0
            else:
                vid_mask = mask & 0xFFF
                self.flow["vlan_tci"] = (tci & ~vid_mask) | (value & vid_mask) | VLAN_CFI
            self.touched.add("vlan_tci")
            return
        if name in ("vlan_pcp", "dl_vlan_pcp"):
            tci = self.flow.get("vlan_tci", 0)
            self.flow["vlan_tci"] = (tci & 0x1FFF) | ((value & 7) << 13) | VLAN_CFI
            self.touched.add("vlan_tci")
            return
        bits = (mask << f.shift) & f.slot_bits
        old = self.flow.get(f.slot, 0)
        self.flow[f.slot] = (old & ~bits) | ((value << f.shift) & bits)
        self.touched.add(f.slot)
        if f.slot == "in_port":
            self.touched.discard("in_port")

    def read_sub(self, sf: Subfield) -> int:
        return (self.read(sf.field) >> sf.ofs) & ((1 << sf.n_bits) - 1)

    def write_sub(self, sf: Subfield, value: int) -> None:
        ones = (1 << sf.n_bits) - 1
        self.write(sf.field, (value & ones) << sf.ofs, ones << sf.ofs)

    # -- commit: working flow -> datapath actions ------------------------------
    def commit(self) -> None:
        flow, base = self.flow, self.base
        for slot in self.touched:
            if slot not in ("vlan_tci", "vlan_tci1"):
                self.unwild(slot)
        self.commit_vlans()
        for slot in _SET_SLOTS:
            value = flow.get(slot, 0)
            if value != base.get(slot, 0):
                self.actions.append(("set", slot, value, _FULL[slot]))
                base[slot] = value

    def commit_vlans(self) -> None:
        """Make the packet's 802.1Q stack the flow's: pop and push from the outside in.

        Tags the two stacks share at the inner end stay; the others are
        popped and the new ones pushed (with the TPID their push_vlan gave).
        """
        flow, base = self.flow, self.base
        old = [t for t in (base.get("vlan_tci", 0), base.get("vlan_tci1", 0)) if t & VLAN_CFI]
        new = [t for t in (flow.get("vlan_tci", 0), flow.get("vlan_tci1", 0)) if t & VLAN_CFI]
        if "vlan_tci" in self.touched or old != new:
            self.unwild("vlan_tci", 0xFFFF)
        if old == new:
            return
        if len(old) > 1 or len(new) > 1:
            self.unwild("vlan_tci1", 0xFFFF)
        keep = 0
        while (keep < min(len(old), len(new)) and old[len(old) - 1 - keep]
               == new[len(new) - 1 - keep]):
            keep += 1
        for _ in range(len(old) - keep):
            self.actions.append(("pop_vlan",))
        for i in reversed(range(len(new) - keep)):
            tpid = self.tpids[i] if i < len(self.tpids) else 0x8100
            self.actions.append(("push_vlan", tpid, new[i]))
        base["vlan_tci"] = flow.get("vlan_tci", 0)
        base["vlan_tci1"] = flow.get("vlan_tci1", 0)

    # -- the pipeline ----------------------------------------------------------
    def run_table(self, table_id: int) -> None:
        if self.resubmits >= MAX_RESUBMITS or self.depth >= MAX_DEPTH:
            self.note(" >>>> Too many resubmits or too deep <<<<")
            self.slow = True
            return
        self.resubmits += 1
        saved_table = self.table_id
        self.table_id = table_id
        rule = self.br.lookup(table_id, self.flow, self.wc)
        if rule is None:
            self.note(f"{table_id:2d}. No match.")
            if table_id == 0 and self.depth == 0 and self.br.table_miss_to_controller():
                self.send_to_controller(OFPR_IMPLICIT_MISS, 0xFFFF, 0, b"",
                                        cookie=0xFFFFFFFFFFFFFFFF)
            else:
                self.note("    drop")
            self.table_id = saved_table
            return
        self.rules.append(rule)
        self.note(f"{table_id:2d}. {_rule_text(rule)}")
        self.depth += 1
        saved_rule, self.rule = self.rule, rule
        self.do_actions(rule.actions)
        self.rule = saved_rule
        self.depth -= 1
        self.table_id = saved_table

    def do_actions(self, acts: tuple[A.Action, ...] | list[A.Action]) -> None:
        for act in acts:
            if self.exit:
                return
            if self.trace is not None:
                self.note(format_actions((act,)))
            self.do_action(act)

    def do_action(self, act: A.Action) -> None:
        handler = _DISPATCH.get(type(act))
        if handler is not None:
            handler(self, act)
            return
        if isinstance(act, A.GotoTable):
            self.run_table(act.table_id)
        elif isinstance(act, A.Resubmit):
            self.resubmit(act)
        elif isinstance(act, A.WriteActions):
            self.write_action_set(act.actions)
        elif isinstance(act, A.ClearActions):
            self.action_set.clear()
        elif isinstance(act, A.WriteMetadata):
            old = self.flow.get("metadata", 0)
            self.flow["metadata"] = (old & ~act.mask) | (act.metadata & act.mask)
        elif isinstance(act, A.Exit):
            self.exit = True
        elif isinstance(act, A.Clone):
            self.nested(lambda: self.do_actions(act.actions))
        elif isinstance(act, Ct):
            self.warn("ct: conntrack is not supported by this datapath yet; dropping")
            self.exit = True
        else:
            self.warn(f"{type(act).__name__}: not implemented, ignored")

    def nested(self, body: Callable[[], None]) -> None:
        """Run ``body`` on a copy of the packet: a datapath ``clone``.

        Whatever it changes stays inside the clone; the outer pipeline
        continues with the flow and packet as they were.
        """
        saved = (dict(self.flow), dict(self.base), set(self.touched), list(self.action_set),
                 self.actions, self.exit)
        self.actions, self.action_set = [], []
        body()
        self.finish()
        inner = self.actions
        (self.flow, self.base, touched, self.action_set, self.actions, self.exit) = saved
        self.touched = touched
        if inner:
            self.actions.append(("clone", inner))

    def resubmit(self, act: A.Resubmit) -> None:
        in_port = act.in_port
        table = self.table_id if act.table_id == 0xFF else act.table_id
        saved = self.flow.get("in_port", 0)
        if in_port != OFPP_IN_PORT:
            self.flow["in_port"] = in_port
        self.run_table(table)
        self.flow["in_port"] = saved
        self.exit = False

    def write_action_set(self, acts: tuple[A.Action, ...]) -> None:
        for act in acts:
            kind = type(act)
            self.action_set = [a for a in self.action_set if type(a) is not kind
                               or (kind is A.SetField and a.field is not act.field)]  # type: ignore[attr-defined]
            self.action_set.append(act)

    def finish(self) -> None:
        """Execute the action set at the end of the pipeline (OpenFlow 1.1+)."""
        if not self.action_set:
            return
        acts = self.action_set
        self.action_set = []
        self.exit = False
        outputs: list[A.Action] = [a for a in acts if isinstance(a, A.Output | A.Group)]
        others: list[A.Action] = [a for a in acts if not isinstance(a, A.Output | A.Group)]
        self.do_actions(others + outputs[-1:])

    # -- outputs -------------------------------------------------------------
    def output(self, port: int, max_len: int = 0) -> None:
        in_port = self.flow.get("in_port", 0)
        if port == OFPP_IN_PORT:
            self.output_port(in_port)
        elif port == OFPP_NORMAL:
            self.normal()
        elif port in (OFPP_FLOOD, OFPP_ALL):
            for p in sorted(self.br.ports):
                xp = self.br.ports[p]
                if p == in_port or (port == OFPP_FLOOD and xp.config & OFPPC_NO_FLOOD):
                    continue
                self.output_port(p, quiet=True)
        elif port == OFPP_CONTROLLER:
            self.send_to_controller(OFPR_ACTION, max_len or 0xFFFF, 0, b"")
        elif port == OFPP_TABLE:
            self.warn("output:TABLE is only for packet-out")
        elif port == OFPP_NONE:
            pass
        else:
            if port == in_port:
                self.detail("skipping output to input port")
                return
            self.output_port(port)

    def output_port(self, ofport: int, quiet: bool = False) -> None:
        xp = self.br.ports.get(ofport)
        if xp is None:
            self.warn(f"output to nonexistent port {ofport}")
            return
        if xp.config & (OFPPC_PORT_DOWN | OFPPC_NO_FWD) or not xp.live:
            if not quiet:
                self.detail(f"port {ofport} is down or no-fwd: not outputting")
            return
        if xp.peer is not None:
            self.patch(xp)
            return
        if xp.odp is None:
            return
        self.commit()
        self.actions.append(("output", xp.odp))

    def patch(self, xp: XPort) -> None:
        assert xp.peer is not None
        peer_br, peer_port = xp.peer
        self.note("")
        self.note(f'bridge("{peer_br.name}")')
        self.note("-" * (len(peer_br.name) + 10))
        saved_br, saved_flow = self.br, dict(self.flow)
        saved_set, saved_exit = self.action_set, self.exit
        self.br = peer_br
        self.flow["in_port"] = peer_port
        for slot in _PIPELINE_SLOTS:
            self.flow.pop(slot, None)
        self.action_set, self.exit = [], False
        self.depth += 1
        self.run_table(0)
        self.finish()
        self.depth -= 1
        self.br, self.action_set, self.exit = saved_br, saved_set, saved_exit
        for slot in _PIPELINE_SLOTS:
            if slot in saved_flow:
                self.flow[slot] = saved_flow[slot]
        self.flow["in_port"] = saved_flow["in_port"]

    def send_to_controller(self, reason: int, max_len: int, controller_id: int,
                           userdata: bytes, cookie: int | None = None) -> None:
        in_port = self.flow.get("in_port", 0)
        xp = self.br.ports.get(in_port)
        if xp is not None and xp.config & OFPPC_NO_PACKET_IN:
            self.detail("input port has no-packet-in")
            return
        self.commit()
        rule = self.rule
        if (reason == OFPR_ACTION and rule is not None and rule.priority == 0
                and not rule.match):
            reason = OFPR_EXPLICIT_MISS  # OVS xlate_controller_action: a table-miss flow
        rule_cookie = cookie
        if rule_cookie is None:
            rule_cookie = rule.cookie if rule is not None else 0xFFFFFFFFFFFFFFFF
        meta = tuple((s, self.flow[s]) for s in ("in_port", "metadata", "regs", "tun_id",
                                                  "pkt_mark") if self.flow.get(s))
        self.actions.append(("userspace", PacketInRequest(
            self.br.name, reason, self.table_id, rule_cookie, max_len, controller_id,
            userdata, meta)))
        self.detail(f"sending to the controller (reason {reason})")

    # -- NORMAL ------------------------------------------------------------------
    def normal(self) -> None:
        flow, br = self.flow, self.br
        in_port = flow.get("in_port", 0)
        for slot, mask in (("dl_src", None), ("dl_dst", None), ("vlan_tci", 0x1FFF)):
            self.unwild(slot, mask)
        xp = br.ports.get(in_port)
        if xp is None:
            self.warn("unknown input port, dropping")
            return
        tci = flow.get("vlan_tci", 0)
        vlan = input_vlan(xp.vlan, tci)
        if vlan is None:
            self.warn(f"dropping packet with VLAN TCI 0x{tci:04x} received on port {xp.name}")
            return
        src, dst = flow.get("dl_src", 0), flow.get("dl_dst", 0)
        if self.trace is None:  # a trace explains; it does not learn (OVS may_learn)
            if br.mac.learn(src, vlan, in_port, self.now):
                self.mac_changed = True
            self.learned.append((br, src, vlan, in_port))
        pcp = tci & 0xE000
        entry = None if dst & (1 << 40) else br.mac.lookup(dst, vlan, self.now)
        if entry is not None:
            if entry.port == in_port:
                self.detail("learned port is input port, dropping")
                return
            out = br.ports.get(entry.port)
            if out is not None:
                self.detail("forwarding to learned port")
                self.normal_output(out, vlan, pcp)
            return
        self.detail("no learned MAC for destination, flooding")
        for p in sorted(br.ports):
            out = br.ports[p]
            if p == in_port or out.config & OFPPC_NO_FLOOD or not out.vlan.carries(vlan):
                continue
            self.normal_output(out, vlan, pcp)

    def normal_output(self, out: XPort, vlan: int, pcp: int) -> None:
        vid = output_vlan(out.vlan, vlan)
        saved = self.flow.get("vlan_tci", 0)
        self.flow["vlan_tci"] = 0 if vid is None else (pcp | VLAN_CFI | vid)
        self.output_port(out.ofport, quiet=True)
        self.flow["vlan_tci"] = saved

    # -- groups ------------------------------------------------------------------
    def group(self, group_id: int) -> None:
        grp = self.br.group(group_id)
        if grp is None:
            self.warn(f"no such group {group_id}")
            return
        live = Liveness(self.port_live, self.br.tables.groups)
        buckets = grp.buckets_for(self.flow, live, self.wc)
        for bucket in buckets:
            self.note(f"bucket {bucket.bucket_id}")
            self.nested(partial(self.do_actions, bucket.actions))

    def port_live(self, ofport: int) -> bool:
        xp = self.br.ports.get(ofport)
        return xp is not None and xp.live and not xp.config & OFPPC_PORT_DOWN


def _rule_text(rule: Any) -> str:
    """OVS ``xlate_report_table``: the rule's match, priority and cookie."""
    text = format_match(rule.match)
    text = f"{text}, priority {rule.priority}" if text else f"priority {rule.priority}"
    if rule.cookie:
        text += f", cookie {rule.cookie:#x}"
    return text


# --- simple actions as a table --------------------------------------------------

def _set_field(x: Xlate, a: A.SetField) -> None:
    x.write(a.field, a.value, a.mask)


def _strip_vlan(x: Xlate, a: A.StripVlan) -> None:
    x.unwild("vlan_tci", 0xFFFF)
    x.flow["vlan_tci"] = x.flow.pop("vlan_tci1", 0)
    if x.tpids:
        x.tpids.pop(0)
    x.touched.add("vlan_tci")


def _push_vlan(x: Xlate, a: A.PushVlan) -> None:
    """OVS's push_vlan: a new outer tag with VID 0 and PCP 0 (set_field fills it in)."""
    x.unwild("vlan_tci", 0xFFFF)
    tci = x.flow.get("vlan_tci", 0)
    if tci & VLAN_CFI:
        x.unwild("vlan_tci1", 0xFFFF)
        x.flow["vlan_tci1"] = tci
    x.flow["vlan_tci"] = VLAN_CFI
    x.tpids.insert(0, a.ethertype)
    x.touched.add("vlan_tci")


def _set_vlan_vid(x: Xlate, a: A.SetVlanVid) -> None:
    x.unwild("vlan_tci", 0xFFFF)
    tci = x.flow.get("vlan_tci", 0)
    if not tci & VLAN_CFI and not a.push_vlan_if_needed:
        return
    x.flow["vlan_tci"] = (tci & 0xE000) | VLAN_CFI | (a.vid & 0xFFF)
    x.touched.add("vlan_tci")


def _set_vlan_pcp(x: Xlate, a: A.SetVlanPcp) -> None:
    x.unwild("vlan_tci", 0xFFFF)
    tci = x.flow.get("vlan_tci", 0)
    if not tci & VLAN_CFI and not a.push_vlan_if_needed:
        return
    x.flow["vlan_tci"] = (tci & 0x1FFF) | VLAN_CFI | ((a.pcp & 7) << 13)
    x.touched.add("vlan_tci")


def _set_slot(slot: str, value: int, x: Xlate, mask: int | None = None) -> None:
    full = _FULL[slot] if mask is None else mask
    x.flow[slot] = (x.flow.get(slot, 0) & ~full) | (value & full)
    x.touched.add(slot)


def _if_ipv4(x: Xlate) -> bool:
    """OVS applies the OpenFlow 1.0 IPv4 actions to IPv4 packets only."""
    return x.flow.get("dl_type") == 0x0800


def _if_ip(x: Xlate) -> bool:
    return x.flow.get("dl_type") in (0x0800, 0x86DD)


def _if_l4(x: Xlate) -> bool:
    """Transport port actions: TCP, UDP and SCTP, not on later fragments."""
    if not _if_ip(x):
        return False
    x.unwild("nw_proto")
    x.unwild("nw_frag", 3)
    return x.flow.get("nw_proto") in (6, 17, 132) and not x.flow.get("nw_frag", 0) & 2


def _set_if(applies: Callable[[Xlate], bool], slot: str, value: Callable[[Any], int],
            mask: int | None = None) -> Callable[[Xlate, Any], None]:
    """An OpenFlow 1.0 set action: rewrites ``slot`` when the packet has that header."""
    def run(x: Xlate, a: Any) -> None:
        if applies(x):
            _set_slot(slot, value(a), x, mask)
    return run


MPLS_TYPES: Final = (0x8847, 0x8848)
_LSE_SLOTS: Final = ("mpls_lse", "mpls_lse1", "mpls_lse2")


def _push_mpls(x: Xlate, a: A.PushMpls) -> None:
    """OVS ``flow_push_mpls``: a new top label, from the IP header or the old top label."""
    flow = x.flow
    x.unwild("dl_type")
    x.commit()  # pending IP rewrites go before the label hides the IP header
    if flow.get("dl_type") in MPLS_TYPES:
        x.unwild("mpls_lse")
        lse = flow.get("mpls_lse", 0) & ~0x100
    else:
        label, tc, ttl = (2 if flow.get("dl_type") == 0x86DD else 0), 0, 64
        if _if_ip(x):
            x.unwild("nw_tos", 0xFC)
            x.unwild("nw_ttl")
            tc = (flow.get("nw_tos", 0) & 0xFC) >> 2
            ttl = flow.get("nw_ttl", 0) or 64
        lse = label << 12 | (tc & 7) << 9 | 1 << 8 | ttl
    for i in (2, 1):
        flow[_LSE_SLOTS[i]] = flow.get(_LSE_SLOTS[i - 1], 0)
    flow["mpls_lse"] = lse
    flow["dl_type"] = a.ethertype
    x.actions.append(("push_mpls", a.ethertype, lse))
    for slot in _LSE_SLOTS:
        x.base[slot] = flow.get(slot, 0)
    x.base["dl_type"] = a.ethertype


def _pop_mpls(x: Xlate, a: A.PopMpls) -> None:
    flow = x.flow
    x.unwild("dl_type")
    if flow.get("dl_type") not in MPLS_TYPES:
        return  # OVS: pop_mpls on a packet without MPLS does nothing
    x.commit()
    flow["mpls_lse"], flow["mpls_lse1"], flow["mpls_lse2"] = (
        flow.get("mpls_lse1", 0), flow.get("mpls_lse2", 0), 0)
    flow["dl_type"] = a.ethertype
    x.actions.append(("pop_mpls", a.ethertype))
    for slot in _LSE_SLOTS:
        x.base[slot] = flow.get(slot, 0)
    x.base["dl_type"] = a.ethertype


def _set_lse(x: Xlate, shift: int, width: int, value: int) -> None:
    if x.flow.get("dl_type") not in MPLS_TYPES:
        return
    bits = ((1 << width) - 1) << shift
    x.flow["mpls_lse"] = (x.flow.get("mpls_lse", 0) & ~bits) | ((value << shift) & bits)
    x.touched.add("mpls_lse")


def _dec_mpls_ttl(x: Xlate, a: A.DecMplsTtl) -> None:
    if x.flow.get("dl_type") not in MPLS_TYPES:
        return
    x.unwild("mpls_lse", 0xFF)
    ttl = x.flow.get("mpls_lse", 0) & 0xFF
    if ttl > 1:
        _set_lse(x, 0, 8, ttl - 1)
        return
    x.send_to_controller(OFPR_INVALID_TTL, 0xFFFF, 0, b"")
    x.exit = True


def _dec_ttl(x: Xlate, a: A.DecTtl) -> None:
    if not _if_ip(x):
        return  # OVS: dec_ttl does nothing to a non-IP packet
    x.unwild("nw_ttl")
    ttl = x.flow.get("nw_ttl", 0)
    if ttl > 1:
        _set_slot("nw_ttl", ttl - 1, x)
        return
    for cid in a.ids:
        x.send_to_controller(OFPR_INVALID_TTL, 0xFFFF, cid, b"")
    x.exit = True


def _reg_move(x: Xlate, a: A.RegMove) -> None:
    x.write_sub(a.dst, x.read_sub(a.src))


def _output_reg(x: Xlate, a: A.OutputReg) -> None:
    x.output(x.read_sub(a.src) & 0xFFFF, a.max_len)


def _controller(x: Xlate, a: A.Controller) -> None:
    x.send_to_controller(a.reason, a.max_len, a.controller_id, a.userdata)


def _learn(x: Xlate, a: Learn) -> None:
    """OVS ``learn_execute``: the flow this packet teaches, from the specs."""
    b = MatchBuilder()
    acts: list[A.Action] = []
    for spec in a.specs:
        value = x.read_sub(spec.src) if spec.src is not None else spec.imm
        value &= (1 << spec.n_bits) - 1
        if spec.dst_type == DST_OUTPUT:
            acts.append(A.Output(value & 0xFFFF))
            continue
        assert spec.dst is not None
        dst = spec.dst
        bits = ((1 << spec.n_bits) - 1) << dst.ofs
        if spec.dst_type == DST_MATCH:
            v, m = b.get_field(dst.field)
            b.set_field(dst.field, (v & ~bits) | (value << dst.ofs), m | bits)
        else:
            acts.append(A.SetField(dst.field, value << dst.ofs, bits, raw="NXAST_REG_LOAD"))
    flags = FlowFlags.SEND_FLOW_REM if a.flags & 1 else FlowFlags(0)
    fm = FlowMod(command=Command.MODIFY_STRICT, match=b.freeze(), priority=a.priority,
                 actions=tuple(acts), new_cookie=a.cookie, table_id=a.table_id,
                 idle_timeout=a.idle_timeout, hard_timeout=a.hard_timeout, flags=flags)
    x.learns.append((fm, a.limit))
    x.detail(f"learns: table={a.table_id},{format_match(fm.match)} "
             f"actions={format_actions(fm.actions) or 'drop'}")


def _output_trunc(x: Xlate, a: A.OutputTrunc) -> None:
    x.commit()
    x.actions.append(("trunc", a.max_len))
    x.output(a.port)


_DISPATCH: Final[dict[type, Callable[[Xlate, Any], None]]] = {
    A.Output: lambda x, a: x.output(a.port, a.max_len),
    A.Enqueue: lambda x, a: x.output(a.port),
    A.Group: lambda x, a: x.group(a.group_id),
    A.Controller: _controller,
    A.SetField: _set_field,
    A.StripVlan: _strip_vlan,
    A.PushVlan: _push_vlan,
    A.SetVlanVid: _set_vlan_vid,
    A.SetVlanPcp: _set_vlan_pcp,
    A.SetEthSrc: lambda x, a: _set_slot("dl_src", a.mac, x),
    A.SetEthDst: lambda x, a: _set_slot("dl_dst", a.mac, x),
    A.SetIpv4Src: _set_if(_if_ipv4, "nw_src", lambda a: a.ipv4),
    A.SetIpv4Dst: _set_if(_if_ipv4, "nw_dst", lambda a: a.ipv4),
    A.SetIpDscp: _set_if(_if_ip, "nw_tos", lambda a: a.dscp & 0xFC, 0xFC),
    A.SetIpEcn: _set_if(_if_ip, "nw_tos", lambda a: a.ecn & 3, 3),
    A.SetIpTtl: _set_if(_if_ip, "nw_ttl", lambda a: a.ttl),
    A.SetL4SrcPort: _set_if(_if_l4, "tp_src", lambda a: a.port),
    A.SetL4DstPort: _set_if(_if_l4, "tp_dst", lambda a: a.port),
    A.DecTtl: _dec_ttl,
    A.RegMove: _reg_move,
    A.OutputReg: _output_reg,
    A.OutputTrunc: _output_trunc,
    Learn: _learn,
    A.PushMpls: _push_mpls,
    A.PopMpls: _pop_mpls,
    A.SetMplsLabel: lambda x, a: _set_lse(x, 12, 20, a.label),
    A.SetMplsTc: lambda x, a: _set_lse(x, 9, 3, a.tc),
    A.SetMplsTtl: lambda x, a: _set_lse(x, 0, 8, a.ttl),
    A.DecMplsTtl: _dec_mpls_ttl,
    A.SetTunnel: lambda x, a: _set_slot("tun_id", a.tun_id, x),
    A.Note: lambda x, a: x.note("note"),
    A.SetQueue: lambda x, a: None,
    A.PopQueue: lambda x, a: None,
    A.Meter: lambda x, a: None,
    A.FinTimeout: lambda x, a: None,
    A.Conjunction: lambda x, a: None,
}


def translate(bridge: Bridge, flow: dict[str, int], now: float,
              tracing: bool = False, start_actions: list[A.Action] | None = None
              ) -> XlateResult:
    """Run the pipeline for ``flow`` (in_port an OpenFlow port of ``bridge``).

    With ``start_actions`` (a packet-out) those actions run instead of table 0.
    """
    x = Xlate(bridge, flow, now, tracing)
    in_port = flow.get("in_port", 0)
    xp = bridge.ports.get(in_port)
    if start_actions is not None:
        x.do_actions(start_actions)
        x.finish()
    elif xp is not None and xp.config & OFPPC_NO_RECV:
        x.note("input port has no-recv: dropping")
    else:
        x.run_table(0)
        x.finish()
    return XlateResult(x.actions, x.wc, x.rules, x.learned, x.mac_changed,
                       x.trace or [], x.slow, x.learns, x.flow)
