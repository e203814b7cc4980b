"""What every OVS command-line tool shares: options, commands, fatal errors.

The OVS tools parse their options with glibc's ``getopt_long`` and dispatch
commands with ``lib/command-line.c``; users and scripts see those messages
("unrecognized option '--foo'", "'create' command takes at most 2
arguments") and exit status 1.  This module reproduces them so each tool
can stay a thin table of commands:

* ``getopt_long`` -- GNU semantics: options anywhere (argument permutation),
  ``--`` ends them, unique prefixes of long options, ``--opt=ARG`` or
  ``--opt ARG``, clustered short options (``-mm``), optional arguments
  (``-vSPEC``, ``--verbose[=SPEC]``), and glibc's error texts;
* ``Fatal`` -- an error that ends the tool: ``main`` prints
  ``<program>: <message>`` on stderr and exits with ``status``, like
  ``ovs_fatal``;
* ``parse_json_arg`` -- a JSON argument (a transaction, a condition) parsed
  as OVS's parser does, or ``Fatal('"<arg>": <error>')``;
* ``run_command`` -- ``ovs_cmdl_run_command``: look a command up in a table
  and check its argument count.

The logging options every OVS tool accepts (``-v``, ``--verbose``,
``--log-file``, ``--syslog-*``) are recognised by ``VLOG_LONG_OPTIONS`` and
ignored by the pyovs tools, which log nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pyovs.ovsdb import ovsjson

__all__ = [
    "VLOG_LONG_OPTIONS",
    "VLOG_SHORT_OPTIONS",
    "Command",
    "Fatal",
    "getopt_long",
    "parse_json_arg",
    "run_command",
]


class Fatal(Exception):
    """The tool must stop: print ``<program>: <message>`` and exit ``status``."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


VLOG_SHORT_OPTIONS = "v::"
VLOG_LONG_OPTIONS = ("verbose==", "log-file==", "syslog-method=", "syslog-target=")
"""Logging options (OVS's ``VLOG_LONG_OPTIONS``); ``==`` marks an optional argument."""


def _parse_spec(long_opts: Sequence[str]) -> dict[str, int]:
    """Long option name -> 0 (no argument), 1 (required), 2 (optional)."""
    spec: dict[str, int] = {}
    for opt in long_opts:
        if opt.endswith("=="):
            spec[opt[:-2]] = 2
        elif opt.endswith("="):
            spec[opt[:-1]] = 1
        else:
            spec[opt] = 0
    return spec


def _short_spec(short_opts: str) -> dict[str, int]:
    spec: dict[str, int] = {}
    i = 0
    while i < len(short_opts):
        c = short_opts[i]
        n = 0
        while i + 1 + n < len(short_opts) and short_opts[i + 1 + n] == ":" and n < 2:
            n += 1
        spec[c] = n
        i += 1 + n
    return spec


def getopt_long(program: str, argv: Sequence[str], short_opts: str,
                long_opts: Sequence[str]) -> tuple[list[tuple[str, str]], list[str]]:
    """Parse options as glibc's ``getopt_long`` would; return (options, operands).

    ``short_opts`` is getopt's string (``"f:"`` requires an argument, ``"v::"``
    takes an optional one, attached).  ``long_opts`` are names with ``"="``
    for a required and ``"=="`` for an optional argument.  Options come back
    as ``("-f", "table")`` / ``("--format", "table")`` with "" for no
    argument.  Errors raise ``Fatal`` with glibc's text.
    """
    longs = _parse_spec(long_opts)
    shorts = _short_spec(short_opts)
    opts: list[tuple[str, str]] = []
    operands: list[str] = []
    i = 0
    args = list(argv)
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            operands.extend(args[i:])
            break
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            full = _match_long(name, longs, arg)
            kind = longs[full]
            if eq and kind == 0:
                raise Fatal(f"option '--{full}' doesn't allow an argument")
            if kind == 1 and not eq:
                if i >= len(args):
                    raise Fatal(f"option '--{full}' requires an argument")
                value = args[i]
                i += 1
            opts.append((f"--{full}", value))
        elif arg.startswith("-") and arg != "-":
            j = 1
            while j < len(arg):
                c = arg[j]
                j += 1
                kind = shorts.get(c, -1) if c != ":" else -1
                if kind < 0:
                    raise Fatal(f"invalid option -- '{c}'")
                if kind == 0:
                    opts.append((f"-{c}", ""))
                    continue
                value = arg[j:]
                if not value and kind == 1:
                    if i >= len(args):
                        raise Fatal(f"option requires an argument -- '{c}'")
                    value = args[i]
                    i += 1
                opts.append((f"-{c}", value))
                break
        else:
            operands.append(arg)
    return opts, operands


