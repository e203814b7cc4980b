"""asyncio edges for OVS connection strings.

Every OVS program names its connections the same way, and pyovs accepts the
same strings (ovsdb-server(1) "Remotes", ovs-vsctl(8) "--db"):

* ``unix:PATH``         connect to a Unix domain socket
* ``tcp:HOST:PORT``     connect over TCP; HOST may be ``[IPv6]``
* ``punix:PATH``        listen on a Unix domain socket
* ``ptcp:PORT[:IP]``    listen on TCP, on all IPv4 addresses unless IP is given

A relative PATH is taken relative to the rundir (``pyovs.dirs.rundir()``), as
OVS does.  ``parse_target`` turns a string into a ``UnixTarget`` or
``TcpTarget`` or raises ``ValueError`` whose text names the string and what is
wrong with it; ``ssl:``/``pssl:`` are recognised and refused explicitly.

This module owns sockets only.  What flows over them is the sans-IO
``pyovs.ovsdb.jsonrpc.JsonRpcStream``; ``JsonRpcSession`` glues the two for
one connection: ``send`` only buffers (no await per message, so a burst of
monitor updates costs one write each), ``drain`` applies back-pressure,
``recv`` returns ``None`` at end of file.

Invariants: ``punix:`` replaces a stale socket file (nobody accepting on it)
but refuses to remove a live one or a file that is not a socket;
``close_server`` removes the socket file it created, if it is still ours.
Socket paths longer than ``sun_path`` allows are reached through
``/proc/self/fd/N/NAME`` as OVS does, so deep test directories work.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import os
import socket
import stat
import weakref
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Final

from pyovs import dirs
from pyovs.ovsdb.jsonrpc import DEFAULT_MAX_MESSAGE_SIZE, JsonRpcStream, Message

__all__ = [
    "ClientConnectedCallback",
    "JsonRpcSession",
    "Target",
    "TcpTarget",
    "UnixTarget",
    "bound_name",
    "bound_port",
    "close_server",
    "open_connection",
    "parse_target",
    "short_socket_name",
    "start_server",
]

ClientConnectedCallback = Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                   Awaitable[None] | None]

_SUN_PATH_MAX: Final = 107  # sizeof(sun_path) - 1 on Linux
_READ_SIZE: Final = 256 * 1024


@dataclass(frozen=True, slots=True)
class UnixTarget:
    """``unix:PATH`` (``passive=False``) or ``punix:PATH`` (``passive=True``)."""

    path: str
    """Socket file name exactly as written (relative means: in the rundir)."""
    passive: bool

    def __str__(self) -> str:
        return f"{'punix' if self.passive else 'unix'}:{self.path}"


@dataclass(frozen=True, slots=True)
class TcpTarget:
    """``tcp:HOST:PORT`` (``passive=False``) or ``ptcp:PORT[:HOST]``."""

    host: str
    """IP address or (active only) host name, without brackets."""
    port: int
    """TCP port; 0 for a passive target means "any free port"."""
    passive: bool

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ptcp:{self.port}:{host}" if self.passive else f"tcp:{host}:{self.port}"


Target = UnixTarget | TcpTarget


def _split_host_port(text: str, host_first: bool) -> tuple[str | None, str | None]:
    """OVS inet_parse_tokens: split on the one colon outside brackets."""
    depth = 0
    colons = []
    for i, c in enumerate(text):
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
        elif c == ":" and depth == 0:
            colons.append(i)
    if len(colons) > 1:  # a bare IPv6 address: all host, no port
        return text, None
    first, second = (text, None) if not colons else (text[:colons[0]], text[colons[0] + 1:])
    first = first.strip("[]") if first is not None else None
    second = second.strip("[]") if second is not None else None
    return (first, second) if host_first else (second, first)


def _parse_port(name: str, text: str | None, default_port: int | None) -> int:
    if text is None or text == "":
        if default_port is None:
            raise ValueError(f'"{name}": port must be specified')
        return default_port
    if not text.isdigit() or int(text) > 65535:
        raise ValueError(f'"{name}": bad port number "{text}"')
    return int(text)


def _check_ip(name: str, host: str) -> None:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        raise ValueError(f'"{name}": bad IP address "{host}"') from None


def parse_target(name: str, *, default_port: int | None = None) -> Target:
    """Parse an OVS connection string; ``default_port`` fills a missing TCP port."""
    method, sep, rest = name.partition(":")
    if not sep:
        raise ValueError(f'"{name}": connection string must start with unix:, tcp:, '
                         f'punix: or ptcp:')
    if method in ("unix", "punix"):
        if not rest:
            raise ValueError(f'"{name}": missing socket file name')
        return UnixTarget(rest, method == "punix")
    if method == "tcp":
        host, port = _split_host_port(rest, host_first=True)
        if not host:
            raise ValueError(f'"{name}": host must be specified')
        if ":" in host:
            _check_ip(name, host)
        return TcpTarget(host, _parse_port(name, port, default_port), False)
    if method == "ptcp":
        host, port = _split_host_port(rest, host_first=False)
        host = host or "0.0.0.0"
        _check_ip(name, host)
        return TcpTarget(host, _parse_port(name, port, default_port), True)
    if method in ("ssl", "pssl"):
        raise ValueError(f'"{name}": SSL connections are not supported by pyovs')
    raise ValueError(f'"{name}": unknown connection method "{method}" '
                     f"(expected unix:, tcp:, punix: or ptcp:)")


def _as_target(target: str | Target, passive: bool, default_port: int | None) -> Target:
    parsed = parse_target(target, default_port=default_port) if isinstance(target, str) \
        else target
    if parsed.passive != passive:
        want = "punix: or ptcp:" if passive else "unix: or tcp:"
        raise ValueError(f'"{parsed}": expected {want}')
    return parsed


def _socket_path(path: str) -> str:
    return dirs.abs_file_name(dirs.rundir(), path)


@contextlib.contextmanager
def short_socket_name(path: str) -> Iterator[str]:
    """A name for socket file ``path`` that fits in sun_path, valid inside the block.

    Long paths go through ``/proc/self/fd/N/NAME`` with N a descriptor of the
    directory (OVS make_unix_socket does the same).
    """
    if len(os.fsencode(path)) <= _SUN_PATH_MAX:
        yield path
        return
    directory, base = os.path.split(path)
    fd = os.open(directory or ".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        short = f"/proc/self/fd/{fd}/{base}"
        if len(os.fsencode(short)) > _SUN_PATH_MAX:
            raise OSError(errno.ENAMETOOLONG, f"{path}: socket name too long")
        yield short
    finally:
        os.close(fd)


def _remove_stale_socket(path: str) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise OSError(errno.EEXIST, f"{path}: exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with short_socket_name(path) as name:
            probe.connect(name)
    except (ConnectionRefusedError, FileNotFoundError):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        return
    finally:
        probe.close()
    raise OSError(errno.EADDRINUSE, f"{path}: another process is listening on this socket")


async def open_connection(target: str | Target, *, default_port: int | None = None
                          ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to an active target (``unix:`` or ``tcp:``)."""
    parsed = _as_target(target, False, default_port)
    if isinstance(parsed, TcpTarget):
        return await asyncio.open_connection(parsed.host, parsed.port, limit=_READ_SIZE)
    path = _socket_path(parsed.path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        with short_socket_name(path) as name:
            await asyncio.get_running_loop().sock_connect(sock, name)
    except BaseException:
        sock.close()
        raise
    return await asyncio.open_unix_connection(sock=sock, limit=_READ_SIZE)


# Socket files created by start_server (path, st_dev, st_ino), removed again
# by close_server if the file is still the one we bound.
_CREATED: weakref.WeakKeyDictionary[asyncio.Server, tuple[str, int, int]] = (
    weakref.WeakKeyDictionary())


async def start_server(target: str | Target, client_connected_cb: ClientConnectedCallback,
                       *, default_port: int | None = None) -> asyncio.Server:
    """Listen on a passive target (``punix:`` or ``ptcp:``) and start serving.

    For ``ptcp:0`` use ``bound_port(server)`` to learn the port.
    """
    parsed = _as_target(target, True, default_port)
    if isinstance(parsed, TcpTarget):
        return await asyncio.start_server(client_connected_cb, parsed.host, parsed.port,
                                          reuse_address=True, limit=_READ_SIZE)
    path = _socket_path(parsed.path)
    _remove_stale_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with short_socket_name(path) as name:
            sock.bind(name)
        st = os.stat(path)
        server = await asyncio.start_unix_server(client_connected_cb, sock=sock,
                                                 limit=_READ_SIZE)
    except BaseException:
        sock.close()
        raise
    _CREATED[server] = (path, st.st_dev, st.st_ino)
    return server


def bound_port(server: asyncio.Server) -> int:
    """The TCP port a ``ptcp:`` server listens on (useful after ``ptcp:0``)."""
    for sock in server.sockets:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            port: int = sock.getsockname()[1]
            return port
    raise ValueError("server is not listening on TCP")


def bound_name(server: asyncio.Server) -> str:
    """The server's name as OVS reports it: ``ptcp:PORT:IP`` or ``punix:PATH``."""
    created = _CREATED.get(server)
    if created is not None:
        return f"punix:{created[0]}"
    sock = server.sockets[0]
    host, port = sock.getsockname()[:2]
    return str(TcpTarget(host, port, True))


async def close_server(server: asyncio.Server) -> None:
    """Stop listening and remove the socket file ``start_server`` created."""
    server.close()
    created = _CREATED.pop(server, None)
    if created is not None:
        path, dev, ino = created
        with contextlib.suppress(OSError):
            st = os.lstat(path)
            if (st.st_dev, st.st_ino) == (dev, ino):
                os.unlink(path)
    await server.wait_closed()


def _peer_name(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return str(TcpTarget(str(peer[0]), int(peer[1]), False))
    sockname = writer.get_extra_info("sockname")
    return f"unix:{peer or sockname or '?'}"


class JsonRpcSession:
    """One JSON-RPC connection over asyncio streams."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                 max_message_size: int | None = DEFAULT_MAX_MESSAGE_SIZE,
                 name: str | None = None) -> None:
        self._reader = reader
        self._writer = writer
        self._stream = JsonRpcStream(max_message_size)
        self.name = name if name is not None else _peer_name(writer)
        """How logs refer to this connection (e.g. ``tcp:127.0.0.1:41234``)."""

    @property
    def closed(self) -> bool:
        return self._writer.is_closing()

    async def recv(self) -> Message | None:
        """The next message, or None at end of file (a cut-off message is dropped).

        Raises ``JsonRpcProtocolError`` on garbage; the caller should close.
        """
        while True:
            msg = self._stream.next_message()
            if msg is not None:
                return msg
            try:
                data = await self._reader.read(_READ_SIZE)
            except (ConnectionResetError, BrokenPipeError):
                return None
            if not data:
                return None
            self._stream.receive_data(data)

    def send(self, msg: Message) -> None:
        """Queue ``msg`` for writing; a no-op once the connection is closing."""
        if not self._writer.is_closing():
            self._writer.write(self._stream.send(msg))

    async def drain(self) -> None:
        """Wait until the write buffer is below the high-water mark."""
        if not self._writer.is_closing():
            with contextlib.suppress(ConnectionResetError, BrokenPipeError):
                await self._writer.drain()

    def close(self) -> None:
        self._writer.close()

    async def wait_closed(self) -> None:
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            await self._writer.wait_closed()
