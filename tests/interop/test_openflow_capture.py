"""Capture what the real ovs-ofctl sends: a fake switch on a unix socket.

``FakeSwitch`` listens on a unix socket, answers just enough of OpenFlow for
``ovs-ofctl`` to do its job (hello, echo, barrier, features, config, role,
empty multipart replies) and records every message it receives.  It is
written from the OpenFlow specification with ``struct`` only -- no pyovs
code -- so that the golden corpus it produces is an independent judge of
pyovs's codec.

``python tests/interop/test_openflow_capture.py`` regenerates
``openflow_corpus/*.json`` from the command lists in ``CORPUS_COMMANDS``
(needs the real ovs-ofctl); the corpus tests themselves only read the files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

CORPUS_DIR = Path(__file__).resolve().parent / "openflow_corpus"
OVS_OFCTL = shutil.which("ovs-ofctl")

OFPT_HELLO, OFPT_ERROR, OFPT_ECHO_REQUEST, OFPT_ECHO_REPLY = 0, 1, 2, 3
OFPT_VENDOR, OFPT_FEATURES_REQUEST, OFPT_FEATURES_REPLY = 4, 5, 6
OFPT_GET_CONFIG_REQUEST, OFPT_GET_CONFIG_REPLY = 7, 8


def _port(version: int, port_no: int) -> bytes:
    """One port description in ``version``'s layout (spec structures)."""
    hw = bytes([0x50, 0x54, 0, 0, 0, port_no])
    name = f"p{port_no}".encode().ljust(16, b"\0")
    # config, state, then curr/advertised/supported/peer feature bits.
    if version == 1:
        return struct.pack("!H6s16sIIIIII", port_no, hw, name, 0, 0, 0x2C0, 0x2C0, 0x2FF, 0)
    if version <= 4:
        return struct.pack("!I4x6s2x16sIIIIIIII", port_no, hw, name, 0, 4, 0x2820, 0x2820,
                           0x28FF, 0, 10000000, 10000000)
    eth = struct.pack("!HH4xIIIIII", 0, 32, 0x2820, 0x2820, 0x28FF, 0, 10000000, 10000000)
    return struct.pack("!IH2x6s2x16sII", port_no, 40 + len(eth), hw, name, 0, 4) + eth


PORTS = (1, 2, 3)
# Fixed-size statistics replies, by stat type: plausible non-zero values so
# that printing them is exercised.
DESC = b"".join(s.ljust(n, b"\0") for s, n in (
    (b"Fake Switch Inc.", 256), (b"fake hardware", 256), (b"fake software 1.0", 256),
    (b"SN-0042", 32), (b"fake datapath", 256)))


def _stats_body(version: int, stat_type: int, nx_subtype: int | None) -> bytes:
    if stat_type == 0:                              # desc
        return DESC
    if stat_type == 2 or nx_subtype == 1:           # aggregate: packets, bytes, flows
        return struct.pack("!QQI4x", 1234, 567890, 3)
    if stat_type == 13:                             # port desc
        return b"".join(_port(version, p) for p in PORTS) if version >= 4 else b""
    if (version >= 3 and stat_type == 8) or nx_subtype == 9:  # group features
        return struct.pack("!II4I4I", 0xF, 0x7, 100, 200, 300, 400, 1, 0x3, 0x7, 0x1)
    if version >= 5 and stat_type == 14:            # table desc: table 2, no config
        return struct.pack("!HBxI", 8, 2, 0)
    if version >= 4 and stat_type == 11:            # meter features
        return struct.pack("!IIIBB2x", 65536, 0x6, 0xF, 16, 2)
    if version >= 4 and stat_type == 12:
        # One table-features entry for table 0 with the eight required
        # properties, each empty (a 4-byte header padded to 8).
        props = b"".join(struct.pack("!HH4x", t, 4) for t in range(0, 16, 2))
        return struct.pack("!HB5x32sQQII", 64 + len(props), 0, b"t0", 0, 0, 0, 1000000) + props
    return b""


