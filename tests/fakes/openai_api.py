"""Fake OpenAI Chat Completions (`POST /v1/chat/completions`) and Azure OpenAI
(`POST /openai/deployments/{deployment}/chat/completions?api-version=…`).

`/noauth/v1/chat/completions` is the same API without authentication, like a local vLLM/Ollama.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import orjson

from .behaviour import Behaviour
from .conversation import Plan, Prompt, count_words, split_json
from .httpserver import HttpRequest, Reply, StreamReply

_ids = itertools.count(1)
_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
CREATED = 1_760_000_000


def sse(payload: Any) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def mask(key: str) -> str:
    return key[:3] + "*" * max(0, len(key) - 7) + key[-4:] if len(key) > 8 else "***"


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


class OpenAIFake:
    name = "openai"
    key = "sk-fake-openai-5f0c1d2e3b4a69788796a5b4c3d2e1f0"

    def route(self, req: HttpRequest) -> str | None:
        if req.method == "POST" and req.path in ("/v1/chat/completions", "/noauth/v1/chat/completions"):
            body = req.json if isinstance(req.json, dict) else {}
            model = body.get("model")
            return model if isinstance(model, str) else ""
        return None

    def presented_key(self, req: HttpRequest) -> str | None:
        auth = req.headers.get("authorization", "")
        return auth[len("Bearer ") :] if auth.startswith("Bearer ") else None

    def authenticate(self, req: HttpRequest) -> Reply | None:
        if req.path.startswith("/noauth/"):
            return None
        key = self.presented_key(req)
        if key is None:
            return self.error(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header "
                "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            )
        if key != self.key:
            return self.error(
                401,
                f"Incorrect API key provided: {mask(key)}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        return None

    def is_stream(self, req: HttpRequest) -> bool:
        return isinstance(req.json, dict) and req.json.get("stream") is True

    # -- errors -------------------------------------------------------------------------------

    def error(
        self, status: int, message: str | None = None, *, param: str | None = None, code: str | None = None
    ) -> Reply:
        defaults = {
            400: ("invalid_request_error", "Invalid request.", None),
            401: ("invalid_request_error", "Incorrect API key provided.", "invalid_api_key"),
            403: ("invalid_request_error", "You are not allowed to sample from this model", None),
            404: (
                "invalid_request_error",
                "The model does not exist or you do not have access to it.",
                "model_not_found",
            ),
            429: (
                "tokens",
                "Rate limit reached for requests in organization org-fake on tokens per min (TPM): "
                "Limit 30000, Used 30000, Requested 120. Please try again in 2s.",
                "rate_limit_exceeded",
            ),
            500: ("server_error", "The server had an error while processing your request. Sorry about that!", None),
            503: ("server_error", "The engine is currently overloaded, please try again later.", None),
        }
        kind, text, default_code = defaults.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", f"HTTP {status}", None)
        )
        headers = {"retry-after": "2"} if status in (429, 503) else {}
        payload = {"error": {"message": message or text, "type": kind, "param": param, "code": code or default_code}}
        return Reply.json(status, payload, headers)

    def error_event(self) -> bytes:
        return sse(
            {
                "error": {
                    "message": "The server had an error while processing your request.",
                    "type": "server_error",
                    "param": None,
                    "code": None,
                }
            }
        )

    # -- validation ---------------------------------------------------------------------------

    def validate(self, req: HttpRequest) -> Reply | None:
        body = req.json
        if not isinstance(body, dict):
            return self.error(400, "We could not parse the JSON body of your request.")
        if not body.get("model") and self.name == "openai":
            return self.error(400, "you must provide a model parameter", param="model")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return self.error(400, "[] is too short - 'messages'", param="messages")
        pending: set[str] = set()
        answered: set[str] = set()
        for i, m in enumerate(messages):
            role = m.get("role") if isinstance(m, dict) else None
            if role not in _ROLES:
                return self.error(
                    400,
                    f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.",
                    param=f"messages[{i}].role",
                )
            if role == "tool":
                call_id = m.get("tool_call_id")
                if call_id not in pending:
                    return self.error(
                        400,
                        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
                        param=f"messages.[{i}].role",
                    )
                pending.discard(call_id)
                answered.add(call_id)
                continue
            if pending:
                return self.error(
                    400,
                    "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                    f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(sorted(pending))}",
                    param="messages",
                )
            if role == "assistant":
                for call in m.get("tool_calls") or []:
                    pending.add(call.get("id"))
        if pending:
            return self.error(
                400,
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: {', '.join(sorted(pending))}",
                param="messages",
            )
        if "stream_options" in body and body.get("stream") is not True:
            return self.error(
                400, "The 'stream_options' parameter is only allowed when 'stream' is enabled.", param="stream_options"
            )
        fmt = body.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") == "json_object":
            if not any("json" in _text_of(m.get("content")).lower() for m in messages):
                return self.error(
                    400,
                    "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
                    param="messages",
                )
        return None

    # -- the model ------------------------------------------------------------------------------

    def prompt(self, req: HttpRequest) -> Prompt:
        body = req.json
        messages = body["messages"]
        last = next((m for m in reversed(messages) if m.get("role") in ("user", "tool")), messages[-1])
        media = []
        if isinstance(last.get("content"), list):
            for part in last["content"]:
                if isinstance(part, dict) and part.get("type") == "image_url":
                    url = (part.get("image_url") or {}).get("url", "")
                    if url.startswith("data:"):
                        media.append(f"[image base64 {url[5:].split(';', 1)[0]}]")
                    else:
                        media.append(f"[image url {url}]")
        tools = [
            (t["function"]["name"], t["function"].get("parameters") or {})
            for t in body.get("tools") or []
            if isinstance(t, dict) and isinstance(t.get("function"), dict)
        ]
        choice = body.get("tool_choice")
        forced = (
            choice["function"]["name"]
            if isinstance(choice, dict) and isinstance(choice.get("function"), dict)
            else None
        )
        fmt = body.get("response_format")
        stop = body.get("stop")
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        return Prompt(
            last_input=_text_of(last.get("content")),
            media=media,
            words=count_words(messages),
            tools=tools,
            forced_tool=forced,
            tool_required=choice == "required",
            json_mode=isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema"),
            stop=[stop] if isinstance(stop, str) else list(stop or []),
            max_tokens=max_tokens if isinstance(max_tokens, int) else None,
        )

    @staticmethod
    def finish(plan: Plan) -> str:
        return {"tool": "tool_calls", "length": "length", "safety": "content_filter"}.get(plan.finish, "stop")

    def usage(self, plan: Plan) -> dict[str, Any]:
        return {
            "prompt_tokens": plan.prompt_tokens,
            "completion_tokens": plan.completion_tokens,
            "total_tokens": plan.prompt_tokens + plan.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": plan.cached_tokens, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": plan.reasoning_tokens,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }

    def envelope(self, obj: dict[str, Any], model: str, behaviour: Behaviour, call_id: str) -> dict[str, Any]:
        if behaviour.no_ids:
            return obj
        return {"id": call_id, **obj, "created": CREATED, "model": model, "system_fingerprint": "fp_fake"}

    def complete(self, req: HttpRequest, model: str, plan: Plan, behaviour: Behaviour) -> Reply:
        n = req.json.get("n") or 1
        message: dict[str, Any] = {"role": "assistant", "content": plan.text, "refusal": None, "annotations": []}
        if plan.tool_name:
            message["tool_calls"] = [
                {
                    "id": f"call_fake{next(_ids)}",
                    "type": "function",
                    "function": {"name": plan.tool_name, "arguments": plan.tool_arguments},
                }
            ]
        if behaviour.reasoning_content and plan.reasoning_text:
            message["reasoning_content"] = plan.reasoning_text
        choices = [
            {"index": i, "message": message, "logprobs": None, "finish_reason": self.finish(plan)} for i in range(n)
        ]
        obj: dict[str, Any] = {"object": "chat.completion", "choices": choices}
        if not behaviour.no_usage:
            obj["usage"] = self.usage(plan)
        obj["service_tier"] = "default"
        return Reply.json(200, self.decorate(self.envelope(obj, model, behaviour, f"chatcmpl-fake{next(_ids)}")))

    def decorate(self, obj: dict[str, Any]) -> dict[str, Any]:
        return obj

    def incomplete(self, req: HttpRequest, stream: bool) -> Reply | StreamReply:
        if stream:
            return StreamReply(
                events=[sse({"object": "chat.completion.chunk", "id": "chatcmpl-x"})], terminator=[b"data: [DONE]\n\n"]
            )
        return Reply.json(200, {"id": "chatcmpl-x", "object": "chat.completion", "model": "x"})

    def stream(self, req: HttpRequest, model: str, plan: Plan, behaviour: Behaviour) -> tuple[list[bytes], list[bytes]]:
        body = req.json
        include_usage = bool((body.get("stream_options") or {}).get("include_usage")) and not behaviour.no_usage
        chunk_id = f"chatcmpl-fake{next(_ids)}"

        def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> bytes:
            obj: dict[str, Any] = {
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            if include_usage or usage is not None:
                obj["usage"] = usage
            return sse(self.envelope(obj, model, behaviour, chunk_id))

        events = self.stream_prelude()
        events.append(chunk({"role": "assistant", "content": "", "refusal": None}))
        if behaviour.reasoning_content and plan.reasoning_text:
            for piece in split_json(plan.reasoning_text, 2):
                events.append(chunk({"reasoning_content": piece}))
        for piece in plan.pieces:
            events.append(chunk({"content": piece}))
        if plan.tool_name:
            events.append(
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": f"call_fake{next(_ids)}",
                                "type": "function",
                                "function": {"name": plan.tool_name, "arguments": ""},
                            }
                        ]
                    }
                )
            )
            for fragment in split_json(plan.tool_arguments):
                events.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]}))
        last_usage = self.usage(plan) if behaviour.usage_in_last_choice and not behaviour.no_usage else None
        events.append(chunk({}, self.finish(plan), last_usage))
        if include_usage and not behaviour.usage_in_last_choice:
            usage_obj = {"object": "chat.completion.chunk", "choices": [], "usage": self.usage(plan)}
            events.append(sse(self.envelope(usage_obj, model, behaviour, chunk_id)))
        return events, [b"data: [DONE]\n\n"]

    def stream_prelude(self) -> list[bytes]:
        return []


_AZURE_PATH = re.compile(r"/openai/deployments/([^/]+)/chat/completions")
_FILTER_OK = {
    "hate": {"filtered": False, "severity": "safe"},
    "self_harm": {"filtered": False, "severity": "safe"},
    "sexual": {"filtered": False, "severity": "safe"},
    "violence": {"filtered": False, "severity": "safe"},
}


class AzureFake(OpenAIFake):
    name = "azure"
    key = "0123456789abcdef0123456789fakeaz"

    def route(self, req: HttpRequest) -> str | None:
        match = _AZURE_PATH.fullmatch(req.path)
        return match.group(1) if req.method == "POST" and match else None

    def presented_key(self, req: HttpRequest) -> str | None:
        return req.headers.get("api-key")

    def authenticate(self, req: HttpRequest) -> Reply | None:
        if "api-version" not in req.query:
            return Reply.json(404, {"error": {"code": "404", "message": "Resource not found"}})
        if self.presented_key(req) != self.key:
            return self.error(
                401,
                "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid "
                "key for an active subscription and use a correct regional API endpoint for your resource.",
            )
        return None

    def error(
        self, status: int, message: str | None = None, *, param: str | None = None, code: str | None = None
    ) -> Reply:
        if status == 400:
            return super().error(status, message, param=param, code=code)
        defaults = {
            404: ("DeploymentNotFound", "The API deployment for this resource does not exist."),
            429: (
                "429",
                "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have "
                "exceeded token rate limit of your current tier. Please retry after 2 seconds.",
            ),
        }
        default_code, text = defaults.get(status, (str(status), f"HTTP {status}"))
        headers = {"retry-after": "2"} if status == 429 else {}
        return Reply.json(status, {"error": {"code": code or default_code, "message": message or text}}, headers)

    def decorate(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": _FILTER_OK}]
        for choice in obj.get("choices", []):
            choice["content_filter_results"] = _FILTER_OK
        return obj

    def stream_prelude(self) -> list[bytes]:
        # Azure opens every stream with a prompt-filter chunk that has no choices.
        return [
            sse(
                {
                    "choices": [],
                    "created": 0,
                    "id": "",
                    "model": "",
                    "object": "",
                    "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": _FILTER_OK}],
                }
            )
        ]
