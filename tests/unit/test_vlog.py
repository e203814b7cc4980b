"""OVS vlog over stdlib logging (pyovs.vlog)."""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyovs.vlog import Destination, Level, Vlog, VlogError, module_name

_TAIL = r"\|(\d{5})\|([^|]+)\|([A-Z]+)\|(.*)$"
FILE_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z" + _TAIL)
CONSOLE_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" + _TAIL)

alpha = logging.getLogger("pyovs.test.alpha")   # module test_alpha
beta = logging.getLogger("pyovs.test.beta")     # module test_beta


@pytest.fixture
def console() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def vlog(console: io.StringIO) -> Iterator[Vlog]:
    v = Vlog("pyovs-test", console=console)
    v.install()
    yield v
    v.uninstall()


def test_module_names() -> None:
    assert module_name("pyovs.ovsdb.server") == "ovsdb_server"
    assert module_name("pyovs.unixctl") == "unixctl"
    assert module_name("asyncio") == "asyncio"
    assert module_name("root") == "root"


def test_console_format_and_default_levels(vlog: Vlog, console: io.StringIO) -> None:
    alpha.info("hello %s", "world")
    alpha.debug("hidden by default")
    beta.warning("careful")
    lines = console.getvalue().splitlines()
    assert len(lines) == 2
    m1, m2 = CONSOLE_LINE.match(lines[0]), CONSOLE_LINE.match(lines[1])
    assert m1 and m2
    assert m1.groups() == ("00001", "test_alpha", "INFO", "hello world")
    assert m2.groups() == ("00002", "test_beta", "WARN", "careful")


def test_levels_map_from_python(vlog: Vlog, console: io.StringIO) -> None:
    vlog.set_spec("test_alpha:console:dbg")
    for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR,
                  logging.CRITICAL):
        alpha.log(level, "x")
    names = [CONSOLE_LINE.match(line).group(3)  # type: ignore[union-attr]
             for line in console.getvalue().splitlines()]
    assert names == ["DBG", "INFO", "WARN", "ERR", "EMER"]


def test_file_format_and_per_destination_levels(vlog: Vlog, console: io.StringIO,
                                                tmp_path: Path) -> None:
    log_path = tmp_path / "x.log"
    vlog.set_log_file(str(log_path))
    vlog.set_spec("test_alpha:file:dbg")
    vlog.set_spec("test_alpha:console:off")
    alpha.debug("only in the file")
    alpha.error("in the file too")
    text = log_path.read_text().splitlines()
    parsed = [FILE_LINE.match(line) for line in text]
    assert all(parsed)
    assert [(m.group(2), m.group(3), m.group(4)) for m in parsed if m] == [
        ("vlog", "INFO", f"opened log file {log_path}"),
        ("test_alpha", "DBG", "only in the file"),
        ("test_alpha", "ERR", "in the file too")]
    # The console saw only vlog's own line; numbering is shared.
    assert console.getvalue().count("\n") == 1
    assert [m.group(1) for m in parsed if m] == ["00001", "00002", "00003"]


def test_exceptions_and_trailing_newlines(vlog: Vlog, console: io.StringIO) -> None:
    try:
        raise RuntimeError("bad")
    except RuntimeError:
        alpha.exception("it broke\n")
    out = console.getvalue()
    assert "|test_alpha|ERR|it broke\nTraceback" in out
    assert "RuntimeError: bad" in out
    assert out.endswith("bad\n")


def test_python_logger_levels_follow_vlog(vlog: Vlog) -> None:
    assert alpha.isEnabledFor(logging.INFO)
    assert not alpha.isEnabledFor(logging.DEBUG)
    vlog.set_spec("test_alpha:console:dbg")
    assert alpha.isEnabledFor(logging.DEBUG)
    assert not beta.isEnabledFor(logging.DEBUG)
    vlog.set_spec("off")
    assert not alpha.isEnabledFor(logging.CRITICAL)


def test_uninstall_restores_levels(console: io.StringIO) -> None:
    alpha.setLevel(logging.ERROR)
    v = Vlog("p", console=console)
    v.install()
    v.set_spec("dbg")
    assert alpha.isEnabledFor(logging.DEBUG)
    v.uninstall()
    assert alpha.level == logging.ERROR
    alpha.setLevel(logging.NOTSET)


@pytest.mark.parametrize(("spec", "changes"), [
    ("test_alpha:file:warn", {("test_alpha", Destination.FILE): Level.WARN}),
    ("TEST_ALPHA:File:Warn", {("test_alpha", Destination.FILE): Level.WARN}),
    ("test_alpha", {("test_alpha", d): Level.DBG for d in Destination}),
    ("console:err", {(m, Destination.CONSOLE): Level.ERR for m in ("test_alpha", "test_beta")}),
    ("ANY:ANY:emer", {(m, d): Level.EMER for m in ("test_alpha", "test_beta")
                      for d in Destination}),
    ("syslog,test_beta off", {("test_beta", Destination.SYSLOG): Level.OFF}),
    ("", {(m, d): Level.DBG for m in ("test_alpha", "test_beta") for d in Destination}),
])
def test_set_spec(vlog: Vlog, spec: str, changes: dict[tuple[str, Destination], Level]) -> None:
    vlog.set_spec(spec)
    for m in ("test_alpha", "test_beta"):
        for d in Destination:
            assert vlog.get_level(m, d) == changes.get((m, d), Level.INFO), (m, d)


