"""Actions as ovs-ofctl text: ``actions=`` parsing and formatting.

Formatting joins each action's text with commas, or writes ``drop`` for an
empty list (OVS ``ofpacts_format``).  Parsing reads comma-separated
``name[:value]`` / ``name(value)`` items (OVS ``ofpacts_parse__``): action
keywords, the aliases OVS accepts (``mod_vlan_vid``, ``load``,
``bundle_load``, ``set_tunnel64``...), ``drop``, and a bare port number or
name meaning ``output``.  It reports the protocols able to carry the result
(``ParseCtx.usable``) and checks instruction order as OVS does.
"""

from __future__ import annotations

from typing import Final

from .actions import (
    INSTRUCTION_TYPES,
    Action,
    ActionList,
    FmtCtx,
    Meter,
    Output,
    ParseCtx,
    tables,
    verify_instructions,
)
from .ctext import parse_key_value
from .errors import OFError, ParseError
from .ports import parse_port
from .protocols import OF15_UP

MAX_DEPTH: Final = 100


def format_actions(actions: ActionList, ctx: FmtCtx | None = None) -> str:
    """OVS ``ofpacts_format``."""
    if not actions:
        return "drop"
    ctx = ctx or FmtCtx()
    formatters = tables().formatters
    return ",".join(formatters[type(a)](a, ctx) for a in actions)


def parse_actions(text: str, ctx: ParseCtx | None = None,
                  allow_instructions: bool = True) -> ActionList:
    """Actions (and instructions) from ovs-ofctl text; ``ParseError`` if bad."""
    ctx = ctx or ParseCtx()
    return _parse(text, ctx, allow_instructions, "")


def parse_actions_nested(text: str, ctx: ParseCtx, outer: str) -> ActionList:
    """Actions nested in ``write_actions(...)``, ``clone(...)``, ``ct(exec(...))``."""
    return _parse(text, ctx, False, outer)


def _parse(text: str, ctx: ParseCtx, allow_instructions: bool, outer: str) -> ActionList:
    if ctx.depth >= MAX_DEPTH:
        raise ParseError("Action nested too deeply")
    ctx.depth += 1
    try:
        return _parse__(text, ctx, allow_instructions, outer)
    finally:
        ctx.depth -= 1


def _parse__(text: str, ctx: ParseCtx, allow_instructions: bool, outer: str) -> ActionList:
    parsers = tables().parsers
    out: list[Action] = []
    drop = False
    pos = 0
    while (item := parse_key_value(text, pos)) is not None:
        key, value, pos = item
        parser = parsers.get(key.lower())
        if parser is not None:
            got = parser(value, ctx)
            if key.lower() == "meter" and not allow_instructions:
                ctx.usable &= OF15_UP
            out.extend(got)
        elif key.lower() == "drop":
            drop = True
        elif key.lower() == "apply_actions":
            raise ParseError("apply_actions is the default instruction")
        else:
            port = parse_port(key, ctx.port_map)
            if port is None:
                raise ParseError(f"unknown action {key}")
            out.append(Output(port))
    if drop and out:
        raise ParseError('"drop" must not be accompanied by any other action or instruction')
    actions = tuple(out)
    for a in actions:
        if isinstance(a, INSTRUCTION_TYPES) and not allow_instructions \
                and not isinstance(a, Meter):
            raise ParseError(f"{_instruction_name(a)} instruction not allowed here")
    _verify_order(actions)
    return actions


_INSTRUCTION_NAMES: Final = ("meter", "apply_actions", "clear_actions", "write_actions",
                             "write_metadata", "goto_table")


def _verify_order(actions: ActionList) -> None:
    """OVS ``ofpacts_verify``'s ordering rule, with its messages."""
    try:
        verify_instructions(actions, 2)
    except OFError:
        pass
    else:
        return
    rank = {"Meter": 0, "ClearActions": 2, "WriteActions": 3, "WriteMetadata": 4,
            "GotoTable": 5}
    inst = 0
    for i, a in enumerate(actions):
        nxt = rank.get(type(a).__name__, 1)
        if i and (nxt < inst if inst == 1 else nxt <= inst):
            if nxt == inst:
                raise ParseError(f"duplicate {_INSTRUCTION_NAMES[inst]} instruction not "
                                 "allowed, for OpenFlow 1.1+ compatibility")
            raise ParseError(f"invalid instruction ordering: {_INSTRUCTION_NAMES[nxt]} must "
                             f"appear before {_INSTRUCTION_NAMES[inst]}, for OpenFlow 1.1+ "
                             "compatibility")
        inst = nxt


def _instruction_name(a: object) -> str:
    return {"ClearActions": "clear_actions", "WriteActions": "write_actions",
            "WriteMetadata": "write_metadata", "GotoTable": "goto_table"}.get(
                type(a).__name__, type(a).__name__)
