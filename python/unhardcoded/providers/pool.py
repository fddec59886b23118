"""One pooled `httpx.AsyncClient` per upstream host, shared by every adapter that talks to it."""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import httpx

__all__ = ["ClientPool"]


class ClientPool:
    def __init__(self, limits: httpx.Limits | None = None) -> None:
        self._limits = limits or httpx.Limits(max_connections=200, max_keepalive_connections=50, keepalive_expiry=30.0)
        self._clients: dict[tuple[str, str, int | None], httpx.AsyncClient] = {}
        self._ssl: ssl.SSLContext | None = None

    def client_for(self, base_url: str) -> httpx.AsyncClient:
        parts = urlsplit(base_url)
        key = (parts.scheme, parts.hostname or "", parts.port)
        client = self._clients.get(key)
        if client is None:
            # Timeouts are set per request by the adapters; redirects are not followed so a
            # misconfigured base_url fails loudly instead of re-posting a prompt elsewhere.
            if self._ssl is None:
                # Loading the CA bundle costs ~0.1s; every client shares one context.
                self._ssl = ssl.create_default_context()
            client = httpx.AsyncClient(limits=self._limits, timeout=None, follow_redirects=False, verify=self._ssl)
            self._clients[key] = client
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
