"""The dummy netdev: in-memory receive queue, bounded record of sends, software offloads."""

from __future__ import annotations

from pyovs.datapath.netdev import NETDEV_TYPES, open_netdev
from pyovs.datapath.netdev.dummy import DummyNetdev
from pyovs.packet import build
from pyovs.packet.vnet import GSO_TCPV4, NEEDS_CSUM, VNET

A4, B4 = 0x0A000001, 0x0A000002


def test_inject_notifies_and_recv_batch_drains_in_order() -> None:
    dev = DummyNetdev("d")
    calls: list[int] = []
    dev.notify = lambda: calls.append(len(dev.rx))
    for i in range(5):
        dev.inject(bytes([i]) * 60)
    assert calls == [1, 2, 3, 4, 5]
    assert [d[0] for d, _ in dev.recv_batch(3)] == [0, 1, 2]
    assert [d[0] for d, _ in dev.recv_batch(10)] == [3, 4]
    assert dev.recv_batch(10) == []
    assert dev.stats().rx_packets == 5 and dev.stats().rx_bytes == 300


def test_send_finishes_offloads_and_keeps_a_bounded_record() -> None:
    dev = DummyNetdev("d", sent_max=3)
    frame = build.eth(2, 1, 0x0800, build.ipv4(A4, B4, 6, build.tcp(1, 2, b"q" * 2500, A4, B4)))
    dev.send(frame, VNET.pack(NEEDS_CSUM, GSO_TCPV4, 0, 1000, 34, 16))
    assert len(dev.sent) == 3 and all(build.l4_checksum_ok(f) for f in dev.sent)
    assert dev.stats().tx_packets == 3
    dev.send(b"x" * 60)
    assert len(dev.sent) == 3 and dev.sent[-1] == b"x" * 60
    dev.set_admin_up(False)
    dev.send(b"y")
    assert dev.stats().tx_dropped == 1 and not dev.status().admin_up


def test_status_and_registry() -> None:
    dev = open_netdev("d9", "dummy", {"anything": "ok"})
    assert isinstance(dev, DummyNetdev) and dev.fileno() == -1
    dev.set_mac(b"\x02\x00\x00\x00\x00\x09")
    st = dev.status()
    assert (st.mac, st.mtu, st.ifindex, st.carrier) == (b"\x02\x00\x00\x00\x00\x09", 1500, 0, True)
    assert set(NETDEV_TYPES) == {"", "system", "internal", "tap", "dummy"}
    dev.close()
    dev.send(b"z")
    assert dev.stats().tx_dropped == 1
