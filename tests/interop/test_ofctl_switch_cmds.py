"""pyovs-ofctl's switch commands beside the real ovs-ofctl, on one real ovs-vswitchd bridge.

The bridge is ``test_ofctl_switch``'s (pyovsdb-server, the real
``ovs-vswitchd`` with a netdev bridge ``br0`` in its own namespace; root
only).  Every command runs through both tools in OpenFlow 1.0, 1.3 and
1.5 and must print the same stdout and stderr and exit the same way, with
durations masked.  Commands that change the switch run from the same
starting state for each tool (``_same_from``: set up, run, dump, undo),
so that "already exists" errors and the like come out the same too.
``monitor`` runs for both tools at once (with a flow monitor, ``watch:``),
and ``snoop`` on a controller connection to a fake controller,
while a packet-in (packet-out to CONTROLLER), a flow addition and removal
and a port addition/removal happen; the printed messages must match.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_ofctl_switch import PYOVS_OFCTL, PYOVS_VSCTL, REAL_OFCTL, _run, _skip_reason, _switch
from test_openflow_capture import FakeSwitch

pytestmark = [pytest.mark.root, pytest.mark.interop]

VERSIONS = ("OpenFlow10", "OpenFlow13", "OpenFlow15")
_DURATION = re.compile(r"(duration[=:]?)[0-9.]+s")
_LOG_TIME = re.compile(r"^[0-9-]+T[0-9:.]+Z\|", re.M)
PACKET = "ffffffffffff0000000000010800450000140000000040003a7cc0a80001c0a80002"

Same = Callable[..., str]


def _masked(result: tuple[int, str, str]) -> tuple[int, str, str]:
    rc, out, err = result
    return rc, _DURATION.sub(r"\1X", out), _LOG_TIME.sub("TIME|", _DURATION.sub(r"\1X", err))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    with _switch(tmp_path_factory.mktemp("switch")) as e:
        yield e


def _same(env: dict[str, str]) -> Same:
    def same(*args: str) -> str:
        ours = _masked(_run(PYOVS_OFCTL, env, *args))
        theirs = _masked(_run(REAL_OFCTL, env, *args))
        assert ours == theirs, (args, ours, theirs)
        return ours[1] + ours[2]
    return same


def _same_from(env: dict[str, str], setup: list[tuple[str, ...]], undo: tuple[str, ...],
               check: tuple[str, ...]) -> Same:
    """Run a changing command with each tool from the same state.

    For each tool: ``setup`` (real ovs-ofctl, after ``-O`` and the bridge),
    the command, then ``check`` (a dump, real ovs-ofctl) and ``undo``.  The
    command's output and the state it left must be the same.
    """
    def same(*args: str) -> str:
        o, bridge = args[:2], "br0"
        results = []
        for tool in (REAL_OFCTL, PYOVS_OFCTL):
            for step in setup:
                _run(REAL_OFCTL, env, *o, step[0], bridge, *step[1:])
            result = _masked(_run(tool, env, *args))
            after = _masked(_run(REAL_OFCTL, env, *o, check[0], bridge, *check[1:]))
            _run(REAL_OFCTL, env, *o, undo[0], bridge, *undo[1:])
            results.append((result, after))
        assert results[0] == results[1], (args, results)
        return results[1][0][1] + results[1][0][2]
    return same


@pytest.mark.parametrize("version", VERSIONS)
def test_dumps_and_ports(env: dict[str, str], version: str) -> None:
    same = _same(env)
    o = ("-O", version)
    assert "Manufacturer: Nicira" in same(*o, "dump-desc", "br0")
    assert "table 0" in same(*o, "dump-tables", "br0")
    same(*o, "dump-table-desc", "br0")
    same(*o, "dump-table-features", "br0")
    for args in ((), ("LOCAL",), ("br0",), ("65534",), ("nosuch",)):
        same(*o, "dump-ports", "br0", *args)
        same(*o, "dump-ports-desc", "br0", *args)
    same(*o, "queue-stats", "br0")
    for command in ("show", "dump-ports", "dump-ports-desc", "dump-tables"):
        same(*o, "--names", command, "br0")
    same(*o, "queue-stats", "br0", "LOCAL", "1")
    same(*o, "queue-stats", "br0", "nosuch")
    same(*o, "queue-get-config", "br0")
    same(*o, "queue-get-config", "br0", "LOCAL")
    same(*o, "queue-get-config", "br0", "1", "2")
    same(*o, "get-frags", "br0")
    tables = _same_from(env, [], ("mod-table", "2", "noevict"), ("dump-table-desc",))
    for setting in ("evict", "vacancy:10,90", "drop", "vacancy:90,10"):
        tables(*o, "mod-table", "br0", "2", setting)
    same(*o, "mod-table", "br0", "2", "novacancy")
    tlv = _same_from(env, [("add-tlv-map", "{class=0xffff,type=0,len=4}->tun_metadata0")],
                     ("del-tlv-map",), ("dump-tlv-map",))
    for args in (("add-tlv-map", "br0", "{class=1,type=2,len=8}->tun_metadata1,"
                  "{class=0x1,type=3,len=12}->tun_metadata2"),
                 ("add-tlv-map", "br0", "{class=0xffff,type=0,len=4}->tun_metadata0"),
                 ("add-tlv-map", "br0", "bogus"), ("dump-tlv-map", "br0"),
                 ("del-tlv-map", "br0", "{class=0xffff,type=0,len=4}->tun_metadata0"),
                 ("del-tlv-map", "br0", "{class=0xffff,type=0,len=4}->tun_metadata5"),
                 ("del-tlv-map", "br0")):
        tlv(*o, *args)
    names = _same_from(env, [], ("mod-table", "2", "name:"), ("dump-table-features",))
    names(*o, "mod-table", "br0", "2", "name:lookup")
    names(*o, "mod-table", "br0", "255", "name:x")
    frags = _same_from(env, [], ("set-frags", "normal"), ("get-frags",))
    for mode in ("drop", "reassemble", "nx-match", "bogus"):
        frags(*o, "set-frags", "br0", mode)
    same(*o, "probe", "br0")
    same(*o, "dump-group-features", "br0")
    same(*o, "meter-features", "br0")
    same(*o, "mod-port", "br0", "br0", "no-flood")
    same(*o, "mod-port", "br0", "LOCAL", "flood")
    same(*o, "mod-port", "br0", "65534", "noreceive")
    same(*o, "mod-port", "br0", "br0", "receive")
    same(*o, "mod-port", "br0", "nosuch", "up")
    same(*o, "mod-port", "br0", "br0", "sideways")
    same(*o, "dump-desc", "nosuch")
    same(*o, "dump-ipfix-bridge", "br0")
    same(*o, "dump-ipfix-flow", "br0")
    same(*o, "ct-flush-zone", "br0", "5")
    same(*o, "ct-flush-zone", "br0", "70000")
    same(*o, "ct-flush", "br0")
    same(*o, "ct-flush", "br0", "zone=5", "ct_nw_src=10.0.0.1,ct_nw_dst=10.0.0.2,"
         "ct_nw_proto=6,ct_tp_src=1,ct_tp_dst=2", "ct_nw_src=10.0.0.2")
    same(*o, "ct-flush", "br0", "ct_ipv6_src=::1,ct_nw_dst=1.2.3.4")


@pytest.mark.parametrize("version", VERSIONS)
def test_groups(env: dict[str, str], version: str) -> None:
    same = _same(env)
    undo, check = ("del-groups",), ("dump-groups",)
    mod = _same_from(env, [], undo, check)
    o = ("-O", version)
    texts = ["group_id=1,type=all,bucket=output:1,bucket=output:2",
             "group_id=2,type=select,selection_method=hash,fields=ip_src,"
             "bucket=weight:10,actions=output:1",
             "group_id=3,type=ff,bucket=watch_port:1,output:1",
             "group_id=8,type=all,bucket=watch_port:br0,output:1"]
    if version == "OpenFlow13":
        # Text errors come before any connection: one version is enough.
        texts += ["group_id=4,type=indirect,bucket=output:1,bucket=output:2",
                  "group_id=5,type=bogus", "type=all", "group_id=6,type=ff,bucket=output:1",
                  "group_id=7,type=all,bucket=actions=bogus",
                  "group_id=9,type=all,bucket_id=5,bucket=output:1"]
    for text in texts:
        mod(*o, "add-group", "br0", text)
    mod(*o, "add-group", "br0")
    groups = [("add-group", "group_id=1,type=all,bucket=output:1,bucket=output:2"),
              ("add-group", "group_id=2,type=select,bucket=output:1,bucket=output:2")]
    with_groups = _same_from(env, groups, undo, check)
    with_groups(*o, "add-group", "br0", "group_id=1,type=all,bucket=output:3")
    with_groups(*o, "mod-group", "br0", "group_id=1,type=indirect,bucket=output:3")
    with_groups(*o, "mod-group", "br0", "group_id=99,type=all,bucket=output:3")
    with_groups(*o, "--may-create", "mod-group", "br0", "group_id=99,type=all,bucket=output:3")
    with_groups(*o, "insert-buckets", "br0",
                "group_id=2,command_bucket_id=last,bucket=output:4")
    with_groups(*o, "insert-buckets", "br0", "group_id=2,bucket=output:4")
    with_groups(*o, "remove-buckets", "br0", "group_id=2,command_bucket_id=first")
    with_groups(*o, "del-groups", "br0", "group_id=1")
    with_groups(*o, "del-groups", "br0", "group_id=1,type=all")
    with_groups(*o, "del-groups", "br0")
    for step in groups:
        _run(REAL_OFCTL, env, *o, step[0], "br0", step[1])
    assert "group_id=1" in same(*o, "dump-groups", "br0")
    same(*o, "dump-groups", "br0", "1")
    same(*o, "dump-groups", "br0", "x")
    same(*o, "dump-group-stats", "br0")
    same(*o, "dump-group-stats", "br0", "group_id=1")
    same(*o, "dump-group-stats", "br0", "group_id=x")
    _run(REAL_OFCTL, env, *o, "del-groups", "br0")


@pytest.mark.parametrize("version", VERSIONS)
def test_meters(env: dict[str, str], version: str) -> None:
    same = _same(env)
    undo, check = ("del-meters",), ("dump-meters",)
    mod = _same_from(env, [], undo, check)
    o = ("-O", version)
    texts = ["meter=1,kbps,band=type=drop,rate=100",
             "meter=2,pktps,burst,stats,bands=type=drop,rate=100,burst_size=10",
             "meter=3,kbps"]
    if version == "OpenFlow13":
        texts += ["meter=3,band=type=drop,rate=1", "meter=3,kbps,band=type=dscp_remark,rate=1",
                  "meter=3,kbps,band=rate=1", "meter=0,kbps,band=type=drop,rate=1",
                  "meter=3,kbps,band=type=drop,rate=1,x=1",
                  "meter=3,kbps,band=type=drop,rate=1,burst_size=4"]
    for text in texts:
        mod(*o, "add-meter", "br0", text)
    meters = [("add-meter", "meter=1,kbps,band=type=drop,rate=100")]
    with_meters = _same_from(env, meters, undo, check)
    with_meters(*o, "add-meter", "br0", "meter=1,kbps,band=type=drop,rate=100")
    with_meters(*o, "mod-meter", "br0", "meter=1,pktps,band=type=drop,rate=200")
    with_meters(*o, "del-meter", "br0", "meter=7")
    with_meters(*o, "del-meter", "br0", "meter=1")
    with_meters(*o, "del-meters", "br0")
    _run(REAL_OFCTL, env, *o, *meters[0][:1], "br0", *meters[0][1:])
    same(*o, "dump-meters", "br0")
    same(*o, "dump-meter", "br0", "meter=1")
    same(*o, "dump-meters", "br0", "meter=x")
    same(*o, "meter-stats", "br0")
    same(*o, "meter-stats", "br0", "meter=1")
    _run(REAL_OFCTL, env, *o, "del-meters", "br0")


@pytest.mark.parametrize("version", VERSIONS)
def test_packet_out(env: dict[str, str], version: str) -> None:
    same = _same(env)
    o = ("-O", version)
    texts = [f"in_port=LOCAL packet={PACKET} actions=drop",
             f"in_port=controller,packet={PACKET},actions=output:LOCAL",
             f"in_port=1 reg0=5 packet={PACKET} actions=output:2",
             f"in_port=1 packet={PACKET} actions=set_field:1->reg0,output:2",
             f"in_port=nosuch packet={PACKET} actions=drop"]
    if version == "OpenFlow13":
        texts += ["in_port=LOCAL packet=00 actions=drop", "in_port=LOCAL actions=drop",
                  f"in_port=LOCAL packet={PACKET} actions=bogus",
                  f"in_port=1 ip_src=1.2.3.4 packet={PACKET} actions=drop",
                  f"in_port=LOCAL packet={PACKET}xx actions=drop"]
    for text in texts:
        same(*o, "packet-out", "br0", text)
    same(*o, "packet-out", "br0", "LOCAL", "drop", PACKET, PACKET)
    same(*o, "packet-out", "br0", "LOCAL", "drop")
    same(*o, "packet-out", "br0", "nosuch", "drop", PACKET)


def test_offline_and_errors(env: dict[str, str], tmp_path: Path) -> None:
    same = _same(env)
    same("-O", "OpenFlow13", "dump-table-desc", "br0")
    same("-O", "OpenFlow13", "monitor", "br0", "invalid_ttl")
    same("monitor", "br0", "bogus")
    same("-P", "bogus", "monitor", "br0")
    same("monitor", "br0", "watch:bogus=1")
    same("monitor", "br0", "watch:table=x")
    same("mod-port", "br0", "br0")
    same("benchmark", "br0", "70000", "1")
    timing = re.compile(r"(time=|Finished in |\(|\) \()[0-9.]+")
    for args in (("ping", "br0", "8"), ("-O", "OpenFlow13", "ping", "br0"),
                 ("benchmark", "br0", "100", "20")):
        ours, theirs = (_run(tool, env, *args) for tool in (PYOVS_OFCTL, REAL_OFCTL))
        assert timing.sub(r"\1X", ours[1]) == timing.sub(r"\1X", theirs[1])
        assert (ours[0], ours[2]) == (theirs[0], theirs[2])
    capture = tmp_path / "capture"
    capture.write_bytes(bytes.fromhex("01000008000000010100000800000002"))
    same("ofp-parse", str(capture))
    capture.write_bytes(bytes.fromhex("0100000800"))
    same("ofp-parse", str(capture))
    same("ofp-parse", str(tmp_path / "missing"))


def _monitor(env: dict[str, str], tmp: Path, version: str, *args: str,
             command: str = "monitor") -> list[str]:
    """Both tools' ``monitor`` (or ``snoop``) output while a packet-in, a flow removal
    and a port addition happen.

    The tools are ready when each has printed a warm-up packet-in; what each
    prints after that point is compared.
    """
    o = ("-O", version)
    logs = [tmp / f"{tool.name}.{version}.err" for tool in (REAL_OFCTL, PYOVS_OFCTL)]
    procs = []
    for tool, log in zip((REAL_OFCTL, PYOVS_OFCTL), logs, strict=True):
        with log.open("w") as f:
            procs.append(subprocess.Popen([str(tool), *o, command, "br0", *args],
                                          stdout=f, stderr=f, text=True, env=env))
    try:
        deadline = time.monotonic() + 20
        while not all("PACKET_IN" in log.read_text() for log in logs):
            assert time.monotonic() < deadline, "monitors did not start"
            _run(REAL_OFCTL, env, *o, "packet-out", "br0",
                 f"in_port=LOCAL packet={PACKET} actions=controller")
            time.sleep(0.3)
        time.sleep(0.5)
        starts = [len(log.read_text()) for log in logs]
        _run(REAL_OFCTL, env, *o, "packet-out", "br0",
             f"in_port=LOCAL packet={PACKET} actions=controller")
        _run(REAL_OFCTL, env, *o, "add-flow", "br0", "priority=7,tcp,send_flow_rem,actions=drop")
        _run(REAL_OFCTL, env, *o, "del-flows", "br0", "tcp")
        port = f"pm{version[-2:]}{len(args)}"
        vsctl = [str(PYOVS_VSCTL), "--timeout=20"]
        subprocess.run([*vsctl, "add-port", "br0", port, "--", "set", "Interface", port,
                        "type=internal"], env=env, check=True, capture_output=True)
        time.sleep(1.5)
        subprocess.run([*vsctl, "del-port", "br0", port], env=env, check=True,
                       capture_output=True)
        time.sleep(1.5)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
    outs = []
    for p, log, start in zip(procs, logs, starts, strict=True):
        p.wait(timeout=20)
        assert p.returncode == -signal.SIGTERM
        outs.append(_LOG_TIME.sub("TIME|", _DURATION.sub(r"\1X", log.read_text()[start:])))
    return outs


@pytest.mark.parametrize("version", VERSIONS)
def test_monitor(env: dict[str, str], tmp_path: Path, version: str) -> None:
    theirs, ours = _monitor(env, tmp_path, version, "65534", "watch:")
    assert ours == theirs
    assert "PACKET_IN" in ours and "OFPT_FLOW_REMOVED" in ours
    assert "event=ADDED" in ours and "event=DELETED reason=delete" in ours
    assert "PORT_STATUS" in ours and "ADD:" in ours


def test_monitor_packet_in_format(env: dict[str, str], tmp_path: Path) -> None:
    theirs, ours = _monitor(env, tmp_path, "OpenFlow10", "-P", "openflow10", "100",
                            "invalid_ttl")
    assert ours == theirs
    assert "OFPT_PACKET_IN (xid=0x0)" in ours


def test_monitor_timestamp(env: dict[str, str]) -> None:
    for tool in (REAL_OFCTL, PYOVS_OFCTL):
        p = subprocess.Popen([str(tool), "--timestamp", "monitor", "br0", "65534"],
                             stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(10):
            time.sleep(0.3)
            _run(REAL_OFCTL, env, "packet-out", "br0",
                 f"in_port=LOCAL packet={PACKET} actions=controller")
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=20)
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}: NXT_PACKET_IN2 ", err), err


def test_snoop(env: dict[str, str], tmp_path: Path) -> None:
    """``snoop`` shows a controller connection's traffic (in the controller's version)."""
    sock = Path(env["OVS_RUNDIR"]) / "fakectl.sock"
    controller = FakeSwitch(str(sock))
    vsctl = [str(PYOVS_VSCTL), "--timeout=20"]
    try:
        subprocess.run([*vsctl, "set-controller", "br0", f"unix:{sock}"], env=env, check=True,
                       capture_output=True)
        deadline = time.monotonic() + 20
        while not controller.received:
            assert time.monotonic() < deadline, "ovs-vswitchd did not connect"
            time.sleep(0.1)
        theirs, ours = _monitor(env, tmp_path, "OpenFlow10", command="snoop")
        assert ours == theirs
        assert "OFPT_PACKET_IN (OF1.5)" in ours and "OFPT_FLOW_REMOVED" in ours
    finally:
        subprocess.run([*vsctl, "del-controller", "br0"], env=env, capture_output=True,
                       check=False)
        controller.close()


APPCTL = Path("/usr/bin/ovs-appctl")


def _control_session(env: dict[str, str], tool: Path, tmp: Path) -> tuple[str, str, str]:
    """A monitor steered through its control socket: (appctl replies, stderr, output file)."""
    ctl = tmp / f"{tool.name}.ctl"
    err = tmp / f"{tool.name}.err"
    out2 = tmp / f"{tool.name}.out2"
    with err.open("w") as f:
        proc = subprocess.Popen([str(tool), "-O", "OpenFlow13", "monitor", "br0", "65534",
                                 f"--unixctl={ctl}"], stdout=f, stderr=f, env=env)
    replies = []
    try:
        deadline = time.monotonic() + 20
        while not ctl.exists():
            assert time.monotonic() < deadline, "no control socket"
            time.sleep(0.1)
        for args in (("ofctl/send", "0402000800000063"), ("ofctl/send", "04020008000000"),
                     ("ofctl/send", "0402000900000063", "0402000800000064"),
                     ("ofctl/barrier",),
                     ("ofctl/packet-out", f"in_port=LOCAL packet={PACKET} actions=controller"),
                     ("ofctl/packet-out", "in_port=LOCAL actions=drop"),
                     ("ofctl/block",), ("ofctl/block",), ("ofctl/unblock",),
                     ("ofctl/unblock",), ("ofctl/set-output-file", str(out2)),
                     ("ofctl/send", "0402000800000065"), ("ofctl/bogus",), ("exit",)):
            p = subprocess.run([str(APPCTL), "-t", str(ctl), *args], capture_output=True,
                               text=True, env=env, timeout=20, check=False)
            replies.append(f"{p.returncode} {p.stdout}{p.stderr.replace(str(ctl), 'CTL')}")
            if args[0] == "ofctl/barrier":
                time.sleep(0.5)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    replies.append(f"exit {proc.returncode}")
    return ("".join(replies), _LOG_TIME.sub("TIME|", err.read_text()),
            out2.read_text() if out2.exists() else "")


def test_monitor_control_socket(env: dict[str, str], tmp_path: Path) -> None:
    """ovs-appctl's ofctl/send, barrier, packet-out, block, set-output-file and exit."""
    if not APPCTL.exists():
        pytest.skip("needs ovs-appctl")
    theirs = _control_session(env, REAL_OFCTL, tmp_path)
    ours = _control_session(env, PYOVS_OFCTL, tmp_path)
    assert ours == theirs
    assert "sent" in ours[0] and "already blocking" in ours[0]


