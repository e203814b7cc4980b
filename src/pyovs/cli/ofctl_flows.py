"""pyovs-ofctl's flow table commands (``ovs-ofctl`` ``parse-flow[s]``,
``dump-flows``, ``add-flow``, ``del-flows``).

Flow text is parsed by ``ofctl_flow.parse_flow_mod`` into a ``FlowMod``;
the protocol is chosen from what the flow needs and what ``-O``/``-F``
allow, as ovs-ofctl does, and the flow mod is sent with a barrier so that a
switch error is reported before the tool exits.  Dumps print each reply as
``ofp_print`` would, or with ``--no-stats`` one flow per line.
"""

from __future__ import annotations

import os
import sys

from pyovs.cli.cmdline import Command, Fatal
from pyovs.cli.ofctl_base import OfctlBase, flow_mod_raw
from pyovs.cli.ofctl_flow import choose_protocol, parse_flow_mod
from pyovs.openflow import codec
from pyovs.openflow.msg_basic import ErrorMsg
from pyovs.openflow.msg_flow import Command as FlowCommand
from pyovs.openflow.msg_flow import FlowMod
from pyovs.openflow.msg_flowstats import FlowStatsReply, FlowStatsRequest, format_flow_stats
from pyovs.openflow.ofprint import ofp_to_string
from pyovs.openflow.protocols import ANY, Protocol

__all__ = ["FlowCommands"]


class FlowCommands(OfctlBase):
    """The commands that read and change flow tables."""

    def parse_flow(self, args: list[str]) -> None:
        """``parse-flow FLOW``: parse as add-flow would and print what would be sent."""
        fm, usable = parse_flow_mod(args[0])
        self._print_flow_mods([fm], usable)

    def parse_flows(self, args: list[str]) -> None:
        """``parse-flows FILE``: the same for each flow in FILE (``-`` for stdin)."""
        name = args[0]
        try:
            if name == "-":
                lines = sys.stdin.read().splitlines()
            else:
                with open(name, encoding="utf-8", errors="surrogateescape") as f:
                    lines = f.read().splitlines()
        except OSError as e:
            raise Fatal(f"{name}: open failed ({os.strerror(e.errno or 0)})") from None
        fms: list[FlowMod] = []
        usable: int = ANY
        for number, line in enumerate(lines, 1):
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            try:
                fm, got = parse_flow_mod(text)
            except Fatal as e:
                raise Fatal(f"{name}:{number}: {e.message}") from None
            fms.append(fm)
            usable &= got
        self._print_flow_mods(fms, usable)

    def dump_flows(self, args: list[str]) -> None:
        """``dump-flows SWITCH [FLOW]``: the flow table, as replies or flow lines."""
        fm, usable = parse_flow_mod(args[1] if len(args) > 1 else "", FlowCommand.DELETE)
        s = self._open(args[0], len(args) > 1)
        try:
            protocol = s.set_protocol_for_dump(usable, self.opts.allowed)
            request = FlowStatsRequest(fm.match, fm.table_id, fm.out_port, fm.out_group,
                                       fm.cookie, fm.cookie_mask)
            raw = "NXST_FLOW_REQUEST" if protocol == Protocol.OF10_NXM else None
            replies = s.transact(request, raw)
            if self.opts.stats:
                for m in replies:
                    self._print(m, self.opts.verbosity + 1)
                return
            for m in replies:
                if isinstance(m.body, FlowStatsReply):
                    for fs in m.body.flows:
                        sys.stdout.write(f" {format_flow_stats(fs, show_stats=False)}\n")
                elif isinstance(m.body, ErrorMsg):
                    self._print(m, self.opts.verbosity + 1)
        finally:
            s.close()

    def _flow_mod(self, args: list[str], command: FlowCommand) -> None:
        """``add-flow``/``del-flows``: one flow mod in the best allowed protocol."""
        text = args[1] if len(args) > 1 else ""
        if command == FlowCommand.DELETE and self.opts.strict:
            command = FlowCommand.DELETE_STRICT
        fm, usable = parse_flow_mod(text, command)
        s = self._open(args[0], len(args) > 1)
        try:
            protocol = choose_protocol(usable, self.opts.allowed)
            if not s.set_protocol(protocol):
                raise Fatal("switch does not support the chosen flow format")
            raw = flow_mod_raw(protocol)
            for err in s.send_with_barrier(fm, raw):
                sys.stderr.write(ofp_to_string(codec.encode(err), self.opts.verbosity + 1))
                raise Fatal("")
        finally:
            s.close()

    def add_flow(self, args: list[str]) -> None:
        self._flow_mod(args, FlowCommand.ADD)

    def del_flows(self, args: list[str]) -> None:
        self._flow_mod(args, FlowCommand.DELETE)

    def flow_commands(self) -> list[Command]:
        return [
            Command("dump-flows", None, 1, 2, self.dump_flows),
            Command("add-flow", None, 2, 2, self.add_flow),
            Command("del-flows", None, 1, 2, self.del_flows),
            Command("parse-flow", None, 1, 1, self.parse_flow),
            Command("parse-flows", None, 1, 1, self.parse_flows),
        ]
