"""OVS's vlog on top of the stdlib ``logging`` module.

Every logger is a vlog *module*, named after the logger with the package
prefix dropped and dots made underscores (``pyovs.ovsdb.server`` ->
``ovsdb_server``; the root logger is ``root``).  Each module has a level per
destination -- console (stderr), syslog, file -- changed by ``-v`` on the
command line and by the ``vlog/set`` control command, listed by ``vlog/list``
in OVS's exact table format, and written in OVS's line format::

    2026-11-22T10:00:00.123Z|00001|module|INFO|message    (file)
    2026-11-22T10:00:00Z|00001|module|WARN|message        (console)

The number is a per-process message counter, as OVS's ``%05N``.

How it sits on ``logging``: ``Vlog.install()`` adds one handler to the root
logger, which applies the exact per-destination levels.  Python logger levels
are only a fast path: every logger is set to the most verbose level that an
open destination wants for its module, so a disabled ``log.debug`` costs one
comparison.  Loggers created later inherit from their parent until the next
level change or ``vlog/list`` re-syncs them (pyovs creates its loggers at
import time, before any daemon starts).

Differences from OVS, on purpose: syslog levels are kept and listed but
nothing is sent to syslog (``FACILITY:`` is validated and ignored), log
patterns are fixed (``PATTERN:`` is refused with a clear message), and there
is no rate limiting, so ``vlog/enable-rate-limit`` is not offered.

The control commands are plain functions (``Vlog.unixctl_commands``) that
raise ``VlogError`` with OVS's reply text; ``pyovs.unixctl`` registers them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import time
import traceback
from collections.abc import Callable
from enum import IntEnum
from typing import Final, TextIO

from pyovs import dirs

__all__ = ["Destination", "Level", "Vlog", "VlogError", "module_name"]

vlog_log = logging.getLogger("pyovs.vlog")  # vlog's own messages, module "vlog"


class VlogError(ValueError):
    """A bad vlog spec or command; the text is OVS's reply for it."""


class Level(IntEnum):
    """vlog levels; a destination shows a message if its level >= the message's."""

    OFF = 0
    EMER = 1
    ERR = 2
    WARN = 3
    INFO = 4
    DBG = 5


class Destination(IntEnum):
    """vlog destinations, in ``vlog/list`` column order."""

    CONSOLE = 0
    SYSLOG = 1
    FILE = 2


_PY_LEVEL: Final = {Level.OFF: logging.CRITICAL + 10, Level.EMER: logging.CRITICAL,
                    Level.ERR: logging.ERROR, Level.WARN: logging.WARNING,
                    Level.INFO: logging.INFO, Level.DBG: logging.DEBUG}
_PATTERNS: Final = (  # (destination name, pattern) as ``vlog/list-pattern`` shows them
    ("SYSLOG", "ovs|%05N|%c%T|%p|%m"),
    ("CONSOLE", "%D{%Y-%m-%dT%H:%M:%SZ}|%05N|%c%T|%p|%m"),
    ("FILE", "%D{%Y-%m-%dT%H:%M:%S.###Z}|%05N|%c%T|%p|%m"),
)
_FACILITIES: Final = frozenset((
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "clock",
    "ftp", "ntp", "audit", "alert", "clock2", "local0", "local1", "local2", "local3",
    "local4", "local5", "local6", "local7"))
_ALL_MODULES_MAX_ARGS: Final = 2**31 - 1

CommandHandler = Callable[[list[str]], str | None]


def _level_of(levelno: int) -> Level:
    if levelno >= logging.CRITICAL:
        return Level.EMER
    if levelno >= logging.ERROR:
        return Level.ERR
    if levelno >= logging.WARNING:
        return Level.WARN
    return Level.INFO if levelno >= logging.INFO else Level.DBG


def module_name(logger_name: str) -> str:
    """The vlog module for a logger: ``pyovs.ovsdb.server`` -> ``ovsdb_server``."""
    if logger_name.startswith("pyovs."):
        logger_name = logger_name[len("pyovs."):]
    return logger_name.replace(".", "_")


class _Handler(logging.Handler):
    def __init__(self, vlog: Vlog) -> None:
        super().__init__()
        self.vlog = vlog

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage().rstrip("\n")
            if record.exc_info:
                text += "\n" + "".join(traceback.format_exception(*record.exc_info))
            self.vlog.write(module_name(record.name), _level_of(record.levelno), text,
                            record.created)
        except Exception:
            self.handleError(record)


