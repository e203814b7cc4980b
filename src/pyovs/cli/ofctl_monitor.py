"""pyovs-ofctl's packet commands: ``packet-out``, ``monitor``, ``snoop``, ``ofp-parse``.

``packet-out`` has ovs-ofctl's two syntaxes: ``packet-out SWITCH "in_port=P
packet=HEX actions=A"`` (``parse_packet_out``, OVS
``parse_ofp_packet_out_str``: pipeline fields such as registers and tunnel
metadata may be set too) and the old positional ``packet-out SWITCH
IN_PORT ACTIONS PACKET...`` (one packet-out per packet).  Both are sent in
a protocol the actions allow, each followed by a barrier.

``monitor`` (OVS ``ofctl_monitor``/``monitor_vconn``) sets up the
connection as asked -- a miss length through get/set config,
``invalid_ttl`` (OpenFlow 1.0-1.2 only), the packet-in format (``-P``, else
NXT_PACKET_IN2 when the switch takes it, else NXT_PACKET_IN in 1.0) -- and
then prints every message the switch sends on stderr at verbosity + 2,
each prefixed by a UTC time with ``--timestamp``, answering echo requests.
``snoop`` connects to ``<bridge>.snoop`` and prints the controller
connection's traffic the same way, without answering.  The unixctl server
ovs-ofctl's monitor runs (``ofctl/send``, ``ofctl/barrier``...) is not
provided.

``ofp-parse FILE`` prints each OpenFlow message of a binary capture.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Final

from pyovs.cli.cmdline import Command, Fatal
from pyovs.cli.ofctl_flow import protocols_to_string
from pyovs.cli.ofctl_flowio import FlowVconn, XidCounter
from pyovs.cli.ofctl_session import Session
from pyovs.cli.ofctl_swbase import VLOG, SwitchBase, port_from_string
from pyovs.cli.ofctl_target import open_target
from pyovs.openflow import codec
from pyovs.openflow.act_text import parse_actions
from pyovs.openflow.act_wire import atoi
from pyovs.openflow.actions import ParseCtx
from pyovs.openflow.codec import Message
from pyovs.openflow.connection import Closed, Received, Rejected, Reply
from pyovs.openflow.ctext import parse_key_value
from pyovs.openflow.errors import ParseError
from pyovs.openflow.fields import FIELD_BY_NAME, PIPELINE_FIELDS
from pyovs.openflow.match import MatchBuilder
from pyovs.openflow.match_text import set_parsed_field
from pyovs.openflow.msg_basic import (
    OFPC_INVALID_TTL_TO_CONTROLLER,
    EchoReply,
    EchoRequest,
    GetConfigRequest,
    SetPacketInFormat,
    SwitchConfig,
)
from pyovs.openflow.msg_monitor import FlowMonitorRequests, parse_flow_monitor_request
from pyovs.openflow.msg_packet import PacketOut
from pyovs.openflow.ofprint import ofp_to_string
from pyovs.openflow.ports import (
    OFPP_CONTROLLER,
    OFPP_LOCAL,
    OFPP_MAX,
    OFPP_NONE,
)
from pyovs.openflow.protocols import ANY
from pyovs.openflow.values import parse_value

__all__ = ["MonitorCommands", "packet_in_format", "parse_hex", "parse_packet_out"]

PACKET_IN_FORMATS: Final = {"standard": 0, "openflow10": 0, "nxt_packet_in": 1, "nxm": 1,
                            "nxt_packet_in2": 2}
"""``-P`` names (OVS ``ofputil_packet_in_format_from_string``)."""
_INVALID_TTL_VERSIONS: Final = (1 << 1) | (1 << 2) | (1 << 3)


def packet_in_format(name: str) -> int:
    fmt = PACKET_IN_FORMATS.get(name)
    if fmt is None:
        raise Fatal(f"unknown packet-in format `{name}'")
    return fmt


def parse_hex(s: str) -> tuple[bytes, str]:
    """``ofpbuf_put_hex``: hex byte pairs, separated by any of `` .\\t\\r\\n``.

    Returns the bytes and the text left over where a pair could not be read.
    """
    out = bytearray()
    i, n = 0, len(s)
    while True:
        while i < n and s[i] in " .\t\r\n":
            i += 1
        pair = s[i:i + 2]
        if len(pair) < 2 or any(c not in "0123456789abcdefABCDEF" for c in pair):
            return bytes(out), s[i:]
        out.append(int(pair, 16))
        i += 2


def eth_from_hex(text: str) -> bytes:
    """OVS ``eth_from_hex``: a frame from hex, at least an Ethernet header long."""
    data, rest = parse_hex(text)
    if rest:
        raise ParseError("Trailing garbage in packet data")
    if len(data) < 14:
        raise ParseError("Packet data too short for Ethernet")
    return data


def _extract_actions(text: str) -> tuple[str, str | None]:
    """OVS ``ofp_extract_actions``: the text before ``action``, and after its ``=``."""
    at = text.find("action")
    if at < 0:
        return text, None
    eq = text.find("=", at + 1)
    return text[:at], (text[eq + 1:] if eq >= 0 else None)


def parse_packet_out(text: str, port_map: dict[str, int] | None = None,
                     table_map: dict[str, int] | None = None) -> tuple[PacketOut, int]:
    """``parse_ofp_packet_out_str``: a packet-out and its usable protocols."""
    head, act_text = _extract_actions(text)
    # As OVS, packet_type is Ethernet without being matched on, so that no
    # packet_type OXM goes into an OpenFlow 1.5 packet-out.
    b = MatchBuilder()
    b.put("in_port", OFPP_CONTROLLER, 0xFFFF)
    usable = ANY
    packet = b""
    pos = 0
    while (item := parse_key_value(head, pos)) is not None:
        name, value, pos = item
        if not value:
            raise ParseError(f"field {name} missing value")
        if name == "in_port":
            port = port_from_string(value, port_map)
            if port is None:
                raise ParseError(f"{value} is not a valid OpenFlow port")
            if port > OFPP_MAX and port not in (OFPP_LOCAL, OFPP_NONE, OFPP_CONTROLLER):
                raise ParseError(f"{value} is not a valid OpenFlow port for PACKET_OUT")
            b.put("in_port", port, 0xFFFF)
        elif name == "packet":
            try:
                packet = eth_from_hex(value)
            except ParseError as e:
                raise ParseError(f"{name}: {e}") from None
        else:
            f = FIELD_BY_NAME.get(name)
            if f is None:
                raise ParseError(f"unknown keyword {name}")
            value_, mask = parse_value(f, value, port_map)
            usable &= set_parsed_field(b, f, value_, mask)
            if f.name not in PIPELINE_FIELDS:
                raise ParseError(f"{name} is not a valid pipeline field for PACKET_OUT")
    if not packet:
        raise ParseError("must specify packet")
    actions: tuple[object, ...] = ()
    if act_text is not None:
        ctx = ParseCtx(port_map=port_map, table_map=table_map)
        actions = parse_actions(act_text, ctx, allow_instructions=False)
        usable &= ctx.usable
    return PacketOut(actions, packet, metadata=b.freeze()), usable  # type: ignore[arg-type]


def _fatal_signal(signum: int, _frame: object) -> None:
    """OVS ``fatal_signal``: log the signal as vlog's first message, then die of it."""
    VLOG.warn("fatal_signal", f"terminating with signal {signum} ({signal.strsignal(signum)})")
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


