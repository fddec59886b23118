"""A tiny pure-Python interpreter of sigma-pol/v1 and flow_ir, written from docs/spec.md alone.

It exists to be compared with the native core (tests/test_differential.py) and to compute the
conformance vectors; it never imports `unhardcoded._core`. Speed is not a goal, readability is.

Entry points take JSON text (str or bytes), as the native API does, and return plain data.
"""
from __future__ import annotations

from .admit import admit_policy
from .catalog import Catalog
from .errors import RefError
from .evaluate import SplitMix64, evaluate
from .fingerprint import AVAILABLE as FINGERPRINTS_AVAILABLE
from .fingerprint import fingerprint
from .flow import admit_flow, render
from .jcs import canonical, es_number
from .jsonread import FLOW_LIMITS, POLICY_LIMITS, REQUEST_LIMITS, parse
from .mutate import apply as apply_mutate
from .requirements import NO_REQUIREMENTS
from .requirements import from_request as _from_request
from .vocab import Vocabulary

VERSION = "sigma-pol/v1"
FLOW_VERSION = "flow_ir/v1"

__all__ = [
    "Catalog", "FINGERPRINTS_AVAILABLE", "FLOW_VERSION", "NO_REQUIREMENTS", "Policy", "RefError",
    "SplitMix64", "VERSION", "admit_flow", "canonical", "canonicalize", "es_number", "fingerprint",
    "load_catalog", "normalize_flow", "parse", "render", "requirements_from_request",
]


def _vocab(catalog: Catalog | None) -> Vocabulary:
    return catalog.vocab if catalog is not None else Vocabulary()


class Policy:
    """An admitted policy: the term as sent, its canonical text and fingerprint."""

    def __init__(self, term):
        self.term = term
        self.canonical = canonical(term)
        self.fingerprint = fingerprint("pol_", self.canonical)
        self.version = VERSION

    @staticmethod
    def admit(text: str | bytes, fields: Catalog | None = None) -> "Policy":
        term = parse(text, POLICY_LIMITS, "invalid_policy")
        admit_policy(term, _vocab(fields))
        return Policy(term)

    def mutate_request(self, request: dict) -> dict:
        return apply_mutate(self.term[5], request)

    def rank(self, catalog: Catalog, requirements: dict | None = None, seed: int | None = None,
             providers=None) -> dict:
        return evaluate(self.term, catalog, requirements, seed, providers)


def normalize_flow(text: str | bytes, fields: Catalog | None = None) -> dict:
    term = parse(text, FLOW_LIMITS, "invalid_flow")
    order = admit_flow(term, _vocab(fields))
    text_c = canonical(term)
    return {"canonical": text_c, "fingerprint": fingerprint("flow_", text_c), "version": FLOW_VERSION,
            "order": order}


def canonicalize(text: str | bytes) -> str:
    return canonical(parse(text, REQUEST_LIMITS, "invalid_request"))


def requirements_from_request(text: str | bytes) -> dict:
    request = parse(text, REQUEST_LIMITS, "invalid_request")
    if not isinstance(request, dict):
        raise RefError("invalid_request", "type", "", "A chat request is a JSON object.")
    return _from_request(request)


def load_catalog(text: str | bytes) -> Catalog:
    return Catalog.from_text(text)
