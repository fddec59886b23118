"""The public Python API: admission from any JSON form, errors as data, ranking, paging, flows."""

from __future__ import annotations

import doctest
import json
import pickle
import threading
import time
import tracemalloc

import pytest

import unhardcoded as uh

TAIL = [["argmax"], ["id"], ["always", {"action": "next_candidate"}]]
QUICKSTART = [
    "policy",
    ["ev_zero"],
    ["and", ["meets_req"], ["not", ["is", "disabled"]], ["has_cap", "supports_tools"],
     ["cmp", "bench_intelligence", "ge", 0.5]],
    ["neg", ["normalize", ["field", "price_out"]]],
    *TAIL,
]
CHEAPEST = ["policy", ["ev_zero"], ["meets_req"], ["neg", ["field", "price_out"]], *TAIL]


def small_catalog(**extra) -> uh.Catalog:
    doc = {
        "format": "unhardcoded-catalog/v1",
        "models": [
            {"id": "a", "provider": "openai", "price_out": 3, "context": 1000, "max_output": 4096,
             "cap_tools": True},
            {"id": "b", "provider": "anthropic", "price_out": 1, "context": 100000},
            {"id": "c", "provider": "openai", "price_out": 2, "context": 100000, "cap_tools": True,
             "max_output": 50},
        ],
        **extra,
    }
    return uh.Catalog.from_json(json.dumps(doc))


# -- admission ---------------------------------------------------------------------------------------


def test_admit_accepts_text_bytes_and_python_objects():
    text = json.dumps(QUICKSTART)
    forms = [text, text.encode(), bytearray(text.encode()), memoryview(text.encode()), QUICKSTART]
    fingerprints = {uh.Policy.admit(form).fingerprint for form in forms}
    assert len(fingerprints) == 1
    policy = uh.Policy.admit(QUICKSTART)
    assert policy.fingerprint.startswith("pol_") and len(policy.fingerprint) == 4 + 64
    assert policy.version == uh.VERSION == "sigma-pol/v1"
    assert policy.to_json() == policy.canonical
    assert json.loads(policy.canonical) == QUICKSTART


def test_fingerprint_depends_on_meaning_not_spelling():
    spaced = ' [ "policy" , ["ev_zero"], ["cmp","price_in","le",1.0], ["zero"], ["argmax"], ["id"],' \
             ' ["always", {"action": "next_candidate"}] ] '
    tight = '["policy",["ev_zero"],["cmp","price_in","le",1],["zero"],["argmax"],["id"],' \
            '["always",{"action":"next_candidate"}]]'
    a, b = uh.Policy.admit(spaced), uh.Policy.admit(tight)
    assert a.fingerprint == b.fingerprint and a.canonical == b.canonical == tight
    assert a == b and hash(a) == hash(b)
    other = uh.Policy.admit(tight.replace("1]", "2]", 1))
    assert other.fingerprint != a.fingerprint and other != a
    # The module-level helpers agree with admission.
    assert uh.fingerprint(spaced, "pol_") == a.fingerprint
    assert uh.canonicalize(spaced) == tight


def test_canonicalize_uses_ecmascript_numbers_and_utf16_key_order():
    assert uh.canonicalize('{"b":1e21,"a":1.0,"\\u00e9":0.000001,"c":1e-7,"d":-0}') == \
        '{"a":1,"b":1e+21,"c":1e-7,"d":0,"é":0.000001}'


def test_errors_are_data():
    bad = ["policy", ["ev_zero"], ["cmp", "prise_out", "le", 1], ["zero"], *TAIL]
    with pytest.raises(uh.UnhardcodedError) as info:
        uh.Policy.admit(bad)
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.code, err.rule, err.path, err.did_you_mean) == ("invalid_policy", "unknown_field", "/2/1", "price_out")
    assert err.message and err.message.endswith(".") and "\n" not in err.message
    assert err.to_dict() == {"code": "invalid_policy", "rule": "unknown_field", "path": "/2/1",
                             "message": err.message, "help": err.help, "did_you_mean": "price_out", "node": None}
    assert "unknown_field" in str(err) and "/2/1" in str(err) and "price_out" in str(err)
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is uh.UnhardcodedError and again.to_dict() == err.to_dict()


