"""The real ovs-ofctl against pyovs-vswitchd and against the real ovs-vswitchd.

Both switches (``switch_peers``: each with its own OVSDB server in a private
directory, dummy ports, the same bridge name and datapath ID) receive the
very same ``ovs-ofctl -O VERSION`` commands, one scenario at a time from an
empty flow and group table, and must answer with the same exit status,
stdout and stderr.  The scenarios cover what a user types most: add-flow
with many matches and actions, dump-flows (with a filter), del-flows (also
``--strict``), dump-aggregate, dump-tables, show, dump-ports,
dump-ports-desc, add-group/dump-groups, packet-out and mod-port, and the
error replies for requests a switch must refuse -- and beyond: bundles,
queues, table descriptions and names, the TLV map, ``monitor`` (packet-ins,
flow removals, port status, flow monitors), in every version 1.0-1.5.

Below the CLI, a ``struct``-only controller (``switch_peers.RawController``)
holds byte-for-byte conversations with both switches over a controller
connection (roles, async configuration, errors, packet-outs and the
packet-ins they cause), and the table features, table statistics and long
flow dumps are compared as raw replies.

Masks (``_mask``), each for a difference that is not pyovs's to remove:

* durations and ages: wall-clock facts of each run;
* the switch's description (``dump-desc``: manufacturer, hardware and
  software): pyovs says what it is;
* ports' MAC addresses (``addr:``): the real dummy netdev numbers its MACs
  by creation order across the whole process (the internal port and the
  datapath's ``ovs-netdev`` count too), the bridge's is random;
* the LOCAL port's ``state``, ``current`` features and speed in port
  descriptions: under ``--enable-dummy=override`` the real bridge's
  internal port is a dummy, always up and without link features; pyovs's
  is a real tap device (or none without root), down until someone brings
  it up and 10MB-FD -- as the real OVS's would be outside its test mode;
* the order of ``dump-ports``, ``queue-stats`` and ``dump-groups`` entries: the
  real switch walks its port hash table and its group cmap, so the order is
  an accident of hashing and of the table's history; ovs-ofctl prints it as
  received and no client may depend on it, so they are compared sorted.

Known pyovs differences outside the two files this suite may fix (see the
strict xfails at the end) are masked in ``_mask_known`` with the reason, so
that the rest of each scenario is still compared; each has a strict xfail
that compares without that mask and so will report when it is fixed.
"""

from __future__ import annotations

import re
import secrets
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from switch_peers import (
    REAL_OFCTL,
    RawController,
    Switchd,
    bridge_name,
    mask_times,
    openflow_multipart,
    switchd,
    unavailable,
)

pytestmark = [pytest.mark.interop]

VERSIONS = ("OpenFlow10", "OpenFlow11", "OpenFlow12", "OpenFlow13", "OpenFlow14", "OpenFlow15")
UNSORTED_DUMP_VERSIONS = ("OpenFlow10", "OpenFlow13", "OpenFlow15")
PORTS = ("p1", "p2", "p3")

ARP = ("ffffffffffff" "aa5500000001" "0806" "0001080006040001" "aa5500000001" "0a000001"
       "000000000000" "0a000002")
UDP = ("aa5500000002" "aa5500000001" "0800" "45000020000100004011" "0000" "0a000001"
       "0a000002" "04d2162e000c0000" "64617461")


class Pair:
    """The two switches, and a way to run one command on both."""

    def __init__(self, real: Switchd, py: Switchd, bridge: str) -> None:
        self.real, self.py, self.bridge = real, py, bridge

    def both(self, *args: str) -> tuple[tuple[int, str, str], tuple[int, str, str]]:
        out = []
        for sw in (self.real, self.py):
            argv = [a.replace("BR", self.bridge) for a in args]
            proc = sw.ofctl(*argv)
            # Each switch has its own private directory, named in messages.
            here = str(sw.dir)
            out.append((proc.returncode, proc.stdout.replace(here, "RUNDIR"),
                        proc.stderr.replace(here, "RUNDIR")))
        return out[0], out[1]

    def reset(self) -> None:
        for sw in (self.real, self.py):
            for args in (("del-flows", self.bridge), ("-O", "OpenFlow13", "del-groups",
                                                       self.bridge)):
                proc = sw.ofctl(*args)
                assert proc.returncode == 0, (sw.kind, proc.stderr)
            for port in PORTS:
                for action in ("up", "flood", "receive", "forward", "packet-in"):
                    sw.ofctl("mod-port", self.bridge, port, action)
            sw.ofctl("add-flow", self.bridge, "priority=0,actions=NORMAL")


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("vswitchd-ofctl")
    br = bridge_name()
    with switchd("real", tmp) as real, switchd("pyovs", tmp) as py:
        for sw in (real, py):
            sw.add_bridge(br, PORTS)
        yield Pair(real, py, br)


_DESC = re.compile(r"^(Manufacturer: |Hardware: |Software: ).*$", re.M)
_ADDR = re.compile(r"addr:[0-9a-f:]{17}")
_LOCAL_PORT = re.compile(r"^ LOCAL\([^)]*\): addr:\S+\n(?:     .*\n)*", re.M)