def _match_long(name: str, longs: dict[str, int], arg: str) -> str:
    if name in longs:
        return name
    matches = [n for n in longs if n.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    shown = arg.split("=", 1)[0]
    if not matches:
        raise Fatal(f"unrecognized option '{shown}'")
    possibilities = " ".join(f"'--{m}'" for m in matches)
    raise Fatal(f"option '{shown}' is ambiguous; possibilities: {possibilities}")


def parse_json_arg(text: str) -> Any:
    """Parse a JSON object or array given on the command line, as OVS does.

    Numbers follow OVS (``1.0`` is an integer).  A bad argument is
    ``Fatal('"<text>": <what is wrong>')``.
    """
    try:
        return ovsjson.parse(text)
    except ovsjson.JsonSyntaxError as e:
        raise Fatal(f'"{text}": {e}') from None


@dataclass(frozen=True, slots=True)
class Command:
    """One entry of a tool's command table (OVS's ``struct ovs_cmdl_command``)."""

    name: str
    usage: str | None
    min_args: int
    max_args: int
    handler: Callable[[list[str]], None]
    """Called with the command's arguments (without the command name)."""


def run_command(commands: Sequence[Command], args: Sequence[str]) -> None:
    """``ovs_cmdl_run_command``: find ``args[0]`` and check the argument count."""
    if not args:
        raise Fatal("missing command name; use --help for help")
    for cmd in commands:
        if cmd.name == args[0]:
            n = len(args) - 1
            if n < cmd.min_args:
                raise Fatal(f"'{cmd.name}' command requires at least {cmd.min_args} "
                            "arguments")
            if n > cmd.max_args:
                raise Fatal(f"'{cmd.name}' command takes at most {cmd.max_args} arguments")
            cmd.handler(list(args[1:]))
            return
    raise Fatal(f"unknown command '{args[0]}'; use --help for help")


def print_commands(commands: Sequence[Command]) -> None:
    """``list-commands``: the command table, as ``ovs_cmdl_print_commands``."""
    lines = ["The available commands are:"]
    for cmd in commands:
        lines.append(f"  {cmd.name:<23} {cmd.usage or ''}")
    sys.stdout.write("\n".join(lines) + "\n")


def fail(program: str, error: Fatal) -> int:
    """Report ``error`` the way ``ovs_fatal`` does; the exit status to use."""
    sys.stdout.flush()
    sys.stderr.write(f"{program}: {error.message}\n")
    sys.stderr.flush()
    return error.status


def main_wrapper(program: str, body: Callable[[], None]) -> int:
    """Run a tool's ``body`` and turn its way of ending into an exit status.

    ``Fatal`` prints "PROGRAM: message" (as OVS's ``ovs_fatal``); a closed
    pipe on stdout is status 1 and Ctrl-C 130, as for the C tools.
    """
    try:
        body()
    except Fatal as e:
        if not e.message:
            sys.stdout.flush()
            return e.status
        return fail(program, e)
    except SystemExit as e:
        sys.stdout.flush()
        return e.code if isinstance(e.code, int) else 0
    except BrokenPipeError:
        return 1
    except KeyboardInterrupt:
        return 130
    sys.stdout.flush()
    return 0
