"""Session-level messages: hello, error, echo, config, barrier, role, NX settings.

These are the messages a connection exchanges around the real work: version
negotiation (``Hello`` with its version bitmap), errors, keep-alives, switch
configuration, barriers, controller roles, asynchronous-message masks and the
Nicira "set" messages ovs-ofctl sends before NXM flow mods.  Bodies are
version independent; wire details follow ``openflow-common.h``,
``openflow-1.2.h``/``1.4.h`` and ``nicira-ext.h``, and the checks on decode
are OVS's (``OFPRRFC_BAD_ROLE`` for an unknown role, ``OFPSCFC_BAD_FLAGS``
for unknown config flags...).  Each body's ``format`` is what ovs-ofctl
prints after the message's header line.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .codec import Body, FormatContext, MsgCodec
from .dstext import hex_dump, printable
from .errors import (
    NXET_VENDOR,
    NXVC_VENDOR_ERROR,
    OFPET_EXPERIMENTER,
    OFError,
    OFPErr,
    decode_triplet,
    triplet,
)
from .msgtable import Raw

# --- hello ---------------------------------------------------------------------

OFPHET_VERSIONBITMAP: Final = 1
HELLO_ELEM: Final = struct.Struct("!HH")
"""type, length of one hello element."""


@dataclass(frozen=True, slots=True)
class Hello(Body):
    """OFPT_HELLO: the sender's highest version (header) plus optional elements."""

    elements: bytes = b""
    """The raw hello elements (usually one version bitmap)."""

    @classmethod
    def for_versions(cls, versions: int) -> tuple[int, Hello]:
        """(header version, hello) announcing the version bitmap ``versions``.

        As OVS ``ofputil_encode_hello``: the header carries the highest
        version, and a bitmap element is added only if the set is not simply
        1..highest.
        """
        top = versions.bit_length() - 1
        if ((versions >> 1) + 1) & (versions >> 1):
            elem = HELLO_ELEM.pack(OFPHET_VERSIONBITMAP, 8) + struct.pack("!I", versions)
            return top, cls(elem)
        return top, cls()

    def versions(self, header_version: int) -> tuple[int, bool]:
        """(bitmap of versions the peer allows, whether every element was understood)."""
        allowed = (((1 << header_version) if header_version < 32 else 0) - 1) << 1
        allowed &= 0xFFFFFFFF
        ok = True
        data = self.elements
        pos = 0
        while pos < len(data):
            if len(data) - pos < 4:
                return allowed, False
            type_, length = HELLO_ELEM.unpack_from(data, pos)
            padded = (length + 7) // 8 * 8
            if length < 4 or pos + padded > len(data):
                return allowed, False
            bitmap_len = length - 4
            if type_ != OFPHET_VERSIONBITMAP or not bitmap_len or bitmap_len % 4:
                ok = False
            else:
                bitmap = struct.unpack_from("!I", data, pos + 4)[0] & ~1
                if bitmap:
                    allowed = bitmap
                else:
                    ok = False
            pos += padded
        return allowed, ok


def _format_hello(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, Hello)
    allowed, ok = body.versions(ctx.version)
    versions = ", ".join(f"0x{v:02x}" for v in range(32) if allowed >> v & 1)
    text = "\n version bitmap: " + versions
    if not ok:
        header = struct.pack("!BBHI", ctx.version, 0, 8 + len(body.elements), ctx.xid)
        text += "\n unknown data in hello:\n" + hex_dump(header + body.elements)
    return text


# --- error -----------------------------------------------------------------------

OFP_ERROR: Final = struct.Struct("!HH")
"""type, code."""
NX_VENDOR_ERROR: Final = struct.Struct("!IHH")
"""vendor, type, code (OpenFlow 1.0/1.1 Nicira vendor error)."""


