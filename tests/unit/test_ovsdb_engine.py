"""The transaction engine, in memory: operations, commit checks, atomicity."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pyovs.ovsdb.database import Database
from pyovs.ovsdb.execution import Blocked, transact
from pyovs.ovsdb.schema import DatabaseSchema, bundled_schema_path

SCHEMA = {
    "name": "T",
    "version": "1.0.0",
    "tables": {
        "Root": {
            "isRoot": True,
            "columns": {
                "name": {"type": "string"},
                "kids": {"type": {"key": {"type": "uuid", "refTable": "Kid"},
                                  "min": 0, "max": "unlimited"}},
                "weak": {"type": {"key": {"type": "uuid", "refTable": "Root",
                                          "refType": "weak"}, "min": 0, "max": "unlimited"}},
                "n": {"type": {"key": {"type": "integer", "minInteger": 0,
                                       "maxInteger": 10}}},
                "tags": {"type": {"key": "string", "min": 0, "max": 3}},
                "opts": {"type": {"key": "string", "value": "string", "min": 0,
                                  "max": "unlimited"}},
            },
            "indexes": [["name"]],
        },
        "Kid": {
            "columns": {
                "name": {"type": "string"},
                "sub": {"type": {"key": {"type": "uuid", "refTable": "Kid"},
                                 "min": 0, "max": 1}},
            },
        },
        "Capped": {"isRoot": True, "maxRows": 1, "columns": {"x": {"type": "integer"}}},
    },
}


@pytest.fixture
def db() -> Database:
    return Database(DatabaseSchema.from_json(SCHEMA))


def run(db: Database, *ops: Any) -> list[Any]:
    return transact(db, ["T", *ops])


def rows(db: Database, table: str) -> list[dict[str, Any]]:
    r = run(db, {"op": "select", "table": table, "where": []})
    return sorted(r[0]["rows"], key=lambda x: json.dumps(x, sort_keys=True))


def test_insert_select_roundtrip(db: Database) -> None:
    r = run(db, {"op": "insert", "table": "Root", "row": {"name": "a", "n": 3,
                                                           "opts": ["map", [["k", "v"]]]}})
    assert r[0]["uuid"][0] == "uuid"
    got = run(db, {"op": "select", "table": "Root", "where": [["name", "==", "a"]],
                   "columns": ["name", "n", "opts", "tags"]})
    assert got == [{"rows": [{"name": "a", "n": 3, "opts": ["map", [["k", "v"]]],
                              "tags": ["set", []]}]}]


def test_failed_operation_leaves_database_unchanged(db: Database) -> None:
    run(db, {"op": "insert", "table": "Root", "row": {"name": "a"}})
    before = rows(db, "Root")
    r = run(db, {"op": "insert", "table": "Root", "row": {"name": "b"}},
            {"op": "insert", "table": "Root", "row": {"n": 99}})
    assert r[1]["error"] == "constraint violation"
    assert rows(db, "Root") == before


def test_commit_error_appends_and_changes_nothing(db: Database) -> None:
    run(db, {"op": "insert", "table": "Root", "row": {"name": "a"}})
    r = run(db, {"op": "insert", "table": "Root", "row": {"name": "a"}})
    assert len(r) == 2 and r[1]["error"] == "constraint violation"
    assert "identical values" in r[1]["details"]
    assert len(rows(db, "Root")) == 1


def test_unreferenced_non_root_rows_are_collected(db: Database) -> None:
    run(db, {"op": "insert", "table": "Kid", "row": {"name": "orphan"}})
    assert rows(db, "Kid") == []
    run(db, {"op": "insert", "table": "Kid", "row": {"name": "k"}, "uuid-name": "k"},
        {"op": "insert", "table": "Root", "row": {"name": "r", "kids": ["named-uuid", "k"]}})
    assert [k["name"] for k in rows(db, "Kid")] == ["k"]
    run(db, {"op": "update", "table": "Root", "where": [], "row": {"kids": ["set", []]}})
    assert rows(db, "Kid") == []


def test_garbage_collection_is_transitive(db: Database) -> None:
    run(db, {"op": "insert", "table": "Kid", "row": {"name": "leaf"}, "uuid-name": "l"},
        {"op": "insert", "table": "Kid", "row": {"name": "mid", "sub": ["named-uuid", "l"]},
         "uuid-name": "m"},
        {"op": "insert", "table": "Root", "row": {"name": "r", "kids": ["named-uuid", "m"]}})
    assert len(rows(db, "Kid")) == 2
    run(db, {"op": "delete", "table": "Root", "where": []})
    assert rows(db, "Kid") == []


def test_delete_referenced_row_is_refused(db: Database) -> None:
    run(db, {"op": "insert", "table": "Kid", "row": {"name": "k"}, "uuid-name": "k"},
        {"op": "insert", "table": "Root", "row": {"name": "r", "kids": ["named-uuid", "k"]}})
    r = run(db, {"op": "delete", "table": "Kid", "where": []})
    assert r[1]["error"] == "referential integrity violation"
    assert "remaining reference(s)" in r[1]["details"]


def test_reference_to_missing_row_is_refused(db: Database) -> None:
    r = run(db, {"op": "insert", "table": "Root", "row": {
        "name": "r", "kids": ["uuid", "00000000-0000-0000-0000-000000000001"]}})
    assert r[1]["error"] == "referential integrity violation"


def test_weak_references_to_deleted_rows_vanish(db: Database) -> None:
    r = run(db, {"op": "insert", "table": "Root", "row": {"name": "t"}, "uuid-name": "t"},
            {"op": "insert", "table": "Root", "row": {"name": "s",
                                                       "weak": ["named-uuid", "t"]}})
    target = r[0]["uuid"]
    got = run(db, {"op": "select", "table": "Root", "where": [["name", "==", "s"]],
                   "columns": ["weak"]})
    assert got[0]["rows"] == [{"weak": target}]
    run(db, {"op": "delete", "table": "Root", "where": [["name", "==", "t"]]})
    got = run(db, {"op": "select", "table": "Root", "where": [["name", "==", "s"]],
                   "columns": ["weak"]})
    assert got[0]["rows"] == [{"weak": ["set", []]}]


def test_max_rows(db: Database) -> None:
    run(db, {"op": "insert", "table": "Capped", "row": {}})
    r = run(db, {"op": "insert", "table": "Capped", "row": {}})
    assert r[-1]["error"] == "constraint violation"
    assert "schema-defined limit of 1 row(s)" in r[-1]["details"]


def test_mutate_arithmetic_and_sets(db: Database) -> None:
    run(db, {"op": "insert", "table": "Root", "row": {"name": "a", "n": 5,
                                                       "tags": ["set", ["x"]]}})
    r = run(db, {"op": "mutate", "table": "Root", "where": [], "mutations": [
        ["n", "-=", 7]]})
    assert r[0]["error"] == "constraint violation"
    run(db, {"op": "mutate", "table": "Root", "where": [], "mutations": [
        ["n", "*=", 2], ["tags", "insert", ["set", ["y", "z"]]]]})
    got = run(db, {"op": "select", "table": "Root", "where": [], "columns": ["n", "tags"]})
    assert got[0]["rows"] == [{"n": 10, "tags": ["set", ["x", "y", "z"]]}]
    r = run(db, {"op": "mutate", "table": "Root", "where": [], "mutations": [
        ["tags", "insert", "w"]]})
    assert r[0]["error"] == "constraint violation"
    assert r[0]["details"] == "Attempted to store 4 elements in set of up to 3 strings."


def test_integer_division_truncates_toward_zero() -> None:
    from pyovs.ovsdb.mutation import _c_div, _c_mod

    assert (_c_div(-7, 2), _c_mod(-7, 2)) == (-3, -1)
    assert (_c_div(7, -2), _c_mod(7, -2)) == (-3, 1)


def test_wait_blocks_then_times_out(db: Database) -> None:
    op = {"op": "wait", "table": "Root", "where": [], "columns": ["name"],
          "until": "==", "rows": [{"name": "x"}], "timeout": 100}
    with pytest.raises(Blocked):
        run(db, op)
    r = transact(db, ["T", op], elapsed_ms=150)
    assert r[0] == {"error": "timed out", "details": '"wait" timed out after 150 ms'}
    run(db, {"op": "insert", "table": "Root", "row": {"name": "x"}})
    assert run(db, op) == [{}]


def test_unknown_operation_table_and_column(db: Database) -> None:
    assert "No operation" in run(db, {"op": "frob"})[0]["details"]
    r = run(db, {"op": "select", "table": "Nope", "where": []})
    assert r[0]["details"].endswith("No table named Nope.")
    r = run(db, {"op": "insert", "table": "Root", "row": {"bogus": 1}})
    assert r[0]["error"] == "unknown column"


def test_named_uuid_reference_resolves_within_transaction(db: Database) -> None:
    r = run(db, {"op": "insert", "table": "Kid", "row": {"name": "k"}, "uuid-name": "k"},
            {"op": "insert", "table": "Root", "row": {"name": "r",
                                                       "kids": ["named-uuid", "k"]}},
            {"op": "select", "table": "Root", "where": [["kids", "includes",
                                                          ["named-uuid", "k"]]],
             "columns": ["name"]})
    assert r[2] == {"rows": [{"name": "r"}]}


def test_vswitch_schema_loads_and_round_trips() -> None:
    raw = json.loads(bundled_schema_path("vswitch").read_text())
    schema = DatabaseSchema.from_json(raw)
    again = DatabaseSchema.from_json(schema.to_json())
    assert again.to_json() == schema.to_json()
    assert set(schema.tables) == set(raw["tables"])
