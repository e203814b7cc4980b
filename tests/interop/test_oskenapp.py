"""A real controller: os-ken's classic learning switch drives pyovs-vswitchd.

``osken_simple_switch`` (simple_switch_13: table-miss to the controller,
learn on packet-in, install a flow per known destination, packet-out) runs
in its own process, listening on ``127.0.0.1:<free port>``.  A bridge in
``fail_mode=secure`` is pointed at it with ``ovs-vsctl set-controller``;
then:

* ``Controller.is_connected`` must become true in the database (pyovs
  writes the controller's status back as ovs-vswitchd does);
* with dummy ports (no root), frames between three hosts must be flooded
  while the destination is unknown, then sent to the one right port, and
  once the controller has installed its flows, go through the datapath
  without any more packet-ins (counted in the controller's log);
* as root, two network namespaces joined by veth pairs to the bridge must
  ping each other through the controller's flows.

The dummy-port scenario runs on the real ovs-vswitchd too
(``--enable-dummy=override``), which checks the test and the app
themselves; each switch has its own datapath ID, as os-ken keys its state
by it.  Processes are stopped by pid and directories and namespaces removed
even on failure.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))

from switch_peers import Switchd, bridge_name, switchd, unavailable

pytestmark = [pytest.mark.interop]

APP = Path(__file__).resolve().parent / "osken_simple_switch.py"
H1, H2, H3 = "020000000001", "020000000002", "020000000003"
ARP_1_TO_ALL = ("ffffffffffff" + H1 + "0806" + "0001080006040001" + H1 + "0a000001"
                + "000000000000" + "0a000002")
UDP_2_TO_1 = (H1 + H2 + "0800" + "45000025123400004011" + "5492" + "0a000002" + "0a000001"
              + "003503e80011af2a" + "70796f76732d756470")
UDP_1_TO_2 = (H2 + H1 + "0800" + "45000025123400004011" + "5492" + "0a000001" + "0a000002"
              + "03e800350011af2a" + "70796f76732d756470")


def _osken_missing() -> str | None:
    if importlib.util.find_spec("os_ken") is None:
        return "os-ken not installed (pip install -e '.[test]')"
    return None


class Controller:
    """The os-ken app in a process of its own."""

    def __init__(self, tmp: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log = tmp / "osken.log"
        self.proc = subprocess.Popen(
            [sys.executable, str(APP), str(self.port), str(self.log)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(tmp / "osken.stderr", "wb"), cwd=tmp)  # noqa: SIM115
        deadline = time.monotonic() + 20
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"os-ken exited: {(tmp / 'osken.stderr').read_text()}")
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("os-ken never listened")
            time.sleep(0.1)

    @property
    def target(self) -> str:
        return f"tcp:127.0.0.1:{self.port}"

    def packet_ins(self, dpid: int) -> int:
        try:
            text = self.log.read_text()
        except FileNotFoundError:
            return 0
        return len(re.findall(rf"packet-in {dpid:016x} ", text))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture(scope="module")
def controller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Controller]:
    reason = _osken_missing()
    if reason:
        pytest.skip(reason)
    ctl = Controller(tmp_path_factory.mktemp("osken"))
    try:
        yield ctl
    finally:
        ctl.close()


def wait_for(what: str, check: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def attach(sw: Switchd, bridge: str, ctl: Controller) -> None:
    """Point ``bridge`` at the controller, secure mode, and wait until it is connected."""
    sw.vsctl("set", "bridge", bridge, "protocols=OpenFlow13", "--",
             "set-fail-mode", bridge, "secure", "--", "set-controller", bridge, ctl.target)

    def connected() -> bool:
        return sw.vsctl("--bare", "--columns=is_connected", "list", "controller").strip() \
            == "true"

    wait_for("Controller.is_connected", connected)
    wait_for("the table-miss flow", lambda: "actions=CONTROLLER:65535" in sw.ofctl(
        "-O", "OpenFlow13", "dump-flows", bridge).stdout)


@pytest.mark.parametrize("kind", ["real", "pyovs"])
def test_learning_switch_on_dummy_ports(controller: Controller, tmp_path: Path,
                                        kind: str) -> None:
    reason = unavailable(kind)
    if reason:
        pytest.skip(reason)
    dpid = secrets.randbits(48) | 1 << 48
    br = bridge_name()
    with switchd(kind, tmp_path) as sw:
        sw.add_bridge(br, ("p1", "p2", "p3"), dpid=f"{dpid:016x}")
        attach(sw, br, controller)
        assert "state=ACTIVE" in sw.vsctl("--bare", "--columns=status", "list", "controller")

        def send(port: str, hexframe: str) -> dict[str, list[bytes]]:
            sw.receive(port, bytes.fromhex(hexframe))
            return sw.sent()

        arp = bytes.fromhex(ARP_1_TO_ALL)
        assert send("p1", ARP_1_TO_ALL) == {"p1": [], "p2": [arp], "p3": [arp]}
        assert send("p2", UDP_2_TO_1) == {"p1": [bytes.fromhex(UDP_2_TO_1)], "p2": [], "p3": []}
        assert send("p1", UDP_1_TO_2) == {"p1": [], "p2": [bytes.fromhex(UDP_1_TO_2)], "p3": []}
        wait_for("three packet-ins", lambda: controller.packet_ins(dpid) == 3)

        # Both directions now have flows: no more packet-ins.
        for _ in range(3):
            assert send("p1", UDP_1_TO_2)["p2"] == [bytes.fromhex(UDP_1_TO_2)]
            assert send("p2", UDP_2_TO_1)["p1"] == [bytes.fromhex(UDP_2_TO_1)]
        time.sleep(0.5)
        assert controller.packet_ins(dpid) == 3

        def flows_counted() -> bool:
            out = sw.ofctl("-O", "OpenFlow13", "dump-flows", br).stdout
            return len(re.findall(r"n_packets=3,.* priority=1,", out)) == 2

        wait_for("the learned flows' counters", flows_counted)


def _controller_row(sw: Switchd) -> tuple[str, str, list[str]]:
    """is_connected, role and the keys of status (their values are times)."""
    out = sw.vsctl("--bare", "--columns=is_connected,role,status", "list", "controller")
    connected, role, status = [*out.strip().split("\n"), "", "", ""][:3]
    keys = sorted(item.split("=")[0] for item in status.split())
    return connected.strip(), role.strip(), keys


@contextlib.contextmanager
def _connected_pair(tmp_path: Path, ctl: Controller
                    ) -> Iterator[tuple[Switchd, Switchd]]:
    for kind in ("real", "pyovs"):
        reason = unavailable(kind)
        if reason:
            pytest.skip(reason)
    with switchd("real", tmp_path) as real, switchd("pyovs", tmp_path) as py:
        for sw in (real, py):
            br = bridge_name()
            sw.add_bridge(br, ("p1",), dpid=f"{secrets.randbits(48) | 1 << 48:016x}")
            attach(sw, br, ctl)
        yield real, py


def test_controller_row_is_connected_and_role(controller: Controller, tmp_path: Path) -> None:
    with _connected_pair(tmp_path, controller) as (real, py):
        assert _controller_row(py)[:2] == _controller_row(real)[:2] == ("true", "other")


def test_controller_status_keys(controller: Controller, tmp_path: Path) -> None:
    with _connected_pair(tmp_path, controller) as (real, py):
        assert "sec_since_connect" in _controller_row(real)[2]
        assert _controller_row(py)[2] == _controller_row(real)[2]


# --- root: namespaces, veth and ping ---------------------------------------------------

def _sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)}: {proc.stderr}")
    return proc


@contextlib.contextmanager
def _host(ns: str, ifname: str, peer: str, address: str) -> Iterator[None]:
    """Namespace ``ns`` with ``ifname`` at ``address``, cabled to ``peer`` here."""
    _sh("ip", "netns", "add", ns)
    try:
        _sh("ip", "link", "add", peer, "type", "veth", "peer", "name", ifname, "netns", ns)
        _sh("ip", "netns", "exec", ns, "sysctl", "-qw",
            f"net.ipv6.conf.{ifname}.disable_ipv6=1", check=False)
        _sh("sysctl", "-qw", f"net.ipv6.conf.{peer}.disable_ipv6=1", check=False)
        _sh("ip", "-n", ns, "link", "set", "lo", "up")
        _sh("ip", "-n", ns, "addr", "add", address, "dev", ifname)
        _sh("ip", "-n", ns, "link", "set", ifname, "up")
        _sh("ip", "link", "set", peer, "up")
        yield
    finally:
        _sh("ip", "netns", "del", ns, check=False)  # takes the veth pair with it
        _sh("ip", "link", "del", peer, check=False)


def test_ping_through_controller_flows(controller: Controller, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces, veth, AF_PACKET)")
    reason = unavailable("pyovs")
    if reason:
        pytest.skip(reason)
    from test_vsctl_namespaces import PING

    token = secrets.token_hex(3)
    dpid = secrets.randbits(48) | 1 << 48
    br = f"bo{token}"
    with _host(f"ok{token}a", "eth0", f"oa{token}", "10.83.0.1/24"), \
            _host(f"ok{token}b", "eth0", f"ob{token}", "10.83.0.2/24"), \
            switchd("pyovs", tmp_path) as sw:
        sw.vsctl("add-br", br, "--", "set", "bridge", br, "datapath_type=netdev",
                 f"other_config:datapath-id={dpid:016x}", "--",
                 "add-port", br, f"oa{token}", "--", "add-port", br, f"ob{token}")
        attach(sw, br, controller)
        ping = _sh("ip", "netns", "exec", f"ok{token}a", sys.executable, "-c", PING,
                   "10.83.0.2", "10", check=False)
        assert ping.returncode == 0, "no ping reply through the controller's flows"
        assert controller.packet_ins(dpid) >= 2
        out = sw.ofctl("-O", "OpenFlow13", "dump-flows", br).stdout
        assert out.count(" priority=1,") >= 2, out
