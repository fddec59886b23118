"""Builders for the OpenAI shapes every adapter returns, and helpers for reading OpenAI requests."""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson

__all__ = [
    "DataURL",
    "chunk",
    "completion",
    "image_url",
    "new_id",
    "parse_data_url",
    "text_of",
    "tool_arguments",
    "usage",
    "usage_chunk",
]


def new_id(prefix: str = "chatcmpl-") -> str:
    return prefix + uuid.uuid4().hex[:24]


def now() -> int:
    return int(time.time())


def usage(
    prompt_tokens: int,
    completion_tokens: int,
    *,
    cached_tokens: int | None = None,
    reasoning_tokens: int | None = None,
    total_tokens: int | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens if total_tokens is None else total_tokens,
    }
    if cached_tokens is not None:
        out["prompt_tokens_details"] = {"cached_tokens": cached_tokens}
    if reasoning_tokens is not None:
        out["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
    return out


def completion(
    id: str, model: str, created: int, choices: list[dict[str, Any]], usage: dict[str, Any] | None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": choices,
    }
    if usage is not None:
        out["usage"] = usage
    return out


def chunk(
    id: str, model: str, created: int, delta: dict[str, Any], finish_reason: str | None = None, index: int = 0
) -> dict[str, Any]:
    return {
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [{"index": index, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
    }


def usage_chunk(id: str, model: str, created: int, usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": [],
        "usage": usage,
    }


@dataclass(frozen=True, slots=True)
class DataURL:
    media_type: str
    data: str  # base64


def parse_data_url(url: str) -> DataURL | None:
    """`data:[<media type>][;base64],<data>` -> media type and base64 payload; None if not a data URL.
    Raises ValueError for a data URL that is malformed."""
    if not url.startswith("data:"):
        return None
    header, sep, payload = url[5:].partition(",")
    if not sep:
        raise ValueError("data URL has no ',' separating the header from the data")
    params = header.split(";")
    media_type = params[0].strip().lower() or "text/plain"
    if "base64" in (p.strip().lower() for p in params[1:]):
        cleaned = "".join(payload.split())
        try:
            base64.b64decode(cleaned, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("data URL payload is not valid base64") from None
        return DataURL(media_type, cleaned)
    return DataURL(media_type, base64.b64encode(unquote_to_bytes(payload)).decode("ascii"))


def image_url(part: dict[str, Any]) -> str | None:
    """The URL of an `image_url` (chat completions) or `input_image` (responses) content part."""
    value = part.get("image_url")
    if isinstance(value, dict):
        value = value.get("url")
    return value if isinstance(value, str) else None


def text_of(content: Any) -> str:
    """Plain text of a message content: a string, or the text parts of a list joined by newlines."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
        return "\n".join(texts)
    return str(content)


def tool_arguments(raw: Any, fail: Callable[[str], Exception], where: str) -> dict[str, Any]:
    """The object in an assistant tool call's `arguments` string (providers other than OpenAI
    want the parsed object)."""
    if raw is None or raw == "":
        return {}
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        raise fail(f"{where}: function.arguments must be a JSON string")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise fail(f"{where}: function.arguments is not valid JSON") from None
    if not isinstance(value, dict):
        raise fail(f"{where}: function.arguments must encode a JSON object")
    return value


def dumps(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")
