"""Gemini adapter against the fake generateContent / streamGenerateContent API."""

from __future__ import annotations

import json

import pytest
from fakes.fixtures import anyio_backend, fake_upstream, fake_upstream_server, http_client  # noqa: F401
from fakes.gemini_api import SIGNATURE
from fakes.helpers import adapter, collect, finish_reasons, stream_text, stream_tool_calls

from unhardcoded.providers import ProviderError
from unhardcoded.providers.gemini import SKIP_SIGNATURE, sanitize_schema

pytestmark = pytest.mark.anyio

MODEL = "gemini-2.5-flash"
# A schema as pydantic writes it: $defs/$ref, additionalProperties, a nullable union, a const.
ORDER_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "item": {"$ref": "#/$defs/Item"},
        "note": {"type": ["string", "null"]},
        "kind": {"const": "order"},
        "count": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
    },
    "required": ["item"],
    "$defs": {"Item": {"type": "object", "properties": {"sku": {"type": "string"}}, "additionalProperties": False}},
}
ORDER_TOOL = {
    "type": "function",
    "function": {"name": "place_order", "description": "Order", "parameters": ORDER_SCHEMA},
}


def chat(text: str = "hello there", **extra):  # type: ignore[no-untyped-def]
    return {"messages": [{"role": "user", "content": text}], **extra}