class MonitorVconn(FlowVconn):
    """A connection that also hands over whatever the switch sends (``vconn_recv``).

    ``path``, for ``snoop``, is the socket to open instead of resolving
    ``name``; while the hello exchange is under way, failures are worded as
    ovs-ofctl's ``open_vconn__`` words them.
    """

    def __init__(self, name: str, versions: int, xids: XidCounter,
                 path: str | None = None) -> None:
        self._path = path
        if path is None:
            super().__init__(name, versions, xids)
        else:
            self.xids = xids
            Session.__init__(self, open_target(f"unix:{path}"), versions, name,
                             first_xid=xids.next())
            self.vconn_name = f"unix:{path}"
        self.conn.auto_echo = False
        self._queue: list[tuple[bytes, Message | None]] = []

    def _flush(self) -> None:
        if self.version or self._path is None:
            super()._flush()
            return
        try:
            Session._flush(self)
        except OSError as e:
            raise Fatal(f"{self._path}: failed to open socket ({os.strerror(e.errno or 0)})"
                        ) from None

    def _receive(self) -> list[object]:
        if self.version or self._path is None:
            return super()._receive()
        try:
            return Session._receive(self)
        except OSError as e:
            raise Fatal(f"{self.name}: failed to connect to socket "
                        f"({os.strerror(e.errno or 0)})") from None

    def send_message(self, msg: Message) -> None:
        """Send an already built message (an echo reply) as it is."""
        self.conn.send_message(msg)
        self._flush()

    def recv(self) -> tuple[bytes, Message | None] | None:
        """The next message from the switch, as bytes and (if it decodes) a ``Message``.

        Messages in another version, which a snoop connection carries (the
        controller's), come as bytes only, as ovs-ofctl's "receive any
        version" vconn takes them; None when the switch hangs up.
        """
        while not self._queue:
            try:
                events = self._receive()
            except Fatal:
                return None
            for event in events:
                if isinstance(event, (Received, Reply)):
                    self._queue.append((codec.encode(event.message), event.message))
                elif isinstance(event, Rejected):
                    self._queue.append((event.data, None))
                elif isinstance(event, Closed):
                    return None
        return self._queue.pop(0)


