"""The sans-IO OpenFlow connection: negotiation, framing, echo, xid matching."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyovs.openflow import codec
from pyovs.openflow.connection import (
    ALL_VERSIONS,
    Closed,
    Connection,
    Negotiated,
    Received,
    Rejected,
    Reply,
    State,
    version_bitmap_text,
)
from pyovs.openflow.errors import OFPErr
from pyovs.openflow.msg_basic import BarrierReply, BarrierRequest, EchoRequest, ErrorMsg
from pyovs.openflow.msg_flow import FlowMod
from pyovs.openflow.msg_flowstats import FlowStats, FlowStatsReply, FlowStatsRequest


def _pair(a_versions: int = ALL_VERSIONS, b_versions: int = ALL_VERSIONS
          ) -> tuple[Connection, Connection, list[object], list[object]]:
    a, b = Connection(a_versions), Connection(b_versions)
    a.start()
    b.start()
    ev_b = b.receive(a.data_to_send())
    ev_a = a.receive(b.data_to_send())
    return a, b, list(ev_a), list(ev_b)


@pytest.mark.parametrize(("mine", "theirs", "agreed"), [
    (ALL_VERSIONS, ALL_VERSIONS, 6),
    (0b10, ALL_VERSIONS, 1),              # OpenFlow 1.0 only
    (0b10010, 0b1010, 1),                 # {1.0, 1.3} and {1.0, 1.2}
    (0b10000, 0b11110, 4),                # {1.3} and 1.0-1.3
    (0b1000010, 0b0010010, 1),            # {1.0, 1.5} and {1.0, 1.3}
])
def test_negotiation_takes_the_highest_common_version(mine: int, theirs: int,
                                                      agreed: int) -> None:
    a, b, ev_a, ev_b = _pair(mine, theirs)
    assert a.version == b.version == agreed
    assert ev_a == [Negotiated(agreed, theirs, True)]
    assert ev_b == [Negotiated(agreed, mine, True)]


def test_incompatible_versions_get_ovs_error_and_close() -> None:
    a, _b, ev_a, ev_b = _pair(0b10, 0b10000)   # 1.0 vs 1.3
    assert isinstance(ev_a[-1], Closed) and isinstance(ev_b[-1], Closed)
    error = codec.decode(a.data_to_send())
    assert isinstance(error.body, ErrorMsg)
    assert error.body.error(error.version) is OFPErr.OFPHFC_INCOMPATIBLE
    assert error.body.data == (b"We support version 0x01, you support version 0x04, "
                               b"no common versions.")
    assert a.state is State.CLOSED


def test_version_bitmap_text() -> None:
    assert version_bitmap_text(0) == "no versions"
    assert version_bitmap_text(0b10000) == "version 0x04"
    assert version_bitmap_text(0b11110) == "version 0x04 and earlier"
    assert version_bitmap_text(0b1010010) == "versions 0x01, 0x04, 0x06"


def test_hello_bitmap_only_when_needed() -> None:
    c = Connection(0b11110)
    c.start()
    assert c.data_to_send() == bytes.fromhex("0400000800000001")
    c = Connection(0b1010010)
    c.start()
    assert c.data_to_send() == bytes.fromhex("060000100000000100010008") + struct.pack(
        "!I", 0b1010010)


def test_first_message_must_be_hello() -> None:
    c = Connection()
    c.start()
    events = c.receive(bytes.fromhex("0402000800000009"))
    assert events == [Closed("received message while expecting hello")]


def test_framing_survives_byte_by_byte_delivery() -> None:
    a, b, _, _ = _pair()
    xid = a.send(BarrierRequest())
    stream = a.data_to_send()
    events = []
    for i in range(len(stream)):
        events += b.receive(stream[i:i + 1])
    assert [type(e) for e in events] == [Received]
    assert isinstance(events[0], Received) and events[0].message.xid == xid


def test_echo_is_answered_automatically() -> None:
    a, b, _, _ = _pair()
    xid = a.send(EchoRequest(b"hi"))
    assert b.receive(a.data_to_send()) == []
    events = a.receive(b.data_to_send())
    assert len(events) == 1 and isinstance(events[0], Reply)
    assert events[0].xid == xid and events[0].done
    assert events[0].message.body == codec.decode(codec.encode(events[0].message)).body


def test_multipart_replies_complete_on_the_last_part() -> None:
    a, b, _, _ = _pair()
    xid = a.send(FlowStatsRequest())
    (request,) = b.receive(a.data_to_send())
    assert isinstance(request, Received)
    part = FlowStatsReply((FlowStats(),))
    b.send_message(codec.make(part, b.version, xid, stats_flags=1))
    b.send_message(codec.make(part, b.version, xid))
    events = a.receive(b.data_to_send())
    assert [(type(e), getattr(e, "done", None)) for e in events] == [(Reply, False),
                                                                      (Reply, True)]
    assert xid not in a.pending


def test_errors_answer_requests() -> None:
    a, b, _, _ = _pair()
    xid = a.send(BarrierRequest())
    b.receive(a.data_to_send())
    b.send_message(codec.make(ErrorMsg.for_error(OFPErr.OFPBRC_EPERM, 6), 6, xid))
    (reply,) = a.receive(b.data_to_send())
    assert isinstance(reply, Reply) and reply.is_error and reply.done


def test_barrier_reply_matches() -> None:
    a, b, _, _ = _pair(0b10, 0b10)
    xid = a.send(BarrierRequest())
    b.receive(a.data_to_send())
    b.send_message(codec.make(BarrierReply(), 1, xid))
    (reply,) = a.receive(b.data_to_send())
    assert isinstance(reply, Reply) and reply.message.raw == "OFPT10_BARRIER_REPLY"


def test_wrong_version_is_refused_with_bad_version() -> None:
    _a, b, _, _ = _pair()           # OpenFlow 1.5
    flow_mod = codec.encode(codec.make(FlowMod(), 4, 77))
    (event,) = b.receive(flow_mod)
    assert isinstance(event, Rejected) and event.error.error is OFPErr.OFPBRC_BAD_VERSION
    error = codec.decode(b.data_to_send())
    assert error.xid == 77 and error.version == 4
    assert isinstance(error.body, ErrorMsg) and error.body.data == flow_mod[:64]


def test_undecodable_message_is_answered_and_reported() -> None:
    _a, b, _, _ = _pair()
    bad = bytes.fromhex("060e000800000005")          # flow mod without a body
    (event,) = b.receive(bad)
    assert isinstance(event, Rejected) and event.error.error is OFPErr.OFPBRC_BAD_LEN
    error = codec.decode(b.data_to_send())
    assert isinstance(error.body, ErrorMsg)
    assert error.body.error(6) is OFPErr.OFPBRC_BAD_LEN and error.body.data == bad


def test_short_length_field_closes() -> None:
    _a, b, _, _ = _pair()
    assert b.receive(bytes.fromhex("0600000400000000")) == [
        Closed("received too-short ofp_header")]
    assert b.receive(b"anything") == []


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_never_raises(data: bytes) -> None:
    _a, b, _, _ = _pair()
    events = b.receive(data)
    assert all(isinstance(e, (Received, Rejected, Reply, Closed)) for e in events)
    fresh = Connection()
    fresh.start()
    fresh.receive(data)
