"""Switch and port messages: features reply, port status, port mod, port stats, port desc.

``PhyPort`` is OVS's ``ofputil_phy_port``: a port's number, address, name,
config and state bits, and its Ethernet features as OVS's ``netdev_features``
bits (OpenFlow 1.1's ``OFPPF_*`` layout; OpenFlow 1.0 numbers the medium
bits four lower, and ``_features_from_ofp10`` shifts them).  The three wire
forms are ``ofp10_phy_port`` (48 bytes), ``ofp11_port`` (64) and
``ofp14_port`` (40 plus an Ethernet property), as the port lists of
features replies, port status and port-desc replies carry them.

Bodies: ``FeaturesReply``, ``PortStatus``, ``PortMod``,
``PortStatsRequest``/``PortStatsReply`` (``PortStats``, counters all-ones
when unknown) and ``PortDescRequest``/``PortDescReply``.  Formatting is OVS's
``ofputil_*_format`` text, ports sorted by number as ovs-ofctl prints them.
OpenFlow 1.4 port-stats properties other than Ethernet (Intel's RFC 2819 and
custom counters) are skipped.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from .action_bitmap import format_action_bitmap, known_bits
from .codec import Body, FormatContext, MsgCodec, list_codec, pull_list
from .dstext import bit_names, duration
from .errors import OFError, OFPErr
from .msg_flow import by_version
from .msgtable import Raw
from .oxs import UNKNOWN64
from .ports import OFPP_ANY, format_port, from_ofp11, to_ofp11
from .props import pull_props, put_prop
from .values import eth_to_str as format_eth

# --- port bits ----------------------------------------------------------------

OFPPC10_ALL: Final = 0x7F
OFPPC11_ALL: Final = 0x65
OFPPS10_ALL: Final = 0x301
OFPPS11_ALL: Final = 0x7
PS_STP_MASK: Final = 0x300

CONFIG_NAMES: Final = {1 << 0: "PORT_DOWN", 1 << 1: "NO_STP", 1 << 2: "NO_RECV",
                       1 << 3: "NO_RECV_STP", 1 << 4: "NO_FLOOD", 1 << 5: "NO_FWD",
                       1 << 6: "NO_PACKET_IN"}
STATE_NAMES: Final = {1 << 0: "LINK_DOWN", 1 << 1: "BLOCKED", 1 << 2: "LIVE"}
STP_STATES: Final = {1 << 8: "STP_LEARN", 2 << 8: "STP_FORWARD", 3 << 8: "STP_BLOCK"}
FEATURE_NAMES: Final = {
    1 << 0: "10MB-HD", 1 << 1: "10MB-FD", 1 << 2: "100MB-HD", 1 << 3: "100MB-FD",
    1 << 4: "1GB-HD", 1 << 5: "1GB-FD", 1 << 6: "10GB-FD", 1 << 7: "40GB-FD",
    1 << 8: "100GB-FD", 1 << 9: "1TB-FD", 1 << 10: "OTHER", 1 << 11: "COPPER",
    1 << 12: "FIBER", 1 << 13: "AUTO_NEG", 1 << 14: "AUTO_PAUSE", 1 << 15: "AUTO_PAUSE_ASYM",
}
# Fastest speed bits first: (feature bits, bits per second), OVS netdev_features_to_bps.
_SPEEDS: Final = ((1 << 9, 10**12), (1 << 8, 10**11), (1 << 7, 4 * 10**10), (1 << 6, 10**10),
                  (0x30, 10**9), (0xC, 10**8), (0x3, 10**7))


def _features_from_ofp10(bits: int) -> int:
    return (bits & 0x7F) | ((bits & 0xF80) << 4)


def _features_to_ofp10(features: int) -> int:
    return (features & 0x7F) | ((features & 0xF800) >> 4)


def features_to_kbps(features: int) -> int:
    """The speed ``features`` implies, in kbps (0 if none), as OVS does for OF1.0."""
    for bits, bps in _SPEEDS:
        if features & bits:
            return bps // 1000
    return 0


def format_config(config: int) -> str:
    return bit_names(config, CONFIG_NAMES) + "\n"


def format_state(state: int) -> str:
    stp = state & PS_STP_MASK
    if stp:
        rest = state & ~PS_STP_MASK
        return STP_STATES[stp] + (bit_names(rest, STATE_NAMES) if rest else "") + "\n"
    return bit_names(state, STATE_NAMES) + "\n"


def format_features(features: int) -> str:
    return bit_names(features, FEATURE_NAMES) + "\n"


# --- ports ----------------------------------------------------------------------

OFP10_PHY_PORT: Final = struct.Struct("!H6s16sIIIIII")
"""port_no, hw_addr, name, config, state, curr, advertised, supported, peer."""
OFP11_PORT: Final = struct.Struct("!I4x6s2x16sIIIIIIII")
"""port_no, hw_addr, name, config, state, curr, advertised, supported, peer,
curr_speed, max_speed."""
OFP14_PORT: Final = struct.Struct("!IH2x6s2x16sII")
"""port_no, length, hw_addr, name, config, state (then properties)."""
OFP14_PORT_ETHERNET: Final = struct.Struct("!4xIIIIII")
"""(property payload) curr, advertised, supported, peer, curr_speed, max_speed."""
OFPPDPT14_ETHERNET: Final = 0


@dataclass(frozen=True, slots=True)
class PhyPort:
    """One port's description (OVS ``struct ofputil_phy_port``)."""

    port_no: int
    hw_addr: int = 0
    name: str = ""
    config: int = 0
    state: int = 0
    curr: int = 0
    advertised: int = 0
    supported: int = 0
    peer: int = 0
    curr_speed: int = 0
    """kbps."""
    max_speed: int = 0


