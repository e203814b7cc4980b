"""pyovs-ofctl's switch and offline commands other than flow tables.

``SwitchCommands`` is the command group for everything a switch answers
besides its flow tables, as ``utilities/ovs-ofctl.c`` (OVS 3.1) does it:

* this module: ``show``, ``dump-desc``, ``dump-tables``, ``dump-table-desc``,
  ``dump-table-features``, ``dump-ports``, ``dump-ports-desc``, ``mod-port``,
  ``queue-stats``,
  ``queue-get-config``, ``get-frags``, ``set-frags``, ``dump-ipfix-bridge``,
  ``dump-ipfix-flow``, ``ct-flush-zone``, ``ct-flush``, ``probe``, ``ping``, ``benchmark``
  and the offline ``ofp-print``;
* ``ofctl_groups``: groups and meters;
* ``ofctl_monitor``: ``packet-out``, ``monitor``, ``snoop``, ``ofp-parse``;
* ``ofctl_pcap``: ``ofp-parse-pcap``;
* ``ofctl_tablemod``: ``mod-table``;
* ``ofctl_tlv``: ``add-tlv-map``, ``del-tlv-map``, ``dump-tlv-map``.

Each command opens its connections and sends its messages in ovs-ofctl's
order, so the xids drawn from the run's counter (``ofctl_swbase``) are the
ones ovs-ofctl would print; replies are printed with the library's
``ofp_to_string`` exactly as ``ofp_print``.  Commands a version cannot
express fail with ovs-ofctl's "needs OpenFlow 1.x or later" messages
(``_NEEDS``).
"""

from __future__ import annotations

import re
import secrets
import sys
import time
from typing import Final

from pyovs.cli.cmdline import Command, Fatal
from pyovs.cli.ofctl_groups import GroupCommands
from pyovs.cli.ofctl_monitor import MonitorCommands, parse_hex
from pyovs.cli.ofctl_pcap import PcapCommands
from pyovs.cli.ofctl_tablemod import TableModCommands
from pyovs.cli.ofctl_tlv import TlvCommands
from pyovs.cli.ofctl_usage import list_commands, usage
from pyovs.openflow import codec
from pyovs.openflow.act_wire import atoi, str_to_u16
from pyovs.openflow.codec import Body, Unparsed
from pyovs.openflow.ctext import str_to_uint
from pyovs.openflow.errors import ParseError
from pyovs.openflow.msg_basic import (
    OFPC_INVALID_TTL_TO_CONTROLLER,
    CtFlushZone,
    DescRequest,
    EchoReply,
    EchoRequest,
    ErrorMsg,
    FeaturesRequest,
    GetConfigRequest,
    SwitchConfig,
    TableDescRequest,
    TableFeaturesRequest,
    TableStatsRequest,
)
from pyovs.openflow.msg_ctflush import CtTuple, encode_ct_flush, parse_ct_tuple
from pyovs.openflow.msg_port import FeaturesReply, PortDescRequest, PortMod, PortStatsRequest
from pyovs.openflow.msg_queue import OFPQ_ALL, QueueGetConfigRequest, QueueStatsRequest
from pyovs.openflow.msg_tablefeatures import (
    DittoState,
    TableFeaturesReply,
    format_table_features,
)
from pyovs.openflow.ofprint import ofp_to_string
from pyovs.openflow.ports import OFPP_ANY, OFPP_MAX, OFPP_NONE

__all__ = ["SwitchCommands", "parse_hex"]

_NEEDS: Final = {
    "dump-table-features": (4, "1.3", "13"),
    "dump-table-desc": (5, "1.4", "14"),
}
"""Commands a version cannot express: (first version, "1.x", "1x")."""

# mod-port words: (name, OFPPC bit, the value "name" sets); "no-NAME" and
# "noNAME" set the opposite (ovs-ofctl's flags[] in ofctl_mod_port).
_PORT_FLAGS: Final = (
    ("up", 1 << 0, False), ("down", 1 << 0, True), ("stp", 1 << 1, False),
    ("receive", 1 << 2, False), ("receive-stp", 1 << 3, False),
    ("flood", 1 << 4, False), ("forward", 1 << 5, False), ("packet-in", 1 << 6, False),
)
_MAX_PAYLOAD: Final = 65535 - 8
_FRAG_NAMES: Final = {0: "normal", 1: "drop", 2: "reassemble", 3: "nx-match"}


def mod_port_config(word: str) -> tuple[int, int]:
    """A mod-port action word as (config, mask); ``Fatal`` for an unknown one."""
    lower = word.lower()
    command, negate = lower, False
    if lower.startswith("no-"):
        command, negate = lower[3:], True
    elif lower.startswith("no"):
        command, negate = lower[2:], True
    for name, bit, on in _PORT_FLAGS:
        if command == name:
            return (bit if on != negate else 0), bit
    raise Fatal(f"unknown mod-port command '{word}'")


