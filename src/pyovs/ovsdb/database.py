"""The in-memory database and its transaction engine.

A :class:`Database` holds one :class:`Table` per schema table, each a dict
from Uuid to :class:`Row`.  Committed rows are never modified in place (but
for their strong reference count): a transaction copies a row before
changing it, so monitors and history may keep old rows as they were.

A :class:`Txn` is a copy-on-write overlay: for every row it touches it keeps
a :class:`TxnRow` with the committed ``old`` row and the ``new`` one (None
when deleted).  Queries inside the transaction see the overlay.  Commit runs
the same checks in the same order as ovsdb-server, so that the first error
reported is the one OVS would report:

1. drop modifications that changed nothing; an empty transaction commits
   trivially;
2. recount strong references: a reference to a missing row, or deleting a
   row that is still referenced, is a "referential integrity violation";
3. garbage-collect non-root rows that nobody references any more,
   transitively;
4. check each table's maxRows;
5. drop weak references to rows that no longer exist (a column pushed below
   its minimum size is a "constraint violation");
6. check index uniqueness;
7. give modified rows a new ``_version``.

Then the change goes to the storage hook (which may fail: nothing is
applied) and is applied in memory, after which listeners (monitors,
triggers, history) see the :class:`Change`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .data import ZERO_UUID, Datum, Uuid, atom_to_string, new_uuid
from .errors import OvsdbError
from .ovsorder import shash_order
from .schema import DatabaseSchema, TableSchema


class Row:
    """One row.  ``data`` holds every user column; ``n_refs`` counts strong refs."""

    __slots__ = ("data", "n_refs", "uuid", "version")

    def __init__(self, uuid: Uuid, version: Uuid, data: dict[str, Datum],
                 n_refs: int = 0) -> None:
        self.uuid = uuid
        self.version = version
        self.data = data
        self.n_refs = n_refs

    def get(self, column: str) -> Datum:
        d = self.data.get(column)
        if d is not None:
            return d
        if column == "_uuid":
            return Datum((self.uuid,))
        if column == "_version":
            return Datum((self.version,))
        raise KeyError(column)

    def copy(self) -> Row:
        return Row(self.uuid, self.version, dict(self.data), self.n_refs)

    def to_json(self, columns: Iterable[str]) -> dict[str, Any]:
        return {c: self.get(c).to_json() for c in columns}


@dataclass(slots=True)
class RefColumn:
    name: str
    key_table: str | None
    """Referenced table for the key atoms, if they are references of this kind."""
    value_table: str | None


class Table:
    def __init__(self, schema: TableSchema) -> None:
        self.schema = schema
        self.name = schema.name
        self.rows: dict[Uuid, Row] = {}
        self.user_columns = [c.name for c in schema.user_columns]
        self.all_columns = list(schema.columns)
        self.defaults = {c.name: Datum.default(c.type) for c in schema.user_columns}
        self.bad_defaults: list[tuple[str, str, str | None]] = []
        """Columns whose default value breaks a constraint (an enum, a range), with
        the error, in the order ovsdb-server checks them on insert."""
        for name in schema.ovs_order:
            d = self.defaults.get(name)
            if d is not None and len(d.keys) == 1:
                try:
                    d.check_constraints(schema.columns[name].type)
                except OvsdbError as e:
                    self.bad_defaults.append((name, e.tag, e.details))
        self.indexes: list[dict[tuple[Datum, ...], Uuid]] = [{} for _ in schema.indexes]
        self.strong: list[RefColumn] = []
        self.weak: list[RefColumn] = []
        for c in schema.user_columns:
            k, v = c.type.key, c.type.value
            if k.is_strong_ref or (v is not None and v.is_strong_ref):
                self.strong.append(RefColumn(c.name, k.ref_table if k.is_strong_ref else None,
                                             v.ref_table if v and v.is_strong_ref else None))
            if k.is_weak_ref or (v is not None and v.is_weak_ref):
                self.weak.append(RefColumn(c.name, k.ref_table if k.is_weak_ref else None,
                                           v.ref_table if v and v.is_weak_ref else None))

    def new_row(self, uuid: Uuid) -> Row:
        return Row(uuid, new_uuid(), dict(self.defaults))

    def index_key(self, row: Row, i: int) -> tuple[Datum, ...]:
        return tuple(row.get(c) for c in self.schema.indexes[i])


class TxnRow:
    __slots__ = ("changed", "n_refs", "new", "old", "table")

    def __init__(self, table: Table, old: Row | None, new: Row | None, n_refs: int) -> None:
        self.table = table
        self.old = old
        self.new = new
        self.n_refs = n_refs
        self.changed: set[str] = set()


@dataclass(slots=True)
class RowChange:
    """One row's net effect: insert (old None), delete (new None) or modify."""

    old: Row | None
    new: Row | None
    changed: frozenset[str]
    """User columns whose value differs (every column for insert/delete)."""


