"""Database files as ovsdb-tool handles them: read, write, print.

``pyovs.ovsdb.file`` binds a database to its log for a long-running server,
which keeps going past a bad record.  ovsdb-tool is stricter and differs in
small ways that users see, so the tool's side lives here, on top of the same
``storage.LogFile`` and ``database.Database``:

* Reading (``read_db``, OVS's ``ovsdb_file_read``): a record that cannot be
  read or parsed is fatal, with OVS's message; a record that parses but
  fails the commit checks (a dangling reference, say) silently ends the
  replay, and a later write overwrites it, exactly as ovsdb-tool does.  With
  ``new_schema`` the log is replayed into that schema instead, ignoring
  tables and columns it lacks (``ovsdb-tool convert``): values are parsed
  with the *new* types and constraints, so data that no longer fits is an
  error.  Tables, rows and columns of a record are visited in OVS's hash
  order (``ovsorder.shash_order``), so when a record has several problems
  the one reported is the one OVS reports.
* Column diffs (``"_is_diff": true``) are applied to existing rows by the
  rule of OVS >= 3.1.2 (see ``storage``), with 3.1's size check ("Datum
  crated by diff has size error", sic).
* Writing in OVS's byte order (``ovs_ordered``): OVS serialises every JSON
  object in the iteration order of its hash table.  Replaying the insertions
  OVS makes reproduces that order, so ``create`` writes a file byte-identical
  to ovsdb-tool's, and other records differ from OVS's at most in the order
  of rows whose hashes collide.  ``schema_json`` gives a schema's JSON with
  the insertion order OVS uses (tables and columns each pass through two
  hash tables before they are written).
* ``snapshot_record``: the single record of a compacted or converted file:
  every row with its persistent non-default columns, ``_comment`` and
  ``_date`` (no ``_is_diff``, as ovsdb-tool disables column diffs there).
* ``show_log``: the text of ``ovsdb-tool [-m]... show-log``, byte for byte.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable
from typing import Any, TextIO

from pyovs.ovsdb import ovsjson
from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.database import Database
from pyovs.ovsdb.errors import OvsdbError
from pyovs.ovsdb.file import txn_from_record
from pyovs.ovsdb.ovsorder import shash_order
from pyovs.ovsdb.schema import DatabaseSchema, TableSchema
from pyovs.ovsdb.storage import (
    LockError,
    Lockfile,
    LogFile,
    OpenMode,
    StorageError,
    follow_symlinks,
)
from pyovs.ovsdb.table_format import format_timestamp, json_to_string

from .cmdline import Fatal

__all__ = [
    "follow_symlinks",
    "lock",
    "open_log",
    "ovs_ordered",
    "read_db",
    "read_schema_file",
    "read_standalone_schema",
    "schema_json",
    "schema_table_order",
    "show_log",
    "snapshot_record",
    "unsorted_json",
    "wall_ms",
]


def wall_ms() -> int:
    return int(time.time() * 1000)


def lock_warning(warning: str) -> str:
    """A lockfile warning as OVS logs it on the console (vlog's default format)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return f"{stamp}|00001|lockfile|WARN|{warning}\n"


def open_log(path: str, mode: OpenMode, warn: Callable[[str], None] | None = None) -> LogFile:
    """``LogFile.open`` with OVS's fatal messages (and its lock warning)."""
    try:
        return LogFile.open(path, mode)
    except LockError as e:
        if warn is not None:
            warn(lock_warning(e.warning))
        raise Fatal(str(e)) from None
    except StorageError as e:
        raise Fatal(str(e)) from None


def lock(path: str, warn: Callable[[str], None] | None = None) -> Lockfile:
    """``lockfile_lock`` as compact/convert use it, with OVS's fatal message."""
    try:
        return Lockfile.lock(path)
    except LockError as e:
        if warn is not None:
            warn(lock_warning(e.warning))
        raise Fatal(f"{path}: failed to lock lockfile ({os.strerror(e.errno)})") from None


# --- schemas ------------------------------------------------------------------

def read_schema_file(path: str) -> DatabaseSchema:
    """OVS's ``ovsdb_schema_from_file``, with its messages; raises Fatal."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise Fatal(f'failed to read schema: "{path}" could not be read as JSON '
                    f'(error opening "{path}": {e.strerror})') from None
    try:
        value = ovsjson.parse(data)
    except ovsjson.JsonSyntaxError as e:
        raise Fatal(f'failed to read schema: "{path}" could not be read as JSON ({e})') from None
    try:
        return DatabaseSchema.from_json(value)
    except OvsdbError as e:
        raise Fatal(str(e.wrap(f'failed to parse "{path}" as ovsdb schema'))) from None


def read_standalone_schema(path: str) -> DatabaseSchema:
    """The schema in record 0 of the database file ``path``; raises Fatal."""
    log = open_log(path, OpenMode.READ_ONLY)
    try:
        first = log.read()
        if first is None:
            if log.error is not None:
                raise Fatal(str(log.error))
            raise Fatal("unexpected end of file reading schema")
        try:
            return DatabaseSchema.from_json(first)
        except OvsdbError as e:
            raise Fatal(str(e)) from None
    finally:
        log.close()


def ovs_ordered(value: Any) -> Any:
    """``value`` with every object's members in OVS's serialisation order.

    The input's dict order must be the order OVS inserts the members.
    """
    if isinstance(value, dict):
        return {k: ovs_ordered(value[k]) for k in shash_order(tuple(value))}
    if isinstance(value, list):
        return [ovs_ordered(v) for v in value]
    return value


def unsorted_json(value: Any) -> str:
    """``json_to_string(value, 0)`` of a value OVS parsed: members in hash order."""
    return json_to_string(ovs_ordered(value), sort_keys=False)


def schema_json(schema: DatabaseSchema) -> dict[str, Any]:
    """``schema`` as JSON in the exact member order ``ovsdb_schema_to_json`` writes."""
    out = schema.to_json()
    tables = out["tables"]
    ordered: dict[str, Any] = {}
    for name in schema_table_order(schema):
        tjson = tables[name]
        columns = tjson["columns"]
        tjson["columns"] = {c: columns[c] for c in schema.tables[name].ovs_order
                            if c in columns}
        ordered[name] = tjson
    out["tables"] = ordered
    result: dict[str, Any] = ovs_ordered(out)
    return result


def schema_table_order(schema: DatabaseSchema) -> tuple[str, ...]:
    """The order OVS walks a parsed schema's tables (``SHASH_FOR_EACH``).

    The parsed JSON object is one hash table, ``schema->tables`` a second.
    """
    return shash_order(shash_order(tuple(schema.tables)))


def _db_table_order(schema: DatabaseSchema) -> tuple[str, ...]:
    # ...and a third hash table: the database's own table of tables.
    return shash_order(schema_table_order(schema))


# --- reading a database -----------------------------------------------------------

def read_db(path: str, rw: bool, new_schema: DatabaseSchema | None = None,
            warn: Callable[[str], None] | None = None) -> tuple[Database, LogFile]:
    """Load a database file as ``ovsdb_file_read`` (or ``..._as_schema``) does.

    Returns the database and its log, open for writing when ``rw`` (the
    caller closes it).  Raises Fatal with OVS's message on any read or parse
    error.
    """
    log = open_log(path, OpenMode.READ_WRITE if rw else OpenMode.READ_ONLY, warn)
    try:
        first = log.read()
        if first is None:
            if log.error is not None:
                raise Fatal(str(log.error))
            raise Fatal("unexpected end of file reading schema")
        try:
            schema = DatabaseSchema.from_json(first)
        except OvsdbError as e:
            raise Fatal(str(e)) from None
        db = Database(new_schema or schema)
        db.clock_ms = wall_ms
        while True:
            record = log.read()
            if record is None:
                if log.error is not None:
                    raise Fatal(str(log.error))
                break
            try:
                txn = txn_from_record(db, record, converting=new_schema is not None)
            except OvsdbError as e:
                raise Fatal(str(e)) from None
            try:
                db.commit(txn)
            except OvsdbError:
                log.unread()
                break
    except BaseException:
        log.close()
        raise
    return db, log


# --- writing ----------------------------------------------------------------------

def snapshot_record(db: Database, comment: str | None) -> dict[str, Any]:
    """One record inserting every row (OVS's ``ovsdb_to_txn_json``), in OVS order."""
    record: dict[str, Any] = {}
    for tname in _db_table_order(db.schema):
        table = db.tables[tname]
        if not table.rows:
            continue
        columns = [c for c in table.schema.ovs_order
                   if not c.startswith("_") and table.schema.columns[c].persistent]
        rows: dict[str, Any] = {}
        for u, row in table.rows.items():
            rows[str(u)] = {c: row.data[c].to_json() for c in columns
                            if row.data[c] != table.defaults[c]}
        record[tname] = rows
    if comment is not None:
        record["_comment"] = comment
    record["_date"] = wall_ms()
    result: dict[str, Any] = ovs_ordered(record)
    return result


def write_standalone_db(path: str, db: Database, comment: str) -> None:
    """Write ``db`` compacted into a new file ``path`` (replacing any old one)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise Fatal(str(StorageError("I/O error", f"{path}: create failed",
                                     e.strerror or os.strerror(errno.EIO)))) from None
    log = open_log_create(path)
    try:
        log.write(schema_json(db.schema))
        log.write(snapshot_record(db, comment))
        log.commit()
    except StorageError as e:
        log.close()
        os.unlink(path)
        raise Fatal(str(e)) from None
    log.close()


def open_log_create(path: str) -> LogFile:
    try:
        return LogFile.open(path, OpenMode.CREATE, locking=False)
    except StorageError as e:
        raise Fatal(str(e)) from None


# --- show-log -----------------------------------------------------------------

def show_log(path: str, verbosity: int, out: TextIO) -> None:
    """Print ``ovsdb-tool show-log`` for ``path``; -m/-mm are verbosity 1/2."""
    log = open_log(path, OpenMode.READ_ONLY)
    try:
        names: dict[str, str] = {}
        schema: DatabaseSchema | None = None
        i = 0
        while True:
            record = log.read()
            if record is None:
                if log.error is not None:
                    raise Fatal(str(log.error))
                return
            out.write(f"record {i}:")
            if i == 0:
                try:
                    schema = DatabaseSchema.from_json(record)
                except OvsdbError as e:
                    raise Fatal(str(e)) from None
                out.write(f' "{schema.name}" schema, version="{schema.version}", '
                          f'cksum="{schema.cksum}"\n')
            else:
                _print_change_record(record, schema, names, verbosity, out)
            out.write("\n")
            i += 1
    finally:
        log.close()


def _print_change_record(record: dict[str, Any], schema: DatabaseSchema | None,
                         names: dict[str, str], verbosity: int, out: TextIO) -> None:
    date = record.get("_date")
    if type(date) is int:
        ms = date * 1000 if date < 2**31 - 1 else date  # old files: seconds
        try:
            out.write(" " + format_timestamp(ms))
        except (OverflowError, ValueError, OSError):
            out.write(f" {ms}")
    comment = record.get("_comment")
    if isinstance(comment, str):
        out.write(f' "{comment}"')
    if verbosity > 0:
        _print_db_changes(record, names, schema, verbosity, out)


def _print_db_changes(record: dict[str, Any], names: dict[str, str],
                      schema: DatabaseSchema | None, verbosity: int, out: TextIO) -> None:
    diff = record.get("_is_diff") is True
    n_tables = 0
    for tname in shash_order(tuple(record)):
        rows = record[tname]
        if tname.startswith("_") or not isinstance(rows, dict):
            continue
        if n_tables == 0:
            out.write("\n")
        n_tables += 1
        ts = schema.tables.get(tname) if schema is not None else None
        for row_uuid in shash_order(tuple(rows)):
            columns = rows[row_uuid]
            old_name = names.get(row_uuid)
            new_name = None
            if isinstance(columns, dict) and "name" in columns:
                new_name = json_to_string(columns["name"])
            short = row_uuid[:8]
            if old_name is None:
                what = f"{new_name} ({short})" if new_name is not None else short
                out.write(f"  table {tname} insert row {what}:\n")
            else:
                out.write(f"  table {tname} row {old_name} ({short}){' diff' * diff}:\n")
            if isinstance(columns, dict):
                if verbosity > 1:
                    for cname in shash_order(tuple(columns)):
                        out.write(f"    {cname}={_value_text(ts, cname, columns[cname])}\n")
                if new_name is not None and old_name != new_name:
                    names[row_uuid] = new_name
                elif old_name is None:
                    names[row_uuid] = short
            elif columns is None:
                out.write("    delete row\n")
                names.pop(row_uuid, None)


def _value_text(ts: TableSchema | None, column: str, value: Any) -> str:
    col = ts.columns.get(column) if ts is not None else None
    if col is not None:
        try:
            return Datum.from_json(col.type, value).to_string(col.type)
        except (OvsdbError, ValueError, TypeError):
            pass
    return json_to_string(value)
