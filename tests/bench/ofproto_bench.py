"""Micro-benchmarks of the OpenFlow tables: classifier lookups and flow_mods.

    .venv/bin/python -m tests.bench.ofproto_bench [--quick]

``bench()`` prints lookups per second for 1,000 and 10,000 rules spread
over 1, 10 and 50 distinct masks (subtables): with masks of random prefix
lengths on the IP addresses ("mixed"), with every field matched exactly (as
most OpenFlow pipelines do), and with the megaflow mask collected; then
flow_mod adds per second.  Rules match random values of 1 to 4 of the usual
fields with random priorities, so early termination rarely helps: this is
close to the worst case for tuple space search.  Half the packets hit a
rule, half are random.  Rates are per CPU second (``time.process_time``), so
that other load on a shared machine distorts them less.  Nothing is
written anywhere.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass

from pyovs.ofproto.classifier import Classifier
from pyovs.ofproto.flowtable import FlowTables
from pyovs.openflow.actions import Output
from pyovs.openflow.fieldtypes import SLOT_BITS
from pyovs.openflow.match import Match, MatchBuilder
from pyovs.openflow.msg_flow import FlowMod

FIELDS = ("in_port", "dl_type", "nw_src", "nw_dst", "tp_src", "tp_dst", "nw_proto", "metadata")


@dataclass(eq=False)
class BenchRule:
    match: Match
    priority: int


def _masks(rnd: random.Random, n_masks: int, exact: bool) -> list[dict[str, int]]:
    out: list[dict[str, int]] = []
    while len(out) < n_masks:
        chosen = rnd.sample(FIELDS, rnd.randint(1, 4))
        if exact:
            mask = {f: (1 << SLOT_BITS[f]) - 1 for f in chosen}
        else:
            mask = {f: (((1 << 32) - 1) << rnd.randint(0, 16)) & 0xFFFFFFFF
                    if f in ("nw_src", "nw_dst") else 0xFFFF for f in chosen}
        if mask not in out:
            out.append(mask)
    return out


def _matches(n_rules: int, n_masks: int, seed: int, exact: bool = False) -> list[Match]:
    rnd = random.Random(seed)
    masks = _masks(rnd, n_masks, exact)
    out = []
    for i in range(n_rules):
        b = MatchBuilder()
        for slot, mask in masks[i % n_masks].items():
            b.put(slot, rnd.getrandbits(16 if exact else 32), mask)
        out.append(b.freeze())
    return out


def lookup_rate(n_rules: int, n_masks: int, n_lookups: int = 20000, seed: int = 1,
                megaflow: bool = False, exact: bool = False) -> float:
    """Lookups per CPU second over ``n_rules`` rules in ``n_masks`` subtables."""
    rnd = random.Random(seed)
    cls: Classifier[BenchRule] = Classifier()
    rules = [BenchRule(m, rnd.randint(1, 1000))
             for m in _matches(n_rules, n_masks, seed, exact)]
    for r in rules:
        cls.insert(r)
    packets = []
    for i in range(1000):
        if i % 2:
            packets.append({f: rnd.getrandbits(16 if exact else 32) for f in FIELDS})
        else:
            packets.append({s: v for s, v, _ in rules[rnd.randrange(len(rules))].match})
    lookup = cls.lookup
    start = time.process_time()
    if megaflow:
        for i in range(n_lookups):
            lookup(packets[i % 1000], {})
    else:
        for i in range(n_lookups):
            lookup(packets[i % 1000])
    return n_lookups / (time.process_time() - start)


def flow_mod_rate(n_rules: int, n_masks: int, seed: int = 1) -> float:
    """OFPFC_ADDs per second into an empty table, up to ``n_rules`` flows."""
    ft = FlowTables()
    mods = [FlowMod(match=m, priority=i % 1000, actions=(Output(1),))
            for i, m in enumerate(_matches(n_rules, n_masks, seed))]
    start = time.process_time()
    for fm in mods:
        ft.flow_mod(fm, 0.0)
    return n_rules / (time.process_time() - start)


def bench(quick: bool = False) -> None:
    """Print the table of rates."""
    n_lookups = 5000 if quick else 20000
    print(f"{'rules':>6} {'masks':>5} {'mixed/s':>10} {'exact/s':>10} {'+megaflow/s':>12} "
          f"{'adds/s':>9}")
    for n_rules in (1000, 10000):
        for n_masks in (1, 10, 50):
            mixed = lookup_rate(n_rules, n_masks, n_lookups)
            exact = lookup_rate(n_rules, n_masks, n_lookups, exact=True)
            wc = lookup_rate(n_rules, n_masks, n_lookups, megaflow=True)
            adds = flow_mod_rate(n_rules, n_masks)
            print(f"{n_rules:6d} {n_masks:5d} {mixed:10.0f} {exact:10.0f} {wc:12.0f} "
                  f"{adds:9.0f}")


if __name__ == "__main__":
    bench(quick="--quick" in sys.argv[1:])
