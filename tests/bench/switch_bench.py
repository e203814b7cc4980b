"""Forwarding benchmark: pyovs-vswitchd against the real OVS and the Linux bridge.

    python -m tests.bench.switch_bench [--quick] [--profile]
                                       [--variants pyovs,real-txoff,real-tso,linux]
                                       [--udp-rate 0]

Design.  Every variant gets the same, freshly built topology: three network
namespaces (two hosts ``a`` and ``b`` and a switch ``s``), one veth pair
from each host into the switch namespace, IPv6 disabled in all three (no
router solicitations or MLD reports among the counted packets), and the
switch under test joining the two switch-side veth ends:

``pyovs``
    pyovsdb-server + pyovs-vswitchd (vswitchd in the switch namespace), a
    bridge with ``datapath_type=netdev``; the hosts keep the kernel's default
    offloads (pyovs's AF_PACKET netdev takes checksum-less and GSO frames).
``real-txoff``
    The real ovsdb-server + ovs-vswitchd (Debian OVS 3.1) with the userspace
    datapath, and ``ethtool -K IFACE tx off`` on the host ends, without which
    its netdev datapath stalls TCP (see /work/shared/REAL-OVS.md).
``real-tso``
    The same with ``other_config:userspace-tso-enable=true`` written before
    ovs-vswitchd starts, and the default offloads.
``linux``
    A Linux bridge in the switch namespace: the kernel's own figure.

Both OVS variants are configured the way the namespace tutorial does it
(``add-br br0 -- set bridge br0 datapath_type=netdev``, ``add-port`` twice,
without ``--no-wait``), so they are standalone learning switches (NORMAL).
All variants are set up first, each in its own namespaces (two netdev
ovs-vswitchds cannot share one), then every figure is taken round-robin:
TCP run 1 on each variant, then run 2, and so on.  Only one variant carries
traffic at a time; the others' daemons sit idle.  Interleaving matters on a
shared 2-CPU machine: other processes' load comes and goes, and spread over
all variants it distorts the ratios less than if it fell on one variant's
whole phase.

Figures, each the median over its runs: ping RTT (``ping -i 0.05``, 20
echoes after a warm-up, or a raw-socket pinger when iputils ping is
missing), iperf3 TCP a -> b (Gbit/s received, 3 runs), iperf3 UDP with
64-byte payloads at ``-b 0`` (as fast as the sender can; ``--udp-rate`` for a
fixed rate): packets/s the receiver got, the loss, and what the sender sent;
and the switch daemon's CPU use during the UDP runs (all its threads).
A table gives the medians and the ratios pyovs/real and pyovs/Linux bridge,
then the targets (pyovs TCP and 64 B rate >= the real userspace datapath,
RTT within 2x) with a verdict each.

Robustness.  Names carry a random token per run.  Everything started is
recorded on an ``ExitStack`` as soon as it exists and undone in reverse
(processes by pid: SIGTERM, then SIGKILL; namespaces deleted, which removes
the veths and the switches' devices), also on an exception or SIGTERM.  A
variant that cannot run (not root, the real OVS or iperf3 missing) is
skipped with the reason; a figure that fails is marked FAILED and, for the
OVS variants, the datapath flows, the MAC table and the vswitchd log tail
are printed so the failure can be read.

``--profile`` samples pyovs-vswitchd with py-spy (``.venv/bin/pip install
py-spy``) during one extra UDP run and prints its hot spots.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from tests import peers
from tests.bench import ovsdb_bench as ob

VARIANTS = ("pyovs", "real-txoff", "real-tso", "linux")
LABELS = {"pyovs": "pyovs", "real-txoff": "OVS tx-off", "real-tso": "OVS tso",
          "linux": "Linux br"}
REAL_VSWITCHD = Path("/usr/sbin/ovs-vswitchd")
PYOVS_VSWITCHD = peers.VENV_BIN / "pyovs-vswitchd"
PYOVS_VSCTL = peers.VENV_BIN / "pyovs-vsctl"
PYOVS_APPCTL = peers.VENV_BIN / "pyovs-appctl"
REAL_APPCTL = Path("/usr/bin/ovs-appctl")
IPERF3 = shutil.which("iperf3")
PING = shutil.which("ping")
ETHTOOL = shutil.which("ethtool")
ADDR_A, ADDR_B = "10.93.0.1", "10.93.0.2"
IPERF_PORT = 5201


class BenchError(RuntimeError):
    """A step of the benchmark failed."""


@dataclass(frozen=True, slots=True)
class Settings:
    pings: int
    tcp_runs: int
    tcp_seconds: int
    udp_runs: int
    udp_seconds: int
    profile_seconds: int


FULL = Settings(pings=20, tcp_runs=3, tcp_seconds=4, udp_runs=3, udp_seconds=3,
                profile_seconds=5)
QUICK = Settings(pings=10, tcp_runs=1, tcp_seconds=2, udp_runs=1, udp_seconds=2,
                 profile_seconds=3)


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    label: str
    unit: str
    higher_is_better: bool


METRICS = (
    Metric("rtt", "ping RTT", "ms", False),
    Metric("tcp", "iperf3 TCP a->b", "Gbit/s", True),
    Metric("tcp_cpu", "switch daemon CPU during TCP", "%", False),
    Metric("udp_rx", "UDP 64 B received", "kpps", True),
    Metric("udp_loss", "UDP 64 B loss", "%", False),
    Metric("udp_fwd", "UDP 64 B out of the switch", "kpps", True),
    Metric("udp_sw_loss", "UDP 64 B lost in the switch", "%", False),
    Metric("udp_rcvbuf", "UDP 64 B out, dropped by b's full socket", "%", False),
    Metric("udp_tx", "UDP 64 B sent", "kpps", True),
    Metric("udp_cpu", "switch daemon CPU during UDP", "%", False),
    Metric("udp_cost", "switch daemon CPU per packet out", "us", False),
)


@dataclass
class Results:
    values: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    errors: dict[tuple[str, str], str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    diagnostics: list[str] = field(default_factory=list)
    profile: list[str] = field(default_factory=list)

    def add(self, key: str, variant: str, value: float) -> None:
        self.values.setdefault((key, variant), []).append(value)

    def fail(self, keys: list[str], variant: str, why: str) -> None:
        for key in keys:
            if (key, variant) not in self.values:
                self.errors.setdefault((key, variant), why)

    def median(self, key: str, variant: str) -> float | None:
        values = self.values.get((key, variant))
        return statistics.median(values) if values else None


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def sh(*argv: str | Path, timeout: float = 30, check: bool = True,
       env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True,
                          timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise BenchError(f"{' '.join(str(a) for a in argv)} exited {proc.returncode}: "
                         f"{(proc.stderr or proc.stdout).strip()[-400:]}")
    return proc


def in_ns(ns: str, *argv: str | Path) -> list[str]:
    return ["ip", "netns", "exec", ns, *(str(a) for a in argv)]


def stop_pid(pid: int, timeout: float = 5.0) -> None:
    """SIGTERM ``pid``, then SIGKILL if it is still there after ``timeout``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while peers.pid_alive(pid):
            if time.monotonic() > deadline:
                break
            time.sleep(0.02)
        else:
            return


