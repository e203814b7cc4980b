"""pyovs-ofctl and the real ovs-ofctl driving the same real ovs-vswitchd bridge.

pyovsdb-server holds the configuration; the real ``ovs-vswitchd`` (userspace
``netdev`` datapath, in a network namespace of its own because two netdev
vswitchds cannot share one) serves bridge ``br0`` on
``$OVS_RUNDIR/br0.mgmt``.  Each command runs through both tools by bridge
name, in OpenFlow 1.0, 1.3 and 1.5: the printed output (durations masked) and the
exit status must be the same, and flows added by one are seen by the other.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import peers

pytestmark = [pytest.mark.root, pytest.mark.interop]

VSWITCHD = Path("/usr/sbin/ovs-vswitchd")
REAL_OFCTL = Path("/usr/bin/ovs-ofctl")
PYOVS_OFCTL = peers.VENV_BIN / "pyovs-ofctl"
PYOVS_VSCTL = peers.VENV_BIN / "pyovs-vsctl"
_VARYING = re.compile(r"(duration=|idle_age=|hard_age=)[0-9.]+s?")


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespace for the netdev datapath)"
    for path in (VSWITCHD, REAL_OFCTL):
        if not os.access(path, os.X_OK):
            return f"{path} not installed (Debian openvswitch-switch)"
    return peers.pyovs_available()


def _sh(*argv: str, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=40, env=env,
                          check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr}")
    return proc


@contextlib.contextmanager
def _switch(tmp_path: Path) -> Iterator[dict[str, str]]:
    ns = f"pof{secrets.token_hex(3)}"
    pid: int | None = None
    with peers.DbServer("pyovs", "vswitch", tmp_dir=tmp_path) as server:
        pidfile = server.dir / "vswitchd.pid"
        _sh("ip", "netns", "add", ns)
        try:
            vsctl = [str(PYOVS_VSCTL), f"--db={server.remote}", "--timeout=30"]
            _sh(*vsctl, "--no-wait", "init", env=server.env)
            _sh("ip", "netns", "exec", ns, str(VSWITCHD), server.remote,
                f"--pidfile={pidfile}", "--detach", "--no-chdir",
                f"--log-file={server.dir / 'vswitchd.log'}", env=server.env)
            pid = int(pidfile.read_text().strip())
            _sh(*vsctl, "add-br", "br0", "--", "set", "Bridge", "br0",
                "datapath_type=netdev", "other_config:datapath-id=0000000000000042",
                env=server.env)
            yield server.env
        finally:
            if pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + 5
                while peers.pid_alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.05)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            _sh("ip", "netns", "del", ns, check=False)


def _run(tool: Path, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    p = _sh(str(tool), *args, env=env, check=False)
    err = re.sub(r"^(\S*/)?(py)?ovs-ofctl:", "PROG:", p.stderr, flags=re.M)
    return p.returncode, _VARYING.sub(r"\1X", p.stdout), err


def test_commands_match_real_ovs_ofctl(tmp_path: Path) -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    with _switch(tmp_path) as env:
        def same(*args: str) -> str:
            ours = _run(PYOVS_OFCTL, env, *args)
            theirs = _run(REAL_OFCTL, env, *args)
            assert ours == theirs, (ours[1] + ours[2], theirs[1] + theirs[2])
            return ours[1]

        for proto in ("OpenFlow10", "OpenFlow13", "OpenFlow15"):
            o = ("-O", proto)
            assert "dpid:0000000000000042" in same(*o, "show", "br0")
            same(*o, "del-flows", "br0")
            _run(PYOVS_OFCTL, env, *o, "add-flow", "br0",
                 "priority=5,tcp,tp_dst=80,actions=output:1")
            _run(REAL_OFCTL, env, *o, "add-flow", "br0", "ip,nw_src=10.0.0.1,actions=drop")
            text = same(*o, "dump-flows", "br0")
            assert "tp_dst=80" in text and "nw_src=10.0.0.1" in text
            same(*o, "--no-stats", "dump-flows", "br0")
            same(*o, "dump-flows", "br0", "tcp")
            same(*o, "del-flows", "br0", "tcp")
            assert "tp_dst=80" not in same(*o, "dump-flows", "br0")
            same(*o, "add-flow", "br0", "actions=bogus")
            same(*o, "dump-flows", "nosuch")
        same("-O", "OpenFlow10", "-F", "nxm", "dump-flows", "br0")
        same("-O", "OpenFlow10", "add-flow", "br0", "reg0=5,actions=drop")
        same("-O", "OpenFlow10", "dump-flows", "br0")
