"""An OpenFlow connection without I/O: bytes in, events out; messages in, bytes out.

``Connection`` is the protocol state of one OpenFlow channel, either end,
with no sockets, threads or clocks: the caller feeds it received bytes
(``receive``) and sends whatever it queues (``data_to_send``).  It does
what OVS's ``vconn`` does:

* **framing** -- splits the byte stream into messages by their length
  field, however the bytes arrive; a header shorter than 8 bytes is fatal;
* **version negotiation** -- each side opens with a hello announcing its
  versions (a version bitmap element when they are not simply 1..n); the
  connection uses the highest common version, or answers
  ``OFPHFC_INCOMPATIBLE`` with OVS's wording and closes;
* **version discipline** -- after negotiation, a message in another
  version (other than hello, error and echo) is answered
  ``OFPBRC_BAD_VERSION`` and dropped;
* **echo** -- requests are answered automatically (unless told not to);
* **xid matching** -- ``send`` returns the xid it used; replies (including
  errors, and multipart replies until the last part) come back as ``Reply``
  events tied to the request.  Undecodable messages are answered with the
  OFPT_ERROR OVS would send (the offending message's first 64 bytes) and
  reported.

Timers (echo probes, inactivity) are the caller's business: it knows the
time, this does not.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass
from typing import Final

from .codec import Body, Message, decode, default_raw, encode, make, stats_reply_raw
from .errors import OFError, OFPErr
from .header import decode_header
from .msg_basic import EchoReply, EchoRequest, ErrorMsg, Hello

ALL_VERSIONS: Final = 0b1111110
"""Bitmap of OpenFlow 1.0 (bit 1) to 1.5 (bit 6), what pyovs speaks."""
OFPSF_REPLY_MORE: Final = 1


def version_bitmap_text(bitmap: int) -> str:
    """OVS ``version_bitmap_to_string``, as used in negotiation failures."""
    if not bitmap:
        return "no versions"
    top = bitmap.bit_length() - 1
    if not bitmap & (bitmap - 1):
        return f"version 0x{top:02x}"
    if not ((bitmap >> 1) + 1) & (bitmap >> 1):
        return f"version 0x{top:02x} and earlier"
    return "versions " + ", ".join(f"0x{v:02x}" for v in range(32) if bitmap >> v & 1)


class State(enum.Enum):
    HELLO = "waiting for the peer's hello"
    CONNECTED = "connected"
    CLOSED = "closed"


# --- events --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Event:
    """Something ``receive`` found."""


@dataclass(frozen=True, slots=True)
class Negotiated(Event):
    """Both hellos are in: the connection now speaks ``version``."""

    version: int
    peer_versions: int
    """The versions the peer announced (bitmap)."""
    hello_understood: bool = True
    """False if the peer's hello carried elements pyovs could not read."""


@dataclass(frozen=True, slots=True)
class Received(Event):
    """A message that is not a reply to one of ours."""

    message: Message
    data: bytes = b""
    """The message as it came on the wire (what an error about it quotes)."""


@dataclass(frozen=True, slots=True)
class Reply(Event):
    """A reply to a request sent with ``send`` (or an error about it)."""

    xid: int
    message: Message
    done: bool
    """False while more parts of a multipart reply are to come."""

    @property
    def is_error(self) -> bool:
        return isinstance(self.message.body, ErrorMsg)


@dataclass(frozen=True, slots=True)
class Rejected(Event):
    """A message pyovs refused; the error sent back is ``error``."""

    error: OFError
    data: bytes


@dataclass(frozen=True, slots=True)
class Closed(Event):
    """The connection is over; ``data_to_send`` may still hold a last error."""

    reason: str


def error_reply(error: OFPErr, version: int, xid: int, request: bytes) -> bytes:
    """An OFPT_ERROR quoting ``request`` whole, as OVS 3.1's ``ofperr_encode_reply``.

    The quote is cut only where the error message would pass 65535 bytes.
    """
    room = 0xFFFF - len(encode(Message(version, xid, "OFPT_ERROR",
                                       ErrorMsg.for_error(error, version, b""))))
    body = ErrorMsg.for_error(error, version, request[:room])
    return encode(Message(version, xid, "OFPT_ERROR", body))


