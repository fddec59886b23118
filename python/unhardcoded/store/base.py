"""What every trace store provides, and the helpers the backends share.

A trace is stored as its JSON text plus a few summary columns the history view filters and
pages on, so listing never parses bodies. Catalog snapshots are stored once per fingerprint.

Trace ids sort by creation time (`tr_` + 12 hex digits of the epoch millisecond the call arrived +
random hex, router/trace.py), and a trace's `created` is that same millisecond; history is ordered
by id, newest first, and time bounds are id bounds. The key is (workspace, id): a lookup by id
names the workspace, so one workspace can never read another's trace.
"""
from __future__ import annotations

import base64
import datetime as _dt
from collections.abc import Callable
from typing import Any, Protocol

import orjson

# Listing returns these summary members, read from columns (no body parsing).
SUMMARY_FIELDS = ("trace", "label", "kind", "selected", "status", "policy", "cost", "latency_ms", "created")

MAX_PAGE = 1000


class StoreError(Exception):
    """A storage backend failed or was misconfigured; the message never carries a password."""


class BadCursor(ValueError):
    """A history cursor that this store did not issue."""


class TraceStore(Protocol):
    # True when calls are cheap enough to run on the event loop (SQLite); False when the server
    # must move them to a worker thread (a network database).
    inline: bool

    def save_trace(self, workspace_id: str, trace: dict[str, Any], body: bytes | None = None) -> None: ...
    def get_trace(self, workspace_id: str, trace_id: str) -> dict[str, Any] | None: ...
    def get_trace_json(self, workspace_id: str, trace_id: str) -> bytes | None: ...
    def list_traces(self, workspace_id: str, label: str | None = None, model: str | None = None,
                    since: Any = None, until: Any = None, limit: int = 50,
                    cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]: ...
    def put_catalog(self, fingerprint: str, canonical_json: str | bytes) -> None: ...
    def get_catalog(self, fingerprint: str) -> str | None: ...
    def put_setting(self, name: str, value: str) -> bool: ...
    def get_setting(self, name: str) -> str | None: ...
    def close(self) -> None: ...


def iso_to_ms(value: str) -> int:
    """Parses an ISO-8601 timestamp (a trailing Z is accepted; naive means UTC) to epoch ms."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = _dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return int(round(moment.timestamp() * 1000))


def ms_to_iso(ms: int) -> str:
    moment = _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def time_bound_ms(value: Any) -> int | None:
    """since/until as an ISO string, an epoch-millisecond int or a datetime."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a time bound must be an ISO-8601 timestamp or epoch milliseconds")
    if isinstance(value, int):
        return value
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.UTC)
        return int(round(value.timestamp() * 1000))
    if isinstance(value, str):
        return iso_to_ms(value)
    raise ValueError("a time bound must be an ISO-8601 timestamp or epoch milliseconds")


def encode_cursor(trace_id: str) -> str:
    return base64.urlsafe_b64encode(trace_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        trace_id = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
    except (ValueError, UnicodeError) as exc:
        raise BadCursor("the cursor is not one this server issued") from exc
    if not trace_id.startswith("tr_"):
        raise BadCursor("the cursor is not one this server issued")
    return trace_id


def id_bound(ms: int) -> str:
    """The smallest trace id created at `ms` (ids are tr_ + 12 hex digits of epoch ms + random)."""
    return f"tr_{max(ms, 0):012x}"


def summary_row(trace: dict[str, Any]) -> tuple[Any, ...]:
    """The summary columns of a trace, in SUMMARY_FIELDS order plus created_ms."""
    policy = trace.get("policy")
    policy_fp = None
    if isinstance(policy, dict):
        policy_fp = policy.get("fingerprint")
    elif isinstance(trace.get("flow"), dict):
        policy_fp = trace["flow"].get("fingerprint")
    created = trace.get("created")
    if not isinstance(created, str):
        raise ValueError("a trace needs an ISO-8601 'created' timestamp")
    selected = trace.get("selected")
    cost = trace.get("cost")
    latency = trace.get("latency_ms")
    return (
        str(trace["trace"]),
        trace.get("label"),
        str(trace.get("kind") or "policy"),
        selected if isinstance(selected, str) else None,
        str(trace.get("status") or "ok"),
        policy_fp,
        float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None,
        float(latency) if isinstance(latency, (int, float)) and not isinstance(latency, bool) else None,
        created,
        _created_ms(created),
    )


# The last "YYYY-MM-DDTHH:MM:SS" seen in a trace's `created` and its epoch second: traces arrive in
# time order, so the ISO parse runs about once a second. One tuple swapped whole (thread-safe).
_created_second: tuple[str, int] = ("", 0)


def _created_ms(created: str) -> int:
    global _created_second
    if len(created) == 24 and created[19] == "." and created[23] == "Z" and created[20:23].isdigit():
        second, epoch = _created_second
        if created[:19] == second:
            return epoch * 1000 + int(created[20:23])
        ms = iso_to_ms(created)
        _created_second = (created[:19], ms // 1000)
        return ms
    return iso_to_ms(created)


def trace_body(trace: dict[str, Any], body: bytes | None) -> bytes:
    return body if body is not None else orjson.dumps(trace)


def clamp_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError("limit must be a positive integer")
    return min(limit, MAX_PAGE)


def history_page(rows_of: Callable[[str, list[Any]], list[tuple]], table: str, placeholder: str,
                 workspace_id: str, label: str | None, model: str | None, since: Any, until: Any,
                 limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a workspace's trace summaries, newest first (`list_traces` of every backend):
    `rows_of(sql, params)` runs the query, `placeholder` is the driver's parameter marker."""
    page = clamp_limit(limit)
    clauses = [f"workspace = {placeholder}"]
    params: list[Any] = [workspace_id]
    lo, hi = time_bound_ms(since), time_bound_ms(until)
    for column, op, value in (("label", "=", label), ("selected", "=", model),
                              ("id", ">=", None if lo is None else id_bound(lo)),
                              ("id", "<", None if hi is None else id_bound(hi)),
                              ("id", "<", decode_cursor(cursor) if cursor else None)):
        if value is not None:
            clauses.append(f"{column} {op} {placeholder}")
            params.append(value)
    sql = (
        "SELECT id, label, kind, selected, status, policy, cost, latency_ms, created"
        f" FROM {table} WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT {placeholder}"
    )
    params.append(page + 1)
    rows = rows_of(sql, params)
    more = len(rows) > page
    rows = rows[:page]
    items = [dict(zip(SUMMARY_FIELDS, r)) for r in rows]
    return items, (encode_cursor(rows[-1][0]) if more and rows else None)

