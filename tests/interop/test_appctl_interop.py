"""pyovs's control socket driven by the real ``ovs-appctl``, and back.

* The real ``/usr/bin/ovs-appctl`` talks to a pyovs daemon
  (``tests/toy_daemon.py``: the standard daemon start-up plus a few test
  commands), found both by name through ``OVS_RUNDIR`` and the pidfile, and by
  socket path.  Outputs, error texts and exit codes must be OVS's.
* ``pyovs-appctl`` and ``ovs-appctl`` given the same arguments must print the
  same bytes and exit the same way (program names and log time stamps aside),
  against the pyovs daemon and against the real ``ovsdb-server``.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyovs import __version__

REAL_APPCTL = Path("/usr/bin/ovs-appctl")
REAL_SERVER = Path("/usr/sbin/ovsdb-server")
REAL_TOOL = Path("/usr/bin/ovsdb-tool")
PYOVS_APPCTL = Path(sys.executable).parent / "pyovs-appctl"
TOY = Path(__file__).resolve().parents[1] / "toy_daemon.py"
VSWITCH_SCHEMA = Path(__file__).resolve().parents[2] / "src/pyovs/ovsdb/schemas/vswitch.ovsschema"

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not os.access(REAL_APPCTL, os.X_OK),
                       reason=f"real ovs-appctl not installed ({REAL_APPCTL} missing); "
                              "install openvswitch-common (make debs)"),
]


class Daemon:
    def __init__(self, pid: int, rundir: Path, name: str) -> None:
        self.pid, self.rundir, self.name = pid, rundir, name
        self.env = dict(os.environ, OVS_RUNDIR=str(rundir), OVS_LOGDIR=str(rundir),
                        OVS_DBDIR=str(rundir))

    @property
    def ctl(self) -> str:
        return str(self.rundir / f"{self.name}.{self.pid}.ctl")

    def appctl(self, *args: str, tool: Path = REAL_APPCTL) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(tool), *args], env=self.env, capture_output=True,
                              text=True, timeout=30, check=False)


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists():
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.05)


@pytest.fixture
def toy(tmp_path: Path) -> Iterator[Daemon]:
    env = dict(os.environ, OVS_RUNDIR=str(tmp_path), OVS_LOGDIR=str(tmp_path))
    result = subprocess.run([sys.executable, str(TOY), "--detach", "--pidfile", "--log-file"],
                            env=env, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    pid = int((tmp_path / "pyovs-toyd.pid").read_text())
    yield Daemon(pid, tmp_path, "pyovs-toyd")
    _stop(pid)


@pytest.fixture
def real_ovsdb(tmp_path: Path) -> Iterator[Daemon]:
    if not (os.access(REAL_SERVER, os.X_OK) and os.access(REAL_TOOL, os.X_OK)):
        pytest.skip(f"real ovsdb-server not installed ({REAL_SERVER}); install "
                    "openvswitch-switch (make debs)")
    env = dict(os.environ, OVS_RUNDIR=str(tmp_path), OVS_LOGDIR=str(tmp_path),
               OVS_DBDIR=str(tmp_path))
    db = tmp_path / "conf.db"
    subprocess.run([str(REAL_TOOL), "create", str(db), str(VSWITCH_SCHEMA)], env=env,
                   check=True, timeout=30)
    subprocess.run([str(REAL_SERVER), "--detach", "--pidfile", "--log-file", "--no-chdir",
                    f"--remote=punix:{tmp_path}/db.sock", str(db)], env=env, check=True,
                   timeout=30)
    pid = int((tmp_path / "ovsdb-server.pid").read_text())
    yield Daemon(pid, tmp_path, "ovsdb-server")
    _stop(pid)


def test_by_name_and_by_path(toy: Daemon) -> None:
    by_name = toy.appctl("-t", "pyovs-toyd", "version")
    by_path = toy.appctl("-t", toy.ctl, "version")
    for r in (by_name, by_path):
        assert (r.returncode, r.stdout, r.stderr) == (0, f"pyovs-toyd (pyovs) {__version__}\n",
                                                      "")


def test_list_commands(toy: Daemon) -> None:
    r = toy.appctl("-t", "pyovs-toyd", "list-commands")
    assert r.returncode == 0
    assert r.stdout == (
        "The available commands are:\n"
        "  exit                    \n"
        "  list-commands           \n"
        "  test/echo               ARG...\n"
        "  test/fail               \n"
        "  test/log                LEVEL TEXT\n"
        "  test/sleep              SECS\n"
        "  version                 \n"
        "  vlog/close              \n"
        "  vlog/list               \n"
        "  vlog/list-pattern       \n"
        "  vlog/reopen             \n"
        "  vlog/set                {spec | PATTERN:destination:pattern}\n")


@pytest.mark.parametrize(("args", "stderr"), [
    (["foo"], '"foo" is not a valid command (use "list-commands" to see a list of valid '
              'commands)\n'),
    (["test/echo"], '"test/echo" command requires at least 1 arguments\n'),
    (["test/echo", "1", "2", "3", "4"], '"test/echo" command takes at most 3 arguments\n'),
    (["version", "x"], '"version" command takes at most 0 arguments\n'),
    (["test/fail"], "this command always fails\n"),
    (["vlog/set", "nosuch:dbg"], 'no destination, level, or module "nosuch"\n'),
])
def test_error_replies(toy: Daemon, args: list[str], stderr: str) -> None:
    r = toy.appctl("-t", "pyovs-toyd", *args)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == stderr + "ovs-appctl: pyovs-toyd: server returned an error\n"


def test_arguments_arrive_as_strings(toy: Daemon) -> None:
    r = toy.appctl("-t", "pyovs-toyd", "test/echo", "a b", "{\"json\":1}", "\u00e9")
    assert (r.returncode, r.stdout) == (0, 'a b {"json":1} \u00e9\n')


def test_async_handler_and_timeout_option(toy: Daemon) -> None:
    r = toy.appctl("-T", "5", "-t", "pyovs-toyd", "test/sleep", "0.1")
    assert (r.returncode, r.stdout) == (0, "slept 0.1\n")


def test_vlog_list_and_set(toy: Daemon) -> None:
    r = toy.appctl("-t", "pyovs-toyd", "vlog/list")
    assert r.returncode == 0
    lines = r.stdout.splitlines(keepends=True)
    assert lines[:2] == ["                 console    syslog    file\n",
                         "                 -------    ------    ------\n"]
    assert "toy                OFF       INFO       INFO\n" in lines
    assert lines[2:] == sorted(lines[2:])

    r = toy.appctl("-t", "pyovs-toyd", "vlog/set", "toy:file:dbg", "unixctl:syslog:warn")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    table = toy.appctl("-t", "pyovs-toyd", "vlog/list").stdout
    assert "toy                OFF       INFO        DBG\n" in table
    assert "unixctl            OFF       WARN       INFO\n" in table

    toy.appctl("-t", "pyovs-toyd", "test/log", "debug", "seen in the file")
    log = (toy.rundir / "pyovs-toyd.log").read_text()
    assert re.search(r"\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\|\d{5}\|toy\|DBG\|"
                     r"seen in the file\n", log)

    r = toy.appctl("-t", "pyovs-toyd", "vlog/reopen")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_missing_target(toy: Daemon) -> None:
    r = toy.appctl("-t", "nosuch", "version")
    assert r.returncode == 1
    assert r.stderr.endswith(f'ovs-appctl: cannot read pidfile "{toy.rundir}/nosuch.pid" '
                             "(No such file or directory)\n")


# -- pyovs-appctl against the real one ------------------------------------------

def _normalise(text: str) -> str:
    text = re.sub(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|\d{5}\|[a-z_]+\|", "LOG|", text,
                  flags=re.M)
    text = re.sub(r"^/\S*/(?=\S*appctl: )", "", text, flags=re.M)  # getopt prints argv[0]
    return text.replace("pyovs-appctl", "ovs-appctl")


SAME_ARGS = [
    ["version"], ["list-commands"], ["vlog/list"], ["vlog/list-pattern"], ["foo"],
    ["version", "extra"], ["vlog/set", "bogus"], ["vlog/set", "PATTERN"],
    ["vlog/set", "FACILITY:nope"], ["vlog/set", "file:console"],
]


def _compare(daemon: Daemon, args: list[str]) -> None:
    real = daemon.appctl(*args)
    ours = daemon.appctl(*args, tool=PYOVS_APPCTL)
    assert ours.returncode == real.returncode, (ours.stderr, real.stderr)
    assert ours.stdout == real.stdout
    assert _normalise(ours.stderr) == _normalise(real.stderr)


@pytest.mark.parametrize("args", [*SAME_ARGS, ["test/echo"], ["test/fail"]])
def test_pyovs_appctl_matches_real_on_pyovs_daemon(toy: Daemon, args: list[str]) -> None:
    _compare(toy, ["-t", "pyovs-toyd", *args])


@pytest.mark.parametrize("args", [*SAME_ARGS, ["ovsdb-server/list-dbs"], ["ovsdb-server/add-db"]])
def test_pyovs_appctl_matches_real_on_real_ovsdb_server(real_ovsdb: Daemon,
                                                        args: list[str]) -> None:
    _compare(real_ovsdb, ["-t", "ovsdb-server", *args])


@pytest.mark.parametrize("args", [
    [], ["--foo"], ["-x"], ["-t"], ["--target"], ["--ver"], ["-T", "0", "version"],
    ["-t", "a", "-t", "b", "version"], ["-e", "-e", "version"], ["--help=x"],
    ["-t", "/nonexistent/x.ctl", "version"], ["-t", "nosuch", "version"],
])
def test_pyovs_appctl_matches_real_command_line_errors(toy: Daemon, args: list[str]) -> None:
    _compare(toy, args)


def test_pyovs_appctl_help_and_options_lists(toy: Daemon) -> None:
    real = toy.appctl("-o").stdout.splitlines()
    ours = toy.appctl("-o", tool=PYOVS_APPCTL).stdout.splitlines()
    assert ours[:len(real)] == real  # pyovs adds --format at the end
    assert toy.appctl("--help", tool=PYOVS_APPCTL).stdout.startswith(
        "pyovs-appctl, for querying and controlling Open vSwitch daemon\n")
