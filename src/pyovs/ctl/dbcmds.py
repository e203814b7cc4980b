"""The database commands every ``*ctl`` tool has (OVS's ``db_ctl_commands``).

``get``, ``list``, ``find``, ``set``, ``add``, ``remove``, ``clear``,
``create``, ``destroy``, ``wait-until`` and ``comment`` work on any table of
any schema, and ``show`` prints the tree a tool describes with its
:class:`~pyovs.ctl.engine.ShowTable` entries.  Each command is a pair of
functions, as in OVS: ``pre_*`` registers the tables and columns it will
read (and rejects bad table and column names before the tool connects), and
``cmd_*`` runs against the replica inside the open transaction.

Behaviour worth knowing, all OVS's:

* When a ``set`` with ``COLUMN:KEY=VALUE`` or an ``add`` is the *last*
  command, it is sent as a partial update (``mutate``) without verifying the
  column, so it does not conflict with concurrent changes to other keys; an
  ``add`` then skips the client-side check of the column's maximum size and
  lets the server refuse it.
* ``destroy`` of a row in a non-root table only drops it from the
  transaction; the server garbage-collects it once nothing refers to it.
* ``find`` and ``wait-until`` conditions take ``=``, ``!=``, ``<``, ``>``,
  ``<=``, ``>=`` (comparing whole values) and the set relations ``{=}``,
  ``{!=}``, ``{<}``, ``{>}``, ``{<=}``, ``{>=}``, ``{in}``, ``{not-in}``.
"""

from __future__ import annotations

import os
import sys

from pyovs.ovsdb.data import Atom, Datum, Uuid, atom_to_string, uuid_from_string
from pyovs.ovsdb.schema import UNLIMITED, UUID_TYPE, ColumnSchema, Type
from pyovs.ovsdb.table_format import Cell, Table

from .engine import (
    INT_MAX,
    CommandSyntax,
    Context,
    CtlFatal,
    Mode,
    ShowTable,
    atom_arg,
    check_mutable,
    create_symbol,
    datum_arg,
    get_column,
    get_row,
    get_table,
    parse_column_key_value,
    pre_get_column,
    pre_get_table,
    pre_parse_column_key_value,
    set_column,
)
from .idl import IdlRow, IdlTable

__all__ = ["DB_COMMANDS", "SHOW_COMMAND"]

RELOPS = ("=", "!=", "<", ">", "<=", ">=", "{=}", "{!=}", "{<}", "{>}", "{<=}", "{>=}",
          "{in}", "{not-in}")
_SET_RELOPS = frozenset(RELOPS[6:])


def _compare(a: Datum, b: Datum) -> int:
    """``ovsdb_datum_compare_3way``: by size, then keys, then values."""
    if len(a.keys) != len(b.keys):
        return -1 if len(a.keys) < len(b.keys) else 1
    for x, y in ((a.keys, b.keys), (a.values or (), b.values or ())):
        if x != y:
            return -1 if x < y else 1
    return 0


def _includes_all(a: Datum, b: Datum) -> bool:
    """Every element (pair) of ``a`` is in ``b``."""
    return len(a.keys) <= len(b.keys) and b.includes(a)


def _excludes_all(a: Datum, b: Datum) -> bool:
    if a.values is None or b.values is None:
        mine = set(b.keys)
        return not any(k in mine for k in a.keys)
    d = b.as_dict()
    return not any(k in d and d[k] == v for k, v in zip(a.keys, a.values, strict=True))


def _evaluate(a: Datum, b: Datum, op: str) -> bool:
    if op in ("=", "{=}"):
        return _compare(a, b) == 0
    if op in ("!=", "{!=}"):
        return _compare(a, b) != 0
    if op == "<":
        return _compare(a, b) < 0
    if op == ">":
        return _compare(a, b) > 0
    if op == "<=":
        return _compare(a, b) <= 0
    if op == ">=":
        return _compare(a, b) >= 0
    if op == "{<}":
        return len(b.keys) > len(a.keys) and _includes_all(a, b)
    if op == "{>}":
        return len(a.keys) > len(b.keys) and _includes_all(b, a)
    if op in ("{<=}", "{in}"):
        return _includes_all(a, b)
    if op == "{>=}":
        return _includes_all(b, a)
    return _excludes_all(a, b)  # {not-in}


