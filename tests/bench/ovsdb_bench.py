"""OVSDB workloads, timed the same way against pyovsdb-server and ovsdb-server.

Each workload talks to a server started by ``tests.peers.DbServer`` (through
its command line, on a fresh database in a private directory) and returns plain
figures; ``run.py`` decides how often to repeat them and prints the table.

The workloads
-------------
* ``small_tx_run``: N clients each commit ``ovs-vsctl add-port``-sized
  transactions back to back for a fixed time.  The transaction is the one
  ``ovs-vsctl add-port BR P`` sends (seen with ``-vjsonrpc:dbg``): ``wait``
  on ``Open_vSwitch.bridges`` and on the bridge, insert an ``Interface`` and a
  ``Port``, add the port to ``Bridge.ports``, ``next_cfg += 1``, ``select
  next_cfg`` and a ``comment``.  Two deliberate differences keep every
  transaction the same size: the port is added with a ``mutate`` instead of an
  ``update`` carrying the whole ``ports`` set, and the wait on the bridge
  compares its ``name`` instead of its growing ``ports``.  A client stops
  after 1,000 transactions even if time is left, as both servers slow down
  when a bridge holds thousands of ports.  Every client gets a
  fresh bridge per run, removed with its ports after the run, so every run
  starts from the same database.
* ``vsctl_run``: the real ``ovs-vsctl --no-wait add-port`` end to end: a
  process start, a schema download, a monitor of the tables it needs (all
  Ports and Interfaces) and one transaction.
* ``fanout_run``: many clients hold ``monitor_cond`` (or
  ``monitor_cond_since``) on Bridge/Port/Interface, all columns; one writer
  commits M add-port transactions one after the other (each sent when the
  previous reply arrives); the figure is the time until every monitor has
  seen all M new ports.
* ``bulk_run``: one transaction inserting 10,000 rows that are reachable
  from the root (5,000 Interfaces, the 5,000 Ports holding them, and the
  bridge's ``ports`` mutated to hold those Ports), timed to its reply and
  to the arrival of the whole update at a monitor, with the server's RSS.

The client
----------
The load comes from one Python process: one ``selectors`` loop over
non-blocking unix sockets.  Requests are formatted from a pre-serialised
template (only the id and the port name vary).  The bytes of a connection are
decoded only when what has arrived so far ends in ``}`` -- a buffer of
complete JSON-RPC messages always does -- so a 2 MB update is decoded once,
not once per read.  Every wait has a deadline and raises ``BenchError`` when
it passes, so a stuck server fails the workload instead of hanging the run.

Monitors are counted in Port rows, not in update messages: ovsdb-server
merges the changes of several commits into one update while a client still
has unsent output, so "one update per transaction" does not hold under load.

On a machine with few CPUs the client competes with the server for them;
the figures of the faster server are the more understated.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import selectors
import shutil
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests import peers
from tests.peers import DbServer, ServerError

DB = "Open_vSwitch"
MONITORED = ("Bridge", "Port", "Interface")
UPDATE_METHODS = {"update": 1, "update2": 1, "update3": 2}  # -> index of table-updates
ADD_PORT_OPS = 8

_READ_SIZE = 256 * 1024
_WS = " \t\r\n"
_PORT_MARK = "@@PORT@@"


class BenchError(RuntimeError):
    """A workload failed: a timeout, an error reply or a closed connection."""


# ---------------------------------------------------------------------------
# Servers


class BenchServer(DbServer):
    """A ``DbServer`` that can serve a pyovs database created by ``ovsdb-tool``.

    Until ``pyovsdb-tool`` works, its ``create`` falls back to the real
    ``ovsdb-tool``: both write the same standalone file, so pyovs serves the
    same database either way.  ``tool_note`` says when that happened.
    """

    tool_note: str | None = None

    def __enter__(self) -> BenchServer:
        super().__enter__()
        return self

    def create_db(self) -> None:
        try:
            super().create_db()
        except (ServerError, OSError) as e:
            if self.kind != "pyovs" or peers.real_available() is not None:
                raise
            proc = subprocess.run(
                [str(peers.REAL_TOOL), "create", str(self.db_path), str(self.schema_path)],
                env=self.env, cwd=self.dir, capture_output=True, text=True, timeout=30)
            if proc.returncode != 0:
                raise ServerError(f"ovsdb-tool create failed: {proc.stderr.strip()}") from e
            self._created = True
            first = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
            self.tool_note = f"pyovsdb-tool create failed ({first}); used ovsdb-tool create"

    def rss_kib(self) -> int:
        if self.pid is None:
            raise BenchError("server is not running")
        return rss_kib(self.pid)


def kind_unavailable(kind: str) -> str | None:
    """None if servers of ``kind`` can run here, else why not.

    Unlike ``peers.kind_unavailable`` this does not need ``pyovsdb-tool``,
    for which ``BenchServer`` has a fallback.
    """
    if kind == "real" or peers.real_available() is not None:
        return peers.kind_unavailable(kind)
    if importlib.util.find_spec("pyovs.ovsdb.server_main") is None:
        return "pyovs's OVSDB server is not written yet (pyovs.ovsdb.server_main missing)"
    if not os.access(peers.PYOVS_SERVER, os.X_OK):
        return f"{peers.PYOVS_SERVER} missing: reinstall the venv (pip install -e .)"
    return None


def rss_kib(pid: int) -> int:
    """VmRSS of ``pid`` in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchError(f"no VmRSS for pid {pid}")


