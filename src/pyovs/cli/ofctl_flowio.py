"""The switch exchanges of pyovs-ofctl's flow-table commands, as ovs-ofctl makes them.

``FlowVconn`` is the ``Vconn`` (one xid counter for the whole run) with
what the flow commands need from OVS's ``lib/vconn.c`` and ovs-ofctl:

* ``set_protocol`` (``try_set_protocol``): move an OpenFlow 1.0 session to
  another flow format one step at a time -- ``NXT_SET_FLOW_FORMAT`` for
  OpenFlow10 <-> NXM, ``NXT_FLOW_MOD_TABLE_ID`` for the table-id variants
  -- each sent with a barrier, a switch error meaning "not supported";
* ``protocol_for_flow_mod`` (``open_vconn_for_flow_mod``) and
  ``protocol_for_dump`` (``set_protocol_for_flow_dump``): which flow format
  a command uses, with ovs-ofctl's errors when none fits;
* ``transact_multiple_noreply``: requests answered only on error, each
  followed by a barrier, stopping at the first error;
* ``bundle_transact`` (``vconn_bundle_transact``): open bundle 0, add every
  request (same xid inside and out), a barrier to collect errors, then
  commit -- or discard when anything failed;
* ``dump_flows`` (``vconn_dump_flows``): every flow of a flow stats reply.

Xids matter because they are printed (errors, dumps): requests are encoded
by the caller with xids taken in ovs-ofctl's order, and barriers and
control messages take theirs when sent, as in OVS.

``fetch_port_names``/``fetch_table_names`` are ovs-ofctl's name maps
(``get_port_map``/``get_table_map``): each opens its own connection and
reads the features reply (OpenFlow < 1.3) or port descriptions, and the
table stats (< 1.3) or table features.  Table features replies are read
here only as far as the names (``ofp13_table_features`` starts with
length, table id, 5 pad bytes and the 32-byte name).
"""

from __future__ import annotations

import errno
import os
import signal
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from pyovs.cli.cmdline import Fatal
from pyovs.cli.ofctl_flow import protocols_to_string
from pyovs.cli.ofctl_session import FLOW_DUMP_PROTOCOLS, Session
from pyovs.cli.ofctl_target import open_target
from pyovs.openflow import codec
from pyovs.openflow.codec import Body, Message
from pyovs.openflow.connection import Closed, Received, Reply
from pyovs.openflow.header import decode_header
from pyovs.openflow.msg_basic import (
    BarrierRequest,
    ErrorMsg,
    FeaturesRequest,
    FlowModTableId,
    SetFlowFormat,
    TableFeaturesRequest,
    TableStatsRequest,
)
from pyovs.openflow.msg_bundle import BundleAdd, BundleCtrl, BundleCtrlType
from pyovs.openflow.msg_flowstats import FlowStats, FlowStatsReply, FlowStatsRequest
from pyovs.openflow.msg_port import FeaturesReply, PortDescReply, PortDescRequest
from pyovs.openflow.msg_table import TableStatsReply
from pyovs.openflow.protocols import TID, Protocol

__all__ = ["Encoded", "FlowVconn", "NameMaps", "XidCounter", "arm_timeout", "vconn_name"]

_NXFF_OPENFLOW10: Final = 0
_NXFF_NXM: Final = 2
_TABLE_FEATURES_HEAD: Final = struct.Struct("!HB5x32s")
"""ofp13_table_features: length, table_id, pad, name."""
_MULTIPART_HEADER: Final = 16
_ACTIVE_VCONN_CLASSES: Final = ("tcp", "unix", "ssl")


@dataclass(frozen=True, slots=True)
class Encoded:
    """A request encoded ahead of sending (OVS keeps ``ofpbuf``s in a list)."""

    message: Message
    data: bytes


def vconn_name(name: str, peer: str) -> str:
    """The name OVS's vconn has: the connection string, or ``unix:`` + socket path."""
    return name if ":" in name else f"unix:{peer}"


@dataclass(slots=True)
class XidCounter:
    """OVS ``alloc_xid``: one counter for every message of the run."""

    last: int = 0

    def next(self) -> int:
        self.last = (self.last + 1) & 0xFFFFFFFF
        return self.last


