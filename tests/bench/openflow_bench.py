"""OpenFlow benchmark: the pyovs codec and pyovs-ofctl against the real ovs-ofctl.

    python -m tests.bench.openflow_bench [--quick] [--no-switch]

Design.  One generated set of *typical* flows (``make_flows``: L2 with VLAN
rewrites, L3 routes with TTL and MAC rewrites, TCP/UDP ACLs, ARP, conntrack
and register flows -- matches and actions a controller installs every day,
all expressible in OpenFlow 1.0 + NXM and in OpenFlow 1.3) is the input of
every figure:

``flow-mod encode`` / ``decode``
    In process, pyovs only: the flows are parsed once into ``FlowMod``
    values, then 10,000 are encoded into NXT_FLOW_MOD (OpenFlow 1.0 + NXM)
    or OFPT_FLOW_MOD (OpenFlow 1.3) messages with ``codec.encode``, and the
    messages decoded back with ``codec.decode`` (which includes OVS's checks
    of matches and actions).  Messages per second, median of the runs.  The
    real ovs-ofctl cannot encode or decode without also parsing or printing,
    so its side of these rows is empty; the rows below compare the tools.
``ofp-parse``
    Decode *and print*: ``ovs-ofctl ofp-parse FILE`` and ``pyovs-ofctl
    ofp-parse FILE`` on the same file of 10,000 binary OpenFlow 1.3 flow
    mods (stdout to /dev/null).
``parse-flows``
    Flow text to flow mods, printed: ``ovs-ofctl parse-flows FILE`` and
    ``pyovs-ofctl parse-flows FILE`` on the same file of 20,000 flows.
``add-flows``
    ``add-flows br0 FILE`` of the same 20,000 flows through each tool to a
    real ovs-vswitchd bridge (netdev datapath, in a network namespace, on
    pyovsdb-server -- the fixture of ``tests/interop/test_ofctl_switch.py``;
    root only), after ``del-flows``; each tool sends each flow mod with a
    barrier and waits, as ovs-ofctl does.  The table is checked afterwards
    (flow count from ``dump-aggregate``).

For the tool rows, process start-up is measured with a 1-flow (1-message)
file and subtracted: the rate is (N - 1) / (time(N) - time(1)), and the
start-up time is reported in its own row.  Tool runs alternate between the
tools (real, pyovs, real, pyovs...) so that other load on the shared
machine falls on both.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests import peers

REAL_OFCTL = Path("/usr/bin/ovs-ofctl")
PYOVS_OFCTL = peers.VENV_BIN / "pyovs-ofctl"
TOOLS = {"real": REAL_OFCTL, "pyovs": PYOVS_OFCTL}


@dataclass(frozen=True, slots=True)
class Settings:
    codec_messages: int  # flow mods encoded/decoded per in-process run
    codec_runs: int
    text_flows: int  # flows in the parse-flows / add-flows file
    tool_runs: int  # timed runs per tool and figure
    add_runs: int


FULL = Settings(codec_messages=10_000, codec_runs=5, text_flows=20_000, tool_runs=3,
                add_runs=3)
QUICK = Settings(codec_messages=10_000, codec_runs=2, text_flows=20_000, tool_runs=1,
                 add_runs=1)


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    label: str
    unit: str
    higher_is_better: bool


def rows(s: Settings) -> list[Row]:
    n, m = f"{s.text_flows:,}", f"{s.codec_messages:,}"
    return [
        Row("enc_nxm", f"flow-mod encode, OF1.0+NXM ({m} msgs, in process)", "msg/s", True),
        Row("enc_13", f"flow-mod encode, OF1.3 ({m} msgs, in process)", "msg/s", True),
        Row("dec_nxm", f"flow-mod decode, OF1.0+NXM ({m} msgs, in process)", "msg/s", True),
        Row("dec_13", f"flow-mod decode, OF1.3 ({m} msgs, in process)", "msg/s", True),
        Row("ofp_parse", f"ofp-parse (decode+print) of {m} OF1.3 flow mods", "msg/s", True),
        Row("parse", f"parse-flows of {n} flows", "flows/s", True),
        Row("add", f"add-flows of {n} flows to ovs-vswitchd", "flows/s", True),
        Row("start", "tool start-up (1-flow parse-flows)", "ms", False),
        Row("parse_total", f"parse-flows of {n} flows, whole run", "s", False),
        Row("add_total", f"add-flows of {n} flows, whole run", "s", False),
    ]


@dataclass(slots=True)
class Results:
    values: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, key: str, kind: str, value: float) -> None:
        self.values.setdefault((key, kind), []).append(value)

    def median(self, key: str, kind: str) -> float | None:
        v = self.values.get((key, kind))
        return statistics.median(v) if v else None


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- the flows ---------------------------------------------------------------------------

def make_flows(n: int, seed: int = 4) -> list[str]:
    """``n`` typical flows, all different rules (``add-flows`` installs every one)."""
    r = random.Random(seed)

    def mac(i: int) -> str:
        return f"52:54:00:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}"

    def net(i: int) -> str:
        # The first three octets differ for every flow, so /24s do too.
        return f"{10 + (i >> 16)}.{i >> 8 & 255}.{i & 255}"

    def port() -> int:
        return r.randrange(1, 48)

    makers: list[Callable[[int], str]] = [
        lambda i: (f"priority={r.randrange(100, 200)},in_port={port()},"
                   f"dl_vlan={r.randrange(1, 4095)},dl_dst={mac(i)},"
                   f"actions=strip_vlan,output:{port()}"),
        lambda i: (f"priority={r.randrange(200, 300)},ip,"
                   f"nw_dst={net(i)}.{r.choice(['0/24', '7'])},actions=dec_ttl,"
                   f"mod_dl_src:{mac(i)},mod_dl_dst:{mac(i + 1)},output:{port()}"),
        lambda i: (f"table=0,priority={r.randrange(300, 400)},tcp,nw_src={net(i)}.9,"
                   f"tp_dst={r.randrange(1, 65535)},actions=resubmit(,1)"),
        lambda i: (f"priority={r.randrange(300, 400)},udp,in_port={port()},"
                   f"nw_dst={net(i)}.3,tp_dst={r.randrange(1, 65535)},"
                   f"actions=mod_vlan_vid:{r.randrange(1, 4095)},output:{port()}"),
        lambda i: f"priority=500,arp,arp_tpa={net(i)}.1,actions=NORMAL",
        lambda i: (f"cookie=0x{r.randrange(1 << 32):x},priority=600,ct_state=-trk,tcp,"
                   f"nw_dst={net(i)}.5,actions=ct(table=2,zone={r.randrange(1, 100)})"),
        lambda i: (f"table=3,priority={r.randrange(1, 100)},reg0={i},ip,"
                   f"actions=load:{r.randrange(1, 99)}->NXM_NX_REG1[],resubmit(,4)"),
        lambda i: (f"idle_timeout=60,priority={r.randrange(700, 800)},in_port={port()},"
                   f"dl_src={mac(i)},actions=output:{port()},controller"),
    ]
    return [makers[i % len(makers)](i) for i in range(n)]


# --- in-process codec figures ---------------------------------------------------------

def codec_runs(flows: list[str], s: Settings, results: Results) -> list[bytes]:
    """Encode and decode rates; returns the OF1.3 messages for ofp-parse."""
    from pyovs.cli.ofctl_flow import parse_flow_mod
    from pyovs.openflow import codec

    fms = [parse_flow_mod(text)[0] for text in flows[:s.codec_messages]]
    of13: list[bytes] = []
    for key, version, raw in (("nxm", 1, "NXT_FLOW_MOD"), ("13", 4, "OFPT11_FLOW_MOD")):
        msgs = [codec.make(fm, version, i + 1, raw) for i, fm in enumerate(fms)]
        for r in range(s.codec_runs):
            t0 = time.perf_counter()
            encoded = [codec.encode(m) for m in msgs]
            t1 = time.perf_counter()
            for data in encoded:
                codec.decode(data)
            t2 = time.perf_counter()
            results.add(f"enc_{key}", "pyovs", len(msgs) / (t1 - t0))
            results.add(f"dec_{key}", "pyovs", len(msgs) / (t2 - t1))
            log(f"  pyovs codec {key} run {r + 1}/{s.codec_runs}: encode "
                f"{len(msgs) / (t1 - t0):,.0f} msg/s, decode {len(msgs) / (t2 - t1):,.0f} msg/s")
        if key == "13":
            of13 = encoded
    return of13


# --- tool figures -----------------------------------------------------------------------

def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       timeout=1800, env=env, check=False)
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}... failed ({p.returncode}): "
                           f"{p.stderr.strip()[:300]}")
    return elapsed


def tool_rates(s: Settings, results: Results, tmp: Path, flows: list[str],
               of13: list[bytes]) -> None:
    """parse-flows and ofp-parse through both tools, start-up subtracted."""
    big, one = tmp / "flows.txt", tmp / "one.txt"
    big.write_text("".join(f + "\n" for f in flows))
    one.write_text(flows[0] + "\n")
    msgs, one_msg = tmp / "msgs.bin", tmp / "one.bin"
    msgs.write_bytes(b"".join(of13))
    one_msg.write_bytes(of13[0])
    for r in range(s.tool_runs):
        for kind, tool in TOOLS.items():
            start = min(timed([str(tool), "parse-flows", str(one)]) for _ in range(3))
            whole = timed([str(tool), "parse-flows", str(big)])
            results.add("start", kind, start * 1000)
            results.add("parse_total", kind, whole)
            results.add("parse", kind, (len(flows) - 1) / max(whole - start, 1e-9))
            pstart = min(timed([str(tool), "ofp-parse", str(one_msg)]) for _ in range(3))
            pwhole = timed([str(tool), "ofp-parse", str(msgs)])
            results.add("ofp_parse", kind, (len(of13) - 1) / max(pwhole - pstart, 1e-9))
            log(f"  {kind} run {r + 1}/{s.tool_runs}: start-up {start * 1000:.0f} ms, "
                f"parse-flows {whole:.2f} s ({(len(flows) - 1) / (whole - start):,.0f} "
                f"flows/s), ofp-parse {pwhole:.2f} s")


@contextlib.contextmanager
def real_bridge(tmp: Path) -> Iterator[dict[str, str]]:
    """The interop tests' bridge: pyovsdb-server + ovs-vswitchd, netdev, own namespace."""
    # Loaded by path: tests/unit has a test_ofctl_switch module too.
    path = Path(__file__).resolve().parents[1] / "interop" / "test_ofctl_switch.py"
    spec = importlib.util.spec_from_file_location("interop_ofctl_switch_fixture", path)
    assert spec is not None and spec.loader is not None
    fixture = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fixture)
    reason = fixture._skip_reason()
    if reason:
        raise RuntimeError(reason)
    with fixture._switch(tmp) as env:
        yield env


