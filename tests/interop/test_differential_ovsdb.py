"""Differential OVSDB suite: pyovsdb-server must answer exactly as ovsdb-server.

Each ``ovsdb_cases/<topic>.json`` holds a schema and a list of cases; a case
is a sequence of JSON-RPC calls made on one connection to a fresh server.
The responses, normalised by ``peers.normalize`` (UUIDs numbered by first
appearance, UUID-ordered collections sorted), are recorded from the real
ovsdb-server in ``ovsdb_cases/<topic>.golden.json``.

* ``test_real_server``  -- the real ovsdb-server still gives the golden answers
  (validates the cases and goldens; skipped without the Debian packages).
* ``test_pyovs_server`` -- pyovsdb-server gives the golden answers, and, when
  the real server is installed, the same answers as a live run of it.

Case file format::

    {"description": "...",
     "schema": "vswitch" | "ovn-nb" | "ovn-sb" | {inline .ovsschema},
     "cases": [{"name": "...", "schema": <optional override>, "calls": [CALL...]}]}

where a CALL is one of

* ``["method", params]``        -- a request; the response is recorded;
* ``{"ops": [op, ...]}``         -- shorthand for ``["transact", [DB, op...]]``;
* ``{"raw": "text"}``            -- bytes sent as is; the next message is recorded;
* ``{"notify": ["method", params]}`` -- a notification (id null), nothing recorded;
* ``{"notifications": seconds}`` -- the notifications received so far plus
  those arriving within ``seconds``, recorded as a list.

A call that finds the connection closed is recorded as ``"<closed>"`` (and so
is every later one); one that gets no answer in time as ``"<timeout>"``.

Regenerate goldens from the real server (after adding or changing cases)::

    .venv/bin/python -m tests.interop.test_differential_ovsdb --regen [TOPIC...]
    PYOVS_REGEN_GOLDEN=1 .venv/bin/pytest tests/interop/test_differential_ovsdb.py -k real
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import peers

CASE_DIR = Path(__file__).resolve().parent / "ovsdb_cases"
GOLDEN_SUFFIX = ".golden.json"
REGEN_ENV = "PYOVS_REGEN_GOLDEN"
RAW_WAIT = 1.0  # seconds to wait for an answer to raw bytes


@dataclass(frozen=True, slots=True)
class Case:
    topic: str
    """The case file's stem."""
    name: str
    """Unique within its topic."""
    schema: Any
    """A bundled schema name or an inline schema (JSON object)."""
    calls: list[Any]
    """The calls, in the format described in the module docstring."""

    @property
    def id(self) -> str:
        return f"{self.topic}/{self.name}"

    @property
    def db_name(self) -> str:
        if isinstance(self.schema, dict):
            return str(self.schema["name"])
        return str(json.loads(peers.SCHEMAS[self.schema].read_text())["name"])


def case_files() -> list[Path]:
    return sorted(p for p in CASE_DIR.glob("*.json") if not p.name.endswith(GOLDEN_SUFFIX))


def golden_path(topic: str) -> Path:
    return CASE_DIR / f"{topic}{GOLDEN_SUFFIX}"


def load_cases(topics: list[str] | None = None) -> list[Case]:
    cases: list[Case] = []
    for path in case_files():
        if topics and path.stem not in topics:
            continue
        data = json.loads(path.read_text())
        seen: set[str] = set()
        for raw in data["cases"]:
            if raw["name"] in seen:
                raise ValueError(f"{path.name}: duplicate case name {raw['name']!r}")
            seen.add(raw["name"])
            cases.append(Case(path.stem, raw["name"], raw.get("schema", data["schema"]),
                              raw["calls"]))
    return cases


def load_golden(topic: str) -> dict[str, Any]:
    path = golden_path(topic)
    if not path.exists():
        return {}
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def write_golden(topic: str, answers: dict[str, Any]) -> None:
    order = [c.name for c in load_cases([topic])]
    ordered = {name: answers[name] for name in order if name in answers}
    text = json.dumps(ordered, indent=1, sort_keys=False, ensure_ascii=False)
    golden_path(topic).write_text(text + "\n")


# ---------------------------------------------------------------------------
# Running a case


