"""``pyovsdb-tool``: ovsdb-tool's command line, for standalone database files.

    pyovsdb-tool [OPTIONS] COMMAND [ARG...]

Same commands, arguments, output, messages ("ovsdb-tool: ..." on stderr)
and exit statuses as ovsdb-tool 3.1, checked against the real tool by
tests/interop/test_dbtool_interop.py:

* ``create [DB [SCHEMA]]`` writes a file byte-identical to ovsdb-tool's;
* ``compact [DB [DST]]``, ``convert [DB [SCHEMA [DST]]]`` (offline
  conversion: rows and columns carried over, columns the new schema lacks
  dropped, values that no longer fit rejected), ``needs-conversion``;
* ``db-name``, ``db-version``, ``db-cksum``, ``schema-name``,
  ``schema-version``, ``schema-cksum``, ``db-is-standalone``,
  ``db-is-clustered``, ``compare-versions``;
* ``query [DB] TRNS`` and ``transact [DB] TRNS`` print the result array as
  JSON (a write in ``query`` fails at commit with the very error OVS
  reports); ``[-m]... show-log [DB]``;
* ``help``, ``list-commands``, ``-h``, ``-V``, ``-o``.

The default DB is ``$OVS_DBDIR/conf.db`` (``pyovs.dirs.dbdir``), the default
SCHEMA the bundled ``vswitch.ovsschema`` (``$OVS_PKGDATADIR`` overrides).
Clustered databases are not supported: the cluster commands are listed but
fail with a message.  ``--rbac-role`` is accepted and ignored (RBAC is not
implemented); logging options are accepted and ignored.

The file work (strict reading, OVS byte order, show-log text) is in
``dbfile``; this module is the command table and what each command prints.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from pyovs import OVS_COMPAT_VERSION, __version__, dirs
from pyovs.ovsdb.data import uuid_from_string
from pyovs.ovsdb.database import Database
from pyovs.ovsdb.errors import OvsdbError
from pyovs.ovsdb.execution import Blocked, execute, transact
from pyovs.ovsdb.file import change_to_record
from pyovs.ovsdb.schema import DatabaseSchema
from pyovs.ovsdb.storage import (
    ClusteredDatabaseError,
    LogFile,
    OpenMode,
    StorageError,
    fsync_parent_dir,
)
from pyovs.ovsdb.table_format import json_to_string

from . import dbfile
from .cmdline import (
    VLOG_LONG_OPTIONS,
    VLOG_SHORT_OPTIONS,
    Command,
    Fatal,
    getopt_long,
    main_wrapper,
    parse_json_arg,
    print_commands,
    run_command,
)

PROGRAM = "ovsdb-tool"
COMPACT_COMMENT = f"compacted by ovsdb-tool {OVS_COMPAT_VERSION}"
CONVERT_COMMENT = f"converted by ovsdb-tool {OVS_COMPAT_VERSION}"
"""The comments OVS puts in the record it writes; kept so show-log reads alike."""

_LONG_OPTIONS = ("more", "rbac-role=", "cid=", "election-timer=", *VLOG_LONG_OPTIONS,
                 "help", "option", "version")
_SHORT_OPTIONS = "mhoV" + VLOG_SHORT_OPTIONS


class _Options:
    verbosity = 0
    """-m, --more: how much show-log prints."""


_opts = _Options()


def default_db() -> str:
    return os.path.join(dirs.dbdir(), "conf.db")


def default_schema() -> str:
    return os.path.join(dirs.pkgdatadir(), "vswitch.ovsschema")


def _out(text: str) -> None:
    sys.stdout.write(text)


def _warn(text: str) -> None:
    sys.stdout.flush()
    sys.stderr.write(text)


def _check(error: OvsdbError) -> NoReturn:
    raise Fatal(str(error))


# --- commands -------------------------------------------------------------------

def do_create(args: list[str]) -> None:
    db_path = args[0] if args else default_db()
    schema = dbfile.read_schema_file(args[1] if len(args) > 1 else default_schema())
    log = dbfile.open_log(db_path, OpenMode.CREATE, _warn)
    try:
        log.write(dbfile.schema_json(schema))
        log.commit()
    except StorageError as e:
        _check(e)
    finally:
        log.close()


def _compact_or_convert(src: str, dst: str | None, new_schema: DatabaseSchema | None,
                        comment: str) -> None:
    # As OVS: resolve symlinks so that a symlinked database keeps its link,
    # lock the source (in place) and the destination, write the destination
    # completely, then rename it over the source.
    src_name = dbfile.follow_symlinks(src)
    dst_name = src_name + ".tmp" if dst is None else dbfile.follow_symlinks(dst)
    src_lock = dbfile.lock(src_name, _warn) if dst is None else None
    try:
        dst_lock = dbfile.lock(dst_name, _warn)
        try:
            db, log = dbfile.read_db(src_name, False, new_schema)
            log.close()
            dbfile.write_standalone_db(dst_name, db, comment)
            if dst is None:
                try:
                    os.rename(dst_name, src_name)
                except OSError as e:
                    raise Fatal(f'failed to rename "{dst_name}" to "{src_name}" '
                                f"({e.strerror})") from None
                fsync_parent_dir(os.path.abspath(src_name))
        finally:
            dst_lock.unlock()
    finally:
        if src_lock is not None:
            src_lock.unlock()


def do_compact(args: list[str]) -> None:
    _compact_or_convert(args[0] if args else default_db(), args[1] if len(args) > 1 else None,
                        None, COMPACT_COMMENT)


def do_convert(args: list[str]) -> None:
    schema = dbfile.read_schema_file(args[1] if len(args) > 1 else default_schema())
    _compact_or_convert(args[0] if args else default_db(), args[2] if len(args) > 2 else None,
                        schema, CONVERT_COMMENT)


def do_needs_conversion(args: list[str]) -> None:
    schema1 = dbfile.read_standalone_schema(args[0] if args else default_db())
    schema2 = dbfile.read_schema_file(args[1] if len(args) > 1 else default_schema())
    _out("no\n" if schema1.to_json() == schema2.to_json() else "yes\n")


def do_db_name(args: list[str]) -> None:
    _out(dbfile.read_standalone_schema(args[0] if args else default_db()).name + "\n")


def do_db_version(args: list[str]) -> None:
    _out(dbfile.read_standalone_schema(args[0] if args else default_db()).version + "\n")


def do_db_cksum(args: list[str]) -> None:
    _out(dbfile.read_standalone_schema(args[0] if args else default_db()).cksum + "\n")


def do_schema_name(args: list[str]) -> None:
    _out(dbfile.read_schema_file(args[0] if args else default_schema()).name + "\n")


def do_schema_version(args: list[str]) -> None:
    _out(dbfile.read_schema_file(args[0] if args else default_schema()).version + "\n")


def do_schema_cksum(args: list[str]) -> None:
    _out(dbfile.read_schema_file(args[0] if args else default_schema()).cksum + "\n")


def _is_clustered(path: str) -> bool:
    try:
        LogFile.open(path, OpenMode.READ_ONLY).close()
    except ClusteredDatabaseError:
        return True
    except StorageError as e:
        _check(e)
    return False


def do_db_is_standalone(args: list[str]) -> None:
    if _is_clustered(args[0]):
        raise Fatal("", status=2)


def do_db_is_clustered(args: list[str]) -> None:
    if not _is_clustered(args[0]):
        raise Fatal("", status=2)


def do_cluster_only(args: list[str]) -> None:
    raise Fatal("clustered databases are not supported by pyovs")


def do_cluster_metadata(args: list[str]) -> None:
    if not _is_clustered(args[0]):
        raise Fatal(f"{args[0]}: not a clustered database")
    do_cluster_only(args)


_VERSION_RE = re.compile(r"\s*\+?(\d+)\.\s*\+?(\d+)\.\s*\+?(\d+)")


def _parse_version(s: str) -> tuple[int, int, int]:
    m = _VERSION_RE.fullmatch(s)
    if m is None or any(int(g) > 2**32 - 1 for g in m.groups()):
        raise Fatal(f"{s}: not an OVSDB version number in format x.y.z")
    return int(m[1]), int(m[2]), int(m[3])


_RELATIONS = {
    "<": lambda c: c < 0, "<=": lambda c: c <= 0, "==": lambda c: c == 0,
    ">=": lambda c: c >= 0, ">": lambda c: c > 0, "!=": lambda c: c != 0,
}


def do_compare_versions(args: list[str]) -> None:
    a, b = _parse_version(args[0]), _parse_version(args[2])
    cmp = (a > b) - (a < b)
    relation = _RELATIONS.get(args[1])
    if relation is None:
        raise Fatal(f"{args[1]}: not a relational operator")
    if not relation(cmp):
        raise Fatal("", status=2)


def _transact(args: list[str], rw: bool) -> None:
    path = args[0] if len(args) >= 2 else default_db()
    db, log = dbfile.read_db(path, rw, warn=_warn)
    try:
        request = parse_json_arg(args[-1])
        if rw:
            def store(change: Any, durable: bool) -> None:
                log.write(dbfile.ovs_ordered(change_to_record(db.schema, change)))
                log.commit()
            db.storage = store
        else:
            offset = log.offset

            def refuse(change: Any, durable: bool) -> None:
                # OVS opens the file read-only and fails to truncate it first.
                raise OvsdbError("I/O error", f"{path}: cannot truncate to length {offset}",
                                 io_error=os.strerror(errno.EINVAL))
            db.storage = refuse
        _out(json_to_string(_execute(db, request)) + "\n")
    finally:
        log.close()


def _execute(db: Database, request: Any) -> Any:
    try:
        return transact(db, request)
    except OvsdbError as e:
        return e.to_json()
    except Blocked:
        return _unsatisfied_wait(db, request)


def _unsatisfied_wait(db: Database, request: list[Any]) -> list[Any]:
    # Without triggers a "wait" that is not yet true fails the transaction,
    # as in ovsdb-tool; find which operation it was and report it there.
    for k in range(1, len(request)):
        try:
            execute(db, request[:k + 1])
        except Blocked:
            results = execute(db, request[:k]).results
            results.append({"error": "not supported", "details": "triggers not supported"})
            return results + [None] * (len(request) - 1 - len(results))
    return []


def do_query(args: list[str]) -> None:
    _transact(args, False)


def do_transact(args: list[str]) -> None:
    _transact(args, True)


def do_show_log(args: list[str]) -> None:
    dbfile.show_log(args[0] if args else default_db(), _opts.verbosity, sys.stdout)


def do_help(args: list[str]) -> None:
    usage()


def do_list_commands(args: list[str]) -> None:
    print_commands(COMMANDS)


INT_MAX = 2**31 - 1

COMMANDS: tuple[Command, ...] = (
    Command("create", "[db [schema]]", 0, 2, do_create),
    Command("create-cluster", "db contents local", 3, 3, do_cluster_only),
    Command("join-cluster", "db name local remote...", 4, INT_MAX, do_cluster_only),
    Command("compact", "[db [dst]]", 0, 2, do_compact),
    Command("convert", "[db [schema [dst]]]", 0, 3, do_convert),
    Command("needs-conversion", None, 0, 2, do_needs_conversion),
    Command("db-name", "[db]", 0, 1, do_db_name),
    Command("db-version", "[db]", 0, 1, do_db_version),
    Command("db-cksum", "[db]", 0, 1, do_db_cksum),
    Command("db-cid", "db", 1, 1, do_cluster_metadata),
    Command("db-sid", "db", 1, 1, do_cluster_metadata),
    Command("db-local-address", "db", 1, 1, do_cluster_metadata),
    Command("db-is-clustered", "db", 1, 1, do_db_is_clustered),
    Command("db-is-standalone", "db", 1, 1, do_db_is_standalone),
    Command("schema-name", "[schema]", 0, 1, do_schema_name),
    Command("schema-version", "[schema]", 0, 1, do_schema_version),
    Command("schema-cksum", "[schema]", 0, 1, do_schema_cksum),
    Command("query", "[db] trns", 1, 2, do_query),
    Command("transact", "[db] trns", 1, 2, do_transact),
    Command("show-log", "[db]", 0, 1, do_show_log),
    Command("check-cluster", "db...", 1, INT_MAX, do_cluster_only),
    Command("compare-versions", "a op b", 3, 3, do_compare_versions),
    Command("help", None, 0, INT_MAX, do_help),
    Command("list-commands", None, 0, INT_MAX, do_list_commands),
    Command("cluster-to-standalone", "db clusterdb", 2, 2, do_cluster_only),
)
"""ovsdb-tool's command table, in its order (``list-commands`` prints it)."""