@pytest.mark.parametrize(("spec", "error"), [
    ("nosuch", 'no destination, level, or module "nosuch"'),
    ("file:console", "cannot specify multiple destinations"),
    ("info:warn", "cannot specify multiple levels"),
    ("test_alpha:test_beta", "cannot specify multiple modules"),
    ("PATTERN", "missing destination"),
    ("PATTERN:nowhere:%m", 'unknown destination "nowhere"'),
    ("PATTERN:console:%m", "setting log patterns is not supported by pyovs"),
    ("FACILITY:nope", "invalid facility"),
])
def test_set_spec_errors(vlog: Vlog, spec: str, error: str) -> None:
    with pytest.raises(VlogError) as e:
        vlog.set_spec(spec)
    assert str(e.value) == error


def test_facility_is_accepted(vlog: Vlog) -> None:
    vlog.set_spec("FACILITY:local3")


def test_set_verbosity(vlog: Vlog) -> None:
    vlog.set_verbosity("")
    assert vlog.get_level("test_beta", Destination.SYSLOG) == Level.DBG
    with pytest.raises(VlogError) as e:
        vlog.set_verbosity("bogus")
    assert str(e.value) == 'processing "bogus": no destination, level, or module "bogus"'


def test_list_levels_matches_ovs_table(vlog: Vlog) -> None:
    vlog.set_spec("test_alpha:console:off")
    vlog.set_spec("test_beta:file:dbg")
    text = vlog.list_levels()
    lines = text.splitlines(keepends=True)
    assert lines[:2] == ["                 console    syslog    file\n",
                         "                 -------    ------    ------\n"]
    assert "test_alpha         OFF       INFO       INFO\n" in lines
    assert "test_beta         INFO       INFO        DBG\n" in lines
    assert lines[2:] == sorted(lines[2:])
    # A module name longer than the column pushes the levels right, as in OVS.
    logging.getLogger("pyovs.a_rather_long_module_name")
    assert "a_rather_long_module_name  INFO       INFO       INFO\n" in vlog.list_levels()


def test_list_patterns() -> None:
    assert Vlog.list_patterns() == (
        "         prefix                            format\n"
        "         ------                            ------\n"
        "SYSLOG   none                              ovs|%05N|%c%T|%p|%m\n"
        "CONSOLE  none                              %D{%Y-%m-%dT%H:%M:%SZ}|%05N|%c%T|%p|%m\n"
        "FILE     none                              "
        "%D{%Y-%m-%dT%H:%M:%S.###Z}|%05N|%c%T|%p|%m\n")


def test_reopen_after_rotation(vlog: Vlog, tmp_path: Path) -> None:
    path = tmp_path / "d.log"
    vlog.set_log_file(str(path))
    alpha.info("before")
    vlog.reopen_log_file()  # same file: nothing happens
    os.rename(path, tmp_path / "d.log.1")
    vlog.reopen_log_file()
    alpha.info("later message")
    old = (tmp_path / "d.log.1").read_text()
    new = path.read_text()
    assert "before" in old
    assert old.rstrip().endswith("|vlog|INFO|closing log file")
    assert "opened log file" in new
    assert "later message" in new
    assert "later message" not in old


def test_vlog_commands(vlog: Vlog, tmp_path: Path) -> None:
    commands = {name: handler for name, _, _, _, handler in vlog.unixctl_commands()}
    with pytest.raises(VlogError, match="Logging to file not configured"):
        commands["vlog/reopen"]([])
    vlog.set_log_file(str(tmp_path / "c.log"))
    assert commands["vlog/reopen"]([]) is None
    commands["vlog/set"](["test_alpha:file:err", "test_beta:syslog:off"])
    assert vlog.get_level("test_alpha", Destination.FILE) == Level.ERR
    assert vlog.get_level("test_beta", Destination.SYSLOG) == Level.OFF
    commands["vlog/set"]([])
    assert vlog.get_level("test_beta", Destination.SYSLOG) == Level.DBG
    # An error stops at the bad spec; earlier ones are kept, as in OVS.
    with pytest.raises(VlogError):
        commands["vlog/set"](["test_alpha:info", "bad"])
    assert vlog.get_level("test_alpha", Destination.FILE) == Level.INFO
    assert commands["vlog/list"]([]) == vlog.list_levels()
    commands["vlog/close"]([])
    assert vlog.log_file is None


def test_log_file_open_failure(vlog: Vlog, console: io.StringIO, tmp_path: Path) -> None:
    with pytest.raises(OSError):
        vlog.set_log_file(str(tmp_path / "no" / "such" / "dir.log"))
    assert "|vlog|WARN|failed to open" in console.getvalue()
    assert "No such file or directory" in console.getvalue()


def test_default_log_file(vlog: Vlog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVS_LOGDIR", str(tmp_path / "logs"))
    vlog.set_log_file(None)
    assert vlog.log_file == str(tmp_path / "logs" / "pyovs-test.log")
    assert Path(vlog.log_file).is_file()
