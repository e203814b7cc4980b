"""pyovsdb-tool against the real ovsdb-tool 3.1, on the same database files.

Every test runs both tools, the way users do (as processes), on the same
file or on identical copies, and compares exit status, stdout and stderr.
Where the real tool's output is deterministic the comparison is byte for
byte; where a run makes fresh UUIDs or dates, they are normalised first
(UUIDs to placeholders in order of appearance, dates to a fixed string).
Files written by each tool are also read by the other.

Skipped, with the reason, when /usr/bin/ovsdb-tool is absent.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

REAL_TOOL = Path("/usr/bin/ovsdb-tool")
REAL_SERVER = Path("/usr/sbin/ovsdb-server")
REAL_CLIENT = Path("/usr/bin/ovsdb-client")
PY_TOOL = Path(sys.executable).parent / "pyovsdb-tool"
SCHEMAS = Path(__file__).resolve().parents[2] / "src" / "pyovs" / "ovsdb" / "schemas"
VSWITCH = SCHEMAS / "vswitch.ovsschema"

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not os.access(REAL_TOOL, os.X_OK),
                       reason=f"real Open vSwitch not installed ({REAL_TOOL} missing); "
                              "install openvswitch-common (make debs)"),
    pytest.mark.skipif(not os.access(PY_TOOL, os.X_OK),
                       reason=f"{PY_TOOL} missing: reinstall the venv (pip install -e .)"),
]

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SHORT_RE = re.compile(r"\b[0-9a-f]{8}\b")
DATE_RE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}")
BAD_JSON_RE = re.compile(r"(?<=are not valid JSON )\(.*\)")
STAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|", re.M)

Result = tuple[int, str, str]


def run(tool: Path, *args: str | Path, cwd: Path | None = None,
        env: dict[str, str] | None = None) -> Result:
    full_env = dict(os.environ, **(env or {}))
    p = subprocess.run([str(tool), *map(str, args)], capture_output=True, text=True,
                       cwd=cwd, env=full_env, timeout=60)
    return p.returncode, p.stdout, p.stderr


def both(*args: str | Path, cwd: Path | None = None,
         env: dict[str, str] | None = None) -> tuple[Result, Result]:
    return run(REAL_TOOL, *args, cwd=cwd, env=env), run(PY_TOOL, *args, cwd=cwd, env=env)


def normalize(text: str) -> str:
    """UUIDs (and their 8-digit short forms) to placeholders; dates to D."""
    names: dict[str, str] = {}

    def full(m: re.Match[str]) -> str:
        return names.setdefault(m[0], f"<{len(names)}>")

    text = UUID_RE.sub(full, text)
    shorts = {u[:8]: p for u, p in names.items()}
    text = SHORT_RE.sub(lambda m: shorts.get(m[0], m[0]), text)
    text = STAMP_RE.sub("T|", text)
    return DATE_RE.sub("D", text)


def unordered(show_log: str) -> list[list[str]]:
    """show-log text per record, lines sorted, every UUID and date blotted out."""
    text = SHORT_RE.sub("S", UUID_RE.sub("U", DATE_RE.sub("D", show_log)))
    return [sorted(r.replace(" diff:", ":").splitlines()) for r in text.split("record ")]


def digest(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def records(path: Path) -> list[Any]:
    lines = path.read_bytes().split(b"\n")
    return [json.loads(body) for body in lines[1::2] if body]


# Transactions exercising names, sets, maps, references, deletes and comments.
TXNS = [
    ["Open_vSwitch",
     {"op": "insert", "table": "Open_vSwitch", "row": {"bridges": ["named-uuid", "br"]}},
     {"op": "insert", "table": "Bridge", "uuid-name": "br",
      "row": {"name": "br0", "ports": ["named-uuid", "p"]}},
     {"op": "insert", "table": "Port", "uuid-name": "p",
      "row": {"name": "p0", "interfaces": ["named-uuid", "i"], "tag": 7}},
     {"op": "insert", "table": "Interface", "uuid-name": "i",
      "row": {"name": "p0", "type": "internal", "options": ["map", [["k", "v w"]]]}},
     {"op": "comment", "comment": "hello \"w\""}],
    ["Open_vSwitch",
     {"op": "update", "table": "Bridge", "where": [],
      "row": {"external_ids": ["map", [["a", "b"], ["c", "d"]]], "stp_enable": True,
              "other_config": ["map", [["x", "1.5"]]]}}],
    ["Open_vSwitch",
     {"op": "insert", "table": "SSL", "uuid-name": "s",
      "row": {"private_key": "k", "certificate": "c", "ca_cert": "a"}},
     {"op": "update", "table": "Open_vSwitch", "where": [], "row": {"ssl": ["named-uuid", "s"]}},
     {"op": "insert", "table": "Flow_Table", "uuid-name": "ft", "row": {"name": "ft"}},
     {"op": "mutate", "table": "Bridge", "where": [],
      "mutations": [["flow_tables", "insert", ["map", [[1, ["named-uuid", "ft"]]]]]]}],
    ["Open_vSwitch",
     {"op": "mutate", "table": "Bridge", "where": [],
      "mutations": [["external_ids", "delete", ["set", ["a"]]],
                    ["flood_vlans", "insert", ["set", [1, 2, 3]]]]},
     {"op": "update", "table": "Flow_Table", "where": [], "row": {"name": "ft-renamed"}}],
    ["Open_vSwitch",
     {"op": "update", "table": "Open_vSwitch", "where": [], "row": {"bridges": ["set", []]}}],
]
ERROR_TXNS = [
    '["Open_vSwitch",{"op":"insert","table":"Port","row":{"name":"x"}}]',
    '["Open_vSwitch",{"op":"insert","table":"Open_vSwitch",'
    '"row":{"bridges":["uuid","01234567-89ab-cdef-0123-456789abcdef"]}}]',
    '["Open_vSwitch",{"op":"insert","table":"Nope","row":{}}]',
    '["Open_vSwitch",{"op":"insert","table":"Bridge","row":{"flood_vlans":5000}}]',
    '["Open_vSwitch",{"op":"select","table":"Bridge","where":[["name","==",1]]}]',
    '["Open_vSwitch",{"op":"wait","table":"Bridge","where":[],"until":"==","rows":[{}],'
    '"columns":[]}]',
    '["Open_vSwitch",{"op":"abort"}]',
    '["Nope"]',
    "{}",
]


def fill(tool: Path, db: Path) -> list[str]:
    outs = []
    for txn in TXNS:
        rc, out, err = run(tool, "transact", db, json.dumps(txn))
        assert (rc, err) == (0, ""), err
        assert '"error"' not in out, out
        outs.append(out)
    return outs


@pytest.fixture
def real_db(tmp_path: Path) -> Path:
    db = tmp_path / "real.db"
    assert run(REAL_TOOL, "create", db, VSWITCH)[0] == 0
    fill(REAL_TOOL, db)
    return db


def schema_files() -> list[Path]:
    found = sorted(SCHEMAS.glob("*.ovsschema"))
    for extra in (Path("/usr/share/openvswitch/vswitch.ovsschema"),
                  Path("/usr/share/openvswitch/local-config.ovsschema"),
                  Path("/usr/share/ovn/ovn-nb.ovsschema"),
                  Path("/usr/share/ovn/ovn-sb.ovsschema")):
        if extra.exists():
            found.append(extra)
    return found


# --- create and the schema/db queries -----------------------------------------------

@pytest.mark.parametrize("schema", schema_files(), ids=lambda p: str(p))
def test_create_is_byte_identical(schema: Path, tmp_path: Path) -> None:
    real, ours = tmp_path / "real.db", tmp_path / "ours.db"
    assert run(REAL_TOOL, "create", real, schema) == (0, "", "")
    assert run(PY_TOOL, "create", ours, schema) == (0, "", "")
    assert real.read_bytes() == ours.read_bytes()


@pytest.mark.parametrize("args", [
    ["db-name", "DB"], ["db-version", "DB"], ["db-cksum", "DB"],
    ["schema-name", VSWITCH], ["schema-version", VSWITCH], ["schema-cksum", VSWITCH],
    ["needs-conversion", "DB", VSWITCH], ["needs-conversion", "DB", SCHEMAS / "ovn-nb.ovsschema"],
    ["db-is-standalone", "DB"], ["db-is-clustered", "DB"], ["db-cid", "DB"],
    ["compare-versions", "1.2.3", "<", "1.3.0"], ["compare-versions", "3.0.0", "<=", "2.9.9"],
    ["compare-versions", "1.2", "==", "1.2.0"], ["compare-versions", "1.0.0", "=", "1.0.0"],
    ["list-commands"],
    ["show-log", "DB"], ["-m", "show-log", "DB"], ["-mm", "show-log", "DB"],
    ["show-log", "-m", "-m", "DB"], ["--more", "show-log", "DB"],
], ids=lambda a: " ".join(map(str, a)))
def test_read_only_commands_agree(args: list[Any], real_db: Path) -> None:
    args = [real_db if a == "DB" else a for a in args]
    real, ours = both(*args)
    assert ours == real


def test_defaults_follow_ovs_dbdir(tmp_path: Path) -> None:
    # Both tools honour OVS_DBDIR for the default database (the default
    # schemas differ: each tool's own package data).
    env = {"OVS_DBDIR": str(tmp_path)}
    assert run(PY_TOOL, "create", env=env)[0] == 0
    assert (tmp_path / "conf.db").exists()
    real, ours = both("db-name", env=env)
    assert real == ours == (0, "Open_vSwitch\n", "")
    real, ours = both("query", '["Open_vSwitch",{"op":"select","table":"Bridge","where":[]}]',
                      env=env)
    assert real == ours


# --- query and transact ---------------------------------------------------------

@pytest.mark.parametrize("txn", [
    '["Open_vSwitch",{"op":"select","table":"Bridge","where":[]}]',
    '["Open_vSwitch",{"op":"select","table":"Interface","where":[],"columns":["name","options"]}]',
    '["Open_vSwitch",{"op":"select","table":"Port","where":[["tag","==",7]],'
    '"columns":["_uuid","tag"]}]',
    '["Open_vSwitch",{"op":"insert","table":"Open_vSwitch","row":{}}]',
    *ERROR_TXNS,
], ids=lambda t: t[:60])
def test_query_agrees(txn: str, real_db: Path) -> None:
    before = digest(real_db)
    real, ours = both("query", real_db, txn)
    if UUID_RE.search(real[1]) and '"insert"' in txn:
        real, ours = (real[0], normalize(real[1]), real[2]), (ours[0], normalize(ours[1]),
                                                              ours[2])
    assert ours == real
    assert digest(real_db) == before


def test_transact_agrees_step_by_step(tmp_path: Path) -> None:
    real_db, our_db = tmp_path / "real.db", tmp_path / "ours.db"
    run(REAL_TOOL, "create", real_db, VSWITCH)
    run(PY_TOOL, "create", our_db, VSWITCH)
    for txn in [*map(json.dumps, TXNS), *ERROR_TXNS]:
        real = run(REAL_TOOL, "transact", real_db, txn)
        ours = run(PY_TOOL, "transact", our_db, txn)
        assert (ours[0], normalize(ours[1]), ours[2]) == (real[0], normalize(real[1]), real[2])
    # The files differ in their UUIDs, and so in the order rows are listed;
    # and the real tool writes column diffs (" diff" in show-log) where
    # pyovsdb-tool writes whole values.
    assert normalize(run(PY_TOOL, "show-log", our_db)[1]) == \
        normalize(run(REAL_TOOL, "show-log", real_db)[1])
    for level in ("-m", "-mm"):
        ours_text, real_text = (run(tool, level, "show-log", db)[1]
                                for tool, db in ((PY_TOOL, our_db), (REAL_TOOL, real_db)))
        assert unordered(ours_text) == unordered(real_text)


def test_files_written_by_pyovsdb_tool_pass_the_real_tool(tmp_path: Path) -> None:
    db = tmp_path / "ours.db"
    assert run(PY_TOOL, "create", db, VSWITCH)[0] == 0
    fill(PY_TOOL, db)
    for args in (["show-log", db], ["-mm", "show-log", db], ["db-name", db],
                 ["query", db, '["Open_vSwitch",{"op":"select","table":"Bridge","where":[]}]'],
                 ["query", db, '["Open_vSwitch",{"op":"select","table":"Open_vSwitch",'
                               '"where":[],"columns":["_uuid","bridges","ssl"]}]']):
        real, ours = both(*args)
        assert real[0] == 0 and real[2] == ""
        assert ours == real
    # The real tool can compact our file and we read its result.
    assert run(REAL_TOOL, "compact", db)[0] == 0
    real, ours = both("-mm", "show-log", db)
    assert ours == real


def test_files_written_by_the_real_server_are_read_alike(tmp_path: Path) -> None:
    if not (os.access(REAL_SERVER, os.X_OK) and os.access(REAL_CLIENT, os.X_OK)):
        pytest.skip("real ovsdb-server/ovsdb-client not installed")
    db = tmp_path / "conf.db"
    run(REAL_TOOL, "create", db, VSWITCH)
    with RealServer(tmp_path, db) as sock:
        for txn in TXNS:
            assert run(REAL_CLIENT, "transact", f"unix:{sock}", json.dumps(txn))[0] == 0
    # The server writes column diffs ("_is_diff"): show-log marks them.
    assert any(r.get("_is_diff") for r in records(db)[1:])
    for args in (["show-log", db], ["-m", "show-log", db], ["-mm", "show-log", db],
                 ["query", db, '["Open_vSwitch",{"op":"select","table":"Bridge","where":[],'
                               '"columns":["_uuid","name","external_ids","flood_vlans"]}]']):
        real, ours = both(*args)
        assert ours == real


# --- compact and convert ----------------------------------------------------------

def test_compact_agrees(real_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    shutil.copy(real_db, copy)
    assert run(REAL_TOOL, "compact", real_db) == (0, "", "")
    assert run(PY_TOOL, "compact", copy) == (0, "", "")
    real_records, our_records = records(real_db), records(copy)
    assert real_db.read_bytes().split(b"\n")[:2] == copy.read_bytes().split(b"\n")[:2]
    for r in (real_records[1], our_records[1]):
        del r["_date"]
    assert our_records == real_records
    real, ours = both("-mm", "show-log", real_db), both("-mm", "show-log", copy)
    assert normalize(ours[1][1]) == normalize(real[0][1])
    # To a separate target, leaving the source alone.
    before = digest(copy)
    assert run(PY_TOOL, "compact", copy, tmp_path / "out.db") == (0, "", "")
    assert digest(copy) == before
    assert both("-mm", "show-log", tmp_path / "out.db")[0][0] == 0


CONVERT_FROM = {
    "name": "T", "version": "1.0.0",
    "tables": {
        "A": {"isRoot": True, "columns": {
            "name": {"type": "string"}, "n": {"type": "integer"}, "gone": {"type": "string"},
            "refs": {"type": {"key": {"type": "uuid", "refTable": "B"},
                              "min": 0, "max": "unlimited"}},
            "m": {"type": {"key": "string", "value": "integer", "min": 0, "max": "unlimited"}}}},
        "B": {"columns": {"x": {"type": "integer"}}},
        "C": {"isRoot": True, "columns": {"y": {"type": "string"}}},
    },
}


def convert_to(**changes: Any) -> dict[str, Any]:
    schema = json.loads(json.dumps(CONVERT_FROM))
    columns = schema["tables"]["A"]["columns"]
    del columns["gone"]
    del schema["tables"]["C"]
    columns["added"] = {"type": {"key": "string", "min": 0, "max": 1}}
    schema["version"] = "1.1.0"
    for name, ctype in changes.items():
        columns[name] = {"type": ctype}
    return schema


@pytest.mark.parametrize(("name", "target"), [
    ("drops-and-adds", convert_to()),
    ("still-fits", convert_to(n={"key": {"type": "integer", "maxInteger": 10}})),
    ("too-big", convert_to(n={"key": {"type": "integer", "maxInteger": 3}})),
    ("wrong-type", convert_to(n="string")),
    ("map-too-long", convert_to(m={"key": "string", "value": "integer", "min": 0, "max": 1})),
    ("set-to-scalar", convert_to(refs={"key": {"type": "uuid", "refTable": "B"}})),
    ("drop-referenced-table", {"name": "T", "version": "2.0.0", "tables": {
        "A": {"columns": {"name": {"type": "string"}}}}}),
])
def test_convert_agrees(name: str, target: dict[str, Any], tmp_path: Path) -> None:
    src = tmp_path / "from.ovsschema"
    src.write_text(json.dumps(CONVERT_FROM))
    dst = tmp_path / "to.ovsschema"
    dst.write_text(json.dumps(target))
    real_db, our_db = tmp_path / "real.db", tmp_path / "ours.db"
    run(REAL_TOOL, "create", real_db, src)
    txn = json.dumps(["T",
                      {"op": "insert", "table": "A", "row": {
                          "name": "a", "n": 5, "gone": "g", "refs": ["named-uuid", "b"],
                          "m": ["map", [["k", 1], ["l", 2]]]}},
                      {"op": "insert", "table": "A", "row": {"name": "z"}},
                      {"op": "insert", "table": "B", "uuid-name": "b", "row": {"x": 1}},
                      {"op": "insert", "table": "C", "row": {"y": "c"}}])
    run(REAL_TOOL, "transact", real_db, txn)
    run(REAL_TOOL, "transact", real_db,
        '["T",{"op":"update","table":"A","where":[["name","==","z"]],"row":{"n":1}}]')
    shutil.copy(real_db, our_db)
    real = run(REAL_TOOL, "convert", real_db, dst)
    ours = run(PY_TOOL, "convert", our_db, dst)
    assert ours == real
    if real[0]:
        assert digest(our_db) == digest(real_db)
    real, ours = both("-mm", "show-log", real_db), both("-mm", "show-log", our_db)
    assert normalize(ours[0][1]) == normalize(real[0][1])
    query = '["T",{"op":"select","table":"A","where":[],"sort":["name"]}]'
    real_q, our_q = run(REAL_TOOL, "query", real_db, query), run(PY_TOOL, "query", our_db, query)
    strip = re.compile(r'"_version":\["uuid","[0-9a-f-]{36}"\],?')
    assert strip.sub("", our_q[1]) == strip.sub("", real_q[1])


# --- bad input ------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    [], ["frobnicate"], ["create", "a", "b", "c"], ["query"], ["--foo"], ["-x"],
    ["--rbac-role"], ["db-name", "missing.db"], ["query", "missing.db", "[]"],
    ["show-log", "missing.db"], ["compact", "missing.db"],
    ["create", "new.db", "missing.ovsschema"], ["create", "new.db", "notjson.ovsschema"],
    ["create", "new.db", "notschema.ovsschema"], ["create", "new.db", "DB"],
    ["schema-name", "notschema.ovsschema"], ["db-name", "notjson.ovsschema"],
    ["db-name", "empty.db"], ["db-name", "notschema.db"],
    ["create", "DB", VSWITCH],
    ["query", "DB", "[bad"], ["query", "DB", '["Open_vSwitch"'], ["query", "DB", "  "],
    ["transact", "DB", '{"a" 1}'], ["transact", "DB", "[01]"], ["transact", "DB", '"x"'],
    ["convert", "DB", "notschema.ovsschema"], ["needs-conversion", "DB", "missing.ovsschema"],
], ids=lambda a: " ".join(map(str, a)) or "no-args")
def test_errors_agree_and_leave_files_alone(args: list[Any], real_db: Path,
                                            tmp_path: Path) -> None:
    (tmp_path / "notjson.ovsschema").write_text("{bad json")
    (tmp_path / "notschema.ovsschema").write_text('{"name":"x","tables":{"t":{}}}')
    (tmp_path / "empty.db").write_bytes(b"")
    (tmp_path / "notschema.db").write_bytes(b"OVSDB JSON 3 0\n{}\n")
    shutil.copy(real_db, tmp_path / "db")
    args = ["db" if a == "DB" else a for a in args]
    before = digest(tmp_path / "db")
    real, ours = both(*args, cwd=tmp_path)
    assert real[0] != 0
    # getopt's messages start with argv[0] as typed, here the tools' paths.
    real = (real[0], real[1], re.sub(r"^\S*ovsdb-tool: ", "ovsdb-tool: ", real[2]))
    assert ours == real
    assert digest(tmp_path / "db") == before
    assert not (tmp_path / "new.db").exists()


def test_torn_and_corrupt_files(real_db: Path, tmp_path: Path) -> None:
    data = real_db.read_bytes()
    cases = {
        "torn.db": data[:-10],
        "garbage.db": data + b"garbage\n",
        "badsha.db": data.replace(b"br0", b"brX", 1),
        "badjson.db": data + b"OVSDB JSON 2 %s\n{\n" % hashlib.sha1(b"{\n").hexdigest().encode(),
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        for args in (["show-log", path], ["-m", "show-log", path],
                     ["query", path, '["Open_vSwitch"]'], ["compact", path]):
            real, ours = both(*args)
            # The text after "are not valid JSON" is Python's (see jsontext).
            real, ours = ((r[0], r[1], BAD_JSON_RE.sub("(...)", r[2])) for r in (real, ours))
            assert ours == real, (name, args)
        assert path.read_bytes() == content


def test_locked_database_is_refused_alike(real_db: Path, tmp_path: Path) -> None:
    if not os.access(REAL_SERVER, os.X_OK):
        pytest.skip("real ovsdb-server not installed")
    with RealServer(tmp_path, real_db):
        before = digest(real_db)
        for args in (["transact", real_db, '["Open_vSwitch"]'], ["compact", real_db],
                     ["convert", real_db, VSWITCH]):
            real, ours = both(*args)
            assert real[0] == 1
            assert (ours[0], ours[1], STAMP_RE.sub("T|", ours[2])) == \
                (real[0], real[1], STAMP_RE.sub("T|", real[2]))
        assert digest(real_db) == before
        # Reading needs no lock.
        real, ours = both("-mm", "show-log", real_db)
        assert ours == real


# --- a real server --------------------------------------------------------------

class RealServer:
    """ovsdb-server on ``db`` in ``directory``; yields the socket path."""

    def __init__(self, directory: Path, db: Path) -> None:
        self.dir = directory / "server"
        self.db = db

    def __enter__(self) -> Path:
        self.dir.mkdir(exist_ok=True)
        sock = self.dir / "db.sock"
        self.pidfile = self.dir / "pid"
        subprocess.run(
            [str(REAL_SERVER), f"--remote=punix:{sock}", "--no-chdir",
             f"--pidfile={self.pidfile}", f"--log-file={self.dir / 'log'}",
             f"--unixctl={self.dir / 'ctl'}", "--detach", str(self.db)],
            check=True, timeout=30, env=dict(os.environ, OVS_RUNDIR=str(self.dir)))
        return sock

    def __exit__(self, *exc: object) -> None:
        try:
            pid = int(self.pidfile.read_text())
        except (OSError, ValueError):
            return
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
