"""Flow executor overhead: a 256-node DAG (254 llm nodes) run by `run_flow`, beside the same 254 node
calls made sequentially by hand through the same Engine.

The upstream is an in-process adapter that answers instantly (no HTTP, no sleep), so both sides pay
the same routing cost per node (mutate, requirements, policy evaluation over the bundled catalog,
cost) and the difference is what the executor adds: scheduling tasks, composing each node's input
from its predecessors, and stitching the trace. Run with

    pytest benches/bench_flow_executor.py -o addopts="" --benchmark-only
"""
from __future__ import annotations

import asyncio
import json

import pytest

import unhardcoded as uh
from unhardcoded.flows import compose, run_flow
from unhardcoded.router.engine import Engine

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


def test_flow_executor_256_nodes(benchmark, setup):
    engine, flow = setup
    loop = asyncio.new_event_loop()
    try:
        run = benchmark(lambda: loop.run_until_complete(run_flow(engine, flow, REQUEST)))
    finally:
        loop.close()
    assert run.trace["status"] == "ok" and len(run.trace["nodes"]) == 256
    assert run.trace["billable_runs"] == 51


def test_sequential_by_hand_256_nodes(benchmark, setup):
    engine, flow = setup
    loop = asyncio.new_event_loop()
    try:
        benchmark(lambda: loop.run_until_complete(by_hand(engine, flow)))
    finally:
        loop.close()
