"""The ctl replica and transaction: the ``transact`` request it builds and
how it reads the answer, as OVS's IDL does."""

from __future__ import annotations

from typing import Any

import pytest

from pyovs.ctl.idl import Idl, TxnStatus, _HmapOrder, row_name
from pyovs.ovsdb.data import Datum, Uuid
from pyovs.ovsdb.schema import DatabaseSchema, bundled_schema_path

SCHEMA = DatabaseSchema.from_file(bundled_schema_path("vswitch"))
OVS = "11111111-0000-4000-8000-000000000000"
BR = "22222222-0000-4000-8000-000000000000"
PORT = "33333333-0000-4000-8000-000000000000"


def replica() -> Idl:
    idl = Idl(SCHEMA)
    for table, column in (("Open_vSwitch", "bridges"), ("Bridge", "name"),
                          ("Bridge", "ports"), ("Bridge", "other_config"), ("Port", "name"),
                          ("Open_vSwitch", "ssl")):
        idl.add_column(table, column)
    idl.apply_update({
        "Open_vSwitch": {OVS: {"new": {"bridges": ["uuid", BR]}}},
        "Bridge": {BR: {"new": {"name": "br0", "ports": ["uuid", PORT],
                                "other_config": ["map", [["a", "1"]]]}}},
        "Port": {PORT: {"new": {"name": "br0"}}},
    })
    return idl


def ops_of(idl: Idl) -> list[dict[str, Any]] | None:
    assert idl.txn is not None
    return idl.txn.operations()


def test_add_column_monitors_referenced_tables() -> None:
    idl = replica()
    request = idl.monitor_request(None)
    assert request["SSL"] == {"columns": []}  # Open_vSwitch.ssl refers to SSL
    assert request["Bridge"] == {"columns": ["name", "ports", "other_config"]}
    assert "Mirror" not in request


def test_unchanged_writes_send_nothing() -> None:
    idl = replica()
    txn = idl.txn_create()
    br = idl.get_row("Bridge", BR)
    assert br is not None
    txn.verify(br, "ports")
    txn.write(br, "other_config", Datum.map_of({"a": "1"}))
    txn.increment(idl.table("Open_vSwitch").first(), "next_cfg")  # type: ignore[arg-type]
    assert txn.operations() is None


def test_insert_references_become_named_uuids_and_verifies_become_waits() -> None:
    idl = replica()
    txn = idl.txn_create()
    ovs, br = idl.get_row("Open_vSwitch", OVS), idl.get_row("Bridge", BR)
    assert ovs is not None and br is not None
    txn.verify(br, "ports")
    port = txn.insert("Port")
    txn.write(port, "name", Datum(("p1",)))
    txn.write(br, "ports", Datum.set_of([Uuid(PORT), port.uuid]))
    txn.increment(ovs, "next_cfg")
    txn.add_comment("hello")
    ops = txn.operations()
    assert ops is not None
    where_br = [["_uuid", "==", ["uuid", BR]]]
    assert ops[0] == {"op": "wait", "table": "Bridge", "timeout": 0, "where": where_br,
                      "until": "==", "columns": ["ports"], "rows": [{"ports": ["uuid", PORT]}]}
    update = next(op for op in ops if op["op"] == "update")
    assert sorted(map(str, update["row"]["ports"][1])) == sorted(map(str, [
        ["uuid", PORT], ["named-uuid", row_name(port.uuid)]]))
    insert = next(op for op in ops if op["op"] == "insert")
    assert insert == {"op": "insert", "table": "Port", "uuid-name": row_name(port.uuid),
                      "row": {"name": "p1"}}
    assert ops[-3:] == [
        {"op": "mutate", "table": "Open_vSwitch", "where": [["_uuid", "==", ["uuid", OVS]]],
         "mutations": [["next_cfg", "+=", 1]]},
        {"op": "select", "table": "Open_vSwitch", "where": [["_uuid", "==", ["uuid", OVS]]],
         "columns": ["next_cfg"]},
        {"op": "comment", "comment": "hello"}]
    index = ops.index(insert)
    result: list[Any] = [{} for _ in ops]
    result[index] = {"uuid": ["uuid", "44444444-0000-4000-8000-000000000000"]}
    result[txn.inc_index] = {"count": 1}
    result[txn.inc_index + 1] = {"rows": [{"next_cfg": 7}]}
    assert txn.process_reply(result) is TxnStatus.SUCCESS
    assert txn.inc_new_value == 7
    assert txn.get_insert_uuid(port.uuid) == "44444444-0000-4000-8000-000000000000"


