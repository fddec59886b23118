"""Shared pytest configuration. Async tests run on anyio's plugin with the asyncio backend."""
import pytest


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"
