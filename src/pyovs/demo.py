"""``make demo``: the Open vSwitch namespace tutorial, on pyovs.

The steps of the tutorial (two network namespaces, a veth pair for each,
``add-br``, ``add-port``, ping from one to the other), run against the
pyovs stack in a private run directory:

1. ``pyovs up``'s work: a database from the bundled schema,
   ``pyovsdb-server`` and ``pyovs-vswitchd`` detached;
2. two namespaces with a veth pair each (as root), or, without root, two
   ``dummy`` ports (in-memory devices) standing in for them -- the demo
   says which;
3. ``pyovs-vsctl add-br br0`` and ``add-port`` for both ends, without
   ``--no-wait`` (each command returns once vswitchd applied it);
4. a ping from one host to the other (with dummy ports, the switch is fed
   the same ICMP echo request and reply frames, and prints what each port
   sent);
5. ``pyovs-vsctl show``, ``pyovs-ofctl dump-flows br0``, the learned MACs
   (``fdb/show``) and the datapath flows (``dpctl/dump-flows``);
   ``PYOVS_DEMO_DUMMY=1`` asks for the dummy ports even as root;
6. cleanup: the daemons stop, the namespaces and links are deleted, the
   directory removed -- also when a step fails.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from pyovs.cli import stack
from pyovs.packet import build

BIN = Path(sys.executable).parent


def say(text: str) -> None:
    print(f"\n== {text}", flush=True)


def run(*argv: str, check: bool = True, show: bool = True) -> str:
    if show:
        print(f"$ {' '.join(argv)}", flush=True)
    proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    if show and out:
        print(out, end="" if out.endswith("\n") else "\n", flush=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed with status {proc.returncode}")
    return proc.stdout


def tool(name: str) -> str:
    return str(BIN / name)


def appctl(*args: str, show: bool = True) -> str:
    return run(tool("pyovs-appctl"), "-t", "pyovs-vswitchd", *args, show=show)


@contextlib.contextmanager
def private_dirs() -> Iterator[str]:
    d = tempfile.mkdtemp(prefix="pyovs-demo-")
    saved = {k: os.environ.get(k) for k in ("OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR")}
    for k in saved:
        os.environ[k] = d
    try:
        yield d
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(d, ignore_errors=True)


def _mac(i: int) -> bytes:
    return bytes([0x02, 0, 0, 0, 0, i])


def _icmp_frame(src: int, dst: int, kind: int) -> str:
    """An Ethernet/IPv4/ICMP echo frame from host ``src`` to host ``dst``."""
    icmp = build.icmp4(kind, 0, struct.pack("!HH", 0x1234, 1) + b"pyovs demo")
    ip = build.ipv4(bytes([10, 10, 10, src]), bytes([10, 10, 10, dst]), 1, icmp, ident=1,
                    frag=0)
    return build.eth(_mac(dst), _mac(src), 0x0800, ip).hex()


_PING = """
import socket, struct, sys, time
def csum(b):
    s = sum(struct.unpack(f"!{len(b) // 2}H", b)); s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
for seq in (1, 2, 3):
    body = struct.pack("!HH", 7, seq) + b"pyovs demo"
    t = time.monotonic()
    s.sendto(struct.pack("!BBH", 8, 0, csum(b"\\x08\\0\\0\\0" + body)) + body, (sys.argv[1], 0))
    data, (src, _) = s.recvfrom(2048)
    print(f"reply from {src}: icmp_seq={seq} time={(time.monotonic() - t) * 1e3:.2f} ms")
"""


def with_namespaces(vsctl: list[str]) -> None:
    token = secrets.token_hex(2)
    # The bridge's own interface is a device of this namespace: keep out of
    # the way of a br0 that something else already created.
    br = "br0" if not os.path.exists("/sys/class/net/br0") else f"br{token}"
    ns = [f"demo{token}a", f"demo{token}b"]
    links = [f"veth{token}a", f"veth{token}b"]
    try:
        say("two hosts: network namespaces, each cabled to the switch with a veth pair")
        for i, (n, link) in enumerate(zip(ns, links, strict=True)):
            run("ip", "netns", "add", n)
            run("ip", "link", "add", link, "type", "veth", "peer", "name", f"{link}h")
            run("ip", "link", "set", f"{link}h", "netns", n)
            run("ip", "-n", n, "addr", "add", f"10.10.10.{i + 1}/24", "dev", f"{link}h")
            run("ip", "-n", n, "link", "set", f"{link}h", "up")
            run("ip", "-n", n, "link", "set", "lo", "up")
            run("ip", "link", "set", link, "up")
        say("the switch: add-br and add-port with pyovs-vsctl")
        run(*vsctl, "add-br", br)
        for link in links:
            run(*vsctl, "add-port", br, link)
        say("ping from one namespace to the other, through br0")
        if shutil.which("ping"):
            run("ip", "netns", "exec", ns[0], "ping", "-c", "3", "-i", "0.2", "10.10.10.2")
        else:
            run("ip", "netns", "exec", ns[0], sys.executable, "-c", _PING, "10.10.10.2")
        show_state(vsctl, br)
    finally:
        for n in ns:
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        for link in links:
            subprocess.run(["ip", "link", "del", link], capture_output=True)


def with_dummy_ports(vsctl: list[str]) -> None:
    say("not root: the two hosts are dummy ports (in-memory devices) instead of "
        "namespaces with veth pairs")
    run(*vsctl, "add-br", "br0")
    for i in (1, 2):
        run(*vsctl, "add-port", "br0", f"host{i}", "--", "set", "interface", f"host{i}",
            "type=dummy", f"ofport_request={i}")
    say("host1 pings host2: the echo request goes in at host1 ...")
    appctl("netdev-dummy/receive", "host1", _icmp_frame(1, 2, 8))
    say("... leaves at host2 (flooded: the switch has not learned host2 yet)")
    appctl("netdev-dummy/sent", "host2")
    say("host2's echo reply goes in at host2 and leaves at host1 only (host1 was learned)")
    appctl("netdev-dummy/receive", "host2", _icmp_frame(2, 1, 0))
    appctl("netdev-dummy/sent", "host1")
    show_state(vsctl, "br0")


def show_state(vsctl: list[str], br: str) -> None:
    say("pyovs-vsctl show")
    run(*vsctl, "show")
    say("the OpenFlow table: the default NORMAL flow of a standalone bridge")
    run(tool("pyovs-ofctl"), "dump-flows", br)
    say("learned MAC addresses")
    appctl("fdb/show", br)
    say("datapath flows (megaflows installed by the first packets)")
    appctl("dpctl/dump-flows")


def main() -> int:
    root = (os.geteuid() == 0 and shutil.which("ip") is not None
            and not os.environ.get("PYOVS_DEMO_DUMMY"))
    with private_dirs() as d:
        say(f"starting pyovsdb-server and pyovs-vswitchd in {d}")
        stack.up(verbose=False)
        run(tool("pyovs"), "status")
        vsctl = [tool("pyovs-vsctl"), f"--db=unix:{stack.db_socket()}", "--timeout=20"]
        try:
            if root:
                with_namespaces(vsctl)
            else:
                with_dummy_ports(vsctl)
        finally:
            say("cleaning up")
            stack.down()
            time.sleep(0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
