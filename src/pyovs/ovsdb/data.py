"""OVSDB data: atoms and datums (RFC 7047 section 5.1), in JSON and in text.

An *atom* is a Python value: ``int`` (integer), ``float`` (real), ``bool``,
``str`` or :class:`Uuid`.  The schema, not the atom, says which OVSDB type a
value has; a uuid atom is always a ``Uuid``, a ``str`` subclass holding the
canonical lower-case text, so a string atom that looks like a UUID is never
confused with one, while hashing, comparing and printing uuids run at the
speed of plain strings (``uuid.UUID`` does all three in Python code, and
they are the hot path of reference counting, diffs and monitors).

A :class:`Datum` is what one column of one row holds: a sorted tuple of
unique keys and, for a map, a parallel tuple of values.  Every datum is a set
or a map; a scalar column is a set of exactly one atom.  Datums are immutable
and hashable, so rows can share them and transactions can compare them
cheaply.  Sorting uses Python order, which matches OVS for every atomic type
(strings compare by code point, which is UTF-8 byte order; UUIDs compare as
128-bit numbers, which is OVS's part-by-part order).

Three notations are implemented here, each matching OVS byte for byte:
- JSON (``from_json``/``to_json``) for the wire and the log file;
- the string syntax of ovs-vsctl and ovsdb-client
  (``from_string``/``to_string``), e.g. ``{a=1, b=2}``, ``[x, "y z"]``;
- the "bare" syntax (``to_bare``) of ``--format=bare``.
Parsing checks the type's constraints (enum, ranges, lengths, element
counts) and reports violations with OVS's error tags and wording.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from dataclasses import dataclass
from typing import Any

from .errors import OvsdbError, is_id, ovs_real, syntax_error
from .schema import INT64_MAX, INT64_MIN, UINT_MAX, AtomicType, BaseType, Type, enum_type


class Uuid(str):
    """A uuid atom: its canonical text (lower-case 8-4-4-4-12 hex)."""

    __slots__ = ()

    @property
    def int(self) -> int:
        return int(self.replace("-", ""), 16)


_rand = random.SystemRandom().getrandbits(64)
_prng = random.Random(_rand ^ os.getpid() ^ time.time_ns())


def new_uuid() -> Uuid:
    """A fresh random (version 4) uuid.

    Like OVS's ``uuid_generate``, a fast generator seeded once from the
    system's entropy, not a system call per uuid.
    """
    h = f"{(_prng.getrandbits(128) & _V4_MASK) | _V4_BITS:032x}"
    return Uuid(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")


_V4_MASK = ~((0xF << 76) | (0x3 << 62)) & ((1 << 128) - 1)
_V4_BITS = (0x4 << 76) | (0x2 << 62)


Atom = int | float | bool | str | Uuid

ZERO_UUID = Uuid("00000000-0000-0000-0000-000000000000")
MAX_RANGE_SIZE = 4096

_DEFAULT_ATOMS: dict[AtomicType, Atom] = {
    AtomicType.INTEGER: 0,
    AtomicType.REAL: 0.0,
    AtomicType.BOOLEAN: False,
    AtomicType.STRING: "",
    AtomicType.UUID: ZERO_UUID,
}


@dataclass(slots=True)
class Symbol:
    """A named-uuid of a transaction (or an ``@name`` of ovs-vsctl)."""

    uuid: Uuid
    created: bool = False
    strong_ref: bool = False
    weak_ref: bool = False


class SymbolTable(dict[str, Symbol]):
    """Names to UUIDs; a name seen for the first time gets a fresh UUID."""

    def insert(self, name: str) -> Symbol:
        sym = self.get(name)
        if sym is None:
            sym = self[name] = Symbol(new_uuid())
        return sym


def default_atom(atype: AtomicType) -> Atom:
    return _DEFAULT_ATOMS[atype]


def fmt_real(x: float) -> str:
    """C's ``%.15g``, which OVS uses for reals in text and in messages."""
    return f"{x:.15g}"


# --- atoms -----------------------------------------------------------------

