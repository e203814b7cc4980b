"""OpenFlow properties (TLVs padded to 8 bytes), as OVS's ``ofp-prop.c``.

OpenFlow 1.4+ messages and several Nicira actions carry lists of properties:
a 16-bit type and length, the payload, and padding to a multiple of 8.  A
type of 0xffff (or above ``min_exp``) is an experimenter property with a
32-bit experimenter id and experimenter type; OVS folds those into one
64-bit type, ``experimenter << 32 | exp_type``, and so do we.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Final

from .errors import OFError, OFPErr

PROP_HEADER: Final = struct.Struct("!HH")
PROP_EXPERIMENTER: Final = struct.Struct("!HHII")


def pull_props(data: memoryview | bytes, alignment: int = 8,
               min_exp: int = 0xFFFF) -> Iterator[tuple[int, memoryview]]:
    """Each (type, payload) of a property list (OVS ``ofpprop_pull__``)."""
    view = memoryview(data)
    pos = 0
    while pos < len(view):
        if len(view) - pos < 4:
            raise OFError(OFPErr.OFPBPC_BAD_LEN, "truncated property header")
        type_, length = PROP_HEADER.unpack_from(view, pos)
        padded = (length + alignment - 1) // alignment * alignment
        if length < 4 or pos + padded > len(view):
            raise OFError(OFPErr.OFPBPC_BAD_LEN, f"property length {length}")
        if type_ < min_exp:
            yield type_, view[pos + 4:pos + length]
        else:
            if length < 12:
                raise OFError(OFPErr.OFPBPC_BAD_LEN, "experimenter property too short")
            _, _, experimenter, exp_type = PROP_EXPERIMENTER.unpack_from(view, pos)
            if not experimenter:
                raise OFError(OFPErr.OFPBPC_BAD_EXPERIMENTER, "experimenter 0")
            yield experimenter << 32 | exp_type, view[pos + 12:pos + length]
        pos += padded


def put_prop(type_: int, payload: bytes) -> bytes:
    """One property, padded (OVS ``ofpprop_put``)."""
    if type_ > 0xFFFF:
        head = PROP_EXPERIMENTER.pack(0xFFFF, 12 + len(payload), type_ >> 32,
                                      type_ & 0xFFFFFFFF)
    else:
        head = PROP_HEADER.pack(type_, 4 + len(payload))
    out = head + payload
    return out + bytes(-len(out) % 8)


def put_u16(type_: int, value: int) -> bytes:
    """OVS ``ofpprop_put_u16``: the value padded to 4 bytes for standard properties."""
    return put_prop(type_, struct.pack("!H2x", value) if type_ <= 0xFFFF
                    else struct.pack("!H", value))


def put_u32(type_: int, value: int) -> bytes:
    return put_prop(type_, struct.pack("!I", value))


def parse_u16(payload: memoryview) -> int:
    if len(payload) < 2:
        raise OFError(OFPErr.OFPBPC_BAD_LEN, "u16 property")
    return int(struct.unpack_from("!H", payload)[0])


def parse_u8(payload: memoryview) -> int:
    if len(payload) < 1:
        raise OFError(OFPErr.OFPBPC_BAD_LEN, "u8 property")
    return int(payload[0])


def parse_u32(payload: memoryview) -> int:
    if len(payload) != 4:
        raise OFError(OFPErr.OFPBPC_BAD_LEN, "u32 property")
    return int(struct.unpack_from("!I", payload)[0])


def parse_u64(payload: memoryview) -> int:
    """OVS ``ofpprop_parse_be64``: the value sits 8-byte aligned, after 4 bytes of padding."""
    if len(payload) != 12:
        raise OFError(OFPErr.OFPBPC_BAD_LEN, "u64 property")
    return int(struct.unpack_from("!Q", payload, 4)[0])


def parse_nested(payload: memoryview) -> memoryview:
    """OVS ``ofpprop_parse_nested``: nested properties start 8-byte aligned."""
    if len(payload) < 4:
        raise OFError(OFPErr.OFPBPC_BAD_LEN, "nested property")
    return payload[4:]


def put_u8(type_: int, value: int) -> bytes:
    return put_prop(type_, bytes([value]))


def put_u64(type_: int, value: int) -> bytes:
    return put_prop(type_, struct.pack("!4xQ", value))


def put_nested(type_: int, nested: bytes) -> bytes:
    """OVS ``ofpprop_put_nested``: 4 bytes of padding keep the contents aligned."""
    return put_prop(type_, bytes(4) + nested)
