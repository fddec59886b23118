"""The bundled catalog and the LiteLLM importer, on the real LiteLLM price map."""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path

import pytest

import unhardcoded as uh
from unhardcoded.catalogs import build_default
from unhardcoded.importers.litellm import family_of, import_litellm, import_litellm_with_report, upstream_name

LITELLM = Path(__file__).resolve().parents[2] / "shared" / "data" / "litellm_model_prices.json"
CORE_CAPABILITIES = {
    "supports_tools", "supports_json_mode", "supports_response_schema", "supports_vision",
    "supports_reasoning", "supports_streaming", "supports_system_messages", "supports_prompt_caching",
    "supports_pdf_input", "supports_audio_input", "supports_audio_output", "supports_web_search",
    "supports_parallel_tool_calls", "supports_tool_choice",
}
QUICKSTART = [
    "policy",
    ["ev_zero"],
    ["and", ["meets_req"], ["not", ["is", "disabled"]], ["has_cap", "supports_tools"],
     ["cmp", "bench_intelligence", "ge", 0.5]],
    ["neg", ["normalize", ["field", "price_out"]]],
    ["argmax"],
    ["id"],
    ["always", {"action": "next_candidate"}],
]


@pytest.fixture(scope="module")
def litellm() -> dict:
    if not LITELLM.exists():
        pytest.skip("../shared/data/litellm_model_prices.json is not beside the repository")
    return json.loads(LITELLM.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def imported(litellm):
    return import_litellm_with_report(litellm)


@pytest.fixture(scope="module")
def bundled() -> dict:
    return json.loads(resources.files("unhardcoded").joinpath("catalogs/default.json").read_text("utf-8"))


# -- importer ----------------------------------------------------------------------------------------


def test_imports_every_chat_entry_and_counts_the_rest(litellm, imported):
    doc, report = imported
    chat = [k for k, v in litellm.items() if k != "sample_spec" and isinstance(v, dict) and v.get("mode") == "chat"]
    assert report.imported == len(doc["models"]) == len(chat) == 3265
    assert report.skipped["sample_spec"] == 1
    assert report.imported + sum(report.skipped.values()) == len(litellm)
    assert {m["id"] for m in doc["models"]} == set(chat)


def test_gpt_4o_spot_check(imported):
    models = {m["id"]: m for m in imported[0]["models"]}
    gpt4o = models["gpt-4o"]
    assert gpt4o["provider"] == "openai"
    assert (gpt4o["price_in"], gpt4o["price_out"]) == (2.5, 10)
    assert (gpt4o["context"], gpt4o["max_output"]) == (128000, 16384)
    assert gpt4o["cap_tools"] is True and gpt4o["in_image"] is True and gpt4o["cap_json"] is True
    assert {"supports_tools", "supports_vision", "supports_response_schema",
            "supports_parallel_tool_calls", "supports_tool_choice"} <= set(gpt4o["capabilities"])
    assert gpt4o["family"] == "gpt-4o"
    assert gpt4o["meta"]["upstream"] == "gpt-4o"


def test_provider_prefixed_keys_keep_their_id_and_strip_upstream(imported):
    models = {m["id"]: m for m in imported[0]["models"]}
    flash = models["gemini/gemini-2.5-flash"]
    assert flash["provider"] == "gemini"
    assert flash["meta"]["upstream"] == "gemini-2.5-flash"
    assert flash["family"] == "gemini-flash"
    assert (flash["price_in"], flash["price_out"]) == (0.3, 2.5)
    groq = models["groq/openai/gpt-oss-120b"]
    assert groq["meta"]["upstream"] == "openai/gpt-oss-120b"


def test_prices_have_no_float_noise(imported):
    for model in imported[0]["models"]:
        for name in ("price_in", "price_out"):
            if name in model:
                value = model[name]
                assert value >= 0 and round(value, 6) == value, (model["id"], name, value)


def test_region_only_from_supported_regions(litellm, imported):
    models = {m["id"]: m for m in imported[0]["models"]}
    with_regions = {k for k, v in litellm.items() if isinstance(v, dict) and v.get("mode") == "chat"
                    and v.get("supported_regions")}
    assert with_regions, "the real map lists supported_regions for some chat models"
    assert {m["id"] for m in models.values() if "region" in m} == with_regions
    assert models["vertex_ai/deepseek-ai/deepseek-v3.1-maas"]["region"] == "us-central1"
    assert models["vertex_ai/qwen/qwen3-235b-a22b-instruct-2507-maas"]["region"] == "global"


def test_capabilities_stay_in_the_core_vocabulary(imported):
    for model in imported[0]["models"]:
        assert set(model.get("capabilities", [])) <= CORE_CAPABILITIES


def test_bad_values_are_dropped_not_guessed():
    doc, report = import_litellm_with_report({
        "sample_spec": {"mode": "chat", "litellm_provider": "x"},
        "weird": {"mode": "chat", "litellm_provider": "acme", "input_cost_per_token": "0.1",
                  "output_cost_per_token": float("nan"), "max_input_tokens": 2**60,
                  "max_output_tokens": -5, "supports_function_calling": "yes"},
        "emb": {"mode": "embedding", "litellm_provider": "acme"},
        "orphan": {"mode": "chat"},
        "listy": [1, 2],
    })
    assert [m["id"] for m in doc["models"]] == ["weird"]
    weird = doc["models"][0]
    assert not {"price_in", "price_out", "context", "max_output", "cap_tools"} & weird.keys()
    assert report.to_dict()["skipped"] == {"no_provider": 1, "not_an_object": 1, "not_chat": 1, "sample_spec": 1}
    assert report.dropped_fields == {"price_in": 1, "price_out": 1, "context": 1, "max_output": 1, "cap_tools": 1}


def test_falls_back_to_max_tokens_for_context():
    doc = import_litellm({"m": {"mode": "chat", "litellm_provider": "p", "max_tokens": 4096}})
    assert doc["models"][0]["context"] == 4096
    assert "max_output" not in doc["models"][0]


@pytest.mark.parametrize(("name", "family"), [
    ("gpt-4o-2024-08-06", "gpt-4o"),
    ("gpt-4-0613", "gpt-4"),
    ("ft:gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
    ("o3-mini-2025-01-31", "o3-mini"),
    ("claude-sonnet-4-5-20250929", "claude-sonnet"),
    ("us.anthropic.claude-3-5-haiku-20241022-v1:0", "claude-haiku"),
    ("gemini-2.5-flash-lite", "gemini-flash-lite"),
    ("gemini-flash-latest", "gemini-flash"),
    ("gemini-3.1-pro-preview", "gemini-pro"),
    ("mistral-medium-3-5", "mistral-medium"),
    ("mistral-large-2512", "mistral-large"),
    ("command-a-03-2025", "command-a"),
    ("deepseek-v4-pro", "deepseek-v4-pro"),
])
def test_family_heuristic(name, family):
    assert family_of(name) == family


def test_upstream_name_strips_only_the_routing_prefix():
    assert upstream_name("gemini/gemini-2.5-pro", "gemini") == "gemini-2.5-pro"
    assert upstream_name("vertex_ai/claude-opus-4", "vertex_ai-anthropic_models") == "claude-opus-4"
    assert upstream_name("amazon-nova/nova-pro-v1", "amazon_nova") == "nova-pro-v1"
    assert upstream_name("meta-llama/Llama-3", "together_ai") == "meta-llama/Llama-3"


def test_the_whole_import_loads_into_a_catalog(imported):
    doc, _ = imported
    catalog = uh.Catalog.from_json(json.dumps(doc))
    assert len(catalog) == 3265
    assert catalog.model("gpt-4o")["price_out"] == 10
    assert catalog.fingerprint.startswith("cat_")


# -- bundled catalog ---------------------------------------------------------------------------------


def test_bundled_catalog_loads_and_is_the_default(bundled):
    catalog = uh.default_catalog()
    assert catalog is uh.default_catalog()  # cached
    assert len(catalog) == len(bundled["models"])
    assert 40 <= len(catalog) <= 80
    assert catalog.fingerprint == uh.Catalog.from_json(json.dumps(bundled)).fingerprint


def test_every_model_has_provider_prices_and_context(bundled):
    adapters = {"openai", "anthropic", "gemini", "mistral", "deepseek", "xai", "groq", "together",
                "moonshot", "cerebras"}
    for model in bundled["models"]:
        assert model["provider"] in adapters, model["id"]
        for name in ("price_in", "price_out", "context", "max_output"):
            assert isinstance(model.get(name), (int, float)) and model[name] >= 0, (model["id"], name)
        assert model["context"] > 0
        assert model.get("region") == "global"
        assert model["meta"]["upstream"]
        assert model["meta"]["litellm_key"]
        assert "supports_streaming" in model["capabilities"]


def test_covers_the_major_labs(bundled):
    providers = {m["provider"] for m in bundled["models"]}
    assert {"openai", "anthropic", "gemini", "mistral", "deepseek", "xai"} <= providers


def test_every_bench_score_has_a_source(bundled):
    scored = [m for m in bundled["models"] if "bench_intelligence" in m]
    assert len(scored) >= 10
    for model in bundled["models"]:
        source = model["meta"].get("bench_source")
        if "bench_intelligence" not in model:
            assert source is None, model["id"]
            continue
        assert 0 <= model["bench_intelligence"] <= 1
        assert source["url"].startswith("https://"), model["id"]
        assert source["version"] == "v4.0"
        # The stored value is exactly the documented normalisation of the recorded raw score.
        assert math.isclose(model["bench_intelligence"], round(source["score"] / 100, 3)), model["id"]
    for model in bundled["models"]:
        if "throughput_tps" in model:
            assert model["meta"]["throughput_source"]["url"].startswith("https://")
        assert "latency_ms" not in model


def test_bundled_catalog_is_what_the_build_script_produces(litellm):
    # default.json is generated; editing it by hand would silently diverge from LiteLLM's data.
    expected = build_default.render(build_default.build(litellm))
    assert resources.files("unhardcoded").joinpath("catalogs/default.json").read_text("utf-8") == expected


def test_build_refuses_a_retired_model(litellm):
    data = dict(litellm)
    data["gpt-4o"] = dict(litellm["gpt-4o"], deprecation_date="2020-01-01")
    with pytest.raises(ValueError, match="deprecated"):
        build_default.build(data)


def test_quickstart_policy_ranks_on_the_bundled_catalog():
    catalog = uh.default_catalog()
    result = uh.rank(QUICKSTART, catalog, request={"messages": [{"role": "user", "content": "hi"}],
                                                   "tools": [{"type": "function", "function": {"name": "f"}}]})
    winner = catalog.model(result.winner)
    assert winner["bench_intelligence"] >= 0.5 and winner["cap_tools"] is True
    survivors = [catalog.model(m) for m in result.cascade]
    assert all(s["bench_intelligence"] >= 0.5 for s in survivors)
    # Cheapest survivor by output price wins.
    assert winner["price_out"] == min(s["price_out"] for s in survivors)
    assert [s["price_out"] for s in survivors] == sorted(s["price_out"] for s in survivors)
