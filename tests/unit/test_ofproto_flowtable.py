"""Flow tables: flow_mod as OVS applies it, expiry, flow statistics (after OVS's ofproto.at)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyovs.cli.ofctl_flow import parse_flow_mod
from pyovs.ofproto.flowtable import (
    OFPRR_DELETE,
    OFPRR_GROUP_DELETE,
    OFPRR_HARD_TIMEOUT,
    OFPRR_IDLE_TIMEOUT,
    OFPRR_METER_DELETE,
    BundleError,
    FlowModResult,
    FlowTables,
    age_secs,
    calc_duration,
)
from pyovs.openflow import codec
from pyovs.openflow.act_text import format_actions
from pyovs.openflow.actions import FmtCtx, Output
from pyovs.openflow.errors import OFError, OFPErr
from pyovs.openflow.match import Match
from pyovs.openflow.msg_flow import Command, FlowFlags, FlowMod
from pyovs.openflow.msg_flowstats import FlowStatsRequest
from pyovs.openflow.msg_group import GC_ADD, GC_DELETE, OFPG_ALL, Bucket, GroupMod
from pyovs.openflow.msg_stats import MBT_DROP, MC_ADD, MC_DELETE, MeterBand, MeterConfig, MeterMod

NXM = (1, "NXT_FLOW_MOD")
OF10 = (1, "OFPT10_FLOW_MOD")
OF11 = (2, None)
OF12 = (3, None)
OF13 = (4, None)
CMDS = {"add": Command.ADD, "mod": Command.MODIFY, "mod_strict": Command.MODIFY_STRICT,
        "del": Command.DELETE, "del_strict": Command.DELETE_STRICT}


def received(text: str, cmd: str = "add", proto: tuple[int, str | None] = OF13,
             tid: bool = False):  # type: ignore[no-untyped-def]
    """The flow_mod a switch decodes when ovs-ofctl sends ``text`` in ``proto``.

    Without the flow_mod_table_id extension (``tid``), OpenFlow 1.0 and
    Nicira flow_mods name no table: OVS takes them as table 0xff.
    """
    fm, _ = parse_flow_mod(text, CMDS[cmd])
    version, raw = proto
    msg = codec.decode(codec.encode(codec.make(fm, version, raw=raw)))
    body = msg.body.as_received(msg.raw)
    if version == 1 and not tid:
        body = replace(body, table_id=0xFF)
    return body


def do(ft: FlowTables, text: str, cmd: str = "add", proto: tuple[int, str | None] = OF13,
       now: float = 0.0, tid: bool = False):  # type: ignore[no-untyped-def]
    fm = received(text, cmd, proto, tid)
    return ft.flow_mod(fm, now, modify_cookie=False if proto == OF11 else None)


def dump(ft: FlowTables, req: FlowStatsRequest | None = None) -> list[str]:
    out = []
    for fs in ft.flow_stats(req or FlowStatsRequest(), 0.0):
        text = f"cookie={fs.cookie:#x}, " if fs.cookie else ""
        if fs.table_id:
            text += f"table={fs.table_id}, "
        match = str(fs.match) if fs.priority == 32768 else f"priority={fs.priority},{fs.match}"
        text += (match + " " if match else "") + "actions="
        out.append(text + format_actions(fs.actions, FmtCtx()))
    return sorted(out)


def test_add_lookup_and_replace_keeps_or_resets_counters() -> None:
    for proto, kept in ((OF13, True), (OF12, True), (OF10, False), (NXM, False), (OF11, False)):
        ft = FlowTables()
        do(ft, "in_port=1,actions=2", proto=proto, now=1.0)
        rule = ft.lookup(0, {"in_port": 1})
        assert rule is not None and ft.lookup(0, {"in_port": 2}) is None
        rule.account(3, 300, now=2.0)
        res = do(ft, "in_port=1,idle_timeout=5,actions=3", proto=proto, now=4.0)
        assert res.modified == [rule] and not res.added
        assert res.replaced and res.previous == [((Output(2),), 0)]
        assert (rule.n_packets, rule.n_bytes) == ((3, 300) if kept else (0, 0))
        assert (rule.created, rule.modified, rule.used) == (4.0, 4.0, 2.0)
        assert rule.idle_timeout == 5
        assert len(ft) == 1


def test_check_overlap() -> None:
    ft = FlowTables()
    do(ft, "priority=5,in_port=1,actions=1")
    with pytest.raises(OFError) as e:
        do(ft, "check_overlap,priority=5,dl_type=0x800,actions=1")
    assert e.value.error is OFPErr.OFPFMFC_OVERLAP
    do(ft, "check_overlap,priority=6,dl_type=0x800,actions=1")  # other priority
    do(ft, "check_overlap,priority=5,in_port=2,dl_type=0x800,actions=1")  # disjoint
    do(ft, "check_overlap,priority=5,in_port=1,actions=2")  # identical: replaced
    assert len(ft) == 3
    # OVS keeps the flags of an OpenFlow 1.0 add: dump shows check_overlap reset_counts.
    ft = FlowTables()
    do(ft, "check_overlap,in_port=1,actions=drop", proto=OF10)
    [fs] = ft.flow_stats(FlowStatsRequest(), 0.0)
    assert fs.flags == FlowFlags.CHECK_OVERLAP | FlowFlags.RESET_COUNTS


@pytest.mark.parametrize(("proto", "changes"), [(OF10, True), (NXM, True), (OF11, False),
                                                (OF12, False)])
def test_mod_flow_cookie_change(proto: tuple[int, str | None], changes: bool) -> None:
    ft = FlowTables()
    do(ft, "cookie=0x1,in_port=1,actions=1", proto=proto)
    do(ft, "cookie=0x2,in_port=1,actions=1", "mod", proto=proto)
    assert dump(ft) == [f"cookie={'0x2' if changes else '0x1'}, in_port=1 actions=output:1"]


@pytest.mark.parametrize("proto", [NXM, OF11, OF12])
def test_mod_flows_by_cookie_mask(proto: tuple[int, str | None]) -> None:
    ft = FlowTables()
    for text in ("cookie=0x1,in_port=1,actions=1", "cookie=0x1,in_port=2,actions=1",
                 "cookie=0x2,in_port=3,actions=1"):
        do(ft, text, proto=proto)
    do(ft, "cookie=0x1/0xff,actions=4", "mod", proto=proto)
    assert dump(ft) == ["cookie=0x1, in_port=1 actions=output:4",
                        "cookie=0x1, in_port=2 actions=output:4",
                        "cookie=0x2, in_port=3 actions=output:1"]


def test_mod_flows_by_cookie_mask_with_cookie_change() -> None:
    ft = FlowTables()
    for text in ("cookie=0x1,in_port=1,actions=1", "cookie=0x1,in_port=2,actions=1",
                 "cookie=0x2,in_port=3,actions=1"):
        do(ft, text, proto=NXM)
    do(ft, "cookie=1/-1,cookie=4,actions=4", "mod", proto=NXM)
    assert dump(ft) == ["cookie=0x2, in_port=3 actions=output:1",
                        "cookie=0x4, in_port=1 actions=output:4",
                        "cookie=0x4, in_port=2 actions=output:4"]


@pytest.mark.parametrize(("proto", "text", "adds"), [
    (NXM, "in_port=1,actions=1", True), (OF11, "in_port=1,actions=1", True),
    (OF12, "in_port=1,actions=1", False), (NXM, "cookie=1/1,in_port=1,actions=1", False),
    (OF11, "cookie=1/1,in_port=1,actions=1", False),
    (OF12, "cookie=1/1,in_port=1,actions=1", False)])
def test_mod_flow_miss_may_add(proto: tuple[int, str | None], text: str, adds: bool) -> None:
    ft = FlowTables()
    res = do(ft, text, "mod", proto=proto)
    assert dump(ft) == (["in_port=1 actions=output:1"] if adds else [])
    assert len(res.added) == adds


def test_modify_keeps_timeouts_flags_and_creation() -> None:
    ft = FlowTables()
    do(ft, "send_flow_rem,idle_timeout=10,hard_timeout=20,in_port=1,actions=1", now=1.0)
    [rule] = list(ft)
    rule.account(1, 60, 2.0)
    do(ft, "idle_timeout=99,in_port=1,actions=2", "mod_strict", now=5.0)
    assert (rule.idle_timeout, rule.hard_timeout) == (10, 20)
    assert rule.flags == FlowFlags.SEND_FLOW_REM
    assert (rule.created, rule.modified, rule.used) == (1.0, 5.0, 2.0)
    assert rule.n_packets == 1
    res = do(ft, "reset_counts,in_port=1,actions=3", "mod", now=6.0)
    assert rule.n_packets == 0
    assert res.previous == [((Output(2),), 0)] and not res.replaced
    # Strict modify selects by priority too.
    res = do(ft, "priority=7,in_port=1,actions=4", "mod_strict")
    assert not res.modified and not res.added


def test_delete_by_cookie_and_mask() -> None:
    ft = FlowTables()
    for i in (1, 2, 3):
        do(ft, f"cookie=0x{i},in_port={i},actions=1")
    do(ft, "cookie=0x3/-1", "del", proto=NXM)
    assert dump(ft) == ["cookie=0x1, in_port=1 actions=output:1",
                        "cookie=0x2, in_port=2 actions=output:1"]
    do(ft, "cookie=0x0/0x1", "del", proto=NXM)
    assert dump(ft) == ["cookie=0x1, in_port=1 actions=output:1"]


def test_delete_by_table_id() -> None:
    ft = FlowTables()
    do(ft, "table=1,actions=drop")
    do(ft, "table=2,actions=drop")
    res = do(ft, "table=1", "del", proto=OF12)
    assert len(res.deleted) == 1 and dump(ft) == ["table=2, actions=drop"]
    do(ft, "table=1,actions=drop")
    # OFPTT_ALL (OpenFlow 1.2+ delete, or 1.0 without the table id extension).
    fm = replace(received("", "del", OF12), table_id=0xFF)
    assert len(ft.flow_mod(fm, 0.0).deleted) == 2
    assert len(ft) == 0


def test_out_port_matching() -> None:
    flows = ["in_port=1 actions=output:2",
             "in_port=2 actions=output:1,write_actions(output:2,output:3)",
             "in_port=3 actions=output:3,output:1,write_actions(output:2)",
             "in_port=4 actions=drop",
             "in_port=5 actions=write_actions(output:3)",
             "in_port=6 actions=output:1"]
    ft = FlowTables()
    for text in flows:
        do(ft, text.replace(" actions", ",actions"), proto=OF11)
    assert dump(ft) == sorted(flows)
    assert dump(ft, FlowStatsRequest(out_port=2)) == sorted(f for f in flows if "output:2" in f)
    do(ft, "out_port=2", "del", proto=OF11)
    assert dump(ft) == sorted(f for f in flows if "output:2" not in f)
    do(ft, "out_port=3", "del", proto=OF11)
    do(ft, "out_port=1", "del", proto=OF11)
    assert dump(ft) == ["in_port=4 actions=drop"]


def add_group(ft: FlowTables, gid: int) -> None:
    ft.group_mod(GroupMod(GC_ADD, gid, 0, (Bucket(received("actions=10").actions),)), 0.0)


def test_out_group_matching_and_group_availability() -> None:
    ft = FlowTables()
    with pytest.raises(OFError) as e:
        do(ft, "in_port=1,actions=group:2,output:5", proto=OF11)
    assert e.value.error is OFPErr.OFPBAC_BAD_OUT_GROUP
    for gid in (1, 2, 3):
        add_group(ft, gid)
    flows = ["in_port=1 actions=group:2,output:5",
             "in_port=2 actions=group:1,write_actions(group:2,group:3,output:6)",
             "in_port=3 actions=group:3,group:1,write_actions(group:2,output:3)",
             "in_port=4 actions=output:4",
             "in_port=5 actions=write_actions(output:4,group:3)",
             "in_port=6 actions=group:1"]
    for text in flows:
        do(ft, text.replace(" actions", ",actions"), proto=OF11)
    assert dump(ft) == sorted(flows)
    assert ft.group_ref_count(2) == 3
    assert dump(ft, FlowStatsRequest(out_port=3, out_group=2)) == [flows[2]]
    ft.flow_mod(replace(received("", "del", OF11), out_group=2), 0.0)
    assert dump(ft) == sorted(f for f in flows if "group:2" not in f)
    ft.flow_mod(replace(received("", "del", OF11), out_group=3), 0.0)
    assert dump(ft) == sorted(f for f in flows if "group:2" not in f and "group:3" not in f)
    assert ft.group_ref_count(2) == 0
    [stats] = ft.groups.stats(1, 0.0, ft.group_ref_count)
    assert stats.ref_count == 1


def test_del_group_deletes_flows() -> None:
    ft = FlowTables()
    add_group(ft, 1234)
    add_group(ft, 1235)
    do(ft, "send_flow_rem,tcp,tcp_dst=80,actions=group:1234")
    do(ft, "tcp,tcp_dst=81,actions=group:1235")
    gen = ft.generation
    gres, fres = ft.group_mod(GroupMod(GC_DELETE, 1234), 1.0)
    assert gres.deleted == [1234] and ft.generation > gen
    [(rule, reason)] = fres.removed
    assert reason == OFPRR_GROUP_DELETE and len(fres.deleted) == 1
    assert rule.flow_removed(reason, 2.5).duration_sec == 2
    assert dump(ft) == ["tcp,tp_dst=81 actions=group:1235"]
    _, fres = ft.group_mod(GroupMod(GC_DELETE, OFPG_ALL), 1.0)
    assert len(fres.deleted) == 1 and len(ft) == 0


def test_meter_checks_and_meter_delete() -> None:
    ft = FlowTables()
    with pytest.raises(OFError) as e:
        do(ft, "in_port=1,actions=meter:1,output:2")
    assert e.value.error is OFPErr.OFPMMFC_INVALID_METER
    ft.meter_mod(MeterMod(MC_ADD, MeterConfig(1, 1, (MeterBand(MBT_DROP, 100),))), 0.0)
    do(ft, "send_flow_rem,in_port=1,actions=meter:1,output:2")
    assert ft.meter_flow_count(1) == 1
    _, fres = ft.meter_mod(MeterMod(MC_DELETE, MeterConfig(1)), 1.0)
    assert fres.removed == [(fres.deleted[0], OFPRR_METER_DELETE)]
    assert len(ft) == 0


def test_errors() -> None:
    ft = FlowTables(n_tables=10, internal_table=9)
    with pytest.raises(OFError) as e:
        do(ft, "table=20,actions=drop")
    assert e.value.error is OFPErr.OFPBRC_BAD_TABLE_ID
    with pytest.raises(OFError) as e:
        do(ft, "table=9,actions=drop")
    assert e.value.error is OFPErr.OFPBRC_EPERM
    ft.flow_mod(received("table=9,actions=drop"), 0.0, internal=True)
    # The internal table is hidden from OFPTT_ALL, and read-only to deletes that name it.
    assert dump(ft) == []
    with pytest.raises(OFError) as e:
        do(ft, "table=9", "del")
    assert e.value.error is OFPErr.OFPBRC_EPERM
    with pytest.raises(OFError) as e:
        do(ft, "actions=goto_table:12")
    assert e.value.error is OFPErr.OFPBIC_BAD_TABLE_ID
    with pytest.raises(OFError) as e:
        ft.flow_mod(replace(received("actions=drop"), buffer_id=5), 0.0)
    assert e.value.error is OFPErr.OFPBRC_BUFFER_UNKNOWN
    assert len(ft) == 1
    with pytest.raises(OFError) as e:
        ft.flow_stats(FlowStatsRequest(table_id=30), 0.0)
    assert e.value.error is OFPErr.OFPBRC_BAD_TABLE_ID


def test_expiry_reasons_and_flow_removed() -> None:
    ft = FlowTables()
    do(ft, "send_flow_rem,idle_timeout=5,in_port=1,actions=1", now=10.0)
    do(ft, "hard_timeout=3,in_port=2,actions=1", now=10.0)
    do(ft, "in_port=3,actions=1", now=10.0)
    idle = ft.lookup(0, {"in_port": 1})
    assert idle is not None
    assert ft.next_expiry() == 13.0
    assert ft.expire(13.0) == []  # strictly after, as OVS
    [(hard, reason)] = ft.expire(13.001)
    assert reason == OFPRR_HARD_TIMEOUT and hard.match == Match.from_fields(in_port=2)
    idle.account(1, 64, 14.0)
    assert ft.expire(18.5) == []
    assert ft.expire(19.5) == [(idle, OFPRR_IDLE_TIMEOUT)]
    fr = idle.flow_removed(OFPRR_IDLE_TIMEOUT, 19.5)
    assert (fr.duration_sec, fr.duration_nsec, fr.idle_timeout, fr.packet_count) == (
        9, 500_000_000, 5, 1)
    assert len(ft) == 1


def test_modify_resets_hard_timeout_and_fin_timeout() -> None:
    ft = FlowTables()
    do(ft, "hard_timeout=10,in_port=1,actions=1", now=0.0)
    do(ft, "in_port=1,actions=2", "mod", now=8.0)
    assert ft.expire(12.0) == []
    [rule] = list(ft)
    ft.reduce_timeouts(rule, 2, 0)
    assert rule.idle_timeout == 2
    assert ft.expire(10.5)[0][1] == OFPRR_IDLE_TIMEOUT


def test_delete_reports_flow_removed_only_when_asked() -> None:
    ft = FlowTables()
    do(ft, "send_flow_rem,in_port=1,actions=1")
    do(ft, "in_port=2,actions=1")
    res = do(ft, "", "del")
    assert len(res.deleted) == 2
    assert [(r.match, why) for r, why in res.removed] == [
        (Match.from_fields(in_port=1), OFPRR_DELETE)]


def test_flow_stats_fields_and_aggregate() -> None:
    ft = FlowTables()
    do(ft, "cookie=0x10,table=3,priority=7,idle_timeout=30,hard_timeout=60,importance=9,"
           "send_flow_rem,ip,actions=drop", proto=(5, None), now=100.0)
    [rule] = list(ft)
    rule.account(5, 500, 101.0)
    rule.account(1, 100, 100.5)
    [fs] = ft.flow_stats(FlowStatsRequest(), 103.25)
    assert (fs.table_id, fs.priority, fs.cookie, fs.idle_timeout, fs.hard_timeout,
            fs.importance, fs.flags) == (3, 7, 0x10, 30, 60, 9, FlowFlags.SEND_FLOW_REM)
    assert (fs.duration_sec, fs.duration_nsec) == (3, 250_000_000)
    assert (fs.idle_age, fs.hard_age) == (2, 3)
    assert (fs.packet_count, fs.byte_count) == (6, 600)
    assert ft.aggregate(FlowStatsRequest()) == (6, 600, 1)
    assert ft.aggregate(FlowStatsRequest(table_id=2)) == (0, 0, 0)
    assert ft.aggregate(FlowStatsRequest(cookie=0x10, cookie_mask=0xFF)) == (6, 600, 1)
    assert ft.aggregate(FlowStatsRequest(match=Match.from_fields(dl_type=0x800, nw_proto=6))
                        ) == (0, 0, 0)
    assert [t.table_id for t in ft.table_stats()][-1] == 253
    assert ft.table_stats()[3].active_count == 1


def test_durations_and_ages() -> None:
    assert calc_duration(1.0, 3.2345) == (2, 234_000_000)
    assert age_secs(5.0, 4.0) == 0
    assert age_secs(0.0, 70000.0) == 65535


def test_generation_and_loose_selection() -> None:
    ft = FlowTables()
    g0 = ft.generation
    do(ft, "ip,nw_src=10.0.0.0/8,actions=1")
    do(ft, "ip,nw_src=10.1.0.0/16,actions=2")
    do(ft, "ip,actions=3")
    assert ft.generation == g0 + 3
    # Loose delete of nw_src=10.0.0.0/8 takes the /8 and the more specific /16.
    res = do(ft, "ip,nw_src=10.0.0.0/8", "del")
    assert len(res.deleted) == 2 and dump(ft) == ["ip actions=output:3"]
    res = do(ft, "ip,nw_src=10.0.0.0/8", "del")
    assert not res.deleted and ft.generation == g0 + 4


# --- conjunctive match (OVS tests/classifier.at) ------------------------------------

def out_port(ft: FlowTables, flow: dict[str, int]) -> int:
    rule = ft.lookup(0, flow)
    assert rule is not None
    [action] = rule.actions
    assert isinstance(action, Output)
    return action.port


def ip4(text: str) -> int:
    a, b, c, d = map(int, text.split("."))
    return a << 24 | b << 16 | c << 8 | d


def load(ft: FlowTables, flows: str) -> None:
    for line in flows.strip().splitlines():
        if line.strip():
            do(ft, line.replace(" actions", ",actions"), proto=NXM)


def test_single_conjunctive_match() -> None:
    ft = FlowTables()
    load(ft, """
