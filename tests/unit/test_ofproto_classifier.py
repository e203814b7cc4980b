"""The classifier: lookup against a linear search, megaflow masks, loose/strict/overlap queries."""

from __future__ import annotations

import random
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.bench.ofproto_bench import flow_mod_rate, lookup_rate

from pyovs.ofproto.classifier import Classifier
from pyovs.openflow.match import Match, MatchBuilder

# A few slots of different widths, values drawn small so that rules and flows collide.
SLOTS = {"in_port": 16, "dl_type": 16, "nw_src": 32, "tp_dst": 16, "regs": 512}
VALUE_BITS = 3


@dataclass(eq=False)
class R:
    match: Match
    priority: int
    name: str = ""


def make_match(spec: dict[str, tuple[int, int]]) -> Match:
    b = MatchBuilder()
    for slot, (value, mask) in spec.items():
        b.put(slot, value, mask)
    return b.freeze()


def covers(match: Match, flow: dict[str, int]) -> bool:
    return all(flow.get(slot, 0) & mask == value for slot, value, mask in match.entries)


def brute(rules: list[R], flow: dict[str, int]) -> list[R]:
    return [r for r in rules if covers(r.match, flow)]


FULL = -1
"""A mask of the whole slot (lookups take such subtables' keys without masking)."""
masks = st.dictionaries(st.sampled_from(sorted(SLOTS)),
                        st.sampled_from([1, 3, 5, 7, 0xFF, 0x100 | 7, FULL, FULL]),
                        max_size=3).map(
    lambda d: {s: (1 << SLOTS[s]) - 1 if m == FULL else m for s, m in d.items()})


@st.composite
def rule_specs(draw: st.DrawFn) -> tuple[dict[str, tuple[int, int]], int]:
    mask = draw(st.sampled_from(draw(st.shared(st.lists(masks, min_size=1, max_size=6),
                                               key="masks"))))
    spec = {slot: (draw(st.integers(0, 7)) & m, m) for slot, m in mask.items()}
    return spec, draw(st.integers(0, 6))


flows = st.fixed_dictionaries({}, optional={slot: st.integers(0, (1 << 9) - 1)
                                            for slot in SLOTS})


def build(specs: list[tuple[dict[str, tuple[int, int]], int]]) -> tuple[Classifier[R], list[R]]:
    cls: Classifier[R] = Classifier()
    live: dict[tuple[Match, int], R] = {}
    for i, (spec, pri) in enumerate(specs):
        r = R(make_match(spec), pri, f"r{i}")
        replaced = cls.insert(r)
        assert replaced is live.get((r.match, pri))
        live[(r.match, pri)] = r
    return cls, list(live.values())


@settings(max_examples=300, deadline=None)
@given(st.lists(rule_specs(), max_size=25), st.lists(flows, min_size=1, max_size=8))
def test_lookup_is_the_highest_priority_covering_rule(specs: list, fls: list) -> None:
    cls, rules = build(specs)
    assert len(cls) == len(rules)
    for flow in fls:
        got = cls.lookup(flow)
        hits = brute(rules, flow)
        if not hits:
            assert got is None
        else:
            assert got is not None and covers(got.match, flow)
            assert got.priority == max(r.priority for r in hits)
            assert sorted(map(id, cls.lookup_all(flow))) == sorted(map(id, hits))


@settings(max_examples=300, deadline=None)
@given(st.lists(rule_specs(), max_size=25), flows, st.randoms(use_true_random=False))
def test_megaflow_mask_is_sufficient(specs: list, flow: dict[str, int],
                                     rnd: random.Random) -> None:
    """A packet differing from ``flow`` only outside ``wc`` gets the same rule."""
    cls, _ = build(specs)
    wc: dict[str, int] = {}
    got = cls.lookup(flow, wc)
    for _ in range(10):
        other = {}
        for slot, width in SLOTS.items():
            noise = rnd.getrandbits(min(width, 12))
            keep = wc.get(slot, 0)
            other[slot] = (flow.get(slot, 0) & keep) | (noise & ~keep)
        assert cls.lookup(other) is got


@settings(max_examples=200, deadline=None)
@given(st.lists(rule_specs(), max_size=25), st.data())
def test_remove_then_lookup_matches_linear_search(specs: list, data: st.DataObject) -> None:
    cls, rules = build(specs)
    gone = data.draw(st.lists(st.sampled_from(rules), unique_by=id) if rules else st.just([]))
    for r in gone:
        assert cls.remove(r)
        assert not cls.remove(r)
    left = [r for r in rules if r not in gone]
    assert len(cls) == len(left)
    assert sorted(map(id, cls)) == sorted(map(id, left))
    for flow in data.draw(st.lists(flows, min_size=1, max_size=5)):
        got = cls.lookup(flow)
        hits = brute(left, flow)
        assert (got is None) == (not hits)
        if got is not None:
            assert got.priority == max(r.priority for r in hits)


