"""The Open vSwitch namespace tutorial, configured with pyovs-vsctl.

Two hosts (network namespaces ``a`` and ``b``) are cabled with veth pairs to
a third namespace where the real ``ovs-vswitchd`` (Debian package, userspace
``netdev`` datapath) runs against ``pyovsdb-server``.  pyovs-vsctl creates
the bridge and its ports *without* ``--no-wait``, so each command waits for
the real vswitchd to report ``cur_cfg``; then ``a`` must ping ``b`` through
the switch, and ``pyovs-vsctl show`` must print exactly what ``ovs-vsctl
show`` prints for the same database.

The switch gets a namespace of its own because two netdev vswitchds cannot
share one (both create the ``ovs-netdev`` tap device, see REAL-OVS.md).
Names carry a per-test token; everything started is stopped by pid, and the
namespaces are deleted, even when the test fails.  Needs root and the real
Open vSwitch; skipped otherwise.  The ping is a few lines of raw-socket ICMP
run inside the namespace, so ``iputils-ping`` is not needed.
"""

from __future__ import annotations

import contextlib
import os
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
REAL_VSCTL = Path("/usr/bin/ovs-vsctl")
PYOVS_VSCTL = peers.VENV_BIN / "pyovs-vsctl"

PING = r"""
import os, socket, struct, sys, time
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack(f"!{len(b)//2}H", b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
dst, deadline = sys.argv[1], time.time() + float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(0.5)
ident, seq = os.getpid() & 0xffff, 0
while time.time() < deadline:
    seq += 1
    body = struct.pack("!HH", ident, seq) + b"pyovs-vsctl tutorial"
    s.sendto(struct.pack("!BBH", 8, 0, csum(b"\x08\0\0\0" + body)) + body, (dst, 0))
    try:
        while True:
            data, (src, _) = s.recvfrom(2048)
            icmp = data[(data[0] & 0xf) * 4:]
            if src == dst and icmp[0] == 0 and icmp[4:8] == struct.pack("!HH", ident, seq):
                print(f"reply from {src} seq {seq}"); sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)
"""


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    for path in (VSWITCHD, REAL_VSCTL):
        if not os.access(path, os.X_OK):
            return f"{path} not installed (Debian openvswitch-switch)"
    return peers.pyovs_available()


def sh(*argv: str, check: bool = True, timeout: float = 30,
       env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr}")
    return proc


@contextlib.contextmanager
def namespaces(*names: str) -> Iterator[None]:
    created: list[str] = []
    try:
        for name in names:
            sh("ip", "netns", "add", name)
            created.append(name)
            sh("ip", "-n", name, "link", "set", "lo", "up")
        yield
    finally:
        for name in created:
            sh("ip", "netns", "del", name, check=False)


def veth(host_ns: str, host_if: str, switch_ns: str, switch_if: str, address: str) -> None:
    sh("ip", "link", "add", host_if, "netns", host_ns, "type", "veth", "peer", "name",
       switch_if, "netns", switch_ns)
    for ns, ifname in ((host_ns, host_if), (switch_ns, switch_if)):
        sh("ip", "netns", "exec", ns, "sysctl", "-qw",
           f"net.ipv6.conf.{ifname}.disable_ipv6=1", check=False)
        sh("ip", "-n", ns, "link", "set", ifname, "up")
    sh("ip", "-n", host_ns, "addr", "add", address, "dev", host_if)


@contextlib.contextmanager
def vswitchd(server: peers.DbServer, netns: str) -> Iterator[int]:
    pidfile = server.dir / "vswitchd.pid"
    pid: int | None = None
    try:
        sh("ip", "netns", "exec", netns, str(VSWITCHD), server.remote,
           f"--pidfile={pidfile}", "--detach", f"--log-file={server.dir / 'vswitchd.log'}",
           "--no-chdir", env=server.env)
        pid = int(pidfile.read_text().strip())
        yield pid
    finally:
        if pid is None and pidfile.exists():
            with contextlib.suppress(ValueError, OSError):
                pid = int(pidfile.read_text().strip())
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while peers.pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def test_namespace_tutorial_with_real_vswitchd(tmp_path: Path) -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    token = secrets.token_hex(3)
    ns_a, ns_b, ns_sw = f"pv{token}a", f"pv{token}b", f"pv{token}s"
    with peers.DbServer("pyovs", "vswitch", tmp_dir=tmp_path) as server, \
            namespaces(ns_a, ns_b, ns_sw):
        def vsctl(*args: str, tool: Path = PYOVS_VSCTL) -> str:
            proc = sh(str(tool), f"--db={server.remote}", "--timeout=30", *args,
                      env=server.env, timeout=40)
            assert proc.stderr == "", proc.stderr
            return proc.stdout

        vsctl("--no-wait", "init")
        veth(ns_a, f"a{token}", ns_sw, f"sa{token}", "10.77.0.1/24")
        veth(ns_b, f"b{token}", ns_sw, f"sb{token}", "10.77.0.2/24")
        with vswitchd(server, ns_sw):
            # No --no-wait: each command waits until vswitchd has applied it.
            vsctl("add-br", "br0", "--", "set", "Bridge", "br0", "datapath_type=netdev")
            vsctl("add-port", "br0", f"sa{token}")
            vsctl("add-port", "br0", f"sb{token}")
            assert vsctl("list-ports", "br0") == f"sa{token}\nsb{token}\n"
            ofports = vsctl("--bare", "--columns=ofport", "find", "Interface",
                            f"name=sa{token}")
            assert int(ofports) > 0
            ping = sh("ip", "netns", "exec", ns_a, sys.executable, "-c", PING, "10.77.0.2",
                      "15", check=False, timeout=30)
            assert ping.returncode == 0, f"no ping reply through br0\n{ping.stdout}"
            shown = vsctl("show")
            assert shown == vsctl("show", tool=REAL_VSCTL)
            assert f'Port sa{token}' in shown and 'datapath_type: netdev' in shown
            vsctl("del-port", "br0", f"sb{token}")
            assert vsctl("list-ports", "br0") == f"sa{token}\n"
            assert vsctl("show") == vsctl("show", tool=REAL_VSCTL)
