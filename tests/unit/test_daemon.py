"""Daemon options, the pidfile protocol, --detach and shutdown (pyovs.daemon).

The process-level behaviour is tested on ``tests/toy_daemon.py``, a minimal
daemon with the same start-up sequence as the real ones.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyovs.daemon import (
    DaemonError,
    DaemonOptions,
    Pidfile,
    add_daemon_args,
    normalize_argv,
    read_pidfile,
)
from pyovs.unixctl import resolve_target, unixctl_call

TOY = Path(__file__).resolve().parents[1] / "toy_daemon.py"


# -- options ------------------------------------------------------------------------

def parse(argv: list[str]) -> tuple[DaemonOptions, argparse.Namespace]:
    parser = argparse.ArgumentParser()
    parser.add_argument("databases", nargs="*")
    add_daemon_args(parser)
    ns = parser.parse_args(normalize_argv(argv))
    return DaemonOptions.from_namespace(ns), ns


def test_optional_arguments_behave_like_getopt() -> None:
    opts, ns = parse(["--log-file", "-v", "--pidfile", "db.db", "other.db"])
    assert ns.databases == ["db.db", "other.db"]
    assert (opts.pidfile, opts.log_file, opts.verbose) == ("", "", [""])


def test_attached_values() -> None:
    opts, ns = parse(["--pidfile=/run/x.pid", "--log-file=/l/x.log", "-vjsonrpc:file:dbg",
                      "--verbose=console:off", "--unixctl=ctl", "--detach", "--no-chdir",
                      "--monitor", "--overwrite-pidfile", "db"])
    assert opts == DaemonOptions(pidfile="/run/x.pid", detach=True, no_chdir=True,
                                 overwrite_pidfile=True, monitor=True, unixctl="ctl",
                                 verbose=["jsonrpc:file:dbg", "console:off"],
                                 log_file="/l/x.log")
    assert ns.databases == ["db"]


def test_defaults_and_double_dash() -> None:
    opts, ns = parse(["--", "--pidfile"])
    assert opts == DaemonOptions()
    assert ns.databases == ["--pidfile"]


# -- pidfiles -----------------------------------------------------------------------

def _py(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, timeout=30, check=False)


READ = "import sys; from pyovs.daemon import read_pidfile; print(read_pidfile(sys.argv[1]))"
CREATE = ("import sys; from pyovs.daemon import Pidfile, DaemonError\n"
          "try:\n    Pidfile(sys.argv[1]).create()\n"
          "except DaemonError as e:\n    print(e)\n")


def test_pidfile_is_written_locked_and_removed(tmp_path: Path) -> None:
    path = tmp_path / "d.pid"
    pidfile = Pidfile(str(path))
    pidfile.create()
    try:
        # Read it from another process: closing any fd of the file in this
        # process would release our lock (fcntl semantics).
        assert _py(f"print(open({str(path)!r}).read(), end='')").stdout == f"{os.getpid()}\n"
        assert not (tmp_path / "d.pid.tmp").exists()
        # Another process sees our lock and believes the pid.
        assert _py(READ, str(path)).stdout.strip() == str(os.getpid())
        # And a second daemon refuses to start, with OVS's message.
        assert _py(CREATE, str(path)).stdout.strip() == \
            f"{path}: already running as pid {os.getpid()}, aborting"
        # In this process the file is recognised without reopening it.
        assert read_pidfile(str(path)) == os.getpid()
    finally:
        pidfile.remove()
    assert not path.exists()


def test_stale_pidfile(tmp_path: Path) -> None:
    path = tmp_path / "s.pid"
    path.write_text("999999\n")
    with pytest.raises(OSError) as e:
        read_pidfile(str(path))
    assert e.value.errno == errno.ESRCH
    assert read_pidfile(str(path), delete_if_stale=True) == 0
    assert not path.exists()
    assert read_pidfile(str(path), delete_if_stale=True) == 0  # missing is fine too
    with pytest.raises(FileNotFoundError):
        read_pidfile(str(path))
    # A new daemon simply replaces a stale file.
    path.write_text("999999\n")
    pidfile = Pidfile(str(path))
    pidfile.create()
    assert path.read_text() == f"{os.getpid()}\n"
    pidfile.remove()


def test_overwrite_pidfile(tmp_path: Path) -> None:
    path = tmp_path / "o.pid"
    first = Pidfile(str(path))
    first.create()
    second = Pidfile(str(path), overwrite=True)
    second.create()
    assert path.read_text() == f"{os.getpid()}\n"
    first.remove()  # no longer ours: left alone
    assert path.exists()
    second.remove()
    assert not path.exists()


def test_pidfile_errors(tmp_path: Path) -> None:
    with pytest.raises(DaemonError, match=r"no/such/x\.pid\.tmp: create failed"):
        Pidfile(str(tmp_path / "no" / "such" / "x.pid")).create()


# -- whole daemons --------------------------------------------------------------------

@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = dict(os.environ)
    e.update(OVS_RUNDIR=str(tmp_path), OVS_LOGDIR=str(tmp_path), OVS_DBDIR=str(tmp_path))
    return e


def _dead(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _wait_dead(pid: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not _dead(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            pytest.fail(f"pid {pid} did not exit")
        time.sleep(0.05)


def _toy(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOY), *args], env=env, capture_output=True,
                          text=True, timeout=30, check=False)


@pytest.fixture
def detached(env: dict[str, str], tmp_path: Path) -> Iterator[int]:
    result = _toy(env, "--detach", "--pidfile", "--log-file")
    assert result.returncode == 0, result.stderr
    pid = int((tmp_path / "pyovs-toyd.pid").read_text())
    yield pid
    if not _dead(pid):
        os.kill(pid, signal.SIGKILL)
        _wait_dead(pid)


def test_detach_runs_in_background_until_sigterm(detached: int, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pid = detached
    monkeypatch.setenv("OVS_RUNDIR", str(tmp_path))
    ctl = tmp_path / f"pyovs-toyd.{pid}.ctl"
    assert ctl.is_socket()  # ready before the launcher exited
    assert resolve_target("pyovs-toyd") == str(ctl)
    assert unixctl_call(str(ctl), "test/echo", ["a", "b"]) == (True, "a b\n")
    assert os.readlink(f"/proc/{pid}/cwd") == "/"  # no --no-chdir
    assert os.getsid(pid) == pid
    os.kill(pid, signal.SIGTERM)
    _wait_dead(pid)
    assert not ctl.exists()
    assert not (tmp_path / "pyovs-toyd.pid").exists()
    log = (tmp_path / "pyovs-toyd.log").read_text()
    assert "|toy|INFO|pyovs-toyd started" in log
    assert "|daemon|WARN|terminating with signal 15 (Terminated)" in log


def test_second_daemon_refuses(detached: int, env: dict[str, str], tmp_path: Path) -> None:
    result = _toy(env, "--detach", "--pidfile")
    assert result.returncode == 1
    assert (f"|daemon|EMER|{tmp_path}/pyovs-toyd.pid: already running as pid {detached}, "
            "aborting") in result.stderr


def test_exit_command_and_vlog_over_socket(detached: int, tmp_path: Path) -> None:
    ctl = str(tmp_path / f"pyovs-toyd.{detached}.ctl")
    assert unixctl_call(ctl, "vlog/set", ["toy:file:dbg"]) == (True, "")
    ok, table = unixctl_call(ctl, "vlog/list", [])
    assert ok
    assert "toy                OFF       INFO        DBG\n" in table  # console off: detached
    unixctl_call(ctl, "test/log", ["debug", "a debug line"])
    assert unixctl_call(ctl, "exit", []) == (True, "")
    _wait_dead(detached)
    assert "|toy|DBG|a debug line" in (tmp_path / "pyovs-toyd.log").read_text()
    assert not (tmp_path / "pyovs-toyd.pid").exists()


def test_child_failure_is_reported_by_the_launcher(env: dict[str, str],
                                                   tmp_path: Path) -> None:
    result = _toy(env, "--detach", "--pidfile", "--fail-before-ready")
    assert result.returncode == 1
    assert "|daemon|EMER|failing on purpose before ready" in result.stderr
    assert not (tmp_path / "pyovs-toyd.pid").exists()


def test_foreground_sigint_and_no_chdir(env: dict[str, str], tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, str(TOY), "--pidfile=toy.pid", "--no-chdir",
                             "--unixctl=toy.ctl", "-vconsole:info"], env=env, cwd=tmp_path,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / "toy.ctl").exists():
            assert time.monotonic() < deadline, "daemon did not start"
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
        assert (tmp_path / "toy.pid").read_text() == f"{proc.pid}\n"
        assert os.readlink(f"/proc/{proc.pid}/cwd") == str(tmp_path)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "|toy|INFO|pyovs-toyd started" in err
    assert "terminating with signal 2 (Interrupt)" in err
    assert not (tmp_path / "toy.pid").exists()
    assert not (tmp_path / "toy.ctl").exists()


def test_bad_verbose_spec(env: dict[str, str]) -> None:
    result = _toy(env, "-vbogus")
    assert result.returncode == 1
    assert result.stderr == \
        'pyovs-toyd: processing "bogus": no destination, level, or module "bogus"\n'


def test_unwritable_log_file(env: dict[str, str], tmp_path: Path) -> None:
    result = _toy(env, f"--log-file={tmp_path}/missing/dir/x.log")
    assert result.returncode == 1
    assert "|vlog|WARN|failed to open" in result.stderr


def test_concurrent_creator_keeps_its_tmp_file(tmp_path: Path) -> None:
    path = tmp_path / "c.pid"
    hold = ("import fcntl, sys, time\nf = open(sys.argv[1], 'a+')\n"
            "fcntl.lockf(f.fileno(), fcntl.LOCK_EX)\nprint('locked', flush=True)\n"
            "time.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-c", hold, f"{path}.tmp"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "locked\n"
        with pytest.raises(DaemonError, match=r"c\.pid\.tmp: fcntl\(F_SETLK\) failed"):
            Pidfile(str(path)).create()
        assert Path(f"{path}.tmp").exists()
    finally:
        proc.kill()
        proc.wait()
