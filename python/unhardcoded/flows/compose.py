"""What each llm node of a flow receives: its messages and its request parameters (see README.md)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Members of the caller's body that describe the flow call itself, never forwarded to a node.
_CALL_ONLY = frozenset({"model", "messages", "flow_ir", "policy_ir", "stream", "stream_options"})

# Parameters that shape the answer the caller parses. Intermediate nodes exchange plain text, so
# these reach only the node whose output the caller gets back (the output node's input).
FINAL_ONLY = frozenset({
    "tools", "tool_choice", "functions", "function_call", "parallel_tool_calls",
    "response_format", "n", "logprobs", "top_logprobs",
})


def content_text(content: Any) -> str:
    """Text of an OpenAI message `content`: the string itself, or the text parts joined by newlines."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, Mapping) and part.get("type") in ("text", "input_text", "output_text"):
                text = part.get("text")
                if isinstance(text, str):
                    texts.append(text)
        return "\n".join(texts)
    return ""


def last_user_text(messages: Sequence[Any]) -> str | None:
    """What the input node contributes to a template or join: the text of the last user message."""
    for message in reversed(messages):
        if isinstance(message, Mapping) and message.get("role") == "user":
            return content_text(message.get("content"))
    return None


def completion_text(response: Mapping[str, Any]) -> str:
    """An llm node's output: the message content of its completion's first choice ("" when absent)."""
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        return ""
    message = choices[0].get("message")
    if not isinstance(message, Mapping):
        return ""
    return content_text(message.get("content"))


def render_template(template: str, inputs: Sequence[str]) -> str:
    """Fill `$1`…`$n` with the inputs in order; `$$` is a literal `$` (spec §6).

    A `$` followed by digits takes every following digit (`$12` is input 12), as admission reads
    it. A `$` followed by anything else is kept literally. Admission guarantees each `$n` is in
    range; an out-of-range one (impossible after admission) is kept as written rather than guessed.
    """
    out: list[str] = []
    i, n = 0, len(template)
    while i < n:
        ch = template[i]
        if ch != "$":
            j = template.find("$", i)
            if j < 0:
                j = n
            out.append(template[i:j])
            i = j
            continue
        if i + 1 < n and template[i + 1] == "$":
            out.append("$")
            i += 2
            continue
        j = i + 1
        while j < n and template[j].isascii() and template[j].isdigit():
            j += 1
        if j == i + 1:
            out.append("$")
            i += 1
            continue
        index = int(template[i + 1:j])
        out.append(inputs[index - 1] if 1 <= index <= len(inputs) else template[i:j])
        i = j
    return "".join(out)


def join_inputs(inputs: Sequence[str]) -> str:
    """Without a template, a node's inputs are joined with a blank line, in order (spec §6)."""
    return "\n\n".join(inputs)


def node_text(template: str | None, inputs: Sequence[str]) -> str:
    if template is not None:
        return render_template(template, inputs)
    if len(inputs) == 1:
        return inputs[0]
    return join_inputs(inputs)


def node_messages(system: str, conversation: Sequence[Any] | None, text: str | None) -> list[dict]:
    """The node's system prompt first, then either the caller's whole conversation (a node whose only
    input is the input node, without a template) or one user message carrying the node's input text."""
    messages: list[dict] = [{"role": "system", "content": system}]
    if conversation is not None:
        messages.extend(dict(m) if isinstance(m, Mapping) else m for m in conversation)
    else:
        messages.append({"role": "user", "content": text if text is not None else ""})
    return messages


def node_params(request: Mapping[str, Any], *, final: bool) -> dict[str, Any]:
    """The caller's parameters as they apply to one node (before that node's policy mutates them)."""
    params: dict[str, Any] = {}
    for key, value in request.items():
        if key in _CALL_ONLY:
            continue
        if key in FINAL_ONLY and not final:
            continue
        params[key] = value
    return params
