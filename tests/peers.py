"""Test peers: run an OVSDB server in a private directory and talk to it raw.

The interop and differential suites judge pyovs's own ``pyovsdb-server`` by
running the very same conversation against it and against the real
``ovsdb-server`` from the Debian packages.  Everything here is deliberately
independent of pyovs's code: the servers are started through their command
lines (the ones users type) and spoken to with a tiny JSON-RPC client written
from RFC 7047, so a bug in pyovs cannot hide itself by also being in the judge.

``DbServer`` owns one server process and its private directory:

* ``kind="real"``  -> ``/usr/bin/ovsdb-tool create`` + ``/usr/sbin/ovsdb-server``
* ``kind="pyovs"`` -> ``pyovsdb-tool create`` + ``pyovsdb-server``, taken from the
  directory of ``sys.executable`` (the venv's ``bin/``).

Both are started with the same command line (``--detach --pidfile --log-file
--unixctl --no-chdir``), stopped by pid (SIGTERM, then SIGKILL) and cleaned up
even when a test fails half-way.  ``.env`` carries ``OVS_RUNDIR``/``OVS_DBDIR``/
``OVS_LOGDIR`` pointing at the private directory, so client tools run with it
never touch the system's directories.

``RawClient`` speaks JSON-RPC 1.0 as OVS does: concatenated JSON values on a
stream with no delimiter.  Server-initiated ``echo`` requests are answered;
notifications (``update``, ``update2``, ``update3``, ``locked``, ``stolen``)
are queued for ``recv_notifications``.

``normalize`` turns responses into comparable data: UUIDs become placeholders
numbered in first-appearance order (the all-zeros UUID stays as it is), and
collections whose order is defined by UUID values (rows of a ``select``, sets
and maps holding UUIDs, tables keyed by UUID) are put into a canonical order
first.  The two rows named by an index
collision error are put in placeholder order too (the server meets them in
hash order).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SCHEMA_DIR = REPO / "src" / "pyovs" / "ovsdb" / "schemas"
SCHEMAS = {
    "vswitch": SCHEMA_DIR / "vswitch.ovsschema",
    "ovn-nb": SCHEMA_DIR / "ovn-nb.ovsschema",
    "ovn-sb": SCHEMA_DIR / "ovn-sb.ovsschema",
}

REAL_SERVER = Path("/usr/sbin/ovsdb-server")
REAL_TOOL = Path("/usr/bin/ovsdb-tool")
REAL_CLIENT = Path("/usr/bin/ovsdb-client")
REAL_VSCTL = Path("/usr/bin/ovs-vsctl")
VENV_BIN = Path(sys.executable).parent
PYOVS_SERVER = VENV_BIN / "pyovsdb-server"
PYOVS_TOOL = VENV_BIN / "pyovsdb-tool"
OWN_TOOL_ENV = "PYOVS_TEST_OWN_TOOL"
"""Set to make pyovs servers start from files made by pyovsdb-tool."""

KINDS = ("real", "pyovs")

# How long a server may take to come up; pyovs pays for a Python start-up.
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0


def real_available() -> str | None:
    """None if the real ovsdb-server can be used, else why not."""
    for path in (REAL_SERVER, REAL_TOOL):
        if not os.access(path, os.X_OK):
            return (
                f"real Open vSwitch not installed ({path} missing); "
                "install openvswitch-common/openvswitch-switch (make debs)"
            )
    return None


def pyovs_available() -> str | None:
    """None if pyovs's own server can be started, else why not."""
    for module in ("pyovs.ovsdb.server_main", "pyovs.cli.dbtool"):
        try:
            spec = importlib.util.find_spec(module)
        except ImportError:
            spec = None
        if spec is None:
            return f"pyovs's OVSDB server is not available yet ({module} missing)"
    for path in (PYOVS_SERVER, PYOVS_TOOL):
        if not os.access(path, os.X_OK):
            return f"{path} missing: reinstall the venv (pip install -e .)"
    return None


