"""pyovs-vswitchd end to end: the namespace tutorial with real traffic.

Hosts are network namespaces cabled with veth pairs to a switch namespace
where ``pyovsdb-server`` and ``pyovs-vswitchd`` run.  The bridges are
configured with the *real* ``ovs-vsctl`` when it is installed (else
pyovs-vsctl), without ``--no-wait``, so every command also proves that
vswitchd reports ``cur_cfg``.  Checked: ping and iperf3 (TCP with the
kernel's default offloads, and UDP) across a bridge; VLAN access ports
isolate; two bridges joined by patch ports; a restart of vswitchd keeps
forwarding; secure fail mode forwards nothing without flows; a missing
device shows up in ``Interface.error`` while the rest works; the real
``ovs-ofctl`` reads the bridge.

Needs root; names carry a per-test token and everything is removed by pid
and name, even on failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_vsctl_namespaces import PING, namespaces, sh, veth

import peers

pytestmark = [pytest.mark.root]

PYOVS_VSWITCHD = peers.VENV_BIN / "pyovs-vswitchd"
VSCTL = Path("/usr/bin/ovs-vsctl") if Path("/usr/bin/ovs-vsctl").exists() \
    else peers.VENV_BIN / "pyovs-vsctl"
REAL_OFCTL = shutil.which("ovs-ofctl")
IPERF3 = shutil.which("iperf3")


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth, AF_PACKET)"
    return peers.pyovs_available()


class Stack:
    """pyovsdb-server + pyovs-vswitchd in the switch namespace."""

    def __init__(self, server: peers.DbServer, netns: str) -> None:
        self.server = server
        self.netns = netns
        self.pid: int | None = None

    def vsctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return sh(str(VSCTL), f"--db={self.server.remote}", "--timeout=30", *args,
                  env=self.server.env, timeout=40, check=check)

    def start(self) -> None:
        pidfile = self.server.dir / "pyovs-vswitchd.pid"
        sh("ip", "netns", "exec", self.netns, str(PYOVS_VSWITCHD), self.server.remote,
           f"--pidfile={pidfile}", "--detach", "--no-chdir",
           f"--log-file={self.server.dir / 'pyovs-vswitchd.log'}", env=self.server.env)
        self.pid = int(pidfile.read_text().strip())

    def stop(self) -> None:
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while peers.pid_alive(self.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.pid = None

    def appctl(self, *args: str) -> str:
        assert self.pid is not None
        ctl = self.server.dir / f"pyovs-vswitchd.{self.pid}.ctl"
        proc = sh(str(peers.VENV_BIN / "pyovs-appctl"), "-t", str(ctl), *args,
                  env=self.server.env)
        return proc.stdout


@contextlib.contextmanager
def stack(tmp_path: Path, netns: str) -> Iterator[Stack]:
    with peers.DbServer("pyovs", "vswitch", tmp_dir=tmp_path) as server:
        st = Stack(server, netns)
        st.vsctl("--no-wait", "init")
        try:
            st.start()
            yield st
        finally:
            st.stop()


def ping(ns: str, dst: str, seconds: float = 10) -> bool:
    proc = sh("ip", "netns", "exec", ns, sys.executable, "-c", PING, dst, str(seconds),
              check=False, timeout=seconds + 15)
    return proc.returncode == 0


@pytest.fixture
def token() -> str:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    return secrets.token_hex(3)


def test_tutorial_ping_iperf_and_tools(tmp_path: Path, token: str) -> None:
    ns_a, ns_b, ns_sw = f"pw{token}a", f"pw{token}b", f"pw{token}s"
    with namespaces(ns_a, ns_b, ns_sw), stack(tmp_path, ns_sw) as st:
        veth(ns_a, f"a{token}", ns_sw, f"sa{token}", "10.78.0.1/24")
        veth(ns_b, f"b{token}", ns_sw, f"sb{token}", "10.78.0.2/24")
        st.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
        st.vsctl("add-port", "br0", f"sa{token}")
        st.vsctl("add-port", "br0", f"sb{token}")
        assert int(st.vsctl("get", "interface", f"sa{token}", "ofport").stdout) > 0
        assert ping(ns_a, "10.78.0.2"), "no ping reply through br0"
        fdb = st.appctl("fdb/show", "br0")
        assert fdb.startswith(" port  VLAN  MAC") and len(fdb.splitlines()) >= 3
        assert "in_port(" in st.appctl("dpctl/dump-flows")
        if REAL_OFCTL:
            env = dict(st.server.env)
            out = sh("ip", "netns", "exec", ns_sw, REAL_OFCTL, "dump-flows", "br0",
                     env=env).stdout
            assert "actions=NORMAL" in out and "n_packets=0," not in out
            out = sh("ip", "netns", "exec", ns_sw, REAL_OFCTL, "-O", "OpenFlow13", "show",
                     "br0", env=env).stdout
            assert f"(sa{token})" in out
        if IPERF3:
            server = subprocess.Popen(["ip", "netns", "exec", ns_b, IPERF3, "-s", "-1"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                time.sleep(0.5)
                tcp = sh("ip", "netns", "exec", ns_a, IPERF3, "-c", "10.78.0.2", "-t", "2",
                         "-J", timeout=30, check=False)
            finally:
                server.kill()
                server.wait()
            assert tcp.returncode == 0, tcp.stdout[-500:] + tcp.stderr
            bps = json.loads(tcp.stdout)["end"]["sum_received"]["bits_per_second"]
            print(f"iperf3 TCP through pyovs: {bps / 1e9:.2f} Gbit/s")
            assert bps > 50e6
            server = subprocess.Popen(["ip", "netns", "exec", ns_b, IPERF3, "-s", "-1"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                time.sleep(0.5)
                udp = sh("ip", "netns", "exec", ns_a, IPERF3, "-c", "10.78.0.2", "-u", "-t",
                         "2", "-b", "50M", "-J", timeout=30, check=False)
            finally:
                server.kill()
                server.wait()
            assert udp.returncode == 0, udp.stdout[-500:] + udp.stderr
            summary = json.loads(udp.stdout)["end"]["sum"]
            print(f"iperf3 UDP through pyovs: {summary['lost_percent']:.1f}% lost")
            assert summary["lost_percent"] < 50


def test_vlan_access_ports_isolate(tmp_path: Path, token: str) -> None:
    ns = [f"pw{token}{c}" for c in "abcs"]
    with namespaces(*ns), stack(tmp_path, ns[3]) as st:
        st.vsctl("add-br", "br0")
        for i, (host, tag) in enumerate(zip(ns[:3], (10, 10, 20), strict=True)):
            veth(host, f"h{i}{token}", ns[3], f"s{i}{token}", f"10.79.0.{i + 1}/24")
            st.vsctl("add-port", "br0", f"s{i}{token}", f"tag={tag}")
        assert ping(ns[0], "10.79.0.2"), "same VLAN must forward"
        assert not ping(ns[0], "10.79.0.3", 3), "different VLANs must be isolated"


# A host on a trunk that speaks only VLAN 10, for kernels without 8021q: it
# answers ARP and ICMP echo for its address, reading the tag the kernel put in
# packet metadata (PACKET_AUXDATA) and sending tagged frames; it prints how
# many tagged requests it answered.
VLAN_HOST = r"""
import socket, struct, sys, time
ifname, my_ip = sys.argv[1], socket.inet_aton(sys.argv[2])
vid, seconds = int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((ifname, 0))
s.setsockopt(263, 8, 1)  # SOL_PACKET, PACKET_AUXDATA
s.settimeout(0.2)
mac = s.getsockname()[4]
def csum(b):
    if len(b) % 2: b += b"\0"
    t = sum(struct.unpack(f"!{len(b)//2}H", b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
answered, deadline = 0, time.time() + seconds
while time.time() < deadline:
    try:
        data, anc, _, addr = s.recvmsg(4096, 64)
    except socket.timeout:
        continue
    if addr[2] == 4:  # our own transmission
        continue
    tci = None
    for level, kind, val in anc:
        if level == 263 and kind == 8:
            status, _, _, _, _, tci_, _ = struct.unpack_from("IIIHHHH", val)
            tci = tci_ if status & 0x10 else None
    if data[12:14] == b"\x81\x00":
        tci, data = struct.unpack("!H", data[14:16])[0], data[:12] + data[16:]
    if tci is None or tci & 0xfff != vid:
        continue
    src, etype = data[6:12], data[12:14]
    tag = struct.pack("!HH", 0x8100, vid)
    if etype == b"\x08\x06" and data[20:22] == b"\x00\x01" and data[38:42] == my_ip:
        arp = data[14:20] + b"\x00\x02" + mac + my_ip + data[22:28] + data[28:32]
        s.send(src + mac + tag + b"\x08\x06" + arp + b"\0" * 18)
        answered += 1
    elif etype == b"\x08\x00" and data[30:34] == my_ip and data[23] == 1 and data[34] == 8:
        ihl = (data[14] & 15) * 4
        ip = bytearray(data[14:14 + ihl]); ip[12:16], ip[16:20] = data[30:34], data[26:30]
        ip[10:12] = b"\0\0"; ip[10:12] = struct.pack("!H", csum(bytes(ip)))
        tot = struct.unpack("!H", data[16:18])[0]
        icmp = bytearray(data[14 + ihl:14 + tot]); icmp[0] = 0; icmp[2:4] = b"\0\0"
        icmp[2:4] = struct.pack("!H", csum(bytes(icmp)))
        s.send(src + mac + tag + b"\x08\x00" + bytes(ip) + bytes(icmp))
        answered += 1
print(answered)
"""


def test_trunk_carries_tags(tmp_path: Path, token: str) -> None:
    """An access port (VLAN 10) and a trunk whose host speaks VLAN 10.

    The kernel hands tagged frames to AF_PACKET with the tag in packet
    metadata: the switch must restore it (the trunk's ingress) and tag what
    it sends to the trunk (the host only answers tagged requests).
    """
    ns_a, ns_t, ns_sw = f"pw{token}a", f"pw{token}t", f"pw{token}s"
    with namespaces(ns_a, ns_t, ns_sw), stack(tmp_path, ns_sw) as st:
        veth(ns_a, f"a{token}", ns_sw, f"sa{token}", "10.82.0.1/24")
        veth(ns_t, f"t{token}", ns_sw, f"st{token}", "10.82.9.9/32")
        st.vsctl("add-br", "br0")
        st.vsctl("add-port", "br0", f"sa{token}", "tag=10")
        st.vsctl("add-port", "br0", f"st{token}", "trunks=10,20")
        host = subprocess.Popen(["ip", "netns", "exec", ns_t, sys.executable, "-c", VLAN_HOST,
                                 f"t{token}", "10.82.0.2", "10", "12"],
                                stdout=subprocess.PIPE, text=True)
        try:
            time.sleep(0.5)
            assert ping(ns_a, "10.82.0.2"), "no ping between the access port and the trunk"
        finally:
            host.kill()
            host.communicate()
        fdb = st.appctl("fdb/show", "br0")
        assert all(line.split()[1] == "10" for line in fdb.splitlines()[1:]), fdb


def test_patch_ports_join_bridges_and_restart_keeps_them(tmp_path: Path, token: str) -> None:
    ns_a, ns_b, ns_sw = f"pw{token}a", f"pw{token}b", f"pw{token}s"
    with namespaces(ns_a, ns_b, ns_sw), stack(tmp_path, ns_sw) as st:
        veth(ns_a, f"a{token}", ns_sw, f"sa{token}", "10.80.0.1/24")
        veth(ns_b, f"b{token}", ns_sw, f"sb{token}", "10.80.0.2/24")
        st.vsctl("add-br", "br-int", "--", "add-br", "br-ex")
        st.vsctl("add-port", "br-int", f"sa{token}", "--", "add-port", "br-ex", f"sb{token}")
        st.vsctl("add-port", "br-int", "patch-ex", "--", "set", "interface", "patch-ex",
                 "type=patch", "options:peer=patch-int", "--",
                 "add-port", "br-ex", "patch-int", "--", "set", "interface", "patch-int",
                 "type=patch", "options:peer=patch-ex")
        assert ping(ns_a, "10.80.0.2"), "no ping across the patch ports"
        st.stop()
        st.start()
        assert ping(ns_a, "10.80.0.2"), "no ping after restarting vswitchd"


def test_secure_fail_mode_and_bad_interface(tmp_path: Path, token: str) -> None:
    ns_a, ns_b, ns_sw = f"pw{token}a", f"pw{token}b", f"pw{token}s"
    with namespaces(ns_a, ns_b, ns_sw), stack(tmp_path, ns_sw) as st:
        veth(ns_a, f"a{token}", ns_sw, f"sa{token}", "10.81.0.1/24")
        veth(ns_b, f"b{token}", ns_sw, f"sb{token}", "10.81.0.2/24")
        st.vsctl("add-br", "br0", "--", "set-fail-mode", "br0", "secure")
        st.vsctl("add-port", "br0", f"sa{token}", "--", "add-port", "br0", f"sb{token}")
        st.vsctl("add-port", "br0", f"missing{token}")
        error = st.vsctl("get", "interface", f"missing{token}", "error").stdout
        assert "No such device" in error
        assert st.vsctl("get", "interface", f"missing{token}", "ofport").stdout.strip() == "-1"
        assert not ping(ns_a, "10.81.0.2", 3), "secure mode without flows must drop"
        st.vsctl("set-fail-mode", "br0", "standalone")
        st.vsctl("del-fail-mode", "br0")
        # Standalone without a controller: back to a learning switch.
        assert ping(ns_a, "10.81.0.2"), "standalone mode must forward"
