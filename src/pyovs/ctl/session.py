"""The run loop of a ``*ctl`` tool: prerequisites, replica, commit, retry, wait.

This is ``main``/``do_vsctl`` of OVS's ovs-vsctl with the tool-specific
parts behind :class:`Tool`, so that ovn-nbctl can reuse it:

1. every command's ``prerequisites`` runs first, before connecting, so a
   misspelled table or column fails without a server;
2. connect to ``--db`` (once, or until it works with ``--retry``), fetch the
   schema and ``monitor`` exactly the tables and columns the commands asked
   for; the reply fills the :class:`~pyovs.ctl.idl.Idl` replica;
3. run all commands in order against the replica, in one transaction
   (:meth:`Tool.start_txn` lets ovs-vsctl create the root row and bump
   ``next_cfg``); a command may ask to *try again* (``wait-until`` whose
   condition does not hold yet);
4. check the ``@name`` symbols, commit: nothing to send is "unchanged"; a
   failed ``wait`` (someone changed what we read) is "try again": then wait
   for the replica to change and start over from step 3, exactly as OVS
   waits for a new IDL sequence number;
5. run the ``postprocess`` callbacks, print every command's output (tables
   through one :class:`~pyovs.ovsdb.table_format.TableFormatter`, text
   as is, or one line each with ``--oneline``);
6. :meth:`Tool.after_commit` -- ovs-vsctl waits here for ``cur_cfg`` to
   reach the ``next_cfg`` it committed, keeping the monitor open.

The monitor is OVS's original ``monitor`` method: updates carry whole new
rows, which keeps the replica simple; ``--timeout`` is ``SIGALRM``, set up
by the tool's ``main``.
"""

from __future__ import annotations

import errno
import io
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from pyovs.ovsdb.client import Client, ConnectionClosed, RpcError, connect
from pyovs.ovsdb.data import SymbolTable
from pyovs.ovsdb.jsonrpc import JsonRpcProtocolError, Message, MessageKind
from pyovs.ovsdb.ovsorder import shash_order
from pyovs.ovsdb.table_format import TableFormatter, TableStyle
from pyovs.streams import parse_target

from .engine import Context, CtlFatal, CtlSchema, Log
from .idl import Idl, Txn, TxnStatus
from .parse import Command

__all__ = ["Options", "Session", "Tool", "escape_args"]

_MONITOR_ID = "ctl-monitor"
OVSDB_PORT = 6640


def escape_args(argv: Sequence[str]) -> str:
    """The command line as one string, quoted where needed (``process_escape_args``)."""
    words: list[str] = []
    for arg in argv:
        if any(c in arg for c in " \t\r\n\v\\'\""):
            escaped = arg.replace("\\", "\\\\").replace('"', '\\"')
            words.append(f'"{escaped}"')
        else:
            words.append(arg)
    return " ".join(words)


@dataclass(slots=True)
class Options:
    """The global options that steer the session."""

    db: str
    oneline: bool = False
    dry_run: bool = False
    wait: bool = True
    """Wait for the daemon to apply the change (ovs-vsctl without ``--no-wait``)."""
    retry: bool = False
    style: TableStyle = field(default_factory=TableStyle)


class Tool:
    """What a ``*ctl`` tool plugs into the session; override the hooks."""

    program = "ovs-ctl"
    """Name used in messages and in the transaction comment."""

    def __init__(self, db: CtlSchema) -> None:
        self.db = db

    def context(self, idl: Idl, txn: Txn | None, symtab: SymbolTable | None,
                log: Log) -> Context:
        return Context(self.db, idl, txn, symtab, log)

    def prerequisites(self, idl: Idl, options: Options) -> None:
        """Tables and columns the tool always needs."""

    def start_txn(self, ctx: Context, options: Options) -> None:
        """Called with each new transaction before the commands run."""

    def after_commit(self, session: Session, txn: Txn, status: TxnStatus) -> None:
        """Called after the output is printed (ovs-vsctl waits for cur_cfg here)."""


