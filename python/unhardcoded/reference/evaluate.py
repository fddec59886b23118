"""Evaluation of an admitted policy over a catalog (spec §5): filter with blame, rank, order, select."""
from __future__ import annotations

import math
import random

from .catalog import Catalog
from .errors import RefError, pointer
from .requirements import NO_REQUIREMENTS, unmet

MASK64 = (1 << 64) - 1
MAX_SEED = (1 << 53) - 1


class SplitMix64:
    def __init__(self, seed: int):
        self.state = seed & MASK64

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def unit(self) -> float:
        return (self.next() >> 11) * 2.0 ** -53


def _blame(term: list, path: str, reason: str | None = None) -> dict:
    blame = {"path": path, "term": term}
    if reason is not None:
        blame["reason"] = reason
    return blame


# -- filter (§5.1) -----------------------------------------------------------------

def _number(v) -> float | None:
    return v if isinstance(v, float) else None


def test(node: list, path: str, model: dict, req: dict) -> dict | None:
    """None when the model passes; otherwise the blame (dropped_by)."""
    op = node[0]
    if op == "and":
        for i in range(1, len(node)):
            blame = test(node[i], pointer(path, i), model, req)
            if blame is not None:
                return blame
        return None
    if op == "or":
        for i in range(1, len(node)):
            if test(node[i], pointer(path, i), model, req) is None:
                return None
        return _blame(node, path)
    if op == "not":
        return _blame(node, path) if test(node[1], pointer(path, 1), model, req) is None else None
    if op == "meets_req":
        reason = unmet(model, req)
        return None if reason is None else _blame(node, path, reason)
    return None if _leaf(node, model) else _blame(node, path)


def _leaf(node: list, model: dict) -> bool:
    op = node[0]
    if op == "has_cap":
        return node[1] in (model.get("capabilities") or [])
    if op == "is":
        return model.get(node[1]) is True
    if op == "family_eq":
        return model.get("family") == node[1]
    # cmp: a missing value is false whatever the comparator (two-valued logic)
    _, name, comparator, literal = node
    value = model.get(name)
    if value is None:
        return False
    if comparator == "eq":
        return value == literal
    if comparator == "ne":
        return value != literal
    return {"ge": value >= literal, "le": value <= literal,
            "gt": value > literal, "lt": value < literal}[comparator]


# -- rank (§5.2) --------------------------------------------------------------------

def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def scores(node: list, models: list[dict]) -> list[float | None]:
    op = node[0]
    if op == "field":
        return [_number(m.get(node[1])) for m in models]
    if op == "zero":
        return [0.0 for _ in models]
    if op == "neg":
        return [None if x is None else -x for x in scores(node[1], models)]
    if op == "scale":
        w = node[1]
        return [None if x is None else _finite(w * x) for x in scores(node[2], models)]
    if op == "add":
        columns = [scores(child, models) for child in node[1:]]
        out = []
        for row in zip(*columns):
            if any(x is None for x in row):
                out.append(None)
                continue
            total = row[0]
            for x in row[1:]:
                total += x
            out.append(_finite(total))
        return out
    # normalize
    xs = scores(node[1], models)
    known = [x for x in xs if x is not None]
    if not known:
        return xs
    low, high = min(known), max(known)
    if high == low:
        return [None if x is None else 0.0 for x in xs]
    return [None if x is None else _finite((x - low) / (high - low)) for x in xs]


def ranked_order(ids: list[str], score: dict[str, float | None]) -> list[str]:
    """Score descending, ties by id ascending (UTF-8 bytes == code points), null scores last by id."""
    def key(model_id: str):
        s = score[model_id]
        return (1, 0.0, model_id) if s is None else (0, -s, model_id)
    return sorted(ids, key=key)


# -- select (§5.3) ------------------------------------------------------------------

def select(node: list, path: str, ranked: list[str], score: dict, rng_seed: int | None,
           drops: dict[str, dict]) -> list[str]:
    op = node[0]
    if op == "argmax":
        return list(ranked)
    if op == "top_k":
        n = int(node[1])
        for model_id in ranked[n:]:
            drops[model_id] = _blame(node, path)
        return select(node[2], pointer(path, 2), ranked[:n], score, rng_seed, drops)
    # sample
    t = node[1]
    scored = [m for m in ranked if score[m] is not None]
    if not scored:
        return list(ranked)
    s_max = max(score[m] for m in scored)
    weights = [math.exp((score[m] - s_max) / t) for m in scored]
    total = 0.0
    cumulative = []
    for w in weights:
        total += w
        cumulative.append(total)
    target = SplitMix64(rng_seed).unit() * total
    head = next((m for m, c in zip(scored, cumulative) if c > target), scored[-1])
    return [head] + [m for m in ranked if m != head]


def _has_sample(node: list) -> bool:
    return node[0] == "sample" or (node[0] == "top_k" and _has_sample(node[2]))


# -- the whole evaluation (§5.4) ------------------------------------------------------

def evaluate(term: list, catalog: Catalog, requirements: dict | None = None, seed: int | None = None,
             providers=None) -> dict:
    """Returns {"winner", "cascade", "seed", "verdicts"}; raises RefError(no_candidates) on an empty cascade."""
    req = dict(NO_REQUIREMENTS, **(requirements or {}))
    floor = None if providers is None else set(providers)
    drops: dict[str, dict] = {}
    survivors: list[dict] = []
    for model in catalog.models:
        if floor is not None and model["provider"] not in floor:
            drops[model["id"]] = {"path": "", "term": "host_floor",
                                  "reason": f"provider {model['provider']} is not configured"}
            continue
        blame = test(term[2], "/2", model, req)
        if blame is not None:
            drops[model["id"]] = blame
        else:
            survivors.append(model)

    score = dict(zip((m["id"] for m in survivors), scores(term[3], survivors)))
    ranked = ranked_order(list(score), score)

    sampled = _has_sample(term[4])
    if sampled and seed is None:
        seed = random.getrandbits(53)
    cascade = select(term[4], "/4", ranked, score, seed, drops)

    position = {m: i for i, m in enumerate(cascade)}
    verdicts = []
    for model in catalog.models:
        mid = model["id"]
        rank = position.get(mid)
        status = "rejected" if rank is None else ("winner" if rank == 0 else "passed")
        verdicts.append({"model": mid, "status": status, "dropped_by": drops.get(mid),
                         "score": score.get(mid), "rank": rank})
    result = {"winner": cascade[0] if cascade else None, "cascade": cascade,
              "seed": seed if sampled else None, "verdicts": verdicts}
    if not cascade:
        raise RefError("no_candidates", "empty_cascade", "", "No model passes the policy's filter.",
                       result=result)
    return result
