"""Differential tests: the native core against the pure-Python reference interpreter, on random
policies, catalogs, requests and flows, and on random invalid terms.

The run's seed is printed (pytest -s, or in any failure message); set UH_DIFF_SEED to replay a
run and UH_DIFF_CASES to change how many cases each test draws.
"""
from __future__ import annotations

import json
import math
import os
import random

import pytest

from unhardcoded import reference as ref

core = pytest.importorskip("unhardcoded._core", reason="the native module is not built")

SEED = int(os.environ.get("UH_DIFF_SEED", random.SystemRandom().randrange(1 << 32)))
CASES = int(os.environ.get("UH_DIFF_CASES", "300"))
print(f"\ntest_differential: UH_DIFF_SEED={SEED} UH_DIFF_CASES={CASES}")

# ---------------------------------------------------------------------------- random data

NUMBER_FIELDS = ["price_in", "price_out", "context", "max_output", "bench_intelligence", "latency_ms",
                 "throughput_tps"]
BOOL_FIELDS = ["cap_tools", "cap_reasoning", "cap_json", "in_image", "no_log", "has_tee", "disabled"]
STRING_FIELDS = ["id", "provider", "family", "region"]
CAPS = ["supports_tools", "supports_json_mode", "supports_vision", "supports_reasoning", "supports_streaming",
        "supports_pdf_input"]
# Small pools so that ties, duplicate prices and equality hits are common.
POOLS = {
    "price_in": [0.1, 0.15, 0.8, 2.5, 2.5, 15, 0],
    "price_out": [0.4, 0.6, 0.6, 4, 10, 75, 0.30000000000000004, 0.3],
    "context": [1000, 8192, 128000, 200000, 1000000],
    "max_output": [256, 4096, 8192, 16384, 32000],
    "bench_intelligence": [0.5, 0.55, 0.6, 0.75, 0.9, 0.5],
    "latency_ms": [200, 300, 400, 500, 1500],
    "throughput_tps": [40, 80, 100, 120, 200],
    "family": ["gpt-4o", "gpt-4o-mini", "claude-opus", "claude-haiku", "llama"],
    "region": ["global", "us", "eu"],
}
PROVIDERS = ["openai", "anthropic", "gemini", "local"]
IDS = ["a", "b", "c", "gpt-mini", "gpt-pro", "claude-haiku", "Z", "z", "\u00e9t\u00e9", "\ue000x", "\U0001F600",
       "m-1", "m-10", "m-2"]
EXT = {"eu_resident": "bool", "tier": "string", "quality": "number"}


def random_catalog(rng: random.Random, with_ext: bool) -> dict:
    models = []
    for mid in rng.sample(IDS, rng.randint(3, 10)):
        m = {"id": mid, "provider": rng.choice(PROVIDERS)}
        for f in NUMBER_FIELDS + ["family", "region"]:
            r = rng.random()
            if r < 0.65:
                m[f] = rng.choice(POOLS[f])
            elif r < 0.75:
                m[f] = None
        for f in BOOL_FIELDS:
            if rng.random() < 0.7:
                m[f] = rng.random() < 0.6
        if rng.random() < 0.8:
            m["capabilities"] = sorted(rng.sample(CAPS, rng.randint(0, len(CAPS))))
        if with_ext:
            if rng.random() < 0.7:
                m["eu_resident"] = rng.random() < 0.5
            if rng.random() < 0.7:
                m["tier"] = rng.choice(["gold", "silver"])
            if rng.random() < 0.7:
                m["quality"] = rng.choice([0.1, 0.5, 0.9])
        models.append(m)
    fields = [{"name": n, "kind": k, "description": f"extension {n}"} for n, k in EXT.items()] if with_ext else []
    return {"format": "unhardcoded-catalog/v1", "fields": fields,
            "capabilities_extra": ["supports_magic"] if with_ext else [], "models": models}


