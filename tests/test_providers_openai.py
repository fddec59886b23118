"""OpenAI, OpenAI-compatible and Azure adapters against the fake upstream: round trips through
the real wire format, in both non-streaming and streaming mode."""

from __future__ import annotations

import json

import pytest
from fakes.fixtures import anyio_backend, fake_upstream, fake_upstream_server, http_client  # noqa: F401
from fakes.helpers import MODELS, adapter, collect, finish_reasons, stream_text, stream_tool_calls

from unhardcoded.providers import ProviderError

pytestmark = pytest.mark.anyio

OPENAI_WIRE = ("openai", "openai_compatible", "azure")
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}
PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def chat(text: str = "hello there world", **extra):  # type: ignore[no-untyped-def]
    return {"messages": [{"role": "user", "content": text}], **extra}


@pytest.mark.parametrize("kind", OPENAI_WIRE)
async def test_text_round_trip(kind, fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, kind, http_client)
    request = {
        "model": "ignored",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello there"}],
    }
    result = await a.complete(MODELS[kind], request)
    assert result["object"] == "chat.completion"
    assert result["choices"][0]["message"] == {
        **result["choices"][0]["message"],
        "role": "assistant",
        "content": "Echo: hello there",
    }
    assert result["choices"][0]["finish_reason"] == "stop"
    assert result["usage"]["total_tokens"] == result["usage"]["prompt_tokens"] + result["usage"]["completion_tokens"]
    sent = fake_upstream.requests[-1]
    assert sent.json["messages"][0] == {"role": "system", "content": "Be brief."}
    assert "stream" not in sent.json and "stream_options" not in sent.json
    assert request["model"] == "ignored"  # the caller's request is not mutated

    chunks = await collect(a.stream(MODELS[kind], request))
    assert stream_text(chunks) == "Echo: hello there"
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert finish_reasons(chunks) == ["stop"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 3
    assert all("usage" not in c for c in chunks[:-1])
    sent = fake_upstream.requests[-1]
    assert sent.json["stream"] is True and sent.json["stream_options"] == {"include_usage": True}


async def test_openai_sends_bearer_key_and_model(fake_upstream, http_client) -> None:  # noqa: F811
    await adapter(fake_upstream, "openai", http_client).complete("gpt-4o-mini", chat())
    sent = fake_upstream.requests[-1]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {fake_upstream.keys['openai']}"
    assert sent.json["model"] == "gpt-4o-mini"


async def test_custom_headers_are_sent_and_caller_stream_options_kept(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, "openai", http_client, headers={"OpenAI-Organization": "org-1"})
    await collect(a.stream("gpt-4o-mini", chat(stream=False, stream_options={"include_obfuscation": False})))
    sent = fake_upstream.requests[-1]
    assert sent.headers["openai-organization"] == "org-1"
    assert sent.json["stream_options"] == {"include_obfuscation": False, "include_usage": True}
    assert sent.json["stream"] is True


@pytest.mark.parametrize("kind", OPENAI_WIRE)
async def test_tool_call_and_tool_result_round_trip(kind, fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, kind, http_client)
    model = MODELS[kind]
    fake_upstream.script(model, "tool_call", times=2)
    request = chat("Paris", tools=[WEATHER_TOOL], tool_choice="auto")
    result = await a.complete(model, request)
    choice = result["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    [call] = choice["message"]["tool_calls"]
    assert call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris", "days": 42}
    assert fake_upstream.requests[-1].json["tools"] == [WEATHER_TOOL]

    chunks = await collect(a.stream(model, request))
    [streamed] = stream_tool_calls(chunks)
    assert streamed["function"]["name"] == "get_weather" and streamed["id"]
    assert json.loads(streamed["function"]["arguments"]) == {"city": "Paris", "days": 42}
    assert finish_reasons(chunks) == ["tool_calls"]

    follow_up = {
        "messages": [
            {"role": "user", "content": "Paris"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "content": "sunny, 21C"},
        ],
        "tools": [WEATHER_TOOL],
    }
    answer = await a.complete(model, follow_up)
    assert answer["choices"][0]["message"]["content"] == "Echo: sunny, 21C"


@pytest.mark.parametrize("kind", OPENAI_WIRE)
async def test_image_json_stop_and_max_tokens(kind, fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, kind, http_client)
    model = MODELS[kind]
    image = {
        "role": "user",
        "content": [{"type": "text", "text": "what is this"}, {"type": "image_url", "image_url": {"url": PNG}}],
    }
    result = await a.complete(model, {"messages": [image]})
    assert result["choices"][0]["message"]["content"] == "Echo: what is this [image base64 image/png]"

    as_json = await a.complete(model, chat("reply in json please", response_format={"type": "json_object"}))
    assert json.loads(as_json["choices"][0]["message"]["content"]) == {"echo": "reply in json please"}

    stopped = await a.complete(model, chat("one two three four", stop=["three"]))
    assert stopped["choices"][0]["message"]["content"] == "Echo: one two "
    assert stopped["choices"][0]["finish_reason"] == "stop"

    limited = await a.complete(model, chat("one two three four", max_tokens=2))
    assert limited["choices"][0]["message"]["content"] == "Echo: one"
    assert limited["choices"][0]["finish_reason"] == "length"
    chunks = await collect(a.stream(model, chat("one two three four", max_tokens=2)))
    assert stream_text(chunks) == "Echo: one" and finish_reasons(chunks) == ["length"]


async def test_openai_rejects_json_mode_without_the_word_json(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, "openai", http_client)
    with pytest.raises(ProviderError) as info:
        await a.complete("gpt-4o-mini", chat("hello", response_format={"type": "json_object"}))
    assert (info.value.cause, info.value.status, info.value.retryable) == ("bad_request", 400, False)
    assert "must contain the word 'json'" in str(info.value)


@pytest.mark.parametrize("kind", OPENAI_WIRE)
async def test_cached_and_reasoning_tokens_pass_through(kind, fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, kind, http_client)
    model = MODELS[kind]
    fake_upstream.script(model, "cached:5,reasoning:7")
    usage = (await a.complete(model, chat("hello")))["usage"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 5
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 7
    assert usage["prompt_tokens"] == 1 + 5 and usage["completion_tokens"] == 2 + 7
    chunks = await collect(a.stream(model, chat("hello")))
    assert chunks[-1]["usage"] == usage


async def test_content_filter_finish_reason(fake_upstream, http_client) -> None:  # noqa: F811
    fake_upstream.script("gpt-4o-mini", "safety")
    result = await adapter(fake_upstream, "openai", http_client).complete("gpt-4o-mini", chat())
    assert result["choices"][0]["finish_reason"] == "content_filter"


async def test_n_choices_pass_through(fake_upstream, http_client) -> None:  # noqa: F811
    result = await adapter(fake_upstream, "openai", http_client).complete("gpt-4o-mini", chat(n=2))
    assert [c["index"] for c in result["choices"]] == [0, 1]


# -- OpenAI-compatible servers ------------------------------------------------------------------


async def test_compat_tolerates_missing_ids_usage_and_reasoning_content(fake_upstream, http_client) -> None:  # noqa: F811
    model = "deepseek-reasoner"
    fake_upstream.script(model, "no_ids,no_usage,reasoning_content")
    a = adapter(fake_upstream, "openai_compatible", http_client)
    result = await a.complete(model, chat("hi"))
    assert result["id"].startswith("chatcmpl-") and isinstance(result["created"], int) and result["model"] == model
    assert "usage" not in result
    assert result["choices"][0]["message"]["reasoning_content"] == "Thinking about: hi"

    chunks = await collect(a.stream(model, chat("hi")))
    assert stream_text(chunks) == "Echo: hi"
    assert stream_text(chunks, "reasoning_content") == "Thinking about: hi"
    assert all(c["choices"] for c in chunks)  # no usage chunk when the server reports none
    assert len({c["id"] for c in chunks}) == 1 and all(c["model"] == model for c in chunks)


async def test_compat_usage_on_the_finish_chunk_is_moved_to_a_final_usage_chunk(fake_upstream, http_client) -> None:  # noqa: F811
    model = "mixtral"
    fake_upstream.script(model, "usage_in_last_choice")
    chunks = await collect(adapter(fake_upstream, "openai_compatible", http_client).stream(model, chat("a b")))
    assert finish_reasons(chunks) == ["stop"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 3
    assert all("usage" not in c for c in chunks[:-1])


async def test_compat_sends_max_tokens_instead_of_max_completion_tokens(fake_upstream, http_client) -> None:  # noqa: F811
    result = await adapter(fake_upstream, "openai_compatible", http_client).complete(
        "qwen", chat("one two three", max_completion_tokens=2)
    )
    sent = fake_upstream.requests[-1].json
    assert sent["max_tokens"] == 2 and "max_completion_tokens" not in sent
    assert result["choices"][0]["finish_reason"] == "length"


@pytest.mark.parametrize("key", ["", None])
async def test_compat_keyless_server_gets_no_auth_header(key, fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(
        fake_upstream, "openai_compatible", http_client, api_key=key, base_url=f"{fake_upstream.base_url}/noauth/v1"
    )
    result = await a.complete("llama3", chat("local"))
    assert result["choices"][0]["message"]["content"] == "Echo: local"
    assert "authorization" not in fake_upstream.requests[-1].headers


# -- Azure ----------------------------------------------------------------------------------------


async def test_azure_wire_details(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, "azure", http_client, base_url=f"{fake_upstream.base_url}/openai/")
    await a.complete("prod-gpt4o", chat())
    sent = fake_upstream.requests[-1]
    assert sent.path == "/openai/deployments/prod-gpt4o/chat/completions"
    assert sent.query == {"api-version": "2024-10-21"}
    assert sent.headers["api-key"] == fake_upstream.keys["azure"]
    assert "authorization" not in sent.headers and "model" not in sent.json

    b = adapter(fake_upstream, "azure", http_client, api_version="2025-01-01-preview")
    chunks = await collect(b.stream("prod-gpt4o", chat()))
    assert fake_upstream.requests[-1].query == {"api-version": "2025-01-01-preview"}
    # Azure's opening prompt-filter chunk (no choices, no usage) is not passed on.
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert [c for c in chunks if not c["choices"]] == [chunks[-1]]