def test_monitor_detached(env: dict[str, str], tmp_path: Path) -> None:
    """``monitor --detach --pidfile``: found by ``ovs-appctl -t PROGRAM``, prints to its stderr."""
    if not APPCTL.exists():
        pytest.skip("needs ovs-appctl")
    logs = []
    for tool in (REAL_OFCTL, PYOVS_OFCTL):
        log = tmp_path / f"{tool.name}.detached"
        with log.open("w") as f:
            started = subprocess.run([str(tool), "-O", "OpenFlow13", "monitor", "br0", "65534",
                                      "--detach", "--no-chdir", "--pidfile"], stderr=f,
                                     env=env, timeout=30, check=False)
        assert started.returncode == 0
        _run(REAL_OFCTL, env, "-O", "OpenFlow13", "packet-out", "br0",
             f"in_port=LOCAL packet={PACKET} actions=controller")
        time.sleep(1)
        stopped = subprocess.run([str(APPCTL), "-t", tool.name, "exit"], env=env,
                                 capture_output=True, timeout=30, check=False)
        assert stopped.returncode == 0
        time.sleep(0.5)
        assert not (Path(env["OVS_RUNDIR"]) / f"{tool.name}.pid").exists()
        logs.append(log.read_text())
    assert logs[0] == logs[1]
    assert "NXT_PACKET_IN2 (OF1.3)" in logs[1]