@pytest.mark.parametrize(("term", "rule"), [
    (["policy", ["ev_zero"], ["cmp", "price_in", "le", float("nan")], ["zero"], *TAIL], "json_syntax"),
    (["policy", ["ev_zero"], ["cmp", "price_in", "le", float("inf")], ["zero"], *TAIL], "json_syntax"),
    (["policy", ["ev_zero"], ["cmp", "price_in", "le", 2**53 + 1], ["zero"], *TAIL], "integer_precision"),
    (["policy", ["ev_zero"], ["family_eq", "\ud800"], ["zero"], *TAIL], "lone_surrogate"),
    (["policy", ["ev_zero"], ["family_eq", {1, 2}], ["zero"], *TAIL], "type"),
])
def test_python_values_json_cannot_hold_are_refused_cleanly(term, rule):
    with pytest.raises(uh.UnhardcodedError) as info:
        uh.Policy.admit(term)
    assert (info.value.code, info.value.rule) == ("invalid_policy", rule)


def test_text_with_a_raw_lone_surrogate_is_not_utf8():
    with pytest.raises(uh.UnhardcodedError) as info:
        uh.Policy.admit('["policy", "\ud800"]')
    assert info.value.rule == "invalid_utf8"


def test_exact_big_integers_within_2_53_are_fine():
    policy = uh.Policy.admit(["policy", ["ev_zero"], ["cmp", "context", "le", 2**53], ["zero"], *TAIL])
    assert "9007199254740992" in policy.canonical


def test_fields_from_a_catalog_extend_the_vocabulary():
    catalog = small_catalog(fields=[{"name": "eu_resident", "kind": "bool", "description": "Served in the EU."}])
    term = ["policy", ["ev_zero"], ["is", "eu_resident"], ["zero"], *TAIL]
    with pytest.raises(uh.UnhardcodedError) as info:
        uh.Policy.admit(term)
    assert info.value.rule == "unknown_field"
    assert uh.Policy.admit(term, fields=catalog).fingerprint.startswith("pol_")
    fields = {f["name"]: f for f in catalog.fields()}
    assert fields["eu_resident"] == {"name": "eu_resident", "kind": "bool", "description": "Served in the EU.",
                                     "core": False}
    assert fields["price_out"]["core"] is True and fields["capabilities"]["kind"] == "caps"


# -- ranking -----------------------------------------------------------------------------------------


def test_quickstart_dry_run_on_the_default_catalog():
    catalog = uh.default_catalog()
    result = uh.Policy.admit(QUICKSTART).rank(catalog)
    assert result.winner == result.cascade[0]
    assert len(result) == len(catalog)
    counts = result.counts()
    assert counts["winner"] == 1 and sum(counts.values()) == len(catalog)
    assert counts["passed"] == len(result.cascade) - 1
    verdicts = result.verdicts()
    assert [v["model"] for v in verdicts] == catalog.ids()
    by_status = {v["status"] for v in verdicts}
    assert by_status <= {"winner", "passed", "rejected"}
    for v in verdicts:
        if v["status"] == "rejected":
            assert v["rank"] is None and v["dropped_by"]["path"].startswith("/2")
        else:
            assert result.cascade[v["rank"]] == v["model"] and v["dropped_by"] is None
    assert result.seed is None
    assert json.loads(result.to_json()) == {"winner": result.winner, "cascade": result.cascade, "seed": None,
                                            "verdicts": verdicts}