class Vlog:
    """Per-module, per-destination log levels over the stdlib logging tree."""

    def __init__(self, program: str, *, console: TextIO | None = None) -> None:
        self.program = program
        self._console = console  # None: whatever sys.stderr is at the time
        self._default = [Level.INFO, Level.INFO, Level.INFO]
        self._levels: dict[str, list[Level]] = {}
        self._seq = 0
        self._file_name: str | None = None
        self._fd = -1
        self._handler = _Handler(self)
        self._saved_levels: dict[str, int] | None = None

    # Installation into the logging tree.
    def install(self) -> None:
        """Route every logger's records through this Vlog."""
        if self._saved_levels is not None:
            return
        self._saved_levels = {name: lg.level for name, lg in self._loggers()}
        self._saved_levels[""] = logging.root.level
        logging.root.addHandler(self._handler)
        self._sync()

    def uninstall(self) -> None:
        """Detach from the logging tree, restoring the previous logger levels."""
        if self._saved_levels is None:
            return
        logging.root.removeHandler(self._handler)
        for name, lg in self._loggers():
            lg.setLevel(self._saved_levels.get(name, logging.NOTSET))
        logging.root.setLevel(self._saved_levels[""])
        self._saved_levels = None
        self.close_log_file()

    @staticmethod
    def _loggers() -> list[tuple[str, logging.Logger]]:
        items = list(logging.root.manager.loggerDict.items())
        return [(name, lg) for name, lg in items if isinstance(lg, logging.Logger)]

    def _wanted(self, levels: list[Level]) -> int:
        shown = max(levels[Destination.CONSOLE],
                    levels[Destination.FILE] if self._fd >= 0 else Level.OFF)
        return _PY_LEVEL[shown]

    def _sync(self) -> None:
        """Set each Python logger to the most verbose level it can be shown at."""
        if self._saved_levels is None:
            return
        for name, lg in self._loggers():
            lg.setLevel(self._wanted(self._levels.get(module_name(name), self._default)))
        logging.root.setLevel(self._wanted(self._default))

    # Levels.
    def modules(self) -> list[str]:
        """Known modules: every logger created so far, plus any configured."""
        names = {module_name(name) for name, _ in self._loggers()}
        return sorted(names | self._levels.keys())

    def get_level(self, module: str, destination: Destination) -> Level:
        return self._levels.get(module, self._default)[destination]

    def set_levels(self, module: str | None, destination: Destination | None,
                   level: Level) -> None:
        """Set ``level``; None for ``module``/``destination`` means all of them."""
        dests = list(Destination) if destination is None else [destination]
        targets = ([self._default, *(self._levels.setdefault(m, list(self._default))
                                     for m in self.modules())]
                   if module is None else [self._levels.setdefault(module, list(self._default))])
        for levels in targets:
            for d in dests:
                levels[d] = level
        self._sync()

    def set_spec(self, spec: str) -> None:
        """Apply one OVS vlog spec, e.g. ``jsonrpc:file:dbg`` (vlog_set_levels_from_string)."""
        words = [w for w in re.split(r"[ ,:\t]+", spec) if w]
        if words and words[0].upper() == "PATTERN":
            if len(words) < 2:
                raise VlogError("missing destination")
            if words[1].upper() != "ANY" and words[1].upper() not in Destination.__members__:
                raise VlogError(f'unknown destination "{words[1]}"')
            raise VlogError("setting log patterns is not supported by pyovs")
        if words and words[0].upper() == "FACILITY":
            if len(words) != 2 or words[1].lower() not in _FACILITIES:
                raise VlogError("invalid facility")
            return  # nothing is sent to syslog, so the facility has no effect
        modules = {m.lower(): m for m in self.modules()}
        module: str | None = None
        destination: Destination | None = None
        level: Level | None = None
        for word in words:
            upper = word.upper()
            if upper == "ANY":
                continue
            if upper in Destination.__members__:
                if destination is not None:
                    raise VlogError("cannot specify multiple destinations")
                destination = Destination[upper]
            elif upper in Level.__members__:
                if level is not None:
                    raise VlogError("cannot specify multiple levels")
                level = Level[upper]
            elif word.lower() in modules:
                if module is not None:
                    raise VlogError("cannot specify multiple modules")
                module = modules[word.lower()]
            else:
                raise VlogError(f'no destination, level, or module "{word}"')
        self.set_levels(module, destination, Level.DBG if level is None else level)

    def set_verbosity(self, arg: str) -> None:
        """``-v`` (empty ``arg``: everything to dbg) or ``-vSPEC``."""
        if not arg:
            self.set_levels(None, None, Level.DBG)
            return
        try:
            self.set_spec(arg)
        except VlogError as e:
            raise VlogError(f'processing "{arg}": {e}') from None

    def list_levels(self) -> str:
        """The ``vlog/list`` table, byte for byte as OVS prints it."""
        self._sync()  # adopt loggers created since the last change
        lines = sorted(
            f"{m:<16}  {self.get_level(m, Destination.CONSOLE).name:>4}       "
            f"{self.get_level(m, Destination.SYSLOG).name:>4}       "
            f"{self.get_level(m, Destination.FILE).name:>4}\n" for m in self.modules())
        return ("                 console    syslog    file\n"
                "                 -------    ------    ------\n" + "".join(lines))

    @staticmethod
    def list_patterns() -> str:
        """The ``vlog/list-pattern`` table (fixed patterns, no syslog prefix)."""
        rows = "".join(f"{name:<7}  {'none':<32}  {pattern}\n" for name, pattern in _PATTERNS)
        return ("         prefix                            format\n"
                "         ------                            ------\n" + rows)

    # The log file.
    @property
    def log_file(self) -> str | None:
        return self._file_name

    def default_log_file(self) -> str:
        return os.path.join(dirs.logdir(ensure=True), f"{self.program}.log")

    def set_log_file(self, name: str | None) -> None:
        """Log to ``name`` (None: the default file).  Raises OSError, logged as OVS does."""
        name = name or self.default_log_file()
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o660)
        except OSError as e:
            vlog_log.warning("failed to open %s for logging: %s", name, e.strerror)
            raise
        if self._fd >= 0:
            old, new = os.fstat(self._fd), os.fstat(fd)
            if (old.st_dev, old.st_ino) == (new.st_dev, new.st_ino):
                os.close(fd)
                return
            vlog_log.info("closing log file")
            os.close(self._fd)
        self._fd, self._file_name = fd, name
        self._sync()
        vlog_log.info("opened log file %s", name)

    def reopen_log_file(self) -> None:
        """Reopen after rotation (a no-op if the name still names the same file)."""
        if self._file_name is not None:
            self.set_log_file(self._file_name)

    def close_log_file(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
        self._fd, self._file_name = -1, None
        self._sync()

    # Output.
    def write(self, module: str, level: Level, text: str, when: float | None = None, *,
              force_console: bool = False) -> None:
        """Emit one message to every destination that shows ``level`` for ``module``."""
        levels = self._levels.get(module, self._default)
        to_console = force_console or levels[Destination.CONSOLE] >= level
        to_file = self._fd >= 0 and levels[Destination.FILE] >= level
        if not (to_console or to_file) or level == Level.OFF:
            return
        self._seq += 1
        when = time.time() if when is None else when
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when))
        tail = f"|{self._seq:05d}|{module}|{level.name}|{text.rstrip(chr(10))}\n"
        if to_console:
            console = self._console or sys.stderr
            with contextlib.suppress(OSError, ValueError):
                console.write(f"{stamp}Z{tail}")
                console.flush()
        if to_file:
            line = f"{stamp}.{int(when * 1000) % 1000:03d}Z{tail}"
            with contextlib.suppress(OSError):
                os.write(self._fd, line.encode("utf-8", "backslashreplace"))

    # Control commands: (name, usage, min_args, max_args, handler); handlers
    # raise VlogError for an error reply.  pyovs.unixctl registers them.
    def unixctl_commands(self) -> list[tuple[str, str, int, int, CommandHandler]]:
        return [
            ("vlog/set", "{spec | PATTERN:destination:pattern}", 0, _ALL_MODULES_MAX_ARGS,
             self._cmd_set),
            ("vlog/list", "", 0, 0, lambda args: self.list_levels()),
            ("vlog/list-pattern", "", 0, 0, lambda args: self.list_patterns()),
            ("vlog/reopen", "", 0, 0, self._cmd_reopen),
            ("vlog/close", "", 0, 0, lambda args: self.close_log_file()),
        ]

    def _cmd_set(self, args: list[str]) -> None:
        if not args:
            self.set_levels(None, None, Level.DBG)
        for spec in args:
            self.set_spec(spec)

    def _cmd_reopen(self, args: list[str]) -> None:
        if self._file_name is None:
            raise VlogError("Logging to file not configured")
        try:
            self.reopen_log_file()
        except OSError as e:
            raise VlogError(e.strerror or str(e)) from None
