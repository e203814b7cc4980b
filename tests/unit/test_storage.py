"""The standalone log file format: records, torn tails, locks, compaction."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pyovs.ovsdb.storage import (
    ClusteredDatabaseError,
    LockError,
    Lockfile,
    LogFile,
    OpenMode,
    StorageError,
    compose_record,
    lockfile_name,
    parse_json_body,
    to_json_text,
)

SCHEMA: dict[str, Any] = {
    "name": "T",
    "version": "1.0.0",
    "tables": {"t": {"columns": {"s": {"type": "string"}, "r": {"type": "real"}}}},
}
TXNS: list[dict[str, Any]] = [
    {"t": {"11111111-1111-1111-1111-111111111111": {"s": "a/é\t\"\\", "r": 1.5}},
     "_date": 1700000000000, "_is_diff": True},
    {"t": {"11111111-1111-1111-1111-111111111111": None}, "_date": 1700000000001,
     "_comment": "delete"},
]


def make_log(path: Path, records: list[dict[str, Any]]) -> None:
    with LogFile.open(path, OpenMode.CREATE) as log:
        for record in records:
            log.write(record)
        log.commit()


def read_all(path: Path, mode: OpenMode = OpenMode.READ_ONLY) -> list[dict[str, Any]]:
    with LogFile.open(path, mode) as log:
        return list(iter(log.read, None))


# -- record format ------------------------------------------------------------


def test_record_is_header_then_body_with_newline_counted_and_hashed() -> None:
    record = compose_record({"a": [1, "x"]})
    header, body = record.split(b"\n", 1)
    assert body == b'{"a":[1,"x"]}\n'
    digest = hashlib.sha1(body).hexdigest()
    assert header == f"OVSDB JSON {len(body)} {digest}".encode()


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    make_log(path, [SCHEMA, *TXNS])
    assert read_all(path) == [SCHEMA, *TXNS]
    assert path.read_bytes() == b"".join(compose_record(r) for r in [SCHEMA, *TXNS])


def test_new_file_is_created_0660_less_umask_and_lock_file_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    old = os.umask(0o027)
    try:
        make_log(path, [SCHEMA])
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o640
    assert (tmp_path / ".x.db.~lock~").exists()
    assert lockfile_name(str(path)) == str(tmp_path / ".x.db.~lock~")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("a/b", '"a/b"'),
        ("é€😀", '"é€😀"'),
        ("\x7f", '"\x7f"'),
        ('"\\', '"\\"\\\\"'),
        ("\b\t\n\f\r", '"\\b\\t\\n\\f\\r"'),
        ("\x01\x0b\x1f", '"\\u0001\\u000b\\u001f"'),
        (1.0, "1"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (1 / 3, "0.333333333333333"),
        (1e20, "1e+20"),
        (2.5e-7, "2.5e-07"),
        (-0.0, "-0"),
        (2**63 - 1, "9223372036854775807"),
        (-(2**63), "-9223372036854775808"),
        ({"b": 1, "a": [True, False, None]}, '{"b":1,"a":[true,false,null]}'),
        ((1, 2), "[1,2]"),
    ],
)
def test_json_text_is_what_ovs_writes(value: Any, text: str) -> None:
    assert to_json_text(value) == text


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), 2**63, "a\x00b", {"a\x00": 1}, {1: 2}, b"x", object()]
)
def test_json_text_refuses_what_ovs_cannot_represent(value: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        to_json_text(value)


def test_record_must_be_an_object_and_valid_unicode(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        compose_record([1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        compose_record({"a": "\ud800"})


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (b"[1.0]", [1]),
        (b"[1e2]", [100]),
        (b"[1.5e1]", [15]),
        (b"[-0.0]", [0]),
        (b"[1e-400]", [0.0]),
        (b"[1.5]", [1.5]),
        (b"[9223372036854775807]", [2**63 - 1]),
        (b"[9223372036854775808]", [9.223372036854775808e18]),
        (b'{"a":"\\ud83d\\ude00"}', {"a": "😀"}),
        (b' {"a":1} \n', {"a": 1}),
    ],
)
def test_numbers_and_strings_parse_as_ovs_parses_them(text: bytes, value: Any) -> None:
    result = parse_json_body(text)
    assert result == value
    assert [type(x) for x in result] == [type(x) for x in value]


@pytest.mark.parametrize(
    "text",
    [b"[NaN]", b"[Infinity]", b"[1e400]", b"[5e-324]", b"[-1e-310]", b'["\\u0000"]',
     b'["\\ud800"]', b"1", b'"s"', b"[1", b"[\xff]", b"", b'{"a":1}{}'],
)
def test_json_ovs_refuses_is_refused(text: bytes) -> None:
    with pytest.raises(ValueError):
        parse_json_body(text)


# -- reading what is there -----------------------------------------------------


def test_reading_ovs_header_variants(tmp_path: Path) -> None:
    body = b'{"a":1}\n'
    digest = hashlib.sha1(body).hexdigest().upper()
    path = tmp_path / "x.db"
    path.write_bytes(f"OVSDB JSON  +{len(body)} {digest}\n".encode() + body)
    assert read_all(path) == [{"a": 1}]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"garbage\n", "ovsdb error: {p}: unexpected file format"),
        (b"OVSDB JSON 5", "ovsdb error: {p}: unexpected file format"),
        (b"OVSDB FOO 2 " + b"0" * 40 + b"\n{}", "ovsdb error: {p}: cannot identify file type"),
        (b"", "ovsdb error: {p}: cannot identify file type"),
    ],
)
def test_files_that_are_not_standalone_logs_are_refused(
        tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(content)
    with pytest.raises(StorageError) as info:
        LogFile.open(str(path))
    assert str(info.value) == message.format(p=path)


def test_clustered_database_is_refused_clearly(tmp_path: Path) -> None:
    body = b'{"cluster_id":"x"}\n'
    path = tmp_path / "c.db"
    path.write_bytes(
        f"OVSDB CLUSTER {len(body)} {hashlib.sha1(body).hexdigest()}\n".encode() + body)
    with pytest.raises(ClusteredDatabaseError, match="clustered databases are not supported"):
        LogFile.open(path, OpenMode.READ_WRITE)
    Lockfile.lock(path).unlock()  # the failed open released its lock


def test_empty_file_just_created_reads_nothing(tmp_path: Path) -> None:
    with LogFile.open(tmp_path / "x.db", OpenMode.CREATE) as log:
        assert log.read() is None
        assert log.error is None
        assert log.offset == 0


def test_create_fails_if_file_exists_with_ovsdb_tools_message(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(compose_record(SCHEMA))
    with pytest.raises(StorageError) as info:
        LogFile.open(str(path), OpenMode.CREATE)
    assert str(info.value) == f"I/O error: {path}: create failed (File exists)"
    # The lock taken for the attempt was released again.
    LogFile.open(path, OpenMode.READ_WRITE).close()


def test_open_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.db"
    with pytest.raises(StorageError) as info:
        LogFile.open(str(path))
    assert str(info.value) == f"I/O error: {path}: open failed (No such file or directory)"


# -- torn and corrupt tails ------------------------------------------------------


def test_torn_tail_at_every_byte_of_the_last_record(tmp_path: Path) -> None:
    good = b"".join(compose_record(r) for r in [SCHEMA, TXNS[0]])
    last = compose_record(TXNS[1])
    extra = {"_date": 5, "_comment": "after"}
    path = tmp_path / "x.db"
    for cut in range(len(last)):
        path.write_bytes(good + last[:cut])
        with LogFile.open(path, OpenMode.READ_WRITE) as log:
            assert [log.read(), log.read(), log.read(), log.read()] == [
                SCHEMA, TXNS[0], None, None]
            assert log.offset == len(good)
            if cut == 0:
                assert log.error is None
            else:
                assert log.warning is not None and str(path) in log.warning
            log.write(extra)
            log.commit()
        assert path.read_bytes() == good + compose_record(extra), cut
        assert read_all(path) == [SCHEMA, TXNS[0], extra]


def test_torn_header_message_names_offset(tmp_path: Path) -> None:
    good = compose_record(SCHEMA)
    path = tmp_path / "x.db"
    path.write_bytes(good + b"OVSDB JS")
    with LogFile.open(str(path)) as log:
        assert log.read() == SCHEMA
        assert log.read() is None
    assert log.warning == (
        f'syntax error: {path}: parse error at offset {len(good)} in header line "OVSDB JS"')


def test_torn_body_message(tmp_path: Path) -> None:
    good = compose_record(SCHEMA)
    last = compose_record(TXNS[0])
    header_len = last.index(b"\n") + 1
    path = tmp_path / "x.db"
    path.write_bytes(good + last[:-3])
    with LogFile.open(str(path)) as log:
        assert list(iter(log.read, None)) == [SCHEMA]
    length = len(last) - header_len
    assert log.warning == (f"I/O error: {path}: error reading {length} bytes starting at "
                           f"offset {len(good) + header_len} (End of file)")


def test_sha1_mismatch_stops_reading(tmp_path: Path) -> None:
    good = compose_record(SCHEMA)
    bad = bytearray(compose_record({"_comment": "abc"}))
    bad[-3] = ord("x")  # "abc" -> "axc"
    path = tmp_path / "x.db"
    path.write_bytes(good + bytes(bad) + compose_record({"_comment": "later"}))
    with LogFile.open(str(path), OpenMode.READ_WRITE) as log:
        assert list(iter(log.read, None)) == [SCHEMA]
        assert log.warning is not None
        assert log.warning.startswith(f"syntax error: {path}: ")
        assert "have SHA-1 hash" in log.warning and "but should have hash" in log.warning
        log.write({"_comment": "new"})
    assert read_all(path) == [SCHEMA, {"_comment": "new"}]


def test_bad_json_and_non_object_with_valid_hash(tmp_path: Path) -> None:
    for body, expected in [(b"{1]\n", "are not valid JSON (line 0,"),
                           (b"[1]\n", "are not a JSON object")]:
        path = tmp_path / "x.db"
        header = f"OVSDB JSON {len(body)} {hashlib.sha1(body).hexdigest()}\n".encode()
        good = compose_record(SCHEMA)
        path.write_bytes(good + header + body)
        with LogFile.open(path) as log:
            assert list(iter(log.read, None)) == [SCHEMA]
        assert log.warning is not None
        assert f"4 bytes starting at offset {len(good) + len(header)} {expected}" in log.warning


@pytest.mark.parametrize("length", [10**12, 2**64 - 2])
def test_oversized_length_is_an_end_of_file_error(tmp_path: Path, length: int) -> None:
    path = tmp_path / "x.db"
    good = compose_record(SCHEMA)
    header = f"OVSDB JSON {length} {'0' * 40}\n".encode()
    path.write_bytes(good + header + b"{}\n")
    with LogFile.open(path) as log:
        assert list(iter(log.read, None)) == [SCHEMA]
    assert log.warning == (f"I/O error: {path}: error reading {length} bytes starting at "
                           f"offset {len(good) + len(header)} (End of file)")


@pytest.mark.parametrize("length", ["0", str(2**64 - 1), str(2**64), "-3", "x"])
def test_impossible_length_is_a_header_error(tmp_path: Path, length: str) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(compose_record(SCHEMA) + f"OVSDB JSON {length} {'0' * 40}\n".encode())
    with LogFile.open(path) as log:
        assert list(iter(log.read, None)) == [SCHEMA]
    assert log.warning is not None and "parse error at offset" in log.warning


def test_header_longer_than_ovs_reads_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    long_header = b"OVSDB JSON " + b" " * 80 + b"3 " + b"0" * 40 + b"\n{}\n"
    path.write_bytes(compose_record(SCHEMA) + long_header)
    with LogFile.open(path) as log:
        assert list(iter(log.read, None)) == [SCHEMA]
    assert log.warning is not None and "parse error" in log.warning


def test_unread_lets_the_next_write_overwrite_the_record(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    make_log(path, [SCHEMA, *TXNS])
    with LogFile.open(path, OpenMode.READ_WRITE) as log:
        assert [log.read(), log.read()] == [SCHEMA, TXNS[0]]
        log.unread()
        assert log.read() is None
        log.write({"_comment": "replaced"})
    assert read_all(path) == [SCHEMA, {"_comment": "replaced"}]


def test_read_only_log_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    make_log(path, [SCHEMA])
    with LogFile.open(path) as log:
        assert log.lockfile is None
        with pytest.raises(StorageError, match="write failed"):
            log.write({})
    assert read_all(path) == [SCHEMA]


def test_unserializable_record_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    make_log(path, [SCHEMA])
    with LogFile.open(path, OpenMode.READ_WRITE) as log:
        log.read()
        with pytest.raises(ValueError):
            log.write({"r": float("nan")})
        log.write({"ok": 1})
    assert read_all(path) == [SCHEMA, {"ok": 1}]


# -- locking ---------------------------------------------------------------------

HOLD_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("locked", flush=True)
sys.stdin.read()
"""


