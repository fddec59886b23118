"""The stable error vocabulary: Rust's lists, the Python constants and docs/spec.md must agree.

The spec is the contract clients code against; a rule the core can raise but the spec does not
document (or the reverse) is a bug in one of them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import unhardcoded as uh

SPEC = Path(__file__).resolve().parents[1] / "docs" / "spec.md"


def _sections(text: str) -> dict[str, str]:
    """Top-level `## N.` sections of the spec by number."""
    parts = re.split(r"^## (\d+)\. .*$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def _strip_parentheses(text: str) -> str:
    while True:
        stripped = re.sub(r"\([^()]*\)", "", text)
        if stripped == text:
            return text
        text = stripped


def _names(text: str) -> list[str]:
    return re.findall(r"`([a-z][a-z0-9_]*)`", text)


def _first_sentence(text: str) -> str:
    return re.split(r"\.\s", _strip_parentheses(text), maxsplit=1)[0]


# A prose rule list: "Rules: `a` (…), `b`, …" or "Admission rules (the `rule` values): …" or
# "Catalog rules: …", up to the end of its first sentence.
_RULE_LIST = re.compile(r"(?:^|\n)(?:[A-Z][a-z]+ )?[Rr]ules(?: \(the `rule` values\))?:")


def spec_rules() -> dict[str, list[str]]:
    """Rule names docs/spec.md documents, by where they are documented."""
    out: dict[str, list[str]] = {}
    for number, body in _sections(SPEC.read_text(encoding="utf-8")).items():
        found = re.findall(r"^\| `([a-z0-9_]+)` \|", body, flags=re.M) if number == "1" else []
        for match in _RULE_LIST.finditer(body):
            found += _names(_first_sentence(body[match.end():]))
        # Single rules named in prose: "… (rule `empty_cascade`)".
        found += re.findall(r"\brule `([a-z0-9_]+)`", body)
        if found:
            out[f"§{number}"] = found
    return out


def spec_codes() -> set[str]:
    text = SPEC.read_text(encoding="utf-8")
    return {name for name in _names(text) if re.fullmatch(r"invalid_[a-z]+|no_candidates", name)}


def test_spec_parsing_finds_the_documented_lists():
    rules = spec_rules()
    # Guard the parser itself: the lists it extracts are the ones the spec spells out.
    assert rules["§1"] == ["json_syntax", "invalid_utf8", "lone_surrogate", "duplicate_key",
                           "non_finite_number", "integer_precision", "depth_limit", "size_limit"]
    assert rules["§2"][0] == "not_a_term" and rules["§2"][-1] == "bad_fallback" and len(rules["§2"]) == 10
    assert rules["§6"][0] == "not_a_flow" and rules["§6"][-1] == "string_limit" and len(rules["§6"]) == 16
    documented = {r for names in rules.values() for r in names}
    assert not documented & {"ev_zero", "supports_tools", "invalid_policy", "input", "llm"}


def test_error_codes_match_the_spec():
    assert set(uh.ERROR_CODES) == spec_codes()
    assert len(uh.ERROR_CODES) == len(set(uh.ERROR_CODES))


def test_error_rules_match_the_spec():
    documented = {rule for rules in spec_rules().values() for rule in rules}
    native = set(uh.ERROR_RULES)
    assert len(uh.ERROR_RULES) == len(native), "ERROR_RULES lists a rule twice"
    assert sorted(native - documented) == [], "rules the core raises that docs/spec.md does not document"
    assert sorted(documented - native) == [], "rules docs/spec.md documents that ERROR_RULES lacks"


def test_python_constants_are_the_native_ones():
    from unhardcoded import _core

    assert uh.ERROR_CODES == _core.ERROR_CODES and uh.ERROR_RULES == _core.ERROR_RULES
    assert uh.VERSION == "sigma-pol/v1" and uh.FLOW_VERSION == "flow_ir/v1"


TERM_TAIL = [["argmax"], ["id"], ["always", {"action": "next_candidate"}]]

BAD_INPUTS = [
    (uh.Policy.admit, b"\xef\xbb\xbf[]", "invalid_policy", "json_syntax"),
    (uh.Policy.admit, b'["\xff"]', "invalid_policy", "invalid_utf8"),
    (uh.Policy.admit, '["\\ud800"]', "invalid_policy", "lone_surrogate"),
    (uh.Policy.admit, '{"a":1,"a":2}', "invalid_policy", "duplicate_key"),
    (uh.Policy.admit, "[1e400]", "invalid_policy", "non_finite_number"),
    (uh.Policy.admit, "[9007199254740993]", "invalid_policy", "integer_precision"),
    (uh.Policy.admit, "[" * 65 + "]" * 65, "invalid_policy", "depth_limit"),
    (uh.Policy.admit, "[]", "invalid_policy", "not_a_term"),
    (uh.Policy.admit, ["policy", ["ev_zero"], ["nope"], ["zero"], *TERM_TAIL], "invalid_policy", "unknown_op"),
    (uh.Policy.admit, ["policy", ["ev_zero"], ["and"], ["zero"], *TERM_TAIL], "invalid_policy", "arity"),
    (uh.Policy.admit, ["policy", ["ev_zero"], ["cmp", "price_in", "le", "x"], ["zero"], *TERM_TAIL],
     "invalid_policy", "type"),
    (uh.Policy.admit, ["policy", ["ev_zero"], ["is", "price_in"], ["zero"], *TERM_TAIL], "invalid_policy", "field_kind"),
    (uh.Policy.admit, ["policy", ["ev_zero"], ["has_cap", "supports_tool"], ["zero"], *TERM_TAIL],
     "invalid_policy", "unknown_capability"),
    (uh.Policy.admit, ["policy", ["ev_zero"], ["meets_req"], ["zero"], ["argmax"], ["id"], ["always", {}]],
     "invalid_policy", "bad_fallback"),
    (uh.Flow.admit, ["flow", {"in": {"kind": "input"}}], "invalid_flow", "output_count"),
    (uh.Catalog.from_json, {"models": [{"id": "a", "provider": "p", "prise": 1}]}, "invalid_catalog", "unknown_field"),
    (uh.canonicalize, "[1,]", "invalid_request", "json_syntax"),
]


@pytest.mark.parametrize(("call", "arg", "code", "rule"), BAD_INPUTS)
def test_raised_rules_are_listed(call, arg, code, rule):
    with pytest.raises(uh.UnhardcodedError) as info:
        call(arg)
    assert (info.value.code, info.value.rule) == (code, rule)
    assert info.value.code in uh.ERROR_CODES and info.value.rule in uh.ERROR_RULES
