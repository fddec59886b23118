"""The rest of the HTTP surface: auth and workspaces, the error envelope and the SDK's typed
exceptions, dry runs, catalog views, trace history, replay, health and the OpenAPI document."""
from __future__ import annotations

import json
import time

import openai
import pytest
from fakes.fixtures import fake_upstream, fake_upstream_server  # noqa: F401
from server_fixtures import model, policy, running_router, write_catalog

USER = [{"role": "user", "content": "hello"}]
POLICY = policy()
KEYS = {"ws-a": "uh-test-key-a", "ws-b": "uh-test-key-b"}

MODELS = [
    model("m-cheap", "openai", 0.5, 1.0, meta={"upstream": "fake-cheap"}, eu=True),
    model("m-mid", "anthropic", 1.0, 2.0, meta={"upstream": "fake-mid"}, eu=False),
    model("m-gem", "gemini", 0.1, 0.5, meta={"upstream": "fake-gem"}),
]
FIELDS = [{"name": "eu", "kind": "bool", "description": "Served from the EU."}]


@pytest.fixture(scope="module")
def router(fake_upstream_server, tmp_path_factory):  # noqa: F811
    tmp = tmp_path_factory.mktemp("api")
    catalog = write_catalog(tmp / "catalog.json", MODELS, FIELDS)
    fake = fake_upstream_server
    env = {"OPENAI_API_KEY": fake.keys["openai"], "ANTHROPIC_API_KEY": fake.keys["anthropic"]}
    providers = {"openai": {"base_url": fake.url_for("openai")}, "anthropic": {"base_url": fake.url_for("anthropic")}}
    with running_router(tmp, env=env, providers=providers, catalog=catalog, workspaces=KEYS) as server:
        yield server


def chat(router, key=None, **kwargs):
    kwargs.setdefault("model", "policy:api")
    kwargs.setdefault("messages", USER)
    extra = {"policy_ir": kwargs.pop("policy_ir", POLICY)}
    return router.openai(key).chat.completions.create(extra_body=extra, **kwargs)


def post(router, path, body, key=None, **kwargs):
    if isinstance(body, (dict, list)):
        return router.http(key).post(path, json=body, **kwargs)
    return router.http(key).post(path, content=body, headers={"content-type": "application/json"}, **kwargs)


def assert_envelope(res, status, code, param=None):
    assert res.status_code == status, res.text
    assert res.headers["content-type"].startswith("application/json")
    error = res.json()["error"]
    assert set(error) >= {"message", "type", "param", "code"}
    assert error["code"] == code and error["param"] == param
    assert error["message"] and "Traceback" not in res.text
    return error


# --- auth and workspaces --------------------------------------------------------------------------

def test_missing_and_wrong_keys_are_401(router, fake_upstream):  # noqa: F811
    for key in ("", "uh-not-a-key"):
        res = router.http(key).get("/v1/models")
        assert_envelope(res, 401, "unauthorized")
        assert res.headers["www-authenticate"] == "Bearer"
    with pytest.raises(openai.AuthenticationError) as info:
        chat(router, key="uh-wrong")
    assert info.value.body["code"] == "unauthorized"
    res = router.http("").get("/x/traces", headers={"authorization": "Basic dXNlcjpwYXNz"})
    assert_envelope(res, 401, "unauthorized")
    assert fake_upstream.requests == []


def test_health_and_openapi_need_no_key(router):
    assert router.http("").get("/healthz").json() == {"status": "ok"}
    doc = router.http("").get("/openapi.json").json()
    assert doc["openapi"] == "3.1.0"


