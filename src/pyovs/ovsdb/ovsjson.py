"""OVS's JSON parser (``lib/json.c``), for exact error messages.

The tools parse JSON from the command line (a transaction, a condition) and
from schema files, and when the text is bad they print the parser's
message: ``"[bad": line 0, column 4, byte 4: invalid keyword 'bad'``.
Python's ``json`` finds the same errors but words and places them
differently, so this module replays OVS's lexer and parser state machines
byte by byte: the first error wins, positions count bytes (line, column and
byte, from 0) up to where OVS stops, and the wording is OVS's.  Values come
out as ``storage.parse_json_body`` returns them (a number whose value is an
int64 is an int, however it is spelled; other numbers are floats).

It is a plain loop, not fast: the tools use it for their arguments and
schema files, where the message matters; the wire and the log keep the fast
``jsontext`` decoder (which could call ``parse`` after a failure to word its
error exactly as OVS).  The top level must be an object or an array, with
only white space after it.
"""

from __future__ import annotations

import math
import sys
from typing import Any

__all__ = ["JsonSyntaxError", "parse"]

MAX_HEIGHT = 1000
_ULLONG_MAX = 2**64 - 1
_INT_MAX = 2**31 - 1
_INT_MIN = -(2**31)

# Lexer states.
_START, _KEYWORD, _NUMBER, _STRING, _ESCAPE = range(5)
# Parser states.
(_P_START, _P_END, _P_OBJ_INIT, _P_OBJ_NAME, _P_OBJ_COLON, _P_OBJ_VALUE, _P_OBJ_NEXT,
 _P_ARR_INIT, _P_ARR_VALUE, _P_ARR_NEXT) = range(10)

_VALUE = object()
"""Token type of a scalar value (keyword, number, string) carried in ``value``."""
_STRING_TOKEN = object()


class JsonSyntaxError(ValueError):
    """Bad JSON; the text is OVS's (``line L, column C, byte B: ...``)."""