def _schema_file(case: Case, where: Path) -> Path | str:
    if isinstance(case.schema, dict):
        path = where / f"{case.schema['name']}.ovsschema"
        path.write_text(json.dumps(case.schema, indent=1))
        return path
    return str(case.schema)


def _perform(client: peers.RawClient, case: Case, call: Any) -> Any:
    if isinstance(call, list):
        method, params = call
        return client.call(method, params)
    if "ops" in call:
        return client.call("transact", [case.db_name, *call["ops"]])
    if "raw" in call:
        client.send_raw(call["raw"].encode())
        try:
            return client.recv(RAW_WAIT)
        except peers.ConnectionClosed:
            return "<closed>"
        except TimeoutError:
            return "<timeout>"
    if "notify" in call:
        method, params = call["notify"]
        client.notify(method, params)
        return None
    if "notifications" in call:
        return client.recv_notifications(float(call["notifications"]))
    raise ValueError(f"{case.id}: cannot understand call {call!r}")


def run_case(kind: str, case: Case) -> list[Any]:
    """Run ``case`` on a fresh server of ``kind``; the normalised answers."""
    with tempfile.TemporaryDirectory(prefix="ovsdb-case-") as tmp:
        schema = _schema_file(case, Path(tmp))
        with peers.DbServer(kind, schema, tmp_dir=tmp) as server:
            answers: list[Any] = []
            with peers.connect(server) as client:
                for call in case.calls:
                    if client.closed:
                        answers.append("<closed>")
                        continue
                    try:
                        answer = _perform(client, case, call)
                    except peers.ConnectionClosed:
                        answer = "<closed>"
                    except TimeoutError:
                        answer = "<timeout>"
                    if not (isinstance(call, dict) and "notify" in call):
                        answers.append(answer)
            return peers.normalize(answers)  # type: ignore[no-any-return]


