"""Trace store contract, run against SQLite always and PostgreSQL when UNHARDCODED_TEST_PG_URL is set."""
from __future__ import annotations

import os
import sqlite3
import uuid

import orjson
import pytest
from unhardcoded.router.trace import new_trace_id
from unhardcoded.store import BadCursor, SQLiteStore, StoreError, open_store
from unhardcoded.store.base import ms_to_iso

PG_URL = os.environ.get("UNHARDCODED_TEST_PG_URL")


def _tid(ms: int) -> str:
    return new_trace_id(ms)


def _trace(trace_id: str, created_ms: int, *, label: str | None = "policy:support", selected: str | None = "m-a",
           kind: str = "policy", status: str = "ok", cost: float | None = 0.0012) -> dict:
    return {"object": "trace", "trace": trace_id, "label": label, "kind": kind,
            "policy": {"fingerprint": "pol_" + "ab" * 32, "version": "sigma-pol/v1", "term": ["policy"]},
            "catalog": {"fingerprint": "cat_" + "cd" * 32}, "selected": selected, "status": status,
            "cost": cost, "latency_ms": 12.5, "candidates": [{"model": "m-a", "status": "winner"}],
            "created": ms_to_iso(created_ms)}


@pytest.fixture(params=["sqlite", "postgres"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = SQLiteStore(str(tmp_path / "traces.db"))
        yield s
        s.close()
        return
    if not PG_URL:
        pytest.skip("UNHARDCODED_TEST_PG_URL is not set")
    s = open_store(PG_URL)
    # Isolate runs sharing one database: every test writes under fresh workspace ids.
    yield s
    s.close()


@pytest.fixture
def ws():
    return "ws-" + uuid.uuid4().hex[:8]


def test_save_and_get_roundtrip(store, ws):
    trace = _trace(_tid(1_700_000_000_001), 1_700_000_000_001)
    store.save_trace(ws, trace)
    assert store.get_trace(ws, trace["trace"]) == trace
    assert orjson.loads(store.get_trace_json(ws, trace["trace"])) == trace


def test_prebuilt_body_is_stored_verbatim(store, ws):
    trace = _trace(_tid(1_700_000_000_000), 1_700_000_000_000)
    body = orjson.dumps(trace)
    store.save_trace(ws, trace, body)
    assert store.get_trace_json(ws, trace["trace"]) == body


def test_other_workspace_cannot_read(store, ws):
    trace = _trace(_tid(1_700_000_000_000), 1_700_000_000_000)
    store.save_trace(ws, trace)
    assert store.get_trace(ws + "-other", trace["trace"]) is None
    items, _ = store.list_traces(ws + "-other")
    assert items == []


def test_history_pages_newest_first_with_cursor(store, ws):
    base = 1_700_000_000_000
    ids = []
    for i in range(7):
        tid = _tid(base + i)
        ids.append(tid)
        store.save_trace(ws, _trace(tid, base + i))
    seen = []
    cursor = None
    pages = 0
    while True:
        items, cursor = store.list_traces(ws, limit=3, cursor=cursor)
        pages += 1
        seen.extend(i["trace"] for i in items)
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(ids))
    first = store.list_traces(ws, limit=1)[0][0]
    assert set(first) == {"trace", "label", "kind", "selected", "status", "policy", "cost", "latency_ms", "created"}
    assert first["policy"] == "pol_" + "ab" * 32


def test_same_millisecond_traces_are_not_skipped_by_the_cursor(store, ws):
    ms = 1_700_000_500_000
    ids = sorted(_tid(ms) for _ in range(5))
    for tid in ids:
        store.save_trace(ws, _trace(tid, ms))
    seen, cursor = [], None
    while True:
        items, cursor = store.list_traces(ws, limit=2, cursor=cursor)
        seen.extend(i["trace"] for i in items)
        if cursor is None:
            break
    assert seen == list(reversed(ids))


def test_filters_label_model_and_time(store, ws):
    base = 1_700_000_000_000
    store.save_trace(ws, _trace(_tid(base), base, label="policy:a", selected="m-1"))
    store.save_trace(ws, _trace(_tid(base + 1000), base + 1000, label="policy:b", selected="m-1"))
    store.save_trace(ws, _trace(_tid(base + 2000), base + 2000, label="policy:a", selected="m-2"))
    assert [i["label"] for i in store.list_traces(ws, label="policy:a")[0]] == ["policy:a", "policy:a"]
    assert [i["selected"] for i in store.list_traces(ws, model="m-1")[0]] == ["m-1", "m-1"]
    window = store.list_traces(ws, since=ms_to_iso(base + 500), until=ms_to_iso(base + 2000))[0]
    assert [i["label"] for i in window] == ["policy:b"]
    assert len(store.list_traces(ws, since=base + 1000)[0]) == 2


def test_bad_cursor_is_rejected(store, ws):
    with pytest.raises(BadCursor):
        store.list_traces(ws, cursor="not-a-cursor!!")
    with pytest.raises(BadCursor):
        store.list_traces(ws, cursor="aGVsbG8")  # valid base64, not a trace id


def test_catalog_snapshots_are_content_addressed(store):
    fp = "cat_" + uuid.uuid4().hex * 2
    store.put_catalog(fp, '{"format":"unhardcoded-catalog/v1","models":[]}')
    store.put_catalog(fp, '{"different":"ignored"}')  # stored once per fingerprint
    assert store.get_catalog(fp) == '{"format":"unhardcoded-catalog/v1","models":[]}'
    assert store.get_catalog("cat_missing") is None


def test_settings_are_write_once(store):
    name = "test-" + uuid.uuid4().hex
    assert store.put_setting(name, "first") is True
    assert store.put_setting(name, "second") is False
    assert store.get_setting(name) == "first"


def test_sqlite_uses_wal(tmp_path):
    SQLiteStore(str(tmp_path / "w.db")).close()
    db = sqlite3.connect(tmp_path / "w.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_open_store_urls(tmp_path):
    s = open_store(f"sqlite://{tmp_path}/x.db")
    assert isinstance(s, SQLiteStore) and s.path == f"{tmp_path}/x.db"
    s.close()
    with pytest.raises(StoreError, match="unknown store URL scheme 'mysql'"):
        open_store("mysql://u@h/db")


def test_postgres_connection_failure_hides_password():
    pytest.importorskip("psycopg")
    with pytest.raises(StoreError) as info:
        open_store("postgresql://user:s3cret-pw@127.0.0.1:1/db?connect_timeout=1")
    assert "s3cret-pw" not in str(info.value)
    assert "127.0.0.1" in str(info.value)
