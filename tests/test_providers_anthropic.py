"""Anthropic adapter against the fake Messages API: OpenAI requests mapped to Anthropic's wire and
Anthropic responses/events mapped back."""

from __future__ import annotations

import json

import pytest
from fakes.fixtures import anyio_backend, fake_upstream, fake_upstream_server, http_client  # noqa: F401
from fakes.helpers import adapter, collect, finish_reasons, stream_text, stream_tool_calls

from unhardcoded.providers import ProviderError
from unhardcoded.providers.anthropic import JSON_INSTRUCTION

pytestmark = pytest.mark.anyio

MODEL = "claude-sonnet-4-5"
SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the docs",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}}},
    },
}
PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def chat(text: str = "hello there", **extra):  # type: ignore[no-untyped-def]
    return {"messages": [{"role": "user", "content": text}], **extra}


async def test_text_round_trip_and_wire_shape(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, "anthropic", http_client)
    request = {
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "hello there"},
        ]
    }
    result = await a.complete(MODEL, request)
    message = result["choices"][0]["message"]
    assert message["role"] == "assistant" and message["content"] == "Echo: hello there"
    assert result["choices"][0]["finish_reason"] == "stop"
    assert result["id"].startswith("msg_") and result["model"] == MODEL
    assert result["usage"] == {
        "prompt_tokens": 5,
        "completion_tokens": 3,
        "total_tokens": 8,
        "prompt_tokens_details": {"cached_tokens": 0},
    }
    sent = fake_upstream.requests[-1]
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == fake_upstream.keys["anthropic"]
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in sent.headers
    assert sent.json == {
        "model": MODEL,
        "max_tokens": 4096,
        "system": [{"type": "text", "text": "You are terse."}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hello there"}]}],
    }

    chunks = await collect(a.stream(MODEL, request))
    assert fake_upstream.requests[-1].json["stream"] is True
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert stream_text(chunks) == "Echo: hello there"
    assert finish_reasons(chunks) == ["stop"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == result["usage"]
    assert len({c["id"] for c in chunks}) == 1


async def test_parameters_mapping(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, "anthropic", http_client, api_version="2023-06-01", headers={"anthropic-beta": "x-1"})
    request = {
        "messages": [
            {"role": "developer", "content": [{"type": "text", "text": "Rule one."}]},
            {"role": "user", "content": "one two three four"},
            {"role": "system", "content": "Rule two."},
        ],
        "temperature": 1.7,
        "top_p": 0.9,
        "stop": "three",
        "max_completion_tokens": 50,
        "max_tokens": 10,
        "user": "user-42",
        "presence_penalty": 0.5,
        "seed": 3,
    }
    result = await a.complete(MODEL, request)
    sent = fake_upstream.requests[-1]
    assert sent.headers["anthropic-beta"] == "x-1"
    assert sent.json["system"] == [{"type": "text", "text": "Rule one."}, {"type": "text", "text": "Rule two."}]
    assert sent.json["temperature"] == 1.0
    assert sent.json["top_p"] == 0.9
    assert sent.json["stop_sequences"] == ["three"]
    assert sent.json["max_tokens"] == 50
    assert sent.json["metadata"] == {"user_id": "user-42"}
    assert result["choices"][0]["message"]["content"] == "Echo: one two "
    assert result["choices"][0]["finish_reason"] == "stop"


async def test_max_tokens_finish_reason(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, "anthropic", http_client)
    result = await a.complete(MODEL, chat("one two three", max_tokens=2))
    assert result["choices"][0] | {"message": None} == {
        "index": 0,
        "message": None,
        "finish_reason": "length",
        "logprobs": None,
    }
    assert result["choices"][0]["message"]["content"] == "Echo: one"
    chunks = await collect(a.stream(MODEL, chat("one two three", max_tokens=2)))
    assert finish_reasons(chunks) == ["length"] and stream_text(chunks) == "Echo: one"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", {"type": "auto"}),
        ("required", {"type": "any"}),
        ({"type": "function", "function": {"name": "search"}}, {"type": "tool", "name": "search"}),
    ],
)
async def test_tool_choice_mapping(choice, expected, fake_upstream, http_client) -> None:  # noqa: F811
    await adapter(fake_upstream, "anthropic", http_client).complete(
        MODEL, chat("docs", tools=[SEARCH_TOOL], tool_choice=choice)
    )
    sent = fake_upstream.requests[-1].json
    assert sent["tool_choice"] == expected
    assert sent["tools"] == [
        {"name": "search", "description": "Search the docs", "input_schema": SEARCH_TOOL["function"]["parameters"]}
    ]


