"""The control socket, wire-compatible with ``ovs-appctl``.

Every OVS daemon listens on a Unix socket, by default
``<rundir>/<program>.<pid>.ctl``, for JSON-RPC requests whose method is a
command name and whose params are string arguments::

    -> {"method":"vlog/set","params":["jsonrpc:file:dbg"],"id":0}
    <- {"id":0,"result":"","error":null}
    <- {"id":0,"result":null,"error":"no destination, level, or module \\"x\\"\\n"}

``ovs-appctl -t NAME`` finds the socket by reading the pid from
``<rundir>/NAME.pid`` (see ``pyovs.daemon.read_pidfile``); ``-t /abs/path``
names the socket directly.  This module reproduces lib/unixctl.c:

* commands live in an explicit table: ``UnixctlServer.register(name, usage,
  min_args, max_args, handler)``; ``list-commands`` and ``version`` are
  built in, ``register_vlog(vlog)`` adds ``vlog/set``, ``vlog/list``...;
* the server checks the command and its argument count before calling the
  handler, with OVS's exact texts ('"foo" is not a valid command (use
  "list-commands" to see a list of valid commands)', '"x" command requires
  at least N arguments', '"x" command takes at most N arguments');
* a handler returns the reply text (str or None for empty), or raises
  ``UnixctlError(text)`` for an error reply; it may be a coroutine function;
* a non-empty reply body gets a trailing newline if it lacks one;
* one request at a time per connection; anything but a request, or a broken
  stream, closes that connection only.

The client half (``UnixctlClient``, ``unixctl_call``, ``resolve_target``) is
what ``pyovs-appctl`` uses; it blocks, since a CLI has nothing else to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import inspect
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from pyovs import __version__, dirs, streams
from pyovs.daemon import read_pidfile
from pyovs.ovsdb.jsonrpc import (
    JsonRpcProtocolError,
    JsonRpcStream,
    Message,
    MessageKind,
)
from pyovs.vlog import Vlog, VlogError

__all__ = [
    "UnixctlClient",
    "UnixctlCommand",
    "UnixctlError",
    "UnixctlServer",
    "UnixctlTargetError",
    "UnixctlTransactionError",
    "program_version",
    "resolve_target",
    "unixctl_call",
]

log = logging.getLogger(__name__)

Handler = Callable[[list[str]], str | Awaitable[str | None] | None]

MAX_ARGS: Final = 2**31 - 1
"""``max_args`` for a command that takes any number of arguments (INT_MAX in OVS)."""


class UnixctlError(Exception):
    """Raised by a command handler: the text becomes the error reply."""


class UnixctlTargetError(Exception):
    """``resolve_target`` failed; the text is ovs-appctl's message."""


class UnixctlTransactionError(Exception):
    """The request could not be completed; the text says why ("End of file"...)."""


def program_version(program: str) -> str:
    """``version`` output, shaped like OVS's "ovsdb-server (Open vSwitch) 3.1.0"."""
    return f"{program} (pyovs) {__version__}"


@dataclass(frozen=True, slots=True)
class UnixctlCommand:
    """One entry of the command table."""

    name: str
    """The JSON-RPC method, e.g. ``vlog/set``."""
    usage: str
    """Argument synopsis shown by ``list-commands``."""
    min_args: int
    max_args: int
    handler: Handler


def _vlog_handler(func: Callable[[list[str]], str | None]) -> Handler:
    def handler(args: list[str]) -> str | None:
        try:
            return func(args)
        except VlogError as e:
            raise UnixctlError(str(e)) from None
    return handler


