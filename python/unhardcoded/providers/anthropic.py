"""Anthropic Messages API (`POST /v1/messages`).

Request mapping choices:
- `system`/`developer` messages, wherever they appear, become the top-level `system` blocks.
- assistant `tool_calls` become `tool_use` blocks; `tool` messages become `tool_result` blocks in a
  user turn; consecutive turns of one role are merged (tool results first, as Anthropic requires).
- `max_tokens` is required by Anthropic: `max_completion_tokens`, else `max_tokens`, else 4096.
- `temperature` is clamped to Anthropic's 0…1 range (OpenAI allows up to 2).
- JSON mode (`response_format` json_object / json_schema) has no native equivalent on every model,
  so it becomes an extra system instruction (with the schema); no assistant prefill is used,
  because prefill is refused by models with extended thinking. A reply wrapped in a Markdown code
  fence is unwrapped in non-streaming responses.
- `n` > 1 is refused (Anthropic returns one message). `user` goes to `metadata.user_id`.
  `parallel_tool_calls: false` sets `disable_parallel_tool_use`. Parameters with no Anthropic
  equivalent (penalties, logit_bias, seed, logprobs, reasoning_effort, …) are not sent.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from . import chat_format as cf
from .base import Adapter, ProviderError

__all__ = ["DEFAULT_MAX_TOKENS", "DEFAULT_VERSION", "AnthropicAdapter"]

DEFAULT_MAX_TOKENS = 4096
DEFAULT_VERSION = "2023-06-01"
JSON_INSTRUCTION = (
    "Respond with a single valid JSON object and nothing else: no prose before or after it, no Markdown code fences."
)

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

_ERROR_TYPE_CAUSE = {
    "overloaded_error": "server_error",
    "api_error": "server_error",
    "rate_limit_error": "rate_limited",
    "authentication_error": "auth",
    "permission_error": "auth",
    "not_found_error": "not_found",
    "invalid_request_error": "bad_request",
    "request_too_large": "bad_request",
    "timeout_error": "timeout",
}

_FENCE = re.compile(r"^\s*```(?:json)?[ \t]*\n?(.*?)\n?```\s*$", re.DOTALL)


def _finish(stop_reason: Any) -> str | None:
    if stop_reason is None:
        return None
    return _FINISH.get(stop_reason, "stop")


def _num(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _usage(raw: dict[str, Any]) -> dict[str, Any]:
    """Anthropic's `input_tokens` excludes cache reads and writes; OpenAI's prompt_tokens is the
    whole prompt, with the cache hits as a detail."""
    cache_read = _num(raw.get("cache_read_input_tokens")) or 0
    cache_write = _num(raw.get("cache_creation_input_tokens")) or 0
    prompt = (_num(raw.get("input_tokens")) or 0) + cache_read + cache_write
    return cf.usage(prompt, _num(raw.get("output_tokens")) or 0, cached_tokens=cache_read)


def _json_response_format(request: dict[str, Any]) -> tuple[bool, Any]:
    fmt = request.get("response_format")
    if not isinstance(fmt, dict):
        return False, None
    if fmt.get("type") == "json_object":
        return True, None
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        return True, spec.get("schema") if isinstance(spec, dict) else None
    return False, None


class AnthropicAdapter(Adapter):
    kind = "anthropic"
    default_base_url = "https://api.anthropic.com"

    def __init__(self, settings, client) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings, client)
        if self.base_url.endswith("/v1"):
            self.base_url = self.base_url[: -len("/v1")]

    def url(self) -> str:
        return f"{self.base_url}/v1/messages"

    def auth_headers(self) -> dict[str, str]:
        return {"x-api-key": self.require_key(), "anthropic-version": self.settings.api_version or DEFAULT_VERSION}

    # -- request ------------------------------------------------------------------------------

    def body(self, upstream_model: str, request: dict[str, Any], *, stream: bool) -> dict[str, Any]:
        if not isinstance(request, dict):
            raise self.bad_request("the request must be a JSON object")
        messages = request.get("messages")
        if not isinstance(messages, list) or not messages:
            raise self.bad_request("messages must be a non-empty array")
        n = request.get("n")
        if n not in (None, 1):
            raise self.bad_request("n > 1 is not supported by the Anthropic Messages API")

        system: list[dict[str, Any]] = []
        turns: list[dict[str, Any]] = []
        for i, message in enumerate(messages):
            where = f"messages[{i}]"
            if not isinstance(message, dict):
                raise self.bad_request(f"{where} must be an object")
            role = message.get("role")
            if role in ("system", "developer"):
                system.extend(self._text_blocks(message.get("content"), where))
            elif role == "user":
                self._append(turns, "user", self._user_blocks(message.get("content"), where))
            elif role == "assistant":
                self._append(turns, "assistant", self._assistant_blocks(message, where))
            elif role == "tool":
                self._append(turns, "user", [self._tool_result(message, where)])
            else:
                raise self.bad_request(f"{where}.role {role!r} is not supported (use system, user, assistant or tool)")
        if not turns:
            raise self.bad_request("messages must contain at least one user or assistant message")
        last = turns[-1]
        if last["role"] == "assistant":
            # Anthropic refuses a prefill that ends in whitespace.
            for block in reversed(last["content"]):
                if block.get("type") == "text":
                    block["text"] = block["text"].rstrip()
                    if not block["text"]:
                        last["content"].remove(block)
                    break
            if not last["content"]:
                turns.pop()

        json_mode, schema = _json_response_format(request)
        if json_mode:
            instruction = JSON_INSTRUCTION
            if schema is not None:
                instruction += " The object must conform to this JSON Schema: " + cf.dumps(schema)
            system.append({"type": "text", "text": instruction})

        body: dict[str, Any] = {"model": upstream_model, "messages": turns}
        max_tokens = request.get("max_completion_tokens")
        if max_tokens is None:
            max_tokens = request.get("max_tokens")
        body["max_tokens"] = DEFAULT_MAX_TOKENS if max_tokens is None else max_tokens
        if system:
            body["system"] = system
        temperature = request.get("temperature")
        if isinstance(temperature, (int, float)) and not isinstance(temperature, bool):
            body["temperature"] = min(max(float(temperature), 0.0), 1.0)
        if request.get("top_p") is not None:
            body["top_p"] = request["top_p"]
        stop = request.get("stop")
        if isinstance(stop, str):
            stop = [stop]
        if isinstance(stop, list):
            sequences = [s for s in stop if isinstance(s, str) and s.strip()]
            if sequences:
                body["stop_sequences"] = sequences
        if isinstance(request.get("user"), str):
            body["metadata"] = {"user_id": request["user"]}
        tools = request.get("tools")
        if tools:
            body["tools"] = self._tools(tools)
            choice = self._tool_choice(request.get("tool_choice"))
            if request.get("parallel_tool_calls") is False:
                choice = choice or {"type": "auto"}
                if choice["type"] != "none":
                    choice["disable_parallel_tool_use"] = True
            if choice is not None:
                body["tool_choice"] = choice
        if stream:
            body["stream"] = True
        return body

    @staticmethod
    def _append(turns: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return
        if turns and turns[-1]["role"] == role:
            merged = turns[-1]["content"] + blocks
            if role == "user":
                # tool_result blocks must open the user turn that answers a tool_use turn.
                merged = [b for b in merged if b.get("type") == "tool_result"] + [
                    b for b in merged if b.get("type") != "tool_result"
                ]
            turns[-1]["content"] = merged
        else:
            turns.append({"role": role, "content": blocks})

    def _text_blocks(self, content: Any, where: str) -> list[dict[str, Any]]:
        if content is None:
            return []
        if isinstance(content, str):
            return [{"type": "text", "text": content}] if content else []
        if not isinstance(content, list):
            raise self.bad_request(f"{where}.content must be a string or an array of parts")
        blocks = []
        for j, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") not in ("text", "input_text"):
                raise self.bad_request(f"{where}.content[{j}] must be a text part here")
            text = part.get("text")
            if not isinstance(text, str):
                raise self.bad_request(f"{where}.content[{j}].text must be a string")
            if text:
                block: dict[str, Any] = {"type": "text", "text": text}
                if isinstance(part.get("cache_control"), dict):
                    block["cache_control"] = part["cache_control"]
                blocks.append(block)
        return blocks

    def _user_blocks(self, content: Any, where: str) -> list[dict[str, Any]]:
        if content is None or isinstance(content, str):
            return self._text_blocks(content, where)
        if not isinstance(content, list):
            raise self.bad_request(f"{where}.content must be a string or an array of parts")
        blocks: list[dict[str, Any]] = []
        for j, part in enumerate(content):
            at = f"{where}.content[{j}]"
            kind = part.get("type") if isinstance(part, dict) else None
            if kind in ("text", "input_text"):
                blocks.extend(self._text_blocks([part], where))
            elif kind in ("image_url", "input_image"):
                blocks.append(self._image_block(part, at))
            elif kind == "file":
                blocks.append(self._file_block(part, at))
            else:
                raise self.bad_request(f"{at}: content part type {kind!r} is not supported by Anthropic")
        return blocks

    def _image_block(self, part: dict[str, Any], at: str) -> dict[str, Any]:
        url = cf.image_url(part)
        if not url:
            raise self.bad_request(f"{at}: image part has no url")
        try:
            data = cf.parse_data_url(url)
        except ValueError as exc:
            raise self.bad_request(f"{at}: {exc}") from None
        if data is None:
            source: dict[str, Any] = {"type": "url", "url": url}
        else:
            source = {"type": "base64", "media_type": data.media_type, "data": data.data}
        block: dict[str, Any] = {"type": "image", "source": source}
        if isinstance(part.get("cache_control"), dict):
            block["cache_control"] = part["cache_control"]
        return block

    def _file_block(self, part: dict[str, Any], at: str) -> dict[str, Any]:
        file = part.get("file")
        raw = file.get("file_data") if isinstance(file, dict) else None
        try:
            data = cf.parse_data_url(raw) if isinstance(raw, str) else None
        except ValueError as exc:
            raise self.bad_request(f"{at}: {exc}") from None
        if data is None or data.media_type != "application/pdf":
            raise self.bad_request(f"{at}: only PDF files given as data URLs are supported by Anthropic")
        return {"type": "document", "source": {"type": "base64", "media_type": data.media_type, "data": data.data}}

    def _assistant_blocks(self, message: dict[str, Any], where: str) -> list[dict[str, Any]]:
        content = message.get("content")
        if isinstance(content, list):
            texts = [p for p in content if isinstance(p, dict) and p.get("type") in ("text", "output_text")]
            content = [{"type": "text", "text": p.get("text")} for p in texts]
        blocks = self._text_blocks(content, where)
        calls = message.get("tool_calls")
        if calls is None and isinstance(message.get("function_call"), dict):
            legacy = message["function_call"]
            calls = [{"id": cf.new_id("toolu_"), "type": "function", "function": legacy}]
        for k, call in enumerate(calls or []):
            at = f"{where}.tool_calls[{k}]"
            function = call.get("function") if isinstance(call, dict) else None
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                raise self.bad_request(f"{at} must have a function with a name")
            if not isinstance(call.get("id"), str) or not call["id"]:
                raise self.bad_request(f"{at}.id must be a non-empty string")
            blocks.append(
                {
                    "type": "tool_use",
                    "id": call["id"],
                    "name": function["name"],
                    "input": cf.tool_arguments(function.get("arguments"), self.bad_request, at),
                }
            )
        return blocks

    def _tool_result(self, message: dict[str, Any], where: str) -> dict[str, Any]:
        call_id = message.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            raise self.bad_request(f"{where}.tool_call_id must be a non-empty string")
        content = message.get("content")
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id}
        if isinstance(content, list):
            parts = self._user_blocks(content, where)
            if parts:
                block["content"] = parts
        else:
            text = cf.text_of(content)
            if text:
                block["content"] = text
        return block

    def _tools(self, tools: Any) -> list[dict[str, Any]]:
        out = []
        for tool, function, name in self.function_tools(tools):
            schema = function.get("parameters")
            if not isinstance(schema, dict):
                schema = {"type": "object", "properties": {}}
            entry: dict[str, Any] = {"name": name, "input_schema": schema}
            if isinstance(function.get("description"), str):
                entry["description"] = function["description"]
            if isinstance(tool.get("cache_control"), dict):
                entry["cache_control"] = tool["cache_control"]
            out.append(entry)
        return out

    def _tool_choice(self, choice: Any) -> dict[str, Any] | None:
        if choice is None:
            return None
        if choice == "auto":
            return {"type": "auto"}
        if choice == "required":
            return {"type": "any"}
        if choice == "none":
            return {"type": "none"}
        if isinstance(choice, dict):
            function = choice.get("function")
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                return {"type": "tool", "name": function["name"]}
        raise self.bad_request("tool_choice must be 'auto', 'required', 'none' or a named function")

    # -- errors -------------------------------------------------------------------------------

    def error_detail(self, status: int | None, payload: Any) -> tuple[str | None, str | None]:
        if not isinstance(payload, dict) or not isinstance(payload.get("error"), dict):
            return None, None
        error = payload["error"]
        kind = error.get("type")
        message = error.get("message") if isinstance(error.get("message"), str) else None
        text = f"{kind}: {message}" if kind and message else (message or kind)
        # 529 and an overloaded_error are capacity problems whatever the status says.
        override = "server_error" if kind == "overloaded_error" else None
        if status is None:
            override = _ERROR_TYPE_CAUSE.get(kind, "stream_dropped") if isinstance(kind, str) else "stream_dropped"
        return text, override

    # -- non-streaming ------------------------------------------------------------------------

    async def complete(self, upstream_model: str, request: dict) -> dict:
        headers = self.headers(self.auth_headers(), stream=False)
        body = self.body(upstream_model, request, stream=False)
        data = await self.post_json(self.url(), body, headers)
        return self._completion(data, upstream_model, json_mode=_json_response_format(request)[0])

    def _completion(self, data: Any, upstream_model: str, *, json_mode: bool) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.error("bad_response", "the response is not a JSON object")
        if data.get("type") == "error":
            text, override = self.error_detail(None, data)
            raise self.error(override or "bad_response", f"error response: {self.detail_text(text or '')}")
        content = data.get("content")
        if not isinstance(content, list):
            raise self.error("bad_response", "the response has no content array")
        texts: list[str] = []
        reasoning: list[str] = []
        tool_calls: list[dict[str, Any]] = []
        for block in content:
            if not isinstance(block, dict):
                raise self.error("bad_response", "a content block is not an object")
            kind = block.get("type")
            if kind == "text" and isinstance(block.get("text"), str):
                texts.append(block["text"])
            elif kind == "thinking" and isinstance(block.get("thinking"), str):
                reasoning.append(block["thinking"])
            elif kind == "tool_use":
                if not isinstance(block.get("name"), str):
                    raise self.error("bad_response", "a tool_use block has no name")
                tool_calls.append(
                    {
                        "id": block.get("id") or cf.new_id("toolu_"),
                        "type": "function",
                        "function": {"name": block["name"], "arguments": cf.dumps(block.get("input") or {})},
                    }
                )
        text = "".join(texts)
        if json_mode:
            fenced = _FENCE.match(text)
            if fenced:
                text = fenced.group(1)
        message: dict[str, Any] = {
            "role": "assistant",
            "content": text if (text or not tool_calls) else None,
            "refusal": None,
        }
        if tool_calls:
            message["tool_calls"] = tool_calls
        if reasoning:
            message["reasoning_content"] = "".join(reasoning)
        finish = _finish(data.get("stop_reason")) or ("tool_calls" if tool_calls else "stop")
        raw_usage = data.get("usage")
        return cf.completion(
            data.get("id") or cf.new_id("msg_"),
            data.get("model") or upstream_model,
            cf.now(),
            [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            _usage(raw_usage) if isinstance(raw_usage, dict) else None,
        )

    # -- streaming ----------------------------------------------------------------------------

    async def stream(self, upstream_model: str, request: dict) -> AsyncIterator[dict]:
        headers = self.headers(self.auth_headers(), stream=True)
        body = self.body(upstream_model, request, stream=True)
        msg_id = cf.new_id("msg_")
        model = upstream_model
        created = cf.now()
        raw_usage: dict[str, Any] = {}
        tool_index: dict[int, int] = {}
        stopped = False
        async with self.open_sse(self.url(), body, headers) as events:
            async for event in events:
                obj = self.parse_event_json(event)
                if not isinstance(obj, dict):
                    raise self.error("bad_response", "a stream event is not a JSON object")
                kind = obj.get("type") or event.event
                if kind == "ping":
                    continue
                if kind == "error":
                    raise self._stream_error(obj)
                if kind == "message_start":
                    message = obj.get("message")
                    if not isinstance(message, dict):
                        raise self.error("bad_response", "message_start has no message")
                    msg_id = message.get("id") or msg_id
                    model = message.get("model") or model
                    self._merge_usage(raw_usage, message.get("usage"))
                    yield cf.chunk(msg_id, model, created, {"role": "assistant", "content": ""})
                elif kind == "content_block_start":
                    delta = self._block_start(obj, tool_index)
                    if delta:
                        yield cf.chunk(msg_id, model, created, delta)
                elif kind == "content_block_delta":
                    delta = self._block_delta(obj, tool_index)
                    if delta:
                        yield cf.chunk(msg_id, model, created, delta)
                elif kind == "message_delta":
                    self._merge_usage(raw_usage, obj.get("usage"))
                    change = obj.get("delta")
                    finish = _finish(change.get("stop_reason")) if isinstance(change, dict) else None
                    if finish is not None:
                        yield cf.chunk(msg_id, model, created, {}, finish)
                elif kind == "message_stop":
                    stopped = True
                    break
                # content_block_stop and event types added after this adapter was written carry
                # nothing a chat completion chunk can express.
        if not stopped:
            raise self.error("stream_dropped", "the stream ended before its message_stop event")
        if raw_usage:
            yield cf.usage_chunk(msg_id, model, created, _usage(raw_usage))

    @staticmethod
    def _merge_usage(into: dict[str, Any], raw: Any) -> None:
        # message_delta usage is cumulative and may repeat input counts; later values win.
        if isinstance(raw, dict):
            into.update({k: v for k, v in raw.items() if v is not None})

    def _stream_error(self, obj: dict[str, Any]) -> ProviderError:
        text, cause = self.error_detail(None, obj)
        return self.error(
            cause or "stream_dropped", f"error event mid-stream: {self.detail_text(text or 'unknown error')}"
        )

    def _block_start(self, obj: dict[str, Any], tool_index: dict[int, int]) -> dict[str, Any] | None:
        block = obj.get("content_block")
        index = obj.get("index")
        if not isinstance(block, dict):
            raise self.error("bad_response", "content_block_start has no content_block")
        kind = block.get("type")
        if kind == "tool_use":
            if not isinstance(index, int) or not isinstance(block.get("name"), str):
                raise self.error("bad_response", "a tool_use block start lacks its index or name")
            position = len(tool_index)
            tool_index[index] = position
            initial = block.get("input")
            arguments = cf.dumps(initial) if isinstance(initial, dict) and initial else ""
            return {
                "tool_calls": [
                    {
                        "index": position,
                        "id": block.get("id") or cf.new_id("toolu_"),
                        "type": "function",
                        "function": {"name": block["name"], "arguments": arguments},
                    }
                ]
            }
        if kind == "text" and block.get("text"):
            return {"content": block["text"]}
        if kind == "thinking" and block.get("thinking"):
            return {"reasoning_content": block["thinking"]}
        return None

    def _block_delta(self, obj: dict[str, Any], tool_index: dict[int, int]) -> dict[str, Any] | None:
        delta = obj.get("delta")
        if not isinstance(delta, dict):
            raise self.error("bad_response", "content_block_delta has no delta")
        kind = delta.get("type")
        if kind == "text_delta":
            return {"content": delta.get("text") or ""}
        if kind == "thinking_delta":
            return {"reasoning_content": delta.get("thinking") or ""}
        if kind == "input_json_delta":
            position = tool_index.get(obj.get("index"))  # type: ignore[arg-type]
            if position is None:
                raise self.error("bad_response", "input_json_delta for a block that is not a tool_use")
            return {"tool_calls": [{"index": position, "function": {"arguments": delta.get("partial_json") or ""}}]}
        return None