def add_flows_runs(s: Settings, results: Results, tmp: Path, n: int) -> None:
    big = tmp / "flows.txt"
    with real_bridge(tmp / "switch") as env:
        for r in range(s.add_runs):
            for kind, tool in TOOLS.items():
                timed([str(tool), "del-flows", "br0"], env)
                whole = timed([str(tool), "add-flows", "br0", str(big)], env)
                count = subprocess.run([str(REAL_OFCTL), "dump-aggregate", "br0"],
                                       capture_output=True, text=True, env=env, timeout=120,
                                       check=False).stdout
                if f"flow_count={n}" not in count:
                    raise RuntimeError(f"{kind} add-flows left {count.strip()!r}")
                start = results.median("start", kind) or 0.0
                results.add("add_total", kind, whole)
                results.add("add", kind, (n - 1) / max(whole - start / 1000, 1e-9))
                log(f"  {kind} add-flows run {r + 1}/{s.add_runs}: {whole:.2f} s")


# --- report -------------------------------------------------------------------------------

def report(results: Results, s: Settings, quick: bool, elapsed: float,
           load: tuple[float, float]) -> None:
    from tests.bench.run import Metric, fmt, machine, verdict

    table = [("metric", "unit", "real", "pyovs", "pyovs/real", "better")]
    for row in rows(s):
        real, ours = results.median(row.key, "real"), results.median(row.key, "pyovs")
        ratio, better = verdict(Metric(row.key, row.label, row.unit, row.higher_is_better),
                                real, ours)
        table.append((row.label, row.unit, fmt(real), fmt(ours), ratio, better))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    print()
    print(f"OpenFlow benchmark: pyovs codec and pyovs-ofctl vs ovs-ofctl "
          f"({'quick' if quick else 'full'} run, medians)")
    for line in machine():
        print(line)
    print(f"load average (1 min) {load[0]:.2f} before, {load[1]:.2f} after")
    print()
    for i, r in enumerate(table):
        print("  ".join(c.ljust(w) if j < 2 or j == 5 else c.rjust(w)
                        for j, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print()
    print(f"runs: codec {s.codec_runs} x {s.codec_messages:,} messages; tools {s.tool_runs} "
          f"run(s) each, alternating; add-flows {s.add_runs} run(s) each.  Tool rates are "
          "(N - 1) / (time(N) - start-up); 'whole run' rows include start-up.")
    print("encode/decode have no real-tool equivalent (ovs-ofctl always parses or prints "
          "too): compare ofp-parse and parse-flows.")
    for note in results.notes:
        print(f"note: {note}")
    for failure in results.failures:
        print(f"failed: {failure[:600]}")
    print(f"\nOpenFlow benchmark took {elapsed:.0f} s")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.openflow_bench",
                                description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="one run per tool figure")
    p.add_argument("--no-switch", action="store_true",
                   help="skip add-flows (which needs root and ovs-vswitchd)")
    args = p.parse_args(argv)
    s = QUICK if args.quick else FULL
    results = Results()
    start = time.perf_counter()
    load_before = os.getloadavg()[0]
    flows = make_flows(max(s.text_flows, s.codec_messages))
    log("openflow: pyovs codec encode/decode")
    of13 = codec_runs(flows, s, results)
    with tempfile.TemporaryDirectory(prefix="pyovs-ofbench-") as tmp_name:
        tmp = Path(tmp_name)
        missing = [str(t) for t in TOOLS.values() if not os.access(t, os.X_OK)]
        if missing:
            results.notes.append(f"tool figures skipped: {', '.join(missing)} missing")
        else:
            log("openflow: parse-flows and ofp-parse through both tools")
            try:
                tool_rates(s, results, tmp, flows[:s.text_flows], of13)
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                results.failures.append(f"tool runs: {e}")
            if args.no_switch:
                results.notes.append("add-flows skipped (--no-switch)")
            elif os.geteuid() != 0:
                results.notes.append("add-flows skipped: needs root (network namespace)")
            else:
                log("openflow: add-flows to a real ovs-vswitchd bridge")
                try:
                    add_flows_runs(s, results, tmp, s.text_flows)
                except (RuntimeError, OSError, subprocess.SubprocessError,
                        AssertionError) as e:
                    results.failures.append(f"add-flows: {e}")
    report(results, s, args.quick, time.perf_counter() - start,
           (load_before, os.getloadavg()[0]))
    return 1 if results.failures else 0


if __name__ == "__main__":
    sys.exit(main())
