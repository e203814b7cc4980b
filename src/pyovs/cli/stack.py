"""``pyovs up|down|status``: the whole stack on its default directories.

``up`` does what ``ovs-ctl start`` does for Open vSwitch: creates the
configuration database from the bundled schema if there is none
(``<dbdir>/conf.db``), starts ``pyovsdb-server`` (``punix:<rundir>/db.sock``)
and ``pyovs-vswitchd`` detached with pidfiles and log files, and
initialises the database (``pyovs-vsctl --no-wait init``).  Running pieces
are left alone, so ``up`` is idempotent.  ``down`` stops both through
their control sockets (falling back to SIGTERM), vswitchd first so it can
remove its devices.  ``status`` says what runs, with pids, and the
configured bridges.

The directories are pyovs's own (``pyovs.dirs``: /var/run/pyovs ... as
root, under $XDG_RUNTIME_DIR/$XDG_STATE_HOME otherwise) unless
``OVS_RUNDIR``/``OVS_DBDIR``/``OVS_LOGDIR`` say otherwise; they never touch
an installed Open vSwitch.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Final

from pyovs import dirs
from pyovs.daemon import DaemonError, read_pidfile
from pyovs.ovsdb.file import FileStorage
from pyovs.ovsdb.schema import bundled_schema_path
from pyovs.unixctl import unixctl_call

__all__ = ["down", "main", "status", "up"]

BIN: Final = Path(sys.executable).parent
DAEMONS: Final = ("pyovsdb-server", "pyovs-vswitchd")


def _tool(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else name


def _pid(program: str) -> int:
    path = os.path.join(dirs.rundir(), f"{program}.pid")
    try:
        return read_pidfile(path, delete_if_stale=True)
    except (DaemonError, OSError):
        return 0


def db_socket() -> str:
    return os.path.join(dirs.rundir(), "db.sock")


def up(verbose: bool = True) -> None:
    """Start whatever is not running yet."""
    rundir = dirs.rundir(ensure=True)
    dbdir = dirs.dbdir(ensure=True)
    logdir = dirs.logdir(ensure=True)
    db = os.path.join(dbdir, "conf.db")
    if not os.path.exists(db):
        FileStorage.create(db, json.loads(bundled_schema_path("vswitch").read_text()))
        if verbose:
            print(f"created {db}")
    if not _pid("pyovsdb-server"):
        subprocess.run([_tool("pyovsdb-server"), db, f"--remote=punix:{db_socket()}",
                        "--pidfile", "--detach", "--no-chdir",
                        f"--log-file={os.path.join(logdir, 'pyovsdb-server.log')}"],
                       check=True)
        subprocess.run([_tool("pyovs-vsctl"), f"--db=unix:{db_socket()}", "--no-wait",
                        "init"], check=True)
    if not _pid("pyovs-vswitchd"):
        subprocess.run([_tool("pyovs-vswitchd"), f"unix:{db_socket()}", "--pidfile",
                        "--detach", "--no-chdir",
                        f"--log-file={os.path.join(logdir, 'pyovs-vswitchd.log')}"],
                       check=True)
    if verbose:
        print(f"pyovs is up (rundir {rundir}); try: pyovs-vsctl show")


def down(verbose: bool = True) -> None:
    """Stop vswitchd, then the database server."""
    for program in reversed(DAEMONS):
        pid = _pid(program)
        if not pid:
            continue
        ctl = os.path.join(dirs.rundir(), f"{program}.{pid}.ctl")
        try:
            unixctl_call(ctl, "exit", [], timeout=5)
        except Exception:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        if verbose:
            print(f"stopped {program} (pid {pid})")


def status() -> int:
    running = 0
    for program in DAEMONS:
        pid = _pid(program)
        print(f"{program}: {'running, pid ' + str(pid) if pid else 'not running'}")
        running += bool(pid)
    if _pid("pyovsdb-server"):
        subprocess.run([_tool("pyovs-vsctl"), f"--db=unix:{db_socket()}", "show"],
                       check=False)
    return 0 if running == len(DAEMONS) else 3


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in ("up", "down", "status"):
        print("usage: pyovs up|down|status", file=sys.stderr)
        return 2
    try:
        if args[0] == "up":
            up()
        elif args[0] == "down":
            down()
        else:
            return status()
    except subprocess.CalledProcessError as e:
        print(f"pyovs: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
