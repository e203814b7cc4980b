"""The control socket server and client (pyovs.unixctl)."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from pyovs import __version__
from pyovs.daemon import Pidfile
from pyovs.ovsdb.jsonrpc import JsonRpcStream, Message
from pyovs.unixctl import (
    UnixctlClient,
    UnixctlError,
    UnixctlServer,
    UnixctlTargetError,
    UnixctlTransactionError,
    program_version,
    resolve_target,
    unixctl_call,
)
from pyovs.vlog import Vlog

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def make_server() -> UnixctlServer:
    server = UnixctlServer("pyovs-test")
    server.register("echo", "ARG...", 1, 3, lambda args: " ".join(args))
    server.register("empty", "", 0, 0, lambda args: None)
    server.register("newline", "", 0, 0, lambda args: "done\n")
    server.register("fail", "", 0, 0, _fail)
    server.register("boom", "", 0, 0, _boom)

    async def slow(args: list[str]) -> str:
        await asyncio.sleep(0)
        return "async " + args[0]
    server.register("slow", "X", 1, 1, slow)
    return server


def _fail(args: list[str]) -> str:
    raise UnixctlError("it failed")


def _boom(args: list[str]) -> str:
    raise KeyError("surprise")


# -- the command table -----------------------------------------------------------

@pytest.mark.parametrize(("method", "params", "expected"), [
    ("nope", [], (False, '"nope" is not a valid command (use "list-commands" to see a list '
                         'of valid commands)\n')),
    ("echo", [], (False, '"echo" command requires at least 1 arguments\n')),
    ("echo", ["a", "b", "c", "d"], (False, '"echo" command takes at most 3 arguments\n')),
    ("echo", ["a", 1], (False, '"echo" command has non-string argument\n')),
    ("echo", ["a", "b"], (True, "a b\n")),
    ("empty", [], (True, "")),
    ("newline", [], (True, "done\n")),
    ("fail", [], (False, "it failed\n")),
    ("slow", ["x"], (True, "async x\n")),
    ("version", [], (True, f"pyovs-test (pyovs) {__version__}\n")),
])
def test_run_command(method: str, params: list[object],
                     expected: tuple[bool, str]) -> None:
    assert run(make_server().run_command(method, params)) == expected


def test_handler_crash_becomes_error_reply() -> None:
    ok, text = run(make_server().run_command("boom", []))
    assert not ok
    assert text == "\"boom\" command failed: KeyError: 'surprise'\n"


def test_list_commands_format_matches_ovs() -> None:
    server = make_server()
    server.register("ovsdb-server/memory-trim-on-compaction", "on|off", 1, 1, lambda a: "")
    ok, text = run(server.run_command("list-commands", []))
    assert ok
    assert text == (
        "The available commands are:\n"
        "  boom                    \n"
        "  echo                    ARG...\n"
        "  empty                   \n"
        "  fail                    \n"
        "  list-commands           \n"
        "  newline                 \n"
        "  ovsdb-server/memory-trim-on-compaction on|off\n"
        "  slow                    X\n"
        "  version                 \n")


def test_register_checks() -> None:
    server = make_server()
    with pytest.raises(ValueError, match="already registered"):
        server.register("echo", "", 0, 0, lambda a: "")
    with pytest.raises(ValueError, match="bad argument counts"):
        server.register("x", "", 2, 1, lambda a: "")


def test_vlog_commands_registered() -> None:
    server = UnixctlServer("p")
    server.register_vlog(Vlog("p"))
    assert {"vlog/set", "vlog/list", "vlog/list-pattern", "vlog/reopen",
            "vlog/close"} <= set(server.commands)
    ok, text = run(server.run_command("vlog/set", ["nosuchmodule"]))
    assert (ok, text) == (False, 'no destination, level, or module "nosuchmodule"\n')
    ok, text = run(server.run_command("vlog/reopen", []))
    assert (ok, text) == (False, "Logging to file not configured\n")
    assert server.commands["vlog/set"].usage == "{spec | PATTERN:destination:pattern}"


def test_handle_builds_replies() -> None:
    server = make_server()
    assert run(server.handle(Message.request("echo", ["x"], 7))) == Message.reply("x\n", 7)
    assert run(server.handle(Message.request("fail", [], "i"))) == \
        Message.error_reply("it failed\n", "i")


def test_program_version() -> None:
    assert program_version("pyovsdb-server") == f"pyovsdb-server (pyovs) {__version__}"


# -- over a socket ---------------------------------------------------------------


class Running:
    """A UnixctlServer on an event loop in a background thread."""

    def __init__(self, server: UnixctlServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(server.start(), self.loop).result(10)

    @property
    def path(self) -> str:
        assert self.server.path is not None
        return self.server.path

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def rundir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("OVS_RUNDIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def running(rundir: Path) -> Iterator[Running]:
    r = Running(make_server())
    yield r
    r.stop()


def test_default_socket_name_and_removal(rundir: Path) -> None:
    r = Running(make_server())
    try:
        assert r.path == f"{rundir}/pyovs-test.{os.getpid()}.ctl"
        assert Path(r.path).is_socket()
    finally:
        r.stop()
    assert not Path(r.path).exists()


def test_call_over_socket(running: Running) -> None:
    assert unixctl_call(running.path, "echo", ["a", "b"]) == (True, "a b\n")
    assert unixctl_call(running.path, "fail", []) == (False, "it failed\n")
    assert unixctl_call(running.path, "slow", ["y"], timeout=5) == (True, "async y\n")


def test_relative_path_is_in_rundir(running: Running) -> None:
    assert unixctl_call(os.path.basename(running.path), "echo", ["r"]) == (True, "r\n")


def test_several_requests_on_one_connection(running: Running) -> None:
    with UnixctlClient.connect(running.path) as client:
        for i in range(5):
            assert client.transact("echo", [str(i)]) == (True, f"{i}\n")


def _raw(path: str, data: bytes) -> list[Message | None]:
    """Send raw bytes; collect replies until the server closes the connection."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(data)
        stream = JsonRpcStream()
        out: list[Message | None] = []
        while chunk := s.recv(4096):
            stream.receive_data(chunk)
            while (m := stream.next_message()) is not None:
                out.append(m)
        return out


