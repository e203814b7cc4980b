"""Queue messages: queue statistics, queue configuration (OVS ``lib/ofp-queue.c``).

Two request/reply pairs, each with a wire form per version:

* **queue statistics** (``OFPST_QUEUE``): the request names a port
  (``OFPP_ANY``; OpenFlow 1.0 says ``OFPP_ALL`` on the wire and OVS reads
  it back as ANY) and a queue (``OFPQ_ALL``); the reply lists
  ``QueueStats`` in four layouts (1.0 with a 16-bit port, 1.1, 1.3 with a
  duration, 1.4 with a length and room for properties, which OVS skips);
* **queue configuration**: ``OFPT_QUEUE_GET_CONFIG`` up to OpenFlow 1.3
  (one port per request, its number also heading the reply; each queue's
  rates are ``ofp10_queue_prop`` properties), replaced in 1.4 by the
  ``OFPMP_QUEUE_DESC`` multipart, whose entries carry their own port and
  OpenFlow 1.4 properties.  ``QueueConfig`` is one queue of either form.

Rates are in tenths of a percent; ``RATE_UNSET`` (0xffff) means the switch
did not say, and an absent property decodes to it.  Printing is OVS's:
stats in reply order with ``?`` for unknown counters, configurations sorted
by (port, queue) with a ``port=`` line whenever the port changes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from .codec import Body, FormatContext, MsgCodec, list_codec, pull_list
from .dstext import duration
from .errors import OFError, OFPErr
from .msgtable import Raw
from .oxs import UNKNOWN64
from .ports import OFPP_ALL, OFPP_ANY, OFPP_MAX, format_port, from_ofp11, to_ofp11
from .props import parse_u16, pull_props, put_u16

OFPQ_ALL: Final = 0xFFFFFFFF
RATE_UNSET: Final = 0xFFFF
DURATION_UNKNOWN: Final = 0xFFFFFFFF

OFPQT10_MIN_RATE: Final = 1
OFPQT11_MAX_RATE: Final = 2
OFPQDPT14_MIN_RATE: Final = 1
OFPQDPT14_MAX_RATE: Final = 2

OFP10_QUEUE_STATS_REQUEST: Final = struct.Struct("!H2xI")
OFP11_QUEUE_STATS_REQUEST: Final = struct.Struct("!II")
OFP10_QUEUE_STATS: Final = struct.Struct("!H2xIQQQ")
OFP11_QUEUE_STATS: Final = struct.Struct("!IIQQQ")
OFP13_QUEUE_STATS: Final = struct.Struct("!IIQQQII")
OFP14_QUEUE_STATS_HEAD: Final = struct.Struct("!H6x")
OFP10_QUEUE_GET_CONFIG_REQUEST: Final = struct.Struct("!H2x")
OFP11_QUEUE_GET_CONFIG_REQUEST: Final = struct.Struct("!I4x")
OFP14_QUEUE_DESC_REQUEST: Final = struct.Struct("!II")
OFP10_QUEUE_GET_CONFIG_REPLY: Final = struct.Struct("!H6x")
OFP11_QUEUE_GET_CONFIG_REPLY: Final = struct.Struct("!I4x")
OFP10_PACKET_QUEUE: Final = struct.Struct("!IH2x")
OFP12_PACKET_QUEUE: Final = struct.Struct("!IIH6x")
OFP10_QUEUE_PROP_HEADER: Final = struct.Struct("!HH4x")
OFP10_QUEUE_PROP_RATE: Final = struct.Struct("!HH4xH6x")
OFP14_QUEUE_DESC: Final = struct.Struct("!IIH6x")

assert (OFP10_QUEUE_STATS.size, OFP11_QUEUE_STATS.size, OFP13_QUEUE_STATS.size) == (32, 32, 40)
assert (OFP12_PACKET_QUEUE.size, OFP10_QUEUE_PROP_RATE.size, OFP14_QUEUE_DESC.size) == (16, 16, 16)


def _queue_name(queue_id: int) -> str:
    return "ALL" if queue_id == OFPQ_ALL else str(queue_id)


# --- queue statistics ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class QueueStatsRequest(Body):
    """OFPST_QUEUE request (``ofputil_queue_stats_request``)."""

    port_no: int = OFPP_ANY
    queue_id: int = OFPQ_ALL


@dataclass(frozen=True, slots=True)
class QueueStats:
    """One queue's counters (``ofputil_queue_stats``)."""

    port_no: int
    queue_id: int
    tx_bytes: int = UNKNOWN64
    tx_packets: int = UNKNOWN64
    tx_errors: int = UNKNOWN64
    duration_sec: int = DURATION_UNKNOWN
    """All-ones before OpenFlow 1.3, which has no duration."""
    duration_nsec: int = DURATION_UNKNOWN


