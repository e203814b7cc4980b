"""Field values as flow text: parsing and formatting by ``Fmt`` kind.

ovs-ofctl reads a field value with ``mf_parse`` and writes it with
``mf_format``; both dispatch on the field's string format (decimal,
hexadecimal, Ethernet, IPv4, IPv6, port, fragment, flags...).  This module is
that dispatch, over ``int`` values (see ``fields``), with OVS's exact output
(``0x`` hex without leading zeros, CIDR prefixes where the mask allows,
``+flag-flag`` for partially masked flags) and its exact error messages, since
scripts and tests compare them.

Match formatting (``match_text``) prints most fields itself, in its own
order and style, but uses the helpers here for addresses and flags.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Final

from .ctext import strtoll, strtoull
from .errors import OFError, ParseError
from .fieldtypes import Field, Fmt
from .ports import PortMap, format_port, from_ofp11, parse_port, to_ofp11

CT_STATE_NAMES: Final[dict[int, str]] = {
    0x01: "new", 0x02: "est", 0x04: "rel", 0x08: "rpl",
    0x10: "inv", 0x20: "trk", 0x40: "snat", 0x80: "dnat",
}
TCP_FLAG_NAMES: Final[dict[int, str]] = {
    0x001: "fin", 0x002: "syn", 0x004: "rst", 0x008: "psh", 0x010: "ack",
    0x020: "urg", 0x040: "ece", 0x080: "cwr", 0x100: "ns",
    0x200: "[200]", 0x400: "[400]", 0x800: "[800]",
}
TUN_FLAG_NAMES: Final[dict[int, str]] = {0x1: "oam", 0x2: "df", 0x4: "csum", 0x8: "key"}

# Fragment handling names: (name, mask, value), first match wins both ways.
FRAG_NAMES: Final[tuple[tuple[str, int, int], ...]] = (
    ("no", 3, 0), ("first", 3, 1), ("later", 3, 3),
    ("no", 1, 0), ("yes", 1, 1),
    ("not_later", 2, 0), ("later", 2, 2),
)


# --- formatting helpers ----------------------------------------------------

def hex_bytes(value: int) -> str:
    """OVS ``ds_put_hex``: ``0x`` and the value without leading zero bytes, or ``0``."""
    return f"0x{value:x}" if value else "0"


def eth_to_str(value: int) -> str:
    b = value.to_bytes(6, "big")
    return ":".join(f"{x:02x}" for x in b)


def ipv4_to_str(value: int) -> str:
    return ".".join(str(x) for x in value.to_bytes(4, "big"))


def ipv6_to_str(value: int) -> str:
    return socket.inet_ntop(socket.AF_INET6, value.to_bytes(16, "big"))


def cidr_bits(mask: int, width: int) -> int | None:
    """Prefix length if ``mask`` is a CIDR mask of ``width`` bits, else None."""
    inv = ~mask & ((1 << width) - 1)
    if inv & (inv + 1):
        return None
    return width - inv.bit_length()


def eth_masked(value: int, mask: int | None) -> str:
    text = eth_to_str(value)
    if mask is not None and mask != 0xFFFFFFFFFFFF:
        text += "/" + eth_to_str(mask)
    return text


def ipv4_masked(value: int, mask: int) -> str:
    text = ipv4_to_str(value)
    if mask != 0xFFFFFFFF:
        bits = cidr_bits(mask, 32)
        text += f"/{bits}" if bits is not None else "/" + ipv4_to_str(mask)
    return text


def ipv6_masked(value: int, mask: int | None) -> str:
    text = ipv6_to_str(value)
    if mask is not None and mask != (1 << 128) - 1:
        bits = cidr_bits(mask, 128)
        text += f"/{bits}" if bits is not None else "/" + ipv6_to_str(mask)
    return text


def format_flags(names: Mapping[int, str], flags: int, delim: str = "|") -> str:
    """OVS ``format_flags``: known names lowest bit first, unknown bits as hex."""
    if not flags:
        return "0"
    parts = []
    bad = 0
    while flags:
        bit = flags & -flags
        name = names.get(bit)
        if name is not None:
            parts.append(name)
        else:
            bad |= bit
        flags &= ~bit
    if bad:
        parts.append(f"0x{bad:x}")
    return delim.join(parts)


def format_flags_masked(names: Mapping[int, str], flags: int, mask: int,
                        max_mask: int) -> str:
    """OVS ``format_flags_masked``: ``a|b`` when fully masked, else ``+a-b``."""
    if mask == max_mask:
        return format_flags(names, flags)
    if not mask:
        return "0/0"
    parts = []
    while mask:
        bit = mask & -mask
        parts.append(("+" if flags & bit else "-") + names.get(bit, "[Unknown]"))
        mask &= ~bit
    return "".join(parts)


def _u16_masked(value: int, mask: int) -> str:
    if not mask:
        return "*"
    text = f"0x{value:x}" if value > 9 else str(value)
    if mask != 0xFFFF:
        text += f"/0x{mask:x}"
    return text


def format_packet_type(value: int, mask: int) -> str:
    """OVS ``format_packet_type_masked``."""
    if value == 0 and mask == 0xFFFFFFFF:
        return "eth"
    return (f"packet_type=({_u16_masked(value >> 16, mask >> 16)},"
            f"{_u16_masked(value & 0xFFFF, mask & 0xFFFF)})")


def format_value(field: Field, value: int, mask: int | None = None,
                 port_names: Mapping[int, str] | None = None) -> str:
    """A field value (and optional mask) as OVS's ``mf_format`` writes it."""
    ones = field.all_ones
    if mask is not None:
        if mask == 0:
            return "ANY"
        if mask == ones:
            mask = None
    fmt = field.fmt
    if fmt is Fmt.PORT_OXM and mask is None:
        try:
            port = from_ofp11(value)
        except OFError:
            port = 0xFFFF
        return format_port(port, port_names)
    if fmt is Fmt.PORT and mask is None:
        return format_port(value, port_names)
    if fmt in (Fmt.DEC, Fmt.HEX, Fmt.PORT, Fmt.PORT_OXM):
        text = hex_bytes(value) if fmt is Fmt.HEX else str(value)
        if mask is not None:
            text += "/" + hex_bytes(mask)
        return text
    full = ones if mask is None else mask
    if fmt is Fmt.CT_STATE:
        return format_flags_masked(CT_STATE_NAMES, value, full, 0xFFFF)
    if fmt is Fmt.ETH:
        return eth_masked(value, mask)
    if fmt is Fmt.IPV4:
        return ipv4_masked(value, full)
    if fmt is Fmt.IPV6:
        return ipv6_masked(value, mask)
    if fmt is Fmt.FRAG:
        m = full & 3
        for name, fmask, fvalue in FRAG_NAMES:
            if value & m == fvalue and m == fmask:
                return name
        return "<error>"
    if fmt is Fmt.TNL_FLAGS:
        return format_flags_masked(TUN_FLAG_NAMES, value, full & 1, 1)
    if fmt is Fmt.TCP_FLAGS:
        return format_flags_masked(TCP_FLAG_NAMES, value, full & 0x0FFF, 0x0FFF)
    return format_packet_type(value, full)


