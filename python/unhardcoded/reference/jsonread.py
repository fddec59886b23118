"""The strict JSON reader of spec §1, written as a loop over an explicit stack so that no input,
however deep, can reach Python's recursion limit.

Values come back as plain Python data: None, bool, float (every number is a double), str,
list and dict (insertion order = document order; duplicates are rejected, so nothing is lost).
"""
from __future__ import annotations

import re

from .errors import RefError, pointer
from .jcs import es_number

POLICY_LIMITS = (1 << 20, 64)
FLOW_LIMITS = (8 << 20, 128)
REQUEST_LIMITS = (64 << 20, 128)
# The spec gives no catalog limits; a catalog is host data, so only nesting is bounded here.
CATALOG_LIMITS = (1 << 40, 128)

_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_PLAIN = re.compile(r'[^"\\\x00-\x1f]*')
_WS = " \t\n\r"
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def parse(data: str | bytes, limits: tuple[int, int] = POLICY_LIMITS, code: str = "invalid_policy"):
    max_bytes, max_depth = limits
    if isinstance(data, str):
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError:
            raise RefError(code, "invalid_utf8", "", "The text is not valid UTF-8.") from None
    else:
        raw = bytes(data)
    if len(raw) > max_bytes:
        raise RefError(code, "size_limit", "", f"The text is longer than {max_bytes} bytes.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RefError(code, "invalid_utf8", "", "The text is not valid UTF-8.") from None
    return _Reader(text, max_depth, code).run()


class _Reader:
    def __init__(self, text: str, max_depth: int, code: str):
        self.s = text
        self.n = len(text)
        self.max_depth = max_depth
        self.code = code
        self.stack: list[list] = []

    def fail(self, rule: str, path: str, message: str):
        raise RefError(self.code, rule, path, message)

    def ws(self, i: int) -> int:
        s, n = self.s, self.n
        while i < n and s[i] in _WS:
            i += 1
        return i

    def syntax(self, i: int, what: str):
        # Blamed on the innermost container being read ("" at the top level).
        self.fail("json_syntax", self.path_of(self.stack[:-1]), f"Not JSON: {what} at character {i}.")

    def run(self):
        s, n = self.s, self.n
        # A frame is [container, pending member name]; the name is None for arrays. Paths are built
        # only for an error, so deep nesting costs linear memory.
        stack: list[list] = []
        self.stack = stack
        i = self.ws(0)
        expecting = "value"
        while True:
            if expecting == "key":
                i = self.ws(i)
                if i >= n or s[i] != '"':
                    self.syntax(i, "expected a member name")
                frame = stack[-1]
                key, i = self.string(i, stack, is_value=False)
                if key in frame[0]:
                    frame[1] = key
                    self.fail("duplicate_key", self.path_of(stack), f"The object names '{key}' twice.")
                i = self.ws(i)
                if i >= n or s[i] != ":":
                    self.syntax(i, "expected ':'")
                frame[1] = key
                i += 1
                expecting = "value"
                continue

            # expecting a value
            i = self.ws(i)
            c = s[i] if i < n else ""
            if c and c in "{[":
                if len(stack) + 1 > self.max_depth:
                    self.fail("depth_limit", self.path_of(stack),
                              f"Nesting is deeper than {self.max_depth} levels.")
                i = self.ws(i + 1)
                if c == "{":
                    stack.append([{}, None])
                    if i < n and s[i] == "}":
                        i += 1
                        value = stack.pop()[0]
                    else:
                        expecting = "key"
                        continue
                else:
                    stack.append([[], None])
                    if i < n and s[i] == "]":
                        i += 1
                        value = stack.pop()[0]
                    else:
                        continue
            elif c == '"':
                value, i = self.string(i, stack, is_value=True)
            elif c != "" and c in "-0123456789":
                value, i = self.number(i, stack)
            elif s.startswith("true", i):
                value, i = True, i + 4
            elif s.startswith("false", i):
                value, i = False, i + 5
            elif s.startswith("null", i):
                value, i = None, i + 4
            else:
                self.syntax(i, "expected a value")

            # A value is complete: attach it and close every container that ends here.
            while True:
                if not stack:
                    i = self.ws(i)
                    if i != n:
                        self.syntax(i, "text after the value")
                    return value
                frame = stack[-1]
                if isinstance(frame[0], list):
                    frame[0].append(value)
                    closer = "]"
                else:
                    frame[0][frame[1]] = value
                    closer = "}"
                i = self.ws(i)
                if i < n and s[i] == ",":
                    i += 1
                    expecting = "value" if closer == "]" else "key"
                    break
                if i < n and s[i] == closer:
                    i += 1
                    value = stack.pop()[0]
                    continue
                self.syntax(i, f"expected ',' or '{closer}'")

    @staticmethod
    def path_of(stack: list[list]) -> str:
        """The JSON Pointer of the value being read (the next element, or the pending member)."""
        path = ""
        for container, key in stack:
            path = pointer(path, len(container) if key is None else key)
        return path

    def string(self, i: int, stack: list[list], is_value: bool) -> tuple[str, int]:
        """Reads the string starting at i. A bad string value is blamed at its own path, a bad
        member name at the object holding it."""
        where = stack if is_value else stack[:-1]
        s, n = self.s, self.n
        i += 1
        out: list[str] = []
        while True:
            m = _PLAIN.match(s, i)
            out.append(m.group())
            i = m.end()
            if i >= n:
                self.syntax(i, "unterminated string")
            c = s[i]
            if c == '"':
                return "".join(out), i + 1
            if c != "\\":
                self.syntax(i, "control character in a string")
            e = s[i + 1] if i + 1 < n else ""
            if e in _ESCAPES:
                out.append(_ESCAPES[e])
                i += 2
                continue
            if e != "u":
                self.syntax(i, "invalid escape")
            unit = self.hex4(i + 2)
            i += 6
            if 0xDC00 <= unit <= 0xDFFF:
                self.fail("lone_surrogate", self.path_of(where), "A \\u escape names a lone low surrogate.")
            if 0xD800 <= unit <= 0xDBFF:
                if s.startswith("\\u", i):
                    low = self.hex4(i + 2)
                    if 0xDC00 <= low <= 0xDFFF:
                        out.append(chr(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)))
                        i += 6
                        continue
                self.fail("lone_surrogate", self.path_of(where), "A \\u escape names a lone high surrogate.")
            out.append(chr(unit))

    def hex4(self, i: int) -> int:
        h = self.s[i:i + 4]
        if len(h) != 4 or any(c not in "0123456789abcdefABCDEF" for c in h):
            self.syntax(i, "invalid \\u escape")
        return int(h, 16)

    def number(self, i: int, stack: list[list]) -> tuple[float, int]:
        m = _NUMBER.match(self.s, i)
        if not m:
            self.syntax(i, "invalid number")
        lexeme = m.group()
        follow = self.s[m.end():m.end() + 1]
        fraction, exponent = m.group(1), m.group(2)
        if (fraction is None and exponent is None and follow == ".") or (exponent is None and follow in ("e", "E")):
            # A fraction or exponent that starts but has no digits: the token is not a number at all.
            self.syntax(m.end(), "a fraction or exponent without digits")
        value = float(lexeme)
        if value in (float("inf"), float("-inf")):
            self.fail("non_finite_number", self.path_of(stack), f"The number {lexeme[:40]} overflows a double.")
        if fraction is None and exponent is None:
            # An integer literal must not be silently rounded: the nearest double equals it, or
            # prints back as the same text (spec §1). A finite double has at most 309 integer
            # digits, so int() here is cheap and within Python's digit limit.
            digits = lexeme.lstrip("-")
            if int(digits) != int(abs(value)) and es_number(abs(value)) != digits:
                self.fail("integer_precision", self.path_of(stack),
                          f"The integer {lexeme[:40]} cannot be represented exactly as a double.")
        if value == 0:
            value = 0.0  # -0 reads as 0 (spec §1)
        return value, m.end()
