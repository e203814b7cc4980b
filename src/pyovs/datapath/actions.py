"""Compiling datapath action lists into one callable per megaflow.

A megaflow's actions run for every packet it serves, so they are turned
into a ``run(data, vnet)`` function once, when the flow is installed:

* the overwhelmingly common single ``("output", port)`` compiles to the
  port's bound ``send`` method itself -- no wrapper, no loop;
* a list of outputs compiles to a loop over bound ``send`` methods;
* anything else becomes a flat list of steps, each either a *transform*
  (``set``, ``push_vlan``, ``pop_vlan``: ``(data, vnet) -> (data, vnet)``)
  or a *sink* (``output``, ``userspace``, ``recirc``, ``clone``:
  consumes a view of the packet, changes nothing).

Frames are immutable ``bytes``, so ``clone`` needs no copy: the nested
program runs on the current bytes and the outer program carries on with
the very same object.  ``trunc`` is OVS's: it cuts what the *next* output
sends (a pending checksum or segmentation is finished first, since the cut
frame cannot carry it), and later outputs send the whole packet again.

The compiler needs only an ``ExecContext`` (port senders, the userspace
and recirculation hooks), so it is tested without sockets.  Bad action
lists raise ``ValueError`` at compile time, never per packet.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from pyovs.packet.rewrite import pop_mpls, pop_vlan, push_mpls, push_vlan, set_field
from pyovs.packet.vnet import finish

__all__ = ["ExecContext", "Runner", "compile_actions"]

Runner = Callable[[bytes, bytes], Any]
Sender = Callable[[bytes, bytes], Any]
Step = tuple[bool, Callable[[bytes, bytes], Any]]
"""(is_transform, fn): transforms return the new (data, vnet)."""


class ExecContext(Protocol):
    """What compiled actions call into (the datapath)."""

    def port_sender(self, odp_port: int) -> Sender | None:
        """The port's send method, or None when there is no such port."""

    def userspace(self, cookie: object, data: bytes, vnet: bytes, in_port: int) -> None: ...

    def recirc(self, in_port: int, recirc_id: int, data: bytes, vnet: bytes) -> None: ...


def _drop(data: bytes, vnet: bytes) -> None:
    return None


def compile_actions(actions: list[tuple[Any, ...]], in_port: int, ctx: ExecContext) -> Runner:
    """``run(data, vnet)`` executing ``actions`` for a packet that arrived on ``in_port``."""
    if len(actions) == 1 and actions[0] and actions[0][0] == "output":
        return ctx.port_sender(_port(actions[0])) or _drop
    steps = _steps(actions, in_port, ctx)
    if not steps:
        return _drop
    if all(not transform for transform, _ in steps):
        sinks = tuple(fn for _, fn in steps)

        def run_sinks(data: bytes, vnet: bytes) -> None:
            for fn in sinks:
                fn(data, vnet)
        return run_sinks
    program = tuple(steps)

    def run(data: bytes, vnet: bytes) -> None:
        for transform, fn in program:
            if transform:
                data, vnet = fn(data, vnet)
            else:
                fn(data, vnet)
    return run


def _port(action: tuple[Any, ...]) -> int:
    if len(action) != 2 or not isinstance(action[1], int):
        raise ValueError(f"bad datapath action {action!r}")
    return action[1]


def _steps(actions: list[tuple[Any, ...]], in_port: int, ctx: ExecContext) -> list[Step]:
    steps: list[Step] = []
    cut: int | None = None
    for action in actions:
        if not action or not isinstance(action, tuple):
            raise ValueError(f"bad datapath action {action!r}")
        kind = action[0]
        if kind == "output":
            send = ctx.port_sender(_port(action))
            if send is not None:
                steps.append((False, send if cut is None else _truncating(send, cut)))
            cut = None
        elif kind == "trunc":
            cut = _int_arg(action)
        elif kind == "set":
            steps.append((True, _setter(action)))
        elif kind == "push_vlan":
            if len(action) != 3 or not all(isinstance(v, int) and 0 <= v <= 0xFFFF
                                           for v in action[1:]):
                raise ValueError(f"bad datapath action {action!r}")
            steps.append((True, _pusher(int(action[1]), int(action[2]))))
        elif kind == "pop_vlan":
            steps.append((True, pop_vlan))
        elif kind == "push_mpls":
            if len(action) != 3 or action[1] not in (0x8847, 0x8848) or not (
                    isinstance(action[2], int) and 0 <= action[2] <= 0xFFFFFFFF):
                raise ValueError(f"bad datapath action {action!r}")
            steps.append((True, partial(_push_mpls, int(action[1]), int(action[2]))))
        elif kind == "pop_mpls":
            if len(action) != 2 or not (isinstance(action[1], int)
                                        and 0 <= action[1] <= 0xFFFF):
                raise ValueError(f"bad datapath action {action!r}")
            steps.append((True, partial(_pop_mpls, int(action[1]))))
        elif kind == "userspace":
            steps.append((False, _to_userspace(ctx, action[1] if len(action) > 1 else None,
                                               in_port)))
        elif kind == "recirc":
            steps.append((False, _recirculator(ctx, _int_arg(action), in_port)))
        elif kind == "clone":
            if len(action) != 2 or not isinstance(action[1], list):
                raise ValueError(f"bad datapath action {action!r}")
            steps.append((False, compile_actions(action[1], in_port, ctx)))
        elif kind == "drop":
            break
        else:
            raise ValueError(f"unknown datapath action {action!r}")
    return steps


def _push_mpls(ethertype: int, lse: int, data: bytes, vnet: bytes) -> tuple[bytes, bytes]:
    return push_mpls(data, vnet, ethertype, lse)


def _pop_mpls(ethertype: int, data: bytes, vnet: bytes) -> tuple[bytes, bytes]:
    return pop_mpls(data, vnet, ethertype)


def _int_arg(action: tuple[Any, ...]) -> int:
    if len(action) != 2 or not isinstance(action[1], int) or action[1] < 0:
        raise ValueError(f"bad datapath action {action!r}")
    return action[1]


def _pusher(tpid: int, tci: int) -> Callable[[bytes, bytes], tuple[bytes, bytes]]:
    def push(data: bytes, vnet: bytes) -> tuple[bytes, bytes]:
        return push_vlan(data, vnet, tpid, tci)
    return push


def _to_userspace(ctx: ExecContext, cookie: object, in_port: int) -> Sender:
    def upcall(data: bytes, vnet: bytes) -> None:
        ctx.userspace(cookie, data, vnet, in_port)
    return upcall


def _recirculator(ctx: ExecContext, recirc_id: int, in_port: int) -> Sender:
    def recirc(data: bytes, vnet: bytes) -> None:
        ctx.recirc(in_port, recirc_id, data, vnet)
    return recirc


def _setter(action: tuple[Any, ...]) -> Callable[[bytes, bytes], tuple[bytes, bytes]]:
    if len(action) != 4 or not isinstance(action[1], str):
        raise ValueError(f"bad datapath action {action!r}")
    slot, value, mask = action[1], int(action[2]), int(action[3])

    def setter(data: bytes, vnet: bytes) -> tuple[bytes, bytes]:
        return set_field(data, vnet, slot, value, mask), vnet
    return setter


def _truncating(send: Sender, max_len: int) -> Sender:
    def send_cut(data: bytes, vnet: bytes) -> Any:
        if len(data) <= max_len:
            return send(data, vnet)
        if vnet:
            data = finish(data, vnet)[0]
        return send(data[:max_len], b"")
    return send_cut
