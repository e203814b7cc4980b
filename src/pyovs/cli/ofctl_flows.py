"""pyovs-ofctl's flow-table commands: ``parse-flow[s]``, ``dump-flows``,
``dump-aggregate``, ``add-flow[s]``, ``mod-flows``, ``del-flows``,
``replace-flows`` and ``diff-flows``, as ``utilities/ovs-ofctl.c`` has them.

Flow text becomes ``FlowMod``s in ``ofctl_flow`` (one flow, or a file with
``file:line`` errors); this module decides, as ovs-ofctl does, which
connections to open, in which order, and what to print:

* *names* -- ovs-ofctl accepts port and table names in flow text unless
  ``--no-names`` (so a command with flow text, and every flow-mod command,
  first fetches both maps over two short connections of their own), and
  prints names only with ``--names`` or when stdout is a terminal.  A
  switch given as a connection string is never asked (``NameMaps``);
* *protocols* -- a flow mod goes out in the current flow format when it can
  express the flows, else in the first one, by number, the switch accepts;
  dumps try ``FLOW_DUMP_PROTOCOLS`` in order (``ofctl_flowio``);
* *sending* -- each flow mod is followed by a barrier and the first switch
  error ends the run (printed on stderr); with ``--bundle`` all of them go in
  one atomic, ordered bundle (OpenFlow 1.3+) and each error is printed as
  "Error NAME for: <the message>";
* *printing* -- a plain ``dump-flows`` prints each reply as ``ofp_print``
  does; with ``--sort``/``--rsort``, names or ``--no-stats`` it collects the
  flows and prints one per line;
* ``replace-flows``/``diff-flows`` compare flow tables with ``ofctl_fte``.

The xids of every message the run sends come from one counter in
ovs-ofctl's order (hello, name fetches, requests, barriers), because they
are printed.
"""

from __future__ import annotations

import errno
import os
import sys
from dataclasses import replace

from pyovs.cli.cmdline import Command, Fatal
from pyovs.cli.ofctl_base import OfctlBase, flow_mod_raw
from pyovs.cli.ofctl_flow import (
    parse_flow_mod,
    preprocessed_lines,
    protocols_to_string,
    read_flow_mods,
)
from pyovs.cli.ofctl_flowio import Encoded, FlowVconn, NameMaps, XidCounter
from pyovs.cli.ofctl_fte import (
    FteTable,
    sort_flows,
    version_from_flow_mod,
    version_from_stats,
)
from pyovs.openflow import codec
from pyovs.openflow.codec import Message
from pyovs.openflow.msg_basic import ErrorMsg
from pyovs.openflow.msg_bundle import BundleFlags
from pyovs.openflow.msg_flow import Command as FlowCommand
from pyovs.openflow.msg_flow import FlowMod
from pyovs.openflow.msg_flowstats import (
    AggregateStatsRequest,
    FlowStatsRequest,
    format_flow_stats,
)
from pyovs.openflow.ofprint import ofp_to_string
from pyovs.openflow.protocols import ANY, OF13_UP, Protocol

__all__ = ["FlowCommands"]

OFPTT_ALL = 0xFF
_BUNDLE_FLAGS = BundleFlags.ORDERED | BundleFlags.ATOMIC
_EPROTO_TEXT = os.strerror(errno.EPROTO)  # "Protocol error", as OVS's ovs_fatal words it


