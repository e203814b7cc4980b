"""Groups and meters: group_mod/meter_mod as OVS applies them, bucket choice, metering."""

from __future__ import annotations

from collections import Counter

import pytest

from pyovs.ofproto.groups import (
    SEL_DEFAULT,
    SEL_DP_HASH,
    SEL_HASH,
    GroupTable,
    Liveness,
    flow_hash_symmetric_l4,
    hash_int,
    jhash_bytes,
)
from pyovs.ofproto.meters import MeterTable
from pyovs.openflow.actions import Output
from pyovs.openflow.errors import OFError, OFPErr
from pyovs.openflow.fields import FIELD_BY_NAME
from pyovs.openflow.msg_group import (
    BUCKET_ALL,
    BUCKET_FIRST,
    BUCKET_LAST,
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
    OFPG_ALL,
    Bucket,
    GroupMod,
    SelectionMethod,
)
from pyovs.openflow.msg_stats import (
    MBT_DROP,
    MBT_DSCP_REMARK,
    MC_ADD,
    MC_DELETE,
    MC_MODIFY,
    MF_BURST,
    MF_KBPS,
    MF_PKTPS,
    MeterBand,
    MeterConfig,
    MeterMod,
)


def bk(bucket_id: int, port: int | None = None, **kw: int) -> Bucket:
    return Bucket((Output(port if port is not None else bucket_id),), bucket_id=bucket_id, **kw)


def ids(gt: GroupTable, gid: int = 1234) -> list[int]:
    g = gt.get(gid)
    assert g is not None
    return [b.bucket_id for b in g.buckets]


def err(exc: pytest.ExceptionInfo[OFError]) -> OFPErr:
    return exc.value.error


def test_add_modify_delete() -> None:
    gt = GroupTable()
    gt.group_mod(GroupMod(GC_ADD, 1, GT_ALL, (bk(0),)), 1.0)
    with pytest.raises(OFError) as e:
        gt.group_mod(GroupMod(GC_ADD, 1, GT_ALL), 1.0)
    assert err(e) is OFPErr.OFPGMFC_GROUP_EXISTS
    with pytest.raises(OFError) as e:
        gt.group_mod(GroupMod(GC_MODIFY, 1234, GT_INDIRECT, (bk(0, 2),)), 1.0)
    assert err(e) is OFPErr.OFPGMFC_UNKNOWN_GROUP
    res = gt.group_mod(GroupMod(GC_ADD_OR_MOD, 1234, GT_INDIRECT, (bk(0, 2),)), 1.0)
    assert res.added is not None and res.added.created == 1.0
    res = gt.group_mod(GroupMod(GC_ADD_OR_MOD, 1234, GT_INDIRECT, (bk(0, 3),)), 2.0)
    assert res.modified is not None
    assert (res.modified.created, res.modified.modified) == (1.0, 2.0)
    [desc] = gt.desc(1234)
    assert desc.buckets[0].actions == (Output(3),)
    with pytest.raises(OFError) as e:
        gt.group_mod(GroupMod(GC_ADD, 0xFFFFFF01, GT_ALL), 1.0)
    assert err(e) is OFPErr.OFPGMFC_INVALID_GROUP
    assert gt.group_mod(GroupMod(GC_DELETE, 99), 1.0).deleted == []
    assert gt.group_mod(GroupMod(GC_DELETE, 1), 1.0).deleted == [1]
    gt.group_mod(GroupMod(GC_ADD, 7, GT_ALL), 1.0)
    assert gt.group_mod(GroupMod(GC_DELETE, OFPG_ALL), 1.0).deleted == [7, 1234]
    assert len(gt) == 0


