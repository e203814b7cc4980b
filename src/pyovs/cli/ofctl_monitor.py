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

import asyncio
import contextlib
import functools
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Final

from pyovs.cli.cmdline import Command, Fatal
from pyovs.cli.ofctl_flow import protocols_to_string
from pyovs.cli.ofctl_flowio import FlowVconn
from pyovs.cli.ofctl_monctl import MonitorLoop
from pyovs.cli.ofctl_monitor_io import (
    MonitorVconn,
    eth_from_hex,
    packet_in_format,
    parse_hex,
    parse_packet_out,
)
from pyovs.cli.ofctl_swbase import VLOG, SwitchBase
from pyovs.daemon import Daemon, DaemonOptions
from pyovs.openflow import codec
from pyovs.openflow.act_text import parse_actions
from pyovs.openflow.act_wire import atoi
from pyovs.openflow.actions import ParseCtx
from pyovs.openflow.codec import Message
from pyovs.openflow.errors import ParseError
from pyovs.openflow.match import MatchBuilder
from pyovs.openflow.msg_basic import (
    OFPC_INVALID_TTL_TO_CONTROLLER,
    EchoReply,
    EchoRequest,
    GetConfigRequest,
    SetPacketInFormat,
    SwitchConfig,
)
from pyovs.openflow.msg_monitor import FlowMonitorRequests, parse_flow_monitor_request
from pyovs.openflow.msg_packet import PacketIn, PacketOut
from pyovs.openflow.ofprint import ofp_to_string

__all__ = ["MonitorCommands", "eth_from_hex", "packet_in_format", "parse_hex",
           "parse_packet_out"]

_INVALID_TTL_VERSIONS: Final = (1 << 1) | (1 << 2) | (1 << 3)


_AT_FATAL_SIGNAL: list[Callable[[], None]] = []
"""Clean-ups a fatal signal runs first (OVS ``fatal_signal_add_hook``)."""


def _fatal_signal(signum: int, _frame: object) -> None:
    """OVS ``fatal_signal``: log the signal, clean up, then die of it."""
    VLOG.warn("fatal_signal", f"terminating with signal {signum} ({signal.strsignal(signum)})")
    for hook in reversed(_AT_FATAL_SIGNAL):
        with contextlib.suppress(OSError):
            hook()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


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
        resume = False
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
            elif arg == "resume":
                # (Undocumented, for testing, as in ovs-ofctl.)  Whole packets
                # come to us so that paused ones can be resumed.
                resume = True
                config = self._config(v)
                self._set_config(v, SwitchConfig(config.flags, 0xFFFF))
            else:
                raise Fatal(f'{arg}: unsupported "monitor" argument')
        if preferred is not None:
            self._noreply(v, SetPacketInFormat(preferred))
        elif (v.transact_multiple_noreply([v.encode(SetPacketInFormat(2))]) is not None
              and v.version == 1):
            v.transact_multiple_noreply([v.encode(SetPacketInFormat(1))])
        self._monitor_loop(v, reply_to_echo=True, resume=resume)

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
            rundir = os.environ.get("OVS_RUNDIR") or "/var/run/openvswitch"
            for path in (name, f"{rundir}/{name}.snoop"):
                if os.path.exists(path):
                    break
            else:
                raise Fatal(f"{name} is not a bridge or a socket")
            v = MonitorVconn(name, self.opts.versions, self.xids, path)
        self._monitor_loop(v, reply_to_echo=False)

    def _monitor_loop(self, v: MonitorVconn, reply_to_echo: bool,
                      resume: bool = False) -> None:
        """``monitor_vconn``: print what comes, serve the control socket, until told."""
        stamp = self._option("--timestamp") is not None
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, _fatal_signal)

        def show(data: bytes, msg: Message | None) -> None:
            # snoop never shows names: the snoop socket answers no lookups.
            ports, tables = self._shown_maps(v.name) if reply_to_echo else (None, None)
            text = ofp_to_string(data, self.opts.verbosity + 2, ports, tables)
            if stamp:
                now = time.time()
                text = (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now))
                        + f".{int(now * 1000) % 1000:03d}: " + text)
            sys.stderr.write(text)
            sys.stderr.flush()
            if reply_to_echo and msg is not None and isinstance(msg.body, EchoRequest):
                v.send_message(Message(msg.version, msg.xid, "OFPT_ECHO_REPLY",
                                       EchoReply(msg.body.data)))
            if resume and msg is not None and isinstance(msg.body, PacketIn) \
                    and msg.body.continuation:
                # ofputil_encode_resume: the packet-in back, xid 0.
                pin = msg.body
                back = Message(msg.version, 0, "NXT_RESUME", PacketIn(
                    pin.packet, -1, pin.reason, pin.table_id, pin.cookie, pin.metadata,
                    pin.buffer_id, pin.userdata, pin.continuation))
                sys.stderr.write("send: " + ofp_to_string(codec.encode(back),
                                                          self.opts.verbosity + 2))
                sys.stderr.flush()
                v.send_message(back)

        daemon = self._daemon()
        daemon.start()
        saved_stderr = os.dup(2)

        def ready() -> None:
            # daemonize_complete, but ovs-ofctl keeps printing to the stderr
            # it was started with (OVS's daemon_save_fd).
            daemon.complete()
            os.dup2(saved_stderr, 2)
            if loop.server.path is not None:
                _AT_FATAL_SIGNAL.append(functools.partial(os.unlink, loop.server.path))
            _AT_FATAL_SIGNAL.append(daemon.cleanup)

        loop = MonitorLoop(v, show, self.program, self._option("--unixctl"),
                           self.opts.verbosity, lambda: self._accept_names(v.name), ready)
        try:
            asyncio.run(loop.run())
        finally:
            v.close()

    def _daemon(self) -> Daemon:
        """OVS's daemon options as given: ``--detach``, ``--pidfile[=FILE]``..."""
        given = dict(self.opts.other)
        return Daemon(self.program, DaemonOptions(
            pidfile=given.get("--pidfile"), detach="--detach" in given,
            no_chdir="--no-chdir" in given, overwrite_pidfile="--overwrite-pidfile" in given,
            unixctl=given.get("--unixctl")))

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

