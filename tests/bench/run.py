"""``make bench``: pyovsdb-server against the real ovsdb-server, side by side.

    python -m tests.bench.run [--quick] [--kinds real,pyovs] [--profile]
                              [--clients N] [--depth D] [--only ovsdb,switch,openflow]

Every workload of ``ovsdb_bench`` runs against each kind of server, each on
its own fresh database (the bundled vswitch schema) in a private temporary
directory; the table gives the median of the runs and the ratio pyovs/real.
Progress and per-run figures go to stderr, the table to stdout.

A kind that cannot run here is skipped with the reason; a workload that fails
on one kind is reported as failed in its cells and below the table, and the
other workloads still run.  ``--profile`` samples the pyovs server with
py-spy during one extra small-transaction run and prints its hot spots.

Sections: ``ovsdb`` (the above), ``switch`` (``switch_bench``: ping, TCP
and 64-byte UDP through pyovs-vswitchd, the real OVS userspace datapath and
the Linux bridge, with ``--quick`` and ``--profile`` passed on) and
``openflow`` (``openflow_bench``: flow-mod encode/decode rates of the pyovs
codec, ``parse-flows``/``ofp-parse``/``add-flows`` through pyovs-ofctl and
the real ovs-ofctl, with ``--quick`` passed on); all run unless ``--only``
names some (comma-separated).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from tests import peers
from tests.bench import openflow_bench, switch_bench
from tests.bench import ovsdb_bench as ob
from tests.peers import ServerError

KINDS = ("real", "pyovs")
SECTIONS = ("ovsdb", "switch", "openflow")
_FAILURES = (ob.BenchError, ServerError, OSError, subprocess.SubprocessError, ValueError,
             KeyError, TypeError, IndexError)


@dataclass(frozen=True, slots=True)
class Settings:
    runs: int  # small-transaction runs per client count
    tx_seconds: float  # length of one small-transaction run
    vsctl_count: int  # ovs-vsctl add-port commands timed
    monitors: int
    fan_txns: int  # transactions the writer commits in one fan-out run
    fan_runs: int
    fan_window: int  # the writer's transactions in flight
    bulk_rows: int
    bulk_runs: int  # each on a fresh server
    profile_seconds: float


FULL = Settings(runs=5, tx_seconds=2.0, vsctl_count=20, monitors=50, fan_txns=500,
                fan_runs=3, fan_window=10, bulk_rows=10_000, bulk_runs=3, profile_seconds=6.0)
QUICK = Settings(runs=2, tx_seconds=0.5, vsctl_count=5, monitors=50, fan_txns=100,
                 fan_runs=1, fan_window=10, bulk_rows=10_000, bulk_runs=1, profile_seconds=3.0)


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    label: str
    unit: str
    higher_is_better: bool


def metrics(clients: int, depth: int, s: Settings) -> list[Metric]:
    pipe = "" if depth == 1 else f", {depth} in flight each"
    out = [
        Metric("tx1", "add-port txn, 1 client", "txn/s", True),
        Metric("lat1", "add-port txn latency, 1 client", "ms", False),
        Metric("txN", f"add-port txn, {clients} clients{pipe}", "txn/s", True),
        Metric("latN", f"add-port txn latency, {clients} clients", "ms", False),
        Metric("txD1", "add-port txn, durable (fsync), 1 client", "txn/s", True),
        Metric("txDN", f"add-port txn, durable (fsync), {clients} clients", "txn/s", True),
        Metric("vsctl", "ovs-vsctl --no-wait add-port", "ms", False),
    ]
    for method in ("monitor_cond", "monitor_cond_since"):
        out += [
            Metric(f"{method}_s",
                   f"{method}: {s.monitors} monitors see {s.fan_txns} txns", "ms", False),
            Metric(f"{method}_rate", f"{method}: deliveries (monitor x txn)", "/s", True),
        ]
    out += [
        Metric("bulk_reply", f"bulk insert {s.bulk_rows:,} rows: reply", "ms", False),
        Metric("bulk_monitor", f"bulk insert {s.bulk_rows:,} rows: monitor update", "ms",
               False),
        Metric("rss_idle", "RSS, fresh server", "MiB", False),
        Metric("rss_after", f"RSS after the {s.bulk_rows:,}-row insert", "MiB", False),
    ]
    return out


class Results:
    """Run figures per (metric, kind), and why a cell has none."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], list[float]] = {}
        self.errors: dict[tuple[str, str], str] = {}
        self.notes: list[str] = []

    def add(self, key: str, kind: str, value: float) -> None:
        self.values.setdefault((key, kind), []).append(value)

    def fail(self, keys: list[str], kind: str, why: str) -> None:
        for key in keys:
            if (key, kind) not in self.values:
                self.errors.setdefault((key, kind), why)

    def median(self, key: str, kind: str) -> float | None:
        values = self.values.get((key, kind))
        return statistics.median(values) if values else None


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def guarded(results: Results, kind: str, keys: list[str], what: str,
            body: Callable[[], None]) -> bool:
    """Run one phase; on failure mark its metrics failed and go on."""
    try:
        body()
        return True
    except _FAILURES as e:
        why = f"{what}: {type(e).__name__}: {str(e).strip()}"
        log(f"  {kind}: FAILED {why}")
        if os.environ.get("PYOVS_BENCH_TRACEBACK"):
            traceback.print_exc()
        results.fail(keys, kind, why)
        return False