def test_insert_buckets_as_ofproto_at() -> None:
    gt = GroupTable()
    gt.group_mod(GroupMod(GC_ADD, 1234, GT_ALL), 0.0)

    def insert(where: int, *new: int) -> None:
        gt.group_mod(GroupMod(GC_INSERT_BUCKET, 1234, GT_ALL,
                              tuple(bk(i) for i in new), where), 0.0)

    insert(BUCKET_LAST, 10, 11)
    assert ids(gt) == [10, 11]
    insert(BUCKET_FIRST, 0, 1)
    assert ids(gt) == [0, 1, 10, 11]
    insert(BUCKET_LAST, 14, 15)
    with pytest.raises(OFError) as e:
        insert(BUCKET_LAST, 14, 15)
    assert err(e) is OFPErr.OFPGMFC_BUCKET_EXISTS
    insert(15)
    assert ids(gt) == [0, 1, 10, 11, 14, 15]
    insert(11, 12, 13)
    insert(15, 20, 21)
    assert ids(gt) == [0, 1, 10, 11, 12, 13, 14, 15, 20, 21]
    with pytest.raises(OFError) as e:
        insert(99, 30)
    assert err(e) is OFPErr.OFPGMFC_UNKNOWN_BUCKET
    # Bucket commands keep the group's type.
    gt.group_mod(GroupMod(GC_ADD, 5, GT_FF), 0.0)
    gt.group_mod(GroupMod(GC_INSERT_BUCKET, 5, GT_ALL,
                          (bk(20, watch_port=20), bk(21, watch_port=21)), BUCKET_FIRST), 0.0)
    g = gt.get(5)
    assert g is not None and g.type == GT_FF and ids(gt, 5) == [20, 21]


def test_remove_buckets_as_ofproto_at() -> None:
    gt = GroupTable()
    gt.group_mod(GroupMod(GC_ADD, 1234, GT_ALL, tuple(bk(i) for i in range(10, 17))), 0.0)

    def remove(where: int) -> None:
        gt.group_mod(GroupMod(GC_REMOVE_BUCKET, 1234, GT_ALL, (), where), 0.0)

    remove(BUCKET_FIRST)
    remove(BUCKET_LAST)
    remove(13)
    assert ids(gt) == [11, 12, 14, 15]
    remove(BUCKET_ALL)
    assert ids(gt) == []
    remove(BUCKET_FIRST)
    remove(BUCKET_LAST)
    remove(BUCKET_ALL)
    with pytest.raises(OFError) as e:
        remove(1)
    assert err(e) is OFPErr.OFPGMFC_UNKNOWN_BUCKET


def test_stats_desc_features() -> None:
    gt = GroupTable()
    gt.group_mod(GroupMod(GC_ADD, 1, GT_ALL, (bk(0), bk(1))), 10.0)
    g = gt.get(1)
    assert g is not None
    g.account(2, 200)
    g.account(1, 50, g.buckets[1])
    [s] = gt.stats(OFPG_ALL, 12.5, lambda gid: 4)
    assert (s.group_id, s.ref_count, s.packet_count, s.byte_count) == (1, 4, 3, 250)
    assert (s.duration_sec, s.duration_nsec) == (2, 500_000_000)
    assert s.buckets == ((2, 200), (3, 250))
    assert gt.stats(2, 0.0) == [] and gt.desc(2) == []
    f = gt.features(4)
    assert f.types == 0xF and f.capabilities == 7 and f.max_groups[0] == 0xFFFFFF00
    # A modified group is a new object: its statistics restart.
    gt.group_mod(GroupMod(GC_MODIFY, 1, GT_ALL, (bk(0),)), 11.0)
    [s] = gt.stats(1, 12.5)
    assert (s.packet_count, s.buckets, s.duration_sec) == (0, ((0, 0),), 2)


