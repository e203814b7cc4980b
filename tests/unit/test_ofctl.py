"""pyovs-ofctl's offline commands and option handling, without Open vSwitch.

The golden corpus stores what the real ``ovs-ofctl ofp-print`` printed for
each captured message, so ``pyovs-ofctl ofp-print`` is judged against it
here in-process; ``tests/interop/test_ofctl_offline.py`` runs both tools.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from pyovs.cli import ofctl

CORPUS = Path(__file__).resolve().parents[1] / "interop" / "openflow_corpus"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = ofctl.main(["pyovs-ofctl", *args])
    out, err = capsys.readouterr()
    return rc, out, err


def _corpus_messages() -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for name in ("flow_mods", "flow_stats", "groups", "meters", "switch"):
        cases: list[dict[str, Any]] = json.loads((CORPUS / f"{name}.json").read_text())
        for case in cases:
            for m in case["messages"]:
                seen.setdefault(m["hex"], m["ofp_print"])
    return sorted(seen.items())[::7]


@pytest.mark.parametrize(("hex_", "printed"), _corpus_messages())
def test_ofp_print_matches_corpus(capsys: pytest.CaptureFixture[str], hex_: str,
                                  printed: str) -> None:
    assert _run(capsys, "ofp-print", hex_) == (0, printed, "")


def test_ofp_print_accepts_ovs_separators(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "ofp-print", "01 00.00\t08\n00 00 00 01")
    assert (rc, out) == (0, "OFPT_HELLO (xid=0x1):\n version bitmap: 0x01\n")


@pytest.mark.parametrize("text", ["zz", "010", "01-00", "0100 x"])
def test_ofp_print_trailing_garbage(capsys: pytest.CaptureFixture[str], text: str) -> None:
    assert _run(capsys, "ofp-print", text) == (
        1, "", "pyovs-ofctl: trailing garbage following hex bytes\n")


def test_ofp_print_empty_and_short(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "ofp-print", "") == (0, "OpenFlow message is empty\n", "")
    _, out, _ = _run(capsys, "ofp-print", "0100")
    assert out.startswith("OpenFlow packet too short (only 2 bytes):\n")


def test_ofp_print_stdin_hex(capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("0100000800000007\n"))
    assert _run(capsys, "ofp-print", "-")[1] == "OFPT_HELLO (xid=0x7):\n version bitmap: 0x01\n"


def test_ofp_print_stdin_raw(capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(bytes.fromhex("0100000800000009")))
    monkeypatch.setattr("sys.stdin", stdin)
    assert _run(capsys, "--raw", "ofp-print", "-")[1] == (
        "OFPT_HELLO (xid=0x9):\n version bitmap: 0x01\n")


def test_versions_from_string() -> None:
    assert ofctl.versions_from_string("OpenFlow10,openflow13 OPENFLOW15") == 0b1010010
    assert ofctl.versions_from_string("") == 0
    with pytest.raises(ofctl.Fatal, match='Unknown OpenFlow version: "OpenFlow99"'):
        ofctl.versions_from_string("OpenFlow13,OpenFlow99")


@pytest.mark.parametrize(("args", "err"), [
    ((), "missing command name; use --help for help"),
    (("foo",), "unknown command 'foo'; use --help for help"),
    (("ofp-print",), "'ofp-print' command requires at least 1 arguments"),
    (("ofp-print", "00", "1", "2"), "'ofp-print' command takes at most 2 arguments"),
    (("-O", "OpenFlow9", "ofp-print", "00"), 'Unknown OpenFlow version: "OpenFlow9"'),
])
def test_command_line_errors(capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                             err: str) -> None:
    assert _run(capsys, *args) == (1, "", f"pyovs-ofctl: {err}\n")


def test_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = _run(capsys, "--help")
    assert rc == 0 and out.startswith("pyovs-ofctl: OpenFlow switch management utility\n")
    rc, out, _ = _run(capsys, "-V")
    assert rc == 0 and out.startswith("pyovs-ofctl (pyovs) ")


def test_getopt_errors_name_argv0(capsys: pytest.CaptureFixture[str]) -> None:
    """glibc's getopt messages start with argv[0] as given, path and all."""
    assert ofctl.main(["/x/pyovs-ofctl", "--bogus"]) == 1
    assert capsys.readouterr().err == "/x/pyovs-ofctl: unrecognized option '--bogus'\n"
