"""Implied requirements of a chat request (spec §4) and the `meets_req` test."""
from __future__ import annotations

import math

IMAGE_PART_TYPES = ("image_url", "input_image")
JSON_FORMATS = ("json_object", "json_schema")
REASONS = ("tools", "vision", "json", "context", "max_tokens")


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _string_bytes(value) -> int:
    """Sum of the UTF-8 lengths of every string value (member names are not values)."""
    total, stack = 0, [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            total += len(v.encode("utf-8"))
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
    return total


def _image_part_bytes(part: dict) -> int:
    """An image part counts every string but its url (image_url.url, or image_url itself when a string)."""
    total = 0
    for name, v in part.items():
        if name == "image_url":
            if isinstance(v, dict):
                total += sum(_string_bytes(x) for k, x in v.items() if k != "url")
            elif not isinstance(v, str):
                total += _string_bytes(v)
        else:
            total += _string_bytes(v)
    return total


def from_request(request: dict) -> dict:
    tools = any(isinstance(request.get(k), list) and len(request[k]) > 0 for k in ("tools", "functions"))
    images = 0
    text_bytes = _string_bytes(request.get("tools"))
    messages = request.get("messages")
    for message in messages if isinstance(messages, list) else [messages]:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            text_bytes += _string_bytes(message)
            continue
        text_bytes += sum(_string_bytes(v) for k, v in message.items() if k != "content")
        for part in content:
            if isinstance(part, dict) and part.get("type") in IMAGE_PART_TYPES:
                images += 1
                text_bytes += _image_part_bytes(part)
            else:
                text_bytes += _string_bytes(part)
    response_format = request.get("response_format")
    json_mode = isinstance(response_format, dict) and response_format.get("type") in JSON_FORMATS
    limit = next((request[k] for k in ("max_completion_tokens", "max_tokens") if _is_number(request.get(k))), None)
    # Requirements hold an integer token count (§4). The spec says no more; the reading here: a
    # fraction still asks for that many tokens (round up), a negative limit asks for nothing, and
    # the count stays within the exact doubles.
    max_tokens = None if limit is None or limit < 0 else min(math.ceil(limit), 2 ** 53)
    return {"tools": tools, "vision": images > 0, "json": json_mode,
            "prompt_tokens": math.ceil(text_bytes / 4) + 1000 * images, "max_tokens": max_tokens}


NO_REQUIREMENTS = {"tools": False, "vision": False, "json": False, "prompt_tokens": 0, "max_tokens": None}


def unmet(model: dict, req: dict) -> str | None:
    """The first requirement the model fails, in the order of spec §5.1, or None."""
    if req.get("tools") and model.get("cap_tools") is not True:
        return "tools"
    if req.get("vision") and model.get("in_image") is not True:
        return "vision"
    if req.get("json") and model.get("cap_json") is not True:
        return "json"
    max_tokens = req.get("max_tokens")
    context = model.get("context")
    if context is None or context < req.get("prompt_tokens", 0) + (max_tokens or 0):
        return "context"
    if max_tokens is not None:
        max_output = model.get("max_output")
        if max_output is None or max_output < max_tokens:
            return "max_tokens"
    return None
