"""pyovs-vswitchd's control socket and database status, driven by the real tools.

No root needed: the bridge's ports are ``dummy`` devices.  The real
``ovs-vsctl`` (without ``--no-wait``: it waits for vswitchd's ``cur_cfg``)
configures, frames are injected with ``netdev-dummy/receive``, and the
real ``ovs-appctl`` reads ``fdb/show``, ``dpctl/dump-flows``,
``ofproto/trace`` and ``bridge/dump-flows`` from the pyovs daemon.  Also
checked: the status vswitchd writes back (ofport, ofport_request,
mac_in_use, link_state, datapath_id from other_config, an error for a
taken ofport_request) and a restart that finds everything again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import peers

REAL_VSCTL = shutil.which("ovs-vsctl")
REAL_APPCTL = shutil.which("ovs-appctl")
VSWITCHD = peers.VENV_BIN / "pyovs-vswitchd"

pytestmark = pytest.mark.skipif(REAL_VSCTL is None or REAL_APPCTL is None,
                                reason="real ovs-vsctl/ovs-appctl not installed")

BCAST = "ffffffffffff"


def frame(src: int, dst: str) -> str:
    return dst + f"0200000000{src:02x}" + "88b5" + "00" * 46


class Daemon:
    def __init__(self, server: peers.DbServer) -> None:
        self.server = server
        self.pid = 0

    def start(self) -> None:
        pidfile = self.server.dir / "pyovs-vswitchd.pid"
        subprocess.run([str(VSWITCHD), self.server.remote, f"--pidfile={pidfile}", "--detach",
                        "--no-chdir", f"--log-file={self.server.dir / 'vswitchd.log'}"],
                       env=self.server.env, check=True, timeout=30)
        self.pid = int(pidfile.read_text())

    def stop(self) -> None:
        if self.pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while peers.pid_alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            self.pid = 0

    def appctl(self, *args: str, check: bool = True) -> str:
        ctl = self.server.dir / f"pyovs-vswitchd.{self.pid}.ctl"
        assert REAL_APPCTL is not None
        proc = subprocess.run([REAL_APPCTL, "-t", str(ctl), *args], capture_output=True,
                              text=True, timeout=20)
        if check:
            assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def vsctl(self, *args: str) -> str:
        assert REAL_VSCTL is not None
        proc = subprocess.run([REAL_VSCTL, f"--db={self.server.remote}", "--timeout=20", *args],
                              capture_output=True, text=True, timeout=30, env=self.server.env)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout


@pytest.fixture
def vs(tmp_path: Path) -> Iterator[Daemon]:
    reason = peers.pyovs_available()
    if reason:
        pytest.skip(reason)
    with peers.DbServer("pyovs", "vswitch", tmp_dir=tmp_path) as server:
        d = Daemon(server)
        d.vsctl("--no-wait", "init")
        d.start()
        try:
            yield d
        finally:
            d.stop()


def test_status_written_back_and_tools(vs: Daemon) -> None:
    vs.vsctl("add-br", "br0", "--", "set", "bridge", "br0",
             "other_config:datapath-id=00000000000000aa")
    for i in (1, 2, 3):
        vs.vsctl("add-port", "br0", f"p{i}", "--", "set", "interface", f"p{i}", "type=dummy",
                 f"ofport_request={10 + i}")
    assert vs.vsctl("get", "interface", "p2", "ofport").strip() == "12"
    assert vs.vsctl("get", "bridge", "br0", "datapath_id").strip() == '"00000000000000aa"'
    assert vs.vsctl("get", "interface", "p1", "link_state").strip() == "up"
    assert vs.vsctl("get", "interface", "p1", "mac_in_use").strip().count(":") == 5
    # A taken ofport_request: that interface fails, the others carry on.
    vs.vsctl("add-port", "br0", "p4", "--", "set", "interface", "p4", "type=dummy",
             "ofport_request=11")
    assert vs.vsctl("get", "interface", "p4", "ofport").strip() == "-1"
    assert "in use" in vs.vsctl("get", "interface", "p4", "error")

    vs.appctl("netdev-dummy/receive", "p1", frame(1, BCAST))
    sent = vs.appctl("netdev-dummy/sent", "p2").split()
    assert sent == [frame(1, BCAST)]
    vs.appctl("netdev-dummy/receive", "p2", frame(2, "020000000001"))
    assert vs.appctl("netdev-dummy/sent", "p1").split() == [frame(2, "020000000001")]
    assert vs.appctl("netdev-dummy/sent", "p3").split() == [frame(1, BCAST)]

    fdb = vs.appctl("fdb/show", "br0").splitlines()
    assert fdb[0] == " port  VLAN  MAC                Age"
    assert {line.split()[0] for line in fdb[1:]} == {"11", "12"}
    flows = vs.appctl("dpctl/dump-flows")
    assert "eth(src=02:00:00:00:00:02,dst=02:00:00:00:00:01)" in flows
    trace = vs.appctl("ofproto/trace", "br0", "in_port=12,dl_dst=02:00:00:00:00:01")
    assert " 0. priority 0\n    NORMAL\n     -> forwarding to learned port" in trace
    assert trace.rstrip().endswith("Datapath actions: 2")
    assert "actions=NORMAL" in vs.appctl("bridge/dump-flows", "br0")
    # Interface statistics arrive within stats-update-interval (5 s at least).
    deadline = time.monotonic() + 10
    while "rx_packets=1" not in vs.vsctl("get", "interface", "p1", "statistics"):
        assert time.monotonic() < deadline, vs.vsctl("list", "interface", "p1")
        time.sleep(0.5)
    assert vs.vsctl("get", "bridge", "br0", "datapath_version").strip() == '"<built-in>"'
    err = subprocess.run([REAL_APPCTL, "-t",
                          str(vs.server.dir / f"pyovs-vswitchd.{vs.pid}.ctl"),
                          "fdb/show", "nosuchbr"], capture_output=True, text=True, timeout=20)
    assert err.returncode != 0 and "no such bridge" in err.stderr


def test_restart_recreates_everything(vs: Daemon) -> None:
    vs.vsctl("add-br", "br0", "--", "add-port", "br0", "p1", "--", "set", "interface", "p1",
             "type=dummy", "--", "add-port", "br0", "p2", "--", "set", "interface", "p2",
             "type=dummy")
    before = vs.vsctl("--columns=name,ofport", "list", "interface")
    vs.stop()
    vs.start()
    vs.vsctl("set", "bridge", "br0", "other_config:x=y")  # waits for the new daemon
    assert vs.vsctl("--columns=name,ofport", "list", "interface") == before
    vs.appctl("netdev-dummy/receive", "p1", frame(1, BCAST))
    assert vs.appctl("netdev-dummy/sent", "p2").split() == [frame(1, BCAST)]


def test_bad_control_commands_get_clear_errors(vs: Daemon) -> None:
    vs.vsctl("add-br", "br0", "--", "add-port", "br0", "p1", "--", "set", "interface", "p1",
             "type=dummy")
    ctl = str(vs.server.dir / f"pyovs-vswitchd.{vs.pid}.ctl")
    assert REAL_APPCTL is not None
    for args, text in ((["ofproto/trace", "br0", "in_port=1,nosuchfield=3"], "nosuchfield"),
                       (["netdev-dummy/receive", "p1", "zz12"], "bad hex packet"),
                       (["netdev-dummy/receive", "nosuchport", "00"], "no such dummy netdev"),
                       (["ofproto/trace", "nosuchbr", "in_port=1"], "no such bridge")):
        proc = subprocess.run([REAL_APPCTL, "-t", ctl, *args], capture_output=True, text=True,
                              timeout=20)
        assert proc.returncode != 0 and text in proc.stderr, (args, proc.stderr)
    # The daemon is still there and the bridge unchanged.
    assert "actions=NORMAL" in vs.appctl("bridge/dump-flows", "br0")
    assert vs.appctl("netdev-dummy/sent", "p1") == ""
