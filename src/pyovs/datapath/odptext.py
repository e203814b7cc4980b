"""Datapath flows and actions as ``ovs-appctl dpctl/dump-flows`` prints them.

OVS prints a netdev datapath flow by turning its key and mask into netlink
attributes (``odp_flow_key_from_flow``) and formatting those
(``odp_flow_format`` in lib/odp-util.c); pyovs goes straight from the
flow slots to the same text.  ``KEY_ATTRS`` is that mapping as data: each
attribute's fields, in OVS's order, with the slot each one shows and how
it is printed.  The rules kept from OVS:

* an attribute whose mask is all zeros is left out (``encap`` excepted,
  and ``recirc_id``, ``in_port``, ``packet_type``, which the userspace
  datapath always matches exactly); a field with a zero mask is left out
  of its attribute; a partially masked field prints ``value/mask``;
* ``in_port`` prints the port's name when names are given;
* a tagged flow prints ``eth_type(0x8100),vlan(vid=..,pcp=..),encap(...)``
  with the inner headers inside ``encap``;
* ``frag`` is an enumeration (no, first, later) with an all-or-nothing mask;
* the statistics are ``packets:N, bytes:N, used:S.SSSs`` (``used:never``
  for a flow that served no packet), ``flags:SFP.`` when TCP packets were
  among them, then ``actions:`` -- ``drop`` when
  the list is empty.

``set`` actions print as OVS's masked set (``set(ipv4(dst=10.0.0.1))``):
the slot's attribute with only the fields set; consecutive sets of one
header print as one, as OVS commits them (``set(ipv4(dst=10.0.0.9,ttl=63))``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Final

from .dpif import DpFlow

__all__ = ["KEY_ATTRS", "format_actions", "format_dpflow", "format_key", "format_tcp_flags"]

FRAG_ANY, FRAG_LATER = 1, 2
TCP_FLAG_NAMES: Final = ("fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns",
                         "[200]", "[400]", "[800]")

# attribute -> ((field name, slot, format, field width in bits), ...)
Field = tuple[str, str, str, int]
KEY_ATTRS: Final[dict[str, tuple[Field, ...]]] = {
    "eth": (("src", "dl_src", "eth", 48), ("dst", "dl_dst", "eth", 48)),
    "ipv4": (("src", "nw_src", "ip4", 32), ("dst", "nw_dst", "ip4", 32),
             ("proto", "nw_proto", "u", 8), ("tos", "nw_tos", "x", 8),
             ("ttl", "nw_ttl", "u", 8), ("frag", "nw_frag", "frag", 8)),
    "ipv6": (("src", "ipv6_src", "ip6", 128), ("dst", "ipv6_dst", "ip6", 128),
             ("label", "ipv6_label", "label", 20), ("proto", "nw_proto", "u", 8),
             ("tclass", "nw_tos", "x", 8), ("hlimit", "nw_ttl", "u", 8),
             ("frag", "nw_frag", "frag", 8)),
    "tcp": (("src", "tp_src", "u", 16), ("dst", "tp_dst", "u", 16)),
    "udp": (("src", "tp_src", "u", 16), ("dst", "tp_dst", "u", 16)),
    "sctp": (("src", "tp_src", "u", 16), ("dst", "tp_dst", "u", 16)),
    "icmp": (("type", "tp_src", "u", 8), ("code", "tp_dst", "u", 8)),
    "icmpv6": (("type", "tp_src", "u", 8), ("code", "tp_dst", "u", 8)),
    "arp": (("sip", "nw_src", "ip4", 32), ("tip", "nw_dst", "ip4", 32),
            ("op", "nw_proto", "u", 16), ("sha", "arp_sha", "eth", 48),
            ("tha", "arp_tha", "eth", 48)),
    "nd": (("target", "nd_target", "ip6", 128), ("sll", "arp_sha", "eth", 48),
           ("tll", "arp_tha", "eth", 48)),
}
_L4_ATTR: Final = {6: "tcp", 17: "udp", 132: "sctp", 1: "icmp", 58: "icmpv6"}
# The attribute a set action's slot belongs to, by ethertype (0: any).
_SET_ATTR: Final = {"dl_src": "eth", "dl_dst": "eth", "ipv6_src": "ipv6", "ipv6_dst": "ipv6",
                    "ipv6_label": "ipv6", "arp_sha": "arp", "arp_tha": "arp"}


def _mac(v: int) -> str:
    return ":".join(f"{b:02x}" for b in v.to_bytes(6, "big"))


def _value(fmt: str, v: int) -> str:
    if fmt == "eth":
        return _mac(v)
    if fmt == "ip4":
        return str(ipaddress.IPv4Address(v))
    if fmt == "ip6":
        return str(ipaddress.IPv6Address(v))
    if fmt in ("x", "label"):
        return _hex(v)
    return str(v)


def _hex(v: int) -> str:
    """C's ``%#x``: no prefix for zero."""
    return f"{v:#x}" if v else "0"


