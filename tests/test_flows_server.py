"""Workflows end to end: flow_ir on POST /v1/chat/completions through the official openai SDK, a real
router on 127.0.0.1, and provider adapters talking to the fake OpenAI/Anthropic/Gemini upstreams."""
from __future__ import annotations

import json
import time

import openai
import pytest

from fakes.fixtures import fake_upstream, fake_upstream_server  # noqa: F401
from server_fixtures import model, policy, running_router, write_catalog

USER = [{"role": "user", "content": "where is my parcel"}]
LABEL = "flow:support"
MODELS = [
    model("o-mini", "openai", 0.1, 0.4, bench_intelligence=0.45, meta={"upstream": "fake-o-mini"}),
    model("g-flash", "gemini", 0.3, 1.2, bench_intelligence=0.48, meta={"upstream": "fake-g-flash"}),
    model("c-mid", "anthropic", 1.0, 4.0, bench_intelligence=0.52, meta={"upstream": "fake-c-mid"}),
    model("o-big", "openai", 2.0, 8.0, bench_intelligence=0.56, meta={"upstream": "fake-o-big"}),
    model("c-top", "anthropic", 5.0, 25.0, bench_intelligence=0.6, meta={"upstream": "fake-c-top"}),
]
CHEAPEST = policy()
STRONGEST = policy(rank=["field", "bench_intelligence"])


def only(model_id: str) -> list:
    return policy(["cmp", "id", "eq", model_id], ["zero"])


def llm(system: str, inputs: list[str], pol: list, template: str | None = None) -> dict:
    node = {"kind": "llm", "system": system, "policy": pol, "inputs": inputs}
    if template is not None:
        node["template"] = template
    return node


def flow_ir(nodes: dict, output: str) -> list:
    return ["flow", {"u": {"kind": "input"}, **nodes, "out": {"kind": "output", "inputs": [output]}}]


DCR = flow_ir({
    "draft": llm("Draft an answer.", ["u"], CHEAPEST),
    "critique": llm("List the concrete flaws in the draft.", ["draft"], STRONGEST),
    "revise": llm("Rewrite the answer, fixing every point.", ["u", "draft", "critique"], STRONGEST,
                  "Q:\n$1\n\nDraft:\n$2\n\nCritique:\n$3"),
}, "revise")
DRAFT = "Echo: where is my parcel"
CRITIQUE = "Echo: " + DRAFT
REVISED = f"Echo: Q:\nwhere is my parcel\n\nDraft:\n{DRAFT}\n\nCritique:\n{CRITIQUE}"


@pytest.fixture(scope="module")
def router(fake_upstream_server, tmp_path_factory):  # noqa: F811
    tmp = tmp_path_factory.mktemp("flows")
    fake = fake_upstream_server
    providers = {kind: {"base_url": fake.url_for(kind)} for kind in ("openai", "anthropic", "gemini")}
    env = {"OPENAI_API_KEY": fake.keys["openai"], "ANTHROPIC_API_KEY": fake.keys["anthropic"],
           "GEMINI_API_KEY": fake.keys["gemini"]}
    with running_router(tmp, env=env, providers=providers, catalog=write_catalog(tmp / "catalog.json", MODELS),
                        timeouts={"connect": 1.0, "stall": 8.0, "attempt": 10.0, "overall": 20.0}) as server:
        yield server


def create(router, flow: list, **kwargs):
    kwargs.setdefault("model", LABEL)
    kwargs.setdefault("messages", USER)
    return router.openai().chat.completions.with_raw_response.create(extra_body={"flow_ir": flow}, **kwargs)


def post(router, path: str, body: dict):
    return router.http().post(path, json=body)


def stored(router, trace_id: str) -> dict:
    res = router.http().get(f"/x/traces/{trace_id}")
    assert res.status_code == 200, res.text
    return res.json()


def text_of(content) -> str:
    """Anthropic content: a string or a list of text blocks."""
    return content if isinstance(content, str) else "".join(b["text"] for b in content)


def entries(trace: dict) -> dict[str, dict]:
    return {e["node"]: e for e in trace["nodes"]}


