"""The log file format against the real ovsdb-tool / ovsdb-server 3.1.

Files written by ``LogFile`` must be read by the real tools, files written by
the real tools must be read by ``LogFile`` -- and re-serialising each record
they wrote must give back the very same bytes, which pins header format,
SHA-1 coverage and JSON serialisation (escapes, reals) at once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyovs.ovsdb.storage import LockError, LogFile, OpenMode, compose_record

OVSDB_TOOL = Path("/usr/bin/ovsdb-tool")
OVSDB_SERVER = Path("/usr/sbin/ovsdb-server")
VSWITCH_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(
        not OVSDB_TOOL.exists() or not VSWITCH_SCHEMA.exists(),
        reason=f"real Open vSwitch not installed ({OVSDB_TOOL} or {VSWITCH_SCHEMA} missing); "
        "install openvswitch-common (make debs)",
    ),
]

ROW = "8e4a2c62-6b1d-4c4e-9e0f-0a1b2c3d4e5f"
REAL_SCHEMA: dict[str, Any] = {
    "name": "R",
    "version": "1.0.0",
    "tables": {"t": {"columns": {
        "r": {"type": {"key": "real", "min": 0, "max": "unlimited"}},
        "s": {"type": {"key": "string", "min": 0, "max": "unlimited"}},
        "m": {"type": {"key": "string", "value": "integer", "min": 0, "max": "unlimited"}},
    }, "isRoot": True}},
}


def tool(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TZ="UTC")
    result = subprocess.run([str(OVSDB_TOOL), *args], capture_output=True, text=True,
                            timeout=30, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"ovsdb-tool {args[0]} failed: {result.stderr}")
    return result


def vswitch_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(VSWITCH_SCHEMA.read_text())
    return schema


def read_records(path: Path) -> list[dict[str, Any]]:
    with LogFile.open(path) as log:
        records = list(iter(log.read, None))
        assert log.error is None, log.warning
    return records


def transact(path: Path, *ops: dict[str, Any], db: str = "Open_vSwitch") -> Any:
    return json.loads(tool("transact", str(path), json.dumps([db, *ops])).stdout)


def select(path: Path, table: str, columns: list[str], db: str = "Open_vSwitch") -> Any:
    query = [db, {"op": "select", "table": table, "where": [], "columns": columns}]
    return json.loads(tool("query", str(path), json.dumps(query)).stdout)[0]["rows"]


# -- ours, read by OVS -------------------------------------------------------


def write_our_log(path: Path) -> None:
    with LogFile.open(path, OpenMode.CREATE) as log:
        log.write(vswitch_schema())
        log.write({"Open_vSwitch": {ROW: {
            "ovs_version": "3.1/é \"q\" \\ \t",
            "next_cfg": 7,
            "external_ids": ["map", [["a", "1"], ["b", "2"]]],
        }}, "_date": 1700000000000, "_comment": "first", "_is_diff": True})
        # A diff record: "a" removed (carries its old value), "b" changed, "c" added.
        log.write({"_date": 1700000001000, "_is_diff": True, "Open_vSwitch": {ROW: {
            "external_ids": ["map", [["a", "1"], ["b", "3"], ["c", "4"]]],
            "next_cfg": 8,
        }}})
        log.commit()


def test_ovsdb_tool_reads_our_log(tmp_path: Path) -> None:
    path = tmp_path / "conf.db"
    write_our_log(path)
    assert tool("db-name", str(path)).stdout == "Open_vSwitch\n"
    assert tool("db-version", str(path)).stdout == vswitch_schema()["version"] + "\n"
    shown = tool("show-log", "-m", str(path)).stdout
    assert shown.startswith(f'record 0: "Open_vSwitch" schema, version="'
                            f'{vswitch_schema()["version"]}", cksum="'
                            f'{vswitch_schema()["cksum"]}"\n')
    assert 'record 1: 2023-11-14 22:13:20.000 "first"\n' in shown
    assert f"  table Open_vSwitch insert row {ROW[:8]}:\n" in shown
    assert "record 2: 2023-11-14 22:13:21.000\n" in shown
    assert f"  table Open_vSwitch row {ROW[:8]} ({ROW[:8]}) diff:\n" in shown
    rows = select(path, "Open_vSwitch", ["_uuid", "ovs_version", "next_cfg", "external_ids"])
    assert rows == [{
        "_uuid": ["uuid", ROW],
        "ovs_version": "3.1/é \"q\" \\ \t",
        "next_cfg": 8,
        "external_ids": ["map", [["b", "3"], ["c", "4"]]],
    }]


def test_ovsdb_tool_transacts_after_our_records(tmp_path: Path) -> None:
    path = tmp_path / "conf.db"
    write_our_log(path)
    transact(path, {"op": "mutate", "table": "Open_vSwitch", "where": [],
                    "mutations": [["next_cfg", "+=", 1]]})
    assert [r.get("_comment") for r in read_records(path)[1:]] == ["first", None, None]
    assert read_records(path)[3]["Open_vSwitch"][ROW] == {"next_cfg": 9}


def test_ovsdb_tool_reads_log_after_we_cut_a_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "conf.db"
    write_our_log(path)
    data = path.read_bytes()
    path.write_bytes(data[:-20])  # tear the last record
    assert tool("show-log", str(path), check=False).returncode != 0  # OVS refuses it
    with LogFile.open(path, OpenMode.READ_WRITE) as log:
        assert len(list(iter(log.read, None))) == 2
        assert log.warning is not None and "End of file" in log.warning
        log.write({"_date": 1700000002000, "Open_vSwitch": {ROW: {"next_cfg": 42}}})
        log.commit()
    assert tool("show-log", str(path)).stdout.count("record ") == 3
    assert select(path, "Open_vSwitch", ["next_cfg"]) == [{"next_cfg": 42}]


def test_ovsdb_tool_reads_log_we_compacted(tmp_path: Path) -> None:
    path = tmp_path / "conf.db"
    write_our_log(path)
    snapshot = {"Open_vSwitch": {ROW: {
        "ovs_version": "compacted", "next_cfg": 8,
        "external_ids": ["map", [["b", "3"], ["c", "4"]]],
    }}, "_date": 1700000003000, "_comment": "compacting database online", "_is_diff": True}
    with LogFile.open(path, OpenMode.READ_WRITE) as log:
        list(iter(log.read, None))
        log.replace([vswitch_schema(), snapshot])
        log.write({"_date": 1700000004000, "_is_diff": True,
                   "Open_vSwitch": {ROW: {"external_ids": ["map", [["d", "5"]]]}}})
        log.commit()
    shown = tool("show-log", str(path)).stdout
    assert shown.count("record ") == 3
    assert '"compacting database online"' in shown
    assert select(path, "Open_vSwitch", ["ovs_version", "external_ids"]) == [{
        "ovs_version": "compacted",
        "external_ids": ["map", [["b", "3"], ["c", "4"], ["d", "5"]]],
    }]
    assert not (tmp_path / "conf.db.tmp").exists()


# -- OVS's, read by us -------------------------------------------------------


def assert_same_bytes(path: Path) -> list[dict[str, Any]]:
    records = read_records(path)
    assert b"".join(compose_record(r) for r in records) == path.read_bytes()
    return records


def test_we_read_ovsdb_tool_create_and_transact(tmp_path: Path) -> None:
    path = tmp_path / "conf.db"
    tool("create", str(path), str(VSWITCH_SCHEMA))
    result = transact(path, {"op": "insert", "table": "Open_vSwitch", "row": {
        "ovs_version": "2.0/ü\"x", "external_ids": ["map", [["a", "b"], ["k", "v"]]]}},
        {"op": "comment", "comment": "hi there é"})
    row = result[0]["uuid"][1]
    transact(path, {"op": "mutate", "table": "Open_vSwitch", "where": [],
                    "mutations": [["external_ids", "delete", ["set", ["a"]]],
                                  ["external_ids", "insert", ["map", [["z", "y"]]]]]})
    transact(path, {"op": "delete", "table": "Open_vSwitch", "where": []})
    schema, insert, mutate, delete = assert_same_bytes(path)
    assert schema["name"] == "Open_vSwitch" and schema["cksum"] == vswitch_schema()["cksum"]
    assert insert["_comment"] == "hi there é" and insert["_is_diff"] is True
    assert isinstance(insert["_date"], int)
    assert insert["Open_vSwitch"] == {row: {
        "ovs_version": "2.0/ü\"x", "external_ids": ["map", [["a", "b"], ["k", "v"]]]}}
    # OVS writes the map diff: "a" removed (old value), "z" added.
    assert mutate["Open_vSwitch"] == {row: {"external_ids": ["map", [["a", "b"], ["z", "y"]]]}}
    assert delete["Open_vSwitch"] == {row: None}


def test_reals_and_strings_serialise_byte_for_byte_like_ovs(tmp_path: Path) -> None:
    schema_path = tmp_path / "r.ovsschema"
    schema_path.write_text(json.dumps(REAL_SCHEMA))
    path = tmp_path / "r.db"
    tool("create", str(path), str(schema_path))
    reals = [0.1, 0.333333333333333333, 1e20, 2.5e-7, 1.0, -3.25, 123456789.123456789,
             1e-400, 12345678901234567890.0, 1e308, 2.3e-308]
    strings = ["/", "é€😀", "\x7f", "\b\t\n\f\r", "\x01\x0b\x1f", '"\\']
    transact(path, {"op": "insert", "table": "t", "row": {
        "r": ["set", reals], "s": ["set", strings],
        "m": ["map", [["k", -(2**63)], ["l", 2**63 - 1]]]}}, db="R")
    records = assert_same_bytes(path)
    (row,) = records[1]["t"].values()
    assert sorted(row["s"][1]) == sorted(strings)
    # OVS wrote "%.15g": 1.0 came back as the integer 1, 1/3 with 15 digits.
    assert 1 in row["r"][1] and 0.333333333333333 in row["r"][1]


def test_extreme_reals_ovs_cannot_read_back_we_cannot_either(tmp_path: Path) -> None:
    # "%.15g" rounds DBL_MAX up to 1.79769313486232e+308, which overflows when
    # read back: OVS 3.1 writes a record it then refuses itself.
    schema_path = tmp_path / "r.ovsschema"
    schema_path.write_text(json.dumps(REAL_SCHEMA))
    path = tmp_path / "r.db"
    tool("create", str(path), str(schema_path))
    transact(path, {"op": "insert", "table": "t", "row": {"r": 1.7976931348623157e308}},
             db="R")
    assert "number outside valid range" in tool("show-log", str(path), check=False).stderr
    with LogFile.open(path) as log:
        assert len(list(iter(log.read, None))) == 1
    assert log.warning is not None and "number outside valid range" in log.warning


def test_we_read_what_ovsdb_tool_compact_writes(tmp_path: Path) -> None:
    path = tmp_path / "conf.db"
    write_our_log(path)
    tool("compact", str(path))
    schema, snapshot = assert_same_bytes(path)
    assert schema["name"] == "Open_vSwitch"
    assert snapshot["Open_vSwitch"][ROW]["next_cfg"] == 8


def test_clustered_file_made_by_ovsdb_tool_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    tool("create-cluster", str(path), str(VSWITCH_SCHEMA), "tcp:127.0.0.1:6641")
    with pytest.raises(Exception, match="clustered databases are not supported"):
        LogFile.open(path)


# -- the lock ------------------------------------------------------------------


def test_ovsdb_tool_cannot_write_while_we_hold_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "conf.db"
    write_our_log(path)
    with LogFile.open(path, OpenMode.READ_WRITE):
        result = tool("transact", str(path), '["Open_vSwitch"]', check=False)
        assert result.returncode != 0
        assert f"already locked by pid {os.getpid()}" in result.stderr
        assert f"I/O error: {path}: failed to lock lockfile" in result.stderr
        tool("show-log", str(path))  # readers are not locked out
    tool("transact", str(path), '["Open_vSwitch"]')


@pytest.fixture
def real_server(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    if not OVSDB_SERVER.exists():
        pytest.skip(f"real ovsdb-server not installed ({OVSDB_SERVER} missing)")
    path = tmp_path / "conf.db"
    tool("create", str(path), str(VSWITCH_SCHEMA))
    server = subprocess.Popen(
        [str(OVSDB_SERVER), str(path), f"--remote=punix:{tmp_path / 'db.sock'}",
         f"--unixctl={tmp_path / 'ctl'}", "-vconsole:off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / "db.sock").exists():
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        yield path, server
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_we_cannot_write_while_ovsdb_server_holds_the_lock(
        real_server: tuple[Path, subprocess.Popen[bytes]]) -> None:
    path, server = real_server
    with pytest.raises(LockError) as info:
        LogFile.open(path, OpenMode.READ_WRITE)
    assert str(info.value) == (
        f"I/O error: {path}: failed to lock lockfile (Resource temporarily unavailable)")
    assert info.value.warning.endswith(f"already locked by pid {server.pid}")
    assert read_records(path)[0]["name"] == "Open_vSwitch"