def _name(raw: bytes) -> str:
    """OVS copies at most 15 characters, stopping at a NUL."""
    end = raw.find(b"\0")
    return (raw if end < 0 else raw[:end])[:15].decode("latin-1")


def _name_bytes(name: str) -> bytes:
    return name.encode("latin-1")[:15].ljust(16, b"\0")


def pull_port(version: int, b: memoryview, pos: int) -> tuple[PhyPort, int]:
    """One port at ``pos`` (OVS ``ofputil_pull_phy_port``): (port, next position)."""
    if version == 1:
        if len(b) - pos < OFP10_PHY_PORT.size:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, "truncated port")
        (port_no, hw, name, config, state, curr, adv, sup,
         peer) = OFP10_PHY_PORT.unpack_from(b, pos)
        curr, adv, sup, peer = (_features_from_ofp10(x) for x in (curr, adv, sup, peer))
        return (PhyPort(port_no, int.from_bytes(hw, "big"), _name(name), config & OFPPC10_ALL,
                        state & OFPPS10_ALL, curr, adv, sup, peer, features_to_kbps(curr),
                        features_to_kbps(sup)), pos + OFP10_PHY_PORT.size)
    if version <= 4:
        if len(b) - pos < OFP11_PORT.size:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, "truncated port")
        (port_no, hw, name, config, state, curr, adv, sup, peer, curr_speed,
         max_speed) = OFP11_PORT.unpack_from(b, pos)
        return (PhyPort(from_ofp11(port_no), int.from_bytes(hw, "big"), _name(name),
                        config & OFPPC11_ALL, state & OFPPS11_ALL, curr & 0xFFFF, adv & 0xFFFF,
                        sup & 0xFFFF, peer & 0xFFFF, curr_speed, max_speed),
                pos + OFP11_PORT.size)
    if len(b) - pos < OFP14_PORT.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "truncated port")
    port_no, length, hw, name, config, state = OFP14_PORT.unpack_from(b, pos)
    if length < OFP14_PORT.size or pos + length > len(b):
        raise OFError(OFPErr.OFPBRC_BAD_LEN, f"port length {length}")
    port = PhyPort(from_ofp11(port_no), int.from_bytes(hw, "big"), _name(name),
                   config & OFPPC11_ALL, state & OFPPS11_ALL)
    for type_, payload in pull_props(b[pos + OFP14_PORT.size:pos + length]):
        if type_ == OFPPDPT14_ETHERNET:
            if len(payload) + 4 != 4 + OFP14_PORT_ETHERNET.size:
                raise OFError(OFPErr.OFPBPC_BAD_LEN, "port ethernet property length")
            curr, adv, sup, peer, curr_speed, max_speed = OFP14_PORT_ETHERNET.unpack_from(payload)
            port = PhyPort(port.port_no, port.hw_addr, port.name, port.config, port.state,
                           curr & 0xFFFF, adv & 0xFFFF, sup & 0xFFFF, peer & 0xFFFF,
                           curr_speed, max_speed)
    return port, pos + length


