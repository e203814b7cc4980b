"""OpenFlow connections of one bridge: the management socket and controllers.

``ConnMgr`` is OVS's ``connmgr`` at the asyncio edge.  Every bridge listens
on ``punix:<rundir>/<bridge>.mgmt`` (a *service* connection: ovs-ofctl),
and keeps the controllers configured in the database: active targets
(``tcp:IP[:PORT]``, ``unix:PATH``) are connected and reconnected with
back-off, passive ones (``ptcp:``, ``punix:``) listen.  Each connection
runs the sans-IO ``Connection`` (hello, version negotiation limited by the
bridge's ``protocols``, echo) and hands requests to ``Ofproto.handle``;
an ``OFError`` from a handler goes back as the OFPT_ERROR OVS would send,
quoting the request.  Active controllers are probed with echo requests
after ``probe_interval`` seconds of silence and dropped after twice that.

Status for the Controller table (``is_connected``, ``role``,
``status:state``, and the times behind ``sec_since_connect`` and
``sec_since_disconnect``) is read from ``controller_status``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Final

from pyovs import dirs, streams
from pyovs.openflow import codec
from pyovs.openflow.codec import Body, Message, stats_reply_raw
from pyovs.openflow.connection import (
    ALL_VERSIONS,
    Closed,
    Connection,
    Negotiated,
    Received,
    error_reply,
)
from pyovs.openflow.errors import OFError, OFPErr
from pyovs.openflow.msg_basic import EchoRequest, SwitchConfig, TableFeaturesRequest
from pyovs.openflow.msg_flowstats import FlowStats, FlowStatsReply
from pyovs.openflow.msg_monitor import FlowMonitorRequests
from pyovs.openflow.msg_packet import PacketIn

from .bundles import BundleFailed
from .ofproto import (
    OFPCR_ROLE_EQUAL,
    OFPCR_ROLE_MASTER,
    OFPCR_ROLE_SLAVE,
    Multipart,
    OfConnState,
    Ofproto,
    RawReply,
)

__all__ = ["ConnMgr", "ControllerStatus", "versions_from_protocols"]

log = logging.getLogger("connmgr")

OFP_PORT: Final = 6653
PROTOCOL_VERSIONS: Final = {"OpenFlow10": 1, "OpenFlow11": 2, "OpenFlow12": 3,
                            "OpenFlow13": 4, "OpenFlow14": 5, "OpenFlow15": 6}
DEFAULT_VERSIONS: Final = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6)
MAX_MESSAGE: Final = 0xFFFF
OFPSF_REQ_MORE: Final = 1
HELLO_WAIT: Final = 0.5
"""Seconds a management connection waits for the client's hello before sending ours."""
OFPR_NO_MATCH, OFPR_ACTION, OFPR_ACTION_SET, OFPR_GROUP, OFPR_PACKET_OUT = 0, 1, 3, 4, 5
OFPR_EXPLICIT_MISS, OFPR_IMPLICIT_MISS = 6, 7
ROLE_NAMES: Final = {OFPCR_ROLE_EQUAL: "other", OFPCR_ROLE_MASTER: "master",
                     OFPCR_ROLE_SLAVE: "slave"}


def versions_from_protocols(protocols: list[str]) -> int:
    """Bridge ``protocols`` column -> version bitmap (all of 1.0-1.5 when empty)."""
    bitmap = 0
    for name in protocols:
        bitmap |= 1 << PROTOCOL_VERSIONS.get(name, 0)
    bitmap &= ALL_VERSIONS
    return bitmap or DEFAULT_VERSIONS


@dataclass(slots=True)
class ControllerStatus:
    target: str
    connected: bool = False
    role: str = "other"
    state: str = "BACKOFF"
    last_error: str = ""
    conns: list[OfConnState] = field(default_factory=list)
    connected_at: float | None = None
    """Monotonic time the current connection came up (OVS ``sec_since_connect``)."""
    disconnected_at: float | None = None
    """Monotonic time the last connection went down (OVS ``sec_since_disconnect``)."""


