"""POST /v1/chat/completions through the official openai SDK against a real router on 127.0.0.1,
with provider adapters talking to the fake upstreams: routing, the trace, and every failover path."""
from __future__ import annotations

import json

import openai
import pytest
from fakes.fixtures import fake_upstream, fake_upstream_server  # noqa: F401
from server_fixtures import model, policy, running_router, write_catalog

USER = [{"role": "user", "content": "where is my parcel"}]
POLICY = policy()

# Cheapest first by price_out: m-dis (disabled) and m-gem (no gemini key) never run.
MODELS = [
    model("m-cheap", "openai", 0.5, 1.0, meta={"upstream": "fake-cheap"}),
    model("m-mid", "anthropic", 1.0, 2.0, meta={"upstream": "fake-mid"}),
    model("m-pricey", "openai", 2.0, 3.0, meta={"upstream": "fake-pricey", "price_cached_in": 0.25}),
    model("m-gem", "gemini", 0.1, 0.5, meta={"upstream": "fake-gem"}),
    model("m-dis", "openai", 0.1, 0.1, disabled=True, meta={"upstream": "fake-dis"}),
    model("m-notools", "openai", 0.05, 0.05, cap_tools=False, meta={"upstream": "fake-notools"}),
]


def providers_for(fake):
    return {"openai": {"base_url": fake.url_for("openai")}, "anthropic": {"base_url": fake.url_for("anthropic")},
            "gemini": {"base_url": fake.url_for("gemini")}}


def env_for(fake):
    return {"OPENAI_API_KEY": fake.keys["openai"], "ANTHROPIC_API_KEY": fake.keys["anthropic"]}


@pytest.fixture(scope="module")
def router(fake_upstream_server, tmp_path_factory):  # noqa: F811
    tmp = tmp_path_factory.mktemp("chat")
    catalog = write_catalog(tmp / "catalog.json", MODELS)
    with running_router(tmp, env=env_for(fake_upstream_server), providers=providers_for(fake_upstream_server),
                        catalog=catalog,
                        timeouts={"connect": 1.0, "stall": 1.0, "attempt": 5.0, "overall": 10.0}) as server:
        yield server


def create(router, **kwargs):
    kwargs.setdefault("model", "policy:support")
    kwargs.setdefault("messages", USER)
    extra = kwargs.pop("extra_body", {})
    extra.setdefault("policy_ir", kwargs.pop("policy_ir", POLICY))
    return router.openai().chat.completions.with_raw_response.create(extra_body=extra, **kwargs)


def stored(router, trace_id):
    res = router.http().get(f"/x/traces/{trace_id}")
    assert res.status_code == 200, res.text
    return res.json()


def verdict(trace, model_id):
    return next(v for v in trace["candidates"] if v["model"] == model_id)


def expected_cost(usage, price_in, price_out, price_cached=None):
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    prompt, completion = usage["prompt_tokens"], usage["completion_tokens"]
    cached_price = price_in if price_cached is None else price_cached
    return ((prompt - cached) * price_in + cached * cached_price + completion * price_out) / 1e6


# --- the happy path -------------------------------------------------------------------------------