def link_packets(ns: str, ifname: str) -> tuple[int, int]:
    """(rx, tx) packet counters of ``ifname`` in ``ns``."""
    out = sh("ip", "-n", ns, "-s", "-j", "link", "show", "dev", ifname).stdout
    stats = json.loads(out)[0]["stats64"]
    return int(stats["rx"]["packets"]), int(stats["tx"]["packets"])


def rcvbuf_errors(ns: str) -> int:
    """The UDP RcvbufErrors counter of ``ns`` (datagrams a full socket dropped)."""
    lines = [ln.split() for ln in sh(*in_ns(ns, "cat", "/proc/net/snmp")).stdout.splitlines()
             if ln.startswith("Udp:")]
    return int(dict(zip(lines[0], lines[1], strict=True))["RcvbufErrors"])


def cpu_seconds(pid: int, since_ticks: int) -> float:
    return (cpu_ticks(pid) - since_ticks) / os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid: int) -> int:
    """utime + stime of every thread of ``pid``, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


# ---------------------------------------------------------------------------
# Topology and switches


@dataclass
class Topology:
    token: str
    stack: contextlib.ExitStack
    ns_a: str = ""
    ns_b: str = ""
    ns_s: str = ""
    if_a: str = ""  # host ends
    if_b: str = ""
    sw_a: str = ""  # switch ends
    sw_b: str = ""

    def __post_init__(self) -> None:
        t = self.token
        self.ns_a, self.ns_b, self.ns_s = f"swb{t}a", f"swb{t}b", f"swb{t}s"
        self.if_a, self.if_b, self.sw_a, self.sw_b = f"h{t}a", f"h{t}b", f"s{t}a", f"s{t}b"

    def build(self) -> None:
        for ns in (self.ns_a, self.ns_b, self.ns_s):
            sh("ip", "netns", "add", ns)
            self.stack.callback(sh, "ip", "netns", "del", ns, check=False)
            for conf in ("all", "default"):
                sh(*in_ns(ns, "sysctl", "-qw", f"net.ipv6.conf.{conf}.disable_ipv6=1"),
                   check=False)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        for host_ns, host_if, sw_if, addr in ((self.ns_a, self.if_a, self.sw_a, ADDR_A),
                                              (self.ns_b, self.if_b, self.sw_b, ADDR_B)):
            sh("ip", "link", "add", host_if, "netns", host_ns, "type", "veth", "peer", "name",
               sw_if, "netns", self.ns_s)
            for ns, ifname in ((host_ns, host_if), (self.ns_s, sw_if)):
                sh(*in_ns(ns, "sysctl", "-qw", f"net.ipv6.conf.{ifname}.disable_ipv6=1"),
                   check=False)
                sh("ip", "-n", ns, "link", "set", ifname, "up")
            sh("ip", "-n", host_ns, "addr", "add", f"{addr}/24", "dev", host_if)

    def spawn(self, ns: str, *argv: str) -> subprocess.Popen[bytes]:
        """Start a process in ``ns`` (``ip netns exec`` execs it: same pid)."""
        proc = subprocess.Popen(in_ns(ns, *argv), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.stack.callback(_reap, proc)
        return proc


def _reap(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        stop_pid(proc.pid, 3)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=3)


class OvsSwitch:
    """An OVSDB server + vswitchd (``kind`` real or pyovs) serving the switch namespace."""

    def __init__(self, kind: str, topo: Topology, tmp: str, tso: bool = False) -> None:
        self.kind = kind
        self.topo = topo
        self.server = topo.stack.enter_context(peers.DbServer(kind, "vswitch", tmp_dir=tmp))
        self.vsctl_bin = peers.REAL_VSCTL if kind == "real" else PYOVS_VSCTL
        self.name = "ovs-vswitchd" if kind == "real" else "pyovs-vswitchd"
        self.pidfile = self.server.dir / f"{self.name}.pid"
        self.log_path = self.server.dir / f"{self.name}.log"
        self.pid: int | None = None
        self.vsctl("--no-wait", "init")
        if tso:
            self.vsctl("--no-wait", "set", "Open_vSwitch", ".",
                       "other_config:userspace-tso-enable=true")
        self.start()
        self.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
        self.vsctl("add-port", "br0", topo.sw_a, "--", "add-port", "br0", topo.sw_b)
        for ifname in (topo.sw_a, topo.sw_b):
            ofport = self.vsctl("get", "interface", ifname, "ofport").strip()
            if not ofport.lstrip("-").isdigit() or int(ofport) <= 0:
                error = self.vsctl("get", "interface", ifname, "error")
                raise BenchError(f"{self.name}: {ifname} got ofport {ofport}: {error.strip()}")

    def vsctl(self, *args: str) -> str:
        return sh(self.vsctl_bin, f"--db={self.server.remote}", "--timeout=30", *args,
                  env=self.server.env, timeout=45).stdout

    def start(self) -> None:
        exe = REAL_VSWITCHD if self.kind == "real" else PYOVS_VSWITCHD
        self.topo.stack.callback(self._stop)
        sh(*in_ns(self.topo.ns_s, exe, self.server.remote, f"--pidfile={self.pidfile}",
                  "--detach", "--no-chdir", f"--log-file={self.log_path}"),
           env=self.server.env, timeout=60)
        self.pid = int(self.pidfile.read_text().strip())

    def _stop(self) -> None:
        pid = self.pid
        if pid is None:
            with contextlib.suppress(OSError, ValueError):
                pid = int(self.pidfile.read_text().strip())
        if pid is not None:
            stop_pid(pid)
        self.pid = None

    def appctl(self, *args: str) -> str:
        assert self.pid is not None
        exe = REAL_APPCTL if self.kind == "real" else PYOVS_APPCTL
        ctl = self.server.dir / f"{self.name}.{self.pid}.ctl"
        proc = sh(exe, "-t", str(ctl), *args, env=self.server.env, check=False, timeout=20)
        return (proc.stdout + proc.stderr).strip()

    def diagnose(self) -> str:
        """Datapath flows, MAC table, port stats and log tail, for a failure report."""
        parts = [f"--- {self.name} (pid {self.pid}) diagnostics"]
        if self.pid is not None and peers.pid_alive(self.pid):
            for cmd in (("dpctl/dump-flows",), ("fdb/show", "br0"), ("dpctl/show", "-s")):
                out = self.appctl(*cmd)
                lines = out.splitlines()
                if len(lines) > 40:
                    lines = [*lines[:40], f"... ({len(lines) - 40} more lines)"]
                parts.append(f"$ appctl {' '.join(cmd)}\n" + "\n".join(lines))
        else:
            parts.append("vswitchd is not running")
        try:
            tail = self.log_path.read_text(errors="replace").splitlines()[-25:]
        except OSError as e:
            tail = [f"(no log: {e})"]
        parts.append(f"$ tail {self.log_path.name}\n" + "\n".join(tail))
        return "\n".join(parts)


class LinuxBridge:
    def __init__(self, topo: Topology) -> None:
        ns = topo.ns_s
        sh("ip", "-n", ns, "link", "add", "br0", "type", "bridge")
        for ifname in (topo.sw_a, topo.sw_b):
            sh("ip", "-n", ns, "link", "set", ifname, "master", "br0")
        sh("ip", "-n", ns, "link", "set", "br0", "up")


# ---------------------------------------------------------------------------
# Measurements

RAW_PINGER = r"""
import os, socket, struct, sys, time
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack(f"!{len(b)//2}H", b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
dst, count, interval = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(1.0)
ident = os.getpid() & 0xffff
for seq in range(1, count + 1):
    body = struct.pack("!HH", ident, seq) + b"switch_bench" * 4
    t0 = time.perf_counter()
    s.sendto(struct.pack("!BBH", 8, 0, csum(b"\x08\0\0\0" + body)) + body, (dst, 0))
    try:
        while True:
            data, (src, _) = s.recvfrom(2048)
            icmp = data[(data[0] & 0xf) * 4:]
            if src == dst and icmp[0] == 0 and icmp[4:8] == struct.pack("!HH", ident, seq):
                print(f"time={(time.perf_counter() - t0) * 1000:.3f} ms", flush=True)
                break
    except socket.timeout:
        pass
    time.sleep(interval)
"""
_RTT_RE = re.compile(r"time=([0-9.]+) ms")


def ping_rtts(topo: Topology, count: int, interval: float = 0.05) -> list[float]:
    """RTTs in ms of ``count`` echoes a -> b (lost ones are missing)."""
    if PING:
        argv = in_ns(topo.ns_a, PING, "-n", "-c", str(count), "-i", str(interval), "-W", "1",
                     ADDR_B)
    else:
        argv = in_ns(topo.ns_a, sys.executable, "-c", RAW_PINGER, ADDR_B, str(count),
                     str(interval))
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=count * 2 + 20,
                          stdin=subprocess.DEVNULL)
    return [float(m) for m in _RTT_RE.findall(proc.stdout)]


def wait_forwarding(topo: Topology, timeout: float = 30) -> float:
    """Ping until the first reply; the seconds that took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if ping_rtts(topo, 1):
            return time.monotonic() - start
    raise BenchError(f"no ping reply a -> b within {timeout:.0f} s")


def iperf_server(topo: Topology) -> subprocess.Popen[bytes]:
    """Start the iperf3 server in ``b`` (stopped with the topology)."""
    assert IPERF3 is not None
    proc = topo.spawn(topo.ns_b, IPERF3, "-s", "-B", ADDR_B, "-p", str(IPERF_PORT))
    deadline = time.monotonic() + 10
    while f":{IPERF_PORT}" not in sh(*in_ns(topo.ns_b, "ss", "-Hltn"), check=False).stdout:
        if proc.poll() is not None or time.monotonic() > deadline:
            raise BenchError("the iperf3 server did not start")
        time.sleep(0.05)
    return proc


def iperf_client(topo: Topology, seconds: int, *extra: str) -> dict[str, Any]:
    assert IPERF3 is not None
    argv = in_ns(topo.ns_a, IPERF3, "-c", ADDR_B, "-p", str(IPERF_PORT), "-t", str(seconds),
                 "-J", "--connect-timeout", "5000", *extra)
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 25,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise BenchError(f"iperf3 client did not finish within {seconds + 25} s "
                         "(the transfer or iperf3's control connection stalled)") from None
    try:
        data: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise BenchError(f"iperf3 exited {proc.returncode} without JSON: "
                         f"{(proc.stderr or proc.stdout)[-300:]}") from None
    if "error" in data:
        raise BenchError(f"iperf3: {data['error']}")
    return data


def tcp_run(topo: Topology, seconds: int) -> tuple[float, int]:
    """(Gbit/s received, retransmits)."""
    end = iperf_client(topo, seconds)["end"]
    gbps = float(end["sum_received"]["bits_per_second"]) / 1e9
    if gbps < 0.001:
        raise BenchError(f"TCP stalled: {end['sum_received']['bytes']} bytes received "
                         f"in {seconds} s")
    return gbps, int(end["sum_sent"].get("retransmits", 0))


@dataclass(frozen=True, slots=True)
class UdpRun:
    rx_pps: float
    tx_pps: float
    loss_pct: float


def udp_run(topo: Topology, seconds: int, rate: str, window: str = "") -> UdpRun:
    extra = ("-w", window) if window else ()
    end = iperf_client(topo, seconds, "-u", "-l", "64", "-b", rate, *extra)["end"]
    sent, got = end["sum_sent"], end["sum_received"]
    received = int(got["packets"]) - int(got["lost_packets"])
    if received <= 0:
        raise BenchError(f"UDP: nothing received of {sent['packets']} packets sent")
    return UdpRun(rx_pps=received / float(got["seconds"]),
                  tx_pps=int(sent["packets"]) / float(sent["seconds"]),
                  loss_pct=float(got["lost_percent"]))


# ---------------------------------------------------------------------------
# One variant


class Bench:
    """One variant's topology and switch, measured a figure at a time."""

    def __init__(self, variant: str, stack: contextlib.ExitStack, tmp: str,
                 results: Results) -> None:
        self.variant = variant
        self.results = results
        self.topo = Topology(secrets.token_hex(3), stack)
        self.topo.build()
        self.switch: OvsSwitch | None = None
        if variant == "linux":
            LinuxBridge(self.topo)
        else:
            if variant == "real-txoff":
                assert ETHTOOL is not None
                for ns, ifname in ((self.topo.ns_a, self.topo.if_a),
                                   (self.topo.ns_b, self.topo.if_b)):
                    sh(*in_ns(ns, ETHTOOL, "-K", ifname, "tx", "off"))
            self.switch = OvsSwitch("pyovs" if variant == "pyovs" else "real", self.topo, tmp,
                                    tso=variant == "real-tso")
        self.pid = self.switch.pid if self.switch else None
        self.broken: set[str] = set()  # "all", "tcp", "udp": what not to try again
        self.diagnosed = False
        self.rtts: list[float] = []
        self.sent = 0
        self.failures: dict[str, int] = {}
        self.iperf: subprocess.Popen[bytes] | None = None
        try:
            took = wait_forwarding(self.topo)
        except BenchError as e:
            self.failed([m.key for m in METRICS], "all", "first ping", e)
            return
        log(f"  {variant}: forwarding after {took:.1f} s")
        self.iperf = iperf_server(self.topo) if IPERF3 is not None else None

    def failed(self, keys: list[str], part: str, what: str, e: BaseException) -> None:
        """Record a failed run: diagnostics the first time, give up on ``part`` the
        second time, and restart the iperf3 server (a stuck one would fail the rest)."""
        why = f"{what}: {e}"
        log(f"  {self.variant}: FAILED {why}")
        if (keys[0], self.variant) in self.results.values:  # else the table says FAILED
            self.results.notes.append(f"{self.variant}: a run failed: {why}")
        self.results.fail(keys, self.variant, why)
        self.failures[part] = self.failures.get(part, 0) + 1
        if self.failures[part] >= 2 or part in ("all", "ping"):
            self.broken.add(part)
        if not self.diagnosed:
            self.diagnosed = True
            self.results.diagnostics.append(self.diagnose(why))
        if self.iperf is not None and part in ("tcp", "udp"):
            _reap(self.iperf)
            self.iperf = iperf_server(self.topo)

    def diagnose(self, why: str) -> str:
        after = ping_rtts(self.topo, 5, 0.1)
        lines = [f"--- {self.variant}: {why}",
                 f"ping a -> b after the failure: {len(after)}/5 replies",
                 "$ ss -tnio (in a)",
                 sh(*in_ns(self.topo.ns_a, "ss", "-tnio"), check=False).stdout.strip()]
        if self.switch is not None:
            lines.append(self.switch.diagnose())
        text = "\n".join(lines)
        log(text)
        return text

    def ping(self, count: int, last: bool) -> None:
        """``count`` more echoes; on the ``last`` round, the median of them all."""
        ping_rtts(self.topo, 2)  # warm the caches and the MAC tables
        rtts = ping_rtts(self.topo, count)
        self.rtts += rtts
        self.sent += count
        log(f"  {self.variant}: ping {len(rtts)}/{count} replies"
            + (f", median {statistics.median(rtts):.3f} ms, min {min(rtts):.3f}, max "
               f"{max(rtts):.3f}" if rtts else ""))
        if not last:
            return
        if self.rtts:
            self.results.add("rtt", self.variant, statistics.median(self.rtts))
        else:
            self.failed(["rtt"], "ping", "ping", BenchError(f"no reply to {self.sent} pings"))

    def tcp(self, s: Settings, r: int) -> None:
        pid, variant = self.pid, self.variant
        ticks = cpu_ticks(pid) if pid else 0
        t0 = time.monotonic()
        try:
            gbps, retr = tcp_run(self.topo, s.tcp_seconds)
        except BenchError as e:
            self.failed(["tcp", "tcp_cpu"], "tcp", f"TCP run {r + 1}", e)
            return
        self.results.add("tcp", variant, gbps)
        cpu = ""
        if pid:
            pct = 100 * cpu_seconds(pid, ticks) / (time.monotonic() - t0)
            self.results.add("tcp_cpu", variant, pct)
            cpu = f", vswitchd CPU {pct:.0f}%"
        log(f"  {variant}: TCP run {r + 1}/{s.tcp_runs}: {gbps:.2f} Gbit/s, "
            f"{retr} retransmits{cpu}")

    def udp(self, s: Settings, r: int, rate: str, window: str) -> None:
        pid, variant, topo, add = self.pid, self.variant, self.topo, self.results.add
        ticks = cpu_ticks(pid) if pid else 0
        sw_in = link_packets(topo.ns_s, topo.sw_a)[0]
        sw_out = link_packets(topo.ns_s, topo.sw_b)[1]
        full = rcvbuf_errors(topo.ns_b)
        t0 = time.monotonic()
        try:
            u = udp_run(topo, s.udp_seconds, rate, window)
        except BenchError as e:
            self.failed([m.key for m in METRICS if m.key.startswith("udp")], "udp",
                        f"UDP run {r + 1}", e)
            return
        wall = time.monotonic() - t0
        sw_in = link_packets(topo.ns_s, topo.sw_a)[0] - sw_in
        sw_out = link_packets(topo.ns_s, topo.sw_b)[1] - sw_out
        full = rcvbuf_errors(topo.ns_b) - full
        add("udp_rx", variant, u.rx_pps / 1000)
        add("udp_tx", variant, u.tx_pps / 1000)
        add("udp_loss", variant, u.loss_pct)
        add("udp_fwd", variant, sw_out / s.udp_seconds / 1000)
        add("udp_sw_loss", variant, 100 * max(0, sw_in - sw_out) / max(1, sw_in))
        add("udp_rcvbuf", variant, 100 * full / max(1, sw_out))
        cpu = ""
        if pid:
            used = cpu_seconds(pid, ticks)
            add("udp_cpu", variant, 100 * used / wall)
            add("udp_cost", variant, 1e6 * used / max(1, sw_out))
            cpu = (f", vswitchd CPU {100 * used / wall:.0f}% "
                   f"({1e6 * used / max(1, sw_out):.1f} us per packet out)")
        log(f"  {variant}: UDP run {r + 1}/{s.udp_runs}: received "
            f"{u.rx_pps / 1000:.1f} kpps of {u.tx_pps / 1000:.1f} kpps sent, "
            f"loss {u.loss_pct:.1f}%; the switch got {sw_in:,} packets and sent "
            f"{sw_out:,}; the receiver's full socket dropped {full:,}{cpu}")


_SETUP_FAILURES = (BenchError, peers.ServerError, OSError, subprocess.SubprocessError,
                   ValueError, KeyError, IndexError, TypeError)


def run_all(variants: list[str], s: Settings, args: argparse.Namespace, tmp: str,
            results: Results) -> None:
    """Set every variant up, then take each figure round-robin over them.

    Interleaving the runs spreads the other processes' varying load over all
    variants instead of charging one variant's whole phase with it.
    """
    with contextlib.ExitStack() as stack:
        benches: list[Bench] = []
        for v in variants:
            log(f"{v}: setting up")
            try:
                benches.append(Bench(v, stack, tmp, results))
            except _SETUP_FAILURES as e:
                why = f"setup: {type(e).__name__}: {str(e).strip()[:500]}"
                log(f"  {v}: FAILED {why}")
                results.fail([m.key for m in METRICS], v, why)
        live = [b for b in benches if "all" not in b.broken]
        log("ping")
        rounds = max(1, s.tcp_runs)
        for r in range(rounds):
            for b in live:
                b.ping(s.pings // rounds, r == rounds - 1)
        if IPERF3 is None:
            return
        log("TCP")
        for r in range(s.tcp_runs):
            for b in live:
                if "tcp" not in b.broken:
                    b.tcp(s, r)
        log("UDP")
        for r in range(s.udp_runs):
            for b in live:
                if "udp" not in b.broken:
                    b.udp(s, r, args.udp_rate, args.udp_window)
        for b in live:
            if args.profile and b.variant == "pyovs" and b.pid:
                try:
                    profile(b.topo, b.pid, s, args.udp_rate, args.udp_window, tmp,
                            results)
                except (BenchError, ob.BenchError, OSError) as e:
                    results.notes.append(f"--profile failed: {e}")
                    log(f"  pyovs: profile FAILED: {e}")
                    results.diagnostics.append(b.diagnose(f"profiled UDP run: {e}"))
            if b.switch is not None and os.environ.get("PYOVS_BENCH_DIAG"):
                log(b.switch.diagnose())
        log("tearing down")


def profile(topo: Topology, pid: int, s: Settings, rate: str, window: str, tmp: str,
            results: Results) -> None:
    out = Path(tempfile.mkdtemp(prefix="pyspy-", dir=tmp)) / "profile.txt"
    seconds = s.profile_seconds
    log(f"  pyovs: profiling pyovs-vswitchd with py-spy during {seconds} s of UDP")
    with ob.py_spy_record(pid, seconds, out):
        u = udp_run(topo, seconds, rate, window)
    total, own, inclusive = ob.summarize_profile(out)
    if not total:
        raise BenchError("py-spy recorded no busy samples")
    rate_hz = 250  # what ob.py_spy_record asks for
    lines = [f"py-spy on pyovs-vswitchd during {seconds} s of 64 B UDP "
             f"({u.rx_pps / 1000:.1f} kpps received in that run), {total} busy samples "
             f"(~{100 * total / (rate_hz * seconds):.0f}% of the samples of one thread "
             "for the run):",
             "  top by own time:"]
    lines += [f"    {100 * c / total:5.1f}%  {name}" for name, c in own[:15]]
    # Frames in nearly every sample are the main loop: leaving them out shows
    # where the time divides.
    ours = [(name, c) for name, c in inclusive
            if "(pyovs/" in name and c < 0.97 * total]
    lines.append("  top pyovs lines (each sample charged to its innermost pyovs frame, so "
                 "library calls count at the line that makes them):")
    lines += [f"    {100 * c / total:5.1f}%  {name}" for name, c in pyovs_lines(out)[:15]]
    lines.append("  top pyovs functions by inclusive time (frames in >97% of samples "
                 "omitted):")
    lines += [f"    {100 * c / total:5.1f}%  {name}" for name, c in ours[:25]]
    results.profile.extend(lines)


_PY_FRAME_RE = re.compile(r"^(.*) \((.*?):(\d+)\)$")
_PYOVS_PATH_RE = re.compile(r"(?:^|/)pyovs/(.*)$")


def pyovs_lines(path: Path) -> list[tuple[str, int]]:
    """Busy samples of a py-spy raw file per innermost pyovs source line."""
    sites: dict[str, int] = {}
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        for frame in reversed(stack.split(";")):
            m = _PY_FRAME_RE.match(frame.strip())
            where = _PYOVS_PATH_RE.search(m.group(2)) if m else None
            if m and where:
                func, _, lineno = m.groups()
                site = f"{where.group(1)}:{lineno} {func}"
                sites[site] = sites.get(site, 0) + int(count_text)
                break
    return sorted(sites.items(), key=lambda kv: -kv[1])


# ---------------------------------------------------------------------------
# Report


def unavailable(variant: str, args: argparse.Namespace) -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth, AF_PACKET)"
    if not shutil.which("ip"):
        return "iproute2 (ip) missing"
    if variant == "pyovs":
        reason = peers.pyovs_available()
        if reason:
            return reason
        for path in (PYOVS_VSWITCHD, PYOVS_VSCTL):
            if not os.access(path, os.X_OK):
                return f"{path} missing: reinstall the venv (pip install -e .)"
    elif variant.startswith("real"):
        reason = peers.real_available()
        if reason:
            return reason
        for path in (REAL_VSWITCHD, peers.REAL_VSCTL):
            if not os.access(path, os.X_OK):
                return f"{path} missing (Debian openvswitch-switch)"
        if variant == "real-txoff" and ETHTOOL is None:
            return "ethtool missing (needed for tx off)"
    return None


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def ratio(results: Results, key: str, other: str) -> float | None:
    mine, theirs = results.median(key, "pyovs"), results.median(key, other)
    if mine is None or theirs is None or theirs <= 0:
        return None
    return mine / theirs


def cell(results: Results, key: str, variant: str) -> str:
    v = results.median(key, variant)
    if v is not None:
        return fmt(v)
    if variant in results.skipped:
        return "skipped"
    return "FAILED" if (key, variant) in results.errors else "-"


def targets(results: Results) -> list[str]:
    out = []
    goals: list[tuple[str, str, Callable[[float], bool], str]] = [
        ("tcp", "TCP throughput", lambda r: r >= 1.0, ">= real"),
        ("udp_rx", "64 B packets received/s", lambda r: r >= 1.0, ">= real"),
        ("rtt", "ping RTT", lambda r: r <= 2.0, "within 2x of real"),
    ]
    for key, label, ok, want in goals:
        parts = []
        for other in ("real-txoff", "real-tso"):
            r = ratio(results, key, other)
            if r is not None:
                parts.append(f"vs {LABELS[other]}: {r:.2f}x {'MET' if ok(r) else 'NOT MET'}")
        if parts:
            out.append(f"target {label} {want}: " + "; ".join(parts))
    return out


def report(results: Results, variants: list[str], s: Settings, args: argparse.Namespace,
           elapsed: float, load: tuple[float, float]) -> None:
    others = [v for v in VARIANTS[1:] if v in variants]
    head = ("figure", "unit", *(LABELS[v] for v in VARIANTS if v in variants),
            *(f"pyovs/{LABELS[o]}" for o in others if "pyovs" in variants))
    rows: list[tuple[str, ...]] = [head]
    for m in METRICS:
        vals = [cell(results, m.key, v) for v in VARIANTS if v in variants]
        ratios = []
        if "pyovs" in variants:
            for o in others:
                r = ratio(results, m.key, o)
                ratios.append("-" if r is None else f"{r:.2f}")
        rows.append((m.label, m.unit, *vals, *ratios))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    print()
    print(f"Switch benchmark: pyovs-vswitchd vs OVS 3.1 userspace datapath vs Linux bridge "
          f"({'quick' if args.quick else 'full'} run, medians)")
    for line in ob_machine():
        print(line)
    print(f"load average (1 min) {load[0]:.2f} before, {load[1]:.2f} after: above ~0.5 other "
          "processes were competing for the 2 CPUs")
    print()
    for i, row in enumerate(rows):
        print("  ".join(c.ljust(w) if j < 2 else c.rjust(w)
                        for j, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print()
    rate = "as fast as the sender can (-b 0)" if args.udp_rate == "0" else f"-b {args.udp_rate}"
    if args.udp_window:
        rate += f" -w {args.udp_window}"
    print(f"topology: netns a --veth-- netns s (switch) --veth-- netns b, IPv6 off; "
          f"ping: {s.pings} echoes at 50 ms after a warm-up; TCP: {s.tcp_runs} x "
          f"{s.tcp_seconds} s iperf3 a->b; UDP: {s.udp_runs} x {s.udp_seconds} s iperf3 "
          f"-u -l 64 {rate}, received = packets the iperf3 server counted.")
    print("OVS tx-off = real OVS, netdev datapath, `ethtool -K tx off` on the host ends; "
          "OVS tso = real OVS, netdev datapath, userspace-tso-enable=true, default "
          "offloads; pyovs: netdev datapath, default offloads.  Ratios are pyovs/other "
          "(higher is better for Gbit/s and kpps, lower for ms, % loss and % CPU).")
    for line in targets(results):
        print(line)
    for variant, why in results.skipped.items():
        print(f"{variant}: skipped: {why}")
    for note in dict.fromkeys(results.notes):
        print(f"note: {note}")
    for why in dict.fromkeys(f"{v}: {w}" for (_, v), w in sorted(results.errors.items())):
        print(f"failed: {why[:600]}")
    if results.diagnostics:
        print()
        print("\n\n".join(results.diagnostics))
    if results.profile:
        print()
        print("\n".join(results.profile))
    print(f"\nswitch benchmark took {elapsed:.0f} s")


def ob_machine() -> list[str]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    ovs = "absent"
    if REAL_VSWITCHD.exists():
        proc = sh(REAL_VSWITCHD, "--version", check=False)
        ovs = (proc.stdout.splitlines() or ["?"])[0]
    iperf = "absent"
    if IPERF3:
        iperf = (sh(IPERF3, "--version", check=False).stdout.splitlines() or ["?"])[0]
    return [f"machine: {os.cpu_count()} CPUs, {cpu}, Linux {os.uname().release}; "
            f"python {sys.version.split()[0]}",
            f"real: {ovs}; {iperf}; ping: {PING or 'raw-socket pinger'}"]


# ---------------------------------------------------------------------------


@contextlib.contextmanager
def tmp_dir() -> Iterator[str]:
    """A private directory for the OVS servers, kept if PYOVS_KEEP_TMP is set."""
    path = tempfile.mkdtemp(prefix="pyovs-switch-bench-")
    try:
        yield path
    finally:
        if os.environ.get("PYOVS_KEEP_TMP"):
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.switch_bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="one short run per figure")
    p.add_argument("--variants", default=",".join(VARIANTS),
                   help=f"switches to measure ({','.join(VARIANTS)})")
    p.add_argument("--udp-rate", default="0",
                   help="iperf3 -b for the UDP runs (0 = as fast as possible)")
    p.add_argument("--udp-window", default="",
                   help="iperf3 -w for the UDP runs: the sockets' buffer size, e.g. 4M "
                   "(default: the kernel's, about 200 64-byte datagrams)")
    p.add_argument("--profile", action="store_true",
                   help="sample pyovs-vswitchd with py-spy during an extra UDP run")
    args = p.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    if any(v not in VARIANTS for v in variants):
        p.error(f"--variants takes {', '.join(VARIANTS)}")
    s = QUICK if args.quick else FULL
    results = Results()
    for v in variants:
        why = unavailable(v, args)
        if why:
            results.skipped[v] = why
    if IPERF3 is None:
        results.notes.append("iperf3 missing: TCP and UDP figures not measured "
                             "(apt-get install iperf3)")
    if args.profile and ob.py_spy_path() is None:
        results.notes.append("--profile: py-spy not found (.venv/bin/pip install py-spy)")
        args.profile = False
    old = {sig: signal.signal(sig, _raise_exit) for sig in (signal.SIGTERM, signal.SIGHUP)}
    start = time.perf_counter()
    load_before = os.getloadavg()[0]
    try:
        for v, why in results.skipped.items():
            log(f"{v}: skipped: {why}")
        with tmp_dir() as tmp:
            try:
                run_all([v for v in variants if v not in results.skipped], s, args, tmp,
                        results)
            except _SETUP_FAILURES as e:
                why = f"{type(e).__name__}: {str(e).strip()[:500]}"
                log(f"FAILED {why}")
                results.notes.append(f"the run stopped: {why}")
                results.errors[("run", "all")] = why
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
    report(results, variants, s, args, time.perf_counter() - start,
           (load_before, os.getloadavg()[0]))
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
