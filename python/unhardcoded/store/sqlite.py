"""SQLite trace store: the default, in WAL mode.

A trace is made durable by the store's journal (store/journal.py: one append to a file, done when
`save_trace` returns) and committed to the tables by a background thread in groups, so no SQLite
commit sits on a request's path; reads commit what is pending first, so a saved trace is always
visible to the next query. An in-memory database has no journal and inserts inline.

In WAL mode with synchronous=NORMAL a commit only appends to the log; the costly part (copying the
log into the database and fsyncing both) is the checkpoint, which SQLite otherwise runs inside
whichever commit crosses the size threshold. Here a background thread checkpoints instead, on its
own connection with the GIL released; SQLite's own automatic checkpoint stays on at a higher
threshold as a safety net should the thread fall behind."""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from typing import Any

import orjson

from .base import (
    StoreError,
    history_page,
    summary_row,
    trace_body,
)
from .journal import Journal, recover

log = logging.getLogger("unhardcoded.store")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS traces (
    workspace TEXT NOT NULL,
    id TEXT NOT NULL,
    label TEXT,
    kind TEXT NOT NULL,
    selected TEXT,
    status TEXT NOT NULL,
    policy TEXT,
    cost REAL,
    latency_ms REAL,
    created TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (workspace, id)
);
-- Only two b-trees per insert besides the table (the key and the label index): every extra index
-- is another WAL page written inline on each call. A model filter scans the workspace's key range.
CREATE INDEX IF NOT EXISTS traces_by_label ON traces (workspace, label, id);
CREATE TABLE IF NOT EXISTS catalogs (
    fingerprint TEXT PRIMARY KEY,
    body BLOB NOT NULL,
    stored_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

# Background checkpoint: after this many saves, or this many seconds after the first unsaved one.
# Each checkpoint copies (and fsyncs) every page written since the last, index pages included, so
# rarer checkpoints copy the often-rewritten pages fewer times; the log grows to a few MB between.
CHECKPOINT_EVERY_SAVES = 5000
CHECKPOINT_EVERY_SECONDS = 5.0
# SQLite's inline automatic checkpoint threshold (pages), reached only if the thread falls behind.
INLINE_CHECKPOINT_PAGES = 10000

_TRACE_COLUMNS = ("traces (id, workspace, label, kind, selected, status, policy, cost, latency_ms, created,"
                  " created_ms, body) VALUES ")
_INSERT_HEAD = "INSERT INTO " + _TRACE_COLUMNS
_ROW_PLACEHOLDERS = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_NEW = "INSERT OR IGNORE INTO " + _TRACE_COLUMNS + _ROW_PLACEHOLDERS
_COLUMNS = 12
_INSERT_TRACE = _INSERT_HEAD + _ROW_PLACEHOLDERS
# Rows per multi-row INSERT. Python's sqlite3 releases the GIL around every sqlite3_step and must
# take it back after each one; with the event loop busy, executemany paid that handoff (a wait
# for the loop to drop the GIL, on the loop's core) once per trace. One statement per group of
# rows pays it once per group. Group sizes are powers of two so a handful of prepared
# statements serve every batch from the connection's statement cache.
MAX_ROWS_PER_INSERT = 256


class SQLiteStore:
    inline = True
    _table = "traces"

    def __init__(self, path: str):
        self.path = path
        if path != ":memory:":
            parent = os.path.dirname(os.path.abspath(path))
            try:
                os.makedirs(parent, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the store directory {parent}: {exc.strerror}") from exc
        try:
            # One connection shared by the event loop and worker threads, serialized by a lock: the
            # store is written inline from the loop, and replay/flows may read from threads.
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the SQLite store at {path}: {exc}") from exc
        self._lock = threading.Lock()
        self._max_rows = _rows_per_insert(self._db)
        self._checkpointer: _Checkpointer | None = None
        self._journal: Journal | None = None
        if path != ":memory:":
            if self._wal():
                self._checkpointer = _Checkpointer(path)
                self._db.execute(f"PRAGMA wal_autocheckpoint={INLINE_CHECKPOINT_PAGES}")
            try:
                replayed = recover(path, self._commit_recovered)
                self._journal = Journal(path, self._commit)
            except OSError as exc:
                raise StoreError(f"cannot open the trace journal beside {path}: {exc}") from exc
            if replayed:
                log.warning("recovered %d trace(s) left in the journal by an earlier process", replayed)

    def _wal(self) -> bool:
        try:
            row = self._db.execute("PRAGMA journal_mode").fetchone()
        except sqlite3.Error:
            return False
        return bool(row) and str(row[0]).lower() == "wal"

    # traces ---------------------------------------------------------------------------------------

    def save_trace(self, workspace_id: str, trace: dict[str, Any], body: bytes | None = None) -> None:
        """Durable when it returns: journaled (committed to the tables shortly after), or inserted
        inline when the store has no journal. Raises when the trace cannot be recorded."""
        row = summary_row(trace)  # a malformed trace fails here, in its caller
        data = trace_body(trace, body)
        if self._journal is not None:
            self._journal.append(workspace_id, data, row)
            return
        with self._lock:
            self._db.execute(_INSERT_TRACE, (row[0], workspace_id, *row[1:], data))

    def _commit(self, batch: list[tuple[str, bytes, tuple[Any, ...] | None]], *, replay: bool = False) -> int:
        """Inserts journaled traces in one transaction; returns how many were new. A trace id already
        stored is skipped: expected when replaying the journal of a process that died after its last
        commit (said once, by the caller), an error otherwise (ids carry 64 random bits). Any other
        failure raises, and the journal keeps the traces."""
        rows = [_row(ws, body, row) for ws, body, row in batch]
        dropped: list[tuple[Any, ...]] = []
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._insert_grouped(rows)
                self._db.execute("COMMIT")
            except sqlite3.IntegrityError:
                self._db.execute("ROLLBACK")
                dropped = self._insert_new(rows)
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        if dropped and not replay:
            log.error("%d trace(s) already stored were dropped (%s)", len(dropped),
                      ", ".join(f"{row[0]} in workspace {row[1]}" for row in dropped[:5]))
        if self._checkpointer is not None:
            self._checkpointer.saved(len(rows))
        return len(rows) - len(dropped)

    def _insert_grouped(self, rows: list[tuple[Any, ...]]) -> None:
        at = 0
        while at < len(rows):
            size = _group_size(len(rows) - at, self._max_rows)
            group = rows[at:at + size]
            self._db.execute(_insert_sql(size), [value for row in group for value in row])
            at += size

    def _insert_new(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Stores the rows whose (workspace, id) is not stored yet, in one transaction (one step per
        row: this path only follows a failed group insert); returns the rows it dropped."""
        dropped = []
        try:
            self._db.execute("BEGIN")
            for row in rows:
                if self._db.execute(_INSERT_NEW, row).rowcount == 0:
                    dropped.append(row)
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        return dropped

    def _commit_recovered(self, records: list[tuple[str, bytes]]) -> int:
        batch: list[tuple[str, bytes, tuple[Any, ...] | None]] = []
        for ws, body in records:
            try:
                trace = orjson.loads(body)
                batch.append((ws, body, summary_row(trace) if isinstance(trace, dict) else None))
            except (orjson.JSONDecodeError, ValueError, KeyError):
                log.error("skipped an unreadable trace in the journal (workspace %s)", ws)
        return self._commit([entry for entry in batch if entry[2] is not None], replay=True)

    def _sync(self) -> None:
        """Reads see every trace saved before them."""
        if self._journal is not None and self._journal.pending:
            self._journal.flush()

    def get_trace_json(self, workspace_id: str, trace_id: str) -> bytes | None:
        self._sync()
        with self._lock:
            found = self._db.execute(
                "SELECT body FROM traces WHERE workspace = ? AND id = ?", (workspace_id, trace_id)
            ).fetchone()
        return bytes(found[0]) if found else None

    def get_trace(self, workspace_id: str, trace_id: str) -> dict[str, Any] | None:
        body = self.get_trace_json(workspace_id, trace_id)
        return orjson.loads(body) if body is not None else None

    def list_traces(self, workspace_id: str, label: str | None = None, model: str | None = None,
                    since: Any = None, until: Any = None, limit: int = 50,
                    cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        self._sync()
        return history_page(self._rows, self._table, "?", workspace_id, label, model, since, until, limit,
                            cursor)

    def _rows(self, sql: str, params: list[Any]) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # catalog snapshots ----------------------------------------------------------------------------

    def put_catalog(self, fingerprint: str, canonical_json: str | bytes) -> None:
        data = canonical_json.encode() if isinstance(canonical_json, str) else canonical_json
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO catalogs (fingerprint, body, stored_ms) VALUES (?, ?, ?)",
                (fingerprint, data, int(time.time() * 1000)),
            )

    def get_catalog(self, fingerprint: str) -> str | None:
        with self._lock:
            found = self._db.execute("SELECT body FROM catalogs WHERE fingerprint = ?", (fingerprint,)).fetchone()
        return bytes(found[0]).decode() if found else None

    # settings (e.g. the development key's hash) ---------------------------------------------------

    def put_setting(self, name: str, value: str) -> bool:
        """Stores a value unless one is already there; True when this call stored it."""
        with self._lock:
            cur = self._db.execute("INSERT OR IGNORE INTO settings (name, value) VALUES (?, ?)", (name, value))
            return cur.rowcount == 1

    def get_setting(self, name: str) -> str | None:
        with self._lock:
            found = self._db.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return found[0] if found else None

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
        if self._checkpointer is not None:
            self._checkpointer.stop()
        with self._lock:
            self._db.close()


def _rows_per_insert(db: sqlite3.Connection) -> int:
    """The largest power of two ≤ MAX_ROWS_PER_INSERT whose parameters fit this SQLite's limit."""
    try:
        limit = db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    except (AttributeError, sqlite3.Error):  # Python < 3.11: SQLite's historic default
        limit = 999
    rows = MAX_ROWS_PER_INSERT
    while rows > 1 and rows * _COLUMNS > limit:
        rows //= 2
    return rows


def _group_size(remaining: int, most: int) -> int:
    """The largest power of two ≤ min(remaining, most)."""
    return 1 << (min(remaining, most).bit_length() - 1)


_INSERT_SQL: dict[int, str] = {}


def _insert_sql(rows: int) -> str:
    sql = _INSERT_SQL.get(rows)
    if sql is None:
        sql = _INSERT_SQL[rows] = _INSERT_HEAD + ", ".join([_ROW_PLACEHOLDERS] * rows)
    return sql


def _row(workspace_id: str, body: bytes, summary: tuple[Any, ...] | None) -> tuple[Any, ...]:
    row = summary if summary is not None else summary_row(orjson.loads(body))
    return (row[0], workspace_id, *row[1:], body)


class _Checkpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` off the event loop. PASSIVE never blocks the writer:
    it copies what no reader still needs, and the log restarts from the top once it has all been
    copied. A failure is left to SQLite's inline automatic checkpoint."""

    def __init__(self, path: str):
        self._path = path
        self._pending = 0
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="unhardcoded-sqlite-checkpoint", daemon=True)
        self._thread.start()

    def saved(self, count: int = 1) -> None:
        # Plain int arithmetic under the GIL; an occasional lost increment only delays a checkpoint.
        first = self._pending == 0
        self._pending += count
        if first or self._pending >= CHECKPOINT_EVERY_SAVES:
            self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            db = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA busy_timeout=5000")
        except sqlite3.Error:
            return
        try:
            while not self._stopping:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    break
                if self._pending < CHECKPOINT_EVERY_SAVES:
                    # Let writes gather (or a burst reach the threshold) before copying them.
                    self._wake.wait(CHECKPOINT_EVERY_SECONDS)
                    self._wake.clear()
                    if self._stopping:
                        break
                self._pending = 0
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:
                    pass
        finally:
            db.close()