def test_fast_failover_and_liveness_chains() -> None:
    gt = GroupTable()
    gt.group_mod(GroupMod(GC_ADD, 1, GT_FF, (bk(0, 10, watch_port=10),
                                             bk(1, 11, watch_port=11))), 0.0)
    gt.group_mod(GroupMod(GC_ADD, 2, GT_FF, (bk(0, 12, watch_group=1),
                                             bk(1, 13, watch_port=13))), 0.0)
    up: set[int] = {10, 11, 13}
    live = Liveness(lambda p: p in up, gt)
    g1, g2 = gt.get(1), gt.get(2)
    assert g1 is not None and g2 is not None
    assert g1.buckets_for({}, live) == (g1.buckets[0],)
    up.discard(10)
    assert g1.buckets_for({}, live) == (g1.buckets[1],)
    assert g2.first_live_bucket(live) is g2.buckets[0]  # group 1 is alive
    up.discard(11)
    assert g1.buckets_for({}, live) == ()
    assert g2.first_live_bucket(live) is g2.buckets[1]
    assert not live.group_live(99)
    by_callback = Liveness(lambda p: False, group_live=lambda gid: gid == 1)
    assert g2.first_live_bucket(by_callback) is g2.buckets[0]
    ctl = GroupTable()
    ctl.group_mod(GroupMod(GC_ADD, 3, GT_FF, (bk(0, 1, watch_port=0xFFFD),)), 0.0)
    g3 = ctl.get(3)
    assert g3 is not None
    assert g3.first_live_bucket(Liveness(lambda p: True)) is None
    assert g3.first_live_bucket(Liveness(lambda p: False, controller_live=lambda: True))


def tcp(src: int, dst: int, sport: int, dport: int) -> dict[str, int]:
    return {"dl_src": 0x0A0000000001, "dl_dst": 0x0A0000000002, "dl_type": 0x0800,
            "nw_src": src, "nw_dst": dst, "nw_proto": 6, "tp_src": sport, "tp_dst": dport}


def test_select_default_method_is_symmetric_and_weighted() -> None:
    gt = GroupTable()
    # Weights 1 and 300 would need 512 dp_hash values: OVS falls back to its default method.
    buckets = (bk(0, weight=1), bk(1, weight=300), bk(2, weight=0))
    gt.group_mod(GroupMod(GC_ADD, 1, GT_SELECT, buckets), 0.0)
    g = gt.get(1)
    assert g is not None and g.method == SEL_DEFAULT
    live = Liveness(lambda p: True)
    seen: Counter[int] = Counter()
    for i in range(200):
        f = tcp(0x0A000001 + i, 0x0A0000FE, 1000 + i, 80)
        wc: dict[str, int] = {}
        b = g.select_bucket(f, live, wc)
        assert b is not None and b.bucket_id != 2  # weight 0 is never chosen
        back = tcp(0x0A0000FE, 0x0A000001 + i, 80, 1000 + i)
        back["dl_src"], back["dl_dst"] = f["dl_dst"], f["dl_src"]
        assert g.select_bucket(back, live) is b  # symmetric
        assert wc["nw_src"] == 0xFFFFFFFF and wc["tp_dst"] == 0xFFFF
        seen[b.bucket_id] += 1
    assert seen[1] > seen[0]
    assert flow_hash_symmetric_l4(tcp(1, 2, 3, 4)) == flow_hash_symmetric_l4(tcp(2, 1, 4, 3))


def test_select_dp_hash_method() -> None:
    gt = GroupTable()
    gt.group_mod(GroupMod(GC_ADD, 1, GT_SELECT, (bk(0, weight=1), bk(1, weight=3))), 0.0)
    g = gt.get(1)
    assert g is not None and g.method == SEL_DP_HASH and len(g.hash_map) == 16
    assert Counter(b.bucket_id for b in g.hash_map) == {0: 4, 1: 12}
    up = {0, 1}
    live = Liveness(lambda p: p in up)
    assert g.dp_hash_request({}) == (1, 0)
    # Without a dp_hash (no recirculation), the default method chooses.
    assert g.select_bucket(tcp(1, 2, 3, 4), live) is g.select_bucket(tcp(2, 1, 4, 3), live)
    assert g.select_bucket(tcp(1, 2, 3, 4), live) is not None
    wc: dict[str, int] = {}
    first = g.select_bucket({"dp_hash": 0x1234}, live, wc)
    assert first is g.hash_map[0x4] and wc == {"dp_hash": 0xF}
    assert g.dp_hash_request({"dp_hash": 5}) is None


