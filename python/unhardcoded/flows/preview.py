"""Dry-running a flow: what each llm node's policy would pick now over the engine's live catalog."""
from __future__ import annotations

import json
from typing import Any

from .decision import CASCADE_HEAD, reason, rejection_summary


def preview_request(system: str) -> dict:
    """The only part of a node's call known before the call: its system prompt. Requirements derived
    from it are a lower bound; the live call adds the conversation, tools and response format."""
    return {"messages": [{"role": "system", "content": system}]}


def preview_flow(engine: Any, flow: Any) -> list[dict]:
    """One entry per llm node, in execution order: the winner, the cascade head, verdict counts and the
    reason, or the node's no_candidates verdict summary. Spends no tokens."""
    from .. import NoCandidates, requirements_from_request

    catalog = engine.catalog
    providers = getattr(engine, "providers", None)
    out: list[dict] = []
    for node_id in flow.order():
        node = flow.node(node_id)
        if node["kind"] != "llm":
            continue
        policy = flow.node_policy(node_id)
        requirements = requirements_from_request(json.dumps(preview_request(node["system"])))
        entry: dict[str, Any] = {"node": node_id, "inputs": list(node["inputs"]),
                                 "policy": {"fingerprint": policy.fingerprint, "version": policy.version},
                                 "requirements": requirements}
        try:
            result = policy.rank(catalog, requirements=requirements,
                                 providers=list(providers) if providers is not None else None)
        except NoCandidates as exc:
            verdicts = exc.result.verdicts()
            entry.update({"status": "no_candidates", "winner": None, "cascade_head": [], "cascade_len": 0,
                          "counts": exc.result.counts(), "reason": exc.message,
                          "dropped_by": rejection_summary(verdicts)})
            out.append(entry)
            continue
        counts = result.counts()
        entry.update({"status": "ok", "winner": result.winner, "cascade_head": list(result.cascade[:CASCADE_HEAD]),
                      "cascade_len": len(result.cascade), "counts": counts, "seed": result.seed,
                      "reason": reason(policy, result, requirements)})
        out.append(entry)
    return out
