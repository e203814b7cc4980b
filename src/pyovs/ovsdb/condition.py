"""Conditions: the ``where`` clauses of RFC 7047 (5.1) and monitor_cond.

A condition is a list of clauses ``[column, function, value]``.  In
transactions every clause must hold (AND); in ``monitor_cond`` a row is
selected when any clause holds (OR), and the literal clauses ``true`` and
``false`` are allowed.  The empty condition selects every row in both uses.

Clauses are type-checked against the column when parsed, with OVS's relaxed
argument types (``includes`` takes any subset, ordering functions only apply
to integer or real scalars), so evaluation never fails.  An equality test on
``_uuid`` is recognised so that a query can jump straight to one row instead
of scanning the table.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .data import Datum, SymbolTable, Uuid
from .errors import OvsdbError, syntax_error
from .schema import UNLIMITED, AtomicType, ColumnSchema, TableSchema, Type

FUNCTIONS = ("<", "<=", "==", "!=", ">=", ">", "includes", "excludes")

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


@dataclass(frozen=True, slots=True)
class Clause:
    """One test; ``function`` "true"/"false" are the boolean literals."""

    column: str
    function: str
    arg: Datum
    type: Type

    def to_json(self) -> Any:
        if self.function in ("true", "false"):
            return self.function == "true"
        return [self.column, self.function, self.arg.to_json()]

    def evaluate(self, field: Datum) -> bool:
        f = self.function
        if f == "true":
            return True
        if f == "false":
            return False
        t = self.type
        scalarish = t.value is None and t.n_max == 1
        if scalarish and f in _ORDER:
            if not field.keys:
                return False
            return _ORDER[f](field.keys[0], self.arg.keys[0])
        if scalarish and len(field.keys) == 1 and len(self.arg.keys) == 1:
            same = field.keys[0] == self.arg.keys[0]
            return same if f in ("==", "includes") else not same
        if f == "==":
            return field == self.arg
        if f == "!=":
            return field != self.arg
        if f == "includes":
            return field.includes(self.arg)
        # excludes: no element (or pair) of arg is in field
        if field.values is None:
            mine = set(field.keys)
            return not any(k in mine for k in self.arg.keys)
        d = field.as_dict()
        return not any(k in d and d[k] == v
                       for k, v in zip(self.arg.keys, self.arg.values or (), strict=True))


def clause_from_json(table: TableSchema, value: Any, symtab: SymbolTable | None) -> Clause:
    if value is True or value is False:
        col = table.columns["_uuid"]
        return Clause("_uuid", "true" if value else "false", Datum.default(col.type), col.type)
    if (not isinstance(value, list) or len(value) != 3 or not isinstance(value[0], str)
            or not isinstance(value[1], str)):
        raise syntax_error(value, "Parse error in condition.")
    name, function, arg_json = value
    column: ColumnSchema | None = table.columns.get(name)
    if column is None:
        raise syntax_error(value, f"No column {name} in table {table.name}.",
                           tag="unknown column")
    if function not in FUNCTIONS:
        raise OvsdbError("unknown function", f"No function named {function}.")
    ctype = column.type
    arg_type = ctype
    if function in _ORDER:
        if not (ctype.is_scalar or ctype.is_optional_scalar) or ctype.key.type not in (
                AtomicType.INTEGER, AtomicType.REAL):
            raise syntax_error(
                value, f'Type mismatch: "{function}" operator may not be applied to column '
                f"{name} of type {ctype.to_english()}.")
        arg_type = Type(ctype.key, ctype.value, 1, ctype.n_max)
    elif function == "excludes" and not ctype.is_scalar:
        arg_type = Type(ctype.key, ctype.value, 0, UNLIMITED)
    elif function == "includes" and not ctype.is_scalar:
        arg_type = Type(ctype.key, ctype.value, 0, ctype.n_max)
    arg = Datum.from_json(arg_type, arg_json, symtab)
    return Clause(name, function, arg, ctype)


@dataclass(frozen=True, slots=True)
class Condition:
    clauses: tuple[Clause, ...]

    @classmethod
    def from_json(cls, table: TableSchema, value: Any,
                  symtab: SymbolTable | None = None) -> Condition:
        if not isinstance(value, list):
            raise syntax_error(value, "Parse error in condition.")
        return cls(tuple(clause_from_json(table, c, symtab) for c in value))

    def to_json(self) -> list[Any]:
        return [c.to_json() for c in self.clauses]

    def uuid_lookup(self) -> Uuid | None:
        """The UUID if some clause is ``_uuid == X`` (so AND-mode can skip a scan)."""
        for c in self.clauses:
            if c.column == "_uuid" and c.function == "==" and len(c.arg.keys) == 1:
                u = c.arg.keys[0]
                if isinstance(u, Uuid):
                    return u
        return None

    def match_all(self, get: Callable[[str], Datum]) -> bool:
        return all(c.evaluate(get(c.column)) for c in self.clauses)

    def match_any(self, get: Callable[[str], Datum]) -> bool:
        if not self.clauses:
            return True
        return any(c.evaluate(get(c.column)) for c in self.clauses)
