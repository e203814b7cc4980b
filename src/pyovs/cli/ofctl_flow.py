"""Flow text for pyovs-ofctl: ``parse_ofp_str`` and protocol choice.

ovs-ofctl reads a flow (``add-flow``, ``parse-flow``, ``dump-flows``
filters) with ``parse_ofp_str`` (lib/ofp-flow.c): the match keys go to
``match_text``, the actions to ``act_text``, and the remaining keywords
(``priority``, ``cookie``, timeouts, ``table``, flags...) fill the flow mod.
Every piece narrows the set of flow protocols able to express the flow;
the tool then picks the lowest-numbered usable protocol that its ``-O``/``-F``
options allow.  This module is that step, with OVS's names for protocol sets
("any", "OpenFlow10", "NXM,OXM") and its error texts, so that ``parse-flow``
and the commands that send flows choose the same encoding as ovs-ofctl.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Final

from pyovs.cli.cmdline import Fatal
from pyovs.openflow.act_check import check_actions, is_consistent
from pyovs.openflow.act_text import parse_actions
from pyovs.openflow.act_wire import parse_table, str_to_u16, str_to_u64
from pyovs.openflow.actions import ActionList, ParseCtx
from pyovs.openflow.ctext import parse_key_value
from pyovs.openflow.errors import OFError, ParseError
from pyovs.openflow.group_text import group_from_string
from pyovs.openflow.match import MatchBuilder
from pyovs.openflow.match_text import OFP_DEFAULT_PRIORITY, apply_match_key, finish_match
from pyovs.openflow.msg_flow import OFPG_ANY, Command, FlowFlags, FlowMod
from pyovs.openflow.ports import OFPP_ANY, parse_port
from pyovs.openflow.protocols import (
    ANY,
    ANY_OXM,
    OF10_ANY,
    OF10_NXM_ANY,
    OF10_STD_ANY,
    OF11_UP,
    OF12_UP,
    OF13_UP,
    TID,
    Protocol,
)

__all__ = [
    "choose_protocol", "parse_flow_mod", "protocol_name", "protocol_version",
    "protocols_from_string", "protocols_from_versions", "protocols_to_string",
    "version_names",
]

OFPTT_ALL: Final = 0xFF
PortMap = dict[str, int]
TableMap = dict[str, int]
NXM_OF11_UP: Final = OF10_NXM_ANY | OF11_UP

_NAMES: Final = {
    Protocol.OF10_STD: "OpenFlow10-table_id", Protocol.OF10_STD_TID: "OpenFlow10+table_id",
    Protocol.OF10_NXM: "NXM-table_id", Protocol.OF10_NXM_TID: "NXM+table_id",
    Protocol.OF11_STD: "OpenFlow11", Protocol.OF12_OXM: "OXM-OpenFlow12",
    Protocol.OF13_OXM: "OXM-OpenFlow13", Protocol.OF14_OXM: "OXM-OpenFlow14",
    Protocol.OF15_OXM: "OXM-OpenFlow15",
}
# OVS's proto_abbrevs, in its order (the first that fits is used).
_ABBREVS: Final = ((ANY, "any"), (OF10_STD_ANY, "OpenFlow10"), (OF10_NXM_ANY, "NXM"),
                   (ANY_OXM, "OXM"))
_VERSION: Final = {
    Protocol.OF10_STD: 1, Protocol.OF10_STD_TID: 1, Protocol.OF10_NXM: 1,
    Protocol.OF10_NXM_TID: 1, Protocol.OF11_STD: 2, Protocol.OF12_OXM: 3,
    Protocol.OF13_OXM: 4, Protocol.OF14_OXM: 5, Protocol.OF15_OXM: 6,
}
_FROM_VERSION: Final = {1: OF10_ANY, 2: Protocol.OF11_STD, 3: Protocol.OF12_OXM,
                        4: Protocol.OF13_OXM, 5: Protocol.OF14_OXM, 6: Protocol.OF15_OXM}
VERSION_NAMES: Final = {1: "OpenFlow10", 2: "OpenFlow11", 3: "OpenFlow12",
                        4: "OpenFlow13", 5: "OpenFlow14", 6: "OpenFlow15"}


def protocol_name(p: Protocol) -> str:
    """``ofputil_protocol_to_string`` for one protocol bit."""
    return _NAMES[p]


def protocol_version(p: Protocol) -> int:
    """The OpenFlow wire version a single protocol speaks."""
    return _VERSION[p]


def _bits(protocols: int) -> list[Protocol]:
    return [Protocol(1 << i) for i in range(9) if protocols >> i & 1]


def protocols_to_string(protocols: int) -> str:
    """``ofputil_protocols_to_string``: "none", "any", "NXM,OXM", ..."""
    if not protocols:
        return "none"
    parts = []
    while protocols:
        for bits, name in _ABBREVS:
            if protocols & bits == bits:
                parts.append(name)
                protocols &= ~bits
                break
        else:
            low = protocols & -protocols
            parts.append(_NAMES[Protocol(low)])
            protocols &= ~low
    return ",".join(parts)


def protocols_from_string(s: str) -> Protocol:
    """``ofputil_protocols_from_string`` (the ``-F`` argument)."""
    protocols = Protocol.NONE
    for word in s.split(","):
        if not word:
            continue
        low = word.lower()
        found = next((p for p, n in _NAMES.items() if n.lower() == low), None)
        if found is None:
            found = next((p for p, n in _ABBREVS if n.lower() == low), None)
        if found is None:
            raise Fatal(f"{word}: unknown flow protocol")
        protocols |= found
    if not protocols:
        raise Fatal(f"{s}: no flow protocol specified")
    return protocols


def protocols_from_versions(versions: int) -> Protocol:
    """``ofputil_protocols_from_version_bitmap``."""
    out = Protocol.NONE
    for v, p in _FROM_VERSION.items():
        if versions >> v & 1:
            out |= p
    return out


def version_names(versions: int) -> str:
    """``ofputil_format_version_bitmap_names``."""
    return ", ".join(n for v, n in VERSION_NAMES.items() if versions >> v & 1)


def choose_protocol(usable: int, allowed: int) -> Protocol:
    """The lowest-numbered protocol both usable and allowed, or ``Fatal``."""
    both = usable & allowed
    if not both:
        raise Fatal("no usable protocol")
    return Protocol(both & -both)


def _extract_actions(text: str) -> tuple[str, str | None]:
    """``ofp_extract_actions``: (text before "action", actions after its "=")."""
    at = text.find("action")
    if at < 0:
        return text, None
    eq = text.find("=", at + 1)
    return text[:at], (text[eq + 1:] if eq >= 0 else None)


_FLAG_KEYS: Final = {
    "send_flow_rem": (FlowFlags.SEND_FLOW_REM, ANY),
    "check_overlap": (FlowFlags.CHECK_OVERLAP, ANY),
    "reset_counts": (FlowFlags.RESET_COUNTS, OF12_UP),
    "no_packet_counts": (FlowFlags.NO_PKT_COUNTS, OF13_UP),
    "no_byte_counts": (FlowFlags.NO_BYT_COUNTS, OF13_UP),
}
_IGNORED: Final = frozenset({"duration", "n_packets", "n_bytes", "idle_age", "hard_age"})


def parse_flow_mod(text: str, command: int = Command.ADD, port_map: PortMap | None = None,
                   table_map: TableMap | None = None) -> tuple[FlowMod, Protocol]:
    """``parse_ofp_flow_mod_str`` for an add/modify/delete; ``Fatal`` with OVS's text.

    ``port_map``/``table_map`` (name -> number) let the text name ports and
    tables, as the maps ovs-ofctl fetches from the switch do.
    """
    try:
        return _parse(text, command, port_map, table_map)
    except ParseError as e:
        raise Fatal(str(e)) from None


# parse_ofp_str__'s command words for lines of a flows file (command -2).
# OVS compares only as many characters as the line's first token has, so a
# prefix such as "mod" or "d" selects the first word it begins.
_LINE_COMMANDS: Final = (
    ("add", Command.ADD), ("delete", Command.DELETE),
    ("delete_strict", Command.DELETE_STRICT), ("modify", Command.MODIFY),
    ("modify_strict", Command.MODIFY_STRICT),
)


def split_line_command(text: str) -> tuple[int, str]:
    """A flows-file line's leading command word: (command, rest of the line).

    A line without one is an add, as OVS's ``parse_ofp_str__`` with -2.
    """
    start = len(text) - len(text.lstrip(" \t\r\n"))
    end = start
    while end < len(text) and text[end] not in ", \t\r\n":
        end += 1
    token = text[start:end]
    for word, command in _LINE_COMMANDS:
        if word.startswith(token):
            return command, text[end:]
    return Command.ADD, text[start:]


@dataclass(slots=True)
class _Keywords:
    """The flow mod's scalar fields while a flow is parsed (one FlowMod at the end)."""

    table_id: int = OFPTT_ALL
    out_port: int = OFPP_ANY
    out_group: int = OFPG_ANY
    priority: int = OFP_DEFAULT_PRIORITY
    idle_timeout: int = 0
    hard_timeout: int = 0
    importance: int = 0
    cookie: int = 0
    cookie_mask: int = 0
    new_cookie: int = 0


