"""pyovs-appctl's command line, output and exit codes (pyovs.cli.appctl).

The byte-for-byte comparison with the real ovs-appctl is in
tests/interop/test_appctl_interop.py; these tests need no OVS installed.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyovs import __version__
from pyovs.cli.appctl import run
from pyovs.unixctl import UnixctlError, UnixctlServer


def _fail(args: list[str]) -> str:
    raise UnixctlError("nope")


@pytest.fixture
def ctl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("OVS_RUNDIR", str(tmp_path))
    monkeypatch.delenv("OVS_CTL_TIMEOUT", raising=False)
    server = UnixctlServer("pyovs-unit", str(tmp_path / "unit.ctl"))
    server.register("echo", "ARG...", 0, 2, lambda args: "|".join(args))
    server.register("fail", "", 0, 0, _fail)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    yield str(tmp_path / "unit.ctl")
    asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_success(ctl: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["-t", ctl, "echo", "a", "b c"]) == 0
    assert capsys.readouterr() == ("a|b c\n", "")
    assert run(["--target=" + ctl, "--", "version"]) == 0
    assert capsys.readouterr().out == f"pyovs-unit (pyovs) {__version__}\n"


def test_options_stop_at_the_command(ctl: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["-t", ctl, "echo", "-t", "--x"]) == 0
    assert capsys.readouterr().out == "-t|--x\n"


def test_error_reply_exits_2(ctl: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["-t", ctl, "fail"]) == 2
    assert capsys.readouterr() == ("", f"nope\npyovs-appctl: {ctl}: server returned an error\n")
    assert run(["-t", ctl, "echo", "1", "2", "3"]) == 2
    assert '"echo" command takes at most 2 arguments' in capsys.readouterr().err


def test_target_by_name(tmp_path: Path, ctl: str, capsys: pytest.CaptureFixture[str]) -> None:
    from pyovs.daemon import Pidfile
    pidfile = Pidfile(str(tmp_path / "pyovs-unit.pid"))
    pidfile.create()
    os.symlink(ctl, tmp_path / f"pyovs-unit.{os.getpid()}.ctl")
    try:
        assert run(["-t", "pyovs-unit", "echo", "by-name"]) == 0
        assert capsys.readouterr().out == "by-name\n"
    finally:
        pidfile.remove()


@pytest.mark.parametrize(("argv", "message"), [
    ([], "pyovs-appctl: at least one non-option argument is required (use --help for help)"),
    (["--nope"], "pyovs-appctl: unrecognized option '--nope'"),
    (["-q"], "pyovs-appctl: invalid option -- 'q'"),
    (["-t"], "pyovs-appctl: option requires an argument -- 't'"),
    (["--timeout"], "pyovs-appctl: option '--timeout' requires an argument"),
    (["--t=x", "v"], "pyovs-appctl: option '--t=x' is ambiguous; possibilities: '--target' "
                     "'--timeout'"),
    (["-T", "x", "v"], "pyovs-appctl: value x on -T or --timeout is invalid"),
    (["-t", "a", "--target=b", "v"], "pyovs-appctl: -t or --target may be specified only once"),
    (["--format=json", "v"], "pyovs-appctl: --format=json is not supported by pyovs"),
    (["-vbogus", "v"], 'pyovs-appctl: processing "bogus": no destination, level, or module'),
])
def test_command_line_errors(argv: list[str], message: str,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert run(argv) == 1
    assert capsys.readouterr().err.startswith(message)


def test_unreachable_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OVS_RUNDIR", str(tmp_path))
    assert run(["-t", "ghost", "version"]) == 1
    assert capsys.readouterr().err.endswith(
        f'pyovs-appctl: cannot read pidfile "{tmp_path}/ghost.pid" '
        "(No such file or directory)\n")
    assert run(["-t", str(tmp_path / "none.ctl"), "version"]) == 1
    err = capsys.readouterr().err
    assert "|unixctl|WARN|failed to connect to" in err
    assert err.endswith(f'pyovs-appctl: cannot connect to "{tmp_path}/none.ctl" '
                        "(No such file or directory)\n")


def test_version_help_and_format_text(ctl: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["-V"]) == 0
    assert capsys.readouterr().out == f"pyovs-appctl (pyovs) {__version__}\n"
    assert run(["--help"]) == 0
    assert "usage: pyovs-appctl [TARGET] COMMAND [ARG...]" in capsys.readouterr().out
    assert run(["--format", "text", "-t", ctl, "echo"]) == 0


def test_timeout_kills_with_sigalrm(tmp_path: Path) -> None:
    path = tmp_path / "mute.ctl"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen()  # accepts into the backlog, never answers
        result = subprocess.run(
            [sys.executable, "-m", "pyovs.cli.appctl", "-T", "1", "-t", str(path), "version"],
            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == -14
    assert result.stderr.endswith("|fatal_signal|WARN|terminating with signal 14 "
                                  "(Alarm clock)\n")