class UnixctlServer:
    """A command table and the socket that serves it."""

    def __init__(self, program: str, path: str | None = None, *,
                 version: str | None = None) -> None:
        """``path``: None for the default name, relative to the rundir, or "none"."""
        self.program = program
        self._path_option = path
        self._version = version or program_version(program)
        self.commands: dict[str, UnixctlCommand] = {}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.path: str | None = None
        """The socket file, once ``start`` has bound it (None with "none")."""
        self.register("list-commands", "", 0, 0, self._list_commands)
        self.register("version", "", 0, 0, lambda args: self._version)

    def register(self, name: str, usage: str, min_args: int, max_args: int,
                 handler: Handler) -> None:
        """Add a command; registering a name twice is a programming error."""
        if name in self.commands:
            raise ValueError(f'unixctl command "{name}" is already registered')
        if not 0 <= min_args <= max_args:
            raise ValueError(f'unixctl command "{name}": bad argument counts')
        self.commands[name] = UnixctlCommand(name, usage, min_args, max_args, handler)

    def register_vlog(self, vlog: Vlog) -> None:
        """Add ``vlog/set``, ``vlog/list``, ``vlog/list-pattern``, ``vlog/reopen``..."""
        for name, usage, lo, hi, func in vlog.unixctl_commands():
            self.register(name, usage, lo, hi, _vlog_handler(func))

    def _list_commands(self, args: list[str]) -> str:
        lines = [f"  {name:<23} {self.commands[name].usage}\n"
                 for name in sorted(self.commands)]
        return "The available commands are:\n" + "".join(lines)

    async def run_command(self, method: str, params: list[object]) -> tuple[bool, str]:
        """Execute one request: (success, body) exactly as the socket would reply."""
        command = self.commands.get(method)
        if command is None:
            ok, text = False, (f'"{method}" is not a valid command (use "list-commands" '
                               f"to see a list of valid commands)")
        elif len(params) < command.min_args:
            ok, text = False, (f'"{method}" command requires at least {command.min_args} '
                               "arguments")
        elif len(params) > command.max_args:
            ok, text = False, f'"{method}" command takes at most {command.max_args} arguments'
        elif not all(isinstance(p, str) for p in params):
            ok, text = False, f'"{method}" command has non-string argument'
        else:
            ok, text = await self._call(command, [str(p) for p in params])
        if text and not text.endswith("\n"):
            text += "\n"
        return ok, text

    async def _call(self, command: UnixctlCommand, args: list[str]) -> tuple[bool, str]:
        try:
            result = command.handler(args)
            if inspect.isawaitable(result):
                result = await result
            return True, result or ""
        except UnixctlError as e:
            return False, str(e)
        except Exception as e:
            log.exception('"%s" command failed', command.name)
            return False, f'"{command.name}" command failed: {type(e).__name__}: {e}'

    async def handle(self, msg: Message) -> Message:
        """The reply to one request message."""
        ok, text = await self.run_command(msg.method or "", list(msg.params or []))
        return Message.reply(text, msg.id) if ok else Message.error_reply(text, msg.id)

    # The socket.
    def _socket_path(self) -> str | None:
        if self._path_option == "none":
            return None
        if self._path_option is None:
            return os.path.join(dirs.rundir(ensure=True),
                                f"{self.program}.{os.getpid()}.ctl")
        return dirs.abs_file_name(dirs.rundir(), self._path_option)

    async def start(self) -> None:
        """Bind and listen (call after ``Daemon.start``, so the pid is final)."""
        path = self._socket_path()
        if path is None or self._server is not None:
            return
        self._server = await streams.start_server(streams.UnixTarget(path, True),
                                                  self._on_connection)
        self.path = path

    async def close(self) -> None:
        """Stop listening, drop connections and remove the socket file."""
        if self._server is not None:
            await streams.close_server(self._server)
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _on_connection(self, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        session = streams.JsonRpcSession(reader, writer, name=f"unixctl:{self.path}")
        try:
            while (msg := await session.recv()) is not None:
                if msg.kind is not MessageKind.REQUEST:
                    log.warning("%s: received unexpected %s message", session.name,
                                msg.kind.value)
                    break
                session.send(await self.handle(msg))
                await session.drain()
        except JsonRpcProtocolError as e:
            log.warning("%s: %s", session.name, e)
        except asyncio.CancelledError:
            pass  # close(): the connection ends with the server (asyncio would log it)
        finally:
            session.close()
            if task is not None:
                self._tasks.discard(task)


# -- the client side ---------------------------------------------------------------

def resolve_target(target: str) -> str:
    """The socket for ``ovs-appctl -t TARGET``: an absolute path as is, else
    ``<rundir>/TARGET.<pid>.ctl`` with the pid read from ``<rundir>/TARGET.pid``."""
    if target.startswith("/"):
        return target
    rundir = dirs.rundir()
    pidfile = f"{rundir}/{target}.pid"
    try:
        pid = read_pidfile(pidfile)
    except OSError as e:
        raise UnixctlTargetError(
            f'cannot read pidfile "{pidfile}" ({e.strerror or os.strerror(e.errno or 0)})'
        ) from None
    return f"{rundir}/{target}.{pid}.ctl"


class UnixctlClient:
    """A blocking connection to one control socket."""

    def __init__(self, sock: socket.socket, name: str) -> None:
        self._sock = sock
        self._stream = JsonRpcStream()
        self.name = name
        self._next_id = 0

    @classmethod
    def connect(cls, path: str, *, timeout: float | None = None) -> UnixctlClient:
        """Connect to ``path`` (relative: in the rundir); raises OSError."""
        full = dirs.abs_file_name(dirs.rundir(), path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            with streams.short_socket_name(full) as name:
                sock.connect(name)
        except OSError:
            sock.close()
            log.warning("failed to connect to %s", path)
            raise
        return cls(sock, f"unix:{full}")

    def transact(self, method: str, args: list[str]) -> tuple[bool, str]:
        """(True, result) or (False, error text); raises UnixctlTransactionError."""
        request_id = self._next_id
        self._next_id += 1
        try:
            self._sock.sendall(self._stream.send(Message.request(method, list(args),
                                                                 request_id)))
            reply = self._wait_reply(request_id)
        except (OSError, JsonRpcProtocolError) as e:
            reason = (os.strerror(errno.EPROTO) if isinstance(e, JsonRpcProtocolError)
                      else e.strerror or str(e))
            log.warning("error communicating with %s: %s", self.name, reason)
            raise UnixctlTransactionError(reason) from e
        body = reply.error if reply.kind is MessageKind.ERROR else reply.result
        if not isinstance(body, str):
            log.warning("%s: unexpected %s type in JSON RPC reply: %s", self.name,
                        "error" if reply.kind is MessageKind.ERROR else "result",
                        type(body).__name__)
            raise UnixctlTransactionError(os.strerror(errno.EINVAL))
        return reply.kind is MessageKind.REPLY, body

    def _wait_reply(self, request_id: int) -> Message:
        while True:
            msg = self._stream.next_message()
            if msg is None:
                data = self._sock.recv(65536)
                if not data:
                    log.warning("error communicating with %s: End of file", self.name)
                    raise UnixctlTransactionError("End of file")
                self._stream.receive_data(data)
            elif msg.kind in (MessageKind.REPLY, MessageKind.ERROR) and msg.id == request_id:
                return msg

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> UnixctlClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def unixctl_call(path: str, method: str, args: list[str], *,
                 timeout: float | None = None) -> tuple[bool, str]:
    """Run one command on the daemon listening at ``path``: (ok, text).

    Raises OSError if it cannot connect, UnixctlTransactionError if the
    exchange fails (``socket.timeout`` counts as such).
    """
    with UnixctlClient.connect(path, timeout=timeout) as client:
        return client.transact(method, args)
