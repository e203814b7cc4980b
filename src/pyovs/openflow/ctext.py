"""C-library number parsing, as Open vSwitch's text parsers see it.

ovs-ofctl reads numbers with ``strtoull``/``strtoll`` and ``sscanf``, so
what it accepts is what the C library accepts: leading white space, a sign,
``0x`` for hexadecimal and a leading ``0`` for octal when the base is 0, and
a silent stop at the first character that is not a digit.  The helpers here
reproduce those rules for the flow-text parsers in this package; each
returns the value and the index where scanning stopped, and reports overflow
as C does (``ERANGE``), so that callers can word their errors like OVS.
"""

from __future__ import annotations

from typing import Final

_WS: Final = " \t\n\v\f\r"
U64_MAX: Final = (1 << 64) - 1
S64_MAX: Final = (1 << 63) - 1


def _digits(s: str, i: int, base: int) -> tuple[int, int, int]:
    """Scan digits of ``base`` from ``s[i]``: (value, end index, digit count)."""
    value = 0
    n = 0
    while i < len(s):
        c = s[i]
        if "0" <= c <= "9":
            d = ord(c) - 48
        elif "a" <= c <= "z":
            d = ord(c) - 87
        elif "A" <= c <= "Z":
            d = ord(c) - 55
        else:
            break
        if d >= base:
            break
        value = value * base + d
        n += 1
        i += 1
    return value, i, n


def strtoull(s: str, base: int = 0, start: int = 0) -> tuple[int, int, bool]:
    """C ``strtoull``: (value, end, overflowed).  ``end == start`` if nothing parsed.

    As in C, a leading ``-`` negates modulo 2**64 and overflow saturates.
    """
    i = start
    while i < len(s) and s[i] in _WS:
        i += 1
    neg = False
    if i < len(s) and s[i] in "+-":
        neg = s[i] == "-"
        i += 1
    if base in (0, 16) and s[i:i + 2].lower() == "0x" and i + 2 < len(s) \
            and _digits(s, i + 2, 16)[2]:
        base, i = 16, i + 2
    elif base == 0:
        base = 8 if s[i:i + 1] == "0" else 10
    value, end, n = _digits(s, i, base)
    if n == 0:
        return 0, start, False
    if value > U64_MAX:
        return U64_MAX, end, True
    if neg:
        value = (-value) & U64_MAX
    return value, end, False


def strtoll(s: str, base: int = 0, start: int = 0) -> tuple[int, int, bool]:
    """C ``strtoll``: (value, end, overflowed), saturating at the int64 limits."""
    i = start
    while i < len(s) and s[i] in _WS:
        i += 1
    neg = i < len(s) and s[i] == "-"
    if i < len(s) and s[i] in "+-":
        i += 1
    value, end, overflow = strtoull(s, base, i)
    if end == i:
        return 0, start, False
    if overflow or value > S64_MAX + neg:
        return (-S64_MAX - 1 if neg else S64_MAX), end, True
    return (-value if neg else value), end, False


def str_to_llong(s: str, base: int = 10) -> int | None:
    """OVS ``str_to_llong``: the whole string must be one in-range number."""
    value, end, overflow = strtoll(s, base)
    if end == 0 or end != len(s) or overflow:
        return None
    return value


def str_to_uint(s: str, base: int = 10) -> int | None:
    """OVS ``str_to_uint``: a whole-string number in 0..UINT_MAX."""
    value = str_to_llong(s, base)
    if value is None or not 0 <= value <= 0xFFFFFFFF:
        return None
    return value


def str_to_int(s: str, base: int = 10) -> int | None:
    """OVS ``str_to_int``: a whole-string number in INT_MIN..INT_MAX."""
    value = str_to_llong(s, base)
    if value is None or not -(1 << 31) <= value < 1 << 31:
        return None
    return value


def scan_uint(s: str, start: int, base: int = 10, bits: int = 32) -> tuple[int, int] | None:
    """``sscanf("%u")``-like: (value, end) or None; wraps modulo 2**bits like C."""
    value, end, _ = strtoull(s, base, start)
    if end == start:
        return None
    return value & ((1 << bits) - 1), end


def _value_len(s: str, i: int, delims: str) -> int:
    """OVS ``parse_value``: length of a value up to a delimiter, skipping (...) groups."""
    n = i
    while n < len(s) and s[n] not in delims:
        if s[n] == "(":
            level = 0
            while True:
                if n >= len(s):
                    return n - i
                if s[n] == "(":
                    level += 1
                elif s[n] == ")":
                    level -= 1
                n += 1
                if level <= 0:
                    break
        else:
            n += 1
    return n - i


def parse_key_value(s: str, pos: int) -> tuple[str, str, int] | None:
    """One ``key[=:(]value`` item of an OVS list (``ofputil_parse_key_value``).

    Returns (key, value, next position), or None at the end of the input.
    A value after ``=`` or ``:`` runs to white space or a comma; after ``(``
    it runs to the matching ``)`` (and on through ``)->dst`` for ``load``-like
    syntax).
    """
    while pos < len(s) and s[pos] in ", \t\r\n":
        pos += 1
    if pos >= len(s):
        return None
    key_end = pos
    while key_end < len(s) and s[key_end] not in ":=(, \t\r\n":
        key_end += 1
    key = s[pos:key_end]
    delim = s[key_end] if key_end < len(s) else ""
    pos = key_end + (1 if delim else 0)
    if delim in (":", "="):
        delims = ", \t\r\n"
    elif delim == "(":
        delims = ")"
    else:
        return key, "", pos
    n = _value_len(s, pos, delims)
    end = pos + n
    if delim == "(" and s[end:end + 3] == ")->":
        end += _value_len(s, end, ", \t\r\n")
    value = s[pos:end]
    return key, value, end + (1 if end < len(s) else 0)
