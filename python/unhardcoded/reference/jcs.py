"""RFC 8785 (JCS) serialization (spec §3), with numbers in ECMAScript Number.prototype.toString form.

Python's repr already yields the shortest round-tripping digits (what ECMAScript calls s and k);
only the layout differs, so the ECMAScript layout rules (ECMA-262 Number::toString) are applied
to repr's digits.
"""
from __future__ import annotations

import math


def es_number(x: float) -> str:
    if not math.isfinite(x):
        raise ValueError("JCS cannot represent a non-finite number")
    if x == 0:
        return "0"
    if x < 0:
        return "-" + es_number(-x)
    mantissa, _, exponent = repr(float(x)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    if fraction == "0":
        fraction = ""
    all_digits = whole + fraction
    significant = all_digits.lstrip("0")
    # value = 0.<significant> x 10^n, with n counted from repr's decimal point and exponent
    n = len(significant) + (int(exponent) if exponent else 0) - len(fraction)
    s = significant.rstrip("0")
    k = len(s)
    if k <= n <= 21:
        return s + "0" * (n - k)
    if 0 < n <= 21:
        return s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + s
    e = n - 1
    sign = "+" if e >= 0 else "-"
    head = s if k == 1 else s[0] + "." + s[1:]
    return f"{head}e{sign}{abs(e)}"


_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def es_string(text: str) -> str:
    out = ['"']
    for c in text:
        if c in _SHORT:
            out.append(_SHORT[c])
        elif c < " ":
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def utf16_key(name: str) -> bytes:
    # Big-endian UTF-16 bytes compare exactly like sequences of UTF-16 code units.
    return name.encode("utf-16-be", "surrogatepass")


def canonical(value) -> str:
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def _write(value, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, (int, float)):
        out.append(es_number(float(value)))
    elif isinstance(value, str):
        out.append(es_string(value))
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    elif isinstance(value, dict):
        out.append("{")
        for i, name in enumerate(sorted(value, key=utf16_key)):
            if i:
                out.append(",")
            out.append(es_string(name))
            out.append(":")
            _write(value[name], out)
        out.append("}")
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")
