"""Mutations: the ``mutate`` operation's ``[column, mutator, value]`` list.

Arithmetic mutators (+= -= *= /= %=) apply to integer or real scalars and
sets, element by element, with C semantics (division truncates toward zero,
the remainder takes the dividend's sign) and 64-bit overflow detection.
``insert`` adds elements or pairs (an existing map key keeps its value);
``delete`` removes elements, pairs, or (for a map) keys given as a set.
Errors use OVS's tags: "domain error", "range error", "constraint
violation".
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

from .data import Atom, Datum, SymbolTable, check_atom
from .errors import OvsdbError, syntax_error
from .schema import INT64_MAX, INT64_MIN, UNLIMITED, AtomicType, BaseType, TableSchema, Type

MUTATORS = ("+=", "-=", "*=", "/=", "%=", "insert", "delete")
DBL_MAX = 1.7976931348623157e308


@dataclass(frozen=True, slots=True)
class Mutation:
    column: str
    mutator: str
    arg: Datum
    column_type: Type


def _type_mismatch(value: Any, mutator: str, name: str, ctype: Type) -> OvsdbError:
    return syntax_error(value, f'Type mismatch: "{mutator}" operator may not be applied to '
                        f"column {name} of type {ctype.to_english()}.")


def mutation_from_json(table: TableSchema, value: Any, symtab: SymbolTable | None) -> Mutation:
    if (not isinstance(value, list) or len(value) != 3 or not isinstance(value[0], str)
            or not isinstance(value[1], str)):
        raise syntax_error(value, "Parse error in mutation.")
    name, mutator, arg_json = value
    column = table.columns.get(name)
    if column is None:
        raise syntax_error(value, f"No column {name} in table {table.name}.",
                           tag="unknown column")
    if not column.mutable:
        raise syntax_error(value, f"Cannot mutate immutable column {name} in table "
                           f"{table.name}.", tag="constraint violation")
    if mutator not in MUTATORS:
        raise OvsdbError("unknown mutator", f"No mutator named {mutator}.")
    ctype = column.type
    if mutator in ("+=", "-=", "*=", "/=", "%="):
        if (not (ctype.is_scalar or ctype.is_set)
                or ctype.key.type not in (AtomicType.INTEGER, AtomicType.REAL)
                or (mutator == "%=" and ctype.key.type is AtomicType.REAL)):
            raise _type_mismatch(value, mutator, name, ctype)
        arg = Datum.from_json(Type(BaseType(ctype.key.type)), arg_json, symtab)
    else:
        if not (ctype.is_set or ctype.is_map):
            raise _type_mismatch(value, mutator, name, ctype)
        n_max = UNLIMITED if mutator == "delete" else ctype.n_max
        arg_type = Type(ctype.key, ctype.value, 0, n_max)
        try:
            arg = Datum.from_json(arg_type, arg_json, symtab)
        except OvsdbError:
            if not (ctype.is_map and mutator == "delete"):
                raise
            arg = Datum.from_json(Type(ctype.key, None, 0, UNLIMITED), arg_json, symtab)
    return Mutation(name, mutator, arg, ctype)


def _set_insert(dst: Datum, arg: Datum) -> Datum:
    """The union of dst and arg, kept sorted; a few new elements are placed by bisection."""
    if len(arg.keys) > 8:
        return Datum(tuple(sorted(set(dst.keys).union(arg.keys))))
    keys = list(dst.keys)
    for k in arg.keys:
        i = bisect_left(keys, k)
        if i == len(keys) or keys[i] != k:
            keys.insert(i, k)
    return Datum(tuple(keys))


def _c_div(x: int, y: int) -> int:
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y >= 0) else -q


def _c_mod(x: int, y: int) -> int:
    return x - _c_div(x, y) * y


def _scalar(mutator: str, x: Atom, y: Atom, atype: AtomicType) -> Atom:
    if atype is AtomicType.INTEGER:
        assert isinstance(x, int) and isinstance(y, int)
        if mutator in ("/=", "%="):
            if y == 0:
                raise OvsdbError("domain error", "Division by zero.")
            r = _c_div(x, y) if mutator == "/=" else _c_mod(x, y)
        elif mutator == "+=":
            r = x + y
        elif mutator == "-=":
            r = x - y
        else:
            r = x * y
        if not INT64_MIN <= r <= INT64_MAX:
            raise OvsdbError("range error", f'Result of "{mutator}" operation is out of range.')
        return r
    assert isinstance(x, float) and isinstance(y, float)
    if mutator == "/=":
        if y == 0:
            raise OvsdbError("domain error", "Division by zero.")
        rr = x / y
    elif mutator == "+=":
        rr = x + y
    elif mutator == "-=":
        rr = x - y
    else:
        rr = x * y
    if not -DBL_MAX <= rr <= DBL_MAX:
        raise OvsdbError("range error", f'Result of "{mutator}" operation is out of range.')
    return rr


def apply_mutation(m: Mutation, dst: Datum) -> Datum:
    """Return the mutated datum or raise the OVS error for this mutation."""
    t = m.column_type
    if m.mutator in ("insert", "delete"):
        if m.mutator == "insert":
            if dst.values is None:
                result = _set_insert(dst, m.arg)
            else:
                merged = dict(zip(m.arg.keys, m.arg.values or (), strict=True))
                merged.update(dst.as_dict())
                result = Datum.map_of(merged)
        elif dst.values is None:
            gone = set(m.arg.keys)
            result = Datum(tuple(k for k in dst.keys if k not in gone))
        elif m.arg.values is None:
            gone = set(m.arg.keys)
            result = Datum.map_of({k: v for k, v in dst.as_dict().items() if k not in gone})
        else:
            pairs = set(zip(m.arg.keys, m.arg.values, strict=True))
            result = Datum.map_of({k: v for k, v in dst.as_dict().items()
                                   if (k, v) not in pairs})
        if not t.n_min <= len(result) <= t.n_max:
            raise OvsdbError("constraint violation",
                             f"Attempted to store {len(result)} elements in "
                             f"{t.to_english()}.")
        return result
    y = m.arg.keys[0]
    atype = t.key.type
    new_keys = [_scalar(m.mutator, x, y, atype) for x in dst.keys]
    if t.key.has_constraints():
        for k in new_keys:
            check_atom(t.key, k)
    uniq = sorted(set(new_keys))
    if len(uniq) != len(new_keys):
        raise OvsdbError("constraint violation",
                         f'Result of "{m.mutator}" operation contains duplicates.')
    return Datum(tuple(uniq))
