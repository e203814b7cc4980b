"""Nicira extensions ofproto answers without datapath support behind them.

* conntrack flushes (NXT_CT_FLUSH_ZONE, NXT_CT_FLUSH): pyovs's datapath keeps
  no connection-tracking state, so they succeed with nothing to do;
* IPFIX statistics: pyovs samples nothing, so OVS's answer for a bridge
  without IPFIX, ``NXST_NOT_CONFIGURED``;
* the tunnel-metadata TLV map (NXT_TLV_TABLE_MOD/REQUEST): kept per bridge
  (``Ofproto.tlv_map``) with ``tun_metadata_table_mod``'s checks and space
  accounting, and dumped as OVS dumps it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from pyovs.openflow.codec import Body, Message
from pyovs.openflow.errors import OFError, OFPErr
from pyovs.openflow.msg_tlv import TlvMap, TlvTableMod, TlvTableReply

if TYPE_CHECKING:
    from .ofproto import OfConnState, Ofproto

__all__ = ["ct_flush", "ipfix_stats", "tlv_table_mod", "tlv_table_request"]

OFPCR_ROLE_SLAVE: Final = 3


def ct_flush(ofp: Ofproto, conn: OfConnState, msg: Message,
             reply: Callable[[Body], None]) -> None:
    """pyovs's datapath keeps no connection-tracking state: nothing to flush."""


def ipfix_stats(ofp: Ofproto, conn: OfConnState, msg: Message,
                reply: Callable[[Body], None]) -> None:
    """pyovs does no IPFIX sampling: OVS's answer for a bridge without IPFIX."""
    raise OFError(OFPErr.NXST_NOT_CONFIGURED)


NXTTMC_ADD, NXTTMC_DELETE, NXTTMC_CLEAR = 0, 1, 2
TUN_METADATA_NUM_OPTS, TUN_METADATA_TOT_OPT_SIZE = 64, 256


def tlv_table_mod(ofp: Ofproto, conn: OfConnState, msg: Message,
                  reply: Callable[[Body], None]) -> None:
    """OVS ``tun_metadata_table_mod`` (the library has made the decoding checks).

    Options are laid out in 256 bytes of option space in 4-byte units; a
    mapping may be split across free gaps, so it fits while the total does.
    """
    assert isinstance(msg.body, TlvTableMod)
    if conn.role == OFPCR_ROLE_SLAVE:
        raise OFError(OFPErr.OFPBRC_IS_SECONDARY)
    table = {} if msg.body.command == NXTTMC_CLEAR else dict(ofp.tlv_map)
    for m in msg.body.mappings:
        if msg.body.command == NXTTMC_DELETE:
            table.pop(m.index, None)
            continue
        if msg.body.command != NXTTMC_ADD:
            continue
        if m.index in table:
            raise OFError(OFPErr.NXTTMFC_ALREADY_MAPPED)
        if any(c == m.option_class and t == m.option_type for c, t, _ in table.values()):
            raise OFError(OFPErr.NXTTMFC_DUP_ENTRY)
        if sum(n for _, _, n in table.values()) + m.option_len > TUN_METADATA_TOT_OPT_SIZE:
            raise OFError(OFPErr.NXTTMFC_TABLE_FULL)
        table[m.index] = (m.option_class, m.option_type, m.option_len)
    ofp.tlv_map = table


def tlv_table_request(ofp: Ofproto, conn: OfConnState, msg: Message,
                      reply: Callable[[Body], None]) -> None:
    maps = tuple(TlvMap(*ofp.tlv_map[index], index) for index in sorted(ofp.tlv_map))
    reply(TlvTableReply(TUN_METADATA_TOT_OPT_SIZE, TUN_METADATA_NUM_OPTS, maps))