conj_id=1,actions=3
priority=100,ip,ip_src=10.0.0.1,actions=conjunction(1,1/2)
priority=100,ip,ip_src=10.0.0.4,actions=conjunction(1,1/2)
priority=100,ip,ip_src=10.0.0.6,actions=conjunction(1,1/2)
priority=100,ip,ip_src=10.0.0.7,actions=conjunction(1,1/2)
priority=100,ip,ip_dst=10.0.0.2,actions=conjunction(1,2/2)
priority=100,ip,ip_dst=10.0.0.5,actions=conjunction(1,2/2)
priority=100,ip,ip_dst=10.0.0.7,actions=conjunction(1,2/2)
priority=100,ip,ip_dst=10.0.0.8,actions=conjunction(1,2/2)
priority=100,ip,ip_src=10.0.0.1,ip_dst=10.0.0.4,actions=4
priority=100,ip,ip_src=10.0.0.3,ip_dst=10.0.0.5,actions=5
priority=0 actions=2
""")
    for src in range(8):
        for dst in range(8):
            if (src, dst) == (1, 4):
                want = 4
            elif (src, dst) == (3, 5):
                want = 5
            else:
                want = 3 if src in (1, 4, 6, 7) and dst in (2, 5, 7, 8) else 2
            flow = {"in_port": 1, "dl_type": 0x800, "nw_src": ip4(f"10.0.0.{src}"),
                    "nw_dst": ip4(f"10.0.0.{dst}")}
            assert out_port(ft, flow) == want, (src, dst)


def test_multiple_conjunctive_match() -> None:
    ft = FlowTables()
    load(ft, """
