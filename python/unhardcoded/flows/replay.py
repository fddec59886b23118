"""Replaying a flow trace node by node: every llm node's policy re-evaluated over the catalog snapshot
it ran against (reproduced or not, with per-model diffs), and optionally over the current catalog.
Each node reads like a policy replay (router/replay.py), whose evaluation and diff it shares."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..router.replay import evaluate, status_changes, verdict_diff


def _recorded(entry: Mapping[str, Any]) -> dict:
    cascade = entry.get("cascade")
    cascade = list(cascade) if isinstance(cascade, list) else []
    verdicts = entry.get("candidates")
    return {"winner": cascade[0] if cascade else None, "cascade": cascade,
            "verdicts": verdicts if isinstance(verdicts, list) else []}


def _diff(recorded: Mapping[str, Any], replayed: Mapping[str, Any]) -> list[dict]:
    diff: list[dict] = []
    if "error" in replayed:
        diff.append({"field": "admission", "recorded": None, "replayed": replayed["error"]})
    if recorded["winner"] != replayed["winner"]:
        diff.append({"field": "winner", "recorded": recorded["winner"], "replayed": replayed["winner"]})
    if recorded["cascade"] != replayed["cascade"]:
        diff.append({"field": "cascade", "recorded": recorded["cascade"], "replayed": replayed["cascade"]})
    diff.extend(verdict_diff(recorded["verdicts"], replayed["verdicts"]))
    return diff


def _evaluate(entry: Mapping[str, Any], catalog: Any) -> dict:
    seed = entry.get("seed")
    providers = entry.get("providers")
    return evaluate(entry["policy"]["term"], catalog, entry.get("requirements"),
                    seed if isinstance(seed, int) else None,
                    list(providers) if isinstance(providers, list) else None)


def _replay_node(entry: Mapping[str, Any], recorded_catalog: str | None, snapshot: Any, current: Any | None) -> dict:
    node: dict[str, Any] = {"node": entry.get("node"), "status": entry.get("status"),
                            "selected": entry.get("selected")}
    policy = entry.get("policy")
    if not isinstance(policy, Mapping) or "term" not in policy:
        node.update({"replayable": False, "reproduced": None,
                     "reason": "the node was cancelled before its routing record was written"})
        return node
    recorded = _recorded(entry)
    replayed = _evaluate(entry, snapshot)
    diff = _diff(recorded, replayed)
    node_catalog = (entry.get("catalog") or {}).get("fingerprint") or recorded_catalog
    node.update({
        "replayable": True,
        "policy": {"recorded": policy.get("fingerprint"),
                   "replayed": (replayed.get("policy") or {}).get("fingerprint")},
        "catalog": {"recorded": node_catalog, "replayed": snapshot.fingerprint},
        "seed": entry.get("seed"),
        "reproduced": not diff,
        "diff": diff,
        "winner": {"recorded": recorded["winner"], "replayed": replayed["winner"]},
        "cascade": {"recorded": recorded["cascade"], "replayed": replayed["cascade"]},
    })
    if "error" in replayed:
        node["error"] = replayed["error"]
    if current is not None:
        now = _evaluate(entry, current)
        changed = _diff(recorded, now)
        node["current"] = {"winner": now["winner"], "cascade": now["cascade"], "changed": bool(changed),
                           "diff": changed, "changes": status_changes(recorded["verdicts"], now["verdicts"])}
        if "error" in now:
            node["current"]["error"] = now["error"]
    return node


def replay_flow(trace: Mapping[str, Any], snapshot_catalog: Any, current_catalog: Any | None = None) -> dict:
    """Re-evaluate every llm node of a flow trace with its recorded term, requirements, seed and host
    floor. `reproduced` is true when every replayable node's winner, cascade and per-model verdicts
    match the trace over the snapshot (`complete` is false when some node was cancelled before it
    recorded a decision); with `current_catalog`, each node also reports under `current` what its
    policy would decide now and what changed."""
    recorded_catalog = (trace.get("catalog") or {}).get("fingerprint")
    nodes = [_replay_node(e, recorded_catalog, snapshot_catalog, current_catalog)
             for e in trace.get("nodes") or [] if isinstance(e, Mapping) and e.get("kind") == "llm"]
    replayable = [n for n in nodes if n["replayable"]]
    out: dict[str, Any] = {
        "kind": "flow",
        "flow": {k: (trace.get("flow") or {}).get(k) for k in ("fingerprint", "version")},
        "catalog": {"recorded": recorded_catalog, "snapshot": snapshot_catalog.fingerprint,
                    "current": current_catalog.fingerprint if current_catalog is not None else None},
        "reproduced": all(n["reproduced"] for n in replayable),
        "complete": len(replayable) == len(nodes),
        "nodes": nodes,
    }
    if current_catalog is not None:
        out["changed"] = any(n["current"]["changed"] for n in replayable)
    return out