def test_monitor_resumes_paused_packets(env: dict[str, str], tmp_path: Path) -> None:
    """``monitor ... resume`` sends a paused packet's continuation back (NXT_RESUME)."""
    _run(REAL_OFCTL, env, "add-flow", "br0",
         "priority=100,ip,actions=controller(pause),mod_nw_ttl:5")
    logs = []
    try:
        for tool in (REAL_OFCTL, PYOVS_OFCTL):
            log = tmp_path / f"{tool.name}.resume"
            with log.open("w") as f:
                proc = subprocess.Popen([str(tool), "monitor", "br0", "resume"], stderr=f,
                                        env=env)
            deadline = time.monotonic() + 20
            while "NXT_RESUME" not in log.read_text():
                assert time.monotonic() < deadline, "no packet was resumed"
                _run(REAL_OFCTL, env, "packet-out", "br0",
                     f"in_port=LOCAL packet={PACKET} actions=table")
                time.sleep(0.5)
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
            text = _LOG_TIME.sub("TIME|", log.read_text())
            first = text.index("NXT_PACKET_IN2")
            logs.append(text[first:text.index("\n", text.index("send: NXT_RESUME")) + 1])
    finally:
        _run(REAL_OFCTL, env, "del-flows", "br0", "ip")
    assert logs[0] == logs[1]