def check_condition(ctx: Context, table: IdlTable, row: IdlRow, arg: str) -> bool:
    """Does ``row`` satisfy ``COLUMN[:KEY]OP VALUE`` (``check_condition``)?"""
    column, key, index, value = parse_column_key_value(arg, table, RELOPS, want_value=True)
    assert value is not None
    op = RELOPS[index]
    ctype = column.type
    have = ctx.read(row, column.name)
    if key is not None:
        if ctype.value is None:
            raise CtlFatal(f"cannot specify key to check for non-map column {column.name}")
        want_key = atom_arg(ctype, "key", key, ctx.symtab)
        vtype = Type(ctype.value, None, ctype.n_min, UNLIMITED)
        b = datum_arg(vtype, value, ctx.symtab)
        pairs = have.as_dict() if have.values is not None else {}
        if want_key not in pairs and op not in _SET_RELOPS:
            return False
        a = Datum((pairs[want_key],)) if want_key in pairs else Datum(())
        return _evaluate(a, b, op)
    want = datum_arg(ctype, value, ctx.symtab)
    return _evaluate(have, want, op)


# --- get ----------------------------------------------------------------------

def pre_cmd_get(ctx: Context) -> None:
    if (ctx.option("--id") is None and ctx.argc <= 3 and _stdout_isatty()):
        ctx.log.warn("db_ctl_base", '"get" command without row arguments or "--id" is '
                     "possibly erroneous")
    table = pre_get_table(ctx, ctx.argv[1])
    for arg in ctx.argv[3:]:
        if arg.lower() in ("_uuid", "-uuid"):
            continue
        pre_parse_column_key_value(ctx, arg, table)


def _stdout_isatty() -> bool:
    try:
        return os.isatty(sys.stdout.fileno())
    except (OSError, ValueError):
        return False


def cmd_get(ctx: Context) -> None:
    id_ = ctx.option("--id")
    must_exist = not ctx.has("--if-exists")
    if id_ is not None and not must_exist:
        raise CtlFatal("--if-exists and --id may not be specified together")
    tname = get_table(ctx.db, ctx.argv[1])
    record_id = ctx.argv[2]
    row = get_row(ctx, tname, record_id, must_exist)
    if row is None:
        return
    table = ctx.idl.table(tname)
    if id_ is not None:
        symbol, new = create_symbol(ctx.symtab, id_)
        if not new:
            raise CtlFatal(f'row id "{id_}" specified on "get" command was used before it '
                           "was defined")
        symbol.uuid = row.uuid
        symbol.strong_ref = True
    for arg in ctx.argv[3:]:
        if arg.lower() in ("_uuid", "-uuid"):
            ctx.put(f"{row.uuid}\n")
            continue
        column, key, _, _ = parse_column_key_value(arg, table)
        ctx.txn.verify(row, column.name)
        datum = ctx.read(row, column.name)
        if key is not None:
            if column.type.value is None:
                raise CtlFatal(f"cannot specify key to get for non-map column {column.name}")
            k = atom_arg(column.type, "key", key, ctx.symtab)
            values = datum.as_dict()
            if k in values:
                ctx.put(atom_to_string(values[k]))
            elif must_exist:
                raise CtlFatal(f'no key "{key}" in {tname} record "{record_id}" column '
                               f"{column.name}")
        else:
            ctx.put(datum.to_string(column.type))
        ctx.put("\n")


# --- list and find ------------------------------------------------------------

def parse_column_names(names: str | None, table: IdlTable) -> list[ColumnSchema | None]:
    """``--columns``: None stands for ``_uuid``; all columns when not given."""
    if names is None:
        return [None, *table.columns]
    out: list[ColumnSchema | None] = []
    for name in names.replace(",", " ").split():
        out.append(None if name.lower() == "_uuid" else get_column(table, name))
    if not out:
        raise CtlFatal("must specify at least one column name")
    return out


