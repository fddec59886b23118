"""The binding's fast paths give exactly what the plain ones did: verdict JSON written straight into
text, verdict dicts, cascades built from the catalog's shared id strings, `RankResult.head`, and
requirements read straight from a dict (with the same errors as the JSON route)."""

from __future__ import annotations

import json
import timeit

import pytest

import unhardcoded as uh
from unhardcoded import _core

TAIL = [["id"], ["always", {"action": "next_candidate"}]]
POLICIES = [
    # The quickstart: several leaves blame, meets_req gives reasons, normalize gives 0..1 scores.
    ["policy", ["ev_zero"], ["and", ["meets_req"], ["not", ["is", "disabled"]], ["has_cap", "supports_tools"],
                             ["cmp", "bench_intelligence", "ge", 0.5], ["cmp", "price_out", "le", 5]],
     ["neg", ["normalize", ["field", "price_out"]]], ["argmax"], *TAIL],
    # top_k cuts survivors (rejected with a score), sample draws the head.
    ["policy", ["ev_zero"], ["meets_req"], ["scale", 0.1, ["field", "price_out"]], ["top_k", 5, ["sample", 0.3]], *TAIL],
    # An or blames itself; scores may be null (missing throughput).
    ["policy", ["ev_zero"], ["or", ["family_eq", "gpt-4o"], ["cmp", "provider", "eq", "anthropic"]],
     ["field", "throughput_tps"], ["top_k", 3, ["argmax"]], *TAIL],
    # A not blames itself; integral and fractional scores, strings needing escapes in a path.
    ["policy", ["ev_zero"], ["not", ["cmp", "context", "ge", 300000]],
     ["add", ["field", "price_in"], ["neg", ["field", "price_out"]]], ["argmax"], *TAIL],
]
REQUIREMENTS = [None, {"tools": True, "vision": True, "prompt_tokens": 150000, "max_tokens": 9000},
                {"max_tokens": 70000}]
FLOORS = [None, ["openai", "anthropic"], ["nobody"]]
PAGES = [(), (0, None, "rejected"), (3, 4, None), (0, None, "passed"), (0, 1, "winner"), (0, 0, None),
         (10_000, None, None)]


def _results():
    catalog = uh.default_catalog()
    for term in POLICIES:
        policy = uh.Policy.admit(term)
        for req in REQUIREMENTS:
            for floor in FLOORS:
                try:
                    yield policy.rank(catalog, requirements=req, seed=7, providers=floor)
                except uh.NoCandidates as exc:
                    yield exc.result


def test_verdict_json_is_the_canonical_form_of_the_verdict_dicts():
    seen = {"host_floor": 0, "reason": 0, "cut": 0, "null_score": 0, "winner": 0}
    for result in _results():
        for page in PAGES:
            verdicts = result.verdicts(*page)
            text = result.verdicts_json(*page)
            assert text == uh.canonicalize(json.dumps(verdicts)), page
            assert json.loads(text) == verdicts
        everything = result.verdicts()
        whole = json.loads(result.to_json())
        assert whole == {"winner": result.winner, "cascade": result.cascade, "seed": result.seed,
                         "verdicts": everything}
        assert result.to_json() == uh.canonicalize(json.dumps(whole))
        for v in everything:
            by = v["dropped_by"] or {}
            seen["host_floor"] += by.get("term") == "host_floor"
            seen["reason"] += "reason" in by and by.get("term") != "host_floor"
            seen["cut"] += v["status"] == "rejected" and v["score"] is not None
            seen["null_score"] += v["status"] != "rejected" and v["score"] is None
            seen["winner"] += v["status"] == "winner"
    # Every kind of verdict the writer has a branch for was compared.
    assert all(seen.values()), seen


def test_pages_count_after_the_status_filter():
    result = next(_results())
    rejected = result.verdicts(status="rejected")
    assert result.verdicts(2, 3, "rejected") == rejected[2:5]
    assert json.loads(result.verdicts_json(2, 3, "rejected")) == rejected[2:5]
    assert result.verdicts(len(rejected), None, "rejected") == []
    assert result.verdicts_json(0, 0) == "[]"
    with pytest.raises(ValueError):
        result.verdicts_json(status="lost")


def test_verdicts_are_independent_objects():
    result = next(_results())
    first, second = result.verdicts(status="rejected")[:2]
    assert first["dropped_by"]["term"] == second["dropped_by"]["term"]
    first["dropped_by"]["term"].append("changed")
    assert "changed" not in second["dropped_by"]["term"]
    assert "changed" not in result.verdicts(status="rejected")[0]["dropped_by"]["term"]


def test_cascade_reuses_the_catalogs_id_strings():
    catalog = uh.default_catalog()
    policy = uh.Policy.admit(POLICIES[3])
    one, two = policy.rank(catalog), policy.rank(catalog)
    a, b = one.cascade, two.cascade
    assert a == b and a is not b
    # Made once per catalog, shared by every result and by Catalog.ids().
    assert all(x is y for x, y in zip(a, b))
    ids = {id(s) for s in catalog.ids()}
    assert all(id(s) in ids for s in a)
    assert one.winner is a[0]
    # The list is the caller's own.
    a.clear()
    assert one.cascade == b


def test_head_is_the_start_of_the_cascade():
    catalog = uh.default_catalog()
    for term in POLICIES:
        result = uh.Policy.admit(term).rank(catalog, seed=3)
        cascade = result.cascade
        for n in (0, 1, 2, len(cascade), len(cascade) + 5):
            assert result.head(n) == cascade[:n]
        with pytest.raises(OverflowError):
            result.head(-1)
    with pytest.raises(uh.NoCandidates) as info:
        uh.Policy.admit(POLICIES[0]).rank(catalog, providers=["nobody"])
    assert info.value.result.head(3) == []


