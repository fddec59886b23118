"""The field and capability vocabulary (spec §2.3) and the per-slot operator table (spec §2.1)."""
from __future__ import annotations

CORE_FIELDS: dict[str, str] = {
    "id": "string", "provider": "string", "family": "string", "region": "string",
    "price_in": "number", "price_out": "number", "context": "number", "max_output": "number",
    "bench_intelligence": "number", "latency_ms": "number", "throughput_tps": "number",
    "cap_tools": "bool", "cap_reasoning": "bool", "cap_json": "bool", "in_image": "bool",
    "no_log": "bool", "has_tee": "bool", "disabled": "bool",
    "capabilities": "caps",
}

CORE_CAPABILITIES: tuple[str, ...] = (
    "supports_tools", "supports_json_mode", "supports_response_schema", "supports_vision",
    "supports_reasoning", "supports_streaming", "supports_system_messages", "supports_prompt_caching",
    "supports_pdf_input", "supports_audio_input", "supports_audio_output", "supports_web_search",
    "supports_parallel_tool_calls", "supports_tool_choice",
)

# §2.4: parameters clamp_param may name; the integer ones clamp to integer bounds.
CLAMP_PARAMS = ("temperature", "top_p", "max_tokens", "max_completion_tokens", "presence_penalty",
                "frequency_penalty", "n", "top_logprobs")
INTEGER_PARAMS = frozenset({"max_tokens", "max_completion_tokens", "n", "top_logprobs"})

COMPARATORS = ("ge", "le", "gt", "lt", "eq", "ne")

# op -> (minimum arity, maximum arity or None for "no maximum")
SLOT_OPS: dict[int, dict[str, tuple[int, int | None]]] = {
    1: {"ev_zero": (0, 0)},
    2: {"and": (1, None), "or": (1, None), "not": (1, 1), "has_cap": (1, 1), "is": (1, 1),
        "cmp": (3, 3), "meets_req": (0, 0), "family_eq": (1, 1)},
    3: {"field": (1, 1), "normalize": (1, 1), "neg": (1, 1), "scale": (2, 2), "add": (1, None),
        "zero": (0, 0)},
    4: {"argmax": (0, 0), "top_k": (2, 2), "sample": (1, 1)},
    5: {"id": (0, 0), "clamp_param": (3, 3)},
    6: {"always": (1, 1)},
}
SLOT_NAMES = {1: "evidence", 2: "filter", 3: "rank", 4: "select", 5: "mutate", 6: "fallback"}


class Vocabulary:
    """Core fields and capabilities plus a catalog's extensions."""

    def __init__(self, extra_fields: dict[str, str] | None = None, extra_caps=()):
        self.fields = dict(CORE_FIELDS)
        self.fields.update(extra_fields or {})
        self.capabilities = list(CORE_CAPABILITIES) + [c for c in extra_caps if c not in CORE_CAPABILITIES]

    def kind(self, name: str) -> str | None:
        return self.fields.get(name)


def suggest(name: str, candidates) -> str | None:
    """did-you-mean: the closest candidate within edit distance 2, else one that starts with `name`."""
    best, best_d = None, 3
    for cand in candidates:
        d = _distance(name, cand)
        if d < best_d:
            best, best_d = cand, d
    if best is not None:
        return best
    if name:
        for cand in candidates:
            if cand.startswith(name):
                return cand
    return None


def _distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