def _pre_list_columns(ctx: Context, table: IdlTable, names: str | None) -> None:
    for column in parse_column_names(names, table):
        if column is not None:
            ctx.add_column(table.name, column.name)


def _make_table(columns: list[ColumnSchema | None]) -> Table:
    return Table(headings=[c.name if c is not None else "_uuid" for c in columns])


def _list_record(ctx: Context, row: IdlRow, columns: list[ColumnSchema | None],
                 out: Table) -> None:
    cells: list[Cell] = []
    for column in columns:
        if column is None:
            cells.append(Cell.of_datum(Datum((row.uuid,)), UUID_TYPE))
        else:
            cells.append(Cell.of_datum(ctx.read(row, column.name), column.type))
    out.add_row(cells)


def pre_cmd_list(ctx: Context) -> None:
    table = pre_get_table(ctx, ctx.argv[1])
    _pre_list_columns(ctx, table, ctx.option("--columns"))


def cmd_list(ctx: Context) -> None:
    must_exist = not ctx.has("--if-exists")
    table = ctx.idl.table(get_table(ctx.db, ctx.argv[1]))
    columns = parse_column_names(ctx.option("--columns"), table)
    out = ctx.table = _make_table(columns)
    if ctx.argc > 2:
        for record_id in ctx.argv[2:]:
            row = get_row(ctx, table.name, record_id, must_exist)
            if row is not None:
                _list_record(ctx, row, columns, out)
    else:
        for row in ctx.rows(table.name):
            _list_record(ctx, row, columns, out)


def pre_cmd_find(ctx: Context) -> None:
    table = pre_get_table(ctx, ctx.argv[1])
    _pre_list_columns(ctx, table, ctx.option("--columns"))
    for arg in ctx.argv[2:]:
        pre_parse_column_key_value(ctx, arg, table)


def cmd_find(ctx: Context) -> None:
    table = ctx.idl.table(get_table(ctx.db, ctx.argv[1]))
    columns = parse_column_names(ctx.option("--columns"), table)
    out = ctx.table = _make_table(columns)
    for row in ctx.rows(table.name):
        if all(check_condition(ctx, table, row, arg) for arg in ctx.argv[2:]):
            _list_record(ctx, row, columns, out)


# --- set, add, remove, clear --------------------------------------------------

def pre_cmd_set(ctx: Context) -> None:
    table = pre_get_table(ctx, ctx.argv[1])
    for arg in ctx.argv[3:]:
        pre_parse_column_key_value(ctx, arg, table)


def _target_row(ctx: Context) -> tuple[IdlTable, IdlRow | None]:
    table = ctx.idl.table(get_table(ctx.db, ctx.argv[1]))
    return table, get_row(ctx, table.name, ctx.argv[2], not ctx.has("--if-exists"))


def cmd_set(ctx: Context) -> None:
    table, row = _target_row(ctx)
    if row is None:
        return
    for arg in ctx.argv[3:]:
        set_column(ctx, table, row, arg, ctx.last_command)
    ctx.invalidate_cache()


def pre_cmd_add(ctx: Context) -> None:
    table = pre_get_table(ctx, ctx.argv[1])
    pre_get_column(ctx, table, ctx.argv[3])


def _count_error(op: str, n: int, column: ColumnSchema, table: str, limit: str,
                 bound: int) -> CtlFatal:
    what = "values" if column.type.value is None else "pairs"
    return CtlFatal(f'"{op}" operation would put {n} {what} in column {column.name} of '
                    f"table {table} but the {limit} number is {bound}")


