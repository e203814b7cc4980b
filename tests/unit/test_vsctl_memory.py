"""pyovs-vsctl end to end, in memory: commands, retries, waits, failures.

The byte-for-byte comparison with the real ovs-vsctl lives in
``tests/interop/test_vsctl_differential.py``; these tests run the same code
in-process against the sans-IO server, which lets them stage the races that
a subprocess cannot: a concurrent change between reading and committing
(the transaction must be retried, not clobber it), a ``wait-until`` that
becomes true later, a vswitchd that catches up with ``next_cfg``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vsctl_memory import MemoryServer, memory_server, run_vsctl


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Any:
    with memory_server(monkeypatch) as s:
        yield s


def ok(*args: str, wait: bool = False) -> str:
    status, out, err = run_vsctl(*args, wait=wait)
    assert (status, err) == (0, ""), (args, status, err)
    return out


def test_bridges_ports_and_show(server: MemoryServer) -> None:
    ok("init")
    ok("add-br", "br0", "--", "add-port", "br0", "p1", "--", "add-br", "br1", "br0", "10")
    assert ok("list-br") == "br0\nbr1\n"
    assert ok("list-ports", "br0") == "p1\n"
    assert ok("br-to-vlan", "br1", "--", "br-to-parent", "br1") == "10\nbr0\n"
    assert server.names("Port") == ["br0", "br1", "p1"]
    show = ok("show")
    assert "    Bridge br0\n" in show and "        Port br1\n            tag: 10\n" in show
    assert ok("--columns=name,tag", "find", "Port", "tag=10") == (
        "name                : br1\ntag                 : 10\n")


def test_create_prints_the_server_uuid(server: MemoryServer) -> None:
    ok("init")
    out = ok("--", "--id=@m", "create", "Manager", "target=\"ptcp:1\"", "--", "add",
             "Open_vSwitch", ".", "manager_options", "@m")
    rows = server.select("Manager", "_uuid")
    assert out.strip() in {r["_uuid"][1] for r in rows}


def test_error_changes_nothing(server: MemoryServer) -> None:
    ok("add-br", "br0")
    before = server.select("Bridge")
    status, out, err = run_vsctl("add-br", "br1", "--", "add-port", "nosuch", "p1")
    assert (status, out, err) == (1, "", "pyovs-vsctl: no bridge named nosuch\n")
    status, _, err = run_vsctl("--", "--id=@b", "create", "Bridge", "name=br0", "--", "add",
                               "Open_vSwitch", ".", "bridges", "@b")
    assert status == 1 and "constraint violation" in err
    assert server.select("Bridge") == before


def test_unknown_table_fails_before_connecting(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(target: str, **_: Any) -> Any:
        raise AssertionError("must not connect")

    from pyovs.ctl import session
    monkeypatch.setattr(session, "connect", refuse)
    assert run_vsctl("list", "Nosuch") == (1, "", 'pyovs-vsctl: unknown table "Nosuch"\n')


def test_concurrent_change_makes_the_transaction_retry(server: MemoryServer) -> None:
    """A verified column changed under us: 'try again', then both changes survive."""
    ok("add-br", "br0")

    def other_client(s: MemoryServer) -> None:
        # Another tool adds port q1 between our read and our commit.
        bridge = s.select("Bridge", "_uuid")[0]["_uuid"]
        result = s.transact(
            {"op": "insert", "table": "Interface", "row": {"name": "q1"}, "uuid-name": "i"},
            {"op": "insert", "table": "Port", "uuid-name": "p",
             "row": {"name": "q1", "interfaces": ["named-uuid", "i"]}},
            {"op": "mutate", "table": "Bridge", "where": [["_uuid", "==", bridge]],
             "mutations": [["ports", "insert", ["named-uuid", "p"]]]})
        assert all("error" not in r for r in result), result

    server.before_transact = other_client
    ok("add-port", "br0", "p1")
    assert server.names("Port") == ["br0", "p1", "q1"]
    tool = server.clients[-1]
    transacts = [m for m in tool.sent if m.method == "transact"]
    assert len(transacts) == 2
    first = transacts[0].params[1]
    assert first["op"] == "wait" and first["until"] == "=="


def test_conflicting_name_found_on_retry(server: MemoryServer) -> None:
    ok("add-br", "br0")

    def other_client(s: MemoryServer) -> None:
        status, _, _ = run_vsctl("add-port", "br0", "p1")
        assert status == 0

    server.before_transact = other_client
    status, out, err = run_vsctl("add-port", "br0", "p1")
    assert (status, out) == (1, "")
    assert err == ("pyovs-vsctl: cannot create a port named p1 because a port named p1 "
                   "already exists on bridge br0\n")


def test_wait_until_waits_for_the_condition(server: MemoryServer) -> None:
    ok("add-br", "br0")
    steps = iter([("other_config:x=n",), ("other_config:x=y",)])

    def change(s: MemoryServer) -> bool:
        try:
            setting = next(steps)
        except StopIteration:
            return False
        return run_vsctl("set", "Bridge", "br0", *setting)[0] == 0

    server.on_idle = change
    assert ok("wait-until", "Bridge", "br0", "other_config:x=y", "--", "list-br") == "br0\n"
    assert next(steps, None) is None


def _fake_vswitchd(s: MemoryServer, bad: str = "") -> bool:
    """Give new interfaces an ofport (-1 for ``bad``), then catch up with next_cfg."""
    for iface in s.select("Interface", "_uuid", "name", "ofport"):
        if iface["ofport"] == ["set", []]:
            row = ({"ofport": -1, "error": "no such device"} if iface["name"] == bad
                   else {"ofport": 1})
            s.transact({"op": "update", "table": "Interface", "row": row,
                        "where": [["_uuid", "==", iface["_uuid"]]]})
    ovs = s.select("Open_vSwitch")[0]
    if ovs["cur_cfg"] == ovs["next_cfg"]:
        return False
    s.transact({"op": "update", "table": "Open_vSwitch", "where": [],
                "row": {"cur_cfg": ovs["next_cfg"]}})
    return True


def test_waits_for_cur_cfg_to_reach_next_cfg(server: MemoryServer) -> None:
    calls: list[int] = []

    def vswitchd(s: MemoryServer) -> bool:
        calls.append(1)
        return _fake_vswitchd(s)

    server.on_idle = vswitchd
    ok("add-br", "br0", wait=True)
    ovs = server.select("Open_vSwitch")[0]
    assert (ovs["next_cfg"], ovs["cur_cfg"]) == (1, 1)
    assert calls
    calls.clear()
    ok("list-br", wait=True)  # nothing changes: no increment, no wait
    assert not calls and server.select("Open_vSwitch")[0]["next_cfg"] == 1


def test_reports_interfaces_vswitchd_failed_to_create(server: MemoryServer) -> None:
    server.on_idle = lambda s: _fake_vswitchd(s, bad="bad")
    status, out, err = run_vsctl("add-br", "br0", "--", "add-port", "br0", "bad", wait=True)
    assert (status, out) == (0, "")
    assert err.splitlines()[0] == ("pyovs-vsctl: Error detected while setting up 'bad': no "
                                   "such device.  See ovs-vswitchd log for details.")
    assert err.splitlines()[1].startswith("pyovs-vsctl: The default log directory is ")


def test_dry_run_commits_nothing(server: MemoryServer) -> None:
    ok("init")
    assert ok("--dry-run", "add-br", "br0") == ""
    assert server.select("Bridge") == []
    tool = server.clients[-1]
    ops = next(m.params for m in tool.sent if m.method == "transact")
    assert ops[-1] == {"op": "abort"}


def test_read_only_commands_send_no_transaction(server: MemoryServer) -> None:
    ok("add-br", "br0")
    ok("list-br", "--", "show", "--", "get", "Bridge", "br0", "name")
    assert not [m for m in server.clients[-1].sent if m.method == "transact"]


def test_last_command_sets_map_keys_with_a_mutation(server: MemoryServer) -> None:
    ok("add-br", "br0", "--", "set", "Bridge", "br0", "other_config:a=1")
    ok("set", "Bridge", "br0", "other_config:a=2", "other_config:b=3")
    ops = next(m.params for m in server.clients[-1].sent if m.method == "transact")[1:]
    mutate = [op for op in ops if op["op"] == "mutate"]
    assert mutate and mutate[0]["table"] == "Bridge"
    assert sorted(json.dumps(m) for m in mutate[0]["mutations"]) == sorted([
        json.dumps(["other_config", "delete", ["set", ["a"]]]),
        json.dumps(["other_config", "insert", ["map", [["a", "2"], ["b", "3"]]]])])
    assert ok("get", "Bridge", "br0", "other_config") == '{a="2", b="3"}\n'
    assert not any(op["op"] == "wait" for op in ops)


def test_oneline_escapes_newlines_and_backslashes(server: MemoryServer) -> None:
    ok("add-br", "br0", "--", "add-br", "br1", "--", "br-set-external-id", "br0", "k", "a\\b")
    assert ok("--oneline", "list-br", "--", "br-get-external-id", "br0", "k", "--",
              "br-exists", "br0") == "br0\\nbr1\n" + "a\\\\b\n\n"


def test_br_exists_exit_status(server: MemoryServer) -> None:
    ok("add-br", "br0")
    assert run_vsctl("br-exists", "br0") == (0, "", "")
    assert run_vsctl("br-exists", "nosuch") == (2, "", "")


def test_server_hangs_up_while_waiting(server: MemoryServer) -> None:
    ok("init")
    server.hung_up = True
    assert run_vsctl("wait-until", "Bridge", "br0") == (
        1, "", "pyovs-vsctl: unix:memory: database connection failed (End of file)\n")
