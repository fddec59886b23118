"""The bundled presets (python/unhardcoded/presets): every policy and workflow admits over the core
vocabulary, picks what its README says it picks, and runs end to end against the fake upstreams —
through the server with the openai SDK, and in process through run_flow."""
from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import httpx
import pytest

import unhardcoded as uh
from fakes.fixtures import fake_upstream, fake_upstream_server  # noqa: F401
from server_fixtures import model, running_router, write_catalog
from unhardcoded.flows import run_flow
from unhardcoded.providers.registry import make_adapter
from unhardcoded.router.engine import Engine

PRESETS = resources.files("unhardcoded") / "presets"
POLICY_NAMES = ["agents_tools", "batch_extraction", "compliance", "rag_long_context", "strongest", "support"]
FLOW_NAMES = ["classify_extract", "draft_critique_revise", "fanout_synthesis", "map_reduce_summary",
              "translate_verify", "triage_draft_guard"]
TOOL_CHOICE = ["supports_tools", "supports_tool_choice", "supports_streaming"]

# A catalog where each preset has one clear answer (see the expectations below).
MODELS = [
    model("o-nano", "openai", 0.05, 0.4, context=32000, meta={"upstream": "fake-o-nano"}),
    model("g-flash", "gemini", 0.3, 2.5, context=1048576, bench_intelligence=0.48, capabilities=TOOL_CHOICE,
          meta={"upstream": "fake-g-flash"}),
    model("k-mid", "openai", 0.9, 4.0, bench_intelligence=0.54, meta={"upstream": "fake-k-mid"}),
    model("c-sonnet", "anthropic", 3.0, 15.0, context=200000, bench_intelligence=0.52, capabilities=TOOL_CHOICE,
          meta={"upstream": "fake-c-sonnet"}),
    model("o-pro", "openai", 2.0, 8.0, bench_intelligence=0.56, capabilities=TOOL_CHOICE,
          meta={"upstream": "fake-o-pro"}),
    model("c-opus", "anthropic", 5.0, 25.0, context=200000, bench_intelligence=0.61, capabilities=TOOL_CHOICE,
          meta={"upstream": "fake-c-opus"}),
    model("eu-private", "gemini", 1.0, 3.0, region="eu", no_log=True, meta={"upstream": "fake-eu-private"}),
    model("eu-logged", "openai", 0.5, 1.0, region="eu", meta={"upstream": "fake-eu-logged"}),
    model("o-off", "openai", 0.01, 0.01, disabled=True, bench_intelligence=0.9, capabilities=TOOL_CHOICE,
          region="eu", no_log=True, meta={"upstream": "fake-o-off"}),
]
# support: tools, bench ≥ 0.5, price_out ≤ 5 → only k-mid. rag: context ≥ 128k (o-nano out), price_in
# ≤ 2, cheapest input first, three deep. agents: tool_choice + bench ≥ 0.5 → c-sonnet, o-pro, c-opus,
# scored 0.7·bench + 0.3·(−price) → c-opus 0.4, o-pro 0.31, c-sonnet −0.12. batch: JSON, price_in ≤ 0.5,
# price_out ≤ 2 → o-nano (0.45 blended) before eu-logged (1.5). compliance: eu + no_log → eu-private
# (eu-logged has no no_log). strongest: bench ≥ 0.55 → c-opus, o-pro. o-off is disabled everywhere.
EXPECTED_CASCADE = {
    "support": ["k-mid"],
    "rag_long_context": ["g-flash", "eu-logged", "k-mid"],
    "agents_tools": ["c-opus", "o-pro", "c-sonnet"],
    "batch_extraction": ["o-nano", "eu-logged"],
    "compliance": ["eu-private"],
    "strongest": ["c-opus", "o-pro"],
}
UPSTREAM = {m["id"]: m["meta"]["upstream"] for m in MODELS}
QUESTION = "Should we move our ticket queue to a new vendor?"
USER = [{"role": "user", "content": QUESTION}]


def load(kind: str, name: str) -> Any:
    return json.loads((PRESETS / kind / f"{name}.json").read_text())


POLICIES = {name: load("policies", name) for name in POLICY_NAMES}
FLOWS = {name: load("flows", name) for name in FLOW_NAMES}


def preset_of(term: Any) -> str:
    return next(name for name, p in POLICIES.items() if p == term)


@pytest.fixture(scope="module")
def catalog() -> uh.Catalog:
    return uh.Catalog.from_json(json.dumps({"format": "unhardcoded-catalog/v1", "models": MODELS}))


# -- the files ------------------------------------------------------------------------------------

def test_the_preset_directories_hold_exactly_the_documented_presets():
    assert sorted(p.name for p in (PRESETS / "policies").iterdir()) == [f"{n}.json" for n in POLICY_NAMES]
    assert sorted(p.name for p in (PRESETS / "flows").iterdir()) == [f"{n}.json" for n in FLOW_NAMES]
    readme = (PRESETS / "README.md").read_text()
    for name in POLICY_NAMES + FLOW_NAMES:
        assert f"`{name}`" in readme


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_policy_presets_admit_over_the_core_vocabulary(name):
    policy = uh.Policy.admit(POLICIES[name])
    assert policy.fingerprint.startswith("pol_") and json.loads(policy.canonical) == POLICIES[name]
    term = POLICIES[name]
    assert term[2][:3] == ["and", ["meets_req"], ["not", ["is", "disabled"]]]
    assert term[6] == ["always", {"action": "next_candidate"}]