def random_filter(rng: random.Random, depth: int, ext: bool) -> list:
    ops = ["cmp", "cmp", "is", "has_cap", "meets_req", "family_eq"]
    if depth > 0:
        ops += ["and", "or", "not", "and"]
    op = rng.choice(ops)
    if op in ("and", "or"):
        return [op] + [random_filter(rng, depth - 1, ext) for _ in range(rng.randint(1, 3))]
    if op == "not":
        return ["not", random_filter(rng, depth - 1, ext)]
    if op == "is":
        return ["is", rng.choice(BOOL_FIELDS + (["eu_resident"] if ext else []))]
    if op == "has_cap":
        return ["has_cap", rng.choice(CAPS + (["supports_magic"] if ext else []))]
    if op == "meets_req":
        return ["meets_req"]
    if op == "family_eq":
        return ["family_eq", rng.choice(POOLS["family"])]
    if rng.random() < 0.3:
        field = rng.choice(["provider", "family", "region", "id"] + (["tier"] if ext else []))
        pool = {"provider": PROVIDERS, "id": IDS, "tier": ["gold", "silver"]}.get(field) or POOLS[field]
        return ["cmp", field, rng.choice(["eq", "ne"]), rng.choice(pool)]
    field = rng.choice(NUMBER_FIELDS + (["quality"] if ext else []))
    pool = POOLS.get(field, [0.1, 0.5, 0.9])
    return ["cmp", field, rng.choice(["ge", "le", "gt", "lt", "eq", "ne"]), rng.choice(pool)]


def random_rank(rng: random.Random, depth: int, ext: bool) -> list:
    ops = ["field", "field", "zero"]
    if depth > 0:
        ops += ["normalize", "neg", "scale", "add", "normalize"]
    op = rng.choice(ops)
    if op == "field":
        return ["field", rng.choice(NUMBER_FIELDS + (["quality"] if ext else []))]
    if op == "zero":
        return ["zero"]
    if op in ("normalize", "neg"):
        return [op, random_rank(rng, depth - 1, ext)]
    if op == "scale":
        return ["scale", rng.choice([0.5, 2, -1, 0, 0.3, 1e-3]), random_rank(rng, depth - 1, ext)]
    return ["add"] + [random_rank(rng, depth - 1, ext) for _ in range(rng.randint(1, 3))]


def random_select(rng: random.Random, depth: int) -> list:
    r = rng.random()
    if depth > 0 and r < 0.35:
        return ["top_k", rng.randint(1, 12), random_select(rng, depth - 1)]
    if r < 0.65:
        return ["argmax"]
    return ["sample", rng.choice([1e-3, 0.1, 0.5, 1, 10, 1e6])]


def random_policy(rng: random.Random, ext: bool) -> list:
    mutate = ["id"] if rng.random() < 0.7 else ["clamp_param", rng.choice(["temperature", "max_tokens"]), 0, 100.5]
    return ["policy", ["ev_zero"], random_filter(rng, 3, ext), random_rank(rng, 3, ext), random_select(rng, 2),
            mutate, ["always", {"action": "next_candidate"}]]


def random_requirements(rng: random.Random) -> dict:
    return {"tools": rng.random() < 0.3, "vision": rng.random() < 0.2, "json": rng.random() < 0.2,
            "prompt_tokens": rng.choice([0, 10, 500, 9000, 150000]),
            "max_tokens": rng.choice([None, None, 100, 8192, 10000])}


# ---------------------------------------------------------------------------- comparison

def _score_close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)


def _same_json(a, b) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True) or _num_equal(a, b)


def _num_equal(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_num_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_num_equal(a[k], b[k]) for k in a)
    return a == b


def compare_results(native: dict, reference: dict, context: str) -> None:
    for key in ("winner", "cascade", "seed"):
        assert native[key] == reference[key], f"{key}: native {native[key]!r} reference {reference[key]!r}\n{context}"
    assert len(native["verdicts"]) == len(reference["verdicts"]), context
    for nv, rv in zip(native["verdicts"], reference["verdicts"]):
        where = f"verdict {rv['model']}: native {nv} reference {rv}\n{context}"
        assert (nv["model"], nv["status"], nv["rank"]) == (rv["model"], rv["status"], rv["rank"]), where
        assert _score_close(nv["score"], rv["score"]), where
        assert _num_equal(nv["dropped_by"], rv["dropped_by"]), where


