"""``ovsdb-client monitor``, ``monitor-cond`` and ``monitor-cond-since``.

Each prints the initial contents and then every change as a table per
monitored table: columns ``row`` (the row's UUID), ``action``, then the
monitored columns.  The action is ``initial``, ``insert``, ``delete``, or a
pair of lines ``old`` (only the changed columns) / ``new`` for a
modification (``monitor``, update notifications); ``monitor-cond`` uses
update2's ``initial``/``insert``/``modify``/``delete`` (a modify row holds
the changed columns' diffs, a delete row no columns).  With several tables
each table's update carries the table name as caption.  Every format of
``table_format`` applies (``--format=json`` prints one JSON object per
update), and ``--timestamp`` stamps each update.

Rows of an update are printed in the order ovsdb-client's hash table walks
the update's row UUIDs.  Columns are the ones named (``name,ports``), or
every column sorted by name and then ``_version``; ``!initial``,
``!insert``, ``!delete`` and ``!modify`` turn the server's ``select``
switches off.  ``ALL`` monitors every table, sorted by name.

The loop answers the server's echo requests (``client.Client`` does) and
ends only when the server goes away (``<server>: receive failed (End of
file)``) or removes the database (``monitor_canceled``).  Unlike
ovsdb-client, an error reply to the monitor request is reported and ends
the command instead of leaving it waiting forever.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyovs.ovsdb.client import Client
from pyovs.ovsdb.condition import Condition
from pyovs.ovsdb.data import uuid_from_string
from pyovs.ovsdb.errors import OvsdbError
from pyovs.ovsdb.jsonrpc import MessageKind
from pyovs.ovsdb.ovsorder import shash_order
from pyovs.ovsdb.schema import ColumnSchema, DatabaseSchema, TableSchema
from pyovs.ovsdb.table_format import Cell, Table, TableFormatter, json_to_string

from .cmdline import Fatal, parse_json_arg
from .dbfile import unsorted_json

__all__ = ["MonitorOptions", "monitor"]

_ZERO_UUID = "00000000-0000-0000-0000-000000000000"


@dataclass(slots=True)
class MonitorOptions:
    formatter: TableFormatter
    timestamp: bool = False
    db_change_aware: int = -1
    """-1 use set_db_change_aware if available, 0 never, 1 require it."""
    error: Callable[[str], None] = field(default=lambda _msg: None)
    """Reports a non-fatal problem (OVS's ``ovs_error``)."""


@dataclass(slots=True)
class _Monitored:
    table: TableSchema
    columns: list[ColumnSchema] = field(default_factory=list)


def _parse_columns(arg: str, server: str, database: str, mt: _Monitored) -> dict[str, Any]:
    flags = {"initial": True, "insert": True, "delete": True, "modify": True}
    names: list[str] = []
    table = mt.table

    def add(col: ColumnSchema) -> None:
        if any(c.name == col.name for c in mt.columns):
            raise Fatal(f'{server}: column "{col.name}" mentioned multiple times')
        mt.columns.append(col)
        names.append(col.name)

    for token in (t for t in arg.split(",") if t):
        if token.startswith("!") and token[1:] in flags:
            flags[token[1:]] = False
            continue
        col = table.columns.get(token)
        if col is None:
            raise Fatal(f'{server}: table "{table.name}" in {database} does not have a '
                        f'column named "{token}"')
        add(col)
    if not names:
        for name in sorted(table.columns):
            if name not in ("_uuid", "_version"):
                add(table.columns[name])
        add(table.columns["_version"])
    request: dict[str, Any] = {"columns": names}
    if not all(flags.values()):
        request["select"] = flags
    return request


def _add_table(specs: list[str], server: str, database: str, condition: Any,
               table: TableSchema, requests: dict[str, Any], mts: list[_Monitored]) -> None:
    mt = _Monitored(table)
    mts.append(mt)
    out = []
    for i, spec in enumerate(specs or [""]):
        mr = _parse_columns(spec, server, database, mt)
        if i == 0 and condition is not None:
            mr["where"] = condition
        out.append(mr)
    requests[table.name] = out


def _fetch_schema(client: Client, database: str,
                  check_txn: Callable[[Callable[[], Any]], Any]) -> DatabaseSchema:
    reply = check_txn(lambda: client.call("get_schema", [database]))
    try:
        return DatabaseSchema.from_json(reply)
    except OvsdbError as e:
        raise Fatal(str(e)) from None


def monitor(client: Client, database: str, version: int, args: list[str],
            opts: MonitorOptions, check_txn: Callable[[Callable[[], Any]], Any]) -> None:
    """Run ``monitor`` (version 1), ``monitor-cond`` (2) or ``...-since`` (3).

    ``args`` are the command's arguments after server and database.
    ``check_txn`` runs a call and turns failures into OVS's fatal messages.
    """
    condition = None
    last_id = _ZERO_UUID
    if version == 3 and len(args) > 1 and _is_uuid(args[0]):
        last_id, args = args[0], args[1:]
    if version >= 2:
        schema = _fetch_schema(client, database, check_txn)
        table = schema.tables.get(args[1]) if len(args) > 1 else None
        if table is None:
            raise Fatal(f'{database} does not have a table named "{args[1]}"')
        condition = parse_json_arg(args[0])
        try:
            Condition.from_json(table, condition)
        except OvsdbError as e:
            raise Fatal(str(e)) from None
        args = args[1:]
    _monitor(client, database, version, args, condition, last_id, opts, check_txn)


def _is_uuid(s: str) -> bool:
    return uuid_from_string(s) is not None


def _monitor(client: Client, database: str, version: int, args: list[str], condition: Any,
             last_id: str, opts: MonitorOptions,
             check_txn: Callable[[Callable[[], Any]], Any]) -> None:
    server = client.name
    schema = _fetch_schema(client, database, check_txn)
    requests: dict[str, Any] = {}
    mts: list[_Monitored] = []
    if args[0] != "ALL":
        table = schema.tables.get(args[0])
        if table is None:
            raise Fatal(f'{server}: {database} does not have a table named "{args[0]}"')
        _add_table(args[1:], server, database, condition, table, requests, mts)
    else:
        if condition is not None:
            raise Fatal("ALL tables are not allowed with condition")
        for name in sorted(schema.tables):
            _add_table(args[1:], server, database, None, schema.tables[name], requests, mts)
    _set_db_change_aware(client, opts)
    params: list[Any] = [database, None, requests]
    method = {1: "monitor", 2: "monitor_cond", 3: "monitor_cond_since"}[version]
    if version == 3:
        params.append(last_id)
    request_id = client.request(method, params)
    printer = _Printer(mts, opts)
    for msg in client.messages():
        if msg.kind in (MessageKind.REPLY, MessageKind.ERROR) and msg.id == request_id:
            if msg.kind is MessageKind.ERROR:
                raise Fatal(f"{server}: {method} failed: {json_to_string(msg.error)}")
            if version == 1:
                printer.updates(msg.result, initial=True)
            elif version == 2:
                printer.updates2(msg.result)
            else:
                printer.reply3(msg.result)
        elif msg.kind is MessageKind.NOTIFY:
            p = msg.params or []
            if msg.method == "update" and len(p) == 2 and p[0] is None:
                printer.updates(p[1], initial=False)
            elif (msg.method == "update2" and version == 2 and len(p) == 2
                  and p[0] is None):
                printer.updates2(p[1])
            elif (msg.method == "update3" and version == 3 and len(p) == 3
                  and p[0] is None):
                printer.write(f"\nlast_id: {p[1] if isinstance(p[1], str) else ''}")
                printer.updates2(p[2])
            elif msg.method == "monitor_canceled":
                raise Fatal(f"{server}: {database} database was removed")
        sys.stdout.flush()
    raise Fatal(f"{server}: receive failed (End of file)")


def _set_db_change_aware(client: Client, opts: MonitorOptions) -> None:
    if opts.db_change_aware == 0:
        return
    reply = client.wait_reply(client.request("set_db_change_aware", [True]))
    if reply.kind is MessageKind.ERROR and opts.db_change_aware == 1:
        raise Fatal(f"{client.name}: set_db_change_aware failed "
                    f"({unsorted_json(reply.error)})")


class _Printer:
    """Turns table-updates into tables, one per monitored table."""

    def __init__(self, mts: list[_Monitored], opts: MonitorOptions) -> None:
        self.mts = mts
        self.opts = opts

    def write(self, text: str) -> None:
        sys.stdout.write(text)

    def _new_table(self, mt: _Monitored) -> Table:
        t = Table(caption=mt.table.name if len(self.mts) > 1 else None,
                  timestamp=self.opts.timestamp)
        for heading in ("row", "action", *(c.name for c in mt.columns)):
            t.add_column(heading)
        return t

    def _add_row(self, t: Table, mt: _Monitored, row: Any, action: str, uuid: str) -> None:
        if row is None:
            self.opts.error(f"missing {action} row")
            return
        if not isinstance(row, dict):
            self.opts.error("<row> is not object")
            return
        cells: list[Cell | str | None] = [uuid, action]
        for col in mt.columns:
            value = row.get(col.name)
            cells.append(Cell.of_json(value, col.type) if value is not None else None)
        t.add_row(cells)

    def _each_table(self, updates: Any, what: str) -> list[tuple[_Monitored, dict[str, Any]]]:
        if not isinstance(updates, dict):
            self.opts.error(f"<{what}> is not object")
            return []
        out = []
        for mt in self.mts:
            tu = updates.get(mt.table.name)
            if tu is None:
                continue
            if not isinstance(tu, dict):
                self.opts.error(f"<table-update> for table {mt.table.name} is not object")
                continue
            out.append((mt, tu))
        return out

    def updates(self, updates: Any, initial: bool) -> None:
        for mt, tu in self._each_table(updates, "table-updates"):
            t = self._new_table(mt)
            for uuid in shash_order(tuple(tu)):
                ru = tu[uuid]
                if not isinstance(ru, dict):
                    self.opts.error("<row-update> is not object")
                    continue
                old, new = ru.get("old"), ru.get("new")
                if initial:
                    self._add_row(t, mt, new, "initial", uuid)
                elif old is None:
                    self._add_row(t, mt, new, "insert", uuid)
                elif new is None:
                    self._add_row(t, mt, old, "delete", uuid)
                else:
                    self._add_row(t, mt, old, "old", uuid)
                    self._add_row(t, mt, new, "new", "")
            self.write(self.opts.formatter.format(t))

    def updates2(self, updates: Any) -> None:
        for mt, tu in self._each_table(updates, "table-updates2"):
            t = self._new_table(mt)
            for uuid in shash_order(tuple(tu)):
                ru = tu[uuid]
                if not isinstance(ru, dict):
                    self.opts.error("<row-update2> is not object")
                    continue
                for op in ("delete", "initial", "modify", "insert"):
                    if op not in ru:
                        continue
                    row = ru[op]
                    if op != "delete":
                        if not isinstance(row, dict):
                            self.opts.error("<row> is not object")
                        else:
                            self._add_row(t, mt, row, op, uuid)
                    elif row is not None:
                        self.opts.error("delete method does not expect <row>")
                    else:
                        t.add_row([uuid, op])
                    break
            self.write(self.opts.formatter.format(t))

    def reply3(self, result: Any) -> None:
        if not isinstance(result, list):
            self.opts.error("<result> is not array")
            return
        if len(result) != 3:
            self.opts.error(f"<result> should have 3 elements, but has {len(result)}.")
            return
        found = "true" if result[0] is True else "false"
        last_id = result[1] if isinstance(result[1], str) else ""
        self.write(f"found: {found}, last_id: {last_id}\n")
        self.updates2(result[2])