def test_a_workspace_never_reads_another_workspaces_traces(router, fake_upstream):  # noqa: F811
    trace_id = chat(router, key=KEYS["ws-a"], model="policy:isolation").model_extra["trace"]["trace"]
    assert router.http(KEYS["ws-a"]).get(f"/x/traces/{trace_id}").status_code == 200
    other = router.http(KEYS["ws-b"]).get(f"/x/traces/{trace_id}")
    missing = router.http(KEYS["ws-b"]).get("/x/traces/tr_doesnotexist")
    assert_envelope(other, 404, "not_found", "trace_id")
    assert other.json()["error"]["message"].replace(trace_id, "X") == \
        missing.json()["error"]["message"].replace("tr_doesnotexist", "X")
    listed = router.http(KEYS["ws-b"]).get("/x/traces", params={"label": "policy:isolation"}).json()
    assert listed["data"] == []
    replay = post(router, "/x/replay", {"trace_id": trace_id}, key=KEYS["ws-b"])
    assert_envelope(replay, 404, "not_found", "trace_id")
    with pytest.raises(openai.NotFoundError):
        router.openai(KEYS["ws-b"]).get(f"/x/traces/{trace_id}", cast_to=object)


# --- the error envelope ---------------------------------------------------------------------------

def test_invalid_policy_points_at_the_offending_node(router, fake_upstream):  # noqa: F811
    bad = policy(filter_term=["and", ["meets_req"], ["cmp", "price", "le", 5]])
    with pytest.raises(openai.BadRequestError) as info:
        chat(router, policy_ir=bad)
    body = info.value.body
    assert body["code"] == "invalid_policy" and body["type"] == "invalid_request_error"
    assert body["param"] == "/policy_ir/2/2/1"
    assert body["rule"] == "unknown_field" and body["did_you_mean"] == "price_in"
    unknown_op = policy(rank=["nope"])
    with pytest.raises(openai.BadRequestError) as info:
        chat(router, policy_ir=unknown_op)
    assert (info.value.body["param"], info.value.body["rule"]) == ("/policy_ir/3/0", "unknown_op")
    assert fake_upstream.requests == []


def test_extension_fields_of_the_catalog_are_admitted(router, fake_upstream):  # noqa: F811
    eu_only = policy(filter_term=["and", ["meets_req"], ["is", "eu"]])
    trace = chat(router, policy_ir=eu_only).model_extra["trace"]
    assert trace["selected"] == "m-cheap"
    assert next(v for v in trace["candidates"] if v["model"] == "m-mid")["dropped_by"]["path"] == "/2/2"


@pytest.mark.parametrize("body, param, rule", [
    (b'{"model": "x", "messages": [', "/messages", "json_syntax"),
    (b'{"model": "x", "model": "y", "messages": []}', "/model", "duplicate_key"),
    (b'[1, 2]', None, "type"),
    (b'', None, "json_syntax"),
    (b'\xef\xbb\xbf{}', None, "json_syntax"),
    (b'{"messages": [{"role": "user", "content": "x"}], "max_tokens": 1e400}', "/max_tokens", "non_finite_number"),
])
def test_bad_bodies_are_clean_400s(router, body, param, rule):
    error = assert_envelope(post(router, "/v1/chat/completions", body), 400, "invalid_request", param)
    assert error["rule"] == rule


def test_body_shape_errors(router):
    no_messages = {"model": "x", "policy_ir": POLICY}
    assert assert_envelope(post(router, "/v1/chat/completions", no_messages), 400, "invalid_request",
                           "messages")["rule"] == "missing_member"
    empty = {"model": "x", "messages": [], "policy_ir": POLICY}
    assert_envelope(post(router, "/v1/chat/completions", empty), 400, "invalid_request", "messages")
    no_policy = {"model": "x", "messages": USER}
    assert_envelope(post(router, "/v1/chat/completions", no_policy), 400, "invalid_request", "policy_ir")
    both = {"model": "x", "messages": USER, "policy_ir": POLICY, "flow_ir": ["flow", {}]}
    assert_envelope(post(router, "/v1/chat/completions", both), 400, "invalid_request", "/flow_ir")
    label = {"model": 7, "messages": USER, "policy_ir": POLICY}
    assert_envelope(post(router, "/v1/chat/completions", label), 400, "invalid_request", "model")
    bad_stream = {"model": "x", "messages": USER, "policy_ir": POLICY, "stream": "yes"}
    assert_envelope(post(router, "/v1/chat/completions", bad_stream), 400, "invalid_request", "stream")


