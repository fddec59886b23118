"""The benchmark baselines must compute the same thing as the native core, or the speed-ups the
benches report compare different work. These checks run fast (`python -m pytest benches`; the
benchmarks themselves are skipped by the project's default `--benchmark-skip`).

Each policy is ranked over a 2,000-model synthetic catalog by the NumPy baseline, the minimal
pure-Python baseline and, when built, the native core; winner and cascade must match exactly.
"""
from __future__ import annotations

import json

import pytest
from unhardcoded.bench import numpy_rank, pyrank, synth
from unhardcoded.bench.quickstart import QUICKSTART_POLICY_TEXT, REQUIREMENTS

try:
    from unhardcoded import _core

    NATIVE = _core if hasattr(_core, "Policy") and hasattr(_core, "Catalog") else None
except ImportError:
    NATIVE = None

_TAIL = [["id"], ["always", {"action": "next_candidate"}]]


def _policy(filt: list, rank: list, select: list) -> list:
    return ["policy", ["ev_zero"], filt, rank, select, *_TAIL]


POLICIES = {
    "quickstart": json.loads(QUICKSTART_POLICY_TEXT),
    # Weighted sum with a field that is often missing (null scores go last, by id) and a top_k.
    "weighted_top_k": _policy(
        ["and", ["meets_req"], ["not", ["is", "disabled"]]],
        ["add", ["scale", 0.7, ["normalize", ["field", "bench_intelligence"]]],
         ["scale", 0.3, ["neg", ["normalize", ["field", "latency_ms"]]]]],
        ["top_k", 25, ["argmax"]]),
    # `or`, string comparisons, and `not cmp` keeping models with no price (two-valued logic).
    "or_strings": _policy(
        ["and", ["or", ["family_eq", "gpt-4o"], ["cmp", "provider", "eq", "anthropic"]],
         ["not", ["cmp", "price_in", "gt", 1]], ["cmp", "region", "ne", "asia"]],
        ["field", "context"],
        ["argmax"]),
    # Exact equality tests on numbers, `ne` false on missing values, a constant score.
    "eq_ne_zero": _policy(
        ["and", ["cmp", "price_out", "ne", 0.6], ["cmp", "max_output", "eq", 8192], ["is", "cap_json"]],
        ["zero"],
        ["argmax"]),
    # Many ties: every survivor scores the same after normalize of a constant-ish field.
    "ties": _policy(
        ["and", ["has_cap", "supports_streaming"], ["cmp", "context", "ge", 1048576]],
        ["normalize", ["field", "context"]],
        ["top_k", 1024, ["argmax"]]),
    # Nothing survives: every implementation must refuse rather than pick something.
    "empty": _policy(["cmp", "price_out", "lt", 0], ["field", "price_out"], ["argmax"]),
}

REQUIREMENT_SETS = {
    "plain": REQUIREMENTS,
    "tools_json": {**REQUIREMENTS, "tools": True, "json": True, "max_tokens": None},
    "vision_long": {**REQUIREMENTS, "vision": True, "prompt_tokens": 150_000, "max_tokens": 16384},
}


@pytest.fixture(scope="module")
def catalogs():
    models = synth.synthetic_models(2_000, seed=7)
    native = NATIVE.Catalog.from_json(synth.catalog_json(models)) if NATIVE is not None else None
    return models, numpy_rank.NumpyCatalog.from_models(models), native


def test_synthetic_catalog_is_deterministic_and_sorted():
    a, b = synth.synthetic_models(500, seed=3), synth.synthetic_models(500, seed=3)
    assert a == b
    ids = [m["id"] for m in a]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert synth.synthetic_models(500, seed=4) != a
    # Missing and null values occur, as the benches claim.
    assert any("price_out" not in m for m in a) and any(m.get("price_out", 0) is None for m in a)
    assert any("capabilities" not in m for m in a)


@pytest.mark.parametrize("req_name", list(REQUIREMENT_SETS))
@pytest.mark.parametrize("policy_name", list(POLICIES))
def test_baselines_agree(catalogs, policy_name: str, req_name: str):
    models, np_cat, native_cat = catalogs
    policy, req = POLICIES[policy_name], REQUIREMENT_SETS[req_name]
    try:
        expected = pyrank.rank(policy, models, req)
    except LookupError:
        with pytest.raises(LookupError):
            numpy_rank.rank(policy, np_cat, req)
        if native_cat is not None:
            with pytest.raises(NATIVE.NoCandidates):
                NATIVE.Policy.admit(json.dumps(policy)).rank(native_cat, requirements=req)
        return
    assert numpy_rank.rank(policy, np_cat, req) == expected
    if native_cat is not None:
        result = NATIVE.Policy.admit(json.dumps(policy)).rank(native_cat, requirements=req)
        assert (result.winner, result.cascade) == expected


def test_numpy_baseline_rejects_what_it_does_not_implement(catalogs):
    _, np_cat, _ = catalogs
    with pytest.raises(NotImplementedError):
        numpy_rank.rank(_policy(["meets_req"], ["zero"], ["sample", 0.5]), np_cat, REQUIREMENTS)
