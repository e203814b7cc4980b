"""A small synchronous JSON-RPC client for OVSDB servers.

``pyovsdb-client`` and the tests talk to a server one request at a time and
wait for the answer, so this client is blocking and single-threaded: a
socket plus the sans-IO ``jsonrpc.JsonRpcStream`` for framing.  (The
asyncio edge, ``streams.JsonRpcSession``, serves the daemons.)

    with connect("unix:/run/db.sock") as client:
        dbs = client.call("list_dbs", [])
        client.request("monitor", ["Open_vSwitch", None, {...}])
        for msg in client.messages():      # the reply, then "update"s
            ...

Targets are OVS connection strings (``streams.parse_target``): ``unix:PATH``
(relative to the rundir) and ``tcp:HOST:PORT`` connect; ``punix:PATH`` and
``ptcp:PORT[:IP]`` listen and take the first connection, as ovsdb-client
does when given a passive target.

Invariants:

* Requests carry integer ids counting from 0, as OVS's do.
* ``call`` returns the result of *its* reply; whatever else arrives while it
  waits -- notifications, replies to earlier ``request``s -- is kept, in
  order, for ``messages``/``next_message``.
* The server's ``echo`` requests (inactivity probes) are answered as they are
  read, by every receiving method, so a client never looks dead.
* Errors: ``RpcError`` for an error reply, ``ConnectionClosed`` when the
  server hangs up, ``TimeoutError`` when a deadline passes, ``OSError`` for
  connection failures (its ``errno`` is what OVS would report), ``ValueError``
  for a malformed target, and ``jsonrpc.JsonRpcProtocolError`` when the
  server sends garbage.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import time
from collections import deque
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from pyovs import dirs
from pyovs.streams import TcpTarget, UnixTarget, parse_target

from .jsonrpc import DEFAULT_MAX_MESSAGE_SIZE, Json, JsonRpcStream, Message, MessageKind

__all__ = ["Client", "ConnectionClosed", "RpcError", "connect"]

_SUN_PATH_MAX = 107
_READ_SIZE = 256 * 1024


class RpcError(Exception):
    """The server answered a request with an error reply."""

    def __init__(self, method: str, error: Json) -> None:
        self.method = method
        self.error = error
        """The reply's ``error`` member, as received."""
        super().__init__(f"{method}: {error!r}")


class ConnectionClosed(ConnectionError):
    """The server closed the connection."""

    def __init__(self, name: str) -> None:
        super().__init__(errno.EPIPE, f"{name}: connection closed")


def connect(target: str, *, timeout: float | None = None,
            max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE) -> Client:
    """Open a connection to ``target`` (see the module docstring).

    ``timeout`` bounds connecting (and, for a passive target, waiting for
    the peer); it does not apply to later calls.
    """
    parsed = parse_target(target)
    if parsed.passive:
        sock = _accept_one(parsed, timeout)
    elif isinstance(parsed, TcpTarget):
        sock = socket.create_connection((parsed.host, parsed.port), timeout=timeout)
    else:
        sock = _connect_unix(_socket_path(parsed.path), timeout)
    sock.settimeout(None)
    return Client(sock, target, max_message_size)


def _socket_path(path: str) -> str:
    return dirs.abs_file_name(dirs.rundir(), path)