# ---------------------------------------------------------------------------
# Phases


def phase_transactions(kind: str, s: Settings, clients: int, depth: int, tmp: str,
                       results: Results, profile: bool) -> None:
    with ob.BenchServer(kind, tmp_dir=tmp) as server:
        if server.tool_note:
            results.notes.append(f"{kind}: {server.tool_note}")
        vdb = ob.init_db(server)
        # ovs-vsctl downloads every Port and Interface, so it goes first, while
        # the database is small and the same size on both servers.
        if peers.REAL_VSCTL.exists():
            times = ob.vsctl_run(vdb, "vsctl", s.vsctl_count)
            for t in times:
                results.add("vsctl", kind, t * 1000)
            log(f"  {kind}: ovs-vsctl add-port x{len(times)}: median "
                f"{statistics.median(times) * 1000:.1f} ms")
        ob.small_tx_run(vdb, "warm", clients, depth, min(0.3, s.tx_seconds))
        for n, tx_key, lat_key in ((1, "tx1", "lat1"), (clients, "txN", "latN")):
            for r in range(s.runs):
                run = ob.small_tx_run(vdb, f"n{n}r{r}", n, 1 if n == 1 else depth,
                                      s.tx_seconds)
                results.add(tx_key, kind, run.tx_per_s)
                results.add(lat_key, kind, run.latency_ms)
                log(f"  {kind}: {n} client(s) run {r + 1}/{s.runs}: {run.tx_per_s:,.0f} txn/s"
                    f" ({run.completed} in {run.seconds:.2f} s), median latency "
                    f"{run.latency_ms:.2f} ms")
        # pyovs makes every commit durable before replying; the real server
        # does so only when asked ("commit" with "durable": true).  These runs
        # ask, so both sides pay for the fsync.
        for n, key in ((1, "txD1"), (clients, "txDN")):
            for r in range(s.runs):
                run = ob.small_tx_run(vdb, f"d{n}r{r}", n, 1 if n == 1 else depth,
                                      s.tx_seconds, durable=True)
                results.add(key, kind, run.tx_per_s)
                log(f"  {kind}: durable, {n} client(s) run {r + 1}/{s.runs}: "
                    f"{run.tx_per_s:,.0f} txn/s")
        if profile and kind == "pyovs":
            profile_server(vdb, s, clients, depth, tmp)
        rss = server.rss_kib()
        log(f"  {kind}: RSS after the transaction runs: {rss / 1024:.1f} MiB")