def loose(rule: Match, criteria: Match) -> bool:
    have = {s: (v, m) for s, v, m in rule.entries}
    return all(have.get(s, (0, 0))[1] & m == m and have.get(s, (0, 0))[0] & m == v
               for s, v, m in criteria.entries)


def overlap(a: Match, b: Match) -> bool:
    ha = {s: (v, m) for s, v, m in a.entries}
    for s, v, m in b.entries:
        va, ma = ha.get(s, (0, 0))
        if (va ^ v) & ma & m:
            return False
    return True


@settings(max_examples=200, deadline=None)
@given(st.lists(rule_specs(), max_size=25), rule_specs())
def test_loose_exact_and_overlap_queries(specs: list, probe: tuple) -> None:
    cls, rules = build(specs)
    spec, pri = probe
    m = make_match(spec)
    assert sorted(map(id, cls.iter_loose(m))) == sorted(
        id(r) for r in rules if loose(r.match, m))
    exact = [r for r in rules if r.match == m and r.priority == pri]
    assert cls.find_exact(m, pri) is (exact[0] if exact else None)
    assert cls.overlaps(m, pri) == any(r.priority == pri and overlap(r.match, m) for r in rules)


conjs = st.lists(st.tuples(st.integers(1, 2), st.integers(1, 2)).map(
    lambda t: (t[0], min(t[1], 2) - 1, 2)), max_size=2)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(rule_specs(), conjs), max_size=25), flows,
       st.randoms(use_true_random=False))
def test_megaflow_mask_is_sufficient_with_conjunctions(specs: list, flow: dict[str, int],
                                                       rnd: random.Random) -> None:
    cls: Classifier[R] = Classifier()
    for (spec, pri), cj in specs:
        cls.insert(R(make_match(spec), pri), tuple(cj))
    for conj_id in (1, 2):
        cls.insert(R(make_match({"conj_id": (conj_id, 0xFFFFFFFF)}), 3))
    wc: dict[str, int] = {}
    got = cls.lookup(flow, wc)
    assert got is None or not cls.conjunctions(got)
    for _ in range(10):
        other = {}
        for slot, width in SLOTS.items():
            noise = rnd.getrandbits(min(width, 12))
            keep = wc.get(slot, 0)
            other[slot] = (flow.get(slot, 0) & keep) | (noise & ~keep)
        assert cls.lookup(other) is got


def test_catchall_and_priorities() -> None:
    cls: Classifier[R] = Classifier()
    low = R(Match(), 0, "low")
    ip = R(make_match({"dl_type": (0x800, 0xFFFF)}), 10, "ip")
    tcp80 = R(make_match({"dl_type": (0x800, 0xFFFF), "tp_dst": (80, 0xFFFF)}), 20, "tcp80")
    for r in (low, ip, tcp80):
        assert cls.insert(r) is None
    assert cls.lookup({}) is low
    assert cls.lookup({"dl_type": 0x800}) is ip
    wc: dict[str, int] = {}
    assert cls.lookup({"dl_type": 0x800, "tp_dst": 80}, wc) is tcp80
    # The tcp80 subtable is probed first and wins: nothing else is looked at.
    assert wc == {"dl_type": 0xFFFF, "tp_dst": 0xFFFF}
    wc = {}
    assert cls.lookup({"dl_type": 0x806}, wc) is low
    # Staged lookup: no rule of the tcp80 subtable has dl_type 0x806, so its
    # L4 stage (tp_dst) never mattered.
    assert wc == {"dl_type": 0xFFFF}
    wc = {}
    assert cls.lookup({"dl_type": 0x800, "tp_dst": 22}, wc) is ip
    assert wc == {"dl_type": 0xFFFF, "tp_dst": 0xFFFF}
    assert cls.n_subtables == 3
    assert cls.remove(tcp80) and cls.n_subtables == 2


