"""The pure-Python reference interpreter checked against independent sources: the rfc8785 package
for JCS, Python's json module for reading, published SplitMix64 outputs, and the weights of §5.3.
The conformance vectors (tests/test_conformance.py) cover the rest of the spec.
"""
from __future__ import annotations

import json
import math
import random
import re
import struct
from pathlib import Path

import pytest

from unhardcoded import reference as ref
from unhardcoded.reference.jcs import es_number
from unhardcoded.reference.jsonread import parse

rfc8785 = pytest.importorskip("rfc8785")

REFERENCE_DIR = Path(ref.__file__).parent


def _random_double(rng: random.Random) -> float:
    while True:
        x = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(x):
            return x


def test_numbers_match_rfc8785_on_random_doubles():
    rng = random.Random(8785)
    checked = 0
    for _ in range(20000):
        x = rng.choice([_random_double(rng), rng.uniform(-1e6, 1e6), round(rng.uniform(0, 100), rng.randint(0, 9)),
                        rng.randint(-10**15, 10**15) * 10.0 ** rng.randint(-30, 30)])
        try:
            want = rfc8785.dumps(x).decode()
        except rfc8785.IntegerDomainError:
            continue  # rfc8785 refuses integral doubles past 2^53; JCS itself does not
        assert es_number(x) == want, x
        checked += 1
    assert checked > 15000


def _random_value(rng: random.Random, depth: int = 0):
    r = rng.random()
    if depth > 3 or r < 0.3:
        return rng.choice([None, True, False, rng.uniform(-1e3, 1e3), rng.randint(-100, 100), _random_text(rng),
                           1e21, 1e-7, 0.0])
    if r < 0.6:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {_random_text(rng): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _random_text(rng: random.Random) -> str:
    alphabet = ["a", "b", "Z", "\u00e9", "\u20ac", "\ue000", "\U0001F600", "\ufb33", "\r", "\x00", "\x1f", '"', "\\",
                "/", "\u2028", "1", " "]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5)))


def test_canonical_form_matches_rfc8785_on_random_documents():
    rng = random.Random(3)
    for _ in range(2000):
        value = _random_value(rng)
        text = json.dumps(value)
        assert ref.canonicalize(text) == rfc8785.dumps(value).decode(), text


def test_reader_agrees_with_json_module_on_valid_documents():
    rng = random.Random(4)
    for _ in range(2000):
        value = _random_value(rng)
        for text in (json.dumps(value), json.dumps(value, indent=2, ensure_ascii=False)):
            got = parse(text, (1 << 20, 64), "invalid_request")
            assert json.dumps(got, sort_keys=True) == json.dumps(json.loads(text, parse_int=float), sort_keys=True)


def test_reader_has_no_recursion_limit():
    """200,000 levels of nesting: the explicit stack reads it (when allowed) and the limit stops it."""
    deep = "[" * 200_000 + "]" * 200_000
    value = parse(deep, (1 << 30, 10**6), "invalid_request")
    assert isinstance(value, list)
    with pytest.raises(ref.RefError) as err:
        parse(deep, (1 << 30, 64), "invalid_policy")
    assert (err.value.code, err.value.rule) == ("invalid_policy", "depth_limit")


def test_splitmix64_published_outputs():
    rng = ref.SplitMix64(0)
    assert [rng.next() for _ in range(3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]


def test_sample_frequencies_follow_the_weights():
    """Scores 0 and -1 at t = 1: weights 1 and e^-1, so the first is drawn with p = 1/(1 + e^-1)."""
    catalog = ref.load_catalog(json.dumps({"format": "unhardcoded-catalog/v1", "models": [
        {"id": "a", "provider": "p", "price_out": 0, "context": 10},
        {"id": "b", "provider": "p", "price_out": 1, "context": 10}]}))
    policy = ref.Policy.admit(json.dumps(["policy", ["ev_zero"], ["meets_req"], ["neg", ["field", "price_out"]],
                                          ["sample", 1], ["id"], ["always", {"action": "next_candidate"}]]))
    wins = sum(policy.rank(catalog, seed=seed)["winner"] == "a" for seed in range(4000))
    assert abs(wins / 4000 - 1 / (1 + math.exp(-1))) < 0.03


def test_drawn_seed_is_returned_and_replays():
    catalog = ref.load_catalog((Path(__file__).parents[1] / "conformance/catalogs/basic.json").read_bytes())
    policy = ref.Policy.admit(json.dumps(["policy", ["ev_zero"], ["meets_req"], ["zero"], ["sample", 1], ["id"],
                                          ["always", {"action": "next_candidate"}]]))
    first = policy.rank(catalog)
    assert 0 <= first["seed"] < 2 ** 53
    assert policy.rank(catalog, seed=first["seed"]) == first


def test_no_candidates_carries_the_verdicts():
    catalog = ref.load_catalog((Path(__file__).parents[1] / "conformance/catalogs/basic.json").read_bytes())
    policy = ref.Policy.admit(json.dumps(["policy", ["ev_zero"], ["cmp", "price_out", "lt", 0], ["zero"], ["argmax"],
                                          ["id"], ["always", {"action": "next_candidate"}]]))
    with pytest.raises(ref.RefError) as err:
        policy.rank(catalog)
    assert err.value.code == "no_candidates"
    assert [v["status"] for v in err.value.result["verdicts"]] == ["rejected"] * len(catalog.models)


def test_pointer_escapes_tilde_and_slash():
    term = ["flow", {"u": {"kind": "input"}, "a~b/c": {"kind": "input"}}]
    with pytest.raises(ref.RefError) as err:
        ref.normalize_flow(json.dumps(term))
    assert (err.value.rule, err.value.path) == ("node_id", "/1/a~0b~1c")


def test_reference_does_not_use_the_native_module():
    """The point of a differential test: the reference is written from the spec alone."""
    imports = re.compile(r"^\s*(from|import)\s+\S*_core", re.MULTILINE)
    for path in REFERENCE_DIR.glob("*.py"):
        assert not imports.search(path.read_text(encoding="utf-8")), path.name


@pytest.mark.skipif(not ref.FINGERPRINTS_AVAILABLE, reason="the blake3 package is not installed")
def test_fingerprint_is_blake3_of_the_canonical_bytes():
    # BLAKE3 of the empty input, from the BLAKE3 reference test vectors.
    assert ref.fingerprint("", "") == "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
    policy = ref.Policy.admit('["policy",["ev_zero"],["meets_req"],["zero"],["argmax"],["id"],'
                              '["always",{"action":"next_candidate"}]]')
    assert policy.fingerprint == ref.fingerprint("pol_", policy.canonical)
    assert len(policy.fingerprint) == len("pol_") + 64
