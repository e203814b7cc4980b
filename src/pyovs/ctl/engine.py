"""Commands, their context, and how users name tables, columns and rows.

This is the schema-independent half of OVS's ``lib/db-ctl-base.c``:

* :class:`CommandSyntax` is one entry of a tool's command table (name,
  argument counts, usage, the ``prerequisites``/``run``/``postprocess``
  callbacks, the options it accepts, read-only or read-write);
* :class:`Context` is what a callback gets: the command's words and options,
  the replica and its open transaction, the ``@name`` symbol table, and the
  command's output (text or a :class:`~pyovs.ovsdb.table_format.Table`).
  Tools with a cache of their own (ovs-vsctl's bridges/ports/interfaces)
  subclass it and override :meth:`Context.invalidate_cache`;
* :class:`CtlSchema` is the tool's view of its database: the schema plus, per
  table, the :class:`RowId` rules that let a user write ``br0`` instead of a
  UUID (OVS's ``ctl_table_class``) and the ``show`` layout
  (:class:`ShowTable`, OVS's ``cmd_show_table``).  Both are plain data.

Name matching follows OVS: a table or column may be abbreviated to any
unique prefix, compared case-insensitively with ``-`` and ``_`` equal; an
exact match always wins.  When several names match equally, the error lists
them sorted.

Every error is a :class:`CtlFatal` carrying OVS's exact message; the session
prints ``<program>: <message>`` and exits with its status (1, or 2 for
``br-exists``), committing nothing -- which is what both ``ctl_fatal`` and a
command's ``ctx->error`` amount to in OVS.
"""

from __future__ import annotations

import enum
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from pyovs.ovsdb.data import Atom, Datum, Symbol, SymbolTable, atom_from_string, parse_token
from pyovs.ovsdb.data import uuid_from_string as _uuid_from_string
from pyovs.ovsdb.schema import ColumnSchema, DatabaseSchema, Type
from pyovs.ovsdb.table_format import Table

from .idl import Idl, IdlRow, IdlTable, Txn

__all__ = [
    "CommandSyntax",
    "Context",
    "CtlFatal",
    "CtlSchema",
    "Log",
    "Mode",
    "RowId",
    "ShowTable",
    "TableClass",
    "WrefTable",
]


