"""Durability: what pyovsdb-server acknowledged survives kill -9 and torn writes."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from typing import Any

import pytest

import peers

pytestmark = pytest.mark.pyovs_server

REAL_TOOL = shutil.which("ovsdb-tool")


def _init(client: peers.RawClient) -> None:
    r = client.call("transact", ["Open_vSwitch",
                                 {"op": "insert", "table": "Open_vSwitch", "row": {}}])
    assert "error" not in r["result"][0], r


def _keys(client: peers.RawClient) -> set[str]:
    r = client.call("transact", ["Open_vSwitch", {"op": "select", "table": "Open_vSwitch",
                                                  "where": [],
                                                  "columns": ["external_ids"]}])
    (row,) = r["result"][0]["rows"]
    return {k for k, _ in row["external_ids"][1]}


def _add_key(i: int) -> list[Any]:
    return ["Open_vSwitch", {"op": "mutate", "table": "Open_vSwitch", "where": [],
                             "mutations": [["external_ids", "insert",
                                            ["map", [[f"k{i}", str(i)]]]]]}]


def test_acknowledged_transactions_survive_kill9() -> None:
    with peers.DbServer("pyovs") as server:
        with server.client() as c:
            _init(c)
        acked: list[int] = []
        stop = threading.Event()

        def writer() -> None:
            try:
                with server.client() as c:
                    i = 0
                    while not stop.is_set():
                        r = c.call("transact", _add_key(i))
                        if "error" in r["result"][0]:
                            break
                        acked.append(i)
                        i += 1
            except (peers.ConnectionClosed, OSError, TimeoutError):
                pass

        t = threading.Thread(target=writer)
        t.start()
        time.sleep(1.0)
        server.kill9()
        stop.set()
        t.join(10)
        assert len(acked) > 10, "the writer made too little progress to prove anything"
        server.start()
        with server.client() as c:
            keys = _keys(c)
        missing = [i for i in acked if f"k{i}" not in keys]
        assert not missing, f"{len(missing)} acknowledged transactions lost: {missing[:5]}"
        server.stop()
        if REAL_TOOL:
            out = subprocess.run([REAL_TOOL, "show-log", str(server.db_path)],
                                 capture_output=True, text=True, timeout=30)
            assert out.returncode == 0, out.stderr


def test_torn_tail_is_ignored_and_overwritten() -> None:
    with peers.DbServer("pyovs") as server:
        with server.client() as c:
            _init(c)
            c.call("transact", _add_key(1))
        server.stop()
        with open(server.db_path, "ab") as f:
            f.write(b"OVSDB JSON 999 0123456789abcdef0123456789abcdef01234567\n{\"Open_")
        server.start()
        with server.client() as c:
            assert _keys(c) == {"k1"}
            c.call("transact", _add_key(2))
            assert _keys(c) == {"k1", "k2"}
        server.stop()
        if REAL_TOOL:
            out = subprocess.run([REAL_TOOL, "show-log", str(server.db_path)],
                                 capture_output=True, text=True, timeout=30)
            assert out.returncode == 0, out.stderr
            assert out.stdout.count("record ") == 4


def test_compaction_keeps_everything_and_real_tool_reads_it() -> None:
    with peers.DbServer("pyovs") as server:
        with server.client() as c:
            _init(c)
            for i in range(20):
                c.call("transact", _add_key(i))
        ctl = str(server.unixctl_path)
        appctl = shutil.which("ovs-appctl") or os.path.join(
            os.path.dirname(peers.PYOVS_SERVER), "pyovs-appctl")
        r = subprocess.run([appctl, "-t", ctl, "ovsdb-server/compact"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        with server.client() as c:
            assert len(_keys(c)) == 20
            c.call("transact", _add_key(99))
        server.stop()
        server.start()
        with server.client() as c:
            assert len(_keys(c)) == 21
        server.stop()
        if REAL_TOOL:
            out = subprocess.run([REAL_TOOL, "show-log", str(server.db_path)],
                                 capture_output=True, text=True, timeout=30)
            assert out.returncode == 0, out.stderr
            assert out.stdout.count("record ") == 3