def put_port(p: PhyPort, version: int) -> bytes:
    """OVS ``ofputil_put_phy_port``."""
    hw = p.hw_addr.to_bytes(6, "big")
    if version == 1:
        return OFP10_PHY_PORT.pack(
            p.port_no, hw, _name_bytes(p.name), p.config & OFPPC10_ALL, p.state & OFPPS10_ALL,
            *(_features_to_ofp10(x) for x in (p.curr, p.advertised, p.supported, p.peer)))
    if version <= 4:
        return OFP11_PORT.pack(
            to_ofp11(p.port_no), hw, _name_bytes(p.name), p.config & OFPPC11_ALL,
            p.state & OFPPS11_ALL, p.curr & 0xFFFF, p.advertised & 0xFFFF,
            p.supported & 0xFFFF, p.peer & 0xFFFF, p.curr_speed, p.max_speed)
    eth = put_prop(OFPPDPT14_ETHERNET, OFP14_PORT_ETHERNET.pack(
        p.curr & 0xFFFF, p.advertised & 0xFFFF, p.supported & 0xFFFF, p.peer & 0xFFFF,
        p.curr_speed, p.max_speed))
    return OFP14_PORT.pack(to_ofp11(p.port_no), OFP14_PORT.size + len(eth), hw,
                           _name_bytes(p.name), p.config & OFPPC11_ALL,
                           p.state & OFPPS11_ALL) + eth


def format_phy_port(p: PhyPort) -> str:
    """OVS ``ofputil_phy_port_format``."""
    name = ""
    for ch in p.name:
        if not (0x20 <= ord(ch) < 0x7F):
            break
        name += ch
    text = f" {format_port(p.port_no)}({name}): addr:{format_eth(p.hw_addr)}\n"
    text += "     config:     " + format_config(p.config)
    text += "     state:      " + format_state(p.state)
    for label, bits in (("current:    ", p.curr), ("advertised: ", p.advertised),
                        ("supported:  ", p.supported), ("peer:       ", p.peer)):
        if bits:
            text += "     " + label + format_features(bits)
    return text + f"     speed: {p.curr_speed // 1000} Mbps now, {p.max_speed // 1000} Mbps max\n"


def format_phy_ports(ports: tuple[PhyPort, ...]) -> str:
    return "".join(format_phy_port(p) for p in sorted(ports, key=lambda p: p.port_no))


# --- features reply --------------------------------------------------------------

SWITCH_FEATURES: Final = struct.Struct("!QIBB2xII")
"""datapath_id, n_buffers, n_tables, auxiliary_id, capabilities, actions."""
C_STP: Final = 1 << 3
C_GROUP_STATS: Final = 1 << 4
CAPABILITY_NAMES: Final = {
    1 << 0: "FLOW_STATS", 1 << 1: "TABLE_STATS", 1 << 2: "PORT_STATS", 1 << 3: "STP",
    1 << 4: "GROUP_STATS", 1 << 5: "IP_REASM", 1 << 6: "QUEUE_STATS",
    1 << 7: "ARP_MATCH_IP", 1 << 8: "PORT_BLOCKED", 1 << 9: "BUNDLES",
    1 << 10: "FLOW_MONITORING",
}
_C_COMMON: Final = 0x67
# Capability bits each version's wire value carries unchanged.
_CAPABILITIES_MASK: Final = {1: _C_COMMON | 0x80, 2: _C_COMMON | 0x80, 3: _C_COMMON | 0x100,
                             4: _C_COMMON | 0x100, 5: _C_COMMON | 0x700, 6: _C_COMMON | 0x700}


@dataclass(frozen=True, slots=True)
class FeaturesReply(Body):
    """OFPT_FEATURES_REPLY (OVS ``ofputil_switch_features`` plus the listed ports)."""

    datapath_id: int = 0
    n_buffers: int = 0
    n_tables: int = 0
    auxiliary_id: int = 0
    capabilities: int = 0
    """OVS's capability bits (``CAPABILITY_NAMES``)."""
    actions: int = 0
    """OpenFlow 1.0 supported-actions bitmap (OFPAT10 bits); 0 in later versions."""
    ports: tuple[PhyPort, ...] = ()
    """Ports listed in the reply (OpenFlow 1.0-1.2 only)."""