def packet_in_for(pin: PacketIn, version: int, packet_in_format: int
                  ) -> tuple[PacketIn, str | None]:
    """The packet-in as a connection receives it (OVS ``ofputil_encode_packet_in_private``).

    ``packet_in_format`` (NXT_SET_PACKET_IN_FORMAT) picks the message:
    standard (0), NXT_PACKET_IN (1) or NXT_PACKET_IN2 (2).  Reasons newer
    than the version are told as "action", OVS's internal explicit and
    implicit misses as "no match" (an explicit miss is an "action" before
    1.3) (``encode_packet_in_reason``).
    """
    if pin.reason in (OFPR_ACTION_SET, OFPR_GROUP, OFPR_PACKET_OUT) and version < 5:
        pin = replace(pin, reason=OFPR_ACTION)
    elif pin.reason == OFPR_EXPLICIT_MISS:
        pin = replace(pin, reason=OFPR_NO_MATCH if version >= 4 else OFPR_ACTION)
    elif pin.reason == OFPR_IMPLICIT_MISS:
        pin = replace(pin, reason=OFPR_NO_MATCH)
    raw = {1: "NXT_PACKET_IN", 2: "NXT_PACKET_IN2"}.get(packet_in_format)
    return pin, raw


class _Channel:
    """One OpenFlow connection: socket + Connection + the bridge's handler."""

    def __init__(self, mgr: ConnMgr, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, service: bool, probe: float | None) -> None:
        self.mgr = mgr
        self.reader, self.writer = reader, writer
        self.conn = Connection(mgr.versions)
        self.state = OfConnState(service=service)
        self.state.miss_send_len = 0 if service else 128
        self.state.send = self.send_async
        self.probe = probe
        self._partial: dict[int, list[Message]] = {}
        """Parts of multipart requests still coming, by xid."""

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.writer.is_closing():
            self.writer.write(data)

    def send_async(self, body: Body, raw: str | None) -> None:
        """An asynchronous message: xid 0, packet-ins in this connection's format."""
        if self.conn.version:
            if isinstance(body, PacketIn):
                body, raw = packet_in_for(body, self.conn.version, self.state.packet_in_format)
            try:
                self.conn.send(body, raw, xid=0, expect_reply=False)
            except (OFError, ValueError, RuntimeError) as e:
                log.debug("%s: cannot send %s: %s", self.mgr.ofproto.name, type(body).__name__, e)
                return
            self.flush()

    async def run(self) -> None:
        ofp = self.mgr.ofproto
        data = b""
        if self.state.service:
            # A client sends its hello as soon as it connects, and OVS reads
            # it in the same main-loop pass that sends its own: when they
            # have no version in common, the switch's hello, its error and
            # the close all come before the client can answer (ovs-ofctl
            # then fails with "Broken pipe").  Reading the client's first
            # bytes before saying hello keeps that order.
            with contextlib.suppress(TimeoutError, ConnectionError, OSError):
                data = await asyncio.wait_for(self.reader.read(65536), HELLO_WAIT)
        self.conn.start()
        try:
            while not self.conn.closed:
                if not data:
                    self.flush()
                    with contextlib.suppress(ConnectionError):
                        await self.writer.drain()
                    data = await self._read()
                    if not data:
                        break
                for event in self.conn.receive(data):
                    if isinstance(event, Negotiated):
                        self.state.version = event.version
                        ofp.conns.append(self.state)
                    elif isinstance(event, Received):
                        self.dispatch(event.message, event.data)
                    elif isinstance(event, Closed):
                        break
                data = b""
            self.flush()
            if self.conn.closed:
                # Our last error is written; close at once, as OVS does.
                sock = self.writer.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
        except (ConnectionError, OSError):
            pass
        finally:
            if self.state in ofp.conns:
                ofp.conns.remove(self.state)
            self.writer.close()

    async def _read(self) -> bytes:
        """The next bytes from the peer; b"" when it is gone or fails the probe."""
        if not self.probe:
            return await self.reader.read(65536)
        try:
            return await asyncio.wait_for(self.reader.read(65536), self.probe)
        except TimeoutError:
            if not self.conn.version:
                return b""
            self.conn.send(EchoRequest(), expect_reply=True)
            self.flush()
        try:
            return await asyncio.wait_for(self.reader.read(65536), self.probe)
        except TimeoutError:
            log.info("%s: no response to inactivity probe", self.mgr.ofproto.name)
            return b""

    def dispatch(self, msg: Message, data: bytes = b"") -> None:
        ofp = self.mgr.ofproto
        if msg.raw_type.is_stats and msg.raw_type.is_request:
            # A request in several parts (OFPSF_REQ_MORE) is handled whole, as
            # OVS's multipart assembler does.
            if msg.stats_flags & OFPSF_REQ_MORE:
                self._partial.setdefault(msg.xid, []).append(msg)
                return
            parts = self._partial.pop(msg.xid, None)
            if parts:
                msg = _assemble([*parts, msg])

        def reply(body: Body) -> None:
            if isinstance(body, SwitchConfig):
                self.conn.send_message(Message(msg.version, msg.xid, "OFPT_GET_CONFIG_REPLY",
                                               body))
                return
            if isinstance(body, RawReply):
                self.conn.send_message(Message(msg.version, msg.xid, body.raw, body.body))
                return
            if isinstance(body, Multipart):
                for n, piece in enumerate(body.parts, 1):
                    self.conn.reply(msg, piece, more=n < len(body.parts))
                return
            if isinstance(body, FlowStatsReply) and len(body.flows) > 1:
                parts = _flow_stats_parts(msg, body)
                for n, part in enumerate(parts, 1):
                    self.conn.reply(msg, part, more=n < len(parts))
                return
            self.conn.reply(msg, body)

        # Errors quote the request whole, as it came (OVS ofperr_encode_reply).
        try:
            ofp.handle(self.state, msg, reply)
        except BundleFailed as e:
            # The failed message's own error first, quoting its BUNDLE_ADD.
            quote = e.quote
            self.conn.send_raw(error_reply(e.first.error, quote[0],
                                           int.from_bytes(quote[4:8], "big"), quote))
            self.conn.send_raw(error_reply(e.error, msg.version, msg.xid,
                                           data or codec.encode(msg)))
        except OFError as e:
            self.conn.send_raw(error_reply(e.error, msg.version, msg.xid,
                                           data or codec.encode(msg)))
        except Exception:  # a handler bug must not take the switch down
            log.exception("%s: error handling %s", ofp.name, msg.raw)
            self.conn.send_raw(error_reply(OFPErr.OFPBRC_EPERM, msg.version, msg.xid,
                                           data or codec.encode(msg)))