@dataclass(frozen=True, slots=True)
class QueueStatsReply(Body):
    """OFPST_QUEUE reply."""

    stats: tuple[QueueStats, ...] = ()


def _decode_stats_request(version: int, raw: Raw, b: memoryview) -> Body:
    if version == 1:
        port, queue = OFP10_QUEUE_STATS_REQUEST.unpack_from(b)
        return QueueStatsRequest(OFPP_ANY if port == OFPP_ALL else port, queue)
    port, queue = OFP11_QUEUE_STATS_REQUEST.unpack_from(b)
    return QueueStatsRequest(from_ofp11(port), queue)


def _encode_stats_request(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, QueueStatsRequest)
    if version == 1:
        port = OFPP_ALL if body.port_no == OFPP_ANY else body.port_no
        return OFP10_QUEUE_STATS_REQUEST.pack(port, body.queue_id)
    return OFP11_QUEUE_STATS_REQUEST.pack(to_ofp11(body.port_no), body.queue_id)


def _format_stats_request(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, QueueStatsRequest)
    return (f" port={format_port(body.port_no, ctx.port_names)}"
            f" queue={_queue_name(body.queue_id)}")


def _pull_stats(version: int, raw: Raw, b: memoryview, pos: int) -> tuple[QueueStats, int]:
    if raw.name == "OFPST14_QUEUE_REPLY":
        size = OFP14_QUEUE_STATS_HEAD.size + OFP13_QUEUE_STATS.size
        if len(b) - pos < size:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, "truncated queue stats")
        (length,) = OFP14_QUEUE_STATS_HEAD.unpack_from(b, pos)
        if length < size or length - size > len(b) - pos - size:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, f"queue stats length {length}")
        port, queue, nbytes, packets, errors, sec, nsec = OFP13_QUEUE_STATS.unpack_from(
            b, pos + OFP14_QUEUE_STATS_HEAD.size)
        return (QueueStats(from_ofp11(port), queue, nbytes, packets, errors, sec, nsec),
                pos + length)
    layout = {"OFPST10_QUEUE_REPLY": OFP10_QUEUE_STATS, "OFPST11_QUEUE_REPLY": OFP11_QUEUE_STATS,
              "OFPST13_QUEUE_REPLY": OFP13_QUEUE_STATS}[raw.name]
    if len(b) - pos < layout.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "leftover bytes in queue stats reply")
    port, queue, *rest = layout.unpack_from(b, pos)
    if raw.name != "OFPST10_QUEUE_REPLY":
        port = from_ofp11(port)
    return QueueStats(port, queue, *rest), pos + layout.size


def _put_stats(s: QueueStats, raw: str) -> bytes:
    counters = (s.tx_bytes, s.tx_packets, s.tx_errors)
    if raw == "OFPST10_QUEUE_REPLY":
        return OFP10_QUEUE_STATS.pack(s.port_no, s.queue_id, *counters)
    if raw == "OFPST11_QUEUE_REPLY":
        return OFP11_QUEUE_STATS.pack(to_ofp11(s.port_no), s.queue_id, *counters)
    entry = OFP13_QUEUE_STATS.pack(to_ofp11(s.port_no), s.queue_id, *counters,
                                   s.duration_sec, s.duration_nsec)
    if raw == "OFPST13_QUEUE_REPLY":
        return entry
    return OFP14_QUEUE_STATS_HEAD.pack(OFP14_QUEUE_STATS_HEAD.size + len(entry)) + entry


def _encode_stats_reply(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, QueueStatsReply)
    return b"".join(_put_stats(s, raw.name) for s in body.stats)


def _counter(value: int) -> str:
    return "?" if value == UNKNOWN64 else str(value)