def _partial_features(version: int, raw: Raw, b: memoryview) -> tuple[Body, OFError | None]:
    """The switch features and the ports listed before a bad one (OVS prints both)."""
    ports, error = pull_list(version, raw, b[SWITCH_FEATURES.size:], _pull_listed_port)
    features = _decode_features(version, raw, b[:SWITCH_FEATURES.size])
    assert isinstance(features, FeaturesReply)
    return replace(features, ports=ports), error


def _decode_features_and_ports(version: int, raw: Raw, b: memoryview) -> Body:
    body, error = _partial_features(version, raw, b)
    if error is not None:
        raise error
    return body


def _decode_features(version: int, raw: Raw, b: memoryview) -> Body:
    dpid, n_buffers, n_tables, aux, caps, actions = SWITCH_FEATURES.unpack_from(b)
    capabilities = caps & _CAPABILITIES_MASK[version]
    if raw.name == "OFPT10_FEATURES_REPLY":
        if caps & C_STP:
            capabilities |= C_STP
        return FeaturesReply(dpid, n_buffers, n_tables, 0, capabilities,
                             actions & known_bits(1))
    if caps & (1 << 3):  # OFPC11_GROUP_STATS
        capabilities |= C_GROUP_STATS
    return FeaturesReply(dpid, n_buffers, n_tables,
                         aux if raw.name == "OFPT13_FEATURES_REPLY" else 0, capabilities, 0)


def _encode_features(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, FeaturesReply)
    f = body
    caps = f.capabilities & _CAPABILITIES_MASK[version]
    actions = aux = 0
    if version == 1:
        if f.capabilities & C_STP:
            caps |= C_STP
        actions = f.actions & known_bits(1)
    else:
        if version >= 4:
            aux = f.auxiliary_id
        if f.capabilities & C_GROUP_STATS:
            caps |= 1 << 3
    ports = b"" if version >= 4 else b"".join(put_port(p, version) for p in f.ports)
    return SWITCH_FEATURES.pack(f.datapath_id, f.n_buffers, f.n_tables, aux, caps,
                                actions) + ports


def _format_features(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, FeaturesReply)
    f = body
    text = f" dpid:{f.datapath_id:016x}\nn_tables:{f.n_tables}, n_buffers:{f.n_buffers}"
    if f.auxiliary_id:
        text += f", auxiliary_id:{f.auxiliary_id}"
    text += "\ncapabilities: " + bit_names(f.capabilities, CAPABILITY_NAMES) + "\n"
    if f.actions:
        text += "actions: " + format_action_bitmap(f.actions, 1) + "\n"
    return text + format_phy_ports(f.ports)


# --- port status -------------------------------------------------------------------

PORT_STATUS: Final = struct.Struct("!B7x")
"""reason."""
PORT_REASONS: Final = {0: "ADD", 1: "DEL", 2: "MOD"}


@dataclass(frozen=True, slots=True)
class PortStatus(Body):
    """OFPT_PORT_STATUS: a port was added, deleted or modified."""

    reason: int
    port: PhyPort


def _decode_port_status(version: int, raw: Raw, b: memoryview) -> Body:
    reason = PORT_STATUS.unpack_from(b)[0]
    if reason not in PORT_REASONS:
        raise OFError(OFPErr.NXBRC_BAD_REASON, f"port status reason {reason}")
    port, _ = pull_port(version, b, PORT_STATUS.size)
    return PortStatus(reason, port)


def _encode_port_status(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, PortStatus)
    return PORT_STATUS.pack(body.reason) + put_port(body.port, version)


def _format_port_status(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, PortStatus)
    return f" {PORT_REASONS[body.reason]}:" + format_phy_port(body.port)


# --- port mod ------------------------------------------------------------------------

OFP10_PORT_MOD: Final = struct.Struct("!H6sIII4x")
"""port_no, hw_addr, config, mask, advertise."""
OFP11_PORT_MOD: Final = struct.Struct("!I4x6s2xIII4x")
"""port_no, hw_addr, config, mask, advertise."""
OFP14_PORT_MOD: Final = struct.Struct("!I4x6s2xII")
"""port_no, hw_addr, config, mask (then properties)."""
OFPPMPT14_ETHERNET: Final = 0


