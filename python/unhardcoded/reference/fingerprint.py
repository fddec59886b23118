"""Fingerprints (spec §3): prefix + lowercase hex BLAKE3 of the canonical UTF-8 bytes.

BLAKE3 comes from the `blake3` package; without it fingerprints are None and callers skip them.
"""
from __future__ import annotations

try:
    import blake3 as _blake3
except ImportError:  # pragma: no cover - exercised only where the package is missing
    _blake3 = None

AVAILABLE = _blake3 is not None


def fingerprint(prefix: str, canonical_text: str) -> str | None:
    if _blake3 is None:
        return None
    return prefix + _blake3.blake3(canonical_text.encode("utf-8")).hexdigest()
