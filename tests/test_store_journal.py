"""The SQLite store's trace journal (store/journal.py): a saved trace is durable and readable as soon
as save_trace returns, survives the process dying before the background commit, and reaches the
tables exactly once."""
from __future__ import annotations

import glob
import logging
import os
import subprocess
import sys
import textwrap

import orjson
import pytest
from unhardcoded.router.trace import new_trace_id
from unhardcoded.store import SQLiteStore
from unhardcoded.store import journal as journal_mod
from unhardcoded.store.base import ms_to_iso
from unhardcoded.store.journal import decode_records, encode_record

BASE_MS = 1_700_000_000_000


def _trace(ms: int, label: str = "policy:bench") -> dict:
    return {"object": "trace", "trace": new_trace_id(ms), "label": label, "kind": "policy",
            "policy": {"fingerprint": "pol_" + "ab" * 32}, "selected": "m-a", "status": "ok", "cost": 0.001,
            "latency_ms": 3.5, "created": ms_to_iso(ms)}


def _journals(db: str) -> list[str]:
    return glob.glob(glob.escape(db) + ".journal-*")


class _Recording:
    """Wraps the store's sqlite3 connection to see how rows reach it: `commits` holds the number
    of trace rows each transaction inserted (an insert outside a transaction is its own commit)."""

    def __init__(self, db: object):
        self.db = db
        self.commits: list[int] = []
        self._open: int | None = None

    def execute(self, sql: str, params: tuple | list = ()) -> object:
        if sql == "BEGIN":
            self._open = 0
        elif sql == "COMMIT" and self._open is not None:
            self.commits.append(self._open)
            self._open = None
        elif sql.startswith("INSERT INTO traces"):
            rows = len(params) // 12
            if self._open is None:
                self.commits.append(rows)
            else:
                self._open += rows
        return self.db.execute(sql, params)  # type: ignore[attr-defined]

    def executemany(self, sql: str, rows: list) -> object:
        raise AssertionError("the store inserts rows in groups, not one step per row")

    def __getattr__(self, name: str) -> object:
        return getattr(self.db, name)


def test_a_saved_trace_is_readable_at_once(tmp_path) -> None:
    store = SQLiteStore(str(tmp_path / "t.db"))
    try:
        traces = [_trace(BASE_MS + i) for i in range(20)]
        for t in traces:
            store.save_trace("ws", t, orjson.dumps(t))
            assert store.get_trace("ws", t["trace"]) == t
        items, _ = store.list_traces("ws", limit=100)
        assert {i["trace"] for i in items} == {t["trace"] for t in traces}
    finally:
        store.close()
    assert _journals(str(tmp_path / "t.db")) == []  # everything committed: nothing left to replay


def test_a_large_batch_is_one_commit_of_grouped_inserts(tmp_path, monkeypatch) -> None:
    # 300 = 256 + 32 + 8 + 4 rows: every group size the store uses for a batch this size.
    monkeypatch.setattr(journal_mod, "GATHER_SECONDS", 5.0)
    store = SQLiteStore(str(tmp_path / "t.db"))
    try:
        recording = store._db = _Recording(store._db)  # type: ignore[assignment]
        traces = [_trace(BASE_MS + i, label=f"l{i % 7}") for i in range(300)]
        for t in traces:
            store.save_trace("ws", t)
        items, _ = store.list_traces("ws", limit=500)
        assert recording.commits == [300]
        assert sorted(i["trace"] for i in items) == sorted(t["trace"] for t in traces)
        assert all(store.get_trace("ws", t["trace"]) == t for t in traces[::37])
        labelled, _ = store.list_traces("ws", label="l3", limit=500)
        assert {i["trace"] for i in labelled} == {t["trace"] for t in traces if t["label"] == "l3"}
    finally:
        store.close()


