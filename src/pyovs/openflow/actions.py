"""OpenFlow actions and instructions: values, and the wire codec around them.

Each action is a small frozen dataclass, one per kind of thing OVS can do
(OVS's ``enum ofpact_type``): ``Output``, ``SetField``, ``Resubmit``,
``Ct``...  Several wire forms decode to the same value -- an OpenFlow 1.0
``SET_DL_SRC``, an OpenFlow 1.2 set-field on ``eth_src`` and a Nicira
``reg_load`` into ``NXM_OF_ETH_SRC[]`` are all a change of the Ethernet
source -- but where OVS remembers which form arrived (its ``ofpact->raw``),
so does the value's ``raw`` field, and encoding honours it exactly as OVS
does.  That is what makes ``encode(decode(b)) == b`` hold for the messages
OVS sends, and what makes ``load:`` print as ``load:`` and ``set_field:``
as ``set_field:``.

Instructions (OpenFlow 1.1+) are folded into the same flat list, as OVS
does: ``Meter``, the apply-actions, ``ClearActions``, ``WriteActions``,
``WriteMetadata``, ``GotoTable`` in that order.  In OpenFlow 1.0 the same
list is plain actions (``write_metadata`` becomes a Nicira action,
``goto_table`` a ``resubmit``).

The per-action codecs live in ``act_std`` (standard actions),
``act_field`` (set_field, load, move, push/pop), ``act_nxsimple`` (simple
Nicira actions and the instructions), ``act_nx`` (structured Nicira
actions), ``act_ct`` (conntrack, NAT) and ``act_learn``; each exports
explicit tables that this module merges: raw name -> decoder, action
class -> encoder / formatter, keyword -> parser.  Text is ``act_text``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from .action_table import pull_raw
from .errors import OFError, OFPErr
from .fieldtypes import Field
from .subfield import Subfield


class Action:
    """Base class of every action value."""

    __slots__ = ()


ActionList = tuple[Action, ...]

NX_CTLR_NO_METER: Final = 0xFFFFFFFF
OFPR_ACTION: Final = 1


# --- standard and simple actions ---------------------------------------------

@dataclass(frozen=True, slots=True)
class Output(Action):
    """Send to a port (OpenFlow 1.0 numbering)."""

    port: int
    max_len: int = 0
    """Bytes to send when the port is CONTROLLER."""


@dataclass(frozen=True, slots=True)
class Group(Action):
    group_id: int


@dataclass(frozen=True, slots=True)
class Controller(Action):
    """Send to the controller with a reason, id, userdata or pause (NXAST_CONTROLLER[2])."""

    max_len: int = 0xFFFF
    controller_id: int = 0
    reason: int = OFPR_ACTION
    userdata: bytes = b""
    pause: bool = False
    meter_id: int = NX_CTLR_NO_METER
    raw: str = ""


@dataclass(frozen=True, slots=True)
class Enqueue(Action):
    port: int
    queue: int


@dataclass(frozen=True, slots=True)
class OutputReg(Action):
    """Output to the port number held in a subfield."""

    src: Subfield
    max_len: int = 0xFFFF
    raw: str = ""


@dataclass(frozen=True, slots=True)
class Bundle(Action):
    """Choose one of several ports (``bundle``/``bundle_load``)."""

    algorithm: int
    fields: int
    basis: int
    members: tuple[int, ...]
    dst: Subfield | None = None


@dataclass(frozen=True, slots=True)
class SetField(Action):
    """Set a field (set_field, or Nicira load when ``raw`` says so)."""

    field: Field
    value: int
    mask: int
    raw: str = ""
    flow_has_vlan: bool = False
    """Whether the flow's match guarantees a VLAN header (from ``check_actions``)."""


@dataclass(frozen=True, slots=True)
class SetVlanVid(Action):
    vid: int
    push_vlan_if_needed: bool = False
    """True for ``mod_vlan_vid`` (push a tag if there is none)."""
    flow_has_vlan: bool = False


@dataclass(frozen=True, slots=True)
class SetVlanPcp(Action):
    pcp: int
    push_vlan_if_needed: bool = False
    flow_has_vlan: bool = False


@dataclass(frozen=True, slots=True)
class StripVlan(Action):
    raw: str = ""
    """``OFPAT10_STRIP_VLAN`` (printed strip_vlan) or ``OFPAT11_POP_VLAN`` (pop_vlan)."""


