"""What every pyovs-ofctl command shares: the options and the connection.

``OfctlBase`` holds the parsed global options, the xid counter and the few
helpers the command groups use (open a session on a target, print a
message as ``ofp_print`` does, print flow mods as parse-flows does).  The
commands themselves live in groups, one module each, mixed into
``ofctl.Ofctl``: ``ofctl_flows`` (flow tables: parse, dump, add, modify,
delete, replace, diff, bundles) and ``ofctl_switch`` (everything else a
switch answers: features, ports, tables, groups, meters, packet-out,
monitor, offline printing).  Each group lists its commands in its own
``*_commands()`` method, so the groups can grow without touching each
other.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from pyovs.cli.ofctl_flow import (
    choose_protocol,
    protocol_name,
    protocol_version,
    protocols_to_string,
)
from pyovs.cli.ofctl_fte import SortCriterion
from pyovs.cli.ofctl_session import Session
from pyovs.cli.ofctl_target import open_target
from pyovs.openflow import codec
from pyovs.openflow.codec import Message
from pyovs.openflow.msg_flow import FlowMod
from pyovs.openflow.ofprint import ofp_to_string
from pyovs.openflow.protocols import ANY, OF10_NXM_ANY, OF10_STD_ANY, Protocol

__all__ = ["OfctlBase", "Options", "flow_mod_raw"]


@dataclass(slots=True)
class Options:
    """The global options that change what a command does."""

    versions: int = 1 << 1
    """Allowed OpenFlow versions, a bitmap indexed by wire version (OF1.0 = bit 1)."""
    raw: bool = False
    """``--raw``: ``ofp-print -`` reads binary, not hex, from stdin."""
    strict: bool = False
    names: bool | None = None
    stats: bool = True
    allowed: int = ANY
    """Flow protocols allowed by ``-F`` and ``-O`` together (``allowed_protocols``)."""
    verbosity: int = 0
    """``-m``/``--more``, once per level."""
    timeout: int = 0
    sort: list[SortCriterion] = field(default_factory=list)
    """``--sort``/``--rsort`` criteria in order (a final priority one added when any)."""
    bundle: bool = False
    """``--bundle``: flow table changes go in one atomic, ordered bundle."""
    readd: bool = False
    """``--readd``: replace-flows re-adds flows that did not change."""
    other: list[tuple[str, str]] = field(default_factory=list)
    """Accepted options without an effect yet (SSL, daemon, logging)."""



class OfctlBase:
    """One run of the tool: its options and the helpers the commands share."""

    def __init__(self, program: str, opts: Options) -> None:
        self.program = program
        self.opts = opts
        self.xid = 0
        """The last transaction id used (OVS ``alloc_xid`` starts at 1)."""

    def _print_flow_mods(self, fms: list[FlowMod], usable: int) -> None:
        """``ofctl_parse_flows__``: the protocol chosen, then each flow mod as sent."""
        sys.stdout.write(f"usable protocols: {protocols_to_string(usable)}\n")
        protocol = choose_protocol(usable, self.opts.allowed)
        sys.stdout.write(f"chosen protocol: {protocol_name(protocol)}\n")
        for fm in fms:
            self.xid += 1
            data = codec.encode(codec.make(fm, protocol_version(protocol), self.xid,
                                           flow_mod_raw(protocol)))
            sys.stdout.write(ofp_to_string(data, self.opts.verbosity))
        sys.stdout.flush()

    def _open(self, name: str, with_flow: bool = False) -> Session:
        # When a command has flow text, ovs-ofctl first reads the switch's
        # table and port names over two short connections (hello + table
        # stats, hello + features), which use xids 1-4.  pyovs does not need
        # them yet, but keeps the xids (they show in dump output) the same.
        return Session(open_target(name), self.opts.versions, name,
                       first_xid=5 if with_flow else 1)

    def _print(self, msg: Message, verbosity: int) -> None:
        sys.stdout.write(ofp_to_string(codec.encode(msg), verbosity))


def flow_mod_raw(protocol: Protocol) -> str:
    """The flow-mod message type a protocol uses (``ofputil_encode_flow_mod``)."""
    if protocol & OF10_STD_ANY:
        return "OFPT10_FLOW_MOD"
    if protocol & OF10_NXM_ANY:
        return "NXT_FLOW_MOD"
    return "OFPT11_FLOW_MOD"
