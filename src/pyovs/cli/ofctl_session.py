"""A blocking OpenFlow session for pyovs-ofctl, over the sans-IO ``Connection``.

ovs-ofctl talks to a switch one request at a time (``vconn_transact``):
send, then read until the reply with the same xid is complete, answering
echo requests on the way.  ``Session`` is that loop around
``pyovs.openflow.connection.Connection`` and a connected socket from
``ofctl_target``; it adds only I/O.  Negotiation failures and lost
connections become ``Fatal`` with ovs-ofctl's wording.

Flow dumps in OpenFlow 1.0 first agree a flow format, as ovs-ofctl's
``set_protocol_for_flow_dump`` does: the most capable protocol that both
the filter and ``-O``/``-F`` allow is proposed with ``NXT_SET_FLOW_FORMAT``
and a barrier; a switch error moves on to the next protocol.
"""

from __future__ import annotations

import socket
from typing import Final

from pyovs.cli.cmdline import Fatal
from pyovs.cli.ofctl_flow import protocols_to_string
from pyovs.openflow.codec import Body, Message
from pyovs.openflow.connection import Closed, Connection, Negotiated, Reply
from pyovs.openflow.msg_basic import BarrierRequest, SetFlowFormat
from pyovs.openflow.protocols import Protocol

__all__ = ["FLOW_DUMP_PROTOCOLS", "Session"]

FLOW_DUMP_PROTOCOLS: Final = (
    Protocol.OF15_OXM, Protocol.OF14_OXM, Protocol.OF13_OXM, Protocol.OF12_OXM,
    Protocol.OF11_STD, Protocol.OF10_NXM, Protocol.OF10_STD,
)
"""OVS ``ofputil_flow_dump_protocols``: the order tried for a flow dump."""
_NXFF_OPENFLOW10: Final = 0
_NXFF_NXM: Final = 2


class Session:
    """One connection to a switch, used one request at a time."""

    def __init__(self, sock: socket.socket, versions: int, name: str,
                 first_xid: int = 1) -> None:
        self.sock = sock
        self.name = name
        self.version = 0
        self.conn = Connection(versions, first_xid=first_xid)
        self.conn.start()
        self._flush()
        while self.conn.version == 0:
            for event in self._receive():
                if isinstance(event, Closed):
                    raise Fatal(f"{name}: failed to connect to socket "
                                f"({event.reason})")
                if isinstance(event, Negotiated):
                    break
        self.version = self.conn.version
        self.protocol = (Protocol.OF10_STD if self.version == 1 else
                         {2: Protocol.OF11_STD, 3: Protocol.OF12_OXM, 4: Protocol.OF13_OXM,
                          5: Protocol.OF14_OXM, 6: Protocol.OF15_OXM}[self.version])

    def close(self) -> None:
        self.sock.close()

    def _flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def _receive(self) -> list[object]:
        data = self.sock.recv(65536)
        if not data:
            raise Fatal(f"{self.name}: connection closed by peer" if self.version
                        else f"{self.name}: failed to connect to socket (End of file)")
        events: list[object] = list(self.conn.receive(data))
        self._flush()
        return events

    def transact(self, body: Body, raw: str | None = None,
                 xid: int | None = None) -> list[Message]:
        """Send one request and return every message of its reply."""
        xid = self.conn.send(body, raw, xid, expect_reply=True)
        self._flush()
        out: list[Message] = []
        while True:
            for event in self._receive():
                if isinstance(event, Reply) and event.xid == xid:
                    out.append(event.message)
                    if event.done:
                        return out
                elif isinstance(event, Closed):
                    raise Fatal(f"{self.name}: connection closed ({event.reason})")

    def send_with_barrier(self, body: Body, raw: str | None = None) -> list[Message]:
        """Send ``body`` (no reply expected) then a barrier; errors about it come back."""
        xid = self.conn.send(body, raw, expect_reply=False)
        bxid = self.conn.send(BarrierRequest(), expect_reply=True)
        self._flush()
        errors: list[Message] = []
        while True:
            for event in self._receive():
                if isinstance(event, Reply) and event.xid == bxid:
                    return errors
                if isinstance(event, Reply) and event.xid == xid:
                    errors.append(event.message)
                elif isinstance(event, Closed):
                    raise Fatal(f"{self.name}: connection closed ({event.reason})")

    def set_protocol(self, want: Protocol) -> bool:
        """``try_set_protocol``: switch an OpenFlow 1.0 session's flow format."""
        if want == self.protocol:
            return True
        if self.version != 1 or not want & (Protocol.OF10_STD | Protocol.OF10_NXM):
            return False
        fmt = _NXFF_NXM if want == Protocol.OF10_NXM else _NXFF_OPENFLOW10
        if self.send_with_barrier(SetFlowFormat(fmt)):
            return False
        self.protocol = want
        return True

    def set_protocol_for_dump(self, usable: int, allowed: int) -> Protocol:
        """``set_protocol_for_flow_dump``: the dump protocol both sides accept."""
        for p in FLOW_DUMP_PROTOCOLS:
            if p & usable & allowed and self.set_protocol(p):
                return p
        names = protocols_to_string(usable)
        if usable & allowed:
            raise Fatal(f"switch does not support any of the usable flow formats ({names})")
        raise Fatal(f"none of the usable flow formats ({names}) is among the allowed "
                    f"flow formats ({protocols_to_string(allowed)})")
