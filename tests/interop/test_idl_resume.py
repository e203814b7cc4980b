"""The python ``ovs`` IDL resumes with monitor_cond_since after a reconnect.

pyovsdb-server keeps a transaction history for standalone databases, so a
client that lost its connection (not the server) gets only what it missed
(``found`` is true), and its view ends up identical to a fresh one.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

import peers
from interop.test_real_clients import _bridge_names, _idl_run_until, init_root, python_idl

pytestmark = pytest.mark.pyovs_server


def _add_bridge(server: peers.DbServer, name: str) -> None:
    with peers.connect(server) as c:
        reply = c.call("transact", ["Open_vSwitch",
                                    {"op": "insert", "table": "Bridge", "row": {"name": name},
                                     "uuid-name": "b"},
                                    {"op": "mutate", "table": "Open_vSwitch", "where": [],
                                     "mutations": [["bridges", "insert", ["named-uuid", "b"]]]}])
        assert "error" not in reply["result"][-1], reply


def test_idl_resumes_from_history_after_a_dropped_connection(tmp_path: Path) -> None:
    with peers.DbServer("pyovs", tmp_dir=tmp_path) as server:
        init_root(server)
        _add_bridge(server, "br-before")
        with python_idl(server) as idl:
            _idl_run_until(idl, lambda: "br-before" in _bridge_names(idl))
            seqno = idl.change_seqno
            appctl = str(peers.VENV_BIN / "pyovs-appctl")
            subprocess.run([appctl, "-t", str(server.unixctl_path), "ovsdb-server/reconnect"],
                           check=True, timeout=10)
            _add_bridge(server, "br-missed")
            _idl_run_until(idl, lambda: "br-missed" in _bridge_names(idl), timeout=5.0)
            assert idl.change_seqno > seqno
            assert _bridge_names(idl) == {"br-before", "br-missed"}
        # The server really answered from its history: a monitor_cond_since
        # with the current id is "found" and empty.
        with peers.connect(server) as c:
            first = c.call("monitor_cond_since", ["Open_vSwitch", "a", {"Bridge": [{}]},
                                                  peers.ZERO_UUID])["result"]
            assert first[0] is False
            c.call("monitor_cancel", ["a"])
            again = c.call("monitor_cond_since", ["Open_vSwitch", "b", {"Bridge": [{}]},
                                                  first[1]])["result"]
            assert again[0] is True and again[2] == {}, json.dumps(again)
