"""JSON exactly as Open vSwitch writes and reads it (``lib/json.c``).

One codec for the wire (``jsonrpc``), the log file (``storage``) and the
``"syntax"`` member of errors, so that all three agree with OVS byte for
byte:

* writing: no spaces; strings escape only ``"``, ``\\``, ``\\b \\t \\n \\f
  \\r`` and the other C0 controls (``\\u00XX``); non-ASCII is raw UTF-8;
  integers as ``%lld``; reals as ``%.15g`` (so ``1.0`` is written ``1``);
* reading (``DECODER``, ``parse_json_body``): a number whose value is an
  integer in the int64 range is an integer however it is spelled (``1.0``,
  ``1e2``); a larger integer is a real; non-finite reals, ``NaN``,
  ``Infinity``, NUL and unpaired surrogates in strings are errors.
"""

from __future__ import annotations

import json
import math
import sys
from decimal import Decimal, InvalidOperation
from json.encoder import encode_basestring
from typing import Any

__all__ = ["DECODER", "check_strings", "parse_json_body", "to_json_text"]

_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


def _format_real(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"{value!r} cannot be represented in JSON")
    return format(value, ".15g")  # C's "%.*g" with DBL_DIG


def _serialize(value: Any, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        if "\x00" in value:
            raise ValueError("OVS JSON strings cannot contain NUL")
        out.append(encode_basestring(value))
    elif kind is dict:
        out.append("{")
        first = True
        for key, member in value.items():
            if type(key) is not str:
                raise TypeError(f"JSON object keys must be str, not {type(key).__name__}")
            if "\x00" in key:
                raise ValueError("OVS JSON strings cannot contain NUL")
            if not first:
                out.append(",")
            first = False
            out.append(encode_basestring(key))
            out.append(":")
            _serialize(member, out)
        out.append("}")
    elif kind is list or kind is tuple:
        out.append("[")
        first = True
        for element in value:
            if not first:
                out.append(",")
            first = False
            _serialize(element, out)
        out.append("]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif kind is int:
        if not _I64_MIN <= value <= _I64_MAX:
            raise ValueError(f"integer {value} does not fit in 64 bits")
        out.append(str(value))
    elif kind is float:
        out.append(_format_real(value))
    elif isinstance(value, str):  # subclasses, e.g. StrEnum: their plain value
        _serialize(str.__str__(value), out)
    elif isinstance(value, int):
        _serialize(int.__int__(value), out)
    elif isinstance(value, float):
        _serialize(float.__float__(value), out)
    elif isinstance(value, dict):
        _serialize(dict(value), out)
    elif isinstance(value, list | tuple):
        _serialize(list(value), out)
    else:
        raise TypeError(f"{type(value).__name__} is not JSON serializable")


def to_json_text(value: Any, sort_keys: bool = False) -> str:
    """Serialize ``value`` exactly as OVS's ``json_to_string(json, 0)``.

    Accepts dict (str keys), list/tuple, str, int, float, bool and None.
    Raises ``TypeError`` for other types and ``ValueError`` for what OVS
    cannot represent: non-finite reals, integers outside int64, NUL in strings
    and (when encoded) unpaired surrogates.
    """
    out: list[str] = []
    _serialize(_sorted(value) if sort_keys else value, out)
    return "".join(out)


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list | tuple):
        return [_sorted(v) for v in value]
    return value


def _parse_integer(text: str) -> int | float:
    value = int(text)
    if _I64_MIN <= value <= _I64_MAX:
        return value
    return _parse_real(text)


def _parse_real(text: str) -> int | float:
    # OVS makes any number whose value is an integer in range an integer,
    # however it is spelled ("1.0", "1e2", "-0.0").
    try:
        exact = Decimal(text)
        if exact == exact.to_integral_value() and _I64_MIN <= exact <= _I64_MAX:
            return int(exact)
    except (InvalidOperation, OverflowError):
        pass
    real = float(text)
    # strtod's ERANGE with a non-zero result (overflow, subnormal) is an error
    # for OVS; an underflow to zero is not.
    if not math.isfinite(real) or 0 < abs(real) < sys.float_info.min:
        raise ValueError("number outside valid range")
    return real if real != 0 else 0.0  # OVS suppresses negative zero


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid keyword '{name}'")


DECODER = json.JSONDecoder(
    parse_int=_parse_integer, parse_float=_parse_real, parse_constant=_reject_constant)


def check_strings(value: Any) -> None:
    """Refuse what OVS's parser refuses but Python's accepts."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("null bytes not supported in quoted strings")
        if any("\ud800" <= ch <= "\udfff" for ch in value):
            raise ValueError("malformed escaped surrogate pair")
    elif isinstance(value, dict):
        for key, member in value.items():
            check_strings(key)
            check_strings(member)
    elif isinstance(value, list):
        for element in value:
            check_strings(element)


def parse_json_body(body: bytes) -> Any:
    """Parse JSON text as OVS's parser would; raise ``ValueError`` if OVS would not.

    The top level must be an object or array.  Error messages have OVS's
    shape ("line L, column C, byte B: ...") with Python's wording.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"byte {exc.start}: invalid UTF-8") from None
    try:
        value = DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"line {exc.lineno - 1}, column {exc.colno - 1}, byte {exc.pos}: {exc.msg}"
        ) from None
    if not isinstance(value, dict | list):
        raise ValueError("line 0, column 0, byte 0: syntax error at beginning of input")
    if b"\\u" in body:  # only escapes can smuggle NUL or a lone surrogate in
        check_strings(value)
    return value
