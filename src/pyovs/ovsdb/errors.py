"""OVSDB errors as values in the protocol's own terms.

RFC 7047 reports failures as JSON objects ``{"error": TAG, "details": TEXT}``.
Open vSwitch adds ``"syntax"`` (the offending JSON, serialised compactly with
sorted keys) and ``"io-error"``.  Every layer of pyovs.ovsdb raises
:class:`OvsdbError`; the edges turn it into that object (``to_json``) or into a
one-line message for a command-line tool (``str(error)``, which reads exactly
like OVS's ``ovsdb_error_to_string``).
"""

from __future__ import annotations

import re
from typing import Any

_NO_SYNTAX = object()


def ovs_real(x: float) -> float | int:
    """A real as OVS prints it (``%.15g``), as the closest Python number."""
    r = float(f"{x:.15g}")
    return int(r) if r.is_integer() and abs(r) < 1e15 else r


def ovs_json(value: Any, sort_keys: bool = False) -> str:
    """Serialise like OVS's ``json_to_string``: compact, UTF-8, reals as ``%.15g``."""
    from .jsontext import to_json_text  # jsontext is a leaf; import on first use

    return to_json_text(value, sort_keys=sort_keys)


class OvsdbError(Exception):
    """An OVSDB error: a tag such as "constraint violation" plus details."""

    def __init__(self, tag: str | None, details: str | None = None,
                 syntax: Any = _NO_SYNTAX, io_error: str | None = None) -> None:
        self.tag = tag or "ovsdb error"
        self.details = details
        self.syntax: str | None = (
            None if syntax is _NO_SYNTAX else ovs_json(syntax, sort_keys=True))
        self.io_error = io_error
        super().__init__(str(self))

    def wrap(self, details: str) -> OvsdbError:
        """Prefix the details with context, as OVS's ``ovsdb_wrap_error``."""
        self.details = f"{details}: {self.details}" if self.details else details
        self.args = (str(self),)
        return self

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.tag}
        if self.details is not None:
            out["details"] = self.details
        if self.syntax is not None:
            out["syntax"] = self.syntax
        if self.io_error is not None:
            out["io-error"] = self.io_error
        return out

    def __str__(self) -> str:
        text = f'syntax "{self.syntax}": ' if self.syntax is not None else ""
        text += self.tag
        if self.details:
            text += f": {self.details}"
        if self.io_error:
            text += f" ({self.io_error})"
        return text


def syntax_error(json_value: Any, details: str, tag: str | None = None) -> OvsdbError:
    """An error about a piece of input JSON (OVS's ``ovsdb_syntax_error``)."""
    return OvsdbError(tag or "syntax error", details, syntax=json_value)


def syntax_error_nojson(details: str, tag: str | None = None) -> OvsdbError:
    """A syntax error with no offending JSON attached."""
    return OvsdbError(tag or "syntax error", details)


class Parser:
    """Reads the members of a JSON object, as OVS's ``ovsdb_parser``.

    Type names mirror OVS: the first problem found is kept, and ``finish``
    reports members that nobody asked for.
    """

    def __init__(self, value: Any, name: str) -> None:
        self.name = name
        self.obj: dict[str, Any] | None = value if isinstance(value, dict) else None
        self.used: set[str] = set()
        self.error: OvsdbError | None = None
        if self.obj is None:
            self.raise_error("Object expected.")

    def raise_error(self, message: str) -> None:
        if self.error is None:
            details = f"Parsing {self.name} failed: {message}"
            self.error = (syntax_error(self.obj, details) if self.obj is not None
                          else syntax_error_nojson(details))

    def member(self, name: str, kinds: tuple[str, ...], optional: bool = False) -> Any:
        """Return member ``name`` if its JSON kind is one of ``kinds``.

        Kinds: "object", "array", "string", "id", "integer", "real", "number",
        "boolean", "true", "false", "null", "any".
        """
        if self.obj is None:
            return None
        if name not in self.obj:
            if not optional:
                self.raise_error(f"Required '{name}' member is missing.")
            return None
        value = self.obj[name]
        if json_kind_matches(value, kinds):
            self.used.add(name)
            return value
        self.raise_error(f"Type mismatch for member '{name}'.")
        return None

    def finish(self) -> None:
        if self.error is None and self.obj is not None and len(self.obj) > len(self.used):
            from .ovsorder import shash_order

            unused = [k for k in shash_order(tuple(self.obj)) if k not in self.used]
            if len(unused) > 1:
                n = len(unused) - 1
                self.raise_error(
                    f"Member '{unused[0]}' and {n} other member{'s' if n > 1 else ''} "
                    "are present but not allowed here.")
            elif unused:
                self.raise_error(f"Member '{unused[0]}' is present but not allowed here.")
        if self.error is not None:
            raise self.error


_ID_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def is_id(s: str) -> bool:
    """True if ``s`` is an OVSDB <id>: [A-Za-z_][A-Za-z0-9_]*."""
    return _ID_RE.match(s) is not None


def json_kind_matches(value: Any, kinds: tuple[str, ...]) -> bool:
    for kind in kinds:
        if kind == "any":
            return True
        if kind == "object" and isinstance(value, dict):
            return True
        if kind == "array" and isinstance(value, list):
            return True
        if kind == "string" and isinstance(value, str):
            return True
        if kind == "id" and isinstance(value, str) and is_id(value):
            return True
        if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
            return True
        if kind == "real" and isinstance(value, float):
            return True
        if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
            return True
        if kind == "boolean" and isinstance(value, bool):
            return True
        if kind == "true" and value is True:
            return True
        if kind == "false" and value is False:
            return True
        if kind == "null" and value is None:
            return True
    return False


def json_type_name(value: Any) -> str:
    """OVS's ``json_type_to_string`` for a Python JSON value."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "real"
    return "string"
