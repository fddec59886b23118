"""Trace and catalog-snapshot storage. `open_store(url)` picks the backend from the URL scheme:
`sqlite:///path/to/file.db` (default, WAL) or `postgresql://user:pass@host/db` (psycopg 3)."""
from __future__ import annotations

from .base import BadCursor, StoreError, TraceStore, iso_to_ms, ms_to_iso
from .sqlite import SQLiteStore

__all__ = ["BadCursor", "SQLiteStore", "StoreError", "TraceStore", "iso_to_ms", "ms_to_iso", "open_store"]


def open_store(url: str) -> TraceStore:
    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):]
        # sqlite:///abs/path -> "/abs/path"; sqlite://:memory: -> ":memory:"; sqlite://rel.db -> "rel.db"
        if path.startswith("/") and path[1:] == ":memory:":
            path = ":memory:"
        if not path:
            raise StoreError("a sqlite store URL needs a path: sqlite:///path/to/traces.db")
        return SQLiteStore(path)
    if url.startswith(("postgresql://", "postgres://")):
        from .postgres import PostgresStore

        return PostgresStore(url)
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise StoreError(f"unknown store URL scheme '{scheme}': use sqlite:///path or postgresql://…")
