"""Canonical form + fingerprint of the quickstart policy (spec §3): the native core against the
pure-Python `rfc8785` package.

- native admit: `Policy.admit(text)` then `.canonical` and `.fingerprint` — strict parse,
  admission against the vocabulary, JCS and BLAKE3: what the router does per request.
- native functions: `canonicalize(text)` then `fingerprint(canonical, "pol_")` — no admission.
- rfc8785 + blake3: `json.loads` (C) → `rfc8785.dumps` (pure Python JCS) → BLAKE3 from the
  `blake3` PyPI package (Rust), or `hashlib.blake2b` if that is not installed (then fingerprints
  differ and only the canonical text is compared). No admission: it does strictly less work.

Target: the native admit path is at least 10× faster than rfc8785 + hash.
"""
from __future__ import annotations

import hashlib
import json

import pytest
import rfc8785
from unhardcoded.bench.quickstart import QUICKSTART_POLICY_TEXT
from unhardcoded.bench.record import note, record, target

try:
    import blake3 as _blake3

    HASH = "blake3"

    def _hash_hex(data: bytes) -> str:
        return _blake3.blake3(data).hexdigest()
except ImportError:  # the comparison still measures the JCS step; say which hash was used
    HASH = "blake2b"

    def _hash_hex(data: bytes) -> str:
        return hashlib.blake2b(data, digest_size=32).hexdigest()

try:
    import unhardcoded
    from unhardcoded import _core

    _NATIVE_MISSING = None if hasattr(_core, "canonicalize") and hasattr(_core, "Policy") else \
        "unhardcoded._core has no canonicalize/Policy yet"
    # The public class when the package exports one (what users call), else the native one.
    Policy = getattr(unhardcoded, "Policy", None) or getattr(_core, "Policy", None)
except ImportError as exc:
    _core = Policy = None
    _NATIVE_MISSING = f"unhardcoded._core not importable: {exc}"

GROUP = "canonical+fingerprint (quickstart policy)"
BASELINE = f"rfc8785 + {HASH} (pure-Python JCS)"
target(GROUP, "native Policy.admit", BASELINE, 10.0)
target(GROUP, "native canonicalize+fingerprint", BASELINE, 10.0)
native_only = pytest.mark.skipif(_NATIVE_MISSING is not None, reason=str(_NATIVE_MISSING))


def python_canonical_fingerprint(text: str) -> tuple[bytes, str]:
    canonical = rfc8785.dumps(json.loads(text))
    return canonical, "pol_" + _hash_hex(canonical)


@pytest.fixture(scope="module")
def expected() -> tuple[str, str]:
    canonical, fp = python_canonical_fingerprint(QUICKSTART_POLICY_TEXT)
    note(f"canonical bench hash: {HASH}")
    return canonical.decode(), fp


@pytest.mark.benchmark(group=GROUP)
def test_rfc8785(benchmark, expected):
    canonical, fp = benchmark(python_canonical_fingerprint, QUICKSTART_POLICY_TEXT)
    record(benchmark, GROUP, BASELINE)
    assert (canonical.decode(), fp) == expected


@native_only
@pytest.mark.benchmark(group=GROUP)
def test_native_admit(benchmark, expected):
    admit = Policy.admit

    def run() -> tuple[str, str]:
        policy = admit(QUICKSTART_POLICY_TEXT)
        return policy.canonical, policy.fingerprint

    canonical, fp = benchmark(run)
    record(benchmark, GROUP, "native Policy.admit")
    assert canonical == expected[0]
    if HASH == "blake3":
        assert fp == expected[1]


@native_only
@pytest.mark.benchmark(group=GROUP)
def test_native_functions(benchmark, expected):
    canonicalize, fingerprint = _core.canonicalize, _core.fingerprint

    def run() -> tuple[str, str]:
        canonical = canonicalize(QUICKSTART_POLICY_TEXT)
        return canonical, fingerprint(canonical, "pol_")

    canonical, fp = benchmark(run)
    record(benchmark, GROUP, "native canonicalize+fingerprint")
    assert canonical == expected[0]
    if HASH == "blake3":
        assert fp == expected[1]
