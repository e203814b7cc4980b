"""JSON-RPC 1.0 as Open vSwitch speaks it, without any I/O.

OVSDB (RFC 7047), the unixctl control socket and every OVS daemon talk
JSON-RPC 1.0 over a plain byte stream: JSON objects written back to back with
no length prefix and no delimiter (OVS itself never adds one, other peers may
add a newline or spaces, which are ignored).  This module is the sans-IO core
of that: ``JsonRpcStream.receive_data(bytes)`` buffers input,
``next_message()`` returns complete ``Message`` values, ``send(msg)`` returns
the bytes to write.  The asyncio edge is ``pyovs.streams.JsonRpcSession``.

Finding message boundaries
--------------------------
A message ends where the nesting depth of its outermost ``{``/``[`` returns to
zero, ignoring brackets inside strings.  Scanning that byte by byte in Python
would cost seconds for the multi-megabyte messages a bulk insert produces, so
the scanner lets compiled regular expressions do the walking:

* ``_RUN`` skips, in one C-level call, ordinary bytes, complete string
  literals with their escapes, and complete bracket groups nested a few levels
  deep, so Python code runs a few times per row, not once per byte, string or
  bracket;
* ``_STRING_REST`` finishes a string literal that was cut by a chunk boundary.

The scan state (position, depth, inside-a-string flag) survives across
``receive_data`` calls, so input is looked at a bounded number of times no
matter how it is split: feeding a message one byte at a time costs O(n).
Once the depth returns to zero the slice is decoded as UTF-8 and handed to
``json.loads``, which does the real validation.

Invariants
----------
* Top-level values must start with ``{`` or ``[`` (as in OVS's parser,
  "syntax error at beginning of input"); whitespace between values is skipped.
* Nesting deeper than ``MAX_DEPTH`` (1000, OVS's ``JSON_MAX_HEIGHT``; the
  last few levels may instead be caught by ``json.loads``), a
  message larger than the stream's ``max_message_size``, invalid UTF-8,
  invalid JSON (including NaN/Infinity, lone UTF-16 surrogates and control
  characters in strings) and JSON that is not a valid JSON-RPC message all
  raise ``JsonRpcProtocolError``.  After that the stream is dead: every later
  call raises the same error, and the owner closes that one connection (OVS
  does the same with EPROTO).
* ``Message`` validation follows OVS ``jsonrpc_msg_from_json`` exactly,
  including its error texts, so a message pyovs accepts is one OVS accepts.
  A JSON ``null`` member counts as absent, as in OVS.

Size limit: ``DEFAULT_MAX_MESSAGE_SIZE`` is 64 MiB.  A 10,000-row bulk insert
is a few MiB, so the default leaves a wide margin while bounding the memory a
misbehaving peer can pin.  Clients that read huge initial monitor replies (a
large OVN southbound database) may pass a bigger limit or ``None``.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from typing import Any, Final

from .jsontext import DECODER, check_strings

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "MAX_DEPTH",
    "Json",
    "JsonRpcError",
    "JsonRpcProtocolError",
    "JsonRpcStream",
    "Message",
    "MessageKind",
    "encode_message",
]

Json = Any
"""A JSON value as ``json.loads`` returns it (dict, list, str, int, float, bool, None)."""

DEFAULT_MAX_MESSAGE_SIZE: Final = 64 * 1024 * 1024
MAX_DEPTH: Final = 1000


class JsonRpcError(ValueError):
    """A value is not a valid JSON-RPC message (text as in OVS's jsonrpc.c)."""


class JsonRpcProtocolError(JsonRpcError):
    """The byte stream is broken; the connection that carried it must be closed."""


class MessageKind(enum.Enum):
    """The four JSON-RPC 1.0 message types; the value is OVS's name for it."""

    REQUEST = "request"
    NOTIFY = "notification"
    REPLY = "reply"
    ERROR = "error"


# Which members each kind must carry (True) or must not carry (False), in the
# order OVS checks them: method, params, result, error, id.
_MEMBERS: Final = ("method", "params", "result", "error", "id")
_REQUIRED: Final[dict[MessageKind, tuple[bool, bool, bool, bool, bool]]] = {
    MessageKind.REQUEST: (True, True, False, False, True),
    MessageKind.NOTIFY: (True, True, False, False, False),
    MessageKind.REPLY: (False, False, True, False, True),
    MessageKind.ERROR: (False, False, False, True, True),
}


@dataclass(frozen=True, slots=True)
class Message:
    """One JSON-RPC message.  Build it with the constructors, which validate."""

    kind: MessageKind
    """Request (expects a reply), notification, reply, or error reply."""
    method: str | None = None
    """``"method"``: the procedure name; requests and notifications only."""
    params: list[Json] | None = None
    """``"params"``: the argument array; requests and notifications only."""
    result: Json = None
    """``"result"``: a reply's value; never null in a valid reply."""
    error: Json = None
    """``"error"``: an error reply's value; never null in a valid error reply."""
    id: Json = None
    """``"id"``: matches a reply to its request; null for notifications."""

    def __post_init__(self) -> None:
        _validate(self.kind, self.method, self.params, self.result, self.error, self.id)

    @classmethod
    def request(cls, method: str, params: list[Json], id: Json) -> Message:
        return cls(MessageKind.REQUEST, method=method, params=params, id=id)

    @classmethod
    def notify(cls, method: str, params: list[Json]) -> Message:
        return cls(MessageKind.NOTIFY, method=method, params=params)

    @classmethod
    def reply(cls, result: Json, id: Json) -> Message:
        return cls(MessageKind.REPLY, result=result, id=id)

    @classmethod
    def error_reply(cls, error: Json, id: Json) -> Message:
        return cls(MessageKind.ERROR, error=error, id=id)

    def to_json(self) -> dict[str, Json]:
        """The object OVS puts on the wire for this message (keys in OVS's order)."""
        if self.kind is MessageKind.REQUEST or self.kind is MessageKind.NOTIFY:
            return {"method": self.method, "params": self.params, "id": self.id}
        return {"id": self.id, "result": self.result, "error": self.error}

    @classmethod
    def from_json(cls, obj: Json) -> Message:
        """Parse and validate a decoded JSON value, as OVS's jsonrpc_msg_from_json."""
        if not isinstance(obj, dict):
            raise JsonRpcError("message is not a JSON object")
        method = obj.get("method")
        if method is not None and not isinstance(method, str):
            raise JsonRpcError("method is not a JSON string")
        for name in obj:
            if name not in _MEMBERS:
                raise JsonRpcError(f'message has unexpected member "{name}"')
        params = obj.get("params")
        result = obj.get("result")
        error = obj.get("error")
        id_ = obj.get("id")
        kind = (MessageKind.REPLY if result is not None
                else MessageKind.ERROR if error is not None
                else MessageKind.REQUEST if id_ is not None
                else MessageKind.NOTIFY)
        return cls(kind, method=method, params=params, result=result, error=error, id=id_)


def _validate(kind: MessageKind, method: Json, params: Json, result: Json,
              error: Json, id_: Json) -> None:
    if params is not None and not isinstance(params, list):
        raise JsonRpcError('"params" must be JSON array')
    if method is not None and not isinstance(method, str):
        raise JsonRpcError("method is not a JSON string")
    values = (method, params, result, error, id_)
    for name, value, required in zip(_MEMBERS, values, _REQUIRED[kind], strict=True):
        if (value is not None) != required:
            raise JsonRpcError(
                f'{kind.value} must{"" if required else " not"} have "{name}"')


def encode_message(msg: Message) -> bytes:
    """Compact UTF-8 JSON for ``msg``, exactly as it goes on the wire."""
    try:
        text = json.dumps(msg.to_json(), separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
        return text.encode("utf-8")
    except (TypeError, ValueError) as e:  # UnicodeEncodeError is a ValueError
        raise JsonRpcError(f"cannot encode message: {e}") from e


# The regular expressions that do the walking.  _RUN matches everything up
# to the next bracket the scanner must count: runs of ordinary bytes, whole
# string literals, and whole groups nested up to _INLINE_LEVELS deep (a typical
# OVSDB row or update fits, so Python runs a few times per row instead of once
# per bracket).  Quantifiers are possessive and groups atomic, so a failed
# attempt (a group cut by the end of the buffer) never backtracks: the scanner
# then counts that bracket itself and descends.  Mismatched pairs such as
# "[}" are counted as balanced here; json.loads rejects them afterwards.
_STRING: Final = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_PLAIN: Final = rb'[^{}\[\]"]++'
_INLINE_LEVELS: Final = 6


def _make_run(levels: int) -> re.Pattern[bytes]:
    item = _PLAIN + b"|" + _STRING
    for _ in range(levels):
        item = _PLAIN + b"|" + _STRING + rb"|[\[{](?:" + item + rb")*+[\]}]"
    return re.compile(rb"(?:" + item + rb")*+", re.DOTALL)


_RUN: Final = _make_run(_INLINE_LEVELS)
# The rest of a string literal whose opening quote is already consumed; stops
# before the closing quote, or at the end of input, or before a lone final
# backslash (whose escaped byte has not arrived yet).
_STRING_REST: Final = re.compile(rb'[^"\\]*+(?:\\.[^"\\]*+)*+', re.DOTALL)
_NON_SPACE: Final = re.compile(rb"[^ \t\r\n]")
_OPEN: Final = frozenset(b"{[")
_QUOTE: Final = ord('"')


class JsonRpcStream:
    """Incremental framing of one connection's JSON-RPC byte stream (sans-IO)."""

    def __init__(self, max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self._max = max_message_size
        self._buf = bytearray()
        self._start = 0          # offset of the message being scanned
        self._pos = 0            # next byte to scan
        self._depth = 0          # 0: between messages
        self._in_string = False  # _pos is inside a string literal
        self._dead: JsonRpcProtocolError | None = None

    @property
    def pending(self) -> int:
        """Bytes received but not yet returned as messages (0 at a clean boundary)."""
        return len(self._buf) - self._start

    @property
    def dead(self) -> bool:
        return self._dead is not None

    def receive_data(self, data: bytes) -> None:
        """Buffer bytes read from the connection."""
        if self._dead is not None:
            raise self._dead
        if self._start:
            # Drop consumed messages; bytearray deletes a prefix cheaply.
            del self._buf[:self._start]
            self._pos -= self._start
            self._start = 0
        self._buf += data

    def next_message(self) -> Message | None:
        """The next complete message, or None until more data arrives."""
        if self._dead is not None:
            raise self._dead
        try:
            end = self._scan()
            if end is None:
                return None
            with memoryview(self._buf) as view:  # one copy, and the view is released
                chunk = bytes(view[self._start:end])
            self._start = self._pos = end
            return self._decode(chunk)
        except JsonRpcProtocolError as e:
            self._dead = e
            raise

    def send(self, msg: Message) -> bytes:
        """The bytes to write for ``msg``."""
        return encode_message(msg)

    def _scan(self) -> int | None:
        """Advance the scan; return the end offset of a complete message or None."""
        buf = self._buf
        n = len(buf)
        if self._depth == 0:
            m = _NON_SPACE.search(buf, self._pos)
            if m is None:
                # Only whitespace: forget it so ``pending`` reads 0.
                self._start = self._pos = n
                return None
            pos = m.start()
            if buf[pos] not in _OPEN:
                raise JsonRpcProtocolError("syntax error at beginning of input")
            self._start = pos
            self._pos = pos + 1
            self._depth = 1
        end = self._scan_body(buf, n)
        self._check_size((n if end is None else end) - self._start)
        return end

    def _scan_body(self, buf: bytearray, n: int) -> int | None:
        pos = self._pos
        depth = self._depth
        try:
            while True:
                if self._in_string:
                    pos = _STRING_REST.match(buf, pos).end()  # type: ignore[union-attr]
                    if pos >= n or buf[pos] != _QUOTE:
                        return None  # the string continues in a later chunk
                    self._in_string = False
                    pos += 1
                pos = _RUN.match(buf, pos).end()  # type: ignore[union-attr]
                if pos >= n:
                    return None
                c = buf[pos]
                pos += 1
                if c == _QUOTE:
                    self._in_string = True  # unterminated so far: finish it later
                elif c in _OPEN:
                    depth += 1
                    if depth > MAX_DEPTH:
                        raise JsonRpcProtocolError(
                            f"input exceeds maximum nesting depth {MAX_DEPTH}")
                else:
                    depth -= 1
                    if depth == 0:
                        return pos
        finally:
            self._pos = pos
            self._depth = depth

    def _check_size(self, size: int) -> None:
        if self._max is not None and size > self._max:
            raise JsonRpcProtocolError(f"message exceeds maximum size of {self._max} bytes")

    def _decode(self, chunk: bytes) -> Message:
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as e:
            raise JsonRpcProtocolError(f"invalid UTF-8 at byte {e.start} of message") from None
        try:
            obj = DECODER.decode(text)
            if b"\\u" in chunk:  # only escapes can smuggle NUL or a lone surrogate in
                check_strings(obj)
        except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
            raise JsonRpcProtocolError(f"invalid JSON: {e}") from None
        try:
            return Message.from_json(obj)
        except JsonRpcError as e:
            raise JsonRpcProtocolError(f"received bad JSON-RPC message: {e}") from None
