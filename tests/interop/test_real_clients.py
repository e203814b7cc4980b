"""Real Open vSwitch clients against each kind of OVSDB server.

Every test runs once per server kind: ``[real]`` (the Debian ovsdb-server;
this validates the test itself) and ``[pyovs]`` (pyovsdb-server; skipped until
it exists).  The clients are the real ones users run:

* ``ovs-vsctl --no-wait`` command sequences, whose UUID-normalised outputs
  must equal the real server's (golden answers in
  ``ovsdb_cases/clients.golden.json``, and a live real run when available);
* the python ``ovs`` IDL (``ovs.db.idl.Idl``): sync, a write transaction, and a
  resync after the server restarts (monitor_cond_since reconnect);
* ovsdbapp's Open_vSwitch API (add_br, add_port, db_set, list_br, del_br);
* ``ovsdb-client`` transact, dump (text, json, csv) and a streaming monitor.

Goldens are rewritten from the real server with
``PYOVS_REGEN_GOLDEN=1 .venv/bin/pytest tests/interop/test_real_clients.py -k real``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import peers

GOLDEN = Path(__file__).resolve().parent / "ovsdb_cases" / "clients.golden.json"
REGEN_ENV = "PYOVS_REGEN_GOLDEN"
VSWITCH_SCHEMA = peers.SCHEMAS["vswitch"]

pytestmark = pytest.mark.interop


def _need_tool(path: Path) -> None:
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} not installed (Debian openvswitch-common/-switch)")


# ---------------------------------------------------------------------------
# Golden answers shared by the [real] and [pyovs] runs


def _load_golden() -> dict[str, Any]:
    if GOLDEN.exists():
        return json.loads(GOLDEN.read_text())  # type: ignore[no-any-return]
    return {}


def check_against_real(kind: str, name: str, got: Any,
                       live_real: Callable[[], Any]) -> None:
    """``got`` must equal the real server's answer for ``name``.

    With ``kind == "real"`` this checks (or, with PYOVS_REGEN_GOLDEN set,
    records) the golden answer; with ``kind == "pyovs"`` it checks the golden
    answer and also a live run of the real server when one is installed.
    """
    golden = _load_golden()
    if kind == "real":
        if os.environ.get(REGEN_ENV):
            golden[name] = got
            GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True,
                                         ensure_ascii=False) + "\n")
            return
        assert name in golden, f"no golden answer for {name}; run with {REGEN_ENV}=1 -k real"
        assert got == golden[name]
        return
    if name in golden:
        assert got == golden[name], f"{name}: pyovsdb-server differs from ovsdb-server's golden"
    if peers.real_available() is None:
        assert got == live_real(), f"{name}: pyovsdb-server differs from live ovsdb-server"


def init_root(server: peers.DbServer) -> None:
    """Create the Open_vSwitch root row, as `ovs-vsctl init` would."""
    with peers.connect(server) as c:
        reply = c.call("transact", ["Open_vSwitch",
                                    {"op": "insert", "table": "Open_vSwitch", "row": {}}])
        assert reply["error"] is None and "error" not in reply["result"][0], reply


def wait_for(cond: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# ---------------------------------------------------------------------------
# Remotes


def test_tcp_remote_and_unixctl(kind: str, tmp_path: Path) -> None:
    """ptcp:0 binds a free port; unixctl answers; kill9 kills."""
    with peers.DbServer(kind, tmp_dir=tmp_path, tcp=True) as server:
        assert server.tcp_port
        with peers.RawClient(server.tcp_remote) as c:
            assert c.call("list_dbs", [])["result"] == ["Open_vSwitch", "_Server"]
        if os.access(peers.REAL_CLIENT, os.X_OK):
            proc = _client(server, "list-dbs", server.tcp_remote)
            assert (proc.returncode, proc.stdout) == (0, "Open_vSwitch\n_Server\n"), proc
        appctl = Path("/usr/bin/ovs-appctl")
        if os.access(appctl, os.X_OK):
            proc = server.run_tool([str(appctl), "-t", str(server.unixctl_path),
                                    "ovsdb-server/list-dbs"])
            assert (proc.returncode, proc.stdout) == (0, "Open_vSwitch\n_Server\n"), proc
        pid = server.pid
        server.kill9()
        assert pid is not None and not peers.pid_alive(pid)


# ---------------------------------------------------------------------------
# ovs-vsctl

# Each step: argv after "ovs-vsctl --no-wait --db=...", and whether its output
# lines come in hash order (then they are compared sorted).
VSCTL_SEQUENCES: dict[str, list[tuple[list[str], bool]]] = {
    "vsctl_bridges_and_ports": [
        (["init"], False),
        (["add-br", "br0"], False),
        (["add-port", "br0", "p1"], False),
        (["add-port", "br0", "p2", "--", "set", "Interface", "p2", "type=internal"], False),
        (["list-br"], False),
        (["list-ports", "br0"], False),
        (["list-ifaces", "br0"], False),
        (["br-exists", "br0"], False),
        (["br-exists", "nosuch"], False),
        (["port-to-br", "p1"], False),
        (["iface-to-br", "p2"], False),
        (["show"], True),
        (["add-br", "br0"], False),
        (["add-port", "nosuch", "p9"], False),
        (["del-port", "br0", "p2"], False),
        (["list-ports", "br0"], False),
        (["add-br", "br1"], False),
        (["list-br"], False),
        (["del-br", "br1"], False),
        (["list-br"], False),
        (["del-br", "br1"], False),
        (["--if-exists", "del-br", "br1"], False),
    ],
    "vsctl_set_get_list_find": [
        (["init"], False),
        (["add-br", "br0"], False),
        (["set", "Bridge", "br0", "external_ids:owner=test", "other_config:a=b",
          "stp_enable=true"], False),
        (["get", "Bridge", "br0", "external_ids:owner"], False),
        (["get", "Bridge", "br0", "other_config", "stp_enable", "name"], False),
        (["get", "Bridge", "br0", "external_ids:missing"], False),
        (["--if-exists", "get", "Bridge", "br0", "external_ids:missing"], False),
        (["get", "Bridge", "nosuch", "name"], False),
        (["--columns=name,external_ids,other_config,stp_enable", "list", "Bridge", "br0"], False),
        (["--bare", "--columns=name", "find", "Interface", "type=internal"], True),
        (["--columns=name", "find", "Bridge", "stp_enable=false"], False),
        (["remove", "Bridge", "br0", "external_ids", "owner"], False),
        (["add", "Bridge", "br0", "flood_vlans", "10", "20"], False),
        (["get", "Bridge", "br0", "external_ids", "flood_vlans"], False),
        (["remove", "Bridge", "br0", "flood_vlans", "10"], False),
        (["clear", "Bridge", "br0", "other_config"], False),
        (["--columns=external_ids,other_config,flood_vlans", "list", "Bridge", "br0"], False),
        (["set", "Bridge", "br0", "fail_mode=open"], False),
        (["set", "Interface", "br0", "ofport_request=70000"], False),
        (["set", "Bridge", "br0", "nosuch=1"], False),
        (["--format=json", "--columns=name,stp_enable", "list", "Bridge"], False),
    ],
    "vsctl_references": [
        (["init"], False),
        (["add-br", "br0"], False),
        (["--id=@i", "create", "Interface", "name=p3", "type=internal", "--",
          "--id=@p", "create", "Port", "name=p3", "interfaces=@i", "--",
          "add", "Bridge", "br0", "ports", "@p"], False),
        (["list-ports", "br0"], False),
        (["--id=@q", "create", "QoS", "type=linux-htb", "--",
          "set", "Port", "p3", "qos=@q"], False),
        (["--columns=name,qos", "list", "Port", "p3"], False),
        (["--columns=type", "list", "QoS"], False),
        (["clear", "Port", "p3", "qos"], False),
        (["--bare", "--columns=type", "list", "QoS"], False),
        (["--all", "destroy", "QoS"], False),
        (["--bare", "--columns=type", "list", "QoS"], False),
        (["--id=@m", "create", "Manager", "target=\"ptcp:6640\"", "--",
          "add", "Open_vSwitch", ".", "manager_options", "@m"], False),
        (["get-manager"], False),
        (["del-manager"], False),
        (["get-manager"], False),
        (["set-controller", "br0", "tcp:127.0.0.1:6653"], False),
        (["get-controller", "br0"], False),
        (["get-fail-mode", "br0"], False),
        (["set-fail-mode", "br0", "secure"], False),
        (["get-fail-mode", "br0"], False),
        (["del-controller", "br0"], False),
        (["get-controller", "br0"], False),
    ],
}


def run_vsctl_sequence(kind: str, steps: list[tuple[list[str], bool]],
                       tmp_path: Path) -> list[Any]:
    """Run ``steps`` on a fresh server; normalised [rc, stdout, stderr] each."""
    numbering = peers.UuidNumbering()
    out: list[Any] = []
    with peers.DbServer(kind, tmp_dir=tmp_path) as server:
        base = [str(peers.REAL_VSCTL), "--no-wait", f"--db={server.remote}", "--timeout=5"]
        for argv, unordered in steps:
            proc = server.run_tool(base + argv)
            stdout = proc.stdout
            if unordered:
                stdout = "\n".join(sorted(stdout.splitlines()))
            out.append([argv, proc.returncode, numbering.text(stdout),
                        numbering.text(proc.stderr)])
    return out


@pytest.mark.parametrize("name", sorted(VSCTL_SEQUENCES))
def test_vsctl_sequence(kind: str, name: str, tmp_path: Path) -> None:
    _need_tool(peers.REAL_VSCTL)
    steps = VSCTL_SEQUENCES[name]
    got = run_vsctl_sequence(kind, steps, tmp_path)
    # Sanity checks that hold for the real server, so a broken harness shows.
    first_rc = [rc for _, rc, _, _ in got]
    assert first_rc[0] == 0 and first_rc[1] == 0, got[:2]
    check_against_real(kind, name, got,
                       lambda: run_vsctl_sequence("real", steps, tmp_path / "live"))


# ---------------------------------------------------------------------------
# python-ovs IDL


def _idl_run_until(idl: Any, cond: Callable[[], bool], timeout: float = 5.0) -> None:
    import ovs.poller

    deadline = time.monotonic() + timeout
    while True:
        idl.run()
        if cond():
            return
        if time.monotonic() > deadline:
            raise AssertionError("IDL condition not reached in time")
        poller = ovs.poller.Poller()
        idl.wait(poller)
        poller.timer_wait(50)
        poller.block()


@contextlib.contextmanager
def python_idl(server: peers.DbServer) -> Iterator[Any]:
    import ovs.db.idl

    helper = ovs.db.idl.SchemaHelper(str(VSWITCH_SCHEMA))
    helper.register_all()
    idl = ovs.db.idl.Idl(server.remote, helper)
    try:
        yield idl
    finally:
        idl.close()


def _bridge_names(idl: Any) -> set[str]:
    return {row.name for row in idl.tables["Bridge"].rows.values()}


def test_python_idl_insert_bridge(kind: str, tmp_path: Path) -> None:
    import ovs.db.idl

    with peers.DbServer(kind, tmp_dir=tmp_path) as server:
        init_root(server)
        with python_idl(server) as idl:
            seqno = idl.change_seqno
            _idl_run_until(idl, lambda: idl.change_seqno != seqno and idl.has_ever_connected())
            assert len(idl.tables["Open_vSwitch"].rows) == 1

            txn = ovs.db.idl.Transaction(idl)
            br = txn.insert(idl.tables["Bridge"])
            br.name = "br-idl"
            br.external_ids = {"made-by": "python-idl"}
            ovs_row = next(iter(idl.tables["Open_vSwitch"].rows.values()))
            ovs_row.verify("bridges")
            ovs_row.bridges = [*ovs_row.bridges, br]
            status = txn.commit_block()
            assert status == ovs.db.idl.Transaction.SUCCESS, txn.get_error()
            new_uuid = txn.get_insert_uuid(br.uuid)
            assert new_uuid is not None

            _idl_run_until(idl, lambda: "br-idl" in _bridge_names(idl))
            row = idl.tables["Bridge"].rows[new_uuid]
            assert row.external_ids == {"made-by": "python-idl"}

            # An outsider sees the same row through the wire.
            with peers.connect(server) as c:
                reply = c.call("transact", ["Open_vSwitch", {
                    "op": "select", "table": "Bridge", "where": [],
                    "columns": ["_uuid", "name", "external_ids"]}])
            rows = reply["result"][0]["rows"]
            assert rows == [{"_uuid": ["uuid", str(new_uuid)], "name": "br-idl",
                             "external_ids": ["map", [["made-by", "python-idl"]]]}]

            # A change made elsewhere reaches the IDL.
            with peers.connect(server) as c:
                c.call("transact", ["Open_vSwitch", {
                    "op": "mutate", "table": "Bridge", "where": [],
                    "mutations": [["external_ids", "insert", ["map", [["k", "v"]]]]]}])
            _idl_run_until(idl, lambda: idl.tables["Bridge"].rows[new_uuid]
                           .external_ids.get("k") == "v")


def test_python_idl_resyncs_after_restart(kind: str, tmp_path: Path) -> None:
    with peers.DbServer(kind, tmp_dir=tmp_path) as server:
        init_root(server)
        with python_idl(server) as idl:
            _idl_run_until(idl, lambda: len(idl.tables["Open_vSwitch"].rows) == 1)
            server.restart()
            # Written while the IDL is (re)connecting: it must show up after
            # the resync whichever way the IDL asks (monitor_cond_since or not).
            with peers.connect(server) as c:
                reply = c.call("transact", ["Open_vSwitch",
                    {"op": "insert", "table": "Bridge", "row": {"name": "br-after"},
                     "uuid-name": "b"},
                    {"op": "mutate", "table": "Open_vSwitch", "where": [],
                     "mutations": [["bridges", "insert", ["named-uuid", "b"]]]}])
                assert "error" not in reply["result"][-1], reply
            _idl_run_until(idl, lambda: "br-after" in _bridge_names(idl), timeout=4.0)
            assert len(idl.tables["Open_vSwitch"].rows) == 1


# ---------------------------------------------------------------------------
# ovsdbapp


class FakeVswitchd:
    """Plays ovs-vswitchd's part that ovsdbapp waits for, over the wire.

    ovsdbapp's Open_vSwitch transactions bump ``next_cfg`` and wait until
    ``cur_cfg`` catches up, then check that new interfaces got an ``ofport``.
    This thread monitors those columns and answers like vswitchd would.
    """

    def __init__(self, server: peers.DbServer) -> None:
        import threading

        self.client = server.client(timeout=5.0)
        self.client.call("monitor", ["Open_vSwitch", "fake-vswitchd", {
            "Open_vSwitch": {"columns": ["next_cfg", "cur_cfg"]},
            "Interface": {"columns": ["ofport"]}}])
        self._stop = threading.Event()
        self._next_ofport = 1
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                notes = self.client.recv_notifications(0.05)
            except (OSError, peers.ConnectionClosed):
                return
            ops: list[dict[str, Any]] = []
            for note in notes:
                if note.get("method") != "update":
                    continue
                tables = note["params"][1]
                for uuid, change in tables.get("Open_vSwitch", {}).items():
                    new = change.get("new")
                    if new and new["next_cfg"] != new["cur_cfg"]:
                        ops.append({"op": "update", "table": "Open_vSwitch",
                                    "where": [["_uuid", "==", ["uuid", uuid]]],
                                    "row": {"cur_cfg": new["next_cfg"]}})
                for uuid, change in tables.get("Interface", {}).items():
                    new = change.get("new")
                    if new is not None and new["ofport"] == ["set", []]:
                        ops.append({"op": "update", "table": "Interface",
                                    "where": [["_uuid", "==", ["uuid", uuid]]],
                                    "row": {"ofport": self._next_ofport}})
                        self._next_ofport += 1
            if ops:
                # Interfaces first: ovsdbapp checks ofport once cur_cfg moves.
                ops.sort(key=lambda op: op["table"] == "Open_vSwitch")
                msg_id = self.client.new_id()
                self.client.send({"method": "transact", "id": msg_id,
                                  "params": ["Open_vSwitch", *ops]})

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        self.client.close()


def test_ovsdbapp_open_vswitch_api(kind: str, tmp_path: Path) -> None:
    from ovsdbapp.backend.ovs_idl import connection
    from ovsdbapp.schema.open_vswitch import impl_idl

    with peers.DbServer(kind, tmp_dir=tmp_path) as server:
        init_root(server)
        vswitchd = FakeVswitchd(server)
        idl = connection.OvsdbIdl.from_server(server.remote, "Open_vSwitch")
        conn = connection.Connection(idl=idl, timeout=5)
        # ovsdbapp keeps the first connection in a class attribute and reuses
        # it for every later API object: forget the previous test's one.
        impl_idl.OvsdbIdl._ovsdb_connection = None
        api = impl_idl.OvsdbIdl(conn)
        try:
            api.add_br("br0").execute(check_error=True)
            api.add_port("br0", "p0").execute(check_error=True)
            api.db_set("Port", "p0", ("tag", 42),
                       ("external_ids", {"owner": "ovsdbapp"})).execute(check_error=True)
            assert api.list_br().execute(check_error=True) == ["br0"]
            assert api.list_ports("br0").execute(check_error=True) == ["p0"]
            assert api.db_get("Port", "p0", "tag").execute(check_error=True) == 42
            assert api.db_get("Port", "p0", "external_ids").execute(
                check_error=True) == {"owner": "ovsdbapp"}
            with api.transaction(check_error=True) as txn:
                txn.add(api.add_br("br1"))
                txn.add(api.add_port("br1", "p1"))
            assert sorted(api.list_br().execute(check_error=True)) == ["br0", "br1"]
            api.del_br("br1").execute(check_error=True)
            api.del_br("br0").execute(check_error=True)
            assert api.list_br().execute(check_error=True) == []
        finally:
            conn.stop(timeout=5)
            impl_idl.OvsdbIdl._ovsdb_connection = None
            vswitchd.stop()
        # Ports and interfaces went with their bridges (garbage collection).
        with peers.connect(server) as c:
            reply = c.call("transact", ["Open_vSwitch",
                {"op": "select", "table": "Port", "where": [], "columns": ["name"]},
                {"op": "select", "table": "Interface", "where": [], "columns": ["name"]}])
        assert reply["result"] == [{"rows": []}, {"rows": []}]


# ---------------------------------------------------------------------------
# ovsdb-client


def _client(server: peers.DbServer, *argv: str) -> subprocess.CompletedProcess[str]:
    return server.run_tool([str(peers.REAL_CLIENT), *argv])


def run_ovsdb_client_session(kind: str, tmp_path: Path, *,
                             exact_listing_order: bool = False) -> list[Any]:
    """ovsdb-client commands on a fresh server; normalised [cmd, rc, out, err].

    ``list-tables``/``list-columns`` print in the order of the client's hash
    table, which depends on the order of the members of the schema JSON the
    server sent; unless ``exact_listing_order`` their lines are sorted.
    """
    numbering = peers.UuidNumbering()
    out: list[Any] = []
    with peers.DbServer(kind, tmp_dir=tmp_path) as server:
        r = server.remote
        txn = json.dumps(["Open_vSwitch",
            {"op": "insert", "table": "Open_vSwitch", "row": {}, "uuid-name": "o"},
            {"op": "insert", "table": "Bridge", "uuid-name": "b",
             "row": {"name": "br0", "external_ids": ["map", [["a", "1"]]],
                     "flood_vlans": ["set", [5, 3]]}},
            {"op": "mutate", "table": "Open_vSwitch", "where": [],
             "mutations": [["bridges", "insert", ["named-uuid", "b"]]]}])
        listing = [(["list-tables", r, "Open_vSwitch"], True),
                   (["list-columns", r, "Open_vSwitch", "Mirror"], True),
                   (["list-columns", r, "Open_vSwitch"], True)]
        commands = listing if exact_listing_order else [
            (["list-dbs", r], False),
            (["transact", r, txn], False),
            (["transact", r, '["Open_vSwitch",{"op":"select","table":"Bridge","where":[],'
                             '"columns":["name","flood_vlans"]}]'], False),
            (["transact", r, '["Open_vSwitch",{"op":"frob"}]'], False),
            (["dump", r, "Open_vSwitch", "Bridge", "name", "external_ids", "flood_vlans"], False),
            (["dump", r, "Open_vSwitch", "Open_vSwitch", "bridges", "next_cfg"], False),
            (["dump", "--format=json", r, "Open_vSwitch", "Bridge", "name", "external_ids"],
             False),
            (["dump", "--format=csv", r, "Open_vSwitch", "Bridge", "name", "flood_vlans"], False),
            (["get-schema-version", r, "Open_vSwitch"], False),
            (["get-schema-cksum", r, "Open_vSwitch"], False),
            *listing,
        ]
        for argv, hash_ordered in commands:
            proc = _client(server, *argv)
            stdout = proc.stdout
            if hash_ordered and not exact_listing_order:
                stdout = "\n".join(sorted(stdout.splitlines()))
            out.append([argv[0], proc.returncode, numbering.text(stdout),
                        numbering.text(proc.stderr)])
    return out


def test_ovsdb_client_commands(kind: str, tmp_path: Path) -> None:
    _need_tool(peers.REAL_CLIENT)
    got = run_ovsdb_client_session(kind, tmp_path)
    assert got[0][1] == 0 and "Open_vSwitch" in got[0][2], got[0]
    check_against_real(kind, "ovsdb_client_commands", got,
                       lambda: run_ovsdb_client_session("real", tmp_path / "live"))


def test_ovsdb_client_schema_listing_order(kind: str, tmp_path: Path) -> None:
    """list-tables/list-columns in exactly the real order.

    The real ovsdb-client prints tables and columns in its own hash-table
    order, and the order of colliding entries follows the order of the
    members in the get_schema reply.  So this passes only if the server emits
    the schema's JSON objects with their members in ovsdb-server's order.
    """
    _need_tool(peers.REAL_CLIENT)
    got = run_ovsdb_client_session(kind, tmp_path, exact_listing_order=True)
    check_against_real(kind, "ovsdb_client_schema_listing_order", got,
                       lambda: run_ovsdb_client_session("real", tmp_path / "live",
                                                        exact_listing_order=True))


class LineReader:
    """Lines from a child's stdout, with a timeout (no stdio buffering games)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self.proc = proc
        self.fd = proc.stdout.fileno()
        self.buf = b""

    def json_line(self, timeout: float) -> dict[str, Any]:
        import select

        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"ovsdb-client monitor printed no line in time: {self.buf!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    raise AssertionError(f"ovsdb-client monitor exited: {self.buf!r}")
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)  # type: ignore[no-any-return]


