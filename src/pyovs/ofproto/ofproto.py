"""One OpenFlow switch (a bridge): its ports, tables and the messages it answers.

``Ofproto`` is OVS's ``struct ofproto`` plus the request handlers of
``ofproto.c``: it owns the bridge's OpenFlow ports (``XPort`` for xlate,
plus what port descriptions need), flow tables, groups, meters and MAC
table, and turns each OpenFlow request from a connection into replies,
errors and state changes.  It does no I/O: ``connmgr`` owns the sockets
and hands decoded messages to ``handle``; the datapath side (upcalls,
packet-outs, revalidation) goes through the ``Backer`` it was given.

Changes that can alter a forwarding decision (flow table, groups, port
config, MAC learning) call ``backer.revalidate()``, which drops the
datapath's cached decisions.

Requests are dispatched from one table (``_HANDLERS``, by body type;
``_RAW_HANDLERS`` for bodies the library keeps as bytes).  What the switch
says about itself follows OVS 3.1 byte for byte where a client can see it
(table features and the 1.0-1.2 table statistics, capabilities per version,
errors quoting the whole request); the real switch is the judge in
``tests/interop/test_vswitchd_ofctl.py``.  Bundles live in ``bundles``.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final, Protocol

from pyovs import __version__
from pyovs.openflow import codec
from pyovs.openflow.actions import Output
from pyovs.openflow.codec import Body, Unparsed
from pyovs.openflow.errors import OFError, OFPErr
from pyovs.openflow.match import CATCHALL, Match
from pyovs.openflow.msg_async import AsyncConfig, Masks
from pyovs.openflow.msg_basic import (
    BarrierReply,
    BarrierRequest,
    CtFlushZone,
    DescRequest,
    FeaturesRequest,
    FlowModTableId,
    GetAsyncRequest,
    GetConfigRequest,
    GroupFeaturesRequest,
    MeterFeaturesRequest,
    RoleReply,
    RoleRequest,
    SetControllerId,
    SetFlowFormat,
    SetPacketInFormat,
    SwitchConfig,
    TableDescRequest,
    TableFeaturesRequest,
    TableStatsRequest,
)
from pyovs.openflow.msg_bundle import BundleAdd, BundleCtrl
from pyovs.openflow.msg_ctflush import CtFlush
from pyovs.openflow.msg_flow import FlowMod
from pyovs.openflow.msg_flowstats import (
    AggregateStatsReply,
    AggregateStatsRequest,
    FlowStatsReply,
    FlowStatsRequest,
)
from pyovs.openflow.msg_group import (
    GroupDescReply,
    GroupDescRequest,
    GroupMod,
    GroupStatsReply,
    GroupStatsRequest,
)
from pyovs.openflow.msg_monitor import (
    FlowMonitorCancel,
    FlowMonitorRequest,
    FlowMonitorRequests,
    FlowUpdate,
)
from pyovs.openflow.msg_packet import PacketIn, PacketOut
from pyovs.openflow.msg_port import (
    C_GROUP_STATS,
    FeaturesReply,
    PhyPort,
    PortDescReply,
    PortDescRequest,
    PortMod,
    PortStats,
    PortStatsReply,
    PortStatsRequest,
    PortStatus,
)
from pyovs.openflow.msg_queue import (
    OFPQ_ALL,
    QueueConfig,
    QueueGetConfigReply,
    QueueGetConfigRequest,
    QueueStats,
    QueueStatsReply,
    QueueStatsRequest,
)
from pyovs.openflow.msg_stats import (
    DescReply,
    MeterConfigReply,
    MeterConfigRequest,
    MeterMod,
    MeterStatsReply,
    MeterStatsRequest,
    TableMod,
)
from pyovs.openflow.msg_table import TableStatsReply
from pyovs.openflow.msg_tabledesc import (
    OFPTC14_EVICTION,
    OFPTC14_VACANCY_EVENTS,
    TableDesc,
    TableDescReply,
)
from pyovs.openflow.msg_tlv import TlvTableMod
from pyovs.openflow.ports import OFPP_ANY, OFPP_CONTROLLER, OFPP_LOCAL, OFPP_MAX, OFPP_NORMAL
from pyovs.openflow.tablefeatures import table_features_parts, table_stats_features

from . import asyncconfig, bundles, monitors, nicira
from .bundles import Bundle, conn_flow_mod, packet_out_in_port
from .flowtable import OFPROTO_EVICTION_FLAGS, FlowTables, Rule
from .normal import MacTable
from .replies import Multipart, RawReply
from .xlate import PacketInRequest, XPort

if TYPE_CHECKING:
    from pyovs.openflow.codec import Message

__all__ = ["Backer", "Multipart", "OfConnState", "Ofproto", "PortInfo", "RawReply"]

N_TABLES: Final = 254
OFPC_FLOW_STATS, OFPC_TABLE_STATS, OFPC_PORT_STATS = 1, 2, 4
OFPC_IP_REASM, OFPC_QUEUE_STATS, OFPC_ARP_MATCH_IP = 32, 64, 128
C_BUNDLES: Final = 1 << 9
"""OVS's capability bit for bundles (``msg_port.CAPABILITY_NAMES``)."""
OFP10_ACTIONS: Final = 0xFFF  # every OpenFlow 1.0 action
OFPPR_ADD, OFPPR_DELETE, OFPPR_MODIFY = 0, 1, 2
OFPPS_LINK_DOWN, OFPPS_LIVE = 1, 4
OFPPC_PORT_DOWN: Final = 1
OFPPF_10GB_FD, OFPPF_COPPER = 1 << 6, 1 << 11
OFPR_NO_MATCH, OFPR_ACTION, OFPR_PACKET_OUT = 0, 1, 5
OFPCR_ROLE_NOCHANGE, OFPCR_ROLE_EQUAL, OFPCR_ROLE_MASTER, OFPCR_ROLE_SLAVE = 0, 1, 2, 3
OFPRR_IDLE_TIMEOUT, OFPRR_HARD_TIMEOUT, OFPRR_DELETE, OFPRR_GROUP_DELETE = 0, 1, 2, 3
OFPRR_METER_DELETE: Final = 4
OFPFF_SEND_FLOW_REM: Final = 1
DEFAULT_MISS_SEND_LEN: Final = 128
FAIL_OPEN_PRIORITY: Final = 0xF0F0F0
FAIL_OPEN_RULE: Final = Rule(CATCHALL, FAIL_OPEN_PRIORITY, actions=(Output(OFPP_NORMAL),))


