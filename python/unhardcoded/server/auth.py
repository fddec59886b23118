"""Bearer keys → workspaces, and the per-workspace request budget.

Keys are never stored: the host keeps sha256 digests (config `key_sha256`, or digests of keys read
from env vars at startup) and compares the digest of the presented key.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping

from .errors import ApiError


class KeyIndex:
    def __init__(self, digests: Mapping[str, str]):
        # digest (hex) -> workspace id
        self._by_digest = dict(digests)

    @property
    def workspaces(self) -> list[str]:
        return sorted(set(self._by_digest.values()))

    def add(self, digest: str, workspace: str) -> None:
        self._by_digest[digest.lower()] = workspace

    def workspace_for(self, authorization: str | None) -> str:
        """The workspace of an `Authorization: Bearer <key>` header, or ApiError 401."""
        if not authorization:
            raise ApiError(401, "unauthorized", "Missing Authorization header; send 'Authorization: Bearer <key>'.",
                           headers={"www-authenticate": "Bearer"})
        scheme, _, key = authorization.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise ApiError(401, "unauthorized", "The Authorization header must be 'Bearer <key>'.",
                           headers={"www-authenticate": "Bearer"})
        workspace = self._by_digest.get(hashlib.sha256(key.encode()).hexdigest())
        if workspace is None:
            raise ApiError(401, "unauthorized", "The API key is not valid for this host.",
                           headers={"www-authenticate": "Bearer"})
        return workspace


class RateLimiter:
    """A token bucket per workspace: `per_minute` requests, refilled continuously. 0 disables it."""

    def __init__(self, per_minute: int, workspaces: Iterable[str] = ()):
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {w: (float(per_minute), time.monotonic())
                                                         for w in workspaces}

    def check(self, workspace: str) -> None:
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        tokens, stamp = self._buckets.get(workspace, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - stamp) * self._rate)
        if tokens < 1.0:
            retry = max(1, int((1.0 - tokens) / self._rate + 0.999))
            self._buckets[workspace] = (tokens, now)
            raise ApiError(429, "rate_limited",
                           f"This workspace is limited to {self.per_minute} requests per minute; retry in {retry}s.",
                           headers={"retry-after": str(retry)})
        self._buckets[workspace] = (tokens - 1.0, now)
