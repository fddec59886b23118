"""OpenAI-compatible servers (vLLM, Ollama, Groq, Together, Mistral, DeepSeek, OpenRouter, …) and
Azure OpenAI. Both speak OpenAI's wire; they differ in URL, auth and a few request fields."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .openai import OpenAIAdapter

__all__ = ["AZURE_DEFAULT_API_VERSION", "AzureOpenAIAdapter", "OpenAICompatibleAdapter"]

AZURE_DEFAULT_API_VERSION = "2024-10-21"


class OpenAICompatibleAdapter(OpenAIAdapter):
    kind = "openai_compatible"
    default_base_url = ""

    def auth_headers(self) -> dict[str, str]:
        # Local servers (vLLM, Ollama) take no key, so a missing key is not an error here: the
        # request goes out without Authorization and a server that does want one answers 401
        # (cause "auth"). Whether a keyless provider may be used at all is the host's decision.
        if not self.settings.api_key:
            return {}
        return {"authorization": f"Bearer {self.settings.api_key}"}

    def body(self, upstream_model: str, request: dict[str, Any], *, stream: bool) -> dict[str, Any]:
        body = super().body(upstream_model, request, stream=stream)
        # `max_completion_tokens` is newer than most compatible servers; `max_tokens` is universal.
        if "max_completion_tokens" in body:
            value = body.pop("max_completion_tokens")
            body.setdefault("max_tokens", value)
        return body


class AzureOpenAIAdapter(OpenAIAdapter):
    kind = "azure"
    default_base_url = ""

    def __init__(self, settings, client) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings, client)
        # Accept the resource endpoint with or without the `/openai` suffix.
        if self.base_url.endswith("/openai"):
            self.base_url = self.base_url[: -len("/openai")]

    def url(self, upstream_model: str) -> str:
        deployment = quote(upstream_model, safe="")
        return f"{self.base_url}/openai/deployments/{deployment}/chat/completions"

    def params(self) -> dict[str, str]:
        return {"api-version": self.settings.api_version or AZURE_DEFAULT_API_VERSION}

    def auth_headers(self) -> dict[str, str]:
        return {"api-key": self.require_key()}

    def body(self, upstream_model: str, request: dict[str, Any], *, stream: bool) -> dict[str, Any]:
        body = super().body(upstream_model, request, stream=stream)
        body.pop("model", None)  # the deployment in the path names the model
        return body
