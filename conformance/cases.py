"""The conformance cases, as Python data (generate.py turns them into vectors/**.json).

A case is a dict in the vector format (README.md) plus, optionally:
  hand   -- expectations worked out by hand from docs/spec.md; the generator checks the reference
            reproduces them before writing anything
  error  -- the expected error members (code/rule/path/node), hand-written
  omit   -- want_* members not to write (e.g. a fingerprint the spec leaves open)
"""
from __future__ import annotations

# ruff: noqa: E501  (case tables: one case per line group reads better than wrapped notes)

# ---------------------------------------------------------------------------- helpers

FB = ["always", {"action": "next_candidate"}]
CHEAP = ["neg", ["normalize", ["field", "price_out"]]]
SPEC_FILTER = ["and", ["meets_req"], ["not", ["is", "disabled"]], ["has_cap", "supports_tools"],
               ["cmp", "bench_intelligence", "ge", 0.5]]
NO_REQ = {"tools": False, "vision": False, "json": False, "prompt_tokens": 0, "max_tokens": None}
ALL_PROVIDERS = ["anthropic", "gemini", "openai", "local"]


def pol(filt=None, rank=None, sel=None, mut=None, ev=None, fb=None):
    return ["policy", ev or ["ev_zero"], filt or ["meets_req"], rank or ["zero"], sel or ["argmax"],
            mut or ["id"], fb or FB]


def req(**kw):
    return dict(NO_REQ, **kw)


# ---------------------------------------------------------------------------- catalogs

def _model(mid, provider, **fields):
    return {"id": mid, "provider": provider, **fields}


CATALOGS = {
    # Listed out of id order on purpose: catalog order is ascending id (UTF-8 bytes).
    "basic": {
        "format": "unhardcoded-catalog/v1",
        "fields": [],
        "capabilities_extra": [],
        "models": [
            _model("gpt-pro", "openai", family="gpt-4o", region="eu", price_in=2.5, price_out=10, context=128000,
                   max_output=16384, bench_intelligence=0.75, latency_ms=600, throughput_tps=80,
                   cap_tools=True, cap_json=True, in_image=True,
                   capabilities=["supports_json_mode", "supports_streaming", "supports_tools", "supports_vision"],
                   meta={"upstream": "gpt-4o", "source": "illustrative"}),
            _model("claude-haiku", "anthropic", family="claude-haiku", region="us", price_in=0.8, price_out=4,
                   context=200000, max_output=8192, bench_intelligence=0.6, latency_ms=500, throughput_tps=120,
                   cap_tools=True, in_image=True, no_log=True,
                   capabilities=["supports_streaming", "supports_tools", "supports_vision"]),
            _model("local-llama", "local", family="llama", region="eu", price_in=None, price_out=None,
                   context=8192, bench_intelligence=None, disabled=True, no_log=True, has_tee=True),
            _model("gemini-flash", "gemini", family="gemini-flash", region="global", price_in=0.1, price_out=0.4,
                   context=1000000, max_output=8192, bench_intelligence=0.55, latency_ms=300, throughput_tps=200,
                   cap_tools=True, cap_json=True, in_image=True,
                   capabilities=["supports_json_mode", "supports_tools", "supports_vision"]),
            _model("claude-opus", "anthropic", family="claude-opus", region="us", price_in=15, price_out=75,
                   context=200000, max_output=32000, bench_intelligence=0.9, latency_ms=1500, throughput_tps=40,
                   cap_tools=True, cap_reasoning=True, cap_json=True, in_image=True,
                   capabilities=["supports_json_mode", "supports_reasoning", "supports_tools", "supports_vision"]),
            _model("gpt-mini", "openai", family="gpt-4o-mini", region="global", price_in=0.15, price_out=0.6,
                   context=128000, max_output=16384, bench_intelligence=0.5, latency_ms=400, throughput_tps=100,
                   cap_tools=True, cap_json=True, in_image=True,
                   capabilities=["supports_json_mode", "supports_response_schema", "supports_tools", "supports_vision"]),
        ],
    },
    "ties": {
        "format": "unhardcoded-catalog/v1",
        "fields": [],
        "capabilities_extra": [],
        "models": [
            _model("m-c", "p", price_out=1, bench_intelligence=0.5, context=1000),
            _model("m-a", "p", price_out=1, bench_intelligence=0.5, context=1000),
            _model("m-e", "p", context=1000),
            _model("m-b", "p", price_out=1, bench_intelligence=0.7, context=1000),
            _model("m-d", "p", price_out=2, context=1000),
        ],
    },
    "unicode": {
        "format": "unhardcoded-catalog/v1",
        "fields": [],
        "capabilities_extra": [],
        "models": [
            _model("\U0001F600-model", "p", price_out=1, context=1000),
            _model("\ue000-model", "p", price_out=1, context=1000),
            _model("\u00e9-model", "p", price_out=1, context=1000),
            _model("z-model", "p", price_out=1, context=1000),
            _model("Z-model", "p", price_out=1, context=1000),
        ],
    },
    "ext": {
        "format": "unhardcoded-catalog/v1",
        "fields": [
            {"name": "eu_resident", "kind": "bool", "description": "Served from the EU."},
            {"name": "tier", "kind": "string", "description": "Vendor tier."},
            {"name": "quality", "kind": "number", "description": "House quality score, 0-1."},
        ],
        "capabilities_extra": ["supports_magic"],
        "models": [
            _model("alpha", "p", eu_resident=True, tier="gold", quality=0.9, context=1000,
                   capabilities=["supports_magic", "supports_tools"]),
            _model("beta", "p", eu_resident=False, tier="silver", quality=0.7, context=1000),
            _model("gamma", "q", tier="gold", context=1000),
        ],
    },
    "extremes": {
        "format": "unhardcoded-catalog/v1",
        "fields": [],
        "capabilities_extra": [],
        "models": [
            _model("huge-a", "p", price_in=1e308, price_out=0.30000000000000004, context=1000),
            _model("huge-b", "p", price_in=1e308, price_out=0.3, context=1000),
            _model("small", "p", price_in=1, price_out=-0.0, context=1000),
        ],
    },
    "nulls": {
        "format": "unhardcoded-catalog/v1",
        "fields": [],
        "capabilities_extra": [],
        "models": [
            _model("n-1", "p", price_out=3, latency_ms=100, context=1000),
            _model("n-2", "p", latency_ms=200, context=1000),
            _model("n-3", "p", price_out=1, context=1000),
            _model("n-4", "p", context=1000),
        ],
    },
}

BASIC_IDS = ["claude-haiku", "claude-opus", "gemini-flash", "gpt-mini", "gpt-pro", "local-llama"]


def _nest(depth: int) -> str:
    """A policy whose deepest array sits at `depth` (the policy array itself is depth 1): the filter is
    depth - 2 nested `not` arrays (depths 2 .. depth - 1) around ["is","disabled"] (depth `depth`)."""
    inner = '["is","disabled"]'
    for _ in range(depth - 2):
        inner = f'["not",{inner}]'
    return f'["policy",["ev_zero"],{inner},["zero"],["argmax"],["id"],["always",{{"action":"next_candidate"}}]]'


def _brackets(depth: int) -> str:
    return "[" * depth + "]" * depth


# ---------------------------------------------------------------------------- json/

