"""Which asynchronous messages a connection receives (OVS ofp-connection.c, connmgr.c).

Each connection has, per kind of asynchronous message (packet-in, port
status, flow removed, role status, table status, request-forward), a bitmap
of the reasons it wants while primary and another while secondary
(``OfConnState.async_cfg``).  Until a controller sets them (OFPT_SET_ASYNC,
NXT_SET_ASYNC_CONFIG), OVS's defaults for the connection's version apply
(``ofputil_async_cfg_default``): every packet-in reason but invalid TTL,
every port status, the flow-removed reasons the version knows.

Reasons are OVS's internal numbers: the packet-in reasons of OpenFlow 1.4
plus ``EXPLICIT_MISS`` (a table-miss flow sent the packet) and
``IMPLICIT_MISS`` (no flow did); a wire mask's "no match" bit covers both.

``receives`` is ``ofconn_receives_async_msg``: a management connection
(ovs-ofctl) gets nothing asynchronous unless it set a miss_send_len.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from pyovs.openflow.codec import Body, Message
from pyovs.openflow.errors import OFError, OFPErr
from pyovs.openflow.msg_async import ALLOWED_10, ALLOWED_14, AsyncConfig, Masks

from .replies import RawReply

if TYPE_CHECKING:
    from .ofproto import OfConnState, Ofproto


__all__ = ["FLOW_REMOVED", "PACKET_IN", "PORT_STATUS", "default", "get_async", "receives",
           "set_async"]

PACKET_IN, PORT_STATUS, FLOW_REMOVED = 0, 1, 2
OFPR_INVALID_TTL, OFPR_EXPLICIT_MISS, OFPR_IMPLICIT_MISS = 2, 6, 7
OFPR14_BITS: Final = 0x3F
OFPPR_BITS: Final = 0x7
OFPRR10_BITS, OFPRR13_BITS, OFPRR14_BITS = 0x7, 0xF, 0x3F
OFPCR_ROLE_SLAVE: Final = 3
OFP_DEFAULT_MISS_SEND_LEN: Final = 128


def default(version: int) -> tuple[Masks, Masks]:
    """(primary, secondary) masks OVS starts a connection of ``version`` with."""
    pin = (OFPR14_BITS & ~(1 << OFPR_INVALID_TTL)) | 1 << OFPR_EXPLICIT_MISS
    if version <= 3:
        pin |= 1 << OFPR_IMPLICIT_MISS
    removed = OFPRR14_BITS if version >= 5 else OFPRR13_BITS if version == 4 else OFPRR10_BITS
    return (pin, OFPPR_BITS, removed, 0, 0, 0), (0, OFPPR_BITS, 0, 0, 0, 0)


def config(conn: OfConnState) -> tuple[Masks, Masks]:
    return conn.async_cfg if conn.async_cfg is not None else default(conn.version)


def receives(conn: OfConnState, kind: int, reason: int) -> bool:
    """Whether ``conn`` wants an asynchronous message of ``kind`` for ``reason``."""
    if conn.service and not conn.miss_send_len:
        return False
    primary, secondary = config(conn)
    masks = secondary if conn.role == OFPCR_ROLE_SLAVE else primary
    return bool(masks[kind] >> reason & 1)


def get_async(ofp: Ofproto, conn: OfConnState, msg: Message,
              reply: Callable[[Body], None]) -> None:
    """OFPT_GET_ASYNC_REQUEST: the masks, as each version can say them."""
    allowed = ALLOWED_14 if msg.version >= 5 else ALLOWED_10
    primary, secondary = config(conn)
    p = tuple(m & a for m, a in zip(primary, allowed, strict=True))
    s = tuple(m & a for m, a in zip(secondary, allowed, strict=True))
    raw = "OFPT14_GET_ASYNC_REPLY" if msg.version >= 5 else "OFPT13_GET_ASYNC_REPLY"
    reply(RawReply(raw, AsyncConfig.from_settings(p, s, msg.version)))  # type: ignore[arg-type]


def set_async(ofp: Ofproto, conn: OfConnState, msg: Message,
              reply: Callable[[Body], None]) -> None:
    """OFPT_SET_ASYNC / NXT_SET_ASYNC_CONFIG(2) (OVS ``handle_nxt_set_async_config``).

    The fixed-struct forms replace every mask; the property forms change
    only the masks they name.
    """
    assert isinstance(msg.body, AsyncConfig)
    if msg.raw.endswith("_REPLY"):
        raise OFError(OFPErr.OFPBRC_BAD_TYPE)
    struct_form = msg.raw in ("OFPT13_SET_ASYNC", "NXT_SET_ASYNC_CONFIG")
    primary, secondary = msg.body.settings(msg.version, struct_form, loose=False)
    if not struct_form:
        old_p, old_s = config(conn)
        named = {t for t, _ in msg.body.properties}
        primary = tuple(primary[k] if 2 * k + 1 in named else old_p[k]
                        for k in range(6))  # type: ignore[assignment]
        secondary = tuple(secondary[k] if 2 * k in named else old_s[k]
                          for k in range(6))  # type: ignore[assignment]
    conn.async_cfg = (primary, secondary)
    if conn.service and not conn.miss_send_len:
        conn.miss_send_len = OFP_DEFAULT_MISS_SEND_LEN