def _mask_local_port(m: re.Match[str]) -> str:
    lines = m.group(0).splitlines(keepends=True)
    out = [lines[0]]
    for line in lines[1:]:
        if line.startswith("     state:"):
            line = "     state:      *\n"
        elif line.startswith("     speed:"):
            line = "     speed: *\n"
        elif line.startswith("     current:"):
            continue
        out.append(line)
    return "".join(out)


def _sort_blocks(text: str, first: str) -> str:
    """``text`` with its blocks (a line starting ``first`` and its indented
    continuation lines) sorted, other lines left where they are."""
    lines = text.split("\n")
    out: list[str] = []
    blocks: list[list[str]] = []
    for line in lines:
        if line.startswith(first):
            blocks.append([line])
        elif blocks and line.startswith("    ") and not line.startswith(first):
            blocks[-1].append(line)
        else:
            out.extend("\n".join(b) for b in sorted(blocks))
            blocks = []
            out.append(line)
    out.extend("\n".join(b) for b in sorted(blocks))
    return "\n".join(out)


def _mask(text: str) -> str:
    text = mask_times(text)
    text = _ADDR.sub("addr:*", text)
    text = _LOCAL_PORT.sub(_mask_local_port, text)
    if "OFPST_PORT reply" in text or "OFPST_QUEUE reply" in text:
        text = _sort_blocks(text, "  port ")
    text = _DESC.sub(r"\1*", text)
    if "GROUP_DESC reply" in text or "GROUP reply" in text:
        text = _sort_blocks(text, " group_id=")
    return text


_UNSUPPORTED = re.compile(r"\b(drop|errs|frame|over|crc|coll)=(\?|0)")
_CUSTOM = re.compile(r"^           CUSTOM Statistics\n(?:                      .*\n)*", re.M)
_DOWN_STATE = re.compile(r"(config: .*PORT_DOWN.*\n)\s+state: .*\n")


def _mask_known(text: str) -> str:
    """Known pyovs differences outside this suite's files (each pinned by an xfail).

    * ``dump-ports`` counters a dummy does not keep (drops, errors...) are
      "?" (UINT64_MAX) in OVS, 0 in pyovs's dummy netdev, and OVS's dummy
      has custom statistics (1.4+) that pyovs's has not;
    * ``mod-port ... down`` turns the real netdev down, so its state becomes
      LINK_DOWN; pyovs only records the config bit (bridge.py does not give
      ``PortInfo.set_admin``).
    """
    text = _UNSUPPORTED.sub(r"\1=*", text)
    text = _CUSTOM.sub("", text)
    return _DOWN_STATE.sub(r"\1     state:      *\n", text)


def compare(pair: Pair, *args: str, known: bool = True) -> str:
    real, py = pair.both(*args)
    fix = (lambda t: _mask_known(_mask(t))) if known else _mask
    r = (real[0], fix(real[1]), fix(real[2]))
    p = (py[0], fix(py[1]), fix(py[2]))
    assert p == r, f"ovs-ofctl {' '.join(args)}"
    return r[1]


@pytest.fixture
def fresh(pair: Pair) -> Pair:
    pair.reset()
    return pair


FLOWS = (
    "priority=100,in_port=1,actions=output:2",
    "priority=90,dl_src=aa:55:00:00:00:01,dl_dst=aa:55:00:00:00:02/ff:ff:ff:00:00:00,"
    "actions=mod_dl_src:00:00:00:00:00:09,output:3",
    "priority=80,dl_vlan=10,actions=strip_vlan,output:1",
    "priority=70,ip,nw_src=10.0.0.0/8,nw_dst=192.168.1.1,actions=mod_nw_dst:10.1.1.1,"
    "mod_nw_tos:16,output:2",
    "cookie=0x42,priority=60,tcp,tp_dst=80,actions=mod_tp_dst:8080,output:3",
    "priority=50,udp,tp_src=53,idle_timeout=60,hard_timeout=600,actions=drop",
    "priority=40,arp,arp_tpa=10.0.0.2,arp_op=1,actions=controller:100",
    "priority=30,ipv6,ipv6_src=2001:db8::/32,actions=output:1,output:2",
    "priority=20,icmp,icmp_type=8,actions=mod_vlan_vid:5,output:3",
    "table=1,priority=10,dl_type=0x88b5,actions=push_vlan:0x8100,set_field:7->vlan_vid,"
    "output:2",
    "priority=35,in_port=2,actions=resubmit(,1)",
    "priority=25,tcp6,tp_src=22,actions=dec_ttl,output:1",
    "priority=15,metadata=0x5,actions=set_field:0x1->metadata,output:1",
)


@pytest.mark.parametrize("version", VERSIONS)
def test_add_and_dump_flows(fresh: Pair, version: str) -> None:
    for flow in FLOWS:
        compare(fresh, "-O", version, "add-flow", "BR", flow)
    if version in UNSORTED_DUMP_VERSIONS:
        # A dump lists flows in the order OVS walks its classifier's subtables,
        # a hash table whose order also depends on what the table held before.
        # From one empty table pyovs follows it; after the other versions'
        # scenarios have passed through, only the sorted dump is stable.
        compare(fresh, "-O", version, "dump-flows", "BR")
    compare(fresh, "-O", version, "--sort", "dump-flows", "BR")
    compare(fresh, "-O", version, "dump-flows", "BR", "tcp")
    compare(fresh, "-O", version, "dump-flows", "BR", "table=1")
    compare(fresh, "-O", version, "dump-aggregate", "BR")
    compare(fresh, "-O", version, "dump-aggregate", "BR", "ip")


