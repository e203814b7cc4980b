"""A database bound to an OVS standalone log file.

Loading reads the schema record, then replays every transaction record
through the ordinary commit path (so garbage collection and reference
checks apply exactly as they did when the record was written).  A record
that cannot be read or applied ends the replay, as in ovsdb-server, and the
next write overwrites it.

Each commit appends one record in OVS's format: inserted rows with their
non-default persistent columns, modified rows with the columns that changed
(sets and maps as diffs, in a record marked ``"_is_diff": true`` as OVS
writes it), deleted rows as null, plus ``_date`` and ``_comment``.  The record is
written at commit time; ``sync`` makes it durable, and the server calls it
before any reply leaves, so one fsync covers every transaction of an event
loop pass (group commit) and nothing is acknowledged before it is on disk.

Compaction replaces the log by the schema and one record that inserts every
row, atomically (see ``storage.LogFile.replace``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .data import Datum, Uuid, apply_diff, datum_diff, uuid_from_string
from .database import Change, Database, Row, Table, Txn
from .errors import OvsdbError, syntax_error
from .ovsorder import shash_order
from .schema import DatabaseSchema, TableSchema
from .storage import LogFile, OpenMode


def _wall_ms() -> int:
    return int(time.time() * 1000)


class FileStorage:
    """Durable storage for one database (the server's ``Storage`` protocol)."""

    def __init__(self, log: LogFile, schema: DatabaseSchema) -> None:
        self.log = log
        self.schema = schema
        self.dirty = False
        self.no_reals = not schema.has_reals
        self.warning: str | None = None
        self.clock = time.monotonic

    # -- opening -------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, read_only: bool = False) -> tuple[Database, FileStorage]:
        """Load the database at ``path``; raises OvsdbError with OVS's messages."""
        mode = OpenMode.READ_ONLY if read_only else OpenMode.READ_WRITE
        log = LogFile.open(path, mode)
        try:
            first = log.read()
            if first is None:
                raise OvsdbError(None, f"{path}: cannot read schema: "
                                 f"{log.warning or 'database file is empty'}")
            schema = DatabaseSchema.from_json(first)
            db = Database(schema)
            storage = cls(log, schema)
            while True:
                record = log.read()
                if record is None:
                    storage.warning = log.warning
                    break
                try:
                    apply_record(db, record)
                except OvsdbError as e:
                    storage.warning = f"{path}: {e}"
                    log.unread()
                    break
        except BaseException:
            log.close()
            raise
        db.clock_ms = _wall_ms
        return db, storage

    @staticmethod
    def create(path: str | Path, schema_json: dict[str, Any]) -> None:
        """Create a new database file holding only the schema (``ovsdb-tool create``)."""
        DatabaseSchema.from_json(schema_json)
        log = LogFile.open(path, OpenMode.CREATE)
        try:
            log.write(schema_json)
            log.commit()
        finally:
            log.close()

    # -- committing ----------------------------------------------------------------
    def commit(self, change: Change, durable: bool) -> None:
        record = change_to_record(self.schema, change)
        self.log.write(record, self.no_reals)
        self.dirty = True

    def sync(self) -> None:
        if self.dirty:
            self.dirty = False
            self.log.commit()

    def should_compact(self, now_ms: int) -> bool:
        return self.log.should_compact(self.clock())

    def replace_database(self, db: Database, comment: str) -> None:
        """Start the log afresh from ``db`` and its schema (after a conversion)."""
        self.log.replace([db.schema.to_json(), snapshot_record(db, comment)])
        self.schema = db.schema
        self.no_reals = not db.schema.has_reals

    def compact(self, db: Database) -> None:
        self.log.replace([db.schema.to_json(), snapshot_record(db)])

    def close(self) -> None:
        try:
            self.sync()
        finally:
            self.log.close()


def _row_json(db: Database, table: str, row: Row, columns: Any = None) -> dict[str, Any]:
    t = db.tables[table]
    cols = t.schema.columns
    out: dict[str, Any] = {}
    for c in columns if columns is not None else t.user_columns:
        if not cols[c].persistent:
            continue
        d = row.data[c]
        if columns is None and d == t.defaults[c]:
            continue
        out[c] = d.to_json()
    return out


def change_to_record(schema: DatabaseSchema, change: Change) -> dict[str, Any]:
    record: dict[str, Any] = {}
    is_diff = False
    for tname, rows in change.tables.items():
        ts = schema.tables[tname]
        trec: dict[str, Any] = {}
        for uuid, rc in rows.items():
            if rc.new is None:
                trec[str(uuid)] = None
                continue
            persistent = [c for c in (rc.changed if rc.old is not None else ts.columns)
                          if not c.startswith("_") and ts.columns[c].persistent]
            if rc.old is not None and not persistent:
                continue
            row: dict[str, Any] = {}
            for c in persistent:
                d = rc.new.data[c]
                ctype = ts.columns[c].type
                if rc.old is None:
                    if d != Datum.default(ctype):
                        row[c] = d.to_json()
                elif ctype.n_max > 1:
                    # A diff keeps the record small when one element of a
                    # large set changes (OVS writes the same "_is_diff" form).
                    row[c] = datum_diff(rc.old.data[c], d, ctype).to_json()
                    is_diff = True
                else:
                    row[c] = d.to_json()
            trec[str(uuid)] = row
        if trec:
            record[tname] = trec
    record["_date"] = change.date_ms or _wall_ms()
    if change.comment:
        record["_comment"] = change.comment
    if is_diff:
        record["_is_diff"] = True
    return record


def snapshot_record(db: Database, comment: str = "compacting database online"
                    ) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for tname, table in db.tables.items():
        if table.rows:
            record[tname] = {str(u): _row_json(db, tname, r) for u, r in table.rows.items()}
    record["_date"] = _wall_ms()
    record["_comment"] = comment
    return record


def apply_record(db: Database, record: dict[str, Any]) -> None:
    """Replay one transaction record (plain or ``_is_diff``) into ``db``."""
    db.commit(txn_from_record(db, record))


def txn_from_record(db: Database, record: Any, converting: bool = False) -> Txn:
    """Parse one transaction record into a transaction (OVS's ``ovsdb_file_txn_from_json``)."""
    if not isinstance(record, dict):
        raise syntax_error(record, "object expected")
    is_diff = record.get("_is_diff") is True
    txn = db.begin()
    for tname in shash_order(tuple(record)):
        value = record[tname]
        table = db.tables.get(tname)
        if table is None:
            if tname == "_date" and type(value) is int:
                continue
            if tname == "_is_diff" and isinstance(value, bool):
                continue
            if tname == "_comment" or converting:
                continue
            raise syntax_error(record, f"No table named {tname}.", tag="unknown table")
        if not isinstance(value, dict):
            raise syntax_error(value, "object expected")
        for uuid_s in shash_order(tuple(value)):
            u = uuid_from_string(uuid_s)
            if u is None:
                raise syntax_error(value, f'"{uuid_s}" is not a valid UUID')
            _row_from_json(txn, table, u, value[uuid_s], converting, is_diff)
    comment = record.get("_comment")
    if isinstance(comment, str):
        txn.comments.append(comment)
    return txn


def _row_from_json(txn: Txn, table: Table, u: Uuid, row_json: Any, converting: bool,
                   is_diff: bool) -> None:
    row = txn.get(table.name, u)
    if row_json is None:
        if row is None:
            raise OvsdbError("syntax error", f"transaction deletes row {u} that does not exist")
        txn.delete(table.name, row)
    elif row is not None:
        _update_row(txn.modify(table.name, row), table.schema, row_json, converting, is_diff)
    else:
        new = table.new_row(u)
        _update_row(new, table.schema, row_json, converting, False)
        txn.insert(table.name, new)


def _update_row(row: Row, ts: TableSchema, row_json: Any, converting: bool,
                is_diff: bool) -> None:
    if not isinstance(row_json, dict):
        raise syntax_error(row_json, "row must be JSON object")
    for name in shash_order(tuple(row_json)):
        col = ts.columns.get(name)
        if col is None:
            if converting:
                continue
            raise syntax_error(row_json, f"No column {name} in table {ts.name}.",
                               tag="unknown column")
        ctype = col.type
        if is_diff and ctype.n_max > 1:
            diff = Datum.from_json(ctype.relaxed(), row_json[name])
            datum = apply_diff(row.data[name], diff)
            if not ctype.n_min <= len(datum) <= ctype.n_max:
                raise OvsdbError(None, "Datum crated by diff has size error")
        else:
            datum = Datum.from_json(ctype, row_json[name])
        if not name.startswith("_"):
            row.data[name] = datum
