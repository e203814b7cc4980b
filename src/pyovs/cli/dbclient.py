"""``pyovsdb-client``: ovsdb-client's command line, over ``ovsdb.client``.

    pyovsdb-client [OPTIONS] COMMAND [SERVER] [DATABASE] [ARG...]

Same commands, argument rules, output and messages ("ovsdb-client: ..." on
stderr, exit status 1) as ovsdb-client 3.1, checked against the real one
by tests/interop/test_dbclient_interop.py:

* ``list-dbs``, ``get-schema``, ``get-schema-version``, ``get-schema-cksum``,
  ``list-tables``, ``list-columns``;
* ``transact`` and ``query`` (the query is the transaction plus an
  ``abort``, whose result is then dropped), printing the result as JSON;
* ``dump [TABLE [COLUMN...]]``: tables, columns and rows sorted as
  ovsdb-client sorts them, in any ``--format`` / ``--data``;
* ``monitor``, ``monitor-cond``, ``monitor-cond-since`` (``dbclient_monitor``);
* ``wait DATABASE added|connected|removed``, reconnecting until the server
  answers (``dbclient_wait``); ``lock``/``steal``/``unlock``; ``convert``,
  ``needs-conversion``, ``backup``.

SERVER is optional wherever ovsdb-client allows it: the first argument is
taken as a server when it starts with a letter and contains a colon, and
the default is ``unix:<rundir>/db.sock`` (``pyovs.dirs.rundir``).  DATABASE
defaults as in ovsdb-client: ``Open_vSwitch`` if the server has it, else the
one database whose name does not start with ``_``.  ``-t SECS`` kills the
command with SIGALRM after SECS seconds, as ovsdb-client does.

Not implemented: SSL, ``--detach`` and the daemon options, ``restore``,
``--record``/``--replay``.  Logging options are accepted and ignored, and so
are the reconnection log lines ovsdb-client prints during ``wait``.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, NoReturn

from pyovs import __version__, dirs
from pyovs.ovsdb.client import Client, ConnectionClosed, RpcError, connect
from pyovs.ovsdb.data import Datum
from pyovs.ovsdb.errors import OvsdbError
from pyovs.ovsdb.jsonrpc import JsonRpcProtocolError, MessageKind
from pyovs.ovsdb.schema import UNLIMITED, BaseType, DatabaseSchema, Type
from pyovs.ovsdb.storage import compose_record
from pyovs.ovsdb.table_format import (
    LONG_OPTIONS,
    SHORT_OPTIONS,
    USAGE,
    Cell,
    Table,
    TableFormat,
    TableFormatter,
    TableStyle,
    TableStyleError,
    json_to_string,
)

from . import dbfile
from .cmdline import VLOG_LONG_OPTIONS, VLOG_SHORT_OPTIONS, Fatal, getopt_long, main_wrapper
from .cmdline import parse_json_arg as parse_json
from .dbclient_monitor import MonitorOptions, monitor
from .dbclient_wait import wait_for_database
from .dbfile import unsorted_json

PROGRAM = "ovsdb-client"
INT_MAX = 2**31 - 1


class Need(IntEnum):
    NONE = 0
    """No connection or database name needed."""
    RPC = 1
    """A connection is needed."""
    DATABASE = 2
    """A connection and a database name are needed."""


class _State:
    style = TableStyle(format=TableFormat.TABLE)
    formatter = TableFormatter(style)
    timestamp = False
    db_change_aware = -1
    leader_only = True


_st = _State()


def default_remote() -> str:
    return f"unix:{dirs.rundir()}/db.sock"


def _out(text: str) -> None:
    sys.stdout.write(text)


def _error(message: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(f"{PROGRAM}: {message}\n")


def _json(value: Any) -> str:
    return json_to_string(value, pretty=_st.style.pretty)


def check_txn(call: Callable[[], Any]) -> Any:
    """Run a request; failures become ovsdb-client's fatal messages."""
    try:
        return call()
    except RpcError as e:
        raise Fatal(f"transaction returned error: {_json(e.error)}") from None
    except ConnectionClosed:
        raise Fatal("transaction failed (End of file)") from None
    except JsonRpcProtocolError:
        raise Fatal(f"transaction failed ({os.strerror(errno.EPROTO)})") from None
    except OSError as e:
        raise Fatal(f"transaction failed ({e.strerror or e})") from None


