"""The packet classifier: tuple space search over OpenFlow rules.

This is OVS's ``lib/classifier.c`` reduced to what a single-threaded,
sans-IO switch needs.  A rule is anything with a ``match`` (a
``pyovs.openflow.match.Match``: storage slots with values and masks) and a
``priority``; ``flowtable.Rule`` is the one ofproto uses.

Tuple space search
------------------
Rules are grouped into *subtables*, one per distinct mask -- the set of
(slot, mask) pairs of a match, in storage order.  Inside a subtable every
rule's values are reduced to a *key*, the tuple of its values (an int when
the subtable matches one slot, ``()`` for the catch-all), and a dict maps a
key to the rules with that key, highest priority first.  Looking a packet up
in a subtable is then one dict probe: mask the flow's slots with the
subtable's masks and look the result up.  When every slot of a subtable is
matched exactly there is nothing to mask, and one ``itemgetter`` call makes
the key; this is why flow values must fit their slots (as packets' do).

Subtables are visited in descending order of the highest priority they
hold.  Once a match has been found, every subtable whose maximum priority is
not above it is skipped (OVS's "early termination"), so the usual case --
a few high-priority subtables holding the specific rules, and a catch-all
at the bottom -- probes few subtables.

Un-wildcarding
--------------
``lookup(flow, wc)`` ORs into ``wc`` the bits of the flow the result
depended on; the datapath installs them as the megaflow mask.  For each
subtable probed that is its mask -- or less, with OVS's *staged lookup*: a
subtable's slots fall into stages (metadata, L2, L3, L4: ``STAGE``), and for
each proper prefix of its stages the subtable counts the distinct prefixes
of its keys.  When the flow's prefix is not among them no rule of the
subtable can match, whatever the later stages hold, so only the slots up to
that stage go into ``wc``.  (A TCP rule for one IP address then does not
make every other IP packet's megaflow match on its port.)

The mask is sufficient: which subtables are probed depends only on the rules
found so far, and the outcome of a probe only on the bits put into ``wc``,
so a packet that agrees with ``flow`` on all the bits of ``wc`` takes
exactly the same path and gets the same rule (a hypothesis test checks it).

Prefix tries narrow it further, as OVS's do for the fields of a bridge's
``prefixes`` (by default ``nw_dst`` and ``nw_src``): a trie per such slot
holds every rule's prefix on it, and a subtable matching the slot with a
CIDR mask of length L is skipped when no prefix of length L matches the
flow, putting into ``wc`` only the leading bits the trie walk read.  A
longest-prefix-match table thus yields megaflows as short as the prefixes
need (10.9.0.1 against 10.0.0.0/8, 10.1.0.0/16, 10.1.2.0/24: /13, not /32).
OVS's port tries (on ``tp_src``/``tp_dst``) are not implemented.

Ties
----
OpenFlow leaves the choice between overlapping rules of equal priority
undefined, and so does OVS.  Here the choice is stable: subtables of equal
maximum priority are ordered by when their mask first appeared in the
classifier (even if the subtable has since emptied and come back, so that
undoing changes restores the same choices), and the first subtable holding a
matching rule of the winning priority wins.  Two rules of equal priority in
one subtable cannot both match a packet unless they are the same match, and
inserting an identical match and priority replaces the old rule (``insert``
returns it), as OVS's ``classifier_replace``.

Conjunctive match
-----------------
A rule inserted with *conjunctions* -- (id, clause, n_clauses) triples from
its ``conjunction(id, k/n)`` actions, clause counted from 0 -- is a "soft"
match: it only says that one clause of conjunction ``id`` holds.  The
lookup follows OVS's ``classifier_lookup__`` exactly: a subtable whose best
match is soft contributes it to a soft set instead of ending the search;
if soft matches of a priority above the best hard match cover every clause
of some conjunction, the classifier is searched again with ``conj_id`` set
to its id (conjunctions not allowed this time) and the rule found, if any,
is the answer; otherwise it falls back to lower-priority rules with the
same match as the soft ones.  The extra search leaves ``conj_id`` in
``wc``; it is not a packet field, so a datapath ignores it.  With no
conjunctive rules the fast path is untouched.

Not here: versioning (a flow_mod is applied atomically by the caller).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from operator import and_, itemgetter
from typing import Any, Final, Generic, Protocol, TypeVar

from pyovs.openflow.fieldtypes import SLOT_BITS
from pyovs.openflow.match import Match

Conj = tuple[int, int, int]
"""(conjunction id, clause from 0, number of clauses), as OVS ``cls_conjunction``."""
MaskKey = tuple[tuple[str, int], ...]
"""A subtable's identity: (slot, mask) pairs in storage order."""
_ZEROS: Final = (0,) * 512
_ALL64: Final = (1 << 64) - 1
_TRIE_CACHE: Final = 4096