async def test_text_round_trip_and_wire_shape(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, "gemini", http_client)
    request = {
        "messages": [
            {"role": "system", "content": "Answer in English."},
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "hi!"},
            {"role": "user", "content": "how are you"},
        ],
        "temperature": 0.2,
        "top_p": 0.8,
        "max_tokens": 100,
        "stop": ["END"],
        "seed": 7,
    }
    result = await a.complete(MODEL, request)
    assert result["choices"][0]["message"]["content"] == "Echo: how are you"
    assert result["choices"][0]["finish_reason"] == "stop"
    assert result["model"] == MODEL and result["object"] == "chat.completion"
    assert result["usage"] == {"prompt_tokens": 8, "completion_tokens": 4, "total_tokens": 12}
    sent = fake_upstream.requests[-1]
    assert sent.path == f"/v1beta/models/{MODEL}:generateContent"
    assert sent.headers["x-goog-api-key"] == fake_upstream.keys["gemini"]
    assert "key" not in sent.query  # the key never travels in the URL
    assert sent.json == {
        "contents": [
            {"role": "user", "parts": [{"text": "hello"}]},
            {"role": "model", "parts": [{"text": "hi!"}]},
            {"role": "user", "parts": [{"text": "how are you"}]},
        ],
        "systemInstruction": {"parts": [{"text": "Answer in English."}]},
        "generationConfig": {
            "temperature": 0.2,
            "topP": 0.8,
            "maxOutputTokens": 100,
            "stopSequences": ["END"],
            "seed": 7,
        },
    }

    chunks = await collect(a.stream(MODEL, request))
    sent = fake_upstream.requests[-1]
    assert sent.path == f"/v1beta/models/{MODEL}:streamGenerateContent" and sent.query == {"alt": "sse"}
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert stream_text(chunks) == "Echo: how are you"
    assert finish_reasons(chunks) == ["stop"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == result["usage"]


async def test_models_prefix_and_api_version(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(
        fake_upstream, "gemini", http_client, api_version="v1alpha", base_url=f"{fake_upstream.base_url}/v1alpha"
    )
    await a.complete("models/gemini-2.0-flash", chat())
    assert fake_upstream.requests[-1].path == "/v1alpha/models/gemini-2.0-flash:generateContent"


async def test_max_tokens_and_safety_finish_reasons(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, "gemini", http_client)
    limited = await a.complete(MODEL, chat("one two three", max_completion_tokens=2))
    assert limited["choices"][0]["finish_reason"] == "length"
    assert limited["choices"][0]["message"]["content"] == "Echo: one"
    assert fake_upstream.requests[-1].json["generationConfig"] == {"maxOutputTokens": 2}
    stopped = await a.complete(MODEL, chat("one two three", stop="two"))
    assert fake_upstream.requests[-1].json["generationConfig"] == {"stopSequences": ["two"]}
    assert stopped["choices"][0]["message"]["content"] == "Echo: one "
    assert stopped["choices"][0]["finish_reason"] == "stop"
    fake_upstream.script(MODEL, "safety")
    blocked = await a.complete(MODEL, chat())
    assert blocked["choices"][0]["finish_reason"] == "content_filter"
    assert blocked["choices"][0]["message"]["content"] == ""
    chunks = await collect(a.stream(MODEL, chat()))
    assert finish_reasons(chunks) == ["content_filter"]


async def test_blocked_prompt_maps_to_content_filter(http_client, fake_upstream) -> None:  # noqa: F811
    a = adapter(fake_upstream, "gemini", http_client)
    data = {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 4, "totalTokenCount": 4}}
    result = a._completion(data, MODEL)
    assert result["choices"][0]["finish_reason"] == "content_filter"
    assert result["usage"]["prompt_tokens"] == 4


async def test_tools_schema_is_reduced_to_what_gemini_accepts(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, "gemini", http_client)
    fake_upstream.script(MODEL, "tool_call", times=2)
    result = await a.complete(
        MODEL,
        chat("two widgets", tools=[ORDER_TOOL], tool_choice={"type": "function", "function": {"name": "place_order"}}),
    )
    sent = fake_upstream.requests[-1].json
    assert sent["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["place_order"]}}
    [declaration] = sent["tools"][0]["functionDeclarations"]
    assert declaration["parameters"] == {
        "type": "object",
        "properties": {
            "item": {"type": "object", "properties": {"sku": {"type": "string"}}},
            "note": {"type": "string", "nullable": True},
            "kind": {"enum": ["order"]},
            "count": {"type": "integer", "nullable": True, "default": None},
        },
        "required": ["item"],
    }
    choice = result["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    [call] = choice["message"]["tool_calls"]
    assert call["id"].startswith("call_") and call["function"]["name"] == "place_order"
    assert json.loads(call["function"]["arguments"]) == {
        "item": {},
        "note": "two widgets",
        "kind": "order",
        "count": 42,
    }

    chunks = await collect(a.stream(MODEL, chat("two widgets", tools=[ORDER_TOOL])))
    [streamed] = stream_tool_calls(chunks)
    assert streamed["function"]["name"] == "place_order" and streamed["id"]
    assert finish_reasons(chunks) == ["tool_calls"]


@pytest.mark.parametrize(
    ("choice", "config"),
    [("auto", {"mode": "AUTO"}), ("required", {"mode": "ANY"}), ("none", {"mode": "NONE"})],
)
async def test_tool_choice_modes(choice, config, fake_upstream, http_client) -> None:  # noqa: F811
    await adapter(fake_upstream, "gemini", http_client).complete(
        MODEL, chat("x", tools=[ORDER_TOOL], tool_choice=choice)
    )
    assert fake_upstream.requests[-1].json["toolConfig"] == {"functionCallingConfig": config}


async def test_tool_results_become_function_responses(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, "gemini", http_client)
    calls = [
        {"id": "call_a", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "a"}'}},
        {"id": "call_b", "type": "function", "function": {"name": "fetch", "arguments": "{}"}},
    ]
    request = {
        "messages": [
            {"role": "user", "content": "look things up"},
            {"role": "assistant", "content": None, "tool_calls": calls},
            {"role": "tool", "tool_call_id": "call_a", "content": '{"found": true}'},
            {"role": "tool", "tool_call_id": "call_b", "content": "plain text result"},
        ]
    }
    result = await a.complete(MODEL, request)
    contents = fake_upstream.requests[-1].json["contents"]
    assert contents[1] == {
        "role": "model",
        "parts": [
            {"functionCall": {"name": "lookup", "args": {"q": "a"}}},
            {"functionCall": {"name": "fetch", "args": {}}},
        ],
    }
    assert contents[2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"name": "lookup", "response": {"found": True}}},
            {"functionResponse": {"name": "fetch", "response": {"content": "plain text result"}}},
        ],
    }
    assert result["choices"][0]["message"]["content"] == 'Echo: {"found":true} plain text result'


async def test_gemini3_thought_signatures_survive_the_tool_round_trip(fake_upstream, http_client) -> None:  # noqa: F811
    model = "gemini-3-pro-preview"
    a = adapter(fake_upstream, "gemini", http_client)
    fake_upstream.script(model, "tool_call", times=1)
    first = await a.complete(model, chat("Paris", tools=[ORDER_TOOL]))
    [call] = first["choices"][0]["message"]["tool_calls"]
    follow_up = {
        "messages": [
            {"role": "user", "content": "Paris"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "content": "ok"},
        ],
        "tools": [ORDER_TOOL],
    }
    answer = await a.complete(model, follow_up)
    assert answer["choices"][0]["message"]["content"] == "Echo: ok"
    assert fake_upstream.requests[-1].json["contents"][1]["parts"][0]["thoughtSignature"] == SIGNATURE

    # A tool call that Gemini never produced (say, from another model before a failover).
    foreign = {"id": "call_from_elsewhere", "type": "function", "function": {"name": "place_order", "arguments": "{}"}}
    follow_up["messages"][1:] = [
        {"role": "assistant", "content": None, "tool_calls": [foreign]},
        {"role": "tool", "tool_call_id": "call_from_elsewhere", "content": "ok"},
    ]
    await a.complete(model, follow_up)
    assert fake_upstream.requests[-1].json["contents"][1]["parts"][0]["thoughtSignature"] == SKIP_SIGNATURE
    # Older models get no placeholder.
    await a.complete(MODEL, follow_up)
    assert "thoughtSignature" not in fake_upstream.requests[-1].json["contents"][1]["parts"][0]


