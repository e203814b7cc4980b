"""Run ovs-vsctl-style command sequences and make their results comparable.

The differential suite runs each sequence twice -- once through the real
``/usr/bin/ovs-vsctl``, once through ``pyovs-vsctl`` -- each against its own
fresh ``pyovsdb-server``, and compares what a user sees: every command's exit
status, standard output and standard error, and the database afterwards.

What differs legitimately is masked, nothing else:

* UUIDs (the servers draw them at random) become ``<0>``, ``<1>``... in
  order of first appearance, across a whole sequence and its final dump;
* the tool's name and path (``ovs-vsctl`` vs ``pyovs-vsctl``) become
  ``TOOL``, and log timestamps become ``TIME``;
* output whose order comes from UUID hashes (several rows of ``list``, the
  bridges of ``show``) is put into a canonical order first, when the step
  says so.

``FakeVswitchd`` plays ovs-vswitchd's part in the ``next_cfg``/``cur_cfg``
protocol, so that sequences can run without ``--no-wait``: it copies
``next_cfg`` into ``cur_cfg`` and gives new interfaces an ``ofport`` (-1 and
an ``error`` for names starting with ``bad``, so the tool's "Error detected
while setting up" report can be compared too).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import peers

REAL_VSCTL = Path("/usr/bin/ovs-vsctl")
PYOVS_VSCTL = peers.VENV_BIN / "pyovs-vsctl"
TOOLS = {"real": REAL_VSCTL, "pyovs": PYOVS_VSCTL}

_STAMP_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|")


@dataclass(frozen=True)
class Step:
    """One tool invocation: ``argv`` after ``--db=... [--no-wait]``."""

    argv: tuple[str, ...]
    order: str | None = None
    """How to canonicalise stdout: None, "lines", "records" or "tree"."""
    wait: bool = False
    """Run without ``--no-wait`` (needs ``FakeVswitchd``)."""
    background: bool = False
    """Start it and go on; its result is collected at the next ``join`` step."""
    join: bool = False
    """Not a command: wait for the background step and record its result."""
    env: tuple[tuple[str, str], ...] = ()
    names: bool = False
    """Mask the tool's name everywhere in stdout (``--help``), not just in errors."""


def step(*argv: str, order: str | None = None, wait: bool = False,
         background: bool = False, env: tuple[tuple[str, str], ...] = (),
         names: bool = False) -> Step:
    return Step(tuple(argv), order, wait, background, False, env, names)


JOIN = Step((), join=True)


def _tree_sort(lines: list[str], numbering: peers.UuidNumbering) -> list[str]:
    """Sort sibling blocks of an indented tree (``show``) recursively."""
    def depth(line: str) -> int:
        return len(line) - len(line.lstrip(" "))

    def blocks(items: list[str]) -> list[list[str]]:
        out: list[list[str]] = []
        for line in items:
            if out and depth(line) > depth(out[-1][0]):
                out[-1].append(line)
            else:
                out.append([line])
        return out

    def render(block: list[str]) -> list[str]:
        head, rest = block[0], block[1:]
        children = [render(b) for b in blocks(rest)]
        children.sort(key=lambda b: numbering.peek("\n".join(b)))
        return [head] + [line for child in children for line in child]

    top = [render(b) for b in blocks(lines)]
    top.sort(key=lambda b: numbering.peek("\n".join(b)))
    return [line for b in top for line in b]


def canonical(text: str, order: str | None, numbering: peers.UuidNumbering) -> str:
    if order == "lines":
        lines = text.splitlines()
        text = "".join(f"{line}\n" for line in sorted(lines, key=numbering.peek))
    elif order == "records":
        records = [r for r in text.split("\n\n") if r.strip()]
        records = [r.rstrip("\n") for r in records]
        records.sort(key=numbering.peek)
        text = "\n\n".join(records) + ("\n" if records else "")
    elif order == "tree":
        text = "".join(f"{line}\n" for line in _tree_sort(text.splitlines(), numbering))
    return numbering.text(text)


def _clean_stderr(text: str, tool: Path) -> str:
    text = text.replace(str(tool), "TOOL")
    text = re.sub(rf"(?m)^{re.escape(tool.name)}:", "TOOL:", text)
    return _STAMP_RE.sub("TIME|", text)


def dump_db(server: peers.DbServer) -> dict[str, Any]:
    """Every row of every table (``_version`` left out)."""
    tables = sorted(json.loads(server.schema_path.read_text())["tables"])
    with peers.connect(server) as c:
        reply = c.call("transact", ["Open_vSwitch", *[
            {"op": "select", "table": t, "where": []} for t in tables]])
    out: dict[str, Any] = {}
    for table, result in zip(tables, reply["result"], strict=True):
        rows = [{k: v for k, v in row.items() if k != "_version"} for row in result["rows"]]
        if rows:
            out[table] = {"rows": rows}
    return out


def normalize_db(dump: dict[str, Any], numbering: peers.UuidNumbering) -> Any:
    """Name every row's UUID in a content order, then normalise the dump.

    Rows are numbered in the order of their contents with every UUID masked
    (names tell rows apart), so that references between rows get the same
    numbers in both runs whatever UUIDs the servers drew.
    """
    masked = peers.UUID_RE
    for table in sorted(dump):
        rows = dump[table]["rows"]
        keyed = sorted(rows, key=lambda r: (numbering.peek(str(r["_uuid"][1])),
                                            masked.sub("<?>", json.dumps(r, sort_keys=True))))
        for row in keyed:
            numbering.name(row["_uuid"][1])
    return peers.normalize(dump, numbering)