def profile_server(vdb: ob.VSwitchDb, s: Settings, clients: int, depth: int,
                   tmp: str) -> None:
    assert vdb.server.pid is not None
    out = Path(tempfile.mkdtemp(prefix="pyspy-", dir=tmp)) / "profile.txt"
    seconds = s.profile_seconds
    log(f"  pyovs: profiling {seconds:.0f} s of {clients}-client add-port load with py-spy")
    with ob.py_spy_record(vdb.server.pid, seconds, out):
        run = ob.small_tx_run(vdb, "prof", clients, depth, seconds)
    log(f"  pyovs: (profiled run {run.tx_per_s:,.0f} txn/s)")
    total, own, inclusive = ob.summarize_profile(out)
    lines = [f"py-spy on pyovsdb-server, {clients} clients of add-port txns, "
             f"{total} busy samples:", "  top by own time:"]
    lines += [f"    {100 * c / total:5.1f}%  {name}" for name, c in own[:15]]
    lines.append("  top pyovs functions by inclusive time (below the event loop):")
    ours = [(name, c) for name, c in inclusive
            if "(pyovs/" in name and not name.startswith(_LOOP_FRAMES)]
    lines += [f"    {100 * c / total:5.1f}%  {name}" for name, c in ours[:20]]
    PROFILE_TEXT.extend(lines)


PROFILE_TEXT: list[str] = []
# Frames every sample passes through: leaving them out of the inclusive list
# lets it show where the time divides.
_LOOP_FRAMES = ("main (", "Connection.serve (", "ServerRunner._client (", "Session.receive (",
                "Session._request (")


def phase_fanout(kind: str, s: Settings, tmp: str, results: Results) -> None:
    with ob.BenchServer(kind, tmp_dir=tmp) as server:
        vdb = ob.init_db(server)
        for method in ("monitor_cond", "monitor_cond_since"):
            for r in range(s.fan_runs):
                run = ob.fanout_run(vdb, f"{method[8:] or 'c'}f{r}", method, s.monitors,
                                    s.fan_txns, s.fan_window)
                results.add(f"{method}_s", kind, run.deliver_s * 1000)
                results.add(f"{method}_rate", kind, run.deliveries_per_s)
                log(f"  {kind}: {method} run {r + 1}/{s.fan_runs}: all delivered in "
                    f"{run.deliver_s * 1000:.0f} ms (writer done {run.writer_s * 1000:.0f} ms,"
                    f" {run.messages} update messages for {s.monitors * s.fan_txns} "
                    "deliveries)")


def phase_bulk(kind: str, s: Settings, tmp: str, results: Results) -> None:
    for r in range(s.bulk_runs):
        run, _ = ob.bulk_run(kind, s.bulk_rows, tmp_dir=tmp)
        results.add("bulk_reply", kind, run.reply_s * 1000)
        results.add("bulk_monitor", kind, run.monitor_s * 1000)
        results.add("rss_idle", kind, run.rss_idle_kib / 1024)
        results.add("rss_after", kind, run.rss_after_kib / 1024)
        log(f"  {kind}: bulk run {r + 1}/{s.bulk_runs}: reply {run.reply_s * 1000:.0f} ms, "
            f"monitor {run.monitor_s * 1000:.0f} ms, RSS {run.rss_idle_kib / 1024:.1f} -> "
            f"{run.rss_after_kib / 1024:.1f} MiB")


# ---------------------------------------------------------------------------
# Report


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def verdict(m: Metric, real: float | None, pyovs: float | None) -> tuple[str, str]:
    if real is None or pyovs is None or real <= 0 or pyovs <= 0:
        return "-", "-"
    ratio = pyovs / real
    pyovs_better = ratio > 1 if m.higher_is_better else ratio < 1
    factor = max(ratio, 1 / ratio)
    if factor < 1.05:
        return f"{ratio:.2f}", "same"
    word = "smaller" if m.unit == "MiB" else "faster"
    return f"{ratio:.2f}", f"{'pyovs' if pyovs_better else 'real'} {factor:.1f}x {word}"