def test_completion_routes_to_cheapest_survivor_with_trace(router, fake_upstream):  # noqa: F811
    raw = create(router, temperature=0.3, user="u-1", max_tokens=200, messages=USER + [])
    completion = raw.parse()
    trace = completion.model_extra["trace"]

    assert completion.choices[0].message.content == "Echo: where is my parcel"
    assert raw.headers["x-unhardcoded-trace-id"] == trace["trace"]
    assert raw.headers["x-unhardcoded-selected"] == "m-notools" == trace["selected"]
    assert raw.headers["x-unhardcoded-policy"] == trace["policy"]["fingerprint"]

    # what reached the provider: the upstream name, parameters unchanged, nothing of ours
    sent = fake_upstream.requests[-1]
    assert (sent.provider, sent.model) == ("openai", "fake-notools")
    assert sent.json["temperature"] == 0.3 and sent.json["user"] == "u-1" and sent.json["max_tokens"] == 200
    assert "policy_ir" not in sent.json and sent.json["messages"] == USER

    assert trace["object"] == "trace" and trace["trace"].startswith("tr_")
    assert trace["label"] == "policy:support" and trace["kind"] == "policy"
    assert trace["policy"]["version"] == "sigma-pol/v1" and trace["policy"]["term"] == POLICY
    assert trace["policy"]["fingerprint"].startswith("pol_")
    assert trace["catalog"]["fingerprint"] == router.host.catalog.fingerprint
    assert trace["cascade"] == ["m-notools", "m-cheap", "m-mid", "m-pricey"]
    assert trace["status"] == "ok" and trace["error"] is None and trace["fallback"] == []
    assert trace["requirements"]["tools"] is False and trace["requirements"]["max_tokens"] == 200
    assert trace["created"].endswith("Z") and "T" in trace["created"]
    assert trace["latency_ms"] >= trace["routing_ms"] >= 0
    assert "cheapest (price_out)" in trace["reason"]
    assert trace["usage"]["prompt_tokens"] == completion.usage.prompt_tokens > 0
    assert trace["usage"]["completion_tokens"] == completion.usage.completion_tokens > 0
    assert trace["cost"] == pytest.approx(expected_cost(trace["usage"], 0.05, 0.05))
    assert stored(router, trace["trace"]) == trace


def test_verdicts_name_the_rule_that_dropped_each_model(router, fake_upstream):  # noqa: F811
    trace = create(router).parse().model_extra["trace"]
    assert [v["model"] for v in trace["candidates"]] == sorted(m["id"] for m in MODELS)
    assert verdict(trace, "m-dis") == {"model": "m-dis", "status": "rejected", "score": None, "rank": None,
                                       "dropped_by": {"path": "/2/2", "term": ["not", ["is", "disabled"]]}}
    gem = verdict(trace, "m-gem")
    assert gem["status"] == "rejected"
    assert gem["dropped_by"] == {"path": "", "term": "host_floor", "reason": "provider gemini is not configured"}
    winner = verdict(trace, trace["selected"])
    assert winner["status"] == "winner" and winner["rank"] == 0 and winner["dropped_by"] is None
    assert verdict(trace, "m-mid")["status"] == "passed"
    assert trace["providers"] == ["anthropic", "openai"]


def test_tools_requirement_drops_models_without_tool_support(router, fake_upstream):  # noqa: F811
    tools = [{"type": "function", "function": {"name": "track", "parameters": {
        "type": "object", "properties": {"parcel": {"type": "string"}}}}}]
    raw = create(router, tools=tools, tool_choice="required")
    completion = raw.parse()
    trace = completion.model_extra["trace"]
    assert trace["requirements"]["tools"] is True
    assert verdict(trace, "m-notools")["dropped_by"] == {"path": "/2/1", "term": ["meets_req"], "reason": "tools"}
    assert trace["selected"] == "m-cheap"
    assert completion.choices[0].message.tool_calls[0].function.name == "track"
    assert "tools ✓" in trace["reason"]


def test_without_tools_the_cheapest_model_wins(router, fake_upstream):  # noqa: F811
    trace = create(router).parse().model_extra["trace"]
    assert trace["selected"] == "m-notools"
    assert trace["cascade"] == ["m-notools", "m-cheap", "m-mid", "m-pricey"]


def test_clamp_param_shapes_the_outgoing_request(router, fake_upstream):  # noqa: F811
    clamp = policy(mutate=["clamp_param", "temperature", 0, 0.5])
    trace = create(router, policy_ir=clamp, temperature=1.7).parse().model_extra["trace"]
    assert fake_upstream.requests[-1].json["temperature"] == 0.5
    assert trace["policy"]["term"][5] == ["clamp_param", "temperature", 0, 0.5]


