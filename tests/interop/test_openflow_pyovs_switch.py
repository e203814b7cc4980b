"""pyovs's sans-IO connection as a switch, and the real ovs-ofctl as its client.

A small switch made only of pyovs pieces -- ``Connection`` for the protocol,
the message bodies for replies -- listens on a unix socket.  The real
ovs-ofctl connects to it (negotiating every version it is told to use),
dumps flows, ports and the switch description, adds flows and probes with
echo; what it prints must be what pyovs itself would print for the replies
pyovs sent, and what it sent must decode.
"""

from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading

import pytest

from pyovs.openflow import codec
from pyovs.openflow.act_text import parse_actions
from pyovs.openflow.codec import Body, Message, Unparsed
from pyovs.openflow.connection import Connection, Negotiated, Received
from pyovs.openflow.match_text import parse_match
from pyovs.openflow.msg_basic import BarrierReply, BarrierRequest, SwitchConfig
from pyovs.openflow.msg_flow import FlowMod
from pyovs.openflow.msg_flowstats import (
    AggregateStatsReply,
    AggregateStatsRequest,
    FlowStats,
    FlowStatsReply,
    FlowStatsRequest,
    format_flow_stats,
)
from pyovs.openflow.msg_port import FeaturesReply, PhyPort, PortDescReply, PortDescRequest
from pyovs.openflow.msg_stats import DescReply

OVS_OFCTL = shutil.which("ovs-ofctl")
pytestmark = pytest.mark.skipif(OVS_OFCTL is None, reason="real ovs-ofctl not installed")

FLOWS = (
    FlowStats(parse_match("tcp,tp_dst=80")[0], 100, parse_actions("output:2"), table_id=1,
              cookie=0x1234, duration_sec=7, duration_nsec=500000000, idle_timeout=60,
              packet_count=10, byte_count=1000),
    FlowStats(parse_match("in_port=1,dl_vlan=5")[0], 32768,
              parse_actions("strip_vlan,NORMAL"), packet_count=3, byte_count=180),
)
PORTS = (PhyPort(1, 0x505400000001, "p1", curr=0x2820, supported=0x28FF,
                 curr_speed=10000000, max_speed=10000000),
         PhyPort(2, 0x505400000002, "p2", state=1))


class PyovsSwitch:
    """Answers what ovs-ofctl asks, with pyovs bodies; records what it was sent."""

    def __init__(self, path: str) -> None:
        self.received: list[Message] = []
        self.versions: list[int] = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(path)
        self._sock.listen(2)
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self) -> None:
        self._sock.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, sock: socket.socket) -> None:
        ofc = Connection()
        ofc.start()
        with sock:
            sock.sendall(ofc.data_to_send())
            while not ofc.closed:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                for event in ofc.receive(data):
                    if isinstance(event, Negotiated):
                        self.versions.append(event.version)
                    elif isinstance(event, Received):
                        self.received.append(event.message)
                        self._answer(ofc, event.message)
                sock.sendall(ofc.data_to_send())

    def _answer(self, ofc: Connection, msg: Message) -> None:
        v, body = msg.version, msg.body
        reply: Body | None = None
        if msg.type == "FEATURES_REQUEST":
            reply = FeaturesReply(0xABCD, 256, 254, 0, 0xC7, 0xFFF if v == 1 else 0,
                                  PORTS if v <= 3 else ())
        elif msg.type == "GET_CONFIG_REQUEST":
            reply = SwitchConfig(0, 128)
        elif isinstance(body, BarrierRequest):
            reply = BarrierReply()
        elif isinstance(body, AggregateStatsRequest):
            reply = AggregateStatsReply(13, 1180, 2)
        elif isinstance(body, FlowStatsRequest):
            reply = FlowStatsReply(FLOWS)
        elif isinstance(body, PortDescRequest):
            reply = PortDescReply(PORTS)
        elif msg.type == "DESC_STATS_REQUEST":
            reply = DescReply(b"pyovs", b"sans-IO", b"0.1", b"42", b"test switch")
        elif msg.type == "TABLE_FEATURES_STATS_REQUEST":
            # pyovs has no table-features body yet: table 0 with the eight
            # required properties, empty, from the spec's layout.
            props = b"".join(struct.pack("!HH4x", t, 4) for t in range(0, 16, 2))
            reply = Unparsed(struct.pack("!HB5x32sQQII", 64 + len(props), 0, b"t0", 0, 0, 0,
                                         1000000) + props)
        elif msg.raw_type.is_stats and msg.raw_type.is_request:
            reply = Unparsed(b"")  # anything else (table stats...): an empty reply
        if isinstance(reply, SwitchConfig):
            ofc.send_message(Message(v, msg.xid, "OFPT_GET_CONFIG_REPLY", reply))
        elif isinstance(reply, Body):
            ofc.reply(msg, reply)


def _run(args: list[str]) -> tuple[PyovsSwitch, subprocess.CompletedProcess[str]]:
    assert OVS_OFCTL is not None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sw.sock")
        sw = PyovsSwitch(path)
        try:
            argv = [OVS_OFCTL] + [a.replace("TARGET", "unix:" + path) for a in args]
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        finally:
            sw.close()
    return sw, proc


@pytest.mark.parametrize("version", ["OpenFlow10", "OpenFlow13", "OpenFlow15"])
def test_dump_flows_prints_pyovs_replies(version: str) -> None:
    sw, proc = _run(["-O", version, "dump-flows", "TARGET"])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    flows = [line for line in lines if line.startswith(" cookie=")]
    number = 1 if version == "OpenFlow10" else int(version[-1]) + 1
    # The flows as they went on the wire in that version (strip_vlan is
    # pop_vlan from 1.1 on), printed by pyovs.
    sent = codec.decode(codec.encode(codec.make(FlowStatsReply(FLOWS), number))).body
    assert isinstance(sent, FlowStatsReply)
    assert flows == [" " + format_flow_stats(fs) for fs in sent.flows]
    assert sw.versions == [number]
    assert any(isinstance(m.body, FlowStatsRequest) for m in sw.received)


@pytest.mark.parametrize("version", ["OpenFlow10", "OpenFlow12", "OpenFlow14"])
def test_show_and_aggregate(version: str) -> None:
    _, proc = _run(["-O", version, "show", "TARGET"])
    assert proc.returncode == 0, proc.stderr
    assert "dpid:000000000000abcd" in proc.stdout
    assert " 1(p1): addr:50:54:00:00:00:01" in proc.stdout
    _, proc = _run(["-O", version, "dump-aggregate", "TARGET"])
    assert proc.returncode == 0, proc.stderr
    assert "packet_count=13 byte_count=1180 flow_count=2" in proc.stdout
    _, proc = _run(["-O", version, "dump-desc", "TARGET"])
    assert "Manufacturer: pyovs" in proc.stdout and "DP Description: test switch" in proc.stdout


def test_flow_mods_and_echo_reach_the_switch() -> None:
    sw, proc = _run(["-O", "OpenFlow13", "add-flow", "TARGET",
                     "table=2,priority=9,ip,nw_dst=10.0.0.0/8,actions=dec_ttl,output:1"])
    assert proc.returncode == 0, proc.stderr
    mods = [m.body for m in sw.received if isinstance(m.body, FlowMod)]
    assert len(mods) == 1 and mods[0].table_id == 2 and mods[0].priority == 9
    _, proc = _run(["-O", "OpenFlow15", "probe", "TARGET"])
    assert proc.returncode == 0, proc.stderr
