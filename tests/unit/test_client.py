"""ovsdb.client and pyovsdb-client against an in-memory fake server.

The fake server is a thread that answers ``list_dbs``, ``get_schema``,
``transact`` (through pyovs's own transaction engine), ``echo`` and
``set_db_change_aware`` on a Unix socket in a temporary directory; tests can
script extra behaviour (notifications, echo probes, hanging up).  The real
server is the interop suite's business.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyovs.cli import dbclient
from pyovs.ovsdb.client import ConnectionClosed, RpcError, connect
from pyovs.ovsdb.database import Database
from pyovs.ovsdb.execution import transact
from pyovs.ovsdb.jsonrpc import JsonRpcStream, Message, MessageKind
from pyovs.ovsdb.schema import DatabaseSchema, bundled_schema_path

Handler = Callable[["FakeServer", socket.socket, Message], bool]


class FakeServer:
    """A tiny OVSDB server on ``unix:<dir>/db.sock`` (one thread per connection)."""

    def __init__(self, directory: Path, extra: Handler | None = None) -> None:
        self.path = str(directory / "db.sock")
        self.schema_json = json.loads(bundled_schema_path("vswitch").read_text())
        self.db = Database(DatabaseSchema.from_json(self.schema_json))
        self.extra = extra
        self.lock = threading.Lock()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(8)
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def target(self) -> str:
        return f"unix:{self.path}"

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def send(self, conn: socket.socket, msg: Message) -> None:
        conn.sendall(JsonRpcStream().send(msg))

    def _serve(self, conn: socket.socket) -> None:
        stream = JsonRpcStream()
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                stream.receive_data(data)
                while (msg := stream.next_message()) is not None:
                    if self.extra is not None and self.extra(self, conn, msg):
                        continue
                    if msg.kind is MessageKind.REQUEST:
                        self.send(conn, self._answer(msg))

    def _answer(self, msg: Message) -> Message:
        p = msg.params or []
        if msg.method == "list_dbs":
            return Message.reply(["Open_vSwitch", "_Server"], msg.id)
        if msg.method == "get_schema":
            if p != ["Open_vSwitch"]:
                return Message.error_reply({"error": "unknown database"}, msg.id)
            return Message.reply(self.schema_json, msg.id)
        if msg.method == "transact":
            with self.lock:
                return Message.reply(transact(self.db, p), msg.id)
        if msg.method in ("echo", "set_db_change_aware"):
            return Message.reply(p if msg.method == "echo" else {}, msg.id)
        return Message.error_reply({"error": "unknown method"}, msg.id)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[FakeServer]:
    s = FakeServer(tmp_path)
    try:
        yield s
    finally:
        s.close()


def fill(server: FakeServer) -> None:
    with connect(server.target) as c:
        result = c.transact(
            "Open_vSwitch",
            {"op": "insert", "table": "Open_vSwitch", "row": {"bridges": ["named-uuid", "b"]}},
            {"op": "insert", "table": "Bridge", "uuid-name": "b",
             "row": {"name": "br0", "external_ids": ["map", [["a", "b c"], ["k", "v"]]]}},
            {"op": "insert", "table": "Bridge", "uuid-name": "c", "row": {"name": "a-br"}},
            {"op": "mutate", "table": "Open_vSwitch", "where": [],
             "mutations": [["bridges", "insert", ["named-uuid", "c"]]]})
        assert all("error" not in r for r in result)


# --- the library -----------------------------------------------------------------

def test_call_returns_the_result_and_raises_error_replies(server: FakeServer) -> None:
    with connect(server.target) as c:
        assert c.list_dbs() == ["Open_vSwitch", "_Server"]
        assert c.echo("x", 1) == ["x", 1]
        with pytest.raises(RpcError) as info:
            c.get_schema("Nope")
        assert info.value.error == {"error": "unknown database"}
        assert c.transact("Open_vSwitch", {"op": "select", "table": "Bridge",
                                           "where": []}) == [{"rows": []}]


def test_relative_unix_paths_are_in_the_rundir(server: FakeServer,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVS_RUNDIR", os.path.dirname(server.path))
    with connect("unix:db.sock") as c:
        assert c.list_dbs()


def test_long_socket_paths_work(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    s = FakeServer(deep) if len(str(deep / "db.sock")) <= 107 else None
    if s is None:
        # Bind through /proc like OVS, then connect with the long name.
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        fd = os.open(deep, os.O_RDONLY)
        try:
            listener.bind(f"/proc/self/fd/{fd}/db.sock")
        finally:
            os.close(fd)
        listener.listen(1)
        c = connect(f"unix:{deep}/db.sock")
        conn, _ = listener.accept()
        conn.sendall(b'{"id":null,"method":"update","params":[null,{}]}')
        msg = c.next_message(timeout=5)
        assert msg is not None and msg.method == "update"
        c.close()
        conn.close()
        listener.close()


def echo_and_notify(server: FakeServer, conn: socket.socket, msg: Message) -> bool:
    if msg.method == "list_dbs":
        # Before answering: an inactivity probe and a notification.
        server.send(conn, Message.request("echo", ["probe"], "e1"))
        server.send(conn, Message.notify("update", [None, {"T": {}}]))
        server.send(conn, Message.reply(["db"], msg.id))
        return True
    if msg.kind is MessageKind.REPLY and msg.id == "e1":
        server.send(conn, Message.notify("echo-answered", msg.result))
        return True
    return False


def test_echo_is_answered_and_notifications_are_kept(tmp_path: Path) -> None:
    s = FakeServer(tmp_path, echo_and_notify)
    try:
        with connect(s.target) as c:
            assert c.call("list_dbs", []) == ["db"]
            first = c.next_message(timeout=5)
            assert first is not None and first.method == "update"
            second = c.next_message(timeout=5)
            assert second is not None and second.method == "echo-answered"
            assert second.params == ["probe"]
    finally:
        s.close()


def test_hang_up_and_timeouts(tmp_path: Path) -> None:
    def hang_up(server: FakeServer, conn: socket.socket, msg: Message) -> bool:
        if msg.method == "list_dbs":
            conn.shutdown(socket.SHUT_RDWR)
            return True
        return msg.method == "echo"  # never answered

    s = FakeServer(tmp_path, hang_up)
    try:
        with connect(s.target) as c, pytest.raises(TimeoutError):
            c.call("echo", [], timeout=0.2)
        with connect(s.target) as c:
            with pytest.raises(ConnectionClosed):
                c.call("list_dbs", [])
            assert c.next_message() is None
    finally:
        s.close()


def test_replies_split_byte_by_byte(tmp_path: Path) -> None:
    def trickle(server: FakeServer, conn: socket.socket, msg: Message) -> bool:
        data = JsonRpcStream().send(Message.reply({"a": ["é", 1.5]}, msg.id))
        for i in range(len(data)):
            conn.sendall(data[i:i + 1])
        return True

    s = FakeServer(tmp_path, trickle)
    try:
        with connect(s.target) as c:
            assert c.call("anything", []) == {"a": ["é", 1.5]}
    finally:
        s.close()


def test_connect_errors() -> None:
    with pytest.raises(FileNotFoundError):
        connect("unix:/nonexistent/db.sock")
    with pytest.raises(ValueError):
        connect("ssl:1.2.3.4:6640")


def test_passive_target_accepts_one_connection(tmp_path: Path) -> None:
    path = tmp_path / "p.sock"
    result: dict[str, Any] = {}

    def accept() -> None:
        with connect(f"punix:{path}", timeout=30) as c:
            result["msg"] = c.next_message(timeout=30)

    t = threading.Thread(target=accept)
    t.start()
    # The socket file appears at bind(), a moment before listen(): on a busy
    # machine the first connection attempts may be refused.
    deadline = time.monotonic() + 20
    with contextlib.closing(socket.socket(socket.AF_UNIX)) as s:
        while True:
            try:
                s.connect(str(path))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                assert time.monotonic() < deadline, "the passive target never listened"
                threading.Event().wait(0.01)
        s.sendall(b'{"method":"hello","params":[],"id":null}')
        t.join(30)
    assert result["msg"].method == "hello"


# --- pyovsdb-client in process ---------------------------------------------------

def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = dbclient.main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_list_dbs_and_default_server(server: FakeServer, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "list-dbs", server.target) == (0, "Open_vSwitch\n_Server\n", "")
    monkeypatch.setenv("OVS_RUNDIR", os.path.dirname(server.path))
    assert run(capsys, "list-dbs")[1] == "Open_vSwitch\n_Server\n"
    assert run(capsys, "get-schema-version") == (0, "8.3.1\n", "")


def test_dump_sorts_columns_and_rows(server: FakeServer,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    fill(server)
    rc, out, err = run(capsys, "dump", server.target, "Bridge", "name", "external_ids")
    assert (rc, err) == (0, "")
    assert out == ("Bridge table\n"
                   "external_ids   name\n"
                   "-------------- ----\n"
                   "{}             a-br\n"
                   '{a="b c", k=v} br0\n')
    rc, out, _ = run(capsys, "--format=csv", "dump", server.target)
    captions = [line for line in out.splitlines() if line.endswith(" table")]
    assert captions == sorted(captions) and len(captions) == 19
    assert run(capsys, "--bare", "dump", server.target, "Bridge", "name")[1] == \
        "Bridge table\na-br\n\nbr0\n"


def test_list_tables_and_columns(server: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    out = run(capsys, "list-tables", server.target)[1].splitlines()
    assert out[:2] == ["Table", "-------------------------"]
    assert sorted(out[2:]) == sorted(server.schema_json["tables"])
    out = run(capsys, "list-columns", server.target, "Open_vSwitch", "AutoAttach")[1]
    assert "mappings" in out and re.search(r'\n_uuid +"uuid"\n', out)
    assert run(capsys, "list-columns", server.target, "Nope")[1] == "Column Type\n------ ----\n"


def test_transact_and_query(server: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    insert = '["Open_vSwitch",{"op":"insert","table":"Open_vSwitch","row":{"system_type":"q"}}]'
    rc, out, _ = run(capsys, "query", server.target, insert)
    assert rc == 0 and json.loads(out)[0]["uuid"][0] == "uuid" and len(json.loads(out)) == 1
    select = ('["Open_vSwitch",{"op":"select","table":"Open_vSwitch","where":[],'
              '"columns":["system_type"]}]')
    assert run(capsys, "query", server.target, select)[1] == '[{"rows":[]}]\n'
    run(capsys, "transact", server.target, insert)
    assert run(capsys, "--pretty", "transact", server.target, select)[1] == (
        '[\n  {\n    "rows": [\n      {\n        "system_type": "q"}]}]\n')


@pytest.mark.parametrize(("args", "message"), [
    (["frob"], "unknown command 'frob'; use --help for help"),
    ([], "missing command name; use --help for help"),
    (["-t", "0", "list-dbs"], "value 0 on -t or --timeout is invalid"),
    (["--format=xx", "list-dbs"], 'unknown output format "xx"'),
    (["transact", "{}"], "not a valid OVSDB query"),
    (["transact", "[bad"], "\"[bad\": line 0, column 4, byte 4: invalid keyword 'bad'"),
    (["list-dbs", "SERVER", "extra"], "invalid syntax for 'list-dbs' (use --help for help)"),
    (["dump", "SERVER", "Nope"], 'No table "Nope" found.'),
    (["dump", "SERVER", "Bridge", "nocol"], 'Table "Bridge" has no column nocol.'),
    (["monitor", "SERVER", "Nope"], 'SERVER: Open_vSwitch does not have a table named "Nope"'),
    (["monitor", "SERVER", "Bridge", "name,name"], 'SERVER: column "name" mentioned multiple '
     "times"),
    (["monitor-cond", "SERVER", '[["x","==",1]]', "Bridge"],
     'syntax "["x","==",1]": unknown column: No column x in table Bridge.'),
    (["monitor-cond", "SERVER", "[]", "ALL"], 'Open_vSwitch does not have a table named "ALL"'),
    (["wait", "Open_vSwitch", "bogus"], "bogus: unknown state"),
    (["get-schema", "SERVER", "Nope"],
     'transaction returned error: {"error":"unknown database"}'),
])
def test_errors(server: FakeServer, args: list[str], message: str,
                capsys: pytest.CaptureFixture[str]) -> None:
    args = [server.target if a == "SERVER" else a for a in args]
    if args[:1] == ["get-schema"]:
        # "Nope" is not a database, so it is an extra argument.
        message = "invalid syntax for 'get-schema' (use --help for help)"
    message = message.replace("SERVER", server.target)
    assert run(capsys, *args) == (1, "", f"ovsdb-client: {message}\n")


def test_connection_refused_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = f"unix:{tmp_path}/none.sock"
    assert run(capsys, "list-dbs", target) == (
        1, "", f'ovsdb-client: failed to connect to "{target}" (No such file or directory)\n')
