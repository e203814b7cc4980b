"""The asyncio edge of the OVSDB server.

Connections feed bytes into a sans-IO :class:`~.jsonrpc.JsonRpcStream`;
decoded messages go to a :class:`~.server.Session`, whose output collects in
a per-connection buffer.  After each burst of input a single flush is
scheduled on the event loop: it retries triggers, makes every written log
record durable with one fsync per database (group commit), and only then
hands the buffered replies and updates to the sockets.  So no client ever
sees a reply to a transaction that is not yet on disk, and a thousand
clients committing at once share a handful of fsyncs.

Remotes are the listeners and outgoing connections of ovsdb-server:
``punix:``/``ptcp:`` listen, ``unix:``/``tcp:`` connect out (and reconnect
with back-off), and ``db:DB,TABLE,COLUMN`` names a column whose strings, or
whose referenced rows' ``target`` column, list more remotes; those are
re-read after every commit to that database.

A connection that sends garbage or a message over the size limit is closed;
only that client is affected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from .. import streams
from .data import Uuid
from .database import Change, Database
from .file import FileStorage
from .jsonrpc import DEFAULT_MAX_MESSAGE_SIZE, JsonRpcError, JsonRpcStream
from .server import OvsdbServer, Session

log = logging.getLogger("ovsdb_jsonrpc_server")
sock_log = logging.getLogger("socket_util")

_READ_SIZE = 256 * 1024
PROBE_INTERVAL = 5.0
"""Seconds of silence before an idle TCP client is probed (OVS's default)."""


def monotonic_ms() -> int:
    return int(time.monotonic() * 1000)


class Connection:
    def __init__(self, runner: ServerRunner, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, name: str) -> None:
        self.runner = runner
        self.reader = reader
        self.writer = writer
        self.name = name
        self.out = bytearray()
        self.stream = JsonRpcStream(runner.max_message_size)
        self.session: Session = runner.server.new_session(self._queue, name)
        # As ovsdb-server: TCP peers are probed when idle, Unix ones are not.
        self.probe = isinstance(writer.get_extra_info("peername"), tuple)
        self.last_rx = time.monotonic()
        self.probe_sent = False

    def _queue(self, data: bytes) -> None:
        self.out += data
        self.runner.schedule_flush()

    def take(self) -> bytes:
        data = bytes(self.out)
        self.out.clear()
        return data

    def write(self, data: bytes) -> None:
        if data and not self.writer.is_closing():
            self.writer.write(data)

    def flush(self) -> None:
        if self.out:
            self.write(self.take())

    async def serve(self) -> None:
        try:
            while True:
                try:
                    data = await self.reader.read(_READ_SIZE)
                except (ConnectionResetError, BrokenPipeError):
                    break
                if not data:
                    break
                self.last_rx = time.monotonic()
                self.probe_sent = False
                self.stream.receive_data(data)
                while True:
                    msg = self.stream.next_message()
                    if msg is None:
                        break
                    self.session.receive(msg)
                    if self.session.want_close:
                        break
                self.runner.schedule_flush()
                if self.session.want_close:
                    log.info("%s: disconnecting", self.name)
                    break
                if self.writer.transport.get_write_buffer_size() > 64 * 1024 * 1024:
                    await self.writer.drain()
        except JsonRpcError as e:
            log.warning("%s: closing connection: %s", self.name, e)
        except asyncio.CancelledError:
            pass  # request_close() of another session's doing, e.g. a conversion
        except Exception:
            log.exception("%s: internal error, closing connection", self.name)
        finally:
            self.session.close()
            # What was queued before the end still goes out, once durable.
            with contextlib.suppress(Exception):
                self.runner.flush()
                await self.runner.wait_synced()
            self.runner.connections.discard(self)
            self.flush()
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()


class ServerRunner:
    """Runs an :class:`OvsdbServer` on an asyncio loop with its remotes."""

    def __init__(self, server: OvsdbServer,
                 max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self.server = server
        self.max_message_size = max_message_size
        self.connections: set[Connection] = set()
        self.listeners: dict[str, asyncio.Server] = {}
        self.active: dict[str, asyncio.Task[None]] = {}
        self.static_remotes: list[str] = []
        self._flush_scheduled = False
        self._sync_future: asyncio.Future[float] | None = None
        self._sync_cost = 0.0
        """Recent fsync duration (ms, moving average): decides inline or threaded."""
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.on_remotes_error: Callable[[str, Exception], None] = (
            lambda r, e: log.error("%s: listen failed: %s", r, e))

    # -- flushing --------------------------------------------------------------------
    def schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Retry triggers, then sync the logs and release the replies that wait on them.

        On a slow disk the fsync runs in a worker thread while the loop goes
        on reading and executing: what is produced meanwhile waits for the
        next sync, so a burst of transactions from many clients shares one
        fsync.  When fsync is cheap it runs inline, which costs less than the
        hand-off to a thread.
        """
        self._flush_scheduled = False
        self.server.run(monotonic_ms())
        self._arm_timer()
        if self._sync_future is not None:
            return  # _synced() flushes again when the sync in flight is done
        dirty = [e.storage for e in self.server.dbs.values()
                 if isinstance(e.storage, FileStorage) and e.storage.dirty]
        if not dirty:
            for c in list(self.connections):
                c.flush()
            return
        for storage in dirty:
            storage.dirty = False
        if self._sync_cost < INLINE_SYNC_MS:
            # A fast disk: a thread hand-off would cost more than the fsync.
            try:
                self._sync_cost = _ewma(self._sync_cost, _sync_all(dirty))
            except OSError as e:
                log.error("fsync failed: %s", e)
            for c in list(self.connections):
                c.flush()
            return
        batch = [(c, c.take()) for c in self.connections if c.out]
        loop = asyncio.get_running_loop()
        self._sync_future = loop.run_in_executor(None, _sync_all, dirty)
        self._sync_future.add_done_callback(lambda f: self._synced(f, batch))

    def _synced(self, future: asyncio.Future[float], batch: list[tuple[Connection, bytes]]
                ) -> None:
        self._sync_future = None
        if future.exception() is not None:
            log.error("fsync failed: %s", future.exception())
        else:
            self._sync_cost = _ewma(self._sync_cost, future.result())
        for c, data in batch:
            c.write(data)
        self.flush()

    async def wait_synced(self) -> None:
        """Wait for the fsync in flight (compaction must not race with it)."""
        while self._sync_future is not None:
            fut = self._sync_future
            with contextlib.suppress(Exception):
                await asyncio.shield(fut)
            if self._sync_future is fut:
                # Done, but _synced() has not run yet: awaiting a finished
                # future does not yield, so yield here or spin forever.
                await asyncio.sleep(0)

    def _arm_timer(self) -> None:
        deadline = self.server.next_deadline()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if deadline is not None:
            delay = max(0.0, (deadline - monotonic_ms()) / 1000)
            self._timer = asyncio.get_running_loop().call_later(delay, self.flush)

    # -- remotes ------------------------------------------------------------------------
    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      name: str | None = None) -> None:
        peer = writer.get_extra_info("peername")
        conn = Connection(self, reader, writer, name or str(peer or "unix"))
        task = asyncio.current_task()
        if task is not None:
            def cancel() -> None:
                task.cancel()

            conn.session.on_close_request = cancel
        self.connections.add(conn)
        await conn.serve()

    async def add_remote(self, remote: str) -> None:
        if remote in self.listeners or remote in self.active:
            return
        if remote.startswith(("punix:", "ptcp:")):
            server = await streams.start_server(remote, self._client)
            self.listeners[remote] = server
            if remote.startswith("ptcp:"):
                # Worded as OVS's socket_util logs it; scripts read the port here.
                host = server.sockets[0].getsockname()[0]
                sock_log.info("%s:%s: listening on port %d", remote.split(":")[1], host,
                              streams.bound_port(server))
        elif remote.startswith(("unix:", "tcp:")):
            streams.parse_target(remote)
            task = asyncio.get_running_loop().create_task(self._connect_loop(remote))
            self.active[remote] = task
        else:
            raise ValueError(f"{remote}: unsupported remote")

    async def remove_remote(self, remote: str) -> None:
        server = self.listeners.pop(remote, None)
        if server is not None:
            await streams.close_server(server)
        task = self.active.pop(remote, None)
        if task is not None:
            task.cancel()

    async def _connect_loop(self, remote: str) -> None:
        backoff = 1.0
        while True:
            try:
                reader, writer = await streams.open_connection(remote)
            except OSError as e:
                log.info("%s: connection attempt failed (%s)", remote, e.strerror or e)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 8.0)
                continue
            backoff = 1.0
            await self._client(reader, writer, remote)
            await asyncio.sleep(backoff)

    async def probe_loop(self, interval: float = PROBE_INTERVAL) -> None:
        """Echo idle TCP clients; drop those that stay silent (OVS's inactivity probe)."""
        while True:
            await asyncio.sleep(interval / 5)
            now = time.monotonic()
            for c in list(self.connections):
                if not c.probe or now - c.last_rx < interval:
                    continue
                if not c.probe_sent:
                    c.probe_sent = True
                    c.last_rx = now
                    c.write(b'{"id":"echo","method":"echo","params":[]}')
                else:
                    log.warning("%s: no response to inactivity probe after %.0f seconds, "
                                "disconnecting", c.name, interval)
                    c.writer.close()

    def remotes(self) -> list[str]:
        return sorted(set(self.listeners) | set(self.active))

    async def set_remotes(self, wanted: list[str]) -> None:
        want = set(wanted)
        for r in list(self.listeners) + list(self.active):
            if r not in want:
                await self.remove_remote(r)
        for r in wanted:
            try:
                await self.add_remote(r)
            except (OSError, ValueError) as e:
                self.on_remotes_error(r, e)

    def configure_remotes(self, remotes: list[str]) -> None:
        """Static remotes, some possibly ``db:`` references, re-read on commits."""
        self.static_remotes = list(remotes)
        self.server.commit_hooks.append(self._db_changed)
        self._spawn(self._apply_remotes())

    def _db_changed(self, name: str, change: Change) -> None:
        if any(r.startswith("db:") for r in self.static_remotes):
            self._spawn(self._apply_remotes())

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _apply_remotes(self) -> None:
        wanted: list[str] = []
        for r in self.static_remotes:
            if r.startswith("db:"):
                try:
                    wanted.extend(self.query_db_remotes(r))
                except ValueError as e:
                    log.warning("%s", e)
            else:
                wanted.append(r)
        await self.set_remotes(wanted)

    def query_db_remotes(self, spec: str) -> list[str]:
        """Remotes named by ``db:DB,TABLE,COLUMN``, as ovsdb-server reads them."""
        parts = spec[3:].split(",")
        if len(parts) != 3:
            raise ValueError(f'"{spec}": invalid syntax')
        dbname, tname, cname = parts
        entry = self.server.dbs.get(dbname)
        if entry is None:
            raise ValueError(f"{spec}: no database named {dbname}")
        db: Database = entry.db
        table = db.tables.get(tname)
        if table is None:
            raise ValueError(f"{spec}: no table named {tname}")
        col = table.schema.columns.get(cname)
        if col is None:
            raise ValueError(f"{spec}: table {tname} has no column {cname}")
        out: list[str] = []
        key = col.type.key
        if key.type == "string" and col.type.value is None:
            for row in table.rows.values():
                out.extend(str(k) for k in row.get(cname).keys)
        elif key.type == "uuid" and key.ref_table is not None:
            ref = db.tables[key.ref_table]
            if "target" not in ref.schema.columns:
                raise ValueError(f"{spec}: referenced table {key.ref_table} has no "
                                 "target column")
            for row in table.rows.values():
                for u in row.get(cname).keys:
                    assert isinstance(u, Uuid)
                    target_row = ref.rows.get(u)
                    if target_row is not None:
                        out.extend(str(t) for t in target_row.get("target").keys)
        else:
            raise ValueError(f"{spec}: type mismatch for column {cname}")
        return out

    # -- lifecycle -------------------------------------------------------------------------
    async def close(self) -> None:
        for r in list(self.listeners) + list(self.active):
            await self.remove_remote(r)
        self.flush()
        await self.wait_synced()
        for c in list(self.connections):
            c.flush()
            c.writer.close()
        self.server.close()


INLINE_SYNC_MS = 0.5
"""Below this fsync cost the loop syncs inline; above, in a worker thread."""


def _sync_all(storages: list[FileStorage]) -> float:
    """Make every record written so far durable; returns the time taken (ms).

    Thread-safe with respect to the loop: it only calls fdatasync.
    """
    start = time.perf_counter()
    for storage in storages:
        storage.log.commit()
    return (time.perf_counter() - start) * 1000


def _ewma(avg: float, sample: float) -> float:
    return sample if avg == 0.0 else 0.8 * avg + 0.2 * sample