def json_cases():
    pn, cz = "policy_normalize", "canonicalize"
    E = lambda rule, code="invalid_policy": {"code": code, "rule": rule}  # noqa: E731
    good = '["policy",["ev_zero"],["meets_req"],["zero"],["argmax"],["id"],["always",{"action":"next_candidate"}]]'
    yield "json/syntax.json", [
        dict(note="A UTF-8 byte-order mark before the term is json_syntax (spec §1 table).", kind=pn,
             term_hex="efbbbf" + good.encode().hex(), error=E("json_syntax")),
        dict(note="Text after the term is json_syntax.", kind=pn, term_text=good + " []", error=E("json_syntax")),
        dict(note="A NaN token is json_syntax, not a number.", kind=pn,
             term_text=good.replace('["zero"]', '["scale",NaN,["zero"]]'), error=E("json_syntax")),
        dict(note="An Infinity token is json_syntax.", kind=pn,
             term_text=good.replace('["zero"]', '["scale",Infinity,["zero"]]'), error=E("json_syntax")),
        dict(note="A -Infinity token is json_syntax.", kind=pn,
             term_text=good.replace('["zero"]', '["scale",-Infinity,["zero"]]'), error=E("json_syntax")),
        dict(note="A leading zero (05) is json_syntax.", kind=pn,
             term_text=good.replace('["zero"]', '["scale",05,["zero"]]'), error=E("json_syntax")),
        dict(note="A // comment is json_syntax.", kind=pn, term_text="// routing\n" + good, error=E("json_syntax")),
        dict(note="A /* */ comment is json_syntax.", kind=pn, term_text=good[:-1] + "/* end */]",
             error=E("json_syntax")),
        dict(note="A trailing comma is json_syntax.", kind=pn, term_text=good[:-1] + ",]", error=E("json_syntax")),
        dict(note="Single-quoted strings are json_syntax.", kind=pn, term_text=good.replace('"zero"', "'zero'"),
             error=E("json_syntax")),
        dict(note="A raw control character (U+0001) inside a string is json_syntax.", kind=pn,
             term_text=good.replace('["meets_req"]', '["family_eq","a\u0001b"]'),
             error=E("json_syntax")),
        dict(note="An unknown escape (\\x41) is json_syntax.", kind=pn,
             term_text=good.replace('"zero"', '"\\x41"'), error=E("json_syntax")),
        dict(note="Empty text is json_syntax.", kind=pn, term_text="", error=E("json_syntax")),
        dict(note="Whitespace only is json_syntax.", kind=pn, term_text=" \n\t", error=E("json_syntax")),
        dict(note="A bare '+1' is json_syntax (JSON numbers have no plus sign).", kind=cz, term_text="[+1]",
             error=E("json_syntax", "invalid_request")),
        dict(note="'1.' (no fraction digits) is json_syntax.", kind=cz, term_text="[1.]",
             error=E("json_syntax", "invalid_request")),
        dict(note="'.5' (no integer part) is json_syntax.", kind=cz, term_text="[.5]",
             error=E("json_syntax", "invalid_request")),
        dict(note="Space, tab, LF and CR between tokens are accepted and vanish from the canonical form.",
             kind=pn, term_text=good.replace(",", " ,\t").replace("[", "[\r\n "),
             hand={"want_canonical": good}),
        dict(note="The canonicalize entry point reads with code invalid_request (an unterminated array).",
             kind=cz, term_text="[1,2", error=E("json_syntax", "invalid_request")),
    ]
    yield "json/encoding.json", [
        dict(note="A lone 0xFF byte is invalid_utf8.", kind=pn,
             term_hex=good.encode().replace(b"zero", b"zer\xff").hex(),
             error=E("invalid_utf8")),
        dict(note="An overlong encoding (C0 AF for '/') is invalid_utf8.", kind=cz,
             term_hex=b'["\xc0\xaf"]'.hex(), error=E("invalid_utf8", "invalid_request")),
        dict(note="A UTF-8-encoded surrogate (ED A0 80) is invalid_utf8, not a string.", kind=cz,
             term_hex=b'["\xed\xa0\x80"]'.hex(), error=E("invalid_utf8", "invalid_request")),
        dict(note="A truncated multi-byte sequence at the end of the text is invalid_utf8.", kind=cz,
             term_hex=b'["\xe2\x82"]'.hex(), error=E("invalid_utf8", "invalid_request")),
        dict(note="\\uD800 not followed by a low surrogate is lone_surrogate.", kind=cz,
             term_text='["\\ud800"]', error=E("lone_surrogate", "invalid_request")),
        dict(note="A lone low surrogate \\uDC00 is lone_surrogate.", kind=cz,
             term_text='["a\\udc00b"]', error=E("lone_surrogate", "invalid_request")),
        dict(note="A high surrogate followed by a non-surrogate escape (\\uD83D\\u0041) is lone_surrogate.",
             kind=cz, term_text='["\\uD83D\\u0041"]', error=E("lone_surrogate", "invalid_request")),
        dict(note="Two high surrogates in a row is lone_surrogate.", kind=cz,
             term_text='["\\ud83d\\ud83d"]', error=E("lone_surrogate", "invalid_request")),
        dict(note="A lone surrogate in a member name is lone_surrogate too.", kind=cz,
             term_text='{"\\udfff":1}', error=E("lone_surrogate", "invalid_request")),
        dict(note="A valid pair \\uD83D\\uDE00 reads as U+1F600 and is written literally (JCS escapes only "
                  "controls, quote and backslash).", kind=cz, term_text='["\\uD83D\\uDE00"]',
             hand={"want_canonical": '["\U0001F600"]'}),
        dict(note="Non-ASCII UTF-8 text is accepted as is.", kind=cz, term_text='["caf\u00e9 \u4e2d\u6587"]',
             hand={"want_canonical": '["caf\u00e9 \u4e2d\u6587"]'}),
    ]
    yield "json/members.json", [
        dict(note="An object naming the same member twice is duplicate_key.", kind=pn,
             term_text=good.replace('{"action":"next_candidate"}', '{"action":"next_candidate","action":"next_candidate"}'),
             error=E("duplicate_key")),
        dict(note="Duplicates are compared after unescaping: \\u0061ction is 'action'.", kind=pn,
             term_text=good.replace('{"action":"next_candidate"}', '{"action":"next_candidate","\\u0061ction":"x"}'),
             error=E("duplicate_key")),
        dict(note="Names that differ only after unescaping are distinct members (a vs \\u0062): no duplicate.",
             kind=cz, term_text='{"a":1,"\\u0062":2}', hand={"want_canonical": '{"a":1,"b":2}'}),
        dict(note="A duplicate inside a nested object is found too.", kind=cz,
             term_text='[{"x":{"k":1,"k":1}}]', error=E("duplicate_key", "invalid_request")),
    ]
    yield "json/numbers.json", [
        dict(note="1e400 overflows a double: non_finite_number.", kind=pn,
             term_text=good.replace('["zero"]', '["scale",1e400,["zero"]]'), error=E("non_finite_number")),
        dict(note="-1e400 overflows too.", kind=cz, term_text="[-1e400]", error=E("non_finite_number", "invalid_request")),
        dict(note="1.5e309 overflows.", kind=cz, term_text="[1.5e309]", error=E("non_finite_number", "invalid_request")),
        dict(note="1e-400 underflows to 0, which is a finite double: accepted and written 0.", kind=cz,
             term_text="[1e-400]", hand={"want_canonical": "[0]"}),
        dict(note="9007199254740993 (2^53+1) as an integer literal is integer_precision.", kind=pn,
             term_text=good.replace('["zero"]', '["scale",9007199254740993,["zero"]]'),
             error=E("integer_precision")),
        dict(note="-9007199254740993 is integer_precision (magnitude counts).", kind=cz,
             term_text="[-9007199254740993]", error=E("integer_precision", "invalid_request")),
        dict(note="18446744073709551615 (2^64 - 1) is integer_precision: its nearest double is 2^64.", kind=cz,
             term_text="[18446744073709551615]", error=E("integer_precision", "invalid_request")),
        dict(note="Exactly 2^53 = 9007199254740992 is a double, so it is read.", kind=cz,
             term_text="[9007199254740992,-9007199254740992]",
             hand={"want_canonical": "[9007199254740992,-9007199254740992]"}),
        dict(note="Choice: only integer literals are checked; 9007199254740993.0 has a fraction, reads as the "
                  "nearest double 9007199254740992.", kind=cz, term_text="[9007199254740993.0]",
             hand={"want_canonical": "[9007199254740992]"}),
        dict(note="Choice: 9007199254740993e0 has an exponent, reads as the nearest double.", kind=cz,
             term_text="[9007199254740993e0]", hand={"want_canonical": "[9007199254740992]"}),
        dict(note="Choice: -0 reads as 0.", kind=cz, term_text="[-0,-0.0,0e5]", hand={"want_canonical": "[0,0,0]"}),
        dict(note="Choice: a policy using -0 has the same canonical form as one using 0.", kind=pn,
             term_text=good.replace('["zero"]', '["scale",-0,["zero"]]'),
             hand={"want_canonical": good.replace('["zero"]', '["scale",0,["zero"]]')}),
        # Appended, so the indices of the Choice vectors above stay stable.
        dict(note="1e20 is written in full by the canonical form (ECMAScript prints integers below 1e21).",
             kind=pn, term_text=good.replace('["zero"]', '["scale",1e20,["zero"]]'),
             hand={"want_canonical": good.replace('["zero"]', '["scale",100000000000000000000,["zero"]]')}),
        dict(note="The canonical text with 100000000000000000000 (10^20, exactly a double) reads back as itself.",
             kind=pn, term_text=good.replace('["zero"]', '["scale",100000000000000000000,["zero"]]'),
             hand={"want_canonical": good.replace('["zero"]', '["scale",100000000000000000000,["zero"]]')}),
        dict(note="-100000000000000000000 is exactly a double too.", kind=cz, term_text="[-100000000000000000000]",
             hand={"want_canonical": "[-100000000000000000000]"}),
        dict(note="18014398509481984 (2^54) is exactly a double: read, though it is above 2^53.", kind=pn,
             term_text=good.replace('["zero"]', '["scale",18014398509481984,["zero"]]'),
             hand={"want_canonical": good.replace('["zero"]', '["scale",18014398509481984,["zero"]]')}),
        dict(note="18014398509481985 (2^54 + 1) would round to 2^54: integer_precision.", kind=pn,
             term_text=good.replace('["zero"]', '["scale",18014398509481985,["zero"]]'),
             error=E("integer_precision")),
        dict(note="1152921504606846976 (2^60) is exact; the canonical form writes it 1152921504606847000.", kind=cz,
             term_text="[1152921504606846976]", hand={"want_canonical": "[1152921504606847000]"}),
        dict(note="1152921504606847000, the canonical form of 2^60, is not 2^60 exactly but reads back as itself: "
                  "canonical text is always readable.", kind=cz, term_text="[1152921504606847000,-1152921504606847000]",
             hand={"want_canonical": "[1152921504606847000,-1152921504606847000]"}),
        dict(note="-1152921504606846977 rounds to -2^60 and is not its canonical form: integer_precision.", kind=cz,
             term_text="[-1152921504606846977]", error=E("integer_precision", "invalid_request")),
        dict(note="123456789012345680000 is the canonical form of 1.2345678901234568e20: read back as itself.",
             kind=cz, term_text="[123456789012345680000]", hand={"want_canonical": "[123456789012345680000]"}),
        dict(note="A 401-digit integer literal (10^400) overflows a double: non_finite_number, not integer_precision.",
             kind=pn, term_text=good.replace('["zero"]', '["scale",1' + "0" * 400 + ',["zero"]]'),
             error=E("non_finite_number")),
        dict(note="-10^400 as an integer literal overflows too.", kind=cz, term_text="[-1" + "0" * 400 + "]",
             error=E("non_finite_number", "invalid_request")),
        dict(note="10^300 as an integer literal is finite but not exactly a double, and its canonical form is "
                  "1e+300: integer_precision.", kind=cz, term_text="[1" + "0" * 300 + "]",
             error=E("integer_precision", "invalid_request")),
    ]
    policy_text_1m = good
    yield "json/limits.json", [
        dict(note="A policy nested exactly 64 deep is admitted (limit: deeper than 64).", kind=pn,
             term_text=_nest(64), omit=["fingerprint"]),
        dict(note="A policy nested 65 deep is depth_limit.", kind=pn, term_text=_nest(65), error=E("depth_limit")),
        dict(note="Depth counts objects too: the fallback object at depth 65.", kind=pn,
             term_text=_nest(64).replace('["always",{"action":"next_candidate"}]',
                                         '["always",' + "[" * 62 + '{"a":1}' + "]" * 62 + ']'),
             error=E("depth_limit")),
        dict(note="canonicalize reads with the request limit: 128 levels pass.", kind=cz, term_text=_brackets(128),
             hand={"want_canonical": _brackets(128)}),
        dict(note="canonicalize: 129 levels is depth_limit.", kind=cz, term_text=_brackets(129),
             error=E("depth_limit", "invalid_request")),
        dict(note="A flow nested 129 deep is depth_limit (flow limit 128), before any admission rule.",
             kind="flow_normalize", term_text='["flow",{"u":{"kind":"input","x":' + _brackets(126) + '}}]',
             error=E("depth_limit", "invalid_flow")),
        dict(note="A flow nested 128 deep passes the reader (and then fails admission on the extra member).",
             kind="flow_normalize", term_text='["flow",{"u":{"kind":"input","x":' + _brackets(125) + '}}]',
             error={"code": "invalid_flow", "rule": "unknown_member", "path": "/1/u/x", "node": "u"}),
        dict(note="A policy text of exactly 1 MiB (1048576 bytes, padded with spaces) is admitted.", kind=pn,
             term_text=policy_text_1m, pad_to=1048576, hand={"want_canonical": good}),
        dict(note="A policy text of 1048577 bytes is size_limit.", kind=pn, term_text=policy_text_1m,
             pad_to=1048577, error=E("size_limit")),
        dict(note="A flow text over 8 MiB (8388609 bytes) is size_limit.", kind="flow_normalize",
             term_text='["flow",{}]', pad_to=8388609, error=E("size_limit", "invalid_flow")),
    ]


# ---------------------------------------------------------------------------- canonical/

