"""Supported-action bitmaps: the OFPAT bit sets in features and group-features replies.

OpenFlow 1.0's features reply and the group-features reply list the actions
a switch supports as a 32-bit bitmap of standard action types, whose numbers
changed between 1.0, 1.1 and 1.2.  ``ACTION_BITS`` maps each version's bits
to OVS's action names, and ``format_action_bitmap`` prints a bitmap as OVS's
``ofpact_bitmap_format`` does: names in OVS's internal action order
(``ACTION_ORDER``), or ``<none>``.
"""

from __future__ import annotations

from typing import Final

ACTION_ORDER: Final = (
    "output", "group", "enqueue", "set_field", "set_vlan_vid", "set_vlan_pcp", "strip_vlan",
    "push_vlan", "mod_dl_src", "mod_dl_dst", "mod_nw_src", "mod_nw_dst", "mod_nw_tos",
    "mod_nw_ecn", "mod_nw_ttl", "mod_tp_src", "mod_tp_dst", "dec_ttl", "set_mpls_label",
    "set_mpls_tc", "set_mpls_ttl", "dec_mpls_ttl", "push_mpls", "pop_mpls", "set_queue",
)
"""OVS ``enum ofpact_type`` order, restricted to actions that have an OFPAT bit."""

_OF10: Final = {0: "output", 1: "set_vlan_vid", 2: "set_vlan_pcp", 3: "strip_vlan",
                4: "mod_dl_src", 5: "mod_dl_dst", 6: "mod_nw_src", 7: "mod_nw_dst",
                8: "mod_nw_tos", 9: "mod_tp_src", 10: "mod_tp_dst", 11: "enqueue"}
_OF11: Final = {0: "output", 1: "set_vlan_vid", 2: "set_vlan_pcp", 3: "mod_dl_src",
                4: "mod_dl_dst", 5: "mod_nw_src", 6: "mod_nw_dst", 7: "mod_nw_tos",
                8: "mod_nw_ecn", 9: "mod_tp_src", 10: "mod_tp_dst", 13: "set_mpls_label",
                14: "set_mpls_tc", 15: "set_mpls_ttl", 16: "dec_mpls_ttl", 17: "push_vlan",
                18: "strip_vlan", 19: "push_mpls", 20: "pop_mpls", 21: "set_queue",
                22: "group", 23: "mod_nw_ttl", 24: "dec_ttl"}
_OF12: Final = {0: "output", 15: "set_mpls_ttl", 16: "dec_mpls_ttl", 17: "push_vlan",
                18: "strip_vlan", 19: "push_mpls", 20: "pop_mpls", 21: "set_queue",
                22: "group", 23: "mod_nw_ttl", 24: "dec_ttl", 25: "set_field"}


def action_bits(version: int) -> dict[int, str]:
    """OFPAT bit -> action name for ``version`` (OVS ``get_ofpact_map``)."""
    return _OF10 if version == 1 else _OF11 if version == 2 else _OF12


def known_bits(version: int) -> int:
    """The bits of ``version``'s bitmap that name an action OVS knows."""
    return sum(1 << bit for bit in action_bits(version))


def format_action_bitmap(bitmap: int, version: int) -> str:
    """OVS ``ofpact_bitmap_format`` of a wire bitmap from ``version``."""
    names = {name for bit, name in action_bits(version).items() if bitmap >> bit & 1}
    if not names:
        return "<none>"
    return " ".join(name for name in ACTION_ORDER if name in names)
