"""PostgreSQL trace store (psycopg 3): the same interface as SQLiteStore, for hosts that outgrow one
machine. Calls block on the network, so the server runs them in a worker thread (`inline = False`).
Install with `pip install 'unhardcoded[postgres]'`."""
from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

import orjson

from .base import (
    StoreError,
    history_page,
    summary_row,
    trace_body,
)

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS uh_traces (
        workspace TEXT NOT NULL,
        id TEXT NOT NULL,
        label TEXT,
        kind TEXT NOT NULL,
        selected TEXT,
        status TEXT NOT NULL,
        policy TEXT,
        cost DOUBLE PRECISION,
        latency_ms DOUBLE PRECISION,
        created TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        body BYTEA NOT NULL,
        PRIMARY KEY (workspace, id)
    )""",
    "CREATE INDEX IF NOT EXISTS uh_traces_by_label ON uh_traces (workspace, label, id)",
    "CREATE INDEX IF NOT EXISTS uh_traces_by_model ON uh_traces (workspace, selected, id)",
    """CREATE TABLE IF NOT EXISTS uh_catalogs (
        fingerprint TEXT PRIMARY KEY,
        body BYTEA NOT NULL,
        stored_ms BIGINT NOT NULL
    )""",
    "CREATE TABLE IF NOT EXISTS uh_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
)

_INSERT_TRACE = (
    "INSERT INTO uh_traces (id, workspace, label, kind, selected, status, policy, cost, latency_ms, created,"
    " created_ms, body) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def _redacted(url: str) -> str:
    """The URL without its password, for error messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://…"
    host = parts.hostname or ""
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


class PostgresStore:
    inline = False
    _table = "uh_traces"

    def __init__(self, url: str):
        try:
            import psycopg
        except ImportError as exc:  # the optional dependency
            raise StoreError(
                "the PostgreSQL store needs psycopg 3: pip install 'unhardcoded[postgres]'"
            ) from exc
        self._psycopg = psycopg
        self._url = url
        self._lock = threading.Lock()
        self._conn = None
        with self._lock:
            conn = self._connect()
            with conn.cursor() as cur:
                for statement in _SCHEMA:
                    cur.execute(statement)

    def _connect(self):
        if self._conn is not None and not self._conn.closed:
            return self._conn
        try:
            self._conn = self._psycopg.connect(self._url, autocommit=True)
        except self._psycopg.Error as exc:
            # psycopg's message names host and user, never the password; the URL is redacted anyway.
            raise StoreError(f"cannot connect to the PostgreSQL store {_redacted(self._url)}") from exc
        return self._conn

    def _run(self, sql: str, params: tuple | list = (), fetch: str | None = None):
        """Runs one statement, reconnecting once if the connection was lost."""
        with self._lock:
            for attempt in (0, 1):
                conn = self._connect()
                try:
                    with conn.cursor() as cur:
                        cur.execute(sql, params)
                        if fetch == "one":
                            return cur.fetchone()
                        if fetch == "all":
                            return cur.fetchall()
                        return cur.rowcount
                except self._psycopg.OperationalError as exc:
                    if attempt == 1 or not conn.closed:
                        raise StoreError(f"the PostgreSQL store failed: {type(exc).__name__}") from exc
                    self._conn = None
        return None

    # traces ---------------------------------------------------------------------------------------

    def save_trace(self, workspace_id: str, trace: dict[str, Any], body: bytes | None = None) -> None:
        row = summary_row(trace)
        self._run(_INSERT_TRACE, (row[0], workspace_id, *row[1:], trace_body(trace, body)))

    def get_trace_json(self, workspace_id: str, trace_id: str) -> bytes | None:
        found = self._run("SELECT body FROM uh_traces WHERE workspace = %s AND id = %s",
                          (workspace_id, trace_id), fetch="one")
        return bytes(found[0]) if found else None

    def get_trace(self, workspace_id: str, trace_id: str) -> dict[str, Any] | None:
        body = self.get_trace_json(workspace_id, trace_id)
        return orjson.loads(body) if body is not None else None

    def list_traces(self, workspace_id: str, label: str | None = None, model: str | None = None,
                    since: Any = None, until: Any = None, limit: int = 50,
                    cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        return history_page(self._rows, self._table, "%s", workspace_id, label, model, since, until, limit,
                            cursor)

    def _rows(self, sql: str, params: list[Any]) -> list[tuple]:
        return self._run(sql, params, fetch="all") or []

    # catalog snapshots ----------------------------------------------------------------------------

    def put_catalog(self, fingerprint: str, canonical_json: str | bytes) -> None:
        data = canonical_json.encode() if isinstance(canonical_json, str) else canonical_json
        self._run("INSERT INTO uh_catalogs (fingerprint, body, stored_ms) VALUES (%s, %s, %s)"
                  " ON CONFLICT (fingerprint) DO NOTHING", (fingerprint, data, int(time.time() * 1000)))

    def get_catalog(self, fingerprint: str) -> str | None:
        found = self._run("SELECT body FROM uh_catalogs WHERE fingerprint = %s", (fingerprint,), fetch="one")
        return bytes(found[0]).decode() if found else None

    # settings -------------------------------------------------------------------------------------

    def put_setting(self, name: str, value: str) -> bool:
        count = self._run("INSERT INTO uh_settings (name, value) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                          (name, value))
        return count == 1

    def get_setting(self, name: str) -> str | None:
        found = self._run("SELECT value FROM uh_settings WHERE name = %s", (name,), fetch="one")
        return found[0] if found else None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