class Session:
    """One run of a tool: its commands against one database."""

    def __init__(self, tool: Tool, options: Options, commands: list[Command],
                 argv: Sequence[str], log: Log) -> None:
        self.tool = tool
        self.options = options
        self.commands = commands
        self.args = escape_args(argv)
        self.log = log
        self.idl = Idl(tool.db.schema)
        self.client: Client | None = None
        self.waiting_for_daemon = False
        self._warned_port = False
        """Reconnect if the server goes away (OVS enables it while waiting for
        ``cur_cfg``, even without ``--retry``)."""
        self.pending = io.StringIO()
        """Output for a non-terminal stdout, written by :meth:`flush` at exit.

        OVS's stdio buffers a pipe fully, so what ovs-vsctl printed is lost
        when ``--timeout`` kills it while it waits for the daemon; keeping
        the text here (rather than trusting Python's buffering, which
        ``PYTHONUNBUFFERED`` turns off) does the same.
        """

    # -- the steps --------------------------------------------------------------
    def run_prerequisites(self) -> None:
        self.tool.prerequisites(self.idl, self.options)
        for command in self.commands:
            if command.syntax.prerequisites is None:
                continue
            ctx = self.tool.context(self.idl, None, None, self.log)
            ctx.argv, ctx.options = command.argv, command.options
            command.syntax.prerequisites(ctx)

    def run(self) -> None:
        """Everything after the prerequisites; raises CtlFatal on failure."""
        self.connect()
        while True:
            seqno = self.idl.seqno
            if self.do_ctl():
                return
            self.process_backlog()
            if self.idl.seqno == seqno:
                self.wait_update()

    # -- connection and replica --------------------------------------------------
    def connect(self) -> None:
        delay = 1.0
        while True:
            try:
                self.client = connect(self._target())
                self._monitor()
                return
            except (OSError, ValueError, RpcError, JsonRpcProtocolError) as e:
                if self.client is not None:
                    self.client.close()
                    self.client = None
                if not self.options.retry:
                    raise CtlFatal(f"{self.options.db}: database connection failed "
                                   f"({_describe(e)})") from None
            time.sleep(delay)
            delay = min(delay * 2, 8.0)

    def _target(self) -> str:
        """``--db`` with OVS's default OVSDB port filled in (tcp:, ptcp:)."""
        db = self.options.db
        target = str(parse_target(db, default_port=OVSDB_PORT))
        if db.startswith("tcp:") and target != db and not self._warned_port:
            self._warned_port = True
            self.log.warn("stream", "The default OVSDB port number has changed from 6632 "
                          "to 6640")
        return target

    def _monitor(self) -> None:
        assert self.client is not None
        name = self.tool.db.schema.name
        schema = self.client.get_schema(name)
        server_tables: dict[str, set[str]] = {}
        if isinstance(schema, dict) and isinstance(schema.get("tables"), dict):
            for tname, t in schema["tables"].items():
                cols = t.get("columns", {}) if isinstance(t, dict) else {}
                server_tables[tname] = set(cols) if isinstance(cols, dict) else set()
        self._warn_missing(server_tables)
        request = self.idl.monitor_request(server_tables)
        reply = self.client.call("monitor", [name, _MONITOR_ID, request])
        self.idl.apply_update(reply)

    def _warn_missing(self, server_tables: dict[str, set[str]]) -> None:
        name = self.tool.db.schema.name
        for table in self.idl.tables.values():
            if not (table.need_table or table.monitored):
                continue
            if table.name not in server_tables:
                self.log.warn("ovsdb_idl", f"{name} database lacks {table.name} table "
                              "(database needs upgrade?)")
                continue
            for column in table.monitored:
                if column not in server_tables[table.name]:
                    self.log.warn("ovsdb_idl", f"{table.name} table in {name} database "
                                  f"lacks {column} column (database needs upgrade?)")

    def _handle(self, msg: Message) -> None:
        if (msg.kind is MessageKind.NOTIFY and msg.method == "update"
                and isinstance(msg.params, list) and len(msg.params) == 2
                and msg.params[0] == _MONITOR_ID):
            self.idl.apply_update(msg.params[1])

    def process_backlog(self) -> None:
        """Apply the updates that arrived while waiting for a reply."""
        assert self.client is not None
        while True:
            try:
                msg = self.client.next_message(timeout=0)
            except (TimeoutError, OSError, JsonRpcProtocolError):
                return
            if msg is None:
                return
            self._handle(msg)

    def wait_update(self) -> None:
        """Block until the replica changes; reconnect if the server goes away."""
        while True:
            assert self.client is not None
            seqno = self.idl.seqno
            try:
                msg = self.client.next_message()
            except (OSError, JsonRpcProtocolError):
                msg = None
            if msg is None:
                if not (self.options.retry or self.waiting_for_daemon):
                    raise CtlFatal(f"{self.options.db}: database connection failed "
                                   "(End of file)")
                self._reconnect()
            else:
                self._handle(msg)
            if self.idl.seqno != seqno:
                return

    def _reconnect(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        retry = self.options.retry
        self.options.retry = True
        try:
            self.idl = _fresh_replica(self.idl)
            self.connect()
        finally:
            self.options.retry = retry

    # -- one attempt -------------------------------------------------------------
    def do_ctl(self) -> bool:
        """Run the commands and commit; False to try again after the next change."""
        idl = self.idl
        txn = idl.txn_create()
        txn.dry_run = self.options.dry_run
        txn.add_comment(f"{self.tool.program} (invoked by {_parent_info()}): {self.args}")
        symtab = SymbolTable()
        ctx = self.tool.context(idl, txn, symtab, self.log)
        try:
            self.tool.start_txn(ctx, self.options)
            for command in self.commands:
                command.output, command.table = [], None
            for i, command in enumerate(self.commands):
                ctx.argv, ctx.options = command.argv, command.options
                ctx.output, ctx.table = [], None
                ctx.try_again = False
                ctx.last_command = i == len(self.commands) - 1
                ctx.init_command()
                if command.syntax.run is not None:
                    command.syntax.run(ctx)
                command.output, command.table = ctx.output, ctx.table
                if ctx.try_again:
                    ctx.invalidate_cache()
                    txn.abort()
                    return False
            ctx.invalidate_cache()
            self._check_symbols(symtab)
        except BaseException:
            txn.abort()
            raise
        status = self.commit(txn)
        if status in (TxnStatus.UNCHANGED, TxnStatus.SUCCESS):
            for command in self.commands:
                if command.syntax.postprocess is None:
                    continue
                pctx = self.tool.context(idl, txn, symtab, self.log)
                pctx.argv, pctx.options = command.argv, command.options
                pctx.output, pctx.table = command.output, command.table
                command.syntax.postprocess(pctx)
                command.output, command.table = pctx.output, pctx.table
        if status is TxnStatus.ABORTED:
            raise CtlFatal("transaction aborted")
        if status is TxnStatus.TRY_AGAIN:
            return False
        if status is TxnStatus.ERROR:
            raise CtlFatal(f"transaction error: {txn.error_text()}")
        if status is TxnStatus.NOT_LOCKED:
            raise CtlFatal("database not locked")
        self.print_output()
        self.tool.after_commit(self, txn, status)
        return True

    def _check_symbols(self, symtab: SymbolTable) -> None:
        for name in shash_order(tuple(symtab)):
            symbol = symtab[name]
            if not symbol.created:
                raise CtlFatal(f'row id "{name}" is referenced but never created (e.g. '
                               f'with "-- --id={name} create ...")')
            if not symbol.strong_ref:
                if not symbol.weak_ref:
                    self.log.warn("vsctl", f'row id "{name}" was created but no reference '
                                  "to it was inserted, so it will not actually appear in "
                                  "the database")
                else:
                    self.log.warn("vsctl", f'row id "{name}" was created but only a weak '
                                  "reference to it was inserted, so it will not actually "
                                  "appear in the database")

    def commit(self, txn: Txn) -> TxnStatus:
        """Send the transaction and wait for its outcome (``commit_block``)."""
        ops = txn.operations()
        if ops is None:
            txn.disassemble()
            return txn.unchanged()
        assert self.client is not None
        # A lost connection makes the transaction "try again"; the run loop
        # then notices the connection is gone (fatal, unless --retry).
        try:
            request_id = self.client.request("transact", [txn.idl.schema.name, *ops])
        except OSError:
            txn.disassemble()
            txn.status = TxnStatus.TRY_AGAIN
            return txn.status
        txn.disassemble()
        try:
            reply = self.client.wait_reply(request_id)
        except (OSError, JsonRpcProtocolError):
            txn.status = TxnStatus.TRY_AGAIN
            return txn.status
        if reply.kind is MessageKind.ERROR:
            status = txn.process_reply(None, reply.error)
        else:
            status = txn.process_reply(reply.result)
        for warning in txn.warnings:
            self.log.warn("ovsdb_idl", warning)
        return status

    def flush(self) -> None:
        """Write the output kept back for a pipe (at exit)."""
        text = self.pending.getvalue()
        if text:
            self.pending = io.StringIO()
            sys.stdout.write(text)
            sys.stdout.flush()

    def print_output(self) -> None:
        formatter = TableFormatter(self.options.style)
        out: TextIO = sys.stdout if _isatty(sys.stdout) else self.pending
        for command in self.commands:
            if command.table is not None:
                out.write(formatter.format(command.table))
            elif self.options.oneline:
                text = "".join(command.output)
                if text.endswith("\n"):
                    text = text[:-1]
                out.write(text.replace("\\", "\\\\").replace("\n", "\\n") + "\n")
            else:
                out.write("".join(command.output))
        if out is sys.stdout:
            out.flush()

    # -- waiting for the daemon ---------------------------------------------------
    def wait_until(self, done: Callable[[Idl], bool]) -> None:
        """Keep the replica up to date until ``done`` holds (reconnecting as needed)."""
        self.waiting_for_daemon = True
        self.process_backlog()
        while not done(self.idl):
            self.wait_update()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (OSError, ValueError):
        return False


def _fresh_replica(old: Idl) -> Idl:
    idl = Idl(old.schema)
    for name, table in old.tables.items():
        if table.need_table:
            idl.add_table(name)
        for column in table.monitored:
            idl.add_column(name, column)
    idl.seqno = old.seqno
    return idl


def _describe(e: BaseException) -> str:
    if isinstance(e, ConnectionClosed):
        return "End of file"
    if isinstance(e, OSError) and e.errno is not None:
        return os.strerror(e.errno)
    if isinstance(e, ValueError):
        return os.strerror(errno.EAFNOSUPPORT)
    if isinstance(e, TimeoutError):
        return os.strerror(errno.ETIMEDOUT)
    return "Protocol error"


def _parent_info() -> str:
    """The parent's name, as OVS's comment shows it.

    OVS appends " (pid N)" after the parent's command line, but that line
    holds NUL separators, so everything after the program name is lost.
    """
    ppid = os.getppid()
    if not ppid:
        return "init (pid 0)"
    try:
        with open(f"/proc/{ppid}/cmdline", "rb") as f:
            data = f.read()
    except OSError:
        return f" (pid {ppid})"
    line = data.split(b"\n", 1)[0]
    if b"\0" not in line:
        return f"{line.decode(errors='replace')} (pid {ppid})"
    return line.split(b"\0", 1)[0].decode(errors="replace")

