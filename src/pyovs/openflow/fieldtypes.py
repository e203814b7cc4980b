"""The row type of the match-field table, and NXM/OXM header arithmetic.

Open vSwitch describes every field it can match or modify in one table
(``meta-flow.h``): its width, whether it can be masked, how it is written
in flow text, which other fields it needs ("prerequisites"), and the codes
that name it on the wire -- NXM (Nicira's extensible match) and OXM (the
standard OpenFlow 1.2+ form of the same TLV idea).  pyovs keeps the same
table as data in ``fields.py``, which also indexes it; this module defines
the row type.  ``match.py`` reads the table to store, encode and check
matches, ``values.py`` to parse and format values, and the action codecs to
encode ``set_field``/``load``/``move``.

Wire codes
----------
An NXM/OXM entry starts with a 32-bit header::

    class (16) | field (7) | hasmask (1) | length (8)

followed, for the experimenter class 0xffff only, by a 32-bit experimenter
id that counts towards ``length``.  pyovs handles a header as one integer:
64 bits wide (``class << 48 | field << 41 | hasmask << 40 | length << 32 |
experimenter``), as OVS does, so that lookups need no special case.

A field may have several codes.  ``Field.code_for(version)`` picks the one
OVS uses for a given OpenFlow version: the last code whose ``version`` is at
most the requested one, or the first code if none qualifies.  Version 0
means NXM, so ``code_for(0)`` is the name ovs-ofctl prints in ``load`` and
``move`` actions (``NXM_OF_ETH_SRC``, ``OXM_OF_METADATA``).

Values
------
Every value and mask is a Python ``int`` (a MAC is a 48-bit int, an IPv6
address a 128-bit int): masking is then one ``&`` whatever the field.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Final

from .protocols import ANY, NXM_OXM_ANY, OF10_STD_ANY, Protocol


class Fmt(enum.Enum):
    """How a field's value is written in flow text (OVS ``enum mf_string``)."""

    DEC = "decimal"
    HEX = "hexadecimal"
    CT_STATE = "ct state"
    ETH = "Ethernet"
    IPV4 = "IPv4"
    IPV6 = "IPv6"
    PORT = "OpenFlow 1.0 port"
    PORT_OXM = "OpenFlow 1.1+ port"
    FRAG = "frag"
    TNL_FLAGS = "tunnel flags"
    TCP_FLAGS = "TCP flags"
    PACKET_TYPE = "packet type"


class Prereq(enum.Enum):
    """What a match must contain before it may match a field (``enum mf_prereqs``)."""

    NONE = "none"
    ETHERNET = "Ethernet"
    ARP = "ARP"
    VLAN_VID = "VLAN VID"
    IPV4 = "IPv4"
    IPV6 = "IPv6"
    IP_ANY = "IPv4/IPv6"
    NSH = "NSH"
    CT_VALID = "CT"
    MPLS = "MPLS"
    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"
    ICMPV4 = "ICMPv4"
    ICMPV6 = "ICMPv6"
    ND = "ND"
    ND_SOLICIT = "ND solicit"
    ND_ADVERT = "ND advert"


class OldMatch(enum.Enum):
    """What the fixed-layout OpenFlow 1.0/1.1 matches can say about a field."""

    NO = "no"
    EXACT = "exact match"
    CIDR = "CIDR mask"
    BITWISE = "bitwise mask"


OXM_CLASS_EXPERIMENTER: Final = 0xFFFF
NX_VENDOR_ID: Final = 0x00002320
ONF_VENDOR_ID: Final = 0x4F4E4600

# Code name prefix -> (experimenter id, class).  The longest matching prefix
# wins ("OXM_OF_PKT_REG" before "OXM_OF_"), as in OVS's build scripts.
OXM_CLASSES: Final[tuple[tuple[str, int, int], ...]] = (
    ("NXM_OF_", 0, 0x0000),
    ("NXM_NX_", 0, 0x0001),
    ("NXOXM_NSH_", 0x005AD650, OXM_CLASS_EXPERIMENTER),
    ("OXM_OF_", 0, 0x8000),
    ("OXM_OF_PKT_REG", 0, 0x8001),
    ("ONFOXM_ET_", ONF_VENDOR_ID, OXM_CLASS_EXPERIMENTER),
    ("ERICOXM_OF_", 0, 0x1000),
    ("NXOXM_ET_", NX_VENDOR_ID, OXM_CLASS_EXPERIMENTER),
)

