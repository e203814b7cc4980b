"""Bundles: OFPT14_BUNDLE_CONTROL and OFPT14_BUNDLE_ADD_MESSAGE (and ONF's 1.3 forms).

A bundle groups messages a switch applies together (``ovs-ofctl --bundle``):
the controller opens bundle N with a BUNDLE_CONTROL OPEN_REQUEST, wraps each
message in a BUNDLE_ADD_MESSAGE (same xid as the message inside), and ends
with a COMMIT_REQUEST (or DISCARD_REQUEST); the switch answers each control
request with the matching ``*_REPLY`` type.  OpenFlow 1.4 and 1.5 use the
standard types 33 and 34; OpenFlow 1.3 has the same bodies as ONF
extensions 2300 and 2301 (``ONFT13_*``; ``msgtable`` has both raws).

Both bodies start with ``ofp14_bundle_ctrl_msg`` (bundle_id, type, flags).
A control message may carry properties after it, which OVS ignores; they are
kept as bytes so that re-encoding is exact.  An add message's type field is
padding, then comes the whole inner message.

Decoding checks what OVS's ``ofputil_decode_bundle_add`` checks, in its
order: an inner header at all (``OFPBFC_MSG_BAD_LEN``), the same version as
the outer message (``OFPBFC_BAD_VERSION``), a sane inner length
(``OFPBFC_MSG_BAD_LEN``), the same xid (``OFPBFC_MSG_BAD_XID``) and a
bundlable type (``OFPBFC_MSG_UNSUP``).  The xid is in the outer header, which
body decoders do not see, so the last two run in ``check_bundle_add`` -- the
printer calls it with the header's xid, as ``ofp-print`` decodes.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .codec import Body, FormatContext, MsgCodec
from .errors import OFError, OFPErr
from .msgtable import Raw

BUNDLE_CTRL: Final = struct.Struct("!IHH")
"""bundle_id, type (padding in an add message), flags."""
OFP_HEADER: Final = struct.Struct("!BBHI")
"""version, type, length, xid: the inner message's header."""


class BundleCtrlType(enum.IntEnum):
    """``enum ofp14_bundle_ctrl_type``."""

    OPEN_REQUEST = 0
    OPEN_REPLY = 1
    CLOSE_REQUEST = 2
    CLOSE_REPLY = 3
    COMMIT_REQUEST = 4
    COMMIT_REPLY = 5
    DISCARD_REQUEST = 6
    DISCARD_REPLY = 7


class BundleFlags(enum.IntFlag):
    """``OFPBF_*``."""

    ATOMIC = 1 << 0
    ORDERED = 1 << 1


_FLAG_NAMES: Final = ((BundleFlags.ATOMIC, "atomic"), (BundleFlags.ORDERED, "ordered"))
# OVS's ofputil_is_bundlable: what a bundle may carry.
BUNDLABLE: Final = frozenset({"PORT_MOD", "FLOW_MOD", "GROUP_MOD", "PACKET_OUT"})


@dataclass(frozen=True, slots=True)
class BundleCtrl(Body):
    """OFPT14_BUNDLE_CONTROL / ONFT13_BUNDLE_CONTROL (``ofputil_bundle_ctrl_msg``)."""

    bundle_id: int = 0
    type: int = BundleCtrlType.OPEN_REQUEST
    """A ``BundleCtrlType``; unknown values are kept (and printed as nothing)."""
    flags: int = 0
    """``BundleFlags`` bits, unknown bits kept."""
    properties: bytes = b""
    """Property list after the fixed part, as received (OVS ignores it)."""


@dataclass(frozen=True, slots=True)
class BundleAdd(Body):
    """OFPT14_BUNDLE_ADD_MESSAGE / ONFT13_BUNDLE_ADD_MESSAGE (``ofputil_bundle_add_msg``)."""

    bundle_id: int = 0
    flags: int = 0
    message: bytes = b""
    """The whole inner message, header included; its xid must be the outer one."""
    pad: int = 0
    """The unused type field, as received."""
    trailer: bytes = b""
    """Bytes after the inner message's length, as received."""


def _decode_ctrl(version: int, raw: Raw, b: memoryview) -> Body:
    bundle_id, type_, flags = BUNDLE_CTRL.unpack_from(b)
    return BundleCtrl(bundle_id, type_, flags, bytes(b[BUNDLE_CTRL.size:]))


