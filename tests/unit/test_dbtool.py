"""pyovsdb-tool in memory: commands, output, messages and exit statuses.

These run ``pyovs.cli.dbtool.main`` in-process on files in a temporary
directory.  The texts expected here are ovsdb-tool 3.1's (the interop suite
compares with the real tool live); the command-line plumbing shared with
pyovsdb-client (getopt, OVS's JSON parser) is pinned here too.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from pyovs.cli import cmdline, dbfile, dbtool
from pyovs.ovsdb import ovsjson
from pyovs.ovsdb.schema import bundled_schema_path
from pyovs.ovsdb.storage import LogFile, compose_record

VSWITCH = str(bundled_schema_path("vswitch"))

SCHEMA_V1 = {
    "name": "T", "version": "1.0.0",
    "tables": {
        "A": {"isRoot": True, "columns": {
            "name": {"type": "string"}, "n": {"type": "integer"},
            "gone": {"type": "string"},
            "refs": {"type": {"key": {"type": "uuid", "refTable": "B"},
                              "min": 0, "max": "unlimited"}}}},
        "B": {"columns": {"x": {"type": "integer"}}},
        "C": {"isRoot": True, "columns": {"y": {"type": "string"}}},
    },
}
SCHEMA_V2 = {
    "name": "T", "version": "1.1.0",
    "tables": {
        "A": {"isRoot": True, "columns": {
            "name": {"type": "string"},
            "n": {"type": {"key": {"type": "integer", "maxInteger": 10}}},
            "added": {"type": {"key": "string", "min": 0, "max": 1}},
            "refs": {"type": {"key": {"type": "uuid", "refTable": "B"},
                              "min": 0, "max": "unlimited"}}}},
        "B": {"columns": {"x": {"type": "integer"}}},
    },
}
FILL_V1 = json.dumps(["T",
                      {"op": "insert", "table": "A",
                       "row": {"name": "a", "n": 5, "gone": "g", "refs": ["named-uuid", "b"]}},
                      {"op": "insert", "table": "B", "uuid-name": "b", "row": {"x": 1}},
                      {"op": "insert", "table": "C", "row": {"y": "c"}}])
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DATE_RE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = dbtool.main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def digest(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


@pytest.fixture
def schema_files(tmp_path: Path) -> tuple[str, str]:
    s1, s2 = tmp_path / "s1.ovsschema", tmp_path / "s2.ovsschema"
    s1.write_text(json.dumps(SCHEMA_V1))
    s2.write_text(json.dumps(SCHEMA_V2))
    return str(s1), str(s2)


@pytest.fixture
def tdb(tmp_path: Path, schema_files: tuple[str, str],
        capsys: pytest.CaptureFixture[str]) -> Path:
    db = tmp_path / "t.db"
    assert run(capsys, "create", str(db), schema_files[0])[0] == 0
    assert run(capsys, "transact", str(db), FILL_V1)[0] == 0
    return db


# --- create and the schema commands ----------------------------------------------

def test_create_writes_the_schema_in_ovs_byte_order(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "conf.db"
    assert run(capsys, "create", str(db), VSWITCH) == (0, "", "")
    log = LogFile.open(db)
    schema = log.read()
    assert log.read() is None
    log.close()
    assert schema is not None and schema["name"] == "Open_vSwitch"
    # OVS writes members in its hash order, which starts with "cksum" here.
    assert db.read_bytes().split(b"\n")[1].startswith(b'{"cksum":"')


def test_create_defaults_to_dbdir_and_bundled_schema(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OVS_DBDIR", str(tmp_path))
    assert run(capsys, "create")[0] == 0
    assert run(capsys, "db-name") == (0, "Open_vSwitch\n", "")
    assert run(capsys, "db-version")[1] == run(capsys, "schema-version")[1]


def test_create_refuses_an_existing_file(tdb: Path, capsys: pytest.CaptureFixture[str],
                                         schema_files: tuple[str, str]) -> None:
    before = digest(tdb)
    assert run(capsys, "create", str(tdb), schema_files[0]) == (
        1, "", f"ovsdb-tool: I/O error: {tdb}: create failed (File exists)\n")
    assert digest(tdb) == before


def test_create_with_bad_schema_reports_ovs_messages(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "none.ovsschema"
    assert run(capsys, "create", str(tmp_path / "x.db"), str(missing))[2] == (
        f'ovsdb-tool: failed to read schema: "{missing}" could not be read as JSON '
        f'(error opening "{missing}": No such file or directory)\n')
    bad = tmp_path / "bad.ovsschema"
    bad.write_text("{bad")
    assert run(capsys, "schema-name", str(bad))[2] == (
        f'ovsdb-tool: failed to read schema: "{bad}" could not be read as JSON '
        "(line 0, column 4, byte 4: invalid keyword 'bad')\n")
    bad.write_text('{"name":"x"}')
    assert run(capsys, "schema-name", str(bad)) == (
        1, "", f'ovsdb-tool: syntax "{{"name":"x"}}": syntax error: failed to parse "{bad}" as '
        "ovsdb schema: Parsing database schema failed: Required 'tables' member is "
        "missing.\n")
    assert not (tmp_path / "x.db").exists()


def test_schema_and_db_queries(tdb: Path, schema_files: tuple[str, str],
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "db-name", str(tdb)) == (0, "T\n", "")
    assert run(capsys, "db-version", str(tdb)) == (0, "1.0.0\n", "")
    assert run(capsys, "db-cksum", str(tdb)) == (0, "\n", "")
    assert run(capsys, "schema-version", schema_files[1]) == (0, "1.1.0\n", "")
    assert run(capsys, "schema-cksum", VSWITCH)[1] == "3012963480 26720\n"
    assert run(capsys, "needs-conversion", str(tdb), schema_files[0]) == (0, "no\n", "")
    assert run(capsys, "needs-conversion", str(tdb), schema_files[1]) == (0, "yes\n", "")
    assert run(capsys, "db-is-standalone", str(tdb)) == (0, "", "")
    assert run(capsys, "db-is-clustered", str(tdb)) == (2, "", "")
    assert run(capsys, "db-cid", str(tdb))[2] == \
        f"ovsdb-tool: {tdb}: not a clustered database\n"


@pytest.mark.parametrize(("a", "op", "b", "rc"), [
    ("1.2.3", "<", "1.3.0", 0), ("1.2.3", ">=", "1.3.0", 2), ("2.0.0", "==", "2.0.0", 0),
    ("10.0.0", ">", "9.9.9", 0), ("1.2.3", "!=", "1.2.3", 2),
])
def test_compare_versions(a: str, op: str, b: str, rc: int,
                          capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "compare-versions", a, op, b) == (rc, "", "")


def test_compare_versions_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "compare-versions", "1.2", "<", "1.3.0")[2] == \
        "ovsdb-tool: 1.2: not an OVSDB version number in format x.y.z\n"
    assert run(capsys, "compare-versions", "1.2.3", "~", "1.3.0")[2] == \
        "ovsdb-tool: ~: not a relational operator\n"


# --- query and transact ---------------------------------------------------------

def test_transact_commits_and_query_reads(tdb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(capsys, "query", str(tdb),
                       '["T",{"op":"select","table":"A","where":[],"columns":["name","n"]}]')
    assert (rc, out, err) == (0, '[{"rows":[{"n":5,"name":"a"}]}]\n', "")
    rc, out, _ = run(capsys, "transact", str(tdb),
                     '["T",{"op":"update","table":"A","where":[],"row":{"n":7}}]')
    assert out == '[{"count":1}]\n'
    assert '"n":7' in run(capsys, "query", str(tdb),
                          '["T",{"op":"select","table":"A","where":[]}]')[1]


def test_query_cannot_write_and_leaves_the_file_alone(tdb: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    before = digest(tdb)
    size = tdb.stat().st_size
    rc, out, _ = run(capsys, "query", str(tdb), '["T",{"op":"insert","table":"C","row":{}}]')
    assert rc == 0
    assert UUID_RE.sub("U", out) == (
        '[{"uuid":["uuid","U"]},{"details":"' + f"{tdb}: cannot truncate to length {size}"
        + '","error":"I/O error","io-error":"Invalid argument"}]\n')
    assert digest(tdb) == before


def test_transaction_errors_are_results_not_failures(tdb: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "query", str(tdb), "{}") == (
        0, '{"details":"array expected","error":"syntax error","syntax":"{}"}\n', "")
    assert run(capsys, "query", str(tdb), '["Nope"]')[1] == (
        '{"details":"database name expected as first parameter","error":"syntax error",'
        '"syntax":"[\\"Nope\\"]"}\n')
    # Without triggers, an unsatisfied wait fails where it stands.
    wait = ('["T",{"op":"select","table":"C","where":[],"columns":["y"]},'
            '{"op":"wait","table":"C","where":[],"until":"==","rows":[],"columns":["y"]},'
            '{"op":"select","table":"C","where":[],"columns":["y"]}]')
    assert run(capsys, "transact", str(tdb), wait)[1] == (
        '[{"rows":[{"y":"c"}]},{"details":"triggers not supported","error":"not supported"},'
        "null]\n")


def test_bad_json_transaction(tdb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = digest(tdb)
    assert run(capsys, "transact", str(tdb), "[bad") == (
        1, "", "ovsdb-tool: \"[bad\": line 0, column 4, byte 4: invalid keyword 'bad'\n")
    assert digest(tdb) == before


def test_default_db_is_used_when_only_the_transaction_is_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OVS_DBDIR", str(tmp_path))
    run(capsys, "create")
    assert run(capsys, "query", '["Open_vSwitch",{"op":"select","table":"Bridge","where":[]}]') \
        == (0, '[{"rows":[]}]\n', "")


# --- show-log ------------------------------------------------------------------

def test_show_log_levels(tdb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "transact", str(tdb),
        '["T",{"op":"update","table":"A","where":[],"row":{"name":"z"}},'
        '{"op":"delete","table":"C","where":[]},{"op":"comment","comment":"c \\"q\\""}]')
    out = DATE_RE.sub("D", run(capsys, "show-log", str(tdb))[1])
    assert out == ('record 0: "T" schema, version="1.0.0", cksum=""\n\n'
                   "record 1: D\nrecord 2: D \"c \"q\"\"\n")
    out = DATE_RE.sub("D", run(capsys, "-m", "show-log", str(tdb))[1])
    lines = out.splitlines()
    assert lines[:3] == ['record 0: "T" schema, version="1.0.0", cksum=""', "", "record 1: D"]
    assert '  table A insert row "a" (' in out
    assert "  table C insert row " in out
    assert re.search(r'  table A row "a" \([0-9a-f]{8}\):\n', out)
    assert re.search(r"  table C row ([0-9a-f]{8}) \(\1\):\n    delete row\n", out)
    detail = run(capsys, "-mm", "show-log", str(tdb))[1]
    assert "    name=a\n" in detail and "    n=5\n" in detail and "    name=z\n" in detail
    assert re.search(r"    refs=\[[0-9a-f-]{36}\]\n", detail)


def test_show_log_stops_with_the_read_error(tdb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    size = tdb.stat().st_size
    with tdb.open("ab") as f:
        f.write(b"garbage\n")
    rc, out, err = run(capsys, "show-log", str(tdb))
    assert rc == 1
    assert out.count("record ") == 2
    assert err == (f"ovsdb-tool: syntax error: {tdb}: parse error at offset {size} in header "
                   'line "garbage"\n')
    assert run(capsys, "query", str(tdb), '["T"]')[2] == err


# --- compact and convert ----------------------------------------------------------

def test_compact_in_place_keeps_the_data(tdb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = '["T",{"op":"select","table":"A","where":[],"columns":["_uuid","name","n","refs"]}]'
    for i in range(3):
        run(capsys, "transact", str(tdb),
            f'["T",{{"op":"update","table":"A","where":[],"row":{{"n":{i}}}}}]')
    before = run(capsys, "query", str(tdb), query)[1]
    assert run(capsys, "compact", str(tdb)) == (0, "", "")
    assert run(capsys, "query", str(tdb), query)[1] == before
    log = LogFile.open(tdb)
    records = [log.read(), log.read(), log.read()]
    log.close()
    assert records[2] is None and records[1] is not None
    assert records[1]["_comment"] == "compacted by ovsdb-tool 3.1.0"
    assert "_is_diff" not in records[1]
    assert not Path(f"{tdb}.tmp").exists()


def test_compact_to_a_new_file(tdb: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    before = digest(tdb)
    out = tmp_path / "out.db"
    out.write_text("old contents are replaced")
    assert run(capsys, "compact", str(tdb), str(out)) == (0, "", "")
    assert digest(tdb) == before
    assert run(capsys, "db-name", str(out))[1] == "T\n"


def test_convert_drops_columns_and_tables_and_keeps_rows(
        tdb: Path, schema_files: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "convert", str(tdb), schema_files[1]) == (0, "", "")
    assert run(capsys, "db-version", str(tdb))[1] == "1.1.0\n"
    out = run(capsys, "query", str(tdb), '["T",{"op":"select","table":"A","where":[],'
              '"columns":["name","n","added"]}]')[1]
    assert out == '[{"rows":[{"added":["set",[]],"n":5,"name":"a"}]}]\n'
    detail = run(capsys, "-mm", "show-log", str(tdb))[1]
    assert "gone" not in detail and "table C" not in detail
    assert '"converted by ovsdb-tool 3.1.0"' in detail


def test_convert_rejects_values_that_no_longer_fit(tdb: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    strict = json.loads(json.dumps(SCHEMA_V2))
    strict["tables"]["A"]["columns"]["n"]["type"]["key"]["maxInteger"] = 3
    path = tmp_path / "strict.ovsschema"
    path.write_text(json.dumps(strict))
    before = digest(tdb)
    assert run(capsys, "convert", str(tdb), str(path)) == (
        1, "", "ovsdb-tool: constraint violation: 5 is greater than maximum allowed value 3\n")
    assert digest(tdb) == before
    assert not Path(f"{tdb}.tmp").exists()


def test_read_applies_column_diffs(tmp_path: Path, schema_files: tuple[str, str],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    # A record as ovsdb-server >= 2.15 writes it: sets and maps as diffs.
    db = tmp_path / "d.db"
    run(capsys, "create", str(db), schema_files[0])
    a, a2, b1, b2 = ("11111111-1111-1111-1111-111111111111",
                     "11111111-1111-1111-1111-111111111112",
                     "22222222-2222-2222-2222-222222222222",
                     "33333333-3333-3333-3333-333333333333")
    records = [
        {"A": {a: {"name": "a", "refs": ["set", [["uuid", b1]]]},
               a2: {"name": "a2", "refs": ["uuid", b2]}},
         "B": {b1: {}, b2: {}}, "_is_diff": True, "_date": 1},
        {"A": {a: {"refs": ["set", [["uuid", b1], ["uuid", b2]]]}}, "_is_diff": True},
    ]
    with db.open("ab") as f:
        for r in records:
            f.write(compose_record(r))
    out = run(capsys, "query", str(db), '["T",{"op":"select","table":"A","where":[],'
              '"columns":["name","refs"],"sort":["name"]}]')[1]
    assert out == (f'[{{"rows":[{{"name":"a","refs":["uuid","{b2}"]}},'
                   f'{{"name":"a2","refs":["uuid","{b2}"]}}]}}]\n')
    # b1 is no longer referenced: garbage, so the replay drops it.
    assert run(capsys, "query", str(db), '["T",{"op":"select","table":"B","where":[],'
               '"columns":["_uuid"]}]')[1] == f'[{{"rows":[{{"_uuid":["uuid","{b2}"]}}]}}]\n'


def test_replay_stops_silently_at_a_record_that_fails_its_checks(
        tdb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dangling = {"A": {"44444444-4444-4444-4444-444444444444": {
        "name": "x", "refs": ["uuid", "55555555-5555-5555-5555-555555555555"]}}}
    with tdb.open("ab") as f:
        f.write(compose_record(dangling))
    rc, out, err = run(capsys, "query", str(tdb), '["T",{"op":"select","table":"A",'
                       '"where":[],"columns":["name"]}]')
    assert (rc, out, err) == (0, '[{"rows":[{"name":"a"}]}]\n', "")


def test_replay_errors_are_fatal_with_ovs_text(tdb: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with tdb.open("ab") as f:
        f.write(compose_record({"Nope": {}}))
    assert run(capsys, "query", str(tdb), '["T"]')[2] == (
        'ovsdb-tool: syntax "{"Nope":{}}": unknown table: No table named Nope.\n')


# --- the command line -----------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    ([], "missing command name; use --help for help"),
    (["frobnicate"], "unknown command 'frobnicate'; use --help for help"),
    (["create", "a", "b", "c"], "'create' command takes at most 2 arguments"),
    (["query"], "'query' command requires at least 1 arguments"),
    (["--foo"], "unrecognized option '--foo'"),
    (["-x"], "invalid option -- 'x'"),
    (["--rbac-role"], "option '--rbac-role' requires an argument"),
    (["--help=3"], "option '--help' doesn't allow an argument"),
    (["db-name", "/nonexistent/x.db"],
     "I/O error: /nonexistent/x.db: open failed (No such file or directory)"),
    (["create-cluster", "a", "b", "c"], "clustered databases are not supported by pyovs"),
])
def test_command_line_errors(args: list[str], message: str,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, *args) == (1, "", f"ovsdb-tool: {message}\n")


def test_help_version_and_list_commands(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "--help")
    assert rc == 0 and out.startswith("ovsdb-tool: Open vSwitch database management utility\n")
    assert run(capsys, "-V") == (0, "pyovsdb-tool (pyovs) 0.1.0\n", "")
    out = run(capsys, "list-commands")[1]
    assert out.startswith("The available commands are:\n  create                  [db [schema]]\n")
    assert "  needs-conversion        \n" in out


def test_options_may_follow_the_command(tdb: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "show-log", str(tdb), "-m")[1] == run(capsys, "-m", "show-log",
                                                             str(tdb))[1]
    assert run(capsys, "-vconsole:off", "--verbose", "db-name", str(tdb))[1] == "T\n"


def test_getopt_long_prefixes_and_ambiguity() -> None:
    with pytest.raises(cmdline.Fatal, match="is ambiguous; possibilities: '--more' '--mode'"):
        cmdline.getopt_long("p", ["--mo"], "m", ["more", "mode="])
    opts, args = cmdline.getopt_long("p", ["--mor", "x", "-mm", "--", "-m"], "m",
                                      ["more", "mode="])
    assert opts == [("--more", ""), ("-m", ""), ("-m", "")] and args == ["x", "-m"]
    opts, _ = cmdline.getopt_long("p", ["-vdbg", "-v", "--verbose", "--verbose=x", "-t5"],
                                  "v::t:", ["verbose=="])
    assert opts == [("-v", "dbg"), ("-v", ""), ("--verbose", ""), ("--verbose", "x"),
                    ("-t", "5")]


# --- OVS's JSON parser ----------------------------------------------------------

@pytest.mark.parametrize(("text", "error"), [
    ("[bad", "line 0, column 4, byte 4: invalid keyword 'bad'"),
    ("[Nope]", "line 0, column 1, byte 1: invalid character 'N'"),
    ("", "line 0, column 0, byte 0: empty input stream"),
    ('"x"', "line 0, column 2, byte 2: syntax error at beginning of input"),
    ("[1,2,]", "line 0, column 5, byte 5: syntax error expecting value"),
    ('{"a" 1}', "line 0, column 6, byte 6: syntax error parsing object expecting ':'"),
    ("{1:2}", "line 0, column 2, byte 2: syntax error parsing object expecting string"),
    ("[01]", "line 0, column 3, byte 3: leading zeros not allowed"),
    ("[1e99999]", "line 0, column 8, byte 8: number outside valid range"),
    ('["\\u0000"]', "line 0, column 8, byte 8: null bytes not supported in quoted strings"),
    ('["a\tb"]', "line 0, column 3, byte 3: U+0009 must be escaped in quoted string"),
    ("[1]]", "line 0, column 3, byte 3: trailing garbage at end of input"),
    ("[\n  tru ]", "line 1, column 5, byte 7: invalid keyword 'tru'"),
    ('["abc', "line 0, column 5, byte 5: unexpected end of input in quoted string"),
    ("[é]", "line 0, column 1, byte 1: invalid character U+00c3"),
])
def test_ovs_json_errors(text: str, error: str) -> None:
    with pytest.raises(ovsjson.JsonSyntaxError) as info:
        ovsjson.parse(text)
    assert str(info.value) == error


def test_ovs_json_values() -> None:
    assert ovsjson.parse('[1.0, 1e2, -0, 1.5, 9223372036854775808, "\\u00e9\\ud83d\\ude00",'
                         ' {"a": [true, false, null]}]') == \
        [1, 100, 0, 1.5, 9.223372036854776e18, "é\U0001F600", {"a": [True, False, None]}]
    assert ovsjson.parse(json.dumps(SCHEMA_V1)) == SCHEMA_V1


def test_ovs_json_accepts_any_split(tmp_path: Path) -> None:
    text = json.dumps(SCHEMA_V2).encode()
    p = ovsjson._Parser()
    for i in range(len(text)):
        p.feed(text[i:i + 1])
    assert p.finish() == SCHEMA_V2


def test_schema_json_order_is_stable_for_reparsed_schemas() -> None:
    schema = dbfile.read_schema_file(VSWITCH)
    first = dbfile.schema_json(schema)
    assert list(first) == ["cksum", "name", "version", "tables"]