@dataclass(frozen=True, slots=True)
class ErrorMsg(Body):
    """OFPT_ERROR, as it appears on the wire plus the OFPERR it means."""

    type: int
    """ofp_error_msg type (0xb0c2 for a Nicira vendor error, 0xffff experimenter)."""
    code: int
    """ofp_error_msg code (the exp_type for experimenter errors)."""
    data: bytes = b""
    """What follows: usually the start of the offending message."""
    vendor: int = 0
    """Experimenter/vendor id for extension errors, else 0."""
    vendor_type: int = 0
    """Nicira vendor error's own type (OpenFlow 1.0/1.1 only)."""
    vendor_code: int = 0
    """Nicira vendor error's own code (OpenFlow 1.0/1.1 only)."""

    def error(self, version: int) -> OFPErr | None:
        """The OVS error this encodes in ``version`` (OVS ``ofperr_decode_msg``)."""
        if self.type == NXET_VENDOR and self.code == NXVC_VENDOR_ERROR:
            return decode_triplet(version, self.vendor, self.vendor_type, self.vendor_code)
        if self.type == OFPET_EXPERIMENTER:
            return decode_triplet(version, self.vendor, self.code, 0)
        return decode_triplet(version, 0, self.type, self.code)

    @classmethod
    def for_error(cls, err: OFPErr, version: int, data: bytes = b"") -> ErrorMsg:
        """The error message OVS sends for ``err`` (OVS ``ofperr_encode_msg__``)."""
        t = triplet(err, version) or triplet(OFPErr.NXBRC_UNENCODABLE_ERROR, version)
        if t is None:
            t = triplet(OFPErr.NXBRC_UNENCODABLE_ERROR, 1)
            assert t is not None
        if not t.vendor:
            return cls(t.type, t.code, data)
        if version <= 2:
            return cls(NXET_VENDOR, NXVC_VENDOR_ERROR, data, t.vendor, t.type, t.code)
        return cls(OFPET_EXPERIMENTER, t.type, data, t.vendor)


def _decode_error(version: int, raw: Raw, b: memoryview) -> Body:
    type_, code = OFP_ERROR.unpack_from(b, 0)
    rest = bytes(b[4:])
    if type_ == NXET_VENDOR and code == NXVC_VENDOR_ERROR and len(rest) >= 8:
        vendor, vtype, vcode = NX_VENDOR_ERROR.unpack_from(rest, 0)
        return ErrorMsg(type_, code, rest[8:], vendor, vtype, vcode)
    if type_ == OFPET_EXPERIMENTER and len(rest) >= 4:
        return ErrorMsg(type_, code, rest[4:], struct.unpack_from("!I", rest)[0])
    return ErrorMsg(type_, code, rest)


def _encode_error(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, ErrorMsg)
    out = OFP_ERROR.pack(body.type, body.code)
    if body.type == NXET_VENDOR and body.code == NXVC_VENDOR_ERROR:
        out += NX_VENDOR_ERROR.pack(body.vendor, body.vendor_type, body.vendor_code)
    elif body.type == OFPET_EXPERIMENTER:
        out += struct.pack("!I", body.vendor)
    return out + body.data


def _format_error(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, ErrorMsg)
    err = body.error(ctx.version)
    if err is None:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "undecodable error message")
    text = f" {err.name}\n"
    if err in (OFPErr.OFPHFC_INCOMPATIBLE, OFPErr.OFPHFC_EPERM):
        return text + printable(body.data)
    from .ofprint import ofp_to_string  # the payload is itself a message
    return text + ofp_to_string(body.data, 1, ctx.port_names, ctx.table_names)


# --- echo --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class EchoRequest(Body):
    """OFPT_ECHO_REQUEST: arbitrary payload to be echoed."""

    data: bytes = b""


@dataclass(frozen=True, slots=True)
class EchoReply(Body):
    """OFPT_ECHO_REPLY: the request's payload."""

    data: bytes = b""


def _format_echo(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, (EchoRequest, EchoReply))
    text = f" {len(body.data)} bytes of payload\n"
    if ctx.verbosity > 1:
        text += hex_dump(body.data)
    return text


# --- empty bodies --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FeaturesRequest(Body):
    """OFPT_FEATURES_REQUEST."""


@dataclass(frozen=True, slots=True)
class GetConfigRequest(Body):
    """OFPT_GET_CONFIG_REQUEST."""


@dataclass(frozen=True, slots=True)
class BarrierRequest(Body):
    """OFPT_BARRIER_REQUEST (type 18 in 1.0, 20 later)."""


@dataclass(frozen=True, slots=True)
class BarrierReply(Body):
    """OFPT_BARRIER_REPLY."""