async def test_parallel_tool_calls_false_and_none_choice(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, "anthropic", http_client)
    await a.complete(MODEL, chat("docs", tools=[SEARCH_TOOL], parallel_tool_calls=False))
    assert fake_upstream.requests[-1].json["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    result = await a.complete(MODEL, chat("docs", tools=[SEARCH_TOOL], tool_choice="none"))
    assert fake_upstream.requests[-1].json["tool_choice"] == {"type": "none"}
    assert result["choices"][0]["message"]["content"] == "Echo: docs"


async def test_tool_call_then_tool_result(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, "anthropic", http_client)
    fake_upstream.script(MODEL, "tool_call", times=2)
    result = await a.complete(MODEL, chat("pricing", tools=[SEARCH_TOOL]))
    choice = result["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    [call] = choice["message"]["tool_calls"]
    assert call["id"].startswith("toolu_") and call["type"] == "function"
    assert call["function"]["name"] == "search"
    assert json.loads(call["function"]["arguments"]) == {"query": "pricing", "limit": 42}

    chunks = await collect(a.stream(MODEL, chat("pricing", tools=[SEARCH_TOOL])))
    [streamed] = stream_tool_calls(chunks)
    assert streamed["id"].startswith("toolu_") and streamed["function"]["name"] == "search"
    assert json.loads(streamed["function"]["arguments"]) == {"query": "pricing", "limit": 42}
    assert finish_reasons(chunks) == ["tool_calls"]

    follow_up = {
        "messages": [
            {"role": "user", "content": "pricing"},
            {"role": "assistant", "content": "Let me look.", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "content": "Plans start at $10."},
            {"role": "user", "content": "Summarise it"},
        ],
        "tools": [SEARCH_TOOL],
    }
    answer = await a.complete(MODEL, follow_up)
    sent = fake_upstream.requests[-1].json["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": call["id"], "name": "search", "input": {"query": "pricing", "limit": 42}},
        ],
    }
    # The tool result and the next user text share one user turn, tool result first.
    assert sent[2] == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": call["id"], "content": "Plans start at $10."},
            {"type": "text", "text": "Summarise it"},
        ],
    }
    assert len(sent) == 3
    assert answer["choices"][0]["message"]["content"] == "Echo: Plans start at $10. Summarise it"


async def test_images_as_base64_and_url_sources(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, "anthropic", http_client)
    request = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "compare"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}", "detail": "high"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                ],
            }
        ]
    }
    result = await a.complete(MODEL, request)
    blocks = fake_upstream.requests[-1].json["messages"][0]["content"]
    assert blocks[1] == {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}}
    assert blocks[2] == {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}
    assert result["choices"][0]["message"]["content"] == (
        "Echo: compare [image base64 image/png] [image url https://example.com/cat.jpg]"
    )


async def test_json_mode_becomes_a_system_instruction_with_the_schema(fake_upstream, http_client) -> None:  # noqa: F811
    schema = {"type": "object", "properties": {"echo": {"type": "string"}}, "required": ["echo"]}
    request = chat("give json", response_format={"type": "json_schema", "json_schema": {"name": "r", "schema": schema}})
    a = adapter(fake_upstream, "anthropic", http_client)
    result = await a.complete(MODEL, request)
    system = fake_upstream.requests[-1].json["system"]
    assert system[-1]["text"].startswith(JSON_INSTRUCTION)
    assert json.dumps(schema, separators=(",", ":")) in system[-1]["text"]
    assert json.loads(result["choices"][0]["message"]["content"]) == {"echo": "give json"}
    chunks = await collect(a.stream(MODEL, chat("give json", response_format={"type": "json_object"})))
    assert json.loads(stream_text(chunks)) == {"echo": "give json"}


