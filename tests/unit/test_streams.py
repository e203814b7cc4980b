"""Connection strings and the asyncio edges (pyovs.streams)."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest

from pyovs import streams
from pyovs.ovsdb.jsonrpc import JsonRpcProtocolError, Message
from pyovs.streams import JsonRpcSession, TcpTarget, UnixTarget, parse_target


@pytest.mark.parametrize(("text", "target"), [
    ("unix:/run/db.sock", UnixTarget("/run/db.sock", False)),
    ("unix:db.sock", UnixTarget("db.sock", False)),
    ("punix:/tmp/x.sock", UnixTarget("/tmp/x.sock", True)),
    ("tcp:127.0.0.1:6640", TcpTarget("127.0.0.1", 6640, False)),
    ("tcp:[::1]:6641", TcpTarget("::1", 6641, False)),
    ("tcp:db.example.org:6640", TcpTarget("db.example.org", 6640, False)),
    ("ptcp:6640", TcpTarget("0.0.0.0", 6640, True)),
    ("ptcp:0:127.0.0.1", TcpTarget("127.0.0.1", 0, True)),
    ("ptcp:6640:[::]", TcpTarget("::", 6640, True)),
    ("ptcp:6640:[fe80::1%eth0]", TcpTarget("fe80::1%eth0", 6640, True)),
])
def test_parse(text: str, target: streams.Target) -> None:
    assert parse_target(text) == target


def test_str_is_canonical() -> None:
    for text in ("unix:/a", "punix:/b", "tcp:1.2.3.4:5", "tcp:[::1]:6", "ptcp:7:0.0.0.0",
                 "ptcp:8:[::]"):
        assert str(parse_target(text)) == text


def test_default_port() -> None:
    assert parse_target("tcp:10.0.0.1", default_port=6640) == TcpTarget("10.0.0.1", 6640, False)
    assert parse_target("ptcp:", default_port=6640) == TcpTarget("0.0.0.0", 6640, True)
    assert parse_target("ptcp::127.0.0.1", default_port=1) == TcpTarget("127.0.0.1", 1, True)


@pytest.mark.parametrize(("text", "error"), [
    ("/tmp/sock", "must start with unix:, tcp:, punix: or ptcp:"),
    ("udp:1.2.3.4:5", 'unknown connection method "udp"'),
    ("ssl:1.2.3.4:6640", "SSL connections are not supported"),
    ("pssl:6640", "SSL connections are not supported"),
    ("unix:", "missing socket file name"),
    ("tcp:1.2.3.4", "port must be specified"),
    ("tcp::6640", "host must be specified"),
    ("tcp:1.2.3.4:http", 'bad port number "http"'),
    ("tcp:1.2.3.4:65536", 'bad port number "65536"'),
    ("tcp:1.2.3.4:-1", 'bad port number "-1"'),
    ("ptcp:", "port must be specified"),
    ("ptcp:6640:example.org", 'bad IP address "example.org"'),
    ("ptcp:6640:[::g]", 'bad IP address "::g"'),
])
def test_parse_errors(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error) as e:
        parse_target(text)
    assert f'"{text}"' in str(e.value)


def test_direction_is_checked() -> None:
    async def main() -> None:
        with pytest.raises(ValueError, match="expected punix: or ptcp:"):
            await streams.start_server("unix:/x", lambda r, w: None)
        with pytest.raises(ValueError, match="expected unix: or tcp:"):
            await streams.open_connection("ptcp:0")
    asyncio.run(main())


async def _echo_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    session = JsonRpcSession(reader, writer)
    try:
        while (msg := await session.recv()) is not None:
            if msg.method == "echo":
                session.send(Message.reply(msg.params, msg.id))
            await session.drain()
    except JsonRpcProtocolError:
        pass
    finally:
        session.close()


async def _roundtrip(active: str) -> list[Message | None]:
    reader, writer = await streams.open_connection(active)
    session = JsonRpcSession(reader, writer)
    for i in range(3):
        session.send(Message.request("echo", [i, "x" * 100_000], i))
    await session.drain()
    got: list[Message | None] = [await session.recv() for _ in range(3)]
    session.close()
    await session.wait_closed()
    return got


def test_ptcp_port_zero_and_tcp_session() -> None:
    async def main() -> None:
        server = await streams.start_server("ptcp:0:127.0.0.1", _echo_server)
        port = streams.bound_port(server)
        assert port > 0
        assert streams.bound_name(server) == f"ptcp:{port}:127.0.0.1"
        got = await _roundtrip(f"tcp:127.0.0.1:{port}")
        assert [m.result[0] if m else None for m in got] == [0, 1, 2]
        await streams.close_server(server)
    asyncio.run(main())


def test_punix_relative_to_rundir_and_cleanup(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVS_RUNDIR", str(tmp_path))

    async def main() -> None:
        server = await streams.start_server("punix:db.sock", _echo_server)
        assert (tmp_path / "db.sock").is_socket()
        assert streams.bound_name(server) == f"punix:{tmp_path / 'db.sock'}"
        got = await _roundtrip("unix:db.sock")
        assert [m.id if m else None for m in got] == [0, 1, 2]
        await streams.close_server(server)
        assert not (tmp_path / "db.sock").exists()
    asyncio.run(main())


def test_punix_replaces_stale_socket_but_not_live_one(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody listens

    async def main() -> None:
        server = await streams.start_server(f"punix:{path}", _echo_server)
        with pytest.raises(OSError, match="another process is listening"):
            await streams.start_server(f"punix:{path}", _echo_server)
        await streams.close_server(server)
    asyncio.run(main())

    regular = tmp_path / "file"
    regular.write_text("keep me")

    async def refuse() -> None:
        with pytest.raises(OSError, match="not a socket"):
            await streams.start_server(f"punix:{regular}", _echo_server)
    asyncio.run(refuse())
    assert regular.read_text() == "keep me"


def test_long_socket_path(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    path = deep / "long.sock"
    assert len(str(path)) > 108

    async def main() -> None:
        server = await streams.start_server(f"punix:{path}", _echo_server)
        assert path.is_socket()
        got = await _roundtrip(f"unix:{path}")
        assert [m.id if m else None for m in got] == [0, 1, 2]
        await streams.close_server(server)
        assert not path.exists()
    asyncio.run(main())


def test_connect_errors(tmp_path: Path) -> None:
    async def main() -> None:
        with pytest.raises(FileNotFoundError):
            await streams.open_connection(f"unix:{tmp_path}/nothing.sock")
        with pytest.raises(ConnectionRefusedError):
            # Port 1 on loopback: nothing listens there in a test sandbox.
            await streams.open_connection("tcp:127.0.0.1:1")
    asyncio.run(main())


def test_session_eof_and_garbage() -> None:
    async def main() -> None:
        a, b = socket.socketpair()
        reader, writer = await asyncio.open_connection(sock=a)
        session = JsonRpcSession(reader, writer, name="test")
        assert session.name == "test"
        b.sendall(b'{"method":"echo","params":[],"id":1}\n{"method"')
        assert await session.recv() == Message.request("echo", [], 1)
        b.shutdown(socket.SHUT_WR)
        assert await session.recv() is None  # the cut-off message is dropped

        c, d = socket.socketpair()
        reader, writer = await asyncio.open_connection(sock=c)
        garbage = JsonRpcSession(reader, writer)
        d.sendall(b"GET / HTTP/1.1\r\n")
        with pytest.raises(JsonRpcProtocolError):
            await garbage.recv()
        for s in (session, garbage):
            s.close()
            s.send(Message.notify("late", []))  # ignored once closing
            await s.wait_closed()
        b.close()
        d.close()
    asyncio.run(main())


def test_session_names() -> None:
    async def main() -> None:
        names: list[str] = []

        async def on_conn(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            names.append(JsonRpcSession(r, w).name)
            w.close()

        server = await streams.start_server("ptcp:0:127.0.0.1", on_conn)
        reader, writer = await streams.open_connection(
            f"tcp:127.0.0.1:{streams.bound_port(server)}")
        client = JsonRpcSession(reader, writer)
        assert client.name == f"tcp:127.0.0.1:{streams.bound_port(server)}"
        assert await client.recv() is None
        client.close()
        await streams.close_server(server)
        assert names and names[0].startswith("tcp:127.0.0.1:")
    asyncio.run(main())


def test_no_fd_leak_on_failed_connect(tmp_path: Path) -> None:
    before = len(os.listdir("/proc/self/fd"))

    async def main() -> None:
        for _ in range(20):
            with pytest.raises(OSError):
                await streams.open_connection(f"unix:{tmp_path}/missing")
    asyncio.run(main())
    assert len(os.listdir("/proc/self/fd")) <= before + 2