@dataclass(frozen=True, slots=True)
class GetAsyncRequest(Body):
    """OFPT_GET_ASYNC_REQUEST (OpenFlow 1.3+)."""


@dataclass(frozen=True, slots=True)
class DescRequest(Body):
    """OFPST_DESC request."""


@dataclass(frozen=True, slots=True)
class TableStatsRequest(Body):
    """OFPST_TABLE request."""


@dataclass(frozen=True, slots=True)
class TableDescRequest(Body):
    """OFPST_TABLE_DESC request (OpenFlow 1.4+)."""


@dataclass(frozen=True, slots=True)
class GroupFeaturesRequest(Body):
    """OFPST_GROUP_FEATURES request (NXST in OpenFlow 1.0/1.1)."""


@dataclass(frozen=True, slots=True)
class MeterFeaturesRequest(Body):
    """OFPST_METER_FEATURES request (OpenFlow 1.3+)."""


@dataclass(frozen=True, slots=True)
class TableFeaturesRequest(Body):
    """OFPST_TABLE_FEATURES request: empty to ask, or table features to set.

    The features are kept as their wire bytes: pyovs does not decode table
    features yet.
    """

    data: bytes = b""


# --- switch config -------------------------------------------------------------------

SWITCH_CONFIG: Final = struct.Struct("!HH")
"""flags, miss_send_len."""
OFPC_FRAG_MASK: Final = 3
OFPC_INVALID_TTL_TO_CONTROLLER: Final = 4
FRAG_NAMES: Final = ("normal", "drop", "reassemble", "nx-match")


@dataclass(frozen=True, slots=True)
class SwitchConfig(Body):
    """OFPT_GET_CONFIG_REPLY / OFPT_SET_CONFIG."""

    flags: int
    """OFPC_* flags: fragment handling (low 2 bits), invalid-TTL (1.0-1.2)."""
    miss_send_len: int
    """Bytes of a table-miss packet to send to the controller."""


def _decode_config(version: int, raw: Raw, b: memoryview) -> Body:
    flags, miss = SWITCH_CONFIG.unpack_from(b)
    valid = OFPC_FRAG_MASK | (OFPC_INVALID_TTL_TO_CONTROLLER if version < 4 else 0)
    if raw.name == "OFPT_SET_CONFIG" and flags & ~valid:
        raise OFError(OFPErr.OFPSCFC_BAD_FLAGS, f"flags {flags:#x}")
    return SwitchConfig(flags, miss)


def _encode_config(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, SwitchConfig)
    return SWITCH_CONFIG.pack(body.flags, body.miss_send_len)


def _format_config(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, SwitchConfig)
    text = f" frags={FRAG_NAMES[body.flags & OFPC_FRAG_MASK]}"
    if ctx.version < 4 and body.flags & OFPC_INVALID_TTL_TO_CONTROLLER:
        text += " invalid_ttl_to_controller"
    return text + f" miss_send_len={body.miss_send_len}\n"


# --- roles -------------------------------------------------------------------------------

ROLE_REQUEST: Final = struct.Struct("!I4xQ")
"""role, pad, generation_id (ofp12_role_request)."""
ROLE_STATUS: Final = struct.Struct("!IB3xQ")
"""role, reason, pad, generation_id (ofp14_role_status)."""
ROLE_NAMES: Final = ("nochange", "equal", "primary", "secondary")
ROLE_REASONS: Final = ("primary_request", "configuration_changed", "experimenter_data_changed")
NO_GENERATION_ID: Final = 2**64 - 1


@dataclass(frozen=True, slots=True)
class RoleRequest(Body):
    """OFPT_ROLE_REQUEST/REPLY (1.2+) or NXT_ROLE_REQUEST/REPLY; role in 1.2+ terms."""

    role: int
    """0 nochange, 1 equal, 2 primary, 3 secondary (OFPCR12_ROLE_*)."""
    generation_id: int = NO_GENERATION_ID
    """Generation id; 2**64-1 means none."""


@dataclass(frozen=True, slots=True)
class RoleReply(Body):
    """The reply to a role request."""

    role: int
    generation_id: int = NO_GENERATION_ID