def _unwrap(value: Any, name: str, kind: type) -> Any:
    if (isinstance(value, list) and len(value) == 2 and value[0] == name
            and isinstance(value[1], kind)):
        return value[1]
    kind_name = "string" if kind is str else "array"
    raise syntax_error(value, f'expected ["{name}", <{kind_name}>]')


_UUID_RE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


def uuid_from_string(s: str) -> Uuid | None:
    """Parse a UUID in the strict 8-4-4-4-12 hex form that OVS accepts."""
    if len(s) != 36 or _UUID_RE.match(s) is None:
        return None
    return Uuid(s.lower())


def atom_from_json(base: BaseType, value: Any, symtab: SymbolTable | None = None) -> Atom:
    """Parse one atom and check ``base``'s constraints."""
    t = base.type
    atom: Atom
    if t is AtomicType.STRING:
        if not isinstance(value, str):
            raise syntax_error(value, "expected string")
        atom = value
    elif t is AtomicType.INTEGER:
        if type(value) is not int or not INT64_MIN <= value <= INT64_MAX:
            raise syntax_error(value, "expected integer")
        atom = value
    elif t is AtomicType.UUID:
        atom = _uuid_from_json(base, value, symtab)
    elif t is AtomicType.REAL:
        if type(value) is int:
            atom = float(value)
        elif type(value) is float:
            atom = value
        else:
            raise syntax_error(value, "expected real")
    else:
        if type(value) is not bool:
            raise syntax_error(value, "expected boolean")
        atom = value
    if base.has_constraints():
        check_atom(base, atom)
    return atom


def _uuid_from_json(base: BaseType, value: Any, symtab: SymbolTable | None) -> Uuid:
    if isinstance(value, list) and len(value) == 2 and value[0] == "uuid" and isinstance(
            value[1], str):
        u = uuid_from_string(value[1])
        if u is None:
            raise syntax_error(value, f'"{value[1]}" is not a valid UUID')
        return u
    if (symtab is not None and isinstance(value, list) and len(value) == 2
            and value[0] == "named-uuid" and isinstance(value[1], str)):
        if not is_id(value[1]):
            raise syntax_error(value, "named-uuid string is not a valid <id>")
        sym = symtab.insert(value[1])
        if base.ref_table is not None:
            if base.ref_type == "strong":
                sym.strong_ref = True
            else:
                sym.weak_ref = True
        return sym.uuid
    _unwrap(value, "uuid", str)  # raises the right message
    raise AssertionError("unreachable")


def atom_to_json(atom: Atom) -> Any:
    if type(atom) is Uuid:
        return ["uuid", atom]
    if type(atom) is float:
        return ovs_real(atom)
    return atom


def check_atom(base: BaseType, atom: Atom) -> None:
    """Raise "constraint violation" unless ``atom`` meets ``base``'s constraints.

    Reference constraints are checked at commit time, not here.
    """
    if base.enum is not None:
        if atom not in base.enum.keys:
            valid = base.enum.to_string(enum_type(base.type))
            raise OvsdbError("constraint violation",
                             f"{atom_to_string(atom)} is not one of the allowed values "
                             f"({valid})")
        return
    t = base.type
    if t is AtomicType.INTEGER:
        assert isinstance(atom, int)
        lo, hi = base.min_integer, base.max_integer
        if lo <= atom <= hi:
            return
        if lo != INT64_MIN:
            if hi != INT64_MAX:
                msg = f"{atom} is not in the valid range {lo} to {hi} (inclusive)"
            else:
                msg = f"{atom} is less than minimum allowed value {lo}"
        else:
            msg = f"{atom} is greater than maximum allowed value {hi}"
        raise OvsdbError("constraint violation", msg)
    if t is AtomicType.REAL:
        assert isinstance(atom, float)
        rlo, rhi = base.min_real, base.max_real
        if rlo <= atom <= rhi:
            return
        from .schema import DBL_MAX
        if rlo != -DBL_MAX:
            if rhi != DBL_MAX:
                msg = (f"{fmt_real(atom)} is not in the valid range {fmt_real(rlo)} to "
                       f"{fmt_real(rhi)} (inclusive)")
            else:
                msg = f"{fmt_real(atom)} is less than minimum allowed value {fmt_real(rlo)}"
        else:
            msg = f"{fmt_real(atom)} is greater than maximum allowed value {fmt_real(rhi)}"
        raise OvsdbError("constraint violation", msg)
    if t is AtomicType.STRING:
        assert isinstance(atom, str)
        check_string(base, atom)


