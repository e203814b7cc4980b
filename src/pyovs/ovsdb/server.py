"""The OVSDB protocol server, sans-IO.

:class:`OvsdbServer` owns the databases, the ``_Server`` database that
describes them, the locks, and the sessions.  A :class:`Session` is one
client connection: it takes decoded JSON-RPC messages (``receive``) and
emits bytes through the ``send`` callable it was given.  Nothing here opens
a socket or reads the clock: the asyncio edge (``server_main.py``) feeds
bytes in, calls ``run(now)`` after every batch of input and at
``next_deadline()``.

Ordering follows ovsdb-server: a commit immediately queues the monitor
updates it causes for every session, so a client always sees the updates
of its own transaction before the transaction's reply.  A ``transact``
whose ``wait`` is not yet satisfied becomes a trigger, tried again after
every commit to its database and failed with "timed out" at its deadline.

Monitor updates are serialised once per commit for every set of identical
unconditional monitors, which is what makes fan-out to many clients cheap.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .data import Datum, Uuid, new_uuid
from .database import Change, Database, Row
from .errors import OvsdbError, is_id, ovs_json, syntax_error
from .execution import Blocked, execute
from .jsonrpc import Message, MessageKind
from .monitor import History, Monitor, parse_last_id
from .schema import SERVER_SCHEMA_JSON, DatabaseSchema


class Storage(Protocol):
    """What the server needs from a database's durable storage (file.py)."""

    def commit(self, change: Change, durable: bool) -> None: ...
    def compact(self, db: Database) -> None: ...
    def replace_database(self, db: Database, comment: str) -> None: ...
    def should_compact(self, now_ms: int) -> bool: ...
    def close(self) -> None: ...


@dataclass
class DbEntry:
    db: Database
    history: History
    storage: Storage | None = None
    path: str | None = None


@dataclass
class Lock:
    name: str
    waiters: list[LockWaiter] = field(default_factory=list)


@dataclass(eq=False)
class LockWaiter:
    session: Session
    name: str
    mode: str
    lock: Lock | None

    @property
    def is_owner(self) -> bool:
        return self.lock is not None and self.lock.waiters[0] is self


