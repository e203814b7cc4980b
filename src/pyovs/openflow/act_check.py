"""Actions against the flow they belong to (OVS ``ofpacts_check``).

Decoding a flow mod is not the end of validation: OVS then walks the
actions with the flow's match in hand, as a packet would go through them.
Each action may

* fail outright -- an output to a port beyond the switch's range
  (``OFPBAC_BAD_OUT_PORT``), a ``goto_table`` backwards
  (``OFPBIC_BAD_TABLE_ID``), a field read or written without its
  prerequisites (``OFPBAC_MATCH_INCONSISTENT``), a bad meter id...;
* be merely *inconsistent* with the match -- ``mod_nw_src`` on a flow that
  does not match IPv4, ``pop_mpls`` on one that does not match MPLS.
  OpenFlow 1.0 tolerates that; later versions refuse the flow with
  ``OFPBAC_MATCH_INCONSISTENT`` (``ofpacts_check_consistency``);
* change what later actions see: ``push_vlan`` makes a VLAN header
  present, ``push_mpls``/``pop_mpls`` change the Ethertype, ``set_field``
  of ``vlan_tci`` may add or remove a tag;
* record what the encoder needs to know about the flow (``flow_has_vlan``
  for ``set_vlan_vid``/``set_field``, ``flow_ip_proto`` for
  ``mod_tp_src``/``mod_tp_dst``).

``check_actions`` does all of that and returns the annotated actions.  The
simulated flow is a ``MatchBuilder`` whose slot values are changed without
regard to masks, as OVS changes ``match->flow``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final

from .act_ct import Ct, Nat
from .act_learn import DST_LOAD, DST_MATCH, SRC_FIELD, Learn
from .actions import (
    Action,
    ActionList,
    Bundle,
    Clone,
    DecMplsTtl,
    DecNshTtl,
    DecTtl,
    DeleteField,
    Enqueue,
    FinTimeout,
    GotoTable,
    Meter,
    Multipath,
    Output,
    OutputReg,
    OutputTrunc,
    PopMpls,
    PushMpls,
    PushVlan,
    RegMove,
    Resubmit,
    SetField,
    SetIpDscp,
    SetIpEcn,
    SetIpTtl,
    SetIpv4Dst,
    SetIpv4Src,
    SetL4DstPort,
    SetL4SrcPort,
    SetMplsLabel,
    SetMplsTc,
    SetMplsTtl,
    SetVlanPcp,
    SetVlanVid,
    StackPop,
    StackPush,
    StripVlan,
    WriteActions,
)
from .errors import OFError, OFPErr
from .fields import FIELD_BY_NAME
from .match import Match, MatchBuilder
from .ports import (
    OFPP_CONTROLLER,
    OFPP_IN_PORT,
    OFPP_LOCAL,
    OFPP_MAX,
    OFPP_NONE,
    check_output_port,
)
from .subfield import Subfield

PT_ETH: Final = 0
PT_NSH: Final = (1 << 16) | 0x894F
VLAN_CFI: Final = 0x1000
ETH_TYPE_IP, ETH_TYPE_IPV6, ETH_TYPE_NSH = 0x0800, 0x86DD, 0x894F
MPLS_TYPES: Final = (0x8847, 0x8848)
IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP = 6, 17, 132
CS_INVALID: Final = 0x10
NX_CT_F_COMMIT: Final = 1
IPPORT_FTP, IPPORT_TFTP = 21, 69
OFPM13_MAX: Final = 0xFFFF0000


@dataclass(slots=True)
class _Params:
    flow: MatchBuilder
    max_ports: int = OFPP_MAX
    table_id: int = 255
    n_tables: int = 255
    consistent: bool = True
    """False once an action is inconsistent with the match (fine for OpenFlow 1.0 only)."""
    saved: dict[str, tuple[int, int]] = field(default_factory=dict)

    def value(self, slot: str) -> int:
        return self.flow.value(slot)

    def set(self, slot: str, value: int) -> None:
        """Change the simulated packet (OVS writes ``match->flow`` directly)."""
        self.flow.slots[slot] = (value, self.flow.mask(slot))


def _check_sf(sf: Subfield, flow: MatchBuilder, dst: bool = False) -> None:
    """OVS ``mf_check_src``/``mf_check_dst``."""
    f = sf.field
    if not sf.n_bits or sf.ofs >= f.n_bits or sf.ofs + sf.n_bits > f.n_bits:
        raise OFError(OFPErr.OFPBAC_BAD_SET_LEN, f"bad subfield of {f.name}")
    if not flow.prereqs_ok(f):
        raise OFError(OFPErr.OFPBAC_MATCH_INCONSISTENT, f"{f.name} lacks prerequisites")
    if dst and not f.writable:
        raise OFError(OFPErr.OFPBAC_BAD_SET_ARGUMENT, f"{f.name} is not writable")


def _dl_type(p: _Params) -> int:
    return p.flow.dl_type()


def _ip_any(p: _Params) -> bool:
    return _dl_type(p) in (ETH_TYPE_IP, ETH_TYPE_IPV6)


def _check_one(a: Action, p: _Params) -> Action:
    """OVS ``ofpact_check__`` for one action; returns it, annotated."""
    tci = p.value("vlan_tci")
    if isinstance(a, (Output, OutputTrunc)):
        check_output_port(a.port, p.max_ports)
    elif isinstance(a, Enqueue):
        if a.port >= p.max_ports and a.port not in (OFPP_IN_PORT, OFPP_LOCAL):
            raise OFError(OFPErr.OFPBAC_BAD_OUT_PORT, f"bad enqueue port {a.port}")
    elif isinstance(a, OutputReg):
        _check_sf(a.src, p.flow)
    elif isinstance(a, Bundle):
        if a.dst is not None:
            _check_sf(a.dst, p.flow, dst=True)
        for member in a.members:
            if member != OFPP_NONE:
                check_output_port(member, p.max_ports)
            if member == OFPP_CONTROLLER:
                raise OFError(OFPErr.OFPBAC_BAD_OUT_PORT, "controller bundle member")
    elif isinstance(a, (SetVlanVid, SetVlanPcp)):
        has_vlan = bool(tci & VLAN_CFI)
        if not has_vlan and not a.push_vlan_if_needed:
            p.consistent = False
        p.set("vlan_tci", tci | VLAN_CFI)
        return replace(a, flow_has_vlan=has_vlan)
    elif isinstance(a, StripVlan):
        if not tci & VLAN_CFI:
            p.consistent = False
        p.set("vlan_tci", p.value("vlan_tci1"))
        p.set("vlan_tci1", 0)
    elif isinstance(a, PushVlan):
        if p.value("vlan_tci1") & VLAN_CFI:
            raise OFError(OFPErr.OFPBAC_BAD_TAG, "too many VLAN headers")
        p.set("vlan_tci1", tci)
        p.set("vlan_tci", VLAN_CFI)
    elif isinstance(a, FinTimeout):
        if p.value("nw_proto") != IPPROTO_TCP:
            p.consistent = False
    elif isinstance(a, (SetIpv4Src, SetIpv4Dst)):
        if _dl_type(p) != ETH_TYPE_IP:
            p.consistent = False
    elif isinstance(a, (SetIpDscp, SetIpEcn, SetIpTtl, DecTtl)):
        if not _ip_any(p):
            p.consistent = False
    elif isinstance(a, (SetL4SrcPort, SetL4DstPort)):
        proto = p.value("nw_proto")
        if (not _ip_any(p) or p.value("nw_frag") & 2
                or proto not in (IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP)):
            p.consistent = False
        return replace(a, flow_ip_proto=proto)
    elif isinstance(a, RegMove):
        _check_sf(a.src, p.flow)
        _check_sf(a.dst, p.flow, dst=True)
    elif isinstance(a, SetField):
        f = a.field
        if not p.flow.prereqs_ok(f) or (f.name == "vlan_vid" and not tci & VLAN_CFI):
            raise OFError(OFPErr.OFPBAC_MATCH_INCONSISTENT,
                          f"set_field {f.name} lacks correct prerequisites")
        if f.name == "vlan_tci":
            p.set("vlan_tci", a.value)
        return replace(a, flow_has_vlan=bool(tci & VLAN_CFI))
    elif isinstance(a, StackPush):
        _check_sf(a.subfield, p.flow)
    elif isinstance(a, StackPop):
        _check_sf(a.subfield, p.flow, dst=True)
    elif isinstance(a, (SetMplsLabel, SetMplsTc, SetMplsTtl, DecMplsTtl)):
        if _dl_type(p) not in MPLS_TYPES:
            p.consistent = False
    elif isinstance(a, PushMpls):
        if p.value("packet_type") != PT_ETH:
            p.consistent = False
        p.set("dl_type", a.ethertype)
        p.set("nw_proto", 0)
    elif isinstance(a, PopMpls):
        if p.value("packet_type") != PT_ETH or _dl_type(p) not in MPLS_TYPES:
            p.consistent = False
        p.set("dl_type", a.ethertype)
    elif isinstance(a, DeleteField):
        if not a.field.name.startswith("tun_metadata"):
            raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "delete_field of a non-tunnel field")
    elif isinstance(a, DecNshTtl):
        if p.value("packet_type") != PT_NSH and p.value("dl_type") != ETH_TYPE_NSH:
            p.consistent = False
    elif isinstance(a, Resubmit):
        if a.with_ct_orig and not p.flow.prereqs_ok(_CT_FIELD):
            raise OFError(OFPErr.OFPBAC_MATCH_INCONSISTENT, "resubmit ct without ct_state")
    elif isinstance(a, Learn):
        _check_learn(a, p.flow)
    elif isinstance(a, Multipath):
        _check_sf(a.dst, p.flow, dst=True)
    elif isinstance(a, Clone):
        return replace(a, actions=_check_nested(a.actions, p))
    elif isinstance(a, Ct):
        return _check_ct(a, p)
    elif isinstance(a, Nat):
        dl_type = _dl_type(p)
        if (dl_type not in (ETH_TYPE_IP, ETH_TYPE_IPV6)
                or (a.family == 4 and dl_type != ETH_TYPE_IP)
                or (a.family == 6 and dl_type != ETH_TYPE_IPV6)):
            raise OFError(OFPErr.OFPBAC_MATCH_INCONSISTENT, "nat does not fit the match")
    elif isinstance(a, Meter):
        if a.meter_id == 0 or a.meter_id > OFPM13_MAX:
            raise OFError(OFPErr.OFPMMFC_INVALID_METER, f"meter {a.meter_id}")
    elif isinstance(a, WriteActions):
        # The action set's consistency is not checked, only its errors.
        sub = _Params(_copy(p.flow), p.max_ports, p.table_id, p.n_tables)
        return replace(a, actions=_check_list(a.actions, sub))
    elif isinstance(a, GotoTable) and ((p.table_id != 255 and a.table_id <= p.table_id)
                                       or (p.n_tables != 255 and a.table_id >= p.n_tables)):
        raise OFError(OFPErr.OFPBIC_BAD_TABLE_ID, f"goto_table:{a.table_id}")
    return a


_CT_FIELD: Final = FIELD_BY_NAME["ct_nw_proto"]


def _copy(b: MatchBuilder) -> MatchBuilder:
    return MatchBuilder(b.slots, b.tun_len)


def _check_nested(actions: ActionList, p: _Params) -> ActionList:
    """OVS ``check_subactions``: nested actions see (and restore) the same flow."""
    sub = _Params(_copy(p.flow), p.max_ports, p.table_id, p.n_tables)
    out = _check_list(actions, sub)
    p.consistent &= sub.consistent
    return out


def _check_ct(a: Ct, p: _Params) -> Action:
    dl_type = _dl_type(p)
    proto = p.value("nw_proto")
    if (dl_type not in (ETH_TYPE_IP, ETH_TYPE_IPV6)
            or (p.value("ct_state") & CS_INVALID and a.flags & NX_CT_F_COMMIT)
            or (a.alg == IPPORT_FTP and proto != IPPROTO_TCP)
            or (a.alg == IPPORT_TFTP and proto != IPPROTO_UDP)):
        raise OFError(OFPErr.OFPBAC_MATCH_INCONSISTENT, "ct does not fit the match")
    if a.zone_src is not None:
        _check_sf(a.zone_src, p.flow)
        return a
    return replace(a, actions=_check_nested(a.actions, p))


def _check_learn(a: Learn, src: MatchBuilder) -> None:
    """OVS ``learn_check``: sources against the flow, destinations against the learned match."""
    dst_match = MatchBuilder()
    for spec in a.specs:
        if spec.src_type == SRC_FIELD and spec.src is not None:
            _check_sf(spec.src, src)
        if spec.dst is None:
            continue
        if spec.dst_type == DST_MATCH:
            _check_sf(spec.dst, dst_match)
            if spec.src_type != SRC_FIELD:
                f = spec.dst.field
                bits = ((1 << spec.dst.n_bits) - 1) << spec.dst.ofs
                dst_match.replace_bits(f.slot, bits << f.shift,
                                       (spec.imm << spec.dst.ofs) << f.shift, bits << f.shift)
        elif spec.dst_type == DST_LOAD:
            _check_sf(spec.dst, dst_match, dst=True)


def _check_list(actions: ActionList, p: _Params) -> ActionList:
    return tuple(_check_one(a, p) for a in actions)


def check_actions(actions: ActionList, match: Match, *, version: int = 0,
                  table_id: int = 255, max_ports: int = OFPP_MAX,
                  n_tables: int = 255) -> ActionList:
    """Check ``actions`` against ``match`` and annotate them (OVS ``ofpacts_check``).

    With ``version`` 2 or more (OpenFlow 1.1+), an action that is merely
    inconsistent with the match is an error, ``OFPBAC_MATCH_INCONSISTENT``
    (OVS ``ofpacts_check_consistency``); with 0 or 1 it is allowed.
    """
    p = _Params(match.builder(), max_ports, table_id, n_tables)
    out = _check_list(actions, p)
    if version >= 2 and not p.consistent:
        raise OFError(OFPErr.OFPBAC_MATCH_INCONSISTENT, "actions inconsistent with the match")
    return out


def is_consistent(actions: ActionList, match: Match) -> bool:
    """Whether OpenFlow 1.1+ could carry ``actions`` with ``match`` (errors aside)."""
    p = _Params(match.builder())
    _check_list(actions, p)
    return p.consistent