def check_string(base: BaseType, s: str) -> None:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise OvsdbError("constraint violation",
                         "not a valid UTF-8 string: invalid UTF-16 surrogate") from None
    n = len(s)
    if n < base.min_length:
        raise OvsdbError("constraint violation",
                         f'"{s}" length {n} is less than minimum allowed length '
                         f"{base.min_length}")
    if n > base.max_length:
        raise OvsdbError("constraint violation",
                         f'"{s}" length {n} is greater than maximum allowed length '
                         f"{base.max_length}")


# --- text syntax for atoms ---------------------------------------------------

_DELIMS = frozenset(":=, []{}!<>")


def _string_needs_quotes(s: str) -> bool:
    if not s:
        return True
    c = s[0]
    if not (c.isascii() and (c.isalpha() or c == "_")):
        return True
    for c in s[1:]:
        if not (c.isascii() and (c.isalnum() or c in "_-.")):
            return True
    return s in ("true", "false") or uuid_from_string(s) is not None


def atom_to_string(atom: Atom) -> str:
    if isinstance(atom, bool):
        return "true" if atom else "false"
    if type(atom) is Uuid:
        return str.__str__(atom)
    if isinstance(atom, str):
        if _string_needs_quotes(atom):
            return json.dumps(atom, ensure_ascii=False)
        return atom
    if isinstance(atom, float):
        return fmt_real(atom)
    return str(atom)


def atom_to_bare(atom: Atom) -> str:
    return str.__str__(atom) if isinstance(atom, str) else atom_to_string(atom)


def _parse_llong(s: str) -> int | None:
    t = s.lstrip(" \t\n\v\f\r")
    body = t[1:] if t[:1] in "+-" else t
    if not body or not body.isdigit() or not body.isascii():
        return None
    v = int(t)
    return v if INT64_MIN <= v <= INT64_MAX else None


def _parse_real(s: str) -> float | None:
    t = s.strip()
    if not t or t != s.lstrip():
        return None
    try:
        v = float(t)
    except ValueError:
        return None
    return 0.0 if v == 0.0 else v


def atom_from_string(base: BaseType, s: str, symtab: SymbolTable | None = None,
                     allow_range: bool = False) -> list[Atom]:
    """Parse a token of the text syntax into one atom (or a range of integers).

    Errors are raised as ``ValueError`` with OVS's message text.
    """
    t = base.type
    atoms: list[Atom]
    if t is AtomicType.INTEGER:
        v = _parse_llong(s)
        if v is not None:
            atoms = [v]
        else:
            rng = _parse_range(s) if allow_range else None
            if rng is None:
                raise ValueError(f'"{s}" is not a valid integer or range' if allow_range
                                 else f'"{s}" is not a valid integer')
            start, end = rng
            if end < start:
                raise ValueError(
                    f'"{s}" is not a valid range. Range end cannot be before start.')
            atoms = [start, end]
    elif t is AtomicType.REAL:
        r = _parse_real(s)
        if r is None:
            raise ValueError(f'"{s}" is not a valid real number')
        atoms = [r]
    elif t is AtomicType.BOOLEAN:
        if s in ("true", "yes", "on", "1"):
            atoms = [True]
        elif s in ("false", "no", "off", "0"):
            atoms = [False]
        else:
            raise ValueError(f'"{s}" is not a valid boolean (use "true" or "false")')
    elif t is AtomicType.STRING:
        if not s:
            raise ValueError('An empty string is not valid as input; '
                             'use "" to represent the empty string')
        if s[0] == '"':
            if len(s) < 2 or s[-1] != '"':
                raise ValueError(f"{s}: missing quote at end of quoted string")
            try:
                unq = json.loads(s)
            except ValueError as e:
                raise ValueError(f"{s}: {e}") from None
            atoms = [unq]
        else:
            atoms = [s]
    else:
        if s.startswith("@") and symtab is not None:
            sym = symtab.insert(s)
            if base.ref_table is not None:
                if base.ref_type == "strong":
                    sym.strong_ref = True
                else:
                    sym.weak_ref = True
            atoms = [sym.uuid]
        else:
            u = uuid_from_string(s)
            if u is None:
                raise ValueError(f'"{s}" is not a valid UUID')
            atoms = [u]
    try:
        check_atom(base, atoms[0])
        if len(atoms) == 2:
            first, last = atoms
            assert isinstance(first, int) and isinstance(last, int)
            start, end = first, last
            if base.enum is not None:
                for i in range(start + 1, end + 1):
                    check_atom(base, i)
            else:
                check_atom(base, end)
            if end - start >= MAX_RANGE_SIZE:
                raise OvsdbError("constraint violation",
                                 f'Range "{start}-{end}" is too big. Maximum allowed size '
                                 f"is {MAX_RANGE_SIZE}.")
            return list(range(start, end + 1))
    except OvsdbError as e:
        raise ValueError(str(e)) from None
    return atoms


