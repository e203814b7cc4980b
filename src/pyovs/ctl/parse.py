"""The ``*ctl`` command line: global options, commands, per-command options.

ovs-vsctl reads its command line in two passes, and so does this module:

1. :func:`getopt` -- glibc's ``getopt_long`` in POSIX mode (OVS passes a
   short-option string starting with ``+``): options are read up to the
   first word that is not one, or up to ``--``.  Besides the tool's global
   options, every option any command accepts (``--may-exist``,
   ``--id=``...) is recognised here too and kept aside as a *local* option
   for the first command.  Long options may be abbreviated to a prefix; two
   candidates only make the prefix ambiguous when they differ in argument
   or meaning, as in glibc, and the first candidate wins otherwise.  Errors
   carry glibc's wording and are prefixed with ``argv[0]`` as typed, because
   glibc prints them, not OVS.
2. :func:`parse_commands` -- ``ctl_parse_commands``: the rest is split at
   each ``--`` into commands; each command's own leading ``--option[=value]``
   words are checked against the options its syntax accepts, and its
   argument count against its minimum and maximum, with OVS's messages.

It also formats ``--commands`` (each command's options and an argument
grammar for shell completion) and ``--options``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pyovs.ovsdb.ovsorder import shash_order
from pyovs.ovsdb.table_format import Table

from .engine import CommandSyntax, CtlFatal

__all__ = ["Command", "GetoptError", "LongOption", "getopt", "local_options",
           "parse_commands", "print_commands", "print_options"]

NO_ARG, REQUIRED, OPTIONAL = 0, 1, 2
LOCAL = "local"
"""The ``val`` of every command option (OVS's ``OPT_LOCAL``)."""


@dataclass(frozen=True, slots=True)
class LongOption:
    """An entry of getopt's ``struct option`` table."""

    name: str
    has_arg: int
    val: str
    """What the option means; options with the same val (and has_arg) are
    interchangeable when a prefix matches several of them."""
    short: str | None = None
    """The equivalent short option letter, if any."""


class GetoptError(CtlFatal):
    """A getopt error: printed after ``argv[0]`` as typed, not the program name."""


@dataclass(slots=True)
class Command:
    """One parsed command of the command line (OVS's ``struct ctl_command``)."""

    syntax: CommandSyntax
    argv: list[str]
    """The command name followed by its arguments."""
    options: dict[str, str | None]
    """``--name`` -> argument (None without one), in the order given."""
    output: list[str] = field(default_factory=list)
    table: Table | None = None


def _short_spec(options: Sequence[LongOption]) -> dict[str, LongOption]:
    return {o.short: o for o in options if o.short is not None}


def _match_long(name: str, options: Sequence[LongOption],
                typed: str) -> LongOption:
    for o in options:
        if o.name == name:
            return o
    found: LongOption | None = None
    ambiguous: list[LongOption] = []
    for o in options:
        if not o.name.startswith(name):
            continue
        if found is None:
            found = o
        elif (o.has_arg, o.val) != (found.has_arg, found.val):
            if not ambiguous:
                ambiguous.append(found)
            ambiguous.append(o)
    if found is None:
        raise GetoptError(f"unrecognized option '{typed}'")
    if ambiguous:
        listed = [o for o in options if o in ambiguous]
        raise GetoptError(f"option '{typed}' is ambiguous; possibilities:"
                          + "".join(f" '--{o.name}'" for o in listed))
    return found


def getopt(argv: Sequence[str], options: Sequence[LongOption]
           ) -> tuple[list[tuple[LongOption, str | None]], int]:
    """Parse leading options (POSIX mode); return them and the index of the rest."""
    shorts = _short_spec(options)
    out: list[tuple[LongOption, str | None]] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            return out, i + 1
        if arg.startswith("--"):
            i += 1
            name, eq, value = arg[2:].partition("=")
            opt = _match_long(name, options, arg)
            if eq and opt.has_arg == NO_ARG:
                raise GetoptError(f"option '--{opt.name}' doesn't allow an argument")
            if opt.has_arg == REQUIRED and not eq:
                if i >= len(argv):
                    raise GetoptError(f"option '--{opt.name}' requires an argument")
                value = argv[i]
                i += 1
            out.append((opt, value if (eq or opt.has_arg == REQUIRED) else None))
        elif arg.startswith("-") and arg != "-":
            i += 1
            j = 1
            while j < len(arg):
                c = arg[j]
                j += 1
                sopt = shorts.get(c)
                if sopt is None:
                    raise GetoptError(f"invalid option -- '{c}'")
                if sopt.has_arg == NO_ARG:
                    out.append((sopt, None))
                    continue
                value = arg[j:]
                if not value and sopt.has_arg == REQUIRED:
                    if i >= len(argv):
                        raise GetoptError(f"option requires an argument -- '{c}'")
                    value = argv[i]
                    i += 1
                out.append((sopt, value or None))
                break
        else:
            break
    return out, i


def local_options(commands: Sequence[CommandSyntax]) -> list[LongOption]:
    """Every command option, as getopt entries (``ctl_add_cmd_options``)."""
    by_name = {c.name: c for c in commands}
    out: dict[str, LongOption] = {}
    for cname in shash_order(tuple(by_name)):
        for item in by_name[cname].options.split(","):
            if not item:
                continue
            name = item[2:]
            n = len(name)
            for i, c in enumerate(name):
                if c in "=?":
                    n = i
                    break
            has_arg = (NO_ARG if n == len(name) else REQUIRED if name[n] == "=" else OPTIONAL)
            name = name[:n]
            if name not in out:
                out[name] = LongOption(name, has_arg, LOCAL)
    return list(out.values())


def _parse_command(argv: list[str], local: dict[str, str | None],
                   commands: dict[str, CommandSyntax]) -> Command:
    options = dict(local)
    local.clear()
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        key, eq, value = argv[i].partition("=")
        if key in options:
            raise CtlFatal(f"'{argv[i]}' option specified multiple times")
        options[key] = value if eq else None
        i += 1
    if i == len(argv):
        raise CtlFatal("missing command name (use --help for help)")
    syntax = commands.get(argv[i])
    if syntax is None:
        raise CtlFatal(f"unknown command '{argv[i]}'; use --help for help")
    for name in shash_order(tuple(options)):
        pos = syntax.options.find(name)
        end = None if pos < 0 else syntax.options[pos + len(name):pos + len(name) + 1]
        if end is None or end not in ("=", ",", "?", " ", ""):
            raise CtlFatal(f"'{argv[i]}' command has no '{name}' option")
        if end != "?" and (end == "=") != (options[name] is not None):
            if end == "=":
                raise CtlFatal(f"missing argument to '{name}' option on '{argv[i]}' command")
            raise CtlFatal(f"'{name}' option on '{argv[i]}' does not accept an argument")
    n_arg = len(argv) - i - 1
    if n_arg < syntax.min_args:
        raise CtlFatal(f"'{syntax.name}' command requires at least {syntax.min_args} "
                       "arguments")
    if n_arg > syntax.max_args:
        if any(a.startswith("-") for a in argv[i + 1:]):
            raise CtlFatal(f"'{syntax.name}' command takes at most {syntax.max_args} "
                           "arguments (note that options must precede command names and "
                           'follow a "--" argument)')
        raise CtlFatal(f"'{syntax.name}' command takes at most {syntax.max_args} arguments")
    return Command(syntax, argv[i:], options)


def parse_commands(argv: Sequence[str], local: dict[str, str | None],
                   commands: dict[str, CommandSyntax]) -> list[Command]:
    """Split the words after the global options into commands (``ctl_parse_commands``).

    ``local`` holds the options getopt found before the first command; they
    belong to it.
    """
    out: list[Command] = []
    start = 0
    for i in range(len(argv) + 1):
        if i == len(argv) or argv[i] == "--":
            if i > start:
                out.append(_parse_command(list(argv[start:i]), local, commands))
            elif local:
                raise CtlFatal("missing command name (use --help for help)")
            start = i + 1
    if not out:
        raise CtlFatal("missing command name (use --help for help)")
    return out


def _command_arguments(arguments: str) -> str:
    """The argument grammar for bash completion (``print_command_arguments``).

    Read backwards, as OVS does: ``!`` marks a required word, ``?`` an
    optional one, ``*`` an optional repeated one and ``+`` a repeated one.
    """
    if not arguments:
        return ""
    out: list[str] = []
    stack = 0
    in_repeated = False
    whole_word_optional = False
    n = len(arguments)
    i = n
    while i > 0:
        i -= 1
        c = arguments[i]
        if c == "]":
            stack <<= 1
            nxt = arguments[i + 1] if i + 1 < n else ""
            if nxt in ("", " ", "."):
                stack |= 1
        elif c == "[":
            if (i == 0 or arguments[i - 1] == " ") and stack & 1:
                out.append("*" if in_repeated else "?")
                whole_word_optional = True
            else:
                out.append("?")
                whole_word_optional = False
            stack >>= 1
        elif c == " ":
            if not whole_word_optional:
                out.append("+" if in_repeated else "!")
            out.append(" ")
            in_repeated = False
            whole_word_optional = False
        elif c == ".":
            in_repeated = True
        else:
            out.append(c)
    if arguments[0] != "[" and out:
        out.append("+" if in_repeated else "!")
    return "".join(reversed(out))


def print_commands(commands: Sequence[CommandSyntax]) -> str:
    """``--commands``: one line per command, in OVS's hash order."""
    by_name = {c.name: c for c in commands}
    lines: list[str] = []
    for name in shash_order(tuple(by_name)):
        c = by_name[name]
        opts = "".join(f"[{item}] " for item in c.options.split(",") if item)
        lines.append(f"{opts},{c.name},{_command_arguments(c.arguments)}\n")
    return "".join(lines)


def print_options(options: Sequence[LongOption]) -> str:
    """``--options``: every global option, long then short form."""
    lines: list[str] = []
    for o in options:
        lines.append(f"--{o.name}{'=ARG' if o.has_arg else ''}\n")
        if o.short is not None:
            lines.append(f"-{o.short}{' ARG' if o.has_arg else ''}\n")
    return "".join(lines)