def explain(case: Case, expected: list[Any], got: list[Any], what: str) -> str:
    """A readable account of the first differing answer."""
    lines = [f"{case.id}: {what}"]
    calls = [c for c in case.calls if not (isinstance(c, dict) and "notify" in c)]
    for i, (exp, act) in enumerate(zip(expected, got, strict=False)):
        if exp != act:
            lines += [f"first difference at call {i}: {json.dumps(calls[i])[:2000]}",
                      f"expected: {json.dumps(exp, sort_keys=True)[:4000]}",
                      f"got:      {json.dumps(act, sort_keys=True)[:4000]}"]
            break
    else:
        lines.append(f"expected {len(expected)} answers, got {len(got)}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Tests

ALL_CASES = load_cases()


@pytest.mark.real_ovs
@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_real_server(case: Case) -> None:
    got = run_case("real", case)
    if os.environ.get(REGEN_ENV):
        answers = load_golden(case.topic)
        answers[case.name] = got
        write_golden(case.topic, answers)
        return
    golden = load_golden(case.topic)
    if case.name not in golden:
        pytest.fail(f"{case.id}: no golden answer; regenerate with "
                    f"`python -m tests.interop.test_differential_ovsdb --regen {case.topic}`")
    assert got == golden[case.name], explain(
        case, golden[case.name], got, "real ovsdb-server differs from its golden answers "
        "(a changed case needs --regen)")


def mask_txn_ids(answers: Any) -> Any:
    """Replace the last-txn-id of monitor_cond_since replies and update3 notifications.

    A deliberate difference: ovsdb-server keeps no transaction history for a
    standalone database and always answers with the all-zeros id, while
    pyovsdb-server keeps one, so that a reconnecting client resumes.  The id
    is an opaque token either way; everything else must match.
    """
    if isinstance(answers, list):
        return [mask_txn_ids(a) for a in answers]
    if isinstance(answers, dict):
        out = dict(answers)
        result = out.get("result")
        if (isinstance(result, list) and len(result) == 3 and isinstance(result[0], bool)
                and isinstance(result[1], str)):
            out["result"] = [result[0], "<txn-id>", result[2]]
        params = out.get("params")
        if out.get("method") == "update3" and isinstance(params, list) and len(params) == 3:
            out["params"] = [params[0], "<txn-id>", params[2]]
        return out
    return answers


@pytest.mark.pyovs_server
@pytest.mark.parametrize("case", ALL_CASES, ids=lambda c: c.id)
def test_pyovs_server(case: Case) -> None:
    # The real server's answers are the goldens (test_real_server keeps them
    # honest against the live server), so one run of pyovs is enough here.
    golden = load_golden(case.topic)
    if case.name not in golden:
        if peers.real_available() is not None:
            pytest.skip(f"{case.id}: no golden answer and no real ovsdb-server to compare with")
        golden = {case.name: run_case("real", case)}
    got = run_case("pyovs", case)
    expected = mask_txn_ids(golden[case.name])
    assert mask_txn_ids(got) == expected, explain(
        case, expected, mask_txn_ids(got), "pyovsdb-server differs from ovsdb-server")


def test_case_files_are_well_formed() -> None:
    """Every case has calls, and every golden entry still has its case."""
    by_topic: dict[str, set[str]] = {}
    for case in ALL_CASES:
        assert case.calls, f"{case.id} has no calls"
        by_topic.setdefault(case.topic, set()).add(case.name)
    for topic, names in by_topic.items():
        stale = set(load_golden(topic)) - names
        assert not stale, f"{topic}: golden answers without a case: {sorted(stale)}"


def test_normalize_ignores_uuid_values_and_hash_order() -> None:
    """Two runs that differ only in UUIDs and hash order normalise equal."""
    a, b, c = (f"{n}0000000-0000-4000-8000-000000000000" for n in "abc")
    x, y, z = (f"{n}1111111-1111-4111-8111-111111111111" for n in "def")

    def run(u1: str, u2: str, u3: str, flip: bool, swap: bool = False) -> Any:
        r1, r2 = (u2, u1) if swap else (u1, u2)
        rows = [{"_uuid": ["uuid", r1], "n": 1, "s": ["set", [["uuid", u3]]]},
                {"_uuid": ["uuid", r2], "n": 2, "s": ["set", []]}]
        refs = [["uuid", u1], ["uuid", u2]]
        return peers.normalize([
            {"result": [{"uuid": ["uuid", u1]}, {"uuid": ["uuid", u2]}]},
            {"result": [{"rows": rows[::-1] if flip else rows}]},
            {"result": {"T": dict(reversed([(u1, 1), (u2, 2)]) if flip else [(u1, 1), (u2, 2)])}},
            ["set", refs[::-1] if flip else refs],
            f"row {u2} references {u3}; {peers.ZERO_UUID}",
        ])

    assert run(a, b, c, False) == run(x, y, z, True)
    # The row inserted first now has n == 2: a real difference.
    assert run(a, b, c, False) != run(a, b, c, False, swap=True)
    text = run(a, b, c, False)[-1]
    assert text == f"row <1> references <2>; {peers.ZERO_UUID}"


# ---------------------------------------------------------------------------
# Command line: regenerate goldens


def _iter_regen(topics: list[str] | None) -> Iterator[tuple[str, dict[str, Any]]]:
    cases = load_cases(topics)
    for topic in sorted({c.topic for c in cases}):
        answers = {}
        for case in (c for c in cases if c.topic == topic):
            answers[case.name] = run_case("real", case)
        yield topic, answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--regen", action="store_true",
                        help="record golden answers from the real ovsdb-server")
    parser.add_argument("--show", metavar="CASE",
                        help="print the real server's answers for TOPIC/NAME")
    parser.add_argument("--kind", default="real", choices=peers.KINDS)
    parser.add_argument("topics", nargs="*", help="case file stems (default: all)")
    args = parser.parse_args(argv)
    if args.show:
        for case in ALL_CASES:
            if case.id == args.show:
                print(json.dumps(run_case(args.kind, case), indent=1))
                return 0
        print(f"no case {args.show}", file=sys.stderr)
        return 1
    if not args.regen:
        parser.print_help()
        return 2
    reason = peers.real_available()
    if reason:
        print(reason, file=sys.stderr)
        return 1
    for topic, answers in _iter_regen(args.topics or None):
        write_golden(topic, answers)
        print(f"{golden_path(topic)}: {len(answers)} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