def _parse_range(s: str) -> tuple[int, int] | None:
    # "A-B" where A and B are decimal integers, each optionally signed.
    for i in range(1, len(s)):
        if s[i] == "-":
            a, b = _parse_llong(s[:i]), _parse_llong(s[i + 1:])
            if a is not None and b is not None:
                return a, b
    return None


def parse_token(s: str, pos: int) -> tuple[str, int]:
    """OVS's ``ovsdb_token_parse``: read up to an unquoted delimiter."""
    out: list[str] = []
    in_quotes = False
    i = pos
    n = len(s)
    while i < n:
        c = s[i]
        i += 1
        if c == "\\":
            if in_quotes:
                out.append("\\")
            if i >= n:
                raise ValueError(f"{s[pos:]}: backslash at end of argument")
            out.append(s[i])
            i += 1
        elif not in_quotes and c in _DELIMS:
            i -= 1
            break
        else:
            out.append(c)
            if c == '"':
                in_quotes = not in_quotes
    if in_quotes:
        raise ValueError(f"{s[pos:]}: quoted string extends past end of argument")
    return "".join(out), i


def _skip_spaces(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t\n\v\f\r":
        i += 1
    return i


# --- datums -------------------------------------------------------------------

class Datum:
    """The value of one column: sorted unique keys, plus values for a map."""

    __slots__ = ("_members", "keys", "values")

    keys: tuple[Atom, ...]
    values: tuple[Atom, ...] | None

    def __init__(self, keys: tuple[Atom, ...] = (),
                 values: tuple[Atom, ...] | None = None) -> None:
        self.keys = keys
        self.values = values
        self._members: frozenset[Any] | None = None

    def members(self) -> frozenset[Any]:
        """The elements of a set, or the (key, value) pairs of a map, as a set.

        Computed once per datum: a large set column that changes by one
        element is diffed with two C-level set operations instead of a scan.
        """
        m = self._members
        if m is None:
            m = self._members = (frozenset(self.keys) if self.values is None
                                 else frozenset(zip(self.keys, self.values, strict=True)))
        return m

    # construction
    @classmethod
    def scalar(cls, atom: Atom) -> Datum:
        return cls((atom,))

    @classmethod
    def set_of(cls, atoms: Any) -> Datum:
        return cls(tuple(sorted(set(atoms))))

    @classmethod
    def map_of(cls, pairs: dict[Any, Any]) -> Datum:
        items = sorted(pairs.items())
        return cls(tuple(k for k, _ in items), tuple(v for _, v in items))

    @classmethod
    def empty(cls, type_: Type) -> Datum:
        return cls((), () if type_.value is not None else None)

    @classmethod
    def default(cls, type_: Type) -> Datum:
        """The value of a column nobody set: empty, or one default atom."""
        if type_.n_min == 0:
            return _EMPTY_MAP if type_.value is not None else _EMPTY_SET
        key = default_atom(type_.key.type)
        if type_.value is not None:
            return cls((key,), (default_atom(type_.value.type),))
        return cls((key,))

    @classmethod
    def from_json(cls, type_: Type, value: Any, symtab: SymbolTable | None = None) -> Datum:
        is_map = type_.value is not None
        if is_map or (isinstance(value, list) and value and value[0] == "set"):
            cls_name = "map" if is_map else "set"
            inner = _unwrap(value, cls_name, list)
            n = len(inner)
            if n < type_.n_min or n > type_.n_max:
                if type_.n_min == 1 and type_.n_max == 1:
                    raise syntax_error(value, f"{cls_name} must have exactly one member but "
                                       f"{n} are present")
                raise syntax_error(value, f"{cls_name} must have {type_.n_min} to "
                                   f"{type_.n_max} members but {n} are present")
            if is_map:
                assert type_.value is not None
                pairs: list[tuple[Atom, Atom]] = []
                for elem in inner:
                    if not isinstance(elem, list) or len(elem) != 2:
                        raise syntax_error(elem, "expected 2-element array")
                    pairs.append((atom_from_json(type_.key, elem[0], symtab),
                                  atom_from_json(type_.value, elem[1], symtab)))
                pairs.sort(key=lambda p: p[0])
                keys = tuple(k for k, _ in pairs)
                if len(set(keys)) != len(keys):
                    raise OvsdbError(None, "map contains duplicate key")
                return cls(keys, tuple(v for _, v in pairs))
            atoms = [atom_from_json(type_.key, a, symtab) for a in inner]
            uniq = sorted(set(atoms))
            if len(uniq) != len(atoms):
                raise OvsdbError(None, "set contains duplicate")
            return cls(tuple(uniq))
        return cls((atom_from_json(type_.key, value, symtab),))

    # conversion
    def to_json(self) -> Any:
        if self.values is not None:
            return ["map", [[atom_to_json(k), atom_to_json(v)]
                            for k, v in zip(self.keys, self.values, strict=True)]]
        if len(self.keys) == 1:
            return atom_to_json(self.keys[0])
        return ["set", [atom_to_json(k) for k in self.keys]]

    def to_string(self, type_: Type) -> str:
        is_map = self.values is not None
        body = ", ".join(
            f"{atom_to_string(k)}={atom_to_string(v)}"
            for k, v in zip(self.keys, self.values or (), strict=True)) if is_map else ", ".join(
            atom_to_string(k) for k in self.keys)
        if type_.n_max > 1 or not self.keys:
            return ("{%s}" if is_map else "[%s]") % body
        return body

    def to_bare(self) -> str:
        if self.values is not None:
            return " ".join(f"{atom_to_bare(k)}={atom_to_bare(v)}"
                            for k, v in zip(self.keys, self.values, strict=True))
        return " ".join(atom_to_bare(k) for k in self.keys)

    @classmethod
    def from_string(cls, type_: Type, s: str, symtab: SymbolTable | None = None) -> Datum:
        """Parse the ovs-vsctl text syntax; errors are ``ValueError`` with OVS's text."""
        is_map = type_.value is not None
        i = _skip_spaces(s, 0)
        end_delim = ""
        if i < len(s) and s[i] == ("{" if is_map else "["):
            end_delim = "}" if is_map else "]"
            i = _skip_spaces(s, i + 1)
        elif i >= len(s):
            raise ValueError('use "{}" to specify the empty map' if is_map
                             else 'use "[]" to specify the empty set')
        keys: list[Atom] = []
        values: list[Atom] = []
        while i < len(s) and s[i] != end_delim:
            if s[i] in _DELIMS:
                raise ValueError(f'{s}: unexpected "{s[i]}" parsing {type_.to_english()}')
            start = i
            tok, i = parse_token(s, i)
            key_atoms = atom_from_string(type_.key, tok, symtab, allow_range=True)
            if is_map:
                assert type_.value is not None
                i = _skip_spaces(s, i)
                if i < len(s) and s[i] == "=":
                    i = _skip_spaces(s, i + 1)
                    vtok, i = parse_token(s, i)
                    val = atom_from_string(type_.value, vtok, symtab)[0]
                else:
                    c = s[i] if i < len(s) else ""
                    raise ValueError(f'{s[start:]}: syntax error at "{c}" expecting "="')
                for k in key_atoms:
                    keys.append(k)
                    values.append(val)
            else:
                keys.extend(key_atoms)
            i = _skip_spaces(s, i)
            if i < len(s) and s[i] == ",":
                i = _skip_spaces(s, i + 1)
        if (s[i] if i < len(s) else "") != end_delim:
            raise ValueError(f'{s}: missing "{end_delim}" at end of data')
        if end_delim:
            i = _skip_spaces(s, i + 1)
            if i < len(s):
                raise ValueError(f'{s}: trailing garbage after "{end_delim}"')
        n = len(keys)
        what = "pair(s)" if is_map else "value(s)"
        if n < type_.n_min:
            raise ValueError(f"{s}: {n} {what} specified but the minimum number is "
                             f"{type_.n_min}")
        if n > type_.n_max:
            raise ValueError(f"{s}: {n} {what} specified but the maximum number is "
                             f"{type_.n_max}")
        if len(set(keys)) != n:
            raise ValueError(f"{s}: map contains duplicate key" if is_map
                             else f"{s}: set contains duplicate value")
        if is_map:
            return cls.map_of(dict(zip(keys, values, strict=True)))
        return cls(tuple(sorted(keys)))

    # queries
    def __len__(self) -> int:
        return len(self.keys)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Datum) and self.keys == other.keys
                and self.values == other.values)

    def __hash__(self) -> int:
        return hash((self.keys, self.values))

    def __repr__(self) -> str:
        if self.values is not None:
            return f"Datum.map_of({dict(zip(self.keys, self.values, strict=True))!r})"
        return f"Datum({self.keys!r})"

    @property
    def is_map(self) -> bool:
        return self.values is not None

    def as_dict(self) -> dict[Atom, Atom]:
        return dict(zip(self.keys, self.values or (), strict=True))

    def scalar_value(self) -> Atom | None:
        return self.keys[0] if self.keys else None

    def includes(self, other: Datum) -> bool:
        """RFC 7047 "includes": every element (or pair) of ``other`` is in self."""
        if self.values is None:
            mine = set(self.keys)
            return all(k in mine for k in other.keys)
        d = self.as_dict()
        return all(k in d and d[k] == v
                   for k, v in zip(other.keys, other.values or (), strict=True))

    def check_constraints(self, type_: Type) -> None:
        if type_.key.has_constraints():
            for k in self.keys:
                check_atom(type_.key, k)
        if type_.value is not None and type_.value.has_constraints() and self.values:
            for v in self.values:
                check_atom(type_.value, v)


