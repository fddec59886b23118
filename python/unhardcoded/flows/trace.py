"""Stitching one flow trace out of the per-node engine records."""
from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from typing import Any

# The node entry's own keys; the engine record is spread after them and may not override them.
_ENTRY_KEYS = ("node", "kind", "inputs", "started", "ended")

# One billable run covers up to this many llm nodes (product pages: "a flow = one run up to 5 nodes").
NODES_PER_RUN = 5

__all__ = ["billable_runs", "finish", "new_trace", "node_entry", "now_iso", "sum_cost", "sum_usage"]

_second: tuple[int, str] = (-1, "")


def now_iso() -> str:
    """UTC now as router/trace.now_iso writes it ("2026-11-22T02:10:00.000Z"). A flow stamps every node
    twice, so the formatted second is reused until the clock moves on."""
    global _second
    now = time.time()
    whole = int(now)
    cached = _second
    if cached[0] != whole:
        cached = _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{cached[1]}.{int((now - whole) * 1000):03d}Z"


def billable_runs(llm_nodes: int) -> int:
    """A flow bills as one run per started group of five llm nodes; a flow with none is still one run."""
    return max(1, math.ceil(llm_nodes / NODES_PER_RUN))


def new_trace(plan: Any, catalog_fingerprint: str | None) -> dict:
    """`plan` is the flow's FlowPlan; the trace's term is the plan's (shared, never mutated)."""
    return {
        "kind": "flow",
        "flow": {"fingerprint": plan.fingerprint, "version": plan.version, "term": plan.term},
        "catalog": {"fingerprint": catalog_fingerprint},
        "order": list(plan.order),
        "nodes": [],
        "skipped": [],
        "selected": {},
        "latency_ms": None,
        "usage": None,
        "cost": None,
        "billable_runs": billable_runs(len(plan.llm_ids)),
        "status": "running",
        "error": None,
        "started": now_iso(),
        "ended": None,
    }


def node_entry(node: Mapping[str, Any], started: str, ended: str, record: Mapping[str, Any] | None,
               status: str | None = None) -> dict:
    entry: dict[str, Any] = {"node": node["id"], "kind": node["kind"], "inputs": list(node.get("inputs") or []),
                             "started": started, "ended": ended}
    if record:
        for key, value in record.items():
            if key not in _ENTRY_KEYS:
                entry[key] = value
    if status is not None:
        entry["status"] = status
    elif "status" not in entry:
        entry["status"] = "ok"
    return entry


def sum_usage(usages: Iterable[Any]) -> dict | None:
    """Sum OpenAI usage objects member by member, nested details included; non-numbers are skipped."""
    total: dict[str, Any] | None = None
    for usage in usages:
        if isinstance(usage, Mapping):
            total = _add_into(total or {}, usage)
    return total


def _add_into(acc: dict, usage: Mapping) -> dict:
    for key, value in usage.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            prior = acc.get(key)
            acc[key] = (prior if isinstance(prior, (int, float)) else 0) + value
        elif isinstance(value, Mapping):
            prior = acc.get(key)
            acc[key] = _add_into(prior if isinstance(prior, dict) else {}, value)
    return acc


def sum_cost(costs: Iterable[Any]) -> float | None:
    """Sum of the known node costs; None when no node reported one."""
    known = [c for c in costs if isinstance(c, (int, float)) and not isinstance(c, bool)]
    return float(sum(known)) if known else None


def finish(trace: dict, started_at: float, *, error: dict | None = None) -> dict:
    """Fill the totals from the node entries; safe to call once the last node entry is in."""
    nodes = trace["nodes"]
    llm = [e for e in nodes if e.get("kind") == "llm"]
    trace["usage"] = sum_usage(e.get("usage") for e in llm)
    trace["cost"] = sum_cost(e.get("cost") for e in llm)
    trace["selected"] = {e["node"]: e.get("selected") for e in llm if e.get("status") == "ok"}
    trace["latency_ms"] = round((time.perf_counter() - started_at) * 1000.0, 3)
    trace["status"] = "error" if error is not None else "ok"
    trace["error"] = error
    trace["ended"] = now_iso()
    return trace