def test_ovsdb_client_monitor_streams_updates(kind: str, tmp_path: Path) -> None:
    _need_tool(peers.REAL_CLIENT)
    with peers.DbServer(kind, tmp_dir=tmp_path) as server:
        init_root(server)
        with peers.connect(server) as c:
            c.call("transact", ["Open_vSwitch",
                {"op": "insert", "table": "Bridge", "row": {"name": "br0"}, "uuid-name": "b"},
                {"op": "mutate", "table": "Open_vSwitch", "where": [],
                 "mutations": [["bridges", "insert", ["named-uuid", "b"]]]}])
        proc = subprocess.Popen(
            [str(peers.REAL_CLIENT), "monitor", server.remote, "Open_vSwitch", "Bridge", "name",
             "--format=json"],
            env=server.env, cwd=server.dir, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL)
        lines = LineReader(proc)
        try:
            initial = lines.json_line(3.0)
            assert initial["headings"] == ["row", "action", "name"]
            assert [d[1:] for d in initial["data"]] == [["initial", "br0"]]
            with peers.connect(server) as c:
                reply = c.call("transact", ["Open_vSwitch",
                    {"op": "insert", "table": "Bridge", "row": {"name": "br1"},
                     "uuid-name": "b"},
                    {"op": "mutate", "table": "Open_vSwitch", "where": [],
                     "mutations": [["bridges", "insert", ["named-uuid", "b"]]]}])
            new_uuid = reply["result"][0]["uuid"][1]
            update = lines.json_line(3.0)
            assert update == {"headings": ["row", "action", "name"],
                              "data": [[new_uuid, "insert", "br1"]]}
            # Dropping the reference garbage-collects the (non-root) bridge.
            with peers.connect(server) as c:
                c.call("transact", ["Open_vSwitch",
                    {"op": "mutate", "table": "Open_vSwitch", "where": [],
                     "mutations": [["bridges", "delete", ["uuid", new_uuid]]]}])
            update = lines.json_line(3.0)
            assert update["data"] == [[new_uuid, "delete", "br1"]]
        finally:
            proc.kill()
            proc.communicate(timeout=5)