def _field(name: str, fmt: str, bits: int, v: int, m: int) -> str | None:
    full = (1 << bits) - 1
    if fmt == "frag":
        if not m & FRAG_ANY:
            return None
        kind = "no" if not v & FRAG_ANY else "later" if v & FRAG_LATER else "first"
        return f"{name}={kind}"
    m &= full
    if not m:
        return None
    text = f"{name}={_value(fmt, v & full)}"
    if m != full:
        mask = (_mac(m) if fmt == "eth" else _value(fmt, m) if fmt in ("ip4", "ip6")
                else f"{m:#x}")
        text += f"/{mask}"
    return text


def _attr(attr: str, key: Mapping[str, int], mask: Mapping[str, int]) -> str | None:
    parts = [p for name, slot, fmt, bits in KEY_ATTRS[attr]
             if (p := _field(name, fmt, bits, key.get(slot, 0), mask.get(slot, 0)))]
    return f"{attr}({','.join(parts)})" if parts else None


def _vlan(tci: int, m: int) -> str:
    parts = []
    vid, vmask, pcp, pmask = tci & 0xFFF, m & 0xFFF, tci >> 13, (m >> 13) & 7
    if vid or vmask:
        parts.append(f"vid={vid}" + ("" if vmask == 0xFFF else f"/0x{vmask:x}"))
    if pcp or pmask:
        parts.append(f"pcp={pcp}" + ("" if pmask == 7 else f"/0x{pmask:x}"))
    if not tci & 0x1000:
        parts.append("cfi=0")
    return ",".join(parts)


def _mpls(lse: int, m: int = 0xFFFFFFFF) -> str:
    """OVS format_mpls for one label stack entry (exact, or every field with its mask)."""
    fields = (lse >> 12, (lse >> 9) & 7, lse & 0xFF, (lse >> 8) & 1)
    if m == 0xFFFFFFFF:
        return "label={},tc={},ttl={},bos={}".format(*fields)
    masks = (m >> 12, (m >> 9) & 7, m & 0xFF, (m >> 8) & 1)
    return (f"label={fields[0]}/0x{masks[0]:x},tc={fields[1]}/{masks[1]:x},"
            f"ttl={fields[2]}/0x{masks[2]:x},bos={fields[3]}/{masks[3]:x}")


def _tcp_flags(v: int, m: int) -> str:
    def names(flags: int, sep: str) -> str:
        out = [TCP_FLAG_NAMES[i] for i in range(12) if flags >> i & 1]
        return sep.join(out) if out else "0"
    m &= 0xFFF
    if m == 0xFFF:
        return names(v & 0xFFF, "|")
    if not m:
        return "0/0"
    return "".join(("+" if v >> i & 1 else "-") + TCP_FLAG_NAMES[i]
                   for i in range(12) if m >> i & 1)


def _l4_attr(l3: str, proto: int) -> str | None:
    """ICMP goes with IPv4 and ICMPv6 with IPv6 only (odp_flow_key_from_flow)."""
    l4 = _L4_ATTR.get(proto)
    if (l4 == "icmp" and l3 != "ipv4") or (l4 == "icmpv6" and l3 != "ipv6"):
        return None
    return l4


