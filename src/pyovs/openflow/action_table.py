"""OpenFlow actions on the wire: every encoding OVS knows, as data.

Like messages, an action's wire identity depends on the version: output is
type 0 everywhere but 8 bytes in 1.0 and 16 later; set_queue is a Nicira
extension in 1.0 and standard type 21 in 1.1+; most extensions are
``OFPAT_VENDOR`` (0xffff) with a vendor id and a 16-bit subtype.  OVS lists
every *raw action* with its encodings in ``ofp-actions.c``
(``enum ofp_raw_action_type``); ``ACTIONS`` is that list::

    A(name, FIX|VAR, (vendor, min_version, max_version, type, length,
                      arg_offset, arg_length), ...)

``length`` is the fixed length (FIX) or the minimum (VAR, up to 65528);
``arg_offset``/``arg_length`` locate the single integer argument of simple
actions (``set_queue:5``), 0/0 for actions with a structure.

``pull_raw`` reads one action's header and checks its length as OVS's
``ofpact_pull_raw`` (``OFPBAC_BAD_TYPE``/``BAD_VENDOR_TYPE`` for unknown
actions, ``OFPBAC_BAD_LEN`` for wrong or unaligned lengths); ``put_raw``
writes a zeroed action with its header and argument, as ``ofpact_put_raw``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from .errors import NX_VENDOR_ID, ONF_VENDOR_ID, OFError, OFPErr

OFPAT_VENDOR: Final = 0xFFFF
MAX_ACTION_LEN: Final = 65528
OF, NX, ONF = 0, NX_VENDOR_ID, ONF_VENDOR_ID
FIX, VAR = False, True

ACTION_HEADER: Final = struct.Struct("!HH")
"""type, len."""
EXT_HEADER: Final = struct.Struct("!HHIH")
"""type (0xffff), len, vendor, subtype."""


@dataclass(frozen=True, slots=True)
class RawInstance:
    """One encoding of a raw action in a range of versions."""

    name: str
    vendor: int
    min_version: int
    max_version: int
    type: int
    """OFPAT type, or the vendor subtype."""
    length: int
    """Fixed length, or the minimum for variable-length actions."""
    arg_ofs: int
    arg_len: int
    variable: bool

    @property
    def max_length(self) -> int:
        return MAX_ACTION_LEN if self.variable else self.length


def A(name: str, variable: bool,
      *encodings: tuple[int, int, int, int, int, int, int]) -> tuple[RawInstance, ...]:
    return tuple(RawInstance(name, e[0], e[1], e[2], e[3], e[4], e[5], e[6], variable)
                 for e in encodings)


_ROWS: Final[tuple[tuple[RawInstance, ...], ...]] = (
    A("OFPAT10_OUTPUT", FIX, (OF, 1, 1, 0, 8, 0, 0)),
    A("OFPAT11_OUTPUT", FIX, (OF, 2, 6, 0, 16, 0, 0)),
    A("OFPAT10_SET_VLAN_VID", FIX, (OF, 1, 1, 1, 8, 4, 2)),
    A("OFPAT10_SET_VLAN_PCP", FIX, (OF, 1, 1, 2, 8, 4, 1)),
    A("OFPAT11_SET_VLAN_VID", FIX, (OF, 2, 6, 1, 8, 4, 2)),
    A("OFPAT11_SET_VLAN_PCP", FIX, (OF, 2, 6, 2, 8, 4, 1)),
    A("OFPAT11_PUSH_VLAN", FIX, (OF, 2, 6, 17, 8, 4, 2)),
    A("OFPAT10_STRIP_VLAN", FIX, (OF, 1, 1, 3, 8, 0, 0)),
    A("OFPAT11_POP_VLAN", FIX, (OF, 2, 6, 18, 8, 0, 0)),
    A("OFPAT_SET_DL_SRC", FIX, (OF, 1, 1, 4, 16, 0, 0), (OF, 2, 6, 3, 16, 0, 0)),
    A("OFPAT_SET_DL_DST", FIX, (OF, 1, 1, 5, 16, 0, 0), (OF, 2, 6, 4, 16, 0, 0)),
    A("OFPAT_SET_NW_SRC", FIX, (OF, 1, 1, 6, 8, 4, 4), (OF, 2, 6, 5, 8, 4, 4)),
    A("OFPAT_SET_NW_DST", FIX, (OF, 1, 1, 7, 8, 4, 4), (OF, 2, 6, 6, 8, 4, 4)),
    A("OFPAT_SET_NW_TOS", FIX, (OF, 1, 1, 8, 8, 4, 1), (OF, 2, 6, 7, 8, 4, 1)),
    A("OFPAT11_SET_NW_ECN", FIX, (OF, 2, 6, 8, 8, 4, 1)),
    A("OFPAT_SET_TP_SRC", FIX, (OF, 1, 6, 9, 8, 4, 2)),
    A("OFPAT_SET_TP_DST", FIX, (OF, 1, 6, 10, 8, 4, 2)),
    A("OFPAT10_ENQUEUE", FIX, (OF, 1, 1, 11, 16, 0, 0)),
    A("OFPAT_SET_MPLS_LABEL", FIX, (NX, 1, 1, 30, 16, 12, 4), (OF, 2, 6, 13, 8, 4, 4)),
    A("OFPAT_SET_MPLS_TC", FIX, (NX, 1, 1, 31, 16, 10, 1), (OF, 2, 6, 14, 8, 4, 1)),
    A("OFPAT_SET_MPLS_TTL", FIX, (NX, 1, 1, 25, 16, 10, 1), (OF, 2, 6, 15, 8, 4, 1)),
    A("OFPAT_DEC_MPLS_TTL", FIX, (NX, 1, 1, 26, 16, 0, 0), (OF, 2, 6, 16, 8, 0, 0)),
    A("OFPAT_PUSH_MPLS", FIX, (NX, 1, 1, 23, 16, 10, 2), (OF, 2, 6, 19, 8, 4, 2)),
    A("OFPAT_POP_MPLS", FIX, (NX, 1, 1, 24, 16, 10, 2), (OF, 2, 6, 20, 8, 4, 2)),
    A("OFPAT_SET_QUEUE", FIX, (NX, 1, 1, 4, 16, 12, 4), (OF, 2, 6, 21, 8, 4, 4)),
    A("OFPAT_GROUP", FIX, (NX, 1, 1, 40, 16, 12, 4), (OF, 2, 6, 22, 8, 4, 4)),
    A("OFPAT11_SET_NW_TTL", FIX, (OF, 2, 6, 23, 8, 4, 1)),
    A("OFPAT_DEC_NW_TTL", FIX, (NX, 1, 1, 18, 16, 0, 0), (OF, 2, 6, 24, 8, 0, 0)),
    A("NXAST_DEC_TTL_CNT_IDS", VAR, (NX, 1, 6, 21, 16, 0, 0)),
    A("OFPAT12_SET_FIELD", VAR, (OF, 3, 5, 25, 8, 0, 0)),
    A("OFPAT15_SET_FIELD", VAR, (OF, 6, 6, 25, 8, 0, 0)),
    A("NXAST_REG_LOAD", FIX, (NX, 1, 5, 7, 24, 0, 0)),
    A("NXAST_REG_LOAD2", VAR, (NX, 1, 5, 33, 16, 0, 0)),
    A("OFPAT15_COPY_FIELD", VAR, (OF, 6, 6, 28, 16, 0, 0)),
    A("ONFACT13_COPY_FIELD", VAR, (ONF, 4, 5, 3200, 24, 0, 0)),
    A("NXAST_REG_MOVE", VAR, (NX, 1, 5, 6, 16, 0, 0)),
    A("OFPAT15_METER", FIX, (OF, 6, 6, 29, 8, 4, 4)),
    A("NXAST_RESUBMIT", FIX, (NX, 1, 6, 1, 16, 10, 2)),
    A("NXAST_RESUBMIT_TABLE", FIX, (NX, 1, 6, 14, 16, 0, 0)),
    A("NXAST_RESUBMIT_TABLE_CT", FIX, (NX, 1, 6, 44, 16, 0, 0)),
    A("NXAST_SET_TUNNEL", FIX, (NX, 1, 6, 2, 16, 12, 4)),
    A("NXAST_SET_TUNNEL64", FIX, (NX, 1, 6, 9, 24, 16, 8)),
    A("NXAST_POP_QUEUE", FIX, (NX, 1, 6, 5, 16, 0, 0)),
    A("NXAST_NOTE", VAR, (NX, 1, 6, 8, 16, 0, 0)),
    A("NXAST_MULTIPATH", FIX, (NX, 1, 6, 10, 32, 0, 0)),
    A("NXAST_BUNDLE", VAR, (NX, 1, 6, 12, 32, 0, 0)),
    A("NXAST_BUNDLE_LOAD", VAR, (NX, 1, 6, 13, 32, 0, 0)),
    A("NXAST_OUTPUT_REG", FIX, (NX, 1, 6, 15, 24, 0, 0)),
    A("NXAST_OUTPUT_REG2", FIX, (NX, 1, 6, 32, 24, 0, 0)),
    A("NXAST_LEARN", VAR, (NX, 1, 6, 16, 32, 0, 0)),
    A("NXAST_LEARN2", VAR, (NX, 1, 6, 45, 40, 0, 0)),
    A("NXAST_EXIT", FIX, (NX, 1, 6, 17, 16, 0, 0)),
    A("NXAST_FIN_TIMEOUT", FIX, (NX, 1, 6, 19, 16, 0, 0)),
    A("NXAST_CONTROLLER", FIX, (NX, 1, 6, 20, 16, 0, 0)),
    A("NXAST_CONTROLLER2", VAR, (NX, 1, 6, 37, 16, 0, 0)),
    A("NXAST_WRITE_METADATA", FIX, (NX, 1, 6, 22, 32, 0, 0)),
    A("NXAST_STACK_PUSH", FIX, (NX, 1, 6, 27, 24, 0, 0)),
    A("NXAST_STACK_POP", FIX, (NX, 1, 6, 28, 24, 0, 0)),
    A("NXAST_SAMPLE", FIX, (NX, 1, 6, 29, 24, 0, 0)),
    A("NXAST_SAMPLE2", FIX, (NX, 1, 6, 38, 32, 0, 0)),
    A("NXAST_SAMPLE3", FIX, (NX, 1, 6, 41, 32, 0, 0)),
    A("NXAST_CONJUNCTION", FIX, (NX, 1, 6, 34, 16, 0, 0)),
    A("NXAST_CT", VAR, (NX, 1, 6, 35, 24, 0, 0)),
    A("NXAST_NAT", VAR, (NX, 1, 6, 36, 16, 0, 0)),
    A("NXAST_OUTPUT_TRUNC", FIX, (NX, 1, 6, 39, 16, 0, 0)),
    A("NXAST_CLONE", VAR, (NX, 1, 6, 42, 16, 0, 0)),
    A("NXAST_CT_CLEAR", FIX, (NX, 1, 6, 43, 16, 0, 0)),
    A("NXAST_ENCAP", VAR, (NX, 4, 6, 46, 16, 0, 0)),
    A("NXAST_DECAP", VAR, (NX, 4, 6, 47, 16, 0, 0)),
    A("NXAST_DEC_NSH_TTL", FIX, (NX, 4, 6, 48, 16, 0, 0)),
    A("NXAST_CHECK_PKT_LARGER", VAR, (NX, 1, 6, 49, 24, 0, 0)),
    A("NXAST_DELETE_FIELD", FIX, (NX, 1, 6, 50, 24, 0, 0)),
    A("NXAST_DEBUG_SLOW", FIX, (NX, 1, 6, 254, 16, 0, 0)),
    A("NXAST_DEBUG_RECIRC", FIX, (NX, 1, 6, 255, 16, 0, 0)),
)

INSTANCES: Final[tuple[RawInstance, ...]] = tuple(i for row in _ROWS for i in row)
RAW_NAMES: Final[frozenset[str]] = frozenset(i.name for i in INSTANCES)

_DECODE: Final[dict[tuple[int, int, int], RawInstance]] = {
    (i.vendor, i.type, v): i for i in INSTANCES for v in range(i.min_version, i.max_version + 1)
}
_ENCODE: Final[dict[tuple[str, int], RawInstance]] = {
    (i.name, v): i for i in INSTANCES for v in range(i.min_version, i.max_version + 1)
}


def pull_raw(data: memoryview, pos: int, version: int) -> tuple[RawInstance, int, int]:
    """Identify the action at ``data[pos:]``: (instance, its length, its integer arg)."""
    avail = len(data) - pos
    if avail < 8:
        raise OFError(OFPErr.OFPBAC_BAD_LEN, "truncated action header")
    type_, length = ACTION_HEADER.unpack_from(data, pos)
    if type_ == OFPAT_VENDOR:
        vendor = struct.unpack_from("!I", data, pos + 4)[0]
        if vendor not in (NX_VENDOR_ID, ONF_VENDOR_ID):
            raise OFError(OFPErr.OFPBAC_BAD_VENDOR, f"action vendor {vendor:#x}")
        if avail < 16:
            raise OFError(OFPErr.OFPBAC_BAD_LEN, "truncated extension action header")
        type_ = struct.unpack_from("!H", data, pos + 8)[0]
    else:
        vendor = 0
    inst = _DECODE.get((vendor, type_, version))
    if inst is None:
        raise OFError(OFPErr.OFPBAC_BAD_VENDOR_TYPE if vendor else OFPErr.OFPBAC_BAD_TYPE,
                      f"unknown action type {type_} (vendor {vendor:#x})")
    if length > avail or not inst.length <= length <= inst.max_length or length % 8:
        raise OFError(OFPErr.OFPBAC_BAD_LEN, f"{inst.name} with length {length}")
    arg = int.from_bytes(data[pos + inst.arg_ofs:pos + inst.arg_ofs + inst.arg_len], "big")
    return inst, length, arg


def put_raw(name: str, version: int, arg: int = 0) -> bytearray:
    """A zeroed ``name`` action for ``version`` with header and argument filled in."""
    inst = _ENCODE.get((name, version))
    if inst is None:
        raise ValueError(f"{name} has no encoding in version {version}")
    out = bytearray(inst.length)
    if inst.vendor:
        EXT_HEADER.pack_into(out, 0, OFPAT_VENDOR, inst.length, inst.vendor, inst.type)
    else:
        ACTION_HEADER.pack_into(out, 0, inst.type, inst.length)
    if inst.arg_len:
        out[inst.arg_ofs:inst.arg_ofs + inst.arg_len] = arg.to_bytes(inst.arg_len, "big")
    return out


def has_encoding(name: str, version: int) -> bool:
    return (name, version) in _ENCODE


def pad_action(out: bytearray, start: int) -> None:
    """OVS ``pad_ofpat``: pad the action at ``out[start:]`` to 8 bytes and set its length."""
    out += bytes(-(len(out) - start) % 8)
    struct.pack_into("!H", out, start + 2, len(out) - start)
