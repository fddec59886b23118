"""Fake Gemini API: `POST /v1beta/models/{model}:generateContent` and
`:streamGenerateContent?alt=sse`. Unknown JSON fields are refused the way Google's proto-based
endpoint does, a wrong key gets 400 API_KEY_INVALID, and Gemini 3 models demand thought
signatures on replayed function calls."""

from __future__ import annotations

import itertools
import re
from typing import Any

import orjson

from .behaviour import Behaviour
from .conversation import Plan, Prompt, count_words
from .httpserver import HttpRequest, Reply, StreamReply

_ids = itertools.count(1)
_PATH = re.compile(r"/(v1beta|v1|v1alpha)/models/([^/:]+):(generateContent|streamGenerateContent)")
_TOP = {
    "contents", "systemInstruction", "system_instruction", "tools", "toolConfig", "tool_config",
    "safetySettings", "safety_settings", "generationConfig", "generation_config", "cachedContent", "cached_content",
}  # fmt: skip
_CONFIG = {
    "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "responseModalities",
    "candidateCount", "maxOutputTokens", "temperature", "topP", "topK", "seed", "presencePenalty",
    "frequencyPenalty", "responseLogprobs", "logprobs", "thinkingConfig", "mediaResolution", "speechConfig",
}  # fmt: skip
_SCHEMA = {
    "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties",
    "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf",
    "propertyOrdering", "default", "items", "minimum", "maximum",
}  # fmt: skip
_PART = {"text", "inlineData", "fileData", "functionCall", "functionResponse", "thought", "thoughtSignature"}
_ERRORS = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: ("UNAUTHENTICATED", "Request had invalid authentication credentials."),
    403: ("PERMISSION_DENIED", "The caller does not have permission"),
    404: ("NOT_FOUND", "models/unknown is not found for API version v1beta, or is not supported for generateContent."),
    429: ("RESOURCE_EXHAUSTED", "You exceeded your current quota, please check your plan and billing details."),
    500: (
        "INTERNAL",
        "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
    ),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}
SIGNATURE = "ZmFrZS10aG91Z2h0LXNpZ25hdHVyZQ=="


def sse(payload: Any) -> bytes:
    # Google's SSE framing uses CRLF line ends.
    return b"data: " + orjson.dumps(payload) + b"\r\n\r\n"


def _unknown(name: str, where: str) -> str:
    at = f" at '{where}'" if where else ""
    return f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.'


def _check_schema(schema: Any, where: str) -> str | None:
    if not isinstance(schema, dict):
        return None
    for key, value in schema.items():
        if key not in _SCHEMA:
            return _unknown(key, where)
        if key == "properties" and isinstance(value, dict):
            for name, sub in value.items():
                problem = _check_schema(sub, f"{where}.properties[{name}].value")
                if problem:
                    return problem
        elif key == "items":
            problem = _check_schema(value, f"{where}.items")
            if problem:
                return problem
        elif key == "anyOf" and isinstance(value, list):
            for k, sub in enumerate(value):
                problem = _check_schema(sub, f"{where}.any_of[{k}]")
                if problem:
                    return problem
    return None


