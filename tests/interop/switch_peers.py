"""Two switches side by side: pyovs-vswitchd and the real ovs-vswitchd, on dummy ports.

The "real peers" suites (``test_vswitchd_ofctl``, ``test_vswitchd_differential``,
``test_oskenapp``) judge pyovs's switch by doing the very same thing to it and
to the real Open vSwitch 3.1 and comparing what comes out.  ``Switchd`` is one
such switch with its own OVSDB server in a private directory:

* ``kind="real"``  -> ``ovsdb-server`` + ``ovs-vswitchd --enable-dummy=override``
  (OVS's own test-suite mode: every netdev, the bridge's internal port
  included, is a ``dummy`` that lives in memory, so no root is needed);
* ``kind="pyovs"`` -> ``pyovsdb-server`` + ``pyovs-vswitchd`` (ports of type
  ``dummy`` need no root; the bridge's internal port is a tap device when
  root, which is why bridges get a unique name: it lives in the host's
  network namespace).

Both are configured with the real ``ovs-vsctl`` (without ``--no-wait``, so
every command also waits for vswitchd's ``cur_cfg``) and read with the real
``ovs-ofctl``, which finds ``<rundir>/<bridge>.mgmt`` through ``OVS_RUNDIR``.

Frames go in with the ``netdev-dummy/receive PORT HEX`` control command,
which both daemons have.  What a port sent is read differently: the real
dummy writes it to ``options:tx_pcap`` (a pcap file, flushed per frame),
pyovs answers ``netdev-dummy/sent PORT`` (and forgets what it printed).
Neither daemon says when it has finished with a frame, so ``settle`` polls
until nothing new has left any port for a quiet period.

The control socket is spoken to directly (``peers.RawClient``: unixctl is
JSON-RPC), which is much cheaper than starting ``ovs-appctl`` per frame and
keeps pyovs's own client out of the judgement.

Every process is stopped by pid (SIGTERM, then SIGKILL) and the directory
removed, even when a test fails half-way.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import peers

REAL_VSWITCHD = Path("/usr/sbin/ovs-vswitchd")
REAL_VSCTL = Path("/usr/bin/ovs-vsctl")
REAL_OFCTL = Path("/usr/bin/ovs-ofctl")
PYOVS_VSWITCHD = peers.VENV_BIN / "pyovs-vswitchd"

QUIET = 0.15
"""Seconds without new output after which a switch is taken to be done with a frame."""


def unavailable(kind: str = "both") -> str | None:
    """None if switches of ``kind`` (``real``, ``pyovs`` or ``both``) can run, else why not."""
    kinds = ("real", "pyovs") if kind == "both" else (kind,)
    for path in (REAL_VSCTL, REAL_OFCTL):
        if not os.access(path, os.X_OK):
            return f"{path} missing: install openvswitch-common"
    for k in kinds:
        reason = peers.kind_unavailable(k)
        if reason:
            return reason
        if k == "real" and not os.access(REAL_VSWITCHD, os.X_OK):
            return f"{REAL_VSWITCHD} missing: install openvswitch-switch"
        if k == "pyovs" and not os.access(PYOVS_VSWITCHD, os.X_OK):
            return f"{PYOVS_VSWITCHD} missing: reinstall the venv (pip install -e .)"
    return None


def bridge_name() -> str:
    """A bridge name no other test on this host uses (at most 15 characters)."""
    return "br" + secrets.token_hex(3)


def read_pcap(data: bytes) -> list[bytes]:
    """The frames of a little- or big-endian pcap file (a torn last record is ignored)."""
    if len(data) < 24:
        return []
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        rec = struct.Struct("<IIII")
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        rec = struct.Struct(">IIII")
    else:
        raise ValueError(f"not a pcap file (magic {magic.hex()})")
    frames, off = [], 24
    while off + rec.size <= len(data):
        _, _, caplen, _ = rec.unpack_from(data, off)
        if off + rec.size + caplen > len(data):
            break
        frames.append(data[off + rec.size:off + rec.size + caplen])
        off += rec.size + caplen
    return frames


class Switchd:
    """An OVSDB server plus a vswitchd of ``kind`` (see the module comment)."""

    def __init__(self, kind: str, tmp_dir: Path) -> None:
        self.kind = kind
        self.db = peers.DbServer(kind, "vswitch", tmp_dir=tmp_dir)
        self.dir = self.db.dir
        self.env = self.db.env
        self.pid: int | None = None
        self._ctl: peers.RawClient | None = None
        self._pcap_seen: dict[str, int] = {}
        self._sent: dict[str, list[bytes]] = {}
        self.dummy_ports: list[str] = []

    # -- lifecycle -------------------------------------------------------------------
    def start(self) -> None:
        self.db.start()
        self.vsctl("--no-wait", "init")
        pidfile = self.dir / "vswitchd.pid"
        log = self.dir / "vswitchd.log"
        if self.kind == "real":
            argv = [str(REAL_VSWITCHD), "--enable-dummy=override", "--disable-system",
                    "--disable-system-route"]
        else:
            argv = [str(PYOVS_VSWITCHD)]
        argv += [self.db.remote, f"--pidfile={pidfile}", "--detach", "--no-chdir",
                 f"--log-file={log}", f"--unixctl={self.ctl_path}"]
        try:
            proc = subprocess.run(argv, env=self.env, cwd=self.dir, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  timeout=30)
        finally:
            with contextlib.suppress(OSError, ValueError):
                self.pid = int(pidfile.read_text().strip())
        if proc.returncode != 0 or self.pid is None:
            raise peers.ServerError(f"{argv[0]} failed ({proc.returncode}): "
                                    f"{proc.stderr.decode(errors='replace')}")
        deadline = time.monotonic() + 10
        while not self.ctl_path.exists():
            if time.monotonic() > deadline:
                raise peers.ServerError(f"{self.ctl_path} never appeared")
            time.sleep(0.02)

    @property
    def ctl_path(self) -> Path:
        return self.dir / "vswitchd.ctl"

    def close(self) -> None:
        try:
            if self._ctl is not None:
                self._ctl.close()
                self._ctl = None
            if self.pid is not None:
                for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(self.pid, sig)
                    deadline = time.monotonic() + wait
                    while peers.pid_alive(self.pid) and time.monotonic() < deadline:
                        time.sleep(0.02)
                    if not peers.pid_alive(self.pid):
                        break
                self.pid = None
        finally:
            self.db.close()
            if os.environ.get("PYOVS_KEEP_TMP") is None:
                shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = (self.dir / "vswitchd.log").read_text(errors="replace")
        except FileNotFoundError:
            return "(no vswitchd log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- tools -----------------------------------------------------------------------
    def run(self, argv: Sequence[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(argv), env=self.env, cwd=self.dir, capture_output=True,
                              text=True, timeout=timeout)

    def vsctl(self, *args: str) -> str:
        proc = self.run([str(REAL_VSCTL), f"--db={self.db.remote}", "--timeout=20", *args])
        if proc.returncode != 0:
            raise peers.ServerError(f"ovs-vsctl {' '.join(args)}: {proc.stderr}"
                                    f"\n{self.log_tail()}")
        return proc.stdout

    def ofctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run([str(REAL_OFCTL), *args])

    def appctl(self, *args: str) -> str:
        """A control command's reply; raises ``ServerError`` with an error reply."""
        if self._ctl is None:
            self._ctl = peers.RawClient(str(self.ctl_path), timeout=10)
        reply = self._ctl.call(args[0], list(args[1:]))
        if reply.get("error") is not None:
            raise peers.ServerError(f"{' '.join(args)}: {reply['error']}")
        return str(reply.get("result") or "")

    # -- dummy ports -------------------------------------------------------------------
    def add_bridge(self, bridge: str, ports: Sequence[str], *extra: str,
                   dpid: str = "0000000000000001") -> None:
        """``bridge`` with dummy ``ports`` numbered 1, 2, ... in order."""
        cmd = ["add-br", bridge, "--", "set", "bridge", bridge, "datapath_type=netdev",
               f"other_config:datapath-id={dpid}"]
        for i, port in enumerate(ports, 1):
            cmd += ["--", "add-port", bridge, port, "--", "set", "interface", port,
                    "type=dummy", f"ofport_request={i}"]
            if self.kind == "real":
                cmd.append(f"options:tx_pcap={self.dir / (port + '.pcap')}")
            self.dummy_ports.append(port)
        if extra:
            cmd += ["--", *extra]
        self.vsctl(*cmd)

    def receive(self, port: str, frame: bytes) -> None:
        self.appctl("netdev-dummy/receive", port, frame.hex())

    def _poll(self) -> int:
        """Move new output of every port into ``_sent``; how many frames were new."""
        new = 0
        for port in self.dummy_ports:
            if self.kind == "real":
                path = self.dir / (port + ".pcap")
                try:
                    frames = read_pcap(path.read_bytes())
                except FileNotFoundError:
                    frames = []
                seen = self._pcap_seen.get(port, 0)
                got = frames[seen:]
                self._pcap_seen[port] = len(frames)
            else:
                text = self.appctl("netdev-dummy/sent", port)
                got = [bytes.fromhex(line) for line in text.split()]
            if got:
                self._sent.setdefault(port, []).extend(got)
                new += len(got)
        return new

    def settle(self, quiet: float = QUIET, limit: float = 5.0) -> None:
        """Wait until no port has sent anything new for ``quiet`` seconds."""
        deadline = time.monotonic() + limit
        last = time.monotonic()
        while time.monotonic() - last < quiet and time.monotonic() < deadline:
            time.sleep(0.03)
            if self._poll():
                last = time.monotonic()

    def sent(self) -> dict[str, list[bytes]]:
        """What each dummy port sent since the last call (after ``settle``)."""
        self.settle()
        out = {port: self._sent.get(port, []) for port in self.dummy_ports}
        self._sent = {}
        return out


