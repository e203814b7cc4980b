"""Schema and datum parsing: good input round-trips, bad input gets OVS's words."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyovs.ovsdb.data import Datum, Uuid, atom_to_string, new_uuid, uuid_from_string
from pyovs.ovsdb.errors import OvsdbError
from pyovs.ovsdb.schema import DatabaseSchema, Type


def schema(tables: Any) -> dict[str, Any]:
    return {"name": "S", "version": "1.0.0", "tables": tables}


@pytest.mark.parametrize(("bad", "message"), [
    ({"name": "S", "tables": {}, "extra": 1}, "Member 'extra' is present but not allowed here."),
    ({"tables": {}}, "Required 'name' member is missing."),
    (schema({"T": {"columns": {}}}), "table must have at least one column"),
    (schema({"_T": {"columns": {"a": {"type": "integer"}}}}),
     'names beginning with "_" are reserved'),
    (schema({"T": {"columns": {"a": {"type": "int"}}}}), '"int" is not an atomic-type'),
    (schema({"T": {"columns": {"a": {"type": {"key": "integer", "min": 2}}}}}),
     "ovsdb type fails constraint checks"),
    (schema({"T": {"columns": {"a": {"type": {"key": {"type": "uuid", "refTable": "X"}}}}}}),
     "column a key refers to undefined table X"),
    (schema({"T": {"maxRows": 0, "columns": {"a": {"type": "integer"}}}}),
     "maxRows must be at least 1"),
    (schema({"T": {"columns": {"a": {"type": {"key": {"type": "integer", "minInteger": 5,
                                                     "maxInteger": 1}}}}}}),
     "minInteger exceeds maxInteger"),
    ({"name": "S", "version": "1.0", "tables": {}}, 'schema version "1.0" not in format x.y.z'),
    ("not an object", "Object expected."),
])
def test_bad_schemas_are_refused_with_ovs_messages(bad: Any, message: str) -> None:
    with pytest.raises(OvsdbError) as e:
        DatabaseSchema.from_json(bad)
    assert message in str(e.value)


def test_isroot_defaults_like_ovs() -> None:
    s = DatabaseSchema.from_json(schema({"A": {"columns": {"x": {"type": "integer"}}},
                                         "B": {"columns": {"x": {"type": "integer"}}}}))
    assert all(t.is_root for t in s.tables.values())
    assert "isRoot" not in s.to_json()["tables"]["A"]


SET_OF_INTS = Type.from_json({"key": {"type": "integer", "minInteger": 0, "maxInteger": 9},
                              "min": 0, "max": 3})
STR_MAP = Type.from_json({"key": "string", "value": "string", "min": 0, "max": "unlimited"})


@pytest.mark.parametrize(("value", "message"), [
    (["set", [1, 2, 3, 4]], "set must have 0 to 3 members but 4 are present"),
    (["set", [1, 1]], "set contains duplicate"),
    (12, "12 is not in the valid range 0 to 9 (inclusive)"),
    ("x", "expected integer"),
    (["map", [[1, 2]]], "expected integer"),
])
def test_bad_datums(value: Any, message: str) -> None:
    with pytest.raises(OvsdbError) as e:
        Datum.from_json(SET_OF_INTS, value)
    assert message in str(e.value)


@pytest.mark.parametrize(("text", "message"), [
    ("", 'use "{}" to specify the empty map'),
    ("a", 'a: syntax error at "" expecting "="'),
    ("{a=b", '{a=b: missing "}" at end of data'),
    ("{a=b} x", '{a=b} x: trailing garbage after "}"'),
    ("a=b,a=c", "a=b,a=c: map contains duplicate key"),
    ('"unterminated=x', "quoted string extends past end of argument"),
])
def test_bad_text_syntax(text: str, message: str) -> None:
    with pytest.raises(ValueError) as e:
        Datum.from_string(STR_MAP, text)
    assert message in str(e.value)


def test_text_syntax_round_trip_and_ranges() -> None:
    d = Datum.from_string(STR_MAP, '{b="x y", a=1, "true"=false}')
    assert d.to_string(STR_MAP) == '{a="1", b="x y", "true"="false"}'
    assert Datum.from_string(STR_MAP, d.to_string(STR_MAP)) == d
    assert Datum.from_string(SET_OF_INTS, "1-3").keys == (1, 2, 3)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=6), st.text(max_size=6), max_size=5))
def test_string_maps_round_trip_through_text_and_json(pairs: dict[str, str]) -> None:
    pairs = {k: v for k, v in pairs.items() if "\x00" not in k + v}
    d = Datum.map_of(pairs)
    assert Datum.from_string(STR_MAP, d.to_string(STR_MAP)) == d
    assert Datum.from_json(STR_MAP, d.to_json()) == d


def test_uuids() -> None:
    u = new_uuid()
    assert isinstance(u, Uuid) and uuid_from_string(u.upper()) == u
    assert uuid_from_string("0000000-0000-0000-0000-0000000000000") is None
    assert uuid_from_string("00000000_0000-0000-0000-000000000000") is None
    assert atom_to_string(u) == u and atom_to_string(str(u)) == f'"{u}"'