def fdatasync_ms(directory: str, count: int = 20) -> float:
    """Median time of a 4 kB append + ``fdatasync`` in ``directory``.

    pyovsdb-server syncs each group of commits before replying and the real
    ovsdb-server does not, so this bounds pyovs's single-client latency.
    """
    path = os.path.join(directory, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    times = []
    try:
        for _ in range(count):
            os.write(fd, b"x" * 4096)
            start = time.perf_counter()
            os.fdatasync(fd)
            times.append(time.perf_counter() - start)
    finally:
        os.close(fd)
        os.unlink(path)
    return sorted(times)[len(times) // 2] * 1000


# ---------------------------------------------------------------------------
# Non-blocking client


class Loop:
    """A selector loop over ``Conn``s; ``run_until`` is the only way to wait."""

    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()
        self.conns: list[Conn] = []

    def __enter__(self) -> Loop:
        return self

    def __exit__(self, *exc: object) -> None:
        for conn in self.conns:
            conn.sock.close()
        self.sel.close()

    def register(self, conn: Conn) -> None:
        self.sel.register(conn.sock, selectors.EVENT_READ, conn)
        self.conns.append(conn)

    def want_write(self, conn: Conn, on: bool) -> None:
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if on else 0)
        self.sel.modify(conn.sock, events, conn)

    def run_until(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.perf_counter() + timeout
        while not done():
            left = deadline - time.perf_counter()
            if left <= 0:
                raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")
            for key, mask in self.sel.select(min(left, 0.5)):
                conn: Conn = key.data
                if mask & selectors.EVENT_WRITE:
                    conn.on_writable()
                if mask & selectors.EVENT_READ:
                    conn.on_readable()


class Conn:
    """One JSON-RPC connection served by a ``Loop``.

    ``handler`` receives every reply and notification; the server's ``echo``
    requests are answered here.  After ``start_counting(token)`` the bytes are
    no longer decoded: ``count`` only adds up the occurrences of ``token`` (a
    C-speed ``bytes.count``), so a client watching 50 monitors keeps up with
    the server; ``counted_messages()`` decodes the stored bytes afterwards.
    """

    def __init__(self, loop: Loop, path: str,
                 handler: Callable[[dict[str, Any]], None]) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(5.0)
        try:
            sock.connect(path)
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self.sock = sock
        self.loop = loop
        self.handler = handler
        self.messages = 0
        self.count = 0
        self.on_count: Callable[[int], None] | None = None
        self._token: bytes | None = None
        self._tail = b""
        self._counted: list[bytes] = []
        self._chunks: list[bytes] = []
        self._out = bytearray()
        self._decode = json.JSONDecoder().raw_decode
        loop.register(self)

    def send(self, data: bytes) -> None:
        if self._out:
            self._out += data
            return
        try:
            n = self.sock.send(data)
        except BlockingIOError:
            n = 0
        except OSError as e:
            raise BenchError(f"send failed: {e}") from e
        if n < len(data):
            self._out += data[n:]
            self.loop.want_write(self, True)

    def on_writable(self) -> None:
        try:
            n = self.sock.send(self._out)
        except BlockingIOError:
            return
        except OSError as e:
            raise BenchError(f"send failed: {e}") from e
        del self._out[:n]
        if not self._out:
            self.loop.want_write(self, False)

    def start_counting(self, token: bytes, on_count: Callable[[int], None]) -> None:
        """From now on count ``token`` instead of decoding (see the class)."""
        self._token = token
        self.on_count = on_count

    def on_readable(self) -> None:
        try:
            data = self.sock.recv(_READ_SIZE)
        except BlockingIOError:
            return
        except ConnectionResetError:
            data = b""
        if not data:
            raise BenchError("the server closed the connection")
        if self._token is not None:
            self._count(data)
            return
        self._chunks.append(data)
        if data.rstrip(b" \t\r\n")[-1:] != b"}":
            return  # cannot be the end of a message
        text = b"".join(self._chunks).decode()
        self._chunks = []
        pos, end = 0, len(text)
        while True:
            while pos < end and text[pos] in _WS:
                pos += 1
            if pos == end:
                return
            try:
                msg, pos = self._decode(text, pos)
            except json.JSONDecodeError:
                self._chunks = [text[pos:].encode()]
                return
            self.messages += 1
            if msg.get("method") == "echo" and msg.get("id") is not None:
                self.send(json.dumps({"id": msg["id"], "result": msg.get("params"),
                                      "error": None}).encode())
            else:
                self.handler(msg)
            if self._token is not None:  # the handler switched to counting
                if pos < end:
                    self._count(text[pos:].encode())
                return

    def _count(self, data: bytes) -> None:
        assert self._token is not None
        # The tail is shorter than the token, so only a token split across
        # two reads can be found in it.
        self.count += (self._tail + data).count(self._token)
        self._tail = data[1 - len(self._token):]
        self._counted.append(data)
        if self.on_count is not None:
            self.on_count(self.count)

    def counted_messages(self) -> list[dict[str, Any]]:
        """The messages received since ``start_counting``, decoded."""
        text = b"".join(self._counted).decode()
        out: list[dict[str, Any]] = []
        pos, end = 0, len(text)
        while True:
            while pos < end and text[pos] in _WS:
                pos += 1
            if pos == end:
                return out
            try:
                msg, pos = self._decode(text, pos)
            except json.JSONDecodeError as e:
                raise BenchError(f"undecodable bytes after {len(out)} messages: {e}") from e
            out.append(msg)


def check_reply(msg: dict[str, Any], what: str) -> list[Any]:
    """The results of a transact reply; ``BenchError`` if anything failed."""
    if msg.get("error") is not None:
        raise BenchError(f"{what}: {json.dumps(msg['error'])[:300]}")
    result = msg.get("result")
    if not isinstance(result, list):
        raise BenchError(f"{what}: unexpected reply {json.dumps(msg)[:300]}")
    for r in result:
        if isinstance(r, dict) and "error" in r:
            raise BenchError(f"{what}: {json.dumps(r)[:300]}")
    return result


# ---------------------------------------------------------------------------
# The database as the benchmark sees it


def _where(uuid: str) -> list[Any]:
    return [["_uuid", "==", ["uuid", uuid]]]


@dataclass
class VSwitchDb:
    """A started server, its Open_vSwitch row and the bridges made so far."""

    server: BenchServer
    ovs_uuid: str
    bridges: dict[str, str]  # name -> uuid

    @property
    def path(self) -> str:
        return str(self.server.sock_path)

    def transact(self, ops: Sequence[dict[str, Any]], what: str,
                 timeout: float = 60.0) -> list[Any]:
        with self.server.client(timeout) as c:
            return check_reply(c.call("transact", [DB, *ops], timeout=timeout), what)

    def add_bridges(self, names: Sequence[str]) -> None:
        ops: list[dict[str, Any]] = [
            {"op": "insert", "table": "Bridge", "uuid-name": f"br{i}", "row": {"name": name}}
            for i, name in enumerate(names)]
        ops.append({"op": "mutate", "table": "Open_vSwitch", "where": _where(self.ovs_uuid),
                    "mutations": [["bridges", "insert",
                                   ["set", [["named-uuid", f"br{i}"]
                                            for i in range(len(names))]]]]})
        result = self.transact(ops, "add bridges")
        for i, name in enumerate(names):
            self.bridges[name] = result[i]["uuid"][1]

    def remove_bridges(self, names: Sequence[str]) -> None:
        """Drop the bridges from the root; their Ports and Interfaces go with them."""
        uuids = [["uuid", self.bridges.pop(name)] for name in names]
        self.transact([{"op": "mutate", "table": "Open_vSwitch", "where": _where(self.ovs_uuid),
                        "mutations": [["bridges", "delete", ["set", uuids]]]}],
                      "remove bridges")


def init_db(server: BenchServer) -> VSwitchDb:
    """What ``ovs-vsctl init`` does: create the Open_vSwitch row."""
    with server.client(30.0) as c:
        reply = c.call("transact", [DB, {"op": "insert", "table": "Open_vSwitch", "row": {}}],
                       timeout=30.0)
    result = check_reply(reply, "insert Open_vSwitch")
    return VSwitchDb(server, result[0]["uuid"][1], {})


class AddPortTxn:
    """The add-port transaction for one bridge, serialised once.

    ``request(id, name)`` splices the id and the port name into the bytes.
    """

    def __init__(self, vdb: VSwitchDb, bridge: str, durable: bool = False) -> None:
        ovs, br = vdb.ovs_uuid, vdb.bridges[bridge]
        all_bridges = ["set", [["uuid", u] for u in vdb.bridges.values()]]
        ops: list[dict[str, Any]] = [
            {"op": "wait", "table": "Open_vSwitch", "where": _where(ovs), "columns": ["bridges"],
             "until": "==", "rows": [{"bridges": all_bridges}], "timeout": 0},
            {"op": "wait", "table": "Bridge", "where": _where(br), "columns": ["name"],
             "until": "==", "rows": [{"name": bridge}], "timeout": 0},
            {"op": "insert", "table": "Interface", "uuid-name": "iface",
             "row": {"name": _PORT_MARK}},
            {"op": "insert", "table": "Port", "uuid-name": "port",
             "row": {"name": _PORT_MARK, "interfaces": ["named-uuid", "iface"]}},
            {"op": "mutate", "table": "Bridge", "where": _where(br),
             "mutations": [["ports", "insert", ["named-uuid", "port"]]]},
            {"op": "mutate", "table": "Open_vSwitch", "where": _where(ovs),
             "mutations": [["next_cfg", "+=", 1]]},
            {"op": "select", "table": "Open_vSwitch", "where": _where(ovs),
             "columns": ["next_cfg"]},
            {"op": "comment", "comment": f"ovs-vsctl: ovs-vsctl add-port {bridge} {_PORT_MARK}"},
        ]
        assert len(ops) == ADD_PORT_OPS
        if durable:
            # Asks the real server to fsync before replying, as pyovs always does.
            ops.append({"op": "commit", "durable": True})
        self._parts = json.dumps([DB, *ops], separators=(",", ":")).split(_PORT_MARK)

    def request(self, msg_id: int, port: str) -> bytes:
        params = port.join(self._parts)
        return f'{{"id":{msg_id},"method":"transact","params":{params}}}'.encode()


# ---------------------------------------------------------------------------
# Small transactions


@dataclass
class TxRun:
    tx_per_s: float
    completed: int
    seconds: float
    latency_ms: float  # median round trip of one transaction


class _TxClient:
    """Commits add-port transactions until ``stop_at``, ``depth`` in flight."""

    def __init__(self, loop: Loop, vdb: VSwitchDb, bridge: str, durable: bool = False) -> None:
        self.txn = AddPortTxn(vdb, bridge, durable)
        self.prefix = bridge + "p"
        self.conn = Conn(loop, vdb.path, self.on_message)
        self.sent = 0
        self.done = 0
        self.last = 0.0
        self.stop_at = 0.0
        self.cap = 0
        self.in_flight: dict[int, float] = {}
        self.latencies: list[float] = []

    def send_next(self) -> None:
        self.sent += 1
        n = self.sent
        self.in_flight[n] = time.perf_counter()
        self.conn.send(self.txn.request(n, f"{self.prefix}{n}"))

    def on_message(self, msg: dict[str, Any]) -> None:
        now = time.perf_counter()
        sent_at = self.in_flight.pop(msg.get("id"), None)  # type: ignore[arg-type]
        if sent_at is None:
            raise BenchError(f"unexpected message: {json.dumps(msg)[:200]}")
        check_reply(msg, "add-port transaction")
        self.latencies.append(now - sent_at)
        self.done += 1
        self.last = now
        if now < self.stop_at and self.sent < self.cap:
            self.send_next()


def small_tx_run(vdb: VSwitchDb, tag: str, clients: int, depth: int, seconds: float,
                 cap: int = 1000, timeout: float = 60.0, durable: bool = False) -> TxRun:
    """``clients`` connections commit add-port transactions for ``seconds``.

    A client stops early after ``cap`` transactions, so that the bridges grow
    to similar sizes on a fast and on a slow server.
    """
    names = [f"{tag}c{k}" for k in range(clients)]
    vdb.add_bridges(names)
    with Loop() as loop:
        workers = [_TxClient(loop, vdb, name, durable) for name in names]
        start = time.perf_counter()
        for w in workers:
            w.stop_at = start + seconds
            w.cap = cap
            for _ in range(depth):
                w.send_next()
        loop.run_until(lambda: not any(w.in_flight for w in workers),
                       seconds + timeout, "add-port replies")
    vdb.remove_bridges(names)
    done = sum(w.done for w in workers)
    elapsed = max(w.last for w in workers) - start
    lat = sorted(x for w in workers for x in w.latencies)
    return TxRun(done / elapsed, done, elapsed, lat[len(lat) // 2] * 1000)


# ---------------------------------------------------------------------------
# Monitors


_schema_cache: dict[str, Any] = {}


def _monitor_requests() -> dict[str, Any]:
    """Every column of the monitored tables, in the form the OVS IDL sends."""
    if "vswitch" not in _schema_cache:
        _schema_cache["vswitch"] = json.loads(peers.SCHEMAS["vswitch"].read_text())
    tables = _schema_cache["vswitch"]["tables"]
    return {t: [{"columns": sorted(tables[t]["columns"])}] for t in MONITORED}


class _Watcher:
    """A monitoring client; after its reply it counts the rows inserted.

    Each add-port transaction inserts two rows (a Port and an Interface), each
    appearing as one ``"insert"`` in update2/update3 notifications, and
    nothing else the benchmark writes contains that word.  ``verify``
    re-counts exactly, from the decoded notifications, after the clock stopped.
    """

    INSERT = b'"insert"'

    def __init__(self, loop: Loop, path: str, method: str, index: int) -> None:
        self.conn = Conn(loop, path, self.on_message)
        self.method = method
        self.ready = False
        self.target = -1  # "insert"s to wait for
        self.done_at = 0.0
        params: list[Any] = [DB, ["bench", index], _monitor_requests()]
        if method == "monitor_cond_since":
            params.append(peers.ZERO_UUID)
        self.conn.send(json.dumps({"id": "mon", "method": method, "params": params}).encode())

    def on_message(self, msg: dict[str, Any]) -> None:
        if msg.get("id") != "mon" or msg.get("method") is not None:
            raise BenchError(f"unexpected message before the monitor reply: "
                             f"{json.dumps(msg)[:200]}")
        if msg.get("error") is not None:
            raise BenchError(f"{self.method}: {json.dumps(msg['error'])[:300]}")
        self.ready = True
        self.conn.start_counting(self.INSERT, self._counted)

    def _counted(self, count: int) -> None:
        if count >= self.target >= 0 and not self.done_at:
            self.done_at = time.perf_counter()

    def verify(self, ports: int) -> int:
        """Check that exactly ``ports`` Ports were inserted; the notification count."""
        seen = 0
        messages = self.conn.counted_messages()
        for msg in messages:
            where = UPDATE_METHODS.get(msg.get("method"))  # type: ignore[arg-type]
            if where is None:
                raise BenchError(f"{self.method}: unexpected message {json.dumps(msg)[:200]}")
            for row in msg["params"][where].get("Port", {}).values():
                seen += "insert" in row or ("new" in row and "old" not in row)
        if seen != ports:
            raise BenchError(f"{self.method}: a monitor saw {seen} new Ports, expected {ports}")
        return len(messages)


def _watchers(loop: Loop, vdb: VSwitchDb, method: str, count: int,
              timeout: float) -> list[_Watcher]:
    watchers = [_Watcher(loop, vdb.path, method, i) for i in range(count)]
    loop.run_until(lambda: all(w.ready for w in watchers), timeout, f"{method} replies")
    return watchers


@dataclass
class FanoutRun:
    deliver_s: float  # first transaction sent -> every monitor has every new port
    writer_s: float  # first transaction sent -> last transaction's reply
    deliveries_per_s: float  # (monitors x transactions) / deliver_s
    messages: int  # update notifications received in all (fewer when merged)


class _Writer:
    """Commits ``count`` add-port transactions, ``window`` of them in flight."""

    def __init__(self, loop: Loop, vdb: VSwitchDb, bridge: str, count: int,
                 window: int) -> None:
        self.txn = AddPortTxn(vdb, bridge)
        self.prefix = bridge + "w"
        self.count = count
        self.window = window
        self.sent = 0
        self.replies = 0
        self.done_at = 0.0
        self.conn = Conn(loop, vdb.path, self.on_message)

    def start(self) -> None:
        for _ in range(min(self.window, self.count)):
            self.send_next()

    def send_next(self) -> None:
        self.sent += 1
        self.conn.send(self.txn.request(self.sent, f"{self.prefix}{self.sent}"))

    def on_message(self, msg: dict[str, Any]) -> None:
        if not isinstance(msg.get("id"), int) or msg.get("method") is not None:
            raise BenchError(f"unexpected message: {json.dumps(msg)[:200]}")
        check_reply(msg, "writer transaction")
        self.replies += 1
        if self.sent < self.count:
            self.send_next()
        elif self.replies == self.count:
            self.done_at = time.perf_counter()


def fanout_run(vdb: VSwitchDb, tag: str, method: str, monitors: int, txns: int,
               window: int, timeout: float = 120.0) -> FanoutRun:
    """``monitors`` clients watch one writer commit ``txns`` add-port transactions."""
    vdb.add_bridges([tag])
    with Loop() as loop:
        watchers = _watchers(loop, vdb, method, monitors, timeout)
        for w in watchers:
            w.target = 2 * txns  # a Port and an Interface per transaction
        writer = _Writer(loop, vdb, tag, txns, window)
        start = time.perf_counter()
        writer.start()
        loop.run_until(lambda: bool(writer.done_at) and all(w.done_at for w in watchers),
                       timeout, f"{monitors} monitors to see {txns} transactions")
        messages = sum(w.verify(txns) for w in watchers)
    vdb.remove_bridges([tag])
    deliver = max(w.done_at for w in watchers) - start
    return FanoutRun(deliver, writer.done_at - start, monitors * txns / deliver, messages)


# ---------------------------------------------------------------------------
# Bulk insert


@dataclass
class BulkRun:
    reply_s: float  # transaction sent -> its reply
    monitor_s: float  # transaction sent -> the whole update at a monitor
    rss_idle_kib: int  # the fresh server, one monitor connected
    rss_after_kib: int  # after the bulk insert


def bulk_request(vdb: VSwitchDb, bridge: str, rows: int) -> bytes:
    """``rows`` // 2 Interfaces and as many Ports holding them, all on ``bridge``."""
    ports = rows // 2
    ops: list[dict[str, Any]] = []
    for i in range(ports):
        name = f"{bridge}-{i}"
        ops.append({"op": "insert", "table": "Interface", "uuid-name": f"i{i}",
                    "row": {"name": name, "type": "internal"}})
        ops.append({"op": "insert", "table": "Port", "uuid-name": f"p{i}",
                    "row": {"name": name, "interfaces": ["named-uuid", f"i{i}"],
                            "external_ids": ["map", [["bench", str(i)]]]}})
    ops.append({"op": "mutate", "table": "Bridge", "where": _where(vdb.bridges[bridge]),
                "mutations": [["ports", "insert",
                               ["set", [["named-uuid", f"p{i}"] for i in range(ports)]]]]})
    return json.dumps({"id": "bulk", "method": "transact", "params": [DB, *ops]}).encode()


def bulk_run(kind: str, rows: int, timeout: float = 120.0,
             tmp_dir: str | None = None) -> tuple[BulkRun, str | None]:
    """A fresh server; one transaction of ``rows`` rows.  Also the tool note."""
    with BenchServer(kind, tmp_dir=tmp_dir) as server:
        vdb = init_db(server)
        vdb.add_bridges(["bulk"])
        data = bulk_request(vdb, "bulk", rows)
        with Loop() as loop:
            [watcher] = _watchers(loop, vdb, "monitor_cond", 1, timeout)
            watcher.target = rows // 2 * 2
            rss_idle = server.rss_kib()
            replied: list[float] = []

            def on_reply(msg: dict[str, Any]) -> None:
                check_reply(msg, "bulk insert")
                replied.append(time.perf_counter())

            writer = Conn(loop, vdb.path, on_reply)
            start = time.perf_counter()
            writer.send(data)
            loop.run_until(lambda: bool(replied) and bool(watcher.done_at), timeout,
                           f"the {rows}-row transaction")
            rss_after = server.rss_kib()
            watcher.verify(rows // 2)
        return (BulkRun(replied[0] - start, watcher.done_at - start, rss_idle, rss_after),
                server.tool_note)


# ---------------------------------------------------------------------------
# ovs-vsctl end to end


def vsctl_run(vdb: VSwitchDb, tag: str, count: int, timeout: float = 30.0) -> list[float]:
    """Seconds taken by each of ``count`` ``ovs-vsctl --no-wait add-port``."""
    vdb.add_bridges([tag])
    times = []
    for i in range(count):
        argv = [str(peers.REAL_VSCTL), f"--db={vdb.server.remote}", "--no-wait",
                f"--timeout={int(timeout)}", "add-port", tag, f"{tag}v{i}"]
        start = time.perf_counter()
        proc = vdb.server.run_tool(argv, timeout=timeout + 5)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise BenchError(f"ovs-vsctl add-port exited {proc.returncode}: "
                             f"{proc.stderr.strip()[:300]}")
    vdb.remove_bridges([tag])
    return times


def process_floor(count: int) -> list[float]:
    """Seconds taken by ``ovs-vsctl --version``: starting the program, no database."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        subprocess.run([str(peers.REAL_VSCTL), "--version"], capture_output=True,
                       timeout=10, check=True)
        times.append(time.perf_counter() - start)
    return times


# ---------------------------------------------------------------------------
# Profiling the pyovs server with py-spy


def py_spy_path() -> str | None:
    local = peers.VENV_BIN / "py-spy"
    return str(local) if os.access(local, os.X_OK) else shutil.which("py-spy")


@contextlib.contextmanager
def py_spy_record(pid: int, seconds: float, out: Path) -> Iterator[None]:
    """Sample ``pid`` with py-spy for ``seconds`` while the body runs."""
    exe = py_spy_path()
    if exe is None:
        raise BenchError("py-spy not found: .venv/bin/pip install py-spy")
    proc = subprocess.Popen(
        [exe, "record", "--pid", str(pid), "--duration", str(max(1, round(seconds))),
         "--rate", "250", "--format", "raw", "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        time.sleep(0.3)  # let it attach before the load starts
        yield
        _, err = proc.communicate(timeout=seconds + 30)
        if proc.returncode != 0 or not out.exists():
            raise BenchError(f"py-spy failed ({proc.returncode}): {err.decode()[-300:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


_FRAME_RE = re.compile(r"^(.*) \((.*?)(?::\d+)?\)$")


def _frame_name(frame: str) -> str:
    m = _FRAME_RE.match(frame.strip())
    if not m:
        return frame.strip()
    func, path = m.groups()
    short = path.split("/src/", 1)[-1].split("/lib/python3", 1)[-1]
    return f"{func} ({short})"


def summarize_profile(path: Path) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """(samples, top by self samples, top by inclusive samples) of a py-spy raw file."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";") if not f.startswith("process ")]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    return total, own.most_common(), inclusive.most_common()