def _flow_stats_parts(request: Message, reply: FlowStatsReply) -> list[FlowStatsReply]:
    """A flow stats reply cut as OVS's ``ofpmp_postappend`` cuts it.

    Entries are appended while the message stays within 65535 bytes; the
    entry that would pass it starts the next part.
    """
    raw = stats_reply_raw(request.raw_type, request.version)

    def size(flows: tuple[FlowStats, ...]) -> int:
        return len(codec.encode(Message(request.version, request.xid, raw,
                                        FlowStatsReply(flows))))

    empty = size(())
    entries = [(fs, size((fs,)) - empty) for fs in reply.flows]
    if empty + sum(n for _, n in entries) <= MAX_MESSAGE:
        return [reply]
    parts: list[FlowStatsReply] = []
    current: list[FlowStats] = []
    used = empty
    for fs, n in entries:
        if current and used + n > MAX_MESSAGE:
            parts.append(FlowStatsReply(tuple(current)))
            current, used = [], empty
        current.append(fs)
        used += n
    parts.append(FlowStatsReply(tuple(current)))
    return parts


def _assemble(parts: list[Message]) -> Message:
    """One request from its parts: table features and flow monitors concatenate."""
    last = parts[-1]
    bodies = [p.body for p in parts]
    features = [b for b in bodies if isinstance(b, TableFeaturesRequest)]
    if len(features) == len(parts):
        data = b"".join(b.data for b in features)
        return replace(last, body=TableFeaturesRequest(data), stats_flags=0)
    monitors = [b for b in bodies if isinstance(b, FlowMonitorRequests)]
    if len(monitors) == len(parts):
        merged = tuple(m for b in monitors for m in b.monitors)
        return replace(last, body=FlowMonitorRequests(merged), stats_flags=0)
    return last