def test_flow_call_returns_the_final_answer_with_one_stitched_trace(router, fake_upstream):  # noqa: F811
    raw = create(router, DCR, temperature=0.4)
    completion = raw.parse()
    assert completion.object == "chat.completion" and completion.model == LABEL
    assert completion.choices[0].message.content == REVISED
    trace = completion.model_extra["trace"]
    assert raw.headers["x-unhardcoded-trace-id"] == trace["trace"]
    assert raw.headers["x-unhardcoded-selected"] == "c-top"

    assert trace["kind"] == "flow" and trace["label"] == LABEL and trace["status"] == "ok"
    assert trace["flow"]["fingerprint"].startswith("flow_") and trace["flow"]["version"] == "flow_ir/v1"
    assert trace["flow"]["term"] == DCR
    assert trace["order"] == ["u", "draft", "critique", "revise", "out"]
    assert [e["node"] for e in trace["nodes"]] == ["u", "draft", "critique", "revise", "out"]
    nodes = entries(trace)
    assert (nodes["draft"]["selected"], nodes["critique"]["selected"], nodes["revise"]["selected"]) == (
        "o-mini", "c-top", "c-top")
    assert trace["selected"] == {"draft": "o-mini", "critique": "c-top", "revise": "c-top"}
    for node_id in ("draft", "critique", "revise"):
        entry = nodes[node_id]
        assert entry["kind"] == "llm" and entry["status"] == "ok" and entry["fallback"] == []
        assert len(entry["candidates"]) == len(MODELS) and entry["reason"]
        assert entry["policy"]["term"] in (CHEAPEST, STRONGEST)
        assert entry["cost"] > 0 and entry["usage"]["completion_tokens"] > 0
    assert nodes["revise"]["inputs"] == ["u", "draft", "critique"]
    assert trace["cost"] == pytest.approx(sum(nodes[n]["cost"] for n in ("draft", "critique", "revise")))
    assert completion.usage.completion_tokens == trace["usage"]["completion_tokens"] == sum(
        nodes[n]["usage"]["completion_tokens"] for n in ("draft", "critique", "revise"))
    assert trace["billable_runs"] == 1
    assert stored(router, trace["trace"]) == trace

    # What each node sent: its own system prompt, then the conversation or its rendered inputs.
    sent = {r.model: r for r in fake_upstream.requests}
    assert set(sent) == {"fake-o-mini", "fake-c-top"}
    draft = sent["fake-o-mini"].json
    assert draft["messages"] == [{"role": "system", "content": "Draft an answer."}, *USER]
    assert draft["temperature"] == 0.4 and "flow_ir" not in draft
    revise = [r.json for r in fake_upstream.requests_for("fake-c-top")][-1]  # Anthropic wire format
    assert text_of(revise["system"]) == "Rewrite the answer, fixing every point."
    assert [m["role"] for m in revise["messages"]] == ["user"]
    assert text_of(revise["messages"][0]["content"]) == REVISED[len("Echo: "):]


def test_streamed_flow_streams_only_the_final_node(router, fake_upstream):  # noqa: F811
    stream = router.openai().chat.completions.create(model=LABEL, messages=USER, stream=True,
                                                     stream_options={"include_usage": True},
                                                     extra_body={"flow_ir": DCR})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == REVISED
    assert {c.model for c in chunks} == {LABEL} and len({c.id for c in chunks}) == 1
    last = chunks[-1]
    trace = last.model_extra["trace"]
    assert trace["kind"] == "flow" and trace["status"] == "ok"
    assert last.usage.completion_tokens == trace["usage"]["completion_tokens"]
    assert [e["node"] for e in trace["nodes"]] == ["u", "draft", "critique", "revise", "out"]
    assert [(r.model, r.stream) for r in fake_upstream.requests] == [
        ("fake-o-mini", False), ("fake-c-top", False), ("fake-c-top", True)]
    assert stored(router, trace["trace"]) == trace


def test_a_final_node_failing_mid_stream_ends_the_stream_with_the_error(router, fake_upstream):  # noqa: F811
    fake_upstream.script("fake-c-top", "reset_after:4")
    fake_upstream.script("fake-c-top", "ok", times=1)  # critique answers; revise's stream breaks
    events = []
    with router.http().stream("POST", "/v1/chat/completions",
                              json={"model": LABEL, "messages": USER, "stream": True, "flow_ir": DCR}) as res:
        assert res.status_code == 200
        for line in res.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                events.append(json.loads(line[len("data: "):]))
    assert any(e.get("choices") for e in events)  # content reached the caller before the break
    error = events[-1]["error"]
    assert error["code"] == "provider_error"
    trace = stored(router, error["trace_id"])
    assert trace["status"] == "error" and trace["error"]["node"] == "revise"
    assert {e["node"]: e["status"] for e in trace["nodes"]} == {"u": "ok", "draft": "ok", "critique": "ok",
                                                               "revise": "error"}


def test_each_node_fails_over_on_its_own(router, fake_upstream):  # noqa: F811
    fake_upstream.script("fake-o-mini", "status:500")
    completion = create(router, DCR).parse()
    assert completion.choices[0].message.content == REVISED
    nodes = entries(completion.model_extra["trace"])
    assert nodes["draft"]["selected"] == "g-flash"
    assert [(h["from"], h["to"], h["cause"]) for h in nodes["draft"]["fallback"]] == [
        ("o-mini", "g-flash", "server_error")]
    assert nodes["critique"]["fallback"] == [] and nodes["revise"]["fallback"] == []


