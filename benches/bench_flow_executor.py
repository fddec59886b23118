"""Flow executor overhead: a 256-node DAG (23 chains of 11 llm nodes fanning into one reducer, plus
the input and output nodes) run by `run_flow`, beside the same 254 node calls made sequentially by
hand (each node's input composed the same way, no trace).

Two upstreams, both in process and answering instantly (no HTTP, no sleep), to isolate the executor:
- "engine": the real router Engine with an instant provider adapter, so both sides pay the same
  routing per node (mutate, requirements, policy evaluation over the bundled catalog, verdicts, cost);
- "no-op engine": an engine object that returns a canned completion and record, so what remains is
  the executor itself: scheduling asyncio tasks, composing inputs, stitching the trace.
Run with

    python -m pytest benches --benchmark-only -k flow_executor
"""
from __future__ import annotations

import asyncio
import json

import pytest

import unhardcoded as uh
from unhardcoded.bench.record import record
from unhardcoded.flows import compose, run_flow
from unhardcoded.router.engine import CallResult, Engine

CHAINS, DEPTH = 23, 11  # 23 chains of 11 llm nodes + 1 reducer + input + output = 256 nodes
POLICY = ["policy", ["ev_zero"], ["and", ["meets_req"], ["not", ["is", "disabled"]]],
          ["neg", ["normalize", ["field", "price_out"]]], ["argmax"], ["id"],
          ["always", {"action": "next_candidate"}]]
USAGE = {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}


class Instant:
    """A provider adapter that answers at once."""

    async def complete(self, upstream_model: str, request: dict) -> dict:
        return {"id": "x", "object": "chat.completion", "model": upstream_model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "ok " + upstream_model}}],
                "usage": dict(USAGE)}


class NoopEngine:
    """Answers every node at once without routing: isolates the executor's own cost."""

    catalog = None
    providers: list[str] = []
    RESPONSE = {"choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
                "usage": USAGE}

    async def route(self, policy, request: dict, *, seed=None) -> CallResult:
        return CallResult({"selected": "m", "usage": USAGE, "cost": 0.0, "status": "ok"}, self.RESPONSE)


def big_flow() -> uh.Flow:
    nodes: dict = {"u": {"kind": "input"}}
    ends = []
    for c in range(CHAINS):
        prev = "u"
        for d in range(DEPTH):
            node_id = f"c{c:02d}_{d:02d}"
            nodes[node_id] = {"kind": "llm", "system": f"step {d} of chain {c}", "policy": POLICY, "inputs": [prev]}
            prev = node_id
        ends.append(prev)
    nodes["reduce"] = {"kind": "llm", "system": "merge", "policy": POLICY, "inputs": ends}
    nodes["out"] = {"kind": "output", "inputs": ["reduce"]}
    assert len(nodes) == 256
    return uh.Flow.admit(json.dumps(["flow", nodes]))


@pytest.fixture(scope="module")
def setup():
    catalog = uh.default_catalog()
    providers = sorted({catalog.model(i)["provider"] for i in catalog.ids()})
    engine = Engine(catalog, {p: Instant() for p in providers})
    return engine, big_flow()


REQUEST = {"model": "bench", "messages": [{"role": "user", "content": "go"}], "temperature": 0.3}


async def by_hand(engine: Engine, flow: uh.Flow) -> None:
    """The same node calls in execution order, one after another, inputs joined as the executor does."""
    outputs = {"u": "go"}
    for node_id in flow.order():
        node = flow.node(node_id)
        if node["kind"] != "llm":
            continue
        if node["inputs"] == ["u"]:
            messages = compose.node_messages(node["system"], REQUEST["messages"], None)
        else:
            messages = compose.node_messages(node["system"], None,
                                             compose.node_text(None, [outputs[i] for i in node["inputs"]]))
        result = await engine.route(flow.node_policy(node_id), {"messages": messages, "temperature": 0.3})
        outputs[node_id] = compose.completion_text(result.response)


def _measure(benchmark, group: str, impl: str, make):
    loop = asyncio.new_event_loop()
    try:
        result = benchmark.pedantic(lambda: loop.run_until_complete(make()), rounds=15, warmup_rounds=2)
    finally:
        loop.close()
    record(benchmark, group, impl)
    return result


@pytest.mark.parametrize("upstream", ["engine", "no-op engine"])
def test_flow_executor_256_nodes(benchmark, setup, upstream):
    engine, flow = setup
    engine = engine if upstream == "engine" else NoopEngine()
    benchmark.group = f"flow 256 nodes, {upstream}"
    run = _measure(benchmark, benchmark.group, "run_flow", lambda: run_flow(engine, flow, REQUEST))
    assert run.trace["status"] == "ok" and len(run.trace["nodes"]) == 256
    assert run.trace["billable_runs"] == 51


@pytest.mark.parametrize("upstream", ["engine", "no-op engine"])
def test_sequential_by_hand_256_nodes(benchmark, setup, upstream):
    engine, flow = setup
    engine = engine if upstream == "engine" else NoopEngine()
    benchmark.group = f"flow 256 nodes, {upstream}"
    _measure(benchmark, benchmark.group, "sequential by hand", lambda: by_hand(engine, flow))