# --- parsing helpers --------------------------------------------------------

def parse_int_string(s: str, width: int, start: int = 0) -> tuple[int, int, int]:
    """OVS ``parse_int_string``: (value, end, errno) for a ``width``-byte integer.

    ``0x`` introduces hexadecimal of any length (white space inside allowed,
    leading zeros free); anything else goes through ``strtoull`` base 0.
    errno is 0, ``ERANGE`` (34) or ``EINVAL`` (22).
    """
    if s[start:start + 2] in ("0x", "0X"):
        i = start + 2
        value = 0
        ndigits = 0
        while True:
            while i < len(s) and s[i] in " \t\r\n":
                i += 1
            if i >= len(s) or s[i] not in "0123456789abcdefABCDEF":
                break
            digit = int(s[i], 16)
            if digit or ndigits:
                if (ndigits + 2) // 2 > width:
                    return 0, i, 34
                ndigits += 1
                value = value * 16 + digit
            i += 1
        return value, i, 0
    value, end, overflow = strtoull(s, 0, start)
    if overflow:
        return 0, end, 34
    if end == start:
        return 0, end, 22
    if value >> (8 * width):
        return 0, end, 34
    return value, end, 0


def _int_string(field: Field, s: str) -> tuple[int, int]:
    value, end, err = parse_int_string(s, field.n_bytes)
    what = "value"
    if not err and end < len(s) and s[end] != "/":
        err = 22
    if not err and end < len(s):
        what = "mask"
        mask, end2, err = parse_int_string(s, field.n_bytes, end + 1)
        if not err and end2 != len(s):
            err = 22
    else:
        mask = field.all_ones
    if err == 34:
        raise ParseError(f"{s}: {what} too large for {field.n_bytes}-byte field {field.name}")
    if err:
        raise ParseError(f"{s}: bad syntax for {field.name} {what}")
    return value, mask


def _scan_num(s: str, i: int, base: int, bits: int, signed: bool = False) -> tuple[int, int] | None:
    """One ``sscanf`` integer conversion (``%hhu``, ``%hhx``, ``%d``...)."""
    if signed:
        v, end, _ = strtoll(s, base, i)
    else:
        v, end, _ = strtoull(s, base, i)
    if end == i:
        return None
    return v & ((1 << bits) - 1) if not signed else v, end


