"""Replaying a policy trace: the recorded policy (or another one) re-evaluated over the recorded
catalog snapshot (or the current catalog) with the recorded requirements, seed and host floor.

Over the snapshot with the recorded policy the verdicts must come back identical; anything else is
reported as a diff. Flow traces are replayed node by node by unhardcoded.flows.replay_flow.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

_COMPARED = ("status", "dropped_by", "score", "rank")


def _utf8_key(model: Any) -> bytes:
    return str(model).encode()


def verdict_diff(recorded: list[Mapping[str, Any]], replayed: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per-model differences, in model id order: a changed status/dropped_by/score/rank, or a model
    present on one side only."""
    before = {v.get("model"): v for v in recorded if isinstance(v, Mapping)}
    after = {v.get("model"): v for v in replayed if isinstance(v, Mapping)}
    diffs: list[dict[str, Any]] = []
    for model in sorted(set(before) | set(after), key=_utf8_key):
        b, a = before.get(model), after.get(model)
        if b is None or a is None:
            diffs.append({"model": model, "field": "present", "recorded": b is not None, "replayed": a is not None})
            continue
        for field in _COMPARED:
            if b.get(field) != a.get(field):
                diffs.append({"model": model, "field": field, "recorded": b.get(field), "replayed": a.get(field)})
    return diffs


def status_changes(recorded: list[Mapping[str, Any]], replayed: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Models whose status moved (e.g. passed → rejected), with the rule that now rejects them."""
    before = {v.get("model"): v for v in recorded if isinstance(v, Mapping)}
    after = {v.get("model"): v for v in replayed if isinstance(v, Mapping)}
    out: list[dict[str, Any]] = []
    for model in sorted(set(before) | set(after), key=_utf8_key):
        b, a = before.get(model), after.get(model)
        old = b.get("status") if b else None
        new = a.get("status") if a else None
        if old != new:
            out.append({"model": model, "recorded": old, "replayed": new,
                        "dropped_by": a.get("dropped_by") if a else None})
    return out


def evaluate(term: Any, catalog: Any, requirements: Mapping[str, Any] | None, seed: int | None,
             providers: list[str] | None) -> dict[str, Any]:
    """{"policy", "winner", "cascade", "seed", "verdicts"} or {"error": …} when the term no longer admits."""
    from .._core import NoCandidates, Policy, UnhardcodedError

    try:
        policy = Policy.admit(orjson.dumps(term), fields=catalog)
    except UnhardcodedError as exc:
        return {"error": exc.to_dict(), "policy": None, "winner": None, "cascade": [], "seed": seed, "verdicts": []}
    identity = {"fingerprint": policy.fingerprint, "version": policy.version}
    try:
        result = policy.rank(catalog, requirements=orjson.dumps(requirements) if requirements else None, seed=seed,
                             providers=providers)
    except NoCandidates as exc:
        return {"policy": identity, "winner": None, "cascade": [], "seed": exc.result.seed,
                "verdicts": exc.result.verdicts()}
    return {"policy": identity, "winner": result.winner, "cascade": list(result.cascade), "seed": result.seed,
            "verdicts": result.verdicts()}


def replay_policy(trace: Mapping[str, Any], catalog: Any, *, against: str, policy_term: Any = None) -> dict[str, Any]:
    """Re-evaluate a policy trace over `catalog` (the snapshot or the current catalog)."""
    recorded_policy = trace.get("policy") or {}
    term = policy_term if policy_term is not None else recorded_policy.get("term")
    seed = trace.get("seed")
    providers = trace.get("providers")
    replayed = evaluate(term, catalog, trace.get("requirements"), seed if isinstance(seed, int) else None,
                        list(providers) if isinstance(providers, list) else None)
    recorded_verdicts = trace.get("candidates") if isinstance(trace.get("candidates"), list) else []
    recorded_cascade = trace.get("cascade") if isinstance(trace.get("cascade"), list) else []
    recorded_winner = recorded_cascade[0] if recorded_cascade else None

    diff: list[dict[str, Any]] = []
    if "error" in replayed:
        diff.append({"field": "admission", "recorded": None, "replayed": replayed["error"]})
    if recorded_winner != replayed["winner"]:
        diff.append({"field": "winner", "recorded": recorded_winner, "replayed": replayed["winner"]})
    if recorded_cascade != replayed["cascade"]:
        diff.append({"field": "cascade", "recorded": recorded_cascade, "replayed": replayed["cascade"]})
    diff.extend(verdict_diff(recorded_verdicts, replayed["verdicts"]))

    out: dict[str, Any] = {
        "object": "replay",
        "trace": trace.get("trace"),
        "kind": "policy",
        "against": against,
        "policy": {"recorded": recorded_policy.get("fingerprint"),
                   "replayed": (replayed.get("policy") or {}).get("fingerprint")},
        "catalog": {"recorded": (trace.get("catalog") or {}).get("fingerprint"), "replayed": catalog.fingerprint},
        "seed": seed,
        "reproduced": not diff,
        "diff": diff,
        "winner": {"recorded": recorded_winner, "replayed": replayed["winner"]},
        "cascade": {"recorded": recorded_cascade, "replayed": replayed["cascade"]},
        "changes": status_changes(recorded_verdicts, replayed["verdicts"]),
        "verdicts": replayed["verdicts"],
    }
    if "error" in replayed:
        out["error"] = replayed["error"]
    return out
