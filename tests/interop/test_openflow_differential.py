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
from dataclasses import replace
from pathlib import Path

import pytest

from pyovs.openflow import codec
from pyovs.openflow.actions import Output
from pyovs.openflow.errors import OFError
from pyovs.openflow.header import decode_header
from pyovs.openflow.msg_packet import PacketOut
from pyovs.openflow.msg_table import TableStats, TableStatsReply
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


def _random_table_stats(rnd: random.Random, version: int) -> TableStatsReply:
    tables: list[TableStats] = []
    for i in range(rnd.randint(1, 6)):
        if tables and rnd.random() < 0.5:  # repeat the previous table: "ditto"
            tables.append(replace(tables[-1], table_id=i,
                                  name=rnd.choice(["", tables[-1].name])))
            continue
        tables.append(TableStats(
            i, rnd.randrange(100), rnd.randrange(1000), rnd.randrange(100),
            rnd.choice(["", "classifier", f"t{i}"]),
            rnd.getrandbits({1: 22, 2: 16}.get(version, 40)),
            rnd.getrandbits(16 if version == 2 else 40), rnd.getrandbits(7) << 1,
            rnd.getrandbits(26), rnd.getrandbits(26), rnd.getrandbits(40),
            rnd.getrandbits(40), rnd.choice([0, (1 << 64) - 1, 0xFF]),
            rnd.choice([0, (1 << 64) - 1]), rnd.randrange(3), rnd.choice([0, 1000, 1 << 20])))
    return TableStatsReply(tuple(tables))


def test_table_stats_print_like_ovs() -> None:
    """Table stats (features from OpenFlow 1.0-1.2, dittos) against the real ofp-print."""
    rnd = random.Random(7)
    messages = []
    for _ in range(300):
        version = rnd.choice([1, 2, 3, 4, 6])
        messages.append(codec.encode(codec.make(_random_table_stats(rnd, version), version)))
    assert _ovs_print(messages) == "".join(ofp_to_string(m, 2) for m in messages)



# --- packets, as packet-outs carry them --------------------------------------------
# A generator of plausible and broken frames: VLAN stacks, MPLS label stacks,
# IPv4 with options/fragments/bad lengths, IPv6 extension chains, ND options,
# ARP/RARP variants, LLC/SNAP, truncation.

def _bytes(rnd: random.Random, n: int) -> bytes:
    return bytes(rnd.randrange(256) for _ in range(n))


def _transport(rnd: random.Random, proto: int) -> bytes:
    if proto == 6:
        offset = rnd.choice([5, 5, 5, 6, 4, 15])
        return struct.pack("!HHIIHHHH", rnd.randrange(65536), rnd.randrange(65536), 0, 0,
                           offset << 12 | rnd.getrandbits(12), 0, rnd.randrange(65536),
                           0) + _bytes(rnd, rnd.choice([0, 4, 40]))
    if proto == 58:
        type_ = rnd.choice([135, 136, 128, 1, 135])
        body = struct.pack("!BBHI", type_, rnd.choice([0, 0, 1]), 0, rnd.getrandbits(32))
        if type_ in (135, 136):
            body += _bytes(rnd, 16)
            for _ in range(rnd.randint(0, 3)):
                length = rnd.choice([1, 1, 2, 0])
                body += bytes([rnd.choice([1, 2, 3]), length]) + _bytes(rnd, max(length * 8 - 2, 0))
        return body
    return _bytes(rnd, rnd.choice([4, 8, 12, 20]))


def _ipv4(rnd: random.Random) -> bytes:
    proto = rnd.choice([6, 17, 1, 132, 2, 47])
    payload = _transport(rnd, proto)
    ihl = rnd.choice([5, 5, 5, 6, 4])
    options = bytes(max(0, (ihl - 5) * 4))
    total = (20 + len(options) + len(payload) + rnd.choice([0, 0, 0, -3, 5])) & 0xFFFF
    frag = rnd.choice([0, 0, 0x2000, 0x0010, 0x2010, 0x4000])
    return struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, rnd.randrange(256), total, 0, frag,
                       rnd.randrange(256), proto, 0, _bytes(rnd, 4),
                       _bytes(rnd, 4)) + options + payload + _bytes(rnd, rnd.choice([0, 6]))


