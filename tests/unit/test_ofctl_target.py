"""pyovs-ofctl finds a switch as ovs-ofctl does (``open_vconn__``)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pyovs.cli.cmdline import Fatal
from pyovs.cli.ofctl_target import Target, candidates, open_target


def test_candidates_order() -> None:
    assert candidates("br0", "/run") == Target(None, ("br0", "/run/br0.mgmt", "/run/br0.mgmt"))
    assert candidates("netdev@br1", "/run") == Target(
        None, ("netdev@br1", "/run/netdev@br1.mgmt", "/run/br1.mgmt"))
    assert candidates("unix:/x/y", "/run") == Target("unix:/x/y")
    assert candidates("tcp:127.0.0.1:6653") == Target("tcp:127.0.0.1:6653")


def test_candidates_use_ovs_rundir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVS_RUNDIR", "/some/dir")
    assert candidates("br0").paths[1] == "/some/dir/br0.mgmt"


def _listener(path: Path) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.listen(1)
    return s


def test_bridge_name_finds_mgmt_socket(tmp_path: Path) -> None:
    with _listener(tmp_path / "br0.mgmt"), open_target("br0", str(tmp_path)) as s:
        assert s.family == socket.AF_UNIX
    with _listener(tmp_path / "br1.mgmt"), open_target("netdev@br1", str(tmp_path)):
        pass
    with _listener(tmp_path / "sock"), open_target(str(tmp_path / "sock"), str(tmp_path)):
        pass
    with _listener(tmp_path / "s2"), open_target(f"unix:{tmp_path}/s2", str(tmp_path)):
        pass


def test_errors_word_as_ovs_ofctl(tmp_path: Path) -> None:
    with pytest.raises(Fatal, match=r"^nosuch is not a bridge or a socket$"):
        open_target("nosuch", str(tmp_path))
    plain = tmp_path / "plain"
    plain.write_text("")
    with pytest.raises(Fatal, match=rf"^{plain}: failed to open socket \(Connection refused\)$"):
        open_target(str(plain), str(tmp_path))
    with pytest.raises(Fatal, match=r"^connecting to unix:/nonexistent/x \(No such file"):
        open_target("unix:/nonexistent/x")
    with pytest.raises(Fatal, match=r"^connecting to foo:bar \(Address family not supported"):
        open_target("foo:bar")


def test_tcp_target() -> None:
    with socket.create_server(("127.0.0.1", 0)) as srv:
        port = srv.getsockname()[1]
        with open_target(f"tcp:127.0.0.1:{port}") as s:
            assert s.getpeername()[1] == port
