"""The trace object (docs/architecture.md "Trace object"): ids, timestamps, the human-readable reason,
and the wrapper the server puts around an engine record."""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from typing import Any

# Members of a finished trace, in the order they are written.
TRACE_ORDER = ("object", "trace", "label", "kind", "policy", "catalog", "requirements", "seed", "providers",
               "selected", "cascade", "candidates", "reason", "fallback", "latency_ms", "routing_ms", "cost",
               "usage", "status", "error", "started", "ended", "created")


class _Entropy(threading.local):
    """os.urandom read 4 KiB at a time, per thread: one getrandom(2) per 512 trace ids."""

    def __init__(self) -> None:
        self.pool = b""
        self.at = 0

    def take8(self) -> bytes:
        at = self.at
        if at + 8 > len(self.pool):
            self.pool, at = os.urandom(4096), 0
        self.at = at + 8
        return self.pool[at:at + 8]


_entropy = _Entropy()


def _fresh_entropy() -> None:
    # A forked worker must not hand out the ids its parent's pool still holds.
    global _entropy
    _entropy = _Entropy()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_fresh_entropy)


def new_trace_id(ms: int | None = None) -> str:
    """`tr_` + 12 hex of the epoch millisecond the call arrived + 16 random hex: unique, and sorts by
    creation time (the store pages history by id)."""
    if ms is None:
        ms = int(time.time() * 1000)
    return f"tr_{ms:012x}{_entropy.take8().hex()}"


def trace_id_ms(trace_id: str) -> int | None:
    try:
        return int(trace_id[3:15], 16) if trace_id.startswith("tr_") and len(trace_id) >= 15 else None
    except ValueError:
        return None


# (second, its formatted prefix) of the latest second seen, so strftime runs about once a second; one
# tuple swapped whole, so a thread never pairs one second with another's prefix.
_second: tuple[int, str] = (-1, "")


def _second_prefix(sec: int) -> str:
    global _second
    cached = _second
    if cached[0] == sec:
        return cached[1]
    prefix = time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(sec))
    _second = (sec, prefix)
    return prefix


def ms_iso(ms: int) -> str:
    sec, milli = divmod(ms, 1000)
    return f"{_second_prefix(sec)}{milli:03d}Z"


def now_iso() -> str:
    """UTC now as 2026-11-22T02:10:00.123Z."""
    now = time.time()
    sec = int(now)
    return f"{_second_prefix(sec)}{int((now - sec) * 1000):03d}Z"


def finish_trace(record: Mapping[str, Any], *, trace_id: str, label: str | None, kind: str = "policy",
                 created: str | None = None) -> dict[str, Any]:
    """The stored/returned trace: the engine's decision record plus identity and label."""
    trace: dict[str, Any] = {"object": "trace", "trace": trace_id, "label": label, "kind": kind}
    for key, value in record.items():
        if key not in trace:
            trace[key] = value
    if created is None:
        ms = trace_id_ms(trace_id)
        created = ms_iso(ms) if ms is not None else now_iso()
    trace["created"] = created   # when the call arrived: the time in its id
    return trace


# --- reason -------------------------------------------------------------------------------------

def _unwrap(term: Any, op: str) -> Any:
    return term[1] if isinstance(term, list) and len(term) == 2 and term[0] == op else None


def describe_rank(term: Any) -> str:
    negated = _unwrap(term, "neg")
    inner = negated if negated is not None else term
    inner = _unwrap(inner, "normalize") or inner
    if isinstance(inner, list) and len(inner) == 2 and inner[0] == "field":
        name = str(inner[1])
        if negated is not None:
            if name.startswith("price"):
                return f"cheapest ({name})"
            if name == "latency_ms":
                return "fastest (latency_ms)"
            return f"lowest {name}"
        return f"highest {name}"
    if isinstance(term, list) and term and term[0] == "zero":
        return "first by id (no score)"
    if isinstance(term, list) and term and term[0] in ("add", "scale"):
        return "best weighted score"
    return "best score"


def describe_select(term: Any, seed: int | None) -> str:
    if isinstance(term, list) and term:
        if term[0] == "top_k" and len(term) == 3:
            inner = describe_select(term[2], seed)
            return f"top {term[1]}" + ("" if inner == "" else f", {inner}")
        if term[0] == "sample" and len(term) == 2:
            return f"sampled at t={term[1]} (seed {seed})"
    return ""


def describe_requirements(req: Mapping[str, Any] | None) -> str:
    if not isinstance(req, Mapping):
        return ""
    marks = [f"{name} ✓" for name in ("tools", "vision", "json") if req.get(name) is True]
    prompt = req.get("prompt_tokens")
    if isinstance(prompt, int) and prompt > 0:
        marks.append(f"context ≥ {prompt} tokens ✓")
    max_tokens = req.get("max_tokens")
    if isinstance(max_tokens, int):
        marks.append(f"max_output ≥ {max_tokens} ✓")
    return ", ".join(marks)


def reason_text(term: Any, head: str | None, counts: Mapping[str, int], total: int, seed: int | None,
                requirements: Mapping[str, Any] | None, selected: str | None = None,
                hops: list[dict[str, Any]] | None = None) -> str:
    """One line on why the model was chosen, e.g.
    "cheapest (price_out) survivor of 12 (48 of 60 rejected); tools ✓, context ≥ 812 tokens ✓"."""
    survivors = counts.get("winner", 0) + counts.get("passed", 0)
    rejected = counts.get("rejected", 0)
    rank = describe_rank(term[3]) if isinstance(term, list) and len(term) > 4 else "best score"
    select = describe_select(term[4], seed) if isinstance(term, list) and len(term) > 4 else ""
    if head is None:
        text = f"no candidate: all {total} models rejected"
    else:
        text = f"{rank} survivor of {survivors} ({rejected} of {total} rejected)"
        if select:
            text += f", {select}"
    reqs = describe_requirements(requirements)
    if reqs:
        text += f"; {reqs}"
    if hops:
        hop_text = ", ".join(f"{h['from']} {h['cause']}" for h in hops)
        if selected is not None and selected != head:
            text += f"; served by {selected} after {len(hops)} failover{'s' if len(hops) != 1 else ''} ({hop_text})"
        else:
            text += f"; every attempt failed ({hop_text})"
    return text