conj_id=1,actions=1
conj_id=2,actions=2
conj_id=3,actions=3
priority=5,ip,ip_src=20.0.0.0/8,actions=conjunction(1,1/2),conjunction(2,1/2)
priority=5,ip,ip_src=10.1.0.0/16,actions=conjunction(1,1/2),conjunction(3,2/3)
priority=5,ip,ip_src=10.2.0.0/16,actions=conjunction(1,1/2),conjunction(2,1/2)
priority=5,ip,ip_src=10.1.3.0/24,actions=conjunction(1,1/2),conjunction(3,2/3)
priority=5,ip,ip_src=10.1.4.5/32,actions=conjunction(1,1/2),conjunction(2,1/2)
priority=5,ip,ip_dst=20.0.0.0/8,actions=conjunction(1,2/2)
priority=5,ip,ip_dst=10.1.0.0/16,actions=conjunction(1,2/2)
priority=5,ip,ip_dst=10.2.0.0/16,actions=conjunction(1,2/2)
priority=5,ip,ip_dst=10.1.3.0/24,actions=conjunction(1,2/2)
priority=5,ip,ip_dst=10.1.4.5/32,actions=conjunction(1,2/2)
priority=5,ip,ip_dst=30.0.0.0/8,actions=conjunction(2,2/2),conjunction(3,1/3)
priority=5,ip,ip_dst=40.5.0.0/16,actions=conjunction(2,2/2),conjunction(3,1/3)
priority=5,tcp,tcp_dst=80,actions=conjunction(3,3/3)
priority=5,tcp,tcp_dst=443,actions=conjunction(3,3/3)
priority=5,tcp,tcp_src=80,actions=conjunction(3,3/3)
priority=5,tcp,tcp_src=443,actions=conjunction(3,3/3)
priority=0,actions=4
""")
    srcs = ["20.0.0.1", "10.1.0.1", "10.2.0.1", "10.1.3.1", "10.1.4.5", "1.2.3.4"]
    dsts = ["20.0.0.1", "10.1.0.1", "10.2.0.1", "10.1.3.1", "10.1.4.5", "30.0.0.1",
            "40.5.0.1", "1.2.3.4"]
    ports = [80, 443, 8080]
    for a, ip_src in enumerate(srcs, 1):
        for b, ip_dst in enumerate(dsts, 1):
            for c, sport in enumerate(ports, 1):
                for d, dport in enumerate(ports, 1):
                    if a <= 5 and b <= 5:
                        want = 1
                    elif a in (1, 3, 5) and b in (6, 7):
                        want = 2
                    elif a in (2, 4) and b in (6, 7) and (c in (1, 2) or d in (1, 2)):
                        want = 3
                    else:
                        want = 4
                    flow = {"in_port": 5, "dl_type": 0x800, "nw_proto": 6,
                            "nw_src": ip4(ip_src), "nw_dst": ip4(ip_dst), "tp_src": sport,
                            "tp_dst": dport}
                    assert out_port(ft, flow) == want, (a, b, c, d)


def test_conjunctive_match_priority_fallback() -> None:
    ft = FlowTables()
    load(ft, """