class _Parser:
    def __init__(self) -> None:
        self.line = self.column = self.byte = 0
        self.lex = _START
        self.state = _P_START
        self.buffer = bytearray()
        self.stack: list[Any] = []
        self.member: str | None = None
        self.result: Any = None
        self.error: str | None = None

    # -- errors --------------------------------------------------------------
    def fail(self, message: str) -> None:
        if self.error is None:
            self.error = f"line {self.line}, column {self.column}, byte {self.byte}: {message}"

    # -- lexer ---------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        i = 0
        start = 0
        n = len(data)
        while self.error is None and i < n:
            c = data[i]
            consumed = True
            lex = self.lex
            if lex == _START:
                if c in b" \t\n\r":
                    start = i + 1
                elif 0x61 <= c <= 0x7A:
                    self.lex = _KEYWORD
                    start = i
                elif c in b"[]{}:,":
                    self.token(chr(c), None)
                    start = i + 1
                elif c == 0x2D or 0x30 <= c <= 0x39:
                    self.lex = _NUMBER
                    start = i
                elif c == 0x22:
                    self.lex = _STRING
                    start = i + 1
                elif 0x20 <= c < 0x7F:
                    self.fail(f"invalid character '{chr(c)}'")
                else:
                    self.fail(f"invalid character U+{c:04x}")
            elif lex == _KEYWORD:
                if not (0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A):
                    self.buffer += data[start:i]
                    self.keyword()
                    consumed = False
            elif lex == _NUMBER:
                if c not in b".0123456789eE-+":
                    self.buffer += data[start:i]
                    self.number()
                    consumed = False
            elif lex == _STRING:
                if c == 0x5C:
                    self.lex = _ESCAPE
                elif c == 0x22:
                    self.buffer += data[start:i]
                    self.string()
                elif c < 0x20:
                    self.fail(f"U+{c:04X} must be escaped in quoted string")
            else:
                self.lex = _STRING
            if consumed:
                self.byte += 1
                if c == 0x0A:
                    self.column = 0
                    self.line += 1
                else:
                    self.column += 1
                i += 1
        if self.error is None:
            self.buffer += data[start:i]

    def finish(self) -> Any:
        if self.lex in (_STRING, _ESCAPE):
            self.fail("unexpected end of input in quoted string")
        elif self.lex in (_NUMBER, _KEYWORD):
            self.feed(b" ")
        if self.state == _P_START:
            self.fail("empty input stream")
        elif self.state != _P_END:
            self.fail("unexpected end of input")
        if self.error is not None:
            raise JsonSyntaxError(self.error)
        return self.result

    def keyword(self) -> None:
        word = self.buffer.decode("ascii")
        if word in ("true", "false", "null"):
            self.token(_VALUE, {"true": True, "false": False, "null": None}[word])
        else:
            self.fail(f"invalid keyword '{word}'")

    def string(self) -> None:
        raw = bytes(self.buffer)
        if b"\\" not in raw:
            self.token(_STRING_TOKEN, raw.decode("utf-8", "replace"))
            return
        cooked, error = _unescape(raw)
        if error is not None:
            self.fail(error)
        else:
            self.token(_STRING_TOKEN, cooked)

    def number(self) -> None:
        text = self.buffer.decode("ascii")
        value, error = _lex_number(text)
        if error is not None:
            self.fail(error)
        else:
            self.token(_VALUE, value)

    # -- parser --------------------------------------------------------------
    def token(self, kind: Any, value: Any) -> None:
        s = self.state
        if s == _P_START:
            if kind in ("{", "["):
                self.push(kind)
            else:
                self.fail("syntax error at beginning of input")
        elif s == _P_END:
            self.fail("trailing garbage at end of input")
        elif s in (_P_OBJ_INIT, _P_OBJ_NAME):
            if s == _P_OBJ_INIT and kind == "}":
                self.pop()
            elif kind is _STRING_TOKEN:
                self.member = value
                self.state = _P_OBJ_COLON
            else:
                self.fail("syntax error parsing object expecting string")
        elif s == _P_OBJ_COLON:
            if kind == ":":
                self.state = _P_OBJ_VALUE
            else:
                self.fail("syntax error parsing object expecting ':'")
        elif s == _P_OBJ_VALUE:
            self.value(kind, value, _P_OBJ_NEXT)
        elif s == _P_OBJ_NEXT:
            if kind == ",":
                self.state = _P_OBJ_NAME
            elif kind == "}":
                self.pop()
            else:
                self.fail("syntax error expecting '}' or ','")
        elif s in (_P_ARR_INIT, _P_ARR_VALUE):
            if s == _P_ARR_INIT and kind == "]":
                self.pop()
            else:
                self.value(kind, value, _P_ARR_NEXT)
        elif kind == ",":
            self.state = _P_ARR_VALUE
        elif kind == "]":
            self.pop()
        else:
            self.fail("syntax error expecting ']' or ','")
        self.lex = _START
        self.buffer.clear()

    def value(self, kind: Any, value: Any, next_state: int) -> None:
        if kind in ("{", "["):
            self.push(kind)
        elif kind is _VALUE or kind is _STRING_TOKEN:
            self.put(value)
            self.state = next_state
        else:
            self.fail("syntax error expecting value")

    def put(self, value: Any) -> None:
        top = self.stack[-1]
        if isinstance(top, dict):
            assert self.member is not None
            top[self.member] = value
            self.member = None
        else:
            top.append(value)

    def push(self, kind: str) -> None:
        if len(self.stack) >= MAX_HEIGHT:
            self.fail(f"input exceeds maximum nesting depth {MAX_HEIGHT}")
            return
        new: Any = {} if kind == "{" else []
        if self.stack:
            self.put(new)
        self.stack.append(new)
        self.state = _P_OBJ_INIT if kind == "{" else _P_ARR_INIT

    def pop(self) -> None:
        node = self.stack.pop()
        if not self.stack:
            self.result = node
            self.state = _P_END
        else:
            self.state = _P_ARR_NEXT if isinstance(self.stack[-1], list) else _P_OBJ_NEXT