class FlowVconn(Session):
    """A connection for flow-table commands, its xids drawn from the run's counter."""

    def __init__(self, name: str, versions: int, xids: XidCounter) -> None:
        sock = open_target(name)
        try:
            peer = sock.getpeername()
        except OSError:
            peer = ""
        self.xids = xids
        super().__init__(sock, versions, name, first_xid=xids.next())
        self.vconn_name = vconn_name(name, peer if isinstance(peer, str) else "")

    def _flush(self) -> None:
        try:
            super()._flush()
        except OSError as e:
            raise Fatal(f"failed to send packet to switch ({os.strerror(e.errno or 0)})"
                        ) from None

    def _receive(self) -> list[object]:
        try:
            return super()._receive()
        except OSError as e:
            raise Fatal(f"OpenFlow packet receive failed ({os.strerror(e.errno or 0)})"
                        ) from None

    def _events(self) -> list[object]:
        return self._receive()

    def transact(self, body: Body, raw: str | None = None,
                 xid: int | None = None) -> list[Message]:
        """``vconn_transact``/``dump_transaction``: every part of the reply, or the error."""
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

    def encode(self, body: Body, raw: str | None = None) -> Encoded:
        """Encode a request now, taking the next xid (``ofpraw_alloc``)."""
        msg = codec.make(body, self.version, self.xids.next(), raw)
        return Encoded(msg, codec.encode(msg))

    def _send_encoded(self, req: Encoded, expect_reply: bool = True) -> None:
        m = req.message
        self.conn.send(m.body, m.raw, m.xid, expect_reply=expect_reply)

    def _wait_for(self, xid: int, errors: list[Message] | None = None) -> Message:
        """``vconn_recv_xid__``: the next message with ``xid``; errors about others kept."""
        while True:
            for event in self._events():
                if isinstance(event, (Reply, Received)):
                    msg = event.message
                    if msg.xid == xid:
                        return msg
                    if errors is not None and isinstance(msg.body, ErrorMsg):
                        errors.append(msg)
                elif isinstance(event, Closed):
                    raise Fatal(f"{self.name}: connection closed ({event.reason})")

    def _noreply(self, req: Encoded) -> Message | None:
        """``vconn_transact_noreply``: the error about ``req``, if any."""
        self._send_encoded(req)
        bxid = self.conn.send(BarrierRequest(), None, self.xids.next(), expect_reply=True)
        self._flush()
        error: Message | None = None
        while True:
            for event in self._events():
                if isinstance(event, (Reply, Received)):
                    if event.message.xid == req.message.xid:
                        error = event.message
                    elif event.message.xid == bxid:
                        return error
                elif isinstance(event, Closed):
                    raise Fatal(f"{self.name}: connection closed ({event.reason})")

    def transact_multiple_noreply(self, requests: Sequence[Encoded]) -> Message | None:
        """Each request with its barrier; the first error stops the rest."""
        for req in requests:
            error = self._noreply(req)
            if error is not None:
                return error
        return None

    # --- flow formats --------------------------------------------------------------

    def set_protocol(self, want: Protocol) -> bool:
        """``try_set_protocol``: one NX message at a time until ``want`` or a refusal."""
        while True:
            if want == self.protocol:
                return True
            if self.version != 1 or not want & (Protocol.OF10_STD | Protocol.OF10_STD_TID
                                                | Protocol.OF10_NXM | Protocol.OF10_NXM_TID):
                return False
            cur_nxm = bool(self.protocol & (Protocol.OF10_NXM | Protocol.OF10_NXM_TID))
            want_nxm = bool(want & (Protocol.OF10_NXM | Protocol.OF10_NXM_TID))
            cur_tid = bool(self.protocol & TID)
            body: Body
            if cur_nxm != want_nxm:
                body = SetFlowFormat(_NXFF_NXM if want_nxm else _NXFF_OPENFLOW10)
                nxt = _of10(want_nxm, cur_tid)
            else:
                body = FlowModTableId(not cur_tid)
                nxt = _of10(cur_nxm, not cur_tid)
            if self._noreply(self.encode(body)) is not None:
                return False
            self.protocol = nxt

    def protocol_for_flow_mod(self, usable: int, allowed: int) -> Protocol:
        """``open_vconn_for_flow_mod`` after the connection: the format to send in."""
        if usable & allowed & self.protocol:
            return self.protocol
        cur = self.protocol
        for i in range(9):
            f = Protocol(1 << i)
            if f != cur and f & usable & allowed and self.set_protocol(f):
                return f
        raise Fatal("switch does not support any of the usable flow formats "
                    f"({protocols_to_string(usable)})")

    def protocol_for_dump(self, usable: int, allowed: int) -> Protocol:
        """``set_protocol_for_flow_dump``."""
        for p in FLOW_DUMP_PROTOCOLS:
            if p & usable & allowed and self.set_protocol(p):
                return p
        names = protocols_to_string(usable)
        if usable & allowed:
            raise Fatal(f"switch does not support any of the usable flow formats ({names})")
        raise Fatal(f"none of the usable flow formats ({names}) is among the allowed "
                    f"flow formats ({protocols_to_string(allowed)})")

    # --- dumps -----------------------------------------------------------------------

    def dump_flows(self, request: FlowStatsRequest, raw: str | None) -> list[FlowStats]:
        """``vconn_dump_flows``: all the flows; a switch error is ``Fatal``.

        OVS decodes these without the Nicira flow-age extension, so the idle
        and hard ages of an NXST reply are unknown (not printed).
        """
        flows: list[FlowStats] = []
        for m in self.transact(request, raw):
            if isinstance(m.body, FlowStatsReply):
                if m.raw.startswith("NXST"):
                    flows.extend(replace(fs, idle_age=-1, hard_age=-1)
                                 for fs in m.body.flows)
                else:
                    flows.extend(m.body.flows)
            else:
                raise Fatal(f"dump flows ({os.strerror(errno.EPROTO)})")
        return flows

    # --- bundles ---------------------------------------------------------------------

    def _control(self, type_: int, flags: int, errors: list[Message]) -> bool:
        """``vconn_bundle_control_transact``: True when the switch said yes."""
        xid = self.xids.next()
        self.conn.send(BundleCtrl(0, type_, flags), None, xid, expect_reply=True)
        self._flush()
        reply = self._wait_for(xid, errors)
        if isinstance(reply.body, ErrorMsg):
            errors.append(reply)
            return False
        return (isinstance(reply.body, BundleCtrl) and reply.body.bundle_id == 0
                and reply.body.type == type_ + 1)

    def bundle_transact(self, requests: Sequence[Encoded], flags: int
                        ) -> tuple[bool, list[Message]]:
        """``vconn_bundle_transact``: (committed, the switch's errors)."""
        errors: list[Message] = []
        if not self._control(BundleCtrlType.OPEN_REQUEST, flags, errors):
            return False, errors
        for req in requests:
            m = req.message
            self.conn.send(BundleAdd(0, flags, req.data), None, m.xid, expect_reply=False)
        bxid = self.xids.next()
        self.conn.send(BarrierRequest(), None, bxid, expect_reply=True)
        self._flush()
        self._wait_for(bxid, errors)
        if errors:
            self._control(BundleCtrlType.DISCARD_REQUEST, flags, errors)
            return False, errors
        return self._control(BundleCtrlType.COMMIT_REQUEST, flags, errors), errors


