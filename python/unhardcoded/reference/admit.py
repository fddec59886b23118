"""Admission of a sigma-pol/v1 policy (spec §2): the first error in document order, with its path.

Every node is checked in the same order: its shape (an op array; an array's length is checked
first), its op, its arity, then its arguments left to right. A size limit applies only to a value
of the JSON type expected where it stands; anything else there is a `type` (or `not_a_term`) error.
Where the spec leaves a path or rule open, the choice made here is listed in conformance/README.md.
"""
from __future__ import annotations

import math

from .errors import RefError, pointer
from .vocab import CLAMP_PARAMS, COMPARATORS, SLOT_NAMES, SLOT_OPS, Vocabulary, suggest

MAX_ARRAY = 1024
MAX_STRING_BYTES = 4096

_TOP = {"policy": (6, 6)}


class _Admitter:
    def __init__(self, vocab: Vocabulary, base: str, node: str | None):
        self.vocab = vocab
        self.base = base  # prefix for paths (a flow node's policy lives under /1/<id>/policy)
        self.node = node

    def fail(self, rule: str, path: str, message: str, did_you_mean: str | None = None):
        raise RefError("invalid_policy", rule, self.base + path, message, node=self.node,
                       did_you_mean=did_you_mean)

    def limits(self, value, path: str) -> None:
        if isinstance(value, list) and len(value) > MAX_ARRAY:
            self.fail("array_limit", path, f"The array has {len(value)} elements; the limit is {MAX_ARRAY}.")
        if isinstance(value, str) and len(value.encode("utf-8")) > MAX_STRING_BYTES:
            self.fail("string_limit", path, f"The string is longer than {MAX_STRING_BYTES} bytes.")

    def op_node(self, node, path: str, ops: dict, slot: str) -> str:
        """Checks shape, op and arity of an op node; returns the op."""
        if isinstance(node, list):
            self.limits(node, path)
        if not isinstance(node, list) or not node or not isinstance(node[0], str):
            self.fail("not_a_term", path, f"Expected a {slot} term: an array whose first element is an op name.")
        self.limits(node[0], pointer(path, 0))
        op = node[0]  # op names are strings (checked above), so only their length is left
        if op not in ops:
            # The path names the op string, as unknown_field names the field string.
            self.fail("unknown_op", pointer(path, 0), f"'{op}' is not a {slot} op.", suggest(op, list(ops)))
        low, high = ops[op]
        n = len(node) - 1
        if n < low or (high is not None and n > high):
            if high is None:
                want = f"at least {low}"
            else:
                want = str(low)
            self.fail("arity", path, f"'{op}' takes {want} argument(s), got {n}.")
        return op

    def arg(self, node, i: int, path: str):
        """An argument that is not a sub-term."""
        return node[i], pointer(path, i)

    def string_arg(self, node, i: int, path: str, message: str) -> tuple[str, str]:
        """A string argument: its JSON type first, then its length (a limit applies only to a
        value of the right type; anything else is a type error, whatever its size)."""
        value, p = self.arg(node, i, path)
        if not isinstance(value, str):
            self.fail("type", p, message)
        self.limits(value, p)
        return value, p

    # -- slots -----------------------------------------------------------------

    def policy(self, term) -> None:
        self.op_node(term, "", _TOP, "policy")
        handlers = {1: self.evidence, 2: self.filter, 3: self.rank, 4: self.select, 5: self.mutate,
                    6: self.fallback}
        for slot in range(1, 7):
            handlers[slot](term[slot], pointer("", slot))

    def evidence(self, node, path: str) -> None:
        self.op_node(node, path, SLOT_OPS[1], SLOT_NAMES[1])

    def filter(self, node, path: str) -> None:
        op = self.op_node(node, path, SLOT_OPS[2], SLOT_NAMES[2])
        if op in ("and", "or", "not"):
            for i in range(1, len(node)):
                self.filter(node[i], pointer(path, i))
        elif op == "has_cap":
            cap, p = self.string_arg(node, 1, path, "has_cap takes a capability name (a string).")
            if cap not in self.vocab.capabilities:
                self.fail("unknown_capability", p, f"'{cap}' is not a known capability.",
                          suggest(cap, self.vocab.capabilities))
        elif op == "is":
            self.field_name(node, path, ("bool",), "is")
        elif op == "cmp":
            kind = self.field_name(node, path, ("number", "string"), "cmp")
            comparator, p = self.string_arg(node, 2, path, "The comparator is a string: ge, le, gt, lt, eq or ne.")
            if comparator not in COMPARATORS:
                # §2.2 calls the comparator cmp's `op`: an unknown one is an unknown op.
                self.fail("unknown_op", p, f"'{comparator}' is not a comparator (ge, le, gt, lt, eq, ne).",
                          suggest(comparator, COMPARATORS))
            if kind == "string" and comparator not in ("eq", "ne"):
                self.fail("field_kind", p, f"A string field compares only with eq or ne, not {comparator}.")
            if kind == "number":
                value, p = self.arg(node, 3, path)
                if not isinstance(value, float):
                    self.fail("type", p, "A number field compares with a finite number.")
            else:
                self.string_arg(node, 3, path, "A string field compares with a string.")
        elif op == "family_eq":
            family, p = self.string_arg(node, 1, path, "family_eq takes a non-empty family name.")
            if not family:
                self.fail("type", p, "family_eq takes a non-empty family name.")

    def field_name(self, node, path: str, kinds: tuple[str, ...], op: str) -> str:
        name, p = self.string_arg(node, 1, path, f"{op} takes a field name (a string).")
        kind = self.vocab.kind(name)
        if kind is None:
            self.fail("unknown_field", p, f"'{name}' is not a known field.", suggest(name, list(self.vocab.fields)))
        if kind not in kinds:
            self.fail("field_kind", p, f"'{name}' is a {kind} field; {op} needs {' or '.join(kinds)}.")
        return kind

    def rank(self, node, path: str) -> None:
        op = self.op_node(node, path, SLOT_OPS[3], SLOT_NAMES[3])
        if op == "field":
            self.field_name(node, path, ("number",), "field")
        elif op in ("normalize", "neg"):
            self.rank(node[1], pointer(path, 1))
        elif op == "scale":
            weight, p = self.arg(node, 1, path)
            if not isinstance(weight, float):
                self.fail("type", p, "scale takes a finite number as its weight.")
            self.rank(node[2], pointer(path, 2))
        elif op == "add":
            for i in range(1, len(node)):
                self.rank(node[i], pointer(path, i))

    def select(self, node, path: str) -> None:
        op = self.op_node(node, path, SLOT_OPS[4], SLOT_NAMES[4])
        if op == "top_k":
            n, p = self.arg(node, 1, path)
            if not isinstance(n, float) or n != math.floor(n) or not 1 <= n <= 1024:
                self.fail("type", p, "top_k takes an integer n from 1 to 1024.")
            self.select(node[2], pointer(path, 2))
        elif op == "sample":
            t, p = self.arg(node, 1, path)
            if not isinstance(t, float) or not t > 0:
                self.fail("type", p, "sample takes a temperature greater than 0.")

    def mutate(self, node, path: str) -> None:
        op = self.op_node(node, path, SLOT_OPS[5], SLOT_NAMES[5])
        if op == "clamp_param":
            name, p = self.string_arg(node, 1, path, "clamp_param takes a request parameter name (a string).")
            if name not in CLAMP_PARAMS:
                self.fail("type", p, f"'{name}' is not a parameter clamp_param knows.", suggest(name, CLAMP_PARAMS))
            low, p = self.arg(node, 2, path)
            if not isinstance(low, float):
                self.fail("type", p, "clamp_param takes a finite number as its minimum.")
            high, p = self.arg(node, 3, path)
            if not isinstance(high, float) or high < low:
                self.fail("type", p, "clamp_param takes a finite maximum no smaller than the minimum.")

    def fallback(self, node, path: str) -> None:
        self.op_node(node, path, SLOT_OPS[6], SLOT_NAMES[6])
        action, p = self.arg(node, 1, path)
        if action != {"action": "next_candidate"}:
            self.fail("bad_fallback", p, 'The only fallback in v1 is ["always", {"action": "next_candidate"}].')


def admit_policy(term, vocab: Vocabulary | None = None, *, base: str = "", node: str | None = None) -> None:
    """Raises RefError(code="invalid_policy") at the first error; returns None when admitted."""
    _Admitter(vocab or Vocabulary(), base, node).policy(term)
