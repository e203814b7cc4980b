"""Where pyovs keeps its runtime, database and log files.

OVS programs find each other through well-known directories: a daemon writes
``<rundir>/<program>.pid`` and listens on ``<rundir>/<program>.<pid>.ctl``,
and ``ovs-appctl -t <program>`` looks there.  As in OVS (lib/dirs.c), each
directory can be overridden by an environment variable, read on every call so
tests can point a whole process tree at a private directory:

=========== ================= ==================== ===============================
 directory   variable          root default         non-root default
=========== ================= ==================== ===============================
 rundir      ``OVS_RUNDIR``    /var/run/pyovs       $XDG_RUNTIME_DIR/pyovs, else
                                                    $XDG_STATE_HOME/pyovs/run
 dbdir       ``OVS_DBDIR``     /var/lib/pyovs       $XDG_STATE_HOME/pyovs/db
 logdir      ``OVS_LOGDIR``    /var/log/pyovs       $XDG_STATE_HOME/pyovs/log
 pkgdatadir  ``OVS_PKGDATADIR`` the schemas bundled with the package
=========== ================= ==================== ===============================

($XDG_STATE_HOME defaults to ~/.local/state.)  The defaults are pyovs's own:
they never collide with an installed Open vSwitch (/var/run/openvswitch...),
so the real and the Python daemons can run side by side.  An empty variable
counts as unset, as in OVS.

``ensure=True`` creates the directory (and its parents) on demand; nothing is
created as a side effect of merely asking for a name.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["abs_file_name", "dbdir", "logdir", "pkgdatadir", "rundir"]

_PACKAGE_DATA = Path(__file__).resolve().parent / "ovsdb" / "schemas"


def _env(name: str) -> str | None:
    value = os.environ.get(name)
    return value if value else None


def _state_home() -> Path:
    xdg = _env("XDG_STATE_HOME")
    return Path(xdg) if xdg else Path.home() / ".local" / "state"


def _is_root() -> bool:
    return os.geteuid() == 0


def _finish(path: str | Path, ensure: bool) -> str:
    text = str(path)
    if ensure:
        os.makedirs(text, mode=0o755, exist_ok=True)
    return text


def rundir(*, ensure: bool = False) -> str:
    """Directory for pidfiles and control sockets."""
    env = _env("OVS_RUNDIR")
    if env:
        return _finish(env, ensure)
    if _is_root():
        return _finish("/var/run/pyovs", ensure)
    runtime = _env("XDG_RUNTIME_DIR")
    if runtime:
        return _finish(Path(runtime) / "pyovs", ensure)
    return _finish(_state_home() / "pyovs" / "run", ensure)


def dbdir(*, ensure: bool = False) -> str:
    """Directory for database files."""
    env = _env("OVS_DBDIR")
    if env:
        return _finish(env, ensure)
    if _is_root():
        return _finish("/var/lib/pyovs", ensure)
    return _finish(_state_home() / "pyovs" / "db", ensure)


def logdir(*, ensure: bool = False) -> str:
    """Directory for log files."""
    env = _env("OVS_LOGDIR")
    if env:
        return _finish(env, ensure)
    if _is_root():
        return _finish("/var/log/pyovs", ensure)
    return _finish(_state_home() / "pyovs" / "log", ensure)


def pkgdatadir() -> str:
    """Directory of read-only package data (the bundled .ovsschema files)."""
    return _env("OVS_PKGDATADIR") or str(_PACKAGE_DATA)


def abs_file_name(directory: str, name: str) -> str:
    """``name`` if absolute, else ``directory/name`` (OVS abs_file_name)."""
    return name if os.path.isabs(name) else os.path.join(directory, name)