@dataclass(slots=True)
class Change:
    """What a committed transaction did, table by table."""

    tables: dict[str, dict[Uuid, RowChange]]
    txn_id: Uuid
    comment: str | None = None
    date_ms: int = 0


def _english_delimiter(i: int, n: int) -> str:
    if i == 0:
        return ""
    if i < n - 1:
        return ", "
    return ", and " if n > 2 else " and "


class Txn:
    """A transaction in progress: an overlay of changes on the database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.rows: dict[str, dict[Uuid, TxnRow]] = {}
        self.comments: list[str] = []

    # -- the view ------------------------------------------------------------
    def get(self, table: str, uuid: Uuid) -> Row | None:
        trs = self.rows.get(table)
        if trs is not None:
            tr = trs.get(uuid)
            if tr is not None:
                return tr.new
        return self.db.tables[table].rows.get(uuid)

    def scan(self, table: str) -> Iterator[Row]:
        """Every row of ``table`` as the transaction sees it."""
        committed = self.db.tables[table].rows
        trs = self.rows.get(table)
        if not trs:
            yield from committed.values()
            return
        for uuid, row in committed.items():
            tr = trs.get(uuid)
            if tr is None:
                yield row
            elif tr.new is not None:
                yield tr.new
        for tr in list(trs.values()):
            if tr.old is None and tr.new is not None:
                yield tr.new

    def count(self, table: str) -> int:
        n = len(self.db.tables[table].rows)
        for tr in self.rows.get(table, {}).values():
            if tr.old is None and tr.new is not None:
                n += 1
            elif tr.old is not None and tr.new is None:
                n -= 1
        return n

    def may_create(self, table: str, uuid: Uuid) -> bool:
        """An explicit UUID must not exist, nor have been deleted in this txn."""
        return uuid not in self.db.tables[table].rows and uuid not in self.rows.get(table, {})

    # -- changes -------------------------------------------------------------
    def insert(self, table: str, row: Row) -> None:
        t = self.db.tables[table]
        self.rows.setdefault(table, {})[row.uuid] = TxnRow(t, None, row, 0)

    def modify(self, table: str, row: Row) -> Row:
        """A private, writable copy of ``row`` that the transaction will commit."""
        trs = self.rows.setdefault(table, {})
        tr = trs.get(row.uuid)
        if tr is None:
            new = row.copy()
            trs[row.uuid] = TxnRow(self.db.tables[table], row, new, row.n_refs)
            return new
        assert tr.new is not None
        if tr.new is tr.old:
            tr.new = tr.new.copy()
        return tr.new

    def delete(self, table: str, row: Row) -> None:
        trs = self.rows.setdefault(table, {})
        tr = trs.get(row.uuid)
        if tr is None:
            trs[row.uuid] = TxnRow(self.db.tables[table], row, None, row.n_refs)
        elif tr.old is None:
            del trs[row.uuid]
        else:
            tr.new = None

    def _find_or_make(self, table: str, uuid: Uuid) -> TxnRow | None:
        trs = self.rows.setdefault(table, {})
        tr = trs.get(uuid)
        if tr is None:
            row = self.db.tables[table].rows.get(uuid)
            if row is None:
                return None
            tr = trs[uuid] = TxnRow(self.db.tables[table], row, row, row.n_refs)
        return tr

    def _all(self) -> list[TxnRow]:
        return [tr for trs in self.rows.values() for tr in trs.values()]

    # -- commit checks ---------------------------------------------------------
    def precommit(self) -> bool:
        """Run every commit-time check; return False if nothing changed."""
        for trs in self.rows.values():
            for uuid, tr in list(trs.items()):
                if tr.old is not None and tr.new is not None:
                    old, new = tr.old.data, tr.new.data
                    tr.changed = {c for c in tr.table.user_columns
                                  if old[c] is not new[c] and old[c] != new[c]}
                    if not tr.changed:
                        del trs[uuid]
                elif tr.old is None and tr.new is None:
                    del trs[uuid]
                else:
                    tr.changed = set(tr.table.user_columns)
        self.rows = {t: trs for t, trs in self.rows.items() if trs}
        if not self.rows:
            return False
        for tr in self._all():
            if tr.table.strong and tr.changed:
                self._update_refs(tr)
        for tr in self._all():
            if tr.new is None and tr.n_refs > 0:
                assert tr.old is not None
                raise OvsdbError(
                    "referential integrity violation",
                    f"cannot delete {tr.table.name} row {tr.old.uuid} because of "
                    f"{tr.n_refs} remaining reference(s)")
        for tr in self._all():
            if tr.new is not None and tr.n_refs == 0 and not tr.table.schema.is_root:
                self._delete_garbage(tr)
        for tname in self.rows:
            table = self.db.tables[tname]
            n = self.count(tname)
            if n > table.schema.max_rows:
                raise OvsdbError(
                    "constraint violation",
                    f'transaction causes "{tname}" table to contain {n} rows, greater than '
                    f"the schema-defined limit of {table.schema.max_rows} row(s)")
        self._assess_weak_refs()
        self._check_indexes()
        for tr in self._all():
            if tr.old is not None and tr.new is not None and tr.changed:
                if tr.new is tr.old:
                    tr.new = tr.old.copy()
                tr.new.version = new_uuid()
        return True

    def _ref_atoms(self, rc: Any, datum: Datum) -> Iterator[tuple[str, Uuid]]:
        if rc.key_table is not None:
            for k in datum.keys:
                assert isinstance(k, Uuid)
                yield rc.key_table, k
        if rc.value_table is not None and datum.values is not None:
            for v in datum.values:
                assert isinstance(v, Uuid)
                yield rc.value_table, v

    def _update_refs(self, tr: TxnRow) -> None:
        for rc in tr.table.strong:
            if rc.name not in tr.changed:
                continue
            old = tr.old.data[rc.name] if tr.old is not None else None
            new = tr.new.data[rc.name] if tr.new is not None else None
            removed, added = _added_removed(old, new)
            if tr.old is not None and removed is not None:
                for target_table, u in self._ref_atoms(rc, removed):
                    if u != tr.old.uuid:
                        target = self._find_or_make(target_table, u)
                        if target is not None:
                            target.n_refs -= 1
            if tr.new is not None and added is not None:
                for target_table, u in self._ref_atoms(rc, added):
                    if u == tr.new.uuid:
                        continue
                    target = self._find_or_make(target_table, u)
                    if target is None:
                        raise OvsdbError(
                            "referential integrity violation",
                            f"Table {tr.table.name} column {rc.name} row {tr.new.uuid} "
                            f"references nonexistent row {u} in table {target_table}.")
                    target.n_refs += 1

    def _delete_garbage(self, tr: TxnRow) -> None:
        if tr.table.schema.is_root or tr.new is None:
            return
        row = tr.new
        tr.new = None
        tr.changed = set(tr.table.user_columns)
        for rc in tr.table.strong:
            for target_table, u in self._ref_atoms(rc, row.data[rc.name]):
                if u == row.uuid:
                    continue
                target = self._find_or_make(target_table, u)
                if target is None or target.new is None:
                    continue
                target.n_refs -= 1
                if target.n_refs == 0:
                    self._delete_garbage(target)

    def _assess_weak_refs(self) -> None:
        referrers = self.db.weak_referrers
        if referrers:
            for tr in self._all():
                if tr.old is not None and tr.new is None:
                    for src_table, src_uuid in list(referrers.get(tr.old.uuid, ())):
                        self._find_or_make(src_table, src_uuid)
        for tr in self._all():
            if tr.new is None or not tr.table.weak:
                continue
            for rc in tr.table.weak:
                datum = tr.new.data[rc.name]
                keep_k: list[Any] = []
                keep_v: list[Any] = []
                zero = False
                values = datum.values
                for i, k in enumerate(datum.keys):
                    ok = True
                    if rc.key_table is not None:
                        assert isinstance(k, Uuid)
                        if k != tr.new.uuid and self.get(rc.key_table, k) is None:
                            ok = False
                            zero = zero or k == ZERO_UUID
                    if ok and rc.value_table is not None and values is not None:
                        v = values[i]
                        assert isinstance(v, Uuid)
                        if v != tr.new.uuid and self.get(rc.value_table, v) is None:
                            ok = False
                            zero = zero or v == ZERO_UUID
                    if ok:
                        keep_k.append(k)
                        if values is not None:
                            keep_v.append(values[i])
                n_removed = len(datum.keys) - len(keep_k)
                if not n_removed:
                    continue
                if tr.new is tr.old:
                    tr.new = tr.new.copy()
                tr.new.data[rc.name] = Datum(tuple(keep_k),
                                             tuple(keep_v) if values is not None else None)
                tr.changed.add(rc.name)
                ctype = tr.table.schema.columns[rc.name].type
                if len(keep_k) < ctype.n_min:
                    name, tname, u = rc.name, tr.table.name, tr.new.uuid
                    if zero and tr.old is None:
                        raise OvsdbError(
                            "constraint violation",
                            f'Weak reference column "{name}" in "{tname}" row {u} (inserted '
                            "within this transaction) contained all-zeros UUID (probably as "
                            "the default value for this column) but deleting this value "
                            "caused a constraint volation because this column is not allowed "
                            "to be empty.")
                    inserted = "" if tr.old is not None else "(inserted within this transaction) "
                    raise OvsdbError(
                        "constraint violation",
                        f"Deletion of {n_removed} weak reference(s) to deleted (or "
                        f'never-existing) rows from column "{name}" in "{tname}" row {u} '
                        f"{inserted}caused this column to become empty, but constraints on "
                        "this column disallow an empty column.")

    def _check_indexes(self) -> None:
        for tname, trs in self.rows.items():
            table = self.db.tables[tname]
            for i, columns in enumerate(table.schema.indexes):
                seen: dict[tuple[Datum, ...], Row] = {}
                for tr in trs.values():
                    row = tr.new
                    if row is None:
                        continue
                    key = table.index_key(row, i)
                    other = seen.get(key)
                    if other is None:
                        other_uuid = table.indexes[i].get(key)
                        if other_uuid is not None and other_uuid not in trs:
                            other = table.rows[other_uuid]
                    if other is not None:
                        raise self._duplicate_index_error(table, columns, other, row)
                    seen[key] = row

    def _duplicate_index_error(self, table: Table, columns: tuple[str, ...],
                               a: Row, b: Row) -> OvsdbError:
        if a.uuid > b.uuid:
            a, b = b, a
        types = table.schema.columns
        values = "".join(_english_delimiter(i, len(columns)) + a.get(c).to_string(types[c].type)
                         for i, c in enumerate(columns))
        names = "".join(_english_delimiter(i, len(columns)) + f'"{c}"'
                        for i, c in enumerate(columns))
        index_s = f"column{'s' if len(columns) > 1 else ''} {names}"

        def describe(row: Row, title: str) -> str:
            s = f"{title} row, with UUID {row.uuid}, "
            tr = self.rows.get(table.name, {}).get(row.uuid)
            if tr is None or not tr.changed:
                return s + ("existed in the database before this transaction and was not "
                            "modified by the transaction.")
            if tr.old is None:
                return s + "was inserted by this transaction."
            if all(tr.old.get(c) == row.get(c) for c in columns):
                return s + ("existed in the database before this transaction, which modified "
                            "some of the row's columns but not any columns in this index.")
            before = "".join(_english_delimiter(i, len(columns))
                             + tr.old.get(c).to_string(types[c].type)
                             for i, c in enumerate(columns))
            return s + f"had the following index values before the transaction: {before}."

        return OvsdbError(
            "constraint violation",
            f'Transaction causes multiple rows in "{table.name}" table to have identical '
            f"values ({values}) for index on {index_s}.  {describe(a, 'First')}  "
            f"{describe(b, 'Second')}")

    def to_change(self, txn_id: Uuid, date_ms: int) -> Change:
        tables: dict[str, dict[Uuid, RowChange]] = {}
        for tname, trs in self.rows.items():
            out: dict[Uuid, RowChange] = {}
            for uuid, tr in trs.items():
                if tr.old is None and tr.new is None:
                    continue
                if tr.old is not None and tr.new is not None and not tr.changed:
                    continue
                out[uuid] = RowChange(tr.old, tr.new, frozenset(tr.changed))
            if out:
                tables[tname] = out
        comment = "\n".join(self.comments) if self.comments else None
        return Change(tables, txn_id, comment, date_ms)


def _added_removed(old: Datum | None, new: Datum | None) -> tuple[Datum | None, Datum | None]:
    """(removed, added) between two values of one column, as datums."""
    if old is None:
        return None, new
    if new is None:
        return old, None
    om, nm = old.members(), new.members()
    gone, came = sorted(om - nm), sorted(nm - om)
    if old.values is None:
        return Datum(tuple(gone)), Datum(tuple(came))
    return (Datum(tuple(k for k, _ in gone), tuple(v for _, v in gone)),
            Datum(tuple(k for k, _ in came), tuple(v for _, v in came)))


StorageHook = Callable[[Change, bool], None]
Listener = Callable[[Change], None]


@dataclass
class Database:
    """One OVSDB database: schema, tables, and commit machinery."""

    schema: DatabaseSchema
    tables: dict[str, Table] = field(init=False)
    weak_referrers: dict[Uuid, set[tuple[str, Uuid]]] = field(init=False)
    """Target row -> rows that hold a weak reference to it."""
    storage: StorageHook | None = None
    listeners: list[Listener] = field(default_factory=list)
    last_txn_id: Uuid = field(default_factory=lambda: ZERO_UUID)
    clock_ms: Callable[[], int] = field(default=lambda: 0)

    def __post_init__(self) -> None:
        self.tables = {n: Table(t) for n, t in self.schema.tables.items()}
        self.weak_referrers = {}

    @property
    def name(self) -> str:
        return self.schema.name

    def begin(self) -> Txn:
        return Txn(self)

    def commit(self, txn: Txn, durable: bool = False,
               txn_id: Uuid | None = None) -> Change | None:
        """Check, store and apply ``txn``; None if it changed nothing.

        Raises OvsdbError (nothing applied) on a failed check or storage error.
        """
        if not txn.precommit():
            return None
        change = txn.to_change(txn_id or new_uuid(), self.clock_ms())
        if self.storage is not None:
            self.storage(change, durable)
        self._apply(txn, change)
        for listener in list(self.listeners):
            listener(change)
        return change

    def _apply(self, txn: Txn, change: Change) -> None:
        for tname, trs in txn.rows.items():
            table = self.tables[tname]
            rows = table.rows
            for uuid, tr in trs.items():
                old, new = tr.old, tr.new
                if new is None and old is None:
                    continue
                for i in range(len(table.indexes)):
                    if old is not None:
                        key = table.index_key(old, i)
                        if table.indexes[i].get(key) == uuid:
                            del table.indexes[i][key]
                    if new is not None:
                        table.indexes[i][table.index_key(new, i)] = uuid
                if table.weak:
                    if old is not None:
                        self._weak_index(table, old, remove=True)
                    if new is not None:
                        self._weak_index(table, new, remove=False)
                if new is None:
                    del rows[uuid]
                else:
                    new.n_refs = tr.n_refs
                    rows[uuid] = new
        self.last_txn_id = change.txn_id

    def converted(self, schema: DatabaseSchema) -> Database:
        """A copy of this database's rows in ``schema`` (OVS's ``ovsdb_convert``).

        Tables and columns the new schema lacks are dropped; every value is
        re-read through the new column type, so one that no longer fits is an
        error, and the result passes the usual commit checks.  Raises
        OvsdbError; ``self`` is never changed.
        """
        dst = Database(schema, clock_ms=self.clock_ms)
        txn = dst.begin()
        for tname in shash_order(tuple(self.tables)):
            src_table, dst_table = self.tables[tname], dst.tables.get(tname)
            if dst_table is None:
                continue
            columns = [(c, dst_table.schema.columns[c]) for c in src_table.schema.ovs_order
                       if not c.startswith("_") and c in dst_table.schema.columns]
            for row in src_table.rows.values():
                new = dst_table.new_row(row.uuid)
                for name, col in columns:
                    new.data[name] = Datum.from_json(col.type, row.data[name].to_json())
                txn.insert(tname, new)
        dst.commit(txn)
        return dst

    def _weak_index(self, table: Table, row: Row, remove: bool) -> None:
        src = (table.name, row.uuid)
        for rc in table.weak:
            datum = row.data[rc.name]
            targets: list[Any] = []
            if rc.key_table is not None:
                targets.extend(datum.keys)
            if rc.value_table is not None and datum.values is not None:
                targets.extend(datum.values)
            for t in targets:
                assert isinstance(t, Uuid)
                if remove:
                    s = self.weak_referrers.get(t)
                    if s is not None:
                        s.discard(src)
                        if not s:
                            del self.weak_referrers[t]
                else:
                    self.weak_referrers.setdefault(t, set()).add(src)



__all__ = ["Change", "Database", "Row", "RowChange", "Table", "Txn", "atom_to_string"]
