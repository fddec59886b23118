"""flow_ir on POST /v1/chat/completions: every llm node routed by its own policy through the same
engine, one stitched trace persisted and replayable, streaming of the final node."""
from __future__ import annotations

import openai
import pytest
from fakes.fixtures import fake_upstream, fake_upstream_server  # noqa: F401
from server_fixtures import model, policy, running_router, write_catalog

USER = [{"role": "user", "content": "my order is late"}]
CHEAPEST = policy()
ONLY_MID = policy(filter_term=["cmp", "id", "eq", "m-mid"])

FLOW = ["flow", {
    "u": {"kind": "input"},
    "draft": {"kind": "llm", "system": "Draft a reply.", "policy": CHEAPEST, "inputs": ["u"]},
    "polish": {"kind": "llm", "system": "Polish the reply.", "policy": ONLY_MID, "inputs": ["draft"]},
    "out": {"kind": "output", "inputs": ["polish"]},
}]


@pytest.fixture(scope="module")
def router(fake_upstream_server, tmp_path_factory):  # noqa: F811
    tmp = tmp_path_factory.mktemp("flows")
    fake = fake_upstream_server
    catalog = write_catalog(tmp / "catalog.json", [
        model("m-cheap", "openai", 0.5, 1.0, meta={"upstream": "fake-cheap"}),
        model("m-mid", "anthropic", 1.0, 2.0, meta={"upstream": "fake-mid"}),
        model("m-pricey", "openai", 2.0, 3.0, meta={"upstream": "fake-pricey"}),
    ])
    env = {"OPENAI_API_KEY": fake.keys["openai"], "ANTHROPIC_API_KEY": fake.keys["anthropic"]}
    providers = {"openai": {"base_url": fake.url_for("openai")}, "anthropic": {"base_url": fake.url_for("anthropic")}}
    with running_router(tmp, env=env, providers=providers, catalog=catalog,
                        timeouts={"connect": 1.0, "stall": 1.0, "attempt": 5.0, "overall": 10.0}) as server:
        yield server


def run(router, **kwargs):
    return router.openai().chat.completions.with_raw_response.create(
        model="flow:support", messages=USER, extra_body={"flow_ir": kwargs.pop("flow", FLOW)}, **kwargs)


def test_flow_call_returns_one_stitched_trace(router, fake_upstream):  # noqa: F811
    raw = run(router)
    completion = raw.parse()
    trace = completion.model_extra["trace"]
    assert trace["kind"] == "flow" and trace["label"] == "flow:support" and trace["object"] == "trace"
    assert trace["flow"]["fingerprint"] == raw.headers["x-unhardcoded-policy"]
    assert trace["selected"] == {"draft": "m-cheap", "polish": "m-mid"}
    assert raw.headers["x-unhardcoded-selected"] == "m-mid"
    assert raw.headers["x-unhardcoded-trace-id"] == trace["trace"]
    llm = [n for n in trace["nodes"] if n["kind"] == "llm"]
    assert [n["node"] for n in llm] == ["draft", "polish"]
    assert all(n["policy"]["fingerprint"].startswith("pol_") and n["candidates"] for n in llm)
    assert [r.model for r in fake_upstream.requests] == ["fake-cheap", "fake-mid"]
    assert completion.choices[0].message.content.startswith("Echo:")
    assert trace["cost"] == pytest.approx(sum(n["cost"] for n in llm))
    stored = router.http().get(f"/x/traces/{trace['trace']}").json()
    assert stored == trace
    listed = router.http().get("/x/traces", params={"label": "flow:support", "limit": 1}).json()["data"][0]
    assert listed["kind"] == "flow" and listed["policy"] == trace["flow"]["fingerprint"]


def test_flow_node_fails_over_inside_the_flow(router, fake_upstream):  # noqa: F811
    fake_upstream.script("fake-cheap", "status:503", times=1)
    trace = run(router).parse().model_extra["trace"]
    draft = next(n for n in trace["nodes"] if n["node"] == "draft")
    assert draft["selected"] == "m-mid"
    assert [(h["from"], h["to"], h["cause"]) for h in draft["fallback"]] == [("m-cheap", "m-mid", "server_error")]


def test_flow_streams_the_final_node_with_the_trace_last(router, fake_upstream):  # noqa: F811
    raw = run(router, stream=True)
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("Echo:")
    trace = chunks[-1].model_extra["trace"]
    assert trace["kind"] == "flow" and trace["status"] == "ok"
    assert router.http().get(f"/x/traces/{trace['trace']}").json() == trace


def test_failed_flow_is_an_error_with_the_trace(router, fake_upstream):  # noqa: F811
    fake_upstream.script("fake-mid", "status:500")
    with pytest.raises(openai.InternalServerError) as info:
        run(router)
    body = info.value.body
    assert body["code"] == "provider_error" and body["node"] == "polish"
    trace = body["trace"]
    assert trace["kind"] == "flow" and trace["status"] == "error"
    assert router.http().get(f"/x/traces/{body['trace_id']}").json() == trace


def test_flow_trace_replays(router, fake_upstream):  # noqa: F811
    trace = run(router).parse().model_extra["trace"]
    out = router.http().post("/x/replay", json={"trace_id": trace["trace"]}).json()
    assert out["object"] == "replay" and out["kind"] == "flow"
    assert out["reproduced"] is True
    assert [n["node"] for n in out["nodes"]] == ["draft", "polish"]
    current = router.http().post("/x/replay", json={"trace_id": trace["trace"], "against": "current"}).json()
    assert current["reproduced"] is True and current["changed"] is False
    rejected = router.http().post("/x/replay", json={"trace_id": trace["trace"], "policy_ir": CHEAPEST})
    assert rejected.status_code == 400 and rejected.json()["error"]["param"] == "policy_ir"


def test_invalid_flow_is_400_with_the_node(router):
    bad = ["flow", {"u": {"kind": "input"}, "a": {"kind": "llm", "system": "x", "policy": policy(rank=["fild"]),
                                                  "inputs": ["u"]}, "out": {"kind": "output", "inputs": ["a"]}}]
    with pytest.raises(openai.BadRequestError) as info:
        run(router, flow=bad)
    body = info.value.body
    assert body["code"] == "invalid_policy" and body["param"] == "/flow_ir/1/a/policy/3/0"
    assert body["node"] == "a" and body["did_you_mean"] == "field"