conj_id=1,actions=1
conj_id=3,actions=3
priority=5,ip,ip_src=10.0.0.1,actions=conjunction(1,1/2)
priority=5,ip,ip_src=10.0.0.2,actions=conjunction(1,1/2)
priority=5,ip,ip_dst=10.0.0.1,actions=conjunction(1,2/2)
priority=5,ip,ip_dst=10.0.0.2,actions=conjunction(1,2/2)
priority=5,ip,ip_dst=10.0.0.3,actions=conjunction(1,2/2)
priority=4,ip,ip_src=10.0.0.3,ip_dst=10.0.0.2,actions=2
priority=3,ip,ip_src=10.0.0.1,actions=conjunction(3,1/2)
priority=3,ip,ip_src=10.0.0.3,actions=conjunction(3,1/2)
priority=3,ip,ip_dst=10.0.0.2,actions=conjunction(3,2/2)
priority=3,ip,ip_dst=10.0.0.3,actions=conjunction(3,2/2)
priority=3,ip,ip_dst=10.0.0.4,actions=conjunction(3,2/2)
priority=2,ip,ip_dst=10.0.0.1,actions=4
priority=1,ip,ip_src=10.0.0.1,ip_dst=10.0.0.5,actions=5
priority=0,actions=6
""")
    for src in range(4):
        for dst in range(6):
            if src in (1, 2) and dst in (1, 2, 3):
                want = 1
            elif (src, dst) == (3, 2):
                want = 2
            elif src in (1, 3) and dst in (2, 3, 4):
                want = 3
            elif dst == 1:
                want = 4
            elif (src, dst) == (1, 5):
                want = 5
            else:
                want = 6
            flow = {"in_port": 7, "dl_type": 0x800, "nw_src": ip4(f"10.0.0.{src}"),
                    "nw_dst": ip4(f"10.0.0.{dst}")}
            wc: dict[str, int] = {}
            rule = ft.lookup(0, flow, wc)
            assert rule is not None and out_port(ft, flow) == want, (src, dst)
            # The megaflow is sufficient here too: vary the bits outside it.
            other = {k: (v & wc.get(k, 0)) | (0x5A5A5A5A & ~wc.get(k, 0) & 0xFFFF)
                     for k, v in flow.items()}
            assert ft.lookup(0, other) is rule


def test_modify_turns_a_rule_soft_and_back() -> None:
    ft = FlowTables()
    load(ft, """
