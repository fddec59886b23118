"""flow_ir execution in process: the real Engine and core over scripted in-process adapters, so
concurrency, failover and cancellation can be observed exactly (HTTP end to end is in
test_flows_server.py and test_presets.py)."""
from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import unhardcoded as uh
from unhardcoded.flows import FlowFailed, preview_flow, replay_flow, run_flow
from unhardcoded.providers.base import ProviderError
from unhardcoded.router.engine import Engine

pytestmark = pytest.mark.anyio

NEXT = ["always", {"action": "next_candidate"}]
MODELS = [
    {"id": "a-cheap", "provider": "alpha", "family": "a", "price_in": 0.1, "price_out": 0.4, "context": 128000,
     "max_output": 16000, "bench_intelligence": 0.45, "cap_tools": True, "cap_json": True,
     "capabilities": ["supports_tools", "supports_json_mode"]},
    {"id": "a-mid", "provider": "alpha", "family": "a", "price_in": 1, "price_out": 4, "context": 200000,
     "max_output": 32000, "bench_intelligence": 0.55, "cap_tools": True, "cap_json": True,
     "capabilities": ["supports_tools", "supports_json_mode"]},
    {"id": "b-mid", "provider": "beta", "family": "b", "price_in": 0.5, "price_out": 2, "context": 1000000,
     "max_output": 64000, "bench_intelligence": 0.5, "cap_tools": True,
     "capabilities": ["supports_tools"]},
    {"id": "b-strong", "provider": "beta", "family": "b", "price_in": 5, "price_out": 25, "context": 1000000,
     "max_output": 64000, "bench_intelligence": 0.62, "cap_tools": True, "cap_json": True,
     "capabilities": ["supports_tools", "supports_json_mode"]},
]


def catalog_of(models: list[dict]) -> uh.Catalog:
    return uh.Catalog.from_json(json.dumps({"format": "unhardcoded-catalog/v1", "models": models}))


def policy(filter_: Any = ("meets_req",), rank: Any = ("neg", ("normalize", ("field", "price_out"))),
           select: Any = ("argmax",), mutate: Any = ("id",)) -> list:
    return json.loads(json.dumps(["policy", ["ev_zero"], filter_, rank, select, mutate, NEXT]))


CHEAPEST = policy()
STRONGEST = policy(rank=["field", "bench_intelligence"])


def only(model_id: str) -> list:
    return policy(["cmp", "id", "eq", model_id], ["zero"])


def llm(system: str, inputs: list[str], pol: list | None = None, template: str | None = None) -> dict:
    node = {"kind": "llm", "system": system, "policy": pol or CHEAPEST, "inputs": inputs}
    if template is not None:
        node["template"] = template
    return node


def flow_of(nodes: dict, output: str) -> uh.Flow:
    return uh.Flow.admit(json.dumps(["flow", {"u": {"kind": "input"}, **nodes,
                                              "out": {"kind": "output", "inputs": [output]}}]))


def reply_text(upstream: str, request: dict) -> str:
    return f"<{request['messages'][0]['content']}@{upstream}>"


USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}