def run_native(term_text: str, cat_text: str, req: dict, seed, providers) -> tuple[dict | None, dict | None]:
    catalog = core.Catalog.from_json(cat_text)
    policy = core.Policy.admit(term_text, fields=catalog)
    try:
        res = policy.rank(catalog, requirements=req, seed=seed, providers=providers)
    except core.NoCandidates as e:
        r = e.result
        return None, {"winner": None, "cascade": [], "seed": r.seed, "verdicts": r.verdicts()}
    return {"winner": res.winner, "cascade": list(res.cascade), "seed": res.seed, "verdicts": res.verdicts()}, None


def run_reference(term_text: str, cat_text: str, req: dict, seed, providers) -> tuple[dict | None, dict | None]:
    catalog = ref.load_catalog(cat_text)
    policy = ref.Policy.admit(term_text, fields=catalog)
    try:
        return policy.rank(catalog, requirements=req, seed=seed, providers=providers), None
    except ref.RefError as e:
        assert e.code == "no_candidates"
        return None, e.result


# ---------------------------------------------------------------------------- tests

def test_random_policies_evaluate_identically():
    rng = random.Random(SEED)
    outcomes = {"winner": 0, "no_candidates": 0}
    for i in range(CASES):
        ext = rng.random() < 0.25
        cat_text = json.dumps(random_catalog(rng, ext))
        term = random_policy(rng, ext)
        term_text = json.dumps(term)
        req = random_requirements(rng)
        seed = rng.randrange(1 << 53) if rng.random() < 0.8 else None
        providers = rng.sample(PROVIDERS, rng.randint(0, 4)) if rng.random() < 0.25 else None
        context = (f"case {i} (UH_DIFF_SEED={SEED})\nterm={term_text}\ncatalog={cat_text}\n"
                   f"req={req} seed={seed} providers={providers}")

        native_pol = core.Policy.admit(term_text, fields=core.Catalog.from_json(cat_text))
        ref_pol = ref.Policy.admit(term_text, fields=ref.load_catalog(cat_text))
        assert native_pol.canonical == ref_pol.canonical, context
        if ref.FINGERPRINTS_AVAILABLE:
            assert native_pol.fingerprint == ref_pol.fingerprint, context
        native_cat, ref_cat = core.Catalog.from_json(cat_text), ref.load_catalog(cat_text)
        assert native_cat.ids() == ref_cat.ids(), context
        # Capability lists are generated sorted: the listing order is a known disagreement
        # (conformance/vectors/catalog/load.json pins it) that this test should not trip over.
        assert native_cat.to_json() == ref_cat.canonical, context
        if ref.FINGERPRINTS_AVAILABLE:
            assert native_cat.fingerprint == ref_cat.fingerprint, context

        if seed is None and "sample" in json.dumps(term[4]):
            # The native side draws the seed; the reference must reproduce the draw from it.
            n_ok, n_err = run_native(term_text, cat_text, req, None, providers)
            drawn = (n_ok or n_err)["seed"]
            assert isinstance(drawn, int) and 0 <= drawn < (1 << 53), context
            seed = drawn
        n_ok, n_err = run_native(term_text, cat_text, req, seed, providers)
        r_ok, r_err = run_reference(term_text, cat_text, req, seed, providers)
        assert (n_ok is None) == (r_ok is None), f"no_candidates on one side only\n{context}"
        compare_results(n_ok or n_err, r_ok or r_err, context)
        outcomes["winner" if n_ok else "no_candidates"] += 1
    # The generator must exercise both outcomes, or it is not testing much.
    assert outcomes["winner"] > CASES // 5 and outcomes["no_candidates"] > 0, outcomes