class MonitorCommands(SwitchBase):
    """Packets and asynchronous messages."""

    _monitor_ids = 0
    """OVS numbers ``watch:`` monitors from 0 in the order they are parsed."""

    def packet_out(self, args: list[str]) -> None:
        """``packet-out SWITCH TEXT`` or ``packet-out SWITCH IN_PORT ACTIONS PACKET...``."""
        name = args[0]
        if len(args) > 3:
            port_map, table_map = self._accept_names(name, ports_first=True)
            ctx = ParseCtx(port_map=port_map, table_map=table_map)
            try:
                actions = parse_actions(args[2], ctx, allow_instructions=False)
            except ParseError as e:
                raise Fatal(str(e)) from None
            b = MatchBuilder()
            b.put("in_port", self._port_no(name, args[1]), 0xFFFF)
            metadata = b.freeze()
            v, _ = self._open_for_mod(name, ctx.usable)
            try:
                for hex_text in args[3:]:
                    try:
                        packet = eth_from_hex(hex_text)
                    except ParseError as e:
                        raise Fatal(str(e)) from None
                    self._noreply(v, PacketOut(actions, packet, metadata=metadata))
            finally:
                v.close()
        elif len(args) == 2:
            port_map, table_map = self._accept_names(name)
            try:
                po, usable = parse_packet_out(args[1], port_map, table_map)
            except ParseError as e:
                raise Fatal(str(e)) from None
            v, _ = self._open_for_mod(name, usable)
            try:
                self._noreply(v, po)
            finally:
                v.close()
        else:
            raise Fatal(f"Too many arguments ({len(args) + 1})")

    # --- monitor and snoop ------------------------------------------------------

    def _option(self, name: str) -> str | None:
        found = None
        for option, arg in self.opts.other:
            if option == name:
                found = arg
        return found

    def _config(self, v: FlowVconn) -> SwitchConfig:
        """``fetch_switch_config``."""
        reply = v.transact(GetConfigRequest())[-1]
        if not isinstance(reply.body, SwitchConfig):
            raise Fatal(f"{v.name}: bad reply to config request")
        return reply.body

    def _set_config(self, v: FlowVconn, config: SwitchConfig) -> None:
        self._noreply(v, config, "OFPT_SET_CONFIG")

    def monitor(self, args: list[str]) -> None:
        """``monitor SWITCH [MISS-LEN] [invalid_ttl] [watch:...]``."""
        if "invalid_ttl" in args[1:]:
            if not self.opts.versions & _INVALID_TTL_VERSIONS:
                raise Fatal("invalid_ttl requires one of the OpenFlow versions "
                            "OpenFlow10, OpenFlow11, OpenFlow12 but none is enabled (use -O)")
            self.opts.versions &= _INVALID_TTL_VERSIONS
        pin_format = self._option("--packet-in-format")
        preferred = packet_in_format(pin_format) if pin_format is not None else None
        v = MonitorVconn(args[0], self.opts.versions, self.xids)
        for arg in args[1:]:
            if arg[:1].isdigit():
                config = self._config(v)
                self._set_config(v, SwitchConfig(config.flags, atoi(arg) & 0xFFFF))
            elif arg == "invalid_ttl":
                config = self._config(v)
                if not config.flags & OFPC_INVALID_TTL_TO_CONTROLLER:
                    self._set_config(v, SwitchConfig(
                        config.flags | OFPC_INVALID_TTL_TO_CONTROLLER, config.miss_send_len))
                    if not self._config(v).flags & OFPC_INVALID_TTL_TO_CONTROLLER:
                        raise Fatal("setting invalid_ttl_to_controller failed (this switch "
                                    "probably doesn't support this flag)")
            elif arg.startswith("watch:"):
                self._watch(v, args[0], arg[6:])
            else:
                raise Fatal(f'{arg}: unsupported "monitor" argument')
        if preferred is not None:
            self._noreply(v, SetPacketInFormat(preferred))
        elif (v.transact_multiple_noreply([v.encode(SetPacketInFormat(2))]) is not None
              and v.version == 1):
            v.transact_multiple_noreply([v.encode(SetPacketInFormat(1))])
        self._monitor_loop(v, reply_to_echo=True)

    def _watch(self, v: MonitorVconn, name: str, text: str) -> None:
        """A ``watch:`` argument: a flow monitor request, its reply printed."""
        port_map, table_map = self._accept_names(name)
        try:
            fmr, usable = parse_flow_monitor_request(text, self._monitor_ids, port_map,
                                                     table_map)
        except ParseError as e:
            raise Fatal(str(e)) from None
        self._monitor_ids += 1
        if not usable & self.opts.allowed:
            raise Fatal(f"none of the usable flow formats ({protocols_to_string(usable)}) "
                        "is among the allowed flow formats "
                        f"({protocols_to_string(self.opts.allowed)})")
        request = FlowMonitorRequests((fmr,))
        if self.opts.verbosity:
            sys.stdout.write(ofp_to_string(codec.encode(codec.make(request, v.version)),
                                           self.opts.verbosity + 2))
        self._dump(v, request)

    def snoop(self, args: list[str]) -> None:
        """``snoop SWITCH``: the traffic of the switch's controller connections."""
        name = args[0]
        if ":" in name:
            v = MonitorVconn(name, self.opts.versions, self.xids)
        else:
            rundir = os.environ.get("OVS_RUNDIR", "/var/run/openvswitch")
            for path in (name, f"{rundir}/{name}.snoop"):
                if os.path.exists(path):
                    break
            else:
                raise Fatal(f"{name} is not a bridge or a socket")
            v = MonitorVconn(name, self.opts.versions, self.xids, path)
        self._monitor_loop(v, reply_to_echo=False)

    def _monitor_loop(self, v: MonitorVconn, reply_to_echo: bool) -> None:
        stamp = self._option("--timestamp") is not None
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, _fatal_signal)
        try:
            while (got := v.recv()) is not None:
                data, msg = got
                text = ofp_to_string(data, self.opts.verbosity + 2)
                if stamp:
                    now = time.time()
                    text = (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now))
                            + f".{int(now * 1000) % 1000:03d}: " + text)
                sys.stderr.write(text)
                sys.stderr.flush()
                if reply_to_echo and msg is not None and isinstance(msg.body, EchoRequest):
                    v.send_message(Message(msg.version, msg.xid, "OFPT_ECHO_REPLY",
                                           EchoReply(msg.body.data)))
        finally:
            v.close()
        raise Fatal("vconn_recv: End of file")

    # --- offline ---------------------------------------------------------------------

    def ofp_parse(self, args: list[str]) -> None:
        """``ofp-parse FILE``: print each message of a binary OpenFlow capture."""
        name = args[0]
        try:
            if name == "-":
                data = sys.stdin.buffer.read()
            else:
                with open(name, "rb") as f:
                    data = f.read()
        except OSError as e:
            raise Fatal(f"{name}: open ({os.strerror(e.errno or 0)})") from None
        pos = 0
        while pos < len(data):
            if len(data) - pos < 8:
                raise Fatal(f"{name}: unexpected end of file mid-message")
            length = int.from_bytes(data[pos + 2:pos + 4], "big")
            if length < 8:
                raise Fatal(f"{name}: {length}-byte message is too short for OpenFlow")
            if len(data) - pos < length:
                raise Fatal(f"{name}: unexpected end of file mid-message")
            sys.stdout.write(ofp_to_string(data[pos:pos + length], self.opts.verbosity + 2))
            pos += length

    def monitor_commands(self) -> list[Command]:
        return [
            Command("monitor", None, 1, 3, self.monitor),
            Command("snoop", None, 1, 1, self.snoop),
            Command("packet-out", None, 2, 0x7FFFFFFF, self.packet_out),
            Command("ofp-parse", None, 1, 1, self.ofp_parse),
        ]

