"""USD cost of one call from its usage and the catalog's prices (USD per 1M tokens).

OpenAI usage semantics, which every adapter normalizes to: `prompt_tokens` includes cached tokens
(`prompt_tokens_details.cached_tokens`) and `completion_tokens` includes reasoning tokens. Cached
input tokens are billed at the model's `price_cached_in` when the catalog declares one (as an
extension field or in `meta`), otherwise at `price_in`. Reasoning tokens are output tokens.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def model_prices(model: Mapping[str, Any]) -> tuple[float | None, float | None, float | None]:
    """(price_in, price_out, price_cached_in) of a catalog model."""
    meta = model.get("meta")
    cached = _number(model.get("price_cached_in"))
    if cached is None and isinstance(meta, Mapping):
        cached = _number(meta.get("price_cached_in"))
    return _number(model.get("price_in")), _number(model.get("price_out")), cached


def usage_tokens(usage: Mapping[str, Any]) -> tuple[int, int, int]:
    """(prompt, cached, completion) tokens; absent counts are zero."""
    prompt = _number(usage.get("prompt_tokens")) or 0.0
    completion = _number(usage.get("completion_tokens")) or 0.0
    cached = 0.0
    details = usage.get("prompt_tokens_details")
    if isinstance(details, Mapping):
        cached = _number(details.get("cached_tokens")) or 0.0
    cached = min(cached, prompt)
    return int(prompt), int(cached), int(completion)


def cost_usd(usage: Any, prices: tuple[float | None, float | None, float | None]) -> float | None:
    """None when the usage is unknown or a price the usage needs is missing from the catalog."""
    if not isinstance(usage, Mapping):
        return None
    price_in, price_out, price_cached = prices
    prompt, cached, completion = usage_tokens(usage)
    total = 0.0
    if prompt:
        if price_in is None:
            return None
        total += (prompt - cached) * price_in
        total += cached * (price_cached if price_cached is not None else price_in)
    if completion:
        if price_out is None:
            return None
        total += completion * price_out
    return round(total / 1_000_000, 10)