class Backer(Protocol):
    """What a bridge needs from the process-wide datapath glue (``switch.Switch``)."""

    def revalidate(self) -> None: ...

    def packet_out(self, bridge: Ofproto, packet: bytes, in_port: int,
                   actions: tuple[Any, ...]) -> None: ...


@dataclass(slots=True)
class PortInfo:
    """One OpenFlow port: xlate's view plus what port descriptions say."""

    xport: XPort
    hw_addr: int = 0
    state: int = 0
    curr: int = OFPPF_10GB_FD | OFPPF_COPPER
    speed_kbps: int = 10_000_000
    stats: Callable[[], PortStats] | None = None
    created: float = field(default_factory=time.monotonic)
    set_admin: Callable[[bool], bool] | None = None
    """Bring the device up (True) or down; returns whether its link is live then.
    A port mod's PORT_DOWN goes through it (OVS ``netdev_turn_flags_on/off``)."""

    def phy(self) -> PhyPort:
        x = self.xport
        state = self.state | (0 if x.live else OFPPS_LINK_DOWN)
        if x.live:
            state |= OFPPS_LIVE
        return PhyPort(x.ofport, self.hw_addr, x.name, x.config, state, self.curr, 0, 0, 0,
                       self.speed_kbps, self.speed_kbps)


@dataclass(slots=True)
class OfConnState:
    """Per-connection OpenFlow state that requests change (``struct ofconn``)."""

    version: int = 0
    service: bool = True
    """A management (ovs-ofctl) connection rather than a configured controller."""
    role: int = OFPCR_ROLE_EQUAL
    miss_send_len: int = 0
    flow_format: int = 0
    """NXFF_OPENFLOW10 (0) or NXFF_NXM (2), OpenFlow 1.0 only."""
    packet_in_format: int = 0
    controller_id: int = 0
    flow_mod_table_id: bool = False
    send: Callable[[Body, str | None], None] | None = None
    """Send an asynchronous message on this connection."""
    bundles: dict[int, Bundle] = field(default_factory=dict)
    """Open and closed bundles of this connection, by id (OVS ``ofconn->bundles``)."""
    monitors: dict[int, FlowMonitorRequest] = field(default_factory=dict)
    """Flow monitors of this connection, by id (``monitors``)."""
    updates: list[FlowUpdate] = field(default_factory=list)
    """Flow updates waiting for ``monitors.flush``."""
    sent_abbrev: bool = False
    """An ABBREV update is already among ``updates``."""
    async_cfg: tuple[Masks, Masks] | None = None
    """(primary, secondary) reasons per asynchronous message kind; None: the
    version's defaults (``asyncconfig``)."""
    """Open and closed bundles of this connection, by id (OVS ``ofconn->bundles``)."""