@dataclass(frozen=True, slots=True)
class PushVlan(Action):
    ethertype: int


@dataclass(frozen=True, slots=True)
class SetEthSrc(Action):
    mac: int


@dataclass(frozen=True, slots=True)
class SetEthDst(Action):
    mac: int


@dataclass(frozen=True, slots=True)
class SetIpv4Src(Action):
    ipv4: int


@dataclass(frozen=True, slots=True)
class SetIpv4Dst(Action):
    ipv4: int


@dataclass(frozen=True, slots=True)
class SetIpDscp(Action):
    dscp: int
    """The TOS byte's DSCP bits (a multiple of 4)."""


@dataclass(frozen=True, slots=True)
class SetIpEcn(Action):
    ecn: int


@dataclass(frozen=True, slots=True)
class SetIpTtl(Action):
    ttl: int


@dataclass(frozen=True, slots=True)
class SetL4SrcPort(Action):
    port: int
    flow_ip_proto: int = 0
    """The flow's IP protocol, which picks the set-field in OpenFlow 1.2+."""


@dataclass(frozen=True, slots=True)
class SetL4DstPort(Action):
    port: int
    flow_ip_proto: int = 0


@dataclass(frozen=True, slots=True)
class RegMove(Action):
    src: Subfield
    dst: Subfield
    raw: str = ""


@dataclass(frozen=True, slots=True)
class StackPush(Action):
    subfield: Subfield


@dataclass(frozen=True, slots=True)
class StackPop(Action):
    subfield: Subfield


@dataclass(frozen=True, slots=True)
class DecTtl(Action):
    ids: tuple[int, ...] = (0,)
    """Controller ids to notify when the TTL expires."""
    raw: str = ""


@dataclass(frozen=True, slots=True)
class SetMplsLabel(Action):
    label: int


@dataclass(frozen=True, slots=True)
class SetMplsTc(Action):
    tc: int


@dataclass(frozen=True, slots=True)
class SetMplsTtl(Action):
    ttl: int


@dataclass(frozen=True, slots=True)
class DecMplsTtl(Action):
    pass


@dataclass(frozen=True, slots=True)
class PushMpls(Action):
    ethertype: int


@dataclass(frozen=True, slots=True)
class PopMpls(Action):
    ethertype: int


@dataclass(frozen=True, slots=True)
class DecNshTtl(Action):
    pass


@dataclass(frozen=True, slots=True)
class DeleteField(Action):
    field: Field


@dataclass(frozen=True, slots=True)
class SetTunnel(Action):
    tun_id: int
    raw: str = ""
    """``NXAST_SET_TUNNEL`` (32-bit) or ``NXAST_SET_TUNNEL64``."""


@dataclass(frozen=True, slots=True)
class SetQueue(Action):
    queue_id: int


@dataclass(frozen=True, slots=True)
class PopQueue(Action):
    pass


@dataclass(frozen=True, slots=True)
class FinTimeout(Action):
    idle_timeout: int = 0
    hard_timeout: int = 0


@dataclass(frozen=True, slots=True)
class Resubmit(Action):
    in_port: int
    """Port to pretend the packet came in on (OFPP_IN_PORT: unchanged)."""
    table_id: int = 0xFF
    """Table to search (255: the current one)."""
    with_ct_orig: bool = False
    raw: str = ""


@dataclass(frozen=True, slots=True)
class Conjunction(Action):
    id: int
    clause: int
    n_clauses: int


@dataclass(frozen=True, slots=True)
class Multipath(Action):
    fields: int
    basis: int
    algorithm: int
    max_link: int
    arg: int
    dst: Subfield


@dataclass(frozen=True, slots=True)
class Note(Action):
    data: bytes


@dataclass(frozen=True, slots=True)
class Exit(Action):
    pass


@dataclass(frozen=True, slots=True)
class Sample(Action):
    probability: int
    collector_set_id: int = 0
    obs_domain_id: int = 0
    obs_point_id: int = 0
    sampling_port: int = 0xFFFF
    direction: int = 0
    raw: str = ""


@dataclass(frozen=True, slots=True)
class CtClear(Action):
    pass


@dataclass(frozen=True, slots=True)
class OutputTrunc(Action):
    port: int
    max_len: int


