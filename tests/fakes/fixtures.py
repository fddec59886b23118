"""pytest fixtures for the fake upstreams. Import them into a test module:

    from fakes.fixtures import anyio_backend, fake_upstream, http_client  # noqa: F401

`fake_upstream` is one server per test session, reset (scripts and recorded requests cleared)
before each test that uses it.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from .upstream import FakeUpstream

__all__ = ["anyio_backend", "fake_upstream", "fake_upstream_server", "http_client"]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def fake_upstream_server() -> Iterator[FakeUpstream]:
    fake = FakeUpstream.start()
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture
def fake_upstream(fake_upstream_server: FakeUpstream) -> Iterator[FakeUpstream]:
    fake_upstream_server.reset()
    yield fake_upstream_server
    fake_upstream_server.reset()


# Building an SSL context loads the CA bundle (~0.1s); one shared context keeps each test's
# client cheap.
_SSL = ssl.create_default_context()


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=None, verify=_SSL) as client:
        yield client