def _with_short_name(path: str, op: Any) -> None:
    """Call ``op(name)`` with a name for ``path`` that fits in ``sun_path``.

    A long path is reached through ``/proc/self/fd/N/NAME``, as OVS does.
    """
    if len(os.fsencode(path)) <= _SUN_PATH_MAX:
        op(path)
        return
    directory, base = os.path.split(path)
    fd = os.open(directory or ".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        op(f"/proc/self/fd/{fd}/{base}")
    finally:
        os.close(fd)


def _connect_unix(path: str, timeout: float | None) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        _with_short_name(path, sock.connect)
    except BaseException:
        sock.close()
        raise
    return sock


def _accept_one(target: UnixTarget | TcpTarget, timeout: float | None) -> socket.socket:
    if isinstance(target, TcpTarget):
        family = socket.AF_INET6 if ":" in target.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        address: Any = (target.host, target.port)
        path = None
    else:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        path = _socket_path(target.path)
        with contextlib.suppress(FileNotFoundError):
            if os.path.exists(path) and not os.path.isdir(path):
                os.unlink(path)
        address = None
    try:
        if path is None:
            listener.bind(address)
        else:
            _with_short_name(path, listener.bind)
        listener.listen(1)
        listener.settimeout(timeout)
        sock, _ = listener.accept()
    finally:
        listener.close()
        if path is not None:
            with contextlib.suppress(OSError):
                os.unlink(path)
    return sock


class Client:
    """One JSON-RPC connection to an OVSDB server (blocking)."""

    def __init__(self, sock: socket.socket, name: str,
                 max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self.sock = sock
        self.name = name
        """The target as given, used in messages (OVS's ``jsonrpc_get_name``)."""
        self._stream = JsonRpcStream(max_message_size)
        self._next_id = 0
        self._backlog: deque[Message] = deque()
        self._eof = False

    # -- context manager -------------------------------------------------------
    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    # -- sending ---------------------------------------------------------------
    def send(self, msg: Message) -> None:
        self.sock.sendall(self._stream.send(msg))

    def request(self, method: str, params: list[Json]) -> int:
        """Send a request without waiting; return its id."""
        request_id = self._next_id
        self._next_id += 1
        self.send(Message.request(method, params, request_id))
        return request_id

    def notify(self, method: str, params: list[Json]) -> None:
        self.send(Message.notify(method, params))

    # -- receiving -------------------------------------------------------------
    def _read(self, deadline: float | None) -> Message | None:
        """The next message off the wire (echo requests answered); None at EOF."""
        while True:
            msg = self._stream.next_message()
            if msg is not None:
                if msg.kind is MessageKind.REQUEST and msg.method == "echo":
                    self.send(Message.reply(msg.params, msg.id))
                    continue
                return msg
            if self._eof:
                return None
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self.name}: timed out")
                self.sock.settimeout(remaining)
            else:
                self.sock.settimeout(None)
            try:
                data = self.sock.recv(_READ_SIZE)
            except TimeoutError:
                raise TimeoutError(f"{self.name}: timed out") from None
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            if not data:
                self._eof = True
                return None
            self._stream.receive_data(data)

    def next_message(self, timeout: float | None = None) -> Message | None:
        """The next message not consumed by ``call``: kept ones first, then the wire.

        Returns None when the server has closed the connection.
        """
        if self._backlog:
            return self._backlog.popleft()
        deadline = None if timeout is None else time.monotonic() + timeout
        return self._read(deadline)

    def messages(self) -> Iterator[Message]:
        """Every message ``call`` did not consume, until the server hangs up."""
        while True:
            msg = self.next_message()
            if msg is None:
                return
            yield msg

    def wait_reply(self, request_id: int, timeout: float | None = None) -> Message:
        """Wait for the reply to ``request_id``; keep other messages for later."""
        for i, kept in enumerate(self._backlog):
            if kept.kind in (MessageKind.REPLY, MessageKind.ERROR) and kept.id == request_id:
                del self._backlog[i]
                return kept
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            msg = self._read(deadline)
            if msg is None:
                raise ConnectionClosed(self.name)
            if msg.kind in (MessageKind.REPLY, MessageKind.ERROR) and msg.id == request_id:
                return msg
            self._backlog.append(msg)

    def call(self, method: str, params: list[Json], timeout: float | None = None) -> Json:
        """Send a request and return its result; ``RpcError`` for an error reply."""
        reply = self.wait_reply(self.request(method, params), timeout)
        if reply.kind is MessageKind.ERROR:
            raise RpcError(method, reply.error)
        return reply.result

    # -- OVSDB conveniences ----------------------------------------------------
    def list_dbs(self) -> list[str]:
        result = self.call("list_dbs", [])
        if not isinstance(result, list) or not all(isinstance(n, str) for n in result):
            raise ValueError("list_dbs response is not an array of strings")
        return result

    def get_schema(self, database: str) -> Json:
        """The schema JSON of ``database``."""
        return self.call("get_schema", [database])

    def transact(self, database: str, *operations: Json) -> list[Json]:
        """Run a transaction; the result array (per-operation errors included)."""
        result = self.call("transact", [database, *operations])
        if not isinstance(result, list):
            raise ValueError("transact response is not an array")
        return result

    def echo(self, *args: Json) -> Json:
        return self.call("echo", list(args))

    def lock(self, name: str, method: str = "lock") -> Json:
        """``lock``, ``steal`` or ``unlock`` ``name``; the reply's result."""
        return self.call(method, [name])