# The storage slots of a Match (OVS's ``struct flow`` members) and their widths
# in bits.  The sixteen 32-bit registers are one 512-bit slot so that reg<N>,
# xreg<N> and xxreg<N> are plain bit ranges of it (reg0 is the top 32 bits, as
# xreg0 is reg0:reg1 in OVS).
SLOT_BITS: Final[dict[str, int]] = {
    "packet_type": 32, "dp_hash": 32, "recirc_id": 32, "conj_id": 32,
    "tun_id": 64, "tun_src": 32, "tun_dst": 32, "tun_ipv6_src": 128,
    "tun_ipv6_dst": 128, "tun_flags": 16, "tun_ttl": 8, "tun_tos": 8,
    "tun_gbp_id": 16, "tun_gbp_flags": 8, "tun_erspan_idx": 32,
    "tun_erspan_ver": 8, "tun_erspan_dir": 8, "tun_erspan_hwid": 8,
    "tun_gtpu_flags": 8, "tun_gtpu_msgtype": 8,
    **{f"tun_metadata{i}": 992 for i in range(64)},
    "metadata": 64, "in_port": 16, "actset_output": 16, "skb_priority": 32,
    "pkt_mark": 32, "ct_state": 8, "ct_zone": 16, "ct_mark": 32, "ct_label": 128,
    "ct_nw_proto": 8, "ct_nw_src": 32, "ct_nw_dst": 32, "ct_ipv6_src": 128,
    "ct_ipv6_dst": 128, "ct_tp_src": 16, "ct_tp_dst": 16, "regs": 512,
    "dl_src": 48, "dl_dst": 48, "dl_type": 16, "vlan_tci": 16, "mpls_lse": 32,
    # Inner VLAN and MPLS headers: no match field names them, but packets
    # (packet-in printing) fill them as OVS's flow does.
    "vlan_tci1": 16, "mpls_lse1": 32, "mpls_lse2": 32,
    "nw_src": 32, "nw_dst": 32, "ipv6_src": 128, "ipv6_dst": 128, "ipv6_label": 32,
    "nw_proto": 8, "nw_tos": 8, "nw_ttl": 8, "nw_frag": 8, "arp_sha": 48,
    "arp_tha": 48, "tp_src": 16, "tp_dst": 16, "tcp_flags": 16, "nd_target": 128,
    "igmp_group_ip4": 32, "nsh_flags": 8, "nsh_ttl": 8, "nsh_mdtype": 8,
    "nsh_np": 8, "nsh_path_hdr": 32, "nsh_c1": 32, "nsh_c2": 32, "nsh_c3": 32,
    "nsh_c4": 32,
}

SHARED_SLOTS: Final = frozenset({"regs", "nw_tos", "vlan_tci", "mpls_lse", "nsh_path_hdr"})
"""Slots holding several fields side by side, each owning a bit range."""


def nxm_header(oxm_class: int, field: int, hasmask: bool, length: int,
               vendor: int = 0) -> int:
    """The 64-bit form of an NXM/OXM header (see the module docstring)."""
    return (oxm_class << 48 | field << 41 | int(hasmask) << 40 | length << 32
            | vendor)


@dataclass(frozen=True, slots=True)
class Code:
    """One NXM or OXM assignment of a field."""

    name: str
    """The assignment's name, e.g. ``NXM_OF_ETH_SRC`` or ``OXM_OF_ETH_SRC``."""
    vendor: int
    """Experimenter id; non-zero only for class 0xffff."""
    oxm_class: int
    """The 16-bit class: 0/1 for NXM, 0x8000 for OpenFlow basic, 0xffff ..."""
    field: int
    """The 7-bit field number within the class."""
    length: int
    """The header's length for an exact match, counting an experimenter id."""
    version: int
    """First OpenFlow version (wire number) using it as OXM; 0 for NXM/extensions."""

    @property
    def is_experimenter(self) -> bool:
        return self.oxm_class == OXM_CLASS_EXPERIMENTER

    @property
    def header_len(self) -> int:
        """Bytes of header on the wire: 4, or 8 with the experimenter id."""
        return 8 if self.is_experimenter else 4

    def header(self, masked: bool = False, n_bytes: int | None = None) -> int:
        """The 64-bit header for an entry of ``n_bytes`` (default: the field's)."""
        extra = 4 if self.is_experimenter else 0
        payload = self.length - extra if n_bytes is None else n_bytes
        return nxm_header(self.oxm_class, self.field, masked,
                          payload * (2 if masked else 1) + extra, self.vendor)


