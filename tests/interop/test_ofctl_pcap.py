"""``ofp-parse-pcap`` beside the real ovs-ofctl, on generated captures.

Each capture holds several TCP conversations (OpenFlow ports 6653 and 6633
and one other), with SYNs or not, messages from OVS's ``ofp-print.at``
vectors cut into random segments, some out of order (ignored by both), FINs,
VLAN tags, Ethernet padding, Ethernet or Linux cooked framing, either byte
order and micro- or nanosecond timestamps.  stdout and the exit status must be the same; stderr is
compared with its log timestamps masked and without the warnings OVS's
decoders log about malformed messages (pyovs does not print those).
"""

from __future__ import annotations

import json
import random
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

REAL = shutil.which("ovs-ofctl")
PYOVS = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "pyovs-ofctl"
CORPUS = Path(__file__).resolve().parent / "openflow_corpus" / "ofp_print_at.json"
pytestmark = [pytest.mark.interop,
              pytest.mark.skipif(REAL is None, reason="needs the real ovs-ofctl")]
_LOG = re.compile(r"^\S+\|(\d+)\|(\w+)\|WARN\|", re.M)


def _frame(conn: tuple[int, int, int, int], seq: int, flags: int, payload: bytes,
           vlan: bool) -> bytes:
    src, dst, sport, dport = conn
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, 0, 5 << 4, flags, 65535,
                      0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                     src.to_bytes(4, "big"), dst.to_bytes(4, "big")) + tcp
    eth = bytes(11) + b"\x01" + (b"\x81\x00\x00\x05" if vlan else b"") + b"\x08\x00"
    return eth + ip + bytes(random.choice((0, 0, 0, 4)))


def _capture(seed: int) -> bytes:
    random.seed(seed)
    rows = json.loads(CORPUS.read_text())
    msgs = [bytes.fromhex(r["hex"]) for r in rows
            if len(r["hex"]) >= 16 and int(r["hex"][4:8], 16) * 2 == len(r["hex"])]
    conns = [(0x0A000001, 0x0A000002, 40000, 6653), (0x0A000002, 0x0A000001, 6653, 40000),
             (0x0A000003, 0x0A000004, 5555, 6633), (0x0A000005, 0x0A000006, 1234, 9999)]
    seqs = {c: random.randint(1, 2**31) for c in conns}
    frames = []
    for c in conns:
        if random.random() < 0.7:
            frames.append(_frame(c, seqs[c], 0x02, b"", False))
            seqs[c] += 1
    for _ in range(random.randint(3, 25)):
        c = random.choice(conns)
        data = b"".join(random.choice(msgs) for _ in range(random.randint(1, 3)))
        while data:
            n = random.randint(1, len(data))
            chunk, data = data[:n], data[n:]
            seq = seqs[c] if random.random() > 0.1 else seqs[c] + 7
            frames.append(_frame(c, seq, 0x18, chunk, random.random() < 0.2))
            if seq == seqs[c]:
                seqs[c] += len(chunk)
        if random.random() < 0.05:
            frames.append(_frame(c, seqs[c], 0x01, b"", False))
    nsec = random.random() < 0.3
    fmt = ">" if random.random() < 0.3 else "<"
    sll = random.random() < 0.2
    if sll:
        # Linux cooked capture: the Ethernet header becomes an SLL header.
        frames = [struct.pack("!HHH6s2xH", 0, 1, 6, f[6:12], 0x0800)
                  + f[18 if f[12:14] == b"\x81\x00" else 14:] for f in frames]
    out = struct.pack(fmt + "IHHiIII", 0xA1B23C4D if nsec else 0xA1B2C3D4, 2, 4, 0, 0,
                      65535, 113 if sll else 1)
    for i, f in enumerate(frames):
        sub = (123456789 if nsec else 123456) + i
        out += struct.pack(fmt + "IIII", 1700000000 + i, sub, len(f), len(f)) + f
    return out


def _run(tool: str | Path, *args: str) -> tuple[int, str, list[str]]:
    p = subprocess.run([str(tool), *args], capture_output=True, text=True, timeout=60,
                       check=False)
    logs = [m.group(2) + "|" + line.split("|WARN|", 1)[1]
            for line in p.stderr.splitlines() if (m := _LOG.match(line))]
    fatal = [line.split(":", 1)[1] for line in p.stderr.splitlines() if "ofctl:" in line]
    return p.returncode, p.stdout, [x for x in logs if x.startswith("pcap|")] + fatal


@pytest.mark.parametrize("seed", range(12))
def test_captures_print_the_same(tmp_path: Path, seed: int) -> None:
    pcap = tmp_path / "c.pcap"
    pcap.write_bytes(_capture(seed))
    for extra in ((), ("9999", "6633")):
        assert _run(PYOVS, "ofp-parse-pcap", str(pcap), *extra) == \
            _run(str(REAL), "ofp-parse-pcap", str(pcap), *extra)
    assert _run(PYOVS, "--timestamp", "ofp-parse-pcap", str(pcap)) == \
        _run(str(REAL), "--timestamp", "ofp-parse-pcap", str(pcap))


def test_bad_captures(tmp_path: Path) -> None:
    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    sll = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 113)
    cases = {"short": b"abc", "magic": bytes(range(24)),
             "network": struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 9),
             "sll-short": sll + struct.pack("<IIII", 1, 2, 4, 4) + bytes(4),
             "sll-bad": sll + struct.pack("<IIII", 1, 2, 16, 16) + bytes(range(16)),
             "truncated": head + struct.pack("<IIII", 1, 2, 40, 40) + bytes(10),
             "length": head + struct.pack("<IIII", 1, 2, 0x12345678, 0)}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    for name in (*cases, "missing"):
        path = str(tmp_path / name)
        assert _run(PYOVS, "ofp-parse-pcap", path) == _run(str(REAL), "ofp-parse-pcap", path)
