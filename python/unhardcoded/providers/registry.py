"""Adapter lookup by provider kind."""

from __future__ import annotations

import httpx

from .anthropic import AnthropicAdapter
from .base import Adapter, ProviderSettings
from .compat import AzureOpenAIAdapter, OpenAICompatibleAdapter
from .gemini import GeminiAdapter
from .openai import OpenAIAdapter

__all__ = ["ADAPTERS", "KINDS", "make_adapter"]

ADAPTERS: dict[str, type[Adapter]] = {
    "openai": OpenAIAdapter,
    "anthropic": AnthropicAdapter,
    "gemini": GeminiAdapter,
    "openai_compatible": OpenAICompatibleAdapter,
    "azure": AzureOpenAIAdapter,
}
KINDS = tuple(ADAPTERS)


def make_adapter(settings: ProviderSettings, client: httpx.AsyncClient) -> Adapter:
    """The adapter for `settings.kind`. Raises ValueError for a configuration that can never work
    (an unknown kind, or a kind without a well-known endpoint and no base_url)."""
    cls = ADAPTERS.get(settings.kind)
    if cls is None:
        raise ValueError(
            f"provider {settings.name!r}: unknown kind {settings.kind!r} (expected one of {', '.join(KINDS)})"
        )
    if not (settings.base_url or cls.default_base_url):
        raise ValueError(f"provider {settings.name!r}: kind {settings.kind!r} needs a base_url")
    return cls(settings, client)