def datum_diff(old: Datum, new: Datum, type_: Type) -> Datum:
    """OVS's ``ovsdb_datum_diff``: what turns ``old`` into ``new``.

    For a column of at most one element, the new value.  For a set, the
    elements in exactly one of the two; for a map, the removed pairs, the
    added pairs and, for a changed key, the new pair.  Used by update2
    "modify" and by ``_is_diff`` log records; ``apply_diff`` undoes it.
    """
    if type_.n_max <= 1:
        return new
    if new.values is None:
        return Datum(tuple(sorted(old.members().symmetric_difference(new.members()))))
    out: dict[Any, Any] = {}
    nd = new.as_dict()
    for k, v in zip(old.keys, old.values or (), strict=True):
        nv = nd.get(k, _MISSING)
        if nv is _MISSING:
            out[k] = v
        elif nv != v:
            out[k] = nv
    od = old.as_dict()
    for k, v in nd.items():
        if k not in od:
            out[k] = v
    return Datum.map_of(out)


def apply_diff(cur: Datum, diff: Datum) -> Datum:
    """Apply a ``datum_diff`` result: toggle set elements; add, change or drop pairs."""
    if cur.values is None:
        return Datum(tuple(sorted(set(cur.keys).symmetric_difference(diff.keys))))
    d = cur.as_dict()
    for k, v in zip(diff.keys, diff.values or (), strict=True):
        if k in d and d[k] == v:
            del d[k]
        else:
            d[k] = v
    return Datum.map_of(d)


_MISSING = object()
_EMPTY_SET = Datum((), None)
_EMPTY_MAP = Datum((), ())


__all__ = [
    "UINT_MAX", "Atom", "Datum", "Symbol", "SymbolTable", "atom_from_json", "atom_from_string",
    "atom_to_bare", "atom_to_json", "atom_to_string", "check_atom", "default_atom",
    "fmt_real", "uuid_from_string",
]
