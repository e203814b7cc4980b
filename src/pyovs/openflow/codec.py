"""Whole OpenFlow messages: bytes <-> ``Message`` values, and nothing else.

A ``Message`` is the header facts (version, xid, raw wire variant, stats
flags) plus a typed *body* -- a frozen dataclass such as ``FlowMod`` or
``EchoRequest`` from the ``msg_*`` modules.  Bodies are version-independent
where OVS's ``ofputil_*`` structures are (one ``FlowMod`` for OFPT10, OFPT11+
and NXT flow mods); the ``raw`` on the envelope says which wire form to use,
so that ``encode(decode(b)) == b`` for every message OVS produces.

Registration is one explicit table, ``CODECS``: raw-type name -> ``MsgCodec``
(decode, encode and format functions), merged from the tables each
``msg_*`` module exports.  A raw type without an entry still decodes (its
header and length are checked) into ``Unparsed``, which re-encodes its bytes
unchanged.

Errors: ``decode`` raises ``OFError`` and nothing else for any input, with
the OFPT_ERROR type/code OVS would reply with (``tests/unit`` fuzzes this).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Final

from .errors import OFError, OFPErr
from .header import Header, decode_header, encode_header
from .msgtable import RAWS, Raw


class Body:
    """Base class of every message body (a frozen dataclass in a ``msg_*`` module)."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Unparsed(Body):
    """A body pyovs has no codec for: its bytes, kept as they were."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Message:
    """One OpenFlow message."""

    version: int
    """Wire version (1 = OpenFlow 1.0 ... 6 = 1.5)."""
    xid: int
    """Transaction id."""
    raw: str
    """Wire variant, an OVS raw-type name such as ``OFPT11_FLOW_MOD``."""
    body: Body
    """The typed content."""
    stats_flags: int = 0
    """Multipart flags (``OFPSF_REPLY_MORE``); 0 for other messages."""

    @property
    def raw_type(self) -> Raw:
        return RAWS[self.raw]

    @property
    def type(self) -> str:
        """Logical type, e.g. ``FLOW_MOD`` (OVS ``enum ofptype``)."""
        return RAWS[self.raw].ofptype


@dataclass(frozen=True, slots=True)
class FormatContext:
    """What body formatters may need beyond the body."""

    version: int
    raw: Raw
    xid: int = 0
    verbosity: int = 1
    port_names: Mapping[int, str] | None = None
    table_names: Mapping[int, str] | None = None
    extra: dict[str, object] = field(default_factory=dict)


Decoder = Callable[[int, Raw, memoryview], Body]
Encoder = Callable[[Body, int, Raw], bytes]
Formatter = Callable[[Body, FormatContext], str]
PartialDecoder = Callable[[int, Raw, memoryview], tuple[Body, "OFError | None"]]
"""Decode what can be decoded: (body so far, the error that stopped it, if any)."""
Puller = Callable[[int, Raw, memoryview, int], tuple[Any, int]]
"""Pull one entry of a list at a position: (entry, next position)."""

_DECODER_BUGS: Final = (struct.error, ValueError, IndexError, KeyError, OverflowError)


@dataclass(frozen=True, slots=True)
class MsgCodec:
    """How one raw type's body is read, written and printed.

    ``partial``, for replies that are lists of entries, decodes the entries
    before a bad one: ovs-ofctl prints those, then the error.
    """

    decode: Decoder
    encode: Encoder
    format: Formatter | None = None
    partial: PartialDecoder | None = None


def pull_list(version: int, raw: Raw, b: memoryview,
              pull: Puller) -> tuple[tuple[Any, ...], OFError | None]:
    """Every entry of a list body, stopping at the first bad one."""
    out = []
    pos = 0
    try:
        while pos < len(b):
            item, pos = pull(version, raw, b, pos)
            out.append(item)
    except OFError as e:
        return tuple(out), e
    except _DECODER_BUGS as e:
        return tuple(out), OFError(OFPErr.OFPBRC_BAD_LEN, f"{raw.human_name}: {e}")
    return tuple(out), None


def list_codec(pull: Puller, wrap: Callable[[tuple[Any, ...]], Body], encode: Encoder,
               format: Formatter) -> MsgCodec:
    """A codec for a reply whose body is a list of entries, each read by ``pull``."""
    def partial(version: int, raw: Raw, b: memoryview) -> tuple[Body, OFError | None]:
        items, error = pull_list(version, raw, b, pull)
        return wrap(items), error

    def decode(version: int, raw: Raw, b: memoryview) -> Body:
        body, error = partial(version, raw, b)
        if error is not None:
            raise error
        return body

    return MsgCodec(decode, encode, format, partial)


def _message_modules() -> tuple[ModuleType, ...]:
    """The ``msg_*`` modules, each exporting ``CODECS`` and ``DEFAULT_RAWS``.

    They import ``Body`` from here, so the tables are assembled on first use
    rather than at import time.
    """
    from . import (
        msg_async,
        msg_basic,
        msg_bundle,
        msg_ctflush,
        msg_flow,
        msg_flowstats,
        msg_forward,
        msg_group,
        msg_ipfix,
        msg_monitor,
        msg_packet,
        msg_port,
        msg_queue,
        msg_stats,
        msg_table,
        msg_tabledesc,
        msg_tablefeatures,
        msg_tlv,
    )
    return (msg_basic, msg_async, msg_flow, msg_flowstats, msg_packet, msg_port, msg_group,
            msg_stats, msg_table, msg_queue, msg_bundle, msg_tabledesc, msg_forward, msg_ipfix,
            msg_monitor, msg_tablefeatures, msg_ctflush, msg_tlv)


def _build_codecs() -> dict[str, MsgCodec]:
    table: dict[str, MsgCodec] = {}
    for module in _message_modules():
        for name, codec in module.CODECS.items():
            if name in table or name not in RAWS:
                raise ValueError(f"bad codec table entry {name}")
            table[name] = codec
    return table


_CODECS: dict[str, MsgCodec] = {}


def codecs() -> dict[str, MsgCodec]:
    """The codec table (raw-type name -> MsgCodec)."""
    if not _CODECS:
        _CODECS.update(_build_codecs())
    return _CODECS


def decode(data: bytes | bytearray | memoryview) -> Message:
    """Decode exactly one message; ``OFError`` on any problem."""
    view = memoryview(data)
    if len(view) >= 4:
        length = int.from_bytes(view[2:4], "big")
        if length != len(view):
            raise OFError(OFPErr.OFPBRC_BAD_LEN,
                          f"message length field {length} but {len(view)} bytes", view[0])
    header = decode_header(view)
    return decode_body(header, view)


def decode_body(header: Header, view: memoryview) -> Message:
    raw = header.raw
    body_view = view[header.header_len:]
    codec = codecs().get(raw.name)
    try:
        body: Body = (codec.decode(header.version, raw, body_view) if codec
                      else Unparsed(bytes(body_view)))
    except OFError as e:
        e.version = header.version
        raise
    except _DECODER_BUGS as e:
        # A decoder bug must still surface as a protocol error, never a crash.
        raise OFError(OFPErr.OFPBRC_BAD_LEN, f"{raw.human_name}: {e}", header.version) from e
    return Message(header.version, header.xid, raw.name, body, header.stats_flags)


def encode(msg: Message) -> bytes:
    """The wire form of ``msg``."""
    raw = RAWS[msg.raw]
    if isinstance(msg.body, Unparsed):
        body = msg.body.data
    else:
        codec = codecs().get(raw.name)
        if codec is None:
            raise ValueError(f"no codec for {raw.name}")
        body = codec.encode(msg.body, msg.version, raw)
    return encode_header(raw, msg.version, msg.xid, len(body), msg.stats_flags) + body


# Raw type to use for a body class in each version, when the caller does not
# say: filled by ``default_raw`` from each module's DEFAULT_RAWS.
_DEFAULTS: dict[type, Callable[[int], str]] = {}


def default_raw(body: Body, version: int) -> str:
    """The raw type OVS would use to send ``body`` in ``version``."""
    if not _DEFAULTS:
        for module in _message_modules():
            _DEFAULTS.update(module.DEFAULT_RAWS)
    chooser = _DEFAULTS.get(type(body))
    if chooser is None:
        raise ValueError(f"no default raw type for {type(body).__name__}")
    return chooser(version)


def stats_reply_raw(request: Raw, version: int) -> str:
    """The raw type of the reply to statistics request ``request`` in ``version``.

    As OVS ``ofpraw_stats_request_to_reply``: the same family and stat type
    (or vendor subtype), as a reply.  ``ValueError`` if there is none.
    """
    for raw in RAWS.values():
        if (raw.family is request.family and raw.number == request.number and raw.is_reply
                and raw.min_version <= version <= raw.max_version):
            return raw.name
    raise ValueError(f"no reply type for {request.name} in version {version}")


def make(body: Body, version: int, xid: int = 0, raw: str | None = None,
         stats_flags: int = 0) -> Message:
    """A message carrying ``body`` in ``version`` (raw type chosen as OVS does)."""
    return Message(version, xid, raw or default_raw(body, version), body, stats_flags)


ALL_VERSIONS: Final = (1, 2, 3, 4, 5, 6)
