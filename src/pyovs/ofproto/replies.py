"""Reply bodies that tell the connection how to send them (``Ofproto`` handlers -> ``connmgr``).

A handler answers through ``reply(body)`` and the connection picks the raw
type from the request.  Two cases need more: a reply already cut into
multipart parts (``Multipart``), and a reply whose raw type is not the
default for its body -- a GET_ASYNC reply carries the body of a SET_ASYNC,
a TLV table reply is bytes (``RawReply``).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyovs.openflow.codec import Body

__all__ = ["Multipart", "RawReply"]


@dataclass(frozen=True, slots=True)
class Multipart(Body):
    """A statistics reply already cut into parts (OVS ``ofpmp_postappend``).

    The connection sends each part as a reply of its own, with
    OFPSF_REPLY_MORE on all but the last.
    """

    parts: tuple[Body, ...]


@dataclass(frozen=True, slots=True)
class RawReply(Body):
    """A reply whose raw type is not the body's default (or whose body is bytes)."""

    raw: str
    body: Body