@dataclass(frozen=True, slots=True)
class Clone(Action):
    actions: ActionList = ()


@dataclass(frozen=True, slots=True)
class CheckPktLarger(Action):
    pkt_len: int
    dst: Subfield


@dataclass(frozen=True, slots=True)
class DebugRecirc(Action):
    pass


@dataclass(frozen=True, slots=True)
class DebugSlow(Action):
    pass


# --- instructions ------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Meter(Action):
    meter_id: int


@dataclass(frozen=True, slots=True)
class ClearActions(Action):
    pass


@dataclass(frozen=True, slots=True)
class WriteActions(Action):
    actions: ActionList = ()


@dataclass(frozen=True, slots=True)
class WriteMetadata(Action):
    metadata: int
    mask: int = 2**64 - 1


@dataclass(frozen=True, slots=True)
class GotoTable(Action):
    table_id: int


INSTRUCTION_TYPES: Final = (Meter, ClearActions, WriteActions, WriteMetadata, GotoTable)


# --- codec plumbing ----------------------------------------------------------

Decoder = Callable[[int, memoryview, int], list[Action]]
"""(version, whole action bytes, integer arg) -> actions it means."""
Encoder = Callable[[Action, int], bytes]
"""(action, version) -> wire bytes (may be several actions, or none)."""


@dataclass(frozen=True, slots=True)
class Codecs:
    """Merged per-module tables."""

    decoders: dict[str, Decoder] = field(default_factory=dict)
    encoders: dict[type, Encoder] = field(default_factory=dict)
    formatters: dict[type, Formatter] = field(default_factory=dict)
    parsers: dict[str, Parser] = field(default_factory=dict)


_TABLES = Codecs()


def _tables() -> Codecs:
    if not _TABLES.decoders:
        from . import act_ct, act_field, act_learn, act_nx, act_nxsimple, act_std
        for module in (act_std, act_field, act_nxsimple, act_nx, act_ct, act_learn):
            for name, dec in module.DECODERS.items():
                if name in _TABLES.decoders:
                    raise ValueError(f"two decoders for {name}")
                _TABLES.decoders[name] = dec
            _TABLES.encoders.update(module.ENCODERS)
            _TABLES.formatters.update(module.FORMATTERS)
            _TABLES.parsers.update(module.PARSERS)
    return _TABLES


def tables() -> Codecs:
    """The merged decoder/encoder/formatter/parser tables."""
    return _tables()


def decode_actions(data: bytes | memoryview, version: int) -> ActionList:
    """Actions from their wire form (OVS ``ofpacts_decode``); ``OFError`` if bad."""
    view = memoryview(data)
    if len(view) % 8:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "actions length not a multiple of 8")
    decoders = _tables().decoders
    out: list[Action] = []
    pos = 0
    while pos < len(view):
        inst, length, arg = pull_raw(view, pos, version)
        decoder = decoders.get(inst.name)
        if decoder is None:
            # The debugging actions (accepted by OVS only with --enable-dummy)
            # and encap/decap, which pyovs does not implement.
            raise OFError(OFPErr.OFPBAC_BAD_VENDOR_TYPE if inst.vendor
                          else OFPErr.OFPBAC_BAD_TYPE, f"unsupported action {inst.name}")
        out.extend(decoder(version, view[pos:pos + length], arg))
        pos += length
    return tuple(out)


def encode_actions(actions: ActionList, version: int) -> bytes:
    """The wire form of plain actions (no instructions), as OVS encodes them."""
    encoders = _tables().encoders
    return b"".join(encoders[type(a)](a, version) for a in actions)


# --- instructions (OpenFlow 1.1+) --------------------------------------------

OFPIT_GOTO_TABLE: Final = 1
OFPIT_WRITE_METADATA: Final = 2
OFPIT_WRITE_ACTIONS: Final = 3
OFPIT_APPLY_ACTIONS: Final = 4
OFPIT_CLEAR_ACTIONS: Final = 5
OFPIT_METER: Final = 6
OFPIT_EXPERIMENTER: Final = 0xFFFF
INSTRUCTION: Final = struct.Struct("!HH4x")
"""type, len, pad: apply/write/clear-actions instruction header."""
GOTO_TABLE: Final = struct.Struct("!HHB3x")
WRITE_METADATA: Final = struct.Struct("!HH4xQQ")
METER_INST: Final = struct.Struct("!HHI")
# Instruction type -> (exact size or minimum, extensible).
_INSTRUCTION_SIZES: Final = {
    OFPIT_GOTO_TABLE: (8, False), OFPIT_WRITE_METADATA: (24, False),
    OFPIT_WRITE_ACTIONS: (8, True), OFPIT_APPLY_ACTIONS: (8, True),
    OFPIT_CLEAR_ACTIONS: (8, False), OFPIT_METER: (8, False),
}