class GeminiFake:
    name = "gemini"
    key = "AIzaFakeGeminiKey0123456789abcdefghijklmn"

    def route(self, req: HttpRequest) -> str | None:
        match = _PATH.fullmatch(req.path)
        return match.group(2) if req.method == "POST" and match else None

    def presented_key(self, req: HttpRequest) -> str | None:
        return req.headers.get("x-goog-api-key") or req.query.get("key")

    def authenticate(self, req: HttpRequest) -> Reply | None:
        key = self.presented_key(req)
        if not key:
            return self.error(
                403,
                "Method doesn't allow unregistered callers (callers without established identity). Please use API "
                "Key or other form of API consumer identity to call this API.",
            )
        if key != self.key:
            return self.error(400, "API key not valid. Please pass a valid API key.", reason="API_KEY_INVALID")
        return None

    def is_stream(self, req: HttpRequest) -> bool:
        return req.path.endswith(":streamGenerateContent")

    def error(self, status: int, message: str | None = None, *, reason: str | None = None) -> Reply:
        grpc, text = _ERRORS.get(status, ("INTERNAL" if status >= 500 else "INVALID_ARGUMENT", f"HTTP {status}"))
        error: dict[str, Any] = {"code": status, "message": message or text, "status": grpc}
        if reason:
            error["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": reason,
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ]
        if status == 429:
            error["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"}]
        return Reply.json(status, {"error": error})

    def error_event(self) -> bytes:
        return sse(
            {
                "error": {
                    "code": 503,
                    "message": "The model is overloaded. Please try again later.",
                    "status": "UNAVAILABLE",
                }
            }
        )

    # -- validation ---------------------------------------------------------------------------

    def validate(self, req: HttpRequest) -> Reply | None:
        body = req.json
        if not isinstance(body, dict):
            return self.error(400, "Invalid JSON payload received.")
        for name in body:
            if name not in _TOP:
                return self.error(400, _unknown(name, ""))
        config = body.get("generationConfig") or {}
        for name in config:
            if name not in _CONFIG:
                return self.error(400, _unknown(name, "generation_config"))
        if len(config.get("stopSequences") or []) > 5:
            return self.error(
                400, "* GenerateContentRequest.generation_config.stop_sequences: at most 5 stop sequences"
            )
        if "responseSchema" in config:
            if config.get("responseMimeType") != "application/json":
                return self.error(
                    400,
                    "* GenerateContentRequest.generation_config.response_mime_type: must be application/json when response_schema is set.",
                )
            problem = _check_schema(config["responseSchema"], "generation_config.response_schema")
            if problem:
                return self.error(400, problem)
        for t, tool in enumerate(body.get("tools") or []):
            for d, decl in enumerate(tool.get("functionDeclarations") or []):
                if not isinstance(decl.get("name"), str):
                    return self.error(
                        400,
                        f"* GenerateContentRequest.tools[{t}].function_declarations[{d}].name: Name cannot be empty.",
                    )
                problem = _check_schema(decl.get("parameters"), f"tools[{t}].function_declarations[{d}].parameters")
                if problem:
                    return self.error(400, problem)
        mode = ((body.get("toolConfig") or {}).get("functionCallingConfig") or {}).get("mode")
        if mode is not None and mode not in ("AUTO", "ANY", "NONE", "VALIDATED"):
            return self.error(400, f"Invalid value at 'tool_config.function_calling_config.mode', \"{mode}\"")
        system = body.get("systemInstruction")
        if system is not None and not (isinstance(system, dict) and isinstance(system.get("parts"), list)):
            return self.error(400, "* GenerateContentRequest.system_instruction: parts must be a list")
        problem = self._check_contents(body.get("contents"), req)
        return self.error(400, problem) if problem else None

    def _check_contents(self, contents: Any, req: HttpRequest) -> str | None:
        if not isinstance(contents, list) or not contents:
            return "* GenerateContentRequest.contents: contents is not specified\n"
        strict_signatures = self.route(req).startswith("gemini-3")  # type: ignore[union-attr]
        previous: set[str] | None = None
        previous_role: str | None = None
        for i, content in enumerate(contents):
            role = content.get("role") if isinstance(content, dict) else None
            if role not in ("user", "model"):
                return "Please use a valid role: user, model."
            parts = content.get("parts")
            if not isinstance(parts, list) or not parts:
                return f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.\n"
            kinds = set()
            for j, part in enumerate(parts):
                if not isinstance(part, dict):
                    return f"* GenerateContentRequest.contents[{i}].parts[{j}]: must be an object"
                for name in part:
                    if name not in _PART:
                        return _unknown(name, f"contents[{i}].parts[{j}]")
                data = [k for k in ("text", "inlineData", "fileData", "functionCall", "functionResponse") if k in part]
                if len(data) != 1:
                    return f"* GenerateContentRequest.contents[{i}].parts[{j}].data: required oneof field 'data' must have one initialized field"
                kinds.add(data[0])
                if "inlineData" in part:
                    inline = part["inlineData"]
                    if not isinstance(inline.get("mimeType"), str) or not isinstance(inline.get("data"), str):
                        return f"* GenerateContentRequest.contents[{i}].parts[{j}].inline_data: mime_type and data are required"
                if "functionResponse" in part and not isinstance(part["functionResponse"].get("response"), dict):
                    return f"Invalid value at 'contents[{i}].parts[{j}].function_response.response' (type.googleapis.com/google.protobuf.Struct)"
            if "functionResponse" in kinds and not (previous and "functionCall" in previous):
                return "Please ensure that function response turn comes immediately after a function call turn."
            if "functionCall" in kinds:
                if previous_role != "user":
                    return (
                        "Please ensure that function call turn comes immediately after a user turn or after a function "
                        "response turn."
                    )
                first_call = next(p for p in parts if "functionCall" in p)
                if strict_signatures and not first_call.get("thoughtSignature"):
                    return (
                        "Function call is missing a thought_signature in functionCall parts. This is required for tools "
                        f"to work correctly, and missing thought_signature may lead to degraded model performance. "
                        f"Additional data, function call `default_api:{first_call['functionCall'].get('name')}` , position {i + 1}."
                    )
            previous, previous_role = kinds, role
        return None

    # -- the model ------------------------------------------------------------------------------

    def prompt(self, req: HttpRequest) -> Prompt:
        body = req.json
        contents = body["contents"]
        last = next((c for c in reversed(contents) if c["role"] == "user"), contents[-1])
        texts, media = [], []
        for part in last["parts"]:
            if "text" in part:
                texts.append(part["text"])
            elif "functionResponse" in part:
                response = part["functionResponse"]["response"]
                texts.append(response["content"] if set(response) == {"content"} else orjson.dumps(response).decode())
            elif "inlineData" in part:
                media.append(f"[inline {part['inlineData']['mimeType']}]")
            elif "fileData" in part:
                media.append(f"[file {part['fileData'].get('mimeType')} {part['fileData'].get('fileUri')}]")
        config = body.get("generationConfig") or {}
        calling = (body.get("toolConfig") or {}).get("functionCallingConfig") or {}
        allowed = calling.get("allowedFunctionNames") or []
        tools = [
            (d["name"], d.get("parameters") or {})
            for t in body.get("tools") or []
            for d in t.get("functionDeclarations") or []
        ]
        system = body.get("systemInstruction") or {}
        return Prompt(
            last_input=" ".join(texts),
            media=media,
            words=count_words(contents) + count_words(system),
            tools=tools,
            forced_tool=allowed[0] if calling.get("mode") == "ANY" and len(allowed) == 1 else None,
            tool_required=calling.get("mode") == "ANY",
            json_mode=config.get("responseMimeType") == "application/json",
            stop=list(config.get("stopSequences") or []),
            max_tokens=config.get("maxOutputTokens"),
            thoughts_requested=bool((config.get("thinkingConfig") or {}).get("includeThoughts")),
        )

    @staticmethod
    def finish_reason(plan: Plan) -> str:
        return {"length": "MAX_TOKENS", "safety": "SAFETY"}.get(plan.finish, "STOP")

    @staticmethod
    def usage(plan: Plan) -> dict[str, Any]:
        candidates = plan.completion_tokens - plan.reasoning_tokens
        meta: dict[str, Any] = {
            "promptTokenCount": plan.prompt_tokens,
            "candidatesTokenCount": candidates,
            "totalTokenCount": plan.prompt_tokens + plan.completion_tokens,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": plan.prompt_tokens}],
        }
        if plan.cached_tokens:
            meta["cachedContentTokenCount"] = plan.cached_tokens
        if plan.reasoning_tokens:
            meta["thoughtsTokenCount"] = plan.reasoning_tokens
        return meta

    def _call_part(self, model: str, plan: Plan) -> dict[str, Any]:
        part: dict[str, Any] = {"functionCall": {"name": plan.tool_name, "args": plan.tool_args}}
        if model.startswith("gemini-3"):
            part["thoughtSignature"] = SIGNATURE
        return part

    def _response(
        self,
        model: str,
        response_id: str,
        parts: list[dict[str, Any]],
        finish: str | None,
        usage: dict[str, Any],
        n: int = 1,
    ) -> dict[str, Any]:
        candidates = []
        for index in range(n):
            candidate: dict[str, Any] = {"index": index}
            if parts:
                candidate["content"] = {"parts": parts, "role": "model"}
            if finish:
                candidate["finishReason"] = finish
            candidates.append(candidate)
        return {"candidates": candidates, "usageMetadata": usage, "modelVersion": model, "responseId": response_id}

    def complete(self, req: HttpRequest, model: str, plan: Plan, behaviour: Behaviour) -> Reply:
        parts: list[dict[str, Any]] = []
        if plan.reasoning_text and behaviour.reasoning and self.prompt(req).thoughts_requested:
            parts.append({"text": plan.reasoning_text, "thought": True})
        if plan.text:
            parts.append({"text": plan.text})
        if plan.tool_name:
            parts.append(self._call_part(model, plan))
        n = (req.json.get("generationConfig") or {}).get("candidateCount") or 1
        return Reply.json(
            200, self._response(model, f"fake{next(_ids)}", parts, self.finish_reason(plan), self.usage(plan), n)
        )

    def incomplete(self, req: HttpRequest, stream: bool) -> Reply | StreamReply:
        if stream:
            return StreamReply(events=[sse({"modelVersion": "x"})], terminator=[sse({"candidates": "oops"})])
        return Reply.json(200, {"modelVersion": "x", "responseId": "x"})

    def stream(self, req: HttpRequest, model: str, plan: Plan, behaviour: Behaviour) -> tuple[list[bytes], list[bytes]]:
        response_id = f"fake{next(_ids)}"
        running = {"promptTokenCount": plan.prompt_tokens, "totalTokenCount": plan.prompt_tokens}
        chunks: list[list[dict[str, Any]]] = [[{"text": piece}] for piece in plan.pieces]
        if plan.tool_name:
            chunks.append([self._call_part(model, plan)])
        if not chunks:
            chunks.append([])
        events = [sse(self._response(model, response_id, parts, None, running)) for parts in chunks[:-1]]
        final = sse(self._response(model, response_id, chunks[-1], self.finish_reason(plan), self.usage(plan)))
        return events, [final]