def machine() -> list[str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ovs = "absent"
    if peers.REAL_SERVER.exists():
        proc = subprocess.run([str(peers.REAL_SERVER), "--version"], capture_output=True,
                              text=True, timeout=10)
        ovs = (proc.stdout.splitlines() or ["?"])[0]
    return [f"machine: {os.cpu_count()} CPUs ({os.sched_getaffinity(0).__len__()} usable), "
            f"{cpu or platform.machine()}, Linux {platform.release()}",
            f"python {platform.python_version()} ({sys.executable}); real: {ovs}"]


def report(results: Results, ms: list[Metric], kinds: list[str], skipped: dict[str, str],
           s: Settings, clients: int, depth: int, quick: bool, elapsed: float,
           load: tuple[float, float], fsync_ms: float) -> None:
    rows = [("metric", "unit", "real", "pyovs", "pyovs/real", "better")]
    for m in ms:
        cells = []
        for kind in KINDS:
            v = results.median(m.key, kind)
            if v is None:
                cells.append("FAILED" if (m.key, kind) in results.errors else
                             "skipped" if kind in skipped else "-")
            else:
                cells.append(fmt(v))
        ratio, better = verdict(m, results.median(m.key, "real"),
                                results.median(m.key, "pyovs"))
        rows.append((m.label, m.unit, cells[0], cells[1], ratio, better))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    print()
    print("OVSDB server benchmark: pyovsdb-server vs ovsdb-server "
          f"({'quick' if quick else 'full'} run, medians)")
    for line in machine():
        print(line)
    print(f"load average (1 min) {load[0]:.2f} before, {load[1]:.2f} after: above ~0.5 other "
          "processes were competing for the CPUs")
    print(f"fdatasync of 4 kB in the servers' temporary directory: {fsync_ms:.2f} ms (median)")
    print()
    for i, row in enumerate(rows):
        print("  ".join(c.ljust(w) if j < 2 or j == 5 else c.rjust(w)
                        for j, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print()
    pipelining = ("not pipelined: each client sends its next transaction when the "
                  "previous reply arrives" if depth == 1 else
                  f"pipelined: {depth} transactions in flight per client")
    print(f"runs: {s.runs} x {s.tx_seconds:g} s or 1,000 txns per client, per client count "
          f"({pipelining}); "
          f"{s.vsctl_count} ovs-vsctl; fan-out {s.fan_runs} run(s) per method, "
          f"the writer keeping {s.fan_window} transactions in flight; "
          f"bulk {s.bulk_runs} fresh server(s).")
    print("add-port txn = wait x2, insert Interface, insert Port, mutate Bridge ports, "
          "mutate next_cfg, select next_cfg, comment (as ovs-vsctl add-port).")
    floor = results.median("vsctl_floor", "real")
    if floor is not None:
        print(f"ovs-vsctl --version alone (process start, no database) takes {floor:.1f} ms.")
    for kind, why in skipped.items():
        print(f"{kind}: skipped: {why}")
    for note in dict.fromkeys(results.notes):
        print(f"note: {note}")
    failures = dict.fromkeys(why for (_, kind), why in sorted(results.errors.items())
                             if kind in kinds)
    for why in failures:
        print(f"failed: {why[:600]}")
    summary = []
    for m in ms:
        _, better = verdict(m, results.median(m.key, "real"), results.median(m.key, "pyovs"))
        if better not in ("-",):
            summary.append(better.split()[0])
    if summary:
        real_wins, pyovs_wins = summary.count("real"), summary.count("pyovs")
        lead = "real ovsdb-server" if real_wins >= pyovs_wins else "pyovsdb-server"
        print(f"faster overall: {lead} (better on {max(real_wins, pyovs_wins)} of "
              f"{len(summary)} figures; pyovs better on {pyovs_wins}).")
    if PROFILE_TEXT:
        print()
        print("\n".join(PROFILE_TEXT))
    print(f"\nbenchmark took {elapsed:.0f} s")


def run_kind(kind: str, s: Settings, args: argparse.Namespace, tmp: str,
             results: Results) -> None:
    """Every phase against servers of ``kind``."""
    tx = ["tx1", "lat1", "txN", "latN", "vsctl"]
    fan = [f"{m}_{x}" for m in ("monitor_cond", "monitor_cond_since") for x in ("s", "rate")]
    bulk = ["bulk_reply", "bulk_monitor", "rss_idle", "rss_after"]
    log(f"{kind}: small transactions and ovs-vsctl")
    if not guarded(results, kind, tx, "transactions", partial(
            phase_transactions, kind, s, args.clients, args.depth, tmp, results, args.profile)):
        # A server that does not start would fail every phase the same way.
        try:
            with ob.BenchServer(kind, tmp_dir=tmp):
                pass
        except _FAILURES as e:
            results.fail(fan + bulk, kind, f"server does not start: {str(e).strip()[:400]}")
            return
    log(f"{kind}: monitor fan-out")
    guarded(results, kind, fan, "monitor fan-out", partial(phase_fanout, kind, s, tmp, results))
    log(f"{kind}: bulk insert")
    guarded(results, kind, bulk, "bulk insert", partial(phase_bulk, kind, s, tmp, results))


# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short runs (about 30 s)")
    p.add_argument("--kinds", default="real,pyovs", help="servers to run (real,pyovs)")
    p.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    p.add_argument("--depth", type=int, default=1,
                   help="transactions in flight per client (1 = no pipelining)")
    p.add_argument("--profile", action="store_true",
                   help="sample the pyovs server with py-spy during an extra run")
    p.add_argument("--only", default=",".join(SECTIONS),
                   help=f"sections to run, comma-separated ({','.join(SECTIONS)}; default all)")
    args = p.parse_args(argv)
    only = [s for s in args.only.split(",") if s]
    if not only or any(s not in SECTIONS for s in only):
        p.error(f"--only takes {', '.join(SECTIONS)} (comma-separated)")
    rc = 0
    if "ovsdb" in only:
        rc = ovsdb_section(p, args)
    if "switch" in only:
        rc = max(rc, switch_bench.main(["--quick"] * args.quick + ["--profile"] * args.profile))
    if "openflow" in only:
        rc = max(rc, openflow_bench.main(["--quick"] * args.quick))
    return rc


def ovsdb_section(p: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    kinds = [k for k in args.kinds.split(",") if k]
    if any(k not in KINDS for k in kinds) or args.clients < 1 or args.depth < 1:
        p.error("--kinds takes real and/or pyovs; --clients and --depth must be >= 1")
    s = QUICK if args.quick else FULL
    ms = metrics(args.clients, args.depth, s)
    results = Results()
    skipped = {k: why for k in KINDS
               if (why := ("not requested" if k not in kinds else ob.kind_unavailable(k)))}
    if args.profile and "pyovs" in kinds and ob.py_spy_path() is None:
        results.notes.append("--profile: py-spy not found (.venv/bin/pip install py-spy)")
        args.profile = False
    start = time.perf_counter()
    load_before = os.getloadavg()[0]
    if peers.REAL_VSCTL.exists():
        for t in ob.process_floor(5):
            results.add("vsctl_floor", "real", t * 1000)
    with tempfile.TemporaryDirectory(prefix="pyovs-bench-") as tmp:
        fsync_ms = ob.fdatasync_ms(tmp)
        for kind in KINDS:
            if kind in skipped:
                log(f"{kind}: skipped: {skipped[kind]}")
            else:
                run_kind(kind, s, args, tmp, results)
    report(results, ms, kinds, {k: v for k, v in skipped.items()}, s, args.clients,
           args.depth, args.quick, time.perf_counter() - start,
           (load_before, os.getloadavg()[0]), fsync_ms)
    return 0 if not any(k in kinds for (_, k) in results.errors) else 1


if __name__ == "__main__":
    sys.exit(main())
