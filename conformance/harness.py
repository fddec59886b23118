"""Loading and checking conformance vectors from Python (used by tests/ and by generate.py).

A runner turns one case into an "outcome" dict (the keys below, only those the kind produces)
and `check` compares it with the case's want_* members. See README.md for the vector format.

outcome keys: canonical, fingerprint, version, order, winner, cascade, seed, verdicts,
requirements, request, ids, text, error ({code, rule, path, node, did_you_mean}).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VECTORS = ROOT / "vectors"
CATALOGS = ROOT / "catalogs"

KINDS = ("policy_normalize", "policy_eval", "flow_normalize", "canonicalize", "requirements", "mutate",
         "catalog_load", "flow_render")
MAX_SEED = (1 << 53) - 1
SCORE_REL_TOL = 1e-12


def load_cases() -> list[tuple[str, dict]]:
    """Every case as (id, case); ids are '<file relative to vectors/>#<index>'."""
    out = []
    for path in sorted(VECTORS.rglob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        for i, case in enumerate(doc["cases"]):
            out.append((f"{path.relative_to(VECTORS).as_posix()}#{i}", case))
    return out


def term_bytes(case: dict) -> bytes:
    """The raw text the implementation reads: term_hex, term_text or the term serialized."""
    if "term_hex" in case:
        raw = bytes.fromhex(case["term_hex"])
    elif "term_text" in case:
        raw = case["term_text"].encode("utf-8")
    else:
        raw = json.dumps(case["term"], ensure_ascii=False).encode("utf-8")
    pad_to = case.get("pad_to")
    if pad_to is not None:
        raw = raw + b" " * (pad_to - len(raw))
    return raw


def catalog_bytes(case: dict) -> bytes | None:
    if "catalog_ref" in case:
        return (CATALOGS / f"{case['catalog_ref']}.json").read_bytes()
    if "catalog" in case:
        return json.dumps(case["catalog"], ensure_ascii=False).encode("utf-8")
    return None


def request_bytes(case: dict) -> bytes:
    return json.dumps(case["request"], ensure_ascii=False).encode("utf-8")


# -- comparison -----------------------------------------------------------------------

def json_equal(a, b) -> bool:
    """Equality of JSON values: numbers by value (1 == 1.0), booleans never equal to numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def score_equal(want, got) -> bool:
    if want is None or got is None:
        return want is None and got is None
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    return math.isclose(float(want), float(got), rel_tol=SCORE_REL_TOL, abs_tol=1e-300)


def verdict_problems(want: dict, got: dict) -> list[str]:
    problems = []
    for key in ("model", "status", "rank"):
        if want.get(key) != got.get(key):
            problems.append(f"{key}: want {want.get(key)!r}, got {got.get(key)!r}")
    if not score_equal(want.get("score"), got.get("score")):
        problems.append(f"score: want {want.get('score')!r}, got {got.get('score')!r}")
    wd, gd = want.get("dropped_by"), got.get("dropped_by")
    if not json_equal(wd, gd):
        problems.append(f"dropped_by: want {json.dumps(wd)}, got {json.dumps(gd)}")
    return problems


def check(case: dict, outcome: dict) -> list[str]:
    """Every way `outcome` departs from the case's expectations (empty = pass)."""
    problems: list[str] = []
    err = outcome.get("error")
    if "want_error" in case:
        if err is None:
            problems.append(f"want error {case['want_error']}, got success")
        else:
            for key, want in case["want_error"].items():
                if err.get(key) != want:
                    problems.append(f"error.{key}: want {want!r}, got {err.get(key)!r}")
    elif err is not None:
        problems.append(f"unexpected error {err}")
        return problems

    for key in ("canonical", "fingerprint", "version", "order", "winner", "cascade", "ids", "text"):
        if f"want_{key}" in case and case[f"want_{key}"] != outcome.get(key):
            problems.append(f"{key}: want {case[f'want_{key}']!r}, got {outcome.get(key)!r}")
    if "want_seed" in case and case["want_seed"] != outcome.get("seed"):
        problems.append(f"seed: want {case['want_seed']!r}, got {outcome.get('seed')!r}")
    if case.get("want_seed_drawn"):
        seed = outcome.get("seed")
        if not (isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed <= MAX_SEED):
            problems.append(f"seed: want an integer in 0..2^53-1, got {seed!r}")
    for key in ("requirements", "request"):
        if f"want_{key}" in case and not json_equal(case[f"want_{key}"], outcome.get(key)):
            problems.append(f"{key}: want {json.dumps(case[f'want_{key}'])}, got {json.dumps(outcome.get(key))}")
    if "want_verdicts" in case:
        got = outcome.get("verdicts") or []
        want = case["want_verdicts"]
        if len(got) != len(want):
            problems.append(f"verdicts: want {len(want)}, got {len(got)}")
        for w, g in zip(want, got):
            problems += [f"verdict {w.get('model')}: {p}" for p in verdict_problems(w, g)]
    if "want_verdicts_subset" in case:
        by_model = {v.get("model"): v for v in outcome.get("verdicts") or []}
        for model, w in case["want_verdicts_subset"].items():
            g = by_model.get(model)
            if g is None:
                problems.append(f"verdict {model}: missing")
                continue
            problems += [f"verdict {model}: {p}" for p in verdict_problems(dict(w, model=model), g)]
    return problems


# -- the reference interpreter as a runner ----------------------------------------------

def run_reference(case: dict, seed_override: int | None = None) -> dict:
    from unhardcoded import reference as ref

    kind = case["kind"]
    out: dict = {}
    try:
        catalog = None
        cat_text = catalog_bytes(case)
        if kind == "catalog_load":
            catalog = ref.load_catalog(cat_text if cat_text is not None else term_bytes(case))
            out.update(canonical=catalog.canonical, fingerprint=catalog.fingerprint, ids=catalog.ids())
        elif cat_text is not None:
            catalog = ref.load_catalog(cat_text)
        if kind == "policy_normalize":
            pol = ref.Policy.admit(term_bytes(case), fields=catalog)
            out.update(canonical=pol.canonical, fingerprint=pol.fingerprint, version=pol.version)
        elif kind == "policy_eval":
            pol = ref.Policy.admit(term_bytes(case), fields=catalog)
            seed = case.get("seed") if seed_override is None else seed_override
            try:
                res = pol.rank(catalog, requirements=case.get("requirements"), seed=seed,
                               providers=case.get("providers"))
            except ref.RefError as e:
                if e.result is not None:
                    out.update(seed=e.result["seed"], verdicts=e.result["verdicts"])
                raise
            out.update(winner=res["winner"], cascade=res["cascade"], seed=res["seed"], verdicts=res["verdicts"])
        elif kind == "flow_normalize":
            out.update(ref.normalize_flow(term_bytes(case), fields=catalog))
        elif kind == "canonicalize":
            out["canonical"] = ref.canonicalize(term_bytes(case))
        elif kind == "requirements":
            out["requirements"] = ref.requirements_from_request(request_bytes(case))
        elif kind == "mutate":
            pol = ref.Policy.admit(term_bytes(case), fields=catalog)
            mutated = pol.mutate_request(json.loads(request_bytes(case)))
            out["request"] = mutated
            out["requirements"] = ref.requirements_from_request(json.dumps(mutated))
        elif kind == "flow_render":
            out["text"] = ref.render(case.get("template"), case["inputs"])
    except ref.RefError as e:
        out["error"] = {"code": e.code, "rule": e.rule, "path": e.path, "node": e.node,
                        "did_you_mean": e.did_you_mean}
    return out