def cmd_add(ctx: Context) -> None:
    table = ctx.idl.table(get_table(ctx.db, ctx.argv[1]))
    column = get_column(table, ctx.argv[3])
    row = get_row(ctx, table.name, ctx.argv[2], not ctx.has("--if-exists"))
    if row is None:
        return
    check_mutable(row, column)
    ctype = column.type
    add_type = Type(ctype.key, ctype.value, 1, UNLIMITED)
    new: dict[Atom, Atom | None] = (
        {} if ctx.last_command else dict(_pairs(ctx.read(row, column.name))))
    for arg in ctx.argv[4:]:
        for k, v in _pairs(datum_arg(add_type, arg, ctx.symtab)):
            new.setdefault(k, v)  # existing keys win (ovsdb_datum_union)
    if not ctx.last_command and len(new) > ctype.n_max:
        raise _count_error("add", len(new), column, table.name, "maximum", ctype.n_max)
    if ctx.last_command:
        for k in sorted(new):
            v = new[k]
            if v is not None:
                ctx.txn.write_partial_map(row, column.name, Datum((k,), (v,)))
            else:
                ctx.txn.write_partial_set(row, column.name, Datum((k,)))
    else:
        ctx.txn.verify(row, column.name)
        ctx.txn.write(row, column.name, _datum_of(new, ctype))
    ctx.invalidate_cache()


def _pairs(datum: Datum) -> list[tuple[Atom, Atom | None]]:
    if datum.values is None:
        return [(k, None) for k in datum.keys]
    return list(zip(datum.keys, datum.values, strict=True))


def _datum_of(pairs: dict[Atom, Atom | None], ctype: Type) -> Datum:
    if ctype.value is None:
        return Datum.set_of(pairs)
    return Datum.map_of(pairs)


def cmd_remove(ctx: Context) -> None:
    table = ctx.idl.table(get_table(ctx.db, ctx.argv[1]))
    column = get_column(table, ctx.argv[3])
    row = get_row(ctx, table.name, ctx.argv[2], not ctx.has("--if-exists"))
    if row is None:
        return
    check_mutable(row, column)
    ctype = column.type
    old = ctx.read(row, column.name)
    remaining = dict(_pairs(old))
    rm_type = Type(ctype.key, ctype.value, 1, UNLIMITED)
    for arg in ctx.argv[4:]:
        try:
            rm = Datum.from_string(rm_type, arg, ctx.symtab)
        except ValueError as e:
            if ctype.value is None:
                raise CtlFatal(str(e)) from None
            rm = datum_arg(Type(ctype.key, None, 1, UNLIMITED), arg, ctx.symtab)
        for k, v in _pairs(rm):
            if k in remaining and (rm.values is None or remaining[k] == v):
                del remaining[k]
    if len(remaining) < ctype.n_min:
        raise _count_error("remove", len(remaining), column, table.name, "minimum",
                           ctype.n_min)
    ctx.txn.verify(row, column.name)
    ctx.txn.write(row, column.name, _datum_of(remaining, ctype))
    ctx.invalidate_cache()


def pre_cmd_clear(ctx: Context) -> None:
    table = pre_get_table(ctx, ctx.argv[1])
    for arg in ctx.argv[3:]:
        pre_get_column(ctx, table, arg)


def cmd_clear(ctx: Context) -> None:
    table, row = _target_row(ctx)
    if row is None:
        return
    for arg in ctx.argv[3:]:
        column = get_column(table, arg)
        check_mutable(row, column)
        if column.type.n_min > 0:
            raise CtlFatal(f'"clear" operation cannot be applied to column {column.name} of '
                           f"table {table.name}, which is not allowed to be empty")
        ctx.txn.write(row, column.name, Datum.empty(column.type))
    ctx.invalidate_cache()


# --- create and destroy -------------------------------------------------------

def pre_create(ctx: Context) -> None:
    table = ctx.idl.table(get_table(ctx.db, ctx.argv[1]))
    if ctx.option("--id") is None and not table.is_root:
        ctx.log.warn("db_ctl_base", f'applying "create" command to table {table.name} '
                     "without --id option will have no effect")