def _decode_role(version: int, raw: Raw, b: memoryview) -> Body:
    cls: type[RoleRequest] | type[RoleReply] = RoleRequest if "REQUEST" in raw.name else RoleReply
    if raw.family.value == "NXT":
        role = struct.unpack_from("!I", b)[0]
        if role > 2:
            raise OFError(OFPErr.OFPRRFC_BAD_ROLE, f"role {role}")
        return cls(role + 1)
    role, generation_id = ROLE_REQUEST.unpack_from(b)
    if role > 3:
        raise OFError(OFPErr.OFPRRFC_BAD_ROLE, f"role {role}")
    return cls(role, generation_id)


def _encode_role(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, (RoleRequest, RoleReply))
    if raw.family.value == "NXT":
        return struct.pack("!I", body.role - 1)
    return ROLE_REQUEST.pack(body.role, body.generation_id)


def _format_role(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, (RoleRequest, RoleReply))
    gen = body.generation_id
    if isinstance(body, RoleRequest) and body.role == 0:
        gen = NO_GENERATION_ID
    text = f" role={ROLE_NAMES[body.role]}"
    if gen != NO_GENERATION_ID and ctx.raw.family.value != "NXT":
        text += f" generation_id={gen}"
    return text


@dataclass(frozen=True, slots=True)
class RoleStatus(Body):
    """OFPT_ROLE_STATUS (1.4+; ONF extension in 1.3)."""

    role: int
    reason: int
    generation_id: int
    properties: bytes = b""


def _decode_role_status(version: int, raw: Raw, b: memoryview) -> Body:
    role, reason, gen = ROLE_STATUS.unpack_from(b)
    if role > 3:
        raise OFError(OFPErr.OFPRRFC_BAD_ROLE, f"role {role}")
    return RoleStatus(role, reason, gen, bytes(b[16:]))


def _encode_role_status(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, RoleStatus)
    return ROLE_STATUS.pack(body.role, body.reason, body.generation_id) + body.properties


def _format_role_status(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, RoleStatus)
    text = f" role={ROLE_NAMES[body.role]}"
    if body.generation_id != NO_GENERATION_ID:
        text += f" generation_id={body.generation_id}"
    reason = ROLE_REASONS[body.reason] if body.reason < 3 else "(unknown)"
    return text + f" reason={reason}"


# --- Nicira settings ------------------------------------------------------------------------

NXFF_OPENFLOW10: Final = 0
NXFF_NXM: Final = 2
PACKET_IN_FORMATS: Final = ("standard", "nxt_packet_in", "nxt_packet_in2")


@dataclass(frozen=True, slots=True)
class SetFlowFormat(Body):
    """NXT_SET_FLOW_FORMAT: 0 = OpenFlow 1.0 match, 2 = NXM."""

    format: int


@dataclass(frozen=True, slots=True)
class FlowModTableId(Body):
    """NXT_FLOW_MOD_TABLE_ID: whether flow_mod commands carry a table id."""

    enable: bool


@dataclass(frozen=True, slots=True)
class SetPacketInFormat(Body):
    """NXT_SET_PACKET_IN_FORMAT: 0 standard, 1 nxt_packet_in, 2 nxt_packet_in2."""

    format: int


@dataclass(frozen=True, slots=True)
class SetControllerId(Body):
    """NXT_SET_CONTROLLER_ID."""

    controller_id: int


@dataclass(frozen=True, slots=True)
class CtFlushZone(Body):
    """NXT_CT_FLUSH_ZONE: flush one conntrack zone."""

    zone_id: int


def _decode_set_flow_format(version: int, raw: Raw, b: memoryview) -> Body:
    return SetFlowFormat(struct.unpack_from("!I", b)[0])


def _encode_u32_format(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, (SetFlowFormat, SetPacketInFormat))
    return struct.pack("!I", body.format)


def _format_set_flow_format(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, SetFlowFormat)
    name = {NXFF_OPENFLOW10: "openflow10", NXFF_NXM: "nxm"}.get(body.format, "(unknown)")
    return f" format={name}"


def _decode_set_packet_in_format(version: int, raw: Raw, b: memoryview) -> Body:
    fmt = struct.unpack_from("!I", b)[0]
    if fmt > 2:
        raise OFError(OFPErr.OFPBRC_EPERM, f"packet-in format {fmt}")
    return SetPacketInFormat(fmt)