def test_rank_helper_derives_requirements_after_mutate():
    catalog = small_catalog()
    clamp = ["policy", ["ev_zero"], ["meets_req"], ["neg", ["field", "price_out"]], ["argmax"],
             ["clamp_param", "max_tokens", 1, 40], ["always", {"action": "next_candidate"}]]
    request = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 500,
               "tools": [{"type": "function", "function": {"name": "f"}}]}
    # Unclamped, c (max_output 50) cannot serve 500 tokens; clamped to 40 it can.
    assert uh.rank(CHEAPEST, catalog, request=request).cascade == ["a"]
    assert uh.rank(clamp, catalog, request=request).cascade == ["c", "a"]
    assert json.loads(uh.Policy.admit(clamp).mutate_request(request))["max_tokens"] == 40
    with pytest.raises(TypeError):
        uh.rank(CHEAPEST, catalog, requirements={}, request=request)


def test_requirements_argument_is_validated():
    policy = uh.Policy.admit(CHEAPEST)
    catalog = small_catalog()
    assert policy.rank(catalog, requirements={"prompt_tokens": 5000}).cascade == ["b", "c"]
    with pytest.raises(uh.UnhardcodedError) as info:
        policy.rank(catalog, requirements={"tools": "yes"})
    assert (info.value.code, info.value.rule, info.value.path) == ("invalid_request", "type", "/tools")
    with pytest.raises(uh.UnhardcodedError) as info:
        policy.rank(catalog, requirements={"tool": True})
    assert info.value.did_you_mean == "tools"


def test_requirements_from_request():
    req = uh.requirements_from_request({
        "messages": [{"role": "user", "content": [{"type": "text", "text": "abcdefgh"},
                                                  {"type": "image_url", "image_url": {"url": "data:xyz"}}]}],
        "response_format": {"type": "json_object"}, "max_completion_tokens": 7})
    # Strings under messages: "user" "text" "abcdefgh" "image_url" = 25 bytes -> 7 tokens; the url is
    # not counted, the image is 1,000 tokens.
    assert req == {"tools": False, "vision": True, "json": True, "prompt_tokens": 1000 + 7, "max_tokens": 7}


def test_no_candidates_carries_the_verdicts():
    term = ["policy", ["ev_zero"], ["cmp", "price_out", "lt", 0], ["zero"], *TAIL]
    with pytest.raises(uh.NoCandidates) as info:
        uh.Policy.admit(term).rank(small_catalog())
    exc = info.value
    assert isinstance(exc, uh.UnhardcodedError) and isinstance(exc, ValueError)
    assert (exc.code, exc.rule) == ("no_candidates", "empty_cascade")
    assert exc.result.winner is None and exc.result.cascade == []
    assert exc.result.counts() == {"winner": 0, "passed": 0, "rejected": 3}
    assert [v["dropped_by"] for v in exc.result.verdicts()] == [{"path": "/2", "term": ["cmp", "price_out", "lt", 0]}] * 3


def test_host_floor_rejects_unconfigured_providers():
    result = uh.Policy.admit(CHEAPEST).rank(small_catalog(), providers=["openai"])
    assert result.cascade == ["c", "a"]
    (b,) = result.verdicts(status="rejected")
    assert b["dropped_by"] == {"path": "", "term": "host_floor", "reason": "provider anthropic is not configured"}


def test_sample_seed_replays_and_is_returned():
    sample = ["policy", ["ev_zero"], ["meets_req"], ["neg", ["field", "price_out"]], ["sample", 0.5], ["id"],
              ["always", {"action": "next_candidate"}]]
    policy = uh.Policy.admit(sample)
    catalog = small_catalog()
    first = policy.rank(catalog, seed=12345)
    assert first.seed == 12345
    assert [policy.rank(catalog, seed=12345).winner for _ in range(5)] == [first.winner] * 5
    drawn = policy.rank(catalog)
    assert isinstance(drawn.seed, int) and 0 <= drawn.seed < 2**53
    assert policy.rank(catalog, seed=drawn.seed).cascade == drawn.cascade
    for bad in (-1, 2**53, 1.5, True, "7"):
        with pytest.raises(uh.UnhardcodedError) as info:
            policy.rank(catalog, seed=bad)
        assert info.value.code == "invalid_request"