# --- connecting ------------------------------------------------------------------

def open_jsonrpc(server: str) -> Client:
    try:
        return connect(server)
    except ValueError:
        raise Fatal(f'failed to connect or listen to "{server}" '
                    f"({os.strerror(errno.EAFNOSUPPORT)})") from None
    except OSError as e:
        raise Fatal(f'failed to connect to "{server}" ({e.strerror or e})') from None


def fetch_dbs(client: Client) -> list[str]:
    result = check_txn(lambda: client.call("list_dbs", []))
    if not isinstance(result, list):
        raise Fatal("list_dbs response is not array")
    for i, name in enumerate(result):
        if not isinstance(name, str):
            raise Fatal(f"list_dbs response {i} is not string")
    return sorted(result)


def fetch_schema(client: Client, database: str) -> DatabaseSchema:
    result = check_txn(lambda: client.call("get_schema", [database]))
    try:
        return DatabaseSchema.from_json(result)
    except OvsdbError as e:
        raise Fatal(str(e)) from None


def _looks_like_remote(arg: str) -> bool:
    return arg[:1].isascii() and arg[:1].isalpha() and ":" in arg


def _database_row(client: Client, database: str) -> dict[str, Any] | None:
    op = {"op": "select", "table": "Database", "where": [["name", "==", database]]}
    try:
        result = client.call("transact", ["_Server", op])
    except (RpcError, OSError, JsonRpcProtocolError):
        return None
    if isinstance(result, list) and len(result) == 1 and isinstance(result[0], dict):
        for row in result[0].get("rows") or []:
            if isinstance(row, dict) and row.get("name") == database:
                return row
    return None


def _acceptable(client: Client, database: str) -> bool:
    row = _database_row(client, database)
    if row is None:
        return False
    if row.get("model") == "standalone":
        return True
    return row.get("connected") is True and (not _st.leader_only or row.get("leader") is True)


def open_rpc(min_args: int, need: Need, args: list[str],
             database: str | None = None) -> tuple[Client, str | None, int]:
    """ovsdb-client's ``open_rpc``: (connection, database, arguments consumed)."""
    idx = 0
    if len(args) > min_args and _looks_like_remote(args[0]):
        remotes = [r for r in args[0].split(",") if r]
        idx = 1
    else:
        remotes = [default_remote()]
    if len(remotes) == 1:
        client = open_jsonrpc(remotes[0])
        if need is Need.DATABASE and database is None:
            dbs = fetch_dbs(client)
            if len(args) - idx > min_args and args[idx] in dbs:
                database = args[idx]
                idx += 1
            elif "Open_vSwitch" in dbs:
                database = "Open_vSwitch"
            else:
                candidates = [d for d in dbs if not d.startswith("_")]
                if len(candidates) != 1:
                    client.close()
                    raise Fatal("could not find a default database, please specify a "
                                "database name")
                database = candidates[0]
        return client, database, idx
    if database is None and need is Need.DATABASE:
        if len(args) - idx > min_args:
            database = args[idx]
            idx += 1
        else:
            raise Fatal("database name is required with multiple remotes")
    for remote in remotes:
        try:
            client = connect(remote)
        except (OSError, ValueError):
            continue
        if database is None or _acceptable(client, database):
            return client, database, idx
        client.close()
    raise Fatal("no servers were available")


# --- commands -------------------------------------------------------------------

Handler = Callable[[Client | None, str | None, list[str]], None]


def _rpc(client: Client | None) -> Client:
    assert client is not None
    return client


def _db(database: str | None) -> str:
    assert database is not None
    return database


def do_list_dbs(client: Client | None, database: str | None, args: list[str]) -> None:
    _out("".join(f"{name}\n" for name in fetch_dbs(_rpc(client))))