async def test_images_inline_and_by_uri(fake_upstream, http_client) -> None:  # noqa: F811
    request = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "describe"},
                    {"type": "image_url", "image_url": {"url": "data:image/webp;base64,UklGRg=="}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/photo.png?x=1"}},
                ],
            }
        ]
    }
    result = await adapter(fake_upstream, "gemini", http_client).complete(MODEL, request)
    parts = fake_upstream.requests[-1].json["contents"][0]["parts"]
    assert parts[1] == {"inlineData": {"mimeType": "image/webp", "data": "UklGRg=="}}
    assert parts[2] == {"fileData": {"mimeType": "image/png", "fileUri": "https://example.com/photo.png?x=1"}}
    assert result["choices"][0]["message"]["content"] == (
        "Echo: describe [inline image/webp] [file image/png https://example.com/photo.png?x=1]"
    )


async def test_json_mode_and_response_schema(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, "gemini", http_client)
    result = await a.complete(MODEL, chat("data", response_format={"type": "json_object"}))
    assert fake_upstream.requests[-1].json["generationConfig"] == {"responseMimeType": "application/json"}
    assert json.loads(result["choices"][0]["message"]["content"]) == {"echo": "data"}
    fmt = {"type": "json_schema", "json_schema": {"name": "order", "schema": ORDER_SCHEMA, "strict": True}}
    chunks = await collect(a.stream(MODEL, chat("data", response_format=fmt)))
    config = fake_upstream.requests[-1].json["generationConfig"]
    assert config["responseSchema"] == sanitize_schema(ORDER_SCHEMA)
    assert "additionalProperties" not in json.dumps(config)
    assert json.loads(stream_text(chunks)) == {"echo": "data"}


async def test_cached_and_thought_tokens(fake_upstream, http_client) -> None:  # noqa: F811
    fake_upstream.script(MODEL, "cached:30,reasoning:9")
    a = adapter(fake_upstream, "gemini", http_client)
    result = await a.complete(MODEL, chat("hi"))
    assert result["usage"] == {
        "prompt_tokens": 31,
        "completion_tokens": 2 + 9,
        "total_tokens": 42,
        "prompt_tokens_details": {"cached_tokens": 30},
        "completion_tokens_details": {"reasoning_tokens": 9},
    }
    chunks = await collect(a.stream(MODEL, chat("hi")))
    assert chunks[-1]["usage"] == result["usage"]


async def test_reasoning_effort_and_candidate_count(fake_upstream, http_client) -> None:  # noqa: F811
    a = adapter(fake_upstream, "gemini", http_client)
    result = await a.complete(MODEL, chat("x", reasoning_effort="low", n=2))
    config = fake_upstream.requests[-1].json["generationConfig"]
    assert config == {"candidateCount": 2, "thinkingConfig": {"thinkingBudget": 1024}}
    assert [c["index"] for c in result["choices"]] == [0, 1]
    await a.complete("gemini-3-flash-preview", chat("x", reasoning_effort="high"))
    assert fake_upstream.requests[-1].json["generationConfig"] == {"thinkingConfig": {"thinkingLevel": "high"}}


async def test_tool_result_without_a_matching_call_fails_before_io(fake_upstream, http_client) -> None:  # noqa: F811
    request = {"messages": [{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "nope", "content": "y"}]}
    with pytest.raises(ProviderError) as info:
        await adapter(fake_upstream, "gemini", http_client).complete(MODEL, request)
    assert info.value.cause == "bad_request" and "no assistant tool call with id 'nope'" in str(info.value)
    assert fake_upstream.requests == []


async def test_the_fake_rejects_openai_field_names(fake_upstream, http_client) -> None:  # noqa: F811
    response = await http_client.post(
        f"{fake_upstream.base_url}/v1beta/models/{MODEL}:generateContent",
        json={"contents": [{"role": "user", "parts": [{"text": "x"}]}], "generationConfig": {"max_tokens": 5}},
        headers={"x-goog-api-key": fake_upstream.keys["gemini"]},
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == (
        "Invalid JSON payload received. Unknown name \"max_tokens\" at 'generation_config': Cannot find field."
    )