conj_id=7,actions=7
priority=5,ip,ip_src=10.0.0.1,actions=conjunction(7,1/2)
priority=5,ip,ip_dst=10.0.0.2,actions=1
priority=0,actions=6
""")
    flow = {"dl_type": 0x800, "nw_src": ip4("10.0.0.1"), "nw_dst": ip4("10.0.0.2")}
    assert out_port(ft, flow) == 1
    do(ft, "priority=5,ip,ip_dst=10.0.0.2,actions=conjunction(7,2/2)", "mod_strict", NXM)
    assert out_port(ft, flow) == 7
    do(ft, "priority=5,ip,ip_src=10.0.0.1,actions=2", "mod_strict", NXM)
    assert out_port(ft, flow) == 2


def test_hidden_rules() -> None:
    """In-band style rules (priority above 0xffff) are invisible to OpenFlow."""
    ft = FlowTables()
    hidden = replace(received("send_flow_rem,ip,actions=drop"), priority=0x10000 + 5)
    ft.flow_mod(hidden, 0.0)
    do(ft, "actions=1")
    assert dump(ft) == ["actions=output:1"]
    assert ft.table_stats()[0].active_count == 1
    assert ft.table_stats()[0].name == "" and ft.table_stats()[0].max_entries == 1_000_000
    rule = ft.lookup(0, {"dl_type": 0x800})
    assert rule is not None and rule.hidden and not rule.sends_flow_removed
    res = do(ft, "", "del")
    assert len(res.deleted) == 1 and len(ft) == 1
    # Criteria with a hidden priority select it.
    res = ft.flow_mod(replace(received("ip", "del_strict"), priority=0x10005), 0.0)
    assert res.deleted == [rule] and res.removed == []


def test_switch_flows_add_delete_flush() -> None:
    ft = FlowTables()
    m = Match.from_fields(dl_type=0x806)
    res = ft.add_flow(m, 0x10001, (Output(0xFFFA),), 0.0)
    assert len(res.added) == 1
    gen = ft.generation
    assert ft.add_flow(m, 0x10001, (Output(0xFFFA),), 1.0).added == []
    assert ft.generation == gen
    res = ft.add_flow(m, 0x10001, (Output(1),), 1.0)
    assert len(res.modified) == 1 and dump(ft) == []
    assert ft.delete_flow(m, 0x10001).deleted == res.modified
    assert ft.delete_flow(m, 0x10001).deleted == []
    add_group(ft, 1)
    ft.meter_mod(MeterMod(MC_ADD, MeterConfig(1, 1, (MeterBand(MBT_DROP, 100),))), 0.0)
    do(ft, "send_flow_rem,actions=group:1")
    ft.flow_mod(received("table=254,actions=drop"), 0.0, internal=True)
    res = ft.flush(2.0)
    assert len(res.deleted) == 1 and len(res.removed) == 1
    assert len(ft) == 1 and len(ft.groups) == 0 and len(ft.meters) == 0


def test_learn_refreshes_identical_flows() -> None:
    ft = FlowTables()
    fm = received("table=1,priority=10,cookie=0x7,hard_timeout=10,dl_dst=00:00:00:00:00:01,"
                  "actions=1", "mod_strict", NXM, tid=True)
    rule, res = ft.learn(fm, 1.0)
    assert rule is not None and res.added == [rule] and rule.cookie == 7
    again, res = ft.learn(fm, 5.0)
    assert again is rule and not res.added and not res.modified
    assert rule.modified == 5.0 and ft.expire(14.0) == []
    changed, res = ft.learn(replace(fm, actions=(Output(2),)), 6.0)
    assert changed is rule and res.modified == [rule]
    other = replace(fm, match=Match.from_fields(dl_dst=2))
    assert ft.learn(other, 6.0, limit=1) == (None, FlowModResult())
    assert ft.learn(other, 6.0, limit=2)[0] is not None
    with pytest.raises(OFError) as e:
        ft.learn(replace(fm, command=Command.ADD), 0.0)
    assert e.value.error is OFPErr.OFPFMFC_UNKNOWN


def test_table_mod() -> None:
    from pyovs.openflow.msg_stats import MISS_DROP, SETTING_ON, TableMod
    ft = FlowTables(n_tables=10, internal_table=9)
    ft.table_mod(TableMod(3, MISS_DROP, SETTING_ON, vacancy=SETTING_ON, vacancy_down=10,
                          vacancy_up=90))
    t = ft.tables[3]
    assert (t.miss_config, t.eviction, t.vacancy) == (MISS_DROP, True, (10, 90))
    ft.table_mod(TableMod(0xFF, MISS_DROP))
    assert all(t.miss_config == MISS_DROP for t in ft.tables[:9])
    assert ft.tables[9].miss_config == 0
    for tm, error in ((TableMod(20), OFPErr.OFPTMFC_BAD_TABLE),
                      (TableMod(9), OFPErr.OFPTMFC_EPERM),
                      (TableMod(1, eviction_flags=1), OFPErr.OFPTMFC_BAD_CONFIG)):
        with pytest.raises(OFError) as e:
            ft.table_mod(tm)
        assert e.value.error is error


@pytest.mark.parametrize(("version", "raw"), [
    (1, "OFPST10_FLOW_REPLY"), (1, "NXST_FLOW_REPLY"), (4, None), (5, None), (6, None)])
def test_flow_stats_reply_encodes_in_every_version(version: int, raw: str | None) -> None:
    """What ``flow_stats`` returns goes on the wire as dump-flows shows it."""
    from pyovs.openflow.msg_flowstats import FlowStatsReply, format_flow_stats
    ft = FlowTables()
    do(ft, "cookie=0x10,priority=7,idle_timeout=30,send_flow_rem,ip,actions=drop", now=100.0)
    next(iter(ft)).account(5, 500, 101.0)
    entries = tuple(ft.flow_stats(FlowStatsRequest(), 103.25))
    msg = codec.decode(codec.encode(codec.make(FlowStatsReply(entries), version, raw=raw)))
    [fs] = msg.body.flows
    text = format_flow_stats(fs)
    assert "cookie=0x10, duration=3.250s" in text and "n_packets=5, n_bytes=500" in text
    assert "idle_timeout=30" in text and "priority=7,ip actions=drop" in text
    if raw == "NXST_FLOW_REPLY" or version == 6:
        assert "idle_age=2" in text
    if version >= 4:
        assert fs.flags == FlowFlags.SEND_FLOW_REM


def test_hidden_fields_are_for_internal_flows() -> None:
    ft = FlowTables()
    for m in (Match.from_fields(dp_hash=(1, 0xF)), Match.from_fields(recirc_id=5)):
        with pytest.raises(OFError) as e:
            ft.flow_mod(replace(received("actions=drop"), match=m), 0.0)
        assert e.value.error is OFPErr.OFPBRC_EPERM
        ft.flow_mod(replace(received("actions=drop"), match=m), 0.0, internal=True)
    ft.flow_mod(replace(received("actions=drop"), match=Match.from_fields(recirc_id=0)), 0.0)
    assert len(ft) == 3


# --- flow_mod against a model ----------------------------------------------------------

_POOL = [Match(), Match.from_fields(in_port=1), Match.from_fields(in_port=2),
         Match.from_fields(in_port=1, dl_type=0x800), Match.from_fields(dl_type=0x800),
         Match.from_fields(dl_type=0x800, nw_src=(0x0A000000, 0xFF000000))]


def _loose(rule: Match, crit: Match) -> bool:
    have = {s: (v, m) for s, v, m in rule.entries}
    return all(have.get(s, (0, 0))[1] & m == m and have.get(s, (0, 0))[0] & m == v
               for s, v, m in crit.entries)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["add", "mod", "mod_strict", "del", "del_strict"]),
                          st.integers(0, 1), st.sampled_from(_POOL), st.integers(0, 2),
                          st.integers(0, 3), st.integers(1, 3), st.booleans()),
                max_size=30))
def test_flow_mods_follow_a_model(ops: list) -> None:
    """OpenFlow 1.3 semantics: state after any sequence equals a dictionary model's."""
    ft = FlowTables()
    model: dict[tuple[int, Match, int], tuple[int, int]] = {}  # -> (cookie, out port)
    for cmd, table, match, pri, cookie, port, masked in ops:
        cookie_mask = 0xFF if masked else 0
        fm = FlowMod(command=CMDS[cmd], match=match, priority=pri, table_id=table,
                     actions=(Output(port),), cookie=cookie if masked else 0,
                     cookie_mask=cookie_mask,
                     new_cookie=cookie if cmd == "add" else (1 << 64) - 1)
        if cmd == "add":
            fm = replace(fm, cookie=0, cookie_mask=0)
        ft.flow_mod(fm, 0.0)
        strict = cmd.endswith("strict")
        for (t, m, p), (c, _) in list(model.items()):
            if cmd != "add" and (t == table and not (c ^ fm.cookie) & fm.cookie_mask
                                 and (m == match and p == pri if strict
                                      else _loose(m, match))):
                if cmd.startswith("mod"):
                    model[(t, m, p)] = (c, port)
                else:
                    del model[(t, m, p)]
        if cmd == "add":
            model[(table, match, pri)] = (cookie, port)
        got = {(r.table_id, r.match, r.priority): (r.cookie, r.actions[0].port) for r in ft}
        assert got == model
    # The indexes agree with the rules.
    for cookie, rules in ft._cookies.items():
        assert all(r.cookie == cookie for r in rules)
    assert sum(len(rules) for rules in ft._cookies.values()) == len(ft) == len(model)