class ClsRule(Protocol):
    """What the classifier needs of a rule."""

    @property
    def match(self) -> Match: ...

    @property
    def priority(self) -> int: ...


R = TypeVar("R", bound=ClsRule)
_Step = tuple[int, int, str, int, "Callable[[Mapping[str, int]], Any]", tuple[str, ...],
              tuple[int, ...], "MaskKey", dict[object, list[R]], tuple["Stage", ...],
              tuple["TrieUse", ...]]
"""A subtable as ``lookup`` sees it: max priority, how its key is computed
(``_K_*``), the slot and mask of a one-slot subtable, a getter of the slots'
values from a complete flow, the slots, the masks, (slot, mask) pairs, its
buckets, its stages and its prefix tries."""
_K_EMPTY, _K_ONE, _K_EXACT, _K_MASKED = 0, 1, 2, 3


def mask_key(match: Match) -> MaskKey:
    return tuple((slot, mask) for slot, _, mask in match.entries)


# Lookup stages (OVS's flow segments): where a slot's stage starts, by slot.
# Slots not named are metadata (stage 0).
STAGE: Final[dict[str, int]] = {
    **dict.fromkeys(("dl_src", "dl_dst", "dl_type", "vlan_tci", "vlan_tci1", "mpls_lse",
                     "mpls_lse1", "mpls_lse2"), 1),
    **dict.fromkeys(("nw_src", "nw_dst", "ct_nw_src", "ct_nw_dst", "ipv6_src", "ipv6_dst",
                     "ct_ipv6_src", "ct_ipv6_dst", "ipv6_label", "nw_frag", "nw_tos", "nw_ttl",
                     "nw_proto", "ct_nw_proto", "nd_target", "arp_sha", "arp_tha",
                     "tcp_flags", "nsh_flags", "nsh_ttl", "nsh_mdtype", "nsh_np",
                     "nsh_path_hdr", "nsh_c1", "nsh_c2", "nsh_c3", "nsh_c4"), 2),
    **dict.fromkeys(("tp_src", "tp_dst", "ct_tp_src", "ct_tp_dst", "igmp_group_ip4"), 3),
}
"""Metadata 0, L2 1, L3 2, L4 3 (OVS ``FLOW_SEGMENT_*_ENDS_AT``)."""

Stage = tuple["Callable[[tuple[int, ...]], object]", dict[object, int], "MaskKey"]
"""One proper prefix of a subtable's stages: the getter of its part of a key,
how many distinct keys have each such part, and the (slot, mask) pairs up to
and including the stage."""


DEFAULT_PREFIX_FIELDS: Final = ("nw_dst", "nw_src")
"""The fields OVS keeps prefix tries for unless told otherwise (Flow_Table prefixes)."""