def do_get_schema(client: Client | None, database: str | None, args: list[str]) -> None:
    _out(_json(fetch_schema(_rpc(client), _db(database)).to_json()) + "\n")


def do_get_schema_version(client: Client | None, database: str | None,
                          args: list[str]) -> None:
    _out(fetch_schema(_rpc(client), _db(database)).version + "\n")


def do_get_schema_cksum(client: Client | None, database: str | None,
                        args: list[str]) -> None:
    _out(fetch_schema(_rpc(client), _db(database)).cksum + "\n")


def do_list_tables(client: Client | None, database: str | None, args: list[str]) -> None:
    schema = fetch_schema(_rpc(client), _db(database))
    t = Table(["Table"])
    for name in dbfile.schema_table_order(schema):
        t.add_row([name])
    _out(_st.formatter.format(t))


def do_list_columns(client: Client | None, database: str | None, args: list[str]) -> None:
    table_name = args[0] if args else None
    schema = fetch_schema(_rpc(client), _db(database))
    t = Table(["Column", "Type"] if table_name else ["Table", "Column", "Type"])
    for name in dbfile.schema_table_order(schema):
        if table_name is not None and table_name != name:
            continue
        ts = schema.tables[name]
        for cname in ts.ovs_order:
            cells: list[Cell | str | None] = [] if table_name else [name]
            cells += [cname, Cell.of_json(ts.columns[cname].type.to_json())]
            t.add_row(cells)
    _out(_st.formatter.format(t))


def _transact(args: list[str], transaction: Any) -> Any:
    if (not isinstance(transaction, list) or not transaction
            or not isinstance(transaction[0], str)):
        raise Fatal("not a valid OVSDB query")
    client, _, _ = open_rpc(1, Need.DATABASE, args, transaction[0])
    try:
        if _st.db_change_aware == 1:
            _send_db_change_aware(client)
        return check_txn(lambda: client.call("transact", transaction))
    finally:
        client.close()


def do_transact(client: Client | None, database: str | None, args: list[str]) -> None:
    _out(_json(_transact(args, parse_json(args[-1]))) + "\n")


def do_query(client: Client | None, database: str | None, args: list[str]) -> None:
    transaction = parse_json(args[-1])
    if not isinstance(transaction, list):
        raise Fatal("not a valid OVSDB query")
    transaction.append({"op": "abort"})
    abort_idx = len(transaction) - 2
    result = _transact(args, transaction)
    if (isinstance(result, list) and len(result) == abort_idx + 1
            and isinstance(result[abort_idx], dict)
            and result[abort_idx].get("error") == "aborted"):
        result.pop()
    _out(_json(result) + "\n")


def _send_db_change_aware(client: Client) -> None:
    if _st.db_change_aware == 0:
        return
    try:
        reply = client.wait_reply(client.request("set_db_change_aware", [True]))
    except (OSError, JsonRpcProtocolError):
        raise Fatal(f"{client.name}: error setting db_change_aware") from None
    if reply.kind is MessageKind.ERROR and _st.db_change_aware == 1:
        raise Fatal(f"{client.name}: set_db_change_aware failed "
                    f"({unsorted_json(reply.error)})")


def _monitor_opts() -> MonitorOptions:
    return MonitorOptions(_st.formatter, _st.timestamp, _st.db_change_aware, _error)


def do_monitor(client: Client | None, database: str | None, args: list[str]) -> None:
    monitor(_rpc(client), _db(database), 1, args, _monitor_opts(), check_txn)


def do_monitor_cond(client: Client | None, database: str | None, args: list[str]) -> None:
    monitor(_rpc(client), _db(database), 2, args, _monitor_opts(), check_txn)


def do_monitor_cond_since(client: Client | None, database: str | None,
                          args: list[str]) -> None:
    monitor(_rpc(client), _db(database), 3, args, _monitor_opts(), check_txn)


def _datum_key(d: Datum) -> tuple[Any, ...]:
    return (len(d.keys), d.keys, d.values or ())


