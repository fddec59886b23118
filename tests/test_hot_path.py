"""The router's hot-path shortcuts keep httpx's and SQLite's behaviour: prepared adapter requests are
the requests the client would build, the lean connection pool reuses connections only while they
are usable, and WAL checkpoints run off the request path (the trace journal: test_store_journal.py)."""
from __future__ import annotations

import asyncio
import os
import time

import anyio
import httpcore
import httpx
import pytest
from unhardcoded.providers import ProviderSettings, make_adapter
from unhardcoded.providers.lean_pool import LeanConnectionPool, lean_pools
from unhardcoded.router.trace import new_trace_id
from unhardcoded.store import SQLiteStore
from unhardcoded.store import sqlite as sqlite_store
from unhardcoded.store.base import ms_to_iso

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- prepared adapter requests -----------------------------------------------------------------------

def _settings(kind: str, **extra: object) -> ProviderSettings:
    return ProviderSettings(name=kind, kind=kind, base_url="https://api.example.test/v1", api_key="sk-secret",
                            headers={"X-Team": "blue"}, api_version="2024-10-21" if kind == "azure" else None,
                            connect_timeout=3.0, stall_timeout=7.0, total_timeout=30.0, **extra)


@pytest.mark.parametrize(("kind", "model"), [("openai", "gpt-4o"), ("azure", "prod gpt"), ("gemini", "gemini-2.5-flash"),
                                             ("anthropic", "claude-sonnet-4-5")])
async def test_prepared_request_is_what_the_client_builds(kind, model) -> None:
    async with httpx.AsyncClient() as client:
        adapter = make_adapter(_settings(kind), client)
        url = adapter.url(model) if kind in ("openai", "azure") else (
            adapter.url(model, stream=False) if kind == "gemini" else adapter.url())
        params = adapter.params() if kind in ("openai", "azure") else None
        headers = adapter.headers(adapter.auth_headers(), stream=False)
        for _ in range(2):  # the second call comes from the per-adapter cache
            ours = adapter.build_request(url, b'{"a":1}', headers, params)
            theirs = client.build_request("POST", url, content=b'{"a":1}', headers=headers, params=params,
                                          timeout=adapter.timeout())
            assert ours.url == theirs.url
            assert ours.headers.multi_items() == theirs.headers.multi_items()
            assert ours.extensions == theirs.extensions
            assert ours.read() == theirs.read() == b'{"a":1}'


async def test_prepared_request_carries_cookies_the_client_holds() -> None:
    async with httpx.AsyncClient() as client:
        adapter = make_adapter(_settings("openai"), client)
        headers = adapter.headers(adapter.auth_headers(), stream=False)
        adapter.build_request(adapter.url("m"), b"{}", headers)
        client.cookies.set("affinity", "node-7", domain="api.example.test")
        request = adapter.build_request(adapter.url("m"), b"{}", headers)
        assert request.headers.get("cookie") == "affinity=node-7"


# --- lean connection pool ----------------------------------------------------------------------------

class _Server:
    """HTTP/1.1 keep-alive server answering every request with a tiny JSON body; counts connections and
    can hang up on idle connections shortly after answering."""

    def __init__(self, close_after: float | None = None, connection_close: bool = False):
        self.close_after = close_after
        self.connection_close = connection_close
        self.connections = 0
        self.server: asyncio.base_events.Server | None = None

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                await asyncio.sleep(0.01)
                close = b"connection: close\r\n" if self.connection_close else b""
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n"
                             + close + b"\r\n{}")
                await writer.drain()
                if self.connection_close:
                    break
                if self.close_after is not None:
                    await asyncio.sleep(self.close_after)
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def _lean_client(**limits: object) -> httpx.AsyncClient:
    client = httpx.AsyncClient(limits=httpx.Limits(**limits) if limits else httpx.Limits())
    assert lean_pools(client) == 1
    assert isinstance(client._transport._pool, LeanConnectionPool)
    return client


async def test_lean_pools_leaves_proxy_pools_alone() -> None:
    proxied = httpx.AsyncHTTPTransport(proxy="http://127.0.0.1:9")
    async with httpx.AsyncClient(mounts={"http://example.test": proxied}) as client:
        assert lean_pools(client) == 1
        assert type(client._transport._pool) is LeanConnectionPool
        assert type(proxied._pool) is not LeanConnectionPool and isinstance(proxied._pool, httpcore.AsyncHTTPProxy)


async def test_concurrent_requests_share_a_bounded_set_of_connections() -> None:
    server = _Server()
    async with server as url, _lean_client(max_connections=8) as client:
        answers = await asyncio.gather(*(client.post(url, content=b"{}") for _ in range(40)))
        assert all(a.status_code == 200 and a.json() == {} for a in answers)
        assert server.connections <= 8
        opened = server.connections
        for _ in range(5):
            assert (await client.post(url, content=b"{}")).status_code == 200
        assert server.connections == opened  # idle keep-alive connections are reused


async def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    server = _Server(close_after=0.02)
    async with server as url, _lean_client() as client:
        for _ in range(3):
            response = await client.post(url, content=b"{}")
            assert response.status_code == 200
            await asyncio.sleep(0.1)  # the server hangs up meanwhile; the next call must not use that socket
        assert server.connections == 3


async def test_closed_connections_do_not_count_against_the_limit() -> None:
    server = _Server(connection_close=True)
    async with server as url, _lean_client(max_connections=1) as client:
        for _ in range(3):
            with anyio.fail_after(5):
                assert (await client.post(url, content=b"{}")).status_code == 200
        assert server.connections == 3


async def test_expired_keep_alive_connections_are_replaced() -> None:
    server = _Server()
    async with server as url, _lean_client(keepalive_expiry=0.05) as client:
        assert (await client.post(url, content=b"{}")).status_code == 200
        await asyncio.sleep(0.2)
        assert (await client.post(url, content=b"{}")).status_code == 200
        assert server.connections == 2


# --- background checkpoints ----------------------------------------------------------------------------

def _trace(ms: int, label: str = "policy:bench") -> dict:
    return {"object": "trace", "trace": new_trace_id(ms), "label": label, "kind": "policy",
            "policy": {"fingerprint": "pol_" + "ab" * 32}, "selected": "m-a", "status": "ok", "cost": 0.001,
            "latency_ms": 3.5, "created": ms_to_iso(ms)}


def test_checkpoints_run_in_the_background(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sqlite_store, "CHECKPOINT_EVERY_SAVES", 5)
    path = tmp_path / "t.db"
    store = SQLiteStore(str(path))
    try:
        initial = os.path.getsize(path)
        for i in range(60):
            t = _trace(1_700_000_000_000 + i)
            store.save_trace("ws", t, b"x" * 3000)
        # Far below SQLite's inline threshold, so only the background thread copies the log into the file.
        deadline = time.monotonic() + 10
        while os.path.getsize(path) <= initial and time.monotonic() < deadline:
            time.sleep(0.02)
        assert os.path.getsize(path) > initial
    finally:
        store.close()
    assert store._checkpointer is not None and not store._checkpointer._thread.is_alive()