@dataclass(frozen=True, slots=True)
class PortMod(Body):
    """OFPT_PORT_MOD (OVS ``struct ofputil_port_mod``)."""

    port_no: int
    hw_addr: int = 0
    config: int = 0
    mask: int = 0
    advertise: int = 0
    """Features to advertise (netdev bits); 0 leaves them unchanged."""


def _decode_port_mod(version: int, raw: Raw, b: memoryview) -> Body:
    if raw.name == "OFPT10_PORT_MOD":
        port_no, hw, config, mask, adv = OFP10_PORT_MOD.unpack_from(b)
        config, mask, adv = config & OFPPC10_ALL, mask & OFPPC10_ALL, _features_from_ofp10(adv)
    elif raw.name == "OFPT11_PORT_MOD":
        port_no, hw, config, mask, adv = OFP11_PORT_MOD.unpack_from(b)
        port_no, config, mask, adv = (from_ofp11(port_no), config & OFPPC11_ALL,
                                      mask & OFPPC11_ALL, adv & 0xFFFF)
    else:
        port_no, hw, config, mask = OFP14_PORT_MOD.unpack_from(b)
        port_no, adv = from_ofp11(port_no), 0
        config, mask = config & OFPPC11_ALL, mask & OFPPC11_ALL
        for type_, payload in pull_props(b[OFP14_PORT_MOD.size:]):
            if type_ == OFPPMPT14_ETHERNET:
                if len(payload) != 4:
                    raise OFError(OFPErr.OFPBPC_BAD_LEN, "port mod ethernet property length")
                adv = struct.unpack_from("!I", payload)[0] & 0xFFFF
    return PortMod(port_no, int.from_bytes(hw, "big"), config & mask, mask, adv)


def _encode_port_mod(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, PortMod)
    pm = body
    hw = pm.hw_addr.to_bytes(6, "big")
    if raw.name == "OFPT10_PORT_MOD":
        return OFP10_PORT_MOD.pack(pm.port_no, hw, pm.config & OFPPC10_ALL,
                                   pm.mask & OFPPC10_ALL, _features_to_ofp10(pm.advertise))
    if raw.name == "OFPT11_PORT_MOD":
        return OFP11_PORT_MOD.pack(to_ofp11(pm.port_no), hw, pm.config & OFPPC11_ALL,
                                   pm.mask & OFPPC11_ALL, pm.advertise & 0xFFFF)
    out = OFP14_PORT_MOD.pack(to_ofp11(pm.port_no), hw, pm.config & OFPPC11_ALL,
                              pm.mask & OFPPC11_ALL)
    if pm.advertise:
        out += put_prop(OFPPMPT14_ETHERNET, struct.pack("!I", pm.advertise & 0xFFFF))
    return out


def _format_port_mod(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, PortMod)
    pm = body
    text = f" port: {format_port(pm.port_no, ctx.port_names)}: addr:{format_eth(pm.hw_addr)}\n"
    text += "     config: " + format_config(pm.config)
    text += "     mask:   " + format_config(pm.mask)
    text += "     advertise: "
    return text + (format_features(pm.advertise) if pm.advertise else "UNCHANGED\n")


# --- port statistics -----------------------------------------------------------------

PORT_COUNTERS: Final = ("rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_dropped",
                        "tx_dropped", "rx_errors", "tx_errors", "rx_frame_errors",
                        "rx_over_errors", "rx_crc_errors", "collisions")
OFP10_PORT_STATS: Final = struct.Struct("!H6x12Q")
"""port_no, then the twelve ``PORT_COUNTERS``."""
OFP11_PORT_STATS: Final = struct.Struct("!I4x12Q")
OFP13_PORT_STATS: Final = struct.Struct("!I4x12QII")
"""As OFP11_PORT_STATS plus duration_sec, duration_nsec."""
OFP14_PORT_STATS: Final = struct.Struct("!H2xIII8Q")
"""length, port_no, duration_sec, duration_nsec, the first eight counters (then properties)."""
OFP14_PORT_STATS_ETHERNET: Final = struct.Struct("!4x4Q")
"""(property payload) rx_frame_err, rx_over_err, rx_crc_err, collisions."""
OFP10_PORT_REQUEST: Final = struct.Struct("!H6x")
OFP11_PORT_REQUEST: Final = struct.Struct("!I4x")
OFPPSPT14_ETHERNET: Final = 0