def test_cached_tokens_use_the_cached_price_when_the_catalog_has_one(router, fake_upstream):  # noqa: F811
    only_pricey = policy(filter_term=["cmp", "id", "eq", "m-pricey"])
    fake_upstream.script("fake-pricey", "cached:40")
    trace = create(router, policy_ir=only_pricey).parse().model_extra["trace"]
    usage = trace["usage"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 40
    assert trace["cost"] == pytest.approx(expected_cost(usage, 2.0, 3.0, 0.25))
    fake_upstream.script("fake-cheap", "cached:40")
    only_cheap = policy(filter_term=["cmp", "id", "eq", "m-cheap"])
    trace = create(router, policy_ir=only_cheap).parse().model_extra["trace"]
    assert trace["cost"] == pytest.approx(expected_cost(trace["usage"], 0.5, 1.0))  # no cached price: price_in


def test_sample_selector_records_the_seed_it_used(router, fake_upstream):  # noqa: F811
    sampled = policy(select=["sample", 0.5])
    client = router.openai(default_headers={"x-unhardcoded-seed": "12345"})
    first = client.chat.completions.create(model="policy:s", messages=USER, extra_body={"policy_ir": sampled})
    second = client.chat.completions.create(model="policy:s", messages=USER, extra_body={"policy_ir": sampled})
    t1, t2 = first.model_extra["trace"], second.model_extra["trace"]
    assert t1["seed"] == t2["seed"] == 12345
    assert t1["cascade"] == t2["cascade"]
    drawn = create(router, policy_ir=sampled).parse().model_extra["trace"]
    assert isinstance(drawn["seed"], int)


# --- streaming ------------------------------------------------------------------------------------

def _stream(router, **kwargs):
    kwargs.setdefault("model", "policy:stream")
    kwargs.setdefault("messages", USER)
    extra = {"policy_ir": kwargs.pop("policy_ir", POLICY)}
    return router.openai().chat.completions.with_raw_response.create(stream=True, extra_body=extra, **kwargs)


def test_stream_carries_the_trace_on_the_finish_chunk(router, fake_upstream):  # noqa: F811
    raw = _stream(router)
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: where is my parcel"
    with_trace = [c for c in chunks if (c.model_extra or {}).get("trace")]
    assert len(with_trace) == 1 and with_trace[0] is chunks[-1]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(c.choices for c in chunks)  # no usage-only chunk the client did not ask for
    trace = chunks[-1].model_extra["trace"]
    assert raw.headers["x-unhardcoded-trace-id"] == trace["trace"]
    assert raw.headers["x-unhardcoded-selected"] == trace["selected"] == "m-notools"
    assert trace["usage"]["completion_tokens"] > 0  # collected even though the client did not ask
    assert trace["cost"] == pytest.approx(expected_cost(trace["usage"], 0.05, 0.05))
    assert stored(router, trace["trace"]) == trace


def test_stream_with_include_usage_puts_the_trace_on_the_usage_chunk(router, fake_upstream):  # noqa: F811
    chunks = list(_stream(router, stream_options={"include_usage": True}).parse())
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    trace = last.model_extra["trace"]
    assert trace["usage"]["prompt_tokens"] == last.usage.prompt_tokens
    assert sum(1 for c in chunks if (c.model_extra or {}).get("trace")) == 1
    assert chunks[-2].choices[0].finish_reason == "stop"


# --- failover (non-streaming) ---------------------------------------------------------------------

FAILURES = [
    ("status:429", "rate_limited", 429),
    ("status:500", "server_error", 500),
    ("status:503", "server_error", 503),
    ("status:401", "auth", 401),
    ("status:404", "not_found", 404),
    ("reset", "connect", None),
    ("malformed", "bad_response", 200),
    ("incomplete", "bad_response", 200),
    ("delay:2.5", "timeout", None),
]


@pytest.mark.parametrize("behaviour, cause, status", FAILURES)
def test_failover_records_the_hop(router, fake_upstream, behaviour, cause, status):  # noqa: F811
    fake_upstream.script("fake-notools", behaviour, times=1)
    raw = create(router)
    completion = raw.parse()
    trace = completion.model_extra["trace"]
    assert trace["selected"] == "m-cheap" == raw.headers["x-unhardcoded-selected"]
    assert completion.choices[0].message.content == "Echo: where is my parcel"
    (hop,) = trace["fallback"]
    assert (hop["from"], hop["to"], hop["cause"]) == ("m-notools", "m-cheap", cause)
    if status is not None and status != 200:
        assert hop["status"] == status
    assert hop["latency_ms"] > 0 and hop["message"]
    assert "after 1 failover" in trace["reason"]
    assert trace["cost"] == pytest.approx(expected_cost(trace["usage"], 0.5, 1.0))
    assert [r.model for r in fake_upstream.requests] == ["fake-notools", "fake-cheap"]
    assert stored(router, trace["trace"])["fallback"] == trace["fallback"]


def test_every_candidate_failing_is_a_502_with_the_trace(router, fake_upstream):  # noqa: F811
    fake_upstream.script("*", "status:503")
    with pytest.raises(openai.InternalServerError) as info:
        create(router)
    err = info.value
    assert err.status_code == 502
    body = err.body
    assert body["code"] == "provider_error" and body["trace_id"] in body["message"]
    trace = body["trace"]
    assert trace["status"] == "error" and trace["selected"] is None
    assert [(h["from"], h["to"], h["cause"]) for h in trace["fallback"]] == [
        ("m-notools", "m-cheap", "server_error"), ("m-cheap", "m-mid", "server_error"),
        ("m-mid", "m-pricey", "server_error"), ("m-pricey", None, "server_error")]
    assert err.response.headers["x-unhardcoded-trace-id"] == body["trace_id"]
    assert stored(router, body["trace_id"]) == trace


def test_a_rejected_request_does_not_fail_over(router, fake_upstream):  # noqa: F811
    fake_upstream.script("fake-notools", "status:400", times=1)
    with pytest.raises(openai.BadRequestError) as info:
        create(router)
    body = info.value.body
    assert body["code"] == "invalid_request"
    assert [h["cause"] for h in body["trace"]["fallback"]] == ["bad_request"]
    assert len(fake_upstream.requests) == 1


def test_no_candidates_is_400_with_verdicts(router, fake_upstream):  # noqa: F811
    impossible = policy(filter_term=["cmp", "price_out", "lt", 0.01])
    with pytest.raises(openai.BadRequestError) as info:
        create(router, policy_ir=impossible)
    body = info.value.body
    assert body["code"] == "no_candidates"
    assert {v["model"] for v in body["verdicts"]} == {m["id"] for m in MODELS}
    assert all(v["status"] == "rejected" for v in body["verdicts"])
    assert verdict({"candidates": body["verdicts"]}, "m-cheap")["dropped_by"]["path"] == "/2"
    assert "/2" in body["message"]
    assert stored(router, body["trace_id"])["status"] == "error"
    assert fake_upstream.requests == []


# --- failover (streaming) -------------------------------------------------------------------------

STREAM_EARLY = [
    ("stall_after:1", "timeout"),
    ("drop_after:1", "stream_dropped"),
    ("reset_after:1", "stream_dropped"),
    ("reset", "connect"),
    ("status:429", "rate_limited"),
    ("malformed", "bad_response"),
]


@pytest.mark.parametrize("behaviour, cause", STREAM_EARLY)
def test_stream_fails_over_before_the_first_content_byte(router, fake_upstream, behaviour, cause):  # noqa: F811
    fake_upstream.script("fake-notools", behaviour, times=1)
    raw = _stream(router)
    chunks = list(raw.parse())
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: where is my parcel"
    trace = chunks[-1].model_extra["trace"]
    assert trace["selected"] == "m-cheap" == raw.headers["x-unhardcoded-selected"]
    assert [(h["from"], h["to"], h["cause"]) for h in trace["fallback"]] == [("m-notools", "m-cheap", cause)]
    assert trace["status"] == "ok"
    assert stored(router, trace["trace"]) == trace


@pytest.mark.parametrize("behaviour", ["drop_after:3", "reset_after:3", "stall_after:3", "error_after:3"])
def test_stream_failure_after_first_content_ends_with_an_error_event(router, fake_upstream, behaviour):  # noqa: F811
    fake_upstream.script("fake-notools", behaviour, times=1)
    body = {"model": "policy:stream", "messages": USER, "stream": True, "policy_ir": POLICY}
    res = router.http().post("/v1/chat/completions", json=body)
    assert res.status_code == 200
    events = [line[len("data: "):] for line in res.text.split("\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    error = json.loads(events[-2])["error"]
    assert error["code"] == "provider_error"
    content = "".join(json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events[:-2])
    assert content and "Echo: where is my parcel".startswith(content)
    trace = error["trace"]
    assert trace["status"] == "error" and trace["selected"] == "m-notools" and trace["fallback"] == []
    assert trace["error"]["after_first_byte"] is True
    assert res.headers["x-unhardcoded-trace-id"] == error["trace_id"] == trace["trace"]
    assert stored(router, trace["trace"]) == trace
    assert len(fake_upstream.requests) == 1  # no failover once content reached the client


def test_sdk_raises_on_the_error_event(router, fake_upstream):  # noqa: F811
    fake_upstream.script("fake-notools", "drop_after:3", times=1)
    stream = _stream(router).parse()
    with pytest.raises(openai.APIError) as info:
        for _ in stream:
            pass
    assert info.value.body["trace"]["error"]["code"] == "provider_error"


def test_stream_with_every_candidate_failing_is_a_plain_502(router, fake_upstream):  # noqa: F811
    fake_upstream.script("*", "status:500")
    with pytest.raises(openai.InternalServerError) as info:
        _stream(router)
    assert info.value.status_code == 502
    assert len(info.value.body["trace"]["fallback"]) == 4


# --- the overall deadline -------------------------------------------------------------------------

def test_overall_deadline_stops_the_cascade(fake_upstream, tmp_path):  # noqa: F811
    catalog = write_catalog(tmp_path / "catalog.json", MODELS)
    with running_router(tmp_path, env=env_for(fake_upstream), providers=providers_for(fake_upstream),
                        catalog=catalog,
                        timeouts={"connect": 1.0, "stall": 0.6, "attempt": 5.0, "overall": 1.0}) as server:
        fake_upstream.script("*", "delay:3")
        with pytest.raises(openai.InternalServerError) as info:
            create(server)
    trace = info.value.body["trace"]
    assert len(trace["fallback"]) == 2  # the second attempt is cut short by the 1s overall limit
    assert all(h["cause"] == "timeout" for h in trace["fallback"])
    assert "overall time limit" in info.value.body["message"]
    assert trace["latency_ms"] < 2500


def test_unreachable_provider_fails_over(fake_upstream, tmp_path):  # noqa: F811
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # closed again when the block ends: nothing listens there
    catalog = write_catalog(tmp_path / "catalog.json", MODELS)
    providers = providers_for(fake_upstream)
    providers["openai"] = {"base_url": f"http://127.0.0.1:{dead}/v1"}
    with running_router(tmp_path, env=env_for(fake_upstream), providers=providers, catalog=catalog,
                        timeouts={"connect": 1.0, "stall": 1.0, "attempt": 5.0, "overall": 10.0}) as server:
        trace = create(server).parse().model_extra["trace"]
    assert trace["selected"] == "m-mid"
    assert [(h["from"], h["cause"]) for h in trace["fallback"]] == [("m-notools", "connect"), ("m-cheap", "connect")]


def test_store_failure_still_answers_with_the_trace(router, fake_upstream, monkeypatch, caplog):  # noqa: F811
    def full(*args, **kwargs):
        raise OSError("database or disk is full")

    monkeypatch.setattr(router.host.store, "save_trace", full)
    with caplog.at_level("ERROR", logger="unhardcoded.server"):
        completion = create(router).parse()
    trace = completion.model_extra["trace"]
    assert trace["status"] == "ok" and completion.choices[0].message.content
    assert any("could not persist trace" in r.getMessage() for r in caplog.records)