class SwitchCommands(GroupCommands, MonitorCommands, PcapCommands, TableModCommands,
                     TlvCommands):
    """Commands about the switch as a whole, and the offline ones."""

    def _needs(self, command: str, version: int) -> None:
        first, dotted, plain = _NEEDS[command]
        if version < first:
            raise Fatal(f"{command} needs OpenFlow {dotted} or later "
                        f"('-O OpenFlow{plain}')")

    def ofp_print(self, args: list[str]) -> None:
        """``ofp-print HEX|- [VERBOSITY]``: print a message as OVS does."""
        verbosity = atoi(args[1]) if len(args) > 1 else 2
        if args[0] == "-":
            if self.opts.raw:
                data = sys.stdin.buffer.read()
                sys.stdout.write(ofp_to_string(data, verbosity))
                return
            text = sys.stdin.readline()
        else:
            text = args[0]
        data, rest = parse_hex(text)
        if rest:
            raise Fatal("trailing garbage following hex bytes")
        sys.stdout.write(ofp_to_string(data, verbosity))

    def _command_names(self) -> list[str]:
        # The whole tool's table: ``ofctl.Ofctl.commands`` joins the groups.
        return [c.name for c in self.commands()]  # type: ignore[attr-defined]

    def help(self, args: list[str]) -> None:
        """``help``: the usage text, as ``--help``."""
        sys.stdout.write(usage(self.program, self._command_names()))

    def list_commands(self, args: list[str]) -> None:
        """``list-commands``: every command with its usage, in ovs-ofctl's order."""
        sys.stdout.write(list_commands(self._command_names()))

    def show(self, args: list[str]) -> None:
        """``show SWITCH``: features, port descriptions (1.3+), then the switch config.

        As ovs-ofctl, the config is asked for over a second connection
        (``dump_trivial_transaction``), which is why its xid skips one.
        """
        v = self._vconn(args[0])
        try:
            replies = v.transact(FeaturesRequest())
            for m in replies:
                self._print_to("stdout", m, self.opts.verbosity + 1)
            if not any(isinstance(m.body, FeaturesReply) and m.body.ports for m in replies) \
                    and v.version >= 4:
                self._dump(v, PortDescRequest())
            self._trivial(args[0], GetConfigRequest())
        finally:
            v.close()

    def _trivial(self, name: str, body: Body, raw: str | None = None) -> None:
        """``dump_trivial_transaction``: one request on a new connection, replies printed."""
        v = self._vconn(name)
        try:
            self._dump(v, body, raw)
        finally:
            v.close()

    def dump_desc(self, args: list[str]) -> None:
        self._trivial(args[0], DescRequest())

    def dump_tables(self, args: list[str]) -> None:
        self._trivial(args[0], TableStatsRequest())

    def dump_table_features(self, args: list[str]) -> None:
        """``dump-table-features SWITCH``: every table's features, dittos across replies.

        As ovs-ofctl, the text is gathered over all reply parts (so a run of
        equal tables spans messages) and printed without a header line.
        """
        v = self._vconn(args[0])
        try:
            self._needs("dump-table-features", v.version)
            state = DittoState()
            text = ""
            for m in v.transact(TableFeaturesRequest(b"")):
                if isinstance(m.body, TableFeaturesReply):
                    text += "".join(format_table_features(t, state, v.version)
                                    for t in m.body.tables)
                elif isinstance(m.body, ErrorMsg):
                    self._print_to("stdout", m, self.opts.verbosity + 1)
                else:
                    raise Fatal("received bad reply: " + ofp_to_string(
                        codec.encode(m), self.opts.verbosity + 1))
            text += state.finish()
            sys.stdout.write(text.removeprefix("\n") + "\n")
        finally:
            v.close()

    def dump_table_desc(self, args: list[str]) -> None:
        v = self._vconn(args[0])
        try:
            self._needs("dump-table-desc", v.version)
            self._dump(v, TableDescRequest())
        finally:
            v.close()

    def dump_ports(self, args: list[str]) -> None:
        """``dump-ports SWITCH [PORT]``: port statistics."""
        v = self._vconn(args[0])
        try:
            port = self._port_no(args[0], args[1]) if len(args) > 1 else OFPP_ANY
            self._dump(v, PortStatsRequest(port))
        finally:
            v.close()

    def dump_ports_desc(self, args: list[str]) -> None:
        """``dump-ports-desc SWITCH [PORT]`` (the port selects only in OpenFlow 1.5)."""
        v = self._vconn(args[0])
        try:
            port = self._port_no(args[0], args[1]) if len(args) > 1 else OFPP_ANY
            self._dump(v, PortDescRequest(port if v.version >= 6 else OFPP_ANY))
        finally:
            v.close()

    def mod_port(self, args: list[str]) -> None:
        """``mod-port SWITCH PORT ACTION``: change one configuration bit of a port."""
        name, port_name, word = args
        number = str_to_uint(port_name, 10)
        wanted = number & 0xFFFF if number is not None else OFPP_NONE
        found = None
        for p in self._fetch_ports(name):
            if (p.port_no == wanted) if wanted != OFPP_NONE else p.name == port_name:
                found = p
                break
        if found is None:
            raise Fatal(f"{name}: couldn't find port `{port_name}'")
        config, mask = mod_port_config(word)
        v = self._vconn(name)
        try:
            self._noreply(v, PortMod(found.port_no, found.hw_addr, config, mask, 0))
        finally:
            v.close()

    def queue_stats(self, args: list[str]) -> None:
        """``queue-stats SWITCH [PORT [QUEUE]]``."""
        v = self._vconn(args[0])
        try:
            port = OFPP_ANY
            if len(args) > 1 and args[1] and args[1].lower() != "all":
                port = self._port_no(args[0], args[1])
            queue = OFPQ_ALL
            if len(args) > 2 and args[2] and args[2].lower() != "all":
                queue = atoi(args[2]) & 0xFFFFFFFF
            self._dump(v, QueueStatsRequest(port, queue))
        finally:
            v.close()

    def queue_get_config(self, args: list[str]) -> None:
        """``queue-get-config SWITCH [PORT [QUEUE]]``."""
        name = args[0]
        port = self._port_no(name, args[1] if len(args) > 1 else "any")
        queue_name = args[2] if len(args) > 2 else "all"
        queue = OFPQ_ALL if queue_name.lower() == "all" else atoi(queue_name) & 0xFFFFFFFF
        v = self._vconn(name)
        try:
            if port != OFPP_ANY or v.version != 1:
                self._dump(v, QueueGetConfigRequest(port, queue))
                return
            # OpenFlow 1.0 asks one port at a time: ovs-ofctl lists the ports
            # on the first connection and asks on a second one.
            v2 = self._vconn(name)
            try:
                for p in self._ports_on(v):
                    if p.port_no < OFPP_MAX:
                        self._dump(v2, QueueGetConfigRequest(p.port_no, queue))
            finally:
                v2.close()
        finally:
            v.close()

    def dump_ipfix_bridge(self, args: list[str]) -> None:
        self._trivial(args[0], Unparsed(b""), "NXST_IPFIX_BRIDGE_REQUEST")

    def dump_ipfix_flow(self, args: list[str]) -> None:
        self._trivial(args[0], Unparsed(b""), "NXST_IPFIX_FLOW_REQUEST")

    def ct_flush_zone(self, args: list[str]) -> None:
        """``ct-flush-zone SWITCH ZONE``: flush one conntrack zone."""
        try:
            zone = str_to_u16(args[1], "zone_id")
        except ParseError as e:
            raise Fatal(str(e)) from None
        v = self._vconn(args[0])
        try:
            self._noreply(v, CtFlushZone(zone))
        finally:
            v.close()

    def ct_flush(self, args: list[str]) -> None:
        """``ct-flush SWITCH [zone=N] [CT_ORIG_TUPLE [CT_REPLY_TUPLE]]``."""
        rest = args[1:]
        zone: int | None = None
        if rest and rest[0].startswith("zone="):
            m = re.match(r"zone=\s*\+?(\d+)", rest[0])
            if m is None:
                raise Fatal("Failed to parse zone")
            zone = int(m.group(1)) & 0xFFFF
            rest = rest[1:]
        tuples = [CtTuple(), CtTuple()]
        ip_proto = l3 = 0
        for i, text in enumerate(rest[:2]):
            if text:
                try:
                    tuples[i], ip_proto, l3 = parse_ct_tuple(text, ip_proto, l3)
                except ParseError as e:
                    raise Fatal(f"Failed to parse ct-tuple: {e}") from None
        v = self._vconn(args[0])
        try:
            body = encode_ct_flush(ip_proto, tuples[0], tuples[1], zone)
            self._noreply(v, Unparsed(body), "NXT_CT_FLUSH")
        finally:
            v.close()

    def get_frags(self, args: list[str]) -> None:
        """``get-frags SWITCH``: the switch's fragment handling mode."""
        v = self._vconn(args[0])
        try:
            sys.stdout.write(f"{_FRAG_NAMES[self._config(v).flags & 3]}\n")
        finally:
            v.close()

    def set_frags(self, args: list[str]) -> None:
        """``set-frags SWITCH MODE``: set, then read back, the fragment handling mode."""
        modes = {name: mode for mode, name in _FRAG_NAMES.items()}
        if args[1] not in modes:
            raise Fatal(f"{args[1]}: unknown fragment handling mode")
        frag = modes[args[1]]
        v = self._vconn(args[0])
        try:
            config = self._config(v)
            if config.flags & 3 != frag:
                keep = config.flags & OFPC_INVALID_TTL_TO_CONTROLLER if v.version < 4 else 0
                self._noreply(v, SwitchConfig(keep | frag, config.miss_send_len),
                              "OFPT_SET_CONFIG")
                if self._config(v).flags & 3 != frag:
                    raise Fatal(f"{args[0]}: setting fragment handling mode failed (this "
                                f'switch probably doesn\'t support mode "{args[1]}")')
        finally:
            v.close()

    def probe(self, args: list[str]) -> None:
        """``probe TARGET``: one echo request, silently answered."""
        v = self._vconn(args[0])
        try:
            replies = v.transact(EchoRequest(b""))
            if not isinstance(replies[-1].body, EchoReply) or replies[-1].body.data:
                raise Fatal("reply does not match request")
        finally:
            v.close()

    def ping(self, args: list[str]) -> None:
        """``ping TARGET [N]``: ten echo round trips with an N-byte payload."""
        payload = atoi(args[1]) if len(args) > 1 else 64
        if not 0 <= payload <= _MAX_PAYLOAD:
            raise Fatal(f"payload must be between 0 and {_MAX_PAYLOAD} bytes")
        v = self._vconn(args[0])
        try:
            for _ in range(10):
                data = secrets.token_bytes(payload)
                start = time.monotonic()
                reply = v.transact(EchoRequest(data))[-1]
                elapsed = (time.monotonic() - start) * 1000
                if not isinstance(reply.body, EchoReply) or reply.body.data != data:
                    sys.stdout.write("Reply does not match request.\n")
                size = len(reply.body.data) if isinstance(reply.body, EchoReply) else 0
                # ovs-ofctl counts the reply's body, its header already pulled.
                sys.stdout.write(f"{size} bytes from {args[0]}: xid={reply.xid:08x} "
                                 f"time={elapsed:.1f} ms\n")
                sys.stdout.flush()
        finally:
            v.close()

    def benchmark(self, args: list[str]) -> None:
        """``benchmark TARGET N COUNT``: COUNT echo round trips of N-byte payloads."""
        payload = atoi(args[1])
        if not 0 <= payload <= _MAX_PAYLOAD:
            raise Fatal(f"payload must be between 0 and {_MAX_PAYLOAD} bytes")
        size, count = 8 + payload, atoi(args[2])
        sys.stdout.write(f"Sending {count} packets * {size} bytes (with header) = "
                         f"{count * size} bytes total\n")
        sys.stdout.flush()
        v = self._vconn(args[0])
        start = time.monotonic()
        try:
            for _ in range(count):
                v.transact(EchoRequest(bytes(payload)))
        finally:
            v.close()
        ms = max((time.monotonic() - start) * 1000, 1e-3)
        sys.stdout.write(f"Finished in {ms:.1f} ms ({count / (ms / 1000):.0f} packets/s) "
                         f"({count * size / (ms / 1000):.0f} bytes/s)\n")

    def switch_commands(self) -> list[Command]:
        return [
            Command("show", None, 1, 1, self.show),
            Command("dump-desc", None, 1, 1, self.dump_desc),
            Command("dump-tables", None, 1, 1, self.dump_tables),
            Command("dump-table-features", None, 1, 1, self.dump_table_features),
            Command("dump-table-desc", None, 1, 1, self.dump_table_desc),
            Command("queue-stats", None, 1, 3, self.queue_stats),
            Command("queue-get-config", None, 1, 3, self.queue_get_config),
            Command("dump-ports", None, 1, 2, self.dump_ports),
            Command("dump-ports-desc", None, 1, 2, self.dump_ports_desc),
            Command("mod-port", None, 3, 3, self.mod_port),
            Command("get-frags", None, 1, 1, self.get_frags),
            Command("set-frags", None, 2, 2, self.set_frags),
            Command("dump-ipfix-bridge", None, 1, 1, self.dump_ipfix_bridge),
            Command("dump-ipfix-flow", None, 1, 1, self.dump_ipfix_flow),
            Command("ct-flush-zone", None, 2, 2, self.ct_flush_zone),
            Command("ct-flush", None, 1, 4, self.ct_flush),
            Command("probe", None, 1, 1, self.probe),
            Command("ping", None, 1, 2, self.ping),
            Command("benchmark", None, 3, 3, self.benchmark),
            Command("ofp-print", None, 1, 2, self.ofp_print),
            Command("help", None, 0, 0x7FFFFFFF, self.help),
            Command("list-commands", None, 0, 0x7FFFFFFF, self.list_commands),
            *self.group_commands(),
            *self.monitor_commands(),
            *self.pcap_commands(),
            *self.table_mod_commands(),
            *self.tlv_commands(),
        ]