def test_lock_held_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    make_log(path, [SCHEMA])
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, lockfile_name(str(path))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        with pytest.raises(LockError) as info:
            LogFile.open(str(path), OpenMode.READ_WRITE)
        assert str(info.value) == (
            f"I/O error: {path}: failed to lock lockfile (Resource temporarily unavailable)")
        assert info.value.warning == (f"{lockfile_name(str(path))}: cannot lock file because "
                                      f"it is already locked by pid {holder.pid}")
        assert read_all(path) == [SCHEMA]  # readers take no lock
    finally:
        holder.communicate("", timeout=10)
    LogFile.open(path, OpenMode.READ_WRITE).close()


def test_lock_held_by_this_process(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    make_log(path, [SCHEMA])
    with LogFile.open(path, OpenMode.READ_WRITE):
        with pytest.raises(LockError) as info:
            LogFile.open(path, OpenMode.READ_WRITE)
        assert "this process has already locked it" in info.value.warning
        assert "Resource deadlock avoided" in str(info.value)
    with LogFile.open(path, OpenMode.READ_WRITE) as log:  # released on close
        assert log.read() == SCHEMA


def test_symlinked_database_shares_the_target_lock(tmp_path: Path) -> None:
    real = tmp_path / "real.db"
    make_log(real, [SCHEMA])
    link = tmp_path / "link.db"
    link.symlink_to("real.db")
    assert lockfile_name(str(link)) == str(tmp_path / ".real.db.~lock~")
    with LogFile.open(real, OpenMode.READ_WRITE), pytest.raises(LockError):
        LogFile.open(link, OpenMode.READ_WRITE)


# -- compaction --------------------------------------------------------------------


def test_replace_is_atomic_and_appends_continue(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    make_log(path, [SCHEMA, *TXNS])
    (tmp_path / "x.db.tmp").write_bytes(b"stale leftover")
    before = path.stat().st_ino
    snapshot = {"t": {}, "_date": 7, "_comment": "compacting database online"}
    with LogFile.open(path, OpenMode.READ_WRITE) as log:
        assert len(list(iter(log.read, None))) == 3
        log.replace([SCHEMA, snapshot])
        assert not (tmp_path / "x.db.tmp").exists()
        assert path.stat().st_ino != before
        assert log.offset == log.base == path.stat().st_size
        log.write({"_comment": "after"})
        log.commit()
    assert read_all(path) == [SCHEMA, snapshot, {"_comment": "after"}]


def test_failed_replace_leaves_the_original_in_use(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    make_log(path, [SCHEMA, *TXNS])
    original = path.read_bytes()
    with LogFile.open(path, OpenMode.READ_WRITE) as log:
        list(iter(log.read, None))
        with pytest.raises(ValueError):
            log.replace([SCHEMA, {"bad": float("inf")}])
        assert path.read_bytes() == original
        assert not (tmp_path / "x.db.tmp").exists()
        log.write({"_comment": "still appending"})
    assert read_all(path) == [SCHEMA, *TXNS, {"_comment": "still appending"}]


def test_replace_through_symlink_replaces_the_target(tmp_path: Path) -> None:
    real = tmp_path / "real.db"
    make_log(real, [SCHEMA, *TXNS])
    link = tmp_path / "link.db"
    link.symlink_to("real.db")
    with LogFile.open(link, OpenMode.READ_WRITE) as log:
        list(iter(log.read, None))
        log.replace([SCHEMA])
    assert link.is_symlink()
    assert read_all(real) == [SCHEMA]


def big_log(path: Path, n_small: int, big_bytes: int) -> None:
    make_log(path, [SCHEMA, {"_comment": "x" * big_bytes}]
             + [{"_comment": str(i)} for i in range(n_small)])


def test_counters_and_base(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    make_log(path, [SCHEMA, *TXNS])
    with LogFile.open(path, OpenMode.READ_WRITE) as log:
        log.read()
        assert log.base == 0
        log.read()
        assert log.base == log.offset == len(compose_record(SCHEMA) + compose_record(TXNS[0]))
        log.read()
        log.write({"a": 1})
        assert (log.n_read, log.n_written) == (3, 1)
        assert log.offset == path.stat().st_size


def test_should_compact_follows_ovs_rule(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    big_log(path, 98, 6 * 1024 * 1024)
    with LogFile.open(path, OpenMode.READ_WRITE, rng=random.Random(1)) as log:
        list(iter(log.read, None))
        assert log.n_read == 100
        log.write({"pad": "y" * (7 * 1024 * 1024)})  # now > 10 MiB and > 2x base
        assert log.grew_lots()
        assert not log.should_compact(0.0)  # starts the schedule at t=0
        assert not log.should_compact(599.9)  # never before 10 minutes
        assert log.should_compact(1200.0)  # always within 20 minutes

        # The window opens 10 minutes plus a random 0-10 minutes after scheduling.
        delays = set()
        for k in range(20):
            start = 10_000.0 * (k + 1)
            log.schedule_compaction(start)
            delays.add(next(t for t in range(1201) if log.should_compact(start + t)))
        assert min(delays) >= 600 and max(delays) <= 1200 and len(delays) > 5

        # A failed compaction retries after 1-2 minutes.
        with pytest.raises(TypeError):
            log.replace([SCHEMA, {"x": object()}])
        assert not log.should_compact(500_000.0)
        assert not log.should_compact(500_059.9)
        assert log.should_compact(500_120.0)

        # After compacting, the size alone is not enough until the deadline.
        log.replace([SCHEMA])
        assert not log.grew_lots()
        assert not log.should_compact(600_000.0)
        assert not log.should_compact(600_000.0 + 1200.0)
        assert not log.should_compact(600_000.0 + 86399.0)
        assert log.should_compact(600_000.0 + 86400.0)  # deadline: any record at all


def test_should_compact_needs_100_records(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    big_log(path, 0, 11 * 1024 * 1024)
    with LogFile.open(path, OpenMode.READ_WRITE) as log:
        log.read()
        log.read()
        log.write({"pad": "y" * (12 * 1024 * 1024)})
        assert log.grew_lots()
        assert not log.should_compact(0.0)
        assert not log.should_compact(1300.0)  # 3 records
        for _ in range(97):
            log.write({})
        assert log.should_compact(1300.0)


def test_read_only_log_never_compacts(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    make_log(path, [SCHEMA])
    with LogFile.open(path) as log:
        assert not log.should_compact(10**9)
