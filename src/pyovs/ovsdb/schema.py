"""OVSDB schemas: what a database may contain (RFC 7047 section 3.2).

A schema is parsed once, validated the way ovsdb-server validates it, and
then only read.  Everything downstream (datum parsing, transactions, the
storage format, monitors, the tools) asks the schema about types; nothing
else carries type information.

Invariants kept here, as in OVS:
- A type's ``n_min`` is 0 or 1 and ``n_max`` >= 1; ``UNLIMITED`` is OVS's
  UINT_MAX, printed as "unlimited".
- When no table says ``isRoot``, every table is a root (schemas older than
  garbage collection); ``to_json`` then omits ``isRoot`` again.
- A column holding a strong reference to a non-root table is never
  ephemeral, so replaying the log cannot lose the only reference to a row.
- Every table has the implicit columns ``_uuid`` and ``_version``.
- ``to_json`` emits exactly what OVS's ``get_schema`` would: defaults omitted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import OvsdbError, Parser, is_id, syntax_error, syntax_error_nojson
from .ovsorder import ovs_object, shash_order

if TYPE_CHECKING:
    from .data import Datum

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT_MAX = 2**32 - 1
UNLIMITED = UINT_MAX
DBL_MAX = 1.7976931348623157e308


class AtomicType(StrEnum):
    INTEGER = "integer"
    REAL = "real"
    BOOLEAN = "boolean"
    STRING = "string"
    UUID = "uuid"


def atomic_type_from_json(value: Any) -> AtomicType:
    if isinstance(value, str):
        try:
            return AtomicType(value)
        except ValueError:
            raise syntax_error(value, f'"{value}" is not an atomic-type') from None
    raise syntax_error(value, "atomic-type expected")


@dataclass(frozen=True, slots=True)
class BaseType:
    """The type of one atom, with its constraints."""

    type: AtomicType
    enum: Datum | None = None
    min_integer: int = INT64_MIN
    max_integer: int = INT64_MAX
    min_real: float = -DBL_MAX
    max_real: float = DBL_MAX
    min_length: int = 0
    max_length: int = UINT_MAX
    ref_table: str | None = None
    """Name of the table that a uuid refers to, if it is a reference."""
    ref_type: str = "strong"
    """"strong" or "weak"; only meaningful with ``ref_table``."""

    @property
    def is_strong_ref(self) -> bool:
        return self.ref_table is not None and self.ref_type == "strong"

    @property
    def is_weak_ref(self) -> bool:
        return self.ref_table is not None and self.ref_type == "weak"

    def has_constraints(self) -> bool:
        if self.enum is not None:
            return True
        t = self.type
        if t is AtomicType.INTEGER:
            return self.min_integer != INT64_MIN or self.max_integer != INT64_MAX
        if t is AtomicType.REAL:
            return self.min_real != -DBL_MAX or self.max_real != DBL_MAX
        if t is AtomicType.STRING:
            return self.min_length != 0 or self.max_length != UINT_MAX
        if t is AtomicType.UUID:
            return self.ref_table is not None
        return False

    @classmethod
    def from_json(cls, value: Any) -> BaseType:
        from .data import Datum  # data imports schema; the cycle is only at call time

        if isinstance(value, str):
            return cls(atomic_type_from_json(value))
        p = Parser(value, "ovsdb type")
        type_json = p.member("type", ("string",))
        if p.error:
            p.finish()
        atype = atomic_type_from_json(type_json)
        kw: dict[str, Any] = {}
        error: OvsdbError | None = None
        enum = p.member("enum", ("any",), optional=True)
        if enum is not None:
            try:
                kw["enum"] = Datum.from_json(enum_type(atype), enum)
            except OvsdbError as e:
                error = e
        elif atype is AtomicType.INTEGER:
            lo = p.member("minInteger", ("integer",), optional=True)
            hi = p.member("maxInteger", ("integer",), optional=True)
            kw["min_integer"] = INT64_MIN if lo is None else lo
            kw["max_integer"] = INT64_MAX if hi is None else hi
            if kw["min_integer"] > kw["max_integer"]:
                error = syntax_error(value, "minInteger exceeds maxInteger")
        elif atype is AtomicType.REAL:
            lo = p.member("minReal", ("number",), optional=True)
            hi = p.member("maxReal", ("number",), optional=True)
            kw["min_real"] = -DBL_MAX if lo is None else float(lo)
            kw["max_real"] = DBL_MAX if hi is None else float(hi)
            if kw["min_real"] > kw["max_real"]:
                error = syntax_error(value, "minReal exceeds maxReal")
        elif atype is AtomicType.STRING:
            for member, key in (("minLength", "min_length"), ("maxLength", "max_length")):
                n = p.member(member, ("integer",), optional=True)
                if n is not None and error is None:
                    if n < 0 or n > UINT_MAX:
                        error = syntax_error(
                            n, f"{member} out of valid range 0 to {UINT_MAX}")
                    else:
                        kw[key] = n
            if error is None and kw.get("min_length", 0) > kw.get("max_length", UINT_MAX):
                error = syntax_error(value, "minLength exceeds maxLength")
        elif atype is AtomicType.UUID:
            ref_table = p.member("refTable", ("id",), optional=True)
            if ref_table is not None:
                kw["ref_table"] = ref_table
                ref_type = p.member("refType", ("id",), optional=True)
                if ref_type is not None:
                    if ref_type in ("strong", "weak"):
                        kw["ref_type"] = ref_type
                    else:
                        error = syntax_error(
                            value, 'refType must be "strong" or "weak" '
                            f'(not "{ref_type}")')
        if error is not None:
            raise error
        p.finish()
        return cls(atype, **kw)

    def to_json(self) -> Any:
        if not self.has_constraints():
            return str(self.type)
        out: dict[str, Any] = {"type": str(self.type)}
        if self.enum is not None:
            out["enum"] = self.enum.to_json()
        t = self.type
        if t is AtomicType.INTEGER:
            if self.min_integer != INT64_MIN:
                out["minInteger"] = self.min_integer
            if self.max_integer != INT64_MAX:
                out["maxInteger"] = self.max_integer
        elif t is AtomicType.REAL:
            if self.min_real != -DBL_MAX:
                out["minReal"] = self.min_real
            if self.max_real != DBL_MAX:
                out["maxReal"] = self.max_real
        elif t is AtomicType.STRING:
            if self.min_length != 0:
                out["minLength"] = self.min_length
            if self.max_length != UINT_MAX:
                out["maxLength"] = self.max_length
        elif t is AtomicType.UUID and self.ref_table is not None:
            out["refTable"] = self.ref_table
            if self.ref_type == "weak":
                out["refType"] = "weak"
        return out


@dataclass(frozen=True, slots=True)
class Type:
    """A column type: a scalar, a set of atoms, or a map of key/value pairs."""

    key: BaseType
    value: BaseType | None = None
    n_min: int = 1
    n_max: int = 1

    @property
    def is_map(self) -> bool:
        return self.value is not None

    @property
    def is_set(self) -> bool:
        return self.value is None and (self.n_min != 1 or self.n_max != 1)

    @property
    def is_scalar(self) -> bool:
        return self.value is None and self.n_min == 1 and self.n_max == 1

    @property
    def is_optional(self) -> bool:
        return self.n_min == 0 and self.n_max == 1

    @property
    def is_optional_scalar(self) -> bool:
        return self.value is None and self.n_min == 0 and self.n_max == 1

    def relaxed(self) -> Type:
        """Same atoms, any number of them (for mutation arguments and diffs)."""
        return Type(self.key, self.value, 0, UNLIMITED)

    def to_english(self) -> str:
        """OVS's ``ovsdb_type_to_english``, used in error messages."""
        key = str(self.key.type)
        if self.is_scalar:
            return key
        s = "set" if self.value is None else "map"
        if self.n_max == UNLIMITED:
            s += f" of {self.n_min} or more" if self.n_min else " of"
        elif self.n_min:
            s += f" of {self.n_min} to {self.n_max}"
        else:
            s += f" of up to {self.n_max}"
        if self.value is None:
            return f"{s} {key}s"
        return f"{s} ({key}, {self.value.type}) pairs"

    @classmethod
    def from_json(cls, value: Any) -> Type:
        if isinstance(value, str):
            return cls(BaseType.from_json(value))
        if not isinstance(value, dict):
            raise syntax_error(value, "ovsdb type expected")
        p = Parser(value, "ovsdb type")
        key = p.member("key", ("string", "object"))
        val = p.member("value", ("string", "object"), optional=True)
        n_min_json = p.member("min", ("integer",), optional=True)
        n_max_json = p.member("max", ("integer", "string"), optional=True)
        p.finish()
        key_type = BaseType.from_json(key)
        value_type = BaseType.from_json(val) if val is not None else None
        n_min = _n_from_json(n_min_json, 1)
        n_max = UNLIMITED if n_max_json == "unlimited" else _n_from_json(n_max_json, 1)
        if not (n_min <= 1 and n_max >= 1):
            raise syntax_error(value, "ovsdb type fails constraint checks")
        return cls(key_type, value_type, n_min, n_max)

    def to_json(self) -> Any:
        if self.is_scalar and not self.key.has_constraints():
            return self.key.to_json()
        out: dict[str, Any] = {"key": self.key.to_json()}
        if self.value is not None:
            out["value"] = self.value.to_json()
        if self.n_min != 1:
            out["min"] = self.n_min
        if self.n_max == UNLIMITED:
            out["max"] = "unlimited"
        elif self.n_max != 1:
            out["max"] = self.n_max
        return out