# --- bundles ---------------------------------------------------------------------------

def _state(ft: FlowTables) -> set[tuple[object, ...]]:
    return {(r.table_id, r.match, r.priority, r.state()) for r in ft}


def test_bundle_applies_all_or_nothing() -> None:
    ft = FlowTables()
    do(ft, "cookie=0x1,in_port=1,actions=1")
    [r1] = list(ft)
    r1.account(2, 100, 3.0)
    before = _state(ft)
    gm = GroupMod(GC_ADD, 7, 0, (Bucket((Output(3),)),))
    ok = ft.bundle([received("in_port=2,actions=2"), gm, received("in_port=3,actions=group:7"),
                    received("in_port=1,actions=9", "mod")], 5.0)
    assert [len(r.added) for r in ok] == [1, 0, 1, 0] and ok[3].modified == [r1]
    assert ft.group_ref_count(7) == 1
    after = _state(ft)
    with pytest.raises(BundleError) as e:
        ft.bundle([received("in_port=1,actions=4", "mod"), received("", "del"),
                   GroupMod(GC_DELETE, 7), received("in_port=4,actions=group:7")], 6.0)
    assert e.value.index == 3 and e.value.error is OFPErr.OFPBAC_BAD_OUT_GROUP
    assert _state(ft) == after and ft.groups.exists(7) and ft.group_ref_count(7) == 1
    assert out_port(ft, {"in_port": 1}) == 9
    assert before != after


