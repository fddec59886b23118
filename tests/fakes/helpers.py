"""Small helpers for tests that drive provider adapters against the fake upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from .upstream import FakeUpstream

__all__ = ["KINDS", "MODELS", "adapter", "collect", "finish_reasons", "stream_text", "stream_tool_calls"]

KINDS = ("openai", "openai_compatible", "azure", "anthropic", "gemini")

# A representative upstream model name per adapter kind (Azure: a deployment name).
MODELS = {
    "openai": "gpt-4o-mini",
    "openai_compatible": "llama-3.1-8b-instant",
    "azure": "prod-gpt4o",
    "anthropic": "claude-sonnet-4-5",
    "gemini": "gemini-2.5-flash",
}


def adapter(fake: FakeUpstream, kind: str, client: httpx.AsyncClient, **overrides: Any) -> Any:
    from unhardcoded.providers import make_adapter

    return make_adapter(fake.settings(kind, **overrides), client)


async def collect(chunks: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
    return [chunk async for chunk in chunks]


def stream_text(chunks: list[dict[str, Any]], field: str = "content") -> str:
    return "".join(
        choice["delta"].get(field) or "" for chunk in chunks for choice in chunk["choices"] if choice.get("delta")
    )


def stream_tool_calls(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reassemble streamed tool call deltas the way OpenAI SDK clients do."""
    calls: dict[int, dict[str, Any]] = {}
    for chunk in chunks:
        for choice in chunk["choices"]:
            for delta in choice.get("delta", {}).get("tool_calls") or []:
                call = calls.setdefault(
                    delta["index"], {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
                )
                if delta.get("id"):
                    call["id"] = delta["id"]
                function = delta.get("function") or {}
                if function.get("name"):
                    call["function"]["name"] = function["name"]
                call["function"]["arguments"] += function.get("arguments") or ""
    return [calls[i] for i in sorted(calls)]


def finish_reasons(chunks: list[dict[str, Any]]) -> list[str]:
    return [c["finish_reason"] for chunk in chunks for c in chunk["choices"] if c.get("finish_reason")]