def _lex_number(text: str) -> tuple[Any, str | None]:
    """OVS's ``json_lex_number``: (value, None) or (None, error)."""
    i, n = 0, len(text)
    negative = text.startswith("-")
    if negative:
        i += 1
    significand = 0
    pow10 = 0
    imprecise = False
    if i < n and text[i] == "0":
        i += 1
        if i < n and text[i].isdigit():
            return None, "leading zeros not allowed"
    elif i < n and text[i].isdigit():
        while i < n and text[i].isdigit():
            if significand <= _ULLONG_MAX // 10:
                significand = (significand * 10 + int(text[i])) & _ULLONG_MAX
            else:
                pow10 += 1
                imprecise = imprecise or text[i] != "0"
            i += 1
    else:
        return None, "'-' must be followed by digit"
    if i < n and text[i] == ".":
        i += 1
        if not (i < n and text[i].isdigit()):
            return None, "decimal point must be followed by digit"
        while i < n and text[i].isdigit():
            if significand <= _ULLONG_MAX // 10:
                significand = (significand * 10 + int(text[i])) & _ULLONG_MAX
                pow10 -= 1
            elif text[i] != "0":
                imprecise = True
            i += 1
    if i < n and text[i] in "eE":
        i += 1
        negative_exponent = False
        if i < n and text[i] in "+-":
            negative_exponent = text[i] == "-"
            i += 1
        if not (i < n and text[i].isdigit()):
            return None, "exponent must contain at least one digit"
        exponent = 0
        while i < n and text[i].isdigit():
            if exponent >= _INT_MAX // 10:
                return None, "exponent outside valid range"
            exponent = exponent * 10 + int(text[i])
            i += 1
        if negative_exponent:
            if pow10 < _INT_MIN + exponent:
                return None, "exponent outside valid range"
            pow10 -= exponent
        else:
            if pow10 > _INT_MAX - exponent:
                return None, "exponent outside valid range"
            pow10 += exponent
    if i < n:
        return None, "syntax error in number"
    if not significand:
        return 0, None
    if not imprecise:
        while pow10 > 0 and significand < _ULLONG_MAX // 10:
            significand *= 10
            pow10 -= 1
        while pow10 < 0 and significand % 10 == 0:
            significand //= 10
            pow10 += 1
        if pow10 == 0 and significand <= (2**63 if negative else 2**63 - 1):
            return (-significand if negative else significand), None
    try:
        real = float(text)
    except (ValueError, OverflowError):
        return None, "number outside valid range"
    if not math.isfinite(real) or 0 < abs(real) < sys.float_info.min:
        return None, "number outside valid range"
    return (real if real != 0 else 0.0), None


def _hex4(raw: bytes, i: int) -> tuple[int, str | None]:
    if i + 4 > len(raw):
        return 0, "quoted string ends within \\u escape"
    digits = raw[i:i + 4]
    if not all(chr(d) in "0123456789abcdefABCDEF" for d in digits):
        return 0, "malformed \\u escape"
    value = int(digits, 16)
    if not value:
        return 0, "null bytes not supported in quoted strings"
    return value, None


_ESCAPES = {ord('"'): '"', ord("\\"): "\\", ord("/"): "/", ord("b"): "\b", ord("f"): "\f",
            ord("n"): "\n", ord("r"): "\r", ord("t"): "\t"}


def _unescape(raw: bytes) -> tuple[str, str | None]:
    """OVS's ``json_string_unescape``: (text, None) or ("", error)."""
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c != 0x5C:
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= n:
            return "", "quoted string may not end with backslash"
        e = raw[i]
        i += 1
        if e in _ESCAPES:
            out += _ESCAPES[e].encode()
        elif e == ord("u"):
            c0, error = _hex4(raw, i)
            if error is not None:
                return "", error
            i += 4
            if 0xD800 <= c0 <= 0xDBFF:
                if i + 2 > n or raw[i] != 0x5C or raw[i + 1] != ord("u"):
                    return "", "malformed escaped surrogate pair"
                c1, error = _hex4(raw, i + 2)
                if error is not None:
                    return "", error
                i += 6
                if not 0xDC00 <= c1 <= 0xDFFF:
                    return "", ("second half of escaped surrogate pair is not trailing "
                                "surrogate")
                c0 = 0x10000 + ((c0 - 0xD800) << 10) + (c1 - 0xDC00)
            out += chr(c0).encode("utf-8", "surrogatepass")
        else:
            return "", f"bad escape \\{chr(e)}"
    return out.decode("utf-8", "replace"), None


def parse(data: bytes | str) -> Any:
    """Parse a JSON object or array as OVS's ``json_from_string`` does.

    Raises ``JsonSyntaxError`` with OVS's message on bad input.
    """
    p = _Parser()
    p.feed(data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data)
    return p.finish()
