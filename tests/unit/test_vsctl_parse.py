"""The ctl command line: getopt in POSIX mode, commands, per-command options."""

from __future__ import annotations

import pytest

from pyovs.cli.vsctl import COMMANDS, GLOBAL_OPTIONS
from pyovs.ctl.engine import CtlFatal, score_partial_match
from pyovs.ctl.parse import (
    GetoptError,
    _command_arguments,
    getopt,
    local_options,
    parse_commands,
    print_commands,
)

ALL_OPTIONS = [*GLOBAL_OPTIONS, *local_options(COMMANDS)]
BY_NAME = {c.name: c for c in COMMANDS}


def opts(*argv: str) -> tuple[list[tuple[str, str | None]], int]:
    parsed, index = getopt(list(argv), ALL_OPTIONS)
    return [(o.name, arg) for o, arg in parsed], index


def test_getopt_stops_at_the_first_word_that_is_not_an_option() -> None:
    assert opts("--db", "unix:x", "--no-wait", "add-br", "--may-exist") == (
        [("db", "unix:x"), ("no-wait", None)], 3)
    assert opts("--", "--no-wait") == ([], 1)
    assert opts("-t5", "-fjson", "list") == ([("timeout", "5"), ("format", "json")], 2)
    assert opts("-v", "-vfoo", "list") == ([("verbose", None), ("verbose", "foo")], 2)


def test_getopt_abbreviations_follow_glibc() -> None:
    assert opts("--no-w", "x")[0] == [("no-wait", None)]
    # Both candidates are command options with no argument: not ambiguous,
    # the first one registered wins (as in glibc).
    assert opts("--fa", "list-br")[0] == [("fake", None)]
    with pytest.raises(GetoptError) as e:
        opts("--no=5")
    assert e.value.message == (
        "option '--no=5' is ambiguous; possibilities: '--no-syslog' '--no-wait' "
        "'--no-leader-only' '--no-shuffle-remotes' '--no-headings'")


@pytest.mark.parametrize(("argv", "message"), [
    (["--foo=bar"], "unrecognized option '--foo=bar'"),
    (["--if-exists=x"], "option '--if-exists' doesn't allow an argument"),
    (["--db"], "option '--db' requires an argument"),
    (["-x"], "invalid option -- 'x'"),
    (["-t"], "option requires an argument -- 't'"),
])
def test_getopt_errors(argv: list[str], message: str) -> None:
    with pytest.raises(GetoptError) as e:
        opts(*argv)
    assert e.value.message == message


def parse(*argv: str, local: dict[str, str | None] | None = None) -> list[tuple[str, ...]]:
    commands = parse_commands(list(argv), dict(local or {}), BY_NAME)
    return [(*c.argv, *sorted(f"{k}={v}" for k, v in c.options.items())) for c in commands]


def test_commands_split_at_double_dash_with_their_options() -> None:
    assert parse("add-br", "br0", "--", "--may-exist", "add-port", "br0", "p1", "--",
                 "--id=@x", "create", "Port", "name=p", "--") == [
        ("add-br", "br0"), ("add-port", "br0", "p1", "--may-exist=None"),
        ("create", "Port", "name=p", "--id=@x")]
    assert parse("del-br", "x", local={"--if-exists": None}) == [
        ("del-br", "x", "--if-exists=None")]


@pytest.mark.parametrize(("argv", "local", "message"), [
    ([], None, "missing command name (use --help for help)"),
    (["--"], None, "missing command name (use --help for help)"),
    (["list-br"], {"--may-exist": None}, "'list-br' command has no '--may-exist' option"),
    ([], {"--may-exist": None}, "missing command name (use --help for help)"),
    (["nosuch"], None, "unknown command 'nosuch'; use --help for help"),
    (["--ifx", "del-br", "x"], None, "'del-br' command has no '--ifx' option"),
    (["--if-exists=3", "del-br", "x"], None,
     "'--if-exists' option on 'del-br' does not accept an argument"),
    (["--id", "create", "Bridge"], None,
     "missing argument to '--id' option on 'create' command"),
    (["--if-exists", "--if-exists", "del-br", "x"], None,
     "'--if-exists' option specified multiple times"),
    (["add-br"], None, "'add-br' command requires at least 1 arguments"),
    (["list-br", "x"], None, "'list-br' command takes at most 0 arguments"),
    (["list-br", "--real"], None, "'list-br' command takes at most 0 arguments (note that "
     'options must precede command names and follow a "--" argument)'),
])
def test_command_errors(argv: list[str], local: dict[str, str | None] | None,
                        message: str) -> None:
    with pytest.raises(CtlFatal) as e:
        parse(*argv, local=local)
    assert e.value.message == message


@pytest.mark.parametrize(("arguments", "grammar"), [
    ("", ""),
    ("TABLE RECORD [COLUMN[:KEY]=VALUE]...", "!TABLE !RECORD *COLUMN?:KEY=VALUE"),
    ("NEW-BRIDGE [PARENT] [NEW-VLAN]", "!NEW-BRIDGE ?PARENT ?NEW-VLAN"),
    ("TABLE RECORD COLUMN [KEY=]VALUE...", "!TABLE !RECORD !COLUMN +?KEY=VALUE"),
    ("[BRIDGE] PORT|IFACE", "?BRIDGE !PORT|IFACE"),
    ("BRIDGE BOND IFACE... [COLUMN[:KEY]=VALUE]...",
     "!BRIDGE !BOND +IFACE *COLUMN?:KEY=VALUE"),
    ("[ARG]...", "*ARG"),
])
def test_completion_grammar(arguments: str, grammar: str) -> None:
    assert _command_arguments(arguments) == grammar


def test_commands_listing_is_in_ovs_hash_order() -> None:
    lines = print_commands(COMMANDS).splitlines()
    assert lines[:3] == [",wait-until,!TABLE !RECORD *COLUMN?:KEY=VALUE",
                         "[--may-exist] ,add-zone-tp,", ",comment,*ARG"]
    assert lines[-1] == ",show," and len(lines) == 50


def test_local_options_come_in_command_hash_order() -> None:
    names = [o.name for o in local_options(COMMANDS)]
    assert names.index("fake") < names.index("fake-iface")
    assert len(names) == len(set(names))


@pytest.mark.parametrize(("name", "typed", "score"), [
    ("Bridge", "Bridge", 2**32 - 1), ("Bridge", "bridge", 2**32 - 2),
    ("other_config", "other-config", 2**32 - 2), ("Bridge", "Br", 2),
    ("Bridge", "Bx", 0), ("Br", "Bridge", 0), ("Bridge", "", 0),
])
def test_score_partial_match(name: str, typed: str, score: int) -> None:
    assert score_partial_match(name, typed) == score


def test_row_naming_and_show_tables_match_the_schema() -> None:
    """Every rule of TABLE_CLASSES and SHOW_TABLES names real columns of the right type."""
    from pyovs.cli.vsctl import SHOW_TABLES, TABLE_CLASSES, _schema

    schema = _schema()
    for table, cls in TABLE_CLASSES.items():
        assert table in schema.tables
        for rid in cls.row_ids:
            columns = schema.tables[rid.table].columns
            name_type = columns[rid.name_column].type
            assert name_type.key.type.value in ("string", "integer")
            if rid.uuid_column is not None:
                assert columns[rid.uuid_column].type.key.ref_table == table
            else:
                assert rid.table == table
    for show in SHOW_TABLES:
        columns = schema.tables[show.table].columns
        assert show.name_column is None or show.name_column in columns
        assert all(c in columns for c in show.columns)
