"""Runs every conformance vector (conformance/vectors/**.json) against the native module
`unhardcoded._core` and against the pure-Python reference interpreter.

A vector asserts docs/spec.md; when both implementations fail the same vector, the vector (or the
spec) is what to look at. The format is described in conformance/README.md.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "conformance"))

import harness  # noqa: E402

CASES = harness.load_cases()
IDS = [cid for cid, _ in CASES]

try:
    from unhardcoded import _core
except ImportError as exc:  # pragma: no cover - only without a built extension
    _core = None
    _IMPORT_ERROR = str(exc)

# What each kind needs from the native module, so a missing piece skips with its name.
_NEEDS = {
    "policy_normalize": ("Policy",),
    "policy_eval": ("Policy", "Catalog", "NoCandidates"),
    "flow_normalize": ("Flow",),
    "canonicalize": ("canonicalize",),
    "requirements": ("requirements_from_request",),
    "mutate": ("Policy", "requirements_from_request"),
    "catalog_load": ("Catalog",),
    "flow_render": (),
}


def _native_error(e) -> dict:
    return {"code": e.code, "rule": e.rule, "path": e.path, "node": e.node, "did_you_mean": e.did_you_mean}


def run_native(case: dict, seed_override: int | None = None) -> dict:
    kind = case["kind"]
    out: dict = {}
    try:
        catalog = None
        cat_text = harness.catalog_bytes(case)
        if kind == "catalog_load":
            catalog = _core.Catalog.from_json(cat_text if cat_text is not None else harness.term_bytes(case))
            out.update(canonical=catalog.to_json(), fingerprint=catalog.fingerprint, ids=catalog.ids())
        elif cat_text is not None:
            catalog = _core.Catalog.from_json(cat_text)
        if kind == "policy_normalize":
            pol = _core.Policy.admit(harness.term_bytes(case), fields=catalog)
            out.update(canonical=pol.canonical, fingerprint=pol.fingerprint, version=pol.version)
        elif kind == "policy_eval":
            pol = _core.Policy.admit(harness.term_bytes(case), fields=catalog)
            seed = case.get("seed") if seed_override is None else seed_override
            try:
                res = pol.rank(catalog, requirements=case.get("requirements"), seed=seed,
                               providers=case.get("providers"))
            except _core.NoCandidates as e:
                if e.result is not None:
                    out.update(seed=e.result.seed, verdicts=e.result.verdicts())
                raise
            out.update(winner=res.winner, cascade=list(res.cascade), seed=res.seed, verdicts=res.verdicts())
        elif kind == "flow_normalize":
            fl = _core.Flow.admit(harness.term_bytes(case), fields=catalog)
            out.update(canonical=fl.canonical, fingerprint=fl.fingerprint, version=fl.version, order=fl.order())
        elif kind == "canonicalize":
            out["canonical"] = _core.canonicalize(harness.term_bytes(case))
        elif kind == "requirements":
            out["requirements"] = _core.requirements_from_request(harness.request_bytes(case))
        elif kind == "mutate":
            pol = _core.Policy.admit(harness.term_bytes(case), fields=catalog)
            mutated = pol.mutate_request(harness.request_bytes(case))
            out["request"] = json.loads(mutated)
            out["requirements"] = _core.requirements_from_request(mutated)
        elif kind == "flow_render":
            # Rendering is host work (python/unhardcoded/flows), not the core's; the spec choice is
            # still pinned here against the host implementation.
            from unhardcoded.flows.compose import node_text
            out["text"] = node_text(case.get("template"), case["inputs"])
    except _core.UnhardcodedError as e:
        out["error"] = _native_error(e)
    return out


def _replay_problems(case: dict, outcome: dict, runner) -> list[str]:
    """A drawn seed must replay: the same seed gives the same cascade (spec §5.3)."""
    if not case.get("want_seed_drawn") or "error" in outcome:
        return []
    again = runner(case, seed_override=outcome["seed"])
    if again.get("cascade") != outcome.get("cascade") or again.get("seed") != outcome.get("seed"):
        return [f"replay with seed {outcome['seed']} gave {again.get('cascade')}, first run {outcome.get('cascade')}"]
    return []


def _assert_conforms(case: dict, outcome: dict, runner) -> None:
    problems = harness.check(case, outcome) + _replay_problems(case, outcome, runner)
    if problems:
        pytest.fail(f"{case['note']}\n  " + "\n  ".join(problems), pytrace=False)


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=IDS)
def test_native(case):
    if _core is None:
        pytest.skip(f"unhardcoded._core is not importable: {_IMPORT_ERROR}")
    missing = [name for name in _NEEDS[case["kind"]] if not hasattr(_core, name)]
    if missing:
        pytest.skip(f"unhardcoded._core lacks {', '.join(missing)} (needed for {case['kind']} vectors)")
    if case["kind"] == "flow_render":
        pytest.importorskip("unhardcoded.flows.compose", reason="the host's flow composer is not there yet")
    _assert_conforms(case, run_native(case), run_native)


@pytest.mark.parametrize("case", [c for _, c in CASES], ids=IDS)
def test_reference(case):
    _assert_conforms(case, harness.run_reference(case), harness.run_reference)


def test_vectors_cover_every_kind_and_rule():
    """The suite keeps covering every kind, and every rule the spec names (§1, §2, §6, §7, no_candidates)."""
    kinds = {c["kind"] for _, c in CASES}
    assert kinds == set(harness.KINDS)
    rules = {c["want_error"].get("rule") for _, c in CASES if "want_error" in c}
    spec_rules = {
        "json_syntax", "invalid_utf8", "lone_surrogate", "duplicate_key", "non_finite_number",
        "integer_precision", "depth_limit", "size_limit",
        "not_a_term", "unknown_op", "arity", "type", "unknown_field", "field_kind", "unknown_capability",
        "array_limit", "string_limit", "bad_fallback",
        "not_a_flow", "node_id", "unknown_kind", "unknown_member", "missing_member", "input_count",
        "output_count", "node_limit", "in_degree", "unknown_input", "duplicate_input", "cycle", "unreachable",
        "template",
    }
    assert spec_rules <= rules, sorted(spec_rules - rules)
    codes = {c["want_error"]["code"] for _, c in CASES if "want_error" in c}
    assert {"invalid_policy", "invalid_flow", "invalid_catalog", "invalid_request", "no_candidates"} <= codes


def test_vectors_are_generated_from_cases():
    """The JSON files are exactly what conformance/generate.py writes (hand-checked values included)."""
    sys.path.insert(0, str(ROOT / "python"))
    import generate

    stale = (generate._stale(generate.catalog_files()) + generate._stale(generate.vector_files())
             + generate._stale(generate.readme_file()))
    assert not stale, f"run `python conformance/generate.py`: {stale}"
