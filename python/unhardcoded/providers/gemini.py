"""Google Gemini API: `models/{model}:generateContent` and `:streamGenerateContent?alt=sse`.

Request mapping choices:
- `system`/`developer` messages become `systemInstruction`; `assistant` is role `model`; `tool`
  results become `functionResponse` parts in a user turn (the function name is looked up from the
  assistant tool call with the same id); consecutive turns of one role are merged.
- a tool result that is a JSON object is sent as the `response` object; any other text is sent as
  `{"content": text}` (Gemini requires an object).
- JSON Schemas (tool parameters, `json_schema` response formats) are reduced to the OpenAPI
  subset Gemini's `Schema` accepts: local `$ref`s are inlined, `["T", "null"]` becomes
  `nullable`, `const` becomes a one-value enum, unknown keywords are dropped.
- Gemini 3 models reject a replayed `functionCall` without its `thoughtSignature`. Signatures seen
  in responses are remembered by tool call id (in this process); a call with no remembered
  signature gets Google's documented `skip_thought_signature_validator` placeholder.
- `reasoning_effort` becomes `thinkingConfig` (`thinkingLevel` on Gemini 3, a token budget before).
"""

from __future__ import annotations

import mimetypes
import re
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import orjson

from . import chat_format as cf
from .base import Adapter, ProviderError

__all__ = ["DEFAULT_API_VERSION", "GeminiAdapter", "sanitize_schema"]

DEFAULT_API_VERSION = "v1beta"
SKIP_SIGNATURE = "skip_thought_signature_validator"

_FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "LANGUAGE": "content_filter",
}

_STATUS_CAUSE = {
    "RESOURCE_EXHAUSTED": "rate_limited",
    "UNAVAILABLE": "server_error",
    "INTERNAL": "server_error",
    "DEADLINE_EXCEEDED": "timeout",
    "UNAUTHENTICATED": "auth",
    "PERMISSION_DENIED": "auth",
    "NOT_FOUND": "not_found",
    "INVALID_ARGUMENT": "bad_request",
    "FAILED_PRECONDITION": "bad_request",
}

_SCHEMA_KEYS = frozenset(
    {
        "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
        "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength",
        "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum",
    }
)  # fmt: skip
_MAX_SCHEMA_DEPTH = 32

_EFFORT_BUDGET = {"none": 0, "minimal": 0, "low": 1024, "medium": 8192, "high": 24576}
_OLD_MODEL = re.compile(r"^(?:models/)?gemini-(?:1|2)[.\-]")

# tool call id -> thoughtSignature. Bounded: it only needs to outlive one tool round trip.
_SIGNATURES: OrderedDict[str, str] = OrderedDict()
_SIGNATURE_LIMIT = 4096


def _remember_signature(call_id: str, signature: str) -> None:
    _SIGNATURES[call_id] = signature
    _SIGNATURES.move_to_end(call_id)
    while len(_SIGNATURES) > _SIGNATURE_LIMIT:
        _SIGNATURES.popitem(last=False)


def sanitize_schema(schema: Any) -> Any:
    """A JSON Schema reduced to what Gemini's `Schema` message accepts."""
    defs: dict[str, Any] = {}
    if isinstance(schema, dict):
        for key in ("$defs", "definitions"):
            if isinstance(schema.get(key), dict):
                defs.update(schema[key])
    return _sanitize(schema, defs, 0)


