"""The SQLite store's write-ahead trace journal: how a trace is made durable before its response
completes without an SQLite commit on the request path.

`save_trace` appends one record (workspace + trace JSON) to an append-only file with a single
write(2) and returns: from then on the trace survives a crash of the process — the same guarantee
SQLite's WAL gives with synchronous=NORMAL, at a tenth of an inline commit's cost (one syscall
instead of a transaction writing three b-tree pages, file locks and frame headers). A thread then
commits the journaled traces to SQLite in groups, so the tables catch up within milliseconds and a
commit is shared by every trace that arrived meanwhile. Reads first commit whatever is still
pending, so a trace is queryable as soon as its call has returned.

Files: `<database>.journal-<random>`, held under an exclusive flock by the process writing it. A
file nobody holds is a leftover of a process that died; opening the store replays its records
(duplicates of committed traces are skipped) and deletes it. Once a file passes ROTATE_BYTES the
writer starts a new one and deletes the old one when the traces it holds are committed.

Record: u32 length of the payload, u32 CRC-32 of it, payload = u16 length of the workspace id,
the workspace id (UTF-8), the trace JSON. A torn or corrupt tail (a crash mid-write) ends replay.
"""
from __future__ import annotations

import fcntl
import glob
import logging
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Any

log = logging.getLogger("unhardcoded.store")

# A journal file is replaced by a fresh one once it holds this much (its traces committed).
ROTATE_BYTES = 4 * 1024 * 1024
# How long the committer lets traces gather before a commit (seconds). Durability does not wait for
# it and readers commit what is pending themselves, so it only trades commits per second (each one
# writes the same few b-tree pages whether it carries one trace or fifty) against memory.
GATHER_SECONDS = 0.05

_HEADER = struct.Struct("<II")
_WS_LEN = struct.Struct("<H")

# (workspace, trace JSON, its summary row) triples -> commits them; raises to keep them on disk.
Commit = Callable[[list[tuple[str, bytes, Any]]], None]
# What `recover` hands over: (workspace, trace JSON) pairs read back from a file.
Replay = Callable[[list[tuple[str, bytes]]], None]


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
    """One journal file, open for appending and locked by this process."""

    def __init__(self, database: str):
        self.path = f"{database}.journal-{os.urandom(6).hex()}"
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        self.size = 0

    def append(self, record: bytes) -> None:
        written = os.write(self.fd, record)
        if written != len(record):  # a short write (disk full): drop the partial record
            os.ftruncate(self.fd, self.size)
            raise OSError(f"short write to the trace journal ({written} of {len(record)} bytes)")
        self.size += written

    def remove(self) -> None:
        try:
            os.unlink(self.path)
        finally:
            os.close(self.fd)  # closing releases the lock after the name is gone


def recover(database: str, commit: Replay) -> int:
    """Commits the records of journal files no live process holds, then deletes them; how many."""
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
                commit(records)
            os.unlink(path)
            recovered += len(records)
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
        self._file = _File(database)
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="unhardcoded-trace-journal", daemon=True)
        self._thread.start()

    def append(self, workspace: str, body: bytes, summary: Any = None) -> None:
        """Durable when it returns (or raises OSError, and nothing was recorded). `summary` rides
        along to the commit so it need not parse the body again."""
        record = encode_record(workspace, body)
        with self._lock:
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
                retire = None
                if self._file.size >= ROTATE_BYTES:
                    # The new file takes later appends; the old one holds only this batch and
                    # traces already committed, so it can go once the batch is in.
                    retire, self._file = self._file, _File(self._database)
            if not batch:
                if retire is not None:
                    retire.remove()
                return
            try:
                self._commit(batch)
            except Exception:
                # Kept on disk: the next start replays the files (see recover).
                self._keep = True
                log.exception("could not commit %d journaled traces; they stay in the journal", len(batch))
                if retire is not None:
                    os.close(retire.fd)
                return
            if retire is not None:
                retire.remove()

    def close(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=30)
        self.flush()
        with self._lock:
            if self._keep or self._pending:
                os.close(self._file.fd)
            else:
                self._file.remove()

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