def _l3_and_up(key: Mapping[str, int], mask: Mapping[str, int]) -> list[str]:
    out = []
    dl_type, dl_mask = key.get("dl_type", 0), mask.get("dl_type", 0)
    if dl_mask:
        out.append(f"eth_type(0x{dl_type:04x}" +
                   ("" if dl_mask == 0xFFFF else f"/0x{dl_mask:04x}") + ")")
    if dl_type in (0x8847, 0x8848) and mask.get("mpls_lse", 0):
        out.append(f"mpls({_mpls(key.get('mpls_lse', 0), mask['mpls_lse'])})")
    attr = {0x0800: "ipv4", 0x86DD: "ipv6", 0x0806: "arp", 0x8035: "arp"}.get(dl_type)
    if attr is None:
        return out
    text = _attr(attr, key, mask)
    if text:
        out.append(text)
    if attr == "arp" or key.get("nw_frag", 0) & FRAG_LATER:
        return out
    l4 = _l4_attr(attr, key.get("nw_proto", 0))
    if l4 is None:
        return out
    text = _attr(l4, key, mask)
    if text:
        out.append(text)
    if l4 == "tcp" and mask.get("tcp_flags", 0):
        out.append(f"tcp_flags({_tcp_flags(key.get('tcp_flags', 0), mask['tcp_flags'])})")
    if l4 == "icmpv6" and key.get("tp_src") in (135, 136) and key.get("tp_dst", 0) == 0:
        text = _attr("nd", key, mask)
        if text:
            out.append(text)
    return out


def format_key(key: Mapping[str, int], mask: Mapping[str, int],
               names: Mapping[int, str] | None = None) -> str:
    """The flow part of a dump-flows line."""
    out = []
    rid, rmask = key.get("recirc_id", 0), mask.get("recirc_id", 0xFFFFFFFF)
    if rmask:
        out.append(f"recirc_id({_hex(rid)}" + ("" if rmask == 0xFFFFFFFF else f"/{rmask:#x}")
                   + ")")
    port = key.get("in_port", 0)
    name = names.get(port) if names else None
    out.append(f"in_port({name if name is not None else port})")
    pt = key.get("packet_type", 0)
    out.append(f"packet_type(ns={pt >> 16},id={_hex(pt & 0xFFFF)})")
    eth = _attr("eth", key, mask)
    if eth:
        out.append(eth)
    tci_mask = mask.get("vlan_tci", 0)
    if tci_mask and key.get("vlan_tci", 0) & 0x1000:
        out.append("eth_type(0x8100)")
        out.append(f"vlan({_vlan(key.get('vlan_tci', 0), tci_mask)})")
        out.append(f"encap({','.join(_l3_and_up(key, mask))})")
    else:
        out += _l3_and_up(key, mask)
    return ",".join(out)


def _used(used: float, now: float) -> str:
    return f"{max(0.0, now - used):.3f}s" if used else "never"


def format_dpflow(flow: DpFlow, now: float, names: Mapping[int, str] | None = None) -> str:
    """One ``dpctl/dump-flows`` line (without the newline)."""
    flags = f", flags:{format_tcp_flags(flow.tcp_flags)}" if flow.tcp_flags else ""
    return (f"{format_key(flow.key, flow.mask, names)}, packets:{flow.packets}, "
            f"bytes:{flow.bytes}, used:{_used(flow.used, now)}{flags}, "
            f"actions:{format_actions(flow.actions, names, flow.key) or 'drop'}")


# OVS packet_format_tcp_flags: (bit, letter) in its printing order.
_TCP_FLAG_LETTERS: Final = ((0x002, "S"), (0x001, "F"), (0x008, "P"), (0x004, "R"),
                            (0x020, "U"), (0x010, "."), (0x040, "E"), (0x080, "C"),
                            (0x100, "N"), (0x200, "[200]"), (0x400, "[400]"), (0x800, "[800]"))


def format_tcp_flags(flags: int) -> str:
    """The ``flags:`` of a flow's statistics (``none`` for 0)."""
    return "".join(text for bit, text in _TCP_FLAG_LETTERS if flags & bit) or "none"