class PrefixTrie:
    """A binary trie of the address prefixes that rules match on one slot.

    Each node is ``[child0, child1, prefixes ending here, prefixes below]``.
    ``lookup(value)`` walks it along the value's bits and returns the
    prefix lengths some rule's prefix matches, and how many leading bits the
    walk had to read to know that (OVS ``trie_lookup``): any value with
    those leading bits gets the same answer.
    """

    __slots__ = ("cache", "root", "width")

    def __init__(self, width: int) -> None:
        self.width = width
        self.root: list[Any] = [None, None, 0, 0]
        self.cache: dict[int, tuple[frozenset[int], int]] = {}
        """Recent lookups (upcalls repeat addresses); emptied by any change."""

    def add(self, value: int, plen: int) -> None:
        self.cache.clear()
        node = self.root
        node[3] += 1
        for depth in range(plen):
            bit = (value >> (self.width - 1 - depth)) & 1
            child = node[bit]
            if child is None:
                child = node[bit] = [None, None, 0, 0]
            node = child
            node[3] += 1
        node[2] += 1

    def remove(self, value: int, plen: int) -> None:
        self.cache.clear()
        node = self.root
        node[3] -= 1
        for depth in range(plen):
            bit = (value >> (self.width - 1 - depth)) & 1
            child = node[bit]
            child[3] -= 1
            if not child[3]:
                node[bit] = None
                return
            node = child
        node[2] -= 1

    def lookup(self, value: int) -> tuple[frozenset[int], int]:
        """(matching prefix lengths, leading bits examined)."""
        found = self.cache.get(value)
        if found is None:
            if len(self.cache) >= _TRIE_CACHE:
                self.cache.clear()
            found = self.cache[value] = self._walk(value)
        return found

    def _walk(self, value: int) -> tuple[frozenset[int], int]:
        node = self.root
        plens = {0} if node[2] else set()
        width = self.width
        depth = 0
        while depth < width:
            if node[0] is None and node[1] is None:
                return frozenset(plens), depth
            node = node[(value >> (width - 1 - depth)) & 1]
            depth += 1
            if node is None:
                return frozenset(plens), depth
            if node[2]:
                plens.add(depth)
        return frozenset(plens), width


def prefix_len(mask: int, width: int) -> int | None:
    """The length of a CIDR mask of ``width`` bits, or None if it is not one."""
    inverted = ~mask & ((1 << width) - 1)
    if inverted & (inverted + 1):
        return None
    return width - inverted.bit_length()


TrieUse = tuple[PrefixTrie, int, int, str, int]
"""A subtable's use of a trie: the trie, the index of its slot in the key, the
prefix length, the slot, the slot's width."""