def _reply_for(msg: bytes, state: dict[str, int]) -> bytes | None:
    """The fake switch's answer to one message, or None."""
    version, type_, _length, xid = struct.unpack_from("!BBHI", msg)

    def out(t: int, body: bytes = b"") -> bytes:
        return struct.pack("!BBHI", version, t, 8 + len(body), xid) + body

    if type_ == OFPT_ECHO_REQUEST:
        return out(OFPT_ECHO_REPLY, msg[8:])
    if type_ == OFPT_FEATURES_REQUEST:
        # datapath_id, n_buffers, n_tables, auxiliary_id, pad, capabilities, actions
        body = struct.pack("!QIBB2xII", 0x1234, 0, 254, 0, 0xC7, 0xFFF if version == 1 else 0)
        if version <= 3:
            body += b"".join(_port(version, p) for p in PORTS)
        return out(OFPT_FEATURES_REPLY, body)
    if type_ == OFPT_GET_CONFIG_REQUEST:
        return out(OFPT_GET_CONFIG_REPLY, struct.pack("!HH", state.get("frags", 0), 0xFFFF))
    if type_ == 9:  # set config: remember the fragment handling asked for
        state["frags"] = struct.unpack_from("!H", msg, 8)[0]
        return None
    barrier = (18, 19) if version == 1 else (20, 21)
    if type_ == barrier[0]:
        return out(barrier[1])
    stats = (16, 17) if version == 1 else (18, 19)
    if type_ == stats[0]:
        stat_type = struct.unpack_from("!H", msg, 8)[0]
        head = 12 if version == 1 else 16
        nx_subtype = None
        if stat_type == 0xFFFF:
            nx_subtype = struct.unpack_from("!I", msg, head + 4)[0]
            head += 12 if version == 1 else 8
        body = bytearray(msg[8:head])
        body[2:4] = b"\0\0"
        return out(stats[1], bytes(body) + _stats_body(version, stat_type, nx_subtype))
    if version >= 3 and type_ == 24:  # role request -> role reply
        return out(25, msg[8:])
    if version >= 4 and type_ == 26:  # get async request
        return out(27, bytes(24) if version == 4 else b"")
    return None


