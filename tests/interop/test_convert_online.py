"""Online schema conversion: the "convert" method, driven by the real ovsdb-client."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import peers

pytestmark = pytest.mark.pyovs_server

CLIENT = shutil.which("ovsdb-client") or str(peers.VENV_BIN / "pyovsdb-client")
V1 = {"name": "C", "version": "1.0.0", "tables": {
    "T": {"isRoot": True, "columns": {"name": {"type": "string"}, "n": {"type": "integer"},
                                      "old": {"type": "string"}}}}}
V2 = {"name": "C", "version": "2.0.0", "tables": {
    "T": {"isRoot": True, "columns": {"name": {"type": "string"},
                                      "n": {"type": {"key": "integer", "min": 0, "max": 1}},
                                      "new": {"type": "boolean"}}}}}


def _server(tmp: Path) -> peers.DbServer:
    path = tmp / "v1.ovsschema"
    path.write_text(json.dumps(V1))
    return peers.DbServer("pyovs", path, tmp_dir=tmp)


def test_convert_keeps_rows_changes_schema_and_survives_restart(tmp_path: Path) -> None:
    v2 = tmp_path / "v2.ovsschema"
    v2.write_text(json.dumps(V2))
    with _server(tmp_path) as server:
        with server.client() as c:
            c.call("transact", ["C", {"op": "insert", "table": "T",
                                      "row": {"name": "a", "n": 7, "old": "x"}}])
        with server.client() as aware, server.client() as plain:
            aware.call("set_db_change_aware", [True])
            aware.call("monitor_cond", ["C", "m", {"T": [{}]}])
            plain.call("monitor_cond", ["C", "m", {"T": [{}]}])
            r = subprocess.run([CLIENT, "convert", server.remote, str(v2)],
                               capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, r.stderr
            assert {"id": None, "method": "monitor_canceled", "params": ["m"]} in \
                aware.recv_notifications(1.0)
            with pytest.raises(peers.ConnectionClosed):
                plain.recv(2.0)
        with server.client() as c:
            assert c.call("get_schema", ["C"])["result"]["version"] == "2.0.0"
            rows = c.call("transact", ["C", {"op": "select", "table": "T", "where": [],
                                             "columns": ["name", "n", "new"]}])["result"]
            assert rows[0]["rows"] == [{"name": "a", "n": 7, "new": False}]
        server.restart()
        with server.client() as c:
            assert c.call("get_schema", ["C"])["result"]["version"] == "2.0.0"


def test_convert_refuses_a_value_that_no_longer_fits(tmp_path: Path) -> None:
    narrow = dict(V2, tables={"T": {"isRoot": True, "columns": {
        "n": {"type": {"key": {"type": "integer", "maxInteger": 5}}}}}})
    path = tmp_path / "narrow.ovsschema"
    path.write_text(json.dumps(narrow))
    with _server(tmp_path) as server, server.client() as c:
        c.call("transact", ["C", {"op": "insert", "table": "T", "row": {"n": 7}}])
        r = c.call("convert", ["C", narrow])
        assert r["error"]["error"] == "constraint violation"
        assert c.call("get_schema", ["C"])["result"]["version"] == "1.0.0"
        bad = c.call("convert", ["C", dict(V2, name="Other")])
        assert bad["error"]["error"] == "invalid parameters"