def canonical_cases():
    cz = "canonicalize"
    yield "canonical/jcs.json", [
        dict(note="Members sorted by name; whitespace removed.", kind=cz, term_text='{ "b" : 1, "a" : [ 1 , 2 ] }',
             hand={"want_canonical": '{"a":[1,2],"b":1}'}),
        dict(note="Sort is by UTF-16 code units: U+1F600 (D83D DE00) sorts before U+E000, although its code "
                  "point (and UTF-8) order is after.", kind=cz, term_text='{"\\ue000":1,"\\ud83d\\ude00":2}',
             hand={"want_canonical": '{"\U0001F600":2,"\ue000":1}'}),
        dict(note="RFC 8785 §3.2.3 sorting example.", kind=cz,
             term_text='{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh",'
                       '"1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control",'
                       '"\\u00f6":"Latin Small Letter O With Diaeresis"}',
             hand={"want_canonical": '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
                                     '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
                                     '"\U0001F600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'}),
        dict(note="Nested objects are sorted at every level; arrays keep their order.", kind=cz,
             term_text='[{"z":{"y":1,"x":2},"a":[3,{"d":0,"c":0}]}]',
             hand={"want_canonical": '[{"a":[3,{"c":0,"d":0}],"z":{"x":2,"y":1}}]'}),
        dict(note="Literals true, false, null.", kind=cz, term_text='[true,false,null]',
             hand={"want_canonical": "[true,false,null]"}),
        dict(note="Short escapes \\b \\t \\n \\f \\r, other controls as lowercase \\u00xx.", kind=cz,
             term_text='["\\u0008\\u0009\\u000A\\u000c\\u000D\\u0000\\u001F\\u000b"]',
             hand={"want_canonical": '["\\b\\t\\n\\f\\r\\u0000\\u001f\\u000b"]'}),
        dict(note="Quote and backslash are escaped; '/' is not (\\/ reads as '/').", kind=cz,
             term_text='["a\\"b\\\\c\\/d"]', hand={"want_canonical": '["a\\"b\\\\c/d"]'}),
        dict(note="DEL (U+007F), U+2028 and escaped non-ASCII are written literally.", kind=cz,
             term_text='["\\u007f\\u2028\\u00e9"]', hand={"want_canonical": '["\u007f\u2028\u00e9"]'}),
        dict(note="Empty containers and the empty string.", kind=cz, term_text='[{},[],""]',
             hand={"want_canonical": '[{},[],""]'}),
        dict(note="A top-level scalar is canonicalized too.", kind=cz, term_text=' "x" ',
             hand={"want_canonical": '"x"'}),
    ]
    numbers = [
        ("1.0", "1"), ("1e21", "1e+21"), ("1e20", "100000000000000000000"), ("0.000001", "0.000001"),
        ("1e-7", "1e-7"), ("123e-20", "1.23e-18"), ("4.50", "4.5"), ("2e-3", "0.002"),
        ("0.000000000000000000000000001", "1e-27"), ("333333333.33333329", "333333333.3333333"),
        ("1E30", "1e+30"), ("-1.5E+3", "-1500"), ("5e-324", "5e-324"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"), ("0.1", "0.1"), ("100", "100"),
        ("1.2345678901234568e20", "123456789012345680000"), ("1.2345678901234568e21", "1.2345678901234568e+21"),
        ("0.0000012345", "0.0000012345"), ("0.00000012345", "1.2345e-7"), ("-0.5", "-0.5"),
        ("9007199254740991", "9007199254740991"), ("2.9514790517935283e20", "295147905179352830000"),
        ("1.5e-6", "0.0000015"), ("12.5e1", "125"),
    ]
    yield "canonical/numbers.json", [
        dict(note=f"ECMAScript Number.prototype.toString: {src} -> {want}.", kind=cz, term_text=f"[{src}]",
             hand={"want_canonical": f"[{want}]"})
        for src, want in numbers
    ]


# ---------------------------------------------------------------------------- admission/

def admission_cases():
    pn = "policy_normalize"
    E = lambda rule, path, **kw: dict({"code": "invalid_policy", "rule": rule, "path": path}, **kw)  # noqa: E731

    seed_policy = pol(["and", ["meets_req"], ["not", ["is", "disabled"]], ["has_cap", "supports_tools"],
                       ["cmp", "bench_intelligence", "ge", 0.5], ["cmp", "price_out", "le", 5]], CHEAP)
    yield "admission/valid.json", [
        dict(note="The policy of the product page (seed 003): admitted, canonical = compact JCS, version "
                  "sigma-pol/v1.", kind=pn, term=seed_policy,
             hand={"want_version": "sigma-pol/v1", "want_canonical":
                   '["policy",["ev_zero"],["and",["meets_req"],["not",["is","disabled"]],["has_cap","supports_tools"],'
                   '["cmp","bench_intelligence","ge",0.5],["cmp","price_out","le",5]],'
                   '["neg",["normalize",["field","price_out"]]],["argmax"],["id"],["always",{"action":"next_candidate"}]]'}),
        dict(note="Whitespace and number spelling do not change the fingerprint: same canonical form as the "
                  "compact term (5.0 -> 5, 0.50 -> 0.5).", kind=pn,
             term_text='[ "policy", ["ev_zero"], ["and", ["meets_req"], ["not", ["is", "disabled"]], '
                       '["has_cap", "supports_tools"], ["cmp", "bench_intelligence", "ge", 0.50], '
                       '["cmp", "price_out", "le", 5.0]], ["neg", ["normalize", ["field", "price_out"]]], '
                       '["argmax"], ["id"], ["always", {"action": "next_candidate"}] ]'),
        dict(note="Every filter op: or, not, has_cap, is, cmp (number and string), meets_req, family_eq.", kind=pn,
             term=pol(["or", ["and", ["has_cap", "supports_vision"], ["is", "in_image"]],
                       ["not", ["cmp", "price_in", "gt", 3]], ["cmp", "provider", "eq", "openai"],
                       ["cmp", "region", "ne", "eu"], ["meets_req"], ["family_eq", "claude-opus"]])),
        dict(note="Every comparator on a number field.", kind=pn,
             term=pol(["and"] + [["cmp", "context", c, 1000] for c in ("ge", "le", "gt", "lt", "eq", "ne")])),
        dict(note="Every rank op: field, normalize, neg, scale, add, zero.", kind=pn,
             term=pol(rank=["add", ["scale", 0.7, ["normalize", ["field", "bench_intelligence"]]],
                            ["scale", -0.3, ["neg", ["field", "latency_ms"]]], ["zero"]])),
        dict(note="scale takes any finite weight, including 0 and negatives.", kind=pn,
             term=pol(rank=["add", ["scale", 0, ["field", "price_in"]], ["scale", -2.5e-3, ["field", "context"]]])),
        dict(note="Every select op: top_k over sample.", kind=pn, term=pol(sel=["top_k", 3, ["sample", 0.5]])),
        dict(note="Choice: top_k nests any selector, including another top_k.", kind=pn,
             term=pol(sel=["top_k", 5, ["top_k", 2, ["argmax"]]])),
        dict(note="top_k bounds: n = 1 and n = 1024 are admitted.", kind=pn,
             term=pol(sel=["top_k", 1, ["top_k", 1024, ["argmax"]]])),
        dict(note="top_k n written 2.0 is the integer 2 (a double with no fraction; canonical form '2').", kind=pn,
             term_text=__import__("json").dumps(pol(sel=["top_k", 2, ["argmax"]])).replace(", 2,", ", 2.0,"),
             hand={"want_canonical": '["policy",["ev_zero"],["meets_req"],["zero"],["top_k",2,["argmax"]],["id"],'
                                     '["always",{"action":"next_candidate"}]]'}),
        dict(note="sample takes any temperature > 0, however small.", kind=pn, term=pol(sel=["sample", 1e-300])),
        dict(note="Every mutate op: clamp_param (min = max is allowed).", kind=pn,
             term=pol(mut=["clamp_param", "temperature", 0.7, 0.7])),
        dict(note="clamp_param accepts every parameter of spec §2.4.", kind=pn,
             term=pol(mut=["clamp_param", "top_logprobs", 0, 5])),
        dict(note="Capability names of the core vocabulary are admitted.", kind=pn,
             term=pol(["and"] + [["has_cap", c] for c in (
                 "supports_tools", "supports_json_mode", "supports_response_schema", "supports_vision",
                 "supports_reasoning", "supports_streaming", "supports_system_messages",
                 "supports_prompt_caching", "supports_pdf_input", "supports_audio_input",
                 "supports_audio_output", "supports_web_search", "supports_parallel_tool_calls",
                 "supports_tool_choice")])),
        dict(note="Every bool field works with is.", kind=pn,
             term=pol(["or"] + [["is", f] for f in ("cap_tools", "cap_reasoning", "cap_json", "in_image",
                                                      "no_log", "has_tee", "disabled")])),
        dict(note="Every number field works with field.", kind=pn,
             term=pol(rank=["add"] + [["field", f] for f in ("price_in", "price_out", "context", "max_output",
                                                              "bench_intelligence", "latency_ms",
                                                              "throughput_tps")])),
        dict(note="Every string field compares with eq/ne.", kind=pn,
             term=pol(["and"] + [["cmp", f, "ne", "x"] for f in ("id", "provider", "family", "region")])),
        dict(note="Extension fields and capabilities of the catalog are admitted against its vocabulary.", kind=pn,
             catalog_ref="ext",
             term=pol(["and", ["is", "eu_resident"], ["cmp", "tier", "eq", "gold"], ["cmp", "quality", "ge", 0.5],
                       ["has_cap", "supports_magic"]], ["field", "quality"])),
        dict(note="A string of exactly 4096 bytes (2048 x U+00E9, two bytes each) is within string_limit.",
             kind=pn, term=pol(["family_eq", "\u00e9" * 2048]), omit=["canonical"]),
        dict(note="An and with 1023 children is an array of exactly 1024 elements: admitted.", kind=pn,
             term=pol(["and"] + [["meets_req"]] * 1023), omit=["canonical"]),
        dict(note="Unicode in strings survives canonicalization literally.", kind=pn,
             term=pol(["family_eq", "mod\u00e8le-\u00e9t\u00e9"])),
    ]
    yield "admission/not_a_term.json", [
        dict(note="A JSON object is not a term.", kind=pn, term={"policy": []}, error=E("not_a_term", "")),
        dict(note="A bare string is not a term.", kind=pn, term="policy", error=E("not_a_term", "")),
        dict(note="An empty array is not a term.", kind=pn, term=[], error=E("not_a_term", "")),
        dict(note="An array whose first element is not a string is not a term.", kind=pn,
             term=[1, ["ev_zero"]], error=E("not_a_term", "")),
        dict(note="A filter slot holding a string instead of an op array: not_a_term at /2.", kind=pn,
             term=pol("meets_req"), error=E("not_a_term", "/2")),
        dict(note="A number as an and child: not_a_term at its path.", kind=pn,
             term=pol(["and", ["meets_req"], 5]), error=E("not_a_term", "/2/2")),
        dict(note="An empty rank array: not_a_term at /3.", kind=pn, term=["policy", ["ev_zero"], ["meets_req"], [], ["argmax"], ["id"], FB], error=E("not_a_term", "/3")),
        dict(note="A select array starting with a number: not_a_term at /4.", kind=pn,
             term=pol(sel=[7]), error=E("not_a_term", "/4")),
        dict(note="null in the mutate slot: not_a_term at /5.", kind=pn,
             term=["policy", ["ev_zero"], ["meets_req"], ["zero"], ["argmax"], None, FB],
             error=E("not_a_term", "/5")),
        dict(note="The inner scorer of normalize must be a term.", kind=pn, term=pol(rank=["normalize", "price_out"]),
             error=E("not_a_term", "/3/1")),
    ]
    yield "admission/unknown_op.json", [
        dict(note="A top-level op other than 'policy' is unknown_op at the root.", kind=pn,
             term=["polcy", ["ev_zero"], ["meets_req"], ["zero"], ["argmax"], ["id"], FB],
             error=E("unknown_op", "/0")),
        dict(note="An evidence op other than ev_zero.", kind=pn, term=pol(ev=["ev_one"]), error=E("unknown_op", "/1/0")),
        dict(note="An unknown filter op.", kind=pn, term=pol(["xor", ["meets_req"]]), error=E("unknown_op", "/2/0")),
        dict(note="A rank op in the filter slot is unknown_op (ops are per slot).", kind=pn,
             term=pol(["field", "price_out"]), error=E("unknown_op", "/2/0")),
        dict(note="A select op in the rank slot is unknown_op.", kind=pn, term=pol(rank=["argmax"]),
             error=E("unknown_op", "/3/0")),
        dict(note="A filter op in the select slot is unknown_op.", kind=pn, term=pol(sel=["meets_req"]),
             error=E("unknown_op", "/4/0")),
        dict(note="An unknown mutate op.", kind=pn, term=pol(mut=["clamp", "temperature", 0, 1]),
             error=E("unknown_op", "/5/0")),
        dict(note="An unknown fallback op.", kind=pn,
             term=pol(fb=["never", {"action": "next_candidate"}]), error=E("unknown_op", "/6/0")),
        dict(note="Op names are case-sensitive: 'AND' is unknown.", kind=pn, term=pol(["AND", ["meets_req"]]),
             error=E("unknown_op", "/2/0")),
        dict(note="An unknown op nested in an or inside an and: depth-first path.", kind=pn,
             term=pol(["and", ["meets_req"], ["or", ["is", "cap_tools"], ["bogus"]]]),
             error=E("unknown_op", "/2/2/2/0")),
        dict(note="A misspelt select op carries did_you_mean (argmx -> argmax, edit distance 1).", kind=pn,
             term=pol(sel=["argmx"]), error=E("unknown_op", "/4/0", did_you_mean="argmax")),
    ]
    arity = [
        ("The policy needs exactly seven elements: six is arity at the root.", ["policy", ["ev_zero"], ["meets_req"],
                                                                               ["zero"], ["argmax"], ["id"]], ""),
        ("Eight elements is arity at the root.", pol() + [["id"]], ""),
        ("ev_zero takes no argument.", pol(ev=["ev_zero", 1]), "/1"),
        ("Choice: an empty and is an arity error.", pol(["and"]), "/2"),
        ("Choice: an empty or is an arity error.", pol(["or"]), "/2"),
        ("not takes exactly one filter (none).", pol(["not"]), "/2"),
        ("not takes exactly one filter (two).", pol(["not", ["meets_req"], ["meets_req"]]), "/2"),
        ("has_cap takes one name.", pol(["has_cap"]), "/2"),
        ("is takes one field.", pol(["is", "cap_tools", "in_image"]), "/2"),
        ("cmp takes three arguments.", pol(["cmp", "price_out", "le"]), "/2"),
        ("meets_req takes none.", pol(["meets_req", "tools"]), "/2"),
        ("family_eq takes one name.", pol(["family_eq"]), "/2"),
        ("field takes one name.", pol(rank=["field"]), "/3"),
        ("normalize takes one scorer.", pol(rank=["normalize"]), "/3"),
        ("neg takes one scorer.", pol(rank=["neg", ["zero"], ["zero"]]), "/3"),
        ("scale takes a weight and a scorer.", pol(rank=["scale", 2]), "/3"),
        ("Choice: an empty add is an arity error.", pol(rank=["add"]), "/3"),
        ("zero takes none.", pol(rank=["zero", 0]), "/3"),
        ("argmax takes none.", pol(sel=["argmax", 1]), "/4"),
        ("top_k takes n and a selector.", pol(sel=["top_k", 3]), "/4"),
        ("sample takes one temperature.", pol(sel=["sample"]), "/4"),
        ("id takes none.", pol(mut=["id", {}]), "/5"),
        ("clamp_param takes three arguments.", pol(mut=["clamp_param", "temperature", 0]), "/5"),
        ("always takes one argument (none).", pol(fb=["always"]), "/6"),
        ("always takes one argument (two).", pol(fb=["always", {"action": "next_candidate"}, {}]), "/6"),
        ("Preorder: a node's own arity error comes before an error in its children.",
         pol(["not", ["bogus"], ["meets_req"]]), "/2"),
        ("Preorder: the root's arity comes before any slot error.", ["policy", ["bogus"]], ""),
    ]
    yield "admission/arity.json", [dict(note=n, kind=pn, term=t, error=E("arity", p)) for n, t, p in arity]
    types = [
        ("has_cap with a number.", pol(["has_cap", 5]), "/2/1"),
        ("is with a number.", pol(["is", 5]), "/2/1"),
        ("cmp on a number field with a string value.", pol(["cmp", "price_out", "le", "5"]), "/2/3"),
        ("cmp on a number field with null.", pol(["cmp", "price_out", "le", None]), "/2/3"),
        ("cmp on a number field with a boolean.", pol(["cmp", "context", "ge", True]), "/2/3"),
        ("cmp on a string field with a number value.", pol(["cmp", "provider", "eq", 5]), "/2/3"),
        ("cmp with a non-string field name.", pol(["cmp", ["price_out"], "le", 5]), "/2/1"),
        ("family_eq with an empty name (must be non-empty).", pol(["family_eq", ""]), "/2/1"),
        ("family_eq with a number.", pol(["family_eq", 4]), "/2/1"),
        ("field with a number.", pol(rank=["field", 1]), "/3/1"),
        ("scale with a string weight.", pol(rank=["scale", "2", ["zero"]]), "/3/1"),
        ("top_k n = 0 is out of range.", pol(sel=["top_k", 0, ["argmax"]]), "/4/1"),
        ("top_k n = 1025 is out of range.", pol(sel=["top_k", 1025, ["argmax"]]), "/4/1"),
        ("top_k n = 2.5 is not an integer.", pol(sel=["top_k", 2.5, ["argmax"]]), "/4/1"),
        ("top_k n = -1.", pol(sel=["top_k", -1, ["argmax"]]), "/4/1"),
        ("top_k n as a string.", pol(sel=["top_k", "3", ["argmax"]]), "/4/1"),
        ("sample t = 0 (must be > 0).", pol(sel=["sample", 0]), "/4/1"),
        ("sample t < 0.", pol(sel=["sample", -1]), "/4/1"),
        ("sample t as a string.", pol(sel=["sample", "hot"]), "/4/1"),
        ("clamp_param min as a string.", pol(mut=["clamp_param", "temperature", "0", 1]), "/5/2"),
        ("clamp_param max below min.", pol(mut=["clamp_param", "temperature", 1, 0.5]), "/5/3"),
        ("clamp_param name not a string.", pol(mut=["clamp_param", 7, 0, 1]), "/5/1"),
    ]
    yield "admission/type.json", [dict(note=n, kind=pn, term=t, error=E("type", p)) for n, t, p in types]
    yield "admission/fields.json", [
        dict(note="An unknown field under is, with did_you_mean (disabld -> disabled).", kind=pn,
             term=pol(["is", "disabld"]), error=E("unknown_field", "/2/1", did_you_mean="disabled")),
        dict(note="An unknown field under cmp.", kind=pn, term=pol(["cmp", "cost", "le", 5]),
             error=E("unknown_field", "/2/1")),
        dict(note="An unknown field under field, with did_you_mean (price_outt -> price_out).", kind=pn,
             term=pol(rank=["field", "price_outt"]), error=E("unknown_field", "/3/1", did_you_mean="price_out")),
        dict(note="Field names are case-sensitive.", kind=pn, term=pol(["is", "Disabled"]),
             error=E("unknown_field", "/2/1")),
        dict(note="An extension field is unknown without the catalog that declares it.", kind=pn,
             term=pol(["is", "eu_resident"]), error=E("unknown_field", "/2/1")),
        dict(note="meta is not queryable: it is not a field.", kind=pn, term=pol(["cmp", "meta", "eq", "x"]),
             error=E("unknown_field", "/2/1")),
        dict(note="is on a number field is field_kind.", kind=pn, term=pol(["is", "price_out"]),
             error=E("field_kind", "/2/1")),
        dict(note="is on the caps field is field_kind (use has_cap).", kind=pn, term=pol(["is", "capabilities"]),
             error=E("field_kind", "/2/1")),
        dict(note="field on a bool field is field_kind.", kind=pn, term=pol(rank=["field", "cap_tools"]),
             error=E("field_kind", "/3/1")),
        dict(note="field on a string field is field_kind.", kind=pn, term=pol(rank=["field", "id"]),
             error=E("field_kind", "/3/1")),
        dict(note="cmp on a bool field is field_kind (spec §2.2: use is).", kind=pn,
             term=pol(["cmp", "cap_tools", "eq", 1]), error=E("field_kind", "/2/1")),
        dict(note="cmp on the caps field is field_kind (spec §2.2: use has_cap).", kind=pn,
             term=pol(["cmp", "capabilities", "eq", "supports_tools"]), error=E("field_kind", "/2/1")),
        dict(note="An extension bool field under field is field_kind.", kind=pn, catalog_ref="ext",
             term=pol(rank=["field", "eu_resident"]), error=E("field_kind", "/3/1")),
        dict(note="An unknown capability.", kind=pn, term=pol(["has_cap", "supports_telepathy"]),
             error=E("unknown_capability", "/2/1")),
        dict(note="A misspelt capability carries did_you_mean (supports_tool -> supports_tools).", kind=pn,
             term=pol(["has_cap", "supports_tool"]), error=E("unknown_capability", "/2/1", did_you_mean="supports_tools")),
        dict(note="An extra capability is unknown without the catalog that adds it.", kind=pn,
             term=pol(["has_cap", "supports_magic"]), error=E("unknown_capability", "/2/1")),
    ]
    yield "admission/limits.json", [
        dict(note="An and with 1024 children is an array of 1025 elements: array_limit at the and.", kind=pn,
             term=pol(["and"] + [["meets_req"]] * 1024), error=E("array_limit", "/2")),
        dict(note="An add with 1024 scorers: array_limit at /3.", kind=pn,
             term=pol(rank=["add"] + [["zero"]] * 1024), error=E("array_limit", "/3")),
        dict(note="A family name of 4097 bytes (ASCII) is string_limit at the string.", kind=pn,
             term=pol(["family_eq", "f" * 4097]), error=E("string_limit", "/2/1")),
        dict(note="The limit is bytes, not characters: 2049 x U+00E9 is 4098 bytes.", kind=pn,
             term=pol(["family_eq", "\u00e9" * 2049]), error=E("string_limit", "/2/1")),
        dict(note="A string value of 4097 bytes under cmp is string_limit.", kind=pn,
             term=pol(["cmp", "region", "eq", "r" * 4097]), error=E("string_limit", "/2/3")),
    ]
    yield "admission/fallback.json", [
        dict(note="An action other than next_candidate is bad_fallback.", kind=pn,
             term=pol(fb=["always", {"action": "retry"}]), error=E("bad_fallback", "/6/1")),
        dict(note="An extra member beside action is bad_fallback (exactly one member).", kind=pn,
             term=pol(fb=["always", {"action": "next_candidate", "max": 3}]), error=E("bad_fallback", "/6/1")),
        dict(note="An empty object is bad_fallback.", kind=pn, term=pol(fb=["always", {}]),
             error=E("bad_fallback", "/6/1")),
        dict(note="The action as a bare string is bad_fallback.", kind=pn, term=pol(fb=["always", "next_candidate"]),
             error=E("bad_fallback", "/6/1")),
    ]
    yield "admission/order.json", [
        dict(note="First error in document order: a filter error wins over a later rank error.", kind=pn,
             term=pol(["is", "nope"], ["field", "nope"]), error=E("unknown_field", "/2/1")),
        dict(note="Left to right inside and: the second child's error is reported, the third is not reached.",
             kind=pn, term=pol(["and", ["meets_req"], ["has_cap", "x"], ["is", 5]]),
             error=E("unknown_capability", "/2/2/1")),
        dict(note="Depth first: the error inside the first child wins over the second child.", kind=pn,
             term=pol(["and", ["or", ["not", ["is", 1]]], ["bogus"]]), error=E("type", "/2/1/1/1/1")),
        dict(note="Arguments left to right: cmp's field is checked before its value.", kind=pn,
             term=pol(["cmp", "nope", "le", "x"]), error=E("unknown_field", "/2/1")),
        dict(note="The evidence slot is checked before the filter.", kind=pn,
             term=pol(["bogus"], ev=["ev_zero", 0]), error=E("arity", "/1")),
        dict(note="The fallback slot is checked last.", kind=pn,
             term=pol(mut=["bogus"], fb=["always", {}]), error=E("unknown_op", "/5/0")),
    ]
    yield "admission/readings.json", [
        dict(note="Reading: §2.2 names cmp's comparator its `op`, so an unknown comparator is unknown_op, at the "
                  "comparator, with did_you_mean (gte -> ge).", kind=pn, term=pol(["cmp", "price_out", "gte", 5]),
             error=E("unknown_op", "/2/2", did_you_mean="ge")),
        dict(note="Reading: a comparator that is not a string is type.", kind=pn, term=pol(["cmp", "price_out", 3, 5]),
             error=E("type", "/2/2")),
        dict(note="Reading: an ordering comparator on a string field is field_kind, at the comparator.", kind=pn,
             term=pol(["cmp", "family", "ge", "gpt"]), error=E("field_kind", "/2/2")),
        dict(note="Reading: an unknown clamp_param parameter is type (an argument out of range), with "
                  "did_you_mean (max_token -> max_tokens).", kind=pn, term=pol(mut=["clamp_param", "max_token", 0, 5]),
             error=E("type", "/5/1", did_you_mean="max_tokens")),
        dict(note="Reading: a size limit applies to a value of the type expected where it stands; a long string "
                  "where a number belongs is type.", kind=pn, term=pol(["cmp", "price_out", "le", "9" * 5000]),
             error=E("type", "/2/3")),
        dict(note="Reading: a long string where a term belongs is not_a_term (not string_limit).", kind=pn,
             term=pol(["not", "x" * 5000]), error=E("not_a_term", "/2/1")),
        dict(note="Reading: an over-long array where a term belongs is array_limit (its length is checked "
                  "before its shape).", kind=pn, term=pol(["not", [1] * 1025]), error=E("array_limit", "/2/1")),
        dict(note="Reading: an over-long op name is string_limit at the name.", kind=pn, term=pol(["o" * 5000]),
             error=E("string_limit", "/2/0")),
        dict(note="Reading: a field name over 4096 bytes is string_limit, before the unknown_field check.", kind=pn,
             term=pol(["is", "f" * 4097]), error=E("string_limit", "/2/1")),
    ]


# ---------------------------------------------------------------------------- eval/

def eval_cases():
    ev = "policy_eval"

    def E(**kw):
        if "catalog" not in kw:
            kw.setdefault("catalog_ref", "basic")
        return dict(kind=ev, requirements=kw.pop("requirements", NO_REQ), **kw)

    seed_policy = pol(SPEC_FILTER, CHEAP)
    yield "eval/basic.json", [
        E(note="The product-page policy over the basic catalog. local-llama is disabled: blamed on the not "
               "node /2/2 (spec §5.1: not blames itself). Survivors by price_out: gemini-flash 0.4, gpt-mini 0.6, "
               "claude-haiku 4, gpt-pro 10, claude-opus 75; normalize over min 0.4 / max 75, then neg: the "
               "cheapest scores 0 and wins; the cascade is every survivor cheapest-first.",
          term=seed_policy,
          hand={"want_winner": "gemini-flash",
                "want_cascade": ["gemini-flash", "gpt-mini", "claude-haiku", "gpt-pro", "claude-opus"],
                "want_seed": None,
                "want_verdicts_subset": {
                    "gemini-flash": {"status": "winner", "dropped_by": None, "score": 0.0, "rank": 0},
                    "gpt-mini": {"status": "passed", "dropped_by": None, "score": -0.2 / 74.6, "rank": 1},
                    "claude-opus": {"status": "passed", "dropped_by": None, "score": -1.0, "rank": 4},
                    "local-llama": {"status": "rejected", "score": None, "rank": None,
                                    "dropped_by": {"path": "/2/2", "term": ["not", ["is", "disabled"]]}},
                }}),
        E(note="Verdicts are one per catalog model in ascending id order, whatever the file order.",
          term=pol(["meets_req"], ["zero"]), hand={"want_cascade": BASIC_IDS}),
        E(note="The product-page policy with a price ceiling: claude-opus (75) and gpt-pro (10) fail "
               "['cmp','price_out','le',5] at /2/5.", term=pol(SPEC_FILTER + [["cmp", "price_out", "le", 5]], CHEAP),
          hand={"want_cascade": ["gemini-flash", "gpt-mini", "claude-haiku"]}),
        E(note="Quality-first: rank by bench_intelligence; claude-opus (0.9) wins.",
          term=pol(["not", ["is", "disabled"]], ["field", "bench_intelligence"]),
          hand={"want_winner": "claude-opus"}),
        E(note="No model passes: no_candidates, with every verdict rejected (never a silent downgrade).",
          term=pol(["cmp", "price_out", "lt", 0.1]),
          error={"code": "no_candidates", "rule": "empty_cascade", "path": ""}),
    ]
    yield "eval/filter.json", [
        E(note="cmp ge at the boundary: gpt-mini has bench 0.5 and passes ge 0.5.",
          term=pol(["cmp", "bench_intelligence", "ge", 0.5])),
        E(note="cmp gt at the boundary: gpt-mini (0.5) fails gt 0.5.", term=pol(["cmp", "bench_intelligence", "gt", 0.5]),
          hand={"want_verdicts_subset": {"gpt-mini": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2", "term": ["cmp", "bench_intelligence", "gt", 0.5]}}}}),
        E(note="cmp le at the boundary: claude-haiku (price_out 4) passes le 4.", term=pol(["cmp", "price_out", "le", 4])),
        E(note="cmp lt at the boundary: claude-haiku fails lt 4.", term=pol(["cmp", "price_out", "lt", 4])),
        E(note="cmp eq on a number: only gpt-mini has price_out exactly 0.6.", term=pol(["cmp", "price_out", "eq", 0.6]),
          hand={"want_cascade": ["gpt-mini"]}),
        E(note="cmp ne on a number; a missing value is false even for ne (local-llama has no price).",
          term=pol(["cmp", "price_out", "ne", 0.6]),
          hand={"want_verdicts_subset": {"local-llama": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2", "term": ["cmp", "price_out", "ne", 0.6]}}}}),
        E(note="eq/ne are exact IEEE comparisons: 0.30000000000000004 is not 0.3.", catalog_ref="extremes",
          term=pol(["cmp", "price_out", "eq", 0.3]), hand={"want_cascade": ["huge-b"]}),
        E(note="-0 equals 0 under IEEE eq (small has price_out -0.0 in the catalog).", catalog_ref="extremes",
          term=pol(["cmp", "price_out", "eq", 0]), hand={"want_cascade": ["small"]}),
        E(note="cmp on a missing value is false: ['cmp','price_out','le',100] rejects local-llama.",
          term=pol(["cmp", "price_out", "le", 100]),
          hand={"want_verdicts_subset": {"local-llama": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2", "term": ["cmp", "price_out", "le", 100]}}}}),
        E(note="Choice (two-valued logic): ['not',['cmp','price_out','gt',5]] keeps local-llama, whose price is "
               "missing (cmp false, so not true); gpt-pro and claude-opus are blamed on the not node.",
          term=pol(["not", ["cmp", "price_out", "gt", 5]]),
          hand={"want_cascade": ["claude-haiku", "gemini-flash", "gpt-mini", "local-llama"],
                "want_verdicts_subset": {"gpt-pro": {"status": "rejected", "score": None, "rank": None,
                                         "dropped_by": {"path": "/2", "term": ["not", ["cmp", "price_out", "gt", 5]]}}}}),
        E(note="cmp eq on a string field.", term=pol(["cmp", "provider", "eq", "anthropic"]),
          hand={"want_cascade": ["claude-haiku", "claude-opus"]}),
        E(note="cmp ne on a string field; region is present on every model of basic.",
          term=pol(["cmp", "region", "ne", "eu"]), hand={"want_cascade": ["claude-haiku", "claude-opus", "gemini-flash", "gpt-mini"]}),
        E(note="cmp ne on a missing string is false: no model of the ext catalog has a region.",
          catalog_ref="ext", term=pol(["cmp", "region", "ne", "eu"]), error={"code": "no_candidates"}),
        E(note="Choice (missing values): is on a missing flag is false: claude-haiku has no cap_json.", term=pol(["is", "cap_json"]),
          hand={"want_verdicts_subset": {"claude-haiku": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2", "term": ["is", "cap_json"]}}}}),
        E(note="has_cap on a model with no capability set is false (local-llama).",
          term=pol(["has_cap", "supports_tools"]),
          hand={"want_verdicts_subset": {"local-llama": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2", "term": ["has_cap", "supports_tools"]}}}}),
        E(note="has_cap reads the capability set, not the cap_* flags: only claude-opus lists supports_reasoning.",
          term=pol(["has_cap", "supports_reasoning"]), hand={"want_cascade": ["claude-opus"]}),
        E(note="family_eq compares exactly: 'gpt-4o' matches gpt-pro but not gpt-mini (family gpt-4o-mini).",
          term=pol(["family_eq", "gpt-4o"]), hand={"want_cascade": ["gpt-pro"]}),
        E(note="family_eq is case-sensitive.", term=pol(["family_eq", "GPT-4o"]), error={"code": "no_candidates"}),
        E(note="and blames its first false child: local-llama fails both children, blamed on /2/1.",
          term=pol(["and", ["has_cap", "supports_tools"], ["is", "cap_tools"]]),
          hand={"want_verdicts_subset": {"local-llama": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2/1", "term": ["has_cap", "supports_tools"]}}}}),
        E(note="and blames the blame of its first false child, down through nested and: /2/2/2.",
          term=pol(["and", ["meets_req"], ["and", ["is", "in_image"], ["is", "cap_reasoning"]]]),
          hand={"want_verdicts_subset": {"gpt-mini": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2/2/2", "term": ["is", "cap_reasoning"]}}}}),
        E(note="or with every child false blames the or node itself, not a child.",
          term=pol(["or", ["cmp", "provider", "eq", "gemini"], ["is", "cap_reasoning"]]),
          hand={"want_verdicts_subset": {"gpt-mini": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2", "term": ["or", ["cmp", "provider", "eq", "gemini"], ["is", "cap_reasoning"]]}}}}),
        E(note="An or under an and: the and blames the or node (the or's own blame).",
          term=pol(["and", ["meets_req"], ["or", ["family_eq", "llama"], ["is", "cap_reasoning"]]]),
          hand={"want_verdicts_subset": {"gemini-flash": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2/2", "term": ["or", ["family_eq", "llama"], ["is", "cap_reasoning"]]}}}}),
        E(note="not with a true child blames the not node; not with a false child passes.",
          term=pol(["not", ["is", "no_log"]]),
          hand={"want_cascade": ["claude-opus", "gemini-flash", "gpt-mini", "gpt-pro"]}),
        E(note="Double negation: the outer not passes exactly the models the inner is keeps; the rejected are "
               "blamed on the outer not (its child, the inner not, was true).",
          term=pol(["not", ["not", ["is", "no_log"]]]),
          hand={"want_cascade": ["claude-haiku", "local-llama"],
                "want_verdicts_subset": {"gpt-pro": {"status": "rejected", "score": None, "rank": None,
                    "dropped_by": {"path": "/2", "term": ["not", ["not", ["is", "no_log"]]]}}}}),
        E(note="Extension fields: is on a declared bool, cmp on a declared string and number, has_cap on an "
               "extra capability.", catalog_ref="ext",
          term=pol(["and", ["cmp", "tier", "eq", "gold"], ["has_cap", "supports_magic"], ["is", "eu_resident"],
                    ["cmp", "quality", "gt", 0.8]], ["field", "quality"]),
          hand={"want_cascade": ["alpha"]}),
    ]
    mr = ["and", ["meets_req"]]
    yield "eval/meets_req.json", [
        E(note="meets_req reason tools: local-llama has no cap_tools.", term=pol(["meets_req"]),
          requirements=req(tools=True, prompt_tokens=10),
          hand={"want_verdicts_subset": {"local-llama": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2", "term": ["meets_req"], "reason": "tools"}}}}),
        E(note="meets_req reason vision: local-llama has no in_image.", term=pol(["meets_req"]),
          requirements=req(vision=True),
          hand={"want_verdicts_subset": {"local-llama": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2", "term": ["meets_req"], "reason": "vision"}}}}),
        E(note="Choice (missing values): meets_req reason json: claude-haiku has no cap_json (a missing flag is false).",
          term=pol(["meets_req"]), requirements=req(json=True),
          hand={"want_verdicts_subset": {"claude-haiku": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2", "term": ["meets_req"], "reason": "json"}}}}),
        E(note="meets_req reason context: 150000 prompt tokens exceed the 128000 of gpt-mini and gpt-pro.",
          term=pol(["meets_req"]), requirements=req(prompt_tokens=150000),
          hand={"want_cascade": ["claude-haiku", "claude-opus", "gemini-flash"]}),
        E(note="Context boundary: context >= prompt_tokens + max_tokens passes at equality "
               "(gpt-mini: 128000 = 120000 + 8000).", term=pol(["meets_req"]),
          requirements=req(prompt_tokens=120000, max_tokens=8000),
          hand={"want_verdicts_subset": {"gpt-mini": {"status": "passed", "dropped_by": None, "score": 0, "rank": 3}}}),
        E(note="One token more than the boundary fails context for gpt-mini and gpt-pro.", term=pol(["meets_req"]),
          requirements=req(prompt_tokens=120001, max_tokens=8000),
          hand={"want_verdicts_subset": {"gpt-mini": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2", "term": ["meets_req"], "reason": "context"}}}}),
        E(note="meets_req reason max_tokens: max_output 8192 < 10000 for claude-haiku and gemini-flash "
               "(local-llama fails context first: 8192 < 0 + 10000).", term=pol(["meets_req"]),
          requirements=req(max_tokens=10000),
          hand={"want_cascade": ["claude-opus", "gpt-mini", "gpt-pro"],
                "want_verdicts_subset": {"claude-haiku": {"status": "rejected", "score": None, "rank": None,
                    "dropped_by": {"path": "/2", "term": ["meets_req"], "reason": "max_tokens"}}}}),
        E(note="Choice (missing values): a missing max_output fails max_tokens when it is set: local-llama (context 8192 >= 100) is "
               "rejected for max_tokens 100.", term=pol(["meets_req"]), requirements=req(max_tokens=100),
          hand={"want_cascade": BASIC_IDS[:5],
                "want_verdicts_subset": {"local-llama": {"status": "rejected", "score": None, "rank": None,
                    "dropped_by": {"path": "/2", "term": ["meets_req"], "reason": "max_tokens"}}}}),
        E(note="Choice (missing values): a missing max_output fails only when max_tokens is set: with max_tokens null local-llama passes.",
          term=pol(["meets_req"]), requirements=req(prompt_tokens=100),
          hand={"want_cascade": BASIC_IDS}),
        E(note="Choice (missing values): a missing context fails the context check, even with 0 prompt tokens and no max_tokens.",
          catalog={"format": "unhardcoded-catalog/v1", "models": [
              {"id": "no-context", "provider": "p"}, {"id": "with-context", "provider": "p", "context": 1}]},
          term=pol(["meets_req"]),
          hand={"want_cascade": ["with-context"],
                "want_verdicts_subset": {"no-context": {"status": "rejected", "score": None, "rank": None,
                    "dropped_by": {"path": "/2", "term": ["meets_req"], "reason": "context"}}}}),
        E(note="Reasons are reported in the order tools, vision, json, context, max_tokens: local-llama fails "
               "all five and is blamed for tools.", term=pol(mr),
          requirements=req(tools=True, vision=True, json=True, prompt_tokens=9000, max_tokens=100),
          hand={"want_verdicts_subset": {"local-llama": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2/1", "term": ["meets_req"], "reason": "tools"}}}}),
        E(note="vision before json: claude-haiku passes tools and vision, fails json.", term=pol(mr),
          requirements=req(tools=True, vision=True, json=True),
          hand={"want_verdicts_subset": {"claude-haiku": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2/1", "term": ["meets_req"], "reason": "json"}}}}),
        E(note="context before max_tokens: gemini-flash fails both (context 1000000 < 995000 + 10000; "
               "max_output 8192 < 10000) and is blamed for context. No model passes: no_candidates carries the "
               "verdicts.", term=pol(["meets_req"]),
          requirements=req(prompt_tokens=995000, max_tokens=10000), error={"code": "no_candidates"},
          hand={"want_verdicts_subset": {"gemini-flash": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2", "term": ["meets_req"], "reason": "context"}}}}),
    ]
    yield "eval/floor.json", [
        E(note="Host floor: a model whose provider is not configured is rejected before the filter with the "
               "host_floor blame (path '', term 'host_floor').", term=pol(["meets_req"], CHEAP),
          providers=["openai", "gemini"],
          hand={"want_cascade": ["gemini-flash", "gpt-mini", "gpt-pro"],
                "want_verdicts_subset": {"claude-haiku": {"status": "rejected", "score": None, "rank": None,
                    "dropped_by": {"path": "", "term": "host_floor", "reason": "provider anthropic is not configured"}}}}),
        E(note="The floor comes before the filter: local-llama fails both and carries the host_floor blame.",
          term=pol(["not", ["is", "disabled"]]), providers=["openai"],
          hand={"want_verdicts_subset": {"local-llama": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "", "term": "host_floor", "reason": "provider local is not configured"}}}}),
        E(note="normalize runs over filter survivors only, so the floor changes scores: with openai alone, "
               "min 0.6 max 10; gpt-pro scores -1 and gpt-mini 0.", term=pol(["meets_req"], CHEAP),
          providers=["openai"],
          hand={"want_verdicts_subset": {"gpt-mini": {"status": "winner", "dropped_by": None, "score": 0, "rank": 0},
                                         "gpt-pro": {"status": "passed", "dropped_by": None, "score": -1, "rank": 1}}}),
        E(note="An empty floor rejects every model: no_candidates.", term=pol(["meets_req"]), providers=[],
          error={"code": "no_candidates", "rule": "empty_cascade", "path": ""}),
        E(note="A floor naming every provider changes nothing.", term=pol(["meets_req"], CHEAP),
          providers=ALL_PROVIDERS + ["unused"]),
    ]
    yield "eval/rank.json", [
        E(note="Choice: normalize with all values equal gives every non-null score 0; ties go by id.",
          catalog_ref="ties", term=pol(["cmp", "price_out", "eq", 1], ["normalize", ["field", "price_out"]]),
          hand={"want_cascade": ["m-a", "m-b", "m-c"],
                "want_verdicts_subset": {"m-b": {"status": "passed", "dropped_by": None, "score": 0, "rank": 1}}}),
        E(note="Choice: normalize over a single survivor gives 0.", term=pol(["family_eq", "claude-opus"],
                                                                            ["normalize", ["field", "price_out"]]),
          hand={"want_verdicts_subset": {"claude-opus": {"status": "winner", "dropped_by": None, "score": 0, "rank": 0}}}),
        E(note="field with a missing value is a null score; null scores come after every scored model, by id; "
               "the cascade under argmax keeps them.", catalog_ref="nulls", term=pol(["meets_req"], ["field", "price_out"]),
          hand={"want_cascade": ["n-1", "n-3", "n-2", "n-4"],
                "want_verdicts_subset": {"n-2": {"status": "passed", "dropped_by": None, "score": None, "rank": 2}}}),
        E(note="normalize ignores nulls when taking min and max: price_out 3 and 1 map to 1 and 0; nulls stay "
               "null.", catalog_ref="nulls", term=pol(["meets_req"], ["normalize", ["field", "price_out"]]),
          hand={"want_verdicts_subset": {"n-1": {"status": "winner", "dropped_by": None, "score": 1, "rank": 0},
                                         "n-3": {"status": "passed", "dropped_by": None, "score": 0, "rank": 1},
                                         "n-4": {"status": "passed", "dropped_by": None, "score": None, "rank": 3}}}),
        E(note="normalize when every score is null leaves them null.", catalog_ref="nulls",
          term=pol(["meets_req"], ["normalize", ["field", "max_output"]]),
          hand={"want_cascade": ["n-1", "n-2", "n-3", "n-4"]}),
        E(note="add is null when any operand is null: only n-1 has both price_out and latency_ms.",
          catalog_ref="nulls", term=pol(["meets_req"], ["add", ["field", "price_out"], ["field", "latency_ms"]]),
          hand={"want_verdicts_subset": {"n-1": {"status": "winner", "dropped_by": None, "score": 103, "rank": 0},
                                         "n-3": {"status": "passed", "dropped_by": None, "score": None, "rank": 2}}}),
        E(note="neg flips the order: lowest latency first.", term=pol(["not", ["is", "disabled"]], ["neg", ["field", "latency_ms"]]),
          hand={"want_winner": "gemini-flash"}),
        E(note="scale multiplies: scale 2 of price_out.", term=pol(["family_eq", "claude-haiku"], ["scale", 2, ["field", "price_out"]]),
          hand={"want_verdicts_subset": {"claude-haiku": {"status": "winner", "dropped_by": None, "score": 8, "rank": 0}}}),
        E(note="scale with a negative weight reverses the order (most expensive scores lowest).",
          term=pol(["not", ["is", "disabled"]], ["scale", -1, ["field", "price_out"]]),
          hand={"want_winner": "gemini-flash"}),
        E(note="A weighted sum of normalized scorers: 0.7 x quality + 0.3 x cheapness.",
          term=pol(SPEC_FILTER, ["add", ["scale", 0.7, ["normalize", ["field", "bench_intelligence"]]],
                                 ["scale", 0.3, ["neg", ["normalize", ["field", "price_out"]]]]])),
        E(note="zero gives every survivor 0: the ranked list is by id.", term=pol(["meets_req"], ["zero"]),
          hand={"want_cascade": BASIC_IDS}),
        E(note="Ties by id ascending in UTF-8 byte order: Z < z < U+00E9 < U+E000 < U+1F600 (UTF-16 would put "
               "U+1F600 before U+E000).", catalog_ref="unicode", term=pol(["meets_req"], ["field", "price_out"]),
          hand={"want_cascade": ["Z-model", "z-model", "\u00e9-model", "\ue000-model", "\U0001F600-model"]}),
        E(note="A non-finite intermediate becomes null: scale 10 of price_in 1e308 overflows; small (price_in 1) "
               "scores 10 and wins, the overflowed models follow as nulls by id.", catalog_ref="extremes",
          term=pol(["meets_req"], ["scale", 10, ["field", "price_in"]]),
          hand={"want_cascade": ["small", "huge-a", "huge-b"],
                "want_verdicts_subset": {"huge-a": {"status": "passed", "dropped_by": None, "score": None, "rank": 1}}}),
        E(note="add overflow becomes null: 1e308 + 1e308.", catalog_ref="extremes",
          term=pol(["meets_req"], ["add", ["field", "price_in"], ["field", "price_in"]]),
          hand={"want_verdicts_subset": {"huge-b": {"status": "passed", "dropped_by": None, "score": None, "rank": 2},
                                         "small": {"status": "winner", "dropped_by": None, "score": 2, "rank": 0}}}),
        E(note="Scores are computed for survivors only: filter-rejected models carry a null score.",
          term=pol(["cmp", "price_out", "lt", 1], ["field", "price_out"]),
          hand={"want_verdicts_subset": {"claude-opus": {"status": "rejected", "score": None, "rank": None,
                "dropped_by": {"path": "/2", "term": ["cmp", "price_out", "lt", 1]}}}}),
        E(note="normalize nested in normalize is idempotent on a spread-out column.",
          term=pol(["not", ["is", "disabled"]], ["normalize", ["normalize", ["field", "context"]]])),
        E(note="Ranking by an extension number field; gamma has no quality (null, last).", catalog_ref="ext",
          term=pol(["meets_req"], ["field", "quality"]), hand={"want_cascade": ["alpha", "beta", "gamma"]}),
    ]
    cheap_ok = pol(["not", ["is", "disabled"]], CHEAP)
    yield "eval/select.json", [
        E(note="Choice (cascade vs fallback): under argmax the cascade is the whole ranked list, cheapest-first for this rank; failover walks every survivor.",
          term=cheap_ok, hand={"want_cascade": ["gemini-flash", "gpt-mini", "claude-haiku", "gpt-pro", "claude-opus"]}),
        E(note="Choice (cascade vs fallback): top_k 2 bounds the cascade to the first two of the ranked list; the rest are rejected and blamed on the top_k node "
               "(path /4) with their scores kept.", term=pol(["not", ["is", "disabled"]], CHEAP, ["top_k", 2, ["argmax"]]),
          hand={"want_cascade": ["gemini-flash", "gpt-mini"],
                "want_verdicts_subset": {"claude-opus": {"status": "rejected", "score": -1, "rank": None,
                    "dropped_by": {"path": "/4", "term": ["top_k", 2, ["argmax"]]}}}}),
        E(note="top_k past the survivors (10 > 5) keeps all of them and rejects none.",
          term=pol(["not", ["is", "disabled"]], CHEAP, ["top_k", 10, ["argmax"]]),
          hand={"want_cascade": ["gemini-flash", "gpt-mini", "claude-haiku", "gpt-pro", "claude-opus"]}),
        E(note="Choice: nested top_k. The outer keeps 4 (claude-opus blamed on /4); the inner keeps 2 of those "
               "(claude-haiku, gpt-pro blamed on /4/2).",
          term=pol(["not", ["is", "disabled"]], CHEAP, ["top_k", 4, ["top_k", 2, ["argmax"]]]),
          hand={"want_cascade": ["gemini-flash", "gpt-mini"],
                "want_verdicts_subset": {
                    "claude-opus": {"status": "rejected", "score": -1, "rank": None,
                                    "dropped_by": {"path": "/4", "term": ["top_k", 4, ["top_k", 2, ["argmax"]]]}},
                    "gpt-pro": {"status": "rejected", "score": -9.6 / 74.6, "rank": None,
                                "dropped_by": {"path": "/4/2", "term": ["top_k", 2, ["argmax"]]}}}}),
        E(note="top_k keeps null-scored models in ranked order (they come last).", catalog_ref="nulls",
          term=pol(["meets_req"], ["field", "price_out"], ["top_k", 3, ["argmax"]]),
          hand={"want_cascade": ["n-1", "n-3", "n-2"]}),
        E(note="Choice: argmax returns seed null even when the caller passes a seed (seed is null unless the "
               "select term contains sample).", term=cheap_ok, seed=7, hand={"want_seed": None}),
        E(note="Choice (cascade vs fallback): top_k 1 leaves a one-model cascade: no failover beyond the winner.",
          term=pol(["meets_req"], CHEAP, ["top_k", 1, ["argmax"]]), hand={"want_cascade": ["gemini-flash"]}),
    ]
    yield "eval/sample.json", [
        E(note="SplitMix64 check: seed 0 gives first output 0xE220A8397B1DCDAF, u = 0.88331080821364... With "
               "six equal scores (zero) every weight is exp(0) = 1, total 6, u x 6 = 5.2999: the first cumulative "
               "weight above it is the 6th (local-llama). The rest follow in ranked order (by id).",
          term=pol(["meets_req"], ["zero"], ["sample", 1]), seed=0,
          hand={"want_winner": "local-llama", "want_seed": 0,
                "want_cascade": ["local-llama"] + BASIC_IDS[:5]}),
        E(note="Seed 3: u = 0.11345..., u x 6 = 0.68: the first model (claude-haiku) is drawn.",
          term=pol(["meets_req"], ["zero"], ["sample", 1]), seed=3,
          hand={"want_winner": "claude-haiku", "want_seed": 3, "want_cascade": BASIC_IDS}),
        E(note="Seed 1: u = 0.56656..., u x 6 = 3.399: the 4th (gpt-mini) is drawn; the rest keep ranked order.",
          term=pol(["meets_req"], ["zero"], ["sample", 1]), seed=1,
          hand={"want_winner": "gpt-mini", "want_cascade": ["gpt-mini", "claude-haiku", "claude-opus",
                                                             "gemini-flash", "gpt-pro", "local-llama"]}),
        E(note="A tiny temperature makes every weight but the best underflow to 0: the top-ranked model is drawn "
               "whatever the seed.", term=pol(["not", ["is", "disabled"]], CHEAP, ["sample", 1e-6]), seed=12345,
          hand={"want_winner": "gemini-flash"}),
        E(note="Weighted draw, worked by hand: scores 0 (gemini-flash) and -1 (claude-opus) only (filter), t = 1: "
               "weights 1 and e^-1 = 0.3679, total 1.3679; seed 0 gives u x total = 1.2083 > 1, so claude-opus "
               "is drawn.", term=pol(["or", ["family_eq", "gemini-flash"], ["family_eq", "claude-opus"]],
                                      ["neg", ["normalize", ["field", "price_out"]]], ["sample", 1]), seed=0,
          hand={"want_winner": "claude-opus", "want_cascade": ["claude-opus", "gemini-flash"]}),
        E(note="Same policy, seed 3: u x total = 0.1552 < 1, so gemini-flash is drawn.",
          term=pol(["or", ["family_eq", "gemini-flash"], ["family_eq", "claude-opus"]],
                   ["neg", ["normalize", ["field", "price_out"]]], ["sample", 1]), seed=3,
          hand={"want_winner": "gemini-flash", "want_cascade": ["gemini-flash", "claude-opus"]}),
        E(note="Null-scored models are never drawn (weights over scored models only) and follow in ranked order. "
               "nulls: n-1 (3), n-3 (1) scored; seed 0 with t = 1e9 is near-uniform over the two: u x total = "
               "1.7666 > 1 so n-3 is drawn.", catalog_ref="nulls", term=pol(["meets_req"], ["field", "price_out"], ["sample", 1e9]),
          seed=0, hand={"want_cascade": ["n-3", "n-1", "n-2", "n-4"]}),
        E(note="When no survivor has a score, the head is the first of the ranked list (by id), whatever the seed.",
          catalog_ref="nulls", term=pol(["meets_req"], ["field", "max_output"], ["sample", 1]), seed=0,
          hand={"want_cascade": ["n-1", "n-2", "n-3", "n-4"], "want_seed": 0}),
        E(note="top_k 3 then sample draws among the first three only: seed 0, equal scores, u x 3 = 2.65 -> the "
               "third (gemini-flash); claude-haiku and claude-opus follow; the others are blamed on top_k.",
          term=pol(["meets_req"], ["zero"], ["top_k", 3, ["sample", 0.5]]), seed=0,
          hand={"want_cascade": ["gemini-flash", "claude-haiku", "claude-opus"], "want_seed": 0}),
        E(note="Choice: the largest seed 2^53 - 1 is accepted and returned.",
          term=pol(["meets_req"], ["zero"], ["sample", 1]), seed=9007199254740991,
          hand={"want_seed": 9007199254740991}),
        E(note="Choice: without a seed the interpreter draws one in 0..2^53-1 and returns it; replaying with "
               "that seed reproduces the cascade (the runner replays).",
          term=pol(["meets_req"], ["zero"], ["sample", 1]), want_seed_drawn=True, omit=["winner", "cascade", "verdicts"]),
        E(note="no_candidates under sample still reports the seed it would have used.",
          term=pol(["cmp", "price_out", "lt", 0], ["zero"], ["sample", 1]), seed=5,
          error={"code": "no_candidates"}, hand={"want_seed": 5}),
    ]
    yield "eval/no_candidates.json", [
        E(note="An empty catalog is no_candidates with no verdicts.",
          catalog={"format": "unhardcoded-catalog/v1", "fields": [], "capabilities_extra": [], "models": []},
          term=pol(["meets_req"]), error={"code": "no_candidates", "rule": "empty_cascade", "path": ""}),
        E(note="meets_req can empty the cascade: no model takes 2,000,000 prompt tokens.", term=pol(["meets_req"]),
          requirements=req(prompt_tokens=2000000), error={"code": "no_candidates", "rule": "empty_cascade", "path": ""}),
    ]


# ---------------------------------------------------------------------------- requirements/ and mutate/

def requirements_cases():
    rq = "requirements"
    user = lambda content: {"role": "user", "content": content}  # noqa: E731
    yield "requirements/derive.json", [
        dict(note="No messages: nothing required, 0 prompt tokens, max_tokens null.", kind=rq, request={},
             hand={"want_requirements": NO_REQ}),
        dict(note="Choice (prompt estimate): B counts string values: role 'user' (4) + 'hello' (5) = 9 bytes -> ceil(9/4) = 3.", kind=rq,
             request={"messages": [user("hello")]}, hand={"want_requirements": req(prompt_tokens=3)}),
        dict(note="Choice (prompt estimate): member names are not counted; 'user' + 'abcd' = 8 bytes -> exactly 2.", kind=rq,
             request={"messages": [user("abcd")]}, hand={"want_requirements": req(prompt_tokens=2)}),
        dict(note="Choice (prompt estimate): UTF-8 bytes, not characters: 'user' + U+00E9 x 4 (8 bytes) = 12 -> 3.", kind=rq,
             request={"messages": [user("\u00e9" * 4)]}, hand={"want_requirements": req(prompt_tokens=3)}),
        dict(note="Choice (prompt estimate): strings outside messages and tools (model, user metadata) are not counted.", kind=rq,
             request={"model": "policy:support-very-long-label", "user": "someone", "messages": [user("abcd")]},
             hand={"want_requirements": req(prompt_tokens=2)}),
        dict(note="A non-empty tools array requires tools; its strings count toward B "
                  "('function' 8 + 'get_time' 8 = 16; with 'user' + 'abcd' = 24 -> 6).", kind=rq,
             request={"messages": [user("abcd")], "tools": [{"type": "function", "function": {"name": "get_time"}}]},
             hand={"want_requirements": req(tools=True, prompt_tokens=6)}),
        dict(note="An empty tools array requires nothing.", kind=rq, request={"messages": [user("abcd")], "tools": []},
             hand={"want_requirements": req(prompt_tokens=2)}),
        dict(note="Legacy functions (non-empty) require tools.", kind=rq,
             request={"messages": [user("abcd")], "functions": [{}]},
             hand={"want_requirements": req(tools=True, prompt_tokens=2)}),
        dict(note="Choice (prompt estimate): an image_url part requires vision and adds 1000 tokens; its url is not counted "
                  "(user 4 + text 4 + 'look' 4 + image_url 9 = 21 -> 6, + 1000).", kind=rq,
             request={"messages": [user([{"type": "text", "text": "look"},
                                         {"type": "image_url", "image_url": {"url": "https://example.com/" + "x" * 400}}])]},
             hand={"want_requirements": req(vision=True, prompt_tokens=1006)}),
        dict(note="Choice (prompt estimate): two image parts (image_url and input_image) add 2000.", kind=rq,
             request={"messages": [user([{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]),
                                   user([{"type": "input_image", "image_url": {"url": "https://e.com/i.png"}}])]},
             hand={"want_requirements": req(vision=True, prompt_tokens=2000 + 7)}),
        dict(note="response_format json_object requires json.", kind=rq,
             request={"messages": [], "response_format": {"type": "json_object"}},
             hand={"want_requirements": req(json=True)}),
        dict(note="response_format json_schema requires json.", kind=rq,
             request={"messages": [], "response_format": {"type": "json_schema", "json_schema": {"name": "x"}}},
             hand={"want_requirements": req(json=True)}),
        dict(note="response_format text requires nothing.", kind=rq,
             request={"messages": [], "response_format": {"type": "text"}}, hand={"want_requirements": NO_REQ}),
        dict(note="max_completion_tokens wins over max_tokens.", kind=rq,
             request={"messages": [], "max_tokens": 100, "max_completion_tokens": 50},
             hand={"want_requirements": req(max_tokens=50)}),
        dict(note="max_tokens alone.", kind=rq, request={"messages": [], "max_tokens": 100},
             hand={"want_requirements": req(max_tokens=100)}),
        dict(note="max_completion_tokens null falls back to max_tokens.", kind=rq,
             request={"messages": [], "max_completion_tokens": None, "max_tokens": 7},
             hand={"want_requirements": req(max_tokens=7)}),
        dict(note="Reading: requirements hold an integer, so a fractional limit rounds up (100.5 asks for 101).",
             kind=rq, request={"messages": [], "max_tokens": 100.5}, hand={"want_requirements": req(max_tokens=101)}),
        dict(note="Reading: a negative limit asks for nothing (null).", kind=rq,
             request={"messages": [], "max_tokens": -5}, hand={"want_requirements": req()}),
        dict(note="Reading: an image_url part whose image_url is the url string itself: that string is the url and "
                  "is not counted (user 4 + image_url 9 = 13 -> 4, + 1000).", kind=rq,
             request={"messages": [user([{"type": "image_url", "image_url": "https://example.com/cat.png"}])]},
             hand={"want_requirements": req(vision=True, prompt_tokens=1004)}),
        dict(note="Image parts count only as message content parts: an image_url object elsewhere is plain strings.",
             kind=rq, request={"messages": [{"role": "user", "content": "hi", "extra": {"type": "image_url"}}]},
             hand={"want_requirements": req(prompt_tokens=4)}),
        dict(note="Assistant tool calls and tool results count as strings under messages.", kind=rq,
             request={"messages": [{"role": "assistant", "content": None, "tool_calls": [
                 {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                 {"role": "tool", "tool_call_id": "c1", "content": "ok"}]},
             hand={"want_requirements": req(prompt_tokens=8)}),
    ]


def mutate_cases():
    mu = "mutate"
    base = {"messages": [{"role": "user", "content": "abcd"}]}
    yield "mutate/clamp.json", [
        dict(note="id leaves the request unchanged.", kind=mu, term=pol(), request=dict(base, temperature=1.7),
             hand={"want_request": dict(base, temperature=1.7)}),
        dict(note="Choice: a number above max is replaced by max.", kind=mu,
             term=pol(mut=["clamp_param", "temperature", 0, 1]), request=dict(base, temperature=1.7),
             hand={"want_request": dict(base, temperature=1)}),
        dict(note="A number below min is replaced by min.", kind=mu,
             term=pol(mut=["clamp_param", "top_p", 0.1, 0.9]), request=dict(base, top_p=0.01),
             hand={"want_request": dict(base, top_p=0.1)}),
        dict(note="A number inside the bounds is unchanged.", kind=mu,
             term=pol(mut=["clamp_param", "temperature", 0, 1]), request=dict(base, temperature=0.3),
             hand={"want_request": dict(base, temperature=0.3)}),
        dict(note="Choice: an absent parameter stays absent (clamp never adds it).", kind=mu,
             term=pol(mut=["clamp_param", "temperature", 0.2, 1]), request=base, hand={"want_request": base}),
        dict(note="Choice: a parameter that is not a number (a string) is left unchanged.", kind=mu,
             term=pol(mut=["clamp_param", "temperature", 0, 1]), request=dict(base, temperature="hot"),
             hand={"want_request": dict(base, temperature="hot")}),
        dict(note="A boolean is not a number: unchanged.", kind=mu,
             term=pol(mut=["clamp_param", "n", 1, 2]), request=dict(base, n=True), hand={"want_request": dict(base, n=True)}),
        dict(note="null is not a number: unchanged.", kind=mu,
             term=pol(mut=["clamp_param", "presence_penalty", -1, 1]), request=dict(base, presence_penalty=None),
             hand={"want_request": dict(base, presence_penalty=None)}),
        dict(note="Choice: integer parameters clamp to bounds rounded inward: max_tokens 5000 with max 1000.7 "
                  "becomes 1000.", kind=mu, term=pol(mut=["clamp_param", "max_tokens", 1.5, 1000.7]),
             request=dict(base, max_tokens=5000), hand={"want_request": dict(base, max_tokens=1000)}),
        dict(note="Integer parameter below a fractional min: 1 with min 1.5 becomes 2 (min rounded up).", kind=mu,
             term=pol(mut=["clamp_param", "n", 1.5, 3.9]), request=dict(base, n=1), hand={"want_request": dict(base, n=2)}),
        dict(note="Rounding applies to integer parameters only: temperature clamps to 1.5 exactly.", kind=mu,
             term=pol(mut=["clamp_param", "temperature", 1.5, 1.9]), request=dict(base, temperature=1),
             hand={"want_request": dict(base, temperature=1.5)}),
        dict(note="max_completion_tokens and top_logprobs are integer parameters too.", kind=mu,
             term=pol(mut=["clamp_param", "max_completion_tokens", 0, 99.9]),
             request=dict(base, max_completion_tokens=4096), hand={"want_request": dict(base, max_completion_tokens=99)}),
        dict(note="Rounding inward can empty the range (n with min 0.2, max 0.8 gives bounds 1 and 0): the formula "
                  "min(max(x, 1), 0) gives the upper bound, 0.", kind=mu,
             term=pol(mut=["clamp_param", "n", 0.2, 0.8]), request=dict(base, n=3), hand={"want_request": dict(base, n=0)}),
        dict(note="frequency_penalty clamps like any number.", kind=mu,
             term=pol(mut=["clamp_param", "frequency_penalty", -0.5, 0.5]), request=dict(base, frequency_penalty=-2),
             hand={"want_request": dict(base, frequency_penalty=-0.5)}),
        dict(note="top_logprobs is an integer parameter: max 4.5 rounds down to 4.", kind=mu,
             term=pol(mut=["clamp_param", "top_logprobs", 0, 4.5]), request=dict(base, top_logprobs=20),
             hand={"want_request": dict(base, top_logprobs=4)}),
        dict(note="Choice: requirements come from the mutated request: max_tokens 50000 clamped to 4096 gives "
                  "requirements.max_tokens 4096.", kind=mu, term=pol(mut=["clamp_param", "max_tokens", 1, 4096]),
             request=dict(base, max_tokens=50000),
             hand={"want_request": dict(base, max_tokens=4096), "want_requirements": req(prompt_tokens=2, max_tokens=4096)}),
        dict(note="Other members of the request are untouched, including unknown ones.", kind=mu,
             term=pol(mut=["clamp_param", "temperature", 0, 1]),
             request=dict(base, temperature=3, metadata={"k": "v"}, stream=True),
             hand={"want_request": dict(base, temperature=1, metadata={"k": "v"}, stream=True)}),
    ]


# ---------------------------------------------------------------------------- catalog/

def catalog_cases():
    cl = "catalog_load"
    F = "unhardcoded-catalog/v1"
    yield "catalog/load.json", [
        dict(note="The basic catalog: ids in ascending order; null and absent fields omitted from the canonical "
                  "document, models sorted by id.", kind=cl, catalog_ref="basic",
             hand={"want_ids": BASIC_IDS}),
        dict(note="Model order in the file does not change the fingerprint (models sorted by id).", kind=cl,
             catalog={"format": F, "fields": [], "capabilities_extra": [],
                      "models": [{"id": "b", "provider": "p"}, {"id": "a", "provider": "p", "price_in": 1}]},
             hand={"want_ids": ["a", "b"], "want_canonical":
                   '{"capabilities_extra":[],"fields":[],"format":"unhardcoded-catalog/v1",'
                   '"models":[{"id":"a","price_in":1,"provider":"p"},{"id":"b","provider":"p"}]}'}),
        dict(note="Null fields are omitted: same canonical form as the catalog above.", kind=cl,
             catalog={"format": F, "fields": [], "capabilities_extra": [],
                      "models": [{"id": "a", "provider": "p", "price_in": 1, "price_out": None},
                                 {"id": "b", "provider": "p", "context": None, "cap_tools": None}]},
             hand={"want_canonical": '{"capabilities_extra":[],"fields":[],"format":"unhardcoded-catalog/v1",'
                                     '"models":[{"id":"a","price_in":1,"provider":"p"},{"id":"b","provider":"p"}]}'}),
        dict(note="Catalog order is by UTF-8 bytes of the id.", kind=cl, catalog_ref="unicode",
             hand={"want_ids": ["Z-model", "z-model", "\u00e9-model", "\ue000-model", "\U0001F600-model"]}),
        dict(note="Extension fields and extra capabilities are part of the catalog.", kind=cl, catalog_ref="ext"),
        dict(note="A model's capabilities are an array: the canonical document keeps them as listed (spec §7 "
                  "omits null fields and sorts models, nothing else; JCS never reorders arrays).", kind=cl,
             catalog={"format": F, "fields": [], "capabilities_extra": [],
                      "models": [{"id": "a", "provider": "p", "capabilities": ["supports_vision", "supports_tools"]}]},
             hand={"want_canonical": '{"capabilities_extra":[],"fields":[],"format":"unhardcoded-catalog/v1",'
                                     '"models":[{"capabilities":["supports_vision","supports_tools"],"id":"a",'
                                     '"provider":"p"}]}'}),
        dict(note="An undeclared member of a model is invalid_catalog/unknown_field at its path.", kind=cl,
             catalog={"format": F, "fields": [], "capabilities_extra": [],
                      "models": [{"id": "a", "provider": "p", "price": 1}]},
             error={"code": "invalid_catalog", "rule": "unknown_field", "path": "/models/0/price"}),
        dict(note="An extension field is queryable only once declared: undeclared eu_resident is unknown_field.",
             kind=cl, catalog={"format": F, "fields": [], "capabilities_extra": [],
                               "models": [{"id": "a", "provider": "p", "eu_resident": True}]},
             error={"code": "invalid_catalog", "rule": "unknown_field", "path": "/models/0/eu_resident"}),
        dict(note="A model without provider is invalid_catalog (the rule is not fixed by the spec).", kind=cl,
             catalog={"format": F, "fields": [], "capabilities_extra": [], "models": [{"id": "a"}]},
             error={"code": "invalid_catalog"}),
        dict(note="A model without id is invalid_catalog.", kind=cl,
             catalog={"format": F, "fields": [], "capabilities_extra": [], "models": [{"provider": "p"}]},
             error={"code": "invalid_catalog"}),
        dict(note="An extension field may not shadow a core field.", kind=cl,
             catalog={"format": F, "fields": [{"name": "price_in", "kind": "number", "description": "x"}],
                      "capabilities_extra": [], "models": []},
             error={"code": "invalid_catalog"}),
        dict(note="meta is free-form (any JSON) and kept in the canonical document.", kind=cl,
             catalog={"format": F, "fields": [], "capabilities_extra": [],
                      "models": [{"id": "a", "provider": "p", "meta": {"source": "x", "n": [1, 2]}}]},
             hand={"want_canonical": '{"capabilities_extra":[],"fields":[],"format":"unhardcoded-catalog/v1",'
                                     '"models":[{"id":"a","meta":{"n":[1,2],"source":"x"},"provider":"p"}]}'}),
        dict(note="Reading: a repeated model id is duplicate_model at the later id.", kind=cl,
             catalog={"format": F, "models": [{"id": "a", "provider": "p"}, {"id": "a", "provider": "q"}]},
             error={"code": "invalid_catalog", "rule": "duplicate_model", "path": "/models/1/id"}),
        dict(note="Reading: a value of the wrong kind is type at the member (price_in holds a number).", kind=cl,
             catalog={"format": F, "models": [{"id": "a", "provider": "p", "price_in": "1"}]},
             error={"code": "invalid_catalog", "rule": "type", "path": "/models/0/price_in"}),
        dict(note="Reading: a capability outside the vocabulary (core + capabilities_extra) is unknown_capability.",
             kind=cl, catalog={"format": F, "models": [{"id": "a", "provider": "p", "capabilities": ["supports_x"]}]},
             error={"code": "invalid_catalog", "rule": "unknown_capability", "path": "/models/0/capabilities/0"}),
        dict(note="Reading: an empty id is type (a model must have an id).", kind=cl,
             catalog={"format": F, "models": [{"id": "", "provider": "p"}]},
             error={"code": "invalid_catalog", "rule": "type", "path": "/models/0/id"}),
        dict(note="Reading: a catalog without models is missing_member at the root.", kind=cl,
             catalog={"format": F}, error={"code": "invalid_catalog", "rule": "missing_member", "path": ""}),
        dict(note="Reading: an extension kind other than number, bool or string is type.", kind=cl,
             catalog={"format": F, "fields": [{"name": "x", "kind": "caps", "description": ""}], "models": []},
             error={"code": "invalid_catalog", "rule": "type", "path": "/fields/0/kind"}),
        dict(note="Reading: format, fields and capabilities_extra may be left out; the canonical document "
                  "always has all four members (format filled in, empty arrays).", kind=cl,
             catalog={"models": [{"id": "a", "provider": "p"}]},
             hand={"want_canonical": '{"capabilities_extra":[],"fields":[],"format":"unhardcoded-catalog/v1",'
                                     '"models":[{"id":"a","provider":"p"}]}'}),
        dict(note="Reading: a field declared without description has description \"\" in the canonical document.",
             kind=cl, catalog={"format": F, "fields": [{"name": "x", "kind": "number"}], "models": []},
             hand={"want_canonical": '{"capabilities_extra":[],"fields":[{"description":"","kind":"number",'
                                     '"name":"x"}],"format":"unhardcoded-catalog/v1","models":[]}'}),
        dict(note="Reading: capabilities_extra is a set added to the core vocabulary: core names and repeats are "
                  "dropped, the rest keep their order.", kind=cl,
             catalog={"format": F, "capabilities_extra": ["supports_tools", "zeta", "alpha", "zeta"], "models": []},
             hand={"want_canonical": '{"capabilities_extra":["zeta","alpha"],"fields":[],'
                                     '"format":"unhardcoded-catalog/v1","models":[]}'}),
        dict(note="A catalog read by the strict reader: a duplicate member is invalid_catalog/duplicate_key.",
             kind=cl, term_text='{"format":"unhardcoded-catalog/v1","models":[],"models":[]}',
             error={"code": "invalid_catalog", "rule": "duplicate_key"}),
    ]


# ---------------------------------------------------------------------------- flow/

def _llm(inputs, system="Answer.", policy=None, **kw):
    return {"kind": "llm", "system": system, "policy": policy or pol(["meets_req"], CHEAP), "inputs": inputs, **kw}


def flow(nodes):
    return ["flow", nodes]


IN = {"kind": "input"}


def OUT(x):
    return {"kind": "output", "inputs": [x]}


def flow_cases():
    fn = "flow_normalize"

    def E(rule, path, node=None, code="invalid_flow"):
        return {"code": code, "rule": rule, "path": path, "node": node}

    yield "flow/valid.json", [
        dict(note="A linear flow u -> draft -> out: order by Kahn; canonical JCS; version is not checked here "
                  "(flow_ir/v1 per spec §6).", kind=fn,
             term=flow({"u": IN, "draft": _llm(["u"]), "out": OUT("draft")}),
             hand={"want_order": ["u", "draft", "out"]}),
        dict(note="The product-page workflow (draft, critique, revise with a template over three inputs).", kind=fn,
             term=flow({"u": IN, "draft": _llm(["u"], "Draft an answer."),
                        "critique": _llm(["draft"], "List the concrete flaws in the draft."),
                        "revise": _llm(["u", "draft", "critique"], "Rewrite the answer, fixing every point.",
                                       template="Q:\n$1\n\nDraft:\n$2\n\nCritique:\n$3"),
                        "out": OUT("revise")}),
             hand={"want_order": ["u", "draft", "critique", "revise", "out"]}),
        dict(note="Choice (execution order): Kahn's algorithm with the smallest ready id taken first: after u, a and z are ready; a is "
                  "taken, which makes b ready, and b (< z) goes before z.", kind=fn,
             term=flow({"u": IN, "z": _llm(["u"]), "a": _llm(["u"]), "b": _llm(["a"]),
                        "m": _llm(["b", "z"]), "out": OUT("m")}),
             hand={"want_order": ["u", "a", "b", "z", "m", "out"]}),
        dict(note="Choice (execution order): ids order by bytes: uppercase before lowercase, '-' and digits before letters.", kind=fn,
             term=flow({"in": IN, "b": _llm(["in"]), "B": _llm(["in"]), "_x": _llm(["in"]), "a-1": _llm(["in"]),
                        "join": _llm(["b", "B", "_x", "a-1"]), "out": OUT("join")}),
             hand={"want_order": ["in", "B", "_x", "a-1", "b", "join", "out"]}),
        dict(note="A template may use an input several times and '$$' is a literal dollar.", kind=fn,
             term=flow({"u": IN, "a": _llm(["u"], template="$1 costs $$5; again: $1"), "out": OUT("a")})),
        dict(note="Node policies may use the catalog's extension fields.", kind=fn, catalog_ref="ext",
             term=flow({"u": IN, "a": _llm(["u"], policy=pol(["is", "eu_resident"])), "out": OUT("a")})),
        dict(note="A node id of 64 characters is allowed.", kind=fn,
             term=flow({"u": IN, "a" * 64: _llm(["u"]), "out": OUT("a" * 64)})),
        dict(note="A fan-in node with exactly 32 inputs is allowed.", kind=fn,
             term=flow(dict({"u": IN}, **{f"n{i:02d}": _llm(["u"]) for i in range(32)},
                            join=_llm([f"n{i:02d}" for i in range(32)]), out=OUT("join")))),
    ]
    yield "flow/errors.json", [
        dict(note="Not a flow: an object.", kind=fn, term={"flow": {}}, error=E("not_a_flow", "")),
        dict(note="Not a flow: a policy term.", kind=fn, term=pol(), error=E("not_a_flow", "")),
        dict(note="A node id starting with a digit is node_id.", kind=fn,
             term=flow({"u": IN, "1a": _llm(["u"]), "out": OUT("1a")}), error=E("node_id", "/1/1a", "1a")),
        dict(note="A node id with '/' is node_id; the path escapes it (RFC 6901: ~1).", kind=fn,
             term=flow({"u": IN, "a/b": _llm(["u"]), "out": OUT("a/b")}), error=E("node_id", "/1/a~1b", "a/b")),
        dict(note="A node id of 65 characters is node_id.", kind=fn,
             term=flow({"u": IN, "a" * 65: _llm(["u"]), "out": OUT("a" * 65)}),
             error=E("node_id", "/1/" + "a" * 65, "a" * 65)),
        dict(note="An unknown kind.", kind=fn, term=flow({"u": IN, "a": {"kind": "tool", "inputs": ["u"]}, "out": OUT("a")}),
             error=E("unknown_kind", "/1/a/kind", "a")),
        dict(note="An unknown member of an llm node, with did_you_mean (sytem -> system).", kind=fn,
             term=flow({"u": IN, "a": {"kind": "llm", "sytem": "x", "policy": pol(), "inputs": ["u"]}, "out": OUT("a")}),
             error=dict(E("unknown_member", "/1/a/sytem", "a"), did_you_mean="system")),
        dict(note="inputs on the input node is unknown_member (input has kind only).", kind=fn,
             term=flow({"u": {"kind": "input", "inputs": []}, "a": _llm(["u"]), "out": OUT("a")}),
             error=E("unknown_member", "/1/u/inputs", "u")),
        dict(note="An llm node without policy is missing_member.", kind=fn,
             term=flow({"u": IN, "a": {"kind": "llm", "system": "x", "inputs": ["u"]}, "out": OUT("a")}),
             error=E("missing_member", "/1/a", "a")),
        dict(note="An llm node without system is missing_member.", kind=fn,
             term=flow({"u": IN, "a": {"kind": "llm", "policy": pol(), "inputs": ["u"]}, "out": OUT("a")}),
             error=E("missing_member", "/1/a", "a")),
        dict(note="A system that is not a string is type.", kind=fn,
             term=flow({"u": IN, "a": _llm(["u"], system=5), "out": OUT("a")}), error=E("type", "/1/a/system", "a")),
        dict(note="Two input nodes: input_count, blamed on the second input node (the surplus one).", kind=fn,
             term=flow({"u": IN, "v": IN, "a": _llm(["u", "v"]), "out": OUT("a")}), error=E("input_count", "/1/v", "v")),
        dict(note="No output node: output_count at the node table /1 (no node to blame).", kind=fn, term=flow({"u": IN, "a": _llm(["u"])}),
             error=E("output_count", "/1")),
        dict(note="Two output nodes: output_count, blamed on the second output node.", kind=fn,
             term=flow({"u": IN, "a": _llm(["u"]), "o1": OUT("a"), "o2": OUT("a")}),
             error=E("output_count", "/1/o2", "o2")),
        dict(note="257 nodes: node_limit.", kind=fn,
             term=flow(dict({"u": IN}, **{f"n{i}": _llm(["u"], policy=pol()) for i in range(255)}, out=OUT("n0"))),
             error=E("node_limit", "/1")),
        dict(note="33 inputs: in_degree.", kind=fn,
             term=flow(dict({"u": IN}, **{f"n{i:02d}": _llm(["u"]) for i in range(33)},
                            join=_llm([f"n{i:02d}" for i in range(33)]), out=OUT("join"))),
             error=E("in_degree", "/1/join/inputs", "join")),
        dict(note="An input naming no node: unknown_input at the entry.", kind=fn,
             term=flow({"u": IN, "a": _llm(["u", "ghost"]), "out": OUT("a")}), error=E("unknown_input", "/1/a/inputs/1", "a")),
        dict(note="A node naming itself as input: unknown_input.", kind=fn,
             term=flow({"u": IN, "a": _llm(["a"]), "out": OUT("a")}), error=E("unknown_input", "/1/a/inputs/0", "a")),
        dict(note="The output naming itself: unknown_input.", kind=fn,
             term=flow({"u": IN, "a": _llm(["u"]), "out": OUT("out")}), error=E("unknown_input", "/1/out/inputs/0", "out")),
        dict(note="The same input twice: duplicate_input at the second entry.", kind=fn,
             term=flow({"u": IN, "a": _llm(["u", "u"], template="$1$2"), "out": OUT("a")}),
             error=E("duplicate_input", "/1/a/inputs/1", "a")),
        dict(note="A cycle a -> b -> a is rejected with rule cycle.", kind=fn,
             term=flow({"u": IN, "a": _llm(["u", "b"]), "b": _llm(["a"]), "out": OUT("b")}),
             error={"code": "invalid_flow", "rule": "cycle"}),
        dict(note="An llm node the output does not depend on: unreachable.", kind=fn,
             term=flow({"u": IN, "a": _llm(["u"]), "side": _llm(["u"]), "out": OUT("a")}),
             error=E("unreachable", "/1/side", "side")),
        dict(note="A template naming $3 with two inputs: template.", kind=fn,
             term=flow({"u": IN, "a": _llm(["u"]), "b": _llm(["u", "a"], template="$1 and $3"), "out": OUT("b")}),
             error=E("template", "/1/b/template", "b")),
        dict(note="A template with $0: template ($n counts from 1).", kind=fn,
             term=flow({"u": IN, "a": _llm(["u"], template="$0 $1"), "out": OUT("a")}),
             error=E("template", "/1/a/template", "a")),
        dict(note="A template that never uses an input: template.", kind=fn,
             term=flow({"u": IN, "a": _llm(["u"]), "b": _llm(["u", "a"], template="only $2"), "out": OUT("b")}),
             error=E("template", "/1/b/template", "b")),
        dict(note="'$$1' is a literal '$' followed by '1', not a reference: input 1 is unused.", kind=fn,
             term=flow({"u": IN, "a": _llm(["u"], template="$$1"), "out": OUT("a")}),
             error=E("template", "/1/a/template", "a")),
        dict(note="A system prompt over 65536 bytes: string_limit.", kind=fn,
             term=flow({"u": IN, "a": _llm(["u"], system="s" * 65537), "out": OUT("a")}),
             error=E("string_limit", "/1/a/system", "a")),
        dict(note="A policy error inside a node keeps code invalid_policy and its rule, with the full path and "
                  "the node id.", kind=fn,
             term=flow({"u": IN, "draft": _llm(["u"], policy=pol(["cmp", "price", "le", 1])), "out": OUT("draft")}),
             error=E("unknown_field", "/1/draft/policy/2/1", "draft", code="invalid_policy")),
        dict(note="A node policy is admitted against the catalog's vocabulary: without it, eu_resident is "
                  "unknown.", kind=fn,
             term=flow({"u": IN, "a": _llm(["u"], policy=pol(["is", "eu_resident"])), "out": OUT("a")}),
             error=E("unknown_field", "/1/a/policy/2/1", "a", code="invalid_policy")),
        dict(note="Reading: a wrong tag is not_a_flow at /0.", kind=fn, term=["flw", {}], error=E("not_a_flow", "/0")),
        dict(note="Reading: a node table that is not an object is not_a_flow at /1.", kind=fn, term=["flow", []],
             error=E("not_a_flow", "/1")),
        dict(note="Reading: an llm node with no inputs is type at its inputs (1-32 are required).", kind=fn,
             term=flow({"u": IN, "a": _llm([]), "out": OUT("a")}), error=E("type", "/1/a/inputs", "a")),
        dict(note="Reading: an output node with two inputs is type at its inputs (exactly one).", kind=fn,
             term=flow({"u": IN, "a": _llm(["u"]), "out": {"kind": "output", "inputs": ["a", "u"]}}),
             error=E("type", "/1/out/inputs", "out")),
        dict(note="Reading: a cycle is blamed on the first node in document order that lies on it (c, though "
                  "a and b are on it too).", kind=fn,
             term=flow({"u": IN, "c": _llm(["b"]), "a": _llm(["u", "c"]), "b": _llm(["a"]), "out": OUT("c")}),
             error=E("cycle", "/1/c", "c")),
        dict(note="Reading: a node downstream of a cycle but not on it is not blamed: d depends on the y/z cycle, "
                  "z (first in document order on the cycle) is.", kind=fn,
             term=flow({"u": IN, "d": _llm(["y"]), "z": _llm(["y"]), "y": _llm(["z"]), "out": OUT("d")}),
             error=E("cycle", "/1/z", "z")),
        dict(note="Reading: with two unreachable nodes the first in document order is reported.", kind=fn,
             term=flow({"u": IN, "s2": _llm(["u"]), "a": _llm(["u"]), "s1": _llm(["u"]), "out": OUT("a")}),
             error=E("unreachable", "/1/s2", "s2")),
        dict(note="Reading: a flow whose output reads the input node directly (no llm node) is admitted.", kind=fn,
             term=flow({"u": IN, "out": OUT("u")}), hand={"want_order": ["u", "out"]}),
        dict(note="Reading: in a template '$' not followed by a digit is literal; $01 names input 1.", kind=fn,
             term=flow({"u": IN, "a": _llm(["u"], template="$01 costs $x or $"), "out": OUT("a")})),
        dict(note="Errors come in document order: the first node's error is reported.", kind=fn,
             term=flow({"u": IN, "a": _llm(["u"], system=1), "b": {"kind": "nope"}, "out": OUT("a")}),
             error=E("type", "/1/a/system", "a")),
    ]
    yield "flow/render.json", [
        dict(note="Choice: without a template, inputs are joined with a blank line, in order.", kind="flow_render",
             template=None, inputs=["first", "second", "third"], hand={"want_text": "first\n\nsecond\n\nthird"}),
        dict(note="A single input without a template is passed as is.", kind="flow_render", template=None,
             inputs=["only"], hand={"want_text": "only"}),
        dict(note="A template fills $n with input n; $$ is a literal $.", kind="flow_render",
             template="Q:\n$1\n\nDraft:\n$2 ($$5)", inputs=["why?", "because"],
             hand={"want_text": "Q:\nwhy?\n\nDraft:\nbecause ($5)"}),
        dict(note="A '$' not followed by a digit stays literal; $12 would be input 12 (all digits are taken).",
             kind="flow_render", template="$1 costs $x, $", inputs=["tea"], hand={"want_text": "tea costs $x, $"}),
    ]


def all_cases():
    for producer in (json_cases, canonical_cases, admission_cases, eval_cases, requirements_cases, mutate_cases,
                     catalog_cases, flow_cases):
        for rel, cases in producer():
            for case in cases:
                yield rel, case