def _ipv6(rnd: random.Random) -> bytes:
    first = proto = rnd.choice([6, 17, 58, 0, 43, 44, 60, 51])
    chain = b""
    for _ in range(3):
        if proto not in (0, 43, 44, 51, 60):
            break
        nxt = rnd.choice([6, 17, 58, 44, 59])
        if proto == 44:
            chain += struct.pack("!BBHI", nxt, 0, rnd.choice([0, 0, 1, 8, 9]), 0)
        elif proto == 51:
            chain += bytes([nxt, 1]) + bytes(10)
        else:
            chain += bytes([nxt, 0]) + bytes(6)
        proto = nxt
    payload = chain + _transport(rnd, proto)
    plen = (len(payload) + rnd.choice([0, 0, 0, -2, 4])) & 0xFFFF
    return struct.pack("!IHBB16s16s", 6 << 28 | rnd.getrandbits(28), plen, first,
                       rnd.randrange(256), _bytes(rnd, 16), _bytes(rnd, 16)) + payload


def _arp(rnd: random.Random) -> bytes:
    return struct.pack("!HHBBH", rnd.choice([1, 1, 6]), rnd.choice([0x800, 0x800, 0x86DD]),
                       rnd.choice([6, 6, 8]), 4, rnd.choice([1, 2, 3, 0x1FF])) + _bytes(rnd, 20)


def _frame(rnd: random.Random) -> bytes:
    head = _bytes(rnd, 12) + b"".join(
        struct.pack("!HH", rnd.choice([0x8100, 0x88A8]), rnd.getrandbits(16))
        for _ in range(rnd.choice([0, 0, 1, 2, 3])))
    kind = rnd.choice(["ip", "ip", "ip6", "ip6", "arp", "rarp", "mpls", "llc", "other"])
    if kind == "ip":
        return head + b"\x08\x00" + _ipv4(rnd)
    if kind == "ip6":
        return head + b"\x86\xdd" + _ipv6(rnd)
    if kind in ("arp", "rarp"):
        return head + (b"\x08\x06" if kind == "arp" else b"\x80\x35") + _arp(rnd)
    if kind == "mpls":
        labels = b"".join(struct.pack("!I", rnd.getrandbits(32) & ~0x100)
                          for _ in range(rnd.randint(0, 4)))
        if rnd.random() < 0.7:
            labels += struct.pack("!I", rnd.getrandbits(32) | 0x100)
        return (head + rnd.choice([b"\x88\x47", b"\x88\x48"]) + labels
                + _bytes(rnd, rnd.randrange(10)))
    if kind == "llc":
        return head + struct.pack("!H", rnd.randrange(1500)) + rnd.choice([
            b"\xaa\xaa\x03\0\0\0\x08\x00" + _ipv4(rnd), b"\xaa\xaa\x03\0\0\0\x05\x00",
            b"\x42\x42\x03" + _bytes(rnd, 10), b"\xaa\xaa"])
    return head + _bytes(rnd, 2 + rnd.randrange(30))


@pytest.mark.parametrize("seed", [1, 2])
def test_packets_print_like_ovs(seed: int) -> None:
    """packet_to_string (OVS flow_extract + flow_format) against the real ofp-parse."""
    rnd = random.Random(seed)
    messages = []
    for i in range(1500):
        packet = _frame(rnd)
        if rnd.random() < 0.1:
            packet = packet[:rnd.randrange(len(packet) + 1)]
        out = PacketOut.from_port(1, (Output(2),), packet)
        messages.append(codec.encode(codec.make(out, rnd.choice([1, 4, 6]), i)))
    bad = []
    for start in range(0, len(messages), 150):
        chunk = messages[start:start + 150]
        if _ovs_print(chunk) != "".join(ofp_to_string(m, 2) for m in chunk):
            bad += [m.hex() for m in chunk if _ovs_print([m]) != ofp_to_string(m, 2)]
    assert not bad, bad[:3]
