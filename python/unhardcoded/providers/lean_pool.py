"""A cheaper request-to-connection assignment for httpx's connection pool under concurrency.

httpcore's `AsyncConnectionPool` re-examines every pooled connection twice per request (once when
the request arrives, once when its response is closed): `has_expired()` on each one, which for an
idle HTTP/1.1 connection polls its socket, and, for each of them, a list comprehension over all
connections. With 32 requests in flight that is ~5,000 method calls and ~150 poll(2) calls per
request, and it grows with the square of the number of connections: at concurrency 32 it was
about half of a proxy's CPU time (py-spy, benches/router_overhead.py --profile).

`LeanConnectionPool` keeps httpcore's behaviour — same reuse order (first usable connection in
pool order), same limits, a connection is never reused once it has expired or its server has hung
up — but checks expiry only on the connection it is about to hand out, and sweeps the whole pool
for expired idle connections at most once a second instead of on every request.

`lean_pools(client)` switches an `httpx.AsyncClient`'s plain (non-proxy) pools to it in place, so
the client keeps every other setting (TLS context, limits, environment proxies). It changes
nothing when httpx/httpcore are not laid out as expected.
"""

from __future__ import annotations

import time
from typing import Any

import httpcore

__all__ = ["SWEEP_SECONDS", "LeanConnectionPool", "lean_pools"]

# How often the whole pool is checked for expired or server-closed idle connections.
SWEEP_SECONDS = 1.0

_POOL_ATTRIBUTES = ("_connections", "_requests", "_max_connections", "_max_keepalive_connections",
                    "_optional_thread_lock", "_assign_requests_to_connections")


class LeanConnectionPool(httpcore.AsyncConnectionPool):
    _swept_at = 0.0

    def _assign_requests_to_connections(self) -> list[Any]:
        closing: list[Any] = []
        connections = self._connections
        now = time.monotonic()
        if now - self._swept_at >= SWEEP_SECONDS:
            self._swept_at = now
            for connection in list(connections):
                if connection.is_closed():
                    connections.remove(connection)
                elif connection.has_expired():
                    connections.remove(connection)
                    closing.append(connection)

        # As httpcore does: close idle connections while the pool holds more than the keep-alive limit.
        if len(connections) > self._max_keepalive_connections:
            _drop_closed(connections)
            for connection in list(connections):
                if len(connections) <= self._max_keepalive_connections:
                    break
                if connection.is_idle():
                    connections.remove(connection)
                    closing.append(connection)

        for pool_request in self._requests:
            if not pool_request.is_queued():
                continue
            origin = pool_request.request.url.origin
            chosen = None
            for connection in list(connections):
                # A closed connection is never available; it is dropped at the next sweep.
                if not (connection.is_available() and connection.can_handle_request(origin)):
                    continue
                if connection.has_expired():
                    # Expired keep-alive, or the server hung up while it sat idle: never reuse it.
                    connections.remove(connection)
                    closing.append(connection)
                    continue
                chosen = connection
                break
            if chosen is None and len(connections) >= self._max_connections:
                _drop_closed(connections)  # closed connections must not count against the limit
            if chosen is not None:
                pool_request.assign_to_connection(chosen)
            elif len(connections) < self._max_connections:
                connection = self.create_connection(origin)
                connections.append(connection)
                pool_request.assign_to_connection(connection)
            else:
                idle = next((c for c in connections if c.is_idle()), None)
                if idle is not None:
                    connections.remove(idle)
                    closing.append(idle)
                    connection = self.create_connection(origin)
                    connections.append(connection)
                    pool_request.assign_to_connection(connection)
        return closing


def _drop_closed(connections: list[Any]) -> None:
    connections[:] = [connection for connection in connections if not connection.is_closed()]


def lean_pools(client: Any) -> int:
    """Switches the client's plain connection pools to LeanConnectionPool; returns how many."""
    transports = [getattr(client, "_transport", None)]
    mounts = getattr(client, "_mounts", None)
    if isinstance(mounts, dict):
        transports += list(mounts.values())
    switched = 0
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        # Exactly the stock pool: proxy pools subclass it and build their connections differently.
        if type(pool) is httpcore.AsyncConnectionPool and all(hasattr(pool, a) for a in _POOL_ATTRIBUTES):
            pool.__class__ = LeanConnectionPool
            switched += 1
    return switched
