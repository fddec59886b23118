"""Admission of a flow_ir workflow (spec §6) and its execution order."""
from __future__ import annotations

import heapq
import re

from .admit import admit_policy
from .errors import RefError, pointer
from .vocab import Vocabulary, suggest

NODE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
MAX_NODES = 256
MAX_INPUTS = 32
MAX_TEXT_BYTES = 65536
MEMBERS = {
    "input": ("kind",),
    "llm": ("kind", "system", "policy", "inputs", "template"),
    "output": ("kind", "inputs"),
}
REQUIRED = {"input": (), "llm": ("system", "policy", "inputs"), "output": ("inputs",)}


def _fail(rule: str, path: str, message: str, node: str | None = None, did_you_mean: str | None = None):
    raise RefError("invalid_flow", rule, path, message, node=node, did_you_mean=did_you_mean)


def template_error(template: str, n_inputs: int) -> str | None:
    """`$n` must name an input 1..n and every input must be used; `$$` is a literal `$`."""
    used: set[int] = set()
    i = 0
    while i < len(template):
        if template[i] == "$":
            if template.startswith("$$", i):
                i += 2
                continue
            m = re.compile(r"[0-9]+").match(template, i + 1)
            if m:
                n = int(m.group())
                if not 1 <= n <= n_inputs:
                    return f"${m.group()} names no input (the node has {n_inputs})."
                used.add(n)
                i = m.end()
                continue
        i += 1
    missing = [k for k in range(1, n_inputs + 1) if k not in used]
    if missing:
        return f"Input ${missing[0]} is never used by the template."
    return None


def admit_flow(term, vocab: Vocabulary | None = None) -> list[str]:
    """Raises RefError at the first error; returns the execution order (Kahn, smallest ready id first)."""
    vocab = vocab or Vocabulary()
    shape = 'A flow is ["flow", {node_id: node, ...}].'
    if not (isinstance(term, list) and len(term) == 2):
        _fail("not_a_flow", "", shape)
    if term[0] != "flow":
        _fail("not_a_flow", "/0", shape)
    if not isinstance(term[1], dict):
        _fail("not_a_flow", "/1", shape)
    nodes: dict = term[1]
    if len(nodes) > MAX_NODES:
        _fail("node_limit", "/1", f"The flow has {len(nodes)} nodes; the limit is {MAX_NODES}.")
    kinds: dict[str, str] = {}
    inputs: dict[str, list[str]] = {}
    for nid, node in nodes.items():
        p = pointer("/1", nid)
        if not NODE_ID.fullmatch(nid):
            _fail("node_id", p, f"'{nid}' is not a valid node id.", nid)
        if not isinstance(node, dict):
            _fail("type", p, "A node is an object.", nid)
        if "kind" not in node:
            _fail("missing_member", p, "A node needs 'kind'.", nid)
        kind = node["kind"]
        if not isinstance(kind, str):
            _fail("type", pointer(p, "kind"), "A node kind is a string.", nid)
        if kind not in MEMBERS:
            _fail("unknown_kind", pointer(p, "kind"), f"'{kind}' is not a node kind.", nid,
                  suggest(kind, list(MEMBERS)))
        kinds[nid] = kind
        for member, value in node.items():
            q = pointer(p, member)
            if member not in MEMBERS[kind]:
                _fail("unknown_member", q, f"'{member}' is not a member of an {kind} node.", nid,
                      suggest(member, MEMBERS[kind]))
            if member in ("system", "template"):
                if not isinstance(value, str):
                    _fail("type", q, f"'{member}' is a string.", nid)
                if len(value.encode("utf-8")) > MAX_TEXT_BYTES:
                    _fail("string_limit", q, f"'{member}' is longer than {MAX_TEXT_BYTES} bytes.", nid)
            elif member == "policy":
                admit_policy(value, vocab, base=q, node=nid)
            elif member == "inputs":
                inputs[nid] = _inputs(value, q, nid, kind, nodes)
        for member in REQUIRED[kind]:
            if member not in node:
                _fail("missing_member", p, f"An {kind} node needs '{member}'.", nid)
        if "template" in node:
            problem = template_error(node["template"], len(inputs[nid]))
            if problem:
                _fail("template", pointer(p, "template"), problem, nid)

    for kind, rule in (("input", "input_count"), ("output", "output_count")):
        of_kind = [n for n, k in kinds.items() if k == kind]
        if not of_kind:
            _fail(rule, "/1", f"A flow has exactly one {kind} node; this one has none.")
        if len(of_kind) > 1:
            # Blame the first surplus node (document order): it is the one to remove or change.
            extra = of_kind[1]
            _fail(rule, pointer("/1", extra), f"A flow has exactly one {kind} node; '{extra}' is another.", extra)

    order = _kahn(list(nodes), inputs)
    if len(order) < len(nodes):
        done = set(order)
        for nid in nodes:
            if nid not in done and _on_cycle(nid, inputs):
                _fail("cycle", pointer("/1", nid), f"Node '{nid}' depends on itself.", nid)

    output = next(n for n, k in kinds.items() if k == "output")
    needed, stack = set(), [output]
    while stack:
        for pred in inputs.get(stack.pop(), []):
            if pred not in needed:
                needed.add(pred)
                stack.append(pred)
    for nid, kind in kinds.items():
        if kind == "llm" and nid not in needed:
            _fail("unreachable", pointer("/1", nid), f"The output does not depend on node '{nid}'.", nid)
    return order


