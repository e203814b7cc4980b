"""``pyovs-ofctl parse-flow`` against the real ``ovs-ofctl parse-flow``.

Every ``add-flow`` command line of the golden corpus (``commands.json``: its
matches, actions and flow-mod options, with their ``-O``/``-F`` options) is
run as ``parse-flow`` by both tools: the usable protocols, the protocol
chosen, the flow mod printed and any error must be the same.  pyovs runs
in-process (the corpus has ~900 lines); only the real tool is a process.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pyovs.cli import ofctl

OVS_OFCTL = shutil.which("ovs-ofctl")
pytestmark = pytest.mark.skipif(OVS_OFCTL is None, reason="ovs-ofctl is not installed")
CORPUS = Path(__file__).resolve().parent / "openflow_corpus"
# OVS's vlog lines on stderr (ofp_match's "normalization changed" notices):
# pyovs-ofctl does not log.
_VLOG = re.compile(r"^\d{4}-\d\d-\d\dT[^|]*\|\d{5}\|.*\n", re.M)
# The MPLS set actions after a non-MPLS match: pyovs's action parser limits
# them to OpenFlow 1.1+ where OVS's allows any protocol (then only OF1.0,
# by ofpacts_check's consistency rule).
KNOWN_GAPS = ("set_mpls_label(", "set_mpls_tc(", "set_mpls_ttl(")


def _cases() -> list[list[str]]:
    commands: dict[str, list[list[str]]] = json.loads((CORPUS / "commands.json").read_text())
    out = []
    for lines in commands.values():
        for c in lines:
            if "add-flow" in c:
                i = c.index("add-flow")
                out.append([*c[:i], "parse-flow", *c[i + 2:]])
    return out


def _pyovs(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = ofctl.main(["ovs-ofctl", *args])
    return rc, out.getvalue(), err.getvalue()


def _real(args: list[str]) -> tuple[int, str, str]:
    assert OVS_OFCTL is not None
    p = subprocess.run(["ovs-ofctl", *args], capture_output=True, text=True, timeout=30,
                       check=False)
    return p.returncode, p.stdout, _VLOG.sub("", p.stderr)


CASES = [pytest.param(c, id=" ".join(c),
                      marks=[pytest.mark.xfail(strict=True)]
                      if any(g in c[-1] for g in KNOWN_GAPS) else [])
         for c in _cases()]


@pytest.mark.parametrize("args", CASES)
def test_parse_flow_corpus(args: list[str]) -> None:
    assert _pyovs(args) == _real(args)


@pytest.mark.parametrize("args", [
    ["parse-flow", "priority=70000,actions=drop"],
    ["parse-flow", "cookie=1/1,actions=drop"],
    ["parse-flow", "nosuch=1,actions=drop"],
    ["parse-flow", "table=5"],
    ["parse-flow", "ip,idle_timeout=,actions=drop"],
    ["-m", "parse-flow", "tcp,tp_dst=80,actions=output:2"],
    ["-O", "OpenFlow13", "parse-flow", "table=1,reg0=5,actions=goto_table:2"],
    ["-O", "OpenFlow10,OpenFlow14", "-F", "OXM-OpenFlow14,NXM", "parse-flow", "actions=drop"],
    ["-F", "oxm", "parse-flow", "actions=drop"],
    ["-F", "bogus", "parse-flow", "actions=drop"],
    ["-O", "OpenFlow13", "parse-flow", "reset_counts,no_byte_counts,actions=drop"],
    ["parse-flow", "reset_counts,actions=drop"],
])
def test_parse_flow_options_and_errors(args: list[str]) -> None:
    assert _pyovs(args) == _real(args)


def test_parse_flows_file(tmp_path: Path) -> None:
    flows = tmp_path / "flows.txt"
    flows.write_text("# comment\n\npriority=5,ip,actions=drop\n"
                     "tcp,tp_dst=22,actions=output:1  # trailing\nreg1=2,actions=NORMAL\n")
    assert _pyovs(["parse-flows", str(flows)]) == _real(["parse-flows", str(flows)])
    flows.write_text("ip,actions=drop\nbad=1,actions=drop\n")
    assert _pyovs(["parse-flows", str(flows)]) == _real(["parse-flows", str(flows)])
    missing = str(tmp_path / "missing")
    assert _pyovs(["parse-flows", missing]) == _real(["parse-flows", missing])