def test_a_failed_node_fails_the_call_naming_it_and_cancels_the_rest(router, fake_upstream):  # noqa: F811
    fake_upstream.script("fake-g-flash", "status:500")
    fake_upstream.script("fake-c-mid", "delay:6")
    flow = flow_ir({"fast": llm("F", ["u"], only("o-mini")), "bad": llm("B", ["fast"], only("g-flash")),
                    "slow": llm("S", ["u"], only("c-mid")), "join": llm("J", ["bad", "slow"], CHEAPEST)}, "join")
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as info:
        create(router, flow)
    assert time.monotonic() - started < 5  # the slow branch was cancelled, not awaited
    assert info.value.status_code == 502
    error = info.value.body if "code" in info.value.body else info.value.body["error"]
    assert error["code"] == "provider_error" and error["node"] == "bad"
    trace = stored(router, error["trace_id"])
    assert trace["status"] == "error" and trace["error"]["node"] == "bad"
    nodes = entries(trace)
    assert {n: e["status"] for n, e in nodes.items()} == {"u": "ok", "fast": "ok", "bad": "error",
                                                         "slow": "cancelled"}
    assert nodes["fast"]["cost"] > 0 and trace["cost"] == pytest.approx(nodes["fast"]["cost"])
    assert [h["cause"] for h in nodes["bad"]["fallback"]] == ["server_error"]
    assert trace["skipped"] == ["join", "out"]


def test_a_node_without_candidates_is_a_400_naming_it(router, fake_upstream):  # noqa: F811
    flow = flow_ir({"a": llm("A", ["u"], CHEAPEST),
                    "b": llm("B", ["a"], policy(["cmp", "bench_intelligence", "ge", 0.99]))}, "b")
    res = post(router, "/v1/chat/completions", {"model": LABEL, "messages": USER, "flow_ir": flow})
    assert res.status_code == 400
    error = res.json()["error"]
    assert (error["code"], error["node"]) == ("no_candidates", "b")
    assert entries(error["trace"])["a"]["status"] == "ok"
    assert [r.model for r in fake_upstream.requests] == ["fake-o-mini"]


def test_limits_are_enforced_before_any_token_is_spent(router, fake_upstream):  # noqa: F811
    nodes = {f"n{i:03d}": llm("N", ["u"], CHEAPEST) for i in range(254)}
    nodes["last"] = llm("L", ["n000"], CHEAPEST)
    res = post(router, "/v1/chat/completions", {"model": LABEL, "messages": USER, "flow_ir": flow_ir(nodes, "last")})
    assert res.status_code == 400 and res.json()["error"]["code"] == "invalid_flow"
    assert res.json()["error"]["rule"] == "node_limit"
    wide = {f"n{i:02d}": llm("N", ["u"], CHEAPEST) for i in range(33)}
    wide["last"] = llm("L", sorted(wide), CHEAPEST)
    res = post(router, "/v1/chat/completions", {"model": LABEL, "messages": USER, "flow_ir": flow_ir(wide, "last")})
    assert res.status_code == 400
    assert (res.json()["error"]["rule"], res.json()["error"]["node"]) == ("in_degree", "last")
    assert fake_upstream.requests == []


def test_normalize_previews_what_each_node_would_pick(router, fake_upstream):  # noqa: F811
    flow = flow_ir({"draft": llm("D", ["u"], CHEAPEST), "check": llm("C", ["draft"], STRONGEST),
                    "never": llm("N", ["check"], policy(["cmp", "region", "eq", "eu"]))}, "never")
    res = post(router, "/x/flow/normalize", {"flow_ir": flow})
    assert res.status_code == 200, res.text
    preview = {p["node"]: p for p in res.json()["preview"]}
    assert list(preview) == ["draft", "check", "never"]
    assert (preview["draft"]["winner"], preview["draft"]["cascade_head"]) == ("o-mini", ["o-mini", "g-flash", "c-mid"])
    assert preview["check"]["winner"] == "c-top" and preview["check"]["counts"]["rejected"] == 0
    never = preview["never"]
    assert never["status"] == "no_candidates" and never["counts"]["rejected"] == len(MODELS)
    assert never["dropped_by"] == [{"path": "/2", "term": ["cmp", "region", "eq", "eu"], "count": len(MODELS)}]
    assert fake_upstream.requests == []


def test_a_flow_trace_replays_node_by_node(router, fake_upstream):  # noqa: F811
    trace = create(router, DCR).parse().model_extra["trace"]
    res = post(router, "/x/replay", {"trace_id": trace["trace"]})
    assert res.status_code == 200, res.text
    replay = res.json()
    assert replay["kind"] == "flow" and replay["reproduced"] is True and replay["complete"] is True
    assert [(n["node"], n["reproduced"]) for n in replay["nodes"]] == [
        ("draft", True), ("critique", True), ("revise", True)]
    assert replay["nodes"][0]["winner"] == {"recorded": "o-mini", "replayed": "o-mini"}
    now = post(router, "/x/replay", {"trace_id": trace["trace"], "against": "current"}).json()
    assert now["changed"] is False and all(n["current"]["changed"] is False for n in now["nodes"])
