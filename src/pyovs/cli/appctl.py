"""``pyovs-appctl``: send one control command to a running daemon.

A drop-in for ``ovs-appctl`` (utilities/ovs-appctl.c in OVS 3.1), with the
same command line, messages and exit codes, so scripts written for one work
with the other and either can drive either kind of daemon:

* ``pyovs-appctl [-t TARGET] [-T SECS] COMMAND [ARG...]``; options stop at
  the first non-option word, as with getopt's ``+`` mode;
* TARGET is a daemon name (socket found through ``<rundir>/NAME.pid``) or an
  absolute socket path; the default is ``pyovs-vswitchd`` (OVS: ovs-vswitchd);
* success: the reply text on stdout, exit 0;
* error reply: its text on stderr, then "PROG: TARGET: server returned an
  error", exit 2;
* failures before a reply (bad options, no pidfile, cannot connect,
  connection lost): "PROG: ..." on stderr, exit 1;
* ``-T``/``--timeout`` (or ``OVS_CTL_TIMEOUT``): when it expires the process
  logs "terminating with signal 14 (Alarm clock)" and dies of SIGALRM, as
  ovs-appctl does.

``--format=text`` is accepted; ``--format=json`` (an OVS 3.3 addition) is
refused clearly, since the daemons speak the 3.1 text protocol.

The option parser is a small copy of getopt_long's behaviour (unique
prefixes of long options, attached or separate arguments, glibc's error
texts), written out because argparse cannot stop at the first command word
and words its errors differently.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Final, NoReturn

from pyovs import __version__
from pyovs.unixctl import (
    UnixctlClient,
    UnixctlTargetError,
    UnixctlTransactionError,
    resolve_target,
)
from pyovs.vlog import Level, Vlog, VlogError

DEFAULT_TARGET: Final = "pyovs-vswitchd"

# (long name, short letter or "", argument: "no" | "required" | "optional"), in
# ovs-appctl's table order (it decides how ambiguities are listed).
_OPTIONS: Final = (
    ("target", "t", "required"),
    ("execute", "e", "no"),
    ("help", "h", "no"),
    ("option", "o", "no"),
    ("version", "V", "no"),
    ("timeout", "T", "required"),
    ("verbose", "v", "optional"),
    ("log-file", "", "optional"),
    ("syslog-method", "", "required"),
    ("syslog-target", "", "required"),
    ("format", "f", "required"),
)

_USAGE: Final = """\
{prog}, for querying and controlling Open vSwitch daemon
usage: {prog} [TARGET] COMMAND [ARG...]
Targets:
  -t, --target=TARGET  pidfile or socket to contact
Common commands:
  list-commands      List commands supported by the target
  version            Print version of the target
  vlog/list          List current logging levels
  vlog/list-pattern  List logging patterns for each destination.
  vlog/set [SPEC]
      Set log levels as detailed in SPEC, which may include:
      A valid module name (all modules, by default)
      'syslog', 'console', 'file' (all destinations, by default))
      'off', 'emer', 'err', 'warn', 'info', or 'dbg' ('dbg', bydefault)
  vlog/reopen        Make the program reopen its log file
Other options:
  --timeout=SECS     wait at most SECS seconds for a response
  --format=text      output format (only text is supported)
  -h, --help         Print this helpful information
  -V, --version      Display {prog} version information