def decode_instructions(data: bytes | memoryview, version: int) -> ActionList:
    """Instructions as a flat action list (OVS ``ofpacts_pull_openflow_instructions``)."""
    if version == 1:
        actions = decode_actions(data, version)
        verify_actions(actions, version)
        return actions
    view = memoryview(data)
    if len(view) % 8:
        raise OFError(OFPErr.OFPBIC_BAD_LEN, "instructions length not a multiple of 8")
    found: dict[int, memoryview] = {}
    pos = 0
    while pos < len(view):
        type_, length = struct.unpack_from("!HH", view, pos)
        if length % 8 or length < 8 or length > len(view) - pos:
            raise OFError(OFPErr.OFPBIC_BAD_LEN, f"instruction length {length}")
        if type_ == OFPIT_EXPERIMENTER:
            raise OFError(OFPErr.OFPBIC_BAD_EXPERIMENTER, "experimenter instruction")
        size = _INSTRUCTION_SIZES.get(type_)
        if size is None:
            raise OFError(OFPErr.OFPBIC_UNKNOWN_INST, f"instruction type {type_}")
        if (length < size[0]) if size[1] else (length != size[0]):
            raise OFError(OFPErr.OFPBIC_BAD_LEN, f"instruction {type_} length {length}")
        if type_ == OFPIT_METER and version >= 6:  # a meter is an action in 1.5
            raise OFError(OFPErr.OFPBIC_UNKNOWN_INST, "meter instruction in OpenFlow 1.5")
        if type_ in found:
            raise OFError(OFPErr.OFPBIC_DUP_INST, f"duplicate instruction {type_}")
        found[type_] = view[pos:pos + length]
        pos += length
    out: list[Action] = []
    if OFPIT_METER in found:
        out.append(Meter(METER_INST.unpack_from(found[OFPIT_METER])[2]))
    if OFPIT_APPLY_ACTIONS in found:
        out.extend(decode_actions(found[OFPIT_APPLY_ACTIONS][8:], version))
    if OFPIT_CLEAR_ACTIONS in found:
        out.append(ClearActions())
    if OFPIT_WRITE_ACTIONS in found:
        action_set = decode_actions(found[OFPIT_WRITE_ACTIONS][8:], version)
        if any(type(a).__name__ in NOT_IN_ACTION_SET for a in action_set):
            raise OFError(OFPErr.OFPBAC_BAD_TYPE, "action not allowed in an action set")
        out.append(WriteActions(action_set))
    if OFPIT_WRITE_METADATA in found:
        _, _, metadata, mask = WRITE_METADATA.unpack_from(found[OFPIT_WRITE_METADATA])
        out.append(WriteMetadata(metadata, mask))
    if OFPIT_GOTO_TABLE in found:
        out.append(GotoTable(GOTO_TABLE.unpack_from(found[OFPIT_GOTO_TABLE])[2]))
    verify_instructions(out, version)
    return tuple(out)


# Actions an action set may not hold (OVS ``action_set_classify``), by class
# name because several live in modules that import this one.
NOT_IN_ACTION_SET: Final = frozenset({
    "Bundle", "ClearActions", "Clone", "Nat", "Controller", "Enqueue", "Exit", "FinTimeout",
    "GotoTable", "Learn", "Conjunction", "Meter", "Multipath", "Note", "OutputReg",
    "OutputTrunc", "PopQueue", "Sample", "StackPop", "StackPush", "WriteActions",
    "WriteMetadata", "DebugRecirc", "DebugSlow", "CheckPktLarger", "DeleteField"})
_CT_FIELDS: Final = ("ct_mark", "ct_label")