def test_insert_identical_replaces_and_ties_are_stable() -> None:
    cls: Classifier[R] = Classifier()
    a = R(make_match({"in_port": (1, 0xFFFF)}), 5, "a")
    b = R(make_match({"in_port": (1, 0xFFFF)}), 5, "b")
    assert cls.insert(a) is None
    assert cls.insert(b) is a
    assert list(cls) == [b]
    # Equal priority, different subtables: the older subtable wins, always.
    c = R(make_match({"dl_type": (0x800, 0xFFFF)}), 5, "c")
    cls.insert(c)
    for _ in range(3):
        assert cls.lookup({"in_port": 1, "dl_type": 0x800}) is b


# --- micro-benchmark (tests/bench/ofproto_bench.py) -------------------------------

def test_bench_smoke() -> None:
    assert lookup_rate(200, 5, 500) > 0
    assert lookup_rate(200, 5, 500, megaflow=True) > 0
    assert flow_mod_rate(200, 5) > 0


# --- prefix tries ------------------------------------------------------------------------

addresses = st.builds(lambda a, b: a << 24 | b << 8, st.sampled_from([10, 11, 192]),
                      st.integers(0, 0xFFFF))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(addresses, st.integers(1, 32), st.integers(0, 40),
                          st.booleans()), max_size=30),
       st.lists(addresses, min_size=1, max_size=5), st.randoms(use_true_random=False))
def test_longest_prefix_match_and_trie_megaflows(specs: list, dsts: list,
                                                 rnd: random.Random) -> None:
    cls: Classifier[R] = Classifier()
    rules = {}
    for addr, plen, pri, with_port in specs:
        mask = ((1 << plen) - 1) << (32 - plen)
        spec = {"dl_type": (0x800, 0xFFFF), "nw_dst": (addr & mask, mask)}
        if with_port:
            spec["tp_dst"] = (80, 0xFFFF)
        r = R(make_match(spec), pri)
        cls.insert(r)
        rules[(r.match, pri)] = r
    live = list(rules.values())
    for dst in dsts:
        for flow in ({"dl_type": 0x800, "nw_dst": dst, "tp_dst": 80},
                     {"dl_type": 0x800, "nw_dst": dst ^ rnd.getrandbits(8)}):
            wc: dict[str, int] = {}
            got = cls.lookup(flow, wc)
            hits = brute(live, flow)
            assert (got is None) == (not hits)
            if got is not None:
                assert got.priority == max(r.priority for r in hits)
            for _ in range(10):
                keep = wc.get("nw_dst", 0)
                other = dict(flow, nw_dst=(flow["nw_dst"] & keep)
                             | (rnd.getrandbits(32) & ~keep & 0xFFFFFFFF))
                if not wc.get("tp_dst"):
                    other["tp_dst"] = rnd.getrandbits(16)
                assert cls.lookup(other) is got


def test_tries_keep_lpm_megaflows_short() -> None:
    cls: Classifier[R] = Classifier()
    for plen, net in ((8, 10 << 24), (16, 10 << 24 | 1 << 16), (24, 10 << 24 | 1 << 16 | 2 << 8),
                      (32, 192 << 24 | 168 << 16 | 1)):
        mask = ((1 << plen) - 1) << (32 - plen)
        cls.insert(R(make_match({"dl_type": (0x800, 0xFFFF), "nw_dst": (net, mask)}),
                     plen))
    wc: dict[str, int] = {}
    got = cls.lookup({"dl_type": 0x800, "nw_dst": 10 << 24 | 9 << 16 | 1}, wc)
    assert got is not None and got.priority == 8
    # 10.9.0.1: the /32 and /24 subtables are ruled out by the trie after a
    # few bits; the megaflow is far shorter than /32.
    assert bin(wc["nw_dst"]).count("1") <= 16


def test_prefix_fields_can_change() -> None:
    cls: Classifier[R] = Classifier(prefix_fields=())
    for plen in (8, 16, 24):
        mask = ((1 << plen) - 1) << (32 - plen)
        cls.insert(R(make_match({"nw_src": (0x0A010203 & mask, mask)}), plen))
    wc: dict[str, int] = {}
    assert cls.lookup({"nw_src": 0x0B000000}, wc) is None
    assert wc == {"nw_src": 0xFFFFFF00}
    cls.set_prefix_fields(("nw_src",))
    assert cls.prefix_fields == ("nw_src",) and len(cls) == 3
    wc = {}
    assert cls.lookup({"nw_src": 0x0B000000}, wc) is None
    assert wc == {"nw_src": 0xFF000000}
    got = cls.lookup({"nw_src": 0x0A010299})
    assert got is not None and got.priority == 24
    cls.clear()
    assert cls.lookup({"nw_src": 0x0A010203}) is None
