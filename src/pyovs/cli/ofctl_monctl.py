"""The event loop of ``monitor``/``snoop``, with ovs-ofctl's control socket.

While it prints what the switch sends, ovs-ofctl's ``monitor_vconn`` also
serves a unixctl socket (``<rundir>/<program>.<pid>.ctl``, or
``--unixctl=PATH``) through which ``ovs-appctl`` steers it:

* ``exit`` -- stop (after replying);
* ``ofctl/send HEX...`` -- send raw OpenFlow messages, each echoed on stderr
  as ``send: `` and its text; the reply lists ``sent`` or the problem;
* ``ofctl/packet-out "in_port=... packet=... actions=..."``;
* ``ofctl/barrier`` -- send a barrier and reply once its reply has come
  (one at a time: "already waiting for barrier reply");
* ``ofctl/set-output-file FILE`` -- print to FILE from now on;
* ``ofctl/block``, ``ofctl/unblock`` -- stop and resume reading the switch.

``MonitorLoop`` runs this on asyncio: the connection's socket is watched
for reading, each message is handed to ``show`` (which prints it and may
answer an echo), the control commands come from ``pyovs.unixctl``.  The
connection itself stays the blocking ``MonitorVconn``; the loop only calls
it when the socket is readable.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable

from pyovs.cli.cmdline import Fatal
from pyovs.cli.ofctl_monitor_io import MonitorVconn, parse_hex, parse_packet_out
from pyovs.openflow import codec
from pyovs.openflow.codec import Message
from pyovs.openflow.errors import ParseError
from pyovs.openflow.msg_basic import BarrierReply, BarrierRequest
from pyovs.openflow.ofprint import ofp_to_string
from pyovs.unixctl import UnixctlError, UnixctlServer

__all__ = ["MonitorLoop"]

Show = Callable[[bytes, "Message | None"], None]
NameLookup = Callable[[], tuple["dict[str, int] | None", "dict[str, int] | None"]]


def openflow_from_hex(text: str) -> bytes:
    """ovs-ofctl's ``openflow_from_hex``; ``UnixctlError`` texts as OVS words them."""
    data, rest = parse_hex(text)
    if rest:
        raise ValueError("Trailing garbage in hex data")
    if len(data) < 8:
        raise ValueError("Message too short for OpenFlow")
    if len(data) != int.from_bytes(data[2:4], "big"):
        raise ValueError("Message size does not match length in OpenFlow header")
    return data


class MonitorLoop:
    """One monitor session: the switch connection and the control socket."""

    def __init__(self, v: MonitorVconn, show: Show, program: str, unixctl: str | None,
                 verbosity: int, names: NameLookup,
                 ready: Callable[[], None] | None = None) -> None:
        self.ready = ready
        """Called once the control socket listens (``daemonize_complete``)."""
        self.v = v
        self.show = show
        self.names = names
        """ovs-ofctl's ``ports_to_accept``/``tables_to_accept`` for packet-out text."""
        self.verbosity = verbosity
        self.server = UnixctlServer(program, unixctl)
        self.blocked = False
        self.exiting = asyncio.Event()
        self.closed = False
        self.barrier: tuple[int, asyncio.Future[None]] | None = None
        for name, usage, lo, hi, handler in (
                ("exit", "", 0, 0, self._exit),
                ("ofctl/send", "OFMSG...", 1, 0x7FFFFFFF, self._send),
                ("ofctl/packet-out", '"in_port=<port> packet=<hex data> actions=..."', 1, 1,
                 self._packet_out),
                ("ofctl/barrier", "", 0, 0, self._barrier),
                ("ofctl/set-output-file", "FILE", 1, 1, self._set_output_file),
                ("ofctl/block", "", 0, 0, self._block),
                ("ofctl/unblock", "", 0, 0, self._unblock)):
            self.server.register(name, usage, lo, hi, handler)

    # --- commands ----------------------------------------------------------------

    def _exit(self, args: list[str]) -> None:
        self.exiting.set()

    def _send(self, args: list[str]) -> str:
        reply, ok = "", True
        for text in args:
            try:
                data = openflow_from_hex(text)
            except ValueError as e:
                reply, ok = reply + f"{e}\n", False
                continue
            sys.stderr.write("send: " + ofp_to_string(data, self.verbosity))
            sys.stderr.flush()
            try:
                self.v.sock.sendall(data)
                reply += "sent\n"
            except OSError as e:
                reply, ok = reply + f"{os.strerror(e.errno or 0)}\n", False
        if not ok:
            raise UnixctlError(reply)
        return reply

    def _packet_out(self, args: list[str]) -> str:
        port_map, table_map = self.names()
        try:
            po, usable = parse_packet_out(args[0], port_map, table_map)
        except ParseError as e:
            raise UnixctlError(f"{e}\n") from None
        if not usable & self.v.protocol:
            raise UnixctlError("PACKET_OUT actions are incompatible with the OpenFlow "
                               "connection.\n")
        data = codec.encode(codec.make(po, self.v.version, self.v.xids.next()))
        sys.stderr.write(ofp_to_string(data, self.verbosity))
        sys.stderr.flush()
        try:
            self.v.sock.sendall(data)
        except OSError as e:
            raise UnixctlError(f"{os.strerror(e.errno or 0)}\n") from None
        return ""

    async def _barrier(self, args: list[str]) -> None:
        if self.barrier is not None:
            raise UnixctlError("already waiting for barrier reply")
        xid = self.v.conn.send(BarrierRequest(), None, self.v.xids.next(), expect_reply=True)
        try:
            self.v.sock.sendall(self.v.conn.data_to_send())
        except OSError as e:
            raise UnixctlError(os.strerror(e.errno or 0)) from None
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.barrier = (xid, done)
        await done

    def _set_output_file(self, args: list[str]) -> None:
        try:
            fd = os.open(args[0], os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o666)
        except OSError as e:
            raise UnixctlError(os.strerror(e.errno or 0)) from None
        sys.stderr.flush()
        os.dup2(fd, 2)
        os.close(fd)

    def _block(self, args: list[str]) -> str | None:
        if self.blocked:
            return "already blocking"
        self.blocked = True
        self._watch(False)
        return None

    def _unblock(self, args: list[str]) -> str | None:
        if not self.blocked:
            return "already unblocked"
        self.blocked = False
        self._watch(True)
        return None

    # --- the switch --------------------------------------------------------------

    def _watch(self, on: bool) -> None:
        loop = asyncio.get_running_loop()
        if on:
            loop.add_reader(self.v.sock.fileno(), self._readable)
        else:
            loop.remove_reader(self.v.sock.fileno())

    def _readable(self) -> None:
        for data, msg in self.v.recv_available():
            self.show(data, msg)
            if (self.barrier is not None and msg is not None
                    and isinstance(msg.body, BarrierReply) and msg.xid == self.barrier[0]):
                self.barrier[1].set_result(None)
                self.barrier = None
        if self.v.hung_up:
            self.closed = True
            self.exiting.set()

    async def run(self) -> None:
        """Serve until ``exit`` or until the switch hangs up (then ``Fatal``)."""
        await self.server.start()
        if self.ready is not None:
            self.ready()
        self.v.sock.setblocking(False)
        self._watch(True)
        try:
            await self.exiting.wait()
        finally:
            if not self.blocked:
                self._watch(False)
            await self.server.close()
        if self.closed:
            raise Fatal("vconn_recv: End of file")
