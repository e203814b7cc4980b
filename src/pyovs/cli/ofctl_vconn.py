"""The blocking exchanges behind pyovs-ofctl's switch commands, with ovs-ofctl's xids.

ovs-ofctl allocates transaction ids from one process-wide counter (OVS
``alloc_xid``): every hello, request and barrier takes the next one, over
every connection the command opens, including the short ones that fetch
port and table names.  The xids show in printed replies and errors, so
pyovs-ofctl must spend them in the same order.  ``Vconn`` is a ``Session``
whose every message gets its xid from an ``XidCounter`` shared by the whole
run; the commands say which xid each message takes simply by sending
messages in ovs-ofctl's order.

The exchanges are OVS's (``lib/vconn.c``, ``utilities/ovs-ofctl.c``):

* ``transact`` (``vconn_transact``/``dump_transaction``): one request,
  every part of its reply (or the error about it);
* ``transact_noreply`` (``vconn_transact_noreply``): a request that is
  answered only on error, followed by a barrier; the error, if any;
* ``recv``: the next message of any kind, for ``monitor`` and ``snoop``.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

from pyovs.cli.cmdline import Fatal
from pyovs.cli.ofctl_session import Session
from pyovs.openflow.codec import Body, Message
from pyovs.openflow.connection import Closed, Received, Reply
from pyovs.openflow.msg_basic import BarrierRequest

__all__ = ["Vconn", "XidCounter"]


@dataclass(slots=True)
class XidCounter:
    """OVS ``alloc_xid``: one counter for every message the run sends."""

    last: int = 0

    def next(self) -> int:
        self.last = (self.last + 1) & 0xFFFFFFFF
        return self.last


class Vconn(Session):
    """A negotiated connection whose messages take their xids from ``xids``."""

    def __init__(self, sock: socket.socket, versions: int, name: str,
                 xids: XidCounter) -> None:
        self.xids = xids
        super().__init__(sock, versions, name, first_xid=xids.next())
        self._early: list[Message] = []

    def _events(self) -> list[object]:
        try:
            return self._receive()
        except OSError as e:
            raise Fatal(f"{self.name}: connection closed ({e.strerror})") from None

    def transact(self, body: Body, raw: str | None = None,
                 xid: int | None = None) -> list[Message]:
        """Send a request; return its reply, every part of it, or the error."""
        xid = self.conn.send(body, raw, self.xids.next() if xid is None else xid,
                             expect_reply=True)
        self._flush()
        out: list[Message] = []
        while True:
            for event in self._events():
                if isinstance(event, Reply) and event.xid == xid:
                    out.append(event.message)
                    if event.done:
                        return out
                elif isinstance(event, Closed):
                    raise Fatal(f"{self.name}: connection closed ({event.reason})")

    def transact_noreply(self, body: Body, raw: str | None = None) -> Message | None:
        """Send a request answered only on error, then a barrier; return the error."""
        xid = self.conn.send(body, raw, self.xids.next(), expect_reply=True)
        bxid = self.conn.send(BarrierRequest(), None, self.xids.next(), expect_reply=True)
        self._flush()
        error: Message | None = None
        while True:
            for event in self._events():
                if isinstance(event, Reply) and event.xid == bxid:
                    return error
                if isinstance(event, Reply) and event.xid == xid:
                    error = event.message
                elif isinstance(event, Received):
                    self._early.append(event.message)
                elif isinstance(event, Closed):
                    raise Fatal(f"{self.name}: connection closed ({event.reason})")

    def send(self, body: Body, raw: str | None = None) -> int:
        """Send without waiting for anything; the xid used."""
        xid = self.conn.send(body, raw, self.xids.next(), expect_reply=False)
        self._flush()
        return xid

    def send_message(self, msg: Message) -> None:
        """Send an already built message (an echo reply) as it is."""
        self.conn.send_message(msg)
        self._flush()

    def recv(self) -> Message | None:
        """The next message from the switch; None when it hangs up."""
        while not self._early:
            try:
                events = self._receive()
            except Fatal:
                return None
            for event in events:
                if isinstance(event, (Received, Reply)):
                    self._early.append(event.message)
                elif isinstance(event, Closed):
                    return None
        return self._early.pop(0)