@dataclass(frozen=True, slots=True)
class PortStats:
    """One port's counters (OVS ``struct ofputil_port_stats``); ``UNKNOWN64`` if unknown."""

    port_no: int
    rx_packets: int = UNKNOWN64
    tx_packets: int = UNKNOWN64
    rx_bytes: int = UNKNOWN64
    tx_bytes: int = UNKNOWN64
    rx_dropped: int = UNKNOWN64
    tx_dropped: int = UNKNOWN64
    rx_errors: int = UNKNOWN64
    tx_errors: int = UNKNOWN64
    rx_frame_errors: int = UNKNOWN64
    rx_over_errors: int = UNKNOWN64
    rx_crc_errors: int = UNKNOWN64
    collisions: int = UNKNOWN64
    duration_sec: int = 0xFFFFFFFF
    """0xffffffff when unknown (OpenFlow 1.0-1.2)."""
    duration_nsec: int = 0xFFFFFFFF

    def counters(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in PORT_COUNTERS)


@dataclass(frozen=True, slots=True)
class PortStatsRequest(Body):
    """OFPST_PORT request: one port or ``OFPP_ANY``."""

    port_no: int = OFPP_ANY


@dataclass(frozen=True, slots=True)
class PortStatsReply(Body):
    """OFPST_PORT reply."""

    stats: tuple[PortStats, ...] = ()


def _decode_port_request(version: int, raw: Raw, b: memoryview) -> Body:
    if version == 1:
        return PortStatsRequest(OFP10_PORT_REQUEST.unpack_from(b)[0])
    return PortStatsRequest(from_ofp11(OFP11_PORT_REQUEST.unpack_from(b)[0]))


def _encode_port_request(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, PortStatsRequest)
    if version == 1:
        return OFP10_PORT_REQUEST.pack(body.port_no)
    return OFP11_PORT_REQUEST.pack(to_ofp11(body.port_no))


def _format_port_request(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, (PortStatsRequest, PortDescRequest))
    label = " port_no=" if isinstance(body, PortStatsRequest) else " port="
    return label + format_port(body.port_no, ctx.port_names)


def _pull_port_stats(version: int, rawt: Raw, b: memoryview, pos: int
                     ) -> tuple[PortStats, int]:
    raw = rawt.name
    if raw == "OFPST14_PORT_REPLY":
        if len(b) - pos < OFP14_PORT_STATS.size:
            raise OFError(OFPErr.OFPBRC_BAD_LEN, "truncated port stats")
        length, port_no, sec, nsec, *counters = OFP14_PORT_STATS.unpack_from(b, pos)
        if length < OFP14_PORT_STATS.size or pos + length > len(b):
            raise OFError(OFPErr.OFPBRC_BAD_LEN, f"port stats length {length}")
        values = dict(zip(PORT_COUNTERS, counters, strict=False))
        for type_, payload in pull_props(b[pos + OFP14_PORT_STATS.size:pos + length]):
            if type_ == OFPPSPT14_ETHERNET:
                if len(payload) != OFP14_PORT_STATS_ETHERNET.size:
                    raise OFError(OFPErr.OFPBPC_BAD_LEN, "port stats ethernet property length")
                values.update(zip(PORT_COUNTERS[8:],
                                  OFP14_PORT_STATS_ETHERNET.unpack_from(payload), strict=True))
        return PortStats(from_ofp11(port_no), duration_sec=sec, duration_nsec=nsec,
                         **values), pos + length
    layout = {"OFPST10_PORT_REPLY": OFP10_PORT_STATS, "OFPST11_PORT_REPLY": OFP11_PORT_STATS,
              "OFPST13_PORT_REPLY": OFP13_PORT_STATS}[raw]
    if len(b) - pos < layout.size:
        raise OFError(OFPErr.OFPBRC_BAD_LEN, "leftover bytes in port stats reply")
    port_no, *rest = layout.unpack_from(b, pos)
    values = dict(zip(PORT_COUNTERS, rest[:12], strict=True))
    sec, nsec = (rest[12], rest[13]) if len(rest) == 14 else (0xFFFFFFFF, 0xFFFFFFFF)
    port = port_no if raw == "OFPST10_PORT_REPLY" else from_ofp11(port_no)
    return PortStats(port, duration_sec=sec, duration_nsec=nsec, **values), pos + layout.size


