"""pyovs-ofctl's flow-table commands against the real ovs-ofctl, on one real bridge.

The switch is ``test_ofctl_switch``'s (pyovsdb-server plus the real
ovs-vswitchd, netdev datapath, in a network namespace of its own; root
only), with two internal ports, ``p1`` and ``"p-2"`` (a name that must be
quoted), and table 1 named ``mytab``, so that ``--names`` has names to
fetch, accept and print.  For OpenFlow 1.0, 1.3 and 1.5 every command of
the flow group runs through both tools -- by bridge name, as a user types
it -- and must print the same bytes on stdout and stderr (durations, ages
and log timestamps masked) with the same exit status:

* read-only commands (``dump-flows`` with filters, names, ``--sort``,
  ``--rsort``, ``--no-stats``; ``dump-aggregate``; ``diff-flows``) run on
  the same table;
* commands that change the table (``add-flow[s]``, ``mod-flows``,
  ``del-flows``, ``replace-flows``, with ``--strict``, ``--readd``,
  ``--bundle``) run from the same starting table, and the table they leave
  behind must be the same too;
* the error cases: bad flow text, bad file lines, missing files, switch
  errors (with and without ``--bundle``), ``--bundle`` where only
  OpenFlow 1.0 flow formats are allowed, bad ``--sort`` fields, bad ``-t``.

``-t`` itself (death by SIGALRM) is checked against a socket that never
answers, and ``diff-flows`` between random flow files (its lines come in
the order of OVS's classifier), which need no root.
"""

from __future__ import annotations

import importlib.util
import os
import pty
import random
import re
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest


def _fixture_module() -> ModuleType:
    """``test_ofctl_switch``, loaded by path: ``tests/unit`` has a module of that name."""
    name = "interop_ofctl_switch_fixture"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).resolve().with_name("test_ofctl_switch.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_fixture = _fixture_module()
PYOVS_OFCTL: Path = _fixture.PYOVS_OFCTL
PYOVS_VSCTL: Path = _fixture.PYOVS_VSCTL
REAL_OFCTL: Path = _fixture.REAL_OFCTL
_skip_reason = _fixture._skip_reason
_switch = _fixture._switch

pytestmark = [pytest.mark.interop]

# A pyovs-ofctl other than the venv's may be named (e.g. from a work tree).
OURS = Path(os.environ.get("PYOVS_OFCTL_UNDER_TEST", str(PYOVS_OFCTL)))
_VARYING = re.compile(r"(duration=|idle_age=|hard_age=)[0-9.]+s?")
_PROGRAM = re.compile(r"^(\S*/)?(py)?ovs-ofctl:", re.M)
_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|", re.M)

Result = tuple[int, str, str]

BASE_FLOWS = """\
# the table every changing command starts from
priority=10,ip,nw_src=10.0.0.1,actions=output:1
priority=20,tcp,tp_dst=80,actions=drop   # a comment after a flow
table=1,priority=5,actions=resubmit(,2)

cookie=0x5,idle_timeout=30,priority=7,udp,actions=output:2
priority=9,in_port=1,actions=output:2,resubmit(1,1)
"""
# add-flows lines may start with a command word (or a prefix of one).
MIXED_FLOWS = """\
add priority=30,arp,actions=NORMAL
modify priority=10,ip,nw_src=10.0.0.1,actions=output:2
delete tcp
mod priority=7,udp,actions=output:LOCAL
modify_strict priority=9,in_port=1,actions=drop
delete_strict priority=30,arp
a priority=31,arp,actions=drop
"""
NAMED_FLOWS = """\
priority=10,ip,nw_src=10.0.0.1,actions=output:p1
priority=20,tcp,tp_dst=81,actions=drop
table=mytab,priority=5,actions=resubmit(,2)
priority=9,in_port="p-2",actions=output:p1
"""
BAD_LINE = "priority=1,actions=drop\n\nin_port=1\n"
SWITCH_ERROR = "priority=1,actions=drop\ntable=254,actions=drop\npriority=2,actions=drop\n"


def _mask(text: str) -> str:
    return _STAMP.sub("TS|", _PROGRAM.sub("PROG:", _VARYING.sub(r"\1X", text)))


def run(tool: Path, env: dict[str, str], *args: str, stdin: str = "") -> Result:
    p = subprocess.run([str(tool), *args], input=stdin, capture_output=True, text=True,
                       timeout=60, env=env, check=False)
    return p.returncode, _mask(p.stdout), _mask(p.stderr)


def run_on_terminal(tool: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run with stdout on a pseudo-terminal: ovs-ofctl then shows names unasked."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen([str(tool), *args], stdin=subprocess.DEVNULL,
                                stdout=follower, stderr=subprocess.DEVNULL, env=env)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = proc.wait(timeout=60)
    finally:
        os.close(leader)
    return code, _mask(b"".join(chunks).decode())


class Pair:
    """Both tools on one switch, in one OpenFlow version."""

    def __init__(self, env: dict[str, str], tmp: Path, version: str) -> None:
        self.env, self.tmp, self.o = env, tmp, ("-O", version)

    def file(self, name: str, text: str) -> str:
        path = self.tmp / name
        path.write_text(text)
        return str(path)

    def same(self, *args: str, stdin: str = "") -> Result:
        ours = run(OURS, self.env, *self.o, *args, stdin=stdin)
        theirs = run(REAL_OFCTL, self.env, *self.o, *args, stdin=stdin)
        assert ours == theirs, (args, ours, theirs)
        return ours

    def table(self) -> str:
        code, out, err = run(REAL_OFCTL, self.env, *self.o, "--no-stats", "--sort",
                             "--names", "dump-flows", "br0")
        assert code == 0, err
        return out

    def reset(self) -> None:
        base = self.file("base.flows", BASE_FLOWS)
        for args in (("del-flows", "br0"), ("add-flows", "br0", base)):
            code, _, err = run(REAL_OFCTL, self.env, *self.o, *args)
            assert code == 0, err

    def same_effect(self, *args: str, stdin: str = "") -> tuple[Result, str]:
        """Run ``args`` from the base table with each tool: same output, same table."""
        results = []
        for tool in (OURS, REAL_OFCTL):
            self.reset()
            results.append((run(tool, self.env, *self.o, *args, stdin=stdin), self.table()))
        assert results[0] == results[1], (args, results[0], results[1])
        return results[0]


def _prepare_bridge(env: dict[str, str]) -> None:
    vsctl = [str(PYOVS_VSCTL), "--timeout=30"]
    for command in (
        ["add-port", "br0", "p1", "--", "set", "Interface", "p1", "type=internal",
         "ofport_request=1"],
        ["add-port", "br0", "p-2", "--", "set", "Interface", "p-2", "type=internal",
         "ofport_request=2"],
        ["--", "--id=@ft", "create", "Flow_Table", "name=mytab", "--", "set", "Bridge",
         "br0", "flow_tables:1=@ft"],
    ):
        p = subprocess.run(vsctl + command, capture_output=True, text=True, timeout=60,
                           env=env, check=False)
        assert p.returncode == 0, p.stderr


def _reading(p: Pair) -> None:
    p.reset()
    for args in (
        ("dump-flows", "br0"),
        ("--names", "dump-flows", "br0"),
        ("--no-names", "dump-flows", "br0"),
        ("--no-stats", "dump-flows", "br0"),
        ("--sort", "dump-flows", "br0"),
        ("--rsort", "dump-flows", "br0"),
        ("--rsort=tcp_dst", "dump-flows", "br0"),
        ("--sort=in_port", "--sort=priority", "--names", "dump-flows", "br0"),
        ("--sort=nw_src", "--no-stats", "dump-flows", "br0", "table=0"),
        ("dump-flows", "br0", "in_port=p1"),
        ("--names", "dump-flows", "br0", "table=mytab"),
        ("--names", "dump-flows", "br0", "out_port=p-2"),
        ("dump-flows", "br0", "cookie=0x5/-1"),
        ("--sort", "dump-flows", "br0", "out_group=all"),
        ("dump-aggregate", "br0", "out_group=any"),
        ("--no-names", "dump-flows", "br0", "in_port=p1"),
        ("dump-flows", "br0", "in_port=nosuch"),
        ("dump-flows", "br0", "actions=drop"),
        ("--sort=nosuchfield", "dump-flows", "br0"),
        ("dump-aggregate", "br0"),
        ("--names", "dump-aggregate", "br0", "in_port=p1"),
        ("dump-aggregate", "br0", "table=1"),
        ("dump-aggregate", "br0", "tcp,bogus=1"),
        ("dump-aggregate", "nosuch"),
        ("-t", "5", "dump-flows", "br0"),
        ("-t", "0", "dump-flows", "br0"),
    ):
        p.same(*args)
    named = p.file("named.flows", NAMED_FLOWS)
    base = p.file("base.flows", BASE_FLOWS)
    for args in (("diff-flows", "br0", base), ("diff-flows", base, "br0"),
                 ("--names", "diff-flows", "br0", named), ("diff-flows", base, base),
                 ("diff-flows", "br0", "br0"), ("diff-flows", base, p.file("bad", BAD_LINE)),
                 ("diff-flows", "br0", str(p.tmp / "missing.flows")),
                 ("diff-flows", named, base)):
        p.same(*args)
    p.same("diff-flows", base, "-", stdin=BASE_FLOWS)
    for args, shown in ((("dump-flows", "br0"), "in_port=p1 "),
                        (("--no-names", "dump-flows", "br0"), "in_port=1 ")):
        ours, theirs = (run_on_terminal(tool, p.env, *p.o, *args) for tool in (OURS, REAL_OFCTL))
        assert ours == theirs, (args, ours, theirs)
        assert shown in ours[1]


def _changing(p: Pair) -> None:
    mixed = p.file("mixed.flows", MIXED_FLOWS)
    named = p.file("named.flows", NAMED_FLOWS)
    bad = p.file("bad.flows", BAD_LINE)
    failing = p.file("failing.flows", SWITCH_ERROR)
    for args in (
        ("add-flow", "br0", "priority=40,in_port=p1,actions=output:p-2,resubmit(,mytab)"),
        ("add-flow", "br0", 'priority=41,in_port="p-2",tcp,actions=drop'),
        ("add-flow", "br0", "actions=bogus"),
        ("add-flow", "br0", "priority=1,in_port=nosuch,actions=drop"),
        ("--names", "add-flow", "br0", "table=254,in_port=p1,actions=output:p1"),
        ("add-flows", "br0", mixed),
        ("add-flows", "br0", named),
        ("add-flows", "br0", bad),
        ("add-flows", "br0", failing),
        ("add-flows", "br0", str(p.tmp / "missing.flows")),
        ("mod-flows", "br0", "udp,actions=output:p1"),
        ("--strict", "mod-flows", "br0", "priority=7,udp,actions=output:p-2"),
        ("--strict", "mod-flows", "br0", "udp,actions=output:p-2"),
        ("mod-flows", "br0", "in_port=p1,actions=goto_table:1"),
        ("del-flows", "br0", "in_port=p1"),
        ("--strict", "del-flows", "br0", "priority=20,tcp,tp_dst=80"),
        ("--strict", "del-flows", "br0", "tcp,tp_dst=80"),
        ("del-flows", "br0", "tcp,actions=drop"),
        ("del-flows", "br0", "out_group=7"),
        ("replace-flows", "br0", named),
        ("--readd", "replace-flows", "br0", named),
        ("replace-flows", "br0", p.file("base.flows", BASE_FLOWS)),
        ("replace-flows", "br0", bad),
        ("replace-flows", "br0", failing),
        ("--bundle", "add-flow", "br0", "priority=50,actions=drop"),
        ("--bundle", "add-flows", "br0", mixed),
        ("--bundle", "add-flows", "br0", failing),
        ("--bundle", "mod-flows", "br0", "ip,actions=drop"),
        ("--bundle", "del-flows", "br0", "udp"),
        ("--bundle", "replace-flows", "br0", named),
        ("--bundle", "-F", "OpenFlow10", "add-flow", "br0", "actions=drop"),
    ):
        p.same_effect(*args)
    p.same_effect("add-flow", "br0", "-", stdin=MIXED_FLOWS)
    p.same_effect("add-flows", "br0", "-", stdin=NAMED_FLOWS)
    p.same_effect("del-flows", "br0", "-", stdin="tcp\nudp\n")
    p.same_effect("mod-flows", "br0", "-", stdin="ip,actions=output:p1\n")


@pytest.mark.root
@pytest.mark.timeout(900)  # about 100 commands, each through both tools, twice for changes
@pytest.mark.parametrize("version", ["OpenFlow10", "OpenFlow13", "OpenFlow15"])
def test_flow_commands_match_real_ovs_ofctl(tmp_path: Path, version: str) -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    with _switch(tmp_path) as env:
        _prepare_bridge(env)
        p = Pair(env, tmp_path, version)
        _reading(p)
        _changing(p)


def test_timeout_kills_like_ovs_ofctl(tmp_path: Path) -> None:
    """``-t 1`` against a switch that never answers: SIGALRM and OVS's log line."""
    if not os.access(REAL_OFCTL, os.X_OK):
        pytest.skip(f"{REAL_OFCTL} not installed (Debian openvswitch-common)")
    path = tmp_path / "silent.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(path))
        listener.listen(4)
        env = dict(os.environ)
        results: list[Result] = []
        for tool in (OURS, REAL_OFCTL):
            results.append(run(tool, env, "-t", "1", "dump-flows", f"unix:{path}"))
        assert results[0] == results[1]
        assert results[0][0] == -14


def _random_flow(r: random.Random) -> str:
    parts = []
    if r.random() < 0.7:
        parts.append(f"priority={r.choice([1, 5, 5, 9, 100, 32768])}")
    kind = r.choice(["", "ip", "tcp", "udp", "arp"])
    if kind:
        parts.append(kind)
    if kind in ("ip", "tcp", "udp") and r.random() < 0.5:
        parts.append(f"nw_src=10.0.0.{r.randint(1, 4)}")
    if kind in ("tcp", "udp") and r.random() < 0.5:
        parts.append(f"tp_dst={r.randint(1, 3)}")
    for key, chance, values in (("in_port", 0.3, "123"), ("table", 0.2, "012"),
                                ("cookie", 0.2, "123"), ("idle_timeout", 0.1, "05")):
        if r.random() < chance:
            parts.append(f"{key}={r.choice(values)}")
    parts.append("actions=" + r.choice(["drop", "output:1", "output:2", "NORMAL"]))
    return ",".join(parts)


@pytest.mark.parametrize("seed", range(25))
def test_diff_flows_between_files_in_ovs_order(tmp_path: Path, seed: int) -> None:
    """Random flow files: the same lines, in the order of OVS's classifier."""
    if not os.access(REAL_OFCTL, os.X_OK):
        pytest.skip(f"{REAL_OFCTL} not installed (Debian openvswitch-common)")
    r = random.Random(seed)
    files = []
    for name in ("a.flows", "b.flows"):
        path = tmp_path / name
        path.write_text("".join(_random_flow(r) + "\n" for _ in range(r.randint(0, 30))))
        files.append(str(path))
    env = dict(os.environ)
    assert run(OURS, env, "diff-flows", *files) == run(REAL_OFCTL, env, "diff-flows", *files)
