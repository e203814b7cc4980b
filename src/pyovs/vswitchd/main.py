"""``pyovs-vswitchd``: the command line and main loop of ovs-vswitchd.

    pyovs-vswitchd [DATABASE] [--pidfile[=FILE]] [--detach] [--log-file[=FILE]]
                   [--unixctl=SOCKET] [--no-chdir] [-v...]

DATABASE is ``unix:PATH`` or ``tcp:IP:PORT`` (default
``unix:<rundir>/db.sock``, as ovs-vswitchd).  The process is an OVSDB
client (``dbsync``) whose replica drives ``bridge.Reconciler``; the one
userspace datapath serves every bridge, whatever its ``datapath_type``
(``netdev``, ``system`` or empty).  ``--detach`` returns once the first
configuration is applied (or the database could not be reached for 5 s,
in which case the daemon keeps trying).

Control commands (``pyovs-appctl`` or the real ``ovs-appctl``):
``exit``, ``version``, ``list-commands``, ``vlog/*``, ``fdb/show BRIDGE``,
``fdb/flush [BRIDGE]``, ``dpctl/dump-flows``, ``dpctl/show``,
``bridge/dump-flows BRIDGE``, ``ofproto/trace``,
``netdev-dummy/receive PORT HEX`` and ``netdev-dummy/sent PORT`` (see
``commands``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Sequence
from typing import Final

from pyovs import __version__, dirs
from pyovs.daemon import Daemon, DaemonOptions, add_daemon_args, normalize_argv
from pyovs.datapath.userspace import UserspaceDpif
from pyovs.unixctl import UnixctlServer

from .bridge import Reconciler
from .commands import register_commands
from .dbsync import DbSync, as_map

PROGRAM: Final = "pyovs-vswitchd"
STATS_INTERVAL: Final = 5.0
log = logging.getLogger("vswitchd")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=PROGRAM, description="Open vSwitch daemon (pyovs)")
    p.add_argument("database", nargs="?", metavar="DATABASE",
                   help="database to connect to (default: unix:<rundir>/db.sock)")
    p.add_argument("--mlockall", action="store_true", help="accepted for compatibility")
    p.add_argument("-V", "--version", action="store_true", help="display version")
    add_daemon_args(p)
    return p.parse_args(normalize_argv(argv))


class Vswitchd:
    """The running daemon: database replica, reconciler, datapath, control socket."""

    def __init__(self, db_target: str, daemon: Daemon) -> None:
        self.daemon = daemon
        self.db = DbSync(db_target)
        self.dpif = UserspaceDpif()
        self.reconciler = Reconciler(self.db, self.dpif)
        self._dirty = asyncio.Event()
        self.configured = asyncio.Event()
        self._last_stats = 0.0
        self.db.on_change = self._dirty.set

    async def reconfigure_loop(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self.reconciler.reconfigure()
                await self.write_status()
            except (ConnectionError, OSError) as e:
                log.warning("reconfiguration: %s", e)
            except Exception:
                log.exception("reconfiguration failed")
            self.configured.set()

    async def write_status(self, with_stats: bool = False) -> None:
        if not self.db.connected.is_set():
            return
        ops = self.reconciler.status_ops(with_stats)
        if ops:
            await self.db.transact(ops)

    def stats_interval(self) -> float:
        """Open_vSwitch other_config:stats-update-interval (ms, at least 5000), as OVS."""
        for row in self.db.tables.get("Open_vSwitch", {}).values():
            text = as_map(row, "other_config").get("stats-update-interval", "")
            if text.isdigit():
                return max(5000, int(text)) / 1000
        return STATS_INTERVAL

    async def periodic_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                self.reconciler.backer.run_periodic()
                self.reconciler.refresh_link_state()
                now = time.monotonic()
                stats = now - self._last_stats >= self.stats_interval()
                if stats:
                    self._last_stats = now
                await self.write_status(stats)
            except (ConnectionError, OSError) as e:
                log.debug("periodic: %s", e)
            except Exception:
                log.exception("periodic work failed")


async def _serve(args: argparse.Namespace, daemon: Daemon) -> int:
    loop = asyncio.get_running_loop()
    daemon.install_signal_handlers(loop)
    target = args.database or f"unix:{os.path.join(dirs.rundir(), 'db.sock')}"
    vs = Vswitchd(target, daemon)
    vs.dpif.attach(loop)
    vs.db.start()
    tasks = [loop.create_task(vs.reconfigure_loop()), loop.create_task(vs.periodic_loop())]
    ctl = None
    if args.unixctl != "none":
        ctl = UnixctlServer(PROGRAM, args.unixctl)
        register_commands(ctl, vs)
        ctl.register_vlog(daemon.vlog)
        await ctl.start()
    try:
        await asyncio.wait_for(vs.configured.wait(), 5.0)
    except TimeoutError:
        log.warning("%s: database not reachable yet; continuing to try", target)
    daemon.complete()
    log.info("%s (pyovs) %s: started", PROGRAM, __version__)
    code = await daemon.wait_for_shutdown()
    for t in tasks:
        t.cancel()
    await vs.reconciler.shutdown()
    await vs.db.stop()
    vs.dpif.detach()
    if ctl is not None:
        await ctl.close()
    return 0 if code in (0, 15, 2) else code


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.version:
        print(f"{PROGRAM} (pyovs) {__version__}")
        return 0
    daemon = Daemon(PROGRAM, DaemonOptions.from_namespace(args))
    daemon.start()
    try:
        return asyncio.run(_serve(args, daemon))
    finally:
        daemon.cleanup()


if __name__ == "__main__":
    sys.exit(main())
