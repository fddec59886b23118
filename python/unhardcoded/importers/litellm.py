"""LiteLLM's `model_prices_and_context_window.json` -> an unhardcoded catalog document (spec §7).

Mapping (one LiteLLM entry -> one model):

- only entries with ``mode == "chat"`` are imported; the ``sample_spec`` entry (LiteLLM's schema
  example) is skipped;
- ``id`` is the LiteLLM key as it is (provider-prefixed keys keep their prefix, so ids stay unique);
  ``provider`` is ``litellm_provider`` as it is;
- ``price_in`` / ``price_out`` are ``input_cost_per_token`` / ``output_cost_per_token`` × 10⁶
  (USD per million tokens), rounded to 6 decimals so ``2.5e-06`` becomes ``2.5``, not ``2.4999…``;
- ``context`` is ``max_input_tokens``, else ``max_tokens``; ``max_output`` is ``max_output_tokens``;
- flags: ``supports_function_calling`` -> ``cap_tools`` + ``supports_tools``, ``supports_vision`` ->
  ``in_image`` + ``supports_vision``, ``supports_response_schema`` -> ``cap_json`` +
  ``supports_response_schema``, ``supports_reasoning`` -> ``cap_reasoning`` + ``supports_reasoning``;
  the other LiteLLM flags that name a core capability become that capability (see ``CAPABILITIES``).
  A flag LiteLLM states as false is kept as false; a flag it does not state stays absent (absent
  reads as false in evaluation, spec §4);
- ``family`` comes from :func:`family_of` (documented there);
- ``region`` only when LiteLLM lists ``supported_regions``: ``global`` when listed, else the first
  region (all of them are kept in ``meta.regions``);
- ``meta``: ``upstream`` (the provider's own model name: the key without its ``provider/`` prefix),
  and LiteLLM's ``source`` and ``deprecation_date`` when present.

A value of the wrong type (a string price, a negative context, an integer past 2^53 that the strict
reader would refuse) is dropped, not guessed; the report counts it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping

CATALOG_FORMAT = "unhardcoded-catalog/v1"

# LiteLLM flag -> (core bool field, core capability)
FLAGS: dict[str, tuple[str, str]] = {
    "supports_function_calling": ("cap_tools", "supports_tools"),
    "supports_vision": ("in_image", "supports_vision"),
    "supports_response_schema": ("cap_json", "supports_response_schema"),
    "supports_reasoning": ("cap_reasoning", "supports_reasoning"),
}

# LiteLLM flag -> core capability (no bool field of its own)
CAPABILITIES: dict[str, str] = {
    "supports_prompt_caching": "supports_prompt_caching",
    "supports_pdf_input": "supports_pdf_input",
    "supports_audio_input": "supports_audio_input",
    "supports_audio_output": "supports_audio_output",
    "supports_web_search": "supports_web_search",
    "supports_parallel_function_calling": "supports_parallel_tool_calls",
    "supports_tool_choice": "supports_tool_choice",
    "supports_system_messages": "supports_system_messages",
    "supports_native_streaming": "supports_streaming",
}

_MAX_EXACT_INT = 2**53

# Tokens of a model name that mark a snapshot or release stage rather than the model line.
_STAGE_WORDS = {"latest", "preview", "exp", "experimental", "beta"}
_DATE_TOKEN = re.compile(r"^(\d{4}|\d{6}|\d{8})$")
_VENDOR_PREFIX = re.compile(r"^(?:[a-z]{2,}\.)+(?=[a-z])")
_CLAUDE_TIERS = ("opus", "sonnet", "haiku", "fable", "mythos")
_MISTRAL_LINES = ("mistral", "magistral", "ministral", "devstral", "codestral", "pixtral", "voxtral")


@dataclass
class ImportReport:
    """What an import did: how many models it wrote and why it left entries out."""

    imported: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    dropped_fields: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "imported": self.imported,
            "skipped": dict(sorted(self.skipped.items())),
            "skipped_total": sum(self.skipped.values()),
            "dropped_fields": dict(sorted(self.dropped_fields.items())),
        }


def family_of(upstream: str) -> str:
    """The model line of a provider model name, by a fixed heuristic.

    1. Take the last ``/`` segment, lower-cased; drop a ``ft:`` prefix, anything after ``:`` and
       dotted vendor prefixes (``us.anthropic.claude-…`` -> ``claude-…``).
    2. Drop snapshot tokens: ``YYYY-MM-DD`` and ``MM-YYYY`` runs, and any 4-, 6- or 8-digit token
       after the first (``gpt-4-0613`` -> ``gpt-4``, ``mistral-large-2512`` -> ``mistral-large``).
    3. Drop trailing release-stage words: ``latest``, ``preview``, ``exp``, ``experimental``, ``beta``.
    4. Lines whose names carry a version inside a tier collapse to the tier:
       ``claude-sonnet-4-5`` -> ``claude-sonnet``; ``gemini-2.5-flash-lite`` -> ``gemini-flash-lite``;
       Mistral lines drop bare version numbers (``mistral-medium-3-5`` -> ``mistral-medium``).
    Everything else keeps its versioned name (``gpt-4o``, ``gpt-5.4-mini``, ``deepseek-v4-pro``),
    which is how those providers name their lines.
    """
    name = upstream.rsplit("/", 1)[-1].lower()
    if name.startswith("ft:"):
        name = name[3:]
    name = name.split(":", 1)[0]
    # Bedrock-style vendor prefixes: "us.anthropic.claude-…" names the same line as "claude-…".
    name = _VENDOR_PREFIX.sub("", name) or name
    tokens = [t for t in name.split("-") if t]
    if not tokens:
        return upstream
    kept: list[str] = [tokens[0]]
    i = 1
    while i < len(tokens):
        t = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        nxt2 = tokens[i + 2] if i + 2 < len(tokens) else ""
        if re.fullmatch(r"\d{4}", t) and re.fullmatch(r"\d{2}", nxt) and re.fullmatch(r"\d{2}", nxt2):
            i += 3  # YYYY-MM-DD
            continue
        if re.fullmatch(r"\d{2}", t) and re.fullmatch(r"\d{4}", nxt):
            i += 2  # MM-YYYY
            continue
        if _DATE_TOKEN.match(t):
            i += 1
            continue
        kept.append(t)
        i += 1
    while len(kept) > 1 and kept[-1] in _STAGE_WORDS:
        kept.pop()

    if kept[0] == "claude":
        for tier in _CLAUDE_TIERS:
            if tier in kept:
                return f"claude-{tier}"
    if kept[0] == "gemini":
        for tier in ("flash-lite", "flash", "pro"):
            parts = tier.split("-")
            for j in range(len(kept) - len(parts) + 1):
                if kept[j : j + len(parts)] == parts:
                    return f"gemini-{tier}"
    if kept[0] in _MISTRAL_LINES:
        kept = [kept[0]] + [t for t in kept[1:] if not re.fullmatch(r"[\d.]+", t)]
    return "-".join(kept)


def upstream_name(key: str, provider: str) -> str:
    """The provider's own model name: the LiteLLM key without its routing prefix.

    The prefix is dropped when it is the provider (``gemini/gemini-2.5-pro``), the provider with
    ``-`` for ``_`` (``amazon-nova/…`` for ``amazon_nova``), or the part of the provider before its
    first ``-`` (``vertex_ai/…`` for ``vertex_ai-anthropic_models``). Other slashes stay: they are
    part of the name the provider expects (``groq/openai/gpt-oss-120b`` -> ``openai/gpt-oss-120b``).
    """
    if "/" not in key:
        return key
    head, rest = key.split("/", 1)
    if head in (provider, provider.replace("_", "-"), provider.split("-", 1)[0]):
        return rest
    return key


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer() and abs(value) <= _MAX_EXACT_INT:
            return int(value)
    if isinstance(value, int) and abs(value) > _MAX_EXACT_INT:
        return None
    return value


def _price(value: Any) -> float | int | None:
    n = _number(value)
    if n is None or n < 0:
        return None
    per_million = round(n * 1_000_000, 6)
    return int(per_million) if float(per_million).is_integer() else per_million


def _tokens(value: Any) -> int | None:
    n = _number(value)
    if n is None or n <= 0 or not float(n).is_integer():
        return None
    return int(n)


def _region(regions: Any) -> str | None:
    if not isinstance(regions, list):
        return None
    names = [r for r in regions if isinstance(r, str) and r]
    if not names:
        return None
    return "global" if "global" in names else names[0]


def convert_entry(key: str, entry: Mapping[str, Any], report: ImportReport) -> dict[str, Any]:
    """One chat entry -> one catalog model (the caller has already filtered on mode/provider)."""
    provider = entry["litellm_provider"]
    model: dict[str, Any] = {"id": key, "provider": provider}
    upstream = upstream_name(key, provider)
    model["family"] = family_of(upstream)

    region = _region(entry.get("supported_regions"))
    if region is not None:
        model["region"] = region

    for src, dst in (("input_cost_per_token", "price_in"), ("output_cost_per_token", "price_out")):
        if entry.get(src) is None:
            continue
        price = _price(entry[src])
        if price is None:
            report.dropped_fields[dst] += 1
        else:
            model[dst] = price

    context_src = "max_input_tokens" if entry.get("max_input_tokens") is not None else "max_tokens"
    for src, dst in ((context_src, "context"), ("max_output_tokens", "max_output")):
        if entry.get(src) is None:
            continue
        tokens = _tokens(entry[src])
        if tokens is None:
            report.dropped_fields[dst] += 1
        else:
            model[dst] = tokens

    caps: list[str] = []
    for flag, (bool_field, cap) in FLAGS.items():
        value = entry.get(flag)
        if value is None:
            continue
        if not isinstance(value, bool):
            report.dropped_fields[bool_field] += 1
            continue
        model[bool_field] = value
        if value:
            caps.append(cap)
    for flag, cap in CAPABILITIES.items():
        if entry.get(flag) is True:
            caps.append(cap)
    if caps:
        model["capabilities"] = sorted(set(caps))

    meta: dict[str, Any] = {"upstream": upstream}
    if isinstance(entry.get("source"), str):
        meta["source"] = entry["source"]
    if isinstance(entry.get("deprecation_date"), str):
        meta["deprecation_date"] = entry["deprecation_date"]
    regions = entry.get("supported_regions")
    if isinstance(regions, list) and len(regions) > 1:
        meta["regions"] = [r for r in regions if isinstance(r, str)]
    model["meta"] = meta
    return model


def import_litellm_with_report(data: Mapping[str, Any]) -> tuple[dict[str, Any], ImportReport]:
    """Convert the LiteLLM map; returns the catalog document and what was imported or skipped."""
    if not isinstance(data, Mapping):
        raise TypeError("the LiteLLM price map must be a JSON object of model entries")
    report = ImportReport()
    models: list[dict[str, Any]] = []
    seen: set[str] = set()
    for key, entry in data.items():
        if key == "sample_spec":
            report.skipped["sample_spec"] += 1
            continue
        if not isinstance(entry, Mapping):
            report.skipped["not_an_object"] += 1
            continue
        if entry.get("mode") != "chat":
            report.skipped["not_chat"] += 1
            continue
        provider = entry.get("litellm_provider")
        if not isinstance(provider, str) or not provider:
            report.skipped["no_provider"] += 1
            continue
        if not isinstance(key, str) or not key or key in seen:
            report.skipped["duplicate_or_empty_id"] += 1
            continue
        seen.add(key)
        models.append(convert_entry(key, entry, report))
    models.sort(key=lambda m: m["id"].encode("utf-8"))
    report.imported = len(models)
    return {"format": CATALOG_FORMAT, "fields": [], "models": models}, report


def import_litellm(data: Mapping[str, Any]) -> dict[str, Any]:
    """Convert LiteLLM's model price map (a dict loaded from its JSON) to a catalog document.

    >>> doc = import_litellm({"gpt-4o": {"mode": "chat", "litellm_provider": "openai",
    ...                                  "input_cost_per_token": 2.5e-06, "max_input_tokens": 128000}})
    >>> doc["models"][0]["price_in"], doc["models"][0]["context"]
    (2.5, 128000)
    """
    return import_litellm_with_report(data)[0]