def test_pipelined_requests_are_answered_in_order(running: Running) -> None:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(5)
        s.connect(running.path)
        s.sendall(b'{"method":"slow","params":["1"],"id":1}'
                  b'{"method":"echo","params":["2"],"id":2}')
        stream = JsonRpcStream()
        got: list[Message] = []
        while len(got) < 2:
            stream.receive_data(s.recv(4096))
            while (m := stream.next_message()) is not None:
                got.append(m)
    assert [(m.id, m.result) for m in got] == [(1, "async 1\n"), (2, "2\n")]


def test_notification_closes_the_connection(running: Running) -> None:
    assert _raw(running.path, b'{"method":"echo","params":["x"],"id":null}') == []
    # The server is still fine for others.
    assert unixctl_call(running.path, "echo", ["ok"]) == (True, "ok\n")


def test_garbage_closes_the_connection(running: Running) -> None:
    got = _raw(running.path, b'{"method":"echo","params":["x"],"id":1} hello')
    assert got == [Message.reply("x\n", 1)]


def test_client_errors(rundir: Path) -> None:
    with pytest.raises(FileNotFoundError):
        unixctl_call(str(rundir / "missing.ctl"), "version", [])
    path = rundir / "fake.ctl"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen()

        def serve(reply: bytes) -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(4096)
                conn.sendall(reply)

        for reply, reason in ((b"", "End of file"),
                              (b'{"id":0,"result":["not","text"],"error":null}',
                               "Invalid argument"),
                              (b"junk", "Protocol error")):
            t = threading.Thread(target=serve, args=(reply,))
            t.start()
            with pytest.raises(UnixctlTransactionError, match=reason):
                unixctl_call(str(path), "version", [], timeout=5)
            t.join()


def test_resolve_target(rundir: Path) -> None:
    assert resolve_target("/abs/x.ctl") == "/abs/x.ctl"
    with pytest.raises(UnixctlTargetError) as e:
        resolve_target("nosuch")
    assert str(e.value) == \
        f'cannot read pidfile "{rundir}/nosuch.pid" (No such file or directory)'
    (rundir / "stale.pid").write_text("12345\n")
    with pytest.raises(UnixctlTargetError, match=r"\(No such process\)"):
        resolve_target("stale")
    pidfile = Pidfile(str(rundir / "mine.pid"))
    pidfile.create()
    try:
        assert resolve_target("mine") == f"{rundir}/mine.{os.getpid()}.ctl"
    finally:
        pidfile.remove()


def test_none_means_no_socket(rundir: Path) -> None:
    server = UnixctlServer("p", "none")
    run(server.start())
    assert server.path is None
    assert list(rundir.iterdir()) == []
    run(server.close())


def test_explicit_relative_path(rundir: Path) -> None:
    async def main() -> None:
        server = UnixctlServer("p", "ctl/sock")
        (rundir / "ctl").mkdir()
        await server.start()
        assert server.path == f"{rundir}/ctl/sock"
        await server.close()
    run(main())