@pytest.mark.parametrize("version", VERSIONS)
def test_del_flows(fresh: Pair, version: str) -> None:
    for flow in FLOWS:
        compare(fresh, "-O", version, "add-flow", "BR", flow)
    compare(fresh, "-O", version, "del-flows", "--strict", "BR",
            "priority=100,in_port=1")
    compare(fresh, "-O", version, "del-flows", "--strict", "BR", "in_port=2")  # no match
    compare(fresh, "-O", version, "del-flows", "BR", "ip")
    compare(fresh, "-O", version, "del-flows", "BR", "cookie=0x42/-1")
    compare(fresh, "-O", version, "dump-flows", "BR")
    compare(fresh, "-O", version, "del-flows", "BR")
    compare(fresh, "-O", version, "dump-flows", "BR")


@pytest.mark.parametrize("version", VERSIONS)
def test_mod_flows(fresh: Pair, version: str) -> None:
    compare(fresh, "-O", version, "add-flow", "BR", "priority=5,in_port=1,actions=output:2")
    compare(fresh, "-O", version, "mod-flows", "BR", "in_port=1,actions=output:3")
    compare(fresh, "-O", version, "mod-flows", "--strict", "BR",
            "priority=5,in_port=1,actions=output:1")
    compare(fresh, "-O", version, "mod-flows", "BR", "in_port=3,actions=output:1")
    compare(fresh, "-O", version, "dump-flows", "BR")


@pytest.mark.parametrize("version", VERSIONS)
def test_bad_flows_are_refused_alike(fresh: Pair, version: str) -> None:
    compare(fresh, "-O", version, "add-flow", "BR", "in_port=1,actions=output:70000")
    compare(fresh, "-O", version, "add-flow", "BR", "table=1,actions=resubmit(,0)")
    compare(fresh, "-O", version, "add-flow", "BR", "actions=group:99")
    compare(fresh, "-O", version, "add-flow", "BR", "table=254,actions=drop")
    compare(fresh, "-O", version, "dump-flows", "BR")


@pytest.mark.parametrize("version", VERSIONS)
def test_show_and_ports(fresh: Pair, version: str) -> None:
    compare(fresh, "-O", version, "show", "BR")
    compare(fresh, "-O", version, "dump-ports-desc", "BR")
    compare(fresh, "-O", version, "dump-ports-desc", "BR", "2")
    compare(fresh, "-O", version, "dump-ports", "BR")
    compare(fresh, "-O", version, "dump-ports", "BR", "1")
    compare(fresh, "-O", version, "get-frags", "BR")
    compare(fresh, "-O", version, "dump-desc", "BR")


@pytest.mark.parametrize("version", VERSIONS)
def test_mod_port(fresh: Pair, version: str) -> None:
    for action in ("down", "no-flood", "no-receive", "no-forward", "no-packet-in"):
        compare(fresh, "-O", version, "mod-port", "BR", "p2", action)
    compare(fresh, "-O", version, "dump-ports-desc", "BR", "p2")
    compare(fresh, "-O", version, "mod-port", "BR", "nonexistent", "up")
    for action in ("up", "flood", "receive", "forward", "packet-in"):
        compare(fresh, "-O", version, "mod-port", "BR", "p2", action)
    compare(fresh, "-O", version, "dump-ports-desc", "BR", "p2")


@pytest.mark.parametrize("version", VERSIONS)
def test_dump_tables(fresh: Pair, version: str) -> None:
    compare(fresh, "-O", version, "add-flow", "BR", "table=3,actions=drop")
    compare(fresh, "-O", version, "dump-tables", "BR")


@pytest.mark.parametrize("version", VERSIONS)
def test_queues(fresh: Pair, version: str) -> None:
    compare(fresh, "-O", version, "queue-stats", "BR")
    compare(fresh, "-O", version, "queue-stats", "BR", "2")
    compare(fresh, "-O", version, "queue-stats", "BR", "2", "0")
    compare(fresh, "-O", version, "queue-stats", "BR", "2", "5")
    compare(fresh, "-O", version, "queue-stats", "BR", "9")
    compare(fresh, "-O", version, "queue-get-config", "BR")
    compare(fresh, "-O", version, "queue-get-config", "BR", "1")
    compare(fresh, "-O", version, "queue-get-config", "BR", "1", "0")


@pytest.mark.parametrize("version", ("OpenFlow13", "OpenFlow14", "OpenFlow15"))
def test_table_desc_and_mod(fresh: Pair, version: str) -> None:
    compare(fresh, "-O", version, "dump-table-desc", "BR")
    compare(fresh, "-O", version, "mod-table", "BR", "1", "evict")
    compare(fresh, "-O", version, "mod-table", "BR", "2", "vacancy:20,80")
    compare(fresh, "-O", version, "add-flow", "BR", "table=2,actions=drop")
    compare(fresh, "-O", version, "dump-table-desc", "BR")
    compare(fresh, "-O", version, "mod-table", "BR", "1", "noevict")
    compare(fresh, "-O", version, "mod-table", "BR", "2", "novacancy")
    compare(fresh, "-O", version, "mod-table", "BR", "254", "evict")
    compare(fresh, "-O", version, "dump-table-desc", "BR")


