"""The adapter registry, settings and error objects, and connection handling shared by adapters."""

from __future__ import annotations

from contextlib import aclosing

import pytest
from fakes.fixtures import anyio_backend, fake_upstream, fake_upstream_server, http_client  # noqa: F401
from fakes.helpers import KINDS, MODELS, adapter, collect

from unhardcoded.providers import (
    CAUSES,
    RETRYABLE_CAUSES,
    ClientPool,
    ProviderError,
    ProviderSettings,
    make_adapter,
)
from unhardcoded.providers.anthropic import AnthropicAdapter
from unhardcoded.providers.compat import AzureOpenAIAdapter, OpenAICompatibleAdapter
from unhardcoded.providers.gemini import GeminiAdapter
from unhardcoded.providers.openai import OpenAIAdapter

SECRET = "sk-live-do-not-print-0123456789"


@pytest.mark.parametrize(
    ("kind", "cls", "base"),
    [
        ("openai", OpenAIAdapter, "https://api.openai.com/v1"),
        ("anthropic", AnthropicAdapter, "https://api.anthropic.com"),
        ("gemini", GeminiAdapter, "https://generativelanguage.googleapis.com"),
    ],
)
def test_well_known_kinds_default_their_base_url(kind, cls, base) -> None:
    a = make_adapter(ProviderSettings(name=kind, kind=kind, api_key="k"), None)  # type: ignore[arg-type]
    assert type(a) is cls and a.base_url == base


@pytest.mark.parametrize("kind", ["openai_compatible", "azure"])
def test_kinds_without_a_public_endpoint_need_a_base_url(kind) -> None:
    with pytest.raises(ValueError, match=f"provider 'p': kind '{kind}' needs a base_url"):
        make_adapter(ProviderSettings(name="p", kind=kind, api_key="k"), None)  # type: ignore[arg-type]
    a = make_adapter(ProviderSettings(name="p", kind=kind, base_url="http://h/", api_key="k"), None)  # type: ignore[arg-type]
    assert type(a) is {"openai_compatible": OpenAICompatibleAdapter, "azure": AzureOpenAIAdapter}[kind]


def test_unknown_kind_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="unknown kind 'bedrock' \\(expected one of openai, anthropic, gemini"):
        make_adapter(ProviderSettings(name="p", kind="bedrock", api_key="k"), None)  # type: ignore[arg-type]


def test_settings_repr_hides_the_key() -> None:
    settings = ProviderSettings(name="oai", kind="openai", api_key=SECRET, headers={"X-Secret-Header": SECRET})
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    assert "api_key='***'" in repr(settings)
    assert "api_key=None" in repr(ProviderSettings(name="oai", kind="openai"))


def test_provider_error_contract() -> None:
    assert set(CAUSES) == RETRYABLE_CAUSES | {"bad_request", "stream_dropped"}
    for cause in CAUSES:
        error = ProviderError(cause, None, None, "m")
        assert error.retryable == (cause in RETRYABLE_CAUSES)
    error = ProviderError("rate_limited", 429, False, "slow down", retry_after=1.5)
    assert (error.cause, error.status, error.retryable, error.message, error.retry_after) == (
        "rate_limited",
        429,
        False,
        "slow down",
        1.5,
    )
    assert str(error) == "slow down"
    assert error.to_dict() == {"cause": "rate_limited", "status": 429, "retryable": False, "message": "slow down"}
    with pytest.raises(ValueError, match="unknown provider error cause 'oops'"):
        ProviderError("oops")


@pytest.mark.anyio
async def test_client_pool_shares_one_client_per_host() -> None:
    pool = ClientPool()
    a = pool.client_for("https://api.openai.com/v1")
    assert pool.client_for("https://api.openai.com/other") is a
    assert pool.client_for("https://api.anthropic.com") is not a
    assert pool.client_for("http://api.openai.com/v1") is not a
    await pool.aclose()
    assert a.is_closed


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
async def test_finished_streams_return_their_connection_to_the_pool(kind, fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, kind, http_client)
    request = {"messages": [{"role": "user", "content": "hi"}]}
    await collect(a.stream(MODELS[kind], request))
    await collect(a.stream(MODELS[kind], request))
    await a.complete(MODELS[kind], request)
    first, second, third = fake_upstream.requests
    assert first.connection == second.connection == third.connection


@pytest.mark.anyio
async def test_abandoned_stream_closes_cleanly(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, "anthropic", http_client)
    request = {"messages": [{"role": "user", "content": "one two three four"}]}
    async with aclosing(a.stream(MODELS["anthropic"], request)) as chunks:
        async for chunk in chunks:
            assert chunk["choices"][0]["delta"]["role"] == "assistant"
            break
    # The half-read connection was discarded; the client still works.
    result = await a.complete(MODELS["anthropic"], request)
    assert result["choices"][0]["message"]["content"] == "Echo: one two three four"
    assert fake_upstream.requests[0].connection != fake_upstream.requests[1].connection
