"""OpenAI Chat Completions. The request is already in OpenAI's shape, so this adapter only pins
the model and the stream options, then checks and tidies what comes back.

The response side is deliberately tolerant (missing ids, `created`, `usage`; `reasoning` instead
of `reasoning_content`; usage attached to the last content chunk) because the OpenAI-compatible
and Azure adapters reuse it for servers that follow OpenAI's wire only loosely.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from . import chat_format as cf
from .base import Adapter, ProviderError

__all__ = ["OpenAIAdapter"]

_ROUTER_ONLY_FIELDS = ("policy_ir", "flow_ir")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def normalize_usage(raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    out = dict(raw)
    prompt = _int(raw.get("prompt_tokens"))
    completion = _int(raw.get("completion_tokens"))
    out["prompt_tokens"] = prompt
    out["completion_tokens"] = completion
    total = raw.get("total_tokens")
    out["total_tokens"] = total if isinstance(total, int) and not isinstance(total, bool) else prompt + completion
    # DeepSeek reports its cache hits under its own name.
    hit = raw.get("prompt_cache_hit_tokens")
    if isinstance(hit, int) and not isinstance(out.get("prompt_tokens_details"), dict):
        out["prompt_tokens_details"] = {"cached_tokens": hit}
    return out


def _normalize_reasoning(message: dict[str, Any]) -> None:
    reasoning = message.get("reasoning")
    if isinstance(reasoning, str) and "reasoning_content" not in message:
        message["reasoning_content"] = reasoning


class OpenAIAdapter(Adapter):
    kind = "openai"
    default_base_url = "https://api.openai.com/v1"

    # -- request ------------------------------------------------------------------------------

    def url(self, upstream_model: str) -> str:
        return f"{self.base_url}/chat/completions"

    def params(self) -> dict[str, str] | None:
        return None

    def auth_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.require_key()}"}

    def body(self, upstream_model: str, request: dict[str, Any], *, stream: bool) -> dict[str, Any]:
        if not isinstance(request, dict):
            raise self.bad_request("the request must be a JSON object")
        body = {k: v for k, v in request.items() if k not in _ROUTER_ONLY_FIELDS}
        body["model"] = upstream_model
        if stream:
            body["stream"] = True
            options = body.get("stream_options")
            body["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
        else:
            body.pop("stream", None)
            body.pop("stream_options", None)
        return body

    # -- errors -------------------------------------------------------------------------------

    def error_detail(self, status: int | None, payload: Any) -> tuple[str | None, str | None]:
        if isinstance(payload, list) and payload:
            payload = payload[0]
        if not isinstance(payload, dict):
            return None, None
        error = payload.get("error")
        if isinstance(error, dict):
            message = error.get("message")
            code = error.get("code") or error.get("type")
            text = message if isinstance(message, str) else None
            if text and isinstance(code, str) and code not in text:
                text = f"{text} ({code})"
            return text, None
        if isinstance(error, str):  # Ollama, some proxies
            return error, None
        for key in ("detail", "message"):  # FastAPI-based servers (vLLM), misc
            value = payload.get(key)
            if isinstance(value, str):
                return value, None
            if value is not None:
                return cf.dumps(value), None
        return None, None

    def stream_error(self, error: Any) -> ProviderError:
        """An `{"error": …}` object delivered inside an otherwise successful stream."""
        text, _ = self.error_detail(None, {"error": error})
        code = ""
        status = None
        if isinstance(error, dict):
            code = f"{error.get('type') or ''} {error.get('code') or ''}".lower()
            if isinstance(error.get("code"), int):
                status = error["code"]
        if "rate_limit" in code or status == 429:
            cause = "rate_limited"
        elif "server_error" in code or "overloaded" in code or "internal" in code or (status or 0) >= 500:
            cause = "server_error"
        else:
            cause = "stream_dropped"
        return self.error(cause, f"error event mid-stream: {self.detail_text(text or 'unknown error')}", status=status)

    # -- non-streaming ------------------------------------------------------------------------

    async def complete(self, upstream_model: str, request: dict) -> dict:
        headers = self.headers(self.auth_headers(), stream=False)
        body = self.body(upstream_model, request, stream=False)
        data = await self.post_json(self.url(upstream_model), body, headers, self.params())
        return self.normalize_completion(data, upstream_model)

    def normalize_completion(self, data: Any, upstream_model: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.error("bad_response", "the response is not a JSON object")
        if "error" in data and "choices" not in data:
            text, _ = self.error_detail(None, data)
            raise self.error("bad_response", f"the response is an error object: {self.detail_text(text or '')}")
        choices = data.get("choices")
        if not isinstance(choices, list) or not choices:
            raise self.error("bad_response", "the response has no choices")
        out = dict(data)
        out["object"] = "chat.completion"
        out["id"] = data.get("id") or cf.new_id()
        out["created"] = data.get("created") if isinstance(data.get("created"), int) else cf.now()
        out["model"] = data.get("model") or upstream_model
        normalized = []
        for position, choice in enumerate(choices):
            if not isinstance(choice, dict) or not isinstance(choice.get("message"), dict):
                raise self.error("bad_response", f"choice {position} has no message")
            choice = dict(choice)
            message = dict(choice["message"])
            message.setdefault("role", "assistant")
            message.setdefault("content", None)
            _normalize_reasoning(message)
            if isinstance(message.get("tool_calls"), list):
                message["tool_calls"] = [self._tool_call(tc) for tc in message["tool_calls"]]
            choice["message"] = message
            choice.setdefault("index", position)
            choice.setdefault("finish_reason", "tool_calls" if message.get("tool_calls") else "stop")
            normalized.append(choice)
        out["choices"] = normalized
        usage = normalize_usage(data.get("usage"))
        if usage is None:
            out.pop("usage", None)
        else:
            out["usage"] = usage
        return out

    def _tool_call(self, call: Any) -> Any:
        if not isinstance(call, dict):
            raise self.error("bad_response", "a tool call is not an object")
        call = dict(call)
        call.setdefault("type", "function")
        if not call.get("id"):
            call["id"] = cf.new_id("call_")
        function = call.get("function")
        if isinstance(function, dict) and not isinstance(function.get("arguments"), str):
            function = dict(function)
            function["arguments"] = cf.dumps(function.get("arguments") or {})
            call["function"] = function
        return call

    # -- streaming ----------------------------------------------------------------------------

    async def stream(self, upstream_model: str, request: dict) -> AsyncIterator[dict]:
        headers = self.headers(self.auth_headers(), stream=True)
        body = self.body(upstream_model, request, stream=True)
        chunk_id = cf.new_id()
        created = cf.now()
        model = upstream_model
        pending_usage: dict[str, Any] | None = None
        done = False
        async with self.open_sse(self.url(upstream_model), body, headers, self.params()) as events:
            async for event in events:
                data = event.data.strip()
                if data == "[DONE]":
                    done = True
                    break
                if not data:
                    continue
                obj = self.parse_event_json(event)
                if not isinstance(obj, dict):
                    raise self.error("bad_response", "a stream event is not a JSON object")
                if obj.get("error") is not None and not obj.get("choices"):
                    raise self.stream_error(obj["error"])
                if obj.get("id"):
                    chunk_id = obj["id"]
                if isinstance(obj.get("created"), int) and obj["created"] > 0:
                    created = obj["created"]
                if obj.get("model"):
                    model = obj["model"]
                raw_usage = obj.get("usage")
                if raw_usage is None and isinstance(obj.get("x_groq"), dict):
                    raw_usage = obj["x_groq"].get("usage")
                usage = normalize_usage(raw_usage)
                if usage is not None:
                    pending_usage = usage
                choices = obj.get("choices")
                if choices is None and usage is None:
                    raise self.error("bad_response", "a stream chunk has neither choices nor usage")
                if not choices:
                    # Usage-only chunks are re-emitted last; Azure's prompt-filter chunk carries nothing.
                    continue
                if not isinstance(choices, list):
                    raise self.error("bad_response", "a stream chunk's choices is not a list")
                yield self._chunk(obj, chunk_id, created, model, choices)
        if not done:
            raise self.error("stream_dropped", "the stream ended before its [DONE] terminator")
        if pending_usage is not None:
            yield cf.usage_chunk(chunk_id, model, created, pending_usage)

    def _chunk(
        self, obj: dict[str, Any], chunk_id: str, created: int, model: str, choices: list[Any]
    ) -> dict[str, Any]:
        out = {k: v for k, v in obj.items() if k not in ("usage", "x_groq")}
        out["id"] = chunk_id
        out["object"] = "chat.completion.chunk"
        out["created"] = created
        out["model"] = model
        normalized = []
        for position, choice in enumerate(choices):
            if not isinstance(choice, dict):
                raise self.error("bad_response", "a stream choice is not an object")
            choice = dict(choice)
            delta = choice.get("delta")
            delta = dict(delta) if isinstance(delta, dict) else {}
            _normalize_reasoning(delta)
            choice["delta"] = delta
            choice.setdefault("index", position)
            choice.setdefault("finish_reason", None)
            normalized.append(choice)
        out["choices"] = normalized
        return out
