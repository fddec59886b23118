"""Fake Anthropic Messages API (`POST /v1/messages`), validating requests the way the real API
does (required max_tokens, roles, tool_use/tool_result pairing, extra fields rejected)."""

from __future__ import annotations

import base64
import binascii
import itertools
from typing import Any

import orjson

from .behaviour import Behaviour
from .conversation import Plan, Prompt, count_words, split_json
from .httpserver import HttpRequest, Reply, StreamReply

_ids = itertools.count(1)
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_FIELDS = {
    "model", "messages", "max_tokens", "system", "metadata", "stop_sequences", "stream", "temperature",
    "top_p", "top_k", "tools", "tool_choice", "thinking", "service_tier", "container", "mcp_servers",
    "context_management", "output_config",
}  # fmt: skip
_ERRORS = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "model: not found"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
    500: ("api_error", "Internal server error"),
    529: ("overloaded_error", "Overloaded"),
}


def event(kind: str, payload: dict[str, Any]) -> bytes:
    return f"event: {kind}\n".encode() + b"data: " + orjson.dumps(payload) + b"\n\n"


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


class AnthropicFake:
    name = "anthropic"
    key = "sk-ant-fake-api03-7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29-AAAA"

    def route(self, req: HttpRequest) -> str | None:
        if req.method == "POST" and req.path == "/v1/messages":
            body = req.json if isinstance(req.json, dict) else {}
            return body.get("model") if isinstance(body.get("model"), str) else ""
        return None

    def presented_key(self, req: HttpRequest) -> str | None:
        return req.headers.get("x-api-key")

    def authenticate(self, req: HttpRequest) -> Reply | None:
        if self.presented_key(req) != self.key:
            return self.error(401, "invalid x-api-key")
        if not req.headers.get("anthropic-version"):
            return self.error(400, "anthropic-version: header is required")
        return None

    def is_stream(self, req: HttpRequest) -> bool:
        return isinstance(req.json, dict) and req.json.get("stream") is True

    def error(self, status: int, message: str | None = None) -> Reply:
        kind, text = _ERRORS.get(status, ("api_error" if status >= 500 else "invalid_request_error", f"HTTP {status}"))
        headers = {"retry-after": "2"} if status in (429, 529) else {}
        payload = {
            "type": "error",
            "error": {"type": kind, "message": message or text},
            "request_id": f"req_fake{next(_ids)}",
        }
        return Reply.json(status, payload, headers)

    def error_event(self) -> bytes:
        return event("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})

    # -- validation ---------------------------------------------------------------------------

    def validate(self, req: HttpRequest) -> Reply | None:
        body = req.json
        if not isinstance(body, dict):
            return self.error(400, "Request body must be a JSON object")
        for name in body:
            if name not in _FIELDS:
                return self.error(400, f"{name}: Extra inputs are not permitted")
        for name in ("model", "messages", "max_tokens"):
            if name not in body:
                return self.error(400, f"{name}: Field required")
        if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1:
            return self.error(400, "max_tokens: Input should be a valid integer greater than or equal to 1")
        temperature = body.get("temperature")
        if temperature is not None and not (0 <= temperature <= 1):
            return self.error(400, "temperature: Input should be less than or equal to 1")
        system = body.get("system")
        if system is not None and not isinstance(system, str):
            for i, block in enumerate(_blocks(system)):
                if block.get("type") != "text" or not isinstance(block.get("text"), str):
                    return self.error(
                        400, f"system.{i}: Input tag '{block.get('type')}' does not match the expected tag 'text'"
                    )
        problem = self._check_messages(body["messages"])
        if problem:
            return self.error(400, problem)
        for i, tool in enumerate(body.get("tools") or []):
            if not isinstance(tool.get("name"), str):
                return self.error(400, f"tools.{i}.name: Field required")
            schema = tool.get("input_schema")
            if not isinstance(schema, dict):
                return self.error(400, f"tools.{i}.input_schema: Field required")
            if schema.get("type") != "object":
                return self.error(400, f"tools.{i}.custom.input_schema.type: Input should be 'object'")
        choice = body.get("tool_choice")
        if choice is not None:
            if not body.get("tools"):
                return self.error(400, "tool_choice may only be specified while providing tools.")
            if choice.get("type") not in ("auto", "any", "tool", "none"):
                return self.error(400, "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'")
            if choice["type"] == "tool" and not isinstance(choice.get("name"), str):
                return self.error(400, "tool_choice.tool.name: Field required")
        stops = body.get("stop_sequences")
        if stops is not None and (
            not isinstance(stops, list) or not all(isinstance(s, str) and s.strip() for s in stops)
        ):
            return self.error(400, "stop_sequences: each stop sequence must be a string containing non-whitespace")
        return None

    def _check_messages(self, messages: Any) -> str | None:
        if not isinstance(messages, list) or not messages:
            return "messages: at least one message is required"
        previous_tool_uses: set[Any] = set()
        for i, m in enumerate(messages):
            role = m.get("role") if isinstance(m, dict) else None
            if role == "system":
                return (
                    'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, '
                    'not "system" as an input message role.'
                )
            if role not in ("user", "assistant"):
                return f"messages.{i}.role: Input should be 'user' or 'assistant'"
            content = m.get("content")
            if not isinstance(content, (str, list)):
                return f"messages.{i}.content: Input should be a valid string or list"
            last = i == len(messages) - 1
            if (content == "" or content == []) and not (last and role == "assistant"):
                return f"messages.{i}: all messages must have non-empty content except for the optional final assistant message"
            blocks = _blocks(content)
            results = {b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"}
            missing = previous_tool_uses - results
            if missing:
                return (
                    f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                    f"{', '.join(sorted(missing))}. Each `tool_use` block must have a corresponding `tool_result` block in the next message."
                )
            unexpected = results - previous_tool_uses
            if unexpected:
                return (
                    f"messages.{i}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{', '.join(sorted(map(str, unexpected)))}. Each `tool_result` block must have a corresponding "
                    "`tool_use` block in the previous message."
                )
            seen_other = False
            for j, block in enumerate(blocks):
                kind = block.get("type")
                at = f"messages.{i}.content.{j}"
                if kind == "text":
                    if not isinstance(block.get("text"), str) or not block["text"]:
                        return f"{at}.text: text content blocks must be non-empty"
                    seen_other = True
                elif kind == "image":
                    problem = self._check_source(block.get("source"), at, _IMAGE_TYPES)
                    if problem:
                        return problem
                    seen_other = True
                elif kind == "document":
                    problem = self._check_source(block.get("source"), at, ("application/pdf",))
                    if problem:
                        return problem
                    seen_other = True
                elif kind == "tool_use":
                    if role != "assistant":
                        return f"{at}: tool_use blocks are only allowed in assistant messages"
                    if not isinstance(block.get("input"), dict):
                        return f"{at}.tool_use.input: Input should be a valid dictionary"
                elif kind == "tool_result":
                    if role != "user":
                        return f"{at}: tool_result blocks are only allowed in user messages"
                    if seen_other:
                        return f"{at}: tool_result blocks must come before any other content in a user message"
                elif kind == "thinking":
                    if not isinstance(block.get("signature"), str):
                        return f"{at}.thinking.signature: Field required"
                else:
                    return f"{at}: Input tag '{kind}' found using 'type' does not match any of the expected tags"
            previous_tool_uses = (
                {b.get("id") for b in blocks if b.get("type") == "tool_use"} if role == "assistant" else set()
            )
            if last and role == "assistant":
                texts = [b["text"] for b in blocks if b.get("type") == "text"]
                if texts and texts[-1] != texts[-1].rstrip():
                    return "messages: final assistant content cannot end with trailing whitespace"
        if previous_tool_uses:
            return (
                f"messages.{len(messages) - 1}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                f"{', '.join(sorted(previous_tool_uses))}."
            )
        return None

    @staticmethod
    def _check_source(source: Any, at: str, media_types: tuple[str, ...]) -> str | None:
        if not isinstance(source, dict):
            return f"{at}.source: Field required"
        if source.get("type") == "url":
            return None if isinstance(source.get("url"), str) else f"{at}.source.url: Field required"
        if source.get("type") != "base64":
            return f"{at}.source.type: Input should be 'base64' or 'url'"
        if source.get("media_type") not in media_types:
            return f"{at}.source.base64.media_type: Input should be {' or '.join(repr(t) for t in media_types)}"
        try:
            base64.b64decode(source.get("data") or "", validate=True)
        except (binascii.Error, ValueError):
            return f"{at}.source.base64.data: The data is not valid base64"
        return None

    # -- the model ------------------------------------------------------------------------------

    def prompt(self, req: HttpRequest) -> Prompt:
        body = req.json
        last = next((m for m in reversed(body["messages"]) if m["role"] == "user"), body["messages"][-1])
        texts, media = [], []
        for block in _blocks(last["content"]):
            kind = block.get("type")
            if kind == "text":
                texts.append(block["text"])
            elif kind == "tool_result":
                content = block.get("content")
                texts.append(
                    content if isinstance(content, str) else " ".join(b.get("text", "") for b in _blocks(content))
                )
            elif kind in ("image", "document"):
                source = block["source"]
                if source["type"] == "base64":
                    media.append(f"[{kind} base64 {source['media_type']}]")
                else:
                    media.append(f"[{kind} url {source['url']}]")
        system = body.get("system")
        system_text = system if isinstance(system, str) else " ".join(b.get("text", "") for b in _blocks(system))
        choice = body.get("tool_choice") or {}
        return Prompt(
            last_input=" ".join(texts),
            media=media,
            words=count_words(body["messages"]) + count_words(system_text),
            tools=[(t["name"], t["input_schema"]) for t in body.get("tools") or []],
            forced_tool=choice.get("name") if choice.get("type") == "tool" else None,
            tool_required=choice.get("type") == "any",
            json_mode="JSON" in system_text,
            stop=list(body.get("stop_sequences") or []),
            max_tokens=body["max_tokens"],
        )

    @staticmethod
    def stop_reason(plan: Plan) -> str:
        return {"tool": "tool_use", "length": "max_tokens", "stop_sequence": "stop_sequence", "safety": "refusal"}.get(
            plan.finish, "end_turn"
        )

    @staticmethod
    def _tool_id() -> str:
        return f"toolu_fake{next(_ids):04d}"

    def complete(self, req: HttpRequest, model: str, plan: Plan, behaviour: Behaviour) -> Reply:
        content: list[dict[str, Any]] = []
        if behaviour.reasoning and plan.reasoning_text:
            content.append({"type": "thinking", "thinking": plan.reasoning_text, "signature": "c2lnbmF0dXJl"})
        if plan.text:
            content.append({"type": "text", "text": plan.text})
        if plan.tool_name:
            content.append({"type": "tool_use", "id": self._tool_id(), "name": plan.tool_name, "input": plan.tool_args})
        return Reply.json(
            200,
            {
                "id": f"msg_fake{next(_ids)}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": content,
                "stop_reason": self.stop_reason(plan),
                "stop_sequence": plan.stop_sequence,
                "usage": self._usage(plan, final=True),
            },
        )

    @staticmethod
    def _usage(plan: Plan, *, final: bool) -> dict[str, Any]:
        return {
            "input_tokens": plan.prompt_tokens - plan.cached_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": plan.cached_tokens,
            "output_tokens": plan.completion_tokens if final else 1,
            "service_tier": "standard",
        }

    def incomplete(self, req: HttpRequest, stream: bool) -> Reply | StreamReply:
        if stream:
            return StreamReply(
                events=[event("message_start", {"type": "message_start"})],
                terminator=[event("message_stop", {"type": "message_stop"})],
            )
        return Reply.json(200, {"id": "msg_x", "type": "message", "role": "assistant", "model": "x"})

    def stream(self, req: HttpRequest, model: str, plan: Plan, behaviour: Behaviour) -> tuple[list[bytes], list[bytes]]:
        message: dict[str, Any] = {
            "id": f"msg_fake{next(_ids)}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": self._usage(plan, final=False),
        }
        events = [
            event("message_start", {"type": "message_start", "message": message}),
            event("ping", {"type": "ping"}),
        ]
        index = 0
        if behaviour.reasoning and plan.reasoning_text:
            events.append(
                event(
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "thinking", "thinking": ""},
                    },
                )
            )
            for piece in split_json(plan.reasoning_text, 2):
                events.append(
                    event(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "thinking_delta", "thinking": piece},
                        },
                    )
                )
            events.append(
                event(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "signature_delta", "signature": "c2lnbmF0dXJl"},
                    },
                )
            )
            events.append(event("content_block_stop", {"type": "content_block_stop", "index": index}))
            index += 1
        if plan.pieces:
            events.append(
                event(
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
                )
            )
            for piece in plan.pieces:
                events.append(
                    event(
                        "content_block_delta",
                        {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}},
                    )
                )
            events.append(event("content_block_stop", {"type": "content_block_stop", "index": index}))
            index += 1
        if plan.tool_name:
            block = {"type": "tool_use", "id": self._tool_id(), "name": plan.tool_name, "input": {}}
            events.append(
                event("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})
            )
            for fragment in [""] + split_json(plan.tool_arguments):
                events.append(
                    event(
                        "content_block_delta",
                        {
                            "type": "content_block_delta",
                            "index": index,
                            "delta": {"type": "input_json_delta", "partial_json": fragment},
                        },
                    )
                )
            events.append(event("content_block_stop", {"type": "content_block_stop", "index": index}))
        events.append(
            event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": self.stop_reason(plan), "stop_sequence": plan.stop_sequence},
                    "usage": {"output_tokens": plan.completion_tokens},
                },
            )
        )
        return events, [event("message_stop", {"type": "message_stop"})]
