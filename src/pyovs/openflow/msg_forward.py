"""Request forwarding (OVS ``ofputil_decode_requestforward``, lib/ofp-monitor.c).

A switch tells its other controllers about a group or meter change one of
them made by forwarding the request itself: OFPT14_REQUESTFORWARD (and
its ONF 1.3 / Nicira 1.0-1.2 forms) carries a whole inner OpenFlow
message.  ``RequestForward.inner`` is that message decoded; OVS accepts
only a group mod or a meter mod there, in the outer message's version,
and reports anything else with the errors below.  Bytes after the inner
message are ignored, as OVS ignores them.

Printing is ``reason=group_mod`` or ``reason=meter_mod`` followed by the
inner message's own text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .codec import Body, FormatContext, Message, MsgCodec, codecs, decode, encode
from .errors import OFError, OFPErr
from .msgtable import Raw

_REASONS: Final = {"GROUP_MOD": "group_mod", "METER_MOD": "meter_mod"}


@dataclass(frozen=True, slots=True)
class RequestForward(Body):
    """A forwarded group or meter mod (``struct ofputil_requestforward``)."""

    inner: Message


def _decode(version: int, raw: Raw, b: memoryview) -> Body:
    if len(b) < 8:
        raise OFError(OFPErr.OFPBFC_MSG_BAD_LEN, "no inner message")
    inner_len = int.from_bytes(b[2:4], "big")
    if inner_len < 8 or inner_len > len(b):
        raise OFError(OFPErr.OFPBFC_MSG_BAD_LEN, f"inner message length {inner_len}")
    if b[0] != version:
        raise OFError(OFPErr.OFPBRC_BAD_VERSION, "inner message in another version")
    inner = decode(bytes(b[:inner_len]))
    if inner.type not in _REASONS:
        raise OFError(OFPErr.OFPBFC_MSG_UNSUP, f"cannot forward {inner.type}")
    return RequestForward(inner)


def _encode(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, RequestForward)
    return encode(body.inner)


def _format(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, RequestForward)
    inner = body.inner
    inner_format = codecs()[inner.raw].format
    assert inner_format is not None
    inner_ctx = FormatContext(ctx.version, inner.raw_type, inner.xid, ctx.verbosity,
                              ctx.port_names, ctx.table_names)
    return f" reason={_REASONS[inner.type]}" + inner_format(inner.body, inner_ctx)


_CODEC: Final = MsgCodec(_decode, _encode, _format)
CODECS: Final = {name: _CODEC for name in ("NXT_REQUESTFORWARD", "ONFT13_REQUESTFORWARD",
                                           "OFPT14_REQUESTFORWARD")}
DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {
    RequestForward: lambda v: ("NXT_REQUESTFORWARD" if v < 4 else
                               "ONFT13_REQUESTFORWARD" if v == 4 else "OFPT14_REQUESTFORWARD"),
}
