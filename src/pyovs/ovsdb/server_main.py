"""``pyovsdb-server``: the command line of ovsdb-server.

    pyovsdb-server [DATABASE...] [--remote=REMOTE]... [--unixctl=SOCKET]
                   [--pidfile[=FILE]] [--detach] [--log-file[=FILE]] [--no-chdir]

With no DATABASE it serves ``<dbdir>/conf.db`` (pyovs's own dbdir, or
``$OVS_DBDIR``).  Remotes are ``punix:PATH``, ``ptcp:PORT[:IP]``,
``unix:PATH``, ``tcp:IP:PORT`` and ``db:DB,TABLE,COLUMN``.  The control
socket answers the real ``ovs-appctl``: ``exit``, ``list-commands``,
``version``, ``ovsdb-server/compact [DB]``, ``ovsdb-server/add-remote``,
``ovsdb-server/remove-remote``, ``ovsdb-server/list-remotes``,
``ovsdb-server/list-dbs``, ``ovsdb-server/reconnect`` and ``vlog/*``.

The order of start-up follows ovsdb-server: parse options, detach, open
the databases (a bad file makes the detached child fail, and the parent
exits with its status), listen, then report readiness, so ``--detach``
returns only once clients can connect.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from .. import __version__, dirs
from ..daemon import Daemon, DaemonOptions, add_daemon_args, normalize_argv
from ..unixctl import UnixctlError, UnixctlServer
from .errors import OvsdbError
from .file import FileStorage
from .jsonrpc import DEFAULT_MAX_MESSAGE_SIZE
from .server import OvsdbServer
from .server_io import ServerRunner, monotonic_ms

PROGRAM = "pyovsdb-server"
log = logging.getLogger("ovsdb_server")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=PROGRAM, description="OVSDB server (pyovs)")
    p.add_argument("databases", nargs="*", metavar="DATABASE")
    p.add_argument("--remote", action="append", default=[], metavar="REMOTE",
                   help="listen or connect to REMOTE (punix:, ptcp:, unix:, tcp:, db:)")
    p.add_argument("--run", help=argparse.SUPPRESS)
    p.add_argument("--disable-file-column-diff", action="store_true",
                   help="accepted for compatibility (pyovs never writes column diffs)")
    p.add_argument("--max-message-size", type=int, default=DEFAULT_MAX_MESSAGE_SIZE,
                   metavar="BYTES", help="close a client that sends a larger JSON-RPC "
                   "message (pyovs extension; default %(default)s)")
    p.add_argument("-V", "--version", action="store_true", help="display version")
    add_daemon_args(p)
    return p.parse_args(normalize_argv(argv))


async def _serve(args: argparse.Namespace, daemon: Daemon, server: OvsdbServer) -> int:
    runner = ServerRunner(server, args.max_message_size)
    loop = asyncio.get_running_loop()
    daemon.install_signal_handlers(loop)

    def fail_remote(remote: str, e: Exception) -> None:
        log.error("%s: listen failed: %s", remote, e)

    runner.on_remotes_error = fail_remote
    for remote in args.remote:
        if not remote.startswith("db:"):
            try:
                await runner.add_remote(remote)
            except (OSError, ValueError) as e:
                daemon.fatal(f"{remote}: listen failed: {e}")
    runner.configure_remotes(args.remote)

    unixctl_path = args.unixctl
    ctl = None
    if unixctl_path != "none":
        ctl = UnixctlServer(PROGRAM, unixctl_path)
        _register_commands(ctl, runner, daemon, args)
        ctl.register_vlog(daemon.vlog)
        await ctl.start()
    daemon.complete()
    log.info("%s (pyovs) %s: serving %s", PROGRAM, __version__,
             ", ".join(n for n in server.dbs if n != "_Server"))

    compact_task = loop.create_task(_compact_loop(runner))
    probe_task = loop.create_task(runner.probe_loop())
    code = await daemon.wait_for_shutdown()
    compact_task.cancel()
    probe_task.cancel()
    await runner.close()
    if ctl is not None:
        await ctl.close()
    return 0 if code in (0, 15, 2) else code


async def _compact_loop(runner: ServerRunner) -> None:
    server = runner.server
    while True:
        await asyncio.sleep(1.0)
        await runner.wait_synced()
        now = monotonic_ms()
        for entry in server.dbs.values():
            s = entry.storage
            if s is not None and s.should_compact(now):
                try:
                    s.compact(entry.db)
                    log.info("%s: compacted database", entry.db.name)
                except OvsdbError as e:
                    log.warning("%s: compaction failed: %s", entry.db.name, e)


def _register_commands(ctl: UnixctlServer, runner: ServerRunner, daemon: Daemon,
                       args: argparse.Namespace) -> None:
    server = runner.server

    def cmd_exit(argv: list[str]) -> str:
        daemon.request_shutdown(0)
        return ""

    async def cmd_compact(argv: list[str]) -> str:
        await runner.wait_synced()
        names = argv or [n for n in server.dbs if n != "_Server"]
        for name in names:
            entry = server.dbs.get(name)
            if entry is None:
                raise UnixctlError("cannot compact not-yet-existing database")
            if entry.storage is None:
                continue
            try:
                entry.storage.compact(entry.db)
            except OvsdbError as e:
                raise UnixctlError(f"{name}: {e}") from None
        return ""

    async def cmd_add_remote(argv: list[str]) -> str:
        remote = argv[0]
        if remote in runner.static_remotes:
            raise UnixctlError(f"{remote}: remote already exists")
        runner.static_remotes.append(remote)
        await runner._apply_remotes()
        return ""

    async def cmd_remove_remote(argv: list[str]) -> str:
        remote = argv[0]
        if remote not in runner.static_remotes:
            raise UnixctlError("no such remote")
        runner.static_remotes.remove(remote)
        await runner._apply_remotes()
        return ""

    def cmd_list_remotes(argv: list[str]) -> str:
        return "".join(f"{r}\n" for r in sorted(runner.static_remotes))

    def cmd_list_dbs(argv: list[str]) -> str:
        return "".join(f"{n}\n" for n in sorted(server.dbs))

    def cmd_reconnect(argv: list[str]) -> str:
        for c in list(runner.connections):
            c.writer.close()
        return ""

    ctl.register("exit", "", 0, 0, cmd_exit)
    ctl.register("ovsdb-server/compact", "", 0, 1, cmd_compact)
    ctl.register("ovsdb-server/add-remote", "REMOTE", 1, 1, cmd_add_remote)
    ctl.register("ovsdb-server/remove-remote", "REMOTE", 1, 1, cmd_remove_remote)
    ctl.register("ovsdb-server/list-remotes", "", 0, 0, cmd_list_remotes)
    ctl.register("ovsdb-server/list-dbs", "", 0, 0, cmd_list_dbs)
    ctl.register("ovsdb-server/reconnect", "", 0, 0, cmd_reconnect)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.version:
        print(f"{PROGRAM} (pyovs) {__version__}")
        return 0
    daemon = Daemon(PROGRAM, DaemonOptions.from_namespace(args))
    paths = args.databases or [os.path.join(dirs.dbdir(), "conf.db")]
    # Fork first: fcntl locks on the database files belong to the process
    # that takes them, so the process that serves must open them.
    daemon.start()
    server = OvsdbServer(monotonic_ms)
    for path in paths:
        try:
            db, storage = FileStorage.open(path)
        except OvsdbError as e:
            daemon.fatal(str(e))
        if storage.warning:
            log.warning("%s", storage.warning)
        try:
            server.add_database(db, storage, path)
        except OvsdbError as e:
            daemon.fatal(str(e))
    try:
        return asyncio.run(_serve(args, daemon, server))
    finally:
        daemon.cleanup()


if __name__ == "__main__":
    sys.exit(main())