def scan_ipv4(s: str, i: int) -> tuple[int, int] | None:
    """``%hhu.%hhu.%hhu.%hhu``: (address, end) or None."""
    value = 0
    for k in range(4):
        if k:
            if i >= len(s) or s[i] != ".":
                return None
            i += 1
        got = _scan_num(s, i, 10, 8)
        if got is None:
            return None
        value = value << 8 | got[0]
        i = got[1]
    return value, i


def scan_eth(s: str, i: int) -> tuple[int, int] | None:
    """``%hhx:%hhx:%hhx:%hhx:%hhx:%hhx``: (address, end) or None."""
    value = 0
    for k in range(6):
        if k:
            if i >= len(s) or s[i] != ":":
                return None
            i += 1
        got = _scan_num(s, i, 16, 8)
        if got is None:
            return None
        value = value << 8 | got[0]
        i = got[1]
    return value, i


_IPV6_CHARS: Final = frozenset("0123456789abcdefABCDEF:.")


def scan_ipv6(s: str, i: int) -> tuple[int, int] | None:
    """`` %46[0-9a-fA-F:.]`` followed by ``inet_pton``: (address, end) or None."""
    while i < len(s) and s[i].isspace():
        i += 1
    j = i
    while j < len(s) and j - i < 46 and s[j] in _IPV6_CHARS:
        j += 1
    if j == i:
        return None
    try:
        packed = socket.inet_pton(socket.AF_INET6, s[i:j])
    except OSError:
        return None
    return int.from_bytes(packed, "big"), j