class Connection:
    """One end of an OpenFlow channel, as a state machine over bytes."""

    def __init__(self, versions: int = ALL_VERSIONS, auto_echo: bool = True,
                 first_xid: int = 1) -> None:
        if not versions & ALL_VERSIONS or versions & ~ALL_VERSIONS:
            raise ValueError(f"bad version bitmap {versions:#x}")
        self.versions = versions
        self.auto_echo = auto_echo
        self.state = State.HELLO
        self.version = 0
        """Negotiated version (0 until then)."""
        self.peer_versions = 0
        self._inbuf = bytearray()
        self._outbuf = bytearray()
        self._next_xid = first_xid
        self._pending: set[int] = set()
        self._hello_sent = False

    # --- sending ----------------------------------------------------------------

    def start(self) -> None:
        """Queue our hello (OVS ``ofputil_encode_hello``); call once, on connect."""
        if not self._hello_sent:
            top, hello = Hello.for_versions(self.versions)
            self._queue(encode(Message(top, self._alloc_xid(), "OFPT_HELLO", hello)))
            self._hello_sent = True

    def send(self, body: Body, raw: str | None = None, xid: int | None = None,
             expect_reply: bool | None = None) -> int:
        """Queue ``body`` in the negotiated version; returns the xid used.

        Requests (raw types named ``*_REQUEST``) are tracked so their replies
        come back as ``Reply`` events; ``expect_reply`` overrides the guess.
        """
        if self.state is not State.CONNECTED:
            raise RuntimeError(f"cannot send while {self.state.value}")
        xid = self._alloc_xid() if xid is None else xid
        msg = make(body, self.version, xid, raw)
        if expect_reply if expect_reply is not None else msg.raw.endswith("_REQUEST"):
            self._pending.add(xid)
        self._queue(encode(msg))
        return xid

    def reply(self, request: Message, body: Body, more: bool = False) -> None:
        """Queue ``body`` as the reply to ``request`` (same xid and version).

        A statistics reply takes the raw type matching the request's (an
        NXST request gets an NXST reply); ``more`` marks a multipart part
        that is not the last.
        """
        if request.raw_type.is_stats:
            raw = stats_reply_raw(request.raw_type, request.version)
        else:
            raw = default_raw(body, request.version)
        self._queue(encode(Message(request.version, request.xid, raw, body,
                                   OFPSF_REPLY_MORE if more else 0)))

    def send_message(self, msg: Message) -> None:
        """Queue an already built message as it is (a reply to the peer, say)."""
        self._queue(encode(msg))

    def send_raw(self, data: bytes) -> None:
        """Queue an already encoded message (``error_reply``'s, say)."""
        self._queue(data)

    def data_to_send(self) -> bytes:
        """Everything queued for the peer since the last call."""
        data = bytes(self._outbuf)
        self._outbuf.clear()
        return data

    @property
    def closed(self) -> bool:
        return self.state is State.CLOSED

    @property
    def pending(self) -> frozenset[int]:
        """Xids of requests still waiting for (the rest of) a reply."""
        return frozenset(self._pending)

    def _alloc_xid(self) -> int:
        xid = self._next_xid
        self._next_xid = (self._next_xid + 1) & 0xFFFFFFFF
        return xid

    def _queue(self, data: bytes) -> None:
        if self.state is not State.CLOSED:
            self._outbuf += data

    # --- receiving -----------------------------------------------------------------

    def receive(self, data: bytes) -> list[Event]:
        """Take bytes from the peer; return what they meant."""
        if self.state is State.CLOSED:
            return []
        self._inbuf += data
        events: list[Event] = []
        while not self.closed and len(self._inbuf) >= 8:
            length = struct.unpack_from("!H", self._inbuf, 2)[0]
            if length < 8:
                events.append(self._close("received too-short ofp_header"))
                break
            if len(self._inbuf) < length:
                break
            raw = bytes(self._inbuf[:length])
            del self._inbuf[:length]
            events.extend(self._handle(raw))
        return events

    def _close(self, reason: str) -> Closed:
        self.state = State.CLOSED
        return Closed(reason)

    def _handle(self, data: bytes) -> list[Event]:
        if self.state is State.HELLO:
            return self._handle_hello(data)
        version = data[0]
        try:
            header = decode_header(data)
        except OFError as e:
            return [self._reject(e, data)]
        if version != self.version and header.raw.ofptype not in (
                "HELLO", "ERROR", "ECHO_REQUEST", "ECHO_REPLY"):
            return [self._reject(OFError(OFPErr.OFPBRC_BAD_VERSION,
                                         f"version {version:#x} on a {self.version:#x} "
                                         "connection", version), data)]
        try:
            msg = decode(data)
        except OFError as e:
            return [self._reject(e, data)]
        if isinstance(msg.body, EchoRequest) and self.auto_echo:
            self._queue(encode(Message(msg.version, msg.xid, "OFPT_ECHO_REPLY",
                                       EchoReply(msg.body.data))))
            return []
        if msg.xid in self._pending and (msg.raw.endswith("_REPLY")
                                         or isinstance(msg.body, ErrorMsg)):
            done = not (msg.raw_type.is_reply and msg.stats_flags & OFPSF_REPLY_MORE)
            if done:
                self._pending.discard(msg.xid)
            return [Reply(msg.xid, msg, done)]
        return [Received(msg, data)]

    def _reject(self, error: OFError, data: bytes) -> Rejected:
        """Answer a bad message as OVS does (``ofperr_encode_reply``)."""
        # The reply is in the offending message's version, as OVS's, or in
        # ours when that version does not exist.
        reply_version = data[0] if 1 <= data[0] <= 6 else self.version or 1
        xid = struct.unpack_from("!I", data, 4)[0]
        self._queue(error_reply(error.error, reply_version, xid, data))
        return Rejected(error, data)

    def _handle_hello(self, data: bytes) -> list[Event]:
        try:
            msg = decode(data)
        except OFError:
            msg = None
        if msg is None or not isinstance(msg.body, Hello):
            return [self._close("received message while expecting hello")]
        self.start()
        peer, understood = msg.body.versions(msg.version)
        self.peer_versions = peer
        common = peer & self.versions
        if not common:
            self.version = peer.bit_length() - 1
            text = (f"We support {version_bitmap_text(self.versions)}, you support "
                    f"{version_bitmap_text(peer)}, no common versions.")
            body = ErrorMsg.for_error(OFPErr.OFPHFC_INCOMPATIBLE, self.version, text.encode())
            self._queue(encode(Message(self.version, 0, "OFPT_ERROR", body)))
            return [self._close("version negotiation failed")]
        self.version = common.bit_length() - 1
        self.state = State.CONNECTED
        return [Negotiated(self.version, peer, understood)]