@dataclass(eq=False)
class Trigger:
    session: Session
    db: DbEntry
    request: Message
    created_ms: int
    timeout_ms: int | None


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _id_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class OvsdbServer:
    def __init__(self, clock_ms: Callable[[], int] | None = None) -> None:
        self.clock_ms = clock_ms or (lambda: 0)
        self.uuid = new_uuid()
        self.dbs: dict[str, DbEntry] = {}
        self.sessions: set[Session] = set()
        self.locks: dict[str, Lock] = {}
        self.triggers: list[Trigger] = []
        self.read_only = False
        self._dirty_dbs: set[str] = set()
        self.commit_hooks: list[Callable[[str, Change], None]] = []
        """Called after every commit to any database (also ones added later)."""
        server_schema = DatabaseSchema.from_json(SERVER_SCHEMA_JSON)
        self.server_db = Database(server_schema)
        self.dbs["_Server"] = self._entry(self.server_db)
        self._update_server_db()

    def _entry(self, db: Database, storage: Storage | None = None,
               path: str | None = None) -> DbEntry:
        entry = DbEntry(db, History(db), storage, path)
        name = db.name

        def on_commit(change: Change) -> None:
            self._broadcast(entry, change)
            self._dirty_dbs.add(name)
            for hook in self.commit_hooks:
                hook(name, change)

        db.listeners.append(on_commit)
        return entry

    # -- databases -------------------------------------------------------------
    def add_database(self, db: Database, storage: Storage | None = None,
                     path: str | None = None) -> None:
        if db.name in self.dbs:
            raise OvsdbError(None, f"{db.name}: duplicate database name")
        if storage is not None:
            db.storage = storage.commit
        self.dbs[db.name] = self._entry(db, storage, path)
        self._update_server_db()

    def convert_database(self, name: str, schema: DatabaseSchema) -> None:
        """Online schema conversion (the "convert" method); raises OvsdbError.

        The converted copy replaces the database only once the log holds it.
        Clients that did not ask to be told (set_db_change_aware) are
        disconnected, as by ovsdb-server; the others see their monitors
        cancelled and the new schema in ``_Server``.
        """
        entry = self.dbs[name]
        if schema.name != entry.db.name:
            raise OvsdbError("invalid parameters",
                             f"new schema name ({schema.name}) does not match database name "
                             f"({entry.db.name})")
        newdb = entry.db.converted(schema)
        if entry.storage is not None:
            entry.storage.replace_database(newdb, "converted by ovsdb-server")
            newdb.storage = entry.storage.commit
        for s in list(self.sessions):
            s.drop_db(entry.db, notify=True)
        for t in [t for t in self.triggers if t.db is entry]:
            self.triggers.remove(t)
            t.session.error("canceled", t.request.id)
        self.dbs[name] = self._entry(newdb, entry.storage, entry.path)
        self._update_server_db()

    def remove_database(self, name: str) -> None:
        entry = self.dbs.pop(name)
        for s in list(self.sessions):
            s.drop_db(entry.db)
        self.triggers = [t for t in self.triggers if t.db is not entry]
        if entry.storage is not None:
            entry.storage.close()
        self._update_server_db()

    def _update_server_db(self) -> None:
        db = self.server_db
        txn = db.begin()
        table = db.tables["Database"]
        for row in list(txn.scan("Database")):
            txn.delete("Database", row)
        for name, entry in self.dbs.items():
            row = table.new_row(new_uuid())
            row.data.update({
                "name": Datum(("" + name,)),
                "model": Datum(("standalone",)),
                "connected": Datum((True,)),
                "leader": Datum((True,)),
                "schema": Datum((ovs_json(entry.db.schema.to_json(), sort_keys=True),)),
            })
            txn.insert("Database", row)
        db.commit(txn)

    # -- sessions ----------------------------------------------------------------
    def new_session(self, send: Callable[[bytes], None], name: str = "") -> Session:
        s = Session(self, send, name)
        self.sessions.add(s)
        return s

    def _broadcast(self, entry: DbEntry, change: Change) -> None:
        cache: dict[Any, str | None] = {}
        for s in self.sessions:
            for m in s.monitors.values():
                if m.db is not entry.db:
                    continue
                key = m.signature
                if key is not None and key in cache:
                    text = cache[key]
                else:
                    upd = m.update(change)
                    text = None if upd is None else _dumps(upd)
                    if key is not None:
                        cache[key] = text
                if text is not None:
                    s.send_update(m, text, change.txn_id)

    # -- triggers and timers --------------------------------------------------------
    def run(self, now: int | None = None) -> None:
        """Retry triggers whose database changed or whose deadline passed."""
        now = self.clock_ms() if now is None else now
        for _ in range(100):
            dirty, self._dirty_dbs = self._dirty_dbs, set()
            progressed = False
            for t in list(self.triggers):
                if t not in self.triggers:
                    continue
                expired = t.timeout_ms is not None and now - t.created_ms >= t.timeout_ms
                if t.db.db.name in dirty or expired:
                    self.triggers.remove(t)
                    t.session.run_transact(t.request, t.db, t.created_ms, now)
                    progressed = True
            if not self._dirty_dbs or not progressed:
                break

    def next_deadline(self) -> int | None:
        deadlines = [t.created_ms + t.timeout_ms for t in self.triggers
                     if t.timeout_ms is not None]
        return min(deadlines) if deadlines else None

    # -- locks ---------------------------------------------------------------------
    def lock(self, session: Session, name: str, mode: str) -> LockWaiter:
        lock = self.locks.get(name)
        if lock is None:
            lock = self.locks[name] = Lock(name)
        victim = lock.waiters[0] if mode == "steal" and lock.waiters else None
        waiter = LockWaiter(session, name, mode, lock)
        if mode == "steal":
            lock.waiters.insert(0, waiter)
        else:
            lock.waiters.append(waiter)
        session.waiters[name] = waiter
        if victim is not None:
            if victim.mode == "steal":
                self._remove_waiter(victim)
            victim.session.notify("stolen", [name])
        return waiter

    def _remove_waiter(self, waiter: LockWaiter) -> Session | None:
        lock = waiter.lock
        if lock is None:
            return None
        lock.waiters.remove(waiter)
        waiter.lock = None
        if not lock.waiters:
            del self.locks[lock.name]
            return None
        return lock.waiters[0].session

    def unlock(self, waiter: LockWaiter) -> None:
        was_owner = waiter.is_owner
        new_owner = self._remove_waiter(waiter)
        waiter.session.waiters.pop(waiter.name, None)
        if new_owner is not None and was_owner:
            new_owner.notify("locked", [waiter.name])

    def close(self) -> None:
        for s in list(self.sessions):
            s.close()
        for entry in self.dbs.values():
            if entry.storage is not None:
                entry.storage.close()