def test_wrong_content_type_and_method_and_route(router):
    res = router.http().post("/v1/chat/completions", content=b"a=b",
                             headers={"content-type": "application/x-www-form-urlencoded"})
    assert_envelope(res, 415, "invalid_request")
    assert_envelope(router.http().get("/v1/chat/completions"), 405, "method_not_allowed")
    assert_envelope(router.http().get("/v1/nope"), 404, "not_found")
    with pytest.raises(openai.NotFoundError):
        router.openai().embeddings.create(model="x", input="y")


def test_bad_seed_header(router):
    res = router.http().post("/v1/chat/completions", json={"messages": USER, "policy_ir": POLICY},
                             headers={"x-unhardcoded-seed": "-1"})
    assert_envelope(res, 400, "invalid_request", "x-unhardcoded-seed")


def test_unexpected_exception_is_a_logged_500_without_traceback(router, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(router.host.store, "list_traces", broken)
    with caplog.at_level("ERROR", logger="unhardcoded.server"):
        res = router.http().get("/x/traces")
    error = assert_envelope(res, 500, "internal_error")
    assert "secret internal detail" not in res.text and error["type"] == "server_error"
    assert any("secret internal detail" in (r.exc_text or "") or "RuntimeError" in (r.exc_text or "")
               for r in caplog.records)


def test_body_size_limit(fake_upstream, tmp_path):  # noqa: F811
    env = {"OPENAI_API_KEY": fake_upstream.keys["openai"]}
    catalog = write_catalog(tmp_path / "c.json", MODELS[:1], FIELDS)
    with running_router(tmp_path, env=env, providers={"openai": {"base_url": fake_upstream.url_for("openai")}},
                        catalog=catalog, limits={"max_body_bytes": 1000, "requests_per_minute": 3}) as server:
        big = {"messages": [{"role": "user", "content": "x" * 2000}], "policy_ir": POLICY}
        error = assert_envelope(server.http().post("/v1/chat/completions", json=big), 413, "invalid_request")
        assert error["rule"] == "size_limit"
        # the 3-per-minute budget: two more calls pass, the next is 429 with Retry-After
        server.http().get("/v1/models")
        server.http().get("/v1/models")
        with pytest.raises(openai.RateLimitError) as info:
            server.openai().models.list()
        assert info.value.body["code"] == "rate_limited"
        assert int(info.value.response.headers["retry-after"]) >= 1
        other = server.http(KEYS_DEFAULT_B).get("/v1/models")   # budgets are per workspace
        assert other.status_code == 200


KEYS_DEFAULT_B = "uh-test-key-b"


# --- dry runs -------------------------------------------------------------------------------------

def test_rank_returns_verdicts_without_inference(router, fake_upstream):  # noqa: F811
    res = post(router, "/x/rank", {"policy_ir": POLICY, "messages": USER})
    assert res.status_code == 200, res.text
    out = res.json()
    assert out["winner"] == "m-cheap" and out["cascade"] == ["m-cheap", "m-mid"]
    assert out["counts"] == {"winner": 1, "passed": 1, "rejected": 1}
    assert out["total"] == 3 and len(out["verdicts"]) == 3
    gem = next(v for v in out["verdicts"] if v["model"] == "m-gem")
    assert gem["dropped_by"]["reason"] == "provider gemini is not configured"
    assert out["requirements"]["prompt_tokens"] > 0
    assert out["policy"]["fingerprint"].startswith("pol_")
    assert fake_upstream.requests == []
    page = post(router, "/x/rank", {"policy_ir": POLICY, "requirements": {"tools": True, "vision": False,
                                    "json": False, "prompt_tokens": 10, "max_tokens": None},
                                    "limit": 1, "offset": 1, "status": None}).json()
    assert [v["model"] for v in page["verdicts"]] == ["m-gem"] and page["requirements"]["tools"] is True
    rejected = post(router, "/x/rank", {"policy_ir": POLICY, "status": "rejected"}).json()
    assert [v["model"] for v in rejected["verdicts"]] == ["m-gem"]
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    with_tools = post(router, "/x/rank", {"policy_ir": POLICY, "messages": USER, "tools": tools,
                                          "max_tokens": 100}).json()
    assert with_tools["requirements"]["tools"] is True and with_tools["requirements"]["max_tokens"] == 100


def test_rank_errors(router):
    nothing = post(router, "/x/rank", {"policy_ir": policy(filter_term=["cmp", "price_in", "lt", 0])})
    error = assert_envelope(nothing, 400, "no_candidates")
    assert len(error["verdicts"]) == 3 and error["counts"]["rejected"] == 3
    assert_envelope(post(router, "/x/rank", {"messages": USER}), 400, "invalid_request", "policy_ir")
    assert_envelope(post(router, "/x/rank", {"policy_ir": POLICY, "seed": -3}), 400, "invalid_request", "seed")
    assert_envelope(post(router, "/x/rank", {"policy_ir": ["policy"]}), 400, "invalid_policy", "/policy_ir")


def test_sampled_rank_is_reproducible_by_seed(router):
    sampled = policy(select=["sample", 1.0])
    a = post(router, "/x/rank", {"policy_ir": sampled, "seed": 99}).json()
    b = post(router, "/x/rank", {"policy_ir": sampled, "seed": 99}).json()
    assert a["seed"] == 99 and a["cascade"] == b["cascade"] and a["verdicts"] == b["verdicts"]


def test_policy_normalize(router):
    spaced = b'{"policy_ir": ["policy", ["ev_zero"], ["meets_req"], ["neg", ["field", "price_out"]], ' \
             b'["argmax"], ["id"], ["always", {"action": "next_candidate"}]]}'
    out = post(router, "/x/policy/normalize", spaced).json()
    assert out["canonical"] == ('["policy",["ev_zero"],["meets_req"],["neg",["field","price_out"]],'
                                '["argmax"],["id"],["always",{"action":"next_candidate"}]]')
    assert out["version"] == "sigma-pol/v1" and out["fingerprint"].startswith("pol_")
    assert out["term"] == json.loads(out["canonical"])
    error = assert_envelope(post(router, "/x/policy/normalize", {"policy_ir": policy(select=["top_k", 0, ["argmax"]])}),
                            400, "invalid_policy", "/policy_ir/4/1")
    assert error["rule"] == "type"


def test_flow_normalize_previews_each_node(router):
    flow = ["flow", {"u": {"kind": "input"},
                     "a": {"kind": "llm", "system": "Answer.", "policy": POLICY, "inputs": ["u"]},
                     "out": {"kind": "output", "inputs": ["a"]}}]
    res = post(router, "/x/flow/normalize", {"flow_ir": flow})
    assert res.status_code == 200, res.text
    out = res.json()
    assert out["fingerprint"].startswith("flow_") and out["version"] == "flow_ir/v1"
    assert out["order"][0] == "u"
    (node,) = out["preview"]
    assert node["node"] == "a" and node["winner"] == "m-cheap"
    bad = ["flow", {"u": {"kind": "input"}, "out": {"kind": "output", "inputs": ["nope"]}}]
    error = assert_envelope(post(router, "/x/flow/normalize", {"flow_ir": bad}), 400, "invalid_flow",
                            "/flow_ir/1/out/inputs/0")
    assert error["rule"] == "unknown_input"


# --- catalog views --------------------------------------------------------------------------------

def test_fields_lists_core_and_extension_fields(router):
    out = router.http().get("/x/fields").json()
    by_name = {f["name"]: f for f in out["data"]}
    assert by_name["price_out"]["kind"] == "number" and by_name["price_out"]["core"] is True
    assert by_name["eu"] == {"name": "eu", "kind": "bool", "description": "Served from the EU.", "core": False}
    assert "supports_tools" in out["capabilities"]
    assert out["version"] == "sigma-pol/v1"


def test_models_is_the_catalog_in_openai_shape(router):
    page = router.openai().models.list()
    ids = [m.id for m in page.data]
    assert ids == ["m-cheap", "m-gem", "m-mid"]
    gem = next(m for m in page.data if m.id == "m-gem")
    assert gem.owned_by == "gemini" and gem.model_extra["available"] is False
    assert next(m for m in page.data if m.id == "m-cheap").model_extra["price_out"] == 1.0


# --- history ----------------------------------------------------------------------------------------

def test_history_pages_and_filters(router, fake_upstream):  # noqa: F811
    label = f"policy:history-{time.time_ns()}"
    ids = [chat(router, model=label).model_extra["trace"]["trace"] for _ in range(3)]
    mid = chat(router, model=label, policy_ir=policy(filter_term=["cmp", "id", "eq", "m-mid"]))
    ids.append(mid.model_extra["trace"]["trace"])
    http = router.http()
    first = http.get("/x/traces", params={"label": label, "limit": 3}).json()
    assert first["has_more"] is True and len(first["data"]) == 3
    second = http.get("/x/traces", params={"label": label, "limit": 3, "cursor": first["next_cursor"]}).json()
    assert second["has_more"] is False and second["next_cursor"] is None
    listed = [t["trace"] for t in first["data"] + second["data"]]
    assert listed == list(reversed(ids))
    summary = first["data"][0]
    assert summary["label"] == label and summary["kind"] == "policy" and summary["status"] == "ok"
    assert summary["selected"] == "m-mid" and summary["policy"].startswith("pol_")
    by_model = http.get("/x/traces", params={"label": label, "model": "m-mid"}).json()["data"]
    assert [t["trace"] for t in by_model] == [ids[-1]]
    created = summary["created"]
    window = http.get("/x/traces", params={"label": label, "since": created}).json()["data"]
    assert ids[-1] in [t["trace"] for t in window]
    assert http.get("/x/traces", params={"label": label, "until": "2000-01-01T00:00:00Z"}).json()["data"] == []
    assert_envelope(http.get("/x/traces", params={"limit": 0}), 400, "invalid_request", "limit")
    assert_envelope(http.get("/x/traces", params={"cursor": "%%%"}), 400, "invalid_request", "cursor")
    assert_envelope(http.get("/x/traces", params={"since": "yesterday"}), 400, "invalid_request", "since")


# --- replay -----------------------------------------------------------------------------------------

def test_replay_reproduces_the_recorded_verdicts(router, fake_upstream):  # noqa: F811
    trace = chat(router).model_extra["trace"]
    out = post(router, "/x/replay", {"trace_id": trace["trace"]}).json()
    assert out["reproduced"] is True and out["diff"] == []
    assert out["winner"] == {"recorded": "m-cheap", "replayed": "m-cheap"}
    assert out["verdicts"] == trace["candidates"]
    assert out["catalog"] == {"recorded": trace["catalog"]["fingerprint"], "replayed": trace["catalog"]["fingerprint"]}


def test_replay_of_a_sampled_decision_uses_the_recorded_seed(router, fake_upstream):  # noqa: F811
    trace = chat(router, policy_ir=policy(select=["sample", 0.01])).model_extra["trace"]
    for _ in range(3):
        out = post(router, "/x/replay", {"trace_id": trace["trace"]}).json()
        assert out["reproduced"] is True and out["seed"] == trace["seed"]


def test_replay_with_another_policy_reports_what_changes(router, fake_upstream):  # noqa: F811
    trace = chat(router).model_extra["trace"]
    priciest = policy(rank=["field", "price_out"])
    out = post(router, "/x/replay", {"trace_id": trace["trace"], "against": "current", "policy_ir": priciest}).json()
    assert out["reproduced"] is False
    assert out["winner"] == {"recorded": "m-cheap", "replayed": "m-mid"}
    assert out["cascade"] == {"recorded": ["m-cheap", "m-mid"], "replayed": ["m-mid", "m-cheap"]}
    assert {"model": "m-cheap", "recorded": "winner", "replayed": "passed", "dropped_by": None} in out["changes"]
    assert {"field": "winner", "recorded": "m-cheap", "replayed": "m-mid"} in out["diff"]
    narrower = policy(filter_term=["and", ["meets_req"], ["is", "eu"]])
    out = post(router, "/x/replay", {"trace_id": trace["trace"], "against": "current", "policy_ir": narrower}).json()
    change = next(c for c in out["changes"] if c["model"] == "m-mid")
    assert change["recorded"] == "passed" and change["replayed"] == "rejected"
    assert change["dropped_by"]["path"] == "/2/2"


def test_replay_against_a_changed_catalog(router, fake_upstream, tmp_path):  # noqa: F811
    from unhardcoded._core import Catalog

    trace = chat(router).model_extra["trace"]
    host = router.host
    original = host.catalog
    changed = [dict(m) for m in MODELS]
    changed[0]["disabled"] = True  # m-cheap switched off since the call
    newer = Catalog.from_json(json.dumps({"format": "unhardcoded-catalog/v1", "fields": FIELDS, "models": changed}))
    host.catalog = newer
    try:
        snap = post(router, "/x/replay", {"trace_id": trace["trace"], "against": "snapshot"}).json()
        assert snap["reproduced"] is True  # the stored snapshot, not the live catalog
        now = post(router, "/x/replay", {"trace_id": trace["trace"], "against": "current"}).json()
    finally:
        host.catalog = original
    assert now["reproduced"] is False
    assert now["catalog"]["replayed"] == newer.fingerprint != now["catalog"]["recorded"]
    assert now["winner"] == {"recorded": "m-cheap", "replayed": "m-mid"}


def test_replay_request_errors(router):
    assert_envelope(post(router, "/x/replay", {}), 400, "invalid_request", "trace_id")
    assert_envelope(post(router, "/x/replay", {"trace_id": "tr_x", "against": "later"}), 400, "invalid_request",
                    "against")
    assert_envelope(post(router, "/x/replay", {"trace_id": "tr_x", "extra": 1}), 400, "invalid_request", "extra")
    assert_envelope(post(router, "/x/replay", b'{"trace_id": "a", "trace_id": "b"}'), 400, "invalid_request",
                    "/trace_id")


# --- the OpenAPI document ---------------------------------------------------------------------------

def test_openapi_describes_every_route(router):
    from unhardcoded.server.app import ROUTES

    doc = router.http("").get("/openapi.json").json()
    served = {(r.path, m.lower()) for r in ROUTES for m in r.methods if m != "HEAD"}
    described = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert served == described
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert "200" in op["responses"], (path, method)
            for response in op["responses"].values():
                for media in response.get("content", {}).values():
                    _resolve_refs(doc, media["schema"])


def _resolve_refs(doc, node):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref is not None:
            name = ref.rsplit("/", 1)[-1]
            assert name in doc["components"]["schemas"], ref
        for value in node.values():
            _resolve_refs(doc, value)
    elif isinstance(node, list):
        for value in node:
            _resolve_refs(doc, value)


# --- the PostgreSQL store behind the server ------------------------------------------------------------

def test_server_on_postgres_store(fake_upstream, tmp_path):  # noqa: F811
    import os

    url = os.environ.get("UNHARDCODED_TEST_PG_URL")
    if not url:
        pytest.skip("UNHARDCODED_TEST_PG_URL is not set")
    env = {"OPENAI_API_KEY": fake_upstream.keys["openai"]}
    catalog = write_catalog(tmp_path / "c.json", MODELS, FIELDS)
    label = f"policy:pg-{time.time_ns()}"
    with running_router(tmp_path, env=env, providers={"openai": {"base_url": fake_upstream.url_for("openai")}},
                        catalog=catalog, store_url=url) as server:
        assert server.host.store.inline is False
        trace = chat(server, model=label).model_extra["trace"]
        assert server.http().get(f"/x/traces/{trace['trace']}").json() == trace
        listed = server.http().get("/x/traces", params={"label": label}).json()["data"]
        assert [t["trace"] for t in listed] == [trace["trace"]]
        out = post(server, "/x/replay", {"trace_id": trace["trace"]}).json()
        assert out["reproduced"] is True
        assert_envelope(server.http(KEYS["ws-b"]).get(f"/x/traces/{trace['trace']}"), 404, "not_found", "trace_id")