def kind_unavailable(kind: str) -> str | None:
    """None if servers of ``kind`` can run here, else the reason to skip."""
    if kind == "real":
        return real_available()
    if kind == "pyovs":
        return pyovs_available()
    raise ValueError(f"unknown server kind {kind!r}")


class ServerError(RuntimeError):
    """The server could not be created, started or reached."""


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0); reap it if it is ours.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


class DbServer:
    """One OVSDB server of ``kind`` in its own temporary directory.

    Use as a context manager, or call ``start()``/``close()``.  ``tcp=True``
    adds ``--remote=ptcp:0:127.0.0.1`` and learns the port from the log
    (``tcp_port`` is then set).  ``extra_args`` are appended to the server's
    command line.
    """

    def __init__(
        self,
        kind: str = "real",
        schema: str | os.PathLike[str] = "vswitch",
        *,
        tcp: bool = False,
        extra_args: Sequence[str] = (),
        tmp_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown server kind {kind!r}")
        self.kind = kind
        self.schema_path = Path(SCHEMAS.get(str(schema), schema))
        self.tcp = tcp
        self.extra_args = list(extra_args)
        self._own_dir = tmp_dir is None
        if tmp_dir is not None:
            Path(tmp_dir).mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=f"ovsdb-{kind}-", dir=tmp_dir))
        self.db_path = self.dir / "conf.db"
        self.sock_path = self.dir / "db.sock"
        self.pidfile = self.dir / "db.pid"
        self.log_path = self.dir / "db.log"
        self.unixctl_path = self.dir / "db.ctl"
        self.remote = f"unix:{self.sock_path}"
        self.tcp_port: int | None = None
        self.pid: int | None = None
        self.env = dict(os.environ)
        self.env.update(OVS_RUNDIR=str(self.dir), OVS_DBDIR=str(self.dir),
                        OVS_LOGDIR=str(self.dir), OVS_PKGDATADIR=str(self.dir))
        self.env.pop("OVS_DB", None)
        self._created = False

    # -- paths of the programs ---------------------------------------------

    @property
    def server_bin(self) -> Path:
        return REAL_SERVER if self.kind == "real" else PYOVS_SERVER

    @property
    def tool_bin(self) -> Path:
        return REAL_TOOL if self.kind == "real" else PYOVS_TOOL

    @property
    def tcp_remote(self) -> str:
        if self.tcp_port is None:
            raise ServerError("server was not started with tcp=True")
        return f"tcp:127.0.0.1:{self.tcp_port}"

    # -- lifecycle -----------------------------------------------------------

    def __enter__(self) -> DbServer:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def create_db(self) -> None:
        # The file format is judged elsewhere (the storage and tool tests);
        # here the C tool makes the file for both servers when it can,
        # because it starts in milliseconds and the suites start hundreds
        # of servers.
        tool = self.tool_bin
        if self.kind == "pyovs" and REAL_TOOL.exists() and not os.environ.get(OWN_TOOL_ENV):
            tool = REAL_TOOL
        proc = subprocess.run(
            [str(tool), "create", str(self.db_path), str(self.schema_path)],
            env=self.env, cwd=self.dir, capture_output=True, text=True, timeout=30,
        )
        if proc.returncode != 0:
            raise ServerError(f"{self.tool_bin} create failed ({proc.returncode}): "
                              f"{proc.stderr.strip()}")
        self._created = True

    def command(self) -> list[str]:
        cmd = [str(self.server_bin), str(self.db_path),
               f"--remote=punix:{self.sock_path}"]
        if self.tcp:
            cmd.append("--remote=ptcp:0:127.0.0.1")
        cmd += [f"--unixctl={self.unixctl_path}", f"--pidfile={self.pidfile}",
                "--detach", f"--log-file={self.log_path}", "--no-chdir"]
        return cmd + self.extra_args

    def start(self) -> None:
        if not self._created:
            self.create_db()
        with contextlib.suppress(FileNotFoundError):
            self.pidfile.unlink()
        log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
        # --detach: the launcher exits once the daemon is ready.  The daemon
        # inherits no pipe from us so that a hung daemon cannot hang the test.
        try:
            proc = subprocess.run(self.command(), env=self.env, cwd=self.dir,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise ServerError(
                f"{self.server_bin} --detach did not return within {START_TIMEOUT} s (a "
                f"daemon must close the launcher's stdout/stderr once ready)\n"
                f"{self.log_tail()}") from None
        self.pid = self._read_pid(wait=proc.returncode == 0)
        if proc.returncode != 0:
            raise ServerError(f"{self.server_bin} exited {proc.returncode}: "
                              f"{proc.stderr.decode(errors='replace').strip()}\n"
                              f"{self.log_tail()}")
        if self.pid is None:
            raise ServerError(f"{self.server_bin} wrote no pidfile {self.pidfile}")
        self._wait_socket()
        if self.tcp:
            self.tcp_port = self._learn_tcp_port(log_start)

    def _read_pid(self, wait: bool) -> int | None:
        deadline = time.monotonic() + (START_TIMEOUT if wait else 0.2)
        while True:
            try:
                text = self.pidfile.read_text().strip()
                if text:
                    return int(text)
            except (FileNotFoundError, ValueError):
                pass
            if time.monotonic() > deadline:
                return None
            time.sleep(0.01)

    def _wait_socket(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.pid is not None and not pid_alive(self.pid):
                raise ServerError(f"server pid {self.pid} died\n{self.log_tail()}")
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(str(self.sock_path))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise ServerError(f"{self.sock_path} never accepted\n"
                                      f"{self.log_tail()}") from None
                time.sleep(0.01)
            finally:
                s.close()

    def _learn_tcp_port(self, log_start: int) -> int:
        # ovsdb-server logs "socket_util|INFO|0:127.0.0.1: listening on port N";
        # failing that, the kernel knows which port the daemon listens on.
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            with contextlib.suppress(FileNotFoundError):
                with open(self.log_path, "rb") as f:
                    f.seek(log_start)
                    m = re.search(rb"listening on port (\d+)", f.read())
                if m:
                    return int(m.group(1))
            port = self._listening_port_from_proc()
            if port is not None:
                return port
            time.sleep(0.01)
        raise ServerError("cannot tell which port ptcp:0 bound\n" + self.log_tail())

    def _listening_port_from_proc(self) -> int | None:
        """The TCP port the server listens on, from /proc (Linux)."""
        if self.pid is None:
            return None
        inodes = set()
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{self.pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{self.pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
        with contextlib.suppress(OSError), open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                    return int(fields[1].split(":")[1], 16)
        return None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log file)"
        return "log tail:\n" + "\n".join(text.splitlines()[-lines:])

    def _signal_and_wait(self, sig: int, timeout: float) -> bool:
        """Send ``sig`` to the server; True once it is gone."""
        if self.pid is None:
            return True
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)
        deadline = time.monotonic() + timeout
        while pid_alive(self.pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL); keep the directory."""
        if self.pid is None:
            return
        if not self._signal_and_wait(signal.SIGTERM, STOP_TIMEOUT):
            self._signal_and_wait(signal.SIGKILL, STOP_TIMEOUT)
        self.pid = None

    def kill9(self) -> None:
        """Kill the server with SIGKILL, as a crash would."""
        self._signal_and_wait(signal.SIGKILL, STOP_TIMEOUT)
        self.pid = None

    def restart(self) -> None:
        """Stop and start again on the same database file and socket."""
        self.stop()
        with contextlib.suppress(FileNotFoundError):
            self.sock_path.unlink()
        self.start()

    def _reap_stray(self) -> None:
        """Kill a daemon that wrote its pidfile although start() failed."""
        try:
            pid = int(self.pidfile.read_text().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read()
        except (OSError, ValueError):
            return
        if str(self.db_path).encode() in cmdline:
            self.pid = pid
            self.kill9()

    def close(self) -> None:
        """Stop the server and remove the directory; safe to call twice."""
        try:
            self.stop()
            self._reap_stray()
        finally:
            if self._own_dir and os.environ.get("PYOVS_KEEP_TMP") is None:
                shutil.rmtree(self.dir, ignore_errors=True)

    def client(self, timeout: float = 5.0) -> RawClient:
        return RawClient(str(self.sock_path), timeout=timeout)

    def run_tool(self, argv: Sequence[str], *, timeout: float = 10.0,
                 check: bool = False) -> subprocess.CompletedProcess[str]:
        """Run a client tool with this server's private environment."""
        return subprocess.run(list(argv), env=self.env, cwd=self.dir, capture_output=True,
                              text=True, timeout=timeout, check=check)


# ---------------------------------------------------------------------------
# Raw JSON-RPC client


class ConnectionClosed(ConnectionError):
    """The server closed the stream."""


class RawClient:
    """A minimal JSON-RPC 1.0 client over a unix socket (RFC 7047 section 4)."""

    def __init__(self, path: str, timeout: float = 5.0) -> None:
        """``path``: a unix socket path, ``unix:PATH`` or ``tcp:HOST:PORT``."""
        if path.startswith("tcp:"):
            host, port = path[4:].rsplit(":", 1)
            self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(path.removeprefix("unix:"))
        self.timeout = timeout
        self._buf = ""
        self._decoder = json.JSONDecoder()
        self._next_id = 0
        self.notifications: list[dict[str, Any]] = []
        self.closed = False

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, msg: dict[str, Any]) -> None:
        self.send_raw(json.dumps(msg).encode())

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _pop_message(self) -> dict[str, Any] | None:
        text = self._buf.lstrip()
        if not text:
            self._buf = ""
            return None
        try:
            msg, end = self._decoder.raw_decode(text)
        except json.JSONDecodeError:
            self._buf = text
            return None
        self._buf = text[end:]
        return msg  # type: ignore[no-any-return]

    def recv(self, timeout: float | None = None) -> dict[str, Any]:
        """The next message from the server, whatever it is.

        Raises ``TimeoutError`` if none arrives in time and ``ConnectionClosed``
        if the server closed the connection.
        """
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        raw = b""
        while True:
            msg = self._pop_message()
            if msg is not None:
                return msg
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no message from server")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                raise TimeoutError("no message from server") from None
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.closed = True
                raise ConnectionClosed("server closed the connection")
            raw += chunk
            try:
                self._buf += raw.decode()
                raw = b""
            except UnicodeDecodeError:
                continue  # a multi-byte character split across reads

    def _dispatch(self, msg: dict[str, Any]) -> bool:
        """Handle a request or notification; True if ``msg`` was one."""
        if msg.get("method") is None:
            return False
        if msg.get("id") is not None:
            if msg["method"] == "echo":
                self.send({"id": msg["id"], "result": msg.get("params"), "error": None})
            else:
                self.notifications.append(msg)
            return True
        self.notifications.append(msg)
        return True

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def call(self, method: str, params: Any, *, msg_id: Any = None,
             timeout: float | None = None) -> dict[str, Any]:
        """Send a request and return the response with its id."""
        if msg_id is None:
            msg_id = self.new_id()
        self.send({"method": method, "params": params, "id": msg_id})
        return self.wait_reply(msg_id, timeout)

    def wait_reply(self, msg_id: Any, timeout: float | None = None) -> dict[str, Any]:
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            msg = self.recv(max(0.0, deadline - time.monotonic()))
            if self._dispatch(msg):
                continue
            if msg.get("id") == msg_id:
                return msg
            self.notifications.append(msg)  # a stray reply: keep it visible

    def notify(self, method: str, params: Any) -> None:
        self.send({"method": method, "params": params, "id": None})

    def recv_notifications(self, timeout: float = 0.2) -> list[dict[str, Any]]:
        """Everything queued plus whatever arrives within ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                msg = self.recv(left)
            except TimeoutError:
                break
            if not self._dispatch(msg):
                self.notifications.append(msg)
        out, self.notifications = self.notifications, []
        return out


@contextlib.contextmanager
def connect(server: DbServer, timeout: float = 5.0) -> Iterator[RawClient]:
    client = server.client(timeout)
    try:
        yield client
    finally:
        client.close()


# ---------------------------------------------------------------------------
# Normalisation

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{12}")
ZERO_UUID = "00000000-0000-0000-0000-000000000000"
_UNKNOWN = "<?>"


class UuidNumbering:
    """Replaces UUIDs by ``<0>``, ``<1>``... in first-appearance order."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def name(self, uuid: str) -> str:
        key = uuid.lower()
        if key == ZERO_UUID:
            return key  # meaningful as such (e.g. "no transaction id")
        if key not in self.names:
            self.names[key] = f"<{len(self.names)}>"
        return self.names[key]

    def peek(self, text: str) -> str:
        """``text`` with known UUIDs named and unknown ones masked (no numbering)."""
        def known(m: re.Match[str]) -> str:
            key = m.group(0).lower()
            return key if key == ZERO_UUID else self.names.get(key, _UNKNOWN)
        return UUID_RE.sub(known, text)

    def text(self, text: str) -> str:
        return _canonical_text(UUID_RE.sub(lambda m: self.name(m.group(0)), text))

    # -- JSON values ---------------------------------------------------------

    def _key(self, value: Any) -> str:
        return self.peek(json.dumps(value, sort_keys=True))

    def json(self, value: Any, *, parent_key: str | None = None) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            items = sorted(value.items(), key=lambda kv: (self.peek(kv[0]), self._key(kv[1])))
            out = {}
            for k, v in items:
                out[self.text(k)] = self.json(v, parent_key=k)
            return out
        if isinstance(value, list):
            if _is_unordered(value, parent_key):
                if value and value[0] in ("set", "map") and len(value) == 2:
                    elems = sorted(value[1], key=self._key)
                    return [value[0], [self.json(e) for e in elems]]
                return [self.json(e) for e in sorted(value, key=self._key)]
            return [self.json(e) for e in value]
        return value


# ovsdb-server names the two rows of an index collision in the order it meets
# them in a hash table, so the order of the two clauses carries no meaning.
_INDEX_PAIR_RE = re.compile(
    r"First row, with UUID <(\d+)>, (.*?)\.  Second row, with UUID <(\d+)>, (.*?)\.")


def _canonical_text(text: str) -> str:
    def order(m: re.Match[str]) -> str:
        a, b = (int(m.group(1)), m.group(2)), (int(m.group(3)), m.group(4))
        first, second = sorted([a, b])
        return (f"First row, with UUID <{first[0]}>, {first[1]}.  "
                f"Second row, with UUID <{second[0]}>, {second[1]}.")
    return _INDEX_PAIR_RE.sub(order, text)


def _contains_uuid(value: Any) -> bool:
    return UUID_RE.search(json.dumps(value)) is not None


def _is_unordered(value: list[Any], parent_key: str | None) -> bool:
    """Lists whose order the server derives from UUID values (or hashes)."""
    if parent_key == "rows":
        return True  # select results come in hash order
    if (len(value) == 2 and value[0] in ("set", "map") and isinstance(value[1], list)):
        return _contains_uuid(value[1])
    return False


def normalize(values: Any, numbering: UuidNumbering | None = None) -> Any:
    """Normalise JSON ``values`` (e.g. a list of responses) for comparison."""
    return (numbering or UuidNumbering()).json(values)


def normalize_text(text: str, numbering: UuidNumbering | None = None) -> str:
    """Normalise a tool's text output: UUIDs numbered in order of appearance."""
    return (numbering or UuidNumbering()).text(text)
