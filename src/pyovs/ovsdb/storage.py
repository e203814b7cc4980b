"""The OVS standalone database file: an append-only log of JSON records.

This is the byte-level layer under ``file.py``, the counterpart of OVS's
``ovsdb/log.c`` plus the standalone half of ``ovsdb/storage.c`` and
``lib/lockfile.c``.  It knows records, offsets, checksums, locks and fsync; it
does not know what a record means.  ``file.py`` turns records into a
``Database`` and back.  Every format fact below was checked against OVS 3.1.0
(source and the Debian ``ovsdb-tool`` binary).

Records
-------
A file is a sequence of records, each a header line and a body::

    OVSDB JSON <length> <sha1>\\n
    <length bytes: compact JSON text of one object, then "\\n">

``<length>`` is decimal and counts the whole body *including* its trailing
new-line; ``<sha1>`` is 40 lower-case hex digits of SHA-1 over those same
``<length>`` bytes.  A reader finds the next header right after the body; it
does not look for new-lines.  OVS reads a header with ``fgets`` into a
128-byte buffer, so a header line is at most 127 bytes; it takes the length
with ``strtoul`` (leading blanks and ``+`` allowed, 0 refused) and accepts
upper-case hex.  We accept the same.

``JSON`` is the *magic* of a standalone database.  A clustered (Raft)
database has the same framing with magic ``CLUSTER``; we recognise it at
open and refuse it, with OVS's message plus "clustered databases are not
supported".  Any other magic is "cannot identify file type", and so is an
existing empty file (ovsdb-server and ovsdb-tool open with two possible magics
and an empty file names neither); a first line that is not a header is
"unexpected file format".  Only ``OpenMode.CREATE`` starts from nothing.

The body is JSON as OVS's own serializer writes it (``lib/json.c``), which
``to_json_text`` reproduces: no spaces; strings escape only ``"``, ``\\``,
``\\b \\t \\n \\f \\r`` and the other C0 controls (as ``\\u00XX``, lower-case
hex) -- non-ASCII is raw UTF-8, ``/`` and DEL are raw; integers as ``%lld``;
reals as ``%.15g`` (so ``1.0`` is written ``1`` and reads back as an integer,
exactly as in OVS).  OVS's object member order is the order of its internal
hash table, neither insertion nor sorted; no reader depends on it, so we keep
the caller's dict order.  OVS's parser differs from Python's on numbers and we
follow OVS (``parse_json_body``): a number whose value is an integer in the
int64 range is an integer even when spelled ``1.0`` or ``1e2``; other numbers
are reals; ``NaN``/``Infinity`` are not JSON; strings may not contain NUL or
unpaired surrogates.  A record must be a JSON object.

What records mean (for ``file.py``)
-----------------------------------
Record 0 is the database schema as ``.ovsschema`` JSON.  Every later record
is one committed transaction::

    {"<Table>": {"<row uuid>": <row> | null, ...}, ...,
     "_date": <wall-clock ms, integer>,
     "_comment": "<text>",          (only when the transaction had a comment)
     "_is_diff": true}              (OVS >= 2.15 writes it unless started with
                                     --disable-file-column-diff)

``null`` deletes the row.  A ``<row>`` is an object of column name ->
datum JSON (RFC 7047 notation).  For a row the database does not have yet it
is an insert and the row lists every persistent column whose value is not the
column's default; missing columns take their defaults, even in a diff record.
For an existing row it is a modification listing only the changed columns.
``_uuid`` and ``_version`` are never written, nor ephemeral columns.  Keys
starting with ``_`` are not tables: OVS skips ``_date`` (if an integer),
``_is_diff`` (if a boolean) and ``_comment``; any other unknown name is an
error ("No table named X.").

In a record with ``"_is_diff": true`` a modified column of an *existing* row
holds a diff against its previous value, not the value itself:

* scalar and optional columns (``max`` 1): the new value, as without diffs;
* sets (``max`` > 1): the symmetric difference -- every element present in
  exactly one of old and new.  Apply it by toggling: an element in the
  current value is removed, one not in it is added;
* maps (``max`` > 1): for each key in the diff: absent from the current
  value -> add the pair; present with a different value -> replace the value
  with the diff's; present with the same value -> remove the key.  (So a
  removed key carries its old value and a changed key its new value.)

A diff datum can be larger than the column's ``max`` (``{a,b}`` -> ``{c,d}``
has the 4-element diff ``{a,b,c,d}``): parse it without the size check and
check the *result*.  Like any set, a one-element diff may be written as a bare
atom.  Two bugs in OVS 3.1.0 itself were fixed in 3.1.2 (commits "ovsdb: file:
Fix inability to read diffs that violate type size" and "... Fix diff
application to a default column value"): 3.1.0 rejected oversized diffs and
*replaced* instead of applying the diff when the current value was the
default.  Follow the fixed rule: apply the diff to every existing row.

A compacted file (``replace``) holds the schema and one record that inserts
every row; OVS marks it ``_is_diff`` too (harmless: all its rows are inserts)
and comments it "compacting database online" (ovsdb-server) or "compacted by
ovsdb-tool 3.1.0".  Records are replayed in order; OVS's server stops at the
first record that cannot be read or applied and keeps what it has, its tools
fail instead.

Reading, torn tails and writing
-------------------------------
``LogFile.read`` returns records one by one and ``None`` at the end.  A
record that cannot be read -- a short or malformed header, a body shorter
than its length, a SHA-1 mismatch, bad JSON or a non-object -- also ends the
stream: ``read`` returns ``None`` and keeps the problem in ``LogFile.error``
(``warning`` is its text, e.g. "syntax error: x.db: 219 bytes starting at
offset 14873 have SHA-1 hash ... but should have hash ...").  That is usually
a write torn by a crash; ovsdb-server logs it and runs with what it read,
ovsdb-tool treats it as fatal.  ``offset`` stays at the end of the last good
record, and the first ``write`` truncates the file there, so new records
never follow garbage.  (Records not yet read are truncated the same way:
read to the end before writing.)  ``unread`` gives back the record just read
when a higher layer cannot apply it; reading stops and the next write
overwrites it, as ``ovsdb_file_read`` does after a failed replay.

``write`` appends one record with one ``write(2)``; if that fails the
partial record is cut off again.  Nothing is durable until ``commit``
(``fdatasync``, which OVS uses too: the data and the file size reach the disk,
the mtime need not): acknowledge a transaction only after ``commit`` returns.

Compaction
----------
``replace(records)`` writes the records into ``<path>.tmp`` (OVS's name,
after following a symlinked path; an old one is removed first), fsyncs it,
renames it over the database, fsyncs the directory and keeps appending to the
new file.  The rename is atomic: a crash leaves the old file or the new one,
never a mix; on failure the old file is untouched and still in use.

OVS 3.1 decides when to compact like this (``ovsdb_storage_should_snapshot``,
``schedule_next_snapshot``, ``ovsdb_log_grew_lots``), and ``should_compact``
does the same with the clock passed in (seconds, any monotonic origin):

* a window opens 10 minutes plus a random 0-10 minutes after the log was
  opened or last compacted (1-2 minutes after a failed compaction), and a
  deadline is set 24 hours after the open or last successful compaction;
* in the window, before the deadline: compact when at least 100 records were
  read and written since the file was opened (OVS never resets this count)
  and the log "grew lots": it is over 10 MiB and more than twice its size
  after the last compaction (or after the first two records on open);
* after the deadline: compact if there was any record at all.

The schedule starts on the first ``should_compact`` call after open or
``replace``; ovsdb-server asks on every pass of its main loop, so that is the
same moment.

Locking
-------
A writer holds an exclusive ``fcntl`` (POSIX record) lock on the whole of
``.<name>.~lock~`` beside the database (after following a symlinked path), as
``lib/lockfile.c`` does, so it excludes the real ovsdb-server and ovsdb-tool
too.  The lock file is created if needed and never removed.  POSIX locks
belong to the process and vanish when *any* descriptor of the file closes, so
like OVS we also keep a table of the locks this process holds and refuse a
second one ("this process has already locked it") instead of silently
sharing it.  Read-only opens take no lock, like OVS's: readers may read while
a writer appends.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import fcntl
import hashlib
import io
import json
import math
import os
import random
import re
import stat
import struct
import threading
from collections.abc import Iterable, Mapping
from typing import Any

from pyovs.ovsdb.errors import OvsdbError
from pyovs.ovsdb.jsontext import parse_json_body, to_json_text

__all__ = [
    "MAGIC",
    "MAGIC_CLUSTERED",
    "ClusteredDatabaseError",
    "LockError",
    "Lockfile",
    "LogFile",
    "OpenMode",
    "StorageError",
    "compose_record",
    "follow_symlinks",
    "fsync_parent_dir",
    "lockfile_name",
    "parse_json_body",
    "to_json_text",
]

MAGIC = "JSON"
"""Header magic of a standalone database (OVS's ``OVSDB_MAGIC``)."""
MAGIC_CLUSTERED = "CLUSTER"
"""Header magic of a clustered database (OVS's ``RAFT_MAGIC``); refused."""

_HEADER_MAX = 127
"""Longest header line OVS reads (``fgets`` into ``char header[128]``)."""
_HEADER_RE = re.compile(
    rb"OVSDB ([^ \n]*) [ \t\n\v\f\r]*\+?([0-9]+) ([0-9A-Fa-f]{40})\n\Z")
_ULONG_MAX = 2**64 - 1
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1

# Compaction rule of OVS 3.1 (see the module docstring), in seconds / bytes.
COMPACT_MIN_DELAY = 10 * 60.0
COMPACT_RANDOM_DELAY = 10 * 60.0
COMPACT_MAX_DELAY = 24 * 60 * 60.0
COMPACT_QUICK_DIVISOR = 10
COMPACT_MIN_RECORDS = 100
COMPACT_MIN_SIZE = 10 * 1024 * 1024


# ---------------------------------------------------------------------------
# Errors


class StorageError(OvsdbError):
    """An error of the log layer, in OVS's terms (an ``ovsdb_error``).

    ``str()`` reads exactly like ``ovsdb_error_to_string``: ``tag: details``
    and, for I/O errors, `` (strerror)``, e.g. "I/O error: x.db: create failed
    (File exists)"; a command-line tool prints it after "ovsdb-tool: ".
    ``tag`` is "I/O error", "syntax error" or "ovsdb error"; ``details``
    starts with the file name as the caller gave it; ``io_error`` is the
    ``strerror`` text of an I/O error (the JSON error's "io-error" member).
    """

    def __init__(self, tag: str, details: str, io_error: str | None = None) -> None:
        super().__init__(tag, details, io_error=io_error)


class LockError(StorageError):
    """The database is locked by another process, or already by this one."""

    def __init__(self, details: str, errno_: int, warning: str) -> None:
        super().__init__("I/O error", details, os.strerror(errno_))
        self.errno = errno_
        self.warning = warning
        """OVS's ``lockfile`` warning, e.g. ".x.db.~lock~: cannot lock file
        because it is already locked by pid 42"; ovsdb-tool prints it first."""


class ClusteredDatabaseError(StorageError):
    """The file is a clustered (Raft) database, which pyovs does not support."""


def _io_error(err: int, details: str) -> StorageError:
    reason = "End of file" if err == -1 else os.strerror(err)
    return StorageError("I/O error", details, reason)


def _syntax_error(details: str) -> StorageError:
    return StorageError("syntax error", details)


def compose_record(record: Mapping[str, Any], no_reals: bool = False) -> bytes:
    """Header and body of one standalone log record, ready to append.

    ``no_reals``: the caller knows the record holds no real number (its
    schema has no real column) and was built from validated data, so the C
    JSON encoder writes exactly what OVS would, much faster.
    """
    if not isinstance(record, Mapping):
        raise TypeError("a log record must be a JSON object (a mapping)")
    if no_reals:
        text = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
    else:
        text = to_json_text(dict(record))
    data = (text + "\n").encode("utf-8")
    digest = hashlib.sha1(data).hexdigest()
    return f"OVSDB {MAGIC} {len(data)} {digest}\n".encode("ascii") + data


def _parse_header(line: bytes) -> tuple[str, int, str] | None:
    """(magic, length, sha1 hex) of a header line, or None if it is not one."""
    match = _HEADER_RE.match(line)
    if match is None:
        return None
    length = int(match.group(2))
    if length == 0 or length >= _ULONG_MAX:
        return None
    return (match.group(1).decode("utf-8", "replace"), length,
            match.group(3).decode("ascii").lower())


# ---------------------------------------------------------------------------
# Paths and lock files


def follow_symlinks(path: str) -> str:
    """The file ``path`` finally names, resolving only its last component(s)."""
    for _ in range(10):
        try:
            if not stat.S_ISLNK(os.lstat(path).st_mode):
                return path
            target = os.readlink(path)
        except OSError:
            return path
        if not os.path.isabs(target):
            directory = os.path.dirname(path)
            target = os.path.join(directory, target) if directory else target
        path = target
    return path


def lockfile_name(path: str | os.PathLike[str]) -> str:
    """OVS's lock file name for ``path``: ``dir/.name.~lock~``."""
    target = follow_symlinks(os.fspath(path))
    directory, name = os.path.split(target)
    return os.path.join(directory, f".{name}.~lock~")


def fsync_parent_dir(path: str) -> None:
    """fsync the directory holding ``path`` (after a create or rename)."""
    # Best effort, as OVS: some file systems cannot sync a directory.
    try:
        fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


_FLOCK = struct.Struct("hhqqi4x")  # struct flock on Linux: type, whence, start, len, pid
_held_locks: dict[tuple[int, int], str] = {}
_held_locks_mutex = threading.Lock()


class Lockfile:
    """An exclusive lock on ``.<name>.~lock~``, compatible with OVS's lockfile.c."""

    def __init__(self, name: str, fd: int, key: tuple[int, int]) -> None:
        self.name = name
        """Path of the lock file."""
        self._fd = fd
        self._key = key

    @classmethod
    def lock(cls, path: str | os.PathLike[str]) -> Lockfile:
        """Lock the database at ``path`` or raise ``LockError``."""
        display = os.fspath(path)
        name = lockfile_name(display)
        details = f"{display}: failed to lock lockfile"
        with _held_locks_mutex:
            try:
                st = os.stat(name)
                if (st.st_dev, st.st_ino) in _held_locks:
                    raise LockError(details, errno.EDEADLK, f"{name}: cannot lock file "
                                    "because this process has already locked it")
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise LockError(details, exc.errno or errno.EIO,
                                f"{name}: failed to stat lock file: {exc.strerror}") from None
            try:
                fd = os.open(name, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as exc:
                raise LockError(details, exc.errno or errno.EIO,
                                f"{name}: failed to open lock file: {exc.strerror}") from None
            try:
                st = os.fstat(fd)
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                code = exc.errno or errno.EIO
                if code == errno.EACCES:
                    code = errno.EAGAIN
                pid = _lock_owner(fd)
                os.close(fd)
                warning = (f"{name}: cannot lock file because it is already locked by pid {pid}"
                           if pid else f"{name}: failed to lock file: {os.strerror(code)}")
                raise LockError(details, code, warning) from None
            key = (st.st_dev, st.st_ino)
            _held_locks[key] = name
            return cls(name, fd, key)

    def unlock(self) -> None:
        """Release the lock (closing the descriptor releases it); idempotent."""
        if self._fd < 0:
            return
        with _held_locks_mutex:
            _held_locks.pop(self._key, None)
            os.close(self._fd)
            self._fd = -1


def _lock_owner(fd: int) -> int:
    """Pid holding a conflicting lock on ``fd``'s file, or 0 if unknown."""
    try:
        query = _FLOCK.pack(fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        answer = fcntl.fcntl(fd, fcntl.F_GETLK, query)
        lock_type, _, _, _, pid = _FLOCK.unpack(answer)
    except (OSError, struct.error):
        return 0
    return pid if lock_type != fcntl.F_UNLCK else 0


# ---------------------------------------------------------------------------
# The log


class OpenMode(enum.Enum):
    """How ``LogFile.open`` opens a file (OVS's ``ovsdb_log_open_mode``)."""

    READ_ONLY = "read-only"
    READ_WRITE = "read-write"
    CREATE = "create"
    """Create a new file; fail if it exists (OVS's ``OVSDB_LOG_CREATE_EXCL``)."""


class _State(enum.Enum):
    READ = enum.auto()
    READ_ERROR = enum.auto()
    WRITE = enum.auto()
    WRITE_ERROR = enum.auto()
    CLOSED = enum.auto()


class LogFile:
    """One open standalone log: read records, append records, compact.

    Read every record first (``read`` until None), then ``write`` and
    ``commit``; ``replace`` to compact when ``should_compact`` says so.
    Counters for the caller: ``offset`` (bytes of good log; the file size once
    writing), ``base`` (``offset`` right after the last compaction, or after
    the first two records read), ``n_read`` / ``n_written`` (records since
    open; ``replace`` counts in neither).
    """

    def __init__(self, display_name: str, abs_name: str, fd: int, mode: OpenMode,
                 lockfile: Lockfile | None, rng: random.Random | None) -> None:
        self.name = display_name
        """The path as the caller gave it, used in messages."""
        self.abs_name = abs_name
        """Absolute path, used for rename (the process may chdir)."""
        self.mode = mode
        self.lockfile = lockfile
        self.error: StorageError | None = None
        """Why reading stopped early, or why the last write failed; the first
        write clears a read error once it has truncated the bad tail."""
        self.offset = 0
        self.base = 0
        self.n_read = 0
        self.n_written = 0
        self._fd = fd
        self._reader: io.BufferedReader | None = io.BufferedReader(
            io.FileIO(fd, "rb", closefd=False))
        self._state = _State.READ
        self._prev_offset = 0
        self._rng = rng if rng is not None else random.Random()
        self._compact_min: float | None = None
        self._compact_max = math.inf
        self._compact_retry_quickly = False

    # -- opening and closing ------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], mode: OpenMode = OpenMode.READ_ONLY, *,
             locking: bool | None = None, rng: random.Random | None = None) -> LogFile:
        """Open or create a standalone log, as ``ovsdb_log_open``.

        ``locking``: None locks unless ``mode`` is read-only (OVS's -1).
        ``rng`` draws the random part of the compaction delay (tests pass a
        seeded one).  Raises ``StorageError`` (``LockError``,
        ``ClusteredDatabaseError``) with OVS's messages, e.g. "I/O error: x.db:
        create failed (File exists)" or "ovsdb error: x.db: unexpected file
        format".
        """
        name = os.fspath(path)
        abs_name = os.path.abspath(name)
        if locking is None:
            locking = mode is not OpenMode.READ_ONLY
        lockfile = Lockfile.lock(name) if locking else None
        try:
            fd = cls._open_fd(name, mode)
            try:
                cls._check_magic(fd, name, mode)
            except BaseException:
                os.close(fd)
                raise
        except BaseException:
            if lockfile is not None:
                lockfile.unlock()
            raise
        return cls(name, abs_name, fd, mode, lockfile, rng)

    @staticmethod
    def _open_fd(name: str, mode: OpenMode) -> int:
        if mode is OpenMode.READ_ONLY:
            flags, op = os.O_RDONLY, "open"
        elif mode is OpenMode.READ_WRITE:
            flags, op = os.O_RDWR, "open"
        else:
            flags, op = os.O_RDWR | os.O_CREAT | os.O_EXCL, "create"
            # O_EXCL fails on a dangling symlink; OVS creates its target instead.
            if os.path.islink(name) and not os.path.exists(name):
                flags &= ~os.O_EXCL
        try:
            return os.open(name, flags | getattr(os, "O_CLOEXEC", 0), 0o660)
        except OSError as exc:
            raise _io_error(exc.errno or errno.EIO, f"{name}: {op} failed") from None

    @staticmethod
    def _check_magic(fd: int, name: str, mode: OpenMode) -> None:
        try:
            first = os.pread(fd, _HEADER_MAX, 0)
        except OSError as exc:
            raise _io_error(exc.errno or errno.EIO, f"{name}: read error") from None
        if not first:
            if mode is OpenMode.CREATE:
                fsync_parent_dir(os.path.abspath(name))
                return
            raise StorageError("ovsdb error", f"{name}: cannot identify file type")
        newline = first.find(b"\n")
        header = _parse_header(first[: newline + 1] if newline >= 0 else first)
        if header is None:
            raise StorageError("ovsdb error", f"{name}: unexpected file format")
        if header[0] == MAGIC_CLUSTERED:
            raise ClusteredDatabaseError(
                "ovsdb error", f"{name}: cannot apply this operation to clustered "
                "database file (clustered databases are not supported)")
        if header[0] != MAGIC:
            raise StorageError("ovsdb error", f"{name}: cannot identify file type")

    def close(self) -> None:
        """Close the file and release the lock; idempotent."""
        if self._state is _State.CLOSED:
            return
        self._state = _State.CLOSED
        self._reader = None
        os.close(self._fd)
        self._fd = -1
        if self.lockfile is not None:
            self.lockfile.unlock()

    def __enter__(self) -> LogFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def warning(self) -> str | None:
        """Text of ``error`` (what a server logs when reading stopped early)."""
        return None if self.error is None else str(self.error)

    # -- reading --------------------------------------------------------------

    def read(self) -> dict[str, Any] | None:
        """The next record, or None at the end of the good part of the log.

        None also ends reading at a bad record; then ``error`` says why and
        ``offset`` is the end of the last good record.  After a write (or an
        ``unread``) there is nothing more to read.
        """
        if self._state is not _State.READ or self._reader is None:
            return None
        start = self.offset
        try:
            record, end = self._read_record(self._reader, start)
        except StorageError as error:
            self._state = _State.READ_ERROR
            self.error = error
            return None
        if record is None:
            return None
        self._prev_offset, self.offset = start, end
        self.n_read += 1
        if self.n_read == 2:
            self.base = end  # schema + snapshot: the size right after compaction
        return record

    def _read_record(self, reader: io.BufferedReader,
                     start: int) -> tuple[dict[str, Any] | None, int]:
        """(record, offset after it) at ``start``; (None, start) at the end."""
        line = reader.readline(_HEADER_MAX)
        if not line:
            return None, start
        data_offset = start + len(line)
        header = _parse_header(line)
        if header is None or header[0] != MAGIC:
            shown = line.split(b"\n", 1)[0].decode("utf-8", "replace")
            raise _syntax_error(
                f'{self.name}: parse error at offset {start} in header line "{shown}"')
        _, length, expected = header
        # Check the size first: a corrupt length must not make us allocate it.
        body = reader.read(length) if length <= self._remaining(data_offset) else b""
        if len(body) != length:
            raise _io_error(-1, f"{self.name}: error reading {length} bytes "
                                f"starting at offset {data_offset}")
        where = f"{self.name}: {length} bytes starting at offset {data_offset}"
        actual = hashlib.sha1(body).hexdigest()
        if actual != expected:
            raise _syntax_error(f"{where} have SHA-1 hash {actual} but should have hash {expected}")
        try:
            record = parse_json_body(body)
        except ValueError as exc:
            raise _syntax_error(f"{where} are not valid JSON ({exc})") from None
        if not isinstance(record, dict):
            raise _syntax_error(f"{where} are not a JSON object")
        return record, data_offset + length

    def _remaining(self, position: int) -> int:
        try:
            st = os.fstat(self._fd)
        except OSError:
            return _ULONG_MAX
        return st.st_size - position if stat.S_ISREG(st.st_mode) else _ULONG_MAX

    def unread(self) -> None:
        """Give back the record just read: reading stops, the next write overwrites it."""
        if self._state is not _State.READ or self.n_read == 0:
            raise RuntimeError("unread() must follow a successful read()")
        self.offset = self._prev_offset
        self.n_read -= 1
        self._reader = None  # nothing more to read

    # -- writing --------------------------------------------------------------

    def write(self, record: Mapping[str, Any], no_reals: bool = False) -> None:
        """Append ``record`` (a JSON object); durable only after ``commit``.

        The first write truncates the file to ``offset``, dropping a torn tail
        (and any record not yet read).  Raises ``TypeError``/``ValueError``
        for a record OVS could not represent (nothing is written) and
        ``StorageError`` for I/O errors (the partial record is removed again).
        """
        if self._state is _State.CLOSED:
            raise ValueError("write to a closed LogFile")
        data = compose_record(record, no_reals)
        if self.mode is OpenMode.READ_ONLY:
            raise _io_error(errno.EBADF, f"{self.name}: write failed")
        if self._state is not _State.WRITE:
            self._truncate()
        try:
            view = memoryview(data)
            position = self.offset
            while view:
                written = os.pwrite(self._fd, view, position)
                view = view[written:]
                position += written
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self.offset)
            self._state = _State.WRITE_ERROR
            self.error = _io_error(exc.errno or errno.EIO, f"{self.name}: write failed")
            raise self.error from None
        self.offset += len(data)
        self.n_written += 1

    def _truncate(self) -> None:
        self._reader = None
        try:
            os.ftruncate(self._fd, self.offset)
        except OSError as exc:
            self._state = _State.WRITE_ERROR
            self.error = _io_error(exc.errno or errno.EIO,
                                   f"{self.name}: cannot truncate to length {self.offset}")
            raise self.error from None
        self._state = _State.WRITE
        self.error = None

    def commit(self) -> None:
        """Make every record written so far durable (``fdatasync``)."""
        if self._state is _State.CLOSED:
            raise ValueError("commit on a closed LogFile")
        try:
            sync = getattr(os, "fdatasync", os.fsync)
            sync(self._fd)
        except OSError as exc:
            raise _io_error(exc.errno or errno.EIO, f"{self.name}: fsync failed") from None

    # -- compaction -------------------------------------------------------------

    def replace(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Atomically replace the whole log by ``records`` and append after them.

        On failure the original file is unchanged and stays open for
        appending; the error is raised and the next compaction is scheduled
        quickly.
        """
        if self._state is _State.CLOSED:
            raise ValueError("replace on a closed LogFile")
        if self.mode is OpenMode.READ_ONLY:
            raise _io_error(errno.EBADF, f"{self.name}: write failed")
        target = follow_symlinks(self.abs_name)
        tmp_name = target + ".tmp"
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        except OSError as exc:
            self._compaction_failed()
            raise _io_error(exc.errno or errno.EIO, f"failed to remove {tmp_name}") from None
        try:
            new = LogFile.open(tmp_name, OpenMode.CREATE, locking=False)
        except StorageError:
            self._compaction_failed()
            raise
        try:
            for record in records:
                new.write(record)
            new.commit()
            try:
                os.rename(tmp_name, target)
            except OSError as exc:
                raise _io_error(exc.errno or errno.EIO,
                                f'failed to rename "{tmp_name}" to "{target}"') from None
        except BaseException:
            new.close()
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            self._compaction_failed()
            raise
        fsync_parent_dir(self.abs_name)
        os.close(self._fd)
        self._fd, new._fd = new._fd, -1
        new._state, new._reader = _State.CLOSED, None
        self._reader = None
        self._state = _State.WRITE
        self.error = None
        self.offset = self.base = new.offset
        self._compact_min = None  # reschedule from the next should_compact()
        self._compact_retry_quickly = False

    def _compaction_failed(self) -> None:
        self._compact_min = None
        self._compact_retry_quickly = True

    def grew_lots(self) -> bool:
        """Whether the log grew enough since the last compaction to compact it."""
        return self.offset > COMPACT_MIN_SIZE and self.offset // 2 > self.base

    def schedule_compaction(self, now: float, *, quick: bool = False) -> None:
        """Open the next compaction window, as OVS's ``schedule_next_snapshot``.

        ``should_compact`` calls this itself after open and ``replace``.
        """
        delay, spread = COMPACT_MIN_DELAY, COMPACT_RANDOM_DELAY
        if quick:
            delay /= COMPACT_QUICK_DIVISOR
            spread /= COMPACT_QUICK_DIVISOR
        self._compact_min = now + delay + self._rng.randrange(int(spread * 1000)) / 1000
        if not quick:
            self._compact_max = now + COMPACT_MAX_DELAY

    def should_compact(self, now: float) -> bool:
        """OVS 3.1's rule for compacting now (see the module docstring).

        ``now`` is in seconds on any monotonic clock, the same on every call.
        """
        if self.mode is OpenMode.READ_ONLY or self._state is _State.CLOSED:
            return False
        if self._compact_min is None:
            self.schedule_compaction(now, quick=self._compact_retry_quickly)
            self._compact_retry_quickly = False
        if self._compact_min is not None and now < self._compact_min:
            return False
        n_records = self.n_read + self.n_written
        if now < self._compact_max:
            return n_records >= COMPACT_MIN_RECORDS and self.grew_lots()
        return n_records > 0