def _sanitize(schema: Any, defs: dict[str, Any], depth: int) -> Any:
    if not isinstance(schema, dict):
        return schema
    if depth > _MAX_SCHEMA_DEPTH:
        return {"type": "object"}
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        target = defs.get(name)
        merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}} if isinstance(target, dict) else {}
        return _sanitize(merged or {"type": "object"}, defs, depth + 1)
    out: dict[str, Any] = {}
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        if len(kinds) < len(kind):
            out["nullable"] = True
        if len(kinds) == 1:
            out["type"] = kinds[0]
        elif kinds:
            out["anyOf"] = [{"type": k} for k in kinds]
    elif isinstance(kind, str):
        out["type"] = kind
    if "const" in schema and "enum" not in schema:
        out["enum"] = [schema["const"]]
    for key, value in schema.items():
        if key not in _SCHEMA_KEYS or key in out:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _sanitize(sub, defs, depth + 1) for name, sub in value.items()}
        elif key == "items":
            out[key] = _sanitize(value, defs, depth + 1)
        elif key == "anyOf" and isinstance(value, list):
            variants = [v for v in value if not (isinstance(v, dict) and v.get("type") == "null")]
            if len(variants) < len(value):
                out["nullable"] = True
            if len(variants) == 1:
                out.update({k: v for k, v in _sanitize(variants[0], defs, depth + 1).items() if k not in out})
            else:
                out[key] = [_sanitize(v, defs, depth + 1) for v in variants]
        else:
            out[key] = value
    return out


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _usage(meta: dict[str, Any]) -> dict[str, Any]:
    """Gemini's promptTokenCount already includes cached tokens; thoughts are counted apart from
    candidates, while OpenAI's completion_tokens include reasoning."""
    prompt = _int(meta.get("promptTokenCount")) + _int(meta.get("toolUsePromptTokenCount"))
    thoughts = meta.get("thoughtsTokenCount")
    completion = _int(meta.get("candidatesTokenCount")) + _int(thoughts)
    cached = meta.get("cachedContentTokenCount")
    return cf.usage(
        prompt,
        completion,
        cached_tokens=_int(cached) if cached is not None else None,
        reasoning_tokens=_int(thoughts) if thoughts is not None else None,
    )


def _finish(reason: Any, has_tool_calls: bool) -> str:
    if has_tool_calls and reason in (None, "STOP"):
        return "tool_calls"
    return _FINISH.get(reason, "stop")