@pytest.mark.parametrize("name", FLOW_NAMES)
def test_flow_presets_admit_and_bill_as_one_run(name):
    flow = uh.Flow.admit(FLOWS[name])
    llm_nodes = [n for n in flow.order() if flow.node(n)["kind"] == "llm"]
    assert 3 <= len(llm_nodes) <= 5
    for node_id in llm_nodes:
        preset_of(json.loads(flow.node_policy(node_id).canonical))  # every node carries a preset policy


def test_flow_presets_have_the_documented_shapes():
    def shape(name: str) -> dict[str, list[str]]:
        return {n: d.get("inputs", []) for n, d in FLOWS[name][1].items() if d["kind"] == "llm"}

    assert shape("triage_draft_guard") == {"triage": ["ticket"], "draft": ["ticket", "triage"], "guard": ["draft"]}
    assert shape("draft_critique_revise") == {"draft": ["u"], "critique": ["draft"],
                                              "revise": ["u", "draft", "critique"]}
    assert shape("fanout_synthesis")["synthesis"] == ["question", "cost", "risk", "benefit"]
    assert shape("classify_extract") == {"classify": ["document"], "extract": ["document", "classify"],
                                         "validate": ["document", "extract"]}
    assert shape("translate_verify")["verify"] == ["source", "translate_a", "translate_b"]
    assert shape("map_reduce_summary") == {"map_1": ["document"], "map_2": ["document"], "map_3": ["document"],
                                           "reduce": ["map_1", "map_2", "map_3"]}


# -- what each policy picks -------------------------------------------------------------------------

@pytest.mark.parametrize("name", POLICY_NAMES)
def test_policy_presets_pick_the_documented_cascade(name, catalog):
    result = uh.Policy.admit(POLICIES[name]).rank(catalog, requirements=uh.requirements_from_request(
        json.dumps({"messages": USER})))
    assert list(result.cascade) == EXPECTED_CASCADE[name]
    off = next(v for v in result.verdicts() if v["model"] == "o-off")
    assert off["status"] == "rejected" and off["dropped_by"]["term"] == ["not", ["is", "disabled"]]


def test_compliance_fails_loudly_when_the_catalog_has_no_eu_no_log_model(catalog):
    without = uh.Catalog.from_json(json.dumps({"format": "unhardcoded-catalog/v1",
                                               "models": [m for m in MODELS if m["id"] != "eu-private"]}))
    with pytest.raises(uh.NoCandidates) as info:
        uh.Policy.admit(POLICIES["compliance"]).rank(without)
    logged = next(v for v in info.value.result.verdicts() if v["model"] == "eu-logged")
    assert logged["dropped_by"] == {"path": "/2/4", "term": ["is", "no_log"]}


@pytest.mark.parametrize("name", ["support", "rag_long_context", "agents_tools", "batch_extraction", "strongest"])
def test_policy_presets_find_a_model_in_the_bundled_catalog(name):
    result = uh.Policy.admit(POLICIES[name]).rank(uh.default_catalog())
    assert result.winner in result.cascade


# -- end to end -----------------------------------------------------------------------------------

def expected_answers(flow: list, user_text: str) -> dict[str, str]:
    """What every node answers when each fake model replies "Echo: <last user text>", following the
    input rules of flows/README.md: a node fed only the input gets the conversation; otherwise its
    template filled with its inputs' texts, or the texts joined by a blank line."""
    nodes = flow[1]
    texts: dict[str, str] = {n: user_text for n, d in nodes.items() if d["kind"] == "input"}
    while len(texts) < len(nodes) - 1:
        for node_id, node in nodes.items():
            if node_id in texts or node["kind"] != "llm" or not all(i in texts for i in node["inputs"]):
                continue
            inputs = [texts[i] for i in node["inputs"]]
            template = node.get("template")
            if template is not None:
                prompt = re.sub(r"\$(\d+)", lambda m: inputs[int(m[1]) - 1], template)
            else:
                prompt = "\n\n".join(inputs)
            texts[node_id] = "Echo: " + prompt
    return texts


def final_node(flow: list) -> str:
    return next(d["inputs"][0] for d in flow[1].values() if d["kind"] == "output")


