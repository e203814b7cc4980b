"""OpenFlow port numbers: reserved ports, 1.0 <-> 1.1+ mapping, port text.

pyovs, like OVS, holds a port number in its OpenFlow 1.0 form: 16 bits, with
the reserved ports at 0xfff7..0xffff.  OpenFlow 1.1 widened ports to 32 bits
and moved the reserved ones to 0xfffffff7..0xffffffff; ``to_ofp11`` and
``from_ofp11`` translate at the wire edge (OVS ``ofputil_port_to_ofp11``),
and a 1.1+ number between 0xff00 and 0xffffff00 has no 1.0 form and is
refused with ``OFPBAC_BAD_OUT_PORT``.

Text follows ``ofputil_port_from_string``/``ofputil_format_port``: reserved
ports by name (``LOCAL``, ``CONTROLLER``...; case-insensitive on input),
everything else in decimal, and, given a port map, names from the switch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from .ctext import str_to_uint
from .errors import OFError, OFPErr

OFPP_MAX: Final = 0xFF00
OFPP_FIRST_RESV: Final = 0xFFF7
OFPP_UNSET: Final = 0xFFF7
OFPP_IN_PORT: Final = 0xFFF8
OFPP_TABLE: Final = 0xFFF9
OFPP_NORMAL: Final = 0xFFFA
OFPP_FLOOD: Final = 0xFFFB
OFPP_ALL: Final = 0xFFFC
OFPP_CONTROLLER: Final = 0xFFFD
OFPP_LOCAL: Final = 0xFFFE
OFPP_NONE: Final = 0xFFFF
OFPP_ANY: Final = OFPP_NONE
OFPP11_MAX: Final = 0xFFFFFF00
OFPP11_OFFSET: Final = 0xFFFF0000

# Reserved port names in OVS's order (the order also decides which name wins
# when formatting: ANY and NONE are the same number, ANY is printed).
RESERVED_PORTS: Final[tuple[tuple[str, int], ...]] = (
    ("IN_PORT", OFPP_IN_PORT),
    ("TABLE", OFPP_TABLE),
    ("NORMAL", OFPP_NORMAL),
    ("FLOOD", OFPP_FLOOD),
    ("ALL", OFPP_ALL),
    ("CONTROLLER", OFPP_CONTROLLER),
    ("LOCAL", OFPP_LOCAL),
    ("ANY", OFPP_ANY),
    ("UNSET", OFPP_UNSET),
)
_NAME_OF: Final[dict[int, str]] = {}
for _name, _number in RESERVED_PORTS:
    _NAME_OF.setdefault(_number, _name)
_NUMBER_OF: Final[dict[str, int]] = {n.upper(): v for n, v in RESERVED_PORTS} | {"NONE": OFPP_NONE}

PortMap = Mapping[str, int]
"""Port names known from the switch (``--names``), name -> number."""


def to_ofp11(port: int) -> int:
    """The OpenFlow 1.1+ number for a 1.0 port number."""
    return port if port < OFPP_MAX else port + OFPP11_OFFSET


def from_ofp11(port: int) -> int:
    """The OpenFlow 1.0 number for a 1.1+ port, or ``OFPBAC_BAD_OUT_PORT``."""
    if port < OFPP_MAX:
        return port
    if port >= OFPP11_MAX:
        return port - OFPP11_OFFSET
    raise OFError(OFPErr.OFPBAC_BAD_OUT_PORT, f"port {port} out of range")


def check_output_port(port: int, max_ports: int = OFPP_MAX) -> None:
    """OVS ``ofpact_check_output_port``: may actions output to ``port``?"""
    if port in (OFPP_IN_PORT, OFPP_TABLE, OFPP_NORMAL, OFPP_FLOOD, OFPP_ALL, OFPP_CONTROLLER,
                OFPP_LOCAL):
        return
    if port == OFPP_NONE or port >= max_ports:
        raise OFError(OFPErr.OFPBAC_BAD_OUT_PORT, f"bad output port {port}")


def reserved_name(port: int) -> str | None:
    return _NAME_OF.get(port)


def parse_port(s: str, port_map: PortMap | None = None) -> int | None:
    """A port from text, or None if ``s`` is not a port (the caller words the error)."""
    if s.startswith("-"):
        return None
    number = str_to_uint(s, 10)
    if number is not None:
        if number < OFPP_MAX or OFPP_FIRST_RESV <= number <= 0xFFFF:
            return number
        if number < OFPP_FIRST_RESV:
            return number
        if number < OFPP11_MAX:
            return None
        return number - OFPP11_OFFSET
    named = _NUMBER_OF.get(s.upper())
    if named is not None:
        return named
    if port_map:
        if len(s) > 1 and s[0] == '"' and s[-1] == '"':
            s = s[1:-1]
        return port_map.get(s)
    return None


def format_port(port: int, names: Mapping[int, str] | None = None) -> str:
    """A port as ovs-ofctl writes it."""
    name = _NAME_OF.get(port)
    if name is not None:
        return name
    if names and port in names:
        return quote_name(names[port])
    return str(port)


def quote_name(name: str) -> str:
    """A port or table name, JSON-quoted unless it is a letter then letters/digits."""
    if name and name[0].isascii() and name[0].isalpha() and all(
            c.isascii() and c.isalnum() for c in name[1:]):
        return name
    out = ['"']
    for c in name:
        if c in '"\\':
            out.append("\\" + c)
        elif c in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[c])
        elif ord(c) < 0x20:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


_JSON_ESCAPES: Final = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