def put_port_stats(s: PortStats, raw: str) -> bytes:
    """One port's entry in a ``raw`` port stats reply."""
    c = s.counters()
    if raw == "OFPST14_PORT_REPLY":
        eth = put_prop(OFPPSPT14_ETHERNET, OFP14_PORT_STATS_ETHERNET.pack(*c[8:]))
        return OFP14_PORT_STATS.pack(OFP14_PORT_STATS.size + len(eth), to_ofp11(s.port_no),
                                     s.duration_sec, s.duration_nsec, *c[:8]) + eth
    if raw == "OFPST13_PORT_REPLY":
        return OFP13_PORT_STATS.pack(to_ofp11(s.port_no), *c, s.duration_sec, s.duration_nsec)
    if raw == "OFPST11_PORT_REPLY":
        return OFP11_PORT_STATS.pack(to_ofp11(s.port_no), *c)
    return OFP10_PORT_STATS.pack(s.port_no, *c)


def _encode_port_reply(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, PortStatsReply)
    return b"".join(put_port_stats(s, raw.name) for s in body.stats)


def _stat(label: str, value: int, more: bool) -> str:
    return label + ("?" if value == UNKNOWN64 else str(value)) + (", " if more else "\n")


def format_port_stats(s: PortStats, port_names: dict[int, str] | None = None) -> str:
    """OVS ``ofputil_format_port_stats``."""
    text = "  port " + (" " if s.port_no < 10 else "") + format_port(s.port_no, port_names)
    text += ": rx " + "".join(_stat(label, value, label != "crc=") for label, value in (
        ("pkts=", s.rx_packets), ("bytes=", s.rx_bytes), ("drop=", s.rx_dropped),
        ("errs=", s.rx_errors), ("frame=", s.rx_frame_errors), ("over=", s.rx_over_errors),
        ("crc=", s.rx_crc_errors)))
    text += "           tx " + "".join(_stat(label, value, label != "coll=") for label, value in (
        ("pkts=", s.tx_packets), ("bytes=", s.tx_bytes), ("drop=", s.tx_dropped),
        ("errs=", s.tx_errors), ("coll=", s.collisions)))
    if s.duration_sec != 0xFFFFFFFF:
        text += "           duration=" + duration(s.duration_sec, s.duration_nsec) + "\n"
    return text


def _format_port_reply(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, PortStatsReply)
    names = dict(ctx.port_names) if ctx.port_names else None
    text = f" {len(body.stats)} ports\n"
    if ctx.verbosity < 1:
        return text
    return text + "".join(format_port_stats(s, names) for s in body.stats)


# --- port descriptions -----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PortDescRequest(Body):
    """OFPST_PORT_DESC request (a port selector only in OpenFlow 1.5)."""

    port_no: int = OFPP_ANY


@dataclass(frozen=True, slots=True)
class PortDescReply(Body):
    """OFPST_PORT_DESC reply."""

    ports: tuple[PhyPort, ...] = ()


def _decode_port_desc_request(version: int, raw: Raw, b: memoryview) -> Body:
    if raw.name == "OFPST15_PORT_DESC_REQUEST":
        return PortDescRequest(from_ofp11(OFP11_PORT_REQUEST.unpack_from(b)[0]))
    return PortDescRequest()


def _encode_port_desc_request(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, PortDescRequest)
    if raw.name == "OFPST15_PORT_DESC_REQUEST":
        return OFP11_PORT_REQUEST.pack(to_ofp11(body.port_no))
    return b""


def _pull_listed_port(version: int, raw: Raw, b: memoryview, pos: int) -> tuple[PhyPort, int]:
    return pull_port(version, b, pos)


def _encode_port_desc_reply(body: Body, version: int, raw: Raw) -> bytes:
    assert isinstance(body, PortDescReply)
    return b"".join(put_port(p, version) for p in body.ports)