def format_queue_stats(s: QueueStats, names: Mapping[int, str] | None = None) -> str:
    """One line of an OFPST_QUEUE reply (``ofputil_queue_stats_reply_format``)."""
    dur = ("?" if s.duration_sec == DURATION_UNKNOWN
           else duration(s.duration_sec, s.duration_nsec))
    return (f"  port {format_port(s.port_no, names)} queue {_queue_name(s.queue_id)}: "
            f"bytes={_counter(s.tx_bytes)}, pkts={_counter(s.tx_packets)}, "
            f"errors={_counter(s.tx_errors)}, duration={dur}\n")


def _format_stats_reply(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, QueueStatsReply)
    text = f" {len(body.stats)} queues\n"
    if ctx.verbosity < 1:
        return text
    return text + "".join(format_queue_stats(s, ctx.port_names) for s in body.stats)


# --- queue configuration -----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class QueueGetConfigRequest(Body):
    """OFPT_QUEUE_GET_CONFIG request, or OpenFlow 1.4+'s OFPST_QUEUE_DESC request.

    ``queue_id`` goes on the wire only in the 1.4 form.
    """

    port_no: int = OFPP_ANY
    queue_id: int = OFPQ_ALL


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """One queue's configuration (``ofputil_queue_config``)."""

    port_no: int
    queue_id: int
    min_rate: int = RATE_UNSET
    """Tenths of a percent; ``RATE_UNSET`` when not given."""
    max_rate: int = RATE_UNSET


@dataclass(frozen=True, slots=True)
class QueueGetConfigReply(Body):
    """OFPT_QUEUE_GET_CONFIG reply or OFPST_QUEUE_DESC reply.

    ``port_no`` heads the reply before OpenFlow 1.4 (and is every queue's
    port there); the 1.4 form has no header and ignores it.
    """

    port_no: int = 0
    queues: tuple[QueueConfig, ...] = ()


def _decode_config_request(version: int, raw: Raw, b: memoryview) -> Body:
    if raw.name == "OFPT10_QUEUE_GET_CONFIG_REQUEST":
        (port,) = OFP10_QUEUE_GET_CONFIG_REQUEST.unpack_from(b)
    elif raw.name == "OFPT11_QUEUE_GET_CONFIG_REQUEST":
        port = from_ofp11(OFP11_QUEUE_GET_CONFIG_REQUEST.unpack_from(b)[0])
        if port == OFPP_ANY:
            return QueueGetConfigRequest(port)
    else:
        port, queue = OFP14_QUEUE_DESC_REQUEST.unpack_from(b)
        return QueueGetConfigRequest(from_ofp11(port), queue)
    if port >= OFPP_MAX:
        raise OFError(OFPErr.OFPQOFC_BAD_PORT, f"queue config request for port {port}")
    return QueueGetConfigRequest(port)


def _encode_config_request(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, QueueGetConfigRequest)
    if raw.name == "OFPT10_QUEUE_GET_CONFIG_REQUEST":
        return OFP10_QUEUE_GET_CONFIG_REQUEST.pack(body.port_no)
    if raw.name == "OFPT11_QUEUE_GET_CONFIG_REQUEST":
        return OFP11_QUEUE_GET_CONFIG_REQUEST.pack(to_ofp11(body.port_no))
    return OFP14_QUEUE_DESC_REQUEST.pack(to_ofp11(body.port_no), body.queue_id)


def _format_config_request(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, QueueGetConfigRequest)
    text = f" port={format_port(body.port_no, ctx.port_names)}"
    if body.queue_id != OFPQ_ALL:
        text += f" queue={_queue_name(body.queue_id)}"
    return text