def test_traces_saved_together_share_one_commit(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(journal_mod, "GATHER_SECONDS", 5.0)  # the committer waits; the reader commits
    store = SQLiteStore(str(tmp_path / "t.db"))
    try:
        recording = store._db = _Recording(store._db)  # type: ignore[assignment]
        traces = [_trace(BASE_MS + i) for i in range(12)]
        for t in traces:
            store.save_trace("ws", t)
        assert all(store.get_trace("ws", t["trace"]) == t for t in traces)
        assert recording.commits == [12]
    finally:
        store.close()


def test_traces_survive_the_process_dying_before_the_commit(tmp_path) -> None:
    db = str(tmp_path / "t.db")
    traces = [_trace(BASE_MS + i) for i in range(5)]
    script = textwrap.dedent(f"""
        import os, orjson, sys
        from unhardcoded.store import SQLiteStore
        from unhardcoded.store import journal
        journal.GATHER_SECONDS = 60.0   # the committer never gets to these traces
        store = SQLiteStore({db!r})
        for t in orjson.loads(sys.stdin.buffer.read()):
            store.save_trace("ws", t)
        os._exit(0)                     # no close, no flush: as if killed
    """)
    subprocess.run([sys.executable, "-c", script], input=orjson.dumps(traces), check=True, timeout=60)
    assert len(_journals(db)) == 1
    store = SQLiteStore(db)
    try:
        assert all(store.get_trace("ws", t["trace"]) == t for t in traces)
    finally:
        store.close()
    assert _journals(db) == []


def test_replay_stops_at_a_torn_record_and_skips_stored_traces(tmp_path, caplog) -> None:
    db = str(tmp_path / "t.db")
    stored, lost, torn = _trace(BASE_MS), _trace(BASE_MS + 1), _trace(BASE_MS + 2)
    store = SQLiteStore(db)
    store.save_trace("ws", stored)
    store.close()
    with open(db + ".journal-deadbeef0000", "wb") as handle:
        handle.write(encode_record("ws", orjson.dumps(stored)))   # already in the tables
        handle.write(encode_record("ws", orjson.dumps(lost)))     # only in the journal
        handle.write(encode_record("ws", orjson.dumps(torn))[:-7])  # cut short by the crash
    with caplog.at_level(logging.INFO, logger="unhardcoded.store"):
        store = SQLiteStore(db)
    # The already-stored trace is expected after a crash: one line saying what was recovered, no error.
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "recovered 1 trace(s)" in caplog.records[0].getMessage()
    try:
        assert store.get_trace("ws", stored["trace"]) == stored
        assert store.get_trace("ws", lost["trace"]) == lost
        assert store.get_trace("ws", torn["trace"]) is None
        items, _ = store.list_traces("ws")
        assert len(items) == 2
    finally:
        store.close()
    assert _journals(db) == []


def test_a_live_process_journal_is_left_alone(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(journal_mod, "GATHER_SECONDS", 5.0)
    db = str(tmp_path / "t.db")
    first = SQLiteStore(db)
    try:
        first.save_trace("ws", _trace(BASE_MS))
        (mine,) = _journals(db)
        second = SQLiteStore(db)  # another process on the same database, starting now
        try:
            assert mine in _journals(db)
            assert len(_journals(db)) == 2
        finally:
            second.close()
    finally:
        first.close()
    assert _journals(db) == []


def test_a_duplicate_id_is_dropped_and_the_rest_of_its_group_is_stored(tmp_path, monkeypatch, caplog) -> None:
    monkeypatch.setattr(journal_mod, "GATHER_SECONDS", 5.0)
    store = SQLiteStore(str(tmp_path / "t.db"))
    try:
        first = _trace(BASE_MS)
        store.save_trace("ws", first)
        store.get_trace("ws", first["trace"])  # committed
        others = [_trace(BASE_MS + 1 + i) for i in range(4)]
        store.save_trace("ws", dict(first, label="policy:copy"))
        for t in others:
            store.save_trace("ws", t)
        with caplog.at_level(logging.ERROR, logger="unhardcoded.store"):
            assert all(store.get_trace("ws", t["trace"]) == t for t in others)
        assert store.get_trace("ws", first["trace"]) == first
        assert any(first["trace"] in r.getMessage() for r in caplog.records)
    finally:
        store.close()


def test_a_failed_commit_keeps_the_journal_for_the_next_start(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(journal_mod, "GATHER_SECONDS", 5.0)
    db = str(tmp_path / "t.db")
    store = SQLiteStore(db)
    traces = [_trace(BASE_MS + i) for i in range(3)]

    def broken(batch: list) -> None:
        raise OSError("disk I/O error")

    store._journal._commit = broken  # type: ignore[union-attr]
    for t in traces:
        store.save_trace("ws", t)
    store.close()
    assert len(_journals(db)) == 1
    store = SQLiteStore(db)
    try:
        assert all(store.get_trace("ws", t["trace"]) == t for t in traces)
    finally:
        store.close()


def test_full_journals_rotate_and_are_removed_once_committed(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(journal_mod, "ROTATE_BYTES", 2048)
    db = str(tmp_path / "t.db")
    store = SQLiteStore(db)
    try:
        traces = [_trace(BASE_MS + i) for i in range(40)]
        for i, t in enumerate(traces):
            store.save_trace("ws", t)
            if i % 10 == 9:
                store.list_traces("ws")  # a read commits, and rotates the full file
                assert len(_journals(db)) == 1
        items, _ = store.list_traces("ws", limit=100)
        assert len(items) == 40
    finally:
        store.close()
    assert _journals(db) == []


def test_a_full_disk_reaches_the_caller_and_loses_nothing_saved_before(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(journal_mod, "ROTATE_BYTES", 2048)  # every few traces need a new file
    store = SQLiteStore(str(tmp_path / "t.db"))
    try:
        saved = [_trace(BASE_MS + i) for i in range(2)]
        for t in saved:
            store.save_trace("ws", t)

        def full(fd: int, offset: int, length: int) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(journal_mod.os, "posix_fallocate", full)
        lost = _trace(BASE_MS + 10)
        with pytest.raises(OSError):
            for _ in range(10):  # until the current file is full and a new one is needed
                store.save_trace("ws", lost)
                lost = _trace(BASE_MS + 10)
        monkeypatch.undo()
        assert store.get_trace("ws", lost["trace"]) is None
        assert all(store.get_trace("ws", t["trace"]) == t for t in saved)
        store.save_trace("ws", lost)  # space again: the journal carries on
        assert store.get_trace("ws", lost["trace"]) == lost
    finally:
        store.close()


def test_records_round_trip_and_reject_corruption() -> None:
    body = orjson.dumps(_trace(BASE_MS))
    data = encode_record("ws-ü", body) + encode_record("b", b"{}")
    assert list(decode_records(data)) == [("ws-ü", body), ("b", b"{}")]
    flipped = bytearray(data)
    flipped[12] ^= 0xFF  # inside the first payload: its checksum fails, and replay stops there
    assert list(decode_records(bytes(flipped))) == []


def test_an_in_memory_store_inserts_inline() -> None:
    store = SQLiteStore(":memory:")
    try:
        t = _trace(BASE_MS)
        store.save_trace("ws", t)
        assert store._journal is None and store.get_trace("ws", t["trace"]) == t
        assert not os.path.exists(":memory:.journal")
    finally:
        store.close()