def test_select_hash_fields_method() -> None:
    gt = GroupTable()
    sel = SelectionMethod("hash", 0, ((FIELD_BY_NAME["ip_dst"], 0xFFFFFFFF),))
    gt.group_mod(GroupMod(GC_ADD, 1, GT_SELECT, (bk(0, weight=1), bk(1, weight=1)), BUCKET_ALL,
                          sel), 0.0)
    g = gt.get(1)
    assert g is not None and g.method == SEL_HASH
    live = Liveness(lambda p: True)
    wc: dict[str, int] = {}
    a = g.select_bucket(tcp(1, 2, 3, 4), live, wc)
    assert wc == {"nw_dst": 0xFFFFFFFF, "dl_type": 0xFFFF, "packet_type": 0xFFFFFFFF}
    # Only ip_dst counts.
    assert g.select_bucket(tcp(9, 2, 7, 8), live) is a
    choices = {g.select_bucket(tcp(1, d, 3, 4), live) for d in range(40)}
    assert len(choices) == 2


def test_hash_functions_match_ovs_portable_build() -> None:
    # Values from OVS's lib/hash.h and lib/jhash.c compiled without SSE4.2.
    assert hash_int(1, 0) == 0xEA95647D
    assert hash_int(123456, 987654) == 0x266E48C3
    data = bytes((i * 7 + 1) & 0xFF for i in range(32))
    assert jhash_bytes(data, 0) == 0xEF82CC98
    assert jhash_bytes(data[:29], 5) == 0x22A377FC
    assert jhash_bytes(b"", 0) == 0xDEADBEEF


# --- meters -------------------------------------------------------------------------

def mm(cmd: int, mid: int, flags: int = MF_KBPS, *bands: MeterBand) -> MeterMod:
    return MeterMod(cmd, MeterConfig(mid, flags, bands))


def test_meter_mod_errors() -> None:
    mt = MeterTable()
    drop = MeterBand(MBT_DROP, 1000)
    cases = [
        (mm(MC_ADD, 0, MF_KBPS, drop), OFPErr.OFPMMFC_INVALID_METER),
        (mm(MC_ADD, 0xFFFF0001, MF_KBPS, drop), OFPErr.OFPMMFC_INVALID_METER),
        (mm(MC_ADD, 1, MF_KBPS, *([drop] * 9)), OFPErr.OFPMMFC_OUT_OF_BANDS),
        (mm(MC_ADD, 1, MF_KBPS | 0x10, drop), OFPErr.OFPMMFC_BAD_FLAGS),
        (mm(MC_ADD, 1, MF_KBPS, MeterBand(MBT_DSCP_REMARK, 10, 0, 1)), OFPErr.OFPMMFC_BAD_BAND),
        (mm(MC_ADD, 1, MF_KBPS, MeterBand(MBT_DROP, 0)), OFPErr.OFPMMFC_BAD_RATE),
        (mm(MC_MODIFY, 1, MF_KBPS, drop), OFPErr.OFPMMFC_UNKNOWN_METER),
    ]
    for m, error in cases:
        with pytest.raises(OFError) as e:
            mt.meter_mod(m, 0.0)
        assert err(e) is error, m
    assert mt.meter_mod(mm(MC_ADD, 0xFFFFFFFE, MF_PKTPS, drop), 0.0).added is not None
    mt.meter_mod(mm(MC_ADD, 1, MF_KBPS, drop), 0.0)
    with pytest.raises(OFError) as e:
        mt.meter_mod(mm(MC_ADD, 1, MF_KBPS, drop), 0.0)
    assert err(e) is OFPErr.OFPMMFC_METER_EXISTS
    assert mt.meter_mod(mm(MC_DELETE, 77), 0.0).deleted == []
    assert mt.meter_mod(mm(MC_DELETE, 0), 0.0).deleted == []
    with pytest.raises(OFError) as e:
        mt.stats(77, 0.0)
    assert err(e) is OFPErr.OFPMMFC_UNKNOWN_METER
    assert [c.meter_id for c in mt.configs(0xFFFFFFFF)] == [1, 0xFFFFFFFE]
    assert mt.meter_mod(mm(MC_DELETE, 0xFFFFFFFF), 0.0).deleted == [1, 0xFFFFFFFE]
    f = mt.features()
    assert (f.max_meters, f.band_types, f.capabilities, f.max_bands) == (1 << 18, 2, 0xF, 8)


