"""Executing the operations of a ``transact`` request (RFC 7047 section 5.2).

``execute`` parses and runs each operation against a :class:`Txn` in order.
The first error stops the transaction: its slot in the results holds the
error object, later slots hold null, and nothing is committed.  Errors are
the ones ovsdb-server reports, including its member-checking ("Parsing
ovsdb operation 1 of 2 failed: ...") and the rule that a parse error
overrides an execution error.

An unsatisfied ``wait`` with time left raises :class:`Blocked`: the caller
(the server's trigger machinery) runs the whole request again after the next
commit to the database, or fails it once the timeout has passed; the
``elapsed_ms`` argument is how long the request has been waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .condition import Condition
from .data import ZERO_UUID, Datum, SymbolTable, Uuid, new_uuid, uuid_from_string
from .database import Database, Row, Table, Txn
from .errors import OvsdbError, Parser, syntax_error
from .mutation import apply_mutation, mutation_from_json
from .ovsorder import shash_order
from .schema import TableSchema


class Blocked(Exception):
    """A ``wait`` is not yet satisfied; retry until ``timeout_ms`` has elapsed."""

    def __init__(self, timeout_ms: int | None) -> None:
        super().__init__("blocked")
        self.timeout_ms = timeout_ms


@dataclass(slots=True)
class Execution:
    db: Database
    txn: Txn
    symtab: SymbolTable
    has_lock: Callable[[str], bool]
    elapsed_ms: int
    durable: bool = False
    timeout_ms: int | None = None


@dataclass(slots=True)
class Outcome:
    results: list[Any]
    txn: Txn | None
    """The transaction to commit, or None if an operation failed."""
    durable: bool


def execute(db: Database, params: Any, has_lock: Callable[[str], bool] | None = None,
            elapsed_ms: int = 0, read_only: bool = False) -> Outcome:
    """Run a transact request's params (``[db-name, op...]``)."""
    if (not isinstance(params, list) or not params or not isinstance(params[0], str)
            or params[0] != db.name):
        if not isinstance(params, list):
            err = syntax_error(params, "array expected")
        else:
            err = syntax_error(params, "database name expected as first parameter")
        raise err
    x = Execution(db, db.begin(), SymbolTable(), has_lock or (lambda _name: False), elapsed_ms)
    ops = params[1:]
    n = len(ops)
    results: list[Any] = []
    failed = False
    for i, op_json in enumerate(ops, 1):
        p = Parser(op_json, f"ovsdb operation {i} of {n}")
        op = p.member("op", ("id",))
        result: dict[str, Any] = {}
        error: OvsdbError | None = None
        ro = False
        op_name = op if isinstance(op, str) else None
        if op_name is not None:
            entry = OPERATIONS.get(op_name)
            if entry is None:
                p.raise_error(f'No operation "{op_name}"')
            else:
                executor, ro = entry
                try:
                    executor(x, p, result)
                except OvsdbError as e:
                    error = e
                except Blocked:
                    if p.error is None:
                        raise
        try:
            p.finish()
        except OvsdbError as e:
            error = e
        if not ro and error is None:
            if read_only:
                error = OvsdbError("not allowed", f"{op_name} operation not allowed when "
                                   "database server is in read only mode")
            elif db.name.startswith("_"):
                error = OvsdbError("not allowed", f"{op_name} operation not allowed on table "
                                   f"in reserved database {db.name}")
        if error is not None:
            results.append(error.to_json())
            failed = True
            break
        results.append(result)
    results.extend([None] * (n - len(results)))
    return Outcome(results, None if failed else x.txn, x.durable)


def _table(x: Execution, p: Parser, member: str = "table") -> Table | None:
    name = p.member(member, ("id",))
    if not isinstance(name, str):
        return None
    table = x.db.tables.get(name)
    if table is None:
        p.raise_error(f"No table named {name}.")
    return table


def _check(p: Parser) -> None:
    if p.error is not None:
        raise p.error


def parse_row(table: TableSchema, value: Any, symtab: SymbolTable | None,
              base: dict[str, Datum]) -> list[str]:
    """Parse a <row> object into ``base`` (updated in place); return its columns."""
    if not isinstance(value, dict):
        raise syntax_error(value, "row must be JSON object")
    names: list[str] = []
    for name in shash_order(tuple(value)):
        datum_json = value[name]
        col = table.columns.get(name)
        if col is None:
            raise syntax_error(value, f"No column {name} in table {table.name}.",
                               tag="unknown column")
        base[name] = Datum.from_json(col.type, datum_json, symtab)
        names.append(name)
    return names


def _column_list(table: TableSchema, value: Any) -> list[str]:
    if value is None:
        return list(table.columns)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise syntax_error(value, "array of distinct column names expected")
    seen: list[str] = []
    for v in value:
        if v not in table.columns:
            raise syntax_error(value, f"{v} is not a valid column name")
        if v in seen:
            raise syntax_error(value, "array of distinct column names expected")
        seen.append(v)
    return seen


