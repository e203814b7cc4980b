"""vswitchd's connection to the database: a replica kept by monitor_cond.

``DbSync`` connects to the database server (``unix:PATH`` or
``tcp:IP:PORT``, reconnecting with back-off), reads the server's schema,
asks for ``monitor_cond`` on the tables and columns vswitchd reads, and
keeps ``tables``: table -> row UUID -> column -> ``Datum``, updated from
``update2`` notifications (initial/insert/modify/delete, modify carrying
diffs as OVS sends them).  Every change bumps ``seqno`` and calls
``on_change``; ``transact`` sends operations and waits for the reply.

Reading helpers (``scalar``, ``as_set``, ``as_map``) turn a column into
Python values, with the column's default when it is absent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Final

from pyovs import streams
from pyovs.ovsdb.data import Datum, Uuid, apply_diff
from pyovs.ovsdb.errors import OvsdbError
from pyovs.ovsdb.jsonrpc import Json, Message, MessageKind
from pyovs.ovsdb.schema import DatabaseSchema

__all__ = ["DbSync", "Row", "as_map", "as_set", "scalar"]

log = logging.getLogger("dbsync")

DB_NAME: Final = "Open_vSwitch"
Row = dict[str, Datum]

MONITORED: Final = {
    "Open_vSwitch": ["bridges", "next_cfg", "cur_cfg", "other_config", "datapath_types",
                     "iface_types", "db_version", "ovs_version", "dpdk_initialized"],
    "Bridge": ["name", "ports", "controller", "fail_mode", "datapath_type", "protocols",
               "other_config", "datapath_id", "datapath_version", "external_ids",
               "mcast_snooping_enable",
               "stp_enable", "flow_tables"],
    "Port": ["name", "interfaces", "tag", "trunks", "vlan_mode", "fake_bridge",
             "other_config", "bond_mode"],
    "Interface": ["name", "type", "options", "ofport", "ofport_request", "mtu_request",
                  "mac", "error", "ifindex", "mac_in_use", "mtu", "admin_state",
                  "link_state", "other_config"],
    "Controller": ["target", "is_connected", "role", "status", "inactivity_probe",
                   "max_backoff", "connection_mode"],
    "Flow_Table": ["name", "flow_limit", "overflow_policy"],
}


def scalar(row: Row, column: str, default: Any = None) -> Any:
    d = row.get(column)
    if d is None or not d.keys:
        return default
    return d.keys[0]


def as_set(row: Row, column: str) -> list[Any]:
    d = row.get(column)
    return list(d.keys) if d is not None else []


def as_map(row: Row, column: str) -> dict[Any, Any]:
    d = row.get(column)
    return d.as_dict() if d is not None and d.values is not None else {}


class DbSync:
    """The replica and its connection (see the module comment)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.schema: DatabaseSchema | None = None
        self.tables: dict[str, dict[Uuid, Row]] = {t: {} for t in MONITORED}
        self.seqno = 0
        self.connected = asyncio.Event()
        self.on_change: Callable[[], None] | None = None
        self._session: streams.JsonRpcSession | None = None
        self._next_id = 0
        self._waiting: dict[int, asyncio.Future[Message]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._session is not None:
            self._session.close()

    # -- requests ---------------------------------------------------------------------
    async def call(self, method: str, params: list[Json]) -> Message:
        session = self._session
        if session is None:
            raise ConnectionError("not connected to the database")
        self._next_id += 1
        rid = self._next_id
        fut: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = fut
        session.send(Message.request(method, params, rid))
        return await fut

    async def transact(self, ops: list[Json]) -> Json:
        """Run operations on the database; returns the result list (or raises)."""
        reply = await self.call("transact", [DB_NAME, *ops])
        if reply.kind is MessageKind.ERROR:
            raise ConnectionError(f"transaction failed: {reply.error}")
        return reply.result

    # -- the connection loop --------------------------------------------------------------
    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                reader, writer = await streams.open_connection(self.target)
            except (OSError, ValueError) as e:
                log.debug("%s: connection failed (%s)", self.target, e)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.1
            self._session = streams.JsonRpcSession(reader, writer, max_message_size=None)
            reader_task = asyncio.ensure_future(self._read(self._session))
            try:
                await self._monitor()
                self.connected.set()
                await reader_task
            except (ConnectionError, OvsdbError, OSError) as e:
                log.warning("%s: %s", self.target, e)
            finally:
                reader_task.cancel()
                self.connected.clear()
                self._session.close()
                self._session = None
                for fut in self._waiting.values():
                    if not fut.done():
                        fut.set_exception(ConnectionError("database connection lost"))
                self._waiting.clear()
            await asyncio.sleep(backoff)

    async def _read(self, session: streams.JsonRpcSession) -> None:
        while True:
            msg = await session.recv()
            if msg is None:
                return
            if msg.kind in (MessageKind.REPLY, MessageKind.ERROR):
                fut = self._waiting.pop(msg.id, None) if isinstance(msg.id, int) else None
                if fut is not None and not fut.done():
                    fut.set_result(msg)
            elif msg.kind is MessageKind.REQUEST and msg.method == "echo":
                session.send(Message.reply(msg.params, msg.id))
            elif msg.kind is MessageKind.NOTIFY and msg.method == "update2":
                params = msg.params
                if isinstance(params, list) and len(params) == 2:
                    self._apply(params[1])

    async def _monitor(self) -> None:
        reply = await self.call("get_schema", [DB_NAME])
        if reply.kind is MessageKind.ERROR:
            raise ConnectionError(f"get_schema failed: {reply.error}")
        self.schema = DatabaseSchema.from_json(reply.result)
        requests: dict[str, Json] = {}
        for table, columns in MONITORED.items():
            ts = self.schema.tables.get(table)
            if ts is None:
                continue
            requests[table] = [{"columns": [c for c in columns if c in ts.columns]}]
        reply = await self.call("monitor_cond", [DB_NAME, "vswitchd", requests])
        if reply.kind is MessageKind.ERROR:
            raise ConnectionError(f"monitor_cond failed: {reply.error}")
        for t in self.tables.values():
            t.clear()
        self._apply(reply.result)

    def _apply(self, update: Any) -> None:
        if not isinstance(update, dict) or self.schema is None:
            return
        for tname, rows in update.items():
            table = self.tables.get(tname)
            ts = self.schema.tables.get(tname)
            if table is None or ts is None or not isinstance(rows, dict):
                continue
            for key, change in rows.items():
                uuid = Uuid(key)
                if not isinstance(change, dict):
                    continue
                for kind, values in change.items():
                    if kind == "delete":
                        table.pop(uuid, None)
                        continue
                    if not isinstance(values, dict):
                        continue
                    row = table.setdefault(uuid, {}) if kind == "modify" else {}
                    for col, value in values.items():
                        cs = ts.columns.get(col)
                        if cs is None:
                            continue
                        try:
                            if kind == "modify":
                                diff = Datum.from_json(cs.type.relaxed(), value)
                                if cs.type.n_max <= 1:
                                    row[col] = diff
                                else:
                                    cur = row.get(col, Datum.default(cs.type))
                                    row[col] = apply_diff(cur, diff)
                            else:
                                row[col] = Datum.from_json(cs.type, value)
                        except (OvsdbError, ValueError, TypeError):
                            log.warning("bad value for %s.%s: %r", tname, col, value)
                    table[uuid] = row
        self.seqno += 1
        if self.on_change is not None:
            self.on_change()