def test_meter_pktps_token_bucket() -> None:
    mt = MeterTable()
    # 10 packets/s, burst 5: five pass at once, then one per 100 ms.
    mt.meter_mod(mm(MC_ADD, 1, MF_PKTPS | MF_BURST, MeterBand(MBT_DROP, 10, 5)), 0.0)
    m = mt.get(1)
    assert m is not None
    assert [m.admit(0.0, 100) for _ in range(6)] == [True] * 5 + [False]
    assert m.admit(0.05, 100) is False
    assert m.admit(0.101, 100) is True
    [s] = mt.stats(1, 2.0, lambda mid: 3)
    assert (s.flow_count, s.packet_in_count, s.byte_in_count) == (3, 8, 800)
    assert s.bands == ((2, 200),)
    # Modifying refills the bucket and restarts the counters, as dpif-netdev.
    mt.meter_mod(mm(MC_MODIFY, 1, MF_PKTPS | MF_BURST, MeterBand(MBT_DROP, 10, 5)), 3.0)
    assert m.admit(3.0, 100) and m.packet_count == 1


def test_meter_kbps_token_bucket() -> None:
    mt = MeterTable()
    # 1000 kbps without burst: the bucket holds 1000 * 1000 bits = 125000 bytes.
    mt.meter_mod(mm(MC_ADD, 1, MF_KBPS, MeterBand(MBT_DROP, 1000)), 0.0)
    m = mt.get(1)
    assert m is not None
    passed = sum(m.admit(0.0, 1000) for _ in range(200))
    assert passed == 125
    # 1 ms later, 1000 bits more: not enough for a 1000-byte packet, enough for 100 bytes.
    assert not m.admit(0.001, 1000)
    assert m.admit(0.002, 100)


def test_every_prerequisite_kind_has_megaflow_bits() -> None:
    from pyovs.ofproto.groups import PREREQ_SLOTS
    from pyovs.openflow.fieldtypes import Prereq
    assert set(PREREQ_SLOTS) == set(Prereq)


@pytest.mark.parametrize("version", [2, 4, 6])
def test_group_and_meter_replies_encode(version: int) -> None:
    from pyovs.openflow import codec
    from pyovs.openflow.msg_group import GroupDescReply, GroupStatsReply
    from pyovs.openflow.msg_stats import MeterConfigReply, MeterStatsReply
    gt = GroupTable()
    gt.group_mod(GroupMod(GC_ADD, 1, GT_SELECT, (bk(0, weight=1), bk(1, weight=2))), 0.0)
    bodies = [GroupDescReply(tuple(gt.desc(OFPG_ALL))),
              GroupStatsReply(tuple(gt.stats(OFPG_ALL, 1.5))), gt.features(version)]
    if version >= 4:
        mt = MeterTable()
        mt.meter_mod(mm(MC_ADD, 5, MF_KBPS, MeterBand(MBT_DROP, 1000)), 0.0)
        bodies += [MeterConfigReply(tuple(mt.configs(0xFFFFFFFF))),
                   MeterStatsReply(tuple(mt.stats(0xFFFFFFFF, 2.0))), mt.features()]
    for body in bodies:
        msg = codec.decode(codec.encode(codec.make(body, version)))
        assert msg.body == body or version == 2, (body, msg.body)