def _mutations(rng: random.Random, term: list) -> list:
    """A copy of a valid policy with one to three random defects, anywhere in the tree."""
    term = json.loads(json.dumps(term))
    sites = []

    def walk(node, parent, index):
        if isinstance(node, list) and node and isinstance(node[0], str):
            sites.append((parent, index, node))
            for j, child in enumerate(node[1:], 1):
                walk(child, node, j)

    walk(term, None, None)
    for _ in range(rng.randint(1, 3)):
        parent, index, node = rng.choice(sites)
        kind = rng.randrange(10)
        if kind == 0:
            node[0] = rng.choice(["bogus", "argmx", "nand", "field", "and", "top_k", "AND", "sample"])
        elif kind == 1 and len(node) > 1:
            node.pop()
        elif kind == 2:
            node.append(rng.choice([["zero"], 1, "x", ["meets_req"]]))
        elif kind == 3 and len(node) > 1:
            node[rng.randrange(1, len(node))] = rng.choice(["price", "cap_tools", "price_out", "id", "capabilities",
                                                             5, -1, 0, None, True, [], {}, "supports_telepathy"])
        elif kind == 4 and parent is not None and index < len(parent):
            parent[index] = rng.choice([5, "meets_req", [], [7], {"op": "and"}, None])
        elif kind == 5 and len(term) == 7:
            term[6] = ["always", rng.choice([{"action": "retry"}, {}, "next_candidate",
                                             {"action": "next_candidate", "x": 1}])]
        elif kind == 6 and node[0] == "cmp" and len(node) == 4:
            node[2] = rng.choice(["gte", "EQ", "", 3])
        elif kind == 7 and node[0] in ("top_k", "sample", "scale") and len(node) > 1:
            node[1] = rng.choice([0, -1, 2.5, 1025, "3", 1e-9])
        elif kind == 8:
            node[0] = rng.choice(["ev_zero", "id", "always", "argmax", "zero", "meets_req"])
        elif kind == 9 and node[0] in ("is", "field", "cmp", "has_cap") and len(node) > 1:
            node[1] = rng.choice(["price", "cap_tools", "price_out", "id", "capabilities", "disabld",
                                  "supports_tools", "supports_tool", "eu_resident"])
    return term


def test_random_invalid_policies_fail_identically():
    rng = random.Random(SEED + 1)
    rules = set()
    for i in range(CASES):
        term = _mutations(rng, random_policy(rng, False))
        text = json.dumps(term)
        try:
            ref.Policy.admit(text)
            want = None
        except ref.RefError as e:
            want = (e.code, e.rule, e.path)
        try:
            core.Policy.admit(text)
            got = None
        except core.UnhardcodedError as e:
            got = (e.code, e.rule, e.path)
        assert got == want, f"case {i} (UH_DIFF_SEED={SEED}): native {got} reference {want}\nterm={text}"
        if want:
            rules.add(want[1])
    assert len(rules) >= 6, rules


def test_random_texts_fail_identically():
    """Corrupting one character of a valid policy text: both readers agree on code, rule and path
    (the spec fixes no path for reader errors; the two agree on the innermost container)."""
    rng = random.Random(SEED + 2)
    for i in range(CASES):
        text = json.dumps(random_policy(rng, False), separators=(",", ":"))
        pos = rng.randrange(len(text))
        text = text[:pos] + rng.choice(["", "[", "]", "{", "}", ",", '"', "\\", "x", "NaN", "01", "1e400",
                                        "9007199254740993", "\\ud800", "\u0001", " "]) + text[pos + 1:]
        try:
            ref.Policy.admit(text)
            want = None
        except ref.RefError as e:
            want = (e.code, e.rule, e.path)
        try:
            core.Policy.admit(text)
            got = None
        except core.UnhardcodedError as e:
            got = (e.code, e.rule, e.path)
        assert got == want, f"case {i} (UH_DIFF_SEED={SEED}): native {got} reference {want}\ntext={text!r}"


