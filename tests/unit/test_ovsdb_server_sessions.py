"""The sans-IO server: sessions, locks, triggers and monitors, paired in memory."""

from __future__ import annotations

import json
from typing import Any

from pyovs.ovsdb.database import Database
from pyovs.ovsdb.jsonrpc import Message
from pyovs.ovsdb.schema import DatabaseSchema
from pyovs.ovsdb.server import OvsdbServer

SCHEMA = {"name": "S", "version": "1.0.0", "tables": {
    "R": {"isRoot": True, "columns": {"name": {"type": "string"}, "n": {"type": "integer"},
                                      "s": {"type": {"key": "string", "min": 0,
                                                     "max": "unlimited"}}}}}}


class Clock:
    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> int:
        return self.now


class Client:
    def __init__(self, server: OvsdbServer) -> None:
        self.out: list[dict[str, Any]] = []
        self.session = server.new_session(lambda b: self.out.append(json.loads(b)))
        self.server = server
        self.next_id = 0

    def call(self, method: str, *params: Any) -> Any:
        self.next_id += 1
        self.session.receive(Message.request(method, list(params), self.next_id))
        self.server.run()
        return self.take_reply(self.next_id)

    def send(self, method: str, *params: Any) -> int:
        self.next_id += 1
        self.session.receive(Message.request(method, list(params), self.next_id))
        self.server.run()
        return self.next_id

    def take_reply(self, id_: int) -> Any:
        for m in self.out:
            if m.get("id") == id_:
                self.out.remove(m)
                return m
        return None

    def notifications(self) -> list[dict[str, Any]]:
        n = [m for m in self.out if m.get("id") is None]
        self.out = [m for m in self.out if m.get("id") is not None]
        return n


def make() -> tuple[OvsdbServer, Clock]:
    clock = Clock()
    server = OvsdbServer(clock)
    server.add_database(Database(DatabaseSchema.from_json(SCHEMA)))
    return server, clock


def insert(c: Client, name: str, n: int = 0) -> Any:
    return c.call("transact", "S", {"op": "insert", "table": "R",
                                    "row": {"name": name, "n": n}})


def test_list_dbs_and_get_schema() -> None:
    server, _ = make()
    c = Client(server)
    assert c.call("list_dbs")["result"] == ["S", "_Server"]
    assert c.call("get_schema", "S")["result"]["name"] == "S"
    err = c.call("get_schema", "X")["error"]
    assert err["error"] == "unknown database"


def test_lock_steal_and_handover() -> None:
    server, _ = make()
    a, b = Client(server), Client(server)
    assert a.call("lock", "L")["result"] == {"locked": True}
    assert b.call("lock", "L")["result"] == {"locked": False}
    assert a.call("unlock", "L")["result"] == {}
    assert b.notifications() == [{"id": None, "method": "locked", "params": ["L"]}]
    assert a.call("steal", "L")["result"] == {"locked": True}
    assert b.notifications() == [{"id": None, "method": "stolen", "params": ["L"]}]
    r = b.call("transact", "S", {"op": "assert", "lock": "L"})
    assert r["result"][0]["error"] == "not owner"


def test_session_close_releases_locks() -> None:
    server, _ = make()
    a, b = Client(server), Client(server)
    a.call("lock", "L")
    b.call("lock", "L")
    a.session.close()
    assert b.notifications() == [{"id": None, "method": "locked", "params": ["L"]}]


def test_wait_trigger_completes_after_another_commit() -> None:
    server, _ = make()
    a, b = Client(server), Client(server)
    id_ = a.send("transact", "S", {"op": "wait", "table": "R", "where": [],
                                   "columns": ["name"], "until": "==",
                                   "rows": [{"name": "go"}], "timeout": 10_000})
    assert a.take_reply(id_) is None
    insert(b, "go")
    assert a.take_reply(id_)["result"] == [{}]


def test_wait_trigger_times_out_and_cancel() -> None:
    server, clock = make()
    a = Client(server)
    wait = {"op": "wait", "table": "R", "where": [], "until": "!=", "rows": [],
            "timeout": 500}
    id_ = a.send("transact", "S", wait)
    assert server.next_deadline() == 500
    clock.now = 600
    server.run()
    assert a.take_reply(id_)["result"] == [
        {"error": "timed out", "details": '"wait" timed out after 600 ms'}]
    id2 = a.send("transact", "S", dict(wait, timeout=10_000))
    a.session.receive(Message.notify("cancel", [id2]))
    assert a.take_reply(id2) == {"id": id2, "error": "canceled"}


def test_monitor_updates_arrive_before_the_reply() -> None:
    server, _ = make()
    watcher, writer = Client(server), Client(server)
    assert watcher.call("monitor_cond", "S", "m", {"R": [{"columns": ["name", "n"]}]}
                        )["result"] == {}
    id_ = writer.send("transact", "S", {"op": "insert", "table": "R",
                                        "row": {"name": "a", "n": 1}})
    (note,) = watcher.notifications()
    assert note["method"] == "update2"
    (row,) = note["params"][1]["R"].values()
    assert row == {"insert": {"name": "a", "n": 1}}
    assert writer.take_reply(id_) is not None


def test_monitor_cond_filters_and_cond_change() -> None:
    server, _ = make()
    c = Client(server)
    insert(c, "a", 1)
    insert(c, "b", 2)
    r = c.call("monitor_cond", "S", "m", {"R": [{"columns": ["name"],
                                                "where": [["n", "==", 1]]}]})
    assert [v for v in r["result"]["R"].values()] == [{"initial": {"name": "a"}}]
    c.call("transact", "S", {"op": "update", "table": "R", "where": [["name", "==", "b"]],
                             "row": {"n": 1}})
    (note,) = c.notifications()
    assert list(note["params"][1]["R"].values()) == [{"insert": {"name": "b"}}]
    assert c.call("monitor_cond_change", "m", "m2", {"R": [{"where": [["n", "==", 9]]}]}
                  )["result"] == {}
    (note,) = c.notifications()
    assert note["params"][0] == "m2"
    assert sorted(json.dumps(v) for v in note["params"][1]["R"].values()) == [
        '{"delete": null}', '{"delete": null}']


def test_monitor_cond_since_resumes_from_history() -> None:
    server, _ = make()
    c = Client(server)
    insert(c, "a")
    r = c.call("monitor_cond_since", "S", "m", {"R": [{"columns": ["name"]}]},
               "00000000-0000-0000-0000-000000000000")["result"]
    found, last_id, _ = r
    assert found is False
    c.call("monitor_cancel", "m")
    insert(c, "b")
    found, _, updates = c.call("monitor_cond_since", "S", "m",
                               {"R": [{"columns": ["name"]}]}, last_id)["result"]
    assert found is True
    assert list(updates["R"].values()) == [{"insert": {"name": "b"}}]


def test_unexpected_reply_asks_to_close() -> None:
    server, _ = make()
    c = Client(server)
    c.session.receive(Message.reply([], 99))
    assert c.session.want_close
    c2 = Client(server)
    c2.session.receive(Message.reply([], "echo"))
    assert not c2.session.want_close


def test_reserved_database_is_read_only() -> None:
    server, _ = make()
    c = Client(server)
    r = c.call("transact", "_Server", {"op": "delete", "table": "Database", "where": []})
    assert r["result"][0]["error"] == "not allowed"
    names = c.call("transact", "_Server", {"op": "select", "table": "Database", "where": [],
                                           "columns": ["name"]})["result"][0]["rows"]
    assert sorted(n["name"] for n in names) == ["S", "_Server"]
