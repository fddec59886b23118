"""Rebuild `default.json`, the bundled catalog, from LiteLLM's price map plus a curated score table.

    python -m unhardcoded.catalogs.build_default [--litellm PATH] [-o OUT] [--check]

Prices, context windows, output limits and capability flags come from LiteLLM's
`model_prices_and_context_window.json` through the LiteLLM importer, so the bundled catalog and an
imported one agree field for field. This script only chooses which models to ship (`MODELS`), names
the provider adapter each routes through, and adds `bench_intelligence` / `throughput_tps` where a
published source exists (`BENCH`, `THROUGHPUT`). Read `README.md` beside this file for the sources.

`--check` rebuilds in memory and exits 1 when `default.json` differs (for CI).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from unhardcoded.importers.litellm import CATALOG_FORMAT, ImportReport, convert_entry

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "default.json"
# ../shared beside the repository (see shared/README.md).
DEFAULT_LITELLM = HERE.parents[3] / "shared" / "data" / "litellm_model_prices.json"

# Models whose LiteLLM deprecation_date is on or before this day are refused (the build fails
# rather than ship a retired model). Pinned, not "today", so the build is reproducible.
AS_OF = "2026-11-22"

# LiteLLM provider -> adapter name a host config uses (docs: catalogs/README.md).
PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "xai": "xai",
    "groq": "groq",
    "together_ai": "together",
    "moonshot": "moonshot",
    "cerebras": "cerebras",
}
# Labs serving their own models get the bare model name as id; hosts serving open-weights models
# that several hosts carry get "<provider>/<model>" so ids stay unique.
FIRST_PARTY = {"openai", "anthropic", "gemini", "mistral", "deepseek", "xai", "moonshot"}

# The LiteLLM keys shipped, grouped by provider, current lines (2025-2026) only.
MODELS: list[str] = [
    # OpenAI
    "gpt-6-sol", "gpt-6-luna", "gpt-5.6", "gpt-5.6-luna", "gpt-5.5", "gpt-5.4", "gpt-5.4-mini",
    "gpt-5.4-nano", "gpt-5.2", "gpt-5.1", "gpt-5", "gpt-5-mini", "gpt-5-nano", "gpt-4.1",
    "gpt-4.1-mini", "gpt-4o", "gpt-4o-mini", "o3",
    # Anthropic
    "claude-opus-5", "claude-sonnet-5", "claude-haiku-5-5", "claude-opus-4-8", "claude-opus-4-7",
    "claude-opus-4-6", "claude-sonnet-4-6", "claude-opus-4-5", "claude-sonnet-4-5", "claude-haiku-4-5",
    # Google Gemini API
    "gemini/gemini-3.1-pro-preview", "gemini/gemini-3.5-flash", "gemini/gemini-3.5-flash-lite",
    "gemini/gemini-3-flash-preview", "gemini/gemini-3.1-flash-lite", "gemini/gemini-2.5-pro",
    "gemini/gemini-2.5-flash", "gemini/gemini-2.5-flash-lite",
    # Mistral
    "mistral/mistral-large-2512", "mistral/mistral-medium-2604", "mistral/mistral-small-2603",
    "mistral/magistral-medium-latest", "mistral/devstral-latest", "mistral/codestral-2508",
    "mistral/ministral-8b-2512",
    # DeepSeek
    "deepseek/deepseek-v4-pro", "deepseek/deepseek-v4-flash",
    # xAI
    "xai/grok-4.20-reasoning", "xai/grok-4.20-non-reasoning", "xai/grok-4.3", "xai/grok-4.5",
    # Moonshot
    "moonshot/kimi-k2.6", "moonshot/kimi-k3",
    # Groq, Together, Cerebras (hosted open-weights models)
    "groq/openai/gpt-oss-120b", "groq/openai/gpt-oss-20b", "groq/qwen/qwen3.8-27b",
    "together_ai/openai/gpt-oss-120b", "together_ai/zai-org/GLM-5.3", "together_ai/moonshotai/Kimi-K3",
    "together_ai/Qwen/Qwen3.7-Max", "together_ai/deepseek-ai/DeepSeek-V4.1-Flash",
    "cerebras/gpt-oss-120b",
]

_AA = "Artificial Analysis Intelligence Index"
_AA_OPUS48 = "https://artificialanalysis.ai/articles/claude-opus-4-8-analysis-and-benchmarks"
_AA_OPUS48_REPORT = "https://apick.net/claude-opus-48-review.html"
_OFFICECHAI = ("https://officechai.com/ai/gpt-5-4-tied-with-gemini-3-1-pro-on-artificial-analysis-"
               "intelligence-index-first-time-a-new-openai-model-hasnt-topped-index-outright")
_AGENTTIMES = ("https://theagenttimes.com/articles/"
               "openai-anthropic-and-google-lock-in-three-way-tie-on-intelli-343d917f")
_AIHOLA = "https://aihola.com/article/ai-intelligence-index-4-reality-check"
_BESTAIFOR = ("https://www.bestaifor.com/blog/new-benchmark-insight-shows-high-token-usage-by-"
              "claude-sonnet-4-6-in-ai-intelligence-index")
_CODERSERA = "https://codersera.com/blog/deepseek-v4-flash-deep-dive/amp/"
_CHAOBRO = "https://chaobro.com/en/posts/open-source-intelligence-index-gap-2026"
_HIVEBOOK = ("https://hivebook.wiki/wiki/artificial-analysis-intelligence-index-10-eval-llm-quality-"
             "composite-score")
_AA_GROK = "https://artificialanalysis.ai/models/grok-4-20"

# LiteLLM key -> (published AA Intelligence Index v4.0 score, variant measured, as of, url[, via]).
# Every score is on the index's own 0-100 scale; bench_intelligence = score / 100 (rounded to 3
# decimals). All are v4.0 so they are comparable; a model without a found v4.0 score has none.
BENCH: dict[str, tuple[float, str, str, str] | tuple[float, str, str, str, str]] = {
    "claude-opus-4-8": (61.4, "max", "2026-05-28", _AA_OPUS48, _AA_OPUS48_REPORT),
    "gpt-5.5": (60.2, "xhigh", "2026-05-28", _AA_OPUS48, _AA_OPUS48_REPORT),
    "claude-opus-4-7": (57.3, "max", "2026-05-28", _AA_OPUS48, _AA_OPUS48_REPORT),
    "gemini/gemini-3.1-pro-preview": (57.2, "default", "2026-04", _AGENTTIMES),
    "gpt-5.4": (56.8, "xhigh", "2026-04", _AGENTTIMES),
    "together_ai/Qwen/Qwen3.7-Max": (57.0, "default", "2026-05", _HIVEBOOK),
    "moonshot/kimi-k2.6": (54.0, "default", "2026-05", _CHAOBRO),
    "claude-opus-4-6": (53.0, "max", "2026-03", _OFFICECHAI),
    "claude-sonnet-4-6": (52.0, "max", "2026-03", _OFFICECHAI),
    "deepseek/deepseek-v4-pro": (52.0, "default", "2026-05", _CODERSERA),
    "gpt-5.2": (51.0, "xhigh", "2026-03", _OFFICECHAI),
    "claude-opus-4-5": (49.0, "default", "2026-01-06", _AIHOLA),
    "xai/grok-4.20-reasoning": (48.0, "Grok 4.20 Beta 0309 (Reasoning)", "2026-03", _AA_GROK),
    "deepseek/deepseek-v4-flash": (47.0, "default", "2026-05", _CODERSERA),
    "claude-sonnet-4-5": (43.0, "default", "2026-02-20", _BESTAIFOR),
}

# LiteLLM key -> (median output tokens per second, as of, url).
THROUGHPUT: dict[str, tuple[float, str, str]] = {
    "xai/grok-4.20-reasoning": (265.1, "2026-03", _AA_GROK),
}


# Spec §2.3 field order, then meta: one model per line reads like the field table.
_KEY_ORDER = ("id", "provider", "family", "region", "price_in", "price_out", "context", "max_output",
              "bench_intelligence", "latency_ms", "throughput_tps", "cap_tools", "cap_reasoning", "cap_json",
              "in_image", "no_log", "has_tee", "disabled", "capabilities", "meta")


def _bench_meta(entry: tuple[Any, ...]) -> dict[str, Any]:
    score, variant, as_of, url, *via = entry
    meta = {
        "name": _AA,
        "version": "v4.0",
        "score": score,
        "scale": "0-100",
        "normalization": "bench_intelligence = score / 100",
        "variant": variant,
        "as_of": as_of,
        "url": url,
    }
    if via:
        meta["reported_by"] = via[0]
    return meta


def build(litellm: dict[str, Any]) -> dict[str, Any]:
    """The default catalog document from the LiteLLM map (raises ValueError on a curated-key problem)."""
    report = ImportReport()
    models: list[dict[str, Any]] = []
    for key in MODELS:
        entry = litellm.get(key)
        if not isinstance(entry, dict) or entry.get("mode") != "chat":
            raise ValueError(f"{key}: not a chat model in the LiteLLM map")
        deprecation = entry.get("deprecation_date")
        if isinstance(deprecation, str) and deprecation <= AS_OF:
            raise ValueError(f"{key}: deprecated on {deprecation}, before {AS_OF}")
        litellm_provider = entry.get("litellm_provider")
        provider = PROVIDERS.get(litellm_provider or "")
        if provider is None:
            raise ValueError(f"{key}: no adapter for LiteLLM provider {litellm_provider!r}")
        model = convert_entry(key, entry, report)
        upstream = model["meta"]["upstream"]
        model["id"] = upstream if provider in FIRST_PARTY else f"{provider}/{upstream}"
        model["provider"] = provider
        model.setdefault("region", "global")
        # Every provider shipped here streams chat completions (SSE); LiteLLM only flags some
        # entries with supports_native_streaming, which would make has_cap reject the rest.
        model["capabilities"] = sorted({*model.get("capabilities", []), "supports_streaming"})
        model["meta"]["litellm_key"] = key
        if key in BENCH:
            score = BENCH[key][0]
            model["bench_intelligence"] = round(score / 100, 3)
            model["meta"]["bench_source"] = _bench_meta(BENCH[key])
        if key in THROUGHPUT:
            tps, as_of, url = THROUGHPUT[key]
            model["throughput_tps"] = tps
            model["meta"]["throughput_source"] = {"name": "Artificial Analysis", "metric": "median output tokens/s",
                                                  "as_of": as_of, "url": url}
        models.append({k: model[k] for k in _KEY_ORDER if k in model})
    if report.dropped_fields:
        raise ValueError(f"LiteLLM values dropped while building: {dict(report.dropped_fields)}")
    ids = [m["id"] for m in models]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate model ids in the default catalog")
    for key in list(BENCH) + list(THROUGHPUT):
        if key not in MODELS:
            raise ValueError(f"{key}: has a score but is not shipped")
    models.sort(key=lambda m: m["id"].encode("utf-8"))
    return {"format": CATALOG_FORMAT, "fields": [], "models": models}


def render(doc: dict[str, Any]) -> str:
    # One model per line keeps diffs of a rebuild readable.
    lines = ",\n".join("  " + json.dumps(m, ensure_ascii=False, sort_keys=False) for m in doc["models"])
    return (f'{{"format": {json.dumps(doc["format"])},\n "fields": {json.dumps(doc["fields"])},\n'
            f' "models": [\n{lines}\n ]}}\n')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--litellm", type=Path, default=DEFAULT_LITELLM, help="LiteLLM price map (JSON)")
    parser.add_argument("-o", "--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="exit 1 if OUT is not what a rebuild gives")
    args = parser.parse_args(argv)
    try:
        litellm = json.loads(args.litellm.read_text(encoding="utf-8"))
        text = render(build(litellm))
    except (OSError, ValueError) as exc:
        print(f"build_default: {exc}", file=sys.stderr)
        return 2
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != text:
            print(f"build_default: {args.out} is stale; rerun without --check", file=sys.stderr)
            return 1
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({text.count(chr(10)) - 4} models)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
