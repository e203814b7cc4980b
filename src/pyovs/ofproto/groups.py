"""The group table: group_mod, group statistics, and choosing buckets.

OVS's group handling is split between ``ofproto/ofproto.c`` (the table:
``add_group_start``, ``modify_group_start``, ``delete_groups_start``, the
bucket insertion and removal of OpenFlow 1.5), ``ofproto/ofproto-dpif.c``
(statistics, and how a select group picks buckets: ``group_set_selection_method``
and the dp_hash table built by the Webster method) and
``ofproto/ofproto-dpif-xlate.c`` (bucket liveness, fast failover, the
hash-based choice).  This module is those parts, sans-IO: ``now`` is a
parameter and liveness is asked of the caller through callbacks.

The message decoder (``msg_group``) already made OVS's per-message checks
(``ofputil_check_group_mod``); the table adds the checks that need state:
``OFPGMFC_GROUP_EXISTS``, ``UNKNOWN_GROUP``, ``INVALID_GROUP`` (an id above
``OFPG_MAX``), ``BAD_TYPE``, ``UNKNOWN_BUCKET``, ``BUCKET_EXISTS``.  OVS does
not check group chaining or loops at group_mod time (it advertises
``OFPGFC_CHAINING``; translation limits the depth), and neither does pyovs.

A modified group is a new ``Group`` object replacing the old one, as in OVS
(its statistics restart, its creation time is kept), so a translation
holding the old object is never surprised.  The rules that refer to a group
are the flow tables' business (``FlowTables.group_mod`` deletes them with a
deleted group and reports the reference counts).

Select groups
-------------
Without a selection method, OVS uses ``dp_hash`` when the bucket weights
fit a table of at most 256 hash values, else its "default" method: the
highest-scoring live bucket, a bucket's score being
``(hash_int(bucket_id, flow_hash_symmetric_l4(flow)) & 0xffff) * weight``.
``hash`` with fields hashes the masked fields instead.  With ``dp_hash``
the datapath must first compute a hash (``Group.dp_hash_request``) and the
packet is recirculated; ``select_bucket`` then maps ``dp_hash`` through the
Webster table (before that, it answers as the default method would).  The
hash functions are OVS's portable ones (``lib/hash.h`` without SSE4.2,
``lib/jhash.c``), so choices are deterministic for a flow; an OVS built with
SSE4.2 hashes differently, so bucket choices may differ from a particular
OVS binary's.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from pyovs.openflow.action_bitmap import known_bits
from pyovs.openflow.errors import OFError, OFPErr
from pyovs.openflow.fieldtypes import Prereq
from pyovs.openflow.match import MatchBuilder
from pyovs.openflow.msg_group import (
    BUCKET_ALL,
    BUCKET_FIRST,
    BUCKET_LAST,
    BUCKET_MAX,
    GC_ADD,
    GC_ADD_OR_MOD,
    GC_DELETE,
    GC_INSERT_BUCKET,
    GC_MODIFY,
    GC_REMOVE_BUCKET,
    GT_ALL,
    GT_FF,
    GT_INDIRECT,
    GT_SELECT,
    NO_SELECTION,
    OFPG_ALL,
    OFPG_ANY,
    OFPG_MAX,
    Bucket,
    GroupDesc,
    GroupFeaturesReply,
    GroupMod,
    GroupStats,
    SelectionMethod,
)
from pyovs.openflow.ports import OFPP_ANY, OFPP_CONTROLLER

OFPGFC_SELECT_WEIGHT: Final = 1 << 0
OFPGFC_SELECT_LIVENESS: Final = 1 << 1
OFPGFC_CHAINING: Final = 1 << 2
MAX_SELECT_GROUP_HASH_VALUES: Final = 256
MAX_LIVENESS_RECURSION: Final = 128
SEL_DEFAULT, SEL_HASH, SEL_DP_HASH = "default", "hash", "dp_hash"
OVS_HASH_ALG_L4, OVS_HASH_ALG_SYM_L4 = 0, 1
_M32: Final = 0xFFFFFFFF


# --- OVS's portable hash functions (lib/hash.h, lib/jhash.c) --------------------

def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M32


def mhash_add(hash_: int, data: int) -> int:
    if data:
        data = (data * 0xCC9E2D51) & _M32
        data = _rot(data, 15)
        data = (data * 0x1B873593) & _M32
        hash_ ^= data
    hash_ = _rot(hash_, 13)
    return (hash_ * 5 + 0xE6546B64) & _M32


def mhash_finish(hash_: int) -> int:
    hash_ ^= hash_ >> 16
    hash_ = (hash_ * 0x85EBCA6B) & _M32
    hash_ ^= hash_ >> 13
    hash_ = (hash_ * 0xC2B2AE35) & _M32
    return hash_ ^ (hash_ >> 16)


def hash_int(x: int, basis: int) -> int:
    """OVS ``hash_int`` (= ``hash_2words``)."""
    return mhash_finish(mhash_add(mhash_add(x & _M32, 0), basis & _M32) ^ 8)


def hash_bytes(data: bytes, basis: int) -> int:
    """OVS ``hash_bytes`` (little-endian words, as on x86)."""
    h = basis & _M32
    n = len(data)
    padded = data + bytes(-n % 4)
    for (word,) in struct.iter_unpack("<I", padded):
        h = mhash_add(h, word)
    return mhash_finish(h ^ n)


def hash_uint64(x: int) -> int:
    return mhash_finish(mhash_add(mhash_add(0, x & _M32), (x >> 32) & _M32) ^ 8)


def _jmix(a: int, b: int, c: int) -> tuple[int, int, int]:
    a = (a - c) & _M32; a ^= _rot(c, 4); c = (c + b) & _M32  # noqa: E702
    b = (b - a) & _M32; b ^= _rot(a, 6); a = (a + c) & _M32  # noqa: E702
    c = (c - b) & _M32; c ^= _rot(b, 8); b = (b + a) & _M32  # noqa: E702
    a = (a - c) & _M32; a ^= _rot(c, 16); c = (c + b) & _M32  # noqa: E702
    b = (b - a) & _M32; b ^= _rot(a, 19); a = (a + c) & _M32  # noqa: E702
    c = (c - b) & _M32; c ^= _rot(b, 4); b = (b + a) & _M32  # noqa: E702
    return a, b, c


def _jfinal(a: int, b: int, c: int) -> int:
    c ^= b; c = (c - _rot(b, 14)) & _M32  # noqa: E702
    a ^= c; a = (a - _rot(c, 11)) & _M32  # noqa: E702
    b ^= a; b = (b - _rot(a, 25)) & _M32  # noqa: E702
    c ^= b; c = (c - _rot(b, 16)) & _M32  # noqa: E702
    a ^= c; a = (a - _rot(c, 4)) & _M32  # noqa: E702
    b ^= a; b = (b - _rot(a, 14)) & _M32  # noqa: E702
    c ^= b; c = (c - _rot(b, 24)) & _M32  # noqa: E702
    return c


def jhash_bytes(data: bytes, basis: int) -> int:
    """OVS ``jhash_bytes`` (Bob Jenkins' lookup3), little-endian words."""
    n = len(data)
    a = b = c = (0xDEADBEEF + n + basis) & _M32
    pos = 0
    while n - pos >= 12:
        x, y, z = struct.unpack_from("<III", data, pos)
        a, b, c = _jmix((a + x) & _M32, (b + y) & _M32, (c + z) & _M32)
        pos += 12
    if pos < n:
        x, y, z = struct.unpack("<III", data[pos:] + bytes(12 - (n - pos)))
        c = _jfinal((a + x) & _M32, (b + y) & _M32, (c + z) & _M32)
    return c


_SYM_L4: Final = struct.Struct("!16sHHH6sB3x")
"""OVS's ``flow_hash_symmetric_l4`` scratch struct: address union, eth_type,
vlan_tci, tp_port, eth_addr, ip_proto, padding to 32 bytes."""


def flow_hash_symmetric_l4(flow: Mapping[str, int], basis: int = 0) -> int:
    """OVS ``flow_hash_symmetric_l4``: the same for both directions of a connection."""
    get = flow.get
    eth = (get("dl_src", 0) ^ get("dl_dst", 0)).to_bytes(6, "big")
    tci = (get("vlan_tci", 0) ^ get("vlan_tci1", 0)) & 0x0FFF
    dl_type = get("dl_type", 0)
    addr = b""
    proto = port = 0
    if dl_type == 0x0800:
        addr = (get("nw_src", 0) ^ get("nw_dst", 0)).to_bytes(4, "big")
    elif dl_type == 0x86DD:
        addr = (get("ipv6_src", 0) ^ get("ipv6_dst", 0)).to_bytes(16, "big")
    if addr:
        proto = get("nw_proto", 0)
        if proto in (6, 132):
            port = get("tp_src", 0) ^ get("tp_dst", 0)
    return jhash_bytes(_SYM_L4.pack(addr, dl_type, tci, port, eth, proto), basis)


def mask_symmetric_l4(flow: Mapping[str, int], wc: dict[str, int]) -> None:
    """OVS ``flow_mask_hash_fields(NX_HASH_FIELDS_SYMMETRIC_L4)``."""
    def ones(slot: str, mask: int) -> None:
        wc[slot] = wc.get(slot, 0) | mask
    ones("dl_src", (1 << 48) - 1)
    ones("dl_dst", (1 << 48) - 1)
    dl_type = flow.get("dl_type", 0)
    if dl_type == 0x0800:
        ones("nw_src", _M32)
        ones("nw_dst", _M32)
    elif dl_type == 0x86DD:
        ones("ipv6_src", (1 << 128) - 1)
        ones("ipv6_dst", (1 << 128) - 1)
    if dl_type in (0x0800, 0x86DD):
        ones("nw_proto", 0xFF)
        if flow.get("nw_proto", 0) != 17:
            # flow_unwildcard_tp_ports: ICMP's type/code live in tp_src/tp_dst too.
            ones("tp_src", 0xFFFF)
            ones("tp_dst", 0xFFFF)
    ones("vlan_tci", 0x1FFF)
    ones("vlan_tci1", 0x1FFF)


# The flow bits each kind of prerequisite looks at (OVS ``mf_are_prereqs_ok``
# with a wildcards argument un-wildcards these).
_L3: Final = (("packet_type", _M32), ("dl_type", 0xFFFF))
_L4: Final = (*_L3, ("nw_proto", 0xFF), ("nw_frag", 0xFF))
_ND: Final = (*_L4, ("tp_src", 0xFFFF), ("tp_dst", 0xFFFF))
PREREQ_SLOTS: Final[dict[Prereq, tuple[tuple[str, int], ...]]] = {
    Prereq.NONE: (), Prereq.ETHERNET: (("packet_type", _M32),),
    Prereq.ARP: _L3, Prereq.IPV4: _L3, Prereq.IPV6: _L3, Prereq.IP_ANY: _L3,
    Prereq.MPLS: _L3, Prereq.NSH: _L3,
    Prereq.VLAN_VID: (("packet_type", _M32), ("vlan_tci", 0x1000)),
    Prereq.CT_VALID: (("ct_state", 0xFF),),
    Prereq.TCP: _L4, Prereq.UDP: _L4, Prereq.SCTP: _L4, Prereq.ICMPV4: _L4,
    Prereq.ICMPV6: _L4, Prereq.ND: _ND, Prereq.ND_SOLICIT: _ND, Prereq.ND_ADVERT: _ND,
}


# --- groups -----------------------------------------------------------------------

PortLive = Callable[[int], bool]
"""Is this OpenFlow port usable (OVS ``odp_port_is_alive``: may_enable)?"""


def _webster(buckets: tuple[Bucket, ...], max_hash: int) -> list[Bucket] | None:
    """OVS ``group_setup_dp_hash_table``: dp_hash value -> bucket, or None if unsuitable."""
    if not buckets:
        return None
    total = sum(b.weight for b in buckets)
    if not total:
        return None
    min_weight = min((b.weight for b in buckets if b.weight), default=0xFFFF)
    min_slots = -(-total // min_weight)
    n_hash = max(16, 1 << (min_slots - 1).bit_length())
    if n_hash > MAX_SELECT_GROUP_HASH_VALUES or (max_hash and n_hash > max_hash):
        return None
    divisors = [1] * len(buckets)
    values = [float(b.weight) for b in buckets]
    table = []
    for _ in range(n_hash):
        winner = 0
        for i in range(1, len(buckets)):
            if values[i] > values[winner]:
                winner = i
        divisors[winner] += 2
        values[winner] = buckets[winner].weight / divisors[winner]
        table.append(buckets[winner])
    return table


@dataclass(eq=False, slots=True)
class Group:
    """One group (OVS ``struct ofgroup`` + ``struct group_dpif``)."""

    group_id: int
    type: int
    buckets: tuple[Bucket, ...]
    selection: SelectionMethod = NO_SELECTION
    created: float = 0.0
    modified: float = 0.0
    packet_count: int = 0
    byte_count: int = 0
    bucket_counts: list[list[int]] = field(default_factory=list)
    """[packets, bytes] per bucket, in bucket order."""
    method: str = SEL_DEFAULT
    """How a select group chooses: SEL_DEFAULT, SEL_HASH or SEL_DP_HASH."""
    hash_map: list[Bucket] = field(default_factory=list)
    hash_alg: int = OVS_HASH_ALG_SYM_L4
    hash_basis: int = 0

    def __post_init__(self) -> None:
        self.bucket_counts = [[0, 0] for _ in self.buckets]
        if self.type == GT_SELECT:
            self._set_selection_method()

    def _set_selection_method(self) -> None:
        """OVS ``group_set_selection_method``."""
        sel = self.selection
        table = None
        if not sel.method:
            table = _webster(self.buckets, 256)
            if table is not None:
                self.hash_alg, self.hash_basis = OVS_HASH_ALG_SYM_L4, 0
        elif sel.method == "dp_hash":
            table = _webster(self.buckets, 0)
            if table is not None:
                alg = sel.param >> 32
                self.hash_alg = alg if alg <= OVS_HASH_ALG_SYM_L4 else OVS_HASH_ALG_L4
                self.hash_basis = sel.param & _M32
        elif sel.fields:
            self.method = SEL_HASH
        if table is not None:
            self.method = SEL_DP_HASH
            self.hash_map = table

    # --- statistics --------------------------------------------------------------

    def account(self, packets: int, bytes_: int, bucket: Bucket | None = None) -> None:
        """OVS ``group_dpif_credit_stats``: to one bucket, or to all if None."""
        self.packet_count += packets
        self.byte_count += bytes_
        for b, counts in zip(self.buckets, self.bucket_counts, strict=True):
            if bucket is None or b is bucket:
                counts[0] += packets
                counts[1] += bytes_

    def stats(self, now: float, ref_count: int = 0) -> GroupStats:
        ms = max(0, int(now * 1000) - int(self.created * 1000))
        return GroupStats(self.group_id, ref_count, self.packet_count, self.byte_count,
                          ms // 1000, (ms % 1000) * 1_000_000,
                          tuple((p, b) for p, b in self.bucket_counts))

    def desc(self) -> GroupDesc:
        return GroupDesc(self.group_id, self.type, self.buckets, self.selection)

    # --- choosing buckets ------------------------------------------------------------

    def bucket_is_alive(self, bucket: Bucket, live: Liveness, depth: int = 0) -> bool:
        """OVS ``bucket_is_alive``."""
        if depth >= MAX_LIVENESS_RECURSION:
            return False
        if self.type == GT_SELECT and bucket.weight == 0:
            return False
        wp, wg = bucket.watch_port, bucket.watch_group
        return (not bucket.has_liveness
                or (wp not in (OFPP_ANY, OFPP_CONTROLLER) and live.port_live(wp))
                or (wg != OFPG_ANY and live.group_live(wg, depth + 1))
                or (wp == OFPP_CONTROLLER and live.controller_live()))

    def first_live_bucket(self, live: Liveness, depth: int = 0) -> Bucket | None:
        """OVS ``group_first_live_bucket`` (fast failover; also group liveness)."""
        for b in self.buckets:
            if self.bucket_is_alive(b, live, depth):
                return b
        return None

    def best_live_bucket(self, live: Liveness, basis: int) -> Bucket | None:
        """OVS ``group_best_live_bucket``: the highest weighted hash score wins."""
        best = None
        best_score = 0
        for b in self.buckets:
            if self.bucket_is_alive(b, live):
                score = (hash_int(b.bucket_id, basis) & 0xFFFF) * b.weight
                if score >= best_score:
                    best, best_score = b, score
        return best

    def dp_hash_request(self, flow: Mapping[str, int]) -> tuple[int, int] | None:
        """(hash algorithm, basis) when the datapath must hash the packet first.

        For a dp_hash select group and a flow whose ``dp_hash`` is 0 (not yet
        computed), the translation must ask the datapath for a hash and
        recirculate (OVS ``ctx_trigger_recirculate_with_hash``).
        """
        if self.type == GT_SELECT and self.method == SEL_DP_HASH and not flow.get("dp_hash"):
            return self.hash_alg, self.hash_basis
        return None

    def select_bucket(self, flow: Mapping[str, int], live: Liveness,
                      wc: dict[str, int] | None = None) -> Bucket | None:
        """The bucket a select group uses for ``flow`` (OVS ``pick_select_group``).

        ``wc`` receives the flow bits the choice depended on.  A dp_hash group
        needs the flow's dp_hash: OVS has the datapath compute it and
        recirculates (see ``dp_hash_request``); a caller that has not done so
        gets the choice of the default method instead.
        """
        if self.method == SEL_DP_HASH:
            dp_hash = flow.get("dp_hash", 0)
            if not dp_hash:
                if wc is not None:
                    mask_symmetric_l4(flow, wc)
                return self.best_live_bucket(live, flow_hash_symmetric_l4(flow, 0))
            mask = len(self.hash_map) - 1
            if wc is not None:
                wc["dp_hash"] = wc.get("dp_hash", 0) | mask
            for i in range(mask + 1):
                b = self.hash_map[(dp_hash + i) & mask]
                if self.bucket_is_alive(b, live):
                    return b
            return None
        if self.method == SEL_HASH:
            return self.best_live_bucket(live, self._fields_hash(flow, wc))
        if wc is not None:
            mask_symmetric_l4(flow, wc)
        return self.best_live_bucket(live, flow_hash_symmetric_l4(flow, 0))

    def _fields_hash(self, flow: Mapping[str, int], wc: dict[str, int] | None) -> int:
        """OVS ``pick_hash_fields_select_group``."""
        basis = hash_uint64(self.selection.param)
        b = MatchBuilder({slot: (value, (1 << 1024) - 1) for slot, value in flow.items()})
        for f, mask in self.selection.fields:
            if wc is not None:
                # Whether the field counts depends on its prerequisites: they
                # belong in the megaflow either way (OVS mf_are_prereqs_ok(wc)).
                for slot, bits in PREREQ_SLOTS[f.prereq]:
                    wc[slot] = wc.get(slot, 0) | bits
            if not b.prereqs_ok(f):
                continue
            value = b.get_field(f)[0] & mask
            basis = hash_bytes(value.to_bytes(f.n_bytes, "big"), basis)
            if wc is not None:
                wc[f.slot] = wc.get(f.slot, 0) | ((mask << f.shift) & f.slot_bits)
        return basis

    def buckets_for(self, flow: Mapping[str, int], live: Liveness,
                    wc: dict[str, int] | None = None) -> tuple[Bucket, ...]:
        """The buckets a packet goes through: all of them, or the one chosen."""
        if self.type in (GT_ALL, GT_INDIRECT):
            return self.buckets
        chosen = (self.select_bucket(flow, live, wc) if self.type == GT_SELECT
                  else self.first_live_bucket(live))
        return () if chosen is None else (chosen,)


class Liveness:
    """What bucket liveness needs from the switch: ports, groups, controllers.

    ``port_live`` is OVS's ``odp_port_is_alive`` (the port may be enabled);
    a watched group is alive when it has a live bucket, found in ``groups``
    -- or ask ``group_live(group_id)`` instead; a bucket watching the
    controller port is alive when ``controller_live()`` says a controller
    is connected.
    """

    __slots__ = ("_controller", "_group", "_groups", "_port")

    def __init__(self, port_live: PortLive, groups: GroupTable | None = None,
                 controller_live: Callable[[], bool] | None = None,
                 group_live: Callable[[int], bool] | None = None) -> None:
        self._port = port_live
        self._groups = groups
        self._controller = controller_live
        self._group = group_live

    def port_live(self, port: int) -> bool:
        return self._port(port)

    def group_live(self, group_id: int, depth: int = 0) -> bool:
        """OVS ``group_is_alive``: the group exists and has a live bucket."""
        if self._group is not None:
            return self._group(group_id)
        g = self._groups.get(group_id) if self._groups is not None else None
        return g is not None and g.first_live_bucket(self, depth) is not None

    def controller_live(self) -> bool:
        return self._controller() if self._controller is not None else False


# --- the table ------------------------------------------------------------------------

@dataclass(slots=True)
class GroupModResult:
    added: Group | None = None
    modified: Group | None = None
    """The replacement group (the old object is no longer in the table)."""
    deleted: list[int] = field(default_factory=list)
    """Ids of deleted groups; rules that refer to them must go too."""


class GroupTable:
    """A switch's groups (OVS ``ofproto->groups``)."""

    def __init__(self, max_groups: int = OFPG_MAX) -> None:
        self._groups: dict[int, Group] = {}
        self.max_groups = max_groups
        self.generation = 0

    def get(self, group_id: int) -> Group | None:
        return self._groups.get(group_id)

    def snapshot(self) -> dict[int, Group]:
        """The table's state, for ``restore`` (a group_mod replaces, never mutates, groups)."""
        return dict(self._groups)

    def restore(self, snapshot: dict[int, Group]) -> None:
        self._groups = dict(snapshot)
        self.generation += 1

    def exists(self, group_id: int) -> bool:
        return group_id in self._groups

    def __len__(self) -> int:
        return len(self._groups)

    def __iter__(self) -> Iterator[Group]:
        return iter(self.groups())

    def groups(self) -> list[Group]:
        return sorted(self._groups.values(), key=lambda g: g.group_id)

    def _count(self, type_: int) -> int:
        return sum(1 for g in self._groups.values() if g.type == type_)

    def group_mod(self, gm: GroupMod, now: float) -> GroupModResult:
        """Apply a group_mod (OVS ``ofproto_group_mod_start``/``finish``)."""
        cmd = gm.command
        if cmd == GC_ADD:
            result = GroupModResult(added=self._add(gm, now))
        elif cmd in (GC_MODIFY, GC_INSERT_BUCKET, GC_REMOVE_BUCKET):
            result = GroupModResult(modified=self._modify(gm, now))
        elif cmd == GC_ADD_OR_MOD:
            result = (GroupModResult(modified=self._modify(gm, now))
                      if gm.group_id in self._groups
                      else GroupModResult(added=self._add(gm, now)))
        elif cmd == GC_DELETE:
            if gm.group_id == OFPG_ALL:
                ids = sorted(self._groups)
            else:
                ids = [gm.group_id] if gm.group_id in self._groups else []
            for gid in ids:
                del self._groups[gid]
            result = GroupModResult(deleted=ids)
        else:
            raise OFError(OFPErr.OFPGMFC_BAD_COMMAND, f"group command {cmd}")
        self.generation += 1
        return result

    def _init_group(self, gm: GroupMod, type_: int, buckets: tuple[Bucket, ...],
                    selection: SelectionMethod, now: float) -> Group:
        """OVS ``init_group``."""
        if gm.group_id > OFPG_MAX:
            raise OFError(OFPErr.OFPGMFC_INVALID_GROUP, f"group id {gm.group_id:#x}")
        if type_ > GT_FF:
            raise OFError(OFPErr.OFPGMFC_BAD_TYPE, f"group type {type_}")
        return Group(gm.group_id, type_, buckets, selection, now, now)

    def _add(self, gm: GroupMod, now: float) -> Group:
        """OVS ``add_group_start``."""
        if gm.group_id in self._groups:
            raise OFError(OFPErr.OFPGMFC_GROUP_EXISTS, f"group {gm.group_id}")
        if gm.type <= GT_FF and self._count(gm.type) >= self.max_groups:
            raise OFError(OFPErr.OFPGMFC_OUT_OF_GROUPS, "too many groups")
        group = self._init_group(gm, gm.type, gm.buckets, gm.selection, now)
        self._groups[gm.group_id] = group
        return group

    def _modify(self, gm: GroupMod, now: float) -> Group:
        """OVS ``modify_group_start`` (also insert and remove bucket)."""
        old = self._groups.get(gm.group_id)
        if old is None:
            raise OFError(OFPErr.OFPGMFC_UNKNOWN_GROUP, f"group {gm.group_id}")
        type_, selection, buckets = gm.type, gm.selection, gm.buckets
        if gm.command in (GC_INSERT_BUCKET, GC_REMOVE_BUCKET):
            # EXT-570: bucket commands keep the group's type and properties.
            type_, selection = old.type, old.selection
        if (old.type != type_ and type_ <= GT_FF
                and self._count(type_) >= self.max_groups):
            raise OFError(OFPErr.OFPGMFC_OUT_OF_GROUPS, "too many groups")
        self._init_group(gm, type_, (), selection, now)
        if gm.command == GC_INSERT_BUCKET:
            buckets = _insert_buckets(old.buckets, gm.buckets, gm.command_bucket_id)
        elif gm.command == GC_REMOVE_BUCKET:
            buckets = _remove_buckets(old.buckets, gm.command_bucket_id)
        group = Group(gm.group_id, type_, buckets, selection, old.created, now)
        self._groups[gm.group_id] = group
        return group

    # --- replies ---------------------------------------------------------------

    def stats(self, group_id: int, now: float,
              ref_counts: Callable[[int], int] | None = None) -> list[GroupStats]:
        """Group stats entries for ``group_id`` or OFPG_ALL (OVS ``append_group_stats``)."""
        return [g.stats(now, ref_counts(g.group_id) if ref_counts else 0)
                for g in self._select(group_id)]

    def desc(self, group_id: int) -> list[GroupDesc]:
        """Group description entries (OVS ``append_group_desc``)."""
        return [g.desc() for g in self._select(group_id)]

    def _select(self, group_id: int) -> list[Group]:
        if group_id == OFPG_ALL:
            return self.groups()
        g = self._groups.get(group_id)
        return [g] if g is not None else []

    def features(self, version: int) -> GroupFeaturesReply:
        """OVS's group features (``ofproto->ogf``): every type, all actions."""
        bits = known_bits(version)
        return GroupFeaturesReply(
            types=0xF, capabilities=OFPGFC_CHAINING | OFPGFC_SELECT_LIVENESS
            | OFPGFC_SELECT_WEIGHT, max_groups=(self.max_groups,) * 4,
            actions=(bits,) * 4)


def _insert_buckets(old: tuple[Bucket, ...], new: tuple[Bucket, ...],
                    command_bucket_id: int) -> tuple[Bucket, ...]:
    """OVS ``copy_buckets_for_insert_bucket``."""
    old_ids = [b.bucket_id for b in old]
    if command_bucket_id <= BUCKET_MAX and command_bucket_id not in old_ids:
        raise OFError(OFPErr.OFPGMFC_UNKNOWN_BUCKET, f"bucket {command_bucket_id}")
    if len({b.bucket_id for b in new} | set(old_ids)) != len(new) + len(old):
        raise OFError(OFPErr.OFPGMFC_BUCKET_EXISTS, "duplicate bucket id")
    if command_bucket_id == BUCKET_LAST:
        return old + new
    if command_bucket_id == BUCKET_FIRST:
        return new + old
    i = old_ids.index(command_bucket_id) + 1
    return old[:i] + new + old[i:]


def _remove_buckets(old: tuple[Bucket, ...], command_bucket_id: int) -> tuple[Bucket, ...]:
    """OVS ``copy_buckets_for_remove_bucket``."""
    if command_bucket_id == BUCKET_ALL:
        return ()
    if command_bucket_id == BUCKET_FIRST:
        return old[1:]
    if command_bucket_id == BUCKET_LAST:
        return old[:-1]
    for i, b in enumerate(old):
        if b.bucket_id == command_bucket_id:
            return old[:i] + old[i + 1:]
    raise OFError(OFPErr.OFPGMFC_UNKNOWN_BUCKET, f"bucket {command_bucket_id}")
