"""Reading a policy decision back for a preview: its reason, and a summary of why nothing passed."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from ..router.trace import reason_text

# How many cascade entries a preview shows, and how many distinct rejection causes a summary lists.
CASCADE_HEAD = 3
TOP_CAUSES = 5


def reason(policy: Any, result: Any, requirements: Mapping[str, Any] | None) -> str:
    """Why the result's winner heads the cascade, worded as the router words a live call's reason."""
    return reason_text(json.loads(policy.canonical), result.winner, result.counts(), len(result), result.seed,
                       requirements)


def rejection_summary(verdicts: Iterable[Mapping[str, Any]]) -> list[dict]:
    """The sub-terms that rejected models, most frequent first: what to loosen when nothing passes."""
    causes: Counter[str] = Counter()
    shown: dict[str, dict] = {}
    for v in verdicts:
        blame = v.get("dropped_by")
        if v.get("status") != "rejected" or not isinstance(blame, Mapping):
            continue
        key = json.dumps([blame.get("path"), blame.get("term"), blame.get("reason")], sort_keys=True)
        causes[key] += 1
        shown.setdefault(key, {k: blame[k] for k in ("path", "term", "reason") if k in blame})
    ranked = sorted(causes.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CAUSES]
    return [{**shown[key], "count": n} for key, n in ranked]