def _format_set_packet_in_format(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, SetPacketInFormat)
    return f" format={PACKET_IN_FORMATS[body.format]}"


def _decode_table_id(version: int, raw: Raw, b: memoryview) -> Body:
    return FlowModTableId(bool(b[0]))


def _encode_table_id(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, FlowModTableId)
    return bytes([int(body.enable)]) + bytes(7)


def _format_table_id(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, FlowModTableId)
    return " enable" if body.enable else " disable"


NX_ZERO6_U16: Final = struct.Struct("!6xH")
"""nx_controller_id / nx_zone_id: six zero bytes, then a 16-bit id."""


def _decode_controller_id(version: int, raw: Raw, b: memoryview) -> Body:
    return SetControllerId(NX_ZERO6_U16.unpack_from(b)[0])


def _encode_controller_id(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, SetControllerId)
    return NX_ZERO6_U16.pack(body.controller_id)


def _format_controller_id(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, SetControllerId)
    return f" id={body.controller_id}"


def _decode_flush_zone(version: int, raw: Raw, b: memoryview) -> Body:
    return CtFlushZone(NX_ZERO6_U16.unpack_from(b)[0])


def _encode_flush_zone(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, CtFlushZone)
    return NX_ZERO6_U16.pack(body.zone_id)


def _format_flush_zone(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, CtFlushZone)
    return f" zone_id={body.zone_id}"


def _decode_hello(version: int, raw: Raw, b: memoryview) -> Body:
    return Hello(bytes(b))


def _encode_hello(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, Hello)
    return body.elements


def _decode_echo_request(version: int, raw: Raw, b: memoryview) -> Body:
    return EchoRequest(bytes(b))


def _decode_echo_reply(version: int, raw: Raw, b: memoryview) -> Body:
    return EchoReply(bytes(b))


def _encode_echo(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, (EchoRequest, EchoReply))
    return body.data


def _empty(cls: Callable[[], Body]) -> MsgCodec:
    """A codec for a message whose body is empty."""
    def dec(version: int, raw: Raw, b: memoryview) -> Body:
        return cls()

    def enc(body: Body, version: int, raw: Raw) -> bytes:
        return b""
    return MsgCodec(dec, enc)


_ROLE: Final = MsgCodec(_decode_role, _encode_role, _format_role)

CODECS: Final[dict[str, MsgCodec]] = {
    "OFPT_HELLO": MsgCodec(_decode_hello, _encode_hello, _format_hello),
    "OFPT_ERROR": MsgCodec(_decode_error, _encode_error, _format_error),
    "OFPT_ECHO_REQUEST": MsgCodec(_decode_echo_request, _encode_echo, _format_echo),
    "OFPT_ECHO_REPLY": MsgCodec(_decode_echo_reply, _encode_echo, _format_echo),
    "OFPT_FEATURES_REQUEST": _empty(FeaturesRequest),
    "OFPT_GET_CONFIG_REQUEST": _empty(GetConfigRequest),
    "OFPT_GET_CONFIG_REPLY": MsgCodec(_decode_config, _encode_config, _format_config),
    "OFPT_SET_CONFIG": MsgCodec(_decode_config, _encode_config, _format_config),
    "OFPT10_BARRIER_REQUEST": _empty(BarrierRequest),
    "OFPT11_BARRIER_REQUEST": _empty(BarrierRequest),
    "OFPT10_BARRIER_REPLY": _empty(BarrierReply),
    "OFPT11_BARRIER_REPLY": _empty(BarrierReply),
    "OFPT12_ROLE_REQUEST": _ROLE,
    "OFPT12_ROLE_REPLY": _ROLE,
    "NXT_ROLE_REQUEST": _ROLE,
    "NXT_ROLE_REPLY": _ROLE,
    "OFPT14_ROLE_STATUS": MsgCodec(_decode_role_status, _encode_role_status,
                                   _format_role_status),
    "ONFT13_ROLE_STATUS": MsgCodec(_decode_role_status, _encode_role_status,
                                   _format_role_status),
    "OFPT13_GET_ASYNC_REQUEST": _empty(GetAsyncRequest),
    "OFPST_DESC_REQUEST": _empty(DescRequest),
    "OFPST_TABLE_REQUEST": _empty(TableStatsRequest),
    "OFPST14_TABLE_DESC_REQUEST": _empty(TableDescRequest),
    "NXST_GROUP_FEATURES_REQUEST": _empty(GroupFeaturesRequest),
    "OFPST12_GROUP_FEATURES_REQUEST": _empty(GroupFeaturesRequest),
    "OFPST13_METER_FEATURES_REQUEST": _empty(MeterFeaturesRequest),
    "OFPST13_TABLE_FEATURES_REQUEST": MsgCodec(
        lambda version, raw, b: TableFeaturesRequest(bytes(b)),
        lambda body, version, raw: body.data if isinstance(body, TableFeaturesRequest) else b""),
    "OFPT14_GET_ASYNC_REQUEST": _empty(GetAsyncRequest),
    "NXT_SET_FLOW_FORMAT": MsgCodec(_decode_set_flow_format, _encode_u32_format,
                                    _format_set_flow_format),
    "NXT_FLOW_MOD_TABLE_ID": MsgCodec(_decode_table_id, _encode_table_id, _format_table_id),
    "NXT_SET_PACKET_IN_FORMAT": MsgCodec(_decode_set_packet_in_format, _encode_u32_format,
                                         _format_set_packet_in_format),
    "NXT_SET_CONTROLLER_ID": MsgCodec(_decode_controller_id, _encode_controller_id,
                                      _format_controller_id),
    "NXT_CT_FLUSH_ZONE": MsgCodec(_decode_flush_zone, _encode_flush_zone, _format_flush_zone),
}