class FakeSwitch:
    """A unix-socket OpenFlow peer that records what it is sent."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.received: list[bytes] = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(path)
        self._sock.listen(4)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        buf = b""
        sent_hello = False
        state: dict[str, int] = {}
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buf += data
                while len(buf) >= 8:
                    length = struct.unpack_from("!H", buf, 2)[0]
                    if length < 8 or len(buf) < length:
                        break
                    msg, buf = buf[:length], buf[length:]
                    self.received.append(msg)
                    if msg[1] == OFPT_HELLO and not sent_hello:
                        sent_hello = True
                        # Version 6 with a bitmap of 1.0-1.5: the client picks.
                        elem = struct.pack("!HHI", 1, 8, 0x7E)
                        conn.sendall(struct.pack("!BBHI", 6, 0, 16, 0) + elem)
                        continue
                    reply = _reply_for(msg, state)
                    if reply is not None:
                        conn.sendall(reply)

    def close(self) -> None:
        self._sock.close()


def run_ofctl(args: list[str], timeout: float = 10,
              ) -> tuple[list[bytes], subprocess.CompletedProcess[str]]:
    """Run ``ovs-ofctl ARGS`` where ``TARGET`` is replaced by the fake switch."""
    assert OVS_OFCTL is not None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "sw.sock")
        sw = FakeSwitch(path)
        try:
            argv = [OVS_OFCTL] + [a.replace("TARGET", "unix:" + path) for a in args]
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                  env={**os.environ, "OVS_RUNDIR": tmp})
        finally:
            sw.close()
        # Keep the corpus deterministic: no temporary paths, no log timestamps.
        clean = [re.sub(r"^\d{4}-\d\d-\d\dT[\d:.]+Z\|", "", text.replace("unix:" + path, "TARGET"),
                        flags=re.M) for text in (proc.stdout, proc.stderr)]
        proc = subprocess.CompletedProcess(proc.args, proc.returncode, clean[0], clean[1])
        return list(sw.received), proc


def ofp_print(hex_msg: str, verbosity: int = 2) -> str:
    """What the real ``ovs-ofctl ofp-print`` prints for a message."""
    assert OVS_OFCTL is not None
    proc = subprocess.run([OVS_OFCTL, "ofp-print", hex_msg, str(verbosity)],
                          capture_output=True, text=True, timeout=10)
    return proc.stdout


# --- corpus generation -------------------------------------------------------

def corpus_commands() -> dict[str, list[list[str]]]:
    """Command lists for each corpus file (see ``openflow_corpus/commands.json``)."""
    data: dict[str, list[list[str]]] = json.loads(
        (CORPUS_DIR / "commands.json").read_text())
    return data


def regenerate(names: list[str]) -> None:
    printed: dict[str, str] = {}
    for name, commands in corpus_commands().items():
        if names and name not in names:
            continue
        cases: list[dict[str, Any]] = []
        for args in commands:
            received, proc = run_ofctl(args)
            messages = []
            for msg in received:
                hex_msg = msg.hex()
                if hex_msg not in printed:
                    printed[hex_msg] = ofp_print(hex_msg)
                messages.append({"hex": hex_msg, "ofp_print": printed[hex_msg]})
            cases.append({"command": ["ovs-ofctl", *args], "exit": proc.returncode,
                          "stdout": proc.stdout, "stderr": proc.stderr,
                          "messages": messages})
        (CORPUS_DIR / f"{name}.json").write_text(json.dumps(cases, indent=1) + "\n")
        print(f"{name}: {len(cases)} commands", file=sys.stderr)


def regenerate_action_text() -> None:
    """``action_text.json``: what ovs-ofctl prints for each action string after
    encoding it for OpenFlow 1.0, 1.3 and 1.5 and decoding it again."""
    rows = []
    for line in (CORPUS_DIR / "action_strings.txt").read_text().splitlines():
        if not line.strip():
            continue
        row: dict[str, Any] = {"actions": line}
        match = "ipv6,tcp6" if "fe80" in line else "ip,tcp"
        for proto, version in (("OpenFlow10", 1), ("OpenFlow13", 4), ("OpenFlow15", 6)):
            assert OVS_OFCTL is not None
            proc = subprocess.run([OVS_OFCTL, "-O", proto, "parse-flow",
                                   f"{match},actions={line}"],
                                  capture_output=True, text=True, timeout=10)
            out = proc.stdout.strip()
            row[str(version)] = out.split("actions=", 1)[1] if "actions=" in out else None
        rows.append(row)
    (CORPUS_DIR / "action_text.json").write_text(json.dumps(rows, indent=1) + "\n")


OVS_GIT = os.environ.get("OVS_GIT", "/work/.mirror/openvswitch+ovs/repo")


def _ofp_print_invocations(text: str) -> list[tuple[str, str, int]]:
    """(test title, hex, verbosity) for each ``ovs-ofctl ofp-print`` in an autotest file."""
    out = []
    title = ""
    pos = 0
    heads = re.compile(r"AT_SETUP\(\[(.*?)\]\)|ofp-print\s+")
    while True:
        m = heads.search(text, pos)
        if not m:
            return out
        pos = m.end()
        if m.group(1) is not None:
            title = m.group(1)
            continue
        quote = text[pos]
        if quote in "\"'":
            end = text.index(quote, pos + 1)
            arg = text[pos + 1:end].replace("\\\n", "")
            pos = end + 1
        else:
            arg = re.match(r"[^\s\]]*", text[pos:]).group(0)  # type: ignore[union-attr]
            pos += len(arg)
        tail = re.match(r"\s*(\d*)\s*\]", text[pos:])
        if tail is None or "$" in arg or not re.fullmatch(r"[0-9a-fA-F\s]*", arg):
            continue
        out.append((title, re.sub(r"\s", "", arg).lower(), int(tail.group(1) or 2)))


def regenerate_ofp_print_at() -> None:
    """``ofp_print_at.json``: the messages in OVS's own ofp-print tests, with
    what the real ovs-ofctl prints for them now (the test texts themselves
    are not copied; the installed tool is the judge)."""
    text = subprocess.run(["git", "-C", OVS_GIT, "show", "v3.1.0:tests/ofp-print.at"],
                          capture_output=True, text=True, check=True).stdout
    rows = []
    for title, hex_msg, verbosity in _ofp_print_invocations(text):
        rows.append({"title": title, "hex": hex_msg, "verbosity": verbosity,
                     "ofp_print": ofp_print(hex_msg, verbosity)})
    (CORPUS_DIR / "ofp_print_at.json").write_text(json.dumps(rows, indent=1) + "\n")
    print(f"ofp_print_at: {len(rows)} messages", file=sys.stderr)


@pytest.mark.skipif(OVS_OFCTL is None, reason="real ovs-ofctl not installed")
def test_fake_switch_records_a_flow_mod() -> None:
    received, proc = run_ofctl(["-O", "OpenFlow13", "add-flow", "TARGET", "actions=drop"])
    assert proc.returncode == 0, proc.stderr
    types = [(m[0], m[1]) for m in received]
    assert (4, 14) in types  # OFPT_FLOW_MOD in OpenFlow 1.3
    assert types[0][1] == OFPT_HELLO


if __name__ == "__main__":
    if sys.argv[1:] == ["action_text"]:
        regenerate_action_text()
    elif sys.argv[1:] == ["ofp_print_at"]:
        regenerate_ofp_print_at()
    else:
        regenerate(sys.argv[1:])
