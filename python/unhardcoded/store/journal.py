"""The SQLite store's write-ahead trace journal: how a trace is made durable before its response
completes without an SQLite commit on the request path.

`save_trace` copies one record (workspace + trace JSON) into the journal file and returns: from
then on the trace survives a crash of the process — the same guarantee SQLite's WAL gives with
synchronous=NORMAL, for the cost of a memory copy instead of an inline commit (a transaction
writing three b-tree pages, frame headers and file locks through a dozen system calls). A thread then
commits the journaled traces to SQLite in groups, so the tables catch up within half a second and
a commit is shared by every trace that arrived meanwhile. Reads first commit whatever is still
pending, so a trace is queryable as soon as its call has returned.

Files: `<database>.journal-<random>`, ROTATE_BYTES each, preallocated and mapped into memory (an
append is a copy into the page cache, no system call), held under an exclusive flock by the
process writing it. A file nobody holds is a leftover of a process that died; opening the store
replays its records (duplicates of committed traces are skipped) and deletes it. When a file is
full the writer starts a new one and deletes the old one once the traces it holds are committed.

Record: u32 length of the payload, u32 CRC-32 of it, payload = u16 length of the workspace id,
the workspace id (UTF-8), the trace JSON. A torn or corrupt tail (a crash mid-write) ends replay.
"""
from __future__ import annotations

import fcntl
import glob
import logging
import mmap
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger("unhardcoded.store")

# Size of a journal file; a full one is replaced by a fresh one, and deleted once its traces are
# committed.
ROTATE_BYTES = 4 * 1024 * 1024
# Fault the mapping in when a file is created rather than page by page on the request path.
_POPULATE = getattr(mmap, "MAP_POPULATE", 0)
# How long the committer lets traces gather before a commit (seconds). Durability does not wait for
# it and this process's readers commit what is pending themselves, so it trades how soon another
# process sees a trace against the store's cost per trace: each commit rewrites the index pages it
# touched and wakes a thread that shares the event loop's core, so fewer, larger commits cost the
# router less (docs/benchmarks.md, "Router host").
GATHER_SECONDS = 0.5

_HEADER = struct.Struct("<II")
_WS_LEN = struct.Struct("<H")

# (workspace, trace JSON, its summary row) triples -> commits them; raises to keep them on disk.
Commit = Callable[[list[tuple[str, bytes, Any]]], None]
# What `recover` hands over: (workspace, trace JSON) pairs read back from a file -> how many of them
# were not stored yet (a process that dies leaves its file behind, committed traces included).
Replay = Callable[[list[tuple[str, bytes]]], int]


def encode_record(workspace: str, body: bytes) -> bytes:
    ws = workspace.encode()
    payload = _WS_LEN.pack(len(ws)) + ws + body
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def decode_records(data: bytes) -> Iterator[tuple[str, bytes]]:
    """The records of a journal file, stopping at the first torn or corrupt one."""
    at = 0
    while at + _HEADER.size <= len(data):
        size, crc = _HEADER.unpack_from(data, at)
        payload = data[at + _HEADER.size: at + _HEADER.size + size]
        if len(payload) != size or zlib.crc32(payload) != crc or size < _WS_LEN.size:
            return
        (ws_len,) = _WS_LEN.unpack_from(payload, 0)
        try:
            workspace = payload[_WS_LEN.size: _WS_LEN.size + ws_len].decode()
        except UnicodeDecodeError:
            return
        yield workspace, payload[_WS_LEN.size + ws_len:]
        at += _HEADER.size + size


class _File:
    """One journal file: preallocated, mapped shared into memory, and locked by this process.

    A record is copied into the mapping, which is the kernel's page cache for the file: it is in
    the file once the copy is done and survives this process dying (not the machine losing power,
    as with SQLite's WAL at synchronous=NORMAL). The blocks are reserved when the file is created,
    so a full disk fails there, cleanly, rather than as a fault on a later copy. The zeroed rest of
    the file reads back as the end of the records."""

    def __init__(self, database: str, capacity: int):
        self.path = f"{database}.journal-{os.urandom(6).hex()}"
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            if hasattr(os, "posix_fallocate"):
                os.posix_fallocate(self.fd, 0, capacity)
            else:  # macOS: a sparse file (a full disk then shows up when the pages are written back)
                os.ftruncate(self.fd, capacity)
            self.map = mmap.mmap(self.fd, capacity, flags=mmap.MAP_SHARED | _POPULATE,
                                 prot=mmap.PROT_READ | mmap.PROT_WRITE)
        except BaseException:
            os.close(self.fd)
            os.unlink(self.path)
            raise
        self.capacity = capacity
        self.size = 0

    def fits(self, length: int) -> bool:
        return self.size + length <= self.capacity

    def append(self, record: bytes) -> None:
        end = self.size + len(record)
        self.map[self.size:end] = record
        self.size = end

    def close(self, remove: bool) -> None:
        try:
            self.map.close()
            if remove:
                os.unlink(self.path)
        finally:
            os.close(self.fd)  # releases the lock, after the name is gone when removed

    def remove(self) -> None:
        self.close(remove=True)


def recover(database: str, commit: Replay) -> int:
    """Commits the records of journal files no live process holds, then deletes them; how many of
    their traces were not stored before."""
    recovered = 0
    for path in sorted(glob.glob(glob.escape(database) + ".journal-*")):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its writer is alive
            with os.fdopen(os.dup(fd), "rb") as handle:
                records = list(decode_records(handle.read()))
            if records:
                recovered += commit(records)
            os.unlink(path)
        finally:
            os.close(fd)
    return recovered


class Journal:
    """Appends traces durably and commits them to the database from a background thread."""

    def __init__(self, database: str, commit: Commit):
        self._database = database
        self._commit = commit
        self._lock = threading.Lock()          # guards _file, _pending and appends
        self._flush_lock = threading.Lock()    # one commit at a time (thread or a reader)
        self._pending: list[tuple[str, bytes, Any]] = []
        self._keep = False                     # a commit failed: leave the files for recovery
        self._retired: list[_File] = []        # full files whose traces are not all committed yet
        self._file = _File(database, ROTATE_BYTES)
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="unhardcoded-trace-journal", daemon=True)
        self._thread.start()

    def append(self, workspace: str, body: bytes, summary: Any = None) -> None:
        """Durable when it returns (or raises OSError, and nothing was recorded). `summary` rides
        along to the commit so it need not parse the body again."""
        record = encode_record(workspace, body)
        with self._lock:
            if not self._file.fits(len(record)):
                fresh = _File(self._database, max(ROTATE_BYTES, len(record)))
                self._retired.append(self._file)
                self._file = fresh
            self._file.append(record)
            self._pending.append((workspace, body, summary))
            first = len(self._pending) == 1
        if first:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        """Commits every trace appended before the call (used by readers and on close)."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, []
                # Files retired before this moment hold only traces of this batch or earlier ones.
                retired, self._retired = self._retired, []
            if batch:
                try:
                    self._commit(batch)
                except Exception:
                    # Kept on disk: the next start replays the files (see recover).
                    self._keep = True
                    log.exception("could not commit %d journaled traces; they stay in the journal", len(batch))
            for file in retired:
                file.close(remove=not self._keep)

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=30)
        self.flush()
        with self._lock:
            self._file.close(remove=not (self._keep or self._pending))

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait()
            self._wake.clear()
            if self._stopping:
                break
            # Let the traces of calls finishing together share one commit.
            self._wake.wait(GATHER_SECONDS)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # never let the committer die; the journal keeps the traces
                log.exception("trace journal commit failed")