class Scripted:
    """An adapter answering in process. `hold[model]` is an Event the call waits for; calls to a
    model in `fail`, or from a node whose system prompt is in `fail_systems`, raise a retryable
    server error; every call is recorded with the request it received."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[tuple[str, dict]] = []
        self.fail: set[str] = set()
        self.fail_systems: set[str] = set()
        self.hold: dict[str, asyncio.Event] = {}
        self.entered: dict[str, asyncio.Event] = {}
        self.cancelled: list[str] = []

    def _entered(self, model: str) -> asyncio.Event:
        return self.entered.setdefault(model, asyncio.Event())

    async def _gate(self, model: str, request: dict) -> None:
        self.calls.append((model, request))
        self._entered(model).set()
        gate = self.hold.get(model)
        if gate is not None:
            try:
                await gate.wait()
            except asyncio.CancelledError:
                self.cancelled.append(model)
                raise
        if model in self.fail or request["messages"][0]["content"] in self.fail_systems:
            raise ProviderError("server_error", 503, None, f"{self.name}: upstream unavailable")

    async def complete(self, upstream_model: str, request: dict) -> dict:
        await self._gate(upstream_model, request)
        return {"id": "up-1", "object": "chat.completion", "model": upstream_model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": reply_text(upstream_model, request)}}],
                "usage": dict(USAGE)}

    async def stream(self, upstream_model: str, request: dict):
        await self._gate(upstream_model, request)
        text = reply_text(upstream_model, request)
        base = {"id": "up-1", "object": "chat.completion.chunk", "model": upstream_model}
        yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
        for piece in (text[: len(text) // 2], text[len(text) // 2:]):
            yield {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        yield {**base, "choices": [], "usage": dict(USAGE)}


@pytest.fixture
def alpha() -> Scripted:
    return Scripted("alpha")


@pytest.fixture
def beta() -> Scripted:
    return Scripted("beta")


@pytest.fixture
def engine(alpha: Scripted, beta: Scripted) -> Engine:
    return Engine(catalog_of(MODELS), {"alpha": alpha, "beta": beta})


def call(content: Any = "hello", **params: Any) -> dict:
    return {"model": "flow:test", "messages": [{"role": "user", "content": content}], **params}


def received(adapter: Scripted, system: str) -> dict:
    """The request the node with this system prompt sent."""
    matches = [req for _, req in adapter.calls if req["messages"][0]["content"] == system]
    assert len(matches) == 1, f"{system!r} was called {len(matches)} times"
    return matches[0]


def llm_entries(trace: dict) -> dict[str, dict]:
    return {e["node"]: e for e in trace["nodes"] if e["kind"] == "llm"}


# -- what a node receives ---------------------------------------------------------------------------

async def test_node_fed_by_input_gets_system_prompt_then_the_callers_conversation(engine, alpha):
    flow = flow_of({"a": llm("Answer briefly.", ["u"])}, "a")
    conversation = [{"role": "system", "content": "Caller rules."}, {"role": "user", "content": "first"},
                    {"role": "assistant", "content": "ok"}, {"role": "user", "content": "second"}]
    run = await run_flow(engine, flow, {"model": "flow:test", "messages": conversation})
    sent = received(alpha, "Answer briefly.")
    assert sent["messages"] == [{"role": "system", "content": "Answer briefly."}, *conversation]
    assert run.response["object"] == "chat.completion"
    assert run.response["model"] == "flow:test"
    assert run.response["choices"][0]["message"]["content"] == "<Answer briefly.@a-cheap>"
    assert run.response["usage"] == USAGE


async def test_fan_in_template_fills_inputs_in_order(engine, alpha, beta):
    flow = flow_of({
        "draft": llm("Draft an answer.", ["u"]),
        "critique": llm("List the flaws.", ["draft"], STRONGEST),
        "revise": llm("Rewrite it.", ["u", "draft", "critique"], STRONGEST,
                      template="Q:\n$1\n\nDraft:\n$2\n\nCritique:\n$3\n\nBudget: $$5"),
    }, "revise")
    run = await run_flow(engine, flow, call("What is 2+2?"))
    sent = received(beta, "Rewrite it.")
    assert sent["messages"] == [
        {"role": "system", "content": "Rewrite it."},
        {"role": "user", "content": "Q:\nWhat is 2+2?\n\nDraft:\n<Draft an answer.@a-cheap>\n\n"
                                    "Critique:\n<List the flaws.@b-strong>\n\nBudget: $5"}]
    assert received(beta, "List the flaws.")["messages"][1] == {
        "role": "user", "content": "<Draft an answer.@a-cheap>"}
    assert run.response["choices"][0]["message"]["content"] == "<Rewrite it.@b-strong>"
    assert [e["node"] for e in run.trace["nodes"]] == ["u", "draft", "critique", "revise", "out"]


async def test_several_inputs_without_template_are_joined_by_a_blank_line(engine, alpha):
    flow = flow_of({"x": llm("X", ["u"]), "y": llm("Y", ["u"]), "z": llm("Z", ["y", "x"])}, "z")
    await run_flow(engine, flow, call())
    assert received(alpha, "Z")["messages"][1]["content"] == "<Y@a-cheap>\n\n<X@a-cheap>"


async def test_input_node_contributes_the_last_user_message_text(engine, alpha):
    flow = flow_of({"a": llm("Echo.", ["u"], template="[$1]")}, "a")
    messages = [{"role": "user", "content": "old question"}, {"role": "assistant", "content": "old answer"},
                {"role": "user", "content": [{"type": "text", "text": "line one"},
                                             {"type": "image_url", "image_url": {"url": "data:,"}},
                                             {"type": "text", "text": "line two"}]}]
    await run_flow(engine, flow, {"model": "m", "messages": messages})
    assert received(alpha, "Echo.")["messages"] == [{"role": "system", "content": "Echo."},
                                                    {"role": "user", "content": "[line one\nline two]"}]


async def test_a_call_without_a_user_message_fails_before_any_token(engine, alpha, beta):
    flow = flow_of({"a": llm("A", ["u"], template="$1")}, "a")
    with pytest.raises(FlowFailed) as info:
        await run_flow(engine, flow, {"model": "m", "messages": [{"role": "system", "content": "only"}]})
    assert (info.value.code, info.value.status, info.value.node) == ("invalid_request", 400, "u")
    assert alpha.calls == [] and beta.calls == []
    assert info.value.trace["skipped"] == ["a", "out"]


async def test_call_parameters_reach_every_node_unless_its_policy_clamps_them(engine, alpha, beta):
    clamped = policy(["cmp", "provider", "eq", "beta"], mutate=["clamp_param", "temperature", 0, 0.2])
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    flow = flow_of({"a": llm("A", ["u"]), "b": llm("B", ["a"], clamped)}, "b")
    await run_flow(engine, flow, call(temperature=0.9, max_tokens=300, tools=tools, tool_choice="auto",
                                      stream_options={"include_usage": True}))
    first, last = received(alpha, "A"), received(beta, "B")
    assert (first["temperature"], first["max_tokens"]) == (0.9, 300)
    assert (last["temperature"], last["max_tokens"]) == (0.2, 300)
    # Tools shape the caller's answer: only the final node gets them; intermediate nodes exchange text.
    assert "tools" not in first and "tool_choice" not in first
    assert last["tools"] == tools and last["tool_choice"] == "auto"
    for sent in (first, last):
        assert not {"model", "flow_ir", "policy_ir", "stream", "stream_options"} & set(sent)


# -- scheduling ------------------------------------------------------------------------------------

async def test_independent_branches_run_concurrently(engine, alpha, beta):
    # Each branch waits until the other one has started: sequential execution would deadlock.
    flow = flow_of({"left": llm("L", ["u"], only("a-cheap")), "right": llm("R", ["u"], only("b-mid")),
                    "join": llm("J", ["left", "right"], only("a-mid"))}, "join")
    alpha.hold["a-cheap"] = beta._entered("b-mid")
    beta.hold["b-mid"] = alpha._entered("a-cheap")
    run = await asyncio.wait_for(run_flow(engine, flow, call()), timeout=5)
    assert run.trace["status"] == "ok"
    assert [e["node"] for e in run.trace["nodes"]][-2:] == ["join", "out"]


async def test_every_node_runs_once_and_the_trace_lists_completion_order(engine, alpha, beta):
    flow = flow_of({"slow": llm("S", ["u"], only("b-mid")), "fast": llm("F", ["u"], only("a-cheap")),
                    "end": llm("E", ["slow", "fast"], only("a-mid"))}, "end")
    release = asyncio.Event()
    beta.hold["b-mid"] = release

    async def release_after_fast() -> None:
        await alpha._entered("a-cheap").wait()
        await asyncio.sleep(0.02)
        release.set()

    helper = asyncio.create_task(release_after_fast())
    run = await run_flow(engine, flow, call())
    await helper
    assert run.trace["order"] == flow.order() == ["u", "fast", "slow", "end", "out"]
    assert [e["node"] for e in run.trace["nodes"]] == ["u", "fast", "slow", "end", "out"]
    assert len(alpha.calls) + len(beta.calls) == 3


async def test_nodes_ready_together_start_in_ascending_id_order(engine, alpha):
    flow = flow_of({"zed": llm("Z", ["u"]), "alpha": llm("A", ["u"]), "mid": llm("M", ["u"]),
                    "end": llm("E", ["zed", "alpha", "mid"])}, "end")
    await run_flow(engine, flow, call())
    assert [req["messages"][0]["content"] for _, req in alpha.calls] == ["A", "M", "Z", "E"]
    assert received(alpha, "E")["messages"][1]["content"] == "<Z@a-cheap>\n\n<A@a-cheap>\n\n<M@a-cheap>"


async def test_a_flow_without_llm_nodes_echoes_the_last_user_message(engine, alpha, beta):
    flow = uh.Flow.admit(json.dumps(["flow", {"u": {"kind": "input"}, "out": {"kind": "output", "inputs": ["u"]}}]))
    run = await run_flow(engine, flow, call("just this"))
    assert run.response["choices"][0]["message"] == {"role": "assistant", "content": "just this"}
    assert run.trace["status"] == "ok" and run.trace["cost"] is None and run.trace["billable_runs"] == 1
    assert [e["node"] for e in run.trace["nodes"]] == ["u", "out"]
    streamed = await run_flow(engine, flow, call("just this"), stream=True)
    chunks = [c async for c in streamed.chunks]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == "just this"
    assert alpha.calls == [] and beta.calls == []


async def test_each_node_routes_by_its_own_policy_with_its_own_failover(engine, alpha, beta):
    alpha.fail.add("a-cheap")
    flow = flow_of({"cheap": llm("C", ["u"]), "strong": llm("S", ["cheap"], STRONGEST)}, "strong")
    run = await run_flow(engine, flow, call())
    nodes = llm_entries(run.trace)
    assert nodes["cheap"]["cascade"][:2] == ["a-cheap", "b-mid"]
    assert nodes["cheap"]["selected"] == "b-mid"
    assert [(h["from"], h["to"], h["cause"]) for h in nodes["cheap"]["fallback"]] == [
        ("a-cheap", "b-mid", "server_error")]
    assert nodes["strong"]["selected"] == "b-strong" and nodes["strong"]["fallback"] == []
    assert run.trace["selected"] == {"cheap": "b-mid", "strong": "b-strong"}
    assert received(beta, "S")["messages"][1]["content"] == "<C@b-mid>"


# -- the stitched trace -----------------------------------------------------------------------------

async def test_stitched_trace_carries_every_nodes_decision_and_the_totals(engine):
    flow = flow_of({"a": llm("A", ["u"]), "b": llm("B", ["u"], STRONGEST), "c": llm("C", ["a", "b"])}, "c")
    run = await run_flow(engine, flow, call())
    trace = run.trace
    assert trace["kind"] == "flow" and trace["status"] == "ok" and trace["error"] is None
    assert trace["flow"] == {"fingerprint": flow.fingerprint, "version": "flow_ir/v1",
                             "term": json.loads(flow.canonical)}
    assert trace["catalog"]["fingerprint"] == engine.catalog.fingerprint
    nodes = llm_entries(trace)
    assert set(nodes) == {"a", "b", "c"}
    for node_id, entry in nodes.items():
        assert entry["status"] == "ok"
        assert entry["inputs"] == flow.node(node_id)["inputs"]
        assert entry["policy"]["fingerprint"] == flow.node_policy(node_id).fingerprint
        assert len(entry["candidates"]) == len(MODELS)
        assert entry["started"] <= entry["ended"]
        assert entry["usage"] == USAGE and entry["cost"] > 0
    assert trace["usage"] == {k: 3 * v for k, v in USAGE.items()}
    assert trace["cost"] == pytest.approx(sum(e["cost"] for e in nodes.values()))
    assert trace["billable_runs"] == 1
    assert trace["latency_ms"] >= max(e["latency_ms"] for e in nodes.values())
    assert run.response["usage"] == trace["usage"]


@pytest.mark.parametrize("llm_nodes, runs", [(1, 1), (5, 1), (6, 2), (10, 2), (11, 3)])
async def test_a_flow_bills_one_run_per_five_llm_nodes(engine, llm_nodes, runs):
    nodes = {f"n{i}": llm(f"N{i}", ["u"]) for i in range(llm_nodes - 1)}
    nodes["last"] = llm("Last", ["u", *nodes])
    run = await run_flow(engine, flow_of(nodes, "last"), call())
    assert run.trace["billable_runs"] == runs


# -- failure ---------------------------------------------------------------------------------------

async def test_a_node_that_exhausts_its_cascade_fails_the_run_and_cancels_running_nodes(engine, alpha, beta):
    flow = flow_of({"ok": llm("OK", ["u"], only("a-mid")),
                    "bad": llm("BAD", ["ok"], policy(["cmp", "provider", "eq", "alpha"])),
                    "slow": llm("SLOW", ["u"], only("b-strong")),
                    "join": llm("JOIN", ["bad", "slow"])}, "join")
    alpha.fail_systems.add("BAD")  # "bad" may only use alpha models, and both fail for it
    beta.hold["b-strong"] = asyncio.Event()  # never released: only cancellation ends it
    with pytest.raises(FlowFailed) as info:
        await asyncio.wait_for(run_flow(engine, flow, call()), timeout=5)
    failed = info.value
    assert failed.node == "bad" and failed.code == "provider_error" and failed.status == 502
    trace = failed.trace
    assert trace["status"] == "error"
    assert trace["error"] == {"code": "provider_error", "message": failed.message, "node": "bad", "status": 502}
    status = {e["node"]: e["status"] for e in trace["nodes"]}
    assert status == {"u": "ok", "ok": "ok", "bad": "error", "slow": "cancelled"}
    assert trace["skipped"] == ["join", "out"]
    assert beta.cancelled == ["b-strong"]
    nodes = llm_entries(trace)
    assert nodes["ok"]["cost"] > 0 and nodes["ok"]["selected"] == "a-mid"
    assert [h["from"] for h in nodes["bad"]["fallback"]] == ["a-cheap", "a-mid"]
    assert trace["cost"] == pytest.approx(nodes["ok"]["cost"])
    assert [m for m, _ in alpha.calls].count("a-mid") == 2


async def test_a_node_without_candidates_fails_naming_it(engine, alpha):
    flow = flow_of({"a": llm("A", ["u"]),
                    "b": llm("B", ["a"], policy(["cmp", "bench_intelligence", "ge", 0.99]))}, "b")
    with pytest.raises(FlowFailed) as info:
        await run_flow(engine, flow, call())
    assert (info.value.node, info.value.code) == ("b", "no_candidates")
    nodes = llm_entries(info.value.trace)
    assert nodes["a"]["status"] == "ok"
    assert all(v["status"] == "rejected" for v in nodes["b"]["candidates"])
    assert len(alpha.calls) == 1


def test_limits_are_enforced_by_admission():
    too_many = {f"n{i}": llm("N", ["u"]) for i in range(254)}
    too_many["last"] = llm("L", ["u"])
    with pytest.raises(uh.UnhardcodedError) as info:
        flow_of(too_many, "last")
    assert (info.value.code, info.value.rule) == ("invalid_flow", "node_limit")
    wide = {f"n{i}": llm("N", ["u"]) for i in range(33)}
    wide["last"] = llm("L", list(wide))
    with pytest.raises(uh.UnhardcodedError) as info:
        flow_of(wide, "last")
    assert (info.value.code, info.value.rule, info.value.node) == ("invalid_flow", "in_degree", "last")


# -- streaming -------------------------------------------------------------------------------------

async def test_only_the_final_node_streams_and_the_trace_completes_with_the_stream(engine, alpha, beta):
    flow = flow_of({"a": llm("A", ["u"]), "b": llm("B", ["a"], STRONGEST)}, "b")
    run = await run_flow(engine, flow, call(stream_options={"include_usage": True}), stream=True)
    assert run.response is None
    assert [m for m, _ in alpha.calls] == ["a-cheap"]          # upstream nodes finished first
    assert run.trace["status"] == "running"
    chunks = [c async for c in run.chunks]
    assert {c["model"] for c in chunks} == {"flow:test"}
    assert len({c["id"] for c in chunks}) == 1 and all(c["object"] == "chat.completion.chunk" for c in chunks)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "<B@b-strong>"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == {k: 2 * v for k, v in USAGE.items()}
    assert sum(1 for c in chunks if "usage" in c) == 1
    trace = run.trace
    assert trace["status"] == "ok" and [e["node"] for e in trace["nodes"]] == ["u", "a", "b", "out"]
    assert llm_entries(trace)["b"]["usage"] == USAGE and llm_entries(trace)["b"]["selected"] == "b-strong"


async def test_streaming_flow_without_include_usage_sends_no_usage_chunk(engine):
    flow = flow_of({"a": llm("A", ["u"])}, "a")
    run = await run_flow(engine, flow, call(), stream=True)
    chunks = [c async for c in run.chunks]
    assert all(c["choices"] for c in chunks) and not any("usage" in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_a_failure_before_the_final_node_raises_before_any_chunk(engine, alpha):
    flow = flow_of({"a": llm("A", ["u"], policy(["cmp", "provider", "eq", "alpha"])),
                    "b": llm("B", ["a"], STRONGEST)}, "b")
    alpha.fail.update({"a-cheap", "a-mid"})
    with pytest.raises(FlowFailed) as info:
        await run_flow(engine, flow, call(), stream=True)
    assert info.value.node == "a" and info.value.trace["skipped"] == ["b", "out"]


async def test_a_stream_the_caller_abandons_is_recorded_as_cancelled(engine):
    flow = flow_of({"a": llm("A", ["u"])}, "a")
    run = await run_flow(engine, flow, call(), stream=True)
    async for _ in run.chunks:
        break
    await run.chunks.aclose()
    assert run.trace["status"] == "error" and run.trace["error"]["code"] == "cancelled"
    assert llm_entries(run.trace)["a"]["status"] == "cancelled"


# -- preview and replay ----------------------------------------------------------------------------

async def test_preview_reports_each_nodes_pick_or_why_nothing_passes(engine, alpha, beta):
    flow = flow_of({"a": llm("A", ["u"]), "b": llm("B", ["a"], STRONGEST),
                    "c": llm("C", ["b"], policy(["and", ["meets_req"], ["cmp", "bench_intelligence", "ge", 0.9]]))},
                   "c")
    preview = preview_flow(engine, flow)
    assert [p["node"] for p in preview] == ["a", "b", "c"]
    a, b, c = preview
    assert (a["status"], a["winner"], a["cascade_head"], a["cascade_len"]) == (
        "ok", "a-cheap", ["a-cheap", "b-mid", "a-mid"], 4)
    assert a["counts"] == {"winner": 1, "passed": 3, "rejected": 0} and "cheapest" in a["reason"]
    assert (b["winner"], b["cascade_head"][0]) == ("b-strong", "b-strong")
    assert c["status"] == "no_candidates" and c["winner"] is None
    assert c["dropped_by"] == [{"path": "/2/2", "term": ["cmp", "bench_intelligence", "ge", 0.9], "count": 4}]
    assert alpha.calls == [] and beta.calls == []


async def test_replay_reproduces_every_node_and_reports_what_changed_since(engine):
    flow = flow_of({"a": llm("A", ["u"]), "b": llm("B", ["a"], STRONGEST)}, "b")
    run = await run_flow(engine, flow, call())
    trace = json.loads(json.dumps(run.trace))  # as stored
    same = replay_flow(trace, engine.catalog)
    assert same["reproduced"] is True and same["complete"] is True
    assert [(n["node"], n["reproduced"], n["diff"]) for n in same["nodes"]] == [("a", True, []), ("b", True, [])]
    a = same["nodes"][0]
    assert a["winner"] == {"recorded": "a-cheap", "replayed": "a-cheap"}
    assert a["policy"]["recorded"] == a["policy"]["replayed"] == flow.node_policy("a").fingerprint

    cheaper = [dict(m, price_out=0.1) if m["id"] == "a-mid" else m for m in MODELS]
    now = replay_flow(trace, engine.catalog, catalog_of(cheaper))
    assert now["reproduced"] is True and now["changed"] is True
    a, b = now["nodes"]
    assert a["current"]["winner"] == "a-mid" and a["current"]["changed"] is True
    assert {"field": "winner", "recorded": "a-cheap", "replayed": "a-mid"} in a["current"]["diff"]
    assert {"model": "a-mid", "recorded": "passed", "replayed": "winner", "dropped_by": None} in a["current"]["changes"]
    assert b["current"] == {"winner": "b-strong", "cascade": b["cascade"]["recorded"], "changed": False,
                            "diff": [], "changes": []}

    tampered = json.loads(json.dumps(trace))
    entry = next(e for e in tampered["nodes"] if e["node"] == "a")
    entry["cascade"] = list(reversed(entry["cascade"]))
    verdict = next(v for v in entry["candidates"] if v["model"] == "a-cheap")
    verdict["status"] = "rejected"
    wrong = replay_flow(tampered, engine.catalog)
    assert wrong["reproduced"] is False and wrong["nodes"][1]["reproduced"] is True
    diff = wrong["nodes"][0]["diff"]
    assert diff[0]["field"] == "winner"
    assert {"model": "a-cheap", "field": "status", "recorded": "rejected", "replayed": "winner"} in diff


async def test_replay_marks_cancelled_nodes_as_not_replayable(engine, alpha, beta):
    flow = flow_of({"bad": llm("BAD", ["u"], only("a-cheap")), "slow": llm("SLOW", ["u"], only("b-mid")),
                    "end": llm("END", ["bad", "slow"])}, "end")
    alpha.fail.add("a-cheap")
    beta.hold["b-mid"] = asyncio.Event()
    with pytest.raises(FlowFailed) as info:
        await run_flow(engine, flow, call())
    out = replay_flow(info.value.trace, engine.catalog)
    nodes = {n["node"]: n for n in out["nodes"]}
    assert nodes["bad"]["replayable"] is True and nodes["bad"]["reproduced"] is True
    assert nodes["slow"]["replayable"] is False and nodes["slow"]["status"] == "cancelled"
    assert out["reproduced"] is True and out["complete"] is False