class CtlFatal(Exception):
    """Stop the tool: print ``<program>: <message>`` (if any) and exit ``status``."""

    def __init__(self, message: str | None, status: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class Mode(enum.Enum):
    """Whether a command may write to the database (``ctl_might_write_to_db``)."""

    RO = "ro"
    RW = "rw"


Callback = Callable[["Context"], None]


@dataclass(frozen=True, slots=True)
class CommandSyntax:
    """One command of a tool (OVS's ``struct ctl_command_syntax``)."""

    name: str
    min_args: int
    max_args: int
    arguments: str
    """Usage of the arguments, e.g. ``"TABLE [RECORD]..."`` (for ``--commands``)."""
    prerequisites: Callback | None
    """Registers the tables and columns ``run`` will read."""
    run: Callback | None
    postprocess: Callback | None
    """Runs after a successful commit (``create`` learns the real UUID here)."""
    options: str
    """Accepted options, e.g. ``"--if-exists,--id="``; ``=`` takes an argument."""
    mode: Mode


INT_MAX = 2**31 - 1


@dataclass(frozen=True, slots=True)
class RowId:
    """One way to name a row of a table (OVS's ``struct ctl_row_id``).

    The row is found by looking for ``name`` in ``name_column`` of ``table``
    (optionally under ``key`` of a map column); if ``uuid_column`` is set the
    row found is the referrer, and its ``uuid_column`` holds the row meant.
    """

    table: str
    name_column: str
    key: str | None = None
    uuid_column: str | None = None


@dataclass(frozen=True, slots=True)
class TableClass:
    """How users may name the rows of one table (``struct ctl_table_class``)."""

    row_ids: tuple[RowId, ...] = ()


@dataclass(frozen=True, slots=True)
class WrefTable:
    """Rows of ``table`` whose ``wref_column`` points at the row shown."""

    table: str
    name_column: str
    wref_column: str


@dataclass(frozen=True, slots=True)
class ShowTable:
    """How ``show`` prints a row of ``table`` (``struct cmd_show_table``)."""

    table: str
    name_column: str | None
    columns: tuple[str, ...]
    wref: WrefTable | None = None


@dataclass(slots=True)
class CtlSchema:
    """A tool's database: its schema and how its rows are named and shown."""

    schema: DatabaseSchema
    classes: dict[str, TableClass] = field(default_factory=dict)
    show_tables: tuple[ShowTable, ...] = ()

    def table_names(self) -> list[str]:
        """Tables in the order of the C IDL class (sorted by name)."""
        return sorted(self.schema.tables)

    def table_class(self, table: str) -> TableClass:
        return self.classes.get(table, _NO_CLASS)


_NO_CLASS = TableClass()


class Log:
    """vlog's console lines (``...Z|00001|module|WARN|text``) on stderr.

    The counter is OVS's ``%05N``: it counts every message logged to any
    destination, including those that only syslog sees.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.seq = 0
        self.stream = stream

    def skip(self) -> None:
        """Count a message that no console sees (OVS logs it to syslog only)."""
        self.seq += 1

    def warn(self, module: str, text: str) -> None:
        self.seq += 1
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        stream = self.stream or sys.stderr
        stream.write(f"{stamp}|{self.seq:05d}|{module}|WARN|{text}\n")
        stream.flush()


class Context:
    """What a command callback works with (OVS's ``struct ctl_context``)."""

    def __init__(self, db: CtlSchema, idl: Idl, txn: Txn | None, symtab: SymbolTable | None,
                 log: Log) -> None:
        self.db = db
        self.idl = idl
        self.txn_ = txn
        self.symtab_ = symtab
        self.log = log
        self.argv: list[str] = []
        self.options: dict[str, str | None] = {}
        self.output: list[str] = []
        self.table: Table | None = None
        self.try_again = False
        self.last_command = False

    # The transaction and symbol table exist only while commands run.
    @property
    def txn(self) -> Txn:
        if self.txn_ is None:
            raise RuntimeError("no transaction in the prerequisites phase")
        return self.txn_

    @property
    def symtab(self) -> SymbolTable:
        if self.symtab_ is None:
            raise RuntimeError("no symbol table in the prerequisites phase")
        return self.symtab_

    @property
    def argc(self) -> int:
        return len(self.argv)

    def has(self, option: str) -> bool:
        return option in self.options

    def option(self, option: str) -> str | None:
        return self.options.get(option)

    def put(self, text: str) -> None:
        self.output.append(text)

    def init_command(self) -> None:
        """Called before each command runs; tools with per-command state override this."""

    def invalidate_cache(self) -> None:
        """Forget derived state after a change; tools with a cache override this."""

    # -- prerequisites ------------------------------------------------------------
    def add_column(self, table: str, column: str) -> None:
        self.idl.add_column(table, column)

    def add_table(self, table: str) -> None:
        self.idl.add_table(table)

    def read(self, row: IdlRow, column: str) -> Datum:
        return self.idl.read(row, column)

    def rows(self, table: str) -> list[IdlRow]:
        return list(self.idl.table(table))


# --- names --------------------------------------------------------------------

def _fold(c: str) -> str:
    return "_" if c == "-" else c.lower()


def score_partial_match(name: str, s: str) -> int:
    """How well user input ``s`` matches ``name``; 0 for no match."""
    if name == s:
        return 2**32 - 1
    n = min(len(name), len(s))
    score = 0
    while score < n and _fold(name[score]) == _fold(s[score]):
        score += 1
    if score == len(name) and score == len(s):
        return 2**32 - 2
    return score if score == len(s) else 0


def _best_match(candidates: Sequence[str], s: str) -> tuple[str | None, list[str]]:
    best: list[str] = []
    best_score = 0
    for name in candidates:
        score = score_partial_match(name, s)
        if score and score >= best_score:
            if score > best_score:
                best = []
            if name not in best:
                best.append(name)
            best_score = score
    return (best[-1] if best else None), best


def get_table(db: CtlSchema, name: str) -> str:
    """The table ``name`` abbreviates (``get_table``)."""
    found, matches = _best_match(db.table_names(), name)
    if found is None:
        raise CtlFatal(f'unknown table "{name}"')
    if len(matches) > 1:
        raise CtlFatal(f'"{name}" matches multiple table names: '
                       + ", ".join(sorted(matches)))
    return found


def get_column(table: IdlTable, name: str) -> ColumnSchema:
    """The column of ``table`` that ``name`` abbreviates (``get_column``)."""
    found, matches = _best_match([c.name for c in table.columns], name)
    if found is None:
        raise CtlFatal(f'{table.name} does not contain a column whose name matches "{name}"')
    if len(matches) > 1:
        raise CtlFatal(f'{table.name} contains more than one column whose name matches '
                       f'"{name}": ' + ", ".join(sorted(matches)))
    return table.column(found)


def pre_get_table(ctx: Context, name: str) -> IdlTable:
    """Resolve a table name and monitor it with the columns that name its rows."""
    table = get_table(ctx.db, name)
    ctx.add_table(table)
    for rid in ctx.db.table_class(table).row_ids:
        ctx.add_column(rid.table, rid.name_column)
        if rid.uuid_column is not None:
            ctx.add_column(rid.table, rid.uuid_column)
    return ctx.idl.table(table)


def pre_get_column(ctx: Context, table: IdlTable, name: str) -> ColumnSchema:
    column = get_column(table, name)
    ctx.add_column(table.name, column.name)
    return column


def pre_parse_column_key_value(ctx: Context, arg: str, table: IdlTable) -> None:
    try:
        name, _ = parse_token(arg, 0)
    except ValueError as e:
        raise CtlFatal(str(e)) from None
    if not name:
        raise CtlFatal(f"{arg}: missing column name")
    pre_get_column(ctx, table, name)


# --- rows ---------------------------------------------------------------------

def _uuid_is_partial_string(s: str) -> int:
    template = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
    for i, c in enumerate(s):
        if i >= len(template):
            return 0
        if template[i] == "x":
            if c not in "0123456789abcdefABCDEF":
                return 0
        elif c != "-":
            return 0
    return len(s)


def _record_id_equals(name: Atom, is_integer: bool, record_id: str) -> bool:
    if is_integer:
        return name == _strtoll(record_id)
    assert isinstance(name, str)
    if name == record_id:
        return True
    return (len(record_id) >= 4 and _uuid_from_string(name) is not None
            and name.startswith(record_id))


def _strtoll(s: str) -> int:
    digits = ""
    for c in s:
        if not c.isdigit():
            break
        digits += c
    return int(digits) if digits else 0


def _get_row_by_id(ctx: Context, table: str, rid: RowId, record_id: str) -> IdlRow | None:
    id_table = ctx.idl.table(rid.table)
    column = id_table.column(rid.name_column)
    name_type = column.type.key.type if rid.key is None else (
        column.type.value.type if column.type.value is not None else column.type.key.type)
    is_integer = name_type.value == "integer"
    if is_integer and (not record_id or not record_id.isdigit() or not record_id.isascii()):
        return None
    referrer: IdlRow | None = None
    for row in id_table:
        datum = ctx.read(row, rid.name_column)
        name: Atom | None
        if rid.key is None:
            name = datum.keys[0] if len(datum.keys) == 1 else None
        else:
            name = datum.as_dict().get(rid.key) if datum.values is not None else None
        if name is None or not _record_id_equals(name, is_integer, record_id):
            continue
        if referrer is not None:
            raise CtlFatal(f'multiple rows in {id_table.name} match "{record_id}"')
        referrer = row
    if referrer is None:
        return None
    if rid.uuid_column is None:
        return referrer
    ctx.txn.verify(referrer, rid.uuid_column)
    uuids = ctx.read(referrer, rid.uuid_column)
    if len(uuids.keys) == 1:
        return ctx.idl.get_row(table, str(uuids.keys[0]))
    return None


def get_row(ctx: Context, table: str, record_id: str, must_exist: bool) -> IdlRow | None:
    """The row ``record_id`` names in ``table`` (``ctl_get_row``)."""
    row: IdlRow | None = None
    uuid = _uuid_from_string(record_id)
    if uuid is not None:
        row = ctx.idl.get_row(table, uuid)
    if row is None and record_id == ".":
        rows = ctx.rows(table)
        row = rows[0] if len(rows) == 1 else None
    if row is None:
        for rid in ctx.db.table_class(table).row_ids:
            row = _get_row_by_id(ctx, table, rid, record_id)
            if row is not None:
                break
    if row is None and _uuid_is_partial_string(record_id) >= 4:
        for r in ctx.idl.table(table):
            if str(r.uuid).startswith(record_id):
                if row is None:
                    row = r
                else:
                    raise CtlFatal(f"{table} contains 2 or more rows whose UUIDs begin with "
                                   f"{record_id}: at least {row.uuid} and {r.uuid}")
    if must_exist and row is None:
        raise CtlFatal(f'no row "{record_id}" in table {table}')
    return row


# --- COLUMN[:KEY][OP VALUE] ---------------------------------------------------

def parse_column_key_value(
        arg: str, table: IdlTable, operators: Sequence[str] | None = None,
        want_value: bool = False) -> tuple[ColumnSchema, str | None, int, str | None]:
    """Split ``arg`` into (column, key, operator index, value) (``parse_column_key_value``).

    With ``want_value`` an operator from ``operators`` (default ``=``) and a
    non-empty value must follow; otherwise nothing may follow the key.
    """
    try:
        name, p = parse_token(arg, 0)
        if not name:
            raise CtlFatal(f"{arg}: missing column name")
        column = get_column(table, name)
        key: str | None = None
        if p < len(arg) and arg[p] == ":":
            key, p = parse_token(arg, p + 1)
    except ValueError as e:
        raise CtlFatal(str(e)) from None
    if not want_value:
        if p < len(arg):
            raise CtlFatal(f'{arg}: trailing garbage "{arg[p:]}" in argument')
        return column, key, -1, None
    ops = list(operators) if operators else ["="]
    best, best_len = -1, 0
    for i, op in enumerate(ops):
        if len(op) > best_len and arg.startswith(op, p) and len(arg) > p + len(op):
            best, best_len = i, len(op)
    if best < 0:
        raise CtlFatal(_missing_operator_error(arg, ops))
    return column, key, best, arg[p + best_len:]


def _missing_operator_error(arg: str, ops: Sequence[str]) -> str:
    quoted = [f'"{op}"' for op in ops]
    if len(ops) == 1:
        allowed = quoted[0]
    elif len(ops) == 2:
        allowed = f"{quoted[0]} or {quoted[1]}"
    else:
        allowed = ", ".join(quoted[:-1]) + f", or {quoted[-1]}"
    return f"{arg}: argument does not end in {allowed} followed by a value."


def atom_arg(base_type: Type, which: str, text: str, symtab: SymbolTable | None) -> Atom:
    """One atom of a command argument, ``which`` being "key" or "value" of ``base_type``."""
    base = base_type.key if which == "key" else base_type.value
    assert base is not None
    try:
        return atom_from_string(base, text, symtab)[0]
    except ValueError as e:
        raise CtlFatal(str(e)) from None


def datum_arg(type_: Type, text: str, symtab: SymbolTable | None) -> Datum:
    try:
        return Datum.from_string(type_, text, symtab)
    except ValueError as e:
        raise CtlFatal(str(e)) from None


def check_mutable(row: IdlRow, column: ColumnSchema) -> None:
    if not (column.mutable or (row.new is not None and row.old is None)):
        raise CtlFatal(f"cannot modify read-only column {column.name} in table "
                       f"{row.table.name}")


def set_column(ctx: Context, table: IdlTable, row: IdlRow, arg: str,
               use_partial_update: bool) -> None:
    """Apply ``COLUMN[:KEY]=VALUE`` to ``row`` (``set_column``)."""
    column, key, _, value = parse_column_key_value(arg, table, want_value=True)
    assert value is not None
    check_mutable(row, column)
    ctype = column.type
    if key is not None:
        if ctype.value is None:
            raise CtlFatal(f"cannot specify key to set for non-map column {column.name}")
        k = atom_arg(ctype, "key", key, ctx.symtab)
        v = atom_arg(ctype, "value", value, ctx.symtab)
        if use_partial_update:
            ctx.txn.write_partial_map(row, column.name, Datum((k,), (v,)))
        else:
            merged = ctx.read(row, column.name).as_dict()
            merged[k] = v
            ctx.txn.verify(row, column.name)
            ctx.txn.write(row, column.name, Datum.map_of(merged))
    else:
        ctx.txn.write(row, column.name, datum_arg(ctype, value, ctx.symtab))


def create_symbol(symtab: SymbolTable, name: str) -> tuple[Symbol, bool]:
    """Define ``@name`` (``--id``); returns the symbol and whether it was new."""
    if not name.startswith("@"):
        raise CtlFatal(f'row id "{name}" does not begin with "@"')
    new = name not in symtab
    symbol = symtab.insert(name)
    if symbol.created:
        raise CtlFatal(f'row id "{name}" may only be specified on one --id option')
    symbol.created = True
    return symbol, new