"""


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class _Args:
    target: str | None = None
    timeout: int = 0
    executes: int = 0
    verbose: list[str] = field(default_factory=list)
    log_file: str | None = None
    command: list[str] = field(default_factory=list)


class _Cli:
    def __init__(self, prog: str, argv0: str) -> None:
        self.prog = prog
        self.argv0 = argv0  # getopt's own messages name the program as invoked

    def fatal(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message}", file=sys.stderr)
        raise _Exit(1)

    def getopt_error(self, message: str) -> NoReturn:
        print(f"{self.argv0}: {message}", file=sys.stderr)
        raise _Exit(1)

    def _long(self, word: str, argv: Sequence[str], i: int) -> tuple[str, str | None, int]:
        name, eq, value = word[2:].partition("=")
        exact = [o for o in _OPTIONS if o[0] == name]
        matches = exact or [o for o in _OPTIONS if o[0].startswith(name)]
        if not matches:
            self.getopt_error(f"unrecognized option '{word}'")
        if len(matches) > 1:
            names = " ".join(f"'--{o[0]}'" for o in matches)
            self.getopt_error(f"option '{word}' is ambiguous; possibilities: {names}")
        long, _, kind = matches[0]
        if kind == "no" and eq:
            self.getopt_error(f"option '--{long}' doesn't allow an argument")
        if kind == "required" and not eq:
            if i + 1 >= len(argv):
                self.getopt_error(f"option '--{long}' requires an argument")
            return long, argv[i + 1], i + 2
        return long, (value if eq else None), i + 1

    def _short(self, word: str, argv: Sequence[str], i: int
               ) -> tuple[list[tuple[str, str | None]], int]:
        found: list[tuple[str, str | None]] = []
        j = 1
        while j < len(word):
            letter = word[j]
            option = next((o for o in _OPTIONS if o[1] == letter), None)
            if option is None:
                self.getopt_error(f"invalid option -- '{letter}'")
            long, _, kind = option
            rest = word[j + 1:]
            if kind == "no":
                found.append((long, None))
                j += 1
                continue
            if rest or kind == "optional":
                found.append((long, rest or None))
                return found, i + 1
            if i + 1 >= len(argv):
                self.getopt_error(f"option requires an argument -- '{letter}'")
            found.append((long, argv[i + 1]))
            return found, i + 2
        return found, i + 1

    def parse(self, argv: Sequence[str]) -> _Args:
        args = _Args()
        i = 0
        while i < len(argv):
            word = argv[i]
            if word == "--":
                i += 1
                break
            if not word.startswith("-") or word == "-":
                break
            if word.startswith("--"):
                long, value, i = self._long(word, argv, i)
                self._apply(args, long, value)
            else:
                found, i = self._short(word, argv, i)
                for long, value in found:
                    self._apply(args, long, value)
        args.command = list(argv[i:])
        if not args.command:
            self.fatal("at least one non-option argument is required (use --help for help)")
        return args

    def _apply(self, args: _Args, option: str, value: str | None) -> None:
        if option == "target":
            if args.target is not None:
                self.fatal("-t or --target may be specified only once")
            args.target = value
        elif option == "execute":
            args.executes += 1
            if args.executes > 1:
                self.fatal("-e or --execute may be speciifed only once")  # sic, as OVS
        elif option == "help":
            print(_USAGE.format(prog=self.prog), end="")
            raise _Exit(0)
        elif option == "option":
            self._print_options()
            raise _Exit(0)
        elif option == "version":
            print(f"{self.prog} (pyovs) {__version__}")
            raise _Exit(0)
        elif option == "timeout":
            if value is None or not value.isdigit() or int(value) == 0:
                self.fatal(f"value {value} on -T or --timeout is invalid")
            args.timeout = int(value)
        elif option == "verbose":
            args.verbose.append(value or "")
        elif option == "log-file":
            args.log_file = value or ""
        elif option == "format":
            if value == "json":
                self.fatal("--format=json is not supported by pyovs (text only)")
            if value != "text":
                self.fatal(f"option --format: unsupported format '{value}'")

    @staticmethod
    def _print_options() -> None:
        for long, short, kind in _OPTIONS:
            arg = {"no": "", "required": "=ARG", "optional": "=[ARG]"}[kind]
            print(f"--{long}{arg}")
            if short:
                print(f"-{short} {'' if kind == 'no' else arg.strip('=')}")


def _arm_timeout(seconds: int, vlog: Vlog) -> bool:
    if not seconds:
        env = os.environ.get("OVS_CTL_TIMEOUT", "")
        seconds = int(env) if env.isdigit() else 0
    if not seconds:
        return False

    def on_alarm(signum: int, frame: FrameType | None) -> None:
        vlog.write("fatal_signal", Level.WARN,
                   f"terminating with signal {signum} ({signal.strsignal(signum)})")
        sys.stderr.flush()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    return True


def run(argv: Sequence[str], prog: str = "pyovs-appctl", argv0: str | None = None) -> int:
    """The whole program; returns the exit status."""
    cli = _Cli(prog, argv0 or prog)
    vlog = Vlog(prog)
    vlog.install()
    armed = False
    try:
        args = cli.parse(argv)
        try:
            for spec in args.verbose:
                vlog.set_verbosity(spec)
            if args.log_file is not None:
                vlog.set_log_file(args.log_file or None)
        except VlogError as e:
            cli.fatal(str(e))
        except OSError:
            return 1
        armed = _arm_timeout(args.timeout, vlog)
        target = args.target or DEFAULT_TARGET
        try:
            path = resolve_target(target)
        except UnixctlTargetError as e:
            cli.fatal(str(e))
        try:
            client = UnixctlClient.connect(path)
        except OSError as e:
            cli.fatal(f'cannot connect to "{path}" ({e.strerror or e})')
        with client:
            try:
                ok, text = client.transact(args.command[0], args.command[1:])
            except UnixctlTransactionError as e:
                cli.fatal(f"{target}: transaction error ({e})")
        if not ok:
            sys.stderr.write(text)
            print(f"{prog}: {target}: server returned an error", file=sys.stderr)
            return 2
        sys.stdout.write(text)
        sys.stdout.flush()
        return 0
    except _Exit as e:
        return e.code
    finally:
        if armed:
            signal.alarm(0)
        vlog.uninstall()


def main() -> None:
    """Console-script entry point."""
    prog = os.path.basename(sys.argv[0]) or "pyovs-appctl"
    sys.exit(run(sys.argv[1:], prog, sys.argv[0]))


if __name__ == "__main__":
    main()