def query(x: Execution, table: Table, cond: Condition) -> list[Row]:
    """The rows matching every clause, found through ``_uuid`` or an index if possible."""
    u = cond.uuid_lookup()
    if u is not None:
        row = x.txn.get(table.name, u)
        candidates = [row] if row is not None else []
    else:
        found = _index_candidates(x, table, cond)
        candidates = list(x.txn.scan(table.name)) if found is None else found
    if not cond.clauses:
        return candidates
    return [r for r in candidates if cond.match_all(r.get)]


def _index_candidates(x: Execution, table: Table, cond: Condition) -> list[Row] | None:
    """Rows that may match an ``==`` test on every column of an index, or None.

    The committed index gives at most one row; rows this transaction touched
    are added (and a stale committed hit dropped), since the index is only
    updated at commit.
    """
    if not table.indexes:
        return None
    eq = {c.column: c.arg for c in cond.clauses if c.function == "=="}
    for i, columns in enumerate(table.schema.indexes):
        if all(c in eq for c in columns):
            key = tuple(eq[c] for c in columns)
            touched = x.txn.rows.get(table.name, {})
            out: list[Row] = []
            uuid = table.indexes[i].get(key)
            if uuid is not None and uuid not in touched:
                out.append(table.rows[uuid])
            out.extend(tr.new for tr in touched.values() if tr.new is not None)
            return out
    return None


# --- the operations -----------------------------------------------------------

def op_insert(x: Execution, p: Parser, result: dict[str, Any]) -> None:
    table = _table(x, p)
    uuid_json = p.member("uuid", ("string",), optional=True)
    uuid_name = p.member("uuid-name", ("id",), optional=True)
    row_json = p.member("row", ("object",))
    _check(p)
    assert table is not None
    row_uuid: Uuid | None = None
    if uuid_json is not None:
        row_uuid = uuid_from_string(uuid_json)
        if row_uuid is None:
            raise syntax_error(uuid_json, "bad uuid")
        if not x.txn.may_create(table.name, row_uuid):
            raise syntax_error(uuid_json, "This UUID would duplicate a UUID already present "
                               "within the table or deleted within the same transaction.",
                               tag="duplicate uuid")
    if uuid_name is not None:
        sym = x.symtab.insert(uuid_name)
        if sym.created:
            raise syntax_error(uuid_name, 'This "uuid-name" appeared on an earlier "insert" '
                               "operation.", tag="duplicate uuid-name")
        if row_uuid is not None:
            sym.uuid = row_uuid
        else:
            row_uuid = sym.uuid
        sym.created = True
    elif row_uuid is None:
        row_uuid = new_uuid()
    row = table.new_row(row_uuid)
    given = parse_row(table.schema, row_json, x.symtab, row.data)
    row.data.pop("_uuid", None)
    row.data.pop("_version", None)
    # Defaults of columns not given may violate constraints (an enum, a range).
    for name, tag, details in table.bad_defaults:
        if name not in given:
            raise OvsdbError(tag, details)
    x.txn.insert(table.name, row)
    result["uuid"] = ["uuid", str(row_uuid)]


def op_select(x: Execution, p: Parser, result: dict[str, Any]) -> None:
    table = _table(x, p)
    where = p.member("where", ("array",))
    columns_json = p.member("columns", ("array",), optional=True)
    sort_json = p.member("sort", ("array",), optional=True)
    _check(p)
    assert table is not None
    cond = Condition.from_json(table.schema, where, x.symtab)
    columns = _column_list(table.schema, columns_json)
    sort = _column_list(table.schema, sort_json) if sort_json is not None else []
    rows = query(x, table, cond)
    if columns_json is not None and "_uuid" not in columns:
        distinct: dict[tuple[Datum, ...], Row] = {}
        for r in rows:
            distinct.setdefault(tuple(r.get(c) for c in columns), r)
        rows = list(distinct.values())
    if sort:
        rows.sort(key=lambda r: tuple(_sort_key(r.get(c)) for c in sort))
    result["rows"] = [r.to_json(columns) for r in rows]


def _sort_key(d: Datum) -> tuple[Any, ...]:
    return (d.keys, d.values or ())


def op_update(x: Execution, p: Parser, result: dict[str, Any]) -> None:
    table = _table(x, p)
    where = p.member("where", ("array",))
    row_json = p.member("row", ("object",))
    _check(p)
    assert table is not None
    new_values: dict[str, Datum] = {}
    given = parse_row(table.schema, row_json, x.symtab, new_values)
    for name in given:
        if not table.schema.columns[name].mutable:
            raise syntax_error(p.obj, f"Cannot update immutable column {name} in table "
                               f"{table.name}.", tag="constraint violation")
    cond = Condition.from_json(table.schema, where, x.symtab)
    rows = query(x, table, cond)
    for row in rows:
        if any(row.data[c] != d for c, d in new_values.items()):
            x.txn.modify(table.name, row).data.update(new_values)
    result["count"] = len(rows)