def test_transaction_rolls_back_meters_and_expiry() -> None:
    ft = FlowTables()
    ft.meter_mod(MeterMod(MC_ADD, MeterConfig(1, 1, (MeterBand(MBT_DROP, 100),))), 0.0)
    meter = ft.meters.get(1)
    assert meter is not None
    do(ft, "hard_timeout=1,in_port=1,actions=meter:1,output:2")
    before = _state(ft)
    with pytest.raises(RuntimeError), ft.transaction():
        assert len(ft.expire(5.0)) == 1
        ft.meter_mod(MeterMod(MC_DELETE, MeterConfig(1)), 5.0)
        assert len(ft.meters) == 0
        raise RuntimeError("abort")
    assert _state(ft) == before and ft.meters.get(1) is meter and ft.meter_flow_count(1) == 1


_OPS = st.lists(st.tuples(st.sampled_from(["add", "mod", "mod_strict", "del", "del_strict"]),
                          st.integers(0, 1), st.sampled_from(_POOL), st.integers(0, 2),
                          st.integers(0, 3), st.integers(1, 3)), max_size=12)


def _apply(ft: FlowTables, ops: list, now: float) -> None:
    for cmd, table, match, pri, cookie, port in ops:
        ft.flow_mod(FlowMod(command=CMDS[cmd], match=match, priority=pri, table_id=table,
                            actions=(Output(port),), new_cookie=cookie,
                            flags=FlowFlags.RESET_COUNTS if port == 3 else FlowFlags(0)),
                    now)