class Session:
    """One client connection's protocol state."""

    def __init__(self, server: OvsdbServer, send: Callable[[bytes], None], name: str) -> None:
        self.server = server
        self._send = send
        self.name = name
        self.monitors: dict[str, Monitor] = {}
        self.waiters: dict[str, LockWaiter] = {}
        self.db_change_aware = False
        self.closed = False
        self.want_close = False
        """Set when the connection must end; the edge closes it after flushing."""
        self.on_close_request: Callable[[], None] | None = None

    # -- output ----------------------------------------------------------------------
    def send_json(self, obj: Any) -> None:
        if not self.closed:
            self._send(_dumps(obj).encode())

    def reply(self, result: Any, id_: Any) -> None:
        self.send_json({"id": id_, "result": result, "error": None})

    def error(self, error: Any, id_: Any) -> None:
        self.send_json({"id": id_, "error": error})

    def notify(self, method: str, params: list[Any]) -> None:
        self.send_json({"id": None, "method": method, "params": params})

    def send_update(self, m: Monitor, updates_text: str, txn_id: Uuid) -> None:
        if self.closed:
            return
        if m.version == 3:
            params = f'{m.id_json},"{txn_id}",{updates_text}'
        else:
            params = f"{m.id_json},{updates_text}"
        self._send(f'{{"id":null,"method":"{m.method}","params":[{params}]}}'.encode())

    # -- input -----------------------------------------------------------------------
    def receive(self, msg: Message) -> None:
        if msg.kind is MessageKind.REQUEST:
            self._request(msg)
        elif msg.kind is MessageKind.NOTIFY:
            if msg.method == "cancel":
                self._cancel(msg)
        elif msg.id != "echo":
            # Only replies to our own echo probes are expected; anything else
            # makes ovsdb-server drop the connection.
            self.want_close = True

    def _request(self, msg: Message) -> None:
        method = msg.method
        handler = _METHODS.get(method or "")
        if handler is None:
            self.error("unknown method", msg.id)
            return
        try:
            handler(self, msg)
        except OvsdbError as e:
            self.error(e.to_json(), msg.id)

    def _lookup_db(self, msg: Message) -> DbEntry:
        params = msg.params or []
        if not params or not isinstance(params[0], str):
            raise syntax_error(msg.params, f"{msg.method} request params must begin with "
                               "<db-name>")
        entry = self.server.dbs.get(params[0])
        if entry is None:
            raise syntax_error(msg.params, f"{msg.method} request specifies unknown "
                               f"database {params[0]}", tag="unknown database")
        return entry

    def _syntax_reply(self, msg: Message, details: str) -> None:
        self.error(syntax_error(msg.params, f"{msg.method}: {details}").to_json(), msg.id)

    # methods
    def m_transact(self, msg: Message) -> None:
        entry = self._lookup_db(msg)
        key = _id_key(msg.id)
        if any(t.session is self and _id_key(t.request.id) == key
               for t in self.server.triggers):
            self._syntax_reply(msg, "duplicate request ID")
            return
        now = self.server.clock_ms()
        self.run_transact(msg, entry, now, now)

    def run_transact(self, msg: Message, entry: DbEntry, created: int, now: int) -> None:
        if self.closed:
            return
        server = self.server
        try:
            outcome = execute(entry.db, msg.params, self._has_lock, now - created,
                              server.read_only)
        except Blocked as b:
            server.triggers.append(Trigger(self, entry, msg, created, b.timeout_ms))
            return
        except OvsdbError as e:
            self.reply(e.to_json(), msg.id)
            return
        results = outcome.results
        if outcome.txn is not None:
            try:
                entry.db.commit(outcome.txn, outcome.durable)
            except OvsdbError as e:
                results.append(e.to_json())
        self.reply(results, msg.id)

    def _has_lock(self, name: str) -> bool:
        w = self.waiters.get(name)
        return w is not None and w.is_owner

    def _cancel(self, msg: Message) -> None:
        params = msg.params or []
        if len(params) != 1:
            return
        key = _id_key(params[0])
        for t in list(self.server.triggers):
            if t.session is self and _id_key(t.request.id) == key:
                self.server.triggers.remove(t)
                self.error("canceled", t.request.id)

    def m_convert(self, msg: Message) -> None:
        entry = self._lookup_db(msg)
        params = msg.params or []
        if len(params) != 2:
            raise syntax_error(params, "array expected")
        schema = DatabaseSchema.from_json(params[1])
        self.server.convert_database(entry.db.name, schema)
        self.reply({}, msg.id)

    def m_get_schema(self, msg: Message) -> None:
        entry = self._lookup_db(msg)
        self.reply(entry.db.schema.to_json(), msg.id)

    def m_list_dbs(self, msg: Message) -> None:
        self.reply(sorted(self.server.dbs), msg.id)

    def m_get_server_id(self, msg: Message) -> None:
        self.reply(str(self.server.uuid), msg.id)

    def m_echo(self, msg: Message) -> None:
        self.reply(msg.params, msg.id)

    def m_set_db_change_aware(self, msg: Message) -> None:
        params = msg.params or []
        if len(params) != 1 or not isinstance(params[0], bool):
            self._syntax_reply(msg, "true or false parameter expected")
            return
        self.db_change_aware = params[0]
        self.reply({}, msg.id)

    def _monitor(self, msg: Message, version: int) -> None:
        entry = self._lookup_db(msg)
        params = msg.params or []
        if (version == 2 and len(params) != 3) or (version == 3 and len(params) != 4):
            raise syntax_error(params, "invalid parameters")
        if len(params) < 3:
            # ovsdb-server drops such a client (it reads past the array).
            self.want_close = True
            return
        monitor_id, requests = params[1], params[2]
        if not isinstance(requests, dict):
            raise syntax_error(requests, "monitor-requests must be object")
        key = _id_key(monitor_id)
        if key in self.monitors:
            raise syntax_error(monitor_id, "duplicate monitor ID")
        m = Monitor.from_json(entry.db, monitor_id, requests, version)
        found = False
        updates: dict[str, Any] | None = None
        if version == 3:
            last_id = parse_last_id(params[3])
            if last_id.int != 0:
                changes = entry.history.since(last_id)
                if changes is not None:
                    found = True
                    updates = m.update_from(changes) or {}
        if not found:
            updates = m.initial()
        m.id_json = _dumps(monitor_id)
        m.signature = _signature(m)
        self.monitors[key] = m
        if version == 3:
            self.reply([found, str(entry.db.last_txn_id), updates], msg.id)
        else:
            self.reply(updates, msg.id)

    def m_monitor(self, msg: Message) -> None:
        self._monitor(msg, 1)

    def m_monitor_cond(self, msg: Message) -> None:
        self._monitor(msg, 2)

    def m_monitor_cond_since(self, msg: Message) -> None:
        self._monitor(msg, 3)

    def m_monitor_cond_change(self, msg: Message) -> None:
        params = msg.params or []
        if len(params) != 3:
            raise syntax_error(params, "invalid parameters")
        m = self.monitors.get(_id_key(params[0]))
        if m is None:
            raise syntax_error(params[0], "unknown monitor session")
        new_key = _id_key(params[1])
        changing = new_key != _id_key(params[0])
        if changing and new_key in self.monitors:
            raise syntax_error(params[1], "duplicate monitor ID")
        update = m.change_condition(params[2])
        if changing:
            del self.monitors[_id_key(params[0])]
            m.monitor_id = params[1]
            m.id_json = _dumps(params[1])
            self.monitors[new_key] = m
        m.signature = _signature(m)
        if update is not None:
            self.send_update(m, _dumps(update), m.db.last_txn_id)
        self.reply({}, msg.id)

    def m_monitor_cancel(self, msg: Message) -> None:
        params = msg.params or []
        if len(params) != 1:
            self.error("invalid parameters", msg.id)
            return
        key = _id_key(params[0])
        if key not in self.monitors:
            self.error("unknown monitor", msg.id)
            return
        del self.monitors[key]
        self.reply({}, msg.id)

    def _lock_name(self, msg: Message) -> str:
        params = msg.params or []
        if len(params) != 1 or not isinstance(params[0], str) or not is_id(params[0]):
            raise syntax_error(msg.params, f"{msg.method} request params must be <id>")
        return params[0]

    def _lock(self, msg: Message, mode: str) -> None:
        if self.server.read_only:
            self.error("lock and unlock methods not allowed, DB server is read only.", msg.id)
            return
        name = self._lock_name(msg)
        if name in self.waiters:
            raise syntax_error(msg.params, f'must issue "unlock" before new "{msg.method}"')
        waiter = self.server.lock(self, name, mode)
        self.reply({"locked": waiter.is_owner}, msg.id)

    def m_lock(self, msg: Message) -> None:
        self._lock(msg, "lock")

    def m_steal(self, msg: Message) -> None:
        self._lock(msg, "steal")

    def m_unlock(self, msg: Message) -> None:
        if self.server.read_only:
            self.error("lock and unlock methods not allowed, DB server is read only.", msg.id)
            return
        name = self._lock_name(msg)
        waiter = self.waiters.get(name)
        if waiter is None:
            self._syntax_reply(msg, '"unlock" without "lock" or "steal"')
            return
        self.server.unlock(waiter)
        self.reply({}, msg.id)

    # -- teardown ----------------------------------------------------------------------
    def drop_db(self, db: Database, notify: bool = False) -> None:
        """Forget monitors of ``db``; with ``notify``, as after a conversion:
        change-aware clients hear "monitor_canceled", others are disconnected."""
        for key in [k for k, m in self.monitors.items() if m.db is db]:
            m = self.monitors.pop(key)
            if notify and self.db_change_aware:
                self.notify("monitor_canceled", [m.monitor_id])
        if notify and not self.db_change_aware:
            self.request_close()

    def request_close(self) -> None:
        """Ask the edge to close this connection once pending output is sent."""
        self.want_close = True
        if self.on_close_request is not None:
            self.on_close_request()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for waiter in list(self.waiters.values()):
            self.server.unlock(waiter)
        self.monitors.clear()
        self.server.triggers = [t for t in self.server.triggers if t.session is not self]
        self.server.sessions.discard(self)


