"""The static facts of an admitted flow the executor needs on every run, computed once per flow.

A flow is immutable and identified by its fingerprint, so the plan (node table, admitted node
policies, edges reversed, which nodes read the caller's conversation) is cached by fingerprint: a
service that receives the same workflow on every call pays for it once.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import orjson

# Distinct flows kept; each holds at most 256 nodes, so the cache stays small.
_CAPACITY = 256


class FlowPlan:
    __slots__ = ("fingerprint", "version", "term", "order", "nodes", "policies", "input_id", "output_id", "final_id",
                 "llm_ids", "dependents", "conversation", "needs_input_text")

    def __init__(self, flow: Any) -> None:
        self.fingerprint: str = flow.fingerprint
        self.version: str = flow.version
        # Shared by the traces of every run of this flow, as the engine shares a policy's term.
        self.term: Any = orjson.loads(flow.canonical)
        self.order: list[str] = list(flow.order())
        # Read-only after construction: the executor copies what it hands out.
        self.nodes: dict[str, dict] = {n: flow.node(n) for n in self.order}
        self.input_id = next(n for n, d in self.nodes.items() if d["kind"] == "input")
        self.output_id = next(n for n, d in self.nodes.items() if d["kind"] == "output")
        self.final_id: str = self.nodes[self.output_id]["inputs"][0]
        self.llm_ids = [n for n in self.order if self.nodes[n]["kind"] == "llm"]
        self.policies = {n: flow.node_policy(n) for n in self.llm_ids}
        self.dependents: dict[str, list[str]] = {n: [] for n in self.order}
        for n in self.llm_ids:
            for i in self.nodes[n]["inputs"]:
                self.dependents[i].append(n)
        # Nodes whose only input is the input node, without a template, receive the caller's whole
        # conversation; every other reader of the input node receives its text (flows/README.md).
        self.conversation = frozenset(
            n for n in self.llm_ids
            if self.nodes[n].get("template") is None and list(self.nodes[n]["inputs"]) == [self.input_id])
        self.needs_input_text = self.final_id == self.input_id or any(
            self.input_id in self.nodes[n]["inputs"] and n not in self.conversation for n in self.llm_ids)


_plans: OrderedDict[str, FlowPlan] = OrderedDict()
_lock = threading.Lock()


def plan_of(flow: Any) -> FlowPlan:
    key = flow.fingerprint
    with _lock:
        plan = _plans.get(key)
        if plan is not None:
            _plans.move_to_end(key)
            return plan
    plan = FlowPlan(flow)
    with _lock:
        _plans[key] = plan
        while len(_plans) > _CAPACITY:
            _plans.popitem(last=False)
    return plan