def _pull_ofp10_queue(version: int, port: int, b: memoryview, pos: int
                      ) -> tuple[QueueConfig, int]:
    head = OFP10_PACKET_QUEUE if version < 3 else OFP12_PACKET_QUEUE
    if len(b) - pos < head.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "truncated queue")
    queue_id = head.unpack_from(b, pos)[0]
    length = head.unpack_from(b, pos)[-1]
    if length < head.size or length > len(b) - pos or length % 8:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, f"queue length {length}")
    rates = {OFPQT10_MIN_RATE: RATE_UNSET, OFPQT11_MAX_RATE: RATE_UNSET}
    at, end = pos + head.size, pos + length
    while at < end:
        prop, prop_len = OFP10_QUEUE_PROP_HEADER.unpack_from(b, at)
        if prop_len < OFP10_QUEUE_PROP_HEADER.size or prop_len > end - at or prop_len % 8:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, f"queue property length {prop_len}")
        if prop in rates:
            if prop_len != OFP10_QUEUE_PROP_RATE.size:
                raise OFError(OFPErr.OFPBRC_BAD_LEN, "queue rate property length")
            rates[prop] = OFP10_QUEUE_PROP_RATE.unpack_from(b, at)[2]
        at += prop_len
    return QueueConfig(port, queue_id, rates[OFPQT10_MIN_RATE], rates[OFPQT11_MAX_RATE]), end


def _pull_ofp14_queue(b: memoryview, pos: int) -> tuple[QueueConfig, int]:
    if len(b) - pos < OFP14_QUEUE_DESC.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "truncated queue description")
    port, queue_id, length = OFP14_QUEUE_DESC.unpack_from(b, pos)
    port = from_ofp11(port)
    if length < OFP14_QUEUE_DESC.size or length > len(b) - pos or length % 8:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, f"queue description length {length}")
    rates = {OFPQDPT14_MIN_RATE: RATE_UNSET, OFPQDPT14_MAX_RATE: RATE_UNSET}
    for type_, payload in pull_props(b[pos + OFP14_QUEUE_DESC.size:pos + length]):
        if type_ in rates:
            rates[type_] = parse_u16(payload)
    return (QueueConfig(port, queue_id, rates[OFPQDPT14_MIN_RATE], rates[OFPQDPT14_MAX_RATE]),
            pos + length)


def _partial_config_reply(version: int, raw: Raw, b: memoryview
                          ) -> tuple[Body, OFError | None]:
    if raw.name == "OFPST14_QUEUE_DESC_REPLY":
        queues, error = pull_list(version, raw, b,
                                  lambda _v, _r, view, pos: _pull_ofp14_queue(view, pos))
        return QueueGetConfigReply(0, queues), error
    try:
        if raw.name == "OFPT10_QUEUE_GET_CONFIG_REPLY":
            port = OFP10_QUEUE_GET_CONFIG_REPLY.unpack_from(b)[0]
        else:
            port = from_ofp11(OFP11_QUEUE_GET_CONFIG_REPLY.unpack_from(b)[0])
    except OFError as e:
        return QueueGetConfigReply(), e
    queues, error = pull_list(version, raw, b[8:],
                              lambda v, _r, view, pos: _pull_ofp10_queue(v, port, view, pos))
    return QueueGetConfigReply(port, queues), error


def _decode_config_reply(version: int, raw: Raw, b: memoryview) -> Body:
    body, error = _partial_config_reply(version, raw, b)
    if error is not None:
        raise error
    return body


def _put_ofp10_rate(prop: int, rate: int) -> bytes:
    return b"" if rate == RATE_UNSET else OFP10_QUEUE_PROP_RATE.pack(prop, 16, rate)


def _put_queue(q: QueueConfig, version: int) -> bytes:
    if version >= 5:
        props = b"".join(put_u16(t, r) for t, r in ((OFPQDPT14_MIN_RATE, q.min_rate),
                                                     (OFPQDPT14_MAX_RATE, q.max_rate))
                         if r != RATE_UNSET)
        return OFP14_QUEUE_DESC.pack(to_ofp11(q.port_no), q.queue_id,
                                     OFP14_QUEUE_DESC.size + len(props)) + props
    props = _put_ofp10_rate(OFPQT10_MIN_RATE, q.min_rate) + _put_ofp10_rate(OFPQT11_MAX_RATE,
                                                                           q.max_rate)
    if version < 3:
        return OFP10_PACKET_QUEUE.pack(q.queue_id, OFP10_PACKET_QUEUE.size + len(props)) + props
    return OFP12_PACKET_QUEUE.pack(q.queue_id, to_ofp11(q.port_no),
                                   OFP12_PACKET_QUEUE.size + len(props)) + props