def usage() -> NoReturn:
    _out(f"""\
{PROGRAM}: Open vSwitch database management utility
usage: {PROGRAM} [OPTIONS] COMMAND [ARG...]
  create [DB [SCHEMA]]    create DB with the given SCHEMA
  [--election-timer=ms] create-cluster DB CONTENTS LOCAL
    create clustered DB with given CONTENTS and LOCAL address
  [--cid=UUID] join-cluster DB NAME LOCAL REMOTE...
    join clustered DB with given NAME and LOCAL and REMOTE addrs
  compact [DB [DST]]      compact DB in-place (or to DST)
  convert [DB [SCHEMA [DST]]]   convert DB to SCHEMA (to DST)
  db-name [DB]            report name of schema used by DB
  db-version [DB]         report version of schema used by DB
  db-cksum [DB]           report checksum of schema used by DB
  db-cid DB               report cluster ID of clustered DB
  db-sid DB               report server ID of clustered DB
  db-local-address DB     report local address of clustered DB
  db-is-clustered DB      test whether DB is clustered
  db-is-standalone DB     test whether DB is standalone
  schema-name [SCHEMA]    report SCHEMA's name
  schema-version [SCHEMA] report SCHEMA's schema version
  schema-cksum [SCHEMA]   report SCHEMA's checksum
  compare-versions A OP B  compare OVSDB schema version numbers
  query [DB] TRNS         execute read-only transaction on DB
  transact [DB] TRNS      execute read/write transaction on DB
  cluster-to-standalone DB DB    Convert clustered DB to
      standalone DB when cluster is down and cannot be
        revived
  [-m]... show-log [DB]   print DB's log entries
The default DB is {default_db()}.
The default SCHEMA is {default_schema()}.
(pyovs: clustered databases are not supported.)

Logging options (accepted and ignored by pyovs):
  -vSPEC, --verbose=SPEC   set logging levels
  -v, --verbose            set maximum verbosity level
  --log-file[=FILE]        enable logging to specified FILE

Other options:
  -m, --more                  increase show-log verbosity
  --rbac-role=ROLE            RBAC role for transact and query commands
  -h, --help                  display this help message
  -V, --version               display version information
""")
    raise SystemExit(0)


def _parse_options(argv: Sequence[str]) -> list[str]:
    opts, args = getopt_long(PROGRAM, argv, _SHORT_OPTIONS, _LONG_OPTIONS)
    for opt, arg in opts:
        if opt in ("-m", "--more"):
            _opts.verbosity += 1
        elif opt in ("-h", "--help"):
            usage()
        elif opt in ("-o", "--option"):
            _out("".join(f"--{o.rstrip('=')}{'=ARG' if o.endswith('=') else ''}\n"
                         for o in _LONG_OPTIONS))
            raise SystemExit(0)
        elif opt in ("-V", "--version"):
            _out(f"pyovsdb-tool (pyovs) {__version__}\n")
            raise SystemExit(0)
        elif opt == "--cid":
            u = uuid_from_string(arg)
            if u is None or u.int == 0:
                raise Fatal(f"{arg}: not a valid UUID")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    _opts.verbosity = 0

    def body() -> None:
        run_command(COMMANDS, _parse_options(sys.argv[1:] if argv is None else argv))

    return main_wrapper(PROGRAM, body)


if __name__ == "__main__":
    sys.exit(main())
