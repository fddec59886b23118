"""A NumPy-vectorized evaluator for sigma-pol/v1 policies with an `argmax` (or `top_k` of
`argmax`) select: the strongest fair baseline for the native rank.

It is written the way a careful NumPy user would: the catalog is loaded once into typed columns
(float64 with NaN for missing numbers, bool arrays for flags and capabilities, an object array of
the ids), the filter becomes boolean masks combined in place, scores are computed for survivors
only, and the ranked list is one stable sort over a single float key — stable, because the
catalog is in ascending id order, so equal scores keep id order (spec §5.3) without a second key.

It produces what the router needs — the winner and the cascade as a list of ids — and nothing
else: no per-model verdicts or blame, which the native core computes as well. The comparison is
therefore conservative for the native side.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

_NUMBER_FIELDS = ["price_in", "price_out", "context", "max_output", "bench_intelligence",
                  "latency_ms", "throughput_tps"]
_BOOL_FIELDS = ["cap_tools", "cap_reasoning", "cap_json", "in_image", "no_log", "has_tee", "disabled"]
_STRING_FIELDS = ["provider", "family", "region"]


@dataclass
class NumpyCatalog:
    ids: np.ndarray                    # object array of str, ascending
    numbers: dict[str, np.ndarray]     # float64, NaN = missing
    flags: dict[str, np.ndarray]       # bool, missing = False (spec §5.1: `is` on a missing flag is false)
    caps: dict[str, np.ndarray]        # bool per capability, False when the model has no set
    strings: dict[str, np.ndarray]     # object arrays, None = missing

    def __len__(self) -> int:
        return len(self.ids)

    @staticmethod
    def from_models(models: list[dict]) -> NumpyCatalog:
        ids = [m["id"] for m in models]
        if any(a >= b for a, b in itertools.pairwise(ids)):
            raise ValueError("models must be in strictly ascending id order")
        n = len(models)
        numbers = {f: np.array([m.get(f) for m in models], dtype=np.float64) for f in _NUMBER_FIELDS}
        flags = {f: np.fromiter((m.get(f) is True for m in models), dtype=bool, count=n) for f in _BOOL_FIELDS}
        cap_names = sorted({c for m in models for c in (m.get("capabilities") or ())})
        cap_sets = [frozenset(m.get("capabilities") or ()) for m in models]
        caps = {c: np.fromiter((c in s for s in cap_sets), dtype=bool, count=n) for c in cap_names}
        strings = {f: np.array([m.get(f) for m in models], dtype=object) for f in _STRING_FIELDS}
        return NumpyCatalog(np.array(ids, dtype=object), numbers, flags, caps, strings)


Mask = np.ndarray


def _filter(term: list, cat: NumpyCatalog, req: dict[str, Any]) -> Mask:
    op = term[0]
    n = len(cat)
    if op == "and":
        out = _filter(term[1], cat, req).copy()
        for child in term[2:]:
            out &= _filter(child, cat, req)
        return out
    if op == "or":
        out = _filter(term[1], cat, req).copy()
        for child in term[2:]:
            out |= _filter(child, cat, req)
        return out
    if op == "not":
        return ~_filter(term[1], cat, req)
    if op == "is":
        return cat.flags[term[1]]
    if op == "has_cap":
        return cat.caps.get(term[1], np.zeros(n, dtype=bool))
    if op == "family_eq":
        return cat.strings["family"] == term[1]
    if op == "cmp":
        _, field, cmp, value = term
        if field in cat.numbers:
            col = cat.numbers[field]
            # NaN compares false everywhere except `ne`, which must also be false on a missing value.
            if cmp == "ne":
                return (col != value) & ~np.isnan(col)
            return {"ge": np.greater_equal, "le": np.less_equal, "gt": np.greater,
                    "lt": np.less, "eq": np.equal}[cmp](col, value)
        col = cat.ids if field == "id" else cat.strings[field]
        present = np.array([v is not None for v in col], dtype=bool)
        return (col == value) if cmp == "eq" else ((col != value) & present)
    if op == "meets_req":
        return _meets_req(cat, req)
    raise NotImplementedError(f"filter op {op!r}")


def _meets_req(cat: NumpyCatalog, req: dict[str, Any]) -> Mask:
    need = req.get("prompt_tokens", 0) + (req.get("max_tokens") or 0)
    out = cat.numbers["context"] >= need
    if req.get("max_tokens") is not None:
        out &= cat.numbers["max_output"] >= req["max_tokens"]
    for want, flag in (("tools", "cap_tools"), ("vision", "in_image"), ("json", "cap_json")):
        if req.get(want):
            out &= cat.flags[flag]
    return out


def _score(term: list, cat: NumpyCatalog, idx: np.ndarray) -> np.ndarray:
    """Scores of the survivors `idx` (float64, NaN = no score)."""
    op = term[0]
    if op == "field":
        return cat.numbers[term[1]][idx]
    if op == "zero":
        return np.zeros(len(idx))
    if op == "neg":
        return np.negative(_score(term[1], cat, idx))
    if op == "scale":
        return _finite(term[1] * _score(term[2], cat, idx))
    if op == "add":
        out = _score(term[1], cat, idx)
        for child in term[2:]:
            out = out + _score(child, cat, idx)
        return _finite(out)
    if op == "normalize":
        x = _score(term[1], cat, idx)
        scored = x[~np.isnan(x)]
        if scored.size == 0:
            return x
        lo, hi = scored.min(), scored.max()
        if hi == lo:
            return np.where(np.isnan(x), np.nan, 0.0)
        return _finite((x - lo) / (hi - lo))
    raise NotImplementedError(f"rank op {op!r}")


def _finite(x: np.ndarray) -> np.ndarray:
    """Spec §5.2: a non-finite intermediate becomes no score."""
    bad = np.isinf(x)
    if bad.any():
        x = np.where(bad, np.nan, x)
    return x


def _ranked(scores: np.ndarray) -> np.ndarray:
    """Positions into `scores` in ranked order: descending score, then ascending position (= id,
    since survivors keep catalog order), unscored last. One stable sort on a single key."""
    key = np.negative(scores)
    unscored = np.isnan(key)
    if unscored.any():
        key[unscored] = np.inf  # after every finite key
    return np.argsort(key, kind="stable")


def rank(policy: list, cat: NumpyCatalog, req: dict[str, Any]) -> tuple[str, list[str]]:
    """(winner, cascade) of an argmax / top_k(argmax) policy. Raises LookupError on an empty cascade."""
    _, _evidence, filt, scorer, select, _mutate, _fallback = policy
    idx = np.flatnonzero(_filter(filt, cat, req))
    order = _ranked(_score(scorer, cat, idx))
    while select[0] == "top_k":
        order = order[: select[1]]
        select = select[2]
    if select[0] != "argmax":
        raise NotImplementedError(f"select op {select[0]!r}")
    cascade = cat.ids[idx[order]].tolist()
    if not cascade:
        raise LookupError("no_candidates")
    return cascade[0], cascade


def compile_rank(policy: list) -> Callable[[NumpyCatalog, dict[str, Any]], tuple[str, list[str]]]:
    return lambda cat, req: rank(policy, cat, req)
