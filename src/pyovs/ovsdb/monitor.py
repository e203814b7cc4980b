"""Monitors: streaming a database's changes to clients.

Three versions share one implementation, as in ovsdb-server:
- v1 ``monitor`` (RFC 7047 4.1.5): ``<table-updates>`` with "old"/"new" rows,
  sent in ``update`` notifications;
- v2 ``monitor_cond``: ``<table-updates2>`` with "initial", "insert",
  "delete" and "modify" (a diff: for a set, the elements added or removed;
  for a map, the pairs added, removed or changed; for other columns, the new
  value), filtered by a per-table condition, sent in ``update2``;
- v3 ``monitor_cond_since``: v2 updates plus the id of the last transaction,
  so a reconnecting client receives only what it missed (``update3``).

A :class:`Monitor` is sans-IO: it turns a :class:`~.database.Change` into the
JSON to send (or None when nothing it watches changed).  Conditions make a
modification look like an insert or a delete when a row enters or leaves
the selection; ``initial`` and ``insert`` rows leave out columns that hold
their default value, exactly like OVS.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from .condition import Condition
from .data import Uuid, datum_diff
from .database import Change, Database, Row, RowChange
from .errors import Parser, syntax_error, syntax_error_nojson

INITIAL, INSERT, DELETE, MODIFY = 1, 2, 4, 8
ALL = INITIAL | INSERT | DELETE | MODIFY


@dataclass(slots=True)
class MonitorTable:
    name: str
    columns: dict[str, int] = field(default_factory=dict)
    """Monitored column -> the change kinds it is reported for."""
    select: int = 0
    condition: Condition | None = None
    """None: every row (v1, or v2 without "where")."""
    _by_kind: dict[int, list[str]] = field(default_factory=dict)

    def columns_for(self, kind: int) -> list[str]:
        """The monitored columns reported for ``kind`` (cached; columns never change)."""
        cols = self._by_kind.get(kind)
        if cols is None:
            cols = self._by_kind[kind] = [c for c, sel in self.columns.items() if sel & kind]
        return cols

    def matches(self, row: Row | None) -> bool:
        if row is None:
            return False
        c = self.condition
        if c is None or not c.clauses:
            return True
        return c.match_any(row.get)



class Monitor:
    """One monitor of one session: what it watches and how it reports."""

    def __init__(self, db: Database, monitor_id: Any, version: int) -> None:
        self.db = db
        self.monitor_id = monitor_id
        self.version = version
        self.tables: dict[str, MonitorTable] = {}
        self.id_json = "null"
        """The monitor id, serialised once for every notification."""
        self.signature: Any = None
        """Identical unconditional monitors share one serialised update per commit."""

    @property
    def method(self) -> str:
        return {1: "update", 2: "update2", 3: "update3"}[self.version]

    # -- parsing ---------------------------------------------------------------
    @classmethod
    def from_json(cls, db: Database, monitor_id: Any, requests: Any, version: int) -> Monitor:
        if not isinstance(requests, dict):
            raise syntax_error(requests, "monitor-requests must be object")
        m = cls(db, monitor_id, version)
        for tname, value in requests.items():
            if tname not in db.tables:
                raise syntax_error_nojson(f"no table named {tname}")
            mt = m.tables.setdefault(tname, MonitorTable(tname))
            for req in value if isinstance(value, list) else [value]:
                m._parse_request(mt, req)
        return m

    def _parse_request(self, mt: MonitorTable, req: Any) -> None:
        schema = self.db.tables[mt.name].schema
        p = Parser(req, f"table {mt.name}")
        where = p.member("where", ("array",), optional=True) if self.version >= 2 else None
        columns = p.member("columns", ("array",), optional=True)
        select_json = p.member("select", ("object",), optional=True)
        p.finish()
        select = ALL
        if select_json is not None:
            sp = Parser(select_json, f"table {mt.name} select")
            select = 0
            for name, bit in (("initial", INITIAL), ("insert", INSERT), ("delete", DELETE),
                              ("modify", MODIFY)):
                v = sp.member(name, ("boolean",), optional=True)
                if v is None or v:
                    select |= bit
            sp.finish()
        mt.select |= select
        if columns is not None:
            names = []
            for c in columns:
                if not isinstance(c, str):
                    raise syntax_error(columns, "array of column names expected")
                if c not in schema.columns:
                    raise syntax_error(columns, f"{c} is not a valid column name")
                names.append(c)
        else:
            names = [c for c in schema.columns if c != "_uuid"]
        for c in names:
            if c in mt.columns:
                raise syntax_error(columns, f"column {c} mentioned more than once")
            mt.columns[c] = select
        if self.version >= 2:
            mt.condition = Condition.from_json(schema, where if where is not None else [])

    def change_condition(self, requests: Any) -> dict[str, Any] | None:
        """Apply monitor_cond_change requests; return the update it causes."""
        if not isinstance(requests, dict):
            raise syntax_error_nojson("monitor-cond-change-requests must be object")
        new_conds: dict[str, Condition] = {}
        for tname, value in requests.items():
            if tname not in self.db.tables:
                raise syntax_error_nojson(f"no table named {tname}")
            if tname not in self.tables:
                raise syntax_error_nojson(f"no table named {tname} in monitor session")
            if not isinstance(value, list):
                raise syntax_error_nojson(f"table {tname} no monitor-cond-change JSON array")
            for req in value:
                p = Parser(req, f"table {tname}")
                columns = p.member("columns", ("array",), optional=True)
                where = p.member("where", ("array",), optional=True)
                p.finish()
                if columns is not None:
                    raise syntax_error(req, "changing columns is unsupported")
                if where is not None:
                    new_conds[tname] = Condition.from_json(self.db.tables[tname].schema, where)
        out: dict[str, Any] = {}
        for tname, cond in new_conds.items():
            mt = self.tables[tname]
            old_mt = MonitorTable(tname, mt.columns, mt.select, mt.condition)
            mt.condition = cond
            rows: dict[str, Any] = {}
            for row in self.db.tables[tname].rows.values():
                was, now = old_mt.matches(row), mt.matches(row)
                if was == now:
                    continue
                kind = INSERT if now else DELETE
                if not mt.select & kind:
                    continue
                rows[str(row.uuid)] = ({"delete": None} if kind == DELETE
                                       else {"insert": self._row2(mt, row, INSERT)})
            if rows:
                out[tname] = rows
        return out or None

    # -- composing ---------------------------------------------------------------
    def initial(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for tname, mt in self.tables.items():
            if not mt.select & INITIAL:
                continue
            rows: dict[str, Any] = {}
            for row in self.db.tables[tname].rows.values():
                if mt.matches(row):
                    rows[str(row.uuid)] = self._row_update(mt, None, row, INITIAL)
            if rows:
                out[tname] = rows
        return out

    def update(self, change: Change) -> dict[str, Any] | None:
        return self.update_from(change.tables)

    def update_from(self, tables: dict[str, dict[Uuid, RowChange]]) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        for tname, mt in self.tables.items():
            changes = tables.get(tname)
            if not changes:
                continue
            rows: dict[str, Any] = {}
            for uuid, rc in changes.items():
                old, new = rc.old, rc.new
                if old is None:
                    kind = INSERT
                elif new is None:
                    kind = DELETE
                else:
                    kind = MODIFY
                if mt.condition is not None and mt.condition.clauses:
                    was, now = mt.matches(old), mt.matches(new)
                    if not was and not now:
                        continue
                    if kind == MODIFY:
                        kind = INSERT if not was else DELETE if not now else MODIFY
                    elif (kind == INSERT and not now) or (kind == DELETE and not was):
                        continue
                if not mt.select & kind:
                    continue
                ru = self._row_update(mt, old, new, kind)
                if ru is not None:
                    rows[str(uuid)] = ru
            if rows:
                out[tname] = rows
        return out or None

    def _row_update(self, mt: MonitorTable, old: Row | None, new: Row | None,
                    kind: int) -> dict[str, Any] | None:
        if self.version == 1:
            return self._row1(mt, old, new, kind)
        if kind == DELETE:
            return {"delete": None}
        if kind == MODIFY:
            assert old is not None and new is not None
            schema = self.db.tables[mt.name].schema.columns
            diff: dict[str, Any] = {}
            od, nd = old.data, new.data
            for c, sel in mt.columns.items():
                if not sel & MODIFY:
                    continue
                o = od.get(c)
                if o is None:  # _version (_uuid never changes)
                    o, n = old.get(c), new.get(c)
                else:
                    n = nd[c]
                    if o is n:
                        continue
                if o == n:
                    continue
                diff[c] = datum_diff(o, n, schema[c].type).to_json()
            return {"modify": diff} if diff else None
        assert new is not None
        return {"initial" if kind == INITIAL else "insert": self._row2(mt, new, kind)}

    def _row2(self, mt: MonitorTable, row: Row, kind: int) -> dict[str, Any]:
        defaults = self.db.tables[mt.name].defaults
        out: dict[str, Any] = {}
        data = row.data
        for c in mt.columns_for(kind):
            d = data.get(c)
            if d is None:
                out[c] = row.get(c).to_json()  # _version: never the default
                continue
            dflt = defaults[c]
            if d is not dflt and d != dflt:
                out[c] = d.to_json()
        return out

    def _row1(self, mt: MonitorTable, old: Row | None, new: Row | None,
              kind: int) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        old_json: dict[str, Any] = {}
        new_json: dict[str, Any] = {}
        changed = False
        for c, sel in mt.columns.items():
            if not sel & kind:
                continue
            if kind == DELETE:
                assert old is not None
                old_json[c] = old.get(c).to_json()
                continue
            assert new is not None
            if kind == MODIFY:
                assert old is not None
                if old.get(c) != new.get(c):
                    old_json[c] = old.get(c).to_json()
                    changed = True
            new_json[c] = new.get(c).to_json()
        if kind == MODIFY and not changed:
            return None
        if kind & (DELETE | MODIFY):
            out["old"] = old_json
        if kind & (INITIAL | INSERT | MODIFY):
            out["new"] = new_json
        return out


class History:
    """The last transactions of a database, for monitor_cond_since."""

    def __init__(self, db: Database, max_txns: int = 100) -> None:
        self.db = db
        self.changes: deque[Change] = deque(maxlen=max_txns)
        db.listeners.append(self.changes.append)

    def since(self, txn_id: Uuid) -> dict[str, dict[Uuid, RowChange]] | None:
        """Net row changes after ``txn_id``; None if it is not in the history."""
        if txn_id == self.db.last_txn_id:
            return {}
        ids = [c.txn_id for c in self.changes]
        if txn_id not in ids:
            return None
        merged: dict[str, dict[Uuid, RowChange]] = {}
        for change in list(self.changes)[ids.index(txn_id) + 1:]:
            for tname, rows in change.tables.items():
                mt = merged.setdefault(tname, {})
                for uuid, rc in rows.items():
                    prev = mt.get(uuid)
                    if prev is None:
                        mt[uuid] = rc
                    else:
                        mt[uuid] = RowChange(prev.old, rc.new, prev.changed | rc.changed)
        for rows in merged.values():
            for uuid in [u for u, rc in rows.items() if rc.old is None and rc.new is None]:
                del rows[uuid]
        return merged


def parse_last_id(value: Any) -> Uuid:
    from .data import uuid_from_string

    if not isinstance(value, str):
        raise syntax_error(value, "last-txn-id must be string")
    u = uuid_from_string(value)
    if u is None:
        raise syntax_error(value, "last-txn-id must be UUID format.")
    return u

