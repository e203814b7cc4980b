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
subtable's masks and look the result up.

Subtables are visited in descending order of the highest priority they
hold.  Once a match has been found, every subtable whose maximum priority is
not above it is skipped (OVS's "early termination"), so the usual case --
a few high-priority subtables holding the specific rules, and a catch-all
at the bottom -- probes few subtables.

Un-wildcarding
--------------
``lookup(flow, wc)`` ORs into ``wc`` the mask of every subtable it probed.
That is what the datapath installs as the megaflow mask.  It is sufficient:
which subtables are probed depends only on the rules found so far, and
whether a probe hits depends only on the probed subtable's mask bits, so a
packet that agrees with ``flow`` on all the bits of ``wc`` takes exactly
the same path and gets the same rule.  OVS narrows the mask further with
staged lookup and prefix tries; pyovs does not (yet), so its megaflows are
correct but coarser-grained than OVS's.

Ties
----
OpenFlow leaves the choice between overlapping rules of equal priority
undefined, and so does OVS.  Here the choice is stable: subtables of equal
maximum priority are ordered by creation, and the first subtable holding a
matching rule of the winning priority wins.  Two rules of equal priority in
one subtable cannot both match a packet unless they are the same match, and
inserting an identical match and priority replaces the old rule (``insert``
returns it), as OVS's ``classifier_replace``.

Not here: versioning (a flow_mod is applied atomically by the caller) and
conjunctive match (``conjunction`` actions / ``conj_id``): rules with
conjunction actions are ordinary rules to this classifier for now.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from operator import and_
from typing import Final, Generic, Protocol, TypeVar

from pyovs.openflow.match import Match

MaskKey = tuple[tuple[str, int], ...]
"""A subtable's identity: (slot, mask) pairs in storage order."""
_ZEROS: Final = (0,) * 512


class ClsRule(Protocol):
    """What the classifier needs of a rule."""

    @property
    def match(self) -> Match: ...

    @property
    def priority(self) -> int: ...


R = TypeVar("R", bound=ClsRule)
_Step = tuple[int, int, str, int, tuple[str, ...], tuple[int, ...], "MaskKey",
              dict[object, list[R]]]
"""A subtable as ``lookup`` sees it: max priority, width, the first slot and
mask (for one-slot subtables), all slots, all masks, (slot, mask) pairs, buckets."""


def mask_key(match: Match) -> MaskKey:
    return tuple((slot, mask) for slot, _, mask in match.entries)


class Subtable(Generic[R]):
    """The rules sharing one mask, hashed by their masked values."""

    __slots__ = ("buckets", "fields", "masks", "max_priority", "n_rules", "priorities",
                 "seq", "slots", "width")

    def __init__(self, fields: MaskKey, seq: int) -> None:
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
        bucket = self.buckets.setdefault(key, [])
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

    __slots__ = ("_dirty", "_n", "_order", "_plan", "_seq", "_subtables")

    def __init__(self) -> None:
        self._subtables: dict[MaskKey, Subtable[R]] = {}
        self._order: list[Subtable[R]] = []
        self._dirty = False
        self._plan: list[_Step[R]] | None = None
        self._seq = 0
        self._n = 0

    # --- changes -------------------------------------------------------------

    def insert(self, rule: R) -> R | None:
        """Add ``rule``; returns the rule with an identical match and priority it replaced."""
        mk = mask_key(rule.match)
        st = self._subtables.get(mk)
        if st is None:
            st = Subtable[R](mk, self._seq)
            self._seq += 1
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
            self._n -= 1
        st.add(key, rule)
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
        self._n -= 1
        if not st.n_rules:
            del self._subtables[mk]
            self._order.remove(st)
            self._plan = None
        elif st.max_priority != before:
            self._dirty = True
            self._plan = None
        return True

    def clear(self) -> None:
        self._subtables.clear()
        self._order.clear()
        self._plan = None
        self._n = 0

    # --- lookup --------------------------------------------------------------

    def _ordered(self) -> list[Subtable[R]]:
        if self._dirty:
            self._order.sort(key=lambda st: (-st.max_priority, st.seq))
            self._dirty = False
        return self._order

    def _build_plan(self) -> list[_Step[R]]:
        """What ``lookup`` iterates: one flat tuple per subtable, in visiting order."""
        self._plan = [(st.max_priority, st.width, st.slots[0] if st.width else "",
                       st.masks[0] if st.width else 0, st.slots, st.masks, st.fields,
                       st.buckets) for st in self._ordered()]
        return self._plan

    def lookup(self, flow: Mapping[str, int], wc: dict[str, int] | None = None) -> R | None:
        """The highest-priority rule matching ``flow`` (missing slots are 0).

        With ``wc``, ORs in per slot the mask bits the lookup depended on.
        """
        plan = self._plan
        if plan is None:
            plan = self._build_plan()
        best: R | None = None
        best_pri = -1
        get = flow.get
        key: object
        for max_pri, width, slot, mask, slots, masks, fields, buckets in plan:
            if max_pri <= best_pri:
                break
            if wc is not None:
                for f_slot, f_mask in fields:
                    wc[f_slot] = wc.get(f_slot, 0) | f_mask
            if width == 1:
                key = get(slot, 0) & mask
            elif width:
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