class Subtable(Generic[R]):
    """The rules sharing one mask, hashed by their masked values."""

    __slots__ = ("buckets", "fields", "masks", "max_priority", "n_rules", "priorities",
                 "seq", "slots", "stages", "tries", "width")

    def __init__(self, fields: MaskKey, seq: int,
                 tries: Mapping[str, PrefixTrie] | None = None) -> None:
        self.fields = fields
        self.slots = tuple(slot for slot, _ in fields)
        self.masks = tuple(mask for _, mask in fields)
        self.width = len(fields)
        self.seq = seq
        """Creation order: the tie-break between equal maximum priorities."""
        self.buckets: dict[object, list[R]] = {}
        self.priorities: dict[int, int] = {}
        """priority -> number of rules with it."""
        self.max_priority = -1
        self.n_rules = 0
        self.stages: tuple[Stage, ...] = ()
        present = sorted({STAGE.get(slot, 0) for slot in self.slots})
        if self.width > 1:
            stages: list[Stage] = []
            for stage in present[:-1]:
                idx = [i for i, slot in enumerate(self.slots) if STAGE.get(slot, 0) <= stage]
                stages.append((itemgetter(*idx), {},
                               tuple(self.fields[i] for i in idx)))
            self.stages = tuple(stages)
        uses: list[TrieUse] = []
        for i, (slot, mask) in enumerate(fields):
            trie = (tries or {}).get(slot)
            plen = prefix_len(mask, SLOT_BITS[slot]) if trie is not None else None
            if trie is not None and plen is not None:
                uses.append((trie, i, plen, slot, SLOT_BITS[slot]))
        self.tries: tuple[TrieUse, ...] = tuple(uses)

    def _trie_values(self, key: object) -> list[int]:
        return [key if self.width == 1 else key[i]  # type: ignore[index, misc]
                for _, i, _, _, _ in self.tries]

    def rule_key(self, match: Match) -> object:
        values = tuple(value for _, value, _ in match.entries)
        if self.width == 1:
            return values[0]
        return values

    def flow_key(self, flow: Mapping[str, int]) -> object:
        if self.width == 1:
            return flow.get(self.slots[0], 0) & self.masks[0]
        if not self.width:
            return ()
        return tuple(map(and_, map(flow.get, self.slots, _ZEROS), self.masks))

    def add(self, key: object, rule: R) -> None:
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = []
            for getter, counts, _ in self.stages:
                part = getter(key)  # type: ignore[arg-type]
                counts[part] = counts.get(part, 0) + 1
            for (trie, _, plen, _, _), value in zip(self.tries, self._trie_values(key),
                                                    strict=True):
                trie.add(value, plen)
        pri = rule.priority
        i = 0
        while i < len(bucket) and bucket[i].priority >= pri:
            i += 1
        bucket.insert(i, rule)
        self.priorities[pri] = self.priorities.get(pri, 0) + 1
        self.n_rules += 1
        if pri > self.max_priority:
            self.max_priority = pri

    def discard(self, key: object, rule: R) -> bool:
        bucket = self.buckets.get(key)
        if not bucket:
            return False
        for i, r in enumerate(bucket):
            if r is rule:
                del bucket[i]
                break
        else:
            return False
        if not bucket:
            del self.buckets[key]
            for getter, counts, _ in self.stages:
                part = getter(key)  # type: ignore[arg-type]
                if counts[part] == 1:
                    del counts[part]
                else:
                    counts[part] -= 1
            for (trie, _, plen, _, _), value in zip(self.tries, self._trie_values(key),
                                                    strict=True):
                trie.remove(value, plen)
        pri = rule.priority
        left = self.priorities[pri] - 1
        self.n_rules -= 1
        if left:
            self.priorities[pri] = left
        else:
            del self.priorities[pri]
            if pri == self.max_priority:
                self.max_priority = max(self.priorities, default=-1)
        return True

    def rules(self) -> Iterator[R]:
        for bucket in self.buckets.values():
            yield from bucket


