"""pyovsdb-server under bad input and its run-time features, over real sockets.

Bad input (garbage, oversized messages, clients that vanish mid-message)
costs the offending client its connection and nothing else: the server keeps
serving the others and the database is unchanged.
"""

from __future__ import annotations

import socket
import subprocess
import time
from typing import Any

import pytest

import peers

pytestmark = pytest.mark.pyovs_server

SELECT_OVS = ["Open_vSwitch", {"op": "select", "table": "Open_vSwitch", "where": [],
                               "columns": ["external_ids"]}]


def _init(c: peers.RawClient) -> None:
    c.call("transact", ["Open_vSwitch", {"op": "insert", "table": "Open_vSwitch",
                                         "row": {"external_ids": ["map", [["k", "v"]]]}}])


def _snapshot(c: peers.RawClient) -> Any:
    return c.call("transact", SELECT_OVS)["result"]


@pytest.mark.parametrize("garbage", [
    b"not json at all",
    b'{"method":"transact","params":{"not":"an array"},"id":1}',
    b'{"method":"echo","params":[],"id":1,"bogus":2}',
    b"]",
    b'{"method":"transact","params":["Open_vSwitch",{"op":"insert","table":"Open_vSwitch",'
    b'"row":{"external_ids":["map",[["k2","\\u0000"]]]}}],"id":1}',
])
def test_garbage_closes_only_that_client(garbage: bytes) -> None:
    with peers.DbServer("pyovs") as server, server.client() as good:
        _init(good)
        before = _snapshot(good)
        with server.client() as bad:
            bad.send_raw(garbage)
            with pytest.raises(peers.ConnectionClosed):
                bad.recv(5.0)
        assert _snapshot(good) == before
        assert good.call("echo", ["still here"])["result"] == ["still here"]


def test_client_vanishing_mid_message() -> None:
    with peers.DbServer("pyovs") as server, server.client() as good:
        _init(good)
        before = _snapshot(good)
        s = socket.socket(socket.AF_UNIX)
        s.connect(str(server.sock_path))
        s.sendall(b'{"method":"transact","params":["Open_vSwitch",{"op":"delete",'
                  b'"table":"Open_vSwitch","where":[')
        s.close()
        time.sleep(0.2)
        assert _snapshot(good) == before


def test_oversized_message_is_refused() -> None:
    with peers.DbServer("pyovs", extra_args=["--max-message-size=65536"]) as server, \
            server.client() as good:
        _init(good)
        before = _snapshot(good)
        with server.client() as big:
            payload = "x" * 100_000
            big.send({"method": "transact", "id": 1, "params": [
                "Open_vSwitch", {"op": "mutate", "table": "Open_vSwitch", "where": [],
                                 "mutations": [["external_ids", "insert",
                                                ["map", [["big", payload]]]]]}]})
            with pytest.raises(peers.ConnectionClosed):
                big.recv(5.0)
        assert _snapshot(good) == before


def test_wait_blocks_until_another_client_commits() -> None:
    with peers.DbServer("pyovs") as server, server.client() as waiter, \
            server.client() as writer:
        _init(writer)
        msg_id = waiter.new_id()
        waiter.send({"method": "transact", "id": msg_id, "params": [
            "Open_vSwitch", {"op": "wait", "table": "Open_vSwitch", "timeout": 10_000,
                             "where": [], "columns": ["external_ids"], "until": "==",
                             "rows": [{"external_ids": ["map", [["k", "go"]]]}]}]})
        with pytest.raises(TimeoutError):
            waiter.wait_reply(msg_id, timeout=0.3)
        writer.call("transact", ["Open_vSwitch", {
            "op": "update", "table": "Open_vSwitch", "where": [],
            "row": {"external_ids": ["map", [["k", "go"]]]}}])
        assert waiter.wait_reply(msg_id, timeout=5.0)["result"] == [{}]


def test_db_remote_listens_where_the_database_says() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with peers.DbServer("pyovs", extra_args=[
            "--remote=db:Open_vSwitch,Open_vSwitch,manager_options"]) as server, \
            server.client() as c:
        r = c.call("transact", ["Open_vSwitch",
                                {"op": "insert", "table": "Manager", "uuid-name": "m",
                                 "row": {"target": f"ptcp:{port}:127.0.0.1"}},
                                {"op": "insert", "table": "Open_vSwitch",
                                 "row": {"manager_options": ["named-uuid", "m"]}}])
        assert all("error" not in x for x in r["result"]), r
        deadline = time.monotonic() + 5
        while True:
            try:
                with peers.RawClient(f"tcp:127.0.0.1:{port}") as tcp:
                    assert "Open_vSwitch" in tcp.call("list_dbs", [])["result"]
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


def test_add_remote_through_the_control_socket() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with peers.DbServer("pyovs") as server:
        appctl = str(peers.VENV_BIN / "pyovs-appctl")
        ctl = str(server.unixctl_path)
        subprocess.run([appctl, "-t", ctl, "ovsdb-server/add-remote",
                        f"ptcp:{port}:127.0.0.1"], check=True, timeout=10)
        out = subprocess.run([appctl, "-t", ctl, "ovsdb-server/list-remotes"],
                             capture_output=True, text=True, check=True, timeout=10).stdout
        assert f"ptcp:{port}:127.0.0.1" in out
        with peers.RawClient(f"tcp:127.0.0.1:{port}") as tcp:
            assert tcp.call("echo", [1])["result"] == [1]


def test_real_ovs_appctl_drives_the_control_socket() -> None:
    appctl = "/usr/bin/ovs-appctl"
    if not __import__("os").path.exists(appctl):
        pytest.skip("the real ovs-appctl is not installed (Debian openvswitch-common)")
    with peers.DbServer("pyovs") as server:
        ctl = str(server.unixctl_path)

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([appctl, "-t", ctl, *args], capture_output=True, text=True,
                                  timeout=10, env=server.env)

        assert run("version").stdout.startswith("pyovsdb-server (pyovs)")
        listing = run("list-commands").stdout
        for cmd in ("exit", "ovsdb-server/compact", "vlog/set", "vlog/list", "version"):
            assert f"  {cmd}" in listing
        assert run("vlog/set", "ovsdb_server:file:dbg").returncode == 0
        assert "ovsdb_server" in run("vlog/list").stdout
        bad = run("no/such-command")
        assert bad.returncode == 2 and "is not a valid command" in bad.stderr
        assert run("ovsdb-server/compact").returncode == 0
        assert run("exit").returncode == 0
        deadline = time.monotonic() + 5
        while server.pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not server.pidfile.exists(), "exit did not stop the server"


def test_silent_tcp_client_is_probed_then_dropped() -> None:
    with peers.DbServer("pyovs", tcp=True) as server:
        host, port = "127.0.0.1", server.tcp_port
        assert port is not None
        silent = socket.create_connection((host, port), timeout=15)
        start = time.monotonic()
        silent.settimeout(15)
        data = b""
        while True:
            chunk = silent.recv(4096)
            if not chunk:
                break
            data += chunk
        elapsed = time.monotonic() - start
        assert b'"method":"echo"' in data
        assert 8 < elapsed < 14, elapsed
        with server.client() as unix:  # Unix clients are never probed
            assert unix.call("echo", [1])["result"] == [1]