def cmd_create(ctx: Context) -> None:
    id_ = ctx.option("--id")
    table = ctx.idl.table(get_table(ctx.db, ctx.argv[1]))
    uuid: Uuid | None = None
    persist = False
    if id_ is not None:
        uuid = uuid_from_string(id_)
        if uuid is not None:
            persist = True
        else:
            symbol, _ = create_symbol(ctx.symtab, id_)
            if table.is_root:
                symbol.strong_ref = True  # root rows need no reference to stay
            uuid = symbol.uuid
    row = ctx.txn.insert(table.name, uuid, persist)
    for arg in ctx.argv[2:]:
        set_column(ctx, table, row, arg, False)
    ctx.put(str(row.uuid))


def post_create(ctx: Context) -> None:
    """Replace the provisional UUID by the one the server assigned."""
    dummy = "".join(ctx.output)
    real = ctx.txn.get_insert_uuid(dummy)
    if real is not None:
        ctx.output = [str(real)]
    ctx.put("\n")


def pre_cmd_destroy(ctx: Context) -> None:
    pre_get_table(ctx, ctx.argv[1])


def cmd_destroy(ctx: Context) -> None:
    must_exist = not ctx.has("--if-exists")
    delete_all = ctx.has("--all")
    table = get_table(ctx.db, ctx.argv[1])
    if delete_all and ctx.argc > 2:
        raise CtlFatal("--all and records argument should not be specified together")
    if delete_all and not must_exist:
        raise CtlFatal("--all and --if-exists should not be specified together")
    if not delete_all and ctx.argc == 2:
        ctx.log.warn("db_ctl_base", "either --all or records argument should be specified")
        return
    if delete_all:
        for row in ctx.rows(table):
            ctx.txn.delete(row)
    else:
        for record_id in ctx.argv[2:]:
            target = get_row(ctx, table, record_id, must_exist)
            if target is not None:
                ctx.txn.delete(target)
    ctx.invalidate_cache()


# --- wait-until ---------------------------------------------------------------

def pre_cmd_wait_until(ctx: Context) -> None:
    table = pre_get_table(ctx, ctx.argv[1])
    for arg in ctx.argv[3:]:
        pre_parse_column_key_value(ctx, arg, table)


def cmd_wait_until(ctx: Context) -> None:
    table = ctx.idl.table(get_table(ctx.db, ctx.argv[1]))
    row = get_row(ctx, table.name, ctx.argv[2], False)
    if row is None or not all(check_condition(ctx, table, row, arg)
                              for arg in ctx.argv[3:]):
        ctx.try_again = True


# --- show ---------------------------------------------------------------------

def pre_cmd_show(ctx: Context) -> None:
    for show in ctx.db.show_tables:
        ctx.add_table(show.table)
        if show.name_column is not None:
            ctx.add_column(show.table, show.name_column)
        for column in show.columns:
            ctx.add_column(show.table, column)
        if show.wref is not None:
            ctx.add_column(show.wref.table, show.wref.name_column)
            ctx.add_column(show.wref.table, show.wref.wref_column)


def _find_show(ctx: Context, table: str) -> ShowTable | None:
    for show in ctx.db.show_tables:
        if show.table == table:
            return show
    return None


