"""pyovsdb-client against the real ovsdb-client 3.1, both talking to a real ovsdb-server.

Each test starts /usr/sbin/ovsdb-server in a private directory (database
made with the real ovsdb-tool; ``--remote=punix:<dir>/db.sock --no-chdir
--pidfile --log-file --unixctl``), runs the same command with both clients,
and compares exit status, stdout and stderr -- byte for byte, since both
read the same server.  Monitors run side by side on the same server and
must print the same text for the same changes.  The server is killed by pid
in a ``finally``.

Skipped, with the reason, when the real binaries are absent.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REAL_TOOL = Path("/usr/bin/ovsdb-tool")
REAL_SERVER = Path("/usr/sbin/ovsdb-server")
REAL_CLIENT = Path("/usr/bin/ovsdb-client")
REAL_APPCTL = Path("/usr/bin/ovs-appctl")
PY_CLIENT = Path(sys.executable).parent / "pyovsdb-client"
SCHEMAS = Path(__file__).resolve().parents[2] / "src" / "pyovs" / "ovsdb" / "schemas"
VSWITCH = SCHEMAS / "vswitch.ovsschema"

_missing = [p for p in (REAL_TOOL, REAL_SERVER, REAL_CLIENT) if not os.access(p, os.X_OK)]
pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(bool(_missing), reason=f"real Open vSwitch not installed ({_missing} "
                       "missing); install openvswitch-common/-switch (make debs)"),
    pytest.mark.skipif(not os.access(PY_CLIENT, os.X_OK),
                       reason=f"{PY_CLIENT} missing: reinstall the venv (pip install -e .)"),
]

Result = tuple[int, str, str]
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DATE_RE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}")
STAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|", re.M)

FILL = ["Open_vSwitch",
        {"op": "insert", "table": "Open_vSwitch",
         "row": {"bridges": ["set", [["named-uuid", "b0"], ["named-uuid", "b1"]]],
                 "external_ids": ["map", [["system-id", "x"]]]}},
        {"op": "insert", "table": "Bridge", "uuid-name": "b0",
         "row": {"name": "br0", "ports": ["named-uuid", "p0"],
                 "external_ids": ["map", [["a", "b c"], ["k", "v"]]]}},
        {"op": "insert", "table": "Bridge", "uuid-name": "b1",
         "row": {"name": 'br<&"1', "other_config": ["map", [["x", "a,b"]]],
                 "flood_vlans": ["set", [1, 2, 10]]}},
        {"op": "insert", "table": "Port", "uuid-name": "p0",
         "row": {"name": "p0", "interfaces": ["named-uuid", "i0"], "tag": 7}},
        {"op": "insert", "table": "Interface", "uuid-name": "i0",
         "row": {"name": "p0", "type": "internal", "ofport": 1,
                 "options": ["map", [["remote_ip", "1.2.3.4"]]]}}]


@dataclass
class Server:
    dir: Path
    sock: Path
    ctl: Path
    pid: int

    @property
    def target(self) -> str:
        return f"unix:{self.sock}"

    @property
    def env(self) -> dict[str, str]:
        return {"OVS_RUNDIR": str(self.dir), "OVS_DBDIR": str(self.dir)}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    yield from _server(tmp_path)


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the tests that leave the database as it is."""
    yield from _server(tmp_path_factory.mktemp("shared"))


def _server(tmp_path: Path) -> Iterator[Server]:
    db = tmp_path / "conf.db"
    subprocess.run([str(REAL_TOOL), "create", str(db), str(VSWITCH)], check=True)
    subprocess.run([str(REAL_TOOL), "transact", str(db), json.dumps(FILL)], check=True,
                   capture_output=True)
    pidfile = tmp_path / "pid"
    subprocess.run(
        [str(REAL_SERVER), f"--remote=punix:{tmp_path / 'db.sock'}", "--no-chdir",
         f"--pidfile={pidfile}", f"--log-file={tmp_path / 'log'}",
         f"--unixctl={tmp_path / 'ctl'}", "--detach", str(db)],
        check=True, timeout=30, env=dict(os.environ, OVS_RUNDIR=str(tmp_path)))
    pid = int(pidfile.read_text())
    try:
        yield Server(tmp_path, tmp_path / "db.sock", tmp_path / "ctl", pid)
    finally:
        _kill(pid)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)