_SIGNATURES: dict[Any, int] = {}


def _signature(m: Monitor) -> int | None:
    """Key under which identical unconditional monitors share serialised updates.

    A small integer, so that looking it up per monitor per commit is cheap.
    """
    parts = []
    for name, mt in sorted(m.tables.items()):
        if mt.condition is not None and mt.condition.clauses:
            return None
        parts.append((name, tuple(mt.columns.items()), mt.select))
    key = (m.version, m.db.name, tuple(parts))
    return _SIGNATURES.setdefault(key, len(_SIGNATURES))


_METHODS: dict[str, Callable[[Session, Message], None]] = {
    "transact": Session.m_transact,
    "convert": Session.m_convert,
    "get_schema": Session.m_get_schema,
    "list_dbs": Session.m_list_dbs,
    "get_server_id": Session.m_get_server_id,
    "echo": Session.m_echo,
    "set_db_change_aware": Session.m_set_db_change_aware,
    "monitor": Session.m_monitor,
    "monitor_cond": Session.m_monitor_cond,
    "monitor_cond_since": Session.m_monitor_cond_since,
    "monitor_cond_change": Session.m_monitor_cond_change,
    "monitor_cancel": Session.m_monitor_cancel,
    "lock": Session.m_lock,
    "steal": Session.m_steal,
    "unlock": Session.m_unlock,
}
"""JSON-RPC method -> handler: the whole protocol surface in one table."""


__all__ = ["DbEntry", "OvsdbServer", "Row", "Session"]
