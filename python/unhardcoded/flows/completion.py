"""The caller's view of a flow: the final node's answer as an OpenAI chat.completion or chunk stream."""
from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any


class CompletionShape:
    """Id, creation time and model label shared by the completion or every chunk of one flow call."""

    def __init__(self, label: str) -> None:
        self.id = "chatcmpl-" + secrets.token_hex(12)
        self.created = int(time.time())
        self.model = label

    def completion(self, final: Mapping[str, Any] | None, text: str | None, usage: dict | None) -> dict:
        """`final` is the final node's completion; without one (an output fed straight from the input
        node) the answer is `text`."""
        if final is not None and isinstance(final.get("choices"), list) and final["choices"]:
            choices = [dict(c) for c in final["choices"] if isinstance(c, Mapping)]
        else:
            choices = [{"index": 0, "message": {"role": "assistant", "content": text or ""},
                        "finish_reason": "stop", "logprobs": None}]
        body: dict[str, Any] = {"id": self.id, "object": "chat.completion", "created": self.created,
                                "model": self.model, "choices": choices}
        if usage is not None:
            body["usage"] = usage
        return body

    def chunk(self, upstream: Mapping[str, Any]) -> dict:
        out = dict(upstream)
        out["id"] = self.id
        out["object"] = "chat.completion.chunk"
        out["created"] = self.created
        out["model"] = self.model
        out.pop("usage", None)
        return out

    def usage_chunk(self, usage: dict | None) -> dict:
        return {"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                "model": self.model, "choices": [], "usage": usage}

    def text_chunks(self, text: str) -> list[dict]:
        """The whole answer as a stream, for a flow whose output is fed straight from the input node."""
        base = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model}
        return [
            {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": text},
                                  "finish_reason": None, "logprobs": None}]},
            {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "logprobs": None}]},
        ]


def is_usage_only(chunk: Mapping[str, Any]) -> bool:
    choices = chunk.get("choices")
    return (not choices) and chunk.get("usage") is not None


def wants_usage(request: Mapping[str, Any]) -> bool:
    options = request.get("stream_options")
    return isinstance(options, Mapping) and options.get("include_usage") is True