class ConnMgr:
    """The OpenFlow side of one bridge."""

    def __init__(self, ofproto: Ofproto) -> None:
        self.ofproto = ofproto
        self.versions = DEFAULT_VERSIONS
        self._mgmt: asyncio.Server | None = None
        self._controllers: dict[str, tuple[asyncio.Task[None], ControllerStatus]] = {}
        self._channels: set[asyncio.Task[None]] = set()
        self.probe_interval = 5.0
        self.on_change: Callable[[], None] | None = None

    @property
    def mgmt_path(self) -> str:
        return os.path.join(dirs.rundir(), f"{self.ofproto.name}.mgmt")

    async def start(self) -> None:
        self._mgmt = await streams.start_server(f"punix:{self.mgmt_path}", self._accept_service)

    def _spawn(self, channel: _Channel) -> asyncio.Task[None]:
        task = asyncio.ensure_future(channel.run())
        self._channels.add(task)
        task.add_done_callback(self._channels.discard)
        return task

    async def _accept_service(self, reader: asyncio.StreamReader,
                              writer: asyncio.StreamWriter) -> None:
        await self._spawn(_Channel(self, reader, writer, True, None))

    def set_controllers(self, targets: list[str]) -> None:
        for target in list(self._controllers):
            if target not in targets:
                task, _ = self._controllers.pop(target)
                task.cancel()
        for target in targets:
            if target not in self._controllers:
                status = ControllerStatus(target)
                task = asyncio.ensure_future(self._controller(target, status))
                self._controllers[target] = (task, status)

    def has_controllers(self) -> bool:
        return bool(self._controllers)

    def controller_status(self) -> dict[str, ControllerStatus]:
        out = {}
        for target, (_, status) in self._controllers.items():
            conns = [c for c in self.ofproto.conns if c in status.conns]
            status.connected = bool(conns)
            status.role = ROLE_NAMES.get(conns[0].role, "other") if conns else "other"
            out[target] = status
        return out

    def any_controller_connected(self) -> bool:
        return any(s.connected for s in self.controller_status().values())

    async def _controller(self, target: str, status: ControllerStatus) -> None:
        if target.startswith(("ptcp:", "punix:")):
            async def accepted(reader: asyncio.StreamReader,
                               writer: asyncio.StreamWriter) -> None:
                ch = _Channel(self, reader, writer, False, self.probe_interval)
                status.conns.append(ch.state)
                status.state = "ACTIVE"
                status.connected_at, status.disconnected_at = time.monotonic(), None
                self._changed()
                try:
                    await self._spawn(ch)
                finally:
                    status.conns.remove(ch.state)
                    self._changed()

            try:
                server = await streams.start_server(target, accepted, default_port=OFP_PORT)
            except (OSError, ValueError) as e:
                status.last_error = str(e)
                log.warning("%s: %s: listen failed: %s", self.ofproto.name, target, e)
                return
            status.state = "LISTENING"
            try:
                await asyncio.Event().wait()
            finally:
                await streams.close_server(server)
            return
        backoff = 1.0
        while True:
            status.state = "CONNECTING"
            try:
                reader, writer = await streams.open_connection(target, default_port=OFP_PORT)
            except (OSError, ValueError) as e:
                status.last_error = os.strerror(e.errno) if isinstance(e, OSError) and e.errno \
                    else str(e)
                status.state = "BACKOFF"
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 8.0)
                continue
            backoff = 1.0
            ch = _Channel(self, reader, writer, False, self.probe_interval)
            status.conns.append(ch.state)
            status.state = "ACTIVE"
            status.connected_at, status.disconnected_at = time.monotonic(), None
            self._changed()
            try:
                await self._spawn(ch)
            finally:
                status.conns.remove(ch.state)
                status.state = "BACKOFF"
                status.connected_at, status.disconnected_at = None, time.monotonic()
                self._changed()
            await asyncio.sleep(1.0)

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    async def close(self) -> None:
        for task, _ in self._controllers.values():
            task.cancel()
        self._controllers.clear()
        for task in list(self._channels):
            task.cancel()
        if self._mgmt is not None:
            await streams.close_server(self._mgmt)
            self._mgmt = None