def test_head_of_a_short_cascade_over_a_big_catalog():
    models = [{"id": f"m{i:05d}", "provider": "p", "price_out": i % 97} for i in range(5000)]
    catalog = uh.Catalog.from_json({"models": models})
    top = ["policy", ["ev_zero"], ["not", ["is", "disabled"]], ["neg", ["field", "price_out"]], ["top_k", 3, ["argmax"]], *TAIL]
    result = uh.Policy.admit(top).rank(catalog)
    assert result.head(10) == result.cascade == ["m00000", "m00097", "m00194"]
    assert result.winner == "m00000"


def _outcome(policy, catalog, requirements):
    try:
        return ("ok", policy.rank(catalog, requirements=requirements).cascade)
    except uh.UnhardcodedError as e:
        return ("error", e.code, e.rule, e.path, e.message, e.did_you_mean)


REQUIREMENT_DICTS = [
    {}, {"tools": True}, {"tools": None, "vision": False, "json": True}, {"prompt_tokens": 5000},
    {"prompt_tokens": 5000.0}, {"max_tokens": 40}, {"max_tokens": None, "prompt_tokens": None},
    {"prompt_tokens": 2**53}, {"max_tokens": 0},
    # Refused, each with its own error: the fast path must not change a single field of it.
    {"tools": "yes"}, {"tools": 1}, {"tool": True}, {"prompt_tokens": -1}, {"prompt_tokens": 1.5},
    {"prompt_tokens": True}, {"max_tokens": "5"}, {"max_tokens": 2**53 + 1}, {"max_tokens": 10**30},
    {"prompt_tokens": float("nan")}, {"prompt_tokens": float("inf")}, {"json": []}, {1: True},
    {"vision": True, "unknown": 1}, {"max_tokens": [1]},
]


@pytest.mark.parametrize("requirements", REQUIREMENT_DICTS, ids=repr)
def test_requirement_dicts_read_like_their_json_text(requirements):
    catalog = uh.default_catalog()
    policy = uh.Policy.admit(["policy", ["ev_zero"], ["meets_req"], ["neg", ["field", "price_out"]], ["argmax"],
                              *TAIL])
    as_text = json.dumps(requirements, allow_nan=True, ensure_ascii=True)
    assert _outcome(policy, catalog, requirements) == _outcome(policy, catalog, as_text)


def test_well_formed_requirement_dicts_skip_json(monkeypatch):
    catalog = uh.default_catalog()
    policy = uh.Policy.admit(POLICIES[0])
    want = policy.rank(catalog, requirements={"tools": True, "max_tokens": 1000}).cascade

    def refuse(*args, **kwargs):
        raise AssertionError("json.dumps was called")

    monkeypatch.setattr(json, "dumps", refuse)
    assert policy.rank(catalog, requirements={"tools": True, "max_tokens": 1000.0}).cascade == want


def test_verdict_json_is_cheap():
    """60 verdicts as JSON cost a few microseconds; the bound is loose for a shared machine."""
    result = uh.Policy.admit(POLICIES[0]).rank(uh.default_catalog())
    assert len(result) >= 50
    per_call = min(timeit.repeat(result.verdicts_json, number=200, repeat=5)) / 200
    assert per_call < 100e-6, f"verdicts_json took {per_call * 1e6:.1f} µs"


def test_native_module_documents_head():
    assert "head" in dir(_core.RankResult)


def test_a_small_catalogs_heads_share_strings_too():
    catalog = uh.Catalog.from_json(uh.default_catalog().to_json())  # fresh: no strings made yet
    policy = uh.Policy.admit(POLICIES[0])
    first, second = policy.rank(catalog).head(2), policy.rank(catalog).head(2)
    assert first == second and all(x is y for x, y in zip(first, second))


# -- reader: duplicate member names on both sides of the scan/hash switch ---------------------------


@pytest.mark.parametrize("members", [2, 19, 31, 32, 33, 40, 200])
def test_duplicate_members_are_found_at_any_object_size(members):
    names = [f"k{i:03d}" for i in range(members)]
    distinct = "{" + ",".join(f'"{k}":{i}' for i, k in enumerate(names)) + "}"
    assert json.loads(uh.canonicalize(distinct)) == {k: i for i, k in enumerate(names)}
    for dup_of in {0, members // 2, members - 1}:
        text = distinct[:-1] + f',"x":1,"{names[dup_of]}":2}}'
        with pytest.raises(uh.UnhardcodedError) as info:
            uh.canonicalize(text)
        assert (info.value.rule, info.value.path) == ("duplicate_key", f"/{names[dup_of]}")


def test_duplicate_detection_compares_whole_names():
    # Same length, same first four and last three bytes: only the middle tells them apart.
    names = [f"abcd{i:04d}xyz" for i in range(50)]
    assert len(json.loads(uh.canonicalize("{" + ",".join(f'"{k}":0' for k in names) + "}"))) == 50
    nested = '{"a":{' + ",".join(f'"{k}":0' for k in names[:20]) + f',"{names[7]}":1}}}}'
    with pytest.raises(uh.UnhardcodedError) as info:
        uh.canonicalize(nested)
    assert (info.value.rule, info.value.path) == ("duplicate_key", f"/a/{names[7]}")


def test_a_model_with_a_repeated_member_is_refused():
    model = {"id": "m", "provider": "openai", **{f"x_{i}": i for i in range(40)}}
    body = json.dumps(model)[:-1] + ', "x_3": 9}'
    with pytest.raises(uh.UnhardcodedError) as info:
        uh.Catalog.from_json('{"models": [' + body + "]}")
    assert (info.value.code, info.value.rule, info.value.path) == ("invalid_catalog", "duplicate_key", "/models/0/x_3")