def op_mutate(x: Execution, p: Parser, result: dict[str, Any]) -> None:
    table = _table(x, p)
    where = p.member("where", ("array",))
    mutations_json = p.member("mutations", ("array",))
    _check(p)
    assert table is not None
    assert isinstance(mutations_json, list)
    mutations = [mutation_from_json(table.schema, m, x.symtab) for m in mutations_json]
    cond = Condition.from_json(table.schema, where, x.symtab)
    rows = query(x, table, cond)
    n = 0
    for row in rows:
        n += 1
        data = dict(row.data)
        try:
            for m in mutations:
                data[m.column] = apply_mutation(m, data[m.column])
        except OvsdbError:
            result["count"] = n
            raise
        x.txn.modify(table.name, row).data.update(data)
    result["count"] = n


def op_delete(x: Execution, p: Parser, result: dict[str, Any]) -> None:
    where = p.member("where", ("array",))
    table = _table(x, p)
    _check(p)
    assert table is not None
    cond = Condition.from_json(table.schema, where, x.symtab)
    rows = query(x, table, cond)
    for row in rows:
        x.txn.delete(table.name, row)
    result["count"] = len(rows)


def op_wait(x: Execution, p: Parser, result: dict[str, Any]) -> None:
    timeout = p.member("timeout", ("integer",), optional=True)
    where = p.member("where", ("array",))
    columns_json = p.member("columns", ("array",), optional=True)
    until = p.member("until", ("string",))
    rows_json = p.member("rows", ("array",))
    table = _table(x, p)
    _check(p)
    assert table is not None and isinstance(rows_json, list)
    cond = Condition.from_json(table.schema, where, x.symtab)
    columns = _column_list(table.schema, columns_json)
    if timeout is not None:
        if timeout < 0:
            raise syntax_error(timeout, "timeout must be nonnegative")
        if x.timeout_ms is None or timeout < x.timeout_ms:
            x.timeout_ms = timeout
    if until not in ("==", "!="):
        raise syntax_error(until, '"until" must be "==" or "!="')
    expected: set[tuple[Datum, ...]] = set()
    for rj in rows_json:
        data: dict[str, Datum] = {}
        given = parse_row(table.schema, rj, x.symtab, data)
        full = {c: data.get(c, table.defaults.get(c)) for c in table.all_columns}
        if "_uuid" not in given:
            full["_uuid"] = Datum((ZERO_UUID,))
        if "_version" not in given:
            full["_version"] = Datum((ZERO_UUID,))
        expected.add(tuple(full[c] for c in columns))  # type: ignore[misc]
    actual: set[tuple[Datum, ...]] = set()
    equal = True
    for row in query(x, table, cond):
        key = tuple(row.get(c) for c in columns)
        if key not in expected:
            equal = False
            break
        actual.add(key)
    if equal:
        equal = len(actual) == len(expected)
    if (until == "==") != equal:
        if timeout is not None and x.elapsed_ms >= timeout:
            if x.elapsed_ms:
                raise OvsdbError("timed out", f'"wait" timed out after {x.elapsed_ms} ms')
            raise OvsdbError("timed out", '"where" clause test failed')
        raise Blocked(x.timeout_ms)


def op_commit(x: Execution, p: Parser, result: dict[str, Any]) -> None:
    durable = p.member("durable", ("boolean",))
    if durable:
        x.durable = True


def op_abort(x: Execution, p: Parser, result: dict[str, Any]) -> None:
    raise OvsdbError("aborted", "aborted by request")


def op_comment(x: Execution, p: Parser, result: dict[str, Any]) -> None:
    comment = p.member("comment", ("string",))
    if isinstance(comment, str):
        x.txn.comments.append(comment)


def op_assert(x: Execution, p: Parser, result: dict[str, Any]) -> None:
    lock = p.member("lock", ("id",))
    if not isinstance(lock, str):
        return
    if not x.has_lock(lock):
        raise OvsdbError("not owner", f"Asserted lock {lock} not held.")


Executor = Callable[[Execution, Parser, dict[str, Any]], None]

OPERATIONS: dict[str, tuple[Executor, bool]] = {
    "insert": (op_insert, False),
    "select": (op_select, True),
    "update": (op_update, False),
    "mutate": (op_mutate, False),
    "delete": (op_delete, False),
    "wait": (op_wait, True),
    "commit": (op_commit, False),
    "abort": (op_abort, True),
    "comment": (op_comment, True),
    "assert": (op_assert, True),
}
"""Operation name -> (executor, read-only?), as OVS's ``lookup_executor``."""


def transact(db: Database, params: Any, has_lock: Callable[[str], bool] | None = None,
             elapsed_ms: int = 0, read_only: bool = False) -> list[Any]:
    """Execute and commit; the full result array as ovsdb-server returns it.

    Raises Blocked for an unsatisfied wait, OvsdbError for bad params.
    """
    outcome = execute(db, params, has_lock, elapsed_ms, read_only)
    if outcome.txn is None:
        return outcome.results
    try:
        db.commit(outcome.txn, outcome.durable)
    except OvsdbError as e:
        outcome.results.append(e.to_json())
    return outcome.results