class Classifier(Generic[R]):
    """A set of rules, each a match and a priority, and the lookup among them."""

    __slots__ = ("_conj", "_dirty", "_n", "_order", "_plan", "_seqs", "_subtables", "_tries",
                 "_zero")

    def __init__(self, prefix_fields: tuple[str, ...] = DEFAULT_PREFIX_FIELDS) -> None:
        self._tries = {slot: PrefixTrie(SLOT_BITS[slot]) for slot in prefix_fields}
        self._subtables: dict[MaskKey, Subtable[R]] = {}
        self._order: list[Subtable[R]] = []
        self._dirty = False
        self._plan: list[_Step[R]] | None = None
        self._seqs: dict[MaskKey, int] = {}
        """Each mask ever seen -> its rank among equal maximum priorities."""
        self._n = 0
        self._conj: dict[int, tuple[Conj, ...]] = {}
        """id(rule) -> its conjunctions, for soft rules only."""
        self._zero: dict[str, int] = {}
        """Every slot an exact multi-slot subtable reads, at 0: the base of a complete flow."""

    # --- changes -------------------------------------------------------------

    def insert(self, rule: R, conjunctions: tuple[Conj, ...] = ()) -> R | None:
        """Add ``rule``; returns the rule with an identical match and priority it replaced.

        ``conjunctions`` makes it a soft rule (see "Conjunctive match").
        """
        mk = mask_key(rule.match)
        st = self._subtables.get(mk)
        if st is None:
            st = Subtable[R](mk, self._seqs.setdefault(mk, len(self._seqs)), self._tries)
            self._subtables[mk] = st
            self._order.append(st)
        key = st.rule_key(rule.match)
        old = None
        for r in st.buckets.get(key, ()):
            if r.priority == rule.priority:
                old = r
                break
        before = st.max_priority
        if old is not None:
            st.discard(key, old)
            self._conj.pop(id(old), None)
            self._n -= 1
        st.add(key, rule)
        self.set_conjunctions(rule, conjunctions)
        self._n += 1
        if st.max_priority != before:
            self._dirty = True
            self._plan = None
        return old

    def remove(self, rule: R) -> bool:
        """Remove ``rule`` (by identity); False if it is not here."""
        mk = mask_key(rule.match)
        st = self._subtables.get(mk)
        if st is None:
            return False
        before = st.max_priority
        if not st.discard(st.rule_key(rule.match), rule):
            return False
        self._conj.pop(id(rule), None)
        self._n -= 1
        if not st.n_rules:
            del self._subtables[mk]
            self._order.remove(st)
            self._plan = None
        elif st.max_priority != before:
            self._dirty = True
            self._plan = None
        return True

    def set_conjunctions(self, rule: R, conjunctions: tuple[Conj, ...]) -> None:
        """Change whether ``rule`` (already inserted) is soft, and its conjunctions."""
        if conjunctions:
            self._conj[id(rule)] = conjunctions
        else:
            self._conj.pop(id(rule), None)

    def conjunctions(self, rule: R) -> tuple[Conj, ...]:
        return self._conj.get(id(rule), ())

    def clear(self) -> None:
        self._conj.clear()
        self._subtables.clear()
        self._order.clear()
        self._plan = None
        self._n = 0
        self._tries = {slot: PrefixTrie(trie.width) for slot, trie in self._tries.items()}

    @property
    def prefix_fields(self) -> tuple[str, ...]:
        return tuple(self._tries)

    def set_prefix_fields(self, fields: tuple[str, ...]) -> None:
        """Keep prefix tries on these slots (OVS's Flow_Table ``prefixes``); rebuilds."""
        rules = [(r, self._conj.get(id(r), ())) for r in self]
        self.clear()
        self._tries = {slot: PrefixTrie(SLOT_BITS[slot]) for slot in fields}
        for rule, conjs in rules:
            self.insert(rule, conjs)

    # --- lookup --------------------------------------------------------------

    def _ordered(self) -> list[Subtable[R]]:
        if self._dirty:
            self._order.sort(key=lambda st: (-st.max_priority, st.seq))
            self._dirty = False
        return self._order

    def _build_plan(self) -> list[_Step[R]]:
        """What ``lookup`` iterates: one flat tuple per subtable, in visiting order.

        A subtable of several slots, all matched exactly, takes its key
        straight from a complete copy of the flow with one ``itemgetter``
        call; that needs flow values to fit their slots, as packets' do.
        """
        plan: list[_Step[R]] = []
        for st in self._ordered():
            getter: Callable[[Mapping[str, int]], Any] = _no_getter
            slot, mask = (st.slots[0], st.masks[0]) if st.width else ("", 0)
            if not st.width:
                kind = _K_EMPTY
            elif st.width == 1:
                kind = _K_ONE
            elif all(m == (1 << SLOT_BITS[s]) - 1 for s, m in st.fields):
                kind = _K_EXACT
                getter = itemgetter(*st.slots)
                self._zero.update(dict.fromkeys(st.slots, 0))
            else:
                kind = _K_MASKED
            plan.append((st.max_priority, kind, slot, mask, getter, st.slots, st.masks,
                         st.fields, st.buckets, st.stages, st.tries))
        self._plan = plan
        return plan

    def lookup(self, flow: Mapping[str, int], wc: dict[str, int] | None = None) -> R | None:
        """The highest-priority rule matching ``flow`` (missing slots are 0).

        With ``wc``, ORs in per slot the mask bits the lookup depended on.
        """
        if self._conj or wc is not None:
            return self._lookup_full(flow, wc, True)
        plan = self._plan
        if plan is None:
            plan = self._build_plan()
        best: R | None = None
        best_pri = -1
        get = flow.get
        full: Mapping[str, int] | None = None
        key: object
        for max_pri, kind, slot, mask, getter, slots, masks, _, buckets, _, _ in plan:
            if max_pri <= best_pri:
                break
            if kind == _K_ONE:
                key = get(slot, 0) & mask
            elif kind == _K_EXACT:
                if full is None:
                    full = {**self._zero, **flow}
                key = getter(full)
            elif kind == _K_MASKED:
                key = tuple(map(and_, map(get, slots, _ZEROS), masks))
            else:
                key = ()
            bucket = buckets.get(key)
            if bucket is not None:
                rule = bucket[0]
                if rule.priority > best_pri:
                    best = rule
                    best_pri = rule.priority
        return best

    def _lookup_full(self, flow: Mapping[str, int], wc: dict[str, int] | None,
                     allow: bool) -> R | None:
        """OVS ``classifier_lookup__``: staged un-wildcarding and soft (conjunctive) matches."""
        plan = self._plan
        if plan is None:
            plan = self._build_plan()
        conj = self._conj
        hard: R | None = None
        hard_pri = -1
        soft: list[tuple[list[R], int]] = []
        """(bucket, index of the soft rule in it)."""
        full = {**self._zero, **flow}
        tried: dict[str, tuple[frozenset[int], int]] = {}
        key: object
        for (max_pri, kind, slot, mask, getter, slots, masks, fields, buckets, stages,
             tries) in plan:
            if max_pri <= hard_pri:
                break
            if tries and wc is not None and not self._tries_allow(tries, full, tried, wc):
                continue
            if kind == _K_ONE:
                key = full.get(slot, 0) & mask
            elif kind == _K_EXACT:
                key = getter(full)
            elif kind == _K_MASKED:
                key = tuple(map(and_, map(full.get, slots, _ZEROS), masks))
            else:
                key = ()
            if wc is not None:
                # Staged lookup: a key whose first stages no rule has misses
                # whatever the later stages hold, so only those stages count.
                for part, counts, upto in stages:
                    if part(key) not in counts:  # type: ignore[arg-type]
                        fields = upto
                        break
                for f_slot, f_mask in fields:
                    wc[f_slot] = wc.get(f_slot, 0) | f_mask
            bucket = buckets.get(key)
            if bucket is None or bucket[0].priority <= hard_pri:
                continue
            rule = bucket[0]
            if id(rule) not in conj:
                hard, hard_pri = rule, rule.priority
            elif allow:
                soft.append((bucket, 0))
        while soft:
            soft = [(b, i) for b, i in soft if b[i].priority > hard_pri]
            if not soft:
                break
            soft_pri = max(b[i].priority for b, i in soft)
            n_soft_pri = sum(1 for b, i in soft if b[i].priority == soft_pri)
            matches: dict[int, int] = {}
            for b, i in soft:
                if b[i].priority != soft_pri:
                    continue
                conj_id = _conjunctive_match(conj[id(b[i])], n_soft_pri, matches)
                if conj_id is not None:
                    inner = dict(flow)
                    inner["conj_id"] = conj_id
                    found = self._lookup_full(inner, wc, False)
                    if found is not None:
                        return found
            # No real match at soft_pri: fall back to lower-priority rules with
            # the same match as the soft ones.
            rest: list[tuple[list[R], int]] = []
            for b, i in soft:
                if b[i].priority != soft_pri:
                    rest.append((b, i))
                elif i + 1 < len(b):
                    nxt = b[i + 1]
                    if id(nxt) in conj:
                        rest.append((b, i + 1))
                    elif nxt.priority > hard_pri:
                        hard, hard_pri = nxt, nxt.priority
            soft = rest
        return hard

    @staticmethod
    def _tries_allow(tries: tuple[TrieUse, ...], flow: Mapping[str, int],
                     tried: dict[str, tuple[frozenset[int], int]],
                     wc: dict[str, int]) -> bool:
        """OVS ``check_tries``: may this subtable match, as far as its prefixes say?

        When no rule's prefix of the subtable's length matches the flow, it
        cannot match, and only the leading bits the trie read go into ``wc``.
        """
        for trie, _, plen, slot, width in tries:
            found = tried.get(slot)
            if found is None:
                found = tried[slot] = trie.lookup(flow.get(slot, 0))
            plens, nbits = found
            if plen not in plens:
                if nbits:
                    wc[slot] = wc.get(slot, 0) | ((1 << nbits) - 1) << (width - nbits)
                return False
        return True

    def lookup_all(self, flow: Mapping[str, int]) -> list[R]:
        """Every rule matching ``flow``, highest priority first (for tracing and tests)."""
        found: list[R] = []
        for st in self._ordered():
            found.extend(st.buckets.get(st.flow_key(flow), ()))
        found.sort(key=lambda r: -r.priority)
        return found

    # --- queries by match ----------------------------------------------------

    def find_exact(self, match: Match, priority: int) -> R | None:
        """The rule with exactly this match and priority (OVS ``classifier_find_rule_exactly``)."""
        st = self._subtables.get(mask_key(match))
        if st is None:
            return None
        for r in st.buckets.get(st.rule_key(match), ()):
            if r.priority == priority:
                return r
        return None

    def iter_loose(self, match: Match) -> list[R]:
        """Rules at least as specific as ``match`` (OVS ``cls_rule_is_loose_match``).

        A rule qualifies when it matches every bit ``match`` matches, with the
        same value; it may match more.  Used by non-strict modify/delete and
        by flow statistics requests.
        """
        target = match.entries
        out: list[R] = []
        for st in self._ordered():
            index = {slot: i for i, slot in enumerate(st.slots)}
            checks: list[tuple[int, int, int]] = []
            for slot, value, mask in target:
                i = index.get(slot)
                if i is None or st.masks[i] & mask != mask:
                    break
                checks.append((i, value, mask))
            else:
                if not checks:
                    out.extend(st.rules())
                    continue
                single = st.width == 1
                for key, bucket in st.buckets.items():
                    if single:
                        ok = all(key & m == v for _, v, m in checks)  # type: ignore[operator]
                    else:
                        ok = all(key[i] & m == v for i, v, m in checks)  # type: ignore[index]
                    if ok:
                        out.extend(bucket)
        return out

    def overlaps(self, match: Match, priority: int) -> bool:
        """Would a rule ``match``/``priority`` overlap one here (OFPFF_CHECK_OVERLAP)?

        Two rules of the same priority overlap when some packet could match
        both: their values agree on the bits both of them match (OVS
        ``classifier_rule_overlaps``).
        """
        target = {slot: (value, mask) for slot, value, mask in match.entries}
        for st in self._ordered():
            if st.max_priority < priority:
                break
            if priority not in st.priorities:
                continue
            common = [(i, target[slot][0], target[slot][1] & st.masks[i])
                      for i, slot in enumerate(st.slots) if slot in target]
            for key, bucket in st.buckets.items():
                if not any(r.priority == priority for r in bucket):
                    continue
                values = (key,) if st.width == 1 else key
                if all(values[i] & m == v & m  # type: ignore[index]
                       for i, v, m in common):
                    return True
        return False

    # --- container -----------------------------------------------------------

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[R]:
        for st in list(self._ordered()):
            yield from list(st.rules())

    def __bool__(self) -> bool:
        return self._n > 0

    @property
    def n_subtables(self) -> int:
        return len(self._subtables)


def _no_getter(flow: Mapping[str, int]) -> Any:
    return None


def _conjunctive_match(conjs: tuple[Conj, ...], max_n_clauses: int,
                       matches: dict[int, int]) -> int | None:
    """OVS ``find_conjunctive_match``: a conjunction id whose clauses are now all seen.

    ``matches`` maps conjunction id -> bitmap of clauses seen so far (bits
    for clauses that do not exist preset), shared across the soft matches of
    one priority.
    """
    if max_n_clauses < min(n for _, _, n in conjs):
        return None
    for conj_id, clause, n_clauses in conjs:
        if n_clauses > max_n_clauses:
            continue
        seen = matches.get(conj_id)
        if seen is None:
            seen = (_ALL64 << (n_clauses & 63)) & _ALL64
        seen |= 1 << clause
        matches[conj_id] = seen
        if seen == _ALL64:
            return conj_id
    return None
