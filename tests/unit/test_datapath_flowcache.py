"""The megaflow table (tuple space search) and the exact-match cache, without a datapath."""

from __future__ import annotations

from pyovs.datapath.flowcache import Emc, MegaflowTable

EXACT = 0xFFFFFFFF


def flow(**slots: int) -> dict[str, int]:
    return {"in_port": 1, "recirc_id": 0, **slots}


def test_one_subtable_per_mask_and_lookup_by_masked_key() -> None:
    t = MegaflowTable()
    a = t.insert(flow(nw_dst=0x0A000001), {"in_port": EXACT, "nw_dst": 0xFFFFFF00},
                 [("output", 2)], "a", 1.0)
    b = t.insert(flow(tp_dst=80), {"in_port": EXACT, "tp_dst": 0xFFFF}, [("output", 3)], "b", 1.0)
    assert t.n_masks() == 2 and len(t) == 2
    assert t.lookup(flow(nw_dst=0x0A0000FE)) is a
    assert t.lookup(flow(nw_dst=0x0B000001, tp_dst=80)) is b
    assert t.lookup(flow(nw_dst=0x0B000001, tp_dst=81)) is None
    assert t.lookup({**flow(nw_dst=0x0A000001), "in_port": 2}) is None
    assert a.key == {"in_port": 1, "nw_dst": 0x0A000000}


def test_replacing_and_removing_bury_flows_with_unreported_packets() -> None:
    t = MegaflowTable()
    mask = {"in_port": EXACT}
    a = t.insert(flow(), mask, [], "a", 1.0)
    a.packets = 3
    b = t.insert(flow(), mask, [], "b", 2.0)  # same masked key: replaces
    assert a.dead and not b.dead and t.graveyard == [a] and len(t) == 1
    t.remove(b)
    assert b.dead and t.n_masks() == 0 and t.graveyard == [a]  # b served nothing
    t.insert(flow(), mask, [], "c", 3.0).packets = 1
    t.clear()
    assert len(t) == 0 and [m.owner for m in t.graveyard] == ["a", "c"]


def test_busiest_subtable_is_tried_first() -> None:
    t = MegaflowTable()
    t.insert(flow(tp_src=1), {"tp_src": 0xFFFF}, [], "rare", 0.0)
    busy = t.insert(flow(tp_dst=2), {"tp_dst": 0xFFFF}, [], "busy", 0.0)
    for _ in range(2048):
        assert t.lookup(flow(tp_dst=2)) is busy
    assert t._order[0].flows == {(2,): busy}


def test_emc_is_bounded() -> None:
    t = MegaflowTable()
    mf = t.insert(flow(), {"in_port": EXACT}, [], None, 0.0)
    emc = Emc(capacity=4)
    for i in range(4):
        emc.insert(i, mf)
    assert len(emc) == 4
    emc.insert(99, mf)  # full: emptied, then refilled as traffic comes
    assert len(emc) == 1 and emc.entries[99] is mf
    emc.clear()
    assert len(emc) == 0