# -- paging ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_catalog_json() -> bytes:
    models = [{"id": f"m{i:06d}", "provider": "openai" if i % 3 else "anthropic", "price_out": (i * 7919) % 1000,
               "context": 200000, "cap_tools": i % 2 == 0} for i in range(30_000)]
    return json.dumps({"models": models}).encode()


def test_verdict_pages_match_the_full_list():
    result = uh.Policy.admit(["policy", ["ev_zero"], ["is", "cap_tools"], ["neg", ["field", "price_out"]],
                              *TAIL]).rank(uh.default_catalog())
    full = result.verdicts()
    assert result.verdicts(5, 7) == full[5:12]
    assert result.verdicts(len(full) + 3, 5) == []
    rejected = [v for v in full if v["status"] == "rejected"]
    assert result.verdicts(2, 3, status="rejected") == rejected[2:5]
    assert json.loads(result.verdicts_json(2, 3, "rejected")) == rejected[2:5]
    assert result.verdicts(status="winner") == [v for v in full if v["status"] == "winner"]
    with pytest.raises(ValueError):
        result.verdicts(status="won")


def test_a_page_of_a_huge_result_does_not_build_every_verdict(big_catalog_json):
    catalog = uh.Catalog.from_json(big_catalog_json)
    result = uh.Policy.admit(["policy", ["ev_zero"], ["is", "cap_tools"], ["neg", ["field", "price_out"]],
                              *TAIL]).rank(catalog)
    assert len(result) == 30_000 and result.counts()["rejected"] == 15_000
    tracemalloc.start()
    try:
        page = result.verdicts(offset=10_000, limit=10, status="rejected")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [v["model"] for v in page] == [f"m{i:06d}" for i in range(20_001, 20_021, 2)]
    # Ten verdicts are a few kilobytes; all 30,000 as dicts would be about ten megabytes.
    assert peak < 256 * 1024


def _other_thread_runs_during(call) -> bool:
    """True when a second thread takes timestamps while `call` runs (it cannot while the GIL is held)."""
    stamps: list[float] = []
    stop = threading.Event()

    def tick() -> None:
        while not stop.is_set():
            stamps.append(time.perf_counter())
            time.sleep(0)

    calls: list[tuple[float, float]] = []
    thread = threading.Thread(target=tick)
    thread.start()
    try:
        time.sleep(0.02)
        while sum(b - a for a, b in calls) < 0.15 and len(calls) < 100:
            start = time.perf_counter()
            call()
            calls.append((start, time.perf_counter()))
    finally:
        stop.set()
        thread.join()
    # Had a call held the GIL, the other thread could not have taken a timestamp while it ran
    # (between calls it may: the interpreter switches threads there).
    inside = [t for t in stamps if any(a + 0.001 < t < b - 0.001 for a, b in calls)]
    return len(inside) > 10


def test_long_native_work_releases_the_gil(big_catalog_json):
    assert _other_thread_runs_during(lambda: uh.Catalog.from_json(big_catalog_json))
    # Ranking keeps the GIL only for small catalogs (below 4,096 models), where releasing it costs more.
    catalog = uh.Catalog.from_json(big_catalog_json)
    policy = uh.Policy.admit(["policy", ["ev_zero"], ["is", "cap_tools"], ["neg", ["field", "price_out"]], *TAIL])
    assert _other_thread_runs_during(lambda: policy.rank(catalog).verdicts_json())


# -- catalogs ----------------------------------------------------------------------------------------


