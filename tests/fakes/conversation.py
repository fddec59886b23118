"""What the fake "model" says, decided once in a provider-neutral form and then rendered into each
provider's wire format.

The reply is derived from the request so tests can assert round trips:
- text: "Echo: <last user text>" plus a descriptor per image/file in that turn
  ("[image base64 image/png]", "[image url https://…]"); for a tool result, its content is echoed;
- JSON mode: the JSON object {"echo": <last user text>};
- stop sequences cut the reply before the first one found (finish: stop_sequence);
- the token limit keeps the first N pieces (finish: length); a piece is a word with its
  leading whitespace, and a streamed reply sends one piece per event;
- a tool call fills each schema property from the last user text (strings), 42 (numbers),
  true (booleans), the first enum value, [] or {}.
Usage: prompt tokens = words in all request text + cached tokens; completion tokens = pieces
(+ reasoning tokens).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from .behaviour import Behaviour

_PIECE = re.compile(r"\s*\S+")
# Structural strings (roles, block types, ids, media types) are not prompt text.
_SKIP_KEYS = {
    "data", "url", "fileUri", "file_data", "thoughtSignature", "signature", "image_url", "role", "type",
    "mimeType", "media_type", "id", "tool_use_id", "tool_call_id", "model", "cache_control",
}  # fmt: skip
TOOL_CALL_TOKENS = 12


def pieces(text: str) -> list[str]:
    found = _PIECE.findall(text)
    if found and "".join(found) != text:
        found[-1] += text[len("".join(found)) :]
    return found or ([text] if text else [])


def count_words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(count_words(v) for v in value)
    if isinstance(value, dict):
        return sum(count_words(v) for k, v in value.items() if k not in _SKIP_KEYS)
    return 0


@dataclass
class Prompt:
    last_input: str
    media: list[str] = field(default_factory=list)
    words: int = 0
    tools: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    forced_tool: str | None = None
    tool_required: bool = False
    json_mode: bool = False
    stop: list[str] = field(default_factory=list)
    max_tokens: int | None = None
    thoughts_requested: bool = False


@dataclass
class Plan:
    text: str | None
    pieces: list[str]
    finish: str  # "stop" | "stop_sequence" | "length" | "tool" | "safety"
    stop_sequence: str | None
    tool_name: str | None
    tool_args: dict[str, Any] | None
    reasoning_text: str | None
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    reasoning_tokens: int

    @property
    def tool_arguments(self) -> str:
        return json.dumps(self.tool_args or {})


def _arg_for(schema: Any, text: str) -> Any:
    if not isinstance(schema, dict):
        return text
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    kind = str(kind or "string").lower()
    return {"integer": 42, "number": 42, "boolean": True, "array": [], "object": {}}.get(kind, text)


def tool_args(schema: Any, text: str) -> dict[str, Any]:
    props = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(props, dict):
        return {}
    return {name: _arg_for(sub, text) for name, sub in props.items()}


def plan(prompt: Prompt, behaviour: Behaviour) -> Plan:
    reasoning_text = (
        f"Thinking about: {prompt.last_input}" if behaviour.reasoning or behaviour.reasoning_content else None
    )
    cached = behaviour.cached
    prompt_tokens = prompt.words + cached
    wants_tool = behaviour.tool_call or prompt.tool_required or prompt.forced_tool is not None
    if wants_tool and prompt.tools:
        name = prompt.forced_tool or prompt.tools[0][0]
        schema = next((s for n, s in prompt.tools if n == name), {})
        return Plan(
            text=None,
            pieces=[],
            finish="tool",
            stop_sequence=None,
            tool_name=name,
            tool_args=tool_args(schema, prompt.last_input),
            reasoning_text=reasoning_text,
            prompt_tokens=prompt_tokens,
            completion_tokens=TOOL_CALL_TOKENS + behaviour.reasoning,
            cached_tokens=cached,
            reasoning_tokens=behaviour.reasoning,
        )
    if behaviour.safety:
        return Plan(None, [], "safety", None, None, None, None, prompt_tokens, 0, cached, 0)
    if prompt.json_mode:
        text = json.dumps({"echo": prompt.last_input})
    else:
        text = "Echo: " + prompt.last_input + "".join(" " + m for m in prompt.media)
    finish, matched = "stop", None
    hits = [(text.find(s), s) for s in prompt.stop if s and s in text]
    if hits:
        position, matched = min(hits)
        text, finish = text[:position], "stop_sequence"
    parts = pieces(text)
    if prompt.max_tokens is not None and len(parts) > prompt.max_tokens:
        parts, finish, matched = parts[: prompt.max_tokens], "length", None
        text = "".join(parts)
    return Plan(
        text=text,
        pieces=parts,
        finish=finish,
        stop_sequence=matched,
        tool_name=None,
        tool_args=None,
        reasoning_text=reasoning_text,
        prompt_tokens=prompt_tokens,
        completion_tokens=len(parts) + behaviour.reasoning,
        cached_tokens=cached,
        reasoning_tokens=behaviour.reasoning,
    )


def split_json(text: str, parts: int = 3) -> list[str]:
    """A JSON text in a few uneven fragments, the way providers stream tool arguments."""
    if len(text) < parts:
        return [text]
    step = max(1, len(text) // parts)
    return [text[i : i + step] for i in range(0, len(text), step)]
