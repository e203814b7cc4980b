"""The golden wire corpus: what the real ovs-ofctl sends, judged both ways.

``openflow_corpus/*.json`` holds, for each ovs-ofctl command line in
``commands.json``, every message the real ovs-ofctl sent to a fake switch
(hex) and what the real ``ovs-ofctl ofp-print`` prints for it
(``test_openflow_capture.py`` regenerates them).  These tests need no Open
vSwitch: the real tool's output is in the files.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from pyovs.openflow import codec
from pyovs.openflow.match import (
    decode_nx_match,
    decode_oxm_match,
    encode_nx_match,
    encode_oxm_match,
)
from pyovs.openflow.match_text import format_match
from pyovs.openflow.ofp10_match import decode_ofp10_match, encode_ofp10_match, normalize_match
from pyovs.openflow.ofprint import ofp_to_string

CORPUS = Path(__file__).resolve().parent / "openflow_corpus"


def _load(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((CORPUS / f"{name}.json").read_text())
    return data


def _flow_mods(case: dict[str, Any]) -> list[tuple[bytes, str]]:
    """(message, ofp-print text) for each flow_mod in a corpus case."""
    out = []
    for m in case["messages"]:
        raw = bytes.fromhex(m["hex"])
        type_ = raw[1]
        nxt_flow_mod = type_ == 4 and struct.unpack_from("!II", raw, 8) == (0x2320, 13)
        if type_ == 14 or nxt_flow_mod:
            out.append((raw, m["ofp_print"]))
    return out


def _printed_match(text: str) -> str:
    """The match part of ``... ADD <match> actions=...``."""
    first = text.splitlines()[0]
    body = first.split(" ADD ", 1)[1]
    return "" if body.startswith("actions=") else body.split(" actions=", 1)[0]


MATCH_CASES = [(" ".join(c["command"][1:]), c) for c in _load("flow_matches")]


@pytest.mark.parametrize(("command", "case"), MATCH_CASES, ids=[c[0] for c in MATCH_CASES])
def test_flow_mod_match_decodes_prints_and_reencodes(command: str, case: dict[str, Any]) -> None:
    mods = _flow_mods(case)
    assert mods, "no flow_mod captured"
    for raw, printed in mods:
        version = raw[0]
        if raw[1] == 4:  # NXT_FLOW_MOD: nx_flow_mod after the 16-byte vendor header
            priority = struct.unpack_from("!H", raw, 16 + 14)[0]
            match_len = struct.unpack_from("!H", raw, 16 + 24)[0]
            body = raw[48:48 + match_len]
            match, _, _ = decode_nx_match(body, allow_cookie=True)
            assert encode_nx_match(match) == body
        elif version == 1:
            priority = struct.unpack_from("!H", raw, 8 + 40 + 14)[0]
            match = decode_ofp10_match(raw, 8)
            assert encode_ofp10_match(match) == raw[8:48]
            match = normalize_match(match)  # as OVS's OpenFlow 1.0 flow_mod decoder
        else:
            priority = struct.unpack_from("!H", raw, 8 + 22)[0]
            match, consumed = decode_oxm_match(raw, 48)
            assert encode_oxm_match(match, version) == raw[48:48 + consumed]
        want = _printed_match(printed)
        got = format_match(match, priority)
        assert got == want


CORPUS_FILES = ("flow_matches", "flow_mods", "flow_stats", "groups", "meters", "switch")
MESSAGE_CASES = [pytest.param(case, id=f"{name}:{' '.join(case['command'][1:])}")
                 for name in CORPUS_FILES for case in _load(name)]


@pytest.mark.parametrize("case", MESSAGE_CASES)
def test_every_captured_message_decodes_reencodes_and_prints_like_ovs(
        case: dict[str, Any]) -> None:
    """Whatever the real ovs-ofctl sent: decode, encode back to the same bytes,
    and print exactly what ``ovs-ofctl ofp-print`` printed for it."""
    for m in case["messages"]:
        data = bytes.fromhex(m["hex"])
        msg = codec.decode(data)
        assert not isinstance(msg.body, codec.Unparsed), msg.raw
        assert codec.encode(msg) == data
        assert ofp_to_string(data, 2) == m["ofp_print"]