def _of10(nxm: bool, tid: bool) -> Protocol:
    if nxm:
        return Protocol.OF10_NXM_TID if tid else Protocol.OF10_NXM
    return Protocol.OF10_STD_TID if tid else Protocol.OF10_STD


# --- name maps -------------------------------------------------------------------------

@dataclass(slots=True)
class NameMap:
    """``ofputil_port_map``/``ofputil_table_map``: names both ways, duplicates dropped."""

    by_name: dict[str, int] = field(default_factory=dict)
    by_number: dict[int, str] = field(default_factory=dict)

    @classmethod
    def of(cls, pairs: Sequence[tuple[int, str]]) -> NameMap:
        names: dict[str, list[int]] = {}
        numbers: dict[int, list[str]] = {}
        for number, name in pairs:
            names.setdefault(name, []).append(number)
            numbers.setdefault(number, []).append(name)
        dup = {n for n, ns in names.items() if len(ns) > 1}
        dup_num = {n for n, ns in numbers.items() if len(ns) > 1}
        return cls({n: ns[0] for n, ns in names.items()
                    if n not in dup and ns[0] not in dup_num},
                   {n: ns[0] for n, ns in numbers.items()
                    if n not in dup_num and ns[0] not in dup})


class NameMaps:
    """The port and table maps of each switch named on the command line, fetched once."""

    def __init__(self, versions: int, xids: XidCounter) -> None:
        self.versions = versions
        self.xids = xids
        self._ports: dict[str, NameMap] = {}
        self._tables: dict[str, NameMap] = {}

    @staticmethod
    def _fetchable(name: str) -> bool:
        # OVS connects for a bridge name or a valid active connection string,
        # never for a passive or invalid one.
        return ":" not in name or name.split(":", 1)[0] in _ACTIVE_VCONN_CLASSES

    def ports(self, name: str) -> NameMap:
        m = self._ports.get(name)
        if m is None:
            m = self._ports[name] = NameMap.of(self._fetch_ports(name)
                                               if self._fetchable(name) else [])
        return m

    def tables(self, name: str) -> NameMap:
        m = self._tables.get(name)
        if m is None:
            m = self._tables[name] = NameMap.of(self._fetch_tables(name)
                                                if self._fetchable(name) else [])
        return m

    def _fetch_ports(self, name: str) -> list[tuple[int, str]]:
        v = FlowVconn(name, self.versions, self.xids)
        try:
            out: list[tuple[int, str]] = []
            if v.version < 4:
                for m in v.transact(FeaturesRequest()):
                    if isinstance(m.body, FeaturesReply):
                        out += [(p.port_no, p.name) for p in m.body.ports]
            else:
                for m in v.transact(PortDescRequest()):
                    if isinstance(m.body, PortDescReply):
                        out += [(p.port_no, p.name) for p in m.body.ports]
            return out
        finally:
            v.close()

    def _fetch_tables(self, name: str) -> list[tuple[int, str]]:
        v = FlowVconn(name, self.versions, self.xids)
        try:
            out: list[tuple[int, str]] = []
            if v.version < 4:
                for m in v.transact(TableStatsRequest()):
                    if isinstance(m.body, TableStatsReply):
                        out += [(t.table_id, t.name) for t in m.body.tables if t.name]
            else:
                for m in v.transact(TableFeaturesRequest(b"")):
                    out += _table_feature_names(codec.encode(m))
            return out
        finally:
            v.close()