# Plain ints: IntFlag arithmetic costs a Python call per operation.
_ANY: Final = int(ANY)
_TID: Final = int(TID)
_NXM_OF11_UP: Final = int(NXM_OF11_UP)
_OF10_ANY: Final = int(OF10_ANY)
_OF11_UP: Final = int(OF11_UP)


def _parse(text: str, command: int, port_map: PortMap | None = None,
           table_map: TableMap | None = None) -> tuple[FlowMod, Protocol]:
    has_actions = command in (Command.ADD, Command.MODIFY, Command.MODIFY_STRICT)
    has_flags = has_actions
    has_out_port = command in (Command.DELETE, Command.DELETE_STRICT)
    has_priority = command != Command.DELETE
    usable = _ANY
    kw = _Keywords(new_cookie=(1 << 64) - 1 if command in (Command.MODIFY,
                                                           Command.MODIFY_STRICT) else 0)
    act_text: str | None = None
    if has_actions:
        text, act_text = _extract_actions(text)
        if act_text is None:
            raise Fatal("must specify an action")
    b = MatchBuilder()
    flags = 0
    pos = 0
    while (item := parse_key_value(text, pos)) is not None:
        name, value, pos = item
        if has_flags and name in _FLAG_KEYS:
            flag, narrow = _FLAG_KEYS[name]
            flags |= int(flag)
            usable &= int(narrow)
            continue
        if name in ("no_readonly_table", "allow_hidden_fields"):
            continue
        got = apply_match_key(b, name, value, port_map)
        if got is not None:
            usable &= int(got)
            continue
        if not value:
            raise Fatal(f"field {name} missing value")
        usable = _keyword(kw, command, usable, name, value, has_out_port, has_priority,
                          has_actions, port_map, table_map)
    match, narrowed = finish_match(b, Protocol(usable))
    usable = int(narrowed)
    if not kw.cookie_mask and kw.new_cookie == (1 << 64) - 1 and command in (
            Command.MODIFY, Command.MODIFY_STRICT):
        kw.new_cookie = 0
    actions: ActionList = ()
    if act_text is not None:
        ctx = ParseCtx(port_map=port_map, table_map=table_map)
        actions = parse_actions(act_text, ctx)
        usable &= int(ctx.usable)
        try:
            actions = check_actions(actions, match, table_id=kw.table_id)
        except OFError as e:
            raise Fatal(f"actions are invalid with specified match ({e.name})") from None
        if not is_consistent(actions, match):
            usable &= _OF10_ANY
        if not usable:
            raise Fatal("actions are invalid with specified match "
                        "(OFPBAC_MATCH_INCONSISTENT)")
    fm = FlowMod(command=command, match=match, priority=kw.priority, actions=actions,
                 cookie=kw.cookie, cookie_mask=kw.cookie_mask, new_cookie=kw.new_cookie,
                 table_id=kw.table_id, idle_timeout=kw.idle_timeout,
                 hard_timeout=kw.hard_timeout, importance=kw.importance,
                 out_port=kw.out_port, out_group=kw.out_group, flags=FlowFlags(flags))
    return fm, Protocol(usable)