def _n_from_json(value: Any, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < UINT_MAX:
        return value
    raise syntax_error(value, "bad min or max value")


_ENUM_TYPES: dict[AtomicType, Type] = {}


def enum_type(atype: AtomicType) -> Type:
    """The type of an ``enum`` constraint: a set of one or more atoms."""
    t = _ENUM_TYPES.get(atype)
    if t is None:
        t = _ENUM_TYPES[atype] = Type(BaseType(atype), None, 1, UNLIMITED)
    return t


UUID_TYPE = Type(BaseType(AtomicType.UUID))


@dataclass(slots=True)
class ColumnSchema:
    name: str
    type: Type
    mutable: bool = True
    persistent: bool = True
    """False for an "ephemeral" column: not written to the log."""
    index: int = 0
    """Position in the table, for fast per-row arrays."""

    @classmethod
    def from_json(cls, value: Any, name: str) -> ColumnSchema:
        p = Parser(value, f"schema for column {name}")
        mutable = p.member("mutable", ("true", "false"), optional=True)
        ephemeral = p.member("ephemeral", ("true", "false"), optional=True)
        type_json = p.member("type", ("string", "object"))
        p.finish()
        ctype = Type.from_json(type_json)
        is_weak = ctype.key.is_weak_ref or (ctype.value is not None and ctype.value.is_weak_ref)
        # A weak reference must stay mutable: deleting its target changes it.
        return cls(name, ctype, mutable=mutable is not False or is_weak,
                   persistent=not ephemeral if ephemeral is not None else True)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not self.mutable:
            out["mutable"] = False
        if not self.persistent:
            out["ephemeral"] = True
        out["type"] = self.type.to_json()
        return out


@dataclass(slots=True)
class TableSchema:
    name: str
    columns: dict[str, ColumnSchema]
    """User columns in schema order, followed by ``_uuid`` and ``_version``."""
    mutable: bool = True
    max_rows: int = UINT_MAX
    is_root: bool = False
    indexes: list[tuple[str, ...]] = field(default_factory=list)
    ovs_order: tuple[str, ...] = ()
    """All columns in the order ovsdb-server walks them (see ovsorder.py)."""

    @property
    def user_columns(self) -> list[ColumnSchema]:
        return [c for c in self.columns.values() if not c.name.startswith("_")]

    @classmethod
    def from_json(cls, value: Any, name: str) -> TableSchema:
        p = Parser(value, f"table schema for table {name}")
        columns = p.member("columns", ("object",))
        mutable = p.member("mutable", ("true", "false"), optional=True)
        max_rows = p.member("maxRows", ("integer",), optional=True)
        is_root = p.member("isRoot", ("boolean",), optional=True)
        indexes = p.member("indexes", ("array",), optional=True)
        p.finish()
        assert isinstance(columns, dict)
        if max_rows is not None and max_rows <= 0:
            raise syntax_error(value, "maxRows must be at least 1")
        if not columns:
            raise syntax_error(value, "table must have at least one column")
        cols: dict[str, ColumnSchema] = {}
        for cname, cjson in columns.items():
            if cname.startswith("_"):
                raise syntax_error(value, 'names beginning with "_" are reserved')
            if not is_id(cname):
                raise syntax_error(value, "name must be a valid id")
            cols[cname] = ColumnSchema.from_json(cjson, cname)
        cols["_uuid"] = ColumnSchema("_uuid", UUID_TYPE, mutable=False)
        cols["_version"] = ColumnSchema("_version", UUID_TYPE, mutable=False)
        for i, col in enumerate(cols.values()):
            col.index = i
        table = cls(name, cols, mutable=True if mutable is None else mutable,
                    max_rows=min(max_rows, UINT_MAX) if max_rows is not None else UINT_MAX,
                    is_root=bool(is_root),
                    ovs_order=shash_order(("_uuid", "_version", *shash_order(tuple(columns)))))
        for index_json in indexes or []:
            names = _column_set_from_json(index_json, table)
            if not names:
                raise syntax_error(value, "index must have at least one column")
            for n in names:
                if not cols[n].persistent:
                    raise syntax_error(
                        value, f"ephemeral columns (such as {n}) may not be indexed")
            table.indexes.append(names)
        return table

    def to_json(self, default_is_root: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not self.mutable:
            out["mutable"] = False
        if default_is_root != self.is_root:
            out["isRoot"] = self.is_root
        # ovsdb-server emits columns in its hash-table order; C clients print
        # them in the order they receive them, so match it.
        order = [c for c in self.ovs_order if not c.startswith("_")]
        out["columns"] = ovs_object({c: self.columns[c].to_json() for c in order})
        if self.max_rows != UINT_MAX:
            out["maxRows"] = self.max_rows
        if self.indexes:
            out["indexes"] = [list(ix) for ix in self.indexes]
        return out


def _column_set_from_json(value: Any, table: TableSchema) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise syntax_error(value, "array of distinct column names expected")
    names: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise syntax_error(value, "array of distinct column names expected")
        if item not in table.columns:
            raise syntax_error(value, f"{item} is not a valid column name")
        if item in names:
            raise syntax_error(value, "array of distinct column names expected")
        names.append(item)
    return tuple(names)


def _valid_version(v: str) -> bool:
    parts = v.split(".")
    return len(parts) == 3 and all(p.isdigit() and p.isascii() for p in parts)


@dataclass(slots=True)
class DatabaseSchema:
    name: str
    version: str
    tables: dict[str, TableSchema]
    cksum: str = ""

    @property
    def has_reals(self) -> bool:
        """Whether any column can hold a real (whose text needs OVS's %.15g)."""
        return any(c.type.key.type is AtomicType.REAL
                   or (c.type.value is not None and c.type.value.type is AtomicType.REAL)
                   for t in self.tables.values() for c in t.columns.values())

    @classmethod
    def from_json(cls, value: Any) -> DatabaseSchema:
        p = Parser(value, "database schema")
        name = p.member("name", ("id",))
        version = p.member("version", ("string",), optional=True)
        cksum = p.member("cksum", ("string",), optional=True)
        tables = p.member("tables", ("object",))
        p.finish()
        assert isinstance(tables, dict) and isinstance(name, str)
        if version is not None and not _valid_version(version):
            raise syntax_error(value, f'schema version "{version}" not in format x.y.z')
        parsed: dict[str, TableSchema] = {}
        for tname, tjson in tables.items():
            if tname.startswith("_"):
                raise syntax_error(value, 'names beginning with "_" are reserved')
            if not is_id(tname):
                raise syntax_error(value, "name must be a valid id")
            parsed[tname] = TableSchema.from_json(tjson, tname)
        if not any(t.is_root for t in parsed.values()):
            for t in parsed.values():
                t.is_root = True
        for table in parsed.values():
            for col in table.columns.values():
                for base, which in ((col.type.key, "key"), (col.type.value, "value")):
                    if base is None or base.ref_table is None:
                        continue
                    ref = parsed.get(base.ref_table)
                    if ref is None:
                        raise syntax_error_nojson(
                            f"column {col.name} {which} refers to undefined "
                            f"table {base.ref_table}")
                    if base.is_strong_ref and not ref.is_root:
                        col.persistent = True
        return cls(name, version or "", parsed, cksum or "")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.version:
            out["version"] = self.version
        if self.cksum:
            out["cksum"] = self.cksum
        default_is_root = all(t.is_root for t in self.tables.values())
        # Parsing the JSON and building the table map are two hash-table
        # builds in ovsdb-server; emitting is the third.
        order = shash_order(shash_order(tuple(self.tables)))
        out["tables"] = ovs_object({n: self.tables[n].to_json(default_is_root)
                                    for n in order})
        return ovs_object(out)

    @classmethod
    def from_file(cls, path: str | Path) -> DatabaseSchema:
        try:
            text = Path(path).read_text()
        except OSError as e:
            raise OvsdbError("I/O error", f"{path}: read failed",
                             io_error=e.strerror) from None
        try:
            value = json.loads(text)
        except ValueError as e:
            raise OvsdbError("syntax error", f"{path}: {e}") from None
        return cls.from_json(value)


BUNDLED = Path(__file__).with_name("schemas")


def bundled_schema_path(name: str) -> Path:
    """Path of a schema shipped with pyovs: "vswitch", "ovn-nb" or "ovn-sb"."""
    return BUNDLED / f"{name}.ovsschema"


SERVER_SCHEMA_JSON: dict[str, Any] = {
    "name": "_Server",
    "version": "1.2.0",
    "cksum": "3009684573 744",
    "tables": {
        "Database": {
            "isRoot": True,
            "columns": {
                "name": {"type": "string"},
                "model": {"type": {"key": {
                    "type": "string",
                    "enum": ["set", ["standalone", "clustered", "relay"]]}}},
                "connected": {"type": "boolean"},
                "leader": {"type": "boolean"},
                "schema": {"type": {"key": {"type": "string"}, "min": 0, "max": 1}},
                "cid": {"type": {"key": {"type": "uuid"}, "min": 0, "max": 1}},
                "sid": {"type": {"key": {"type": "uuid"}, "min": 0, "max": 1}},
                "index": {"type": {"key": {"type": "integer"}, "min": 0, "max": 1}},
            },
        },
    },
}
"""The ``_Server`` database that ovsdb-server exposes about its databases."""