def _dump_table(name: str, columns: dict[str, Type], rows: list[Any]) -> None:
    cols = sorted(c for c in columns if c != "_version")
    data: list[list[Datum]] = []
    for y, row in enumerate(rows):
        if not isinstance(row, dict):
            raise Fatal(f"row {y} in table {name} response is not a JSON object: "
                        f"{unsorted_json(row)}")
        values = []
        for c in cols:
            if c not in row:
                raise Fatal(f"row {y} in table {name} response lacks {c} column")
            ctype = columns[c]
            relaxed = Type(BaseType(ctype.key.type),
                           BaseType(ctype.value.type) if ctype.value is not None else None,
                           0, UNLIMITED)
            try:
                values.append(Datum.from_json(relaxed, row[c]))
            except OvsdbError as e:
                raise Fatal(str(e)) from None
        data.append(values)
    # Rows in a reproducible order: by value, UUID columns only as tie-breakers.
    plain = [x for x, c in enumerate(cols) if columns[c].key.type != "uuid"]
    uuids = [x for x, c in enumerate(cols) if columns[c].key.type == "uuid"]
    data.sort(key=lambda r: tuple(_datum_key(r[x]) for x in plain + uuids))
    t = Table(list(cols), caption=f"{name} table")
    for values in data:
        t.add_row([Cell.of_json(d.to_json(), columns[c]) for d, c in zip(values, cols,
                                                                         strict=True)])
    _out(_st.formatter.format(t))


def do_dump(client: Client | None, database: str | None, args: list[str]) -> None:
    rpc, db = _rpc(client), _db(database)
    schema = fetch_schema(rpc, db)
    custom: dict[str, Type] = {}
    if args:
        ts = schema.tables.get(args[0])
        if ts is None:
            raise Fatal(f'No table "{args[0]}" found.')
        for c in args[1:]:
            col = ts.columns.get(c)
            if col is None:
                raise Fatal(f'Table "{args[0]}" has no column {c}.')
            custom[c] = col.type
        tables = [args[0]]
    else:
        tables = sorted(schema.tables)
    transaction: list[Any] = [db]
    table_columns: list[dict[str, Type]] = []
    for name in tables:
        ts = schema.tables[name]
        cols = custom if len(args) > 1 else {c: ts.columns[c].type for c in ts.ovs_order}
        table_columns.append(cols)
        transaction.append({"op": "select", "table": name, "where": [],
                            "columns": [c for c in cols if c != "_version"]})
    result = check_txn(lambda: rpc.call("transact", transaction))
    if not isinstance(result, list) or len(result) != len(tables):
        raise Fatal(f"reply is not array of {len(tables)} elements: "
                    f"{unsorted_json(result)}")
    for name, cols, op_result in zip(tables, table_columns, result, strict=True):
        rows = op_result.get("rows") if isinstance(op_result, dict) else None
        if not isinstance(rows, list):
            raise Fatal(f'{name} table reply is not an object with a "rows" member array: '
                        f"{unsorted_json(op_result)}")
        _dump_table(name, cols, rows)


def do_backup(client: Client | None, database: str | None, args: list[str]) -> None:
    if os.isatty(sys.stdout.fileno()):
        raise Fatal("not writing backup to a terminal; please redirect stdout to a file")
    rpc, db = _rpc(client), _db(database)
    schema = fetch_schema(rpc, db)
    names = dbfile.schema_table_order(schema)
    ops = [{"op": "select", "table": n, "where": [],
            "columns": [c for c in schema.tables[n].ovs_order
                        if schema.tables[n].columns[c].persistent and c != "_version"]}
           for n in names]
    result = check_txn(lambda: rpc.call("transact", [db, *ops]))
    if not isinstance(result, list) or len(result) != len(names):
        raise Fatal(f"reply is not array of {len(names)} elements: "
                    f"{unsorted_json(result)}")
    txn: dict[str, Any] = {}
    for name, op_result in zip(names, result, strict=True):
        rows = op_result.get("rows") if isinstance(op_result, dict) else None
        if not isinstance(rows, list):
            raise Fatal(f'{name} table reply is not an object with a "rows" member array: '
                        f"{unsorted_json(op_result)}")
        out: dict[str, Any] = {}
        for row in rows:
            uuid = row.pop("_uuid", None) if isinstance(row, dict) else None
            if not (isinstance(uuid, list) and len(uuid) == 2 and isinstance(uuid[1], str)):
                raise Fatal(f"{name} table reply row lacks _uuid member: "
                            f"{unsorted_json(row)}")
            out[uuid[1]] = row
        if out:
            txn[name] = out
    txn.update({"_comment": 'produced by "ovsdb-client backup"', "_is_diff": True,
                "_date": dbfile.wall_ms()})
    sys.stdout.flush()
    sys.stdout.buffer.write(compose_record(dbfile.schema_json(schema))
                            + compose_record(dbfile.ovs_ordered(txn)))