def test_new_root_row_gets_a_singleton_wait_and_named_increment() -> None:
    idl = Idl(SCHEMA)
    idl.add_table("Open_vSwitch")
    txn = idl.txn_create()
    ovs = txn.insert("Open_vSwitch")
    txn.increment(ovs, "next_cfg")
    ops = txn.operations()
    assert ops is not None
    assert ops[0] == {"op": "wait", "table": "Open_vSwitch", "where": [], "timeout": 0,
                      "until": "==", "rows": []}
    assert ops[2]["where"] == [["_uuid", "==", ["named-uuid", row_name(ovs.uuid)]]]


def test_deleting_non_root_rows_is_left_to_garbage_collection() -> None:
    idl = replica()
    txn = idl.txn_create()
    port = idl.get_row("Port", PORT)
    assert port is not None
    txn.delete(port)
    assert txn.operations() is None
    assert idl.get_row("Port", PORT) is None
    txn.disassemble()
    assert idl.get_row("Port", PORT) is not None
    txn = idl.txn_create()
    ovs = idl.get_row("Open_vSwitch", OVS)
    assert ovs is not None
    txn.delete(ovs)
    assert txn.operations() == [{"op": "delete", "table": "Open_vSwitch",
                                 "where": [["_uuid", "==", ["uuid", OVS]]]}]


def test_partial_map_update_skips_unchanged_keys() -> None:
    idl = replica()
    txn = idl.txn_create()
    br = idl.get_row("Bridge", BR)
    assert br is not None
    txn.write_partial_map(br, "other_config", Datum(("a",), ("1",)))
    assert txn.operations() is None
    txn.write_partial_map(br, "other_config", Datum(("b",), ("2",)))
    txn.delete_partial_map(br, "other_config", Datum(("b",)))  # cancels the insert
    txn.delete_partial_map(br, "other_config", Datum(("a",)))
    assert txn.operations() == [{"op": "mutate", "table": "Bridge",
                                 "where": [["_uuid", "==", ["uuid", BR]]],
                                 "mutations": [["other_config", "delete", ["set", ["a"]]]]}]


@pytest.mark.parametrize(("result", "status", "error"), [
    ([{}, {"error": "timed out"}, None], TxnStatus.TRY_AGAIN, None),
    ([{}, {"error": "constraint violation", "details": "x"}], TxnStatus.ERROR,
     '{"details":"x","error":"constraint violation"}'),
    ([{}, {"error": "aborted"}], TxnStatus.SUCCESS, None),
    ([{}, {"error": "not owner"}], TxnStatus.NOT_LOCKED, None),
    ([{}, 5], TxnStatus.ERROR, "5"),
])
def test_reply_classification(result: list[Any], status: TxnStatus, error: str | None) -> None:
    idl = replica()
    txn = idl.txn_create()
    assert txn.process_reply(result) is status
    assert txn.error == error


def test_rpc_error_and_canceled() -> None:
    txn = replica().txn_create()
    assert txn.process_reply(None, "canceled") is TxnStatus.TRY_AGAIN
    txn = replica().txn_create()
    assert txn.process_reply(None, {"error": "unknown database"}) is TxnStatus.ERROR
    assert txn.error_text() == '{"error":"unknown database"}'


def test_hmap_order_buckets_by_uuid_prefix() -> None:
    order = _HmapOrder()
    keys = [Uuid(f"{h:08x}-0000-4000-8000-000000000000") for h in (5, 2, 4, 3, 6)]
    for key in keys:
        order.insert(key)
    # 5 nodes: mask 3; bucket 0 holds 4, bucket 1 5, bucket 2 2 and 6 (newest first)...
    assert [int(k[:8], 16) for k in order] == [4, 5, 6, 2, 3]
    order.remove(keys[0])
    assert [int(k[:8], 16) for k in order] == [4, 6, 2, 3]