def test_catalog_accessors_and_round_trip(tmp_path):
    catalog = small_catalog()
    assert catalog.ids() == ["a", "b", "c"] and len(catalog) == 3 and "b" in catalog and "z" not in catalog
    assert catalog.model("c") == {"id": "c", "provider": "openai", "price_out": 2, "context": 100000,
                                  "max_output": 50, "cap_tools": True}
    assert catalog.model("zzz") is None
    assert "supports_tools" in catalog.capabilities()
    again = uh.Catalog.from_json(catalog.to_json())
    assert again.fingerprint == catalog.fingerprint and again.ids() == catalog.ids()
    path = tmp_path / "catalog.json"
    path.write_text(catalog.to_json())
    assert uh.Catalog.load(str(path)).fingerprint == catalog.fingerprint
    with pytest.raises(FileNotFoundError):
        uh.Catalog.load(str(tmp_path / "missing.json"))


def test_catalog_fingerprint_ignores_model_order_and_nulls():
    a = uh.Catalog.from_json({"models": [{"id": "x", "provider": "p", "price_in": 1},
                                         {"id": "y", "provider": "p", "price_in": None}]})
    b = uh.Catalog.from_json({"models": [{"id": "y", "provider": "p"}, {"id": "x", "provider": "p",
                                                                         "price_in": 1.0}]})
    assert a.fingerprint == b.fingerprint


def test_invalid_catalog_errors_have_paths():
    with pytest.raises(uh.UnhardcodedError) as info:
        uh.Catalog.from_json({"models": [{"id": "x", "provider": "p", "price_inn": 1}]})
    assert (info.value.code, info.value.rule, info.value.did_you_mean) == ("invalid_catalog", "unknown_field",
                                                                            "price_in")
    assert info.value.path.startswith("/models/0")


# -- requests ----------------------------------------------------------------------------------------


def test_parse_request_admits_policy_ir_and_applies_mutate():
    body = {"model": "policy:support", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 900,
            "policy_ir": ["policy", ["ev_zero"], ["meets_req"], ["zero"], ["argmax"],
                          ["clamp_param", "max_tokens", 1, 100], ["always", {"action": "next_candidate"}]]}
    kind, policy, reqs = uh.parse_request(json.dumps(body).encode())
    assert kind == "policy" and isinstance(policy, uh.Policy)
    assert policy.fingerprint == uh.Policy.admit(body["policy_ir"]).fingerprint
    assert reqs["max_tokens"] == 100


def test_parse_request_admits_each_policy_against_the_catalog_it_is_given():
    # A service sends one policy on every call and the core keeps what it admitted; the answer
    # must still depend on the catalog's vocabulary, not on which catalog admitted the term first.
    def catalog(declares: bool) -> uh.Catalog:
        fields = [{"name": "house_score", "kind": "number", "description": "House score."}] if declares else []
        model = {"id": "m", "provider": "openai", "price_out": 1, **({"house_score": 0.5} if declares else {})}
        return uh.Catalog.from_json(json.dumps({"format": "unhardcoded-catalog/v1", "fields": fields,
                                                "models": [model]}))

    declares, lacks = catalog(True), catalog(False)
    body = json.dumps({"messages": [{"role": "user", "content": "hi"}],
                       "policy_ir": ["policy", ["ev_zero"], ["cmp", "house_score", "ge", 0.4], ["zero"], *TAIL]}).encode()
    for _ in range(2):
        kind, policy, _ = uh.parse_request(body, fields=declares)
        assert kind == "policy"
        assert policy.rank(declares).winner == "m"
        for other in (lacks, None):
            with pytest.raises(uh.UnhardcodedError) as info:
                uh.parse_request(body, fields=other)
            assert (info.value.code, info.value.path) == ("invalid_policy", "/policy_ir/2/1")