@contextlib.contextmanager
def switchd(kind: str, tmp_dir: Path) -> Iterator[Switchd]:
    sw = Switchd(kind, tmp_dir)
    try:
        sw.start()
        yield sw
    finally:
        sw.close()


_DURATION = re.compile(r"\b(duration[=:]?|idle_age=|hard_age=)[0-9.]+s?")
_LOG_TIME = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z\|", re.M)


def mask_times(text: str) -> str:
    """Durations, ages and log timestamps are wall-clock facts of each run."""
    return _LOG_TIME.sub("TIME|", _DURATION.sub(r"\1*", text))


def openflow_multipart(mgmt: Path, version: int, mp_type: int, body: bytes = b"",
                       timeout: float = 10.0) -> list[bytes]:
    """Send one multipart request on ``mgmt`` (a bridge's .mgmt socket); the reply parts.

    Written from the OpenFlow specs with ``struct`` alone (hello with the
    one ``version``; OFPT_STATS_REQUEST is 16 in 1.0, OFPT_MULTIPART_REQUEST
    18 from 1.1), so pyovs's library is not its own judge.  Each part is
    returned whole, header included.
    """
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(str(mgmt))
    buf = b""

    def recv_msg() -> bytes:
        nonlocal buf
        while True:
            if len(buf) >= 8:
                length = struct.unpack_from("!H", buf, 2)[0]
                if len(buf) >= length:
                    msg, buf = buf[:length], buf[length:]
                    return msg
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("switch closed the connection")
            buf += chunk

    try:
        sock.sendall(struct.pack("!BBHI", version, 0, 8, 1))
        hello = recv_msg()
        assert hello[1] == 0, hello.hex()
        request = 16 if version == 1 else 18
        head = struct.pack("!BBHIHH", version, request, 0, 2, mp_type, 0)
        if version > 1:
            head += bytes(4)
        sock.sendall(head[:2] + struct.pack("!H", len(head) + len(body)) + head[4:] + body)
        parts = []
        while True:
            msg = recv_msg()
            if msg[1] == 2:  # echo request
                sock.sendall(bytes([version, 3]) + msg[2:])
                continue
            xid = struct.unpack_from("!I", msg, 4)[0]
            if xid != 2:
                continue
            parts.append(msg)
            if msg[1] != request + 1 or not struct.unpack_from("!H", msg, 10)[0] & 1:
                return parts
    finally:
        sock.close()