def _keyword(kw: _Keywords, command: int, usable: int, name: str, value: str,
             has_out_port: bool, has_priority: bool, has_timeouts: bool,
             port_map: PortMap | None, table_map: TableMap | None) -> int:
    """One flow-mod keyword into ``kw``; returns the narrowed usable protocols."""
    if name == "table":
        table = parse_table(value, table_map)
        if table is None:
            raise Fatal(f'unknown table "{value}"')
        if table != OFPTT_ALL:
            usable &= _TID
        kw.table_id = table
    elif has_out_port and name == "out_port":
        port = parse_port(value, port_map)
        if port is None:
            raise Fatal(f"{value} is not a valid OpenFlow port")
        kw.out_port = port
    elif has_out_port and name == "out_group":
        usable &= _OF11_UP
        group = group_from_string(value)
        if group is None:
            raise Fatal(f"{value} is not a valid OpenFlow group")
        kw.out_group = group
    elif has_priority and name == "priority":
        kw.priority = str_to_u16(value, name)
    elif has_timeouts and name == "idle_timeout":
        kw.idle_timeout = str_to_u16(value, name)
    elif has_timeouts and name == "hard_timeout":
        kw.hard_timeout = str_to_u16(value, name)
    elif command == Command.ADD and name == "importance":
        kw.importance = str_to_u16(value, name)
    elif name == "cookie":
        cookie, slash, mask = value.partition("/")
        if slash:
            if command == Command.ADD:
                raise Fatal("flow additions cannot use a cookie mask")
            kw.cookie_mask = str_to_u64(mask)
            if kw.cookie_mask:
                usable &= _NXM_OF11_UP
            kw.cookie = str_to_u64(cookie)
        elif command not in (Command.ADD, Command.MODIFY, Command.MODIFY_STRICT):
            raise Fatal(f"cannot set cookie (to match on a cookie, specify a mask, "
                        f"e.g. cookie={value}/-1)")
        else:
            kw.new_cookie = str_to_u64(value)
    elif name not in _IGNORED:
        raise Fatal(f"unknown keyword {name}")
    return usable