def _instruction_rank(a: Action, version: int) -> int:
    """OVS ``ovs_instruction_type_from_ofpact_type``: 0 meter, 1 apply ... 5 goto."""
    if isinstance(a, Meter):
        return 1 if version >= 6 else 0
    return {ClearActions: 2, WriteActions: 3, WriteMetadata: 4, GotoTable: 5}.get(type(a), 1)


def _verify_nested(a: Action, outer: str) -> None:
    """OVS ``ofpacts_verify_nested``: what may appear where."""
    dst = (a.field if isinstance(a, SetField)
           else a.dst.field if isinstance(a, RegMove) else None)
    if dst is not None and dst.name in _CT_FIELDS and outer != "ct":
        raise OFError(OFPErr.OFPBAC_BAD_SET_ARGUMENT, "CT fields set outside of ct")
    if type(a).__name__ == "Nat":
        if outer != "ct":
            raise OFError(OFPErr.OFPBAC_BAD_SET_ARGUMENT, "nat outside of ct")
        return
    if outer == "ct" and (dst is None or dst.name not in _CT_FIELDS):
        raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, f"ct cannot nest {type(a).__name__}")
    if outer and isinstance(a, Meter):
        raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, f"{outer} cannot nest meter")


def verify_actions(actions: list[Action] | ActionList, version: int,
                   instructions: bool = True, outer: str = "") -> None:
    """OVS ``ofpacts_verify``: nesting rules, conjunction, instruction order.

    ``instructions`` says whether instructions may appear at all (a flow's
    actions) or only plain actions (packet-out, buckets, nested actions);
    ``outer`` names the enclosing action (``ct``, ``clone``...), if any.
    """
    inst = 0
    for i, a in enumerate(actions):
        if isinstance(a, Conjunction):
            if not all(isinstance(x, (Conjunction, Note)) for x in actions):
                raise OFError(OFPErr.NXBAC_BAD_CONJUNCTION, "conjunction with other actions")
            return
        _verify_nested(a, outer)
        nxt = _instruction_rank(a, version)
        if i and (nxt < inst if inst == 1 else nxt <= inst):
            raise OFError(OFPErr.OFPBAC_UNSUPPORTED_ORDER, "instructions out of order")
        if nxt != 1 and not instructions:
            raise OFError(OFPErr.OFPBIC_UNSUP_INST, f"{type(a).__name__} not allowed here")
        inst = nxt


def verify_instructions(actions: list[Action] | ActionList, version: int) -> None:
    """``verify_actions`` for a flow's actions and instructions."""
    verify_actions(actions, version)


def pull_actions(data: bytes | memoryview, version: int, outer: str = "") -> ActionList:
    """A plain action list, decoded and verified (OVS ``ofpacts_pull_openflow_actions``)."""
    actions = decode_actions(data, version)
    verify_actions(actions, version, instructions=False, outer=outer)
    return actions


def encode_instructions(actions: ActionList, version: int) -> bytes:
    """Actions and instructions as OpenFlow 1.1+ instructions (OVS order)."""
    if version == 1:
        return encode_actions(actions, version)
    encoders = _tables().encoders
    out = bytearray()
    apply: list[Action] = []

    def flush() -> None:
        if apply:
            body = encode_actions(tuple(apply), version)
            out.extend(INSTRUCTION.pack(OFPIT_APPLY_ACTIONS, 8 + len(body)) + body)
            apply.clear()

    for a in actions:
        if isinstance(a, INSTRUCTION_TYPES) and not (isinstance(a, Meter) and version >= 6):
            flush()
            out.extend(encoders[type(a)](a, version))
        else:
            apply.append(a)
    flush()
    return bytes(out)


# --- text plumbing shared by the act_* modules -------------------------------

@dataclass(slots=True)
class ParseCtx:
    """State while parsing ``actions=`` text (OVS ``ofpact_parse_params``)."""

    port_map: dict[str, int] | None = None
    table_map: dict[str, int] | None = None
    usable: int = (1 << 9) - 1
    """Protocols (``protocols.Protocol`` bits) that can still express the actions."""
    depth: int = 0


@dataclass(frozen=True, slots=True)
class FmtCtx:
    """What action formatters need (OVS ``ofpact_format_params``)."""

    port_names: dict[int, str] | None = None
    table_names: dict[int, str] | None = None


Formatter = Callable[[Action, FmtCtx], str]
Parser = Callable[[str, ParseCtx], list[Action]]