def _show_row(ctx: Context, row: IdlRow, level: int, shown: list[str]) -> None:
    show = _find_show(ctx, row.table.name)
    indent = " " * (level * 4)
    if show is not None and show.name_column is not None:
        name_type = row.table.column(show.name_column).type
        ctx.put(f"{indent}{show.table} {ctx.read(row, show.name_column).to_string(name_type)}\n")
    else:
        ctx.put(f"{indent}{row.uuid}\n")
    if show is None or show.table in shown:
        return
    shown.append(show.table)
    inner = " " * ((level + 1) * 4)
    for name in show.columns:
        column = row.table.column(name)
        ctype = column.type
        datum = ctx.read(row, name)
        if ctype.key.ref_table is not None:
            ref_show = _find_show(ctx, ctype.key.ref_table)
            if ref_show is not None:
                for key in datum.keys:
                    child = ctx.idl.get_row(ref_show.table, str(key))
                    if child is not None:
                        _show_row(ctx, child, level + 1, shown)
                continue
        elif ctype.value is not None and ctype.value.ref_table is not None:
            ref_show = _find_show(ctx, ctype.value.ref_table)
            if ref_show is not None and ref_show.name_column is not None:
                ctx.put(f"{inner}{name}:\n")
                ref_type = ctx.idl.table(ref_show.table).column(ref_show.name_column).type
                for key, value in zip(datum.keys, datum.values or (), strict=True):
                    ref_row = ctx.idl.get_row(ref_show.table, str(value))
                    target = ('"<null>"' if ref_row is None else
                              ctx.read(ref_row, ref_show.name_column).to_string(ref_type))
                    ctx.put(f"{inner}    {atom_to_string(key)}={target}\n")
                continue
        if datum != Datum.default(ctype):
            ctx.put(f"{inner}{name}: {datum.to_string(ctype)}\n")
    if show.wref is not None:
        wref = show.wref
        wtable = ctx.idl.table(wref.table)
        name_type = wtable.column(wref.name_column).type
        for wrow in wtable:
            refs = ctx.read(wrow, wref.wref_column)
            if refs.keys and refs.keys[0] == row.uuid:
                ctx.put(f"{inner}{wref.table} "
                        f"{ctx.read(wrow, wref.name_column).to_string(name_type)}\n")
    shown.remove(show.table)


def cmd_show(ctx: Context) -> None:
    shown: list[str] = []
    for row in ctx.rows(ctx.db.show_tables[0].table):
        _show_row(ctx, row, 0, shown)


DB_COMMANDS: tuple[CommandSyntax, ...] = (
    CommandSyntax("comment", 0, INT_MAX, "[ARG]...", None, None, None, "", Mode.RO),
    CommandSyntax("get", 2, INT_MAX, "TABLE RECORD [COLUMN[:KEY]]...", pre_cmd_get, cmd_get,
                  None, "--if-exists,--id=", Mode.RO),
    CommandSyntax("list", 1, INT_MAX, "TABLE [RECORD]...", pre_cmd_list, cmd_list, None,
                  "--if-exists,--columns=", Mode.RO),
    CommandSyntax("find", 1, INT_MAX, "TABLE [COLUMN[:KEY]=VALUE]...", pre_cmd_find,
                  cmd_find, None, "--columns=", Mode.RO),
    CommandSyntax("set", 3, INT_MAX, "TABLE RECORD COLUMN[:KEY]=VALUE...", pre_cmd_set,
                  cmd_set, None, "--if-exists", Mode.RW),
    CommandSyntax("add", 4, INT_MAX, "TABLE RECORD COLUMN [KEY=]VALUE...", pre_cmd_add,
                  cmd_add, None, "--if-exists", Mode.RW),
    CommandSyntax("remove", 4, INT_MAX, "TABLE RECORD COLUMN KEY|VALUE|KEY=VALUE...",
                  pre_cmd_add, cmd_remove, None, "--if-exists", Mode.RW),
    CommandSyntax("clear", 3, INT_MAX, "TABLE RECORD COLUMN...", pre_cmd_clear, cmd_clear,
                  None, "--if-exists", Mode.RW),
    CommandSyntax("create", 2, INT_MAX, "TABLE COLUMN[:KEY]=VALUE...", pre_create,
                  cmd_create, post_create, "--id=", Mode.RW),
    CommandSyntax("destroy", 1, INT_MAX, "TABLE [RECORD]...", pre_cmd_destroy, cmd_destroy,
                  None, "--if-exists,--all", Mode.RW),
    CommandSyntax("wait-until", 2, INT_MAX, "TABLE RECORD [COLUMN[:KEY]=VALUE]...",
                  pre_cmd_wait_until, cmd_wait_until, None, "", Mode.RO),
)
"""Registered first by every tool, in this order (it decides option order)."""

SHOW_COMMAND = CommandSyntax("show", 0, 0, "", pre_cmd_show, cmd_show, None, "", Mode.RO)
"""Registered after :data:`DB_COMMANDS` by tools that have ``show`` tables."""