@pytest.mark.parametrize("version", VERSIONS)
def test_bundles(fresh: Pair, tmp_path: Path, version: str) -> None:
    good = tmp_path / "good.txt"
    good.write_text("priority=5,in_port=1,actions=output:2\npriority=6,ip,actions=drop\n"
                    "table=1,priority=7,udp,actions=output:3\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("priority=8,in_port=2,actions=output:1\npriority=9,ip,actions=group:77\n")
    compare(fresh, "-O", version, "--bundle", "add-flows", "BR", str(good))
    compare(fresh, "-O", version, "--bundle", "add-flows", "BR", str(bad))  # all or nothing
    compare(fresh, "-O", version, "dump-flows", "BR")
    compare(fresh, "-O", version, "--bundle", "replace-flows", "BR", str(good))
    compare(fresh, "-O", version, "dump-flows", "BR")
    compare(fresh, "-O", version, "--bundle", "add-group", "BR",
            "group_id=5,type=all,bucket=output:1")
    compare(fresh, "-O", version, "--bundle", "mod-port", "BR", "p1", "no-flood")
    compare(fresh, "-O", version, "--bundle", "del-flows", "BR")
    compare(fresh, "-O", version, "dump-flows", "BR")
    compare(fresh, "-O", version, "dump-groups", "BR")


def _monitor_both(pair: Pair, version: str, monitor_args: tuple[str, ...],
                  commands: tuple[tuple[str, ...], ...]) -> list[str]:
    """``ovs-ofctl monitor`` on both switches while ``commands`` run; what each printed."""
    monitors = []
    name = "monitor-" + secrets.token_hex(3)
    try:
        for sw in (pair.real, pair.py):
            out = open(sw.dir / name, "w")  # noqa: SIM115
            monitors.append((sw, out, subprocess.Popen(
                [str(REAL_OFCTL), "-O", version, "monitor", pair.bridge, *monitor_args],
                env=sw.env, stdout=out, stderr=subprocess.STDOUT)))
        time.sleep(2.0)  # both monitors connected and configured
        for sw in (pair.real, pair.py):
            for args in commands:
                argv = [a.replace("BR", pair.bridge) for a in args]
                proc = sw.ofctl("-O", version, *argv)
                assert proc.returncode == 0, proc.stderr
        # Until neither monitor has printed anything new for a second.
        sizes: tuple[int, ...] = ()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(1.0)
            now = tuple((sw.dir / name).stat().st_size for sw in (pair.real, pair.py))
            if now == sizes:
                break
            sizes = now
    finally:
        for _, out, proc in monitors:
            proc.terminate()
            proc.wait(5)
            out.close()
    return [_mask_known(_mask((sw.dir / name).read_text())) for sw in (pair.real, pair.py)]


@pytest.mark.parametrize("version", VERSIONS)
def test_monitor_sees_the_same_async_messages(fresh: Pair, version: str) -> None:
    """Packet-ins (NXT_PACKET_IN2, reason per version), flow removals, port status."""
    real, py = _monitor_both(fresh, version, ("65534",), (
        ("add-flow", "BR", "priority=9,send_flow_rem,in_port=3,actions=drop"),
        ("packet-out", "BR", "in_port=1,packet=" + ARP + ",actions=controller"),
        ("del-flows", "BR", "in_port=3"),
        ("mod-port", "BR", "p3", "no-flood"),
        ("mod-port", "BR", "p3", "no-receive"),
        ("mod-port", "BR", "p3", "receive")))
    assert "PACKET_IN" in real and "FLOW_REMOVED" in real
    assert py == real


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("watch", ["watch:", "watch:!initial,in_port=3",
                                   "watch:!actions,out_port=1", "watch:table=1,!delete"])
def test_flow_monitors(fresh: Pair, version: str, watch: str) -> None:
    """Initial, added, modified and deleted flows, as each kind of monitor sees them."""
    real, py = _monitor_both(fresh, version, (watch,), (
        ("add-flow", "BR", "priority=9,in_port=3,actions=drop"),
        ("add-flow", "BR", "table=1,priority=8,in_port=3,actions=output:2"),
        ("mod-flows", "BR", "in_port=3,actions=output:1"),
        ("mod-flows", "BR", "in_port=3,actions=output:1"),  # no change: no update
        ("add-flow", "BR", "priority=9,in_port=3,actions=output:1"),
        ("del-flows", "BR", "in_port=3"),
        ("add-group", "BR", "group_id=7,type=all,bucket=output:1"),
        ("add-flow", "BR", "priority=7,in_port=2,actions=group:7"),
        ("del-groups", "BR", "group_id=7")))
    assert "FLOW_MONITOR" in real
    assert py == real


@pytest.mark.parametrize("version", ("OpenFlow13", "OpenFlow14", "OpenFlow15"))
def test_table_names_through_table_features(fresh: Pair, version: str) -> None:
    """``mod-table N name:X`` sends the table features back with a name changed."""
    try:
        compare(fresh, "-O", version, "mod-table", "BR", "1", "name:first")
        compare(fresh, "-O", version, "mod-table", "BR", "2", "name:second")
        compare(fresh, "-O", "OpenFlow10", "dump-tables", "BR")
        compare(fresh, "-O", version, "add-flow", "BR", "table=second,actions=drop")
        compare(fresh, "-O", version, "--names", "dump-flows", "BR")
        compare(fresh, "-O", version, "mod-table", "BR", "1", "name:")
        compare(fresh, "-O", "OpenFlow10", "dump-tables", "BR")
    finally:
        for sw in (fresh.real, fresh.py):
            for table in ("1", "2"):
                sw.ofctl("-O", "OpenFlow15", "mod-table", fresh.bridge, table, "name:")


@pytest.mark.parametrize("version", VERSIONS)
def test_nicira_extensions(fresh: Pair, version: str) -> None:
    """IPFIX statistics (none configured), conntrack flushes, the TLV map."""
    compare(fresh, "-O", version, "dump-ipfix-bridge", "BR")
    compare(fresh, "-O", version, "dump-ipfix-flow", "BR")
    compare(fresh, "-O", version, "ct-flush-zone", "BR", "5")
    compare(fresh, "-O", version, "ct-flush", "BR")
    tlv = "{class=0xffff,type=%d,len=%d}->tun_metadata%d"
    compare(fresh, "-O", version, "add-tlv-map", "BR", tlv % (0, 4, 0))
    compare(fresh, "-O", version, "add-tlv-map", "BR",
            ",".join((tlv % (1, 8, 1), tlv % (2, 124, 2))))
    compare(fresh, "-O", version, "add-tlv-map", "BR", tlv % (0, 4, 3))  # duplicate option
    compare(fresh, "-O", version, "add-tlv-map", "BR", tlv % (5, 4, 0))  # index taken
    compare(fresh, "-O", version, "add-tlv-map", "BR", tlv % (6, 124, 6))  # no room
    compare(fresh, "-O", version, "dump-tlv-map", "BR")
    compare(fresh, "-O", version, "del-tlv-map", "BR", tlv % (1, 8, 1))
    compare(fresh, "-O", version, "dump-tlv-map", "BR")
    compare(fresh, "-O", version, "del-tlv-map", "BR")
    compare(fresh, "-O", version, "dump-tlv-map", "BR")


@pytest.mark.parametrize("version", VERSIONS)
def test_groups(fresh: Pair, version: str) -> None:
    compare(fresh, "-O", version, "add-group", "BR",
            "group_id=1,type=all,bucket=output:1,bucket=output:2")
    compare(fresh, "-O", version, "add-group", "BR",
            "group_id=2,type=select,bucket=weight:10,output:1,bucket=weight:20,output:3")
    compare(fresh, "-O", version, "add-group", "BR",
            "group_id=3,type=fast_failover,bucket=watch_port:1,output:1,"
            "bucket=watch_port:2,output:2")
    compare(fresh, "-O", version, "add-group", "BR", "group_id=4,type=indirect,bucket=output:2")
    compare(fresh, "-O", version, "add-group", "BR", "group_id=1,type=all,bucket=output:3")
    compare(fresh, "-O", version, "add-flow", "BR", "priority=9,in_port=3,actions=group:1")
    compare(fresh, "-O", version, "dump-groups", "BR")
    compare(fresh, "-O", version, "dump-groups", "BR", "3")
    compare(fresh, "-O", version, "dump-group-stats", "BR")
    compare(fresh, "-O", version, "mod-group", "BR", "group_id=4,type=indirect,bucket=output:3")
    compare(fresh, "-O", version, "del-groups", "BR", "group_id=2")
    compare(fresh, "-O", version, "dump-groups", "BR")
    compare(fresh, "-O", version, "dump-group-features", "BR")


@pytest.mark.parametrize("version", VERSIONS)
def test_packet_out(fresh: Pair, version: str) -> None:
    compare(fresh, "-O", version, "packet-out", "BR", "in_port=controller,packet=" + UDP +
            ",actions=output:2")
    compare(fresh, "-O", version, "packet-out", "BR", "in_port=1,packet=" + ARP +
            ",actions=normal")
    compare(fresh, "-O", version, "packet-out", "BR", "in_port=70000,packet=" + ARP +
            ",actions=output:2")
    compare(fresh, "-O", version, "packet-out", "BR", "in_port=1,packet=" + ARP +
            ",actions=output:9")
    real, py = fresh.real.sent(), fresh.py.sent()
    assert py == real
    assert real["p2"] and real["p3"], real


@pytest.mark.parametrize("version", (4, 5, 6))
def test_table_features_reply_is_byte_identical(pair: Pair, version: int) -> None:
    """ovs-ofctl asks for table features before most 1.3+ commands; OVS's exact reply."""
    real = openflow_multipart(pair.real.dir / f"{pair.bridge}.mgmt", version, 12)
    py = openflow_multipart(pair.py.dir / f"{pair.bridge}.mgmt", version, 12)
    # xids and everything else must match; the parts are compared whole.
    assert [len(p) for p in py] == [len(p) for p in real]
    assert py == real, _first_difference(b"".join(py), b"".join(real))


@pytest.mark.parametrize("version", (1, 2, 3, 4))
def test_table_stats_reply_is_byte_identical(pair: Pair, version: int) -> None:
    """The 1.0-1.2 table statistics carry OVS's build-fixed features."""
    pair.reset()
    real = openflow_multipart(pair.real.dir / f"{pair.bridge}.mgmt", version, 3)
    py = openflow_multipart(pair.py.dir / f"{pair.bridge}.mgmt", version, 3)
    assert py == real, _first_difference(b"".join(py), b"".join(real))


def _first_difference(a: bytes, b: bytes) -> str:
    at = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
    return (f"lengths {len(a)} and {len(b)}, first difference at byte {at}: "
            f"{a[at - 8:at + 24].hex()} != {b[at - 8:at + 24].hex()}")


def test_dummy_ports_have_no_link_features(fresh: Pair) -> None:
    out = compare(fresh, "-O", "OpenFlow15", "dump-ports-desc", "BR", "1", known=False)
    assert "speed: 0 Mbps now, 0 Mbps max" in out


@pytest.mark.xfail(strict=True, reason="datapath/netdev/dummy.py reports 0 for the counters "
                   "OVS's dummy does not keep (OVS: UINT64_MAX, printed '?') and has no "
                   "custom statistics (OVS's dummy: rx_custom_packets_1/2, per-queue)")
def test_dummy_port_stats_unsupported_counters(fresh: Pair) -> None:
    compare(fresh, "-O", "OpenFlow13", "dump-ports", "BR", "1", known=False)


def test_port_down_takes_the_link_down(fresh: Pair) -> None:
    compare(fresh, "-O", "OpenFlow10", "mod-port", "BR", "p2", "down")
    real, py = fresh.both("-O", "OpenFlow15", "dump-ports-desc", "BR", "2")
    assert "LINK_DOWN" in real[1]
    assert "LINK_DOWN" in py[1]


def test_flow_table_names_and_limits(fresh: Pair) -> None:
    try:
        for sw in (fresh.real, fresh.py):
            sw.vsctl("--", "--id=@ft", "create", "Flow_Table", "name=mytable", "flow_limit=5",
                     "--", "set", "Bridge", fresh.bridge, "flow_tables:1=@ft")
        compare(fresh, "-O", "OpenFlow13", "add-flow", "BR", "table=mytable,actions=drop")
        compare(fresh, "-O", "OpenFlow13", "--names", "dump-flows", "BR")
        compare(fresh, "-O", "OpenFlow10", "dump-tables", "BR")
    finally:
        for sw in (fresh.real, fresh.py):
            sw.vsctl("clear", "Bridge", fresh.bridge, "flow_tables")


# --- a controller connection, byte for byte ------------------------------------------

_MATCH_ANY = struct.pack("!HH4x", 1, 4)  # OXM match with no fields


def _flow_mod13(command: int = 0, priority: int = 100) -> bytes:
    out = struct.pack("!QQBBHHHIIIH2x", 0, 0, 0, command, 0, 0, priority, 0xFFFFFFFF,
                      0xFFFFFFFF, 0xFFFFFFFF, 0)
    apply_output = struct.pack("!HH", 4, 24) + bytes(4) + struct.pack("!HHIH6x", 0, 16, 2,
                                                                      0xFFFF)
    return out + _MATCH_ANY + apply_output


FRAME = bytes.fromhex("ffffffffffff020000000001") + b"\x88\xb5" + b"x" * 45 + b"PKT"
"""A frame for packet-outs that come back as packet-ins (its "PKT" end marks them)."""


def _packet_out13(in_port: int, out_port: int, max_len: int = 0xFFFF) -> bytes:
    action = struct.pack("!HHIH6x", 0, 16, out_port, max_len)
    return struct.pack("!IIH6x", 0xFFFFFFFF, in_port, len(action)) + action + FRAME


def _packet_out15(in_port: int, out_port: int, max_len: int = 0xFFFF) -> bytes:
    action = struct.pack("!HHIH6x", 0, 16, out_port, max_len)
    match = struct.pack("!HH", 1, 12) + struct.pack("!IIxxxx", 0x80000004, in_port)
    return struct.pack("!IH2x", 0xFFFFFFFF, len(action)) + match + action + FRAME


def _packet_out10(in_port: int, out_port: int, max_len: int = 0xFFFF) -> bytes:
    action = struct.pack("!HHHH", 0, 8, out_port, max_len)
    return struct.pack("!IHH", 0xFFFFFFFF, in_port, len(action)) + action + FRAME


def _role13(role: int, generation: int) -> bytes:
    return struct.pack("!I4xQ", role, generation)


# (message type, body) sent one at a time over an OpenFlow 1.3 controller connection.
CONVERSATION_13: tuple[tuple[int, bytes], ...] = (
    (5, b""),                                        # features request
    (7, b""),                                        # get config
    (13, _packet_out13(1, 0xFFFFFFFD)),              # packet-out to the controller
    (13, _packet_out13(0xFFFFFFFD, 0xFFFFFFFD, 20)),  # from the controller, "cut to 20"
    (9, struct.pack("!HH", 1, 200)), (7, b""),       # set config, get config
    (24, _role13(0, 0)),                             # role: no change
    (24, _role13(2, 5)),                             # master, generation 5
    (24, _role13(3, 4)),                             # slave, stale generation
    (24, _role13(3, 6)),                             # slave
    (14, _flow_mod13()),                             # flow mod as slave: refused
    (24, _role13(1, 0)),                             # equal
    (14, _flow_mod13()),                             # accepted
    (14, _flow_mod13(command=9)),                    # bad command
    (26, b""),                                       # get async
    (28, struct.pack("!IIIIII", 3, 1, 7, 0, 15, 1)), (26, b""),  # set async, get async
    (2, b"ping"),                                    # echo
    (99, b""),                                       # no such type
    (18, struct.pack("!HH4x", 3, 0)),                # table stats
    (18, struct.pack("!HH4x", 8, 0)),                # group features
    (18, struct.pack("!HH4x", 11, 0)),               # meter features
    (18, struct.pack("!HH4x", 99, 0)),               # no such multipart
    (22, struct.pack("!I4x", 0xFFFFFFFF)),           # queue get config, any port
    (17, struct.pack("!B3xI", 1, 0)),                # table mod
    (16, struct.pack("!I4s6s2xIII4x", 77, bytes(4), bytes(6), 0, 0, 0)),  # port mod: no port
    (15, struct.pack("!HBxI", 0, 9, 1)),             # group mod: bad type
)


def _nx(subtype: int, body: bytes = b"") -> bytes:
    """A Nicira vendor message body (OpenFlow 1.0 type 4)."""
    return struct.pack("!II", 0x2320, subtype) + body


def _flow_mod10(command: int = 0) -> bytes:
    match = struct.pack("!I", 0x3FFFFF) + bytes(36)  # ofp10_match, all wild
    action = struct.pack("!HHHH", 0, 8, 2, 0xFFFF)  # output:2
    return match + struct.pack("!QHHHHIHH", 0, command, 0, 0, 100, 0xFFFFFFFF, 0xFFFF,
                               0) + action


# (No features request: in 1.0 its reply lists the ports, whose MACs differ.)
CONVERSATION_10: tuple[tuple[int, bytes], ...] = (
    (7, b""),
    (13, _packet_out10(1, 0xFFFD)),                      # packet-out to the controller
    (13, _packet_out10(0xFFFD, 0xFFFD, 20)),             # cut to 20 bytes?
    (9, struct.pack("!HH", 1, 200)), (7, b""),
    (4, _nx(10, struct.pack("!I", 0))),                  # NXT role request: other
    (4, _nx(10, struct.pack("!I", 2))),                  # slave
    (14, _flow_mod10()),                                 # refused as slave
    (4, _nx(10, struct.pack("!I", 1))),                  # master
    (14, _flow_mod10()), (14, _flow_mod10(command=9)),
    (4, _nx(19, struct.pack("!6I", 3, 1, 7, 0, 15, 1))),  # NXT set async config
    (2, b"ping"), (99, b""),
    (16, struct.pack("!HH", 3, 0)),                      # table stats
    (16, struct.pack("!HH", 99, 0)),                     # no such statistics
    (20, struct.pack("!H2x", 1)),                        # queue get config, port 1
    (15, struct.pack("!H6sIII4x", 77, bytes(6), 0, 0, 0)),  # port mod: no port
    (4, _nx(999)),                                       # no such Nicira message
)

CONVERSATION_15: tuple[tuple[int, bytes], ...] = (
    *CONVERSATION_13[:2],
    (13, _packet_out15(1, 0xFFFFFFFD)),
    (13, _packet_out15(0xFFFFFFFD, 0xFFFFFFFD, 20)),
    *CONVERSATION_13[4:14],
    (26, b""),
    (28, struct.pack("!HHIHHI", 1, 8, 3, 0, 8, 1)), (26, b""),  # set async (properties)
    (2, b"ping"), (99, b""),
    (18, struct.pack("!HH4x", 3, 0)), (18, struct.pack("!HH4x", 8, 0)),
    (18, struct.pack("!HH4x", 11, 0)), (18, struct.pack("!HH4x", 99, 0)),
    (18, struct.pack("!HH4xII", 15, 0, 0xFFFFFFFF, 0xFFFFFFFF)),  # queue desc
    (17, struct.pack("!B3xI", 1, 0)),
    (16, struct.pack("!I4s6s2xII", 77, bytes(4), bytes(6), 0, 0)),  # port mod: no port
)


@pytest.mark.parametrize(("version", "conversation"), [
    pytest.param(1, CONVERSATION_10, id="OpenFlow10"),
    pytest.param(4, CONVERSATION_13, id="OpenFlow13"),
    pytest.param(6, CONVERSATION_15, id="OpenFlow15"),
])
def test_controller_conversation_is_byte_identical(
        tmp_path: Path, version: int, conversation: tuple[tuple[int, bytes], ...]) -> None:
    """Roles, async configuration, errors... over a controller connection, as raw bytes."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    br = bridge_name()
    protocols = {1: "OpenFlow10", 4: "OpenFlow13", 6: "OpenFlow15"}[version]
    answers = []
    with switchd("real", tmp_path) as real, switchd("pyovs", tmp_path) as py:
        for sw in (real, py):
            ctl = RawController()
            try:
                sw.add_bridge(br, ("p1",))
                sw.vsctl("set-fail-mode", br, "secure", "--", "set", "bridge", br,
                         f"protocols={protocols}", "--", "set-controller", br, ctl.target,
                         "--", "set", "controller", br, "connection-mode=out-of-band")
                ctl.accept(version)
                got = [ctl.hello]
                for i, (msg_type, body) in enumerate(conversation, 1):
                    n_async = 1 if msg_type == 13 and body.endswith(b"PKT") else 0
                    got.append(b"".join(ctl.exchange(version, msg_type, i, body, n_async)))
                answers.append(got)
            finally:
                ctl.close()
    real_got, py_got = answers
    for (msg_type, body), r, p in zip(((0, b""), *conversation), real_got, py_got,
                                      strict=True):
        assert p == r, f"type {msg_type} {body.hex()}: pyovs {p.hex()} real {r.hex()}"


def _flow_mod(version: int, priority: int, to_controller: bool) -> bytes:
    """A flow mod (type 14) matching everything, to the controller or dropping."""
    if version == 1:
        match = struct.pack("!I", 0x3FFFFF) + bytes(36)
        action = struct.pack("!HHHH", 0, 8, 0xFFFD, 0xFFFF) if to_controller else b""
        return match + struct.pack("!QHHHHIHH", 0x77, 0, 0, 0, priority, 0xFFFFFFFF,
                                   0xFFFF, 0) + action
    action = struct.pack("!HHIH6x", 0, 16, 0xFFFFFFFD, 0xFFFF)
    inst = struct.pack("!HH4x", 4, 8 + len(action)) + action if to_controller else b""
    return struct.pack("!QQBBHHHIIIH2x", 0x77, 0, 0, 0, 0, 0, priority, 0xFFFFFFFF,
                       0xFFFFFFFF, 0xFFFFFFFF, 0) + _MATCH_ANY + inst


@pytest.mark.parametrize("version", [1, 4, 6])
@pytest.mark.parametrize("scenario", ["no_flow", "table_miss_flow", "flow"])
def test_packet_ins_from_the_datapath_are_byte_identical(
        tmp_path: Path, version: int, scenario: str) -> None:
    """A frame received on a port goes up: with no flow (1.0 only), by a table-miss flow,
    by another flow."""
    reason = unavailable()
    if reason:
        pytest.skip(reason)
    br = bridge_name()
    protocols = {1: "OpenFlow10", 4: "OpenFlow13", 6: "OpenFlow15"}[version]
    frame = bytes.fromhex("ffffffffffff020000000001") + b"\x88\xb5" + b"y" * 46
    answers = []
    with switchd("real", tmp_path) as real, switchd("pyovs", tmp_path) as py:
        for sw in (real, py):
            ctl = RawController()
            try:
                sw.add_bridge(br, ("p1", "p2"))
                sw.vsctl("set-fail-mode", br, "secure", "--", "set", "bridge", br,
                         f"protocols={protocols}", "--", "set-controller", br, ctl.target,
                         "--", "set", "controller", br, "connection-mode=out-of-band")
                ctl.accept(version)
                ctl.exchange(version, 14, 1, _delete_all(version))
                if scenario != "no_flow":
                    priority = 0 if scenario == "table_miss_flow" else 10
                    ctl.exchange(version, 14, 2, _flow_mod(version, priority, True))
                sw.receive("p1", frame)
                answers.append(ctl.exchange(version, 2, 3, b"", n_async=1))
            finally:
                ctl.close()
    assert answers[1] == answers[0], [[m.hex() for m in a] for a in answers]
    if scenario != "no_flow" or version == 1:
        assert len(answers[0]) == 2, "the real switch sent no packet-in"


def _delete_all(version: int) -> bytes:
    """A flow mod deleting every flow (type 14)."""
    if version == 1:
        match = struct.pack("!I", 0x3FFFFF) + bytes(36)
        return match + struct.pack("!QHHHHIHH", 0, 3, 0, 0, 0, 0xFFFFFFFF, 0xFFFF, 0)
    return struct.pack("!QQBBHHHIIIH2x", 0, 0, 0xFF, 3, 0, 0, 0, 0xFFFFFFFF, 0xFFFFFFFF,
                       0xFFFFFFFF, 0) + _MATCH_ANY


def test_long_flow_dumps_are_cut_where_ovs_cuts_them(fresh: Pair, tmp_path: Path) -> None:
    """A flow stats reply is split into parts of at most 64 kB, entry by entry, as OVS does."""
    flows = tmp_path / "flows.txt"
    flows.write_text("".join(f"priority={i % 7 + 1},tcp,tp_dst={i},actions=output:{i % 3 + 1}\n"
                             for i in range(1, 1501)))
    compare(fresh, "-O", "OpenFlow13", "add-flows", "BR", str(flows))
    request = struct.pack("!B3xII4xQQ", 0xFF, 0xFFFFFFFF, 0xFFFFFFFF, 0, 0) + _MATCH_ANY
    sizes = []
    for sw in (fresh.real, fresh.py):
        parts = openflow_multipart(sw.dir / f"{fresh.bridge}.mgmt", 4, 1, request)
        sizes.append([len(p) for p in parts])
    assert len(sizes[0]) > 1
    assert sizes[1] == sizes[0]
