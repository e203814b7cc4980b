"""pyovs-vsctl against the sans-IO OVSDB server, in memory, in one thread.

``MemoryServer`` holds an ``OvsdbServer`` with an empty Open_vSwitch
database.  ``MemoryClient`` gives the ctl session the few ``Client`` methods
it uses (``call``, ``request``, ``wait_reply``, ``next_message``,
``get_schema``, ``close``), feeding requests straight into a server session.
Where a real client would block, ``on_idle`` runs instead: a test uses it to
play another client (a concurrent change, a vswitchd bumping ``cur_cfg``),
so races are reproduced deterministically.  ``run_vsctl`` runs
``pyovs-vsctl``'s ``main`` against it and returns (status, stdout, stderr).
"""

from __future__ import annotations

import contextlib
import io
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pyovs.cli import vsctl
from pyovs.ctl import session as ctl_session
from pyovs.ovsdb.client import RpcError
from pyovs.ovsdb.database import Database
from pyovs.ovsdb.jsonrpc import JsonRpcStream, Message, MessageKind
from pyovs.ovsdb.schema import DatabaseSchema, bundled_schema_path
from pyovs.ovsdb.server import OvsdbServer

_SCHEMA = DatabaseSchema.from_file(bundled_schema_path("vswitch"))


class MemoryClient:
    """The subset of ``pyovs.ovsdb.client.Client`` the ctl session uses."""

    def __init__(self, server: MemoryServer) -> None:
        self.server = server
        self._stream = JsonRpcStream()
        self._inbox: deque[Message] = deque()
        self.session = server.ovsdb.new_session(self._receive)
        self._next_id = 0
        self.sent: list[Message] = []

    def _receive(self, data: bytes) -> None:
        self._stream.receive_data(data)
        while (msg := self._stream.next_message()) is not None:
            self._inbox.append(msg)

    def request(self, method: str, params: list[Any]) -> int:
        if method == "transact" and self.server.before_transact is not None:
            hook, self.server.before_transact = self.server.before_transact, None
            hook(self.server)
        request_id = self._next_id
        self._next_id += 1
        msg = Message.request(method, params, request_id)
        self.sent.append(msg)
        self.session.receive(msg)
        self.server.ovsdb.run()
        return request_id

    def wait_reply(self, request_id: int, timeout: float | None = None) -> Message:
        for msg in list(self._inbox):
            if msg.kind in (MessageKind.REPLY, MessageKind.ERROR) and msg.id == request_id:
                self._inbox.remove(msg)
                return msg
        raise AssertionError(f"no reply to request {request_id}")

    def call(self, method: str, params: list[Any], timeout: float | None = None) -> Any:
        reply = self.wait_reply(self.request(method, params))
        if reply.kind is MessageKind.ERROR:
            raise RpcError(method, reply.error)
        return reply.result

    def get_schema(self, database: str) -> Any:
        return self.call("get_schema", [database])

    def next_message(self, timeout: float | None = None) -> Message | None:
        while True:
            for msg in list(self._inbox):
                if msg.kind not in (MessageKind.REPLY, MessageKind.ERROR):
                    self._inbox.remove(msg)
                    return msg
            if timeout is not None:
                raise TimeoutError("nothing to read")
            if self.server.hung_up:
                return None
            idle = self.server.on_idle
            if idle is None or not idle(self.server):
                raise AssertionError("the tool would block forever")

    def close(self) -> None:
        self.server.ovsdb.sessions.discard(self.session)


class MemoryServer:
    """An in-memory Open_vSwitch database served by pyovs's sans-IO server."""

    def __init__(self) -> None:
        self.ovsdb = OvsdbServer()
        self.db = Database(_SCHEMA)
        self.ovsdb.add_database(self.db)
        self.before_transact: Callable[[MemoryServer], None] | None = None
        """Runs once, just before the tool's next ``transact`` reaches the server."""
        self.on_idle: Callable[[MemoryServer], bool] | None = None
        """Runs where the tool would block; returns False if nothing will happen."""
        self.hung_up = False
        """The server has closed every connection: reads return end of file."""
        self.clients: list[MemoryClient] = []
        self._admin = MemoryClient(self)

    def connect(self, target: str, **_: Any) -> MemoryClient:
        client = MemoryClient(self)
        self.clients.append(client)
        return client

    def transact(self, *ops: Any) -> Any:
        """Run a transaction as another client; its result array."""
        return self._admin.call("transact", ["Open_vSwitch", *ops])

    def select(self, table: str, *columns: str) -> list[dict[str, Any]]:
        op: dict[str, Any] = {"op": "select", "table": table, "where": []}
        if columns:
            op["columns"] = list(columns)
        rows: list[dict[str, Any]] = self.transact(op)[0]["rows"]
        return rows

    def names(self, table: str) -> list[str]:
        return sorted(r["name"] for r in self.select(table, "name"))


@contextlib.contextmanager
def memory_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryServer]:
    server = MemoryServer()
    monkeypatch.setattr(ctl_session, "connect", server.connect)
    yield server


def run_vsctl(*args: str, wait: bool = False) -> tuple[int, str, str]:
    """Run pyovs-vsctl's main; (exit status, stdout, stderr)."""
    argv = ["pyovs-vsctl", "--db=unix:memory"]
    if not wait:
        argv.append("--no-wait")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = vsctl.main([*argv, *args])
        except SystemExit as e:
            status = int(e.code or 0)
    return status, out.getvalue(), err.getvalue()
