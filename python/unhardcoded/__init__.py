"""unhardcoded: routing rules as data.

A policy (`sigma-pol/v1`) says which models may serve a call and in what order; it travels with the
request, is admitted strictly, fingerprinted by its canonical form, and evaluated over a catalog.

>>> import unhardcoded as uh
>>> policy = uh.Policy.admit(["policy", ["ev_zero"],
...     ["and", ["meets_req"], ["not", ["is", "disabled"]], ["has_cap", "supports_tools"],
...      ["cmp", "bench_intelligence", "ge", 0.5]],
...     ["neg", ["normalize", ["field", "price_out"]]],
...     ["argmax"], ["id"], ["always", {"action": "next_candidate"}]])
>>> policy.fingerprint.startswith("pol_")
True
>>> result = policy.rank(uh.default_catalog())
>>> result.winner == result.cascade[0]
True

Terms are accepted as JSON text (`str`/`bytes`) or as Python objects; objects are serialised with
`json.dumps(allow_nan=True, ensure_ascii=True)` so that NaN, integers a double would round and lone
surrogates reach the strict reader and are refused with a stable error code, not silently changed.
Every refusal is an `UnhardcodedError` (a `ValueError`) carrying `code`, `rule`, `path` (a JSON
Pointer into what you sent), `message`, `help`, `did_you_mean` and, for flows, `node`.
"""

from ._core import (
    ERROR_CODES,
    ERROR_RULES,
    FLOW_VERSION,
    VERSION,
    Catalog,
    Flow,
    NoCandidates,
    Policy,
    RankResult,
    UnhardcodedError,
    canonicalize,
    fingerprint,
    parse_request,
    requirements_from_request,
)
from .api import default_catalog, rank

__all__ = [
    "ERROR_CODES",
    "ERROR_RULES",
    "FLOW_VERSION",
    "VERSION",
    "Catalog",
    "Flow",
    "NoCandidates",
    "Policy",
    "RankResult",
    "UnhardcodedError",
    "canonicalize",
    "default_catalog",
    "fingerprint",
    "parse_request",
    "rank",
    "requirements_from_request",
]
