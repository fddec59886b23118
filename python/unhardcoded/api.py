"""Conveniences over the native types: the bundled catalog and a one-call `rank`."""

from __future__ import annotations

import threading
from importlib import resources
from typing import Any, Mapping, Sequence

from ._core import Catalog, Policy, RankResult, requirements_from_request

__all__ = ["default_catalog", "rank", "DEFAULT_CATALOG_RESOURCE"]

DEFAULT_CATALOG_RESOURCE = "catalogs/default.json"

_default: Catalog | None = None
_default_lock = threading.Lock()


def default_catalog() -> Catalog:
    """The bundled catalog of current chat models (loaded once, then shared).

    Prices and limits come from LiteLLM's price map; `bench_intelligence` from the Artificial
    Analysis Intelligence Index where a published score exists (see `catalogs/README.md`).

    >>> from unhardcoded import default_catalog
    >>> catalog = default_catalog()
    >>> catalog.model("gpt-4o")["price_in"]
    2.5
    """
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                data = resources.files("unhardcoded").joinpath(DEFAULT_CATALOG_RESOURCE).read_bytes()
                _default = Catalog.from_json(data)
    return _default


def rank(
    policy: Any,
    catalog: Catalog | None = None,
    requirements: Mapping[str, Any] | None = None,
    request: Any = None,
    seed: int | None = None,
    providers: Sequence[str] | None = None,
) -> RankResult:
    """Dry-run a policy over a catalog: which model wins, the failover cascade, and every verdict.

    `policy` is a `Policy` or anything `Policy.admit` takes (JSON text or the term as Python
    lists/dicts). `catalog` defaults to `default_catalog()`. Pass either `requirements` (the
    `meets_req` inputs, spec §4) or the chat `request` they are derived from — after the policy's
    mutate slot, as the router does. Raises `UnhardcodedError` on a bad term or request and
    `NoCandidates` (carrying the verdicts) when no model survives.

    >>> import unhardcoded as uh
    >>> result = uh.rank(["policy", ["ev_zero"], ["has_cap", "supports_tools"],
    ...                   ["neg", ["field", "price_out"]], ["argmax"], ["id"],
    ...                   ["always", {"action": "next_candidate"}]],
    ...                  request={"messages": [{"role": "user", "content": "hi"}]})
    >>> result.winner in result.cascade
    True
    """
    if requirements is not None and request is not None:
        raise TypeError("pass either requirements or request, not both")
    if catalog is None:
        catalog = default_catalog()
    if not isinstance(policy, Policy):
        policy = Policy.admit(policy, fields=catalog)
    if request is not None:
        requirements = requirements_from_request(policy.mutate_request(request))
    return policy.rank(catalog, requirements=requirements, seed=seed, providers=providers)