@settings(max_examples=100, deadline=None)
@given(_OPS, _OPS)
def test_aborted_transactions_leave_no_trace(setup: list, aborted: list) -> None:
    ft = FlowTables()
    _apply(ft, setup, 1.0)
    for i, r in enumerate(ft):
        r.account(i + 1, 10 * (i + 1), 2.0)
    before = _state(ft)
    lookups = {(t, p): ft.lookup(t, {"in_port": p, "dl_type": 0x800, "nw_src": 0x0A000001})
               for t in (0, 1) for p in (1, 2, 3)}
    with pytest.raises(KeyError), ft.transaction():
        _apply(ft, aborted, 3.0)
        raise KeyError("abort")
    assert _state(ft) == before
    assert lookups == {(t, p): ft.lookup(t, {"in_port": p, "dl_type": 0x800,
                                             "nw_src": 0x0A000001})
                       for t in (0, 1) for p in (1, 2, 3)}
    assert sum(len(v) for v in ft._cookies.values()) == len(ft)


def test_flow_limit_refuses_new_flows() -> None:
    ft = FlowTables()
    ft.tables[0].max_flows = 2
    do(ft, "in_port=1,actions=1")
    do(ft, "in_port=2,actions=1")
    with pytest.raises(OFError) as e:
        do(ft, "in_port=3,actions=1")
    assert e.value.error is OFPErr.OFPFMFC_TABLE_FULL
    do(ft, "in_port=2,actions=2")  # replacing is not adding
    do(ft, "table=1,in_port=3,actions=1")
    assert len(ft) == 3