class GeminiAdapter(Adapter):
    kind = "gemini"
    default_base_url = "https://generativelanguage.googleapis.com"

    def __init__(self, settings, client) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings, client)
        self.api_version = settings.api_version or DEFAULT_API_VERSION
        suffix = "/" + self.api_version
        if self.base_url.endswith(suffix):
            self.base_url = self.base_url[: -len(suffix)]

    def url(self, upstream_model: str, *, stream: bool) -> str:
        model = upstream_model[len("models/") :] if upstream_model.startswith("models/") else upstream_model
        method = "streamGenerateContent" if stream else "generateContent"
        return f"{self.base_url}/{self.api_version}/models/{quote(model, safe='.-_')}:{method}"

    def auth_headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self.require_key()}

    # -- request ------------------------------------------------------------------------------

    def body(self, upstream_model: str, request: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(request, dict):
            raise self.bad_request("the request must be a JSON object")
        messages = request.get("messages")
        if not isinstance(messages, list) or not messages:
            raise self.bad_request("messages must be a non-empty array")
        needs_signature = not _OLD_MODEL.match(upstream_model)
        system: list[dict[str, Any]] = []
        contents: list[dict[str, Any]] = []
        call_names: dict[str, str] = {}
        for i, message in enumerate(messages):
            where = f"messages[{i}]"
            if not isinstance(message, dict):
                raise self.bad_request(f"{where} must be an object")
            role = message.get("role")
            if role in ("system", "developer"):
                text = self._plain_text(message.get("content"), where)
                if text:
                    system.append({"text": text})
            elif role == "user":
                self._append(contents, "user", self._user_parts(message.get("content"), where))
            elif role == "assistant":
                parts = self._assistant_parts(message, where, call_names, needs_signature)
                self._append(contents, "model", parts)
            elif role == "tool":
                self._append(contents, "user", [self._function_response(message, where, call_names)])
            else:
                raise self.bad_request(f"{where}.role {role!r} is not supported (use system, user, assistant or tool)")
        if not contents:
            raise self.bad_request("messages must contain at least one user or assistant message")

        body: dict[str, Any] = {"contents": contents}
        if system:
            body["systemInstruction"] = {"parts": system}
        config = self._generation_config(upstream_model, request)
        if config:
            body["generationConfig"] = config
        tools = request.get("tools")
        if tools:
            body["tools"] = [{"functionDeclarations": self._declarations(tools)}]
            tool_config = self._tool_config(request.get("tool_choice"))
            if tool_config:
                body["toolConfig"] = tool_config
        return body

    @staticmethod
    def _append(contents: list[dict[str, Any]], role: str, parts: list[dict[str, Any]]) -> None:
        if not parts:
            return
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})

    def _plain_text(self, content: Any, where: str) -> str:
        if content is None or isinstance(content, str):
            return content or ""
        if not isinstance(content, list):
            raise self.bad_request(f"{where}.content must be a string or an array of parts")
        for j, part in enumerate(content):
            if not isinstance(part, dict) or part.get("type") not in ("text", "input_text", "output_text"):
                raise self.bad_request(f"{where}.content[{j}] must be a text part here")
        return cf.text_of(content)

    def _user_parts(self, content: Any, where: str) -> list[dict[str, Any]]:
        if content is None or isinstance(content, str):
            return [{"text": content}] if content else []
        if not isinstance(content, list):
            raise self.bad_request(f"{where}.content must be a string or an array of parts")
        parts: list[dict[str, Any]] = []
        for j, part in enumerate(content):
            at = f"{where}.content[{j}]"
            kind = part.get("type") if isinstance(part, dict) else None
            if kind in ("text", "input_text"):
                if not isinstance(part.get("text"), str):
                    raise self.bad_request(f"{at}.text must be a string")
                if part["text"]:
                    parts.append({"text": part["text"]})
            elif kind in ("image_url", "input_image"):
                parts.append(self._media_part(cf.image_url(part), at, "image/jpeg"))
            elif kind == "input_audio":
                audio = part.get("input_audio") if isinstance(part.get("input_audio"), dict) else {}
                if not isinstance(audio.get("data"), str):
                    raise self.bad_request(f"{at}: input_audio has no data")
                fmt = audio.get("format") or "wav"
                parts.append({"inlineData": {"mimeType": f"audio/{fmt}", "data": audio["data"]}})
            elif kind == "file":
                file = part.get("file") if isinstance(part.get("file"), dict) else {}
                parts.append(self._media_part(file.get("file_data"), at, "application/pdf"))
            else:
                raise self.bad_request(f"{at}: content part type {kind!r} is not supported by Gemini")
        return parts

    def _media_part(self, url: Any, at: str, default_type: str) -> dict[str, Any]:
        if not isinstance(url, str) or not url:
            raise self.bad_request(f"{at}: media part has no url")
        try:
            data = cf.parse_data_url(url)
        except ValueError as exc:
            raise self.bad_request(f"{at}: {exc}") from None
        if data is not None:
            return {"inlineData": {"mimeType": data.media_type, "data": data.data}}
        guessed = mimetypes.guess_type(url.split("?", 1)[0])[0]
        return {"fileData": {"mimeType": guessed or default_type, "fileUri": url}}

    def _assistant_parts(
        self, message: dict[str, Any], where: str, call_names: dict[str, str], needs_signature: bool
    ) -> list[dict[str, Any]]:
        content = message.get("content")
        if isinstance(content, list):
            content = cf.text_of(
                [p for p in content if isinstance(p, dict) and p.get("type") in ("text", "output_text")]
            )
        elif content is not None and not isinstance(content, str):
            raise self.bad_request(f"{where}.content must be a string or an array of parts")
        parts: list[dict[str, Any]] = [{"text": content}] if content else []
        signed = False
        for k, call in enumerate(message.get("tool_calls") or []):
            at = f"{where}.tool_calls[{k}]"
            function = call.get("function") if isinstance(call, dict) else None
            if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                raise self.bad_request(f"{at} must have a function with a name")
            call_id = call.get("id")
            if isinstance(call_id, str):
                call_names[call_id] = function["name"]
            part: dict[str, Any] = {
                "functionCall": {
                    "name": function["name"],
                    "args": cf.tool_arguments(function.get("arguments"), self.bad_request, at),
                }
            }
            signature = _SIGNATURES.get(call_id) if isinstance(call_id, str) else None
            if signature:
                part["thoughtSignature"] = signature
                signed = True
            elif needs_signature and not signed:
                # Only the first call of a parallel batch carries a signature.
                part["thoughtSignature"] = SKIP_SIGNATURE
                signed = True
            parts.append(part)
        return parts

    def _function_response(self, message: dict[str, Any], where: str, call_names: dict[str, str]) -> dict[str, Any]:
        call_id = message.get("tool_call_id")
        name = call_names.get(call_id) if isinstance(call_id, str) else None
        name = name or message.get("name")
        if not isinstance(name, str) or not name:
            raise self.bad_request(f"{where}: no assistant tool call with id {call_id!r} precedes this tool result")
        text = cf.text_of(message.get("content"))
        response: Any = None
        try:
            response = orjson.loads(text) if text else None
        except orjson.JSONDecodeError:
            response = None
        if not isinstance(response, dict):
            response = {"content": text}
        return {"functionResponse": {"name": name, "response": response}}

    def _generation_config(self, upstream_model: str, request: dict[str, Any]) -> dict[str, Any]:
        config: dict[str, Any] = {}
        for src, dst in (
            ("temperature", "temperature"),
            ("top_p", "topP"),
            ("presence_penalty", "presencePenalty"),
            ("frequency_penalty", "frequencyPenalty"),
            ("seed", "seed"),
        ):
            if request.get(src) is not None:
                config[dst] = request[src]
        max_tokens = request.get("max_completion_tokens")
        if max_tokens is None:
            max_tokens = request.get("max_tokens")
        if max_tokens is not None:
            config["maxOutputTokens"] = max_tokens
        n = request.get("n")
        if n not in (None, 1):
            config["candidateCount"] = n
        stop = request.get("stop")
        if isinstance(stop, str):
            stop = [stop]
        if isinstance(stop, list) and stop:
            config["stopSequences"] = [s for s in stop if isinstance(s, str)]
        fmt = request.get("response_format")
        if isinstance(fmt, dict) and fmt.get("type") in ("json_object", "json_schema"):
            config["responseMimeType"] = "application/json"
            spec = fmt.get("json_schema")
            if fmt["type"] == "json_schema" and isinstance(spec, dict) and isinstance(spec.get("schema"), dict):
                config["responseSchema"] = sanitize_schema(spec["schema"])
        effort = request.get("reasoning_effort")
        if isinstance(effort, str) and effort in _EFFORT_BUDGET:
            if _OLD_MODEL.match(upstream_model):
                config["thinkingConfig"] = {"thinkingBudget": _EFFORT_BUDGET[effort]}
            else:
                config["thinkingConfig"] = {"thinkingLevel": "low" if effort in ("none", "minimal", "low") else "high"}
        return config

    def _declarations(self, tools: Any) -> list[dict[str, Any]]:
        out = []
        for _tool, function, name in self.function_tools(tools):
            entry: dict[str, Any] = {"name": name}
            if isinstance(function.get("description"), str):
                entry["description"] = function["description"]
            params = function.get("parameters")
            if isinstance(params, dict) and params.get("properties"):
                entry["parameters"] = sanitize_schema(params)
            out.append(entry)
        return out

    def _tool_config(self, choice: Any) -> dict[str, Any] | None:
        if choice is None:
            return None
        if choice == "auto":
            return {"functionCallingConfig": {"mode": "AUTO"}}
        if choice == "required":
            return {"functionCallingConfig": {"mode": "ANY"}}
        if choice == "none":
            return {"functionCallingConfig": {"mode": "NONE"}}
        if isinstance(choice, dict):
            function = choice.get("function")
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [function["name"]]}}
        raise self.bad_request("tool_choice must be 'auto', 'required', 'none' or a named function")

    # -- errors -------------------------------------------------------------------------------

    def error_detail(self, status: int | None, payload: Any) -> tuple[str | None, str | None]:
        if isinstance(payload, list) and payload:
            payload = payload[0]
        if not isinstance(payload, dict) or not isinstance(payload.get("error"), dict):
            return None, None
        error = payload["error"]
        grpc_status = error.get("status")
        message = error.get("message") if isinstance(error.get("message"), str) else None
        text = f"{grpc_status}: {message}" if grpc_status and message else (message or grpc_status)
        reasons = {d.get("reason") for d in error.get("details") or [] if isinstance(d, dict)}
        if "API_KEY_INVALID" in reasons:
            # Gemini answers a wrong key with 400 INVALID_ARGUMENT, not 401.
            return text, "auth"
        if status is None:
            return text, _STATUS_CAUSE.get(grpc_status, "stream_dropped")
        return text, None

    def retry_after_hint(self, payload: Any) -> float | None:
        if isinstance(payload, list) and payload:
            payload = payload[0]
        error = payload.get("error") if isinstance(payload, dict) else None
        for detail in (error.get("details") or []) if isinstance(error, dict) else []:
            delay = detail.get("retryDelay") if isinstance(detail, dict) else None
            if isinstance(delay, str) and delay.endswith("s"):
                try:
                    return max(0.0, float(delay[:-1]))
                except ValueError:
                    return None
        return None

    # -- non-streaming ------------------------------------------------------------------------

    async def complete(self, upstream_model: str, request: dict) -> dict:
        headers = self.headers(self.auth_headers(), stream=False)
        body = self.body(upstream_model, request)
        data = await self.post_json(self.url(upstream_model, stream=False), body, headers)
        return self._completion(data, upstream_model)

    def _completion(self, data: Any, upstream_model: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.error("bad_response", "the response is not a JSON object")
        candidates = data.get("candidates")
        choices: list[dict[str, Any]] = []
        if isinstance(candidates, list) and candidates:
            for position, candidate in enumerate(candidates):
                if not isinstance(candidate, dict):
                    raise self.error("bad_response", "a candidate is not an object")
                texts, reasoning, calls = self._read_parts(candidate, calls_so_far=0)
                message: dict[str, Any] = {
                    "role": "assistant",
                    "content": "".join(texts) if (texts or not calls) else None,
                    "refusal": None,
                }
                if calls:
                    message["tool_calls"] = [{k: v for k, v in c.items() if k != "index"} for c in calls]
                if reasoning:
                    message["reasoning_content"] = "".join(reasoning)
                choices.append(
                    {
                        "index": candidate.get("index", position),
                        "message": message,
                        "finish_reason": _finish(candidate.get("finishReason"), bool(calls)),
                        "logprobs": None,
                    }
                )
        elif self._blocked(data):
            choices.append(
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": None, "refusal": None},
                    "finish_reason": "content_filter",
                    "logprobs": None,
                }
            )
        else:
            raise self.error("bad_response", "the response has no candidates")
        meta = data.get("usageMetadata")
        return cf.completion(
            data.get("responseId") or cf.new_id(),
            data.get("modelVersion") or upstream_model,
            cf.now(),
            choices,
            _usage(meta) if isinstance(meta, dict) else None,
        )

    @staticmethod
    def _blocked(data: dict[str, Any]) -> bool:
        feedback = data.get("promptFeedback")
        return isinstance(feedback, dict) and bool(feedback.get("blockReason"))

    def _read_parts(
        self, candidate: dict[str, Any], calls_so_far: int
    ) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        texts: list[str] = []
        reasoning: list[str] = []
        calls: list[dict[str, Any]] = []
        for part in parts or []:
            if not isinstance(part, dict):
                raise self.error("bad_response", "a content part is not an object")
            call = part.get("functionCall")
            if isinstance(call, dict):
                if not isinstance(call.get("name"), str):
                    raise self.error("bad_response", "a functionCall has no name")
                call_id = call.get("id") or cf.new_id("call_")
                if isinstance(part.get("thoughtSignature"), str):
                    _remember_signature(call_id, part["thoughtSignature"])
                calls.append(
                    {
                        "index": calls_so_far + len(calls),
                        "id": call_id,
                        "type": "function",
                        "function": {"name": call["name"], "arguments": cf.dumps(call.get("args") or {})},
                    }
                )
            elif isinstance(part.get("text"), str):
                (reasoning if part.get("thought") else texts).append(part["text"])
        return texts, reasoning, calls

    # -- streaming ----------------------------------------------------------------------------

    async def stream(self, upstream_model: str, request: dict) -> AsyncIterator[dict]:
        headers = self.headers(self.auth_headers(), stream=True)
        body = self.body(upstream_model, request)
        url = self.url(upstream_model, stream=True)
        chunk_id = cf.new_id()
        created = cf.now()
        model = upstream_model
        meta: dict[str, Any] | None = None
        started = False
        finished = False
        calls_seen: dict[int, int] = {}
        async with self.open_sse(url, body, headers, {"alt": "sse"}) as events:
            async for event in events:
                obj = self.parse_event_json(event)
                if isinstance(obj, list) and len(obj) == 1:
                    obj = obj[0]
                if not isinstance(obj, dict):
                    raise self.error("bad_response", "a stream event is not a JSON object")
                if isinstance(obj.get("error"), dict):
                    raise self._stream_error(obj)
                if isinstance(obj.get("usageMetadata"), dict):
                    meta = obj["usageMetadata"]
                if obj.get("responseId") and not started:
                    chunk_id = obj["responseId"]
                model = obj.get("modelVersion") or model
                if not started:
                    started = True
                    yield cf.chunk(chunk_id, model, created, {"role": "assistant", "content": ""})
                candidates = obj.get("candidates")
                if candidates is not None and not isinstance(candidates, list):
                    raise self.error("bad_response", "a stream event's candidates is not a list")
                if candidates:
                    for position, candidate in enumerate(candidates):
                        if not isinstance(candidate, dict):
                            raise self.error("bad_response", "a candidate is not an object")
                        index = candidate.get("index", position)
                        texts, reasoning, calls = self._read_parts(candidate, calls_seen.get(index, 0))
                        if reasoning:
                            yield cf.chunk(
                                chunk_id, model, created, {"reasoning_content": "".join(reasoning)}, index=index
                            )
                        if texts:
                            yield cf.chunk(chunk_id, model, created, {"content": "".join(texts)}, index=index)
                        if calls:
                            calls_seen[index] = calls_seen.get(index, 0) + len(calls)
                            yield cf.chunk(chunk_id, model, created, {"tool_calls": calls}, index=index)
                        reason = candidate.get("finishReason")
                        if reason and reason != "FINISH_REASON_UNSPECIFIED":
                            finished = True
                            finish = _finish(reason, calls_seen.get(index, 0) > 0)
                            yield cf.chunk(chunk_id, model, created, {}, finish, index=index)
                elif self._blocked(obj):
                    finished = True
                    yield cf.chunk(chunk_id, model, created, {}, "content_filter")
        if not finished:
            raise self.error("stream_dropped", "the stream ended before a candidate reported its finishReason")
        if meta is not None:
            yield cf.usage_chunk(chunk_id, model, created, _usage(meta))

    def _stream_error(self, obj: dict[str, Any]) -> ProviderError:
        text, cause = self.error_detail(None, obj)
        code = obj["error"].get("code")
        status = code if isinstance(code, int) else None
        return self.error(
            cause or "stream_dropped",
            f"error event mid-stream: {self.detail_text(text or 'unknown error')}",
            status=status,
        )
