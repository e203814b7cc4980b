"""Subfields: a bit range of a field, as ``load``, ``move`` and ``learn`` name them.

ovs-ofctl writes a subfield as ``NAME[start..end]``, ``NAME[bit]`` or
``NAME[]`` (the whole field), where NAME is either a field name (``reg0``,
``eth_src``) or an NXM/OXM name (``NXM_NX_REG0``, ``OXM_OF_METADATA``).  On
output OVS always uses the NXM name when the field has one (OVS
``mf_format_subfield``), so ``move:eth_src[]->eth_dst[]`` prints back as
``move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from .errors import ParseError
from .fields import CODE_BY_NAME, FIELD_BY_NAME
from .fieldtypes import Field


@dataclass(frozen=True, slots=True)
class Subfield:
    """A bit range of a field (OVS ``struct mf_subfield``)."""

    field: Field
    """The field."""
    ofs: int
    """Index of the lowest bit."""
    n_bits: int
    """Number of bits."""

    @property
    def end(self) -> int:
        return self.ofs + self.n_bits - 1

    def __str__(self) -> str:
        return format_subfield(self)


def whole(f: Field) -> Subfield:
    return Subfield(f, 0, f.n_bits)


def format_subfield(sf: Subfield) -> str:
    """OVS ``mf_format_subfield``."""
    name = sf.field.nxm_name
    if sf.ofs == 0 and sf.n_bits == sf.field.n_bits:
        return name + "[]"
    if sf.n_bits == 1:
        return f"{name}[{sf.ofs}]"
    return f"{name}[{sf.ofs}..{sf.end}]"


_RANGE: Final = re.compile(r"\[\s*([+-]?\d+)\.\.\s*([+-]?\d+)\]")
_BIT: Final = re.compile(r"\[\s*([+-]?\d+)\]")


def lookup_name(name: str) -> Field | None:
    """A field by NXM/OXM name (``_W`` suffix allowed) or by ovs-ofctl name."""
    nxm = name[:-2] if len(name) > 2 and name.endswith("_W") else name
    hit = CODE_BY_NAME.get(nxm)
    if hit is not None:
        return hit[0]
    return FIELD_BY_NAME.get(name)


def parse_subfield_prefix(s: str, start: int = 0) -> tuple[Subfield, int]:
    """A subfield at ``s[start:]``: (subfield, index after it); OVS ``mf_parse_subfield__``."""
    text = s[start:]
    name_len = len(text)
    for i, c in enumerate(text):
        if c in "[-":
            name_len = i
            break
    name = text[:name_len]
    f = lookup_name(name)
    if f is None:
        raise ParseError(f"{text}: unknown field `{name}'")
    i = name_len
    lo, hi = 0, f.n_bits - 1
    if text[i:i + 1] == "[":
        if text.startswith("[]", i):
            i += 2
        else:
            m = _RANGE.match(text, i) or _BIT.match(text, i)
            if m is None:
                raise ParseError(
                    f"{text}: syntax error expecting [] or [<bit>] or [<start>..<end>]")
            lo = int(m.group(1))
            hi = int(m.group(2)) if m.re is _RANGE else lo
            i = text.index("]", i) + 1
    if lo > hi:
        raise ParseError(f"{text}: starting bit {lo} is after ending bit {hi}")
    if lo >= f.n_bits:
        raise ParseError(f"{text}: starting bit {lo} is not valid because field is only "
                         f"{f.n_bits} bits wide")
    if hi >= f.n_bits:
        raise ParseError(f"{text}: ending bit {hi} is not valid because field is only "
                         f"{f.n_bits} bits wide")
    return Subfield(f, lo, hi - lo + 1), start + i


def parse_subfield(s: str) -> Subfield:
    """A subfield that must be the whole of ``s`` (OVS ``mf_parse_subfield``)."""
    sf, end = parse_subfield_prefix(s)
    if end != len(s):
        raise ParseError("unexpected input following field syntax")
    return sf
