"""Differential fuzzing against the real ovs-ofctl: damaged messages print the same.

Messages from the golden corpus are mutated (bytes overwritten, truncated,
extended, fields set to extreme values; the length field kept consistent so
both tools frame them alike) and fed to ``ovs-ofctl ofp-parse``, which
prints each as ``ofp-print`` does.  pyovs's ``ofp_to_string`` must print the
same text, error names included, for every message whose type pyovs prints.
That pins not just decoding of valid input but OVS's exact verdict on
invalid input.  Seeded, so failures reproduce; skipped without ovs-ofctl.
"""

from __future__ import annotations

import json
import random
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import pytest

from pyovs.openflow import codec
from pyovs.openflow.errors import OFError
from pyovs.openflow.header import decode_header
from pyovs.openflow.ofprint import ofp_to_string

CORPUS = Path(__file__).resolve().parent / "openflow_corpus"
OVS_OFCTL = shutil.which("ovs-ofctl")
pytestmark = pytest.mark.skipif(OVS_OFCTL is None, reason="real ovs-ofctl not installed")


def _samples() -> list[bytes]:
    seen: dict[str, None] = {}
    for name in ("flow_mods", "flow_stats", "groups", "meters", "switch"):
        for case in json.loads((CORPUS / f"{name}.json").read_text()):
            for m in case["messages"]:
                seen.setdefault(m["hex"])
    for row in json.loads((CORPUS / "ofp_print_at.json").read_text()):
        seen.setdefault(row["hex"])
    return [bytes.fromhex(h) for h in seen if len(h) > 16]


def _printed_by_pyovs(data: bytes) -> bool:
    try:
        raw = decode_header(data).raw
    except OFError:
        return True
    entry = codec.codecs().get(raw.name)
    return (raw.min_body == 0 and raw.extra == 0) or (entry is not None
                                                       and entry.format is not None)


def _mutate(rnd: random.Random, sample: bytes) -> bytes:
    msg = bytearray(sample)
    kind = rnd.random()
    if kind < 0.5:
        for _ in range(rnd.randint(1, 3)):
            msg[rnd.randrange(8, len(msg))] = rnd.randrange(256)
    elif kind < 0.8:
        msg = msg[:rnd.randint(8, len(msg))] + bytes(rnd.randrange(256)
                                                     for _ in range(rnd.randint(0, 8)))
    else:
        pos = rnd.randrange(8, max(9, len(msg) - 2))
        msg[pos:pos + 2] = rnd.choice([b"\xff\xff", b"\x00\x00", b"\x00\x01", b"\x80\x00"])
    struct.pack_into("!H", msg, 2, len(msg))
    return bytes(msg)


def _ovs_print(messages: list[bytes]) -> str:
    assert OVS_OFCTL is not None
    with tempfile.NamedTemporaryFile() as f:
        f.write(b"".join(messages))
        f.flush()
        out = subprocess.run([OVS_OFCTL, "ofp-parse", f.name], capture_output=True,
                             timeout=60).stdout
    return out.decode("latin-1")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mutated_messages_print_like_ovs(seed: int) -> None:
    rnd = random.Random(seed)
    samples = _samples()
    messages: list[bytes] = []
    while len(messages) < 1500:
        msg = _mutate(rnd, rnd.choice(samples))
        if 8 <= len(msg) < 65536 and _printed_by_pyovs(msg):
            messages.append(msg)
    mismatches = []
    for start in range(0, len(messages), 150):
        chunk = messages[start:start + 150]
        if _ovs_print(chunk) == "".join(ofp_to_string(m, 2) for m in chunk):
            continue
        for msg in chunk:  # find the culprits
            want = _ovs_print([msg])
            if ofp_to_string(msg, 2) != want:
                mismatches.append((msg.hex(), want.splitlines()[0] if want else ""))
    assert not mismatches, mismatches[:5]
