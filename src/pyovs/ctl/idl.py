"""A one-shot client's replica of an OVSDB database and its transaction.

This is OVS's IDL (``lib/ovsdb-idl.c``) reduced to what a ``*ctl`` tool
needs, with the same observable behaviour:

* **Monitored columns.**  Commands say up front which tables and columns they
  will read (``add_table``/``add_column``, OVS's prerequisites); only those
  are monitored, and every other column reads as its default, exactly as an
  IDL column that was never registered does.
* **Rows and their order.**  A row has ``old`` (the committed values) and
  ``new`` (the values as the transaction leaves them): the same dict while
  untouched, a copy once written, ``None`` once deleted; a row inserted by
  the transaction has ``old is None``.  Tables iterate in OVS's ``hmap``
  order (bucket by ``uuid_hash``, newest first, doubling as it fills), fed
  in the order the C client would meet the rows: JSON objects are hash
  tables there too, so a table update is walked in ``shash`` order.  A row
  referred to before it arrives gets its place when the reference is
  parsed, as the IDL's placeholder ("orphan") rows do.
* **The transaction.**  :class:`Txn` records writes, deletes, verifies
  (prerequisites, sent as ``wait`` operations), partial map and set updates
  (sent as ``mutate``), the increment of a counter column, a comment and the
  dry-run ``abort``.  :meth:`Txn.operations` builds the ``transact`` request
  as ``ovsdb_idl_txn_commit`` does -- references to rows inserted by the
  transaction become ``named-uuid`` -- and returns None when nothing would
  change, which OVS calls "unchanged" and does not send.
  :meth:`Txn.process_reply` classifies the answer (success, try again, error
  with OVS's error text) and learns the inserted rows' real UUIDs and the
  counter's new value.

No I/O here: :mod:`pyovs.ctl.session` sends the requests and feeds replies
and ``update`` notifications back in.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from typing import Any

from pyovs.ovsdb.data import Atom, Datum, Uuid, atom_to_json, new_uuid, uuid_from_string
from pyovs.ovsdb.errors import OvsdbError
from pyovs.ovsdb.ovsorder import shash_order
from pyovs.ovsdb.schema import ColumnSchema, DatabaseSchema, TableSchema, Type
from pyovs.ovsdb.table_format import json_to_string

__all__ = ["Idl", "IdlRow", "IdlTable", "Txn", "TxnStatus", "row_name"]


class TxnStatus(enum.Enum):
    """Outcome of a commit (OVS's ``enum ovsdb_idl_txn_status``)."""

    UNCOMMITTED = "uncommitted"
    UNCHANGED = "unchanged"
    INCOMPLETE = "incomplete"
    ABORTED = "aborted"
    SUCCESS = "success"
    TRY_AGAIN = "try again"
    NOT_LOCKED = "not locked"
    ERROR = "error"


def row_name(uuid: str) -> str:
    """The ``uuid-name`` of a row inserted by a transaction (``ovsdb_data_row_name``)."""
    return "row" + uuid.replace("-", "_")


def _uuid_hash(uuid: str) -> int:
    return int(uuid[:8], 16)


class _HmapOrder:
    """The iteration order of an OVS ``hmap`` under inserts and removes."""

    __slots__ = ("_buckets", "_mask", "_n")

    def __init__(self) -> None:
        self._buckets: list[list[tuple[int, Uuid]]] = [[]]
        self._mask = 0
        self._n = 0

    def insert(self, key: Uuid) -> None:
        h = _uuid_hash(key)
        self._buckets[h & self._mask].insert(0, (h, key))
        self._n += 1
        if self._n // 2 > self._mask:
            mask = self._n // 2
            for shift in (1, 2, 4, 8, 16, 32):
                mask |= mask >> shift
            mask |= (mask & 1) << 1
            if mask > self._mask:
                new: list[list[tuple[int, Uuid]]] = [[] for _ in range(mask + 1)]
                for bucket in self._buckets:
                    for node in bucket:
                        new[node[0] & mask].insert(0, node)
                self._buckets, self._mask = new, mask

    def remove(self, key: Uuid) -> None:
        bucket = self._buckets[_uuid_hash(key) & self._mask]
        for i, (_, k) in enumerate(bucket):
            if k == key:
                del bucket[i]
                self._n -= 1
                return

    def __iter__(self) -> Iterator[Uuid]:
        for bucket in self._buckets:
            for _, key in bucket:
                yield key


class IdlRow:
    """One row of the replica, possibly touched by the open transaction."""

    __slots__ = ("map_ops", "new", "old", "persist_uuid", "prereqs", "set_ops", "table",
                 "uuid", "written")

    def __init__(self, table: IdlTable, uuid: Uuid, old: dict[str, Datum] | None) -> None:
        self.table = table
        self.uuid = uuid
        self.old = old
        """Committed values of the monitored columns; None for a row being inserted."""
        self.new: dict[str, Datum] | None = old
        """Values as the transaction leaves them; ``old`` itself while untouched."""
        self.written: list[str] = []
        """Columns written by the transaction, in the order first written."""
        self.prereqs: list[str] = []
        """Columns whose committed value the transaction verifies."""
        self.map_ops: dict[str, dict[Atom, tuple[str, Datum]]] = {}
        """Partial map updates: column -> key -> ("insert"|"update"|"delete", pair)."""
        self.set_ops: dict[str, dict[Atom, tuple[str, Datum]]] = {}
        self.persist_uuid = False

    def exists(self) -> bool:
        return self.new is not None

    def __repr__(self) -> str:
        return f"<IdlRow {self.table.name} {self.uuid}>"


class IdlTable:
    """A table of the replica: its schema, monitored columns and rows."""

    def __init__(self, schema: TableSchema, is_singleton: bool) -> None:
        self.schema = schema
        self.name = schema.name
        self.columns: list[ColumnSchema] = sorted(schema.user_columns, key=lambda c: c.name)
        """User columns in the order OVS's IDL class lists them (by name)."""
        self.is_root = schema.is_root
        self.is_singleton = is_singleton
        self.monitored: list[str] = []
        self.need_table = False
        self.rows: dict[Uuid, IdlRow] = {}
        self._order = _HmapOrder()
        self._placed: set[Uuid] = set()
        """Uuids in the hmap: rows, and placeholders for rows referred to before
        they arrived (OVS's orphan rows), which keep their place when they do."""

    def column(self, name: str) -> ColumnSchema:
        return self.schema.columns[name]

    def _place(self, uuid: Uuid) -> None:
        if uuid not in self._placed:
            self._placed.add(uuid)
            self._order.insert(uuid)

    def _add(self, row: IdlRow) -> None:
        self.rows[row.uuid] = row
        self._place(row.uuid)

    def _remove(self, uuid: Uuid) -> None:
        self.rows.pop(uuid, None)
        if uuid in self._placed:
            self._placed.discard(uuid)
            self._order.remove(uuid)

    def __iter__(self) -> Iterator[IdlRow]:
        """Existing rows in OVS's iteration order (``OVSREC_*_FOR_EACH``)."""
        for uuid in list(self._order):
            row = self.rows.get(uuid)
            if row is not None and row.new is not None:
                yield row

    def first(self) -> IdlRow | None:
        return next(iter(self), None)


class Idl:
    """The replica of one database, as far as the commands asked for it."""

    def __init__(self, schema: DatabaseSchema) -> None:
        self.schema = schema
        self.tables: dict[str, IdlTable] = {
            name: IdlTable(t, t.max_rows == 1) for name, t in sorted(schema.tables.items())}
        self.txn: Txn | None = None
        self.seqno = 0
        """Counts replica changes, as ``ovsdb_idl_get_seqno`` does."""

    # -- registration (prerequisites) -------------------------------------------
    def add_table(self, table: str) -> None:
        self.tables[table].need_table = True

    def add_column(self, table: str, column: str) -> None:
        """Monitor ``column``, and the rows of any table it refers to."""
        t = self.tables[table]
        if column not in t.monitored:
            t.monitored.append(column)
        ctype = t.column(column).type
        for base in (ctype.key, ctype.value):
            if base is not None and base.ref_table is not None and base.ref_table in self.tables:
                self.tables[base.ref_table].need_table = True

    def monitor_request(self, server_tables: dict[str, set[str]] | None) -> dict[str, Any]:
        """The ``monitor`` request's table map; ``server_tables`` limits it to
        what the server's schema has (None: everything)."""
        out: dict[str, Any] = {}
        for name, table in self.tables.items():
            if not (table.need_table or table.monitored):
                continue
            if server_tables is not None and name not in server_tables:
                continue
            cols = [c for c in table.monitored
                    if server_tables is None or c in server_tables[name]]
            out[name] = {"columns": cols}
        return out

    # -- reading ------------------------------------------------------------------
    def table(self, name: str) -> IdlTable:
        return self.tables[name]

    def get_row(self, table: str, uuid: str) -> IdlRow | None:
        """The existing row ``uuid`` of ``table`` (``ovsdb_idl_get_row_for_uuid``)."""
        row = self.tables[table].rows.get(Uuid(uuid))
        return row if row is not None and row.new is not None else None

    @staticmethod
    def read(row: IdlRow, column: str) -> Datum:
        values = row.new if row.new is not None else row.old
        datum = values.get(column) if values is not None else None
        if datum is None:
            return Datum.default(row.table.schema.columns[column].type)
        return datum

    @staticmethod
    def read_old(row: IdlRow, column: str) -> Datum:
        """The committed value of ``column`` (what a verify checks)."""
        datum = row.old.get(column) if row.old is not None else None
        return datum if datum is not None else Datum.default(row.table.column(column).type)

    # -- replica updates ----------------------------------------------------------
    def apply_update(self, update: Any) -> None:
        """Apply a monitor reply or a v1 ``update`` notification's table updates."""
        if not isinstance(update, dict):
            return
        for tname in shash_order(tuple(update)):
            table = self.tables.get(tname)
            rows = update[tname]
            if table is None or not isinstance(rows, dict):
                continue
            for key in shash_order(tuple(rows)):
                uuid = uuid_from_string(key)
                change = rows[key]
                if uuid is None or not isinstance(change, dict):
                    continue
                new = change.get("new")
                if new is None:
                    table._remove(uuid)
                else:
                    values = self._parse_row(table, new)
                    row = table.rows.get(uuid)
                    if row is None:
                        table._add(IdlRow(table, uuid, values))
                    else:
                        row.old = row.new = values
                    self._place_references(table, values)
        self.seqno += 1

    def _place_references(self, table: IdlTable, values: dict[str, Datum]) -> None:
        """Give rows referred to but not seen yet their place, as OVS's arcs do."""
        for column in table.columns:
            datum = values.get(column.name)
            if datum is None:
                continue
            ctype = column.type
            if ctype.key.ref_table is not None and ctype.key.ref_table in self.tables:
                target = self.tables[ctype.key.ref_table]
                for key in datum.keys:
                    target._place(Uuid(key))
            if (ctype.value is not None and ctype.value.ref_table is not None
                    and ctype.value.ref_table in self.tables and datum.values is not None):
                target = self.tables[ctype.value.ref_table]
                for value in datum.values:
                    target._place(Uuid(value))

    @staticmethod
    def _parse_row(table: IdlTable, json_row: Any) -> dict[str, Datum]:
        values: dict[str, Datum] = {}
        if not isinstance(json_row, dict):
            return values
        for name, value in json_row.items():
            col = table.schema.columns.get(name)
            if col is None or name not in table.monitored:
                continue
            try:
                values[name] = Datum.from_json(col.type, value)
            except (OvsdbError, ValueError, TypeError):
                continue  # the IDL ignores a value it cannot parse
        return values

    # -- transactions -------------------------------------------------------------
    def txn_create(self) -> Txn:
        if self.txn is not None:
            raise RuntimeError("a transaction is already open")
        self.txn = Txn(self)
        return self.txn


class Txn:
    """The open transaction on an :class:`Idl` (``struct ovsdb_idl_txn``)."""

    def __init__(self, idl: Idl) -> None:
        self.idl = idl
        self.rows: dict[Uuid, IdlRow] = {}
        """Rows touched by the transaction, in the order first touched."""
        self.status = TxnStatus.UNCOMMITTED
        self.error: str | None = None
        self.dry_run = False
        self.comments: list[str] = []
        self.inc: tuple[str, str, Uuid] | None = None
        """The counter to increment: (table, column, row)."""
        self.inc_index = -1
        self.inc_new_value = 0
        self.warnings: list[str] = []
        """What OVS's IDL logs at WARN while processing the reply."""
        self._inserts: dict[Uuid, tuple[int, Uuid | None]] = {}
        """Inserted rows' provisional uuid -> (operation index, real uuid)."""

    # -- building -----------------------------------------------------------------
    def add_comment(self, text: str) -> None:
        self.comments.append(text)

    def _touch(self, row: IdlRow) -> None:
        if row.uuid not in self.rows:
            self.rows[row.uuid] = row

    def insert(self, table: str, uuid: str | None = None, persist_uuid: bool = False) -> IdlRow:
        t = self.idl.tables[table]
        row = IdlRow(t, Uuid(uuid) if uuid is not None else new_uuid(), None)
        row.new = {}
        row.persist_uuid = persist_uuid
        t._add(row)
        self._touch(row)
        return row

    def delete(self, row: IdlRow) -> None:
        if row.new is None:
            return
        if row.old is None:
            row.table._remove(row.uuid)
            self.rows.pop(row.uuid, None)
            row.new = None
            return
        self._touch(row)
        row.new = None

    def write(self, row: IdlRow, column: str, datum: Datum) -> None:
        if row.new is None:
            return
        self._touch(row)
        if row.new is row.old:
            row.new = dict(row.old or {})
        row.new[column] = datum
        if column not in row.written:
            row.written.append(column)

    def verify(self, row: IdlRow, column: str) -> None:
        if row.old is None or column in row.written:
            return
        self._touch(row)
        if column not in row.prereqs:
            row.prereqs.append(column)

    def write_partial_map(self, row: IdlRow, column: str, pair: Datum) -> None:
        """Set one key of a map column, as a ``mutate`` (OVS's partial map update)."""
        key = pair.keys[0]
        op = "update" if key in Idl.read(row, column).keys else "insert"
        self._add_op(row.map_ops, row, column, key, op, pair)

    def write_partial_set(self, row: IdlRow, column: str, element: Datum) -> None:
        """Add one element to a set column, as a ``mutate`` (partial set update)."""
        self._add_op(row.set_ops, row, column, element.keys[0], "insert", element)

    def delete_partial_map(self, row: IdlRow, column: str, key: Datum) -> None:
        """Remove one key from a map column, as a ``mutate``."""
        self._add_op(row.map_ops, row, column, key.keys[0], "delete", key)

    def delete_partial_set(self, row: IdlRow, column: str, element: Datum) -> None:
        """Remove one element from a set column, as a ``mutate``."""
        self._add_op(row.set_ops, row, column, element.keys[0], "delete", element)

    def _add_op(self, ops: dict[str, dict[Atom, tuple[str, Datum]]], row: IdlRow,
                column: str, key: Atom, op: str, datum: Datum) -> None:
        per_column = ops.setdefault(column, {})
        prev = per_column.get(key)
        if prev is not None and prev[0] == "insert" and op == "delete":
            del per_column[key]  # the two cancel out
        else:
            per_column[key] = (op, datum)
        self._touch(row)

    def increment(self, row: IdlRow, column: str) -> None:
        self.inc = (row.table.name, column, row.uuid)

    # -- committing ---------------------------------------------------------------
    def _substitute(self, value: Any) -> Any:
        """References to rows this transaction inserts become ``named-uuid``."""
        if isinstance(value, list):
            if (len(value) == 2 and value[0] == "uuid" and isinstance(value[1], str)):
                row = self.rows.get(Uuid(value[1]))
                if row is not None and row.old is None and row.new is not None:
                    return value if row.persist_uuid else ["named-uuid", row_name(row.uuid)]
                return value
            return [self._substitute(v) for v in value]
        if isinstance(value, dict):
            return {k: self._substitute(v) for k, v in value.items()}
        return value

    @staticmethod
    def _where(uuid: str) -> list[Any]:
        return [["_uuid", "==", ["uuid", uuid]]]

    def operations(self) -> list[dict[str, Any]] | None:
        """The ``transact`` operations, or None if the transaction changes nothing."""
        ops: list[dict[str, Any]] = []
        for row in self.rows.values():
            if row.prereqs and row.old is not None:
                cols = [c.name for c in row.table.columns if c.name in row.prereqs]
                ops.append({"op": "wait", "table": row.table.name, "timeout": 0,
                            "where": self._where(row.uuid), "until": "==", "columns": cols,
                            "rows": [{c: Idl.read_old(row, c).to_json() for c in cols}]})
        any_updates = False
        for table in self.idl.tables.values():
            if table.is_singleton:
                initial = sum(r.old is not None for r in table.rows.values())
                final = sum(r.new is not None for r in table.rows.values())
                if initial == 0 and final == 1:
                    ops.append({"op": "wait", "table": table.name, "where": [], "timeout": 0,
                                "until": "==", "rows": []})
        self._inserts = {}
        for row in self.rows.values():
            t = row.table
            if row.new is None:
                if t.is_root:
                    ops.append({"op": "delete", "table": t.name,
                                "where": self._where(row.uuid)})
                    any_updates = True
            elif row.new is not row.old:
                op: dict[str, Any] = {"op": "update" if row.old is not None else "insert",
                                      "table": t.name}
                if row.old is not None:
                    op["where"] = self._where(row.uuid)
                else:
                    any_updates = True
                    if row.persist_uuid:
                        op["uuid"] = str(row.uuid)
                    else:
                        op["uuid-name"] = row_name(row.uuid)
                    self._inserts[row.uuid] = (len(ops), None)
                values: dict[str, Any] = {}
                for col in t.columns:
                    if col.name not in row.written:
                        continue
                    datum = row.new[col.name]
                    if row.old is not None or datum != Datum.default(col.type):
                        values[col.name] = self._substitute(datum.to_json())
                        if (row.old is not None and not any_updates
                                and datum != Idl.read_old(row, col.name)):
                            any_updates = True
                op["row"] = values
                if row.old is None or values:
                    ops.append(op)
            if row.map_ops or row.set_ops:
                mutations = self._mutations(row)
                if mutations:
                    ops.append(self._substitute({"op": "mutate", "table": t.name,
                                                 "where": self._where(row.uuid),
                                                 "mutations": mutations}))
                    any_updates = True
        if self.inc is not None and any_updates:
            inc_table, inc_column, inc_uuid = self.inc
            self.inc_index = len(ops)
            where = self._substitute(self._where(inc_uuid))
            ops.append({"op": "mutate", "table": inc_table, "where": where,
                        "mutations": [[inc_column, "+=", 1]]})
            ops.append({"op": "select", "table": inc_table, "where": where,
                        "columns": [inc_column]})
        if self.comments:
            ops.append({"op": "comment", "comment": "\n".join(self.comments)})
        if self.dry_run:
            ops.append({"op": "abort"})
        return ops if any_updates else None

    def _mutations(self, row: IdlRow) -> list[Any]:
        out: list[Any] = []
        for column, per_key in row.map_ops.items():
            ctype = row.table.column(column).type
            base = self._base_value(row, column, ctype)
            deletes: list[Any] = []
            inserts: list[Any] = []
            for op, pair in per_key.values():
                key = pair.keys[0]
                cur = base.as_dict()
                if op == "update":
                    if key in cur and pair.values is not None and cur[key] == pair.values[0]:
                        continue
                elif op == "delete" and key not in cur:
                    continue
                if op != "insert":
                    deletes.append(atom_to_json(key))
                if op != "delete" and pair.values is not None:
                    inserts.append([atom_to_json(key), atom_to_json(pair.values[0])])
            if deletes:
                out.append([column, "delete", ["set", deletes]])
            if inserts:
                out.append([column, "insert", ["map", inserts]])
        for column, per_key in row.set_ops.items():
            ctype = row.table.column(column).type
            base = self._base_value(row, column, ctype)
            deletes = []
            inserts = []
            for op, element in per_key.values():
                atom_json = atom_to_json(element.keys[0])
                if op == "insert":
                    inserts.append(atom_json)
                elif element.keys[0] in base.keys:
                    deletes.append(atom_json)
            if deletes:
                out.append([column, "delete", ["set", deletes]])
            if inserts:
                out.append([column, "insert", ["set", inserts]])
        return out

    @staticmethod
    def _base_value(row: IdlRow, column: str, ctype: Type) -> Datum:
        if row.new is not None and column in row.written:
            return row.new[column]
        if row.old is not None:
            return row.old.get(column) or Datum.default(ctype)
        return Datum.default(ctype)

    def process_reply(self, result: Any, error: Any = None) -> TxnStatus:
        """Classify the server's answer (``ovsdb_idl_txn_process_reply``)."""
        if error is not None:
            if error == "canceled":
                self.status = TxnStatus.TRY_AGAIN
            else:
                self.status = TxnStatus.ERROR
                self.error = json_to_string(error)
            return self.status
        if not isinstance(result, list):
            self.status = TxnStatus.ERROR
            self.error = json_to_string(result)
            return self.status
        hard = soft = lock = 0
        for op in result:
            if op is None:
                soft += 1
            elif isinstance(op, dict):
                err = op.get("error")
                if err is None:
                    continue
                if not isinstance(err, str):
                    hard += 1
                    self._set_error(op)
                    self.warnings.append('"error" in reply is not JSON string')
                elif err in ("timed out", "unknown database"):
                    soft += 1
                elif err == "not owner":
                    lock += 1
                elif err == "not allowed":
                    hard += 1
                    self._set_error(op)
                elif err != "aborted":
                    hard += 1
                    self._set_error(op)
                    self.warnings.append(f"transaction error: {self.error}")
            else:
                hard += 1
                self._set_error(op)
                self.warnings.append("operation reply is not JSON null or object")
        if not (hard or soft or lock):
            if self.inc is not None and self.inc_index >= 0 and not self._inc_reply(result):
                hard += 1
            for dummy, (index, _) in list(self._inserts.items()):
                real = self._insert_reply(result, index)
                if real is None:
                    hard += 1
                self._inserts[dummy] = (index, real)
        self.status = (TxnStatus.ERROR if hard else TxnStatus.NOT_LOCKED if lock
                       else TxnStatus.TRY_AGAIN if soft else TxnStatus.SUCCESS)
        return self.status

    def _set_error(self, value: Any) -> None:
        if self.error is None:
            self.error = json_to_string(value)

    def _inc_reply(self, result: list[Any]) -> bool:
        if self.inc is None or self.inc_index + 2 > len(result):
            return False
        mutate, select = result[self.inc_index], result[self.inc_index + 1]
        if not (isinstance(mutate, dict) and mutate.get("count") == 1):
            return False
        rows = select.get("rows") if isinstance(select, dict) else None
        if not isinstance(rows, list) or len(rows) != 1 or not isinstance(rows[0], dict):
            return False
        value = rows[0].get(self.inc[1])
        if type(value) is not int:
            return False
        self.inc_new_value = value
        return True

    @staticmethod
    def _insert_reply(result: list[Any], index: int) -> Uuid | None:
        if index >= len(result) or not isinstance(result[index], dict):
            return None
        value = result[index].get("uuid")
        if (isinstance(value, list) and len(value) == 2 and value[0] == "uuid"
                and isinstance(value[1], str)):
            return uuid_from_string(value[1])
        return None

    def get_insert_uuid(self, dummy: str) -> Uuid | None:
        """The real UUID of a row this (committed) transaction inserted as ``dummy``."""
        entry = self._inserts.get(Uuid(dummy))
        return entry[1] if entry is not None else None

    def unchanged(self) -> TxnStatus:
        self.status = TxnStatus.UNCHANGED
        return self.status

    def error_text(self) -> str:
        """``ovsdb_idl_txn_get_error``."""
        if self.status is not TxnStatus.ERROR:
            return str(self.status.value)
        return self.error or "no error details available"

    def disassemble(self) -> None:
        """Undo the transaction's changes to the replica and close it."""
        for row in self.rows.values():
            if row.old is None:
                row.table._remove(row.uuid)
            else:
                row.new = row.old
            row.written = []
            row.prereqs = []
            row.map_ops = {}
            row.set_ops = {}
        self.rows = {}
        if self.idl.txn is self:
            self.idl.txn = None

    def abort(self) -> None:
        self.disassemble()
        if self.status in (TxnStatus.UNCOMMITTED, TxnStatus.INCOMPLETE):
            self.status = TxnStatus.ABORTED