def random_request(rng: random.Random) -> dict:
    parts_pool = [{"type": "text", "text": rng.choice(["hi", "caf\u00e9", "x" * 37, ""])},
                  {"type": "image_url", "image_url": {"url": "https://e.com/" + "u" * rng.randint(0, 50),
                                                      "detail": "high"}},
                  {"type": "input_image", "image_url": {"url": "data:xyz"}}]
    messages = []
    for _ in range(rng.randint(0, 4)):
        if rng.random() < 0.5:
            messages.append({"role": rng.choice(["user", "system", "assistant"]),
                             "content": rng.choice(["hello", "\u4e2d\u6587", "a" * rng.randint(0, 30)])})
        else:
            messages.append({"role": "user", "content": rng.sample(parts_pool, rng.randint(1, 3))})
    req = {"model": "policy:x", "messages": messages}
    if rng.random() < 0.3:
        req["tools"] = rng.choice([[], [{"type": "function", "function": {"name": "get_time", "description": "now"}}]])
    if rng.random() < 0.2:
        req["response_format"] = {"type": rng.choice(["text", "json_object", "json_schema"])}
    for key in ("max_tokens", "max_completion_tokens"):
        if rng.random() < 0.3:
            req[key] = rng.choice([1, 100, 4096, None, "9"])
    if rng.random() < 0.3:
        req["temperature"] = rng.choice([0.1, 1.5, 3, "hot"])
    return req


def test_random_requests_and_mutations_agree():
    rng = random.Random(SEED + 3)
    for i in range(CASES):
        request = random_request(rng)
        text = json.dumps(request)
        assert core.requirements_from_request(text) == ref.requirements_from_request(text), \
            f"case {i} (UH_DIFF_SEED={SEED}): {text}"
        param = rng.choice(["temperature", "max_tokens", "max_completion_tokens"])
        lo = rng.choice([0, 0.5, 1.5, 10])
        term = ["policy", ["ev_zero"], ["meets_req"], ["zero"], ["argmax"],
                ["clamp_param", param, lo, lo + rng.choice([0, 0.4, 2.7, 1000])],
                ["always", {"action": "next_candidate"}]]
        native = json.loads(core.Policy.admit(json.dumps(term)).mutate_request(text))
        mine = ref.Policy.admit(json.dumps(term)).mutate_request(request)
        assert _num_equal(native, mine), f"case {i} (UH_DIFF_SEED={SEED}): term={term}\nrequest={text}"


def random_flow(rng: random.Random) -> list:
    names = rng.sample(["a", "b", "c", "d", "e", "f", "g", "h", "B", "_x", "n-1", "n2", "zz"], rng.randint(1, 8))
    nodes = {"in": {"kind": "input"}}
    made = ["in"]
    for name in names:
        inputs = rng.sample(made, rng.randint(1, min(3, len(made))))
        node = {"kind": "llm", "system": "step " + name, "policy": random_policy(rng, False), "inputs": inputs}
        if len(inputs) > 1 and rng.random() < 0.5:
            node["template"] = " / ".join(f"${k}" for k in range(len(inputs), 0, -1)) + " $$"
        nodes[name] = node
        made.append(name)
    # Everything must feed the output: a final node joins the nodes nobody consumes.
    consumed = {x for n in nodes.values() for x in n.get("inputs", [])}
    sinks = [n for n in made if n not in consumed and n != "in"] or ["in"]
    nodes["final"] = {"kind": "llm", "system": "join", "policy": random_policy(rng, False), "inputs": sinks[:32]}
    nodes["out"] = {"kind": "output", "inputs": ["final"]}
    items = list(nodes.items())
    rng.shuffle(items)
    return ["flow", dict(items)]


def test_random_flows_normalize_identically():
    rng = random.Random(SEED + 4)
    for i in range(max(CASES // 3, 20)):
        text = json.dumps(random_flow(rng))
        native = core.Flow.admit(text)
        mine = ref.normalize_flow(text)
        context = f"case {i} (UH_DIFF_SEED={SEED}): {text}"
        assert native.order() == mine["order"], context
        assert native.canonical == mine["canonical"], context
        if ref.FINGERPRINTS_AVAILABLE:
            assert native.fingerprint == mine["fingerprint"], context