def check_stitched_trace(trace: dict, flow_term: list, catalog_fp: str) -> None:
    nodes = flow_term[1]
    llm_ids = {n for n, d in nodes.items() if d["kind"] == "llm"}
    assert trace["kind"] == "flow" and trace["status"] == "ok" and trace["error"] is None
    assert trace["flow"]["term"] == flow_term and trace["catalog"]["fingerprint"] == catalog_fp
    assert trace["order"] == uh.Flow.admit(flow_term).order()
    seen: set[str] = set()
    for entry in trace["nodes"]:  # completion order: every input finished before its node
        assert set(nodes[entry["node"]].get("inputs", [])) <= seen
        seen.add(entry["node"])
    assert seen == set(nodes)
    entries = {e["node"]: e for e in trace["nodes"] if e["kind"] == "llm"}
    for node_id in llm_ids:
        entry = entries[node_id]
        expected = EXPECTED_CASCADE[preset_of(nodes[node_id]["policy"])]
        assert entry["status"] == "ok" and entry["cascade"] == expected and entry["selected"] == expected[0]
        assert entry["inputs"] == nodes[node_id]["inputs"] and entry["cost"] > 0
    assert trace["selected"] == {n: entries[n]["selected"] for n in llm_ids}
    assert trace["cost"] == pytest.approx(sum(e["cost"] for e in entries.values()))
    assert trace["usage"]["total_tokens"] == sum(e["usage"]["total_tokens"] for e in entries.values())
    assert trace["billable_runs"] == 1


@pytest.fixture(scope="module")
def router(fake_upstream_server, tmp_path_factory):  # noqa: F811
    tmp = tmp_path_factory.mktemp("presets")
    fake = fake_upstream_server
    providers = {kind: {"base_url": fake.url_for(kind)} for kind in ("openai", "anthropic", "gemini")}
    env = {"OPENAI_API_KEY": fake.keys["openai"], "ANTHROPIC_API_KEY": fake.keys["anthropic"],
           "GEMINI_API_KEY": fake.keys["gemini"]}
    with running_router(tmp, env=env, providers=providers, catalog=write_catalog(tmp / "catalog.json", MODELS),
                        timeouts={"connect": 1.0, "stall": 5.0, "attempt": 10.0, "overall": 20.0}) as server:
        yield server


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_policy_presets_route_through_the_server(name, router, fake_upstream):  # noqa: F811
    raw = router.openai().chat.completions.with_raw_response.create(
        model=f"policy:{name}", messages=USER, temperature=0.9, extra_body={"policy_ir": POLICIES[name]})
    completion = raw.parse()
    trace = completion.model_extra["trace"]
    assert trace["selected"] == EXPECTED_CASCADE[name][0] and trace["cascade"] == EXPECTED_CASCADE[name]
    assert completion.choices[0].message.content == "Echo: " + QUESTION
    sent = fake_upstream.requests[-1]
    assert sent.model == UPSTREAM[trace["selected"]]
    if sent.provider == "openai":  # batch_extraction clamps the sampling temperature
        assert sent.json["temperature"] == (0.2 if name == "batch_extraction" else 0.9)


@pytest.mark.parametrize("name", FLOW_NAMES)
def test_flow_presets_run_through_the_server(name, router, fake_upstream):  # noqa: F811
    flow = FLOWS[name]
    raw = router.openai().chat.completions.with_raw_response.create(
        model=f"flow:{name}", messages=USER, extra_body={"flow_ir": flow})
    completion = raw.parse()
    answers = expected_answers(flow, QUESTION)
    assert completion.model == f"flow:{name}"
    assert completion.choices[0].message.content == answers[final_node(flow)]
    trace = completion.model_extra["trace"]
    check_stitched_trace(trace, flow, router.host.catalog.fingerprint)
    assert trace["label"] == f"flow:{name}" and raw.headers["x-unhardcoded-trace-id"] == trace["trace"]
    llm_nodes = sum(1 for d in flow[1].values() if d["kind"] == "llm")
    assert len(fake_upstream.requests) == llm_nodes
    replay = router.http().post("/x/replay", json={"trace_id": trace["trace"]}).json()
    assert replay["reproduced"] is True and len(replay["nodes"]) == llm_nodes


@pytest.mark.parametrize("name", ["draft_critique_revise", "map_reduce_summary"])
def test_flow_presets_stream_through_the_server(name, router, fake_upstream):  # noqa: F811
    flow = FLOWS[name]
    chunks = list(router.openai().chat.completions.create(model=f"flow:{name}", messages=USER, stream=True,
                                                          extra_body={"flow_ir": flow}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == expected_answers(flow, QUESTION)[final_node(flow)]
    check_stitched_trace(chunks[-1].model_extra["trace"], flow, router.host.catalog.fingerprint)


@pytest.mark.anyio
@pytest.mark.parametrize("name", FLOW_NAMES)
async def test_flow_presets_run_in_process(name, catalog, fake_upstream):  # noqa: F811
    flow = uh.Flow.admit(FLOWS[name])
    async with httpx.AsyncClient() as client:
        adapters = {kind: make_adapter(fake_upstream.settings(kind), client)
                    for kind in ("openai", "anthropic", "gemini")}
        run = await run_flow(Engine(catalog, adapters), flow, {"model": f"flow:{name}", "messages": USER})
    answers = expected_answers(FLOWS[name], QUESTION)
    assert run.response["choices"][0]["message"]["content"] == answers[final_node(FLOWS[name])]
    assert run.response["usage"] == run.trace["usage"]
    check_stitched_trace(run.trace, FLOWS[name], catalog.fingerprint)