class RawController:
    """An OpenFlow controller made of ``struct`` alone: listens, takes one switch, talks bytes.

    For byte-exact conversations with a switch over a *controller* connection
    (roles, async configuration...), independent of pyovs's library.
    """

    def __init__(self) -> None:
        import socket

        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self.port = self._listener.getsockname()[1]
        self.sock: socket.socket | None = None
        self._buf = b""
        self.hello = b""

    @property
    def target(self) -> str:
        return f"tcp:127.0.0.1:{self.port}"

    def accept(self, version: int, timeout: float = 15.0) -> None:
        """Take the switch's connection and say hello with ``version`` only."""
        self._listener.settimeout(timeout)
        self.sock, _ = self._listener.accept()
        self.sock.settimeout(5.0)
        self.sock.sendall(struct.pack("!BBHI", version, 0, 8, 0x7000))
        self.hello = self.recv()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self._listener.close()

    def send(self, version: int, msg_type: int, xid: int, body: bytes = b"") -> None:
        assert self.sock is not None
        self.sock.sendall(struct.pack("!BBHI", version, msg_type, 8 + len(body), xid) + body)

    def recv(self) -> bytes:
        """The next message (echo requests from the switch are answered and skipped)."""
        assert self.sock is not None
        while True:
            while len(self._buf) < 8 or len(self._buf) < struct.unpack_from("!H", self._buf,
                                                                           2)[0]:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("switch closed the connection")
                self._buf += chunk
            length = struct.unpack_from("!H", self._buf, 2)[0]
            msg, self._buf = self._buf[:length], self._buf[length:]
            if msg[1] == 2:  # echo request
                self.sock.sendall(msg[:1] + b"\x03" + msg[2:])
                continue
            return msg

    def exchange(self, version: int, msg_type: int, xid: int, body: bytes = b"",
                 n_async: int = 0) -> list[bytes]:
        """Send one message, then a barrier; everything the switch says until the barrier
        reply, and until ``n_async`` messages with xid 0 have come (OVS may send
        asynchronous messages after the barrier reply, pyovs before it)."""
        assert self.sock is not None
        self.send(version, msg_type, xid, body)
        barrier = 18 if version == 1 else 20
        self.send(version, barrier, 0xBA000000 | xid)
        out: list[bytes] = []
        seen = False
        deadline = None
        while not seen or sum(struct.unpack_from("!I", m, 4)[0] == 0 for m in out) < n_async:
            if seen:
                # Asynchronous messages still due: wait a little, not forever.
                deadline = deadline or time.monotonic() + 2.0
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.sock.settimeout(left)
            try:
                msg = self.recv()
            except TimeoutError:
                break
            finally:
                self.sock.settimeout(5.0)
            if struct.unpack_from("!I", msg, 4)[0] == 0xBA000000 | xid:
                seen = True
            else:
                out.append(msg)
        return out
