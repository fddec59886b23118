"""Provider adapters: OpenAI chat requests in, OpenAI chat responses out, over httpx."""

from .base import CAUSES, RETRYABLE_CAUSES, Adapter, ProviderError, ProviderSettings
from .pool import ClientPool
from .registry import ADAPTERS, KINDS, make_adapter

__all__ = [
    "ADAPTERS",
    "CAUSES",
    "KINDS",
    "RETRYABLE_CAUSES",
    "Adapter",
    "ClientPool",
    "ProviderError",
    "ProviderSettings",
    "make_adapter",
]
