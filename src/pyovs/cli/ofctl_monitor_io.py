"""The packet and connection pieces of ``monitor``, ``snoop`` and ``packet-out``.

* ``parse_packet_out`` is OVS's ``parse_ofp_packet_out_str`` (``packet-out``
  text: ``in_port=``, ``packet=HEX``, pipeline fields, ``actions=``), with
  ``eth_from_hex`` and ``parse_hex`` (``ofpbuf_put_hex``) under it;
* ``packet_in_format`` reads ``-P`` names;
* ``MonitorVconn`` is the connection ``monitor`` and ``snoop`` read: it hands
  over every message the switch sends, as bytes and, when it decodes in the
  connection's version, a ``Message`` -- a snoop connection carries the
  controller's messages in whatever version the controller speaks, which
  ovs-ofctl prints as they are ("receive any version").

``ofctl_monitor`` (the commands) and ``ofctl_monctl`` (their event loop and
control socket) both build on this module.
"""

from __future__ import annotations

import os
from typing import Final

from pyovs.cli.cmdline import Fatal
from pyovs.cli.ofctl_flowio import FlowVconn, XidCounter
from pyovs.cli.ofctl_session import Session
from pyovs.cli.ofctl_swbase import port_from_string
from pyovs.cli.ofctl_target import open_target
from pyovs.openflow import codec
from pyovs.openflow.act_text import parse_actions
from pyovs.openflow.actions import ParseCtx
from pyovs.openflow.codec import Message
from pyovs.openflow.connection import Closed, Received, Rejected, Reply
from pyovs.openflow.ctext import parse_key_value
from pyovs.openflow.errors import ParseError
from pyovs.openflow.fields import FIELD_BY_NAME, PIPELINE_FIELDS
from pyovs.openflow.match import MatchBuilder
from pyovs.openflow.match_text import set_parsed_field
from pyovs.openflow.msg_packet import PacketOut
from pyovs.openflow.ports import OFPP_CONTROLLER, OFPP_LOCAL, OFPP_MAX, OFPP_NONE
from pyovs.openflow.protocols import ANY
from pyovs.openflow.values import parse_value

__all__ = ["PACKET_IN_FORMATS", "MonitorVconn", "eth_from_hex", "packet_in_format",
           "parse_hex", "parse_packet_out"]

PACKET_IN_FORMATS: Final = {"standard": 0, "openflow10": 0, "nxt_packet_in": 1, "nxm": 1,
                            "nxt_packet_in2": 2}
"""``-P`` names (OVS ``ofputil_packet_in_format_from_string``)."""
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
        self.hung_up = False
        """True once the switch has closed the connection."""

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

    def recv_available(self) -> list[tuple[bytes, Message | None]]:
        """What one read of the (readable) socket brought; sets ``hung_up`` at the end."""
        try:
            events = self._receive()
        except Fatal:
            self.hung_up = True
            return []
        out: list[tuple[bytes, Message | None]] = self._queue
        self._queue = []
        for event in events:
            if isinstance(event, (Received, Reply)):
                out.append((codec.encode(event.message), event.message))
            elif isinstance(event, Rejected):
                out.append((event.data, None))
            elif isinstance(event, Closed):
                self.hung_up = True
        return out