def _encode_ctrl(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, BundleCtrl)
    return BUNDLE_CTRL.pack(body.bundle_id, body.type, body.flags) + body.properties


def _decode_add(version: int, raw: Raw, b: memoryview) -> Body:
    bundle_id, pad, flags = BUNDLE_CTRL.unpack_from(b)
    inner = b[BUNDLE_CTRL.size:]
    if len(inner) < OFP_HEADER.size:
        raise OFError(OFPErr.OFPBFC_MSG_BAD_LEN, "no inner message")
    inner_version, _, inner_len, _ = OFP_HEADER.unpack_from(inner)
    if inner_version != version:
        raise OFError(OFPErr.OFPBFC_BAD_VERSION, f"inner version {inner_version}")
    if inner_len < OFP_HEADER.size or inner_len > len(inner):
        raise OFError(OFPErr.OFPBFC_MSG_BAD_LEN, f"inner length {inner_len}")
    return BundleAdd(bundle_id, flags, bytes(inner[:inner_len]), pad,
                     bytes(inner[inner_len:]))


def _encode_add(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, BundleAdd)
    return BUNDLE_CTRL.pack(body.bundle_id, body.pad, body.flags) + body.message + body.trailer


def check_bundle_add(body: BundleAdd, xid: int) -> str:
    """The checks after decoding that need the outer xid; returns the inner type.

    ``OFError`` ``OFPBFC_MSG_BAD_XID`` or ``OFPBFC_MSG_UNSUP`` as OVS.
    """
    from .header import decode_header
    if OFP_HEADER.unpack_from(body.message)[3] != xid:
        raise OFError(OFPErr.OFPBFC_MSG_BAD_XID, "inner xid differs")
    try:
        ofptype = decode_header(body.message).raw.ofptype
    except OFError:
        raise OFError(OFPErr.OFPBFC_MSG_UNSUP, "inner message unparsable") from None
    if ofptype not in BUNDLABLE:
        raise OFError(OFPErr.OFPBFC_MSG_UNSUP, f"{ofptype} not allowed in a bundle")
    return ofptype


def _flags_text(flags: int) -> str:
    """``ofp_print_bit_names`` with the bundle flag names, separated by spaces."""
    if not flags:
        return "0"
    names = []
    for flag, name in _FLAG_NAMES:
        bit = int(flag)  # IntFlag's ~ would drop the unknown bits too
        if flags & bit:
            names.append(name)
            flags &= ~bit
    if flags:
        names.append(f"0x{flags:x}")
    return " ".join(names)


def _hex_id(bundle_id: int) -> str:
    # C's "%#x": no prefix for zero.
    return f"{bundle_id:#x}" if bundle_id else "0"


def _format_ctrl(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, BundleCtrl)
    try:
        type_name = BundleCtrlType(body.type).name
    except ValueError:
        type_name = ""
    return (f"\n bundle_id={_hex_id(body.bundle_id)} type={type_name}"
            f" flags={_flags_text(body.flags)}")


def _format_add(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, BundleAdd)
    from .ofprint import ofp_to_string
    check_bundle_add(body, ctx.xid)
    inner = ofp_to_string(body.message, ctx.verbosity, ctx.port_names, ctx.table_names)
    return (f"\n bundle_id={_hex_id(body.bundle_id)} flags={_flags_text(body.flags)}\n"
            + inner)


_CTRL: Final = MsgCodec(_decode_ctrl, _encode_ctrl, _format_ctrl)
_ADD: Final = MsgCodec(_decode_add, _encode_add, _format_add)

CODECS: Final[dict[str, MsgCodec]] = {
    "OFPT14_BUNDLE_CONTROL": _CTRL,
    "ONFT13_BUNDLE_CONTROL": _CTRL,
    "OFPT14_BUNDLE_ADD_MESSAGE": _ADD,
    "ONFT13_BUNDLE_ADD_MESSAGE": _ADD,
}


def _raw(name: str) -> Callable[[int], str]:
    return lambda v: f"ONFT13_{name}" if v == 4 else f"OFPT14_{name}"


DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {
    BundleCtrl: _raw("BUNDLE_CONTROL"),
    BundleAdd: _raw("BUNDLE_ADD_MESSAGE"),
}

__all__ = ["BUNDLABLE", "BundleAdd", "BundleCtrl", "BundleCtrlType", "BundleFlags",
           "check_bundle_add"]
