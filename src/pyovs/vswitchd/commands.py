"""pyovs-vswitchd's control commands, in ovs-vswitchd's names and formats.

Each command is a small function over the running ``Vswitchd``; the table
at the bottom registers them with the control socket, so ``pyovs-appctl``
and the real ``ovs-appctl`` reach the same handlers:

* ``exit`` -- stop the daemon (bridges and devices are removed);
* ``fdb/show BRIDGE`` -- the MAC learning table, oldest first, in
  ``ovs-appctl fdb/show``'s columns; ``fdb/flush [BRIDGE]``;
* ``dpctl/show``, ``dpctl/dump-flows [-m]`` -- the datapath's ports and
  megaflows, as ``ovs-appctl dpctl/...`` prints them for a netdev datapath;
* ``bridge/dump-flows BRIDGE`` -- every OpenFlow rule including hidden ones;
* ``ofproto/trace BRIDGE FLOW`` (or ``ofproto/trace FLOW`` with
  ``in_port`` and one bridge) -- the pipeline walk for a flow written in
  ovs-ofctl syntax: each table's matching rule, the final flow, the
  megaflow and the datapath actions;
* ``netdev-dummy/receive PORT HEX`` and ``netdev-dummy/sent PORT``
  (pyovs) -- inject a frame into a dummy port, read what one sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pyovs.datapath.netdev.dummy import DummyNetdev
from pyovs.ofproto.ofproto import Ofproto
from pyovs.ofproto.xlate import translate
from pyovs.openflow.fieldtypes import SLOT_BITS
from pyovs.openflow.match import Match
from pyovs.openflow.match_text import format_match, parse_match
from pyovs.openflow.msg_flowstats import FlowStatsRequest, format_flow_stats
from pyovs.openflow.packet import Flow, packet_match
from pyovs.openflow.ports import OFPP_LOCAL
from pyovs.openflow.values import eth_to_str
from pyovs.unixctl import UnixctlError, UnixctlServer

if TYPE_CHECKING:
    from .main import Vswitchd

__all__ = ["register_commands"]


def _bridge(vs: Vswitchd, name: str) -> Ofproto:
    st = vs.reconciler.bridges.get(name)
    if st is None:
        raise UnixctlError("no such bridge")
    return st.ofproto


def fdb_show(vs: Vswitchd, args: list[str]) -> str:
    br = _bridge(vs, args[0])
    now = time.monotonic()
    lines = [" port  VLAN  MAC                Age\n"]
    for e in br.mac:
        if now - e.seen >= br.mac.aging:
            continue
        port = "LOCAL" if e.port == OFPP_LOCAL else str(e.port)
        lines.append(f"{port:>5}  {e.vlan:4d}  {eth_to_str(e.mac)}  {int(now - e.seen):3d}\n")
    return "".join(lines)


def fdb_flush(vs: Vswitchd, args: list[str]) -> str:
    names = args or list(vs.reconciler.bridges)
    for name in names:
        _bridge(vs, name).mac.flush()
    vs.reconciler.backer.revalidate()
    return "table successfully flushed\n"


def dpctl_show(vs: Vswitchd, args: list[str]) -> str:
    counters = vs.dpif.counters()
    out = ["netdev@ovs-netdev:\n",
           f"  lookups: hit:{counters.get('hit', 0)} missed:{counters.get('missed', 0)} "
           f"lost:{counters.get('lost', 0)}\n",
           f"  flows: {counters.get('flows', 0)}\n"]
    out.append("  port 0: ovs-netdev (tap)\n")
    for port, netdev in sorted(vs.dpif.ports().items()):
        kind = "" if netdev.kind == "system" else f" ({netdev.kind})"
        out.append(f"  port {port}: {netdev.name}{kind}\n")
    return "".join(out)


def dpctl_dump_flows(vs: Vswitchd, args: list[str]) -> str:
    from pyovs.datapath import odptext  # the datapath's own text module
    # As lib/dpctl.c: port names with --names, or by default with -m.
    verbose = any(a in ("-m", "--more") for a in args)
    want_names = ("--names" in args or verbose) and "--no-names" not in args
    names = {port: nd.name for port, nd in vs.dpif.ports().items()} if want_names else None
    now = time.monotonic()
    return "".join(odptext.format_dpflow(f, now, names) + "\n" for f in vs.dpif.dump_flows())


def bridge_dump_flows(vs: Vswitchd, args: list[str]) -> str:
    br = _bridge(vs, args[0])
    now = time.monotonic()
    lines = []
    for fs in br.tables.flow_stats(FlowStatsRequest(), now):
        lines.append(format_flow_stats(fs) + "\n")
    return "".join(lines)


def ofproto_trace(vs: Vswitchd, args: list[str]) -> str:
    if len(args) == 2:
        br = _bridge(vs, args[0])
        text = args[1]
    elif len(vs.reconciler.bridges) == 1:
        br = next(iter(vs.reconciler.bridges.values())).ofproto
        text = args[0]
    else:
        raise UnixctlError("Must specify bridge name")
    try:
        match, _ = parse_match(text)
    except Exception as e:  # the parser's own message is what the user needs
        raise UnixctlError(str(e)) from None
    flow = {slot: value for slot, value, _mask in match}
    from pyovs.datapath import odptext
    result = translate(br, flow, time.monotonic(), tracing=True)
    out = [f"Flow: {flow_text(flow)}\n", "\n", f'bridge("{br.name}")\n',
           "-" * (len(br.name) + 10) + "\n"]
    out += [f"{line}\n" for line in result.trace]
    final = {k: v for k, v in result.final_flow.items() if v}
    same = final == {k: v for k, v in flow.items() if v}
    out.append(f"\nFinal flow: {'unchanged' if same else flow_text(result.final_flow)}\n")
    wc = Match(tuple((slot, flow.get(slot, 0) & mask, mask)
                     for slot, mask in sorted(result.wc.items()) if mask))
    out.append(f"Megaflow: {format_match(wc)}\n")
    out.append(f"Datapath actions: {odptext.format_actions(result.actions) or 'drop'}\n")
    return "".join(out)


def flow_text(flow: dict[str, int]) -> str:
    """OVS ``flow_format``: the fields a packet of this flow has, plus non-zero metadata."""
    match = packet_match(Flow(dict(flow)))
    extra = tuple((slot, value, (1 << SLOT_BITS[slot]) - 1)
                  for slot, value in sorted(flow.items())
                  if value and slot in _CONTEXT and match.get(slot) == (0, 0))
    return format_match(Match(tuple(sorted(match.entries + extra,
                                           key=lambda e: _SLOT_ORDER.get(e[0], 999)))))


_CONTEXT = ("in_port", "metadata", "regs", "tun_id", "pkt_mark", "skb_priority", "recirc_id",
            "ct_state", "ct_zone", "ct_mark", "conj_id", "actset_output")
_SLOT_ORDER = {name: i for i, name in enumerate(SLOT_BITS)}


def _dummy(vs: Vswitchd, name: str) -> DummyNetdev:
    for st in vs.reconciler.bridges.values():
        iface = st.ifaces.get(name)
        if iface is not None and isinstance(iface.netdev, DummyNetdev):
            return iface.netdev
    raise UnixctlError(f"no such dummy netdev '{name}'")


def dummy_receive(vs: Vswitchd, args: list[str]) -> str:
    nd = _dummy(vs, args[0])
    for hexdata in args[1:]:
        try:
            data = bytes.fromhex(hexdata)
        except ValueError:
            raise UnixctlError(f"{hexdata}: bad hex packet") from None
        nd.inject(data)
    return ""


def dummy_sent(vs: Vswitchd, args: list[str]) -> str:
    nd = _dummy(vs, args[0])
    out = "".join(data.hex() + "\n" for data in nd.sent)
    nd.sent.clear()
    return out


def register_commands(ctl: UnixctlServer, vs: Vswitchd) -> None:
    def bind(fn: Callable[[Vswitchd, list[str]], str]) -> Callable[[list[str]], str]:
        return lambda args: fn(vs, args)

    def cmd_exit(args: list[str]) -> str:
        vs.daemon.request_shutdown(0)
        return ""

    ctl.register("exit", "[--cleanup]", 0, 1, cmd_exit)
    ctl.register("fdb/show", "bridge", 1, 1, bind(fdb_show))
    ctl.register("fdb/flush", "[bridge]", 0, 1, bind(fdb_flush))
    ctl.register("dpctl/show", "[-s] [dp...]", 0, 3, bind(dpctl_show))
    ctl.register("dpctl/dump-flows", "[-m] [--names] [dp]", 0, 3, bind(dpctl_dump_flows))
    ctl.register("bridge/dump-flows", "bridge", 1, 1, bind(bridge_dump_flows))
    ctl.register("ofproto/trace", "{[dp_name] odp_flow | bridge br_flow}", 1, 2,
                 bind(ofproto_trace))
    ctl.register("netdev-dummy/receive", "name packet...", 2, 100, bind(dummy_receive))
    ctl.register("netdev-dummy/sent", "name", 1, 1, bind(dummy_sent))
