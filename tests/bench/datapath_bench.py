"""The userspace datapath alone between two network namespaces: latency and throughput.

    python -m tests.bench.datapath_bench [--seconds S] [--profile {cprofile,py-spy}]
                                         [--switch {pyovs,real}]
    python -m tests.bench.datapath_bench serve PORT[:KIND] ...   (the switch process)

Two namespaces ``a`` and ``b`` are cabled by veth pairs to this (root)
namespace, where a separate Python process runs ``UserspaceDpif`` on the
two host ends with the trivial slow path a test would write: every miss
goes out of the other port, with a mask of ``in_port`` only (one megaflow
per direction).  Nothing touches the namespaces' offloads: TCP crosses as
the kernel sends it, checksum pending and in 64 KiB GSO super-packets.

Printed figures: ping RTT median (20 pings), iperf3 TCP Gbit/s, iperf3 UDP
packets/s received with 18-byte payloads (64-byte frames on the wire with
the FCS), the frames/s the switch forwarded during that run and its CPU
time per frame, and a raw blast (60-byte frames written by one Python
process in namespace a to a MAC nobody has, so no receiving application
limits the figure: what the switch forwards is what it can).
``--profile cprofile`` runs the switch under cProfile during the UDP run
and prints its top functions; ``--profile py-spy`` samples it with
py-spy instead.  ``--switch real`` makes the same run through the real
OVS 3.1 (netdev datapath, userspace TSO on, flows in_port=1->2 and back) in a
namespace of its own, for a comparison on the same machine under the same
load.  Needs root, iproute2 and iperf3; everything created has a
per-run token in its name and is deleted at exit.

``Testbed``, ``Switch`` (the datapath in a child process) and
``ThreadSwitch`` (in this process, on a thread) are also what
``tests/integration/test_datapath_veth.py`` uses.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from pyovs.datapath.userspace import UserspaceDpif

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]


def sh(*args: str, check: bool = True, timeout: float = 30) -> str:
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode:
        raise RuntimeError(f"{' '.join(args)}: {r.stderr.strip()}")
    return r.stdout


class Testbed:
    """Namespaces ``ns[0]``/``ns[1]`` with veths whose host ends are ``host[0]``/``host[1]``."""

    __test__ = False  # not a pytest class

    def __init__(self, switch_ns: bool = False) -> None:
        t = secrets.token_hex(3)
        self.token = t
        self.switch_ns = f"dps{t}" if switch_ns else ""
        """A namespace of its own for the host ends (the real OVS's netdev datapath
        must not share the root namespace with another one)."""
        self.ns = [f"dpa{t}", f"dpb{t}"]
        self.host = [f"dva{t}", f"dvb{t}"]
        self.inner = [f"dwa{t}", f"dwb{t}"]
        self.ip = ["10.77.0.1", "10.77.0.2"]

    def up(self) -> None:
        if self.switch_ns:
            sh("ip", "netns", "add", self.switch_ns)
        for ns, host, inner, ip in zip(self.ns, self.host, self.inner, self.ip, strict=True):
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", host, "type", "veth", "peer", "name", inner)
            sh("ip", "link", "set", inner, "netns", ns)
            self.quiet(ns, inner)
            sh("sysctl", "-qw", f"net.ipv6.conf.{host}.disable_ipv6=1")
            sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", inner)
            sh("ip", "-n", ns, "link", "set", inner, "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            if self.switch_ns:
                sh("ip", "link", "set", host, "netns", self.switch_ns)
                self.quiet(self.switch_ns, host)
                sh("ip", "-n", self.switch_ns, "link", "set", host, "up")

    def quiet(self, ns: str, dev: str) -> None:
        """No IPv6 chatter (router solicitations, MLD) on a test interface."""
        self.nsexec(ns, "sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1")

    def vlan(self, vid: int, net: str = "10.78.0") -> list[str]:
        """A VLAN subinterface on each namespace's veth; returns their addresses."""
        ips = [f"{net}.1", f"{net}.2"]
        for ns, inner, ip in zip(self.ns, self.inner, ips, strict=True):
            sub = f"{inner}.{vid}"
            sh("ip", "-n", ns, "link", "add", "link", inner, "name", sub, "type", "vlan",
               "id", str(vid))
            self.quiet(ns, sub)
            sh("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", sub)
            sh("ip", "-n", ns, "link", "set", sub, "up")
        return ips

    def nsexec(self, ns: str, *cmd: str, timeout: float = 60) -> str:
        return sh("ip", "netns", "exec", ns, *cmd, timeout=timeout)

    def down(self) -> None:
        for ns in [*self.ns, self.switch_ns]:
            if ns:
                sh("ip", "netns", "del", ns, check=False)
        for host in self.host:
            sh("ip", "link", "del", host, check=False)

    def tx_packets(self, i: int) -> int:
        """Frames the switch has sent out of host end ``i`` (the kernel's counter)."""
        path = f"/sys/class/net/{self.host[i]}/statistics/tx_packets"
        if self.switch_ns:
            return int(self.nsexec(self.switch_ns, "cat", path))
        return int(Path(path).read_text())

    def blast(self, seconds: float) -> tuple[float, float]:
        """(frames/s sent from namespace a, frames/s the switch forwarded to b)."""
        t0 = self.tx_packets(1)
        sent = int(self.nsexec(self.ns[0], sys.executable, "-c", BLAST, self.inner[0],
                               str(seconds), timeout=seconds + 30))
        time.sleep(0.2)
        return sent / seconds, (self.tx_packets(1) - t0) / seconds

    # -- measurements ----------------------------------------------------------------

    def ping_rtts(self, dst: str, count: int = 20, src_ns: int = 0) -> list[float]:
        out = self.nsexec(self.ns[src_ns], "ping", "-c", str(count), "-i", "0.02", "-W", "2",
                          dst, timeout=60)
        return [float(x) for x in re.findall(r"time=([\d.]+) ms", out)]

    @contextlib.contextmanager
    def iperf_server(self, ns: int = 1) -> Iterator[None]:
        p = subprocess.Popen(["ip", "netns", "exec", self.ns[ns], "iperf3", "-s", "-1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.3)
            yield
        finally:
            p.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(5)
            if p.poll() is None:
                p.kill()
                p.wait()

    def iperf(self, dst: str, seconds: float, udp: bool = False) -> dict[str, float]:
        """{"gbps": ...} for TCP, {"pps": received packets/s, "sent_pps": ...} for UDP."""
        with self.iperf_server():
            args = ["iperf3", "-c", dst, "-t", str(seconds), "-J"]
            if udp:
                args += ["-u", "-b", "0", "-l", "18"]
            out = json.loads(self.nsexec(self.ns[0], *args, timeout=seconds + 30))
        end = out["end"]
        if not udp:
            return {"gbps": end["sum_received"]["bits_per_second"] / 1e9}
        s = end["sum"]
        secs = s["seconds"] or seconds
        return {"pps": (s["packets"] - s["lost_packets"]) / secs, "sent_pps": s["packets"] / secs}


# A frame generator for the namespace side: 60-byte UDP frames to a MAC nobody has,
# as fast as one Python process can write them (the receiving stack drops them at
# once, so the figure is the switch's forwarding rate, not a receiver's).
BLAST = r"""
import socket, struct, sys, time
dev, seconds = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((dev, 0))
ip = bytes.fromhex("4500002e000040004011") + bytes(2) + bytes([10, 77, 0, 1, 10, 77, 0, 99])
frame = bytes.fromhex("02deadbeef01") + bytes.fromhex("020000000001") + b"\x08\x00" + ip
frame += struct.pack("!HHHH", 1000, 9, 26, 0) + bytes(18)
send, n, end = s.send, 0, time.monotonic() + seconds
while time.monotonic() < end:
    for _ in range(1000):
        try:
            send(frame)
        except OSError:
            pass
    n += 1000
print(n)
"""


class Switch:
    """The datapath in a child process (``serve``), started and stopped by pid."""

    def __init__(self, ports: list[str], profile: str = "") -> None:
        args = [sys.executable, "-m", "tests.bench.datapath_bench", "serve", *ports]
        if profile:
            args += ["--profile", profile]
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                     env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            self.stop()
            raise RuntimeError(f"the switch did not start: {line!r}")

    def cpu(self) -> tuple[float, float]:
        """(user, system) CPU seconds the switch process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        assert self.proc.stdout is not None
        return self.proc.stdout.read()


class RealOvs:
    """OVS 3.1's ovs-vswitchd (netdev datapath, userspace TSO) in the testbed's switch namespace,
    with the same trivial forwarding as flows: in_port=1 -> 2 and back."""

    def __init__(self, tb: Testbed) -> None:
        import tempfile
        self.dir = tempfile.mkdtemp(prefix="dpbench-ovs-")
        d = self.dir
        self.env = {**os.environ, "OVS_RUNDIR": d, "OVS_LOGDIR": d, "OVS_DBDIR": d}
        self.db = f"unix:{d}/db.sock"

        def run(*args: str) -> None:
            subprocess.run(args, check=True, env=self.env, capture_output=True, timeout=30)
        run("ovsdb-tool", "create", f"{d}/conf.db", "/usr/share/openvswitch/vswitch.ovsschema")
        run("ovsdb-server", f"{d}/conf.db", f"--remote=punix:{d}/db.sock",
            f"--pidfile={d}/db.pid", "--detach", f"--log-file={d}/db.log")
        run("ovs-vsctl", f"--db={self.db}", "--no-wait", "init", "--", "set", "Open_vSwitch",
            ".", "other_config:userspace-tso-enable=true")
        run("ip", "netns", "exec", tb.switch_ns, "ovs-vswitchd", self.db, f"--pidfile={d}/vs.pid",
            "--detach", f"--log-file={d}/vs.log")
        run("ovs-vsctl", f"--db={self.db}", "add-br", "br0", "--", "set", "bridge", "br0",
            "datapath_type=netdev", "fail_mode=secure", "--", "add-port", "br0", tb.host[0],
            "--", "set", "interface", tb.host[0], "ofport_request=1", "--", "add-port", "br0",
            tb.host[1], "--", "set", "interface", tb.host[1], "ofport_request=2")
        run("ovs-ofctl", "add-flow", "br0", "in_port=1,actions=2")
        run("ovs-ofctl", "add-flow", "br0", "in_port=2,actions=1")
        self.pid = int(Path(f"{d}/vs.pid").read_text())

    def cpu(self) -> tuple[float, float]:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick

    def stop(self) -> str:
        for name in ("vs.pid", "db.pid"):
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(Path(f"{self.dir}/{name}").read_text()), signal.SIGTERM)
        time.sleep(0.5)
        import shutil
        shutil.rmtree(self.dir, ignore_errors=True)
        return ""


def two_port_datapath(ports: list[str]) -> UserspaceDpif:
    """The datapath on PORT[:KIND] x 2 with the trivial slow path: the other port, mask in_port."""
    from pyovs.datapath.dpif import Upcall, UpcallResult
    from pyovs.datapath.netdev import open_netdev
    from pyovs.datapath.userspace import UserspaceDpif

    dp = UserspaceDpif()
    numbers = []
    try:
        for spec in ports:
            name, _, kind = spec.partition(":")
            numbers.append(dp.port_add(open_netdev(name, kind or "system")))
    except Exception:
        dp.close()
        raise
    other = {numbers[0]: numbers[1], numbers[1]: numbers[0]}

    def handler(upcall: Upcall) -> UpcallResult:
        return UpcallResult([("output", other[upcall.in_port])], {})
    dp.handler = handler
    return dp


class ThreadSwitch:
    """The datapath in this process, its event loop on a thread (the integration tests')."""

    def __init__(self, ports: list[str]) -> None:
        self.dp = two_port_datapath(ports)
        self.loop = asyncio.new_event_loop()
        self.dp.attach(self.loop)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the datapath's thread (its caches are not thread-safe)."""
        async def run() -> T:
            return fn()
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(10)

    def stop(self) -> str:
        report = self.call(lambda: f"counters {self.dp.counters()}")
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.dp.close()
        self.loop.close()
        return report


def serve(ports: list[str], profile: str) -> None:
    """Run the datapath on PORT[:KIND]... until SIGINT (see two_port_datapath)."""
    dp = two_port_datapath(ports)
    loop = asyncio.new_event_loop()
    loop.add_signal_handler(signal.SIGINT, loop.stop)
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    dp.attach(loop)
    print("ready", flush=True)
    if profile:
        import cProfile
        import pstats
        prof = cProfile.Profile()
        prof.enable()
        loop.run_forever()
        prof.disable()
        pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(15)
    else:
        loop.run_forever()
    for port, netdev in dp.ports().items():
        st = netdev.stats()
        print(f"port {port} {netdev.name}: rx {st.rx_packets} tx {st.tx_packets} "
              f"tx_dropped {st.tx_dropped}")
    print(f"counters {dp.counters()}")
    dp.close()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "serve":
        p = argparse.ArgumentParser(prog="datapath_bench serve")
        p.add_argument("ports", nargs=2)
        p.add_argument("--profile", default="")
        a = p.parse_args(argv[1:])
        serve(a.ports, a.profile)
        return 0
    p = argparse.ArgumentParser(prog="datapath_bench")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--profile", choices=["cprofile", "py-spy"], default="")
    p.add_argument("--switch", choices=["pyovs", "real"], default="pyovs",
                   help="real: the same run through OVS 3.1's netdev datapath (userspace TSO)")
    a = p.parse_args(argv)
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2
    tb = Testbed(switch_ns=a.switch == "real")
    try:
        tb.up()
        sw: Switch | RealOvs = RealOvs(tb) if a.switch == "real" else Switch(tb.host)
        try:
            rtts = tb.ping_rtts(tb.ip[1])
            tcp = tb.iperf(tb.ip[1], a.seconds)
            udp = None
            if a.profile != "cprofile":
                u0, s0 = sw.cpu()
                tx0 = tb.tx_packets(1)
                udp = tb.iperf(tb.ip[1], a.seconds, udp=True)
                u1, s1 = sw.cpu()
                n = max(1, tb.tx_packets(1) - tx0)
                udp["forwarded_pps"] = n / a.seconds
                udp["cpu_user"], udp["cpu_sys"] = (u1 - u0) / n * 1e6, (s1 - s0) / n * 1e6
            u0, s0 = sw.cpu()
            blast = tb.blast(a.seconds)
            u1, s1 = sw.cpu()
            blast_cpu = (u1 - u0 + s1 - s0) / max(1.0, blast[1] * a.seconds) * 1e6
            if a.profile == "py-spy" and isinstance(sw, Switch):
                _py_spy(tb, sw, a.seconds)
        finally:
            print(sw.stop(), file=sys.stderr)
        if a.profile == "cprofile" and a.switch == "pyovs":
            sw = Switch(tb.host, profile="cprofile")
            try:
                udp = tb.iperf(tb.ip[1], a.seconds, udp=True)
            finally:
                print(sw.stop())
        print(f"ping RTT median      {statistics.median(rtts):.3f} ms ({len(rtts)}/20 replies)")
        print(f"iperf3 TCP           {tcp['gbps']:.2f} Gbit/s")
        if udp is not None:
            print(f"iperf3 UDP 64 B      {udp['pps'] / 1000:.1f} kpps received "
                  f"({udp['sent_pps'] / 1000:.1f} kpps sent)")
            if "cpu_user" in udp:
                print(f"switch forwarded     {udp['forwarded_pps'] / 1000:.1f} kpps; CPU per "
                      f"packet {udp['cpu_user']:.2f} us user + {udp['cpu_sys']:.2f} us system")
        print(f"raw 64 B blast       {blast[1] / 1000:.1f} kpps forwarded of "
              f"{blast[0] / 1000:.1f} kpps sent; switch CPU {blast_cpu:.2f} us/packet")
        print(f"load average         {os.getloadavg()[0]:.1f} (2 vCPUs shared)")
    finally:
        tb.down()
    return 0


def _py_spy(tb: Testbed, sw: Switch, seconds: float) -> None:
    spy = Path(sys.executable).with_name("py-spy")
    out = subprocess.Popen([str(spy), "record", "--pid", str(sw.proc.pid), "-d",
                            str(int(seconds)), "-f", "raw", "-o", "/tmp/dp-pyspy.txt",
                            "--nonblocking"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    tb.iperf(tb.ip[1], seconds, udp=True)
    out.wait()
    counts: dict[str, int] = {}
    with contextlib.suppress(OSError), open("/tmp/dp-pyspy.txt") as f:
        for line in f:
            stack, _, n = line.rpartition(" ")
            leaf = stack.split(";")[-1]
            counts[leaf] = counts.get(leaf, 0) + int(n)
    total = sum(counts.values()) or 1
    print("py-spy leaf functions (UDP run):")
    for leaf, n in sorted(counts.items(), key=lambda kv: -kv[1])[:15]:
        print(f"  {100 * n / total:5.1f}%  {leaf}")


if __name__ == "__main__":
    sys.exit(main())