def _table_feature_names(data: bytes) -> list[tuple[int, str]]:
    """(table id, name) of each ``ofp13_table_features`` in a reply with a name."""
    if decode_header(data).raw.ofptype != "TABLE_FEATURES_STATS_REPLY":
        return []
    out = []
    pos = _MULTIPART_HEADER
    while pos + _TABLE_FEATURES_HEAD.size <= len(data):
        length, table_id, raw_name = _TABLE_FEATURES_HEAD.unpack_from(data, pos)
        name = raw_name.split(b"\0", 1)[0].decode("utf-8", "replace")
        if name:
            out.append((table_id, name))
        if length < _TABLE_FEATURES_HEAD.size:
            break
        pos += length
    return out


def arm_timeout(seconds: int) -> None:
    """``-t SECS`` (OVS ``time_alarm``): after SECS, die of SIGALRM as ovs-ofctl does.

    OVS logs the fatal signal through vlog (the run's vlog sequence, shared
    with the other warnings: ``ofctl_swbase.VLOG``) and then re-raises it, so
    the exit status is "killed by SIGALRM".
    """
    if not seconds:
        return
    # ofctl_swbase builds on this module, so its vlog is looked up here.
    from pyovs.cli.ofctl_swbase import VLOG

    def expire(signum: int, frame: object) -> None:
        VLOG.warn("fatal_signal", "terminating with signal 14 (Alarm clock)")
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGALRM)

    signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
