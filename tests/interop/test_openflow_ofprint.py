"""OVS's own ofp-print test messages, printed by pyovs as the real tool prints them.

``openflow_corpus/ofp_print_at.json`` holds every message that OVS 3.1's
``tests/ofp-print.at`` feeds to ``ovs-ofctl ofp-print`` (hand-written test
vectors: valid, malformed and non-canonical messages of every type), with
what the installed ovs-ofctl prints for each
(``python tests/interop/test_openflow_capture.py ofp_print_at`` regenerates
it).  For every message type pyovs can print, the text must be identical;
types pyovs does not print yet are expected failures, so that the list of
gaps can only shrink.  Every message pyovs decodes must also survive
encode/decode unchanged (the vectors are not all canonical, so the bytes
themselves may differ).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pyovs.openflow import codec
from pyovs.openflow.errors import OFError
from pyovs.openflow.header import decode_header
from pyovs.openflow.ofprint import ofp_to_string

CORPUS = Path(__file__).resolve().parent / "openflow_corpus"
ROWS: list[dict[str, Any]] = json.loads((CORPUS / "ofp_print_at.json").read_text())

# Printing paths pyovs does not have yet, beyond message types without a
# formatter: the raw NXM / ofp10_match dumps OVS uses at verbosity >= 3.
KNOWN_GAPS = {
    "OFPT_FLOW_MOD - OF1.0 - high verbosity",
    "NXT_FLOW_MOD, high verbosity",
}


def _supported(row: dict[str, Any]) -> bool:
    if row["title"] in KNOWN_GAPS:
        return False
    try:
        raw = decode_header(bytes.fromhex(row["hex"])).raw
    except (OFError, ValueError):
        return True  # header-level problems are printed by ofprint itself
    entry = codec.codecs().get(raw.name)
    empty_body = raw.min_body == 0 and raw.extra == 0
    return empty_body or (entry is not None and entry.format is not None)


CASES = [pytest.param(row, id=f"{i}-{row['title']}",
                      marks=() if _supported(row) else pytest.mark.xfail(strict=True))
         for i, row in enumerate(ROWS)]


@pytest.mark.parametrize("row", CASES)
def test_prints_like_ovs(row: dict[str, Any]) -> None:
    assert ofp_to_string(bytes.fromhex(row["hex"]), row["verbosity"]) == row["ofp_print"]


@pytest.mark.parametrize("row", [pytest.param(r, id=f"{i}-{r['title']}")
                                 for i, r in enumerate(ROWS)])
def test_decoded_messages_reencode_stably(row: dict[str, Any]) -> None:
    data = bytes.fromhex(row["hex"])
    try:
        msg = codec.decode(data)
    except OFError:
        return
    again = codec.decode(codec.encode(msg))
    assert again == msg