def _format_port_desc_reply(body: Body, ctx: FormatContext) -> str:
    assert isinstance(body, PortDescReply)
    return "\n" + format_phy_ports(body.ports)


# --- tables ------------------------------------------------------------------------------

_FEATURES: Final = MsgCodec(_decode_features_and_ports, _encode_features, _format_features,
                            _partial_features)
_PORT_STATUS: Final = MsgCodec(_decode_port_status, _encode_port_status, _format_port_status)
_PORT_MOD: Final = MsgCodec(_decode_port_mod, _encode_port_mod, _format_port_mod)
_PORT_REQUEST: Final = MsgCodec(_decode_port_request, _encode_port_request,
                                _format_port_request)
_PORT_REPLY: Final = list_codec(_pull_port_stats, PortStatsReply, _encode_port_reply,
                                _format_port_reply)
_PORT_DESC_REQUEST: Final = MsgCodec(_decode_port_desc_request, _encode_port_desc_request,
                                     _format_port_request)
_PORT_DESC_REPLY: Final = list_codec(_pull_listed_port, PortDescReply,
                                     _encode_port_desc_reply, _format_port_desc_reply)

CODECS: Final[dict[str, MsgCodec]] = {
    "OFPT10_FEATURES_REPLY": _FEATURES,
    "OFPT11_FEATURES_REPLY": _FEATURES,
    "OFPT13_FEATURES_REPLY": _FEATURES,
    "OFPT10_PORT_STATUS": _PORT_STATUS,
    "OFPT11_PORT_STATUS": _PORT_STATUS,
    "OFPT14_PORT_STATUS": _PORT_STATUS,
    "OFPT10_PORT_MOD": _PORT_MOD,
    "OFPT11_PORT_MOD": _PORT_MOD,
    "OFPT14_PORT_MOD": _PORT_MOD,
    "OFPST10_PORT_REQUEST": _PORT_REQUEST,
    "OFPST11_PORT_REQUEST": _PORT_REQUEST,
    "OFPST10_PORT_REPLY": _PORT_REPLY,
    "OFPST11_PORT_REPLY": _PORT_REPLY,
    "OFPST13_PORT_REPLY": _PORT_REPLY,
    "OFPST14_PORT_REPLY": _PORT_REPLY,
    "OFPST10_PORT_DESC_REQUEST": _PORT_DESC_REQUEST,
    "OFPST15_PORT_DESC_REQUEST": _PORT_DESC_REQUEST,
    "OFPST10_PORT_DESC_REPLY": _PORT_DESC_REPLY,
    "OFPST11_PORT_DESC_REPLY": _PORT_DESC_REPLY,
    "OFPST14_PORT_DESC_REPLY": _PORT_DESC_REPLY,
}


def _three(v10: str, v11: str, v14: str, split: int = 5) -> Callable[[int], str]:
    return lambda v: v10 if v == 1 else (v14 if v >= split else v11)


DEFAULT_RAWS: Final[dict[type, Callable[[int], str]]] = {
    FeaturesReply: _three("OFPT10_FEATURES_REPLY", "OFPT11_FEATURES_REPLY",
                          "OFPT13_FEATURES_REPLY", split=4),
    PortStatus: _three("OFPT10_PORT_STATUS", "OFPT11_PORT_STATUS", "OFPT14_PORT_STATUS"),
    PortMod: _three("OFPT10_PORT_MOD", "OFPT11_PORT_MOD", "OFPT14_PORT_MOD"),
    PortStatsRequest: by_version("OFPST10_PORT_REQUEST", "OFPST11_PORT_REQUEST"),
    PortStatsReply: lambda v: {1: "OFPST10_PORT_REPLY", 2: "OFPST11_PORT_REPLY",
                               3: "OFPST11_PORT_REPLY",
                               4: "OFPST13_PORT_REPLY"}.get(v, "OFPST14_PORT_REPLY"),
    PortDescRequest: lambda v: ("OFPST15_PORT_DESC_REQUEST" if v >= 6
                                else "OFPST10_PORT_DESC_REQUEST"),
    PortDescReply: _three("OFPST10_PORT_DESC_REPLY", "OFPST11_PORT_DESC_REPLY",
                          "OFPST14_PORT_DESC_REPLY"),
}
