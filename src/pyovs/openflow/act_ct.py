"""Connection tracking: the Nicira ``ct`` and ``nat`` actions.

``ct(commit,zone=5,table=2,nat(src=10.0.0.1),exec(set_field:1->ct_mark))``
is one ``NXAST_CT`` carrying its nested actions; a leading NAT action is
printed outside ``exec(...)`` as OVS does.  ``zone`` is an immediate value
or a 16-bit subfield.  The decode checks are OVS's: ``force`` needs
``commit``; an uncommitted ct may only carry a bare ``nat``; NAT ranges must
be ordered and of one address family.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .act_wire import (
    check_subfield,
    decode_ofs_nbits,
    encode_ofs_nbits,
    field_from_nxm32,
    format_table,
    nxm32,
    parse_table,
    str_to_u16,
)
from .action_table import put_raw
from .actions import Action, ActionList, FmtCtx, ParseCtx, encode_actions, pull_actions
from .ctext import parse_key_value
from .errors import OFError, OFPErr, ParseError
from .subfield import Subfield, format_subfield, parse_subfield
from .values import ipv4_to_str, scan_ipv4, scan_ipv6

NX_CT_F_COMMIT: Final = 1
NX_CT_F_FORCE: Final = 2
NX_CT_RECIRC_NONE: Final = 0xFF
NX_NAT_F_SRC, NX_NAT_F_DST, NX_NAT_F_PERSISTENT = 1, 2, 4
NX_NAT_F_PROTO_HASH, NX_NAT_F_PROTO_RANDOM = 8, 16
NX_NAT_F_MASK: Final = 0x1F
NAT_IPV4_MIN, NAT_IPV4_MAX, NAT_IPV6_MIN, NAT_IPV6_MAX = 1, 2, 4, 8
NAT_PROTO_MIN, NAT_PROTO_MAX = 16, 32
IPPORT_FTP, IPPORT_TFTP = 21, 69
CT: Final = struct.Struct("!HIHB3xH")
"""flags, zone_src, zone (ofs_nbits or immediate), recirc_table, pad, alg (after NX header)."""


@dataclass(frozen=True, slots=True)
class Ct(Action):
    """Send to the connection tracker (NXAST_CT)."""

    flags: int = 0
    """NX_CT_F_COMMIT, NX_CT_F_FORCE."""
    zone_src: Subfield | None = None
    """Zone taken from a 16-bit subfield, or None for ``zone_imm``."""
    zone_imm: int = 0
    recirc_table: int = NX_CT_RECIRC_NONE
    alg: int = 0
    actions: ActionList = ()
    """Nested actions: an optional leading ``Nat`` then ``exec`` actions."""


@dataclass(frozen=True, slots=True)
class Nat(Action):
    """Network address translation inside ``ct`` (NXAST_NAT)."""

    flags: int = 0
    family: int = 0
    """0 (no range), 4 or 6."""
    addr_min: int = 0
    addr_max: int = 0
    proto_min: int = 0
    proto_max: int = 0


# --- wire ------------------------------------------------------------------------------

def _dec_ct(v: int, b: memoryview, arg: int) -> list[Action]:
    flags, zone_src, zone, table, alg = CT.unpack_from(b, 10)
    if flags & NX_CT_F_FORCE and not flags & NX_CT_F_COMMIT:
        raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "ct force without commit")
    src: Subfield | None = None
    if zone_src:
        ofs, n_bits = decode_ofs_nbits(zone)
        src = Subfield(field_from_nxm32(zone_src), ofs, n_bits)
        check_subfield(src)
        if n_bits != 16:
            raise OFError(OFPErr.OFPBAC_BAD_SET_LEN, "ct zone must be 16 bits")
        zone = 0
    nested = pull_actions(b[24:], v, "ct")
    if nested and not flags & NX_CT_F_COMMIT:
        for a in nested:
            if not isinstance(a, Nat) or a.flags or a.family:
                raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "uncommitted ct with actions")
    return [Ct(flags, src, zone, table, alg, nested)]


def _enc_ct(a: Action, v: int) -> bytes:
    assert isinstance(a, Ct)
    out = put_raw("NXAST_CT", v)
    if a.zone_src is not None:
        zone_src = nxm32(a.zone_src.field)
        zone = encode_ofs_nbits(a.zone_src.ofs, a.zone_src.n_bits)
    else:
        zone_src, zone = 0, a.zone_imm
    CT.pack_into(out, 10, a.flags, zone_src, zone, a.recirc_table, a.alg)
    out += encode_actions(a.actions, v)
    struct.pack_into("!H", out, 2, len(out))
    return bytes(out)


def _dec_nat(v: int, b: memoryview, arg: int) -> list[Action]:
    flags, present = struct.unpack_from("!HH", b, 12)
    if (flags & ~NX_NAT_F_MASK or (flags & NX_NAT_F_SRC and flags & NX_NAT_F_DST)
            or (flags & NX_NAT_F_PROTO_HASH and flags & NX_NAT_F_PROTO_RANDOM)):
        raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "nat flags")
    opts = bytes(b[16:])
    pos = 0

    def take(n: int) -> int:
        nonlocal pos
        if len(opts) - pos < n:
            raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "nat range truncated")
        value = int.from_bytes(opts[pos:pos + n], "big")
        pos += n
        return value

    family = addr_min = addr_max = proto_min = proto_max = 0
    if present & NAT_IPV4_MIN:
        if present & (NAT_IPV6_MIN | NAT_IPV6_MAX):
            raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "nat mixes address families")
        addr_min = take(4)
        if not addr_min:
            raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "nat address 0")
        family = 4
        if present & NAT_IPV4_MAX:
            addr_max = take(4)
            if addr_max < addr_min:
                raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "nat range reversed")
    elif present & NAT_IPV4_MAX:
        raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "nat max without min")
    elif present & NAT_IPV6_MIN:
        addr_min = take(16)
        if not addr_min:
            raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "nat address 0")
        family = 6
        if present & NAT_IPV6_MAX:
            addr_max = take(16)
            if addr_max < addr_min:
                raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "nat range reversed")
    elif present & NAT_IPV6_MAX:
        raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "nat max without min")
    if present & NAT_PROTO_MIN:
        if not family:
            raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "nat port without address")
        proto_min = take(2)
        if not proto_min:
            raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "nat port 0")
        if present & NAT_PROTO_MAX:
            proto_max = take(2)
            if proto_max < proto_min:
                raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "nat ports reversed")
    elif present & NAT_PROTO_MAX:
        raise OFError(OFPErr.OFPBAC_BAD_ARGUMENT, "nat port max without min")
    return [Nat(flags, family, addr_min, addr_max, proto_min, proto_max)]


def _enc_nat(a: Action, v: int) -> bytes:
    assert isinstance(a, Nat)
    out = put_raw("NXAST_NAT", v)
    struct.pack_into("!H", out, 12, a.flags)
    present = 0
    width = 4 if a.family == 4 else 16
    if a.family:
        if a.addr_min:
            out += a.addr_min.to_bytes(width, "big")
            present |= NAT_IPV4_MIN if a.family == 4 else NAT_IPV6_MIN
        if a.addr_max:
            out += a.addr_max.to_bytes(width, "big")
            present |= NAT_IPV4_MAX if a.family == 4 else NAT_IPV6_MAX
        if a.proto_min:
            out += struct.pack("!H", a.proto_min)
            present |= NAT_PROTO_MIN
        if a.proto_max:
            out += struct.pack("!H", a.proto_max)
            present |= NAT_PROTO_MAX
    out += bytes(-len(out) % 8)
    struct.pack_into("!HH", out, 2, len(out), 0)
    struct.pack_into("!HH", out, 12, a.flags, present)
    return bytes(out)


# --- text ----------------------------------------------------------------------------------

def _ipv6(value: int, bracket: bool) -> str:
    text = socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))
    return f"[{text}]" if bracket else text


def _fmt_nat(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, Nat)
    if not a.flags & (NX_NAT_F_SRC | NX_NAT_F_DST):
        return "nat"
    text = "nat(" + ("src" if a.flags & NX_NAT_F_SRC else "dst")
    if a.family:
        text += "="
        if a.family == 4:
            text += ipv4_to_str(a.addr_min)
            if a.addr_max and a.addr_max != a.addr_min:
                text += "-" + ipv4_to_str(a.addr_max)
        else:
            bracket = bool(a.proto_min)
            text += _ipv6(a.addr_min, bracket)
            if a.addr_max and a.addr_max != a.addr_min:
                text += "-" + _ipv6(a.addr_max, bracket)
        if a.proto_min:
            text += f":{a.proto_min}"
            if a.proto_max and a.proto_max != a.proto_min:
                text += f"-{a.proto_max}"
        text += ","
        if a.flags & NX_NAT_F_PERSISTENT:
            text += "persistent,"
        if a.flags & NX_NAT_F_PROTO_HASH:
            text += "hash,"
        if a.flags & NX_NAT_F_PROTO_RANDOM:
            text += "random,"
    return text.rstrip(",") + ")"


def _fmt_ct(a: Action, ctx: FmtCtx) -> str:
    assert isinstance(a, Ct)
    from .act_text import format_actions
    parts = []
    if a.flags & NX_CT_F_COMMIT:
        parts.append("commit")
    if a.flags & NX_CT_F_FORCE:
        parts.append("force")
    if a.recirc_table != NX_CT_RECIRC_NONE:
        parts.append("table=" + format_table(a.recirc_table, ctx.table_names))
    if a.zone_src is not None:
        parts.append("zone=" + format_subfield(a.zone_src))
    elif a.zone_imm:
        parts.append(f"zone={a.zone_imm}")
    nested = a.actions
    if nested and isinstance(nested[0], Nat):
        parts.append(_fmt_nat(nested[0], ctx))
        nested = nested[1:]
    if nested:
        parts.append(f"exec({format_actions(nested, ctx)})")
    if a.alg == IPPORT_FTP:
        parts.append("alg=ftp")
    elif a.alg == IPPORT_TFTP:
        parts.append("alg=tftp")
    elif a.alg:
        parts.append(f"alg={a.alg}")
    return "ct(" + ",".join(parts) + ")"


def _nat_range(s: str) -> tuple[int, int, int, int, int]:
    """OVS ``str_to_nat_range``: (family, min, max, proto_min, proto_max)."""
    def error() -> ParseError:
        return ParseError(f'invalid nat range "{s}"')

    family = addr_min = addr_max = proto_min = proto_max = 0
    n = 0
    got4 = scan_ipv4(s, 0)
    if got4 is not None:
        family, (addr_min, n) = 4, got4
        if s[n:n + 1] == "-":
            nxt = scan_ipv4(s, n + 1)
            if nxt is None or nxt[0] < addr_min:
                raise error()
            addr_max, n = nxt
    else:
        got6 = _scan_ipv6_maybe_bracketed(s, 0)
        if got6 is not None:
            family, (addr_min, n) = 6, got6
            if s[n:n + 1] == "-":
                nxt = _scan_ipv6_maybe_bracketed(s, n + 1)
                if nxt is None or nxt[0] < addr_min:
                    raise error()
                addr_max, n = nxt
    if family and s[n:n + 1] == ":":
        from .values import _scan_num
        got = _scan_num(s, n + 1, 10, 16)
        if got is None:
            raise error()
        proto_min, n = got
        if s[n:n + 1] == "-":
            got = _scan_num(s, n + 1, 10, 16)
            if got is None or got[0] < proto_min:
                raise error()
            proto_max, n = got
    if n != len(s):
        raise ParseError(f'garbage ({s[n:]}) after nat range "{s}" (pos: {n})')
    return family, addr_min, addr_max, proto_min, proto_max


def _scan_ipv6_maybe_bracketed(s: str, i: int) -> tuple[int, int] | None:
    got = scan_ipv6(s, i)
    if got is not None:
        return got
    if s[i:i + 1] == "[":
        got = scan_ipv6(s, i + 1)
        if got is not None and s[got[1]:got[1] + 1] == "]":
            return got[0], got[1] + 1
    return None


def parse_nat(arg: str, ctx: ParseCtx) -> list[Action]:
    flags = 0
    rng = (0, 0, 0, 0, 0)
    pos = 0
    while (item := parse_key_value(arg, pos)) is not None:
        key, value, pos = item
        if key == "src":
            flags |= NX_NAT_F_SRC
            rng = _nat_range(value)
        elif key == "dst":
            flags |= NX_NAT_F_DST
            rng = _nat_range(value)
        elif key == "persistent":
            flags |= NX_NAT_F_PERSISTENT
        elif key == "hash":
            flags |= NX_NAT_F_PROTO_HASH
        elif key == "random":
            flags |= NX_NAT_F_PROTO_RANDOM
        else:
            raise ParseError(f'invalid key "{key}" in "nat" argument')
    if flags & NX_NAT_F_SRC and flags & NX_NAT_F_DST:
        raise ParseError('May only specify one of "src" or "dst".')
    if not flags & (NX_NAT_F_SRC | NX_NAT_F_DST):
        if flags:
            raise ParseError('Flags allowed only with "src" or "dst".')
        if rng[0]:
            raise ParseError('Range allowed only with "src" or "dst".')
    if flags & NX_NAT_F_PROTO_HASH and flags & NX_NAT_F_PROTO_RANDOM:
        raise ParseError('Both "hash" and "random" are not allowed.')
    return [Nat(flags, *rng)]


def _parse_ct(arg: str, ctx: ParseCtx) -> list[Action]:
    from .act_text import parse_actions_nested
    flags, table, zone_imm, alg = 0, NX_CT_RECIRC_NONE, 0, 0
    zone_src: Subfield | None = None
    nested: list[Action] = []
    pos = 0
    while (item := parse_key_value(arg, pos)) is not None:
        key, value, pos = item
        if key == "commit":
            flags |= NX_CT_F_COMMIT
        elif key == "force":
            flags |= NX_CT_F_FORCE
        elif key == "table":
            t = parse_table(value, ctx.table_map)
            if t is None:
                raise ParseError(f"unknown table {value}")
            if t == NX_CT_RECIRC_NONE:
                raise ParseError(f"invalid table {t:#x}")
            table = t
        elif key == "zone":
            try:
                zone_imm = str_to_u16(value, "zone")
            except ParseError:
                zone_src = parse_subfield(value)
        elif key == "alg":
            if value not in ("ftp", "tftp"):
                raise ParseError(f'invalid conntrack helper "{value}"')
            alg = IPPORT_FTP if value == "ftp" else IPPORT_TFTP
        elif key == "nat":
            nested.extend(parse_nat(value, ctx))
        elif key == "exec":
            nested.extend(parse_actions_nested(value, ctx, "ct"))
        else:
            raise ParseError(f'invalid argument to "ct" action: `{key}\'')
    if flags & NX_CT_F_FORCE and not flags & NX_CT_F_COMMIT:
        raise ParseError('"force" flag requires "commit" flag.')
    return [Ct(flags, zone_src, zone_imm, table, alg, tuple(nested))]


DECODERS: Final[dict[str, Callable[[int, memoryview, int], list[Action]]]] = {
    "NXAST_CT": _dec_ct,
    "NXAST_NAT": _dec_nat,
}
ENCODERS: Final[dict[type, Callable[[Action, int], bytes]]] = {Ct: _enc_ct, Nat: _enc_nat}
FORMATTERS: Final[dict[type, Callable[[Action, FmtCtx], str]]] = {Ct: _fmt_ct, Nat: _fmt_nat}
PARSERS: Final[dict[str, Callable[[str, ParseCtx], list[Action]]]] = {
    "ct": _parse_ct,
    "nat": parse_nat,
}
