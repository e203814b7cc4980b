"""What every pyovs daemon shares with every OVS daemon: options, pidfile, logs.

Options (``add_daemon_args``) are OVS's: ``--pidfile[=FILE]``, ``--detach``,
``--no-chdir``, ``--overwrite-pidfile``, ``--monitor`` (accepted and ignored:
pyovs does not restart crashed daemons), ``--unixctl=SOCKET``,
``-v``/``--verbose[=SPEC]`` and ``--log-file[=FILE]``.  argparse would let
``--pidfile db.db`` swallow the database name, so callers pass argv through
``normalize_argv`` first: an optional argument is taken only when attached
(``--pidfile=F``, ``-vSPEC``), as getopt does for OVS.

Start-up follows OVS (lib/daemon-unix.c) in two steps, and the program opens
its databases and sockets in between:

* ``Daemon.start()`` -- with ``--detach``, fork; the parent waits on a pipe and
  exits 0 once the child reports ready, or with the child's status if it died
  first.  The child calls setsid() and creates the pidfile.
* ``Daemon.complete()`` -- tell the parent we are up, then chdir("/") (unless
  ``--no-chdir``), point stdin/out/err at /dev/null and turn console logging
  off.  Fork before any event loop or thread exists.

Pidfile protocol (shared with ``ovs-appctl``, which reads it): the file holds
the pid and a newline and carries an fcntl write lock held by that pid for as
long as it runs.  ``read_pidfile`` trusts a pid only if that very process
holds the lock, so a stale file left by a crash is recognised and replaced,
and a second daemon with the same pidfile refuses to start ("already running
as pid N").  The lock lives on an fd kept open for the life of the process;
closing any other fd of that file would drop it, so this process never opens
its own pidfile again (``_HELD`` remembers which inodes are ours).

Logging options feed ``pyovs.vlog.Vlog`` (OVS's vlog over stdlib logging),
which the ``Daemon`` owns: ``-v`` specs are applied and ``--log-file`` opened
while parsing, as in OVS, and the console is silenced once detached.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import errno
import fcntl
import logging
import os
import signal
import struct
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, NoReturn, TextIO

from pyovs import dirs
from pyovs.vlog import Destination, Level, Vlog, VlogError

__all__ = [
    "Daemon",
    "DaemonError",
    "DaemonOptions",
    "Pidfile",
    "add_daemon_args",
    "normalize_argv",
    "read_pidfile",
]

log = logging.getLogger(__name__)


class DaemonError(Exception):
    """Start-up cannot continue; the text is the message OVS would print."""


# -- pidfiles -------------------------------------------------------------------

# struct flock on Linux with 64-bit off_t: l_type, l_whence, l_start, l_len, l_pid.
_FLOCK: Final = struct.Struct("hhqqi4x")
_HELD: set[tuple[int, int]] = set()  # (st_dev, st_ino) of pidfiles this process locks


def _lock_holder(fd: int) -> int:
    """Pid holding a write lock that conflicts with ours on ``fd``, or 0."""
    query = _FLOCK.pack(fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
    l_type, _, _, _, pid = _FLOCK.unpack(fcntl.fcntl(fd, fcntl.F_GETLK, query))
    return 0 if l_type == fcntl.F_UNLCK else int(pid)


def read_pidfile(path: str, *, delete_if_stale: bool = False) -> int:
    """The pid of the live process that owns pidfile ``path`` (OVS read_pidfile).

    Raises OSError (ENOENT, ESRCH for a stale file, ...) after logging a warning
    as OVS does.  With ``delete_if_stale``, a missing file gives 0 and a stale
    one is deleted (only by whoever wins its lock) and gives 0.
    """
    with contextlib.suppress(OSError):
        st = os.stat(path)
        if (st.st_dev, st.st_ino) in _HELD:
            return os.getpid()  # ours: opening it would drop our own lock
    try:
        f = open(path, "r+")  # noqa: SIM115 - closed in finally, lock needs the fd
    except OSError as e:
        if e.errno == errno.ENOENT and delete_if_stale:
            return 0
        log.warning("%s: open: %s", path, e.strerror)
        raise
    try:
        holder = _lock_holder(f.fileno())
        if holder == 0:
            if not delete_if_stale:
                log.debug("%s: pid file is stale", path)
                raise OSError(errno.ESRCH, os.strerror(errno.ESRCH), path)
            try:
                fcntl.lockf(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                log.warning("%s: lost race to lock pidfile", path)
                raise
            st, st2 = os.stat(path), os.fstat(f.fileno())
            if (st.st_dev, st.st_ino) != (st2.st_dev, st2.st_ino):
                log.warning("%s: lost race to delete pidfile", path)
                raise OSError(errno.EALREADY, os.strerror(errno.EALREADY), path)
            os.unlink(path)
            log.debug("%s: deleted stale pidfile", path)
            return 0
        line = f.readline()
        if not line:
            log.warning("%s: read: unexpected end of file", path)
            raise OSError(errno.ESRCH, os.strerror(errno.ESRCH), path)
        if not line.strip().isdigit() or int(line) != holder:
            log.warning("%s: stale pidfile for pid %s being deleted by pid %d",
                        path, line, holder)
            raise OSError(errno.ESRCH, os.strerror(errno.ESRCH), path)
        return holder
    finally:
        f.close()


class Pidfile:
    """A pidfile this process creates, holds locked, and removes at exit."""

    def __init__(self, path: str, *, overwrite: bool = False) -> None:
        self.path = path
        self.overwrite = overwrite
        self._file: TextIO | None = None
        self._id: tuple[int, int] | None = None

    def create(self) -> None:
        """Write our pid (OVS make_pidfile); raises DaemonError with OVS's texts."""
        pid = os.getpid()
        tmp = f"{self.path}.tmp{pid}" if self.overwrite else f"{self.path}.tmp"
        try:
            f = open(tmp, "a+")  # noqa: SIM115 - kept open: the fd holds the lock
        except OSError as e:
            raise DaemonError(f"{tmp}: create failed ({e.strerror})") from None
        try:
            fcntl.lockf(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            # Another daemon is creating the same pidfile: its tmp file, not ours.
            f.close()
            raise DaemonError(f"{tmp}: fcntl(F_SETLK) failed ({e.strerror})") from None
        try:
            if not self.overwrite:
                try:
                    other = read_pidfile(self.path, delete_if_stale=True)
                except OSError as e:
                    raise DaemonError(f"{self.path}: pidfile check failed ({e.strerror}), "
                                      "aborting") from None
                if other > 0:
                    raise DaemonError(f"{self.path}: already running as pid {other}, "
                                      "aborting")
            f.truncate(0)
            f.write(f"{pid}\n")
            f.flush()
            st = os.fstat(f.fileno())
            os.rename(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            f.close()
            raise
        self._file, self._id = f, (st.st_dev, st.st_ino)
        _HELD.add(self._id)

    def remove(self) -> None:
        """Delete the pidfile if it is still ours, and release the lock."""
        if self._file is None or self._id is None:
            return
        with contextlib.suppress(OSError):
            st = os.stat(self.path)
            if (st.st_dev, st.st_ino) == self._id:
                os.unlink(self.path)
        _HELD.discard(self._id)
        self._file.close()
        self._file = self._id = None


# -- options and the daemon itself --------------------------------------------------

_OPTIONAL_ARG_FLAGS: Final = {"--pidfile": "--pidfile=", "--log-file": "--log-file=",
                              "--verbose": "--verbose=", "-v": "--verbose="}


def normalize_argv(argv: Sequence[str]) -> list[str]:
    """Make bare ``--pidfile``/``--log-file``/``-v`` take no argument, as getopt does."""
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            return out + list(argv[i:])
        out.append(_OPTIONAL_ARG_FLAGS.get(arg, arg))
    return out


def add_daemon_args(parser: argparse.ArgumentParser) -> None:
    """Add OVS's daemon and logging options to ``parser``."""
    d = parser.add_argument_group("Daemon options")
    d.add_argument("--detach", action="store_true", help="run in background as daemon")
    d.add_argument("--monitor", action="store_true",
                   help="accepted for compatibility; has no effect in pyovs")
    d.add_argument("--no-chdir", action="store_true", help="do not chdir to '/'")
    d.add_argument("--pidfile", nargs="?", const="", metavar="FILE",
                   help="create pidfile (default: <rundir>/<program>.pid)")
    d.add_argument("--overwrite-pidfile", action="store_true",
                   help="with --pidfile, start even if already running")
    d.add_argument("--unixctl", metavar="SOCKET",
                   help="override default control socket name ('none' for no socket)")
    g = parser.add_argument_group("Logging options")
    g.add_argument("-v", "--verbose", nargs="?", const="", action="append", default=[],
                   metavar="SPEC", help="set logging levels (bare: maximum verbosity)")
    g.add_argument("--log-file", nargs="?", const="", metavar="FILE",
                   help="enable logging to FILE (default: <logdir>/<program>.log)")


@dataclass
class DaemonOptions:
    """The parsed daemon options ("" for an optional argument that was omitted)."""

    pidfile: str | None = None
    detach: bool = False
    no_chdir: bool = False
    overwrite_pidfile: bool = False
    monitor: bool = False
    unixctl: str | None = None
    verbose: list[str] = field(default_factory=list)
    log_file: str | None = None

    @classmethod
    def from_namespace(cls, ns: argparse.Namespace) -> DaemonOptions:
        return cls(pidfile=ns.pidfile, detach=ns.detach, no_chdir=ns.no_chdir,
                   overwrite_pidfile=ns.overwrite_pidfile, monitor=ns.monitor,
                   unixctl=ns.unixctl, verbose=list(ns.verbose), log_file=ns.log_file)


class Daemon:
    """One daemon process: its logging, pidfile, detach handshake and shutdown."""

    def __init__(self, program: str, options: DaemonOptions, *, vlog: Vlog | None = None
                 ) -> None:
        """Set up logging from the options; exits 1 on a bad ``-v`` or ``--log-file``."""
        self.program = program
        self.options = options
        self.vlog = vlog or Vlog(program)
        self.vlog.install()
        self._cleanups: list[Callable[[], None]] = []
        self._ready_fd = -1
        self._completed = False
        self._shutdown: asyncio.Future[int] | None = None
        self.pidfile: Pidfile | None = None
        try:
            for spec in options.verbose:
                self.vlog.set_verbosity(spec)
        except VlogError as e:
            self._usage_error(str(e))
        if options.log_file is not None:
            try:
                self.vlog.set_log_file(options.log_file or None)
            except OSError:
                sys.exit(1)
        atexit.register(self.cleanup)

    def _usage_error(self, message: str) -> NoReturn:
        print(f"{self.program}: {message}", file=sys.stderr)
        sys.exit(1)

    @property
    def pidfile_path(self) -> str | None:
        if self.options.pidfile is None:
            return None
        name = self.options.pidfile or f"{self.program}.pid"
        if os.path.isabs(name):
            return name
        return os.path.join(dirs.rundir(ensure=True), name)

    def fatal(self, message: str) -> NoReturn:
        """Log at EMER (always also on stderr, like VLOG_FATAL) and exit 1."""
        self.vlog.write("daemon", Level.EMER, message, force_console=True)
        sys.exit(1)

    def start(self) -> None:
        """daemonize_start: detach if asked, then create the pidfile."""
        if self.options.detach:
            self._fork_and_wait()
            os.setsid()
        path = self.pidfile_path
        if path is not None:
            self.pidfile = Pidfile(path, overwrite=self.options.overwrite_pidfile)
            try:
                self.pidfile.create()
            except DaemonError as e:
                self.fatal(str(e))

    def _fork_and_wait(self) -> None:
        r, w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            self._ready_fd = w
            return
        os.close(w)
        if os.read(r, 1):
            os._exit(0)  # the child is up; skip atexit hooks meant for it
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code > 0:
            os._exit(code)
        what = (f"killed ({signal.strsignal(-code)})" if code < 0
                else "exit status 0")
        self.vlog.write("daemon", Level.ERR, f"fork child died before signaling startup "
                        f"({what})", force_console=True)
        self.fatal("could not detach from foreground session")

    def complete(self) -> None:
        """daemonize_complete: report readiness to the parent and finish detaching."""
        if self._completed:
            return
        self._completed = True
        if self._ready_fd >= 0:
            os.write(self._ready_fd, b"\0")
            os.close(self._ready_fd)
            self._ready_fd = -1
        if self.options.detach:
            if not self.options.no_chdir:
                os.chdir("/")
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.close(null)
            self.vlog.set_levels(None, Destination.CONSOLE, Level.OFF)

    def add_cleanup(self, func: Callable[[], None]) -> None:
        """Run ``func`` at shutdown (last added, first run), e.g. to remove a socket."""
        self._cleanups.append(func)

    def cleanup(self) -> None:
        """Run cleanups and remove the pidfile; safe to call more than once."""
        while self._cleanups:
            func = self._cleanups.pop()
            try:
                func()
            except Exception:
                log.exception("cleanup failed")
        if self.pidfile is not None:
            self.pidfile.remove()

    def install_signal_handlers(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Make SIGTERM, SIGINT and SIGHUP end ``wait_for_shutdown``."""
        loop = loop or asyncio.get_running_loop()
        self._shutdown = loop.create_future()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, self._on_signal, sig)

    def _on_signal(self, sig: int) -> None:
        log.warning("terminating with signal %d (%s)", sig, signal.strsignal(sig))
        self.request_shutdown(sig)

    def request_shutdown(self, code: int = 0) -> None:
        """End ``wait_for_shutdown`` (e.g. from an ``exit`` control command)."""
        if self._shutdown is not None and not self._shutdown.done():
            self._shutdown.set_result(code)

    async def wait_for_shutdown(self) -> int:
        """Wait for a signal (returns its number) or ``request_shutdown`` (its code)."""
        if self._shutdown is None:
            self.install_signal_handlers()
        return await self._future()

    def _future(self) -> asyncio.Future[int]:
        if self._shutdown is None:
            raise RuntimeError("install_signal_handlers() was not called")
        return self._shutdown