def _encode_config_reply(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, QueueGetConfigReply)
    queues = b"".join(_put_queue(q, version if raw.name.startswith("OFPT1") else 5)
                      for q in body.queues)
    if raw.name == "OFPT10_QUEUE_GET_CONFIG_REPLY":
        return OFP10_QUEUE_GET_CONFIG_REPLY.pack(body.port_no) + queues
    if raw.name == "OFPT11_QUEUE_GET_CONFIG_REPLY":
        return OFP11_QUEUE_GET_CONFIG_REPLY.pack(to_ofp11(body.port_no)) + queues
    return queues


def _rate(name: str, rate: int) -> str:
    if rate <= 1000:
        return f" {name}:{rate // 10}.{rate % 10}%"
    return f" {name}:(disabled)" if rate < RATE_UNSET else ""


def _format_config_reply(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, QueueGetConfigReply)
    text = " "
    port = 0
    for q in sorted(body.queues, key=lambda q: (q.port_no, q.queue_id)):
        if q.port_no != port:
            port = q.port_no
            text += f"port={format_port(port, ctx.port_names)}\n"
        text += f"queue {q.queue_id}:{_rate('min_rate', q.min_rate)}"
        text += f"{_rate('max_rate', q.max_rate)}\n"
    return text[:-1] if text.endswith(" ") else text


# --- tables ------------------------------------------------------------------------------

_STATS_REQUEST: Final = MsgCodec(_decode_stats_request, _encode_stats_request,
                                 _format_stats_request)
_STATS_REPLY: Final = list_codec(_pull_stats, QueueStatsReply, _encode_stats_reply,
                                 _format_stats_reply)
_CONFIG_REQUEST: Final = MsgCodec(_decode_config_request, _encode_config_request,
                                  _format_config_request)
_CONFIG_REPLY: Final = MsgCodec(_decode_config_reply, _encode_config_reply,
                                _format_config_reply, _partial_config_reply)

CODECS: Final[dict[str, MsgCodec]] = {
    "OFPST10_QUEUE_REQUEST": _STATS_REQUEST,
    "OFPST11_QUEUE_REQUEST": _STATS_REQUEST,
    "OFPST10_QUEUE_REPLY": _STATS_REPLY,
    "OFPST11_QUEUE_REPLY": _STATS_REPLY,
    "OFPST13_QUEUE_REPLY": _STATS_REPLY,
    "OFPST14_QUEUE_REPLY": _STATS_REPLY,
    "OFPT10_QUEUE_GET_CONFIG_REQUEST": _CONFIG_REQUEST,
    "OFPT11_QUEUE_GET_CONFIG_REQUEST": _CONFIG_REQUEST,
    "OFPST14_QUEUE_DESC_REQUEST": _CONFIG_REQUEST,
    "OFPT10_QUEUE_GET_CONFIG_REPLY": _CONFIG_REPLY,
    "OFPT11_QUEUE_GET_CONFIG_REPLY": _CONFIG_REPLY,
    "OFPST14_QUEUE_DESC_REPLY": _CONFIG_REPLY,
}


def _by_version(v10: str, v11: str, v13: str, v14: str) -> Callable[[int], str]:
    return lambda v: v10 if v == 1 else v11 if v < 4 else v13 if v == 4 else v14


DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {
    QueueStatsRequest: lambda v: "OFPST10_QUEUE_REQUEST" if v == 1 else "OFPST11_QUEUE_REQUEST",
    QueueStatsReply: _by_version("OFPST10_QUEUE_REPLY", "OFPST11_QUEUE_REPLY",
                                 "OFPST13_QUEUE_REPLY", "OFPST14_QUEUE_REPLY"),
    QueueGetConfigRequest: _by_version("OFPT10_QUEUE_GET_CONFIG_REQUEST",
                                       "OFPT11_QUEUE_GET_CONFIG_REQUEST",
                                       "OFPT11_QUEUE_GET_CONFIG_REQUEST",
                                       "OFPST14_QUEUE_DESC_REQUEST"),
    QueueGetConfigReply: _by_version("OFPT10_QUEUE_GET_CONFIG_REPLY",
                                     "OFPT11_QUEUE_GET_CONFIG_REPLY",
                                     "OFPT11_QUEUE_GET_CONFIG_REPLY",
                                     "OFPST14_QUEUE_DESC_REPLY"),
}
