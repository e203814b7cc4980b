"""The userspace datapath between two network namespaces, with real kernel traffic.

Each test builds its own namespaces and veth pairs (a per-test token in
every name, deleted even when the test fails) and runs the datapath alone
in the test process (its event loop on a thread, ``ThreadSwitch`` of
``tests/bench/datapath_bench.py``) with the trivial slow path: a miss
goes out of the other port, mask ``in_port`` only.  The namespaces keep
the kernel's default offloads, so TCP arrives checksum-pending and as GSO
super-packets: iperf3 working at Gbit/s proves the vnet header is carried
through.  Needs root, iproute2, ping and iperf3; skipped with the reason
otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.datapath_bench import Testbed, ThreadSwitch, sh

pytestmark = [pytest.mark.root]

_MISSING = [tool for tool in ("ip", "ping", "iperf3") if shutil.which(tool) is None]
if os.geteuid() != 0:
    pytest.skip("needs root to create network namespaces and veth pairs",
                allow_module_level=True)
if _MISSING:
    pytest.skip(f"needs {', '.join(_MISSING)}", allow_module_level=True)


@pytest.fixture
def testbed() -> Iterator[Testbed]:
    tb = Testbed()
    try:
        tb.up()
        yield tb
    finally:
        tb.down()


def test_ping_tcp_and_udp_cross_the_switch(testbed: Testbed) -> None:
    """The datapath in this process: two misses, then everything in the fast path."""
    sw = ThreadSwitch(testbed.host)
    try:
        rtts = testbed.ping_rtts(testbed.ip[1], count=10)
        assert len(rtts) == 10
        tcp = testbed.iperf(testbed.ip[1], 3)
        print(f"\niperf3 TCP through the datapath: {tcp['gbps']:.2f} Gbit/s "
              f"(ping median {sorted(rtts)[len(rtts) // 2]:.3f} ms)")
        assert tcp["gbps"] > 0.5
        udp = testbed.iperf(testbed.ip[1], 2, udp=True)
        print(f"iperf3 UDP 64 B: {udp['pps'] / 1000:.1f} kpps received")
        assert udp["pps"] > 1000
        flows = sw.call(lambda: list(sw.dp.dump_flows()))
        counters = sw.call(sw.dp.counters)
    finally:
        sw.stop()
    assert sorted(f.key["in_port"] for f in flows) == [1, 2]  # mask: in_port only
    assert counters["missed"] == 2 and counters["hit"] > 10000


# Run in the namespaces (this kernel may lack 8021q, so no VLAN subinterfaces):
# the sender writes tagged frames through AF_PACKET, one of them a TCP segment
# with its checksum left pending (vnet header); the receiver reads with
# PACKET_AUXDATA and PACKET_VNET_HDR and reports what arrived.
VLAN_PEER = r"""
import json, socket, struct, sys, time
from pyovs.packet import build
from pyovs.packet.vnet import VNET, NEEDS_CSUM, finish
from pyovs.packet.csum import pseudo_sum_v4
role, dev = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.setsockopt(263, 15, 1)  # PACKET_VNET_HDR
s.setsockopt(263, 8, 1)   # PACKET_AUXDATA
s.bind((dev, 3))
A, B = 0x0A4D0001, 0x0A4D0002
udp = build.eth(0x020000000002, 0x020000000001, 0x0800,
                build.ipv4(A, B, 17, build.udp(1, 2, b"tagged!", A, B)), ((0x8100, 0x2000 | 10),))
tcp = bytearray(build.eth(0x020000000002, 0x020000000001, 0x0800,
                build.ipv4(A, B, 6, build.tcp(1, 2, b"pending" * 20, A, B)), ((0x8100, 10),)))
want_tcp = bytes(tcp)
seed = pseudo_sum_v4(tcp[30:34], tcp[34:38], 6, len(tcp) - 38)
tcp[54:56] = seed.to_bytes(2, "big")
if role == "send":
    for _ in range(5):
        s.send(bytes(10) + udp)
        s.send(VNET.pack(NEEDS_CSUM, 0, 0, 0, 38, 16) + bytes(tcp))
        time.sleep(0.05)
    sys.exit(0)
s.settimeout(0.2)
print("ready", flush=True)
seen = {"udp": 0, "tcp": 0, "tcp_ok": 0}
deadline = time.time() + float(sys.argv[3])
while time.time() < deadline:
    try:
        data, anc, flags, addr = s.recvmsg(65600, 1024)
    except socket.timeout:
        continue
    vnet, frame = data[:10], data[10:]
    for level, kind, cdata in anc:
        status, _, _, _, _, tci, tpid = struct.unpack("IIIHHHH", cdata[:20])
        if status & 0x10:
            frame = frame[:12] + struct.pack("!HH", tpid or 0x8100, tci) + frame[12:]
            if vnet[0] & NEEDS_CSUM:
                f, g, hl, gs, start, off = VNET.unpack(vnet)
                vnet = VNET.pack(f, g, hl, gs, start + 4, off)
    if frame == udp:
        seen["udp"] += 1
    elif frame[:54] == want_tcp[:54]:
        seen["tcp"] += 1
        seen["tcp_ok"] += finish(frame, vnet if vnet[0] & NEEDS_CSUM else b"")[0] == want_tcp