def run(tool: Path, *args: str | Path, env: dict[str, str] | None = None,
        timeout: float = 30) -> Result:
    p = subprocess.run([str(tool), *map(str, args)], capture_output=True, text=True,
                       env=dict(os.environ, **(env or {})), timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def both(server: Server, *args: str | Path) -> tuple[Result, Result]:
    args = tuple(server.target if a == "SERVER" else a for a in args)
    real = run(REAL_CLIENT, *args, env=server.env)
    ours = run(PY_CLIENT, *args, env=server.env)
    # getopt's messages start with argv[0] as typed: here, the tools' paths.
    real = (real[0], real[1], re.sub(r"^\S*ovsdb-client: ", "ovsdb-client: ", real[2]))
    # Log lines (``wait`` logs its connection) carry the time.
    real, ours = ((r[0], r[1], STAMP_RE.sub("T|", r[2])) for r in (real, ours))
    return real, ours


def normalize(text: str) -> str:
    names: dict[str, str] = {}
    return UUID_RE.sub(lambda m: names.setdefault(m[0], f"<{len(names)}>"), text)


# --- one-shot commands ------------------------------------------------------------

DUMP = ["dump", "SERVER", "Open_vSwitch"]
COMMANDS = [
    ["list-dbs", "SERVER"], ["list-dbs"],
    ["get-schema", "SERVER"], ["get-schema", "SERVER", "_Server"], ["--pretty", "get-schema"],
    ["get-schema-version", "SERVER"], ["get-schema-cksum", "SERVER", "_Server"],
    ["list-tables", "SERVER"], ["list-tables", "SERVER", "_Server"],
    ["list-columns", "SERVER"], ["list-columns", "SERVER", "Open_vSwitch", "Bridge"],
    ["list-columns", "SERVER", "Nope"], ["--format=csv", "list-columns", "SERVER", "_Server"],
    ["dump", "SERVER"], ["dump"], [*DUMP, "Bridge"], [*DUMP, "Bridge", "name", "flood_vlans"],
    ["--format=list", *DUMP], ["--format=csv", *DUMP], ["--format=html", *DUMP],
    ["--format=json", *DUMP], ["--pretty", "-f", "json", *DUMP, "Bridge", "name"],
    ["--bare", *DUMP], ["--data=json", *DUMP, "Interface"], ["-d", "bare", *DUMP, "Bridge"],
    ["--no-headings", *DUMP, "Port"], ["--max-column-width=6", *DUMP, "Bridge"],
    ["-f", "csv", "--no-headings", "dump", "SERVER", "_Server"],
    ["query", "SERVER", '["Open_vSwitch",{"op":"select","table":"Bridge","where":[],'
                        '"columns":["name","external_ids"],"sort":["name"]}]'],
    ["query", '["Open_vSwitch",{"op":"insert","table":"Open_vSwitch","row":{}}]'],
    ["transact", "SERVER", '["Open_vSwitch",{"op":"select","table":"Port","where":[]}]'],
    ["transact", '["_Server",{"op":"select","table":"Database","where":[],'
                 '"columns":["name","model","connected","leader"]}]'],
    ["needs-conversion", "SERVER", VSWITCH],
    ["transact", "SERVER", '["Open_vSwitch",{"op":"select","table":"Nope","where":[]}]'],
    ["wait", "SERVER", "Open_vSwitch", "added"], ["wait", "Open_vSwitch", "connected"],
]
ERRORS = [
    [], ["frobnicate"], ["--foo"], ["-x"], ["-t", "0", "list-dbs"], ["--timeout=abc", "list-dbs"],
    ["--format=xx", "list-dbs"], ["--data=yy", "list-dbs"], ["-f"], ["--help=x"],
    ["list-dbs", "SERVER", "extra"], ["get-schema", "SERVER", "Nope"],
    ["list-dbs", "unix:/nonexistent/db.sock"], ["list-dbs", "tcp:127.0.0.1:1"],
    ["list-dbs", "foo:bar"],
    ["dump", "SERVER", "NoSuch"], ["dump", "SERVER", "Bridge", "nocol"],
    ["transact", "SERVER", "[bad"], ["transact", "SERVER", "{}"],
    ["transact", "SERVER", '["Nope"]'], ["transact", "SERVER", '["Open_vSwitch"'],
    ["query", "SERVER", '"x"'], ["query", "SERVER", "[]"],
    ["monitor", "SERVER", "Open_vSwitch", "Nope"],
    ["monitor", "SERVER", "Bridge", "nocol"], ["monitor", "SERVER", "Bridge", "name,name"],
    ["monitor", "SERVER", "Bridge", "name", "name"],
    ["monitor-cond", "SERVER", "Open_vSwitch", '[["nocol","==",1]]', "Bridge"],
    ["monitor-cond", "SERVER", "[bad", "Bridge"], ["monitor-cond", "SERVER", "[]", "Nope"],
    ["monitor-cond", "SERVER", "Bridge"],
    ["wait", "Open_vSwitch", "bogus"], ["wait", "SERVER"],
    ["needs-conversion", "SERVER", "/nonexistent.ovsschema"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(map(str, a))[:70])
def test_commands_agree(shared_server: Server, args: list[Any]) -> None:
    real, ours = both(shared_server, *args)
    assert real[0] == 0
    if args[0] == "query" and "insert" in args[-1]:
        real, ours = ((r[0], normalize(r[1]), r[2]) for r in (real, ours))
    assert ours == real


@pytest.mark.parametrize("args", ERRORS, ids=lambda a: " ".join(map(str, a))[:70] or "no-args")
def test_errors_agree(shared_server: Server, args: list[Any]) -> None:
    real, ours = both(shared_server, *args)
    assert real[0] != 0
    assert ours == real


def test_transactions_agree(server: Server, tmp_path: Path) -> None:
    steps = [
        '["Open_vSwitch",{"op":"insert","table":"Bridge","uuid-name":"b","row":{"name":"x"}},'
        '{"op":"mutate","table":"Open_vSwitch","where":[],'
        '"mutations":[["bridges","insert",["named-uuid","b"]]]}]',
        '["Open_vSwitch",{"op":"update","table":"Bridge","where":[["name","==","x"]],'
        '"row":{"stp_enable":true}}]',
        '["Open_vSwitch",{"op":"insert","table":"Bridge","row":{"name":"x"}},'
        '{"op":"mutate","table":"Open_vSwitch","where":[],'
        '"mutations":[["bridges","insert",["named-uuid","nope"]]]}]',
        '["Open_vSwitch",{"op":"delete","table":"Bridge","where":[["name","==","x"]]}]',
        '["Open_vSwitch",{"op":"wait","table":"Bridge","where":[],"timeout":0,"until":"==",'
        '"rows":[],"columns":["name"]}]',
    ]
    # Each client gets a server of its own, started from the same data.
    (tmp_path / "second").mkdir()
    servers = _server(tmp_path / "second")
    other = next(servers)
    try:
        for step in steps:
            real = run(REAL_CLIENT, "transact", server.target, step)
            ours = run(PY_CLIENT, "transact", other.target, step)
            assert (ours[0], normalize(ours[1]), ours[2]) == \
                (real[0], normalize(real[1]), real[2])
        # (Sets of UUIDs sort differently on two servers: compare the rest.)
        columns = ["Bridge", "name", "stp_enable", "external_ids", "flood_vlans"]
        real = run(REAL_CLIENT, "dump", server.target, *columns)
        ours = run(PY_CLIENT, "dump", other.target, *columns)
        assert ours == real
    finally:
        servers.close()


def test_backup_is_a_database_file_the_real_tool_reads(server: Server) -> None:
    ours_file, real_file = server.dir / "ours.backup", server.dir / "real.backup"
    with ours_file.open("wb") as out:
        assert subprocess.run([str(PY_CLIENT), "backup", server.target], stdout=out,
                              timeout=30).returncode == 0
    with real_file.open("wb") as out:
        subprocess.run([str(REAL_CLIENT), "backup", server.target], stdout=out, check=True)
    real_records = [json.loads(b) for b in real_file.read_bytes().split(b"\n")[1::2] if b]
    our_records = [json.loads(b) for b in ours_file.read_bytes().split(b"\n")[1::2] if b]
    for r in (real_records[1], our_records[1]):
        del r["_date"]
    assert our_records == real_records
    assert real_file.read_bytes().split(b"\n")[:2] == ours_file.read_bytes().split(b"\n")[:2]
    shown = run(REAL_TOOL, "-mm", "show-log", ours_file)
    assert shown[0] == 0 and "table Bridge insert row" in shown[1]


# --- long-running commands ------------------------------------------------------

class Watcher:
    """A monitor (or lock) process writing to a file we can poll."""

    def __init__(self, tool: Path, args: list[str], out: Path, env: dict[str, str]) -> None:
        self.out = out
        self.handle = out.open("w")
        self.proc = subprocess.Popen([str(tool), *args], stdout=self.handle,
                                     stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, **env))

    def text(self) -> str:
        return self.out.read_text()

    def wait_for(self, predicate: Any, timeout: float = 15, must: bool = True) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.text()
            if predicate(text):
                return text
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not must:
            return ""
        raise AssertionError(f"timed out; output so far: {self.text()!r}, stderr: "
                             f"{self.stop()!r}")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            _, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        self.handle.close()
        return err


@pytest.fixture
def watchers() -> Iterator[list[Watcher]]:
    started: list[Watcher] = []
    try:
        yield started
    finally:
        for w in started:
            w.stop()


CHANGES = [
    '["Open_vSwitch",{"op":"insert","table":"Bridge","uuid-name":"b","row":{"name":"br9"}},'
    '{"op":"mutate","table":"Open_vSwitch","where":[],'
    '"mutations":[["bridges","insert",["named-uuid","b"]]]}]',
    '["Open_vSwitch",{"op":"update","table":"Bridge","where":[["name","==","br9"]],'
    '"row":{"stp_enable":true,"external_ids":["map",[["x","y"]]]}}]',
    '["Open_vSwitch",{"op":"update","table":"Bridge","where":[["name","==","br0"]],'
    '"row":{"stp_enable":true,"flood_vlans":["set",[5]]}}]',
    '["Open_vSwitch",{"op":"update","table":"Open_vSwitch","where":[],'
    '"row":{"bridges":["set",[]]}}]',
]


@pytest.mark.parametrize("args", [
    ["monitor", "SERVER", "Open_vSwitch", "Bridge", "name,external_ids"],
    ["monitor", "SERVER", "Bridge"],
    ["monitor", "SERVER", "Open_vSwitch", "ALL"],
    ["monitor", "SERVER", "Bridge", "name,!initial,!delete", "stp_enable"],
    ["monitor-cond", "SERVER", "Open_vSwitch", '[["name","==","br9"]]', "Bridge",
     "name,stp_enable"],
    ["monitor-cond", "SERVER", "[]", "Bridge"],
    ["monitor-cond-since", "SERVER", "Open_vSwitch", "[]", "Bridge", "name"],
    ["--format=json", "monitor", "SERVER", "Bridge", "name"],
    ["--format=csv", "--no-headings", "monitor", "SERVER", "Open_vSwitch", "ALL"],
    ["--timestamp", "-f", "list", "monitor", "SERVER", "Bridge", "name"],
], ids=lambda a: " ".join(a)[:70])
def test_monitors_print_the_same_updates(server: Server, watchers: list[Watcher],
                                         args: list[str], tmp_path: Path) -> None:
    args = [server.target if a == "SERVER" else a for a in args]
    real = Watcher(REAL_CLIENT, args, tmp_path / "real.out", server.env)
    ours = Watcher(PY_CLIENT, args, tmp_path / "ours.out", server.env)
    watchers += [real, ours]
    # Both must have their initial contents before the first change; when
    # the monitored rows are all filtered out there is nothing to wait for.
    initial = real.wait_for(bool, timeout=3, must=False)
    if initial:
        ours.wait_for(lambda t: len(t) >= len(initial))
    else:
        time.sleep(3)
    for change in CHANGES:
        before = len(real.text())
        rc, out, _ = run(REAL_CLIENT, "transact", server.target, change)
        assert rc == 0 and '"error"' not in out, out
        # Wait for both to print this update (if it concerns them) before the next.
        time.sleep(0.2)
        real.wait_for(lambda t, n=before: len(t) >= n)
        ours.wait_for(lambda t, r=real: len(t) >= len(r.text()))
    time.sleep(0.3)
    real_text, ours_text = real.text(), ours.text()
    if "--timestamp" in args:
        real_text, ours_text = DATE_RE.sub("D", real_text), DATE_RE.sub("D", ours_text)
    assert ours_text == real_text
    assert ours.proc.poll() is None


def test_monitor_ends_when_the_server_goes_away(server: Server, watchers: list[Watcher],
                                                tmp_path: Path) -> None:
    ours = Watcher(PY_CLIENT, ["monitor", server.target, "Bridge", "name"],
                   tmp_path / "ours.out", server.env)
    watchers.append(ours)
    ours.wait_for(lambda t: "initial" in t)
    _kill(server.pid)
    assert ours.proc.wait(timeout=10) == 1
    assert ours.stop() == f"ovsdb-client: {server.target}: receive failed (End of file)\n"


def test_wait_returns_once_the_database_is_added(server: Server, watchers: list[Watcher],
                                                 tmp_path: Path) -> None:
    if not os.access(REAL_APPCTL, os.X_OK):
        pytest.skip("ovs-appctl not installed")
    other = tmp_path / "other.db"
    nb = json.loads((SCHEMAS / "ovn-nb.ovsschema").read_text())
    schema = tmp_path / "nb.ovsschema"
    schema.write_text(json.dumps(nb))
    subprocess.run([str(REAL_TOOL), "create", str(other), str(schema)], check=True)
    procs = {tool: subprocess.Popen([str(tool), "wait", server.target, nb["name"], "added"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
             for tool in (REAL_CLIENT, PY_CLIENT)}
    try:
        time.sleep(1.0)
        assert all(p.poll() is None for p in procs.values())
        subprocess.run([str(REAL_APPCTL), "-t", str(server.ctl), "ovsdb-server/add-db",
                        str(other)], check=True, capture_output=True)
        assert [p.wait(timeout=10) for p in procs.values()] == [0, 0]
        real, ours = both(server, "wait", nb["name"], "connected")
        assert ours == real and real[0] == 0
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
            p.wait()


def test_timeout_kills_with_sigalrm_like_ovs(server: Server) -> None:
    real = subprocess.run([str(REAL_CLIENT), "-t", "1", "wait", server.target, "Nope", "added"],
                          capture_output=True, timeout=30)
    ours = subprocess.run([str(PY_CLIENT), "-t", "1", "wait", server.target, "Nope", "added"],
                          capture_output=True, timeout=30)
    assert ours.returncode == real.returncode == -signal.SIGALRM


@pytest.mark.parametrize("tool", [REAL_CLIENT, PY_CLIENT], ids=["real", "pyovs"])
def test_locks(server: Server, watchers: list[Watcher], tool: Path, tmp_path: Path) -> None:
    first = Watcher(tool, ["lock", server.target, "L"], tmp_path / "1.out", server.env)
    watchers.append(first)
    first.wait_for(lambda t: t == '{"locked":true}\n')
    second = Watcher(tool, ["lock", server.target, "L"], tmp_path / "2.out", server.env)
    watchers.append(second)
    second.wait_for(lambda t: t == '{"locked":false}\n')
    third = Watcher(tool, ["steal", server.target, "L"], tmp_path / "3.out", server.env)
    watchers.append(third)
    third.wait_for(lambda t: t == '{"locked":true}\n')
    first.wait_for(lambda t: t == '{"locked":true}\nstolen\n["L"]\n')
    third.stop()
    # The lock goes to one of the waiters again.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if any("\nlocked\n" in w.text() for w in (first, second)):
            break
        time.sleep(0.05)
    else:
        raise AssertionError((first.text(), second.text()))