def _convert_target(args: list[str]) -> tuple[DatabaseSchema, Client, str]:
    schema = dbfile.read_schema_file(args[-1])
    client, database, _ = open_rpc(1, Need.DATABASE, args, schema.name)
    return schema, client, _db(database)


def do_convert(client: Client | None, database: str | None, args: list[str]) -> None:
    schema, rpc, _ = _convert_target(args)
    _send_db_change_aware(rpc)
    check_txn(lambda: rpc.call("convert", [schema.name, schema.to_json()]))
    rpc.close()


def do_needs_conversion(client: Client | None, database: str | None,
                        args: list[str]) -> None:
    schema, rpc, _ = _convert_target(args)
    online = fetch_schema(rpc, schema.name)
    _out("no\n" if schema.to_json() == online.to_json() else "yes\n")
    rpc.close()


def _do_lock(client: Client | None, method: str, name: str) -> None:
    rpc = _rpc(client)
    request_id = rpc.request(method, [name])
    for msg in rpc.messages():
        if msg.kind is MessageKind.REPLY and msg.id == request_id:
            _out(_json(msg.result) + "\n")
        elif msg.kind is MessageKind.NOTIFY:
            _out(f"{msg.method}\n{_json(msg.params)}\n")
        sys.stdout.flush()
    raise Fatal(f"{rpc.name}: receive failed (End of file)")


def do_lock(client: Client | None, database: str | None, args: list[str]) -> None:
    _do_lock(client, "lock", args[0])


def do_steal(client: Client | None, database: str | None, args: list[str]) -> None:
    _do_lock(client, "steal", args[0])


def do_unlock(client: Client | None, database: str | None, args: list[str]) -> None:
    _do_lock(client, "unlock", args[0])


def do_wait(client: Client | None, database: str | None, args: list[str]) -> None:
    remote = args[0] if len(args) > 2 else default_remote()
    wait_for_database(remote, args[-2], args[-1])


def do_help(client: Client | None, database: str | None, args: list[str]) -> None:
    usage()


@dataclass(frozen=True, slots=True)
class ClientCommand:
    name: str
    need: Need
    min_args: int
    max_args: int
    """Not counting the optional SERVER and DATABASE."""
    handler: Handler


COMMANDS: tuple[ClientCommand, ...] = (
    ClientCommand("list-dbs", Need.RPC, 0, 0, do_list_dbs),
    ClientCommand("get-schema", Need.DATABASE, 0, 0, do_get_schema),
    ClientCommand("get-schema-version", Need.DATABASE, 0, 0, do_get_schema_version),
    ClientCommand("get-schema-cksum", Need.DATABASE, 0, 0, do_get_schema_cksum),
    ClientCommand("list-tables", Need.DATABASE, 0, 0, do_list_tables),
    ClientCommand("list-columns", Need.DATABASE, 0, 1, do_list_columns),
    ClientCommand("transact", Need.NONE, 1, 2, do_transact),
    ClientCommand("query", Need.NONE, 1, 2, do_query),
    ClientCommand("monitor", Need.DATABASE, 1, INT_MAX, do_monitor),
    ClientCommand("monitor-cond", Need.DATABASE, 2, 3, do_monitor_cond),
    ClientCommand("monitor-cond-since", Need.DATABASE, 2, 4, do_monitor_cond_since),
    ClientCommand("wait", Need.NONE, 2, 3, do_wait),
    ClientCommand("convert", Need.NONE, 1, 2, do_convert),
    ClientCommand("needs-conversion", Need.NONE, 1, 2, do_needs_conversion),
    ClientCommand("dump", Need.DATABASE, 0, INT_MAX, do_dump),
    ClientCommand("backup", Need.DATABASE, 0, 0, do_backup),
    ClientCommand("lock", Need.RPC, 1, 1, do_lock),
    ClientCommand("steal", Need.RPC, 1, 1, do_steal),
    ClientCommand("unlock", Need.RPC, 1, 1, do_unlock),
    ClientCommand("help", Need.NONE, 0, INT_MAX, do_help),
)
"""ovsdb-client's command table (``restore`` is not implemented)."""


