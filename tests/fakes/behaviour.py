"""Scripted behaviours of the fake upstreams.

A behaviour is a comma-separated list of directives, e.g. "ok", "status:429",
"tool_call,cached:5", "delay:2", "stall_after:2", "reasoning_content,no_usage".

Outcome directives (at most one):
  ok                 answer normally (the default)
  delay:<s>          wait s seconds before answering (combine with any other directive)
  reset              close the connection with a TCP reset before any response byte
  status:<code>      answer with the provider's real error body for that HTTP status
  malformed          200 whose body (or first stream event) is not JSON
  incomplete         200 with valid JSON that lacks the parts a client needs
  stall_after:<n>    stream n events, then go silent (non-streaming: headers never come)
  drop_after:<n>     stream n events, then end the body cleanly without the terminator
  reset_after:<n>    stream n events, then reset the connection
  error_after:<n>    stream n events, then the provider's in-stream error event
Content directives:
  tool_call          call a tool from the request (the forced one, else the first)
  safety             the provider's content-filter / safety stop
  cached:<n>         report n cached prompt tokens
  reasoning:<n>      report n reasoning tokens (Anthropic: emit a thinking block)
  leak_key           error messages quote the presented key (to test scrubbing)
OpenAI-compatible server quirks (OpenAI wire only):
  no_usage           never report usage, even when stream_options asks for it
  no_ids             omit id, created and model
  reasoning_content  emit reasoning text as `reasoning_content` (DeepSeek, vLLM)
  usage_in_last_choice  put usage on the finish chunk instead of a separate usage-only chunk
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

__all__ = ["Behaviour", "Scripts", "parse_behaviour"]

_FLAGS = {
    "ok", "reset", "malformed", "incomplete", "tool_call", "safety", "leak_key",
    "no_usage", "no_ids", "reasoning_content", "usage_in_last_choice",
}  # fmt: skip
_COUNTS = {"status", "stall_after", "drop_after", "reset_after", "error_after", "cached", "reasoning"}
_OUTCOMES = {"reset", "status", "malformed", "incomplete", "stall_after", "drop_after", "reset_after", "error_after"}


@dataclass(frozen=True)
class Behaviour:
    text: str = "ok"
    delay: float = 0.0
    reset: bool = False
    status: int | None = None
    malformed: bool = False
    incomplete: bool = False
    stall_after: int | None = None
    drop_after: int | None = None
    reset_after: int | None = None
    error_after: int | None = None
    tool_call: bool = False
    safety: bool = False
    cached: int = 0
    reasoning: int = 0
    leak_key: bool = False
    no_usage: bool = False
    no_ids: bool = False
    reasoning_content: bool = False
    usage_in_last_choice: bool = False


def parse_behaviour(text: str) -> Behaviour:
    values: dict[str, object] = {"text": text}
    outcomes = []
    for raw in text.split(","):
        directive = raw.strip()
        if not directive:
            continue
        name, _, arg = directive.partition(":")
        if name == "delay":
            values["delay"] = float(arg)
        elif name in _COUNTS:
            if not arg.isdigit():
                raise ValueError(f"behaviour directive {directive!r} needs a non-negative integer")
            values[name] = int(arg)
        elif name in _FLAGS and not arg:
            if name != "ok":
                values[name] = True
        else:
            raise ValueError(f"unknown fake-upstream behaviour directive {directive!r}")
        if name in _OUTCOMES:
            outcomes.append(name)
    if len(outcomes) > 1:
        raise ValueError(f"behaviour {text!r} combines outcomes {outcomes}; use one")
    return Behaviour(**values)  # type: ignore[arg-type]


OK = Behaviour()


@dataclass
class _ModelScript:
    queue: list[list[object]] = field(default_factory=list)  # [behaviour, remaining]
    standing: Behaviour | None = None


class Scripts:
    """Per-model behaviour. `times=n` queues a behaviour for the next n requests; `times=None`
    sets the standing behaviour used once the queue is empty. The model "*" applies to every
    model with no script of its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[str, _ModelScript] = {}

    def set(self, model: str, behaviour: str, times: int | None) -> None:
        parsed = parse_behaviour(behaviour)
        with self._lock:
            script = self._models.setdefault(model, _ModelScript())
            if times is None:
                script.standing = parsed
            elif times > 0:
                script.queue.append([parsed, times])

    def take(self, model: str) -> Behaviour:
        with self._lock:
            for name in (model, "*"):
                script = self._models.get(name)
                if script is None:
                    continue
                if script.queue:
                    entry = script.queue[0]
                    entry[1] = int(entry[1]) - 1  # type: ignore[call-overload]
                    if entry[1] <= 0:  # type: ignore[operator]
                        script.queue.pop(0)
                    return entry[0]  # type: ignore[return-value]
                if script.standing is not None:
                    return script.standing
            return OK

    def clear(self) -> None:
        with self._lock:
            self._models.clear()