class FlowCommands(OfctlBase):
    """The commands that read and change flow tables."""

    _xids: XidCounter | None = None
    _names: NameMaps | None = None

    # --- shared state: xids and names ------------------------------------------------

    def xid_counter(self) -> XidCounter:
        if self._xids is None:
            self._xids = XidCounter()
        return self._xids

    def _maps(self) -> NameMaps:
        if self._names is None:
            self._names = NameMaps(self.opts.versions, self.xid_counter())
        return self._names

    def _names_accepted(self) -> bool:
        return self.opts.names is not False

    def _show_names(self) -> bool:
        if self.opts.names is None:
            try:
                return os.isatty(sys.stdout.fileno())
            except (OSError, ValueError):  # not a file (a test's buffer)
                return False
        return self.opts.names

    def _ports_to_accept(self, switch: str) -> dict[str, int] | None:
        return self._maps().ports(switch).by_name if self._names_accepted() else None

    def _tables_to_accept(self, switch: str) -> dict[str, int] | None:
        return self._maps().tables(switch).by_name if self._names_accepted() else None

    def _ports_to_show(self, switch: str) -> dict[int, str] | None:
        return self._maps().ports(switch).by_number if self._show_names() else None

    def _tables_to_show(self, switch: str) -> dict[int, str] | None:
        return self._maps().tables(switch).by_number if self._show_names() else None

    def _flow_vconn(self, switch: str) -> FlowVconn:
        return FlowVconn(switch, self.opts.versions, self.xid_counter())

    # --- offline ---------------------------------------------------------------------

    def parse_flow(self, args: list[str]) -> None:
        """``parse-flow FLOW``: parse as add-flow would and print what would be sent."""
        fm, usable = parse_flow_mod(args[0])
        self._print_flow_mods([fm], usable)

    def parse_flows(self, args: list[str]) -> None:
        """``parse-flows FILE``: the same for each flow in FILE (``-`` for stdin)."""
        fms, usable = read_flow_mods(args[0], FlowCommand.ADD)
        self._print_flow_mods(fms, usable)

    # --- dumps -----------------------------------------------------------------------

    def _prepare_dump(self, args: list[str], aggregate: bool
                      ) -> tuple[FlowVconn, FlowStatsRequest, str | None]:
        """``prepare_dump_flows``: the filter, the connection and the flow format."""
        switch = args[0]
        text = args[1] if len(args) > 1 else ""
        port_map = self._ports_to_accept(switch) if text else None
        table_map = self._tables_to_accept(switch) if text else None
        fm, usable = parse_flow_mod(text, FlowCommand.DELETE, port_map, table_map)
        # A stats request needs no special table-id support.
        if usable & Protocol.OF10_STD_TID:
            usable |= Protocol.OF10_STD
        if usable & Protocol.OF10_NXM_TID:
            usable |= Protocol.OF10_NXM
        v = self._flow_vconn(switch)
        protocol = v.protocol_for_dump(usable, self.opts.allowed)
        cls = AggregateStatsRequest if aggregate else FlowStatsRequest
        request = cls(fm.match, fm.table_id, fm.out_port, fm.out_group, fm.cookie,
                      fm.cookie_mask)
        raw = None
        if protocol == Protocol.OF10_NXM:
            raw = "NXST_AGGREGATE_REQUEST" if aggregate else "NXST_FLOW_REQUEST"
        return v, request, raw

    def _dump_transaction(self, v: FlowVconn, request: FlowStatsRequest,
                          raw: str | None) -> None:
        """``dump_transaction``: print every reply."""
        try:
            for m in v.transact(request, raw):
                sys.stdout.write(self._to_string(v, m, self.opts.verbosity + 1))
        finally:
            v.close()

    def _to_string(self, v: FlowVconn, msg: Message, verbosity: int) -> str:
        """``ofp_to_string`` with the names of the connection (``unix:PATH``) when shown."""
        return ofp_to_string(codec.encode(msg), verbosity, self._ports_to_show(v.vconn_name),
                             self._tables_to_show(v.vconn_name))

    def dump_flows(self, args: list[str]) -> None:
        """``dump-flows SWITCH [FLOW]``."""
        sort = self.opts.sort
        if not sort and not self._show_names() and self.opts.stats:
            self._dump_transaction(*self._prepare_dump(args, False))
            return
        v, request, raw = self._prepare_dump(args, False)
        try:
            flows = v.dump_flows(request, raw)
        finally:
            v.close()
        if sort:
            flows = sort_flows(flows, sort)
        out = []
        for fs in flows:
            ports = self._ports_to_show(args[0])
            tables = self._tables_to_show(args[0])
            out.append(f" {format_flow_stats(fs, ports, tables, self.opts.stats)}\n")
        sys.stdout.write("".join(out))

    def dump_aggregate(self, args: list[str]) -> None:
        """``dump-aggregate SWITCH [FLOW]``."""
        self._dump_transaction(*self._prepare_dump(args, True))

    # --- flow mods -------------------------------------------------------------------

    def _send_flow_mods(self, switch: str, fms: list[FlowMod], usable: int) -> None:
        """``ofctl_flow_mod__``: each flow mod with a barrier, or one bundle."""
        if self.opts.bundle:
            usable &= OF13_UP
        allowed = self.opts.allowed
        if not usable & allowed:
            raise Fatal(f"none of the usable flow formats ({protocols_to_string(usable)}) "
                        "is among the allowed flow formats "
                        f"({protocols_to_string(allowed)})")
        v = self._flow_vconn(switch)
        try:
            protocol = v.protocol_for_flow_mod(usable, allowed)
            raw = flow_mod_raw(protocol)
            if self.opts.bundle:
                requests = [v.encode(_for_protocol(fm, protocol), raw) for fm in fms]
                self._bundle(v, requests)
                return
            hex_dumps = []
            for fm in fms:
                req = v.encode(_for_protocol(fm, protocol), raw)
                if self.opts.verbosity >= 5:
                    hex_dumps.append(_hex_text(req.data, self.opts.verbosity))
                self._flow_noreply(v, [req])
            sys.stdout.write("".join(hex_dumps))
        finally:
            v.close()

    def _flow_noreply(self, v: FlowVconn, requests: list[Encoded]) -> None:
        """``transact_multiple_noreply``: a switch error is printed and ends the run."""
        error = v.transact_multiple_noreply(requests)
        if error is not None:
            sys.stdout.flush()
            sys.stderr.write(self._to_string(v, error, self.opts.verbosity + 2))
            raise Fatal("", 1)

    def _bundle(self, v: FlowVconn, requests: list[Encoded]) -> None:
        """``bundle_transact``: errors as "Error NAME for: MESSAGE", then the failure."""
        ok, errors = v.bundle_transact(requests, _BUNDLE_FLAGS)
        start = 0
        out = []
        for err in errors:
            out.append(self._bundle_error(err, requests, start))
            for i in range(start, len(requests)):
                if requests[i].message.xid == err.xid:
                    start = i + 1
                    break
        sys.stderr.write("".join(out))
        if not ok:
            raise Fatal(f"talking to {v.vconn_name} ({_EPROTO_TEXT})")

    def _bundle_error(self, err: Message, requests: list[Encoded], start: int) -> str:
        body = err.body
        name = body.error(err.version) if isinstance(body, ErrorMsg) else None
        if not isinstance(body, ErrorMsg) or name is None:
            return "***decode error***"
        data = body.data
        for req in requests[start:]:
            if req.message.xid == err.xid:
                data = req.data
                break
        return f"Error {name.name} for: " + ofp_to_string(data, self.opts.verbosity + 1)

    def _flow_mod(self, args: list[str], command: int) -> None:
        """``ofctl_flow_mod``: one flow, or a file when the flow is ``-``."""
        switch = args[0]
        if len(args) > 1 and args[1] == "-":
            self._flow_mod_file(args, command)
            return
        table_map = self._tables_to_accept(switch)
        port_map = self._ports_to_accept(switch)
        fm, usable = parse_flow_mod(args[1] if len(args) > 1 else "", command, port_map,
                                    table_map)
        self._send_flow_mods(switch, [fm], usable)

    def _flow_mod_file(self, args: list[str], command: int) -> None:
        """``ofctl_flow_mod_file``: an add file may mix commands (line prefixes)."""
        table_map = self._tables_to_accept(args[0])
        port_map = self._ports_to_accept(args[0])
        fms, usable = read_flow_mods(args[1], None if command == FlowCommand.ADD else command,
                                     port_map, table_map)
        self._send_flow_mods(args[0], fms, usable)

    def add_flow(self, args: list[str]) -> None:
        self._flow_mod(args, FlowCommand.ADD)

    def add_flows(self, args: list[str]) -> None:
        self._flow_mod_file(args, FlowCommand.ADD)

    def mod_flows(self, args: list[str]) -> None:
        self._flow_mod(args, FlowCommand.MODIFY_STRICT if self.opts.strict
                       else FlowCommand.MODIFY)

    def del_flows(self, args: list[str]) -> None:
        self._flow_mod(args, FlowCommand.DELETE_STRICT if self.opts.strict
                       else FlowCommand.DELETE)

    # --- replace-flows / diff-flows ------------------------------------------------

    def _read_file(self, table: FteTable, name: str, index: int,
                   port_map: dict[str, int] | None, table_map: dict[str, int] | None
                   ) -> int:
        """``read_flows_from_file``: the flows of a file as version ``index``."""
        usable: int = ANY
        for number, line in preprocessed_lines(name, "open"):
            try:
                fm, got = parse_flow_mod(line, FlowCommand.ADD, port_map, table_map)
            except Fatal as e:
                raise Fatal(f"{name}:{number}: {e.message}") from None
            usable &= got
            table.insert(fm.match, fm.priority, version_from_flow_mod(fm), index)
        return usable

    @staticmethod
    def _read_switch(table: FteTable, v: FlowVconn, protocol: Protocol, index: int) -> None:
        """``read_flows_from_switch``: every flow of the switch as version ``index``."""
        raw = "NXST_FLOW_REQUEST" if protocol == Protocol.OF10_NXM else None
        for fs in v.dump_flows(FlowStatsRequest(), raw):
            table.insert(fs.match, fs.priority, version_from_stats(fs), index)

    def replace_flows(self, args: list[str]) -> None:
        """``replace-flows SWITCH FILE``: make the switch's flows the file's."""
        switch = args[0]
        port_map = self._ports_to_accept(switch)
        table_map = self._tables_to_accept(switch)
        table = FteTable()
        usable = self._read_file(table, args[1], 0, port_map, table_map)
        v = self._flow_vconn(switch)
        try:
            protocol = v.protocol_for_dump(usable, self.opts.allowed)
            self._read_switch(table, v, protocol, 1)
            raw = flow_mod_raw(protocol)
            requests = [v.encode(_for_protocol(fm, protocol), raw)
                        for fm in table.replace_mods(self.opts.readd)]
            if self.opts.bundle:
                self._bundle(v, requests)
            else:
                self._flow_noreply(v, requests)
        finally:
            v.close()

    def _read_source(self, table: FteTable, source: str, index: int,
                     shown: list[dict[int, str] | None]) -> None:
        """``read_flows_from_source``: a file (a path, or a name that exists) or a switch."""
        is_file = source.startswith(("/", "."))
        if not is_file and ":" not in source:
            try:
                os.stat(source)
                is_file = True
            except OSError:
                pass
        if is_file:
            accept = {name: n for n, name in shown[0].items()} if shown[0] else None
            self._read_file(table, source, index, accept, None)
            return
        v = self._flow_vconn(source)
        try:
            protocol = v.protocol_for_dump(ANY, self.opts.allowed)
            self._read_switch(table, v, protocol, index)
        finally:
            v.close()
        if not shown[0]:
            shown[0] = self._ports_to_show(source)

    def diff_flows(self, args: list[str]) -> None:
        """``diff-flows SOURCE1 SOURCE2``: "-"/"+" lines; exit status 2 if they differ."""
        table = FteTable()
        shown: list[dict[int, str] | None] = [None]
        self._read_source(table, args[0], 0, shown)
        self._read_source(table, args[1], 1, shown)
        text = table.diff(shown[0])
        sys.stdout.write(text)
        if text:
            raise Fatal("", 2)

    def flow_commands(self) -> list[Command]:
        return [
            Command("dump-flows", None, 1, 2, self.dump_flows),
            Command("dump-aggregate", None, 1, 2, self.dump_aggregate),
            Command("add-flow", None, 2, 2, self.add_flow),
            Command("add-flows", None, 2, 2, self.add_flows),
            Command("mod-flows", None, 2, 2, self.mod_flows),
            Command("del-flows", None, 1, 2, self.del_flows),
            Command("replace-flows", None, 2, 2, self.replace_flows),
            Command("diff-flows", None, 2, 2, self.diff_flows),
            Command("parse-flow", None, 1, 1, self.parse_flow),
            Command("parse-flows", None, 1, 1, self.parse_flows),
        ]


def _for_protocol(fm: FlowMod, protocol: Protocol) -> FlowMod:
    """OpenFlow 1.0 without the table-id extension cannot say which table."""
    if protocol in (Protocol.OF10_STD, Protocol.OF10_NXM) and fm.table_id != OFPTT_ALL:
        return replace(fm, table_id=OFPTT_ALL)
    return fm


def _hex_text(data: bytes, verbosity: int) -> str:
    """What ovs-ofctl prints of a flow mod at ``-mmmmm`` (hex dump) or more (hex)."""
    from pyovs.openflow.dstext import hex_dump
    if verbosity == 5:
        return hex_dump(data)
    # ds_put_hex: a number, "0x" then the bytes from the first non-zero one.
    digits = data.lstrip(b"\0")
    return (f"0x{digits[0]:x}{digits[1:].hex()}" if digits else "0") + "\n"