def test_parse_request_paths_are_prefixed():
    body = {"messages": [], "policy_ir": ["policy", ["ev_zero"], ["is", "disabld"], ["zero"], *TAIL]}
    with pytest.raises(uh.UnhardcodedError) as info:
        uh.parse_request(json.dumps(body).encode())
    assert (info.value.code, info.value.path, info.value.did_you_mean) == ("invalid_policy", "/policy_ir/2/1",
                                                                           "disabled")
    with pytest.raises(uh.UnhardcodedError) as info:
        uh.parse_request(b'{"messages": [], "flow_ir": ["flow", {}]}')
    assert info.value.code == "invalid_flow" and info.value.path.startswith("/flow_ir")


def test_parse_request_without_a_term_and_bad_bodies():
    kind, term, reqs = uh.parse_request(b'{"messages": [{"role": "user", "content": "abcd"}]}')
    assert (kind, term, reqs["prompt_tokens"]) == ("none", None, 2)  # "user" + "abcd" = 8 bytes
    with pytest.raises(uh.UnhardcodedError) as info:
        uh.parse_request(b"[1, 2]")
    assert (info.value.code, info.value.rule) == ("invalid_request", "type")
    with pytest.raises(uh.UnhardcodedError) as info:
        uh.parse_request(b'{"messages": [], "policy_ir": 1, "flow_ir": 2}')
    assert info.value.code == "invalid_request"
    with pytest.raises(uh.UnhardcodedError) as info:
        uh.parse_request(b'{"messages": [], "messages": []}')
    assert (info.value.code, info.value.rule) == ("invalid_request", "duplicate_key")


# -- flows -------------------------------------------------------------------------------------------

FLOW = ["flow", {
    "in": {"kind": "input"},
    "draft": {"kind": "llm", "system": "Draft an answer.", "policy": CHEAPEST, "inputs": ["in"]},
    "review": {"kind": "llm", "system": "Review.", "policy": QUICKSTART, "inputs": ["in", "draft"],
               "template": "Q: $1\nA: $2"},
    "out": {"kind": "output", "inputs": ["review"]},
}]


def test_flow_admission_order_and_nodes():
    flow = uh.Flow.admit(FLOW)
    assert flow.fingerprint.startswith("flow_") and flow.version == uh.FLOW_VERSION == "flow_ir/v1"
    assert flow.order() == ["in", "draft", "review", "out"]
    assert flow.node("review") == {"id": "review", "kind": "llm", "inputs": ["in", "draft"], "system": "Review.",
                                   "template": "Q: $1\nA: $2"}
    assert flow.node_policy("draft").fingerprint == uh.Policy.admit(CHEAPEST).fingerprint
    assert flow.node("out")["system"] is None
    with pytest.raises(KeyError):
        flow.node("nope")
    with pytest.raises(ValueError):
        flow.node_policy("in")
    assert uh.Flow.admit(json.dumps(FLOW, indent=2)) == flow
    kind, parsed, _ = uh.parse_request(json.dumps({"messages": [], "flow_ir": FLOW}))
    assert kind == "flow" and parsed.fingerprint == flow.fingerprint


def test_flow_errors_name_the_node():
    bad = json.loads(json.dumps(FLOW))
    bad[1]["draft"]["inputs"] = ["inn"]
    with pytest.raises(uh.UnhardcodedError) as info:
        uh.Flow.admit(bad)
    assert (info.value.code, info.value.rule, info.value.node) == ("invalid_flow", "unknown_input", "draft")
    bad = json.loads(json.dumps(FLOW))
    bad[1]["review"]["policy"][2] = ["has_cap", "supports_tool"]
    with pytest.raises(uh.UnhardcodedError) as info:
        uh.Flow.admit(bad)
    assert (info.value.code, info.value.rule) == ("invalid_policy", "unknown_capability")
    assert info.value.path == "/1/review/policy/2/1" and info.value.did_you_mean == "supports_tools"


@pytest.mark.parametrize("module", ["unhardcoded", "unhardcoded.api", "unhardcoded.importers.litellm"])
def test_docstring_examples_hold(module):
    import importlib

    failures, tried = doctest.testmod(importlib.import_module(module))
    assert tried > 0 and failures == 0