def format_actions(actions: list[tuple[Any, ...]], names: Mapping[int, str] | None = None,
                   flow: Mapping[str, int] | None = None) -> str:
    """Datapath actions as OVS's ``format_odp_actions`` (``""`` for none; callers say drop).

    ``flow`` (the packet's flow or the megaflow's key) tells which header a
    ``set`` rewrites -- ``nw_ttl`` is ``ipv4(ttl=)`` or ``ipv6(hlimit=)``;
    without it IPv4 and TCP are assumed.
    """
    flow = flow or {}
    out: list[str] = []
    i = 0
    while i < len(actions):
        a = actions[i]
        attr = _set_attr(a[1], flow) if a and a[0] == "set" and len(a) == 4 else None
        if attr is None or a[1] == "mpls_lse":
            out.append(_action(a, names, flow))
            i += 1
            continue
        # OVS commits every change to one header as one set action: merge a run.
        values, masks = {a[1]: a[2]}, {a[1]: a[3]}
        i += 1
        while (i < len(actions) and actions[i] and actions[i][0] == "set"
               and len(actions[i]) == 4 and actions[i][1] != "mpls_lse"
               and _set_attr(actions[i][1], flow) == attr):
            values[actions[i][1]] = actions[i][2]
            masks[actions[i][1]] = actions[i][3]
            i += 1
        out.append(f"set({_attr(attr, values, masks) or attr + '()'})")
    return ",".join(out)


def _action(a: tuple[Any, ...], names: Mapping[int, str] | None,
            flow: Mapping[str, int]) -> str:
    kind = a[0]
    if kind == "output":
        name = names.get(a[1]) if names else None
        return str(name if name is not None else a[1])
    if kind == "push_vlan":
        tpid = "" if a[1] == 0x8100 else f"tpid=0x{a[1]:04x},"
        return f"push_vlan({tpid}{_vlan(a[2], 0xFFFF)})"
    if kind == "pop_vlan":
        return "pop_vlan"
    if kind == "push_mpls":
        lse = a[2]
        return (f"push_mpls(label={lse >> 12},tc={(lse >> 9) & 7},ttl={lse & 0xFF},"
                f"bos={(lse >> 8) & 1},eth_type=0x{a[1]:x})")
    if kind == "pop_mpls":
        return f"pop_mpls(eth_type=0x{a[1]:x})"
    if kind == "trunc":
        return f"trunc({a[1]})"
    if kind == "recirc":
        return f"recirc({_hex(a[1])})"
    if kind == "clone":
        return f"clone({format_actions(a[1], names, flow) or 'drop'})"
    if kind == "drop":
        return "drop"
    if kind == "userspace":
        cookie = a[1] if len(a) > 1 else None
        return f"userspace(pid=0,{cookie})" if isinstance(cookie, str) else "userspace(pid=0)"
    if kind == "set":
        return _set_text(a[1], a[2], a[3], flow)
    return repr(a)


def _set_attr(slot: str, flow: Mapping[str, int]) -> str | None:
    """The attribute a set action on ``slot`` rewrites, for a packet of ``flow``."""
    attr = _SET_ATTR.get(slot)
    if attr is None:
        l3 = {0x86DD: "ipv6", 0x0806: "arp", 0x8035: "arp"}.get(flow.get("dl_type", 0), "ipv4")
        if slot in ("tp_src", "tp_dst"):
            attr = _l4_attr(l3, flow.get("nw_proto", 6)) or "tcp"
        elif any(f[1] == slot for f in KEY_ATTRS[l3]):
            attr = l3
    return attr


def _set_text(slot: str, value: int, mask: int, flow: Mapping[str, int]) -> str:
    if slot == "mpls_lse":
        return f"set(mpls({_mpls(value, mask)}))"
    attr = _set_attr(slot, flow)
    if attr is None:
        return f"set({slot}={_hex(value)}/{_hex(mask)})"
    text = _attr(attr, {slot: value}, {slot: mask})
    return f"set({text or attr + '()'})"