def _barrier_request_raw(version: int) -> str:
    return "OFPT10_BARRIER_REQUEST" if version == 1 else "OFPT11_BARRIER_REQUEST"


DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {
    Hello: lambda v: "OFPT_HELLO",
    ErrorMsg: lambda v: "OFPT_ERROR",
    EchoRequest: lambda v: "OFPT_ECHO_REQUEST",
    EchoReply: lambda v: "OFPT_ECHO_REPLY",
    FeaturesRequest: lambda v: "OFPT_FEATURES_REQUEST",
    GetConfigRequest: lambda v: "OFPT_GET_CONFIG_REQUEST",
    BarrierRequest: _barrier_request_raw,
    BarrierReply: lambda v: "OFPT10_BARRIER_REPLY" if v == 1 else "OFPT11_BARRIER_REPLY",
    RoleRequest: lambda v: "OFPT12_ROLE_REQUEST" if v >= 3 else "NXT_ROLE_REQUEST",
    RoleReply: lambda v: "OFPT12_ROLE_REPLY" if v >= 3 else "NXT_ROLE_REPLY",
    RoleStatus: lambda v: "OFPT14_ROLE_STATUS" if v >= 5 else "ONFT13_ROLE_STATUS",
    DescRequest: lambda v: "OFPST_DESC_REQUEST",
    TableStatsRequest: lambda v: "OFPST_TABLE_REQUEST",
    TableDescRequest: lambda v: "OFPST14_TABLE_DESC_REQUEST",
    GroupFeaturesRequest: lambda v: ("NXST_GROUP_FEATURES_REQUEST" if v <= 2
                                     else "OFPST12_GROUP_FEATURES_REQUEST"),
    MeterFeaturesRequest: lambda v: "OFPST13_METER_FEATURES_REQUEST",
    TableFeaturesRequest: lambda v: "OFPST13_TABLE_FEATURES_REQUEST",
    GetAsyncRequest: lambda v: ("OFPT13_GET_ASYNC_REQUEST" if v == 4
                                else "OFPT14_GET_ASYNC_REQUEST"),
    SetFlowFormat: lambda v: "NXT_SET_FLOW_FORMAT",
    FlowModTableId: lambda v: "NXT_FLOW_MOD_TABLE_ID",
    SetPacketInFormat: lambda v: "NXT_SET_PACKET_IN_FORMAT",
    SetControllerId: lambda v: "NXT_SET_CONTROLLER_ID",
    CtFlushZone: lambda v: "NXT_CT_FLUSH_ZONE",
}