@dataclass(frozen=True, slots=True)
class Field:
    """One row of the field table (OVS ``struct mf_field``)."""

    id: int
    """Position in ``FIELDS`` (OVS's ``enum mf_field_id`` order)."""
    name: str
    """Canonical ovs-ofctl name, e.g. ``eth_src``."""
    alias: str | None
    """The other accepted name, e.g. ``dl_src``."""
    n_bytes: int
    """Width on the wire."""
    n_bits: int
    """Significant bits (low bits of the wire value)."""
    maskable: bool
    """True if an arbitrary bitwise mask is allowed."""
    fmt: Fmt
    """Text format of a value."""
    prereq: Prereq
    """What the match must already contain."""
    writable: bool
    """True if actions may modify it."""
    of10: OldMatch
    """What ``ofp10_match`` can say about it."""
    of11: OldMatch
    """What ``ofp11_match`` can say about it."""
    slot: str
    """Storage slot in a ``Match`` (a ``struct flow`` member)."""
    shift: int
    """Bit position of the value inside the slot."""
    valid: int
    """The bits a value may have (OVS ``mf_is_value_valid``), in field terms."""
    bits: int
    """The bits of the slot an exact match sets, in slot position."""
    codes: tuple[Code, ...]
    """NXM/OXM assignments, in OVS's order."""
    variable: bool = False
    """Variable-length on the wire (tunnel metadata)."""

    def with_id(self, id_: int) -> Field:
        return replace(self, id=id_)

    @property
    def all_ones(self) -> int:
        """An exact mask in wire terms."""
        return (1 << (8 * self.n_bytes)) - 1

    @property
    def slot_bits(self) -> int:
        """The bits of the slot this field covers."""
        return self.bits

    def code_for(self, version: int) -> Code | None:
        """The code OVS uses in OpenFlow ``version`` (0 for NXM)."""
        chosen: Code | None = None
        for code in self.codes:
            if chosen is None or version >= code.version:
                chosen = code
        return chosen

    @property
    def usable(self) -> tuple[Protocol, Protocol, Protocol]:
        """Protocols that can express an exact, a CIDR and a bitwise match on it.

        Derived as OVS's build scripts do from the OF1.0/OF1.1 columns and
        the presence of an NXM/OXM code.
        """
        if self.name in ("dl_vlan", "dl_vlan_pcp"):
            exact = ANY
        else:
            exact = Protocol.NONE
            if self.of10 is not OldMatch.NO:
                exact |= OF10_STD_ANY
            if self.of11 is not OldMatch.NO:
                exact |= Protocol.OF11_STD
            if self.codes:
                exact |= NXM_OXM_ANY
        if not self.maskable:
            return exact, Protocol.NONE, Protocol.NONE
        cidr = bitwise = exact
        if self.of10 is OldMatch.EXACT:
            cidr &= ~OF10_STD_ANY
            bitwise &= ~OF10_STD_ANY
        elif self.of10 is OldMatch.CIDR:
            bitwise &= ~OF10_STD_ANY
        if self.of11 is OldMatch.EXACT:
            cidr &= ~Protocol.OF11_STD
            bitwise &= ~Protocol.OF11_STD
        return exact, cidr, bitwise

    @property
    def nxm_name(self) -> str:
        """The name ovs-ofctl writes for this field in ``load``/``move``."""
        code = self.code_for(0)
        return code.name if code is not None else self.name


def _code(name: str, number: int, version: int, n_bytes: int) -> Code:
    best = max((c for c in OXM_CLASSES if name.startswith(c[0])), key=lambda c: len(c[0]))
    _, vendor, oxm_class = best
    extra = 4 if oxm_class == OXM_CLASS_EXPERIMENTER else 0
    return Code(name, vendor, oxm_class, number, n_bytes + extra, version)


def make_field(name: str, alias: str | None, n_bytes: int, n_bits: int,
               maskable: bool, fmt: Fmt, prereq: Prereq, writable: bool,
               of10: OldMatch, of11: OldMatch, slot: str, shift: int,
               codes: tuple[tuple[str, int, int], ...], *, valid: int | None = None,
               bits: int | None = None, variable: bool = False) -> Field:
    """One table row; see ``fields`` for the column meanings.

    An exact match on a field sets the bits of its slot given by ``bits``:
    by default the field's own bit range for slots shared by bit ranges
    (``SHARED_SLOTS``), otherwise the whole slot -- OVS stores
    ``icmp_type=8`` as ``tp_src=8/0xffff`` and ``tcp_flags=+syn`` exactly as
    ``tcp_flags=0x2/0xffff`` when the mask is full.
    """
    if bits is None:
        bits = (((1 << n_bits) - 1) << shift if slot in SHARED_SLOTS
                else (1 << SLOT_BITS[slot]) - 1)
    return Field(
        id=-1, name=name, alias=alias, n_bytes=n_bytes, n_bits=n_bits,
        maskable=maskable, fmt=fmt, prereq=prereq, writable=writable,
        of10=of10, of11=of11, slot=slot, shift=shift,
        valid=(1 << n_bits) - 1 if valid is None else valid, bits=bits,
        codes=tuple(_code(c[0], c[1], c[2], n_bytes) for c in codes),
        variable=variable)