def parse_ipv4_masked(s: str, start: int = 0, whole: bool = True) -> tuple[int, int, int]:
    """OVS ``ip_parse_masked_len``: (address, mask, end)."""
    got = scan_ipv4(s, start)
    if got is None:
        raise ParseError(f"{s}: invalid IP address")
    ip, i = got
    mask = 0xFFFFFFFF
    if i < len(s) and s[i] == "/":
        m = scan_ipv4(s, i + 1)
        if m is not None:
            mask, i = m
        else:
            p = _scan_num(s, i + 1, 10, 32, signed=True)
            if p is not None:
                prefix, i = p
                if not 0 <= prefix <= 32:
                    raise ParseError(
                        f"{s}: IPv4 network prefix bits not between 0 and 32, inclusive")
                mask = (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF
    if whole and i != len(s):
        raise ParseError(f"{s}: invalid IP address")
    return ip, mask, i


def parse_ipv6_masked(s: str, start: int = 0, whole: bool = True) -> tuple[int, int, int]:
    """OVS ``ipv6_parse_masked_len``: (address, mask, end)."""
    got = scan_ipv6(s, start)
    if got is None:
        raise ParseError(f"{s}: invalid IPv6 address")
    ip, i = got
    mask = (1 << 128) - 1
    if i < len(s) and s[i] == "/":
        p = _scan_num(s, i + 1, 10, 32, signed=True)
        if p is not None:
            prefix, i = p
            if not 0 <= prefix <= 128:
                raise ParseError(
                    f"{s}: IPv6 network prefix bits not between 0 and 128, inclusive")
            mask = ((1 << 128) - 1) ^ ((1 << (128 - prefix)) - 1)
        else:
            m = scan_ipv6(s, i + 1)
            if m is None:
                if i + 1 < len(s) and s[i + 1] in _IPV6_CHARS:
                    raise ParseError(f"{s}: Invalid IPv6 mask")
            else:
                mask, i = m
    if whole and i != len(s):
        raise ParseError(f"{s}: invalid IPv6 address")
    return ip, mask, i


def parse_eth_masked(s: str) -> tuple[int, int]:
    got = scan_eth(s, 0)
    if got is not None:
        if got[1] == len(s):
            return got[0], 0xFFFFFFFFFFFF
        if s[got[1]] == "/":
            m = scan_eth(s, got[1] + 1)
            if m is not None and m[1] == len(s):
                return got[0], m[0]
    raise ParseError(f"{s}: invalid Ethernet address")


def parse_flags(s: str, names: Mapping[int, str], field_name: str, allowed: int,
                masked: bool, end: str = "") -> tuple[int, int, int]:
    """OVS ``parse_flags``: (flags, mask, characters used).

    Accepts ``NUM/NUM``, ``+name-name`` (when ``masked``) or ``name|name|NUM``.
    ``end`` is the character that ends the flags ("" for end of string).
    """
    def at_end(i: int) -> bool:
        return i >= len(s) if not end else (i >= len(s) or s[i] == end)

    def unknown(rest: str) -> ParseError:
        return ParseError(f"{rest}: unknown {field_name} flag(s)")

    if masked:
        f = _scan_num(s, 0, 0, 32, signed=True)
        if f is not None and f[1] < len(s) and s[f[1]] == "/":
            m = _scan_num(s, f[1] + 1, 0, 32, signed=True)
            if m is not None:
                flags, mask = f[0] & 0xFFFFFFFF, m[0] & 0xFFFFFFFF
                if flags & ~allowed or mask & ~allowed:
                    raise unknown(s)
                return flags, mask, m[1]
    ordered = sorted(names.items())
    if masked and s[:1] in ("+", "-"):
        flags = mask = 0
        i = 0
        while not at_end(i):
            if s[i] not in "+-":
                raise ParseError(
                    f"{s[i:]}: {field_name} must be preceded by '+' (for SET) or '-' (NOT SET)")
            is_set = s[i] == "+"
            i += 1
            for bit, name in ordered:
                after = i + len(name)
                if s.startswith(name, i) and (at_end(after) or s[after] in "+-"):
                    if mask & bit:
                        raise ParseError(
                            f"{s[i:]}: Each {field_name} flag can be specified only once")
                    if not bit & allowed:
                        raise unknown(s[i:])
                    if is_set:
                        flags |= bit
                    mask |= bit
                    i = after
                    break
            else:
                raise unknown(s[i:])
        return flags, mask, i
    result = 0
    i = 0
    while not at_end(i):
        num = _scan_num(s, i, 0, 64, signed=True)
        if num is not None:
            value = num[0] & ((1 << 64) - 1)
            if value & ~allowed:
                raise unknown(s)
            i = num[1]
            if i < len(s) and s[i] == "|":
                i += 1
            result |= value
            continue
        for bit, name in ordered:
            after = i + len(name)
            if s.startswith(name, i) and (at_end(after) or s[after] == "|"):
                if not bit & allowed:
                    raise unknown(s)
                result |= bit
                i = after + (1 if after < len(s) and s[after] == "|" else 0)
                break
        else:
            raise unknown(s)
    return result, 0xFFFFFFFF, i


def parse_value(field: Field, s: str, port_map: PortMap | None = None) -> tuple[int, int]:
    """A field's value and mask from text, as OVS's ``mf_parse``."""
    if s == "*":
        return 0, 0
    fmt = field.fmt
    ones = field.all_ones
    if fmt in (Fmt.DEC, Fmt.HEX):
        value, mask = _int_string(field, s)
    elif fmt is Fmt.CT_STATE:
        value, mask, _ = parse_flags(s, CT_STATE_NAMES, "ct_state", 0xFF, True)
    elif fmt is Fmt.ETH:
        value, mask = parse_eth_masked(s)
    elif fmt is Fmt.IPV4:
        value, mask, _ = parse_ipv4_masked(s)
    elif fmt is Fmt.IPV6:
        value, mask, _ = parse_ipv6_masked(s)
    elif fmt is Fmt.PORT:
        port = parse_port(s, port_map)
        if port is None:
            raise ParseError(f"{s}: invalid or unknown port for {field.name}")
        value, mask = port, ones
    elif fmt is Fmt.PORT_OXM:
        port = parse_port(s, port_map)
        if port is None:
            raise ParseError(f"{s}: port value out of range for {field.name}")
        value, mask = to_ofp11(port), ones
    elif fmt is Fmt.FRAG:
        for name, fmask, fvalue in FRAG_NAMES:
            if s.lower() == name:
                value, mask = fvalue, fmask | 0xFC
                break
        else:
            raise ParseError(
                f'{s}: unknown fragment type (valid types are "no", "yes", "first", '
                f'"later", "not_later"')
    elif fmt is Fmt.TNL_FLAGS:
        value, mask, _ = parse_flags(s, TUN_FLAG_NAMES, "tunnel", 0x1, True)
        value, mask = value & 0xFFFF, mask & 0xFFFF
    elif fmt is Fmt.TCP_FLAGS:
        value, mask, _ = parse_flags(s, TCP_FLAG_NAMES, "TCP", 0x0FFF, True)
        value, mask = value & 0xFFFF, mask & 0xFFFF
    else:
        value, mask = _packet_type(s), ones
    if not field.maskable and mask not in (0, ones):
        raise ParseError(f"{s}: invalid mask for field {field.name}")
    return value, mask


def _packet_type(s: str) -> int:
    def bad(what: str, rest: str) -> ParseError:
        return ParseError(f"{rest}: bad syntax for packet type {what}")

    if not s.startswith("("):
        raise bad("missing '('", s)
    ns, i, err = parse_int_string(s, 2, 1)
    if err:
        raise bad("ns", s[1:])
    if i >= len(s) or s[i] != ",":
        raise bad("missing ','", s[1:])
    ns_type, j, err = parse_int_string(s, 2, i + 1)
    if err:
        raise bad("ns_type", s[i + 1:])
    if j >= len(s) or s[j] != ")":
        raise bad("missing ')'", s[i + 1:])
    return ns << 16 | ns_type