class FakeVswitchd:
    """Answers the ``next_cfg`` protocol like ovs-vswitchd, over the wire."""

    def __init__(self, server: peers.DbServer) -> None:
        self.client = server.client(timeout=5.0)
        reply = self.client.call("monitor", ["Open_vSwitch", "fake-vswitchd", {
            "Open_vSwitch": {"columns": ["next_cfg", "cur_cfg"]},
            "Interface": {"columns": ["name", "ofport"]}}])
        self._stop = threading.Event()
        self._next_ofport = 1
        self._pending = [{"method": "update", "params": [None, reply["result"]]}]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                notes = self._pending + self.client.recv_notifications(0.02)
            except (OSError, peers.ConnectionClosed):
                return
            self._pending = []
            ops: list[dict[str, Any]] = []
            for note in notes:
                if note.get("method") != "update":
                    continue
                tables = note["params"][1]
                for uuid, change in tables.get("Interface", {}).items():
                    new = change.get("new")
                    if new is not None and new["ofport"] == ["set", []]:
                        row: dict[str, Any] = {"ofport": self._next_ofport}
                        if new["name"].startswith("bad"):
                            row = {"ofport": -1, "error": f"could not open network device "
                                   f"{new['name']} (No such device)"}
                        else:
                            self._next_ofport += 1
                        ops.append({"op": "update", "table": "Interface", "row": row,
                                    "where": [["_uuid", "==", ["uuid", uuid]]]})
                for uuid, change in tables.get("Open_vSwitch", {}).items():
                    new = change.get("new")
                    if new and new["next_cfg"] != new["cur_cfg"]:
                        ops.append({"op": "update", "table": "Open_vSwitch",
                                    "where": [["_uuid", "==", ["uuid", uuid]]],
                                    "row": {"cur_cfg": new["next_cfg"]}})
            if ops:
                ops.sort(key=lambda op: op["table"] == "Open_vSwitch")
                try:
                    self.client.send({"method": "transact", "id": self.client.new_id(),
                                      "params": ["Open_vSwitch", *ops]})
                except OSError:
                    return

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        self.client.close()


def _raw(proc_rc: int, stdout: str, stderr: str, s: Step, tool: Path,
         server: peers.DbServer) -> list[Any]:
    stdout = stdout.replace(str(server.dir), "DIR")
    stderr = stderr.replace(str(server.dir), "DIR")
    if s.names:
        stdout = re.sub(rf"\b{re.escape(tool.name)}\b", "TOOL", stdout)
    return [s, proc_rc, stdout, _clean_stderr(stderr, tool)]


_INDEX_PAIR_RE = re.compile(
    r"First row, with UUID (\S+), (.*?)\.  Second row, with UUID (\S+), (.*?)\.")
_UUID_LIST_RE = re.compile(r"\[(<\d+>(?:, <\d+>)+)\]")
_HTML_SHORT_RE = re.compile(r'(<a name="<\d+>">)[0-9a-f]{8}(</a>)')


def _order_pair(m: re.Match[str]) -> str:
    (u1, d1), (u2, d2) = sorted([(m.group(1), m.group(2)), (m.group(3), m.group(4))],
                                key=lambda pair: pair[1])
    return f"First row, with UUID {u1}, {d1}.  Second row, with UUID {u2}, {d2}."


def _finish(text: str, order: str | None, numbering: peers.UuidNumbering) -> str:
    # The server names the two rows of an index collision in hash order.
    text = _INDEX_PAIR_RE.sub(_order_pair, text)
    text = canonical(text, order, numbering)
    # Sets of references print in UUID order, which differs from run to run.
    text = _UUID_LIST_RE.sub(lambda m: "[" + ", ".join(sorted(
        m.group(1).split(", "), key=lambda u: int(u[1:-1]))) + "]", text)
    return _HTML_SHORT_RE.sub(r"\1SHORT\2", text)


def run_sequence(kind: str, steps: list[Step], tmp: Path, *,
                 fake_vswitchd: bool = False) -> dict[str, Any]:
    """Run ``steps`` through the ``kind`` tool on a fresh pyovsdb-server."""
    tool = TOOLS[kind]
    raw: list[list[Any]] = []
    with peers.DbServer("pyovs", "vswitch", tmp_dir=tmp) as server:
        vswitchd = FakeVswitchd(server) if fake_vswitchd else None
        background: tuple[subprocess.Popen[str], Step] | None = None
        try:
            for s in steps:
                if s.join:
                    assert background is not None
                    proc, bstep = background
                    out, err = proc.communicate(timeout=20)
                    raw.append(_raw(proc.returncode, out, err, bstep, tool, server))
                    background = None
                    continue
                argv = [str(tool), f"--db={server.remote}"]
                if not s.wait:
                    argv.append("--no-wait")
                argv += s.argv
                env = dict(server.env)
                env.update(s.env)
                if s.background:
                    background = (subprocess.Popen(argv, env=env, cwd=server.dir, text=True,
                                                   stdout=subprocess.PIPE,
                                                   stderr=subprocess.PIPE), s)
                    continue
                proc = subprocess.run(argv, env=env, cwd=server.dir, capture_output=True,
                                      text=True, timeout=30)
                raw.append(_raw(proc.returncode, proc.stdout, proc.stderr, s, tool, server))
            dump = dump_db(server)
        finally:
            if background is not None:
                background[0].send_signal(signal.SIGKILL)
                background[0].communicate()
            if vswitchd is not None:
                vswitchd.stop()
    # Rows still present are numbered by content first, so that the numbers
    # do not depend on the order in which the outputs happen to show them.
    numbering = peers.UuidNumbering()
    db = normalize_db(dump, numbering)
    results = [[" ".join(s.argv), rc, _finish(out, s.order, numbering),
                _finish(err, None, numbering)] for s, rc, out, err in raw]
    return {"steps": results, "db": db}
