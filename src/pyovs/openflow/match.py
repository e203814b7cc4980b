"""Matches: the Match value, setting fields on it, prerequisites, NXM/OXM.

A match is kept the way Open vSwitch keeps it (``struct match``): as the
*storage slots* of a flow (``struct flow`` members such as ``dl_type``,
``nw_src``, ``tp_src``, ``vlan_tci``) each with a value and a mask, not as a
list of fields.  Several fields share storage -- ``tcp_src``, ``udp_src`` and
``icmp_type`` are all ``tp_src``; ``dl_vlan``, ``vlan_vid`` and
``dl_vlan_pcp`` are bit ranges of ``vlan_tci`` -- and which name a field is
printed or encoded under depends on the rest of the match (``icmp_type`` only
if ``nw_proto`` is 1).  Keeping the slots is what lets pyovs print a match
exactly like ``ovs-ofctl``, and encode it in exactly OVS's order, whichever
spelling the user or the peer used.

* ``MatchBuilder`` is the mutable form used while parsing text or decoding
  wire data.  ``set_field`` follows OVS's ``mf_set`` (including the special
  rules for VLAN fields, which also set or clear the "VLAN present" CFI bit,
  and for OpenFlow 1.1+ port numbers).
* ``Match`` is the immutable value (hashable, comparable) that messages carry.

Invariants: a slot is present only with a non-zero mask, and its value has no
bits outside its mask.

NXM and OXM
-----------
``decode_nx_match`` reads a sequence of NXM/OXM entries exactly as OVS's
``nx_pull_raw``: the same checks in the same order, so that bad input yields
the same error OVS would send (``OFPBMC_BAD_LEN``, ``BAD_FIELD``,
``BAD_WILDCARDS``, ``BAD_MASK``, ``BAD_VALUE``, ``BAD_PREREQ``,
``DUP_FIELD``).  Prerequisites are checked as each entry arrives, so
``eth_type`` must come before ``ip_src``, as in OVS.  ``encode_nx_match``
writes entries in OVS's ``nx_put_raw`` order and with the per-version codes,
so that what pyovs sends is byte for byte what ovs-ofctl sends.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final

from .errors import OFError, OFPErr
from .fields import (
    FIELD_BY_NAME,
    NXM_NX_COOKIE,
    NXM_NX_COOKIE_W,
    PIPELINE_FIELDS,
    field,
    lookup_header,
)
from .fieldtypes import SLOT_BITS, Field, Prereq
from .ports import OFPP11_OFFSET, OFPP_MAX, from_ofp11, to_ofp11

ETH_TYPE_IP: Final = 0x0800
ETH_TYPE_ARP: Final = 0x0806
ETH_TYPE_RARP: Final = 0x8035
ETH_TYPE_IPV6: Final = 0x86DD
ETH_TYPE_MPLS: Final = 0x8847
ETH_TYPE_MPLS_MCAST: Final = 0x8848
ETH_TYPE_NSH: Final = 0x894F
IPPROTO_ICMP: Final = 1
IPPROTO_TCP: Final = 6
IPPROTO_UDP: Final = 17
IPPROTO_ICMPV6: Final = 58
IPPROTO_SCTP: Final = 132
ND_NEIGHBOR_SOLICIT: Final = 135
ND_NEIGHBOR_ADVERT: Final = 136

VLAN_CFI: Final = 0x1000
VLAN_VID_MASK: Final = 0x0FFF
VLAN_PCP_MASK: Final = 0xE000
OFP10_VLAN_NONE: Final = 0xFFFF
FLOW_NW_FRAG_LATER: Final = 2
PT_ETH: Final = 0
OFPHTN_ETHERTYPE: Final = 1

CS_TRACKED: Final = 0x20
CS_INVALID: Final = 0x10
_CS_VALID_BITS: Final = 0x01 | 0x02 | 0x04 | 0x08 | 0x40 | 0x80

_SLOT_ORDER: Final = {name: i for i, name in enumerate(SLOT_BITS)}
_VLAN_FIELDS: Final = frozenset({"dl_vlan", "vlan_vid", "dl_vlan_pcp", "vlan_pcp"})


class MatchBuilder:
    """A match under construction: slots -> (value, mask), plus tunnel option lengths."""

    __slots__ = ("slots", "tun_len")

    def __init__(self, slots: Mapping[str, tuple[int, int]] | None = None,
                 tun_len: Mapping[int, tuple[int, bool]] | None = None) -> None:
        self.slots: dict[str, tuple[int, int]] = dict(slots or {})
        # tun_metadata index -> (length in bytes, whether it was given a mask):
        # OVS remembers both (match->tun_md) and encodes accordingly.
        self.tun_len: dict[int, tuple[int, bool]] = dict(tun_len or {})

    # --- slots -------------------------------------------------------------

    def get(self, slot: str) -> tuple[int, int]:
        return self.slots.get(slot, (0, 0))

    def value(self, slot: str) -> int:
        """The flow value of a slot (0 when wildcarded), as OVS's ``match->flow``."""
        return self.slots.get(slot, (0, 0))[0]

    def mask(self, slot: str) -> int:
        return self.slots.get(slot, (0, 0))[1]

    def put(self, slot: str, value: int, mask: int) -> None:
        """Replace a whole slot (value is masked here)."""
        if mask:
            self.slots[slot] = (value & mask, mask)
        else:
            self.slots.pop(slot, None)

    def replace_bits(self, slot: str, bits: int, value: int, mask: int) -> None:
        """Replace the ``bits`` of a slot with ``value``/``mask`` (already in slot position)."""
        old_v, old_m = self.get(slot)
        self.put(slot, (old_v & ~bits) | (value & mask & bits),
                 (old_m & ~bits) | (mask & bits))

    # --- fields (OVS mf_set / mf_get) ----------------------------------------

    def set_field(self, f: Field, value: int, mask: int | None = None) -> None:
        """Match ``f`` against ``value``/``mask`` in field (wire) terms, as ``mf_set``.

        A ``None`` or all-ones mask is an exact match, zero a wildcard.  The
        caller has checked the mask is valid for the field.
        """
        ones = f.all_ones
        if mask is None or mask == ones:
            self._set_exact(f, value)
        elif mask == 0 and not f.variable:
            self._set_wild(f)
        elif f.maskable:
            if f.name == "ipv6_label" and mask & 0xFFFFF == 0xFFFFF:
                self._set_exact(f, value)
            elif f.variable:
                self._set_tun_metadata(f, value, mask)
            else:
                self.replace_bits(f.slot, f.slot_bits, value << f.shift, mask << f.shift)

    def _set_exact(self, f: Field, value: int) -> None:
        name = f.name
        if f.variable:
            self._set_tun_metadata(f, value, f.all_ones)
        elif name in ("in_port_oxm", "actset_output"):
            self.put(f.slot, from_ofp11(value), 0xFFFF)
        elif name in _VLAN_FIELDS:
            tci, tci_mask = self.get("vlan_tci")
            if name == "dl_vlan":
                if value == OFP10_VLAN_NONE:
                    self.put("vlan_tci", 0, 0xFFFF)
                else:
                    tci = (tci & ~VLAN_VID_MASK) | VLAN_CFI | (value & VLAN_VID_MASK)
                    self.put("vlan_tci", tci, tci_mask | VLAN_VID_MASK | VLAN_CFI)
            elif name == "vlan_vid":
                self.replace_bits("vlan_tci", 0x1FFF, value, 0x1FFF)
            else:
                tci = (tci & ~VLAN_PCP_MASK) | VLAN_CFI | ((value << 13) & VLAN_PCP_MASK)
                self.put("vlan_tci", tci, tci_mask | VLAN_CFI | VLAN_PCP_MASK)
        else:
            bits = f.slot_bits
            self.replace_bits(f.slot, bits, value << f.shift, bits)

    def _set_wild(self, f: Field) -> None:
        name = f.name
        if name in ("dl_vlan", "vlan_vid"):
            tci, tci_mask = self.get("vlan_tci")
            if tci_mask & VLAN_PCP_MASK:
                self.put("vlan_tci", tci & ~VLAN_VID_MASK, tci_mask & ~VLAN_VID_MASK)
            else:
                self.put("vlan_tci", 0, 0)
        elif name in ("dl_vlan_pcp", "vlan_pcp"):
            tci, tci_mask = self.get("vlan_tci")
            if tci_mask & VLAN_VID_MASK:
                self.put("vlan_tci", tci & ~VLAN_PCP_MASK, tci_mask & ~VLAN_PCP_MASK)
            else:
                self.put("vlan_tci", 0, 0)
        else:
            self.replace_bits(f.slot, f.slot_bits, 0, 0)

    def _set_tun_metadata(self, f: Field, value: int, mask: int) -> None:
        index = int(f.name[len("tun_metadata"):])
        # OVS mf_field_len: the value's (and a real mask's) length without leading zeros.
        length = (value.bit_length() + 7) // 8
        masked = mask != f.all_ones
        if masked:
            length = max(length, (mask.bit_length() + 7) // 8)
        self.tun_len[index] = (length, masked)
        ones = (1 << (8 * length)) - 1
        self.slots[f.slot] = (value & mask & ones, mask & ones)

    def get_field(self, f: Field) -> tuple[int, int]:
        """``f``'s value and mask in field terms (OVS ``mf_get``)."""
        v, m = self.get(f.slot)
        if f.name in ("in_port_oxm", "actset_output"):
            return to_ofp11(v), (0xFFFFFFFF if m else 0)
        bits = f.slot_bits
        return (v & bits) >> f.shift, (m & bits) >> f.shift

    def is_all_wild(self, f: Field) -> bool:
        return not self.mask(f.slot) & f.slot_bits

    def set_default_packet_type(self) -> None:
        """OVS ``match_set_default_packet_type``: match Ethernet unless told otherwise."""
        if not self.mask("packet_type"):
            self.put("packet_type", PT_ETH, 0xFFFFFFFF)

    def add_ethernet_prereq(self, f: Field) -> None:
        if f.prereq is not Prereq.NONE:
            self.set_default_packet_type()

    # --- prerequisites -------------------------------------------------------

    def dl_type(self) -> int:
        """OVS ``get_dl_type``: the Ethertype, from packet_type for non-Ethernet packets."""
        pt = self.value("packet_type")
        if pt == PT_ETH:
            return self.value("dl_type")
        if pt >> 16 == OFPHTN_ETHERTYPE:
            return pt & 0xFFFF
        return 0x05FF

    def prereqs_ok(self, f: Field) -> bool:
        """OVS ``mf_are_match_prereqs_ok``: may ``f`` be matched given the rest?"""
        p = f.prereq
        if p is Prereq.NONE:
            return True
        dl_type = self.dl_type()
        ip_any = dl_type in (ETH_TYPE_IP, ETH_TYPE_IPV6)
        proto = self.value("nw_proto")
        later = self.value("nw_frag") & FLOW_NW_FRAG_LATER
        if p is Prereq.ETHERNET:
            return self.value("packet_type") == PT_ETH
        if p is Prereq.ARP:
            return dl_type in (ETH_TYPE_ARP, ETH_TYPE_RARP)
        if p is Prereq.IPV4:
            return dl_type == ETH_TYPE_IP
        if p is Prereq.IPV6:
            return dl_type == ETH_TYPE_IPV6
        if p is Prereq.VLAN_VID:
            return self.value("packet_type") == PT_ETH and bool(self.value("vlan_tci") & VLAN_CFI)
        if p is Prereq.MPLS:
            return dl_type in (ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST)
        if p is Prereq.IP_ANY:
            return ip_any
        if p is Prereq.NSH:
            return dl_type == ETH_TYPE_NSH
        if p is Prereq.CT_VALID:
            state = self.value("ct_state")
            return bool(state & _CS_VALID_BITS) or bool(
                state & CS_TRACKED and self.mask("ct_state") & CS_INVALID
                and not state & CS_INVALID)
        if p is Prereq.TCP:
            return ip_any and proto == IPPROTO_TCP and not later
        if p is Prereq.UDP:
            return ip_any and proto == IPPROTO_UDP and not later
        if p is Prereq.SCTP:
            return ip_any and proto == IPPROTO_SCTP and not later
        if p is Prereq.ICMPV4:
            return dl_type == ETH_TYPE_IP and proto == IPPROTO_ICMP
        if p is Prereq.ICMPV6:
            return dl_type == ETH_TYPE_IPV6 and proto == IPPROTO_ICMPV6
        nd = (dl_type == ETH_TYPE_IPV6 and proto == IPPROTO_ICMPV6
              and self.value("tp_dst") == 0
              and self.value("tp_src") in (ND_NEIGHBOR_SOLICIT, ND_NEIGHBOR_ADVERT))
        if p is Prereq.ND:
            return nd
        if p is Prereq.ND_SOLICIT:
            return nd and self.value("tp_src") == ND_NEIGHBOR_SOLICIT
        return nd and self.value("tp_src") == ND_NEIGHBOR_ADVERT

    def freeze(self) -> Match:
        items = tuple(sorted(((k, v, m) for k, (v, m) in self.slots.items()),
                             key=lambda e: _SLOT_ORDER[e[0]]))
        return Match(items, tuple(sorted(self.tun_len.items())))


@dataclass(frozen=True, slots=True)
class Match:
    """A flow match: storage slots with values and masks, as OVS's ``struct match``."""

    entries: tuple[tuple[str, int, int], ...] = ()
    """(slot, value, mask) for each matched slot, in storage order."""
    tun_lengths: tuple[tuple[int, tuple[int, bool]], ...] = ()
    """(tun_metadata index, (length in bytes, masked)) for matched tunnel options."""

    def builder(self) -> MatchBuilder:
        return MatchBuilder({k: (v, m) for k, v, m in self.entries}, dict(self.tun_lengths))

    def get(self, slot: str) -> tuple[int, int]:
        for k, v, m in self.entries:
            if k == slot:
                return v, m
        return 0, 0

    def get_field(self, f: Field | str) -> tuple[int, int]:
        """A field's (value, mask) in wire terms; (0, 0) when wildcarded."""
        return self.builder().get_field(field(f) if isinstance(f, str) else f)

    def with_field(self, f: Field | str, value: int, mask: int | None = None) -> Match:
        """A copy matching one more field (OVS ``mf_set``; no prerequisite check)."""
        b = self.builder()
        fld = field(f) if isinstance(f, str) else f
        b.set_field(fld, value, mask)
        b.add_ethernet_prereq(fld)
        return b.freeze()

    def __iter__(self) -> Iterator[tuple[str, int, int]]:
        return iter(self.entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def __str__(self) -> str:
        from .match_text import format_match  # text sits above the value
        return format_match(self)

    @classmethod
    def from_fields(cls, **fields: int | tuple[int, int]) -> Match:
        """Convenience for tests and callers: ``Match.from_fields(dl_type=0x800, nw_proto=6)``."""
        b = MatchBuilder()
        for name, spec in fields.items():
            f = FIELD_BY_NAME[name]
            value, mask = spec if isinstance(spec, tuple) else (spec, None)
            b.set_field(f, value, mask)
            b.add_ethernet_prereq(f)
        return b.freeze()


CATCHALL: Final = Match()


# --- NXM / OXM decoding ------------------------------------------------------

_U32: Final = struct.Struct("!I")
_U64: Final = struct.Struct("!Q")


def decode_nx_match(data: bytes | memoryview, *, strict: bool = True,
                    allow_cookie: bool = False,
                    pipeline_only: bool = False) -> tuple[Match, int, int]:
    """Decode NXM/OXM entries (no padding) as OVS ``nx_pull_raw``.

    Returns (match, cookie, cookie_mask); the cookie pseudo-field is accepted
    only with ``allow_cookie`` (NXM flow_mod and flow stats).  ``strict`` is
    OVS's default; loose decoding skips unknown fields and prerequisites.
    """
    b = MatchBuilder()
    cookie = cookie_mask = 0
    data = memoryview(data)
    n = len(data)
    pos = 0
    while pos < n:
        if n - pos < 4:
            raise OFError(OFPErr.OFPBMC_BAD_LEN, "partial OXM header")
        header = _U32.unpack_from(data, pos)[0] << 32
        exp_len = 0
        if header >> 48 == 0xFFFF:
            if n - pos < 8:
                raise OFError(OFPErr.OFPBMC_BAD_LEN, "partial experimenter OXM header")
            header = _U64.unpack_from(data, pos)[0]
            exp_len = 4
        length = (header >> 32) & 0xFF
        if length < exp_len:
            raise OFError(OFPErr.OFPBMC_BAD_LEN, "OXM length shorter than its header")
        pos += 4 + exp_len
        hit = lookup_header(header)
        is_cookie = allow_cookie and header in (NXM_NX_COOKIE, NXM_NX_COOKIE_W)
        payload_len = length - exp_len
        if pos + payload_len > n:
            raise OFError(OFPErr.OFPBMC_BAD_LEN, "OXM payload overruns the match")
        hasmask = bool(header >> 40 & 1)
        width = payload_len // 2 if hasmask else payload_len
        value = int.from_bytes(data[pos:pos + width], "big")
        mask = (int.from_bytes(data[pos + width:pos + 2 * width], "big") if hasmask
                else (1 << (8 * width)) - 1)
        pos += payload_len
        if hasmask and value & ~mask:
            raise OFError(OFPErr.OFPBMC_BAD_WILDCARDS, "value has bits outside its mask")
        if is_cookie:
            if cookie_mask:
                raise OFError(OFPErr.OFPBMC_DUP_FIELD, "duplicate cookie")
            cookie, cookie_mask = value, mask
            continue
        if hit is None:
            if strict:
                raise OFError(OFPErr.OFPBMC_BAD_FIELD, f"unknown OXM header {header:#x}")
            continue
        f = hit[0]
        if not f.maskable and mask not in (0, f.all_ones):
            raise OFError(OFPErr.OFPBMC_BAD_MASK, f"bad mask for field {f.name}")
        if not value_is_valid(f, value):
            raise OFError(OFPErr.OFPBMC_BAD_VALUE, f"bad value for field {f.name}")
        if strict and not b.prereqs_ok(f):
            raise OFError(OFPErr.OFPBMC_BAD_PREREQ, f"{f.name} lacks its prerequisites")
        if not b.is_all_wild(f):
            raise OFError(OFPErr.OFPBMC_DUP_FIELD, f"duplicate field {f.name}")
        if pipeline_only and f.name not in PIPELINE_FIELDS:
            raise OFError(OFPErr.OFPBRC_PIPELINE_FIELDS_ONLY, f"{f.name} is not a pipeline field")
        if f.variable:
            # As OVS: an unmasked entry has an all-ones mask, and the length
            # kept is the value's (and mask's) without leading zero bytes.
            b.set_field(f, value, mask if hasmask else f.all_ones)
        else:
            b.set_field(f, value, mask)
        b.add_ethernet_prereq(f)
    return b.freeze(), cookie, cookie_mask


def value_is_valid(f: Field, value: int) -> bool:
    """OVS ``mf_is_value_valid``."""
    if f.name in ("in_port_oxm", "actset_output"):
        return value < OFPP_MAX or value >= OFPP_MAX + OFPP11_OFFSET
    if f.name == "nsh_mdtype":
        return value in (1, 2)
    return not value & ~f.valid


# --- NXM / OXM encoding ------------------------------------------------------

class _Put:
    """Accumulates entries in nx_put_raw order."""

    __slots__ = ("implied_ethernet", "out", "version")

    def __init__(self, version: int) -> None:
        self.version = version
        self.out = bytearray()
        self.implied_ethernet = False

    def raw(self, f: Field, value: int, mask: int | None, n_bytes: int | None = None) -> None:
        code = f.code_for(self.version)
        if code is None:
            return
        width = f.n_bytes if n_bytes is None else n_bytes
        header = code.header(mask is not None, width)
        self.out += _U64.pack(header)[:code.header_len]
        self.out += value.to_bytes(width, "big")
        if mask is not None:
            self.out += mask.to_bytes(width, "big")
        if f.prereq is not Prereq.NONE:
            self.implied_ethernet = True

    def masked(self, name: str, value: int, mask: int) -> None:
        """``nxm_put``: nothing if wild, exact if all ones, else masked."""
        if mask:
            f = FIELD_BY_NAME[name]
            self.raw(f, value & f.all_ones, None if mask == f.all_ones else mask)

    def exact(self, name: str, value: int) -> None:
        f = FIELD_BY_NAME[name]
        self.raw(f, value & f.all_ones, None)


def encode_nx_match(match: Match, version: int = 0, cookie: int = 0,
                    cookie_mask: int = 0) -> bytes:
    """NXM (``version`` 0) or OXM entries for ``match``, unpadded, as OVS ``nx_put_raw``."""
    b = match.builder()
    p = _Put(version)
    oxm = version
    val, msk = b.value, b.mask

    pt, pt_mask = b.get("packet_type")
    if pt_mask and not (pt == PT_ETH and pt_mask == 0xFFFFFFFF):
        p.masked("packet_type", pt, pt_mask)
    p.masked("dp_hash", val("dp_hash"), msk("dp_hash"))
    if msk("recirc_id"):
        p.exact("recirc_id", val("recirc_id"))
    if msk("conj_id"):
        p.exact("conj_id", val("conj_id"))
    if msk("in_port"):
        if oxm:
            p.exact("in_port_oxm", to_ofp11(val("in_port")))
        else:
            p.exact("in_port", val("in_port"))
    if msk("actset_output"):
        p.exact("actset_output", to_ofp11(val("actset_output")))

    p.masked("eth_src", val("dl_src"), msk("dl_src"))
    p.masked("eth_dst", val("dl_dst"), msk("dl_dst"))
    p.masked("eth_type", val("dl_type"), msk("dl_type"))

    tci, tci_mask = b.get("vlan_tci")
    if oxm:
        vid, vid_mask = tci & 0x1FFF, tci_mask & 0x1FFF
        if vid_mask == 0x1FFF:
            p.exact("vlan_vid", vid)
        elif vid_mask:
            p.raw(FIELD_BY_NAME["vlan_vid"], vid, vid_mask)
        if vid and tci_mask & VLAN_PCP_MASK:
            p.exact("vlan_pcp", tci >> 13)
    else:
        p.masked("vlan_tci", tci, tci_mask)

    dl_type = b.dl_type()
    if dl_type in (ETH_TYPE_MPLS, ETH_TYPE_MPLS_MCAST):
        lse, lse_mask = b.get("mpls_lse")
        if lse_mask & 0x00000E00:
            p.exact("mpls_tc", (lse >> 9) & 7)
        if lse_mask & 0x00000100:
            p.exact("mpls_bos", (lse >> 8) & 1)
        if lse_mask & 0x000000FF:
            p.exact("mpls_ttl", lse & 0xFF)
        if lse_mask & 0xFFFFF000:
            p.exact("mpls_label", lse >> 12)

    if dl_type in (ETH_TYPE_IP, ETH_TYPE_IPV6):
        _put_ip(p, b, dl_type)
    elif dl_type in (ETH_TYPE_ARP, ETH_TYPE_RARP):
        if msk("nw_proto"):
            p.exact("arp_op", val("nw_proto"))
        p.masked("arp_spa", val("nw_src"), msk("nw_src"))
        p.masked("arp_tpa", val("nw_dst"), msk("nw_dst"))
        p.masked("arp_sha", val("arp_sha"), msk("arp_sha"))
        p.masked("arp_tha", val("arp_tha"), msk("arp_tha"))

    p.masked("tun_id", val("tun_id"), msk("tun_id"))
    p.masked("tun_flags", val("tun_flags"), msk("tun_flags"))
    for name in ("tun_src", "tun_dst", "tun_ipv6_src", "tun_ipv6_dst", "tun_gbp_id",
                 "tun_gbp_flags"):
        p.masked(name, val(name), msk(name))
    for index, (length, masked) in sorted(b.tun_len.items()):
        f = FIELD_BY_NAME[f"tun_metadata{index}"]
        v, m = b.get(f.slot)
        p.raw(f, v, m if masked else None, length)
    for name in ("tun_erspan_idx", "tun_erspan_ver", "tun_erspan_dir", "tun_erspan_hwid",
                 "tun_gtpu_flags", "tun_gtpu_msgtype", "nsh_flags", "nsh_ttl", "nsh_mdtype",
                 "nsh_np"):
        p.masked(name, val(name), msk(name))
    path, path_mask = b.get("nsh_path_hdr")
    spi_mask = path_mask >> 8
    p.masked("nsh_spi", path >> 8, 0xFFFFFFFF if spi_mask == 0xFFFFFF else spi_mask)
    p.masked("nsh_si", path & 0xFF, path_mask & 0xFF)
    for i in range(1, 5):
        p.masked(f"nsh_c{i}", val(f"nsh_c{i}"), msk(f"nsh_c{i}"))

    regs, regs_mask = b.get("regs")
    if oxm < 6:
        for i in range(16):
            shift = (15 - i) * 32
            p.masked(f"reg{i}", regs >> shift, (regs_mask >> shift) & 0xFFFFFFFF)
    else:
        for i in range(8):
            shift = (7 - i) * 64
            p.masked(f"xreg{i}", regs >> shift, (regs_mask >> shift) & (2**64 - 1))

    for name, slot in (("pkt_mark", "pkt_mark"), ("ct_state", "ct_state"),
                       ("ct_zone", "ct_zone"), ("ct_mark", "ct_mark"),
                       ("ct_label", "ct_label"), ("ct_nw_src", "ct_nw_src"),
                       ("ct_ipv6_src", "ct_ipv6_src"), ("ct_nw_dst", "ct_nw_dst"),
                       ("ct_ipv6_dst", "ct_ipv6_dst")):
        p.masked(name, val(slot), msk(slot))
    if val("ct_nw_proto"):
        for name in ("ct_nw_proto", "ct_tp_src", "ct_tp_dst"):
            p.masked(name, val(name), msk(name))
    p.masked("metadata", val("metadata"), msk("metadata"))

    if cookie_mask:
        masked = cookie_mask != 2**64 - 1
        p.out += _U32.pack((NXM_NX_COOKIE_W if masked else NXM_NX_COOKIE) >> 32)
        p.out += _U64.pack(cookie & cookie_mask)
        if masked:
            p.out += _U64.pack(cookie_mask)

    if pt == PT_ETH and pt_mask == 0xFFFFFFFF and not p.implied_ethernet:
        head = _Put(version)
        head.exact("packet_type", PT_ETH)
        return bytes(head.out + p.out)
    return bytes(p.out)


def _put_ip(p: _Put, b: MatchBuilder, dl_type: int) -> None:
    """OVS ``nxm_put_ip``: L3 and L4 entries of an IPv4 or IPv6 match."""
    val, msk = b.value, b.mask
    if dl_type == ETH_TYPE_IP:
        p.masked("ip_src", val("nw_src"), msk("nw_src"))
        p.masked("ip_dst", val("nw_dst"), msk("nw_dst"))
    else:
        p.masked("ipv6_src", val("ipv6_src"), msk("ipv6_src"))
        p.masked("ipv6_dst", val("ipv6_dst"), msk("ipv6_dst"))
    frag, frag_mask = val("nw_frag") & 3, msk("nw_frag") & 3
    p.masked("ip_frag", frag, 0xFF if frag_mask == 3 else frag_mask)
    tos, tos_mask = b.get("nw_tos")
    if tos_mask & 0xFC:
        if p.version:
            p.exact("ip_dscp", tos >> 2)
        else:
            p.exact("nw_tos", tos & 0xFC)
    if tos_mask & 0x03:
        p.exact("nw_ecn", tos & 0x03)
    if msk("nw_ttl"):
        p.exact("nw_ttl", val("nw_ttl"))
    p.masked("ipv6_label", val("ipv6_label"), msk("ipv6_label"))
    if not msk("nw_proto"):
        return
    proto = val("nw_proto")
    p.exact("nw_proto", proto)
    tp_src, tp_src_mask = b.get("tp_src")
    tp_dst, tp_dst_mask = b.get("tp_dst")
    if proto in (IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP):
        prefix = {IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp", IPPROTO_SCTP: "sctp"}[proto]
        p.masked(f"{prefix}_src", tp_src, tp_src_mask)
        p.masked(f"{prefix}_dst", tp_dst, tp_dst_mask)
        if proto == IPPROTO_TCP:
            p.masked("tcp_flags", val("tcp_flags"), msk("tcp_flags"))
    elif dl_type == ETH_TYPE_IP and proto == IPPROTO_ICMP:
        if tp_src_mask:
            p.exact("icmp_type", tp_src)
        if tp_dst_mask:
            p.exact("icmp_code", tp_dst)
    elif dl_type == ETH_TYPE_IPV6 and proto == IPPROTO_ICMPV6:
        if tp_src_mask:
            p.exact("icmpv6_type", tp_src)
        if tp_dst_mask:
            p.exact("icmpv6_code", tp_dst)
        if tp_dst == 0 and tp_src in (ND_NEIGHBOR_SOLICIT, ND_NEIGHBOR_ADVERT):
            if msk("igmp_group_ip4"):
                p.exact("nd_reserved", val("igmp_group_ip4"))
            p.masked("nd_target", val("nd_target"), msk("nd_target"))
            if msk("tcp_flags"):
                p.exact("nd_options_type", val("tcp_flags"))
            if tp_src == ND_NEIGHBOR_SOLICIT:
                p.masked("nd_sll", val("arp_sha"), msk("arp_sha"))
            if tp_src == ND_NEIGHBOR_ADVERT:
                p.masked("nd_tll", val("arp_tha"), msk("arp_tha"))


def pad8(n: int) -> int:
    """Bytes of padding to reach a multiple of 8."""
    return -n % 8


_OXM_HEADER: Final = struct.Struct("!HH")
OFPMT_STANDARD: Final = 0
OFPMT_OXM: Final = 1


def encode_oxm_match(match: Match, version: int) -> bytes:
    """``ofp11_match_header`` + OXM entries + padding (OVS ``oxm_put_match``)."""
    body = encode_nx_match(match, version)
    length = 4 + len(body)
    return _OXM_HEADER.pack(OFPMT_OXM, length) + body + bytes(pad8(length))


def decode_oxm_match(data: bytes | memoryview, offset: int = 0, strict: bool = True,
                     pipeline_only: bool = False) -> tuple[Match, int]:
    """Decode an ``ofp11_match_header``-framed OXM match: (match, bytes consumed)."""
    data = memoryview(data)
    if len(data) - offset < 4:
        raise OFError(OFPErr.OFPBMC_BAD_LEN, "truncated match header")
    match_type, length = _OXM_HEADER.unpack_from(data, offset)
    if length < 4:
        raise OFError(OFPErr.OFPBMC_BAD_LEN, "match length too short")
    if match_type != OFPMT_OXM:
        raise OFError(OFPErr.OFPBMC_BAD_TYPE, f"match type {match_type}")
    padded = length + pad8(length)
    if offset + padded > len(data):
        raise OFError(OFPErr.OFPBMC_BAD_LEN, "match overruns the message")
    match, _, _ = decode_nx_match(data[offset + 4:offset + length], strict=strict,
                                  pipeline_only=pipeline_only)
    return match, padded