def usage() -> NoReturn:
    from .dbclient_usage import USAGE_TEXT

    _out(USAGE_TEXT.format(program=PROGRAM, rundir=dirs.rundir()) + USAGE
         + '  --timestamp                 timestamp "monitor" output\n'
         + "\nOther options:\n"
         + "  -t, --timeout=SECS          give up after SECS seconds\n"
         + "  -h, --help                  display this help message\n"
         + "  -V, --version               display version information\n")
    raise SystemExit(0)


_LONG_OPTIONS = ("help", "version", "timestamp", "force", "timeout=", "db-change-aware",
                 "no-db-change-aware", "leader-only", "no-leader-only", *VLOG_LONG_OPTIONS,
                 *LONG_OPTIONS)
_SHORT_OPTIONS = "hVt:" + VLOG_SHORT_OPTIONS + SHORT_OPTIONS


def _parse_options(argv: Sequence[str]) -> list[str]:
    opts, args = getopt_long(PROGRAM, argv, _SHORT_OPTIONS, _LONG_OPTIONS)
    timeout = 0
    for opt, arg in opts:
        try:
            if _st.style.apply_option(opt, arg):
                continue
        except TableStyleError as e:
            raise Fatal(str(e)) from None
        if opt in ("-h", "--help"):
            usage()
        elif opt in ("-V", "--version"):
            _out(f"pyovsdb-client (pyovs) {__version__}\n")
            raise SystemExit(0)
        elif opt == "--timestamp":
            _st.timestamp = True
        elif opt in ("-t", "--timeout"):
            if not arg.isdigit() or not arg.isascii() or int(arg) == 0 or int(arg) > 2**32 - 1:
                raise Fatal(f"value {arg} on -t or --timeout is invalid")
            timeout = int(arg)
        elif opt == "--db-change-aware":
            _st.db_change_aware = 1
        elif opt == "--no-db-change-aware":
            _st.db_change_aware = 0
        elif opt == "--leader-only":
            _st.leader_only = True
        elif opt == "--no-leader-only":
            _st.leader_only = False
    if timeout:
        # As ovsdb-client: the default action of SIGALRM ends the process.
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        signal.alarm(timeout)
    return args


def _run(argv: Sequence[str]) -> None:
    args = _parse_options(argv)
    if not args:
        raise Fatal("missing command name; use --help for help")
    command = next((c for c in COMMANDS if c.name == args[0]), None)
    if command is None:
        raise Fatal(f"unknown command '{args[0]}'; use --help for help")
    args = args[1:]
    client: Client | None = None
    database: str | None = None
    if command.need is not Need.NONE:
        client, database, used = open_rpc(command.min_args, command.need, args)
        args = args[used:]
    try:
        if not command.min_args <= len(args) <= command.max_args:
            raise Fatal(f"invalid syntax for '{command.name}' (use --help for help)")
        command.handler(client, database, args)
    finally:
        if client is not None:
            client.close()


def main(argv: Sequence[str] | None = None) -> int:
    global _st
    _st = _State()
    _st.style = TableStyle(format=TableFormat.TABLE)
    _st.formatter = TableFormatter(_st.style)
    return main_wrapper(PROGRAM, lambda: _run(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