print(json.dumps(seen))
"""


def test_vlan_tags_cross_the_switch(testbed: Testbed) -> None:
    """A tag the kernel moved into metadata is back in the frame on the other side,
    and a pending checksum's csum_start moved with it."""
    sw = ThreadSwitch(testbed.host)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    try:
        rx = subprocess.Popen(["ip", "netns", "exec", testbed.ns[1], sys.executable, "-c",
                               VLAN_PEER, "recv", testbed.inner[1], "2"],
                              stdout=subprocess.PIPE, text=True, env=env)
        assert rx.stdout is not None and rx.stdout.readline() == "ready\n"
        subprocess.run(["ip", "netns", "exec", testbed.ns[0], sys.executable, "-c", VLAN_PEER,
                        "send", testbed.inner[0]], check=True, env=env, timeout=30)
        out, _ = rx.communicate(timeout=30)
    finally:
        sw.stop()
    seen = json.loads(out)
    assert seen["udp"] == 5
    assert seen["tcp"] == 5 and seen["tcp_ok"] == 5


def test_an_internal_port_carries_traffic(testbed: Testbed) -> None:
    """Namespace a's veth <-> the switch <-> an internal (tap) port moved into namespace b."""
    name = f"dpi{testbed.token}"
    sh("ip", "netns", "exec", testbed.ns[1], "ip", "link", "set", testbed.inner[1], "down")
    sw = ThreadSwitch([testbed.host[0], f"{name}:internal"])
    try:
        sh("ip", "link", "set", name, "netns", testbed.ns[1])
        testbed.quiet(testbed.ns[1], name)
        sh("ip", "-n", testbed.ns[1], "addr", "add", "10.77.0.3/24", "dev", name)
        sh("ip", "-n", testbed.ns[1], "link", "set", name, "up")
        assert len(testbed.ping_rtts("10.77.0.3", count=5)) == 5
        tcp = testbed.iperf("10.77.0.3", 2)
        print(f"\niperf3 TCP veth -> internal port: {tcp['gbps']:.2f} Gbit/s")
        assert tcp["gbps"] > 0.1
    finally:
        sw.stop()
    # The internal device went away with the switch.
    r = subprocess.run(["ip", "-n", testbed.ns[1], "link", "show", name], capture_output=True)
    assert r.returncode != 0


def test_a_missing_device_is_ovs_error_text() -> None:
    from pyovs.datapath.netdev import NetdevError, open_netdev
    with pytest.raises(NetdevError) as e:
        open_netdev("nosuchdev0", "system")
    assert str(e.value) == "could not open network device nosuchdev0 (No such device)"


def test_status_and_stats_of_system_and_tap_devices(testbed: Testbed) -> None:
    from pyovs.datapath.netdev import NetdevError, open_netdev
    host = testbed.host[0]
    dev = open_netdev(host, "system")
    try:
        st = dev.status()
        mac = Path(f"/sys/class/net/{host}/address").read_text().strip()
        assert st.mac.hex(":") == mac and st.mtu == 1500 and st.admin_up
        assert st.ifindex == int(Path(f"/sys/class/net/{host}/ifindex").read_text())
        before = dev.stats().tx_packets
        dev.send(bytes.fromhex("ffffffffffff020000000001") + b"\x08\x00" + bytes(46))
        assert dev.stats().tx_packets == before + 1
        dev.set_admin_up(False)
        assert not dev.status().admin_up
    finally:
        dev.close()
    tap = f"dpt{testbed.token}"
    with pytest.raises(NetdevError, match=r"\(No such device\)"):
        open_netdev(tap, "tap")
    sh("ip", "tuntap", "add", "mode", "tap", "name", tap)
    try:
        dev = open_netdev(tap, "tap")
        dev.set_mac(b"\x02\x00\x00\x00\x00\x42")
        dev.set_admin_up(True)
        st = dev.status()
        assert st.mac == b"\x02\x00\x00\x00\x00\x42" and st.admin_up and st.carrier
        dev.send(bytes.fromhex("ffffffffffff020000000001") + b"\x08\x00" + bytes(46))
        assert dev.stats().tx_packets == 1  # the switch's view: the kernel received it
        dev.close()
    finally:
        sh("ip", "link", "del", tap, check=False)