class Ofproto:
    """A bridge as an OpenFlow switch (see the module comment)."""

    def __init__(self, name: str, datapath_id: int, backer: Backer) -> None:
        self.name = name
        self.datapath_id = datapath_id
        self.backer = backer
        self.ports: dict[int, XPort] = {}
        self.port_info: dict[int, PortInfo] = {}
        self.tables = FlowTables()
        self.mac = MacTable()
        self.miss_send_len = DEFAULT_MISS_SEND_LEN
        self.frag_flags = 0
        self.conns: list[OfConnState] = []
        self.generation_id: int | None = None
        self._reported: dict[int, PhyPort] = {}
        """Each port as last reported in a port status (OVS's ``old_pp``)."""
        self._in_packet_out = False
        self.tlv_map: dict[int, tuple[int, int, int]] = {}
        """Tunnel metadata field index -> (option class, type, length) (NXT_TLV_TABLE_MOD)."""
        self.fail_open = False
        """Standalone bridge whose controllers are all unreachable: act as a
        learning switch (OVS's fail-open, a hidden NORMAL flow above all others)."""

    # -- xlate's Bridge protocol -----------------------------------------------------
    def lookup(self, table_id: int, flow: Any, wc: dict[str, int]) -> Any:
        if table_id == 0 and self.fail_open:
            return FAIL_OPEN_RULE
        return self.tables.lookup(table_id, flow, wc)

    def table_miss_to_controller(self) -> bool:
        return any(not c.service and c.version < 4 for c in self.conns)

    def group(self, group_id: int) -> Any:
        return self.tables.groups.get(group_id)

    # -- ports -------------------------------------------------------------------------
    def add_port(self, info: PortInfo) -> None:
        self.ports[info.xport.ofport] = info.xport
        self.port_info[info.xport.ofport] = info
        self._port_status(OFPPR_ADD, info)
        self.backer.revalidate()

    def del_port(self, ofport: int) -> None:
        info = self.port_info.pop(ofport, None)
        self.ports.pop(ofport, None)
        if info is not None:
            self.mac.flush(port=ofport)
            self._port_status(OFPPR_DELETE, info)
            self.backer.revalidate()

    def port_changed(self, ofport: int, source: OfConnState | None = None) -> None:
        """Report a change of ``ofport``; ``source`` is the connection that made it."""
        info = self.port_info.get(ofport)
        if info is not None:
            self._port_status(OFPPR_MODIFY, info, source)
            self.backer.revalidate()

    def _port_status(self, reason: int, info: PortInfo,
                     source: OfConnState | None = None) -> None:
        """OVS ``connmgr_send_port_status``.

        Before OpenFlow 1.5 the connection whose port mod caused the change
        hears nothing of it; a modification that looks the same as the last
        report in a connection's version is not sent to it.
        """
        ofport = info.xport.ofport
        new = info.phy()
        old = self._reported.get(ofport)
        if reason == OFPPR_DELETE:
            self._reported.pop(ofport, None)
        else:
            self._reported[ofport] = new

        def want(c: OfConnState) -> bool:
            if c is source and c.version < 6:
                return False
            if reason == OFPPR_MODIFY and old is not None:
                return _encoded(PortStatus(reason, old), c.version) != \
                    _encoded(PortStatus(reason, new), c.version)
            return True

        self.broadcast(PortStatus(reason, new), asyncconfig.PORT_STATUS, reason, want)

    def broadcast(self, body: Body, kind: int, reason: int,
                  want: Callable[[OfConnState], bool] | None = None) -> None:
        """Send an asynchronous message to the connections that want it."""
        for c in list(self.conns):
            if (c.send is not None and asyncconfig.receives(c, kind, reason)
                    and (want is None or want(c))):
                c.send(body, None)

    # -- flows ---------------------------------------------------------------------------
    def flow_mod(self, fm: FlowMod, now: float | None = None,
                 source: OfConnState | None = None, xid: int = 0) -> None:
        """Apply a flow mod (raises OFError); sends flow-removed for deletions.

        ``source`` and ``xid`` say which request it was, for flow monitors.
        """
        now = time.monotonic() if now is None else now
        result = self.tables.flow_mod(fm, now)
        for rule, reason in result.removed:
            self.send_flow_removed(rule, reason, now)
        monitors.report_result(self, result, source, xid)
        self.backer.revalidate()

    def send_flow_removed(self, rule: Any, reason: int, now: float) -> None:
        if rule.flags & OFPFF_SEND_FLOW_REM:
            self.broadcast(rule.flow_removed(reason, now), asyncconfig.FLOW_REMOVED, reason)

    def expire(self, now: float) -> None:
        expired = self.tables.expire(now)
        for rule, reason in expired:
            self.send_flow_removed(rule, reason, now)
        if expired:
            monitors.report_removed(self, expired)
            self.backer.revalidate()
        if self.mac.expire(now):
            self.backer.revalidate()

    def flush_flows(self) -> None:
        """Delete every flow (``ofproto_flush_flows``), e.g. on fail-mode changes."""
        result = self.tables.flow_mod(FlowMod(command=3, table_id=0xFF), time.monotonic())
        monitors.report_result(self, result)
        self.backer.revalidate()

    # -- packet-ins ----------------------------------------------------------------------
    def packet_in(self, req: PacketInRequest, data: bytes) -> None:
        # OVS buffers no packets, and an unbuffered packet-in carries the whole
        # packet whatever max_len or miss_send_len asked (connmgr.c).
        total = len(data)
        packet = data
        meta = Match(tuple((s, v, (1 << 64) - 1 if s == "metadata" else _full(s))
                           for s, v in req.metadata if s in ("in_port", "metadata", "tun_id",
                                                               "pkt_mark")))
        reason = req.reason
        if self._in_packet_out and reason == OFPR_ACTION:
            reason = OFPR_PACKET_OUT  # OVS xlate: output to the controller from a packet-out
        body = PacketIn(packet, total, reason, req.table_id, req.cookie, meta)

        def want(c: OfConnState) -> bool:
            return not req.controller_id or c.controller_id == req.controller_id

        self.broadcast(body, asyncconfig.PACKET_IN, reason, want)

    # -- requests --------------------------------------------------------------------------
    def handle(self, conn: OfConnState, msg: Message,
               reply: Callable[[Body], None]) -> None:
        """Answer one request; OFError propagates to the caller, which sends it."""
        body = msg.body
        handler = _HANDLERS.get(type(body))
        if handler is None and isinstance(body, Unparsed):
            handler = _RAW_HANDLERS.get(msg.raw)
        if handler is None:
            raise OFError(OFPErr.OFPBRC_BAD_TYPE)
        if (conn.role == OFPCR_ROLE_SLAVE and type(body) in _WRITES):
            raise OFError(OFPErr.OFPBRC_IS_SECONDARY)
        handler(self, conn, msg, reply)

    def _features(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                  ) -> None:
        # OVS's own capability bits; the encoder keeps what each version has
        # (ARP_MATCH_IP up to 1.1, GROUP_STATS from 1.1, BUNDLES from 1.4).
        caps = (OFPC_FLOW_STATS | OFPC_TABLE_STATS | OFPC_PORT_STATS | OFPC_QUEUE_STATS
                | OFPC_ARP_MATCH_IP | C_GROUP_STATS | C_BUNDLES)
        ports = tuple(self.port_info[p].phy() for p in sorted(self.port_info)) \
            if msg.version <= 3 else ()
        reply(FeaturesReply(self.datapath_id, 0, N_TABLES, 0, caps,
                            OFP10_ACTIONS if msg.version == 1 else 0, ports))

    def _get_config(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                    ) -> None:
        reply(SwitchConfig(self.frag_flags, conn.miss_send_len))

    def _set_config(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                    ) -> None:
        assert isinstance(msg.body, SwitchConfig)
        if msg.type == "GET_CONFIG_REPLY":
            raise OFError(OFPErr.OFPBRC_BAD_TYPE)
        conn.miss_send_len = msg.body.miss_send_len
        self.frag_flags = msg.body.flags & 3

    def _barrier(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                 ) -> None:
        reply(BarrierReply())

    def _desc(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]) -> None:
        reply(DescReply(b"pyovs", b"Python userspace switch", __version__.encode(),
                        b"None", b"None"))

    def _flow_mod(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                  ) -> None:
        self.flow_mod(conn_flow_mod(conn, msg), source=conn, xid=msg.xid)

    def _flow_stats(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                    ) -> None:
        body = msg.body
        if isinstance(body, AggregateStatsRequest):
            packets, nbytes, count = self.tables.aggregate(body)
            reply(AggregateStatsReply(packets, nbytes, count))
            return
        assert isinstance(body, FlowStatsRequest)
        reply(FlowStatsReply(tuple(self.tables.flow_stats(body, time.monotonic()))))

    def _table_stats(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                     ) -> None:
        stats = self.tables.table_stats()
        if msg.version <= 3:
            last = stats[-1].table_id if stats else 0
            features: dict[str, Any] = table_stats_features(msg.version, False)
            stats = [replace(t, **(features if t.table_id != last else
                                   table_stats_features(msg.version, True)))
                     for t in stats]
        reply(TableStatsReply(tuple(stats)))

    def _table_features(self, conn: OfConnState, msg: Message,
                        reply: Callable[[Body], None]) -> None:
        assert isinstance(msg.body, TableFeaturesRequest)
        if msg.body.data:
            self._change_table_features(msg.version, msg.body.data)
        visible = [t for t in self.tables.tables if not t.hidden]
        names = {t.table_id: t.name for t in visible if t.name}
        limits = {t.table_id: min(t.max_flows, 1_000_000) for t in visible}
        parts = table_features_parts(msg.version, len(visible), names, limits)
        reply(Multipart(tuple(Unparsed(p) for p in parts)))

    def _change_table_features(self, version: int, data: bytes) -> None:
        """OVS ``handle_table_features_change``: only table names may change.

        Every other feature is fixed (a request asking for what the table
        features reply offers is accepted); ``max_entries`` may not change.
        REPLACE (before 1.5, always) must name every table; MODIFY (1.5)
        keeps the tables it does not name.
        """
        new: dict[int, tuple[str, int]] = {}
        command = 0
        off = 0
        while off < len(data):
            if len(data) - off < 64:
                raise OFError(OFPErr.OFPBRC_BAD_LEN)
            length, table_id, tf_command = struct.unpack_from("!HBB", data, off)
            if length < 64 or off + length > len(data):
                raise OFError(OFPErr.OFPBRC_BAD_LEN)
            if not new and version >= 6:
                command = tf_command
            if table_id in new:
                raise OFError(OFPErr.NXTFFC_DUP_TABLE)
            name = data[off + 8:off + 40].split(b"\0", 1)[0].decode("latin-1")
            max_entries = struct.unpack_from("!I", data, off + 60)[0]
            new[table_id] = (name, max_entries)
            off += length
        tables = self.tables.tables
        for t in tables:
            if t.hidden:
                if t.table_id in new:
                    raise OFError(OFPErr.OFPTFFC_EPERM)
                new[t.table_id] = (t.name, min(t.max_flows, 1_000_000))
        if command in (2, 3):  # OFPTFC15_ENABLE, OFPTFC15_DISABLE
            raise OFError(OFPErr.OFPTFFC_EPERM)
        if command == 1:  # OFPTFC15_MODIFY
            for t in tables:
                new.setdefault(t.table_id, (t.name, min(t.max_flows, 1_000_000)))
        n = 0
        while n in new:
            n += 1
        if n != len(tables) or len(new) != n:
            raise OFError(OFPErr.OFPTFFC_TOO_MANY if n > len(tables) else OFPErr.OFPTFFC_EPERM)
        for t in tables:
            if new[t.table_id][1] != min(t.max_flows, 1_000_000):
                raise OFError(OFPErr.OFPTFFC_EPERM)
        for t in tables:
            if not t.hidden:
                t.name = new[t.table_id][0]

    def _table_desc(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                    ) -> None:
        """OVS ``query_table_desc__``: eviction and vacancy as configured."""
        out = []
        for t in self.tables.tables:
            if t.hidden:
                continue
            config = ((OFPTC14_EVICTION if t.eviction else 0)
                      | (OFPTC14_VACANCY_EVENTS if t.vacancy is not None else 0))
            vacancy = None
            if t.vacancy is not None:
                n_flows = len(t.cls)
                free = (100 if not t.max_flows else 0 if n_flows >= t.max_flows
                        else int((t.max_flows - n_flows) * 100.0 / t.max_flows))
                vacancy = (t.vacancy[0], t.vacancy[1], free)
            out.append(TableDesc(t.table_id, config, OFPROTO_EVICTION_FLAGS, vacancy))
        reply(TableDescReply(tuple(out)))

    def _table_mod(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                   ) -> None:
        assert isinstance(msg.body, TableMod)
        self.tables.table_mod(msg.body)
        self.backer.revalidate()

    # Queues: pyovs has no QoS, so every port has just the default queue 0,
    # whose statistics are unknown -- what OVS reports for a netdev that
    # keeps none (a dummy's).
    DEFAULT_QUEUES: Final = (0,)

    def _queue_ports(self, port_no: int, queue_id: int) -> list[int]:
        """The ports a queue request covers (OVS's errors for bad ports/queues)."""
        if port_no == OFPP_ANY:
            ports = sorted(self.port_info)
        elif port_no in self.port_info:
            ports = [port_no]
        else:
            raise OFError(OFPErr.OFPQOFC_BAD_PORT)
        if (queue_id != OFPQ_ALL and queue_id not in self.DEFAULT_QUEUES) or not ports:
            raise OFError(OFPErr.OFPQOFC_BAD_QUEUE)
        return ports

    def _queue_stats(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                     ) -> None:
        assert isinstance(msg.body, QueueStatsRequest)
        req = msg.body
        ports = self._queue_ports(req.port_no, req.queue_id)
        queues = self.DEFAULT_QUEUES if req.queue_id == OFPQ_ALL else (req.queue_id,)
        reply(QueueStatsReply(tuple(QueueStats(p, q) for p in ports for q in queues)))

    def _queue_config(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                      ) -> None:
        assert isinstance(msg.body, QueueGetConfigRequest)
        req = msg.body
        ports = self._queue_ports(req.port_no, req.queue_id)
        queues = self.DEFAULT_QUEUES if req.queue_id == OFPQ_ALL else (req.queue_id,)
        reply(QueueGetConfigReply(req.port_no, tuple(QueueConfig(p, q) for p in ports
                                                     for q in queues)))

    def _port_desc(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                   ) -> None:
        assert isinstance(msg.body, PortDescRequest)
        want = msg.body.port_no
        reply(PortDescReply(tuple(self.port_info[p].phy() for p in sorted(self.port_info)
                                  if want in (OFPP_ANY, p))))

    def _port_stats(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                    ) -> None:
        assert isinstance(msg.body, PortStatsRequest)
        want = msg.body.port_no
        if want not in (OFPP_ANY, OFPP_LOCAL) and want >= OFPP_MAX:
            raise OFError(OFPErr.OFPBRC_BAD_PORT)
        out = []
        now = time.monotonic()
        for p in sorted(self.port_info):
            info = self.port_info[p]
            if want not in (OFPP_ANY, p) or info.stats is None:
                continue
            st = info.stats()
            # OVS counts a port's age in milliseconds (calc_duration).
            age_ms = int((now - info.created) * 1000)
            out.append(PortStats(p, st.rx_packets, st.tx_packets, st.rx_bytes, st.tx_bytes,
                                 st.rx_dropped, st.tx_dropped, st.rx_errors, st.tx_errors,
                                 0, 0, 0, st.collisions, age_ms // 1000,
                                 age_ms % 1000 * 1_000_000))
        reply(PortStatsReply(tuple(out)))

    def _port_mod(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                  ) -> None:
        assert isinstance(msg.body, PortMod)
        self.port_mod(conn, msg.body)

    def port_mod(self, conn: OfConnState, pm: PortMod) -> None:
        """Apply a port mod from ``conn`` (OVS ``port_mod_start`` + ``port_mod_finish``)."""
        info = self.port_info.get(pm.port_no)
        if info is None:
            raise OFError(OFPErr.OFPPMFC_BAD_PORT)
        if pm.hw_addr != info.hw_addr:
            raise OFError(OFPErr.OFPPMFC_BAD_HW_ADDR)
        x = info.xport
        new = (x.config & ~pm.mask) | (pm.config & pm.mask)
        if new == x.config:
            return
        toggled_down = (new ^ x.config) & OFPPC_PORT_DOWN
        x.config = new
        self.port_changed(pm.port_no, conn)
        if toggled_down and info.set_admin is not None:
            # As OVS: the config change is reported first, the link's new
            # state when the device has followed.
            live = info.set_admin(not new & OFPPC_PORT_DOWN)
            if live != x.live:
                x.live = live
                self.port_changed(pm.port_no)

    def _packet_out(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                    ) -> None:
        assert isinstance(msg.body, PacketOut)
        po = msg.body
        self.check_packet_out(po)
        self.run_packet_out(po)

    def run_packet_out(self, po: PacketOut) -> None:
        """Send a (checked) packet-out through the datapath."""
        self._in_packet_out = True
        try:
            self.backer.packet_out(self, po.packet, packet_out_in_port(po), po.actions)
        finally:
            self._in_packet_out = False

    @staticmethod
    def check_packet_out(po: PacketOut) -> None:
        """OVS's checks of a packet-out before it runs."""
        in_port = packet_out_in_port(po)
        if in_port >= OFPP_MAX and in_port not in (OFPP_LOCAL, OFPP_CONTROLLER, 0xFFFF):
            raise OFError(OFPErr.OFPBRC_BAD_PORT)
        if po.buffer_id != 0xFFFFFFFF:
            raise OFError(OFPErr.OFPBRC_BUFFER_UNKNOWN)

    def _role(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]) -> None:
        assert isinstance(msg.body, RoleRequest)
        req = msg.body
        if req.role != OFPCR_ROLE_NOCHANGE:
            if req.role not in (OFPCR_ROLE_EQUAL, OFPCR_ROLE_MASTER, OFPCR_ROLE_SLAVE):
                raise OFError(OFPErr.OFPRRFC_BAD_ROLE)
            if req.role != OFPCR_ROLE_EQUAL and req.generation_id != 0xFFFFFFFFFFFFFFFF:
                if (self.generation_id is not None
                        and ((req.generation_id - self.generation_id) & (1 << 63))):
                    raise OFError(OFPErr.OFPRRFC_STALE)
                self.generation_id = req.generation_id
            if req.role == OFPCR_ROLE_MASTER:
                for other in self.conns:
                    if other is not conn and other.role == OFPCR_ROLE_MASTER:
                        other.role = OFPCR_ROLE_SLAVE
            conn.role = req.role
        gen = self.generation_id if self.generation_id is not None else 0xFFFFFFFFFFFFFFFF
        reply(RoleReply(conn.role, gen))

    def _set_flow_format(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                         ) -> None:
        assert isinstance(msg.body, SetFlowFormat)
        if msg.body.format not in (0, 2):
            raise OFError(OFPErr.OFPBRC_EPERM)
        conn.flow_format = msg.body.format

    def _set_packet_in_format(self, conn: OfConnState, msg: Message,
                              reply: Callable[[Body], None]) -> None:
        assert isinstance(msg.body, SetPacketInFormat)
        if msg.body.format not in (0, 1, 2):
            raise OFError(OFPErr.OFPBRC_EPERM)
        conn.packet_in_format = msg.body.format

    def _flow_mod_table_id(self, conn: OfConnState, msg: Message,
                           reply: Callable[[Body], None]) -> None:
        assert isinstance(msg.body, FlowModTableId)
        conn.flow_mod_table_id = msg.body.enable

    def _set_controller_id(self, conn: OfConnState, msg: Message,
                           reply: Callable[[Body], None]) -> None:
        assert isinstance(msg.body, SetControllerId)
        conn.controller_id = msg.body.controller_id

    def _group_mod(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                   ) -> None:
        assert isinstance(msg.body, GroupMod)
        now = time.monotonic()
        _, fres = self.tables.group_mod(msg.body, now)
        for rule, reason in fres.removed:
            self.send_flow_removed(rule, reason, now)
        monitors.report_result(self, fres, conn, msg.xid, OFPRR_GROUP_DELETE)
        self.backer.revalidate()

    def _meter_mod(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                   ) -> None:
        assert isinstance(msg.body, MeterMod)
        now = time.monotonic()
        _, fres = self.tables.meter_mod(msg.body, now)
        for rule, reason in fres.removed:
            self.send_flow_removed(rule, reason, now)
        monitors.report_result(self, fres, conn, msg.xid, OFPRR_METER_DELETE)
        self.backer.revalidate()

    def _group_stats(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                     ) -> None:
        body = msg.body
        groups = self.tables.groups
        if isinstance(body, GroupDescRequest):
            reply(GroupDescReply(tuple(groups.desc(body.group_id))))
        elif isinstance(body, GroupStatsRequest):
            reply(GroupStatsReply(tuple(groups.stats(body.group_id, time.monotonic(),
                                                     self.tables.group_ref_count))))
        else:
            reply(groups.features(msg.version))

    def _meter_stats(self, conn: OfConnState, msg: Message, reply: Callable[[Body], None]
                     ) -> None:
        body = msg.body
        meters = self.tables.meters
        if isinstance(body, MeterConfigRequest):
            reply(MeterConfigReply(tuple(meters.configs(body.meter_id))))
        elif isinstance(body, MeterStatsRequest):
            reply(MeterStatsReply(tuple(meters.stats(body.meter_id, time.monotonic(),
                                                     self.tables.meter_flow_count))))
        else:
            reply(meters.features())


