"""A minimal pure-Python evaluator (filter, rank, argmax / top_k of argmax) over model dicts.

The rank benches use it as the pure-Python baseline only when the project's reference
interpreter (`unhardcoded.reference`) is not importable. The term is compiled once into closures,
so the per-model cost is the tests themselves, not re-walking the term.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

_CMP: dict[str, Callable[[float, float], bool]] = {
    "ge": lambda a, b: a >= b, "le": lambda a, b: a <= b, "gt": lambda a, b: a > b,
    "lt": lambda a, b: a < b, "eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
}

Model = dict[str, Any]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _filter(term: list, req: dict[str, Any]) -> Callable[[Model], bool]:
    op = term[0]
    if op in ("and", "or"):
        parts = [_filter(t, req) for t in term[1:]]
        if op == "and":
            return lambda m: all(p(m) for p in parts)
        return lambda m: any(p(m) for p in parts)
    if op == "not":
        inner = _filter(term[1], req)
        return lambda m: not inner(m)
    if op == "is":
        name = term[1]
        return lambda m: m.get(name) is True
    if op == "has_cap":
        cap = term[1]
        return lambda m: cap in (m.get("capabilities") or ())
    if op == "family_eq":
        family = term[1]
        return lambda m: m.get("family") == family
    if op == "cmp":
        _, field, cmp, value = term
        test = _CMP[cmp]
        if isinstance(value, str):
            return lambda m: isinstance(m.get(field), str) and test(m[field], value)
        return lambda m: _is_number(m.get(field)) and test(m[field], value)
    if op == "meets_req":
        return _meets_req(req)
    raise NotImplementedError(f"filter op {op!r}")


def _meets_req(req: dict[str, Any]) -> Callable[[Model], bool]:
    need = req.get("prompt_tokens", 0) + (req.get("max_tokens") or 0)
    max_tokens = req.get("max_tokens")
    flags = [f for want, f in (("tools", "cap_tools"), ("vision", "in_image"), ("json", "cap_json")) if req.get(want)]

    def meets(m: Model) -> bool:
        for f in flags:
            if m.get(f) is not True:
                return False
        ctx = m.get("context")
        if not _is_number(ctx) or ctx < need:
            return False
        if max_tokens is not None:
            out = m.get("max_output")
            if not _is_number(out) or out < max_tokens:
                return False
        return True

    return meets


Scores = list[float | None]


def _scorer(term: list) -> Callable[[list[Model]], Scores]:
    op = term[0]
    if op == "field":
        name = term[1]
        return lambda ms: [float(m[name]) if _is_number(m.get(name)) else None for m in ms]
    if op == "zero":
        return lambda ms: [0.0] * len(ms)
    if op == "neg":
        inner = _scorer(term[1])
        return lambda ms: [None if x is None else -x for x in inner(ms)]
    if op == "scale":
        w, inner = float(term[1]), _scorer(term[2])
        return lambda ms: [_finite(None if x is None else w * x) for x in inner(ms)]
    if op == "add":
        parts = [_scorer(t) for t in term[1:]]

        def add(ms: list[Model]) -> Scores:
            cols = [p(ms) for p in parts]
            return [_finite(None if None in xs else sum(xs)) for xs in zip(*cols)]

        return add
    if op == "normalize":
        inner = _scorer(term[1])

        def normalize(ms: list[Model]) -> Scores:
            xs = inner(ms)
            scored = [x for x in xs if x is not None]
            if not scored:
                return xs
            lo, hi = min(scored), max(scored)
            if hi == lo:
                return [None if x is None else 0.0 for x in xs]
            span = hi - lo
            return [None if x is None else _finite((x - lo) / span) for x in xs]

        return normalize
    raise NotImplementedError(f"rank op {op!r}")


def _finite(x: float | None) -> float | None:
    return x if x is None or math.isfinite(x) else None


def rank(policy: list, models: list[Model], req: dict[str, Any]) -> tuple[str, list[str]]:
    """(winner, cascade) over `models` (ascending id order). Raises LookupError on an empty cascade."""
    _, _evidence, filt, scorer, select, _mutate, _fallback = policy
    keep = _filter(filt, req)
    survivors = [m for m in models if keep(m)]
    scores = _scorer(scorer)(survivors)
    # Stable sort: survivors are in id order, so equal scores stay in id order (spec §5.3).
    order = sorted(range(len(survivors)), key=lambda i: (1, 0.0) if scores[i] is None else (0, -scores[i]))
    while select[0] == "top_k":
        order = order[: select[1]]
        select = select[2]
    if select[0] != "argmax":
        raise NotImplementedError(f"select op {select[0]!r}")
    cascade = [survivors[i]["id"] for i in order]
    if not cascade:
        raise LookupError("no_candidates")
    return cascade[0], cascade