def preprocessed_lines(name: str, open_error: str = "open failed") -> list[tuple[int, str]]:
    """``ds_get_preprocessed_line`` over a file (``-`` is stdin): (line number, text).

    Comments (from ``#``) are cut and lines holding only spaces, tabs and
    newlines are skipped, as OVS does; numbering counts every line.  A file
    that cannot be opened is ``Fatal`` as "NAME: OPEN_ERROR (strerror)".
    """
    try:
        if name == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(name, "rb") as f:
                data = f.read()
    except OSError as e:
        raise Fatal(f"{name}: {open_error} ({os.strerror(e.errno or 0)})") from None
    text = data.decode("utf-8", errors="surrogateescape")
    out = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, line in enumerate(lines, 1):
        line = line.split("#", 1)[0]
        if line.strip(" \t\n"):
            out.append((number, line))
    return out


def read_flow_mods(name: str, command: int | None, port_map: PortMap | None = None,
                   table_map: TableMap | None = None) -> tuple[list[FlowMod], Protocol]:
    """``parse_ofp_flow_mod_file``: every flow mod in a file and what can send them all.

    ``command`` None lets each line begin with its own command word (OVS's
    -2, used by ``add-flows``); errors are "FILE:LINE: message".
    """
    fms: list[FlowMod] = []
    usable: int = ANY
    for number, line in preprocessed_lines(name):
        try:
            if command is None:
                line_command, text = split_line_command(line)
            else:
                line_command, text = command, line
            fm, got = parse_flow_mod(text, line_command, port_map, table_map)
        except Fatal as e:
            raise Fatal(f"{name}:{number}: {e.message}") from None
        fms.append(fm)
        usable &= got
    return fms, Protocol(usable)


def versions_from_protocols(protocols: int) -> int:
    """``ofputil_protocols_to_version_bitmap``: the wire versions these can speak."""
    return sum({1 << _VERSION[p] for p in _bits(protocols)})