def test_fenced_json_is_unwrapped_in_json_mode(fake_upstream_server) -> None:  # noqa: F811
    a = adapter(fake_upstream_server, "anthropic", None)
    data = {
        "id": "msg_1",
        "type": "message",
        "content": [{"type": "text", "text": '```json\n{"a": 1}\n```'}],
        "stop_reason": "end_turn",
    }
    assert a._completion(data, MODEL, json_mode=True)["choices"][0]["message"]["content"] == '{"a": 1}'
    assert a._completion(data, MODEL, json_mode=False)["choices"][0]["message"]["content"].startswith("```json")


async def test_cache_reads_and_thinking(fake_upstream, http_client) -> None:  # noqa: F811
    fake_upstream.script(MODEL, "cached:40,reasoning:6")
    a = adapter(fake_upstream, "anthropic", http_client)
    result = await a.complete(MODEL, chat("hi"))
    assert result["usage"]["prompt_tokens"] == 1 + 40
    assert result["usage"]["prompt_tokens_details"] == {"cached_tokens": 40}
    assert result["usage"]["completion_tokens"] == 2 + 6
    assert result["choices"][0]["message"]["reasoning_content"] == "Thinking about: hi"
    assert result["choices"][0]["message"]["content"] == "Echo: hi"
    chunks = await collect(a.stream(MODEL, chat("hi")))
    assert stream_text(chunks, "reasoning_content") == "Thinking about: hi"
    assert stream_text(chunks) == "Echo: hi"
    assert chunks[-1]["usage"] == result["usage"]


async def test_refusal_maps_to_content_filter(fake_upstream, http_client) -> None:  # noqa: F811
    fake_upstream.script(MODEL, "safety")
    result = await adapter(fake_upstream, "anthropic", http_client).complete(MODEL, chat())
    assert result["choices"][0]["finish_reason"] == "content_filter"


async def test_prefill_trailing_whitespace_is_trimmed(fake_upstream, http_client) -> None:  # noqa: F811
    request = {"messages": [{"role": "user", "content": "count"}, {"role": "assistant", "content": "One, two, "}]}
    await adapter(fake_upstream, "anthropic", http_client).complete(MODEL, request)
    assert fake_upstream.requests[-1].json["messages"][-1]["content"] == [{"type": "text", "text": "One, two,"}]


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        (chat(n=2), "n > 1"),
        ({"messages": []}, "messages must be a non-empty array"),
        ({"messages": [{"role": "critic", "content": "x"}]}, "messages[0].role 'critic'"),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,%%%"}}],
                    }
                ]
            },
            "messages[0].content[0]: data URL payload is not valid base64",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AA=="}}]}]},
            "'input_audio'",
        ),
        (
            {
                "messages": [
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [{"id": "t1", "function": {"name": "f", "arguments": "{oops"}}],
                    }
                ]
            },
            "not valid JSON",
        ),
        (chat(tools=[SEARCH_TOOL], tool_choice="sometimes"), "tool_choice"),
    ],
)
async def test_untranslatable_requests_fail_before_any_io(request_, fragment, fake_upstream, http_client) -> None:  # noqa: F811
    with pytest.raises(ProviderError) as info:
        await adapter(fake_upstream, "anthropic", http_client).complete(MODEL, request_)
    assert (info.value.cause, info.value.retryable, info.value.status) == ("bad_request", False, None)
    assert fragment in str(info.value)
    assert fake_upstream.requests == []


async def test_the_fake_rejects_what_the_real_api_rejects(fake_upstream, http_client) -> None:  # noqa: F811
    headers = {"x-api-key": fake_upstream.keys["anthropic"], "anthropic-version": "2023-06-01"}
    url = f"{fake_upstream.base_url}/v1/messages"
    missing = await http_client.post(
        url, json={"model": MODEL, "messages": [{"role": "user", "content": "x"}]}, headers=headers
    )
    assert missing.status_code == 400
    assert missing.json()["error"] == {"type": "invalid_request_error", "message": "max_tokens: Field required"}
    system_role = await http_client.post(
        url, json={"model": MODEL, "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}, headers=headers
    )
    assert "top-level `system` parameter" in system_role.json()["error"]["message"]
    extra = await http_client.post(
        url,
        json={"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}], "response_format": {}},
        headers=headers,
    )
    assert extra.json()["error"]["message"] == "response_format: Extra inputs are not permitted"