def _inputs(value, path: str, nid: str, kind: str, nodes: dict) -> list[str]:
    if not isinstance(value, list):
        _fail("type", path, "inputs is an array of node ids.", nid)
    if len(value) > MAX_INPUTS:
        _fail("in_degree", path, f"A node takes at most {MAX_INPUTS} inputs.", nid)
    if kind == "output" and len(value) != 1:
        _fail("type", path, "The output node takes exactly one input.", nid)
    if kind == "llm" and not value:
        _fail("type", path, "An llm node takes at least one input.", nid)
    seen: set[str] = set()
    for j, x in enumerate(value):
        q = pointer(path, j)
        if not isinstance(x, str):
            _fail("type", q, "An input is a node id (a string).", nid)
        if x == nid or x not in nodes:
            _fail("unknown_input", q, f"'{x}' names no other node.", nid,
                  suggest(x, [n for n in nodes if n != nid]) if x != nid else None)
        if x in seen:
            _fail("duplicate_input", q, f"'{x}' is listed twice.", nid)
        seen.add(x)
    return list(value)


def _kahn(ids: list[str], inputs: dict[str, list[str]]) -> list[str]:
    waiting = {n: len(inputs.get(n, [])) for n in ids}
    consumers: dict[str, list[str]] = {n: [] for n in ids}
    for n in ids:
        for pred in inputs.get(n, []):
            consumers[pred].append(n)
    ready = [n for n in ids if waiting[n] == 0]
    heapq.heapify(ready)  # ids are ASCII, so str order is byte order
    order = []
    while ready:
        n = heapq.heappop(ready)
        order.append(n)
        for c in consumers[n]:
            waiting[c] -= 1
            if waiting[c] == 0:
                heapq.heappush(ready, c)
    return order


def _on_cycle(start: str, inputs: dict[str, list[str]]) -> bool:
    seen, stack = set(), list(inputs.get(start, []))
    while stack:
        n = stack.pop()
        if n == start:
            return True
        if n not in seen:
            seen.add(n)
            stack.extend(inputs.get(n, []))
    return False


def render(template: str | None, inputs: list[str]) -> str:
    """The text an llm node receives: its template filled with `$n`, or its inputs joined by a blank line."""
    if template is None:
        return "\n\n".join(inputs)
    out, i = [], 0
    while i < len(template):
        if template.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        m = re.compile(r"\$([0-9]+)").match(template, i)
        if m:
            out.append(inputs[int(m.group(1)) - 1])
            i = m.end()
            continue
        out.append(template[i])
        i += 1
    return "".join(out)