def _encoded(body: Body, version: int) -> bytes:
    return codec.encode(codec.make(body, version))


def _full(slot: str) -> int:
    from pyovs.openflow.fieldtypes import SLOT_BITS
    return (1 << SLOT_BITS[slot]) - 1


_Handler = Callable[[Ofproto, OfConnState, "Message", Callable[["Body"], None]], None]
_HANDLERS: Final[dict[type, _Handler]] = {
    FeaturesRequest: Ofproto._features,
    GetConfigRequest: Ofproto._get_config,
    SwitchConfig: Ofproto._set_config,
    BarrierRequest: Ofproto._barrier,
    DescRequest: Ofproto._desc,
    FlowMod: Ofproto._flow_mod,
    FlowStatsRequest: Ofproto._flow_stats,
    AggregateStatsRequest: Ofproto._flow_stats,
    TableStatsRequest: Ofproto._table_stats,
    TableFeaturesRequest: Ofproto._table_features,
    CtFlushZone: nicira.ct_flush,
    TlvTableMod: nicira.tlv_table_mod,
    CtFlush: nicira.ct_flush,
    GetAsyncRequest: asyncconfig.get_async,
    AsyncConfig: asyncconfig.set_async,
    FlowMonitorRequests: monitors.request,
    FlowMonitorCancel: monitors.cancel,
    BundleCtrl: bundles.control,
    BundleAdd: bundles.add,
    TableDescRequest: Ofproto._table_desc,
    TableMod: Ofproto._table_mod,
    QueueStatsRequest: Ofproto._queue_stats,
    QueueGetConfigRequest: Ofproto._queue_config,
    PortDescRequest: Ofproto._port_desc,
    PortStatsRequest: Ofproto._port_stats,
    PortMod: Ofproto._port_mod,
    PacketOut: Ofproto._packet_out,
    RoleRequest: Ofproto._role,
    SetFlowFormat: Ofproto._set_flow_format,
    SetPacketInFormat: Ofproto._set_packet_in_format,
    FlowModTableId: Ofproto._flow_mod_table_id,
    SetControllerId: Ofproto._set_controller_id,
    GroupMod: Ofproto._group_mod,
    MeterMod: Ofproto._meter_mod,
    GroupDescRequest: Ofproto._group_stats,
    GroupStatsRequest: Ofproto._group_stats,
    GroupFeaturesRequest: Ofproto._group_stats,
    MeterConfigRequest: Ofproto._meter_stats,
    MeterStatsRequest: Ofproto._meter_stats,
    MeterFeaturesRequest: Ofproto._meter_stats,
}
_RAW_HANDLERS: Final[dict[str, _Handler]] = {
    # Requests whose bodies pyovs's library keeps as bytes.
    "NXST_IPFIX_BRIDGE_REQUEST": nicira.ipfix_stats,
    "NXST_IPFIX_FLOW_REQUEST": nicira.ipfix_stats,
    "NXT_TLV_TABLE_REQUEST": nicira.tlv_table_request,
}
_WRITES: Final = frozenset({FlowMod, PacketOut, PortMod, GroupMod, MeterMod, TableMod,
                            BundleCtrl, BundleAdd})
